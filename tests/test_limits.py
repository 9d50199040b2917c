"""Limits bind inside the layer loops of every engine; progress ticks while a layer runs.

Regression tests for: a time limit of 2 s that fired after 171 s and a max_regions=1000 that
did not fire in 60 s on the former per-cell engine (max-pooling, three or more pieces), and a
progress line that was silent while a batched layer ran.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import exactmaso as em
from exactmaso.engine.driver import Monitor


def _max_of_three_net(K: int = 40, seed: int = 0, D: int = 3) -> em.Network:
    """Two layers of K units, each the max of three random affine pieces (over a minute on the
    former per-cell engine; the batched engines take it in seconds)."""
    rng = np.random.default_rng(seed)

    def layer(K, R, n):
        return em.MASO(rng.integers(-8, 9, size=(K, R, n)) / 8, rng.integers(-8, 9, size=(K, R)) / 8)

    return em.Network.from_masos([layer(K, 3, D), layer(K, 3, K), layer(1, 1, K)])


SQUARE = em.Box([-1, -1], [1, 1])
CUBE = em.Box([-1, -1, -1], [1, 1, 1])


def test_time_limit_binds_inside_a_layer_of_three_piece_units():
    net = _max_of_three_net()
    start = time.perf_counter()
    with pytest.raises(em.LimitError) as info:
        em.regions(net, CUBE, time_limit=0.3)
    # the limit must fire at the next cut, not at the end of a layer
    assert time.perf_counter() - start < 10
    assert info.value.count >= 0 and "time_limit=0.3" in str(info.value)


def test_max_regions_binds_on_three_piece_units_in_3d():
    net = _max_of_three_net()
    with pytest.raises(em.LimitError) as info:
        em.regions(net, CUBE, max_regions=50)
    assert info.value.count > 50 and "max_regions=50" in str(info.value)
    with pytest.raises(em.LimitError):
        em.count_regions(net, CUBE, max_regions=50)
    with pytest.raises(em.LimitError):
        list(em.iter_regions(net, CUBE, max_regions=50))


def test_max_of_three_pieces_on_the_batched_2d_engine():
    """The 2-D net of the per-cell regression (over a minute there) on the batched engine:
    complete, and its limits bind with a lower bound on the count."""
    net = _max_of_three_net(D=2)
    n = em.count_regions(net, SQUARE)
    assert n > 1000
    with pytest.raises(em.LimitError) as info:
        em.regions(net, SQUARE, max_regions=50)
    assert 50 < info.value.count <= n and "max_regions=50" in str(info.value)


def test_iter_regions_gives_the_regions_in_order():
    rng = np.random.default_rng(1)
    first = em.MASO(rng.integers(-4, 5, size=(12, 3, 3)) / 4, rng.integers(-4, 5, size=(12, 3)) / 4)
    net = em.Network.from_masos([first, em.MASO(np.ones((1, 1, 12)), [[0]])])
    streamed = list(em.iter_regions(net, CUBE))
    part = em.regions(net, CUBE)
    assert [r.code for r in streamed] == [r.code for r in part]
    assert [r.vertices().tolist() for r in streamed[:5]] == [r.vertices().tolist() for r in part[:5]]
    assert em.count_regions(net, CUBE) == len(part)


@pytest.mark.parametrize("sizes", [[2, 24, 24, 1], [3, 10, 10, 1]])
def test_progress_reports_while_a_batched_layer_runs(sizes, capsys, monkeypatch, random_mlp):
    monkeypatch.setattr(Monitor, "INTERVAL", 0.0)
    net = random_mlp(sizes, 3)
    em.regions(net, em.Box([-1] * sizes[0], [1] * sizes[0]), progress=True)
    err = capsys.readouterr().err
    assert "layer 1 of 3" in err and "layer 2 of 3" in err
    assert err.rstrip().endswith(")")  # the last line is the final count


def test_batched_engines_check_limits_during_the_cuts(random_mlp):
    net = random_mlp([2, 32, 32, 32, 1], 2)  # 1496 regions
    with pytest.raises(em.LimitError) as info:
        em.regions(net, SQUARE, max_regions=100)
    assert 100 < info.value.count < 1496
    net3 = random_mlp([3, 16, 16, 1], 4)
    with pytest.raises(em.LimitError) as info:
        em.regions(net3, em.Box([-1] * 3, [1] * 3), max_regions=100)
    assert 100 < info.value.count
