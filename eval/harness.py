"""`rag eval`: run the assistant in-process over gold pairs and score it with eval.metrics."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.metrics import Judged, aggregate, judge
from rag.errors import BadInput

EVAL_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = EVAL_DIR.parent


@dataclass(frozen=True)
class Suite:
    """A gold file and the corpus it was written against."""

    name: str
    gold: Path
    corpus: Path


SUITES = {
    "report": Suite("report", EVAL_DIR / "gold.jsonl", PROJECT_ROOT / "corpus"),
    "squad-dev": Suite(
        "squad-dev",
        EVAL_DIR / "benchmarks" / "squad-dev" / "gold.jsonl",
        EVAL_DIR / "benchmarks" / "squad-dev" / "corpus",
    ),
}
FIELDS = {"id": str, "question": str, "answers": list, "evidence": list, "answerable": bool}


def load_gold(path: Path) -> list[dict[str, Any]]:
    """Gold rows, checked field by field; a bad line raises BadInput naming the line and the field."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read gold file {path}: {exc}") from None
    rows, ids = [], set()
    for no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise BadInput(f"{path}:{no}: not valid JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise BadInput(f"{path}:{no}: expected a JSON object")
        for name, kind in FIELDS.items():
            if not isinstance(row.get(name), kind):
                raise BadInput(f"{path}:{no}: field {name!r} must be a {kind.__name__}")
        if any(not isinstance(x, str) for x in row["answers"] + row["evidence"]):
            raise BadInput(f"{path}:{no}: 'answers' and 'evidence' must hold strings")
        if row["answerable"] and not (row["answers"] and row["evidence"]):
            raise BadInput(f"{path}:{no}: an answerable question needs 'answers' and 'evidence'")
        if row["id"] in ids:
            raise BadInput(f"{path}:{no}: duplicate id {row['id']!r}")
        ids.add(row["id"])
        rows.append(row)
    return rows


def run_suite(assistant, rows: list[dict[str, Any]], progress: bool = True) -> tuple[list[dict], list[Judged]]:
    """Ask every gold question once; returns the contract JSON answers and their judgements."""
    from tqdm import tqdm

    answers, judged = [], []
    for row in tqdm(rows, desc="questions", unit="q", disable=not progress, file=sys.stderr):
        answer = assistant.ask(row["question"]).to_json(row["id"])
        answers.append(answer)
        judged.append(judge(row, answer))
    return answers, judged


TABLE_METRICS = (
    "recall@1",
    "recall@3",
    "recall@5",
    "recall@10",
    "mrr@10",
    "answer_accuracy",
    "citation_precision",
    "grounded_accuracy",
    "false_abstention",
    "abstention_recall",
    "overall",
    "latency_p50_ms",
    "latency_p95_ms",
)


def format_table(rows: dict[str, dict[str, Any]], metrics=TABLE_METRICS) -> str:
    """A plain-text table: one row per suite or configuration, one column per metric."""
    head = ["", *metrics]
    lines = [head]
    for name, values in rows.items():
        cells = [name]
        for m in metrics:
            v = values.get(m)
            cells.append("-" if v is None else f"{v:.1f}" if m.startswith("latency") else f"{v:.3f}")
        lines.append(cells)
    widths = [max(len(r[i]) for r in lines) for i in range(len(head))]
    return "\n".join(
        "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
        for r in lines
    )


def main(args) -> int:
    from rag.assistant import Assistant

    if args.gold:
        suites = [Suite(p.stem, p, args.corpus) for p in args.gold]
    else:
        suites = [SUITES["report"]]
    table = {}
    for suite in suites:
        rows = load_gold(suite.gold)
        index_dir = args.index if suite.corpus == args.corpus else args.index.parent / suite.name
        assistant = Assistant(suite.corpus, index_dir)
        _, judged = run_suite(assistant, rows)
        table[suite.name] = aggregate(judged)
    print(format_table(table))
    return 0
