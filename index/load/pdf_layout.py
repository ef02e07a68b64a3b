"""PDF page lines -> reading text: running headers, footers and page numbers removed, hyphenated words joined,
wrapped lines joined into paragraphs, and a stricter test for what is a heading than plain text gets.

Pure functions on lists of lines, so each rule is tested on its own without a PDF.
"""

from __future__ import annotations

import re

from index.load.documents import is_heading_line

EDGE_LINES = 3  # lines looked at for running headers and footers at each end of a page: a PDF maker may write
# header, footer and page number all before (or after) the body, so three running lines can lead a page
_PAGE_NUMBER = re.compile(
    r"^(page\s+)?[-–—(\[]?\s*(\d{1,4}|[ivxlcdm]{1,7})\s*[-–—)\]]?(\s*(of|/)\s*\d{1,4})?$", re.IGNORECASE
)
_SENTENCE_END = re.compile(r"[.!?:;][\"'\u201d\u2019)\]]*$")
_NUMBERED = re.compile(r"^(\d{1,2}(\.\d{1,2})*\.?|[A-Z]\.|Appendix\s+[A-Z0-9]+\.?)\s+\S")
_MONTHS = "january february march april may june july august september october november december"
_MONTH_NAMES = "|".join(_MONTHS.split() + [m[:3] for m in _MONTHS.split()])
_DATE = re.compile(
    rf"\b({_MONTH_NAMES})\.?\s+\d{{1,4}}\b|\b\d{{4}}-\d\d-\d\d\b|\b\d{{1,2}}[./]\d{{1,2}}[./]\d{{2,4}}\b",
    re.IGNORECASE,
)
_CONTACT = re.compile(r"@|https?://|www\.|\b\w+ (at|dot) \w+\.\w+", re.IGNORECASE)
_NAME = re.compile(r"^([A-Z][a-z'’-]+|[A-Z]\.)( ([A-Z][a-z'’-]+|[A-Z]\.)){1,3}$")


def line_key(line: str) -> str:
    """What a running line has in common across pages: digits stand for any number.

    Example: line_key("Page 5 of 17  Shared MIME") -> "page # of # shared mime"
    """
    return " ".join(re.sub(r"\d+", "#", line.lower()).split())


def is_page_number(line: str) -> bool:
    """Example: "5", "- 12 -", "Page 3 of 17", "xiv" -> True; "5 apples" -> False"""
    return bool(_PAGE_NUMBER.match(line.strip()))


def strip_running_lines(pages: list[list[str]]) -> tuple[list[list[str]], int]:
    """Remove lines at the top or bottom of pages that repeat on at least half of them, and page numbers there.

    Example: [["Spec 1", "Owls."], ["Spec 2", "Larks."], ["Spec 3", "Bats."]] -> [["Owls."], ["Larks."], ["Bats."]], 3
    """
    texted = [p for p in pages if any(line.strip() for line in p)]
    if len(texted) < 2:
        return pages, 0
    seen: dict[str, int] = {}
    for page in texted:
        lines = [line for line in page if line.strip()]
        for key in {line_key(line) for line in lines[:EDGE_LINES] + lines[-EDGE_LINES:]}:
            seen[key] = seen.get(key, 0) + 1
    need = max(2, (len(texted) + 1) // 2)
    running = {key for key, n in seen.items() if n >= need}

    def edge(line: str) -> bool:
        return line_key(line) in running or is_page_number(line)

    out, removed = [], 0
    for page in pages:
        lines = [line for line in page if line.strip()]
        top = 0
        while top < min(EDGE_LINES, len(lines)) and edge(lines[top]):
            top += 1
        bottom = len(lines)
        while bottom > top and len(lines) - bottom < EDGE_LINES and edge(lines[bottom - 1]):
            bottom -= 1
        removed += top + len(lines) - bottom
        out.append(lines[top:bottom])
    return out, removed


def reflow(lines: list[str], large: str = "") -> str:
    """Join a page's wrapped lines into paragraphs; a word hyphenated across a line end is joined whole.

    A line break stays where the line ends a sentence or stops well short of the page's usual width
    (a heading, a paragraph's last line). `large` is the page's text set larger than the body: a line of it
    (a heading) joins only its own wrapped continuation, never body text. Example, with full-width lines:
    ["The report was pre-", "sented today.", "Next"] -> "The report was presented today.\\nNext"
    """
    lines = [line.strip() for line in lines]
    widths = sorted(len(line) for line in lines if line)
    if not widths:
        return ""
    full = widths[int(len(widths) * 0.8)] if len(widths) > 1 else widths[0]
    heading = [bool(large) and bool(line) and " ".join(line.split()) in large for line in lines] + [False]
    out: list[str] = []
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        wide = len(line) >= 0.7 * full or (heading[i] and heading[i + 1])  # a heading wraps at fewer characters
        wraps = bool(line) and bool(nxt) and wide and not _SENTENCE_END.search(line) and heading[i] == heading[i + 1]
        if wraps and line.endswith("-") and len(line) > 1 and line[-2].isalpha() and nxt[:1].islower():
            out.append(line[:-1])  # "pre-" + "sented" -> "presented"
        elif wraps:
            out.append(line if line.endswith(("-", "/")) else line + " ")
        else:
            out.append(line + "\n")
    return re.sub(r"\n{3,}", "\n\n", "".join(out)).strip()


def is_pdf_heading(line: str, numbered_only: bool, title_block: bool = False, following: str = "") -> bool:
    """A PDF heading: a plain-text heading that is not a date, an address, or (near the top of page 1) a name
    followed by more title-page lines rather than by body text.

    In a document whose headings are numbered ("2.1 Magic rules"), only numbered lines are headings.
    Example: is_pdf_heading("Thomas Leonard", False, True, following="2 October 2018") -> False
    """
    stripped = line.strip()
    numbered_question = bool(_NUMBERED.match(stripped)) and stripped.endswith("?")  # "1.2. What is this spec?"
    if not is_heading_line(stripped.rstrip("?") if numbered_question else stripped) or is_page_number(stripped):
        return False
    if _DATE.search(stripped) or _CONTACT.search(stripped):
        return False
    if numbered_only:  # "4 CARD32 N_ALIASES" in a table of a binary format is not a heading
        return bool(_NUMBERED.match(stripped)) and "_" not in stripped and any(ch.islower() for ch in stripped)
    if title_block and _NAME.match(stripped):
        nxt = following.strip()
        return bool(nxt) and not is_heading_line(nxt) and not _DATE.search(nxt) and not _CONTACT.search(nxt)
    return True


def numbered_headings(lines: list[str]) -> bool:
    """True when at least three heading-like lines are numbered: the document numbers its headings."""
    return sum(1 for line in lines if is_heading_line(line) and _NUMBERED.match(line.strip())) >= 3


def pdf_sections(text: str, title: str, title_block_end: int) -> list[tuple[int, str]]:
    """Heading starts of a PDF's text: lines is_pdf_heading accepts, each followed by body text.

    title_block_end is where the title page's first lines end: a name there is an author, not a heading.
    """
    lines = text.split("\n")
    numbered_only = numbered_headings(lines)
    starts, offset = [], 0
    for i, line in enumerate(lines):
        following = next((rest for rest in lines[i + 1 : i + 3] if rest.strip()), "")
        if following and is_pdf_heading(line, numbered_only, offset < title_block_end, following):
            starts.append((offset, line.strip()))
        offset += len(line) + 1
    return starts
