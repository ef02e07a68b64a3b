"""Passages for a question: dense (FAISS), BM25 (bm25s), or both fused by reciprocal rank.

Sentence scores come from vectors computed at ingest; only the question is embedded here.
"""

from __future__ import annotations

import bisect
import functools
import math
import re
import threading
import time
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from index.encode.embed import Embedder
from index.storage.store import Index
from index.text.chunking import Chunk
from index.text.lexical import terms
from rag.answer import Passage
from rag.errors import BadInput

Mode = Literal["hybrid", "dense", "bm25"]
MODES: tuple[Mode, ...] = get_args(Mode)


def check_mode(mode: str) -> Mode:
    """The retrieval mode, or BadInput naming the choices: the one place a mode string is checked."""
    if mode not in MODES:
        raise BadInput(f"unknown retrieval mode {mode!r}; choose one of {', '.join(MODES)}")
    return mode  # type: ignore[return-value]


SENTENCE_SCAN_MAX = 20_000  # sentences scanned in full for hybrid's best-sentence list (the report has 38)
PHRASE_SCAN_LIMIT = 2000  # chunks read to confirm a phrase whose words are all present
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


ONE_THREAD_FROM = 2048  # rows: below this a product is scored without touching BLAS's thread count
_ONE_THREAD = threading.Lock()  # one BLAS thread limit at a time: each restores the count it found


