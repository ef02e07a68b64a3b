"""Extractive answers: the sentence(s) that answer, quoted exactly, each with its [n] citation.

Nothing is generated, so every word of an answer can be traced to its span in the source. The
composer abstains, naming why, when the evidence is not there: the question names something the
documents never mention, asks for a kind of answer (a date, a number, a person) no candidate
holds, or no candidate covers enough of what was asked.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from index.lexical import terms
from rag.answer import Citation
from rag.question import NEGATION, Question, analyse
from rag.retrieve import Retriever, SentenceHit

MAX_WORDS = 75
_SPEAKER_PRONOUN = re.compile(r"^(She|He|They|Her|His|Their)\b")
_NAME_LEAD = re.compile(r"^(?:Dr|Ms|Mr|Mrs|Prof)\.\s+[^,]+")
_PERSON = re.compile(
    r"\b(?:Dr|Ms|Mr|Mrs|Prof|Sir|Lord|King|Queen|Pope|Saint|St)\.?\s+[A-Z]"  # a title and a name
    r"|\b[A-Z]{3,}\s+[A-Z][a-z]+"  # "ARIUNAA Enkhtur"
    # "William Smith": exactly two capitalised words; three or more are a title ("Higher Education Transformation")
    r"|(?<![A-Z][a-z]\s)(?<![A-Z]\s)\b[A-Z][a-z]+\s+[A-Z][a-z]+\b(?!\s+[A-Z])"
)
_NUMBER = re.compile(
    r"\b(\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|twenty|thirty|forty|"
    r"fifty|hundreds?|thousands?|millions?|billions?|single|double|triple|half|several|few)\b",
    re.I,
)
_DATE = re.compile(
    r"\b(1\d{3}s?|20\d{2}s?|\d{1,2}(st|nd|rd|th)|January|February|March|April|May|June|July|August|September|"
    r"October|November|December|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|century|centuries|"
    r"decades?|years?|BC|AD|BCE|CE)\b"
)
# A word of the question, then where it is: "transformation at the heart", "engines in mills".
_LOCATED = re.compile(
    r"\b([\w\-]+)\s+(?:at|in|into|on|onto|within|inside|near|across|throughout)\s+(?:the\s+)?([\w\-]+)"
)
_MONEY = re.compile(
    r"[$€£¥]\s?\d|\b\d[\d,.]*\s*(?:million|billion|thousand)?\s*(?:dollars?|euros?|pounds|yen|yuan|francs?|marks|USD|EUR|GBP)\b",
    re.I,
)
_PLACE = re.compile(r"\b(in|at|from|near|to|of)\s+(the\s+)?[A-Z][a-z]+")
# Words that make a different office of the title after them: a Deputy Director is not the Director.
_RANK_QUALIFIER = r"(?:Deputy|Vice|Assistant|Associate|Acting|Interim|Former|Honorary|Co)"
_COMPANY = r"Company|Co\.|Ltd\.?|Inc\.?|Corporation|Corp\.|Group"
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*$")


@dataclass(frozen=True)
class ComposerSettings:
    """Weights and abstention thresholds, calibrated on both gold suites (see README, Evaluation).

    Swept together: a lower min_score answers more paraphrases but lets more unanswerable questions through;
    0.7 with these weights is where report grounded accuracy, false abstention and abstention recall balance.
    """

    lexical_weight: float = 0.65
    min_score: float = 0.7
    min_coverage: float = 0.15
    pair_penalty: float = 0.04
    context_weight: float = 0.6
    fragment_penalty: float = 0.2
    first_mention_margin: float = 0.1  # an earlier span as complete as the best, within this score, is quoted
    rare_name_idf: float = 0.6  # of the largest idf: a name at least this rare must be near the answer


@dataclass(frozen=True)
class Composed:
    """The composer's verdict: text with [n] markers and its citations, or an abstention and why."""

    text: str
    citations: tuple[Citation, ...]
    abstained: bool
    reason: str = ""
    score: float = 0.0  # of the best span (kept for calibration and debugging)
    coverage: float = 0.0


