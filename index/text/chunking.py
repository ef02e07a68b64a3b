"""Documents -> Chunks: whole sentences packed to a token budget, never crossing a section.

Chunks tile each document (their offsets rebuild its text), fit the embedding model's window,
and repeated text (the report repeats its first section at its end) is marked as an alias of
the first copy instead of being indexed twice.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from index.load.documents import Document
from index.text.sentences import split_sentences


@dataclass(frozen=True)
class ChunkerSettings:
    """What decides chunk boundaries; a change of any of these rebuilds the index."""

    max_tokens: int = 144
    overlap_sentences: int = 1
    window_tokens: int = 256  # the embedding model's word-piece window, [CLS] and [SEP] included
    algorithm: int = 4  # bump when chunking code changes its output, so old indexes are rebuilt
    min_words: int = 8  # a chunk with fewer words joins a neighbour in its section; a lone heading always does


@dataclass(frozen=True)
class Chunk:
    """A run of whole sentences of one section; `start`/`end` are offsets into Document.text."""

    id: str
    source: str
    section: str
    start: int
    end: int
    text: str
    n_tokens: int
    sentences: tuple[tuple[int, int], ...] = field(default=())
    duplicate_of: str | None = None

    def embed_text(self) -> str:
        """What is embedded and BM25-indexed: the section title travels with the text."""
        body = self.text.strip()
        return body if body.startswith(self.section) else f"{self.section}\n{body}"

    def sentence_text(self, start: int, end: int) -> str:
        """The document's text between two offsets inside this chunk."""
        return self.text[start - self.start : end - self.start]


@dataclass(frozen=True)
class _Unit:
    start: int  # where the unit's share of the text starts (0 for a document's first unit)
    sent_start: int  # first character of the sentence (or heading) itself
    text_end: int  # end of the sentence itself
    end: int  # start of the next unit: trailing whitespace belongs here so units tile the text
    heading: bool
    tokens: int
    pieces: int


def chunk_id(source: str, start: int, end: int, text: str) -> str:
    """Stable id: the same file content gives the same ids on every rebuild.

    Example: chunk_id("a.txt", 0, 5, "Hello") == chunk_id("a.txt", 0, 5, "Hello")
    """
    return hashlib.sha256(f"{source}\x00{start}\x00{end}\x00{text}".encode()).hexdigest()[:16]


def normalise(text: str) -> str:
    """Lower-case words only, for comparing sentences regardless of spacing and punctuation.

    Example: normalise("Session  II, chaired!") -> "session ii chaired"
    """
    return " ".join(re.findall(r"\w+", text.lower()))


def document_units(doc: Document, settings: ChunkerSettings, count: Callable[[str], int], pieces) -> list[_Unit]:
    """One document's sentences, cut to the model window and counted: the part of chunking that needs no other
    document, so it can run anywhere."""
    return _units(doc, count, pieces, settings.window_tokens - 2)


def _units(doc: Document, count: Callable[[str], int], pieces: Callable[[str], int], limit: int) -> list[_Unit]:
    titles = list(dict.fromkeys(section.title for section in doc.sections))
    title_pieces = dict(zip(titles, _count_many(pieces, titles), strict=True))
    sentences: list[tuple[int, int, bool, int]] = []
    for section in doc.sections:
        room = limit - title_pieces[section.title] - 1  # the title is embedded with every chunk of its section
        for s, e in split_sentences(doc.text, section.start, section.end):
            heading = s == section.start and doc.text[s:e].lstrip("# ").strip() == section.title.split(" > ")[-1]
            sentences.append((s, e, heading, room))
    spans: list[tuple[int, int, bool]] = []
    lengths = _count_many(pieces, [doc.text[s:e] for s, e, _, _ in sentences])
    for (s, e, heading, room), n in zip(sentences, lengths, strict=True):
        spans.extend([(s, e, heading)] if n <= room else _split_long(doc.text, s, e, heading, pieces, room))
    texts = [doc.text[s:e] for s, e, _ in spans]
    units = []
    for i, ((s, e, heading), n_tokens, n_pieces) in enumerate(
        zip(spans, _count_many(count, texts), _count_many(pieces, texts), strict=True)
    ):
        nxt = spans[i + 1][0] if i + 1 < len(spans) else len(doc.text)
        units.append(_Unit(0 if i == 0 else s, s, e, nxt, heading, n_tokens, n_pieces))
    return units


