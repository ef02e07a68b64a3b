"""Feedback on answers, kept in a local JSON-lines file, and its export as draft gold pairs.

One line per vote: {"time", "question", "answer", "abstained", "citations", "vote": "up"|"down", "comment"}.
`draft_gold` turns the approved answers into the gold format of DESIGN.md, so real use grows the
evaluation set (a person still reviews each draft: the "answers" are whole cited sentences); `export` adds
the thumbs-down votes and every comment, for reviewing what went wrong.
The file lives in the project's data/ folder, which `make clean` leaves alone (index/data/ is rebuilt).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from pathlib import Path
from typing import Any

from rag.answer import Answer
from rag.errors import BadInput

MAX_COMMENT_CHARS = 2000
DEFAULT_PATH = Path(__file__).resolve().parent.parent / "data" / "feedback.jsonl"
VOTES = ("up", "down", "all")
_MARKER = re.compile(r"\s*\[\d+\]")


def shown(path: Path) -> str:
    """Where votes go, as the page says it: relative to the project (data/feedback.jsonl), else the file's name
    alone, so the page shows no server path.

    Example: shown(DEFAULT_PATH) -> "data/feedback.jsonl"; shown(Path("/srv/votes/v.jsonl")) -> "v.jsonl"
    """
    project = DEFAULT_PATH.parent.parent
    resolved = Path(path).resolve()
    return resolved.relative_to(project).as_posix() if resolved.is_relative_to(project) else resolved.name


def record(path: Path, answer: Answer, vote: str, comment: str = "") -> dict[str, Any]:
    """Append one vote on an answer; a single O_APPEND write, so concurrent votes never interleave."""
    if vote not in ("up", "down"):
        raise BadInput(f"vote must be 'up' or 'down', not {vote!r}")
    entry = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "question": answer.question,
        "answer": answer.answer,
        "abstained": answer.abstained,
        "citations": [c.to_json() for c in answer.citations],
        "vote": vote,
        # a lone surrogate (pasted bytes that were not UTF-8) could not be written: shown as U+FFFD instead
        "comment": re.sub("[\ud800-\udfff]", "\ufffd", (comment or "").strip()[:MAX_COMMENT_CHARS]),
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)
    return entry


def read(path: Path) -> list[dict[str, Any]]:
    """Every vote in the file, oldest first; a damaged line is reported with its number."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise BadInput(f"no feedback yet: {path} does not exist") from None
    entries = []
    for no, line in enumerate(lines, start=1):
        if line.strip():
            try:
                entries.append(json.loads(line))
            except ValueError:
                raise BadInput(f"{path}:{no}: not valid JSON") from None
    return entries


def _latest(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The latest vote per question (case and spacing ignored), in the order of those latest votes."""
    latest: dict[str, dict[str, Any]] = {}
    for entry in entries:
        key = " ".join(str(entry.get("question", "")).lower().split())
        if key:
            latest.pop(key, None)  # re-insert so the output follows the order of the latest votes
            latest[key] = entry
    return latest


def _id(key: str) -> str:
    return "fb-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:10]


def export(entries: list[dict[str, Any]], votes: str = "up") -> list[dict[str, Any]]:
    """The latest vote per question whose vote is `votes` ("up", "down" or "all"), each with its vote and comment.

    An "up" vote is a draft gold pair (as `draft_gold`); a "down" vote keeps the answer and citations that were
    judged wrong. Example: export([{"question": "Q", "vote": "down", "answer": "A", "comment": "wrong"}], "down")
    -> [{"id": "fb-…", "question": "Q", "vote": "down", "comment": "wrong", "answer": "A", "citations": []}]
    """
    if votes not in VOTES:
        raise BadInput(f"--votes must be one of {', '.join(VOTES)}, not {votes!r}")
    gold = {pair["id"]: pair for pair in draft_gold(entries)}
    out = []
    for key, entry in _latest(entries).items():
        vote = entry.get("vote")
        if votes != "all" and vote != votes:
            continue
        row = {"id": _id(key), "question": entry["question"], "vote": vote, "comment": entry.get("comment", "")}
        if vote == "up":
            row.update(gold[row["id"]])
        else:
            row.update(answer=entry.get("answer", ""), citations=entry.get("citations", []))
        out.append(row)
    return out


def draft_gold(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Draft gold pairs from the answers whose latest vote is "up"; an approved abstention is unanswerable.

    Example: an "up" vote on "Session II was chaired by Dr. A. [1]" citing "Session II was chaired by
    Dr. A." -> {"id": "fb-…", "question": …, "answers": ["Session II was chaired by Dr. A."],
    "evidence": ["Session II was chaired by Dr. A."], "answerable": true}
    """
    out = []
    for key, entry in _latest(entries).items():
        if entry.get("vote") != "up":
            continue
        answerable = not entry.get("abstained", False)
        out.append(
            {
                "id": _id(key),
                "question": entry["question"],
                "answers": [_MARKER.sub("", entry.get("answer", "")).strip()] if answerable else [],
                "evidence": [c["text"] for c in entry.get("citations", [])] if answerable else [],
                "answerable": answerable,
            }
        )
    return out
