"""Layers in max-affine spline form.

Each layer is a small immutable description.  :func:`compile_layers` turns a list of them
into MASOs: affine layers (:class:`Dense`, :class:`Conv1d`, :class:`Conv2d`,
:class:`AvgPool1d`, :class:`AvgPool2d`, :class:`BatchNorm`, :class:`Flatten`) accumulate into
one exact affine map, which folds into the next nonlinear layer (:class:`ReLU`,
:class:`LeakyReLU`, :class:`Abs`, :class:`MaxPool1d`, :class:`MaxPool2d`); a
:class:`Residual` block ``x + g(x)`` carries its input through ``g`` with pass-through units
(units whose pieces are all equal).

Piece order fixes the codes: for ReLU piece 0 is ``0`` and piece 1 the identity, so code 1
means "pre-activation > 0"; LeakyReLU(s) has pieces ``s z`` and ``z``; Abs has ``-z`` and ``z``;
a max-pool unit has one piece per window entry in row-major order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Sequence

import numpy as np

from .errors import ShapeError, UnsupportedLayerError
from .maso import MASO, Network
from .numbers import IntMatrix, to_fraction, to_fraction_array

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
    """Base of the layer descriptions."""

    def _apply(self, b: "_Builder", index: int) -> None:  # pragma: no cover - interface
        raise NotImplementedError


def _pair(v: int | Sequence[int], name: str) -> tuple[int, int]:
    if isinstance(v, (int, np.integer)):
        return int(v), int(v)
    t = tuple(int(x) for x in v)
    if len(t) != 2:
        raise ShapeError(f"{name} is {v!r}; expected an int or a pair of ints")
    return t  # type: ignore[return-value]


def _single(v: int | Sequence[int], name: str) -> int:
    if isinstance(v, (int, np.integer)):
        return int(v)
    t = tuple(int(x) for x in v)
    if len(t) != 1:
        raise ShapeError(f"{name} is {v!r}; expected an int")
    return t[0]


# ---------------------------------------------------------------------------------------
# affine layers
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class Dense(Layer):
    """``z -> W z + b`` with ``W`` of shape (out, in), like ``torch.nn.Linear``."""

    W: Any
    b: Any = None

    def __post_init__(self) -> None:
        W = to_fraction_array(self.W, name="Dense weight", ndim=2)
        if self.b is None:
            b = np.array([_ZERO] * W.shape[0], dtype=object)
        else:
            b = to_fraction_array(self.b, name="Dense bias", ndim=1)
        if b.shape[0] != W.shape[0]:
            raise ShapeError(f"Dense bias has {b.shape[0]} entries; the weight has {W.shape[0]} rows")
        object.__setattr__(self, "W", W)
        object.__setattr__(self, "b", b)

    def _apply(self, b: "_Builder", index: int) -> None:
        if len(b.shape) != 1:
            raise ShapeError(f"layer {index} (Dense) gets an input of shape {b.shape}; add a Flatten() before it")
        if self.W.shape[1] != b.shape[0]:
            raise ShapeError(
                f"layer {index} (Dense) weight has {self.W.shape[1]} columns; its input has {b.shape[0]} entries"
            )
        b.affine(self.W, self.b, (self.W.shape[0],))


def _conv_matrix(weight: np.ndarray, in_shape: tuple[int, ...], stride: tuple[int, ...], padding: tuple[int, ...]):
    """Dense (out, in) matrix of a convolution (cross-correlation, as torch) and the out shape."""
    cout, cin = weight.shape[:2]
    ksz = weight.shape[2:]
    spatial = in_shape[1:]
    out_sp = tuple((s + 2 * p - k) // st + 1 for s, p, k, st in zip(spatial, padding, ksz, stride))
    if any(o <= 0 for o in out_sp):
        raise ShapeError(f"convolution with kernel {ksz} and padding {padding} does not fit an input of shape {in_shape}")
    n_in = int(np.prod(in_shape))
    n_out = cout * int(np.prod(out_sp))
    M = np.full((n_out, n_in), _ZERO, dtype=object)
    in_idx = np.arange(n_in).reshape(in_shape)
    for co in range(cout):
        for opos in np.ndindex(*out_sp):
            row = np.ravel_multi_index((co, *opos), (cout, *out_sp))
            for ci in range(cin):
                for kpos in np.ndindex(*ksz):
                    ipos = tuple(o * st - p + k for o, st, p, k in zip(opos, stride, padding, kpos))
                    if all(0 <= i < s for i, s in zip(ipos, spatial)):
                        w = weight[(co, ci, *kpos)]
                        if w:
                            M[row, in_idx[(ci, *ipos)]] += w
    return M, (cout, *out_sp)


@dataclass(frozen=True, slots=True, eq=False)
class Conv2d(Layer):
    """2-D convolution like ``torch.nn.Conv2d`` (weight (out_ch, in_ch, kh, kw)), zero padding."""

    weight: Any
    bias: Any = None
    stride: Any = 1
    padding: Any = 0

    def __post_init__(self) -> None:
        w = to_fraction_array(self.weight, name="Conv2d weight", ndim=4)
        object.__setattr__(self, "weight", w)
        object.__setattr__(self, "bias", None if self.bias is None else to_fraction_array(self.bias, name="Conv2d bias", shape=(w.shape[0],)))
        object.__setattr__(self, "stride", _pair(self.stride, "Conv2d stride"))
        object.__setattr__(self, "padding", _pair(self.padding, "Conv2d padding"))

    def _apply(self, b: "_Builder", index: int) -> None:
        _conv_apply(self, b, index, 3, "Conv2d")


@dataclass(frozen=True, slots=True, eq=False)
class Conv1d(Layer):
    """1-D convolution like ``torch.nn.Conv1d`` (weight (out_ch, in_ch, k)), zero padding."""

    weight: Any
    bias: Any = None
    stride: Any = 1
    padding: Any = 0

    def __post_init__(self) -> None:
        w = to_fraction_array(self.weight, name="Conv1d weight", ndim=3)
        object.__setattr__(self, "weight", w)
        object.__setattr__(self, "bias", None if self.bias is None else to_fraction_array(self.bias, name="Conv1d bias", shape=(w.shape[0],)))
        object.__setattr__(self, "stride", (_single(self.stride, "Conv1d stride"),))
        object.__setattr__(self, "padding", (_single(self.padding, "Conv1d padding"),))

    def _apply(self, b: "_Builder", index: int) -> None:
        _conv_apply(self, b, index, 2, "Conv1d")


def _conv_apply(layer: Any, b: "_Builder", index: int, ndim: int, name: str) -> None:
    if len(b.shape) != ndim:
        raise ShapeError(f"layer {index} ({name}) needs an input of {ndim} dimensions (channels first); got shape {b.shape}")
    if layer.weight.shape[1] != b.shape[0]:
        raise ShapeError(f"layer {index} ({name}) weight takes {layer.weight.shape[1]} channels; its input has {b.shape[0]}")
    M, out_shape = _conv_matrix(layer.weight, b.shape, layer.stride, layer.padding)
    per = int(np.prod(out_shape[1:]))
    bias = (
        np.repeat(layer.bias, per) if layer.bias is not None else np.array([_ZERO] * M.shape[0], dtype=object)
    )
    b.affine(M, bias, out_shape)


def _pool_windows(in_shape: tuple[int, ...], kernel: tuple[int, ...], stride: tuple[int, ...], padding: tuple[int, ...]):
    """For each output entry, the input indices in its window (in bounds only), row-major."""
    ch = in_shape[0]
    spatial = in_shape[1:]
    out_sp = tuple((s + 2 * p - k) // st + 1 for s, p, k, st in zip(spatial, padding, kernel, stride))
    if any(o <= 0 for o in out_sp):
        raise ShapeError(f"pooling window {kernel} with padding {padding} does not fit an input of shape {in_shape}")
    for p, k in zip(padding, kernel):
        if p > k // 2:
            raise ShapeError(f"pool padding {padding} must be at most half the kernel {kernel}")
    in_idx = np.arange(int(np.prod(in_shape))).reshape(in_shape)
    windows = []
    for c in range(ch):
        for opos in np.ndindex(*out_sp):
            w = []
            for kpos in np.ndindex(*kernel):
                ipos = tuple(o * st - p + k for o, st, p, k in zip(opos, stride, padding, kpos))
                if all(0 <= i < s for i, s in zip(ipos, spatial)):
                    w.append(int(in_idx[(c, *ipos)]))
            windows.append(w)
    return windows, (ch, *out_sp), int(np.prod(kernel))


@dataclass(frozen=True, slots=True)
class MaxPool2d(Layer):
    """Max pooling like ``torch.nn.MaxPool2d`` (stride defaults to the kernel size)."""

    kernel_size: Any
    stride: Any = None
    padding: Any = 0

    def _apply(self, b: "_Builder", index: int) -> None:
        _pool_apply(b, index, 3, "MaxPool2d", _pair(self.kernel_size, "kernel_size"),
                    _pair(self.stride if self.stride is not None else self.kernel_size, "stride"),
                    _pair(self.padding, "padding"), maximum=True)


@dataclass(frozen=True, slots=True)
class MaxPool1d(Layer):
    """Max pooling like ``torch.nn.MaxPool1d``."""

    kernel_size: Any
    stride: Any = None
    padding: Any = 0

    def _apply(self, b: "_Builder", index: int) -> None:
        _pool_apply(b, index, 2, "MaxPool1d", (_single(self.kernel_size, "kernel_size"),),
                    (_single(self.stride if self.stride is not None else self.kernel_size, "stride"),),
                    (_single(self.padding, "padding"),), maximum=True)


@dataclass(frozen=True, slots=True)
class AvgPool2d(Layer):
    """Average pooling like ``torch.nn.AvgPool2d`` (padding counts as zeros, as torch's default)."""

    kernel_size: Any
    stride: Any = None
    padding: Any = 0

    def _apply(self, b: "_Builder", index: int) -> None:
        _pool_apply(b, index, 3, "AvgPool2d", _pair(self.kernel_size, "kernel_size"),
                    _pair(self.stride if self.stride is not None else self.kernel_size, "stride"),
                    _pair(self.padding, "padding"), maximum=False)


@dataclass(frozen=True, slots=True)
class AvgPool1d(Layer):
    """Average pooling like ``torch.nn.AvgPool1d``."""

    kernel_size: Any
    stride: Any = None
    padding: Any = 0

    def _apply(self, b: "_Builder", index: int) -> None:
        _pool_apply(b, index, 2, "AvgPool1d", (_single(self.kernel_size, "kernel_size"),),
                    (_single(self.stride if self.stride is not None else self.kernel_size, "stride"),),
                    (_single(self.padding, "padding"),), maximum=False)


def _pool_apply(b: "_Builder", index: int, ndim: int, name: str, kernel, stride, padding, *, maximum: bool) -> None:
    if len(b.shape) != ndim:
        raise ShapeError(f"layer {index} ({name}) needs an input of {ndim} dimensions (channels first); got shape {b.shape}")
    windows, out_shape, ksize = _pool_windows(b.shape, kernel, stride, padding)
    if maximum:
        R = max(len(w) for w in windows)
        # pad short (border) windows by repeating their first entry: a repeat never wins a tie
        b.maximum([w + [w[0]] * (R - len(w)) for w in windows], out_shape)
    else:
        n_in = int(np.prod(b.shape))
        M = np.full((len(windows), n_in), _ZERO, dtype=object)
        inv = Fraction(1, ksize)
        for i, w in enumerate(windows):
            for j in w:
                M[i, j] = inv
        b.affine(M, np.array([_ZERO] * len(windows), dtype=object), out_shape)


@dataclass(frozen=True, slots=True, eq=False)
class BatchNorm(Layer):
    """Eval-mode batch normalisation as an exact per-channel affine map ``scale * z + shift``.

    The channel axis is the first axis of the input (``(C,)``, ``(C, L)`` or ``(C, H, W)``).
    Use :meth:`from_stats` for running statistics: ``scale = weight / sqrt(var + eps)`` is
    exact when ``var + eps`` is the square of a rational; otherwise the square root is
    irrational, and the scale is defined as the float64 value of
    ``weight / sqrt(var + eps)`` (correctly rounded square root), which then is taken
    exactly: the network exactmaso analyses is the one with that folded scale.
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
    def from_stats(cls, mean: Any, var: Any, weight: Any = None, bias: Any = None, eps: Any = 1e-5) -> "BatchNorm":
        mean_f = to_fraction_array(mean, name="BatchNorm running mean", ndim=1)
        var_f = to_fraction_array(var, name="BatchNorm running variance", shape=mean_f.shape)
        C = mean_f.shape[0]
        w = to_fraction_array(weight, name="BatchNorm weight", shape=(C,)) if weight is not None else np.array([_ONE] * C, dtype=object)
        bb = to_fraction_array(bias, name="BatchNorm bias", shape=(C,)) if bias is not None else np.array([_ZERO] * C, dtype=object)
        e = to_fraction(eps, name="BatchNorm eps")
        scale, shift = [], []
        for c in range(C):
            v = var_f[c] + e
            if v <= 0:
                raise ShapeError(f"BatchNorm channel {c} has variance + eps = {v} <= 0")
            root = _exact_sqrt(v)
            if root is not None:
                s = w[c] / root
            else:
                s = Fraction(float(w[c]) / math.sqrt(float(v))) if float(v) > 0 else None
                if s is None:
                    raise ShapeError(f"BatchNorm channel {c}: variance + eps = {v} underflows float64")
            scale.append(s)
            shift.append(bb[c] - s * mean_f[c])
        return cls(np.array(scale, dtype=object), np.array(shift, dtype=object))

    def _apply(self, b: "_Builder", index: int) -> None:
        C = self.scale.shape[0]
        if b.shape[0] != C:
            raise ShapeError(f"layer {index} (BatchNorm) has {C} channels; its input has {b.shape[0]} (shape {b.shape})")
        per = int(np.prod(b.shape[1:])) if len(b.shape) > 1 else 1
        n = C * per
        M = np.full((n, n), _ZERO, dtype=object)
        for i in range(n):
            M[i, i] = self.scale[i // per]
        b.affine(M, np.repeat(self.shift, per), b.shape)


def _exact_sqrt(v: Fraction) -> Fraction | None:
    p, q = v.numerator, v.denominator
    rp, rq = math.isqrt(p), math.isqrt(q)
    if rp * rp == p and rq * rq == q:
        return Fraction(rp, rq)
    return None


@dataclass(frozen=True, slots=True)
class Flatten(Layer):
    """Flatten to one dimension (row-major, as ``torch.nn.Flatten``)."""

    def _apply(self, b: "_Builder", index: int) -> None:
        b.shape = (int(np.prod(b.shape)),)


# ---------------------------------------------------------------------------------------
# nonlinear layers
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReLU(Layer):
    """``max(0, z)`` elementwise: pieces ``0`` (code 0) and ``z`` (code 1)."""

    def _apply(self, b: "_Builder", index: int) -> None:
        b.elementwise([_ZERO, _ONE])


@dataclass(frozen=True, slots=True, eq=False)
class LeakyReLU(Layer):
    """``max(s z, z)`` elementwise for a slope ``s <= 1``: pieces ``s z`` (code 0) and ``z`` (code 1)."""

    negative_slope: Any = Fraction(1, 100)

    def __post_init__(self) -> None:
        s = to_fraction(self.negative_slope, name="LeakyReLU slope")
        if s > 1:
            raise UnsupportedLayerError(
                f"LeakyReLU slope {s} > 1 is a concave (min-affine) function, not a max-affine spline; expected a slope <= 1"
            )
        object.__setattr__(self, "negative_slope", s)

    def _apply(self, b: "_Builder", index: int) -> None:
        b.elementwise([self.negative_slope, _ONE])


@dataclass(frozen=True, slots=True)
class Abs(Layer):
    """``|z| = max(-z, z)`` elementwise: pieces ``-z`` (code 0) and ``z`` (code 1)."""

    def _apply(self, b: "_Builder", index: int) -> None:
        b.elementwise([-_ONE, _ONE])


@dataclass(frozen=True, slots=True)
class Residual(Layer):
    """``x -> x + g(x)`` for a sub-network ``g`` given as a list of layers."""

    layers: tuple = field(default_factory=tuple)

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))

    def _apply(self, b: "_Builder", index: int) -> None:
        b.residual(list(self.layers), index)


# ---------------------------------------------------------------------------------------
# the compiler
# ---------------------------------------------------------------------------------------


def _unsupported(layer: Any, index: int) -> UnsupportedLayerError:
    return UnsupportedLayerError(
        f"layer {index} is {type(layer).__name__}, which is not a max-affine spline operator; supported: "
        "Dense, Conv1d, Conv2d, ReLU, LeakyReLU, Abs, MaxPool1d/2d, AvgPool1d/2d, BatchNorm, Flatten, Residual, MASO"
    )


class _Builder:
    """Accumulates ``pending``: the exact augmented affine map from the last MASO's output
    (or the network input) to the current tensor, and emits MASOs at nonlinearities."""

    def __init__(self, in_dim: int, shape: tuple[int, ...]) -> None:
        self.in_dim = in_dim
        self.shape = shape
        self.masos: list[MASO] = []
        self.pending: IntMatrix = _identity(in_dim)  # (n_cur + 1) x (n_src + 1)

    @property
    def src_dim(self) -> int:
        return self.masos[-1].num_units if self.masos else self.in_dim

    def affine(self, M: np.ndarray, v: np.ndarray, out_shape: tuple[int, ...]) -> None:
        n_out, n_in = M.shape
        aug = np.full((n_out + 1, n_in + 1), _ZERO, dtype=object)
        aug[:n_out, :n_in] = M
        aug[:n_out, n_in] = v
        aug[n_out, n_in] = _ONE
        self.pending = (IntMatrix.from_fractions(aug) @ self.pending).reduced()
        self.shape = tuple(int(s) for s in out_shape)

    def _pending_rows(self) -> np.ndarray:
        """Pending map as Fractions, (n_cur, n_src + 1) without the trailing [0 .. 0 1] row."""
        return self.pending.to_fractions()[:-1]

    def elementwise(self, slopes: list[Fraction]) -> None:
        P = self._pending_rows()
        n = P.shape[0]
        A = np.empty((n, len(slopes), P.shape[1] - 1), dtype=object)
        B = np.empty((n, len(slopes)), dtype=object)
        for r, s in enumerate(slopes):
            A[:, r, :] = P[:, :-1] * s
            B[:, r] = P[:, -1] * s
        self._emit(MASO(A, B))

    def maximum(self, windows: list[list[int]], out_shape: tuple[int, ...]) -> None:
        P = self._pending_rows()
        A = np.stack([P[w, :-1] for w in windows])
        B = np.stack([P[w, -1] for w in windows])
        self._emit(MASO(A, B))
        self.shape = out_shape

    def maso(self, m: MASO, index: int) -> None:
        if len(self.shape) != 1 or m.input_dim != self.shape[0]:
            raise ShapeError(f"layer {index} (MASO) takes {m.input_dim} inputs; it gets shape {self.shape}")
        P = self._pending_rows()
        K, R, D = m.A.shape
        aug = np.concatenate([m.A.reshape(K * R, D), m.B.reshape(K * R, 1)], axis=1)
        folded = (IntMatrix.from_fractions(aug) @ _augmented(P)).reduced().to_fractions()
        self._emit(MASO(folded[:, :-1].reshape(K, R, -1), folded[:, -1].reshape(K, R)))
        self.shape = (K,)

    def _emit(self, m: MASO) -> None:
        self.masos.append(m)
        self.pending = _identity(m.num_units)

    def residual(self, layers: list, index: int) -> None:
        x_shape = self.shape
        n_x = int(np.prod(x_shape))
        sub = _Builder(n_x, x_shape)
        for i, layer in enumerate(layers):
            _apply_one(sub, layer, f"{index}.{i}")
        if sub.shape != x_shape:
            raise ShapeError(f"layer {index} (Residual) branch ends with shape {sub.shape}; its input has shape {x_shape}")
        P = self._pending_rows()  # x = P [u; 1]
        if not sub.masos:  # x + G x, all affine
            G = sub.pending.to_fractions()[:-1]
            total = G[:, :-1].dot(P) + np.concatenate([P[:, :-1], P[:, -1:]], axis=1)
            total[:, -1] = total[:, -1] + G[:, -1]
            self.pending = IntMatrix.from_fractions(_augmented(total).to_fractions()).reduced()
            return
        n_u = P.shape[1] - 1
        prev_dim = None
        for j, m in enumerate(sub.masos):
            K, R, D = m.A.shape
            if j == 0:
                aug = np.concatenate([m.A.reshape(K * R, D), m.B.reshape(K * R, 1)], axis=1)
                folded = (IntMatrix.from_fractions(aug) @ _augmented(P)).reduced().to_fractions()
                A_g = folded[:, :-1].reshape(K, R, n_u)
                B_g = folded[:, -1].reshape(K, R)
                carry = np.full((n_u, R, n_u), _ZERO, dtype=object)
                for i in range(n_u):
                    carry[i, :, i] = _ONE
            else:
                A_g = np.concatenate([m.A, np.full((K, R, n_u), _ZERO, dtype=object)], axis=2)
                B_g = m.B
                carry = np.full((n_u, R, prev_dim + n_u), _ZERO, dtype=object)
                for i in range(n_u):
                    carry[i, :, prev_dim + i] = _ONE
            A = np.concatenate([A_g, carry], axis=0)
            B = np.concatenate([B_g, np.full((n_u, R), _ZERO, dtype=object)], axis=0)
            self.masos.append(MASO(A, B))
            prev_dim = K
        # output: g(x) + x = Gp [out; 1] + P [u; 1], on the last MASO's output [out, u]
        Gp = sub.pending.to_fractions()[:-1]  # (n_x, prev_dim + 1)
        total = np.concatenate([Gp[:, :-1], P[:, :-1], (Gp[:, -1] + P[:, -1])[:, None]], axis=1)
        self.pending = IntMatrix.from_fractions(_augmented(total).to_fractions()).reduced()

    def finish(self) -> list[MASO]:
        P = self._pending_rows()
        is_identity = P.shape[0] == P.shape[1] - 1 and all(
            P[i, j] == (_ONE if i == j else _ZERO) for i in range(P.shape[0]) for j in range(P.shape[1])
        )
        if self.masos and is_identity:
            return self.masos
        n, m1 = P.shape
        A = P[:, :-1].reshape(n, 1, m1 - 1)
        B = P[:, -1].reshape(n, 1)
        return self.masos + [MASO(A, B)]


def _identity(n: int) -> IntMatrix:
    return IntMatrix.from_ints([[1 if i == j else 0 for j in range(n + 1)] for i in range(n + 1)], 1)


def _augmented(P: np.ndarray) -> IntMatrix:
    rows, cols = P.shape
    aug = np.full((rows + 1, cols), _ZERO, dtype=object)
    aug[:rows] = P
    aug[rows, cols - 1] = _ONE
    return IntMatrix.from_fractions(aug)


_TORCH_HINTS = ("Sigmoid", "Tanh", "GELU", "Softmax", "SiLU", "ELU", "Softplus", "Mish", "Hardswish")


def _apply_one(b: _Builder, layer: Any, index: Any) -> None:
    if isinstance(layer, MASO):
        b.maso(layer, index)
    elif isinstance(layer, Layer):
        layer._apply(b, index)
    elif isinstance(layer, (list, tuple)):
        raise ShapeError(f"layer {index} is a nested {type(layer).__name__}; wrap a branch in Residual([...])")
    else:
        raise _unsupported(layer, index)


def compile_layers(layers: list, input_shape: Sequence[int] | None) -> tuple[list[MASO], tuple[int, ...]]:
    """Compile layer descriptions into MASOs; returns the MASOs and the input shape."""
    if not layers:
        raise ShapeError("a network needs at least one layer; got an empty list")
    if input_shape is None:
        first = layers[0]
        if isinstance(first, Dense):
            input_shape = (first.W.shape[1],)
        elif isinstance(first, MASO):
            input_shape = (first.input_dim,)
        else:
            raise ShapeError(f"the first layer is {type(first).__name__}; give input_shape= to say what the input looks like")
    shape = tuple(int(s) for s in (input_shape if not isinstance(input_shape, int) else (input_shape,)))
    if any(s <= 0 for s in shape):
        raise ShapeError(f"input_shape {shape} has a non-positive size")
    b = _Builder(int(np.prod(shape)), shape)
    for i, layer in enumerate(layers):
        _apply_one(b, layer, i)
    return b.finish(), shape


# ---------------------------------------------------------------------------------------
# convenience
# ---------------------------------------------------------------------------------------

_ACTIVATIONS = {"relu": ReLU, "abs": Abs, "leaky_relu": LeakyReLU, "leakyrelu": LeakyReLU}


def mlp(weights: Sequence[Any], biases: Sequence[Any] | None = None, activation: str | Layer = "relu") -> Network:
    """A multilayer perceptron: Dense layers with an activation between them, the last affine.

    Parameters
    ----------
    weights : list of arrays (out, in), like ``torch.nn.Linear.weight``
    biases : list of arrays (out,), optional (zeros)
    activation : "relu", "leaky_relu", "abs", or a layer instance such as ``LeakyReLU(0.1)``

    Examples
    --------
    >>> net = mlp([[[1], [-1]], [[1, 1]]], [[0, 0], [0]])   # |x| as relu(x) + relu(-x)
    >>> net([-3]).tolist()
    [Fraction(3, 1)]
    """
    if biases is None:
        biases = [None] * len(weights)
    if len(biases) != len(weights):
        raise ShapeError(f"mlp got {len(weights)} weight matrices and {len(biases)} bias vectors")
    if isinstance(activation, str):
        key = activation.lower()
        if key not in _ACTIVATIONS:
            raise UnsupportedLayerError(
                f"activation {activation!r} is not a max-affine spline; expected one of {sorted(_ACTIVATIONS)}"
            )
        make = _ACTIVATIONS[key]
    elif isinstance(activation, Layer):
        make = lambda: activation  # noqa: E731
    else:
        raise UnsupportedLayerError(f"activation {activation!r} is not a layer or a name")
    layers: list[Layer] = []
    for i, (W, bias) in enumerate(zip(weights, biases)):
        layers.append(Dense(W, bias))
        if i < len(weights) - 1:
            layers.append(make())
    return Network(layers)
