"""The chat app: served on loopback, its `ask` API returns the contract, document text is escaped."""

from __future__ import annotations

import html
import json
import shutil
import socket
import threading
import time
from types import SimpleNamespace

import pytest

from index.text.chunking import Chunk
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


def test_an_answers_notice_is_shown_in_the_chat_and_in_the_export():
    """A notice says why an answer is not the usual one (answered from the last complete build after a full
    disk, an LLM reply set aside); the CLI, JSON and API carried it, the chat and its export dropped it."""
    from dataclasses import replace

    from ui.conversation import to_markdown
    from ui.render import chat_message

    notice = "answering from the last complete build <b>; later changes are not indexed"
    for answer in (
        replace(evil_answer("A [1]"), notice=notice),
        Answer("q", "Not here.", True, (), (), {}, notice=notice),
    ):
        message = chat_message(answer, 1)
        assert (
            '<div class="notice" role="note"><strong>Note:</strong> answering from the last complete build' in message
        )
        assert "&lt;b&gt;" in message and "<b>" not in message and "\n\n" not in message
        assert f"_Note: {notice}_" in to_markdown([None, answer])
    assert 'class="notice"' not in chat_message(evil_answer("A [1]"), 1)


def test_document_view_escapes_everything_and_highlights_the_span():
    from ui.render import document_html

    out = document_html("evil<1>.txt", EVIL, 6, 31, token="9")
    assert "<script>" not in out and "<img" not in out and "evil&lt;1&gt;.txt" in out
    assert '<mark id="doc-mark" data-token="9" data-kind="citation">&lt;script&gt;alert(1)&lt;/script&gt;</mark>' in out


def test_k_from_the_api_or_slider_must_be_whole():
    from ui.app import parse_k

    assert parse_k(None) is None and parse_k(5.0) == 5 and parse_k(7) == 7
    for bad in (2.5, True, "5"):
        with pytest.raises(BadInput):
            parse_k(bad)


def _assistant_over(corpus, manifest_documents):
    from index.storage.store import Manifest
    from rag.assistant import Assistant

    view = object.__new__(Assistant)  # document_text needs only the corpus folder and the manifest
    view.corpus_dir = corpus
    view.index = SimpleNamespace(manifest=Manifest("m", 1, documents=manifest_documents))
    return view


def test_document_text_serves_only_unchanged_indexed_documents(tmp_path):
    from index.load.documents import load_document

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


def chat_question(url: str, fn_index: int, question: str, composer: str) -> str:
    """Send one chat question as the page does (its own browser session, through Gradio's queue); the session id."""
    import urllib.request
    import uuid

    session = uuid.uuid4().hex
    data = [question, [], None, 5, "hybrid", composer, []]
    body = json.dumps({"data": data, "fn_index": fn_index, "session_hash": session, "event_data": None})
    request = urllib.request.Request(f"{url}gradio_api/queue/join", body.encode(), {"Content-Type": "application/json"})
    urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=30).read()
    return session


def chat_reply(url: str, session: str, done: dict, name: str) -> None:
    """Read a session's event stream until its question is answered; done[name] = (order, its messages as text)."""
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"{url}gradio_api/queue/data?session_hash={session}", timeout=300) as stream:
        for line in stream:
            if not line.startswith(b"data:"):
                continue
            message = json.loads(line[5:])
            if message.get("msg") == "process_completed":
                output = message.get("output") or {}
                chat = (output.get("data") or [None, []])[1] or []
                shown = " ".join(str(m.get("content")) for m in chat)  # the question, then the answer or error
                done[name] = (len(done), shown if message.get("success") else repr(output))
                return


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

    def ask(self, question, history=None, k=None, retrieval=None, sources=None) -> Answer:
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
    from rag.corpus import MAX_UPLOAD_BYTES, safe_name, save_upload

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


