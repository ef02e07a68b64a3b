"""Sentence boundaries with character offsets, robust to titles, initials and abbreviations."""

from __future__ import annotations

import re

# A token ending in one of these, followed by a period, does not end a sentence ("Dr. ARIUNAA").
ABBREVIATIONS = frozenset(
    "dr ms mr mrs mx prof co st jr sr vs etc eg ie no nos vol fig figs dept univ assoc approx gen gov sen rep rev "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
_CANDIDATE = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*(?=\s)")
# Reference markers after a sentence's stop ("... (ILI). [4] [5, 6] Five studies"): they belong to the sentence
# they follow, not to the next one (a quote of the next sentence would open with another paper's numbers).
REFERENCE = re.compile(r"\s*\[\d+(?:\s*[,\u2013\u2014-]\s*\d+)*\]")  # "[4]", "[5, 6]", "[8-10]"
_REFERENCES = re.compile(f"(?:{REFERENCE.pattern})+")
_STARTS_SENTENCE = re.compile(r"\s+[\"'\u201c\u2018(\[]?[A-Z0-9\u00c0-\u024f\u0400-\u04ff]")


def _is_abbreviation(text: str, period: int) -> bool:
    """True when the '.' at `period` closes an abbreviation or an initial, not a sentence."""
    if text[period] != ".":
        return False
    start = period
    while start > 0 and not text[start - 1].isspace() and text[start - 1] not in "(\"'\u201c":
        start -= 1
    word = text[start:period]
    bare = word.replace(".", "").lower()
    if bare in ABBREVIATIONS:
        return True
    # Initials and dotted acronyms: "J.", "U.S.", "e.g."
    return (
        bool(word) and all(len(part) == 1 for part in word.split(".") if part) and len(bare) <= 3 and word[0].isalpha()
    )


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans (start, end) in text[start:end], trimmed of surrounding whitespace; newlines always split.

    Example: split_sentences("Dr. A spoke. She left.") -> [(0, 12), (13, 22)]
    Example: split_sentences("It grew. [4, 5] It fell.") -> [(0, 15), (16, 24)]
    """
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    line_start = start
    while line_start < end:
        newline = text.find("\n", line_start, end)
        line_end = end if newline == -1 else newline
        spans.extend(_split_line(text, line_start, line_end))
        line_start = line_end + 1
    return spans


def _split_line(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans, sent_start = [], start
    for match in _CANDIDATE.finditer(text, start, end):
        stop = match.end()
        if not _STARTS_SENTENCE.match(text, stop, end):
            continue
        last_mark = match.start() + len(match.group().rstrip("\"'\u201d\u2019)]")) - 1
        if _is_abbreviation(text, last_mark):
            continue
        refs = _REFERENCES.match(text, stop, end)
        if refs and (refs.end() == end or _STARTS_SENTENCE.match(text, refs.end(), end)):
            stop = refs.end()
        spans.append((sent_start, stop))
        sent_start = stop
    spans.append((sent_start, end))
    return [_trim(text, s, e) for s, e in spans if text[s:e].strip()]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
