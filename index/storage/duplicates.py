"""Is this file's text already in the index? For refusing a second copy of a document, whatever its format."""

from __future__ import annotations

from pathlib import Path


def indexed_as(text_sha256: str, index_dir: Path) -> str | None:
    """The source of the indexed document whose extracted text has this sha256, or None.

    Example: indexed_as(sha256 of the report's text, index) -> "2025-high-level-policy-dialogue-east-asia.txt"
    """
    from index.storage.store import read_manifest

    documents = (read_manifest(index_dir) or {}).get("documents") or {}
    for source, entry in documents.items():
        if isinstance(entry, dict) and entry.get("text_sha256") == text_sha256:
            return source
    return None


def already_indexed(path: Path, index_dir: Path) -> str | None:
    """Why a candidate file (an upload, say) need not be added: "already indexed as X", or None when it is new.

    The file is loaded as an ingest would load it (raising ValueError with the reason when it cannot be), so a
    PDF of a document indexed as .txt, or a renamed copy, is recognised by its text, not its bytes.
    """
    from index.load.documents import load_document

    doc = load_document(path, path.parent)
    source = indexed_as(doc.text_sha256, index_dir)
    return f"already indexed as {source}" if source is not None else None
