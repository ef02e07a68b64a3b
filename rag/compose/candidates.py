"""Candidate answers: each retrieved sentence alone, joined to the next one of its paragraph, or (for a question
about a session's title) the section heading with the sentence under it. What the selector chooses from."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from rag.compose.checks import instructs, stems
from rag.retrieve import Retriever, SentenceHit

MAX_WORDS = 75  # a short answer's limit (DESIGN.md): longer spans are never candidates
SPEAKER_PRONOUN = re.compile(r"^(She|He|They|Her|His|Their)\b")


@dataclass(frozen=True)
class Span:
    """One candidate: consecutive sentences of one section, quoted exactly if chosen."""

    hits: tuple[SentenceHit, ...]
    text: str
    terms: frozenset[str]
    heading: bool = False  # hits[0] is the section's heading line, quoted with the sentence under it

    @property
    def first(self) -> SentenceHit:
        return self.hits[0]


@functools.lru_cache(maxsize=65536)
def term_set(text: str) -> frozenset[str]:
    """Stemmed terms of a sentence or span, cached: the same sentences are scored for many questions."""
    return frozenset(t for t, _ in term_counts(text)[0])


def joined_stems(texts: tuple[str, ...]) -> tuple[str, ...]:
    """The stems of the texts joined by spaces, from each text's own (no word runs across a space): a two-sentence
    span is not stemmed again after its sentences."""
    return stems(texts[0]) if len(texts) == 1 else tuple(t for text in texts for t in stems(text))


@functools.lru_cache(maxsize=65536)
def term_counts(*texts: str) -> tuple[tuple[tuple[str, int], ...], int]:
    """Each stemmed term of a span (its sentences' texts) with its count, and the span's length in terms (cached like
    term_set)."""
    found = joined_stems(texts)
    counts: dict[str, int] = {}
    for t in found:
        counts[t] = counts.get(t, 0) + 1
    return tuple(counts.items()), len(found)


@functools.lru_cache(maxsize=65536)
def bigrams(*texts: str) -> frozenset[tuple[str, str]]:
    """Adjacent pairs of stemmed terms (stop words dropped) of the texts joined by spaces, cached.

    Example: bigrams("the Ministry approved the dam") -> {("ministri", "approv"), ("approv", "dam")}
    """
    found = joined_stems(texts)
    return frozenset(zip(found, found[1:], strict=False))


def same_paragraph(first: SentenceHit | None, second: SentenceHit | None) -> bool:
    """True when `second` follows `first` in the same paragraph (no line break between them)."""
    if first is None or second is None:
        return False
    chunk = first.chunk
    if second.chunk.source != chunk.source or not first.end <= second.start <= chunk.end:
        return False
    return "\n" not in chunk.text[first.end - chunk.start : second.start - chunk.start]


def heading_of(hit: SentenceHit) -> SentenceHit | None:
    """The section's heading line when `hit` is the first sentence under it, as a hit of its own span."""
    chunk = hit.chunk
    title = chunk.section.split(" > ")[-1].strip()
    before = chunk.text[: hit.start - chunk.start].rstrip()
    if not title or not before.endswith(title) or not before[: -len(title)].rstrip("# ").endswith(("\n", "")):
        return None
    line_start = before.rfind("\n") + 1
    if before[line_start:].lstrip("# ") != title:
        return None
    end = chunk.start + len(before)
    return SentenceHit(chunk, end - len(title), end, hit.similarity, hit.passage_rank, hit.row)


def spans(retriever: Retriever, hits: list[SentenceHit], qvec, heading_question: bool) -> list[Span]:
    """Every candidate span of the retrieved sentences, in the order of the hits.

    For a question about a session's title, only the heading with the sentence under it is a candidate.
    """
    out = []
    for hit in hits:
        if heading_question:
            heading = heading_of(hit)
            groups = [(heading, hit)] if heading is not None else []
        else:
            groups = [(hit,)]
            nxt = retriever.sentence(hit.row + 1, qvec, hit.passage_rank)
            if same_paragraph(hit, nxt):
                groups.append((hit, nxt))
        for group in groups:
            text = " ".join(h.text for h in group)
            if len(text.split()) > MAX_WORDS or instructs(text):  # documents are data, never orders to quote
                continue
            found = frozenset().union(*(term_set(h.text) for h in group))
            out.append(Span(group, text, found, heading_question))
    return out
