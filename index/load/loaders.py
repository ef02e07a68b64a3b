"""HTML, DOCX and PDF -> Document: extracted text, sections with heading paths, and PDF page boundaries."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from index.load.documents import Document, Section, close_sections, is_heading_line, with_removed
from index.text.cleaning import Removed, clean, decode

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


def load_html(path: Path, source: str) -> Document:
    """An HTML page: its main text, h1-h6 as sections titled by heading path ("Guide > Install").

    Parsed in a capped child process (index.load.sandbox), so a hostile page costs one skipped file.
    """
    from index.load.html_text import html_file_text

    page, encoding = html_file_text(str(path))
    first_heading = page.headings[0][1] if page.headings else ""
    title = page.title or first_heading or path.stem
    sections = close_sections(list(page.headings), len(page.text), title)
    return with_removed(Document(source, title, page.text, sections, "", encoding=encoding), page.removed)


def load_docx(path: Path, source: str) -> Document:
    """A Word document: its paragraphs, list items and table rows, sections from its heading styles."""
    from index.load.docx_text import docx_text

    page = docx_text(str(path))
    first_heading = page.headings[0][1] if page.headings else ""
    title = page.title or first_heading or path.stem
    sections = close_sections(list(page.headings), len(page.text), title)
    return with_removed(Document(source, title, page.text, sections, "", encoding="docx"), page.removed)


def load_pdf(path: Path, source: str) -> Document:
    """A PDF: page texts without running headers, footers and page numbers, joined by blank lines, each page's
    span kept; sections come from heading-like lines and never cross a page."""
    from index.load.pdf_layout import pdf_sections, reflow, strip_running_lines
    from index.load.pdf_text import pdf_text

    raw = path.read_bytes()
    if not raw.lstrip().startswith(b"%PDF-"):
        raise ValueError("not a PDF (no %PDF- header)")
    parsed = pdf_text(str(path))
    removed, page_lines = Removed(), []
    for raw_page in parsed.pages:
        page, page_removed = clean(raw_page)
        removed += page_removed
        page_lines.append(page.split("\n"))
    first_line = next((line.strip() for lines in page_lines for line in lines if line.strip()), "")
    page_lines, running = strip_running_lines(page_lines)
    parts: list[str] = []
    pages: list[tuple[int, int, int]] = []
    offset = 0
    for number, lines in enumerate(page_lines, 1):
        page = reflow(lines, parsed.large[number - 1] if number <= len(parsed.large) else "")
        if page and parts:
            parts.append("\n\n")
            offset += 2
        pages.append((number, offset, offset + len(page)))
        parts.append(page)
        offset += len(page)
    text = "".join(parts)
    title = clean(parsed.title)[0].strip() or (first_line if is_heading_line(first_line) else path.stem)
    title_block = len("\n".join(text[: pages[0][2]].split("\n")[:6])) if pages else 0
    sections = _page_sections(close_sections(pdf_sections(text, title, title_block), len(text), title), tuple(pages))
    warnings = parsed.warnings + (
        (f"removed {running} running header, footer or page-number line(s)",) if running else ()
    )
    doc = Document(
        source,
        title,
        text,
        sections,
        hashlib.sha256(raw).hexdigest(),
        pages=tuple(pages),
        warnings=warnings,
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
