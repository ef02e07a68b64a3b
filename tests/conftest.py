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

USERS = ("corpus", "index/data")  # the user's documents and index in the checkout: no test writes there


def files_under(root: Path, folders: tuple[str, ...] = USERS) -> dict[str, tuple[int, int]]:
    """Every file in those folders of `root` with its size and modification time, to tell whether any changed.

    Example: files_under(ROOT) -> {"corpus/report.txt": (8421, 1764558000123456789)}
    """
    found = {}
    for folder in folders:
        for path in sorted((root / folder).rglob("*")) if (root / folder).is_dir() else []:
            if path.is_file():
                stat = path.stat()
                found[path.relative_to(root).as_posix()] = (stat.st_size, stat.st_mtime_ns)
    return found


@pytest.fixture(scope="session", autouse=True)
def users_folders_untouched():
    """The run ends in an error if any test added, changed or removed a file in the checkout's corpus/ or
    index/data (issue #17: documents a user uploads there must never meet the tests, nor the tests them)."""
    before = files_under(ROOT)
    yield
    after = files_under(ROOT)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert not changed, f"the tests changed the user's files: {changed[:10]}"


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
    from index.encode.embed import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def report_index(tmp_path_factory, embedder, request) -> Path:
    """A real index of the report, built once per test run with the bundled model (most of a minute: the ONNX
    export), and shared by every test that only reads it.

    Under pytest-xdist (`make check` runs two workers) the first worker to ask builds it and the others copy
    that build. With RAG_TEST_REUSE_INDEX=1 (`make check` sets it; `make test` and CI do not) a build is kept in
    .pytest_cache and reused by later runs while nothing it depends on has changed: the code under index/, the
    report, Python and the installed packages (see _build_key).
    """
    import fcntl

    from index.storage.build import ingest

    path = tmp_path_factory.mktemp("index") / "report"
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    reuse = os.environ.get("RAG_TEST_REUSE_INDEX") == "1" and request.config.cache is not None
    if worker is None and not reuse:
        ingest(CORPUS, path, embedder=embedder, progress=False, log=lambda _: None)
        return path
    if reuse:  # one folder per key; older keys' folders are left for `make clean`
        shared = request.config.cache.mkdir("report-index") / _build_key()
    else:  # the same folder for every worker of this run
        shared = tmp_path_factory.getbasetemp().parent / "report-index"
    shared.mkdir(parents=True, exist_ok=True)
    with (shared.parent / f"{shared.name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not (shared / "done").exists():
            shutil.rmtree(shared / "index", ignore_errors=True)  # an interrupted build's remains
            ingest(CORPUS, shared / "index", embedder=embedder, progress=False, log=lambda _: None)
            (shared / "done").touch()
    shutil.copytree(shared / "index", path)  # this process's own copy: answering writes file-hash caches into it
    _reuse_export(path, embedder.model_id)
    return path


def _build_key() -> str:
    """What the report's index depends on: index/'s code (which imports nothing from rag/), the report, Python
    and every installed package's version (the model ships as one); a change to any of them means a new build."""
    import hashlib
    from importlib import metadata

    digest = hashlib.sha256(sys.version.encode())
    for name, file in [(p.relative_to(ROOT).as_posix(), p) for p in sorted((ROOT / "index").rglob("*.py"))]:
        digest.update(name.encode() + b"\0" + file.read_bytes())
    digest.update(REPORT.read_bytes())
    installed = sorted(f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions())
    digest.update("\n".join(installed).encode())
    return digest.hexdigest()[:16]


def _reuse_export(index_dir: Path, model: str) -> None:
    """Give this process the ONNX export of a build another worker (or an earlier run) made, as if it had exported
    it itself: later real-model ingests in this process reuse it, as they do when this process built the index."""
    from index.encode import onnx_export

    if model not in onnx_export._EXPORTED:
        found = onnx_export._from_live_build(index_dir, model)
        if found is not None:
            onnx_export._EXPORTED[model] = found


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
