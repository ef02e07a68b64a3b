"""The learned selector, read from plain JSON: a logistic model that scores each candidate span, and a second one
that says whether the documents answer the question at all. Fitted by `python -m eval.train` on squad-train.

Inference is a few dot products in numpy, so the query path never imports the training library.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DEFAULT_MODEL = Path(__file__).with_name("selector.json")
FORMAT = 1
# What the question-level model sees: the best candidate's score and what stands beside it.
QUESTION_FEATURES = (
    "best_logit",
    "margin",
    "candidates_above_0",
    "best_similarity",
    "best_coverage",
    "missing_names",
    "question_terms",
    "kind_person",
    "kind_number",
    "kind_date",
    "kind_place",
    "kind_other",
    "best_lacks",
    "best_differs",
    "best_missing_idf",
)
KINDS = ("person", "number", "date", "place")
# Sentence-level evidence the question model reads from the best span itself, not only through its logit: the
# span lacks what was asked for (no date for "when"), or says something other than what was asked. The same two
# groups are the gates of features.GATES (a failing value rules a span out).
LACKS = ("answer_type", "counted", "expansion", "institution", "title_given", "money", "year", "lists", "negation")
DIFFERS = ("other_office", "contradicts", "denies", "relative_swapped", "other_owner", "reversed_roles")


@dataclass(frozen=True)
class Linear:
    """Standardise, then a logistic regression: logit = ((x - mean) / scale) . coef + intercept."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    @classmethod
    def from_json(cls, data: dict) -> Linear:
        return cls(
            np.asarray(data["mean"], dtype=np.float64),
            np.asarray(data["scale"], dtype=np.float64),
            np.asarray(data["coef"], dtype=np.float64),
            float(data["intercept"]),
        )

    def to_json(self) -> dict:
        return {
            "mean": [round(float(v), 10) for v in self.mean],
            "scale": [round(float(v), 10) for v in self.scale],
            "coef": [round(float(v), 10) for v in self.coef],
            "intercept": round(float(self.intercept), 10),
        }

    def logits(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.scale) @ self.coef + self.intercept

    def contributions(self, row: np.ndarray) -> np.ndarray:
        """Each feature's share of one row's logit: which one pulled a candidate down."""
        return (row - self.mean) / self.scale * self.coef


@dataclass(frozen=True)
class Trees:
    """Gradient-boosted trees as plain arrays (from scikit-learn's HistGradientBoostingClassifier): the logit is the
    baseline plus each tree's leaf value. Used where interactions matter and rows are few (one per question)."""

    baseline: float
    trees: tuple[tuple[np.ndarray, ...], ...]  # per tree: feature, threshold, left, right, is_leaf, value, nan_left

    @classmethod
    def from_json(cls, data: dict) -> Trees:
        trees = []
        for t in data["trees"]:
            trees.append(
                (
                    np.asarray(t["feature"], dtype=np.int64),
                    np.asarray(t["threshold"], dtype=np.float64),
                    np.asarray(t["left"], dtype=np.int64),
                    np.asarray(t["right"], dtype=np.int64),
                    np.asarray(t["leaf"], dtype=bool),
                    np.asarray(t["value"], dtype=np.float64),
                    np.asarray(t["nan_left"], dtype=bool),
                )
            )
        return cls(float(data["baseline"]), tuple(trees))

    def to_json(self) -> dict:
        keys = ("feature", "threshold", "left", "right", "leaf", "value", "nan_left")
        out = []
        for tree in self.trees:
            t = {}
            for key, arr in zip(keys, tree, strict=True):
                t[key] = [round(float(v), 10) for v in arr] if arr.dtype.kind == "f" else [int(v) for v in arr]
            out.append(t)
        return {"kind": "trees", "baseline": round(self.baseline, 10), "trees": out}

    def logits(self, x: np.ndarray) -> np.ndarray:
        out = np.full(len(x), self.baseline)
        for i, row in enumerate(np.asarray(x, dtype=np.float64)):
            total = 0.0
            for feature, threshold, left, right, leaf, value, nan_left in self.trees:
                node = 0
                while not leaf[node]:
                    v = row[feature[node]]
                    go_left = nan_left[node] if v != v else v <= threshold[node]
                    node = left[node] if go_left else right[node]
                total += value[node]
            out[i] += total
        return out


