"""Matplotlib figures of partitions: regions, adjacency graph, layer hierarchy.

Every function takes ``ax=None`` (a new figure is made when it is None), draws, and returns
the Axes; none calls ``show()``.  matplotlib is imported inside the functions.  Exact
coordinates become floats here, for drawing only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import ShapeError
from .export import code_color, polygon

__all__ = ["partition", "graph", "hierarchy", "COLOR_BY"]

COLOR_BY = ("output", "code", "layer", "volume")
"""Accepted values of ``color_by`` in :func:`partition`."""


def _axes(ax: Any) -> Any:
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6, 6))
    return ax


def _floats(values: Any) -> np.ndarray:
    arr = np.asarray(values, dtype=object)
    return np.array([float(v) for v in arr.flat], dtype=float).reshape(arr.shape)


def _region_values(part: Any, color_by: str, output: int) -> list[Any]:
    """One scalar (or an RGB colour for ``"code"``) per region."""
    if color_by == "code":
        return [code_color(r.code) for r in part]
    if color_by == "volume":
        return [float(r.volume()) for r in part]
    if color_by == "layer":
        # the index of the first-layer cell the region lies in: regions sharing a colour
        # were cut apart by later layers only
        firsts: dict[tuple, int] = {}
        return [firsts.setdefault(r.code[0], len(firsts)) for r in part]
    if color_by == "output":
        return [_mean_output(r, output) for r in part]
    raise ValueError(f"color_by is {color_by!r}; expected one of {COLOR_BY}")


def _mean_output(region: Any, output: int) -> float:
    """Mean of output ``output`` over the region: the affine map at the region's centroid."""
    A = _floats(region.affine.A)[output]
    b = float(region.affine.b[output])
    V = _floats(region.vertices())
    if V.shape[1] == 2 and len(V) >= 3:
        P = _floats(polygon(region))
        x, y = P[:, 0], P[:, 1]
        cross = x * np.roll(y, -1) - np.roll(x, -1) * y
        area = cross.sum() / 2
        if area != 0:
            cx = ((x + np.roll(x, -1)) * cross).sum() / (6 * area)
            cy = ((y + np.roll(y, -1)) * cross).sum() / (6 * area)
            return float(A @ np.array([cx, cy]) + b)
    return float(A @ V.mean(axis=0) + b)


def _colors(values: list[Any], color_by: str, cmap: str) -> list[Any]:
    if color_by == "code":
        return values
    import matplotlib

    vals = np.asarray(values, dtype=float)
    lo, hi = (float(vals.min()), float(vals.max())) if len(vals) else (0.0, 1.0)
    norm = matplotlib.colors.Normalize(lo, hi if hi > lo else lo + 1)
    colormap = matplotlib.colormaps[cmap]
    return [colormap(norm(v)) for v in vals]


def partition(
    part: Any,
    ax: Any = None,
    color_by: str = "output",
    *,
    output: int = 0,
    cmap: str = "viridis",
    edgecolor: str = "black",
    linewidth: float = 0.3,
) -> Any:
    """Draw a 1-D or 2-D partition, one filled patch per region.

    Parameters
    ----------
    part : Partition
    ax : matplotlib Axes, optional
    color_by : {"output", "code", "layer", "volume"}
        "output": mean of output ``output`` over the region; "code": a colour hashed from the
        code; "layer": the first-layer cell holding the region; "volume": the exact volume.
    output : int
        The output coordinate used by ``color_by="output"`` and by the 1-D graph.

    Returns
    -------
    matplotlib Axes
        For 2-D, ``ax.patches`` holds one polygon per region, in region order.  For 1-D, one
        span per region, and the output drawn as the piecewise-linear graph over the line.
    """
    dim = part.net.input_dim
    if dim not in (1, 2):
        raise ShapeError(f"plot.partition draws 1-D and 2-D partitions; this one lives in dimension {dim}")
    from matplotlib.patches import Polygon

    ax = _axes(ax)
    colors = _colors(_region_values(part, color_by, output), color_by, cmap)
    if dim == 2:
        for r, color in zip(part, colors):
            ax.add_patch(
                Polygon(_floats(polygon(r)), closed=True, facecolor=color, edgecolor=edgecolor, linewidth=linewidth)
            )
        ax.set_aspect("equal")
        ax.set_xlabel("$x_0$")
        ax.set_ylabel("$x_1$")
    else:
        _partition_1d(part, ax, colors, output, edgecolor, linewidth)
    ax.autoscale_view()
    ax.set_title(f"{len(part)} linear regions")
    return ax


