"""Errors the ingestion side raises; the CLI turns them into one-line messages."""


class IngestError(Exception):
    """A problem the user can fix (bad folder, bad setting); the message says how."""


class IndexCorrupt(IngestError):
    """An index file does not match the checksum its manifest recorded."""


class IndexMissing(IngestError):
    """There is no complete index build in the folder."""
