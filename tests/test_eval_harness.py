"""The harness: settings side by side, reports a person can read, and the quality gate CI enforces."""

from __future__ import annotations

import json

import pytest

from eval.harness import SUITES, configurations, format_table, index_dir_for, load_gold, run_suite
from eval.metrics import aggregate
from eval.report import write_report
from rag.errors import BadInput
from tests.conftest import ROOT, run_rag

THRESHOLDS = json.loads((ROOT / "eval" / "thresholds.json").read_text(encoding="utf-8"))


def test_compare_builds_one_configuration_per_value():
    configs = configurations(["k=7"], "retrieval=dense,bm25,hybrid")
    assert [label for label, _ in configs] == ["retrieval=dense", "retrieval=bm25", "retrieval=hybrid"]
    assert [s.retrieval for _, s in configs] == ["dense", "bm25", "hybrid"]
    assert all(s.k == 7 for _, s in configs)
    ((label, settings),) = configurations(["threshold=0.3", "max_tokens=128"], None)
    assert settings.composer.threshold == 0.3 and settings.index.chunker.max_tokens == 128
    # "model" alone is the embedding model; the selector file is named with its group.
    ((_, settings),) = configurations(["composer.model=/tmp/selector.json", "chunker.max_tokens=96"], None)
    assert settings.composer.model == "/tmp/selector.json" and settings.index.model == configs[0][1].index.model
    assert settings.index.chunker.max_tokens == 96


@pytest.mark.parametrize("item", ["nonsense=1", "k", "k=many", "retrieval=fuzzy", "composer.colour=red", "index.k=3"])
def test_bad_settings_are_refused_with_the_reason(item):
    with pytest.raises(BadInput):
        configurations([item], None)


def test_malformed_gold_exits_2_naming_the_line(tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"id": "a", "question": "q", "answers": [], "evidence": [], "answerable": false}\nnot json\n')
    result = run_rag("eval", "--gold", str(gold), "--no-report", timeout=60)
    assert result.returncode == 2
    assert "gold.jsonl:2: not valid JSON" in result.stderr and "Traceback" not in result.stderr


def test_report_holds_metrics_results_plots_failures_and_the_diff(tmp_path):
    base = {"questions": 2, "recall@1": 0.5, "overall": 0.5, "latency_p50_ms": 3.0}
    result = {
        "suite": "report", "config": "default", "id": "r9", "question": "Who?", "answerable": True,
        "gold_answers": ["X"], "answer": "Y [1]", "outcome": "wrong sentence chosen (evidence was passage 2)",
        "latency_ms": 3.0,
    }  # fmt: skip
    passages = {
        ("report", "default", "r9"): [{"rank": 1, "source": "a.txt", "section": "S", "score": 0.5, "text": "T"}]
    }
    first = write_report({"report": {"default": base}}, [result], passages, tmp_path)
    second = write_report({"report": {"default": dict(base, overall=0.75)}}, [result], passages, tmp_path)
    for out in (first, second):
        assert {p.name for p in out.iterdir()} == {
            "metrics.json",
            "results.jsonl",
            "report.md",
            "metrics.png",
            "latency.png",
        }
    md = (second / "report.md").read_text()
    assert "overall 0.750 (+0.250)" in md
    assert "r9: wrong sentence chosen" in md and "`a.txt` § S" in md


def test_suites_on_one_corpus_share_one_index_folder(tmp_path):
    from rag.assistant import Settings

    base, default = tmp_path / "main", ROOT / "corpus"
    folder = {name: index_dir_for(base, SUITES[name], default, Settings()) for name in SUITES}
    assert folder["squad-val-open"] == folder["squad-val"] != folder["squad-dev"]
    assert folder["squad-dev-open"] == folder["squad-dev"]
    assert folder["squad-train-open"] == folder["squad-train"]
    assert folder["report"] == base


