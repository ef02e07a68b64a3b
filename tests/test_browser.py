"""End to end in a real browser: Debian's chromium driven by Playwright against a live server.

The corpus is the report plus a document full of markup, indexed into a temporary folder. Every
test checks that no dialog opened (a run script would open one) and that the page requested nothing
but the server itself. Screenshots go to tests/artifacts/ (gitignored).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import REPORT
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


@pytest.fixture(scope="module")
def server(tmp_path_factory, embedder):
    """A live app over the report and a document full of markup, with its own index."""
    from index.build import ingest
    from rag.assistant import Assistant
    from ui.app import serve

    root = tmp_path_factory.mktemp("browser")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(REPORT, corpus / REPORT.name)
    (corpus / "harbour-notes.txt").write_text(MARKUP_DOC, encoding="utf-8")
    ingest(corpus, root / "index", embedder=embedder, progress=False, log=lambda _: None)
    assistant = Assistant(corpus, root / "index", embedder=embedder, log=lambda _: None)
    votes = root / "feedback.jsonl"
    app, url = serve(assistant, port=free_port(), feedback_path=votes, prevent_thread_lock=True)
    yield SimpleNamespace(url=url, votes=votes)
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


@pytest.fixture
def ui(server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    watched = Watched(page, server.url)
    page.goto(server.url)
    page.locator("#question textarea").wait_for()
    yield watched
    assert watched.dialogs == [], "a document's markup ran as script"
    assert watched.external() == [], "the page loaded something from outside the server"
    context.close()


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


def test_abstention_is_shown_as_such_and_clear_chat_empties_everything(ui):
    page = ui.page
    ask(page, "What is the population of Tokyo?")
    abstained = page.locator("#chat .abstained")
    abstained.wait_for()
    assert "Not in the documents" in abstained.inner_text()
    assert "related reading" in page.locator("#sources").inner_text()
    assert page.locator("#sources .cite-card.related").count() >= 1
    shot(page, "abstention.png")
    page.get_by_role("button", name="Clear chat").click()
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
    assert "2 retrieved passages" in page.locator("#sources details.retrieved summary").inner_text()
    scores = page.locator("#sources details.scores").first
    scores.locator("summary").click()
    table = scores.inner_text()
    assert "bm25" in table and "dense" not in table


def test_upload_a_document_ask_about_it_then_remove_it(ui, tmp_path):
    page = ui.page
    upload = tmp_path / "Lighthouse notes.md"
    upload.write_text(
        "# Lighthouse notes\n\nThe Skerry lighthouse is kept by Ingrid Solberg, who rows out every Monday.\n",
        encoding="utf-8",
    )
    page.get_by_role("tab", name="Documents").click()
    table = page.locator("#documents-table")
    table.wait_for()
    assert "harbour-notes.txt" in table.inner_text() and "Lighthouse" not in table.inner_text()
    page.locator("#upload input[type=file]").set_input_files(str(upload))
    page.locator("#upload").get_by_text("Lighthouse notes.md").wait_for()
    page.locator("#add-document").click()
    page.locator("#documents-status .doc-ok").wait_for()
    assert "Lighthouse-notes.md" in table.inner_text()  # saved under a safe name, and indexed
    shot(page, "documents.png")

    page.get_by_role("tab", name="Chat").click()
    ask(page, "Who keeps the Skerry lighthouse?")
    page.locator("#chat a.cite-link").first.wait_for()
    assert "Ingrid Solberg" in page.locator("#chat .message-content").last.inner_text()
    assert "Lighthouse-notes.md" in page.locator("#sources").inner_text()

    page.get_by_role("tab", name="Documents").click()
    page.locator("#remove-choice input").click()
    page.get_by_role("option", name="Lighthouse-notes.md").click()
    page.locator("#remove-document").click()
    page.locator("#documents-status .doc-ok", has_text="Removed").wait_for()
    assert "Lighthouse-notes.md" not in table.inner_text()


def test_a_thumbs_up_with_a_comment_is_saved_for_that_answer(ui, server):
    page = ui.page
    ask(page, "Who chaired Session II?")
    page.locator("#chat a.cite-link").first.wait_for()
    page.get_by_text("Feedback", exact=True).click()
    page.locator("#feedback-comment textarea").fill("Exactly what the report says.")
    page.locator("#chat button[aria-label='Like']").last.click()
    page.locator("#feedback-status .doc-ok").wait_for()
    votes = [json.loads(line) for line in server.votes.read_text(encoding="utf-8").splitlines()]
    vote = next(v for v in votes if v["comment"] == "Exactly what the report says.")
    assert vote["vote"] == "up" and vote["question"] == "Who chaired Session II?"
    assert vote["citations"] and "ARIUNAA Enkhtur" in vote["answer"]
