"""End to end in a real browser: Debian's chromium driven by Playwright against a live server.

The corpus is the report plus a document full of markup, indexed into a temporary folder. Every
test checks that no dialog opened (a run script would open one) and that the page requested nothing
but the server itself. Screenshots go to tests/artifacts/ (gitignored).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import REPORT, ROOT, files_under, run_rag, subprocess_env
from tests.test_ui import free_port

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
WAIT_MS = 90_000  # how long to wait for the server's answer before giving up (a limit, not an assertion)
MARKUP_DOC = (
    "Harbour visit notes\n\n"
    "The harbour visit in Reykjavik was led by Captain Maria Lindqvist <script>alert(1)</script> "
    "of the Icelandic Coast Guard.\n\n"
    'After the visit the delegation <img src=x onerror="alert(2)"> had dinner at the port.\n'
)


def copy_of_the_checkout(dest: Path) -> Path:
    """The project as a fresh clone has it (no .venv, .git, index/data, data/ or caches): a user's checkout."""
    skip = shutil.ignore_patterns(
        ".git", ".venv", "data", "artifacts", "reports", ".*cache", "__pycache__", "*.egg-info"
    )
    shutil.copytree(ROOT, dest, ignore=skip)
    return dest


@pytest.fixture(scope="module")
def server(tmp_path_factory, embedder):
    """A live app over the report and a document full of markup, with its own index, served as `make serve` serves
    a checkout: from a copy of the project, its corpus/ and index/data/main. Uploads land in that copy."""
    from index.storage.build import ingest
    from rag.assistant import Assistant
    from ui.app import serve

    root = tmp_path_factory.mktemp("browser")
    checkout = copy_of_the_checkout(root / "checkout")
    corpus, index = checkout / "corpus", checkout / "index" / "data" / "main"
    shutil.rmtree(corpus)  # only these two documents, whatever the real checkout's corpus/ holds
    corpus.mkdir()
    shutil.copy(REPORT, corpus / REPORT.name)
    (corpus / "harbour-notes.txt").write_text(MARKUP_DOC, encoding="utf-8")
    ingest(corpus, index, embedder=embedder, progress=False, log=lambda _: None)
    assistant = Assistant(corpus, index, embedder=embedder, log=lambda _: None)
    votes = root / "feedback.jsonl"
    app, url = serve(assistant, port=free_port(), feedback_path=votes, prevent_thread_lock=True)
    yield SimpleNamespace(url=url, votes=votes, checkout=checkout)
    app.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Watched:
    """A page, the dialogs it opened and every URL it requested."""

    def __init__(self, page, origin: str) -> None:
        self.page, self.origin = page, origin.rstrip("/")
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("request", lambda r: self.requests.append(r.url))

    def external(self) -> list[str]:
        return [u for u in self.requests if not u.startswith((self.origin + "/", "data:", "blob:"))]


DESKTOP, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}
# the README's two screenshots, taken by test_tapping_a_citation_brings_its_source_and_span_into_view
README_SHOTS = {"desktop": ROOT / "docs" / "screenshot.png", "phone": ROOT / "docs" / "screenshot-phone.png"}


