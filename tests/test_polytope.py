"""Tests for exactmaso.polytope: exact vertices, facets, volumes, interior points."""

from __future__ import annotations

import itertools
import math
import copy
import copy
from fractions import Fraction

import flint
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.spatial import ConvexHull, Delaunay

from exactmaso.errors import DomainError, ShapeError
from exactmaso.polytope import Box, Polytope

F = Fraction


# --------------------------------------------------------------------------------------
# independent exact oracles, written for the tests only
# --------------------------------------------------------------------------------------


def hull_hrep(points: list[tuple[int, ...]]) -> tuple[list[list[Fraction]], list[Fraction], set[tuple]]:
    """Exact H-representation of the convex hull of integer points in general position.

    qhull proposes the facets (D points each); each hyperplane is recomputed exactly through
    its points and checked exactly against all points. Returns (A, b, hull vertices).
    """
    D = len(points[0])
    hull = ConvexHull(np.array(points, dtype=float))
    A, b = [], []
    for simplex in hull.simplices:
        M = flint.fmpz_mat([list(points[i]) + [-1] for i in simplex])
        N, nullity = M.nullspace()
        assert nullity == 1
        a = [int(N[j, 0]) for j in range(D)]
        beta = int(N[D, 0])
        vals = [sum(x * y for x, y in zip(a, p)) for p in points]
        if max(vals) > beta:  # orient outwards
            a, beta, vals = [-v for v in a], -beta, [-v for v in vals]
        assert max(vals) == beta, "qhull facet is not a supporting hyperplane"
        A.append([F(v) for v in a])
        b.append(F(beta))
    verts = {tuple(points[i]) for i in hull.vertices}
    return A, b, verts


def delaunay_volume(points: list[tuple[int, ...]]) -> Fraction:
    """Exact volume of conv(points) by summing |det| over a Delaunay triangulation."""
    D = len(points[0])
    tri = Delaunay(np.array(points, dtype=float))
    total = 0
    for s in tri.simplices:
        p0 = points[s[0]]
        M = flint.fmpz_mat([[points[i][j] - p0[j] for j in range(D)] for i in s[1:]])
        total += abs(int(M.det()))
    return F(total, math.factorial(D))


def shoelace(vertices: list[tuple[Fraction, Fraction]]) -> Fraction:
    """Exact area of a convex polygon (vertices in any order)."""
    cx = sum(v[0] for v in vertices) / len(vertices)
    cy = sum(v[1] for v in vertices) / len(vertices)
    ordered = sorted(vertices, key=lambda v: math.atan2(float(v[1] - cy), float(v[0] - cx)))
    s = F(0)
    for (x0, y0), (x1, y1) in zip(ordered, ordered[1:] + ordered[:1]):
        s += x0 * y1 - x1 * y0
    return abs(s) / 2


def random_points(rng: np.random.Generator, D: int, n: int, scale: int = 1000) -> list[tuple[int, ...]]:
    return [tuple(int(v) for v in row) for row in rng.integers(-scale, scale + 1, size=(n, D))]


def as_tuples(V: np.ndarray) -> list[tuple]:
    return [tuple(r) for r in V.tolist()]


# --------------------------------------------------------------------------------------
# basic shapes
# --------------------------------------------------------------------------------------


def test_unit_square_and_boxes():
    assert Box([0, 0], [1, 1]).volume() == F(1)
    assert Box(["-1/2", 0, 1], [F(1, 2), 3, 2]).volume() == F(3)
    sq = Box([0, 0], [1, 1])
    assert as_tuples(sq.vertices()) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert isinstance(sq, Polytope)
    assert sq.interior_point().tolist() == [F(1, 2), F(1, 2)]
    # the generic machinery agrees with the Box shortcuts
    P = Polytope(sq.A, sq.b)
    assert P == sq and P.equals(sq)
    assert P.volume() == 1
    assert as_tuples(P.vertices()) == as_tuples(sq.vertices())
    assert P.vertex_incidence() == sq.vertex_incidence()
    assert Polytope(Box([0] * 4, [1, 2, 3, 4]).A, Box([0] * 4, [1, 2, 3, 4]).b).volume() == 24


def test_box_rejects_empty_or_flat():
    with pytest.raises(DomainError, match="lo\\[1\\]"):
        Box([0, 1], [1, 1])
    with pytest.raises(ShapeError):
        Box([0, 0], [1])


@pytest.mark.parametrize("D", [1, 2, 3, 4, 5])
def test_simplex_volume(D):
    A = np.vstack([-np.eye(D, dtype=int), np.ones((1, D), dtype=int)])
    S = Polytope(A, [0] * D + [1])
    assert S.volume() == F(1, math.factorial(D))
    assert S.num_vertices == D + 1
    assert S.contains_interior(S.interior_point())


