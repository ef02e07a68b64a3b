"""(question, sentence) pairs from squad-train for the cross-encoder (`python -m eval.cross_data`).

Candidates come from the project's own retrieval, so the model learns on the sentences it will be shown at
query time: the 4 closest by similarity plus any retrieved sentence holding a gold answer. A pair is positive
only when the question is answerable and the sentence holds a gold answer as whole words (eval.metrics).
The index is read, never built: a stale one is refused rather than rebuilt under another engineer's feet.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from eval.harness import SUITES, load_gold
from eval.metrics import is_correct

INDEX_DIR = Path("/work/main/index/data/squad-train-c3548ea9")
CORPUS_DIR = Path("/work/main/eval/benchmarks/squad-train/corpus")
TOP = 4  # sentences by similarity per question (besides the ones holding an answer)
K = 5  # passages retrieved, as the assistant does


def pairs(index_dir: Path = INDEX_DIR, corpus: Path = CORPUS_DIR, progress: bool = True) -> list[dict]:
    """One dict per pair: qid, article, answerable, question, sentence, similarity, label."""
    from tqdm import tqdm

    from index.embed import SentenceTransformerEmbedder
    from rag.assistant import Assistant, Settings, check_question, stale_reason

    settings = Settings()
    reason = stale_reason(corpus, index_dir, settings.index)
    if reason is not None:
        raise SystemExit(f"{index_dir}: {reason}; refusing to rebuild it")
    assistant = Assistant(corpus, index_dir, settings, embedder=SentenceTransformerEmbedder(settings.index.model))
    retriever = assistant.retriever
    out = []
    gold = load_gold(SUITES["squad-train"].gold)
    for row in tqdm(gold, desc="pairs", unit="q", disable=not progress, file=sys.stderr):
        question = check_question(row["question"])
        passages, qvec = retriever.search(question, K)
        hits = retriever.sentences(passages, qvec)
        order = sorted(range(len(hits)), key=lambda i: (-hits[i].similarity, hits[i].row))
        chosen = set(order[:TOP])
        holds = {i for i, h in enumerate(hits) if row["answerable"] and is_correct(h.text, False, row["answers"])}
        for i in sorted(chosen | holds, key=order.index):
            out.append(
                {
                    "qid": row["id"],
                    "article": row.get("article") or "",
                    "answerable": bool(row["answerable"]),
                    "question": question,
                    "sentence": hits[i].text,
                    "similarity": round(hits[i].similarity, 6),
                    "label": int(i in holds),
                }
            )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("index/data/cross_pairs.jsonl"))
    args = parser.parse_args(argv)
    rows = pairs()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    pos = sum(r["label"] for r in rows)
    print(f"{len(rows)} pairs ({pos} positive) -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
