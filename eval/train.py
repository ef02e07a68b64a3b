"""Fit the answer selector on squad-train: `python -m eval.train` (or `rag train`).

Deterministic: the same index, gold and code give the same JSON. Two logistic regressions (scikit-learn):
one rates each candidate span (positive: it holds a gold answer and its evidence; every span of an unanswerable
question is negative), one rates the question (would the best span's answer be right). The abstention threshold
is chosen by cross-validation grouped by article on squad-train alone; squad-val is only measured, afterwards.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eval.harness import SUITES, Suite, load_gold
from eval.metrics import hits_any, is_correct
from rag.compose.selector import QUESTION_FEATURES

MAX_FALSE_ABSTENTION = 0.07  # the product's limit (0.08) with a margin: the threshold may not refuse more than this
# Spans given the costly checks, the best by the cheap features: leave-one-article-out overall 0.487 / 0.496 / 0.481
# with 3 / 5 / 12 (the checks also judge fewer near-misses), and compose time falls with it.
SHORTLIST = 5
GATE_COST = 0.005  # of cross-validated overall a gate may cost when it raises abstention recall
# Pairs positive only when no single sentence of them answers: measured leave-one-article-out, answer accuracy
# 0.745 -> 0.705 and overall 0.421 -> 0.406 (a pair holds the answer more often), so spans keep plain labels.
MINIMAL_LABELS = False
EXAMPLES_VERSION = 2  # bump when examples() records something new (2: each span's sentence rows)
FOLDS = 11  # squad-train has 11 articles: leave one article out
C = 1.0  # inverse regularisation; 0.1-10 measured within 0.005 of each other in CV


@dataclass(frozen=True)
class Examples:
    """Candidate feature rows with labels, and per-question facts, for one suite."""

    rows: np.ndarray  # (spans, features)
    label: np.ndarray  # span holds a gold answer and its evidence
    correct: np.ndarray  # span holds a gold answer (what answer accuracy counts)
    question: np.ndarray  # index of each span's question
    group: np.ndarray  # per question: article id
    answerable: np.ndarray  # per question
    kind: np.ndarray  # per question: answer kind
    missing: np.ndarray  # per question: names the documents never mention
    n_terms: np.ndarray  # per question
    names: tuple[str, ...]
    first: np.ndarray | None = None  # per span: its first and last sentence rows (to find the sentences of a pair)
    last: np.ndarray | None = None

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {
            k: getattr(self, k) for k in self.__dataclass_fields__ if k != "names" and getattr(self, k) is not None
        }
        np.savez_compressed(path, names=np.asarray(self.names), **arrays)

    @classmethod
    def load(cls, path: Path) -> Examples:
        with np.load(path, allow_pickle=False) as data:
            return cls(**{k: data[k] for k in data.files if k != "names"}, names=tuple(data["names"].tolist()))


def suite_hash(suite: Suite) -> str:
    """sha256 over the gold file and every corpus file: the training set's identity, stored beside the model."""
    h = hashlib.sha256(suite.gold.read_bytes())
    for path in sorted(suite.corpus.rglob("*")):
        if path.is_file():
            h.update(path.name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def examples(suite: Suite, index_root: Path, progress: bool = True, articles: frozenset[str] | None = None) -> Examples:
    """Run retrieval over every gold question (of `articles` when given) and compute every feature of every span."""
    from tqdm import tqdm

    from eval.harness import index_dir_for
    from index.encode.embed import SentenceTransformerEmbedder
    from rag.assistant import Assistant, Settings, check_question
    from rag.compose import features
    from rag.compose.quote import quote, with_speaker

    settings = Settings()
    index_dir = index_dir_for(index_root, suite, suite.corpus.parent / "__none__", settings)
    assistant = Assistant(suite.corpus, index_dir, settings, embedder=SentenceTransformerEmbedder(settings.index.model))
    retriever, composer = assistant.retriever, assistant.composer
    gold = [row for row in load_gold(suite.gold) if articles is None or row.get("article") in articles]
    groups: dict[str, int] = {}
    rows, label, correct, qidx, first, last = [], [], [], [], [], []
    group, answerable, kind, missing, n_terms = [], [], [], [], []
    for i, row in enumerate(tqdm(gold, desc="features", unit="q", disable=not progress, file=sys.stderr)):
        text = check_question(row["question"])
        passages, qvec = retriever.search(text, settings.k, settings.retrieval)
        ex = composer.examine(text, retriever.sentences(passages, qvec), qvec)
        group.append(groups.setdefault(row.get("article") or "", len(groups)))
        answerable.append(bool(row["answerable"]))
        kind.append(ex.question.kind)
        missing.append(len(ex.missing))
        n_terms.append(len(ex.question.terms))
        for span, feats in zip(ex.spans, ex.rows, strict=True):
            quoted, _ = quote(with_speaker(retriever, span, qvec))
            right = bool(row["answerable"]) and is_correct(quoted, False, row["answers"])
            rows.append(feats)
            correct.append(right)
            label.append(right and hits_any(quoted, row["evidence"]))
            qidx.append(i)
            first.append(span.hits[0].row)
            last.append(span.hits[-1].row)
    return Examples(
        np.asarray(rows, dtype=np.float64).reshape(-1, len(features.NAMES)),
        np.asarray(label, dtype=bool),
        np.asarray(correct, dtype=bool),
        np.asarray(qidx, dtype=np.int64),
        np.asarray(group, dtype=np.int64),
        np.asarray(answerable, dtype=bool),
        np.asarray(kind),
        np.asarray(missing, dtype=np.int64),
        np.asarray(n_terms, dtype=np.int64),
        features.NAMES,
        np.asarray(first, dtype=np.int64),
        np.asarray(last, dtype=np.int64),
    )


def minimal(ex: Examples) -> np.ndarray:
    """Span labels where a pair counts only when neither of its sentences alone holds the answer and its evidence:
    the selector learns to quote one sentence when one is enough (citation precision), two only when needed."""
    if ex.first is None:
        return ex.label
    single = ex.first == ex.last
    positive_singles = set(
        zip(ex.question[ex.label & single].tolist(), ex.first[ex.label & single].tolist(), strict=True)
    )
    out = ex.label.copy()
    for i in np.flatnonzero(ex.label & ~single):
        q = int(ex.question[i])
        if (q, int(ex.first[i])) in positive_singles or (q, int(ex.last[i])) in positive_singles:
            out[i] = False
    return out


def fit_linear(x: np.ndarray, y: np.ndarray):
    """A standardised logistic regression as the plain record the query path reads."""
    from sklearn.linear_model import LogisticRegression

    from rag.compose.selector import Linear

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = LogisticRegression(C=C, max_iter=5000)
    if y.all() or not y.any():  # one class only (a tiny fold): a constant model
        return Linear(mean, scale, np.zeros(x.shape[1]), 10.0 if y.all() else -10.0)
    model.fit((x - mean) / scale, y)
    return Linear(mean, scale, model.coef_[0].copy(), float(model.intercept_[0]))


def fit_trees(x: np.ndarray, y: np.ndarray):
    """Gradient-boosted trees (scikit-learn, fixed seed) as the plain record the query path reads."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from rag.compose.selector import Trees

    model = HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1, max_leaf_nodes=15, random_state=0)
    model.fit(x, y)
    trees = []
    for (predictor,) in model._predictors:
        nodes = predictor.nodes
        trees.append(
            (
                nodes["feature_idx"].astype(np.int64),
                nodes["num_threshold"].astype(np.float64),
                nodes["left"].astype(np.int64),
                nodes["right"].astype(np.int64),
                nodes["is_leaf"].astype(bool),
                nodes["value"].astype(np.float64),
                nodes["missing_go_to_left"].astype(bool),
            )
        )
    return Trees(float(np.ravel(model._baseline_prediction)[0]), tuple(trees))


QUESTION_MODELS = {"logistic": fit_linear, "trees": fit_trees}


def _starts(question: np.ndarray, n: int) -> np.ndarray:
    return np.searchsorted(question, np.arange(n + 1))


def decide(ex: Examples, cols: list[int], candidate, shortlist: int, gates=(), which=None):
    """Per question, as the composer does (composer.pick): the best span's index (-1: every shortlisted span failed
    a gate, so the composer abstains) and the question row."""
    from rag.compose.composer import pick
    from rag.compose.features import REGISTRY
    from rag.compose.selector import Selector, question_row

    names = tuple(ex.names[c] for c in cols)
    cheap = np.asarray([REGISTRY[n].cheap for n in names])
    model = Selector(names, candidate, candidate, 0.0, {}, tuple(gates))  # only the span model and gates are read
    n = len(ex.group)
    starts = _starts(ex.question, n)
    best, qrows = np.full(n, -1), np.zeros((n, len(QUESTION_FEATURES)))
    for i in range(n) if which is None else np.flatnonzero(which):
        a, b = starts[i], starts[i + 1]
        if a == b:
            continue
        full = ex.rows[a:b][:, cols]
        rows = np.where(cheap, full, 0.0)  # as answering sees them before the costly features are computed

        def fill(idx, rows=rows, full=full):
            rows[idx] = full[idx]

        short, _ = pick(model, rows, shortlist, fill)
        if not short:
            continue
        logits = candidate.logits(full[short])
        best[i] = a + short[int(np.argmax(logits))]
        qrows[i] = question_row(logits, full[short], names, str(ex.kind[i]), int(ex.missing[i]), int(ex.n_terms[i]))
    return best, qrows


def outcomes(ex: Examples, best: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    """The suite metrics this choice of answers and abstentions would score (from the span labels)."""
    answered = (best >= 0) & (p >= threshold)
    ans, unans = ex.answerable, ~ex.answerable
    grounded = answered & ans & np.where(best >= 0, ex.label[np.maximum(best, 0)], False)
    right = answered & ans & np.where(best >= 0, ex.correct[np.maximum(best, 0)], False)
    return {
        "answer_accuracy": float(right[ans].mean()),
        "grounded_accuracy": float(grounded[ans].mean()),
        "false_abstention": float((~answered)[ans].mean()),
        "abstention_recall": float((~answered)[unans].mean()) if unans.any() else float("nan"),
        "overall": float((grounded.sum() + (~answered)[unans].sum()) / len(ans)),
    }


def choose_threshold(ex: Examples, best: np.ndarray, p: np.ndarray) -> tuple[float, dict[str, float]]:
    """The threshold with the best overall whose false abstention stays within MAX_FALSE_ABSTENTION."""
    chosen, score = 0.0, None
    for t in np.round(np.arange(0.02, 0.98, 0.01), 2):
        m = outcomes(ex, best, p, float(t))
        if m["false_abstention"] <= MAX_FALSE_ABSTENTION and (score is None or m["overall"] > score["overall"]):
            chosen, score = float(t), m
    return chosen, score or outcomes(ex, best, p, 0.0)


def fit(
    ex: Examples,
    names: tuple[str, ...],
    shortlist: int = 12,
    gates: tuple[str, ...] | None = None,
    question_models: tuple[str, ...] = tuple(QUESTION_MODELS),
    targets_tried: tuple[str, ...] = ("answerable", "best_is_right"),
):
    """Cross-validated figures (leave one article out) and the final models fitted on all of `ex`.

    Gates (a span that fails one, such as no date for "when", is never quoted) are chosen here when not given:
    each kept only if it raises cross-validated overall within the false-abstention limit.
    """
    from rag.compose.features import GATES

    cols = [ex.names.index(n) for n in names]
    x = ex.rows[:, cols]
    labels = minimal(ex) if MINIMAL_LABELS else ex.label
    span_group = ex.group[ex.question]
    folds = np.unique(ex.group)
    fold_models = {g: fit_linear(x[span_group != g], labels[span_group != g]) for g in folds}

    def evaluate(chosen_gates, models):
        n = len(ex.group)
        oof_best, oof_q = np.full(n, -1), np.zeros((n, len(QUESTION_FEATURES)))
        for g in folds:
            test = ex.group == g
            best, qrows = decide(ex, cols, fold_models[g], shortlist, chosen_gates, test)
            oof_best[test], oof_q[test] = best[test], qrows[test]
        # The second stage, again out of fold, on the first stage's out-of-fold outputs. Two targets are tried,
        # "the documents answer" and "the best span's answer is right"; cross-validated overall picks one.
        has_best = oof_best >= 0
        targets = {
            "answerable": ex.answerable.copy(),
            "best_is_right": ex.answerable & has_best & ex.correct[np.maximum(oof_best, 0)],
        }
        targets = {k: v for k, v in targets.items() if k in targets_tried}
        top = None
        for (target, y), (kind, fitter) in itertools.product(targets.items(), models.items()):
            oof_p = np.zeros(n)
            for g in folds:
                tr, te = (ex.group != g) & has_best, ex.group == g
                qmodel = fitter(oof_q[tr], y[tr])
                oof_p[te] = 1 / (1 + np.exp(-qmodel.logits(oof_q[te])))
            threshold, cv = choose_threshold(ex, oof_best, oof_p)
            if top is None or cv["overall"] > top[1]["overall"] + 0.005:  # a later model only if clearly better
                top = (threshold, cv, target, kind)
        threshold, cv, target, kind = top
        cv = {**cv, "top1_correct_when_answerable": float(ex.correct[oof_best[has_best & ex.answerable]].mean())}
        return threshold, cv, target, kind

    if gates is None:
        gates = ()
        base = evaluate(gates, {"logistic": fit_linear})[1]
        for gate in (g for g in GATES if g in names):
            trial = evaluate((*gates, gate), {"logistic": fit_linear})[1]
            # A gate that refuses more of the unanswerable questions is kept unless it costs more than GATE_COST of
            # overall: a wrong answer costs a user more than a refusal, so abstaining wins a near tie.
            keep = (
                trial["overall"] >= base["overall"] - GATE_COST
                and trial["abstention_recall"] > base["abstention_recall"]
                and trial["false_abstention"] <= MAX_FALSE_ABSTENTION
            )
            print(
                f"gate {gate}: overall {base['overall']:.3f} -> {trial['overall']:.3f}, kept: {keep}", file=sys.stderr
            )
            if keep:
                gates, base = (*gates, gate), trial
    threshold, cv, target, kind = evaluate(gates, {k: QUESTION_MODELS[k] for k in question_models})
    cv = {**cv, "question_target": target, "question_model": kind, "gates": list(gates)}
    cand = fit_linear(x, labels)
    best, qrows = decide(ex, cols, cand, shortlist, gates)
    in_sample = {
        "answerable": ex.answerable,
        "best_is_right": ex.answerable & (best >= 0) & ex.correct[np.maximum(best, 0)],
    }
    has = best >= 0
    qmodel = QUESTION_MODELS[kind](qrows[has], in_sample[target][has])
    models = {"candidate": cand, "answerable": qmodel, "threshold": threshold, "gates": gates, "shortlist": shortlist}
    return cv, models


def write(path: Path, names: tuple[str, ...], models: dict, meta: dict) -> None:
    from rag.compose.selector import Selector

    selector = Selector(
        names,
        models["candidate"],
        models["answerable"],
        models["threshold"],
        meta,
        tuple(models.get("gates", ())),
        models.get("shortlist", 12),
    )
    path.write_text(json.dumps(selector.to_json(), indent=1) + "\n", encoding="utf-8")


def cache_path(index_root: Path, suite: Suite) -> Path:
    from rag import question, retrieve
    from rag.compose import candidates, checks, features

    # retrieve too: which sentences are candidates, and their ranks, are features' input
    code = b"".join(Path(m.__file__).read_bytes() for m in (candidates, checks, features, question, retrieve))
    key = hashlib.sha256(f"{suite_hash(suite)}{EXAMPLES_VERSION}".encode() + code).hexdigest()[:12]
    return index_root.parent / f"selector-examples-{suite.name}-{key}.npz"


def load_examples(suite: Suite, index_root: Path, progress: bool = True) -> Examples:
    """The suite's examples, from the cache when features, gold and corpus are unchanged."""
    path = cache_path(index_root, suite)
    if path.exists():
        return Examples.load(path)
    ex = examples(suite, index_root, progress)
    ex.save(path)
    return ex


