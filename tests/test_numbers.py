"""Exact conversion at the public boundary and the integer matrix kernel (exactmaso/numbers.py)."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import flint
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import exactmaso as em
from exactmaso.numbers import (
    IntMatrix,
    fraction_to_str,
    is_fraction_array,
    lcm_of_denominators,
    str_to_fraction,
    to_float_array,
    to_fraction,
    to_fraction_array,
)


def binary_value(x: float) -> Fraction:
    """The exact value of a float64 from its bits: mantissa * 2**exponent (independent of Fraction(float))."""
    m, e = math.frexp(x)
    mant = int(m * 2**53)  # exact: m has 53 significant bits
    e -= 53
    return Fraction(mant * 2**e) if e >= 0 else Fraction(mant, 2**-e)


# -- scalars ---------------------------------------------------------------------------


@pytest.mark.parametrize("x", [0.1, -0.3, 1e-300, 5e-324, 1.7976931348623157e308, 2.0**-1074, 1 / 3, -0.0])
def test_float_converts_to_its_binary_value(x):
    assert to_fraction(x) == binary_value(x)


def test_point_one_is_not_one_tenth():
    assert to_fraction(0.1) != Fraction(1, 10)
    assert to_fraction(0.1) == Fraction(3602879701896397, 36028797018963968)
    assert to_fraction("0.1") == Fraction(1, 10)  # a decimal string is decimal


@pytest.mark.parametrize(
    "value, expected",
    [
        (3, Fraction(3)),
        (-(10**40), Fraction(-(10**40))),
        (np.int8(-5), Fraction(-5)),
        (np.uint64(2**64 - 1), Fraction(2**64 - 1)),
        (Fraction(-2, 6), Fraction(-1, 3)),
        (sympy.Rational(7, -21), Fraction(-1, 3)),
        (sympy.Integer(12), Fraction(12)),
        ("3/4", Fraction(3, 4)),
        (" -6/8 ", Fraction(-3, 4)),
        ("12", Fraction(12)),
        ("0.125", Fraction(1, 8)),
        ("1e-3", Fraction(1, 1000)),
        (np.float32(0.1), binary_value(float(np.float32(0.1)))),
        (np.float16(0.1), binary_value(float(np.float16(0.1)))),
        (flint.fmpq(5, 7), Fraction(5, 7)),
        (flint.fmpz(-9), Fraction(-9)),
        (Decimal("0.3"), Fraction(3, 10)),
        (sympy.Float(0.5), Fraction(1, 2)),
    ],
)
def test_exact_scalars(value, expected):
    got = to_fraction(value)
    assert type(got) is Fraction
    assert got == expected


def test_float32_value_is_widened_exactly():
    # float32(0.1) = 13421773 / 2**27
    assert to_fraction(np.float32(0.1)) == Fraction(13421773, 2**27)
    assert to_fraction(np.float16(0.1)) == Fraction(1638, 2**14)


@pytest.mark.parametrize(
    "bad, words",
    [
        (float("nan"), "nan"),
        (float("inf"), "inf"),
        (-np.inf, "inf"),
        (np.float32("nan"), "nan"),
        (1 + 2j, "complex"),
        (np.complex128(1), "complex"),
        (True, "boolean"),
        (np.bool_(False), "boolean"),
        (object(), "object"),
        (None, "NoneType"),
        ([1], "list"),
        ("abc", "'abc'"),
        ("1/0", "'1/0'"),
        ("nan", "'nan'"),
        (sympy.oo, "sympy"),
        (sympy.nan, "sympy"),
        (sympy.Symbol("x"), "sympy"),
        (Decimal("NaN"), "finite"),
    ],
)
def test_junk_scalars_raise_domain_error(bad, words):
    with pytest.raises(em.DomainError) as info:
        to_fraction(bad, name="alpha")
    assert str(info.value).startswith("alpha is ")
    assert words in str(info.value)
    assert isinstance(info.value, ValueError)  # also a builtin ValueError


def test_to_fraction_rejects_arrays_of_more_than_one_entry():
    with pytest.raises(em.ShapeError, match="shape"):
        to_fraction(np.array([1, 2]))
    assert to_fraction(np.array(0.5)) == Fraction(1, 2)


def test_string_round_trip():
    for v in [Fraction(0), Fraction(-7, 3), Fraction(10**30 + 1, 7), Fraction(5)]:
        assert str_to_fraction(fraction_to_str(v)) == v
    assert fraction_to_str(Fraction(6, -4)) == "-3/2"
    with pytest.raises(em.DomainError, match="weight"):
        str_to_fraction("x/2", name="weight")


@given(st.fractions())
def test_fraction_string_round_trip_hypothesis(v):
    assert str_to_fraction(fraction_to_str(v)) == v


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_any_finite_float_is_exact(x):
    f = to_fraction(x)
    assert f == binary_value(x) if x != 0 else f == 0
    assert float(f) == x  # and converts back to the very same float


# -- arrays ------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_float_arrays_convert_entrywise(dtype):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3, 4)).astype(dtype)
    out = to_fraction_array(a)
    assert out.dtype == object and out.shape == (3, 4)
    assert is_fraction_array(out)
    for idx in np.ndindex(a.shape):
        assert out[idx] == binary_value(float(a[idx]))


def test_integer_and_mixed_arrays():
    out = to_fraction_array(np.arange(6, dtype=np.int64).reshape(2, 3))
    assert out.tolist() == [[Fraction(i) for i in range(3)], [Fraction(i) for i in range(3, 6)]]
    mixed = to_fraction_array([[1, 0.5, "1/3"], [Fraction(2, 3), sympy.Rational(1, 7), np.float32(0.25)]])
    assert mixed.tolist() == [
        [Fraction(1), Fraction(1, 2), Fraction(1, 3)],
        [Fraction(2, 3), Fraction(1, 7), Fraction(1, 4)],
    ]
    assert to_fraction_array(np.array(["1/2", "3"])).tolist() == [Fraction(1, 2), Fraction(3)]
    assert to_fraction_array(np.array([b"1/2"])).tolist() == [Fraction(1, 2)]
    assert to_fraction_array(7).shape == ()
    assert to_fraction_array([]).shape == (0,)


def test_conversion_copies():
    a = np.array([Fraction(1, 2)], dtype=object)
    out = to_fraction_array(a)
    out[0] = Fraction(5)
    assert a[0] == Fraction(1, 2)


@pytest.mark.parametrize(
    "value, where, words",
    [
        (np.array([[0.0, 1.0], [np.nan, 2.0]]), "w[1, 0]", "nan"),
        (np.array([1.0, np.inf], dtype=np.float32), "w[1]", "inf"),
        (np.array([-np.inf], dtype=np.float16), "w[0]", "inf"),
        ([[1, 2], [3, "abc"]], "w[1, 1]", "'abc'"),
        ([[1, 2], [3, object()]], "w[1, 1]", "object"),
        ([1, 2, 3 + 1j], "w[2]", "complex"),
        ([[1, True]], "w[0, 1]", "boolean"),
        ([1, None], "w[1]", "NoneType"),
    ],
)
def test_bad_entries_name_tensor_and_index(value, where, words):
    with pytest.raises(em.DomainError) as info:
        to_fraction_array(value, name="w")
    msg = str(info.value)
    assert msg.startswith(where + " is "), msg
    assert words in msg


@pytest.mark.parametrize(
    "value, words",
    [
        (np.array([True, False]), "boolean"),
        (np.array([1 + 1j]), "complex"),
        (np.array(["2020-01-01"], dtype="datetime64[D]"), "datetime64"),
    ],
)
def test_bad_dtypes(value, words):
    with pytest.raises(em.DomainError, match=words):
        to_fraction_array(value, name="w")


@pytest.mark.parametrize("ragged", [[[1, 2], [3]], [[1, 2], 3], [[[1], [2]], [[3], [4, 5]]]])
def test_ragged_lists_raise_shape_error(ragged):
    with pytest.raises(em.ShapeError, match="ragged"):
        to_fraction_array(ragged, name="w")


def test_expected_shapes():
    with pytest.raises(em.ShapeError, match=r"w has 1 dimension\(s\) \(shape \(3,\)\); expected 2"):
        to_fraction_array([1, 2, 3], name="w", ndim=2)
    with pytest.raises(em.ShapeError, match=r"w has shape \(2, 3\); expected \(2, 2\)"):
        to_fraction_array(np.zeros((2, 3)), name="w", shape=(2, 2))
    with pytest.raises(em.ShapeError, match=r"expected \(4,\)"):
        to_fraction_array([1, 2], name="w", shape=(4,))
    assert to_fraction_array(np.zeros((2, 3)), shape=(-1, 3)).shape == (2, 3)


def test_longdouble_keeps_every_bit():
    if np.finfo(np.longdouble).nmant <= 52:
        pytest.skip("long double is float64 on this platform")
    x = np.longdouble(1) + np.longdouble(2) ** -60
    assert to_fraction_array(np.array([x]))[0] == 1 + Fraction(1, 2**60)


def test_to_float_array_rounds_to_nearest():
    out = to_float_array(np.array([Fraction(1, 3), Fraction(-2, 7)], dtype=object))
    assert out.dtype == np.float64
    assert out.tolist() == [1 / 3, -2 / 7]


def test_lcm_of_denominators():
    assert lcm_of_denominators([Fraction(1, 4), Fraction(5, 6), Fraction(3)]) == 12
    assert lcm_of_denominators([]) == 1


# -- IntMatrix ---------------------------------------------------------------------------


def fraction_matmul(A: np.ndarray, B: np.ndarray) -> list[list[Fraction]]:
    return [[sum((A[i, k] * B[k, j] for k in range(A.shape[1])), Fraction(0)) for j in range(B.shape[1])] for i in range(A.shape[0])]


small_fractions = st.fractions(min_value=-5, max_value=5, max_denominator=12)


@st.composite
def fraction_matrices(draw, rows, cols):
    return np.array(
        [[draw(small_fractions) for _ in range(cols)] for _ in range(rows)], dtype=object
    ).reshape(rows, cols)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.data())
def test_intmatrix_product_equals_fraction_product(n, k, m, data):
    A = data.draw(fraction_matrices(n, k))
    B = data.draw(fraction_matrices(k, m))
    prod = IntMatrix.from_fractions(A) @ IntMatrix.from_fractions(B)
    assert prod.to_fractions().tolist() == fraction_matmul(A, B)
    assert prod.reduced().to_fractions().tolist() == fraction_matmul(A, B)
    red = prod.reduced()
    assert math.gcd(red.den, *[int(v) for v in red.num.entries()]) == 1


def test_intmatrix_basics():
    A = np.array([[Fraction(1, 2), Fraction(1, 3)], [Fraction(0), Fraction(-5, 6)]], dtype=object)
    M = IntMatrix.from_fractions(A)
    assert M.den == 6 and M.shape == (2, 2)
    assert M.int_rows() == [[3, 2], [0, -5]]
    assert M.to_fractions().tolist() == A.tolist()
    assert M.to_float().tolist() == [[0.5, 1 / 3], [0.0, -5 / 6]]
    with pytest.raises(em.ShapeError, match=r"\(2, 2\) matrix by a \(3, 1\)"):
        M @ IntMatrix.from_ints([[1], [2], [3]])
    empty = IntMatrix.from_fractions(np.empty((0, 3), dtype=object))
    assert empty.shape == (0, 3)
    with pytest.raises(em.ShapeError):
        IntMatrix.from_fractions(np.array([Fraction(1)], dtype=object))
