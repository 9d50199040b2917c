"""The search's rigorous float bounds (exactmaso.prove.relax), many boxes at once, against an
exact forward pass written here.

Every bound the search closes a node with must hold for the exact network, so the tests value
random networks of units with one, two (g0 != 0 too, not only ReLU) and three pieces exactly in
Fractions, at the corners and at random rational points of random boxes (some of them flat in
one coordinate, as ACAS Xu property 4's box is), and check that each point's exact layer values
lie in the float bounds of its box: the interval-and-backward bounds, the cheap ones a trial
split uses (intervals met with the parent's linear bounds), the upper bound of a functional and
the linear bound it maximises.  The float forward pass that guides the search for points is
compared with the exact one.
"""

from __future__ import annotations

import itertools
import random
from fractions import Fraction

import numpy as np
import pytest

from exactmaso import mlp as em_mlp
from exactmaso.engine.filter import float_layers
from exactmaso.maso import MASO, Network
from exactmaso.prove.relax import FloatModel, float_and_error

F = Fraction


def random_net(seed: int, D: int, widths: list[tuple[int, int]]) -> tuple[Network, list]:
    """A network of MASO layers (K units of R pieces each), and its pieces as Fractions."""
    rng = random.Random(seed)
    layers, pieces = [], []
    n = D
    for K, R in widths:
        A = [[[F(rng.randint(-12, 12), 8) for _ in range(n)] for _ in range(R)] for _ in range(K)]
        B = [[F(rng.randint(-6, 6), 8) for _ in range(R)] for _ in range(K)]
        layers.append(MASO(A, B))
        pieces.append((A, B))
        n = K
    return Network.from_masos(layers), pieces


def exact_layers(pieces: list, x: list[Fraction]) -> list[tuple[list, list]]:
    """Per layer: every piece's value ``[k][r]`` and the unit outputs, exactly."""
    out = []
    z = x
    for A, B in pieces:
        vals = [[sum((a * v for a, v in zip(A[k][r], z)), F(0)) + B[k][r] for r in range(len(B[k]))]
                for k in range(len(B))]
        z = [max(v) for v in vals]
        out.append((vals, z))
    return out


def points_of(lo: list[Fraction], hi: list[Fraction], rng: random.Random, count: int = 6) -> list[list[Fraction]]:
    corners = [list(c) for c in itertools.product(*zip(lo, hi))]
    inner = [[a + (b - a) * F(rng.randint(0, 64), 64) for a, b in zip(lo, hi)] for _ in range(count)]
    return corners + inner


def random_boxes(D: int, count: int, rng: random.Random) -> list[tuple[list, list]]:
    boxes = []
    for i in range(count):
        lo, hi = [], []
        for j in range(D):
            a = F(rng.randint(-16, 12), 16)
            w = F(0) if (i % 3 == 2 and j == 0) else F(rng.randint(1, 8), 16)  # some flat in x0
            lo.append(a)
            hi.append(a + w)
        boxes.append((lo, hi))
    return boxes


def fl(v) -> Fraction:
    return F(float(v))


NETS = [
    (1, 2, [(5, 2), (4, 2), (2, 1)]),  # two-piece units with g0 != 0
    (2, 3, [(4, 3), (5, 2), (3, 3), (2, 1)]),  # maxout of three pieces
    (3, 2, [(6, 2), (3, 1), (4, 2), (1, 1)]),  # an affine layer inside
]


def check_contains(net, pieces, batch, boxes, rng):
    scales = [np.ldexp(1.0, fl_.scale.astype(np.int64)) for fl_ in float_layers(net)]
    fm = FloatModel(net)
    for i, (lo, hi) in enumerate(boxes):
        for x in points_of(lo, hi, rng):
            for li, (vals, z) in enumerate(exact_layers(pieces, x)):
                s = [F(float(v)) for v in scales[li]]
                for k, y in enumerate(z):  # outputs, in the float copy's units y / 2**t
                    assert fl(batch.out_lo[li][i, k]) <= y / s[k] <= fl(batch.out_hi[li][i, k]), (li, k)
                R = fm.layers[li].R
                if R == 2:  # the cut h = g1 - g0
                    for k, v in enumerate(vals):
                        h = (v[1] - v[0]) / s[k]
                        assert fl(batch.cut_lo[li][i, k]) <= h <= fl(batch.cut_hi[li][i, k]), (li, k)
                elif R > 2:
                    for k, v in enumerate(vals):
                        for r, p in enumerate(v):
                            assert fl(batch.cut_lo[li][i, k * R + r]) <= p / s[k] <= fl(batch.cut_hi[li][i, k * R + r])


@pytest.mark.parametrize("seed, D, widths", NETS)
def test_batched_bounds_hold_at_exact_points(seed, D, widths):
    net, pieces = random_net(seed, D, widths)
    rng = random.Random(seed)
    boxes = random_boxes(D, 7, rng)
    fm = FloatModel(net)
    lo = np.array([[float(v) for v in b[0]] for b in boxes])
    hi = np.array([[float(v) for v in b[1]] for b in boxes])
    batch = fm.bounds(lo, hi, crown=True)
    assert not batch.empty().any()
    check_contains(net, pieces, batch, boxes, rng)
    # a functional's upper bound, and the linear bound it maximises, at every point
    O = net.output_dim
    C = [[F(rng.randint(-4, 4), 4) for _ in range(O)] for _ in range(3)]
    d = [F(rng.randint(-4, 4), 8) for _ in range(3)]
    cf, ec = float_and_error(C)
    df, ed = float_and_error(d)
    check_functional_bounds(pieces, boxes, C, d, *fm.upper(batch, cf, ec, df, ed), rng)