@dataclass(frozen=True)
class _Span:
    hits: tuple[SentenceHit, ...]
    score: float
    coverage: float
    text: str
    heading: bool = False  # hits[0] is the section's heading line, quoted with the sentence under it


@functools.lru_cache(maxsize=65536)
def term_set(text: str) -> frozenset[str]:
    """Stemmed terms of a sentence or span, cached: the same sentences are scored for many questions."""
    return frozenset(terms(text))


def counts(thing: str | None, text: str) -> bool:
    """Does the text give a number of `thing` (a number word within three words before it)?

    Example: counts("phase", "adopts a three-phase cascade model") -> True
    """
    if thing is None:
        return True
    tokens = re.findall(r"[\w]+", text)
    for i, token in enumerate(tokens):
        if _NUMBER.fullmatch(token) and any(t.startswith(thing[:5]) for t in terms(" ".join(tokens[i + 1 : i + 4]))):
            return True
    return False


def type_satisfied(kind: str, text: str, question: str = "") -> bool:
    """Does the text hold the kind of thing asked for (a person, a number, a date, a place), beyond
    the words of the question itself?

    Example: type_satisfied("number", "a three-phase cascade model") -> True
    Example: type_satisfied("person", "the report Digital Leap", "Who wrote Digital Leap?") -> False
    """
    pattern = {"person": _PERSON, "number": _NUMBER, "date": _DATE, "place": _PLACE}.get(kind)
    if pattern is None:
        return True
    if kind == "person" and not text[:1].isalnum():
        return False  # a fragment such as ", introduced the report ..." has lost its subject
    asked, mask = _asked(question)
    masked = mask.sub("x", text) if mask is not None else text
    if kind == "place" and any(
        a.lower() in asked and b.lower() not in asked for a, b in _LOCATED.findall(text)
    ):  # "place digital transformation at the heart of ...": where the asked thing is put
        return True
    return bool(pattern.search(masked))


@functools.lru_cache(maxsize=1024)
def _asked(question: str) -> tuple[frozenset[str], re.Pattern | None]:
    """The question's words, lower-cased, and a pattern matching them as whole words in any case (built once
    per question: every candidate span of the answer is checked against it)."""
    asked = frozenset(w.lower() for w in re.findall(r"[\w\-]+", question))
    if not asked:
        return asked, None
    words = "|".join(re.escape(w) for w in sorted(asked, key=len, reverse=True))
    return asked, re.compile(rf"(?<![\w\-])(?:{words})(?![\w\-])", re.IGNORECASE)


def expands(acronym: str | None, text: str) -> bool:
    """Does the text spell out the acronym, as "Long Name (ACR)" or "ACR (Long Name)"?

    Example: expands("MEXT", "Japan's Ministry of Education (MEXT), which ...") -> True
    """
    if acronym is None:
        return True
    a = re.escape(acronym)
    return re.search(rf"[A-Z][\w,]*(?:\s+[\w,]+)*\s+\(\s*{a}\s*\)|\b{a}\s+\(\s*[A-Z]", text) is not None


def names_institution(kind: str | None, text: str, question: str = "") -> bool:
    """Does the text name an institution of this kind ("University of Osaka"), other than one the question names?

    Example: names_institution("company", "Ms. W of Jiangxi KMAX Industrial Co. Ltd. in China") -> True
    Example: names_institution("university", "Session IV was chaired by Ms. T, Executive Director") -> False
    """
    if kind is None:
        return True
    word = _COMPANY if kind == "company" else kind.capitalize()
    asked = _asked(question)[0]
    before, after = r"(?:[A-Z][\w\-]*\s+(?:of\s+|the\s+)*)*", r"(?:\s+(?:of|for)(?:\s+[A-Z][\w\-]*)+)?"
    names = re.findall(rf"{before}\b(?:{word})\b{after}", text)
    return any({w.lower() for w in re.findall(r"[\w\-]+", n)} - asked - {kind, "of", "the", "for"} for n in names)


