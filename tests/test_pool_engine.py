"""Max-pooling and maxout units (three or more pieces) on the batched 2-D engine.

The engine's multi-piece path (``Engine2D._layer_multi``) skips clips whose outcome the float
filter proves over a cell's or a piece's ball or at its vertices (a piece below another
everywhere, a clip that keeps its copy whole, a unique arg-max).  These tests check that the skips change
nothing: the same records (codes, order, facet labels, exact vertices in their order) as with
every skip turned off, the regions of the depth-first per-cell engine, and exact partitions
of the box (tests/oracle.py: every region's interior point has the region's code, exact
facets and vertices, volumes that tile the box).
"""

from __future__ import annotations

import numpy as np
import pytest

import exactmaso as em
from exactmaso.engine import batch2d
from percell import Engine as PerCell  # the reference engine (tests/percell.py)
from exactmaso.regions import _check_net_dom
from test_regions_units import relu_then_pool_net  # ReLU layers, each followed by a max-pool

try:
    from oracle import check_partition
except ImportError:  # pragma: no cover - run from the repository root
    from tests.oracle import check_partition  # type: ignore[no-redef]


def records(net, lo, hi):
    """(code, facet labels, exact vertices in order) of every region of the batched engine."""
    A, b = _check_net_dom(net, em.Box(lo, hi))
    recs, eng = batch2d.enumerate_2d(net, A, b)
    out = []
    for rec in recs:
        g = rec.geom
        out.append((rec.code, tuple(g.labels), tuple(eng.exact.vertex(rec.code, g, i) for i in range(len(g.X)))))
    return out


def per_cell(net, lo, hi):
    """{code: exact vertex set} of the per-cell engine, and its codes in order."""
    A, b = _check_net_dom(net, em.Box(lo, hi))
    eng = PerCell(net, A, b)
    got, order = {}, []
    for rec in eng.iter_records():
        got[rec.code] = frozenset(eng.exact.vertex(rec.code, rec.geom, i) for i in range(len(rec.geom.X)))
        order.append(rec.code)
    return got, order


def no_skips(monkeypatch):
    """Turn off every skip that rests on the pieces' signs (over balls or at vertices): nothing
    is proved."""
    monkeypatch.setattr(batch2d, "_pair_signs", lambda st, starts, lens, Gc, Ec, poss, known=None, balls=None:
                        np.zeros((Gc.shape[0], Gc.shape[1], Gc.shape[1]), dtype=bool))


def maxout(rng, units, pieces, scale):
    """A maxout layer (small integer pieces: many exact coincidences), a ReLU layer, a read-out."""
    A = rng.integers(-scale, scale + 1, size=(units, pieces, 2))
    B = rng.integers(-scale, scale + 1, size=(units, pieces))
    relu = em.Network([em.Dense(rng.integers(-3, 4, size=(2, units)), rng.integers(-2, 3, size=2)), em.ReLU(),
                       em.Dense([[1, -1]], [0])])
    return em.Network.from_masos([em.MASO(A.tolist(), B.tolist()), *relu.masos])


def conv_pool(rng, size, channels):
    """A 2-D slice of conv + ReLU + 2x2 max-pool (+ conv + ReLU + max-pool) nets, weights with
    one decimal (pieces of a pool unit share their structure: near ties)."""
    w1 = rng.normal(size=(channels[0], 1, 2, 2)).round(1)
    layers = [em.Conv2d(w1, rng.normal(size=channels[0]).round(1)), em.ReLU(), em.MaxPool2d(2)]
    if len(channels) > 1:
        w2 = (rng.normal(size=(channels[1], channels[0], 2, 2)) / 2).round(1)
        layers += [em.Conv2d(w2, rng.normal(size=channels[1]).round(1)), em.ReLU(), em.MaxPool2d(2)]
    layers.append(em.Flatten())
    n = em.Network(layers, input_shape=(1, size, size)).output_dim
    net = em.Network(layers + [em.Dense(rng.normal(size=(1, n)).round(1), [0.0])], input_shape=(1, size, size))
    X = [rng.integers(0, 3, size=size * size) for _ in range(3)]
    return net.restrict(*em.plane(*X))


CASES = (
    [("pool", seed) for seed in range(6)]
    + [("maxout", seed) for seed in range(4)]
    + [("conv", seed) for seed in range(3)]
)


def make(kind, seed):
    rng = np.random.default_rng(900 + seed)
    if kind == "pool":
        widths = rng.integers(4, 9, size=1 + seed % 2).tolist()
        return relu_then_pool_net(rng, widths, int(rng.integers(3, 5)), int(rng.choice([1, 2, 4])))
    if kind == "maxout":
        return maxout(rng, int(rng.integers(2, 4)), int(rng.integers(3, 6)), int(rng.choice([1, 3])))
    return conv_pool(rng, 7, [2, 2]) if seed % 2 else conv_pool(rng, 5, [3])


