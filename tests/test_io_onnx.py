"""Exact networks from ONNX files (exactmaso.io.onnx_io), checked against from_torch."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import exactmaso as em  # noqa: E402
from exactmaso.errors import ModelFileError, ShapeError, UnsupportedLayerError  # noqa: E402
from exactmaso.io import from_onnx, from_torch, load  # noqa: E402

from test_io_torch import MODELS, build, torch_output  # noqa: E402

nn = torch.nn


def export(model, shape, path, **kwargs) -> str:
    dtype = next(model.parameters()).dtype
    x = torch.zeros(1, *shape, dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, x, str(path), dynamo=False, **kwargs)
    return str(path)


# ---------------------------------------------------------------------------------------
# identical to from_torch
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_same_network_as_from_torch(tmp_path, name, dtype):
    model, shape = build(name, dtype)
    # PRESERVE keeps BatchNorm apart from the Conv before it (EVAL fuses them in float32)
    path = export(model, shape, tmp_path / f"{name}.onnx", training=torch.onnx.TrainingMode.PRESERVE)
    net_torch = from_torch(model, shape)
    net_onnx = from_onnx(path)
    assert net_onnx == net_torch
    assert net_onnx.input_shape == shape
    assert load(path) == net_torch


@pytest.mark.parametrize("name", ["mlp", "cnn", "residual"])
def test_default_export_is_identical_without_conv_batchnorm(tmp_path, name):
    model, shape = build(name, torch.float32, seed=5)
    assert from_onnx(export(model, shape, tmp_path / "m.onnx")) == from_torch(model, shape)


def test_default_export_with_fused_conv_batchnorm_is_close(tmp_path):
    """torch's EVAL export folds BatchNorm into the Conv weights in float32: close, not identical."""
    model, shape = build("batchnorm", torch.float32, seed=6)
    net = from_onnx(export(model, shape, tmp_path / "m.onnx"))
    x = np.random.default_rng(0).standard_normal(int(np.prod(shape))).astype(np.float32)
    assert [float(v) for v in net(x)] == pytest.approx(torch_output(model, x, shape), rel=1e-4, abs=1e-5)


def test_dynamic_batch_dimension(tmp_path):
    model, shape = build("cnn", torch.float32, seed=7)
    path = export(model, shape, tmp_path / "m.onnx", input_names=["x"], dynamic_axes={"x": {0: "batch"}})
    assert from_onnx(path) == from_torch(model, shape)


def test_unsupported_op_named(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 1)).eval()
    path = export(model, (2,), tmp_path / "m.onnx")
    with pytest.raises(UnsupportedLayerError, match=r"node '/1/Sigmoid' \(Sigmoid\): the ONNX operator Sigmoid"):
        from_onnx(path)


# ---------------------------------------------------------------------------------------
# hand-made graphs
# ---------------------------------------------------------------------------------------


def _model(nodes, inits, in_shape, out_dim, *, in_name="x", out_name="y", elem=TensorProto.FLOAT):
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info(in_name, elem, ["N", *in_shape])],
        [helper.make_tensor_value_info(out_name, elem, ["N", out_dim])],
        initializer=[numpy_helper.from_array(v, k) for k, v in inits.items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def _save(model, path) -> str:
    onnx.save(model, str(path))
    return str(path)


def test_matmul_add_reshape_abs_identity(tmp_path):
    rng = np.random.default_rng(1)
    W1, b1 = rng.standard_normal((8, 4)).astype(np.float32), rng.standard_normal(4).astype(np.float32)
    W2, b2 = rng.standard_normal((4, 2)).astype(np.float32), rng.standard_normal((1, 2)).astype(np.float32)
    nodes = [
        helper.make_node("Reshape", ["x", "shape"], ["f"], name="flat"),
        helper.make_node("MatMul", ["f", "W1"], ["h"], name="mm1"),
        helper.make_node("Add", ["h", "b1"], ["hb"], name="bias1"),
        helper.make_node("Abs", ["hb"], ["a"], name="abs"),
        helper.make_node("Identity", ["a"], ["i"], name="id"),
        helper.make_node("Dropout", ["i"], ["d"], name="drop"),
        helper.make_node("MatMul", ["d", "W2"], ["o"], name="mm2"),
        helper.make_node("Add", ["b2", "o"], ["y"], name="bias2"),
    ]
    inits = {"W1": W1, "b1": b1, "W2": W2, "b2": b2, "shape": np.array([0, -1], dtype=np.int64)}
    net = from_onnx(_save(_model(nodes, inits, [2, 4], 2), tmp_path / "m.onnx"))
    expected = em.Network([em.Flatten(), em.Dense(W1.T, b1), em.Abs(), em.Dense(W2.T, b2[0])], input_shape=(2, 4))
    assert net == expected
    assert net.input_shape == (2, 4)


def test_gemm_attributes(tmp_path):
    B = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.25]], dtype=np.float32)  # (in=3, out=2): transB=0
    C = np.array([1.0, -2.0], dtype=np.float32)
    nodes = [
        helper.make_node("Gemm", ["x", "B", "C"], ["g"], name="gemm", alpha=0.5, beta=2.0),
        helper.make_node("LeakyRelu", ["g"], ["y"], name="lrelu", alpha=0.25),
    ]
    net = from_onnx(_save(_model(nodes, {"B": B, "C": C}, [3], 2), tmp_path / "m.onnx"))
    assert net == em.Network([em.Dense(B.T * 0.5, C * 2), em.LeakyReLU("1/4")])