_COUNT_WORD = r"(?:\d+|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
# "the four strategic actions—A, B, C, and D—": a count, the noun, a dash, colon or bracket, then a list.
_ENUMERATION = re.compile(
    rf"\b{_COUNT_WORD}\s+((?:[\w\-]+\s+){{0,2}}[\w\-]+)\s*[—–:(]\s*[^.;]*,[^.;]*\b(?:and|or)\b", re.I
)


def enumerates(asked: frozenset[str], text: str) -> bool:
    """Does the text list, item by item, a counted thing the question names ("the four strategic actions—A, B ...")?

    Example: enumerates(frozenset({"strateg", "action", "last"}), "The four strategic actions—A, B, and C—aim") -> True
    Example: enumerates(frozenset({"smart", "platform"}), "framework—One Plan, Three Smart Platforms, and X") -> False
    """
    return any(listed <= asked for listed in _enumerated(text))


@functools.lru_cache(maxsize=65536)
def _enumerated(text: str) -> tuple[frozenset[str], ...]:
    """The counted nouns a text lists item by item ("four strategic actions—A, B and C" -> {strateg, action})."""
    found = (frozenset(terms(m.group(1))) for m in _ENUMERATION.finditer(text))
    return tuple(listed for listed in found if listed)


# "the newly released report titled Digital Leap", "a book entitled ...", "the album called \"X\"".
_TITLED = re.compile(r"([\w\-]+),?\s+(?:titled|entitled|(?:called|named)\s+(?=[\"“A-Z]))")


def gives_title(question: str, text: str) -> bool:
    """Does the text give the title of a thing the question names ("the report titled Digital Leap ...")?

    Example: gives_title("What is the title of the report?", "Dr. X introduced the report titled Digital Leap.") -> True
    Example: gives_title("What is the title of the report?", "Dr. X introduced the report on Digital Leap.") -> False
    """
    asked = _asked(question)[0]
    return any(m.group(1).lower() in asked for m in _TITLED.finditer(text))


def retitled(question: str, text: str) -> str | None:
    """A title the question asks about that the text holds only as another office, e.g. "Deputy Director".

    Example: retitled("Who is the Director of X?", "Ms. B, Deputy Director of X, spoke.") -> "Deputy Director"
    Example: retitled("Who is the Deputy Director of X?", "Ms. B, Deputy Director of X, spoke.") -> None
    """
    asked = question.lower()
    for title in dict.fromkeys(re.findall(r"\b[A-Z][a-z]+(?:-[A-Z][a-z]+)?\b", question[1:])):
        found = re.findall(rf"(?:\b({_RANK_QUALIFIER})[\s\-]+)?\b{title}\b", text)
        if found and all(q and q.lower() not in asked for q in found):
            return f"{found[0]} {title}"
    return None


_NEGATING_PREFIXES = ("non-", "non", "il", "ir", "un")
_ANTONYMS = (
    ("long", "short"),
    ("longer", "shorter"),
    ("large", "small"),
    ("larger", "smaller"),
    ("high", "low"),
    ("higher", "lower"),
    ("increase", "decrease"),
    ("increased", "decreased"),
    ("early", "late"),
    ("earlier", "later"),
    ("major", "minor"),
    ("maximum", "minimum"),
    ("rise", "fall"),
    ("grow", "shrink"),
    # Opposites of direction and place: "float away from" is not "flowed toward".
    ("toward", "away"),
    ("towards", "away"),
    ("above", "below"),
    ("inside", "outside"),
    ("inner", "outer"),
    ("upper", "lower"),
    ("north", "south"),
    ("east", "west"),
    ("northern", "southern"),
    ("eastern", "western"),
    # Opposites of outcome, stance and quality.
    ("gain", "lose"),
    ("win", "lose"),
    ("won", "lost"),
    ("success", "failure"),
    ("accept", "reject"),
    ("accepted", "rejected"),
    ("support", "oppose"),
    ("supported", "opposed"),
    ("allow", "forbid"),
    ("allowed", "forbidden"),
    ("allowed", "banned"),
    ("include", "exclude"),
    ("included", "excluded"),
    ("add", "remove"),
    ("added", "removed"),
    ("buy", "sell"),
    ("bought", "sold"),
    ("import", "export"),
    ("imports", "exports"),
    ("imported", "exported"),
    ("open", "closed"),
    ("public", "private"),
    ("true", "false"),
    ("positive", "negative"),
    ("strong", "weak"),
    ("stronger", "weaker"),
    ("rich", "poor"),
    ("wet", "dry"),
    ("hot", "cold"),
    ("fast", "slow"),
    ("wide", "narrow"),
    ("deep", "shallow"),
    ("ancient", "modern"),
    ("common", "rare"),
)


