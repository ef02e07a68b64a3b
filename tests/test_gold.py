"""The gold sets are only worth what their evidence is: every snippet verbatim in its corpus."""

from __future__ import annotations

import pytest

from eval.harness import SUITES, load_gold
from eval.metrics import squash
from rag.errors import BadInput
from tests.conftest import CORPUS, ROOT


@pytest.mark.parametrize("name", sorted(SUITES))
def test_gold_evidence_is_in_the_corpus_and_answers_in_the_evidence(name):
    suite = SUITES[name]
    folder = CORPUS if suite.corpus.resolve() == (ROOT / "corpus").resolve() else suite.corpus  # not the user's
    corpus = "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt")))
    rows = load_gold(suite.gold)
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
