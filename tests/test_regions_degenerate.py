"""Degenerate networks: exact agreement with the brute-force oracle (tests/oracle.py).

Duplicate and rescaled neurons, dead neurons, zero rows, parallel hyperplanes, hyperplanes
through domain corners or along domain edges, concurrent hyperplanes, integer weights with many
concurrences, deeper units whose boundary coincides with a first-layer one or whose
pre-activation vanishes on a full-dimensional set.  Lower-dimensional "regions" are never
reported: every reported region has positive volume and the set of codes is the oracle's.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import exactmaso as em

try:
    from oracle import F, assert_matches_oracle, check_partition, frac, make_net
except ImportError:  # tests/ as a package
    from tests.oracle import F, assert_matches_oracle, check_partition, frac, make_net  # type: ignore[no-redef]

SQ = ([F(-1), F(-1)], [F(1), F(1)])
CUBE = ([F(-1)] * 3, [F(1)] * 3)
UNIT = ([F(0)], [F(1)])


def h(n):
    """A generic output row for n units (never the 1x1 identity)."""
    return [[F(k + 2) for k in range(n)]]


def one_layer(W, b):
    W = [[F(v) for v in row] for row in W]
    b = [F(v) for v in b]
    return [W, h(len(W))], [b, [F(0)]]


# name -> (weights, biases, box, expected number of regions (hand-derived), extra check or None)
CASES = {}


def case(name, weights, biases, box, expected, check=None):
    CASES[name] = (weights, biases, box, expected, check)


def same_bits(i, j, layer=0, opposite=False):
    def check(code):
        a, b = code[layer][i], code[layer][j]
        return (a != b) if opposite else (a == b)

    return check


def always(layer, unit, bit):
    return lambda code: code[layer][unit] == bit


# duplicates: x + y = 0 twice and x - y + 1/3 = 0 -> 4 regions; duplicated units agree
case("duplicate", *one_layer([[1, 1], [1, 1], [1, -1]], [0, 0, F(1, 3)]), SQ, 4, same_bits(0, 1))
# rescaled duplicates of x + y + 1/4 = 0 and a negated copy: still 2 regions
case("rescaled", *one_layer([[1, 1], [3, 3], [F(1, 2), F(1, 2)]], [F(1, 4), F(3, 4), F(1, 8)]), SQ, 2, same_bits(0, 2))
case("negated", *one_layer([[1, 1], [-2, -2]], [F(1, 4), F(-1, 2)]), SQ, 2, same_bits(0, 1, opposite=True))
# dead: zero row with negative bias, and a live-looking row negative on the whole box
case("dead_zero_row", *one_layer([[0, 0], [1, -2]], [-1, F(1, 5)]), SQ, 2, always(0, 0, 0))
case("dead_on_box", *one_layer([[1, 1], [1, -2]], [-3, F(1, 5)]), SQ, 2, always(0, 0, 0))
case("always_on", *one_layer([[1, 1], [1, -2]], [3, F(1, 5)]), SQ, 2, always(0, 0, 1))
# zero row and zero bias: the pre-activation is identically 0 -> code 0 everywhere
case("zero_row_zero_bias", *one_layer([[0, 0], [1, 3]], [0, F(1, 2)]), SQ, 2, always(0, 0, 0))
case("only_zero_neuron", *one_layer([[0, 0], [0, 0]], [0, 0]), SQ, 1, always(0, 1, 0))
# parallel lines x = -1/2, 0, 1/2, 1/6 (as 2x = 1/3) and y = 1/5
case("parallel", *one_layer([[1, 0], [1, 0], [1, 0], [2, 0]], [F(1, 2), 0, F(-1, 2), F(-1, 3)]), SQ, 5)
case("parallel_grid", *one_layer([[1, 0], [1, 0], [-3, 0], [0, 1], [0, 2]], [F(1, 2), 0, F(3, 2), F(-1, 5), F(1, 3)]), SQ, 12)
# a line touching the box at a corner only: x + y = 2 (code 0 everywhere), x + y = -2 (code 1)
case("corner_touch", *one_layer([[1, 1], [1, 1], [1, 0]], [-2, 2, F(1, 3)]), SQ, 2, lambda c: c[0][:2] == (0, 1))
# a diagonal through two corners: 2 regions
case("diagonal", *one_layer([[1, -1]], [0]), SQ, 2)
# lines along the domain's edges: x = 1, x = -1, y = 1 (never regions of their own)
case("edge_lines", *one_layer([[1, 0], [-1, 0], [1, 0], [0, 1], [0, -1]], [-1, -1, 1, -1, 0]), SQ, 2,
     lambda c: c[0][:4] == (0, 0, 1, 0))
# five lines through the origin: 10 sectors
case("concurrent_origin", *one_layer([[1, 0], [0, 1], [1, -1], [1, 1], [1, -2]], [0, 0, 0, 0, 0]), SQ, 10)
# three lines through the corner (1, 1): y - 1 = m (x - 1), m = 1/2, 1, 2: 4 regions
case("concurrent_corner", *one_layer([[F(1, 2), -1], [1, -1], [2, -1]], [F(1, 2), 0, -1]), SQ, 4)
# four lines through the interior point (1/3, -1/4): 8 sectors
case("concurrent_interior", *one_layer([[1, 0], [0, 1], [1, 1], [1, -1]], [F(-1, 3), F(1, 4), F(-1, 12), F(-7, 12)]), SQ, 8)


def integer_lines():
    """a x + b y + c with a, b, c in {-1, 0, 1}, (a, b) != 0: 24 units with many duplicates,
    negations, concurrences, corner lines and edge lines."""
    W, b = [], []
    for a in (-1, 0, 1):
        for bb in (-1, 0, 1):
            if a == 0 and bb == 0:
                continue
            for c in (-1, 0, 1):
                W.append([a, bb])
                b.append(c)
    return W, b


# x = 0, y = 0, x + y = 0, x - y = 0 make 8 sectors; x + y = +-1 and x - y = +-1 cut each in two
case("integer_lines", *one_layer(*integer_lines()), SQ, 16)
# the same lines on the unit square [0, 1]^2 (more of them through corners and along edges)
# on [0, 1]^2 only the two diagonals x = y and x + y = 1 cut: 4 regions
case("integer_lines_unit_square", *one_layer(*integer_lines()), ([F(0), F(0)], [F(1), F(1)]), 4)

# deeper units: h1 = relu(x), h2 = relu(y); layer 2 units on (h1, h2):
#   relu(h1): boundary x = 0 coincides with layer 1's; relu(-h1): pre-activation <= 0, and = 0
#   on the whole half x <= 0 -> code 0; relu(h1 - h2): 0 on the quadrant x, y <= 0, splits Q1 by x = y
DEEP_W = [[[1, 0], [0, 1]], [[1, 0], [-1, 0], [1, -1]], [[1, 2, 3]]]
DEEP_B = [[0, 0], [0, 0, 0], [0]]
case("second_layer_coincides", [[[F(v) for v in r] for r in M] for M in DEEP_W], [[F(v) for v in r] for r in DEEP_B], SQ, 5,
     lambda c: c[1][1] == 0 and c[1][0] == c[0][0])
# layer 2 unit relu(h1 - h1') with h1, h1' duplicates: identically 0 -> code 0 everywhere
case("second_layer_identically_zero",
     [[[F(1), F(1)], [F(1), F(1)], [F(0), F(1)]], [[F(1), F(-1), F(0)], [F(0), F(0), F(1)]], [[F(1), F(2)]]],
     [[F(0), F(0), F(-1, 3)], [F(0), F(-1, 2)], [F(0)]], SQ, None, lambda c: c[1][0] == 0)
# layer 2 unit relu(h1 + h2) with h1 = relu(x), h2 = relu(-x): pre-activation |x| touches 0 on x = 0
# without changing sign: no region of its own; relu(h1 + h2 - 1/2) splits at |x| = 1/2
case("second_layer_touches",
     [[[F(1), F(0)], [F(-1), F(0)]], [[F(1), F(1)], [F(1), F(1)]], [[F(1), F(3)]]],
     [[F(0), F(0)], [F(0), F(-1, 2)], [F(0)]], SQ, 4, lambda c: c[1][0] == 1)
# a second layer line through the kink points of the first layer (concurrence across layers)
case("cross_layer_concurrence",
     [[[F(1), F(0)], [F(0), F(1)], [F(1), F(1)]], [[F(1), F(1), F(-1)], [F(1), F(-1), F(0)]], [[F(1), F(1)]]],
     [[F(0), F(0), F(0)], [F(0), F(0)], [F(0)]], SQ, None)

# 1-D
case("1d_endpoint", *one_layer([[1], [-1], [1]], [0, 0, F(-1, 2)]), UNIT, 2, lambda c: c[0][:2] == (1, 0))
case("1d_duplicates", *one_layer([[1], [2], [-3], [1]], [F(-1, 3), F(-2, 3), 1, F(-1, 2)]), UNIT, 3)
case("1d_touch",
     [[[F(1)], [F(-1)]], [[F(1), F(1)], [F(-1), F(-1)]], [[F(1), F(1)]]],
     [[F(-1, 2), F(1, 2)], [F(0), F(0)], [F(0)]], UNIT, 2, lambda c: c[1] == (1, 0) or c[0] == (0, 0))
# 3-D: a pencil of planes through the z axis, and four planes through the origin (central, generic)
case("3d_pencil", *one_layer([[1, 0, 0], [0, 1, 0], [1, -1, 0], [2, -2, 0]], [0, 0, 0, 0]), CUBE, 6)
case("3d_central", *one_layer([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]], [0, 0, 0, 0]), CUBE, 14)
case("3d_edge_touch", *one_layer([[1, 1, 0], [1, 1, 1], [0, 0, 1]], [-2, -3, F(1, 3)]), CUBE, 2,
     lambda c: c[0][:2] == (0, 0))


@pytest.mark.parametrize("name", list(CASES))
def test_degenerate_vs_oracle(name):
    weights, biases, (lo, hi), expected, check = CASES[name]
    net = make_net(weights, biases)
    part = em.regions(net, em.Box(lo, hi))
    cells = assert_matches_oracle(part, weights, biases, lo, hi)
    if expected is not None:
        assert len(cells) == expected, f"the oracle disagrees with the hand count for {name}"
        assert len(part) == expected
    for r in part:
        assert frac(r.volume()) > 0
        if check is not None:
            assert check(r.code), f"{name}: code {r.code} breaks the expected pattern"
    check_partition(part, net, lo, hi)
    part.verify()


def test_adding_touching_neurons_changes_nothing():
    """Neurons that only touch the box (corner, edge) or are dead never add a region."""
    base_W, base_b = [[1, -2], [3, 1]], [F(1, 5), F(-1, 2)]
    extra_W, extra_b = [[1, 1], [1, 0], [0, 0], [0, 0], [-1, -1]], [-2, -1, 0, -5, -2]
    _, part0 = _regions(*one_layer(base_W, base_b), SQ)
    _, part1 = _regions(*one_layer(base_W + extra_W, base_b + extra_b), SQ)
    assert len(part0) == len(part1) == 4
    cells0 = {r.code[0]: frac(r.volume()) for r in part0}
    cells1 = {r.code[0][:2]: frac(r.volume()) for r in part1}
    assert cells0 == cells1
    assert {r.code[0][2:] for r in part1} == {(0, 0, 0, 0, 0)}


def _regions(weights, biases, box):
    net = make_net(weights, biases)
    return net, em.regions(net, em.Box(*box))


# ---------------------------------------------------------------------------------------------
# hypothesis: integer-ish weights make degenerate arrangements the common case
# ---------------------------------------------------------------------------------------------

tiny = st.sampled_from([F(-1), F(0), F(1), F(-1, 2), F(1, 2), F(2)])


@st.composite
def degenerate_nets(draw):
    D = draw(st.sampled_from([1, 2, 2, 2]))
    widths = [D, draw(st.integers(1, 5))]
    if draw(st.booleans()):
        widths.append(draw(st.integers(1, 4)))
    widths.append(1)
    weights, biases = [], []
    for i in range(len(widths) - 1):
        weights.append([[draw(tiny) for _ in range(widths[i])] for _ in range(widths[i + 1])])
        biases.append([draw(tiny) for _ in range(widths[i + 1])])
    if widths[-2] == 1 and weights[-1][0][0] == 1 and biases[-1][0] == 0:
        weights[-1][0][0] = F(3)  # a 1x1 identity output layer would be folded away
    box = draw(st.sampled_from([([F(-1)] * D, [F(1)] * D), ([F(0)] * D, [F(1)] * D), ([F(-1, 2)] * D, [F(1)] * D)]))
    return weights, biases, box


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(degenerate_nets())
def test_hypothesis_degenerate_vs_oracle(wbb):
    weights, biases, (lo, hi) = wbb
    net = make_net(weights, biases)
    part = em.regions(net, em.Box(lo, hi))
    assert_matches_oracle(part, weights, biases, lo, hi)
    check_partition(part, net, lo, hi)


# ---------------------------------------------------------------------------------------------
# numbers that defeat floating point: tiny cells, tiny slopes, huge weights, nearly parallel lines
# ---------------------------------------------------------------------------------------------

EPS = F(1, 2**60)
NUMERIC = {
    # x = 0, y = 0, x + y = eps: 7 regions, one a triangle of area eps^2 / 2
    "tiny_triangle": (*one_layer([[1, 0], [0, 1], [1, 1]], [0, 0, -EPS]), SQ, 7),
    # three lines missing concurrency by eps^2 (still 7 regions)
    "almost_concurrent": (*one_layer([[1, 0], [0, 1], [1, 1]], [0, 0, -EPS * EPS]), SQ, 7),
    # slopes far below HiGHS's 1e-9 drop threshold: 1e-40 x splits at x = 0
    "tiny_slope": (*one_layer([[F(1, 10**40), 0], [0, 1]], [0, F(1, 3)]), SQ, 4),
    # huge weights: 10^30 x + 1 = 0 splits at x = -10^-30
    "huge_weights": (*one_layer([[10**30, 0], [0, 10**30]], [1, -1]), SQ, 4),
    # two lines through the origin at an angle of about 1e-18: two thin wedges
    "nearly_parallel": (*one_layer([[1, 0], [1, F(1, 10**18)]], [0, 0]), SQ, 4),
    # a line that misses the corner (1, 1) by eps: cuts off a triangle of area eps^2 / 2
    "corner_by_eps": (*one_layer([[1, 1], [1, -1]], [-2 + EPS, F(1, 7)]), SQ, 3),
    # the same line exactly through the corner: no region of its own
    "corner_exact": (*one_layer([[1, 1], [1, -1]], [-2, F(1, 7)]), SQ, 2),
    # float weights taken exactly (0.1 is not 1/10)
    "float_weights": (*one_layer([[0.1, 0.2], [0.3, -0.1], [0.7, 0.7]], [0.05, -0.02, 0.1]), SQ, None),
}


@pytest.mark.parametrize("name", list(NUMERIC))
def test_numerically_hard_vs_oracle(name):
    weights, biases, (lo, hi), expected = NUMERIC[name]
    weights = [[[F(v) for v in row] for row in M] for M in weights]
    biases = [[F(v) for v in row] for row in biases]
    net = make_net(weights, biases)
    part = em.regions(net, em.Box(lo, hi))
    cells = assert_matches_oracle(part, weights, biases, lo, hi)
    if expected is not None:
        assert len(cells) == expected
    check_partition(part, net, lo, hi)
    if name == "tiny_triangle":
        assert min(frac(r.volume()) for r in part) == EPS * EPS / 2
    if name == "corner_by_eps":
        assert min(frac(r.volume()) for r in part) == EPS * EPS / 2


@st.composite
def perturbed_nets(draw):
    """Degenerate integer arrangements perturbed by multiples of 2^-50: cells far below float
    resolution relative to the box, where only exact sign decisions are right."""
    eps = F(1, 2**50)
    n = draw(st.integers(2, 5))
    W = [[F(draw(st.integers(-1, 1))) + eps * draw(st.integers(-2, 2)) for _ in range(2)] for _ in range(n)]
    b = [F(draw(st.integers(-1, 1)), 2) + eps * draw(st.integers(-2, 2)) for _ in range(n)]
    return one_layer(W, b)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(perturbed_nets())
def test_hypothesis_perturbed_vs_oracle(wb):
    weights, biases = wb
    lo, hi = SQ
    net = make_net(weights, biases)
    part = em.regions(net, em.Box(lo, hi))
    assert_matches_oracle(part, weights, biases, lo, hi)
    check_partition(part, net, lo, hi)
