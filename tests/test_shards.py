"""A sharded index (split by document) searches and answers exactly as the unsharded one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from index.errors import IndexCorrupt
from index.storage.build import ingest
from index.storage.shards import load_shard, merge_hits, split
from index.storage.store import current_build, load
from tests.conftest import CORPUS, ROOT, flip_middle_bit

SQUAD_DEV = ROOT / "eval" / "benchmarks" / "squad-dev"
QUIET = {"progress": False, "log": lambda _: None}


def test_split_cuts_only_between_documents_into_similar_runs():
    assert split(["a", "a", "b", "c", "c", "c"], [True] * 6, 2) == [(0, 3), (3, 6)]
    assert split(["a", "b", "c", "c", "c", "c", "c"], [True] * 7, 3) == [(0, 1), (1, 2), (2, 7)]
    assert split(["a", "b"], [True, True], 3) == [(0, 1), (1, 2)]  # never more shards than documents
    assert split(["a", "a", "b"], [True, False, True], 1) == [(0, 3)]


def test_merged_hits_are_best_first_with_ties_by_row_and_padded():
    sims, rows = merge_hits([(0.5, 7), (0.9, 2), (0.5, 3)], 4)
    assert rows.tolist() == [[2, 3, 7, -1]] and sims[0, :3].tolist() == pytest.approx([0.9, 0.5, 0.5])


def test_cut_postings_keep_the_whole_corpus_bm25_scores(tmp_path):
    import bm25s

    from index.storage.postings import Postings
    from index.storage.shards import ShardedPostings, cut_postings

    docs = [["owl", "night"], ["owl", "barn", "barn"], ["night"], ["fox", "owl"], ["barn"], ["fox", "fox", "night"]]
    whole = bm25s.BM25()
    whole.index(docs, show_progress=False)
    whole.save(str(tmp_path / "whole"))
    cuts = [(0, 2), (2, 5), (5, 6)]
    for i, (lo, hi) in enumerate(cuts):
        cut_postings(tmp_path / "whole", tmp_path / f"s{i}", lo, hi)
    one = Postings(tmp_path / "whole")
    sharded = ShardedPostings([Postings(tmp_path / f"s{i}") for i in range(3)], [lo for lo, _ in cuts])
    assert sharded.num_docs == one.num_docs and sharded.vocab_dict == one.vocab_dict
    assert np.array_equal(sharded.doc_freqs(), one.doc_freqs())
    for query in (["owl"], ["barn", "night", "owl"], ["fox", "fox"]):
        ids = [one.vocab_dict[t] for t in query]
        assert np.array_equal(sharded.get_scores(ids), one.get_scores(ids))  # bit for bit: global idf and length
        assert all(np.array_equal(sharded.postings(i), one.postings(i)) for i in ids)


def _resharded(plain: Path, target: Path, corpus: Path, embedder, n: int = 3) -> Path:
    """A copy of a plain build re-ingested as n shards (its vectors reused, so only the layout differs)."""
    shutil.copytree(plain, target)
    report = ingest(corpus, target, embedder=embedder, shards=n, **QUIET)
    assert report.built and "shard count changed (1 -> 3)" in report.reason
    return target


@pytest.fixture(scope="module")
def squad_dev_pair(tmp_path_factory, embedder):
    """squad-dev's six articles indexed plainly and in three shards."""
    root = tmp_path_factory.mktemp("shards")
    ingest(SQUAD_DEV / "corpus", root / "plain", embedder=embedder, **QUIET)
    return root / "plain", _resharded(root / "plain", root / "sharded", SQUAD_DEV / "corpus", embedder)


@pytest.fixture(scope="module")
def mixed_pair(tmp_path_factory, embedder, squad_dev_pair):
    """The report beside squad-dev's articles (seven documents), plainly and in three shards: the report's own
    corpus is one document, which no split by document can shard."""
    root = tmp_path_factory.mktemp("mixed")
    corpus = root / "corpus"
    shutil.copytree(SQUAD_DEV / "corpus", corpus)
    shutil.copy(next(CORPUS.glob("*.txt")), corpus)
    shutil.copytree(squad_dev_pair[0], root / "plain")  # squad-dev's vectors are reused; only the report is embedded
    ingest(corpus, root / "plain", embedder=embedder, **QUIET)
    return corpus, root / "plain", _resharded(root / "plain", root / "sharded", corpus, embedder)


def _seen(p) -> tuple:
    """Everything a retrieved passage carries: which chunk, its fused and per-list scores, terms and row."""
    return p.chunk.id, p.rank, p.score, p.scores, p.matched_terms, p.row


