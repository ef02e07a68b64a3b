"""Changes to a corpus folder, made while it is served: add an upload under a safe name, remove a document to a
trash folder and restore it, and the index update each change needs.

The UI's Documents tab calls these (ui/documents.py only lists and renders). Each change is followed by
`reload`, a new Assistant over the updated index that the caller swaps in. The trash is `.trash/` inside the
corpus (ingest skips hidden folders) and holds the last removed document only.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from rag.errors import BadInput

UPLOAD_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf", ".docx")  # what index.load.documents can read
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
TRASH = ".trash"


def accepted_types() -> str:
    """The accepted file types in words, for messages.

    Example: accepted_types() -> ".txt, .md, .html, .htm, .pdf or .docx"
    """
    return ", ".join(UPLOAD_SUFFIXES[:-1]) + " or " + UPLOAD_SUFFIXES[-1]


def safe_name(name: str) -> str:
    """A corpus file name made of letters, digits, '.', '_' and '-', keeping a lower-cased suffix.

    Example: safe_name("../../My Notes (v2).MD") -> "My-Notes-v2.md"
    """
    path = Path(name.replace("\\", "/")).name
    stem, suffix = os.path.splitext(path)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip(".-_")[:80] or "document"
    return stem + suffix.lower()


def check_upload(name: str, raw: bytes) -> None:
    """BadInput unless the upload is a non-empty text file of a supported type within the size limit."""
    suffix = os.path.splitext(name)[1].lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise BadInput(f"{name}: only {', '.join(UPLOAD_SUFFIXES)} files can be added here")
    if len(raw) > MAX_UPLOAD_BYTES:
        raise BadInput(f"{name} is {len(raw) // 1024} KiB; the limit is {MAX_UPLOAD_BYTES // 1024} KiB")
    if not raw.strip():
        raise BadInput(f"{name} is empty")
    if suffix != ".pdf" and b"\x00" in raw and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise BadInput(f"{name} is not a text file (it holds binary data)")


def save_upload(
    corpus_dir: Path, name: str, raw: bytes, index_dir: Path | None = None, added: dict[str, str] | None = None
) -> Path:
    """Write an upload into the corpus under a safe, unused name; the file appears whole or not at all.

    The file is loaded as ingest would load it first, so one that could not be indexed never enters the corpus,
    and one whose text is already indexed (in `index_dir`) or was added in this batch (`added`: text sha256 ->
    corpus name, filled here) is refused as "already indexed as X", whatever its format.
    """
    import tempfile

    from index.load.documents import load_document
    from index.storage.duplicates import indexed_as

    check_upload(name, raw)
    corpus_dir = Path(corpus_dir)
    same = same_content(corpus_dir, raw)
    if same is not None:
        raise BadInput(f"{name} is already in the corpus as {same}; it was not added again")
    try:
        with tempfile.TemporaryDirectory() as scratch:
            trial = Path(scratch) / safe_name(name)
            trial.write_bytes(raw)
            text_sha256 = load_document(trial, Path(scratch)).text_sha256
    except ValueError as exc:
        raise BadInput(f"{name} cannot be indexed: {exc}") from None
    except OSError as exc:
        raise BadInput(f"{name} cannot be indexed: {write_failure(exc)}") from None
    source = (indexed_as(text_sha256, Path(index_dir)) if index_dir is not None else None) or (added or {}).get(
        text_sha256
    )
    if source is not None:
        raise BadInput(f"{name} is already indexed as {source} (same text); it was not added again")
    target = corpus_dir / safe_name(name)
    n = 2
    while target.exists() or target.name == "README.md":  # README.md at the top is the corpus's own note
        stem, suffix = os.path.splitext(safe_name(name))
        target = corpus_dir / f"{stem}-{n}{suffix}"
        n += 1
    tmp = corpus_dir / f".upload-{os.getpid()}-{time.monotonic_ns()}"  # hidden: ingest skips it
    try:
        tmp.write_bytes(raw)
        os.replace(tmp, target)
    except OSError as exc:  # a full disk leaves a partial temporary: removed, and no server path shown
        tmp.unlink(missing_ok=True)
        raise BadInput(f"{name} could not be saved: {write_failure(exc)}") from None
    if added is not None:
        added[text_sha256] = target.relative_to(corpus_dir).as_posix()
    return target


def write_failure(exc: OSError) -> str:
    """Why a write failed, in words and without a server path: the disk named when it is full.

    Example: write_failure(OSError(errno.ENOSPC, "No space left on device", "/srv/x")) -> "the disk is full (...)"
    """
    from index.errors import DISK_FULL, is_disk_full

    if is_disk_full(exc):
        return f"{DISK_FULL}; free some space, then retry"
    return exc.strerror or type(exc).__name__


def same_content(corpus_dir: Path, raw: bytes) -> str | None:
    """The corpus file (relative name) holding exactly these bytes, if any: a duplicate upload is refused."""
    from index.load.documents import corpus_files

    root = Path(corpus_dir)
    for path in corpus_files(root):
        if path.stat().st_size == len(raw) and path.read_bytes() == raw:
            return path.relative_to(root).as_posix()
    return None


def to_trash(corpus_dir: Path, path: Path) -> Path:
    """Move a corpus file into the trash, emptying it first (it keeps the last removal only); returns its new path."""
    import shutil

    trash = Path(corpus_dir) / TRASH
    shutil.rmtree(trash, ignore_errors=True)
    rel = path.resolve().relative_to(Path(corpus_dir).resolve())
    target = trash / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, target)
    return target


def in_trash(corpus_dir: Path) -> str | None:
    """The corpus name of the document in the trash (what an undo restores), or None."""
    trash = Path(corpus_dir) / TRASH
    found = [p for p in trash.rglob("*") if p.is_file()] if trash.is_dir() else []
    return found[0].relative_to(trash).as_posix() if found else None


def restore(corpus_dir: Path) -> Path:
    """Put the document in the trash back where it was; BadInput if there is none or its name is taken."""
    source = in_trash(corpus_dir)
    if source is None:
        raise BadInput("Nothing to undo: the trash is empty.")
    target = Path(corpus_dir) / source
    if target.exists():
        raise BadInput(f"{source} exists again in the corpus; remove or rename it before restoring the old one")
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(Path(corpus_dir) / TRASH / source, target)
    return target


def indexed_source(assistant, source: str) -> Path:
    """The corpus path of an indexed document, or BadInput (never a path outside the corpus)."""
    if not source:
        raise BadInput("Select a document to remove.")
    listed = assistant.index.manifest.documents.get(source) if isinstance(source, str) else None
    root = Path(assistant.corpus_dir).resolve()
    path = (root / source).resolve() if listed else root
    if not listed or not path.is_relative_to(root) or not path.is_file():
        raise BadInput(f"{source!r} is not an indexed document")
    return root / source  # the link itself when it is one: removing a document never deletes a link's target


def reload(assistant, progress: bool = True):
    """A new Assistant over the same corpus, index folder, settings and loaded model; updates the index first.

    Raises DiskFull rather than answering from the old build, so the caller rolls the corpus change back.
    """
    from rag.assistant import Assistant

    new = Assistant(
        assistant.corpus_dir,
        assistant.index_dir,
        assistant.settings,
        embedder=assistant.embedder,
        log=assistant.log,
        progress=progress,
        fallback=False,  # a change that cannot be indexed raises, so the caller undoes it
    )
    if assistant.on_ray_at is not None:  # `rag serve --ray`: the new build's shards get actors of their own
        new.on_ray(*assistant.on_ray_at)
    return new
