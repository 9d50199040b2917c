"""The N-D oracle (tests/oracle_nd.py) against mathematics, and against the older 1-3-D oracle.

Nothing here imports exactmaso: the oracle must stand on its own.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction
from itertools import combinations

import pytest

try:
    import oracle as old_oracle
    from oracle_nd import edge_problems, forward, oracle_regions
except ImportError:  # tests/ as a package
    from tests import oracle as old_oracle  # type: ignore[no-redef]
    from tests.oracle_nd import edge_problems, forward, oracle_regions  # type: ignore[no-redef]

F = Fraction


# ---------------------------------------------------------------------------------------------
# tiny builders (plain MASO lists)
# ---------------------------------------------------------------------------------------------


def relu_layer(W, b, slopes=(0, 1)):
    """Units max_r s_r (W z + b) for the given slopes (ReLU: 0, 1; abs: -1, 1)."""
    A = [[[F(s) * F(v) for v in row] for s in slopes] for row in W]
    B = [[F(s) * F(bi) for s in slopes] for bi in b]
    return A, B


def affine_layer(W, b):
    return [[[F(v) for v in row]] for row in W], [[F(bi)] for bi in b]


def box_volume(lo, hi):
    return math.prod((F(h) - F(l) for l, h in zip(lo, hi)), start=F(1))


def random_net(rng: random.Random, D: int, widths, kinds=("relu",), grid=3):
    layers = []
    n = D
    for K in widths:
        kind = rng.choice(kinds)
        W = [[rng.randint(-grid, grid) for _ in range(n)] for _ in range(K)]
        b = [F(rng.randint(-grid, grid), rng.choice([1, 2, 4])) for _ in range(K)]
        if kind == "relu":
            layers.append(relu_layer(W, b))
        elif kind == "leaky":
            layers.append(relu_layer(W, b, (F(1, 4), 1)))
        elif kind == "abs":
            layers.append(relu_layer(W, b, (-1, 1)))
        else:  # max of 3 random pieces
            A = [[[F(rng.randint(-grid, grid)) for _ in range(n)] for _ in range(3)] for _ in range(K)]
            B = [[F(rng.randint(-grid, grid)) for _ in range(3)] for _ in range(K)]
            layers.append((A, B))
        n = K
    layers.append(affine_layer([[rng.randint(-3, 3) for _ in range(n)]], [1]))
    return layers


def sawtooth_layers(L: int):
    """Telgarsky's sawtooth t^L with t(x) = 2 relu(x) - 4 relu(x - 1/2), read-outs folded."""
    layers = [relu_layer([[1], [1]], [0, F(-1, 2)])]
    for _ in range(L - 1):
        layers.append(relu_layer([[2, -4], [2, -4]], [0, F(-1, 2)]))
    layers.append(affine_layer([[2, -4]], [0]))
    return layers


def general_position(rng: random.Random, D: int, k: int):
    """k integer hyperplanes in general position in R^D (checked exactly) and a box holding
    every intersection point of D of them in its interior."""
    while True:
        W = [[rng.randint(-20, 20) for _ in range(D)] for _ in range(k)]
        b = [rng.randint(-20, 20) for _ in range(k)]
        ok = True
        pts = []
        for sub in combinations(range(k), D):
            M = [[F(v) for v in W[i]] for i in sub]
            x = old_oracle.solve(M, [F(-b[i]) for i in sub])
            if x is None:
                ok = False
                break
            pts.append(x)
        if ok and D < k:
            # no D + 1 of them through one point
            for sub in combinations(range(k), D + 1):
                if old_oracle.det([[F(v) for v in W[i]] + [F(b[i])] for i in sub]) == 0:
                    ok = False
                    break
        if ok:
            R = max([abs(v) for p in pts for v in p] + [F(1)]) + 1
            return W, b, [-R] * D, [R] * D


# ---------------------------------------------------------------------------------------------
# counts from mathematics
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("D,k", [(1, 3), (2, 2), (2, 5), (3, 3), (3, 5), (4, 5), (5, 6), (6, 6)])
def test_arrangement_in_general_position(D, k):
    """k hyperplanes in general position cut R^D into sum_{i<=D} C(k, i) regions; their
    (D-1)-faces, one edge each, number k * sum_{i<=D-1} C(k-1, i)."""
    rng = random.Random(1000 * D + k)
    W, b, lo, hi = general_position(rng, D, k)
    layers = [relu_layer(W, b), affine_layer([[1] * k], [0])]
    res = oracle_regions(layers, lo, hi)
    assert len(res.regions) == sum(math.comb(k, i) for i in range(D + 1))
    assert len(res.edges) == k * sum(math.comb(k - 1, i) for i in range(D))
    assert edge_problems(layers, res) == []
    assert sum(r.volume for r in res.regions) == box_volume(lo, hi)
    # the codes are exactly the sign patterns, and each edge flips exactly one of them
    for pair in res.edges:
        c1, c2 = tuple(pair)
        assert sum(a != b for a, b in zip(c1[0], c2[0])) == 1


