"""Named features of a candidate span for a question: one registry, each a number the learned selector weighs.

A feature measures something general about language (does the span hold a date when one is asked for, does it
say the opposite of the question); none names a word taken from a gold question. `rag eval --ablate` drops
them one at a time and shows what each adds.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from index.text.lexical import terms
from rag.compose import checks
from rag.compose.candidates import SPEAKER_PRONOUN, Span, bigrams, term_counts, term_set
from rag.compose.selector import DIFFERS, LACKS
from rag.question import Question
from rag.retrieve import Retriever, SentenceHit

# BM25 over one span, with sentence-sized documents in mind (average ~25 terms).
_BM25_K1, _BM25_B, _BM25_AVGDL = 1.2, 0.75, 25.0


@dataclass
class Asked:
    """One question with what every feature of its spans needs: weights of its terms, the retriever, the vector."""

    q: Question
    retriever: Retriever
    qvec: object
    weights: dict[str, float] = field(init=False)
    total: float = field(init=False)
    _context: dict[tuple[int, ...], frozenset[str]] = field(init=False, default_factory=dict)
    _rare: list[list[str]] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        idf, unknown = self.retriever.idf, self.retriever.max_idf
        self.weights = {t: idf.get(t, unknown) for t in self.q.terms}
        self.total = math.fsum(self.weights.values()) or 1.0

    def covered(self, found: frozenset[str]) -> float:
        """The idf-weighted share of the question's terms in `found` (fsum: the same whatever the set order)."""
        return math.fsum(self.weights[t] for t in self.q.terms & found) / self.total

    def near(self, span: Span) -> tuple[list[SentenceHit], SentenceHit | None]:
        """The two sentences before a span in its section and the one after it in its document."""
        return self.retriever.around(span.hits[0], span.hits[-1])

    def with_context(self, span: Span) -> frozenset[str]:
        """The span's terms with those of the two sentences before it (computed once per span)."""
        key = tuple(h.row for h in span.hits)
        if key not in self._context:
            before, _ = self.near(span)
            self._context[key] = span.terms.union(*(term_set(h.text) for h in before))
        return self._context[key]

    def rare_names(self) -> list[list[str]]:
        """The stems of each name in the question with a rare term (idf >= 0.6 of the largest)."""
        if self._rare is None:
            idf, unknown = self.retriever.idf, self.retriever.max_idf
            stemmed = (terms(name) for name in self.q.names)
            self._rare = [s for s in stemmed if any(idf.get(t, unknown) >= 0.6 * unknown for t in s)]
        return self._rare


Fn = Callable[[Asked, Span], float]


@dataclass(frozen=True)
class Feature:
    """A named measurement; `cheap` ones are computed for every span, the rest only for the best few."""

    name: str
    fn: Fn
    cheap: bool
    why: str


REGISTRY: dict[str, Feature] = {}


def feature(name: str, cheap: bool = False) -> Callable[[Fn], Fn]:
    def register(fn: Fn) -> Fn:
        REGISTRY[name] = Feature(name, fn, cheap, (fn.__doc__ or "").strip().splitlines()[0])
        return fn

    return register


def _signed(asked: bool, holds: bool) -> float:
    """+1 when the question asks for it and the span has it, -1 when asked and missing, 0 when not asked (callers
    write `asked and check(...)`, so nothing is checked that was not asked)."""
    return 0.0 if not asked else (1.0 if holds else -1.0)


# -- how close the span is to the question -------------------------------------------------------------------


@feature("similarity", cheap=True)
def similarity(a: Asked, s: Span) -> float:
    """Dense cosine of the question with the span's closest sentence (vectors stored at ingest)."""
    return max(h.similarity for h in s.hits)


@feature("coverage", cheap=True)
def coverage(a: Asked, s: Span) -> float:
    """The idf-weighted share of the question's terms the span holds."""
    return a.covered(s.terms)


@feature("all_terms", cheap=True)
def all_terms(a: Asked, s: Span) -> float:
    """The span holds every term of the question."""
    return float(bool(a.q.terms) and a.q.terms <= s.terms)


@feature("sentence_bm25", cheap=True)
def sentence_bm25(a: Asked, s: Span) -> float:
    """BM25 of the span as a document of its own, over the question's total idf (so 0-1 across questions)."""
    counts, length = term_counts(*(h.text for h in s.hits))  # s.text is its hits' texts joined by spaces
    norm = _BM25_K1 * (1 - _BM25_B + _BM25_B * length / _BM25_AVGDL)
    score = sum(a.weights[t] * n * (_BM25_K1 + 1) / (n + norm) for t, n in counts if t in a.weights)
    return score / (a.total * (_BM25_K1 + 1))


