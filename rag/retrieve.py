"""Passages for a question: dense (FAISS), BM25 (bm25s), or both fused by reciprocal rank.

Sentence scores come from vectors computed at ingest; only the question is embedded here.
"""

from __future__ import annotations

import bisect
import math
import re
import time
from collections import Counter
from dataclasses import dataclass

import numpy as np

from index.chunking import Chunk
from index.embed import Embedder
from index.lexical import terms
from index.store import Index
from rag.answer import Passage

MODES = ("hybrid", "dense", "bm25")
# Reciprocal-rank fusion of four ranked lists in hybrid mode: BM25, chunk vectors, best-sentence vectors and
# idf-weighted coverage of the question's terms. The lists are short (tens of chunks), so a small k lets a
# list's first places count. A sweep on both suites passed every recall target for k 1-3 with the other
# lists weighted 0.75-1.0 of BM25; this is the middle of that plateau.
RRF_K = 2
FUSION_WEIGHTS = {"bm25": 1.0, "dense": 0.75, "sentence": 0.75, "coverage": 0.75}


@dataclass(frozen=True)
class SentenceHit:
    """A sentence inside a retrieved passage, with its similarity to the question."""

    chunk: Chunk
    start: int
    end: int
    similarity: float
    passage_rank: int
    row: int  # position in Index.sentences; consecutive rows of one source are consecutive sentences

    @property
    def text(self) -> str:
        return self.chunk.sentence_text(self.start, self.end)


