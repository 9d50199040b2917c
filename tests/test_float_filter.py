"""The float filter never decides from a non-finite value, an overflowed bound or an underflow.

Each test is named after the hole it guards.  Answers are checked against the independent
2-D oracle (tests/oracle.py, plain Fractions) or against mathematics, never against the
engine's own output.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

import exactmaso as em
from exactmaso.engine.filter import float_layers, proved_signs

try:
    from oracle import assert_matches_oracle, check_partition
except ImportError:  # pragma: no cover - run from the project root
    from tests.oracle import assert_matches_oracle, check_partition  # type: ignore[no-redef]

SQUARE = ([-1, -1], [1, 1])


def _exact(v):
    return Fraction(v) if not isinstance(v, Fraction) else v


def _weights(ws):
    return [[[_exact(v) for v in row] for row in W] for W in ws]


def _biases(bs):
    return [[_exact(v) for v in b] for b in bs]


def _check(ws, bs, lo, hi):
    weights, biases = _weights(ws), _biases(bs)
    net = em.mlp(weights, biases)
    part = em.regions(net, em.Box(lo, hi))
    assert_matches_oracle(part, weights, biases, lo, hi)
    check_partition(part, net, lo, hi)
    part.verify()
    return part


def test_proved_signs_never_decide_from_nan_or_infinity():
    vals = np.array([np.nan, np.inf, -np.inf, 1.0, -1.0, 1.0, np.inf, 0.5])
    thr = np.array([1e-9, 1.0, 1.0, np.inf, np.inf, np.nan, np.inf, 0.25])
    assert proved_signs(vals, thr).tolist() == [0, 0, 0, 0, 0, 0, 0, 1]


def test_row_mixing_1e200_and_1e_minus_200_enumerates_exactly():
    # the line 1e200 x0 + 1e-200 x1 = 0 splits the square into two halves of area 2 each
    part = _check([[[1e200, 1e-200]], [[1]]], [[0], [0]], *SQUARE)
    assert len(part) == 2
    assert sorted(r.volume() for r in part) == [2, 2]


def test_products_of_huge_weights_over_layers_stay_exact():
    # 1e200 * 1e200 * 1e200 overflows every float map; codes and maps must still be exact
    ws = [[[1e200, 1], [1, -1e200], [1e150, 1e150]], [[1e200, 1e200, -1e200], [1, 1, 1]], [[1e200, -1]]]
    bs = [[0, 1e-100, -1e149], [0, 1], [0]]
    _check(ws, bs, *SQUARE)


@pytest.mark.parametrize("scale", [1e-300, 1e-100, 1e100, 1e300])
def test_global_scales_of_the_weights_do_not_change_the_regions(scale):
    ws = [[[1, 2], [-1, 1], [1, -3]], [[1, -1, 1], [2, 1, -1]], [[1, 1]]]
    bs = [["1/2", 0, "-1/4"], [0, "1/3"], [0]]
    # layer l's output is scale^(l+1) times the original one when its weights are multiplied by
    # scale and its biases by scale^(l+1): every code, hence every region, stays the same
    ref = _check(ws, bs, *SQUARE)
    s = Fraction(scale)
    scaled = [[[Fraction(v) * s for v in row] for row in W] for W in ws]
    sb = [[Fraction(v) * s ** (l + 1) for v in b] for l, b in enumerate(bs)]
    part = _check(scaled, sb, *SQUARE)
    assert [r.code for r in part] == [r.code for r in ref]


def test_subnormal_weights_are_decided_exactly():
    tiny = 5e-324  # the smallest subnormal float
    # the lines x0 = 0 and x0 = -tiny x1 cross at the origin: four regions, two of them slivers
    part = _check([[[tiny, 0], [1, tiny]], [[1, 1]]], [[0, 0], [0]], *SQUARE)
    assert len(part) == 4


def test_box_bound_beyond_the_float_range():
    lo, hi = [-1, -1], [Fraction(10) ** 400, 1]
    part = _check([[[1, 1], [1, -1]], [[1, 1]]], [[0, 0], [0]], lo, hi)
    assert len(part) == 4


def test_float_layers_keep_every_entry_finite_and_normalised():
    net = em.mlp([[[1e200, 1e-200], [1e-300, 1e-300]], [[1e300, 1e300]], [[1e300]]], [[0, 1e-310], [1e-300], [0]])
    for fl in float_layers(net):
        assert np.isfinite(fl.pieces).all()
        big = np.abs(fl.pieces).reshape(len(fl.pieces), -1).max(axis=1)
        assert ((big >= 1) & (big <= 2)).all()


def test_float_layers_report_underflow_as_an_absolute_error():
    # 1e200 and 1e-200 in one row: after normalising, 1e-400 is below the normal range
    fl = float_layers(em.mlp([[[1e200, 1e-200]], [[1]]], [[0], [0]]))[0]
    assert fl.eta == 2.0 ** -1074
    fl = float_layers(em.mlp([[[1, 2]], [[1]]], [[0], [0]]))[0]
    assert fl.eta == 0.0


def test_float_layers_are_the_nearest_floats_of_the_rescaled_pieces():
    W = [[Fraction(1, 3), Fraction(7, 5)], [Fraction(-2, 9), Fraction(1, 10 ** 30)]]
    net = em.mlp([W, [[1, 1]]], [[Fraction(1, 7), 0], [0]])
    fl = float_layers(net)[0]
    for k, (row, b) in enumerate(zip(W, [Fraction(1, 7), 0])):
        exact = [Fraction(v) for v in row] + [Fraction(b)]
        t = max(math.floor(math.log2(abs(v))) for v in exact if v) + 1
        scaled = [v / Fraction(2) ** t for v in exact]
        # piece 1 of a ReLU unit is the row itself; every entry is the nearest float
        assert fl.pieces[k, 1].tolist() == [float(v) for v in scaled]
