"""Whole-claim support: a claim must keep the frame its source puts around a statement and add no clause.

Word overlap alone keeps "The dam is safe" under "The board rejected the claim that the dam is safe", and
"X chaired it, who later resigned" under "X chaired it". These pure functions compare what word overlap
cannot: negation (by parity), disputing, hedging, conditional and obligation frames, quantifiers, each
clause's own support, and the order of named roles.
"""

from __future__ import annotations

import functools
import re

from index.text.lexical import STOPWORDS, terms, words
from index.text.sentences import split_sentences

# Frames that change what a statement asserts; a claim and the part of its span it restates must agree.
_FRAME_WORDS = {
    "disputed": "deny denies denied denial denying reject rejects rejected rejecting refute refutes refuted "
    "dispute disputes disputed contest contests contested dismiss dismissed doubt doubts doubted doubtful "
    "allege alleges alleged allegedly claim claims claimed claiming reportedly purportedly supposedly "
    "rumour rumours rumoured rumor rumors rumored unconfirmed unverified unproven disproved disproven myth",
    "hedged": "may might could would possibly perhaps maybe probably likely unlikely potentially plausibly "
    "seem seems seemed appear appears appeared suggest suggests suggested uncertain unclear expected "
    "considering considered proposed propose proposes planned plans",
    "conditional": "if unless whether assuming suppose supposing hypothetically",
    "obligation": "must should shall ought",
}
_FRAME = {w: group for group, text in _FRAME_WORDS.items() for w in text.split()}
_NEGATORS = frozenset("not no never none nothing nobody neither without cannot false untrue incorrect".split())
_QUANTIFIER = {
    **dict.fromkeys("all every each entire whole always everyone everybody".split(), "all"),
    **dict.fromkeys("some several sometimes".split(), "some"),
    **dict.fromkeys("most majority mostly largely".split(), "most"),
    **dict.fromkeys("many numerous often".split(), "many"),
    **dict.fromkeys("few fewer rarely seldom minority".split(), "few"),
    **dict.fromkeys("only solely exclusively".split(), "only"),
}
_NUMBER_WORD = (
    r"(?:\d|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred)"
)
# Qualifiers of a number: "over 30" and "about 30" are not "30".
_APPROX = [
    (re.compile(rf"\b(?:more than|over|above|exceeding|in excess of)\s+{_NUMBER_WORD}", re.I), "more-than"),
    (re.compile(rf"\b(?:less than|fewer than|under|below)\s+{_NUMBER_WORD}", re.I), "less-than"),
    (re.compile(rf"\bat least\s+{_NUMBER_WORD}", re.I), "at-least"),
    (re.compile(rf"\b(?:at most|up to|no more than)\s+{_NUMBER_WORD}", re.I), "at-most"),
    (re.compile(rf"\b(?:about|around|approximately|roughly|nearly|almost|some|circa)\s+{_NUMBER_WORD}", re.I), "about"),
]
# Clause boundaries: punctuation, and words that open a subordinate or relative clause.
_BOUNDARY = re.compile(
    r"\s*(?:[,;:()\u2014\u2013]|\s-\s)\s*"
    r"|\s+(?=\b(?:that|which|who|whom|whose|whether|while|whereas|although|though|because|if|unless|but)\b)",
    re.I,
)
# Words a faithful restatement adds without adding a fact: attribution and reporting verbs.
REPORTING_WORDS = (
    "said stated noted mentioned explained described highlighted emphasised emphasized stressed underlined "
    "pointed remarked reported according also speaker spoke added"
)
_TITLES = frozenset("dr ms mr mrs mx prof professor sir dame".split())
_MONTH_MAY = re.compile(r"(?<=[^.!?\s])(\s+)May\b")  # "in May 2024" is a month, "May" at a start is a hedge


@functools.cache
def reporting_terms() -> frozenset[str]:
    """The stems of REPORTING_WORDS (stemmed on first use: the stemmer loads late)."""
    return frozenset(terms(REPORTING_WORDS))


def frames(text: str) -> frozenset[str]:
    """The frames and quantifiers a text puts around what it states; negation counts by parity.

    Example: frames("It is false that the board did not meet all week") -> {"quantifier:all"}
    """
    text = _MONTH_MAY.sub(r"\1Month", text.replace("\u2019", "'"))
    text = re.sub(r"\bnot only\b", " ", text, flags=re.I)  # "not only ... but also" asserts both
    found: set[str] = set()
    for pattern, name in _APPROX:
        if pattern.search(text):
            found.add(f"quantifier:{name}")
        text = pattern.sub(" ", text)
    tokens = re.findall(r"[^\W_]+(?:'[^\W_]+)?", text.lower())
    negations = sum(t in _NEGATORS or t.endswith("n't") for t in tokens)
    if negations % 2:
        found.add("negated")
    found |= {_FRAME[t] for t in tokens if t in _FRAME}
    found |= {f"quantifier:{_QUANTIFIER[t]}" for t in tokens if t in _QUANTIFIER}
    return frozenset(found)


