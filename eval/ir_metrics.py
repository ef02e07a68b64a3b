"""The field's standard retrieval measures (nDCG@10, MAP@100, recall@k, MRR@10), computed by trec_eval itself.

pytrec_eval-terrier wraps trec_eval's C code (the reference BEIR's published figures come from) in one
wheel needing only numpy and scipy; it runs offline. These sit beside the DESIGN.md metrics, never
replacing them. A query the run leaves empty scores 0, and is counted (trec_eval would drop it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from eval.metrics import hits_any

RECALL_KS = (1, 3, 5, 10, 100)
MEASURES = ("ndcg@10", "map@100", *(f"recall@{k}" for k in RECALL_KS), "mrr@10")
PREFIX = "ir_"  # beside the DESIGN.md names: "ir_recall@5" is trec_eval's, "recall@5" is DESIGN.md's
EVIDENCE = "evidence"  # the one relevant item of a gold pair: any passage holding its evidence


def measure(qrels: Mapping[str, Mapping[str, int]], run: Mapping[str, Sequence[str]]) -> dict[str, float | None]:
    """Mean of each measure over the judged queries; `run` lists each query's doc ids best first.

    Grades above 0 are relevant; nDCG uses the grade as gain. Example: qrels {"q": {"d2": 1}},
    run {"q": ["d1", "d2"]} -> ndcg@10 = 1/log2(3) = 0.631, map@100 = 0.5, recall@1 = 0, recall@3 = 1,
    mrr@10 = 0.5. No judged query with a relevant doc -> every measure None.
    """
    import pytrec_eval

    judged = {q: {d: int(g) for d, g in docs.items()} for q, docs in qrels.items() if any(g > 0 for g in docs.values())}
    if not judged:
        return {f"{PREFIX}{m}": None for m in MEASURES}
    ranked = {q: _scores(run.get(q, ())) for q in judged}
    cut10 = {q: _scores(list(run.get(q, ()))[:10]) for q in judged}  # trec_eval's recip_rank has no cut-off
    recall = "recall." + ",".join(map(str, RECALL_KS))
    full = pytrec_eval.RelevanceEvaluator(judged, {"ndcg_cut.10", "map_cut.100", recall}).evaluate(
        {q: r for q, r in ranked.items() if r}
    )
    top = pytrec_eval.RelevanceEvaluator(judged, {"recip_rank"}).evaluate({q: r for q, r in cut10.items() if r})
    names = {"ndcg@10": "ndcg_cut_10", "map@100": "map_cut_100", **{f"recall@{k}": f"recall_{k}" for k in RECALL_KS}}
    out: dict[str, float | None] = {}
    for ours, theirs in names.items():
        out[f"{PREFIX}{ours}"] = sum(full.get(q, {}).get(theirs, 0.0) for q in judged) / len(judged)
    out[f"{PREFIX}mrr@10"] = sum(top.get(q, {}).get("recip_rank", 0.0) for q in judged) / len(judged)
    return out


def _scores(docids: Sequence[str]) -> dict[str, float]:
    """Scores that make trec_eval keep this order (it sorts by score, ties by doc id): 1/rank, first kept.

    Example: _scores(["b", "a", "b"]) -> {"b": 1.0, "a": 0.5}
    """
    out: dict[str, float] = {}
    for rank, d in enumerate(docids, start=1):
        out.setdefault(d, 1.0 / rank)
    return out


def gold_run(rows: Sequence[Mapping[str, Any]], answers: Sequence[Mapping[str, Any]]):
    """Qrels and run for DESIGN.md gold pairs: each answerable question has one relevant item, its evidence,
    and a passage holding the evidence (the DESIGN.md hit) is that item; other passages are misses.

    Example: evidence ["E"], passages ["x", "E", "E"] -> run ["p1", "evidence", "evidence"]; recall@k, MRR@10
    then equal DESIGN.md's, nDCG@10 = 1/log2(1 + first hit rank), MAP@100 = 1/first hit rank.
    """
    qrels, run = {}, {}
    for row, answer in zip(rows, answers, strict=True):
        if not row.get("answerable", True) or not row.get("evidence"):
            continue
        qrels[row["id"]] = {EVIDENCE: 1}
        run[row["id"]] = [
            EVIDENCE if hits_any(p["text"], row["evidence"]) else f"p{rank}"
            for rank, p in enumerate(answer.get("passages", []), start=1)
        ]
    return qrels, run


def gold_measures(rows: Sequence[Mapping[str, Any]], answers: Sequence[Mapping[str, Any]]) -> dict[str, float | None]:
    """The standard measures of a gold-pair suite's answers (see gold_run)."""
    return measure(*gold_run(rows, answers))
