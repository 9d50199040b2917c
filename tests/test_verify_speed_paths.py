"""The faster paths of verify(): each gives what the plain path gave, and the domain check.

- ``_lowest_terms`` / ``_fraction`` build the Fractions verify() stores without normalising
  them again: they must be exactly ``Fraction(n, d)`` (same numerator and denominator).
- ``_nonzero2`` is ``np.nonzero`` of a 2-D mask, through flat indices.
- ``_crt`` forms its limbs in one float64 product (exact: every sum below 2**53).
- Every vertex must lie in the domain, whether or not its region's facets name the domain's
  rows: a region may not stick out of the domain, even when a missing region makes up its
  volume (found with ``graph=False``, which the sum of the volumes alone did not catch).
- ``_dyadic_homs``, ``_null_vectors`` (shared 2 x 2 minors in 3-D and 4-D) and ``_unique_rows``
  (one int64 key per row) give what the one-by-one forms give; completeness pairs a simple
  vertex's edges by sorting and looks the rest up among all vertices (a pyramid's apex).
"""

from __future__ import annotations

import math
import random
from fractions import Fraction as F

import numpy as np
import pytest

import exactmaso as em
from exactmaso import verify as V
from exactmaso.engine.cells import Geom, RegionRecord
from exactmaso.verify import verify_partition


# -- Fractions in lowest terms, in bulk ----------------------------------------------------
@pytest.mark.parametrize("den", [1, 2, 1 << 300, 3, 12, 6 * 10 ** 40 + 1])
def test_lowest_terms_is_fraction(den):
    rng = random.Random(den)
    nums = [rng.randrange(-(1 << 400), 1 << 400) for _ in range(300)] + [0, 1, -1, den, -den, 3 * den, den << 5]
    for dens in (den, [den] * len(nums), [rng.randrange(1, 1 << 200) for _ in nums],
                 [1 << rng.randrange(0, 500) for _ in nums]):
        got = V._lowest_terms(nums, dens)
        ds = dens if isinstance(dens, list) else [dens] * len(nums)
        want = [F(n, d) for n, d in zip(nums, ds)]
        assert [(g.numerator, g.denominator) for g in got] == [(w.numerator, w.denominator) for w in want]
        assert all(type(g) is F and g == w and hash(g) == hash(w) for g, w in zip(got, want))


def test_fractions_of_homogeneous_points():
    pts = [(3, -6, 4), (0, 5, 1), (7, 9, 12), (-8, 0, 16)]
    assert V._fractions(pts, 2).tolist() == [[F(n, p[2]) for n in p[:2]] for p in pts]
    assert V._fractions([], 3).shape == (0, 3)


def _coprime(v: F) -> bool:
    return type(v) is F and v.denominator > 0 and math.gcd(v.numerator, v.denominator) == 1


@pytest.mark.parametrize("D", [2, 3])
def test_stored_values_are_fractions_in_lowest_terms(D):
    rng = np.random.default_rng(7)
    net = em.mlp([rng.normal(size=(6, D)), rng.normal(size=(5, 6)), rng.normal(size=(1, 5))],
                 [rng.normal(size=6), rng.normal(size=5), [0.0]])
    part = em.regions(net, em.Box([-1] * D, [1] * D))
    part.verify()
    for r in part:
        c = r._cache
        values = [v for row in c["rows"] for v in row] + list(np.ravel(c["vertices"])) + list(c["point"])
        values += list(np.ravel(c["affine"].A)) + list(np.ravel(c["affine"].b)) + [c["volume"]]
        assert all(_coprime(v) for v in values), r.index


# -- the other helpers ---------------------------------------------------------------------
def test_nonzero2_is_nonzero():
    rng = np.random.default_rng(1)
    for shape in [(0, 3), (5, 0), (1, 1), (40, 17), (300, 64)]:
        m = rng.random(shape) < 0.1
        a, b = V._nonzero2(m)
        c, d = np.nonzero(m)
        assert a.tolist() == c.tolist() and b.tolist() == d.tolist()


