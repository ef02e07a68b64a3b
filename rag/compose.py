"""Extractive answers: the sentence(s) that answer, quoted exactly, each with its [n] citation.

Nothing is generated, so every word of an answer can be traced to its span in the source; when
no sentence answers, the composer abstains and the closest passages remain as related reading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.lexical import terms
from rag.answer import Citation
from rag.retrieve import Retriever, SentenceHit

MAX_WORDS = 75
_PRONOUN_START = re.compile(r"^(She|He|They|Her|His|Their|It|This|These|The initiative)\b")
_NAME_LEAD = re.compile(r"^(?:Dr|Ms|Mr|Mrs|Prof)\.\s+[^,]+")
_TITLE_NAME = re.compile(r"\b(?:Dr|Ms|Mr|Mrs|Prof)\.\s|\b[A-Z]{3,}\s+[A-Z][a-z]+")
_NUMBER = re.compile(
    r"\b(\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|hundred|thousand|million|billion)\b",
    re.I,
)
_QUESTION_WORDS = frozenset("who whom whose what which when where why how is are was were do does did can".split())


@dataclass(frozen=True)
class ComposerSettings:
    """Weights and the abstention threshold, calibrated on the gold sets (see eval/)."""

    lexical_weight: float = 0.5
    type_bonus: float = 0.1
    min_score: float = 0.45


@dataclass(frozen=True)
class Composed:
    """The composer's verdict: text with [n] markers and its citations, or an abstention."""

    text: str
    citations: tuple[Citation, ...]
    abstained: bool


def answer_type(question: str) -> str:
    """Coarse expected answer type from the question words.

    Example: answer_type("How many phases does the model have?") -> "number"
    """
    q = question.lower()
    if re.search(r"\bhow (many|much)\b|\bwhat (number|percentage)\b", q):
        return "number"
    if re.search(r"\bwho(m|se)?\b|\bwhich (person|speaker|official)\b", q):
        return "person"
    if re.search(r"\bwhen\b|\bwhat (date|year|day|time)\b", q):
        return "date"
    return "other"


def missing_entities(question: str, known: dict[str, float]) -> list[str]:
    """Capitalised names in the question that occur nowhere in the corpus ("Tokyo" in a report on Mongolia).

    A question about a name the documents never mention cannot be answered from them.
    """
    missing = []
    tokens = re.findall(r"[A-Za-z][\w\-]*", question)
    for i, token in enumerate(tokens):
        if i == 0 or token.lower() in _QUESTION_WORDS or not token[0].isupper():
            continue
        stems = terms(token)
        if stems and not any(s in known for s in stems):
            missing.append(token)
    return missing


class Composer:
    """Scores the sentences of retrieved passages and quotes the best, resolving "She ..." to a name."""

    def __init__(self, retriever: Retriever, settings: ComposerSettings = ComposerSettings()) -> None:
        self.retriever = retriever
        self.settings = settings

    def score(self, hit: SentenceHit, qterms: set[str], kind: str) -> float:
        """Similarity plus idf-weighted coverage of the question's terms, plus a bonus for the right answer type."""
        idf = self.retriever.idf
        total = sum(idf.get(t, self.retriever.max_idf) for t in qterms) or 1.0
        covered = sum(idf.get(t, self.retriever.max_idf) for t in qterms & set(terms(hit.text)))
        bonus = 0.0
        if kind == "person" and _TITLE_NAME.search(hit.text):
            bonus = self.settings.type_bonus
        elif kind == "number" and _NUMBER.search(hit.text):
            bonus = self.settings.type_bonus
        return hit.similarity + self.settings.lexical_weight * covered / total + bonus

    def compose(self, question: str, hits: list[SentenceHit], qvec) -> Composed:
        if not hits or missing_entities(question, self.retriever.idf):
            return Composed("", (), True)
        qterms = set(terms(question))
        kind = answer_type(question)
        scored = sorted(hits, key=lambda h: (-self.score(h, qterms, kind), h.row))
        best = scored[0]
        if self.score(best, qterms, kind) < self.settings.min_score:
            return Composed("", (), True)
        chosen = self._with_speaker(best, qvec)
        parts, citations = [], []
        for n, (hit, span) in enumerate(chosen, start=1):
            start, end = span
            text = hit.chunk.sentence_text(start, end)
            citations.append(Citation(n, hit.chunk.source, hit.chunk.section, start, end, text))
            parts.append(f"{text} [{n}]" if span == (hit.start, hit.end) else f"{text} [{n}]:")
        return Composed(" ".join(parts), tuple(citations), False)

    def _with_speaker(self, best: SentenceHit, qvec) -> list[tuple[SentenceHit, tuple[int, int]]]:
        """A sentence opening with "She"/"He" is preceded by the sentence that names the speaker.

        If quoting that whole sentence would pass MAX_WORDS, only the name ("Ms. BI Xiaohan") is cited.
        """
        chosen = [(best, (best.start, best.end))]
        if not _PRONOUN_START.match(best.text):
            return chosen
        row = best.row
        for _ in range(4):
            prev = self.retriever.sentence(row - 1, qvec)
            if prev is None or prev.chunk.source != best.chunk.source or prev.chunk.section != best.chunk.section:
                return chosen
            if not _PRONOUN_START.match(prev.text):
                if len(prev.text.split()) + len(best.text.split()) <= MAX_WORDS - 4:
                    return [(prev, (prev.start, prev.end))] + chosen
                name = _NAME_LEAD.match(prev.text)
                if name:
                    return [(prev, (prev.start, prev.start + name.end()))] + chosen
                return chosen
            row -= 1
        return chosen
