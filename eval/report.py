"""Evaluation reports on disk: metrics.json, results.jsonl, report.md and PNG plots, with a diff to the last run."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from eval.metrics import MAX_ANSWER_WORDS, Judged, answer_head, answer_words, contains_phrase

REPORTS_DIR = Path(__file__).resolve().parent / "reports"
DIFF_METRICS = (
    "recall@1", "recall@5", "mrr@10", "answer_accuracy", "citation_precision", "grounded_accuracy",
    "false_abstention", "abstention_recall", "overall", "nugget_recall", "supported_nugget_recall",
    "open_false_abstention", "open_abstention_recall", "latency_p50_ms",
)  # fmt: skip


def why(judged: Judged, answer: dict[str, Any], k: int) -> str:
    """One phrase saying what went wrong with a question, or "ok"."""
    if not judged.answerable:
        return "ok" if judged.abstained else "answered a question the documents do not answer"
    if judged.open:
        if judged.abstained:
            return "false abstention" + ("" if judged.hit_rank is not None else " (evidence not retrieved either)")
        if judged.supported == judged.nuggets:
            return "ok"
        return f"open: {judged.covered}/{judged.nuggets} nuggets covered, {judged.supported} supported by a citation"
    if judged.grounded:
        return "ok"
    retrieved = judged.hit_rank is not None
    if judged.abstained:
        return "false abstention" + ("" if retrieved else " (evidence not retrieved either)")
    if not retrieved:
        return f"retrieval miss: no passage in the top {k} holds the evidence"
    if answer_words(answer.get("answer", "")) > MAX_ANSWER_WORDS:
        return f"answer longer than {MAX_ANSWER_WORDS} words"
    if not judged.correct:
        return f"wrong sentence chosen (evidence was passage {judged.hit_rank})"
    return "right answer, but no citation holds the evidence"


def missed_nuggets(answer: str, nuggets: list[list[str]]) -> list[str]:
    """The first phrase of each nugget the answer's first 150 words do not cover, to show in a failure."""
    head = answer_head(answer)
    return [phrases[0] for phrases in nuggets if not any(contains_phrase(head, p) for p in phrases)]


def result_rows(suite: str, config: str, gold: list[dict], answers: list[dict], judged: list[Judged], k: int):
    """Per-question records for results.jsonl (open questions add their nugget counts and the missed ones)."""
    for row, answer, j in zip(gold, answers, judged, strict=True):
        extra = {}
        if j.open:
            missed = [n[0] for n in row["nuggets"]] if j.abstained else missed_nuggets(answer["answer"], row["nuggets"])
            extra = {
                "nuggets": j.nuggets,
                "covered": j.covered,
                "supported": j.supported,
                "missed_nuggets": missed,
            }
        yield {
            "suite": suite,
            "config": config,
            "id": row["id"],
            "question": row["question"],
            "answerable": j.answerable,
            "gold_answers": row["answers"],
            "answer": answer["answer"],
            "abstained": j.abstained,
            "correct": j.correct,
            "grounded": j.grounded,
            "evidence_rank": j.hit_rank,
            "citation_hits": list(j.citation_hits),
            "citations": answer["citations"],
            "passages": [
                {k_: p[k_] for k_ in ("rank", "source", "section", "start", "end", "score")} for p in answer["passages"]
            ],
            "outcome": why(j, answer, k),
            "latency_ms": j.latency_ms,
            **extra,
        }


def previous_metrics(reports_dir: Path, exclude: Path | None = None) -> tuple[Path, dict] | None:
    """The newest earlier evaluation report's metrics, to diff against."""
    if not reports_dir.is_dir():
        return None
    for path in sorted(reports_dir.iterdir(), reverse=True):
        if path == exclude or path.name.startswith("bench-") or not (path / "metrics.json").is_file():
            continue
        try:
            return path, json.loads((path / "metrics.json").read_text(encoding="utf-8"))
        except ValueError:
            continue
    return None


def _fmt(v: Any, metric: str) -> str:
    if v is None:
        return "-"
    return f"{v:.1f}" if metric.startswith("latency") or metric.endswith("words") else f"{v:.3f}"


