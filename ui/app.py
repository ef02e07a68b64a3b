"""The Gradio chat: answers beside their highlighted sources and documents. It only calls into `rag`.

Layout: the chat (left) and, for the selected answer, its sources and the cited document (right).
A click on a citation marker [n] (in the chat or the sources panel) is sent to the server through a
hidden textbox; the reply highlights that citation's card and opens its document at the cited span,
which a small page script scrolls into view. All document text is escaped in `ui.render`.
A Documents tab lists, adds and removes corpus files (`ui.documents`); votes on answers go to a local
JSON-lines file (`ui.feedback`); `ask` is the API endpoint returning the JSON contract.
"""

from __future__ import annotations

import html
import os
import threading
from pathlib import Path
from typing import Any

from rag.answer import Answer
from rag.errors import BadInput
from ui.documents import MAX_UPLOAD_BYTES
from ui.render import chat_message, chat_text, document_html, error_html, sources_html
from ui.web import checks_host, guarded_app

__all__ = ["EXAMPLES", "build_app", "serve", "sources_html"]

# Gradio reports usage to its servers unless told not to; the app must never touch the network.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

EXAMPLES = [
    "Who chaired Session II?",
    "What are the four strategic actions of the 1-3-4 framework?",
    "Which AI tools did Ms. BAYARMAA's institute use in teaching?",
    "What is the K-Digital Training programme?",
]
DEFAULT_K, MAX_UI_K = 5, 20
QUEUE_SIZE = 64
# Gradio rebuilds a pandas summary of its last 10,000 events after every event, for a monitoring page this
# app leaves off; with 10,000 events held that took ~13 ms of CPU per answer, about as much as answering.
ANALYTICS_EVERY = 1000  # events between summaries (an explicit GRADIO_ANALYTICS_CACHE_FREQUENCY wins)
DOC_PLACEHOLDER = '<div class="sources-empty">Click a citation [n] to open its document here, at the cited span.</div>'

CSS = """
.cite-card {border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 10px; margin-bottom: 8px;}
.cite-card.active {border-color: #0969da; box-shadow: 0 0 0 2px #54aeff66;}
.cite-card mark, #doc-mark {background: #fff3a3; color: #1f2328; padding: 0 2px;}
.cite-meta {font-size: 0.85em; color: #57606a; margin-bottom: 4px;}
.passage {white-space: pre-wrap;}
.scores {font-size: 0.8em; margin-top: 4px;} .scores td {padding: 0 8px 0 0;}
a.cite-link {font-weight: 600; text-decoration: none; color: #0969da; cursor: pointer;}
.abstained {border-left: 4px solid #bf8700; background: #fff8c5; color: #3b2300; padding: 6px 10px;}
.standalone {color: #57606a;}
#sources-scroll {position: relative; max-height: 320px; overflow-y: auto; padding-right: 4px;}
.doc-head {font-size: 0.85em; color: #57606a; margin-bottom: 4px;}
.doc-view {position: relative; max-height: 340px; overflow-y: auto; white-space: pre-wrap;
           border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 10px; font-size: 0.9em;}
.sources-empty, .doc-error {color: #57606a; font-style: italic;}
.doc-ok {color: #1a7f37;}
table.documents td, table.documents th {padding: 2px 10px 2px 0; text-align: left;}
"""