def test_crt_at_the_ends_of_the_range():
    primes = V._primes_above_bound(2 * math.isqrt((1 << 52) // 3) - 3, 1 << 2000)
    M = math.prod(primes)
    vals = [M // 2, -(M // 2), M // 2 - 1, 0, 1, -1, (1 << 1999) + 12345, -(1 << 1999)]
    assert V._crt(V._residues(np.array(vals, dtype=object), primes), primes).tolist() == vals


# -- regions inside the domain -------------------------------------------------------------
def _sticking_out():
    """A 1-D partition of [-1, 1] whose region [0, 1] was stretched to [0, 3/2] (its facet on
    the domain's row replaced by a unit's row at 3/2) and whose region [-1, -1/2] was dropped:
    codes, rows, vertices and points are all right, and the volumes still sum to 2."""
    net = em.mlp([[[1], [1], [1]], [[1, 1, 1]]], [[0, F(-3, 2), F(1, 2)], [0]])
    part = em.regions(net, em.Box([-1], [1]))
    assert [r.volume() for r in part] == [F(1, 2), F(1, 2), F(1)]
    assert part[2].facet_labels == [("d", 0), (0, 0, 0, 1)]
    a, b = part._regions[1], part._regions[2]
    F_ = np.array([[True, False], [False, True]])
    b._rec = RegionRecord(b.code, Geom(np.array([[1.5], [0.0]]), np.zeros(2), F_, [(0, 1, 0, 1), (0, 0, 0, 1)],
                                       [None, None]), None, None)
    for r in (a, b):
        r._cache.clear()
    a.index, b.index = 0, 1
    part._regions[:] = [a, b]
    part._graph = None
    return part


def test_region_sticking_out_of_the_domain_is_rejected_without_the_graph():
    with pytest.raises(em.CertificateError, match=r"region 1: vertex 0 lies outside the domain"):
        verify_partition(_sticking_out(), graph=False)


def test_region_sticking_out_of_the_domain_is_rejected():
    with pytest.raises(em.CertificateError, match=r"region 1: vertex 0 lies outside the domain"):
        _sticking_out().verify()


@pytest.mark.parametrize("D", [2, 3])
def test_vertex_on_the_domain_boundary_is_inside(D):
    """Vertices on the domain's boundary (value exactly 0, which the floats cannot tell) pass
    by the exact check; the domain here is a polytope with rows the regions do not all name."""
    net = em.mlp([np.eye(D), np.ones((1, D))], [np.zeros(D), [0.0]])
    A = np.vstack([np.eye(D), -np.eye(D), np.ones((1, D))])
    b = np.concatenate([np.ones(D), np.ones(D), [D]])  # the last row is redundant: x_1 + .. + x_D <= D
    part = em.regions(net, em.Polytope(A, b))
    part.verify()
    assert sum(r.volume() for r in part) == 2 ** D


# -- the products of carried rows by mask differences --------------------------------------
def _rows(part, monkeypatch, depth, shared, block):
    from test_verify_batched import _checker_through_rows

    monkeypatch.setattr(V._Cascade, "SHARED", shared)
    monkeypatch.setattr(V._Cascade, "BLOCK", block)
    return _checker_through_rows(part, depth, monkeypatch)


@pytest.mark.parametrize("outputs", [1, 3])
def test_products_by_mask_differences_are_the_products(outputs, monkeypatch):
    """Carried rows multiplied by differences of consecutive masks (every depth, several
    blocks, one vector or several per block) give the rows of the plain matrix products,
    which are the network's affine maps."""
    rng = np.random.default_rng(11)
    sizes = [(2, 10), (10, 10), (10, 10), (10, outputs)]
    net = em.mlp([rng.normal(size=(b, a)) for a, b in sizes], [rng.normal(size=b) for _, b in sizes])
    part = em.regions(net, em.Box([-2, -2], [2, 2]))
    assert len(part) > 60
    L = len(net.masos)
    for depth in range(L):
        plain = _rows(part, monkeypatch, depth, 10 ** 9, 32)
        for shared, block in ((2, 32), (16, 256), (2, 7)):
            got = _rows(part, monkeypatch, depth, shared, block)
            assert all((a == b).all() for a, b in zip(got.diff_rows, plain.diff_rows))
            assert (got.affine_rows == plain.affine_rows).all()
    den = got.cascade.zden[-1]
    for i, r in enumerate(part):
        aff = net.affine_map(code=r.code)
        assert [[F(int(v), den) for v in row] for row in got.affine_rows[i]] == \
            [list(aff.A[o]) + [aff.b[o]] for o in range(outputs)]


def test_masks_far_apart_take_the_plain_product():
    """Rows whose masks change in more than an eighth of their entries are multiplied plainly."""
    rng = np.random.default_rng(2)
    primes = np.array(V._primes_above_bound(1 << 23, 1 << 60), dtype=np.int64)
    pf = primes.astype(np.float64)[:, None, None]
    mod = (pf, 1.0 / pf)
    P = V._balanced(rng.integers(0, primes[:, None, None], size=(len(primes), 9, 4)), primes[:, None, None])
    v = V._balanced(rng.integers(0, primes[:, None], size=(len(primes), 9)), primes[:, None])
    for masks in (rng.random((20, 9)) < 0.5, np.repeat(rng.random((1, 9)) < 0.5, 20, axis=0)):
        w = v[:, None, :] * masks[None].astype(np.float64)
        got = V._carried_product(w, P, [(np.arange(20), v, masks)], mod)
        want = np.matmul(w, P)
        assert ((got - want) % pf == 0).all()


# -- points, null vectors and distinct rows in bulk ----------------------------------------
def test_dyadic_homs_are_dyadic_hom():
    """The bulk form gives each row's ``_dyadic_hom`` (the same Python ints): zeros, signs,
    subnormals, very different magnitudes in one row (the numerators beyond int64)."""
    rng = np.random.default_rng(3)
    X = np.concatenate([rng.uniform(-1, 1, (300, 3)),
                        rng.uniform(-1, 1, (300, 3)) * 10.0 ** rng.integers(-320, 300, (300, 3)),
                        [[0.0, 0.0, 0.0], [5e-324, -5e-324, -0.0], [1.0, -2.0, 0.5], [2.0 ** 1023, 2.0 ** -1074, 3.0]]])
    X[rng.random(X.shape) < 0.1] = 0.0
    got = V._dyadic_homs(X)
    assert got == [V._dyadic_hom(r) for r in X.tolist()]
    assert all(type(v) is int for h in got for v in h)
    assert V._dyadic_homs(np.zeros((0, 2))) == []


@pytest.mark.parametrize("D", [2, 3, 4, 5])
def test_null_vectors_are_the_signed_minors(D):
    rng = random.Random(D)
    rows = [[[rng.randint(-2 ** 90, 2 ** 90) for _ in range(D + 1)] for _ in range(D)] for _ in range(40)]
    rows[0][-1] = list(rows[0][0])  # dependent rows: the zero vector
    rows[1] = [[rng.randint(-3, 3) for _ in range(D + 1)] for _ in range(D)]
    got = V._null_vectors(np.array(rows, dtype=object))
    for g, r in zip(got.tolist(), rows):
        want = [(-1) ** j * V._det([[x[c] for c in range(D + 1) if c != j] for x in r]) for j in range(D + 1)]
        assert g == want
        assert all(type(v) is int for v in g)
    assert not any(got[0])


@pytest.mark.parametrize("span", [3, 10 ** 6, 2 ** 40, 2 ** 62])
def test_unique_rows_one_key_and_bytes(span):
    """Small ranges take one int64 key per row, others the rows' bytes: either way ``first``
    is each distinct row's first occurrence and ``inv`` maps every row to its own."""
    rng = np.random.default_rng(span % 1000)
    a = rng.integers(-span, span, (2000, 3), dtype=np.int64)
    a[1000:] = a[:1000]  # repeats
    first, inv = V._unique_rows(a)
    assert (a[first][inv] == a).all()
    assert len(first) == len(np.unique(a, axis=0))
    assert all(int(f) == int(np.flatnonzero((a == a[f]).all(axis=1))[0]) for f in first[:50])


# -- completeness: edges matched by sorting, the rest against every vertex ------------------
def _cube(D):
    net = em.mlp([np.eye(D), np.ones((1, D))], [np.full(D, 5.0), [0.0]])  # one region: the box
    return em.regions(net, em.Box([-1] * D, [1] * D))


@pytest.mark.parametrize("D", [3, 4])
def test_vertex_list_missing_a_vertex_is_rejected(D):
    part = _cube(D)
    reg = next(iter(part))
    reg._cache["vertices"] = reg.vertices()[1:]
    with pytest.raises(em.CertificateError, match=r"region 0: the vertex list is incomplete"):
        part.verify()


def test_edge_ending_at_a_vertex_on_more_rows():
    """A square pyramid: the edges up from the base end at the apex, on four rows (not simple),
    which the sort by edges does not pair; the check against every vertex finds it."""
    A = np.array([[0, 0, -1], [1, 0, 1], [-1, 0, 1], [0, 1, 1], [0, -1, 1]], dtype=float)
    net = em.mlp([np.eye(3), np.ones((1, 3))], [np.full(3, 5.0), [0.0]])
    part = em.regions(net, em.Polytope(A, np.array([0, 1, 1, 1, 1.0])))
    part.verify()
    assert sum(r.volume() for r in part) == F(4, 3)
    part = em.regions(net, em.Polytope(A, np.array([0, 1, 1, 1, 1.0])))
    reg = next(iter(part))
    reg._cache["vertices"] = reg.vertices()[1:]  # a base vertex
    with pytest.raises(em.CertificateError):
        part.verify()
