"""Which folder may hold an index: one the index created (marked), an empty or new one, or an older build.

The index prunes what it wrote; pointed at a user's folder by mistake, it must refuse instead of touching it.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from index.errors import IngestError
from index.text.cleaning import shown_path

MARKER = ".rag-index"
BUILD = re.compile(r"^(?:\.tmp-)?build-\d{8}-\d{6}-\d+-\d+$")  # write_build's names, and nothing else
_OURS = re.compile(
    r"^(?:CURRENT|\.rag-index|\.lock|\.corpus-hashes\.json|\.embedding|\.onnx-export-\d+|\.CURRENT\.\d+|\.verified-.+)$"
)


def check_index_dir(index_dir: Path, corpus_dir: Path | None = None) -> None:
    """IngestError saying why index_dir cannot hold an index (a file, the corpus itself, a user's folder)."""
    if index_dir.exists() and not index_dir.is_dir():
        raise IngestError(f"--index {shown_path(index_dir)} is a file, not a folder; pass a folder for the index")
    if corpus_dir is not None and corpus_dir.is_dir():
        real_index, real_corpus = index_dir.resolve(), corpus_dir.resolve()
        if real_index == real_corpus or real_index.is_relative_to(real_corpus):
            raise IngestError(
                f"--index {shown_path(index_dir)} is inside the corpus {shown_path(corpus_dir)}; its files would be "
                "read as documents. Pass an index folder outside the corpus"
            )
    if index_dir.is_dir() and not (index_dir / MARKER).exists():
        foreign = sorted(p.name for p in index_dir.iterdir() if not (_OURS.match(p.name) or BUILD.match(p.name)))
        if foreign:
            shown = ", ".join(repr(name) for name in foreign[:3]) + (", ..." if len(foreign) > 3 else "")
            raise IngestError(
                f"--index {shown_path(index_dir)} is a folder that is not a rag index (it holds {shown}); "
                "pass an empty or new folder"
            )


def claim_index_dir(index_dir: Path, corpus_dir: Path | None = None) -> None:
    """Create or adopt index_dir as an index folder and mark it, after check_index_dir."""
    check_index_dir(index_dir, corpus_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    for leftover in index_dir.glob(".onnx-export-*"):  # a killed export's temporaries (a live writer's stay)
        if not _alive(int(leftover.name.rsplit("-", 1)[1])):
            shutil.rmtree(leftover, ignore_errors=True)
    marker = index_dir / MARKER
    if not marker.exists():
        marker.write_text("This folder is a rag index; rag prunes only the builds it wrote here.\n", encoding="utf-8")


def _alive(pid: int) -> bool:
    """True when a process with this id exists (this one included)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
