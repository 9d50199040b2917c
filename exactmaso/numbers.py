"""Exact numbers: conversion at the public boundary and fast exact kernels inside.

The public currency is :class:`fractions.Fraction`, and numpy arrays of ``dtype=object``
holding Fractions.  Every accepted input converts *exactly*:

- a Python or numpy float is a dyadic rational and converts to its binary value
  (``Fraction(0.1)`` is ``3602879701896397/36028797018963968``, not ``1/10``);
- ints, Fractions and sympy Rationals are taken as they are;
- strings ``"p/q"``, ``"-3"``, ``"0.25"`` are parsed exactly (decimal strings are decimal).

NaN, infinities, complex numbers, booleans and arbitrary objects are rejected with a
:class:`~exactmaso.errors.DomainError` (or :class:`~exactmaso.errors.ShapeError` for a
ragged array) that names the tensor and the index.

Inside the library exact linear algebra runs on integers over a common denominator
(:class:`IntMatrix`), multiplied with python-flint's ``fmpz_mat`` -- about ten times faster
than numpy object arrays of Python ints and a hundred times faster than Fractions.
"""

from __future__ import annotations

import math
import numbers as _abc
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Iterable, Sequence

import flint
import numpy as np

from .errors import DenseLimitError, DomainError, ShapeError

__all__ = [
    "to_fraction",
    "to_fraction_array",
    "to_float_array",
    "nearest_float",
    "is_fraction_array",
    "IntMatrix",
    "SparseIntMatrix",
    "DenseLimitError",
    "MAX_DENSE_ENTRIES",
    "check_dense_size",
    "lcm_of_denominators",
    "fraction_to_str",
    "str_to_fraction",
]


# --------------------------------------------------------------------------------------
# scalars
# --------------------------------------------------------------------------------------


