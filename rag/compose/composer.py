"""Extractive answers: the span the learned selector rates best, quoted exactly with its [n] citation, or an
abstention saying why when the selector judges that the documents do not answer.

Nothing is generated, so every word of an answer can be traced to its span in the source.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.compose import candidates, features
from rag.compose.candidates import Span
from rag.compose.composed import Composed
from rag.compose.quote import quote, with_speaker
from rag.compose.selector import DEFAULT_MODEL, Selector, question_row, sigmoid
from rag.question import Question, analyse
from rag.retrieve import Retriever, SentenceHit


@dataclass(frozen=True)
class ComposerSettings:
    """What the composer reads; the defaults are the model fitted on squad-train and its cross-validated threshold."""

    threshold: float = -1.0  # abstain below this probability that the documents answer; < 0: the model's own
    shortlist: int = 0  # spans whose costly features are computed (the best by the cheap ones); 0: the model's own
    model: str = ""  # a selector JSON file; empty: the one shipped in rag/compose/selector.json
    unknown_names: bool = True  # abstain when the question names something no document mentions at all
    open_questions: bool = True  # summaries, lists, comparisons: several sentences (rag/compose/open.py)


@dataclass(frozen=True)
class Examined:
    """Everything the selector looks at for one question (what `python -m eval.train` learns from)."""

    question: Question
    missing: tuple[str, ...]
    spans: tuple[Span, ...]
    rows: np.ndarray  # one row per span, columns in features.NAMES order


# The checks that can say why a best span was not good enough, in the words an abstention gives.
_REASONS = {
    "answer_type": "no passage gives {kind}",
    "counted": "no passage gives a number of what was asked",
    "expansion": "no passage says what it stands for",
    "institution": "no passage names an institution of that kind",
    "title_given": "no passage gives the title",
    "money": "no passage gives an amount of money",
    "year": "no passage gives the year",
    "lists": "no passage lists them",
    "negation": "no passage says what is not so",
    "other_office": "the documents name another office than the one asked about",
    "contradicts": "the closest passage says the opposite",
    "denies": "the closest passage says the opposite",
    "relative_swapped": "the closest passage speaks of someone else",
    "other_owner": "the closest passage speaks of someone else's",
    "reversed_roles": "in the closest passage the one asked about is acted on, not acting",
    "rare_name_absent": "the closest passage never mentions a name the question relies on",
}


@functools.lru_cache(maxsize=8)
def _load(path: str) -> Selector:
    return Selector.load(Path(path) if path else DEFAULT_MODEL)


class Composer:
    """Rates the candidate spans of the retrieved passages with the learned selector; quotes the best or abstains."""

    def __init__(self, retriever: Retriever, settings: ComposerSettings = ComposerSettings()) -> None:
        self.retriever = retriever
        self.settings = settings

    @property
    def selector(self) -> Selector:
        """The fitted models, read on first use (cached per file): `examine` works before any model exists."""
        return _load(self.settings.model)

    def examine(self, question: str, hits: list[SentenceHit], qvec) -> Examined:
        """Every candidate span with every registered feature (for training; answering computes fewer)."""
        q = analyse(question)
        missing = tuple(q.missing_in(self.retriever))
        spans = candidates.spans(self.retriever, hits, qvec, q.kind == "heading")
        rows = features.matrix(features.Asked(q, self.retriever, qvec), spans, features.NAMES)
        return Examined(q, missing, tuple(spans), rows)

    def compose(
        self, question: str, hits: list[SentenceHit], qvec, depth: int = 0, sources: frozenset[str] | None = None
    ) -> Composed:
        """The answer: the best span for a factoid question, several sentences for the other shapes (which search
        again for their parts or sides, within `sources`, the search scope)."""
        if depth == 0 and self.settings.open_questions:
            from rag.compose import open as open_answers
            from rag.shapes import shape_of

            shape = shape_of(question)
            if shape.kind != "factoid":
                return open_answers.answer(self, shape, question, hits, qvec, sources)
        q = analyse(question)
        missing = q.missing_in(self.retriever)
        if missing and self.settings.unknown_names:  # no passage can answer about what no document names
            return Composed("", (), True, f"the documents never mention {', '.join(missing)}")
        spans = candidates.spans(self.retriever, hits, qvec, q.kind == "heading")
        if not spans:
            return Composed("", (), True, "nothing related was found")
        asked = features.Asked(q, self.retriever, qvec)
        model, names = self.selector, self.selector.features
        rows = features.matrix(asked, spans, names, cheap_only=True)
        size = self.settings.shortlist or model.shortlist
        short, first = pick(model, rows, size, lambda idx: features.fill_costly(asked, spans, names, rows, idx))
        if not short:  # every close span lacks what was asked or says something else: nothing to quote
            return Composed("", (), True, self._reason(q, missing, rows[first]), 0.0)
        logits = model.candidate.logits(rows[short])
        best = int(np.argmax(logits))
        qrow = question_row(logits, rows[short], names, q.kind, len(missing), len(q.terms))
        p = sigmoid(float(model.answerable.logits(qrow[None, :])[0]))
        threshold = self.settings.threshold if self.settings.threshold >= 0 else model.threshold
        span = spans[short[best]]
        coverage = asked.covered(span.terms)
        if q.kind == "person" and not span.text[:1].isalnum():  # DESIGN.md: never invent the speaker the source lost
            return Composed("", (), True, "the source does not name who", p, coverage)
        if p < threshold:
            return Composed("", (), True, self._reason(q, missing, rows[short[best]]), p, coverage)
        text, citations = quote(with_speaker(self.retriever, span, qvec))
        return Composed(text, citations, False, "", p, coverage)

    def _reason(self, q: Question, missing: list[str], row: np.ndarray) -> str:
        """Why the best span was not enough: a name the documents lack, else the check that pulled it down most."""
        if missing:
            return f"the documents never mention {', '.join(missing)}"
        names = self.selector.features
        for gate, j in zip(self.selector.gates, gate_columns(self.selector), strict=True):
            if features.GATES[gate](row[j]) and gate in _REASONS:
                return _REASONS[gate].format(kind=q.kind_phrase)
        pulls = self.selector.candidate.contributions(row)
        fired = [(pulls[j], name) for j, name in enumerate(names) if name in _REASONS and pulls[j] < -0.25]
        if fired:
            return _REASONS[min(fired)[1]].format(kind=q.kind_phrase)
        return "no passage answers it closely enough"


def gate_columns(model: Selector) -> tuple[int, ...]:
    """The feature column of each of the model's gates."""
    return tuple(model.features.index(g) for g in model.gates)


def pick(model: Selector, rows: np.ndarray, size: int, fill) -> tuple[list[int], int]:
    """The spans the answer is chosen from: the best `size` by the cheap features (costly columns still 0), their
    costly features filled in by `fill(indices)`, then those no gate rules out; and the first of the shortlist.

    The one place both answering and `eval.train` choose, so a model is trained on the choice it is used with.
    """
    short = np.argsort(-model.candidate.logits(rows), kind="stable")[:size].tolist()
    fill(short)
    checks = [(j, features.GATES[g]) for g, j in zip(model.gates, gate_columns(model), strict=True)]
    return [i for i in short if not any(fails(rows[i, j]) for j, fails in checks)], short[0]
