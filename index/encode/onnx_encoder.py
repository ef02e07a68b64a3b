"""Questions -> unit vectors with onnxruntime and `tokenizers` only, so answering never imports torch.

The ONNX file and tokenizer are written into the index build at ingest (index/onnx_export.py) and
checksummed with the rest of it; the manifest's "query_encoder" entry says which precision was kept.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from index.storage.store import Manifest

ONNX_FILE = "query_encoder.onnx"
TOKENIZER_FILE = "query_tokenizer.json"
EXPORT_VERSION = 3  # bump when the export changes: builds recording another version are rebuilt


class OnnxEncoder:
    """The index's exported transformer + mean pooling + L2 normalisation (an Embedder)."""

    def __init__(self, model_path: Path, tokenizer_path: Path, model_id: str, dim: int, max_length: int) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.model_id = model_id
        self.dim = dim
        self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self.tokenizer.enable_truncation(max_length)
        self.tokenizer.no_padding()
        options = ort.SessionOptions()
        # One question is a small matrix product: all cores on one operator, no inter-op pool, no spinning
        # threads left burning CPU between questions (the UI and the composer share these cores).
        options.intra_op_num_threads = min(4, os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        # onnxruntime 1.32's fused SkipLayerNormalization takes 58 us on an 18 x 384 question where Add +
        # LayerNormalization take 15: twelve of them were 0.5 ms of every question.
        self.session = ort.InferenceSession(
            str(model_path), options, providers=["CPUExecutionProvider"], disabled_optimizers=["SkipLayerNormFusion"]
        )
        self.inputs = {i.name for i in self.session.get_inputs()}

    def feed(self, text: str) -> dict[str, np.ndarray]:
        """The model's inputs for one text, unpadded."""
        ids = np.array([self.tokenizer.encode(text).ids], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
        return {k: v for k, v in feed.items() if k in self.inputs}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One text per run: int8 activations are scaled per run, so batch padding would shift a text's vector."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            hidden = self.session.run(None, self.feed(text))[0][0]
            pooled = hidden.mean(axis=0)  # mean pooling: no padding, so every token counts
            out[row] = pooled / max(float(np.linalg.norm(pooled)), 1e-12)
        return out


def from_build(build: Path, manifest: Manifest) -> OnnxEncoder | None:
    """The build's ONNX query encoder, or None when ingest kept none (its manifest says why)."""
    entry = manifest.query_encoder
    if entry.get("kind") != "onnx":
        return None
    return OnnxEncoder(
        build / entry["file"], build / entry["tokenizer"], manifest.model, manifest.dim, entry["max_length"]
    )
