"""Extractive summaries made at ingest, so "Summarize the report / the session on X" answers at once, cited.

For each document and each section: a few sentences chosen by closeness to the centroid of their sentence
vectors (the ones the index stores; nothing is embedded again), redundancy removed by maximal marginal
relevance and a similarity cap, kept in document order. Saved as sentence rows of sentences.npy (never text,
which could drift from the document) in `summaries.json`, checksummed with the rest of the build.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

FILE = "summaries.json"
VERSION = 1

Key = tuple[str, "str | None"]  # (source, section title), or (source, None) for the whole document


@dataclass(frozen=True)
class SummarySettings:
    """How long summaries are and how different their sentences must be; recorded in summaries.json."""

    document_sentences: int = 5
    section_sentences: int = 3
    max_words: int = 150
    min_words: int = 5  # shorter sentences (a date line, "Thank you.") are chosen only when nothing else is left
    diversity: float = 0.3  # MMR weight of novelty against closeness to the centroid
    max_similarity: float = 0.9  # a sentence this close to one already chosen is a near repeat and never chosen
    candidates: int = 20  # only the sentences nearest the centroid compete in MMR


def select(
    vectors: np.ndarray, words: Sequence[int], limit: int, settings: SummarySettings = SummarySettings()
) -> list[int]:
    """Positions of up to `limit` central, mutually different sentences within max_words, in ascending order.

    Example: vectors=[[1, 0], [1, 0], [0.8, 0.6], [0, 1]], words=[9, 9, 9, 9], limit=2
             -> [0, 2] (2 is nearest the centroid; then 0, central and new; 1 repeats 0)
    """
    n = len(vectors)
    if n != len(words):
        raise ValueError(f"{n} vectors but {len(words)} word counts")
    if n == 0 or limit <= 0:
        return []
    v = np.asarray(vectors, dtype=np.float32)
    v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
    centroid = v.sum(axis=0)
    relevance = v @ (centroid / max(float(np.linalg.norm(centroid)), 1e-12))
    pool = list(range(n))
    if n > settings.candidates:  # MMR among the most central only: a few numpy calls, a few word counts
        pool = sorted(np.argpartition(-relevance, settings.candidates)[: settings.candidates].tolist())
    pool = [i for i in pool if words[i] >= settings.min_words] or pool
    return sorted(_mmr(relevance[pool].tolist(), (v[pool] @ v[pool].T).tolist(), pool, words, limit, settings))


def _mmr(
    relevance: list[float],
    sims: list[list[float]],
    pool: list[int],
    words: Sequence[int],
    limit: int,
    settings: SummarySettings,
) -> list[int]:
    """Greedy maximal marginal relevance over a small pool, in plain Python (faster than numpy at this size)."""
    lam, div, budget = 1.0 - settings.diversity, settings.diversity, settings.max_words
    closest = [0.0] * len(pool)  # similarity to the nearest chosen sentence
    alive = [True] * len(pool)
    chosen: list[int] = []
    while len(chosen) < limit:
        best, best_score = -1, -np.inf
        for i, ok in enumerate(alive):
            if ok and lam * relevance[i] - div * closest[i] > best_score:
                best, best_score = i, lam * relevance[i] - div * closest[i]
        if best < 0:
            break
        alive[best] = False
        if words[pool[best]] > budget and chosen:
            continue  # too long for what is left; a shorter one may still fit
        chosen.append(pool[best])
        budget -= words[pool[best]]
        for i, sim in enumerate(sims[best]):
            closest[i] = max(closest[i], sim)
            if closest[i] >= settings.max_similarity:
                alive[i] = False
    return chosen


def build(
    sentences: np.ndarray,
    sources: Sequence[str],
    sections: Sequence[str],
    vectors: np.ndarray,
    words: Callable[[int], int],
    settings: SummarySettings = SummarySettings(),
) -> dict[Key, tuple[int, ...]]:
    """Summaries of every document and section that has sentences, as sentence rows in document order.

    sentences is the index's table [m, 3] (chunk row, start, end); sources/sections are per chunk row;
    vectors are the m sentence vectors (may be memory-mapped); words(j) counts the words of sentence j.
    Example: two sections of one file -> {("a.txt", None): (0, 3), ("a.txt", "Intro"): (0,), ("a.txt", "End"): (3,)}
    """
    table = np.asarray(sentences, dtype=np.int64).reshape(-1, 3)
    doc_ids: dict[Key, int] = {}
    section_ids: dict[Key, int] = {}
    doc_of_chunk = np.array([doc_ids.setdefault((src, None), len(doc_ids)) for src in sources], dtype=np.int64)
    section_of_chunk = np.array(
        [section_ids.setdefault((src, sec), len(section_ids)) for src, sec in zip(sources, sections, strict=True)],
        dtype=np.int64,
    )
    out: dict[Key, tuple[int, ...]] = {}
    for ids, of_chunk, limit in (
        (doc_ids, doc_of_chunk, settings.document_sentences),
        (section_ids, section_of_chunk, settings.section_sentences),
    ):
        keys = list(ids)
        group = of_chunk[table[:, 0]] if len(table) else np.zeros(0, dtype=np.int64)
        order = np.lexsort((table[:, 1], group))  # by group, then by offset: document order within each
        for rows in np.split(order, np.flatnonzero(np.diff(group[order])) + 1) if len(order) else ():
            picked = select(vectors[rows], _Words(rows, words), limit, settings)
            out[keys[int(group[rows[0]])]] = tuple(int(rows[i]) for i in picked)
    return out


class _Words(Sequence[int]):
    """Word counts of a group's sentences, counted only when asked (a summary reads a few of them)."""

    def __init__(self, rows: np.ndarray, words: Callable[[int], int]) -> None:
        self.rows, self.words = rows, words

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i):  # type: ignore[override]
        return self.words(int(self.rows[i]))


