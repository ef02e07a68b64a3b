"""PDF -> text per page, parsed in a child process with a timeout and a memory cap.

A hostile PDF can make a parser loop or allocate without bound; in a child process that costs one
skipped file, not the ingest (index.load.sandbox runs it). The child imports only the standard library and pypdf.
"""

from __future__ import annotations

from dataclasses import dataclass

TIMEOUT_S = 60.0
MEMORY_BYTES = 1024 * 1024 * 1024
_LIMIT_HINT = "over pypdf's decompression limit (a compression bomb?)"


@dataclass(frozen=True)
class PdfText:
    """Raw text of each page in order (page 1 first), the PDF's own title ('' if none), and per-page warnings."""

    pages: tuple[str, ...]
    title: str
    warnings: tuple[str, ...]
    large: tuple[str, ...] = ()  # per page: its text set larger than the body (headings), whitespace-normalised


def pdf_text(path: str, timeout_s: float | None = None, memory_bytes: int | None = None) -> PdfText:
    """Parse a PDF in a capped child process; raises ValueError with the reason it cannot be indexed."""
    from index.load.sandbox import run_capped

    timeout_s = TIMEOUT_S if timeout_s is None else timeout_s
    memory_bytes = MEMORY_BYTES if memory_bytes is None else memory_bytes
    result = run_capped("pdf", path, "PDF parser", timeout_s, memory_bytes)
    large = tuple(str(t) for t in result.get("large", ()))
    return PdfText(tuple(result["pages"]), str(result.get("title") or ""), tuple(result.get("warnings", ())), large)


# ---- the child process -------------------------------------------------------------------------------


def extract(path: str) -> dict:
    """Open and read every page; a page that fails or yields nothing becomes a warning, not a lost file."""
    import logging

    from pypdf import PdfReader
    from pypdf.errors import DependencyError, LimitReachedError, PdfReadError, PyPdfError

    logged: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            logged.append(record.getMessage())

    logger = logging.getLogger("pypdf")
    logger.addHandler(Collect(logging.WARNING))
    logger.propagate = False
    try:
        reader = PdfReader(path, strict=False)
        warnings = []
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except DependencyError:
                opened = 0
            if not opened:
                return {"ok": False, "reason": "encrypted PDF: it needs a password; save a decrypted copy to index it"}
            warnings.append("encrypted with an empty password; opened without one")
        pages = list(reader.pages)
        title = ""
        try:
            title = str((reader.metadata or {}).get("/Title") or "")
        except (PyPdfError, ValueError, TypeError, KeyError):
            pass
    except (PyPdfError, ValueError, TypeError, KeyError, AttributeError, IndexError, OSError, RecursionError) as exc:
        detail = "; ".join(dict.fromkeys([*logged, f"{type(exc).__name__}: {exc}"]))[:300]
        return {"ok": False, "reason": f"malformed or truncated PDF ({detail})"}
    texts, blank, sized = [], [], []
    for number, page in enumerate(pages, 1):
        logged.clear()
        failed = False
        fragments: list[tuple[str, float]] = []
        sized.append(fragments)
        try:
            text = (
                page.extract_text(
                    visitor_text=lambda t, cm, tm, font, size, out=fragments: out.append((t, _size(size, tm, cm)))
                )
                or ""
            )
        except LimitReachedError:
            text, logged[:] = "", ["Limit reached while decompressing"]
        except (PdfReadError, PyPdfError, ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
            text, failed = "", True
            warnings.append(f"page {number} could not be parsed ({type(exc).__name__}: {str(exc)[:120]})")
        if any("limit" in message.lower() for message in logged):
            what = "part of its text is missing" if text.strip() else "its text is not indexed"
            warnings.append(f"page {number} is {_LIMIT_HINT}; {what}")
        elif not text.strip() and not failed:
            blank.append(number)
        texts.append(text)
    if blank:
        label = f"page {blank[0]}" if len(blank) == 1 else f"pages {page_ranges(blank)}"
        warnings.append(f"{label} yielded no text (an image or an empty page?)")
    return {"ok": True, "pages": texts, "title": title, "warnings": warnings, "large": larger_text(sized)}


def _size(font_size: float, tm: list, cm: list) -> float:
    """The printed size of a text run: its font size scaled by the text and page matrices (vertical scale)."""
    try:
        return abs(float(font_size) * float(tm[3]) * float(cm[3])) or float(font_size)
    except (TypeError, ValueError, IndexError):
        return 0.0


def larger_text(pages: list[list[tuple[str, float]]]) -> list[str]:
    """Per page, its text set at least 15% larger than the body size (the size most characters have): headings.

    Example: larger_text([[("Intro", 14.0), ("It rained all day and night.", 10.0)]]) -> ["Intro"]
    """
    chars: dict[float, int] = {}
    for fragments in pages:
        for text, size in fragments:
            chars[round(size, 1)] = chars.get(round(size, 1), 0) + len(text.strip())
    if not chars:
        return ["" for _ in pages]
    body = max(chars, key=lambda size: chars[size])
    return [
        " ".join(" ".join(t.split()) for t, size in fragments if size >= 1.15 * body and t.strip())
        for fragments in pages
    ]


def page_ranges(numbers: list[int]) -> str:
    """Page numbers as short ranges, so a 300-page scan is one line in the summary.

    Example: page_ranges([1, 2, 3, 5, 7, 8]) -> "1-3, 5, 7-8"
    """
    spans: list[list[int]] = []
    for n in numbers:
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)
