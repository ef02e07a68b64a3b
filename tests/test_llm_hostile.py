"""Hostile LLM replies through the real composer and a scripted chat server: no misstatement is shown as verified.

The suite (tests/hostile_replies.py) is served by tests/llm_server.py; the assistant, model and index are real.
Run with -s to see both rates.
"""

from __future__ import annotations

import json
import shutil
import time

import pytest

from rag.support import clauses, frame_mismatch, frames, role_swap, unsupported_clause
from tests.conftest import REPORT
from tests.hostile_replies import ADVERSARIAL, DOCUMENTS, FAITHFUL
from tests.test_llm import llm, passage_number, server  # noqa: F401  (fixtures)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, embedder):
    """An assistant over the report and the suite's own documents."""
    from rag.assistant import Assistant

    root = tmp_path_factory.mktemp("hostile")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(REPORT, corpus / REPORT.name)
    for name, text in DOCUMENTS.items():
        (corpus / name).write_text(text, encoding="utf-8")
    return Assistant(corpus, root / "index", embedder=embedder, log=lambda _: None, progress=False)


def _shown(assistant, llm, case: tuple[str, str, str, str], i: int) -> bool:  # noqa: F811
    """True when the reply's sentence is shown as verified, with a citation."""
    kind, question, needle, reply = case
    n = passage_number(assistant.ask(question, k=8), needle)
    llm(f"hostile{i}", content=reply.format(n=n))
    answer = assistant.ask(question, k=8, composer="llm")
    claim = reply.split(" [")[0].rstrip(".")
    return answer.notice is None and bool(answer.citations) and claim in answer.answer


@pytest.mark.heavy  # its own real-model index, many LLM round trips
def test_no_adversarial_reply_is_verified_and_faithful_ones_are_kept(hostile, llm):  # noqa: F811
    assert len(ADVERSARIAL) >= 60
    shown = [case for i, case in enumerate(ADVERSARIAL) if _shown(hostile, llm, case, i)]
    kept = [case for i, case in enumerate(FAITHFUL) if _shown(hostile, llm, case, 1000 + i)]
    lost = [case[3] for case in FAITHFUL if case not in kept]
    print(
        f"\nadversarial shown as verified: {len(shown)}/{len(ADVERSARIAL)}; "
        f"faithful kept: {len(kept)}/{len(FAITHFUL)} ({len(kept) / len(FAITHFUL):.0%}); lost: {lost}"
    )
    assert [case[3] for case in shown] == []
    assert len(kept) >= 0.9 * len(FAITHFUL), lost


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("It is false that the board did not meet all week.", {"quantifier:all"}),
        ("The board rejected the claim that it is safe.", {"disputed"}),
        ("If it is rebuilt, it may reopen in May 2026.", {"conditional", "hedged"}),
        ("Partners have not only helped but also funded it.", set()),
        ("Inspectors estimate that about 300 tonnes were removed.", {"quantifier:about"}),
    ],
)
def test_frames_are_what_changes_an_assertion(text, expected):
    assert frames(text) == expected


def test_a_claim_must_keep_the_frame_around_what_it_restates():
    source = ["The review board rejected the claim that the Velmore dam is safe."]
    assert frame_mismatch("The Velmore dam is safe.", source) == "drops the disputed frame of its source"
    assert frame_mismatch("The board rejected the claim that the Velmore dam is safe.", source) == ""
    assert "hedged" in frame_mismatch("It may reopen in 2026.", ["It will reopen in 2026."])
    # A frame in a clause the claim does not restate does not bind it.
    choi = ["Dr. Choi said that while organisations each bring strengths, success depends on close collaboration."]
    assert frame_mismatch("Dr. Choi said success depends on close collaboration.", choi) == ""


