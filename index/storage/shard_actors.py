"""Serving on Ray: each shard's dense search and BM25 scoring held by a Ray actor, the rest in the front process.

An actor loads one shard (index.storage.shards.load_shard; an unsharded build is one shard) and answers its FAISS top k
(index.storage.shards.shard_search) and the BM25 scores of its rows, both in one call per question. The front keeps the
loaded Index's cheap parts, which the sentence scan and the composer read: chunks, sentence tables and vectors,
and BM25's vocabulary, document frequencies and postings lists. It swaps in RayDense and RayPostings, which fan a
question out to every actor and merge as index.shards does, so rankings are the in-process ones, bit for bit.
A dead actor is restarted by Ray (max_restarts) and each call is retried once; a shard still down is left out,
and the answer's notice names the documents that could not be searched.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.storage.shards import merge_hits

MAX_RESTARTS = 3  # a shard that keeps dying is reported as down rather than restarted for ever
CALL_SECONDS = 60.0  # a restarted actor reloads its shard before it answers


class _ShardActor:
    """One shard's FAISS index and BM25 postings, loaded once; the build's checksums were verified by the front."""

    def __init__(self, folder: str) -> None:
        import faiss

        from index.storage.shards import load_shard

        faiss.omp_set_num_threads(1)  # one query at a time, as in the front (rag.retrieve)
        shard = load_shard(Path(folder), check=False)
        self.dense, self.bm25 = shard.dense, shard.bm25

    def size(self) -> int:
        return int(self.dense.ntotal)

    def pid(self) -> int:
        """Which process holds the shard: a new one after Ray restarts the actor."""
        import os

        return os.getpid()

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None) -> list[tuple[float, int]]:
        from index.storage.shards import shard_search

        return shard_search(self.dense, query, k, allowed)

    def search_and_score(self, search: tuple | None, token_ids: list[int]) -> tuple[list, tuple]:
        """Both calls in one message: a question's fan-out is one round trip to each actor."""
        return (self.search(*search) if search else []), self.scores(token_ids)

    def scores(self, token_ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """BM25 scores as (rows, scores) of the rows that hold a term: every other row scores 0, so less to send."""
        scores = self.bm25.get_scores(token_ids)
        rows = np.flatnonzero(scores)
        return rows, scores[rows]


class ShardPool:
    """The shard actors with their row offsets and documents; calls fan out to all and are retried once."""

    def __init__(self, ray: Any, actors: Sequence[Any], offsets: Sequence[int], sizes: Sequence[int], documents):
        self.ray, self.actors = ray, list(actors)
        self.offsets, self.sizes = [int(o) for o in offsets], [int(n) for n in sizes]
        self.documents = [tuple(d) for d in documents]  # each shard's documents, named when it cannot be searched
        self._down = threading.local()  # per thread: the shards that did not answer this question
        self.asked = threading.local()  # per thread: BM25 token ids to score with the next dense search, and results

    def call(self, method: str, args: Sequence[tuple | None]) -> list[Any]:
        """Each actor's `method(*args[i])` (skipped where args[i] is None); None for a shard that stays down."""
        from ray.exceptions import ActorUnavailableError, GetTimeoutError, RayActorError

        out: list[Any] = [None] * len(self.actors)
        todo = [i for i, a in enumerate(args) if a is not None]
        for attempt in ("first", "retry"):
            refs = {i: getattr(self.actors[i], method).remote(*args[i]) for i in todo}
            try:  # one wait for all shards, the usual case
                found = self.ray.get(list(refs.values()), timeout=CALL_SECONDS)
                for i, value in zip(refs, found, strict=True):
                    out[i] = value
                todo = []
            except (RayActorError, GetTimeoutError):  # dying, restarting or unreachable: which ones?
                failed = []
                for i, ref in refs.items():
                    try:
                        out[i] = self.ray.get(ref, timeout=CALL_SECONDS)
                    except ActorUnavailableError:  # being restarted by Ray: retried once it answers again
                        failed.append(i)
                        if attempt == "first":
                            self._wait_for(i)
                    except (RayActorError, GetTimeoutError):
                        failed.append(i)
                todo = failed
            if not todo:
                break
        self.down().update(todo)
        return out

    def _wait_for(self, i: int) -> None:
        """Until actor i answers again after a restart (or CALL_SECONDS pass, or it is dead for good)."""
        import time

        from ray.exceptions import ActorUnavailableError, GetTimeoutError, RayActorError

        deadline = time.monotonic() + CALL_SECONDS
        while time.monotonic() < deadline:
            try:
                self.ray.get(self.actors[i].size.remote(), timeout=max(deadline - time.monotonic(), 0.01))
                return
            except (ActorUnavailableError, GetTimeoutError):
                time.sleep(0.05)
            except RayActorError:  # dead for good: the retry will say so
                return

    def down(self) -> set[int]:
        if not hasattr(self._down, "shards"):
            self._down.shards = set()
        return self._down.shards

    def take_notice(self) -> str | None:
        """What the last question could not search, in words (None when every shard answered); then forgets it."""
        shards, self._down.shards = sorted(self.down()), set()
        if not shards:
            return None
        names = sorted(d for i in shards for d in self.documents[i])
        return (
            f"{len(names)} document(s) could not be searched (their search worker is down), so this answer "
            f"may miss what they say: {', '.join(names)}"
        )


class RayDense:
    """ShardedDense's interface (search, search_in) over the shard actors: the top k over all shards, merged."""

    def __init__(self, pool: ShardPool, d: int) -> None:
        self.pool, self.d, self.ntotal = pool, int(d), sum(pool.sizes)
        self.take_notice = pool.take_notice

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        return self.search_in(query, k, None)

    def search_in(self, query: np.ndarray, k: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        args: list[tuple | None] = []
        for offset, n in zip(self.pool.offsets, self.pool.sizes, strict=True):
            mask = None if allowed is None else allowed[offset : offset + n]
            args.append(None if min(k, n) <= 0 or (mask is not None and not mask.any()) else (query, k, mask))
        ids = getattr(self.pool.asked, "terms", None)
        if ids is None:
            found = self.pool.call("search", args)
        else:  # the question's BM25 scoring rides along (RayPostings.prefetch)
            both = self.pool.call("search_and_score", [(a, ids) for a in args])
            self.pool.asked.terms = None
            self.pool.asked.scored = (ids, [None if b is None else b[1] for b in both])
            found = [None if b is None else b[0] for b in both]
        hits = []
        for offset, part in zip(self.pool.offsets, found, strict=True):
            hits += [(s, r + offset) for s, r in part or ()]
        return merge_hits(hits, k)


class RayPostings:
    """The front's BM25 postings (vocabulary, document frequencies, postings lists) with scoring on the actors."""

    def __init__(self, pool: ShardPool, local: Any) -> None:
        self.pool, self.local = pool, local
        self.vocab_dict, self.dtype, self.num_docs = local.vocab_dict, local.dtype, local.num_docs

    def prefetch(self, token_ids: list[int]) -> None:
        """Score these ids with the next dense search (the retriever calls this before it): one round trip."""
        self.pool.asked.terms, self.pool.asked.scored = list(token_ids), None

    def get_scores(self, token_ids: list[int]) -> np.ndarray:
        scored = getattr(self.pool.asked, "scored", None)
        self.pool.asked.terms = self.pool.asked.scored = None
        if scored is not None and scored[0] == list(token_ids):
            found = scored[1]
        else:
            found = self.pool.call("scores", [(list(token_ids),)] * len(self.pool.actors))
        scores = np.zeros(self.num_docs, dtype=self.dtype)  # a shard that stays down scores 0 everywhere
        for part, offset in zip(found, self.pool.offsets, strict=True):
            if part is not None:
                rows, values = part
                scores[rows + offset] = values
        return scores

    def doc_freqs(self) -> np.ndarray:
        return self.local.doc_freqs()

    def postings(self, term: int) -> np.ndarray:
        return self.local.postings(term)


def on_ray(index, address: str | None = None):
    """The loaded Index with its dense search and BM25 scoring held by one Ray actor per shard.

    The front's own FAISS indexes are released: only the actors hold chunk vectors.
    """
    from index.storage.distributed import connect

    ray = connect(address)
    entries = list(index.manifest.shards)
    if entries:
        folders = [index.path / e["folder"] for e in entries]
        offsets = [int(e["row_offset"]) for e in entries]
        documents = [e["documents"] for e in entries]
    else:  # an unsharded build is one shard
        folders, offsets, documents = [index.path], [0], [sorted(index.manifest.documents)]
    sizes = [int(n) for n in np.diff([*offsets, len(index.searchable)])]
    remote = ray.remote(_ShardActor).options(
        num_cpus=0, max_restarts=MAX_RESTARTS, scheduling_strategy="SPREAD"
    )  # searches are short and one at a time; CPUs stay for the front
    actors = [remote.remote(str(f)) for f in folders]
    held = ray.get([a.size.remote() for a in actors])
    if held != sizes:
        from index.errors import IndexCorrupt

        raise IndexCorrupt(f"index is corrupt ({index.path}: shard actors hold {held} rows, expected {sizes})")
    pool = ShardPool(ray, actors, offsets, sizes, documents)
    shards = tuple(dataclasses.replace(s, dense=None) for s in index.shards)
    return dataclasses.replace(
        index, dense=RayDense(pool, index.dense.d), bm25=RayPostings(pool, index.bm25), shards=shards
    )
