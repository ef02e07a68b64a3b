"""The OpenAI-compatible API (issue #19), driven by the official `openai` package against a live `serve`."""

from __future__ import annotations

import http.client
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from rag.answer import Answer, Citation
from tests.conftest import REPORT
from tests.test_ui import BlockingAssistant, free_port, wait_until
from ui.openai_api import ApiError, Gate, authorised, chunks, content, events, parse_request, pieces, without_sources

QUESTION = "Who chaired Session II?"


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


# ---- the protocol's pure parts ----------------------------------------------------------------------------


def test_the_last_user_message_is_the_question_and_earlier_turns_the_history():
    request = parse_request(
        {
            "model": "rag",
            "temperature": 0.2,
            "max_tokens": 50,
            "messages": [
                {"role": "system", "content": "You are helpful."},
                user("Who chaired Session II?"),
                {"role": "assistant", "content": "Dr. X chaired it. [1]\n\nSources:\n[1] a.txt § S (chars 1-9)"},
                {"role": "user", "content": [{"type": "text", "text": "And Session IV?"}]},
            ],
        }
    )
    assert request.question == "And Session IV?"
    assert request.history == (("Who chaired Session II?", "Dr. X chaired it. [1]"),)
    assert request.stream is False and request.sources is None


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"model": "gpt-4o", "messages": [user(QUESTION)]}, "model_not_found"),
        ({"model": "rag", "messages": []}, "invalid_messages"),
        ({"model": "rag", "messages": [user("x" * 2001)]}, "invalid_question"),
        ({"model": "rag", "messages": [user("   ")]}, "invalid_question"),
        ({"model": "rag", "messages": [user(QUESTION), {"role": "assistant", "content": "hi"}]}, "invalid_messages"),
        ({"model": "rag", "messages": [{"role": "wizard", "content": QUESTION}]}, "invalid_role"),
        ({"model": "rag", "messages": [user(QUESTION)], "k": 0}, "invalid_question"),
        ([1, 2], "invalid_body"),
    ],
)
def test_bad_requests_are_400_in_openais_error_shape(body, code):
    with pytest.raises(ApiError) as caught:
        parse_request(body)
    assert caught.value.status == 400
    error = caught.value.to_json()["error"]
    assert error["code"] == code and error["type"] == "invalid_request_error" and error["message"]


def test_content_lists_where_each_citation_is_and_history_drops_that_list():
    cite = Citation(1, "a.txt", "Intro", 127, 226, "Session II was chaired by Dr. ARIUNAA Enkhtur.")
    text = content(Answer("q", "Dr. ARIUNAA Enkhtur chaired it. [1]", False, (cite,), (), {}))
    assert text == "Dr. ARIUNAA Enkhtur chaired it. [1]\n\nSources:\n[1] a.txt § Intro (chars 127-226)"
    assert without_sources(text) == "Dr. ARIUNAA Enkhtur chaired it. [1]"


def test_streamed_pieces_join_back_into_the_text():
    text = "Session II was chaired by Dr. ARIUNAA Enkhtur, Associate Professor at University of Osaka. [1]"
    assert "".join(pieces(text)) == text and len(pieces(text)) > 1
    assert pieces("aa bb cc", 2) == ["aa ", "bb ", "cc"]


def test_the_events_are_the_json_of_each_chunk_byte_for_byte():
    text = 'Dr. “ARIUNAA” said "yes" \\ then\ttab\x01, 大阪 and </script> \u2028 again and again and again. [1]'
    cite = Citation(1, "a b.txt", 'Intro "x"', 127, 226, "Session II was chaired by Dr. ARIUNAA Enkhtur.")
    for answer in (Answer("q", text, False, (cite,), (), {}), Answer("q", "", True, (), (), {})):
        expected = [f"data: {json.dumps(c, ensure_ascii=False)}\n\n" for c in chunks(answer, "chatcmpl-1", 7)]
        assert list(events(answer, "chatcmpl-1", 7)) == expected + ["data: [DONE]\n\n"]