def _same_everywhere(corpus: Path, plain: Path, sharded: Path, gold: Path, embedder) -> int:
    """Asks every gold question of both indexes; returns how many were compared (fails at the first difference)."""
    from eval.harness import load_gold
    from rag.assistant import Assistant

    one = Assistant(corpus, plain, embedder=embedder, log=lambda _: None)
    many = Assistant(corpus, sharded, embedder=embedder, log=lambda _: None)
    assert len(many.index.shards) == min(3, len(many.index.manifest.documents)) and not one.index.shards
    rows = load_gold(gold)
    for row in rows:
        q = row["question"]
        top = [a.retriever.search(q, 10)[0] for a in (one, many)]
        assert [_seen(p) for p in top[0]] == [_seen(p) for p in top[1]], q
        answers = [a.ask(q).to_json(row["id"]) for a in (one, many)]
        for answer in answers:
            answer.pop("timings_ms")
        assert answers[0] == answers[1], q
    return len(rows)


@pytest.mark.heavy  # two real-model builds of squad-dev's articles, 150 questions asked twice
def test_squad_dev_sharded_ranks_and_answers_as_unsharded(squad_dev_pair, embedder):
    plain, sharded = squad_dev_pair
    assert _same_everywhere(SQUAD_DEV / "corpus", plain, sharded, SQUAD_DEV / "gold.jsonl", embedder) == 150


@pytest.mark.heavy  # the report's 171 questions and squad-dev's 150 over seven documents in three shards
def test_report_questions_sharded_rank_and_answer_as_unsharded(mixed_pair, embedder):
    corpus, plain, sharded = mixed_pair
    assert _same_everywhere(corpus, plain, sharded, ROOT / "eval" / "gold.jsonl", embedder) == 171
    assert _same_everywhere(corpus, plain, sharded, SQUAD_DEV / "gold.jsonl", embedder) == 150


@pytest.mark.heavy  # the report's own index, resharded (one document: one shard)
def test_the_report_alone_sharded_answers_as_unsharded(report_index, tmp_path, embedder):
    sharded = _resharded(report_index, tmp_path / "sharded", CORPUS, embedder)
    assert _same_everywhere(CORPUS, report_index, sharded, ROOT / "eval" / "gold.jsonl", embedder) == 171


@pytest.mark.heavy  # uses the squad-dev builds
def test_each_shard_is_a_complete_checksummed_index(squad_dev_pair, tmp_path):
    _, sharded = squad_dev_pair
    build = current_build(sharded)
    manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    assert [s["folder"] for s in manifest["shards"]] == ["shard-0", "shard-1", "shard-2"]
    documents = [d for s in manifest["shards"] for d in s["documents"]]
    assert sorted(documents) == sorted(manifest["documents"])  # every document in exactly one shard
    total = 0
    for entry in manifest["shards"]:
        shard = load_shard(build / entry["folder"])  # verified against its own manifest, loaded alone
        assert {c.source for c in shard.chunks} == set(entry["documents"])
        assert entry["row_offset"] == total
        total += len(shard.searchable)
    assert total == len(load(sharded).searchable)

    copy = tmp_path / "copy"
    shutil.copytree(sharded, copy)
    flip_middle_bit(current_build(copy) / "shard-1" / "sentence_vectors.npy")
    with pytest.raises(IndexCorrupt, match="shard-1/sentence_vectors.npy"):
        load(copy)
    with pytest.raises(IndexCorrupt, match="sentence_vectors.npy"):
        load_shard(current_build(copy) / "shard-1")


@pytest.mark.heavy  # re-ingests of the squad-dev build
def test_a_rebuild_keeps_the_shard_count_until_told_otherwise(squad_dev_pair, tmp_path, embedder):
    _, sharded = squad_dev_pair
    index, corpus = tmp_path / "index", tmp_path / "corpus"
    shutil.copytree(sharded, index)
    shutil.copytree(SQUAD_DEV / "corpus", corpus)
    (corpus / "Normans.txt").unlink()
    changed = ingest(corpus, index, embedder=embedder, **QUIET)  # as `rag ask` does on a changed corpus
    assert changed.built and len(load(index).shards) == 3
    assert not ingest(corpus, index, embedder=embedder, shards=3, **QUIET).built
    back = ingest(corpus, index, embedder=embedder, shards=1, **QUIET)
    assert back.built and "shard count changed (3 -> 1)" in back.reason and not load(index).shards
    assert (current_build(index) / "dense.faiss").is_file()
