"""Hostile input from issue #21: links out of the corpus, unreadable files, foreign index folders, terminal
escapes in names, broken batch lines, and the query encoder's temporaries. Each test fails on the old code."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import pathlib
import shutil
from contextlib import redirect_stdout

import pytest

from index.errors import IngestError
from tests.conftest import RAG, REPORT, run_rag
from tests.test_embed import WordHashEmbedder

QUIET = {"progress": False, "log": lambda _: None}


@pytest.fixture
def corpus(tmp_path):
    """A corpus folder holding a copy of the report."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(REPORT, folder / REPORT.name)
    return folder


def test_a_link_out_of_the_corpus_is_never_read(corpus, tmp_path):
    from index.load.documents import load_corpus
    from index.storage.build import corpus_state

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("The launch code is 4471 and the vault is under the lake.\n")
    (corpus / "leak.txt").symlink_to(outside / "secret.txt")
    (corpus / "linked").symlink_to(outside, target_is_directory=True)
    (corpus / "alias.txt").symlink_to(corpus / REPORT.name)  # a link inside the corpus is read (a copy: skipped)
    documents, skipped = load_corpus(corpus)
    assert sorted(d.source for d in documents) == [REPORT.name]
    assert all("4471" not in d.text for d in documents)
    reasons = {s.source: s.reason for s in skipped}
    assert set(reasons) >= {"leak.txt"} and "outside the corpus" in reasons["leak.txt"]
    assert "already indexed as" in reasons["alias.txt"]
    assert set(corpus_state(corpus)) == {REPORT.name, "alias.txt"}


def test_removing_a_linked_document_removes_the_link_not_its_target(corpus):
    from types import SimpleNamespace

    from index.storage.store import Manifest
    from rag.corpus import indexed_source

    (corpus / "alias.txt").symlink_to(corpus / REPORT.name)
    assistant = SimpleNamespace(
        index=SimpleNamespace(manifest=Manifest("m", 1, documents={"alias.txt": {"chunks": 1}})), corpus_dir=corpus
    )
    path = indexed_source(assistant, "alias.txt")
    assert path.is_symlink() and path.name == "alias.txt"


def _unreadable(monkeypatch, path: pathlib.Path) -> None:
    """Make `path` unreadable: chmod 000, and (root reads anyway) every open of it fails as it would."""
    path.chmod(0)
    real_open = pathlib.Path.open

    def guarded(self, *args, **kwargs):
        if os.path.abspath(self) == os.path.abspath(path):
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "open", guarded)


def test_an_unreadable_file_is_skipped_with_its_reason_and_ingest_and_ask_go_on(corpus, tmp_path, monkeypatch):
    from index.storage.build import ingest
    from rag.assistant import Assistant

    locked = corpus / "locked.txt"
    locked.write_text("Nothing to see here, the session was chaired by nobody.\n")
    _unreadable(monkeypatch, locked)
    toy = WordHashEmbedder()
    report = ingest(corpus, tmp_path / "index", embedder=toy, **QUIET)
    assert [(s.source, "Permission denied" in s.reason) for s in report.skipped] == [("locked.txt", True)]
    assert str(corpus) not in report.skipped[0].reason  # named by its place in the corpus, not on the server
    assistant = Assistant(corpus, tmp_path / "index", embedder=toy, **QUIET)  # not rebuilt, not refused
    assert assistant.ask("Who chaired Session II?").citations
    locked.chmod(0o644)


def test_an_index_folder_that_is_not_an_index_is_refused_and_left_alone(corpus, tmp_path):
    folder = tmp_path / "mine"
    (folder / "build-scripts").mkdir(parents=True)
    (folder / "build-scripts" / "deploy.sh").write_text("echo deploy\n")
    (folder / "notes.txt").write_text("my notes\n")
    result = run_rag("ingest", "--corpus", str(corpus), "--index", str(folder))
    assert result.returncode == 2, result.stderr
    assert "not a rag index" in result.stderr and result.stderr.count("\n") == 1
    assert (folder / "build-scripts" / "deploy.sh").is_file() and (folder / "notes.txt").is_file()


def test_an_index_prunes_only_the_builds_it_wrote(corpus, tmp_path):
    from index.storage.build import ingest

    index, toy = tmp_path / "index", WordHashEmbedder()
    ingest(corpus, index, embedder=toy, **QUIET)
    (index / "build-scripts").mkdir()  # the user's, in a marked index folder
    (index / "build-notes.txt").write_text("keep me\n")
    ingest(corpus, index, embedder=toy, force=True, **QUIET)
    assert (index / "build-scripts").is_dir() and (index / "build-notes.txt").is_file()
    assert len([p for p in index.iterdir() if p.name.startswith("build-2")]) == 1


