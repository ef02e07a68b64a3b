"""The Ray section of `make bench`: what distributing ingest and sharding the index cost on one machine.

Ingest: wall time of a full local ingest of squad-train beside `--ray` with 1 and 2 embedding actors, each on
a fresh index folder, taking turns so all see the same machine load (Ray's own start is timed apart: a cluster
is started once, not per ingest). Query: p50 of a warm `Assistant.ask` on the synthetic 100k corpus unsharded
and in 2 and 4 shards (the same generated text and vectors, only the layout differs), each sharded layout both
searched in-process and served by one Ray actor per shard (`rag serve --ray`, a local Ray).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from eval.bench import DATA, QUESTION, build_synthetic, fmt, percentile, spread, synthetic_corpus, vocabulary

SQUAD_TRAIN = Path(__file__).resolve().parent / "benchmarks" / "squad-train" / "corpus"
SHARDS = (2, 4)  # one shard is the unsharded layout: `--shards 1` writes no shard folders
WORKERS = (1, 2)


def ingest_walls(corpus: Path, work: Path, repeats: int) -> dict[str, Any]:
    """Seconds of a full ingest (read, chunk, embed, export, write) locally and on Ray, median of `repeats`."""
    from index.encode.embed import SentenceTransformerEmbedder
    from index.storage.build import ingest
    from index.storage.distributed import RayOptions, connect

    started = time.perf_counter()
    ray = connect()
    ray_start = time.perf_counter() - started
    embedder = SentenceTransformerEmbedder()
    ingest(corpus, work / "warm-up", embedder=embedder, progress=False, log=lambda _: None)  # ONNX export, caches
    runs: dict[str, list[float]] = {"local": [], **{f"ray-{w}": [] for w in WORKERS}}
    chunks = 0
    for r in range(repeats):
        for name in runs:
            target = work / f"{name}-{r}"
            shutil.rmtree(target, ignore_errors=True)
            options = None if name == "local" else RayOptions(workers=int(name.split("-")[1]))
            t0 = time.perf_counter()
            report = ingest(corpus, target, embedder=embedder, progress=False, log=lambda _: None, ray=options)
            runs[name].append(time.perf_counter() - t0)
            chunks = report.chunks
            shutil.rmtree(target, ignore_errors=True)
    ray.shutdown()
    local = spread(runs["local"])["median"]
    return {
        "chunks": chunks,
        "ray_start_s": ray_start,
        **{name: spread(v) for name, v in runs.items()},
        **{f"{name}_vs_local": spread(v)["median"] / local for name, v in runs.items() if name != "local"},
    }


def sharded_p50(chunks: int, repeats: int) -> dict[str, Any]:
    """Warm ask p50 (ms) on the synthetic corpus of `chunks` chunks: unsharded, then in each of SHARDS shards."""
    from eval.harness import SUITES, load_gold
    from rag.assistant import DEFAULT_CORPUS, Assistant

    name = f"synthetic-{chunks // 1000}k"
    words = vocabulary([DEFAULT_CORPUS, SUITES["squad-dev"].corpus])
    corpus = synthetic_corpus(DATA / "bench-corpora" / name, chunks, words)
    report_q = [r["question"] for r in load_gold(SUITES["report"].gold)][:40]
    squad_q = [r["question"] for r in load_gold(SUITES["squad-dev"].gold)][:40]
    questions = [QUESTION, *report_q, *squad_q]
    plain = DATA / f"bench-{name}"
    if not (plain / "CURRENT").exists():
        build_synthetic(corpus, plain)
    layouts = {"unsharded": plain}
    for n in SHARDS:
        folder = DATA / f"bench-{name}-shards{n}"
        if not (folder / "CURRENT").exists():
            shutil.rmtree(folder, ignore_errors=True)
            shutil.copytree(plain, folder)  # vectors reused: only the layout changes
            build_synthetic(corpus, folder, shards=n)
        layouts[f"{n} shard(s)"] = folder
    assistants = {k: Assistant(corpus, v, log=lambda _: None, progress=False) for k, v in layouts.items()}
    for n in SHARDS:  # the same builds, their shard searches held by Ray actors
        served = Assistant(corpus, layouts[f"{n} shard(s)"], log=lambda _: None, progress=False)
        served.on_ray()
        assistants[f"{n} shard(s) on Ray"] = served
    for a in assistants.values():
        for q in questions[:5]:
            a.ask(q)
    passes: dict[str, list[float]] = {k: [] for k in assistants}
    for _ in range(repeats):  # taking turns: every layout sees the same machine load
        for key, a in assistants.items():
            passes[key].append(percentile([a.ask(q).timings_ms["total"] for q in questions], 50))
    if any(k.endswith("on Ray") for k in assistants):
        from index.storage.distributed import connect

        connect().shutdown()
    unsharded = spread(passes["unsharded"])["median"]
    return {
        "chunks": len(assistants["unsharded"].index.searchable),
        **{k: spread(v) for k, v in passes.items()},
        **{f"{k}_vs_unsharded": spread(v)["median"] / unsharded for k, v in passes.items() if k != "unsharded"},
    }


def table(r: dict[str, Any]) -> str:
    lines = []
    if "ingest" in r:
        i = r["ingest"]
        lines += [
            f"Ingest of squad-train ({i['chunks']} chunks), wall s; Ray's own start {i['ray_start_s']:.1f} s",
            "| run | seconds | vs local |",
            "|---|---|---|",
            f"| local | {fmt(i['local'])} | 1.00 |",
        ]
        lines += [f"| --ray, {w} worker(s) | {fmt(i[f'ray-{w}'])} | {i[f'ray-{w}_vs_local']:.2f} |" for w in WORKERS]
    if "query" in r:
        q = r["query"]
        lines += ["", f"Warm ask p50 on synthetic ({q['chunks']} chunks), ms", "| layout | p50 | vs unsharded |"]
        lines += ["|---|---|---|", f"| unsharded | {fmt(q['unsharded'])} | 1.00 |"]
        for key in (f"{n} shard(s){where}" for where in ("", " on Ray") for n in SHARDS):
            if key in q:
                lines.append(f"| {key} | {fmt(q[key])} | {q[f'{key}_vs_unsharded']:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.ray_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--chunks", type=int, default=100_000, help="size of the synthetic corpus for the query p50")
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--skip-query", action="store_true")
    parser.add_argument("--out", type=Path, default=None, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    if not args.skip_ingest:
        results["ingest"] = ingest_walls(SQUAD_TRAIN, DATA / "bench-ray", args.repeats)
    if not args.skip_query:
        results["query"] = sharded_p50(args.chunks, args.repeats)
    print(table(results))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