def test_a_comment_holding_a_lone_surrogate_is_saved_with_a_replacement_character(tmp_path):
    """Like a chat question, a pasted comment can hold bytes that were not UTF-8; the vote used to fail writing it."""
    from ui.feedback import read, record

    votes = tmp_path / "feedback.jsonl"
    record(votes, evil_answer(), "up", "good \udcff answer")
    assert read(votes)[0]["comment"] == "good \ufffd answer"
    votes.read_bytes().decode("utf-8")  # the file stays valid UTF-8


def test_votes_are_appended_and_approved_answers_export_as_draft_gold_pairs(tmp_path):
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
    exported = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [{k: v for k, v in row.items() if k not in ("vote", "comment")} for row in exported] == pairs
    assert exported[0]["comment"] == "right, and the citation is exact" and exported[0]["vote"] == "up"
    assert "2 draft gold pair(s) from 4 vote(s)" in result.stderr

    result = run_rag("feedback", "export", "--feedback", str(votes), "--votes", "down", timeout=60)
    assert result.returncode == 0, result.stderr
    (down,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert down["question"] == "Who won?" and down["vote"] == "down" and down["answer"] == "Bob. [1]"
    assert down["citations"][0]["start"] == 6 and down["comment"] == ""
    result = run_rag("feedback", "export", "--feedback", str(votes), "--votes", "all", timeout=60)
    assert [json.loads(line)["vote"] for line in result.stdout.splitlines()] == ["up", "up", "down"]
    missing = run_rag("feedback", "export", "--feedback", str(tmp_path / "none.jsonl"), timeout=60)
    assert missing.returncode == 2 and "no feedback yet" in missing.stderr


def test_retrieved_passages_show_their_text_with_the_question_words_marked_and_open_in_the_viewer():
    from ui.render import SCORE_LEGEND, mark_terms, retrieved_html

    assert mark_terms("Sessions <b> chaired", ("session", "chair")) == (
        '<mark class="term">Sessions</mark> &lt;b&gt; <mark class="term">chaired</mark>'
    )
    out = retrieved_html(evil_answer().passages, turn=3)
    assert '<a class="passage-link" href="#passage-3-1"' in out
    assert '<mark class="term">Intro</mark> &lt;script&gt;' in out and "<script>" not in out
    assert out.count(html.escape(SCORE_LEGEND)) == 1 and "dense (closest in meaning" in out
    raw = out[out.index('<details class="scores">') :]
    assert "<summary>raw scores</summary>" in raw and "0.6100" in raw  # the numbers, folded


def test_a_click_names_the_span_to_open_for_a_citation_or_a_passage():
    from ui.app import Target, open_target

    answer = evil_answer()
    assert open_target("c:1:1:7", [None, answer]) == Target("c", 1, 1, "evil.txt", 6, 31, "7")
    assert open_target("p:1:1:8", [None, answer]) == Target("p", 1, 1, "evil.txt", 0, len(EVIL), "8")
    for gone in ("c:1:2:9", "p:1:5:9", "c:0:1:9", "c:7:1:9", "x:1:1:9", "", "c:1", "c:a:1:2"):
        with pytest.raises(ValueError):
            open_target(gone, [None, answer])


def test_a_chat_survives_its_json_and_exports_as_markdown_with_its_citations():
    from ui.conversation import restored, saved, to_markdown

    answer = evil_answer("Intro <script> [1]")
    messages = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "<div>a</div>"}]
    data = json.loads(json.dumps(saved(messages, [None, answer])))  # what the browser keeps
    back_messages, back_answers = restored(data)
    assert back_messages == messages and back_answers[0] is None
    assert back_answers[1].to_json() == answer.to_json()
    for junk in (None, "junk", {"messages": [], "answers": [None]}, {"messages": 1, "answers": []}):
        assert restored(junk) == ([], [])
    md = to_markdown([None, answer])
    assert md.startswith("# Conversation") and "## q\n" in md and "Intro <script> [1]" in md
    assert f"- [1] evil.txt § S <b>, chars 6-31\n\n  > {EVIL[6:31]}" in md


def test_the_slider_reaches_the_same_limit_as_the_cli_and_api():
    from rag.assistant import MAX_K
    from ui.app import MAX_UI_K

    assert MAX_UI_K == MAX_K == 50


