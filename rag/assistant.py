"""The Assistant: one object that owns the index, the model and the settings, and answers questions."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from index.encode.embed import Embedder, SentenceTransformerEmbedder
from index.errors import DiskFull, IndexCorrupt, IndexMissing
from index.storage.build import IndexSettings, ingest, stale_reason
from rag.answer import Answer
from rag.compose import Composer, ComposerSettings
from rag.errors import BadInput
from rag.question import standalone
from rag.retrieve import Mode, Retriever, check_mode

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = PROJECT_ROOT / "corpus"
DEFAULT_INDEX = PROJECT_ROOT / "index" / "data" / "main"
MAX_QUESTION_CHARS = 2000
MAX_K = 50


@dataclass(frozen=True)
class Settings:
    """Everything that changes an answer; `rag eval --set key=value` overrides these by name."""

    k: int = 5
    retrieval: Mode = "hybrid"
    index: IndexSettings = field(default_factory=IndexSettings)
    composer: ComposerSettings = field(default_factory=ComposerSettings)


def override(settings: Settings, key: str, value: str) -> Settings:
    """Settings with one field changed by name, the value parsed to the field's type.

    Example: override(Settings(), "threshold", "0.5").composer.threshold == 0.5
    Keys: k, retrieval, model, and any field of ChunkerSettings or ComposerSettings; "composer.X" or "chunker.X"
    names the group where a bare name would be taken for another ("composer.model" is the selector JSON, "model"
    the embedding model).
    """
    import dataclasses

    def parse(current: object, text: str) -> object:
        try:
            return type(current)(text) if not isinstance(current, bool) else text.lower() in ("1", "true", "yes")
        except ValueError:
            raise BadInput(f"setting {key}={text!r}: expected a {type(current).__name__}") from None

    chunker, composer = settings.index.chunker, settings.composer
    group, dot, name = key.partition(".")
    if not dot:
        group, name = "", key
    elif group not in ("composer", "chunker") or name not in {
        f.name for f in dataclasses.fields(composer if group == "composer" else chunker)
    }:
        raise BadInput(f"unknown setting {key!r}; a group is composer. or chunker. and one of its fields")
    if not group and name in ("k", "retrieval"):
        new = dataclasses.replace(settings, **{name: parse(getattr(settings, name), value)})
        if name == "retrieval":
            check_mode(new.retrieval)
        return new
    if not group and name == "model":
        return dataclasses.replace(settings, index=dataclasses.replace(settings.index, model=value))
    if group != "composer" and name in {f.name for f in dataclasses.fields(chunker)}:
        chunker = dataclasses.replace(chunker, **{name: parse(getattr(chunker, name), value)})
        return dataclasses.replace(settings, index=dataclasses.replace(settings.index, chunker=chunker))
    if group != "chunker" and name in {f.name for f in dataclasses.fields(composer)}:
        return dataclasses.replace(
            settings, composer=dataclasses.replace(composer, **{name: parse(getattr(composer, name), value)})
        )
    known = ["k", "retrieval", "model"] + [f.name for f in dataclasses.fields(chunker) + dataclasses.fields(composer)]
    raise BadInput(f"unknown setting {key!r}; known: {', '.join(known)}")


def check_question(question: object) -> str:
    """The question, stripped, or BadInput saying what is wrong with it.

    Control and invisible characters (NUL, escape sequences, zero-width, bidi) are removed as in documents,
    so a pasted question is answered and nothing invisible reaches the terminal or the page.
    Example: check_question("\x00\x07 Who  chaired?") -> "Who chaired?"
    """
    import re

    from index.text.cleaning import clean, has_surrogates

    if not isinstance(question, str):
        raise BadInput("the question must be text")
    if has_surrogates(question):  # it could not be shown back or put in a JSON reply (the UI's, the API's)
        raise BadInput("the question holds bytes that are not UTF-8 text; re-type it or fix the file's encoding")
    if len(question) > MAX_QUESTION_CHARS:
        raise BadInput(f"the question is {len(question)} characters long; the limit is {MAX_QUESTION_CHARS}")
    without_escapes = re.sub(r"\x1b\[[0-?]*[ -/]*[@-~]", " ", question)  # terminal colour codes, whole
    text = " ".join(clean(without_escapes)[0].split())
    if not text:
        raise BadInput("the question is empty; ask something about the documents")
    if not any(ch.isalnum() for ch in text):
        raise BadInput("the question has no words in it; ask something about the documents")
    return text


def check_k(k: object) -> int:
    """A passage count between 1 and MAX_K, or BadInput."""
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise BadInput(f"-k must be a whole number from 1 to {MAX_K}, not {k!r}")
    return k


class Assistant:
    """Answers questions about a corpus; loads (and if needed builds) the index and model once.

    `Assistant(..., load=False)` only takes the settings; `open()` then loads, verifies and, when the index is
    missing or stale, builds it, and `warm_up()` also answers one question so the first user does not wait for
    the encoder's first call. With the default `load=True` the constructor opens at once; `ask` opens if needed.
    """

    def __init__(
        self,
        corpus_dir: Path = DEFAULT_CORPUS,
        index_dir: Path = DEFAULT_INDEX,
        settings: Settings = Settings(),
        embedder: Embedder | None = None,
        log: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr),
        progress: bool = True,
        fallback: bool = True,
        load: bool = True,
    ) -> None:
        self.corpus_dir = Path(corpus_dir)
        self.fallback = fallback  # when a rebuild cannot run, answer from the last build (False: raise why not)
        self.stale: str | None = None  # why answers come from an older build than the corpus, for their notice
        self.index_dir = Path(index_dir)
        self.settings = settings
        self.log = log
        self.embedder = embedder or SentenceTransformerEmbedder(settings.index.model)  # the model loads on first use
        self.progress = progress
        self.opened = False
        if load:
            self.open()

    def open(self) -> Assistant:
        """Load the index (checksums verified), building or rebuilding it first when it is missing or stale."""
        self.index = self._load_or_build(self.progress)
        self.retriever = Retriever(self.index, self._query_encoder())
        self.composer = Composer(self.retriever, self.settings.composer)
        self.opened = True
        return self

    def warm_up(self) -> Assistant:
        """Open if needed and answer one question, so the encoder's and the composer's first calls are paid now."""
        self.ask("What is this about?")  # ask opens first
        return self

    def _query_encoder(self) -> Embedder:
        """The index's ONNX encoder for questions (no torch: a sub-second start) when it has one, else the embedder."""
        from index.encode.onnx_encoder import from_build

        if self.index.manifest.model != self.embedder.model_id:
            return self.embedder
        try:
            return from_build(self.index.path, self.index.manifest) or self.embedder
        except Exception as exc:  # onnxruntime refused a file that passed its checksum: slower, still right
            self.log(f"warning: ONNX query encoder unusable ({type(exc).__name__}: {exc}); using the embedder")
            return self.embedder

    def _load_or_build(self, progress: bool):
        from index.storage.build import IndexBusy
        from index.storage.store import current_build, load, read_manifest

        def rebuild(force: bool) -> None:
            report = ingest(
                self.corpus_dir,
                self.index_dir,
                self.settings.index,
                self.embedder,
                force=force,
                progress=progress,
                log=self.log,
            )
            self.log(report.summary())

        def other_model(dim: int | None) -> str | None:
            """Why the index holds another model's vectors (the manifest's model id alone cannot tell)."""
            if dim is None or dim == self.embedder.dim:
                return None
            return (
                f"index is stale (it holds {dim}-dimension vectors, {self.embedder.model_id} makes "
                f"{self.embedder.dim}: another model built it); rebuilding"
            )

        reason = stale_reason(self.corpus_dir, self.index_dir, self.settings.index)
        stale_dim = other_model((read_manifest(self.index_dir) or {}).get("dim"))
        if reason is not None or stale_dim is not None:
            self.log(stale_dim or f"building the index: {reason}")
            try:
                rebuild(force=stale_dim is not None)  # another model's vectors cannot be reused
            except (IndexBusy, DiskFull) as exc:  # another process builds, or no room: the last build still answers
                if not self.fallback or current_build(self.index_dir) is None:
                    raise
                full = isinstance(exc, DiskFull)
                self.log(f"{'warning: ' if full else ''}{exc}; answering from the last complete build meanwhile")
                if full:
                    self.stale = (
                        "answered from the last complete index: the disk is full, so later changes are not indexed"
                    )
        try:
            index = load(self.index_dir)
        except (IndexCorrupt, IndexMissing) as exc:
            self.log(f"{exc}; rebuilding")
            rebuild(force=True)
            index = load(self.index_dir)
        stale_dim = other_model(index.manifest.dim)
        if stale_dim is not None:
            self.log(stale_dim)
            rebuild(force=True)
            index = load(self.index_dir)
        return index

    on_ray_at: tuple[str | None] | None = None  # (Ray address,) once served on Ray, so a reload stays there

    def on_ray(self, address: str | None = None) -> None:
        """Each shard's dense search and BM25 scoring moved to a Ray actor (index.storage.shard_actors), same answers.

        The earlier actors, if any, end when their last question is done (Ray frees an actor with its handles).
        """
        from index.storage.shard_actors import on_ray

        self.index = on_ray(self.index, address)
        self.on_ray_at = (address,)
        self.retriever = Retriever(self.index, self.retriever.embedder)
        self.composer = Composer(self.retriever, self.settings.composer)

    def with_settings(self, **changes) -> Assistant:
        """A view of this assistant with other query-time settings, sharing the loaded index and model."""
        clone = object.__new__(Assistant)
        clone.__dict__.update(self.__dict__)
        clone.settings = replace(self.settings, **changes)
        clone.composer = Composer(self.retriever, clone.settings.composer)
        return clone

    def ask(
        self,
        question: str,
        history: Sequence[tuple[str, str]] | None = None,
        k: int | None = None,
        retrieval: Mode | None = None,
        composer: str = "extractive",
        sources: Sequence[str] | None = None,
    ) -> Answer:
        """Answer one question with exact citations, or abstain saying why.

        `history` holds earlier (question, answer) turns; a follow-up is rewritten into a standalone
        question, which is what gets searched (and is shown in the JSON as "standalone_question").
        `sources` limits the search, and so the citations, to those indexed documents (None: all).
        """
        if not self.opened:
            self.open()
        started = time.perf_counter()
        text = standalone(check_question(question), history)
        k = check_k(self.settings.k if k is None else k)
        mode = check_mode(retrieval or self.settings.retrieval)
        if composer not in ("extractive", "llm"):
            raise BadInput(f"unknown composer {composer!r}; choose extractive or llm")
        scope = self.check_sources(sources)
        unsearched = getattr(self.index.dense, "take_notice", None)  # served on Ray: which shards did not answer
        if unsearched:
            unsearched()  # forget what an earlier question in this thread missed
        timings: dict[str, float] = {}
        passages, qvec = self.retriever.search(text, k, mode, timings, sources=scope)
        t_retrieved = time.perf_counter()
        hits = self.retriever.sentences(passages, qvec)
        composed = self.composer.compose(text, hits, qvec, sources=scope)
        answer_text = composed.text
        if composed.abstained:
            answer_text = (
                f"The documents do not answer this question: “{text}” ({composed.reason}). "
                "The closest passages are listed as related reading."
            )
        done = time.perf_counter()
        timings["retrieve"] = (t_retrieved - started) * 1000
        timings["compose"] = (done - t_retrieved) * 1000
        timings["total"] = (done - started) * 1000
        answer = Answer(question, answer_text, composed.abstained, composed.citations, tuple(passages), timings, text)
        if composer == "llm":  # the extractive answer is the fallback; the LLM's sentences are verified against it
            from rag.llm import compose_with_llm

            answer = compose_with_llm(self.retriever, answer)
        if self.stale and answer.notice is None:
            answer = replace(answer, notice=self.stale)
        missed = unsearched() if unsearched else None
        if missed:
            answer = replace(answer, notice=f"{answer.notice}; {missed}" if answer.notice else missed)
        return answer

    def check_sources(self, sources: Sequence[str] | None) -> frozenset[str] | None:
        """The indexed documents a question may search, or BadInput naming what is not indexed.

        Example: check_sources(["report.txt"]) -> frozenset({"report.txt"}); check_sources(None) -> None
        """
        if sources is None:
            return None
        if isinstance(sources, str) or not all(isinstance(s, str) for s in sources):
            raise BadInput("sources must be a list of document names")
        wanted = frozenset(s.strip() for s in sources if s.strip())
        if not wanted:
            raise BadInput("sources is empty; leave it out to search every document")
        indexed = self.index.manifest.documents
        unknown = sorted(wanted - set(indexed))
        if unknown:
            raise BadInput(f"not an indexed document: {', '.join(unknown)}; indexed: {', '.join(sorted(indexed))}")
        return wanted

    def document_text(self, source: str) -> str:
        """The text of one indexed document, the one citation offsets point into.

        Only a source listed in the index manifest is served, and only if the file is unchanged since
        it was indexed (otherwise offsets would be wrong); anything else is BadInput.
        """
        from index.load.documents import load_document

        listed = self.index.manifest.documents.get(source) if isinstance(source, str) else None
        root = self.corpus_dir.resolve()
        path = (root / source).resolve() if listed else root
        if not isinstance(listed, dict) or not path.is_relative_to(root) or not path.is_file():
            raise BadInput(f"{source!r} is not an indexed document")
        try:
            document = load_document(path, root)
        except (ValueError, OSError) as exc:
            raise BadInput(f"{source} cannot be read any more ({exc}); run `rag ingest`") from None
        if document.sha256 != listed.get("sha256"):
            raise BadInput(f"{source} changed since it was indexed; run `rag ingest` to update the index")
        return document.text