def test_open_question_metrics_sit_beside_the_factoid_ones(tmp_path):
    with_open = {"answer_accuracy": 0.9, "nugget_recall": 0.625, "open_answer_words": 87.3, "open_false_abstention": 0}
    factoid_only = {"answer_accuracy": 0.8, "nugget_recall": None, "open_answer_words": None}
    table = format_table({"report": with_open, "squad-dev": factoid_only}).splitlines()
    assert table[0].split()[:1] == ["recall@1"] and "nugget_recall" in table[0] and "open_answer_words" in table[0]
    report_cells, squad_cells = table[1].split(), table[2].split()
    column = table[0].split().index("nugget_recall") + 1  # +1: the row name comes first
    assert report_cells[column] == "0.625" and squad_cells[column] == "-"
    assert "87.3" in report_cells and squad_cells[-3] == "-"  # open_answer_words, before the two latencies
    result = {
        "suite": "report", "config": "default", "id": "open-01", "question": "List the speakers.", "answerable": True,
        "gold_answers": [], "answer": "BI Xiaohan [1]", "latency_ms": 3.0, "nuggets": 2, "covered": 1, "supported": 1,
        "missed_nuggets": ["HUANG Hua"], "outcome": "open: 1/2 nuggets covered, 1 supported by a citation",
    }  # fmt: skip
    suites = {"report": {"default": with_open}, "squad-dev": {"default": factoid_only}}
    out = write_report(suites, [result], {}, tmp_path)
    md = (out / "report.md").read_text()
    assert "| overall | nugget_recall | supported_nugget_recall | open_false_abstention |" in md
    assert "| default | - | - | - | - | - | 0.900 |" in md and "| 0.625 |" in md
    assert "open-01: open: 1/2 nuggets covered" in md and "2 nuggets; missed: HUANG Hua" in md


def test_quality_gate_on_the_report(assistant):
    """CI fails when the report suite falls below the thresholds in eval/thresholds.json."""
    rows = load_gold(SUITES["report"].gold)
    _, judged = run_suite(assistant, rows, progress=False)
    metrics = aggregate(judged)
    for name, minimum in THRESHOLDS["report"].items():  # "_comment" lives at the top level, not here
        assert metrics[name] >= minimum, f"{name} = {metrics[name]:.3f}, below the gate {minimum}"
    for name, maximum in THRESHOLDS["at_most"]["report"].items():
        assert metrics[name] <= maximum, f"{name} = {metrics[name]:.3f}, above the gate {maximum}"


def test_run_scores_suites_without_the_command_line(tmp_path, embedder):
    """#20: eval.harness.run(suites, configs, out_dir) is what `rag eval` calls, usable from Python."""
    from eval.harness import Suite, configurations, run

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "port.txt").write_text(
        "The harbour of Kessel opened in 1881.\n\nIts lighthouse was built by Marta Olsen.\n", encoding="utf-8"
    )
    gold = tmp_path / "port.jsonl"
    rows = [
        ("q1", "When did the harbour of Kessel open?", ["1881"], ["The harbour of Kessel opened in 1881."]),
        ("q2", "Who built the lighthouse?", ["Marta Olsen"], ["Its lighthouse was built by Marta Olsen."]),
        ("q3", "What is the population of Tokyo?", [], []),
    ]
    rows = [{"id": i, "question": q, "answers": a, "evidence": e, "answerable": bool(a)} for i, q, a, e in rows]
    gold.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = run(
        [Suite("port", gold, corpus)],
        configurations([], None),
        tmp_path / "reports",
        index_root=tmp_path / "index" / "main",
        default_corpus=corpus,
        embedder=embedder,
    )
    metrics = result.metrics["port"]["default"]
    assert metrics["questions"] == 3 and metrics["answer_accuracy"] == 1.0 and metrics["abstention_recall"] == 1.0
    assert {r["id"] for r in result.results} == {"q1", "q2", "q3"}
    assert (result.report / "report.md").is_file()
