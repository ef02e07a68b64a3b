"""What shape of answer a question wants: one fact, a list, an open account, a summary, a person's words,
several parts, or a comparison. Rules are general English question forms, never words of one document.

Why-/how-questions: in the present tense or with a modal ("Why does AI matter?", "How can X help?") they ask
for reasons or ways argued in the text and are `open`; in the past tense ("Why was the meeting moved?", "How
did the Normans win?") they ask for the cause or manner of one event: `open` but `brief`, within a factoid's 75
words (a factoid's one span lost what the next sentences told; a full open answer buried a short answer, squad-train
accuracy 0.668 -> 0.659, where brief gives 0.671). How-questions of measure ("how many", "how long") stay `factoid`.
First matching rule wins, in the order of `shape_of`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = ("factoid", "list", "open", "summary", "person", "multipart", "comparison")


@dataclass(frozen=True)
class Shape:
    """The kind of answer, with the pieces its composer needs (each set only for its own kind)."""

    kind: str
    target: str | None = None  # summary: what to summarise; None for the whole corpus
    person: str | None = None  # person: the name (or role) as written in the question
    topic: str | None = None  # open / person: what the question is about, when it says ("... about X")
    parts: tuple[str, ...] = ()  # multipart: standalone sub-questions
    sides: tuple[str, ...] = ()  # comparison: (A, B)
    brief: bool = False  # open: a short answer (a past event's cause or manner), within a factoid's 75 words


_WH = r"who|whom|whose|what|when|where|which|why|how"
_AUX = frozenset("is are was were do does did has have had can could will would should shall may might must".split())
_COPULA = frozenset("is are was were".split())
_PAST_AUX = frozenset("was were did had".split())
_PREPOSITIONS = frozenset("in of at on for from with by to about during into over under between among".split())
_DETERMINERS_MANY = frozenset("all both each every these those".split())
_ADJECTIVE_ENDINGS = ("al", "ic", "ive", "ous", "ful", "ent", "ant", "ary", "ing", "ese", "ian", "ish", "ern", "ed")
QUANTITY_WORDS = "two|three|four|five|six|seven|eight|nine|ten|several|many|various"  # "several speakers"
_NUMBER_WORDS = f"{QUANTITY_WORDS}|main|key|major|different"
# Titles and roles: a subject that is one of these, or a capitalised name, is a person ("What did the chair say?").
_TITLES = r"(?:Dr|Ms|Mr|Mrs|Mx|Prof|Professor|Sir|Dame|Minister|President|Director|Dean|Chief)\.?"
_ROLES = frozenset(
    "chair chairman chairwoman chairperson speaker minister president director dean moderator host author "
    "organiser organizer presenter panellist panelist professor ambassador secretary ceo founder keynote".split()
)
# Generic names for "the text being read": summarising one of these means the whole corpus.
_WHOLE = re.compile(
    r"^(?:(?:the|this|that|these|all|all the|whole|the whole|entire|the entire)\s+)*"
    r"(?:report|document|documents|text|article|articles|paper|corpus|everything|it|this|files?|material|content)$",
    re.I,
)
_LEAD = re.compile(
    r"^(?:please\s+|can you\s+|could you\s+|would you\s+|i want you to\s+|now\s+|"
    r"(?:tell\s+(?:me|us)|i(?:\s+want|\s+would\s+like|['\u2019]d\s+like)\s+to\s+know|do\s+you\s+know)\s+"
    r"(?=(?:who|what|when|where|which|why|how)\b))+",
    re.I,
)
_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.I)

_COMPARISON = (
    re.compile(r"^(?:compare|contrast)\s+(?P<a>.+?)\s+(?:and|with|to|against|versus|vs\.?)\s+(?P<b>.+)$", re.I),
    re.compile(
        r"^how\s+(?:does|do|did|is|are|was|were)\s+(?P<a>.+?)\s+"
        r"(?:differ|compare|contrast|different|similar)\s+(?:from|to|with)\s+(?P<b>.+)$",
        re.I,
    ),
    re.compile(
        r"^what\s+(?:is|are|was|were)\s+(?:the\s+)?(?:main\s+|key\s+)?"
        r"(?:differences?|similarit(?:y|ies)|contrasts?|distinctions?)\s+between\s+(?P<a>.+?)\s+and\s+(?P<b>.+)$",
        re.I,
    ),
    re.compile(r"^what\s+(?:do|did|does)\s+(?P<a>.+?)\s+and\s+(?P<b>.+?)\s+have\s+in\s+common$", re.I),
    re.compile(rf"^(?!(?:{_WH})\b)(?P<a>[^?]+?)\s+(?:versus|vs\.?)\s+(?P<b>.+)$", re.I),
)
_SUMMARY = (
    re.compile(r"^(?:summari[sz]e|sum\s+up|recap|give\s+(?:me\s+)?the\s+gist\s+of)\b\s*(?P<t>.*)$", re.I),
    re.compile(
        r"^(?:give|provide|write|make)\s+(?:me\s+|us\s+)?(?:a|an)\s+(?:\w+\s+){0,2}"
        r"(?:summary|overview|synopsis|recap|digest|outline)\b\s*(?:of|for|on)?\s*(?P<t>.*)$",
        re.I,
    ),
    re.compile(r"^(?:a\s+)?(?:summary|overview|synopsis)\s+of\s+(?P<t>.+)$", re.I),
    re.compile(
        r"^what\s+(?:is|are|was|were)\s+(?:the\s+)?(?:main\s+points|key\s+points|gist|key\s+takeaways|takeaways|"
        r"highlights|main\s+ideas|main\s+messages?)\s+(?:of|from|in)\s+(?P<t>.+)$",
        re.I,
    ),
    re.compile(r"^what\s+(?:is|are|was|were)\s+(?P<t>.+?)\s+(?:all\s+)?about$", re.I),
)
_SAY_VERBS = (
    r"say|said|talk\s+about|speak\s+about|speak\s+on|discuss|present|mention|argue|emphasi[sz]e|highlight|share|"
    r"propose|suggest|note|stress|report|contribute|cover|announce|explain|describe|call\s+for|think|believe"
)
_PERSON_SAID = re.compile(
    rf"^what\s+(?:did|does|do|has|have|had)\s+(?P<who>(?:(?:the|a|an|this|that|our|your)\s+)?\S.*?)\s+"
    rf"(?:{_SAY_VERBS})\b\s*(?P<rest>.*)$",
    re.I,
)
# The same asked indirectly ("Tell me what Dr. X said", the lead removed): subject before verb.
_PERSON_SAID_INDIRECT = re.compile(
    r"^what\s+(?P<who>\S.*?)\s+(?:said|says|presented|discussed|talked\s+about|spoke\s+about|mentioned|argued|"
    r"emphasi[sz]ed|highlighted|shared|proposed|suggested|noted|stressed|explained|described)\b\s*(?P<rest>.*)$",
    re.I,
)
_PERSON_POSSESSIVE = re.compile(
    r"^what\s+(?:was|were|is|are)\s+(?P<who>.+?)['\u2019]s?\s+(?:main\s+|key\s+)?"
    r"(?:contributions?|roles?|speech|presentation|remarks|message|talk|points?|views?|positions?|arguments?|"
    r"address|keynote)\b\s*(?P<rest>.*)$",
    re.I,
)
# After "What did X say": nothing, a topic or an occasion; anything else asks for one stated fact.
_OCCASION = re.compile(
    r"^(?:$|(?:about|on|regarding|concerning|in|at|during|when|after|before|while|of|to\s+(?:the\s+)?\w+$)\b)", re.I
)
_OPEN = (
    re.compile(
        r"^what\s+(?:was|were|is|are|has\s+been|have\s+been|had\s+been)\s+"
        r"(?:discussed|said|mentioned|covered|presented|shared|reported|noted|stated|proposed|recommended|"
        r"highlighted|emphasi[sz]ed|argued|concluded|decided|agreed|raised|announced|introduced|explained)\s*"
        r"(?:about|on|regarding|concerning|in|at|during|of|for)?\s*(?P<t>.*)$",
        re.I,
    ),
    re.compile(
        r"^(?:tell\s+(?:me|us)\s+(?:more\s+)?about|talk\s+about|what\s+about|what\s+do\s+we\s+know\s+about|"
        r"what\s+does\s+(?:the\s+\w+|it)\s+say\s+about|describe|explain|discuss|outline|elaborate\s+on|detail)"
        r"\s+(?P<t>.+)$",
        re.I,
    ),
)
_HOW_WHY = re.compile(r"^(?P<wh>how|why)\s+(?P<next>[\w'\u2019-]+)", re.I)
_HOW_MEASURE = frozenset("many much long old often far big large tall soon high wide deep late early".split())
_LIST_VERB = re.compile(r"^(?:list|enumerate|itemi[sz]e)\b", re.I)
_NAME_VERB = re.compile(r"^name\s+(?P<rest>.+)$", re.I)
_NAMES_OF = re.compile(r"\bnames\s+of\b", re.I)
_WHAT_ARE_THE = re.compile(
    rf"^(?:what|which|who)\s+(?:are|were)\s+(?:all\s+)?(?:the|its|their|some\s+of\s+the)\s+"
    rf"(?:(?:\d+|{_NUMBER_WORDS})\s+)*(?P<np>.+)$",
    re.I,
)
_COUNT = re.compile(rf"^(?:\d+|{_NUMBER_WORDS})$", re.I)
_WHO_PLURAL_AUX = re.compile(r"^who\s+(?:are|were|have\s+been)\b", re.I)
_WHICH_NP = re.compile(r"^(?:which|what)\s+(?P<np>.+)$", re.I)
_WHO_VERB_OBJECT = re.compile(
    r"^who\s+(?!is\b|was\b|are\b|were\b|did\b|does\b|do\b)[\w-]+\s+(?:(?:in|at|on|for|to|with)\s+)?(?P<det>[\w-]+)\s+"
    r"(?P<np>.+)$",
    re.I,
)
_SPLIT_WH = re.compile(
    rf"(?:,?\s+and\s+|\s*;\s*|\?\s+(?:and\s+)?)(?=(?:{_WH})\b)"
    # ", when did ...": a comma starts a new question only where the wh-word is followed by its auxiliary, which a
    # relative clause (", when the war ended") never has; "which"/"who" take one in both (", which was held")
    rf"|,\s+(?=(?:when|where|why|how|what)\s+(?:{'|'.join(sorted(_AUX))})\b)"
    r"|,?\s+and\s+(?=(?:by|for|from|with|to)\s+whom$)"  # "How was it funded, and by whom?"
    r"|,\s+(?=(?:when|where|why)\s*,)",  # "Who wrote it, when, and why?": a bare wh-word between commas
    re.I,
)
# "When the river floods, what ...": a first piece that is a clause setting the scene, not a question (a
# question's when/where/why is followed by its auxiliary: "When did it flood")
_CLAUSE = re.compile(rf"^(?:when|where|why)\s+(?!(?:{'|'.join(sorted(_AUX))})\b)", re.I)
# Irregular past tenses and their participles, for a one-word part that carries the first part's verb over
# ("Who wrote the ballad and when?" -> "When was the ballad written?")
_PARTICIPLES = {
    past: past
    for past in "paid led held met won built made sent spent taught bought brought found "
    "sold told lost left kept fought".split()
} | dict(
    zip(
        "wrote gave took began drew chose spoke rode ran saw knew threw grew broke stole sang".split(),
        "written given taken begun drawn chosen spoken ridden run seen known thrown grown broken stolen sung".split(),
        strict=True,
    )
)
_PRONOUN = re.compile(r"\b(it|they|them|its|their)\b", re.I)
_POSSESSIVE_PRONOUN = frozenset(("its", "their"))
_PERSONAL = re.compile(r"\b(he|she|him|his|her)\b", re.I)
_THING = re.compile(r"\b(it|its)\b", re.I)
_WHO_IS = re.compile(r"^who\s+(?:is|was)\s+\S", re.I)
_WORD = re.compile(r"[\w'\u2019.-]+")
_STARTS_WH = re.compile(rf"(?:{_WH})\b", re.I)
_TITLED = re.compile(rf"{_TITLES}\s+\S")
_ABOUT = re.compile(r"^(?:about|on|regarding|concerning|of)\s+(.+)$", re.I)
_ONE_OF = re.compile(r"(?:one|of)\b", re.I)
_ORDINAL_LABEL = re.compile(r"^(?:[IVXLC]+|\d+[a-z]?|[A-Z])$")


def shape_of(question: str) -> Shape:
    """The shape of `question`; `factoid` unless a rule for another kind matches.

    Example: shape_of("Compare Panel A and B") -> Shape("comparison", sides=("Panel A", "Panel B"))
    """
    q = _clean(question)
    if not q:
        return Shape("factoid")
    for rule in (_comparison, _multipart, _summary, _person, _open, _list):
        shape = rule(q)
        if shape is not None:
            return shape
    return Shape("factoid")


def _clean(question: str) -> str:
    """One line, no polite lead or final punctuation. Example: "Please list the speakers. " -> "list the speakers"."""
    q = " ".join(question.split())
    q = _LEAD.sub("", q)
    return q.rstrip(" ?.!").strip()


def _strip(text: str) -> str:
    """A phrase without final punctuation or surrounding spaces. Example: " Session IV? " -> "Session IV"."""
    return text.strip().rstrip(" ?.!,;:").strip()


def _comparison(q: str) -> Shape | None:
    for pattern in _COMPARISON:
        m = pattern.match(q)
        if m:
            a, b = _strip(m["a"]), _strip(m["b"])
            if a and b and not _STARTS_WH.match(b):
                return Shape("comparison", sides=(_carry_tail(a, b), _carry_head(a, b)))
    return None


def _carry_head(a: str, b: str) -> str:
    """B completed with A's head words when B is only a label. Example: ("Panel A", "B") -> "Panel B"."""
    words = a.split()
    if len(words) > 1 and _ORDINAL_LABEL.match(b) and _ORDINAL_LABEL.match(words[-1]):
        return " ".join([*words[:-1], b])
    return b


