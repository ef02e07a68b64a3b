"""The Gradio chat: answers beside their highlighted sources. It only calls `Assistant.ask`."""

from __future__ import annotations

import html
import os
from typing import Any

from rag.answer import Answer
from rag.errors import BadInput

# Gradio reports usage to its servers unless told not to; the app must never touch the network.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

EXAMPLES = [
    "Who chaired Session II?",
    "What are the four strategic actions of the 1-3-4 framework?",
    "Which AI tools did Ms. BAYARMAA's institute use in teaching?",
    "What is the K-Digital Training programme?",
]
CSS = """
.cite-card {border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 10px; margin-bottom: 8px;}
.cite-card mark {background: #fff3a3; padding: 0 2px;}
.cite-meta {font-size: 0.85em; color: #57606a; margin-bottom: 4px;}
.abstained {border-left: 4px solid #bf8700; padding-left: 8px;}
"""


def sources_html(answer: Answer) -> str:
    """Each citation as a card: file and section, and its passage with the cited sentence highlighted.

    All document text is escaped: a document's markup is shown as text, never run.
    """
    if answer.abstained:
        cards = ['<div class="abstained"><b>Not in the documents.</b> Closest passages, as related reading:</div>']
        for p in answer.passages[:3]:
            meta = f"{html.escape(p.chunk.source)} § {html.escape(p.chunk.section)}"
            cards.append(
                f'<div class="cite-card"><div class="cite-meta">{meta}</div>{html.escape(p.chunk.text.strip())}</div>'
            )
        return "\n".join(cards)
    cards = []
    for c in answer.citations:
        passage = next(
            (
                p.chunk
                for p in answer.passages
                if p.chunk.source == c.source and p.chunk.start <= c.start and c.end <= p.chunk.end
            ),
            None,
        )
        if passage is None:
            body = f"<mark>{html.escape(c.text)}</mark>"
        else:
            a, b = c.start - passage.start, c.end - passage.start
            text = passage.text
            body = html.escape(text[:a]) + f"<mark>{html.escape(text[a:b])}</mark>" + html.escape(text[b:].rstrip())
        meta = f"[{c.n}] {html.escape(c.source)} § {html.escape(c.section)} · chars {c.start}-{c.end}"
        cards.append(f'<div class="cite-card" id="cite-{c.n}"><div class="cite-meta">{meta}</div>{body}</div>')
    return "\n".join(cards)


def build_app(assistant):
    """The Blocks app over one loaded Assistant (the model and index are loaded once, before this)."""
    import gradio as gr

    def respond(question: str, history: list[dict[str, Any]]):
        history = list(history or [])
        try:
            answer = assistant.ask(question)
        except BadInput as exc:
            history += [{"role": "user", "content": question or ""}, {"role": "assistant", "content": f"⚠️ {exc}"}]
            return "", history, ""
        text = answer.answer if not answer.abstained else f"**Not in the documents.** {answer.answer}"
        history += [{"role": "user", "content": answer.question}, {"role": "assistant", "content": text}]
        return "", history, sources_html(answer)

    def ask_api(question: str, k: int = 5, retrieval: str = "hybrid") -> dict[str, Any]:
        try:
            return assistant.ask(question, k=int(k), retrieval=retrieval).to_json()
        except BadInput as exc:
            raise gr.Error(str(exc)) from None

    with gr.Blocks(title="rag: cited answers") as app:
        sources = gr.HTML(render=False)
        gr.Markdown("## Ask the report\nAnswers quote the documents; every sentence carries its source.")
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="Chat", height=480, sanitize_html=True)
                box = gr.Textbox(placeholder="Ask a question about the documents…", show_label=False, max_length=2000)
                with gr.Row():
                    ask_button = gr.Button("Ask", variant="primary")
                    gr.ClearButton([box, chat, sources], value="Clear chat")
                gr.Examples(EXAMPLES, inputs=box)
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                sources.render()
        box.submit(respond, [box, chat], [box, chat, sources], api_name=False)
        ask_button.click(respond, [box, chat], [box, chat, sources], api_name=False)
        hidden_q = gr.Textbox(visible=False)
        hidden_k = gr.Number(value=5, visible=False, precision=0)
        hidden_mode = gr.Textbox(value="hybrid", visible=False)
        hidden_out = gr.JSON(visible=False)
        hidden_q.submit(ask_api, [hidden_q, hidden_k, hidden_mode], hidden_out, api_name="ask")
    return app


def serve(assistant, host: str = "127.0.0.1", port: int = 7860, prevent_thread_lock: bool = False):
    """Serve on loopback by default, with server-side rendering off and a bounded queue; returns (app, url)."""
    app = build_app(assistant)
    app.queue(max_size=64, default_concurrency_limit=2)
    _, url, _ = app.launch(
        server_name=host,
        server_port=port,
        ssr_mode=False,
        share=False,
        show_error=True,
        css=CSS,
        footer_links=["api"],
        prevent_thread_lock=prevent_thread_lock,
        quiet=prevent_thread_lock,
    )
    return app, url
