"""An OpenAI-compatible chat API over the Assistant, so chat front ends (Open WebUI, LibreChat, editors with an
"OpenAI-compatible" setting) use it without glue code. Mounted by `ui.app.serve` on the UI's own app, so the
web guard (`ui.web`) stands in front of it too.

- `GET /v1/models` lists one model, `rag`.
- `POST /v1/chat/completions`: the last user message is the question, earlier turns the history for follow-ups.
  The reply's content is the answer with its [n] markers and a "Sources:" list; the message also carries the
  citations as JSON (`citations`, an extension other clients ignore). `stream: true` sends the same reply as
  Server-Sent Events in OpenAI's chunk format, ending with `data: [DONE]`.
- With a key (RAG_API_KEY, else the `--auth` password) every request needs `Authorization: Bearer KEY`;
  without one only this machine's own clients are answered.
- Errors have OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`: 400 bad input, 401 no or
  wrong key, 429 when the API's queue is full.
"""

from __future__ import annotations

import hmac
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from rag.answer import Answer
from rag.errors import BadInput

MODEL = "rag"
WORKERS = 2  # questions answered at once, as the UI's queue does
QUEUE_SIZE = 64  # questions waiting beyond the workers before a 429
ROLES = ("system", "developer", "user", "assistant", "tool")
SOURCES_HEADING = "\n\nSources:\n"
RELATED_HEADING = "\n\nRelated reading:\n"
PIECE_CHARS = 40  # streamed content comes in pieces of about this many characters, split after a space


class ApiError(Exception):
    """A request the API refuses, with the HTTP status and OpenAI's error type and code."""

    def __init__(self, status: int, message: str, code: str, param: str | None = None, type="invalid_request_error"):
        super().__init__(message)
        self.status, self.code, self.type, self.param = status, code, type, param

    def to_json(self) -> dict[str, Any]:
        return {"error": {"message": str(self), "type": self.type, "param": self.param, "code": self.code}}


@dataclass(frozen=True)
class ChatRequest:
    """What a chat completion asks: the question, the earlier (question, answer) turns, and how to reply."""

    question: str
    history: tuple[tuple[str, str], ...] = ()
    stream: bool = False
    k: int | None = None
    sources: tuple[str, ...] | None = None


def _text(content: object, where: str) -> str:
    """A message's text: a string, or the text parts of a list of content parts (images are not read)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(p, dict) for p in content):
        return "\n".join(p["text"] for p in content if p.get("type") == "text" and isinstance(p.get("text"), str))
    raise ApiError(400, f"{where}.content must be a string or a list of content parts", "invalid_content", param=where)


def without_sources(content: str) -> str:
    """An earlier answer as the history needs it: the text with its markers, not the lists under it.

    Example: without_sources("Dr. X chaired it. [1]\\n\\nSources:\\n[1] a.txt") -> "Dr. X chaired it. [1]"
    """
    for heading in (SOURCES_HEADING, RELATED_HEADING):
        content = content.split(heading, 1)[0]
    return content


def parse_request(body: object) -> ChatRequest:
    """The chat request in an OpenAI body, or ApiError 400 saying what to change.

    Example: {"model": "rag", "messages": [{"role": "user", "content": "Who chaired Session II?"}]}
             -> ChatRequest("Who chaired Session II?")
    `temperature`, `max_tokens`, `top_p` and the like are accepted and ignored: an extractive answer quotes.
    """
    from rag.assistant import check_k, check_question

    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object", "invalid_body")
    model = body.get("model")
    if model != MODEL:
        message = f"unknown model {model!r}; this server has one model, {MODEL!r}"
        raise ApiError(400, message, "model_not_found", "model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
        raise ApiError(400, "messages must be a non-empty list of message objects", "invalid_messages", "messages")
    turns: list[tuple[str, str]] = []
    for i, message in enumerate(messages):
        role, where = message.get("role"), f"messages[{i}]"
        if role not in ROLES:
            raise ApiError(400, f"{where}.role must be one of {', '.join(ROLES)}", "invalid_role", where)
        text = _text(message.get("content"), where)
        if role == "user":
            turns.append((text, ""))
        elif role == "assistant" and turns:
            turns[-1] = (turns[-1][0], without_sources(text))
    if messages[-1].get("role") != "user":
        raise ApiError(400, "the last message must be the user's question", "invalid_messages", "messages")
    try:
        question = check_question(turns[-1][0])
        k = None if body.get("k") is None else check_k(body["k"])
    except BadInput as exc:
        raise ApiError(400, str(exc), "invalid_question", "messages") from None
    sources = body.get("sources")
    if sources is not None and (not isinstance(sources, list) or not all(isinstance(s, str) for s in sources)):
        raise ApiError(400, "sources must be a list of document names", "invalid_sources", "sources")
    history = tuple((q, a) for q, a in turns[:-1] if a)
    return ChatRequest(question, history, body.get("stream") is True, k, None if sources is None else tuple(sources))


def content(answer: Answer) -> str:
    """The reply's text: the answer with its [n] markers, then where each citation is (or the related reading)."""
    if answer.citations:
        lines = [f"[{c.n}] {c.source} § {c.section} (chars {c.start}-{c.end})" for c in answer.citations]
        return answer.answer + SOURCES_HEADING + "\n".join(lines)
    if answer.passages:
        chunks = [p.chunk for p in answer.passages[:3]]
        lines = [f"- {c.source} § {c.section} (chars {c.start}-{c.end})" for c in chunks]
        return answer.answer + RELATED_HEADING + "\n".join(lines)
    return answer.answer