def _carry_tail(a: str, b: str) -> str:
    """A completed with B's noun when A is only a modifier of it.

    Example: ("coastal", "inland lights") -> "coastal lights"; ("the 1990", "2004 floods") -> "the 1990 floods"
    """
    words, rest = _ARTICLE.sub("", a).split(), b.split()[1:]
    if len(words) != 1 or not rest:
        return a
    w = words[0]
    modifier = w.isdigit() or (w.islower() and w.endswith(_ADJECTIVE_ENDINGS) and not _plural(w))
    return f"{a} {' '.join(rest)}" if modifier else a


def _multipart(q: str) -> Shape | None:
    pieces = [_strip(p) for p in _SPLIT_WH.split(q) if _strip(p)]
    # "When and where was it held": a bare wh-word opening the question asks its own question of the clause after
    # it; one after the first part ("Who wrote it and when, and who ...") asks it of the first part
    for i in range(len(pieces) - 2, -1, -1):
        opening = i == 0 or len(pieces[i - 1].split()) == 1
        if opening and len(pieces[i].split()) == 1 and _STARTS_WH.match(pieces[i]) and len(pieces[i + 1].split()) > 1:
            pieces[i] = f"{pieces[i]} {pieces[i + 1].split(' ', 1)[1]}"
    if len(pieces) < 2 or not _STARTS_WH.match(pieces[0]) or _CLAUSE.match(pieces[0]):
        return None
    which_np = _which_np(pieces[0])
    subject, past = _subject(pieces[0])
    asked = pieces[0].split()  # the first part's words: its auxiliary or verb carries over to a short part
    parts = [_sentence(pieces[0])]
    for piece in pieces[1:]:
        words = piece.split()
        if len(words) == 1 and (carried := _carried(asked, subject, past)):  # "... and where?": the same subject
            piece = f"{words[0]} {carried}"
        elif which_np and words[0].lower() == "which" and _verb_like(words[1]):  # "..., and which supported X?"
            piece = f"{words[0]} {which_np} {' '.join(words[1:])}"
        elif len(words) == 2 and words[1].lower() == "whom" and subject:  # "... and by whom?": the same question
            verb = asked[-1] if asked[-1] not in subject.split() else ""  # "How was it funded": "funded"
            piece = f"{piece} {asked[1]} {subject} {verb}".strip()
        elif subject and (_WHO_IS.match(pieces[0]) or _is_person(subject)):  # "Who was X, what did he do?"
            piece = _PERSONAL.sub(lambda m: _personal_for(m, subject), piece)
            # a name may be a thing's: "Who designed Kell Bridge, and how long is it?"
            piece = _THING.sub(lambda m: _pronoun_for(m.group(1), subject), piece)
        elif subject:
            piece = _PRONOUN.sub(lambda m: _pronoun_for(m.group(1), subject), piece)
        parts.append(_sentence(piece))
    return Shape("multipart", parts=tuple(parts))


