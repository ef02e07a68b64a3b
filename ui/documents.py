"""The Documents tab's views: what is indexed, as rows and as an HTML table. The changes themselves (uploads,
removal to a trash folder, undo, the index update) live in rag/corpus.py.
"""

from __future__ import annotations

import html
from collections import Counter
from pathlib import Path


def documents(assistant) -> list[dict[str, object]]:
    """The indexed documents: source, title, chunk count, size on disk and when that version was first indexed."""
    manifest = assistant.index.manifest
    chunks = Counter(c.source for c in assistant.index.chunks if c.duplicate_of is None)
    rows = []
    for source, info in sorted(manifest.documents.items()):
        path = Path(assistant.corpus_dir) / source
        rows.append(
            {
                "source": source,
                "title": info.get("title", ""),
                "chunks": chunks.get(source, 0),
                "bytes": path.stat().st_size if path.is_file() else None,
                "indexed": info.get("indexed_at") or manifest.built_at,
            }
        )
    return rows


def _size(n: object) -> str:
    if not isinstance(n, int):
        return "missing"
    return f"{n} B" if n < 1024 else f"{n / 1024:.1f} KiB"


def documents_html(rows: list[dict[str, object]]) -> str:
    """The documents as an escaped HTML table."""
    if not rows:
        return '<div class="sources-empty">No documents are indexed.</div>'
    body = "".join(
        f"<tr><td>{html.escape(str(r['source']))}</td><td>{html.escape(str(r['title']))}</td>"
        f"<td>{r['chunks']}</td><td>{_size(r['bytes'])}</td><td>{html.escape(str(r['indexed']))}</td></tr>"
        for r in rows
    )
    head = "<tr><th>document</th><th>title</th><th>chunks</th><th>size</th><th>indexed at</th></tr>"
    # in a box of its own that scrolls sideways: on a phone the five columns are wider than the screen
    return f'<div class="documents-scroll"><table class="documents" id="documents-table">{head}{body}</table></div>'
