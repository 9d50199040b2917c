"""Linear-region enumeration checked against mathematics (issue 3).

Counts from theorems (hyperplane arrangements in general position, the Telgarsky sawtooth,
Montufar-style folding networks), exact tiling, the exact properties of every region, the
streaming API and limits, hypothesis invariants on random small nets, invariance of the
partition under permuting / rescaling neurons and adding dead ones, and exact agreement with
the brute-force oracle of tests/oracle.py.
"""

from __future__ import annotations

import random
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import exactmaso as em

try:
    from oracle import (
        F,
        arrangement_vertices,
        assert_matches_oracle,
        box_around,
        box_volume,
        check_partition,
        fit_into_box,
        folding_2d,
        frac,
        general_layer,
        general_position_count,
        is_general_position,
        make_net,
        moment_curve_layer,
        one_hidden_layer,
        point_tuple,
        polytope_rows,
        summary,
        telgarsky,
        zigzag,
    )
except ImportError:  # tests/ as a package
    from tests.oracle import (  # type: ignore[no-redef]
        F,
        arrangement_vertices,
        assert_matches_oracle,
        box_around,
        box_volume,
        check_partition,
        fit_into_box,
        folding_2d,
        frac,
        general_layer,
        general_position_count,
        is_general_position,
        make_net,
        moment_curve_layer,
        one_hidden_layer,
        point_tuple,
        polytope_rows,
        summary,
        telgarsky,
        zigzag,
    )


def enumerate_regions(weights, biases, lo, hi):
    net = make_net(weights, biases)
    part = em.regions(net, em.Box(lo, hi))
    return net, part


# ---------------------------------------------------------------------------------------------
# counts from theorems
# ---------------------------------------------------------------------------------------------


GP_CASES = [(1, n, 0) for n in (1, 2, 5)] + [(1, 4, 7)]
GP_CASES += [(2, n, 0) for n in (2, 3, 5, 7)] + [(2, n, s) for n, s in ((4, 1), (6, 2))]
GP_CASES += [(3, n, 0) for n in (3, 4, 5)] + [(3, 4, 3)]


@pytest.mark.parametrize("d,n,seed", GP_CASES)
def test_general_position_count(d, n, seed):
    """n hyperplanes in general position in R^d: sum_{i<=d} C(n, i) regions in a box holding
    every arrangement vertex (each region of the arrangement has a vertex, so none is lost)."""
    W, b = general_layer(n, d, seed)
    assert is_general_position(W, b)
    verts = arrangement_vertices(W, b)
    lo, hi = box_around(verts, d)
    weights, biases = one_hidden_layer(W, b)
    net, part = enumerate_regions(weights, biases, lo, hi)
    assert len(part) == general_position_count(n, d)
    assert em.count_regions(net, em.Box(lo, hi)) == general_position_count(n, d)
    total = sum((frac(r.volume()) for r in part), Fraction(0))
    assert total == box_volume(lo, hi)
    # one hidden layer: the codes are exactly the sign vectors of the regions
    for r in part:
        x = point_tuple(r.point)
        signs = tuple(1 if sum(w * xi for w, xi in zip(row, x)) + bk > 0 else 0 for row, bk in zip(W, b))
        assert r.code == (signs, (0,))


@pytest.mark.parametrize("d,n", [(1, 3), (2, 4), (3, 4)])
def test_general_position_vs_oracle(d, n):
    W, b = general_layer(n, d, 0)
    lo, hi = box_around(arrangement_vertices(W, b), d)
    weights, biases = one_hidden_layer(W, b)
    net, part = enumerate_regions(weights, biases, lo, hi)
    assert_matches_oracle(part, weights, biases, lo, hi)
    check_partition(part, net, lo, hi)


