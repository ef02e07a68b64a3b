"""The index folder on disk: versioned plain files, checksummed, switched in atomically. Nothing is pickled.

Layout: `<index>/CURRENT` names the live build folder `<index>/build-<stamp>/`, which holds
`manifest.json`, `chunks.jsonl`, `dense.faiss` (chunk vectors), `sentences.faiss` (sentence vectors)
and `bm25/` (bm25s's own save format). A new build is written beside the old one, fsynced, and
made live by replacing CURRENT in one `os.replace`, so readers see the old build or the new one.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.chunking import Chunk
from index.documents import file_sha256
from index.errors import IndexCorrupt, IndexMissing

FORMAT_VERSION = 1
POINTER = "CURRENT"


@dataclass(frozen=True)
class Index:
    """A loaded, verified build: every chunk (aliases too), and the searchable ones behind the vectors."""

    path: Path
    manifest: dict[str, Any]
    chunks: tuple[Chunk, ...]
    searchable: tuple[Chunk, ...]  # row i of the dense index and of BM25 is searchable[i]
    sentences: tuple[tuple[int, int, int], ...]  # (row in searchable, start, end), row j of sentence vectors
    dense: Any  # faiss.Index over chunk vectors
    sentence_vectors: np.ndarray
    bm25: Any  # bm25s.BM25


def searchable_sentences(searchable: tuple[Chunk, ...]) -> tuple[tuple[int, int, int], ...]:
    """Each sentence once (overlapping chunks share sentences), in index order, with its first chunk."""
    seen, out = set(), []
    for row, chunk in enumerate(searchable):
        for start, end in chunk.sentences:
            key = (chunk.source, start, end)
            if key not in seen:
                seen.add(key)
                out.append((row, start, end))
    return tuple(out)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def current_build(index_dir: Path) -> Path | None:
    """The live build folder, or None when no build has completed."""
    try:
        name = (index_dir / POINTER).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    build = index_dir / name
    return build if name.startswith("build-") and build.is_dir() else None


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    """The live build's manifest without loading or verifying the rest (a cheap staleness check)."""
    build = current_build(index_dir)
    if build is None:
        return None
    try:
        return json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_build(
    index_dir: Path,
    manifest: dict[str, Any],
    chunks: list[Chunk],
    chunk_vectors: np.ndarray,
    sentence_vectors: np.ndarray,
    bm25: Any,
    extra_files: dict[str, Path] | None = None,
) -> Path:
    """Write a complete build and make it live; a crash at any point leaves the previous build live.

    extra_files (name in the build -> file to copy, e.g. the ONNX query encoder) are checksummed like the rest.
    """
    import faiss

    index_dir.mkdir(parents=True, exist_ok=True)
    build = index_dir / f"build-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    tmp = index_dir / f".tmp-{build.name}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    previous = current_build(index_dir)
    pointer_tmp = index_dir / f".{POINTER}.{os.getpid()}"
    switched = False
    try:
        with (tmp / "chunks.jsonl").open("w", encoding="utf-8") as out:
            for chunk in chunks:
                out.write(json.dumps(dataclasses.asdict(chunk), ensure_ascii=False) + "\n")
        for name, vectors in (("dense.faiss", chunk_vectors), ("sentences.faiss", sentence_vectors)):
            flat = faiss.IndexFlatIP(int(manifest["dim"]))
            flat.add(np.ascontiguousarray(vectors, dtype=np.float32))
            faiss.write_index(flat, str(tmp / name))
        bm25.save(str(tmp / "bm25"))
        for name, source in (extra_files or {}).items():
            shutil.copyfile(source, tmp / name)
        files = sorted(p for p in tmp.rglob("*") if p.is_file())
        for path in files:
            _fsync(path)
        manifest = dict(manifest, format_version=FORMAT_VERSION)
        manifest["checksums"] = {p.relative_to(tmp).as_posix(): file_sha256(p) for p in files}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        _fsync(tmp / "manifest.json")
        _fsync(tmp)
        os.replace(tmp, build)
        _fsync(index_dir)  # the build's name is on disk before anything points at it
        pointer_tmp.write_text(build.name + "\n", encoding="utf-8")
        _fsync(pointer_tmp)
        os.replace(pointer_tmp, index_dir / POINTER)
        switched = True
        _fsync(index_dir)
    except BaseException:
        if switched:  # the switch may not be durable: abort it, so a failed build never stays live
            _restore_pointer(index_dir, previous, pointer_tmp)
        if current_build(index_dir) != build:
            shutil.rmtree(build, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
        pointer_tmp.unlink(missing_ok=True)
        raise
    _prune(index_dir, keep=build.name)
    return build


def _restore_pointer(index_dir: Path, previous: Path | None, pointer_tmp: Path) -> None:
    """Point CURRENT back at the previous build (or at none), best effort: the disk is already failing."""
    try:
        if previous is None:
            (index_dir / POINTER).unlink(missing_ok=True)
        else:
            pointer_tmp.write_text(previous.name + "\n", encoding="utf-8")
            os.replace(pointer_tmp, index_dir / POINTER)
        _fsync(index_dir)
    except OSError:
        pass


def _prune(index_dir: Path, keep: str) -> None:
    """Remove older builds and leftovers of killed ones (best effort: a reader may still hold files).

    Only the one writer (index.build's lock) prunes, so any other build, temp folder or pointer temp is stale.
    """
    for path in index_dir.iterdir():
        if path.name == keep:
            continue
        if path.name.startswith(("build-", ".tmp-build-")):
            shutil.rmtree(path, ignore_errors=True)
        elif path.name.startswith(f".{POINTER}."):
            path.unlink(missing_ok=True)


def verify(build: Path, manifest: dict[str, Any]) -> None:
    """Check every file against the manifest before any parser sees it (faiss loads flipped bytes silently)."""
    checksums = manifest.get("checksums") or {}
    if not checksums:
        raise IndexCorrupt(f"index is corrupt ({build / 'manifest.json'} lists no checksums)")
    for rel, expected in checksums.items():
        path = build / rel
        found = file_sha256(path) if path.is_file() else "missing"
        if found != expected:
            raise IndexCorrupt(f"index is corrupt ({path}: expected sha256 {expected[:12]}, found {found[:12]})")


def load(index_dir: Path) -> Index:
    """Load and verify the live build; raises IndexMissing or IndexCorrupt with what was wrong."""
    attempts = 3
    while True:
        build = current_build(index_dir)
        if build is None:
            raise IndexMissing(f"no index in {index_dir}; run `rag ingest`")
        try:
            return _load_build(build)
        except Exception:
            attempts -= 1
            if attempts == 0 or current_build(index_dir) == build:
                raise
            # A writer switched builds (and pruned this one) while it was being read: read the new one.


def _load_build(build: Path) -> Index:
    import bm25s
    import faiss

    try:
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"index is corrupt ({build / 'manifest.json'}: {exc})") from None
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexCorrupt(f"index format {manifest.get('format_version')} is not {FORMAT_VERSION}")
    verify(build, manifest)
    with (build / "chunks.jsonl").open(encoding="utf-8") as lines:
        chunks = tuple(_chunk_from_json(json.loads(line)) for line in lines)
    searchable = tuple(c for c in chunks if c.duplicate_of is None)
    sentences = searchable_sentences(searchable)
    dense = faiss.read_index(str(build / "dense.faiss"))
    sentence_index = faiss.read_index(str(build / "sentences.faiss"))
    if dense.ntotal != len(searchable) or sentence_index.ntotal != len(sentences):
        raise IndexCorrupt(f"index is corrupt ({build}: vector counts do not match chunks.jsonl)")
    sentence_vectors = sentence_index.reconstruct_n(0, sentence_index.ntotal) if sentences else np.zeros((0, dense.d))
    bm25 = bm25s.BM25.load(str(build / "bm25"), load_corpus=False, allow_pickle=False)
    return Index(build, manifest, chunks, searchable, sentences, dense, sentence_vectors, bm25)


def _chunk_from_json(row: dict[str, Any]) -> Chunk:
    row["sentences"] = tuple(tuple(s) for s in row.get("sentences", ()))
    return Chunk(**row)
