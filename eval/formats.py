"""The field's dataset formats in (SQuAD 1.1/2.0 JSON, BEIR folders) and its run formats out (RAGAS, TREC).

Readers turn a file into the project's own records (a corpus of documents and DESIGN.md gold pairs), so
the harness scores them exactly as it scores its own suites. Bad input raises BadInput naming file and line.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.errors import BadInput

_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ,._()'&+-]{0,150}")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class CorpusFile:
    """One document to write into a corpus folder: its file name and its text."""

    name: str
    text: str


@dataclass(frozen=True)
class SquadSet:
    """A SQuAD file as a corpus (one document per article) and gold pairs, with what had to be repaired."""

    files: tuple[CorpusFile, ...]
    gold: tuple[dict[str, Any], ...]
    repaired: int  # answers whose answer_start did not point at their text, found again by search
    unfound: int  # answers whose text is nowhere in their paragraph (the question keeps its other answers)
    skipped: int  # answerable questions left out because no answer text was found in the paragraph


@dataclass(frozen=True)
class BeirSet:
    """A BEIR folder as a corpus (one document per corpus line), its queries and graded qrels."""

    files: tuple[CorpusFile, ...]
    doc_of_file: dict[str, str]  # corpus file name -> BEIR doc id
    queries: tuple[tuple[str, str], ...]  # (query id, text) of the queries the qrels judge, in qrels order
    qrels: dict[str, dict[str, int]]  # query id -> doc id -> grade (0 = judged not relevant)


# ---------------------------------------------------------------------------------------------------------
# JSON with line numbers: parsed fast, re-parsed with positions only to name the line of a shape error.


class _ShapeError(Exception):
    def __init__(self, where: tuple, message: str) -> None:
        super().__init__(message)
        self.where, self.message = where, message


class _Obj(dict):
    line = 0


class _Arr(list):
    line = 0


def _positioned(text: str) -> Any:
    """json.loads where every object and array knows the line it starts on (the pure-Python scanner)."""
    import json.decoder
    import json.scanner

    decoder = json.JSONDecoder()

    def line_at(pos: int) -> int:
        return text.count("\n", 0, pos) + 1

    def parse_object(s_and_end, *rest):
        value, end = json.decoder.JSONObject(s_and_end, *rest)
        out = _Obj(value)
        out.line = line_at(s_and_end[1] - 1)
        return out, end

    def parse_array(s_and_end, scan_once):
        value, end = json.decoder.JSONArray(s_and_end, scan_once)
        out = _Arr(value)
        out.line = line_at(s_and_end[1] - 1)
        return out, end

    decoder.parse_object, decoder.parse_array = parse_object, parse_array
    decoder.scan_once = json.scanner.py_make_scanner(decoder)
    return decoder.decode(text)


def _line_of(text: str, where: tuple) -> int:
    """The line of the innermost object or array on the path `where` (keys and indexes from the root)."""
    node, line = _positioned(text), 1
    for step in where:
        line = getattr(node, "line", line)
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            break
    return getattr(node, "line", line)


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read {what} {path}: {exc}") from None


_KINDS = {dict: "a JSON object", list: "a JSON list", str: "a string", int: "an integer", bool: "true or false"}


def _expect(value: Any, kind: type, where: tuple, name: str) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _ShapeError(where, f"{name} must be {_KINDS[kind]}")
    return value


# ---------------------------------------------------------------------------------------------------------
# SQuAD


def file_name(title: str, taken: set[str]) -> str:
    """A corpus file name for a title: the title itself when it is a plain name, else a hash; never a repeat.

    Example: file_name("Fresno,_California", set()) -> "Fresno,_California.txt"; "a/b" -> "doc-<sha256[:12]>.txt"
    """
    stem = title if _SAFE_NAME.fullmatch(title) else "doc-" + hashlib.sha256(title.encode()).hexdigest()[:12]
    name, n = f"{stem}.txt", 1
    while name.lower() in taken:
        n += 1
        name = f"{stem}-{n}.txt"
    taken.add(name.lower())
    return name


def locate(context: str, text: str, start: int) -> int | None:
    """Where an answer really starts: `start` when the text is there, else its occurrence nearest to it.

    Example: locate("a cat and a cat", "cat", 11) -> 12; locate("a cat", "dog", 0) -> None
    """
    if context.startswith(text, start):
        return start
    found = [m.start() for m in re.finditer(re.escape(text), context)] if text else []
    return min(found, key=lambda p: (abs(p - start), p)) if found else None


def sentence_at(doc: str, para: tuple[int, int], start: int, end: int) -> str:
    """The sentence(s) of `doc` holding the span start..end, split within the paragraph as the index splits.

    Example: sentence_at("It rained. Ann left.", (0, 20), 11, 14) -> "Ann left." (3, 14 -> both sentences)
    """
    from index.text.sentences import split_sentences

    spans = split_sentences(doc, *para)
    covering = [(s, e) for s, e in spans if s < max(end, start + 1) and e > start] or spans[:1]
    return doc[covering[0][0] : covering[-1][1]]


def overlap(question: str, sentence: str) -> int:
    """Distinct words a sentence shares with the question (lower-cased), to choose among evidence sentences.

    Example: overlap("Who chaired it?", "It was chaired by A.") -> 2
    """
    return len(set(_WORD.findall(question.lower())) & set(_WORD.findall(sentence.lower())))


def read_squad(path: Path, max_articles: int | None = None, max_questions: int | None = None) -> SquadSet:
    """A SQuAD 1.1 or 2.0 file as documents (paragraphs separated by blank lines) and gold pairs."""
    text = _read_text(path, "SQuAD file")
    try:
        data = json.loads(text)
    except ValueError as exc:
        line = getattr(exc, "lineno", "?")
        raise BadInput(f"{path}:{line}: not valid JSON ({getattr(exc, 'msg', exc)})") from None
    try:
        return _squad(data, max_articles, max_questions)
    except _ShapeError as exc:
        raise BadInput(f"{path}:{_line_of(text, exc.where)}: {exc.message}") from None


def _squad(data: Any, max_articles: int | None, max_questions: int | None) -> SquadSet:
    _expect(data, dict, (), "the top level")
    articles = _expect(data.get("data"), list, ("data",), "'data' (the list of articles)")
    files, gold, ids, taken = [], [], set(), set()
    repaired = unfound = skipped = 0
    for a, article in enumerate(articles[:max_articles] if max_articles is not None else articles):
        at = ("data", a)
        _expect(article, dict, at, "an article")
        title = _expect(article.get("title"), str, at, "an article's 'title'")
        paragraphs = _expect(article.get("paragraphs"), list, (*at, "paragraphs"), "'paragraphs'")
        contexts, offsets, pos = [], [], 0
        for p, para in enumerate(paragraphs):
            _expect(para, dict, (*at, "paragraphs", p), "a paragraph")
            context = _expect(para.get("context"), str, (*at, "paragraphs", p), "a paragraph's 'context'")
            contexts.append(context)
            offsets.append(pos)
            pos += len(context) + 2
        doc = "\n\n".join(contexts)
        for p, para in enumerate(paragraphs):
            qas = _expect(para.get("qas", []), list, (*at, "paragraphs", p), "'qas'")
            span = (offsets[p], offsets[p] + len(contexts[p]))
            for q, qa in enumerate(qas):
                where = (*at, "paragraphs", p, "qas", q)
                _expect(qa, dict, where, "a question")
                qid = _expect(qa.get("id"), str, where, "a question's 'id'")
                question = _expect(qa.get("question"), str, where, "'question'")
                if qid in ids:
                    raise _ShapeError(where, f"duplicate question id {qid!r}")
                ids.add(qid)
                impossible = _expect(qa.get("is_impossible", False), bool, where, "'is_impossible'")
                answers = _expect(qa.get("answers", []), list, (*where, "answers"), "'answers'")
                if not impossible and not answers:
                    raise _ShapeError(where, f"question {qid!r} has no answers and is not marked is_impossible")
                texts, evidence = [], []
                for n, ans in enumerate([] if impossible else answers):
                    aw = (*where, "answers", n)
                    _expect(ans, dict, aw, "an answer")
                    atext = _expect(ans.get("text"), str, aw, "an answer's 'text'")
                    start = _expect(ans.get("answer_start"), int, aw, "'answer_start'")
                    if atext not in texts:
                        texts.append(atext)
                    found = locate(contexts[p], atext, start)
                    if found is None:
                        unfound += 1
                        continue
                    repaired += found != start
                    sentence = sentence_at(doc, span, span[0] + found, span[0] + found + len(atext))
                    if sentence not in evidence:
                        evidence.append(sentence)
                if not impossible and not evidence:
                    skipped += 1
                    continue
                best = max(evidence, key=lambda s: overlap(question, s)) if evidence else None  # first wins ties
                gold.append(
                    {
                        "id": qid,
                        "question": question,
                        "answers": texts,
                        "evidence": [best] if best else [],
                        "answerable": not impossible,
                        "article": title,
                    }
                )
        files.append(CorpusFile(file_name(title, taken), doc + "\n"))
    if max_questions is not None:
        gold = gold[:max_questions]
    return SquadSet(tuple(files), tuple(gold), repaired, unfound, skipped)


# ---------------------------------------------------------------------------------------------------------
# BEIR


def _jsonl(path: Path, what: str) -> Iterable[tuple[int, dict]]:
    for no, line in enumerate(_read_text(path, what).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise BadInput(f"{path}:{no}: not valid JSON ({getattr(exc, 'msg', exc)})") from None
        if not isinstance(row, dict) or not isinstance(row.get("_id"), str | int) or isinstance(row["_id"], bool):
            raise BadInput(f'{path}:{no}: expected an object with an "_id"')
        for key in ("title", "text"):
            if row.get(key) is not None and not isinstance(row[key], str):
                raise BadInput(f"{path}:{no}: {key!r} must be a string")
        yield no, row


def read_beir(folder: Path, split: str = "test", max_questions: int | None = None) -> BeirSet:
    """A BEIR folder (corpus.jsonl, queries.jsonl, qrels/<split>.tsv) as documents, queries and qrels."""
    if not folder.is_dir():
        raise BadInput(f"{folder}: not a folder (a BEIR dataset has corpus.jsonl, queries.jsonl, qrels/{split}.tsv)")
    files, doc_of_file, docs, taken = [], {}, set(), set()
    for no, row in _jsonl(folder / "corpus.jsonl", "BEIR corpus"):
        doc_id = str(row["_id"])
        if doc_id in docs:
            raise BadInput(f"{folder / 'corpus.jsonl'}:{no}: duplicate _id {doc_id!r}")
        docs.add(doc_id)
        title, body = (row.get("title") or "").strip(), row.get("text") or ""
        name = file_name(doc_id, taken)
        files.append(CorpusFile(name, f"{title}\n\n{body}\n" if title else f"{body}\n"))
        doc_of_file[name] = doc_id
    queries: dict[str, str] = {}
    for no, row in _jsonl(folder / "queries.jsonl", "BEIR queries"):
        if not isinstance(row.get("text"), str) or not row["text"].strip():
            raise BadInput(f'{folder / "queries.jsonl"}:{no}: expected a non-empty "text" string')
        queries[str(row["_id"])] = row["text"]
    qrels: dict[str, dict[str, int]] = {}
    qrels_path = folder / "qrels" / f"{split}.tsv"
    for no, line in enumerate(_read_text(qrels_path, "BEIR qrels").splitlines(), start=1):
        cells = line.rstrip("\r\n").split("\t")
        if not line.strip() or (no == 1 and cells[-1].strip().lower() == "score"):
            continue
        if len(cells) != 3 or not re.fullmatch(r"-?\d+", cells[2].strip()):
            raise BadInput(f"{qrels_path}:{no}: expected query-id, corpus-id and an integer score, tab-separated")
        qid, doc_id, grade = cells[0].strip(), cells[1].strip(), int(cells[2])
        if qid not in queries:
            raise BadInput(f"{qrels_path}:{no}: query id {qid!r} is not in queries.jsonl")
        if doc_id not in docs:
            raise BadInput(f"{qrels_path}:{no}: corpus id {doc_id!r} is not in corpus.jsonl")
        qrels.setdefault(qid, {})[doc_id] = grade
    order = list(qrels)[:max_questions] if max_questions is not None else list(qrels)
    return BeirSet(tuple(files), doc_of_file, tuple((q, queries[q]) for q in order), {q: qrels[q] for q in order})


def write_corpus(files: Sequence[CorpusFile], folder: Path) -> None:
    """Write the documents; an existing file with other text is refused rather than overwritten."""
    folder.mkdir(parents=True, exist_ok=True)
    for f in files:
        target = folder / f.name
        if target.exists() and target.read_text(encoding="utf-8") != f.text:
            raise BadInput(f"{target} exists with other text; give an empty --corpus folder")
        target.write_text(f.text, encoding="utf-8")


# ---------------------------------------------------------------------------------------------------------
# Out: RAGAS and TREC

NOT_ANSWERED = "The documents do not answer this question."


def ragas_row(row: dict[str, Any], answer: dict[str, Any] | None, contexts: Sequence[str]) -> dict[str, Any]:
    """One RAGAS SingleTurnSample as JSON: the question, our answer and passages, the gold answer and evidence.

    Example: ragas_row({"question": "Who?", "answers": ["Ann"], "evidence": ["Ann spoke."], "answerable": True},
    {"answer": "Ann spoke. [1]"}, ["Ann spoke."]) -> {"user_input": "Who?", "response": "Ann spoke. [1]",
    "retrieved_contexts": ["Ann spoke."], "reference": "Ann", "reference_contexts": ["Ann spoke."]}
    """
    out: dict[str, Any] = {"user_input": row["question"]}
    if answer is not None:
        out["response"] = answer["answer"]
    out["retrieved_contexts"] = list(contexts)
    if row.get("answers"):
        out["reference"] = row["answers"][0]
    elif answer is not None and row.get("answerable") is False:
        out["reference"] = NOT_ANSWERED
    if row.get("evidence"):
        out["reference_contexts"] = list(row["evidence"])
    return out


def trec_id(text: str) -> str:
    """An id with no whitespace (TREC run files are split on it): spaces and tabs percent-encoded.

    Example: trec_id("my file.txt#0-10") -> "my%20file.txt#0-10"
    """
    return re.sub(r"[\s%]", lambda m: f"%{ord(m.group()):02X}", text)


def trec_lines(qid: str, docids: Sequence[str], tag: str) -> list[str]:
    """TREC run lines (qid Q0 docid rank score tag); score 1/rank, so every tool keeps our order.

    Example: trec_lines("q1", ["d7", "d2"], "rag") -> ["q1 Q0 d7 1 1 rag", "q1 Q0 d2 2 0.5 rag"]
    """
    return [f"{trec_id(qid)} Q0 {trec_id(d)} {r} {1 / r:.6g} {trec_id(tag)}" for r, d in enumerate(docids, start=1)]


def passage_id(passage: dict[str, Any]) -> str:
    """A retrieved passage's id in a run file: its source and character span.

    Example: passage_id({"source": "a.txt", "start": 0, "end": 9}) -> "a.txt#0-9"
    """
    return f"{passage['source']}#{passage['start']}-{passage['end']}"
