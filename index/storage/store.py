"""The index folder on disk: versioned plain files, checksummed, switched in atomically. Nothing is pickled.

Layout: `<index>/CURRENT` names the live build folder `<index>/build-<stamp>/`, which holds
`manifest.json`, `chunks.jsonl` (every chunk, aliases too) with `chunks.offsets.npy` (where each line
starts, so chunks are read on demand), `searchable.npy` (the lines behind the vectors), `dense.faiss`
(chunk vectors: flat or HNSW, see index.dense), `sentences.npy` (chunk row, start, end of each sentence),
`chunk_sentences.npy` with `chunk_sentences.ptr.npy` (each chunk's sentence rows), `sentence_vectors.npy`,
`summaries.json` (each document's and section's summary as sentence rows, see index.summaries) and `bm25/`
(bm25s's own save format). Arrays are memory-mapped, so a million chunks do not have to fit
in memory. A new build is written beside the old one, fsynced, and made live by replacing CURRENT in one
`os.replace`, so readers see the old build or the new one.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import shutil
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import IndexCorrupt, IndexMissing
from index.load.documents import file_sha256
from index.storage import summaries
from index.text.chunking import Chunk
from index.text.cleaning import shown_path

FORMAT_VERSION = 3  # 3: summaries.json
# Older formats an upgrade still reads vectors from (index.incremental), so a format bump is not a full re-embed.
UPGRADABLE_VERSIONS = {2: ("summaries.json",)}  # version -> the files it lacks
POINTER = "CURRENT"
FULL_CHECK_BYTES = 256 * 2**20  # larger builds are hashed in full once, then re-hashed only where a file changed
REQUIRED_FILES = (
    "chunks.jsonl",
    "chunks.offsets.npy",
    "searchable.npy",
    "sentences.npy",
    "chunk_sentences.ptr.npy",
    "chunk_sentences.npy",
    "sentence_vectors.npy",
    "dense.faiss",
    "summaries.json",
)


class RowTable(Sequence[Chunk]):
    """A chunk sequence indexed like a list (negative rows, slices, IndexError); subclasses give `_row(i)`."""

    def _row(self, i: int) -> Chunk:
        raise NotImplementedError

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        i = int(i)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"chunk {i} out of range")
        return self._row(i)


class ChunkTable(RowTable):
    """Chunks read from chunks.jsonl when asked for (recent ones cached): the table costs 8 bytes a chunk."""

    def __init__(self, path: Path, starts: np.ndarray, ends: np.ndarray, cache: int = 4096) -> None:
        self._fd = os.open(path, os.O_RDONLY)  # kept open: a reader survives the build being pruned
        self._starts, self._ends = starts, ends
        self._read = self._row = functools.lru_cache(maxsize=cache)(self._read_uncached)

    def __len__(self) -> int:
        return len(self._starts)

    def __iter__(self) -> Iterator[Chunk]:
        for i in range(len(self)):
            yield self._read(i)

    def _read_uncached(self, i: int) -> Chunk:
        start, end = int(self._starts[i]), int(self._ends[i])
        return chunk_from_json(json.loads(os.pread(self._fd, end - start, start)))

    def __del__(self) -> None:
        fd = getattr(self, "_fd", None)
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass


@dataclass(frozen=True)
class Manifest:
    """A loaded build's manifest.json as a typed record (the file's JSON, DESIGN.md's index format, is unchanged).

    Read from a verified build only; ingest writes the JSON itself (index.build, write_build).
    """

    model: str = ""  # a shard's own manifest lists its files and checksums only; the top one has the rest
    dim: int = 0
    format_version: int | None = None
    tokenizer: str = ""
    chunker: Mapping[str, Any] = field(default_factory=dict)
    files: Mapping[str, Any] = field(default_factory=dict)  # corpus file -> (size, mtime, sha256) when indexed
    documents: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # source -> title, indexed_at, ...
    skipped: Sequence[Mapping[str, Any]] = ()  # files that could not be read, with the reason
    built_at: str = ""
    embed_precision: str = ""
    query_encoder: Mapping[str, Any] = field(default_factory=dict)  # the ONNX export's entry, or why there is none
    dense_index: Mapping[str, Any] = field(default_factory=dict)  # kind (flat / hnsw) and its parameters
    checksums: Mapping[str, str] = field(default_factory=dict)  # file in the build -> sha256
    shards: Sequence[Mapping[str, Any]] = ()  # a sharded build's sub-index folders
    shard_request: int | None = None  # the --shards asked for (a corpus of fewer documents has fewer shards)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Manifest:
        """From the parsed manifest.json; keys this code does not know are ignored."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known and v is not None})


