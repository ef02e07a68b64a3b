"""How index.dense chose flat vs HNSW: recall@10 against exact search and search latency, by corpus size.

Measured on real MiniLM vectors of real text (random vectors say nothing about recall): the distinct
docstring sentences of the installed packages (English technical prose), embedded once by the bundled
model and cached under index/data/bench-corpora/ (resumable, so an interrupted run continues). Queries
are held-out sentences of the same text. Run: `python -m eval.ann [--vectors 100000]`; `make bench --large`
runs it too.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
import sysconfig
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "index" / "data" / "bench-corpora" / "real-text"
QUERIES = 1000
K = 10


def real_sentences(limit: int) -> list[str]:
    """Distinct docstring sentences (6-60 words) of the installed packages, in a fixed order; cached."""
    cached = CACHE / "sentences.jsonl"
    if cached.is_file():
        texts = [json.loads(line) for line in cached.read_text(encoding="utf-8").splitlines()]
        if len(texts) >= limit:
            return texts[:limit]
    seen: dict[str, None] = {}
    for path in sorted(Path(sysconfig.get_paths()["purelib"]).rglob("*.py")):
        for sentence in _docstring_sentences(path):
            seen.setdefault(sentence)
    texts = list(seen)
    np.random.default_rng(0).shuffle(texts)  # mix packages, so any prefix is a fair sample
    CACHE.mkdir(parents=True, exist_ok=True)
    cached.write_text("".join(json.dumps(t) + "\n" for t in texts), encoding="utf-8")
    return texts[:limit]


def _docstring_sentences(path: Path) -> list[str]:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, ValueError, UnicodeDecodeError, OSError):
        return []
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            doc = ast.get_docstring(node) or ""
            for para in re.split(r"\n\s*\n", doc):
                for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", " ".join(para.split())):
                    if 6 <= len(s.split()) <= 60 and s[:1].isupper() and not re.search(r"[>{}=]|::|\(\)", s):
                        out.append(s)
    return out


def real_vectors(n: int, progress: bool = True) -> tuple[np.ndarray, list[str]]:
    """n + QUERIES unit vectors of real sentences by the bundled model (embedded once, resumably)."""
    from index.embed import SentenceTransformerEmbedder
    from index.resumable import embed_resumable

    texts = real_sentences(n + QUERIES)
    if len(texts) < n + QUERIES:
        raise SystemExit(f"only {len(texts)} distinct sentences available; ask for at most {len(texts) - QUERIES}")
    vectors, _, _ = embed_resumable(SentenceTransformerEmbedder(), texts, CACHE / "vectors", progress)
    return np.asarray(vectors), texts


def measure(vectors: np.ndarray, sizes: list[int], ef_values: list[int]) -> list[dict[str, Any]]:
    """Per size: exact flat latency, and HNSW build time, recall@10 and latency at each efSearch."""

    from index import dense

    queries, base = vectors[:QUERIES], vectors[QUERIES:]
    rows = []
    for n in sizes:
        data = np.ascontiguousarray(base[:n])
        flat = dense.build(data, {"kind": "flat"}, data.shape[1])
        flat_ms, (_, truth) = _timed(flat, queries)
        started = time.perf_counter()
        spec = dense.plan(10**12)
        hnsw = dense.build(data, spec, data.shape[1])
        build_s = time.perf_counter() - started
        row = {"n": n, "flat_p50_ms": flat_ms, "hnsw_build_s": build_s, "m": spec["m"], "hnsw": {}}
        for ef in ef_values:
            hnsw.hnsw.efSearch = ef
            ms, (_, found) = _timed(hnsw, queries)
            recall = float(np.mean([len(set(f) & set(t)) / K for f, t in zip(found, truth, strict=True)]))
            row["hnsw"][ef] = {"recall_at_10": recall, "p50_ms": ms}
        rows.append(row)
        print(_row_text(row), file=sys.stderr, flush=True)
        del hnsw, flat
    return rows


def _timed(index, queries: np.ndarray) -> tuple[float, tuple[np.ndarray, np.ndarray]]:
    """Median single-query latency in ms (one query at a time, as users ask), and all results."""
    times, sims, rows = [], [], []
    for q in queries:
        started = time.perf_counter()
        s, r = index.search(q[None, :], K)
        times.append((time.perf_counter() - started) * 1000)
        sims.append(s[0])
        rows.append(r[0])
    return float(np.median(times)), (np.array(sims), np.array(rows))


def _row_text(row: dict[str, Any]) -> str:
    hnsw = " ".join(f"ef{ef}: r@10 {v['recall_at_10']:.3f} {v['p50_ms']:.2f} ms" for ef, v in row["hnsw"].items())
    return f"n={row['n']}: flat {row['flat_p50_ms']:.2f} ms | hnsw build {row['hnsw_build_s']:.0f} s | {hnsw}"


def table(rows: list[dict[str, Any]]) -> str:
    """Markdown: one line per size."""
    efs = list(rows[0]["hnsw"]) if rows else []
    head = "| chunks | flat p50 ms | HNSW build s | " + " | ".join(f"ef={ef} recall@10 / p50 ms" for ef in efs) + " |"
    lines = [head, "|" + "---:|" * (3 + len(efs))]
    for r in rows:
        cells = " | ".join(f"{r['hnsw'][ef]['recall_at_10']:.3f} / {r['hnsw'][ef]['p50_ms']:.2f}" for ef in efs)
        lines.append(f"| {r['n']} | {r['flat_p50_ms']:.2f} | {r['hnsw_build_s']:.0f} | {cells} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.ann", description=__doc__.splitlines()[0])
    parser.add_argument("--vectors", type=int, default=100_000, help="real sentences to embed and search")
    parser.add_argument("--ef", default="32,64,128,256", help="efSearch values to measure")
    args = parser.parse_args(argv)
    vectors, _ = real_vectors(args.vectors)
    sizes = sorted({s for s in (10_000, 25_000, 50_000, 100_000, args.vectors) if s <= args.vectors})
    rows = measure(vectors, sizes, [int(e) for e in args.ef.split(",")])
    print(table(rows))
    out = CACHE / f"ann-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