def check_functional_bounds(pieces, boxes, C, d, ub, rows, cx, rng):
    """At exact points of each box, every functional ``C[f] . y + d[f]`` is at most its upper
    bound ``ub[i, f]`` and at most the linear bound ``rows[i, f] . x + cx[i, f]`` it maximises."""
    for i, (blo, bhi) in enumerate(boxes):
        for x in points_of(blo, bhi, rng):
            y = exact_layers(pieces, x)[-1][1]
            for f in range(len(C)):
                value = sum((a * b for a, b in zip(C[f], y)), F(0)) + d[f]
                assert value <= fl(ub[i, f])
                assert value <= sum((fl(r) * v for r, v in zip(rows[i, f], x)), F(0)) + fl(cx[i, f])


@pytest.mark.parametrize("seed, D, widths", NETS)
def test_a_box_bounded_alone_or_in_a_batch_gets_the_same_bounds(seed, D, widths):
    net, _ = random_net(seed, D, widths)
    rng = random.Random(seed + 10)
    boxes = random_boxes(D, 5, rng)
    fm = FloatModel(net)
    lo = np.array([[float(v) for v in b[0]] for b in boxes])
    hi = np.array([[float(v) for v in b[1]] for b in boxes])
    batch = fm.bounds(lo, hi)
    for i in range(len(boxes)):
        alone = fm.bounds(lo[i:i + 1], hi[i:i + 1])
        for a, b in zip(batch.out_hi + batch.cut_hi, alone.out_hi + alone.cut_hi):
            assert np.allclose(a[i], b[0], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("seed, D, widths", NETS)
def test_halves_inherit_sound_bounds_from_their_parent(seed, D, widths):
    # the trial split's cheap bounds (intervals met with the parent's bounds and its backward
    # linear bounds) and the full ones (met with the parent's bounds) on both halves of a box
    net, pieces = random_net(seed, D, widths)
    rng = random.Random(seed + 20)
    fm = FloatModel(net)
    for lo, hi in random_boxes(D, 3, rng):
        parent = fm.bounds(np.array([[float(v) for v in lo]]), np.array([[float(v) for v in hi]])).node(0, linear=True)
        j = max(range(D), key=lambda t: hi[t] - lo[t])
        mid = (lo[j] + hi[j]) / 2
        halves = [(lo, hi[:j] + [mid] + hi[j + 1:]), (lo[:j] + [mid] + lo[j + 1:], hi)]
        hlo = np.array([[float(v) for v in h[0]] for h in halves])
        hhi = np.array([[float(v) for v in h[1]] for h in halves])
        for crown in (False, True):
            batch = fm.bounds(hlo, hhi, crown=crown, parents=[parent, parent])
            check_contains(net, pieces, batch, halves, rng)


def test_phases_clamp_the_cut_and_cross_when_they_cannot_hold():
    net, pieces = random_net(1, 2, [(5, 2), (4, 2), (2, 1)])
    fm = FloatModel(net)
    lo, hi = np.array([[-1.0, -1.0]]), np.array([[1.0, 1.0]])
    base = fm.bounds(lo, hi)
    k = next(k for k in range(5) if base.cut_lo[0][0, k] < 0 < base.cut_hi[0][0, k])
    on = fm.bounds(lo, hi, phases=[{(0, k): 1}])
    off = fm.bounds(lo, hi, phases=[{(0, k): 0}])
    assert on.cut_lo[0][0, k] == 0 and off.cut_hi[0][0, k] == 0
    # a unit the box decides one way, forced the other way: the bounds cross (empty branch)
    k_pos = next((k for k in range(5) if base.cut_lo[0][0, k] > 0), None)
    if k_pos is not None:
        assert fm.bounds(lo, hi, phases=[{(0, k_pos): 0}]).empty()[0]


def test_float_forward_pass_is_close_to_the_exact_one():
    # the uphill search's guide (relu layers take their fast path, others the pieces' max)
    for seed, D, widths in NETS + [(4, 3, [(8, 2), (8, 2), (3, 1)])]:
        net, pieces = random_net(seed, D, widths)
        fm = FloatModel(net)
        rng = random.Random(seed)
        X = [[F(rng.randint(-1000, 1000), 1024) for _ in range(D)] for _ in range(20)]
        Y = fm.forward(np.array([[float(v) for v in x] for x in X]))
        for x, y in zip(X, Y):
            exact = exact_layers(pieces, x)[-1][1]
            assert np.allclose(y, [float(v) for v in exact], rtol=1e-12, atol=1e-12)


def test_the_point_search_samples_fewer_points_in_many_dimensions():
    # 100,000 random points of a 784-input box were 6 s and 1.4 GB per case of a MNIST spec
    from exactmaso.prove import search

    D = 1000
    rng = random.Random(3)
    W1 = [[F(rng.randint(-4, 4), 8) for _ in range(D)] for _ in range(3)]
    net = em_mlp([W1, [[F(1), F(-1), F(1, 2)]]], [[F(0)] * 3, [F(0)]])
    fm = FloatModel(net)
    seen = []
    forward = fm.forward
    fm.forward = lambda X: (seen.append(len(X)), forward(X))[1]
    lo, hi = [F(-1, 2)] * D, [F(1, 2)] * D
    cf, ec = float_and_error([[F(1)]])
    df, ed = float_and_error([F(0)])
    points = search.probe_points(fm, (cf, ec, df, ed), lo, hi, samples=100_000)
    assert sum(seen) <= search.PROBE_FLOATS // D  # no corners, no polish in 1000 dimensions
    assert points and all(all(a <= v <= b for v, a, b in zip(x, lo, hi)) for x in points)
