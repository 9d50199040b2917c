"""ACAS Xu from ONNX, and the affine operators and re-indexings around it (exactmaso.io.onnx_io).

The ACAS Xu networks (VNN-COMP, ../shared/acasxu beside the repository) are checked against a
forward pass written here from their raw initializers, in float64 and in exact Fractions.
Small graphs made with onnx.helper cover each operator; they are checked against onnx's own
reference evaluator in float64, with dyadic weights and inputs small enough that float64
computes them exactly, so exact and float outputs compare with ``==``.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from onnx.reference import ReferenceEvaluator  # noqa: E402

import exactmaso as em  # noqa: E402
from exactmaso.errors import ModelFileError, UnsupportedLayerError  # noqa: E402

try:
    from acas_reference import acas_parameters, acas_path, forward_exact, forward_float64
except ImportError:  # pragma: no cover - run from the repository root as a package
    from tests.acas_reference import acas_parameters, acas_path, forward_exact, forward_float64  # type: ignore[no-redef]

ACAS_NETS = ["1_1", "2_7", "5_9"]


@pytest.mark.parametrize("name", ACAS_NETS)
def test_acas_network_structure(name):
    path = acas_path(name)
    net = em.from_onnx(path)
    assert net.input_shape == (1, 1, 5)  # the graph input [1, 1, 1, 5] after its batch axis
    assert net.input_dim == 5 and net.output_dim == 5
    assert [(m.num_units, m.num_pieces) for m in net.masos] == [(50, 2)] * 6 + [(5, 1)]
    assert em.load(path) == net


@pytest.mark.parametrize("name", ACAS_NETS)
def test_acas_matches_float64_forward_from_initializers(name):
    path = acas_path(name)
    net = em.from_onnx(path)
    mean, layers = acas_parameters(path)
    rng = np.random.default_rng(8)
    X = rng.uniform(-0.5, 0.5, size=(20, 5))
    exact = net(X)  # the float64 points taken exactly
    for x, y in zip(X, exact):
        assert [float(v) for v in y] == pytest.approx(forward_float64(mean, layers, x), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("name", ACAS_NETS)
def test_acas_matches_exact_forward_from_initializers(name):
    path = acas_path(name)
    net = em.from_onnx(path)
    mean, layers = acas_parameters(path)
    rng = np.random.default_rng(9)
    for _ in range(3):
        x = [Fraction(int(v), 1000) for v in rng.integers(-500, 501, size=5)]
        assert net(x).tolist() == forward_exact(mean, layers, x)


# ---------------------------------------------------------------------------------------
# small graphs, checked against onnx's reference evaluator
# ---------------------------------------------------------------------------------------


def dyadic(rng: np.random.Generator, shape, eighths: int = 8) -> np.ndarray:
    """float64 multiples of 1/8 in [-eighths/8, eighths/8]: float64 arithmetic on them is exact."""
    return rng.integers(-eighths, eighths + 1, size=shape) / 8.0


def make_model(nodes, inits, in_shape, *, elem=TensorProto.DOUBLE, opset=13, ir=None, inits_as_inputs=False):
    inputs = [helper.make_tensor_value_info("x", elem, in_shape)]
    initializers = [numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()]
    if inits_as_inputs:  # IR < 4: every initializer is also a graph input, here listed first
        inputs = [helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in initializers] + inputs
    graph = helper.make_graph(nodes, "g", inputs, [helper.make_tensor_value_info("y", elem, None)],
                              initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    if ir is not None:
        model.ir_version = ir
    return model


def load(model, tmp_path) -> em.Network:
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    return em.from_onnx(path)


def assert_matches_reference(model, net, in_shape, points):
    """``net`` equals onnx's reference evaluator exactly at each point (float64, exact here)."""
    full = [1 if isinstance(d, str) else d for d in in_shape]
    session = ReferenceEvaluator(model)
    for x in points:
        (ref,) = session.run(None, {"x": np.asarray(x, dtype=np.float64).reshape(full)})
        assert net(np.asarray(x).reshape(-1)).tolist() == [Fraction(float(v)) for v in ref.reshape(-1)]