@pytest.mark.parametrize("L", [1, 2, 3, 4, 5, 6])
def test_sawtooth(L):
    """Telgarsky: L tent maps composed on [0, 1] give 2^L regions of length 2^-L each."""
    weights, biases = telgarsky(L)
    net, part = enumerate_regions(weights, biases, [0], [1])
    assert len(part) == 2**L
    assert sorted(frac(r.volume()) for r in part) == [F(1, 2**L)] * 2**L
    ends = sorted(point_tuple(v)[0] for r in part for v in r.vertices())
    assert sorted(set(ends)) == [F(k, 2**L) for k in range(2**L + 1)]
    # the network is the sawtooth: 0 at even multiples of 2^-L, 1 at odd ones
    for k in range(2**L + 1):
        assert net([F(k, 2**L)])[0] == F(k % 2)
    if L <= 3:
        check_partition(part, net, [0], [1])


@pytest.mark.parametrize("w,L", [(3, 1), (3, 2), (3, 3), (4, 2), (5, 2), (2, 5)])
def test_zigzag_folding_1d(w, L):
    """L layers of w zigzag units: each layer folds [0, 1] onto itself w times: w^L regions."""
    weights, biases = zigzag(w, L)
    net, part = enumerate_regions(weights, biases, [0], [1])
    assert len(part) == w**L
    assert sorted(frac(r.volume()) for r in part) == [F(1, w**L)] * w**L
    if w**L <= 30:
        assert_matches_oracle(part, weights, biases, [0], [1])


def lines_in_unit_square(k):
    W, b = moment_curve_layer([F(j, 2) for j in range(k)], 2)
    return fit_into_box(W, b, [0, 0], [1, 1])


@pytest.mark.parametrize("w,folds,k", [(2, 1, 3), (3, 1, 2), (2, 2, 2), (2, 2, 3), (3, 2, 1)])
def test_montufar_folding_2d(w, folds, k):
    """Fold each coordinate w times per layer, then k generic lines with every vertex inside the
    unit square: (w^folds)^2 * (1 + k + C(k, 2)) regions."""
    W, b = lines_in_unit_square(k) if k > 1 else ([[F(1), F(2)]], [F(-1)])
    if k > 1:
        assert is_general_position(W, b)
        assert all(0 < v[0] < 1 and 0 < v[1] < 1 for v in arrangement_vertices(W, b))
    weights, biases = folding_2d(w, folds, W, b)
    net, part = enumerate_regions(weights, biases, [0, 0], [1, 1])
    assert len(part) == w ** (2 * folds) * general_position_count(k, 2)
    assert sum((frac(r.volume()) for r in part), Fraction(0)) == 1
    if len(part) <= 40:
        assert_matches_oracle(part, weights, biases, [0, 0], [1, 1])


def test_issue_network_n1_count(random_mlp):
    """N1 [2,16,16,1] seed 1 on [-1,1]^2: 200 regions (four independent implementations agree)."""
    net = random_mlp([2, 16, 16, 1], 1)
    part = em.regions(net, em.Box([-1, -1], [1, 1]))
    assert len(part) == 200
    assert sum((frac(r.volume()) for r in part), Fraction(0)) == 4
    for r in list(part)[::10]:
        x = list(point_tuple(r.point))
        assert net.code(x) == r.code
        assert list(net(x)) == list(r.affine(x))


@pytest.mark.parametrize("L", [1, 3, 6])
def test_sawtooth_fixture(sawtooth, L):
    """The shared fixture (built unfolded: Dense, ReLU, Dense, Dense, ...) gives the same 2^L."""
    net = sawtooth(L)
    part = em.regions(net, em.Box([0], [1]))
    assert len(part) == 2**L
    assert {frac(r.volume()) for r in part} == {F(1, 2**L)}


# ---------------------------------------------------------------------------------------------
# every region's exact properties; the API around the partition
# ---------------------------------------------------------------------------------------------

W_SMALL = [[[F(1), F(2)], [F(-1), F(1, 2)], [F(1, 3), F(-1)]], [[F(1), F(-1), F(2)], [F(-2), F(1), F(1)]], [[F(1), F(3)]]]
B_SMALL = [[F(1, 4), F(-1, 3), F(0)], [F(1, 5), F(-1, 7)], [F(0)]]


