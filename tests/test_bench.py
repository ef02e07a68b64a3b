"""The benchmark's arithmetic, generated corpora and report tables (speed itself is measured, never asserted)."""

from __future__ import annotations

import sys

from eval.bench import percentile, run_child, spread, synthetic_corpus, tables


def test_spread_and_percentile_match_hand_worked_cases():
    assert spread([3, 1, 2]) == {"median": 2.0, "min": 1.0, "max": 3.0}
    assert percentile([1, 2, 3, 4], 50) == 2
    assert percentile([1, 2, 3, 4], 95) == 4
    assert percentile(list(range(1, 101)), 95) == 95


def test_synthetic_corpus_is_deterministic_and_chunks_about_as_asked(tmp_path):
    from index.encode.embed import wordpiece_counter
    from index.load.documents import load_corpus
    from index.storage.build import IndexSettings
    from index.text.chunking import chunk_corpus
    from index.text.tokens import count_tokens

    words = ["alpha", "beta", "gamma", "delta", "epsilon", "policy", "training", "university"]
    a = synthetic_corpus(tmp_path / "a", 200, words)
    b = synthetic_corpus(tmp_path / "b", 200, words)
    files = sorted(p.name for p in a.glob("*.txt"))
    assert files == sorted(p.name for p in b.glob("*.txt"))
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)
    documents, skipped = load_corpus(a)
    assert not skipped
    chunks = chunk_corpus(documents, IndexSettings().chunker, count_tokens, wordpiece_counter())
    assert 100 <= len(chunks) <= 400


def test_run_child_reports_wall_time_memory_and_output():
    wall, rss, out = run_child([sys.executable, "-c", "print('answer')"], env={})
    assert out.strip() == "answer" and wall > 0 and rss > 1


def _spread(x: float) -> dict[str, float]:
    return {"median": x, "min": x * 0.9, "max": x * 1.1}


def test_tables_show_ratios_to_the_baseline():
    warm = {"chunks": 15, "dense_index": "flat"} | {
        s: {"p50": _spread(1.0), "p95": _spread(2.0)} for s in ("embed", "dense", "bm25", "fusion", "compose", "total")
    }
    warm["compose_p50_by_shape"] = {"factoid": _spread(1.5), "open": _spread(4.25)}
    corpus = {
        "disk_bytes": {"total": 2**20 * 30, "without_model": 2**20},
        "cold": {"wall_s": _spread(0.5), "peak_rss_mb": _spread(200)},
        "baseline_cold": {"wall_s": _spread(6.0), "peak_rss_mb": _spread(900)},
        "warm": warm,
        "baseline_warm": {"total": {"p50": _spread(12.0), "p95": _spread(20.0)}},
    }
    rate = {"chunks": 100, "tokens": 12800, "chunks_per_s": _spread(200.0), "tokens_per_s": _spread(25600.0)}
    slow = rate | {"chunks_per_s": _spread(80.0)}
    results = {
        "machine": {"cpus": 2, "cpu_bf16": True, "load_average": (1.0, 1.0, 1.0)},
        "repeats": 3,
        "seconds": 100.0,
        "corpora": {"report": corpus},
        "ingest": {size: {"ours": rate, "baseline": slow} for size in ("128", "256")} | {"precision": "bf16"},
    }
    text = tables(results)
    assert "| report | 15 | flat | 0.50 (0.45-0.55) |" in text
    assert "| 12.0x |" in text  # cold start 6.0 / 0.5
    assert "| 2.5x |" in text  # ingest 200 / 80
    assert "(factoid / open: lists, summaries, comparisons, ...): report 1.50 / 4.25" in text


def test_the_ray_section_tables_ingest_and_sharded_query_against_their_baselines():
    from eval.ray_bench import table

    s = spread([1.0, 2.0, 3.0])
    ingest = {"chunks": 1000, "ray_start_s": 4.0, "local": s, "ray-1": s, "ray-2": s}
    query = {"chunks": 100_000, "unsharded": s, "2 shard(s)": s, "4 shard(s)": s, "2 shard(s) on Ray": s}
    ratios = {"2 shard(s)_vs_unsharded": 1.1, "4 shard(s)_vs_unsharded": 1.3, "2 shard(s) on Ray_vs_unsharded": 1.9}
    text = table({"ingest": ingest | {"ray-1_vs_local": 1.25, "ray-2_vs_local": 0.8}, "query": query | ratios})
    assert "| --ray, 2 worker(s) | 2.0 (1.0-3.0) | 0.80 |" in text
    assert "| 4 shard(s) | 2.0 (1.0-3.0) | 1.30 |" in text and "100000 chunks" in text
    assert "| 2 shard(s) on Ray | 2.0 (1.0-3.0) | 1.90 |" in text and "4 shard(s) on Ray" not in text  # not measured
