"""A chat as data: kept in the browser between reloads (as JSON) and exported as Markdown with its citations."""

from __future__ import annotations

from typing import Any

from rag.answer import Answer

EMPTY: dict[str, list] = {"messages": [], "answers": []}


def saved(messages: list[dict[str, Any]], answers: list[Answer | None]) -> dict[str, list]:
    """The chat as plain JSON for gr.BrowserState: the rendered messages and each answer's contract object."""
    return {"messages": list(messages), "answers": [None if a is None else a.to_json() for a in answers]}


def restored(data: object) -> tuple[list[dict[str, Any]], list[Answer | None]]:
    """The chat back from `saved`; anything unreadable (an older format, a damaged value) starts an empty chat.

    Example: restored(saved(m, a)) -> (m, a) apart from rounded timings; restored("junk") -> ([], [])
    """
    try:
        messages = [dict(m) for m in data["messages"] if m.get("role") in ("user", "assistant")]
        answers = [None if a is None else Answer.from_json(a) for a in data["answers"]]
    except (TypeError, KeyError, AttributeError, ValueError):
        return [], []
    if len(messages) != len(answers):
        return [], []
    return messages, answers


def _quote(text: str) -> str:
    return "\n".join("> " + line for line in text.strip().splitlines())


def to_markdown(answers: list[Answer | None]) -> str:
    """Every answered question of a chat, in order, with its citations and their character spans.

    Example: one answer "Dr. A chaired it. [1]" citing report.txt § Session II (chars 127-226) ->
    "## Who chaired Session II?\n\nDr. A chaired it. [1]\n\n- [1] report.txt § Session II, chars 127-226\n\n  > ..."
    """
    parts = ["# Conversation\n"]
    for answer in answers:
        if answer is None:
            continue
        parts.append(f"## {answer.question.strip()}\n")
        if answer.standalone_question and answer.standalone_question != answer.question:
            parts.append(f"_Understood as: {answer.standalone_question}_\n")
        parts.append(answer.answer.strip() + "\n")
        if answer.notice:
            parts.append(f"_Note: {answer.notice.strip()}_\n")
        for c in answer.citations:
            quoted = _quote(c.text).replace("\n", "\n  ")
            parts.append(f"- [{c.n}] {c.source} § {c.section}, chars {c.start}-{c.end}\n\n  {quoted}\n")
        if answer.abstained and answer.passages:
            related = "; ".join(f"{p.chunk.source} § {p.chunk.section}" for p in answer.passages[:3])
            parts.append(f"Related reading: {related}\n")
    return "\n".join(parts)
