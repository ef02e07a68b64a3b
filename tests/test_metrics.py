"""The metrics of DESIGN.md on hand-worked cases, edge cases included."""

from __future__ import annotations

import pytest

from eval.metrics import Judged, aggregate, answer_words, hits, is_correct, judge, normalize_answer, percentile

EVIDENCE = "Session II was chaired by Dr. ARIUNAA Enkhtur, Associate Professor at University of Osaka in Japan."


def test_hit_needs_sixty_percent_of_the_snippet_in_one_run():
    assert hits("intro. " + EVIDENCE + " more", EVIDENCE)
    assert hits("SESSION  II was\nchaired by dr. ariunaa enkhtur, Associate Professor", EVIDENCE)  # 71 of 99 chars
    assert not hits("Session II was chaired by Dr. ARIUNAA", EVIDENCE)  # 37 of 99 chars
    # Two halves that add up to more than 60% but are not one contiguous run do not count.
    split = "Session II was chaired by Dr. ARIUNAA Enkhtur, XX Professor at University of Osaka in Japan."
    assert not hits(split, EVIDENCE)
    assert not hits("anything", "")


def test_squad_normalisation():
    assert normalize_answer("The “1-3-4” Framework—One") == "134 framework one"
    assert normalize_answer("An AI  platform, a plan.") == "ai platform plan"


def test_correct_needs_whole_words_no_abstention_and_at_most_75_words():
    assert is_correct("It was chaired by Dr. ARIUNAA Enkhtur [1].", False, ["ARIUNAA Enkhtur"])
    assert not is_correct("It was chaired by Dr. ARIUNAA Enkhtur [1].", True, ["ARIUNAA Enkhtur"])
    assert not is_correct("Enkhturian studies", False, ["Enkhtur"])
    assert is_correct("The answer is four [1].", False, ["four", "4"])
    long = "word " * 75 + "Enkhtur"
    assert answer_words(long) == 76 and not is_correct(long, False, ["Enkhtur"])
    assert answer_words("Enkhtur [1] [2] [3]") == 1


def test_judge_and_aggregate_a_small_hand_worked_suite():
    gold = [
        {"id": "a", "question": "q", "answers": ["Enkhtur"], "evidence": [EVIDENCE], "answerable": True},
        {"id": "b", "question": "q", "answers": ["Osaka"], "evidence": [EVIDENCE], "answerable": True},
        {"id": "c", "question": "q", "answers": [], "evidence": [], "answerable": False},
        {"id": "d", "question": "q", "answers": [], "evidence": [], "answerable": False},
    ]
    cite = {"n": 1, "source": "r", "section": "s", "start": 0, "end": 1, "text": EVIDENCE}
    answers = [
        # right answer, right citation, evidence in the 2nd passage
        {
            "answer": "Dr. ARIUNAA Enkhtur [1]",
            "abstained": False,
            "citations": [cite],
            "passages": [{"text": "other"}, {"text": EVIDENCE}],
            "timings_ms": {"total": 10},
        },
        # wrong answer with a wrong citation; evidence never retrieved
        {
            "answer": "Tokyo [1]",
            "abstained": False,
            "citations": [dict(cite, text="unrelated")],
            "passages": [{"text": "other"}],
            "timings_ms": {"total": 20},
        },
        {"answer": "", "abstained": True, "citations": [], "passages": [], "timings_ms": {"total": 30}},
        {
            "answer": "Something [1]",
            "abstained": False,
            "citations": [cite],
            "passages": [],
            "timings_ms": {"total": 40},
        },
    ]
    judged = [judge(g, a) for g, a in zip(gold, answers, strict=True)]
    m = aggregate(judged)
    assert m["recall@1"] == 0.0 and m["recall@3"] == 0.5
    assert m["mrr@10"] == pytest.approx(0.25)
    assert m["answer_accuracy"] == 0.5
    assert m["citation_precision"] == 0.5
    assert m["grounded_accuracy"] == 0.5
    assert m["false_abstention"] == 0.0
    assert m["abstention_recall"] == 0.5
    assert m["overall"] == pytest.approx(2 / 4)
    assert m["latency_p50_ms"] == 25.0


def test_edge_cases_give_none_not_made_up_rates():
    empty = aggregate([])
    assert empty["questions"] == 0 and empty["overall"] is None and empty["recall@1"] is None
    all_abstained = aggregate([Judged(True, True, False, 1, (), 1.0), Judged(False, True, False, None, (), 1.0)])
    assert all_abstained["citation_precision"] is None  # no citations at all
    assert all_abstained["false_abstention"] == 1.0 and all_abstained["abstention_recall"] == 1.0
    assert all_abstained["overall"] == 0.5


def test_percentile_matches_numpy_linear():
    import numpy as np

    values = [3.0, 1.0, 7.0, 2.0, 9.5]
    for q in (0, 50, 95, 100):
        assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))
    assert percentile([], 50) is None
