"""eval.render (the formats suite's renderer): each format loads back to the report's text, furniture dropped."""

from __future__ import annotations

import pytest

from tests.conftest import REPORT


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    from eval.render import render_corpus

    root = tmp_path_factory.mktemp("rendered")
    return {fmt: render_corpus(REPORT.parent, root / fmt, fmt) for fmt in ("pdf", "docx", "html")}


@pytest.mark.parametrize("fmt", ["pdf", "docx", "html"])
def test_each_rendering_loads_back_to_the_reports_paragraphs_without_headers_footers_or_nav(rendered, fmt):
    from eval.render import BOILERPLATE, blocks, offending
    from index.load.documents import load_document

    [path] = rendered[fmt]
    assert path.suffix == f".{fmt}" and path.read_bytes()[:4] in (b"%PDF", b"PK\x03\x04", b"<!DO")
    raw = path.read_bytes()
    assert fmt != "html" or all(line.encode() in raw for line in BOILERPLATE[2:])  # the page really has them
    doc = load_document(path, path.parent)
    text = " ".join(doc.text.split())
    paragraphs = [" ".join(line.split()) for _, line in blocks(REPORT.read_text(encoding="utf-8"))]
    assert [p for p in paragraphs if p not in text] == []
    assert offending(doc.text) == []
    assert "Home | Publications" not in doc.text and "Related reports" not in doc.text


def test_rendering_is_deterministic_and_rewrites_nothing_unchanged(rendered, tmp_path):
    from eval.render import render_corpus

    for fmt, [path] in rendered.items():
        before = path.stat().st_mtime_ns, path.read_bytes()
        again = render_corpus(REPORT.parent, tmp_path / fmt, fmt)[0]
        assert again.read_bytes() == before[1]
        render_corpus(REPORT.parent, path.parent, fmt)
        assert path.stat().st_mtime_ns == before[0]


def test_offending_finds_page_numbers_and_furniture_lines():
    from eval.render import FOOTER, offending

    assert offending("Rivers flood in spring.") == []
    assert offending(f"Page 3 of 9 Rivers flood. {FOOTER}") == [FOOTER, "Page 3 of 9"]


def test_the_formats_table_says_no_when_a_rendering_drifts_or_a_passage_holds_furniture():
    from eval.format_suite import offending_passages, summary

    def row(recall, accuracy):
        return {"hybrid": {"recall@5": recall, "answer_accuracy": accuracy}}

    metrics = {
        "formats-report-txt": row(1.0, 0.90),
        "formats-report-pdf": row(1.0, 0.88),  # 0.02 below: still within
        "formats-report-docx": row(0.97, 0.90),  # recall 0.03 below
        "formats-report-html": row(1.0, 0.90),
    }
    table = summary(metrics, {"report-html-hybrid": 2}).splitlines()
    verdicts = {line.split()[0]: (line.split()[-2], line.split()[-1]) for line in table[3:]}
    assert verdicts == {"txt": ("0", "yes"), "pdf": ("0", "yes"), "docx": ("0", "NO"), "html": ("2", "NO")}
    passages = [{"text": "Rivers flood in spring."}, {"text": "Rivers flood. Page 2 of 7"}]
    assert offending_passages([{"passages": passages}, {"passages": passages[:1]}]) == 1
