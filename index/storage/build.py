"""Ingest: corpus folder -> a new verified build in the index folder, or the reason none is needed."""

from __future__ import annotations

import dataclasses
import fcntl
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from index.encode.embed import DEFAULT_MODEL, Embedder, SentenceTransformerEmbedder, wordpiece_counter
from index.errors import IngestError, disk_full, is_disk_full
from index.load.documents import SUPPORTED_SUFFIXES, Skipped, corpus_files, ingest_notes, load_corpus
from index.storage.store import FORMAT_VERSION, read_manifest, write_build
from index.text.chunking import ChunkerSettings, chunk_corpus
from index.text.cleaning import printable, shown_path
from index.text.lexical import terms
from index.text.tokens import count_tokens

if TYPE_CHECKING:
    from index.storage.distributed import RayOptions

TOKENIZER = "tiktoken:cl100k_base"


@dataclass(frozen=True)
class IndexSettings:
    """What a build depends on besides the corpus: a change of either means a full rebuild."""

    model: str = DEFAULT_MODEL
    chunker: ChunkerSettings = field(default_factory=ChunkerSettings)


@dataclass(frozen=True)
class IngestReport:
    """What an ingest did, for the summary line and for tests."""

    built: bool
    reason: str
    documents: int
    chunks: int
    duplicates: int
    sentences: int
    skipped: tuple[Skipped, ...]
    seconds: float
    notes: tuple[str, ...] = ()  # documents indexed with warnings or cleaned text; hidden-character counts

    def summary(self) -> str:
        if not self.built:
            return f"index is up to date ({self.reason})"
        line = (
            f"indexed {self.documents} document(s): {self.chunks} chunks "
            f"({self.duplicates} duplicate(s) kept as aliases), "
            f"{self.sentences} sentences in {self.seconds:.1f} s"
        )
        for skip in self.skipped:
            line += f"\nskipped {printable(skip.source)}: {printable(skip.reason)}"
        for note in self.notes:
            line += f"\n{printable(note)}"
        return line


def corpus_state(corpus_dir: Path, cache: Path | None = None) -> dict[str, str]:
    """sha256 of every file the corpus holds, by path relative to it; with a cache, unchanged files are not read."""
    from index.storage.stamps import hashes

    return hashes({p.relative_to(corpus_dir).as_posix(): p for p in corpus_files(corpus_dir)}, cache)


def stale_reason(corpus_dir: Path, index_dir: Path, settings: IndexSettings) -> str | None:
    """Why the live build no longer matches the corpus and settings, or None when it does."""
    # First, so a missing corpus is reported before anything else. Asked at every start, so a file that has
    # not changed since the last check (same size, mtime, ctime, inode) is not read again.
    from index.storage.folder import check_index_dir

    check_index_dir(index_dir, corpus_dir)
    state = corpus_state(corpus_dir, index_dir / ".corpus-hashes.json" if index_dir.is_dir() else None)
    manifest = read_manifest(index_dir)
    if manifest is None:
        return f"no index in {shown_path(index_dir)}"
    if manifest.get("format_version") != FORMAT_VERSION:
        return f"index format changed ({manifest.get('format_version')} -> {FORMAT_VERSION})"
    if manifest.get("model") != settings.model:
        return f"embedding model changed ({manifest.get('model')} -> {settings.model})"
    if manifest.get("chunker") != dataclasses.asdict(settings.chunker):
        return "chunker settings changed"
    if manifest.get("tokenizer") != TOKENIZER:
        return "tokenizer changed"
    if _query_encoder_outdated(manifest.get("query_encoder")):
        return "the query encoder is missing or out of date"
    if manifest.get("files") != state:
        old = manifest.get("files") or {}
        added = len(state.keys() - old.keys())
        removed = len(old.keys() - state.keys())
        changed = sum(1 for k in state.keys() & old.keys() if state[k] != old[k])
        return f"corpus changed ({added} added, {changed} changed, {removed} removed)"
    return None


def shard_count(manifest: dict | None) -> int:
    """How many shards a build's manifest lists (1 for an unsharded build or none)."""
    return len((manifest or {}).get("shards") or []) or 1