def _past(word: str) -> bool:
    """A past tense or participle: regular ("organised") or one of _PARTICIPLES ("paid")."""
    w = word.lower()
    return w.endswith("ed") or w in _PARTICIPLES


def _verb_like(word: str) -> bool:
    return word.lower() in _AUX or _past(word)


def _carried_subject(subject: str) -> str | None:
    """A subject a later part can carry over: not empty, not itself a pronoun."""
    return subject if subject and not _PRONOUN.fullmatch(subject) else None


def _which_np(part: str) -> str | None:
    """The noun phrase a "Which ... " part asks about, up to its verb, for a later "which <verb>" part.

    Example: _which_np("Which towns backed the duke") -> "towns"
    """
    words = part.split()
    if len(words) < 3 or words[0].lower() not in ("which", "what"):
        return None
    for i, word in enumerate(words[1:], 1):
        if _verb_like(word) and i > 1:
            return " ".join(words[1:i])
    return None


def _carried(asked: list[str], subject: str | None, past: bool) -> str | None:
    """What a one-word part ("... and when?") asks of the first part's subject, with its verb; after a first part
    with an auxiliary, the same clause.

    Example: _carried("Who organised the fair".split(), "the fair", True) -> "was the fair organised";
    _carried("Who paid for it".split(), "for it", True) -> "was it paid for";
    _carried("When did the choir move to the abbey".split(), ...) -> "did the choir move to the abbey"
    """
    if len(asked) >= 3 and asked[1].lower() in _AUX:
        return " ".join(asked[1:])
    if not subject:
        return None
    verb = asked[1] if len(asked) > 1 and asked[1].lower() not in _AUX else ""
    participle = _PARTICIPLES.get(verb.lower(), verb if _past(verb) else "") if past else ""
    head, _, rest = subject.partition(" ")
    if participle and head.lower() in _PREPOSITIONS and rest:  # "paid for it": the thing paid for is "it"
        return f"was {rest} {participle} {head}"
    return f"{'was' if past else 'is'} {subject} {participle}".strip()


