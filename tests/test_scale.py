"""What lets the index grow: HNSW above a size threshold, resumable embedding, lookups that read few chunks."""

from __future__ import annotations

import re

import numpy as np
import pytest

from index.encode import resumable
from index.storage import dense
from index.storage.build import ingest
from index.storage.store import current_build, load
from tests.conftest import CORPUS, CountingEmbedder, flip_middle_bit


def _quiet(_: str) -> None:
    pass


@pytest.mark.heavy  # a real-model build of the report
def test_above_the_threshold_the_chunk_index_is_hnsw_recorded_and_answers(tmp_path, embedder, monkeypatch):
    import faiss

    from rag.assistant import Assistant

    monkeypatch.setattr(dense, "FLAT_MAX_CHUNKS", 5)
    ingest(CORPUS, tmp_path / "index", embedder=embedder, progress=False, log=_quiet)
    index = load(tmp_path / "index")
    assert index.manifest.dense_index["kind"] == "hnsw"
    assert isinstance(index.dense, faiss.IndexHNSWFlat) and index.dense.hnsw.efSearch == dense.HNSW_EF_SEARCH
    vectors = index.dense.reconstruct_n(0, index.dense.ntotal)
    queries = embedder.embed(["Who chaired Session IV?", "AI tools in teaching", "K-Digital Training"])
    _, rows = index.dense.search(queries, 5)
    expected = np.argsort(-(queries @ vectors.T), axis=1, kind="stable")[:, :5]
    assert np.array_equal(rows, expected)  # at this size the graph search is exact
    assistant = Assistant(CORPUS, tmp_path / "index", embedder=embedder, log=_quiet)
    assert not assistant.retriever.scan_sentences
    answer = assistant.ask("Who chaired Session II?")
    assert not answer.abstained and any("ARIUNAA" in c.text for c in answer.citations)


class Killed(Exception):
    """Stands in for the process dying part-way through embedding."""


class DiesAfter(CountingEmbedder):
    def __init__(self, inner, texts: int) -> None:
        super().__init__(inner)
        self.limit = texts

    def embed(self, texts):
        if self.calls + len(texts) > self.limit:
            raise Killed
        return super().embed(texts)


@pytest.mark.heavy  # three real-model builds of the report
def test_an_interrupted_ingest_resumes_where_it_stopped(tmp_path, embedder, monkeypatch):
    monkeypatch.setattr(resumable, "BATCH", 8)
    monkeypatch.setattr(resumable, "FLUSH_SECONDS", 0.0)  # every batch is marked done as it completes
    index_dir = tmp_path / "index"
    dying = DiesAfter(embedder, texts=24)
    with pytest.raises(Killed):
        ingest(CORPUS, index_dir, embedder=dying, progress=False, log=_quiet)
    assert current_build(index_dir) is None and dying.calls == 24

    logged: list[str] = []
    counting = CountingEmbedder(embedder)
    report = ingest(CORPUS, index_dir, embedder=counting, progress=False, log=logged.append)
    total = report.chunks - report.duplicates + report.sentences
    assert counting.calls == total - 24
    assert any("24 text(s) were already embedded" in line for line in logged)
    assert not (index_dir / ".embedding").exists()  # the run's files go once the build holds the vectors

    clean = tmp_path / "clean"
    ingest(CORPUS, clean, embedder=embedder, progress=False, log=_quiet)
    resumed, fresh = load(index_dir), load(clean)
    cosines = np.sum(np.asarray(resumed.sentence_vectors) * np.asarray(fresh.sentence_vectors), axis=1)
    assert cosines.min() > 0.999
    chunk_vectors = (i.dense.reconstruct_n(0, i.dense.ntotal) for i in (resumed, fresh))
    assert np.sum(np.multiply(*chunk_vectors), axis=1).min() > 0.999


