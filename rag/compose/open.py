"""Answers to open questions: summaries, lists, "what was said about X", a person's words, several parts, a comparison.

Each is several exact sentences chosen by relevance (the learned selector's span score) and novelty (maximal
marginal relevance on the sentence vectors stored at ingest), kept in document order, each with its own [n]
citation, within 150 words. The documents are refused only when nothing relevant is found.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.answer import Citation
from rag.compose import candidates, features
from rag.compose.candidates import SPEAKER_PRONOUN, Span
from rag.compose.checks import instructs
from rag.compose.composed import Composed
from rag.compose.quote import shown
from rag.question import Question, analyse, mentions
from rag.retrieve import SentenceHit
from rag.shapes import QUANTITY_WORDS, asks_for_people

MAX_OPEN_WORDS = 150  # what the nugget metrics read (DESIGN.md); an answer stops before passing it
NOVELTY = 0.3  # MMR: the weight of "unlike what is already said" against relevance
NEAR_REPEAT = 0.9  # a sentence this close to one already chosen adds nothing
RELEVANT_MARGIN = 4.0  # a sentence within this many logits of the best is still about the question
# The sentence after the best one in its paragraph is rated this many logits below it, at least: it goes on with what
# the best sentence began (squad-train-open / squad-dev-open / report nugget recall 0.561 / 0.674 / 0.738 -> 0.568 /
# 0.687 / 0.754 at 2; at 1, or the next two sentences, report accuracy fell 0.888 -> 0.876 on list-shaped factoids)
NEXT_BEHIND = 2.0
BRIEF_MARGIN = 2.0  # ... for a brief answer (squad-dev-open: 1 -> 0.533, 2 or 3 -> 0.558 nugget recall; 2 is shorter)
# A summary asked of a part of a text ("the section on X"): only a section can be it, never a whole document.
_PART = re.compile(
    r"^(?:the\s+)?(?:section|part|chapter|paragraph|passage|portion)s?\s+(?:on|about|of|regarding)\s+", re.I
)
# Things announced, not named: a quantity of a plural noun ("several species", "three causes"), or a colon.
_ANNOUNCES = re.compile(
    rf"\b(?:{QUANTITY_WORDS}|numerous|a\s+number\s+of|a\s+range\s+of|a\s+variety\s+of|the\s+following)"
    r"\s+(?:[\w-]+\s+){0,2}?[a-z-]+s\b(?![^.]*,)|:\s*$",
    re.I,
)
_QUOTED = re.compile(r"\s*(.*?\[(\d+)\])(:?)(?=\s|$)")  # one quote of an answer and its [n] marker
_NAMED = re.compile(r"\b(?:Dr|Ms|Mr|Mrs|Prof)\.\s+[A-Z][\w\-]*(?:\s+[A-Z][\w\-]*){0,2}")


@dataclass(frozen=True)
class Pick:
    """A sentence chosen for an open answer, with its relevance (the selector's logit)."""

    hit: SentenceHit
    logit: float


def rank_sentences(composer, q: Question, hits: list[SentenceHit], qvec, missing: int = 0) -> tuple[list[Pick], float]:
    """Every retrieved sentence alone, rated by the selector's span model (the relevance MMR starts from), and the
    selector's probability that the documents answer the question at all."""
    from rag.compose.selector import question_row, sigmoid

    spans = [Span((h,), h.text, candidates.term_set(h.text)) for h in hits if h.text.strip() and not instructs(h.text)]
    if not spans:
        return [], 0.0
    model = composer.selector
    asked = features.Asked(q, composer.retriever, qvec)
    rows = features.matrix(asked, spans, model.features, cheap_only=True)
    logits = model.candidate.logits(rows)  # relevance for MMR: the cheap features, the same for every sentence
    short = np.argsort(-logits, kind="stable")[: model.shortlist].tolist()
    features.fill_costly(asked, spans, model.features, rows, short)  # the costly checks read only the best few
    full = model.candidate.logits(rows[short])
    qrow = question_row(full, rows[short], model.features, q.kind, missing, len(q.terms), single_span=False)
    p = sigmoid(float(model.answerable.logits(qrow[None, :])[0]))
    return [Pick(s.hits[0], float(v)) for s, v in zip(spans, logits, strict=True)], p


def mmr(
    retriever, picks: list[Pick], budget: int = MAX_OPEN_WORDS, limit: int = 8, margin: float = RELEVANT_MARGIN
) -> list[Pick]:
    """Relevant, mutually different sentences, best first, until the word budget is spent.

    Relevance is the logit rescaled to 0-1 among the picks; novelty is 1 - the closest cosine to one chosen.
    """
    if not picks:
        return []
    best = max(p.logit for p in picks)
    pool = [p for p in picks if p.logit >= best - margin]
    lo = min(p.logit for p in pool)
    rel = {id(p): (p.logit - lo) / ((best - lo) or 1.0) for p in pool}
    vectors = retriever.index.sentence_vectors
    chosen: list[Pick] = []
    chosen_vecs: list[np.ndarray] = []
    words = 0
    while pool and len(chosen) < limit:

        def gain(p: Pick) -> float:
            if not chosen_vecs:
                return rel[id(p)]
            closest = max(float(vectors[p.hit.row] @ v) for v in chosen_vecs)
            return (1 - NOVELTY) * rel[id(p)] - NOVELTY * closest if closest < NEAR_REPEAT else float("-inf")

        top = max(pool, key=gain)
        pool.remove(top)
        if gain(top) == float("-inf"):
            continue
        n = len(top.hit.text.split())
        if words + n > budget:
            continue
        chosen.append(top)
        chosen_vecs.append(np.asarray(vectors[top.hit.row]))
        words += n
    return chosen


def with_speakers(retriever, hits: list[SentenceHit]) -> list[SentenceHit]:
    """The chosen sentences in document order, a "She ..." sentence preceded by the one naming her when it is in the
    same paragraph and not chosen already."""
    out = {(h.row, h.start): h for h in hits}
    rows = {h.row for h in hits}
    for h in hits:
        row, current = h.row, h
        while SPEAKER_PRONOUN.match(current.text) and row - 1 not in rows:
            prev = retriever.sentence(row - 1)
            if prev is None or not candidates.same_paragraph(prev, retriever.sentence(row)):
                break
            out[(prev.row, prev.start)] = prev
            rows.add(prev.row)
            row, current = row - 1, prev
    return sorted(out.values(), key=lambda h: (h.chunk.source, h.start))


def quote_sentences(hits: list[SentenceHit], first_n: int = 1) -> tuple[str, tuple[Citation, ...]]:
    """Sentences as one answer, each followed by its [n]; a sentence the source lost its subject of is marked."""
    texts, citations = [], []
    for n, hit in enumerate(hits, start=first_n):
        text = hit.text
        citations.append(Citation(n, hit.chunk.source, hit.chunk.section, hit.start, hit.end, text))
        texts.append(f"{shown(text)} [{n}]")
    return " ".join(texts), tuple(citations)


def trim(hits: list[SentenceHit], budget: int = MAX_OPEN_WORDS) -> list[SentenceHit]:
    """Sentences in order while they fit the word budget."""
    out, words = [], 0
    for h in hits:
        n = len(h.text.split())
        if words + n > budget:
            break
        out.append(h)
        words += n
    return out


def person_sentences(retriever, person: str, hits: list[SentenceHit]) -> list[SentenceHit]:
    """Where the person is named among the retrieved sentences, and the rest of that paragraph and the She/He sentences
    after it, until another person is named: what that person said."""
    titles = {"dr", "ms", "mr", "mrs", "prof", "the", "a", "an", "of", "and"}
    words = [w for w in re.findall(r"[A-Za-z][\w\-]+", person) if w.lower() not in titles]
    named = [w for w in words if w[:1].isupper()]
    words = named or [w for w in words if len(w) > 3]
    if not words:
        return []
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b", re.I)
    whole = [re.compile(rf"\b{re.escape(w)}\b", re.I) for w in words]
    full = any(all(w.search(h.text) for w in whole) for h in hits)  # "Ms. Ella Strand", not "Mr. Piet Strand"
    mine = {w.lower() for w in words}

    def same_person(name: str) -> bool:  # "Dr. Vik" is Dr. Lena Vik again; "Mr. Piet Strand" is not Ms. Ella Strand
        said = [w.lower() for w in re.findall(r"[A-Za-z][\w\-]+", name) if w.lower() not in titles]
        return bool(said) and all(w in mine for w in said)

    found: dict[int, SentenceHit] = {}
    for hit in sorted(hits, key=lambda h: h.row):
        if hit.row in found or not (all(w.search(hit.text) for w in whole) if full else pattern.search(hit.text)):
            continue
        found[hit.row] = hit
        row = hit.row + 1
        while True:
            nxt = retriever.sentence(row)
            if nxt is None or nxt.chunk.source != hit.chunk.source or nxt.chunk.section != hit.chunk.section:
                break
            named = _NAMED.search(nxt.text)
            if named and not same_person(named.group()):
                break  # another person speaks now
            continues = candidates.same_paragraph(retriever.sentence(row - 1), nxt)
            if not (continues or SPEAKER_PRONOUN.match(nxt.text) or pattern.search(nxt.text)):
                break  # a new paragraph about someone else: their turn is over
            found[row] = nxt
            row += 1
    return sorted(found.values(), key=lambda h: (h.chunk.source, h.start))


def _with_continuation(retriever, hits: list[SentenceHit], grow_to: int = candidates.MAX_WORDS) -> list[SentenceHit]:
    """A sentence that lost its subject (", introduced the report ...") comes with the next one of its paragraph,
    which says what was introduced; then a short answer grows by the rest of each sentence's paragraph up to
    `grow_to` words (a sentence announcing "several schemes" is followed by them). Growing to 150 words lifted
    squad-val-open nugget recall 0.517 -> 0.556 but pushed list-shaped factoid answers past 75 words (squad-dev
    accuracy 0.763 -> 0.724), so it stops at 75, but for an account of a named topic ("Tell me about X"), which
    asks for all of it (squad-train-open 0.578 -> 0.594; every why/how answer too cost squad-dev 0.750 -> 0.737).
    An answer that is one sentence standing as a paragraph of its own (a lead-in: "Several towns shared their own
    schemes.") goes on into the paragraphs after it, up to 150 words."""
    out = {(h.row, h.start): h for h in hits}
    rows = {h.row for h in hits}
    for h in hits:
        if h.text[:1] in ",;" and h.row + 1 not in rows:
            nxt = retriever.sentence(h.row + 1)
            if candidates.same_paragraph(h, nxt):
                out[(nxt.row, nxt.start)] = nxt
    rows = {h.row for h in out.values()}
    words = sum(len(h.text.split()) for h in out.values())
    lead = len(out) == 1 and _alone(retriever, hits[0])  # a one-sentence paragraph introducing what follows it
    for h in sorted(out.values(), key=lambda h: h.row):
        row = h.row
        while (nxt := retriever.sentence(row + 1)) is not None and nxt.row not in rows:
            joined = candidates.same_paragraph(retriever.sentence(row), nxt) or (
                lead and nxt.chunk.source == h.chunk.source and nxt.chunk.section == h.chunk.section
            )
            if not joined or words + len(nxt.text.split()) > (MAX_OPEN_WORDS if lead else grow_to):
                break
            out[(nxt.row, nxt.start)] = nxt
            rows.add(nxt.row)
            words += len(nxt.text.split())
            row += 1
    return sorted(out.values(), key=lambda h: (h.chunk.source, h.start))


def _with_items(retriever, hits: list[SentenceHit]) -> list[SentenceHit]:
    """A sentence announcing things it does not name ("The forest holds several species that bite.", "... are as
    follows:") comes with the rest of its paragraph, which names them, often one or two a sentence (squad-dev-open
    nugget recall 0.644 with the next sentence only, 0.664 with the paragraph)."""
    out = {(h.row, h.start): h for h in hits}
    rows = {h.row for h in hits}
    for h in hits:
        if h.row + 1 in rows or not _ANNOUNCES.search(h.text) or h.text.count(",") >= 2:
            continue
        prev = h
        while (nxt := retriever.sentence(prev.row + 1)) is not None and nxt.row not in rows:
            if not candidates.same_paragraph(prev, nxt) or instructs(nxt.text):
                break
            out[(nxt.row, nxt.start)] = nxt
            rows.add(nxt.row)
            prev = nxt
    return sorted(out.values(), key=lambda h: (h.chunk.source, h.start))


def _one_per_person(picks: list[Pick], limit: int = 8) -> list[SentenceHit]:
    """For a list of people: the relevant sentences that name someone (a title and a name), the best one per person,
    so each person is listed once and sentences that name nobody do not crowd them out."""
    named = [(p, m.group()) for p in picks if (m := _NAMED.search(p.hit.text))]
    if not named:
        return []
    best = max(p.logit for p, _ in named)
    chosen: dict[str, SentenceHit] = {}
    for p, name in sorted(named, key=lambda pn: -pn[0].logit):
        key = name.split(".", 1)[1].split()[0].lower()  # the first word of the name: "Dr. Lena Vik" -> lena
        if p.logit >= best - RELEVANT_MARGIN and key not in chosen and len(chosen) < limit:
            chosen[key] = p.hit
    return list(chosen.values())


_OCCASION_AT = re.compile(r"\b(?:in|at|during)\s+(?=\S)", re.I)


def _scope(retriever, table, question: str) -> list[Pick]:
    """Every sentence of the section a question's "in X" / "at X" / "during X" names (a part of a document whose
    title shares most of X's words), as equally relevant picks; empty when X names no such part."""
    from index.storage import summaries

    parts = _parts(table)
    for m in _OCCASION_AT.finditer(question):
        key = summaries.find(question[m.end() :].rstrip(" ?.!"), parts)
        if key is not None:
            return [Pick(h, 0.0) for h in _section_rows(retriever, table, *key)]
    return []


def _alone(retriever, hit: SentenceHit) -> bool:
    """A sentence that is a paragraph by itself."""
    before, after = retriever.sentence(hit.row - 1), retriever.sentence(hit.row + 1)
    return not candidates.same_paragraph(before, hit) and not candidates.same_paragraph(hit, after)


TOPIC_KNOWN = 0.5  # an open question's topic is found when a retrieved passage uses at least half of its words
OPEN_THRESHOLD_SHARE = 0.5  # an open question is refused only below this share of the factoid threshold


def answer(
    composer, shape, question: str, hits: list[SentenceHit], qvec, sources: frozenset[str] | None = None
) -> Composed:
    """The answer to a question of any shape but factoid (rag.shapes); refused only when nothing relevant is found.

    `sources` is the search scope: every further search, and every section or summary, stays within it.
    """
    retriever = composer.retriever
    table = _summaries(retriever, sources)
    q = analyse(question)
    missing = q.missing_in(retriever)
    if missing:
        return Composed("", (), True, f"the documents never mention {', '.join(missing)}")
    if shape.topic and not _found(shape.topic, hits):  # "what was said about X", X not found
        return Composed("", (), True, f"no passage found is about “{shape.topic}”")
    if shape.kind == "multipart" and shape.parts:
        return _multipart(composer, shape.parts, sources)
    if shape.kind == "comparison" and len(shape.sides) == 2:
        return _comparison(composer, hits, shape.sides, table, sources)
    if shape.kind == "summary":
        chosen = _summary(retriever, table, shape.target, hits)
        if chosen:
            text, citations = quote_sentences(trim(_with_continuation(retriever, with_speakers(retriever, chosen))))
            return Composed(text, citations, False, "", 1.0)
        if shape.target and not _found(_PART.sub("", shape.target), hits):  # no part so named, nor its subject
            return Composed("", (), True, f"no passage found is about “{shape.target}”")
        if shape.target:  # a topic, not a part the documents have: the paragraphs about it
            chosen = _topic_paragraphs(retriever, _PART.sub("", shape.target), sources)
            if chosen:
                text, citations = quote_sentences(chosen)
                return Composed(text, citations, False, "", 1.0)
    if shape.kind in ("open", "list") and not shape.topic:  # (a topic was checked above, by the same share)
        speaking = _documents_speaking(retriever, q.terms, {h.chunk.source for h in hits})
        if not speaking:
            return Composed("", (), True, "no document speaks of most of what the question asks about", 0.0)
        hits = [h for h in hits if h.chunk.source in speaking]
    picks, p = rank_sentences(composer, q, hits, qvec)
    threshold = composer.settings.threshold if composer.settings.threshold >= 0 else composer.selector.threshold
    if not picks or p < OPEN_THRESHOLD_SHARE * threshold:
        return Composed("", (), True, "nothing in the documents is about this", p)
    if shape.kind == "person" and shape.person:
        said = person_sentences(retriever, shape.person, hits)
        if not said:  # an open account of someone no retrieved sentence names would be about someone else
            return Composed("", (), True, f"no passage names {shape.person}", p)
        text, citations = quote_sentences(trim(said))
        return Composed(text, citations, False, "", p)
    if shape.kind == "list" and (q.kind == "person" or asks_for_people(question)):
        scope = _scope(retriever, table, question)  # "the speakers in Session B": that section's people, every one
        people = _one_per_person(scope or picks, limit=len(scope) if scope else 8)
        if people:
            text, citations = quote_sentences(trim(sorted(people, key=lambda h: (h.chunk.source, h.start))))
            return Composed(text, citations, False, "", p)
    budget = candidates.MAX_WORDS if shape.brief else MAX_OPEN_WORDS
    margin = BRIEF_MARGIN if shape.brief else RELEVANT_MARGIN
    chosen = [pick.hit for pick in mmr(retriever, _with_next(retriever, picks), budget, margin=margin)]
    grow = MAX_OPEN_WORDS if shape.kind == "open" and shape.topic else candidates.MAX_WORDS
    chosen = trim(_with_continuation(retriever, _with_items(retriever, with_speakers(retriever, chosen)), grow), budget)
    text, citations = quote_sentences(chosen)
    return Composed(text, citations, False, "", p)


def _with_next(retriever, picks: list[Pick]) -> list[Pick]:
    """The picks with the sentence after the best one in its paragraph rated at least NEXT_BEHIND logits below the
    best (added when retrieval did not find it): it goes on with what the best sentence began."""
    if not picks:
        return picks
    best = max(picks, key=lambda p: p.logit)
    nxt = retriever.sentence(best.hit.row + 1)
    if not candidates.same_paragraph(best.hit, nxt) or instructs(nxt.text):
        return picks
    rated = best.logit - NEXT_BEHIND
    out = [Pick(p.hit, max(p.logit, rated)) if p.hit.row == nxt.row else p for p in picks]
    if all(p.hit.row != nxt.row for p in picks):
        out.append(Pick(retriever.sentence(nxt.row, None, best.hit.passage_rank), rated))
    return out


def _documents_speaking(retriever, qterms, sources: set[str], share: float = TOPIC_KNOWN) -> set[str]:
    """The documents that use at least `share` of the question's terms, weighted by idf: an account is not taken
    from a document that speaks of a small part of what was asked ("How was the festival funded?" from a museum's
    funding). squad-train-open 0.568 -> 0.571, report+distractors open abstention recall 0.4 -> 0.5; at 0.6,
    answerable questions were refused."""
    idf = retriever.idf
    known = [t for t in qterms if t in idf]
    total = math.fsum(idf[t] for t in known)
    if not total:
        return set(sources)
    out = set()
    for source in sources:
        rows = retriever.document_rows.get(source, ())
        held = set().union(*retriever.terms_held(known, rows).values()) if len(rows) else set()
        if math.fsum(idf[t] for t in held) >= share * total:
            out.add(source)
    return out


class _Passage:
    """The words of one retrieved passage's sentences, as a vocabulary (`idf` holds them; only membership is read)."""

    def __init__(self, hits: list[SentenceHit]):
        self.idf = set().union(*(candidates.term_set(h.text) for h in hits))

    def has_prefix(self, prefix: str) -> bool:
        return any(t.startswith(prefix) for t in self.idf)


def _found(topic: str, hits: list[SentenceHit]) -> bool:
    """Some retrieved passage uses at least half the topic's words: words scattered over unrelated passages, or
    anything else indexed, do not make a topic found."""
    by_passage: dict[int, list[SentenceHit]] = {}
    for h in hits:
        by_passage.setdefault(h.passage_rank, []).append(h)
    return any(mentions(_Passage(group), topic, TOPIC_KNOWN) for group in by_passage.values())


def _summary(retriever, table, target: str | None, hits: list[SentenceHit]) -> list[SentenceHit]:
    """A summary of the document or section the target names (the best-retrieved document when it names none);
    empty when the target names neither (then it is answered as an open question).

    A section: the lead sentence of each of its paragraphs (news and reports open a paragraph with who did what),
    then the ingest-time summary's sentences while words remain. A document: each section's heading with its
    first lead sentence, so the answer says what the parts are.
    """
    from index.storage import summaries

    if not table:
        return []
    if target is None:
        sources = sorted({source for source, _ in table})
        key = (hits[0].chunk.source if hits else sources[0], None)
    else:
        keys = _parts(table) if _PART.match(target) else list(table)
        key = summaries.find(target, keys)
        if key is not None and _narrower(target, key):
            return []  # "the history of X" is a topic within X, not all of X
        key = key or _section_opened_by(retriever, table, target, hits)
        if key is None:
            return []
    source, section = key
    sections = [s for src, s in table if src == source and s is not None] if section is None else [section]
    out: list[SentenceHit] = []
    for name in sections:
        rows = _section_rows(retriever, table, source, name)
        leads = [h for h in rows if not candidates.same_paragraph(retriever.sentence(h.row - 1), h)]
        if section is None and len(sections) > 1:  # the document: each section's heading and what opens it
            heading = candidates.heading_of(rows[0]) if rows else None
            out += ([heading] if heading is not None else []) + leads[:1]
        elif section is None and leads:  # a document of one part: its opening paragraph, then the others' leads
            first = 2 if len(leads) > 2 and _is_title(leads[0]) else 1  # a title line, then what opens the text
            opening = trim([*leads[: first - 1], *_paragraph_of(retriever, leads[first - 1])], MAX_OPEN_WORDS // 2)
            opening = opening or leads[:1]
            out += opening + _spread(retriever, leads[first:], rows, MAX_OPEN_WORDS - _words(opening))
        else:
            out += _spread(retriever, leads, rows)
    # Then the ingest-time summary's central sentences, while they fit in what is left of the word budget.
    words = sum(len(h.text.split()) for h in out)
    seen = {(h.row, h.start) for h in out}
    for h in (retriever.sentence(j) for j in table.get(key) or ()):
        if h is not None and (h.row, h.start) not in seen and words + len(h.text.split()) <= MAX_OPEN_WORDS:
            out.append(h)
            words += len(h.text.split())
    return out


def _paragraph_of(retriever, hit: SentenceHit) -> list[SentenceHit]:
    """Every sentence of the paragraph holding `hit`, in order."""
    row = hit.row
    while candidates.same_paragraph(retriever.sentence(row - 1), retriever.sentence(row)):
        row -= 1
    out = [retriever.sentence(row)]
    while candidates.same_paragraph(out[-1], nxt := retriever.sentence(out[-1].row + 1)):
        out.append(nxt)
    return out


def _topic_paragraphs(retriever, topic: str, sources: frozenset[str] | None = None) -> list[SentenceHit]:
    """A summary of a topic no section is named for: the paragraphs holding the sentences most like it, each quoted
    from its start while the word budget lasts, in document order (what a section on it would hold).

    A document's opening paragraph is taken only when nothing else is found: it introduces the whole document,
    so it is close to every topic in it (squad-dev-open summaries: 0.33 -> 0.57 nugget recall without it).
    """
    passages, qvec = retriever.search(topic, 5, sources=sources)
    vectors = retriever.index.sentence_vectors
    paragraphs: dict[int, tuple[float, list[SentenceHit]]] = {}
    for hit in retriever.sentences(passages, qvec):
        paragraph = _paragraph_of(retriever, hit)
        if paragraph[0].row not in paragraphs:
            score = float(np.max(np.asarray(vectors[[h.row for h in paragraph]], dtype=np.float32) @ qvec))
            paragraphs[paragraph[0].row] = (score, paragraph)
    ranked = sorted(paragraphs.values(), key=lambda sp: -sp[0])
    inner = [sp for sp in ranked if not _opens_document(retriever, sp[1][0])]
    out: list[SentenceHit] = []
    words = 0
    for _, paragraph in inner or ranked:
        for h in paragraph:
            n = len(h.text.split())
            if words + n > MAX_OPEN_WORDS or instructs(h.text):
                break
            out.append(h)
            words += n
        if words >= MAX_OPEN_WORDS - 10:  # too few words left for another paragraph's lead
            break
    return sorted(out, key=lambda h: (h.chunk.source, h.start))


def _opens_document(retriever, hit: SentenceHit) -> bool:
    before = retriever.sentence(hit.row - 1)
    return before is None or before.chunk.source != hit.chunk.source


def _is_title(hit: SentenceHit) -> bool:
    """A line standing alone without a full stop: a title, not a sentence."""
    return len(hit.text.split()) <= 15 and not hit.text.rstrip().endswith((".", "?", "!", ":"))


def _words(hits: list[SentenceHit]) -> int:
    return sum(len(h.text.split()) for h in hits)


def _spread(
    retriever, leads: list[SentenceHit], rows: list[SentenceHit], budget: int = MAX_OPEN_WORDS
) -> list[SentenceHit]:
    """The paragraph leads that fit the word budget; when they do not all fit, the most central and mutually
    different ones (MMR against the mean of the section's sentence vectors), in order: a long section's summary
    is then not only its first paragraphs."""
    if _words(leads) <= budget or not rows:
        return leads
    vectors = retriever.index.sentence_vectors
    centre = np.asarray(vectors[[h.row for h in rows]], dtype=np.float32).mean(axis=0)
    closeness = np.asarray(vectors[[h.row for h in leads]], dtype=np.float32) @ centre
    picks = [Pick(h, float(v)) for h, v in zip(leads, closeness, strict=True)]
    chosen = mmr(retriever, picks, budget, margin=float("inf"), limit=len(picks))
    return sorted((p.hit for p in chosen), key=lambda h: (h.chunk.source, h.start))


def _summaries(retriever, sources: frozenset[str] | None) -> dict:
    """The index's stored summaries, (source, section) -> sentence rows, of the documents in scope."""
    table = getattr(retriever.index, "summaries", None) or {}
    return table if sources is None else {key: rows for key, rows in table.items() if key[0] in sources}


_DOCUMENT_WORDS = "article report document text paper page story study entry file overview summary"


def _narrower(target: str, key: tuple[str, str | None]) -> bool:
    """The target asks about more than the title it matched: a word of its own beyond the title's words and the
    words that name a text ("the history of the canal" matched the document "canal")."""
    from index.storage.summaries import containers
    from index.text.lexical import terms

    source, section = key
    title = section if section is not None else Path(source).stem
    named = set(terms(title.replace("-", " ").replace("_", " ")))
    generic = containers() | set(terms(_DOCUMENT_WORDS))
    return bool(set(terms(_PART.sub("", target))) - named - generic)


def _parts(table) -> list[tuple[str, str]]:
    """The sections that are parts of their document: a document with one section (titled or not) has none."""
    count: dict[str, int] = {}
    for source, section in table:
        count[source] = count.get(source, 0) + (section is not None)
    return [(source, section) for source, section in table if section is not None and count[source] > 1]


def _section_opened_by(retriever, table, target: str, hits: list[SentenceHit]) -> tuple[str, str] | None:
    """The retrieved section whose first sentence names the target word for word, when no title does: a report's
    "Panel C" is often named only in the sentence that opens its section ("Panel C was chaired by ...")."""
    if not target.strip():
        return None
    pattern = re.compile(r"(?<!\w)" + re.escape(target.strip()) + r"(?!\w)", re.I)
    found = []
    for key in dict.fromkeys((h.chunk.source, h.chunk.section) for h in hits):
        rows = _section_rows(retriever, table, *key) if key[1] is not None else []
        if rows and pattern.search(rows[0].text):
            found.append(key)
    return found[0] if len(found) == 1 else None


def _section_rows(retriever, table, source: str, section: str) -> list[SentenceHit]:
    """Every sentence of one section, in order (from the first of its stored summary back to where it starts)."""
    rows = sorted(table.get((source, section)) or ())
    if not rows:
        return []
    row = rows[0]
    while (prev := retriever.sentence(row - 1)) is not None and (prev.chunk.source, prev.chunk.section) == (
        source,
        section,
    ):
        row -= 1
    out = []
    while (hit := retriever.sentence(row)) is not None and (hit.chunk.source, hit.chunk.section) == (source, section):
        out.append(hit)
        row += 1
    return out


def _renumber(text: str, citations: tuple[Citation, ...], first: int) -> tuple[str, tuple[Citation, ...]]:
    """The same answer with its markers numbered from `first` (parts of one answer share one numbering)."""
    shift = first - 1
    text = re.sub(r"\[(\d+)\]", lambda m: f"[{int(m.group(1)) + shift}]", text)
    return text, tuple(Citation(c.n + shift, c.source, c.section, c.start, c.end, c.text) for c in citations)


def _without(text: str, citations: tuple[Citation, ...], quoted: set) -> tuple[str, tuple[Citation, ...]]:
    """An answer without the quotes whose spans are already quoted, numbered from 1 again (parts of one answer
    often find the same sentence); a speaker's name quoted before a dropped quote ("Ms. X [1]:") goes with it."""
    by_n = {c.n: c for c in citations}
    pieces = [(m.group(1), m.group(3), by_n.get(int(m.group(2)))) for m in _QUOTED.finditer(text)]
    if not pieces or "".join(p + colon for p, colon, _ in pieces).replace(" ", "") != text.replace(" ", ""):
        return text, citations  # not a plain run of quotes: leave it whole
    gone = [c is None or (c.source, c.start, c.end) in quoted for _, _, c in pieces]
    texts, kept = [], []
    for i, (piece, colon, c) in enumerate(pieces):
        if gone[i] or (colon and i + 1 < len(pieces) and gone[i + 1]):
            continue
        n = len(kept) + 1
        texts.append(re.sub(r"\[\d+\]$", f"[{n}]", piece) + colon)
        kept.append(Citation(n, c.source, c.section, c.start, c.end, c.text))
    return " ".join(texts), tuple(kept)


def _multipart(composer, parts: tuple[str, ...], sources: frozenset[str] | None = None) -> Composed:
    """Each part answered on its own retrieval; a part the documents do not answer is named as such. Words left of
    the budget go to the rest of each quoted paragraph, a sentence at a time part by part: a part's answer is
    often one sentence whose paragraph goes on with what the next part asks."""
    retriever = composer.retriever
    answers: list[tuple[str, list[Citation]] | str] = []
    ends: dict[int, SentenceHit] = {}  # each answered part's last quoted sentence, by its place in `answers`
    quoted: set[tuple[str, int, int]] = set()
    found_for: dict[int, tuple[list[SentenceHit], np.ndarray]] = {}  # each answered part's retrieved sentences
    for part in parts:
        passages, qvec = retriever.search(part, 5, sources=sources)
        hits = retriever.sentences(passages, qvec)
        got = composer.compose(part, hits, qvec, depth=1)
        if got.abstained:
            answers.append(f"The documents do not say: “{part}”.")
            continue
        text, cites = _without(got.text, got.citations, quoted)
        quoted.update((c.source, c.start, c.end) for c in cites)
        answers.append((text, list(cites)))  # empty when an earlier part quoted all its sentences
        if cites:  # a quoted span is a retrieved sentence, or one and the next of its paragraph
            found_for[len(answers) - 1] = (hits, qvec)
            near = [*hits, *(n for h in hits if (n := retriever.sentence(h.row + 1)) is not None)]
            last = (cites[-1].source, cites[-1].start, cites[-1].end)
            found = next((h for h in near if _key(h) == last), None)
            if found is not None:
                ends[len(answers) - 1] = found
    if all(isinstance(a, str) for a in answers):
        return Composed("", (), True, "the documents answer none of its parts")
    words = sum(len(re.sub(r"\[\d+\]", " ", a if isinstance(a, str) else a[0]).split()) for a in answers)
    more = _fill_parts(composer, parts, found_for, _go_on(retriever, ends, words, quoted), words, quoted)
    said = [candidates.term_set(c.text) for a in answers if not isinstance(a, str) for c in a[1]]
    said += [candidates.term_set(h.text) for hits in more.values() for h in hits]
    texts, citations = [], []
    for i, a in enumerate(answers):
        if isinstance(a, str):
            asked = analyse(parts[i]).terms
            if not asked or not any(asked <= terms for terms in said):  # unless a quoted sentence holds it all
                texts.append(a)
            continue
        text, cites = _renumber(a[0], tuple(a[1]), len(citations) + 1)
        if cites:
            citations.extend(cites)
            extra, extra_cites = quote_sentences(more.get(i, []), len(citations) + 1)
            texts.append(f"{text} {extra}".strip())
            citations.extend(extra_cites)
    return Composed(" ".join(texts), tuple(citations), False, "", 1.0)


def _fill_parts(
    composer,
    parts: tuple[str, ...],
    found_for: dict[int, tuple[list[SentenceHit], np.ndarray]],
    more: dict[int, list[SentenceHit]],
    words: int,
    quoted: set[tuple[str, int, int]],
) -> dict[int, list[SentenceHit]]:
    """Words still left once each part's paragraph has gone on (`more`): each answered part's next most relevant
    retrieved sentences, within RELEVANT_MARGIN of its best, a part at a time, for parts asking what, how or why. A
    part's one span often holds only some of what it asks ("... and how did it work?"); squad-dev-open 0.698 -> 0.703,
    squad-train-open 0.594 -> 0.617, the same with or without the parts asking who, when, where or how many, which
    only picked up sentences naming another person or date ("Who chaired Part 4?" brought "Part 2 was chaired by").
    """
    taken = set(quoted) | {_key(h) for hits in more.values() for h in hits}
    words += sum(len(h.text.split()) for hits in more.values() for h in hits)
    queues: dict[int, list[SentenceHit]] = {}
    for i, (hits, qvec) in found_for.items():
        q = analyse(parts[i])
        if q.kind != "other":  # a person, date, place or number: its span gave it, and more would be other ones
            continue
        picks, _ = rank_sentences(composer, q, hits, qvec)
        if picks:
            best = max(p.logit for p in picks)
            ranked = sorted((p for p in picks if p.logit >= best - RELEVANT_MARGIN), key=lambda p: -p.logit)
            queues[i] = [p.hit for p in ranked]
    out = {i: list(hits) for i, hits in more.items()}
    while queues:
        for i in list(queues):
            queue = queues[i]
            while queue and _key(queue[0]) in taken:
                queue.pop(0)
            if not queue or words + len(queue[0].text.split()) > MAX_OPEN_WORDS:
                del queues[i]
                continue
            hit = queue.pop(0)
            out.setdefault(i, []).append(hit)
            taken.add(_key(hit))
            words += len(hit.text.split())
    return out


def _naming_both(hits: list[SentenceHit], side_terms: list[set[str]], limit: int = 2) -> list[SentenceHit]:
    """The question's retrieved sentences that name both sides by their own words, most like the question first,
    at most `limit` and 50 words: a comparison is often made in one sentence."""
    own = [a - b for a, b in ((side_terms[0], side_terms[1]), (side_terms[1], side_terms[0]))]
    if not all(own):
        return []
    found = [h for h in hits if not instructs(h.text) and all(o & candidates.term_set(h.text) for o in own)]
    found.sort(key=lambda h: (-h.similarity, h.row))
    return trim(sorted(found[:limit], key=lambda h: (h.chunk.source, h.start)), 50)


def _comparison(
    composer, hits: list[SentenceHit], sides: tuple[str, ...], table, sources: frozenset[str] | None = None
) -> Composed:
    """Each side under its name: the sentence that names it best (most of its own words the other side lacks) with
    the rest of that paragraph; a one-sentence paragraph opening its section (a session's chair) brings the lead
    sentences of that section. Words left of the budget go on with each group's paragraph, in turn.
    The two sides never share a quote."""
    retriever = composer.retriever
    groups: list[tuple[str, list[SentenceHit], set[str]]] = []  # label, sentences, words that end its paragraph
    used: set[int] = set()
    side_terms = [candidates.term_set(side) for side in sides]
    idf = retriever.idf
    both = _naming_both(hits, side_terms)
    if both:  # "A is faster than B": what the documents say of the two together comes first
        groups.append((f"{sides[0]} and {sides[1]}", both, set()))
        used.update(h.row for h in both)
    per_side = (MAX_OPEN_WORDS - _words(both)) // len(sides)
    for i, side in enumerate(sides):
        # A side is named by its own words that the documents use (one no sentence holds names nothing); a sentence
        # holding more of them (idf-weighted) names it better, and similarity breaks ties.
        own = {t for t in side_terms[i] - side_terms[1 - i] if t in idf} or {t for t in side_terms[i] if t in idf}
        other = side_terms[1 - i] - side_terms[i]
        passages, qvec = retriever.search(side, 5, sources=sources)
        named = {}
        for h in retriever.sentences(passages, qvec):
            weight = math.fsum(idf[t] for t in own & candidates.term_set(h.text))
            if weight > 0 and h.row not in used:
                named[(h.row, h.start)] = (h, weight)
        naming = [h for h, _ in sorted(named.values(), key=lambda hw: (-hw[1], -hw[0].similarity, hw[0].row))]
        chosen = []
        if naming:
            first = naming[0]
            chosen = [first]
            row = first.row
            while candidates.same_paragraph(retriever.sentence(row), nxt := retriever.sentence(row + 1)):
                if _turns_to(nxt, other):
                    break  # the paragraph turns to the other side, its subject now ("Coastal lights ... Inland lights")
                chosen.append(nxt)
                row += 1
            alone = len(chosen) == 1
            rows = _section_rows(retriever, table, first.chunk.source, first.chunk.section) if alone else []
            if rows and rows[0].row == first.row:  # a one-sentence paragraph opening a part: its paragraphs' leads
                chosen += [h for h in rows if not candidates.same_paragraph(retriever.sentence(h.row - 1), h)]
        chosen = trim([h for h in with_speakers(retriever, chosen) if h.row not in used], per_side)
        used.update(h.row for h in chosen)
        groups.append((side, chosen, other))
    if not any(g for _, g, _ in groups):
        return Composed("", (), True, "the documents say nothing about either side")
    lasts = {i: chosen[-1] for i, (_, chosen, _) in enumerate(groups) if chosen}
    quoted = {_key(h) for _, chosen, _ in groups for h in chosen}
    turns = {i: other for i, (_, _, other) in enumerate(groups)}
    for i, extra in _go_on(retriever, lasts, sum(_words(g) for _, g, _ in groups), quoted, turns).items():
        groups[i][1].extend(extra)
    texts, citations = [], []
    for label, chosen, _ in groups:
        if not chosen:
            if not both:  # what the two together are said to be may be all there is of one side
                texts.append(f"{label}: the documents say nothing about it.")
            continue
        text, cites = quote_sentences(chosen, len(citations) + 1)
        texts.append(f"{label}: {text}")
        citations.extend(cites)
    return Composed(" ".join(texts), tuple(citations), False, "", 1.0)


def _turns_to(hit: SentenceHit, other: set[str]) -> bool:
    """The sentence opens with the other side's own words: the paragraph is about the other side from here."""
    return bool(other & candidates.term_set(" ".join(hit.text.split()[:4])))


def _key(hit: SentenceHit) -> tuple[str, int, int]:
    """Where a sentence is, as a citation says it: the same sentence of two overlapping chunks has one key."""
    return hit.chunk.source, hit.start, hit.end


def _go_on(
    retriever,
    lasts: dict[int, SentenceHit],
    words: int,
    quoted: set[tuple[str, int, int]],
    turns: dict[int, set[str]] | None = None,
) -> dict[int, list[SentenceHit]]:
    """Words left of the budget, for groups (a multi-part answer's parts, a comparison's sides): each group's last
    sentence (`lasts`) is followed by the next of its paragraph, a sentence a group in turn, until the paragraph ends,
    reaches a sentence already quoted, or opens with the other side's own words (`turns`)."""
    lasts, taken = dict(lasts), set(quoted)
    more: dict[int, list[SentenceHit]] = {}
    while lasts:
        for i in list(lasts):
            nxt = retriever.sentence(lasts[i].row + 1)
            fits = nxt is not None and words + len(nxt.text.split()) <= MAX_OPEN_WORDS
            if (
                not fits
                or not candidates.same_paragraph(lasts[i], nxt)
                or _key(nxt) in taken
                or instructs(nxt.text)
                or (turns is not None and _turns_to(nxt, turns[i]))
            ):
                del lasts[i]
                continue
            more.setdefault(i, []).append(nxt)
            taken.add(_key(nxt))
            words += len(nxt.text.split())
            lasts[i] = nxt
    return more