def test_a_key_is_a_bearer_token_and_without_one_only_loopback_is_answered():
    assert authorised("Bearer k1", "k1", "10.0.0.2")
    assert not authorised("Bearer k2", "k1", "127.0.0.1")
    assert not authorised(None, "k1", "127.0.0.1")
    assert authorised(None, None, "127.0.0.1") and authorised("Bearer x", None, "::1")
    assert not authorised(None, None, "10.0.0.2")


def test_a_full_gate_refuses_with_429_while_its_workers_and_queue_are_busy():
    import anyio

    release = threading.Event()
    gate = Gate(workers=2, queue_size=1)

    async def main():
        async with anyio.create_task_group() as tasks:
            for _ in range(3):
                tasks.start_soon(gate.run, lambda: release.wait(60))
            while gate.inside < 3:
                await anyio.sleep(0.01)
            with pytest.raises(ApiError) as caught:
                await gate.run(lambda: "never asked")
            release.set()
        return caught.value

    refused = anyio.run(main)
    assert refused.status == 429 and refused.to_json()["error"]["code"] == "queue_full"
    assert gate.inside == 0


# ---- a live server and the official client ----------------------------------------------------------------


@pytest.fixture(scope="module")
def server(assistant):
    """`serve` in this process on a free loopback port, without a key (loopback clients only)."""
    from ui.app import serve

    app, url = serve(assistant, port=free_port(), prevent_thread_lock=True)
    try:
        yield url
    finally:
        app.close()


def client(url: str, key: str = "not-needed"):
    from openai import OpenAI

    return OpenAI(base_url=url.rstrip("/") + "/v1", api_key=key, max_retries=0)


