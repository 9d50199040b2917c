"""Exact networks from ONNX files (``onnx`` is an optional dependency).

:func:`from_onnx` reads a graph that is a chain, from its one data input to its one output,
of these operators (any other is refused by op type and node name, with
:class:`~exactmaso.errors.UnsupportedLayerError`):

- affine maps with constant operands: ``Gemm`` (``alpha``, ``beta``, ``transA``, ``transB``),
  ``MatMul`` with the constant on either side (``x @ W`` applies ``W`` along the last axis,
  ``W @ x`` along the second to last), and elementwise ``Add``, ``Sub`` (``x - c`` and
  ``c - x``), ``Mul``, ``Div`` (``x / c``, as ``x * (1/c)`` exactly; ``c / x`` is refused) and
  ``Neg``, whose constant broadcasts to the data's shape (a scalar, a per-channel or a
  per-entry tensor);
- ``Conv`` (1-D, 2-D), ``BatchNormalization``, ``AveragePool``;
- the max-affine activations ``Relu``, ``LeakyRelu``, ``Abs`` and ``MaxPool``;
- re-indexings: ``Reshape``, ``Flatten``, ``Squeeze``, ``Unsqueeze`` (they keep the row-major
  order of the entries, so they change only the shape) and ``Transpose`` (a permutation of
  the entries, folded into the Dense layer before it or written as a permutation matrix);
- ``Identity``, ``Dropout`` (eval mode), and ``Constant`` nodes;

plus residual additions ``Add(x, branch(x))`` (what ``torch.onnx.export`` writes for
:class:`~exactmaso.io.torch_io.ResidualBlock`).  Initializers listed among the graph inputs
(IR versions below 4, as in the VNN-COMP ACAS Xu files) are constants; the data input is the
one graph input that is not an initializer.  External tensor data is read only from files
inside the model's folder.

Shapes and the batch axis.  The network's ``input_shape`` is the graph input's shape after its
first (batch) axis, or the whole shape of a 1-D input.  When that first axis is a fixed 1 (ACAS
Xu's ``[1, 1, 1, 5]``), the graph computes on one tensor and any re-indexing of it is exact.
When it is dynamic (``'N'``) or a fixed size above 1, every operator must keep it apart as
axis 0: a Reshape, Flatten, Squeeze, Unsqueeze, Transpose, ``Gemm(transA=1)`` or ``W @ x`` that
would move entries across it is refused.  Consecutive affine operators fold into one exact
affine map: an elementwise map into the Dense, Conv or BatchNorm layer before it, or into the
Dense layer after it.  exactmaso's layers can flatten a tensor but not restore a
multi-dimensional shape, so a Conv, pooling or BatchNormalization that reads a tensor after a
Transpose, a re-indexing to another multi-dimensional shape, or an elementwise constant that
varies inside a channel (all of which the layers hold flattened) is refused.

Conventions, chosen so that a model exported by ``torch.onnx.export(..., dynamo=False)``
gives exactly the network :func:`~exactmaso.io.torch_io.from_torch` gives:

- tensors (weights, biases, statistics, the constants of elementwise operators) convert
  exactly: a float32 entry is the rational it stores;
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
    "Gemm, MatMul, Add, Sub, Mul, Div, Neg (with constant operands), Conv, Relu, LeakyRelu, Abs, MaxPool, "
    "AveragePool, BatchNormalization, Flatten, Reshape, Squeeze, Unsqueeze, Transpose, Identity, Dropout, Constant"
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
    "auto_pad": "STRING", "axes": "INTS", "perm": "INTS", "allowzero": "INT",
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
# the tensor a chain computes
# ------------------------------------------------------------------------------------------


def _per_sample(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape exactmaso's layers hold a tensor of ONNX shape ``shape`` in: without a
    leading batch axis of size 1 (``(1, C, H, W) -> (C, H, W)``)."""
    return shape[1:] if len(shape) >= 2 and shape[0] == 1 else shape


def _zeros(n: int) -> np.ndarray:
    return np.full(n, Fraction(0), dtype=object)


def _channel_values(values: np.ndarray, held: tuple[int, ...]) -> np.ndarray | None:
    """``values`` (one per entry of a tensor of shape ``held``, row-major) as one value per
    channel (first axis), or None when they vary inside a channel."""
    per = values.reshape(held[0], -1)
    if all(v == row[0] for row in per for v in row):
        return per[:, 0].copy()
    return None