@feature("passage_rank", cheap=True)
def passage_rank(a: Asked, s: Span) -> float:
    """1 / the fused rank of the passage the span came from: retrieval's own confidence."""
    return 1.0 / max(1, s.hits[0].passage_rank)


@feature("section_match", cheap=True)
def section_match(a: Asked, s: Span) -> float:
    """The idf-weighted share of the question's terms in the span's section title and document name."""
    chunk = s.hits[0].chunk
    return a.covered(term_set(f"{chunk.section} {chunk.source}"))


@feature("context_coverage", cheap=True)
def context_coverage(a: Asked, s: Span) -> float:
    """What the two sentences before add to coverage (the speaker, the thing a "this" refers to)."""
    return a.covered(a.with_context(s)) - a.covered(s.terms)


@feature("first_in_section", cheap=True)
def first_in_section(a: Asked, s: Span) -> float:
    """The span opens its section: where a topic, a session or a person is introduced."""
    before, _ = a.near(s)
    return float(not before)


@feature("two_sentences", cheap=True)
def two_sentences(a: Asked, s: Span) -> float:
    """The span joins two sentences (more text holds an answer more often, and says more than was asked)."""
    return float(len(s.hits) > 1)


@feature("words", cheap=True)
def words(a: Asked, s: Span) -> float:
    """log(1 + words in the span)."""
    return math.log1p(len(s.text.split()))


@feature("fragment", cheap=True)
def fragment(a: Asked, s: Span) -> float:
    """The span starts mid-sentence (the source lost its subject: ", introduced the report ...")."""
    return float(not s.text[:1].isalnum() and s.text[:1] not in "\"'“‘(")


@feature("new_terms", cheap=True)
def new_terms(a: Asked, s: Span) -> float:
    """Share of the span's terms the question does not hold: an answer adds something to what was asked."""
    return len(s.terms - a.q.terms) / max(1, len(s.terms))


@feature("max_missing_idf", cheap=True)
def max_missing_idf(a: Asked, s: Span) -> float:
    """The rarest question term neither the span nor the two sentences before hold, over the largest idf: one
    unmatched rare word is what a question about something else looks like."""
    have = a.with_context(s)
    missing = [w for t, w in a.weights.items() if t not in have]
    return max(missing, default=0.0) / a.retriever.max_idf


@feature("missing_terms", cheap=True)
def missing_terms(a: Asked, s: Span) -> float:
    """log(1 + question terms the span and the two sentences before do not hold)."""
    return math.log1p(len(a.q.terms - a.with_context(s)))


@feature("bigram_share", cheap=True)
def bigram_share(a: Asked, s: Span) -> float:
    """Share of the question's adjacent term pairs that stand adjacent in the span too: the same relation, not
    only the same words."""
    asked = bigrams(a.q.text)
    return len(asked & bigrams(*(h.text for h in s.hits))) / len(asked) if asked else 0.0


@feature("passage_coverage", cheap=True)
def passage_coverage(a: Asked, s: Span) -> float:
    """The idf-weighted share of the question's terms anywhere in the span's passage: is the topic there at all."""
    return a.covered(term_set(s.hits[0].chunk.embed_text()))


# -- does the span hold the kind of thing asked for ---------------------------------------------------------


@feature("answer_type")
def answer_type(a: Asked, s: Span) -> float:
    """A person, number, date or place, beyond the question's own words, when the question asks for one."""
    kind = a.q.kind
    if kind not in ("person", "number", "date", "place"):
        return 0.0
    text = s.text
    if kind == "person" and SPEAKER_PRONOUN.match(text):  # "She ..." is quoted with the sentence naming her
        before, _ = a.near(s)
        text = " ".join([*(h.text for h in before[-1:]), text])
    return _signed(True, checks.type_satisfied(kind, text, a.q.text))


@feature("counted")
def counted(a: Asked, s: Span) -> float:
    """For "how many X": a number word just before X."""
    return _signed(a.q.counted is not None, checks.counts(a.q.counted, s.text))


@feature("expansion")
def expansion(a: Asked, s: Span) -> float:
    """For "what does X stand for": the span spells X out ("Long Name (X)")."""
    return _signed(a.q.acronym is not None, checks.expands(a.q.acronym, s.text))


@feature("institution")
def institution(a: Asked, s: Span) -> float:
    """For "which university ...": the span names one, other than one the question names."""
    return _signed(a.q.institution is not None, checks.names_institution(a.q.institution, s.text, a.q.text))


@feature("title_given")
def title_given(a: Asked, s: Span) -> float:
    """For "what is the title of the X": the span gives X's title ("the X titled ...")."""
    return _signed(a.q.wants_title, a.q.wants_title and checks.gives_title(a.q.text, s.text))


