"""HTML -> the text a reader sees: body text with headings, never script, style, comments or hidden elements.

Built on the standard library's tolerant html.parser; block elements become line breaks so sentences and
paragraphs survive, inline elements do not break a sentence. Unclosed or misnested tags err on the side of
dropping text inside a hidden element rather than leaking it.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

from index.cleaning import Removed, clean

# Content that is never shown as text: code, styles, inert templates, fallbacks, embedded documents, metadata.
SKIPPED_TAGS = frozenset("script style template noscript iframe object embed svg math head canvas".split())
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


class _Extractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []  # (tag, hides its content)
        self.out: list[str] = []
        self.length = 0
        self.space = False
        self.breaks = 0
        self.removed = Removed()
        self.title_parts: list[str] = []
        self.heading: tuple[int, int, int] | None = None  # (level, offset of its first character, index in out)
        self.path: list[str] = []
        self.headings: list[tuple[int, str]] = []
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
            if not self._hidden():
                self._block(tag)
            return
        hides = tag in SKIPPED_TAGS or is_hidden(attrs)
        self.stack.append((tag, hides))
        if not self._hidden():
            self._block(tag)
            if tag in HEADINGS and self.heading is None:
                self.heading = (HEADINGS[tag], -1, -1)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self._hidden():
            self._block(tag)  # <div/> is not a container in HTML, but still breaks the line

    def handle_endtag(self, tag: str) -> None:
        if any(open_tag == tag for open_tag, _ in self.stack):
            self._pop_to(tag)
        elif tag in ("br", "p") and not self._hidden():
            self._block(tag)  # </br> and a stray </p> act as breaks in browsers

    def _pop_to(self, tag: str) -> None:
        while self.stack:
            open_tag, _ = self.stack[-1]
            visible = not self._hidden()
            self.stack.pop()
            if visible:
                if open_tag in HEADINGS and self.heading is not None:
                    self._end_heading()
                self._block(open_tag)
            if open_tag == tag:
                return

    def _hidden(self) -> bool:
        return any(hides for _, hides in self.stack)

    # -- text ---------------------------------------------------------------------------------------------
    def close(self) -> None:
        """At the end of input, drop an unclosed comment or tag: browsers never show it as text."""
        self.goahead(0)  # everything complete is handled first, so only the unparsed tail remains
        self.closing = True
        super().close()

    def handle_data(self, data: str) -> None:
        if self.closing:  # the unparsed tail: an unclosed comment or tag, starting at its "<"
            return
        if self.stack and self.stack[-1][0] == "title" and not any(t == "body" for t, _ in self.stack):
            self.title_parts.append(data)
            return
        if data.strip() and self.stack and self.stack[-1][0] == "head":
            self._pop_to("head")
        if self._hidden():
            return
        data, removed = clean(data)
        self.removed += removed
        if any(t in ("pre", "textarea") for t, _ in self.stack):
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
        elif self.length and self.space and not self.out[-1].endswith("\n"):
            sep = " "
        else:
            sep = ""
        self.breaks, self.space = 0, False
        if self.heading is not None and self.heading[1] < 0:
            self.heading = (self.heading[0], self.length + len(sep), len(self.out))
        self.out.append(sep + word)
        self.length += len(sep) + len(word)

    def _block(self, tag: str) -> None:
        if tag == "br":
            self.breaks = min(self.breaks + 1, 2)
        elif tag in PARAGRAPH_TAGS:
            self.breaks = 2
        elif tag in LINE_TAGS or tag in ("td", "th"):
            self.breaks = max(self.breaks, 1)

    def _end_heading(self) -> None:
        level, start, index = self.heading
        self.heading = None
        if start < 0:
            return
        title = " ".join("".join(self.out[index:]).split())
        self.path = self.path[: level - 1] + [title]
        self.headings.append((start, " > ".join(self.path)))


def html_text(source: str) -> HtmlText:
    """Visible text of an HTML document, with heading paths like the Markdown loader ("Guide > Install")."""
    parser = _Extractor()
    parser.feed(source)
    parser.close()
    while parser.stack:
        parser._pop_to(parser.stack[-1][0])
    title, removed = clean(" ".join(" ".join(parser.title_parts).split()))
    return HtmlText("".join(parser.out), title, tuple(parser.headings), parser.removed + removed)
