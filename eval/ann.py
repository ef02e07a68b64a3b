"""How index.storage.dense chose flat vs HNSW: recall@10 against exact search and search latency, by corpus size.

Measured on real MiniLM vectors of real text (random vectors say nothing about recall): distinct English
sentences of 6-60 words (real_sentences) from the docstrings, comment blocks and documentation files of the
installed packages and the Python standard library (on any machine after `make install`), then, as a last
source, the English man pages and /usr/share/doc. The reference machine holds 693,224 such sentences, so with
1,000 held out as queries at most 692,224 vectors are searched: a million needs other text. Embedded once by
the project's embedder and cached under index/data/bench-corpora/real-text/ (resumable, so an interrupted run
continues). The HNSW index is index.storage.dense's own (plan, build, configure); only efSearch is varied.
Run: `python -m eval.ann [--vectors 100000] [--sizes 10000,...] [--ef 32,64,128,256]`; `make bench --large`
runs it too. On a shared machine run it as `OMP_NUM_THREADS=1 nice -n 19 ...`: niced torch threads that wait
for each other on busy cores embedded several times slower than a single thread did.
"""

from __future__ import annotations

import argparse
import ast
import gzip
import html
import io
import json
import os
import re
import sys
import sysconfig
import time
import tokenize
import warnings
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "index" / "data" / "bench-corpora" / "real-text"
QUERIES = 1000
K = 10


SOURCES_VERSION = 2  # bump when the sources or the filter change: the cached sentence list is then rebuilt
SKIP_DIRS = {"__pycache__"}
PYTHON = (".py", ".pyi")
C_LIKE = (".h", ".hpp", ".cuh", ".c", ".cc", ".cpp")
DOCS = (".md", ".rst", ".txt")
SYSTEM_DOCS = ("", ".txt", ".md", ".rst", ".debian", ".html", ".htm")  # /usr/share/doc, once a .gz is taken off


def sentence_sources() -> list[tuple[str, str, Path]]:
    """(name, kind, folder) in the order sentences are taken. The first eight are on any machine after `make
    install` (the standard library without its own site-packages); the man pages and /usr/share/doc come last."""
    site = Path(sysconfig.get_paths()["purelib"])
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    return [
        ("site-packages docstrings", "docstrings", site),
        ("stdlib docstrings", "docstrings", stdlib),
        ("site-packages # comments", "comments", site),
        ("stdlib # comments", "comments", stdlib),
        ("site-packages C/C++ comments", "c-comments", site),
        ("stdlib C/C++ comments", "c-comments", stdlib),
        ("site-packages docs", "docs", site),
        ("stdlib docs", "docs", stdlib),
        ("man pages", "man", Path("/usr/share/man")),
        ("/usr/share/doc", "system-docs", Path("/usr/share/doc")),
    ]


def real_sentences(limit: int) -> list[str]:
    """limit distinct English sentences (6-60 words) in a fixed, seeded shuffle (any prefix is a fair sample); cached.

    From the sources of sentence_sources(), each sentence counted under the first that holds it: docstrings of
    the installed packages and of the standard library (.py and .pyi); their comment blocks (consecutive `#`
    lines joined; `/* */` and `//` comments of the C/C++ sources and headers they ship); their .md/.rst/.txt
    documentation files and package METADATA; then, as a last source, the English man pages (sections 1-9 of
    /usr/share/man) and the text and HTML files of /usr/share/doc. The cache is rebuilt when it holds fewer
    sentences than asked or was made by other sources or filters (SOURCES_VERSION).
    """
    cached, meta_path = CACHE / "sentences.jsonl", CACHE / "sentences.meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    if cached.is_file() and meta.get("version") == SOURCES_VERSION and meta.get("total", 0) >= limit:
        with cached.open(encoding="utf-8") as f:
            return [json.loads(line) for _, line in zip(range(limit), f, strict=False)]
    seen: dict[str, None] = {}
    counts: dict[str, int] = {}
    for name, kind, root in sentence_sources():
        before = len(seen)
        for path in source_files(kind, root):
            for sentence in EXTRACTORS[kind](path):
                seen.setdefault(sentence)
        counts[name] = len(seen) - before
        print(f"{name}: {counts[name]} new distinct sentences ({len(seen)} in all)", file=sys.stderr, flush=True)
    texts = list(seen)
    np.random.default_rng(0).shuffle(texts)  # mix packages and sources, so any prefix is a fair sample
    CACHE.mkdir(parents=True, exist_ok=True)
    cached.write_text("".join(json.dumps(t) + "\n" for t in texts), encoding="utf-8")
    meta = {"version": SOURCES_VERSION, "total": len(texts), "sources": counts}
    meta_path.write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return texts[:limit]


