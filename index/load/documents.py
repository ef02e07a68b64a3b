"""Corpus files -> Document records: decoded, cleaned text plus the sections found in it.

`Document.text` is the reference for every character offset downstream (chunks, citations).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from index.errors import IngestError
from index.text.cleaning import Removed, clean, decode, shown_path

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf", ".docx")
MAX_FILE_BYTES = 20 * 1024 * 1024
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_SENTENCE_END = tuple(".!?:;,")


@dataclass(frozen=True)
class Section:
    """A titled region of a document; `title` is the heading path for Markdown ("A > B")."""

    title: str
    start: int
    end: int


@dataclass(frozen=True)
class Document:
    """One corpus file as plain text; `source` is its path relative to the corpus root."""

    source: str
    title: str
    text: str
    sections: tuple[Section, ...]
    sha256: str
    hidden_removed: int = 0  # zero-width, bidi-control and tag characters removed by clean()
    controls_removed: int = 0  # NUL and other control characters
    surrogates_removed: int = 0  # lone surrogates
    pages: tuple[tuple[int, int, int], ...] = ()  # PDF: (page number, start, end) offsets into text
    warnings: tuple[str, ...] = ()  # indexed, but not all of it: "page 3 yielded no text"
    encoding: str = "utf-8"

    @property
    def text_sha256(self) -> str:
        """sha256 of the extracted text with whitespace runs as one space: the same document as .txt, .html, .pdf
        or a second copy hashes the same, though each format ends its lines and paragraphs its own way."""
        return hashlib.sha256(" ".join(self.text.split()).encode("utf-8")).hexdigest()

    def page_at(self, offset: int) -> int | None:
        """Page number holding `offset` (None for documents without pages)."""
        for number, start, end in self.pages:
            if start <= offset < end:
                return number
        return None

    def notes(self) -> list[str]:
        """What the ingest summary says about this document: warnings, decoding, characters removed."""
        notes = list(self.warnings)
        if self.encoding not in ("utf-8", "utf-8-sig", "pdf", "docx"):
            notes.append(f"decoded as {self.encoding}")
        removed = Removed(self.hidden_removed, self.controls_removed, self.surrogates_removed).describe()
        if removed:
            notes.append(f"removed {removed} character(s)")
        return notes

    def section_at(self, offset: int) -> str:
        """Title of the section holding `offset` (the document title before any heading)."""
        for section in self.sections:
            if section.start <= offset < section.end:
                return section.title
        return self.title


@dataclass(frozen=True)
class Skipped:
    """A corpus file that was not indexed, and why; ingest reports these instead of crashing."""

    source: str
    reason: str


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes, read in blocks so large files do not fill memory."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def corpus_files(root: Path, refused: list[Skipped] | None = None) -> list[Path]:
    """Every regular file under root, sorted, skipping hidden ones and README.md at the top.

    A link that leads outside root (resolved, then checked) is never read: it goes to `refused` with why.
    """
    if root.is_file():
        raise IngestError(
            f"corpus {shown_path(root)} is a file, not a folder; pass --corpus DIR with the documents in it"
        )
    if not root.is_dir():
        raise IngestError(f"corpus folder {shown_path(root)} does not exist; create it or pass --corpus DIR")
    real_root = root.resolve()
    files = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if rel.as_posix() == "README.md":  # the corpus's own provenance note, not a document
            continue
        if not path.resolve().is_relative_to(real_root):
            if refused is not None:
                refused.append(Skipped(rel.as_posix(), "a link to a file outside the corpus folder; not read"))
            continue
        files.append(path)
    return files


def is_heading_line(line: str) -> bool:
    """A plain-text heading: a short line without final punctuation that starts like a title.

    Example: "Closing Remarks" -> True; ", introduced the newly released report ..." -> False
    """
    stripped = line.strip()
    if not stripped or len(stripped) > 120 or len(stripped.split()) > 16:
        return False
    if stripped.endswith(_SENTENCE_END) or not (stripped[0].isupper() or stripped[0].isdigit()):
        return False
    return True


def text_sections(text: str, title: str) -> tuple[Section, ...]:
    """Sections of a plain-text document, one per heading line followed by body text."""
    lines = text.split("\n")
    starts, offset = [], 0
    for i, line in enumerate(lines):
        has_body = any(rest.strip() for rest in lines[i + 1 : i + 3])
        if is_heading_line(line) and has_body:
            starts.append((offset, line.strip()))
        offset += len(line) + 1
    return close_sections(starts, len(text), title)


def markdown_sections(text: str, title: str) -> tuple[Section, ...]:
    """Sections of a Markdown document from its `#` headings, titled by their heading path."""
    starts, path, offset = [], [], 0
    for line in text.split("\n"):
        match = _MD_HEADING.match(line)
        if match:
            level = len(match.group(1))
            path = path[: level - 1] + [match.group(2).strip()]
            starts.append((offset, " > ".join(path)))
        offset += len(line) + 1
    return close_sections(starts, len(text), title)


def close_sections(starts: list[tuple[int, str]], length: int, title: str) -> tuple[Section, ...]:
    sections = []
    if not starts or starts[0][0] > 0:
        sections.append(Section(title, 0, starts[0][0] if starts else length))
    for i, (start, name) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else length
        sections.append(Section(name, start, end))
    return tuple(s for s in sections if s.end > s.start)


def _human(size: int) -> str:
    """Example: _human(20 * 1024 * 1024) -> '20 MiB', _human(100) -> '100 bytes'"""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} bytes"


def load_document(path: Path, root: Path) -> Document:
    """Read and clean one supported file; raises ValueError with the reason it cannot be indexed."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ValueError(f"unsupported file type {suffix or '(none)'}; supported: {', '.join(SUPPORTED_SUFFIXES)}")
    size = path.stat().st_size
    if size == 0:
        raise ValueError("empty file")
    if size > MAX_FILE_BYTES:
        raise ValueError(f"file is {_human(size)}, over the {_human(MAX_FILE_BYTES)} limit (MAX_FILE_BYTES)")
    source = path.relative_to(root).as_posix()
    if suffix == ".pdf":
        from index.load.loaders import load_pdf

        doc = load_pdf(path, source)
    else:
        raw = path.read_bytes()
        if suffix in (".html", ".htm"):
            from index.load.loaders import load_html

            doc = load_html(path, source)
        elif suffix == ".docx":
            from index.load.loaders import load_docx

            doc = load_docx(path, source)
        else:
            text, encoding = decode(raw)
            doc = _load_plain(text, source, path.stem, encoding, markdown=suffix == ".md")
        doc = dataclasses.replace(doc, sha256=hashlib.sha256(raw).hexdigest())
    if not doc.text.strip():
        raise ValueError("no text in file" + (f" ({'; '.join(doc.warnings)})" if doc.warnings else ""))
    return doc