class Retriever:
    """Search over one loaded index; the embedder is only asked to embed questions."""

    def __init__(self, index: Index, embedder: Embedder) -> None:
        self.index = index
        self.embedder = embedder
        self.sentence_row = {(index.searchable[row].source, s, e): j for j, (row, s, e) in enumerate(index.sentences)}
        df: Counter[str] = Counter()
        self.chunk_terms = [frozenset(terms(chunk.embed_text())) for chunk in index.searchable]
        for chunk_terms in self.chunk_terms:
            df.update(chunk_terms)
        n = max(len(index.searchable), 1)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self.max_idf = math.log(1 + (n + 0.5) / 0.5)
        self.vocab = index.bm25.vocab_dict
        # Which searchable chunks hold each sentence (overlapping chunks share sentences).
        self.sentence_chunks: list[list[int]] = [[] for _ in index.sentences]
        for row, chunk in enumerate(index.searchable):
            for s, e in chunk.sentences:
                j = self.sentence_row.get((chunk.source, s, e))
                if j is not None:
                    self.sentence_chunks[j].append(row)

    def has_phrase(self, phrase: str) -> bool:
        """Whether the phrase occurs as whole words anywhere in the indexed text (names, numerals, numbers)."""
        if not hasattr(self, "_all_text"):
            self._all_text = "\n".join(c.text for c in self.index.chunks)
        return re.search(rf"(?<![\w\-]){re.escape(phrase)}(?![\w\-])", self._all_text) is not None

    def has_prefix(self, prefix: str) -> bool:
        """Whether any indexed term starts with this prefix (for "Korean" against "Korea")."""
        if not hasattr(self, "_sorted_terms"):
            self._sorted_terms = sorted(self.idf)
        i = bisect.bisect_left(self._sorted_terms, prefix)
        return i < len(self._sorted_terms) and self._sorted_terms[i].startswith(prefix)

    def embed_question(self, question: str) -> np.ndarray:
        return self.embedder.embed([question])[0]

    def search(
        self, question: str, k: int, mode: str = "hybrid", timings: dict[str, float] | None = None
    ) -> tuple[list[Passage], np.ndarray]:
        """Top-k passages and the question vector (reused to score sentences)."""
        if mode not in MODES:
            raise ValueError(f"unknown retrieval mode {mode!r}; choose one of {', '.join(MODES)}")
        timings = timings if timings is not None else {}
        n = len(self.index.searchable)
        depth = min(n, max(50, 4 * k))
        t0 = time.perf_counter()
        qvec = self.embed_question(question)
        t1 = time.perf_counter()
        timings["embed"] = (t1 - t0) * 1000
        dense: dict[int, tuple[int, float]] = {}
        if mode in ("dense", "hybrid"):
            sims, rows = self.index.dense.search(qvec[None, :].astype(np.float32), depth)
            dense = {
                int(r): (rank, float(s)) for rank, (r, s) in enumerate(zip(rows[0], sims[0], strict=True)) if r >= 0
            }
        by_sentence: dict[int, tuple[int, float]] = {}
        if mode == "hybrid" and len(self.index.sentences):
            # A passage is also as good as its best sentence: long chunks dilute their own vector.
            sims = self.index.sentence_vectors @ qvec
            best: dict[int, float] = {}
            for j in np.argsort(-sims, kind="stable")[: depth * 3]:
                for row in self.sentence_chunks[j]:
                    best.setdefault(row, float(sims[j]))
            ordered = sorted(best, key=lambda r: -best[r])[:depth]
            by_sentence = {row: (rank, best[row]) for rank, row in enumerate(ordered)}
        t2 = time.perf_counter()
        timings["dense"] = (t2 - t1) * 1000
        qterms = terms(question)
        lexical: dict[int, tuple[int, float]] = {}
        if mode in ("bm25", "hybrid"):
            ids = [self.vocab[t] for t in qterms if t in self.vocab]
            if ids:
                scores = self.index.bm25.get_scores(ids)
                top = np.argsort(-scores, kind="stable")[:depth]
                lexical = {int(r): (rank, float(scores[r])) for rank, r in enumerate(top) if scores[r] > 0}
        t3 = time.perf_counter()
        timings["bm25"] = (t3 - t2) * 1000
        coverage = self._coverage(qterms, {*dense, *lexical, *by_sentence}) if mode == "hybrid" else {}
        fused: dict[int, float] = {}
        lists = (("dense", dense), ("bm25", lexical), ("sentence", by_sentence), ("coverage", coverage))
        for name, ranked_list in lists:
            weight = FUSION_WEIGHTS[name]
            for row, (rank, _) in ranked_list.items():
                fused[row] = fused.get(row, 0.0) + weight / (RRF_K + rank + 1)
        if mode == "dense":
            fused = {row: s for row, (_, s) in dense.items()}
        elif mode == "bm25":
            fused = {row: s for row, (_, s) in lexical.items()}
        ranked = sorted(fused, key=lambda r: (-fused[r], r))[:k]
        qset = set(qterms)
        passages = []
        for rank, row in enumerate(ranked, start=1):
            chunk = self.index.searchable[row]
            scores = {}
            if row in dense:
                scores["dense"] = dense[row][1]
            if row in lexical:
                scores["bm25"] = lexical[row][1]
            if row in by_sentence:
                scores["best_sentence"] = by_sentence[row][1]
            matched = tuple(sorted(qset & self.chunk_terms[row]))
            passages.append(Passage(chunk, rank, fused[row], scores, matched))
        timings["fusion"] = (time.perf_counter() - t3) * 1000
        return passages, qvec

    def _coverage(self, qterms: list[str], rows: set[int]) -> dict[int, tuple[int, float]]:
        """Candidates ranked by the idf-weighted share of the question's terms they hold.

        BM25 saturates term frequency but still lets one frequent term outweigh two rare ones; this list
        rewards the chunk that holds all of what was asked (a title and an organisation, not just the title).
        """
        qset = set(qterms)
        total = sum(self.idf.get(t, self.max_idf) for t in qset)
        if not total:
            return {}
        share = {row: sum(self.idf.get(t, 0.0) for t in qset & self.chunk_terms[row]) / total for row in rows}
        ordered = sorted((row for row in share if share[row] > 0), key=lambda r: (-share[r], r))
        return {row: (rank, share[row]) for rank, row in enumerate(ordered)}

    def sentences(self, passages: list[Passage], qvec: np.ndarray) -> list[SentenceHit]:
        """Every sentence of the passages once, scored against the question by its ingest-time vector."""
        hits, seen = [], set()
        for passage in passages:
            chunk = passage.chunk
            for s, e in chunk.sentences:
                j = self.sentence_row.get((chunk.source, s, e))
                if j is None or j in seen:
                    continue
                seen.add(j)
                sim = float(self.index.sentence_vectors[j] @ qvec)
                hits.append(SentenceHit(chunk, s, e, sim, passage.rank, j))
        return hits

    def sentence(self, row: int, qvec: np.ndarray | None = None, passage_rank: int = 0) -> SentenceHit | None:
        """The sentence at a row of the sentence table (None past either end)."""
        if not 0 <= row < len(self.index.sentences):
            return None
        chunk_row, s, e = self.index.sentences[row]
        sim = float(self.index.sentence_vectors[row] @ qvec) if qvec is not None else 0.0
        return SentenceHit(self.index.searchable[chunk_row], s, e, sim, passage_rank, row)