def contradicts(question: str, text: str) -> bool:
    """Does the text hold the opposite of a word of the question: the word with a negating prefix (illegalize/legalize)
    or its antonym (a long/short period)? SQuAD 2.0 makes unanswerables by such swaps. "How long" asks, not says.

    Example: contradicts("Why illegalize imports?", "a push to legalize importation") -> True
    Example: contradicts("What is productive for a long period?", "Soils are productive for a short period.") -> True
    Example: contradicts("How long did it take?", "It took a short time.") -> False
    Example: contradicts("Water flows away from what ocean?", "Water flowed toward the Atlantic.") -> True
    """
    asked = {w.lower() for w in re.findall(r"[A-Za-z][\w\-]*", re.sub(r"\bhow\s+\w+", " ", question, flags=re.I))}
    said = {w.lower() for w in re.findall(r"[A-Za-z][\w\-]*", text)}
    for one, other in ((asked - said, said), (said - asked, asked)):
        for word in one:
            for prefix in _NEGATING_PREFIXES:
                base = word[len(prefix) :]
                if word.startswith(prefix) and len(base) >= 4 and base in other and word not in other:
                    return True
    return any(
        x in asked and x not in said and y in said and y not in asked for a, b in _ANTONYMS for x, y in ((a, b), (b, a))
    )


# "rather than being a pristine wilderness", "instead of a tax": the words after it are what is not so.
_DENIAL = re.compile(r"\b(?:rather\s+than|instead\s+of)\s+((?:[\w\-]+\s*){1,6})", re.I)
_DENIAL_FILLER = frozenset({"being", "been", "be", "having"})


def denies(question: str, text: str) -> bool:
    """Does the text deny what the question takes as so, with "rather than" or "instead of" before the question's
    own words? SQuAD 2.0 makes unanswerables by asking about the alternative a sentence sets aside.

    Example: denies("How long was the Amazon a pristine wilderness?",
                    "The Amazon, rather than being a pristine wilderness, has been shaped by man.") -> True
    Example: denies("How long has the Amazon been shaped by man?",
                    "The Amazon, rather than being a pristine wilderness, has been shaped by man.") -> False
    Example: denies("What is not a pristine wilderness?", "rather than being a pristine wilderness") -> False
    Example: denies("What do laws reduce for consumers?", "Laws target suppliers, rather than consumers.") -> False
    """
    if NEGATION.search(question):
        return False  # a question about what is not so is answered by such a sentence
    asked = set(terms(question))
    for match in _DENIAL.finditer(text):
        words = [w for w in re.findall(r"[\w\-]+", match.group(1)) if w.lower() not in _DENIAL_FILLER]
        set_aside = [t for w in words for t in terms(w)][:2]
        if len(set_aside) == 2 and all(t in asked for t in set_aside):  # one shared word ("consumers") is no premise
            return True
    return False


# Who someone is to a person: "Robert's son" is not Robert, "Edward's son" did not do what Edward did.
_RELATIVE = (
    r"(?:sons?|daughters?|father|mother|parents?|brothers?|sisters?|wife|husband|widow|heirs?|uncle|aunt|nephew|"
    r"niece|grandsons?|granddaughters?|grandfather|grandmother|successor|predecessor)"
)
_NAME_OF = r"[A-Z][\w\-]*(?:\s+(?:the\s+|of\s+)?[A-Z][\w\-]*)*"


