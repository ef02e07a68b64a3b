"""Serving on Ray: shard actors answer exactly as the index in one process, and a dead shard is named, not fatal."""

from __future__ import annotations

import sys

import pytest

from tests.conftest import ROOT
from tests.test_ray import needs_ray, ray_cluster  # noqa: F401  (fixture)
from tests.test_shards import SQUAD_DEV, _seen, mixed_pair, squad_dev_pair  # noqa: F401  (fixtures)

REPORT_GOLD = ROOT / "eval" / "gold.jsonl"


def _answers(assistant, rows) -> list[dict]:
    out = []
    for row in rows:
        answer = assistant.ask(row["question"]).to_json(row["id"])
        answer.pop("timings_ms")
        out.append(answer)
    return out


def _pair(corpus, plain, served, embedder):
    """The index at `plain` in-process, and the one at `served` with its shards in Ray actors."""
    from rag.assistant import Assistant

    one = Assistant(corpus, plain, embedder=embedder, log=lambda _: None)
    on_ray = Assistant(corpus, served, embedder=embedder, log=lambda _: None)
    on_ray.on_ray()
    return one, on_ray


@pytest.fixture(scope="module")
def served(mixed_pair, embedder, ray_cluster):  # noqa: F811
    """The report and squad-dev's articles in three shards, one Ray actor each, beside the plain index in-process."""
    corpus, plain, sharded = mixed_pair
    one, many = _pair(corpus, plain, sharded, embedder)
    assert len(many.index.dense.pool.actors) == 3
    return one, many


@pytest.mark.slow
@needs_ray
def test_shards_served_on_ray_rank_and_answer_as_the_unsharded_index(served):
    from eval.harness import load_gold

    one, many = served
    asked = 0
    for gold in (REPORT_GOLD, SQUAD_DEV / "gold.jsonl"):
        rows = load_gold(gold)
        for row in rows:
            top = [a.retriever.search(row["question"], 10)[0] for a in (one, many)]
            assert [_seen(p) for p in top[0]] == [_seen(p) for p in top[1]], row["question"]
        assert _answers(one, rows) == _answers(many, rows)  # text, citations, passages; no notice
        asked += len(rows)
    assert asked == 171 + 150


@pytest.mark.slow
@needs_ray
def test_a_local_ray_listens_on_loopback_only(ray_cluster):  # noqa: F811
    import subprocess

    (node,) = ray_cluster.nodes()
    assert node["NodeManagerAddress"] == "127.0.0.1"
    gcs = ray_cluster.get_runtime_context().gcs_address
    ports = {f":{node['NodeManagerPort']}", f":{node['ObjectManagerPort']}", f":{gcs.rsplit(':', 1)[1]}"}
    listening = [
        line.split()[3]
        for line in subprocess.run(["ss", "-ltn"], capture_output=True, text=True).stdout.splitlines()[1:]
    ]
    ours = [address for address in listening if any(address.endswith(port) for port in ports)]
    assert ours and all("127.0.0.1" in address for address in ours), ours  # not *:port, reachable from the network


@pytest.mark.slow
@needs_ray
def test_the_ask_api_of_a_server_on_ray_answers_as_the_unsharded_index(served):
    from gradio_client import Client

    from eval.harness import load_gold
    from tests.test_ui import free_port
    from ui.app import serve

    one, many = served
    app, url = serve(many, port=free_port(), prevent_thread_lock=True)  # questions answered in Gradio's threads
    try:
        client = Client(url, verbose=False)
        for row in load_gold(REPORT_GOLD)[:5] + load_gold(SQUAD_DEV / "gold.jsonl")[:5]:
            out = client.predict(row["question"], 5, "hybrid", api_name="/ask")
            expected = one.ask(row["question"]).to_json()
            for key in ("answer", "abstained", "citations", "passages"):
                assert out[key] == expected[key], row["question"]
            assert "notice" not in out
    finally:
        app.close()


