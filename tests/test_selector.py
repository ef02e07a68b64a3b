"""The learned answer selector: a plain-JSON model that reproduces its recorded figures, deterministic training,
and answers (or abstentions) on questions written for these tests."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rag.compose import features
from rag.compose.selector import DEFAULT_MODEL, QUESTION_FEATURES, Selector
from tests.conftest import CORPUS


def test_the_shipped_selector_is_plain_json_over_registered_features():
    data = json.loads(DEFAULT_MODEL.read_text(encoding="utf-8"))
    selector = Selector.load()
    assert set(selector.features) <= set(features.REGISTRY)
    assert len(selector.candidate.coef) == len(selector.features)
    assert len(selector.answerable.coef) == len(QUESTION_FEATURES)
    assert 0 < selector.threshold < 1
    assert data["trained_on"]["suite"] == "squad-train" and len(data["trained_on"]["sha256"]) == 64
    # Chosen under the product's false-abstention limit, by cross-validation on squad-train alone.
    assert data["cv"]["false_abstention"] <= data["max_false_abstention"]


def test_a_selector_file_of_another_format_is_refused_with_what_to_do(tmp_path):
    data = json.loads(DEFAULT_MODEL.read_text(encoding="utf-8"))
    data["format"] = 99
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match="eval.train"):
        Selector.load(path)


def _synthetic(seed: int):
    """Two articles of questions whose right span has a higher first feature: learnable, with noise."""
    from eval.train import Examples

    rng = np.random.default_rng(seed)
    names = features.NAMES
    rows, label, correct, question = [], [], [], []
    n_q = 120
    answerable = rng.random(n_q) < 0.6
    for i in range(n_q):
        right = int(rng.integers(0, 6)) if answerable[i] else -1
        for j in range(6):
            x = rng.normal(size=len(names))
            if j == right:
                x[0] += 2.0
            rows.append(x)
            label.append(j == right)
            correct.append(j == right)
            question.append(i)
    return Examples(
        np.asarray(rows),
        np.asarray(label),
        np.asarray(correct),
        np.asarray(question),
        np.arange(n_q) % 3,
        answerable,
        np.asarray(["other"] * n_q),
        np.zeros(n_q, dtype=np.int64),
        np.full(n_q, 4),
        names,
    )


@pytest.mark.heavy  # trains the selector twice
def test_training_is_deterministic_and_learns_the_signal(tmp_path):
    from eval.train import fit, write

    ex = _synthetic(0)
    outs = []
    for n in range(2):
        cv, models = fit(ex, ex.names)
        path = tmp_path / f"s{n}.json"
        write(path, ex.names, models, {"cv": cv})
        outs.append(path.read_text())
    assert outs[0] == outs[1]
    selector = Selector.load(tmp_path / "s0.json")
    assert int(np.argmax(selector.candidate.coef)) == 0, "the informative feature gets the largest weight"
    assert cv["top1_correct_when_answerable"] > 0.5


def test_examples_survive_their_cache_file(tmp_path):
    from eval.train import Examples

    ex = _synthetic(1)
    ex.save(tmp_path / "ex.npz")
    back = Examples.load(tmp_path / "ex.npz")
    assert back.names == ex.names and np.array_equal(back.rows, ex.rows) and np.array_equal(back.kind, ex.kind)


@pytest.mark.parametrize(
    "question, expected",
    [
        ("What position does Dr. PARK Hwa Choon hold?", "Center for International Cooperation"),
        ("Which university is Dr. FIELARDH Khalifatulloh from?", "Okayama University"),
        ("What model did Dr. ARIUNBOLOR Davaa describe for localised course delivery?", "three-phase cascade model"),
        ("Which Korean training programme targets youth and mid-career job seekers?", "K-Digital Training"),
    ],
)
def test_answers_questions_written_for_this_test(assistant, question, expected):
    answer = assistant.ask(question)
    assert not answer.abstained, answer.answer
    assert expected in answer.answer
    assert any(expected in c.text for c in answer.citations)
    for c in answer.citations:
        assert (CORPUS / c.source).read_text(encoding="utf-8")[c.start : c.end] == c.text


@pytest.mark.parametrize(
    "question",
    [
        "Who chaired Session VI of the dialogue?",
        "What was the dress code at the policy dialogue?",
        "How many hotel rooms were booked for the dialogue?",
        "What is the capital of Peru?",
    ],
)
def test_abstains_when_the_report_does_not_say(assistant, question):
    answer = assistant.ask(question)
    assert answer.abstained, answer.answer
    assert not answer.citations and answer.passages


def test_an_abstention_names_what_the_documents_lack(assistant):
    answer = assistant.ask("Who chaired Session VI of the dialogue?")
    assert "Session VI" in answer.answer


@pytest.mark.slow
def test_the_selector_reproduces_its_recorded_squad_val_figures(tmp_path, embedder):
    """squad-val was never fitted on; the figures recorded when the model was written must come out again."""
    from eval.harness import SUITES, load_gold, run_suite
    from eval.metrics import aggregate
    from rag.assistant import Assistant

    recorded = json.loads(DEFAULT_MODEL.read_text(encoding="utf-8"))["val"]
    suite = SUITES["squad-val"]
    assistant = Assistant(suite.corpus, tmp_path / "index", embedder=embedder, log=lambda _: None, progress=False)
    _, judged = run_suite(assistant, load_gold(suite.gold), progress=False)
    measured = aggregate(judged)
    # Two questions of 182 (0.011) is what the CPU alone moves them: the index is embedded in bfloat16 where the
    # CPU has it, and the same code (88ea9d3) gave answer accuracy 0.791 on the machine the model was written on and
    # 0.780 on an AMD EPYC with AVX-512 BF16. A change that moves three or more answers still fails here.
    for name in ("answer_accuracy", "false_abstention", "abstention_recall", "overall"):
        assert measured[name] == pytest.approx(recorded[name], abs=0.012), name
    gates = json.loads((DEFAULT_MODEL.parents[2] / "eval" / "thresholds.json").read_text(encoding="utf-8"))
    for name, minimum in gates["squad-val"].items():  # the CI quality gate on the held-out suite
        assert measured[name] >= minimum, f"squad-val {name} = {measured[name]:.3f}, below the gate {minimum}"
    for name, maximum in gates["at_most"]["squad-val"].items():
        assert measured[name] <= maximum, f"squad-val {name} = {measured[name]:.3f}, above the gate {maximum}"
    _, judged = run_suite(assistant, load_gold(SUITES["squad-val-open"].gold), progress=False)
    open_measured = aggregate(judged)  # the open questions on the same held-out articles
    for name, minimum in gates["squad-val-open"].items():
        assert open_measured[name] >= minimum, f"squad-val-open {name} = {open_measured[name]:.3f}, below {minimum}"
