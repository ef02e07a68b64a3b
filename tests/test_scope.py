"""Search scope: a question limited to some documents searches and cites only those (Assistant, CLI, API)."""

from __future__ import annotations

import json
import shutil

import pytest

from rag.errors import BadInput
from tests.conftest import REPORT, run_rag

HARBOUR = (
    "Harbour notes\n\n"
    "Session II of the harbour council was chaired by Captain Maria Lindqvist of the Icelandic Coast Guard.\n\n"
    "The council met in Reykjavik and discussed the new ferry timetable.\n"
)
QUESTION = "Who chaired Session II?"


@pytest.fixture(scope="module")
def two_documents(tmp_path_factory, embedder):
    """The report and a note that answers the same question differently, indexed together."""
    from index.storage.build import ingest
    from rag.assistant import Assistant

    root = tmp_path_factory.mktemp("scope")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(REPORT, corpus / REPORT.name)
    (corpus / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    ingest(corpus, root / "index", embedder=embedder, progress=False, log=lambda _: None)
    return Assistant(corpus, root / "index", embedder=embedder, log=lambda _: None)


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_only_the_chosen_documents_are_searched_and_cited(two_documents, mode):
    everything = two_documents.ask(QUESTION, k=10, retrieval=mode)
    assert {p.chunk.source for p in everything.passages} == {REPORT.name, "harbour.txt"}
    for only in ([REPORT.name], ["harbour.txt"]):
        answer = two_documents.ask(QUESTION, k=10, retrieval=mode, sources=only)
        assert answer.passages and {p.chunk.source for p in answer.passages} == set(only)
        assert {c.source for c in answer.citations} <= set(only)
    harbour = two_documents.ask(QUESTION, retrieval=mode, sources=["harbour.txt"])
    assert not harbour.abstained and "Maria Lindqvist" in harbour.answer


@pytest.mark.parametrize(
    "question",
    [
        "Summarize Session II.",  # a section the other document has
        "Compare Session II and Session IV.",
        "Who chaired Session II, and where did the council meet?",
        "Who spoke in Session II?",
        "Summarize the section on the ferry timetable.",
    ],
)
def test_questions_that_search_again_for_their_parts_stay_in_scope(two_documents, question):
    # summaries, comparisons and multi-part questions look up sections and search again for each side or part:
    # those searches, and the sections found, keep to the chosen documents too
    answer = two_documents.ask(question, sources=["harbour.txt"])
    assert {c.source for c in answer.citations} <= {"harbour.txt"}
    assert {p.chunk.source for p in answer.passages} <= {"harbour.txt"}


def test_a_scope_naming_no_indexed_document_is_refused(two_documents):
    with pytest.raises(BadInput, match="not an indexed document: nope.txt; indexed: "):
        two_documents.ask(QUESTION, sources=["nope.txt", "harbour.txt"])
    with pytest.raises(BadInput, match="sources is empty"):
        two_documents.ask(QUESTION, sources=[])
    with pytest.raises(BadInput, match="list of document names"):
        two_documents.ask(QUESTION, sources="harbour.txt")


def test_rag_ask_takes_sources(two_documents):
    args = ["--corpus", str(two_documents.corpus_dir), "--index", str(two_documents.index_dir)]
    result = run_rag("ask", *args, "--json", "--sources", "harbour.txt", QUESTION, timeout=300)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert {c["source"] for c in out["citations"]} == {"harbour.txt"}
    assert {p["source"] for p in out["passages"]} == {"harbour.txt"}
    bad = run_rag("ask", *args, "--sources", "nope.txt", QUESTION, timeout=300)
    assert bad.returncode == 2 and "not an indexed document: nope.txt" in bad.stderr


@pytest.mark.slow
def test_the_ask_api_takes_sources(two_documents):
    from gradio_client import Client

    from tests.test_ui import free_port
    from ui.app import serve

    app, url = serve(two_documents, port=free_port(), prevent_thread_lock=True)
    try:
        client = Client(url, verbose=False)
        out = client.predict(QUESTION, 10, "hybrid", ["harbour.txt"], api_name="/ask")
        assert {p["source"] for p in out["passages"]} == {"harbour.txt"} and out["citations"]
        assert len({p["source"] for p in client.predict(QUESTION, 10, api_name="/ask")["passages"]}) == 2
        with pytest.raises(Exception, match="not an indexed document"):
            client.predict(QUESTION, 5, "hybrid", ["nope.txt"], api_name="/ask")
    finally:
        app.close()