def test_documents_removed_go_to_the_trash_and_come_back_and_duplicates_are_refused(tmp_path):
    from rag.corpus import accepted_types, in_trash, restore, save_upload, to_trash

    assert accepted_types() == ".txt, .md, .html, .htm, .pdf or .docx"
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    first = corpus / "sub" / "a.txt"
    first.write_text("Alpha text.\n", encoding="utf-8")
    (corpus / "b.txt").write_text("Beta text.\n", encoding="utf-8")
    with pytest.raises(BadInput, match="already in the corpus as sub/a.txt"):
        save_upload(corpus, "copy.txt", b"Alpha text.\n")
    assert in_trash(corpus) is None
    with pytest.raises(BadInput, match="Nothing to undo"):
        restore(corpus)
    to_trash(corpus, first)
    assert not first.exists() and in_trash(corpus) == "sub/a.txt"
    to_trash(corpus, corpus / "b.txt")  # the trash keeps the last removal only
    assert in_trash(corpus) == "b.txt" and not (corpus / ".trash" / "sub" / "a.txt").exists()
    (corpus / "b.txt").write_text("A new b.\n", encoding="utf-8")
    with pytest.raises(BadInput, match="exists again"):
        restore(corpus)
    (corpus / "b.txt").unlink()
    assert restore(corpus) == corpus / "b.txt" and (corpus / "b.txt").read_text(encoding="utf-8") == "Beta text.\n"
    assert in_trash(corpus) is None


def test_remove_with_nothing_selected_says_what_to_do(assistant):
    from rag.corpus import indexed_source

    for nothing in (None, ""):
        with pytest.raises(BadInput, match="^Select a document to remove.$"):
            indexed_source(assistant, nothing)


def test_indexed_at_is_kept_for_a_document_that_did_not_change(tmp_path, embedder, monkeypatch):
    import index.storage.build
    from index.storage.build import ingest
    from index.storage.store import read_manifest

    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    (corpus / "a.txt").write_text("The lighthouse is kept by Ingrid.\n", encoding="utf-8")
    (corpus / "c.txt").write_text("The ferry is run by Olaf.\n", encoding="utf-8")
    for day, change in [("01", None), ("02", "b.txt"), ("03", "c.txt")]:
        if change:
            (corpus / change).write_text(f"The harbour is run by Maria, day {day}.\n", encoding="utf-8")
        monkeypatch.setattr(
            index.storage.build.time, "strftime", lambda fmt, *a, day=day: f"2026-01-{day}T00:00:00+0000"
        )
        ingest(corpus, index_dir, embedder=embedder, progress=False, log=lambda _: None)
    documents = read_manifest(index_dir)["documents"]
    assert documents["a.txt"]["indexed_at"] == "2026-01-01T00:00:00+0000"  # unchanged since the first build
    assert documents["b.txt"]["indexed_at"] == "2026-01-02T00:00:00+0000"  # added on the second
    assert documents["c.txt"]["indexed_at"] == "2026-01-03T00:00:00+0000"  # edited on the third


