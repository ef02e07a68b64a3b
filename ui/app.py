"""The Gradio chat: answers beside their highlighted sources and documents. It only calls into `rag`.

Layout: the chat (left) and, for the selected answer, its sources and the cited document (right).
A click on a citation marker [n] (in the chat or the sources panel) is sent to the server through a
hidden textbox; the reply highlights that citation's card and opens its document at the cited span,
which a small page script scrolls into view. All document text is escaped in `ui.render`.
A Documents tab lists (`ui.documents`), adds and removes (`rag.corpus`) corpus files; votes on answers go to a local
JSON-lines file (`ui.feedback`); `ask` is the API endpoint returning the JSON contract.
"""

from __future__ import annotations

import html
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.answer import Answer
from rag.corpus import MAX_UPLOAD_BYTES
from rag.errors import BadInput
from ui import conversation
from ui.render import (
    chat_message,
    chat_text,
    citation_cards,
    document_html,
    error_html,
    plain_document_html,
    public,
    retrieved_html,
    sources_html,
)
from ui.web import checks_host, guarded_app, is_loopback

__all__ = ["EXAMPLES", "build_app", "serve", "sources_html"]

# Gradio reports usage to its servers unless told not to; the app must never touch the network.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

EXAMPLES = [
    "Who chaired Session II?",
    "What are the four strategic actions of the 1-3-4 framework?",
    "Which AI tools did Ms. BAYARMAA's institute use in teaching?",
    "What is the K-Digital Training programme?",
]
DEFAULT_K, MAX_UI_K = 5, 50  # the slider reaches rag.assistant.MAX_K, as the CLI and the API (a test holds them equal)
QUEUE_SIZE = 64
# Chat questions are answered by two pools of worker threads: extractive ones (milliseconds of CPU) and LLM-composed
# ones (waiting up to RAG_LLM_TIMEOUT on another server), so slow LLM replies never hold the workers an extractive
# question needs. Each pool lets QUEUE_SIZE more wait (serve's max_size) before answering "busy".
EXTRACTIVE_WORKERS, LLM_WORKERS = 2, 2
# Gradio rebuilds a pandas summary of its last 10,000 events after every event, for a monitoring page this
# app leaves off; with 10,000 events held that took ~13 ms of CPU per answer, about as much as answering.
ANALYTICS_EVERY = 1000  # events between summaries (an explicit GRADIO_ANALYTICS_CACHE_FREQUENCY wins)
DOC_PLACEHOLDER = '<div class="sources-empty">Click a citation [n] to open its document here, at the cited span.</div>'

CSS = """
.cite-card {border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 10px; margin-bottom: 8px;}
.cite-card.active {border-color: #0969da; box-shadow: 0 0 0 2px #54aeff66;}
.cite-card mark, #doc-mark {background: #fff3a3; color: #1f2328; padding: 0 2px;}
mark.term {background: #ddf4ff; color: #1f2328; padding: 0 1px;}
.cite-meta {font-size: 0.85em; color: #57606a; margin-bottom: 4px;}
.passage {white-space: pre-wrap;}
.scores {font-size: 0.8em; margin-top: 4px;} .scores td {padding: 0 8px 0 0;}
a.cite-link, a.passage-link {font-weight: 600; text-decoration: none; color: #0969da; cursor: pointer;}
.abstained {border-left: 4px solid #bf8700; background: #fff8c5; color: #3b2300; padding: 6px 10px;}
.standalone {color: #57606a;}
.notice {border-left: 4px solid #0969da; background: #ddf4ff; color: #0a3069; padding: 4px 10px; margin-top: 6px;}
#sources-scroll {position: relative; max-height: 320px; overflow-y: auto; padding-right: 4px;}
details.retrieved {margin-top: 6px;}
.score-legend {font-size: 0.85em; color: #57606a; margin: 4px 0;}
ol.retrieved-list {max-height: 360px; overflow-y: auto; padding-left: 1.6em;}
li.retrieved-passage {margin-bottom: 8px;}
.doc-head {font-size: 0.85em; color: #57606a; margin-bottom: 4px;}
.doc-view {position: relative; max-height: 340px; overflow-y: auto; white-space: pre-wrap;
           border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 10px; font-size: 0.9em;}
.sources-empty, .doc-error {color: #57606a; font-style: italic;}
.doc-ok {color: #1a7f37;}
table.documents td, table.documents th {padding: 2px 10px 2px 0; text-align: left;}
.documents-scroll {max-width: 100%; overflow-x: auto;}
@media (min-width: 700px) {
  #side-col {position: sticky; top: 8px; align-self: flex-start; max-height: calc(100vh - 16px); overflow-y: auto;}
}
@media (max-width: 699px) {
  #sources-scroll {max-height: 220px;} .doc-view {max-height: 300px;}
}
"""