def _kron_along(A: np.ndarray, shape: tuple[int, ...], axis: int) -> np.ndarray:
    """The matrix of ``x -> A`` applied along ``axis`` of a row-major tensor of ``shape``:
    ``I_before (x) A (x) I_after`` with ``before``/``after`` the sizes of the axes around it."""
    M, K = A.shape
    before, after = math.prod(shape[:axis]), math.prod(shape[axis + 1:])
    out = np.full((before * M * after, before * K * after), Fraction(0), dtype=object)
    b = np.arange(before)[:, None, None, None]
    m = np.arange(M)[None, :, None, None]
    k = np.arange(K)[None, None, :, None]
    a = np.arange(after)[None, None, None, :]
    rows = np.broadcast_to((b * M + m) * after + a, (before, M, K, after))
    cols = np.broadcast_to((b * K + k) * after + a, (before, M, K, after))
    out[rows, cols] = np.broadcast_to(A[None, :, :, None], (before, M, K, after))
    return out


class _Chain:
    """The layers of a chain built so far and the ONNX tensor they compute.

    ``shape`` is the tensor's ONNX shape with its batch axis (if any) taken as 1.  ``batch``
    is the declared size of a batch axis that the graph must keep in place as axis 0 (a
    dynamic size such as ``'N'``, or a fixed size above 1), or None: an input whose first
    axis is a fixed 1 (ACAS Xu's ``[1, 1, 1, 5]``), or a 1-D input, is a plain tensor and
    every re-indexing of it is allowed.

    ``held`` is the shape of the layers' output: the same entries in the same row-major
    order, so a Reshape, Flatten, Squeeze or Unsqueeze changes ``shape`` only.  exactmaso's
    layers can flatten a tensor but not restore a multi-dimensional shape, so where ``held``
    cannot follow ``shape``, ``lost`` names the node after which they differ; only a layer
    that needs the channels (Conv, pooling, BatchNormalization) minds.
    """

    def __init__(self, g: _Graph, shape: tuple[int, ...], batch: int | str | None, held: tuple[int, ...]) -> None:
        self.g = g
        self.shape = tuple(shape)
        self.batch = batch
        self.held = tuple(held)
        self.lost: str | None = None
        self.layers: list = []

    def branch(self) -> "_Chain":
        """An empty chain from this chain's tensor (the branch of a residual block)."""
        out = _Chain(self.g, self.shape, self.batch, self.held)
        out.lost = self.lost
        return out

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def shown(self) -> str:
        """The shape as the graph declares it: the batch axis by its declared size."""
        if self.batch is None:
            return str(list(self.shape))
        return str([self.batch, *self.shape[1:]])

    # -- re-indexing -------------------------------------------------------------------
    def reshaped(self, shape: tuple[int, ...], node: Any) -> None:
        """The same entries in the same row-major order, as a tensor of ``shape``."""
        self.shape = tuple(shape)
        self._settle(node)

    def _settle(self, node: Any) -> None:
        target = _per_sample(self.shape)
        if target == self.held:
            self.lost = None
        elif len(target) == 1:
            self.layers.append(Flatten())
            self.held = target
            self.lost = None
        elif self.lost is None:
            self.lost = self.g.where(node)

    def hold_flat(self) -> None:
        if len(self.held) != 1:
            self.layers.append(Flatten())
            self.held = (self.size,)

    def need_channels(self, node: Any, spatial: int | None) -> None:
        """Refuse unless the tensor is ``(1, C, ...)`` (with ``spatial`` axes after ``C``) and
        the layers hold it as ``(C, ...)``."""
        g = self.g
        rank = len(self.shape)
        if rank < 2 or (spatial is not None and rank != spatial + 2):
            want = {None: "(N, C, ...)", 1: "(N, C, L)", 2: "(N, C, H, W)"}[spatial]
            raise ModelShapeError(f"{g.where(node)} gets an input of shape {self.shown()}; expected {want}")
        if self.shape[0] != 1:
            raise UnsupportedLayerError(
                f"{g.where(node)} gets an input of shape {self.shown()}, whose first axis is not a batch axis of 1"
            )
        if self.held != self.shape[1:]:
            raise UnsupportedLayerError(
                f"{g.where(node)} needs its input as a tensor of shape {list(self.shape[1:])}, but the layers hold it "
                f"flattened since {self.lost}; exactmaso's layers cannot restore a multi-dimensional shape"
            )

    def permuted(self, index: np.ndarray, shape: tuple[int, ...], node: Any) -> None:
        """Entry ``i`` of the result is entry ``index[i]`` of the tensor (row-major)."""
        n = self.size
        if np.array_equal(index, np.arange(n)):
            self.reshaped(shape, node)
            return
        last = self.layers[-1] if self.layers else None
        if isinstance(last, Dense):  # permute its rows
            self.layers[-1] = Dense(last.W[index], last.b[index])
        else:
            limits.check_shape((n, n), f"{self.g.where(node)}: its permutation matrix", cap="MAX_MASO_ENTRIES")
            P = np.full((n, n), Fraction(0), dtype=object)
            P[np.arange(n), index] = Fraction(1)
            self.dense(P, None)
        self.reshaped(shape, node)

    # -- affine maps ---------------------------------------------------------------------
    def dense(self, W: np.ndarray, b: np.ndarray | None) -> None:
        """``x -> W x + b`` on the flattened tensor; an elementwise affine map just before it
        (a BatchNorm on the flat tensor) folds into its columns."""
        self.hold_flat()
        last = self.layers[-1] if self.layers else None
        if isinstance(last, BatchNorm):
            self.layers.pop()
            b = W.dot(last.shift) + (b if b is not None else _zeros(W.shape[0]))
            W = W * last.scale[None, :]
        self.layers.append(Dense(W, b))
        self.held = (int(W.shape[0]),)

    def along_axis(self, A: np.ndarray, axis: int, shift: np.ndarray | None, shape: tuple[int, ...], node: Any) -> None:
        """``A`` (M, K) applied along ``axis`` of the tensor (then ``+ shift``, row-major),
        giving a tensor of ``shape``."""
        if math.prod(self.shape[:axis]) * math.prod(self.shape[axis + 1:]) == 1:
            matrix = A
        else:
            rows, cols = self.size // A.shape[1] * A.shape[0], self.size
            limits.check_shape((rows, cols), f"{self.g.where(node)}: its dense matrix", cap="MAX_MASO_ENTRIES")
            matrix = _kron_along(A, self.shape, axis)
        self.dense(matrix, shift)
        self.reshaped(shape, node)

    def elementwise(self, scale: np.ndarray, shift: np.ndarray, node: Any) -> None:
        """``x -> scale * x + shift`` entry by entry (row-major, one of each per entry),
        folded into the layer before it where it can be."""
        if all(s == 1 for s in scale) and all(t == 0 for t in shift):
            return
        last = self.layers[-1] if self.layers else None
        if isinstance(last, Dense):
            self.layers[-1] = Dense(last.W * scale[:, None], last.b * scale + shift)
            return
        s_c, t_c = _channel_values(scale, self.held), _channel_values(shift, self.held)
        if s_c is None or t_c is None:  # varies inside a channel: only on the flat tensor
            self.hold_flat()
            self.layers.append(BatchNorm(scale, shift))
            self._settle(node)
            return
        if isinstance(last, BatchNorm):
            self.layers[-1] = BatchNorm(last.scale * s_c, last.shift * s_c + t_c)
        elif isinstance(last, (Conv1d, Conv2d)):
            bias = last.bias if last.bias is not None else _zeros(last.weight.shape[0])
            weight = last.weight * s_c.reshape((-1,) + (1,) * (last.weight.ndim - 1))
            one_d = isinstance(last, Conv1d)
            self.layers[-1] = type(last)(weight, bias * s_c + t_c,
                                         stride=last.stride[0] if one_d else last.stride,
                                         padding=last.padding[0] if one_d else last.padding)
        else:
            self.layers.append(BatchNorm(s_c, t_c))

    def append(self, layer: Any, shape: tuple[int, ...] | None = None) -> None:
        """A layer that keeps the shape (an activation), or gives a tensor of ONNX ``shape``
        held as its per-sample shape (a convolution or pooling)."""
        self.layers.append(layer)
        if shape is not None:
            self.shape = tuple(shape)
            self.held = _per_sample(self.shape)
            self.lost = None


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