@dataclass(frozen=True)
class Index:
    """A loaded, verified build: every chunk (aliases too), and the searchable ones behind the vectors."""

    path: Path
    manifest: Manifest
    chunks: Sequence[Chunk]
    searchable: Sequence[Chunk]  # row i of the dense index and of BM25 is searchable[i]
    sentences: np.ndarray  # [m, 3]: row in searchable, start, end; row j of sentence_vectors
    chunk_sentence_ptr: np.ndarray  # sentences of searchable[i]: chunk_sentence_rows[ptr[i]:ptr[i + 1]]
    chunk_sentence_rows: np.ndarray
    dense: Any  # faiss.Index over chunk vectors
    sentence_vectors: np.ndarray
    bm25: Any  # index.storage.postings.Postings over bm25s's files
    # (source, section title) or (source, None) for a whole document -> its summary's sentence rows, in order
    summaries: Mapping[tuple[str, str | None], tuple[int, ...]] = field(default_factory=dict)
    shards: tuple[Index, ...] = ()  # a sharded build's sub-indexes (index.shards); the fields above span them all

    def sentence_rows(self, row: int) -> np.ndarray:
        """The sentence rows of searchable chunk `row`, in document order."""
        return self.chunk_sentence_rows[self.chunk_sentence_ptr[row] : self.chunk_sentence_ptr[row + 1]]

    def sentence(self, j: int) -> tuple[int, int, int]:
        """Sentence row j as (searchable row, start, end) in plain ints (JSON needs them)."""
        row, start, end = self.sentences[j]
        return int(row), int(start), int(end)


def searchable_sentences(searchable: Sequence[Chunk]) -> tuple[tuple[int, int, int], ...]:
    """Each sentence once (overlapping chunks share sentences), in index order, with its first chunk."""
    return sentence_tables(searchable)[0]


def sentence_tables(
    searchable: Sequence[Chunk],
) -> tuple[tuple[tuple[int, int, int], ...], np.ndarray, np.ndarray]:
    """The sentence table and, per chunk, its sentence rows (CSR pointers and rows)."""
    seen: dict[tuple[str, int, int], int] = {}
    out: list[tuple[int, int, int]] = []
    ptr, rows = [0], []
    for row, chunk in enumerate(searchable):
        for start, end in chunk.sentences:
            key = (chunk.source, start, end)
            if key not in seen:
                seen[key] = len(out)
                out.append((row, start, end))
            rows.append(seen[key])
        ptr.append(len(rows))
    return tuple(out), np.array(ptr, dtype=np.int64), np.array(rows, dtype=np.int64)


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
    except (OSError, ValueError):  # absent, or damaged (invalid UTF-8): no live build, so the next ingest rebuilds
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
    chunks: Sequence[Chunk],
    chunk_vectors: np.ndarray,
    sentence_vectors: np.ndarray,
    bm25: Any,
    extra_files: dict[str, Path] | None = None,
    shards: int = 1,
) -> Path:
    """Write a complete build and make it live; a crash at any point leaves the previous build live.

    The vectors may be memory-mapped (they are read a slice at a time). The dense index kind comes from
    manifest["dense_index"], or from index.storage.dense.plan by size. extra_files (name in the build -> file to
    copy, e.g. the ONNX query encoder) are checksummed like the rest. With shards > 1 the chunk files are
    written as that many sub-indexes split by document (index.shards).
    """
    from index.storage import dense

    index_dir.mkdir(parents=True, exist_ok=True)
    build = index_dir / f"build-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    tmp = index_dir / f".tmp-{build.name}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    previous = current_build(index_dir)
    pointer_tmp = index_dir / f".{POINTER}.{os.getpid()}"
    switched = False
    try:
        spec = manifest.get("dense_index") or dense.plan(sum(c.duplicate_of is None for c in chunks))
        dim = int(manifest["dim"])
        manifest = {k: v for k, v in manifest.items() if k != "shards"}
        if shards > 1:
            searchable = [c for c in chunks if c.duplicate_of is None]
            table = sentence_tables(searchable)[0]
            if len(chunk_vectors) != len(searchable) or len(sentence_vectors) != len(table):
                raise ValueError("vector counts do not match the chunks and sentences they belong to")
            manifest["shards"] = _write_shards(tmp, chunks, chunk_vectors, sentence_vectors, bm25, spec, dim, shards)
        else:
            searchable, table = _write_part(tmp, chunks, chunk_vectors, sentence_vectors, spec, dim)
            bm25.save(str(tmp / "bm25"))
        _save_summaries(tmp / summaries.FILE, searchable, table, sentence_vectors)
        for name, source in (extra_files or {}).items():
            shutil.copyfile(source, tmp / name)
        manifest = dict(manifest, dense_index=spec)
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