def test_acas_like_normalisation_folds_into_one_affine_map(tmp_path):
    """Sub (a per-entry mean), Div (per-entry powers of two), Sub in both orders, Neg, Mul by a
    vector and by a scalar: all fold into the two Dense layers."""
    rng = np.random.default_rng(1)
    in_shape = [1, 1, 1, 4]
    inits = {
        "mean": dyadic(rng, (1, 1, 1, 4)), "range": np.array([2.0, 4.0, 0.5, 1.0]),
        "W1": dyadic(rng, (4, 3)), "b1": dyadic(rng, (3,)), "c": dyadic(rng, (1, 3)),
        "v": np.array([1.0, -2.0, 0.25]), "two": np.array(2.0), "W2": dyadic(rng, (3, 2)), "b2": dyadic(rng, (2,)),
    }
    nodes = [
        helper.make_node("Sub", ["x", "mean"], ["s"], name="sub_mean"),
        helper.make_node("Div", ["s", "range"], ["n"], name="div_range"),
        helper.make_node("Flatten", ["n"], ["f"], name="flat", axis=1),
        helper.make_node("MatMul", ["f", "W1"], ["h"], name="mm1"),
        helper.make_node("Add", ["h", "b1"], ["hb"], name="add1"),
        helper.make_node("Relu", ["hb"], ["r"], name="relu"),
        helper.make_node("Sub", ["c", "r"], ["cr"], name="c_minus"),  # c - x
        helper.make_node("Neg", ["cr"], ["ng"], name="neg"),
        helper.make_node("Mul", ["ng", "v"], ["mv"], name="mul_vec"),
        helper.make_node("Mul", ["two", "mv"], ["m2"], name="mul_scalar"),  # the constant first
        helper.make_node("MatMul", ["m2", "W2"], ["o"], name="mm2"),
        helper.make_node("Add", ["o", "b2"], ["y"], name="add2"),
    ]
    model = make_model(nodes, inits, in_shape)
    net = load(model, tmp_path)
    assert [(m.num_units, m.num_pieces) for m in net.masos] == [(3, 2), (2, 1)]
    assert_matches_reference(model, net, in_shape, [dyadic(rng, 4, 32) for _ in range(8)])
    # the same network written by hand
    mean, scale = inits["mean"].reshape(-1), 1 / inits["range"]
    W1 = inits["W1"].T * scale[None, :]
    b1 = inits["b1"] - W1 @ mean
    twice_v = 2 * inits["v"]  # o = W2^T (2 v (r - c)) + b2
    W2 = inits["W2"].T * twice_v[None, :]
    b2 = inits["b2"] - inits["W2"].T @ (twice_v * inits["c"].reshape(-1))
    assert net == em.Network([em.Dense(W1, b1), em.ReLU(), em.Dense(W2, b2)])


def test_div_is_multiplication_by_the_exact_reciprocal(tmp_path):
    c = np.array([3.0, 0.1], dtype=np.float32)
    nodes = [helper.make_node("Div", ["x", "c"], ["y"], name="div")]
    net = load(make_model(nodes, {"c": c}, ["N", 2], elem=TensorProto.FLOAT), tmp_path)
    tenth = Fraction(float(np.float32(0.1)))  # the float32 nearest to 0.1, not 1/10
    assert net == em.Network([em.Dense([[Fraction(1, 3), 0], [0, 1 / tenth]])])
    assert net([3, 1]).tolist() == [1, 1 / tenth]


def test_zero_divisor_is_model_file_error(tmp_path):
    nodes = [helper.make_node("Div", ["x", "c"], ["y"], name="div")]
    with pytest.raises(ModelFileError, match=r"node 'div' \(Div\) divides by a constant that is 0 at entry 1"):
        load(make_model(nodes, {"c": np.array([1.0, 0.0])}, ["N", 2]), tmp_path)


def test_constant_nodes_and_initializers_listed_as_inputs(tmp_path):
    """IR version 3 (the ACAS Xu files): initializers are graph inputs too; the data input is
    the one that is not an initializer, here listed last.  Constants may also be nodes."""
    rng = np.random.default_rng(2)
    mean, W, b = dyadic(rng, (1, 3)), dyadic(rng, (3, 2)), dyadic(rng, (2,))
    nodes = [
        helper.make_node("Constant", [], ["mean"], value=numpy_helper.from_array(mean, "mean")),
        helper.make_node("Sub", ["x", "mean"], ["s"], name="sub"),
        helper.make_node("MatMul", ["s", "W"], ["m"], name="mm"),
        helper.make_node("Add", ["m", "b"], ["y"], name="add"),
    ]
    model = make_model(nodes, {"W": W, "b": b}, [1, 3], opset=8, ir=3, inits_as_inputs=True)
    assert [i.name for i in model.graph.input] == ["W", "b", "x"]
    net = load(model, tmp_path)
    assert net == em.Network([em.Dense(W.T, b - W.T @ mean.reshape(-1))])
    assert net.input_shape == (3,)
    assert_matches_reference(model, net, [1, 3], [dyadic(rng, 3, 32) for _ in range(4)])


