"""The metrics of DESIGN.md as pure functions over plain values, so each can be checked by hand.

Definitions:
- a passage or citation *hits* an evidence snippet when it holds at least 60% of the snippet as
  one contiguous run (whitespace-normalised, case-insensitive);
- an answer is *correct* when it is not an abstention, has at most 75 words ([n] markers not
  counted), and contains a gold answer as whole words after SQuAD normalisation;
- *grounded* = correct and at least one citation hits; *overall* = grounded answers plus
  correct abstentions, over all questions.
Open questions (gold rows with "nuggets") are scored by nuggets instead: of the answer's first 150
words, which nuggets are *covered*, and which are also *supported* by a citation's text. They stay out
of the factoid metrics, except retrieval recall and (when unanswerable) abstention recall.
Rates over an empty set are None (shown as "-"), never a made-up 0 or 1.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

HIT_FRACTION = 0.6
MAX_ANSWER_WORDS = 75
OPEN_ANSWER_WORDS = 150
_MARKER = re.compile(r"\[\d+\]")
_MARKER_GAP = re.compile(r"\s*\[\d+\]")  # with the space before it, so "word [1]." leaves "word." not "."
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_ASCII_PUNCT = str.maketrans("", "", string.punctuation)


def squash(text: str) -> str:
    """Whitespace-normalised, lower-cased text.

    Example: squash("  Session\\n II ") -> "session ii"
    """
    return " ".join(text.split()).lower()


def hits(text: str, snippet: str, fraction: float = HIT_FRACTION) -> bool:
    """True when `text` holds at least `fraction` of `snippet` as one contiguous run.

    Example: hits("x Session II was chaired y", "Session II was chaired by Dr. A") -> True (22 of 31 chars)
    """
    a, b = squash(text), squash(snippet)
    if not b:
        return False
    if b in a:
        return True
    match = SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    return match.size >= fraction * len(b)


def hits_any(text: str, evidence: Sequence[str]) -> bool:
    return any(hits(text, snippet) for snippet in evidence)


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lower-case, ASCII punctuation removed, other punctuation -> space, no articles.

    Example: normalize_answer("The “1-3-4” framework—One") -> "134 framework one"
    """
    text = text.lower().translate(_ASCII_PUNCT)
    text = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in text)
    return " ".join(_ARTICLES.sub(" ", text).split())


def answer_words(answer: str) -> int:
    """Words of an answer, not counting its [n] citation markers (nor the stops they leave alone).

    Example: answer_words("The panel was chaired by Dr. SATO [1]. [2]") -> 7
    """
    return len(_MARKER_GAP.sub("", answer).split())


def is_correct(answer: str, abstained: bool, gold_answers: Sequence[str]) -> bool:
    """Not an abstention, at most 75 words, and holding a gold answer as whole words."""
    if abstained or answer_words(answer) > MAX_ANSWER_WORDS:
        return False
    padded = f" {normalize_answer(_MARKER.sub(' ', answer))} "
    return any(f" {g} " in padded for g in map(normalize_answer, gold_answers) if g)


def answer_head(answer: str, limit: int = OPEN_ANSWER_WORDS) -> str:
    """The first `limit` words of an answer, its [n] markers dropped: all an open answer is scored on.

    Example: answer_head("Dr. CHOI thanked all [1]. She asked [2]", limit=5) -> "Dr. CHOI thanked all. She"
    """
    return " ".join(_MARKER_GAP.sub("", answer).split()[:limit])


def contains_phrase(text: str, phrase: str) -> bool:
    """True when `phrase` occurs in `text` as whole words, both SQuAD-normalised.

    Example: contains_phrase("the “K-Digital Training” programme", "K-Digital Training") -> True;
    contains_phrase("Satoan studies", "Sato") -> False
    """
    needle = normalize_answer(phrase)
    return bool(needle) and f" {needle} " in f" {normalize_answer(text)} "


def nugget_counts(answer: str, citations: Sequence[str], nuggets: Sequence[Sequence[str]]) -> tuple[int, int]:
    """(covered, supported) nuggets: a phrase in the answer's first 150 words, and also in a citation.

    Example: answer "Session IV was chaired by Ms. TUNGALAG Chimid [1]. Dr. PARK spoke [2].",
    citations ["Session IV was chaired by Ms. TUNGALAG Chimid, Executive Director"],
    nuggets [["TUNGALAG Chimid"], ["PARK Hwa Choon", "Dr. PARK"], ["K-Digital Training"]] -> (2, 1)
    """
    head = answer_head(answer)
    covered = supported = 0
    for phrases in nuggets:
        found = [p for p in phrases if contains_phrase(head, p)]
        covered += bool(found)
        supported += any(contains_phrase(c, p) for p in found for c in citations)
    return covered, supported