def _write_part(
    folder: Path, chunks: Sequence[Chunk], chunk_vectors: np.ndarray, sentence_vectors: np.ndarray, spec, dim: int
) -> tuple[list[Chunk], tuple[tuple[int, int, int], ...]]:
    """The chunk, sentence and vector files of one index (or of one shard of it) into `folder`."""
    import faiss

    from index.storage import dense

    offsets, searchable_lines = [0], []
    with (folder / "chunks.jsonl").open("wb") as out:
        for line, chunk in enumerate(chunks):
            data = (json.dumps(dataclasses.asdict(chunk), ensure_ascii=False) + "\n").encode("utf-8")
            out.write(data)
            offsets.append(offsets[-1] + len(data))
            if chunk.duplicate_of is None:
                searchable_lines.append(line)
    np.save(folder / "chunks.offsets.npy", np.array(offsets, dtype=np.int64))
    np.save(folder / "searchable.npy", np.array(searchable_lines, dtype=np.int64))
    searchable = [chunks[i] for i in searchable_lines]
    table, ptr, rows = sentence_tables(searchable)
    np.save(folder / "sentences.npy", np.array(table, dtype=np.int64).reshape(-1, 3))
    np.save(folder / "chunk_sentences.ptr.npy", ptr)
    np.save(folder / "chunk_sentences.npy", rows)
    if len(chunk_vectors) != len(searchable) or len(sentence_vectors) != len(table):
        raise ValueError("vector counts do not match the chunks and sentences they belong to")
    faiss.write_index(dense.build(chunk_vectors, spec, dim), str(folder / "dense.faiss"))
    _save_rows(folder / "sentence_vectors.npy", sentence_vectors, dim)
    return searchable, table


def _write_shards(
    tmp: Path, chunks: Sequence[Chunk], chunk_vectors, sentence_vectors, bm25: Any, spec, dim: int, n: int
) -> list[dict[str, Any]]:
    """Write n sub-indexes split by document, each with its own manifest; returns the top manifest's entries.

    Sentences never span documents, so each shard's chunks, sentences and vectors are contiguous slices.
    """
    from index.storage import shards

    whole_bm25 = tmp / ".bm25-whole"  # the corpus's weights, cut per shard below and then removed
    bm25.save(str(whole_bm25))
    entries, row, sentence = [], 0, 0
    for i, (lo, hi) in enumerate(shards.split([c.source for c in chunks], [c.duplicate_of is None for c in chunks], n)):
        part = list(chunks[lo:hi])
        searchable = [c for c in part if c.duplicate_of is None]
        n_sentences = len(sentence_tables(searchable)[0])
        folder = tmp / shards.SHARD_DIR.format(i)
        folder.mkdir()
        vectors = chunk_vectors[row : row + len(searchable)]
        _write_part(folder, part, vectors, sentence_vectors[sentence : sentence + n_sentences], spec, dim)
        shards.cut_postings(whole_bm25, folder / "bm25", row, row + len(searchable))
        documents = list(dict.fromkeys(c.source for c in part))
        entry = {"folder": folder.name, "documents": documents, "row_offset": row, "sentence_offset": sentence}
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        own = dict(entry, format_version=FORMAT_VERSION, dim=dim, dense_index=spec, shard=i, of=n)
        own["checksums"] = {p.relative_to(folder).as_posix(): file_sha256(p) for p in files}
        (folder / "manifest.json").write_text(json.dumps(own, indent=2, ensure_ascii=False), encoding="utf-8")
        entries.append(entry)
        row, sentence = row + len(searchable), sentence + n_sentences
    shutil.rmtree(whole_bm25)
    return entries


