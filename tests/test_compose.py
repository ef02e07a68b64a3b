"""Answers a reader can check: exact spans, named speakers, honest abstentions, follow-ups."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.question import analyse, answer_kind, names_in, standalone
from tests.conftest import CORPUS, REPORT

TEXT = REPORT.read_text(encoding="utf-8")
REPORT_WORDS = sorted(set(re.findall(r"[A-Za-z][A-Za-z\-]{2,}", TEXT)))


def assert_checkable(answer):
    for c in answer.citations:
        source = (CORPUS / c.source).read_text(encoding="utf-8")
        assert source[c.start : c.end] == c.text
        assert f"[{c.n}]" in answer.answer
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    starts = [c.start for c in answer.citations]
    assert starts == sorted(starts), "cited spans come in document order"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.sampled_from(REPORT_WORDS), min_size=1, max_size=8),
    st.sampled_from(["Who", "What", "Which", "How many"]),
)
def test_every_citation_is_the_exact_slice_of_its_document(assistant, words, lead):
    answer = assistant.ask(f"{lead} {' '.join(words)}?")
    assert_checkable(answer)
    assert answer.abstained == (not answer.citations)


def test_a_she_sentence_comes_with_the_sentence_that_names_her(assistant):
    answer = assistant.ask("Who challenged attendees to keep reflecting on what AI transformation is?")
    assert not answer.abstained
    assert "CHOI Mee Young" in answer.answer and "What is AI transformation?" in answer.answer
    assert_checkable(answer)


def test_the_missing_speaker_is_never_invented(assistant):
    answer = assistant.ask("Who introduced the report titled Digital Leap in East Asia?")
    assert answer.abstained, answer.answer


def test_list_question_returns_the_whole_list(assistant):
    answer = assistant.ask("What are the four strategic actions?")
    for action in ("Cultivate AI Mindsets", "Strengthen AI Tools", "Build AI Platforms", "Embed AI Content"):
        assert action in answer.answer


def test_questions_about_what_the_report_never_gives_abstain(assistant):
    for question in (
        "What is the population of Tokyo?",
        "Who chaired Session I?",
        "On what date was the 2025 High-Level Policy Dialogue in East Asia held?",
    ):
        answer = assistant.ask(question)
        assert answer.abstained, (question, answer.answer)
        assert answer.passages and "do not answer" in answer.answer


def test_follow_up_is_rewritten_and_searched_as_a_standalone_question(assistant):
    first = assistant.ask("Who chaired Session II?")
    follow = assistant.ask("And who chaired Session IV?", history=[(first.question, first.answer)])
    assert follow.standalone_question == "Who chaired Session IV?"
    assert "TUNGALAG Chimid" in follow.answer
    assert follow.to_json()["standalone_question"] == "Who chaired Session IV?"


def test_standalone_names_the_person_a_pronoun_refers_to():
    history = [
        ("Who is the Deputy Director of UNESCO-ICHEI?", "Ms. BI Xiaohan, Deputy Director of UNESCO-ICHEI, ... [1]")
    ]
    assert standalone("What did she say about the Micro-Certification Project?", history) == (
        "What did Ms. BI Xiaohan say about the Micro-Certification Project?"
    )
    assert standalone("Who chaired Session II?", None) == "Who chaired Session II?"


def test_question_analysis():
    assert answer_kind("How many phases does the cascade model have?") == "number"
    assert answer_kind("Who chaired Session IV?") == "person"
    assert answer_kind("On what date was it held?") == "date"
    assert answer_kind("What should be emphasised when deploying AI?") == "other"
    assert names_in("Who chaired Session I in 2024?") == ("Session I", "2024")
    assert analyse("Which Korean programme trains job seekers?").names == ("Korean",)
