"""A build split by document into N complete sub-indexes that, searched together, rank exactly as one index.

Each `shard-<i>/` folder of a build holds index.store's per-chunk files for a contiguous run of documents and
its own manifest with checksums, so a worker can load one shard alone (`load_shard`). Chunking and the BM25
weights are the whole corpus's (idf and average length over all shards), cut by document, so a shard's BM25
score of a chunk is the unsharded score. Summaries and the query encoder stay at the build's top level.
Read together (`read`), the shards look like one `Index`: rows are numbered across shards in document order,
which is the unsharded order, so ties break the same way too.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.storage.store import RowTable
from index.text.chunking import Chunk

SHARD_DIR = "shard-{}"
BM25_FILES = ("data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy")


def split(sources: Sequence[str], searchable: Sequence[bool], n: int) -> list[tuple[int, int]]:
    """Cut chunk lines into min(n, documents) contiguous runs, only between documents, of similar searchable size.

    Example: sources=["a", "a", "b", "c", "c", "c"], all searchable, n=2 -> [(0, 3), (3, 6)]
    """
    starts = [i for i in range(len(sources)) if i == 0 or sources[i] != sources[i - 1]]  # each document's first line
    before = np.concatenate([[0], np.cumsum(np.asarray(searchable, dtype=np.int64))])  # searchable lines before a line
    n = max(1, min(n, len(starts)))
    total, cuts, j = int(before[-1]), [0], 0
    for k in range(1, n):
        # the document start nearest this run's share, leaving at least one document for each run still to come
        lo, hi = j + 1, len(starts) - (n - k)
        j = min(range(lo, hi + 1), key=lambda d: (abs(int(before[starts[d]]) - total * k / n), d))
        cuts.append(starts[j])
    cuts.append(len(sources))
    return [(a, b) for a, b in zip(cuts, cuts[1:], strict=False)]


def cut_postings(folder: Path, out: Path, lo: int, hi: int) -> None:
    """Write bm25s's saved index restricted to chunk rows lo..hi-1 (renumbered from 0), weights untouched.

    The vocabulary stays whole, so term ids and document frequencies (summed over shards) are the corpus's.
    """
    out.mkdir(parents=True)
    data = np.load(folder / BM25_FILES[0], allow_pickle=False)
    indices = np.load(folder / BM25_FILES[1], allow_pickle=False)
    indptr = np.load(folder / BM25_FILES[2], allow_pickle=False)
    term = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    keep = (indices >= lo) & (indices < hi)
    counts = np.bincount(term[keep], minlength=len(indptr) - 1)
    new_ptr = np.zeros(len(indptr), dtype=indptr.dtype)
    np.cumsum(counts, out=new_ptr[1:])
    np.save(out / BM25_FILES[0], data[keep])
    np.save(out / BM25_FILES[1], (indices[keep] - lo).astype(indices.dtype))
    np.save(out / BM25_FILES[2], new_ptr)
    shutil.copyfile(folder / "vocab.index.json", out / "vocab.index.json")
    params = json.loads((folder / "params.index.json").read_text(encoding="utf-8"))
    params["num_docs"] = hi - lo
    (out / "params.index.json").write_text(json.dumps(params, indent=4), encoding="utf-8")


class Concat(RowTable):
    """Several chunk tables read as one, in shard order."""

    def __init__(self, parts: Sequence[Sequence[Chunk]]) -> None:
        self.parts = list(parts)
        self.starts = np.cumsum([0] + [len(p) for p in self.parts])

    def __len__(self) -> int:
        return int(self.starts[-1])

    def _row(self, i: int) -> Chunk:
        part = int(np.searchsorted(self.starts, i, side="right")) - 1
        return self.parts[part][i - int(self.starts[part])]

    def __iter__(self) -> Iterator[Chunk]:
        for part in self.parts:
            yield from part


class StackedRows:
    """The shards' sentence vectors as one read-only table: rows are gathered from their shard.

    A product with the whole table (the retriever scans every sentence only below 20,000 of them) multiplies one
    in-memory copy, the same array the unsharded index holds, so the scores are bit-identical to its own.
    """

    def __init__(self, parts: Sequence[np.ndarray]) -> None:
        self.parts = list(parts)
        self.starts = np.cumsum([0] + [len(p) for p in self.parts])
        self.shape = (int(self.starts[-1]), int(self.parts[0].shape[1]))
        self.dtype = self.parts[0].dtype
        self._whole: np.ndarray | None = None

    def __len__(self) -> int:
        return self.shape[0]

    def __iter__(self) -> Iterator[np.ndarray]:
        for part in self.parts:
            yield from part

    def whole(self) -> np.ndarray:
        if self._whole is None:
            self._whole = np.concatenate(self.parts) if self.shape[0] else np.zeros(self.shape, self.dtype)
        return self._whole

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return self.whole() if dtype is None else self.whole().astype(dtype)

    def __matmul__(self, other) -> np.ndarray:
        return self.whole() @ other

    def __getitem__(self, key) -> np.ndarray:
        if isinstance(key, (int, np.integer)):
            i = int(key) + (self.shape[0] if key < 0 else 0)
            part = int(np.searchsorted(self.starts, i, side="right")) - 1
            return self.parts[part][i - int(self.starts[part])]
        rows = np.arange(self.shape[0])[key] if isinstance(key, slice) else np.asarray(key, dtype=np.int64)
        out = np.empty((len(rows), self.shape[1]), dtype=self.dtype)
        part = np.searchsorted(self.starts, rows, side="right") - 1
        for p in np.unique(part).tolist():
            at = part == p
            out[at] = self.parts[p][rows[at] - self.starts[p]]
        return out


class ShardedDense:
    """Every shard's FAISS index searched and the hits merged: the top k over all shards, best first."""

    def __init__(self, parts: Sequence[Any], offsets: Sequence[int]) -> None:
        self.parts, self.offsets = list(parts), [int(o) for o in offsets]
        self.d = int(self.parts[0].d)
        self.ntotal = sum(int(p.ntotal) for p in self.parts)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        return self.search_in(query, k, None)

    def search_in(self, query: np.ndarray, k: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Like faiss's search for one query; with `allowed`, only over the rows it marks True."""
        hits = []
        for part, offset in zip(self.parts, self.offsets, strict=True):
            mask = None if allowed is None else allowed[offset : offset + part.ntotal]
            hits += [(s, r + offset) for s, r in shard_search(part, query, k, mask)]
        return merge_hits(hits, k)

    def reconstruct_n(self, start: int, n: int) -> np.ndarray:
        whole = np.concatenate([p.reconstruct_n(0, p.ntotal) for p in self.parts])
        return whole[start : start + n]


def shard_search(part: Any, query: np.ndarray, k: int, allowed: np.ndarray | None) -> list[tuple[float, int]]:
    """One shard's top k as (similarity, row in the shard), only over `allowed`'s True rows when given.

    The one search every shard runs, in this process (ShardedDense) or in a Ray actor (index.shard_actors).
    """
    import faiss

    depth = min(k, int(part.ntotal))
    if depth <= 0:
        return []
    params = None
    if allowed is not None:
        ids = np.flatnonzero(allowed).astype(np.int64)
        if not len(ids):
            return []
        selector = faiss.IDSelectorBatch(ids)
        if hasattr(part, "hnsw"):
            params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(part.hnsw.efSearch, depth))
        else:
            params = faiss.SearchParameters(sel=selector)
    sims, rows = part.search(query, depth, params=params) if params else part.search(query, depth)
    return [(float(s), int(r)) for s, r in zip(sims[0], rows[0], strict=True) if r >= 0]