def test_phrase_lookup_through_postings_agrees_with_reading_every_chunk(assistant):
    retriever = assistant.retriever
    text = "\n".join(c.text for c in retriever.index.searchable)
    words = re.findall(r"[A-Za-z0-9][\w\-]*", text)
    rng = np.random.default_rng(7)
    phrases = ["TUNGALAG Chimid", "K-Digital Training", "1-3-4", "MEXT", "Session II", "Session IX", "Atlantis"]
    for i in rng.integers(0, len(words) - 2, 60):
        phrases += [f"{words[i]} {words[i + 1]}", f"{words[i + 1]} {words[i]}", words[i], f"{words[i]} {words[i + 2]}"]
    for phrase in phrases:
        expected = re.search(rf"(?<![\w\-]){re.escape(phrase)}(?![\w\-])", text) is not None
        assert retriever.has_phrase(phrase) == expected, phrase


def test_partial_top_k_equals_a_full_sort():
    from rag.retrieve import _top

    rng = np.random.default_rng(3)
    for n, depth in ((10, 50), (1000, 50), (5000, 7)):
        scores = rng.random(n) * (rng.random(n) > 0.5)
        ranked = np.argsort(-scores, kind="stable")[:depth]
        nonzero = scores[ranked] > 0
        assert np.array_equal(_top(scores, depth)[nonzero], ranked[nonzero])


def test_bm25_read_without_bm25s_scores_exactly_as_bm25s(report_index):
    import bm25s

    from index.storage.postings import Postings

    folder = current_build(report_index) / "bm25"
    theirs = bm25s.BM25.load(str(folder), load_corpus=False, allow_pickle=False)
    ours = Postings(folder)
    assert ours.vocab_dict == theirs.vocab_dict
    rng = np.random.default_rng(0)
    for _ in range(200):
        ids = [int(i) for i in rng.integers(0, len(ours.scores["indptr"]) - 1, rng.integers(1, 8))]
        assert np.array_equal(ours.get_scores(ids), theirs.get_scores(ids)), ids


class CountingHash:
    def __init__(self, monkeypatch) -> None:
        from index.storage import stamps

        self.read: list[str] = []
        real = stamps.file_sha256
        monkeypatch.setattr(stamps, "file_sha256", lambda path: self.read.append(path.name) or real(path))


def test_unchanged_corpus_files_are_not_read_again_and_a_changed_one_is(tmp_path, monkeypatch):
    from index.storage.build import corpus_state

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("a.txt", "b.txt"):
        (corpus / name).write_text(f"Text of {name}.\n", encoding="utf-8")
    counting, cache = CountingHash(monkeypatch), tmp_path / "hashes.json"
    first = corpus_state(corpus, cache)
    assert sorted(counting.read) == ["a.txt", "b.txt"]
    counting.read.clear()
    assert corpus_state(corpus, cache) == first and counting.read == []
    (corpus / "b.txt").write_text("Text of b.tx!\n", encoding="utf-8")  # same size, new content
    second = corpus_state(corpus, cache)
    assert counting.read == ["b.txt"] and second["b.txt"] != first["b.txt"] and second["a.txt"] == first["a.txt"]


def test_a_large_build_is_hashed_once_and_a_later_flipped_byte_is_still_caught(report_index, tmp_path, monkeypatch):
    import shutil

    from index.errors import IndexCorrupt
    from index.storage import store

    index_dir = tmp_path / "index"
    shutil.copytree(report_index, index_dir)
    monkeypatch.setattr(store, "FULL_CHECK_BYTES", 0)  # treat the report's build as a large one
    counting = CountingHash(monkeypatch)
    load(index_dir)
    assert "dense.faiss" in counting.read and "sentence_vectors.npy" in counting.read
    counting.read.clear()
    load(index_dir)
    assert counting.read == []
    flip_middle_bit(current_build(index_dir) / "sentence_vectors.npy")
    with pytest.raises(IndexCorrupt, match="sentence_vectors.npy"):
        load(index_dir)


def test_the_full_sentence_scan_is_for_small_corpora_only(assistant, monkeypatch):
    from rag import retrieve

    index, embedder = assistant.index, assistant.retriever.embedder
    assert retrieve.Retriever(index, embedder).scan_sentences  # the report: 38 sentences
    monkeypatch.setattr(retrieve, "SENTENCE_SCAN_MAX", len(index.sentences) - 1)
    retriever = retrieve.Retriever(index, embedder)
    assert not retriever.scan_sentences
    passages, _ = retriever.search("Who chaired Session II?", 5)
    assert passages and all("best_sentence" not in p.scores for p in passages)