@pytest.mark.parametrize("L", [1, 2, 3, 4, 5])
def test_sawtooth(L):
    res = oracle_regions(sawtooth_layers(L), [0], [1])
    assert len(res.regions) == 2**L
    assert len(res.edges) == 2**L - 1
    assert sorted(v for r in res.regions for (v,) in r.vertices) == sorted(
        [F(i, 2**L) for i in range(2**L + 1)] + [F(i, 2**L) for i in range(1, 2**L)]
    )
    for r in res.regions:
        assert r.volume == F(1, 2**L)
        assert abs(r.A[0][0]) == 2**L  # slope +-2^L on every piece


def test_zero_and_identical_pieces_take_the_lowest_code():
    # unit 0: zero row, zero bias -> pieces 0 and 0 identical -> code 0 only
    # unit 1: leaky ReLU with slope 1 -> identical pieces -> code 0 only
    # unit 2: zero row, positive bias -> code 1 everywhere; unit 3: x0 > 1/3 splits
    A = [[[F(0), F(0)], [F(0), F(0)]], [[F(1), F(2)], [F(1), F(2)]], [[F(0), F(0)], [F(0), F(0)]], [[F(0), F(0)], [F(1), F(0)]]]
    B = [[F(0), F(0)], [F(1), F(1)], [F(0), F(1)], [F(0), F(-1, 3)]]
    res = oracle_regions([(A, B), affine_layer([[1, 1, 1, 1]], [0])], [-1, -1], [1, 1])
    assert sorted(r.code for r in res.regions) == [((0, 0, 1, 0), (0,)), ((0, 0, 1, 1), (0,))]
    assert len(res.edges) == 1


def test_max_of_three_sectors():
    """max(x, y, -x - y) on a box centred at 0: three sectors meeting at the origin."""
    A = [[[F(1), F(0)], [F(0), F(1)], [F(-1), F(-1)]]]
    B = [[F(0), F(0), F(0)]]
    res = oracle_regions([(A, B)], [-1, -1], [1, 1])
    assert [r.code for r in res.regions] == [((0,),), ((1,),), ((2,),)]
    assert len(res.edges) == 3
    assert sum(r.volume for r in res.regions) == 4
    # sector of x: x >= y and x >= -x - y: vertices (0,0), (1,1), (1,-1), (1/2,-1)
    assert res.regions[0].vertices == {(F(0), F(0)), (F(1), F(1)), (F(1), F(-1)), (F(1, 2), F(-1))}


def test_concurrent_lines_and_corner_touch():
    """Four lines through the origin (eight sectors) and one line touching only a corner."""
    W = [[1, 0], [0, 1], [1, 1], [1, -1], [1, 1]]
    b = [0, 0, 0, 0, -2]
    res = oracle_regions([relu_layer(W, b), affine_layer([[1, 2, 3, 4, 5]], [0])], [-1, -1], [1, 1])
    assert len(res.regions) == 8
    assert len(res.edges) == 8
    assert all(r.volume == F(1, 2) for r in res.regions)


def test_duplicate_and_negated_hyperplanes_3d():
    """x + y + z = 1/2 three times (once negated) and z = 0: 4 regions, 4 edges."""
    W = [[1, 1, 1], [2, 2, 2], [-1, -1, -1], [0, 0, 1]]
    b = [F(-1, 2), -1, F(1, 2), 0]
    res = oracle_regions([relu_layer(W, b), affine_layer([[1, 1, 1, 1]], [0])], [-1] * 3, [1] * 3)
    assert len(res.regions) == 4
    assert len(res.edges) == 4


# ---------------------------------------------------------------------------------------------
# invariants on random networks
# ---------------------------------------------------------------------------------------------

RANDOM = [(D, seed, kinds) for D in (1, 2, 3, 4, 5) for seed in range(3) for kinds in (("relu",), ("leaky", "abs", "max3"))]


