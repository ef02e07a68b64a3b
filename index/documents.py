"""Corpus files -> Document records: decoded, cleaned text plus the sections found in it.

`Document.text` is the reference for every character offset downstream (chunks, citations).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from index.errors import IngestError

SUPPORTED_SUFFIXES = (".txt", ".md")
MAX_FILE_BYTES = 20 * 1024 * 1024
# Zero-width, bidi-control and Unicode tag characters: invisible, so never indexed or shown.
_HIDDEN = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f]")
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
    hidden_removed: int = 0

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


def corpus_files(root: Path) -> list[Path]:
    """Every regular file under root, sorted, skipping hidden ones and README.md at the top."""
    if not root.is_dir():
        raise IngestError(f"corpus folder {root} does not exist; create it or pass --corpus DIR")
    files = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if rel.as_posix() == "README.md":  # the corpus's own provenance note, not a document
            continue
        files.append(path)
    return files


def decode(raw: bytes) -> str:
    """Bytes -> text: UTF-8 (BOM allowed), UTF-16 with a BOM, else cp1252; binary data is refused."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    if b"\x00" in raw:
        raise ValueError("binary data (NUL bytes), not text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return raw.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise ValueError(f"not UTF-8, UTF-16 or cp1252 text ({exc.reason} at byte {exc.start})") from None


def clean(text: str) -> tuple[str, int]:
    """Normalise newlines and NFC, drop hidden characters; returns the text and how many were dropped.

    Example: clean("a\\u200bb\\r\\n") -> ("ab\\n", 1)
    """
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    cleaned, removed = _HIDDEN.subn("", text)
    return cleaned, removed


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
    return _close_sections(starts, len(text), title)


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
    return _close_sections(starts, len(text), title)


def _close_sections(starts: list[tuple[int, str]], length: int, title: str) -> tuple[Section, ...]:
    sections = []
    if not starts or starts[0][0] > 0:
        sections.append(Section(title, 0, starts[0][0] if starts else length))
    for i, (start, name) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else length
        sections.append(Section(name, start, end))
    return tuple(s for s in sections if s.end > s.start)


def load_document(path: Path, root: Path) -> Document:
    """Read and clean one supported file; raises ValueError with the reason it cannot be indexed."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ValueError(f"unsupported file type {suffix or '(none)'}; supported: {', '.join(SUPPORTED_SUFFIXES)}")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ValueError(f"file is {size // (1024 * 1024)} MiB, over the {MAX_FILE_BYTES // (1024 * 1024)} MiB limit")
    raw = path.read_bytes()
    text, hidden = clean(decode(raw))
    if not text.strip():
        raise ValueError("no text in file")
    source = path.relative_to(root).as_posix()
    if suffix == ".md":
        first = next((m.group(2) for m in map(_MD_HEADING.match, text.split("\n")) if m), None)
        title = first or path.stem
        sections = markdown_sections(text, title)
    else:
        first_line = text.strip().split("\n", 1)[0].strip()
        title = first_line if is_heading_line(first_line) else path.stem
        sections = text_sections(text, title)
    return Document(source, title, text, sections, hashlib.sha256(raw).hexdigest(), hidden)


def load_corpus(root: Path) -> tuple[list[Document], list[Skipped]]:
    """Load every file under root; a file that cannot be read is reported, never fatal."""
    documents, skipped = [], []
    for path in corpus_files(root):
        try:
            documents.append(load_document(path, root))
        except (ValueError, OSError) as exc:
            skipped.append(Skipped(path.relative_to(root).as_posix(), str(exc)))
    return documents, skipped
