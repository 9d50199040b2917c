"""Figures of partitions: one patch per region, Axes returned, no show()."""

from __future__ import annotations

from fractions import Fraction

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

import exactmaso as em  # noqa: E402
from exactmaso import plot  # noqa: E402


@pytest.fixture(scope="module")
def part2d():
    net = em.mlp([[[1, 1], [1, -1], [Fraction(1, 2), 2], [-1, Fraction(1, 3)]], [[1, -1, 1, 2], [0, 1, -1, 1]], [[1, 1]]],
                 [[0, Fraction(1, 4), -1, Fraction(1, 5)], [Fraction(-1, 2), 0], [0]])
    return em.regions(net, em.Box([-1, -1], [1, 1]))


@pytest.fixture(scope="module")
def part1d():
    net = em.mlp([[[1], [-1], [2]], [[1, 1, -1]]], [[0, 0, -1], [0]])
    return em.regions(net, em.Box([-1], [1]))


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("color_by", plot.COLOR_BY)
def test_partition_one_patch_per_region(part2d, color_by):
    fig, ax = plt.subplots()
    assert plot.partition(part2d, ax=ax, color_by=color_by) is ax
    assert len(ax.patches) == len(part2d)


def test_partition_makes_its_own_axes(part2d):
    ax = plot.partition(part2d)
    assert isinstance(ax, matplotlib.axes.Axes)
    assert len(ax.patches) == len(part2d)
    x0, x1 = ax.get_xlim()
    assert x0 <= -1 and x1 >= 1


def test_partition_rejects_unknown_colouring(part2d):
    with pytest.raises(ValueError, match="color_by"):
        plot.partition(part2d, color_by="taste")


def test_partition_1d(part1d):
    ax = plot.partition(part1d)
    assert len(ax.patches) == len(part1d) == 3
    assert len(ax.lines) == 1  # the piecewise-linear graph of the output


def test_graph_and_hierarchy(part2d, part1d):
    for p in (part2d, part1d):
        ax = plot.graph(p)
        assert isinstance(ax, matplotlib.axes.Axes)
        assert len(ax.collections[0].get_segments()) == p.graph.number_of_edges()
        assert isinstance(plot.hierarchy(p), matplotlib.axes.Axes)


def test_partition_refuses_3d():
    net = em.mlp([[[1, 1, 1]], [[1]]])
    part = em.regions(net, em.Box([-1, -1, -1], [1, 1, 1]))
    with pytest.raises(em.ShapeError, match="dimension 3"):
        plot.partition(part)
