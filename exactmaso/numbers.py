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

from .errors import DomainError, ShapeError

__all__ = [
    "to_fraction",
    "to_fraction_array",
    "to_float_array",
    "nearest_float",
    "is_fraction_array",
    "IntMatrix",
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
