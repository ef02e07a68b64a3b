"""Loaders on hostile and ordinary files: every file ends indexed or skipped with its reason, nothing hidden leaks."""

from __future__ import annotations

import io
import json
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.errors import IngestError
from index.load import documents, pdf_text
from index.load.documents import load_corpus, load_document
from index.load.html_text import html_text, is_hidden
from index.text.cleaning import Removed, clean, decode

SECRETS = ("zyxscriptsecret", "zyxstylesecret", "zyxcommentsecret", "zyxhiddensecret", "zyxariasecret")
PAGE = f"""<!doctype html>
<html><head><title>Owl &amp; Lark Guide</title>
<style>.{SECRETS[1]} {{ color: red }}</style>
<script>var token = "{SECRETS[0]}"; document.write("<p>x</p>");</script></head>
<body>
<h1>Birds</h1>
<p>Owls hunt at <b>night</b> and
sleep by day. They are quiet.</p>
<!-- {SECRETS[2]} -->
<div hidden><p>{SECRETS[3]}</p></div>
<span aria-hidden="true">{SECRETS[4]}</span>
<h2>Larks</h2>
<ul><li>Larks sing at dawn.<li>They nest on the ground.</ul>
<p style="display: none">zyxinlinenone</p><div style="visibility:hidden">zyxinlinevisibility</div>
<template><p>zyxtemplate</p></template><noscript>zyxnoscript</noscript>
<h3>Sky larks</h3><p>Sky larks climb high.<br>Then they drop.</p>
</body></html>
"""


# ---- fixture builders -----------------------------------------------------------------------------------


