"""What a question asks for: its terms, the kind of answer it expects, and the names it relies on.

Also turns a follow-up ("What did she say about ...?") into a standalone question from the chat history.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from index.text.lexical import terms

_QUESTION_WORDS = frozenset(
    "who whom whose what which when where why how is are was were do does did can could should would will "
    "according in on at for of the a an and or to by from with".split()
)
_ROMAN = re.compile(r"^[IVXL]+$")
_KIND_PHRASE = {
    "person": "a name for this",
    "number": "a number for this",
    "date": "a date for this",
    "place": "a place for this",
    "heading": "the title of that session",
    "expansion": "what it stands for",
    "institution": "a name of that kind",
    "other": "this",
}
# The title of a session or section is its heading; the question asks for that line, not for a sentence.
_HEADING_QUESTION = re.compile(
    r"\b(theme|topic|title|subject|focus|name)\s+of\s+(the\s+)?(session|section|panel|part|chapter|segment)\b", re.I
)
_EXPANSION_QUESTION = re.compile(r"\bdoes\s+(?:the\s+)?(?:acronym\s+|abbreviation\s+)?([\w\-]+)\s+stand\s+for\b", re.I)
# Kinds of institution whose names carry the kind ("University of Leeds", "Harbor Steel Co. Ltd.").
INSTITUTIONS = ("university", "college", "institute", "company", "faculty", "school", "ministry", "commission")
_INSTITUTION_QUESTION = re.compile(rf"\b(?:which|what)\s+(?:[\w\-]+\s+)?({'|'.join(INSTITUTIONS)})\b", re.I)
# "What are the names of the three platforms?", "List the actions": answered only by a sentence that lists them.
_LIST_QUESTION = re.compile(r"\bnames\s+of\b|^\s*(?:list|name)\s+(?:the|all|each)\b", re.I)
# "What is the title of the report ...?": answered only by a sentence that gives the thing's title ("report titled X").
_TITLE_QUESTION = re.compile(r"\btitle\s+of\s+(?:the|this|that|a|an|his|her|their|its)\b", re.I)
# "How much did it cost ...?": answered by an amount of money, not by any number ("a 358-acre campus").
# "In what year ...?": answered by a year ("1712"), not by a decade ("the late 1950s") or "in recent years".
_YEAR_QUESTION = re.compile(r"\b(?:what|which)\s+year\b", re.I)
# "Who did the Danes invite ...?": the question's subject acts (the Danes invited someone).
_ACTOR_QUESTION = re.compile(r"^(?:who|whom|what)\s+(?:did|does|do)\s+(?:the\s+)?([\w\-]+)\s+([\w\-]+)\b", re.I)
_MONEY_QUESTION = re.compile(r"\bhow much\b.*\b(?:costs?|paid|pays?|spen[dt]|price|worth|charged?)\b", re.I)
# A question about what is not so ("What did pharma not sell?") is answered only by a sentence that negates.
NEGATION = re.compile(r"\b(not|never|no|none|neither|nor|cannot|without)\b|n't\b", re.I)
_FOLLOW_UP_LEAD = re.compile(r"^(and|also|so|then|what about|how about)\b[\s,]*", re.I)
_PRONOUNS = re.compile(r"\b(she|he|her|him|his|they|them|their)\b", re.I)
_NAMED = re.compile(r"\b(?:Dr|Ms|Mr|Mrs|Prof)\.\s+[A-Z][\w\-]*(?:\s+[A-Z][\w\-]*){0,2}")


class Vocabulary(Protocol):
    """What the corpus knows: idf by stemmed term, and whether a phrase occurs verbatim."""

    idf: dict[str, float]

    def has_phrase(self, phrase: str) -> bool: ...

    def has_prefix(self, prefix: str) -> bool: ...


@dataclass(frozen=True)
class Question:
    text: str
    terms: frozenset[str]
    kind: str  # person | number | date | place | heading | expansion | institution | other
    names: tuple[str, ...]  # capitalised words, numerals and numbers the question relies on
    counted: str | None = None  # for "how many X": the stem of X, which the answer must count
    acronym: str | None = None  # for "what does X stand for": X, whose expansion the answer must give
    negated: bool = False  # the question asks what is not so
    institution: str | None = None  # for "which university ...": the kind of institution the answer must name
    wants_list: bool = False  # "what are the names of ...": the answer must list the things, item by item
    wants_title: bool = False  # "what is the title of the report ...": the answer must give the report's title
    wants_money: bool = False  # "how much did it cost ...": the answer must give an amount of money
    wants_year: bool = False  # "in what year ...": the answer must give a year, not a decade
    actor: tuple[str, str] | None = None  # "who did the Danes invite": ("Danes", "invite"), who acts and how

    @property
    def kind_phrase(self) -> str:
        return _KIND_PHRASE[self.kind]

    def missing_in(self, vocabulary: Vocabulary) -> list[str]:
        """Names in the question that the documents never mention: a question about them cannot be answered."""
        missing = []
        for name in self.names:
            if " " in name or any(ch.isdigit() for ch in name):
                if not vocabulary.has_phrase(name):
                    missing.append(f"“{name}”")
            elif not mentions(vocabulary, name):
                missing.append(f"“{name}”")
        return missing


def mentions(vocabulary: Vocabulary, phrase: str, share: float = 0.0) -> bool:
    """Whether the documents use at least `share` of the content words of `phrase`, and at least one; a phrase of
    stopwords only counts as mentioned.

    A shared prefix counts, so "Chilean" matches "Chile" and "Mexican" matches "Mexico".
    """
    stems = terms(phrase)
    if not stems:
        return True
    known = sum(s in vocabulary.idf or vocabulary.has_prefix(s[: max(4, len(s) - 3)]) for s in stems)
    return known > 0 and known >= share * len(stems)


_WHO_IS_NAMED = re.compile(
    r"^[Ww]ho\s+(?:is|was)\s+(?:(?:Dr|Ms|Mr|Mrs|Prof|Professor|Sir)\.?\s+)?[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){0,4}\s*\??$"
)


def answer_kind(question: str) -> str:
    """Coarse expected answer type from the question words.

    Example: answer_kind("How many phases does the model have?") -> "number"
    """
    q = question.lower()
    if _HEADING_QUESTION.search(q):
        return "heading"
    if _EXPANSION_QUESTION.search(q):
        return "expansion"
    if _INSTITUTION_QUESTION.search(q):
        return "institution"
    if re.search(r"\bhow (many|much|long|old|large|big)\b|\bwhat (number|percentage|amount|proportion)\b", q):
        return "number"
    when = r"^when\b|\bwhen (did|was|were|is|are|does|do|will)\b"
    if re.search(when + r"|\b(what|which) (date|year|day|month|century|decade)\b", q):
        return "date"
    if _WHO_IS_NAMED.match(question.strip()):  # "Who was Dr. Ana Soto?" asks what she is, not for a name
        return "other"
    if re.search(r"^who\b|\bwho(m|se)?\b|\b(which|what) (person|speaker|official|man|woman)\b", q):
        return "person"
    if re.search(r"^where\b|\bin (what|which) (city|country|town|place|venue|location)\b", q):
        return "place"
    return "other"


def names_in(question: str) -> tuple[str, ...]:
    """Capitalised words (not the first word), roman numerals with their noun, and numbers.

    Example: names_in("Who chaired Session I in 2024?") -> ("Session I", "2024")
    """
    tokens = re.findall(r"[A-Za-z][\w\-']*|\d[\d,.\-]*\d|\d", question)
    out = []
    for i, token in enumerate(tokens):
        clean = token.rstrip("'s").rstrip("'") if token.endswith("'s") else token
        if _ROMAN.match(clean) and i > 0 and tokens[i - 1][:1].isupper():
            if out and out[-1] == tokens[i - 1]:
                out.pop()  # "Session" becomes "Session I": the numeral is what must match
            out.append(f"{tokens[i - 1]} {clean}")
        elif clean[:1].isdigit():
            out.append(clean)
        elif i > 0 and clean[:1].isupper() and clean.lower() not in _QUESTION_WORDS and not _ROMAN.match(clean):
            out.append(clean)
    return tuple(dict.fromkeys(out))


def counted_thing(question: str) -> str | None:
    """The stemmed noun a "how many" question counts.

    Example: counted_thing("How many teachers were trained?") -> "teacher"
    """
    match = re.search(
        r"\bhow many\s+((?:[\w\-]+\s+){0,2}?[\w\-]+?)"
        r"(?:\s+(?:are|were|is|was|do|does|did|have|has|had|can|will)\b|\?|$)",
        question,
        re.I,
    )
    if not match:  # "how many universities belong to ...": the first plural of the next three words
        after = re.search(r"\bhow many\s+([\w\-]+)(?:\s+([\w\-]+))?(?:\s+([\w\-]+))?", question, re.I)
        if not after:
            return None
        words = [w for w in after.groups() if w]
        stems = terms(next((w for w in words if w.lower().endswith("s")), words[0]))
        return stems[0] if stems else None
    stems = terms(match.group(1))
    return stems[-1] if stems else None


def actor_of(question: str) -> tuple[str, str] | None:
    """Who acts and the verb, in a question asking whom or what they acted on.

    Example: actor_of("Who did the Danes invite to trade?") -> ("Danes", "invite")
    Example: actor_of("Who invited the Danes?") -> None
    """
    match = _ACTOR_QUESTION.search(question)
    return (match.group(1), match.group(2)) if match else None


def analyse(question: str) -> Question:
    expansion = _EXPANSION_QUESTION.search(question)
    institution = _INSTITUTION_QUESTION.search(question)
    kind = answer_kind(question)
    return Question(
        question,
        frozenset(terms(question)),
        kind,
        names_in(question),
        counted_thing(question),
        expansion.group(1) if expansion else None,
        bool(NEGATION.search(question)),
        institution.group(1).lower() if institution else None,
        bool(_LIST_QUESTION.search(question)),
        kind != "heading" and bool(_TITLE_QUESTION.search(question)),
        bool(_MONEY_QUESTION.search(question)),
        bool(_YEAR_QUESTION.search(question)),
        actor_of(question),
    )


def standalone(question: str, history: Sequence[tuple[str, str]] | None) -> str:
    """Resolve a follow-up against the previous turn: drop a leading "And", name who "she"/"he" is.

    Example: standalone("What did she say?", [("Who chaired?", "Dr. SATO Kenji chaired [1]")])
             -> "What did Dr. SATO Kenji say?"
    """
    if not history:
        return question
    text = _FOLLOW_UP_LEAD.sub("", question).strip() or question
    text = text[:1].upper() + text[1:]
    if _PRONOUNS.search(text):
        for user_turn, answer in reversed(history):
            match = _NAMED.search(answer or "") or _NAMED.search(user_turn or "")
            if match:
                name = match.group()
                text = re.sub(r"\b(she|he|him|they|them)\b", name, text, count=1, flags=re.I)
                text = re.sub(r"\b(her|his|their)\b", f"{name}'s", text, count=1, flags=re.I)
                break
    return text