# Runs once on page load. Clicks on [n] links go to the server via the hidden #cite-target textbox
# (event delegation, so re-rendered messages need nothing); when a new highlighted span or active
# card appears, it is scrolled into view inside its own panel.
JS = """
() => {
  if (window.__ragUi) return;
  window.__ragUi = true;
  let seq = 0;
  document.addEventListener("click", (ev) => {
    const link = ev.target.closest ? ev.target.closest("a.cite-link") : null;
    if (!link) return;
    const m = /^#cite-(\\d+)-(\\d+)$/.exec(link.getAttribute("href") || "");
    if (!m) return;
    ev.preventDefault();
    ev.stopPropagation();
    const box = document.querySelector("#cite-target textarea, #cite-target input");
    if (!box) return;
    seq += 1;
    box.value = `${m[1]}:${m[2]}:${seq}`;
    box.dispatchEvent(new Event("input", {bubbles: true}));
  }, true);
  let markToken = null, cardToken = null;
  new MutationObserver(() => {
    const mark = document.getElementById("doc-mark");
    if (mark && mark.dataset.token !== markToken) {
      markToken = mark.dataset.token;
      const view = document.getElementById("doc-view");
      if (view) view.scrollTop = Math.max(0, mark.offsetTop - view.clientHeight / 3);
    }
    const card = document.querySelector("#sources .cite-card.active");
    if (card && card.dataset.token !== cardToken) {
      cardToken = card.dataset.token;
      const panel = document.getElementById("sources-scroll");
      if (panel) panel.scrollTop = Math.max(0, card.offsetTop - 8);
    }
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
    """The sources of one answer in their own scrolling box, so a long list never covers the document viewer."""
    return f'<div id="sources-scroll">{sources_html(answer, turn, active, token)}</div>'


def _history(answers: list[Answer | None]) -> list[tuple[str, str]]:
    """Earlier (question, answer) turns, for follow-up questions."""
    return [(a.question, a.answer) for a in answers if a is not None]


class Live:
    """The Assistant in service. After a corpus change a new one is built beside it and swapped in whole,
    so a question is answered by the old index or the new one, never half of each."""

    def __init__(self, assistant) -> None:
        self.assistant = assistant
        self.updating = threading.Lock()  # one corpus change at a time


def default_feedback_path(index_dir: Path) -> Path:
    """Where votes go unless told otherwise: beside the index folder (index/data/ is not committed)."""
    return Path(index_dir).parent / "feedback.jsonl"


def llm_configured() -> bool:
    """Offer the LLM composer only when an endpoint is configured (it is optional and off by default)."""
    return bool(os.environ.get("RAG_LLM_BASE_URL", "").strip())


def build_app(assistant, feedback_path: Path | None = None):
    """The Blocks app over one loaded Assistant (the model and index are loaded once, before this).

    Votes on answers are appended to `feedback_path` (default: feedback.jsonl beside the index folder).
    """
    import gradio as gr

    from index.errors import IngestError
    from rag.retrieve import MODES
    from ui import documents as docs
    from ui import feedback

    live = Live(assistant)
    if feedback_path is None and hasattr(assistant, "index_dir"):
        feedback_path = default_feedback_path(assistant.index_dir)

    def respond(
        question: str,
        messages: list[dict[str, Any]],
        answers: list[Answer | None],
        k: float,
        mode: str,
        composer: str = "extractive",
    ):
        messages, answers = list(messages or []), list(answers or [])
        user = {"role": "user", "content": chat_text(question or "")}
        try:
            if composer not in ("extractive", "llm"):
                raise BadInput(f"unknown composer {composer!r}")
            answer = live.assistant.ask(
                question, history=_history(answers), k=parse_k(k), retrieval=mode, composer=composer
            )
        except BadInput as exc:
            messages += [user, {"role": "assistant", "content": chat_text(f"⚠️ {exc}", "error")}]
            return "", messages, answers + [None, None], gr.skip(), gr.skip()
        turn = len(messages) + 1
        messages += [user, {"role": "assistant", "content": chat_message(answer, turn)}]
        answers += [None, answer]
        return "", messages, answers, sources_panel(answer, turn), DOC_PLACEHOLDER

    def select_answer(answers: list[Answer | None], evt: gr.SelectData):
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        if not isinstance(index, int) or not 0 <= index < len(answers or []) or answers[index] is None:
            return gr.skip()
        return sources_panel(answers[index], index)

    select_answer.__annotations__["evt"] = gr.SelectData  # a real class, not the postponed string

    def open_citation(target: str, answers: list[Answer | None]):
        """`target` is "turn:n:seq" from the page script: show citation n of that answer in its document."""
        try:
            turn, n, seq = (int(x) for x in (target or "").split(":"))
            answer = (answers or [])[turn]
            citation = next(c for c in answer.citations if c.n == n)
        except (ValueError, IndexError, AttributeError, StopIteration):
            return gr.skip(), error_html("That citation is no longer in this chat.")
        panel = sources_panel(answer, turn, active=n, token=str(seq))
        try:
            text = live.assistant.document_text(citation.source)
        except BadInput as exc:
            return panel, error_html(str(exc))
        return panel, document_html(citation.source, text, citation.start, citation.end, token=str(seq))

    def vote(answers: list[Answer | None], comment: str, evt: gr.LikeData):
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        answer = answers[index] if isinstance(index, int) and 0 <= index < len(answers or []) else None
        if answer is None or evt.liked not in (True, False) or feedback_path is None:
            return gr.skip(), error_html("Only answers can be rated.")
        entry = feedback.record(feedback_path, answer, "up" if evt.liked else "down", comment)
        thumb = "👍" if entry["vote"] == "up" else "👎"
        return "", f'<div class="doc-ok">{thumb} saved for “{html.escape(answer.question)}”. Thank you.</div>'

    vote.__annotations__["evt"] = gr.LikeData

    def clear():
        return "", [], [], sources_panel(None), DOC_PLACEHOLDER

    def ask_api(question: str, k: int | None = DEFAULT_K, retrieval: str | None = None) -> dict[str, Any]:
        """Answer a question about the documents; returns the JSON object of the contract (DESIGN.md)."""
        try:
            return live.assistant.ask(question, k=parse_k(k), retrieval=retrieval or None).to_json()
        except BadInput as exc:  # the caller's mistake, said to the caller: no traceback in the server log
            raise gr.Error(str(exc), print_exception=False) from None

    def list_documents():
        rows = docs.documents(live.assistant) if hasattr(live.assistant, "index") else []
        return docs.documents_html(rows), gr.update(choices=[r["source"] for r in rows], value=None)

    def change_corpus(change, done):
        """Apply `change` to the corpus and update the index; the new Assistant replaces the old one."""
        if not live.updating.acquire(blocking=False):
            return (
                error_html("Another document change is being indexed; try again when it is done."),
                *list_documents(),
            )
        try:
            undo = change()
            try:
                live.assistant = docs.reload(live.assistant)
            except IngestError as exc:
                undo()
                return error_html(f"The index was not updated: {exc}"), *list_documents()
            return f'<div class="doc-ok">{html.escape(done())}</div>', *list_documents()
        except BadInput as exc:
            return error_html(str(exc)), *list_documents()
        finally:
            live.updating.release()

    def add_document(upload: str | None, progress=gr.Progress(track_tqdm=True)):
        if not upload:
            return error_html("Choose a .txt or .md file first."), *list_documents()
        path = Path(upload)
        saved: list[Path] = []

        def change():
            progress(0, desc="saving")
            saved.append(docs.save_upload(live.assistant.corpus_dir, path.name, path.read_bytes()))
            progress(0.1, desc="updating the index")
            return lambda: saved[0].unlink(missing_ok=True)

        return change_corpus(change, lambda: f"Added {path.name} as {saved[0].name}; the index is up to date.")

    def remove_document(source: str | None, progress=gr.Progress(track_tqdm=True)):
        def change():
            target = docs.indexed_source(live.assistant, source)
            if len(live.assistant.index.manifest.get("documents") or {}) <= 1:
                raise BadInput("This is the only document; add another before removing it.")
            raw = target.read_bytes()
            target.unlink()
            progress(0.1, desc="updating the index")
            return lambda: target.write_bytes(raw)

        return change_corpus(change, lambda: f"Removed {source}; the index is up to date.")

    with gr.Blocks(title="rag: cited answers") as app:
        answers = gr.State([])
        gr.Markdown("## Ask the documents\nAnswers quote the documents; every sentence carries its source.")
        with gr.Tab("Chat", elem_id="chat-tab"), gr.Row():
            with gr.Column(scale=3):
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
                    clear_button = gr.Button("Clear chat", elem_id="clear-chat")
                gr.Examples(EXAMPLES, inputs=box, label="Example questions")
                with gr.Accordion("Feedback", open=False):
                    comment = gr.Textbox(
                        label="Comment (optional), saved with your 👍 or 👎 on an answer",
                        max_length=feedback.MAX_COMMENT_CHARS,
                        elem_id="feedback-comment",
                    )
                    voted = gr.HTML(elem_id="feedback-status")
                with gr.Accordion("Settings", open=False):
                    k = gr.Slider(1, MAX_UI_K, value=DEFAULT_K, step=1, label="Number of passages", elem_id="k")
                    mode = gr.Radio(list(MODES), value="hybrid", label="Retrieval mode", elem_id="mode")
                    composer = gr.Radio(
                        ["extractive", "llm"] if llm_configured() else ["extractive"],
                        value="extractive",
                        label="Composer (llm when RAG_LLM_BASE_URL is set; its sentences are verified)",
                        elem_id="composer",
                    )
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                sources = gr.HTML(sources_panel(None), elem_id="sources")
                gr.Markdown("### Document")
                document = gr.HTML(DOC_PLACEHOLDER, elem_id="document")
        with gr.Tab("Documents", elem_id="documents-tab"):
            table = gr.HTML(elem_id="documents")
            with gr.Row():
                with gr.Column():
                    upload = gr.File(
                        label=f"Add a document ({', '.join(docs.UPLOAD_SUFFIXES)}; up to "
                        f"{docs.MAX_UPLOAD_BYTES // (1024 * 1024)} MiB)",
                        file_types=list(docs.UPLOAD_SUFFIXES),
                        type="filepath",
                        elem_id="upload",
                    )
                    add_button = gr.Button("Add to the corpus and index it", elem_id="add-document")
                with gr.Column():
                    chosen = gr.Dropdown(label="Indexed document", choices=[], elem_id="remove-choice")
                    remove_button = gr.Button("Remove from the corpus", variant="stop", elem_id="remove-document")
            status = gr.HTML(elem_id="documents-status")
        cite_target = gr.Textbox(visible="hidden", elem_id="cite-target")

        inputs, outputs = [box, chat, answers, k, mode, composer], [box, chat, answers, sources, document]
        box.submit(respond, inputs, outputs, api_name=False)
        ask_button.click(respond, inputs, outputs, api_name=False)
        clear_button.click(clear, None, outputs, api_name=False, queue=False)
        chat.clear(clear, None, outputs, api_name=False, queue=False)
        chat.select(select_answer, answers, sources, api_name=False)
        chat.like(vote, [answers, comment], [comment, voted], api_name=False)
        cite_target.change(open_citation, [cite_target, answers], [sources, document], api_name=False)
        gr.api(ask_api, api_name="ask")
        app.load(list_documents, None, [table, chosen], api_name=False)
        add_button.click(add_document, upload, [status, table, chosen], api_name=False, concurrency_limit=1)
        remove_button.click(remove_document, chosen, [status, table, chosen], api_name=False, concurrency_limit=1)
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
    app = build_app(assistant, feedback_path)
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
        show_error=True,
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
