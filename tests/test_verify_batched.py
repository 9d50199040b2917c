"""The batched verifier (exactmaso/verify.py): its exact kernels, its float filter, and that it
accepts the partitions it accepted before, storing the values the regions would compute.

"Before": every value verify() stores on a region (rows, vertices, point, affine map, volume)
must equal what a fresh, unverified partition computes through its own lazy methods (the
engine's exact rows and vertices, the network's affine map, the volume code), and what
independent code computes (the exact double description of polytope.py, the network's forward
pass).  Degenerate networks come from tests/test_regions_degenerate.py.
"""

from __future__ import annotations

import gc
import math
import random
from fractions import Fraction as F

import flint
import numpy as np
import pytest

import exactmaso as em
from exactmaso import verify as V

try:
    from test_regions_degenerate import CASES, NUMERIC
    from oracle import make_net
except ImportError:  # tests/ as a package
    from tests.test_regions_degenerate import CASES, NUMERIC  # type: ignore[no-redef]
    from tests.oracle import make_net  # type: ignore[no-redef]


def _same_as_lazy(net, dom, part) -> None:
    """``part`` is verified; a fresh partition of the same net computes the same values lazily."""
    fresh = em.regions(net, dom)
    assert [r.code for r in fresh] == [r.code for r in part]
    for a, b in zip(part, fresh):
        assert [tuple(r) for r in a.facet_rows()] == [tuple(r) for r in b.facet_rows()]
        assert a.vertices().tolist() == b.vertices().tolist()  # same vertices in the same order
        assert a.affine == b.affine == net.affine_map(code=a.code)
        assert a.volume() == b.volume() == a.polytope.volume()
        assert net.code(a.point) == a.code


def _stored(part) -> None:
    for r in part:
        assert {"rows", "vertices", "point", "affine", "volume"} <= set(r._cache), r.index


# -- degenerate and numerically hard networks: accepted, with the values they had before -----
@pytest.mark.parametrize("name", list(CASES))
def test_degenerate_nets_accepted_with_the_same_values(name):
    weights, biases, (lo, hi), _, _ = CASES[name]
    net = make_net(weights, biases)
    dom = em.Box(lo, hi)
    part = em.regions(net, dom)
    part.verify()
    _stored(part)
    _same_as_lazy(net, dom, part)


@pytest.mark.parametrize("name", list(NUMERIC))
def test_numerically_hard_nets_accepted_with_the_same_values(name):
    weights, biases, (lo, hi), _ = NUMERIC[name]
    weights = [[[F(v) for v in row] for row in M] for M in weights]
    biases = [[F(v) for v in row] for row in biases]
    net = make_net(weights, biases)
    dom = em.Box(lo, hi)
    part = em.regions(net, dom)
    part.verify()
    _same_as_lazy(net, dom, part)


def _random_net(seed: int, D: int, act: str):
    rng = np.random.default_rng(seed)
    widths = [D, 5, 4, 2] if D < 4 else [D, 4, 3, 2]
    layers = []
    for a, b in zip(widths[:-1], widths[1:]):
        layers.append(em.Dense(rng.normal(size=(b, a)), 0.5 * rng.normal(size=b)))
        if b != widths[-1]:
            layers.append({"relu": em.ReLU(), "leaky": em.LeakyReLU(F(1, 4)), "abs": em.Abs()}[act])
    return em.Network(layers)


@pytest.mark.parametrize("D", [1, 2, 3, 4])
@pytest.mark.parametrize("act", ["relu", "leaky", "abs"])
def test_dimensions_and_two_piece_units(D, act):
    net = _random_net(D * 7 + len(act), D, act)
    dom = em.Box([-1] * D, [1] * D)
    part = em.regions(net, dom)
    part.verify()
    _stored(part)
    _same_as_lazy(net, dom, part)


def test_three_pieces_per_unit():
    rng = np.random.default_rng(5)
    net = em.Network([em.Conv1d(rng.integers(-2, 3, size=(3, 1, 1)), rng.integers(-1, 2, size=3)),
                      em.MaxPool1d(2), em.Flatten(), em.Dense([[1, -1, 2]], [0])], input_shape=(1, 2))
    dom = em.Box([-1, -1], [1, 1])
    part = em.regions(net, dom)
    part.verify()
    _same_as_lazy(net, dom, part)