def _query_encoder_outdated(entry: object) -> bool:
    """A build from before the ONNX query encoder, or from another export version, is rebuilt."""
    from index.encode.onnx_encoder import EXPORT_VERSION

    if not isinstance(entry, dict):
        return True
    return entry.get("kind") == "onnx" and entry.get("export_version") != EXPORT_VERSION


class IndexBusy(IngestError):
    """Another process holds the index folder's writer lock; its last complete build is still readable."""


class _WriterLock:
    """One writer per index folder; a second ingest fails fast instead of racing the first."""

    def __init__(self, index_dir: Path) -> None:
        index_dir.mkdir(parents=True, exist_ok=True)
        self.path = index_dir / ".lock"

    def __enter__(self) -> _WriterLock:
        self.handle = self.path.open("a+")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.seek(0)
            pid = self.handle.read().strip() or "?"
            self.handle.close()
            raise IndexBusy(f"index is being built by pid {pid}; wait for it to finish") from None
        self.handle.truncate(0)
        self.handle.write(str(os.getpid()))
        self.handle.flush()
        return self

    def __exit__(self, *exc) -> None:
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()


def ingest(
    corpus_dir: Path,
    index_dir: Path,
    settings: IndexSettings = IndexSettings(),
    embedder: Embedder | None = None,
    force: bool = False,
    progress: bool = True,
    log: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr),
    counters: tuple[Callable[[str], int], Callable[[str], int]] | None = None,
    shards: int | None = None,
    ray: RayOptions | None = None,
) -> IngestReport:
    """Build the index when it is missing or stale (or always, with force); a second writer is refused.

    counters (tokens, word pieces) replace the exact ones only for generated benchmark text, where chunk
    sizes need not be exact and exact counting would dominate the benchmark's time. shards splits the index
    by document (index.shards); None keeps the live build's count (1 for a new index). ray runs reading, sentence
    counting and embedding on a Ray cluster (index.distributed); the build is the same.
    """
    started = time.perf_counter()
    reason = "forced rebuild" if force else stale_reason(corpus_dir, index_dir, settings)
    manifest = read_manifest(index_dir) or {}
    live = manifest.get("shard_request", shard_count(manifest))  # a corpus of fewer documents has fewer shards
    if reason is None and shards is not None and shards != live:
        reason = f"shard count changed ({live} -> {shards})"
    if reason is None:
        return IngestReport(False, "corpus and settings unchanged", 0, 0, 0, 0, (), 0.0)
    shards = shards or live
    try:
        return _build(
            corpus_dir, index_dir, settings, embedder, force, progress, log, counters, reason, started, shards, ray
        )
    except (OSError, RuntimeError) as exc:  # write_build has removed its partial build; the old one is still live
        if is_disk_full(exc):
            raise disk_full("the new index build") from None
        raise


