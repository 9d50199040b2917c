"""Units of three or more pieces (max-pooling, maxout) on the batched N-D engine.

The engine clips each piece to the part where piece ``r`` of the unit is the arg-max, by
``g_r >= g_s`` for ``s = 0, 1, ..`` in turn, on every cell at once.  These tests check that it
gives the records of the depth-first per-cell reference engine (tests/percell.py: codes in the
same order, facet labels in the same order, exact vertices in the same order), on nets with
exact ties (small integer weights, ReLUs pooled where several are off) in 1, 3 and 4
dimensions; tests/test_crosscheck.py checks such nets against the independent oracle.
"""

from __future__ import annotations

import numpy as np
import pytest

import exactmaso as em
from exactmaso.engine import batchnd
from exactmaso.regions import _check_net_dom
from percell import Engine as PerCell
from test_regions_units import relu_then_pool_net


def _relu(rng, w, n, scale):
    A = rng.integers(-scale, scale + 1, size=(w, n)).tolist()
    B = rng.integers(-scale, scale + 1, size=w).tolist()
    return em.MASO([[[0] * n, a] for a in A], [[0, b] for b in B])


def _net(kind: str, D: int, seed: int) -> em.Network:
    rng = np.random.default_rng(seed)
    scale = int(rng.integers(1, 4))
    masos = []
    if kind == "maxout":  # small integer pieces: many exact coincidences
        K, R = int(rng.integers(2, 5)), int(rng.integers(3, 5))
        masos.append(em.MASO(rng.integers(-scale, scale + 1, size=(K, R, D)).tolist(),
                             rng.integers(-scale, scale + 1, size=(K, R)).tolist()))
        masos.append(_relu(rng, 3, K, scale))
        n = 3
    elif kind == "relu-pool":  # pooled ReLU outputs: exactly zero pieces that tie
        return relu_then_pool_net(rng, (6, 6), 3, scale, dim=D)
    else:  # maxout with float weights: general position
        K, R = int(rng.integers(2, 4)), int(rng.integers(3, 6))
        masos.append(em.MASO(rng.standard_normal((K, R, D)).round(3).tolist(), rng.standard_normal((K, R)).round(3).tolist()))
        masos.append(_relu(rng, 4, K, scale))
        n = 4
    masos.append(em.MASO([[rng.integers(-3, 4, size=n).tolist()]], [[0]]))
    return em.Network.from_masos(masos)


def _records(recs, exact):
    return [(r.code, tuple(r.geom.labels), tuple(exact.vertex(r.code, r.geom, i) for i in range(len(r.geom.X))))
            for r in recs]


CASES = [(kind, D, seed) for kind in ("maxout", "relu-pool", "float-maxout") for D in (1, 3, 4) for seed in range(3)]


@pytest.mark.parametrize("kind,D,seed", CASES, ids=[f"{k}-D{d}-seed{s}" for k, d, s in CASES])
def test_batched_nd_equals_the_per_cell_engine(kind, D, seed):
    net = _net(kind, D, seed)
    assert max(m.num_pieces for m in net.masos) >= 3
    A, b = _check_net_dom(net, em.Box([-1] * D, [1] * D))
    recs, eng = batchnd.enumerate_nd(net, A, b)
    ref = PerCell(net, A, b)
    got = _records(recs, eng.exact)
    want = _records(list(ref.iter_records()), ref.exact)
    assert [g[0] for g in got] == [w[0] for w in want]
    assert got == want


def test_every_network_takes_a_batched_engine():
    """3-D max-pooling no longer falls to a per-cell engine: em.regions gives the batched
    engine's records, which verify() re-checks."""
    net = _net("relu-pool", 3, 1)
    part = em.regions(net, em.Box([-1] * 3, [1] * 3))
    assert isinstance(part._engine, batchnd.EngineND)
    part.verify()


@pytest.mark.parametrize("split, per_worker", [(1, 1), (4, 2), (64, 3)])
@pytest.mark.parametrize("kind", ["relu", "maxout", "relu-pool"])
def test_workers_give_the_serial_partition(monkeypatch, kind, split, per_worker):
    """With an executor: a two-piece first layer is cut here by its first units only and the
    workers resume it on contiguous groups of its pieces in code order; other first layers are
    cut here and their cells handed on.  Codes, order, labels and exact vertices are those of
    the serial run (float vertices may differ within their
    bounds: where the exact fallback refines a shared vertex's float, pieces in other tasks
    keep the float they were sent)."""
    from test_engine2d_extra import PicklingExecutor

    monkeypatch.setattr(batchnd, "SPLIT_PIECES", split)
    monkeypatch.setattr(batchnd, "TASKS_PER_WORKER", per_worker)
    if kind == "relu":
        rng = np.random.default_rng(3)
        net = em.mlp([rng.normal(size=(10, 3)), rng.normal(size=(8, 10)), rng.normal(size=(1, 8))],
                     [0.5 * rng.normal(size=10), 0.5 * rng.normal(size=8), [0.0]])
    else:
        net = _net(kind, 3, 0)
    box = em.Box([-1] * 3, [1] * 3)
    serial = em.regions(net, box)
    ex = PicklingExecutor(2)
    par = em.regions(net, box, executor=ex)
    assert len(serial) > 20 and ex.tasks > 1
    assert [r.code for r in par] == [r.code for r in serial]
    for a, b in zip(par, serial):
        assert a._rec.geom.labels == b._rec.geom.labels
        assert a.vertices().tolist() == b.vertices().tolist()
    par.verify()


@pytest.mark.parametrize("D, seed, ties", [(6, 0, False), (7, 1, False), (6, 2, True)])
def test_cut_faces_found_by_sorting_are_those_of_the_pairwise_scan(monkeypatch, D, seed, ties):
    """Big cut faces whose vertices are all simple get their edges by sorting label sets
    (``_simple_face_edges``), the others by the pairwise scan; with the sorting turned on for
    every face, and off, the records are the same (nets in 6-7 D; with ``ties`` the hidden
    units come in pairs with one hyperplane, so many vertices are not simple)."""
    rng = np.random.default_rng(seed)
    W = rng.integers(-3, 4, size=(7, D))
    b = rng.integers(-2, 3, size=7)
    if ties:
        W, b = np.vstack([W, -W]), np.concatenate([b, -b])
    first = em.MASO([[[0] * D, w.tolist()] for w in W], [[0, int(c)] for c in b])
    net = em.Network.from_masos([first, em.MASO([[[1] * len(W)]], [[0]])])
    A, b_ = _check_net_dom(net, em.Box([-1] * D, [1] * D))
    runs = []
    for threshold in (0, 10 ** 9):  # always sort where it may; never sort
        monkeypatch.setattr(batchnd, "HASH_PAIRS", threshold)
        recs, eng = batchnd.enumerate_nd(net, A, b_)
        runs.append([(r.code, tuple(r.geom.labels), r.geom.F.tobytes()) for r in recs])
    assert len(runs[0]) > 20 and runs[0] == runs[1]