def source_files(kind: str, root: Path) -> list[Path]:
    """The files of one source, sorted by their path under root (the same order on any machine)."""
    if not root.is_dir():
        return []
    nested = root / "site-packages"  # in the stdlib: what was pip-installed into the base interpreter
    skip = nested if nested.resolve() != Path(sysconfig.get_paths()["purelib"]).resolve() else None
    if kind in ("docstrings", "comments"):
        return _files(root, lambda p: p.suffix in PYTHON, skip)
    if kind == "c-comments":
        return _files(root, lambda p: p.suffix in C_LIKE, skip)
    if kind == "docs":
        return _files(root, lambda p: p.suffix.lower() in DOCS or p.name == "METADATA", skip)
    if kind == "man":  # English pages only: the man1..man9 folders (translations sit in de/, fr/, ...)
        return _files(root, lambda p: re.fullmatch(r"man\d\w*", p.parent.name) is not None and p.parent.parent == root)
    if kind == "system-docs":
        return _files(root, lambda p: Path(p.name.removesuffix(".gz")).suffix.lower() in SYSTEM_DOCS)
    raise ValueError(f"unknown sentence source kind {kind!r}")


def _files(root: Path, wanted: Callable[[Path], bool], skip: Path | None = None) -> list[Path]:
    found = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if SKIP_DIRS.intersection(rel.parts) or (skip is not None and path.is_relative_to(skip)):
            continue
        if wanted(path) and path.is_file() and not path.is_symlink():  # a link repeats a file (or points nowhere)
            found.append((rel.as_posix(), path))
    return [path for _, path in sorted(found)]


def _read(path: Path) -> str | None:
    """A file's UTF-8 text (gunzipped if .gz), or None when it is not UTF-8 text."""
    try:
        raw = path.read_bytes()
        return (gzip.decompress(raw) if path.suffix == ".gz" else raw).decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError, gzip.BadGzipFile, zlib.error):
        return None


def _keep(s: str) -> bool:
    """The sentence filter: 6-60 words, starts uppercase, nothing code-like."""
    return 6 <= len(s.split()) <= 60 and s[:1].isupper() and not re.search(r"[>{}=]|::|\(\)", s)


