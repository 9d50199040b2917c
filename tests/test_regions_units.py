"""Regions of networks whose units are not ReLUs: leaky ReLU, abs, and max of 3 pieces.

The oracle enumerates every code, writes its region as an exact H-polytope (for each unit,
the chosen piece is >= every other piece, through the affine maps of the code's prefix)
and keeps the codes whose polytope is full-dimensional; full-dimensionality and volumes come
from em.Polytope, which does not use the region engines.
"""

from fractions import Fraction as F
from itertools import product

import numpy as np
import pytest

import exactmaso as em


def oracle(net, lo, hi):
    D = net.input_dim
    dom_A = [[F(1) if j == i else F(0) for j in range(D)] for i in range(D)]
    dom_A += [[F(-1) if j == i else F(0) for j in range(D)] for i in range(D)]
    dom_b = [F(v) for v in hi] + [-F(v) for v in lo]
    per_layer = [list(product(range(m.num_pieces), repeat=m.num_units)) for m in net.masos]
    out = {}
    for code in product(*per_layer):
        A, b = list(dom_A), list(dom_b)
        M = np.array([[F(1) if i == j else F(0) for j in range(D)] for i in range(D)], dtype=object)
        c = np.array([F(0)] * D, dtype=object)
        impossible = False
        for l, m in enumerate(net.masos):
            for k, w in enumerate(code[l]):
                gw = (m.A[k, w].dot(M), m.A[k, w].dot(c) + m.B[k, w])
                for s in range(m.num_pieces):
                    if s == w:
                        continue
                    gs = (m.A[k, s].dot(M), m.A[k, s].dot(c) + m.B[k, s])
                    a = gw[0] - gs[0]
                    off = gw[1] - gs[1]
                    if all(v == 0 for v in a) and off == 0:
                        if s < w:  # identical pieces: ties go to the lowest index
                            impossible = True
                        continue
                    A.append(list(-a))  # g_w - g_s >= 0  <=>  -a x <= off
                    b.append(off)
            sel_A = np.array([m.A[k, w] for k, w in enumerate(code[l])], dtype=object)
            sel_B = np.array([m.B[k, w] for k, w in enumerate(code[l])], dtype=object)
            M, c = sel_A.dot(M), sel_A.dot(c) + sel_B
            if impossible:
                break
        if impossible:
            continue
        try:
            P = em.Polytope(np.array(A, dtype=object), np.array(b, dtype=object))
        except em.DomainError:
            continue  # empty or not full-dimensional
        out[code] = P.volume()
    return out


def check(net, lo, hi):
    part = em.regions(net, em.Box(lo, hi))
    want = oracle(net, lo, hi)
    got = {r.code: r.volume() for r in part}
    assert got == want
    for r in part:
        p = r.point
        assert net.code(p) == r.code
        assert list(net(p)) == list(r.affine(p))
    part.verify()
    return part


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("act", [em.LeakyReLU(F(1, 4)), em.LeakyReLU(-1), em.Abs()])
def test_two_piece_units_2d(act, seed):
    rng = np.random.default_rng(seed)
    net = em.Network([em.Dense(rng.integers(-3, 4, size=(3, 2)), rng.integers(-2, 3, size=3)), act,
                      em.Dense(rng.integers(-3, 4, size=(2, 3)), rng.integers(-2, 3, size=2)), act,
                      em.Dense([[1, -2]], [0])])
    check(net, [-2, -2], [2, 2])


@pytest.mark.parametrize("seed", range(3))
def test_two_piece_units_3d(seed):
    rng = np.random.default_rng(10 + seed)
    net = em.Network([em.Dense(rng.integers(-3, 4, size=(4, 3)), rng.integers(-2, 3, size=4)), em.LeakyReLU(F(1, 3)),
                      em.Dense(rng.integers(-3, 4, size=(2, 4)), rng.integers(-2, 3, size=2)), em.Abs(),
                      em.Dense([[1, 1]], [0])])
    check(net, [-2, -2, -2], [2, 2, 2])


def max3_net(rng, D):
    """A first layer of 2 units, each the max of 3 affine pieces, then a ReLU layer."""
    A = rng.integers(-3, 4, size=(2, 3, D))
    B = rng.integers(-2, 3, size=(2, 3))
    relu = em.Network([em.Dense(rng.integers(-3, 4, size=(2, 2)), rng.integers(-2, 3, size=2)), em.ReLU(),
                       em.Dense([[1, -1]], [0])])
    return em.Network.from_masos([em.MASO(A, B), *relu.masos])


