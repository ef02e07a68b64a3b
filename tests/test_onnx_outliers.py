"""The outlier split must compute the same function, and must make int8 closer to fp32 where outliers exist."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from index.encode.onnx_outliers import split_outliers  # noqa: E402

K, N = 64, 32


def _product_model(path, weight: np.ndarray) -> None:
    """x [1, S, K] @ W [K, N] -> y: the shape of a transformer's projection."""
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="proj/MatMul")],
        "product",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, "S", K])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, "S", N])],
        [numpy_helper.from_array(weight, "w")],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def _run(path, x: np.ndarray) -> np.ndarray:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]


def _activations(rng, outliers: bool) -> np.ndarray:
    x = rng.normal(0, 1, (1, 18, K)).astype(np.float32)
    if outliers:
        x[..., [5, 40]] *= 25  # two channels an order of magnitude above the rest, as in MiniLM's channel 99
    return x


@pytest.fixture
def weight():
    return np.random.default_rng(0).normal(0, 0.1, (K, N)).astype(np.float32)


def test_the_split_computes_the_same_product_in_fp32(tmp_path, weight):
    rng = np.random.default_rng(1)
    _product_model(tmp_path / "plain.onnx", weight)
    fp32_products = split_outliers(
        tmp_path / "plain.onnx", tmp_path / "split.onnx", [{"x": _activations(rng, True)} for _ in range(4)]
    )
    assert fp32_products == ["proj/MatMul/fp32"]
    x = _activations(rng, True)
    np.testing.assert_allclose(_run(tmp_path / "split.onnx", x), _run(tmp_path / "plain.onnx", x), rtol=1e-5, atol=1e-4)


def test_inputs_without_outlier_channels_are_left_alone(tmp_path, weight):
    rng = np.random.default_rng(2)
    _product_model(tmp_path / "plain.onnx", weight)
    feeds = [{"x": _activations(rng, False)} for _ in range(4)]
    assert split_outliers(tmp_path / "plain.onnx", tmp_path / "split.onnx", feeds) == []
    assert [n.op_type for n in onnx.load(str(tmp_path / "split.onnx")).graph.node] == ["MatMul"]


def test_int8_after_the_split_is_closer_to_fp32(tmp_path, weight):
    from onnxruntime.quantization import QuantType, quantize_dynamic

    rng = np.random.default_rng(3)
    _product_model(tmp_path / "plain.onnx", weight)
    fp32_products = split_outliers(
        tmp_path / "plain.onnx", tmp_path / "split.onnx", [{"x": _activations(rng, True)} for _ in range(4)]
    )
    for name, exclude in (("plain", []), ("split", fp32_products)):
        quantize_dynamic(
            str(tmp_path / f"{name}.onnx"),
            str(tmp_path / f"{name}-int8.onnx"),
            per_channel=True,
            weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul"],
            nodes_to_exclude=exclude,
        )
    x = _activations(rng, True)
    exact = _run(tmp_path / "plain.onnx", x)
    plain_error = np.abs(_run(tmp_path / "plain-int8.onnx", x) - exact).mean()
    split_error = np.abs(_run(tmp_path / "split-int8.onnx", x) - exact).mean()
    assert split_error < plain_error / 3
