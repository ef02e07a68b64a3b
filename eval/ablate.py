"""`rag eval --ablate`: what each feature of the answer selector adds, one left out at a time.

For every feature the selector is refitted on squad-train without it (the same code as `python -m eval.train`),
then scored: on squad-train by leave-one-article-out cross-validation, and on squad-val, squad-dev and the report
by answering their questions again. Retrieval runs once per question; only the composer is rerun.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from eval.harness import SUITES, format_table, load_gold, materialize
from eval.metrics import aggregate, judge

CHECKED = ("squad-val", "squad-dev", "report")
METRICS = ("answer_accuracy", "false_abstention", "abstention_recall", "overall")


def _retrieved(suite_name: str, index_root: Path):
    """Each gold question with its retrieval done once: (row, standalone text, passages, sentence hits, qvec)."""
    from eval.harness import index_dir_for
    from index.encode.embed import SentenceTransformerEmbedder
    from rag.assistant import DEFAULT_CORPUS, Assistant, Settings, check_question

    suite = materialize(SUITES[suite_name], index_root)
    settings = Settings()
    index_dir = index_dir_for(index_root, suite, DEFAULT_CORPUS, settings)
    assistant = Assistant(suite.corpus, index_dir, settings, embedder=SentenceTransformerEmbedder(settings.index.model))
    out = []
    for row in load_gold(suite.gold):
        text = check_question(row["question"])
        passages, qvec = assistant.retriever.search(text, settings.k, settings.retrieval)
        out.append((row, text, passages, assistant.retriever.sentences(passages, qvec), qvec))
    return assistant.retriever, out


def score(retriever, questions, model: Path) -> dict:
    """The suite metrics with the selector read from `model`; retrieval is reused as it was."""
    from rag.compose import Composer, ComposerSettings

    composer = Composer(retriever, ComposerSettings(model=str(model)))
    judged = []
    for row, text, passages, hits, qvec in questions:
        composed = composer.compose(text, hits, qvec)
        answer = {
            "answer": composed.text,
            "abstained": composed.abstained,
            "citations": [c.to_json() for c in composed.citations],
            "passages": [p.to_json() for p in passages],
        }
        judged.append(judge(row, answer))
    return aggregate(judged)


def main(index_root: Path) -> int:
    from eval.train import fit, load_examples, write
    from rag.compose.selector import Selector

    shipped = Selector.load()
    ex = load_examples(SUITES["squad-train"], index_root)
    checked = {name: _retrieved(name, index_root) for name in CHECKED}
    configs = [("all features", ex.names)] + [
        (f"- {name}", tuple(n for n in ex.names if n != name)) for name in ex.names
    ]
    rows: dict[str, dict[str, dict]] = {"squad-train (cv)": {}, **{name: {} for name in CHECKED}}
    with tempfile.TemporaryDirectory() as tmp:
        for n, (label, names) in enumerate(configs):
            print(f"ablation: {label}", file=sys.stderr)
            gates = tuple(g for g in shipped.gates if g in names)  # the shipped gates, less the one left out
            kind, target = shipped.meta["cv"]["question_model"], shipped.meta["cv"]["question_target"]
            cv, models = fit(ex, names, shipped.shortlist, gates, (kind,), (target,))
            path = Path(tmp) / f"selector-{n}.json"
            write(path, names, models, {})
            rows["squad-train (cv)"][label] = cv
            for name in CHECKED:
                retriever, questions = checked[name]
                rows[name][label] = score(retriever, questions, path)
    for suite, table in rows.items():
        base = table["all features"]
        deltas = {
            label: {m: (v[m] - base[m]) if label != "all features" else v[m] for m in METRICS if v.get(m) is not None}
            for label, v in table.items()
        }
        print(f"\n{suite} (first row: the figures; below: the change when that feature is left out)")
        print(format_table(deltas, METRICS))
    return 0