def first_hit_rank(passages: Sequence[str], evidence: Sequence[str]) -> int | None:
    """1-based rank of the first passage that hits any evidence snippet, or None."""
    for rank, text in enumerate(passages, start=1):
        if hits_any(text, evidence):
            return rank
    return None


@dataclass(frozen=True)
class Judged:
    """One question's outcome: everything the aggregate metrics need, nothing more."""

    answerable: bool
    abstained: bool
    correct: bool
    hit_rank: int | None  # first passage hitting the evidence (answerable questions only)
    citation_hits: tuple[bool, ...]
    latency_ms: float
    open: bool = False  # an open question: scored by nuggets, left out of the factoid metrics
    nuggets: int = 0
    covered: int = 0
    supported: int = 0
    words: int = 0  # answer words, [n] markers not counted

    @property
    def grounded(self) -> bool:
        return self.correct and any(self.citation_hits)


def judge(row: dict, answer: dict) -> Judged:
    """Score one contract-JSON answer against one gold row (an open one when the row has "nuggets")."""
    evidence = row.get("evidence") or []
    passages = [p["text"] for p in answer.get("passages", [])]
    answerable = bool(row.get("answerable", True))
    abstained = bool(answer.get("abstained"))
    text = answer.get("answer", "")
    is_open = "nuggets" in row
    nuggets = row.get("nuggets") or []
    correct = answerable and not is_open and is_correct(text, abstained, row.get("answers") or [])
    cites = tuple(hits_any(c["text"], evidence) for c in answer.get("citations", [])) if answerable else ()
    covered, supported = (0, 0)
    if is_open and not abstained:
        covered, supported = nugget_counts(text, [c["text"] for c in answer.get("citations", [])], nuggets)
    return Judged(
        answerable,
        abstained,
        correct,
        first_hit_rank(passages, evidence) if answerable else None,
        cites,
        float(answer.get("timings_ms", {}).get("total", 0.0)),
        open=is_open,
        nuggets=len(nuggets),
        covered=covered,
        supported=supported,
        words=answer_words(text),
    )


def _rate(num: int, den: int) -> float | None:
    return num / den if den else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default), q in [0, 100].

    Example: percentile([1, 2, 3, 4], 50) -> 2.5
    """
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def aggregate(judged: Sequence[Judged]) -> dict[str, float | int | None]:
    """All suite metrics from per-question outcomes: factoid ones, retrieval over both kinds, open ones."""
    ans = [j for j in judged if j.answerable]
    unans = [j for j in judged if not j.answerable]
    factoid = [j for j in judged if not j.open]
    fact_ans = [j for j in factoid if j.answerable]
    answered = [j for j in fact_ans if not j.abstained]
    cites = [hit for j in answered for hit in j.citation_hits]
    out: dict[str, float | int | None] = {
        "questions": len(judged),
        "answerable": len(ans),
        "unanswerable": len(unans),
        "open": sum(j.open for j in judged),
    }
    for k in (1, 3, 5, 10):
        out[f"recall@{k}"] = _rate(sum(1 for j in ans if j.hit_rank is not None and j.hit_rank <= k), len(ans))
    out["mrr@10"] = (
        sum(1 / j.hit_rank for j in ans if j.hit_rank is not None and j.hit_rank <= 10) / len(ans) if ans else None
    )
    out["answer_accuracy"] = _rate(sum(j.correct for j in fact_ans), len(fact_ans))
    out["citation_precision"] = _rate(sum(cites), len(cites))
    out["grounded_accuracy"] = _rate(sum(j.grounded for j in fact_ans), len(fact_ans))
    out["false_abstention"] = _rate(sum(j.abstained for j in fact_ans), len(fact_ans))
    out["abstention_recall"] = _rate(sum(j.abstained for j in unans), len(unans))
    fact_unans = [j for j in factoid if not j.answerable]
    out["overall"] = _rate(sum(j.grounded for j in fact_ans) + sum(j.abstained for j in fact_unans), len(factoid))
    open_ans = [j for j in judged if j.open and j.answerable]
    open_unans = [j for j in judged if j.open and not j.answerable]
    out["nugget_recall"] = _mean([j.covered / j.nuggets for j in open_ans])
    out["supported_nugget_recall"] = _mean([j.supported / j.nuggets for j in open_ans])
    out["open_false_abstention"] = _rate(sum(j.abstained for j in open_ans), len(open_ans))
    out["open_abstention_recall"] = _rate(sum(j.abstained for j in open_unans), len(open_unans))
    out["open_answer_words"] = _mean([j.words for j in judged if j.open and not j.abstained])
    latencies = [j.latency_ms for j in judged]
    out["latency_p50_ms"] = percentile(latencies, 50)
    out["latency_p95_ms"] = percentile(latencies, 95)
    return out
