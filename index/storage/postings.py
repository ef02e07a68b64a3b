"""BM25 at query time: the score matrix bm25s saved, read through numpy memory maps.

bm25s builds and saves the index at ingest. Loading it back through bm25s imports scipy.sparse, about a
quarter of a cold `rag ask` for arithmetic numpy does in one call; this reader takes the same files
(bm25s's own format: CSC score matrix, vocabulary JSON, parameters JSON) and sums the same scores.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

# Methods whose scores are entirely in the saved matrix (BM25L and BM25+ also need a non-occurrence array).
SUPPORTED_METHODS = ("lucene", "robertson", "atire")


class Postings:
    """Per-term posting lists with precomputed BM25 weights: a query's scores are their sums per chunk."""

    def __init__(self, folder: Path) -> None:
        from index.storage.store import load_array as _array

        params = json.loads((folder / "params.index.json").read_text(encoding="utf-8"))
        if params.get("method") not in SUPPORTED_METHODS:
            raise ValueError(f"BM25 method {params.get('method')!r} is not supported at query time")
        self.vocab_dict: dict[str, int] = json.loads((folder / "vocab.index.json").read_text(encoding="utf-8"))
        self.dtype = np.dtype(params.get("dtype", "float32"))
        self.scores = {
            "data": _array(folder / "data.csc.index.npy"),
            "indices": _array(folder / "indices.csc.index.npy"),
            "indptr": _array(folder / "indptr.csc.index.npy"),
            "num_docs": int(params["num_docs"]),
        }
        self.num_docs = self.scores["num_docs"]

    def doc_freqs(self) -> np.ndarray:
        """How many chunks hold each term id (the last id, bm25s's empty token, may have no entry)."""
        return np.diff(np.asarray(self.scores["indptr"]))

    def postings(self, term: int) -> np.ndarray:
        """The rows holding term id `term`, ascending."""
        indptr = self.scores["indptr"]
        return self.scores["indices"][indptr[term] : indptr[term + 1]]

    def get_scores(self, token_ids: list[int]) -> np.ndarray:
        """BM25 score of every chunk for these token ids (repeats count again, as in bm25s)."""
        data, indices, indptr = self.scores["data"], self.scores["indices"], self.scores["indptr"]
        scores = np.zeros(self.scores["num_docs"], dtype=self.dtype)
        for t in token_ids:  # in query order, so float32 sums match bm25s's own
            start, end = int(indptr[t]), int(indptr[t + 1])
            np.add.at(scores, indices[start:end], data[start:end])
        return scores