# Runs once on page load. Clicks on [n] links and on retrieved passages go to the server via the hidden
# #cite-target textbox (event delegation, so re-rendered messages need nothing); when a new highlighted span
# or active card appears, it is scrolled into view inside its own panel, and the panel into the screen:
# the page scrolls when the columns are stacked (a phone), only the side column when they are side by side.
JS = """
() => {
  if (window.__ragUi) return;
  window.__ragUi = true;
  let seq = 0;
  document.addEventListener("click", (ev) => {
    const link = ev.target.closest ? ev.target.closest("a.cite-link, a.passage-link") : null;
    if (!link) return;
    const m = /^#(cite|passage)-(\\d+)-(\\d+)$/.exec(link.getAttribute("href") || "");
    if (!m) return;
    ev.preventDefault();
    ev.stopPropagation();
    const box = document.querySelector("#cite-target textarea, #cite-target input");
    if (!box) return;
    seq += 1;
    box.value = `${m[1][0]}:${m[2]}:${m[3]}:${seq}`;
    box.dispatchEvent(new Event("input", {bubbles: true}));
  }, true);
  const reveal = (el) => {
    const chat = document.getElementById("chat"), side = document.getElementById("side-col");
    if (!el || !chat || !side) return;
    const stacked = side.getBoundingClientRect().top >= chat.getBoundingClientRect().bottom - 1;
    if (stacked) {
      window.scrollBy({top: el.getBoundingClientRect().top - 8, behavior: "instant"});
      return;
    }
    if (side.scrollHeight > side.clientHeight + 1)
      side.scrollTop += el.getBoundingClientRect().top - side.getBoundingClientRect().top - 8;
    const r = el.getBoundingClientRect();
    if (r.top < 0) window.scrollBy({top: r.top - 8, behavior: "instant"});
  };
  // A reply the user waits for, arriving outside the window, is brought into it: a new answer while the page
  // is scrolled away from the chat (say to "Search in" on a phone), a Documents tab message or document.
  const seen = new WeakSet();
  const arrived = (selector) => {
    const all = document.querySelectorAll(selector), el = all[all.length - 1];
    if (!el || seen.has(el)) return null;
    seen.add(el);
    return el;
  };
  // Where on the page an answer shows: its box cut by the boxes around it that scroll or clip. The chat scrolls in
  // its own box: what that box keeps out of sight is the box's to show, not the page's (an answer out of the box's
  // sight, above or not yet scrolled to, stands as the box itself). null while the answer has no size.
  const shownPart = (el) => {
    const r = el.getBoundingClientRect();
    if (!r.height) return null;
    let top = r.top, bottom = r.bottom;
    for (let box = el.parentElement; box && box !== document.body; box = box.parentElement) {
      if (getComputedStyle(box).overflowY === "visible") continue;
      const b = box.getBoundingClientRect();
      if (bottom <= b.top || top >= b.bottom) [top, bottom] = [b.top, b.bottom];
      else [top, bottom] = [Math.max(top, b.top), Math.min(bottom, b.bottom)];
    }
    return {top, bottom};
  };
  let markToken = null, cardToken = null;
  new MutationObserver(() => {
    const answer = arrived("#chat .message-content"), part = answer ? shownPart(answer) : null;
    if (part && (part.top < 0 || part.top > window.innerHeight - 40))
      window.scrollBy({top: part.top - 8, behavior: "instant"});
    for (const sel of ["#documents-status .doc-ok, #documents-status .doc-error", "#documents-view-text"]) {
      const el = arrived(sel);
      if (el && el.getClientRects().length) el.scrollIntoView({block: "nearest", behavior: "instant"});
    }
    let target = null;
    const mark = document.getElementById("doc-mark");
    if (mark && mark.dataset.token !== markToken) {
      markToken = mark.dataset.token;
      const view = document.getElementById("doc-view");
      if (view) view.scrollTop = Math.max(0, mark.offsetTop - view.clientHeight / 3);
      target = document.getElementById(mark.dataset.kind === "passage" ? "document" : "sources");
    }
    const card = document.querySelector("#sources .cite-card.active");
    if (card && card.dataset.token !== cardToken) {
      cardToken = card.dataset.token;
      const panel = document.getElementById("sources-scroll");
      if (panel) panel.scrollTop = Math.max(0, card.offsetTop - 8);
      target = target || document.getElementById("sources");
    }
    if (target) requestAnimationFrame(() => reveal(target));
  }).observe(document.body, {childList: true, subtree: true});
}
"""