def test_one_dimensional_input_without_batch_axis(tmp_path):
    """As sisl/NNet's nnet2onnx writes: a [5] input, MatMul(x, W) with W (in, out)."""
    rng = np.random.default_rng(3)
    W1, b1, W2, b2 = dyadic(rng, (5, 4)), dyadic(rng, (4,)), dyadic(rng, (4, 2)), dyadic(rng, (2,))
    nodes = [
        helper.make_node("MatMul", ["x", "W1"], ["m1"]), helper.make_node("Add", ["m1", "b1"], ["h"]),
        helper.make_node("Relu", ["h"], ["r"]),
        helper.make_node("MatMul", ["r", "W2"], ["m2"]), helper.make_node("Add", ["m2", "b2"], ["y"]),
    ]
    model = make_model(nodes, {"W1": W1, "b1": b1, "W2": W2, "b2": b2}, [5])
    net = load(model, tmp_path)
    assert net.input_shape == (5,)
    assert net == em.mlp([W1.T, W2.T], [b1, b2])
    assert_matches_reference(model, net, [5], [dyadic(rng, 5, 32) for _ in range(6)])


def test_matmul_with_the_constant_on_the_left(tmp_path):
    rng = np.random.default_rng(4)
    # a vector: W @ x then x @ W2
    W, b, W2 = dyadic(rng, (4, 3)), dyadic(rng, (4,)), dyadic(rng, (4, 2))
    nodes = [
        helper.make_node("MatMul", ["W", "x"], ["m"], name="left"), helper.make_node("Add", ["m", "b"], ["h"]),
        helper.make_node("Relu", ["h"], ["r"]), helper.make_node("MatMul", ["r", "W2"], ["y"], name="right"),
    ]
    model = make_model(nodes, {"W": W, "b": b, "W2": W2}, [3])
    net = load(model, tmp_path)
    assert net == em.mlp([W, W2.T], [b, None])
    assert_matches_reference(model, net, [3], [dyadic(rng, 3, 32) for _ in range(6)])
    # a (1, 3, 2) tensor: W @ x contracts its middle axis, a block-structured affine map
    nodes = [
        helper.make_node("MatMul", ["W", "x"], ["m"], name="left"),
        helper.make_node("Relu", ["m"], ["r"], name="relu"),
        helper.make_node("Flatten", ["r"], ["y"], name="flat", axis=1),
    ]
    model = make_model(nodes, {"W": W}, [1, 3, 2])
    net = load(model, tmp_path)
    assert net.input_shape == (3, 2) and net.output_dim == 8
    assert_matches_reference(model, net, [1, 3, 2], [dyadic(rng, 6, 32) for _ in range(6)])


@pytest.mark.parametrize("trans_b", [0, 1])
def test_gemm_alpha_beta_trans_b(tmp_path, trans_b):
    rng = np.random.default_rng(5)
    B = dyadic(rng, (2, 3) if trans_b else (3, 2))
    C = dyadic(rng, (2,))
    nodes = [helper.make_node("Gemm", ["x", "B", "C"], ["y"], name="gemm", alpha=0.5, beta=0.25, transB=trans_b)]
    model = make_model(nodes, {"B": B, "C": C}, [1, 3])
    net = load(model, tmp_path)
    W = B if trans_b else B.T
    assert net == em.Network([em.Dense(W * 0.5, C * 0.25)])
    assert_matches_reference(model, net, [1, 3], [dyadic(rng, 3, 32) for _ in range(4)])


def test_gemm_trans_a_on_a_tensor_of_batch_one(tmp_path):
    """transA=1 on a [1, 3] input: (3, 1) @ (1, 2) + a (3, 2) bias, a (3, 2) tensor."""
    rng = np.random.default_rng(6)
    B, C = dyadic(rng, (1, 2)), dyadic(rng, (3, 2))
    nodes = [
        helper.make_node("Gemm", ["x", "B", "C"], ["g"], name="gemm", transA=1, alpha=2.0, beta=0.5),
        helper.make_node("Relu", ["g"], ["r"], name="relu"),
        helper.make_node("Flatten", ["r"], ["y"], name="flat", axis=0),
    ]
    model = make_model(nodes, {"B": B, "C": C}, [1, 3])
    net = load(model, tmp_path)
    assert net.output_dim == 6
    assert_matches_reference(model, net, [1, 3], [dyadic(rng, 3, 32) for _ in range(6)])