def _subject(part: str) -> tuple[str | None, bool]:
    """The thing a wh-question is about, and whether it is in the past tense.

    Example: _subject("Who organised the dialogue") -> ("the dialogue", True)
    """
    words = part.split()
    if len(words) >= 4 and words[1].lower() in ("many", "much"):  # "How many lights does the coast have"
        at = next((i for i, w in enumerate(words[2:], 2) if w.lower() in _AUX), None)
        if at is not None:  # "... does the coast have" -> "the coast"; "... are there" -> nothing to carry
            subject = " ".join(words[at + 1 : -1]) if at + 2 < len(words) else ""
            return _carried_subject(subject), words[at].lower() in _PAST_AUX
        verb = next((i for i, w in enumerate(words[3:], 3) if _past(w)), None)
        subject = " ".join(words[verb + 1 :]) if verb is not None else ""  # "... people attended the fair"
        return _carried_subject(subject), verb is not None
    if len(words) >= 3 and words[1].lower() in _AUX:
        aux, last = words[1].lower(), words[-1].lower()
        # "When did the session start" -> "the session"; "Where was the dialogue held" -> "the dialogue"
        verb_last = aux not in _COPULA or (words[-1].islower() and last.endswith(("ed", "en", "held", "met")))
        subject = " ".join(words[2:-1] if verb_last and len(words) >= 4 else words[2:])
        return _carried_subject(subject), aux in _PAST_AUX
    if len(words) >= 3:  # "Who organised the dialogue" -> "the dialogue"
        subject = " ".join(words[2:])
        return _carried_subject(subject), _past(words[1])
    return None, False