def _constant_operand(c: _Chain, node: Any, value: str, what: str) -> tuple[int, np.ndarray]:
    """The index of the data among a binary node's two inputs and the other one, a constant."""
    g = c.g
    if len(node.input) != 2:
        raise ModelFileError(f"{g.where(node)} has {len(node.input)} inputs; expected 2")
    if list(node.input) == [value, value] or all(i not in g.consts for i in node.input):
        raise UnsupportedLayerError(
            f"{g.where(node)} {what} two computed values; expected the data and a constant (initializer)"
        )
    data = 0 if node.input[0] == value else 1
    return data, g.exact(g.consts[node.input[1 - data]], node, "constant")


def _broadcast(c: _Chain, node: Any, const: np.ndarray) -> np.ndarray:
    """``const`` broadcast over the tensor, one value per entry (row-major)."""
    try:
        ok = np.broadcast_shapes(c.shape, const.shape) == c.shape
    except ValueError:
        ok = False
    if not ok:
        raise UnsupportedLayerError(
            f"{c.g.where(node)} combines the data of shape {c.shown()} with a constant of shape {list(const.shape)}, "
            "which does not broadcast to the data's shape (one value per sample entry); expected a per-entry, "
            "per-channel or scalar constant"
        )
    return np.broadcast_to(const, c.shape).reshape(-1).copy()


