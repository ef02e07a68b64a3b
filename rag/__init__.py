"""Question answering over an index: retrieve passages, compose a cited answer.

From the project folder (the index is built on first use, then loaded):

    from rag import Assistant
    answer = Assistant("corpus", "index/data/main").ask("Who chaired Session II?")
    print(answer.answer, *(f"[{c.n}] {c.source}: {c.text}" for c in answer.citations), sep="\\n")

Each citation's `text` is exactly `source`'s text[start:end]; `answer.abstained` says when the documents do not
answer, and `answer.to_json()` is the JSON contract `rag ask --json` prints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rag.answer import Answer, Citation, Passage
    from rag.assistant import Assistant

__all__ = ["Answer", "Assistant", "Citation", "Passage"]

# Imported on first use, not at `import rag`: every `rag` command imports this package, and `rag --help` or
# `rag ask` must not pay for the index and retrieval modules (nor ever torch or gradio) before they need them.
_WHERE = {"Answer": "rag.answer", "Citation": "rag.answer", "Passage": "rag.answer", "Assistant": "rag.assistant"}


def __getattr__(name: str) -> object:
    if name not in _WHERE:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