def _personal_for(m: re.Match, subject: str) -> str:
    """A personal pronoun replaced by the person: "his", and "her" before a noun, become "X's"."""
    word = m.group(1).lower()
    possessive = word == "his" or (word == "her" and m.end() < len(m.string.rstrip(" ?.!")))
    return f"{subject}'s" if possessive else subject


def _pronoun_for(pronoun: str, subject: str) -> str:
    return f"{subject}'s" if pronoun.lower() in _POSSESSIVE_PRONOUN else subject


def _sentence(part: str) -> str:
    """A sub-question as it would be asked alone. Example: "where was it held" -> "Where was it held?"."""
    return part[:1].upper() + part[1:] + "?"


def _summary(q: str) -> Shape | None:
    for pattern in _SUMMARY:
        m = pattern.match(q)
        if m:
            target = _strip(m["t"])
            if pattern is _SUMMARY[-1] and (_is_person(target) or not _names_a_thing(target)):
                return None  # "What is Dr. X about?", "What was Y worried about?": not about a document
            target = _ARTICLE.sub("", target) if target else ""
            return Shape("summary", target=None if not target or _WHOLE.match(target) else target)
    return None


def _plain_subject(phrase: str) -> bool:
    """A subject phrase with no verb in it. Example: "the Korean speaker" -> True, "OPEC do to gain" -> False."""
    words = phrase.lower().split()
    return len(words) <= 6 and not any(w in _AUX or w == "to" for w in words)


