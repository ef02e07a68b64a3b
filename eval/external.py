"""`rag eval --squad FILE` and `--beir DIR`: the field's datasets scored by the harness, and `--export` of runs.

A SQuAD file becomes a corpus and a gold file in the project's own format, then runs through the
harness unchanged, so its figures mean what the built-in suites' mean. A BEIR folder is scored for
retrieval only (its queries have no answers), with trec_eval's measures over the graded qrels.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from eval.formats import BeirSet, passage_id, ragas_row, read_beir, read_squad, trec_lines, write_corpus
from eval.ir_metrics import MEASURES, PREFIX, gold_measures  # noqa: F401 (the harness calls it from here)
from rag.errors import BadInput

EXPORT_FORMATS = ("ragas", "trec")
BEIR_DEPTH = 100  # passages retrieved per BEIR query: enough documents for MAP@100 and recall@100
IR_COLUMNS = tuple(PREFIX + m for m in MEASURES)


def check_exports(exports: Sequence[Sequence[str]] | None, n_configs: int) -> list[tuple[str, Path]]:
    """(format, file) pairs from `--export FORMAT FILE`, checked before any work is done."""
    out = []
    for fmt, file in exports or ():
        if fmt not in EXPORT_FORMATS:
            raise BadInput(f"--export {fmt!r}: choose one of {', '.join(EXPORT_FORMATS)}")
        out.append((fmt, Path(file)))
    if out and n_configs > 1:
        raise BadInput("--export writes one run; drop --compare or export each setting in its own run")
    return out


def _write(path: Path, lines: Sequence[str]) -> None:
    try:
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"cannot write {path}: {exc}") from None
    print(f"wrote {len(lines)} line(s) to {path}", file=sys.stderr)


def export_gold(
    exports: Sequence[tuple[str, Path]],
    gold: Mapping[str, Sequence[dict]],
    results: Sequence[dict],
    passages: Mapping[tuple[str, str, str], Sequence[dict]],
) -> None:
    """Write a gold-pair run (the harness's results and passages) as RAGAS JSON lines or a TREC run."""
    rows = {(suite, row["id"]): row for suite, suite_rows in gold.items() for row in suite_rows}
    for fmt, path in exports:
        lines = []
        for r in results:
            found = passages.get((r["suite"], r["config"], r["id"]), [])
            if fmt == "ragas":
                row = rows[(r["suite"], r["id"])]
                lines.append(json.dumps(ragas_row(row, r, [p["text"] for p in found]), ensure_ascii=False))
            else:
                lines += trec_lines(r["id"], [passage_id(p) for p in found], f"rag-{r['suite']}")
        _write(path, lines)


def main(args) -> int:
    """`--squad` and `--beir`; both write their corpus into a temporary folder unless --corpus names one."""
    from eval import harness
    from rag.assistant import DEFAULT_CORPUS

    check_exports(args.export, len(harness.configurations(args.overrides, args.compare)))  # before any work
    if args.squad and args.beir:
        raise BadInput("give --squad or --beir, not both")
    if args.beir and args.articles is not None:
        raise BadInput("--articles is for --squad; a BEIR corpus has no articles (use --max-questions)")
    if args.gold or args.suite:
        raise BadInput("--squad and --beir bring their own questions; drop --gold and --suite")
    for flag in ("articles", "max_questions"):
        value = getattr(args, flag, None)
        if value is not None and value < 1:
            raise BadInput(f"--{flag.replace('_', '-')} must be at least 1, not {value}")
    own_corpus = args.corpus.resolve() != DEFAULT_CORPUS.resolve()
    with tempfile.TemporaryDirectory(prefix="rag-eval-") as tmp:
        corpus = args.corpus if own_corpus else Path(tmp) / "corpus"
        if args.beir:
            return _beir(args, read_beir(args.beir, max_questions=args.max_questions), corpus)
        data = read_squad(args.squad, args.articles, args.max_questions)
        write_corpus(data.files, corpus)
        gold = Path(tmp) / f"{args.squad.stem}.jsonl"
        gold.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in data.gold), encoding="utf-8")
        print(
            f"{args.squad}: {len(data.files)} article(s), {len(data.gold)} question(s); "
            f"{data.repaired} answer offset(s) repaired by search, {data.unfound} answer(s) not found in their "
            f"paragraph, {data.skipped} question(s) left out for it",
            file=sys.stderr,
        )
        args.index = _index_for(args.index, args.squad.stem, corpus)
        args.gold, args.corpus, args.squad = [gold], corpus, None
        return harness.main(args)


def _index_for(base: Path, name: str, corpus: Path, settings=None) -> Path:
    """The index folder beside --index for a dataset's corpus (reused while the corpus is unchanged)."""
    from eval.harness import Suite, index_dir_for
    from rag.assistant import DEFAULT_CORPUS, Settings

    return index_dir_for(base, Suite(name, corpus, corpus), DEFAULT_CORPUS, settings or Settings())


def beir_run(assistant, data: BeirSet, depth: int = BEIR_DEPTH) -> tuple[dict[str, list[str]], list[dict]]:
    """Each query's documents, best first (a document ranks where its best passage does), and its passages."""
    from rag.assistant import check_question

    run, found = {}, []
    for qid, text in data.queries:
        passages, _ = assistant.retriever.search(check_question(text), depth, assistant.settings.retrieval)
        docs = list(dict.fromkeys(data.doc_of_file.get(p.chunk.source, p.chunk.source) for p in passages))
        run[qid] = docs
        found.append({"id": qid, "question": text, "passages": [p.chunk.text for p in passages], "docs": docs})
    return run, found


def _beir(args, data: BeirSet, corpus: Path) -> int:
    from eval.harness import configurations, format_table
    from eval.ir_metrics import measure
    from index.encode.embed import SentenceTransformerEmbedder
    from rag.assistant import Assistant

    configs = configurations(args.overrides, args.compare)
    exports = check_exports(args.export, len(configs))
    write_corpus(data.files, corpus)
    name = f"beir-{args.beir.resolve().name}"
    print(f"{args.beir}: {len(data.files)} document(s), {len(data.queries)} judged queries", file=sys.stderr)
    table: dict[str, dict[str, Any]] = {}
    embedders: dict[str, SentenceTransformerEmbedder] = {}
    for label, settings in configs:
        embedder = embedders.setdefault(settings.index.model, SentenceTransformerEmbedder(settings.index.model))
        assistant = Assistant(corpus, _index_for(args.index, name, corpus, settings), settings, embedder=embedder)
        run, found = beir_run(assistant, data)
        table[label] = {"questions": len(data.queries), **measure(data.qrels, run)}
    print(f"\n{name}")
    print(format_table(table, IR_COLUMNS))
    texts = {data.doc_of_file[f.name]: f.text for f in data.files}
    for fmt, path in exports:
        if fmt == "trec":
            _write(path, [line for r in found for line in trec_lines(r["id"], r["docs"], "rag")])
        else:
            rows = []
            for r in found:
                evidence = [texts[d].strip() for d, g in data.qrels[r["id"]].items() if g > 0]
                rows.append(ragas_row({"question": r["question"], "evidence": evidence}, None, r["passages"]))
            _write(path, [json.dumps(row, ensure_ascii=False) for row in rows])
    return 0