def make_pdf(
    pages: list[str | None], bomb_page: int | None = None, password: str | None = None, in_form: bool = False
) -> bytes:
    """A small PDF, one text line per page (None = a blank page); bomb_page's content inflates past pypdf's limit.

    With in_form, the bomb is a form XObject the page draws after its text: pypdf then returns the
    page's text without the form's and raises nothing, only logging a warning.
    """
    from pypdf import PdfWriter
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject, StreamObject

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
    for number, line in enumerate(pages, 1):
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
        stream = StreamObject()
        content = f"BT /F1 12 Tf 72 720 Td ({line}) Tj ET".encode() if line is not None else b""
        if number == bomb_page and in_form:
            form = StreamObject()
            form._data = zlib.compress(b"BT /F1 12 Tf (zyxform) Tj ET" + b" " * 80_000_000, 9)
            form.update(
                {
                    NameObject("/Type"): NameObject("/XObject"),
                    NameObject("/Subtype"): NameObject("/Form"),
                    NameObject("/Filter"): NameObject("/FlateDecode"),
                    NameObject("/BBox"): ArrayObject([NumberObject(v) for v in (0, 0, 612, 792)]),
                    NameObject("/Resources"): page["/Resources"],
                }
            )
            forms = DictionaryObject({NameObject("/Fm0"): writer._add_object(form)})
            page["/Resources"][NameObject("/XObject")] = forms
            stream._data = content + b" /Fm0 Do"
        elif number == bomb_page:
            stream._data = zlib.compress(content + b" " * 80_000_000, 9)
            stream[NameObject("/Filter")] = NameObject("/FlateDecode")
        else:
            stream._data = content
        page[NameObject("/Contents")] = writer._add_object(stream)
    if password is not None:
        writer.encrypt(password, "owner-password", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def one(tmp_path: Path, name: str, data: bytes):
    """Load a corpus holding one file: (document or None, skip reason or None)."""
    (tmp_path / name).write_bytes(data)
    docs, skipped = load_corpus(tmp_path)
    assert len(docs) + len(skipped) == 1
    return (docs[0] if docs else None), (skipped[0].reason if skipped else None)


# ---- HTML -----------------------------------------------------------------------------------------------


def test_html_keeps_body_text_and_drops_script_style_comments_and_hidden_elements(tmp_path):
    doc, reason = one(tmp_path, "birds.html", PAGE.encode())
    assert reason is None
    for secret in (*SECRETS, "zyxinlinenone", "zyxinlinevisibility", "zyxtemplate", "zyxnoscript", "token"):
        assert secret not in doc.text
    assert doc.title == "Owl & Lark Guide"
    assert "Owls hunt at night and sleep by day. They are quiet." in doc.text  # inline tags do not break it
    assert "Larks sing at dawn.\nThey nest on the ground." in doc.text  # blocks do


def test_html_headings_become_sections_with_heading_paths(tmp_path):
    doc, _ = one(tmp_path, "birds.htm", PAGE.encode())
    assert doc.section_at(doc.text.index("Owls hunt")) == "Birds"
    assert doc.section_at(doc.text.index("nest on")) == "Birds > Larks"
    assert doc.section_at(doc.text.index("Then they drop")) == "Birds > Larks > Sky larks"
    for section in doc.sections:
        heading = section.title.split(" > ")[-1]
        assert doc.text[section.start :].startswith(heading)


@pytest.mark.parametrize(
    "markup",
    [
        "<p>ok</p><!-- zyxleak",  # unclosed comment runs to the end
        "<p>ok</p><div hidden>zyxleak</span>",  # never closed
        "<p>ok</p><section aria-hidden=true><p>zyxleak</section>",
        '<p>ok</p><div style="color:red;DISPLAY:NONE !important">zyxleak</div>',
        "<p>ok</p><script>document.write('</p>zyxleak')</script>",
        "<p>ok</p><style>/* zyxleak */</style><div hidden/>",
        "<p>ok</p><div hidden><div>zyxleak</div> zyxleak</div>",
        "<p>ok</p><div hidden><p>zyxleak<p>zyxleak</div>",
        "<p>ok</p><svg><text>zyxleak</text></svg>",
        "<p>ok</p><textarea hidden>zyxleak</textarea><p>ok",
        "<p>ok</p><img alt='zyxleak'><input type=hidden value=zyxleak><div hidden",
    ],
)
def test_hidden_html_never_leaks_even_when_malformed(markup):
    text = html_text(markup).text
    assert "zyxleak" not in text and text.startswith("ok")


@pytest.mark.parametrize(
    "markup",
    [
        "<html><head><title>T</title><p>Body text.</p>",  # <head> never closed
        "<head><meta charset=utf-8>Body text.",
        "<head><script>zyx()</script><body>Body text.",
    ],
)
def test_body_content_in_an_unclosed_head_is_kept(markup):
    assert html_text(markup).text == "Body text."


def test_html_text_after_a_hidden_paragraph_is_kept():
    # <div> closes the hidden <p> (HTML's implied end tag), so a browser shows this text.
    assert html_text("<p hidden>zyxleak<div>Shown here.</div>").text == "Shown here."


@pytest.mark.parametrize(
    "attrs,hidden",
    [
        ([("hidden", None)], True),
        ([("hidden", "until-found")], True),
        ([("aria-hidden", " True ")], True),
        ([("aria-hidden", "false")], False),
        ([("style", "display:none")], True),
        ([("style", "color: red; visibility : hidden")], True),
        ([("style", "display: block")], False),
        ([("class", "hidden")], False),
    ],
)
def test_is_hidden(attrs, hidden):
    assert is_hidden(attrs) is hidden


def test_html_entities_hiding_invisible_characters_are_removed_and_counted():
    page = html_text("<p>pass&#x200B;word&#xE0041; here</p>")
    assert page.text == "password here" and page.removed == Removed(hidden=2)


def test_a_secret_in_an_html_script_is_never_retrievable(tmp_path, embedder):
    from index.storage.build import ingest
    from rag.assistant import Assistant

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "birds.html").write_text(PAGE, encoding="utf-8")
    (corpus / "notes.txt").write_text("Field notes\nOwls were seen near the river at dusk.\n", encoding="utf-8")
    report = ingest(corpus, tmp_path / "index", embedder=embedder, progress=False, log=lambda _: None)
    assert report.documents == 2 and not report.skipped
    build = next((tmp_path / "index").glob("build-*"))
    chunks = (build / "chunks.jsonl").read_text(encoding="utf-8")
    assert "Owls hunt" in chunks
    assert not any(secret in chunks for secret in SECRETS)
    assistant = Assistant(corpus, tmp_path / "index", embedder=embedder, log=lambda _: None, progress=False)
    for secret in SECRETS:
        for mode in ("bm25", "hybrid"):
            answer = assistant.ask(f"What is {secret}?", retrieval=mode)
            shown = json.dumps([p.to_json() for p in answer.passages] + [c.text for c in answer.citations])
            assert secret not in shown and secret not in answer.answer.replace(f"“What is {secret}?”", "")


