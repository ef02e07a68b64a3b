"""Ingest side of the query encoder: export the sentence-transformers model to ONNX, shrink it, verify it.

Rungs, first to pass wins: int8 (every product, attention included, with outlier channels kept fp32 by
index.onnx_outliers), the same with attention fp32, fp32. A rung passes when every sample text's
vector has cosine >= MIN_COSINE with sentence-transformers' own; if none passes, there is no ONNX
encoder and questions are embedded by sentence-transformers (slower start, same answers).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.encode.onnx_encoder import EXPORT_VERSION, ONNX_FILE, TOKENIZER_FILE, OnnxEncoder
from index.encode.onnx_outliers import split_outliers

MIN_COSINE = 0.995
RUNGS = ("int8", "int8-partial", "fp32")  # int8-partial: attention fp32
# Questions as users ask them; the corpus supplies the rest of the samples.
SAMPLE_QUESTIONS = (
    "Who chaired Session II?",
    "What did the report say about vocational education?",
    "When was the dialogue held and how many countries took part?",
    "Which university hosted the event?",
    "How much did the programme cost in 2024?",
    "What is the capital of France?",
)


@dataclass(frozen=True)
class Exported:
    """A verified ONNX query encoder in a scratch folder, and its manifest entry."""

    files: dict[str, Path]  # name in the build folder -> file to copy there
    entry: dict[str, Any]


def export_query_encoder(
    st_model, model_id: str, samples: Sequence[str], work: Path, log: Callable[[str], None]
) -> Exported | None:
    """Export, fuse, quantize and verify; None (after a warning) when no rung matches sentence-transformers."""
    import logging

    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:  # onnxruntime's optimizer and quantizer log advice through the root logger; keep it quiet, then restore
        root.setLevel(logging.ERROR)
        return _export(st_model, model_id, samples, work, log)
    finally:
        root.setLevel(level)
        root.handlers[:] = handlers


def _export(st_model, model_id: str, samples: Sequence[str], work: Path, log: Callable[[str], None]) -> Exported | None:
    texts = list(SAMPLE_QUESTIONS) + [t for t in samples if t.strip()][:64]
    reference = st_model.encode(texts, normalize_embeddings=True, convert_to_numpy=True, batch_size=32)
    max_length = int(st_model.max_seq_length)
    tokenizer = work / TOKENIZER_FILE
    try:
        _check_pipeline(st_model)
        st_model.tokenizer.backend_tokenizer.save(str(tokenizer))
        fp32 = _export_fp32(st_model[0].auto_model, work)
    except Exception as exc:  # an exporter or model we cannot handle: answers stay right, only slower
        log(f"warning: no ONNX query encoder ({type(exc).__name__}: {exc}); questions will use sentence-transformers")
        return None
    tried = []
    dim = reference.shape[1]
    reference_encoder = OnnxEncoder(fp32, tokenizer, model_id, dim, max_length)
    split: tuple[Path, list[str]] | None = None  # made when the first int8 rung needs it
    for rung in RUNGS:
        if rung == "fp32":
            path, encoder = fp32, reference_encoder
        else:
            split = split or _split(fp32, work / "split.onnx", [reference_encoder.feed(t) for t in texts], log)
            ops = ["MatMul", "Attention"] if rung == "int8" else ["MatMul"]
            path = _quantize(split[0], work / f"{rung}.onnx", ops, split[1])
            encoder = OnnxEncoder(path, tokenizer, model_id, dim, max_length)
        cosine = float(np.min(np.sum(encoder.embed(texts) * reference, axis=1)))
        tried.append(f"{rung} {cosine:.4f}")
        if cosine >= MIN_COSINE:
            entry = {
                "kind": "onnx",
                "precision": rung,
                "file": ONNX_FILE,
                "tokenizer": TOKENIZER_FILE,
                "max_length": max_length,
                "min_cosine": round(cosine, 5),
                "samples": len(texts),
                "tried": tried,
                "export_version": EXPORT_VERSION,
            }
            return Exported({ONNX_FILE: path, TOKENIZER_FILE: tokenizer}, entry)
    log(f"warning: ONNX query encoder below cosine {MIN_COSINE} ({', '.join(tried)}); using sentence-transformers")
    return None


def _check_pipeline(st_model) -> None:
    """Only Transformer -> mean Pooling [-> Normalize] is reproduced by OnnxEncoder; anything else is refused."""
    names = [type(m).__name__ for m in st_model]
    if names[:2] != ["Transformer", "Pooling"] or names[2:] not in ([], ["Normalize"]):
        raise ValueError(f"modules {names} are not Transformer, Pooling, Normalize")
    if getattr(st_model[1], "pooling_mode", None) != "mean":
        raise ValueError("pooling is not mean pooling")


def _export_fp32(transformer, work: Path) -> Path:
    """TorchScript-based export (dynamo=False): no onnxscript needed, dynamic batch and sequence axes."""
    import torch

    class Hidden(torch.nn.Module):
        def __init__(self, model) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    ids = torch.ones(1, 8, dtype=torch.long)
    raw = work / "raw.onnx"
    config = transformer.config
    # Eager attention traces to the pattern onnxruntime fuses into one Attention op per layer (46 nodes in
    # all, where the SDPA trace leaves 308 reshapes, transposes and masks costing ~10 us each per question).
    attention = getattr(config, "_attn_implementation", None)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes about Python control flow: shapes stay dynamic here
        try:
            if attention is not None:
                transformer.set_attn_implementation("eager")
            torch.onnx.export(
                Hidden(transformer.eval()).float(),
                (ids, ids, torch.zeros_like(ids)),
                str(raw),
                input_names=names,
                output_names=["last_hidden_state"],
                dynamic_axes={n: {0: "batch", 1: "sequence"} for n in [*names, "last_hidden_state"]},
                opset_version=17,
                dynamo=False,
            )
        finally:
            if attention is not None:
                transformer.set_attn_implementation(attention)
    fused = work / "fp32.onnx"
    try:  # fusing attention, GELU and biases makes int8 faster; the plain export is fine without it
        from onnxruntime.transformers.fusion_options import FusionOptions
        from onnxruntime.transformers.optimizer import optimize_model

        options = FusionOptions("bert")
        options.enable_skip_layer_norm = options.enable_bias_skip_layer_norm = False  # slower: see OnnxEncoder
        options.enable_embed_layer_norm = False  # keeps the word table a Gather: stored fp16, 23 MB less to hash
        optimized = optimize_model(
            str(raw),
            model_type="bert",
            num_heads=config.num_attention_heads,
            hidden_size=config.hidden_size,
            optimization_options=options,
        )
        optimized.save_model_to_file(str(fused))
    except Exception:
        shutil.copyfile(raw, fused)
    return fused


def _split(
    fp32: Path, target: Path, feeds: list[dict[str, np.ndarray]], log: Callable[[str], None]
) -> tuple[Path, list[str]]:
    """The graph to quantize and its fp32 products: outliers split off, or the whole graph when it cannot be."""
    try:
        return target, split_outliers(fp32, target, feeds)
    except Exception as exc:  # a graph the split does not know: quantize it whole, the cosine check decides
        log(f"note: outlier channels not split ({type(exc).__name__}: {exc})")
        return fp32, []


def _quantize(source: Path, target: Path, ops: list[str], fp32_products: list[str]) -> Path:
    """Per-channel int8 weights (per-tensor loses too much: cosine about 0.91), activations quantized per call.

    The word-embedding table (a Gather) stays out: int8 there costs more cosine than it saves time.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(source),
        str(target),
        per_channel=True,
        weight_type=QuantType.QInt8,
        op_types_to_quantize=ops,
        nodes_to_exclude=fp32_products,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT, "MatMulConstBOnly": True},
    )
    _half_word_embeddings(target)
    return target


