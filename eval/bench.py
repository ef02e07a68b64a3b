"""`make bench`: how fast we answer and ingest, beside a plain sentence-transformers + FAISS baseline.

A benchmark, not a test: every figure is a median over repeated runs with its min and max, and the
baseline runs in the same process on the same machine, so the ratios hold when the machine is noisy.
Writes eval/reports/bench-<stamp>/ (bench.json, bench.md, PNG plots) and prints the tables.

Corpora: the report (corpus/), squad-dev, and synthetic ones of 10k and 100k chunks (1M with --large).
Synthetic corpora are generated text (words of the real corpora in random sentences, so chunking and
BM25 are real) with generated vectors (random unit vectors instead of model embeddings, since embedding
10k+ chunks on 2 cores takes longer than the whole benchmark may): their latency is real, their answers not.
Their chunks are sized by estimated token counts (exact counting would take most of the benchmark's
time; ingest speed is measured on real text). Above index.storage.dense's threshold they get an HNSW chunk
index, as a real corpus of that size would; HNSW recall is measured on real vectors by `python -m
eval.ann` (or --ann).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

EVAL_DIR = Path(__file__).resolve().parent
ROOT = EVAL_DIR.parent
DATA = ROOT / "index" / "data"
STAGES = ("embed", "dense", "bm25", "fusion", "compose", "total")
QUESTION = "Who chaired Session II?"
WORDS_PER_CHUNK = 66  # about what the default chunker (160 cl100k tokens) packs of generated prose


@dataclass(frozen=True)
class Corpus:
    """A corpus to measure: its documents, its index folder and the questions asked of it."""

    name: str
    corpus: Path
    index: Path
    questions: tuple[str, ...]


def spread(values: Sequence[float]) -> dict[str, float]:
    """Median with min and max: how every repeated figure is reported.

    Example: spread([3, 1, 2]) -> {"median": 2, "min": 1, "max": 3}
    """
    return {"median": float(statistics.median(values)), "min": float(min(values)), "max": float(max(values))}


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation), as latency reports usually give it.

    Example: percentile([1, 2, 3, 4], 50) -> 2
    """
    ordered = sorted(values)
    return float(ordered[max(0, int(np.ceil(q / 100 * len(ordered))) - 1)])


def fmt(s: dict[str, float], digits: int = 1) -> str:
    """A spread as "median (min-max)"."""
    return f"{s['median']:.{digits}f} ({s['min']:.{digits}f}-{s['max']:.{digits}f})"


# ---- synthetic corpora -------------------------------------------------------------------------------


def synthetic_corpus(folder: Path, chunks: int, vocabulary: list[str], seed: int = 0) -> Path:
    """Write about `chunks` chunks of generated prose as .txt files (deterministic, reused when present)."""
    rng = np.random.default_rng(seed)
    words_total, per_doc = chunks * WORDS_PER_CHUNK, 2200
    docs = max(1, words_total // per_doc)
    marker = folder / f".complete-{docs}"
    if marker.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)  # another size or an interrupted run: start clean
    folder.mkdir(parents=True)
    vocab = np.array(vocabulary)
    for d in range(docs):
        lines, written = [f"Synthetic document {d}", ""], 0
        while written < per_doc:
            lines.append(f"Section {len(lines)} of document {d}")
            for _ in range(int(rng.integers(3, 8))):
                n = int(rng.integers(8, 26))
                words = vocab[rng.integers(0, len(vocab), n)]
                lines.append(" ".join(words).capitalize() + ".")
                written += n
            lines.append("")
        (folder / f"doc-{d:06d}.txt").write_text("\n".join(lines), encoding="utf-8")
    marker.touch()
    return folder


def vocabulary(folders: Sequence[Path]) -> list[str]:
    """Distinct lower-case words of the real corpora, so generated text has a realistic term spread."""
    words: set[str] = set()
    for folder in folders:
        for path in folder.glob("*.txt"):
            words.update(re.findall(r"[a-z]{3,}", path.read_text(encoding="utf-8").lower()))
    return sorted(words)