def _op_add(c: _Chain, node: Any, value: str) -> None:
    _, const = _constant_operand(c, node, value, "adds")
    shift = _broadcast(c, node, const)
    c.elementwise(np.full(c.size, Fraction(1), dtype=object), shift, node)


def _op_sub(c: _Chain, node: Any, value: str) -> None:
    data, const = _constant_operand(c, node, value, "subtracts")
    values = _broadcast(c, node, const)
    if data == 0:  # x - c
        c.elementwise(np.full(c.size, Fraction(1), dtype=object), -values, node)
    else:  # c - x
        c.elementwise(np.full(c.size, Fraction(-1), dtype=object), values, node)


def _op_mul(c: _Chain, node: Any, value: str) -> None:
    _, const = _constant_operand(c, node, value, "multiplies")
    c.elementwise(_broadcast(c, node, const), _zeros(c.size), node)


def _op_div(c: _Chain, node: Any, value: str) -> None:
    data, const = _constant_operand(c, node, value, "divides")
    if data == 1:
        raise UnsupportedLayerError(
            f"{c.g.where(node)} divides a constant by the data (c / x), which is not affine; expected x / c"
        )
    values = _broadcast(c, node, const)
    zero = next((i for i, v in enumerate(values) if v == 0), None)
    if zero is not None:
        raise ModelFileError(f"{c.g.where(node)} divides by a constant that is 0 at entry {zero} (row-major)")
    c.elementwise(np.array([1 / v for v in values], dtype=object), _zeros(c.size), node)


def _op_neg(c: _Chain, node: Any, value: str) -> None:
    c.elementwise(np.full(c.size, Fraction(-1), dtype=object), _zeros(c.size), node)


def _op_gemm(c: _Chain, node: Any, value: str) -> None:
    """``alpha * A' @ B' + beta * C`` with the data as ``A`` (``A' = A`` or its transpose)."""
    g = c.g
    where = g.where(node)
    if node.input[0] != value:
        raise UnsupportedLayerError(f"{where} takes the data as its input B; expected Gemm(data, weight, bias)")
    a = g.attrs(node)
    if a.get("transA", 0) and c.batch is not None:
        raise UnsupportedLayerError(
            f"{where} has transA=1 on an input of shape {c.shown()}, which multiplies across the batch axis; "
            "expected transA=0 (the batch-major input)"
        )
    B = g.exact(g.const(node, 1, "weight"), node, "weight")
    if B.ndim != 2:
        raise ModelShapeError(f"{where} weight has shape {B.shape}; expected 2 dimensions")
    if len(c.shape) != 2:
        raise ModelShapeError(f"{where} gets an input of shape {c.shown()}; expected 2 dimensions")
    if a.get("transA", 0):
        rows, cols = c.shape
        index = np.arange(c.size).reshape(rows, cols).T.reshape(-1)
        c.permuted(index, (cols, rows), node)
    W = B if a.get("transB", 0) else B.T  # (out, in)
    M, K = c.shape
    if W.shape[1] != K:
        raise ModelShapeError(f"{where} weight has shape {B.shape} (transB={a.get('transB', 0)}); its input has "
                              f"{K} columns")
    alpha = Fraction(_float_attr(a.get("alpha", 1.0), f"{where} alpha"))
    beta = Fraction(_float_attr(a.get("beta", 1.0), f"{where} beta"))
    if alpha != 1:
        W = W * alpha
    out = W.shape[0]
    shift = None
    C = g.const(node, 2, "bias", optional=True)
    if C is not None:
        Cf = g.exact(C, node, "bias")
        try:
            Cf = np.broadcast_to(Cf, (M, out)).reshape(-1)
        except ValueError:
            raise ModelShapeError(f"{where} bias has shape {C.shape}; expected ({out},)") from None
        shift = Cf * beta if beta != 1 else Cf.copy()
    c.along_axis(W, 1, shift, (M, out), node)


