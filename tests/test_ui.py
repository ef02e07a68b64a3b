"""The chat app: served on loopback, its `ask` API returns the contract, document text is escaped."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from types import SimpleNamespace

import pytest

from index.chunking import Chunk
from rag.answer import Answer, Citation, Passage
from rag.errors import BadInput
from tests.conftest import REPORT, run_rag

EVIL = "Intro <script>alert(1)</script> and <img src=x onerror=alert(2)> end."


def evil_answer(answer_text: str = "x [1]") -> Answer:
    chunk = Chunk("id", "evil.txt", "S <b>", 0, len(EVIL), EVIL, 10, ((0, len(EVIL)),))
    passage = Passage(chunk, 1, 0.5, {"dense": 0.61, "bm25": 4.2}, ("intro", "<end>"))
    citation = Citation(1, "evil.txt", "S <b>", 6, 31, EVIL[6:31])
    return Answer("q", answer_text, False, (citation,), (passage,), {})


def test_sources_panel_escapes_document_markup():
    from ui.app import sources_html

    out = sources_html(evil_answer())
    assert "<script>" not in out and "<img" not in out and "<b>" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "<mark>&lt;script&gt;alert(1)&lt;/script&gt;</mark>" in out


def test_sources_panel_shows_where_each_citation_is_and_its_scores_behind_a_disclosure():
    from ui.render import sources_html

    out = sources_html(evil_answer(), turn=3, active=1, token="7")
    assert 'href="#cite-3-1"' in out and "evil.txt § S &lt;b&gt; · chars 6-31" in out
    assert 'class="cite-card active" data-token="7"' in out
    details = out[out.index("<details") : out.index("</details>")]
    assert "dense</td><td>0.6100" in details and "bm25</td><td>4.2000" in details
    assert "intro, &lt;end&gt;" in details


def test_chat_message_links_known_markers_and_shows_text_literally():
    from ui.render import chat_message

    answer = evil_answer("Use <b>*bold*</b> $x$ [1], not [2].\n\nNext [1]")
    out = chat_message(answer, turn=5)
    assert out.count('<a class="cite-link" href="#cite-5-1"') == 2
    assert "not [2]." in out  # a marker with no citation stays literal text
    # one HTML block (no blank line), so Markdown leaves document text as it is; markup is escaped
    assert out.startswith('<div class="answer">') and "\n\n" not in out and "<br><br>Next" in out
    assert "<b>" not in out and "&lt;b&gt;*bold*&lt;/b&gt; $x$" in out


def test_abstention_is_marked_in_the_chat_and_offers_related_reading():
    from ui.render import chat_message, sources_html

    base = evil_answer()
    answer = Answer("q", "The documents do not answer (see why).", True, (), base.passages, {})
    message = chat_message(answer, 1)
    assert '<div class="abstained"><strong>Not in the documents.</strong> The documents' in message
    assert "(see why)" in message
    panel = sources_html(answer)
    assert "Not in the documents" in panel and "related reading" in panel
    assert "&lt;script&gt;" in panel and "<script>" not in panel


def test_follow_up_shows_the_standalone_question_in_small_print():
    from ui.render import chat_message

    answer = Answer("And who chaired it?", "A [1]", False, evil_answer().citations, (), {}, "Who chaired <it>?")
    assert "<small>Understood as: Who chaired &lt;it&gt;?</small>" in chat_message(answer, 1)


def test_document_view_escapes_everything_and_highlights_the_span():
    from ui.render import document_html

    out = document_html("evil<1>.txt", EVIL, 6, 31, token="9")
    assert "<script>" not in out and "<img" not in out and "evil&lt;1&gt;.txt" in out
    assert '<mark id="doc-mark" data-token="9">&lt;script&gt;alert(1)&lt;/script&gt;</mark>' in out


def test_k_from_the_api_or_slider_must_be_whole():
    from ui.app import parse_k

    assert parse_k(None) is None and parse_k(5.0) == 5 and parse_k(7) == 7
    for bad in (2.5, True, "5"):
        with pytest.raises(BadInput):
            parse_k(bad)


def _assistant_over(corpus, manifest_documents):
    from rag.assistant import Assistant

    view = object.__new__(Assistant)  # document_text needs only the corpus folder and the manifest
    view.corpus_dir = corpus
    view.index = SimpleNamespace(manifest={"documents": manifest_documents})
    return view


def test_document_text_serves_only_unchanged_indexed_documents(tmp_path):
    from index.documents import load_document

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(REPORT, corpus / REPORT.name)
    (tmp_path / "secret.txt").write_text("not in the corpus", encoding="utf-8")
    (corpus / "unindexed.txt").write_text("added after indexing", encoding="utf-8")
    doc = load_document(corpus / REPORT.name, corpus)
    view = _assistant_over(corpus, {REPORT.name: {"sha256": doc.sha256}, "../secret.txt": {"sha256": "x"}})

    assert view.document_text(REPORT.name) == doc.text
    for source in ("unindexed.txt", "../secret.txt", "/etc/passwd", "", None):
        with pytest.raises(BadInput, match="not an indexed document"):
            view.document_text(source)
    (corpus / REPORT.name).write_text(doc.text + "\nAn edit.", encoding="utf-8")
    with pytest.raises(BadInput, match="changed since it was indexed"):
        view.document_text(REPORT.name)


def test_citation_offsets_point_into_the_served_document_text(assistant):
    answer = assistant.ask("Who chaired Session II?")
    for c in answer.citations:
        assert assistant.document_text(c.source)[c.start : c.end] == c.text


def test_serve_refuses_share_without_auth_and_bad_auth():
    result = run_rag("serve", "--share", timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "--auth" in result.stderr and "Traceback" not in result.stderr
    result = run_rag("serve", "--auth", "nopassword", timeout=60)
    assert result.returncode == 2 and "USER:PASSWORD" in result.stderr


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
        assert set(result) >= {"question", "answer", "abstained", "citations", "passages", "timings_ms"}
        assert result["abstained"] is False
        cite = next(c for c in result["citations"] if "ARIUNAA Enkhtur" in c["text"])
        assert REPORT.read_text(encoding="utf-8")[cite["start"] : cite["end"]] == cite["text"]
        assert f"[{cite['n']}]" in result["answer"]
        bm25 = client.predict("Who chaired Session II?", 2, "bm25", api_name="/ask")
        assert len(bm25["passages"]) == 2 and all("bm25" in p["scores"] for p in bm25["passages"])
        assert client.predict("Who chaired Session II?", api_name="/ask")["citations"]  # k, retrieval optional
        with pytest.raises(Exception, match="limit is 2000"):
            client.predict("x" * 5000, 5, "hybrid", api_name="/ask")
        with pytest.raises(Exception, match="from 1 to 50"):
            client.predict("Who chaired Session II?", 500, "hybrid", api_name="/ask")
        with pytest.raises(Exception, match="unknown retrieval mode"):
            client.predict("Who chaired Session II?", 5, "magic", api_name="/ask")
    finally:
        app.close()


@pytest.mark.slow
def test_live_server_with_auth_refuses_strangers(assistant):
    from gradio_client import Client

    from ui.app import serve

    app, url = serve(assistant, port=free_port(), auth=("ann", "s3cret"), prevent_thread_lock=True)
    try:
        with pytest.raises(Exception):  # noqa: B017 - gradio_client's error type for a login wall varies
            Client(url, verbose=False).predict("Who chaired Session II?", api_name="/ask")
        with pytest.raises(Exception):  # noqa: B017
            Client(url, auth=("ann", "wrong"), verbose=False)
        result = Client(url, auth=("ann", "s3cret"), verbose=False).predict("Who chaired Session II?", api_name="/ask")
        assert result["abstained"] is False
    finally:
        app.close()


class BlockingAssistant:
    """Holds every question until released, so a test can fill the queue."""

    def __init__(self) -> None:
        self.running = 0
        self.lock = threading.Lock()
        self.release = threading.Event()

    def ask(self, question, history=None, k=None, retrieval=None) -> Answer:
        with self.lock:
            self.running += 1
        self.release.wait(120)
        return Answer(question, "held", False, (), (), {})


def wait_until(predicate, what: str, limit: float = 60) -> None:
    """Poll for a condition of a background server (a wait, not an assertion about speed)."""
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


@pytest.mark.slow
def test_a_full_queue_answers_busy_try_again():
    from gradio_client import Client
    from gradio_client.utils import Status

    from ui.app import serve

    held = BlockingAssistant()
    app, url = serve(held, port=free_port(), max_size=1, prevent_thread_lock=True)
    try:
        client = Client(url, verbose=False)
        jobs = []  # every question sent so far: all are held, so none may end before the release

        def answering(count: int) -> bool:
            finished = [job for job in jobs if job.done()]  # a held question can only end by failing
            assert not finished, f"a held question ended early: {finished[0].exception()!r}"
            return held.running == count

        # The 2 workers, filled one at a time: a question counts against max_size until Gradio's dispatcher
        # hands it to a worker, so two sent together could fill the one-place queue while a worker was free.
        for i in range(2):
            jobs.append(client.submit(f"question {i}", api_name="/ask"))
            wait_until(lambda: answering(len(jobs)), f"worker {i + 1} to take question {i}")
        queued = client.submit("question 3", api_name="/ask")
        jobs.append(queued)
        wait_until(
            lambda: answering(2) and queued.status().code == Status.IN_QUEUE, "the third question to wait in the queue"
        )
        with pytest.raises(Exception, match="(?i)queue is full.*try again"):
            client.predict("question 4", api_name="/ask")
        held.release.set()
        assert [job.result()["answer"] for job in jobs] == ["held"] * 3
    finally:
        held.release.set()
        app.close()


def test_uploads_get_safe_names_and_only_text_files_of_bounded_size_enter_the_corpus(tmp_path):
    from ui.documents import MAX_UPLOAD_BYTES, safe_name, save_upload

    assert safe_name("../../My Notes (v2).MD") == "My-Notes-v2.md"
    assert safe_name("..\\..\\evil.txt") == "evil.txt"
    assert safe_name("<script>.txt") == "script.txt" and safe_name("???.txt") == "document.txt"
    assert safe_name(".hidden.md") == "hidden.md"  # a hidden file would be skipped by ingest
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "README.md").write_text("the corpus's note", encoding="utf-8")
    first = save_upload(corpus, "../notes.md", b"# Notes\n\nThe lighthouse is kept by Ingrid.\n")
    second = save_upload(corpus, "notes.md", b"# Notes\n\nAnother copy.\n")
    readme = save_upload(corpus, "README.md", b"# Readme\n\nNot the corpus note.\n")
    assert [first.name, second.name, readme.name] == ["notes.md", "notes-2.md", "README-2.md"]
    assert first.parent == corpus and (corpus / "README.md").read_text(encoding="utf-8") == "the corpus's note"
    for name, raw, why in [
        ("x.exe", b"MZ\x00\x00binary", "only .txt, .md, .html, .htm, .pdf"),
        ("x.pdf", b"%PDF-1.7", "cannot be indexed"),
        ("x.exe.txt", b"MZ\x00\x00binary", "binary"),
        ("empty.txt", b"  \n", "empty"),
        ("big.txt", b"a" * (MAX_UPLOAD_BYTES + 1), "limit"),
    ]:
        with pytest.raises(BadInput, match=why):
            save_upload(corpus, name, raw)
    assert sorted(p.name for p in corpus.iterdir()) == ["README-2.md", "README.md", "notes-2.md", "notes.md"]


def test_documents_tab_lists_what_is_indexed(assistant):
    from ui.documents import documents, documents_html

    rows = documents(assistant)
    assert [r["source"] for r in rows] == [REPORT.name]
    assert rows[0]["chunks"] > 0 and rows[0]["bytes"] == REPORT.stat().st_size and rows[0]["indexed"]
    assert REPORT.name in documents_html(rows)


def test_votes_are_appended_and_approved_answers_export_as_draft_gold_pairs(tmp_path):
    import json

    from ui.feedback import draft_gold, read, record

    votes = tmp_path / "feedback.jsonl"
    good = evil_answer("Intro <script>alert(1)</script> [1]")
    good = Answer("Who chaired Session II?", good.answer, False, good.citations, good.passages, {})
    nothing = Answer("What is the population of Tokyo?", "The documents do not answer.", True, (), (), {})
    record(votes, good, "down")
    record(votes, good, "up", "  right, and the citation is exact  ")
    record(votes, nothing, "up")
    record(votes, Answer("Who won?", "Bob. [1]", False, good.citations, (), {}), "down")
    with pytest.raises(BadInput):
        record(votes, good, "meh")
    entries = read(votes)
    assert [e["vote"] for e in entries] == ["down", "up", "up", "down"]
    assert entries[1]["comment"] == "right, and the citation is exact" and entries[1]["citations"][0]["start"] == 6
    pairs = draft_gold(entries)
    assert [p["question"] for p in pairs] == ["Who chaired Session II?", "What is the population of Tokyo?"]
    assert pairs[0]["answers"] == ["Intro <script>alert(1)</script>"] and pairs[0]["evidence"] == [EVIL[6:31]]
    assert pairs[0]["answerable"] is True and pairs[0]["id"].startswith("fb-")
    assert pairs[1] == {**pairs[1], "answers": [], "evidence": [], "answerable": False}

    out = tmp_path / "drafts.jsonl"
    result = run_rag("feedback", "export", "--feedback", str(votes), "--out", str(out), timeout=60)
    assert result.returncode == 0, result.stderr
    assert [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] == pairs
    assert "2 draft gold pair(s) from 4 vote(s)" in result.stderr
    missing = run_rag("feedback", "export", "--feedback", str(tmp_path / "none.jsonl"), timeout=60)
    assert missing.returncode == 2 and "no feedback yet" in missing.stderr
