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
import operator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Iterable, Sequence

import flint
import numpy as np

from . import numbers as _numbers
from .errors import ShapeError
from .numbers import (
    DenseLimitError,
    IntMatrix,
    SparseIntMatrix,
    check_dense_size,
    lcm_of_denominators,
    to_float_array,
    to_fraction_array,
)

__all__ = ["MASO", "Affine", "Network", "Code", "plane", "DenseLimitError", "SparseIntMatrix", "STORAGES"]

Code = tuple[tuple[int, ...], ...]

_ZERO = Fraction(0)


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

    @classmethod
    def _trusted(cls, A: np.ndarray, b: np.ndarray) -> "Affine":
        """An Affine from arrays of Fractions that the library itself proved (shapes already
        consistent), without the entry-by-entry validation of user input."""
        obj = object.__new__(cls)
        object.__setattr__(obj, "A", A)
        object.__setattr__(obj, "b", b)
        return obj

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


STORAGES = ("auto", "dense", "sparse")

SPARSE_ABOVE = 1 << 20
"""``storage="auto"`` keeps a layer sparse when its dense pieces would hold more numbers than
this and at most a quarter of them are non-zero (or when they would exceed
:data:`~exactmaso.numbers.MAX_DENSE_ENTRIES`); other layers are dense."""


def check_storage(storage: str) -> str:
    """``storage`` if it is one of "auto", "dense", "sparse"; a ValueError naming it otherwise."""
    if storage not in STORAGES:
        raise ValueError(f"storage is {storage!r}; expected one of {', '.join(map(repr, STORAGES))}")
    return storage


