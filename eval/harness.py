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
    """A gold file and the corpus it was written against (or the folders and files that corpus is assembled from)."""

    name: str
    gold: Path
    corpus: Path
    parts: tuple[Path, ...] = ()  # folders and files the corpus is assembled from (see materialize)
    index_name: str | None = None  # a suite on another suite's corpus shares its index folder


def materialize(suite: Suite, index_root: Path) -> Suite:
    """A suite whose corpus is made of parts, with its corpus copied into one folder beside the index.

    Files are copied only when missing or changed, so an unchanged suite keeps its index.
    """
    import shutil

    if not suite.parts:
        return suite
    target = index_root.parent / "corpora" / suite.name
    target.mkdir(parents=True, exist_ok=True)
    wanted = {}
    for part in suite.parts:
        files = sorted(p for p in part.iterdir() if p.is_file() and p.name != "README.md") if part.is_dir() else [part]
        wanted.update({f.name: f for f in files})
    for name, source in wanted.items():
        dest = target / name
        if not dest.exists() or dest.read_bytes() != source.read_bytes():
            shutil.copyfile(source, dest)
    for stale in target.iterdir():
        if stale.name not in wanted:
            stale.unlink()
    return Suite(suite.name, suite.gold, target, index_name=suite.index_name)


def _benchmark(name: str) -> Suite:
    """A suite kept in eval/benchmarks/NAME (gold.jsonl beside its corpus/ folder)."""
    return Suite(name, EVAL_DIR / "benchmarks" / name / "gold.jsonl", EVAL_DIR / "benchmarks" / name / "corpus")