def test_verify_twice_and_after_every_value_was_read():
    net = _random_net(3, 2, "relu")
    dom = em.Box([-1, -1], [1, 1])
    part = em.regions(net, dom)
    for r in part:  # everything the regions offer, computed by the regions themselves
        r.facet_rows(), r.polytope, r.vertices(), r.point, r.affine, r.volume()
    part.verify()
    part.verify()
    _same_as_lazy(net, dom, part)


def test_polytope_domain():
    net = _random_net(11, 2, "relu")
    dom = em.Polytope([[1, 1], [-1, 0], [0, -1], [1, -2]], [1, 1, 1, 1])
    part = em.regions(net, dom)
    part.verify()
    assert sum(r.volume() for r in part) == dom.volume()


# -- the exact kernels ------------------------------------------------------------------------
def test_crt_recovers_signed_integers():
    rng = random.Random(1)
    primes = V._primes_above_bound(1 << 23, 1 << 400)
    assert math.prod(primes) > 1 << 400 and all(flint.fmpz(p).is_prime() for p in primes)
    vals = [rng.randrange(-(1 << 399), 1 << 399) for _ in range(500)] + [0, 1, -1, (1 << 399) - 1, -(1 << 399) + 1]
    res = V._residues(np.array(vals, dtype=object), primes)
    assert V._crt(res, primes).tolist() == vals
    big = V._primes_above_bound(2 * math.isqrt((1 << 52) // 3) - 3, 1 << 1200)  # the largest a cascade uses
    vals = [rng.randrange(-(1 << 1199), 1 << 1199) for _ in range(200)] + [0, -1, (1 << 1199) - 1]
    assert V._crt(V._residues(np.array(vals, dtype=object), big), big).tolist() == vals


def test_dets_and_null_vectors_match_flint():
    rng = random.Random(2)
    for k in (1, 2, 3, 4, 5):
        M = np.array([[[rng.randrange(-10 ** 30, 10 ** 30) for _ in range(k)] for _ in range(k)] for _ in range(20)],
                     dtype=object)
        assert V._dets(M).tolist() == [int(flint.fmpz_mat(m.tolist()).det()) for m in M]
    rows = np.array([[[rng.randrange(-99, 99) for _ in range(4)] for _ in range(3)] for _ in range(20)], dtype=object)
    nv = V._null_vectors(rows)
    assert not (np.einsum("nij,nj->ni", rows, nv) != 0).any()


def test_modular_rows_are_the_composed_rows():
    """Every facet row recovered by the modular cascade equals the row composed cell by cell
    in FLINT (the unbatched path the checker keeps for single rows)."""
    rng = np.random.default_rng(4)
    sizes = [(2, 6), (6, 6), (6, 1)]
    net = em.mlp([rng.normal(size=(b, a)) for a, b in sizes], [rng.normal(size=b) for _, b in sizes])
    part = em.regions(net, em.Box([-1, -1], [1, 1]))
    ck = V._Checker(part)
    ck.run()
    for f in range(len(ck.f_reg)):
        i = int(ck.f_reg[f])
        t = f - int(ck.f_start[i])
        assert ck.fraction_rows(np.array([f]))[0] == ck.expected_row(i, part[i].code, part[i].facet_labels[t])


def _checker_through_rows(part, depth=None, monkeypatch=None):
    """A checker that has read the codes and facets and recovered the rows (at ``depth``)."""
    if depth is not None:
        monkeypatch.setattr(V._Cascade, "depth", lambda self, carried: depth)
    ck = V._Checker(part)
    ck.regs = list(part)
    ck.caches, ck.recs = [V._cache(r) for r in ck.regs], [V._record(r) for r in ck.regs]
    ck.progress = V._Progress(False, len(ck.regs))
    for stage in ("read_codes", "read_cells", "read_facets", "exact_rows"):
        getattr(ck, stage)()
    return ck


@pytest.mark.parametrize("net", ["relu", "leaky", "abs", "three pieces", "deep"])
def test_every_cascade_depth_recovers_the_same_rows(net, monkeypatch):
    """Rows carried down through levels that are not composed (any depth) are the rows of the
    full composition, which are the rows composed cell by cell in FLINT; also affine maps."""
    if net == "three pieces":
        rng = np.random.default_rng(5)
        model = em.Network([em.Conv1d(rng.integers(-2, 3, size=(3, 1, 1)), rng.integers(-1, 2, size=3)),
                            em.MaxPool1d(2), em.Flatten(), em.Dense([[1, -1, 2], [0, 1, 1]], [0, 1])],
                           input_shape=(1, 2))
    elif net == "deep":
        rng = np.random.default_rng(8)
        sizes = [(2, 5), (5, 4), (4, 4), (4, 3)]
        model = em.mlp([rng.normal(size=(b, a)) for a, b in sizes], [rng.normal(size=b) for _, b in sizes])
    else:
        model = _random_net(13, 2, net)
    part = em.regions(model, em.Box([-1, -1], [1, 1]))
    L = len(model.masos)
    runs = [_checker_through_rows(part, d, monkeypatch) for d in range(L)]
    for ck in runs[1:]:
        assert all((a == b).all() for a, b in zip(ck.diff_rows, runs[0].diff_rows))
        assert (ck.affine_rows == runs[0].affine_rows).all()
    ck = runs[0]
    for f in range(len(ck.f_reg)):
        i = int(ck.f_reg[f])
        t = f - int(ck.f_start[i])
        assert ck.fraction_rows(np.array([f]))[0] == ck.expected_row(i, part[i].code, part[i].facet_labels[t])
    den = ck.cascade.zden[-1]
    for i, r in enumerate(part):
        aff = model.affine_map(code=r.code)
        assert [[F(int(v), den) for v in row] for row in ck.affine_rows[i]] == \
            [list(aff.A[o]) + [aff.b[o]] for o in range(aff.A.shape[0])]


def test_each_level_is_recovered_from_enough_primes(monkeypatch):
    """The rows of each level come from the first primes whose product exceeds twice their
    bound; shallow levels need fewer than the affine maps, and the bound holds."""
    rng = np.random.default_rng(8)
    sizes = [(2, 5), (5, 4), (4, 4), (4, 3)]
    model = em.mlp([rng.normal(size=(b, a)) for a, b in sizes], [rng.normal(size=b) for _, b in sizes])
    ck = _checker_through_rows(em.regions(model, em.Box([-1, -1], [1, 1])))
    cas = ck.cascade
    ks = cas.level_primes
    assert ks[0] < ks[-1] <= len(cas.primes)
    for rows, k in zip(ck.diff_rows[:-1] + [np.concatenate([ck.diff_rows[-1].ravel(), ck.affine_rows.ravel()])], ks):
        if rows.size:
            assert math.prod(cas.primes[:k]) > 2 * max(abs(int(v)) for v in rows.ravel().tolist())


@pytest.mark.parametrize("case", ["relu 2-D", "relu 3-D", "abs 4-D"] + list(CASES))
def test_tight_signs_are_the_exact_signs(case):
    """Every sign of a facet row at a vertex of its region (the float forward pass's, the zeros
    of the rows a vertex was solved from, the exact ones) is the sign of the exact value."""
    if case in CASES:
        weights, biases, (lo, hi), _, _ = CASES[case]
        net, dom = make_net(weights, biases), em.Box(lo, hi)
    else:
        act, D = case.split(" ")[0], int(case.split(" ")[1][0])
        net, dom = _random_net(D * 7 + len(act), D, act), em.Box([-1] * D, [1] * D)
    ck = V._Checker(em.regions(net, dom))
    ck.run()
    exact = V._sign(V._dot(ck.f_row[ck.p_fac], ck.Vobj[ck.i_vid[ck.p_inc]]))
    assert (ck.p_sign == exact).all()
    if case not in CASES:
        assert len(ck.cramer[0])  # the zeros by construction were used


def test_garbage_collector_as_it_was():
    net = _random_net(3, 2, "relu")
    dom = em.Box([-1, -1], [1, 1])
    was = gc.isenabled()
    try:
        gc.enable()
        em.regions(net, dom).verify()
        assert gc.isenabled()
        part = em.regions(net, dom)
        part[0]._cache["volume"] = F(7)
        with pytest.raises(em.CertificateError):
            part.verify()
        assert gc.isenabled()
        gc.disable()
        em.regions(net, dom).verify()
        assert not gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()


def test_vertex_floats_bound_their_error():
    rng = random.Random(3)
    H = [tuple(rng.randrange(-(1 << b), 1 << b) for _ in range(3)) + (rng.randrange(1, 1 << b),)
         for b in (3, 60, 300, 900) for _ in range(50)]
    H.append((1 << 1100, 1, -5, 3 << 1090))  # beyond the float range: the quotients one by one
    for part in (H[:-1], H):
        X, E = V._vertex_floats(part, 3)
        for h, x, e in zip(part, X, E):
            assert all(abs(F(float(x[j])) - F(h[j], h[3])) <= F(float(e[j])) for j in range(3))


def test_homogeneous_points_in_bulk():
    H = np.array([[6, -4, 2], [3, 0, -9], [1, 2, 0], [0, 0, 5], [0, 0, 0]], dtype=object)
    assert V._normalised_homs(H) == [V._normalised_hom(h) for h in H.tolist()]
    for x in ([0.5, 3.0, -0.125], [2.0, 3.0], [0.0, -7.0], [1e-300, 3e200]):
        assert V._dyadic_hom(x) == V._hom([F(v) for v in x])


def test_float_filter_is_sound():
    """Wherever the float forward pass claims a piece is (or is not) the maximum, the exact
    forward pass agrees; at exact ties it claims nothing."""
    rng = np.random.default_rng(6)
    net = em.mlp([rng.normal(size=(6, 2)) * 10.0 ** rng.integers(-6, 7, size=(6, 1)), rng.normal(size=(3, 6))],
                 [rng.normal(size=6), rng.normal(size=3)])
    layers = [V._Layer(m) for m in net.masos]
    pts = [(F(int(rng.integers(-50, 50)), 37), F(int(rng.integers(-50, 50)), 41)) for _ in range(200)]
    # points exactly on a first-layer hyperplane: ties the filter must leave undecided
    A, B = net.masos[0].A, net.masos[0].B
    for k in range(6):
        a0, a1, c = A[k, 1, 0], A[k, 1, 1], B[k, 1]
        pts.append((F(0), -c / a1) if a1 else (-c / a0, F(0)))
    H = [V._hom(p) for p in pts]
    X, E = V._vertex_floats(H, 2)
    two, _ = V._forward_statuses(X, E, layers)
    for p, row in zip(pts, two):
        h = np.array(p, dtype=object)
        col = 0
        for m in net.masos[:-1]:
            g = [m.A[k, 1].dot(h) + m.B[k, 1] - (m.A[k, 0].dot(h) + m.B[k, 0]) for k in range(m.num_units)]
            for k, v in enumerate(g):
                assert row[col + k] == 0 or (v != 0 and (row[col + k] > 0) == (v > 0)), (p, k, v, row[col + k])
            h = np.array([max(m.A[k, r].dot(h) + m.B[k, r] for r in range(m.num_pieces)) for k in range(m.num_units)],
                         dtype=object)
            col += m.num_units
    assert all(two[200 + k, k] == 0 for k in range(6))


def test_float_filter_does_not_decide_on_overflow():
    net = em.mlp([[[1e300, 1e300]], [[1e300]]], [[0], [0]])
    layers = [V._Layer(m) for m in net.masos]
    X, E = V._vertex_floats([V._hom((F(10 ** 10), F(10 ** 10)))], 2)
    with np.errstate(all="ignore"):
        two, _ = V._forward_statuses(X, E, layers)
    assert (two[:, :1] == 0).all()


@pytest.mark.parametrize("D", [1, 2, 3])
def test_a_network_whose_rows_are_all_zero_verifies(D):
    """Every piece zero: one region, the domain, and rows whose bound is 0 (the cascade still
    needs a prime to recover them); found by scripts/crosscheck.py (seed 41000862)."""
    net = em.Network.from_masos([em.MASO([[[0] * D, [0] * D]], [[0, 0]]), em.MASO([[[0]]], [[0]])])
    part = em.regions(net, em.Box([-1] * D, [1] * D))
    assert len(part) == 1 and part[0].volume() == 2 ** D
    part.verify()


def test_weights_below_the_float_range_are_not_taken_for_zero():
    """Layer 1's slopes (1e-420) round to the float 0 while its inputs reach 1e300: their
    products (1e-120) decide the arg-max, so the checker's float forward pass must leave those
    signs to exact arithmetic (it once proved piece 0 larger at x = 1, where piece 1 is the
    maximum, and rejected a correct partition; found by scripts/crosscheck.py, seed 42006574)."""
    big, tiny, b = F(10) ** 300, F(1, 10 ** 420), F(1, 10 ** 121)
    first = em.MASO([[[0], [big]]], [[0, 0]])  # h = relu(1e300 x)
    second = em.MASO([[[0], [tiny], [0]]], [[0, -5 * b, -b]])  # 0, 1e-420 h - 5e-121, -1e-121
    net = em.Network.from_masos([first, second, em.MASO([[[1]]], [[0]])])
    part = em.regions(net, em.Box([-1], [1]))
    assert [(r.vertices().min(), r.vertices().max()) for r in part] == [(-1, 0), (0, F(1, 2)), (F(1, 2), 1)]
    assert [r.code[1] for r in part] == [(0,), (0,), (1,)]
    part.verify()
