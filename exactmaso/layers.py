"""Layers in max-affine spline form.

Each layer is a small immutable description.  :func:`compile_layers` turns a list of them
into MASOs: affine layers (:class:`Dense`, :class:`Conv1d`, :class:`Conv2d`,
:class:`AvgPool1d`, :class:`AvgPool2d`, :class:`BatchNorm`, :class:`Flatten`) accumulate into
one exact affine map, which folds into the next nonlinear layer (:class:`ReLU`,
:class:`LeakyReLU`, :class:`Abs`, :class:`MaxPool1d`, :class:`MaxPool2d`); a
:class:`Residual` block ``x + g(x)`` carries its input through ``g`` with pass-through units
(units whose pieces are all equal, so their code is always 0).

Piece order fixes the codes: for ReLU piece 0 is ``0`` and piece 1 the identity, so code 1
means "pre-activation > 0"; LeakyReLU(s) has pieces ``s z`` and ``z``; Abs has ``-z`` and ``z``;
a max-pool unit has one piece per window entry in row-major order.  Ties go to the lowest
index, so a unit whose pre-activation is exactly 0 has code 0.

Tensors are channels first, as in PyTorch: ``(C,)``, ``(C, L)`` or ``(C, H, W)``; one
input is never batched here (the batch axis belongs to :meth:`Network.__call__`).

Compilation is sparse and exact throughout: a convolution is a
:class:`~exactmaso.numbers.SparseIntMatrix` with one row per output entry (its kernel's
weights as integer numerators over one denominator), pooling selects or averages rows, batch
normalisation scales them, and affine maps compose by sparse products.  Each MASO is then
stored as ``storage=`` says (:meth:`~exactmaso.maso.MASO.with_storage`): by default large,
mostly-zero layers stay sparse and the others are dense, as before.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, ClassVar, Sequence

import numpy as np

from .errors import DomainError, ShapeError, UnsupportedLayerError
from .maso import MASO, Network, check_storage
from .numbers import SparseIntMatrix, lcm_of_denominators, to_fraction, to_fraction_array

__all__ = [
    "Layer",
    "Dense",
    "ReLU",
    "LeakyReLU",
    "Abs",
    "MaxPool1d",
    "MaxPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "Conv1d",
    "Conv2d",
    "BatchNorm",
    "Flatten",
    "Residual",
    "mlp",
    "compile_layers",
]

_ZERO = Fraction(0)
_ONE = Fraction(1)


class Layer:
    """Base of the layer descriptions; ``_apply`` writes the layer into a :class:`_Builder`."""

    __slots__ = ()

    def _apply(self, b: "_Builder", index: str) -> None:  # pragma: no cover - interface
        raise NotImplementedError


def _int_tuple(value: Any, n: int, name: str, *, minimum: int) -> tuple[int, ...]:
    """An int or a sequence of ``n`` ints, each at least ``minimum``, as a tuple of ``n`` ints."""
    try:
        items = [value] * n if not isinstance(value, (tuple, list, np.ndarray)) else list(value)
        t = tuple(operator.index(v) for v in items)
    except TypeError:
        t = ()
    if len(t) != n or any(v < minimum for v in t):
        want = "an int" if n == 1 else f"an int or {n} ints"
        raise ShapeError(f"{name} is {value!r}; expected {want}, each at least {minimum}")
    return t


def _zeros(n: int) -> np.ndarray:
    return np.full(n, _ZERO, dtype=object)


def _size(shape: Sequence[int]) -> int:
    return math.prod(int(s) for s in shape)


# ---------------------------------------------------------------------------------------
# affine layers
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class Dense(Layer):
    """``z -> W z + b`` with ``W`` of shape (out, in), like ``torch.nn.Linear``.

    >>> Network([Dense([[1, 2]], [3])])([1, 1]).tolist()
    [Fraction(6, 1)]
    """

    W: Any
    b: Any = None

    def __post_init__(self) -> None:
        W = to_fraction_array(self.W, name="Dense weight", ndim=2)
        if self.b is None:
            b = _zeros(W.shape[0])
        else:
            b = to_fraction_array(self.b, name="Dense bias", ndim=1)
        if b.shape[0] != W.shape[0]:
            raise ShapeError(f"Dense bias has {b.shape[0]} entries; the weight has {W.shape[0]} rows")
        object.__setattr__(self, "W", W)
        object.__setattr__(self, "b", b)

    def _apply(self, b: "_Builder", index: str) -> None:
        if len(b.shape) != 1:
            raise ShapeError(f"layer {index} (Dense) gets an input of shape {b.shape}; add a Flatten() before it")
        if self.W.shape[1] != b.shape[0]:
            raise ShapeError(
                f"layer {index} (Dense) weight has {self.W.shape[1]} columns; its input has {b.shape[0]} entries"
            )
        aug = np.concatenate([self.W, self.b[:, None]], axis=1)
        b.affine(SparseIntMatrix.from_fractions(aug), (self.W.shape[0],))


def _out_size(size: int, kernel: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1


@dataclass(frozen=True, slots=True, eq=False)
class _ConvNd(Layer):
    weight: Any
    bias: Any = None
    stride: Any = 1
    padding: Any = 0

    _ndim: ClassVar[int] = 0

    def __post_init__(self) -> None:
        name = type(self).__name__
        w = to_fraction_array(self.weight, name=f"{name} weight", ndim=self._ndim + 2)
        if 0 in w.shape:
            raise ShapeError(f"{name} weight has shape {w.shape}; every dimension must be at least 1")
        bias = None if self.bias is None else to_fraction_array(self.bias, name=f"{name} bias", shape=(w.shape[0],))
        object.__setattr__(self, "weight", w)
        object.__setattr__(self, "bias", bias)
        object.__setattr__(self, "stride", _int_tuple(self.stride, self._ndim, f"{name} stride", minimum=1))
        object.__setattr__(self, "padding", _int_tuple(self.padding, self._ndim, f"{name} padding", minimum=0))

    def _apply(self, b: "_Builder", index: str) -> None:
        name = type(self).__name__
        if len(b.shape) != self._ndim + 1:
            raise ShapeError(
                f"layer {index} ({name}) needs an input of {self._ndim + 1} dimensions (channels first); "
                f"got shape {b.shape}"
            )
        if self.weight.shape[1] != b.shape[0]:
            raise ShapeError(
                f"layer {index} ({name}) weight takes {self.weight.shape[1]} channels; its input has {b.shape[0]}"
            )
        matrix, out_shape = _conv_matrix(self.weight, self.bias, b.shape, self.stride, self.padding, f"layer {index} ({name})")
        b.affine(matrix, out_shape)


@dataclass(frozen=True, slots=True, eq=False)
class Conv2d(_ConvNd):
    """2-D convolution like ``torch.nn.Conv2d``: weight (out_ch, in_ch, kh, kw), zero padding.

    Cross-correlation, as in torch; no dilation or groups.  Input shape (C, H, W).
    """

    _ndim: ClassVar[int] = 2


@dataclass(frozen=True, slots=True, eq=False)
class Conv1d(_ConvNd):
    """1-D convolution like ``torch.nn.Conv1d``: weight (out_ch, in_ch, k), zero padding.

    >>> conv = Conv1d([[[1, -1]]])             # differences of neighbours
    >>> Network([conv], input_shape=(1, 3))([5, 2, 7]).tolist()
    [Fraction(3, 1), Fraction(-5, 1)]
    """

    _ndim: ClassVar[int] = 1


def _conv_matrix(
    weight: np.ndarray,
    bias: np.ndarray | None,
    in_shape: tuple[int, ...],
    stride: tuple[int, ...],
    padding: tuple[int, ...],
    what: str,
) -> tuple[SparseIntMatrix, tuple[int, ...]]:
    """The exact sparse augmented matrix [M | bias] (out, in + 1) of a convolution and its out shape.

    Row ``(co, o)`` (channel-major, row-major positions) holds ``weight[co, ci, k]`` at the
    input ``(ci, o * stride - padding + k)`` for each kernel position ``k`` inside the input.
    """
    cout, cin = weight.shape[:2]
    kernel = weight.shape[2:]
    spatial = in_shape[1:]
    out_sp = tuple(_out_size(s, k, st, p) for s, k, st, p in zip(spatial, kernel, stride, padding))
    if any(o <= 0 for o in out_sp):
        raise ShapeError(f"{what}: kernel {kernel} with padding {padding} does not fit an input of shape {in_shape}")
    bias = bias if bias is not None else _zeros(cout)
    den = math.lcm(lcm_of_denominators(weight.flat), lcm_of_denominators(bias))
    w_int = np.array([v.numerator * (den // v.denominator) for v in weight.flat], dtype=object)
    w_int = w_int.reshape(cout, cin, -1)
    b_int = np.array([v.numerator * (den // v.denominator) for v in bias], dtype=object)
    n_in, n_sp, n_out = _size(in_shape), _size(spatial), _size(out_sp)
    # the input position of each (output position, kernel position), per spatial axis
    opos = np.indices(out_sp).reshape(len(out_sp), -1).T  # (n_out, ndim), row-major
    kpos = np.indices(kernel).reshape(len(kernel), -1).T  # (kernel size, ndim), row-major
    ipos = opos[:, None, :] * np.array(stride) - np.array(padding) + kpos[None, :, :]
    inside = np.all((ipos >= 0) & (ipos < np.array(spatial)), axis=2)
    o_idx, k_idx = np.nonzero(inside)
    flat = np.ravel_multi_index(tuple(ipos[o_idx, k_idx].T), spatial)
    co = np.arange(cout)[:, None, None]
    ci = np.arange(cin)[None, :, None]
    rows = np.broadcast_to(co * n_out + o_idx, (cout, cin, len(o_idx)))
    cols = np.broadcast_to(ci * n_sp + flat, (cout, cin, len(o_idx)))
    vals = w_int[:, :, k_idx]
    bias_rows = np.arange(cout * n_out)
    matrix = SparseIntMatrix.from_coo(
        np.concatenate((rows.reshape(-1), bias_rows)),
        np.concatenate((cols.reshape(-1), np.full(len(bias_rows), n_in))),
        np.concatenate((vals.reshape(-1), np.repeat(b_int, n_out))),
        (cout * n_out, n_in + 1), den)
    return matrix, (cout, *out_sp)


def _pool_windows(
    in_shape: tuple[int, ...], kernel: tuple[int, ...], stride: tuple[int, ...], padding: tuple[int, ...], what: str
) -> tuple[list[list[int]], tuple[int, ...]]:
    """For each output entry (channel-major, row-major), the flat input indices of its window
    that lie inside the input, in row-major window order."""
    channels, spatial = in_shape[0], in_shape[1:]
    out_sp = tuple(_out_size(s, k, st, p) for s, k, st, p in zip(spatial, kernel, stride, padding))
    if any(o <= 0 for o in out_sp):
        raise ShapeError(f"{what}: window {kernel} with padding {padding} does not fit an input of shape {in_shape}")
    in_index = np.arange(_size(in_shape)).reshape(in_shape)
    windows = []
    for c in range(channels):
        for opos in np.ndindex(*out_sp):
            window = []
            for kpos in np.ndindex(*kernel):
                ipos = tuple(o * st - p + k for o, st, p, k in zip(opos, stride, padding, kpos))
                if all(0 <= i < s for i, s in zip(ipos, spatial)):
                    window.append(int(in_index[(c, *ipos)]))
            windows.append(window)
    return windows, (channels, *out_sp)


@dataclass(frozen=True, slots=True)
class _PoolNd(Layer):
    kernel_size: Any
    stride: Any = None
    padding: Any = 0

    _ndim: ClassVar[int] = 0
    _maximum: ClassVar[bool] = True

    def __post_init__(self) -> None:
        name = type(self).__name__
        n = self._ndim
        kernel = _int_tuple(self.kernel_size, n, f"{name} kernel_size", minimum=1)
        stride = kernel if self.stride is None else _int_tuple(self.stride, n, f"{name} stride", minimum=1)
        padding = _int_tuple(self.padding, n, f"{name} padding", minimum=0)
        if any(2 * p > k for p, k in zip(padding, kernel)):
            raise ShapeError(f"{name} padding {padding} is more than half the kernel {kernel} (as torch forbids)")
        object.__setattr__(self, "kernel_size", kernel)
        object.__setattr__(self, "stride", stride)
        object.__setattr__(self, "padding", padding)

    def _apply(self, b: "_Builder", index: str) -> None:
        what = f"layer {index} ({type(self).__name__})"
        if len(b.shape) != self._ndim + 1:
            raise ShapeError(f"{what} needs an input of {self._ndim + 1} dimensions (channels first); got shape {b.shape}")
        windows, out_shape = _pool_windows(b.shape, self.kernel_size, self.stride, self.padding, what)
        if self._maximum:
            b.maximum(windows, out_shape)
        else:
            b.average(windows, _size(self.kernel_size), out_shape)


@dataclass(frozen=True, slots=True)
class MaxPool2d(_PoolNd):
    """Max pooling like ``torch.nn.MaxPool2d`` (stride defaults to the kernel size).

    Padding is ``-inf`` as in torch: a border window takes the maximum of its entries
    inside the input.  A tie goes to the first entry of the window in row-major order.
    """

    _ndim: ClassVar[int] = 2


@dataclass(frozen=True, slots=True)
class MaxPool1d(_PoolNd):
    """Max pooling like ``torch.nn.MaxPool1d`` (stride defaults to the kernel size).

    >>> Network([MaxPool1d(2)], input_shape=(1, 4))([1, 3, 2, 0]).tolist()
    [Fraction(3, 1), Fraction(2, 1)]
    """

    _ndim: ClassVar[int] = 1


@dataclass(frozen=True, slots=True)
class AvgPool2d(_PoolNd):
    """Average pooling like ``torch.nn.AvgPool2d`` with its defaults: padding counts as zeros
    (``count_include_pad=True``), so every window divides by the full kernel size."""

    _ndim: ClassVar[int] = 2
    _maximum: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class AvgPool1d(_PoolNd):
    """Average pooling like ``torch.nn.AvgPool1d`` (padding counts as zeros, as torch's default)."""

    _ndim: ClassVar[int] = 1
    _maximum: ClassVar[bool] = False


@dataclass(frozen=True, slots=True, eq=False)
class BatchNorm(Layer):
    """Eval-mode batch normalisation as an exact per-channel affine map ``scale * z + shift``.

    The channel axis is the first axis of the input (``(C,)``, ``(C, L)`` or ``(C, H, W)``).

    Use :meth:`from_stats` for running statistics.  There
    ``scale = weight / sqrt(var + eps)`` is exact when ``var + eps`` is the square of a
    rational.  Otherwise the square root is irrational and the scale is *defined* as the
    float64 number ``float(weight) / math.sqrt(float(var + eps))`` (``var + eps`` summed
    exactly, then rounded; IEEE square root and division), taken exactly from then on:
    the network exactmaso analyses is the one with that folded scale, and
    ``shift = bias - scale * mean`` exactly.

    >>> bn = BatchNorm.from_stats(mean=[1], var=[3], eps=1)   # sqrt(3 + 1) = 2
    >>> bn.scale.tolist(), bn.shift.tolist()
    ([Fraction(1, 2)], [Fraction(-1, 2)])
    """

    scale: Any
    shift: Any

    def __post_init__(self) -> None:
        s = to_fraction_array(self.scale, name="BatchNorm scale", ndim=1)
        t = to_fraction_array(self.shift, name="BatchNorm shift", ndim=1)
        if s.shape != t.shape:
            raise ShapeError(f"BatchNorm shift has {t.shape[0]} channels; scale has {s.shape[0]}")
        object.__setattr__(self, "scale", s)
        object.__setattr__(self, "shift", t)

    @classmethod
    def from_stats(
        cls, mean: Any, var: Any, weight: Any = None, bias: Any = None, eps: Any = 1e-5
    ) -> "BatchNorm":
        """Fold running statistics: ``z -> weight * (z - mean) / sqrt(var + eps) + bias``."""
        mean_f = to_fraction_array(mean, name="BatchNorm running mean", ndim=1)
        C = mean_f.shape[0]
        var_f = to_fraction_array(var, name="BatchNorm running variance", shape=(C,))
        w = to_fraction_array(weight, name="BatchNorm weight", shape=(C,)) if weight is not None else np.full(C, _ONE, dtype=object)
        bb = to_fraction_array(bias, name="BatchNorm bias", shape=(C,)) if bias is not None else _zeros(C)
        e = to_fraction(eps, name="BatchNorm eps")
        scale = []
        for c in range(C):
            v = var_f[c] + e
            if v <= 0:
                raise DomainError(f"BatchNorm channel {c} has variance + eps = {v}; expected a positive number")
            root = _exact_sqrt(v)
            if root is not None:
                scale.append(w[c] / root)
            elif float(v) == 0.0:
                raise DomainError(f"BatchNorm channel {c}: variance + eps = {v} underflows float64")
            else:
                scale.append(to_fraction(float(w[c]) / math.sqrt(float(v)), name=f"BatchNorm scale of channel {c}"))
        shift = [bb[c] - scale[c] * mean_f[c] for c in range(C)]
        return cls(np.array(scale, dtype=object), np.array(shift, dtype=object))

    def _apply(self, b: "_Builder", index: str) -> None:
        C = self.scale.shape[0]
        if b.shape[0] != C:
            raise ShapeError(f"layer {index} (BatchNorm) has {C} channels; its input has {b.shape[0]} (shape {b.shape})")
        per = _size(b.shape[1:])
        b.scale_shift(np.repeat(self.scale, per), np.repeat(self.shift, per))


def _exact_sqrt(v: Fraction) -> Fraction | None:
    """The rational square root of ``v >= 0``, or None when it is irrational."""
    p, q = v.numerator, v.denominator
    rp, rq = math.isqrt(p), math.isqrt(q)
    if rp * rp == p and rq * rq == q:
        return Fraction(rp, rq)
    return None


@dataclass(frozen=True, slots=True)
class Flatten(Layer):
    """Flatten to one dimension (row-major, as ``torch.nn.Flatten``)."""

    def _apply(self, b: "_Builder", index: str) -> None:
        b.shape = (_size(b.shape),)


# ---------------------------------------------------------------------------------------
# nonlinear layers
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReLU(Layer):
    """``max(0, z)`` elementwise: pieces ``0`` (code 0) and ``z`` (code 1)."""

    def _apply(self, b: "_Builder", index: str) -> None:
        b.elementwise([_ZERO, _ONE])


@dataclass(frozen=True, slots=True, eq=False)
class LeakyReLU(Layer):
    """``max(s z, z)`` elementwise for a slope ``s <= 1``: pieces ``s z`` (code 0) and ``z`` (code 1).

    The default slope is exactly ``1/100`` (``torch.nn.LeakyReLU`` uses the float 0.01; pass
    ``0.01`` to get that float's exact value).  A slope above 1 makes the function concave
    (``min(s z, z)``), which is not a max-affine spline: :class:`UnsupportedLayerError`.
    """

    negative_slope: Any = Fraction(1, 100)

    def __post_init__(self) -> None:
        s = to_fraction(self.negative_slope, name="LeakyReLU slope")
        if s > 1:
            raise UnsupportedLayerError(
                f"LeakyReLU slope {s} > 1 is concave (min(s z, z)), not a max-affine spline; expected a slope <= 1"
            )
        object.__setattr__(self, "negative_slope", s)

    def _apply(self, b: "_Builder", index: str) -> None:
        b.elementwise([self.negative_slope, _ONE])


@dataclass(frozen=True, slots=True)
class Abs(Layer):
    """``|z| = max(-z, z)`` elementwise: pieces ``-z`` (code 0) and ``z`` (code 1)."""

    def _apply(self, b: "_Builder", index: str) -> None:
        b.elementwise([-_ONE, _ONE])


@dataclass(frozen=True, slots=True)
class Residual(Layer):
    """``x -> x + g(x)`` for a sub-network ``g`` given as a list of layers (shape-preserving).

    >>> net = Network([Residual([Dense([[-2]]), ReLU()])], input_shape=(1,))   # x + relu(-2 x)
    >>> net([-1]).tolist(), net([1]).tolist()
    ([Fraction(1, 1)], [Fraction(1, 1)])
    """

    layers: tuple = field(default_factory=tuple)

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))

    def _apply(self, b: "_Builder", index: str) -> None:
        b.residual(list(self.layers), index)