def completion(answer: Answer, id: str, created: int) -> dict[str, Any]:
    """The `chat.completion` object for one answer."""
    message = {"role": "assistant", "content": content(answer), "citations": [c.to_json() for c in answer.citations]}
    return {
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": MODEL,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
    }


def pieces(text: str, size: int = PIECE_CHARS) -> list[str]:
    """The text cut after a space once a piece reaches `size` characters; joined, the pieces are the text.

    Example: pieces("aa bb cc", 2) -> ["aa ", "bb ", "cc"]
    """
    out, start = [], 0
    while start < len(text):
        cut = text.find(" ", start + size - 1)
        end = len(text) if cut < 0 else cut + 1
        out.append(text[start:end])
        start = end
    return out


def chunk(id: str, created: int, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    """One `chat.completion.chunk` object."""
    choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
    return {"id": id, "object": "chat.completion.chunk", "created": created, "model": MODEL, "choices": [choice]}


def chunks(answer: Answer, id: str, created: int) -> Iterator[dict[str, Any]]:
    """The `chat.completion.chunk` objects of a streamed answer: the role, the content in pieces, then the
    citations with the finish reason."""
    yield chunk(id, created, {"role": "assistant", "content": ""})
    for piece in pieces(content(answer)):
        yield chunk(id, created, {"content": piece})
    yield chunk(id, created, {"citations": [c.to_json() for c in answer.citations]}, "stop")


def events(answer: Answer, id: str, created: int) -> Iterator[str]:
    """The Server-Sent Events of a streamed answer: `data: ` and the JSON of each of `chunks`, then
    `data: [DONE]`; the same text as json.dumps(chunk, ensure_ascii=False) for each, without a dumps per
    piece: the content chunks differ only in their piece, so the JSON around it is encoded once.
    """
    from json.encoder import encode_basestring  # what json.dumps(..., ensure_ascii=False) writes a str as

    marker = "\x00"  # written as "\u0000", which nothing else in a chunk contains
    around = json.dumps(chunk(id, created, {"content": marker}), ensure_ascii=False)
    head, tail = around.split(encode_basestring(marker))
    yield f"data: {json.dumps(chunk(id, created, {'role': 'assistant', 'content': ''}), ensure_ascii=False)}\n\n"
    for piece in pieces(content(answer)):
        yield f"data: {head}{encode_basestring(piece)}{tail}\n\n"
    last = chunk(id, created, {"citations": [c.to_json() for c in answer.citations]}, "stop")
    yield f"data: {json.dumps(last, ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"


def authorised(header: str | None, key: str | None, client_host: str | None) -> bool:
    """With a key, the request must carry it as a Bearer token; without one, it must come from this machine.

    Example: authorised("Bearer k1", "k1", "10.0.0.2") -> True; authorised(None, None, "10.0.0.2") -> False
    """
    from ui.web import is_loopback

    if key is None:
        return client_host is not None and is_loopback(client_host)
    scheme, _, token = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), key.encode())