def model_from_json(data: dict) -> Linear | Trees:
    return Trees.from_json(data) if data.get("kind") == "trees" else Linear.from_json(data)


@dataclass(frozen=True)
class Selector:
    """The two fitted models, the features they read (by name), and the abstention threshold chosen on squad-train."""

    features: tuple[str, ...]
    candidate: Linear
    answerable: Linear | Trees
    threshold: float
    meta: dict
    gates: tuple[str, ...] = ()  # features whose failing value rules a span out (chosen by CV in eval.train)
    shortlist: int = 12  # spans whose costly features are computed

    @classmethod
    def load(cls, path: Path = DEFAULT_MODEL) -> Selector:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(
                f"{path}: selector format {data.get('format')!r}, expected {FORMAT}; run python -m eval.train"
            )
        if tuple(data["question_features"]) != QUESTION_FEATURES:
            raise ValueError(f"{path}: question features differ from this code's; run python -m eval.train")
        return cls(
            tuple(data["features"]),
            Linear.from_json(data["candidate"]),
            model_from_json(data["answerable"]),
            float(data["threshold"]),
            {k: v for k, v in data.items() if k not in ("candidate", "answerable", "gates", "shortlist")},
            tuple(data.get("gates", ())),
            int(data.get("shortlist", 12)),
        )

    def to_json(self) -> dict:
        return {
            **self.meta,
            "format": FORMAT,
            "features": list(self.features),
            "question_features": list(QUESTION_FEATURES),
            "candidate": self.candidate.to_json(),
            "answerable": self.answerable.to_json(),
            "threshold": round(self.threshold, 6),
            "gates": list(self.gates),
            "shortlist": self.shortlist,
        }


def question_row(
    logits: np.ndarray,
    rows: np.ndarray,
    features: tuple[str, ...],
    kind: str,
    missing: int,
    n_terms: int,
    single_span: bool = True,
) -> np.ndarray:
    """The question-level features, from the candidates' logits and feature rows (best first by logit).

    `single_span=False` (open questions, answered by several sentences): whether the best span alone holds what a
    factoid asks for is not read."""
    order = np.argsort(-logits, kind="stable")
    best = int(order[0])
    second = float(logits[order[1]]) if len(order) > 1 else float(logits[best]) - 5.0
    col = {name: j for j, name in enumerate(features)}
    lacks = [col[n] for n in LACKS if n in col]
    differs = [col[n] for n in DIFFERS if n in col]
    lacking = (rows[:, lacks] < -0.5).any(axis=1) if lacks else np.zeros(len(rows), dtype=bool)
    values = {
        "best_logit": float(logits[best]),
        "margin": float(logits[best]) - second,
        "candidates_above_0": math.log1p(int((logits > 0).sum())),
        "best_similarity": float(rows[best, col["similarity"]]) if "similarity" in col else 0.0,
        "best_coverage": float(rows[best, col["coverage"]]) if "coverage" in col else 0.0,
        "missing_names": float(missing > 0),
        "question_terms": math.log1p(n_terms),
        **{f"kind_{k}": float(kind == k) for k in KINDS},
        "kind_other": float(kind not in KINDS),
        "best_lacks": float(single_span and lacking[best]),
        "best_differs": float(single_span and bool(differs) and (rows[best, differs] > 0.5).any()),
        # 1 when a question term the corpus never uses is missing: a question about something no document covers
        "best_missing_idf": float(rows[best, col["max_missing_idf"]]) if "max_missing_idf" in col else 0.0,
    }
    return np.asarray([values[name] for name in QUESTION_FEATURES], dtype=np.float64)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, x))))