@pytest.mark.parametrize("case", ["index-is-a-file", "index-is-the-corpus", "corpus-is-a-file"])
def test_bad_folders_are_one_line_and_exit_2(corpus, tmp_path, case):
    a_file = tmp_path / "a-file.txt"
    a_file.write_text("not a folder\n")
    args, expected = {
        "index-is-a-file": (["--corpus", str(corpus), "--index", str(a_file)], "is a file, not a folder"),
        "index-is-the-corpus": (["--corpus", str(corpus), "--index", str(corpus)], "inside the corpus"),
        "corpus-is-a-file": (["--corpus", str(a_file), "--index", str(tmp_path / "i")], "is a file, not a folder"),
    }[case]
    for command in (["ingest"], ["ask", "Who chaired Session II?"]):
        result = run_rag(*command, *args)
        assert result.returncode == 2, result.stderr
        assert expected in result.stderr and result.stderr.count("\n") == 1
    assert a_file.read_text() == "not a folder\n"


def test_a_current_pointer_with_invalid_utf8_is_rebuilt(corpus, tmp_path):
    from index.storage.build import ingest
    from rag.assistant import Assistant

    index, toy = tmp_path / "index", WordHashEmbedder()
    ingest(corpus, index, embedder=toy, **QUIET)
    (index / "CURRENT").write_bytes(b"build-\xff\xfe\n")
    assistant = Assistant(corpus, index, embedder=toy, **QUIET)
    assert assistant.ask("Who chaired Session II?").citations
    assert (index / "CURRENT").read_text(encoding="utf-8").startswith("build-")


def test_names_and_text_are_printed_with_control_characters_escaped(assistant):
    from index.load.documents import Skipped
    from index.storage.build import IngestReport
    from rag.cli import _print_answer

    evil = "evil\x1b]0;pwned\x07\x1b[2J\nname\u202e.txt"
    answer = assistant.ask("Who chaired Session II?")
    answer = dataclasses.replace(
        answer,
        citations=tuple(dataclasses.replace(c, source=evil, text=c.text + "\x1b[31m") for c in answer.citations),
    )
    out = io.StringIO()
    with redirect_stdout(out):
        _print_answer(answer)
    printed = out.getvalue()
    assert "\x1b" not in printed and "\u202e" not in printed and "\x07" not in printed
    assert "evil\\x1b]0;pwned\\x07\\x1b[2J\\nname\\u202e.txt" in printed
    summary = IngestReport(True, "", 1, 1, 0, 1, (Skipped(evil, "bad\nreason"),), 0.1).summary()
    assert "\x1b" not in summary and summary.count("\n") == 1


def test_batch_answers_every_row_with_one_error_line_for_a_broken_one(tmp_path, report_index):
    batch = tmp_path / "questions.jsonl"
    batch.write_text(
        '{"id": "q1", "question": "Who chaired Session II?"}\n'
        '{"id": "q2", "question": "Who chaired \\udc80 Session IV?"}\n'
        '{"id": "q1", "question": "Who chaired Session IV?"}\n',
        encoding="utf-8",
    )
    result = run_rag("ask", "--json", "--batch", str(batch), "--index", str(report_index))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in rows] == ["q1", "q2", "q1"]
    assert "error" in rows[1] and "UTF-8" in rows[1]["error"] and "answer" in rows[2]
    assert "id 'q1' repeats line 1" in result.stderr


def test_a_question_that_is_not_utf8_is_bad_input_with_valid_output():
    import subprocess

    from tests.conftest import ROOT, subprocess_env

    result = subprocess.run(
        [str(RAG), "ask", "--json", b"Who chaired \xff Session II?"],
        capture_output=True,
        env=subprocess_env(),
        cwd=ROOT,
    )
    assert result.returncode == 2
    result.stderr.decode("utf-8")  # valid UTF-8, one line
    assert b"not UTF-8" in result.stderr and result.stderr.count(b"\n") == 1