# ---- PDF ------------------------------------------------------------------------------------------------


def test_a_two_page_pdf_keeps_its_pages(tmp_path):
    doc, reason = one(tmp_path, "owls.pdf", make_pdf(["Owls hunt at night.", "Larks sing at dawn."]))
    assert reason is None and not doc.warnings
    assert doc.text == "Owls hunt at night.\n\nLarks sing at dawn."
    assert [n for n, _, _ in doc.pages] == [1, 2]
    for number, start, end in doc.pages:
        assert doc.page_at(start) == number and doc.page_at(end - 1) == number
    assert doc.text[doc.pages[1][1] : doc.pages[1][2]] == "Larks sing at dawn."
    assert doc.section_at(doc.text.index("Larks")).startswith("p. 2 > ")
    assert doc.section_at(0).startswith("p. 1 > ")


def test_a_pdf_page_without_text_is_reported_not_dropped(tmp_path):
    doc, reason = one(tmp_path, "gap.pdf", make_pdf(["Owls hunt at night.", None, "Larks sing at dawn."]))
    assert reason is None
    assert doc.warnings == ("page 2 yielded no text (an image or an empty page?)",)
    assert [n for n, _, _ in doc.pages] == [1, 2, 3] and doc.pages[1][1] == doc.pages[1][2]
    assert doc.page_at(doc.text.index("Larks")) == 3


def test_a_pdf_compression_bomb_page_is_detected_and_reported(tmp_path):
    data = make_pdf(["Owls hunt at night.", "zyxbomb text"], bomb_page=2)
    assert len(data) < 200_000
    doc, reason = one(tmp_path, "bomb.pdf", data)
    assert reason is None and "zyxbomb" not in doc.text
    assert doc.warnings == (
        "page 2 is over pypdf's decompression limit (a compression bomb?); its text is not indexed",
    )


def test_a_pdf_bomb_in_a_form_that_pypdf_swallows_silently_is_still_reported(tmp_path):
    doc, reason = one(tmp_path, "form.pdf", make_pdf(["Owls hunt at night.", "Larks sing."], bomb_page=2, in_form=True))
    assert reason is None and doc.text == "Owls hunt at night.\n\nLarks sing."
    assert doc.warnings == (
        "page 2 is over pypdf's decompression limit (a compression bomb?); part of its text is missing",
    )


def test_a_pdf_with_no_text_at_all_is_skipped_naming_its_pages(tmp_path):
    _, reason = one(tmp_path, "scan.pdf", make_pdf([None, None, None]))
    assert reason == "no text in file (pages 1-3 yielded no text (an image or an empty page?))"


def test_page_ranges():
    assert pdf_text.page_ranges([1, 2, 3, 5, 7, 8]) == "1-3, 5, 7-8" and pdf_text.page_ranges([4]) == "4"


def test_an_encrypted_pdf_is_skipped_with_the_reason(tmp_path):
    _, reason = one(tmp_path, "locked.pdf", make_pdf(["Owls hunt at night."], password="s3cret"))
    assert reason == "encrypted PDF: it needs a password; save a decrypted copy to index it"


def test_a_pdf_encrypted_with_an_empty_password_is_read_with_a_warning(tmp_path):
    doc, reason = one(tmp_path, "open.pdf", make_pdf(["Owls hunt at night."], password=""))
    assert reason is None and doc.text == "Owls hunt at night."
    assert doc.warnings == ("encrypted with an empty password; opened without one",)


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_a_truncated_pdf_is_skipped_with_the_reason(tmp_path, cut):
    data = make_pdf(["Owls hunt at night.", "Larks sing at dawn."])
    _, reason = one(tmp_path, "cut.pdf", data[: int(len(data) * cut)])
    assert reason.startswith("malformed or truncated PDF (")


def test_a_file_named_pdf_that_is_not_one_is_skipped(tmp_path):
    _, reason = one(tmp_path, "fake.pdf", b"Just some text.")
    assert reason == "not a PDF (no %PDF- header)"


