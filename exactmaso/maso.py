"""Max-affine spline operators, affine maps, and exact networks.

A MASO layer with ``K`` units, ``R`` pieces per unit and input dimension ``D`` maps
``z -> y`` with ``y[k] = max_r (A[k, r, :] @ z + B[k, r])``.  A :class:`Network` is a
composition ``S_L o ... o S_1`` of MASOs; affine layers between nonlinearities are folded
exactly into the next MASO, and a trailing affine layer is a MASO with ``R = 1``.

The *code* of an input is, per layer, the tuple of arg-max piece indices (ties go to the
lowest index).  On the set of inputs with one code the network is the affine map
``x -> A_w x + b_w`` returned by :meth:`Network.affine_map`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Iterable, Sequence

import flint
import numpy as np

from .errors import ShapeError
from .numbers import IntMatrix, to_fraction_array

__all__ = ["MASO", "Affine", "Network", "Code"]

Code = tuple[tuple[int, ...], ...]


def _array_equal(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and all(x == y for x, y in zip(a.flat, b.flat))


@dataclass(frozen=True, slots=True, eq=False)
class Affine:
    """The exact affine map ``x -> A @ x + b`` with ``A`` of shape (out, D)."""

    A: np.ndarray
    b: np.ndarray

    def __post_init__(self) -> None:
        A = to_fraction_array(self.A, name="affine matrix A", ndim=2)
        b = to_fraction_array(self.b, name="affine offset b", ndim=1)
        if b.shape[0] != A.shape[0]:
            raise ShapeError(f"affine offset b has {b.shape[0]} entries; A has {A.shape[0]} rows")
        object.__setattr__(self, "A", A)
        object.__setattr__(self, "b", b)

    @property
    def input_dim(self) -> int:
        return int(self.A.shape[1])

    @property
    def output_dim(self) -> int:
        return int(self.A.shape[0])

    def __call__(self, x: Any) -> np.ndarray:
        """Exact image of one point (D,) or a batch (N, D)."""
        X = to_fraction_array(x, name="x")
        if X.ndim == 1:
            _check_dim(X.shape[0], self.input_dim, "x")
            return self.A.dot(X) + self.b
        if X.ndim != 2:
            raise ShapeError(f"x has shape {X.shape}; expected (D,) or (N, D) with D = {self.input_dim}")
        _check_dim(X.shape[1], self.input_dim, "x")
        return X.dot(self.A.T) + self.b

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Affine) and _array_equal(self.A, other.A) and _array_equal(self.b, other.b)

    def __hash__(self) -> int:
        return hash((self.A.shape, tuple(self.A.flat), tuple(self.b.flat)))

    def __repr__(self) -> str:
        return f"Affine(out={self.output_dim}, in={self.input_dim})"


def _check_dim(got: int, want: int, name: str) -> None:
    if got != want:
        raise ShapeError(f"{name} has {got} coordinates; the network expects {want}")


@dataclass(frozen=True, slots=True, eq=False)
class MASO:
    """One max-affine spline operator: ``y[k] = max_r A[k, r] @ z + B[k, r]``.

    Parameters
    ----------
    A : array-like, shape (K, R, D)
        Slopes of the ``R`` affine pieces of each of the ``K`` units (converted exactly).
    B : array-like, shape (K, R)
        Offsets of the pieces.

    Examples
    --------
    A 1-D ReLU is one unit with pieces ``0`` and ``z``:

    >>> relu = MASO([[[0], [1]]], [[0, 0]])
    >>> relu([-2]).tolist(), relu.code([3])
    ([Fraction(0, 1)], (1,))
    """

    A: np.ndarray
    B: np.ndarray
    _cache: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        A = to_fraction_array(self.A, name="MASO slopes A", ndim=3)
        B = to_fraction_array(self.B, name="MASO offsets B", ndim=2)
        if B.shape != A.shape[:2]:
            raise ShapeError(
                f"MASO offsets B have shape {B.shape}; slopes A of shape {A.shape} need B of shape {A.shape[:2]}"
            )
        if A.shape[0] == 0 or A.shape[1] == 0 or A.shape[2] == 0:
            raise ShapeError(f"MASO slopes A have shape {A.shape}; every dimension must be at least 1")
        object.__setattr__(self, "A", A)
        object.__setattr__(self, "B", B)
        object.__setattr__(self, "_cache", {})

    # -- sizes -----------------------------------------------------------------------
    @property
    def num_units(self) -> int:
        return int(self.A.shape[0])

    @property
    def num_pieces(self) -> int:
        return int(self.A.shape[1])

    @property
    def input_dim(self) -> int:
        return int(self.A.shape[2])

    @property
    def output_dim(self) -> int:
        return self.num_units

    @property
    def is_affine(self) -> bool:
        """True when every unit has a single piece (the layer is an affine map)."""
        return self.num_pieces == 1

    # -- internal exact and float forms ---------------------------------------------
    def pieces_int(self) -> tuple[IntMatrix | None, list[int]]:
        """Augmented non-zero pieces ``[A | B]`` as integers over one denominator.

        Returns the matrix of the rows that are not identically zero and, for each of the
        ``K * R`` pieces (unit-major), its row in that matrix or ``-1`` for a zero piece.
        """
        hit = self._cache.get("int")
        if hit is None:
            K, R, D = self.A.shape
            aug = np.concatenate([self.A.reshape(K * R, D), self.B.reshape(K * R, 1)], axis=1)
            rows, where = [], []
            for row in aug:
                if any(v != 0 for v in row):
                    where.append(len(rows))
                    rows.append(row)
                else:
                    where.append(-1)
            mat = IntMatrix.from_fractions(np.array(rows, dtype=object)).reduced() if rows else None
            hit = (mat, where)
            self._cache["int"] = hit
        return hit

    def pieces_float(self) -> np.ndarray:
        """Nearest float64 of ``[A | B]``, shape (K, R, D + 1); for proposals only."""
        hit = self._cache.get("float")
        if hit is None:
            K, R, D = self.A.shape
            aug = np.concatenate([self.A, self.B[:, :, None]], axis=2)
            hit = np.array([float(v) for v in aug.flat], dtype=np.float64).reshape(K, R, D + 1)
            self._cache["float"] = hit
        return hit

    # -- evaluation ------------------------------------------------------------------
    def __call__(self, z: Any) -> np.ndarray:
        """Exact output for one input (D,) or a batch (N, D)."""
        return Network.from_masos([self])(z)

    def code(self, z: Any) -> tuple[int, ...]:
        """Arg-max piece of each unit at the input ``z`` (ties: lowest index)."""
        return Network.from_masos([self]).code(z)[0]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MASO) and _array_equal(self.A, other.A) and _array_equal(self.B, other.B)

    def __hash__(self) -> int:
        return hash((self.A.shape, tuple(self.A.flat), tuple(self.B.flat)))

    def __repr__(self) -> str:
        return f"MASO(units={self.num_units}, pieces={self.num_pieces}, input_dim={self.input_dim})"


# ------------------------------------------------------------------------------------------
# exact batched forward pass on integers
# ------------------------------------------------------------------------------------------


def _columns_to_int(X: np.ndarray) -> tuple[list[list[int]], list[int]]:
    """Rows of Fractions -> per-row numerators over a per-row common denominator."""
    nums, dens = [], []
    for row in X:
        den = 1
        for v in row:
            d = v.denominator
            if d != 1 and den % d:
                den = den // math.gcd(den, d) * d
        nums.append([v.numerator * (den // v.denominator) for v in row])
        dens.append(den)
    return nums, dens


def _forward_int(masos: Sequence[MASO], X: np.ndarray, *, want_values: bool = True):
    """Exact forward pass of a batch (N, D) of Fractions.

    Returns ``(values, codes)``: values an (N, out) object array of Fractions (or None),
    codes a list of per-sample codes.
    """
    nums, dens = _columns_to_int(X)
    N = len(nums)
    codes: list[list[tuple[int, ...]]] = [[] for _ in range(N)]
    for maso in masos:
        mat, where = maso.pieces_int()
        K, R = maso.num_units, maso.num_pieces
        if mat is not None:
            Z = flint.fmpz_mat([row + [den] for row, den in zip(nums, dens)]).transpose()
            prod = mat.num * Z
            ncols = N
            ent = [int(v) for v in prod.entries()]
        new_nums = []
        for j in range(N):
            out, cj = [], []
            for k in range(K):
                best, arg = None, 0
                for r in range(R):
                    w = where[k * R + r]
                    v = ent[w * ncols + j] if w >= 0 else 0
                    if best is None or v > best:
                        best, arg = v, r
                out.append(best)
                cj.append(arg)
            codes[j].append(tuple(cj))
            new_nums.append(out)
        scale = mat.den if mat is not None else 1
        dens = [d * scale for d in dens]
        # keep numbers small: divide each sample by the gcd of its entries and denominator
        for j in range(N):
            g = dens[j]
            for v in new_nums[j]:
                if g == 1:
                    break
                if v:
                    g = math.gcd(g, v)
            if g > 1:
                new_nums[j] = [v // g for v in new_nums[j]]
                dens[j] //= g
        nums = new_nums
    values = None
    if want_values:
        values = np.empty((N, len(nums[0]) if N else masos[-1].num_units), dtype=object)
        for j in range(N):
            values[j, :] = [Fraction(v, dens[j]) for v in nums[j]]
    return values, [tuple(c) for c in codes]


# ------------------------------------------------------------------------------------------
# Network
# ------------------------------------------------------------------------------------------


class Network:
    """An exact network: a composition of MASO layers.

    Build one from layer specifications (affine layers fold into the next MASO)::

        net = Network([Dense(W1, b1), ReLU(), Dense(W2, b2)])

    or from MASOs directly with :meth:`from_masos`.  Networks are immutable.

    Parameters
    ----------
    layers : sequence of layers or MASOs
        See :mod:`exactmaso.layers`.
    input_shape : tuple of int, optional
        Shape of one input, e.g. ``(1, 8, 8)`` for a convolutional network.  Needed when the
        first layer cannot tell its input size (convolutions, pooling, activations).
    """

    __slots__ = ("_masos", "_input_dim", "_input_shape", "_cache")

    def __init__(self, layers: Sequence[Any], *, input_shape: Sequence[int] | None = None) -> None:
        from .layers import compile_layers

        masos, in_shape = compile_layers(list(layers), input_shape)
        self._init(masos, in_shape)

    def _init(self, masos: Sequence[MASO], input_shape: tuple[int, ...]) -> None:
        masos = tuple(masos)
        if not masos:
            raise ShapeError("a network needs at least one layer with parameters; got none")
        for i in range(1, len(masos)):
            if masos[i].input_dim != masos[i - 1].num_units:
                raise ShapeError(
                    f"layer {i} takes {masos[i].input_dim} inputs; layer {i - 1} has {masos[i - 1].num_units} units"
                )
        self._masos = masos
        self._input_dim = masos[0].input_dim
        self._input_shape = tuple(int(s) for s in input_shape) if input_shape else (self._input_dim,)
        self._cache: dict = {}

    @classmethod
    def from_masos(cls, masos: Iterable[MASO], *, input_shape: Sequence[int] | None = None) -> "Network":
        """A network made of the given MASO layers, taken as they are."""
        net = cls.__new__(cls)
        masos = list(masos)
        for i, m in enumerate(masos):
            if not isinstance(m, MASO):
                raise TypeError(f"layer {i} is a {type(m).__name__}; from_masos takes MASO objects")
        net._init(masos, tuple(input_shape) if input_shape else ())
        return net

    # -- sizes -----------------------------------------------------------------------
    @property
    def masos(self) -> tuple[MASO, ...]:
        return self._masos

    @property
    def input_dim(self) -> int:
        return self._input_dim

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self._input_shape

    @property
    def output_dim(self) -> int:
        return self._masos[-1].num_units

    @property
    def num_layers(self) -> int:
        return len(self._masos)

    def __len__(self) -> int:
        return len(self._masos)

    def __repr__(self) -> str:
        parts = ", ".join(f"{m.num_units}x{m.num_pieces}" for m in self._masos)
        return f"Network(input_dim={self.input_dim}, layers=[{parts}])"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Network)
            and len(self._masos) == len(other._masos)
            and all(a == b for a, b in zip(self._masos, other._masos))
        )

    def __hash__(self) -> int:
        return hash(self._masos)

    def summary(self) -> str:
        """A table of the layers: units, pieces, input dimension."""
        lines = [f"Network: input dimension {self.input_dim} (shape {self.input_shape}), output {self.output_dim}"]
        for i, m in enumerate(self._masos):
            kind = "affine" if m.is_affine else f"max of {m.num_pieces} affine pieces"
            lines.append(f"  layer {i}: {m.num_units} units, {kind}, input dimension {m.input_dim}")
        return "\n".join(lines)

    # -- inputs ----------------------------------------------------------------------
    def _batch(self, x: Any) -> tuple[np.ndarray, bool]:
        X = to_fraction_array(x, name="x")
        if X.ndim == 1:
            _check_dim(X.shape[0], self.input_dim, "x")
            return X[None, :], True
        if X.ndim == 2:
            _check_dim(X.shape[1], self.input_dim, "each row of x")
            return X, False
        if X.ndim == len(self._input_shape) and X.shape == self._input_shape:
            return X.reshape(1, -1), True
        if X.ndim == len(self._input_shape) + 1 and X.shape[1:] == self._input_shape:
            return X.reshape(X.shape[0], -1), False
        raise ShapeError(f"x has shape {X.shape}; expected ({self.input_dim},) or (N, {self.input_dim})")

    # -- exact evaluation ------------------------------------------------------------
    def __call__(self, x: Any) -> np.ndarray:
        """Exact output: an object array of Fractions, shape (out,) or (N, out)."""
        X, single = self._batch(x)
        values, _ = _forward_int(self._masos, X)
        return values[0] if single else values

    def forward_with_codes(self, x: Any) -> tuple[np.ndarray, Code | list[Code]]:
        """Exact output and code in one pass."""
        X, single = self._batch(x)
        values, codes = _forward_int(self._masos, X)
        return (values[0], codes[0]) if single else (values, codes)

    def code(self, x: Any) -> Code | list[Code]:
        """The code of ``x``: per layer, the arg-max piece of each unit (ties: lowest index).

        For a batch (N, D) a list of codes is returned.
        """
        X, single = self._batch(x)
        _, codes = _forward_int(self._masos, X, want_values=False)
        return codes[0] if single else codes

    def check_code(self, code: Any) -> Code:
        """Validate a code (tuple of per-layer tuples) and return it as tuples of ints."""
        try:
            layers = [tuple(int(c) for c in layer) for layer in code]
        except TypeError as exc:
            raise ShapeError(f"code {code!r:.80} is not a sequence of per-layer sequences of ints") from exc
        if len(layers) != len(self._masos):
            raise ShapeError(f"code has {len(layers)} layers; the network has {len(self._masos)}")
        for i, (c, m) in enumerate(zip(layers, self._masos)):
            if len(c) != m.num_units:
                raise ShapeError(f"code of layer {i} has {len(c)} entries; the layer has {m.num_units} units")
            bad = [v for v in c if not 0 <= v < m.num_pieces]
            if bad:
                raise ShapeError(f"code of layer {i} holds {bad[0]}; pieces run from 0 to {m.num_pieces - 1}")
        return tuple(layers)

    def affine_map(self, x: Any = None, *, code: Any = None) -> Affine:
        """The exact affine map that the network applies on the region of ``x`` (or of ``code``).

        Exactly one of ``x`` and ``code`` is given.  For a code, the map is the composition of
        the selected pieces, whether or not any input has that code.
        """
        if (x is None) == (code is None):
            raise TypeError("affine_map takes exactly one of x or code=")
        if code is None:
            X, single = self._batch(x)
            if not single:
                raise ShapeError("affine_map takes a single input x of shape (D,)")
            code = _forward_int(self._masos, X, want_values=False)[1][0]
        code = self.check_code(code)
        total = self._compose(code, len(self._masos))
        A = total.to_fractions()
        return Affine(A[:, :-1], A[:, -1])

    def _compose(self, code: Code, upto: int) -> IntMatrix:
        """Augmented (K_l x (D + 1)) exact map of layers ``0 .. upto-1`` under ``code``."""
        total: IntMatrix | None = None
        for l in range(upto - 1, -1, -1):
            m = self._masos[l]
            sel = _selected_rows(m, code[l])
            if total is None:
                total = sel
            else:
                total = (total @ _augment(sel)).reduced()
        assert total is not None
        return total

    # -- other views -----------------------------------------------------------------
    def symbolic(self) -> list:
        """The network as sympy expressions in ``x0 .. x{D-1}``: ``Max`` of affine forms, composed."""
        import sympy

        z = list(sympy.symbols(f"x0:{self.input_dim}", real=True))
        for m in self._masos:
            A, B = m.A, m.B
            out = []
            for k in range(m.num_units):
                pieces = []
                for r in range(m.num_pieces):
                    expr = sympy.Rational(B[k, r].numerator, B[k, r].denominator)
                    for d in range(m.input_dim):
                        a = A[k, r, d]
                        if a:
                            expr += sympy.Rational(a.numerator, a.denominator) * z[d]
                    pieces.append(expr)
                out.append(sympy.Max(*pieces) if len(pieces) > 1 else pieces[0])
            z = out
        return z

    def restrict(self, M: Any, c: Any = None) -> "Network":
        """The network ``x' -> self(M @ x' + c)``: e.g. a 2-D slice of a high-dimensional input.

        Parameters
        ----------
        M : array-like, shape (D, d)
        c : array-like, shape (D,), optional (zero)
        """
        Mf = to_fraction_array(M, name="restriction matrix M", ndim=2)
        if Mf.shape[0] != self.input_dim:
            raise ShapeError(f"restriction matrix M has {Mf.shape[0]} rows; the network input has {self.input_dim} coordinates")
        cf = (
            to_fraction_array(c, name="restriction offset c", shape=(self.input_dim,))
            if c is not None
            else np.array([Fraction(0)] * self.input_dim, dtype=object)
        )
        first = self._masos[0]
        K, R, D = first.A.shape
        aug = np.zeros((D + 1, Mf.shape[1] + 1), dtype=object)
        aug[:D, :-1] = Mf
        aug[:D, -1] = cf
        aug[D, -1] = Fraction(1)
        aug[:D + 1, :] = np.vectorize(Fraction, otypes=[object])(aug)
        pieces = np.concatenate([first.A.reshape(K * R, D), first.B.reshape(K * R, 1)], axis=1)
        new = (IntMatrix.from_fractions(pieces) @ IntMatrix.from_fractions(aug)).reduced().to_fractions()
        new_first = MASO(new[:, :-1].reshape(K, R, -1), new[:, -1].reshape(K, R))
        return Network.from_masos([new_first, *self._masos[1:]])

    def save(self, path: Any) -> None:
        """Write the network as exact JSON (rationals as ``"p/q"`` strings)."""
        from .io.json_io import save

        save(self, path)

    def float_pieces(self) -> list[np.ndarray]:
        """Float64 copies of each layer's augmented pieces (K, R, D + 1); proposals only."""
        return [m.pieces_float() for m in self._masos]


def _selected_rows(m: MASO, code_l: tuple[int, ...]) -> IntMatrix:
    rows = [list(m.A[k, r]) + [m.B[k, r]] for k, r in enumerate(code_l)]
    return IntMatrix.from_fractions(np.array(rows, dtype=object))


def _augment(mat: IntMatrix) -> IntMatrix:
    """[[M, m], [0, 1]] for an augmented map [M | m]."""
    rows = mat.int_rows()
    c = mat.shape[1]
    rows.append([0] * (c - 1) + [mat.den])
    return IntMatrix.from_ints(rows, mat.den)
