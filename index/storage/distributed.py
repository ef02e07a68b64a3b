"""Ingest on a Ray cluster: the same build as index.build's, with its three costly steps run by Ray Data.

Files are read by a `map` over the corpus's paths, each document's sentences are split and counted by a second
`map`, and texts are embedded by `map_batches` over a pool of actors that each load the model once. What
compares documents with each other (duplicate files and sentences, packing into chunks) and the build itself
(manifest, checksums, shards, atomic switch) run on the driver, unchanged. Embedding batches are index.resumable's,
so a killed ingest continues from the batches already written. Ray is imported only here, and only when asked for.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.errors import IngestError

RAY_EXTRA = "pip install -e '.[ray]'"
LOCAL_CPUS = 2


@dataclass(frozen=True)
class RayOptions:
    """Where to run: address None reads RAY_ADDRESS, and without it starts a local Ray bound to 127.0.0.1."""

    address: str | None = None
    workers: int = 2  # embedding actors (each holds one copy of the model)


def connect(address: str | None = None):
    """The ray module, initialised: usage statistics off, no dashboard, a local instance only on loopback."""
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"  # read when ray is imported: set first
    address = address or os.environ.get("RAY_ADDRESS") or None
    if not address:
        # Ray swaps a node address of 127.0.0.1 for the machine's own IP and listens on every interface unless told
        # the cluster is this machine alone (read when ray is imported; the variable's name is Ray's own)
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
    except ImportError:
        raise IngestError(f"--ray needs Ray, an optional extra: {RAY_EXTRA}") from None
    if ray.is_initialized():
        return ray
    root = str(Path(__file__).resolve().parents[2])  # the checkout holding index/, which workers import
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    env = {"env_vars": {"PYTHONPATH": path, "HF_HUB_OFFLINE": "1", "RAY_USAGE_STATS_ENABLED": "0"}}
    if address:
        ray.init(address=address, runtime_env=env, log_to_driver=False, configure_logging=False)
    else:
        # Ray starts workers at nice 15; here they do the ingest's work, so on a busy machine they must not wait
        # behind everything else (measured: 820 s instead of about 100 s to embed squad-dev under load)
        os.environ.setdefault("RAY_worker_niceness", "0")
        ray.init(
            num_cpus=LOCAL_CPUS,
            include_dashboard=False,
            _node_ip_address="127.0.0.1",
            runtime_env=env,
            log_to_driver=False,
            configure_logging=False,
        )
    return ray


def _quiet_data(ray) -> None:
    """Ray Data's progress bars and per-operator logs off: the ingest prints its own summary."""
    import logging

    logging.getLogger("ray.data").setLevel(logging.ERROR)  # e.g. "falling back to pickled python objects"
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    ctx.verbose_stats_logs = False


@dataclass(frozen=True)
class RayRun:
    """The hooks index.build passes to its loader, chunker and resumable embedder to run them on Ray."""

    options: RayOptions

    def load(self, load_file: Callable, root: Path, files: Sequence[Path]) -> list:
        """load_file over every path as a Ray Data map; results in the paths' order."""
        ray = connect(self.options.address)
        _quiet_data(ray)
        if not files:
            return []
        rows = [{"i": i, "path": str(p)} for i, p in enumerate(files)]
        blocks = min(len(rows), 4 * self.options.workers)

        def read(row: dict) -> dict:
            return {"i": row["i"], "doc": load_file(Path(row["path"]), root)}

        found = ray.data.from_items(rows, override_num_blocks=blocks).map(read).take_all()
        return [row["doc"] for row in sorted(found, key=lambda r: r["i"])]

    def units(self, documents: Sequence, settings, model: str) -> list:
        """Each document's sentences split and counted (index.text.chunking.document_units) as a Ray Data map."""
        ray = connect(self.options.address)
        _quiet_data(ray)
        if not documents:
            return []

        def count(row: dict) -> dict:
            from index.encode.embed import wordpiece_counter
            from index.text.chunking import document_units
            from index.text.tokens import count_tokens

            return {
                "i": row["i"],
                "units": document_units(row["doc"], settings, count_tokens, wordpiece_counter(model)),
            }

        rows = [{"i": i, "doc": d} for i, d in enumerate(documents)]
        blocks = min(len(rows), 4 * self.options.workers)
        found = ray.data.from_items(rows, override_num_blocks=blocks).map(count).take_all()
        return [row["units"] for row in sorted(found, key=lambda r: r["i"])]

    def embed(self, embedder, texts: Sequence[str], batches: list[list[int]]) -> Iterator[tuple[list[int], np.ndarray]]:
        """Each batch embedded by one of a pool of actors (map_batches); yields (rows, vectors) as they finish.

        A batch is one dataset row, so the actors embed exactly the batches a local ingest would.
        """
        ray = connect(self.options.address)
        _quiet_data(ray)
        if not batches:
            return
        model = embedder.model_id
        precision = getattr(embedder, "precision", "auto")
        items = [{"rows": np.asarray(rows, dtype=np.int64), "texts": [texts[r] for r in rows]} for rows in batches]
        ds = ray.data.from_items(items, override_num_blocks=min(len(items), 8 * self.options.workers))
        out = ds.map_batches(
            _EmbedActor,
            fn_constructor_args=(model, precision),
            batch_size=1,
            compute=ray.data.ActorPoolStrategy(size=self.options.workers),
            num_cpus=1,
            batch_format="pandas",
        )
        for batch in out.iter_batches(batch_size=None, batch_format="pandas"):
            for rows, vectors in zip(batch["rows"], batch["vectors"], strict=True):
                yield [int(r) for r in rows], np.stack(vectors).astype(np.float32)


class _EmbedActor:
    """One copy of the model per actor, loaded once; each call embeds the batches it is given, one by one."""

    def __init__(self, model: str, precision: str) -> None:
        from index.encode.embed import SentenceTransformerEmbedder

        # the driver's precision ("auto" resolves to bf16 where the CPU has it): vectors as a local ingest's
        self.embedder = SentenceTransformerEmbedder(model, precision=precision if precision != "unknown" else "auto")

    def __call__(self, batch):
        import pandas as pd

        vectors = [list(self.embedder.embed(list(texts))) for texts in batch["texts"]]
        return pd.DataFrame({"rows": batch["rows"], "vectors": vectors})