@pytest.fixture(scope="module")
def small_partition():
    net = make_net(W_SMALL, B_SMALL)
    lo, hi = [F(-1), F(-1)], [F(1), F(3, 2)]
    return net, em.regions(net, em.Box(lo, hi)), lo, hi


def test_small_net_region_properties(small_partition):
    net, part, lo, hi = small_partition
    check_partition(part, net, lo, hi)
    assert_matches_oracle(part, W_SMALL, B_SMALL, lo, hi)


def test_exact_types(small_partition):
    net, part, lo, hi = small_partition
    r = part[0]
    assert isinstance(r.volume(), Fraction)
    assert all(isinstance(v, Fraction) for v in r.point)
    assert all(isinstance(v, Fraction) for row in r.vertices() for v in row)
    assert all(isinstance(v, Fraction) for v in np.asarray(r.polytope.A).flat)
    assert all(isinstance(v, Fraction) for v in np.asarray(r.polytope.b).flat)
    assert isinstance(r.affine, em.Affine)
    assert part.net is net


def test_locate(small_partition):
    net, part, lo, hi = small_partition
    for r in part:
        assert part.locate(list(r.point)) == r.index
    # points on boundaries (vertices, box corners): the located region's closure holds them
    pts = [point_tuple(v) for r in part for v in r.vertices()]
    pts += [(lo[0], lo[1]), (hi[0], hi[1]), (lo[0], hi[1])]
    for p in pts[:60]:
        i = part.locate(list(p))
        for a, bi in polytope_rows(part[i].polytope):
            assert sum(x * y for x, y in zip(a, p)) <= bi
    with pytest.raises(em.DomainError):
        part.locate([F(2), F(0)])


def test_verify_passes(small_partition):
    net, part, lo, hi = small_partition
    part.verify()


def test_iter_and_count_match_regions(small_partition):
    net, part, lo, hi = small_partition
    dom = em.Box(lo, hi)
    streamed = list(em.iter_regions(net, dom))
    assert [r.code for r in streamed] == [r.code for r in part]
    assert em.count_regions(net, dom) == len(part)


@pytest.mark.parametrize("limit", [1, 3, 10])
def test_max_regions_raises_with_count(limit):
    W, b = general_layer(5, 2, 0)
    lo, hi = box_around(arrangement_vertices(W, b), 2)
    weights, biases = one_hidden_layer(W, b)
    net = make_net(weights, biases)
    dom = em.Box(lo, hi)
    total = general_position_count(5, 2)  # 16
    with pytest.raises(em.LimitError) as info:
        em.regions(net, dom, max_regions=limit)
    assert isinstance(info.value.count, int) and 0 <= info.value.count <= total
    with pytest.raises(em.LimitError):
        em.count_regions(net, dom, max_regions=limit)
    with pytest.raises(em.LimitError):
        list(em.iter_regions(net, dom, max_regions=limit))
    assert len(em.regions(net, dom, max_regions=total)) == total


def test_time_limit_never_cuts_silently(random_mlp):
    net = random_mlp([2, 16, 16, 1], 1)
    try:
        part = em.regions(net, em.Box([-1, -1], [1, 1]), time_limit=1e-6)
    except em.LimitError as e:
        assert 0 <= e.count <= 200
    else:
        assert len(part) == 200


def test_polytope_domain():
    """A non-box domain: the triangle x >= 0, y >= 0, x + y <= 1, as em.Polytope."""
    weights = [[[F(1), F(-1)], [F(1), F(1)]], [[F(1), F(2)]]]
    biases = [[F(0), F(-1, 2)], [F(0)]]
    net = make_net(weights, biases)
    dom = em.Polytope([[-1, 0], [0, -1], [1, 1]], [0, 0, 1])
    part = em.regions(net, dom)
    # x = y splits the triangle; x + y = 1/2 cuts off the corner at the origin: 4 regions
    assert len(part) == 4
    assert sum((frac(r.volume()) for r in part), Fraction(0)) == F(1, 2)
    areas = sorted(frac(r.volume()) for r in part)
    assert areas == [F(1, 16), F(1, 16), F(3, 16), F(3, 16)]
    for r in part:
        x = list(point_tuple(r.point))
        assert x[0] > 0 and x[1] > 0 and x[0] + x[1] < 1
        assert net.code(x) == r.code


