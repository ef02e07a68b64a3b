"""DOCX -> text: paragraphs, headings from the heading styles, list items and tables as text rows, in order.

Read with python-docx in a capped child process (index.load.sandbox), as PDF and HTML are: a DOCX is a zip of
XML, and a zip or XML bomb must cost one skipped file, not the ingest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.text.cleaning import Removed, clean

TIMEOUT_S = 60.0
MEMORY_BYTES = 1024 * 1024 * 1024
_HEADING_STYLE = re.compile(r"^heading\s*([1-9])$", re.IGNORECASE)


@dataclass(frozen=True)
class DocxText:
    """Extracted text, the document's title ('' if none), heading starts with their heading paths, removals."""

    text: str
    title: str
    headings: tuple[tuple[int, str], ...]
    removed: Removed


def docx_text(path: str) -> DocxText:
    """A DOCX file's text, extracted in a capped child; raises ValueError with the reason it cannot be indexed."""
    from index.load.sandbox import run_capped

    result = run_capped("docx", path, "DOCX reader", TIMEOUT_S, MEMORY_BYTES)
    headings = tuple((int(offset), str(title)) for offset, title in result["headings"])
    return DocxText(str(result["text"]), str(result["title"]), headings, Removed(*result["removed"]))


def heading_level(style_name: str) -> int | None:
    """Outline level of a paragraph style: "Heading 2" -> 2, "Title" -> 1, "Normal" -> None."""
    if style_name.strip().lower() == "title":
        return 1
    match = _HEADING_STYLE.match(style_name.strip())
    return int(match.group(1)) if match else None


def _is_list_item(paragraph) -> bool:
    style = paragraph.style.name if paragraph.style is not None else ""
    ppr = paragraph._p.pPr
    return style.lower().startswith("list") or (ppr is not None and ppr.numPr is not None)


def _row_text(row) -> str:
    """A table row as one line, cells joined by " | "; a merged cell (repeated by python-docx) counts once."""
    cells, seen = [], set()
    for cell in row.cells:
        if id(cell._tc) in seen:
            continue
        seen.add(id(cell._tc))
        cells.append(" ".join(cell.text.split()))
    return " | ".join(c for c in cells if c)


def blocks(document) -> list[tuple[str, str, int | None]]:
    """The body as (kind, text, heading level) blocks in reading order: "p", "li", "row".

    Example: a heading, a paragraph and a 2-row table -> [("p", "Intro", 1), ("p", "...", None), ("row", ...)x2]
    """
    from docx.table import Table

    out: list[tuple[str, str, int | None]] = []
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            out.extend(("row", _row_text(row), None) for row in item.rows)
            continue
        style = item.style.name if item.style is not None else ""
        level = heading_level(style)
        kind = "li" if level is None and _is_list_item(item) else "p"
        out.append((kind, item.text, level))
    return out


def extract(path: str) -> dict:
    """The child process's side: open the DOCX, lay its blocks out as text, and return JSON-ready values."""
    import zipfile

    if not zipfile.is_zipfile(path):
        return {"ok": False, "reason": "not a DOCX (not a zip archive); save it again from a word processor"}
    try:
        import docx

        document = docx.Document(path)
        laid_out = blocks(document)
        core_title = document.core_properties.title or ""
    except MemoryError:
        raise
    except Exception as exc:  # python-docx raises KeyError, ValueError, lxml and zip errors for broken parts
        return {"ok": False, "reason": f"malformed DOCX ({type(exc).__name__}: {str(exc)[:200]})"}
    parts: list[str] = []
    headings: list[tuple[int, str]] = []
    path_titles: list[str] = []
    removed = Removed()
    length, previous = 0, ""
    for kind, raw, level in laid_out:
        text, gone = clean(raw)
        removed += gone
        text = "\n".join(" ".join(line.split()) for line in text.split("\n") if line.strip())
        if not text:
            continue
        sep = "" if not parts else ("\n" if kind == previous and kind in ("li", "row") else "\n\n")
        if level is not None:
            path_titles = path_titles[: level - 1] + [" ".join(text.split())]
            headings.append((length + len(sep), " > ".join(path_titles)))
        parts.append(sep + text)
        length += len(sep) + len(text)
        previous = kind
    title, gone = clean(" ".join(core_title.split()))
    removed += gone
    return {
        "ok": True,
        "text": "".join(parts),
        "title": title,
        "headings": headings,
        "removed": [removed.hidden, removed.control, removed.surrogate],
    }
