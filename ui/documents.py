"""The Documents tab's work: list what is indexed, add an uploaded .txt/.md under a safe name, remove one.

Each change to the corpus is followed by an index update through `rag.assistant.Assistant` (which
calls `index.build.ingest` when the corpus changed); the caller swaps the new Assistant in.
"""

from __future__ import annotations

import html
import os
import re
import time
from collections import Counter
from pathlib import Path

from rag.errors import BadInput

UPLOAD_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf")  # what index.documents can read
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


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


def save_upload(corpus_dir: Path, name: str, raw: bytes) -> Path:
    """Write an upload into the corpus under a safe, unused name; the file appears whole or not at all.

    The file is loaded as ingest would load it first, so one that could not be indexed never enters the corpus.
    """
    import tempfile

    from index.documents import load_document

    check_upload(name, raw)
    with tempfile.TemporaryDirectory() as scratch:
        trial = Path(scratch) / safe_name(name)
        trial.write_bytes(raw)
        try:
            load_document(trial, Path(scratch))
        except (ValueError, OSError) as exc:
            raise BadInput(f"{name} cannot be indexed: {exc}") from None
    corpus_dir = Path(corpus_dir)
    target = corpus_dir / safe_name(name)
    n = 2
    while target.exists() or target.name == "README.md":  # README.md at the top is the corpus's own note
        stem, suffix = os.path.splitext(safe_name(name))
        target = corpus_dir / f"{stem}-{n}{suffix}"
        n += 1
    tmp = corpus_dir / f".upload-{os.getpid()}-{time.monotonic_ns()}"  # hidden: ingest skips it
    tmp.write_bytes(raw)
    os.replace(tmp, target)
    return target


def indexed_source(assistant, source: str) -> Path:
    """The corpus path of an indexed document, or BadInput (never a path outside the corpus)."""
    listed = (assistant.index.manifest.get("documents") or {}).get(source) if isinstance(source, str) else None
    root = Path(assistant.corpus_dir).resolve()
    path = (root / source).resolve() if listed else root
    if not listed or not path.is_relative_to(root) or not path.is_file():
        raise BadInput(f"{source!r} is not an indexed document")
    return root / source  # the link itself when it is one: removing a document never deletes a link's target


def reload(assistant, progress: bool = True):
    """A new Assistant over the same corpus, index folder, settings and loaded model; updates the index first."""
    from rag.assistant import Assistant

    return Assistant(
        assistant.corpus_dir,
        assistant.index_dir,
        assistant.settings,
        embedder=assistant.embedder,
        log=assistant.log,
        progress=progress,
    )


def documents(assistant) -> list[dict[str, object]]:
    """The indexed documents: source, title, chunk count, size on disk and when the index was built."""
    manifest = assistant.index.manifest
    chunks = Counter(c.source for c in assistant.index.chunks if c.duplicate_of is None)
    rows = []
    for source, info in sorted((manifest.get("documents") or {}).items()):
        path = Path(assistant.corpus_dir) / source
        rows.append(
            {
                "source": source,
                "title": info.get("title", ""),
                "chunks": chunks.get(source, 0),
                "bytes": path.stat().st_size if path.is_file() else None,
                "indexed": manifest.get("built_at", ""),
            }
        )
    return rows


def _size(n: object) -> str:
    if not isinstance(n, int):
        return "missing"
    return f"{n} B" if n < 1024 else f"{n / 1024:.1f} KiB"


def documents_html(rows: list[dict[str, object]]) -> str:
    """The documents as an escaped HTML table."""
    if not rows:
        return '<div class="sources-empty">No documents are indexed.</div>'
    body = "".join(
        f"<tr><td>{html.escape(str(r['source']))}</td><td>{html.escape(str(r['title']))}</td>"
        f"<td>{r['chunks']}</td><td>{_size(r['bytes'])}</td><td>{html.escape(str(r['indexed']))}</td></tr>"
        for r in rows
    )
    head = "<tr><th>document</th><th>title</th><th>chunks</th><th>size</th><th>indexed</th></tr>"
    return f'<table class="documents" id="documents-table">{head}{body}</table>'