class _Rejected(Exception):
    """Internal: a value is not an exact real number; ``reason`` completes "x[i] is ..."."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _where(name: str, index: tuple[int, ...] | None) -> str:
    if not index:
        return name
    return f"{name}[{', '.join(str(i) for i in index)}]"


_EXPECTED = "expected an int, a finite float, a Fraction, a sympy Rational or a 'p/q' string"


def str_to_fraction(text: str, *, name: str = "value") -> Fraction:
    """Parse ``"p/q"``, an integer or a decimal string exactly.

    >>> str_to_fraction(" -3/6 "), str_to_fraction("0.125")
    (Fraction(-1, 2), Fraction(1, 8))
    """
    try:
        return _from_string(text)
    except _Rejected as exc:
        raise DomainError(f"{name} is {exc.reason}") from None


def _from_string(text: str) -> Fraction:
    try:
        return Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise _Rejected(f"the string {text!r:.60}; expected an exact rational such as '3/4', '-2' or '0.125'") from None


def fraction_to_str(value: Fraction) -> str:
    """The canonical ``"p/q"`` (or ``"p"``) spelling used in files.

    >>> fraction_to_str(Fraction(-6, 4)), fraction_to_str(Fraction(5))
    ('-3/2', '5')
    """
    if value.denominator == 1:
        return str(value.numerator)
    return f"{value.numerator}/{value.denominator}"


def _from_float(value: float) -> Fraction:
    if not math.isfinite(value):
        raise _Rejected(f"{value!r}; expected a finite real number")
    return Fraction(value)  # the float's exact binary value


def _exact(value: Any) -> Fraction:
    """Convert one scalar exactly, or raise :class:`_Rejected` saying what it is."""
    if type(value) is Fraction:
        return value
    if isinstance(value, (bool, np.bool_)):
        raise _Rejected(f"a boolean ({value!r}); expected a real number")
    if isinstance(value, (int, np.integer)):
        return Fraction(int(value))
    if isinstance(value, np.longdouble) and np.finfo(np.longdouble).nmant > 52:
        if not np.isfinite(value):
            raise _Rejected(f"{value!r}; expected a finite real number")
        return Fraction(*(int(v) for v in value.as_integer_ratio()))
    if isinstance(value, (float, np.floating)):
        return _from_float(float(value))  # float16/32 widen to float64 exactly
    if isinstance(value, Fraction):  # a subclass
        return Fraction(value.numerator, value.denominator)
    if isinstance(value, str):
        return _from_string(value)
    if isinstance(value, (complex, np.complexfloating)):
        raise _Rejected(f"complex ({value!r}); expected a real number")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise _Rejected(f"{value!r}; expected a finite real number")
        return Fraction(value)
    if isinstance(value, flint.fmpq):
        return Fraction(int(value.p), int(value.q))
    if isinstance(value, flint.fmpz):
        return Fraction(int(value))
    if type(value).__module__.startswith("sympy"):
        return _from_sympy(value)
    if isinstance(value, _abc.Rational):
        return Fraction(int(value.numerator), int(value.denominator))
    raise _Rejected(f"of type {type(value).__name__} ({value!r:.60}); {_EXPECTED}")


def _from_sympy(value: Any) -> Fraction:
    import sympy  # lazily: sympy is slow to import

    if isinstance(value, sympy.Rational):  # Integer included
        return Fraction(int(value.p), int(value.q))
    if isinstance(value, sympy.Float) and value.is_finite:
        r = sympy.Rational(value)  # the exact binary value of the multi-precision float
        return Fraction(int(r.p), int(r.q))
    raise _Rejected(f"the sympy object {value!r:.60}; expected a finite rational number")


def _convert(value: Any, name: str, index: tuple[int, ...] | None) -> Fraction:
    try:
        return _exact(value)
    except _Rejected as exc:
        raise DomainError(f"{_where(name, index)} is {exc.reason}") from None


def to_fraction(value: Any, *, name: str = "value") -> Fraction:
    """Convert one number exactly to a :class:`~fractions.Fraction`.

    Floats convert to their binary value; NaN, infinities, complex numbers, booleans and
    other objects raise :class:`~exactmaso.errors.DomainError`.

    Examples
    --------
    >>> to_fraction(0.5)
    Fraction(1, 2)
    >>> to_fraction("2/6")
    Fraction(1, 3)
    >>> to_fraction(0.1) == Fraction(1, 10)
    False
    """
    if isinstance(value, np.ndarray):
        if value.ndim != 0:
            raise ShapeError(f"{name} has shape {value.shape}; expected a scalar")
        value = value[()]
    return _convert(value, name, None)


# --------------------------------------------------------------------------------------
# arrays
# --------------------------------------------------------------------------------------


def is_fraction_array(x: Any) -> bool:
    """True for a numpy object array whose entries are all Fractions."""
    return isinstance(x, np.ndarray) and x.dtype == object and all(type(v) is Fraction for v in x.flat)


def _floats_to_fractions(arr: np.ndarray, name: str) -> np.ndarray:
    finite = np.isfinite(arr)
    if not finite.all():
        bad = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise DomainError(f"{_where(name, bad)} is {float(arr[bad])!r}; expected a finite real number")
    if arr.dtype.itemsize > 8 and np.finfo(arr.dtype).nmant > 52:  # long double: keep every bit
        return _objects_to_fractions(arr, name)
    out = np.empty(arr.size, dtype=object)
    out[:] = [Fraction(v) for v in arr.astype(np.float64).ravel().tolist()]  # float16/32 widen exactly
    return out.reshape(arr.shape)


def _objects_to_fractions(arr: np.ndarray, name: str) -> np.ndarray:
    """Entrywise exact conversion; the index of a bad entry is only computed to report it."""
    flat = arr.ravel()
    out = np.empty(flat.shape[0], dtype=object)
    try:
        out[:] = [_exact(v) for v in flat.tolist()] if arr.dtype != object else [_exact(v) for v in flat]
    except _Rejected:
        for i, v in enumerate(flat):
            try:
                _exact(v)
            except _Rejected as exc:
                index = tuple(int(j) for j in np.unravel_index(i, arr.shape)) if arr.ndim else None
                raise DomainError(f"{_where(name, index)} is {exc.reason}") from None
        raise  # pragma: no cover - the loop above finds the entry
    return out.reshape(arr.shape)


def _as_ndarray(value: Any, name: str) -> np.ndarray:
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, without importing torch
        value = value.detach().cpu()
        if str(value.dtype) == "torch.bfloat16":
            value = value.float()  # exact widening; numpy has no bfloat16
        value = value.numpy()
    if isinstance(value, np.ndarray):
        return value
    try:
        arr = np.array(value, dtype=object)
    except ValueError as exc:
        raise ShapeError(f"{name} is a ragged nested sequence; expected a rectangular array") from exc
    if arr.ndim > 0 and any(isinstance(v, (list, tuple, np.ndarray)) for v in arr.flat):
        raise ShapeError(f"{name} is a ragged nested sequence; expected a rectangular array")
    return arr


def to_fraction_array(
    value: Any, *, name: str = "array", ndim: int | None = None, shape: Sequence[int] | None = None
) -> np.ndarray:
    """Convert an array-like exactly to a numpy object array of Fractions.

    Parameters
    ----------
    value
        A numpy array (float16/32/64, integer, or object of exact numbers), a nested
        sequence, a torch tensor, or a scalar.
    name
        How the array is called in error messages ("layer 2 weight").
    ndim, shape
        Expected number of dimensions / exact shape (``-1`` for any size in a dimension).

    Returns
    -------
    numpy.ndarray
        A new object array of Fractions (never a view of ``value``).

    Raises
    ------
    DomainError
        An entry is NaN, infinite, complex, boolean or not a number; the message names
        ``name`` and the entry's index.
    ShapeError
        A ragged nested sequence, or a shape other than ``ndim`` / ``shape``.

    Examples
    --------
    >>> to_fraction_array([0.5, "1/3"]).tolist()
    [Fraction(1, 2), Fraction(1, 3)]
    >>> to_fraction_array([1.0, float("nan")], name="bias")
    Traceback (most recent call last):
    ...
    exactmaso.errors.DomainError: bias[1] is nan; expected a finite real number
    """
    arr = _as_ndarray(value, name)
    kind = arr.dtype.kind
    if kind == "f":
        out = _floats_to_fractions(arr, name)
    elif kind in "iu":
        out = np.empty(arr.size, dtype=object)
        out[:] = [Fraction(v) for v in arr.ravel().tolist()]
        out = out.reshape(arr.shape)
    elif kind == "O":
        if all(type(v) is Fraction for v in arr.flat):
            out = arr.copy()
        else:
            out = _objects_to_fractions(arr, name)
    elif kind == "U":
        out = _objects_to_fractions(arr, name)
    elif kind == "S":
        out = _objects_to_fractions(np.char.decode(arr, "ascii", errors="replace"), name)
    elif kind == "b":
        raise DomainError(f"{name} is a boolean array; expected real numbers")
    elif kind == "c":
        raise DomainError(f"{name} is a complex array (dtype {arr.dtype}); expected real numbers")
    else:
        raise DomainError(f"{name} has dtype {arr.dtype}; expected real numbers")
    if ndim is not None and out.ndim != ndim:
        raise ShapeError(f"{name} has {out.ndim} dimension(s) (shape {out.shape}); expected {ndim}")
    if shape is not None:
        if len(shape) != out.ndim or any(s not in (-1, t) for s, t in zip(shape, out.shape)):
            want = "(" + ", ".join("any" if s == -1 else str(s) for s in shape) + (",)" if len(shape) == 1 else ")")
            raise ShapeError(f"{name} has shape {out.shape}; expected {want}")
    return out


def nearest_float(value: Any) -> float:
    """Nearest float64 of an exact rational; +-inf beyond the float range (never raises)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def to_float_array(value: np.ndarray) -> np.ndarray:
    """Nearest float64 of each exact entry, +-inf beyond the float range (for proposals and plots only)."""
    arr = np.asarray(value, dtype=object)
    return np.array([nearest_float(v) for v in arr.flat], dtype=np.float64).reshape(arr.shape)


