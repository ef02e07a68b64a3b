"""Answers a reader can check: exact spans, named speakers, honest abstentions, follow-ups."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.compose.checks import (
    contradicts,
    denies,
    enumerates,
    expands,
    gives_title,
    gives_year,
    names_institution,
    negates,
    other_owner,
    relative_swapped,
    retitled,
    reverses_roles,
    type_satisfied,
)
from rag.question import actor_of, analyse, answer_kind, counted_thing, names_in, standalone
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
    if answer.citations:
        last = answer.citations[-1]
        assert last.text.strip() != last.section.split(" > ")[-1], "a heading alone is never the answer"


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
    answer = assistant.ask("Who urged the audience to keep asking what AI transformation is?")
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
        "On what day did the delegates of the dialogue arrive?",
    ):
        answer = assistant.ask(question)
        assert answer.abstained, (question, answer.answer)
        assert answer.passages and "do not answer" in answer.answer


def test_follow_up_is_rewritten_and_searched_as_a_standalone_question(assistant):
    first = assistant.ask("Who chaired Session II?")
    follow = assistant.ask("And who was the chair of Session IV?", history=[(first.question, first.answer)])
    assert follow.standalone_question == "Who was the chair of Session IV?"
    assert "TUNGALAG Chimid" in follow.answer
    assert follow.to_json()["standalone_question"] == "Who was the chair of Session IV?"


def test_standalone_names_the_person_a_pronoun_refers_to():
    history = [
        (
            "Which post does Ms. BI Xiaohan hold at UNESCO-ICHEI?",
            "Ms. BI Xiaohan, Deputy Director of UNESCO-ICHEI, ... [1]",
        )
    ]
    assert standalone("What did she say about the Micro-Certification Project?", history) == (
        "What did Ms. BI Xiaohan say about the Micro-Certification Project?"
    )
    assert standalone("Who chaired Session II?", None) == "Who chaired Session II?"


def test_question_analysis():
    assert answer_kind("How many phases does the cascade model have?") == "number"
    assert answer_kind("Who led the second session?") == "person"
    assert answer_kind("On what date was it held?") == "date"
    assert answer_kind("What should be emphasised when deploying AI?") == "other"
    assert names_in("Who chaired Session I in 2024?") == ("Session I", "2024")
    assert analyse("Which Korean programme trains job seekers?").names == ("Korean",)


def test_a_session_theme_is_its_heading_quoted_with_the_sentence_under_it(assistant):
    answer = assistant.ask("What was the topic of Session II, chaired by Dr. ARIUNAA Enkhtur?")
    assert not answer.abstained, answer.answer
    heading, sentence = answer.citations
    assert heading.text == "Enhancement of AI Proficiency in the Higher Education Workforce"
    assert sentence.text.startswith("Session II was chaired by")
    assert answer.answer.startswith(f"{heading.text} [1]: Session II")
    assert_checkable(answer)


def test_other_questions_never_quote_a_heading(assistant):
    answer = assistant.ask("Who was in the chair for Session IV?")
    assert all(c.text != c.section for c in answer.citations)


def test_a_negated_question_needs_a_sentence_that_negates(assistant):
    answer = assistant.ask("Who did not chair Session II?")
    assert answer.abstained, answer.answer


def test_title_negation_and_expansion_checks():
    assert retitled("Who is the Director of X?", "Ms. B, Deputy Director of X, spoke.") == "Deputy Director"
    assert retitled("Who is the Deputy Director of X?", "Ms. B, Deputy Director of X, spoke.") is None
    assert retitled("Who is the Director of X?", "Ms. B, Director of X, and Mr. C, Deputy Director.") is None
    assert retitled("Who is the President of Y?", "Prof. H, Vice-President of Y, spoke.") == "Vice President"
    assert expands("MEXT", "Japan's Ministry of Education, Culture, Sports, Science and Technology (MEXT), which")
    assert not expands("ICHEI", "Ms. BI Xiaohan, Deputy Director of UNESCO-ICHEI, spoke.")
    assert negates("pharmacists cannot form business partnerships") and not negates("pharma sold tobacco")
    assert analyse("What did the shop not sell?").negated and not analyse("What did pharma sell?").negated
    assert answer_kind("What was the theme of Session II?") == "heading"
    assert answer_kind("What does the acronym NWS stand for?") == "expansion"
    assert analyse("What does MEXT stand for?").acronym == "MEXT"


def test_a_which_speaker_question_is_answered_by_a_she_sentence_with_the_sentence_naming_her(assistant):
    question = "Which speaker noted that partnerships with enterprises improved the alignment of curricula?"
    answer = assistant.ask(question)
    assert not answer.abstained, answer.answer
    assert "BAYARMAA Tsogtbaatar" in answer.answer and "She noted that partnerships" in answer.answer
    assert_checkable(answer)


def test_where_is_answered_by_where_the_asked_thing_is_put_not_only_by_a_place_name():
    question = "Where does the report call on countries to place digital transformation?"
    put = "The report calls on countries to place digital transformation at the heart of socio-economic development."
    assert type_satisfied("place", put, question)
    assert not type_satisfied("place", "The report calls on countries to value digital transformation.", question)
    assert not type_satisfied("place", "Countries invest in the heart of development.", question)
    assert type_satisfied("place", "The dialogue was held in Ulaanbaatar.", "Where was the dialogue held?")


def test_a_decade_is_a_date():
    question = "In what decade did ferries become common on the lake?"
    assert answer_kind(question) == "date"
    assert type_satisfied("date", "Ferries became common in the 1850s but no longer sail.", question)
    assert type_satisfied("date", "In the 2010s the share fell.", "When did the share fall?")
    assert not type_satisfied("date", "Ferries use a steam engine fed from the boiler.", question)


def test_a_question_asking_about_the_alternative_a_sentence_sets_aside_abstains():
    amazon = "The Amazon rainforest, rather than being a pristine wilderness, has been shaped by man for 11,000 years."
    assert denies("For how long had the Amazon been a pristine wilderness?", amazon)
    assert not denies("For how long has the Amazon been shaped by man?", amazon)
    assert not denies("What is not a pristine wilderness?", amazon)  # a negated question is answered by the denial
    # One shared word after "rather than" is no premise of the question.
    laws = "Enforcement is generally targeted at international drug suppliers, rather than consumers."
    assert not denies("What is there a push for to reduce consumer drug costs?", laws)
    assert denies("Who used a tax instead of a tariff?", "They used a tariff instead of a tax on imports.") is False
    assert denies("Why did they use a tax on imports?", "They used a tariff instead of a tax on imports.")


def test_opposites_of_direction_and_outcome_are_contradictions():
    assert contradicts("Water on the eastern side flows away from what ocean?", "Water flowed toward the Atlantic.")
    assert not contradicts("Water on the eastern side flows toward what ocean?", "Water flowed toward the Atlantic.")
    assert contradicts("Which team lost the final?", "The home team won the final.")
    assert not contradicts("Which team won the final after it lost the semi-final?", "The home team won the final.")


def test_a_question_whose_actor_the_sentence_acts_on_abstains():
    assert actor_of("Who did the Normans encourage to come south?") == ("Normans", "encourage")
    assert actor_of("Who encouraged the Normans?") is None
    assert analyse("What did the Lombards ask for?").actor == ("Lombards", "ask")
    passive = "Norman mercenaries were first encouraged to come to the south by the Lombards."
    assert reverses_roles(("Normans", "encourage"), passive)
    assert not reverses_roles(("Lombards", "encourage"), passive)
    assert not reverses_roles(("Normans", "encourage"), "The Normans encouraged the Lombards to come south.")
    assert not reverses_roles(None, passive)


def test_a_year_question_needs_a_year_not_a_decade():
    assert analyse("In what year did the consul take office?").wants_year
    assert not analyse("In what decade were injectors used?").wants_year
    assert analyse("When did the consul take office?").wants_year is False
    assert gives_year("A 1643 publication said the school's purpose was to advance learning.")
    assert not gives_year("During the divestment movement in the late 1980s, students built a shantytown.")
    assert not gives_year("The campus covers 5,076 acres.")


def test_language_checks_on_text_written_for_the_test():
    """The checks the selector's features are made of, each on sentences of no gold set."""
    assert retitled("Who is the Director of X?", "Ms. B, Deputy Director of X, spoke.") == "Deputy Director"
    assert retitled("Who is the Deputy Director of X?", "Ms. B, Deputy Director of X, spoke.") is None
    assert retitled("Who is the President of Y?", "Prof. H, Vice-President of Y, spoke.") == "Vice President"
    assert expands("NWS", "the National Weather Service (NWS), which issues warnings")
    assert not expands("ABC", "Ms. Q, Deputy Director of the ABC office, spoke.")
    assert analyse("What does NWS stand for?").acronym == "NWS"
    assert names_institution("company", "Mr. P, Head of Sales at Harbor Steel Co. Ltd. in Chile")
    assert not names_institution("company", "Mr. P, Dean at Lakeside College of Technology")
    assert not names_institution("university", "at Leeds University", "In which faculty of Leeds University?")
    assert counted_thing("How many bridges cross the river?") == "bridg"
    assert counted_thing("How many piston strokes occur in a cycle?") == "stroke"
    assert analyse("How much did the new bridge cost?").wants_money
    assert not analyse("How much rain falls each year?").wants_money
    assert gives_title("What is the title of the study?", "Dr. X presented the study titled Quiet Rivers.")
    assert not gives_title("What is the title of the study?", "Dr. X presented the study on Quiet Rivers.")
    assert enumerates(frozenset({"found", "goal"}), "The three founding goals—Trade, Peace, and Learning—were set")
    assert not enumerates(frozenset({"smart", "bridg"}), "plan—One Road, Three Smart Bridges, and Four Ports")