def _count_many(count: Callable[[str], int], texts: list[str]) -> list[int]:
    """Counts of many texts in one call when the counter offers it (a tokenizer's batch API), else one by one."""
    many = getattr(count, "many", None)
    return list(many(texts)) if many is not None else [count(t) for t in texts]


def _split_long(text: str, s: int, e: int, heading: bool, pieces: Callable[[str], int], limit: int):
    """A sentence longer than the model window is cut at spaces so nothing is silently truncated.

    Word pieces add up across whitespace (BERT pre-tokenises on it), so words are counted once each.
    """
    if pieces(text[s:e]) <= limit:
        return [(s, e, heading)]
    out, piece_start, used = [], s, 0
    for word in re.finditer(r"\S+", text[s:e]):
        n = pieces(word.group())
        if used + n > limit and used:
            out.append((piece_start, s + word.start(), heading))
            piece_start, used = s + word.start(), 0
        used += n
    out.append((piece_start, e, heading))
    return out


def chunk_corpus(
    documents: Sequence[Document],
    settings: ChunkerSettings,
    count_tokens: Callable[[str], int],
    count_pieces: Callable[[str], int],
    units: Sequence[list[_Unit]] | None = None,
) -> list[Chunk]:
    """Chunk every document; sentences already seen (exactly, or as a truncated copy) become aliases.

    units: each document's document_units, when they were counted elsewhere (index.storage.distributed does it on Ray);
    what follows them compares each document with the ones before, so it runs here, in order.
    """
    limit = settings.window_tokens - 2
    from sortedcontainers import SortedList

    kept_sorted = SortedList()  # a plain list's insort moved millions of pointers per sentence at 1M chunks
    kept_at: dict[str, tuple[str, int]] = {}
    chunks: list[Chunk] = []
    dup_origin: dict[tuple[str, int], tuple[str, int]] = {}
    for i, doc in enumerate(documents):
        doc_units = _units(doc, count_tokens, count_pieces, limit) if units is None else units[i]
        headings = sorted({normalise(s.title.split(" > ")[-1]) for s in doc.sections}, key=len, reverse=True)
        flags = []
        for u in doc_units:
            key = normalise(doc.text[u.sent_start : u.text_end])
            origin = None if u.heading else _seen(key, headings, kept_sorted, kept_at)
            if origin is not None:
                dup_origin[(doc.source, u.sent_start)] = origin
            elif not u.heading and len(key) >= 20 and key not in kept_at:
                kept_sorted.add(key)
                kept_at[key] = (doc.source, u.sent_start)
            flags.append(origin is not None)
        packed = _pack(doc, doc_units, flags, settings, count_tokens, count_pieces, limit)
        chunks.extend(merge_fragments(doc, packed, settings.min_words, count_tokens, count_pieces, limit))
    return _resolve_aliases(chunks, dup_origin)


def _seen(key: str, headings: list[str], kept_sorted, kept_at: dict) -> tuple[str, int] | None:
    """Where this sentence was seen before: the same words, or a truncated prefix, or heading + same words."""
    if len(key) < 20:
        return None
    candidates = [key] + [key[len(h) + 1 :] for h in headings if key.startswith(h + " ")]
    for cand in candidates:
        if cand in kept_at:
            return kept_at[cand]
        i = kept_sorted.bisect_left(cand)
        if i < len(kept_sorted) and kept_sorted[i].startswith(cand):
            return kept_at[kept_sorted[i]]
    return None


def _pack(doc, units, flags, settings, count_tokens, count_pieces, limit) -> list[Chunk]:
    chunks: list[Chunk] = []
    i = 0
    while i < len(units):
        j, tokens, pieces = i, 0, count_pieces(doc.section_at(units[i].start)) + 1
        while j < len(units):
            u = units[j]
            only_headings = all(x.heading for x in units[i:j])  # a lone title joins the section after it
            same_section = only_headings or doc.section_at(u.start) == doc.section_at(units[j - 1].start)
            same_run = j == i or (flags[j] == flags[i] and same_section)
            fits = tokens + u.tokens <= settings.max_tokens and pieces + u.pieces <= limit
            if not same_run or (j > i and not fits):
                break
            tokens += u.tokens
            pieces += u.pieces
            j += 1
        chunks.append(_make_chunk(doc, units[i:j], flags[i], count_tokens))
        if j >= len(units):
            break
        # Overlap: start the next chunk a few sentences back, if they belong to the same run.
        back = settings.overlap_sentences
        nxt = j
        while back > 0 and nxt - 1 > i and not units[nxt - 1].heading and flags[nxt - 1] == flags[j]:
            if doc.section_at(units[nxt - 1].start) != doc.section_at(units[j].start):
                break
            nxt -= 1
            back -= 1
        i = nxt
    return chunks


