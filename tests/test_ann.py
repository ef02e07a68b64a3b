"""eval.ann's real-text sources: what each extractor keeps and what it leaves out, and the sentence cache."""

from __future__ import annotations

import gzip
import json

from eval import ann

KEPT = "The index answers questions about the report with citations."


def test_python_docstrings_and_comment_blocks(tmp_path):
    source = tmp_path / "mod.py"
    source.write_text(
        '"""The module keeps a sentence that is long enough here. Too short.\n\n'
        'Uses x = frob(y) for every item in the list.\n"""\n\n'
        "# The first comment line goes on\n"
        "# into the second line of the same block.\n"
        "#\n"
        "# lowercase comments never start a sentence here.\n"
        "# x = compute(value)  # assigned in old code\n"
        "value = 1  # A trailing comment after code is not a block at all.\n\n\n"
        "def f():\n"
        '    """Return the value that the caller asked for, unchanged."""\n'
        "    # An indented comment block counts as well as any other.\n"
        '    return "# Not a comment inside a string literal at all."\n',
        encoding="utf-8",
    )
    assert ann._docstring_sentences(source) == [
        "The module keeps a sentence that is long enough here.",
        "Return the value that the caller asked for, unchanged.",
    ]
    assert ann._comment_sentences(source) == [
        "The first comment line goes on into the second line of the same block.",
        "An indented comment block counts as well as any other.",
    ]
    (tmp_path / "broken.py").write_text("def (:\n", encoding="utf-8")
    assert ann._docstring_sentences(tmp_path / "broken.py") == []


def test_markdown_rst_and_plain_text_keep_prose_only(tmp_path):
    md = tmp_path / "README.md"
    md.write_text(
        "# A heading is never part of the sentence\n\n"
        "This paragraph links to [the documentation](https://example.org) and uses **bold** text.\n"
        "It wraps onto a second line that continues the same paragraph.\n\n"
        "```python\nThis fenced line is code and must be left out entirely.\n```\n\n"
        "- A list item is a paragraph of its own right here.\n"
        "- Another list item stays apart from the first one.\n\n"
        "    This indented block is code as well and is skipped too.\n",
        encoding="utf-8",
    )
    assert ann._doc_file_sentences(md) == [
        "This paragraph links to the documentation and uses bold text.",
        "It wraps onto a second line that continues the same paragraph.",
        "A list item is a paragraph of its own right here.",
        "Another list item stays apart from the first one.",
    ]
    rst = tmp_path / "guide.rst"
    rst.write_text(
        "Title of the guide\n==================\n\n"
        "Call :func:`search` with the ``question`` text to get the cited answer back.\n\n"
        ".. note:: A directive line is markup and not a sentence of prose.\n\n"
        "Example::\n\n    Literal blocks after a double colon are code here.\n",
        encoding="utf-8",
    )
    assert ann._doc_file_sentences(rst) == ["Call search with the question text to get the cited answer back."]
    words = tmp_path / "vocab.txt"
    words.write_text(
        "\n".join(["The", "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta."] * 3), encoding="utf-8"
    )
    assert ann._doc_file_sentences(words) == []  # a word list is not prose


def test_c_comments_man_pages_and_html(tmp_path):
    header = tmp_path / "thing.h"
    header.write_text(
        "/**\n * @brief Returns the number of rows held by the table.\n *\n"
        " * A second paragraph explains what happens when it is empty.\n */\n"
        "int rows(void);  // Trailing comments after code are not blocks.\n"
        "// Line comments on their own line are joined\n// into one paragraph like Python ones.\n"
        'const char *url = "http://example.org // Not a comment inside a string.";\n',
        encoding="utf-8",
    )
    assert ann._c_comment_sentences(header) == [
        "Returns the number of rows held by the table.",
        "A second paragraph explains what happens when it is empty.",
        "Line comments on their own line are joined into one paragraph like Python ones.",
    ]
    page = tmp_path / "tool.1.gz"
    page.write_bytes(
        gzip.compress(
            b'.\\" A roff comment line that must never be read as text.\n'
            b".TH TOOL 1\n.SH DESCRIPTION\n"
            b"The \\fBtool\\fR command prints every row of the table\n"
            b"to the standard output, one per line.\n"
            b".TP\n\\fB\\-a\\fR, \\fB\\-\\-all\\fR\n"
            b"Print hidden rows as well as the visible ones.\n"
            b".nf\nExample lines in a no-fill block are left out.\n.fi\n"
        )
    )
    assert ann._man_sentences(page) == [
        "The tool command prints every row of the table to the standard output, one per line.",
        "Print hidden rows as well as the visible ones.",
    ]
    web = tmp_path / "index.html"
    web.write_text(
        "<html><head><title>Short</title><script>var This = 'is code and is left out of it';</script></head>"
        "<body><p>The manual page explains each option &amp; its default value.</p>"
        "<pre>Preformatted text is an example and never prose.</pre></body></html>",
        encoding="utf-8",
    )
    assert ann._doc_file_sentences(web) == ["The manual page explains each option & its default value."]


def test_real_sentences_dedups_shuffles_and_rebuilds_a_short_or_stale_cache(tmp_path, monkeypatch):
    site = tmp_path / "site"
    (site / "pkg").mkdir(parents=True)
    (site / "__pycache__").mkdir()
    sentences = [f"Sentence number {i} of the docstring is long enough." for i in range(20)]
    (site / "pkg" / "a.py").write_text('"""' + " ".join(sentences) + '"""\n', encoding="utf-8")
    (site / "pkg" / "README.md").write_text(" ".join(sentences[:5] + [KEPT]) + "\n", encoding="utf-8")
    (site / "__pycache__" / "b.py").write_text('"""Bytecode folders are never read for any text."""\n')
    monkeypatch.setattr(ann, "CACHE", tmp_path / "cache")
    monkeypatch.setattr(ann, "sentence_sources", lambda: [("docs", "docstrings", site), ("md", "docs", site)])

    first = ann.real_sentences(5)
    meta = json.loads((tmp_path / "cache" / "sentences.meta.json").read_text())
    assert meta["total"] == 21 and meta["sources"] == {"docs": 20, "md": 1}  # the README repeats five
    every = ann.real_sentences(21)
    assert sorted(every) == sorted([*sentences, KEPT]) and every[:5] == first
    assert every != [*sentences, KEPT]  # shuffled, with a fixed seed

    (site / "pkg" / "c.py").write_text('"""A new module brings one more sentence to the pool."""\n')
    assert len(ann.real_sentences(21)) == 21  # enough cached: the cache is used as it is
    assert len(ann.real_sentences(22)) == 22  # asked for more than cached: rebuilt from the sources
    meta_path = tmp_path / "cache" / "sentences.meta.json"
    meta_path.write_text(json.dumps(meta | {"version": ann.SOURCES_VERSION - 1}))
    assert len(ann.real_sentences(3)) == 3 and json.loads(meta_path.read_text())["total"] == 22  # stale: rebuilt