def build_synthetic(corpus: Path, index: Path, shards: int | None = None) -> float:
    """Index generated text with generated vectors (and the real ONNX query encoder); returns seconds."""
    from index.encode.embed import SentenceTransformerEmbedder
    from index.storage.build import ingest

    class GeneratedVectors(SentenceTransformerEmbedder):
        """Random unit vectors for chunks and sentences; the model is only loaded to export the query encoder."""

        def embed(self, texts):
            rows = np.random.default_rng(len(texts)).standard_normal((len(texts), self.dim)).astype(np.float32)
            return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    def estimate(text: str) -> int:  # generated words are common English words: ~1.3 tokens or pieces each
        return int(len(text.split()) * 1.3) + 1

    report = ingest(
        corpus,
        index,
        embedder=GeneratedVectors(),
        progress=False,
        log=lambda _: None,
        counters=(estimate, estimate),
        shards=shards,
    )
    return report.seconds


# ---- measurements ------------------------------------------------------------------------------------


# Spawns the measured process from a small one: a child's peak RSS starts at its parent's (the kernel
# carries the parent's high-water mark over exec), and this benchmark process holds torch.
_TRAMPOLINE = """
import json, os, sys, time
started = time.perf_counter()
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ)
_, status, usage = os.wait4(pid, 0)
print(json.dumps([time.perf_counter() - started, usage.ru_maxrss, os.waitstatus_to_exitcode(status)]), file=sys.stderr)
"""