@pytest.mark.parametrize("seed", range(4))
def test_max_of_three_pieces_2d(seed):
    check(max3_net(np.random.default_rng(20 + seed), 2), [-2, -2], [2, 2])


@pytest.mark.parametrize("seed", range(2))
def test_max_of_three_pieces_3d(seed):
    check(max3_net(np.random.default_rng(30 + seed), 3), [-2, -2, -2], [2, 2, 2])


def test_maxpool_network_matches_oracle():
    rng = np.random.default_rng(7)
    # input (1 channel, length 2) -> 3 channels of length 2 -> max over each pair -> 3 units
    net = em.Network([em.Conv1d(rng.integers(-2, 3, size=(3, 1, 1)), rng.integers(-1, 2, size=3)),
                      em.MaxPool1d(2), em.Flatten(), em.Dense([[1, -1, 2]], [0])], input_shape=(1, 2))
    check(net, [-1, -1], [1, 1])


def test_identical_pieces_tie_to_the_lowest_index():
    # unit 0's pieces 0 and 2 are the same affine function: piece 2 can never be chosen
    A = [[[1, 0], [0, 1], [1, 0]]]
    B = [[0, 0, 0]]
    net = em.Network.from_masos([em.MASO(A, B), em.MASO([[[1]]], [[0]])])
    part = check(net, [-1, -1], [1, 1])
    assert sorted(r.code[0][0] for r in part) == [0, 1]


def relu_then_pool_net(rng, widths, pool, scale, dim=2):
    """ReLU layers each followed by a max over ``pool`` of its outputs (pieces: single outputs,
    so where ReLUs are off several pieces are exactly zero and tie), small integer weights, on
    ``dim`` inputs."""
    masos, n = [], dim
    for w in widths:
        A = rng.integers(-scale, scale + 1, size=(w, n)).tolist()
        B = rng.integers(-scale, scale + 1, size=w).tolist()
        masos.append(em.MASO([[[0] * n, a] for a in A], [[0, b] for b in B]))
        rows = []
        for _ in range(max(1, w // pool)):
            sel = rng.choice(w, size=min(pool, w), replace=False)
            rows.append([[int(j == s) for j in range(w)] for s in sel])
        masos.append(em.MASO(rows, [[0] * len(r) for r in rows]))
        n = len(rows)
    masos.append(em.MASO([[rng.integers(-3, 4, size=n).tolist()]], [[0]]))
    return em.Network.from_masos(masos)


@pytest.mark.parametrize("seed", range(6))
def test_max_pooling_of_relu_outputs_2d(seed):
    """The batched 2-D engine on max-pooled ReLU outputs: exact zero pieces, ties among them,
    and pieces that are >= 0 everywhere (see Engine2D._layer_multi)."""
    rng = np.random.default_rng(100 + seed)
    widths = rng.integers(3, 8, size=1 + seed % 2).tolist()
    net = relu_then_pool_net(rng, widths, int(rng.integers(2, 5)), int(rng.choice([1, 2, 5])))
    check(net, [-1, -1], [1, 1])


def test_sparse_layers_on_the_batched_engine(monkeypatch):
    """A conv + max-pool net held sparse (as MNIST-sized nets are), sliced to a plane, with
    every sparse layer on the engine's sparse path (CSR float products, exact rows composed
    one at a time): the regions of the oracle."""
    from exactmaso.engine import filter as engine_filter

    monkeypatch.setattr(engine_filter, "SPARSE_FLOATS", 0)
    rng = np.random.default_rng(5)
    layers = [em.Conv2d(rng.integers(-2, 3, size=(2, 1, 2, 2)), rng.integers(-1, 2, size=2)), em.ReLU(),
              em.MaxPool2d(2), em.Flatten(), em.Dense(rng.integers(-2, 3, size=(1, 2)), [0])]
    net = em.Network(layers, input_shape=(1, 3, 3), storage="sparse")  # 8 ReLUs, 2 max-pool units
    assert any(m.is_sparse for m in net.masos)
    x0, x1, x2 = (rng.integers(-2, 3, size=9) for _ in range(3))
    sliced = net.restrict(*em.plane(x0, x1, x2))
    assert any(m.is_sparse for m in sliced.masos)
    check(sliced, [-1, -1], [1, 1])
