"""The records an answer is made of, and their JSON form (the contract other tools read)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from index.text.chunking import Chunk


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk, its fused score and the per-retriever scores that explain it."""

    chunk: Chunk
    rank: int
    score: float
    scores: dict[str, float] = field(default_factory=dict)
    matched_terms: tuple[str, ...] = ()
    row: int = -1  # the chunk's row in the index (its vectors, its sentences); -1 when not from an index

    def to_json(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "source": self.chunk.source,
            "section": self.chunk.section,
            "start": self.chunk.start,
            "end": self.chunk.end,
            "text": self.chunk.text,
            "score": round(self.score, 6),
            "scores": {k: round(v, 6) for k, v in self.scores.items()},
            "matched_terms": list(self.matched_terms),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Passage:
        """The passage back from its JSON (a chat kept in the browser); the chunk id and token count are not kept."""
        chunk = Chunk("", data["source"], data["section"], data["start"], data["end"], data["text"], 0)
        return cls(chunk, data["rank"], data["score"], dict(data.get("scores") or {}), tuple(data["matched_terms"]))


@dataclass(frozen=True)
class Citation:
    """The exact cited span: `text` equals Document.text[start:end] of `source`."""

    n: int
    source: str
    section: str
    start: int
    end: int
    text: str

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "source": self.source,
            "section": self.section,
            "start": self.start,
            "end": self.end,
            "text": self.text,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Citation:
        return cls(data["n"], data["source"], data["section"], data["start"], data["end"], data["text"])


@dataclass(frozen=True)
class Unverified:
    """A sentence of a generated answer that its cited passages did not support, and why it was removed."""

    text: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "reason": self.reason}


@dataclass(frozen=True)
class Answer:
    """An answer with [n] markers, or an abstention that still lists the closest passages."""

    question: str
    answer: str
    abstained: bool
    citations: tuple[Citation, ...]
    passages: tuple[Passage, ...]
    timings_ms: dict[str, float]
    standalone_question: str | None = None
    # Only the llm composer sets these; left None, the JSON is exactly the contract.
    unverified: tuple[Unverified, ...] | None = None
    notice: str | None = None

    def to_json(self, id: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"id": id, "question": self.question}
        if self.standalone_question and self.standalone_question != self.question:
            out["standalone_question"] = self.standalone_question
        out.update(
            answer=self.answer,
            abstained=self.abstained,
            citations=[c.to_json() for c in self.citations],
            passages=[p.to_json() for p in self.passages],
            timings_ms={k: round(v, 3) for k, v in self.timings_ms.items()},
        )
        if self.unverified is not None:
            out["unverified"] = [u.to_json() for u in self.unverified]
        if self.notice is not None:
            out["notice"] = self.notice
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Answer:
        """An answer back from `to_json` (the UI keeps chats in the browser as JSON).

        Example: Answer.from_json(a.to_json()).to_json() == a.to_json(), apart from rounded timings
        """
        unverified = data.get("unverified")
        return cls(
            data["question"],
            data["answer"],
            bool(data["abstained"]),
            tuple(Citation.from_json(c) for c in data["citations"]),
            tuple(Passage.from_json(p) for p in data["passages"]),
            dict(data.get("timings_ms") or {}),
            data.get("standalone_question"),
            None if unverified is None else tuple(Unverified(u["text"], u["reason"]) for u in unverified),
            data.get("notice"),
        )
