"""Quoting a chosen span: the exact text with [n] markers and citations whose offsets point into the source."""

from __future__ import annotations

import re

from index.text.sentences import REFERENCE
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


def shown(text: str) -> str:
    """A quoted span as the answer shows it: without the source's reference numbers, which would pass for the
    answer's [n] markers, and marked when the source lost its subject. Citations keep the exact text.

    Example: shown("It spread in winter [4, 5]. [6]") -> "It spread in winter."
    """
    bare = REFERENCE.sub("", text).strip() or text.replace("[", "(").replace("]", ")")
    return f"{LOST_SPEAKER} {bare.lstrip(',; ')}" if bare[:1] in ",;" else bare


def quote(parts: list[Part]) -> tuple[str, tuple[Citation, ...]]:
    """The answer text with [n] markers; a quote that is not a whole sentence (a heading, a name) takes a colon."""
    texts, citations = [], []
    for n, (hit, (start, end)) in enumerate(parts, start=1):
        text = hit.chunk.sentence_text(start, end)
        citations.append(Citation(n, hit.chunk.source, hit.chunk.section, start, end, text))
        display = shown(text)
        whole = _SENTENCE_END.search(display) or n == len(parts)
        texts.append(f"{display} [{n}]" if whole else f"{display} [{n}]:")
    return " ".join(texts), tuple(citations)