def _split(paragraph: str) -> list[str]:
    """The kept sentences of one paragraph (whitespace collapsed; a sentence ends at .!? before a capital)."""
    return [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", " ".join(paragraph.split())) if _keep(s)]


def _docstring_sentences(path: Path) -> list[str]:
    text = _read(path)
    try:
        with warnings.catch_warnings():  # old code's invalid escapes warn while parsing
            warnings.simplefilter("ignore")
            tree = ast.parse(text or "")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            doc = ast.get_docstring(node) or ""
            for para in re.split(r"\n\s*\n", doc):
                out.extend(_split(para))
    return out


def _comment_sentences(path: Path) -> list[str]:
    """Sentences of `#` comment blocks: comments alone on their line, consecutive ones joined into a paragraph
    (a bare `#` or a line of symbols ends it); comments after code on the same line are left out."""
    try:
        tokens = tokenize.generate_tokens(io.StringIO(_read(path) or "").readline)
        lines = [
            (t.start[0], t.string) for t in tokens if t.type == tokenize.COMMENT and not t.line[: t.start[1]].strip()
        ]
    except (SyntaxError, tokenize.TokenError, ValueError):
        return []
    return _comment_blocks((n, c.lstrip("#").removeprefix(":")) for n, c in lines if not c.startswith("#!"))


def _comment_blocks(lines: Iterable[tuple[int, str]]) -> list[str]:
    """Sentences of line comments (line number, text without its marker): consecutive lines form a paragraph."""
    out: list[str] = []
    block: list[str] = []
    last = -1
    for line_no, body in lines:
        wordy = re.search(r"[A-Za-z0-9]", body) is not None
        if line_no != last + 1 or not wordy:
            out.extend(_split(" ".join(block)))
            block = []
        if wordy:
            block.append(body.strip())
        last = line_no
    out.extend(_split(" ".join(block)))
    return out


C_TOKENS = re.compile(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|/\*.*?\*/|//[^\n]*', re.S)


def _c_comment_sentences(path: Path) -> list[str]:
    """Sentences of C/C++ comments: each `/* */` block (blank lines split paragraphs, leading `*` dropped) and
    runs of `//` lines alone on their line; string literals are skipped so a `//` inside one is no comment."""
    text = _read(path) or ""
    out: list[str] = []
    line_comments = []
    line_no = pos = 0
    for m in C_TOKENS.finditer(text):
        token = m.group()
        line_no, pos = line_no + text.count("\n", pos, m.start()), m.start()
        if token.startswith("/*"):
            body = re.sub(r"[@\\]brief\s+", "", token[2:-2].lstrip("*!"))
            for para in re.split(r"\n[\s*]*\n", body):
                out.extend(_split(" ".join(re.sub(r"^\s*\*+", "", line) for line in para.splitlines())))
        elif token.startswith("//") and not text[text.rfind("\n", 0, m.start()) + 1 : m.start()].strip():
            line_comments.append((line_no, token[2:].lstrip("/!<")))
    return out + _comment_blocks(line_comments)


def _doc_file_sentences(path: Path) -> list[str]:
    """Sentences of a documentation file: HTML by its tags, anything else as Markdown/reStructuredText/text."""
    text = _read(path) or ""
    if Path(path.name.removesuffix(".gz")).suffix.lower() in (".html", ".htm"):
        return _html_sentences(text)
    return _doc_text_sentences(text)


def _doc_text_sentences(text: str) -> list[str]:
    """Sentences of prose paragraphs: code blocks (fenced or indented), headings, directives, tables and markup
    are left out; list items are paragraphs of their own; a paragraph whose lines average under 4 words (word
    lists, vocabularies, data) is not prose."""
    paragraphs: list[list[str]] = [[]]
    fenced = False
    for line in text.splitlines():
        if re.match(r"\s*(```|~~~)", line):
            fenced = not fenced
            paragraphs.append([])
            continue
        stripped = line.strip()
        if (
            fenced
            or not stripped
            or (re.match(r"(\t| {4})", line) and not paragraphs[-1])  # a code block starts indented
            or re.fullmatch(r"[=\-~^\"'`#*+_.:|]{3,}", stripped)  # rst underline, md rule, table border
            or re.match(r"(#+\s|\.\.\s|\||<)", stripped)  # md heading, rst directive/comment, table, html
        ):
            paragraphs.append([])
            continue
        item = re.match(r"([-*+]|\d+[.)]|#\.)\s+", stripped)
        if item:
            paragraphs.append([])
            stripped = stripped[item.end() :]
        paragraphs[-1].append(_unmark(stripped))
    out = []
    for para in paragraphs:
        if para and sum(len(line.split()) for line in para) / len(para) >= 4:
            out.extend(_split(" ".join(para)))
    return out


def _unmark(line: str) -> str:
    """Markdown and reStructuredText inline markup -> its text."""
    line = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", line)  # md image
    line = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", line)  # md link -> its text
    line = re.sub(r"`([^`<]+?)\s*<[^>]+>`_{1,2}", r"\1", line)  # rst link with target -> its text
    line = re.sub(r":[\w:.-]+:`([^`]+)`", r"\1", line)  # rst role
    line = re.sub(r"`+([^`]+)`+_{0,2}", r"\1", line)  # literals and plain links
    return re.sub(r"\*\*([^*]+)\*\*|\*([^*\s][^*]*)\*", lambda m: m.group(1) or m.group(2), line)  # emphasis


def _html_sentences(text: str) -> list[str]:
    """Sentences of an HTML page: block tags break paragraphs; scripts, styles and code are left out."""
    text = re.sub(r"(?is)<(script|style|pre|code)\b.*?</\1\s*>", "\n\n", text)
    blocks = r"p|div|h\d|li|ul|ol|table|tr|td|th|br|dt|dd|dl|blockquote|section|title|hr"
    text = re.sub(rf"(?i)</?({blocks})\b[^>]*>", "\n\n", text)
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return [s for para in re.split(r"\n\s*\n", text) for s in _split(para)]


ROFF_ESCAPES = {"\\-": "-", "\\(em": "\u2014", "\\(en": "\u2013", "\\(aq": "'", "\\(lq": '"', "\\(rq": '"'}
ROFF_ESCAPES |= {"\\(oq": "'", "\\(cq": "'", "\\*(lq": '"', "\\*(rq": '"', "\\e": "\\", "\\ ": " ", "\\~": " "}
ROFF_INLINE = {"B", "I", "SM", "SB", "BR", "RB", "IR", "RI", "BI", "IB"}  # font macros: their arguments are text


def _man_sentences(path: Path) -> list[str]:
    """Sentences of a man page's running text: requests and macros end paragraphs (font macros give their words),
    no-fill blocks (.nf/.EX: examples) and the tag line after .TP (an option) are left out, escapes resolved."""
    paragraphs: list[list[str]] = [[]]
    nofill = tag = False
    for line in (_read(path) or "").splitlines():
        if line.startswith(('.\\"', "'\\\"")):  # a roff comment
            continue
        if line.startswith((".", "'")):
            name, _, args = line[1:].strip().partition(" ")
            nofill = (nofill or name in ("nf", "EX")) and name not in ("fi", "EE")
            if name in ROFF_INLINE and not nofill and not tag:
                words = [a or b for a, b in re.findall(r'"([^"]*)"|(\S+)', args)]
                paragraphs[-1].append(_roff_text(("" if len(name) == 2 and name[0] != "S" else " ").join(words)))
                continue
            paragraphs.append([])
            tag = name == "TP"
        elif nofill or tag or not line.strip():
            tag = False
            paragraphs.append([])
        else:
            paragraphs[-1].append(_roff_text(line))
    return [s for para in paragraphs for s in _split(" ".join(para))]


def _roff_text(line: str) -> str:
    line = re.sub(r"\\f(\(..|\[[^\]]*\]|.)|\\s[+-]?\d", "", line)  # font and size changes
    for escape, char in ROFF_ESCAPES.items():
        line = line.replace(escape, char)
    return re.sub(r"\\\*?(\(..|\[[^\]]*\]|.)", "", line)  # any other escape or string


EXTRACTORS = {
    "docstrings": _docstring_sentences,
    "comments": _comment_sentences,
    "c-comments": _c_comment_sentences,
    "docs": _doc_file_sentences,
    "man": _man_sentences,
    "system-docs": _doc_file_sentences,
}


def real_vectors(n: int, progress: bool = True) -> tuple[np.ndarray, list[str]]:
    """n + QUERIES unit vectors of real sentences by the bundled model (embedded once, resumably)."""
    from index.encode.embed import SentenceTransformerEmbedder
    from index.encode.resumable import embed_resumable

    texts = real_sentences(n + QUERIES)
    if len(texts) < n + QUERIES:
        raise SystemExit(f"only {len(texts)} distinct sentences available; ask for at most {len(texts) - QUERIES}")
    vectors, _, _ = embed_resumable(SentenceTransformerEmbedder(), texts, CACHE / "vectors", progress)
    return np.asarray(vectors), texts


def measure(vectors: np.ndarray, sizes: list[int], ef_values: list[int]) -> list[dict[str, Any]]:
    """Per size: exact flat latency, and HNSW build time, recall@10 and latency at each efSearch.

    The HNSW index is the product's own: index.storage.dense's plan() for a corpus above the flat threshold, built by
    its build() (which applies configure()); only efSearch is then varied."""

    from index.storage import dense

    queries, base = vectors[:QUERIES], vectors[QUERIES:]
    rows = []
    for n in sizes:
        data = np.ascontiguousarray(base[:n])
        flat = dense.build(data, {"kind": "flat"}, data.shape[1])
        flat_ms, (_, truth) = _timed(flat, queries)
        del flat
        spec = dense.plan(max(n, dense.FLAT_MAX_CHUNKS + 1))
        started = time.perf_counter()
        hnsw = dense.build(data, spec, data.shape[1])
        build_s = time.perf_counter() - started
        row = {"n": n, "flat_p50_ms": flat_ms, "hnsw_build_s": build_s, "m": spec["m"], "spec": spec, "hnsw": {}}
        for ef in ef_values:
            hnsw.hnsw.efSearch = ef
            ms, (_, found) = _timed(hnsw, queries)
            recall = float(np.mean([len(set(f) & set(t)) / K for f, t in zip(found, truth, strict=True)]))
            row["hnsw"][ef] = {"recall_at_10": recall, "p50_ms": ms}
        rows.append(row)
        print(_row_text(row), file=sys.stderr, flush=True)
        del hnsw
    return rows


def _timed(index, queries: np.ndarray) -> tuple[float, tuple[np.ndarray, np.ndarray]]:
    """Median single-query latency in ms (one query at a time, as users ask), and all results."""
    times, sims, rows = [], [], []
    for q in queries:
        started = time.perf_counter()
        s, r = index.search(q[None, :], K)
        times.append((time.perf_counter() - started) * 1000)
        sims.append(s[0])
        rows.append(r[0])
    return float(np.median(times)), (np.array(sims), np.array(rows))


def _row_text(row: dict[str, Any]) -> str:
    hnsw = " ".join(f"ef{ef}: r@10 {v['recall_at_10']:.3f} {v['p50_ms']:.2f} ms" for ef, v in row["hnsw"].items())
    return f"n={row['n']}: flat {row['flat_p50_ms']:.2f} ms | hnsw build {row['hnsw_build_s']:.0f} s | {hnsw}"


def table(rows: list[dict[str, Any]]) -> str:
    """Markdown: one line per size."""
    efs = list(rows[0]["hnsw"]) if rows else []
    used = rows[0].get("spec", {}).get("ef_search") if rows else None
    cols = [f"ef={ef}{' (used)' if int(ef) == used else ''} recall@10 / p50 ms" for ef in efs]
    head = "| chunks | flat p50 ms | HNSW build s | " + " | ".join(cols) + " |"
    lines = [head, "|" + "---:|" * (3 + len(efs))]
    for r in rows:
        cells = " | ".join(f"{r['hnsw'][ef]['recall_at_10']:.3f} / {r['hnsw'][ef]['p50_ms']:.2f}" for ef in efs)
        lines.append(f"| {r['n']} | {r['flat_p50_ms']:.2f} | {r['hnsw_build_s']:.0f} | {cells} |")
    return "\n".join(lines)


SIZES = (10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.ann", description=__doc__.splitlines()[0])
    parser.add_argument("--vectors", type=int, default=100_000, help="real sentences to embed and search")
    parser.add_argument("--ef", default="32,64,128,256", help="efSearch values to measure")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="corpus sizes to measure (up to --vectors)")
    args = parser.parse_args(argv)
    vectors, _ = real_vectors(args.vectors)
    sizes = sorted({s for s in (*map(int, args.sizes.split(",")), args.vectors) if s <= args.vectors})
    load_before = os.getloadavg()
    rows = measure(vectors, sizes, [int(e) for e in args.ef.split(",")])
    print(table(rows))
    meta_path = CACHE / "sentences.meta.json"
    report = {
        "machine": {"cpus": os.cpu_count(), "nice": os.nice(0), "load_average": [load_before, os.getloadavg()]},
        "sentences": json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else None,
        "queries": QUERIES,
        "rows": rows,
    }
    out = CACHE / f"ann-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
