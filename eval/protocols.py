"""What the OpenAI-compatible API and the MCP server add to `Assistant.ask`, in-process (issue #19: at most 2 ms p50).

Each question is asked these ways in turn, so all see the same machine load: `Assistant.ask` directly; through
`/v1/chat/completions` over an in-process ASGI transport (no sockets) by a plain HTTP client (routing, JSON, the
gate's worker thread: what the server adds), the same streamed (`stream: true`, the whole event stream read)
and by the official `openai` client (which also builds and validates typed request and reply objects, a cost
of the caller's side); and through the MCP `ask` tool (the `mcp` SDK's Client connected in-process to the
server). Overhead = protocol p50 - direct p50, per pass; the median over passes is reported, in wall time and
in the process's CPU time (on a shared machine, wall time also counts waiting for a core at every thread hop;
CPU time is the work the protocol adds). Two floors are timed in the same turns, as p50s of their own: an
empty route through the same HTTP client, and an MCP tool that returns `{}` (sync like `ask`, so the SDK runs
it on a worker thread): the part of each overhead that is the framework's and the SDK's, not ours.
`python -m eval.protocols` prints it; `make bench` includes it for the report.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import Any

from eval.bench import percentile, spread


def overhead(assistant, questions: Sequence[str], repeats: int = 3) -> dict[str, Any]:
    """p50 ms of each way, the floors and the overheads, each as spread over `repeats` passes."""
    import anyio
    import httpx2
    from mcp import Client
    from openai import AsyncOpenAI
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse

    from rag.mcp_server import build_server, new_server
    from ui import openai_api

    async def empty_route(request):
        return JSONResponse({})

    def empty_tool() -> dict[str, Any]:
        return {}

    app = Starlette()
    openai_api.mount(app, lambda: assistant)
    app.add_route("/empty", empty_route, methods=["POST"])
    floor = new_server("floor")
    floor.add_tool(empty_tool, structured_output=True)
    transport = httpx2.ASGITransport(app=app, client=("127.0.0.1", 50000))  # a loopback client, as served
    http = httpx2.AsyncClient(transport=transport)
    api = AsyncOpenAI(base_url="http://127.0.0.1/v1", api_key="-", max_retries=0, http_client=http)
    passes: dict[str, list[float]] = {}

    async def timed(call) -> tuple[float, float]:
        started, cpu = time.perf_counter(), time.process_time()
        await call()
        return (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000

    async def main() -> None:
        async with Client(build_server(assistant)) as mcp, Client(floor) as mcp_floor:

            async def direct(q: str):
                return assistant.ask(q)

            async def via_http(q: str):
                body = {"model": "rag", "messages": [{"role": "user", "content": q}]}
                reply = await http.post("http://127.0.0.1/v1/chat/completions", json=body)
                return reply.raise_for_status().json()

            async def via_http_streamed(q: str):
                body = {"model": "rag", "messages": [{"role": "user", "content": q}], "stream": True}
                reply = await http.post("http://127.0.0.1/v1/chat/completions", json=body)
                return reply.raise_for_status().text

            async def via_openai(q: str):
                return await api.chat.completions.create(model="rag", messages=[{"role": "user", "content": q}])

            async def via_mcp(q: str):
                return await mcp.call_tool("ask", {"question": q})

            async def http_floor(q: str):
                return (await http.post("http://127.0.0.1/empty", json={"q": q})).raise_for_status().json()

            async def via_mcp_floor(q: str):
                return await mcp_floor.call_tool("empty_tool", {})

            ways = {
                "direct": direct,
                "api": via_http,
                "stream": via_http_streamed,
                "openai": via_openai,
                "mcp": via_mcp,
                "http_floor": http_floor,
                "mcp_floor": via_mcp_floor,
            }
            for q in questions[:5]:  # warm every path once
                for way in ways.values():
                    await way(q)
            for _ in range(repeats):
                times: dict[str, list[float]] = {f"{name}_{clock}": [] for name in ways for clock in ("wall", "cpu")}
                for q in questions:
                    for name, way in ways.items():
                        wall, cpu = await timed(lambda way=way, q=q: way(q))
                        times[f"{name}_wall"].append(wall)
                        times[f"{name}_cpu"].append(cpu)
                p50 = {key: percentile(values, 50) for key, values in times.items()}
                for clock in ("wall", "cpu"):
                    for name in ("api", "stream", "openai", "mcp"):
                        p50[f"{name}_overhead_{clock}"] = p50[f"{name}_{clock}"] - p50[f"direct_{clock}"]
                for key, value in p50.items():
                    passes.setdefault(key, []).append(value)

    anyio.run(main)
    return {"questions": len(questions), "repeats": repeats} | {k: spread(v) for k, v in passes.items()}


def table(r: dict[str, Any]) -> str:
    """Markdown: p50 ms of Assistant.ask, the overheads and the floors, median (min-max) over passes."""

    def cell(s: dict[str, float]) -> str:
        return f"{s['median']:.2f} ({s['min']:.2f}-{s['max']:.2f})"

    return "\n".join(
        [
            f"### Protocol overhead over Assistant.ask ({r['questions']} questions x {r['repeats']}, in-process, p50)",
            "",
            "| clock | Assistant.ask | /v1 overhead, HTTP client | /v1 streamed overhead, HTTP client "
            "| /v1 overhead, openai client | MCP ask overhead | floor: empty HTTP route | floor: empty MCP tool |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
            *(
                f"| {clock} | {cell(r[f'direct_{clock}'])} | {cell(r[f'api_overhead_{clock}'])} "
                f"| {cell(r[f'stream_overhead_{clock}'])} | {cell(r[f'openai_overhead_{clock}'])} "
                f"| {cell(r[f'mcp_overhead_{clock}'])} | {cell(r[f'http_floor_{clock}'])} "
                f"| {cell(r[f'mcp_floor_{clock}'])} |"
                for clock in ("wall", "cpu")
            ),
        ]
    )


class Precomputed:
    """An Assistant whose `ask` returns answers computed beforehand (the rest is the real one): timed through it,
    every way is the protocol's own cost, wall and CPU, with no answering in between to wait behind.

    Example: Precomputed(assistant, ["Who chaired Session II?"]).ask("Who chaired Session II?") is the answer
    assistant.ask gave; only those questions, with no history, k or sources, can be asked.
    """

    def __init__(self, assistant, questions: Sequence[str]) -> None:
        self._assistant, self._answers = assistant, {q: assistant.ask(q) for q in questions}

    def __getattr__(self, name: str):
        return getattr(self._assistant, name)

    def ask(self, question, history=None, k=None, retrieval=None, composer="extractive", sources=None):
        return self._answers[question.strip()]


def main(argv: list[str] | None = None) -> int:
    from eval.load import gold_questions
    from rag.assistant import DEFAULT_CORPUS, DEFAULT_INDEX, Assistant

    parser = argparse.ArgumentParser(prog="python -m eval.protocols", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--precomputed", action="store_true", help="answer from answers computed first: the protocols' cost alone"
    )
    args = parser.parse_args(argv)
    assistant = Assistant(DEFAULT_CORPUS, DEFAULT_INDEX, log=lambda msg: print(msg, file=sys.stderr), progress=False)
    questions = [q for _, q in gold_questions()]
    if args.precomputed:
        assistant = Precomputed(assistant, questions)
    print(table(overhead(assistant, questions, args.repeats)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