def _names_a_thing(phrase: str) -> bool:
    """A short noun phrase, not a state ("worried", "more concerned"). Example: "the report" -> True."""
    words = phrase.lower().split()
    return 0 < len(words) <= 10 and not words[-1].endswith(("ed", "ing")) and words[-1] not in ("more", "most", "less")


def _person(q: str) -> Shape | None:
    for pattern in (_PERSON_SAID, _PERSON_POSSESSIVE):
        m = pattern.match(q)
        if m and pattern is _PERSON_SAID and (not _OCCASION.match(m["rest"]) or not _plain_subject(m["who"])):
            return None  # "What did X say that Y ...?", "What did X do to gain a share?": one stated fact
        if m and _is_person(m["who"]):
            return Shape("person", person=_strip(m["who"]), topic=_topic(m["rest"]))
        if m and pattern is _PERSON_SAID:  # "What did the report say about X?": what a thing says is open
            return Shape("open", topic=_topic(m["rest"]) or _ARTICLE.sub("", _strip(m["who"])))
    m = _PERSON_SAID_INDIRECT.match(q)
    if m and _OCCASION.match(m["rest"]) and _is_person(m["who"]):
        return Shape("person", person=_strip(m["who"]), topic=_topic(m["rest"]))
    if m and _OCCASION.match(m["rest"]) and _plain_subject(m["who"]):
        return Shape("open", topic=_topic(m["rest"]) or _ARTICLE.sub("", _strip(m["who"])))
    m = _OPEN[1].match(q)  # "Tell me about Dr. X": a person when X is a titled name
    if m and _TITLED.match(m["t"]):
        return Shape("person", person=_strip(m["t"]))
    return None


def _is_person(phrase: str) -> bool:
    """A name, a titled name or a role, not a thing. Example: "Dr. Vik" -> True, "the report" -> False."""
    phrase = _strip(phrase)
    if _TITLED.match(phrase) or phrase.lower() in ("he", "she", "they"):
        return True
    words = phrase.split()
    if words and words[0].lower() in ("the", "a", "an", "this", "that"):
        return len(words) >= 2 and words[-1].lower() in _ROLES
    if len(words) > 1 and _ORDINAL_LABEL.match(words[-1]):
        return False  # "Session II", "Chapter 3": a numbered part of a text, not a name
    return bool(words) and len(words) <= 5 and all(w[:1].isupper() for w in words)


def _topic(rest: str) -> str | None:
    m = _ABOUT.match(_strip(rest))
    return _strip(m.group(1)) if m else None


