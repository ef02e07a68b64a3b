"""Pure HTML/Markdown rendering of answers, sources and documents for the chat UI.

Every piece of document text goes through `html.escape` here, so a document's `<script>` or
`<img onerror=...>` is shown as text and never run. Nothing here links to an external URL.
"""

from __future__ import annotations

import html
import re

from rag.answer import Answer, Citation, Passage

_MARKER = re.compile(r"\[(\d+)\]")


SCORE_LEGEND = (
    "Passages are ranked by a fused score that adds up each passage's places in several lists: "
    "dense (closest in meaning to the question), BM25 (shares the question's rarer words) and best sentence "
    "(its one sentence closest in meaning). Higher is better; a score only compares passages of one question."
)


def passage_href(turn: int, rank: int) -> str:
    """The in-page target of retrieved passage `rank` of the answer at chat message `turn`.

    Example: passage_href(3, 2) -> "#passage-3-2"
    """
    return f"#passage-{turn}-{rank}"


def mark_terms(text: str, matched: tuple[str, ...]) -> str:
    """Escaped text with each word whose stem was matched by the question wrapped in <mark class="term">.

    Example: mark_terms("Sessions <b>", ("session",)) -> '<mark class="term">Sessions</mark> &lt;b&gt;'
    """
    from index.text.lexical import _WORD, terms

    wanted = set(matched)
    if not wanted:
        return html.escape(text)
    parts, last = [], 0
    for m in _WORD.finditer(text):
        if wanted.intersection(terms(m.group())):
            parts.append(html.escape(text[last : m.start()]))
            parts.append(f'<mark class="term">{html.escape(m.group())}</mark>')
            last = m.end()
    parts.append(html.escape(text[last:]))
    return "".join(parts)


def cite_href(turn: int, n: int) -> str:
    """The in-page target of marker [n] of the answer at chat message `turn`.

    Example: cite_href(3, 1) -> "#cite-3-1"
    """
    return f"#cite-{turn}-{n}"


def literal(text: str) -> str:
    r"""Text as HTML that shows exactly that text, line breaks kept and no blank line inside.

    Inside an HTML block a Markdown renderer leaves the content alone, so `*`, `_`, `$` or `[2]` from a
    document stay as they are; markup is escaped. Example: literal("a *b*\n\n<i>") -> "a *b*<br><br>&lt;i&gt;"
    """
    text = re.sub("[\ud800-\udfff]", "\ufffd", text)  # a lone surrogate cannot be sent to the page as UTF-8
    return html.escape(text, quote=False).replace("\r\n", "\n").replace("\n", "<br>")


def chat_text(text: str, cls: str = "question") -> str:
    """A chat bubble holding plain text (a question, an error), shown literally."""
    return f'<div class="{cls}">{literal(text)}</div>'


def chat_message(answer: Answer, turn: int) -> str:
    """The chat bubble for an answer: literal text, each known [n] a link to its citation.

    Example: "Session II was chaired by Dr. A. [1]" at turn 1 -> '<div class="answer">Session II was
    chaired by Dr. A. <a class="cite-link" href="#cite-1-1" ...>[1]</a></div>'
    """
    known = {c.n for c in answer.citations}
    parts, last = [], 0
    for m in _MARKER.finditer(answer.answer):
        n = int(m.group(1))
        if n not in known:
            continue
        parts.append(literal(answer.answer[last : m.start()]))
        parts.append(f'<a class="cite-link" href="{cite_href(turn, n)}" title="show source [{n}]">[{n}]</a>')
        last = m.end()
    parts.append(literal(answer.answer[last:]))
    body = "".join(parts)
    if answer.abstained:
        body = f'<div class="abstained"><strong>Not in the documents.</strong> {body}</div>'
    standalone = answer.standalone_question
    if standalone and standalone != answer.question:
        body += f'<div class="standalone"><small>Understood as: {literal(standalone)}</small></div>'
    if answer.notice:  # why this answer is not the usual one: an older build, an LLM reply set aside
        body += f'<div class="notice" role="note"><strong>Note:</strong> {literal(answer.notice)}</div>'
    return f'<div class="answer">{body}</div>'


def _passage_for(citation: Citation, passages: tuple[Passage, ...]) -> Passage | None:
    return next(
        (
            p
            for p in passages
            if p.chunk.source == citation.source and p.chunk.start <= citation.start and citation.end <= p.chunk.end
        ),
        None,
    )


def _scores(passage: Passage) -> str:
    """The retrieval evidence behind a passage, folded in a <details> disclosure."""
    rows = [f"<tr><td>rank</td><td>{passage.rank}</td></tr>", f"<tr><td>fused</td><td>{passage.score:.4f}</td></tr>"]
    rows += [f"<tr><td>{html.escape(k)}</td><td>{v:.4f}</td></tr>" for k, v in sorted(passage.scores.items())]
    terms = ", ".join(html.escape(t) for t in passage.matched_terms) or "none"
    rows.append(f"<tr><td>matched terms</td><td>{terms}</td></tr>")
    return f'<details class="scores"><summary>raw scores</summary><table>{"".join(rows)}</table></details>'


def _meta(source: str, section: str, start: int, end: int, page: object = None) -> str:
    where = f"{html.escape(source)} § {html.escape(section)}"
    if page is not None:
        where += f" · page {html.escape(str(page))}"
    return f"{where} · chars {start}-{end}"


