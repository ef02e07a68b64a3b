"""`rag eval --suite formats`: the report and squad-val rendered as txt, PDF, DOCX and an HTML page, each
scored with the same gold questions, so an answer that depends on the file format shows (issue #16)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

BASES = ("report", "squad-val")
TOLERANCE = 0.02  # done when every rendering is this close to the plain text on recall@5 and answer accuracy


def suites(index_root: Path) -> list:
    """One suite per base corpus and format, rendered (deterministically, only what changed) beside the index."""
    from eval.harness import SUITES, Suite
    from eval.render import FORMATS, render_corpus

    out = []
    for base in BASES:
        for fmt in FORMATS:
            target = index_root.parent / "corpora" / "formats" / base / fmt
            render_corpus(SUITES[base].corpus, target, fmt)
            name = f"formats-{base}-{fmt}"
            out.append(Suite(name, SUITES[base].gold, target, index_name=name))
    return out


def offending_passages(answers: list[dict[str, Any]]) -> int:
    """Retrieved passages holding a header, footer, page number or nav-bar line a rendering added."""
    from eval.render import offending

    return sum(1 for a in answers for p in a["passages"] if offending(p["text"]))


def within(delta: float) -> bool:
    """Whether a change is within TOLERANCE, read as the table prints it (0.88 - 0.90 is -0.020000000000000018).

    Example: within(0.88 - 0.90) -> True, within(0.97 - 1.0) -> False
    """
    return round(abs(delta), 6) <= TOLERANCE


def summary(metrics: dict[str, dict[str, dict]], offending: dict[str, int]) -> str:
    """A table per base corpus: each rendering's recall@5 and answer accuracy, the change from txt, offenders."""
    lines = []
    for base in BASES:
        rows = {fmt: metrics.get(f"formats-{base}-{fmt}") for fmt in ("txt", "pdf", "docx", "html")}
        if not rows["txt"]:
            continue
        base_row = next(iter(rows["txt"].values()))
        lines.append(f"\nformats: {base}")
        lines.append(f"{'':6}{'recall@5':>10}{'Δ':>8}{'accuracy':>10}{'Δ':>8}{'offending':>11}  within {TOLERANCE}")
        for fmt, configs in rows.items():
            if not configs:
                continue
            for label, m in configs.items():
                d_r = m["recall@5"] - base_row["recall@5"]
                d_a = m["answer_accuracy"] - base_row["answer_accuracy"]
                ok = within(d_r) and within(d_a) and not offending.get(f"{base}-{fmt}-{label}")
                lines.append(
                    f"{fmt:6}{m['recall@5']:>10.3f}{d_r:>+8.3f}{m['answer_accuracy']:>10.3f}{d_a:>+8.3f}"
                    f"{offending.get(f'{base}-{fmt}-{label}', 0):>11}  {'yes' if ok else 'NO'}"
                )
    return "\n".join(lines)
