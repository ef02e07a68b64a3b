"""Errors the ingestion side raises; the CLI turns them into one-line messages."""

import errno
import os


class UserError(Exception):
    """A problem the user can fix; the message says how. The CLI prints it on one line and exits 2."""


class IngestError(UserError):
    """A problem with the corpus or the index folder (bad folder, bad setting, a full disk)."""


class IndexCorrupt(IngestError):
    """An index file does not match the checksum its manifest recorded."""


class IndexMissing(IngestError):
    """There is no complete index build in the folder."""


class DiskFull(IngestError):
    """The disk (or the user's quota) ran out of space while writing; the last complete build stays live."""


DISK_FULL = "the disk is full (no space left on device)"
_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
_FULL_WORDS = tuple(os.strerror(n) for n in _FULL_ERRNOS)  # how faiss and torch word it in a RuntimeError


def is_disk_full(exc: BaseException | None) -> bool:
    """True when exc, or an exception it was raised from, is an out-of-space error."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS:
            return True
        if isinstance(exc, RuntimeError) and any(words in str(exc) for words in _FULL_WORDS):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def disk_full(what: str) -> DiskFull:
    """The one-line error for a full disk, saying what could not be written and that nothing was broken."""
    return DiskFull(f"{DISK_FULL}: {what} could not be written; free some space, then retry")