def test_each_clause_and_role_needs_its_own_support():
    span = ["Dr. Amara Osei led the trial, and Dr. Tomas Rieck analysed the data."]
    assert unsupported_clause("Dr. Amara Osei led the trial, who later resigned in disgrace.", span) == (
        "who later resigned in disgrace."
    )
    assert unsupported_clause("Dr. Amara Osei led the trial.", span) == ""
    assert role_swap("Dr. Tomas Rieck led the trial.", span[0]) != ""
    assert role_swap("Dr. Amara Osei led the trial.", span[0]) == ""
    assert role_swap("Brennan Logistics fined the Harlow Council.", "The Harlow Council fined Brennan Logistics.")
    assert not role_swap(
        "Brennan Logistics was fined by the Harlow Council.", "The Harlow Council fined Brennan Logistics."
    )
    assert clauses("It is false that the dam is safe")[1] == ("that", "that the dam is safe")


def test_one_deadline_bounds_the_whole_llm_call(assistant, llm):  # noqa: F811
    """A server dripping a byte every 20 ms answers every read in time; the call must still end at the deadline."""
    llm("drip", timeout=1, drip=0.02, content="NOT IN DOCUMENTS " * 60)  # about 22 s to send in full
    started = time.monotonic()
    answer = assistant.ask("Who chaired Session II?", composer="llm")
    # Cut at the deadline, not when the last byte arrived (http.client drops the socket it reads the body from).
    assert time.monotonic() - started < 11
    assert answer.notice == "LLM unavailable (timeout after 1 s); extractive answer shown"
    assert answer.abstained is False and answer.citations


def test_the_api_key_never_follows_a_redirect_to_another_origin(assistant, llm, server, monkeypatch):  # noqa: F811
    from tests.test_llm import _requests

    elsewhere = server.replace("127.0.0.1", "localhost") + "/elsewhere/v1/chat/completions"
    llm("hop", status=302, redirect=elsewhere)
    monkeypatch.setenv("RAG_LLM_API_KEY", "secret-key")
    answer = assistant.ask("Who chaired Session II?", composer="llm")
    assert answer.notice.startswith("LLM unavailable")
    assert _requests(server, "hop")[-1]["headers"].get("Authorization") == "Bearer secret-key"
    followed = _requests(server, "elsewhere")
    assert all("secret-key" not in json.dumps(r["headers"]) for r in followed)


@pytest.mark.slow  # a live server; two LLM replies dripped until their deadline
def test_slow_llm_questions_never_hold_the_workers_an_extractive_question_needs(assistant, llm, server):  # noqa: F811
    """Two chat questions wait on an LLM dripping its reply (the UI has two workers); a third user's extractive
    question must still be answered at once, before either LLM call ends (it used to wait for both)."""
    import threading

    from tests.test_llm import _requests
    from tests.test_ui import chat_question, chat_reply, free_port
    from ui.app import serve

    llm("slow", timeout=40, drip=0.05, content="NOT IN DOCUMENTS " * 200)  # 170 s to send; cut at 40 s
    app, url = serve(assistant, port=free_port(), prevent_thread_lock=True)
    url = url if url.endswith("/") else url + "/"
    try:
        fn_index = next(i for i, f in app.fns.items() if getattr(f.fn, "__name__", "") == "respond")
        done: dict[str, tuple[int, str]] = {}
        readers = []
        for name, composer in (("llm-1", "llm"), ("llm-2", "llm")):
            session = chat_question(url, fn_index, "Who chaired Session II?", composer)
            readers.append(threading.Thread(target=chat_reply, args=(url, session, done, name), daemon=True))
            readers[-1].start()
        deadline = time.monotonic() + 120
        while len(_requests(server, "slow")) < 2:  # both LLM calls under way: the two are held
            assert time.monotonic() < deadline and not done, f"the LLM calls did not start: {done}"
            time.sleep(0.1)
        session = chat_question(url, fn_index, "Who chaired Session II?", "extractive")
        chat_reply(url, session, done, "extractive")
        assert list(done) == ["extractive"], f"the extractive question waited for the LLM ones: {done}"
        assert "ARIUNAA" in done["extractive"][1]
        for reader in readers:
            reader.join(timeout=180)
        assert sorted(done) == ["extractive", "llm-1", "llm-2"]
        for name in ("llm-1", "llm-2"):  # held to their deadline, then the extractive answer with a notice
            assert "LLM unavailable (timeout after 40 s)" in done[name][1], done[name]
    finally:
        app.close()
