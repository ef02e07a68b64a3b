"""Documents as people have them: HTML pages with site furniture, Word files, laid-out PDFs; and hostile ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.load import html_text as html_module
from index.load.documents import load_corpus
from index.load.html_text import html_text

# A page as a documentation site serves it: banner, texinfo link bar, nav, permalink marks, sidebar, footers.
SITE_PAGE = """<!doctype html><html><head><title>Timers | Node.js</title></head><body>
<header><a href="/">Home</a> <a href="/docs">Docs</a> Site banner zyxbanner</header>
<div class="header"><p>Next: <a href="x.html">Closure Example</a>, Previous: <a href="t.html">Types</a>,
Up: <a href="u.html">Using libffi</a> &nbsp; [<a href="c.html">Contents</a>][<a href="i.html">Index</a>]</p></div><hr>
<nav><ul><li><a href="/a">About zyxnav</a><li><a href="/b">Blog</a></ul></nav>
<div id="content">
<h2>Timers<span><a class="mark" href="#timers" id="timers">#</a></span></h2>
<p>The timer module exposes a global API for scheduling functions.</p>
<h3>Class: Timeout<a class="headerlink" href="#class-timeout" title="Link to this heading">¶</a></h3>
<p>This object is created internally. See <a href="#x">setTimeout</a> for details.</p>
<p><a href="p.html">Previous</a> | <a href="n.html">Next</a> | <a href="/">Up</a></p>
<article><header><h1>Release notes</h1></header><p>Article text stays.</p><footer>Posted by Ann.</footer></article>
</div>
<aside>Related links zyxaside</aside>
<div role="navigation"><a href="/p">Prev zyxrole</a></div>
<footer>Copyright 2026 zyxfooter</footer>
<div class="sphinxsidebar"><p>Quick search zyxsidebar</p></div>
</body></html>
"""


def one(tmp_path: Path, name: str, data: bytes):
    (tmp_path / name).write_bytes(data)
    docs, skipped = load_corpus(tmp_path)
    assert len(docs) + len(skipped) == 1
    return (docs[0] if docs else None), (skipped[0].reason if skipped else None)


# ---- HTML: main content only ----------------------------------------------------------------------------


def test_html_site_furniture_and_link_bars_are_dropped(tmp_path):
    doc, reason = one(tmp_path, "timers.html", SITE_PAGE.encode())
    assert reason is None
    for furniture in ("zyx", "Closure Example", "Using libffi", "Previous", "Contents", "Home"):
        assert furniture not in doc.text, furniture
    assert doc.text.startswith("Timers\n\nThe timer module exposes a global API for scheduling functions.")
    assert "See setTimeout for details." in doc.text  # a link inside a sentence is content
    assert "Release notes\n\nArticle text stays.\n\nPosted by Ann." in doc.text  # an article's own header/footer


def test_html_headings_lose_their_permalink_marks(tmp_path):
    doc, _ = one(tmp_path, "timers.html", SITE_PAGE.encode())
    titles = [s.title for s in doc.sections]
    assert "Timers > Class: Timeout" in titles and "Release notes" in titles
    assert not any(mark in doc.text for mark in "#¶")
    assert doc.section_at(doc.text.index("This object")) == "Timers > Class: Timeout"


def test_a_page_with_main_keeps_only_main():
    page = "<body><div>Site menu zyxout</div><main><h1>Guide</h1><p>Read this.</p></main><p>zyxafter</p></body>"
    assert html_text(page).text == "Guide\n\nRead this."
    assert html_text("<body><p>Only text.</p><main></main></body>").text == "Only text."  # an empty main is ignored


@pytest.mark.parametrize(
    "line,dropped",
    [
        ('<p><a href="a">Home</a> | <a href="b">Blog</a> | <a href="c">About</a></p>', True),
        ('<p>Next: <a href="n">Setup</a>, Up: <a href="u">Guide</a></p>', True),
        ('<p>See <a href="a">the index</a> of terms for the details of every option listed there.</p>', False),
        ('<p>Read <a href="n">the next chapter</a>.</p>', False),
    ],
)
def test_link_bars_are_told_from_sentences_with_links(line, dropped):
    text = html_text(f"<p>Owls hunt at night.</p>{line}").text
    assert (text == "Owls hunt at night.") is dropped, text


# ---- HTML: hostile pages --------------------------------------------------------------------------------


NESTING_UNITS = [
    "<div>",
    "<span>",
    '<a href="#n">',
    "<li>w ",
    "<h2>w ",
    "<p>w ",
    "<pre>w\n",
    "<table><tr><td>",
    "<b></div>",
]


# About a second each: `make check` parses the first; the other eight are `heavy` (`make test` runs them all).
@pytest.mark.parametrize(
    "unit", [NESTING_UNITS[0], *(pytest.param(u, marks=pytest.mark.heavy) for u in NESTING_UNITS[1:])]
)
def test_deeply_nested_html_is_parsed_in_linear_time(tmp_path, monkeypatch, unit):
    # 400 KB of nested tags: the old parser scanned the open-tag stack per tag (231 s measured, quadratic). With
    # the child's limit at 10 s a quadratic parser is skipped and this fails; a linear one takes about 1 s.
    monkeypatch.setattr(html_module, "TIMEOUT_S", 10.0)
    page = "<html><body>" + unit * (400_000 // len(unit)) + "Owls hunt at night.</body></html>"
    (tmp_path / "good.txt").write_text("Larks sing at dawn.", encoding="utf-8")
    (tmp_path / "deep.html").write_text(page, encoding="utf-8")
    docs, skipped = load_corpus(tmp_path)
    assert skipped == [] and [d.source for d in docs] == ["deep.html", "good.txt"]
    assert docs[0].text.endswith("Owls hunt at night.")


def test_attribute_heavy_html_is_parsed_in_linear_time(tmp_path, monkeypatch):
    monkeypatch.setattr(html_module, "TIMEOUT_S", 10.0)
    page = "<html><body><p " + "a=b " * 100_000 + ">Owls hunt at night.</p></body></html>"
    doc, reason = one(tmp_path, "attrs.html", page.encode())
    assert reason is None and doc.text == "Owls hunt at night."


def test_a_broken_marked_section_is_a_comment_not_a_failed_file(tmp_path):
    # html.parser raises AssertionError on "<![" not followed by a name; browsers read it as a comment up to ">".
    doc, reason = one(tmp_path, "cdata.html", b"<p>Owls hunt.</p><![ x <p>Larks sing.</p><![>")
    assert reason is None and doc.text == "Owls hunt.\n\nLarks sing."


def test_an_html_parser_that_runs_too_long_is_stopped_and_the_file_skipped(tmp_path, monkeypatch):
    monkeypatch.setattr(html_module, "TIMEOUT_S", 0.001)  # no interpreter starts this fast: the timeout path runs
    (tmp_path / "good.txt").write_text("Owls hunt at night.", encoding="utf-8")
    (tmp_path / "slow.html").write_text("<p>Owls hunt at night.</p>", encoding="utf-8")
    docs, skipped = load_corpus(tmp_path)
    assert [d.source for d in docs] == ["good.txt"]
    assert skipped[0].source == "slow.html"
    assert skipped[0].reason.startswith("HTML parser did not finish within 0.001 s")


def test_an_html_parser_over_its_memory_cap_is_stopped_and_the_file_skipped(tmp_path, monkeypatch):
    monkeypatch.setattr(html_module, "MEMORY_BYTES", 64 * 1024 * 1024)
    page = '<p class="' + "a" * (16 * 1024 * 1024) + '">Owls</p>'  # 16 MB of attribute, read and copied
    _, reason = one(tmp_path, "attrs.html", page.encode())
    assert reason.startswith("HTML parser") and "64 MiB memory cap" in reason


# ---- DOCX -----------------------------------------------------------------------------------------------


def make_docx(path: Path) -> None:
    """A Word file as people write them: a title, headings, paragraphs, a bulleted list, a table."""
    import docx

    document = docx.Document()
    document.core_properties.title = "Owl Survey 2026"
    document.add_heading("Owl Survey", level=1)
    document.add_paragraph("Owls were counted at night along the river.")
    document.add_heading("Species", level=2)
    document.add_paragraph("Barn owls nest in old barns.", style="List Bullet")
    document.add_paragraph("Tawny owls call in autumn.", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    for r, row in enumerate([("Species", "Count"), ("Barn owl", "12")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    document.add_heading("Method", level=2)
    document.add_paragraph("Counts were made by two observers.")
    document.save(str(path))


def test_a_docx_keeps_headings_paragraphs_lists_and_tables(tmp_path):
    make_docx(tmp_path / "survey.docx")
    docs, skipped = load_corpus(tmp_path)
    assert skipped == []
    doc = docs[0]
    assert doc.title == "Owl Survey 2026" and doc.encoding == "docx" and doc.notes() == []
    assert doc.text == (
        "Owl Survey\n\nOwls were counted at night along the river.\n\nSpecies\n\n"
        "Barn owls nest in old barns.\nTawny owls call in autumn.\n\nSpecies | Count\nBarn owl | 12\n\n"
        "Method\n\nCounts were made by two observers."
    )
    assert doc.section_at(doc.text.index("Owls were")) == "Owl Survey"
    assert doc.section_at(doc.text.index("Tawny")) == "Owl Survey > Species"
    assert doc.section_at(doc.text.index("Barn owl |")) == "Owl Survey > Species"
    assert doc.section_at(doc.text.index("two observers")) == "Owl Survey > Method"


@pytest.mark.parametrize(
    "data,reason",
    [
        (b"This is plain text saved as .docx", "not a DOCX (not a zip archive)"),
        (b"", "empty file"),
    ],
)
def test_a_docx_that_is_not_a_zip_is_skipped_with_a_reason(tmp_path, data, reason):
    (tmp_path / "good.txt").write_text("Owls hunt at night.", encoding="utf-8")
    (tmp_path / "broken.docx").write_bytes(data)
    docs, skipped = load_corpus(tmp_path)
    assert [d.source for d in docs] == ["good.txt"]
    assert [s.source for s in skipped] == ["broken.docx"] and skipped[0].reason.startswith(reason)
    assert "\n" not in skipped[0].reason


def test_a_zip_that_is_not_a_docx_is_skipped_with_a_reason(tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "archive.docx", "w") as archive:
        archive.writestr("notes.txt", "Owls hunt at night.")
    _, reason = one(tmp_path, "archive.docx", (tmp_path / "archive.docx").read_bytes())
    assert reason.startswith("malformed DOCX (") and "\n" not in reason


# ---- PDF ------------------------------------------------------------------------------------------------


def layout_pdf(pages: list[list[str]]) -> bytes:
    """A PDF with several lines per page, top to bottom, as a word processor lays them out."""
    import io

    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, StreamObject

    writer = PdfWriter()
    font = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
            }
        )
    )
    for lines in pages:
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
        body = "".join(f"({line.replace('(', '[').replace(')', ']')}) Tj 0 -16 Td " for line in lines)
        stream = StreamObject()
        stream._data = f"BT /F1 11 Tf 72 740 Td {body}ET".encode()
        page[NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def guide_pages() -> list[list[str]]:
    """Three pages with a running header, "Page N of 3" footers, an author and date line, a hyphenated word."""
    header = "Owl Field Guide - draft"
    return [
        [
            "Owl Field Guide",
            "Thomas Leonard",
            "2 October 2018",
            "1 Night hunting",
            "Owls hunt at night over open fields and along the edges of the wood-",
            "land, where voles and mice are easy to hear in the grass below them.",
            "Page 1 of 3",
        ],
        [
            header,
            "2 Nesting",
            "Barn owls nest in old barns and in hollow trees near the farm build-",
            "ings, and they use the same nest site for many years when undisturbed.",
            "Page 2 of 3",
        ],
        [
            header,
            "3 Why do owls call?",
            "Tawny owls call in autumn when the young birds look for a territory",
            "of their own, and the familiar hooting carries far on still nights.",
            "Page 3 of 3",
        ],
    ]


def test_pdf_running_headers_footers_and_page_numbers_are_removed(tmp_path):
    doc, reason = one(tmp_path, "guide.pdf", layout_pdf(guide_pages()))
    assert reason is None
    assert "Page " not in doc.text and "draft" not in doc.text
    assert doc.title == "Owl Field Guide"
    assert doc.warnings == ("removed 5 running header, footer or page-number line(s)",)


def test_pdf_hyphenated_words_are_joined_and_paragraphs_rebuilt(tmp_path):
    doc, _ = one(tmp_path, "guide.pdf", layout_pdf(guide_pages()))
    assert "along the edges of the woodland, where voles" in doc.text
    assert "near the farm buildings, and they use" in doc.text
    assert "for a territory of their own, and the familiar" in doc.text


def test_pdf_headings_are_numbered_lines_not_authors_or_dates_and_name_their_page(tmp_path):
    doc, _ = one(tmp_path, "guide.pdf", layout_pdf(guide_pages()))
    titles = [s.title for s in doc.sections]
    assert "p. 1 > 1 Night hunting" in titles and "p. 2 > 2 Nesting" in titles
    assert "p. 3 > 3 Why do owls call?" in titles
    assert not any("Thomas Leonard" in t or "October" in t for t in titles)
    assert doc.section_at(doc.text.index("Tawny")) == "p. 3 > 3 Why do owls call?"
    for number, start, end in doc.pages:
        assert all(doc.page_at(o) == number for o in (start, end - 1))


def test_an_unnumbered_pdf_takes_headings_but_not_the_author_line(tmp_path):
    pages = [["Owl Notes", "Ann Smith", "Night Hunting", "Owls hunt at night over open fields near the wood."]]
    doc, _ = one(tmp_path, "notes.pdf", layout_pdf(pages))
    titles = [s.title for s in doc.sections]
    assert "p. 1 > Night Hunting" in titles and not any("Ann Smith" in t for t in titles)


@pytest.mark.parametrize(
    "lines,kept",
    [
        (["Intro", "5"], ["Intro"]),
        (["- 12 -", "Intro"], ["Intro"]),
        (["xiv", "Intro"], ["Intro"]),
        (["Intro", "5 apples were eaten."], ["Intro", "5 apples were eaten."]),
    ],
)
def test_page_numbers_at_page_edges_are_removed(lines, kept):
    from index.load.pdf_layout import strip_running_lines

    pages, _ = strip_running_lines([lines, ["Other page text."]])
    assert pages[0] == kept


def test_a_wrapped_heading_set_large_is_one_line_and_never_joins_body_text():
    from index.load.pdf_layout import reflow

    body = "Session II was chaired by a professor from the university, who opened it with a welcome"
    lines = ["Annual Policy Dialogue in East Asia Held in Autumn This Year", "Enhancement of AI Skills in", "Workforce"]
    large = "Enhancement of AI Skills in Workforce"
    assert reflow([*lines, body, "to all."], large).split("\n") == [lines[0], large, body + " to all."]
    assert "Workforce" in reflow([*lines, body, "to all."]).split("\n")  # by width alone: a line of its own


def test_larger_text_is_the_text_above_the_body_size():
    from index.load.pdf_text import larger_text

    pages = [[("Intro", 14.0), ("Owls hunt at night over the open fields.", 10.0)], [("Owls", 10.0)], []]
    assert larger_text(pages) == ["Intro", "", ""]


def test_header_footer_and_page_number_written_before_the_body_are_all_removed():
    from index.load.pdf_layout import strip_running_lines

    furniture = ["Owl Library: Field Guide", "Draft, not for circulation"]
    bodies = [["Owls hunt at night.", "They nest in barns."], ["Larks sing at dawn.", "Bats sleep by day."]]
    pages = [[*furniture, f"Page {n} of 2", *body] for n, body in enumerate(bodies, 1)]
    stripped, removed = strip_running_lines(pages)
    assert removed == 6 and stripped == bodies


# ---- A real-sized ingest ------------------------------------------------------------------------------------

RIVERS = "Alder Birch Cedar Dunmore Elm Fenwick Garron Hollis Ivel Juniper Kestrel Larch".split()
CROPS = "barley wheat oats rye lentils beans potatoes turnips flax hops maize millet".split()
PDF_HEADER, PDF_FOOTER = "River Survey Annual Report 2024 - Hydrology Division", "Internal circulation only"
SITE_LINES = (  # every line of site furniture the 100 pages carry around their article
    "Survey handbook",
    "Home",
    "Guide",
    "Reference",
    "Next: Mill",
    "Previous: Mill",
    "Up: Mills",
    "On this page",
    "Licensed under CC BY-SA 4.0",
    "Built with Sphinx",
)


def survey_pdf(target: Path, pages: int) -> None:
    """A small-page PDF (A6, reportlab) with a numbered heading and a wrapped paragraph on each page, and a
    running header, a running footer and a bare page number on every page."""
    from reportlab.lib.pagesizes import A6
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

    body = ParagraphStyle("body", fontName="Helvetica", fontSize=9, leading=11)
    head = ParagraphStyle("head", fontName="Helvetica-Bold", fontSize=11, leading=14, spaceAfter=4)
    story = []
    for n in range(1, pages + 1):
        text = (
            f"Gauge station {n} on the {RIVERS[n % 12]} river recorded {20 + 7 * n} millimetres of rain in the "
            f"wet season of {1900 + n}. Farmers near station {n} planted {CROPS[n % 12]} on {3 + n} hectares."
        )
        story += [Paragraph(f"{n}. Station {n} on the {RIVERS[n % 12]}", head), Paragraph(text, body), PageBreak()]

    def furniture(canvas, doc) -> None:
        width, height = A6
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawString(20, height - 22, PDF_HEADER)
        canvas.drawString(20, 16, PDF_FOOTER)
        canvas.drawRightString(width - 20, 16, str(doc.page))
        canvas.restoreState()

    template = SimpleDocTemplate(str(target), pagesize=A6, topMargin=34, bottomMargin=30, leftMargin=20, invariant=1)
    template.build(story[:-1], onFirstPage=furniture, onLaterPages=furniture)


def handbook_page(n: int) -> str:
    """A documentation page as Sphinx or texinfo serve it: header with search, nav, a Next/Previous/Up link bar,
    permalink marks, an "On this page" sidebar and a two-line footer around a one-paragraph article."""
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Mill {n} | Survey handbook</title>
</head><body>
<header><a href="/">Survey handbook</a><form><input name="q" placeholder="Search"></form></header>
<nav><ul><li><a href="/">Home</a></li><li><a href="/guide">Guide</a></li>
<li><a href="/ref">Reference</a></li></ul></nav>
<div class="navigation">Next: <a href="mill-{n + 1:03d}.html">Mill {n + 1}</a>,
Previous: <a href="mill-{n - 1:03d}.html">Mill {n - 1}</a>, Up: <a href="index.html">Mills</a>
[<a href="genindex.html">Index</a>]</div>
<main><h1>Mill {n}<a class="headerlink" href="#mill">¶</a></h1>
<p>Mill {n} stood on the {RIVERS[n % 12]} and ground {CROPS[n % 12]} from {1700 + n} until {1850 + n}, when
its wheel was rebuilt by {n % 5 + 2} carpenters from lock {n + 3}.</p></main>
<aside><h3>On this page</h3><ul><li><a href="#mill">Mill {n}</a></li></ul></aside>
<footer><p>© 2024 Survey handbook contributors. Licensed under CC BY-SA 4.0.</p>
<p>Built with Sphinx using a theme provided by Read the Docs.</p></footer>
</body></html>"""