@feature("money")
def money(a: Asked, s: Span) -> float:
    """For "how much did it cost": an amount of money, not any number."""
    return _signed(a.q.wants_money, a.q.wants_money and checks.MONEY.search(s.text) is not None)


@feature("year")
def year(a: Asked, s: Span) -> float:
    """For "in what year": a year, not a decade."""
    return _signed(a.q.wants_year, a.q.wants_year and checks.gives_year(s.text))


@feature("lists")
def lists(a: Asked, s: Span) -> float:
    """The span lists, item by item, a counted thing the question names ("the three goals—A, B and C")."""
    listed = checks.enumerates(a.q.terms, s.text)
    if a.q.wants_list:
        return _signed(True, listed)
    return float(listed and a.q.kind != "number")


@feature("negation")
def negation(a: Asked, s: Span) -> float:
    """For a question about what is not so: the span negates."""
    return _signed(a.q.negated, a.q.negated and checks.negates(s.text))


# -- does the span say something other than what was asked --------------------------------------------------


@feature("other_office")
def other_office(a: Asked, s: Span) -> float:
    """The span holds the office asked about only with a qualifier the question lacks (a Deputy Director)."""
    return float(checks.retitled(a.q.text, s.text) is not None)


@feature("contradicts")
def contradicts(a: Asked, s: Span) -> float:
    """The span holds the opposite of a question word (a negating prefix or a common antonym)."""
    return float(checks.contradicts(a.q.text, s.text))


@feature("denies")
def denies(a: Asked, s: Span) -> float:
    """The span sets aside what the question takes as so ("rather than ...", "instead of ...")."""
    return float(checks.denies(a.q.text, s.text))


@feature("relative_swapped")
def relative_swapped(a: Asked, s: Span) -> float:
    """The span names a relative of the person asked about ("A's son"), or the reverse."""
    return float(checks.relative_swapped(a.q.text, s.text) is not None)


@feature("other_owner")
def other_owner(a: Asked, s: Span) -> float:
    """The span speaks of someone else's thing than the one asked about ("B's theorem" for "A's theorem")."""
    before, _ = a.near(s)
    return float(checks.other_owner(a.q.text, s.text, " ".join(h.text for h in before)) is not None)


@feature("reversed_roles")
def reversed_roles(a: Asked, s: Span) -> float:
    """In the span, the question's actor is acted on (a passive turned round)."""
    return float(checks.reverses_roles(a.q.actor, s.text))


@feature("rare_name_absent")
def rare_name_absent(a: Asked, s: Span) -> float:
    """Share of the question's rare names (idf >= 0.6 of the largest) absent from the span and the sentences near it."""
    rare = a.rare_names()
    if not rare:
        return 0.0
    before, after = a.near(s)
    chunk = s.hits[0].chunk
    have = term_set(" ".join([chunk.section, chunk.source, *(h.text for h in [*before, *s.hits])]))
    if after is not None:
        have = have | term_set(after.text)
    absent = sum(
        not any(t in have or any(h.startswith(t[: max(4, len(t) - 3)]) for h in have) for t in stems) for stems in rare
    )
    return absent / len(rare)


NAMES: tuple[str, ...] = tuple(REGISTRY)

# Features that can rule a span out as a gate: the question asks for something the span lacks (-1), or the span
# says something else than what was asked (1). Which of them do is chosen by cross-validation (eval.train).
_MISSING, _FIRED = (lambda v: v < -0.5), (lambda v: v > 0.5)
GATES: dict[str, Callable[[float], bool]] = {
    **{name: _MISSING for name in LACKS},
    **{name: _FIRED for name in DIFFERS},
    "rare_name_absent": lambda v: v > 0.99,
}


def matrix(asked: Asked, spans: list[Span], names: tuple[str, ...], cheap_only: bool = False) -> np.ndarray:
    """One row per span, one column per named feature (columns of costly features are 0 when `cheap_only`)."""
    out = np.zeros((len(spans), len(names)), dtype=np.float64)
    for j, name in enumerate(names):
        feat = REGISTRY[name]
        if cheap_only and not feat.cheap:
            continue
        for i, span in enumerate(spans):
            out[i, j] = feat.fn(asked, span)
    return out


def fill_costly(asked: Asked, spans: list[Span], names: tuple[str, ...], rows: np.ndarray, which: list[int]) -> None:
    """Compute the costly features of the spans at `which`, in place."""
    for j, name in enumerate(names):
        feat = REGISTRY[name]
        if feat.cheap:
            continue
        for i in which:
            rows[i, j] = feat.fn(asked, spans[i])
