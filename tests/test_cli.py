"""The command line as users and tools call it: the JSON contract, abstention, and clean errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import CORPUS, RAG, ROOT, run_rag, subprocess_env

CONTRACT_KEYS = {"id", "question", "answer", "abstained", "citations", "passages", "timings_ms"}


@pytest.fixture(scope="module")
def batch_answers(report_index, tmp_path_factory):
    """One process, model loaded once, answering several questions (the --batch path)."""
    batch = tmp_path_factory.mktemp("batch") / "q.jsonl"
    questions = [
        {"id": "chair", "question": "Who chaired Session II?"},
        {"id": "tokyo", "question": "What is the population of Tokyo?"},
        {"id": "tvet", "question": "Who chaired Session IV?"},
    ]
    batch.write_text("\n".join(json.dumps(q) for q in questions) + "\n", encoding="utf-8")
    result = run_rag("ask", "--json", "--batch", str(batch), "--index", str(report_index))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == len(questions)
    return {row["id"]: row for row in map(json.loads, lines)}


def test_ask_json_returns_the_contract_with_an_exact_citation(report_index):
    result = run_rag("ask", "--json", "Who chaired Session II?", "--index", str(report_index))
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert set(answer) == CONTRACT_KEYS
    assert answer["abstained"] is False
    assert set(answer["timings_ms"]) >= {"retrieve", "compose", "total"}
    cited = [c for c in answer["citations"] if "ARIUNAA Enkhtur" in c["text"]]
    assert cited, answer
    source = (CORPUS / cited[0]["source"]).read_text(encoding="utf-8")
    assert source[cited[0]["start"] : cited[0]["end"]] == cited[0]["text"]
    assert f"[{cited[0]['n']}]" in answer["answer"]
    for p in answer["passages"]:
        assert set(p) >= {"rank", "source", "section", "start", "end", "text", "score"}
        assert source[p["start"] : p["end"]] == p["text"]


def test_batch_answers_every_line(batch_answers):
    assert batch_answers["chair"]["abstained"] is False
    assert any("TUNGALAG Chimid" in c["text"] for c in batch_answers["tvet"]["citations"])


def test_a_question_the_report_does_not_answer_abstains(batch_answers):
    tokyo = batch_answers["tokyo"]
    assert tokyo["abstained"] is True
    assert tokyo["citations"] == []
    assert tokyo["passages"], "an abstention still lists the closest passages"


@pytest.mark.parametrize(
    "args,expected",
    [
        (["ask", ""], "question is empty"),
        (["ask", "   "], "question is empty"),
        (["ask", "Who?", "--corpus", "/nonexistent/folder"], "does not exist"),
        (["ask", "Who?", "-k", "0"], "-k must be"),
        (["ask", "Who?", "-k", "many"], "invalid int value"),
        (["frobnicate"], "invalid choice"),
        (["eval", "--set", "retrieval=fuzzy", "--no-report"], "unknown retrieval mode 'fuzzy'"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_no_traceback(args, expected):
    result = run_rag(*args, timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_importing_the_cli_does_not_import_torch():
    code = (
        "import sys, rag.cli; "
        "print([m for m in ('torch', 'sentence_transformers', 'gradio', 'faiss') if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env(), cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_help_is_instant_and_lists_the_commands():
    result = run_rag("--help", timeout=60)
    assert result.returncode == 0
    for command in ("ingest", "ask", "serve", "mcp", "eval"):
        assert command in result.stdout


def test_a_reader_that_stops_early_ends_the_batch_quietly(report_index, tmp_path):
    batch = tmp_path / "many.jsonl"
    rows = [{"id": str(i), "question": "Who chaired Session II?"} for i in range(400)]  # far over a pipe's buffer
    batch.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    child = subprocess.Popen(
        [str(RAG), "ask", "--json", "--batch", str(batch), "--index", str(report_index)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=subprocess_env(),
        cwd=ROOT,
    )
    first = child.stdout.readline()  # like `| head -1`
    child.stdout.close()
    _, errors = child.communicate(timeout=300)
    assert json.loads(first)["id"] == "0"
    assert child.returncode == 0 and b"Traceback" not in errors and b"error" not in errors, errors