def _op_matmul(c: _Chain, node: Any, value: str) -> None:
    """``x @ W`` (``W`` along the last axis) or ``W @ x`` (along the second to last) for a
    constant matrix ``W``, or a constant vector on the right."""
    g = c.g
    where = g.where(node)
    if len(node.input) != 2:
        raise ModelFileError(f"{where} has {len(node.input)} inputs; expected 2")
    data = 0 if node.input[0] == value else 1
    W = g.exact(g.const(node, 1 - data, "weight"), node, "weight")
    rank = len(c.shape)
    if rank == 0:
        raise ModelShapeError(f"{where} multiplies a scalar; expected a tensor of at least 1 dimension")
    if data == 0:  # x @ W
        if W.ndim == 1 and rank >= 2:
            W, drop = W[:, None], True
        elif W.ndim == 2:
            drop = False
        else:
            raise UnsupportedLayerError(f"{where} multiplies the data by a constant of shape {list(W.shape)}; expected "
                                        "a matrix (in, out)")
        K, out = W.shape
        if c.shape[-1] != K:
            raise ModelShapeError(f"{where} weight has shape {W.shape}; its input of shape {c.shown()} has {c.shape[-1]} "
                                  "entries along the last axis")
        shape = c.shape[:-1] if drop else c.shape[:-1] + (out,)
        c.along_axis(W.T, rank - 1, None, shape, node)
        return
    if W.ndim != 2:  # W @ x
        raise UnsupportedLayerError(f"{where} multiplies a constant of shape {list(W.shape)} by the data from the left; "
                                    "expected a matrix (out, in)")
    if rank == 2 and c.batch is not None:
        raise UnsupportedLayerError(
            f"{where} multiplies a constant by the data of shape {c.shown()} from the left, which mixes the batch axis; "
            "expected data @ weight"
        )
    axis = max(rank - 2, 0)
    out, K = W.shape
    if c.shape[axis] != K:
        raise ModelShapeError(f"{where} weight has shape {W.shape}; its input of shape {c.shown()} has {c.shape[axis]} "
                              f"entries along axis {axis}")
    c.along_axis(W, axis, None, c.shape[:axis] + (out,) + c.shape[axis + 1:], node)


def _raw_axes(c: _Chain, node: Any, *, required: bool) -> list[int] | None:
    """The ``axes`` of a Squeeze or Unsqueeze: an attribute before opset 13, an input since."""
    g = c.g
    a = g.attrs(node)
    if "axes" in a:
        return list(a["axes"])
    if len(node.input) > 1 and node.input[1]:
        arr = g.const(node, 1, "axes")
        if arr.dtype.kind not in "iu":
            raise ModelFileError(f"{g.where(node)} has an axes tensor of dtype {arr.dtype}; expected integers")
        return [int(v) for v in arr.reshape(-1)]
    if required:
        raise ModelFileError(f"{g.where(node)} has no axes; expected an axes attribute or input")
    return None


def _normalized_axes(c: _Chain, node: Any, raw: list[int], rank: int) -> list[int]:
    """``raw`` axes of a ``rank``-dimensional tensor as ``0 .. rank - 1``."""
    axes = [v + rank if v < 0 else v for v in raw]
    if any(not 0 <= v < rank for v in axes) or len(set(axes)) != len(axes):
        raise ModelFileError(f"{c.g.where(node)} has axes {raw}; expected distinct axes of a {rank}-dimensional tensor")
    return axes


def _op_squeeze(c: _Chain, node: Any, value: str) -> None:
    raw = _raw_axes(c, node, required=False)
    if raw is None:
        axes = [i for i, d in enumerate(c.shape) if d == 1 and not (i == 0 and c.batch is not None)]
    else:
        axes = _normalized_axes(c, node, raw, len(c.shape))
    if 0 in axes and c.batch is not None:
        raise UnsupportedLayerError(f"{c.g.where(node)} removes the batch axis of an input of shape {c.shown()}")
    wide = [i for i in axes if c.shape[i] != 1]
    if wide:
        raise ModelShapeError(f"{c.g.where(node)} squeezes axis {wide[0]} of an input of shape {c.shown()}; "
                              "expected axes of size 1")
    c.reshaped(tuple(d for i, d in enumerate(c.shape) if i not in axes), node)


def _op_unsqueeze(c: _Chain, node: Any, value: str) -> None:
    raw = _raw_axes(c, node, required=True)
    axes = _normalized_axes(c, node, raw, len(c.shape) + len(raw))
    if 0 in axes and c.batch is not None:
        raise UnsupportedLayerError(f"{c.g.where(node)} inserts an axis before the batch axis of an input of shape "
                                    f"{c.shown()}")
    shape = list(c.shape)
    for axis in sorted(axes):
        shape.insert(axis, 1)
    c.reshaped(tuple(shape), node)


def _op_flatten(c: _Chain, node: Any, value: str) -> None:
    g = c.g
    a = g.attrs(node)
    rank = len(c.shape)
    given = a.get("axis", 1)
    axis = given + rank if given < 0 else given
    if not 0 <= axis <= rank:
        raise ModelFileError(f"{g.where(node)} has axis={given}; expected an axis of a {rank}-dimensional tensor")
    if c.batch is not None and axis != 1:
        raise UnsupportedLayerError(f"{g.where(node)} has axis={given} on an input of shape {c.shown()}, which merges "
                                    "the batch axis; expected 1")
    c.reshaped((math.prod(c.shape[:axis]), math.prod(c.shape[axis:])), node)