def _open(q: str) -> Shape | None:
    for pattern in _OPEN:
        m = pattern.match(q)
        if m:
            return Shape("open", topic=_strip(m["t"]) or None)
    m = _HOW_WHY.match(q)
    if m:
        nxt = m["next"].lower()
        if m["wh"].lower() == "how" and nxt in _HOW_MEASURE:
            return None
        if nxt in _PAST_AUX or (nxt not in _AUX and nxt.endswith("ed")):
            return Shape("open", brief=True)  # one past event: its cause or manner, briefly (module docstring)
        return Shape("open")
    return None


def _list(q: str) -> Shape | None:
    if _LIST_VERB.match(q) or _NAMES_OF.search(q):
        return Shape("list")
    m = _NAME_VERB.match(q)
    if m:
        words = m["rest"].split()
        if words[0].lower() in _DETERMINERS_MANY:
            return Shape("list")
        words = words[1:] if words[0].lower() in ("the", "some", "any") and len(words) > 1 else words
        if _COUNT.match(words[0]):
            return Shape("list")
        head = _head(words)
        return Shape("list") if head and _plural(head) else None
    if _WHO_PLURAL_AUX.match(q):
        return Shape("list")
    m = _WHAT_ARE_THE.match(q)
    if m:
        head = _head(m["np"].split())
        return Shape("list") if head and _plural(head) else None
    m = _WHO_VERB_OBJECT.match(q)
    if m:
        det = m["det"].lower()
        if det in _DETERMINERS_MANY:
            return Shape("list")
        head = _head(m["np"].split())
        if det == "the" and head and _plural(head):
            return Shape("list")
        return None
    m = _WHICH_NP.match(q)
    if m and not _ONE_OF.match(m["np"]):
        return Shape("list") if _plural_subject(m["np"].split(), q[:5].lower() == "which") else None
    return None


def _head(words: list[str]) -> str | None:
    """The last word of a noun phrase, before a preposition, verb or clause.

    Example: ["speakers", "in", "X"] -> "speakers"
    """
    head = None
    for word in words:
        w = word.lower().strip(",;:")
        if w in _PREPOSITIONS or w in _AUX or w in ("that", "who", "which", "whose", "and", "or") or not w:
            break
        if head and _plural(head) and w.endswith("ed"):
            break  # "the tools used by ...": a participle after a plural noun ends its phrase
        head = w
        if word.endswith(","):
            break
    return head


def _plural_subject(words: list[str], which: bool) -> bool:
    """Whether "which/what <words>" asks about several things: a plural noun heads its noun phrase.

    An s-word after a plain noun is taken for a verb ("which programme provides"); after an acronym or an
    adjective ending it is the noun ("which AI tools", "which vocational colleges"). Right after "what" it is a
    noun only when a verb follows ("what challenges were ...", not "what makes AI ...").
    Example: (["countries", "took", "part"], which=True) -> True; (["programme", "provides"], True) -> False
    """
    for i, word in enumerate(words[:4]):
        w = word.lower()
        if w in _AUX or w in _PREPOSITIONS or (i and w.endswith("ed")):
            return False
        if _plural(w):
            if i == 0:
                follower = words[1].lower() if len(words) > 1 else ""
                if not follower or follower in _AUX or follower in _PREPOSITIONS or follower.endswith("ed"):
                    return True
                return which and not follower.endswith("s")
            before = words[i - 1]
            return before.isupper() or before.lower().endswith(_ADJECTIVE_ENDINGS) or before[:1].isupper()
    return False


def asks_for_people(question: str) -> bool:
    """Whether a list question's items are people: a plural role noun ("the speakers", "which panellists").

    Example: "List the panellists of the forum." -> True; "List the challenges." -> False
    """
    words = re.findall(r"[a-z]+", question.lower())
    return any(_plural(w) and w[:-1] in _ROLES for w in words)


def _plural(word: str) -> bool:
    """A regular English plural. Example: "sessions" -> True, "process" -> False, "analysis" -> False."""
    w = word.lower().strip(",;:'\u2019")
    return len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is", "ics", "'s", "\u2019s"))