def clauses(text: str) -> list[tuple[str, str]]:
    """The text's clauses, each with the word or mark that opens it ("" for the first).

    Example: clauses("It is false that the dam, built in 2021, is safe")
      -> [("", "It is false"), ("that", "that the dam"), (",", "built in 2021"), (",", "is safe")]
    """
    out, pos, opener = [], 0, ""
    for match in _BOUNDARY.finditer(text):
        piece = text[pos : match.start()].strip()
        if piece:
            out.append((opener, piece))
        pos = match.end()
        opener = match.group().strip() or text[pos:].split(None, 1)[0].lower()
    piece = text[pos:].strip()
    if piece:
        out.append((opener, piece))
    return out


def _covered(clause: str, claim_terms: set[str]) -> bool:
    """True when the claim restates this clause: two of its words, or all of a one-word clause."""
    own = set(terms(clause))
    matched = own & claim_terms
    return len(matched) >= 2 or (bool(own) and matched == own)


def governing(span_text: str, claim_terms: set[str]) -> str:
    """The parts of a span whose frames bear on what the claim restates.

    Those are the clauses the claim restates, the clauses that introduce them ("It is false | that ..."),
    and any clause of the same sentence that disputes or conditions ("The board rejected the claim ...").
    """
    kept = []
    for s, e in split_sentences(span_text):
        parts = clauses(span_text[s:e])
        covered = [i for i, (_, c) in enumerate(parts) if _covered(c, claim_terms)]
        if not covered:
            continue
        take = set(covered)
        for i in covered:
            j = i
            while j > 0 and parts[j][0] in ("that", "whether", "if", "unless", ":"):
                j -= 1
                take.add(j)
        take |= {i for i, (_, c) in enumerate(parts) if frames(c) & {"disputed", "conditional"}}
        kept.append(" ".join(parts[i][1] for i in sorted(take)))
    return " ".join(kept)


def frame_mismatch(claim: str, span_texts: list[str]) -> str:
    """Why the claim's frames differ from those around what it restates ("" when they agree).

    Example: frame_mismatch("The dam is safe.", ["The board rejected the claim that the dam is safe."])
      -> "drops the disputed frame of its source"
    """
    claim_terms = set(terms(claim))
    source = frames(" ".join(governing(t, claim_terms) for t in span_texts))
    own = frames(claim)
    dropped, added = sorted(source - own), sorted(own - source)
    if dropped:
        return f"drops the {', '.join(f.replace('quantifier:', '') for f in dropped)} frame of its source"
    if added:
        return f"adds a {', '.join(f.replace('quantifier:', '') for f in added)} frame its source does not have"
    return ""