def sources_html(answer: Answer | None, turn: int = 0, active: int | None = None, token: str = "") -> str:
    """The sources panel for one answer: its citation cards, then every retrieved passage."""
    if answer is None:
        return citation_cards(None)
    return citation_cards(answer, turn, active, token) + "\n" + retrieved_html(answer.passages, turn)


def citation_cards(answer: Answer | None, turn: int = 0, active: int | None = None, token: str = "") -> str:
    """A card per citation with its passage, cited span highlighted.

    An abstention shows "Not in the documents" and the closest passages as related reading.
    `active` marks the card of the citation last clicked, which the page scrolls into view.
    """
    if answer is None:
        return '<div class="sources-empty">Ask a question: the sources of the answer appear here.</div>'
    if answer.abstained:
        cards = [
            '<div class="abstained"><strong>Not in the documents.</strong> '
            "The closest passages, as related reading:</div>"
        ]
        for p in answer.passages[:3]:
            c = p.chunk
            link = f'<a class="passage-link" href="{passage_href(turn, p.rank)}" title="open in the document">'
            cards.append(
                f'<div class="cite-card related"><div class="cite-meta">{link}'
                f"{_meta(c.source, c.section, c.start, c.end)}</a></div>"
                f'<div class="passage">{mark_terms(c.text.strip(), p.matched_terms)}</div>{_scores(p)}</div>'
            )
        return "\n".join(cards)
    cards = []
    for c in answer.citations:
        passage = _passage_for(c, answer.passages)
        if passage is None:
            body = f"<mark>{html.escape(c.text)}</mark>"
            scores = ""
        else:
            text, a, b = passage.chunk.text, c.start - passage.chunk.start, c.end - passage.chunk.start
            body = html.escape(text[:a]) + f"<mark>{html.escape(text[a:b])}</mark>" + html.escape(text[b:].rstrip())
            scores = _scores(passage)
        cls = f'cite-card active" data-token="{html.escape(token)}' if c.n == active else "cite-card"
        link = f'<a class="cite-link" href="{cite_href(turn, c.n)}" title="open in the document">[{c.n}]</a>'
        meta = f"{link} {_meta(c.source, c.section, c.start, c.end, getattr(c, 'page', None))}"
        cards.append(
            f'<div class="{cls}" id="cite-card-{c.n}"><div class="cite-meta">{meta}</div>'
            f'<div class="passage">{body}</div>{scores}</div>'
        )
    return "\n".join(cards)


def retrieved_html(passages: tuple[Passage, ...], turn: int = 0) -> str:
    """Every retrieved passage in rank order with its text, the question's words marked: what the answer was
    chosen from. Each opens in the document viewer; the scores are explained once, raw numbers folded."""
    items = "".join(
        f'<li class="retrieved-passage"><div class="cite-meta"><a class="passage-link" '
        f'href="{passage_href(turn, p.rank)}" title="open in the document">'
        f"{_meta(p.chunk.source, p.chunk.section, p.chunk.start, p.chunk.end)}</a> · score {p.score:.3f}</div>"
        f'<div class="passage">{mark_terms(p.chunk.text.strip(), p.matched_terms)}</div>{_scores(p)}</li>'
        for p in passages
    )
    return (
        f'<details class="retrieved" id="retrieved"><summary>{len(passages)} retrieved passages</summary>'
        f'<p class="score-legend">{html.escape(SCORE_LEGEND)}</p><ol class="retrieved-list">{items}</ol></details>'
    )


def document_html(source: str, text: str, start: int, end: int, token: str = "", kind: str = "citation") -> str:
    """The full document, escaped, with [start, end) highlighted; `token` tells the page to scroll to it anew,
    `kind` ("citation" or "passage") what to bring into view with it."""
    start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
    mark = f'<mark id="doc-mark" data-token="{html.escape(token)}" data-kind="{html.escape(kind)}">'
    body = html.escape(text[:start]) + mark + f"{html.escape(text[start:end])}</mark>" + html.escape(text[end:])
    head = f'<div class="doc-head">{html.escape(source)} · chars {start}-{end}</div>'
    return f'{head}<div class="doc-view" id="doc-view">{body}</div>'


def plain_document_html(source: str, text: str) -> str:
    """A whole document, escaped, with nothing highlighted (the Documents tab's viewer)."""
    return (
        f'<div class="doc-head">{html.escape(source)} · {len(text)} characters</div>'
        f'<div class="doc-view" id="documents-view-text">{html.escape(text)}</div>'
    )


# An absolute path of two parts or more, not inside a URL or a word ("http://a/b", "and/or", "6/31" are not one).
_SERVER_PATH = re.compile(r"(?<![\w.~:/-])(?:/[^\s/'\"`<>|;,()]+){2,}/?")


def public(message: str) -> str:
    """A message for someone using the app over the web, with every absolute server path cut to its last part:
    where the corpus, the index or a file sits on the server is none of their business, the name is enough.

    Example: public("corpus folder /srv/rag/corpus does not exist") -> "corpus folder …/corpus does not exist"
    """
    return _SERVER_PATH.sub(lambda m: "…/" + m.group().rstrip("/").rsplit("/", 1)[-1], message)


def error_html(message: str) -> str:
    return f'<div class="doc-error">{html.escape(public(message))}</div>'