def _build(
    corpus_dir: Path,
    index_dir: Path,
    settings: IndexSettings,
    embedder: Embedder | None,
    force: bool,
    progress: bool,
    log: Callable[[str], None],
    counters: tuple[Callable[[str], int], Callable[[str], int]] | None,
    reason: str,
    started: float,
    shards: int = 1,
    ray: RayOptions | None = None,
) -> IngestReport:
    """ingest's work once a build is due: load, chunk, embed, write and switch, under the writer lock."""
    from index.storage.folder import claim_index_dir

    claim_index_dir(index_dir, corpus_dir)
    with _WriterLock(index_dir):
        state = corpus_state(corpus_dir)
        run = None
        if ray is not None:
            from index.storage.distributed import RayRun

            run = RayRun(ray)
        documents, skipped = load_corpus(corpus_dir, progress, mapper=run.load if run else None)
        for skip in skipped:
            log(f"warning: skipped {printable(skip.source)}: {printable(skip.reason)}")
        notes = ingest_notes(documents)
        if not documents:
            supported = ", ".join(SUPPORTED_SUFFIXES)
            raise IngestError(
                f"no indexable documents in {shown_path(corpus_dir)} (supported: {supported}); add some and retry"
            )
        count, pieces = counters or (count_tokens, wordpiece_counter(settings.model))
        units = run.units(documents, settings.chunker, settings.model) if run and counters is None else None
        chunks = chunk_corpus(documents, settings.chunker, count, pieces, units)
        searchable = [c for c in chunks if c.duplicate_of is None]
        from index.storage.store import searchable_sentences

        sentences = searchable_sentences(searchable)
        embedder = embedder or SentenceTransformerEmbedder(settings.model)
        texts = [c.embed_text() for c in searchable]
        sentence_texts = [searchable[row].sentence_text(s, e) for row, s, e in sentences]
        from index.storage.incremental import describe_changes, reusable_vectors

        # Files that were or are skipped are in the corpus state (a fixed file must trigger a rebuild) but were
        # never indexed: the summary counts only indexed files as unchanged, added, changed or removed.
        old_manifest = read_manifest(index_dir) or {}
        old_skipped = {s.get("source") for s in old_manifest.get("skipped") or [] if isinstance(s, dict)}
        old_files = {k: v for k, v in (old_manifest.get("files") or {}).items() if k not in old_skipped}
        now_skipped = {s.source for s in skipped}
        indexed_files = {k: v for k, v in state.items() if k not in now_skipped}
        cache = {} if force else reusable_vectors(index_dir, settings.model, settings.chunker, embedder.dim)
        from index.encode.resumable import embed_resumable, finish

        work = index_dir / ".embedding"  # survives a kill: the next ingest of the same corpus continues
        vectors, embedded, resumed = embed_resumable(
            embedder, texts + sentence_texts, work, progress, cache, run.embed if run else None
        )
        if resumed:
            log(f"resuming an interrupted ingest: {resumed} text(s) were already embedded")
        per_file: dict[str, int] = {}
        for chunk in chunks:
            per_file[chunk.source] = per_file.get(chunk.source, 0) + 1
        notes.insert(
            0,
            f"{describe_changes(old_files, indexed_files, per_file)}; embedded {embedded} new text(s), "
            f"reused {len(texts) + len(sentence_texts) - embedded - resumed}"
            + (f", resumed {resumed}" if resumed else ""),
        )
        from index.encode.onnx_export import for_build

        query_encoder = for_build(embedder, settings.model, texts + sentence_texts, index_dir, log)
        import bm25s

        bm25 = bm25s.BM25()
        bm25.index([terms(t) or ["\x00empty"] for t in texts], show_progress=False)
        built_at = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        manifest = {
            "model": settings.model,
            "dim": int(vectors.shape[1]),
            "tokenizer": TOKENIZER,
            "chunker": dataclasses.asdict(settings.chunker),
            "files": state,
            "documents": {
                d.source: {
                    "title": d.title,
                    "sha256": d.sha256,
                    "text_sha256": d.text_sha256,
                    "chars": len(d.text),
                    "indexed_at": _indexed_at(old_manifest, d.source, d.sha256, built_at),
                }
                for d in documents
            },
            "skipped": [dataclasses.asdict(s) for s in skipped],
            "built_at": built_at,
            "embed_precision": getattr(embedder, "precision", "unknown"),
            "query_encoder": query_encoder.entry,
        }
        if shards > 1:
            manifest["shard_request"] = shards
        chunk_vectors, sentence_vectors = vectors[: len(texts)], vectors[len(texts) :]
        write_build(
            index_dir, manifest, chunks, chunk_vectors, sentence_vectors, bm25, query_encoder.files, shards=shards
        )
        del vectors, chunk_vectors, sentence_vectors
        finish(work)
    return IngestReport(
        True,
        reason,
        len(documents),
        len(chunks),
        len(chunks) - len(searchable),
        len(sentences),
        tuple(skipped),
        time.perf_counter() - started,
        notes=tuple(notes),
    )


def _indexed_at(old_manifest: dict, source: str, sha256: str, now: str) -> str:
    """When this version of a document was first indexed: kept across rebuilds while its text is unchanged.

    Example: an unchanged file indexed at 09:00 still says 09:00 after another file is added at 10:00.
    """
    old = (old_manifest.get("documents") or {}).get(source)
    if isinstance(old, dict) and old.get("sha256") == sha256 and isinstance(old.get("indexed_at"), str):
        return old["indexed_at"]
    return now
