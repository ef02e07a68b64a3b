"""The chat app: served on loopback, its `ask` API returns the contract, document text is escaped."""

from __future__ import annotations

import socket

import pytest

from rag.answer import Answer, Citation, Passage
from tests.conftest import REPORT


def test_sources_panel_escapes_document_markup():
    from index.chunking import Chunk
    from ui.app import sources_html

    text = "Intro <script>alert(1)</script> and <img src=x onerror=alert(2)> end."
    chunk = Chunk("id", "evil.txt", "S <b>", 0, len(text), text, 10, ((0, len(text)),))
    answer = Answer(
        "q", "x [1]", False, (Citation(1, "evil.txt", "S <b>", 6, 31, text[6:31]),), (Passage(chunk, 1, 1.0),), {}
    )
    out = sources_html(answer)
    assert "<script>" not in out and "<img" not in out and "<b>" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "<mark>&lt;script&gt;alert(1)&lt;/script&gt;</mark>" in out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_live_server_answers_through_the_ask_api(assistant):
    from gradio_client import Client

    from ui.app import serve

    port = free_port()
    app, url = serve(assistant, port=port, prevent_thread_lock=True)
    try:
        assert url.startswith("http://127.0.0.1:")
        client = Client(url, verbose=False)
        result = client.predict("Who chaired Session II?", 5, "hybrid", api_name="/ask")
        assert result["abstained"] is False
        cite = next(c for c in result["citations"] if "ARIUNAA Enkhtur" in c["text"])
        assert REPORT.read_text(encoding="utf-8")[cite["start"] : cite["end"]] == cite["text"]
        with pytest.raises(Exception, match="limit is 2000"):
            client.predict("x" * 5000, 5, "hybrid", api_name="/ask")
    finally:
        app.close()
