"""What people read: short decimals (exactly rounded, in the direction asked) and reprs that fit
on a line or two and name the attributes that hold the exact values."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import exactmaso as em
from exactmaso._display import affine_text, brief, code_text, short_decimal, shorten

REPR_LIMIT = 200  # two lines of a wide terminal


def _significant(text: str) -> int:
    mantissa = text.lstrip("-").split("e")[0].replace(".", "").lstrip("0")
    return len(mantissa)


@settings(max_examples=200, deadline=None)
@given(st.fractions(), st.integers(1, 12))
def test_short_decimal_rounds_exactly_in_the_direction_asked(q, digits):
    down = Fraction(short_decimal(q, digits, rounding="down"))
    up = Fraction(short_decimal(q, digits, rounding="up"))
    near = Fraction(short_decimal(q, digits))
    assert down <= q <= up
    assert down <= near <= up
    for text in (short_decimal(q, digits, rounding=r) for r in ("down", "up", "nearest")):
        assert _significant(text) <= max(digits, len(str(abs(q.numerator)))), text


@pytest.mark.parametrize(
    "value, text",
    [
        (Fraction(777, 2048), "0.379395"),
        (Fraction(-557, 512), "-1.08789"),
        (Fraction(1, 3), "0.333333"),
        (4, "4"),
        (0, "0"),
        (Fraction(10) ** 400 / 3, "3.33333e+399"),
        (Fraction(1, 10**400), "1e-400"),
        (123456789, "1.23457e+08"),
        (Fraction(1, 100000), "0.00001"),
        (sympy.sqrt(2) / 3, "0.471405"),
        (sympy.Rational(3, 8), "0.375"),
        (2.5, "2.5"),
    ],
)
def test_short_decimal_examples(value, text):
    assert short_decimal(value) == text


def test_short_decimal_refuses_an_unknown_rounding():
    with pytest.raises(ValueError, match="rounding is 'sideways'"):
        short_decimal(1, rounding="sideways")


def test_helpers():
    assert shorten("abcdef", 10) == "abcdef" and shorten("abcdefghijkl", 8) == "abcde..."
    assert code_text(((0, 1, 1), (12, 0))) == "011 | 12,0"
    assert affine_text([1, 0, Fraction(-1, 2)], Fraction(1, 4)) == "1 x0 - 0.5 x2 + 0.25"
    assert affine_text([0, 0], 0) == "0"
    assert brief((Fraction(1, 3),) * 9) == ("(0.333333, 0.333333, 0.333333, 0.333333, ... (9 entries))", True)
    assert brief(Fraction(1, 4)) == ("0.25", False)


# ------------------------------------------------------------------------------------------
# reprs
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ugly():
    """A [2, 48, 48, 2] MLP with float64 weights: exact values with long numerators, codes of
    96 units."""
    rng = np.random.default_rng(11)
    sizes = [2, 48, 48, 2]
    W = [rng.normal(size=(o, i)) / np.sqrt(i) for i, o in zip(sizes, sizes[1:])]
    b = [0.5 * rng.normal(size=o) for o in sizes[1:]]
    net = em.mlp(W, b)
    return net, em.regions(net, em.Box([-1, -1], [1, 1]))


@pytest.fixture(scope="module")
def small_ugly():
    rng = np.random.default_rng(5)
    sizes = [2, 6, 2]
    W = [rng.normal(size=(o, i)) for i, o in zip(sizes, sizes[1:])]
    b = [0.5 * rng.normal(size=o) for o in sizes[1:]]
    return em.mlp(W, b)


def _check_repr(obj, *hints: str) -> str:
    text = repr(obj)
    assert len(text) <= REPR_LIMIT, (len(text), text)
    assert "Fraction(" not in text, text
    for hint in hints:
        assert hint in text, text
    return text


def test_partition_and_region_reprs(ugly):
    net, part = ugly
    _check_repr(part, f"{len(part)} regions")
    r = max(part, key=lambda r: len(r.vertices()))
    text = _check_repr(r, f"index={r.index}", "exact: .vertices(), .volume(), .affine", "...")
    assert code_text(r.code)[:20] in text
    _check_repr(r.affine)


def test_boundary_piece_repr(small_ugly):
    part = em.regions(small_ugly, em.Box([-1, -1], [1, 1]))
    pieces = part.decision_boundary()
    assert pieces
    for piece in pieces[:20]:
        text = _check_repr(piece, "exact: .row, .vertices")
        assert f"region={piece.region}" in text


def test_prove_result_reprs(small_ugly):
    net = small_ugly
    dom = em.Box([-1, -1], [1, 1])
    b = em.prove.output_bounds(net, dom, output=0)
    assert len(str(b.hi)) > 30  # the exact value is long; the repr is not
    text = _check_repr(b, "exact: .lo, .hi", f"hi={short_decimal(b.hi)}")
    assert ".argmin" in text or "argmin=(" in text
    _check_repr(em.prove.lipschitz(net, dom, norm="inf"), "exact: .value")
    _check_repr(em.prove.lipschitz(net, dom, norm=2), "norm=2", "exact: .value")
    x0 = [Fraction(1, 3), Fraction(-1, 5)]
    _check_repr(em.prove.robust(net, x0, Fraction(1, 100)), "holds=")
    _check_repr(em.prove.robust(net, x0, 2), "holds=False", ".counterexample")
    _check_repr(em.prove.min_adversarial(net, x0, dom=dom), "exact: .value")
    relu = em.mlp([[[1, 0], [0, 1]], [[1, 0], [0, 1]]], [[0, 0], [0, 0]])
    other = em.mlp([[[1, 0], [0, 1]], [[1, 0], [0, Fraction(1, 3)]]], [[0, 0], [0, Fraction(1, 7)]])
    _check_repr(em.prove.equivalent(relu, other, dom), "holds=False", "counterexample=(1, 1)", "exact: .max_difference")
    _check_repr(em.prove.is_convex(net, dom, output=0), "property='convex'")


def test_vq_reprs(ugly):
    net, part = ugly
    s = em.vq.summary(part)
    _check_repr(s, f"{len(s)} levels")
    for row in s:
        _check_repr(row, "exact: .min_volume")
    for cell in em.power_diagram(part, 1, prefix=part[0].code[:1])[:5]:
        _check_repr(cell, "exact: .centroid, .radius, .volume")