@functools.cache
def _blas():
    """numpy's BLAS, whose thread count `similarities` lowers."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController().select(user_api="blas")


def similarities(vectors: np.ndarray, qvec: np.ndarray) -> np.ndarray:
    """vectors @ qvec on one BLAS thread: OpenBLAS splits a large product over both cores, and its second thread
    waits for a core the encoder, the composer or another process holds (7216 covid-dev sentences: 0.15 ms on one
    thread, 0.3-8 ms on two on a busy machine). The scores are the same bit for bit (checked on covid-dev's and the
    report's questions): each row's dot product is one thread's work either way."""
    if len(vectors) < ONE_THREAD_FROM:  # switching the thread count costs more than a small product (0.2 ms an ask)
        return vectors @ qvec
    with _ONE_THREAD, _blas().limit(limits=1):
        return vectors @ qvec


class Retriever:
    """Search over one loaded index; the embedder is only asked to embed questions."""

    def __init__(self, index: Index, embedder: Embedder) -> None:
        import faiss

        # One question at a time: FAISS's OpenMP threads gain little on one query and spin against the
        # ONNX encoder's threads (warm ask at 10k chunks: 21 -> 15 ms). index.storage.dense.build takes them back.
        faiss.omp_set_num_threads(1)
        self.index = index
        self.embedder = embedder
        self.vocab = index.bm25.vocab_dict
        # Document frequencies from BM25's postings (one per chunk holding the term): nothing is re-read at start.
        df = self.doc_freqs = index.bm25.doc_freqs()
        n = max(len(index.searchable), 1)
        self.idf = {  # bm25s adds an empty token past the last posting list; it holds no chunk
            t: math.log(1 + (n - int(df[i]) + 0.5) / (int(df[i]) + 0.5)) for t, i in self.vocab.items() if i < len(df)
        }
        self.max_idf = math.log(1 + (n + 0.5) / 0.5)
        # Every sentence is scanned only in small corpora: at 40k sentences the scan reads 60 MB a question and
        # evicts the query encoder from cache (warm ask at 10k chunks: 13 ms without it, 17-54 ms with it).
        flat = index.manifest.dense_index.get("kind", "flat") == "flat"
        self.scan_sentences = flat and len(index.sentences) <= SENTENCE_SCAN_MAX
        self._scopes: dict[frozenset[str], np.ndarray] = {}  # allowed_rows per search scope
        self._around: dict[tuple[int, int], tuple[list[SentenceHit], SentenceHit | None]] = {}

    @functools.cached_property
    def sentence_chunks(self) -> tuple[np.ndarray, np.ndarray]:
        """Which searchable chunks hold each sentence (overlapping chunks share sentences), as CSR arrays."""
        ptr, rows = self.index.chunk_sentence_ptr, np.asarray(self.index.chunk_sentence_rows)
        owner = np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))
        order = np.argsort(rows, kind="stable")
        return np.searchsorted(rows[order], np.arange(len(self.index.sentences) + 1)), owner[order]

    @functools.cached_property
    def sentence_row(self) -> dict[tuple[str, int, int], int]:
        """(source, start, end) -> sentence row, for passages made outside search (built on first use)."""
        index = self.index
        return {(index.searchable[row].source, s, e): j for j, (row, s, e) in enumerate(index.sentences.tolist())}

    def passage_sentences(self, passage: Passage) -> list[tuple[int, int, int]]:
        """(sentence row, start, end) of each sentence of a passage, in document order."""
        if passage.row >= 0:
            return [(int(j), *self.index.sentence(j)[1:]) for j in self.index.sentence_rows(passage.row)]
        found = ((self.sentence_row.get((passage.chunk.source, s, e)), s, e) for s, e in passage.chunk.sentences)
        return [(j, s, e) for j, s, e in found if j is not None]

    def has_phrase(self, phrase: str) -> bool:
        """Whether the phrase occurs as whole words anywhere in the indexed text (names, numerals, numbers)."""
        pattern = re.compile(rf"(?<![\w\-]){re.escape(phrase)}(?![\w\-])")
        candidates = self._rows_with_all_terms(phrase)
        if candidates is None:  # no indexable word in the phrase: read every chunk
            return any(pattern.search(c.text) for c in self.index.chunks)
        chunks = self.index.searchable
        return any(pattern.search(chunks[int(row)].text) for row in candidates[:PHRASE_SCAN_LIMIT]) or (
            len(candidates) > PHRASE_SCAN_LIMIT  # every word is common and present: say yes without reading more
        )

    def _rows_with_all_terms(self, phrase: str) -> np.ndarray | None:
        """Searchable rows whose BM25 postings hold every term of the phrase (None when it has no terms)."""
        ids = [self.vocab.get(t) for t in set(terms(phrase))]
        if not ids:
            return None
        if None in ids:
            return np.zeros(0, dtype=np.int64)
        postings = self.index.bm25.postings
        ids.sort(key=lambda i: self.doc_freqs[i])  # rarest first: the intersection stays small
        rows = np.asarray(postings(ids[0]))
        for i in ids[1:]:
            rows = np.intersect1d(rows, postings(i), assume_unique=True)
        return rows

    def has_prefix(self, prefix: str) -> bool:
        """Whether any indexed term starts with this prefix (for "Korean" against "Korea")."""
        if not hasattr(self, "_sorted_terms"):
            self._sorted_terms = sorted(self.idf)
        i = bisect.bisect_left(self._sorted_terms, prefix)
        return i < len(self._sorted_terms) and self._sorted_terms[i].startswith(prefix)

    def embed_question(self, question: str) -> np.ndarray:
        return self.embedder.embed([question])[0]

    @functools.cached_property
    def document_rows(self) -> dict[str, np.ndarray]:
        """Each document's searchable rows, ascending (built once on first use, one pass over the chunks)."""
        rows: dict[str, list[int]] = {}
        for row, chunk in enumerate(self.index.searchable):
            rows.setdefault(chunk.source, []).append(row)
        return {source: np.asarray(found, dtype=np.int64) for source, found in rows.items()}

    def allowed_rows(self, sources: frozenset[str]) -> np.ndarray:
        """A mask over searchable rows: True where the chunk comes from one of `sources` (cached per scope)."""
        cache = self._scopes
        if sources not in cache:
            if len(cache) > 32:  # a few scopes are in use at a time; a million-row mask is 1 MB
                cache.clear()
            cache[sources] = np.fromiter((c.source in sources for c in self.index.searchable), dtype=bool)
        return cache[sources]

    def search(
        self,
        question: str,
        k: int,
        mode: str = "hybrid",
        timings: dict[str, float] | None = None,
        sources: frozenset[str] | None = None,
    ) -> tuple[list[Passage], np.ndarray]:
        """Top-k passages and the question vector (reused to score sentences).

        `sources` limits every list to chunks of those documents (None: all of them).
        """
        mode = check_mode(mode)
        timings = timings if timings is not None else {}
        allowed = None if sources is None else self.allowed_rows(frozenset(sources))
        n = len(self.index.searchable) if allowed is None else int(allowed.sum())
        depth = min(n, max(50, 4 * k))
        t0 = time.perf_counter()
        qvec = self.embed_question(question)
        t1 = time.perf_counter()
        timings["embed"] = (t1 - t0) * 1000
        prefetch = getattr(self.index.bm25, "prefetch", None)  # shards on Ray actors (index.shard_actors)
        if prefetch and mode in ("bm25", "hybrid"):  # the term ids go with the dense search: one call per shard
            ids = [self.vocab[t] for t in terms(question) if t in self.vocab]
            if ids:
                prefetch(ids)
        dense: dict[int, tuple[int, float]] = {}
        if mode in ("dense", "hybrid"):
            sims, rows = self._dense_search(qvec, depth, allowed)
            dense = {
                int(r): (rank, float(s)) for rank, (r, s) in enumerate(zip(rows[0], sims[0], strict=True)) if r >= 0
            }
        by_sentence: dict[int, tuple[int, float]] = {}
        if mode == "hybrid" and len(self.index.sentences) and self.scan_sentences:
            # A passage is also as good as its best sentence: long chunks dilute their own vector.
            sims = similarities(self.index.sentence_vectors, qvec)
            if allowed is not None:  # a sentence of another document can never stand for a passage
                sims = np.where(allowed[np.asarray(self.index.sentences)[:, 0]], sims, -np.inf)
            best: dict[int, float] = {}
            ptr, owners = self.sentence_chunks
            for j in _top(sims, depth * 3).tolist():
                if sims[j] == -np.inf:  # past the last sentence of the scope's documents
                    break
                for row in owners[ptr[j] : ptr[j + 1]].tolist():
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
                if allowed is not None:
                    scores = np.where(allowed, scores, 0.0)
                top = _top(scores, depth)
                lexical = {int(r): (rank, float(scores[r])) for rank, r in enumerate(top) if scores[r] > 0}
        t3 = time.perf_counter()
        timings["bm25"] = (t3 - t2) * 1000
        held = self.terms_held(qterms, {*dense, *lexical, *by_sentence})  # every passage below is one of these
        coverage = self._coverage(qterms, held) if mode == "hybrid" else {}
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
            matched = tuple(sorted(held[row]))
            passages.append(Passage(chunk, rank, fused[row], scores, matched, row))
        timings["fusion"] = (time.perf_counter() - t3) * 1000
        return passages, qvec

    def _dense_search(self, qvec: np.ndarray, depth: int, allowed: np.ndarray | None):
        """FAISS top-`depth` (similarities, rows), only over the allowed rows when a scope is set."""
        query = qvec[None, :].astype(np.float32)
        if depth <= 0:
            return np.zeros((1, 0), np.float32), np.zeros((1, 0), np.int64)
        if allowed is None:
            return self.index.dense.search(query, depth)
        dense = self.index.dense
        if hasattr(dense, "search_in"):  # a sharded index: each shard searched over its own allowed rows
            return dense.search_in(query, depth, allowed)
        import faiss

        selector = faiss.IDSelectorBatch(np.flatnonzero(allowed).astype(np.int64))
        if hasattr(dense, "hnsw"):
            params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(dense.hnsw.efSearch, depth))
        else:
            params = faiss.SearchParameters(sel=selector)
        return dense.search(query, depth, params=params)

    def terms_held(self, qterms: list[str], rows) -> dict[int, set[str]]:
        """Which of the question's terms each row holds, read from BM25's postings: no chunk is re-stemmed
        (stemming the ~100 candidates of a question took half its time on long documents)."""
        rows = np.asarray(sorted(set(rows)), dtype=np.int64)
        held: dict[int, set[str]] = {int(r): set() for r in rows}
        if not len(rows):
            return held
        postings = self.index.bm25.postings
        for t in set(qterms):
            i = self.vocab.get(t)
            if i is None:
                continue
            for r in _holding(rows, postings(i)).tolist():
                held[r].add(t)
        return held

    def _coverage(self, qterms: list[str], held: dict[int, set[str]]) -> dict[int, tuple[int, float]]:
        """Candidates ranked by the idf-weighted share of the question's terms they hold.

        BM25 saturates term frequency but still lets one frequent term outweigh two rare ones; this list
        rewards the chunk that holds all of what was asked (a title and an organisation, not just the title).
        """
        qset = set(qterms)
        # fsum: exact whatever the order sets iterate in, which changes between processes (hash seeds), so equal
        # shares stay equal and ties break the same way on every run
        total = math.fsum(self.idf.get(t, self.max_idf) for t in qset)
        if not total:
            return {}
        share = {row: math.fsum(self.idf.get(t, 0.0) for t in found) / total for row, found in held.items()}
        ordered = sorted((row for row in share if share[row] > 0), key=lambda r: (-share[r], r))
        return {row: (rank, share[row]) for rank, row in enumerate(ordered)}

    def sentences(self, passages: list[Passage], qvec: np.ndarray) -> list[SentenceHit]:
        """Every sentence of the passages once, scored against the question by its ingest-time vector."""
        found, seen = [], set()
        for passage in passages:
            for j, s, e in self.passage_sentences(passage):
                if j not in seen:
                    seen.add(j)
                    found.append((passage, j, s, e))
        if not found:
            return []
        rows = self.index.sentence_vectors[[j for _, j, _, _ in found]]  # one read of the mapped vectors
        sims = similarities(rows, qvec)
        return [
            SentenceHit(p.chunk, s, e, float(sim), p.rank, j) for (p, j, s, e), sim in zip(found, sims, strict=True)
        ]

    def sentence(self, row: int, qvec: np.ndarray | None = None, passage_rank: int = 0) -> SentenceHit | None:
        """The sentence at a row of the sentence table (None past either end)."""
        if not 0 <= row < len(self.index.sentences):
            return None
        chunk_row, s, e = self.index.sentence(row)
        sim = float(self.index.sentence_vectors[row] @ qvec) if qvec is not None else 0.0
        return SentenceHit(self.index.searchable[chunk_row], s, e, sim, passage_rank, row)

    def around(self, first: SentenceHit, last: SentenceHit) -> tuple[list[SentenceHit], SentenceHit | None]:
        """The two sentences before `first` in its section and the one after `last` in its document (kept per row
        pair: the same sentences are candidates for many questions)."""
        key = (first.row, last.row)
        if key not in self._around:
            before = []
            for row in (first.row - 1, first.row - 2):
                prev = self.sentence(row)
                if prev is None or prev.chunk.source != first.chunk.source or prev.chunk.section != first.chunk.section:
                    break
                before.insert(0, prev)
            after = self.sentence(last.row + 1)
            if after is not None and after.chunk.source != first.chunk.source:
                after = None
            if len(self._around) > 65536:
                self._around.clear()
            self._around[key] = (before, after)
        return self._around[key]


def _holding(rows: np.ndarray, posting: np.ndarray) -> np.ndarray:
    """The rows (ascending) that an ascending posting list holds, by binary search: np.isin built a table or sorted
    both for each question term (0.4 ms of a covid-dev question's 150 candidate rows)."""
    at = np.searchsorted(posting, rows)
    held = at < len(posting)
    held[held] = posting[at[held]] == rows[held]
    return rows[held]


def _top(scores: np.ndarray, depth: int) -> np.ndarray:
    """Rows of the `depth` highest scores, best first, ties by row: a partial sort, not a full one."""
    if len(scores) > 4 * depth:
        part = np.argpartition(-scores, depth)[:depth]
        return part[np.lexsort((part, -scores[part]))]
    return np.argsort(-scores, kind="stable")[:depth]