def test_doc_example_and_incidence():
    P = Polytope([[1, 0], [0, 1], [-1, -1]], [1, 1, 0])
    assert P.volume() == 2
    assert as_tuples(P.vertices()) == [(-1, 1), (1, -1), (1, 1)]
    assert P.vertex_incidence() == (frozenset({1, 2}), frozenset({0, 2}), frozenset({0, 1}))
    assert P.facet_rows() == (0, 1, 2)
    assert P.facet_vertices() == ((1, 2), (0, 2), (0, 1))


# --------------------------------------------------------------------------------------
# degenerate inputs
# --------------------------------------------------------------------------------------


def test_duplicate_multiple_and_redundant_rows():
    A = [[1, 0], [0, 1], [-1, 0], [0, -1], [2, 0], [1, 0], [1, 1], [F(1, 3), 0], [3, 3]]
    b = [1, 1, 0, 0, 2, 1, 5, F(1, 3), 6]  # rows 4, 5, 7 repeat row 0; 6 redundant; 8 touches (1,1)
    P = Polytope(A, b)
    assert P.volume() == 1
    assert P.facet_rows() == (0, 1, 2, 3)
    Q = P.irredundant()
    assert Q.num_rows == 4
    assert Q.A.tolist() == [[1, 0], [0, 1], [-1, 0], [0, -1]] and Q.b.tolist() == [1, 1, 0, 0]
    assert Q.equals(Box([0, 0], [1, 1])) and P.equals(Box([0, 0], [1, 1]))
    assert not P == Box([0, 0], [1, 1])  # same set, different representation
    top = P.vertex_incidence()[-1]  # vertex (1, 1): rows 0, 1, 4, 5, 7 and 8 are tight
    assert top == frozenset({0, 1, 4, 5, 7, 8})
    assert Q.volume() == 1


def test_pyramid_apex_and_octahedron():
    # square pyramid: 4 facets meet at the apex
    A = [[0, 0, -1], [2, 0, 1], [-2, 0, 1], [0, 2, 1], [0, -2, 1]]
    b = [0, 2, 2, 2, 2]
    P = Polytope(A, b)
    V = as_tuples(P.vertices())
    assert (0, 0, 2) in V and len(V) == 5
    apex = V.index((0, 0, 2))
    assert P.vertex_incidence()[apex] == frozenset({1, 2, 3, 4})
    assert P.volume() == F(8, 3)  # base 4, height 2
    # octahedron |x| + |y| + |z| <= 1: 4 facets at every vertex
    rows = [list(s) for s in itertools.product([-1, 1], repeat=3)]
    O = Polytope(rows, [1] * 8)
    assert O.num_vertices == 6 and O.num_facets == 8
    assert all(len(inc) == 4 for inc in O.vertex_incidence())
    assert O.volume() == F(4, 3)
    # cross-polytope in 4-D: volume 2^4 / 4!
    rows4 = [list(s) for s in itertools.product([-1, 1], repeat=4)]
    assert Polytope(rows4, [1] * 16).volume() == F(16, 24)
    # 4-cube given with every facet twice, scaled
    C = Box([-1] * 4, [1] * 4)
    C2 = Polytope(np.vstack([C.A, 3 * C.A]), np.concatenate([C.b, 3 * C.b]))
    assert C2.volume() == 16 and C2.num_facets == 8 and C2.num_vertices == 16


def test_unbounded_empty_flat_raise_with_certificates():
    cases = {
        "unbounded": ([[1, 0], [0, 1]], [1, 1]),
        "unbounded ": ([[1, 1], [-1, -1]], [1, 1]),  # rank-deficient (a strip)
        "unbounded  ": ([[1, 0], [-1, 0], [0, 1]], [1, 1, 1]),
        "empty": ([[1, 0], [-1, 0], [0, 1], [0, -1]], [1, -2, 1, 1]),
        "empty ": ([[0, 0], [1, 0], [-1, 0], [0, 1], [0, -1]], [-1, 1, 1, 1, 1]),
        "empty  ": ([[1, 1], [-1, -1]], [1, -2]),
        "flat": ([[1, 0], [-1, 0], [0, 1], [0, -1]], [1, 0, 0, 0]),
        "flat ": ([[1, 1, 0], [-1, -1, 0], [1, 0, 0], [-1, 0, 0], [0, 0, 1], [0, 0, -1]], [1, -1, 1, 1, 1, 1]),
    }
    for kind, (A, b) in cases.items():
        with pytest.raises(DomainError) as info:
            Polytope(A, b)
        assert info.value.kind == kind.strip()
        assert kind.strip() in str(info.value)
        if info.value.certificate is not None:
            info.value.certificate.verify()
        else:
            assert kind.strip() != "unbounded"  # unbounded always carries (x0, d)
    with pytest.raises(DomainError, match="unbounded"):
        Polytope(np.zeros((0, 2)), [])
    with pytest.raises(ValueError):  # DomainError is a ValueError
        Polytope([[1.0, float("nan")]], [1])


