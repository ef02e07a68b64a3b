"""SQuAD and BEIR in, RAGAS and TREC out, trec_eval's measures: every figure checked against a hand-worked value."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from eval.formats import ragas_row, read_beir, read_squad, trec_lines, write_corpus
from eval.ir_metrics import gold_measures, measure
from eval.metrics import aggregate, judge
from rag.errors import BadInput
from tests.conftest import ROOT, run_rag

P1 = "Ann Lee chaired the meeting. It was held in Osaka in 2025."
P2 = "The report lists four actions. Funding came from the ministry."
P3 = "Rivers flood in spring. The dam was built in 1931."

SQUAD = {
    "version": "v2.0",
    "data": [
        {
            "title": "Policy Dialogue",
            "paragraphs": [
                {
                    "context": P1,
                    "qas": [
                        # right offset
                        {"id": "a", "question": "Who chaired the meeting?",
                         "answers": [{"text": "Ann Lee", "answer_start": 0}]},
                        # wrong offset (points at "chaired"), repaired by search; two crowd answers, one sentence
                        {
                            "id": "b",
                            "question": "Where was it held?",
                            "answers": [{"text": "Osaka", "answer_start": 8}, {"text": "in Osaka", "answer_start": 41}],
                        },
                        {"id": "c", "question": "Who opened the meeting?", "answers": [], "is_impossible": True,
                         "plausible_answers": [{"text": "Ann Lee", "answer_start": 0}]},
                    ],
                },
                {
                    "context": P2,
                    "qas": [
                        # one answer not in the paragraph at all (unfound), the other found
                        {
                            "id": "d",
                            "question": "Who funded it?",
                            "answers": [{"text": "the treasury", "answer_start": 3},
                                        {"text": "the ministry", "answer_start": 49}],
                        },
                        # no answer text in the paragraph: left out, counted
                        {"id": "e", "question": "How many?", "answers": [{"text": "five", "answer_start": 0}]},
                    ],
                },
            ],
        },
        {
            "title": "Rivers/Dams",
            "paragraphs": [{"context": P3, "qas": [{"id": "f", "question": "When was the dam built?",
                                                    "answers": [{"text": "1931", "answer_start": 45}]}]}],
        },
    ],
}  # fmt: skip


def write_json(path: Path, data) -> Path:
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path


def test_squad_articles_become_documents_and_questions_gold_pairs(tmp_path):
    data = read_squad(write_json(tmp_path / "s.json", SQUAD))
    assert [(f.name, f.text) for f in data.files] == [
        ("Policy Dialogue.txt", P1 + "\n\n" + P2 + "\n"),
        ("doc-" + __import__("hashlib").sha256(b"Rivers/Dams").hexdigest()[:12] + ".txt", P3 + "\n"),
    ]
    gold = {row["id"]: row for row in data.gold}
    assert list(gold) == ["a", "b", "c", "d", "f"]  # "e" left out: its answer is not in its paragraph
    assert gold["a"] == {
        "id": "a",
        "question": "Who chaired the meeting?",
        "answers": ["Ann Lee"],
        "evidence": ["Ann Lee chaired the meeting."],
        "answerable": True,
        "article": "Policy Dialogue",
    }
    assert gold["b"]["answers"] == ["Osaka", "in Osaka"]
    assert gold["b"]["evidence"] == ["It was held in Osaka in 2025."]
    assert gold["c"]["answerable"] is False and gold["c"]["answers"] == [] and gold["c"]["evidence"] == []
    assert gold["d"]["answers"] == ["the treasury", "the ministry"]
    assert gold["d"]["evidence"] == ["Funding came from the ministry."]
    assert gold["f"]["evidence"] == ["The dam was built in 1931."]
    # "Osaka" at 8 -> 44: repaired; "in Osaka" at 41 is right. "the treasury" and "five": unfound.
    assert (data.repaired, data.unfound, data.skipped) == (1, 2, 1)


def test_squad_limits_articles_and_questions(tmp_path):
    path = write_json(tmp_path / "s.json", SQUAD)
    one = read_squad(path, max_articles=1)
    assert [f.name for f in one.files] == ["Policy Dialogue.txt"] and [r["id"] for r in one.gold] == list("abcd")
    assert [r["id"] for r in read_squad(path, max_questions=2).gold] == ["a", "b"]


def test_evidence_is_the_sentence_sharing_most_words_with_the_question(tmp_path):
    context = "Paris is big. The capital of France is Paris."
    qa = {"id": "q", "question": "What is the capital of France?", "answers": [
        {"text": "Paris", "answer_start": 0}, {"text": "Paris", "answer_start": 39}]}  # fmt: skip
    data = read_squad(write_json(tmp_path / "s.json", {"data": [{"title": "T", "paragraphs": [
        {"context": context, "qas": [qa]}]}]}))  # fmt: skip
    assert data.gold[0]["answers"] == ["Paris"]
    assert data.gold[0]["evidence"] == ["The capital of France is Paris."]  # 4 words shared against 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"data": [\n  {"title": "T",\n   "paragraphs": [}\n]}', "s.json:3: not valid JSON"),
        ('{"data": {"title": "T"}}', "s.json:1: 'data' (the list of articles) must be a JSON list"),
        (
            '{"data": [\n {"title": "T", "paragraphs": [\n  {"context": "C.", "qas": [\n'
            '   {"id": "x", "question": "Q?", "answers": [{"text": "C", "answer_start": 0}]},\n'
            '   {"id": "y", "answers": []}\n]}]}]}',
            "s.json:5: 'question' must be a string",
        ),
        (
            '{"data": [\n {"title": "T", "paragraphs": [\n  {"context": "C.", "qas": [\n'
            '   {"id": "x", "question": "Q?",\n    "answers": [{"text": "C", "answer_start": "0"}]}]}]}]}',
            "s.json:5: 'answer_start' must be an integer",
        ),
        (
            '{"data": [{"title": "T", "paragraphs": [{"context": "C.", "qas": [\n'
            ' {"id": "x", "question": "Q?", "answers": [{"text": "C", "answer_start": 0}]},\n'
            ' {"id": "x", "question": "Q?", "answers": [{"text": "C", "answer_start": 0}]}]}]}]}',
            "s.json:3: duplicate question id 'x'",
        ),
    ],
)
def test_a_bad_squad_file_names_the_line(tmp_path, text, message):
    path = tmp_path / "s.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BadInput, match="^" + __import__("re").escape(str(tmp_path / message))):
        read_squad(path)


def make_beir(folder: Path, qrels: str = "query-id\tcorpus-id\tscore\nq1\td1\t2\nq1\td3\t1\nq2\td2\t1\n") -> Path:
    (folder / "qrels").mkdir(parents=True)
    docs = [
        {"_id": "d1", "title": "Osaka", "text": "The dialogue was held in Osaka."},
        {"_id": "d2", "title": "", "text": "Dams hold back rivers."},
        {"_id": "d3", "title": "Venue", "text": "Osaka hosted it in 2025."},
        {"_id": "doc 4", "title": "Other", "text": "Nothing about it."},
    ]
    (folder / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    queries = [{"_id": "q1", "text": "Where was the dialogue held?"}, {"_id": "q2", "text": "What do dams do?"},
               {"_id": "q3", "text": "Unjudged?"}]  # fmt: skip
    (folder / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries), encoding="utf-8")
    (folder / "qrels" / "test.tsv").write_text(qrels, encoding="utf-8")
    return folder


def test_beir_folder_becomes_documents_queries_and_graded_qrels(tmp_path):
    data = read_beir(make_beir(tmp_path / "beir"))
    assert [(f.name, f.text) for f in data.files] == [
        ("d1.txt", "Osaka\n\nThe dialogue was held in Osaka.\n"),
        ("d2.txt", "Dams hold back rivers.\n"),
        ("d3.txt", "Venue\n\nOsaka hosted it in 2025.\n"),
        ("doc 4.txt", "Other\n\nNothing about it.\n"),
    ]
    assert data.doc_of_file["doc 4.txt"] == "doc 4"
    assert data.queries == (("q1", "Where was the dialogue held?"), ("q2", "What do dams do?"))  # judged only
    assert data.qrels == {"q1": {"d1": 2, "d3": 1}, "q2": {"d2": 1}}
    assert read_beir(tmp_path / "beir", max_questions=1).queries == (("q1", "Where was the dialogue held?"),)
    write_corpus(data.files, tmp_path / "corpus")
    assert (tmp_path / "corpus" / "d3.txt").read_text(encoding="utf-8") == "Venue\n\nOsaka hosted it in 2025.\n"
    with pytest.raises(BadInput, match="exists with other text"):
        write_corpus([type(data.files[0])("d1.txt", "changed\n")], tmp_path / "corpus")


@pytest.mark.parametrize(
    ("qrels", "message"),
    [
        ("query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td9\t1\n", "test.tsv:3: corpus id 'd9' is not in corpus.jsonl"),
        ("q1\td1\t1\nq7\td1\t1\n", "test.tsv:2: query id 'q7' is not in queries.jsonl"),
        ("query-id\tcorpus-id\tscore\nq1 d1 1\n", "test.tsv:2: expected query-id, corpus-id and an integer score"),
    ],
)
def test_a_bad_qrels_line_is_named(tmp_path, qrels, message):
    with pytest.raises(BadInput, match=__import__("re").escape(message)):
        read_beir(make_beir(tmp_path / "beir", qrels))


def test_a_bad_corpus_or_query_line_is_named(tmp_path):
    folder = make_beir(tmp_path / "beir")
    with (folder / "corpus.jsonl").open("a", encoding="utf-8") as handle:
        handle.write('{"_id": "d9", "text": 5}\n')
    with pytest.raises(BadInput, match=r"corpus.jsonl:5: 'text' must be a string"):
        read_beir(folder)
    folder = make_beir(tmp_path / "beir2")
    with (folder / "queries.jsonl").open("a", encoding="utf-8") as handle:
        handle.write('{"_id": "q9", "text": " "}\n')
    with pytest.raises(BadInput, match=r'queries.jsonl:4: expected a non-empty "text" string'):
        read_beir(folder)


# trec_eval's measures, by hand. Gains are the grades; a rank-r document is discounted by log2(r + 1).
QRELS = {
    "q1": {"d1": 2, "d3": 1, "d9": 0},  # two relevant documents, graded
    "q2": {"d5": 1},  # retrieved nothing relevant
    "q3": {"d1": 1},  # its relevant document at rank 11: beyond the @10 cut-offs
    "q4": {"d1": 1},  # not in the run at all: counts as 0
    "q5": {"d2": 0},  # nothing relevant: not a judged query
}
RUN = {"q1": ["d3", "d2", "d1"], "q2": ["d4"], "q3": [f"x{i}" for i in range(10)] + ["d1"], "q5": ["d2"]}


def test_trec_eval_measures_match_hand_worked_values():
    m = measure(QRELS, RUN)
    ndcg_q1 = (1 / 1 + 2 / math.log2(4)) / (2 / 1 + 1 / math.log2(3))  # d3 (1) at 1, d1 (2) at 3; ideal 2, 1
    assert ndcg_q1 == pytest.approx(0.760188, abs=1e-6)  # 2 / 2.630930
    assert m["ir_ndcg@10"] == pytest.approx(ndcg_q1 / 4)
    assert m["ir_map@100"] == pytest.approx(((1 / 1 + 2 / 3) / 2 + 0 + 1 / 11 + 0) / 4)  # 0.231061
    assert m["ir_recall@1"] == pytest.approx(0.5 / 4)
    assert m["ir_recall@3"] == m["ir_recall@5"] == m["ir_recall@10"] == pytest.approx(1 / 4)
    assert m["ir_recall@100"] == pytest.approx(2 / 4)
    assert m["ir_mrr@10"] == pytest.approx(1 / 4)  # q3's 1/11 is beyond the cut
    assert set(measure({"q": {"d": 0}}, {"q": ["d"]}).values()) == {None}


def test_gold_pair_measures_agree_with_the_design_metrics_on_the_hand_worked_suite():
    """The suite of tests/test_metrics.py: evidence at rank 2 for one question, never for the other."""
    from tests.test_metrics import EVIDENCE

    gold = [
        {"id": "a", "question": "q", "answers": ["Enkhtur"], "evidence": [EVIDENCE], "answerable": True},
        {"id": "b", "question": "q", "answers": ["Osaka"], "evidence": [EVIDENCE], "answerable": True},
        {"id": "c", "question": "q", "answers": [], "evidence": [], "answerable": False},
    ]
    answers = [
        {"answer": "x", "abstained": False, "citations": [], "passages": [{"text": "other"}, {"text": EVIDENCE},
                                                                          {"text": "more " + EVIDENCE}]},
        {"answer": "Tokyo", "abstained": False, "citations": [], "passages": [{"text": "other"}]},
        {"answer": "", "abstained": True, "citations": [], "passages": [{"text": EVIDENCE}]},
    ]  # fmt: skip
    ours = aggregate([judge(g, a) for g, a in zip(gold, answers, strict=True)])
    lib = gold_measures(gold, answers)
    for k in (1, 3, 5, 10):
        assert lib[f"ir_recall@{k}"] == ours[f"recall@{k}"]
    assert lib["ir_mrr@10"] == ours["mrr@10"] == pytest.approx(0.25)
    assert lib["ir_ndcg@10"] == pytest.approx((1 / math.log2(3)) / 2)  # one relevant item, first hit at rank 2
    assert lib["ir_map@100"] == pytest.approx(0.25)


def test_ragas_rows_and_trec_lines():
    row = {"id": "a", "question": "Who?", "answers": ["Ann", "Ann Lee"], "evidence": ["Ann spoke."], "answerable": True}
    assert ragas_row(row, {"answer": "Ann spoke. [1]"}, ["Ann spoke.", "Bo"]) == {
        "user_input": "Who?",
        "response": "Ann spoke. [1]",
        "retrieved_contexts": ["Ann spoke.", "Bo"],
        "reference": "Ann",
        "reference_contexts": ["Ann spoke."],
    }
    unanswerable = {"question": "Why?", "answers": [], "evidence": [], "answerable": False}
    assert ragas_row(unanswerable, {"answer": "The documents do not answer"}, []) == {
        "user_input": "Why?",
        "response": "The documents do not answer",
        "retrieved_contexts": [],
        "reference": "The documents do not answer this question.",
    }
    assert ragas_row({"question": "Q", "evidence": ["E"]}, None, ["P"]) == {
        "user_input": "Q",
        "retrieved_contexts": ["P"],
        "reference_contexts": ["E"],
    }
    assert trec_lines("q 1", ["a.txt#0-9", "doc 4"], "rag") == [
        "q%201 Q0 a.txt#0-9 1 1 rag",
        "q%201 Q0 doc%204 2 0.5 rag",
    ]


RAGAS_FIELDS = {"user_input", "retrieved_contexts", "reference_contexts", "response", "reference"}


def check_ragas_file(path: Path, n: int) -> None:
    """Field names as RAGAS's SingleTurnSample spells them; loaded by its own loader where ragas is installed."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == n and all(
        set(r) <= RAGAS_FIELDS and {"user_input", "retrieved_contexts"} <= set(r) for r in rows
    )
    try:
        from ragas import EvaluationDataset
    except ImportError:
        return
    assert len(EvaluationDataset.from_jsonl(str(path))) == n