def test_contradiction_and_ownership_checks_on_text_written_for_the_test():
    assert contradicts("Why was the trade unlawful?", "In that port the trade was lawful.")
    assert contradicts("What stays dry for a long period?", "The soil stays dry for a short period.")
    assert relative_swapped("Who did Anna lead in 1510?", "the guild under Piet, Anna's son, grew") == (
        "Anna's son, not Anna"
    )
    assert relative_swapped("Who did Piet, Anna's son, lead?", "Piet, Anna's son, led the guild") is None
    assert other_owner("What does Smith's law say?", "Jones's law says that n is even.") == "Jones's law"
    assert other_owner("What does Jones's law say?", "Jones's law says that n is even.") is None


def test_a_who_question_about_a_sentence_that_lost_its_subject_is_marked_not_invented(assistant):
    answer = assistant.ask("Who presented the Digital Leap in East Asia report at the dialogue?")
    assert answer.abstained or "[speaker not named in the source]" in answer.answer, answer.answer


def test_a_papers_reference_numbers_never_pass_for_the_answers_citation_markers(tmp_path, embedder):
    # as in scientific articles: "[4] [5]" after a sentence belongs to it, and the answer must not show it,
    # or a reader (and any tool reading the JSON) would take it for citation 4; the citation keeps it exactly
    from index.storage.build import ingest
    from rag.assistant import Assistant

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    paper = (
        "Seasonal coronaviruses in adults\n\n"
        "Other coronavirus species are common causes of influenza-like illness in winter. [4] [5] [6] "
        "The incubation period of the Velmora virus is twelve days on average [7, 8]. [9] "
        "Most adults recover within two weeks [10-12].\n"
    )
    (corpus / "paper.txt").write_text(paper, encoding="utf-8")
    ingest(corpus, tmp_path / "index", embedder=embedder, progress=False, log=lambda _: None)
    assistant = Assistant(corpus, tmp_path / "index", embedder=embedder, log=lambda _: None)
    answer = assistant.ask("What is the incubation period of the Velmora virus?")
    assert not answer.abstained and "twelve days" in answer.answer
    assert {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)} == {c.n for c in answer.citations}
    for c in answer.citations:
        assert paper[c.start : c.end] == c.text
    assert any(c.text.endswith("[7, 8]. [9]") for c in answer.citations)  # the sentence keeps its own references
