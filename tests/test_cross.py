"""The shipped cross-encoder: it prefers the sentence that answers, and answering never imports torch."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from tests.conftest import ROOT, subprocess_env


def test_the_answering_sentence_scores_higher():
    from rag.compose.cross import CrossEncoder

    model = CrossEncoder.load()
    question = "In what year did the observatory on the hill first open to visitors?"
    scores = model.score(
        question,
        [
            "The observatory on the hill first opened to visitors in 1887, after a decade of building.",
            "The observatory on the hill is painted white and can be seen from the harbour.",
        ],
    )
    assert scores.shape == (2,) and scores.dtype == np.float32
    assert scores[0] > scores[1]
    assert CrossEncoder.load() is model  # read once per process


def test_scores_do_not_depend_on_the_other_texts():
    from rag.compose.cross import CrossEncoder

    model = CrossEncoder.load()
    question = "Who founded the school?"
    alone = model.score(question, ["The school was founded by Jane Smith in 1901."])
    beside = model.score(
        question, ["A much longer sentence about the weather " * 5, "The school was founded by Jane Smith in 1901."]
    )
    assert alone[0] == beside[1]
    assert model.score(question, []).shape == (0,)


def test_the_model_records_its_training():
    from rag.compose.cross import DEFAULT_MODEL

    meta = json.loads(DEFAULT_MODEL.with_suffix(".json").read_text(encoding="utf-8"))
    assert len(meta["held_out_articles"]) == 3
    assert meta["max_length"] == 128


def test_importing_and_scoring_leave_torch_unimported():
    code = (
        "import sys\n"
        "from rag.compose.cross import CrossEncoder\n"
        "CrossEncoder.load().score('Who founded the school?', ['The school was founded by Jane Smith.'])\n"
        "print([m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env(), cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