def test_residual_add_in_either_order(tmp_path):
    rng = np.random.default_rng(2)
    W = rng.standard_normal((3, 3)).astype(np.float32)
    nodes = [
        helper.make_node("Relu", ["x"], ["r"], name="relu0"),
        helper.make_node("Gemm", ["r", "W"], ["g"], name="gemm", transB=1),
        helper.make_node("Relu", ["g"], ["gr"], name="relu1"),
        helper.make_node("Add", ["gr", "r"], ["y"], name="skip"),
    ]
    net = from_onnx(_save(_model(nodes, {"W": W}, [3], 3), tmp_path / "m.onnx"))
    assert net == em.Network([em.ReLU(), em.Residual([em.Dense(W), em.ReLU()])], input_shape=(3,))


def test_constant_nodes_and_conv_bias_add(tmp_path):
    rng = np.random.default_rng(3)
    Wc = rng.standard_normal((2, 1, 3, 3)).astype(np.float32)
    bias = rng.standard_normal((1, 2, 1, 1)).astype(np.float32)
    nodes = [
        helper.make_node("Constant", [], ["Wc"], value=numpy_helper.from_array(Wc)),
        helper.make_node("Conv", ["x", "Wc"], ["c"], name="conv", pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
        helper.make_node("Add", ["c", "bias"], ["cb"], name="bias"),
        helper.make_node("Relu", ["cb"], ["r"], name="relu"),
        helper.make_node("MaxPool", ["r"], ["m"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["m"], ["y"], name="flat", axis=1),
    ]
    net = from_onnx(_save(_model(nodes, {"bias": bias}, [1, 4, 4], 8), tmp_path / "m.onnx"))
    expected = em.Network([em.Conv2d(Wc, bias.reshape(-1), padding=1), em.ReLU(), em.MaxPool2d(2), em.Flatten()],
                          input_shape=(1, 4, 4))
    assert net == expected


@pytest.mark.parametrize(
    "node, inits, pattern",
    [
        (helper.make_node("Gemm", ["x", "W"], ["y"], name="g", transA=1), {}, "transA=1"),
        (helper.make_node("Conv", ["x", "Wc"], ["y"], name="c", pads=[0, 0, 1, 1]), {}, "asymmetric pads"),
        (helper.make_node("Conv", ["x", "Wc"], ["y"], name="c", group=2), {}, "group=2"),
        (helper.make_node("MaxPool", ["x"], ["y"], name="p", kernel_shape=[2, 2], ceil_mode=1), {}, "ceil_mode=1"),
        (helper.make_node("Reshape", ["x", "s"], ["y"], name="r"), {"s": np.array([-1, 2], dtype=np.int64)}, r"reshapes to \[-1, 2\]"),
        (helper.make_node("Flatten", ["x"], ["y"], name="f", axis=2), {}, "axis=2"),
        (helper.make_node("Softmax", ["x"], ["y"], name="sm"), {}, r"node 'sm' \(Softmax\)"),
        (helper.make_node("Mul", ["x", "W"], ["y"], name="mul"), {}, r"node 'mul' \(Mul\)"),
        (helper.make_node("Gemm", ["x", "x"], ["y"], name="g2"), {}, "expected a constant"),
    ],
)
def test_unsupported_graphs(tmp_path, node, inits, pattern):
    base = {"W": np.ones((2, 16), np.float32), "Wc": np.ones((2, 1, 3, 3), np.float32)}
    model = _model([node], {**base, **inits}, [1, 4, 4], 2)
    with pytest.raises(UnsupportedLayerError, match=pattern):
        from_onnx(_save(model, tmp_path / "m.onnx"))


def test_not_a_chain(tmp_path):
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="r1"),
        helper.make_node("Abs", ["x"], ["b"], name="r2"),
        helper.make_node("Relu", ["x"], ["c"], name="r3"),
        helper.make_node("Add", ["a", "b"], ["y"], name="add"),
    ]
    with pytest.raises(UnsupportedLayerError, match="feeds 3 nodes"):
        from_onnx(_save(_model(nodes, {}, [2], 2), tmp_path / "m.onnx"))
    nodes = [helper.make_node("Relu", ["x"], ["a"], name="r1"), helper.make_node("Relu", ["x"], ["y"], name="r2")]
    with pytest.raises(UnsupportedLayerError, match="neither is the Add of a residual"):
        from_onnx(_save(_model(nodes, {}, [2], 2), tmp_path / "m.onnx"))
    nodes = [helper.make_node("Relu", ["x"], ["a"], name="r1")]
    with pytest.raises(ModelFileError, match="used by no node"):
        from_onnx(_save(_model(nodes, {}, [2], 2), tmp_path / "m.onnx"))