def merge_hits(hits: list[tuple[float, int]], k: int) -> tuple[np.ndarray, np.ndarray]:
    """(similarity, row) pairs from several shards as FAISS's (1, k) arrays: best first, ties by row, -1 padding.

    Example: merge_hits([(0.5, 7), (0.9, 2), (0.5, 3)], 4) -> ([[0.9, 0.5, 0.5, -inf]], [[2, 3, 7, -1]])
    """
    best = sorted(hits, key=lambda h: (-h[0], h[1]))[:k]
    sims = np.full((1, k), -np.inf, dtype=np.float32)
    rows = np.full((1, k), -1, dtype=np.int64)
    for i, (s, r) in enumerate(best):
        sims[0, i], rows[0, i] = s, r
    return sims, rows


class ShardedPostings:
    """Every shard's BM25 postings read as the corpus's: scores and postings concatenated in row order."""

    def __init__(self, parts: Sequence[Any], offsets: Sequence[int]) -> None:
        self.parts, self.offsets = list(parts), [int(o) for o in offsets]
        self.vocab_dict = self.parts[0].vocab_dict
        self.dtype = self.parts[0].dtype
        self.num_docs = sum(p.num_docs for p in self.parts)

    def get_scores(self, token_ids: list[int]) -> np.ndarray:
        return np.concatenate([p.get_scores(token_ids) for p in self.parts])

    def doc_freqs(self) -> np.ndarray:
        return np.sum([p.doc_freqs() for p in self.parts], axis=0)

    def postings(self, term: int) -> np.ndarray:
        return np.concatenate([p.postings(term) + o for p, o in zip(self.parts, self.offsets, strict=True)])


