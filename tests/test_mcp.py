"""`rag mcp` (issue #19), driven over stdio by the `mcp` SDK's own client, as an agent would start it."""

from __future__ import annotations

import pytest

from rag.mcp_server import DATA_NOT_INSTRUCTIONS, document_uri
from tests.conftest import CORPUS, RAG, REPORT, subprocess_env


def test_document_uris_quote_what_a_uri_cannot_hold():
    assert document_uri("report.txt") == "rag://documents/report.txt"
    assert document_uri("notes/2025 dialogue #2.md") == "rag://documents/notes/2025%20dialogue%20%232.md"


def test_building_a_server_leaves_the_host_process_logging_as_it_was():
    import logging

    from rag.mcp_server import new_server

    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    new_server("probe")  # the SDK's constructor would set INFO and a rich handler on the root logger
    assert root.level == level and root.handlers == handlers


def test_the_protocol_modules_load_their_sdks_only_when_used():
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = (
        "import sys, rag.cli, rag.mcp_server, ui.openai_api; "
        "print([m for m in ('mcp', 'openai', 'gradio', 'torch', 'starlette') if m in sys.modules])"
    )
    argv = [sys.executable, "-c", code]
    result = subprocess.run(argv, capture_output=True, text=True, env=subprocess_env(), cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def over_stdio(index, scenario):
    """Run `scenario(client)` against `rag mcp` started as a subprocess by the SDK's stdio client."""
    import anyio
    from mcp import Client, StdioServerParameters

    params = StdioServerParameters(
        command=str(RAG), args=["mcp", "--corpus", str(CORPUS), "--index", str(index)], env=subprocess_env()
    )

    async def main():
        async with Client(params) as client:
            return await scenario(client)

    return anyio.run(main)


@pytest.mark.slow
def test_an_mcp_client_lists_the_tools_asks_searches_and_reads_a_document(report_index):
    async def scenario(client):
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        asked = await client.call_tool("ask", {"question": "Who chaired Session II?"})
        searched = await client.call_tool("search", {"query": "Session II chair", "k": 3})
        resources = (await client.list_resources()).resources
        read = await client.read_resource(resources[0].uri)
        return tools, asked, searched, resources, read

    tools, asked, searched, resources, read = over_stdio(report_index, scenario)
    assert set(tools) == {"ask", "search"}
    assert all(DATA_NOT_INSTRUCTIONS in tool.description for tool in tools.values())
    assert set(tools["ask"].input_schema["properties"]) == {"question", "k", "sources"}
    assert tools["ask"].input_schema["required"] == ["question"]

    assert not asked.is_error
    answer = asked.structured_content
    assert answer["abstained"] is False and "ARIUNAA Enkhtur" in answer["answer"]
    document = REPORT.read_text(encoding="utf-8")
    cite = next(c for c in answer["citations"] if "ARIUNAA Enkhtur" in c["text"])
    assert document[cite["start"] : cite["end"]] == cite["text"]
    assert answer["passages"] and f"[{cite['n']}]" in answer["answer"]

    assert not searched.is_error
    passages = searched.structured_content["passages"]
    assert len(passages) == 3 and [p["rank"] for p in passages] == [1, 2, 3]
    assert all(document[p["start"] : p["end"]] == p["text"] for p in passages)

    assert [r.uri for r in resources] == [document_uri(REPORT.name)] and resources[0].name == REPORT.name
    text = read.contents[0].text
    assert text[cite["start"] : cite["end"]] == cite["text"]


@pytest.mark.slow
def test_bad_arguments_are_mcp_errors_and_the_server_keeps_answering(report_index):
    from mcp import MCPError

    async def scenario(client):
        results = [
            await client.call_tool("ask", {"question": "Who chaired Session II?", "k": 0}),
            await client.call_tool("ask", {"question": "x" * 5000}),
            await client.call_tool("ask", {"k": 3}),
            await client.call_tool("search", {"query": "Session II", "k": "many"}),
        ]
        try:
            await client.read_resource("rag://documents/not-indexed.txt")
            unknown = None
        except MCPError as exc:
            unknown = exc
        after = await client.call_tool("ask", {"question": "Who chaired Session II?"})
        return results, unknown, after

    results, unknown, after = over_stdio(report_index, scenario)
    assert all(r.is_error for r in results)
    messages = [r.content[0].text for r in results]
    assert "from 1 to 50" in messages[0] and "limit is 2000" in messages[1]
    assert "question" in messages[2] and "k" in messages[3]
    assert unknown is not None
    assert not after.is_error and after.structured_content["citations"]