def _op_reshape(c: _Chain, node: Any, value: str) -> None:
    g = c.g
    where = g.where(node)
    shape = g.const(node, 1, "shape")
    if shape.dtype.kind not in "iu":
        raise ModelFileError(f"{where} has a shape tensor of dtype {shape.dtype}; expected integers")
    if shape.size > limits.MAX_AXES:
        raise ModelFileError(f"{where} reshapes to {shape.size:,} axes; at most {limits.MAX_AXES} are allowed "
                             "(exactmaso.io.limits.MAX_AXES)")
    target = [int(v) for v in shape.reshape(-1)]
    allow_zero = g.attrs(node).get("allowzero", 0)
    dims = []
    for i, v in enumerate(target):
        if v == 0 and not allow_zero:
            if i >= len(c.shape):
                raise ModelShapeError(f"{where} reshapes to {target}: entry {i} copies axis {i}, which its input of "
                                      f"shape {c.shown()} lacks")
            dims.append(c.shape[i])
        elif v > 0 or v == -1:
            dims.append(v)
        else:
            raise ModelShapeError(f"{where} reshapes to {target}; expected entries that are positive, -1 or 0 "
                                  "(copy the input's size)")
    if dims.count(-1) > 1:
        raise ModelShapeError(f"{where} reshapes to {target}; expected at most one -1")
    if c.batch is not None:
        if not target or target[0] not in (0, 1, -1, c.batch):
            raise UnsupportedLayerError(f"{where} reshapes to {target}, which does not keep the batch axis first; "
                                        "expected a first entry 0, 1 or the batch size")
        rest = dims[1:]
        if -1 not in rest and math.prod(rest) != c.size:
            raise UnsupportedLayerError(f"{where} reshapes to {target}, which moves entries across the batch axis: "
                                        f"one sample has {c.size} entries")
        dims[0] = 1
    known = math.prod(d for d in dims if d != -1)
    if -1 in dims:
        if known == 0 or c.size % known:
            raise ModelShapeError(f"{where} reshapes {c.shown()} to {target}; {c.size} entries do not fill it")
        dims[dims.index(-1)] = c.size // known
    if math.prod(dims) != c.size:
        raise ModelShapeError(f"{where} reshapes {c.shown()} to {target}: {math.prod(dims)} entries; its input has "
                              f"{c.size}")
    limits.check_shape(tuple(dims), f"{where}: its target shape", cap="MAX_MASO_ENTRIES")
    c.reshaped(tuple(dims), node)


def _op_transpose(c: _Chain, node: Any, value: str) -> None:
    g = c.g
    rank = len(c.shape)
    perm = list(g.attrs(node).get("perm", reversed(range(rank))))
    if sorted(perm) != list(range(rank)):
        raise ModelFileError(f"{g.where(node)} has perm={perm}; expected a permutation of the {rank} axes of its input")
    if c.batch is not None and perm[0] != 0:
        raise UnsupportedLayerError(f"{g.where(node)} has perm={perm}, which moves the batch axis of an input of shape "
                                    f"{c.shown()}")
    index = np.arange(c.size).reshape(c.shape).transpose(perm).reshape(-1)
    c.permuted(index, tuple(c.shape[p] for p in perm), node)


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


