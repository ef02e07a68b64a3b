"""Render a plain-text corpus as PDF, DOCX and an HTML page, with the page furniture real documents carry.

The formats suite indexes each rendering and asks the same gold questions, so an answer that depends on the
file format shows as a lower score, and any running header, footer, page number or nav-bar line that reaches
a passage is counted (BOILERPLATE holds every such line a rendering adds). Output is deterministic.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path

SITE = "Northwind Policy Library"
HEADER = f"{SITE} · Working papers"  # the PDF's and DOCX's running header (the document title follows it)
FOOTER = "Confidential draft, not for circulation"  # running footer, beside the page number
NAV = ("Skip to main content", "Home", "Publications", "Events", "About us", "Contact")
SIDEBAR = ("Related reports", "Annual review 2024", "Data portal", "Press releases", "Subscribe to our newsletter")
PAGE_FOOTER = f"© 2025 {SITE}. All rights reserved. Privacy policy · Terms of use · Accessibility"
# Lines (or phrases) a rendering adds that must never be found in a retrieved passage.
BOILERPLATE = (HEADER, FOOTER, PAGE_FOOTER, "Skip to main content", "Subscribe to our newsletter", "Annual review 2024")
PAGE_NUMBER = re.compile(r"\bPage \d+ of \d+\b")
FORMATS = ("txt", "pdf", "docx", "html")
_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
)


def blocks(text: str) -> list[tuple[str, str]]:
    """The text as ("h", heading) and ("p", paragraph) blocks: one block per non-blank line, as the .txt reads.

    Example: blocks("Intro\\nIt rained all day.\\n") -> [("h", "Intro"), ("p", "It rained all day.")]
    """
    from index.load.documents import is_heading_line

    lines = [line.strip() for line in text.split("\n")]
    out = []
    for i, line in enumerate(lines):
        if line:
            following = next((x for x in lines[i + 1 :] if x), "")
            out.append(("h" if is_heading_line(line) and following and not is_heading_line(following) else "p", line))
    return out


def offending(passage: str) -> list[str]:
    """The boilerplate lines and page numbers a passage holds (none, when the loaders did their work).

    Example: offending("Page 3 of 9 Rivers flood.") -> ["Page 3 of 9"]
    """
    found = [line for line in BOILERPLATE if line.lower() in passage.lower()]
    return found + PAGE_NUMBER.findall(passage)


def _font() -> str:
    """A Unicode TrueType font registered with reportlab (IPA and CJK letters survive), else Helvetica."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for path in _FONTS:
        if Path(path).is_file():
            pdfmetrics.registerFont(TTFont("Body", path))
            return "Body"
    return "Helvetica"