def load_shard(folder: Path, check: bool = True):
    """One shard as an index.storage.store.Index of its own (rows from 0), verified against its own manifest."""
    from index.errors import IndexCorrupt
    from index.storage.store import _read_files, verify

    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"index is corrupt ({folder / 'manifest.json'}: {exc})") from None
    if check:
        verify(folder, manifest)
    return _read_files(folder, manifest)


def read(build: Path, manifest: dict[str, Any]):
    """Every shard of a verified build read as one Index; `Index.shards` keeps the shards themselves."""
    from index.errors import IndexCorrupt
    from index.storage import summaries
    from index.storage.store import Index, Manifest

    entries = manifest["shards"]
    parts = [load_shard(build / e["folder"], check=False) for e in entries]  # the build's checksums cover them
    rows = [int(e["row_offset"]) for e in entries]
    sentence_at = [int(e["sentence_offset"]) for e in entries]
    if rows != list(np.cumsum([0] + [len(p.searchable) for p in parts])[:-1]) or sentence_at != list(
        np.cumsum([0] + [len(p.sentences) for p in parts])[:-1]
    ):
        raise IndexCorrupt(f"index is corrupt ({build}: shard offsets do not match their chunks)")
    sentences = np.concatenate([p.sentences + np.array([r, 0, 0]) for p, r in zip(parts, rows, strict=True)])
    ptr = [parts[0].chunk_sentence_ptr]
    for p in parts[1:]:
        ptr.append(p.chunk_sentence_ptr[1:] + ptr[-1][-1])
    members = np.concatenate([p.chunk_sentence_rows + s for p, s in zip(parts, sentence_at, strict=True)])
    summary_rows = (
        summaries.load(build / summaries.FILE, len(sentences)) if summaries.FILE in manifest["checksums"] else {}
    )
    return Index(
        build,
        Manifest.from_json(manifest),
        Concat([p.chunks for p in parts]),
        Concat([p.searchable for p in parts]),
        sentences.reshape(-1, 3),
        np.concatenate(ptr),
        members,
        ShardedDense([p.dense for p in parts], rows),
        StackedRows([p.sentence_vectors for p in parts]),
        ShardedPostings([p.bm25 for p in parts], rows),
        summary_rows,
        shards=tuple(parts),
    )