@contextlib.contextmanager
def opened(server, browser, viewport=DESKTOP):
    """A fresh browser profile (no kept chat) on the app at one screen size, watched for dialogs and requests."""
    context = browser.new_context(viewport=viewport, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    watched = Watched(page, server.url)
    page.goto(server.url)
    page.locator("#question textarea").wait_for()
    yield watched
    assert watched.dialogs == [], "a document's markup ran as script (or the page asked a question in a dialog)"
    assert watched.external() == [], "the page loaded something from outside the server"
    context.close()


@pytest.fixture
def ui(server, browser):
    with opened(server, browser) as watched:
        yield watched


@pytest.fixture(params=[DESKTOP, PHONE], ids=["desktop", "phone"])
def sized(request, server, browser):
    with opened(server, browser, request.param) as watched:
        watched.name = request.node.callspec.id
        yield watched


def ask(page, question: str) -> None:
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.wait_for_function("!document.querySelector('.pending')")  # gradio dims what is still updating
    page.screenshot(path=str(path), animations="disabled")
    return path


def hidden(page, selector: str) -> None:
    """Wait until nothing matching `selector` shows: gradio gives a group's id to two nested elements."""
    page.wait_for_function(
        "s => [...document.querySelectorAll(s)].every(e => !e.getClientRects().length)", arg=selector
    )


def in_view(page, inner: str, outer: str) -> bool:
    """The element `inner` starts inside the visible part of its scrolling box `outer`."""
    return page.evaluate(
        """([inner, outer]) => {
            const box = document.querySelector(outer), el = document.querySelector(inner);
            if (!box || !el) return false;
            const b = box.getBoundingClientRect(), e = el.getBoundingClientRect();
            return e.top >= b.top && e.top < b.bottom;
        }""",
        [inner, outer],
    )


def test_answer_with_highlighted_citation_opens_the_document_at_the_span(ui):
    page = ui.page
    ask(page, "Who delivered the closing remarks?")
    link = page.locator("#chat a.cite-link").first
    link.wait_for()
    answer = page.locator("#chat .message-content").last.inner_text()
    assert "[1]" in answer and "CHOI Mee Young" in answer + page.locator("#sources").inner_text()
    cited = page.locator("#sources .cite-card mark").first
    cited.wait_for()
    assert cited.inner_text().strip() in REPORT.read_text(encoding="utf-8")
    shot(page, "answer.png")

    link = page.locator("#chat a.cite-link").last  # the last citation: its card and span are furthest down
    n = link.inner_text().strip("[]")
    link.click()
    mark = page.locator("#document #doc-mark")
    mark.wait_for()
    card = page.locator("#sources .cite-card.active")
    assert card.count() == 1 and card.get_attribute("id") == f"cite-card-{n}"
    assert mark.inner_text() == card.locator("mark").inner_text()
    # the cited span is far down the report: the viewer must have scrolled to bring it into view
    assert page.evaluate(
        "document.getElementById('doc-mark').offsetTop > document.getElementById('doc-view').clientHeight"
    )
    page.wait_for_function("document.getElementById('doc-view').scrollTop > 0")
    assert in_view(page, "#doc-mark", "#doc-view")
    assert in_view(page, "#sources .cite-card.active", "#sources-scroll")
    shot(page, "document-viewer.png")


def test_document_markup_is_shown_as_text_and_never_run(ui):
    page = ui.page
    ask(page, "Who led the harbour visit in Reykjavik?")
    page.locator("#chat a.cite-link").first.wait_for()
    assert "<script>alert(1)</script>" in page.locator("#chat .message-content").last.inner_text()
    assert "<script>alert(1)</script>" in page.locator("#sources").inner_text()
    page.locator("#sources a.cite-link").first.click()  # the sources panel's [n] opens the document too
    page.locator("#document #doc-mark").wait_for()
    text = page.locator("#doc-view").inner_text()
    assert "<script>alert(1)</script>" in text and '<img src=x onerror="alert(2)">' in text
    for panel in ("#chat", "#sources", "#document"):
        assert page.locator(f"{panel} script").count() == 0 and page.locator(f"{panel} img").count() == 0
    shot(page, "markup-as-text.png")


def test_abstention_is_shown_as_such_and_new_chat_empties_everything(ui):
    page = ui.page
    ask(page, "What is the population of Tokyo?")
    abstained = page.locator("#chat .abstained")
    abstained.wait_for()
    assert "Not in the documents" in abstained.inner_text()
    assert "related reading" in page.locator("#sources").inner_text()
    assert page.locator("#sources .cite-card.related").count() >= 1
    shot(page, "abstention.png")
    page.get_by_role("button", name="New chat").click()
    page.locator("#chat .message-content").first.wait_for(state="detached")
    assert "Ask a question" in page.locator("#sources").inner_text()


def test_settings_change_the_number_of_passages_and_the_retriever(ui):
    page = ui.page
    page.get_by_text("Settings").click()
    slider = page.locator("#k input[type=number]")
    slider.fill("2")
    slider.press("Enter")
    page.locator("#mode").get_by_label("bm25").check()
    ask(page, "Who chaired Session II?")
    page.locator("#chat a.cite-link").first.wait_for()
    assert "2 retrieved passages" in page.locator("#sources details.retrieved > summary").inner_text()
    scores = page.locator("#sources details.scores").first
    scores.locator("summary").click()
    table = scores.inner_text()
    assert "bm25" in table and "dense" not in table


def on_screen(page, selector: str) -> bool:
    """The element is at least partly inside the browser window (the page itself may have scrolled)."""
    return page.evaluate(
        """(sel) => {
            const el = document.querySelector(sel);
            if (!el) return false;
            const r = el.getBoundingClientRect();
            return r.bottom > 0 && r.top < window.innerHeight && r.height > 0;
        }""",
        selector,
    )


def in_window(page, selector: str) -> None:
    """Wait until the last element matching `selector` starts inside the browser window: what the page does after a
    tap (scrolling to a message, say) has happened. WAIT_MS is the limit; nothing here measures time."""
    page.wait_for_function(
        """(sel) => {
            const all = document.querySelectorAll(sel), el = all[all.length - 1];
            if (!el) return false;
            const r = el.getBoundingClientRect();
            return r.height > 0 && r.top >= 0 && r.top < window.innerHeight;
        }""",
        arg=selector,
    )


def fits_the_width(page) -> bool:
    """Nothing makes the page wider than the window: there is no sideways scrolling of the whole page."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_tapping_a_citation_brings_its_source_and_span_into_view(sized):
    page = sized.page
    ask(page, "Who delivered the closing remarks?")
    page.locator("#chat a.cite-link").first.wait_for()
    link = page.locator("#chat a.cite-link").last
    n = link.inner_text().strip("[]")
    link.click()
    page.locator("#document #doc-mark").wait_for()
    page.wait_for_function(
        """() => {
            const inWindow = (el) => { if (!el) return false; const r = el.getBoundingClientRect();
                                       return r.top >= 0 && r.bottom <= window.innerHeight + 1; };
            return inWindow(document.querySelector("#sources .cite-card.active")) &&
                   inWindow(document.getElementById("doc-mark"));
        }"""
    )  # a wait for the page's scrolling, with WAIT_MS as its limit; the checks follow
    assert page.locator("#sources .cite-card.active").get_attribute("id") == f"cite-card-{n}"
    assert in_view(page, "#doc-mark", "#doc-view") and in_view(page, "#sources .cite-card.active", "#sources-scroll")
    if sized.name == "desktop":  # side by side: the chat stays where it was
        assert on_screen(page, "#question") and on_screen(page, "#chat a.cite-link")
    else:  # stacked: the page moved down to the sources
        assert page.evaluate("window.scrollY") > 0
    taken = shot(page, f"citation-{sized.name}.png")
    readme = README_SHOTS[sized.name]
    assert f"]({readme.relative_to(ROOT).as_posix()})" in (ROOT / "README.md").read_text(encoding="utf-8")
    if os.environ.get("RAG_README_SHOTS") == "1":  # retake the README's screenshots (not on every run: a diff)
        shutil.copy(taken, readme)


def test_retrieved_passages_are_readable_and_open_in_the_document_viewer(sized):
    from index.text.lexical import terms

    page = sized.page
    question = "Who chaired Session II?"
    ask(page, question)
    page.locator("#chat a.cite-link").first.wait_for()
    page.locator("#sources details.retrieved > summary").click()
    legend = page.locator("#sources .score-legend")
    assert legend.is_visible() and "dense" in legend.inner_text() and "BM25" in legend.inner_text()
    first = page.locator("#sources li.retrieved-passage").first
    marked = first.locator(".passage mark.term").all_inner_texts()  # the question's words, marked in the text
    assert marked and all(set(terms(question)) & set(terms(word)) for word in marked), marked
    assert len(first.locator(".passage").inner_text()) > 80  # the text itself, not only where it is
    raw = first.locator("details.scores table")
    assert not raw.is_visible()
    first.locator("details.scores > summary").click()
    assert raw.is_visible() and "fused" in raw.inner_text()
    first.locator("a.passage-link").click()
    mark = page.locator("#document #doc-mark[data-kind=passage]")
    mark.wait_for()
    assert (
        mark.inner_text().strip() in first.locator(".passage").inner_text()
        or first.locator(".passage").inner_text().strip() in mark.inner_text()
    )
    page.wait_for_function(
        "() => { const r = document.getElementById('doc-mark').getBoundingClientRect();"
        " return r.top >= 0 && r.top < window.innerHeight; }"
    )
    shot(page, f"passages-{sized.name}.png")


def last_column_reachable(page) -> bool:
    """The documents table's last column ("indexed at") is in the window, or a finger can swipe it there: the table
    sits in a box that scrolls sideways (a box that clips, overflow hidden, would cut it off for good)."""
    return page.evaluate(
        """() => {
            const table = document.getElementById("documents-table");
            const text = document.createRange();
            text.selectNodeContents(table.querySelector("tr:nth-child(2) td:nth-child(5)"));
            const inside = () => { const r = text.getBoundingClientRect();
                                   return r.left >= 0 && r.right <= window.innerWidth; };
            if (inside()) return true;
            let box = table.parentElement;
            while (box && !["auto", "scroll"].includes(getComputedStyle(box).overflowX)) box = box.parentElement;
            if (!box) return false;
            box.scrollLeft = box.scrollWidth;
            return inside();
        }"""
    )


def test_documents_tab_adds_several_refuses_duplicates_confirms_removal_and_undoes_it(sized, server, tmp_path):
    """Every message and the document read appear in the window at both sizes (on a phone they sit below the
    buttons tapped); the table's last column can be scrolled to inside its own box. A copy of a document is refused
    whether its bytes are the same or only its text (another format); a removed document waits in corpus/.trash/."""
    page = sized.page
    notes = tmp_path / "Lighthouse notes.md"
    notes.write_text(
        "# Lighthouse notes\n\nThe Skerry lighthouse is kept by Ingrid Solberg, who rows out every Monday.\n",
        encoding="utf-8",
    )
    ferry = tmp_path / "ferry.txt"
    ferry.write_text("Ferry timetable\n\nThe ferry to Grimsey leaves at nine every morning.\n", encoding="utf-8")
    twin = tmp_path / "twin.txt"
    twin.write_text(MARKUP_DOC, encoding="utf-8")  # the same bytes as harbour-notes.txt
    ferry_page = tmp_path / "ferry.html"  # the same text as ferry.txt, in this same batch, as a web page
    ferry_page.write_text(
        "<!doctype html><html><body><h1>Ferry timetable</h1>\n"
        "<p>The ferry to Grimsey leaves at nine every morning.</p></body></html>",
        encoding="utf-8",
    )
    corpus = server.checkout / "corpus"
    page.get_by_role("tab", name="Documents").click()
    table = page.locator("#documents-table")
    table.wait_for()
    status = page.locator("#documents-status")
    report_row = page.locator("#documents-table tr", has_text=REPORT.name)
    indexed_at = report_row.locator("td").nth(4).inner_text()
    assert fits_the_width(page) and last_column_reachable(page)
    accept = page.locator("#upload input[type=file]").get_attribute("accept") or ""
    assert {".txt", ".md", ".html", ".htm", ".pdf", ".docx"} <= {a.strip() for a in accept.split(",")}

    page.locator("#remove-document").click()
    status.get_by_text("Select a document to remove.").wait_for()
    in_window(page, "#documents-status .doc-error")
    assert not page.locator("#confirm-remove").is_visible()
    page.locator("#add-document").click()
    status.get_by_text("Choose one or more files first (.txt, .md, .html, .htm, .pdf or .docx).").wait_for()
    in_window(page, "#documents-status .doc-error")

    page.locator("#upload input[type=file]").set_input_files([str(notes), str(ferry), str(twin), str(ferry_page)])
    for name in ("Lighthouse notes.md", "ferry.txt", "twin.txt", "ferry.html"):  # uploaded: listed in the picker
        page.locator(f'#upload td.filename[aria-label="{name}"]').wait_for()
    page.locator("#add-document").click()
    status.locator(".doc-ok").wait_for()
    in_window(page, "#documents-status .doc-ok, #documents-status .doc-error")  # the outcome, without scrolling
    page.locator("#upload td.filename").first.wait_for(state="detached")  # the picker is empty for the next files
    assert "Added Lighthouse-notes.md, ferry.txt" in status.inner_text()
    assert "twin.txt is already in the corpus as harbour-notes.txt" in status.inner_text()
    assert "ferry.html is already indexed as ferry.txt" in status.inner_text()
    assert not (corpus / "twin.txt").exists() and not (corpus / "ferry.html").exists()
    assert "Lighthouse-notes.md" in table.inner_text() and "ferry.txt" in table.inner_text()
    assert report_row.locator("td").nth(4).inner_text() == indexed_at  # unchanged document, same "indexed at"
    assert fits_the_width(page)
    shot(page, f"documents-{sized.name}.png")

    page.get_by_role("tab", name="Chat").click()
    ask(page, "Who keeps the Skerry lighthouse?")
    page.locator("#chat a.cite-link").first.wait_for()
    assert "Ingrid Solberg" in page.locator("#chat .message-content").last.inner_text()
    assert "Lighthouse-notes.md" in page.locator("#sources").inner_text()

    page.get_by_role("tab", name="Documents").click()
    page.locator("#remove-choice input").click()
    page.get_by_role("option", name="Lighthouse-notes.md").click()
    page.locator("#view-document").click()
    page.locator("#documents-viewer").get_by_text("rows out every Monday").wait_for()
    in_window(page, "#documents-view-text")
    page.locator("#remove-document").click()
    confirm = page.locator("#confirm-remove")
    confirm.get_by_text("Lighthouse-notes.md").wait_for()
    in_window(page, "#confirm-remove-yes")
    page.locator("#confirm-remove-no").click()
    hidden(page, "#confirm-remove")
    assert "Lighthouse-notes.md" in table.inner_text()  # cancelled: nothing removed
    page.locator("#remove-document").click()
    page.locator("#confirm-remove-yes").click()
    status.locator(".doc-ok", has_text="Removed Lighthouse-notes.md").wait_for()
    in_window(page, "#documents-status .doc-ok")
    assert "Lighthouse-notes.md" not in table.inner_text()
    assert (corpus / ".trash" / "Lighthouse-notes.md").is_file() and not (corpus / "Lighthouse-notes.md").exists()
    undo = page.locator("#undo-remove")
    assert "Lighthouse-notes.md" in undo.inner_text()
    undo.click()
    status.locator(".doc-ok", has_text="Restored Lighthouse-notes.md").wait_for()
    in_window(page, "#documents-status .doc-ok")
    assert "Lighthouse-notes.md" in table.inner_text() and (corpus / "Lighthouse-notes.md").is_file()
    for name in ("Lighthouse-notes.md", "ferry.txt"):  # leave the corpus as the other tests expect it
        page.locator("#remove-choice input").click()
        page.get_by_role("option", name=name).click()
        page.locator("#remove-document").click()
        page.locator("#confirm-remove-yes").click()
        status.locator(".doc-ok", has_text=f"Removed {name}").wait_for()


def test_search_scope_limits_the_next_questions_to_the_chosen_documents(sized):
    """Picking the scope scrolls the page down to "Search in" (on a phone, and below the fold on a desktop too);
    the answer that follows, in the chat above the question box, is brought into the window."""
    page = sized.page
    page.locator("#scope input").click()
    page.get_by_role("option", name=REPORT.name).click()
    page.keyboard.press("Escape")
    assert REPORT.name in page.locator("#scope").inner_text()
    # the question box at the top of the window, the chat above it out of sight, as after scrolling back up to it
    page.evaluate("document.getElementById('question').scrollIntoView({block: 'start', behavior: 'instant'})")
    ask(page, "Who led the harbour visit in Reykjavik?")
    page.locator("#chat .message-content").nth(1).wait_for()
    page.wait_for_function("!document.querySelector('.pending')")
    in_window(page, "#chat .message-content")
    assert "harbour-notes.txt" not in page.locator("#sources").inner_text()
    assert "Maria Lindqvist" not in page.locator("#chat").inner_text()
    ask(page, "Where did the delegation have dinner after the harbour visit?")  # the scope holds for the next one
    page.locator("#chat .message-content").nth(3).wait_for()
    page.wait_for_function("!document.querySelector('.pending')")
    assert REPORT.name in page.locator("#scope").inner_text()
    metas = page.locator("#sources .cite-meta").all_text_contents()  # cited, related, retrieved (folded)
    assert metas and all(REPORT.name in meta and "harbour-notes.txt" not in meta for meta in metas)
    assert "had dinner at the port" not in page.locator("#chat").inner_text()


def shown(page, selector: str) -> tuple[float, float]:
    """Where the part of the last element matching `selector` that a user sees starts, and how many pixels of it
    show: its box cut by every box around it that scrolls or clips (the chat scrolls inside its own box) and by the
    browser window (the top is where that part starts, whether in the window or not)."""
    return tuple(
        page.evaluate(
            """(sel) => {
            const all = document.querySelectorAll(sel), el = all[all.length - 1];
            if (!el) return [0, 0];
            let {top, bottom} = el.getBoundingClientRect();
            for (let box = el.parentElement; box; box = box.parentElement) {
                if (getComputedStyle(box).overflowY === "visible") continue;
                const r = box.getBoundingClientRect();
                top = Math.max(top, r.top); bottom = Math.min(bottom, r.bottom);
            }
            return [top, Math.max(0, Math.min(bottom, window.innerHeight) - Math.max(top, 0))];
        }""",
            selector,
        )
    )


LONG_CONVERSATION = [
    "What are the four strategic actions of the 1-3-4 framework?",
    "Who chaired Session II?",
    "Which AI tools did Ms. BAYARMAA's institute use in teaching?",
    "Who delivered the closing remarks?",
]


def test_each_answer_of_a_long_conversation_shows_without_the_page_jumping(sized):
    """The chat scrolls inside its own box: an answer's start that the box keeps out of sight is the box's to show,
    not a reason to move the page further. With the page swiped a little down (the chat box's top edge 40 px above
    the window, the question box in it) every answer shows from the top of the window or lower, and the page moves
    up by no more than what hid the chat box's top edge; with the chat out of sight above the question box, the page
    brings the answer into the window. The question box stays in the window throughout."""
    page = sized.page
    hidden_edge, margin = 40, 10  # how far the chat box's top is swiped above the window; the page's own margin
    for i, question in enumerate(LONG_CONVERSATION):
        page.evaluate(
            "(edge) => window.scrollTo({top: window.scrollY + document.getElementById('chat').getBoundingClientRect()"
            ".top + edge, behavior: 'instant'})",
            hidden_edge,
        )
        where = page.evaluate("window.scrollY")
        ask(page, question)
        page.locator("#chat .message-content").nth(2 * i + 1).wait_for()
        page.wait_for_function("!document.querySelector('.pending')")
        top, height = shown(page, "#chat .message-content")
        assert height > 0 and top >= 0, f"answer {i + 1} starts out of sight"
        assert on_screen(page, "#question textarea"), f"after answer {i + 1} the question box is out of sight"
        moved = where - page.evaluate("window.scrollY")
        assert moved <= hidden_edge + margin, f"answer {i + 1}: the page jumped {moved} px up"
    overflowing = page.evaluate(
        """() => { const m = document.querySelector("#chat .message-content"); let b = m.parentElement;
                   while (b && !["auto", "scroll"].includes(getComputedStyle(b).overflowY)) b = b.parentElement;
                   return b !== null && b.scrollHeight > b.clientHeight; }"""
    )
    assert overflowing, "the conversation never outgrew the chat box: this test could not see a jump"
    for i, question in enumerate(LONG_CONVERSATION[:2], start=len(LONG_CONVERSATION)):
        page.evaluate("document.getElementById('question').scrollIntoView({block: 'start', behavior: 'instant'})")
        if sized.name == "phone":  # a desktop page is too short to scroll the chat away
            assert shown(page, "#chat .message-content")[1] == 0
        ask(page, question)
        page.locator("#chat .message-content").nth(2 * i + 1).wait_for()
        page.wait_for_function("!document.querySelector('.pending')")
        assert shown(page, "#chat .message-content")[1] > 0, f"answer {i + 1} is out of sight"
        assert on_screen(page, "#question textarea"), f"after answer {i + 1} the question box is out of sight"
    assert fits_the_width(page)


def test_a_conversation_survives_a_reload_exports_as_markdown_and_new_chat_clears_it(sized):
    """Two answers come back after a reload and both go to the export, each with its citations and their spans."""
    page = sized.page
    questions = ["Who chaired Session II?", "Who delivered the closing remarks?"]
    for i, question in enumerate(questions):
        ask(page, question)
        page.locator("#chat .message-content").nth(2 * i + 1).wait_for()
        page.wait_for_function("!document.querySelector('.pending')")
    before = page.locator("#chat").inner_text()
    page.reload()
    page.locator("#chat a.cite-link").first.wait_for()  # back from the browser's storage
    assert page.locator("#chat .message-content").count() == 4 and page.locator("#chat").inner_text() == before
    assert "ARIUNAA Enkhtur" in page.locator("#chat").inner_text()
    page.locator("#chat .message-content").nth(1).click()  # the first answer's sources, as before the reload
    page.locator("#sources", has_text="ARIUNAA Enkhtur").wait_for()
    page.locator("#chat a.cite-link").first.click()  # the restored chat still opens its citations
    page.locator("#document #doc-mark").wait_for()
    page.locator("#export-chat").click()
    link = page.locator('#export-file a[download="conversation.md"]')
    link.wait_for()
    in_window(page, '#export-file a[download="conversation.md"]')
    with page.expect_download() as download:
        link.click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith("# Conversation") and "ARIUNAA Enkhtur" in text
    report = REPORT.read_text(encoding="utf-8")
    sections = text.split("\n## ")[1:]
    assert [section.splitlines()[0] for section in sections] == questions
    for section in sections:  # every answer with its citations, each naming a span of the report
        spans = re.findall(rf"^- \[\d+\] {re.escape(REPORT.name)} § .+, chars (\d+)-(\d+)$", section, re.M)
        assert spans, section
        assert all(0 <= int(a) < int(b) <= len(report) for a, b in spans)
    page.locator("#new-chat").click()
    page.locator("#chat .message-content").first.wait_for(state="detached")
    page.wait_for_function("!document.querySelector('.pending')")
    page.reload()
    page.locator("#question textarea").wait_for()
    page.wait_for_function("!document.querySelector('.pending')")
    assert page.locator("#chat .message-content").count() == 0


def test_a_thumbs_up_or_down_with_a_comment_is_saved_for_that_answer_and_exported(sized, server):
    """The vote is confirmed where the user is looking (a notice over the page), not only in the Feedback panel,
    which sits folded below the chat and off-screen on a phone. A thumbs-down and its comment reach the export the
    panel names (`rag feedback export --votes down`)."""
    page = sized.page
    ask(page, "Who chaired Session II?")
    page.locator("#chat a.cite-link").first.wait_for()
    page.get_by_text("Feedback", exact=True).click()
    said = f"Exactly what the report says ({sized.name})."
    page.locator("#feedback-comment textarea").fill(said)
    page.locator("#chat button[aria-label='Like']").last.click()
    page.locator("#feedback-status .doc-ok").wait_for()
    page.locator(".toast-item", has_text="saved for").wait_for()
    in_window(page, ".toast-item")
    assert "rag feedback export --votes all" in page.locator("#feedback-help").inner_text()
    votes = [json.loads(line) for line in server.votes.read_text(encoding="utf-8").splitlines()]
    vote = next(v for v in votes if v["comment"] == said)
    assert vote["vote"] == "up" and vote["question"] == "Who chaired Session II?"
    assert vote["citations"] and "ARIUNAA Enkhtur" in vote["answer"]

    ask(page, "Who delivered the closing remarks?")
    page.locator("#chat .message-content").nth(3).wait_for()
    page.wait_for_function("!document.querySelector('.pending')")
    complaint = f"The remarks were cut short ({sized.name})."
    page.locator("#feedback-comment textarea").fill(complaint)
    page.locator("#chat button[aria-label='Dislike']").last.click()
    page.locator(".toast-item", has_text="👎 saved for").wait_for()
    exported = run_rag("feedback", "export", "--feedback", str(server.votes), "--votes", "down", timeout=60)
    assert exported.returncode == 0, exported.stderr
    (down,) = [v for v in map(json.loads, exported.stdout.splitlines()) if v["comment"] == complaint]
    assert down["vote"] == "down" and down["question"] == "Who delivered the closing remarks?" and down["citations"]
    assert said not in exported.stdout  # the thumbs-up stays out of a --votes down export


def test_documents_uploaded_through_the_ui_change_nothing_the_tests_see(sized, server, tmp_path):
    """Unrelated documents added through the Documents tab land in the served checkout's corpus/ (and its index in
    index/data); the tests run in that checkout still pass (the quality gate reads the report alone), and they
    leave its corpus/ and index/data as they were. The real checkout's folders are guarded by conftest."""
    page = sized.page
    name = f"recipes-{sized.name}.md"  # one per screen size: the second would be refused as a copy of the first
    unrelated = tmp_path / name
    unrelated.write_text(
        f"# Recipes\n\nRye bread wants a long, cool proof and a very hot oven ({sized.name} edition).\n",
        encoding="utf-8",
    )
    page.get_by_role("tab", name="Documents").click()
    page.locator("#upload input[type=file]").set_input_files([str(unrelated)])
    page.locator(f'#upload td.filename[aria-label="{name}"]').wait_for()
    page.locator("#add-document").click()
    page.locator("#documents-status .doc-ok", has_text=f"Added {name}").wait_for()
    assert (server.checkout / "corpus" / name).is_file()
    users = files_under(server.checkout)
    assert any(name.startswith("index/data/main/") for name in users)

    env = subprocess_env()
    env["PYTHONPATH"] = os.pathsep.join([str(server.checkout / "tests" / "netguard"), str(server.checkout)])
    wanted = ["tests/test_eval_harness.py::test_quality_gate_on_the_report", "tests/test_gold.py"]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", *wanted, "-q", "-p", "no:cacheprovider"],
        cwd=server.checkout, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and "failed" not in run.stdout
    assert files_under(server.checkout) == users  # the tests left the checkout's documents and index alone