def run_child(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds (process start to exit, the answer printed), peak RSS in MB and the output of one process."""
    import subprocess

    program = shutil.which(argv[0]) or argv[0]
    done = subprocess.run(
        [sys.executable, "-c", _TRAMPOLINE, program, *argv[1:]], capture_output=True, text=True, env=env
    )
    *errors, last = done.stderr.rstrip("\n").split("\n")
    wall, rss_kb, code = json.loads(last)
    if code != 0:
        raise RuntimeError(f"{' '.join(argv[:3])} exited {code}: {' '.join(errors)[-500:]}")
    return wall, rss_kb / 1024, done.stdout


def cold_start(c: Corpus, runs: int, env: dict[str, str]) -> dict[str, Any]:
    """`rag ask` in a fresh process on a built index: wall time and peak memory."""
    rag = str(Path(sys.executable).parent / "rag")
    argv = [rag, "ask", "--corpus", str(c.corpus), "--index", str(c.index), c.questions[0]]
    results = [run_child(argv, env) for _ in range(runs)]
    return {"wall_s": spread([r[0] for r in results]), "peak_rss_mb": spread([r[1] for r in results])}


BASELINE_SCRIPT = """
import sys, json, faiss
from sentence_transformers import SentenceTransformer
model_path, flat, chunks, question = sys.argv[1:5]
model = SentenceTransformer(model_path, device="cpu")
index = faiss.read_index(flat)
texts = [json.loads(line)["text"] for line in open(chunks, encoding="utf-8")]
scores, rows = index.search(model.encode([question], normalize_embeddings=True), 5)
print(texts[rows[0][0]][:200])
"""


def baseline_flat(c: Corpus) -> Path:
    """The baseline's own IndexFlatIP of the corpus's chunk vectors (ours may be HNSW), written once."""
    import faiss

    from index.storage.store import current_build

    build = current_build(c.index)
    path = DATA / "bench-baseline" / f"{c.name}-{build.name}.faiss"
    if not path.is_file():
        ours = faiss.read_index(str(build / "dense.faiss"))
        flat = faiss.IndexFlatIP(ours.d)
        flat.add(ours.reconstruct_n(0, ours.ntotal))
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in path.parent.glob(f"{c.name}-*.faiss"):
            stale.unlink()
        faiss.write_index(flat, str(path))
    return path


def baseline_cold(c: Corpus, runs: int, env: dict[str, str]) -> dict[str, Any]:
    """The plain script users would write: sentence-transformers + faiss IndexFlatIP, top passage printed."""
    from index.encode.embed import bundled_model_path
    from index.storage.store import current_build

    build = current_build(c.index)
    argv = [sys.executable, "-c", BASELINE_SCRIPT, str(bundled_model_path()), str(baseline_flat(c))]
    argv += [str(build / "chunks.jsonl"), c.questions[0]]
    results = [run_child(argv, env) for _ in range(runs)]
    return {"wall_s": spread([r[0] for r in results]), "peak_rss_mb": spread([r[1] for r in results])}


def warm(c: Corpus, repeats: int, model) -> tuple[dict[str, Any], dict[str, Any]]:
    """Ours (Assistant.ask, per stage) and the baseline over the corpus's questions, taking turns `repeats`
    times so both see the same machine load: p50/p95 of each pass, median over passes."""
    import faiss

    from rag.assistant import Assistant
    from rag.shapes import shape_of

    assistant = Assistant(c.corpus, c.index, log=lambda _: None, progress=False)
    for q in c.questions[:5]:
        assistant.ask(q)
    flat = faiss.read_index(str(baseline_flat(c)))
    ours: dict[str, dict[str, list[float]]] = {s: {"p50": [], "p95": []} for s in STAGES}
    base: dict[str, list[float]] = {"p50": [], "p95": []}
    # Open questions (lists, summaries, comparisons...) compose several sentences: their cost is reported apart.
    shapes = {q: "factoid" if shape_of(q).kind == "factoid" else "open" for q in c.questions}
    by_shape: dict[str, list[float]] = {"factoid": [], "open": []}
    for _ in range(repeats):
        per_stage: dict[str, list[float]] = {s: [] for s in STAGES}
        per_shape: dict[str, list[float]] = {"factoid": [], "open": []}
        for q in c.questions:
            timings = assistant.ask(q).timings_ms
            for s in STAGES:
                per_stage[s].append(timings.get(s, 0.0))
            per_shape[shapes[q]].append(timings.get("compose", 0.0))
        for s in STAGES:
            ours[s]["p50"].append(percentile(per_stage[s], 50))
            ours[s]["p95"].append(percentile(per_stage[s], 95))
        for kind, times in per_shape.items():
            if times:
                by_shape[kind].append(percentile(times, 50))
        times = [_baseline_ask(model, flat, q) for q in c.questions]
        base["p50"].append(percentile(times, 50))
        base["p95"].append(percentile(times, 95))
    encoder = type(assistant.retriever.embedder).__name__
    kind = assistant.index.manifest.dense_index.get("kind", "flat")
    return (
        {"encoder": encoder, "chunks": len(assistant.index.searchable), "dense_index": kind}
        | {s: {k: spread(v) for k, v in ours[s].items()} for s in STAGES}
        | {"compose_p50_by_shape": {kind: spread(v) for kind, v in by_shape.items() if v}},
        {"total": {k: spread(v) for k, v in base.items()}},
    )


def _baseline_ask(model, flat, question: str) -> float:
    """The baseline's per-question cost in ms: sentence-transformers fp32 embed + IndexFlatIP top-5."""
    started = time.perf_counter()
    flat.search(model.encode([question], normalize_embeddings=True, convert_to_numpy=True), 5)
    return (time.perf_counter() - started) * 1000


def ingest_rate(corpus: Path, max_tokens: int, repeats: int, embedders: dict[str, Callable]) -> dict[str, Any]:
    """Chunks/s and tokens/s of embedding the corpus's chunks at one chunk size (chunking not timed), for each
    embedder, taking turns so that all see the same machine load."""
    import dataclasses

    from index.encode.embed import wordpiece_counter
    from index.load.documents import load_corpus
    from index.storage.build import IndexSettings
    from index.text.chunking import chunk_corpus
    from index.text.tokens import count_tokens

    settings = IndexSettings()
    chunker = dataclasses.replace(settings.chunker, max_tokens=max_tokens)
    documents, _ = load_corpus(corpus)
    chunks = [c for c in chunk_corpus(documents, chunker, count_tokens, wordpiece_counter()) if c.duplicate_of is None]
    texts, tokens = [c.embed_text() for c in chunks], sum(c.n_tokens for c in chunks)
    seconds: dict[str, list[float]] = {name: [] for name in embedders}
    for _ in range(repeats):
        for name, embed in embedders.items():
            started = time.perf_counter()
            embed(texts)
            seconds[name].append(time.perf_counter() - started)
    return {
        name: {
            "chunks": len(chunks),
            "tokens": tokens,
            "chunks_per_s": spread([len(chunks) / s for s in taken]),
            "tokens_per_s": spread([tokens / s for s in taken]),
        }
        for name, taken in seconds.items()
    }


def disk_bytes(index: Path) -> dict[str, int]:
    """Bytes of the live build on disk, in all and without the query encoder's model file."""
    from index.storage.store import current_build, read_manifest

    build = current_build(index)
    files = [p for p in build.rglob("*") if p.is_file()]
    onnx = (read_manifest(index).get("query_encoder") or {}).get("file")
    total = sum(p.stat().st_size for p in files)
    return {"total": total, "without_model": total - sum(p.stat().st_size for p in files if p.name == onnx)}


# ---- the run -----------------------------------------------------------------------------------------


def corpora(large: bool) -> list[Corpus]:
    """The report, squad-dev (sharing the indexes `rag ask` and `rag eval` use) and the synthetic sizes."""
    from eval.harness import SUITES, index_dir_for, load_gold
    from rag.assistant import DEFAULT_CORPUS, DEFAULT_INDEX, Settings

    report_q = tuple(r["question"] for r in load_gold(SUITES["report"].gold))
    squad_q = tuple(r["question"] for r in load_gold(SUITES["squad-dev"].gold))
    squad = SUITES["squad-dev"]
    out = [
        Corpus("report", DEFAULT_CORPUS, DEFAULT_INDEX, (QUESTION, *report_q)),
        Corpus("squad-dev", squad.corpus, index_dir_for(DEFAULT_INDEX, squad, DEFAULT_CORPUS, Settings()), squad_q),
    ]
    words = vocabulary([DEFAULT_CORPUS, squad.corpus])
    for n in [10_000, 100_000] + ([1_000_000] if large else []):
        name = f"synthetic-{n // 1000}k" if n < 1_000_000 else f"synthetic-{n // 1_000_000}m"
        folder = synthetic_corpus(DATA / "bench-corpora" / name, n, words)
        out.append(Corpus(name, folder, DATA / f"bench-{name}", (QUESTION, *report_q[:40], *squad_q[:40])))
    return out


def ensure_index(c: Corpus) -> float | None:
    """Build the corpus's index if missing or stale; seconds taken, or None when it was up to date."""
    from index.storage.build import IndexSettings, ingest, stale_reason

    if stale_reason(c.corpus, c.index, IndexSettings()) is None:
        return None
    if c.name.startswith("synthetic"):
        return build_synthetic(c.corpus, c.index)
    return ingest(c.corpus, c.index, progress=False, log=lambda _: None).seconds


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import platform

    flags = ""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "cpu_bf16": "avx512_bf16" in flags or "amx_bf16" in flags,
        "load_average": os.getloadavg(),
    }