def validate(model: Path, index_root: Path) -> dict[str, float]:
    """squad-val's figures with the selector just written (only measured: nothing is chosen from them)."""
    from eval.harness import index_dir_for, run_suite
    from eval.metrics import aggregate
    from index.encode.embed import SentenceTransformerEmbedder
    from rag.assistant import DEFAULT_CORPUS, Assistant, Settings
    from rag.compose import ComposerSettings
    from rag.compose.composer import _load

    _load.cache_clear()
    suite = SUITES["squad-val"]
    settings = Settings(composer=ComposerSettings(model=str(model)))
    index_dir = index_dir_for(index_root, suite, DEFAULT_CORPUS, settings)
    assistant = Assistant(suite.corpus, index_dir, settings, embedder=SentenceTransformerEmbedder(settings.index.model))
    _, judged = run_suite(assistant, load_gold(suite.gold), progress=False)
    figures = aggregate(judged)
    keep = ("answer_accuracy", "grounded_accuracy", "false_abstention", "abstention_recall", "overall")
    return {k: round(float(figures[k]), 4) for k in keep}


def main(argv: list[str] | None = None) -> int:
    from rag.assistant import DEFAULT_INDEX
    from rag.compose.selector import DEFAULT_MODEL

    p = argparse.ArgumentParser(prog="python -m eval.train", description=__doc__.splitlines()[0])
    p.add_argument("--index", type=Path, default=DEFAULT_INDEX, help="index root (suites get folders beside it)")
    p.add_argument("--out", type=Path, default=DEFAULT_MODEL, help="where to write the selector JSON")
    p.add_argument("--drop", action="append", default=[], help="leave a feature out (for ablation)")
    p.add_argument("--shortlist", type=int, default=0, help=f"spans given the costly features (default: {SHORTLIST})")
    p.add_argument("--no-val", action="store_true", help="do not measure squad-val after fitting")
    args = p.parse_args(argv)
    started = time.perf_counter()
    suite = SUITES["squad-train"]
    ex = load_examples(suite, args.index)
    names = tuple(n for n in ex.names if n not in args.drop)
    shortlist = args.shortlist or SHORTLIST
    cv, models = fit(ex, names, shortlist)
    meta = {
        "trained_on": {
            "suite": suite.name,
            "sha256": suite_hash(suite),
            "questions": int(len(ex.group)),
            "candidates": int(len(ex.label)),
            "positives": int(ex.label.sum()),
        },
        "cv": {k: round(v, 4) if isinstance(v, float) else v for k, v in cv.items()},
        "max_false_abstention": MAX_FALSE_ABSTENTION,
    }
    write(args.out, names, models, meta)
    print(f"squad-train, leave-one-article-out: {json.dumps(meta['cv'])}", file=sys.stderr)
    if not args.no_val:  # measured after fitting, never fitted on: the figures a test checks the file against
        meta["val"] = validate(args.out, args.index)
        write(args.out, names, models, meta)
        print(f"squad-val (held out): {json.dumps(meta['val'])}", file=sys.stderr)
    print(
        f"threshold {models['threshold']:.2f}; wrote {args.out} in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