def _save_summaries(path: Path, searchable: Sequence[Chunk], table, sentence_vectors: np.ndarray) -> None:
    """Each document's and section's extractive summary, from the sentence vectors already computed."""
    rows = np.array(table, dtype=np.int64).reshape(-1, 3)

    def words(j: int) -> int:
        row, start, end = rows[j]
        return len(searchable[row].sentence_text(int(start), int(end)).split())

    sources = [c.source for c in searchable]
    sections = [c.section for c in searchable]
    summaries.save(path, summaries.build(rows, sources, sections, sentence_vectors, words))


def reserve_space(path: Path) -> None:
    """Allocate a new memory-mapped file's blocks now: a full disk is then an OSError here, not a SIGBUS that
    kills the process at the first write into the map. Skipped where the file system cannot preallocate."""
    import errno

    fd = os.open(path, os.O_RDWR)
    try:
        os.posix_fallocate(fd, 0, os.fstat(fd).st_size)
    except OSError as exc:
        if exc.errno not in (errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
            raise
    finally:
        os.close(fd)


def _save_rows(path: Path, vectors: np.ndarray, dim: int) -> None:
    """float32 rows as .npy, copied a slice at a time (the source may be a memory map larger than memory)."""
    from numpy.lib.format import open_memmap

    if len(vectors) == 0:
        np.save(path, np.zeros((0, dim), dtype=np.float32))
        return
    out = open_memmap(path, mode="w+", dtype=np.float32, shape=(len(vectors), dim))
    reserve_space(path)
    for start in range(0, len(vectors), 65536):
        out[start : start + 65536] = vectors[start : start + 65536]
    out.flush()
    del out


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
    from index.storage.folder import BUILD

    for path in index_dir.iterdir():
        if path.name == keep:
            continue
        if BUILD.match(path.name) and path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        elif path.name.startswith(f".{POINTER}.") or (
            path.name.startswith(".verified-") and not path.name.startswith(f".verified-{keep}.")
        ):
            path.unlink(missing_ok=True)


def verify(build: Path, manifest: dict[str, Any]) -> None:
    """Check every file against the manifest before any parser sees it (faiss loads flipped bytes silently).

    A build up to FULL_CHECK_BYTES is hashed in full at every load. A larger one is hashed in full at its
    first load; later loads re-hash only files whose size, mtime, ctime or inode changed (index.stamps).
    """
    from index.storage.stamps import hashes

    checksums = manifest.get("checksums") or {}
    if not checksums:
        raise IndexCorrupt(f"index is corrupt ({build / 'manifest.json'} lists no checksums)")
    files = {rel: build / rel for rel in checksums}
    size = sum(p.stat().st_size for p in files.values() if p.is_file())
    cache = build.parent / f".verified-{build.name}.json" if size > FULL_CHECK_BYTES else None
    found = hashes(files, cache)
    for rel, expected in checksums.items():
        if found[rel] != expected:
            raise IndexCorrupt(
                f"index is corrupt ({files[rel]}: expected sha256 {expected[:12]}, found {found[rel][:12]})"
            )


def load(index_dir: Path, upgrade: bool = False) -> Index:
    """Load and verify the live build; raises IndexMissing or IndexCorrupt with what was wrong.

    With upgrade, a build of an older format in UPGRADABLE_VERSIONS loads too (without what it lacks), for
    reusing its vectors; everything else reads the current format only.
    """
    attempts = 3
    while True:
        build = current_build(index_dir)
        if build is None:
            raise IndexMissing(f"no index in {shown_path(index_dir)}; run `rag ingest`")
        try:
            return _load_build(build, upgrade)
        except Exception:
            attempts -= 1
            if attempts == 0 or current_build(index_dir) == build:
                raise
            # A writer switched builds (and pruned this one) while it was being read: read the new one.


def _load_build(build: Path, upgrade: bool = False) -> Index:
    try:
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"index is corrupt ({build / 'manifest.json'}: {exc})") from None
    version = manifest.get("format_version")
    if version != FORMAT_VERSION and not (upgrade and version in UPGRADABLE_VERSIONS):
        raise IndexCorrupt(f"index format {version} is not {FORMAT_VERSION}")
    verify(build, manifest)
    lacking = UPGRADABLE_VERSIONS.get(version, ()) if version != FORMAT_VERSION else ()
    parts = [f"{s['folder']}/" for s in manifest.get("shards") or []] or [""]
    required = [p + name for p in parts for name in REQUIRED_FILES if name != summaries.FILE or p == ""]
    required += [summaries.FILE] if parts != [""] else []
    missing = [name for name in required if name not in manifest["checksums"] and name not in lacking]
    if missing:
        raise IndexCorrupt(f"index is corrupt ({build}: {', '.join(missing)} missing)")
    try:
        return _read_files(build, manifest)
    except (OSError, ValueError, RuntimeError) as exc:  # checksummed yet unreadable: a bug or a foreign build
        raise IndexCorrupt(f"index is corrupt ({build}: {exc})") from None


