"""HTML -> the text a reader comes for: the page's main content with headings, never script, style, comments,
hidden elements, or the site's navigation, header, footer, sidebars and "Previous / Up / Next" link bars.

Built on the standard library's tolerant html.parser; block elements become line breaks so sentences and
paragraphs survive, inline elements do not break a sentence. Unclosed or misnested tags err on the side of
dropping text inside a hidden element rather than leaking it. Every step is linear in the input: the open-tag
stack is summarised by counters, so a page of 40,000 nested <div>s costs no more per tag than a flat one.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from index.text.cleaning import Removed, clean

TIMEOUT_S = 60.0
MEMORY_BYTES = 1024 * 1024 * 1024
# Content that is never shown as text: code, styles, inert templates, fallbacks, embedded documents, metadata.
SKIPPED_TAGS = frozenset("script style template noscript iframe object embed svg math head canvas".split())
# Site furniture around the content: dropped like hidden elements (header/footer only outside an article).
BOILERPLATE_TAGS = frozenset("nav aside menu".split())
_SCOPED_BOILERPLATE = frozenset("header footer".split())
_SECTIONING = frozenset("article main section".split())
BOILERPLATE_ROLES = frozenset("navigation banner contentinfo complementary menu menubar search toolbar".split())
# Class or id tokens of navigation blocks in common generators (Sphinx, texinfo, DocBook, gtk-doc, site themes).
BOILERPLATE_CLASSES = frozenset(
    "nav navbar navigation nav-panel navheader navfooter menu sidebar sphinxsidebar related breadcrumb "
    "breadcrumbs footer site-footer site-header skip-link headerlink toc-backref".split()
)
VOID_TAGS = frozenset("area base br col embed hr img input link meta param source track wbr".split())
HEADINGS = {f"h{n}": n for n in range(1, 7)}
PARAGRAPH_TAGS = frozenset(
    "p h1 h2 h3 h4 h5 h6 blockquote pre table ul ol dl section article aside header footer main nav figure "
    "form fieldset details address hr".split()
)
LINE_TAGS = frozenset("div li dt dd tr caption figcaption summary option body html title legend br".split())
# A <p> is closed by the start of these (HTML's implied end tags), so text after them is not inside it.
_CLOSES_P = PARAGRAPH_TAGS | {"div", "li", "dd", "dt"}
_CLOSES_SELF = {"li": {"li"}, "dt": {"dt", "dd"}, "dd": {"dt", "dd"}, "tr": {"tr"}, "td": {"td", "th"}}
_CLOSES_SELF["th"] = _CLOSES_SELF["td"]
_CLOSES_SELF["option"] = {"option"}
# What may stand in <head>; anything else (or text) starts the body, as in browsers, even without </head>.
HEAD_TAGS = frozenset("title meta link style script base noscript template".split())
# Characters of a heading's permalink ("Timers#", "Closures¶"): not part of its title.
ANCHOR_CHARS = "#¶§🔗⚓"
_NAV_WORDS = re.compile(r"\b(next|previous|prev|up|home|top|contents|index|back|forward)\b", re.IGNORECASE)
_MAIN = re.compile(r"<main[\s>/]|\brole\s*=\s*[\"']?main\b", re.IGNORECASE)


@dataclass(frozen=True)
class HtmlText:
    """Extracted text, page title ('' if none), heading starts with their heading paths, what clean() removed."""

    text: str
    title: str
    headings: tuple[tuple[int, str], ...]
    removed: Removed


def is_hidden(attrs: list[tuple[str, str | None]]) -> bool:
    """True for elements a browser does not show: `hidden`, aria-hidden="true", inline display:none/visibility:hidden.

    Example: is_hidden([("style", "color: red; DISPLAY : none !important")]) -> True
    """
    for name, value in attrs:
        name, value = name.lower(), (value or "").strip().lower()
        if name == "hidden" or (name == "aria-hidden" and value == "true"):
            return True
        if name == "style":
            for declaration in value.split(";"):
                prop, _, val = declaration.partition(":")
                val = val.replace("!important", "").strip()
                if (prop.strip(), val) in {("display", "none"), ("visibility", "hidden"), ("visibility", "collapse")}:
                    return True
    return False


def is_boilerplate(attrs: list[tuple[str, str | None]]) -> bool:
    """True for an element whose role, class or id names site navigation rather than content.

    Example: is_boilerplate([("class", "nav-panel")]) -> True; is_boilerplate([("class", "note")]) -> False
    """
    for name, value in attrs:
        name, value = name.lower(), (value or "").lower()
        if name == "role" and value.strip() in BOILERPLATE_ROLES:
            return True
        if name in ("class", "id") and not BOILERPLATE_CLASSES.isdisjoint(value.split()):
            return True
    return False


@dataclass
class _Piece:
    sep: str
    word: str
    linked: bool


class _Extractor(HTMLParser):
    def __init__(self, main_only: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.main_only = main_only
        self.stack: list[tuple[str, bool, bool]] = []  # (tag, hides its content, is the page's main content)
        self.open = Counter()  # open tags by name, so "is a <pre> open?" costs O(1), not a scan of the stack
        self.hiding = 0  # open elements that hide their content
        self.mains = 0  # open <main> (or role=main) elements
        self.out: list[_Piece] = []
        self.length = 0
        self.space = False
        self.breaks = 0
        self.removed = Removed()
        self.title_parts: list[str] = []
        self.heading: tuple[int, int] | None = None  # (level, index in out of its first word; -1 before it)
        self.heading_marks: list[tuple[int, int, int]] = []  # (level, first piece, end piece)
        self.links: list[bool] = []  # per open <a>: does it point inside the page ("#...")
        self.closing = False

    # -- tree bookkeeping -------------------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in HEAD_TAGS and self.stack and self.stack[-1][0] == "head":
            self._pop_to("head")
        if self.stack and self.stack[-1][0] == "p" and tag in _CLOSES_P:
            self._pop_to("p")
        if self.stack and self.stack[-1][0] in _CLOSES_SELF.get(tag, ()):
            self._pop_to(self.stack[-1][0])
        if tag in VOID_TAGS:
            if self._shown():
                self._block(tag)
            return
        hides = tag in SKIPPED_TAGS or is_hidden(attrs) or self._is_furniture(tag, attrs)
        is_main = tag == "main" or any(n == "role" and (v or "").strip().lower() == "main" for n, v in attrs)
        self.stack.append((tag, hides, is_main))
        self.open[tag] += 1
        self.hiding += hides
        self.mains += is_main
        if tag == "a":
            self.links.append(any(n == "href" and (v or "").startswith("#") for n, v in attrs))
        if self._shown():
            self._block(tag)
            if tag in HEADINGS and self.heading is None:
                self.heading = (HEADINGS[tag], -1)

    def _shown(self) -> bool:
        """Text here is shown: no hiding element is open and, on a page with a <main>, it is inside it."""
        return not self.hiding and (self.mains > 0 or not self.main_only)

    def _is_furniture(self, tag: str, attrs: list[tuple[str, str | None]]) -> bool:
        if tag in BOILERPLATE_TAGS or is_boilerplate(attrs):
            return True
        return tag in _SCOPED_BOILERPLATE and not any(self.open[t] for t in _SECTIONING)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._shown():
            self._block(tag)  # <div/> is not a container in HTML, but still breaks the line

    def handle_endtag(self, tag: str) -> None:
        if self.open[tag]:
            self._pop_to(tag)
        elif tag in ("br", "p") and self._shown():
            self._block(tag)  # </br> and a stray </p> act as breaks in browsers

    def _pop_to(self, tag: str) -> None:
        while self.stack:
            open_tag, hides, is_main = self.stack[-1]
            visible = self._shown()
            self.stack.pop()
            self.open[open_tag] -= 1
            self.hiding -= hides
            self.mains -= is_main
            if open_tag == "a" and self.links:
                self.links.pop()
            if visible:
                if open_tag in HEADINGS and self.heading is not None:
                    self._end_heading()
                self._block(open_tag)
            if open_tag == tag:
                return

    # -- text ---------------------------------------------------------------------------------------------
    def close(self) -> None:
        """At the end of input, drop an unclosed comment or tag: browsers never show it as text."""
        self.goahead(0)  # everything complete is handled first, so only the unparsed tail remains
        self.closing = True
        super().close()

    def parse_marked_section(self, i: int, report: int = 1) -> int:
        """A "<![" without a section name is a bogus comment up to ">", as in browsers, not an AssertionError."""
        try:
            return super().parse_marked_section(i, report)
        except AssertionError:
            return self.parse_bogus_comment(i, report)

    def handle_data(self, data: str) -> None:
        if self.closing:  # the unparsed tail: an unclosed comment or tag, starting at its "<"
            return
        if self.stack and self.stack[-1][0] == "title" and not self.open["body"]:
            self.title_parts.append(data)
            return
        if data.strip() and self.stack and self.stack[-1][0] == "head":
            self._pop_to("head")
        if not self._shown():
            return
        if self.links and self.links[-1] and data.strip() and not data.strip().strip(ANCHOR_CHARS):
            return  # a permalink mark ("#", "¶") beside a heading
        data, removed = clean(data)
        self.removed += removed
        if self.open["pre"] or self.open["textarea"]:
            for i, line in enumerate(data.split("\n")):
                if i:
                    self.breaks = min(self.breaks + 1, 2)
                self._emit(line)
            return
        words = data.split()
        if data[:1].isspace():
            self.space = True
        for i, word in enumerate(words):
            self.space = self.space or i > 0
            self._emit(word)
        if words and data[-1].isspace():
            self.space = True

    def _emit(self, word: str) -> None:
        if not word:
            return
        if self.length and self.breaks:
            sep = "\n" * self.breaks
        elif self.length and self.space:
            sep = " "
        else:
            sep = ""
        self.breaks, self.space = 0, False
        if self.heading is not None and self.heading[1] < 0:
            self.heading = (self.heading[0], len(self.out))
        self.out.append(_Piece(sep, word, bool(self.links)))
        self.length += len(sep) + len(word)

    def _block(self, tag: str) -> None:
        if tag == "br":
            self.breaks = min(self.breaks + 1, 2)
        elif tag in PARAGRAPH_TAGS:
            self.breaks = 2
        elif tag in LINE_TAGS or tag in ("td", "th"):
            self.breaks = max(self.breaks, 1)

    def _end_heading(self) -> None:
        level, first = self.heading
        self.heading = None
        if first >= 0:
            self.heading_marks.append((level, first, len(self.out)))


def is_link_bar(pieces: list[_Piece]) -> bool:
    """A line that is navigation, not content: mostly link text, not a sentence, with a navigation word or
    made of three or more links alone.

    Example: "Next: Closure Example, Previous: Types, Up: Using libffi [Index]" (links in the names) -> True
    """
    words = len(pieces)
    chars = sum(len(p.word) for p in pieces)
    linked = sum(len(p.word) for p in pieces if p.linked)
    runs = sum(1 for i, p in enumerate(pieces) if p.linked and (i == 0 or not pieces[i - 1].linked))
    if not chars or linked < 0.5 * chars or words > 40:
        return False
    text = " ".join(p.word for p in pieces)
    if text.endswith((".", "!", "?")):
        return False  # a sentence that happens to be made of links
    return bool(_NAV_WORDS.search(text)) or (linked >= 0.9 * chars and runs >= 3 and words <= 20)


def _assemble(pieces: list[_Piece], marks: list[tuple[int, int, int]]) -> tuple[str, tuple[tuple[int, str], ...]]:
    """Join the pieces into text without link-bar lines; headings become (offset, heading path) pairs."""
    in_heading = [False] * (len(pieces) + 1)
    for _, first, end in marks:
        for i in range(first, end):
            in_heading[i] = True
    keep = [True] * len(pieces)
    line_start = 0
    for i in range(1, len(pieces) + 1):
        if i == len(pieces) or "\n" in pieces[i].sep:
            line = pieces[line_start:i]
            if not any(in_heading[line_start:i]) and is_link_bar(line):
                keep[line_start:i] = [False] * (i - line_start)
            line_start = i
    parts: list[str] = []
    offsets = [0] * (len(pieces) + 1)  # where each piece's word starts in the text
    length = 0
    for i, piece in enumerate(pieces):
        if not keep[i]:
            offsets[i] = length
            continue
        sep = piece.sep if length else ""
        if sep and "\n" not in sep and not keep[i - 1]:
            sep = "\n"  # the rest of a line whose link bar was dropped starts a line of its own
        parts.append(sep + piece.word)
        offsets[i] = length + len(sep)
        length += len(sep) + len(piece.word)
    text = "".join(parts)
    headings, path = [], []
    for level, first, end in marks:
        kept = [j for j in range(first, end) if keep[j]]
        title = " ".join("".join((pieces[j].sep if j != kept[0] else "") + pieces[j].word for j in kept).split())
        title = title.rstrip(ANCHOR_CHARS + " ").strip()
        if not title:
            continue
        path = path[: level - 1] + [title]
        headings.append((offsets[first], " > ".join(path)))
    return text, tuple(headings)


def _extract(source: str, main_only: bool) -> HtmlText:
    parser = _Extractor(main_only)
    parser.feed(source)
    parser.close()
    while parser.stack:
        parser._pop_to(parser.stack[-1][0])
    title, removed = clean(" ".join(" ".join(parser.title_parts).split()))
    text, headings = _assemble(parser.out, parser.heading_marks)
    return HtmlText(text, title, headings, parser.removed + removed)


def html_text(source: str) -> HtmlText:
    """Main text of an HTML document, with heading paths like the Markdown loader ("Guide > Install").

    A page that marks its content with <main> (or role="main") is read from there alone, unless that is empty.
    """
    if _MAIN.search(source):
        page = _extract(source, main_only=True)
        if page.text.strip():
            return page
    return _extract(source, main_only=False)


def html_file_text(path: str) -> tuple[HtmlText, str]:
    """An HTML file's text and the encoding it was read in, extracted in a capped child process.

    Raises ValueError with the one-line reason when the file cannot be decoded, or the parser runs past
    TIMEOUT_S or MEMORY_BYTES.
    """
    from index.load.sandbox import run_capped

    result = run_capped("html", path, "HTML parser", TIMEOUT_S, MEMORY_BYTES)
    headings = tuple((int(offset), str(title)) for offset, title in result["headings"])
    page = HtmlText(str(result["text"]), str(result["title"]), headings, Removed(*result["removed"]))
    return page, str(result["encoding"])


def extract(path: str) -> dict:
    """The child process's side of html_file_text: decode, extract, and return it as JSON-ready values."""
    from index.load.loaders import decode_html

    try:
        source, encoding = decode_html(Path(path).read_bytes())
    except ValueError as exc:
        return {"ok": False, "reason": str(exc)}
    page = html_text(source)
    removed = [page.removed.hidden, page.removed.control, page.removed.surrogate]
    return {
        "ok": True,
        "text": page.text,
        "title": page.title,
        "headings": page.headings,
        "removed": removed,
        "encoding": encoding,
    }