# ---------------------------------------------------------------------------------------------
# random tiny nets against the oracle (1-D, 2-D, 3-D)
# ---------------------------------------------------------------------------------------------


def random_net(widths, seed, den=3, span=3):
    rng = random.Random(seed)
    weights, biases = [], []
    for i in range(len(widths) - 1):
        weights.append([[F(rng.randint(-span * den, span * den), den) for _ in range(widths[i])] for _ in range(widths[i + 1])])
        biases.append([F(rng.randint(-span * den, span * den), den * 2) for _ in range(widths[i + 1])])
    return weights, biases


@pytest.mark.parametrize(
    "widths,seed",
    [([1, 3, 3, 1], 1), ([1, 4, 2, 3, 1], 2), ([2, 3, 3, 1], 3), ([2, 5, 1], 4), ([2, 4, 3, 1], 5), ([2, 2, 2, 2, 2, 1], 6), ([3, 3, 2, 1], 7), ([3, 4, 1], 8)],
)
def test_random_tiny_nets_vs_oracle(widths, seed):
    weights, biases = random_net(widths, seed)
    D = widths[0]
    lo, hi = [F(-1)] * D, [F(1)] * D
    net, part = enumerate_regions(weights, biases, lo, hi)
    assert_matches_oracle(part, weights, biases, lo, hi)
    check_partition(part, net, lo, hi)


# ---------------------------------------------------------------------------------------------
# hypothesis invariants on random small nets (2-D)
# ---------------------------------------------------------------------------------------------

small_fracs = st.fractions(min_value=-2, max_value=2, max_denominator=3)


@st.composite
def small_nets(draw, max_hidden=8):
    """(weights, biases) of a 2-D ReLU net with 1-2 hidden layers of width 2..5, one output."""
    n_layers = draw(st.integers(1, 2))
    widths = [2]
    for _ in range(n_layers):
        widths.append(draw(st.integers(2, 5)))
    if sum(widths[1:]) > max_hidden:
        widths = widths[:2]
    widths.append(1)
    weights, biases = [], []
    for i in range(len(widths) - 1):
        weights.append([[draw(small_fracs) for _ in range(widths[i])] for _ in range(widths[i + 1])])
        biases.append([draw(small_fracs) for _ in range(widths[i + 1])])
    return weights, biases


@st.composite
def boxes_2d(draw):
    lo = [draw(st.fractions(-2, 0, max_denominator=2)) for _ in range(2)]
    size = [draw(st.fractions(F(1, 2), 3, max_denominator=2)) for _ in range(2)]
    return lo, [a + s for a, s in zip(lo, size)]


HYP = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@HYP
@given(small_nets(), boxes_2d())
def test_hypothesis_invariants_and_oracle(wb, box):
    """Volumes tile the box exactly, codes are distinct, every region's affine map is the forward
    pass (at its point and on its closure), and the partition is the oracle's."""
    weights, biases = wb
    lo, hi = box
    net, part = enumerate_regions(weights, biases, lo, hi)
    check_partition(part, net, lo, hi)
    assert_matches_oracle(part, weights, biases, lo, hi)


# ---------------------------------------------------------------------------------------------
# the partition is unchanged by permuting, rescaling and adding dead neurons
# ---------------------------------------------------------------------------------------------


def permute_layer(weights, biases, layer, perm):
    """New unit i of `layer` is old unit perm[i]."""
    W = [list(map(list, M)) for M in weights]
    b = [list(v) for v in biases]
    W[layer] = [weights[layer][p] for p in perm]
    b[layer] = [biases[layer][p] for p in perm]
    W[layer + 1] = [[row[p] for p in perm] for row in weights[layer + 1]]
    return W, b


