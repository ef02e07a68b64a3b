"""Embedding that survives a kill: vectors land in a memory-mapped file batch by batch; a rerun continues.

A million chunks take hours on 2 cores, so an interrupted ingest must not start over. The work folder is
keyed by the model and the exact texts, so a rerun over the same corpus resumes and any other run starts
clean. Rows are marked done only after their vectors are flushed, so a kill never leaves a row half-written
that is then trusted.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

BATCH = 64
FLUSH_SECONDS = 2.0  # a kill loses at most this much embedding work; syncing every batch would cost more


def run_key(model_id: str, dim: int, texts: Sequence[str]) -> str:
    """Which embedding run this is: the same model and texts in the same order give the same key."""
    digest = hashlib.sha256(f"{model_id}\x00{dim}\x00{len(texts)}".encode())
    for text in texts:
        digest.update(text.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return digest.hexdigest()[:20]


def embed_resumable(
    embedder,
    texts: Sequence[str],
    work_root: Path,
    progress: bool = True,
    cache: dict[str, np.ndarray] | None = None,
    runner=None,
) -> tuple[np.ndarray, int, int]:
    """Vectors for texts (a read-only memory map, rows in input order), how many were embedded now, and how
    many were already done by an interrupted earlier run. `cache` (text -> vector) fills rows without embedding.
    runner(embedder, texts, batches) yields (rows, vectors) per batch in any order (index.distributed runs them
    on Ray); by default they are embedded here, one after another."""
    from tqdm import tqdm

    if not texts:
        return np.zeros((0, embedder.dim), dtype=np.float32), 0, 0
    key = run_key(embedder.model_id, embedder.dim, texts)
    work = work_root / f"embed-{key}"
    if work_root.is_dir():
        for stale in work_root.glob("embed-*"):  # another corpus or model: its vectors will never be asked for
            if stale != work:
                shutil.rmtree(stale, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    vectors, done = _open(work, len(texts), embedder.dim)
    resumed = int(done.sum())
    cache = cache or {}
    for i, text in enumerate(texts):
        if not done[i] and text in cache:
            vectors[i] = cache[text]
            done[i] = 1
    _flush(vectors, done)
    order = sorted((i for i in range(len(texts)) if not done[i]), key=lambda i: len(texts[i]))
    pending: list[int] = []
    flushed = time.monotonic()
    batches = [order[start : start + BATCH] for start in range(0, len(order), BATCH)]  # length-sorted: little padding
    with tqdm(total=len(order), desc="embedding", unit="text", disable=not progress, file=sys.stderr) as bar:
        for left, (rows, found) in enumerate((runner or _here)(embedder, texts, batches), start=1):
            vectors[rows] = found
            pending.extend(rows)
            bar.update(len(rows))
            if time.monotonic() - flushed >= FLUSH_SECONDS or left == len(batches):
                vectors.flush()  # vectors on disk first, then the marks that trust them
                done[pending] = 1
                done.flush()
                pending, flushed = [], time.monotonic()
    del vectors, done
    return np.load(work / "vectors.npy", mmap_mode="r"), len(order), resumed


def _here(embedder, texts: Sequence[str], batches: list[list[int]]):
    """Each batch embedded in this process, in order."""
    for rows in batches:
        yield rows, embedder.embed([texts[r] for r in rows])


def _open(work: Path, n: int, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """The run's vector and done-mark files, created when missing or of another shape."""
    from numpy.lib.format import open_memmap

    from index.storage.store import reserve_space

    paths = work / "vectors.npy", work / "done.npy"
    try:
        vectors = open_memmap(paths[0], mode="r+")
        done = open_memmap(paths[1], mode="r+")
        fits = vectors.shape == (n, dim) and vectors.dtype == np.float32 and done.shape == (n,)
    except (OSError, ValueError):
        fits = False
    if fits:
        for path in paths:  # an interrupted run's files may still be sparse; a full disk must not lose them
            reserve_space(path)
        return vectors, done
    vectors = open_memmap(paths[0], mode="w+", dtype=np.float32, shape=(n, dim))
    done = open_memmap(paths[1], mode="w+", dtype=np.uint8, shape=(n,))
    for path in paths:  # a full disk fails here, as an OSError, not as a SIGBUS mid-embedding
        reserve_space(path)
    return vectors, done


def _flush(*arrays: np.ndarray) -> None:
    for array in arrays:
        if isinstance(array, np.memmap):
            array.flush()


def finish(work_root: Path) -> None:
    """Drop the run's files once a build holds its vectors."""
    shutil.rmtree(work_root, ignore_errors=True)
