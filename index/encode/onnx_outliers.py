"""Outlier channels of a product's input stay fp32, the rest go int8 (the decomposition of LLM.int8()).

A few hidden channels of MiniLM carry values far above the rest: channel 99 of every feed-forward input
reaches 28 where the median channel peaks at 1.7, and one channel of the first layers' feed-forward
output reaches 14-25. int8 activations are scaled per tensor, so those channels set the step for all
384 or 1,536 of them; that, not the weights, is what kept an all-int8 encoder below cosine 0.995. Here
each affected MatMul becomes int8 over the ordinary channels plus a tiny fp32 product over the outliers.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

TOP = 4  # channels taken out of int8 per product
RATIO = 2.0  # ...and only where that at least halves the int8 step: top channel >= RATIO x the next one


def split_outliers(source: Path, target: Path, feeds: Sequence[dict[str, np.ndarray]]) -> list[str]:
    """Write `source` with its outlier channels split off; returns the fp32 products (not to be quantized).

    The channels are found by running `feeds` through `source` and taking each product input's peak
    magnitude per channel; the result computes the same function as `source` in fp32.
    """
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(source))
    weights = {t.name: t for t in model.graph.initializer}
    products = [
        n
        for n in model.graph.node
        if n.op_type == "MatMul" and n.input[1] in weights and len(weights[n.input[1]].dims) == 2
    ]
    peaks = _channel_peaks(model, [n.input[0] for n in products], feeds)
    targets = {n.output[0] for n in products}
    nodes, fp32_products = [], []
    for node in model.graph.node:
        channels = _outliers(peaks[node.input[0]]) if node.output and node.output[0] in targets else None
        if channels is None:
            nodes.append(node)
            continue
        w = numpy_helper.to_array(weights[node.input[1]])
        keep = np.ones(w.shape[0], dtype=np.float32)
        keep[channels] = 0.0
        name, x, y = node.name or node.output[0], node.input[0], node.output[0]
        model.graph.initializer.extend(
            [
                numpy_helper.from_array(keep, f"{name}/ordinary_channels"),
                numpy_helper.from_array(channels.astype(np.int64), f"{name}/outlier_channels"),
                numpy_helper.from_array(np.ascontiguousarray(w[channels]), f"{name}/outlier_rows"),
            ]
        )
        node.input[0], node.output[0] = f"{name}/ordinary", f"{name}/int8_part"
        nodes += [
            helper.make_node("Mul", [x, f"{name}/ordinary_channels"], [f"{name}/ordinary"], name=f"{name}/mask"),
            node,
            helper.make_node(
                "Gather", [x, f"{name}/outlier_channels"], [f"{name}/outliers"], axis=-1, name=f"{name}/pick"
            ),
            helper.make_node(
                "MatMul", [f"{name}/outliers", f"{name}/outlier_rows"], [f"{name}/fp32_part"], name=f"{name}/fp32"
            ),
            helper.make_node("Add", [f"{name}/int8_part", f"{name}/fp32_part"], [y], name=f"{name}/sum"),
        ]
        fp32_products.append(f"{name}/fp32")
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    onnx.save(model, str(target))
    return fp32_products


def _outliers(peak: np.ndarray | None) -> np.ndarray | None:
    """The TOP channels with the largest peaks, when they stand RATIO above the rest; else None."""
    if peak is None or peak.size <= TOP:
        return None
    order = np.argsort(-peak)
    if peak[order[0]] < RATIO * peak[order[TOP]]:
        return None
    return np.sort(order[:TOP])


def _channel_peaks(model, tensors: list[str], feeds: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Peak |value| per channel of each tensor over the feeds, read by exposing them as graph outputs."""
    import onnx
    import onnxruntime as ort

    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    probe.graph.output.extend(onnx.helper.make_tensor_value_info(t, onnx.TensorProto.FLOAT, None) for t in tensors)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(probe.SerializeToString(), options, providers=["CPUExecutionProvider"])
    names = {i.name for i in session.get_inputs()}
    peaks: dict[str, np.ndarray] = {}
    for feed in feeds:
        values = session.run(tensors, {k: v for k, v in feed.items() if k in names})
        for tensor, value in zip(tensors, values, strict=True):
            peak = np.abs(value.reshape(-1, value.shape[-1])).max(axis=0)
            peaks[tensor] = np.maximum(peaks[tensor], peak) if tensor in peaks else peak
    return peaks