def parse_k(k: object) -> int | None:
    """A passage count from the API or the slider: None (the default), or a whole number (check_k limits it).

    Example: parse_k(5.0) -> 5; parse_k(None) -> None; parse_k(2.5) -> BadInput
    """
    if k is None:
        return None
    if isinstance(k, float) and k.is_integer():
        return int(k)
    if isinstance(k, int) and not isinstance(k, bool):
        return k
    raise BadInput(f"k must be a whole number, not {k!r}")


def sources_panel(answer: Answer | None, turn: int = 0, active: int | None = None, token: str = "") -> str:
    """The citations of one answer in their own scrolling box, so a long list never covers the document viewer;
    the retrieved passages follow, folded, outside it."""
    cards = f'<div id="sources-scroll">{citation_cards(answer, turn, active, token)}</div>'
    return cards if answer is None else cards + retrieved_html(answer.passages, turn)


def _history(answers: list[Answer | None]) -> list[tuple[str, str]]:
    """Earlier (question, answer) turns, for follow-up questions."""
    return [(a.question, a.answer) for a in answers if a is not None]


def _ok(text: str) -> str:
    return f'<div class="doc-ok">{html.escape(text)}</div>'


class Live:
    """The Assistant in service. After a corpus change a new one is built beside it and swapped in whole,
    so a question is answered by the old index or the new one, never half of each."""

    def __init__(self, assistant, queue_size: int = QUEUE_SIZE) -> None:
        from ui.openai_api import Gate

        self.assistant = assistant
        self.updating = threading.Lock()  # one corpus change at a time
        # the chat's own worker pools, one per composer (see EXTRACTIVE_WORKERS); Gradio's queue does not limit it
        self.workers = {
            "extractive": Gate(EXTRACTIVE_WORKERS, queue_size),
            "llm": Gate(LLM_WORKERS, queue_size),
        }


def llm_configured() -> bool:
    """Offer the LLM composer only when an endpoint is configured (it is optional and off by default)."""
    return bool(os.environ.get("RAG_LLM_BASE_URL", "").strip())


def scope_of(chosen: list[str] | None) -> list[str] | None:
    """The documents picked in "Search in" as the `sources` of a question: nothing picked searches them all."""
    return list(chosen) if chosen else None


@dataclass(frozen=True)
class Target:
    """A span a click asks to open: citation n ("c") or retrieved passage n ("p") of the answer at message `turn`."""

    kind: str
    turn: int
    n: int
    source: str
    start: int
    end: int
    seq: str  # the click's sequence number: the page scrolls again for every click, even on the same span


