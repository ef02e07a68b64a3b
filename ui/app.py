"""The Gradio chat: answers beside their highlighted sources and documents. It only calls into `rag`.

Layout: the chat (left) and, for the selected answer, its sources and the cited document (right).
A click on a citation marker [n] (in the chat or the sources panel) is sent to the server through a
hidden textbox; the reply highlights that citation's card and opens its document at the cited span,
which a small page script scrolls into view. All document text is escaped in `ui.render`.
"""

from __future__ import annotations

import os
from typing import Any

from rag.answer import Answer
from rag.errors import BadInput
from ui.render import chat_message, chat_text, document_html, error_html, sources_html

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


def build_app(assistant):
    """The Blocks app over one loaded Assistant (the model and index are loaded once, before this)."""
    import gradio as gr

    from rag.retrieve import MODES

    def respond(question: str, messages: list[dict[str, Any]], answers: list[Answer | None], k: float, mode: str):
        messages, answers = list(messages or []), list(answers or [])
        user = {"role": "user", "content": chat_text(question or "")}
        try:
            answer = assistant.ask(question, history=_history(answers), k=parse_k(k), retrieval=mode)
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
            text = assistant.document_text(citation.source)
        except BadInput as exc:
            return panel, error_html(str(exc))
        return panel, document_html(citation.source, text, citation.start, citation.end, token=str(seq))

    def clear():
        return "", [], [], sources_panel(None), DOC_PLACEHOLDER

    def ask_api(question: str, k: int | None = DEFAULT_K, retrieval: str | None = None) -> dict[str, Any]:
        """Answer a question about the documents; returns the JSON object of the contract (DESIGN.md)."""
        try:
            return assistant.ask(question, k=parse_k(k), retrieval=retrieval or None).to_json()
        except BadInput as exc:
            raise gr.Error(str(exc)) from None

    with gr.Blocks(title="rag: cited answers") as app:
        answers = gr.State([])
        gr.Markdown("## Ask the documents\nAnswers quote the documents; every sentence carries its source.")
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(
                    label="Chat",
                    elem_id="chat",
                    height=480,
                    sanitize_html=True,
                    latex_delimiters=[],
                    feedback_options=None,
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
                with gr.Accordion("Settings", open=False):
                    k = gr.Slider(1, MAX_UI_K, value=DEFAULT_K, step=1, label="Number of passages", elem_id="k")
                    mode = gr.Radio(list(MODES), value="hybrid", label="Retrieval mode", elem_id="mode")
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                sources = gr.HTML(sources_panel(None), elem_id="sources")
                gr.Markdown("### Document")
                document = gr.HTML(DOC_PLACEHOLDER, elem_id="document")
        cite_target = gr.Textbox(visible="hidden", elem_id="cite-target")

        inputs, outputs = [box, chat, answers, k, mode], [box, chat, answers, sources, document]
        box.submit(respond, inputs, outputs, api_name=False)
        ask_button.click(respond, inputs, outputs, api_name=False)
        clear_button.click(clear, None, outputs, api_name=False, queue=False)
        chat.clear(clear, None, outputs, api_name=False, queue=False)
        chat.select(select_answer, answers, sources, api_name=False)
        cite_target.change(open_citation, [cite_target, answers], [sources, document], api_name=False)
        gr.api(ask_api, api_name="ask")
    return app


def serve(
    assistant,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth: tuple[str, str] | None = None,
    share: bool = False,
    max_size: int = QUEUE_SIZE,
    prevent_thread_lock: bool = False,
):
    """Serve on loopback by default, server-side rendering off, a bounded queue; returns (app, url).

    When the queue is full a new request is refused at once: the page shows "This application is
    currently busy. Please try again." and gradio_client raises "Queue is full! Please try again."
    """
    if share and auth is None:
        raise BadInput("--share puts the app on the internet; it needs --auth user:password (or RAG_AUTH)")
    app = build_app(assistant)
    app.queue(max_size=max_size, default_concurrency_limit=2)
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
        prevent_thread_lock=prevent_thread_lock,
        quiet=prevent_thread_lock,
    )
    return app, url