def test_input_needs_fixed_sizes(tmp_path):
    model = _model([helper.make_node("Relu", ["x"], ["y"], name="r")], {}, ["H"], 2)
    with pytest.raises(ShapeError, match="fixed sizes"):
        from_onnx(_save(model, tmp_path / "m.onnx"))


# ---------------------------------------------------------------------------------------
# malformed files and external data
# ---------------------------------------------------------------------------------------


def test_garbage_and_truncated_files(tmp_path):
    (tmp_path / "g.onnx").write_bytes(b"\xff\xfe definitely not protobuf \x00\x01")
    with pytest.raises(ModelFileError, match="not a readable ONNX model|holds no graph"):
        from_onnx(tmp_path / "g.onnx")
    model, shape = build("mlp", torch.float32)
    data = open(export(model, shape, tmp_path / "m.onnx"), "rb").read()
    (tmp_path / "t.onnx").write_bytes(data[: len(data) // 3])
    with pytest.raises(ModelFileError):
        from_onnx(tmp_path / "t.onnx")
    with pytest.raises(ModelFileError):
        load(tmp_path / "t.onnx")


def _external_model(tmp_path, location: str):
    rng = np.random.default_rng(4)
    W = rng.standard_normal((3, 2)).astype(np.float32)
    model = _model([helper.make_node("Gemm", ["x", "W"], ["y"], name="g", transB=1)], {"W": W}, [2], 3)
    onnx.external_data_helper.convert_model_to_external_data(model, all_tensors_to_one_file=True,
                                                            location="weights.bin", size_threshold=0)
    onnx.save(model, str(tmp_path / "m.onnx"))
    if location != "weights.bin":
        m = onnx.load(str(tmp_path / "m.onnx"), load_external_data=False)
        for entry in m.graph.initializer[0].external_data:
            if entry.key == "location":
                entry.value = location
        onnx.save(m, str(tmp_path / "m.onnx"))
    return W


def test_external_data_inside_folder(tmp_path):
    W = _external_model(tmp_path, "weights.bin")
    assert os.path.exists(tmp_path / "weights.bin")
    assert from_onnx(tmp_path / "m.onnx") == em.Network([em.Dense(W)])


@pytest.mark.parametrize("location", ["../outside.bin", "/etc/passwd", "sub/../../outside.bin", "link.bin"])
def test_external_data_outside_folder_refused(tmp_path, location):
    (tmp_path / "outside.bin").write_bytes(b"\x00" * 64)
    folder = tmp_path / "model"
    folder.mkdir()
    _external_model(folder, location)
    if location == "link.bin":
        os.symlink(tmp_path / "outside.bin", folder / "link.bin")
    with pytest.raises(ModelFileError, match="outside the model's folder"):
        from_onnx(folder / "m.onnx")


def test_external_data_missing_or_short(tmp_path):
    _external_model(tmp_path, "weights.bin")
    (tmp_path / "weights.bin").write_bytes(b"\x00" * 4)
    with pytest.raises(ModelFileError, match="which has 4 bytes"):
        from_onnx(tmp_path / "m.onnx")
    os.remove(tmp_path / "weights.bin")
    with pytest.raises(ModelFileError, match="missing"):
        from_onnx(tmp_path / "m.onnx")


# ---------------------------------------------------------------------------------------
# hostile ONNX files: typed errors, declared dims checked before any tensor or dense matrix
# is built (exactmaso.io.limits)
# ---------------------------------------------------------------------------------------


def _gemm_model(W):
    return _model([helper.make_node("Gemm", ["x", "W"], ["y"], name="g", transB=1)], {"W": W}, [W.shape[1]], W.shape[0])


def test_onnx_missing_file_is_model_file_not_found_error(tmp_path):
    with pytest.raises(em.errors.ModelFileNotFoundError, match="m.onnx does not exist; expected an .onnx file") as info:
        from_onnx(tmp_path / "m.onnx")
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, ModelFileError)
    with pytest.raises(ModelFileError, match="is a folder"):
        from_onnx(tmp_path)


@pytest.mark.parametrize("field", ["raw_data", "float_data"])
@pytest.mark.parametrize("delta", [-1, 1])
def test_onnx_tensor_dims_disagreeing_with_data_is_model_file_error(tmp_path, field, delta):
    model = _gemm_model(np.ones((3, 2), np.float32))
    init = model.graph.initializer[0]
    if field == "raw_data":
        init.raw_data = init.raw_data[:-4] if delta < 0 else init.raw_data + b"\0" * 4
    else:
        init.ClearField("raw_data")
        init.float_data.extend([1.0] * (6 + delta))
    held = 6 + delta if field == "float_data" else 24 + 4 * delta
    with pytest.raises(ModelFileError, match=rf"tensor 'W' declares dims \[3, 2\] \(6 entries\) but holds {held}"):
        from_onnx(_save(model, tmp_path / "m.onnx"))


@pytest.mark.parametrize(
    "dims, pattern",
    [([10**9, 10**9], "1,000,000,000 along axis 0.*MAX_DIM"), ([2**20, 2**10], "1,073,741,824 entries.*MAX_ENTRIES"),
     ([3, -2], "every dimension must be at least 0")],
)
def test_onnx_huge_or_negative_declared_dims_are_refused_before_reading(tmp_path, dims, pattern):
    model = _gemm_model(np.ones((3, 2), np.float32))
    init = model.graph.initializer[0]
    del init.dims[:]
    init.dims.extend(dims)
    with pytest.raises(ModelFileError, match=pattern):
        from_onnx(_save(model, tmp_path / "m.onnx"))


def test_onnx_tensor_of_strings_is_refused(tmp_path):
    model = _gemm_model(np.ones((3, 2), np.float32))
    model.graph.initializer[0].CopyFrom(helper.make_tensor("W", TensorProto.STRING, [1], [b"abc"]))
    with pytest.raises(ModelFileError, match="tensor 'W' has data type STRING; expected a float or integer type"):
        from_onnx(_save(model, tmp_path / "m.onnx"))


@pytest.mark.parametrize(
    "in_shape, pattern",
    [([10**9], "1,000,000,000 along axis 0.*MAX_DIM"), ([2**19, 2**19], "274,877,906,944 entries.*MAX_MASO_ENTRIES")],
)
def test_onnx_huge_input_shape_is_refused(tmp_path, in_shape, pattern):
    model = _model([helper.make_node("Relu", ["x"], ["y"], name="r")], {}, in_shape, 2)
    with pytest.raises(ModelFileError, match=pattern):
        from_onnx(_save(model, tmp_path / "m.onnx"))


@pytest.mark.parametrize(
    "node, pattern",
    [
        (helper.make_node("Conv", ["x", "Wc"], ["y"], name="c", pads=[1, 1, 1, 1]),
         r"layer 0 \(Conv2d\) becomes a dense 1,000,000 x 1,000,001 matrix"),
        (helper.make_node("Conv", ["x", "Wc"], ["y"], name="c", pads=[10**6] * 4),
         r"layer 0 \(Conv2d\) needs [0-9,]+ steps|becomes a dense"),
        (helper.make_node("MaxPool", ["x"], ["y"], name="p", kernel_shape=[10**6, 10**6], pads=[5 * 10**5] * 4, strides=[1, 1]),
         r"layer 0 \(MaxPool2d\) needs [0-9,]+ steps to build"),
        (helper.make_node("Relu", ["x"], ["y"], name="r"), r"layer 0 \(ReLU\) becomes a dense 1,000,001 x 1,000,001"),
    ],
)
def test_onnx_layers_expanding_beyond_the_cap_are_refused_fast(tmp_path, node, pattern):
    import time

    model = _model([node], {"Wc": np.ones((1, 1, 3, 3), np.float32)}, [1, 1000, 1000], 2)
    start = time.perf_counter()
    with pytest.raises(ModelFileError, match=pattern + ".*MAX_MASO_ENTRIES"):
        from_onnx(_save(model, tmp_path / "m.onnx"))
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize(
    "node, pattern",
    [
        (helper.make_node("MaxPool", ["x"], ["y"], name="p", kernel_shape=2), "attribute 'kernel_shape' of type INT; expected INTS"),
        (helper.make_node("Gemm", ["x", "W"], ["y"], name="g", alpha=[1.0, 2.0]), "attribute 'alpha' of type FLOATS; expected FLOAT"),
        (helper.make_node("Gemm", ["x", "W"], ["y"], name="g", transB=1, alpha=float("nan")), "alpha is nan; expected a finite number"),
        (helper.make_node("LeakyRelu", ["x"], ["y"], name="l", alpha=float("inf")), "alpha is inf; expected a finite number"),
        (helper.make_node("Gemm", ["x", "W"], ["y"], name="g", transB="yes"), "attribute 'transB' of type STRING; expected INT"),
    ],
)
def test_onnx_attributes_of_the_wrong_type_or_value_are_model_file_errors(tmp_path, node, pattern):
    model = _model([node], {"W": np.ones((2, 16), np.float32)}, [1, 4, 4] if node.op_type == "MaxPool" else [16], 2)
    with pytest.raises(ModelFileError, match=pattern):
        from_onnx(_save(model, tmp_path / "m.onnx"))


def test_onnx_node_without_output_is_model_file_error(tmp_path):
    model = _model([helper.make_node("Relu", ["x"], ["y"], name="r"), helper.make_node("Relu", ["x"], [], name="dead")], {}, [2], 2)
    with pytest.raises(ModelFileError, match=r"node 'dead' \(Relu\) has no output"):
        from_onnx(_save(model, tmp_path / "m.onnx"))


def test_onnx_dropout_with_an_empty_training_mode_is_model_file_error(tmp_path):
    nodes = [helper.make_node("Dropout", ["x", "", "t"], ["d"], name="drop"), helper.make_node("Relu", ["d"], ["y"], name="r")]
    model = _model(nodes, {"t": np.zeros(0, np.bool_)}, [2], 2)
    with pytest.raises(ModelFileError, match="training_mode of shape"):
        from_onnx(_save(model, tmp_path / "m.onnx"))


def _nested_residuals(depth: int):
    """u_k -> Relu -> u_{k+1} -> (block k+1) -> w_{k+1}; w_k = Add(u_k, w_{k+1})."""
    nodes = []
    for k in range(depth):
        nodes.append(helper.make_node("Relu", [f"u{k}"], [f"u{k + 1}"], name=f"r{k}"))
    for k in reversed(range(depth)):
        inner = f"u{depth}" if k == depth - 1 else f"w{k + 1}"
        nodes.append(helper.make_node("Add", [f"u{k}", inner], ["y" if k == 0 else f"w{k}"], name=f"a{k}"))
    return _model(nodes, {}, [2], 2, in_name="u0")


def test_onnx_residual_blocks_nested_too_deeply_are_refused(tmp_path):
    assert len(from_onnx(_save(_nested_residuals(3), tmp_path / "ok.onnx")).masos) >= 3
    with pytest.raises(ModelFileError, match="nested 33 deep; at most 32.*MAX_NESTING"):
        from_onnx(_save(_nested_residuals(40), tmp_path / "m.onnx"))


def test_onnx_external_data_with_a_malformed_offset_is_model_file_error(tmp_path):
    _external_model(tmp_path, "weights.bin")
    m = onnx.load(str(tmp_path / "m.onnx"), load_external_data=False)
    for entry in m.graph.initializer[0].external_data:
        if entry.key == "offset":
            entry.value = "abc"
    if not any(e.key == "offset" for e in m.graph.initializer[0].external_data):
        m.graph.initializer[0].external_data.add(key="offset", value="abc")
    onnx.save(m, str(tmp_path / "m.onnx"))
    with pytest.raises(ModelFileError, match="external data offset 'abc'"):
        from_onnx(tmp_path / "m.onnx")


def test_onnx_missing_external_data_is_model_file_not_found_error(tmp_path):
    _external_model(tmp_path, "weights.bin")
    os.remove(tmp_path / "weights.bin")
    with pytest.raises(em.errors.ModelFileNotFoundError, match="which is missing") as info:
        from_onnx(tmp_path / "m.onnx")
    assert isinstance(info.value, FileNotFoundError)


def test_onnx_external_data_counts_towards_the_size_cap(tmp_path, monkeypatch):
    _external_model(tmp_path, "weights.bin")
    model_size = (tmp_path / "m.onnx").stat().st_size
    monkeypatch.setattr(em.io.limits, "MAX_FILE_BYTES", model_size + 8)
    with pytest.raises(ModelFileError, match="with its external data holds [0-9]+ bytes.*MAX_FILE_BYTES"):
        from_onnx(tmp_path / "m.onnx")


@pytest.mark.parametrize(
    "op, inputs, attrs, pattern",
    [
        ("AveragePool", ["x"], {"kernel_shape": [2], "strides": []}, r"strides=\[\]; expected 1 integers"),
        ("MaxPool", ["x"], {"kernel_shape": [2], "pads": []}, r"pads=\[\]; expected 2 integers"),
        ("Conv", ["x", "W1"], {"strides": [1, 1]}, r"strides=\[1, 1\]; expected 1 integers"),
    ],
)
def test_onnx_pool_and_conv_attributes_of_the_wrong_length_are_model_file_errors(tmp_path, op, inputs, attrs, pattern):
    node = helper.make_node(op, inputs, ["y"], name="n")
    node.attribute.extend(helper.make_attribute(k, v, attr_type=onnx.AttributeProto.INTS) for k, v in attrs.items())
    model = _model([node], {"W1": np.ones((1, 2, 3), np.float32)}, [2, 4], 2)
    with pytest.raises(ModelFileError, match=pattern):
        from_onnx(_save(model, tmp_path / "m.onnx"))


def test_onnx_reshape_with_a_float_shape_is_model_file_error(tmp_path):
    nodes = [helper.make_node("Reshape", ["x", "s"], ["y"], name="r")]
    model = _model(nodes, {"s": np.array([np.nan, 1.0], np.float32)}, [2, 4], 8)
    with pytest.raises(ModelFileError, match="shape tensor of dtype float32; expected integers"):
        from_onnx(_save(model, tmp_path / "m.onnx"))


@pytest.mark.parametrize("location", ["a\0b.bin", b"mis\x94\x96ng.bin"])
def test_onnx_external_data_location_that_is_no_path_is_model_file_error(tmp_path, location):
    """Found by fuzzing: a NUL byte or invalid UTF-8 in the location raised ValueError/TypeError."""
    model = _gemm_model(np.ones((3, 2), np.float32))
    data = model.SerializeToString()
    init = model.graph.initializer[0]
    init.data_location = TensorProto.EXTERNAL
    init.external_data.add(key="location", value="PLACEHOLDER.bin")
    data = model.SerializeToString()
    raw = location if isinstance(location, bytes) else location.encode()
    (tmp_path / "m.onnx").write_bytes(data.replace(b"PLACEHOLDER.bin", raw.ljust(15, b"x")[:15]))
    with pytest.raises(ModelFileError, match="external data fields .* not UTF-8 text without NUL"):
        from_onnx(tmp_path / "m.onnx")