def test_a_pdf_parser_that_runs_too_long_is_stopped_and_the_file_skipped(tmp_path, monkeypatch):
    monkeypatch.setattr(pdf_text, "TIMEOUT_S", 0.001)  # no interpreter starts this fast: the timeout path runs
    (tmp_path / "good.txt").write_text("Owls hunt at night.", encoding="utf-8")
    (tmp_path / "slow.pdf").write_bytes(make_pdf(["Owls hunt at night."]))
    docs, skipped = load_corpus(tmp_path)
    assert [d.source for d in docs] == ["good.txt"]
    assert skipped[0].reason.startswith("PDF parser did not finish within 0.001 s")


def test_a_pdf_parser_over_its_memory_cap_is_stopped_and_the_file_skipped(tmp_path, monkeypatch):
    monkeypatch.setattr(pdf_text, "MEMORY_BYTES", 48 * 1024 * 1024)  # the bomb page inflates to 75 MB
    _, reason = one(tmp_path, "big.pdf", make_pdf(["Owls hunt at night.", "zyxbomb"], bomb_page=2))
    assert reason.startswith("PDF parser") and "48 MiB memory cap" in reason


# ---- text files: encodings and hostile bytes ------------------------------------------------------------


@pytest.mark.parametrize(
    "data,text,encoding",
    [
        ("Café déjà vu – naïve.".encode("cp1252"), "Café déjà vu – naïve.", "cp1252"),
        ("Ünïcode text.".encode("utf-16"), "Ünïcode text.", "utf-16"),
        ("Ünïcode text.".encode("utf-16-be").join([b"\xfe\xff", b""]), "Ünïcode text.", "utf-16"),
        (b"\xef\xbb\xbfBOM text.", "BOM text.", "utf-8-sig"),
        ("Ünïcode text.".encode("utf-32"), "Ünïcode text.", "utf-32"),
    ],
)
def test_encodings_are_detected(tmp_path, data, text, encoding):
    doc, reason = one(tmp_path, "enc.txt", data)
    assert reason is None and doc.text == text and doc.encoding == encoding
    assert not encoding.startswith("utf-8") or not doc.notes()


def test_a_cp1252_file_is_noted_in_the_summary(tmp_path):
    doc, _ = one(tmp_path, "cp.txt", "Café.".encode("cp1252"))
    assert doc.notes() == ["decoded as cp1252"]


def test_stray_nul_bytes_are_removed_and_counted(tmp_path):
    body = "Owls hunt at night, quietly and well, over the fields by the river."
    doc, reason = one(tmp_path, "nul.txt", f"{body[:9]}\x00{body[9:]}\x00\x07\n".encode())
    assert reason is None and doc.text == body + "\n"
    assert doc.controls_removed == 3 and doc.notes() == ["removed 3 control (NUL, C0/C1) character(s)"]


@pytest.mark.parametrize(
    "data", [b"abc\x00\x01\x02", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, bytes(1000), b"\x7fELF\x02\x01\x01" * 50]
)
def test_binary_data_named_txt_is_skipped(tmp_path, data):
    _, reason = one(tmp_path, "photo.txt", data)
    assert reason.startswith("binary data")


def test_lone_surrogates_are_removed_and_counted_not_mojibake(tmp_path):
    raw = "Owls \ud800hunt. Café.".encode("utf-8", "surrogatepass")
    doc, reason = one(tmp_path, "sur.txt", raw)
    assert reason is None and doc.text == "Owls hunt. Café." and doc.surrogates_removed == 1
    (tmp_path / "sur.txt").unlink()
    doc16, reason = one(tmp_path, "sur16.txt", "Owls\udc00 hunt.".encode("utf-16", "surrogatepass"))
    assert reason is None and doc16.text == "Owls hunt." and doc16.surrogates_removed == 1


def test_invalid_utf16_is_skipped_with_the_reason(tmp_path):
    _, reason = one(tmp_path, "odd.txt", b"\xff\xfeA\x00B")
    assert reason.startswith("invalid UTF-16 text")


