"""Exact class pieces and decision boundary (exactmaso.boundary), against brute-force oracles.

The oracles use only the exact forward pass ``net(x)`` and each region's exact polytope: a
region's affine map is read off forward passes at exact points inside it, polygons are cut out
by trying every pair of lines in Fractions, and classes are the arg-max with the lowest index on
ties (for one output: class 1 iff f > 0).
"""

from __future__ import annotations

import itertools
import random
from fractions import Fraction as F

import pytest

import exactmaso as em
from exactmaso import boundary
from exactmaso.graph import BoundaryPiece

from conftest import make_random_mlp


# -- oracles -------------------------------------------------------------------------------


def label_of(y) -> int:
    """The class of outputs ``y``: arg-max, lowest index on ties; one output: 1 iff y > 0."""
    y = list(y)
    if len(y) == 1:
        return 1 if y[0] > 0 else 0
    return max(range(len(y)), key=lambda c: (y[c], -c))


def top_classes(y) -> set[int]:
    """Every class that attains the maximum score (ties allowed on the boundary)."""
    y = list(y)
    if len(y) == 1:
        return {1} if y[0] > 0 else ({0} if y[0] < 0 else {0, 1})
    m = max(y)
    return {c for c, v in enumerate(y) if v == m}


def region_rows(region):
    """The region as rows (a, c) with a . x + c >= 0, from its exact polytope A x <= b."""
    P = region.polytope
    return [tuple(-F(v) for v in P.A[i]) + (F(P.b[i]),) for i in range(P.A.shape[0])]


def affine_from_forward(net, region):
    """The exact affine map of ``net`` on ``region`` from D + 1 forward passes inside it."""
    p = [F(v) for v in region.point]
    rows = region_rows(region)
    D = len(p)
    f0 = list(net(p))
    cols = []
    for j in range(D):
        t = F(1)
        while True:  # halve until p + t e_j is strictly inside
            q = list(p)
            q[j] += t
            if all(sum(r[i] * q[i] for i in range(D)) + r[D] > 0 for r in rows):
                break
            t /= 2
        fq = list(net(q))
        cols.append([(a - b) / t for a, b in zip(fq, f0)])
    A = [[cols[j][c] for j in range(D)] for c in range(len(f0))]
    b = [f0[c] - sum(A[c][j] * p[j] for j in range(D)) for c in range(len(f0))]
    return A, b


def scores(A, b):
    """Score rows (a, c): the outputs, or (0, f) for one output."""
    rows = [tuple(A[c]) + (b[c],) for c in range(len(b))]
    if len(rows) == 1:
        rows = [tuple(F(0) for _ in rows[0])] + rows
    return rows


def polygon_vertices(rows):
    """Exact vertices of {x in R^2 : r(x) >= 0 for r in rows} by trying every pair of lines."""
    out = set()
    for r, s in itertools.combinations(rows, 2):
        det = r[0] * s[1] - r[1] * s[0]
        if det == 0:
            continue
        x = (-r[2] * s[1] + s[2] * r[1]) / det
        y = (-r[0] * s[2] + s[0] * r[2]) / det
        if all(t[0] * x + t[1] * y + t[2] >= 0 for t in rows):
            out.add((x, y))
    return out


def area(points):
    """Exact area of the convex hull of points (exact angular order around the centroid)."""
    pts = list(points)
    if len(pts) < 3:
        return F(0)
    cx = sum(p[0] for p in pts) / len(pts)
    cy = sum(p[1] for p in pts) / len(pts)

    def key(p):
        dx, dy = p[0] - cx, p[1] - cy
        half = 0 if (dy > 0 or (dy == 0 and dx > 0)) else 1
        return half, p

    # insertion by cross products inside each half-plane
    from functools import cmp_to_key

    def cmp(p, q):
        hp, hq = key(p)[0], key(q)[0]
        if hp != hq:
            return hp - hq
        cross = (p[0] - cx) * (q[1] - cy) - (p[1] - cy) * (q[0] - cx)
        return -1 if cross > 0 else (1 if cross < 0 else 0)

    pts.sort(key=cmp_to_key(cmp))
    n = len(pts)
    return abs(sum(pts[i][0] * pts[(i + 1) % n][1] - pts[(i + 1) % n][0] * pts[i][1] for i in range(n))) / 2


