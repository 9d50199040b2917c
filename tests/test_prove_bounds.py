"""em.prove.output_bounds, robust and equivalent against mathematics and a brute-force oracle.

The expected values never come from exactmaso: small MLPs with dyadic weights are built from
weight lists that the test keeps, and tests/prove_oracle.py (which imports nothing from
exactmaso) enumerates their activation patterns and the vertices of each pattern's polytope
in Fractions.  Hand-built networks give robustness radii that are known in closed form.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest

import exactmaso as em

try:
    from prove_oracle import distance, forward, nearest_adversarial, not_strictly_on_top, pattern_sets, stack
except ImportError:  # pragma: no cover - run from the repository root as a package
    from tests.prove_oracle import distance, forward, nearest_adversarial, not_strictly_on_top, pattern_sets, stack  # type: ignore[no-redef]

F = Fraction
TINY = F(1, 2**30)


def random_weights(widths: list[int], seed: int) -> tuple[list, list]:
    """Dyadic weights ``k / 4`` with ``|k| <= 8`` and offsets ``k / 8`` with ``|k| <= 4``."""
    rng = random.Random(seed)
    Ws, bs = [], []
    for n_in, n_out in zip(widths[:-1], widths[1:]):
        Ws.append([[F(rng.randint(-8, 8), 4) for _ in range(n_in)] for _ in range(n_out)])
        bs.append([F(rng.randint(-4, 4), 8) for _ in range(n_out)])
    return Ws, bs


def verified(r):
    """The result, after its certificate has been re-checked."""
    r.verify()
    return r


def in_box(x, lo, hi) -> bool:
    return len(x) == len(lo) and all(F(l) <= v <= F(h) for v, l, h in zip(x, lo, hi))


def dot(c, y) -> Fraction:
    return sum((F(a) * b for a, b in zip(c, y)), F(0))


# widths, seed, box: total hidden units <= 8, inputs 2 or 3
CASES = [
    ([2, 6, 1], 1, ([-1, -1], [1, 1])),
    ([2, 4, 3, 2], 2, ([-1, 0], [1, 2])),
    ([3, 5, 2], 3, ([-1, -1, -1], [1, 1, 1])),
    ([2, 3, 3, 1], 4, ([0, -1], [F(3, 2), 1])),
    ([2, 7, 3], 5, ([F(-1, 2), -1], [1, F(1, 2)])),
]


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"{'x'.join(map(str, c[0]))}-seed{c[1]}")
def case(request):
    widths, seed, (lo, hi) = request.param
    Ws, bs = random_weights(widths, seed)
    sets = list(pattern_sets(Ws, bs, lo, hi))
    return em.mlp(Ws, bs), Ws, bs, lo, hi, sets


def oracle_range(sets, c, d=0) -> tuple[Fraction, Fraction]:
    vals = [dot(c, s.value(v)) + F(d) for s in sets for v in s.vertices]
    return min(vals), max(vals)


# -- output bounds ------------------------------------------------------------------------
def test_the_oracles_affine_maps_are_the_forward_pass(case):
    _, Ws, bs, lo, hi, sets = case
    assert sets
    for s in sets:
        for v in s.vertices:
            assert in_box(v, lo, hi)
            assert s.value(v) == forward(Ws, bs, v)


def test_output_bounds_match_the_vertex_oracle(case):
    net, Ws, bs, lo, hi, sets = case
    for j in range(len(bs[-1])):
        c = [int(o == j) for o in range(len(bs[-1]))]
        want_lo, want_hi = oracle_range(sets, c)
        r = em.prove.output_bounds(net, (lo, hi), output=j)
        assert (r.lo, r.hi) == (want_lo, want_hi)
        assert in_box(r.argmax, lo, hi) and in_box(r.argmin, lo, hi)
        assert forward(Ws, bs, r.argmax)[j] == want_hi
        assert forward(Ws, bs, r.argmin)[j] == want_lo
        r.verify()


def test_output_bounds_of_a_functional_match_the_vertex_oracle(case):
    net, Ws, bs, lo, hi, sets = case
    rng = random.Random(len(sets))
    O = len(bs[-1])
    c = [F(rng.randint(-6, 6), 2) for _ in range(O)]
    if not any(c):
        c[0] = F(1)
    d = F(-3, 7)
    want_lo, want_hi = oracle_range(sets, c, d)
    r = em.prove.output_bounds(net, em.Box(lo, hi), c=c, d=d)
    assert (r.lo, r.hi) == (want_lo, want_hi)
    assert dot(c, forward(Ws, bs, r.argmax)) + d == want_hi
    assert dot(c, forward(Ws, bs, r.argmin)) + d == want_lo
    assert in_box(r.argmax, lo, hi) and in_box(r.argmin, lo, hi)
    r.verify()


def test_output_bounds_one_side_only(case):
    net, Ws, bs, lo, hi, sets = case
    want_lo, want_hi = oracle_range(sets, [1] + [0] * (len(bs[-1]) - 1))
    up = em.prove.output_bounds(net, (lo, hi), output=0, which="max")
    down = em.prove.output_bounds(net, (lo, hi), output=0, which="min")
    assert (up.lo, up.hi, down.lo, down.hi) == (None, want_hi, want_lo, None)
    up.verify()
    down.verify()


@pytest.mark.parametrize("seed", [61, 62])
def test_output_bounds_on_a_polytope_match_the_vertex_oracle(seed):
    # the box [-1, 1]^2 cut by x1 + x2 <= 1/2 and x1 - 2 x2 <= 1
    Ws, bs = random_weights([2, 5, 2], seed)
    rows = [([1, 1], F(1, 2)), ([1, -2], 1)]
    dom = em.Polytope([[1, 0], [-1, 0], [0, 1], [0, -1]] + [a for a, _ in rows], [1, 1, 1, 1] + [c for _, c in rows])
    sets = list(pattern_sets(Ws, bs, [-1, -1], [1, 1], rows))
    net = em.mlp(Ws, bs)
    for j in range(2):
        want_lo, want_hi = oracle_range(sets, [int(o == j) for o in range(2)])
        r = em.prove.output_bounds(net, dom, output=j)
        assert (r.lo, r.hi) == (want_lo, want_hi)
        for x, v in ((r.argmin, want_lo), (r.argmax, want_hi)):
            assert in_box(x, [-1, -1], [1, 1]) and all(dot(a, x) <= c for a, c in rows)
            assert forward(Ws, bs, x)[j] == v
        r.verify()


def test_output_bounds_of_abs_by_hand():
    # |x| on [-1, 2]: min 0 at 0, max 2 at 2
    r = em.prove.output_bounds(em.mlp([[[1], [-1]], [[1, 1]]], [[0, 0], [0]]), em.Box([-1], [2]))
    assert (r.lo, r.hi, r.argmin, r.argmax) == (0, 2, (0,), (2,))
    r.verify()


# -- robustness ---------------------------------------------------------------------------
# |x| against the constant 1/2 at x0 = 1: class 0 (|x|) is strictly on top while |x| > 1/2,
# so the arg-max first changes (a tie) at x = 1/2, at distance 1/2 in every norm (1-D).
ABS_WS = [[[1], [-1]], [[1, 1], [0, 0]]]
ABS_BS = [[0, 0], [0, F(1, 2)]]

# s = 3 x1 + 4 x2; y0 = relu(s), y1 = relu(-s) + 5/2 at x0 = (1, 1), s = 7.  Class 0 stays on
# top while s > 5/2: the nearest tie is a drop of s by 9/2, reached at inf-distance
# 9/2 / (3 + 4), 1-distance 9/2 / 4 (all of it on x2) and 2-distance 9/2 / 5.
LINE_WS = [[[3, 4], [-3, -4]], [[1, 0], [0, 1]]]
LINE_BS = [[0, 0], [0, F(5, 2)]]
LINE_EPS = {"inf": F(9, 14), 1: F(9, 8), 2: F(9, 10)}


@pytest.mark.parametrize("norm", ["inf", 1, 2])
def test_robust_abs_flips_at_one_half(norm):
    net, x0 = em.mlp(ABS_WS, ABS_BS), [1]
    below = em.prove.robust(net, x0, F(1, 2) - TINY, norm=norm)
    assert below.holds and below.counterexample is None and below.label == 0
    below.verify()
    at = em.prove.robust(net, x0, F(1, 2), norm=norm)
    assert not at.holds
    x = at.counterexample
    assert all(isinstance(v, Fraction) for v in x)
    assert abs(x[0] - 1) <= F(1, 2)
    assert not_strictly_on_top(forward(ABS_WS, ABS_BS, x), 0)
    assert x == (F(1, 2),)  # the only point of the ball where 1/2 reaches |x|
    at.verify()


@pytest.mark.parametrize("norm", ["inf", 1, 2])
def test_robust_line_flips_at_the_known_radius(norm):
    net, x0, eps = em.mlp(LINE_WS, LINE_BS), [1, 1], LINE_EPS[norm]
    below = em.prove.robust(net, x0, eps - TINY, norm=norm)
    assert below.holds and below.counterexample is None
    below.verify()
    at = em.prove.robust(net, x0, eps, norm=norm)
    assert not at.holds
    x = at.counterexample
    assert distance(x, x0, norm) <= (eps * eps if norm == 2 else eps)
    assert not_strictly_on_top(forward(LINE_WS, LINE_BS, x), 0)
    at.verify()
    beyond = em.prove.robust(net, x0, 2 * eps, norm=norm)
    assert not beyond.holds
    assert not_strictly_on_top(forward(LINE_WS, LINE_BS, beyond.counterexample), 0)
    assert distance(beyond.counterexample, x0, norm) <= (4 * eps * eps if norm == 2 else 2 * eps)
    beyond.verify()


def test_robust_line_counterexample_at_the_radius_is_the_unique_nearest_point():
    # at the flip radius the ball meets the line s = 5/2 in one point: in the inf-ball the corner
    # that lowers both coordinates, in the 1-ball the move along x2 (the larger coefficient),
    # in the 2-ball the projection
    net, x0 = em.mlp(LINE_WS, LINE_BS), [1, 1]
    assert verified(em.prove.robust(net, x0, LINE_EPS[1], norm=1)).counterexample == (1, 1 - F(9, 8))
    # the projection of (1, 1) onto 3 a + 4 b = 5/2: (1, 1) - (9/2) (3, 4) / 25
    assert verified(em.prove.robust(net, x0, LINE_EPS[2], norm=2)).counterexample == (1 - F(27, 50), 1 - F(36, 50))
    corner = (1 - F(9, 14), 1 - F(9, 14))
    assert verified(em.prove.robust(net, x0, LINE_EPS["inf"], norm="inf")).counterexample == corner


@pytest.mark.parametrize("norm", ["inf", 1, 2])
def test_robust_within_a_domain_that_cuts_off_the_flip(norm):
    # |x| vs 1/2 at x0 = 1 on the domain [3/4, 2]: the tie at 1/2 is outside, so even eps = 1 holds
    net = em.mlp(ABS_WS, ABS_BS)
    r = em.prove.robust(net, [1], 1, norm=norm, dom=em.Box([F(3, 4)], [2]))
    assert r.holds
    r.verify()


@pytest.mark.parametrize("norm", ["inf", 1, 2])
def test_robust_ties_at_x0_count_as_a_change(norm):
    # at x0 = 1/2 the two classes tie: not robust even for eps = 0, and x0 is the counterexample
    r = em.prove.robust(em.mlp(ABS_WS, ABS_BS), [F(1, 2)], 0, norm=norm)
    assert not r.holds and r.counterexample == (F(1, 2),)
    r.verify()


def test_robust_with_an_explicit_label():
    # at x0 = 1, class 1 (the constant 1/2) is not on top: not robust, at any radius
    r = em.prove.robust(em.mlp(ABS_WS, ABS_BS), [1], F(1, 8), label=1)
    assert not r.holds and r.label == 1
    assert not_strictly_on_top(forward(ABS_WS, ABS_BS, r.counterexample), 1)
    r.verify()


def rational_sqrt_bracket(q: Fraction, bits: int = 40) -> tuple[Fraction, Fraction]:
    """Rationals ``a <= sqrt(q) <= b`` with ``b - a <= 2^-bits`` (``a == b`` when q is a square)."""
    scale = 1 << bits
    n = math.isqrt(q.numerator * scale * scale // q.denominator)  # floor(sqrt(q) * scale)
    a = F(n, scale)
    return (a, a) if a * a == q else (a, F(n + 1, scale))


@pytest.mark.parametrize("norm", ["inf", 1, 2])
@pytest.mark.parametrize("seed", [71])
def test_robust_flips_at_the_oracles_nearest_distance(seed, norm):
    # robust at eps exactly when eps < d, the distance to the nearest point where the label is
    # not strictly on top (found by the oracle in the box of radius 2, and below 2)
    Ws, bs = random_weights([2, 4, 3], seed)
    x0 = [F(-1, 8), F(1, 4)]
    label, d = nearest_adversarial(Ws, bs, x0, norm, F(2))
    assert d is not None and 0 < d < (4 if norm == 2 else 2)
    if norm == 2:
        below, at = rational_sqrt_bracket(d)
        if below == at:
            below -= TINY
    else:
        below, at = d - TINY, d
    net = em.mlp(Ws, bs)
    r = em.prove.robust(net, x0, below, norm=norm)
    assert r.holds and r.label == label
    r.verify()
    r = em.prove.robust(net, x0, at, norm=norm)
    assert not r.holds
    assert distance(r.counterexample, x0, norm) <= (at * at if norm == 2 else at)
    assert not_strictly_on_top(forward(Ws, bs, r.counterexample), label)
    r.verify()


# -- equivalence --------------------------------------------------------------------------
EQ_WIDTHS, EQ_SEED, EQ_BOX = [2, 4, 2], 11, ([-1, -1], [1, 1])


def permuted(Ws, bs, perm):
    """The same function: hidden units reordered (rows of W1, b1 and columns of W2)."""
    W1 = [Ws[0][p] for p in perm]
    b1 = [bs[0][p] for p in perm]
    W2 = [[row[p] for p in perm] for row in Ws[1]]
    return [W1, W2], [b1, list(bs[1])]


def oracle_max_difference(f, g, lo, hi) -> Fraction:
    """max over the box of max_o |f_o - g_o|, over the vertices of the stacked pattern sets."""
    Ws, bs = stack(f, g)
    O = len(f[1][-1])
    best = F(0)
    for s in pattern_sets(Ws, bs, lo, hi):
        for v in s.vertices:
            y = s.value(v)
            best = max(best, max(abs(y[o] - y[O + o]) for o in range(O)))
    return best


@pytest.fixture(scope="module")
def eq_net():
    Ws, bs = random_weights(EQ_WIDTHS, EQ_SEED)
    return Ws, bs


@pytest.fixture(scope="module")
def eq_perturbed(eq_net):
    """The twin with one weight moved by 2^-20, and the oracle's max difference."""
    Ws, bs = eq_net
    Wq, bq = perturbed(Ws, bs)
    return Wq, bq, oracle_max_difference((Ws, bs), (Wq, bq), *EQ_BOX)