def test_hidden_characters_are_stripped_and_counted_in_the_document(tmp_path):
    text = "Pass\u200bword \u202egnirts\u202c and a tag\U000e0041\U000e0042 end.\n"
    doc, _ = one(tmp_path, "hidden.md", text.encode())
    assert doc.text == "Password gnirts and a tag end.\n"
    assert doc.hidden_removed == 5 and doc.notes() == ["removed 5 hidden (zero-width/bidi/tag) character(s)"]


def test_an_empty_file_is_skipped(tmp_path):
    assert one(tmp_path, "empty.txt", b"")[1] == "empty file"
    (tmp_path / "empty.txt").unlink()
    assert one(tmp_path, "blank.txt", b" \n\t\n")[1] == "no text in file"


def test_a_file_over_the_size_limit_is_skipped_from_stat_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(documents, "MAX_FILE_BYTES", 1024)
    (tmp_path / "big.txt").write_bytes(b"word " * 1000)
    (tmp_path / "small.txt").write_bytes(b"Owls hunt at night.")
    real_read = Path.read_bytes

    def read_bytes(self):
        assert self.name != "big.txt", "the oversized file was read"
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    docs, skipped = load_corpus(tmp_path)
    assert [d.source for d in docs] == ["small.txt"]
    assert [(s.source, s.reason) for s in skipped] == [
        ("big.txt", "file is 4.88 KiB, over the 1 KiB limit (MAX_FILE_BYTES)")
    ]


def test_a_missing_or_empty_corpus_folder_is_a_clear_error(tmp_path):
    with pytest.raises(IngestError, match="does not exist; create it or pass --corpus DIR"):
        load_corpus(tmp_path / "nope")
    (tmp_path / ".hidden").write_text("x", encoding="utf-8")
    with pytest.raises(IngestError, match=r"is empty; add \.txt, \.md, \.html, \.htm, \.pdf, \.docx files"):
        load_corpus(tmp_path)


def test_a_loader_crash_costs_one_file_not_the_ingest(tmp_path, monkeypatch):
    import index.load.loaders

    def boom(*_args):
        raise RuntimeError("parser bug")

    monkeypatch.setattr(index.load.loaders, "load_html", boom)
    (tmp_path / "a.html").write_text("<p>Owls.</p>", encoding="utf-8")
    (tmp_path / "b.txt").write_text("Owls hunt.", encoding="utf-8")
    docs, skipped = load_corpus(tmp_path)
    assert [d.source for d in docs] == ["b.txt"]
    assert skipped[0].reason == "could not be loaded (RuntimeError: parser bug)"


def hostile_corpus(root: Path) -> dict[str, str | None]:
    """One file of each kind; the value is the skip reason's start, or None for indexed files."""
    files = {
        "report.txt": (b"Field Notes\nOwls hunt at night near the river.\n", None),
        "notes.md": (b"# Birds\n## Owls\nOwls hunt at\xe2\x80\x8b night.\n", None),
        "page.html": (PAGE.encode(), None),
        "two.pdf": (make_pdf(["Owls hunt at night.", "Larks sing at dawn."]), None),
        "gap.pdf": (make_pdf(["Owls roost by day.", None]), None),
        "bomb.pdf": (make_pdf(["Owls hunt at night.", "zyxbomb"], bomb_page=2), None),
        "cp1252.txt": ("Café society met.".encode("cp1252"), None),
        "utf16.txt": ("Ünïcode owls.".encode("utf-16"), None),
        "nul.txt": (b"Owls hunt\x00 at night, quietly and well.", None),
        "locked.pdf": (make_pdf(["Secret owls."], password="pw"), "encrypted PDF"),
        "cut.pdf": (make_pdf(["Owls hunt at night."])[:300], "malformed or truncated PDF"),
        "empty.txt": (b"", "empty file"),
        "binary.txt": (bytes(range(256)) * 8, "binary data"),
        "photo.png": (b"\x89PNG\r\n\x1a\n", "unsupported file type .png"),
    }
    for name, (data, _) in files.items():
        (root / name).write_bytes(data)
    return {name: reason for name, (_, reason) in files.items()}


