"""Chunks must tile the document exactly, fit the model window, and never index the same text twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.encode.embed import wordpiece_counter
from index.load.documents import load_corpus, load_document
from index.text.chunking import ChunkerSettings, chunk_corpus, normalise
from index.text.sentences import split_sentences
from index.text.tokens import count_tokens
from tests.conftest import CORPUS, REPORT


@pytest.fixture(scope="module")
def report_doc():
    return load_document(REPORT, CORPUS)


def chunks_of(docs, **settings):
    return chunk_corpus(docs, ChunkerSettings(**settings), count_tokens, wordpiece_counter())


def assert_tiles(doc, chunks):
    ordered = sorted((c for c in chunks if c.source == doc.source), key=lambda c: c.start)
    assert ordered[0].start == 0
    assert ordered[-1].end == len(doc.text)
    rebuilt, pos = [], 0
    for c in ordered:
        assert c.text == doc.text[c.start : c.end]
        assert c.start <= pos, "gap between chunks"
        rebuilt.append(doc.text[pos : c.end] if c.end > pos else "")
        pos = max(pos, c.end)
    assert "".join(rebuilt) == doc.text


@pytest.mark.parametrize("max_tokens,overlap", [(160, 1), (64, 0), (256, 2), (32, 1)])
def test_chunk_offsets_rebuild_the_report(report_doc, max_tokens, overlap):
    assert_tiles(report_doc, chunks_of([report_doc], max_tokens=max_tokens, overlap_sentences=overlap))


def test_every_chunk_fits_the_model_window(report_doc):
    pieces = wordpiece_counter()
    for settings in ({}, {"max_tokens": 1000}):
        for c in chunks_of([report_doc], **settings):
            assert pieces(c.embed_text()) + 2 <= 256


def test_a_sentence_longer_than_the_window_is_split_not_truncated(tmp_path):
    long = "word " * 600
    (tmp_path / "long.txt").write_text(f"Title line\n{long.strip()}.\n", encoding="utf-8")
    docs, _ = load_corpus(tmp_path)
    chunks = chunks_of(docs, max_tokens=10_000)
    assert len(chunks) > 2
    assert_tiles(docs[0], chunks)
    assert all(wordpiece_counter()(c.embed_text()) + 2 <= 256 for c in chunks)


def test_chunks_keep_their_section_titles(report_doc):
    chunks = chunks_of([report_doc])
    by_text = {c.section for c in chunks if "TUNGALAG Chimid" in c.text}
    assert by_text == {"Advancing Learning and Innovation in Technical and Vocational Education and Training (TVET)"}
    assert any(c.section == "Closing Remarks" and "BOLDSAIKHAN" in c.text for c in chunks)


def test_repeated_section_at_the_end_becomes_an_alias(report_doc):
    chunks = chunks_of([report_doc])
    tail = [c for c in chunks if c.start >= report_doc.text.rindex("Enhancement of AI Proficiency")]
    assert tail and all(c.duplicate_of for c in tail)
    kept_ids = {c.id for c in chunks if c.duplicate_of is None}
    assert all(c.duplicate_of in kept_ids for c in tail)
    searchable_sentences = [
        normalise(c.sentence_text(s, e)) for c in chunks if not c.duplicate_of for s, e in c.sentences
    ]
    assert searchable_sentences.count(normalise("Session II was chaired by Dr. ARIUNAA Enkhtur")) == 0
    assert sum("session ii was chaired" in s for s in set(searchable_sentences)) == 1


def test_chunk_ids_are_stable_across_rebuilds(report_doc):
    assert [c.id for c in chunks_of([report_doc])] == [c.id for c in chunks_of([load_document(REPORT, CORPUS)])]


@pytest.mark.parametrize(
    "sentence",
    [
        "Session II was chaired by Dr. ARIUNAA Enkhtur, Associate Professor at University of Osaka in Japan.",
        "Ms. WANG Yufei, Assistant to President and Head of Overseas Business Department at Jiangxi KMAX "
        "Industrial Co. Ltd. in China, focused on",
        'She challenged attendees to continue reflecting on the fundamental question: "What is AI transformation?"',
        "Prof. HUANG Hua, Vice President of Nanjing Polytechnic Institute in China, presented",
    ],
)
def test_sentence_splitter_keeps_the_reports_sentences_whole(report_doc, sentence):
    spans = [report_doc.text[s:e] for s, e in split_sentences(report_doc.text)]
    assert any(span.startswith(sentence) for span in spans)


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        (
            'She asked: "What is AI?" Dr. Choi agreed. Mr. J. Smith left.',
            ['She asked: "What is AI?"', "Dr. Choi agreed.", "Mr. J. Smith left."],
        ),
        (  # as in scientific articles: a quote of the second sentence must not open with the first one's references
            "It spreads in winter (ILI). [4] [5, 6] Five studies agree [7] . In 2019 [8-10] it fell. [11]",
            ["It spreads in winter (ILI). [4] [5, 6]", "Five studies agree [7] .", "In 2019 [8-10] it fell. [11]"],
        ),
    ],
    ids=["quoted-question", "reference-markers"],
)
def test_sentence_splitter_ends_sentences_where_a_reader_would(text, sentences):
    assert [text[s:e] for s, e in split_sentences(text)] == sentences


def test_report_sections_come_from_its_heading_lines(report_doc):
    titles = [s.title for s in report_doc.sections]
    assert titles == [
        "2025 High-Level Policy Dialogue in East Asia Successfully Held",
        "Enhancement of AI Proficiency in the Higher Education Workforce",
        "Advancing Learning and Innovation in Technical and Vocational Education and Training (TVET)",
        "Closing Remarks",
    ]
    assert Path(REPORT).read_text(encoding="utf-8") == report_doc.text


def _words(chunk) -> int:
    return sum(len(chunk.sentence_text(s, e).split()) for s, e in chunk.sentences)


@pytest.mark.parametrize("max_tokens,overlap", [(144, 1), (32, 0), (16, 1)])
def test_no_fragment_chunks_and_the_report_still_tiles(report_doc, max_tokens, overlap):
    chunks = chunks_of([report_doc], max_tokens=max_tokens, overlap_sentences=overlap)
    assert_tiles(report_doc, chunks)
    for c in chunks:
        assert c.sentences, f"a heading alone became a passage: {c.text!r}"
        alone = sum(1 for o in chunks if o.section == c.section) == 1
        assert _words(c) >= 8 or alone, f"fragment chunk: {c.text!r}"


def test_a_short_sentence_joins_its_neighbour_and_a_trailing_heading_is_not_a_passage(tmp_path):
    text = (
        "# Accounts\n\nThe staff account was created for the backup service on the old server.\n"
        "It had uid 37.\n\n# Appendix\n"
    )
    (tmp_path / "notes.md").write_text(text, encoding="utf-8")
    docs, _ = load_corpus(tmp_path)
    chunks = chunks_of(docs, max_tokens=16, overlap_sentences=0)
    assert_tiles(docs[0], chunks)
    assert [c.text.strip() for c in chunks] == [text.strip()]
    assert chunks[0].section == "Accounts"


def test_a_file_with_the_same_text_is_reported_as_already_indexed(tmp_path):
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_bytes(REPORT.read_bytes())
    (tmp_path / "c.md").write_text("Owls hunt at night.", encoding="utf-8")
    (tmp_path / "d.txt").write_text("Owls hunt at night.", encoding="utf-8")
    docs, skipped = load_corpus(tmp_path)
    assert [d.source for d in docs] == ["a.txt", "c.md"]
    assert [(s.source, s.reason) for s in skipped] == [
        ("b.txt", "already indexed as a.txt (same text)"),
        ("d.txt", "already indexed as c.md (same text)"),
    ]


def test_already_indexed_finds_a_copy_of_an_indexed_document_by_its_text(tmp_path, report_index):
    from index.storage.duplicates import already_indexed

    (tmp_path / "renamed copy.txt").write_bytes(REPORT.read_bytes())
    (tmp_path / "new.txt").write_text("Owls hunt at night.", encoding="utf-8")
    assert already_indexed(tmp_path / "renamed copy.txt", report_index) == f"already indexed as {REPORT.name}"
    assert already_indexed(tmp_path / "new.txt", report_index) is None


def test_a_heading_line_the_splitter_cuts_and_a_page_break_do_not_leave_fragments():
    from index.load.documents import Document, Section

    body = "Owls hunt at night over the open fields near the wood."
    text = f"1. Introduction\n1.1. Version\n{body}\n\nIt ends here.\n"
    cut = text.index("It ends")
    sections = (
        Section("p. 1 > 1. Introduction", 0, text.index("1.1.")),
        Section("p. 1 > 1.1. Version", text.index("1.1."), cut),
        Section("p. 2 > 1.1. Version", cut, len(text)),
    )
    doc = Document("spec.pdf", "Spec", text, sections, "", pages=((1, 0, cut - 2), (2, cut, len(text))))
    chunks = chunks_of([doc], max_tokens=14, overlap_sentences=0)
    assert_tiles(doc, chunks)
    assert len(chunks) == 1 and chunks[0].section == "p. 1 > 1.1. Version"