def open_target(target: str, answers: list[Answer | None]) -> Target:
    """Read "c:turn:n:seq" (citation n) or "p:turn:rank:seq" (a retrieved passage) from the page script;
    ValueError when that answer or span is no longer in the chat.

    Example: "c:3:1:7", citation [1] of message 3 at report.txt chars 127-226 -> Target("c", 3, 1, "report.txt",
    127, 226, "7")
    """
    kind, *numbers = (target or "").split(":")
    turn, n, seq = (int(x) for x in numbers)
    answer = (answers or [])[turn] if 0 <= turn < len(answers or []) else None
    if answer is None or kind not in ("c", "p"):
        raise ValueError(target)
    if kind == "c":
        spans = [(c.source, c.start, c.end) for c in answer.citations if c.n == n]
    else:
        spans = [(p.chunk.source, p.chunk.start, p.chunk.end) for p in answer.passages if p.rank == n]
    if not spans:
        raise ValueError(target)
    return Target(kind, turn, n, *spans[0], str(seq))


def build_app(assistant, feedback_path: Path | None = None, queue_size: int = QUEUE_SIZE):
    """The Blocks app over one loaded Assistant (the model and index are loaded once, before this).

    Votes on answers are appended to `feedback_path` (default: data/feedback.jsonl, which `make clean` keeps).
    Chat questions beyond a composer's workers wait, `queue_size` of them; more are told the server is busy.
    """
    import gradio as gr

    from rag import corpus
    from rag.retrieve import MODES
    from ui import documents as docs
    from ui import feedback

    live = Live(assistant, queue_size)
    feedback_path = feedback.DEFAULT_PATH if feedback_path is None else feedback_path
    nothing = sources_panel(None)

    async def respond(question, messages, answers, k, mode, composer="extractive", scope=None):
        """One chat turn. Runs on the event loop and answers in a thread of its composer's pool (`Live.workers`):
        a question waiting for a busy LLM pool holds no thread and no extractive worker."""
        from ui.openai_api import ApiError

        messages, answers = list(messages or []), list(answers or [])
        user = {"role": "user", "content": chat_text(question or "")}
        try:
            if composer not in live.workers:
                raise BadInput(f"unknown composer {composer!r}")
            history, wanted, sources = _history(answers), parse_k(k), scope_of(scope)
            try:
                answer = await live.workers[composer].run(
                    lambda: live.assistant.ask(
                        question, history=history, k=wanted, retrieval=mode, composer=composer, sources=sources
                    )
                )
            except ApiError as exc:  # that pool's queue is full
                raise BadInput(str(exc)) from None
        except BadInput as exc:
            messages += [user, {"role": "assistant", "content": chat_text(f"⚠️ {public(str(exc))}", "error")}]
            answers += [None, None]
            return "", messages, answers, gr.skip(), gr.skip(), conversation.saved(messages, answers)
        turn = len(messages) + 1
        messages += [user, {"role": "assistant", "content": chat_message(answer, turn)}]
        answers += [None, answer]
        saved = conversation.saved(messages, answers)
        return "", messages, answers, sources_panel(answer, turn), DOC_PLACEHOLDER, saved

    def restore(saved):
        messages, answers = conversation.restored(saved)
        if not messages:  # nothing kept: leave the chat alone, a question asked while the page loaded may be in it
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        last = next((i for i in range(len(answers) - 1, -1, -1) if answers[i] is not None), None)
        panel = nothing if last is None else sources_panel(answers[last], last)
        return messages, answers, panel, DOC_PLACEHOLDER

    def select_answer(answers: list[Answer | None], evt: gr.SelectData):
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        if not isinstance(index, int) or not 0 <= index < len(answers or []) or answers[index] is None:
            return gr.skip()
        return sources_panel(answers[index], index)

    select_answer.__annotations__["evt"] = gr.SelectData  # a real class, not the postponed string

    def open_citation(target: str, answers: list[Answer | None]):
        """Show a clicked citation (its card active) or retrieved passage in its document, at its span."""
        try:
            at = open_target(target, answers)
        except ValueError:
            return gr.skip(), error_html("That citation is no longer in this chat.")
        citation = at.kind == "c"
        panel = sources_panel(answers[at.turn], at.turn, active=at.n, token=at.seq) if citation else gr.skip()
        try:
            text = live.assistant.document_text(at.source)
        except BadInput as exc:
            return panel, error_html(str(exc))
        kind = "citation" if citation else "passage"
        return panel, document_html(at.source, text, at.start, at.end, token=at.seq, kind=kind)

    def vote(answers: list[Answer | None], comment: str, evt: gr.LikeData):
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        answer = answers[index] if isinstance(index, int) and 0 <= index < len(answers or []) else None
        if answer is None or evt.liked not in (True, False):
            return gr.skip(), error_html("Only answers can be rated.")
        entry = feedback.record(feedback_path, answer, "up" if evt.liked else "down", comment)
        thumb = "👍" if entry["vote"] == "up" else "👎"
        saved = f"{thumb} saved for “{answer.question}”. Thank you."
        # also as a notice over the page: the panel below is folded away until opened, and off-screen on a phone
        gr.Info(html.escape(saved), title="Feedback")
        return "", _ok(saved)

    vote.__annotations__["evt"] = gr.LikeData

    def new_chat():
        return "", [], [], nothing, DOC_PLACEHOLDER, conversation.saved([], []), gr.update(value=None, visible=False)

    def export_chat(answers: list[Answer | None]):
        if not any(a is not None for a in answers or []):
            return gr.update(value=None, visible=False), error_html("Nothing to export yet: ask a question first.")
        folder = Path(tempfile.mkdtemp(prefix="rag-chat-"))
        path = folder / "conversation.md"
        path.write_text(conversation.to_markdown(answers), encoding="utf-8")
        return gr.update(value=str(path), visible=True), ""

    def ask_api(
        question: str, k: int | None = DEFAULT_K, retrieval: str | None = None, sources: list[str] | None = None
    ) -> dict[str, Any]:
        """Answer a question about the documents; returns the JSON object of the contract (DESIGN.md).

        `sources` (optional) limits the search and the citations to those indexed documents.
        """
        try:
            scope = sources.split(",") if isinstance(sources, str) else sources
            return live.assistant.ask(question, k=parse_k(k), retrieval=retrieval or None, sources=scope).to_json()
        except BadInput as exc:  # the caller's mistake, said to the caller: no traceback in the server log
            raise gr.Error(public(str(exc)), print_exception=False) from None

    def list_documents(scope=None):
        rows = docs.documents(live.assistant) if hasattr(live.assistant, "index") else []
        names = [r["source"] for r in rows]
        kept = [s for s in (scope or []) if s in names]
        trashed = corpus.in_trash(live.assistant.corpus_dir) if hasattr(live.assistant, "corpus_dir") else None
        return (
            docs.documents_html(rows),
            gr.update(choices=names, value=None),
            gr.update(choices=names, value=kept),
            gr.update(value=f"Undo: restore {trashed}" if trashed else "Undo", visible=trashed is not None),
        )

    def change_corpus(change, done, scope):
        """Apply `change` to the corpus and update the index; the new Assistant replaces the old one."""
        from index.errors import UserError

        if not live.updating.acquire(blocking=False):
            message = error_html("Another document change is being indexed; try again when it is done.")
            return message, *list_documents(scope)
        try:
            undo = change()
            try:
                live.assistant = corpus.reload(live.assistant)
            except Exception as exc:  # a change the index cannot take is undone, whatever stopped it
                undo()
                if not isinstance(exc, UserError):
                    raise
                return error_html(f"The index was not updated: {exc}"), *list_documents(scope)
            return done(), *list_documents(scope)
        except BadInput as exc:
            return error_html(str(exc)), *list_documents(scope)
        finally:
            live.updating.release()

    def add_documents(uploads, scope, progress=gr.Progress(track_tqdm=True)):
        paths = [Path(u) for u in (uploads or [])] if isinstance(uploads, list) else [Path(uploads)] if uploads else []
        if not paths:
            message = error_html(f"Choose one or more files first ({corpus.accepted_types()}).")
            return message, *list_documents(scope), gr.skip()
        saved: list[Path] = []
        refused: list[str] = []

        def change():
            added: dict[str, str] = {}  # text sha256 -> name, so two formats of one text in a batch add one file
            for i, path in enumerate(paths):
                progress((i, len(paths)), desc=f"checking {path.name}")
                try:
                    folder, index_dir = live.assistant.corpus_dir, live.assistant.index_dir
                    saved.append(corpus.save_upload(folder, path.name, path.read_bytes(), index_dir, added))
                except BadInput as exc:
                    refused.append(str(exc))
            if not saved:
                raise BadInput("Nothing was added. " + " ".join(refused))
            progress((len(paths), len(paths)), desc="updating the index")
            return lambda: [p.unlink(missing_ok=True) for p in saved]

        def done():
            names = ", ".join(p.name for p in saved)
            message = _ok(f"Added {names}; the index is up to date.")
            return message + "".join(error_html(f"Not added: {why}") for why in refused)

        # the picker empties once its files were checked; while another change is indexed they stay chosen
        return *change_corpus(change, done, scope), None if saved or refused else gr.skip()

    def ask_to_remove(source: str | None):
        """The first click on Remove: name the document and wait for a confirmation."""
        try:
            corpus.indexed_source(live.assistant, source)
        except BadInput as exc:
            return gr.update(visible=False), "", error_html(str(exc))
        question = f"Remove **{source}** from the corpus? It goes to the trash; Undo puts it back."
        return gr.update(visible=True), question, ""

    def remove_document(source: str | None, scope, progress=gr.Progress(track_tqdm=True)):
        def change():
            target = corpus.indexed_source(live.assistant, source)
            if len(live.assistant.index.manifest.documents) <= 1:
                raise BadInput("This is the only document; add another before removing it.")
            corpus.to_trash(live.assistant.corpus_dir, target)
            progress(0.1, desc="updating the index")
            return lambda: corpus.restore(live.assistant.corpus_dir)

        def done():
            return _ok(f"Removed {source} (kept in the trash until the next removal); the index is up to date.")

        return gr.update(visible=False), *change_corpus(change, done, scope)

    def undo_removal(scope, progress=gr.Progress(track_tqdm=True)):
        restored: list[Path] = []

        def change():
            restored.append(corpus.restore(live.assistant.corpus_dir))
            progress(0.1, desc="updating the index")
            return lambda: corpus.to_trash(live.assistant.corpus_dir, restored[0])

        def done():
            name = restored[0].relative_to(live.assistant.corpus_dir).as_posix()
            return _ok(f"Restored {name}; the index is up to date.")

        return change_corpus(change, done, scope)

    def view_document(source: str | None):
        if not source:
            return error_html("Select a document to read.")
        try:
            return plain_document_html(source, live.assistant.document_text(source))
        except BadInput as exc:
            return error_html(str(exc))

    with gr.Blocks(title="rag: cited answers") as app:
        answers = gr.State([])
        kept = gr.BrowserState(conversation.EMPTY, storage_key="rag-chat")
        gr.Markdown("## Ask the documents\nAnswers quote the documents; every sentence carries its source.")
        with gr.Tab("Chat", elem_id="chat-tab"), gr.Row():
            with gr.Column(scale=3, elem_id="chat-col"):
                chat = gr.Chatbot(
                    label="Chat",
                    elem_id="chat",
                    height=480,
                    sanitize_html=True,
                    latex_delimiters=[],
                    feedback_options=("Like", "Dislike"),
                    buttons=["copy", "copy_all"],  # no "share": it would upload the chat to a public host
                )
                box = gr.Textbox(
                    placeholder="Ask a question about the documents…",
                    show_label=False,
                    max_length=2000,
                    elem_id="question",
                )
                with gr.Row():
                    ask_button = gr.Button("Ask", variant="primary")
                    new_button = gr.Button("New chat", elem_id="new-chat")
                    export_button = gr.Button("Export as Markdown", elem_id="export-chat")
                exported = gr.File(label="Conversation", visible=False, elem_id="export-file", interactive=False)
                export_status = gr.HTML(elem_id="export-status")
                scope = gr.Dropdown(
                    label="Search in (nothing picked: every document)",
                    choices=[],
                    multiselect=True,
                    elem_id="scope",
                )
                gr.Examples(EXAMPLES, inputs=box, label="Example questions")
                with gr.Accordion("Feedback", open=False):
                    comment = gr.Textbox(
                        label="Comment (optional), saved with your 👍 or 👎 on an answer",
                        max_length=feedback.MAX_COMMENT_CHARS,
                        elem_id="feedback-comment",
                    )
                    voted = gr.HTML(elem_id="feedback-status")
                    gr.Markdown(
                        f"Votes are kept in `{feedback.shown(feedback_path)}`. Export them with "
                        "`rag feedback export --votes all` (or `up`: draft gold pairs, `down`), comments included.",
                        elem_id="feedback-help",
                    )
                with gr.Accordion("Settings", open=False):
                    k = gr.Slider(1, MAX_UI_K, value=DEFAULT_K, step=1, label="Number of passages", elem_id="k")
                    mode = gr.Radio(list(MODES), value="hybrid", label="Retrieval mode", elem_id="mode")
                    composer = gr.Radio(
                        ["extractive", "llm"] if llm_configured() else ["extractive"],
                        value="extractive",
                        label="Composer (llm when RAG_LLM_BASE_URL is set; its sentences are verified)",
                        elem_id="composer",
                    )
            with gr.Column(scale=2, elem_id="side-col"):
                gr.Markdown("### Sources")
                sources = gr.HTML(nothing, elem_id="sources")
                gr.Markdown("### Document")
                document = gr.HTML(DOC_PLACEHOLDER, elem_id="document")
        with gr.Tab("Documents", elem_id="documents-tab"):
            table = gr.HTML(elem_id="documents")
            with gr.Row():
                with gr.Column():
                    upload = gr.File(
                        label=f"Add documents ({corpus.accepted_types()}; up to "
                        f"{corpus.MAX_UPLOAD_BYTES // (1024 * 1024)} MiB each; drop several at once)",
                        file_types=list(corpus.UPLOAD_SUFFIXES),
                        file_count="multiple",
                        type="filepath",
                        elem_id="upload",
                    )
                    add_button = gr.Button("Add to the corpus and index them", elem_id="add-document")
                with gr.Column():
                    chosen = gr.Dropdown(label="Indexed document", choices=[], elem_id="remove-choice")
                    with gr.Row():
                        view_button = gr.Button("Read it", elem_id="view-document")
                        remove_button = gr.Button("Remove…", variant="stop", elem_id="remove-document")
                    with gr.Group(visible=False, elem_id="confirm-remove") as confirm_box:
                        confirm_text = gr.Markdown(elem_id="confirm-text")
                        with gr.Row():
                            confirm_button = gr.Button("Yes, remove it", variant="stop", elem_id="confirm-remove-yes")
                            cancel_button = gr.Button("Cancel", elem_id="confirm-remove-no")
                    undo_button = gr.Button("Undo", visible=False, elem_id="undo-remove")
            status = gr.HTML(elem_id="documents-status")
            viewer = gr.HTML(elem_id="documents-viewer")
        cite_target = gr.Textbox(visible="hidden", elem_id="cite-target")

        inputs = [box, chat, answers, k, mode, composer, scope]
        outputs = [box, chat, answers, sources, document, kept]
        # no Gradio limit: `respond` waits for its composer's own pool, so LLM questions cannot fill the workers
        for trigger in (box.submit, ask_button.click):
            trigger(respond, inputs, outputs, api_name=False, concurrency_limit=None, concurrency_id="chat")
        new_button.click(new_chat, None, [*outputs, exported], api_name=False, queue=False)
        chat.clear(new_chat, None, [*outputs, exported], api_name=False, queue=False)
        export_button.click(export_chat, answers, [exported, export_status], api_name=False)
        chat.select(select_answer, answers, sources, api_name=False)
        chat.like(vote, [answers, comment], [comment, voted], api_name=False)
        cite_target.change(open_citation, [cite_target, answers], [sources, document], api_name=False)
        gr.api(ask_api, api_name="ask")
        listing = [table, chosen, scope, undo_button]
        app.load(restore, kept, [chat, answers, sources, document], api_name=False)
        app.load(list_documents, None, listing, api_name=False)
        add_button.click(
            add_documents, [upload, scope], [status, *listing, upload], api_name=False, concurrency_limit=1
        )
        remove_button.click(ask_to_remove, chosen, [confirm_box, confirm_text, status], api_name=False)
        cancel_button.click(lambda: gr.update(visible=False), None, confirm_box, api_name=False, queue=False)
        confirm_button.click(
            remove_document, [chosen, scope], [confirm_box, status, *listing], api_name=False, concurrency_limit=1
        )
        undo_button.click(undo_removal, scope, [status, *listing], api_name=False, concurrency_limit=1)
        view_button.click(view_document, chosen, viewer, api_name=False)
    app.live = live  # the OpenAI-compatible API (ui.openai_api) answers from the same swapped-in Assistant
    return app


