"""The batched 2-D engine's driver: tasks for workers (the first layer resumed on pieces, or
its cells handed on), lazy float maps, and the same partition however the work is split."""

from __future__ import annotations

import copy
from concurrent.futures import Future, ProcessPoolExecutor

import numpy as np
import pytest

import exactmaso as em
from exactmaso.engine import batch2d


class PicklingExecutor:
    """Runs each task at once in this process, its arguments and result copied through the
    reduce protocol that pickle uses as a process pool sends them (``copy.deepcopy``: the code
    base never unpickles), the engine kept by ``_task`` between tasks included."""

    def __init__(self, workers: int) -> None:
        self._max_workers = workers
        self.tasks = 0

    def submit(self, fn, *args):
        self.tasks += 1
        fut: Future = Future()
        fut.set_result(copy.deepcopy(fn(*copy.deepcopy(args))))
        return fut


def relu_net(sizes, seed):
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=(m, n)) / np.sqrt(n) for n, m in zip(sizes, sizes[1:])]
    biases = [0.5 * rng.normal(size=m) for m in sizes[1:]]
    return em.mlp(weights, biases)


def maxout_first_net(seed):
    """Six units of three pieces each, then eight ReLU units, then one output."""
    rng = np.random.default_rng(seed)
    first = em.MASO(rng.integers(-4, 5, size=(6, 3, 2)), rng.integers(-3, 4, size=(6, 3)))
    A = np.zeros((8, 2, 6), dtype=int)
    B = np.zeros((8, 2), dtype=int)
    A[:, 1], B[:, 1] = rng.integers(-3, 4, size=(8, 6)), rng.integers(-3, 4, size=8)
    return em.Network.from_masos([first, em.MASO(A, B), em.MASO(rng.integers(-2, 3, size=(1, 1, 8)), [[0]])])


def same_partition(a, b):
    assert len(a) == len(b)
    assert [r.code for r in a] == [r.code for r in b]
    for x, y in zip(a, b):
        gx, gy = x._rec.geom, y._rec.geom
        assert gx.labels == gy.labels
        assert np.array_equal(gx.X, gy.X)  # the same float steps: the same float vertices
    step = max(1, len(a) // 50)
    assert all(a[i].vertices().tolist() == b[i].vertices().tolist() for i in range(0, len(a), step))


@pytest.mark.parametrize("split, per_worker", [(1, 1), (4, 2), (64, 3)])
def test_tasks_resuming_the_first_layer_give_the_serial_partition(monkeypatch, split, per_worker):
    # the parent cuts the first layer until it has `split` pieces per task; the workers resume
    # the cuts on contiguous runs of the pieces in code order
    monkeypatch.setattr(batch2d, "SPLIT_PIECES", split)
    monkeypatch.setattr(batch2d, "TASKS_PER_WORKER", per_worker)
    net = relu_net([2, 24, 20, 16, 1], 3)
    box = em.Box([-1, -1], [1, 1])
    serial = em.regions(net, box)
    ex = PicklingExecutor(2)
    par = em.regions(net, box, executor=ex)
    assert len(serial) > 300 and ex.tasks > 1
    same_partition(par, serial)
    par.verify()


def test_first_layer_of_three_pieces_is_cut_here_and_its_cells_handed_on():
    net = maxout_first_net(5)
    box = em.Box([-2, -2], [2, 2])
    serial = em.regions(net, box)
    ex = PicklingExecutor(2)
    par = em.regions(net, box, executor=ex)
    assert len(serial) > 30 and ex.tasks > 1
    same_partition(par, serial)
    par.verify()


def test_process_pool_gives_the_serial_partition_with_chunked_maps(monkeypatch):
    # worker processes; the parent's first layer and the workers' later layers in small chunks
    monkeypatch.setattr(batch2d, "MAP_FLOATS", 3 * 20 * 5)
    net = relu_net([2, 20, 20, 12, 1], 8)
    box = em.Box([-1, -1], [1, 1])
    serial = em.regions(net, box)
    with ProcessPoolExecutor(2) as pool:
        par = em.regions(net, box, executor=pool)
    same_partition(par, serial)


def test_depth_first_chunks_of_offset_codes_give_the_same_partition(monkeypatch):
    # the serial tail takes first-layer cells in chunks (their codes read through an offset,
    # their maps through windows built on demand)
    net = relu_net([2, 24, 20, 16, 1], 4)
    box = em.Box([-1, -1], [1, 1])
    whole = em.regions(net, box)
    monkeypatch.setattr(batch2d, "MAP_BYTES", 24 * 40 * 4 * 3)
    same_partition(em.regions(net, box), whole)


def test_map_windows_are_slices_of_the_maps():
    rng = np.random.default_rng(0)
    K, parents, n = 5, 3, 11
    G, EG = rng.normal(size=(K, parents, 3)), rng.uniform(size=(K, parents))
    sel = batch2d._Selected(G, EG, batch2d._abs_max3(G), rng.integers(0, parents, size=n),
                            rng.integers(0, 2, size=(n, K)).astype(np.int8), relu=True)
    M0 = rng.normal(size=(K + 1, 4, 3))
    maps = batch2d._Maps([sel, (M0, rng.uniform(size=(K + 1, 4)), rng.uniform(size=(K + 1, 4)))])
    for a, b in [(0, 15), (2, 9), (10, 13), (11, 15), (3, 4)]:
        want, got = maps.slice(a, b), maps.window(a, b).slice(0, b - a)
        assert np.array_equal(want[0], got[0]) and all(np.array_equal(x, y) for x, y in zip(want[1], got[1]))
    assert np.array_equal(batch2d._abs_max3(G), np.abs(G).max(axis=2))
