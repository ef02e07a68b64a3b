"""Ingest on Ray (an optional extra) builds what a local ingest builds; the plain path never imports Ray."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys

import numpy as np
import pytest

from index.errors import IngestError
from index.storage.build import ingest
from tests.conftest import CORPUS, ROOT, subprocess_env

SQUAD_DEV = ROOT / "eval" / "benchmarks" / "squad-dev"
QUIET = {"progress": False, "log": lambda _: None}
needs_ray = pytest.mark.skipif(
    importlib.util.find_spec("ray") is None, reason="Ray is not installed: pip install -e '.[ray]' (make test does)"
)


def test_asking_and_a_plain_ingest_never_import_ray(report_index):
    code = (
        "import sys, rag.cli\n"
        f"ask = rag.cli.main(['ask', '--corpus', {str(CORPUS)!r}, '--index', {str(report_index)!r}, 'Who chaired?'])\n"
        f"ingest = rag.cli.main(['ingest', '--corpus', {str(CORPUS)!r}, '--index', {str(report_index)!r}])\n"
        "print('RAY', sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.')), ask, ingest)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env(), cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "RAY [] 0 0" in out.stdout


def test_without_the_extra_ray_ingest_says_how_to_install_it(monkeypatch):
    from index.storage import distributed

    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` meets when the extra is not installed
    with pytest.raises(IngestError, match=r"pip install -e '\.\[ray\]'"):
        distributed.connect()


@pytest.fixture(scope="module")
def ray_cluster():
    """A local Ray instance (two CPUs, no dashboard, on 127.0.0.1) for this module, shut down after it."""
    from index.storage.distributed import connect

    ray = connect()
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def squad_dev_local(tmp_path_factory, embedder):
    path = tmp_path_factory.mktemp("local") / "squad-dev"
    ingest(SQUAD_DEV / "corpus", path, embedder=embedder, **QUIET)
    return path


def _same_build(local, on_ray) -> None:
    """Same chunks (ids and texts, aliases too) and the same vectors up to cosine 0.999."""
    from index.storage.store import load

    a, b = load(local), load(on_ray)
    assert [(c.id, c.text) for c in a.chunks] == [(c.id, c.text) for c in b.chunks]
    va, vb = a.dense.reconstruct_n(0, a.dense.ntotal), b.dense.reconstruct_n(0, b.dense.ntotal)
    assert float(np.min(np.sum(va * vb, axis=1))) >= 0.999
    sa, sb = np.asarray(a.sentence_vectors), np.asarray(b.sentence_vectors)
    assert sa.shape == sb.shape and float(np.min(np.sum(sa * sb, axis=1))) >= 0.999


def _same_answers(corpus, local, on_ray, gold, embedder) -> int:
    from eval.harness import load_gold
    from rag.assistant import Assistant

    one = Assistant(corpus, local, embedder=embedder, log=lambda _: None)
    other = Assistant(corpus, on_ray, embedder=embedder, log=lambda _: None)
    rows = load_gold(gold)
    for row in rows:
        answers = [a.ask(row["question"]).to_json(row["id"]) for a in (one, other)]
        for answer in answers:
            answer.pop("timings_ms")
        assert answers[0] == answers[1], row["question"]
    return len(rows)


@pytest.mark.slow
@needs_ray
def test_a_ray_build_of_the_report_matches_the_local_one(ray_cluster, report_index, tmp_path, embedder):
    from index.storage.distributed import RayOptions

    on_ray = tmp_path / "ray"
    report = ingest(CORPUS, on_ray, embedder=embedder, ray=RayOptions(), **QUIET)
    assert report.built
    _same_build(report_index, on_ray)
    assert _same_answers(CORPUS, report_index, on_ray, ROOT / "eval" / "gold.jsonl", embedder) == 171


@pytest.mark.slow
@needs_ray
def test_a_ray_build_of_squad_dev_matches_the_local_one(ray_cluster, squad_dev_local, tmp_path, embedder):
    from index.storage.distributed import RayOptions

    on_ray = tmp_path / "ray"
    report = ingest(SQUAD_DEV / "corpus", on_ray, embedder=embedder, ray=RayOptions(), shards=3, **QUIET)
    assert report.built
    _same_build(squad_dev_local, on_ray)
    assert _same_answers(SQUAD_DEV / "corpus", squad_dev_local, on_ray, SQUAD_DEV / "gold.jsonl", embedder) == 150


@pytest.mark.slow
@needs_ray
def test_a_killed_ray_ingest_continues_from_its_finished_batches(ray_cluster, squad_dev_local, tmp_path, embedder):
    from index.storage import distributed
    from index.storage.distributed import RayOptions, RayRun

    calls = []
    real = RayRun.embed

    def dies_after_two(self, embedder, texts, batches):
        for n, done in enumerate(real(self, embedder, texts, batches)):
            if n == 2:
                raise KeyboardInterrupt  # as a kill: the batches written so far stay on disk
            calls.append(len(done[0]))
            yield done

    corpus = tmp_path / "corpus"
    shutil.copytree(SQUAD_DEV / "corpus", corpus)
    index = tmp_path / "index"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(distributed.RayRun, "embed", dies_after_two)
        patch.setattr("index.encode.resumable.FLUSH_SECONDS", 0.0)  # every batch on disk as it lands: an exact count
        with pytest.raises(KeyboardInterrupt):
            ingest(corpus, index, embedder=embedder, ray=RayOptions(), **QUIET)
    logged = []
    report = ingest(corpus, index, embedder=embedder, ray=RayOptions(), progress=False, log=logged.append)
    assert report.built and sum(calls) == 128
    assert "resuming an interrupted ingest: 128 text(s) were already embedded" in logged
    _same_build(squad_dev_local, index)
