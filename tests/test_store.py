"""The index on disk: reloads to identical results, knows when it is stale, refuses corrupt files."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest

from index.errors import IndexCorrupt
from index.storage.build import IndexSettings, ingest, stale_reason
from index.storage.store import current_build, load
from index.text.chunking import ChunkerSettings
from tests.conftest import CORPUS, flip_middle_bit


@pytest.fixture
def index_copy(report_index, tmp_path):
    target = tmp_path / "index"
    shutil.copytree(report_index, target)
    return target


def test_save_then_load_gives_identical_search_results(report_index, embedder):
    first, second = load(report_index), load(report_index)
    queries = embedder.embed(["Who chaired Session II?", "K-Digital Training", "closing remarks"])
    for a, b in ((first.dense, second.dense),):
        assert np.array_equal(a.search(queries, 5)[1], b.search(queries, 5)[1])
    assert [c.id for c in first.chunks] == [c.id for c in second.chunks]
    assert np.array_equal(first.sentence_vectors, second.sentence_vectors)


def test_faiss_top_k_equals_brute_force(report_index, embedder):
    index = load(report_index)
    vectors = index.dense.reconstruct_n(0, index.dense.ntotal)
    queries = embedder.embed(["Who chaired Session IV?", "AI tools in teaching", "What is AI transformation?"])
    _, rows = index.dense.search(queries, 5)
    expected = np.argsort(-(queries @ vectors.T), axis=1, kind="stable")[:, :5]
    assert np.array_equal(rows, expected)


def test_index_is_fresh_after_build_and_stale_after_a_change(index_copy, tmp_path):
    assert stale_reason(CORPUS, index_copy, IndexSettings()) is None
    other_model = IndexSettings(model="some/other-model")
    assert "embedding model changed" in stale_reason(CORPUS, index_copy, other_model)
    other_chunker = IndexSettings(chunker=ChunkerSettings(max_tokens=99))
    assert "chunker settings changed" in stale_reason(CORPUS, index_copy, other_chunker)
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / "new.txt").write_text("A new document.\n", encoding="utf-8")
    assert "1 added" in stale_reason(corpus, index_copy, IndexSettings())


def test_a_flipped_byte_is_detected_before_faiss_reads_it(index_copy):
    flip_middle_bit(current_build(index_copy) / "dense.faiss")
    with pytest.raises(IndexCorrupt, match="dense.faiss"):
        load(index_copy)


@pytest.mark.heavy  # a forced real-model rebuild of the report
def test_a_failed_build_leaves_the_previous_one_live(index_copy, embedder, monkeypatch):
    before = current_build(index_copy)
    import faiss

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(faiss, "write_index", broken)
    with pytest.raises(OSError):
        ingest(CORPUS, index_copy, embedder=embedder, force=True, progress=False, log=lambda _: None)
    assert current_build(index_copy) == before
    assert not [p for p in index_copy.iterdir() if p.name.startswith(".tmp-")]
    assert len(load(index_copy).searchable) > 0


def test_manifest_records_model_chunker_and_file_hashes(report_index):
    manifest = json.loads((current_build(report_index) / "manifest.json").read_text())
    assert manifest["model"] == IndexSettings().model and manifest["dim"] == 384
    assert manifest["chunker"] == dataclasses.asdict(ChunkerSettings())
    assert manifest["tokenizer"] == "tiktoken:cl100k_base"
    assert set(manifest["files"]) == {"2025-high-level-policy-dialogue-east-asia.txt"}
    assert set(manifest["checksums"]) >= {"chunks.jsonl", "dense.faiss", "sentence_vectors.npy"}
    assert not list(current_build(report_index).rglob("*.pkl"))