def table(stdout: str, first: str) -> dict[str, str]:
    """The first row of the printed table whose first column is `first`, as {column: value}."""
    lines = stdout.splitlines()
    i = next(i for i, line in enumerate(lines) if line.split()[:1] == [first])
    return dict(zip(lines[i].split(), lines[i + 1].split()[1:], strict=True))


@pytest.mark.slow  # two index builds with the real model (about a minute of CPU)
def test_squad_and_beir_end_to_end_with_exports(tmp_path):
    """The real model on the small files: four chunks at most, so every passage is retrieved and every figure known."""
    squad = write_json(tmp_path / "small.json", SQUAD)
    index = str(tmp_path / "index" / "main")
    ragas, trec = tmp_path / "r.jsonl", tmp_path / "run.txt"
    out = run_rag("eval", "--squad", str(squad), "--index", index, "--no-report",
                  "--export", "ragas", str(ragas), "--export", "trec", str(trec))  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "1 answer offset(s) repaired by search, 2 answer(s) not found" in out.stderr
    assert table(out.stdout, "recall@1")["recall@5"] == "1.000"  # 4 answerable questions, every passage retrieved
    ir = table(out.stdout, "ir_ndcg@10")
    assert ir["ir_recall@5"] == ir["ir_recall@100"] == "1.000"
    check_ragas_file(ragas, 5)
    run = [line.split() for line in trec.read_text(encoding="utf-8").splitlines()]
    assert run and all(len(r) == 6 and r[1] == "Q0" for r in run) and {r[0] for r in run} == set("abcdf")

    beir, ragas, trec = make_beir(tmp_path / "beir"), tmp_path / "b.jsonl", tmp_path / "beir.txt"
    out = run_rag("eval", "--beir", str(beir), "--index", index,
                  "--export", "trec", str(trec), "--export", "ragas", str(ragas))  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert table(out.stdout, "ir_ndcg@10")["ir_recall@5"] == "1.000"  # 4 documents: all retrieved for both queries
    run = [line.split() for line in trec.read_text(encoding="utf-8").splitlines()]
    assert sorted({r[2] for r in run if r[0] == "q1"}) == ["d1", "d2", "d3", "doc%204"]
    check_ragas_file(ragas, 2)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--squad", "{tmp}/bad.json"], "bad.json:2: not valid JSON"),
        (["--beir", "{tmp}/beir"], "test.tsv:3: corpus id 'd9' is not in corpus.jsonl"),
        (["--squad", "{tmp}/ok.json", "--export", "csv", "{tmp}/x"], "--export 'csv': choose one of ragas, trec"),
        (["--beir", "{tmp}/beir", "--articles", "2"], "--articles is for --squad"),
        (["--squad", "{tmp}/missing.json"], "cannot read SQuAD file"),
    ],
)
def test_bad_files_exit_2_with_one_line(tmp_path, args, message):
    (tmp_path / "bad.json").write_text('{"data": [\n nope]}', encoding="utf-8")
    write_json(tmp_path / "ok.json", SQUAD)
    make_beir(tmp_path / "beir", "query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td9\t1\n")
    out = run_rag("eval", *[a.format(tmp=tmp_path) for a in args], "--index", str(tmp_path / "i" / "main"), timeout=60)
    assert out.returncode == 2
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr


def squad_from_suite(folder: Path) -> dict:
    """A benchmark suite rebuilt as SQuAD 2.0 JSON: paragraphs from its corpus, answer_start inside the evidence."""
    rows = [json.loads(line) for line in (folder / "gold.jsonl").read_text(encoding="utf-8").splitlines() if line]
    data = []
    for path in sorted((folder / "corpus").glob("*.txt")):
        paras = path.read_text(encoding="utf-8").rstrip("\n").split("\n\n")
        qas: list[list[dict]] = [[] for _ in paras]
        for row in (r for r in rows if r["article"] == path.stem):
            qa = {"id": row["id"], "question": row["question"], "answers": [], "is_impossible": not row["answerable"]}
            p = 0
            if row["answerable"]:
                ev = row["evidence"][0]
                p = next(i for i, text in enumerate(paras) if ev in text)
                at = paras[p].index(ev)
                qa["answers"] = [
                    {"text": a, "answer_start": at + ev.index(a) if a in ev else paras[p].index(a)}
                    for a in row["answers"]
                ]
            qas[p].append(qa)
        data.append(
            {"title": path.stem, "paragraphs": [{"context": c, "qas": q} for c, q in zip(paras, qas, strict=True)]}
        )
    return {"version": "v2.0", "data": data}


SUITE = ROOT / "eval" / "benchmarks" / "squad-val"


