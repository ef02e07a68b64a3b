"""The public API `rag` exports, and the usage example in its docstring, run as written."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import rag
from tests.conftest import REPORT, subprocess_env


def _example() -> str:
    """The indented code lines of rag's docstring: the example a reader copies."""
    lines = [line[4:] for line in rag.__doc__.splitlines() if line.startswith("    ")]
    assert len(lines) == 3 and lines[0] == "from rag import Assistant", lines
    return "\n".join(lines)


def test_the_package_exports_the_answer_records_and_the_assistant():
    from rag.answer import Answer, Citation, Passage
    from rag.assistant import Assistant

    assert (rag.Assistant, rag.Answer, rag.Citation, rag.Passage) == (Assistant, Answer, Citation, Passage)
    assert set(rag.__all__) <= set(dir(rag))


def test_the_docstring_example_answers_with_exact_citations_and_no_torch(report_index, tmp_path):
    # The example's relative paths, as in the project folder: a copy of the tests' corpus and of its built index.
    (tmp_path / "corpus").mkdir()
    shutil.copy(REPORT, tmp_path / "corpus" / REPORT.name)
    shutil.copytree(report_index, tmp_path / "index" / "data" / "main")
    check = (
        "\nimport json\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers', 'gradio') if m in sys.modules]\n"
        "print('RESULT', json.dumps({'heavy': heavy, 'answer': answer.to_json()}))\n"
    )
    code = "import sys\n" + _example() + check
    out = subprocess.run(  # subprocess_env puts this checkout first on PYTHONPATH, whatever the working directory
        [sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env(), cwd=tmp_path, timeout=300
    )
    assert out.returncode == 0, out.stderr
    printed, result_line = out.stdout.rsplit("RESULT ", 1)
    result = json.loads(result_line)
    assert result["heavy"] == []
    answer = result["answer"]
    assert "ARIUNAA" in answer["answer"] and not answer["abstained"]
    assert answer["citations"]
    text = REPORT.read_text(encoding="utf-8")
    for c in answer["citations"]:
        assert c["source"] == REPORT.name
        assert c["text"] and text[c["start"] : c["end"]] == c["text"]
        assert f"[{c['n']}] {c['source']}: {c['text']}" in printed


def test_a_bad_question_is_a_user_error_not_an_ingest_error():
    """#20: the CLI maps every UserError to exit 2; a question the user mistyped is not a problem of the index."""
    from index.errors import IngestError, UserError
    from rag.errors import BadInput

    assert issubclass(BadInput, UserError) and issubclass(IngestError, UserError)
    assert not issubclass(BadInput, IngestError)


def test_an_assistant_can_be_made_from_settings_alone_and_opened_later(tmp_path, embedder):
    """#20: constructing with load=False reads and builds nothing; open() builds the missing index; ask opens too."""
    from rag.assistant import Assistant

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "note.txt").write_text("The ferry to Kessel is run by Marta Olsen.\n", encoding="utf-8")
    index = tmp_path / "index"
    lazy = Assistant(corpus, index, embedder=embedder, log=lambda _: None, progress=False, load=False)
    assert not index.exists() and not lazy.opened
    answer = lazy.ask("Who runs the ferry to Kessel?")  # opens (and builds) on first use
    assert lazy.opened and index.exists() and "Marta Olsen" in answer.answer
    again = Assistant(corpus, index, embedder=embedder, log=lambda _: None, progress=False, load=False).warm_up()
    assert again.opened and again.ask("Who runs the ferry to Kessel?").answer == answer.answer
