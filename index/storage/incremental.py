"""Incremental ingest: reuse the live build's vectors for text that has not changed.

Vectors are keyed by the exact text that was embedded (a chunk's embed_text, a sentence), so an
unchanged file costs nothing to re-index and a new file costs only its own text. A changed model
or chunker setting reuses nothing (its vectors or texts would differ).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np


def reusable_vectors(index_dir: Path, model: str, chunker: Any, dim: int) -> dict[str, np.ndarray]:
    """text -> vector from the live build, or {} when it was built differently or cannot be read."""
    from index.errors import IngestError
    from index.storage.store import load, read_manifest

    manifest = read_manifest(index_dir)
    if not manifest or manifest.get("model") != model or manifest.get("chunker") != dataclasses.asdict(chunker):
        return {}
    try:
        index = load(index_dir, upgrade=True)  # a build of an older format still holds good vectors
    except (IngestError, OSError, ValueError):
        return {}
    cache: dict[str, np.ndarray] = {}
    if index.dense.d != dim:
        return {}  # vectors of another dimension cannot be reused, whatever the manifest's model id says
    if index.dense.ntotal:
        chunk_vectors = index.dense.reconstruct_n(0, index.dense.ntotal)
        for chunk, vector in zip(index.searchable, chunk_vectors, strict=True):
            cache[chunk.embed_text()] = vector
    for (row, start, end), vector in zip(index.sentences, index.sentence_vectors, strict=True):
        cache.setdefault(index.searchable[row].sentence_text(start, end), vector)
    return cache


def describe_changes(old_files: dict[str, str], new_files: dict[str, str], chunks_per_file: dict[str, int]) -> str:
    """What changed since the last build, per file.

    Example: describe_changes({"a": "1", "b": "2"}, {"a": "1", "c": "3"}, {"a": 4, "c": 42})
             -> "1 unchanged, 1 added (42 chunks), 0 changed, 1 removed"
    """
    added = sorted(new_files.keys() - old_files.keys())
    removed = sorted(old_files.keys() - new_files.keys())
    changed = sorted(k for k in new_files.keys() & old_files.keys() if new_files[k] != old_files[k])
    unchanged = len(new_files) - len(added) - len(changed)
    parts = [f"{unchanged} unchanged", f"{len(added)} added ({sum(chunks_per_file.get(f, 0) for f in added)} chunks)"]
    parts.append(
        f"{len(changed)} changed" + (f" ({sum(chunks_per_file.get(f, 0) for f in changed)} chunks)" if changed else "")
    )
    parts.append(f"{len(removed)} removed")
    return ", ".join(parts)