def serve(
    assistant,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth: tuple[str, str] | None = None,
    share: bool = False,
    max_size: int = QUEUE_SIZE,
    feedback_path: Path | None = None,
    prevent_thread_lock: bool = False,
    api_key: str | None = None,
):
    """Serve on loopback by default, server-side rendering off, a bounded queue, behind `ui.web.Guard`;
    returns (app, url).

    When the queue is full a new request is refused at once: the page shows "This application is
    currently busy. Please try again." and gradio_client raises "Queue is full! Please try again."
    `max_size` counts requests not yet handed to a worker, which Gradio's dispatcher does a moment after
    they arrive: a burst larger than `max_size` can be refused even while a worker is free.
    The OpenAI-compatible API (`/v1`, `ui.openai_api`) is served on the same port; `api_key` is its Bearer key.
    """
    from ui import openai_api

    if share and auth is None:
        raise BadInput("--share puts the app on the internet; it needs --auth user:password (or RAG_AUTH)")
    if auth is None and not is_loopback(host):
        raise BadInput(f"--host {host} lets other machines reach the app; it needs a login (--auth-file or RAG_AUTH)")
    app = build_app(assistant, feedback_path, max_size)
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", str(ANALYTICS_EVERY))  # read when the queue is made
    app.queue(max_size=max_size, default_concurrency_limit=2)
    edge = guarded_app(MAX_UPLOAD_BYTES, check_host=checks_host(host, share))
    openai_api.mount(edge, lambda: app.live.assistant, api_key, openai_api.Gate(queue_size=max_size))
    _, url, _ = app.launch(
        server_name=host,
        server_port=port,
        auth=auth,
        share=share,
        ssr_mode=False,
        # only BadInput's words (gr.Error) reach the page: an unexpected error's text can hold server paths
        show_error=False,
        css=CSS,
        js=JS,
        footer_links=["api"],
        max_file_size=MAX_UPLOAD_BYTES,  # gradio refuses a bigger upload before it reaches the Documents tab
        # file routes, host names, origins and upload limits held at the edge (ui.web)
        _app=edge,
        prevent_thread_lock=prevent_thread_lock,
        quiet=prevent_thread_lock,
    )
    return app, url