def scale_unit(weights, biases, layer, unit, s):
    W = [list(map(list, M)) for M in weights]
    b = [list(v) for v in biases]
    W[layer][unit] = [v * s for v in W[layer][unit]]
    b[layer][unit] = b[layer][unit] * s
    W[layer + 1] = [[v / s if j == unit else v for j, v in enumerate(row)] for row in W[layer + 1]]
    return W, b


def add_dead_unit(weights, biases, layer, pos, bias=F(-1), out_weight=F(7)):
    W = [list(map(list, M)) for M in weights]
    b = [list(v) for v in biases]
    D = len(W[layer][0])
    W[layer].insert(pos, [F(0)] * D)
    b[layer].insert(pos, bias)
    for row in W[layer + 1]:
        row.insert(pos, out_weight)
    return W, b


def map_codes(summ, fn):
    return {fn(code): v for code, v in summ.items()}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(small_nets(max_hidden=7), st.data())
def test_invariance_permute_scale_dead(wb, data):
    weights, biases = wb
    lo, hi = [F(-1), F(-1)], [F(1), F(1)]
    _, part = enumerate_regions(weights, biases, lo, hi)
    base = summary(part)
    layer = data.draw(st.integers(0, len(weights) - 2), label="layer")
    K = len(weights[layer])

    # permutation: new code at `layer` is the old one permuted
    perm = data.draw(st.permutations(list(range(K))), label="perm")
    Wp, bp = permute_layer(weights, biases, layer, perm)
    _, part_p = enumerate_regions(Wp, bp, lo, hi)

    def permuted(code):
        c = list(code)
        c[layer] = tuple(code[layer][p] for p in perm)
        return tuple(c)

    assert summary(part_p) == map_codes(base, permuted)

    # positive rescaling of one unit (row and bias by s, outgoing column by 1/s)
    unit = data.draw(st.integers(0, K - 1), label="unit")
    s = data.draw(st.fractions(F(1, 4), 4, max_denominator=4).filter(lambda v: v > 0), label="scale")
    Ws, bs = scale_unit(weights, biases, layer, unit, s)
    net_s, part_s = enumerate_regions(Ws, bs, lo, hi)
    assert summary(part_s) == base
    for r in part_s:
        x = list(point_tuple(r.point))
        assert list(net_s(x)) == list(r.affine(x))

    # a dead unit (zero row, negative bias): one more 0 in every code, same cells
    pos = data.draw(st.integers(0, K), label="pos")
    Wd, bd = add_dead_unit(weights, biases, layer, pos)
    _, part_d = enumerate_regions(Wd, bd, lo, hi)

    def with_dead(code):
        c = list(code)
        c[layer] = code[layer][:pos] + (0,) + code[layer][pos:]
        return tuple(c)

    assert summary(part_d) == map_codes(base, with_dead)


def test_invariance_fixed_example():
    """The same three transformations on one fixed two-layer net (deterministic)."""
    weights, biases = W_SMALL, B_SMALL
    lo, hi = [F(-1), F(-1)], [F(1), F(1)]
    base = summary(enumerate_regions(weights, biases, lo, hi)[1])
    perm = [2, 0, 1]
    Wp, bp = permute_layer(weights, biases, 0, perm)
    got = summary(enumerate_regions(Wp, bp, lo, hi)[1])
    assert got == {(tuple(c[0][p] for p in perm),) + c[1:]: v for c, v in base.items()}
    Ws, bs = scale_unit(weights, biases, 1, 0, F(7, 3))
    assert summary(enumerate_regions(Ws, bs, lo, hi)[1]) == base
    Wd, bd = add_dead_unit(weights, biases, 1, 2)
    got = summary(enumerate_regions(Wd, bd, lo, hi)[1])
    assert got == {(c[0], c[1] + (0,), c[2]): v for c, v in base.items()}