def _half_word_embeddings(path: Path) -> None:
    """Store the fp32 word-embedding table as fp16 and cast rows after lookup: 23 MB less to hash and load."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(path))
    tables = {t.name: t for t in model.graph.initializer}
    nodes = list(model.graph.node)
    for i, node in enumerate(nodes):
        table = tables.get(node.input[0]) if node.op_type == "Gather" else None
        if table is None or "word_embeddings" not in node.name or table.data_type != onnx.TensorProto.FLOAT:
            continue
        table.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(table).astype(np.float16), table.name))
        half = node.output[0] + "_fp16"
        cast = helper.make_node("Cast", [half], [node.output[0]], to=onnx.TensorProto.FLOAT, name=node.name + "_fp32")
        node.output[0] = half
        nodes.insert(i + 1, cast)
        break
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    onnx.save(model, str(path))


def scratch(index_dir: Path) -> Path:
    """A scratch folder for this process's exports inside the index folder, removed at exit (builds hold copies);
    a killed export's folder is removed by the next ingest (index.storage.folder.claim_index_dir)."""
    import atexit

    path = index_dir / f".onnx-export-{os.getpid()}"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


_EXPORTED: dict[str, Exported | None] = {}  # per process: one export per model, however many indexes it builds


def for_build(embedder, model: str, texts: Sequence[str], index_dir: Path, log: Callable[[str], None]) -> Exported:
    """The query encoder for a new build: reused from the live build or this process, else exported now.

    A custom embedder (not sentence-transformers for `model`) gets none: the Assistant then embeds
    questions with the embedder it is given, as before.
    """
    export = getattr(embedder, "export_query_encoder", None)
    if export is None or embedder.model_id != model:
        return Exported({}, {"kind": "embedder", "reason": "built with a custom embedder"})
    reused = _from_live_build(index_dir, model)
    if reused is not None:
        return reused
    cached = _EXPORTED.get(model)
    if cached is not None and not all(Path(p).is_file() for p in cached.files.values()):
        del _EXPORTED[model]  # its index folder (and scratch) is gone: export again
    if model not in _EXPORTED:
        log("exporting the query encoder to ONNX (once per model)")
        step = max(1, len(texts) // 64)
        work = scratch(index_dir)
        previous, tempfile.tempdir = tempfile.tempdir, str(work)  # the quantizer's own temporaries go there too
        try:
            _EXPORTED[model] = export(texts[::step], work, log)
        finally:
            tempfile.tempdir = previous
    found = _EXPORTED[model]
    return found or Exported({}, {"kind": "sentence-transformers", "reason": "ONNX export failed verification"})


def _from_live_build(index_dir: Path, model: str) -> Exported | None:
    """The live build's verified ONNX files when they were made by this export version for this model."""
    from index.load.documents import file_sha256
    from index.storage.store import current_build, read_manifest

    build, manifest = current_build(index_dir), read_manifest(index_dir)
    entry = (manifest or {}).get("query_encoder") or {}
    if build is None or entry.get("kind") != "onnx" or manifest.get("model") != model:
        return None
    if entry.get("export_version") != EXPORT_VERSION:
        return None
    files = {name: build / name for name in (entry["file"], entry["tokenizer"])}
    checksums = manifest.get("checksums") or {}
    if any(not p.is_file() or file_sha256(p) != checksums.get(name) for name, p in files.items()):
        return None
    return Exported(files, entry)