@pytest.mark.parametrize("D,seed,kinds", RANDOM)
def test_invariants_on_random_networks(D, seed, kinds):
    rng = random.Random(f"{D}-{seed}-{kinds}")
    widths = {1: [4, 3], 2: [4, 3], 3: [3, 3], 4: [3, 2], 5: [3]}[D]
    layers = random_net(rng, D, widths, kinds)
    lo = [F(rng.randint(-4, -1), 2) for _ in range(D)]
    hi = [F(rng.randint(1, 4), 2) for _ in range(D)]
    res = oracle_regions(layers, lo, hi)
    # the regions tile the box
    assert sum(r.volume for r in res.regions) == box_volume(lo, hi)
    codes = [r.code for r in res.regions]
    assert len(set(codes)) == len(codes)
    for r in res.regions:
        assert r.volume > 0
        # the map is the forward pass at the interior point, and the point has the code
        y, code = forward(layers, r.point)
        assert code == r.code
        assert list(y) == [sum((a * x for a, x in zip(row, r.point)), bi) for row, bi in zip(r.A, r.b)]
        # strictly inside its H-representation; every vertex on it, every row a facet
        for a, bi in zip(r.A_le, r.b_le):
            assert sum((ai * x for ai, x in zip(a, r.point)), F(0)) < bi
            tight = [v for v in r.vertices if sum((ai * x for ai, x in zip(a, v)), F(0)) == bi]
            assert len(tight) >= D
        for v in r.vertices:
            assert all(sum((ai * x for ai, x in zip(a, v)), F(0)) <= bi for a, bi in zip(r.A_le, r.b_le))
            # continuity: the region's map is the network on the closure
            y, _ = forward(layers, v)
            assert list(y) == [sum((a * x for a, x in zip(row, v)), bi) for row, bi in zip(r.A, r.b)]
    # random rational points land in a region with their code
    by_code = res.by_code()
    for _ in range(20):
        x = [lo[i] + (hi[i] - lo[i]) * F(rng.randint(1, 999), 1000) for i in range(D)]
        _, code = forward(layers, x)
        if code in by_code:
            r = by_code[code]
            assert all(sum((ai * xi for ai, xi in zip(a, x)), F(0)) <= bi for a, bi in zip(r.A_le, r.b_le))
    # every edge re-checked from the forward pass (shared face, codes on both sides)
    assert edge_problems(layers, res) == []
    # an edge joins two regions whose closures share a face: some pair of opposite facet rows
    for pair in res.edges:
        c1, c2 = tuple(pair)
        rows1, rows2 = set(by_code[c1].rows), set(by_code[c2].rows)
        assert any(tuple(-v for v in row) in rows2 for row in rows1)


@pytest.mark.parametrize("seed", range(6))
def test_prism_keeps_counts_and_adjacency(seed):
    """A 2-D net lifted to 3-D by a zero column: the same codes and edges; volumes times the height."""
    rng = random.Random(seed)
    layers2 = random_net(rng, 2, [4, 3], ("relu", "abs", "max3"))
    A0, B0 = layers2[0]
    layers3 = [([[piece + [F(0)] for piece in unit] for unit in A0], B0)] + layers2[1:]
    r2 = oracle_regions(layers2, [-1, -1], [1, 1])
    r3 = oracle_regions(layers3, [-1, -1, 0], [1, 1, F(1, 3)])
    assert [r.code for r in r2.regions] == [r.code for r in r3.regions]
    assert r2.edges == r3.edges
    for a, b in zip(r2.regions, r3.regions):
        assert b.volume == a.volume / 3
        assert len(b.vertices) == 2 * len(a.vertices)


@pytest.mark.parametrize("seed", range(8))
def test_agrees_with_the_1d_to_3d_oracle(seed):
    """Same regions as tests/oracle.py (an independent implementation) on ReLU networks."""
    rng = random.Random(100 + seed)
    D = 1 + seed % 3
    Ws, bs = [], []
    n = D
    for K in ([4, 3] if D < 3 else [3, 3]):
        Ws.append([[rng.randint(-3, 3) for _ in range(n)] for _ in range(K)])
        bs.append([F(rng.randint(-3, 3), 2) for _ in range(K)])
        n = K
    Ws.append([[rng.randint(-3, 3) for _ in range(n)]])
    bs.append([F(1)])
    layers = [relu_layer(W, b) for W, b in zip(Ws[:-1], bs[:-1])] + [affine_layer(Ws[-1], bs[-1])]
    lo, hi = [F(-1)] * D, [F(1)] * D
    res = oracle_regions(layers, lo, hi)
    cells = old_oracle.oracle_cells(Ws, bs, lo, hi)
    assert {r.code for r in res.regions} == set(cells)
    for r in res.regions:
        c = cells[r.code]
        assert r.volume == c.measure
        assert r.vertices == {tuple(v) for v in c.vertices}
        assert [list(row) for row in r.A] == [list(row) for row in c.A] and list(r.b) == list(c.b)


def test_polytope_domain_simplex():
    """On the standard simplex of R^3 the volumes sum to 1/6; a plane through a vertex."""
    A = [[-1, 0, 0], [0, -1, 0], [0, 0, -1], [1, 1, 1]]
    b = [0, 0, 0, 1]
    layers = [relu_layer([[1, -1, 0], [0, 0, 1]], [0, F(-1, 2)]), affine_layer([[1, 1]], [0])]
    res = oracle_regions(layers, A=A, b=b)
    assert sum(r.volume for r in res.regions) == F(1, 6)
    assert len(res.regions) == 4
    assert len(res.edges) == 4


def test_polytope_domain_unbounded_is_rejected():
    with pytest.raises(ValueError, match="unbounded"):
        oracle_regions([affine_layer([[1, 1]], [0])], A=[[-1, 0], [0, -1], [1, -1]], b=[0, 0, 1])


def test_huge_and_tiny_numbers_are_exact():
    """Rows mixing 1e200 and 1e-200: the regions are those of the rescaled problem."""
    big, tiny = F(1e200), F(1e-200)
    W = [[big, tiny], [tiny, -big]]
    b = [tiny, F(0)]
    res = oracle_regions([relu_layer(W, b), affine_layer([[big, tiny]], [0])], [-1, -1], [1, 1])
    assert len(res.regions) == 4
    assert sum(r.volume for r in res.regions) == 4