# ---------------------------------------------------------------------------------------
# the compiler
# ---------------------------------------------------------------------------------------

_SUPPORTED = (
    "Dense, Conv1d, Conv2d, ReLU, LeakyReLU (slope <= 1), Abs, MaxPool1d/2d, AvgPool1d/2d, "
    "BatchNorm, Flatten, Residual, MASO"
)


def _unsupported(layer: Any, index: str) -> UnsupportedLayerError:
    return UnsupportedLayerError(
        f"layer {index} is {layer!r:.60} (type {type(layer).__name__}), which has no exact max-affine "
        f"spline form; supported: {_SUPPORTED}"
    )


class _Builder:
    """Compiles layers into MASOs, sparse throughout.

    The pending map is the exact augmented affine map ``[M | m]`` (a
    :class:`~exactmaso.numbers.SparseIntMatrix` of shape (size of ``x``, source + 1)) from the
    source ``u`` (the last emitted MASO's output, or the network input) to the current tensor
    ``x = M u + m`` of shape ``shape``; None stands for the identity (no affine layer since
    the last MASO).  Affine layers multiply into it; a nonlinear layer folds it into a new
    MASO and resets it.  Every MASO is made sparse, then stored as ``storage`` says.
    """

    def __init__(self, in_dim: int, shape: tuple[int, ...], storage: str) -> None:
        self.shape = shape
        self.storage = storage
        self.masos: list[MASO] = []
        self._src_dim = in_dim
        self._pending: SparseIntMatrix | None = None

    @property
    def pending(self) -> SparseIntMatrix:
        if self._pending is None:
            return SparseIntMatrix.eye(self._src_dim, self._src_dim + 1)
        return self._pending

    # -- affine steps -----------------------------------------------------------------
    def affine(self, matrix: SparseIntMatrix, out_shape: tuple[int, ...]) -> None:
        """Apply ``x -> M x + m`` given as the augmented (out, in + 1) matrix ``[M | m]``."""
        if self._pending is None:
            self._pending = matrix.reduced()
        else:
            self._pending = (matrix @ self._pending.augmented()).reduced()
        self.shape = tuple(int(s) for s in out_shape)

    def average(self, windows: list[list[int]], divisor: int, out_shape: tuple[int, ...]) -> None:
        n_in = _size(self.shape)
        lengths = [len(w) for w in windows]
        rows = np.repeat(np.arange(len(windows)), lengths)
        cols = np.concatenate([np.asarray(w, dtype=np.int64) for w in windows])
        ones = np.ones(len(cols), dtype=np.int64)
        self.affine(SparseIntMatrix.from_coo(rows, cols, ones, (len(windows), n_in + 1), divisor), out_shape)

    def scale_shift(self, scale: np.ndarray, shift: np.ndarray) -> None:
        """``x -> scale * x + shift`` entrywise (a diagonal map)."""
        n = len(scale)
        den = math.lcm(lcm_of_denominators(scale), lcm_of_denominators(shift))
        s_int = [v.numerator * (den // v.denominator) for v in scale]
        t_int = [v.numerator * (den // v.denominator) for v in shift]
        rows = np.concatenate((np.arange(n), np.arange(n)))
        cols = np.concatenate((np.arange(n), np.full(n, n)))
        self.affine(SparseIntMatrix.from_coo(rows, cols, s_int + t_int, (n, n + 1), den), self.shape)

    # -- nonlinear steps --------------------------------------------------------------
    def elementwise(self, slopes: list[Fraction]) -> None:
        """One unit per entry with pieces ``s * x`` for each slope ``s``."""
        P = self.pending
        n, R = P.shape[0], len(slopes)
        scale = math.lcm(*(s.denominator for s in slopes))
        factors = np.array([s.numerator * (scale // s.denominator) for s in slopes], dtype=object)
        pieces = P.rows(np.repeat(np.arange(n), R)).scale_rows(np.tile(factors, n), scale)
        self._emit(pieces, n, R)

    def maximum(self, windows: list[list[int]], out_shape: tuple[int, ...]) -> None:
        """One unit per window with one piece per window entry."""
        R = max(len(w) for w in windows)
        # a short (border) window repeats its first entry: a later copy never wins a tie
        padded = [w + [w[0]] * (R - len(w)) for w in windows]
        self._emit(self.pending.rows(np.array(padded, dtype=np.int64).reshape(-1)), len(windows), R)
        self.shape = tuple(out_shape)

    def maso(self, m: MASO, index: str) -> None:
        if len(self.shape) != 1 or m.input_dim != self.shape[0]:
            raise ShapeError(f"layer {index} (MASO) takes {m.input_dim} inputs; it gets shape {self.shape}")
        if self._pending is None:
            self._emit_maso(m.with_storage(self.storage))
        else:
            self._emit(m.pieces_sparse_int() @ self._pending.augmented(), m.num_units, m.num_pieces)
        self.shape = (m.num_units,)

    def _emit(self, pieces: SparseIntMatrix, units: int, per_unit: int) -> None:
        self._emit_maso(MASO.from_sparse(pieces, units, per_unit).with_storage(self.storage))

    def _emit_maso(self, m: MASO) -> None:
        self.masos.append(m)
        self._src_dim = m.num_units
        self._pending = None

    def residual(self, layers: list, index: str) -> None:
        """``x + g(x)``: the MASOs of ``g`` gain pass-through units that carry ``u``."""
        x_shape = self.shape
        n_x = _size(x_shape)
        sub = _Builder(n_x, x_shape, "sparse")
        for i, layer in enumerate(layers):
            _apply_one(sub, layer, f"{index}.{i}")
        if sub.shape != x_shape:
            raise ShapeError(f"layer {index} (Residual) branch ends with shape {sub.shape}; its input has shape {x_shape}")
        P = self.pending  # x = P [u; 1]
        n_u = P.shape[1] - 1
        if not sub.masos:  # g is affine: x + g(x) = G [x; 1] + x = G [P; 0 1] [u; 1] + P [u; 1]
            self._pending = ((sub.pending @ P.augmented()) + P).reduced()
            return
        prev_dim = 0  # units of the previous MASO of g inside the new layers
        for j, m in enumerate(sub.masos):
            K, R = m.num_units, m.num_pieces
            if j == 0:  # m reads x = P [u; 1]
                g = m.pieces_sparse_int() @ P.augmented()
            else:  # m reads the previous output of g, the first prev_dim inputs; its offsets move past u
                g = m.pieces_sparse_int().remap_columns(np.append(np.arange(prev_dim), prev_dim + n_u), prev_dim + n_u + 1)
            carry = SparseIntMatrix.from_coo(np.arange(n_u * R), np.repeat(prev_dim + np.arange(n_u), R),
                                             np.ones(n_u * R, dtype=np.int64), (n_u * R, prev_dim + n_u + 1))
            pieces = SparseIntMatrix.vstack([g, carry])
            self.masos.append(MASO.from_sparse(pieces, K + n_u, R).with_storage(self.storage))
            prev_dim = K
        # g(x) + x = Gp [out; 1] + P [u; 1], read from the last MASO's output [out; u]
        width = prev_dim + n_u + 1
        g_part = sub.pending.remap_columns(np.append(np.arange(prev_dim), prev_dim + n_u), width)
        u_part = P.remap_columns(prev_dim + np.arange(n_u + 1), width)
        self._pending = (g_part + u_part).reduced()
        self._src_dim = prev_dim + n_u

    def finish(self) -> list[MASO]:
        """The MASOs, with the pending affine map as a last R = 1 layer when an affine layer
        (even an identity one) follows the last nonlinearity, or when there is no MASO at all."""
        if self.masos and self._pending is None:
            return self.masos
        P = self.pending
        return self.masos + [MASO.from_sparse(P, P.shape[0], 1).with_storage(self.storage)]


def _apply_one(b: _Builder, layer: Any, index: str) -> None:
    if isinstance(layer, MASO):
        b.maso(layer, index)
    elif isinstance(layer, Layer):
        layer._apply(b, index)
    elif isinstance(layer, (list, tuple)):
        raise ShapeError(f"layer {index} is a nested {type(layer).__name__}; wrap a branch in Residual([...])")
    else:
        raise _unsupported(layer, index)


def compile_layers(
    layers: list, input_shape: Sequence[int] | int | None, *, storage: str = "auto"
) -> tuple[list[MASO], tuple[int, ...]]:
    """Compile layer descriptions into MASOs; returns the MASOs and the input shape.

    ``storage`` ("auto", "dense" or "sparse") is how the MASOs store their pieces (see
    :meth:`exactmaso.maso.MASO.with_storage`); the compilation itself is sparse and exact.
    """
    check_storage(storage)
    if not layers:
        raise ShapeError("a network needs at least one layer; got an empty list")
    if input_shape is None:
        first = layers[0]
        if isinstance(first, Dense):
            input_shape = (first.W.shape[1],)
        elif isinstance(first, MASO):
            input_shape = (first.input_dim,)
        elif isinstance(first, (Layer, list, tuple)):
            raise ShapeError(
                f"the first layer is {type(first).__name__}, which does not fix the input size; "
                "pass input_shape= (e.g. (1, 28, 28))"
            )
        else:
            raise _unsupported(first, "0")
    shape = _int_tuple(input_shape, 1 if isinstance(input_shape, int) else len(input_shape), "input_shape", minimum=1)
    b = _Builder(_size(shape), shape, storage)
    for i, layer in enumerate(layers):
        _apply_one(b, layer, str(i))
    return b.finish(), shape


# ---------------------------------------------------------------------------------------
# convenience
# ---------------------------------------------------------------------------------------

_ACTIVATIONS = {"relu": ReLU, "abs": Abs, "leaky_relu": LeakyReLU, "leakyrelu": LeakyReLU}


def mlp(weights: Sequence[Any], biases: Sequence[Any] | None = None, activation: str | Layer | type = "relu") -> Network:
    """A multilayer perceptron: Dense layers with an activation between them, the last affine.

    Parameters
    ----------
    weights : list of arrays (out, in), like ``torch.nn.Linear.weight``
    biases : list of arrays (out,), optional (zeros)
    activation : "relu", "leaky_relu" (slope 1/100), "abs", a layer such as
        ``LeakyReLU(0.1)``, or a layer class such as ``Abs``

    Examples
    --------
    >>> net = mlp([[[1], [-1]], [[1, 1]]], [[0, 0], [0]])   # |x| as relu(x) + relu(-x)
    >>> net([-3]).tolist()
    [Fraction(3, 1)]
    """
    weights = list(weights)
    if not weights:
        raise ShapeError("mlp got no weight matrices; expected at least one")
    biases = [None] * len(weights) if biases is None else list(biases)
    if len(biases) != len(weights):
        raise ShapeError(f"mlp got {len(weights)} weight matrices and {len(biases)} bias vectors")
    if isinstance(activation, str):
        key = activation.lower()
        if key not in _ACTIVATIONS:
            raise UnsupportedLayerError(
                f"activation {activation!r} is not a max-affine spline; expected one of {sorted(_ACTIVATIONS)} or a layer"
            )
        act = _ACTIVATIONS[key]()
    elif isinstance(activation, Layer):
        act = activation
    elif isinstance(activation, type) and issubclass(activation, Layer):
        act = activation()
    else:
        raise UnsupportedLayerError(f"activation {activation!r:.60} is neither a layer nor one of {sorted(_ACTIVATIONS)}")
    layers: list[Layer] = []
    for i, (W, bias) in enumerate(zip(weights, biases)):
        layers.append(Dense(W, bias))
        if i < len(weights) - 1:
            layers.append(act)
    return Network(layers)