def test_a_permuted_twin_is_equivalent(eq_net):
    Ws, bs = eq_net
    Wp, bp = permuted(Ws, bs, [2, 0, 3, 1])
    assert Wp != Ws
    r = em.prove.equivalent(em.mlp(Ws, bs), em.mlp(Wp, bp), EQ_BOX)
    assert r.holds and r.max_difference == 0 and r.counterexample is None
    r.verify()


def perturbed(Ws, bs, delta=F(1, 2**20)):
    Wq = [[list(row) for row in W] for W in Ws]
    Wq[0][1][0] += delta
    return Wq, [list(b) for b in bs]


def test_a_perturbed_twin_differs_by_the_oracles_maximum(eq_net, eq_perturbed):
    Ws, bs = eq_net
    Wq, bq, want = eq_perturbed
    assert want > 0
    r = em.prove.equivalent(em.mlp(Ws, bs), em.mlp(Wq, bq), EQ_BOX)
    assert not r.holds
    assert r.max_difference == want
    x = r.counterexample
    assert in_box(x, *EQ_BOX)
    fx, gx = forward(Ws, bs, x), forward(Wq, bq, x)
    assert fx != gx
    assert max(abs(a - b) for a, b in zip(fx, gx)) == want
    r.verify()


def test_equivalence_within_eps(eq_net, eq_perturbed):
    Ws, bs = eq_net
    Wq, bq, want = eq_perturbed
    f, g = em.mlp(Ws, bs), em.mlp(Wq, bq)
    for eps, holds in ((want, True), (want - F(1, 2**40), False)):
        r = em.prove.equivalent(f, g, EQ_BOX, eps=eps)
        assert r.holds is holds and r.max_difference == want
        if holds:
            assert r.counterexample is None
        else:
            fx, gx = forward(Ws, bs, r.counterexample), forward(Wq, bq, r.counterexample)
            assert max(abs(a - b) for a, b in zip(fx, gx)) > eps
        r.verify()