def relative_swapped(question: str, text: str) -> str | None:
    """A person the question names that the text names only as the relative of another, or the reverse: "Robert's
    son" in the text for "Robert" in the question, or "Edward's son" asked about where the text speaks of Edward.
    SQuAD 2.0 makes unanswerables by such swaps of a person for their relative.

    Example: relative_swapped("Who did Robert lead in 1107?", "the Normans under Bohemond, Robert's son, landed")
             -> "Robert's son, not Robert"
    Example: relative_swapped("When did Edward's son return?", "When Edward returned from exile in 1041")
             -> "Edward, not Edward's son"
    Example: relative_swapped("Who did Bohemond, Robert's son, lead?", "Bohemond, Robert's son, led them") -> None
    """
    for one, other in ((text, question), (question, text)):
        for match in re.finditer(rf"\b({_NAME_OF})['’]s\s+({_RELATIVE})\b", one):
            name, relative = match.group(1), match.group(2)
            bare = re.search(rf"\b{re.escape(name)}\b(?!['’]s\s+{_RELATIVE}\b)", other)
            related = re.search(rf"\b{re.escape(name)}['’]s\s+{_RELATIVE}\b", other)
            if bare and not related:
                kin = f"{name}'s {relative}"
                return f"{kin}, not {name}" if one is text else f"{name}, not {kin}"
    return None


_POSSESSIVE = re.compile(r"\b([A-Z][\w\-]+)(?:['’]s|s['’])\s+([\w\-]+)")


def other_owner(question: str, text: str, before: str = "") -> str | None:
    """Whose thing the text speaks of, when the question asks about someone else's: "Giuga's theorem" asked, the text
    gives "Wilson's theorem"; or "Newcomen's steam engine" asked, the text has a steam engine but neither it nor the
    sentences `before` it name Newcomen. SQuAD 2.0 makes unanswerables by swapping the owner of a thing.

    Example: other_owner("What does Giuga's theorem say?", "Wilson's theorem says p is prime.") -> "Wilson's theorem"
    Example: other_owner("What did Newcomen's engine produce?", "Watt patented an engine that produced motion.")
             -> "an engine not said to be Newcomen's"
    Example: other_owner("What did Watt's engine produce?", "He patented an engine.", before="Watt was an engineer.")
             -> None
    """
    said = set(terms(text))
    for match in _POSSESSIVE.finditer(question[1:]):
        owner, thing = match.group(1), match.group(2)
        thing_terms = terms(thing)
        if not thing_terms or thing_terms[0] not in said:
            continue
        stem = re.escape(owner[: max(4, len(owner) - 2)])
        owners = [o for o, t in _POSSESSIVE.findall(text) if terms(t)[:1] == thing_terms[:1]]
        if owners and not any(re.match(stem, o) for o in owners):
            return f"{owners[0]}'s {thing}"
        if not re.search(rf"\b{stem}", f"{before} {text}"):
            return f"{'an' if thing[:1].lower() in 'aeiou' else 'a'} {thing} not said to be {owner}'s"
    return None


def reverses_roles(actor: tuple[str, str] | None, text: str) -> bool:
    """Does the text make the question's actor the one acted on: "Who did the Normans encourage?" against "Norman
    mercenaries were encouraged ... by the Lombards"? SQuAD 2.0 makes unanswerables by turning a passive round.

    Example: reverses_roles(("Normans", "encourage"), "Norman mercenaries were encouraged by the Lombards") -> True
    Example: reverses_roles(("Normans", "encourage"), "The Normans encouraged the Lombards to come south.") -> False
    """
    if actor is None:
        return False
    who, verb = (terms(w) for w in actor)
    if not who or not verb:
        return False
    passive = r"\b(?:was|were|is|are|been|be)\s+(?:\w+ly\s+|first\s+|then\s+|later\s+)?(\w+ed)\b.{0,80}?\bby\b"
    for match in re.finditer(passive, text):
        done = terms(match.group(1))
        if done[:1] == verb[:1] and who[0] in terms(text[max(0, match.start() - 40) : match.start()]):
            return True
    return False


def gives_year(text: str) -> bool:
    """Does the text give a year ("in 1643"), not only a decade ("the late 1980s")?

    Example: gives_year("A 1643 publication said ...") -> True
    Example: gives_year("During the divestment movement in the late 1980s, ...") -> False
    """
    return re.search(r"\b(?:1\d{3}|20\d{2})\b(?!s)", text) is not None