@pytest.mark.slow  # ~100 parser child processes and ~300 texts through the real model on CPU
def test_ingest_of_a_55_page_pdf_and_100_html_pages_shows_progress_and_a_summary(tmp_path):
    import json
    import re

    from pypdf import PdfReader

    from index.storage.store import current_build
    from tests.conftest import run_rag

    corpus, index = tmp_path / "corpus", tmp_path / "index"
    (corpus / "handbook").mkdir(parents=True)
    survey_pdf(corpus / "survey.pdf", 55)
    assert len(PdfReader(corpus / "survey.pdf").pages) == 55
    for n in range(1, 101):
        (corpus / "handbook" / f"mill-{n:03d}.html").write_text(handbook_page(n), encoding="utf-8")

    result = run_rag("ingest", "--corpus", str(corpus), "--index", str(index), timeout=900)
    assert result.returncode == 0, result.stderr
    summary = result.stdout.splitlines()[0]
    found = re.fullmatch(
        r"indexed 101 document\(s\): (\d+) chunks \(0 duplicate\(s\) kept as aliases\), \d+ sentences in [\d.]+ s",
        summary,
    )
    assert found, summary
    # Progress on stderr even when it is not a terminal: files read, then texts embedded, each to its total.
    bars = result.stderr.replace("\r", "\n")
    assert "reading: 100%" in bars and "101/101" in bars, bars[-2000:]
    assert re.search(r"embedding: 100%\S* *\| *(\d+)/\1 ", bars), bars[-2000:]
    assert "note survey.pdf: removed 165 running header, footer or page-number line(s)" in result.stdout

    chunks = [json.loads(line) for line in (current_build(index) / "chunks.jsonl").open(encoding="utf-8")]
    assert len(chunks) == int(found.group(1))
    # One passage per PDF page and per HTML page: a heading alone is never a passage, nor is a line of furniture.
    per_source = {}
    for chunk in chunks:
        per_source.setdefault(chunk["source"], []).append(chunk)
    assert sorted(per_source) == ["handbook/" + f"mill-{n:03d}.html" for n in range(1, 101)] + ["survey.pdf"]
    assert len(per_source["survey.pdf"]) == 55 and len(chunks) == 155
    for n, chunk in enumerate(per_source["survey.pdf"], start=1):  # the page of every PDF passage is kept
        assert chunk["section"] == f"p. {n} > {n}. Station {n} on the {RIVERS[n % 12]}", chunk["section"]
        assert f"Gauge station {n} on the" in chunk["text"] and "planted" in chunk["text"]
    for n in range(1, 101):
        (chunk,) = per_source[f"handbook/mill-{n:03d}.html"]  # one each
        assert chunk["section"] == f"Mill {n}" and f"carpenters from lock {n + 3}." in chunk["text"]
    for chunk in chunks:
        lines = [line.strip() for line in chunk["text"].splitlines() if line.strip()]
        assert not any(line.isdigit() for line in lines), chunk  # no page number
        text = chunk["text"]
        assert PDF_HEADER not in text and PDF_FOOTER not in text and "¶" not in text, chunk
        assert not any(furniture in text for furniture in SITE_LINES), chunk


