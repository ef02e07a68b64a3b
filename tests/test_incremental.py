"""Re-ingesting embeds only what changed, and says what it did."""

from __future__ import annotations

import shutil

import pytest

from index.storage.build import ingest
from tests.conftest import REPORT, CountingEmbedder


@pytest.mark.heavy  # four real-model builds, the first of the whole report
def test_only_new_text_is_embedded_and_the_summary_says_what_changed(tmp_path, embedder):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    shutil.copy(REPORT, corpus / "report.txt")
    counting = CountingEmbedder(embedder)
    first = ingest(corpus, index, embedder=counting, progress=False, log=lambda _: None)
    assert first.built and counting.calls > 0

    counting.calls = 0
    unchanged = ingest(corpus, index, embedder=counting, progress=False, log=lambda _: None)
    assert not unchanged.built and counting.calls == 0

    (corpus / "owls.md").write_text("# Owls\nOwls hunt at night. Barn owls nest in old barns.\n", encoding="utf-8")
    added = ingest(corpus, index, embedder=counting, progress=False, log=lambda _: None)
    assert added.built
    assert "1 unchanged, 1 added (1 chunks), 0 changed, 0 removed" in added.summary()
    assert counting.calls == 3  # the new chunk and its two sentences; the report's vectors are reused

    counting.calls = 0
    (corpus / "owls.md").unlink()
    removed = ingest(corpus, index, embedder=counting, progress=False, log=lambda _: None)
    assert "1 unchanged, 0 added (0 chunks), 0 changed, 1 removed" in removed.summary()
    assert counting.calls == 0


@pytest.mark.heavy  # three real-model builds
def test_a_skipped_file_is_reported_as_skipped_not_as_added(tmp_path, embedder):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Heading\nA first sentence here. A second one there.\n", encoding="utf-8")
    ingest(corpus, index, embedder=embedder, progress=False, log=lambda _: None)

    (corpus / "broken.txt").write_bytes(b"abc\x00\x01\x02")
    with_broken = ingest(corpus, index, embedder=embedder, progress=False, log=lambda _: None)
    assert "1 unchanged, 0 added (0 chunks), 0 changed, 0 removed" in with_broken.summary()
    assert "skipped broken.txt" in with_broken.summary()

    (corpus / "broken.txt").write_text("Fixed\nNow it is a readable note.\n", encoding="utf-8")
    fixed = ingest(corpus, index, embedder=embedder, progress=False, log=lambda _: None)
    assert "1 unchanged, 1 added (1 chunks), 0 changed, 0 removed" in fixed.summary()


def test_forced_rebuild_embeds_everything_again(tmp_path, embedder):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Heading\nA first sentence here. A second one there.\n", encoding="utf-8")
    counting = CountingEmbedder(embedder)
    ingest(corpus, index, embedder=counting, progress=False, log=lambda _: None)
    before = counting.calls
    ingest(corpus, index, embedder=counting, force=True, progress=False, log=lambda _: None)
    assert counting.calls == 2 * before