def run(args) -> dict[str, Any]:
    """Every measurement; progress lines on stderr."""
    import tempfile

    from index.encode.embed import SentenceTransformerEmbedder, bundled_model_path
    from index.encode.resumable import embed_resumable, finish

    def ingest_embed(texts: list[str]) -> None:
        """What ingest does: length-sorted batches into a memory-mapped file (dropped after, so repeats redo it)."""
        work = Path(tempfile.mkdtemp(prefix="rag-bench-"))
        embed_resumable(ours, texts, work, progress=False)
        finish(work)

    def say(msg: str) -> None:
        print(f"[{time.perf_counter() - t0:6.1f} s] {msg}", file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", GRADIO_ANALYTICS_ENABLED="False")
    results: dict[str, Any] = {"machine": machine(), "repeats": args.repeats, "corpora": {}, "ingest": {}}
    cs = [c for c in corpora(args.large) if not args.only or c.name in args.only]
    if not cs:
        raise SystemExit(f"no corpus named {', '.join(args.only)} (with --large: synthetic-1m)")
    for c in cs:
        say(f"index for {c.name}")
        results["corpora"][c.name] = {"built_s": ensure_index(c), "disk_bytes": disk_bytes(c.index)}
    for c in cs:
        say(f"cold start on {c.name} ({args.cold_runs} runs, and {args.baseline_runs} of the baseline)")
        results["corpora"][c.name]["cold"] = cold_start(c, args.cold_runs, env)
        results["corpora"][c.name]["baseline_cold"] = baseline_cold(c, args.baseline_runs, env)
    from sentence_transformers import SentenceTransformer

    plain = SentenceTransformer(str(bundled_model_path()), device="cpu")
    for c in cs:
        say(f"warm ask on {c.name}, ours and the baseline in turn ({len(c.questions)} questions x {args.repeats})")
        results["corpora"][c.name]["warm"], results["corpora"][c.name]["baseline_warm"] = warm(c, args.repeats, plain)
    report = next((c for c in cs if c.name == "report"), None)
    if report is not None:
        from eval import protocols
        from rag.assistant import Assistant

        say("protocol overhead on the report: the OpenAI API and the MCP tool against Assistant.ask, in-process")
        assistant = Assistant(report.corpus, report.index, log=lambda _: None, progress=False)
        results["protocols"] = protocols.overhead(assistant, report.questions, args.repeats)
    ours = SentenceTransformerEmbedder()
    for max_tokens in (128, 256) if any(c.name == "squad-dev" for c in cs) else ():
        say(f"ingest throughput at {max_tokens} tokens, ours and the baseline in turn")
        ours.embed(["warm up"] * 8)
        squad = next(c for c in cs if c.name == "squad-dev")
        embedders = {"ours": ingest_embed, "baseline": lambda t: plain.encode(t, normalize_embeddings=True)}
        results["ingest"][str(max_tokens)] = ingest_rate(squad.corpus, max_tokens, args.repeats, embedders)
    results["ingest"]["precision"] = ours.precision
    if args.ann:
        from eval import ann

        say("HNSW recall against exact search on real vectors (eval.ann)")
        vectors, _ = ann.real_vectors(100_000, progress=False)
        results["ann"] = ann.measure(vectors, [10_000, 25_000, 50_000, 100_000], [32, 64, 128, 256])
    results["seconds"] = time.perf_counter() - t0
    return results


def tables(r: dict[str, Any]) -> str:
    """The markdown tables bench.md holds and `make bench` prints."""
    mb = 1 / 2**20
    lines = [
        "### Answering (ours): medians over repeats, (min-max)",
        "",
        "| corpus | chunks | dense index | cold start s | peak RSS MB | warm p50 ms | warm p95 ms "
        "| embed | dense | bm25 | fusion | compose (p50 ms) | index MB (without model) |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, c in r["corpora"].items():
        w = c["warm"]
        stages = " | ".join(f"{w[s]['p50']['median']:.2f}" for s in ("embed", "dense", "bm25", "fusion", "compose"))
        disk = c["disk_bytes"]
        lines.append(
            f"| {name} | {w['chunks']} | {w.get('dense_index', 'flat')} | {fmt(c['cold']['wall_s'], 2)} "
            f"| {c['cold']['peak_rss_mb']['median']:.0f} "
            f"| {fmt(w['total']['p50'], 2)} | {fmt(w['total']['p95'], 2)} | {stages} "
            f"| {disk['total'] * mb:.1f} ({disk['without_model'] * mb:.1f}) |"
        )
    shaped = {name: c["warm"].get("compose_p50_by_shape") or {} for name, c in r["corpora"].items()}
    if any(shaped.values()):
        lines += [
            "",
            "Compose p50 ms by question shape (factoid / open: lists, summaries, comparisons, ...): "
            + "; ".join(
                f"{name} {by['factoid']['median']:.2f} / {by['open']['median']:.2f}"
                if "open" in by
                else f"{name} {by['factoid']['median']:.2f} / -"
                for name, by in shaped.items()
                if "factoid" in by
            ),
        ]
    lines += [
        "",
        "### Against the plain baseline (sentence-transformers fp32 + faiss IndexFlatIP, top-5 passages only)",
        "",
        "| corpus | cold start s: ours / baseline | speed-up | warm p50 ms: ours / baseline | speed-up "
        "| warm p95 ms: ours / baseline | peak RSS MB: ours / baseline |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, c in r["corpora"].items():
        ours_cold, base_cold = c["cold"]["wall_s"]["median"], c["baseline_cold"]["wall_s"]["median"]
        ours_p50, base_p50 = c["warm"]["total"]["p50"]["median"], c["baseline_warm"]["total"]["p50"]["median"]
        ours_p95, base_p95 = c["warm"]["total"]["p95"]["median"], c["baseline_warm"]["total"]["p95"]["median"]
        rss = f"{c['cold']['peak_rss_mb']['median']:.0f} / {c['baseline_cold']['peak_rss_mb']['median']:.0f}"
        lines.append(
            f"| {name} | {ours_cold:.2f} / {base_cold:.2f} | {base_cold / ours_cold:.1f}x "
            f"| {ours_p50:.2f} / {base_p50:.2f} | {base_p50 / ours_p50:.1f}x "
            f"| {ours_p95:.2f} / {base_p95:.2f} | {rss} |"
        )
    sizes = [size for size in ("128", "256") if size in r["ingest"]]
    if sizes:
        lines += [
            "",
            f"### Ingest: embedding squad-dev's chunks (ours: {r['ingest']['precision']}, length-sorted batches "
            "encoded 16 at a time; baseline: sentence-transformers fp32; the two take turns)",
            "",
            "| max_tokens | chunks | tokens | ours chunks/s | ours tokens/s | baseline chunks/s | baseline tokens/s "
            "| speed-up |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
    for max_tokens in sizes:
        ours, base = r["ingest"][max_tokens]["ours"], r["ingest"][max_tokens]["baseline"]
        ratio = ours["chunks_per_s"]["median"] / base["chunks_per_s"]["median"]
        lines.append(
            f"| {max_tokens} | {ours['chunks']} | {ours['tokens']} | {fmt(ours['chunks_per_s'])} "
            f"| {fmt(ours['tokens_per_s'], 0)} | {fmt(base['chunks_per_s'])} | {fmt(base['tokens_per_s'], 0)} "
            f"| {ratio:.1f}x |"
        )
    if r.get("protocols"):
        from eval.protocols import table

        lines += ["", table(r["protocols"])]
    m = r["machine"]
    lines += [
        "",
        f"{m['cpus']} CPUs, bf16 in hardware: {m['cpu_bf16']}, load average at start {m['load_average'][0]:.1f}; "
        f"{r['repeats']} repeats; benchmark took {r['seconds']:.0f} s. Synthetic corpora: generated text, "
        "generated (random unit) vectors.",
    ]
    if r.get("ann"):
        from eval.ann import table

        lines += ["", "### HNSW against exact search, real MiniLM vectors of real text (eval.ann)", "", table(r["ann"])]
    return "\n".join(lines)


def plots(r: dict[str, Any], out: Path) -> None:
    """Warm latency by stage, cold start and ingest rate against the baseline, as PNGs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(r["corpora"])
    fig, ax = plt.subplots(figsize=(7, 4))
    bottom = np.zeros(len(names))
    for stage in ("embed", "dense", "bm25", "fusion", "compose"):
        values = np.array([r["corpora"][n]["warm"][stage]["p50"]["median"] for n in names])
        ax.bar(names, values, bottom=bottom, label=stage)
        bottom += values
    ax.set_ylabel("warm ask p50 (ms)")
    ax.set_title("Where a warm answer's time goes")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "warm_stages.png", dpi=110)
    plt.close(fig)
    charts = [("cold", "cold start (s)", "cold_start.png")]
    if "128" in r["ingest"]:
        charts.append((None, "chunks/s", "ingest.png"))
    for key, label, filename in charts:
        fig, ax = plt.subplots(figsize=(7, 4))
        groups = names if key else ["128", "256"]
        x = np.arange(len(groups))
        for offset, who in ((-0.2, "ours"), (0.2, "baseline")):
            if key:
                spreads = [r["corpora"][n][key if who == "ours" else f"baseline_{key}"]["wall_s"] for n in groups]
            else:
                spreads = [r["ingest"][g][who]["chunks_per_s"] for g in groups]
            med = np.array([s["median"] for s in spreads])
            err = np.array([[s["median"] - s["min"] for s in spreads], [s["max"] - s["median"] for s in spreads]])
            ax.bar(x + offset, med, 0.4, yerr=err, capsize=3, label=who)
        ax.set_xticks(x, groups if key else [f"{g} tokens" for g in groups])
        ax.set_ylabel(label)
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / filename, dpi=110)
        plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="add a synthetic corpus of 1M chunks (an hour or more)")
    parser.add_argument("--ann", action="store_true", help="add eval.ann's HNSW recall on 100k real vectors (hours)")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of each warm and ingest measurement")
    parser.add_argument("--cold-runs", type=int, default=5, help="fresh `rag ask` processes per corpus")
    parser.add_argument("--baseline-runs", type=int, default=2, help="fresh baseline processes per corpus")
    parser.add_argument("--only", action="append", help="measure only this corpus (repeatable), e.g. synthetic-1m")
    parser.add_argument("--reports", type=Path, default=EVAL_DIR / "reports")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    results = run(args)
    out = args.reports / f"bench-{time.strftime('%Y%m%d-%H%M%S')}"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    text = tables(results)
    (out / "bench.md").write_text(f"# Benchmark {out.name}\n\n{text}\n", encoding="utf-8")
    plots(results, out)
    print(text)
    print(f"\nreport: {out / 'bench.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
