"""File hashes remembered by file identity, as git's index does: an unchanged file is not read again.

A file counts as unchanged while its size, mtime, ctime and inode are: any write changes its ctime,
which no program can set back. Hashing a million-chunk index or a large corpus at every `rag ask`
would cost seconds; with this it costs a stat per file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from index.load.documents import file_sha256


def _identity(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def hashes(files: dict[str, Path], cache: Path | None = None) -> dict[str, str]:
    """sha256 of each file by name ("missing" when absent); with a cache file, only changed files are read."""
    known = _read(cache) if cache else {}
    out, remembered = {}, {}
    for name, path in files.items():
        try:
            identity = _identity(path)
        except OSError:
            out[name] = "missing"
            continue
        entry = known.get(name)
        if isinstance(entry, list) and entry[:4] == identity and len(entry) == 5:
            out[name] = entry[4]
        else:
            try:
                out[name] = file_sha256(path)
            except OSError:  # unreadable (permissions, a vanished link): ingest skips it with the reason
                out[name] = "unreadable"
                continue
        remembered[name] = [*identity, out[name]]
    if cache and remembered != known:
        _write(cache, remembered)
    return out


def _read(cache: Path) -> dict:
    try:
        found = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _write(cache: Path, entries: dict) -> None:
    """Best effort and atomic: a reader without write access, or a race with another, only loses the shortcut."""
    tmp = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(entries), encoding="utf-8")
        os.replace(tmp, cache)
    except OSError:
        tmp.unlink(missing_ok=True)