def _windowed(c: _Chain, node: Any, layer: Any, channels: int, kernel: tuple[int, ...]) -> None:
    """Append a convolution or pooling ``layer`` after checking its input, with its output shape."""
    c.need_channels(node, len(kernel))
    spatial = c.shape[2:]
    out = tuple((s + 2 * p - k) // st + 1 for s, k, st, p in zip(spatial, kernel, layer.stride, layer.padding))
    if any(o <= 0 for o in out):
        raise ModelShapeError(f"{c.g.where(node)}: a window of {list(kernel)} with padding {list(layer.padding)} does not "
                              f"fit its input of shape {c.shown()}")
    c.append(layer, (1, channels, *out))


def _op_conv(c: _Chain, node: Any, value: str) -> None:
    layer = _conv(c.g, node)
    if len(c.shape) >= 2 and c.shape[1] != layer.weight.shape[1]:
        raise ModelShapeError(f"{c.g.where(node)} weight takes {layer.weight.shape[1]} channels; its input of shape "
                              f"{c.shown()} has {c.shape[1]}")
    _windowed(c, node, layer, int(layer.weight.shape[0]), tuple(layer.weight.shape[2:]))


def _op_pool(c: _Chain, node: Any, value: str) -> None:
    layer = _pool(c.g, node, maximum=node.op_type == "MaxPool")
    _windowed(c, node, layer, c.shape[1] if len(c.shape) >= 2 else 0, layer.kernel_size)


def _op_batchnorm(c: _Chain, node: Any, value: str) -> None:
    g = c.g
    a = g.attrs(node)
    _check_default(g, node, a, "training_mode", 0)
    _check_default(g, node, a, "spatial", 1)
    scale, bias, mean, var = (g.exact(g.const(node, i, what), node, what)
                              for i, what in enumerate(("scale", "bias", "mean", "var"), start=1))
    eps = _float_attr(a.get("epsilon", 1e-5), f"{g.where(node)} epsilon")
    c.need_channels(node, None)
    c.append(BatchNorm.from_stats(mean.reshape(-1), var.reshape(-1), scale.reshape(-1), bias.reshape(-1), eps))


def _op_dropout(c: _Chain, node: Any, value: str) -> None:
    g = c.g
    mode = g.const(node, 2, "training_mode", optional=True)
    if mode is not None and mode.size != 1:
        raise ModelFileError(f"{g.where(node)} has a training_mode of shape {mode.shape}; expected one boolean")
    if mode is not None and bool(np.asarray(mode).reshape(-1)[0]):
        raise UnsupportedLayerError(f"{g.where(node)} is in training mode; export the model in eval mode")


def _op_leaky_relu(c: _Chain, node: Any, value: str) -> None:
    c.append(LeakyReLU(_float_attr(c.g.attrs(node).get("alpha", 0.01), f"{c.g.where(node)} alpha")))


_OPERATORS = {
    "Gemm": _op_gemm,
    "MatMul": _op_matmul,
    "Add": _op_add,
    "Sub": _op_sub,
    "Mul": _op_mul,
    "Div": _op_div,
    "Neg": _op_neg,
    "Conv": _op_conv,
    "Relu": lambda c, node, value: c.append(ReLU()),
    "LeakyRelu": _op_leaky_relu,
    "Abs": lambda c, node, value: c.append(Abs()),
    "MaxPool": _op_pool,
    "AveragePool": _op_pool,
    "BatchNormalization": _op_batchnorm,
    "Flatten": _op_flatten,
    "Reshape": _op_reshape,
    "Squeeze": _op_squeeze,
    "Unsqueeze": _op_unsqueeze,
    "Transpose": _op_transpose,
    "Identity": lambda c, node, value: None,
    "Dropout": _op_dropout,
}

# operators whose data may be any input (the others read it as their first)
_DATA_ANYWHERE = ("Add", "Sub", "Mul", "Div", "MatMul", "Gemm")


# ------------------------------------------------------------------------------------------
# the chain walk
# ------------------------------------------------------------------------------------------


class _Walker:
    def __init__(self, g: _Graph, output: str) -> None:
        self.g = g
        self.output = output
        self.visited: set[int] = set()
        self.nesting = 0  # residual blocks inside residual blocks

    def _only_first_output_used(self, node: Any) -> None:
        for extra in node.output[1:]:
            if extra and (self.g.consumers.get(extra) or extra == self.output):
                raise UnsupportedLayerError(f"{self.g.where(node)} uses its output {extra!r}; expected only the first output")

    def chain(self, c: _Chain, value: str, stop: str, first: Any = None) -> None:
        """Build the layers from ``value`` to ``stop`` into ``c`` (``first`` forces the first
        node: a residual branch)."""
        g = self.g
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
                        c.append(Residual([]))
                        value = node.output[0]
                        continue
                elif len(users) == 2:
                    value = self._residual(c, value, users)
                    continue
                else:
                    raise UnsupportedLayerError(
                        f"{g.source}: value {value!r} feeds {len(users)} nodes "
                        f"({', '.join(repr(u.name) for u in users)}); expected a chain with residual additions"
                    )
            self._visit(node)
            self._node(c, node, value)
            self._only_first_output_used(node)
            value = node.output[0]

    def _visit(self, node: Any) -> None:
        if id(node) in self.visited:
            raise ModelFileError(f"{self.g.where(node)} is reached twice; the graph has a cycle or is not a chain")
        self.visited.add(id(node))

    def _residual(self, c: _Chain, value: str, users: list) -> str:
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
        body = c.branch()
        self.chain(body, value, end, first=branch)
        self.nesting -= 1
        self._visit(add)
        if body.shape != c.shape:
            raise ModelShapeError(f"{g.where(add)} adds a branch of shape {body.shown()} to its input of shape {c.shown()}")
        if body.held != c.held:
            raise UnsupportedLayerError(
                f"{g.where(add)} adds a branch that the layers hold flattened (since {body.lost}) to an input of shape "
                f"{c.shown()}; exactmaso's layers cannot restore a multi-dimensional shape"
            )
        c.append(Residual(body.layers))
        return add.output[0]

    def _node(self, c: _Chain, node: Any, value: str) -> None:
        g, op = self.g, node.op_type
        if node.domain not in ("", "ai.onnx"):
            raise UnsupportedLayerError(f"{g.where(node)} is from the operator domain {node.domain!r}; supported: {_SUPPORTED}")
        handler = _OPERATORS.get(op)
        if handler is None:
            raise UnsupportedLayerError(
                f"{g.where(node)}: the ONNX operator {op} has no exact max-affine form in exactmaso; supported: {_SUPPORTED}"
            )
        if node.input[0] != value and op not in _DATA_ANYWHERE:
            raise UnsupportedLayerError(f"{g.where(node)} takes {value!r} as a non-data input; expected a chain")
        handler(c, node, value)


# ------------------------------------------------------------------------------------------
# entry point
# ------------------------------------------------------------------------------------------


def _input_tensor(source: str, value_info: Any) -> tuple[tuple[int, ...], int | str | None]:
    """The network's input shape and the declared batch (see :class:`_Chain`) of the graph input."""
    name = value_info.name
    dims = value_info.type.tensor_type.shape.dim
    fixed = [d.HasField("dim_value") and d.dim_value > 0 for d in dims]
    shown = [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in dims]
    if not dims:
        raise ModelShapeError(f"{source}: the input {name!r} has no dimensions; expected (batch, ...) or a vector")
    if len(dims) == 1:
        if not fixed[0]:
            raise ModelShapeError(f"{source}: the input {name!r} has shape {shown}; expected a fixed size")
        return (int(dims[0].dim_value),), None
    if not all(fixed[1:]):
        raise ModelShapeError(f"{source}: the input {name!r} has shape {shown}; expected fixed sizes after the batch dimension")
    shape = tuple(int(d.dim_value) for d in dims[1:])
    if fixed[0]:
        first = int(dims[0].dim_value)
        return shape, None if first == 1 else first
    return shape, dims[0].dim_param or "?"


def from_onnx(path: str | os.PathLike) -> Network:
    """The exact network of an ONNX model file.

    Parameters
    ----------
    path
        An ``.onnx`` file.  Tensors stored as external data are read only from files inside
        the model's folder.

    Returns
    -------
    Network
        Its ``input_shape`` is the graph input's shape after the batch axis (``(1, 1, 5)``
        for ACAS Xu's ``[1, 1, 1, 5]``), or the input's shape for a 1-D input.

    Raises
    ------
    ModelFileNotFoundError
        ``path`` (or a file of external data) does not exist (a :class:`ModelFileError` and a
        :class:`FileNotFoundError`).
    ModelFileError
        Not a readable ONNX model, external data outside the folder, tensors whose dims
        disagree with their data, sizes above a cap (:mod:`exactmaso.io.limits`, checked on
        declared dims before any tensor or dense matrix is built), a graph that is not a
        chain from its single input to its single output, a division by zero.
    UnsupportedLayerError
        An operator or attribute with no exact max-affine form, named with the node.
    """
    onnx = _import_onnx()
    source = str(path)
    model = _load_model(path, onnx)
    g = _Graph(model, source, onnx)
    graph = model.graph
    inputs = [i for i in graph.input if i.name not in g.consts]  # IR < 4 lists initializers as inputs too
    if len(inputs) != 1:
        raise ModelFileError(f"{source}: the graph has {len(inputs)} data inputs; expected 1")
    if len(graph.output) != 1:
        raise ModelFileError(f"{source}: the graph has {len(graph.output)} outputs; expected 1")
    input_shape, batch = _input_tensor(source, inputs[0])
    limits.check_shape(input_shape, f"{source}: the input {inputs[0].name!r}", cap="MAX_MASO_ENTRIES")
    onnx_shape = input_shape if len(inputs[0].type.tensor_type.shape.dim) == 1 else (1, *input_shape)
    chain = _Chain(g, onnx_shape, batch, input_shape)
    _Walker(g, graph.output[0].name).chain(chain, inputs[0].name, graph.output[0].name)
    layers = chain.layers
    if not layers:
        raise ModelFileError(f"{source}: the graph computes no layer (its output is its input)")
    limits.check_compiled_size(layers, input_shape, source)
    try:
        return Network(layers, input_shape=input_shape)
    except ShapeError as exc:
        raise ModelShapeError(f"{source}: {exc}") from exc