class MASO:
    """One max-affine spline operator: ``y[k] = max_r A[k, r] @ z + B[k, r]``.

    Parameters
    ----------
    A : array-like, shape (K, R, D)
        Slopes of the ``R`` affine pieces of each of the ``K`` units (converted exactly).
    B : array-like, shape (K, R)
        Offsets of the pieces.

    A MASO is stored *dense* (the Fraction arrays ``A`` and ``B``, or integer rows from which
    they are made on first use) or *sparse* (:meth:`from_sparse`: the ``K * R`` augmented
    pieces ``[A | B]`` as one :class:`~exactmaso.numbers.SparseIntMatrix`), as convolutions and
    pooling layers are.  Both storages compute the same function, compare equal when their
    pieces are equal, and offer the same exact and float forms; on a sparse MASO, the dense
    forms (``A``, ``B``, :meth:`pieces_float`, :meth:`pieces_int`, ...) are built on demand and
    raise :class:`~exactmaso.errors.DenseLimitError` when they would hold more than
    :data:`~exactmaso.numbers.MAX_DENSE_ENTRIES` numbers.  The sparse forms
    (:meth:`pieces_sparse_int`, :meth:`pieces_sparse_float`, :meth:`selected_sparse`,
    :meth:`pieces_matmul`, :meth:`compose_selected`) work for both storages.

    Examples
    --------
    A 1-D ReLU is one unit with pieces ``0`` and ``z``:

    >>> relu = MASO([[[0], [1]]], [[0, 0]])
    >>> relu([-2]).tolist(), relu.code([3])
    ([Fraction(0, 1)], (1,))
    >>> relu.to_sparse() == relu, relu.to_sparse().pieces_sparse_int().nnz
    (True, 1)
    """

    __slots__ = ("_shape", "_A", "_B", "_sparse", "_cache")

    def __init__(self, A: Any, B: Any) -> None:
        A = to_fraction_array(A, name="MASO slopes A", ndim=3)
        B = to_fraction_array(B, name="MASO offsets B", ndim=2)
        if B.shape != A.shape[:2]:
            raise ShapeError(
                f"MASO offsets B have shape {B.shape}; slopes A of shape {A.shape} need B of shape {A.shape[:2]}"
            )
        if A.shape[0] == 0 or A.shape[1] == 0 or A.shape[2] == 0:
            raise ShapeError(f"MASO slopes A have shape {A.shape}; every dimension must be at least 1")
        self._set(A.shape, A, B, None, None)

    def _set(self, shape: tuple[int, int, int], A: Any, B: Any, sparse: SparseIntMatrix | None,
             int_rows: tuple[list[list[int]], int] | None) -> None:
        object.__setattr__(self, "_shape", tuple(int(s) for s in shape))
        object.__setattr__(self, "_A", A)
        object.__setattr__(self, "_B", B)
        object.__setattr__(self, "_sparse", sparse)
        object.__setattr__(self, "_cache", {} if int_rows is None else {"int_rows": int_rows})

    @classmethod
    def _make(cls, shape: tuple[int, int, int], *, sparse: SparseIntMatrix | None = None,
              int_rows: tuple[list[list[int]], int] | None = None) -> "MASO":
        m = object.__new__(cls)
        m._set(shape, None, None, sparse, int_rows)
        return m

    @classmethod
    def from_sparse(cls, pieces: SparseIntMatrix, num_units: int, num_pieces: int) -> "MASO":
        """A sparse MASO from its ``K * R`` augmented pieces ``[A | B]`` (unit-major rows: piece
        ``(k, r)`` is row ``k * R + r``), a :class:`~exactmaso.numbers.SparseIntMatrix` of shape
        (K * R, D + 1).

        >>> P = SparseIntMatrix.from_ints([[0, 0, 0], [1, -1, 0]])      # relu(z0 - z1)
        >>> m = MASO.from_sparse(P, 1, 2)
        >>> m.is_sparse, m([3, 1]).tolist(), m == MASO([[[0, 0], [1, -1]]], [[0, 0]])
        (True, [Fraction(2, 1)], True)
        """
        if not isinstance(pieces, SparseIntMatrix):
            raise TypeError(f"from_sparse takes a SparseIntMatrix; got {type(pieces).__name__}")
        K, R = int(num_units), int(num_pieces)
        rows, cols = pieces.shape
        if K < 1 or R < 1 or rows != K * R or cols < 2:
            raise ShapeError(
                f"sparse MASO pieces have shape {pieces.shape}; {K} units of {R} pieces need shape "
                f"({K * R}, D + 1) with D >= 1 (and at least one unit and one piece)")
        return cls._make((K, R, cols - 1), sparse=pieces.reduced())

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"MASO is immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"MASO is immutable; cannot delete {name!r}")

    # -- sizes -----------------------------------------------------------------------
    @property
    def num_units(self) -> int:
        return self._shape[0]

    @property
    def num_pieces(self) -> int:
        return self._shape[1]

    @property
    def input_dim(self) -> int:
        return self._shape[2]

    @property
    def output_dim(self) -> int:
        return self.num_units

    @property
    def is_affine(self) -> bool:
        """True when every unit has a single piece (the layer is an affine map)."""
        return self.num_pieces == 1

    @property
    def is_sparse(self) -> bool:
        """True when the pieces are stored sparse (see :meth:`from_sparse`)."""
        return self._sparse is not None

    @property
    def num_nonzeros(self) -> int:
        """Non-zero coefficients among the ``K * R * (D + 1)`` numbers of ``[A | B]``."""
        return self.pieces_sparse_int().nnz

    def _dense_entries(self) -> int:
        K, R, D = self._shape
        return K * R * (D + 1)

    def _check_dense(self, entries: int, what: str, max_entries: int | None = None) -> None:
        K, R, D = self._shape
        check_dense_size(entries, f"{what} of a sparse MASO ({K:,} units x {R} pieces x {D:,} inputs)", max_entries)

    # -- the pieces as dense Fractions -----------------------------------------------
    @property
    def A(self) -> np.ndarray:
        """Slopes, an object array of Fractions (K, R, D); made on first use for a sparse MASO."""
        if self._A is None:
            self._make_fractions()
        return self._A

    @property
    def B(self) -> np.ndarray:
        """Offsets, an object array of Fractions (K, R)."""
        if self._B is None:
            self._make_fractions()
        return self._B

    def _make_fractions(self) -> None:
        K, R, D = self._shape
        if self._sparse is not None:
            self._check_dense(self._dense_entries(), "the slopes A and offsets B")
            aug = self._sparse.to_fractions(max_entries=self._dense_entries())
        else:
            rows, den = self._cache["int_rows"]
            ints = np.array(rows, dtype=object).reshape(K * R, D + 1)
            aug = np.full(ints.shape, _ZERO, dtype=object)
            nz = ints != 0
            aug[nz] = [Fraction(v, den) for v in ints[nz].tolist()]
        object.__setattr__(self, "_A", aug[:, :D].reshape(K, R, D))
        object.__setattr__(self, "_B", aug[:, D].reshape(K, R))

    # -- storage ---------------------------------------------------------------------
    def to_dense(self, *, max_entries: int | None = None) -> "MASO":
        """This MASO stored dense (itself when it is dense).

        Raises :class:`~exactmaso.errors.DenseLimitError` when ``[A | B]`` would hold more
        than ``max_entries`` numbers (default :data:`~exactmaso.numbers.MAX_DENSE_ENTRIES`).
        """
        if self._sparse is None:
            return self
        self._check_dense(self._dense_entries(), "the dense pieces", max_entries)
        rows = self._sparse.int_rows(max_entries=self._dense_entries())
        dense = MASO._make(self._shape, int_rows=(rows, self._sparse.den))
        dense._cache["sparse"] = self._sparse
        return dense

    def to_sparse(self) -> "MASO":
        """This MASO stored sparse (itself when it is sparse)."""
        if self._sparse is not None:
            return self
        return MASO._make(self._shape, sparse=self.pieces_sparse_int())

    def with_storage(self, storage: str) -> "MASO":
        """This MASO stored "dense", "sparse", or as "auto" chooses (see :data:`SPARSE_ABOVE`)."""
        check_storage(storage)
        if storage == "auto":
            entries = self._dense_entries()
            big = entries > _numbers.MAX_DENSE_ENTRIES or (entries > SPARSE_ABOVE and 4 * self.num_nonzeros <= entries)
            storage = "sparse" if big else "dense"
        return self.to_sparse() if storage == "sparse" else self.to_dense()

    # -- internal exact and float forms ---------------------------------------------
    def _int_pieces(self) -> tuple[list[list[int]], int]:
        """All ``K * R`` augmented pieces ``[A | B]`` (unit-major) as integer rows over one
        common denominator ``den``: piece ``(k, r)`` is ``rows[k * R + r] / den``.

        The denominator is the least common one (the rows and ``den`` share no factor).  Dense
        rows: on a sparse MASO, DenseLimitError beyond the limit.
        """
        hit = self._cache.get("int_rows")
        if hit is None:
            if self._sparse is not None:
                self._check_dense(self._dense_entries(), "the integer pieces")
                hit = (self._sparse.int_rows(max_entries=self._dense_entries()), self._sparse.den)
            else:
                K, R, D = self._shape
                aug = np.concatenate([self._A.reshape(K * R, D), self._B.reshape(K * R, 1)], axis=1)
                den = lcm_of_denominators(aug.flat)
                rows = [[v.numerator * (den // v.denominator) for v in row] for row in aug]
                hit = (rows, den)
            self._cache["int_rows"] = hit
        return hit

    def pieces_int(self) -> tuple[IntMatrix | None, list[int]]:
        """Augmented non-zero pieces ``[A | B]`` as integers over one denominator.

        Returns the matrix of the rows that are not identically zero (None when every piece
        is zero) and, for each of the ``K * R`` pieces (unit-major), its row in that matrix
        or ``-1`` for a zero piece.  Dense: on a sparse MASO, DenseLimitError beyond the limit.
        """
        hit = self._cache.get("int")
        if hit is None:
            if self._sparse is not None:
                lengths = self._sparse.row_lengths()
                kept = np.flatnonzero(lengths)
                self._check_dense(len(kept) * (self.input_dim + 1), "the non-zero integer pieces")
                where = np.full(len(lengths), -1, dtype=np.int64)
                where[kept] = np.arange(len(kept))
                mat = self._sparse.rows(kept).to_int_matrix(max_entries=len(kept) * (self.input_dim + 1)) if len(kept) else None
                hit = (mat, where.tolist())
            else:
                rows, den = self._int_pieces()
                kept, where = [], []
                for row in rows:
                    if any(row):
                        where.append(len(kept))
                        kept.append(row)
                    else:
                        where.append(-1)
                mat = IntMatrix.from_ints(kept, den).reduced() if kept else None
                hit = (mat, where)
            self._cache["int"] = hit
        return hit

    def selected_pieces(self, code: Sequence[int]) -> IntMatrix:
        """The augmented rows ``[A[k, code[k]] | B[k, code[k]]]``, shape (K, D + 1), exact (dense)."""
        if self._sparse is not None:
            self._check_dense(self.num_units * (self.input_dim + 1), "the selected pieces")
            return self.selected_sparse(code).to_int_matrix(max_entries=self.num_units * (self.input_dim + 1))
        rows, den = self._int_pieces()
        R = self.num_pieces
        return IntMatrix.from_ints([rows[k * R + r] for k, r in enumerate(code)], den)

    def pieces_fmpz(self) -> tuple[Any, int]:
        """All ``K * R`` augmented pieces as one FLINT integer matrix over a denominator (cached; dense)."""
        hit = self._cache.get("fmpz")
        if hit is None:
            rows, den = self._int_pieces()
            hit = (flint.fmpz_mat(rows), den)
            self._cache["fmpz"] = hit
        return hit

    def pieces_float(self) -> np.ndarray:
        """Nearest float64 of ``[A | B]``, shape (K, R, D + 1), +-inf beyond the float range; for proposals only.

        Dense: on a sparse MASO, DenseLimitError beyond the limit (see :meth:`pieces_sparse_float`).
        """
        hit = self._cache.get("float")
        if hit is None:
            K, R, D = self._shape
            if self._sparse is not None:
                self._check_dense(self._dense_entries(), "the float pieces")
                hit = self.pieces_sparse_float().toarray().reshape(K, R, D + 1)
            else:
                hit = _dense_float_pieces(self)
            self._cache["float"] = hit
        return hit

    # -- sparse forms (both storages) ------------------------------------------------
    def pieces_sparse_int(self) -> SparseIntMatrix:
        """All ``K * R`` augmented pieces ``[A | B]`` as one exact sparse matrix, shape
        (K * R, D + 1), unit-major rows (piece ``(k, r)`` is row ``k * R + r``), over the least
        common denominator (cached)."""
        if self._sparse is not None:
            return self._sparse
        hit = self._cache.get("sparse")
        if hit is None:
            rows, den = self._int_pieces()
            hit = SparseIntMatrix.from_ints(rows, den).reduced()
            self._cache["sparse"] = hit
        return hit

    def pieces_sparse_float(self) -> Any:
        """The nearest float64 of ``[A | B]`` as a ``scipy.sparse.csr_matrix`` of shape
        (K * R, D + 1): the rows of ``pieces_float().reshape(K * R, D + 1)``, without building
        them densely for a sparse MASO (cached; for proposals only)."""
        hit = self._cache.get("sparse_float")
        if hit is None:
            if self._sparse is not None:
                hit = self._sparse.to_scipy()
            else:
                import scipy.sparse

                K, R, D = self._shape
                hit = scipy.sparse.csr_matrix(self.pieces_float().reshape(K * R, D + 1))
            self._cache["sparse_float"] = hit
        return hit

    def _selected_index(self, code: Sequence[int]) -> np.ndarray:
        c = np.asarray(code, dtype=np.int64).reshape(-1)
        K, R = self.num_units, self.num_pieces
        if len(c) != K or (K and (c.min() < 0 or c.max() >= R)):
            raise ShapeError(f"a code of this layer has {K} entries from 0 to {R - 1}; got {len(c)} entries "
                             f"from {c.min() if len(c) else None} to {c.max() if len(c) else None}")
        return np.arange(K, dtype=np.int64) * R + c

    def selected_sparse(self, code: Sequence[int]) -> SparseIntMatrix:
        """The augmented rows ``[A[k, code[k]] | B[k, code[k]]]`` as an exact sparse matrix (K, D + 1)."""
        return self.pieces_sparse_int().rows(self._selected_index(code))

    def pieces_matmul(self, Z: IntMatrix) -> IntMatrix:
        """The exact product ``[A | B] @ Z`` of all ``K * R`` augmented pieces (unit-major rows)
        with a dense ``Z`` of shape (D + 1, c): shape (K * R, c), over the product of the
        denominators (not reduced).

        With ``Z = [[M, m], [0, 1]]`` for the map ``z = M x + m`` of this layer's input, the
        rows are the pieces as affine functions of ``x`` (sparse MASOs are never made dense).
        """
        if Z.shape[0] != self.input_dim + 1:
            raise ShapeError(f"pieces_matmul takes a matrix of {self.input_dim + 1} rows (D + 1); got shape {Z.shape}")
        if self._sparse is not None:
            return self._sparse @ Z
        pieces, den = self.pieces_fmpz()
        return IntMatrix(pieces * Z.num, den * Z.den)

    def selected_matmul(self, code: Sequence[int], Z: IntMatrix) -> IntMatrix:
        """The exact product ``[S | s] @ Z`` of the pieces that ``code`` selects (one per unit)
        with a dense ``Z`` of shape (D + 1, c): shape (K, c), not reduced.

        Forward composition: with ``Z = [[M, m], [0, 1]]`` for this layer's input
        ``z = M x + m``, the result is ``[M' | m']`` for its output on the cell of ``code``.
        """
        if Z.shape[0] != self.input_dim + 1:
            raise ShapeError(f"selected_matmul takes a matrix of {self.input_dim + 1} rows (D + 1); got shape {Z.shape}")
        if self._sparse is not None:
            return self.selected_sparse(code) @ Z
        sel = self.selected_pieces(code)
        return IntMatrix(sel.num * Z.num, sel.den * Z.den)

    def compose_selected(self, total: IntMatrix | SparseIntMatrix, code: Sequence[int]) -> IntMatrix | SparseIntMatrix:
        """``total @ [[S, s], [0, 1]]`` where ``[S | s]`` are the pieces that ``code`` selects.

        ``total`` (r x (K + 1)) is an augmented map of this layer's outputs (for example the
        composition of the later layers, ``r`` outputs); the result (r x (D + 1)) is the same map
        of this layer's inputs, exact and reduced.  A dense ``total`` (:class:`IntMatrix`) gives
        an IntMatrix, a sparse one (:class:`SparseIntMatrix`) a SparseIntMatrix; the work is
        sparse for a sparse MASO, one FLINT product for a dense one.
        """
        K = self.num_units
        if total.shape[1] != K + 1:
            raise ShapeError(f"compose_selected takes a map of {K + 1} columns (K + 1); got shape {total.shape}")
        if self._sparse is not None:
            step = self.selected_sparse(code).augmented()
            if isinstance(total, SparseIntMatrix):
                return (total @ step).reduced()
            return (SparseIntMatrix.from_int_matrix(total) @ step).reduced().to_int_matrix()
        if isinstance(total, SparseIntMatrix):
            dense = total.to_int_matrix()
            return SparseIntMatrix.from_int_matrix(_compose_step(dense, self, code))
        return _compose_step(total, self, code)

    # -- evaluation ------------------------------------------------------------------
    def __call__(self, z: Any) -> np.ndarray:
        """Exact output for one input (D,) or a batch (N, D)."""
        return Network.from_masos([self])(z)

    def code(self, z: Any) -> tuple[int, ...]:
        """Arg-max piece of each unit at the input ``z`` (ties: lowest index)."""
        return Network.from_masos([self]).code(z)[0]

    def __eq__(self, other: object) -> bool:
        """Same pieces (entry by entry, exactly), whatever the storage."""
        if not isinstance(other, MASO):
            return False
        if self._shape != other._shape:
            return False
        if self._A is not None and other._A is not None:
            return _array_equal(self._A, other._A) and _array_equal(self._B, other._B)
        return self.pieces_sparse_int() == other.pieces_sparse_int()

    def __hash__(self) -> int:
        return hash((self._shape, self.pieces_sparse_int()))

    def __reduce__(self):
        # the caches hold FLINT matrices, which do not pickle: rebuild them on the other side
        if self._sparse is not None:
            return (MASO.from_sparse, (self._sparse, self.num_units, self.num_pieces))
        if self._A is not None:
            return (MASO, (self._A, self._B))
        return (_maso_from_int_rows, (self._shape, *self._cache["int_rows"]))

    def __repr__(self) -> str:
        sparse = f", sparse with {self._sparse.nnz} non-zeros" if self._sparse is not None else ""
        return f"MASO(units={self.num_units}, pieces={self.num_pieces}, input_dim={self.input_dim}{sparse})"


def _maso_from_int_rows(shape: tuple[int, int, int], rows: list[list[int]], den: int) -> MASO:
    return MASO._make(shape, int_rows=(rows, den))


def _dense_float_pieces(m: MASO) -> np.ndarray:
    """Nearest float64 of the pieces of a dense MASO, (K, R, D + 1)."""
    K, R, D = m._shape
    rows, den = m._int_pieces()
    e = den.bit_length() - 1
    hit = None
    if den == 1 << e and e < 900:
        # float(int) rounds correctly and scaling by 2^-e is exact while nothing is
        # subnormal: together, the nearest float of each piece (floats are dyadic)
        ints = np.array(rows, dtype=object).reshape(K, R, D + 1)
        try:
            hit = ints.astype(np.float64) * 2.0 ** -e
        except OverflowError:  # an integer beyond the float range
            hit = None
        if hit is not None:
            tiny = (hit != 0) & (np.abs(hit) < 2.0**-1000)
            if tiny.any() or not np.isfinite(hit).all():
                hit = None
    if hit is None:
        aug = np.concatenate([m.A, m.B[:, :, None]], axis=2)
        hit = to_float_array(aug)
    return hit


# ------------------------------------------------------------------------------------------
# exact batched forward pass on integers
# ------------------------------------------------------------------------------------------


def _rows_to_int(X: np.ndarray) -> tuple[list[list[int]], list[int]]:
    """Rows of Fractions -> per-row integer numerators over a per-row common denominator."""
    nums, dens = [], []
    for row in X:
        den = lcm_of_denominators(row)
        nums.append([v.numerator * (den // v.denominator) for v in row])
        dens.append(den)
    return nums, dens


def _reduce_rows(nums: list[list[int]], dens: list[int]) -> None:
    """Divide each sample's numerators and denominator by their gcd, in place."""
    for j, row in enumerate(nums):
        g = math.gcd(dens[j], *row)
        if g > 1:
            nums[j] = [v // g for v in row]
            dens[j] //= g


def _forward_int(
    masos: Sequence[MASO], X: np.ndarray, *, want_values: bool = True
) -> tuple[np.ndarray | None, list[Code]]:
    """Exact forward pass of a batch (N, D) of Fractions.

    Each sample is kept as integer numerators over one denominator; a layer is one FLINT
    integer matrix product for the whole batch, then an arg-max per unit on integers.

    Returns ``(values, codes)``: values an (N, out) object array of Fractions (None when
    ``want_values`` is false), codes the list of the N per-sample codes.
    """
    N = X.shape[0]
    nums, dens = _rows_to_int(X)
    per_layer: list[np.ndarray] = []  # (N, K) arg-max pieces of each layer
    for maso in masos:
        K, R = maso.num_units, maso.num_pieces
        if maso.is_sparse:  # one sparse product with the batch, in Python ints
            pieces = maso.pieces_sparse_int()
            Z = np.empty((N, maso.input_dim + 1), dtype=object)
            for j, (row, den) in enumerate(zip(nums, dens)):
                Z[j, :-1] = row
                Z[j, -1] = den
            Z = Z.T
            values = pieces.dot_ints(Z)  # piece values times den_j * pieces.den
            dens = [d * pieces.den for d in dens]
        else:
            mat, where = maso.pieces_int()
            values = np.zeros((K * R, N), dtype=object)  # piece values times den_j * mat.den
            if mat is not None and N:
                Z = flint.fmpz_mat([row + [den] for row, den in zip(nums, dens)]).transpose()
                prod = np.array([int(v) for v in (mat.num * Z).entries()], dtype=object).reshape(-1, N)
                kept = [i for i, w in enumerate(where) if w >= 0]
                values[kept] = prod
                dens = [d * mat.den for d in dens]
        values = values.reshape(K, R, N)
        if R == 1:
            arg = np.zeros((K, N), dtype=np.intp)
            best = values[:, 0, :]
        else:
            arg = np.argmax(values, axis=1)  # the first maximum: ties go to the lowest piece
            best = np.take_along_axis(values, arg[:, None, :], axis=1)[:, 0, :]
        per_layer.append(arg.T)
        nums = best.T.tolist()
        _reduce_rows(nums, dens)
    codes = [tuple(tuple(int(v) for v in layer[j]) for layer in per_layer) for j in range(N)]
    if not want_values:
        return None, codes
    out = np.empty((N, masos[-1].num_units), dtype=object)
    for j in range(N):
        den = dens[j]
        out[j, :] = [Fraction(v, den) for v in nums[j]]
    return out, codes


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
    storage : {"auto", "dense", "sparse"}
        How the compiled MASOs store their pieces (:meth:`MASO.with_storage`): "auto" keeps
        large, mostly-zero layers (convolutions, pooling) sparse and the others dense; "dense"
        raises :class:`~exactmaso.errors.DenseLimitError` for a layer too large to be dense.
    """

    __slots__ = ("_masos", "_input_dim", "_input_shape", "_cache")

    def __init__(self, layers: Sequence[Any], *, input_shape: Sequence[int] | None = None,
                 storage: str = "auto") -> None:
        from .layers import compile_layers

        masos, in_shape = compile_layers(list(layers), input_shape, storage=storage)
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
        shape = tuple(int(s) for s in input_shape) if input_shape else (self._input_dim,)
        if math.prod(shape) != self._input_dim:
            raise ShapeError(f"input_shape {shape} holds {math.prod(shape)} numbers; the first layer takes {self._input_dim}")
        self._input_shape = shape
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
        """Same representation: equal MASO layers, entry by entry (not merely the same function)."""
        return (
            isinstance(other, Network)
            and len(self._masos) == len(other._masos)
            and all(a == b for a, b in zip(self._masos, other._masos))
        )

    def __hash__(self) -> int:
        return hash(self._masos)

    def __reduce__(self):
        return (_rebuild_network, (list(self._masos), self._input_shape))

    def summary(self) -> str:
        """A table of the layers: units, pieces, input dimension."""
        lines = [f"Network: input dimension {self.input_dim} (shape {self.input_shape}), output {self.output_dim}"]
        for i, m in enumerate(self._masos):
            kind = "affine" if m.is_affine else f"max of {m.num_pieces} affine pieces"
            sparse = f", sparse ({m.num_nonzeros:,} non-zeros)" if m.is_sparse else ""
            units = f"{m.num_units} unit" + ("" if m.num_units == 1 else "s")
            lines.append(f"  layer {i}: {units}, {kind}, input dimension {m.input_dim}{sparse}")
        return "\n".join(lines)

    # -- inputs ----------------------------------------------------------------------
    def _batch(self, x: Any) -> tuple[np.ndarray, bool]:
        """``x`` as an exact (N, D) batch, and whether it was a single input.

        A single input is a vector (D,) or an array of exactly :attr:`input_shape`; a batch
        is (N, D) or (N, *input_shape).  An array of exactly ``input_shape`` counts as a
        single input even where it could also be read as a batch.
        """
        X = to_fraction_array(x, name="x")
        shape = self._input_shape
        if X.shape == shape:
            return X.reshape(1, self.input_dim), True
        if X.ndim == len(shape) + 1 and X.shape[1:] == shape:
            return X.reshape(X.shape[0], self.input_dim), False
        if X.ndim == 1:
            _check_dim(X.shape[0], self.input_dim, "x")
            return X[None, :], True
        if X.ndim == 2:
            _check_dim(X.shape[1], self.input_dim, "each row of x")
            return X, False
        shapes = f"({self.input_dim},) or (N, {self.input_dim})"
        if len(shape) > 1:
            shapes += f" or {shape} or (N, {', '.join(map(str, shape))})"
        raise ShapeError(f"x has shape {X.shape}; expected {shapes}")

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
            layers = [tuple(operator.index(c) for c in layer) for layer in code]
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

        Examples
        --------
        >>> net = Network.from_masos([MASO([[[0], [1]]], [[0, 0]])])   # a 1-D ReLU
        >>> net.affine_map([3]).A.tolist(), net.affine_map(code=((0,),)).A.tolist()
        ([[Fraction(1, 1)]], [[Fraction(0, 1)]])
        """
        if (x is None) == (code is None):
            raise TypeError("affine_map takes exactly one of x or code=")
        if code is None:
            X, single = self._batch(x)
            if not single:
                raise ShapeError(f"affine_map takes one input of shape ({self.input_dim},); got a batch of {X.shape[0]}")
            code = _forward_int(self._masos, X, want_values=False)[1][0]
        total = self._compose(self.check_code(code), len(self._masos)).to_fractions()
        return Affine(total[:, :-1], total[:, -1])

    def _compose(self, code: Code, upto: int) -> IntMatrix:
        """Augmented (K x (D + 1)) exact map of layers ``0 .. upto-1`` under ``code``.

        Composed backwards from layer ``upto - 1``, so the running product keeps its K rows;
        sparse while any of the layers is sparse.
        """
        if upto < 1:
            raise ValueError(f"_compose needs at least one layer; got upto={upto}")
        masos = self._masos[:upto]
        last = masos[-1]
        if any(m.is_sparse for m in masos):
            total: IntMatrix | SparseIntMatrix = last.selected_sparse(code[upto - 1])
        else:
            total = last.selected_pieces(code[upto - 1])
        for l in range(upto - 2, -1, -1):
            total = masos[l].compose_selected(total, code[l])
        return total.to_int_matrix() if isinstance(total, SparseIntMatrix) else total

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

        The map folds exactly into the first layer, so the result is a network on ``d`` inputs:
        its first layer has ``K x R x d`` slopes (dense when that is small, see
        :meth:`MASO.with_storage`), the later layers are the same objects as in ``self`` (a
        sparse layer stays sparse), and nothing of size ``D`` is made dense.

        Parameters
        ----------
        M : array-like, shape (D, d)
        c : array-like, shape (D,), optional (zero)

        Examples
        --------
        >>> relu = Network.from_masos([MASO([[[0, 0], [1, -1]]], [[0, 0]])])  # relu(x0 - x1)
        >>> line = relu.restrict([[1], [0]], [0, 2])                          # x' -> relu(x' - 2)
        >>> line.input_dim, line([5]).tolist()
        (1, [Fraction(3, 1)])
        """
        D = self.input_dim
        Mf = to_fraction_array(M, name="restriction matrix M", ndim=2)
        if Mf.shape[0] != D or Mf.shape[1] == 0:
            raise ShapeError(
                f"restriction matrix M has shape {Mf.shape}; expected ({D}, d) with d >= 1 "
                f"(the network input has {D} coordinates)"
            )
        d = Mf.shape[1]
        cf = (
            to_fraction_array(c, name="restriction offset c", shape=(D,))
            if c is not None
            else np.full(D, _ZERO, dtype=object)
        )
        # [M c; 0 1] maps [x'; 1] to [x; 1]
        lift = np.full((D + 1, d + 1), _ZERO, dtype=object)
        lift[:D, :d] = Mf
        lift[:D, d] = cf
        lift[D, d] = Fraction(1)
        first = self._masos[0]
        pieces = SparseIntMatrix.from_int_matrix(first.pieces_matmul(IntMatrix.from_fractions(lift)))
        new_first = MASO.from_sparse(pieces, first.num_units, first.num_pieces).with_storage("auto")
        return Network.from_masos([new_first, *self._masos[1:]])

    def save(self, path: Any) -> None:
        """Write the network as exact JSON (rationals as ``"p/q"`` strings)."""
        from .io.json_io import save

        save(self, path)

    def float_pieces(self) -> list[np.ndarray]:
        """Float64 copies of each layer's augmented pieces (K, R, D + 1); proposals only."""
        return [m.pieces_float() for m in self._masos]


def plane(x0: Any, x1: Any, x2: Any) -> tuple[np.ndarray, np.ndarray]:
    """The ``(M, c)`` of the plane through three inputs, for :meth:`Network.restrict`.

    The slice coordinates ``(a, b)`` map to ``x0 + a (x1 - x0) + b (x2 - x0)``: the point
    ``(0, 0)`` is ``x0``, ``(1, 0)`` is ``x1`` and ``(0, 1)`` is ``x2``, so the box
    ``[0, 1]^2`` holds the triangle of the three inputs.  Inputs of any shape (an image
    ``C x H x W``, say) are flattened; every value is exact (floats are read as the rationals
    they are).  ``M`` has shape ``(D, 2)`` and ``c`` shape ``(D,)``.

    Examples
    --------
    >>> M, c = plane([0, 0, 1], [1, 0, 1], [0, 2, 1])
    >>> M.tolist(), c.tolist()
    ([[Fraction(1, 1), Fraction(0, 1)], [Fraction(0, 1), Fraction(2, 1)], [Fraction(0, 1), Fraction(0, 1)]], [Fraction(0, 1), Fraction(0, 1), Fraction(1, 1)])
    """
    points = [to_fraction_array(np.asarray(x, dtype=object).reshape(-1), name=f"x{i}", ndim=1)
              for i, x in enumerate((x0, x1, x2))]
    D = points[0].shape[0]
    for i, p in enumerate(points[1:], 1):
        if p.shape[0] != D:
            raise ShapeError(f"x{i} has {p.shape[0]} values; x0 has {D} (the three inputs must have one size)")
    M = np.empty((D, 2), dtype=object)
    M[:, 0] = points[1] - points[0]
    M[:, 1] = points[2] - points[0]
    if all(v == 0 for v in M[:, 0]) or all(v == 0 for v in M[:, 1]) or _collinear(M):
        raise ShapeError("the three inputs lie on one line (or coincide): they span no plane")
    return M, points[0].copy()


def _collinear(M: np.ndarray) -> bool:
    """Whether the two columns of ``M`` are parallel (every 2 x 2 minor is zero), exactly."""
    u, v = M[:, 0], M[:, 1]
    i = next(k for k in range(len(u)) if u[k] != 0)
    return all(u[i] * v[k] - u[k] * v[i] == 0 for k in range(len(u)))


def _compose_step(total: IntMatrix, m: MASO, code_l: Sequence[int]) -> IntMatrix:
    """``total @ [[S, s], [0, 1]]`` where ``[S | s]`` are the pieces of ``m`` that ``code_l`` selects.

    ``total`` (rows x (K + 1)) is small; instead of building the selected rows of ``m`` as a
    new matrix, its first K columns are scattered onto the positions of the selected pieces
    and multiplied by the layer's cached integer matrix of all pieces.
    """
    K, R = m.num_units, m.num_pieces
    pieces, pden = m.pieces_fmpz()
    T = total.int_rows()
    rows = len(T)
    scat = [[0] * (K * R) for _ in range(rows)]
    for k, c in enumerate(code_l):
        col = k * R + c
        for i in range(rows):
            scat[i][col] = T[i][k]
    prod = flint.fmpz_mat(scat) * pieces
    n1 = prod.ncols()
    last = [T[i][K] * pden for i in range(rows)]
    for i in range(rows):
        if last[i]:
            prod[i, n1 - 1] += last[i]
    return IntMatrix(prod, total.den * pden).reduced()


def _rebuild_network(masos: list[MASO], input_shape: tuple[int, ...]) -> Network:
    return Network.from_masos(masos, input_shape=input_shape)
