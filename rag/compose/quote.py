"""Quoting a chosen span: the exact text with [n] markers and citations whose offsets point into the source."""

from __future__ import annotations

import re

from rag.answer import Citation
from rag.compose.candidates import MAX_WORDS, SPEAKER_PRONOUN, Span, same_paragraph
from rag.retrieve import Retriever, SentenceHit

LOST_SPEAKER = "[speaker not named in the source]"
_NAME_LEAD = re.compile(r"^(?:Dr|Ms|Mr|Mrs|Prof)\.\s+[^,]+")
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*$")

Part = tuple[SentenceHit, tuple[int, int]]


def with_speaker(retriever: Retriever, span: Span, qvec) -> list[Part]:
    """A span opening with "She"/"He" is preceded by the sentence that names the speaker (same paragraph only).

    If quoting that whole sentence would pass MAX_WORDS, only the name ("Ms. X Y") is cited.
    """
    chosen = [(h, (h.start, h.end)) for h in span.hits]
    first = span.hits[0]
    if not SPEAKER_PRONOUN.match(first.text):
        return chosen
    row = first.row
    for _ in range(4):
        prev = retriever.sentence(row - 1, qvec)
        if prev is None or not same_paragraph(prev, retriever.sentence(row)):
            return chosen  # never borrow a speaker from another paragraph
        if not SPEAKER_PRONOUN.match(prev.text):
            if len(prev.text.split()) + len(span.text.split()) <= MAX_WORDS:
                return [(prev, (prev.start, prev.end))] + chosen
            name = _NAME_LEAD.match(prev.text)
            return ([(prev, (prev.start, prev.start + name.end()))] if name else []) + chosen
        row -= 1
    return chosen


def quote(parts: list[Part]) -> tuple[str, tuple[Citation, ...]]:
    """The answer text with [n] markers; a quote that is not a whole sentence (a heading, a name) takes a colon."""
    texts, citations = [], []
    for n, (hit, (start, end)) in enumerate(parts, start=1):
        text = hit.chunk.sentence_text(start, end)
        citations.append(Citation(n, hit.chunk.source, hit.chunk.section, start, end, text))
        whole = _SENTENCE_END.search(text) or n == len(parts)
        shown = f"{LOST_SPEAKER} {text.lstrip(',; ')}" if text[:1] in ",;" else text  # the source lost its subject
        texts.append(f"{shown} [{n}]" if whole else f"{shown} [{n}]:")
    return " ".join(texts), tuple(citations)