def negates(text: str) -> bool:
    """Does the text say that something is not so (not, never, no, without ...)?"""
    return NEGATION.search(text) is not None


def same_paragraph(first: SentenceHit, second: SentenceHit) -> bool:
    """True when `second` follows `first` in the same paragraph (no line break between them)."""
    chunk = first.chunk
    if second.chunk.source != chunk.source or not first.end <= second.start <= chunk.end:
        return False
    return "\n" not in chunk.text[first.end - chunk.start : second.start - chunk.start]


def heading_of(hit: SentenceHit) -> SentenceHit | None:
    """The section's heading line when `hit` is the first sentence under it, as a hit of its own span."""
    chunk = hit.chunk
    title = chunk.section.split(" > ")[-1].strip()
    before = chunk.text[: hit.start - chunk.start].rstrip()
    if not title or not before.endswith(title) or not before[: -len(title)].rstrip("# ").endswith(("\n", "")):
        return None
    line_start = before.rfind("\n") + 1
    if before[line_start:].lstrip("# ") != title:
        return None
    end = chunk.start + len(before)
    return SentenceHit(chunk, end - len(title), end, hit.similarity, hit.passage_rank, hit.row)


class Composer:
    """Scores one- and two-sentence spans of the retrieved passages and quotes the best, or abstains."""

    def __init__(self, retriever: Retriever, settings: ComposerSettings = ComposerSettings()) -> None:
        self.retriever = retriever
        self.settings = settings
        self._context_terms = functools.lru_cache(maxsize=65536)(self._terms_before)

    def _weights(self, q: Question) -> tuple[dict[str, float], float]:
        """Each question term's idf (unknown terms count as the rarest) and their total."""
        idf, unknown = self.retriever.idf, self.retriever.max_idf
        weights = {t: idf.get(t, unknown) for t in q.terms}
        return weights, math.fsum(weights.values()) or 1.0

    def _spans(self, q: Question, hits: list[SentenceHit], qvec) -> list[_Span]:
        """Each sentence alone, and joined to the sentence after it in the same section.

        For a question about a session's title, only the heading with the sentence under it is a candidate.
        Terms are gathered per sentence (cached): a span's terms are its sentences' terms together.
        """
        weights, total = self._weights(q)

        def covered(found: frozenset[str]) -> float:  # fsum: the same whatever the set order
            return math.fsum(weights[t] for t in q.terms & found) / total

        spans = []
        for hit in hits:
            groups = [(hit,)]
            nxt = self.retriever.sentence(hit.row + 1, qvec, hit.passage_rank)
            if nxt is not None and same_paragraph(hit, nxt):
                groups.append((hit, nxt))
            if q.kind == "heading":
                heading = heading_of(hit)
                groups = [(heading, hit)] if heading is not None else []
            context = self._context_terms(hit.row, hit.chunk.source, hit.chunk.section)
            for group in groups:
                text = " ".join(h.text for h in group)
                if len(text.split()) > MAX_WORDS:
                    continue
                found = frozenset().union(*(term_set(h.text) for h in group))
                coverage = covered(found)
                # Terms only the sentences just before supply (the speaker, the framework's name) count a little.
                in_context = covered(found | context) - coverage
                similarity = max(h.similarity for h in group)
                lexical = coverage + self.settings.context_weight * in_context
                score = similarity + self.settings.lexical_weight * lexical
                score -= self.settings.pair_penalty * (len(group) - 1)
                if not group[0].text[:1].isalnum() and group[0].text[:1] not in "\"'“‘(":
                    score -= self.settings.fragment_penalty  # text the source lost its start of (", introduced ...")
                spans.append(_Span(group, score, coverage, text, q.kind == "heading"))
        return spans

    def _before(self, hit: SentenceHit, n: int) -> list[SentenceHit]:
        """Up to n sentences just before `hit` in its section."""
        return self._rows_before(hit.row, hit.chunk.source, hit.chunk.section, n)

    def _rows_before(self, row: int, source: str, section: str, n: int) -> list[SentenceHit]:
        out = []
        for before in range(row - 1, row - 1 - n, -1):
            prev = self.retriever.sentence(before)
            if prev is None or prev.chunk.source != source or prev.chunk.section != section:
                break
            out.append(prev)
        return out[::-1]

    def _terms_before(self, row: int, source: str, section: str) -> frozenset[str]:
        """The terms the two sentences before a span supply (a speaker, a framework's name); the same for
        every question, so cached per sentence in __init__."""
        return frozenset().union(*(term_set(h.text) for h in self._rows_before(row, source, section, 2)))

    def compose(self, question: str, hits: list[SentenceHit], qvec) -> Composed:
        q = analyse(question)
        missing = q.missing_in(self.retriever)
        if missing:
            return Composed("", (), True, f"the documents never mention {', '.join(missing)}")
        spans = sorted(self._spans(q, hits, qvec), key=lambda s: (-s.score, s.hits[0].row))
        if not spans:
            return Composed("", (), True, "nothing related was found")

        def typed(s: _Span) -> bool:
            return (
                type_satisfied(q.kind, self._quoted(s, qvec) if q.kind == "person" else s.text, q.text)
                and counts(q.counted, s.text)
                and expands(q.acronym, s.text)
                and names_institution(q.institution, s.text, q.text)
                and (not q.wants_title or gives_title(q.text, s.text))
                and (not q.wants_money or _MONEY.search(s.text) is not None)
            )

        # A list asked about is answered by the sentence that lists it, not one naming it.
        listing = [] if q.kind == "number" else [s for s in spans if enumerates(q.terms, s.text) and typed(s)]
        ranked = listing or self._typed_head(spans, typed)
        if not ranked:
            return Composed("", (), True, f"no passage gives {q.kind_phrase}")
        if q.kind != "number" and q.wants_list and not listing:
            return Composed("", (), True, "no passage lists them")
        best = self._first_mention(q, ranked)
        other_office = retitled(q.text, best.text)
        if other_office:
            return Composed("", (), True, f"the documents name a {other_office}, not the one asked about")
        if q.negated and not negates(best.text):
            return Composed("", (), True, "no passage says what is not so")
        if contradicts(q.text, best.text) or denies(q.text, best.text):
            return Composed("", (), True, "the closest passage says the opposite")
        if q.wants_year and not gives_year(best.text):
            return Composed("", (), True, "no passage gives the year")
        relative = relative_swapped(q.text, best.text)
        if relative:
            return Composed("", (), True, f"the closest passage speaks of {relative}")
        owner = other_owner(q.text, best.text, " ".join(h.text for h in self._before(best.hits[0], 2)))
        if owner:
            return Composed("", (), True, f"the closest passage speaks of {owner}")
        if reverses_roles(q.actor, best.text):
            return Composed("", (), True, "in the closest passage the one asked about is acted on, not acting")
        # "Long Name (ACR)" is the answer itself, however little else of the question the sentence shares.
        # So is "the report titled X" for the title of the report.
        spelled_out = q.acronym is not None or q.wants_title
        if not spelled_out and (best.score < self.settings.min_score or best.coverage < self.settings.min_coverage):
            return Composed("", (), True, "no passage answers it closely enough", best.score, best.coverage)
        unmentioned = None if spelled_out else self._unmentioned(q, best)
        if unmentioned:
            reason = f"the closest passage never mentions “{unmentioned}”"
            return Composed("", (), True, reason, best.score, best.coverage)
        text, citations = self._quote(self._with_speaker(best, qvec))
        return Composed(text, citations, False, "", best.score, best.coverage)

    def _typed_head(self, spans: list[_Span], typed: Callable[[_Span], bool]) -> list[_Span]:
        """The typed spans down to `first_mention_margin` below the best one: all `_first_mention` looks at.

        The type checks are the composer's costliest step; the spans past that score are never checked.
        """
        head: list[_Span] = []
        for span in spans:
            if head and span.score < head[0].score - self.settings.first_mention_margin:
                break
            if typed(span):
                head.append(span)
        return head

    def _first_mention(self, q: Question, ranked: list[_Span]) -> _Span:
        """The best span, or, when it holds every term of the question, the earliest span of its document that holds
        them all too and scores within `first_mention_margin`: a question that names a person's office is answered
        where the document introduces them, not where they are named again for closing remarks.
        """
        best = ranked[0]
        if not q.terms or not q.terms <= term_set(best.text):
            return best
        source, floor = best.hits[0].chunk.source, best.score - self.settings.first_mention_margin
        complete = [
            s
            for s in ranked
            if s.score >= floor
            and len(s.hits) == len(best.hits)
            and s.hits[0].chunk.source == source
            and q.terms <= term_set(s.text)
        ]
        return min(complete, key=lambda s: s.hits[0].row)

    def _unmentioned(self, q: Question, span: _Span) -> str | None:
        """A rare name the question relies on ("Plato", "Carnegie") that neither the span, the two sentences before
        it, the one after, nor its section's title mention: the span answers a question about something else.

        SQuAD 2.0 makes unanswerable questions by swapping a name into an answerable one ("What did Plato's
        perspective on science combine?" against "Agassiz's perspective on science combined ..."). Names common in the
        documents (the topic: "Amazon", "South American") are left out; a passage often implies them.
        """
        first = span.hits[0]
        after = self.retriever.sentence(span.hits[-1].row + 1)
        near = [*self._before(first, 2), *span.hits]
        if after is not None and after.chunk.source == first.chunk.source:
            near.append(after)
        have = term_set(" ".join([first.chunk.section, first.chunk.source, *(h.text for h in near)]))
        idf, unknown = self.retriever.idf, self.retriever.max_idf
        for name in q.names:
            stems = terms(name)
            if not any(idf.get(t, unknown) >= self.settings.rare_name_idf * unknown for t in stems):
                continue
            if not any(t in have or any(h.startswith(t[: max(4, len(t) - 3)]) for h in have) for t in stems):
                return name
        return None

    def _quoted(self, span: _Span, qvec) -> str:
        """The text an answer would quote for the span: a "She ..." sentence comes with the one naming her."""
        if not _SPEAKER_PRONOUN.match(span.text):
            return span.text
        return " ".join(hit.chunk.sentence_text(start, end) for hit, (start, end) in self._with_speaker(span, qvec))

    def _quote(self, parts: list[tuple[SentenceHit, tuple[int, int]]]) -> tuple[str, tuple[Citation, ...]]:
        """The answer text with [n] markers; a quote that is not a whole sentence (a heading, a name) takes a colon."""
        texts, citations = [], []
        for n, (hit, (start, end)) in enumerate(parts, start=1):
            text = hit.chunk.sentence_text(start, end)
            citations.append(Citation(n, hit.chunk.source, hit.chunk.section, start, end, text))
            whole = _SENTENCE_END.search(text) or n == len(parts)
            texts.append(f"{text} [{n}]" if whole else f"{text} [{n}]:")
        return " ".join(texts), tuple(citations)

    def _with_speaker(self, span: _Span, qvec) -> list[tuple[SentenceHit, tuple[int, int]]]:
        """A span opening with "She"/"He" is preceded by the sentence that names the speaker.

        If quoting that whole sentence would pass MAX_WORDS, only the name ("Ms. BI Xiaohan") is cited.
        """
        chosen = [(h, (h.start, h.end)) for h in span.hits]
        first = span.hits[0]
        if not _SPEAKER_PRONOUN.match(first.text):
            return chosen
        row = first.row
        for _ in range(4):
            prev = self.retriever.sentence(row - 1, qvec)
            if prev is None or not same_paragraph(prev, self.retriever.sentence(row)):
                return chosen  # never borrow a speaker from another paragraph
            if not _SPEAKER_PRONOUN.match(prev.text):
                if len(prev.text.split()) + len(span.text.split()) <= MAX_WORDS:
                    return [(prev, (prev.start, prev.end))] + chosen
                name = _NAME_LEAD.match(prev.text)
                return ([(prev, (prev.start, prev.start + name.end()))] if name else []) + chosen
            row -= 1
        return chosen
