"""Bytes -> clean text: encoding detection, and removal of characters that must never be indexed, counted.

Everything removed is counted so the ingest summary can say what was changed; nothing is dropped silently.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Zero-width, bidi-control and Unicode tag characters: invisible, so never indexed or shown.
_HIDDEN = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f]")
# C0 controls except tab and newline (\r, \v, \f become newlines first), DEL and C1 controls; NUL included.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_LINE_BREAKS = re.compile("\r\n|[\r\v\f\x85\u2028\u2029]")
# Bytes that plain text almost never holds; a file with many of them is binary data, not text.
_BINARY_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F])
BINARY_RATIO = 0.05


@dataclass(frozen=True)
class Removed:
    """Characters clean() removed: invisible format characters, control characters, lone surrogates."""

    hidden: int = 0
    control: int = 0
    surrogate: int = 0

    def __add__(self, other: Removed) -> Removed:
        return Removed(self.hidden + other.hidden, self.control + other.control, self.surrogate + other.surrogate)

    def describe(self) -> str:
        """Human summary, or '' when nothing was removed.

        Example: Removed(hidden=3).describe() -> "3 hidden (zero-width/bidi/tag)"
        """
        parts = [
            f"{self.hidden} hidden (zero-width/bidi/tag)" if self.hidden else "",
            f"{self.control} control (NUL, C0/C1)" if self.control else "",
            f"{self.surrogate} lone surrogate" if self.surrogate else "",
        ]
        return ", ".join(p for p in parts if p)


def decode(raw: bytes) -> tuple[str, str]:
    """Bytes -> (text, encoding): UTF-8 (BOM allowed), UTF-16/32 with a BOM, else cp1252; binary data is refused.

    Lone surrogates encoded in UTF-8/16 are let through (clean() removes and counts them) instead of
    sending a whole UTF-8 file down the cp1252 path because of one bad character.
    """
    if raw.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return _strict(raw, "utf-32"), "utf-32"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _strict(raw, "utf-16"), "utf-16"
    controls = len(raw) - len(raw.translate(None, _BINARY_BYTES))
    if controls > BINARY_RATIO * len(raw):
        raise ValueError(f"binary data, not text ({controls} of {len(raw)} bytes are control bytes such as NUL)")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding, "surrogatepass" if encoding == "utf-8-sig" else "strict"), encoding
        except UnicodeDecodeError:
            continue
    raise ValueError("binary data or an unknown encoding (not UTF-8, UTF-16 or cp1252)")


def _strict(raw: bytes, encoding: str) -> str:
    try:
        return raw.decode(encoding, "surrogatepass")
    except UnicodeDecodeError as exc:
        raise ValueError(f"invalid {encoding.upper()} text ({exc.reason} at byte {exc.start})") from None


def clean(text: str) -> tuple[str, Removed]:
    """Drop hidden, control and lone-surrogate characters, unify line breaks, NFC; returns text and counts.

    Idempotent, and the result always encodes as UTF-8.
    Example: clean("a\\u200bb\\x00\\r\\n") -> ("ab\\n", Removed(hidden=1, control=1))
    """
    text, surrogate = _SURROGATE.subn("", text)
    text = _LINE_BREAKS.sub("\n", text)
    text, hidden = _HIDDEN.subn("", text)
    text, control = _CONTROL.subn("", text)
    return unicodedata.normalize("NFC", text), Removed(hidden, control, surrogate)


# What a terminal line must not hold raw: controls (ESC sequences, newlines), bidi and line-separator
# characters, lone surrogates (unencodable).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]")


def shown_path(path) -> str:
    """A folder or file as a message names it: relative to the working folder when it is inside it (the project's
    default corpus and index, from the project folder: "corpus", "index/data/main"), else as given; escaped.

    Example: shown_path(Path.cwd() / "index" / "data") -> "index/data"; shown_path(Path("/srv/x")) -> "/srv/x"
    """
    import os
    from pathlib import Path

    path = Path(path)
    try:
        relative = Path(os.path.abspath(path)).relative_to(Path.cwd())
    except (ValueError, OSError):  # outside the working folder, or no working folder any more
        return printable(str(path))
    return printable(relative.as_posix())


def printable(text: str) -> str:
    """The text with every character that could move the cursor, split a line or fail to encode escaped.

    Example: printable("a\\x1b[2Jb\\nc") -> "a\\\\x1b[2Jb\\\\nc" (the escapes shown as text, one line)
    """
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape", "backslashreplace").decode("ascii"), text)


def has_surrogates(text: str) -> bool:
    """True when the text holds a lone surrogate (bytes that were not UTF-8); it cannot be printed or indexed."""
    return bool(_SURROGATE.search(text))
