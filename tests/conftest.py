"""Shared fixtures: the real bundled model loaded once, a real index of the report, and a network guard."""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REPORT_NAME = "2025-high-level-policy-dialogue-east-asia.txt"


def _own_corpus() -> Path:
    """A private copy of the committed report as the tests' corpus: documents a user adds to corpus/ (or an
    index they build in index/data) never change what the tests see, and no test writes there."""
    root = Path(tempfile.mkdtemp(prefix="rag-tests-"))
    atexit.register(shutil.rmtree, root, True)
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(ROOT / "corpus" / REPORT_NAME, corpus / REPORT_NAME)
    return corpus


CORPUS = _own_corpus()
REPORT = CORPUS / REPORT_NAME
INDEX = CORPUS.parent / "index" / "main"  # where `rag` run by a test builds its index unless given --index
CORPUS_COMMANDS = ("ask", "ingest", "eval", "serve")
NETGUARD = Path(__file__).resolve().parent / "netguard"
RAG = Path(sys.executable).parent / "rag"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"


class NetworkUsed(AssertionError):
    pass


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any connection to a non-loopback address fails the test that made it."""
    real = socket.socket.connect

    def guarded(self, address):
        if isinstance(address, tuple) and not (
            str(address[0]) in ("localhost", "::1") or str(address[0]).startswith(("127.", "::ffff:127."))
        ):
            raise NetworkUsed(f"test tried to reach {address!r}; everything must run offline")
        return real(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


def subprocess_env() -> dict[str, str]:
    """Environment for child processes: offline, with the same network guard installed at start-up."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1")
    # ROOT too: the `rag` script imports the installed package, which is another checkout's code in a worktree
    env["PYTHONPATH"] = os.pathsep.join([str(NETGUARD), str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def own_folders(args: tuple[str, ...]) -> list[str]:
    """A command's arguments with the tests' own --corpus and --index added where the test gave none.

    Example: ("ask", "Who?") -> ["ask", "--corpus", str(CORPUS), "--index", str(INDEX), "Who?"]
    """
    if not args or args[0] not in CORPUS_COMMANDS:
        return list(args)
    # `rag eval --squad/--beir` makes its own corpus from the dataset: the report's copy must not receive it.
    makes_own = "--squad" in args or "--beir" in args
    extra = [] if "--corpus" in args or makes_own else ["--corpus", str(CORPUS)]
    extra += [] if "--index" in args else ["--index", str(INDEX)]
    return [args[0], *extra, *args[1:]]


def run_rag(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the installed `rag` command as a user would, on the tests' own corpus and index folders."""
    args = tuple(own_folders(args))
    return subprocess.run(
        [str(RAG), *args], capture_output=True, text=True, env=subprocess_env(), timeout=timeout, cwd=ROOT
    )


@pytest.fixture(scope="session")
def embedder():
    from index.embed import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def report_index(tmp_path_factory, embedder) -> Path:
    """A real index of the report, built once per test run with the bundled model."""
    from index.build import ingest

    path = tmp_path_factory.mktemp("index") / "report"
    ingest(CORPUS, path, embedder=embedder, progress=False, log=lambda _: None)
    return path


@pytest.fixture(scope="session")
def assistant(report_index, embedder):
    from rag.assistant import Assistant

    return Assistant(CORPUS, report_index, embedder=embedder, log=lambda _: None)


class CountingEmbedder:
    """An embedder wrapped to count how many texts it was asked to embed."""

    def __init__(self, inner) -> None:
        self.inner, self.model_id, self.dim, self.calls = inner, inner.model_id, inner.dim, 0

    def embed(self, texts):
        self.calls += len(texts)
        return self.inner.embed(texts)


def flip_middle_bit(path: Path) -> None:
    """The smallest damage to an index file, which its checksum must still catch. The file is replaced, not
    edited in place, so a hard-linked original it shares an inode with stays intact."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.unlink()
    path.write_bytes(bytes(data))