# squad-train is what learned parts are fitted on, squad-val only checks them (see each README).
SUITES = {
    "report": Suite("report", EVAL_DIR / "gold.jsonl", PROJECT_ROOT / "corpus"),
    **{name: _benchmark(name) for name in ("squad-dev", "squad-train", "squad-val", "covid-dev")},
    # The report's questions with unrelated documents beside it: answers and abstentions must not move.
    "report+distractors": Suite(
        "report+distractors",
        EVAL_DIR / "gold.jsonl",
        EVAL_DIR / "benchmarks" / "report+distractors" / "corpus",
        (
            PROJECT_ROOT / "corpus",
            EVAL_DIR / "benchmarks" / "squad-val" / "corpus",
            EVAL_DIR / "benchmarks" / "report+distractors" / "pages",
        ),
    ),
    # Open questions (nuggets) written on squad-val's articles, kept apart from its SQuAD questions.
    "squad-val-open": Suite(
        "squad-val-open",
        EVAL_DIR / "benchmarks" / "squad-val" / "open.jsonl",
        EVAL_DIR / "benchmarks" / "squad-val" / "corpus",
        index_name="squad-val",
    ),
    # Open questions on the training articles: what an open-answer model would be fitted on.
    "squad-train-open": Suite(
        "squad-train-open",
        EVAL_DIR / "benchmarks" / "squad-train" / "open.jsonl",
        EVAL_DIR / "benchmarks" / "squad-train" / "corpus",
        index_name="squad-train",
    ),
    # The same on squad-dev's articles: open-answer settings are chosen here, squad-val-open only checks them.
    "squad-dev-open": Suite(
        "squad-dev-open",
        EVAL_DIR / "benchmarks" / "squad-dev" / "open.jsonl",
        EVAL_DIR / "benchmarks" / "squad-dev" / "corpus",
        index_name="squad-dev",
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
        if "nuggets" in row:
            _check_nuggets(row, f"{path}:{no}")
        elif row["answerable"] and not (row["answers"] and row["evidence"]):
            raise BadInput(f"{path}:{no}: an answerable question needs 'answers' and 'evidence'")
        if row["id"] in ids:
            raise BadInput(f"{path}:{no}: duplicate id {row['id']!r}")
        ids.add(row["id"])
        rows.append(row)
    return rows


def _check_nuggets(row: dict[str, Any], where: str) -> None:
    """An open question: nuggets are lists of phrases, answers empty; answerable ones need nuggets and evidence."""
    nuggets = row["nuggets"]
    if not isinstance(nuggets, list) or any(
        not isinstance(n, list) or not n or any(not isinstance(p, str) or not p.strip() for p in n) for n in nuggets
    ):
        raise BadInput(f"{where}: field 'nuggets' must be a list of non-empty lists of phrases")
    if row["answers"]:
        raise BadInput(f"{where}: an open question (with 'nuggets') has 'answers': []")
    if row["answerable"] and not (nuggets and row["evidence"]):
        raise BadInput(f"{where}: an answerable open question needs 'nuggets' and 'evidence'")
    if not row["answerable"] and nuggets:
        raise BadInput(f"{where}: an unanswerable open question has 'nuggets': []")


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
    "nugget_recall",
    "supported_nugget_recall",
    "open_false_abstention",
    "open_abstention_recall",
    "open_answer_words",
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
            one_decimal = m.startswith("latency") or m.endswith("words")  # ms and word counts, not rates
            cells.append("-" if v is None else f"{v:.1f}" if one_decimal else f"{v:.3f}")
        lines.append(cells)
    widths = [max(len(r[i]) for r in lines) for i in range(len(head))]
    return "\n".join(
        "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
        for r in lines
    )


def index_dir_for(base: Path, suite: Suite, default_corpus: Path, settings) -> Path:
    """Where a suite's index lives: the main index for the default corpus, else one folder per suite and setting."""
    import dataclasses
    import hashlib

    from rag.assistant import Settings

    if settings.index == Settings().index and suite.corpus.resolve() == default_corpus.resolve():
        return base
    tag = hashlib.sha256(repr(dataclasses.asdict(settings.index)).encode()).hexdigest()[:8]
    return base.parent / f"{suite.index_name or suite.name}-{tag}"


def configurations(overrides: list[str], compare: str | None):
    """(label, Settings) pairs: the base settings with --set applied, once per --compare value."""
    from rag.assistant import Settings, override

    base = Settings()
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise BadInput(f"--set {item!r}: expected KEY=VALUE")
        base = override(base, key.strip(), value.strip())
    if not compare:
        return [("default" if not overrides else ",".join(overrides), base)]
    key, sep, values = compare.partition("=")
    if not sep or not values:
        raise BadInput(f"--compare {compare!r}: expected KEY=V1,V2,...")
    return [(f"{key}={v.strip()}", override(base, key.strip(), v.strip())) for v in values.split(",")]


@dataclass(frozen=True)
class Run:
    """What one evaluation produced: metrics per suite and configuration, a row per question and its passages."""

    gold: dict[str, list[dict[str, Any]]]
    metrics: dict[str, dict[str, dict]]
    results: list[dict]
    passages: dict
    offending: dict[str, int]  # formats suite: "<base>-<format>-<label>" -> passages holding page furniture
    report: Path | None = None  # the report folder, when one was written


def run(
    suites: list[Suite],
    configs: list[tuple[str, Any]],
    out_dir: Path | None = None,
    *,
    index_root: Path | None = None,
    default_corpus: Path | None = None,
    meta: dict[str, str] | None = None,
    embedder=None,
) -> Run:
    """Ask every suite's gold questions under every (label, Settings) configuration and score the answers; with
    out_dir, also write the report there. What `rag eval` does, callable without its command line; `embedder`
    (a loaded model) serves every configuration that uses its model."""
    from eval import external, format_suite
    from eval.report import result_rows
    from index.encode.embed import SentenceTransformerEmbedder
    from rag.assistant import DEFAULT_CORPUS, DEFAULT_INDEX, Assistant

    index_root = index_root or DEFAULT_INDEX
    default_corpus = default_corpus or DEFAULT_CORPUS
    gold = {suite.name: load_gold(suite.gold) for suite in suites}  # all lines checked before any work
    embedders: dict[str, SentenceTransformerEmbedder] = {embedder.model_id: embedder} if embedder else {}
    loaded: dict[Path, Assistant] = {}
    metrics: dict[str, dict[str, dict]] = {}
    results: list[dict] = []
    passages: dict = {}
    offending: dict[str, int] = {}
    for suite in suites:
        for label, settings in configs:
            embedder = embedders.setdefault(settings.index.model, SentenceTransformerEmbedder(settings.index.model))
            index_dir = index_dir_for(index_root, suite, default_corpus, settings)
            if index_dir not in loaded:  # configurations that differ only at query time share one loaded index
                loaded[index_dir] = Assistant(suite.corpus, index_dir, settings, embedder=embedder)
            assistant = loaded[index_dir].with_settings(
                k=settings.k, retrieval=settings.retrieval, composer=settings.composer
            )
            print(f"{suite.name} / {label}: {len(gold[suite.name])} questions", file=sys.stderr)
            answers, judged = run_suite(assistant, gold[suite.name])
            metrics.setdefault(suite.name, {})[label] = aggregate(judged)
            metrics[suite.name][label].update(external.gold_measures(gold[suite.name], answers))
            results.extend(result_rows(suite.name, label, gold[suite.name], answers, judged, settings.k))
            for answer in answers:
                passages[(suite.name, label, answer["id"])] = answer["passages"]
            if suite.name.startswith("formats-"):
                offending[f"{suite.name.removeprefix('formats-')}-{label}"] = format_suite.offending_passages(answers)
    report = None
    if out_dir is not None:
        from eval.report import write_report

        meta = meta or {"suites": ", ".join(s.name for s in suites)}
        report = write_report(metrics, results, passages, out_dir, meta)
    return Run(gold, metrics, results, passages, offending, report)


def main(args) -> int:
    """`rag eval`: the suites and configurations its flags name, run, printed, exported and reported."""
    from eval import (
        external,  # SQuAD and BEIR in, RAGAS and TREC out, trec_eval's measures (issue #23)
        format_suite,  # --suite formats: one corpus rendered as txt, PDF, DOCX and HTML (issue #16)
    )

    if getattr(args, "squad", None) or getattr(args, "beir", None):
        return external.main(args)
    if args.gold:
        suites = [Suite(p.stem, p, args.corpus) for p in args.gold]
    else:
        suites = []
        for name in args.suite or ["report"]:
            suites += format_suite.suites(args.index) if name == "formats" else [materialize(SUITES[name], args.index)]
    configs = configurations(args.overrides, args.compare)
    exports = external.check_exports(getattr(args, "export", None), len(configs))
    meta = {"command": "rag eval " + " ".join(sys.argv[2:]), "suites": ", ".join(s.name for s in suites)}
    out = None if args.no_report else args.reports
    result = run(suites, configs, out, index_root=args.index, default_corpus=args.corpus, meta=meta)
    for suite_name, rows in result.metrics.items():
        print(f"\n{suite_name}")
        print(format_table(rows))
        print(format_table(rows, external.IR_COLUMNS))
    if result.offending:
        print(format_suite.summary(result.metrics, result.offending))
    external.export_gold(exports, result.gold, result.results, result.passages)
    if result.report is not None:
        print(f"\nreport: {result.report / 'report.md'}")
    return 0