def lcm_of_denominators(values: Iterable[Any]) -> int:
    """Least common multiple of the denominators of exact rationals (1 for none)."""
    return math.lcm(*{v.denominator for v in values})


# --------------------------------------------------------------------------------------
# fast exact matrices: integers over one common denominator
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IntMatrix:
    """An exact rational matrix stored as ``num / den`` with ``num`` an ``fmpz_mat``.

    The representation is not unique (``num`` and ``den`` may share a factor); use
    :meth:`reduced` for the canonical one.  Products multiply numerators with FLINT and
    denominators as Python ints, so a chain of layers costs integer matrix products only.
    """

    num: Any  # flint.fmpz_mat
    den: int

    @property
    def shape(self) -> tuple[int, int]:
        return (self.num.nrows(), self.num.ncols())

    @classmethod
    def from_fractions(cls, arr: np.ndarray) -> "IntMatrix":
        """Exact 2-D array of rationals -> integers over the lcm of the denominators."""
        a = np.asarray(arr, dtype=object)
        if a.ndim != 2:
            raise ShapeError(f"IntMatrix needs a 2-D array; got shape {a.shape}")
        den = lcm_of_denominators(a.flat)
        rows = [[v.numerator * (den // v.denominator) for v in row] for row in a]
        return cls.from_ints(rows, den, shape=a.shape)

    @classmethod
    def from_ints(
        cls, rows: Sequence[Sequence[int]], den: int = 1, shape: tuple[int, int] | None = None
    ) -> "IntMatrix":
        """``rows / den`` for nested Python ints (``shape`` is needed only when empty)."""
        if den <= 0:
            raise ValueError(f"IntMatrix denominator is {den}; expected a positive integer")
        if shape is not None and (shape[0] == 0 or shape[1] == 0):
            return cls(flint.fmpz_mat(shape[0], shape[1]), den)
        return cls(flint.fmpz_mat(rows), den)

    def __matmul__(self, other: "IntMatrix") -> "IntMatrix":
        if self.shape[1] != other.shape[0]:
            raise ShapeError(f"cannot multiply a {self.shape} matrix by a {other.shape} matrix")
        return IntMatrix(self.num * other.num, self.den * other.den)

    def int_rows(self) -> list[list[int]]:
        """The numerator as nested Python ints."""
        r, c = self.shape
        e = [int(v) for v in self.num.entries()]
        return [e[i * c:(i + 1) * c] for i in range(r)]

    def augmented(self) -> "IntMatrix":
        """``[[M, m], [0, 1]]`` for this augmented affine map ``[M | m]``: maps compose by products."""
        rows = self.int_rows()
        rows.append([0] * (self.shape[1] - 1) + [self.den])
        return IntMatrix.from_ints(rows, self.den)

    def reduced(self) -> "IntMatrix":
        """The same matrix with ``num`` and ``den`` divided by their greatest common divisor."""
        entries = [int(v) for v in self.num.entries()]
        g = math.gcd(self.den, *entries)
        if g == 1:
            return self
        r, c = self.shape
        return IntMatrix.from_ints([[v // g for v in entries[i * c:(i + 1) * c]] for i in range(r)], self.den // g, self.shape)

    def to_fractions(self) -> np.ndarray:
        """The exact entries as an object array of Fractions."""
        out = np.empty(self.shape, dtype=object)
        den = self.den
        for i, row in enumerate(self.int_rows()):
            out[i, :] = [Fraction(v, den) for v in row]
        return out

    def to_float(self) -> np.ndarray:
        """Correctly rounded float64 values (for proposals only)."""
        return np.array([float(Fraction(int(v), self.den)) for v in self.num.entries()], dtype=np.float64).reshape(self.shape)


# --------------------------------------------------------------------------------------
# sparse exact matrices: CSR with integer numerators over one common denominator
# --------------------------------------------------------------------------------------

MAX_DENSE_ENTRIES = 1 << 23
"""The most numbers a dense copy of a sparse exact matrix (or of a sparse layer's pieces) may
hold, about 8.4 million; beyond it :class:`DenseLimitError` is raised instead of running out of
memory.  Read at each call, so it can be raised (``exactmaso.numbers.MAX_DENSE_ENTRIES = ...``);
methods that build dense copies also take ``max_entries=``."""


def check_dense_size(entries: int, what: str, max_entries: int | None = None) -> None:
    """Raise :class:`DenseLimitError` when a dense ``what`` of ``entries`` numbers exceeds the
    limit (``max_entries``, or :data:`MAX_DENSE_ENTRIES` when None)."""
    limit = MAX_DENSE_ENTRIES if max_entries is None else int(max_entries)
    if entries > limit:
        raise DenseLimitError(
            f"{what} would be a dense array of {entries:,} numbers; the limit is {limit:,} "
            "(exactmaso.numbers.MAX_DENSE_ENTRIES, or max_entries=); use the sparse forms "
            "(pieces_sparse_int, pieces_sparse_float, compose_selected) instead",
            entries=entries, limit=limit)


_CHUNK = 1 << 20  # products are formed this many terms at a time (bounded memory)
_DENSE_ACCUMULATE = 1 << 22  # at most this many accumulator slots when summing terms densely


def _int64(a: Any) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.int64)


def _objects(values: Any) -> np.ndarray:
    """A 1-D object array of Python ints (numpy integers are converted)."""
    a = np.asarray(values)
    if a.dtype != object:
        return a.astype(object).reshape(-1)  # numpy integers -> Python ints
    return a.reshape(-1)


def _gcd_all(first: int, values: np.ndarray) -> int:
    """gcd of ``first`` and all Python ints in ``values``, stopping early at 1."""
    g = first
    step = 4096
    for i in range(0, len(values), step):
        g = math.gcd(g, *values[i:i + step].tolist())
        if g == 1:
            break
    return g


def _sum_terms(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, n_rows: int, n_cols: int,
               row0: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sum the terms ``(row, col, val)`` (rows in ``row0 .. row0 + n_rows - 1``) into canonical
    CSR pieces for those rows: ``(row_lengths, indices, data)``, zeros dropped."""
    if len(vals) == 0:
        return np.zeros(n_rows, np.int64), np.zeros(0, np.int64), np.zeros(0, dtype=object)
    key = (rows - row0) * n_cols + cols
    slots = n_rows * n_cols
    if slots <= _DENSE_ACCUMULATE and slots <= 8 * len(key):
        acc = np.zeros(slots, dtype=object)
        np.add.at(acc, key, vals)
        key = np.flatnonzero(acc != 0)
        data = acc[key]
    else:
        order = np.argsort(key, kind="stable")
        key = key[order]
        data = vals[order]
        first = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
        if len(first) < len(key):
            data = np.add.reduceat(data, first)
            key = key[first]
        keep = np.flatnonzero(data != 0)
        if len(keep) < len(key):
            key, data = key[keep], data[keep]
    r = key // n_cols
    lengths = np.bincount(r, minlength=n_rows).astype(np.int64)
    return lengths, (key - r * n_cols).astype(np.int64), data


@dataclass(frozen=True, slots=True, eq=False)
class SparseIntMatrix:
    """An exact sparse rational matrix: CSR with integer numerators over one denominator.

    Row ``i`` holds the entries ``data[p] / den`` at columns ``indices[p]`` for
    ``p in range(indptr[i], indptr[i + 1])``.  The form is canonical but for a common factor
    of ``den`` and ``data`` (:meth:`reduced` removes it): columns strictly increase within a
    row and no stored entry is zero.

    Attributes
    ----------
    indptr : ndarray of int64, shape (rows + 1,)
    indices : ndarray of int64, shape (nnz,)
    data : ndarray of object, shape (nnz,)
        Non-zero Python ints.
    den : int
        A positive common denominator.
    shape : (int, int)

    Products multiply numerators (Python ints in numpy object arrays, or FLINT when both
    factors are dense enough) and denominators; nothing is ever rounded.

    >>> m = SparseIntMatrix.from_fractions(np.array([[Fraction(1, 2), 0], [0, 3]], dtype=object))
    >>> m.nnz, m.den, (m @ m).reduced().to_fractions().tolist()
    (2, 2, [[Fraction(1, 4), Fraction(0, 1)], [Fraction(0, 1), Fraction(9, 1)]])
    """

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    den: int
    shape: tuple[int, int]

    def __post_init__(self) -> None:
        indptr, indices, data = _int64(self.indptr), _int64(self.indices), _objects(self.data)
        try:
            shape = (int(self.shape[0]), int(self.shape[1]))
        except (TypeError, IndexError, ValueError):
            raise ShapeError(f"SparseIntMatrix shape is {self.shape!r}; expected (rows, columns)") from None
        r, c = shape
        if r < 0 or c < 0 or len(self.shape) != 2:
            raise ShapeError(f"SparseIntMatrix shape is {self.shape!r}; expected two non-negative ints")
        if indptr.shape != (r + 1,) or indptr[0] != 0 or indptr[-1] != len(indices) or len(data) != len(indices):
            raise ShapeError(
                f"SparseIntMatrix of shape {shape} has indptr of length {len(indptr)} ending at "
                f"{indptr[-1] if len(indptr) else None}, {len(indices)} indices and {len(data)} values; expected "
                f"indptr of length {r + 1} from 0 to the number of values")
        if not isinstance(self.den, (int, np.integer)) or self.den <= 0:
            raise ValueError(f"SparseIntMatrix denominator is {self.den!r}; expected a positive integer")
        if len(indices):
            if indices.min() < 0 or indices.max() >= c:
                raise ShapeError(f"SparseIntMatrix column indices run from {indices.min()} to {indices.max()}; "
                                 f"the matrix has {c} columns")
            step = np.diff(indices)
            starts = indptr[1:-1]
            ok = step > 0
            ok[starts[(starts > 0) & (starts < len(indices))] - 1] = True
            if not ok.all():
                raise ShapeError("SparseIntMatrix column indices must increase strictly within each row")
            if not (data != 0).all():
                raise ValueError("SparseIntMatrix stores a zero; expected only non-zero values")
        object.__setattr__(self, "indptr", indptr)
        object.__setattr__(self, "indices", indices)
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "den", int(self.den))
        object.__setattr__(self, "shape", shape)

    # -- construction --------------------------------------------------------------------
    @classmethod
    def from_coo(cls, rows: Any, cols: Any, values: Any, shape: tuple[int, int], den: int = 1) -> "SparseIntMatrix":
        """``sum of values[t] at (rows[t], cols[t])`` over ``den``: repeated positions add up."""
        rows, cols, vals = _int64(rows).reshape(-1), _int64(cols).reshape(-1), _objects(values)
        if not (len(rows) == len(cols) == len(vals)):
            raise ShapeError(f"from_coo got {len(rows)} rows, {len(cols)} columns and {len(vals)} values; "
                             "expected one of each per entry")
        r, c = int(shape[0]), int(shape[1])
        if len(rows) and (rows.min() < 0 or rows.max() >= r or cols.min() < 0 or cols.max() >= c):
            raise ShapeError(f"from_coo got positions outside a matrix of shape {(r, c)}")
        lengths, indices, data = _sum_terms(rows, cols, vals, r, c)
        return cls(np.concatenate(([0], np.cumsum(lengths))), indices, data, den, (r, c))

    @classmethod
    def from_ints(cls, rows: Sequence[Sequence[int]], den: int = 1, shape: tuple[int, int] | None = None) -> "SparseIntMatrix":
        """``rows / den`` for nested Python ints (``shape`` is needed only when there are no rows)."""
        arr = np.array(rows, dtype=object)
        if arr.size == 0:
            if shape is None:
                raise ShapeError("SparseIntMatrix.from_ints got no rows; pass shape=")
            return cls.zeros(shape, den)
        if arr.ndim != 2:
            raise ShapeError(f"SparseIntMatrix.from_ints needs rows of equal length; got an array of shape {arr.shape}")
        return cls._from_dense_objects(arr, den)

    @classmethod
    def _from_dense_objects(cls, arr: np.ndarray, den: int) -> "SparseIntMatrix":
        r, c = arr.shape
        mask = arr != 0
        lengths = mask.sum(axis=1)
        rr, cc = np.nonzero(mask)  # row-major: canonical order
        return cls(np.concatenate(([0], np.cumsum(lengths))), cc, arr[rr, cc], den, (r, c))

    @classmethod
    def from_fractions(cls, arr: Any) -> "SparseIntMatrix":
        """An exact 2-D array of rationals, over the lcm of its denominators."""
        a = np.asarray(arr, dtype=object)
        if a.ndim != 2:
            raise ShapeError(f"SparseIntMatrix needs a 2-D array; got shape {a.shape}")
        den = lcm_of_denominators(a.flat)
        ints = np.empty(a.shape, dtype=object)
        ints.flat[:] = [v.numerator * (den // v.denominator) for v in a.flat]
        return cls._from_dense_objects(ints, den)

    @classmethod
    def from_int_matrix(cls, m: IntMatrix) -> "SparseIntMatrix":
        """The sparse form of a dense :class:`IntMatrix`."""
        r, c = m.shape
        if r == 0 or c == 0:
            return cls.zeros((r, c), m.den)
        arr = np.array([int(v) for v in m.num.entries()], dtype=object).reshape(r, c)
        return cls._from_dense_objects(arr, m.den)

    @classmethod
    def zeros(cls, shape: tuple[int, int], den: int = 1) -> "SparseIntMatrix":
        return cls(np.zeros(int(shape[0]) + 1, np.int64), np.zeros(0, np.int64), np.zeros(0, dtype=object), den, shape)

    @classmethod
    def eye(cls, rows: int, cols: int | None = None) -> "SparseIntMatrix":
        """Ones on the diagonal, shape (rows, cols) (``cols`` defaults to ``rows``)."""
        cols = rows if cols is None else cols
        n = min(rows, cols)
        lengths = np.zeros(rows, np.int64)
        lengths[:n] = 1
        return cls(np.concatenate(([0], np.cumsum(lengths))), np.arange(n), np.ones(n, dtype=np.int64).astype(object),
                   1, (rows, cols))

    @staticmethod
    def vstack(mats: Sequence["SparseIntMatrix"]) -> "SparseIntMatrix":
        """The rows of the matrices one after the other (over the lcm of their denominators)."""
        if not mats:
            raise ShapeError("vstack got no matrices")
        c = mats[0].shape[1]
        if any(m.shape[1] != c for m in mats):
            raise ShapeError(f"vstack got matrices with {sorted({m.shape[1] for m in mats})} columns; expected one count")
        den = math.lcm(*(m.den for m in mats))
        indptr = [np.zeros(1, np.int64)]
        offset = 0
        for m in mats:
            indptr.append(m.indptr[1:] + offset)
            offset += m.nnz
        data = np.concatenate([m.data * (den // m.den) if m.den != den else m.data for m in mats])
        return SparseIntMatrix(np.concatenate(indptr), np.concatenate([m.indices for m in mats]), data, den,
                               (sum(m.shape[0] for m in mats), c))

    # -- sizes and views -----------------------------------------------------------------
    @property
    def nnz(self) -> int:
        """The number of stored (non-zero) entries."""
        return len(self.data)

    def row_lengths(self) -> np.ndarray:
        """Non-zero entries per row."""
        return np.diff(self.indptr)

    def row_of_entries(self) -> np.ndarray:
        """For each stored entry, its row."""
        return np.repeat(np.arange(self.shape[0], dtype=np.int64), self.row_lengths())

    def _dense_objects(self, max_entries: int | None, what: str) -> np.ndarray:
        r, c = self.shape
        check_dense_size(r * c, what, max_entries)
        out = np.zeros((r, c), dtype=object)
        out[self.row_of_entries(), self.indices] = self.data
        return out

    def int_rows(self, *, max_entries: int | None = None) -> list[list[int]]:
        """The numerators as dense nested Python ints (DenseLimitError beyond the limit)."""
        return self._dense_objects(max_entries, f"a {self.shape[0]:,} x {self.shape[1]:,} matrix").tolist()

    def to_int_matrix(self, *, max_entries: int | None = None) -> IntMatrix:
        """The dense :class:`IntMatrix` (DenseLimitError beyond the limit)."""
        r, c = self.shape
        if r == 0 or c == 0:
            return IntMatrix(flint.fmpz_mat(r, c), self.den)
        return IntMatrix(flint.fmpz_mat(self.int_rows(max_entries=max_entries)), self.den)

    def to_fractions(self, *, max_entries: int | None = None) -> np.ndarray:
        """The exact entries as a dense object array of Fractions (DenseLimitError beyond the limit)."""
        r, c = self.shape
        check_dense_size(r * c, f"a {r:,} x {c:,} matrix", max_entries)
        out = np.full((r, c), Fraction(0), dtype=object)
        den = self.den
        out[self.row_of_entries(), self.indices] = [Fraction(v, den) for v in self.data.tolist()]
        return out

    def float_values(self) -> np.ndarray:
        """The nearest float64 of each stored entry (+-inf beyond the float range)."""
        den = self.den
        values = self.data.tolist()
        try:
            return np.array([v / den for v in values], dtype=np.float64)  # int / int rounds correctly
        except OverflowError:
            return np.array([nearest_float(Fraction(v, den)) for v in values], dtype=np.float64)

    def to_scipy(self) -> Any:
        """A ``scipy.sparse.csr_matrix`` of the nearest float64 values (for proposals only)."""
        import scipy.sparse

        return scipy.sparse.csr_matrix((self.float_values(), self.indices.copy(), self.indptr.copy()), shape=self.shape)

    # -- exact operations ----------------------------------------------------------------
    def reduced(self) -> "SparseIntMatrix":
        """The same matrix with ``data`` and ``den`` divided by their greatest common divisor."""
        g = _gcd_all(self.den, self.data)
        if g == 1:
            return self
        return SparseIntMatrix(self.indptr, self.indices, self.data // g, self.den // g, self.shape)

    def rows(self, index: Any) -> "SparseIntMatrix":
        """The rows ``index`` (a sequence of row numbers; repeats allowed), in that order."""
        idx = _int64(index).reshape(-1)
        if len(idx) and (idx.min() < 0 or idx.max() >= self.shape[0]):
            raise ShapeError(f"row index runs from {idx.min()} to {idx.max()}; the matrix has {self.shape[0]} rows")
        lengths = self.row_lengths()[idx]
        indptr = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
        pos = np.repeat(self.indptr[idx] - indptr[:-1], lengths) + np.arange(indptr[-1])
        return SparseIntMatrix(indptr, self.indices[pos], self.data[pos], self.den, (len(idx), self.shape[1]))

    def scale_rows(self, factors: Any, divisor: int = 1) -> "SparseIntMatrix":
        """``diag(factors) @ self / divisor`` for integer ``factors`` (one per row)."""
        f = _objects(factors)
        if len(f) != self.shape[0]:
            raise ShapeError(f"scale_rows got {len(f)} factors; the matrix has {self.shape[0]} rows")
        lengths = self.row_lengths()
        zero = f == 0
        if zero.any():  # drop the rows scaled to zero
            keep = np.repeat(~zero, lengths)
            lengths = np.where(zero, 0, lengths)
            indices, data, fac = self.indices[keep], self.data[keep], np.repeat(f, lengths)
        else:
            indices, data, fac = self.indices, self.data, np.repeat(f, lengths)
        return SparseIntMatrix(np.concatenate(([0], np.cumsum(lengths))), indices, data * fac,
                               self.den * int(divisor), self.shape)

    def remap_columns(self, new_index: Any, cols: int) -> "SparseIntMatrix":
        """The matrix with column ``j`` moved to ``new_index[j]`` (strictly increasing), ``cols`` columns."""
        m = _int64(new_index).reshape(-1)
        if len(m) != self.shape[1] or (len(m) > 1 and not (np.diff(m) > 0).all()) or (len(m) and (m[0] < 0 or m[-1] >= cols)):
            raise ShapeError(f"remap_columns needs {self.shape[1]} strictly increasing new columns below {cols}")
        return SparseIntMatrix(self.indptr, m[self.indices], self.data, self.den, (self.shape[0], cols))

    def augmented(self) -> "SparseIntMatrix":
        """``[[M, m], [0, 1]]`` for this augmented affine map ``[M | m]``: maps compose by products."""
        r, c = self.shape
        if c == 0:
            raise ShapeError("augmented() needs at least one column (the offsets)")
        return SparseIntMatrix(np.concatenate((self.indptr, [self.nnz + 1])), np.concatenate((self.indices, [c - 1])),
                               np.concatenate((self.data, np.array([self.den], dtype=object))), self.den, (r + 1, c))

    def transpose(self) -> "SparseIntMatrix":
        """The transpose (its rows are this matrix's columns: CSC access)."""
        r, c = self.shape
        order = np.argsort(self.indices, kind="stable")  # by column, then by row
        lengths = np.bincount(self.indices, minlength=c).astype(np.int64)
        return SparseIntMatrix(np.concatenate(([0], np.cumsum(lengths))), self.row_of_entries()[order],
                               self.data[order], self.den, (c, r))

    def __neg__(self) -> "SparseIntMatrix":
        return SparseIntMatrix(self.indptr, self.indices, -self.data, self.den, self.shape)

    def __add__(self, other: "SparseIntMatrix") -> "SparseIntMatrix":
        if not isinstance(other, SparseIntMatrix):
            return NotImplemented
        if other.shape != self.shape:
            raise ShapeError(f"cannot add a {other.shape} matrix to a {self.shape} matrix")
        den = math.lcm(self.den, other.den)
        a = self.data * (den // self.den) if den != self.den else self.data
        b = other.data * (den // other.den) if den != other.den else other.data
        return SparseIntMatrix.from_coo(np.concatenate((self.row_of_entries(), other.row_of_entries())),
                                        np.concatenate((self.indices, other.indices)), np.concatenate((a, b)),
                                        self.shape, den)

    def __sub__(self, other: "SparseIntMatrix") -> "SparseIntMatrix":
        if not isinstance(other, SparseIntMatrix):
            return NotImplemented
        return self + (-other)

    def __matmul__(self, other: Any) -> Any:
        """Exact product: with a SparseIntMatrix a SparseIntMatrix, with an IntMatrix an IntMatrix."""
        if isinstance(other, IntMatrix):
            if self.shape[1] != other.shape[0]:
                raise ShapeError(f"cannot multiply a {self.shape} matrix by a {other.shape} matrix")
            r, c = self.shape[0], other.shape[1]
            if r == 0 or c == 0:
                return IntMatrix(flint.fmpz_mat(r, c), self.den * other.den)
            Z = np.array([int(v) for v in other.num.entries()], dtype=object).reshape(other.shape)
            return IntMatrix(flint.fmpz_mat(self.dot_ints(Z).tolist()), self.den * other.den)
        if not isinstance(other, SparseIntMatrix):
            return NotImplemented
        if self.shape[1] != other.shape[0]:
            raise ShapeError(f"cannot multiply a {self.shape} matrix by a {other.shape} matrix")
        return _spgemm(self, other)

    def dot_ints(self, Z: np.ndarray) -> np.ndarray:
        """The numerators of ``self @ Z`` for a dense object array ``Z`` (cols x c) of Python ints:
        an object array (rows x c) over ``self.den`` times Z's denominator."""
        Z = np.asarray(Z, dtype=object)
        if Z.ndim != 2 or Z.shape[0] != self.shape[1]:
            raise ShapeError(f"cannot multiply a {self.shape} matrix by an array of shape {Z.shape}")
        r, c = self.shape[0], Z.shape[1]
        out = np.zeros((r, c), dtype=object)
        lengths = self.row_lengths()
        if self.nnz == 0 or c == 0:
            return out
        cum = np.cumsum(lengths * c)
        start = 0
        while start < r:  # rows in blocks of about _CHUNK products
            base = cum[start - 1] if start else 0
            stop = min(max(int(np.searchsorted(cum, base + _CHUNK, side="right")), start + 1), r)
            lo, hi = self.indptr[start], self.indptr[stop]
            if hi > lo:
                terms = self.data[lo:hi, None] * Z[self.indices[lo:hi]]
                rows = np.flatnonzero(lengths[start:stop]) + start
                out[rows] = np.add.reduceat(terms, self.indptr[rows] - lo, axis=0)
            start = stop
        return out

    def __eq__(self, other: object) -> bool:
        """Same matrix (equal values), whatever the common factor of ``den`` and ``data``."""
        if not isinstance(other, SparseIntMatrix):
            return NotImplemented
        a, b = self.reduced(), other.reduced()
        return (a.shape == b.shape and a.den == b.den and np.array_equal(a.indptr, b.indptr)
                and np.array_equal(a.indices, b.indices) and bool((a.data == b.data).all()))

    def __hash__(self) -> int:
        a = self.reduced()
        return hash((a.shape, a.den, a.nnz, tuple(a.indices[:64].tolist()), tuple(a.data[:64].tolist())))

    def __repr__(self) -> str:
        return f"SparseIntMatrix(shape={self.shape}, nnz={self.nnz}, den bits={self.den.bit_length()})"


def _spgemm(A: SparseIntMatrix, B: SparseIntMatrix) -> SparseIntMatrix:
    """The exact product ``A @ B`` (over ``A.den * B.den``), formed one block of rows at a time."""
    r, m = A.shape
    n = B.shape[1]
    den = A.den * B.den
    if A.nnz == 0 or B.nnz == 0:
        return SparseIntMatrix.zeros((r, n), den)
    b_len = B.row_lengths()
    cnt = b_len[A.indices]  # terms that each entry of A makes
    terms = int(cnt.sum())
    dense_numbers = r * m + m * n + r * n
    if terms > 16 * dense_numbers and max(r * m, m * n, r * n) <= _DENSE_ACCUMULATE:
        # both factors are dense: one FLINT product beats forming the terms one by one
        prod = flint.fmpz_mat(A.int_rows()) * flint.fmpz_mat(B.int_rows())
        arr = np.array([int(v) for v in prod.entries()], dtype=object).reshape(r, n)
        return SparseIntMatrix._from_dense_objects(arr, den)
    per_row = np.zeros(r, np.int64)
    a_rows = A.row_of_entries()
    np.add.at(per_row, a_rows, cnt)
    cum = np.cumsum(per_row)
    lengths_out, indices_out, data_out = [], [], []
    start = 0
    while start < r:
        base = cum[start - 1] if start else 0
        stop = int(np.searchsorted(cum, base + _CHUNK, side="right"))
        stop = min(max(stop, start + 1), r)
        lo, hi = A.indptr[start], A.indptr[stop]
        c = cnt[lo:hi]
        total = int(c.sum())
        if total:
            first = np.cumsum(c) - c
            pos = np.repeat(B.indptr[A.indices[lo:hi]] - first, c) + np.arange(total)
            vals = np.repeat(A.data[lo:hi], c) * B.data[pos]
            lens, idx, dat = _sum_terms(np.repeat(a_rows[lo:hi], c), B.indices[pos], vals, stop - start, n, start)
        else:
            lens, idx, dat = np.zeros(stop - start, np.int64), np.zeros(0, np.int64), np.zeros(0, dtype=object)
        lengths_out.append(lens)
        indices_out.append(idx)
        data_out.append(dat)
        start = stop
    lengths = np.concatenate(lengths_out)
    return SparseIntMatrix(np.concatenate(([0], np.cumsum(lengths))), np.concatenate(indices_out),
                           np.concatenate(data_out), den, (r, n))