def test_squad_val_rebuilt_as_squad_json_reads_back_as_the_suite(tmp_path):
    """Same documents byte for byte, same questions and answers; evidence differs only where the index's sentence
    splitter keeps "St. Johns" and "Rajendra K. Pachauri" whole (the suite's sentence is then a prefix or suffix)."""
    data = read_squad(write_json(tmp_path / "squad-val.json", squad_from_suite(SUITE)))
    for f in data.files:
        assert f.text == (SUITE / "corpus" / f.name).read_text(encoding="utf-8")
    suite = {row["id"]: row for row in map(json.loads, (SUITE / "gold.jsonl").read_text(encoding="utf-8").splitlines())}
    ours = {row["id"]: row for row in data.gold}
    assert ours.keys() == suite.keys() and (data.repaired, data.unfound, data.skipped) == (0, 0, 0)
    differ = []
    for qid, row in suite.items():
        assert {k: v for k, v in ours[qid].items() if k != "evidence"} == {
            k: v for k, v in row.items() if k != "evidence"
        }
        if ours[qid]["evidence"] != row["evidence"]:
            (mine,), (theirs,) = ours[qid]["evidence"], row["evidence"]
            assert theirs in mine and len(theirs) < len(mine)
            differ.append(qid)
    assert len(differ) == 4


@pytest.mark.slow
def test_squad_flag_gives_the_suites_metrics(tmp_path):
    """`rag eval --squad squad-val.json` (rebuilt by the test above) against `rag eval --suite squad-val`."""
    squad = write_json(tmp_path / "squad-val.json", squad_from_suite(SUITE))
    index = str(tmp_path / "index" / "main")
    reports = str(tmp_path / "reports")
    a = run_rag("eval", "--suite", "squad-val", "--index", index, "--reports", reports, timeout=1800)
    b = run_rag("eval", "--squad", str(squad), "--index", index, "--reports", reports, timeout=1800)
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    runs = sorted(p for p in Path(reports).iterdir() if (p / "metrics.json").is_file())
    first, second = (json.loads((p / "metrics.json").read_text(encoding="utf-8")) for p in runs)
    suite, squad_m = first["squad-val"]["default"], second["squad-val"]["default"]
    assert suite["questions"] == squad_m["questions"] == 180
    for name, value in suite.items():
        if not name.startswith("latency"):
            assert squad_m[name] == value, name
