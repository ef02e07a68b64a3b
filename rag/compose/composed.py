"""The composer's verdict, one record for every shape of answer."""

from __future__ import annotations

from dataclasses import dataclass

from rag.answer import Citation


@dataclass(frozen=True)
class Composed:
    """Text with [n] markers and its citations, or an abstention and why."""

    text: str
    citations: tuple[Citation, ...]
    abstained: bool
    reason: str = ""
    score: float = 0.0  # the selector's probability that the documents answer the question
    coverage: float = 0.0
