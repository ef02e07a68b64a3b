"""Run a document extractor in a child process with a timeout and a memory cap.

A hostile file can make a parser loop or allocate without bound; in a child process that costs one
skipped file, not the ingest. The child prints one JSON object; the parent turns every failure into
a ValueError whose message is the one-line reason the ingest reports.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])  # the project root, above index/
# -I keeps the user's environment out of the child; the project root is put back so it can import index.
_BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from index.load.sandbox import _child; _child(sys.argv[2:])"


def run_capped(kind: str, path: str, what: str, timeout_s: float, memory_bytes: int) -> dict:
    """Extract `path` with the extractor named `kind` in a capped child; its JSON result, or ValueError why not.

    Example: run_capped("html", "page.html", "HTML parser", 60, 2**30) -> {"ok": True, "text": ..., ...}
    """
    command = [sys.executable, "-I", "-c", _BOOT, _ROOT, kind, path, str(memory_bytes), str(int(timeout_s) + 1)]
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        limit = f"{timeout_s:g} s"
        raise ValueError(f"{what} did not finish within {limit} (a malformed file can make it loop)") from None
    try:
        result = json.loads(done.stdout)
    except ValueError:
        result = None
    if not isinstance(result, dict):
        mib = memory_bytes // (1024 * 1024)
        err = done.stderr.decode("utf-8", "replace")
        if "MemoryError" in err:
            raise ValueError(f"{what} ran out of its {mib} MiB memory cap") from None
        last = (err.strip().splitlines() or [f"exit status {done.returncode}"])[-1][:200]
        raise ValueError(f"{what} failed ({last}; memory cap {mib} MiB)") from None
    if not result.get("ok"):
        raise ValueError(str(result.get("reason")))
    return result


def _extractor(kind: str):
    if kind == "pdf":
        from index.load.pdf_text import extract

        return extract
    if kind == "html":
        from index.load.html_text import extract

        return extract
    if kind == "docx":
        from index.load.docx_text import extract

        return extract
    raise ValueError(f"no extractor for {kind!r}")


def _child(argv: list[str]) -> None:
    """Cap memory and CPU time first, then extract and print one JSON object."""
    import resource

    kind, path, memory, cpu = argv[0], argv[1], int(argv[2]), int(argv[3])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    sys.stdout.write(json.dumps(_extractor(kind)(path)))