@pytest.mark.parametrize("opset", [11, 13])
def test_reshape_squeeze_unsqueeze_transpose(tmp_path, opset):
    """Re-indexings of a [1, 2, 3] tensor: a Transpose first (a permutation matrix), a
    Transpose after a MatMul (its rows permuted), a per-row MatMul on a (2, 2) tensor."""
    rng = np.random.default_rng(7)
    inits = {"W": dyadic(rng, (6, 4)), "W2": dyadic(rng, (2, 3)), "to_flat": np.array([1, 6]),
             "to_rows": np.array([2, 2]), "to_vector": np.array([-1])}
    if opset >= 13:
        inits["axis1"] = np.array([1])
        squeeze = [helper.make_node("Unsqueeze", ["t", "axis1"], ["u"], name="unsq"),
                   helper.make_node("Squeeze", ["u", "axis1"], ["s"], name="sq")]
    else:
        squeeze = [helper.make_node("Unsqueeze", ["t"], ["u"], name="unsq", axes=[1]),
                   helper.make_node("Squeeze", ["u"], ["s"], name="sq", axes=[1])]
    nodes = [
        helper.make_node("Transpose", ["x"], ["t"], name="tr1", perm=[0, 2, 1]),  # (1, 3, 2)
        *squeeze,
        helper.make_node("Reshape", ["s", "to_flat"], ["f"], name="flat"),  # (1, 6)
        helper.make_node("MatMul", ["f", "W"], ["m"], name="mm"),  # (1, 4)
        helper.make_node("Reshape", ["m", "to_rows"], ["rows"], name="rows"),  # (2, 2)
        helper.make_node("MatMul", ["rows", "W2"], ["m2"], name="mm2"),  # (2, 3), row by row
        helper.make_node("Transpose", ["m2"], ["t2"], name="tr2"),  # (3, 2)
        helper.make_node("Relu", ["t2"], ["r"], name="relu"),
        helper.make_node("Reshape", ["r", "to_vector"], ["y"], name="vector"),  # (6,)
    ]
    model = make_model(nodes, inits, [1, 2, 3], opset=opset)
    net = load(model, tmp_path)
    assert net.input_shape == (2, 3) and net.output_dim == 6
    assert_matches_reference(model, net, [1, 2, 3], [dyadic(rng, 6, 32) for _ in range(8)])


def test_squeeze_of_a_batch_of_one_to_a_vector(tmp_path):
    """Squeeze of every axis of size 1 (no axes) of a [1, 1, 3] input, then W @ x."""
    rng = np.random.default_rng(10)
    W = dyadic(rng, (2, 3))
    nodes = [helper.make_node("Squeeze", ["x"], ["v"], name="sq"), helper.make_node("MatMul", ["W", "v"], ["y"], name="mm")]
    model = make_model(nodes, {"W": W}, [1, 1, 3])
    net = load(model, tmp_path)
    assert net == em.Network([em.Flatten(), em.Dense(W)], input_shape=(1, 3))
    assert_matches_reference(model, net, [1, 1, 3], [dyadic(rng, 3, 32) for _ in range(4)])