def unsupported_clause(claim: str, span_texts: list[str], context: str = "") -> str:
    """A clause of the claim that no single span supports, quoted ("" when every clause is supported).

    A clause is supported by a span (with `context`, its section title) holding at least one of its content
    words and missing at most one in three. Example: "X chaired it, who later resigned" -> "who later resigned".
    """
    for _, clause in clauses(re.sub(r"\s+and\s+(?=[a-z])", ", and ", claim)):
        own = set(terms(clause))
        if not own:
            continue
        best = max(len(own & set(terms(f"{context}\n{t}"))) for t in span_texts)
        if best == 0 or len(own) - best > max(1, len(own) // 3):
            return clause
    return ""


_MONTHS = frozenset("january february march april may june july august september october november december".split())
# A passive with a named agent: "was fined 40,000 euros by the Harlow Council".
_PASSIVE = re.compile(
    r"\b(?:is|are|was|were|be|been|being)\s+(?:\w+ly\s+)?(\w+(?:ed|en|wn|ld|lt|ght|id|ne|de))\b"
    r"(?=.*\bby\s+(?:the\s+)?(?:(?:Dr|Ms|Mr|Mrs|Prof)\.?\s+)?(?-i:[A-Z]))",
    re.I,
)
_AGENT = re.compile(r"\bby\s+(?:the\s+)?(?:(?:Dr|Ms|Mr|Mrs|Prof)\.?\s+)?([A-Z][\w-]*(?:\s+[A-Z][\w-]*)*)")


def role_swap(claim: str, span_text: str) -> str:
    """The names whose roles the claim swaps against its span ("" when roles agree).

    In the same voice, named parties keep their order and each verb stays with its party; a passive against an
    active swaps subject and agent ("Brennan was fined by Harlow" for "Harlow fined Brennan").
    Example: role_swap("Brennan fined Harlow.", "Harlow fined Brennan.") -> "brennan, harlow"
    """
    bound = _unbound(claim, span_text)
    if bound:
        return bound
    span_words = words(span_text)
    placed: dict[str, int] = {}
    for group, *_ in _named(claim):
        at = [span_words.index(w) for w in group if w in span_words]
        if at and not set(group) <= _MONTHS:
            placed.setdefault(" ".join(group), min(at))
    names = list(placed)
    if len(names) < 2:
        return ""
    claim_passive, span_passive = _PASSIVE.search(claim), _PASSIVE.search(span_text)
    if bool(claim_passive) != bool(span_passive):  # a change of voice matters only around the same verb
        verb = terms((claim_passive or span_passive).group(1))
        if not verb or verb[0] not in set(terms(span_text if claim_passive else claim)):
            return ""
    if bool(claim_passive) == bool(span_passive):  # each name found after the one before it (a repeated word may recur)
        pos = -1
        for name in names:
            later = [i for i, w in enumerate(span_words) if w in name.split() and i > pos]
            if not later:
                return ", ".join(names)
            pos = later[0]
        return ""
    if claim_passive:  # "S was V by A" needs A before S in the active span
        agent = _AGENT.search(claim)
        a = " ".join(w.lower() for w in agent.group(1).split()) if agent else ""
        if a in placed and a != names[0] and placed[a] > placed[names[0]]:
            return f"{names[0]}, {a}"
        return ""
    agent = _AGENT.search(span_text)  # "A V S" needs A to be the span's agent: "S was V by A"
    if agent and not set(names[0].split()) & set(words(agent.group(1))):
        return f"{names[0]}, {agent.group(1).lower()}"
    return ""


def _named(claim: str) -> list[tuple[list[str], int, int, bool]]:
    """Each name in the claim: its lower-cased words, first and last word index, and whether a title precedes it.

    Example: _named("Dr. Tomas Rieck led it") -> [(["tomas", "rieck"], 1, 2, True)]
    """
    tokens = re.findall(r"[^\W_]+(?:-[^\W_]+)*", claim)
    out, i = [], 0
    while i < len(tokens):
        if tokens[i][:1].isupper() and tokens[i].lower() not in STOPWORDS and tokens[i].lower() not in _TITLES:
            j = i
            while j + 1 < len(tokens) and tokens[j + 1][:1].isupper() and tokens[j + 1].lower() not in STOPWORDS:
                j += 1
            titled = i > 0 and tokens[i - 1].lower() in _TITLES
            out.append(([t.lower() for t in tokens[i : j + 1]], i, j, titled))
            i = j + 1
        else:
            i += 1
    return out


def _unbound(claim: str, span_text: str) -> str:
    """A party (a titled name, or the claim's subject) whose verb the span gives to another party ("" if none).

    In the span, a verb's party is the name after "by" when one follows it, else the nearest name before it.
    Example: _unbound("Dr. B led the trial.", "Dr. A led the trial, and Dr. B analysed the data.") -> "b, led"
    """
    tokens = re.findall(r"[^\W_]+(?:-[^\W_]+)*", claim)
    lower = [t.lower() for t in tokens]
    span_tokens = re.findall(r"[^\W_]+(?:-[^\W_]+)*", span_text)
    span_stems = [(terms(t) or [""])[0] for t in span_tokens]
    span_names = _named(span_text)
    for group, first, last, titled in _named(claim):
        subject = first <= 2 and all(t in STOPWORDS or t in _TITLES for t in lower[:first])
        if not (titled or subject):
            continue
        verbs = []
        if last + 1 < len(tokens) and tokens[last + 1][:1].islower() and (titled or lower[last + 1].endswith("ed")):
            verbs.append(lower[last + 1])  # "Dr. B led ...", "Harlow fined ..."
        before = first - 1
        while before >= 0 and lower[before] in _TITLES | {"the"}:
            before -= 1
        if before >= 1 and lower[before] == "by":
            verbs.append(lower[before - 1])  # "... was led by Dr. B"
        for verb in verbs:
            stem = (terms(verb) or [""])[0]
            if not stem or stem in reporting_terms() or stem not in span_stems:
                continue
            parties = []
            for k, found in enumerate(span_stems):
                if found != stem:
                    continue
                if k + 1 < len(span_tokens) and span_tokens[k + 1].lower() == "by":
                    after = [g for g, f, _, _ in span_names if f > k + 1]
                    parties.append(after[0] if after else [])
                else:
                    prior = [g for g, _, e, t in span_names if e < k and (t or not titled)]
                    parties.append(prior[-1] if prior else [])
            if parties and not any(set(group) & set(party) for party in parties):
                return f"{' '.join(group)}, {verb}"
    return ""


def negating(text: str) -> bool:
    """True when the text holds any negating word, "false" and "untrue" included (frames() weighs their parity)."""
    return any(t in _NEGATORS or t.endswith("n't") for t in re.findall(r"[^\W_]+(?:'[^\W_]+)?", text.lower()))