def test_batch_norm_folded_twin_is_equivalent(eq_net):
    # Dense -> BatchNorm -> ReLU -> Dense against the MLP with the batch norm folded by hand:
    # scale * (W1 x + b1) + shift = (scale W1) x + (scale b1 + shift), per channel
    Ws, bs = eq_net
    scale = [F(1, 2), F(3), F(5, 4), F(1, 8)]
    shift = [F(1, 4), F(-1, 2), F(0), F(3, 8)]
    unfolded = em.Network([em.Dense(Ws[0], bs[0]), em.BatchNorm(scale, shift), em.ReLU(), em.Dense(Ws[1], bs[1])])
    W1 = [[s * w for w in row] for s, row in zip(scale, Ws[0])]
    b1 = [s * b + t for s, b, t in zip(scale, bs[0], shift)]
    folded_ws, folded_bs = [W1, Ws[1]], [b1, bs[1]]
    for x in ([0, 0], [F(1, 3), F(-2, 5)], [1, -1]):
        assert list(unfolded(x)) == forward(folded_ws, folded_bs, x)
    r = em.prove.equivalent(unfolded, em.mlp(folded_ws, folded_bs), EQ_BOX)
    assert r.holds and r.max_difference == 0
    r.verify()


# -- maxout units (three pieces): the search and the checker beyond two-piece units ----------
def test_maxout_network_bounds_and_limit_interval_are_proven_and_hold_every_grid_value():
    # a random [2 -> 4 maxout(3) -> 5 relu-like(2) -> 3 maxout(3) -> 2] network: its trial
    # splits once met no finite gain (a ValueError), and 400 nodes did not settle its maximum;
    # now the box is decided by its regions, and a limit's interval is certified
    from exactmaso.maso import MASO, Network

    rng = random.Random(7)

    def rq(den=8):
        return F(rng.randint(-2 * den, 2 * den), den)

    def maso(K, R, D, den=8):
        return MASO([[[rq(den) for _ in range(D)] for _ in range(R)] for _ in range(K)],
                    [[rq(den) for _ in range(R)] for _ in range(K)])

    nets = []
    for _ in range(2):
        D = rng.choice([2, 3])
        nets.append(Network.from_masos([maso(4, 3, D), maso(5, 2, 4, den=rng.choice([8, 3, 6])), maso(3, 3, 5),
                                        maso(2, 1, 3)]))
    net = nets[1]
    assert net.input_dim == 2
    box = em.Box([F(-1)] * 2, [F(1)] * 2)
    grid = [F(i, 10) for i in range(-10, 11)]
    values = [net([a, b])[0] for a in grid for b in grid]  # the exact forward pass
    r = verified(em.prove.output_bounds(net, box, 0, max_nodes=400))
    # a max-affine composition is piecewise affine: its extremes over the box are at the
    # vertices of its linear regions (the partition's own certificate re-checked first)
    part = em.regions(net, box)
    part.verify()
    at_vertices = [net(list(v))[0] for reg in part for v in reg.vertices()]
    assert (r.lo, r.hi) == (min(at_vertices), max(at_vertices))
    assert r.lo <= min(values) and max(values) <= r.hi
    with pytest.raises(em.LimitError) as info:
        em.prove.output_bounds(net, box, 0, which="max", time_limit=0)
    exc = info.value
    em.prove.check(exc.certificate, net)  # the proven interval, re-derived exactly
    assert exc.lower <= r.hi <= exc.upper