def test_the_query_encoder_export_keeps_its_temporaries_in_the_index_folder(tmp_path):
    from index.encode.onnx_export import scratch
    from index.storage.folder import claim_index_dir

    index = tmp_path / "index"
    claim_index_dir(index)
    work = scratch(index)
    assert work.parent == index
    dead = index / ".onnx-export-999999999"  # a killed export's leftovers (no such process)
    dead.mkdir()
    (dead / "fp32.onnx").write_bytes(b"\0" * 1024)
    claim_index_dir(index)  # the next start
    assert not dead.exists() and work.exists()
    shutil.rmtree(work)


def test_ingest_refuses_with_ingest_error_before_touching_a_users_folder(corpus, tmp_path):
    from index.storage.build import ingest

    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "thesis.tex").write_text("\\documentclass{article}\n")
    with pytest.raises(IngestError, match="not a rag index"):
        ingest(corpus, folder, embedder=WordHashEmbedder(), **QUIET)
    assert sorted(p.name for p in folder.iterdir()) == ["thesis.tex"]


def test_a_password_on_the_command_line_is_warned_about():
    result = run_rag("serve", "--auth", "admin:hunter2", "--port", "0")
    assert result.returncode == 2  # the bad port stops it before anything is served
    assert "RAG_AUTH" in result.stderr and "ps" in result.stderr


def test_serving_other_machines_without_a_login_is_refused(tmp_path):
    result = run_rag("serve", "--host", "0.0.0.0", "--port", "0")
    assert result.returncode == 2 and result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert "--host 0.0.0.0" in result.stderr and "--auth-file" in result.stderr
    login = tmp_path / "login"
    login.write_text("ann:s3cret\n", encoding="utf-8")
    result = run_rag("serve", "--host", "0.0.0.0", "--auth-file", str(login), "--port", "0")
    assert result.returncode == 2 and "--port must be" in result.stderr  # past the login check, stopped by the port
    assert "warning" not in result.stderr  # the password came from a file, not argv
    result = run_rag("serve", "--auth-file", str(tmp_path / "missing"), "--port", "0")
    assert result.returncode == 2 and "cannot read --auth-file" in result.stderr


def test_failed_logins_from_one_client_wait_longer_each_time_and_a_right_one_starts_again():
    from ui.throttle import FREE_FAILURES, MAX_WAIT_SECONDS, WINDOW_SECONDS, Throttle

    now = [0.0]
    throttle = Throttle(clock=lambda: now[0], max_clients=3)
    for _ in range(FREE_FAILURES - 1):
        throttle.failed("10.0.0.5")
    assert throttle.wait("10.0.0.5") == 0  # a few typos never wait
    throttle.failed("10.0.0.5")
    assert throttle.wait("10.0.0.5") == 1 and throttle.wait("10.0.0.6") == 0  # only the guessing client waits
    throttle.failed("10.0.0.5")
    assert throttle.wait("10.0.0.5") == 2
    now[0] += 2
    assert throttle.wait("10.0.0.5") == 0  # not blocked for ever
    for _ in range(40):
        throttle.failed("10.0.0.5")
    assert throttle.wait("10.0.0.5") == MAX_WAIT_SECONDS
    throttle.succeeded("10.0.0.5")
    assert throttle.wait("10.0.0.5") == 0
    for _ in range(FREE_FAILURES):
        throttle.failed("2001:db8::1")
    assert throttle.wait("2001:db8::ffff") == 1  # one machine's /64 is one client
    now[0] += WINDOW_SECONDS + 1
    assert throttle.wait("2001:db8::1") == 0  # old failures are forgotten
    for n in range(10):
        throttle.failed(f"10.1.0.{n}")
    assert len(throttle) == 3  # memory is bounded


# ---- Disk full (item 7): one line and exit 2, the last build keeps answering, an upload is rolled back --------

ASK = "Who chaired Session II?"