def _partition_1d(part: Any, ax: Any, colors: list[Any], output: int, edgecolor: str, linewidth: float) -> None:
    pieces = []
    for r, color in zip(part, colors):
        a, b = sorted(_floats(r.vertices())[:, 0])
        ax.axvspan(a, b, facecolor=color, alpha=0.35, edgecolor=edgecolor, linewidth=linewidth)
        A, c = _floats(r.affine.A)[output, 0], float(r.affine.b[output])
        pieces.append((a, b, A * a + c, A * b + c))
    pieces.sort()
    xs = [x for a, b, _, _ in pieces for x in (a, b)]
    ys = [y for _, _, fa, fb in pieces for y in (fa, fb)]
    ax.plot(xs, ys, color="black", linewidth=1.2)
    ax.set_xlabel("$x_0$")
    ax.set_ylabel(f"output {output}")


def graph(part: Any, ax: Any = None, *, node_size: float = 12, color: str = "tab:red") -> Any:
    """Draw the region adjacency graph with each region at its exact interior point.

    Works for 1-D (points on a line) and 2-D partitions; other dimensions are projected on
    the first two coordinates.
    """
    from matplotlib.collections import LineCollection

    ax = _axes(ax)
    pts = np.array([_floats(r.point) for r in part], dtype=float).reshape(len(part), -1)
    if pts.shape[1] == 1:
        pts = np.hstack([pts, np.zeros_like(pts)])
    pts = pts[:, :2]
    segments = [(pts[i], pts[j]) for i, j in part.graph.edges()]
    ax.add_collection(LineCollection(segments, colors="0.3", linewidths=0.6, zorder=1))
    ax.scatter(pts[:, 0], pts[:, 1], s=node_size, c=color, zorder=2)
    ax.autoscale_view()
    ax.set_title(f"adjacency: {len(part)} regions, {part.graph.number_of_edges()} shared faces")
    return ax


def hierarchy(part: Any, ax: Any = None, *, node_size: float = 10) -> Any:
    """Draw ``part.hierarchy()`` as a layered tree: the root on top, one row per layer.

    Leaves (the regions) are spread evenly on the bottom row in depth-first order; each
    inner node sits above the mean of its children.
    """
    from matplotlib.collections import LineCollection

    ax = _axes(ax)
    tree = part.hierarchy()
    root = (0, ())
    x: dict[Any, float] = {}
    next_leaf = [0.0]

    def place(node: Any) -> float:
        # recursion depth is the number of layers
        children = sorted(tree.successors(node), key=lambda n: n[1])
        if not children:
            x[node] = next_leaf[0]
            next_leaf[0] += 1
        else:
            x[node] = float(np.mean([place(c) for c in children]))
        return x[node]

    place(root)
    depth = max(level for level, _ in tree.nodes) if tree.number_of_nodes() else 0
    pos = {n: (x[n], -n[0]) for n in x}
    segments = [(pos[u], pos[v]) for u, v in tree.edges() if u in pos and v in pos]
    ax.add_collection(LineCollection(segments, colors="0.4", linewidths=0.5, zorder=1))
    P = np.array(list(pos.values()), dtype=float).reshape(-1, 2)
    levels = np.array([n[0] for n in pos], dtype=float)
    ax.scatter(P[:, 0], P[:, 1], s=node_size, c=levels, cmap="plasma", zorder=2)
    ax.set_yticks([-l for l in range(depth + 1)])
    ax.set_yticklabels(
        [f"level {l}\n{sum(1 for n in pos if n[0] == l)} cells" for l in range(depth + 1)]
    )
    ax.set_xticks([])
    ax.autoscale_view()
    ax.set_title("layer-by-layer subdivision")
    return ax
