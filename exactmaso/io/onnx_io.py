"""Exact networks from ONNX files (``onnx`` is an optional dependency).

:func:`from_onnx` reads a graph that is a chain of

    Gemm, MatMul (constant weight), Add (constant bias), Conv, Relu, LeakyRelu, Abs,
    MaxPool, AveragePool, BatchNormalization, Flatten, Reshape (a flatten), Identity,
    Dropout

plus residual additions ``Add(x, branch(x))`` (what ``torch.onnx.export`` writes for
:class:`~exactmaso.io.torch_io.ResidualBlock`).  Any other operator is refused by op type and
node name.  External tensor data is read only from files inside the model's folder.

Conventions, chosen so that a model exported by ``torch.onnx.export(..., dynamo=False)``
gives exactly the network :func:`~exactmaso.io.torch_io.from_torch` gives:

- tensors (weights, biases, statistics) convert exactly;
- float *attributes* (``epsilon``, LeakyRelu ``alpha``, Gemm ``alpha``/``beta``) are stored
  as float32 by ONNX, so ``1e-5`` arrives as ``9.99999974e-06``.  They are read as the
  shortest decimal that rounds to that float32 (``1e-05``), taken as a Python float: the
  value the exporting framework held.

Note that torch's exporter in its default ``training=TrainingMode.EVAL`` fuses a BatchNorm
that follows a Conv into the Conv's weights, rounding in float32; the result is close to,
but not exactly, the module's network.  Export with
``training=torch.onnx.TrainingMode.PRESERVE`` (after ``module.eval()``) to keep them apart.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from fractions import Fraction
from typing import Any

import numpy as np

from ..errors import DomainError, ModelFileError, ModelFileNotFoundError, ModelShapeError, ShapeError, UnsupportedLayerError
from ..layers import (
    Abs,
    AvgPool1d,
    AvgPool2d,
    BatchNorm,
    Conv1d,
    Conv2d,
    Dense,
    Flatten,
    LeakyReLU,
    MaxPool1d,
    MaxPool2d,
    ReLU,
    Residual,
)
from ..maso import Network
from ..numbers import to_fraction_array
from . import limits

__all__ = ["from_onnx"]

_SUPPORTED = (
    "Gemm, MatMul, Add, Conv, Relu, LeakyRelu, Abs, MaxPool, AveragePool, BatchNormalization, "
    "Flatten, Reshape (as a flatten), Identity, Dropout"
)


def _import_onnx() -> Any:
    try:
        import onnx
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "exactmaso.io.from_onnx needs the onnx package, an optional dependency: pip install exactmaso[onnx]"
        ) from exc
    return onnx


# ------------------------------------------------------------------------------------------
# reading the file safely
# ------------------------------------------------------------------------------------------


def _load_model(path: str | os.PathLike, onnx: Any) -> Any:
    source = os.fspath(path)
    data = limits.read_model_bytes(path, "an .onnx file")
    try:
        model = onnx.load_model_from_string(data)
    except Exception as exc:  # protobuf's parse of untrusted bytes: any failure is a bad file
        raise ModelFileError(f"{source}: not a readable ONNX model ({type(exc).__name__}: {str(exc)[:200]})") from exc
    if not model.HasField("graph"):
        raise ModelFileError(f"{source}: holds no graph; the file may be truncated or not an ONNX model")
    _resolve_external_data(model, source, onnx, len(data))
    return model


def _resolve_external_data(model: Any, source: str, onnx: Any, read: int) -> None:
    """Read external tensor data, only from regular files inside the model's folder, and no
    more than ``MAX_FILE_BYTES`` with the model file (``read`` bytes so far)."""
    from onnx.external_data_helper import _get_all_tensors, uses_external_data

    folder = os.path.realpath(os.path.dirname(os.path.abspath(source)))
    for tensor in _get_all_tensors(model):
        if not uses_external_data(tensor):
            continue
        info = {entry.key: entry.value for entry in tensor.external_data}
        if not all(isinstance(v, str) and "\0" not in v for v in info.values()):
            raise ModelFileError(
                f"{source}: tensor {tensor.name!r} has external data fields {info!r:.200} that are not UTF-8 text "
                "without NUL characters; expected a location, an offset and a length"
            )
        location = info.get("location", "")
        target = os.path.realpath(os.path.join(folder, location))
        if not location or os.path.isabs(location) or os.path.commonpath([folder, target]) != folder:
            raise ModelFileError(
                f"{source}: tensor {tensor.name!r} keeps its data in {location!r:.200}, outside the model's folder "
                f"{folder}; exactmaso reads external data only from files inside that folder"
            )
        if not os.path.isfile(target):
            raise ModelFileNotFoundError(
                f"{source}: tensor {tensor.name!r} keeps its data in {location!r:.200}, which is missing", target
            )
        offset, length = (info.get(key) or "0" for key in ("offset", "length"))
        if not (offset.isdigit() and length.isdigit() and len(offset) < 20 and len(length) < 20):
            raise ModelFileError(
                f"{source}: tensor {tensor.name!r} has external data offset {offset!r:.40} and length {length!r:.40}; "
                "expected non-negative integers"
            )
        size = os.path.getsize(target)
        offset_n = int(offset)
        length_n = int(length) if int(length) else size - offset_n
        if length_n < 0 or offset_n + length_n > size:
            raise ModelFileError(
                f"{source}: tensor {tensor.name!r} reads bytes {offset_n}..{offset_n + length_n} of {location!r}, "
                f"which has {size} bytes"
            )
        read += length_n
        limits.check_file_size(read, f"{source} with its external data")
        with open(target, "rb") as fh:
            fh.seek(offset_n)
            tensor.raw_data = fh.read(length_n)
        tensor.data_location = onnx.TensorProto.DEFAULT
        del tensor.external_data[:]


# ------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------


def _float_attr(value: float, where: str) -> float:
    """A finite float32 attribute as the Python float of its shortest round-tripping decimal."""
    result = float(str(np.float32(value)))
    if not np.isfinite(result):
        raise ModelFileError(f"{where} is {result!r}; expected a finite number")
    return result


# attribute name -> the AttributeProto type the supported operators give it
_ATTRIBUTE_TYPES = {
    "alpha": "FLOAT", "beta": "FLOAT", "epsilon": "FLOAT", "momentum": "FLOAT",
    "transA": "INT", "transB": "INT", "group": "INT", "axis": "INT", "ceil_mode": "INT",
    "count_include_pad": "INT", "storage_order": "INT", "training_mode": "INT", "spatial": "INT",
    "kernel_shape": "INTS", "pads": "INTS", "strides": "INTS", "dilations": "INTS",
    "auto_pad": "STRING",
}

# TensorProto data type -> (bytes per entry in raw_data, the typed field that may hold the data)
_TENSOR_TYPES = {
    1: (4, "float_data"), 2: (1, "int32_data"), 3: (1, "int32_data"), 4: (2, "int32_data"),
    5: (2, "int32_data"), 6: (4, "int32_data"), 7: (8, "int64_data"), 9: (1, "int32_data"),
    10: (2, "int32_data"), 11: (8, "double_data"), 12: (4, "uint64_data"), 13: (8, "uint64_data"),
}


def _ints(attrs: dict, name: str, length: int, default: int, where: str) -> list[int]:
    """An INTS attribute of ``length`` entries (``default`` repeated when absent)."""
    values = list(attrs.get(name, [default] * length))
    if len(values) != length:
        raise ModelFileError(f"{where} has {name}={values!r:.80}; expected {length} integers")
    return values


def _symmetric_pads(pads: list[int], where: str) -> tuple[int, ...]:
    half = len(pads) // 2
    begin, end = tuple(pads[:half]), tuple(pads[half:])
    if begin != end:
        raise UnsupportedLayerError(f"{where} has asymmetric pads {pads}; expected equal begin and end pads")
    return begin


class _Graph:
    """The chain of a graph: constants, consumers of each value, and attribute access."""

    def __init__(self, model: Any, source: str, onnx: Any) -> None:
        from onnx import numpy_helper

        self.onnx = onnx
        self.source = source
        graph = model.graph
        self.count = limits.EntryCount(source)
        self.consts: dict[str, np.ndarray] = {}
        for init in graph.initializer:
            self.consts[init.name] = self._initializer(init, init.name)
        self.nodes = []
        for node in graph.node:
            if not node.output or not node.output[0]:
                raise ModelFileError(f"{self.where(node)} has no output; expected a node computing one value")
            if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
                if len(node.attribute) != 1:
                    raise ModelFileError(f"{source}: Constant node {node.name!r} has {len(node.attribute)} attributes; expected 1")
                attr = node.attribute[0]
                if attr.type == onnx.AttributeProto.TENSOR:
                    self.consts[node.output[0]] = self._initializer(attr.t, node.output[0])
                    continue
                self.count.add(len(attr.floats) + len(attr.ints) + 1, f"Constant {node.output[0]!r}")
                value = self._attribute_value(node, attr)
                self.consts[node.output[0]] = self._tensor(np.asarray(value), node.output[0])
            else:
                self.nodes.append(node)
        self.consumers: dict[str, list] = defaultdict(list)
        for node in self.nodes:
            for name in dict.fromkeys(node.input):
                if name and name not in self.consts:
                    self.consumers[name].append(node)
        self.shapes = self._infer_shapes(model)

    def _initializer(self, tensor: Any, name: str) -> np.ndarray:
        """The array of a TensorProto, after checking its type, its declared dims against the
        caps, and that it holds as much data as its dims declare."""
        from onnx import numpy_helper

        where = f"{self.source}: tensor {name!r}"
        kind = _TENSOR_TYPES.get(tensor.data_type)
        if kind is None:
            type_name = self.onnx.TensorProto.DataType.Name(tensor.data_type) if tensor.data_type in \
                self.onnx.TensorProto.DataType.values() else str(tensor.data_type)
            raise ModelFileError(f"{where} has data type {type_name}; expected a float or integer type")
        dims = tuple(int(d) for d in tensor.dims)
        entries = limits.check_shape(dims, where, allow_empty=True)
        self.count.add(entries, f"tensor {name!r}")
        itemsize, field = kind
        if tensor.HasField("raw_data"):
            held, unit = len(tensor.raw_data), f"bytes ({itemsize} per entry)"
            wanted = entries * itemsize
        else:
            held, unit, wanted = len(getattr(tensor, field)), f"entries in {field}", entries
        if held != wanted:
            raise ModelFileError(f"{where} declares dims {list(dims)} ({entries:,} entries) but holds {held:,} {unit}; "
                                 f"expected {wanted:,}")
        try:
            arr = numpy_helper.to_array(tensor)
        except Exception as exc:  # onnx's own conversion of untrusted data
            raise ModelFileError(f"{where} cannot be read ({type(exc).__name__}: {str(exc)[:200]})") from exc
        return self._tensor(arr, name)

    def _tensor(self, arr: np.ndarray, name: str) -> np.ndarray:
        if arr.dtype.kind not in "fiub":
            raise ModelFileError(f"{self.source}: tensor {name!r} has dtype {arr.dtype}; expected numbers")
        return arr

    def _attribute_value(self, node: Any, attr: Any) -> Any:
        try:
            return self.onnx.helper.get_attribute_value(attr)
        except Exception as exc:  # an attribute of an undefined or unknown type
            raise ModelFileError(f"{self.where(node)} has a malformed attribute {attr.name!r} ({exc})") from exc

    def _infer_shapes(self, model: Any) -> dict[str, tuple]:
        shapes: dict[str, tuple] = {}
        try:
            inferred = self.onnx.shape_inference.infer_shapes(model)
        except Exception:  # shape inference is only a help for Reshape and Add checks
            return shapes
        g = inferred.graph
        for vi in list(g.value_info) + list(g.input) + list(g.output):
            dims = vi.type.tensor_type.shape.dim
            if all(d.HasField("dim_value") for d in dims) and len(dims) > 0:
                shapes[vi.name] = tuple(int(d.dim_value) for d in dims)
        return shapes

    # -- attributes and inputs --------------------------------------------------------
    def attrs(self, node: Any) -> dict[str, Any]:
        """The attributes of a node by name, each checked to have the type its operator gives it."""
        out = {}
        names = self.onnx.AttributeProto.AttributeType
        for a in node.attribute:
            want = _ATTRIBUTE_TYPES.get(a.name)
            if want is not None and a.type != names.Value(want):
                got = names.Name(a.type) if a.type in names.values() else str(a.type)
                raise ModelFileError(f"{self.where(node)} has attribute {a.name!r} of type {got}; expected {want}")
            out[a.name] = self._attribute_value(node, a)
        return out

    def const(self, node: Any, i: int, what: str, *, optional: bool = False) -> np.ndarray | None:
        if i >= len(node.input) or not node.input[i]:
            if optional:
                return None
            raise ModelFileError(f"{self.where(node)} lacks its {what} input")
        name = node.input[i]
        if name not in self.consts:
            raise UnsupportedLayerError(
                f"{self.where(node)} takes its {what} from the computed value {name!r}; expected a constant (initializer)"
            )
        return self.consts[name]

    def where(self, node: Any) -> str:
        return f"{self.source}: node {node.name or '(unnamed)'!r} ({node.op_type})"

    def exact(self, arr: np.ndarray, node: Any, what: str) -> np.ndarray:
        try:
            return to_fraction_array(arr, name=f"{what} of node {node.name!r}")
        except DomainError as exc:
            raise ModelFileError(f"{self.source}: {exc}") from exc


# ------------------------------------------------------------------------------------------
# nodes -> layers
# ------------------------------------------------------------------------------------------


def _check_default(g: _Graph, node: Any, attrs: dict, name: str, allowed: Any) -> None:
    if name in attrs:
        value = attrs[name]
        value = list(value) if isinstance(value, (list, tuple)) else value
        if isinstance(value, bytes):
            value = value.decode()
        ok = value in allowed if isinstance(allowed, tuple) else value == allowed
        if not ok:
            raise UnsupportedLayerError(f"{g.where(node)} has {name}={value!r}; expected {allowed!r}")


def _gemm(g: _Graph, node: Any) -> Dense:
    a = g.attrs(node)
    if a.get("transA", 0):
        raise UnsupportedLayerError(f"{g.where(node)} has transA=1; expected the batch-major input (transA=0)")
    B = g.exact(g.const(node, 1, "weight"), node, "weight")
    if B.ndim != 2:
        raise ModelShapeError(f"{g.where(node)} weight has shape {B.shape}; expected 2 dimensions")
    W = B if a.get("transB", 0) else B.T
    alpha = Fraction(_float_attr(a.get("alpha", 1.0), f"{g.where(node)} alpha"))
    beta = Fraction(_float_attr(a.get("beta", 1.0), f"{g.where(node)} beta"))
    if alpha != 1:
        W = W * alpha
    C = g.const(node, 2, "bias", optional=True)
    bias = None
    if C is not None:
        Cf = g.exact(C, node, "bias")
        try:
            Cf = np.broadcast_to(Cf, (1, W.shape[0])).reshape(-1)
        except ValueError:
            raise ModelShapeError(f"{g.where(node)} bias has shape {C.shape}; expected ({W.shape[0]},)") from None
        bias = Cf * beta if beta != 1 else Cf.copy()
    return Dense(W, bias)


def _matmul(g: _Graph, node: Any) -> Dense:
    B = g.exact(g.const(node, 1, "weight"), node, "weight")
    if B.ndim != 2:
        raise ModelShapeError(f"{g.where(node)} weight has shape {B.shape}; expected 2 dimensions (in, out)")
    return Dense(B.T, None)


def _conv(g: _Graph, node: Any) -> Any:
    a = g.attrs(node)
    W = g.exact(g.const(node, 1, "weight"), node, "weight")
    nsp = W.ndim - 2
    if nsp not in (1, 2):
        raise UnsupportedLayerError(f"{g.where(node)} is a {nsp}-D convolution; expected 1-D or 2-D")
    _check_default(g, node, a, "group", 1)
    _check_default(g, node, a, "dilations", [1] * nsp)
    _check_default(g, node, a, "auto_pad", ("NOTSET", "VALID"))
    if "kernel_shape" in a and list(a["kernel_shape"]) != list(W.shape[2:]):
        raise ModelShapeError(f"{g.where(node)} has kernel_shape {list(a['kernel_shape'])}; its weight has shape {W.shape}")
    pads = _symmetric_pads(_ints(a, "pads", 2 * nsp, 0, g.where(node)), g.where(node))
    strides = tuple(_ints(a, "strides", nsp, 1, g.where(node)))
    Bc = g.const(node, 2, "bias", optional=True)
    bias = None if Bc is None else g.exact(Bc, node, "bias")
    cls = Conv1d if nsp == 1 else Conv2d
    return cls(W, bias, stride=strides if nsp == 2 else strides[0], padding=pads if nsp == 2 else pads[0])


def _pool(g: _Graph, node: Any, maximum: bool) -> Any:
    a = g.attrs(node)
    kernel = tuple(a.get("kernel_shape", ()))
    nsp = len(kernel)
    if nsp not in (1, 2):
        raise UnsupportedLayerError(f"{g.where(node)} pools over {nsp} dimensions; expected 1 or 2")
    _check_default(g, node, a, "ceil_mode", 0)
    _check_default(g, node, a, "auto_pad", ("NOTSET", "VALID"))
    _check_default(g, node, a, "dilations", [1] * nsp)
    pads = _symmetric_pads(_ints(a, "pads", 2 * nsp, 0, g.where(node)), g.where(node))
    strides = tuple(_ints(a, "strides", nsp, 1, g.where(node)))
    if maximum:
        _check_default(g, node, a, "storage_order", 0)
        cls = MaxPool1d if nsp == 1 else MaxPool2d
    else:
        if any(pads) and not a.get("count_include_pad", 0):
            raise UnsupportedLayerError(f"{g.where(node)} pads without counting the padding; expected count_include_pad=1")
        cls = AvgPool1d if nsp == 1 else AvgPool2d
    if nsp == 1:
        return cls(kernel[0], strides[0], pads[0])
    return cls(kernel, strides, pads)


def _batchnorm(g: _Graph, node: Any) -> BatchNorm:
    a = g.attrs(node)
    _check_default(g, node, a, "training_mode", 0)
    _check_default(g, node, a, "spatial", 1)
    scale, bias, mean, var = (g.exact(g.const(node, i, what), node, what)
                              for i, what in enumerate(("scale", "bias", "mean", "var"), start=1))
    eps = _float_attr(a.get("epsilon", 1e-5), f"{g.where(node)} epsilon")
    return BatchNorm.from_stats(mean.reshape(-1), var.reshape(-1), scale.reshape(-1), bias.reshape(-1), eps)


def _flatten(g: _Graph, node: Any) -> Flatten:
    _check_default(g, node, g.attrs(node), "axis", 1)
    return Flatten()


def _reshape(g: _Graph, node: Any, batch: int | None) -> Flatten:
    shape = g.const(node, 1, "shape")
    if shape.dtype.kind not in "iu":
        raise ModelFileError(f"{g.where(node)} has a shape tensor of dtype {shape.dtype}; expected integers")
    target = [int(v) for v in shape.reshape(-1)]
    in_shape = g.shapes.get(node.input[0])
    size = math.prod(in_shape[1:]) if in_shape else None
    firsts = {0, -1, 1} | ({batch} if batch else set())
    ok = len(target) == 2 and (
        (target[1] == -1 and target[0] in firsts - {-1}) or (size is not None and target[1] == size and target[0] in firsts)
    )
    if not ok:
        raise UnsupportedLayerError(
            f"{g.where(node)} reshapes to {target}; only a flatten to (N, -1) or (1, -1) is supported"
        )
    return Flatten()


def _per_channel(c: np.ndarray, rank: int | None, channels: int) -> np.ndarray | None:
    """``c`` as a per-channel vector when it broadcasts over a (N, C, ...) tensor of ``rank``."""
    if rank is None or rank < 2 or c.ndim > rank:
        return None
    full = c.reshape((1,) * (rank - c.ndim) + c.shape)
    if full.shape[0] != 1 or full.shape[1] not in (1, channels) or any(s != 1 for s in full.shape[2:]):
        return None
    return np.broadcast_to(full.reshape(-1), (channels,)).copy()


def _add_constant(g: _Graph, node: Any, const_index: int, layers: list) -> None:
    """Add of a per-channel constant: folded into the bias of the preceding Gemm, MatMul, Conv
    or BatchNormalization, or else a per-channel shift."""
    c = g.exact(g.consts[node.input[const_index]], node, "added constant")
    data_shape = g.shapes.get(node.input[1 - const_index])
    rank = len(data_shape) if data_shape else None
    last = layers[-1] if layers else None
    if isinstance(last, Dense):
        shift = _per_channel(c, 2, last.W.shape[0])
        if shift is not None:
            layers[-1] = Dense(last.W, last.b + shift)
            return
    elif isinstance(last, (Conv1d, Conv2d)):
        channels = last.weight.shape[0]
        shift = _per_channel(c, last.weight.ndim, channels)
        if shift is not None:
            base = last.bias if last.bias is not None else np.array([Fraction(0)] * channels, dtype=object)
            one_d = isinstance(last, Conv1d)
            layers[-1] = type(last)(last.weight, base + shift,
                                    stride=last.stride[0] if one_d else last.stride,
                                    padding=last.padding[0] if one_d else last.padding)
            return
    elif isinstance(last, BatchNorm):
        shift = _per_channel(c, rank, last.shift.shape[0])
        if shift is not None:
            layers[-1] = BatchNorm(last.scale, last.shift + shift)
            return
    elif data_shape is not None and len(data_shape) >= 2:
        shift = _per_channel(c, rank, data_shape[1])
        if shift is not None:
            layers.append(BatchNorm(np.array([Fraction(1)] * data_shape[1], dtype=object), shift))
            return
    raise UnsupportedLayerError(
        f"{g.where(node)} adds a constant of shape {c.shape}, which is not a per-channel bias exactmaso can fold "
        "into the preceding Gemm/MatMul/Conv/BatchNormalization"
    )


# ------------------------------------------------------------------------------------------
# the chain walk
# ------------------------------------------------------------------------------------------


class _Walker:
    def __init__(self, g: _Graph, output: str, batch: int | None) -> None:
        self.g = g
        self.output = output
        self.batch = batch
        self.visited: set[int] = set()
        self.nesting = 0  # residual blocks inside residual blocks

    def _only_first_output_used(self, node: Any) -> None:
        for extra in node.output[1:]:
            if extra and (self.g.consumers.get(extra) or extra == self.output):
                raise UnsupportedLayerError(f"{self.g.where(node)} uses its output {extra!r}; expected only the first output")

    def chain(self, value: str, stop: str, first: Any = None) -> list:
        """Layers from ``value`` to ``stop`` (``first`` forces the first node: a residual branch)."""
        g = self.g
        layers: list = []
        while value != stop:
            if first is not None:
                node, first = first, None
            else:
                users = g.consumers.get(value, [])
                if not users:
                    raise ModelFileError(f"{g.source}: value {value!r} is used by no node and is not the graph output; "
                                         "expected a chain from the input to the output")
                if len(users) == 1:
                    node = users[0]
                    if node.op_type == "Add" and list(node.input) == [value, value]:
                        self._visit(node)
                        layers.append(Residual([]))
                        value = node.output[0]
                        continue
                elif len(users) == 2:
                    value = self._residual(value, users, layers)
                    continue
                else:
                    raise UnsupportedLayerError(
                        f"{g.source}: value {value!r} feeds {len(users)} nodes "
                        f"({', '.join(repr(u.name) for u in users)}); expected a chain with residual additions"
                    )
            self._visit(node)
            self._node(node, value, layers)
            self._only_first_output_used(node)
            value = node.output[0]
        return layers

    def _visit(self, node: Any) -> None:
        if id(node) in self.visited:
            raise ModelFileError(f"{self.g.where(node)} is reached twice; the graph has a cycle or is not a chain")
        self.visited.add(id(node))

    def _residual(self, value: str, users: list, layers: list) -> str:
        g = self.g
        adds = [u for u in users if u.op_type == "Add" and value in u.input and all(i not in g.consts for i in u.input)]
        if not adds:
            raise UnsupportedLayerError(
                f"{g.source}: value {value!r} feeds two nodes ({', '.join(repr(u.name) for u in users)}) but neither is "
                "the Add of a residual connection"
            )
        add = adds[0]
        branch = users[1] if users[0] is add else users[0]
        if len(add.input) != 2:
            raise ModelFileError(f"{g.where(add)} has {len(add.input)} inputs; expected 2")
        end = add.input[1] if add.input[0] == value else add.input[0]
        self.nesting += 1
        if self.nesting > limits.MAX_NESTING:
            raise ModelFileError(f"{g.where(add)} closes a residual block nested {self.nesting} deep; at most "
                                 f"{limits.MAX_NESTING} are allowed (exactmaso.io.limits.MAX_NESTING)")
        body = self.chain(value, end, first=branch)
        self.nesting -= 1
        self._visit(add)
        layers.append(Residual(body))
        return add.output[0]

    def _node(self, node: Any, value: str, layers: list) -> None:
        g, op = self.g, node.op_type
        if node.domain not in ("", "ai.onnx"):
            raise UnsupportedLayerError(f"{g.where(node)} is from the operator domain {node.domain!r}; supported: {_SUPPORTED}")
        if node.input[0] != value and op not in ("Add", "MatMul"):
            raise UnsupportedLayerError(f"{g.where(node)} takes {value!r} as a non-data input; expected a chain")
        if op == "Gemm":
            layers.append(_gemm(g, node))
        elif op == "MatMul":
            if node.input[0] != value:
                raise UnsupportedLayerError(f"{g.where(node)} multiplies a constant by the data from the left; expected data @ weight")
            layers.append(_matmul(g, node))
        elif op == "Add":
            if len(node.input) != 2:
                raise ModelFileError(f"{g.where(node)} has {len(node.input)} inputs; expected 2")
            other = 1 if node.input[0] == value else 0
            if node.input[other] not in g.consts:
                raise UnsupportedLayerError(
                    f"{g.where(node)} adds two computed values, but not as a residual x + branch(x); expected a chain"
                )
            _add_constant(g, node, other, layers)
        elif op == "Conv":
            layers.append(_conv(g, node))
        elif op == "Relu":
            layers.append(ReLU())
        elif op == "LeakyRelu":
            layers.append(LeakyReLU(_float_attr(g.attrs(node).get("alpha", 0.01), f"{g.where(node)} alpha")))
        elif op == "Abs":
            layers.append(Abs())
        elif op == "MaxPool":
            layers.append(_pool(g, node, maximum=True))
        elif op == "AveragePool":
            layers.append(_pool(g, node, maximum=False))
        elif op == "BatchNormalization":
            layers.append(_batchnorm(g, node))
        elif op == "Flatten":
            layers.append(_flatten(g, node))
        elif op == "Reshape":
            layers.append(_reshape(g, node, self.batch))
        elif op == "Identity":
            pass
        elif op == "Dropout":
            mode = g.const(node, 2, "training_mode", optional=True)
            if mode is not None and mode.size != 1:
                raise ModelFileError(f"{g.where(node)} has a training_mode of shape {mode.shape}; expected one boolean")
            if mode is not None and bool(np.asarray(mode).reshape(-1)[0]):
                raise UnsupportedLayerError(f"{g.where(node)} is in training mode; export the model in eval mode")
        else:
            raise UnsupportedLayerError(
                f"{g.where(node)}: the ONNX operator {op} has no exact max-affine form in exactmaso; supported: {_SUPPORTED}"
            )


# ------------------------------------------------------------------------------------------
# entry point
# ------------------------------------------------------------------------------------------


def from_onnx(path: str | os.PathLike) -> Network:
    """The exact network of an ONNX model file.

    Parameters
    ----------
    path
        An ``.onnx`` file.  Tensors stored as external data are read only from files inside
        the model's folder.

    Raises
    ------
    ModelFileNotFoundError
        ``path`` (or a file of external data) does not exist (a :class:`ModelFileError` and a
        :class:`FileNotFoundError`).
    ModelFileError
        Not a readable ONNX model, external data outside the folder, tensors whose dims
        disagree with their data, sizes above a cap (:mod:`exactmaso.io.limits`, checked on
        declared dims before any tensor or dense matrix is built), a graph that is not a
        chain from its single input to its single output.
    UnsupportedLayerError
        An operator or attribute with no exact max-affine form, named with the node.
    """
    onnx = _import_onnx()
    source = str(path)
    model = _load_model(path, onnx)
    g = _Graph(model, source, onnx)
    graph = model.graph
    inputs = [i for i in graph.input if i.name not in g.consts]
    if len(inputs) != 1:
        raise ModelFileError(f"{source}: the graph has {len(inputs)} data inputs; expected 1")
    if len(graph.output) != 1:
        raise ModelFileError(f"{source}: the graph has {len(graph.output)} outputs; expected 1")
    dims = inputs[0].type.tensor_type.shape.dim
    if len(dims) < 2:
        raise ModelShapeError(f"{source}: the input {inputs[0].name!r} has {len(dims)} dimension(s); expected (batch, ...)")
    if not all(d.HasField("dim_value") and d.dim_value > 0 for d in dims[1:]):
        shown = [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in dims]
        raise ModelShapeError(f"{source}: the input {inputs[0].name!r} has shape {shown}; expected fixed sizes after the batch dimension")
    input_shape = tuple(int(d.dim_value) for d in dims[1:])
    limits.check_shape(input_shape, f"{source}: the input {inputs[0].name!r}", cap="MAX_MASO_ENTRIES")
    batch = int(dims[0].dim_value) if dims[0].HasField("dim_value") else None
    walker = _Walker(g, graph.output[0].name, batch)
    layers = walker.chain(inputs[0].name, graph.output[0].name)
    if not layers:
        raise ModelFileError(f"{source}: the graph computes no layer (its output is its input)")
    limits.check_compiled_size(layers, input_shape, source)
    try:
        return Network(layers, input_shape=input_shape)
    except ShapeError as exc:
        raise ModelShapeError(f"{source}: {exc}") from exc