def streamed(api, messages) -> tuple[str, list[dict], list]:
    """(content, citations, chunks) of one streamed completion."""
    chunks = list(api.chat.completions.create(model="rag", messages=messages, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    citations = [cite for c in chunks for cite in (c.choices[0].delta.model_extra or {}).get("citations", [])]
    return text, citations, chunks


def assert_cites_the_chair(citations: list[dict]) -> dict:
    document = REPORT.read_text(encoding="utf-8")
    cite = next(c for c in citations if "ARIUNAA Enkhtur" in c["text"])
    assert document[cite["start"] : cite["end"]] == cite["text"]
    return cite


@pytest.mark.slow
def test_models_lists_one_model(server):
    assert [m.id for m in client(server).models.list()] == ["rag"]


@pytest.mark.slow
def test_plain_and_streamed_completions_carry_the_same_cited_answer(server, assistant):
    api = client(server)
    reply = api.chat.completions.create(model="rag", messages=[user(QUESTION)], temperature=0.7, max_tokens=10)
    message = reply.choices[0].message
    cite = assert_cites_the_chair(message.model_extra["citations"])
    assert f"[{cite['n']}]" in message.content and reply.choices[0].finish_reason == "stop"
    assert f"Sources:\n[{cite['n']}] {REPORT.name} § {cite['section']} (chars {cite['start']}-{cite['end']})" in (
        message.content
    )
    assert message.content.startswith(assistant.ask(QUESTION).answer)

    text, citations, chunks = streamed(api, [user(QUESTION)])
    assert text == message.content
    assert citations == message.model_extra["citations"]
    assert chunks[0].choices[0].delta.role == "assistant" and chunks[-1].choices[0].finish_reason == "stop"
    assert {c.object for c in chunks} == {"chat.completion.chunk"} and len({c.id for c in chunks}) == 1


@pytest.mark.slow
def test_the_stream_is_server_sent_events_ending_with_done(server):
    port = int(server.rstrip("/").rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    body = json.dumps({"model": "rag", "messages": [user(QUESTION)], "stream": True})
    conn.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
    reply = conn.getresponse()
    raw = reply.read().decode("utf-8")
    conn.close()
    assert reply.status == 200 and reply.getheader("content-type").startswith("text/event-stream")
    events = [block for block in raw.split("\n\n") if block]
    assert all(e.startswith("data: ") for e in events) and events[-1] == "data: [DONE]"
    assert json.loads(events[0][6:])["choices"][0]["delta"]["role"] == "assistant"


@pytest.mark.slow
def test_a_follow_up_is_understood_from_the_history(server, assistant):
    api = client(server)
    first = api.chat.completions.create(model="rag", messages=[user(QUESTION)]).choices[0].message.content
    messages = [user(QUESTION), {"role": "assistant", "content": first}, user("And Session IV?")]
    reply = api.chat.completions.create(model="rag", messages=messages).choices[0].message
    assert "TUNGALAG Chimid" in reply.content and "ARIUNAA" not in reply.content
    expected = assistant.ask("And Session IV?", history=[(QUESTION, first.split("\n\nSources:")[0])])
    assert reply.content.startswith(expected.answer)
    assert any("Session IV was chaired" in c["text"] for c in reply.model_extra["citations"])


@pytest.mark.slow
def test_bad_input_is_refused_with_the_documented_errors(server):
    import openai

    api = client(server)
    with pytest.raises(openai.BadRequestError) as too_long:
        api.chat.completions.create(model="rag", messages=[user("x" * 5000)])
    assert too_long.value.status_code == 400 and "limit is 2000" in too_long.value.message
    assert too_long.value.code == "invalid_question"
    with pytest.raises(openai.BadRequestError) as unknown:
        api.chat.completions.create(model="gpt-4o", messages=[user(QUESTION)], stream=True)
    assert unknown.value.code == "model_not_found" and "'rag'" in unknown.value.message


@pytest.mark.slow
def test_with_a_key_only_bearers_of_it_are_answered(assistant):
    import openai

    from ui.app import serve

    app, url = serve(assistant, port=free_port(), api_key="k-7f1d9c", prevent_thread_lock=True)
    try:
        with pytest.raises(openai.AuthenticationError) as wrong:
            client(url, "k-wrong").chat.completions.create(model="rag", messages=[user(QUESTION)])
        assert wrong.value.status_code == 401 and wrong.value.code == "invalid_api_key"
        with pytest.raises(openai.AuthenticationError):
            client(url, "k-wrong").models.list()
        port = int(url.rstrip("/").rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", "/v1/models")  # no Authorization header at all
        missing = conn.getresponse()
        assert missing.status == 401 and json.loads(missing.read())["error"]["code"] == "invalid_api_key"
        conn.close()
        reply = client(url, "k-7f1d9c").chat.completions.create(model="rag", messages=[user(QUESTION)])
        assert_cites_the_chair(reply.choices[0].message.model_extra["citations"])
    finally:
        app.close()


@pytest.mark.slow
def test_a_full_queue_is_429_through_the_client():
    import openai

    from ui.app import serve

    held = BlockingAssistant()
    app, url = serve(held, port=free_port(), max_size=1, prevent_thread_lock=True)  # 2 workers and 1 waiting place
    try:
        api = client(url)
        ask = lambda api=api: api.chat.completions.create(model="rag", messages=[user(QUESTION)])  # noqa: E731
        with ThreadPoolExecutor(8) as pool:
            jobs = [pool.submit(ask) for _ in range(2)]
            wait_until(lambda: held.running == 2, "both workers to hold a question")
            jobs.append(pool.submit(ask))  # waits for a worker
            refused = None
            while refused is None:  # a probe that finds the place still free waits in it; the next one is refused
                try:
                    jobs.append(pool.submit(ask, api.with_options(timeout=2.0)))
                    jobs[-1].result()
                except openai.RateLimitError as exc:
                    refused = exc
                    jobs.pop()
                except openai.APITimeoutError:
                    jobs.pop()  # its question stays in the queue until the release, answered to nobody
            held.release.set()
            assert [job.result().choices[0].message.content for job in jobs[:2]] == ["held"] * 2
        assert refused.status_code == 429 and refused.code == "queue_full"
    finally:
        held.release.set()
        app.close()


@pytest.mark.slow
def test_sixteen_parallel_streams_answer_as_the_sequential_ones(server):
    from eval.load import gold_questions

    questions = [q for _, q in gold_questions()[:16]]
    api = client(server)

    def one(question: str) -> tuple[str, list[dict]]:
        text, citations, _ = streamed(api, [user(question)])
        return text, citations

    sequential = [one(q) for q in questions]
    with ThreadPoolExecutor(16) as pool:
        parallel = list(pool.map(one, questions))
    assert parallel == sequential
    assert all(text for text, _ in sequential)