def find(target: str | None, keys: Iterable[Key], titles: Mapping[str, str] | None = None) -> Key | None:
    """The summary a request names ("the session on X", "document Y"): the section or document whose title
    shares most of the target's words (at least half of them), or None (summarise the whole corpus, or search).

    Example: find("the session on vocational training", [("a.txt", None), ("a.txt", "Vocational Training")])
             -> ("a.txt", "Vocational Training")
    """
    from index.text.lexical import terms

    want = set(terms(target or "")) - containers()
    if not want:
        return None
    best, best_score = None, 0.0
    for source, section in keys:
        name = section if section is not None else f"{(titles or {}).get(source, '')} {Path(source).stem}"
        score = len(want & set(terms(name.replace("-", " ").replace("_", " ")))) / len(want)
        if score > best_score:
            best, best_score = (source, section), score
    return best if best_score >= 0.5 else None


@functools.cache
def containers() -> frozenset[str]:
    """Words that name a part of a text, not its subject ("the session on X", "the report titled Y")."""
    from index.text.lexical import terms

    return frozenset(terms("session sessions section chapter part panel talk titled called named entitled whole"))


def save(path: Path, summaries: Mapping[Key, tuple[int, ...]], settings: SummarySettings = SummarySettings()) -> None:
    """Plain JSON: a version, the settings, one entry per (source, section) with its sentence rows."""
    entries = [
        {"source": source, "section": section, "rows": list(rows)}
        for (source, section), rows in sorted(summaries.items(), key=lambda kv: (kv[0][0], kv[0][1] is not None))
    ]
    data = {"version": VERSION, "settings": asdict(settings), "summaries": entries}
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def load(path: Path, n_sentences: int) -> dict[Key, tuple[int, ...]]:
    """The saved summaries; ValueError when the file is of another version or names rows the index lacks."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise ValueError(f"{path.name} is not summaries version {VERSION}")
    out: dict[Key, tuple[int, ...]] = {}
    for entry in data.get("summaries") or []:
        rows = tuple(int(j) for j in entry["rows"])
        if any(not 0 <= j < n_sentences for j in rows):
            raise ValueError(f"{path.name}: a summary of {entry['source']} names a sentence the index lacks")
        out[(str(entry["source"]), entry["section"])] = rows
    return out
