"""iter_regions and count_regions run the batched engines in runs of the first layer's cells
(``stream()``): the regions, their order, facet labels and vertices are those of
em.regions, however small the runs; the first region arrives before the cutting ends."""

from __future__ import annotations

import numpy as np
import pytest

import exactmaso as em
from exactmaso.engine import batch2d, batchnd
from exactmaso.engine.driver import Monitor
from test_engine2d_extra import relu_net


def _maxout_net(D, seed):
    rng = np.random.default_rng(seed)
    first = em.MASO(rng.integers(-4, 5, size=(6, 3, D)) / 4, rng.integers(-4, 5, size=(6, 3)) / 4)
    return em.Network.from_masos([first, em.MASO(rng.integers(-2, 3, size=(5, 2, 6)), rng.integers(-2, 3, size=(5, 2))),
                                  em.MASO(np.ones((1, 1, 5)), [[0]])])


NETS = {
    "relu-2d": (lambda: relu_net([2, 12, 10, 8, 1], 1), 2),
    "relu-3d": (lambda: relu_net([3, 10, 8, 1], 2), 3),
    "relu-1d": (lambda: relu_net([1, 6, 6, 1], 3), 1),
    "maxout-2d": (lambda: _maxout_net(2, 4), 2),
    "maxout-3d": (lambda: _maxout_net(3, 5), 3),
}


@pytest.mark.parametrize("name", sorted(NETS))
@pytest.mark.parametrize("budget", [1, 40])
def test_runs_give_the_partition_of_regions(monkeypatch, name, budget):
    build, D = NETS[name]
    net, box = build(), em.Box([-1] * D, [1] * D)
    whole = em.regions(net, box)
    monkeypatch.setattr(batch2d, "STREAM_VERTICES", budget)  # a run per first-layer cell, or a few
    monkeypatch.setattr(batchnd, "STREAM_VERTICES", budget)
    streamed = list(em.iter_regions(net, box))
    assert [r.code for r in streamed] == [r.code for r in whole]
    for a, b in zip(streamed, whole):
        assert a._rec.geom.labels == b._rec.geom.labels
        assert a.vertices().tolist() == b.vertices().tolist()
    assert em.count_regions(net, box) == len(whole)
    assert sum(r.volume() for r in streamed) == 2 ** D


@pytest.mark.parametrize("name", ["relu-2d", "maxout-3d"])
def test_the_first_region_arrives_before_the_cutting_ends(monkeypatch, name):
    ticks = []
    original = Monitor.tick
    monkeypatch.setattr(Monitor, "tick", lambda self, n: (ticks.append(n), original(self, n))[1])
    monkeypatch.setattr(batch2d, "STREAM_VERTICES", 1)
    monkeypatch.setattr(batchnd, "STREAM_VERTICES", 1)
    build, D = NETS[name]
    it = em.iter_regions(build(), em.Box([-1] * D, [1] * D))
    next(it)
    before_first = len(ticks)
    rest = list(it)
    assert len(rest) > 20 and before_first < len(ticks) / 2, (before_first, len(ticks))


def test_limits_bind_in_a_run():
    build, D = NETS["relu-3d"]
    net, box = build(), em.Box([-1] * D, [1] * D)
    n = em.count_regions(net, box)
    with pytest.raises(em.LimitError) as info:
        em.count_regions(net, box, max_regions=n // 2)
    assert n // 2 < info.value.count <= n