def affine_rank(points) -> int:
    """Exact rank of the differences to the first point (Gaussian elimination in Fractions)."""
    rows = [[F(a) - F(b) for a, b in zip(p, points[0])] for p in points[1:]]
    rank = 0
    for col in range(len(points[0])):
        pivot = next((i for i in range(rank, len(rows)) if rows[i][col] != 0), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for i in range(len(rows)):
            if i != rank and rows[i][col] != 0:
                f = rows[i][col] / rows[rank][col]
                rows[i] = [a - f * b for a, b in zip(rows[i], rows[rank])]
        rank += 1
    return rank


def representatives(S):
    """Score indices that no lower index equals (exactly) on the region."""
    return [k for k in range(len(S)) if all(S[c] != S[k] for c in range(k))]


def oracle_class_areas(net, region):
    """{class: exact area} of the region's class pieces, by brute force."""
    A, b = affine_from_forward(net, region)
    S = scores(A, b)
    reps = representatives(S)
    base = region_rows(region)
    out = {}
    for c in reps:
        rows = base + [tuple(p - q for p, q in zip(S[c], S[k])) for k in reps if k != c]
        a = area(polygon_vertices(rows))
        if a > 0:
            out[c] = a
    return out


def oracle_ties(net, region):
    """{(i, j): endpoints} of the (1-D) tie sets f_i = f_j >= f_k in the region, over
    representatives, brute force; for one output the zero set of f (key (0,))."""
    A, b = affine_from_forward(net, region)
    S = scores(A, b)
    reps = representatives(S)
    base = region_rows(region)
    out = {}
    for i, j in itertools.combinations(reps, 2):
        h = tuple(p - q for p, q in zip(S[i], S[j]))
        if h[0] == h[1] == 0:
            continue
        rows = base + [tuple(p - q for p, q in zip(S[i], S[k])) for k in reps if k not in (i, j)]
        pts = {v for v in polygon_vertices(rows + [h, tuple(-t for t in h)])}
        if len(pts) >= 2:
            key = (0,) if len(b) == 1 else (i, j)
            out[key] = (min(pts), max(pts))
    return out


# -- networks ------------------------------------------------------------------------------


def random_int_net(rng: random.Random, D: int = 2):
    vals = [F(v) for v in (-2, -1, 0, 0, 1, 2)] + [F(1, 2), F(-1, 2)]
    widths = [D, rng.randint(1, 5)] + ([rng.randint(1, 3)] if rng.random() < 0.5 else []) + [rng.choice([1, 2, 3, 4])]
    W = [[[rng.choice(vals) for _ in range(widths[i])] for _ in range(widths[i + 1])] for i in range(len(widths) - 1)]
    B = [[rng.choice(vals) for _ in range(widths[i + 1])] for i in range(len(widths) - 1)]
    return em.mlp(W, B)


GENERIC = [([2, 6, 6, 3], 6, 2), ([2, 8, 4], 2, 2), ([2, 5, 5, 1], 3, 3), ([2, 6, 6, 10], 4, F(1, 2))]


@pytest.fixture(scope="module", params=GENERIC, ids=lambda p: f"{p[0]}-seed{p[1]}")
def generic(request):
    widths, seed, h = request.param
    net = make_random_mlp(widths, seed)
    return net, em.regions(net, em.Box([-h, -h], [h, h]))


# -- class pieces --------------------------------------------------------------------------


def check_pieces(net, part, pieces):
    """Every piece inside its region, of one class there (exactly), one piece per class and
    region, and the pieces' exact areas are the oracle's."""
    by_region: dict[int, dict[int, F]] = {}
    for p in pieces:
        region = part[p.region]
        rows = region_rows(region)
        for v in p.vertices:
            assert all(sum(r[j] * v[j] for j in range(2)) + r[2] >= 0 for r in rows), "vertex outside its region"
            assert p.label in top_classes(net(list(v))), f"class {p.label} is not on top at vertex {v}"
        assert all(sum(r[j] * p.point[j] for j in range(2)) + r[2] > 0 for r in rows)
        assert label_of(net(list(p.point))) == p.label
        assert p.label not in by_region.setdefault(p.region, {})
        by_region[p.region][p.label] = p.volume()
    for region in part:
        got = by_region.get(region.index, {})
        assert sum(got.values()) == region.volume()
        assert got == oracle_class_areas(net, region)


def test_class_pieces_generic(generic):
    net, part = generic
    pieces = boundary.class_pieces(part)
    check_pieces(net, part, pieces)
    for p in pieces:  # 2-D vertices are counter-clockwise
        V = p.vertices
        n = len(V)
        assert all((V[(i + 1) % n][0] - V[i][0]) * (V[(i + 2) % n][1] - V[i][1])
                   - (V[(i + 1) % n][1] - V[i][1]) * (V[(i + 2) % n][0] - V[i][0]) > 0 for i in range(n))


def test_class_pieces_of_degenerate_integer_nets():
    rng = random.Random(7)
    for _ in range(25):
        net = random_int_net(rng)
        part = em.regions(net, em.Box([-1, -1], [1, 1]))
        check_pieces(net, part, boundary.class_pieces(part))


def test_class_piece_polytope_and_volume():
    """Outputs relu(x) - relu(y) and its negative: class 0 where relu(x) >= relu(y), which
    holds on x > 0 > y (area 1), on half of the first quadrant (1/2) and, by the tie-break, on
    the third quadrant where both outputs vanish (1); class 1 on the rest (3/2)."""
    net = em.mlp([[[1, 0], [0, 1]], [[1, -1], [-1, 1]]])
    part = em.regions(net, em.Box([-1, -1], [1, 1]))
    pieces = boundary.class_pieces(part)
    assert sum(p.volume() for p in pieces if p.label == 0) == F(5, 2)
    assert sum(p.volume() for p in pieces if p.label == 1) == F(3, 2)
    for p in pieces:
        assert p.polytope.volume() == p.volume()
        assert p.polytope.contains_interior(p.point)


# -- the decision boundary -----------------------------------------------------------------


def piece_key(p):
    return p.region, tuple(p.outputs), (min(map(tuple, p.vertices)), max(map(tuple, p.vertices)))


def test_boundary_equals_the_brute_force_oracle(generic):
    net, part = generic
    got = sorted(piece_key(p) for p in boundary.decision_boundary(part))
    want = sorted((r.index, k, ends) for r in part for k, ends in oracle_ties(net, r).items())
    assert want and got == want


def check_boundary_piece(net, part, p):
    assert isinstance(p, BoundaryPiece)
    rows = region_rows(part[p.region])
    D = 2
    for v in p.vertices:
        y = list(net(list(v)))
        if len(y) == 1:
            assert y[0] == 0
        else:
            i, j = p.outputs
            assert y[i] == y[j] == max(y)
        assert all(sum(r[k] * v[k] for k in range(D)) + r[D] >= 0 for r in rows)
        assert sum(F(p.row[k]) * v[k] for k in range(D)) + F(p.row[D]) == 0


def test_boundary_of_degenerate_integer_nets():
    """Ties between identical outputs, triple ties, zero sets on facets: every piece returned
    is a tie set inside its region, and every tie set of the oracle that bounds a class piece
    of the region is returned."""
    rng = random.Random(11)
    for _ in range(25):
        net = random_int_net(rng)
        part = em.regions(net, em.Box([-1, -1], [1, 1]))
        got = boundary.decision_boundary(part)
        keys = {piece_key(p) for p in got}
        for p in got:
            check_boundary_piece(net, part, p)
        for r in part:
            classes = oracle_class_areas(net, r)
            for k, ends in oracle_ties(net, r).items():
                if net.output_dim == 1 or k[0] in classes or k[1] in classes:
                    assert (r.index, k, ends) in keys


def test_graph_and_partition_hand_off(generic):
    net, part = generic
    ours = [piece_key(p) for p in boundary.decision_boundary(part)]
    assert [piece_key(p) for p in part.decision_boundary()] == ours
    assert [piece_key(p) for p in em.graph.decision_boundary(part)] == ours


def test_one_output_zero_region():
    """f = relu(x) - relu(x) + relu(y): zero on the whole half y <= 0 (reported with all its
    vertices, class 0), positive above (class 1)."""
    net = em.mlp([[[0, 1]], [[1]]])
    part = em.regions(net, em.Box([-1, -1], [1, 1]))
    pieces = boundary.class_pieces(part)
    assert sorted((p.label, p.volume()) for p in pieces) == [(0, 2), (1, 2)]
    zero = [p for p in boundary.decision_boundary(part) if len(p.vertices) > 2]
    assert len(zero) == 1 and all(v == 0 for v in zero[0].row)
    assert {tuple(v) for v in zero[0].vertices} == {tuple(v) for v in part[zero[0].region].vertices()}


def test_ties_below_float_resolution_are_exact():
    """Outputs (x0 + 2) and (x0 + 2) + eps (x1 - 1/3) with eps = 2^-70 on one region: floats
    cannot tell the two apart; exactly, class 1 is the part above x1 = 1/3."""
    eps = F(1, 2**70)
    net = em.mlp([[[1, 0], [0, 1]], [[1, 0], [1, eps]]], [[2, 2], [0, -eps * F(7, 3)]])
    part = em.regions(net, em.Box([-1, -1], [1, 1]))
    assert len(part) == 1
    pieces = boundary.class_pieces(part)
    check_pieces(net, part, pieces)
    assert sorted((p.label, p.volume()) for p in pieces) == [(0, F(8, 3)), (1, F(4, 3))]
    (piece,) = boundary.decision_boundary(part)
    check_boundary_piece(net, part, piece)
    assert [tuple(v) for v in piece.vertices] == [(-1, F(1, 3)), (1, F(1, 3))]


def test_coefficients_beyond_float_range():
    """Weights of 2^1100 overflow floats: the filter declines and the exact phase decides."""
    big = F(2) ** 1100
    net = em.mlp([[[1, 0], [0, 1]], [[big, 0], [0, big]]])
    part = em.regions(net, em.Box([-1, -1], [1, 1]))
    check_pieces(net, part, boundary.class_pieces(part))
    for p in boundary.decision_boundary(part):
        check_boundary_piece(net, part, p)
    assert boundary.decision_boundary(part)


@pytest.mark.parametrize("D", [1, 3])
def test_other_dimensions(D):
    """1-D and 3-D: pieces tile each region (exact volumes), their classes hold at every vertex
    and at the interior point, and each boundary piece is a tie set of dimension D - 1."""
    rng = random.Random(D)
    for _ in range(6):
        net = random_int_net(rng, D)
        part = em.regions(net, em.Box([-1] * D, [1] * D))
        pieces = boundary.class_pieces(part)
        vol: dict[int, F] = {}
        for p in pieces:
            vol[p.region] = vol.get(p.region, F(0)) + p.volume()
            assert label_of(net(list(p.point))) == p.label
            assert p.polytope.contains_interior(p.point)
            for v in p.vertices:
                assert part[p.region].polytope.contains(v)
                assert p.label in top_classes(net(list(v)))
        assert all(vol[r.index] == r.volume() for r in part)
        for p in boundary.decision_boundary(part):
            for v in p.vertices:
                y = list(net(list(v)))
                assert (y[0] == 0) if len(y) == 1 else (y[p.outputs[0]] == y[p.outputs[1]] == max(y))
            if any(v != 0 for v in p.row):  # not a whole zero region
                assert affine_rank(p.vertices) == D - 1


def test_convex_polygon_orders_exactly():
    rng = random.Random(3)
    square = [(F(0), F(0)), (F(1), F(0)), (F(1), F(1)), (F(0), F(1))]
    thin = [(F(0), F(0)), (F(1), F(1, 2**80)), (F(2), F(0)), (F(1), F(-1, 2**80))]  # float angles would tie
    for pts in (square, thin):
        for _ in range(5):
            shuffled = pts[:]
            rng.shuffle(shuffled)
            V = boundary.convex_polygon(shuffled)
            n = len(V)
            assert sorted(map(tuple, V)) == sorted(pts)
            assert all((V[(i + 1) % n][0] - V[i][0]) * (V[(i + 2) % n][1] - V[i][1])
                       - (V[(i + 1) % n][1] - V[i][1]) * (V[(i + 2) % n][0] - V[i][0]) > 0 for i in range(n))


def test_num_classes():
    assert boundary.num_classes(em.mlp([[[1, 1]]])) == 2
    assert boundary.num_classes(em.mlp([[[1, 1], [1, 0], [0, 1]]])) == 3