def _make_chunk(doc: Document, units: Sequence[_Unit], duplicate: bool, count_tokens) -> Chunk:
    section = doc.section_at(next((u.sent_start for u in units if not u.heading), units[0].sent_start))
    sentences = tuple((u.sent_start, u.text_end) for u in units if not u.heading)
    return _span(doc, units[0].start, units[-1].end, section, sentences, "dup" if duplicate else None, count_tokens)


def _span(doc: Document, start: int, end: int, section: str, sentences, marker, count_tokens) -> Chunk:
    """The chunk of doc.text[start:end], its id and token count derived from that text."""
    text = doc.text[start:end]
    return Chunk(
        chunk_id(doc.source, start, end, text),
        doc.source,
        section,
        start,
        end,
        text,
        count_tokens(text),
        sentences,
        marker,
    )


_PAGE_PREFIX = re.compile(r"^p\. \d+ > ")


def _words(chunk: Chunk) -> int:
    """Words of the chunk's sentences, headings not counted: what a reader would get from it as a passage."""
    return sum(len(chunk.sentence_text(s, e).split()) for s, e in chunk.sentences)


def _joined(doc: Document, a: Chunk, b: Chunk, section: str, count_tokens) -> Chunk:
    """One chunk covering a and then b (which may overlap a by a sentence), named after `section`."""
    sentences = tuple(sorted(set(a.sentences) | set(b.sentences)))
    return _span(doc, a.start, max(a.end, b.end), section, sentences, a.duplicate_of, count_tokens)


def merge_fragments(doc: Document, chunks: list[Chunk], min_words: int, count_tokens, count_pieces, limit: int):
    """Fold fragments into a neighbour: a heading alone into the next chunk, a chunk under min_words words into
    the previous (else the next) chunk of its section, while the result fits the model window.

    Example: ["Intro" (heading only), "Owls hunt at night. ..."] -> one chunk starting at "Intro"
    """
    out = list(chunks)

    def fits(c: Chunk) -> bool:
        return count_pieces(c.embed_text()) <= limit

    def same_section(a: Chunk, b: Chunk) -> bool:
        return _PAGE_PREFIX.sub("", a.section) == _PAGE_PREFIX.sub("", b.section)  # a page break is not a new section

    heads = {section.title.split(" > ")[-1] for section in doc.sections}  # a chunk of these lines only is no passage
    i = 0
    while i < len(out):
        c = out[i]
        lone_heading = not c.sentences or all(line.strip() in heads for line in c.text.split("\n") if line.strip())
        if not lone_heading and _words(c) >= min_words:
            i += 1
            continue
        candidates = []
        if i + 1 < len(out) and (lone_heading or same_section(out[i + 1], c)):
            candidates.append(i + 1)
        if i > 0 and (lone_heading or same_section(out[i - 1], c)):
            candidates.insert(0 if not lone_heading else 1, i - 1)
        for j in candidates:
            a, b = (out[j], c) if j < i else (c, out[j])
            if a.duplicate_of != b.duplicate_of:
                continue
            merged = _joined(doc, a, b, out[j].section, count_tokens)  # the fragment takes its neighbour's name
            if fits(merged):
                out[min(i, j)] = merged
                del out[max(i, j)]
                i = max(min(i, j) - 1, 0)
                break
        else:
            i += 1
    return out


def _resolve_aliases(chunks: list[Chunk], dup_origin: dict[tuple[str, int], tuple[str, int]]) -> list[Chunk]:
    """Point each duplicate chunk at the kept chunk holding the first copy of its first sentence."""
    from dataclasses import replace

    def holder(source: str, offset: int) -> str | None:
        for c in chunks:
            if c.source == source and c.duplicate_of is None and c.start <= offset < c.end:
                return c.id
        return None

    out = []
    for c in chunks:
        if c.duplicate_of == "dup":
            first = next((dup_origin[(c.source, s)] for s, _ in c.sentences if (c.source, s) in dup_origin), None)
            c = replace(c, duplicate_of=(holder(*first) if first else None) or c.id)
        out.append(c)
    return out