def _disk_fills_at_build_write(monkeypatch) -> None:
    """Every build write runs out of space midway, as on a full disk (write_build's own cleanup then runs)."""
    import errno

    import index.storage.store

    def full(path, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(index.storage.store, "_save_rows", full)


def _toy_model(monkeypatch) -> None:
    """`rag` in-process with the toy embedder, so no transformer loads."""
    import index.storage.build
    import rag.assistant

    monkeypatch.setattr(index.storage.build, "SentenceTransformerEmbedder", lambda *a, **k: WordHashEmbedder())
    monkeypatch.setattr(rag.assistant, "SentenceTransformerEmbedder", lambda *a, **k: WordHashEmbedder())


def _rag(capsys, *argv: str) -> tuple[int, str, str]:
    from rag.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_ingest_and_ask_on_a_full_disk_say_so_in_one_line_and_exit_2(corpus, tmp_path, monkeypatch, capsys):
    _toy_model(monkeypatch)
    _disk_fills_at_build_write(monkeypatch)
    index = tmp_path / "index"
    for argv in (["ingest"], ["ask", ASK]):  # no build to fall back on: ask cannot answer either
        code, out, err = _rag(capsys, argv[0], "--corpus", str(corpus), "--index", str(index), *argv[1:])
        assert code == 2 and out == "", err
        said = [line for line in err.splitlines() if line.startswith("rag:")]  # the rest is the progress bar
        assert len(said) == 1 and said[0].startswith("rag: error: the disk is full"), err
        assert "Traceback" not in err and str(tmp_path) not in said[0]
    assert not [p.name for p in index.iterdir() if "build-" in p.name]  # no partial build left behind


def test_ask_answers_from_the_last_build_with_a_warning_when_the_disk_is_full(corpus, tmp_path, monkeypatch, capsys):
    from index.storage.store import current_build
    from rag.assistant import Assistant

    _toy_model(monkeypatch)
    index = tmp_path / "index"
    assert _rag(capsys, "ingest", "--corpus", str(corpus), "--index", str(index))[0] == 0
    build = current_build(index)
    (corpus / "owls.txt").write_text("Owls hunt at night.\n", encoding="utf-8")  # the corpus changed: a rebuild is due
    _disk_fills_at_build_write(monkeypatch)
    code, out, err = _rag(capsys, "ask", "--corpus", str(corpus), "--index", str(index), ASK)
    assert code == 0 and "Sources:" in out and "(note: answered from the last complete index" in out, err
    assert "warning: the disk is full" in err and "answering from the last complete build" in err
    logs: list[str] = []
    served = Assistant(corpus, index, embedder=WordHashEmbedder(), log=logs.append, progress=False)  # as serve does
    assert served.ask(ASK).citations and any("disk is full" in line for line in logs)
    assert current_build(index) == build


def test_an_upload_that_cannot_be_saved_on_a_full_disk_leaves_nothing_and_no_server_path(corpus, monkeypatch):
    from rag.corpus import save_upload
    from rag.errors import BadInput

    before = sorted(p.name for p in corpus.iterdir())
    real_write = pathlib.Path.write_bytes

    def half_then_full(self, data):
        import errno

        if self.name.startswith(".upload-"):
            real_write(self, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return real_write(self, data)

    monkeypatch.setattr(pathlib.Path, "write_bytes", half_then_full)
    with pytest.raises(BadInput) as caught:
        save_upload(corpus, "owls.txt", b"Owls hunt at night.\n")
    assert "the disk is full" in str(caught.value) and str(corpus) not in str(caught.value)
    assert sorted(p.name for p in corpus.iterdir()) == before


def test_an_upload_the_index_cannot_take_on_a_full_disk_is_rolled_back(corpus, tmp_path, monkeypatch):
    from rag.assistant import Assistant
    from ui.app import build_app

    index = tmp_path / "index"
    assistant = Assistant(corpus, index, embedder=WordHashEmbedder(), **QUIET)
    app = build_app(assistant)
    add = next(f.fn for f in app.fns.values() if getattr(f.fn, "__name__", "") == "add_documents")
    upload = tmp_path / "owls.txt"
    upload.write_text("Owls hunt at night. They sleep by day.\n", encoding="utf-8")
    before = sorted(p.name for p in corpus.iterdir())
    _disk_fills_at_build_write(monkeypatch)
    message = add([str(upload)], None)[0]
    assert "The index was not updated: the disk is full" in message and str(tmp_path) not in message
    assert sorted(p.name for p in corpus.iterdir()) == before  # the upload was taken out again


def test_memory_mapped_files_are_allocated_up_front(tmp_path):
    # A write into a sparse memory map on a full disk is a SIGBUS that kills the process; allocated, it cannot be.
    from numpy.lib.format import open_memmap

    from index.storage.store import reserve_space

    path = tmp_path / "rows.npy"
    open_memmap(path, mode="w+", dtype="float32", shape=(4096, 64))
    reserve_space(path)
    assert path.stat().st_blocks * 512 >= path.stat().st_size


def test_a_disk_too_full_for_the_vectors_is_disk_full_and_the_last_build_stays(corpus, tmp_path, monkeypatch):
    import errno

    from index.errors import DiskFull
    from index.storage.build import ingest
    from index.storage.store import current_build

    index, toy = tmp_path / "index", WordHashEmbedder()
    ingest(corpus, index, embedder=toy, **QUIET)
    build = current_build(index)

    def full(fd, offset, length):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "posix_fallocate", full)
    with pytest.raises(DiskFull, match="the disk is full"):
        ingest(corpus, index, embedder=toy, force=True, **QUIET)
    assert current_build(index) == build


def test_a_documents_change_while_another_process_builds_is_refused_not_left_unindexed(corpus, tmp_path):
    # The Documents tab undoes a change when reloading raises; answering from the old build would keep the
    # upload in the corpus while saying "the index is up to date".
    from index.storage.build import IndexBusy, _WriterLock, ingest
    from rag.assistant import Assistant
    from rag.corpus import reload

    index, toy = tmp_path / "index", WordHashEmbedder()
    ingest(corpus, index, embedder=toy, **QUIET)
    assistant = Assistant(corpus, index, embedder=toy, **QUIET)
    (corpus / "owls.txt").write_text("Owls hunt at night.\n", encoding="utf-8")
    with _WriterLock(index), pytest.raises(IndexBusy):
        reload(assistant, progress=False)


@pytest.mark.slow  # a live server
def test_a_chat_question_with_a_lone_surrogate_is_one_error_line_and_no_traceback(assistant, capfd):
    """A lone surrogate (bytes that were not UTF-8) in a chat question used to end in an ASGI traceback: the
    reply echoing it could not be encoded. Now it is refused in words and the next question is answered."""
    from tests.test_ui import chat_question, chat_reply, free_port
    from ui.app import serve

    app, url = serve(assistant, port=free_port(), prevent_thread_lock=True)
    url = url if url.endswith("/") else url + "/"
    try:
        fn_index = next(i for i, f in app.fns.items() if getattr(f.fn, "__name__", "") == "respond")
        done: dict = {}
        for name, question in (("broken", "Who chaired \ud800 Session II?"), ("next", "Who chaired Session II?")):
            chat_reply(url, chat_question(url, fn_index, question, "extractive"), done, name)
    finally:
        app.close()
    assert "not UTF-8 text" in done["broken"][1] and "Who chaired \ufffd Session II?" in done["broken"][1]
    assert "ARIUNAA" in done["next"][1]
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Exception in ASGI" not in err, err[-2000:]


SERVER_PLACE = "/srv/secret-place/rag/corpus"


class PathLeakingAssistant:
    """Names where its corpus sits on the server in every failure: a bad question says the folder, anything else
    fails inside with an OSError holding a file's full path."""

    def ask(self, question, history=None, k=None, retrieval=None, composer="extractive", sources=None):
        from rag.errors import BadInput

        if "bad" in question:
            raise BadInput(f"corpus folder {SERVER_PLACE} does not exist; create it or pass --corpus DIR")
        raise PermissionError(13, "Permission denied", f"{SERVER_PLACE}/private.txt")


def test_messages_for_the_web_cut_server_paths_to_their_last_part():
    from ui.feedback import DEFAULT_PATH, shown
    from ui.render import error_html, public

    assert public(f"corpus folder {SERVER_PLACE} does not exist") == "corpus folder …/corpus does not exist"
    assert (
        public(f"[Errno 13] Permission denied: '{SERVER_PLACE}/a b.txt'") == "[Errno 13] Permission denied: '…/a b.txt'"
    )
    assert public(f"no index in {SERVER_PLACE}/; run it") == "no index in …/corpus; run it"
    kept = "see http://a/b/c and/or 6/31, chars 6-31, a /single name"  # URLs, words, numbers are no paths
    assert public(kept) == kept
    assert "secret-place" not in error_html(f"The index was not updated: no indexable documents in {SERVER_PLACE}")
    assert shown(DEFAULT_PATH) == "data/feedback.jsonl" and shown(pathlib.Path("/srv/votes/v.jsonl")) == "v.jsonl"


def test_a_documents_change_the_index_refuses_names_no_server_path(corpus, tmp_path, monkeypatch):
    from rag import corpus as documents
    from rag.assistant import Assistant
    from ui.app import build_app

    assistant = Assistant(corpus, tmp_path / "index", embedder=WordHashEmbedder(), **QUIET)
    app = build_app(assistant, feedback_path=tmp_path / "votes" / "feedback.jsonl")
    assert str(tmp_path) not in json.dumps(app.config, default=str)  # the page names the votes file, not its folder
    add = next(f.fn for f in app.fns.values() if getattr(f.fn, "__name__", "") == "add_documents")
    upload = tmp_path / "owls.txt"
    upload.write_text("Owls hunt at night. They sleep by day.\n", encoding="utf-8")

    def refuses(_assistant):
        raise IngestError(f"no indexable documents in {corpus} (supported: .txt); add some and retry")

    monkeypatch.setattr(documents, "reload", refuses)
    message = add([str(upload)], None)[0]
    assert "The index was not updated: no indexable documents in …/corpus" in message
    assert str(tmp_path) not in message


@pytest.mark.slow  # a live server
def test_no_server_path_reaches_the_chat_the_ask_api_or_v1():
    import urllib.error
    import urllib.request

    from gradio_client import Client

    from tests.test_ui import chat_question, chat_reply, free_port
    from ui.app import serve

    app, url = serve(PathLeakingAssistant(), port=free_port(), prevent_thread_lock=True)
    url = url if url.endswith("/") else url + "/"
    try:
        fn_index = next(i for i, f in app.fns.items() if getattr(f.fn, "__name__", "") == "respond")
        done: dict = {}
        for name in ("bad question", "a question that fails inside"):
            chat_reply(url, chat_question(url, fn_index, name, "extractive"), done, name)
        assert "…/corpus does not exist" in done["bad question"][1]
        with pytest.raises(Exception) as caught:
            Client(url, verbose=False).predict("bad question", api_name="/ask")
        assert "…/corpus does not exist" in str(caught.value)
        replies = []
        for question in ("bad question", "a question that fails inside"):
            body = json.dumps({"model": "rag", "messages": [{"role": "user", "content": question}]}).encode()
            request = urllib.request.Request(f"{url}v1/chat/completions", body, {"Content-Type": "application/json"})
            try:
                urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=30)
            except urllib.error.HTTPError as exc:
                replies.append(exc.read().decode())
        assert "…/corpus does not exist" in replies[0]
    finally:
        app.close()
    shown = [*done.values(), str(caught.value), *replies]
    assert len(replies) == 2 and all("secret-place" not in str(text) for text in shown), shown