def with_and_without_skips(net, lo, hi, monkeypatch):
    """The records with the skips and the clips they made, then the clips and the records with
    every skip turned off."""
    calls = {"n": 0}
    cut = batch2d.Engine2D._cut

    def counted(self, *args, **kw):  # the clips: cuts that keep the positive side only
        if kw.get("positive_only"):
            calls["n"] += len(args[1])
        return cut(self, *args, **kw)

    monkeypatch.setattr(batch2d.Engine2D, "_cut", counted)
    got = records(net, lo, hi)
    with_skips = calls["n"]
    no_skips(monkeypatch)
    calls["n"] = 0
    every_clip = records(net, lo, hi)
    return got, with_skips, calls["n"], every_clip


@pytest.mark.parametrize("kind,seed", CASES)
def test_skips_change_nothing(kind, seed, monkeypatch):
    """Every skip of the multi-piece path leaves the records as running every clip does."""
    net = make(kind, seed)
    assert any(m.num_pieces > 2 for m in net.masos)
    lo, hi = [-1, -1], [1, 1]
    got, with_skips, without, every_clip = with_and_without_skips(net, lo, hi, monkeypatch)
    assert every_clip == got
    assert with_skips <= without


@pytest.mark.parametrize("kind,seed", CASES)
def test_matches_the_per_cell_engine(kind, seed):
    net = make(kind, seed)
    lo, hi = [-1, -1], [1, 1]
    got = records(net, lo, hi)
    want, order = per_cell(net, lo, hi)
    assert [c for c, _, _ in got] == order
    assert {c: frozenset(v) for c, _, v in got} == want


@pytest.mark.parametrize("kind,seed", [("pool", 0), ("pool", 3), ("maxout", 1), ("conv", 0), ("conv", 2)])
def test_exact_partition(kind, seed):
    net = make(kind, seed)
    lo, hi = [-1, -1], [1, 1]
    part = em.regions(net, em.Box(lo, hi))
    check_partition(part, net, lo, hi)


def test_the_benchmark_net_on_a_small_box(monkeypatch):
    """benchmarks/bench_pool.py's pooled net (two max-pool layers of four pieces over 400 and
    72 ReLUs) on a small box: the skips save clips and change nothing."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_pool.py"
    spec = importlib.util.spec_from_file_location("bench_pool", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    pooled, _, X = bench.networks()
    net = pooled.restrict(*em.plane(*X))
    lo, hi = [0.45, 0.45], [0.55, 0.55]
    got, with_skips, without, every_clip = with_and_without_skips(net, lo, hi, monkeypatch)
    assert len(got) > 50
    assert every_clip == got
    assert 2 * with_skips < without


@pytest.mark.parametrize("kind,seed,chunked", [("pool", 0, False), ("pool", 1, False), ("conv", 0, False),
                                               ("conv", 1, False), ("pool", 1, True), ("conv", 1, True)])
def test_pooled_piece_maps_are_the_products(kind, seed, chunked, monkeypatch):
    """The max-pooling pieces' maps as a table and an index (``_pool_products``) are the
    floats and bounds of the product of the pieces with the built maps (``_products``), also
    when the layer before hands its maps on in several chunks (a chunk per cell)."""
    if chunked:
        monkeypatch.setattr(batch2d, "MAP_FLOATS", 1)
    net = make(kind, seed)
    A, b = _check_net_dom(net, em.Box([-1, -1], [1, 1]))
    eng = batch2d.Engine2D(net, A, b)
    state, parts = eng._root(), []
    with np.errstate(all="ignore"):
        for l, m in enumerate(net.masos[:-1]):
            if m.num_pieces > 2 and l and net.masos[l - 1].num_pieces == 2:
                maps = state[3]
                pm = eng._pool_products(l, maps)
                assert pm is not None
                [(G, EG)] = eng._products(l, maps, [eng._sparse_pieces(l)])
                K, R, C = pm.shape
                i = pm.at(np.arange(K)[:, None, None], np.arange(R)[None, :, None], np.arange(C)[None, None, :])
                assert np.array_equal(pm.T[i], G.reshape(K, R, C, 3))
                assert np.array_equal(pm.E[i], EG.reshape(K, R, C))
                assert np.array_equal(pm.B, batch2d._abs_max3(pm.T))
                parts.append(len(maps.parts))
            state = eng.layer(l, *state)
    assert parts and (max(parts) > 1) == chunked
