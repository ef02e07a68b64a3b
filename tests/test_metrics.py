"""The metrics of DESIGN.md on hand-worked cases, edge cases included."""

from __future__ import annotations

import pytest

from eval.metrics import (
    Judged,
    aggregate,
    answer_head,
    answer_words,
    contains_phrase,
    hits,
    is_correct,
    judge,
    normalize_answer,
    nugget_counts,
    percentile,
)

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
    assert answer_words("Chaired by Enkhtur [1]. Osaka [2].") == 4  # the stop a marker leaves is no word


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


CHAIR_IV = "Session IV was chaired by Ms. TUNGALAG Chimid, Executive Director."
NUGGETS = [["ARIUNAA Enkhtur", "Dr. ARIUNAA"], ["TUNGALAG Chimid"], ["Osaka"]]


def _cite(text: str) -> dict:
    return {"n": 1, "source": "r", "section": "s", "start": 0, "end": 1, "text": text}


def test_a_nugget_phrase_counts_as_whole_normalised_words():
    assert contains_phrase("the “K-Digital Training” programme [1]", "K-Digital Training")
    assert contains_phrase("It was Dr. ARIUNAA.", "dr ariunaa")
    assert not contains_phrase("Enkhturian studies", "Enkhtur")
    assert not contains_phrase("anything", "the")  # a phrase that normalises to nothing never matches


def test_only_the_first_150_words_count_and_markers_are_not_words():
    filler = " ".join(f"w{i}" for i in range(149))
    # 149 words, then 30 markers, then the nugget: it is word 150, so it counts.
    at_150 = filler + " [1]" * 30 + " Osaka"
    assert answer_head(at_150).split()[-1] == "Osaka" and answer_words(at_150) == 150
    assert nugget_counts(at_150, ["Osaka"], [["Osaka"]]) == (1, 1)
    # One more word before it pushes the nugget to word 151: not covered, so not supported either.
    at_151 = filler + " w149 Osaka [1]."
    assert nugget_counts(at_151, ["Osaka"], [["Osaka"]]) == (0, 0)
    # A phrase cut in two by the limit does not count.
    assert nugget_counts(filler + " University of Osaka", ["University of Osaka"], [["University of Osaka"]]) == (0, 0)


def test_covered_needs_the_answer_supported_needs_the_same_phrase_in_a_citation():
    answer = "Session II was chaired by Dr. ARIUNAA [1]. Session IV was chaired by Ms. TUNGALAG Chimid [2]."
    # Nugget 1 is covered by "Dr. ARIUNAA", but its citation says only "ARIUNAA Enkhtur": covered, not supported
    # (the supporting phrase must be one the answer holds). Nugget 2 is covered and supported; Osaka neither.
    citations = ["Session II was chaired by ARIUNAA Enkhtur at University of Osaka.", CHAIR_IV]
    assert nugget_counts(answer, citations, NUGGETS) == (2, 1)
    # A citation is not the answer: Osaka being cited does not make it covered.
    assert nugget_counts("Nothing relevant [1].", citations, NUGGETS) == (0, 0)


def test_open_questions_are_scored_by_nuggets_and_kept_out_of_the_factoid_metrics():
    last_two = NUGGETS[1:]
    gold = [
        # factoid, answered right with a citation that hits
        {"id": "f", "question": "q", "answers": ["Enkhtur"], "evidence": [EVIDENCE], "answerable": True},
        # open: 3 nuggets, 2 covered, 1 supported; its evidence is passage 2
        {"id": "o1", "question": "q", "answers": [], "evidence": [CHAIR_IV], "answerable": True, "nuggets": NUGGETS},
        # open: 2 nuggets, both covered and supported; evidence not retrieved
        {"id": "o2", "question": "q", "answers": [], "evidence": [EVIDENCE], "answerable": True, "nuggets": last_two},
        # open, refused although answerable: scores 0, an open false abstention
        {"id": "o3", "question": "q", "answers": [], "evidence": [EVIDENCE], "answerable": True, "nuggets": NUGGETS},
        # open, unanswerable, answered anyway; factoid unanswerable, refused
        {"id": "u1", "question": "q", "answers": [], "evidence": [], "answerable": False, "nuggets": []},
        {"id": "u2", "question": "q", "answers": [], "evidence": [], "answerable": False},
    ]
    both = "Dr. ARIUNAA chaired II [1]. Ms. TUNGALAG Chimid chaired IV [2]."
    answers = [
        {"answer": "Enkhtur [1]", "abstained": False, "citations": [_cite(EVIDENCE)], "passages": [{"text": EVIDENCE}]},
        {
            "answer": both,
            "abstained": False,
            "citations": [_cite("chaired by ARIUNAA Enkhtur"), _cite(CHAIR_IV)],
            "passages": [{"text": "other"}, {"text": CHAIR_IV}],
        },
        {
            "answer": "Ms. TUNGALAG Chimid [1] of Osaka [2].",
            "abstained": False,
            "citations": [_cite(CHAIR_IV), _cite("Osaka")],
            "passages": [{"text": "other"}],
        },
        {"answer": "No.", "abstained": True, "citations": [], "passages": [{"text": EVIDENCE}]},
        {"answer": "Some guess [1] here.", "abstained": False, "citations": [_cite("x")], "passages": []},
        {"answer": "No.", "abstained": True, "citations": [], "passages": []},
    ]
    judged = [judge(g, a) for g, a in zip(gold, answers, strict=True)]
    assert [(j.open, j.nuggets, j.covered, j.supported) for j in judged[1:4]] == [
        (True, 3, 2, 1),
        (True, 2, 2, 2),
        (True, 3, 0, 0),
    ]
    assert not judged[1].correct  # an open question is never "correct" in the factoid sense
    m = aggregate(judged)
    assert m["questions"] == 6 and m["open"] == 4 and m["answerable"] == 4
    # Factoid metrics see only "f" and "u2".
    assert m["answer_accuracy"] == 1.0 and m["grounded_accuracy"] == 1.0 and m["citation_precision"] == 1.0
    assert m["false_abstention"] == 0.0 and m["overall"] == 1.0
    # Retrieval counts the open questions' evidence: f at 1, o1 at 2, o2 missed, o3 at 1.
    assert m["recall@1"] == 0.5 and m["recall@3"] == 0.75
    assert m["mrr@10"] == pytest.approx((1 + 0.5 + 0 + 1) / 4)
    # Abstention recall counts both unanswerable questions; open abstention recall only u1.
    assert m["abstention_recall"] == 0.5 and m["open_abstention_recall"] == 0.0
    assert m["nugget_recall"] == pytest.approx((2 / 3 + 2 / 2 + 0) / 3)
    assert m["supported_nugget_recall"] == pytest.approx((1 / 3 + 2 / 2 + 0) / 3)
    assert m["open_false_abstention"] == pytest.approx(1 / 3)
    # Mean words of the answered open questions (o1: 9, o2: 5, u1: 3), markers not counted.
    assert m["open_answer_words"] == pytest.approx((9 + 5 + 3) / 3)


def test_a_suite_without_open_questions_has_no_open_rates():
    m = aggregate([Judged(True, False, True, 1, (True,), 1.0)])
    assert m["open"] == 0
    for name in ("nugget_recall", "supported_nugget_recall", "open_false_abstention", "open_abstention_recall"):
        assert m[name] is None
    assert m["open_answer_words"] is None