@pytest.mark.slow
@needs_ray
def test_a_killed_shard_actor_is_restarted_and_loses_no_question(served, ray_cluster):  # noqa: F811
    from eval.harness import load_gold

    one, many = served
    rows = load_gold(SQUAD_DEV / "gold.jsonl")
    actors = many.index.dense.pool.actors
    expected = _answers(one, rows)
    before = ray_cluster.get([a.pid.remote() for a in actors])
    got = []
    for n, row in enumerate(rows):
        if n % 50 == 10:  # three kills, one per shard, each between two of its searches
            ray_cluster.kill(actors[n // 50], no_restart=False)
        got += _answers(many, [row])
    assert got == expected
    after = ray_cluster.get([a.pid.remote() for a in actors])
    assert all(a != b for a, b in zip(before, after, strict=True))  # each shard was killed and restarted


@pytest.mark.slow
@needs_ray
def test_a_shard_that_stays_down_is_named_in_the_answers_not_an_error(mixed_pair, embedder, ray_cluster):  # noqa: F811
    from eval.harness import load_gold
    from rag.assistant import Assistant

    corpus, _, sharded = mixed_pair
    many = Assistant(corpus, sharded, embedder=embedder, log=lambda _: None)
    many.on_ray()
    pool = many.index.dense.pool
    lost = sorted(pool.documents[1])
    ray_cluster.kill(pool.actors[1], no_restart=True)
    for row in load_gold(SQUAD_DEV / "gold.jsonl")[:40]:
        answer = many.ask(row["question"])
        assert answer.notice is not None and answer.notice.endswith(", ".join(lost)), answer.notice
        assert "could not be searched" in answer.notice
        for p in answer.passages:  # FAISS and BM25 found nothing in the lost shard's documents
            assert p.chunk.source not in lost or not ({"dense", "bm25"} & set(p.scores)), p.chunk.source
    json_form = answer.to_json("q")
    assert json_form["notice"] == answer.notice and json_form["answer"]


def test_without_the_extra_ask_and_serve_on_ray_say_how_to_install_it(monkeypatch, capsys, tmp_path):
    import socket

    from index.storage.distributed import RAY_EXTRA
    from rag import cli

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = str(free.getsockname()[1])
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` meets when the extra is not installed
    for argv in (["ask", "Who chaired?", "--ray"], ["serve", "--ray", "--port", port]):
        assert cli.main([*argv, "--index", str(tmp_path / "index"), "--corpus", str(tmp_path)]) == 2
        err = capsys.readouterr().err
        assert err == f"rag: error: --ray needs Ray, an optional extra: {RAY_EXTRA}\n"  # as `rag ingest --ray` says
    assert not (tmp_path / "index").exists()  # refused before any model or index was loaded


def test_a_question_after_ray_is_not_taken_for_its_address(capsys, tmp_path):
    from rag import cli

    assert cli.main(["ask", "--index", str(tmp_path / "index"), "--ray", "Who chaired?"]) == 2
    err = capsys.readouterr().err
    assert "put the question first" in err and err.count("\n") == 1


@pytest.mark.slow
@needs_ray
def test_rag_ask_on_ray_prints_what_rag_ask_prints(mixed_pair, ray_cluster, capsys, tmp_path):  # noqa: F811
    import json

    from eval.harness import load_gold
    from rag import cli

    corpus, _, sharded = mixed_pair
    batch = tmp_path / "questions.jsonl"
    rows = load_gold(REPORT_GOLD)[:3] + load_gold(SQUAD_DEV / "gold.jsonl")[:3]
    batch.write_text("".join(json.dumps({"id": r["id"], "question": r["question"]}) + "\n" for r in rows))
    printed = []
    for ray in ([], ["--ray"]):
        argv = ["ask", "--corpus", str(corpus), "--index", str(sharded), "--batch", str(batch), "--json", *ray]
        assert cli.main(argv) == 0
        answers = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        printed.append([{k: v for k, v in a.items() if k != "timings_ms"} for a in answers])
    assert len(printed[0]) == len(rows) and printed[0] == printed[1]


@pytest.mark.slow
@needs_ray
def test_an_unsharded_index_is_served_as_one_shard(mixed_pair, embedder, ray_cluster):  # noqa: F811
    from eval.harness import load_gold

    corpus, plain, _ = mixed_pair
    one, served = _pair(corpus, plain, plain, embedder)
    assert len(served.index.dense.pool.actors) == 1
    rows = load_gold(REPORT_GOLD)
    assert _answers(one, rows) == _answers(served, rows)


@pytest.mark.slow
@needs_ray
def test_a_document_added_in_the_ui_is_served_on_ray_too(mixed_pair, embedder, ray_cluster, tmp_path):  # noqa: F811
    import shutil

    from rag.assistant import Assistant
    from rag.corpus import reload

    corpus, _, sharded = mixed_pair
    shutil.copytree(corpus, tmp_path / "corpus")
    shutil.copytree(sharded, tmp_path / "index")
    served = Assistant(tmp_path / "corpus", tmp_path / "index", embedder=embedder, log=lambda _: None)
    served.on_ray()
    (tmp_path / "corpus" / "Owls.txt").write_text(
        "Owls\n\nThe barn owl of Ellesmere Island hunts voles at night. It nests in the old granary tower.\n"
    )
    updated = reload(served, progress=False)
    assert len(updated.index.dense.pool.actors) == 3  # the rebuilt index keeps its shards, each in an actor
    answer = updated.ask("What does the barn owl of Ellesmere Island hunt?")
    assert {c.source for c in answer.citations} == {"Owls.txt"} and "voles" in answer.answer
    assert answer.passages[0].chunk.source == "Owls.txt" and answer.notice is None
