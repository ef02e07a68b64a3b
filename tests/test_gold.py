"""The gold sets are only worth what their evidence is: every snippet verbatim in its corpus."""

from __future__ import annotations

import pytest

from eval.harness import SUITES, load_gold
from eval.metrics import contains_phrase, normalize_answer, squash
from rag.errors import BadInput
from tests.conftest import CORPUS, ROOT

# Suites assembled from parts (report+distractors) reuse another suite's gold, checked under that suite.
OWN_CORPUS = sorted(name for name, suite in SUITES.items() if not suite.parts)


def _corpus_text(name: str) -> str:
    suite = SUITES[name]
    folder = CORPUS if suite.corpus.resolve() == (ROOT / "corpus").resolve() else suite.corpus  # not the user's
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt")))


@pytest.mark.parametrize("name", OWN_CORPUS)
def test_gold_evidence_is_in_the_corpus_and_answers_in_the_evidence(name):
    corpus = _corpus_text(name)
    rows = load_gold(SUITES[name].gold)
    for row in rows:
        for snippet in row["evidence"]:
            assert snippet in corpus, (row["id"], snippet[:60])
        inside = [any(squash(a) in squash(s) for s in row["evidence"]) for a in row["answers"]]
        # Our gold: every answer is inside its evidence. SQuAD's crowd answers may quote another
        # occurrence of the answer, so there one answer inside the evidence is enough.
        assert all(inside) if name == "report" else any(inside) or not inside, (row["id"], row["answers"])
        if not row["answerable"]:
            assert row["answers"] == [] and row["evidence"] == []
    assert len({r["id"] for r in rows}) == len(rows)


@pytest.mark.parametrize("name", OWN_CORPUS)
def test_every_nugget_phrase_can_be_quoted_from_the_evidence(name):
    """An extractive answer can only cover a nugget whose phrases the documents hold as whole words."""
    rows = [r for r in load_gold(SUITES[name].gold) if r.get("nuggets")]
    corpus = _corpus_text(name) if rows else ""
    for row in rows:
        evidence = " ".join(row["evidence"])
        for phrases in row["nuggets"]:
            assert 1 <= len(phrases) <= 3, (row["id"], phrases)
            for phrase in phrases:
                assert 1 <= len(normalize_answer(phrase).split()) <= 5, (row["id"], phrase)
                assert contains_phrase(evidence, phrase), (row["id"], phrase)
                # And in the corpus as normalised whole words: evidence cut just before "[citation needed]"
                # can hold "ministers" where the corpus, normalised, reads "ministerscitation".
                assert contains_phrase(corpus, phrase), (row["id"], phrase)


def test_open_gold_has_every_shape_and_questions_the_documents_do_not_answer():
    report = [r for r in load_gold(SUITES["report"].gold) if "nuggets" in r]
    squad = load_gold(SUITES["squad-val-open"].gold)
    dev = load_gold(SUITES["squad-dev-open"].gold)
    train = load_gold(SUITES["squad-train-open"].gold)
    assert all("nuggets" in r for r in squad + dev + train)
    for rows, answerable, unanswerable in ((report, 40, 8), (squad, 20, 3), (dev, 30, 5), (train, 80, 8)):
        assert sum(r["answerable"] for r in rows) >= answerable
        assert sum(not r["answerable"] for r in rows) >= unanswerable
        assert all(3 <= len(r["nuggets"]) <= 6 for r in rows if r["answerable"])
    for rows in (report, dev):
        starts = {r["question"].split()[0].lower() for r in rows}
        assert {"list", "summarize", "compare", "what", "who", "how", "why", "tell"} <= starts, starts


def test_report_gold_has_the_promised_mix():
    rows = load_gold(SUITES["report"].gold)
    assert len(rows) >= 60
    assert sum(not r["answerable"] for r in rows) >= 15


def test_a_malformed_gold_line_names_the_line_and_field(tmp_path):
    path = tmp_path / "g.jsonl"
    path.write_text(
        '{"id": "a", "question": "q", "answers": ["x"], "evidence": ["x"], "answerable": true}\n'
        '{"id": "b", "question": "q", "answers": "x", "evidence": ["x"], "answerable": true}\n',
        encoding="utf-8",
    )
    with pytest.raises(BadInput, match=r"g.jsonl:2: field 'answers'"):
        load_gold(path)


@pytest.mark.parametrize(
    "fields, message",
    [
        ('"answers": [], "evidence": ["x"], "answerable": true, "nuggets": [["a"], []]', "list of non-empty lists"),
        ('"answers": [], "evidence": ["x"], "answerable": true, "nuggets": [["a", 3]]', "list of non-empty lists"),
        ('"answers": [], "evidence": ["x"], "answerable": true, "nuggets": "a"', "list of non-empty lists"),
        ('"answers": ["a"], "evidence": ["x"], "answerable": true, "nuggets": [["a"]]', "has 'answers': \\[\\]"),
        ('"answers": [], "evidence": [], "answerable": true, "nuggets": [["a"]]', "needs 'nuggets' and 'evidence'"),
        ('"answers": [], "evidence": ["x"], "answerable": true, "nuggets": []', "needs 'nuggets' and 'evidence'"),
        ('"answers": [], "evidence": [], "answerable": false, "nuggets": [["a"]]', "has 'nuggets': \\[\\]"),
    ],
)
def test_malformed_nuggets_are_refused_naming_the_line(tmp_path, fields, message):
    path = tmp_path / "g.jsonl"
    path.write_text('{"id": "a", "question": "q", ' + fields + "}\n", encoding="utf-8")
    with pytest.raises(BadInput, match=r"g.jsonl:1: .*" + message):
        load_gold(path)


def test_open_rows_load_beside_factoid_ones(tmp_path):
    path = tmp_path / "g.jsonl"
    path.write_text(
        '{"id": "a", "question": "q", "answers": ["x"], "evidence": ["x"], "answerable": true}\n'
        '{"id": "b", "question": "q", "answers": [], "evidence": ["x"], "answerable": true, "nuggets": [["x", "y"]]}\n'
        '{"id": "c", "question": "q", "answers": [], "evidence": [], "answerable": false, "nuggets": []}\n',
        encoding="utf-8",
    )
    assert [r.get("nuggets") for r in load_gold(path)] == [None, [["x", "y"]], []]
