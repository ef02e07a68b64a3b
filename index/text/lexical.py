"""The one word tokenizer shared by BM25 (index and query) and the composer's term overlap."""

from __future__ import annotations

import functools
import re

# Words with inner hyphens or dots stay whole ("k-digital", "1-3-4") and also yield their parts.
_WORD = re.compile(r"[^\W_]+(?:[-.'\u2019][^\W_]+)*")
_JOINER = re.compile(r"[-.']")
STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have having he
    her here hers herself him himself his how i if in into is it its itself just me more most my myself no nor not
    now of off on once only or other our ours ourselves out over own same she should so some such than that the
    their theirs them themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves report documents
    document say says said""".split()
)


@functools.cache
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    """Lower-cased words, compounds kept whole and split too.

    Example: words("K-Digital Training") -> ["k-digital", "k", "digital", "training"]
    """
    out = []
    for word in _WORD.findall(text.lower()):  # plain `in` tests: a long article's sentences have many words
        word = word.replace("\u2019", "'")
        out.append(word)
        if "-" in word or "." in word or "'" in word:
            out.extend(p for p in _JOINER.split(word) if p and p != "s")
    return out


def terms(text: str) -> list[str]:
    """Stemmed content words: what BM25 indexes and what questions are matched on.

    Example: terms("Who chaired the sessions?") -> ["chair", "session"]
    """
    kept = [w for w in words(text) if w not in STOPWORDS]
    return list(_stemmer().stemWords(kept))