def test_unchecked_bad_set_raises_on_use():
    P = Polytope([[1, 0], [0, 1]], [1, 1], check=False)
    with pytest.raises(DomainError, match="unbounded"):
        P.vertices()


# --------------------------------------------------------------------------------------
# interior points
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [1e-12, F(1, 10**30)])
def test_interior_point_thin(width):
    thin = Polytope([[1, 0], [-1, 0], [0, 1], [0, -1]], [1, 0, width, 0])
    x = thin.interior_point()
    assert thin.contains_interior(x)
    thin.interior_certificate().verify()
    assert thin.volume() == F(width)
    # a thin tilted slab cut by a box
    w = F(width)
    tilted = Polytope([[1, 1], [-1, -1], [1, 0], [-1, 0], [0, 1], [0, -1]], [1 + w, -1, 1, 0, 1, 0])
    x = tilted.interior_point()
    assert tilted.contains_interior(x) and 1 < x[0] + x[1] < 1 + w


def test_contains_is_closed_and_exact():
    P = Box([0, 0], [1, 1])
    assert P.contains([1, 1]) and not P.contains_interior([1, 1])
    assert P.contains(["1/2", 1]) and not P.contains([F(1), 1 + F(1, 10**40)])
    assert P.contains_interior([F(1, 10**40), F(1, 2)])
    with pytest.raises(ShapeError):
        P.contains([1, 1, 1])


# --------------------------------------------------------------------------------------
# random rational polytopes against independent exact oracles
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("D,n,seed", [(2, 12, 0), (2, 30, 1), (3, 12, 2), (3, 25, 3), (4, 12, 4), (4, 20, 5)])
def test_random_hulls(D, n, seed):
    rng = np.random.default_rng(seed)
    pts = random_points(rng, D, n)
    A, b, hull_vertices = hull_hrep(pts)
    P = Polytope(A, b)
    assert set(as_tuples(P.vertices())) == hull_vertices
    assert as_tuples(P.vertices()) == sorted(as_tuples(P.vertices()))
    assert P.volume() == delaunay_volume(pts)
    if D == 2:
        assert P.volume() == shoelace(as_tuples(P.vertices()))
    # incidences are exact: each listed row is tight, every other row is strict
    for v, inc in zip(P.vertices(), P.vertex_incidence()):
        for i in range(len(A)):
            lhs = sum(a * x for a, x in zip(A[i], v))
            assert (lhs == b[i]) == (i in inc) and lhs <= b[i]
    # the cut identity: two halves through the interior point sum to the whole exactly
    c = [F(int(v)) for v in rng.integers(-5, 6, size=D)]
    if any(c):
        p = P.interior_point()
        level = sum(ci * pi for ci, pi in zip(c, p))
        lower = Polytope(A + [c], b + [level])
        upper = Polytope(A + [[-ci for ci in c]], b + [-level])
        assert lower.volume() + upper.volume() == P.volume()
    # adding redundant rows changes nothing but the representation
    extra_A = [[F(int(v)) for v in rng.integers(-3, 4, size=D)] for _ in range(5)]
    extra_b = [max(sum(a * x for a, x in zip(row, v)) for v in P.vertices()) + k % 2 for k, row in enumerate(extra_A)]
    R = Polytope(A + extra_A + [[2 * a for a in A[0]]], b + extra_b + [2 * b[0]])
    assert R.equals(P) and R.volume() == P.volume()
    assert R.irredundant().num_rows == P.irredundant().num_rows == len(A) or D > 2
    assert R.canonical() == P.canonical()


def test_random_simplicial_facets_counted_once():
    # in 3-D and 4-D, qhull may split a facet: hull_hrep then holds duplicate rows
    rng = np.random.default_rng(11)
    pts = random_points(rng, 3, 8, scale=2)  # small integers: many coplanar points
    pts = list(set(pts))
    try:
        A, b, hull_vertices = hull_hrep(pts)
    except AssertionError:
        pytest.skip("qhull proposed a non-supporting facet on this degenerate input")
    P = Polytope(A, b)
    assert set(as_tuples(P.vertices())) == hull_vertices
    assert P.volume() == delaunay_volume(pts)
    assert len({tuple(r) for r in P.irredundant().A.tolist()}) == P.num_facets