def test_command_line_messages_name_folders_as_the_user_reaches_them(tmp_path, monkeypatch):
    """The default corpus and index are absolute paths into the project; messages named them so ("no index in
    /home/.../index/data/main"). Inside the working folder a path is shown relative to it, elsewhere as given."""
    from index.load.documents import corpus_files
    from index.storage.build import IndexSettings, stale_reason
    from index.text.cleaning import shown_path

    monkeypatch.chdir(tmp_path)
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.txt").write_text("Owls hunt at night.\n", encoding="utf-8")
    assert shown_path(tmp_path / "index" / "data") == "index/data" and shown_path("/srv/x\n") == "/srv/x\\n"
    with pytest.raises(IngestError, match=r"^corpus folder missing does not exist"):
        corpus_files(tmp_path / "missing")
    reason = stale_reason(tmp_path / "corpus", tmp_path / "index", IndexSettings())
    assert reason == "no index in index"


def test_the_export_and_its_quantizer_write_their_temporaries_in_the_index_folder(tmp_path, monkeypatch):
    """A kill during the export left ~260 MB in the system temp folder each time: the export's files and the
    quantizer's own temporaries (tempfile) must go to the index folder's scratch, which the next start removes."""
    import tempfile

    from index.encode import onnx_export
    from index.encode.embed import SentenceTransformerEmbedder
    from index.storage.folder import claim_index_dir

    index = tmp_path / "index"
    claim_index_dir(index)
    seen: dict[str, pathlib.Path] = {}

    def export(model, name, texts, work, log):  # stands in for the real export, which takes a minute
        seen["work"], seen["temp"] = work, pathlib.Path(tempfile.gettempdir())
        return None

    monkeypatch.setattr(onnx_export, "export_query_encoder", export)
    monkeypatch.setattr(onnx_export, "_EXPORTED", {})
    embedder = SentenceTransformerEmbedder()
    monkeypatch.setattr(embedder, "_model", lambda: None)
    onnx_export.for_build(embedder, embedder.model_id, ["Owls hunt at night."], index, lambda _: None)
    assert seen["work"].parent == index and seen["temp"] == seen["work"]
    assert pathlib.Path(tempfile.gettempdir()) != seen["work"]  # put back afterwards