def _read_files(build: Path, manifest: dict[str, Any]) -> Index:
    if manifest.get("shards"):
        from index.storage.shards import read

        return read(build, manifest)
    import faiss

    from index.storage import dense
    from index.storage.postings import Postings

    # Small integer tables are read into memory (a memory map costs a Python call per element read);
    # the sentence vectors, the large file, stay mapped.
    offsets = np.load(build / "chunks.offsets.npy", allow_pickle=False)
    lines = np.load(build / "searchable.npy", allow_pickle=False)
    chunks = ChunkTable(build / "chunks.jsonl", offsets[:-1], offsets[1:])
    searchable = ChunkTable(build / "chunks.jsonl", offsets[lines], offsets[lines + 1])
    sentences = np.load(build / "sentences.npy", allow_pickle=False)
    ptr = np.load(build / "chunk_sentences.ptr.npy", allow_pickle=False)
    rows = np.load(build / "chunk_sentences.npy", allow_pickle=False)
    index = faiss.read_index(str(build / "dense.faiss"))
    dense.configure(index, manifest.get("dense_index") or {})
    sentence_vectors = load_array(build / "sentence_vectors.npy")
    if index.ntotal != len(searchable) or len(sentence_vectors) != len(sentences) or len(ptr) != len(searchable) + 1:
        raise IndexCorrupt(f"index is corrupt ({build}: vector counts do not match chunks.jsonl)")
    bm25 = Postings(build / "bm25")
    summary_rows = (
        summaries.load(build / summaries.FILE, len(sentences)) if summaries.FILE in manifest["checksums"] else {}
    )
    return Index(
        build,
        Manifest.from_json(manifest),
        chunks,
        searchable,
        sentences,
        ptr,
        rows,
        index,
        sentence_vectors,
        bm25,
        summary_rows,
    )


def load_array(path: Path) -> np.ndarray:
    """A saved array, memory-mapped (read-only) unless it is empty (an empty file cannot be mapped)."""
    try:  # a plain ndarray view of the mapping: indexing a np.memmap costs microseconds per row
        return np.load(path, mmap_mode="r", allow_pickle=False).view(np.ndarray)
    except ValueError:
        return np.load(path, allow_pickle=False)


def chunk_from_json(row: dict[str, Any]) -> Chunk:
    row["sentences"] = tuple(tuple(s) for s in row.get("sentences", ()))
    return Chunk(**row)
