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
from fractions import Fraction
from typing import Any, Iterable, Sequence

import flint
import numpy as np

from .errors import DomainError, ShapeError

__all__ = [
    "to_fraction",
    "to_fraction_array",
    "to_float_array",
    "is_fraction_array",
    "IntMatrix",
    "lcm_of_denominators",
    "fraction_to_str",
    "str_to_fraction",
]


# --------------------------------------------------------------------------------------
# scalars
# --------------------------------------------------------------------------------------


def _where(name: str, index: tuple[int, ...] | None) -> str:
    if index is None or index == ():
        return name
    return f"{name}[{', '.join(str(i) for i in index)}]"


def str_to_fraction(text: str, *, name: str = "value") -> Fraction:
    """Parse ``"p/q"``, an integer or a decimal string exactly."""
    try:
        return Fraction(text.strip())
    except (ValueError, ZeroDivisionError) as exc:
        raise DomainError(
            f"{name} is the string {text!r}; expected an exact rational such as '3/4', '-2' "
            "or '0.125'"
        ) from exc


def fraction_to_str(value: Fraction) -> str:
    """The canonical ``"p/q"`` (or ``"p"``) spelling used in files."""
    if value.denominator == 1:
        return str(value.numerator)
    return f"{value.numerator}/{value.denominator}"


def _convert(value: Any, name: str, index: tuple[int, ...] | None) -> Fraction:
    where = _where(name, index)
    if isinstance(value, Fraction):
        return value
    if isinstance(value, (bool, np.bool_)):
        raise DomainError(f"{where} is a boolean ({value!r}); expected a real number")
    if isinstance(value, (int, np.integer)):
        return Fraction(int(value))
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(float(value)):
            raise DomainError(f"{where} is {value!r}; expected a finite real number")
        num, den = value.as_integer_ratio()
        return Fraction(int(num), int(den))
    if isinstance(value, str):
        return str_to_fraction(value, name=where)
    if isinstance(value, (complex, np.complexfloating)):
        raise DomainError(f"{where} is complex ({value!r}); expected a real number")
    # sympy numbers (imported lazily: sympy is slow to import)
    mod = type(value).__module__
    if mod.startswith("sympy"):
        import sympy

        if isinstance(value, sympy.Rational):
            return Fraction(int(value.p), int(value.q))
        if isinstance(value, sympy.Float):
            return _convert(float(value), name, index) if value == float(value) else _sympy_float(value, where)
        raise DomainError(f"{where} is the sympy object {value!r}; expected a rational number")
    if type(value).__name__ == "fmpq":
        return Fraction(int(value.p), int(value.q))
    if type(value).__name__ == "fmpz":
        return Fraction(int(value))
    if isinstance(value, _abc.Rational):
        return Fraction(int(value.numerator), int(value.denominator))
    raise DomainError(
        f"{where} has type {type(value).__name__} ({value!r:.60}); expected an int, float, "
        "Fraction, sympy Rational or a 'p/q' string"
    )


def _sympy_float(value: Any, where: str) -> Fraction:
    import sympy

    r = sympy.Rational(value)
    return Fraction(int(r.p), int(r.q))


def to_fraction(value: Any, *, name: str = "value") -> Fraction:
    """Convert one number exactly to a :class:`~fractions.Fraction`.

    Examples
    --------
    >>> to_fraction(0.5)
    Fraction(1, 2)
    >>> to_fraction("2/6")
    Fraction(1, 3)
    """
    if isinstance(value, np.ndarray):
        if value.ndim != 0:
            raise ShapeError(f"{name} has shape {value.shape}; expected a scalar")
        value = value.item() if value.dtype != object else value[()]
    return _convert(value, name, None)


# --------------------------------------------------------------------------------------
# arrays
# --------------------------------------------------------------------------------------


def is_fraction_array(x: Any) -> bool:
    """True for a numpy object array whose entries are all Fractions."""
    return (
        isinstance(x, np.ndarray)
        and x.dtype == object
        and all(type(v) is Fraction for v in x.flat)
    )