def _load_plain(raw_text: str, source: str, stem: str, encoding: str, markdown: bool) -> Document:
    """A .txt or .md file: sections from `#` headings (Markdown) or title-like lines (plain text)."""
    text, removed = clean(raw_text)
    if markdown:
        first = next((m.group(2) for m in map(_MD_HEADING.match, text.split("\n")) if m), None)
        title = first or stem
        sections = markdown_sections(text, title)
    else:
        first_line = text.strip().split("\n", 1)[0].strip()
        title = first_line if is_heading_line(first_line) else stem
        sections = text_sections(text, title)
    return with_removed(Document(source, title, text, sections, "", encoding=encoding), removed)


def with_removed(doc: Document, removed: Removed) -> Document:
    """The document with clean()'s counts recorded on it."""
    return dataclasses.replace(
        doc, hidden_removed=removed.hidden, controls_removed=removed.control, surrogates_removed=removed.surrogate
    )


def load_corpus(root: Path, progress: bool = False, mapper=None) -> tuple[list[Document], list[Skipped]]:
    """Load every file under root; a file that cannot be read is reported, never fatal.

    Each file ends in exactly one state: a Document, or a Skipped with its reason; a file whose extracted
    text is that of an earlier one is skipped as "already indexed as X". With progress, a "reading" bar on
    stderr counts the files (each PDF, HTML or DOCX is parsed in a child process: a folder of them takes a while).
    mapper(load_file, root, paths) may load the files elsewhere (index.storage.distributed); results come back in order.
    """
    import sys

    from tqdm import tqdm

    skipped: list[Skipped] = []
    files = corpus_files(root, skipped)
    if not files and not skipped:
        raise IngestError(
            f"corpus folder {shown_path(root)} is empty; add {', '.join(SUPPORTED_SUFFIXES)} files and retry"
        )
    if mapper is None:
        loaded = (
            load_file(p, root) for p in tqdm(files, desc="reading", unit="file", disable=not progress, file=sys.stderr)
        )
    else:
        loaded = mapper(load_file, root, files)
    documents: list[Document] = []
    seen: dict[str, str] = {}  # text sha256 -> the first file with that text
    for doc in loaded:
        if isinstance(doc, Skipped):
            skipped.append(doc)
            continue
        first = seen.get(doc.text_sha256)
        if first is not None:
            skipped.append(Skipped(doc.source, f"already indexed as {first} (same text)"))
            continue
        seen[doc.text_sha256] = doc.source
        documents.append(doc)
    return documents, skipped


def load_file(path: Path, root: Path) -> Document | Skipped:
    """One corpus file as a Document, or Skipped with the reason it could not be read (never an exception)."""
    source = path.relative_to(root).as_posix()
    try:
        return load_document(path, root)
    except (ValueError, OSError) as exc:
        return Skipped(source, _without_path(str(exc), path, source))
    except Exception as exc:  # a loader bug must cost one file, not the ingest
        why = _without_path(f"{type(exc).__name__}: {exc}", path, source)
        return Skipped(source, f"could not be loaded ({why})")


def _without_path(reason: str, path: Path, source: str) -> str:
    """A skip reason naming the file by its corpus path: an OSError's text carries the file's full server path,
    which the log, `rag ingest` and the Documents tab would show.

    Example: "[Errno 13] Permission denied: '/srv/corpus/a.txt'" for a.txt -> "[Errno 13] Permission denied: 'a.txt'"
    """
    for full in {str(path.resolve()), str(path.absolute()), str(path)}:
        reason = reason.replace(full, source)
    return reason


def ingest_notes(documents: list[Document]) -> list[str]:
    """Summary lines for documents indexed with changes or warnings, and the hidden-character total."""
    lines = [f"note {doc.source}: {note}" for doc in documents for note in doc.notes()]
    hidden = sum(doc.hidden_removed for doc in documents)
    files = sum(1 for doc in documents if doc.hidden_removed)
    lines.append(f"hidden characters (zero-width/bidi/tag) removed: {hidden} in {files} file(s)")
    return lines
