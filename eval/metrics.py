"""The metrics of DESIGN.md as pure functions over plain values, so each can be checked by hand.

Definitions:
- a passage or citation *hits* an evidence snippet when it holds at least 60% of the snippet as
  one contiguous run (whitespace-normalised, case-insensitive);
- an answer is *correct* when it is not an abstention, has at most 75 words ([n] markers not
  counted), and contains a gold answer as whole words after SQuAD normalisation;
- *grounded* = correct and at least one citation hits; *overall* = grounded answers plus
  correct abstentions, over all questions.
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
_MARKER = re.compile(r"\[\d+\]")
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
    """Words of an answer, not counting its [n] citation markers."""
    return len(_MARKER.sub(" ", answer).split())


def is_correct(answer: str, abstained: bool, gold_answers: Sequence[str]) -> bool:
    """Not an abstention, at most 75 words, and holding a gold answer as whole words."""
    if abstained or answer_words(answer) > MAX_ANSWER_WORDS:
        return False
    padded = f" {normalize_answer(_MARKER.sub(' ', answer))} "
    return any(f" {g} " in padded for g in map(normalize_answer, gold_answers) if g)


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

    @property
    def grounded(self) -> bool:
        return self.correct and any(self.citation_hits)


def judge(row: dict, answer: dict) -> Judged:
    """Score one contract-JSON answer against one gold row."""
    evidence = row.get("evidence") or []
    passages = [p["text"] for p in answer.get("passages", [])]
    answerable = bool(row.get("answerable", True))
    abstained = bool(answer.get("abstained"))
    correct = answerable and is_correct(answer.get("answer", ""), abstained, row.get("answers") or [])
    cites = tuple(hits_any(c["text"], evidence) for c in answer.get("citations", [])) if answerable else ()
    return Judged(
        answerable,
        abstained,
        correct,
        first_hit_rank(passages, evidence) if answerable else None,
        cites,
        float(answer.get("timings_ms", {}).get("total", 0.0)),
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


def aggregate(judged: Sequence[Judged]) -> dict[str, float | int | None]:
    """All suite metrics from per-question outcomes."""
    ans = [j for j in judged if j.answerable]
    unans = [j for j in judged if not j.answerable]
    answered = [j for j in ans if not j.abstained]
    cites = [hit for j in answered for hit in j.citation_hits]
    out: dict[str, float | int | None] = {"questions": len(judged), "answerable": len(ans), "unanswerable": len(unans)}
    for k in (1, 3, 5, 10):
        out[f"recall@{k}"] = _rate(sum(1 for j in ans if j.hit_rank is not None and j.hit_rank <= k), len(ans))
    out["mrr@10"] = (
        sum(1 / j.hit_rank for j in ans if j.hit_rank is not None and j.hit_rank <= 10) / len(ans) if ans else None
    )
    out["answer_accuracy"] = _rate(sum(j.correct for j in ans), len(ans))
    out["citation_precision"] = _rate(sum(cites), len(cites))
    out["grounded_accuracy"] = _rate(sum(j.grounded for j in ans), len(ans))
    out["false_abstention"] = _rate(sum(j.abstained for j in ans), len(ans))
    out["abstention_recall"] = _rate(sum(j.abstained for j in unans), len(unans))
    out["overall"] = _rate(sum(j.grounded for j in ans) + sum(j.abstained for j in unans), len(judged))
    latencies = [j.latency_ms for j in judged]
    out["latency_p50_ms"] = percentile(latencies, 50)
    out["latency_p95_ms"] = percentile(latencies, 95)
    return out
