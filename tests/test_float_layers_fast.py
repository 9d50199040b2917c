"""The vectorised float filter copy (exactmaso.engine.filter.float_layers) and the exact kernel's
single-row composition (exactmaso.engine.kernel.Exact) against straightforward references
written here: per-entry Python loops over the exact pieces, and cell maps composed in Fractions.

Bit for bit: the same pieces, cuts, scales and error terms, with huge and tiny weights,
integers beyond 2**53 and beyond the float range, and results near the normal range.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

import exactmaso as em
from exactmaso.engine import filter as engine_filter
from exactmaso.engine import kernel as engine_kernel
from exactmaso.engine.filter import _bit_lengths, _int_floats, _rounded_quotients, float_layers
from exactmaso.regions import _check_net_dom

NORMAL = 2.0 ** -1022


# -- the reference: the float copy entry by entry ----------------------------------------------
def _int_rows(m):
    """The augmented pieces [A | B] as integer rows over their least common denominator."""
    aug = [[Fraction(v) for v in list(m.A[k, r]) + [m.B[k, r]]] for k in range(m.num_units) for r in range(m.num_pieces)]
    den = 1
    for row in aug:
        for v in row:
            den = math.lcm(den, v.denominator)
    return [[int(v * den) for v in row] for row in aug], den


def _reference_floats(rows, shifts, den):
    """Nearest floats of rows[i][j] * 2**shifts[i][j] / den: float(int) then ldexp for a
    power-of-two denominator when every integer is a finite float, else correctly rounded."""
    e = den.bit_length() - 1
    try:
        fits = den == 1 << e and all(math.isfinite(float(v)) for row in rows for v in row)
    except OverflowError:
        fits = False
    if fits:
        F = [[math.ldexp(float(v), t - e) for v, t in zip(row, sh)] for row, sh in zip(rows, shifts)]
    else:
        F = [[(v << t) / den if t >= 0 else v / (den << -t) for v, t in zip(row, sh)] for row, sh in zip(rows, shifts)]
    under = any(v != 0 and abs(f) < NORMAL for row, frow in zip(rows, F) for v, f in zip(row, frow))
    return np.array(F, dtype=np.float64), under


def reference_float_layers(net):
    """(pieces, cut, eta, scale) of every layer, one entry at a time."""
    out = []
    t_in = [0] * net.input_dim
    for m in net.masos:
        K, R, n = m.num_units, m.num_pieces, m.input_dim
        rows, den = _int_rows(m)
        t_out, shifts = [], []
        for k in range(K):
            bits = [v.bit_length() + (t_in[j] if j < n else 0) for r in range(R) for j, v in enumerate(rows[k * R + r]) if v]
            t = max(bits) - den.bit_length() if bits else 0
            t_out.append(t)
            shifts += [[tj - t for tj in t_in] + [-t]] * R
        P, under = _reference_floats(rows, shifts, den)
        cut = None
        if R == 2 and any(any(rows[2 * k]) for k in range(K)):
            diff = [[q - p for p, q in zip(rows[2 * k], rows[2 * k + 1])] for k in range(K)]
            cut, under_c = _reference_floats(diff, shifts[::2], den)
            under = under or under_c
        out.append((P.reshape(K, R, n + 1), cut, 2.0 ** -1074 if under else 0.0, t_out))
        t_in = t_out
    return out


def _dense(a):
    """A float layer's dense array, or its CSR matrix's entries placed in zeros (``toarray``
    adds them to zeros, which turns an underflowed -0.0 into 0.0)."""
    if a is None or isinstance(a, np.ndarray):
        return a
    out = np.zeros(a.shape)
    out[np.repeat(np.arange(a.shape[0]), np.diff(a.indptr)), a.indices] = a.data
    return out


def assert_same_float_layers(net):
    for got, (P, cut, eta, scale) in zip(float_layers(net), reference_float_layers(net)):
        pieces = _dense(got.pieces)
        assert pieces.reshape(P.shape).tobytes() == P.tobytes()
        assert (got.cut is None) == (cut is None)
        if cut is not None:
            assert _dense(got.cut).tobytes() == cut.tobytes()
        assert got.eta == eta
        assert got.scale.tolist() == scale


# -- networks -----------------------------------------------------------------------------------
F = Fraction
HUGE_TINY = [
    em.mlp([[[F(1e200), F(1e-200)], [F(1e-300), F(1e-300)]], [[F(1e300), F(1e300)]], [[F(1e300)]]],
           [[F(0), F(1e-310)], [F(1e-300)], [F(0)]]),
    em.mlp([[[F(1e200), 1], [1, F(-1e200)], [F(1e150), F(1e150)]], [[F(1e200), F(1e200), F(-1e200)], [1, 1, 1]],
            [[F(1e200), -1]]], [[0, 0, 0], [0, 0], [0]]),
    em.mlp([[[F(1e200), F(1e-200)], [F(1, 3), F(7, 5)]], [[1, 1]]], [[F(1, 7), 0], [0]]),
    # integers beyond 2**53 and beyond the float range, with and without a power-of-two denominator
    em.mlp([[[10 ** 400 + 1, 3 ** 300], [F(1, 3 ** 200), -7]], [[2 ** 1100, 5]]], [[1, F(-1, 10 ** 350)], [0]]),
    em.mlp([[[2 ** 53 + 1, 2 ** 53 - 1], [-(2 ** 64) - 1, 2 ** 60]], [[2 ** 1100, 5]]], [[1, F(1, 2 ** 70)], [0]]),
    # results at and below the normal range after rescaling
    em.mlp([[[F(2 ** -1070), 1], [F(3, 2 ** 1080) + 1, F(1, 3 * 2 ** 1000)]], [[1, F(2 ** -1060)]]], [[0, 0], [0]]),
    em.mlp([[[1, F(2 ** -1022) - F(2 ** -1076)], [1, F(2 ** -1022) + F(2 ** -1076)]], [[1, F(1, 3 * 2 ** 1021)]]],
           [[F(2 ** -1075), 0], [0]]),
]


def random_weights_net(seed):
    """Two-piece and maxout layers with integers of 1 to 1100 bits over assorted denominators."""
    rng = np.random.default_rng(seed)
    dens = [1, 3, 1000, 2 ** 20, 2 ** 60, 3 * 2 ** 1080, 10 ** 30]

    def value():
        if rng.random() < 0.25:
            return 0
        bits = int(rng.choice([1, 8, 52, 53, 54, 64, 120, 1030, 1100]))
        v = int(rng.integers(1, 2 ** 31)) << max(bits - 31, 0) | int(rng.integers(0, 2 ** 20))
        return F(-v if rng.random() < 0.5 else v, int(rng.choice(dens)))

    masos, n = [], 2
    for K, R in ((3, 2), (4, 3), (2, 2), (1, 1)):
        A = [[[value() for _ in range(n)] for _ in range(R)] for _ in range(K)]
        B = [[value() for _ in range(R)] for _ in range(K)]
        masos.append(em.MASO(A, B))
        n = K
    return em.Network.from_masos(masos)


def pool_net(seed):
    """A 2-D slice of a conv + ReLU + 2x2 max-pool net (weights with three decimals)."""
    rng = np.random.default_rng(seed)
    layers = [em.Conv2d(rng.normal(size=(2, 1, 2, 2)).round(3), rng.normal(size=2).round(3)), em.ReLU(), em.MaxPool2d(2),
              em.Flatten()]
    n = em.Network(layers, input_shape=(1, 5, 5)).output_dim
    net = em.Network(layers + [em.Dense(rng.normal(size=(1, n)).round(3), [0.0])], input_shape=(1, 5, 5))
    return net.restrict(*em.plane(*(rng.integers(0, 3, size=25) for _ in range(3))))


@pytest.mark.parametrize("net", HUGE_TINY, ids=[f"huge-tiny{i}" for i in range(len(HUGE_TINY))])
def test_float_layers_of_huge_and_tiny_weights_equal_the_reference(net):
    assert_same_float_layers(net)


@pytest.mark.parametrize("seed", range(12))
def test_float_layers_of_random_big_integers_equal_the_reference(seed):
    assert_same_float_layers(random_weights_net(seed))


@pytest.mark.parametrize("seed", range(3))
def test_float_layers_of_pooling_nets_equal_the_reference(seed):
    assert_same_float_layers(pool_net(seed))


@pytest.mark.parametrize("seed", range(3))
def test_sparse_float_layers_equal_the_reference(monkeypatch, seed):
    monkeypatch.setattr(engine_filter, "SPARSE_FLOATS", 0)
    net = em.Network.from_masos([m.to_sparse() for m in random_weights_net(seed).masos])
    assert all(m.is_sparse for m in net.masos)
    assert not isinstance(float_layers(net)[0].pieces, np.ndarray)
    assert_same_float_layers(net)


# -- the vectorised helpers, entry by entry -----------------------------------------------------
EDGE_INTS = [1, -1, 3, 2 ** 52 + 1, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53, 2 ** 53 + 1, -(2 ** 53 + 1), 2 ** 63 - 1,
             2 ** 64 + 7, 3 ** 200, -(10 ** 300), 10 ** 400, -(2 ** 1100) + 1]


def _objects(values):
    a = np.empty(len(values), dtype=object)
    a[:] = values
    return a


def test_bit_lengths_are_exact_beyond_2_to_the_53():
    ints = _objects(EDGE_INTS)
    f, small, _ = _int_floats(ints)
    assert _bit_lengths(ints, f, small).tolist() == [v.bit_length() for v in EDGE_INTS]


@pytest.mark.parametrize("den", [1, 3, 1000, 2 ** 52 + 1, 2 ** 53 + 3, 10 ** 40, 3 * 2 ** 1080])
def test_rounded_quotients_are_correctly_rounded(den):
    rng = np.random.default_rng(den % 1000)
    values = EDGE_INTS + [int(v) for v in rng.integers(-2 ** 40, 2 ** 40, size=40)] + [0]
    shifts = [int(s) for s in rng.integers(-1200, 40, size=len(values))]
    shifts[:6] = [-1020, -1021, -1022, -1074, -1075, 900]
    ints = _objects(values)
    f, small, _ = _int_floats(ints)
    want = []
    for v, t in zip(values, shifts):
        try:
            want.append((v << t) / den if t >= 0 else v / (den << -t))
        except OverflowError:  # beyond the float range: not a value the filter makes
            want.append(None)
    keep = [i for i, w in enumerate(want) if w is not None]
    got = _rounded_quotients(ints[keep], f[keep], small[keep], np.array(shifts, dtype=np.int64)[keep], den)
    assert got.tobytes() == np.array([want[i] for i in keep], dtype=np.float64).tobytes()


# -- the exact kernel: single rows against cell maps in Fractions --------------------------------
def reference_row(net, code, label):
    """g_r - g_s of ``label`` on the cell ``code``: the cell's map composed layer by layer in Fractions."""
    D = net.input_dim
    M = [[F(int(i == j)) for j in range(D + 1)] for i in range(D)]  # [M | m], the input of layer 0

    def piece(m, k, r):
        a, b = [F(v) for v in m.A[k, r]], F(m.B[k, r])
        return [sum(a[i] * M[i][j] for i in range(len(a))) + (b if j == D else 0) for j in range(D + 1)]

    l, k, r, s = label
    for i, m in enumerate(net.masos[:l]):
        M = [piece(m, u, code[i][u]) for u in range(m.num_units)]
    m = net.masos[l]
    return tuple(p - q for p, q in zip(piece(m, k, r), piece(m, k, s)))


@pytest.mark.parametrize("density", [0, engine_kernel.Exact.ROWS_DENSITY, 10 ** 9], ids=["rows", "auto", "products"])
@pytest.mark.parametrize("seed", range(2))
def test_exact_rows_of_pooling_nets_equal_maps_composed_in_fractions(monkeypatch, seed, density):
    monkeypatch.setattr(engine_kernel.Exact, "ROWS_DENSITY", density)
    net = pool_net(seed)
    box = em.Box([-1, -1], [1, 1])
    part = em.regions(net, box)
    ex = engine_kernel.Exact(net, *_check_net_dom(net, box))
    checked = 0
    for reg in list(part)[::3]:
        for lab in reg.facet_labels:
            if lab[0] == "d":
                continue
            want = reference_row(net, reg.code, lab)
            assert ex.row(reg.code, lab) == want
            ints = ex.row_int(reg.code, lab)
            assert math.gcd(*ints) == 1
            scale = next(F(i) / w for i, w in zip(ints, want) if w)
            assert scale > 0 and all(F(i) == scale * w for i, w in zip(ints, want))
            checked += 1
    assert checked > 0
