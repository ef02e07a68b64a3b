"""HTML and PDF -> Document: extracted text, sections with heading paths, and PDF page boundaries."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from index.cleaning import Removed, clean, decode
from index.documents import Document, Section, close_sections, is_heading_line, text_sections, with_removed

_SENTENCE_END = re.compile(r"[.!?:;][\"'\u201d\u2019)\]]*$")
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.IGNORECASE)


def decode_html(raw: bytes) -> tuple[str, str]:
    """Like decode(), but a page that is not UTF-8 is read in the charset its <meta> declares, if any.

    Example: Shift_JIS bytes with <meta charset="shift_jis"> -> (the Japanese text, "shift_jis")
    """
    try:
        text, encoding = decode(raw)
    except ValueError as exc:
        if "unknown encoding" not in str(exc):
            raise
        text, encoding, error = "", "", exc
    declared = _META_CHARSET.search(raw[:4096])
    if encoding in ("", "cp1252") and declared:
        charset = declared.group(1).decode("ascii").lower()
        try:
            return raw.decode(charset), charset
        except (LookupError, UnicodeDecodeError):
            pass
    if not encoding:
        raise error
    return text, encoding


def load_html(source_text: str, source: str, stem: str, encoding: str) -> Document:
    """An HTML page: visible body text, h1-h6 as sections titled by heading path ("Guide > Install")."""
    from index.html_text import html_text

    page = html_text(source_text)
    first_heading = page.headings[0][1] if page.headings else ""
    title = page.title or first_heading or stem
    sections = close_sections(list(page.headings), len(page.text), title)
    return with_removed(Document(source, title, page.text, sections, "", encoding=encoding), page.removed)


def reflow(page: str) -> str:
    """Join the lines of a wrapped paragraph, since a newline always ends a sentence downstream.

    A line break stays where the line ends a sentence or stops well short of the page's usual width
    (a heading, a paragraph's last line). Example: "The report was\\npresented today.\\nNext" with
    full-width lines -> "The report was presented today.\\nNext"
    """
    lines = [line.strip() for line in page.split("\n")]
    widths = sorted(len(line) for line in lines if line)
    if not widths:
        return ""
    full = widths[int(len(widths) * 0.8)] if len(widths) > 1 else widths[0]
    out: list[str] = []
    for i, line in enumerate(lines):
        out.append(line)
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if not nxt:
            out.append("\n")
        elif line and len(line) >= 0.7 * full and not _SENTENCE_END.search(line):
            out.append("" if line.endswith("-") else " ")
        else:
            out.append("\n")
    return re.sub(r"\n{3,}", "\n\n", "".join(out)).strip()


def load_pdf(path: Path, source: str) -> Document:
    """A PDF: page texts joined by blank lines, each page's span kept; sections never cross a page."""
    from index.pdf_text import pdf_text

    raw = path.read_bytes()
    if not raw.lstrip().startswith(b"%PDF-"):
        raise ValueError("not a PDF (no %PDF- header)")
    parsed = pdf_text(str(path))
    parts: list[str] = []
    pages: list[tuple[int, int, int]] = []
    removed, offset = Removed(), 0
    for number, raw_page in enumerate(parsed.pages, 1):
        page, page_removed = clean(raw_page)
        removed += page_removed
        page = reflow(page)
        if page and parts:
            parts.append("\n\n")
            offset += 2
        pages.append((number, offset, offset + len(page)))
        parts.append(page)
        offset += len(page)
    text = "".join(parts)
    first_line = text.strip().split("\n", 1)[0].strip()
    title = clean(parsed.title)[0].strip() or (first_line if is_heading_line(first_line) else path.stem)
    sections = _page_sections(text_sections(text, title), tuple(pages))
    doc = Document(
        source,
        title,
        text,
        sections,
        hashlib.sha256(raw).hexdigest(),
        pages=tuple(pages),
        warnings=parsed.warnings,
        encoding="pdf",
    )
    return with_removed(doc, removed)


def _page_sections(sections: tuple[Section, ...], pages: tuple[tuple[int, int, int], ...]) -> tuple[Section, ...]:
    """Split sections at page starts and prefix the page, so every chunk and citation names its page.

    Example: Section("Intro", 0, 90) over pages (1, 0, 50), (2, 52, 90)
    -> "p. 1 > Intro" [0, 52), "p. 2 > Intro" [52, 90)
    """
    starts = [start for _, start, end in pages if end > start]
    numbers = {start: number for number, start, end in pages if end > start}
    out = []
    for section in sections:
        cuts = [section.start] + [s for s in starts if section.start < s < section.end] + [section.end]
        for a, b in zip(cuts, cuts[1:], strict=False):
            number = numbers[max((s for s in starts if s <= a), default=starts[0])] if starts else 1
            out.append(Section(f"p. {number} > {section.title}", a, b))
    return tuple(out)