class Gate:
    """At most `workers` questions answered at once in threads and `queue_size` waiting; more get ApiError 429.
    Only touched from the event loop, so the count needs no lock."""

    def __init__(self, workers: int = WORKERS, queue_size: int = QUEUE_SIZE) -> None:
        self.workers, self.capacity, self.inside = workers, workers + queue_size, 0
        self._limiter = None

    async def run(self, fn: Callable[[], Answer]) -> Answer:
        import anyio

        if self._limiter is None:  # made inside the server's event loop
            self._limiter = anyio.CapacityLimiter(self.workers)
        if self.inside >= self.capacity:
            busy = "The server is busy (its queue is full). Please try again."
            raise ApiError(429, busy, "queue_full", type="rate_limit_error")
        self.inside += 1
        try:
            return await anyio.to_thread.run_sync(fn, limiter=self._limiter)
        finally:
            self.inside -= 1


def ask(assistant, request: ChatRequest) -> Answer:
    """The Assistant's answer; `sources` is passed on only when the request names some."""
    extra: dict[str, Any] = {} if request.sources is None else {"sources": request.sources}
    return assistant.ask(request.question, history=list(request.history) or None, k=request.k, **extra)


def mount(app, assistant: Callable[[], Any], key: str | None = None, gate: Gate | None = None) -> None:
    """Add the /v1 routes to a Starlette/FastAPI app; `assistant()` gives the Assistant in service at each call
    (the UI swaps in a new one after a corpus change)."""
    from starlette.responses import JSONResponse, StreamingResponse

    gate = gate or Gate()

    def refuse(error: ApiError) -> JSONResponse:
        from ui.render import public

        headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
        body = error.to_json()
        body["error"]["message"] = public(body["error"]["message"])  # no server path reaches a client
        return JSONResponse(body, status_code=error.status, headers=headers)

    def check_key(request) -> None:
        if not authorised(request.headers.get("authorization"), key, request.client.host if request.client else None):
            message = (
                "a valid API key is required: send Authorization: Bearer KEY"
                if key is not None
                else "this API answers only this machine; set RAG_API_KEY to use it from another one"
            )
            raise ApiError(401, message, "invalid_api_key")

    async def models(request):
        try:
            check_key(request)
        except ApiError as exc:
            return refuse(exc)
        entry = {"id": MODEL, "object": "model", "created": 0, "owned_by": "rag"}
        return JSONResponse({"object": "list", "data": [entry]})

    async def chat_completions(request):
        try:
            check_key(request)
            try:
                body = json.loads(await request.body())
            except ValueError:
                raise ApiError(400, "the body is not valid JSON", "invalid_json") from None
            chat = parse_request(body)
            live = assistant()
            try:
                answer = await gate.run(lambda: ask(live, chat))
            except BadInput as exc:
                raise ApiError(400, str(exc), "invalid_request") from None
        except ApiError as exc:
            return refuse(exc)
        id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        if not chat.stream:
            return JSONResponse(completion(answer, id, created))

        async def stream():  # async: a plain iterator would be read through a worker thread, one hop an event
            for event in events(answer, id, created):
                yield event

        return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    app.add_route("/v1/models", models, methods=["GET"])
    app.add_route("/v1/chat/completions", chat_completions, methods=["POST"])