@st.composite
def deep_nets_1d(draw):
    depth = draw(st.integers(1, 4))
    widths = [1] + [draw(st.integers(1, 3)) for _ in range(depth)] + [1]
    weights, biases = [], []
    for i in range(len(widths) - 1):
        weights.append([[draw(small_fracs) for _ in range(widths[i])] for _ in range(widths[i + 1])])
        biases.append([draw(small_fracs) for _ in range(widths[i + 1])])
    if widths[-2] == 1 and weights[-1][0][0] == 1 and biases[-1][0] == 0:
        weights[-1][0][0] = F(3)
    return weights, biases


@HYP
@given(deep_nets_1d())
def test_hypothesis_deep_1d_vs_oracle(wb):
    weights, biases = wb
    lo, hi = [F(-2)], [F(2)]
    net, part = enumerate_regions(weights, biases, lo, hi)
    check_partition(part, net, lo, hi)
    assert_matches_oracle(part, weights, biases, lo, hi)


def test_executor_and_progress_give_the_same_partition(small_partition, capsys):
    from concurrent.futures import ThreadPoolExecutor

    net, part, lo, hi = small_partition
    with ThreadPoolExecutor(2) as ex:
        part2 = em.regions(net, em.Box(lo, hi), executor=ex)
    assert summary(part2) == summary(part)
    part3 = em.regions(net, em.Box(lo, hi), progress=True)
    assert [r.code for r in part3] == [r.code for r in part]


@pytest.mark.parametrize("sizes, seed", [([3, 10, 8, 1], 4), ([4, 8, 6, 5, 1], 5)])
def test_workers_give_the_serial_partition_in_any_dimension(sizes, seed):
    # D >= 3 (the batched N-D engine): the cells of the first layer go to two worker processes
    # in chunks; regions, their order, facet labels and vertices are those of the serial run
    from concurrent.futures import ProcessPoolExecutor

    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=(m, n)) / np.sqrt(n) for n, m in zip(sizes, sizes[1:])]
    biases = [0.5 * rng.normal(size=m) for m in sizes[1:]]
    net = em.mlp(weights, biases)
    box = em.Box([-1] * sizes[0], [1] * sizes[0])
    serial = em.regions(net, box)
    with ProcessPoolExecutor(2) as ex:
        par = em.regions(net, box, executor=ex)
    assert len(par) == len(serial) > 50
    assert [r.code for r in par] == [r.code for r in serial]
    for a, b in zip(par, serial):
        assert a.polytope.A.tolist() == b.polytope.A.tolist() and a.polytope.b.tolist() == b.polytope.b.tolist()
        assert a.vertices().tolist() == b.vertices().tolist()
    par.verify()


@pytest.mark.parametrize("sizes, module, knob, value", [
    ([2, 24, 20, 16, 1], "batch2d", "MAP_FLOATS", 3 * 24 * 7),  # 7 cells' maps at a time
    ([2, 24, 20, 16, 1], "batch2d", "MAP_BYTES", 24 * 40 * 4 * 5),  # depth first, 5 first-layer cells at a time
    ([3, 12, 10, 1], "batchnd", "CUT_VERTICES", 64),  # cuts of at most 64 vertices
])
def test_layers_worked_in_chunks_give_the_same_partition(monkeypatch, sizes, module, knob, value):
    # the batched engines bound their memory by working a layer in chunks of cells (2-D) or
    # of pieces (N-D); the regions, their order and their vertices do not change
    import importlib

    rng = np.random.default_rng(11)
    weights = [rng.normal(size=(m, n)) / np.sqrt(n) for n, m in zip(sizes, sizes[1:])]
    biases = [0.5 * rng.normal(size=m) for m in sizes[1:]]
    net = em.mlp(weights, biases)
    box = em.Box([-1] * sizes[0], [1] * sizes[0])
    whole = em.regions(net, box)
    monkeypatch.setattr(importlib.import_module(f"exactmaso.engine.{module}"), knob, value)
    chunked = em.regions(net, box)
    assert len(whole) > 100
    assert [r.code for r in chunked] == [r.code for r in whole]
    assert all(a.vertices().tolist() == b.vertices().tolist() for a, b in zip(chunked, whole))
    chunked.verify()