def render_pdf(title: str, text: str, target: Path) -> None:
    """An A4 PDF with a running header (site and title), a running footer and "Page N of M" on every page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    font = _font()
    body = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=14, spaceAfter=6)
    head = ParagraphStyle("head", fontName=font, fontSize=14, leading=18, spaceBefore=8, spaceAfter=6)
    parts = blocks(text)

    def furniture(pages: int) -> Callable:
        def draw(canvas, doc) -> None:
            canvas.saveState()
            canvas.setFont(font, 8)
            width, height = A4
            canvas.drawString(56, height - 40, f"{HEADER}: {title[:60]}")
            canvas.drawString(56, 36, FOOTER)
            canvas.drawRightString(width - 56, 36, f"Page {doc.page} of {pages}")
            canvas.restoreState()

        return draw

    def build(pages: int) -> int:
        doc = SimpleDocTemplate(
            str(target), pagesize=A4, topMargin=70, bottomMargin=64, title=title, author=SITE, invariant=1
        )
        story = [Paragraph(html.escape(line), head if kind == "h" else body) for kind, line in parts]  # used up
        doc.build(story or [Spacer(1, 1)], onFirstPage=furniture(pages), onLaterPages=furniture(pages))
        return doc.page

    total = build(0)
    build(total)  # second pass: "of M" known


def render_docx(title: str, text: str, target: Path) -> None:
    """A DOCX with heading styles, body paragraphs, a running header and a footer with a PAGE field."""
    from docx import Document
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    doc = Document()
    doc.core_properties.title = title
    section = doc.sections[0]
    section.header.paragraphs[0].text = f"{HEADER}: {title[:60]}"
    footer = section.footer.paragraphs[0]
    footer.text = f"{FOOTER} · Page "
    run = footer.add_run()
    for kind, value in (("begin", None), ("instr", "PAGE"), ("end", None)):
        if kind == "instr":
            node = OxmlElement("w:instrText")
            node.text = value
        else:
            node = OxmlElement("w:fldChar")
            node.set(qn("w:fldCharType"), kind)
        run._r.append(node)
    for kind, line in blocks(text):
        if kind == "h":
            doc.add_heading(line, level=2)
        else:
            doc.add_paragraph(line)
    doc.save(str(target))
    _fix_zip_times(target)


def _fix_zip_times(path: Path) -> None:
    """Rewrite a zip with fixed member times, so the same text renders to the same bytes."""
    import zipfile

    with zipfile.ZipFile(path) as src:
        members = [(info.filename, src.read(info)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in members:
            out.writestr(zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)


def render_html(title: str, text: str, target: Path) -> None:
    """A page as a site serves it: header, nav bar, sidebar links and footer around the article."""
    esc = html.escape
    nav = " | ".join(f'<a href="/{esc(n.lower().replace(" ", "-"))}">{esc(n)}</a>' for n in NAV)
    side = "".join(f'<li><a href="/r/{i}">{esc(s)}</a></li>' for i, s in enumerate(SIDEBAR))
    parts = blocks(text)
    if parts and parts[0][1] == title:
        parts = parts[1:]  # the title is the page's h1
    body = "\n".join(f"<h2>{esc(line)}</h2>" if kind == "h" else f"<p>{esc(line)}</p>" for kind, line in parts)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(title)} | {SITE}</title></head>
<body>
<header><div class="brand">{SITE}</div><div class="tagline">Working papers</div></header>
<nav class="menu">{nav}</nav>
<div class="layout">
<aside class="sidebar"><h3>Related reports</h3><ul>{side}</ul></aside>
<main><article>
<h1>{esc(title)}</h1>
{body}
</article></main>
</div>
<footer><p>{PAGE_FOOTER}</p><p><a href="/">Home</a> · <a href="/contact">Contact</a></p></footer>
</body></html>
"""
    target.write_text(page, encoding="utf-8")


RENDERERS: dict[str, Callable[[str, str, Path], None]] = {"pdf": render_pdf, "docx": render_docx, "html": render_html}


def render_corpus(source: Path, target: Path, fmt: str) -> list[Path]:
    """Render every .txt of `source` into `target` as `fmt` ("txt" copies), rewriting only what changed."""
    import shutil
    import tempfile

    target.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(p for p in source.iterdir() if p.suffix == ".txt"):
        out = target / f"{path.stem}.{fmt}"
        if fmt == "txt":
            if not out.exists() or out.read_bytes() != path.read_bytes():
                shutil.copyfile(path, out)
        else:
            text = path.read_text(encoding="utf-8")
            title = next((line.strip() for line in text.split("\n") if line.strip()), path.stem)
            title = title if len(title) <= 100 else path.stem.replace("_", " ")
            with tempfile.TemporaryDirectory() as scratch:
                trial = Path(scratch) / out.name
                RENDERERS[fmt](title, text, trial)
                if not out.exists() or out.read_bytes() != trial.read_bytes():
                    shutil.copyfile(trial, out)
        written.append(out)
    for stale in target.iterdir():
        if stale not in written:
            stale.unlink()
    return written


def main() -> None:
    """python -m eval.render SOURCE TARGET: every format of a folder of .txt files, one subfolder each."""
    import sys

    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    for fmt in FORMATS:
        print(fmt, len(render_corpus(source, target / fmt, fmt)))


if __name__ == "__main__":
    main()