def test_every_file_ends_in_exactly_one_state(tmp_path):
    expected = hostile_corpus(tmp_path)
    docs, skipped = load_corpus(tmp_path)
    states = [d.source for d in docs] + [s.source for s in skipped]
    assert sorted(states) == sorted(expected)  # each file once: indexed or skipped, never both or neither
    assert sorted(d.source for d in docs) == sorted(n for n, r in expected.items() if r is None)
    for skip in skipped:
        assert skip.reason.startswith(expected[skip.source]), skip


@pytest.mark.heavy  # a real-model build of the hostile corpus
def test_the_ingest_summary_lists_skips_warnings_and_hidden_counts(tmp_path, embedder):
    from index.storage.build import ingest

    (tmp_path / "c").mkdir()
    hostile_corpus(tmp_path / "c")
    logged: list[str] = []
    report = ingest(tmp_path / "c", tmp_path / "i", embedder=embedder, progress=False, log=logged.append)
    summary = report.summary()
    assert "skipped locked.pdf: encrypted PDF" in summary and "skipped empty.txt: empty file" in summary
    assert "note gap.pdf: page 2 yielded no text" in summary
    assert "note bomb.pdf: page 2 is over pypdf's decompression limit" in summary
    assert "note cp1252.txt: decoded as cp1252" in summary
    assert "note nul.txt: removed 1 control (NUL, C0/C1) character(s)" in summary
    assert "note notes.md: removed 1 hidden (zero-width/bidi/tag) character(s)" in summary
    assert summary.endswith("hidden characters (zero-width/bidi/tag) removed: 1 in 1 file(s)")
    assert "warning: skipped binary.txt: binary data" in "\n".join(logged)


# ---- properties -----------------------------------------------------------------------------------------


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet=st.characters(codec=None)))
def test_cleaning_is_idempotent_and_yields_valid_utf8(text):
    once, _ = clean(text)
    twice, removed = clean(once)
    assert twice == once and removed == Removed()
    once.encode("utf-8")  # raises on a lone surrogate


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=300))
def test_decoding_any_bytes_gives_text_or_a_reason(raw):
    try:
        text, _ = decode(raw)
    except ValueError as exc:
        assert str(exc)
    else:
        clean(text)[0].encode("utf-8")  # raises on a lone surrogate


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60), st.sampled_from(["script", "style", "template", "noscript"]))
def test_text_inside_never_shown_elements_never_leaks(secret, tag):
    marker = "zyxmarker" + secret.replace("<", "").replace("&", "")
    text = html_text(f"<p>a</p><{tag}>{marker}</{tag}><p>b</p>").text
    assert "zyxmarker" not in text


def test_load_document_rejects_unknown_suffix(tmp_path):
    path = tmp_path / "x.odt"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(
        ValueError, match=r"unsupported file type \.odt; supported: \.txt, \.md, \.html, \.htm, \.pdf, \.docx"
    ):
        load_document(path, tmp_path)


def test_an_html_page_in_its_declared_charset_is_decoded_by_it(tmp_path):
    page = '<html><head><meta charset="Shift_JIS"></head><body><p>こんにちは、世界。</p></body></html>'
    doc, reason = one(tmp_path, "ja.html", page.encode("shift_jis"))
    assert reason is None and doc.text == "こんにちは、世界。" and doc.notes() == ["decoded as shift_jis"]


@pytest.mark.slow
def test_rag_ingest_prints_what_was_skipped_and_why(tmp_path):
    from tests.conftest import run_rag

    (tmp_path / "c").mkdir()
    hostile_corpus(tmp_path / "c")
    result = run_rag("ingest", "--corpus", str(tmp_path / "c"), "--index", str(tmp_path / "i"))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("indexed 9 document(s)")
    for line in (
        "skipped binary.txt: binary data",
        "skipped cut.pdf: malformed or truncated PDF",
        "skipped empty.txt: empty file",
        "skipped locked.pdf: encrypted PDF: it needs a password",
        "skipped photo.png: unsupported file type .png",
        "note gap.pdf: page 2 yielded no text",
        "hidden characters (zero-width/bidi/tag) removed: 1 in 1 file(s)",
    ):
        assert "\n" + line in out, line
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_rag("ingest", "--corpus", str(empty), "--index", str(tmp_path / "j"))
    assert result.returncode == 2 and "is empty; add .txt, .md, .html, .htm, .pdf, .docx files" in result.stderr
    assert "Traceback" not in result.stderr