def test_per_channel_normalisation_before_a_convolution(tmp_path):
    rng = np.random.default_rng(11)
    inits = {"mean": dyadic(rng, (1, 2, 1, 1)), "std": np.array([[[2.0]], [[0.5]]]),
             "Wc": dyadic(rng, (3, 2, 3, 3)), "bc": dyadic(rng, (3,))}
    nodes = [
        helper.make_node("Sub", ["x", "mean"], ["s"], name="sub"),
        helper.make_node("Div", ["s", "std"], ["n"], name="div"),
        helper.make_node("Conv", ["n", "Wc", "bc"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Mul", ["c", "half"], ["ch"], name="half_per_channel"),  # folds into the Conv
        helper.make_node("Relu", ["ch"], ["r"], name="relu"),
        helper.make_node("Flatten", ["r"], ["y"], name="flat"),
    ]
    inits["half"] = np.array([0.5, 1.0, -0.25]).reshape(3, 1, 1)
    model = make_model(nodes, inits, ["N", 2, 4, 4])
    net = load(model, tmp_path)
    scale = 1 / inits["std"].reshape(-1)
    half = inits["half"].reshape(-1)
    expected = em.Network([
        em.BatchNorm(scale, -inits["mean"].reshape(-1) * scale),
        em.Conv2d(inits["Wc"] * half[:, None, None, None], inits["bc"] * half, padding=1),
        em.ReLU(), em.Flatten(),
    ], input_shape=(2, 4, 4))
    assert net == expected
    assert_matches_reference(model, net, ["N", 2, 4, 4], [dyadic(rng, 32, 16) for _ in range(3)])


# ---------------------------------------------------------------------------------------
# refused, by op type and node name
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "nodes, inits, in_shape, error, pattern",
    [
        ([helper.make_node("Sigmoid", ["x"], ["y"], name="sig")], {}, ["N", 4], UnsupportedLayerError,
         r"node 'sig' \(Sigmoid\): the ONNX operator Sigmoid has no exact max-affine form"),
        ([helper.make_node("Div", ["c", "x"], ["y"], name="recip")], {"c": np.ones(4)}, ["N", 4], UnsupportedLayerError,
         r"node 'recip' \(Div\) divides a constant by the data \(c / x\), which is not affine"),
        ([helper.make_node("Mul", ["x", "x"], ["y"], name="square")], {}, ["N", 4], UnsupportedLayerError,
         r"node 'square' \(Mul\) multiplies two computed values"),
        ([helper.make_node("Mul", ["x", "c"], ["y"], name="grow")], {"c": np.ones((3, 4))}, ["N", 4],
         UnsupportedLayerError, r"node 'grow' \(Mul\) combines the data of shape \['N', 4\] with a constant of shape "
         r"\[3, 4\], which does not broadcast"),
        ([helper.make_node("Transpose", ["x"], ["y"], name="tr", perm=[1, 0])], {}, ["N", 4], UnsupportedLayerError,
         r"node 'tr' \(Transpose\) has perm=\[1, 0\], which moves the batch axis"),
        ([helper.make_node("Squeeze", ["x", "a"], ["y"], name="sq")], {"a": np.array([0])}, ["N", 4],
         UnsupportedLayerError, r"node 'sq' \(Squeeze\) removes the batch axis"),
        ([helper.make_node("Unsqueeze", ["x", "a"], ["y"], name="unsq")], {"a": np.array([0])}, ["N", 4],
         UnsupportedLayerError, r"node 'unsq' \(Unsqueeze\) inserts an axis before the batch axis"),
        ([helper.make_node("MatMul", ["W", "x"], ["y"], name="left")], {"W": np.ones((2, 3))}, ["N", 4],
         UnsupportedLayerError, r"node 'left' \(MatMul\) multiplies a constant by the data .* mixes the batch axis"),
        ([helper.make_node("MatMul", ["x", "W"], ["y"], name="bmm")], {"W": np.ones((2, 4, 2))}, ["N", 4],
         UnsupportedLayerError, r"node 'bmm' \(MatMul\) multiplies the data by a constant of shape \[2, 4, 2\]"),
        ([helper.make_node("Gemm", ["x", "W"], ["y"], name="g", transA=1)], {"W": np.ones((4, 2))}, ["N", 4],
         UnsupportedLayerError, r"node 'g' \(Gemm\) has transA=1 .* multiplies across the batch axis"),
        ([helper.make_node("Sub", ["x", "m"], ["s"], name="pixel_mean"),
          helper.make_node("Conv", ["s", "Wc"], ["y"], name="conv")],
         {"m": np.arange(16.0).reshape(1, 1, 4, 4), "Wc": np.ones((1, 1, 3, 3))}, ["N", 1, 4, 4], UnsupportedLayerError,
         r"node 'conv' \(Conv\) needs its input as a tensor of shape \[1, 4, 4\], but the layers hold it flattened "
         r"since .*node 'pixel_mean' \(Sub\); exactmaso's layers cannot restore a multi-dimensional shape"),
        ([helper.make_node("Transpose", ["x"], ["t"], name="hw", perm=[0, 1, 3, 2]),
          helper.make_node("MaxPool", ["t"], ["y"], name="pool", kernel_shape=[2, 2])], {}, [1, 1, 2, 4],
         UnsupportedLayerError, r"node 'pool' \(MaxPool\) needs its input as a tensor of shape \[1, 4, 2\].*'hw'"),
    ],
    ids=["sigmoid", "c_over_x", "x_times_x", "no_broadcast", "transpose_batch", "squeeze_batch", "unsqueeze_batch",
         "left_matmul_batch", "batched_matmul", "gemm_trans_a_batch", "per_pixel_sub_then_conv", "transpose_then_pool"],
)
def test_refused_with_the_node_named(tmp_path, nodes, inits, in_shape, error, pattern):
    with pytest.raises(error, match=pattern):
        load(make_model(nodes, inits, in_shape), tmp_path)