def test_serve_on_a_busy_port_says_so_in_one_line_with_the_command_for_another():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_rag("serve", "--port", str(port), timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert f"port {port} on 127.0.0.1 is busy" in line and f"make serve PORT={port + 1}" in line


def test_make_serve_passes_port_and_host():
    import subprocess

    from tests.conftest import ROOT

    out = subprocess.run(
        ["make", "-n", "serve", "PORT=7861", "HOST=0.0.0.0"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert 'rag serve --host "0.0.0.0" --port "7861"' in out.stdout


class HeldByComposer:
    """Holds LLM-composed questions until released; extractive ones are answered at once."""

    def __init__(self) -> None:
        self.held = 0
        self.release = threading.Event()

    def ask(self, question, history=None, k=None, retrieval=None, composer="extractive", sources=None) -> Answer:
        if composer == "llm":
            self.held += 1
            self.release.wait(60)
        return Answer(question, f"{composer} answer", False, (), (), {})


def test_chat_questions_wait_in_their_composers_pool_and_a_full_pool_says_busy():
    """Two LLM questions fill the LLM pool and one more waits in its queue (size 1); the next is told the server
    is busy, while an extractive question is answered at once. Then the held ones end, in the chat."""
    import asyncio

    from ui.app import LLM_WORKERS, build_app

    held = HeldByComposer()
    app = build_app(held, queue_size=1)
    respond = next(f.fn for f in app.fns.values() if getattr(f.fn, "__name__", "") == "respond")

    def ask(question: str, composer: str):
        return respond(question, [], [], 5, "hybrid", composer, None)

    def last(reply) -> str:
        return reply[1][-1]["content"]

    async def scenario():
        slow = [asyncio.create_task(ask(f"slow {i}", "llm")) for i in range(LLM_WORKERS + 1)]
        for _ in range(600):  # until the pool's workers hold their questions and the next one waits
            if held.held == LLM_WORKERS:
                break
            await asyncio.sleep(0.05)
        busy = await ask("one too many", "llm")
        quick = await ask("Who chaired Session II?", "extractive")
        waiting = [task.done() for task in slow]
        held.release.set()
        return busy, quick, waiting, await asyncio.gather(*slow)

    try:
        busy, quick, waiting, slow = asyncio.run(asyncio.wait_for(scenario(), 120))
    finally:
        held.release.set()
    assert "busy" in last(busy) and 'class="error"' in last(busy)
    assert "extractive answer" in last(quick) and waiting == [False] * (LLM_WORKERS + 1)
    assert all("llm answer" in last(reply) for reply in slow)


def test_votes_live_in_data_which_make_clean_keeps_and_the_readme_says_so():
    """#17 item 7: feedback is kept outside the rebuildable index/data, in a folder `make clean` leaves alone."""
    import subprocess

    from tests.conftest import ROOT
    from ui.feedback import DEFAULT_PATH

    assert DEFAULT_PATH == ROOT / "data" / "feedback.jsonl"
    out = subprocess.run(["make", "-n", "clean"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    (removes,) = [line.split() for line in out.stdout.splitlines() if line.startswith("rm ")]
    assert "index/data" in removes and not {"data", "data/"} & set(removes)
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "goes to `data/feedback.jsonl`" in readme and "`make clean` (which deletes the rebuildable" in readme


def test_the_readme_is_a_guide_and_the_measurements_live_in_docs():
    """#17 item 9: what it is, the two commands, the screenshots, a tour of the UI and the CLI, then links; the
    measurements moved to docs/benchmarks.md (the README was 25 KB, most of it benchmark tables). Other issues ask
    the README for a reliability section, a headline table and a scaling section, hence 18 KB, not less."""
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    order = ["# rag:", "## The two commands", "## What it looks like", "### A tour of the chat", "## Command line"]
    at = [readme.index(heading) for heading in order]
    assert at == sorted(at) and readme.index("## More") > at[-1]
    for image in ("docs/screenshot.png", "docs/screenshot-phone.png"):  # taken by tests/test_browser.py
        assert f"]({image})" in readme and (ROOT / image).is_file()
    assert "](docs/benchmarks.md)" in readme and (ROOT / "docs" / "benchmarks.md").is_file()
    assert len(readme.encode("utf-8")) < 18_000 and sum(line.startswith("|") for line in readme.splitlines()) <= 30


def test_an_empty_kept_conversation_leaves_the_chat_alone(assistant):
    """A new visitor's page restores nothing: its restore must not empty a chat that a question asked while the
    page was loading has already filled (under load the restore could land after the answer and wipe it)."""
    from ui import conversation
    from ui.app import build_app

    app = build_app(assistant)
    restore = next(f.fn for f in app.fns.values() if getattr(f.fn, "__name__", "") == "restore")
    assert all(update == {"__type__": "update"} for update in restore(conversation.EMPTY))  # gr.skip(): no change
    messages, answers, *_ = restore(conversation.saved([{"role": "user", "content": "Hi"}], [None]))
    assert messages == [{"role": "user", "content": "Hi"}] and answers == [None]
