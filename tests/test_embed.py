"""The ONNX query encoder against sentence-transformers, the torch-free ask path, bf16 ingest, fallbacks."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import CORPUS, REPORT, ROOT, subprocess_env


def _report_sentences() -> list[str]:
    from index.text.sentences import split_sentences

    text = REPORT.read_text(encoding="utf-8")
    return [text[s:e] for s, e in split_sentences(text)]


def _gold_questions(n: int = 40) -> list[str]:
    lines = (ROOT / "eval" / "gold.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines[:n]]


def _copy(index_dir, tmp_path):
    target = tmp_path / "index"
    shutil.copytree(index_dir, target)
    return target


def test_build_records_a_verified_onnx_query_encoder(report_index):
    from index.storage.store import read_manifest

    entry = read_manifest(report_index)["query_encoder"]
    assert entry["kind"] == "onnx" and entry["precision"] in ("int8", "int8-partial", "fp32")
    assert entry["min_cosine"] >= 0.995
    assert set(read_manifest(report_index)["checksums"]) >= {entry["file"], entry["tokenizer"]}


def test_onnx_question_vectors_match_sentence_transformers(report_index):
    from index.encode.embed import SentenceTransformerEmbedder
    from index.encode.onnx_encoder import from_build
    from index.storage.store import Manifest, current_build, read_manifest

    encoder = from_build(current_build(report_index), Manifest.from_json(read_manifest(report_index)))
    texts = _report_sentences() + _gold_questions()
    onnx = encoder.embed(texts)
    reference = SentenceTransformerEmbedder(precision="fp32").embed(texts)
    assert onnx.shape == reference.shape and onnx.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)
    assert float(np.min(np.sum(onnx * reference, axis=1))) >= 0.995
    # one at a time (no padding) gives the batch's vectors
    np.testing.assert_allclose(encoder.embed(texts[:1])[0], onnx[0], atol=1e-4)


def test_assistant_embeds_questions_with_the_onnx_encoder(assistant):
    from index.encode.onnx_encoder import OnnxEncoder

    assert isinstance(assistant.retriever.embedder, OnnxEncoder)
    answer = assistant.ask("Who chaired Session II?")
    assert "ARIUNAA" in answer.answer and not answer.abstained


def test_import_rag_cli_leaves_torch_unimported():
    heavy = "('torch', 'sentence_transformers', 'gradio')"
    code = f"import sys, rag.cli; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env(), cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_rag_ask_answers_without_torch_or_gradio(report_index):
    code = (
        "import sys, rag.cli\n"
        f"code = rag.cli.main(['ask', '--corpus', {str(CORPUS)!r}, '--index', {str(report_index)!r}, "
        "'Who chaired Session II?'])\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers', 'gradio') if m in sys.modules]\n"
        "print('HEAVY', heavy, 'EXIT', code)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env(), cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "ARIUNAA" in out.stdout
    assert "HEAVY [] EXIT 0" in out.stdout


@pytest.mark.heavy  # a real-model rebuild and ONNX export each
@pytest.mark.parametrize("damage", ["flip", "delete"])
def test_a_corrupt_or_missing_onnx_file_is_rebuilt_with_a_message(report_index, tmp_path, embedder, damage):
    from index.encode.onnx_encoder import OnnxEncoder
    from index.storage.store import current_build, read_manifest
    from rag.assistant import Assistant

    index_dir = _copy(report_index, tmp_path)
    onnx_file = current_build(index_dir) / read_manifest(index_dir)["query_encoder"]["file"]
    if damage == "flip":
        data = bytearray(onnx_file.read_bytes())
        data[len(data) // 2] ^= 0xFF
        onnx_file.write_bytes(bytes(data))
    else:
        onnx_file.unlink()
    logged: list[str] = []
    assistant = Assistant(CORPUS, index_dir, embedder=embedder, log=logged.append, progress=False)
    assert any("corrupt" in line and "query_encoder.onnx" in line and "rebuilding" in line for line in logged)
    assert isinstance(assistant.retriever.embedder, OnnxEncoder)
    assert "ARIUNAA" in assistant.ask("Who chaired Session II?").answer


def test_an_index_without_a_query_encoder_is_stale(report_index, tmp_path):
    from index.storage.build import IndexSettings, stale_reason
    from index.storage.store import current_build

    index_dir = _copy(report_index, tmp_path)
    path = current_build(index_dir) / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    del manifest["query_encoder"]
    path.write_text(json.dumps(manifest), encoding="utf-8")
    assert "query encoder" in stale_reason(CORPUS, index_dir, IndexSettings())


class WordHashEmbedder:
    """A toy embedder: a custom one must keep embedding the questions (there is no ONNX export of it)."""

    model_id = "bundled:all-MiniLM-L6-v2"
    dim = 16

    def embed(self, texts):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, sum(map(ord, word)) % self.dim] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def test_a_custom_embedder_embeds_the_questions_itself(tmp_path):
    from index.storage.build import ingest
    from index.storage.store import read_manifest
    from rag.assistant import Assistant

    toy = WordHashEmbedder()
    ingest(CORPUS, tmp_path / "index", embedder=toy, progress=False, log=lambda _: None)
    assert read_manifest(tmp_path / "index")["query_encoder"]["kind"] == "embedder"
    assistant = Assistant(CORPUS, tmp_path / "index", embedder=toy, log=lambda _: None, progress=False)
    assert assistant.retriever.embedder is toy


@pytest.mark.heavy  # a real-model build and ONNX export
def test_a_failed_verification_falls_back_to_sentence_transformers(monkeypatch, embedder, tmp_path):
    import index.encode.onnx_export as onnx_export

    monkeypatch.setattr(onnx_export, "RUNGS", ("fp32",))
    monkeypatch.setattr(onnx_export, "MIN_COSINE", 1.5)  # nothing can pass
    logged: list[str] = []
    found = embedder.export_query_encoder(_report_sentences(), tmp_path, logged.append)
    assert found is None
    assert any("warning" in line and "sentence-transformers" in line for line in logged)


@pytest.mark.heavy  # a real-model build and ONNX export
def test_an_outlier_split_that_fails_still_yields_a_verified_encoder(monkeypatch, embedder, tmp_path):
    import index.encode.onnx_export as onnx_export

    def broken(*args, **kwargs):
        raise ValueError("a graph the split does not know")

    monkeypatch.setattr(onnx_export, "split_outliers", broken)
    monkeypatch.setattr(onnx_export, "RUNGS", ("int8-partial", "fp32"))  # one quantized rung is enough to show it
    logged: list[str] = []
    found = embedder.export_query_encoder(_report_sentences(), tmp_path, logged.append)
    assert any("outlier channels not split" in line for line in logged)
    assert found is not None and found.entry["min_cosine"] >= onnx_export.MIN_COSINE
    assert found.entry["precision"] in ("int8-partial", "fp32")


@pytest.mark.heavy  # loads the model twice, embeds the whole report twice
def test_bf16_ingest_vectors_match_fp32():
    from index.encode.embed import SentenceTransformerEmbedder

    texts = _report_sentences()
    auto = SentenceTransformerEmbedder()
    vectors = auto.embed(texts)
    assert auto.precision in ("bf16", "fp32")
    fp32 = SentenceTransformerEmbedder(precision="fp32").embed(texts)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert float(np.min(np.sum(vectors * fp32, axis=1))) >= 0.999
    with pytest.raises(ValueError, match="precision"):
        SentenceTransformerEmbedder(precision="int4")