def test_bad_pdfs_a_docx_not_a_zip_and_a_50_mb_page_are_each_skipped_in_one_line_and_the_rest_indexed(tmp_path):
    from tests.test_loaders import make_pdf

    good = make_pdf(["Owls hunt at night over open fields."])
    files = {
        "corrupt.pdf": good[: len(good) // 2],
        "locked.pdf": make_pdf(["Secret owls."], password="s3cret"),
        "empty.pdf": b"",
        "blank.pdf": make_pdf([None, None]),
        "letter.docx": b"Dear owls, this was saved as text.",
        "owls.pdf": good,
        "notes.txt": b"Larks sing at dawn in the meadow.",
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    with (tmp_path / "huge.html").open("wb") as page:  # 50 MB, as a saved page with inlined images can be
        page.write(b"<html><body><p>Owls.</p>")
        page.truncate(50 * 1000 * 1000)
    docs, skipped = load_corpus(tmp_path)
    assert sorted(d.source for d in docs) == ["notes.txt", "owls.pdf"]
    reasons = {s.source: s.reason for s in skipped}
    assert all("\n" not in reason and reason for reason in reasons.values())
    assert reasons["corrupt.pdf"].startswith("malformed or truncated PDF (")
    assert reasons["locked.pdf"] == "encrypted PDF: it needs a password; save a decrypted copy to index it"
    assert reasons["empty.pdf"] == "empty file"
    assert reasons["blank.pdf"] == "no text in file (pages 1-2 yielded no text (an image or an empty page?))"
    assert reasons["letter.docx"] == "not a DOCX (not a zip archive); save it again from a word processor"
    assert reasons["huge.html"] == "file is 47.7 MiB, over the 20 MiB limit (MAX_FILE_BYTES)"
