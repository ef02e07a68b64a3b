"""Which FAISS index holds the chunk vectors: exact search for small corpora, HNSW above a size threshold.

Chosen with `python -m eval.ann` on real MiniLM vectors of real text (100k docstring sentences, 1,000
held-out queries): a flat scan costs 1.0 ms at 10k vectors, 2.4 ms at 25k and 11.6 ms at 100k (linear,
so ~120 ms at 1M); HNSW (M=32, efConstruction=80) at efSearch=128 answers in 0.25-0.5 ms with recall@10
against exact search of 0.998 at 10k, 0.997 at 25k, 0.995 at 50k and 0.993 at 100k. Flat is kept while
it stays near 2 ms. Measured again up to 692k real sentences (docstrings, comments, man pages, docs):
recall@10 at efSearch=128 is 0.988 at 250k, 0.982 at 500k and 0.982 at 692k, about 1 ms a query.
"""

from __future__ import annotations

from typing import Any

import numpy as np

FLAT_MAX_CHUNKS = 20_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128


def plan(n: int) -> dict[str, Any]:
    """The index spec for n chunk vectors, as recorded in the manifest."""
    if n <= FLAT_MAX_CHUNKS:
        return {"kind": "flat"}
    return {"kind": "hnsw", "m": HNSW_M, "ef_construction": HNSW_EF_CONSTRUCTION, "ef_search": HNSW_EF_SEARCH}


def build(vectors: np.ndarray, spec: dict[str, Any], dim: int) -> Any:
    """A FAISS inner-product index over unit vectors (inner product = cosine), filled in batches."""
    import os

    import faiss

    faiss.omp_set_num_threads(os.cpu_count() or 1)  # building uses every core (queries use one)
    if spec["kind"] == "flat":
        index = faiss.IndexFlatIP(dim)
    elif spec["kind"] == "hnsw":
        index = faiss.IndexHNSWFlat(dim, int(spec["m"]), faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = int(spec["ef_construction"])
    else:
        raise ValueError(f"unknown dense index kind {spec['kind']!r}")
    for start in range(0, len(vectors), 65536):  # a memory-mapped array is read a slice at a time
        index.add(np.ascontiguousarray(vectors[start : start + 65536], dtype=np.float32))
    configure(index, spec)
    return index


def configure(index: Any, spec: dict[str, Any]) -> None:
    """Search-time parameters, which FAISS does not take from the file the way the manifest records them."""
    if spec.get("kind") == "hnsw":
        index.hnsw.efSearch = int(spec["ef_search"])


def search(index: Any, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k (similarities, rows) for one unit query vector; rows of -1 are padding."""
    sims, rows = index.search(np.ascontiguousarray(query[None, :], dtype=np.float32), k)
    return sims[0], rows[0]
