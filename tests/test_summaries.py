"""Summaries made at ingest: one per document and section, pointing at real sentences, checksummed, versioned.

Built with a bag-of-words embedder (instant); the selection itself is checked on hand-made vectors.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil

import numpy as np
import pytest

from index.errors import IndexCorrupt
from index.storage.build import IndexSettings, ingest, stale_reason
from index.storage.store import FORMAT_VERSION, current_build, load
from index.storage.summaries import FILE, SummarySettings, find, select
from index.text.sentences import split_sentences
from tests.conftest import CountingEmbedder, flip_middle_bit

# Two made-up documents, each with headed sections; the fair notes repeat one sentence in two sections.
HARBOUR = "\n".join(
    [
        "Harbour Survey 2031",
        "",
        "Overview",
        "The harbour survey ran from March to June and covered four docks. It was led by Captain Ines Moreau "
        "of the port authority. Divers mapped the silt on every berth. The survey found that two docks need "
        "dredging within a year.",
        "",
        "Findings",
        "Silt depth rose by a third since the last survey. The north dock is the shallowest, with under six "
        "metres at low tide. Cargo ships now wait for high tide before entering. Fishing boats are not affected. "
        "Repairs to the sea wall are also advised.",
        "",
        "Recommendations",
        "The authority should dredge the north and east docks first. A yearly survey is recommended from now on. "
        "Funding will come from berth fees. Work should start before the autumn storms.",
        "",
    ]
)
FAIR = "\n".join(
    [
        "Spring Science Fair",
        "",
        "Projects",
        "Forty pupils showed projects on water, weather and plants. The judges praised a rain gauge built from "
        "bottles. Every project had a poster and a short talk. The fair was held in the school hall.",
        "",
        "Prizes",
        "Three prizes were awarded by the head teacher. The first prize went to a study of bean growth under "
        "coloured light. Every project had a poster and a short talk. The winners will show their work at the "
        "regional fair in May.",
        "",
    ]
)


class WordEmbedder:
    """Hashed bag of words -> unit vector: sentences sharing words are close, as with a real model."""

    model_id = "bundled:all-MiniLM-L6-v2"  # the default settings' model, so the build is not stale
    precision = "fp32"
    dim = 64

    def embed(self, texts) -> np.ndarray:
        out = np.full((len(texts), self.dim), 1e-6, dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[row, hashlib.sha256(word.encode()).digest()[0] % self.dim] += 1.0
        return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("summaries")
    corpus, index = root / "corpus", root / "index"
    corpus.mkdir()
    (corpus / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    (corpus / "fair.txt").write_text(FAIR, encoding="utf-8")
    ingest(corpus, index, embedder=WordEmbedder(), progress=False, log=lambda _: None)
    return corpus, index


@pytest.fixture
def index_copy(built, tmp_path):
    corpus, index = built
    target = tmp_path / "index"
    shutil.copytree(index, target)
    (target / ".lock").unlink(missing_ok=True)
    return corpus, target


def _spans(index, rows):
    return [(index.searchable[index.sentence(j)[0]], *index.sentence(j)[1:]) for j in rows]


def test_select_prefers_central_sentences_and_drops_repeats():
    vectors = np.array([[1, 0], [1, 0], [0.8, 0.6], [0, 1]], dtype=np.float32)
    assert select(vectors, [9, 9, 9, 9], 2) == [0, 2]
    assert select(vectors, [9, 9, 9, 9], 4) == [0, 2, 3]  # 1 repeats 0 exactly and is never chosen
    assert select(vectors, [9, 9, 9, 9], 0) == [] and select(vectors[:0], [], 3) == []
    with pytest.raises(ValueError, match="4 vectors but 3 word counts"):
        select(vectors, [9, 9, 9], 2)


def test_select_keeps_to_the_word_budget_and_prefers_full_sentences():
    vectors = np.eye(4, dtype=np.float32) + 0.5
    settings = SummarySettings(max_words=20, min_words=5)
    assert select(vectors, [12, 12, 6, 2], 4, settings) == [0, 2]  # 12 + 6 fit; another 12 would not; 2 is short
    assert select(vectors[3:], [2], 3, settings) == [0]  # a short sentence when nothing else is left


def test_every_document_and_section_has_a_summary_of_its_own_sentences(built):
    corpus, index_dir = built
    index = load(index_dir)
    expected = {(c.source, None) for c in index.searchable} | {(c.source, c.section) for c in index.searchable}
    assert set(index.summaries) == expected
    assert ("harbour.txt", "Findings") in expected and ("fair.txt", "Prizes") in expected
    for (source, section), rows in index.summaries.items():
        text = (corpus / source).read_text(encoding="utf-8")
        limit = 5 if section is None else 3
        assert 1 <= len(rows) <= limit and len(set(rows)) == len(rows)
        spans = _spans(index, rows)
        assert [s for _, s, _ in spans] == sorted(s for _, s, _ in spans), "document order"
        words = 0
        for chunk, start, end in spans:
            assert chunk.source == source and (section is None or chunk.section == section)
            assert (start, end) in split_sentences(text), "a summary row is a real sentence of its document"
            words += len(text[start:end].split())
        assert words <= 150


def test_no_summary_quotes_the_same_sentence_twice(built):
    _, index_dir = built
    index = load(index_dir)
    for rows in index.summaries.values():
        texts = [chunk.sentence_text(start, end) for chunk, start, end in _spans(index, rows)]
        assert len(set(texts)) == len(texts)


def test_summaries_are_plain_json_rows_listed_in_the_manifest(built):
    _, index_dir = built
    build = current_build(index_dir)
    manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    assert FILE in manifest["checksums"] and manifest["format_version"] == FORMAT_VERSION
    data = json.loads((build / FILE).read_text(encoding="utf-8"))
    entry = data["summaries"][0]
    assert set(entry) == {"source", "section", "rows"} and all(isinstance(j, int) for j in entry["rows"])


def test_a_corrupt_summaries_file_is_caught_by_its_checksum(index_copy):
    _, index_dir = index_copy
    flip_middle_bit(current_build(index_dir) / FILE)
    with pytest.raises(IndexCorrupt, match=re.escape(f"{FILE}: expected sha256")):
        load(index_dir)


def test_a_summary_naming_a_missing_sentence_is_refused_even_with_a_matching_checksum(index_copy):
    _, index_dir = index_copy
    build = current_build(index_dir)
    data = json.loads((build / FILE).read_text(encoding="utf-8"))
    data["summaries"][0]["rows"] = [10**6]
    (build / FILE).write_text(json.dumps(data), encoding="utf-8")
    manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    manifest["checksums"][FILE] = hashlib.sha256((build / FILE).read_bytes()).hexdigest()
    (build / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexCorrupt, match="names a sentence the index lacks"):
        load(index_dir)


def test_an_index_of_the_previous_format_is_rebuilt_with_a_message(index_copy):
    from rag.assistant import Assistant

    corpus, index_dir = index_copy
    build = current_build(index_dir)
    manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    (build / FILE).unlink()  # what a build of format 2 looked like: no summaries
    del manifest["checksums"][FILE]
    manifest["format_version"] = FORMAT_VERSION - 1
    (build / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    old = f"index format changed ({FORMAT_VERSION - 1} -> {FORMAT_VERSION})"
    assert stale_reason(corpus, index_dir, IndexSettings()) == old
    with pytest.raises(IndexCorrupt, match=f"index format {FORMAT_VERSION - 1} is not {FORMAT_VERSION}"):
        load(index_dir)
    logs: list[str] = []
    embedder = CountingEmbedder(WordEmbedder())
    Assistant(corpus, index_dir, embedder=embedder, log=logs.append, progress=False)
    assert f"building the index: {old}" in logs
    assert current_build(index_dir) != build
    assert load(index_dir).summaries
    assert embedder.calls == 0, "the old build's vectors are reused: an upgrade costs no embedding"


def test_a_named_section_or_document_is_found_by_the_words_of_its_title(built):
    _, index_dir = built
    index = load(index_dir)
    titles = {source: entry["title"] for source, entry in index.manifest.documents.items()}
    keys = list(index.summaries)
    assert find("Findings", keys, titles) == ("harbour.txt", "Findings")
    assert find("the session on prizes", keys, titles) == ("fair.txt", "Prizes")
    assert find("spring science fair", keys, titles) == ("fair.txt", None)
    assert find("harbour", keys) == ("harbour.txt", None)  # the file name serves when no title is given
    assert find("weather on Mars", keys, titles) is None and find(None, keys, titles) is None
    assert find("the session", keys, titles) is None  # only words that name a part: no subject to match