def _floats_to_fractions(arr: np.ndarray, name: str) -> np.ndarray:
    if not np.all(np.isfinite(arr)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise DomainError(f"{_where(name, bad)} is {arr[bad]!r}; expected a finite real number")
    flat = arr.astype(np.float64, copy=False).ravel().tolist()  # float32/16 widen exactly
    out = np.empty(len(flat), dtype=object)
    out[:] = [Fraction(*v.as_integer_ratio()) for v in flat]
    return out.reshape(arr.shape)


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

    Examples
    --------
    >>> to_fraction_array([0.5, "1/3"]).tolist()
    [Fraction(1, 2), Fraction(1, 3)]
    """
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # torch tensor, without importing torch
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        arr = value
    else:
        try:
            arr = np.array(value, dtype=object)
        except ValueError as exc:
            raise ShapeError(f"{name} is a ragged nested sequence; expected a rectangular array") from exc
        if arr.dtype == object and arr.ndim > 0 and any(isinstance(v, (list, tuple, np.ndarray)) for v in arr.flat):
            raise ShapeError(f"{name} is a ragged nested sequence; expected a rectangular array")
    kind = arr.dtype.kind
    if kind == "f":
        out = _floats_to_fractions(arr, name)
    elif kind in "iu":
        out = np.empty(arr.shape, dtype=object)
        out.ravel()[:] = [Fraction(v) for v in arr.ravel().tolist()] if arr.size else []
    elif kind == "b":
        raise DomainError(f"{name} is a boolean array; expected real numbers")
    elif kind == "c":
        raise DomainError(f"{name} is a complex array (dtype {arr.dtype}); expected real numbers")
    elif kind == "O":
        out = np.empty(arr.shape, dtype=object)
        flat = out.reshape(-1)
        for i, v in enumerate(arr.flat):
            flat[i] = _convert(v, name, tuple(int(j) for j in np.unravel_index(i, arr.shape)) if arr.ndim else None)
    elif kind in "US":
        out = np.empty(arr.shape, dtype=object)
        flat = out.reshape(-1)
        for i, v in enumerate(arr.flat):
            flat[i] = _convert(str(v), name, tuple(int(j) for j in np.unravel_index(i, arr.shape)))
    else:
        raise DomainError(f"{name} has dtype {arr.dtype}; expected real numbers")
    if ndim is not None and out.ndim != ndim:
        raise ShapeError(f"{name} has {out.ndim} dimension(s) (shape {out.shape}); expected {ndim}")
    if shape is not None:
        if len(shape) != out.ndim or any(s not in (-1, t) for s, t in zip(shape, out.shape)):
            want = "(" + ", ".join("any" if s == -1 else str(s) for s in shape) + ")"
            raise ShapeError(f"{name} has shape {out.shape}; expected {want}")
    return out


def to_float_array(value: np.ndarray) -> np.ndarray:
    """Nearest float64 of each exact entry (for proposals and plots only)."""
    arr = np.asarray(value, dtype=object)
    return np.array([float(v) for v in arr.flat], dtype=np.float64).reshape(arr.shape)


def lcm_of_denominators(values: Iterable[Fraction]) -> int:
    den = 1
    for v in values:
        d = v.denominator
        if d != 1 and den % d:
            den = den // math.gcd(den, d) * d
    return den


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
        a = np.asarray(arr, dtype=object)
        if a.ndim != 2:
            raise ShapeError(f"IntMatrix needs a 2-D array; got shape {a.shape}")
        den = lcm_of_denominators(a.flat)
        rows = [[int(v.numerator) * (den // v.denominator) for v in row] for row in a]
        if a.shape[0] == 0 or a.shape[1] == 0:
            return cls(flint.fmpz_mat(a.shape[0], a.shape[1]), den)
        return cls(flint.fmpz_mat(rows), den)

    @classmethod
    def from_ints(cls, rows: Sequence[Sequence[int]], den: int = 1, shape: tuple[int, int] | None = None) -> "IntMatrix":
        if shape is not None and (shape[0] == 0 or shape[1] == 0):
            return cls(flint.fmpz_mat(shape[0], shape[1]), den)
        return cls(flint.fmpz_mat([[int(v) for v in r] for r in rows]), den)

    def __matmul__(self, other: "IntMatrix") -> "IntMatrix":
        if self.shape[1] != other.shape[0]:
            raise ShapeError(f"cannot multiply a {self.shape} matrix by a {other.shape} matrix")
        return IntMatrix(self.num * other.num, self.den * other.den)

    def int_rows(self) -> list[list[int]]:
        """The numerator as nested Python ints."""
        r, c = self.shape
        e = [int(v) for v in self.num.entries()]
        return [e[i * c:(i + 1) * c] for i in range(r)]

    def reduced(self) -> "IntMatrix":
        rows = self.int_rows()
        g = self.den
        for row in rows:
            for v in row:
                if v:
                    g = math.gcd(g, v)
                    if g == 1:
                        return self
        if g == 1:
            return self
        return IntMatrix.from_ints([[v // g for v in row] for row in rows], self.den // g, self.shape)

    def to_fractions(self) -> np.ndarray:
        out = np.empty(self.shape, dtype=object)
        den = self.den
        for i, row in enumerate(self.int_rows()):
            out[i, :] = [Fraction(v, den) for v in row]
        return out

    def to_float(self) -> np.ndarray:
        """Nearest-ish float64 values (each within a few ulps; for proposals only)."""
        return np.array([float(Fraction(v, self.den)) for v in self.num.entries()], dtype=np.float64).reshape(self.shape)