def write_report(
    metrics: dict[str, dict[str, dict]],
    results: list[dict],
    passages_text: dict[tuple[str, str, str], list[dict]],
    reports_dir: Path = REPORTS_DIR,
    meta: dict[str, Any] | None = None,
) -> Path:
    """Write one report folder; `metrics` is {suite: {config: metrics}}."""
    out = reports_dir / time.strftime("%Y%m%d-%H%M%S")
    n = 1
    while out.exists():
        out = reports_dir / f"{time.strftime('%Y%m%d-%H%M%S')}-{n}"
        n += 1
    out.mkdir(parents=True)
    previous = previous_metrics(reports_dir, exclude=out)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    with (out / "results.jsonl").open("w", encoding="utf-8") as handle:
        for row in results:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    _plots(metrics, results, out)
    (out / "report.md").write_text(_markdown(metrics, results, passages_text, previous, meta or {}), encoding="utf-8")
    return out


def _markdown(metrics, results, passages_text, previous, meta) -> str:
    from eval.harness import TABLE_METRICS

    lines = [f"# Evaluation report, {time.strftime('%Y-%m-%d %H:%M:%S')}", ""]
    for key, value in meta.items():
        lines.append(f"- {key}: `{value}`")
    lines += ["", "![metrics](metrics.png) ![latency](latency.png)", ""]
    for suite, configs in metrics.items():
        lines += [
            f"## {suite}",
            "",
            "| config | " + " | ".join(TABLE_METRICS) + " |",
            "|---" * (len(TABLE_METRICS) + 1) + "|",
        ]
        for config, m in configs.items():
            lines.append(f"| {config} | " + " | ".join(_fmt(m.get(x), x) for x in TABLE_METRICS) + " |")
        lines.append("")
        if previous:
            prev_path, prev = previous
            lines += [f"Change since `{prev_path.name}`:", ""]
            for config, m in configs.items():
                old = prev.get(suite, {}).get(config)
                if not old:
                    lines.append(f"- {config}: no earlier run of this configuration")
                    continue
                deltas = []
                for x in DIFF_METRICS:
                    if m.get(x) is not None and old.get(x) is not None:
                        d = m[x] - old[x]
                        deltas.append(f"{x} {_fmt(m[x], x)} ({'+' if d >= 0 else ''}{_fmt(d, x)})")
                lines.append(f"- {config}: " + ", ".join(deltas))
            lines.append("")
    failures = [r for r in results if r["outcome"] != "ok"]
    lines += [f"## Failures ({len(failures)})", ""]
    for r in failures:
        lines.append(f"### {r['suite']} / {r['config']} / {r['id']}: {r['outcome']}")
        gold = ", ".join(r["gold_answers"]) if r["answerable"] else "(unanswerable)"
        if r["answerable"] and "nuggets" in r:
            gold = f"{r['nuggets']} nuggets; missed: " + ("; ".join(r["missed_nuggets"]) or "none (not all supported)")
        lines += [f"- question: {r['question']}", f"- gold: {gold}", f"- answer: {r['answer']}", "- retrieved:"]
        for p in passages_text.get((r["suite"], r["config"], r["id"]), [])[:3]:
            text = " ".join(p["text"].split())
            lines.append(f"  {p['rank']}. `{p['source']}` § {p['section']} (score {p['score']:.3f}): {text[:240]}...")
        lines.append("")
    return "\n".join(lines)


def _plots(metrics, results, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = ("recall@1", "recall@5", "answer_accuracy", "grounded_accuracy", "abstention_recall", "overall")
    bars = [(f"{s} / {c}" if len(cs) > 1 else s, m) for s, cs in metrics.items() for c, m in cs.items()]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    width = 0.8 / max(len(bars), 1)
    for i, (label, m) in enumerate(bars):
        ax.bar([x + i * width for x in range(len(shown))], [m.get(s) or 0 for s in shown], width, label=label)
    ax.set_xticks([x + width * (len(bars) - 1) / 2 for x in range(len(shown))], shown, rotation=15)
    ax.set_ylim(0, 1.05)
    ax.set_title("Metrics per suite")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "metrics.png", dpi=90)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(7, 4))
    for label in sorted({(r["suite"], r["config"]) for r in results}):
        values = [r["latency_ms"] for r in results if (r["suite"], r["config"]) == label]
        ax.hist(values, bins=30, alpha=0.6, label=" / ".join(label))
    ax.set_xlabel("ask latency (ms, warm, in-process)")
    ax.set_ylabel("questions")
    ax.set_title("Latency")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "latency.png", dpi=90)
    plt.close(fig)