def test_integer_box_with_diagonal_cuts_4d():
    C = Box([0] * 4, [2] * 4)
    # cut the corner x0 + x1 + x2 + x3 <= 1 off a [0,2]^4 box: remove a simplex of volume 1/24
    P = Polytope(np.vstack([C.A, [[-1, -1, -1, -1]]]), np.concatenate([C.b, [F(-1)]]))
    assert P.volume() == 16 - F(1, 24)
    assert P.num_vertices == 16 - 1 + 4


# --------------------------------------------------------------------------------------
# hypothesis: exact invariants
# --------------------------------------------------------------------------------------

fractions = st.fractions(min_value=-10, max_value=10, max_denominator=50)


@st.composite
def boxes_with_cuts(draw, D):
    lo = [draw(fractions) for _ in range(D)]
    hi = [l + draw(st.fractions(min_value=F(1, 100), max_value=5, max_denominator=100)) for l in lo]
    box = Box(lo, hi)
    k = draw(st.integers(0, 4))
    cuts = []
    centre = box.interior_point()
    for _ in range(k):
        a = [draw(st.integers(-3, 3)) for _ in range(D)]
        if not any(a):
            continue
        # the cut passes strictly beyond the centre: the centre stays interior
        slack = draw(st.fractions(min_value=F(1, 1000), max_value=3, max_denominator=1000))
        cuts.append((a, sum(F(x) * c for x, c in zip(a, centre)) + slack))
    A = np.vstack([box.A] + [np.array([[F(x) for x in a]], dtype=object) for a, _ in cuts])
    b = np.concatenate([box.b, np.array([beta for _, beta in cuts], dtype=object)])
    return Polytope(A, b)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(2, 3).flatmap(lambda D: st.tuples(boxes_with_cuts(D), st.lists(st.integers(-4, 4), min_size=D, max_size=D), fractions)))
def test_hypothesis_invariants(args):
    P, c, t = args
    D = P.dim
    V = P.vertices()
    assert all(P.contains(v) and not P.contains_interior(v) for v in V)
    x = P.interior_point()
    assert P.contains_interior(x)
    vol = P.volume()
    assert vol > 0
    if D == 2:
        assert vol == shoelace(as_tuples(V))
    # translation invariance
    shift = [t] * D
    Q = Polytope(P.A, P.b + P.A @ np.array(shift, dtype=object))
    assert Q.volume() == vol
    # scaling rows by positive factors: same set
    S = Polytope(P.A * F(7, 3), P.b * F(7, 3))
    assert S.equals(P) and S.volume() == vol
    # a hyperplane through the interior point splits the volume exactly
    if any(c):
        level = sum(F(ci) * xi for ci, xi in zip(c, x))
        lower = Polytope(np.vstack([P.A, [[F(ci) for ci in c]]]), np.append(P.b, level))
        upper = Polytope(np.vstack([P.A, [[F(-ci) for ci in c]]]), np.append(P.b, -level))
        assert lower.volume() + upper.volume() == vol
    # irredundant form: the same vertices and volume
    I = P.irredundant()
    assert as_tuples(I.vertices()) == as_tuples(V) and I.volume() == vol


def test_monte_carlo_sanity_3d():
    rng = np.random.default_rng(7)
    pts = random_points(rng, 3, 15, scale=10)
    A, b, _ = hull_hrep(pts)
    P = Polytope(A, b)
    Af = np.array(A, dtype=float)
    bf = np.array(b, dtype=float)
    lo, hi = np.min(pts, axis=0), np.max(pts, axis=0)
    X = rng.uniform(lo, hi, size=(200_000, 3))
    frac = np.mean(np.all(X @ Af.T <= bf, axis=1))
    assert float(P.volume()) == pytest.approx(frac * np.prod(hi - lo), rel=0.02)


def test_hash_eq_copy():
    P = Box([0, 0], [1, 2])
    Q = copy.deepcopy(P)  # through __reduce__, as pickling for worker processes does
    assert Q == P and hash(Q) == hash(P) and Q.volume() == 2
    assert repr(P) == "Box(lo=[Fraction(0, 1), Fraction(0, 1)], hi=[Fraction(1, 1), Fraction(2, 1)])"
    with pytest.raises(Exception):
        P.A[0, 0] = F(5)  # read-only arrays


def test_high_dimension_uses_lp_certificates():
    D = 8
    A = np.vstack([-np.eye(D, dtype=int), np.ones((1, D), dtype=int)])
    S = Polytope(A, [0] * D + [1])  # LP route: interior point + boundedness certificates
    assert S.contains_interior(S.interior_point())
    S.interior_certificate().verify()
    with pytest.raises(DomainError, match="unbounded") as info:
        Polytope(A[:-1], [0] * D)
    info.value.certificate.verify()
    big = Box([0] * 300, [1] * 300)  # built without enumerating 2^300 vertices
    assert big.volume() == 1 and big.contains_interior(big.interior_point())
