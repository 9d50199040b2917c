"""Matplotlib figures of partitions: regions, class pieces, decision boundary, layer
hierarchy, adjacency graph, the graph of an output, templates.

Every function takes ``ax=None`` (a new figure is made when it is None), draws, and returns
what it drew on (the Axes, or a list or array of Axes for several panels); none calls
``show()``.  matplotlib is imported inside the functions.  Exact coordinates become floats
here, for drawing only: every drawn vertex is the nearest float of an exact vertex.  Colours
come from :mod:`exactmaso.colors`, shared with the TikZ and SVG exports, so one ``color_by``
gives identical colours in all three.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Sequence

import numpy as np

from .colors import (
    COLOR_BY,
    check_output,
    class_fill,
    class_rgb,
    coloring,
    layer_rgb,
    rgb_float,
)
from .boundary import ClassPiece, class_split
from .errors import OptionError
from .colors import code_rgb
from .errors import ShapeError
from .export import polygon

__all__ = [
    "partition",
    "decision_boundary",
    "hierarchy",
    "graph",
    "surface",
    "templates",
    "COLOR_BY",
    "HIERARCHY_KINDS",
    "boundary_segments",
    "layer_segments",
    "surface_facets",
    "template_image",
]

HIERARCHY_KINDS = ("panels", "tree")
"""Accepted values of ``kind`` in :func:`hierarchy`."""

_BOUNDARY_STYLE = {"color": "black", "linewidths": 1.6, "zorder": 5}


def _axes(ax: Any, **subplot: Any) -> Any:
    if ax is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(6, 6))
        ax = fig.add_subplot(**subplot)
    return ax


def _floats(values: Any) -> np.ndarray:
    arr = np.asarray(values, dtype=object)
    return np.array([float(v) for v in arr.flat], dtype=float).reshape(arr.shape)


def _check_dim(part: Any, what: str, dims: tuple[int, ...] = (1, 2)) -> int:
    D = part.net.input_dim
    if D not in dims:
        want = " and ".join(f"{d}-D" for d in dims)
        raise ShapeError(f"{what} draws {want} partitions; this one lives in dimension {D}")
    return D


# ------------------------------------------------------------------------------------------
# the partition
# ------------------------------------------------------------------------------------------


def partition(
    part: Any,
    ax: Any = None,
    *,
    color_by: str = "output",
    output: int = 0,
    edges: bool = True,
    points: bool = False,
    data: Any = None,
    labels: Any = None,
    boundary: bool = False,
    colorbar: bool = True,
    cmap: str = "viridis",
    edgecolor: str = "black",
    linewidth: float = 0.3,
) -> Any:
    """Draw a 1-D or 2-D partition: one filled patch per region (per class piece for "class").

    Parameters
    ----------
    part : Partition
    ax : matplotlib Axes, optional
    color_by : {"output", "class", "code", "layer", "volume", "norm"}
        "output": the exact mean of output ``output`` over the region; "class": one colour per
        class, drawn per class piece (:func:`exactmaso.boundary.class_pieces`) so no colour
        crosses the decision boundary; "code": a colour hashed from the code; "layer": the
        first-layer cell holding the region; "volume": the exact volume; "norm": the exact
        ``||grad f_output||_1`` on the region (its Lipschitz constant of that output for the
        l-infinity norm on inputs).  See :mod:`exactmaso.colors`.
    output : int
        The output of "output", "norm" and of the 1-D graph.
    edges : bool
        Outline every patch (``edgecolor``, ``linewidth``).
    points : bool
        Mark each patch's exact interior point.
    data : array-like (N, D), optional
        Samples drawn on top (coloured by ``labels`` with the class colours when given).
    boundary : bool
        Draw the exact decision boundary on top (:func:`decision_boundary`).
    colorbar : bool
        A colour bar for the scaled colourings ("output", "layer", "volume", "norm"), a legend
        of the classes for "class".
    cmap : str
        matplotlib colour map of the scaled colourings.

    Returns
    -------
    matplotlib Axes
        ``ax.patches`` holds one polygon per region (per class piece for "class"), in order:
        in 2-D its vertices are the exact vertices, counter-clockwise, as floats; in 1-D a span
        per region under the piecewise-linear graph of the output, whose breakpoints are
        marked.

    Raises
    ------
    OptionError
        ``color_by`` or ``cmap`` unknown.
    ShapeError
        The partition is not 1-D or 2-D, or ``output`` is not an output.
    """
    D = _check_dim(part, "plot.partition")
    split = class_split(part) if (color_by == "class" or boundary) else None
    col = coloring(part, color_by, output=output, cmap=cmap, split=split)
    ax = _axes(ax)
    style = {"edgecolor": edgecolor, "linewidth": linewidth} if edges else {"edgecolor": "none", "linewidth": 0}
    if D == 2:
        _fill_2d(ax, col.items, col.colors, style)
    else:
        _fill_1d(ax, part, col.items, col.colors, output, style)
    if points:
        P = np.array([_floats(item.point) for item in col.items]).reshape(len(col.items), D)
        y = P[:, 1] if D == 2 else _floats([_value_at(part, item.point, output) for item in col.items])
        ax.scatter(P[:, 0], y, s=8, c="black", marker=".", zorder=3)
    if data is not None:
        _data(ax, part, data, labels, output)
    if boundary:
        decision_boundary(part, ax, split=split)
    if colorbar:
        _legend(ax, col, cmap)
    ax.autoscale_view()
    what = f"{len(part)} linear regions" + (f", {len(col.items)} class pieces" if color_by == "class" else "")
    ax.set_title(what)
    return ax


def _vertices(item: Any) -> np.ndarray:
    """Exact vertices of a drawn item: a class piece's, or a region's (2-D: counter-clockwise)."""
    if isinstance(item, ClassPiece):
        return item.vertices
    return polygon(item) if item.vertices().shape[1] == 2 else item.vertices()


def _fill_2d(ax: Any, items: Sequence[Any], colors: Sequence[Any], style: dict) -> None:
    from matplotlib.patches import Polygon

    for item, color in zip(items, colors):
        face = rgb_float(color)
        kw = dict(style, edgecolor=face) if style.get("edgecolor") == "face" else style  # no seams between patches
        ax.add_patch(Polygon(_floats(_vertices(item)), closed=True, facecolor=face, **kw))
    ax.set_aspect("equal")
    ax.set_xlabel("$x_0$")
    ax.set_ylabel("$x_1$")


def _fill_1d(ax: Any, part: Any, items: Sequence[Any], colors: Sequence[Any], output: int, style: dict) -> None:
    from matplotlib.patches import Rectangle

    ends = []
    for item, color in zip(items, colors):
        V = _vertices(item)[:, 0]
        a, b = float(min(V)), float(max(V))
        ax.add_patch(Rectangle((a, 0), b - a, 1, transform=ax.get_xaxis_transform(), facecolor=rgb_float(color),
                               alpha=0.45, **style))
    for r in part:
        V = r.vertices()[:, 0]
        lo, hi = min(V), max(V)
        A, c = r.affine.A[output, 0], r.affine.b[output]
        ends.append((lo, hi, A * lo + c, A * hi + c))
    ends.sort()
    xs = [float(x) for lo, hi, _, _ in ends for x in (lo, hi)]
    ys = [float(y) for _, _, ya, yb in ends for y in (ya, yb)]
    ax.plot(xs, ys, color="black", linewidth=1.2)
    breaks = sorted({(lo, ya) for lo, _, ya, _ in ends} | {(hi, yb) for _, hi, _, yb in ends})
    ax.scatter([float(x) for x, _ in breaks], [float(y) for _, y in breaks], s=10, c="black", zorder=3)
    ax.set_xlabel("$x_0$")
    ax.set_ylabel(f"output {output}")


def _value_at(part: Any, x: Any, output: int) -> Fraction:
    return part.net(list(x))[output]


def _data(ax: Any, part: Any, data: Any, labels: Any, output: int) -> None:
    X = _floats(data) if np.asarray(data).dtype == object else np.asarray(data, dtype=float)
    D = part.net.input_dim
    X = X.reshape(-1, D)
    if labels is not None:
        labels = np.asarray(labels).reshape(-1)
        if len(labels) != len(X):
            raise ShapeError(f"labels has {len(labels)} entries; data has {len(X)} samples")
        colors = [rgb_float(class_rgb(int(c))) for c in labels]
    else:
        colors = "black"
    if D == 2:
        y = X[:, 1]
    else:  # on the graph of the output, by the exact forward pass
        y = _floats(part.net(np.asarray(data, dtype=object).reshape(-1, 1))[:, output])
    ax.scatter(X[:, 0], y, s=14, c=colors, edgecolors="white", linewidths=0.4, zorder=4)


def _legend(ax: Any, col: Any, cmap: str) -> None:
    import matplotlib
    from matplotlib.patches import Patch

    if col.color_by == "class":
        ax.legend(handles=[Patch(facecolor=rgb_float(class_fill(k)), edgecolor="black", label=f"class {k}")
                           for k in sorted(set(col.values))], loc="upper right", fontsize="small")
    elif col.is_scaled:
        lo, hi = float(col.lo), float(col.hi)
        norm = matplotlib.colors.Normalize(lo, hi) if hi > lo else matplotlib.colors.Normalize(lo - 0.5, hi + 0.5)
        mappable = matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap)
        ax.figure.colorbar(mappable, ax=ax, label=col.label, shrink=0.8)


# ------------------------------------------------------------------------------------------
# the decision boundary
# ------------------------------------------------------------------------------------------


def boundary_segments(part: Any, split: Any = None) -> list[np.ndarray]:
    """The decision boundary as exact polylines, one per distinct piece (pieces on a common
    facet of two regions are one): 2-D segments, the closed outline of a region where a single
    output vanishes identically, 1-D points."""
    pieces = (split if split is not None else class_split(part)).boundary
    seen: set = set()
    out = []
    for p in pieces:
        key = frozenset(tuple(v) for v in p.vertices)
        if key in seen:
            continue
        seen.add(key)
        V = p.vertices
        if part.net.input_dim == 2 and len(V) > 2:  # a whole region: its closed outline
            V = polygon(part[p.region])
            V = np.vstack([V, V[:1]])
        out.append(V)
    return out


def decision_boundary(part: Any, ax: Any = None, *, color: str = "black", linewidth: float = 1.6,
                      split: Any = None) -> Any:
    """Draw the exact decision boundary (:func:`exactmaso.boundary.decision_boundary`).

    2-D: one line segment per distinct piece in a LineCollection (``ax.collections[-1]``),
    whose end points are the pieces' exact vertices as floats.  1-D: a vertical line at each
    boundary point.  ``split``: a :func:`~exactmaso.boundary.class_split` already computed.
    Returns the Axes.
    """
    D = _check_dim(part, "plot.decision_boundary")
    from matplotlib.collections import LineCollection

    ax = _axes(ax)
    segs = boundary_segments(part, split)
    style = dict(_BOUNDARY_STYLE, color=color, linewidths=linewidth)
    if D == 2:
        ax.add_collection(LineCollection([_floats(s) for s in segs], **style))
        ax.set_aspect("equal")
    else:
        xs = [float(s[0][0]) for s in segs]
        ax.add_collection(LineCollection([[(x, 0), (x, 1)] for x in xs], transform=ax.get_xaxis_transform(), **style))
    ax.autoscale_view()
    return ax


# ------------------------------------------------------------------------------------------
# the layer hierarchy
# ------------------------------------------------------------------------------------------


def _split_layers(part: Any) -> list[int]:
    """The layers that cut cells: every layer but affine ones (an affine output layer cuts
    nothing, its level repeats the one before)."""
    return [l for l, m in enumerate(part.net.masos) if not m.is_affine]


def layer_segments(part: Any) -> dict[int, list[np.ndarray]]:
    """Per layer, the region facets that the layer's units put there, exactly: each a pair of
    exact end points in 2-D (a point in 1-D), deduplicated between the two sides.

    A facet labelled ``(l, k, r, s)`` (see :attr:`Region.facet_labels`) lies where unit ``k``
    of layer ``l`` switches pieces, the first unit whose hyperplane holds it, so it is a new
    boundary of layer ``l``; its end points are the region's vertices on the facet's row.
    """
    D = part.net.input_dim
    out: dict[int, list[np.ndarray]] = {}
    seen: set = set()
    for r in part:
        V = r.vertices()
        for lab, row in zip(r.facet_labels, r.facet_rows()):
            if lab[0] == "d":
                continue
            on = [tuple(v) for v in V if sum(row[j] * v[j] for j in range(D)) + row[D] == 0]
            key = frozenset(on)
            if key in seen:
                continue
            seen.add(key)
            out.setdefault(lab[0], []).append(np.array(sorted(on), dtype=object))
    return out


def hierarchy(part: Any, ax: Any = None, *, kind: str = "panels", node_size: float = 10, linewidth: float = 1.0) -> Any:
    """The layer-by-layer subdivision.

    ``kind="panels"`` (1-D and 2-D partitions): one panel per layer that cuts (an affine output
    layer gets none): panel ``l`` fills the regions with the colour of their cell of layers
    ``0 .. l`` and draws the boundaries each layer ``<= l`` added, in that layer's colour
    (:data:`exactmaso.colors.LAYER_COLORS`).  ``ax``: None (a new row of panels), a sequence
    of one Axes per panel, or one Axes (the last panel only: every layer's boundaries).
    Returns the list of Axes drawn.

    ``kind="tree"``: :meth:`Partition.hierarchy` as a layered tree in one Axes, the root on
    top, one row per layer that cuts; leaves spread evenly in depth-first order, each inner
    node above the mean of its children.  Returns the Axes.
    """
    if kind not in HIERARCHY_KINDS:
        raise OptionError(f"kind is {kind!r}; expected one of {', '.join(map(repr, HIERARCHY_KINDS))}")
    if kind == "tree":
        return _tree(part, ax, node_size)
    D = part.net.input_dim
    if D not in (1, 2):
        raise ShapeError(f"plot.hierarchy panels draw 1-D and 2-D partitions; this one lives in dimension {D} "
                         "(kind='tree' draws any)")
    layers = _split_layers(part) or [len(part.net.masos) - 1]
    axes = _panel_axes(ax, len(layers))
    shown = layers if len(axes) == len(layers) else layers[-1:]
    segs = layer_segments(part)
    for a, l in zip(axes, shown):
        _layer_panel(part, a, l, segs, linewidth)
    return axes


def _panel_axes(ax: Any, n: int) -> list:
    if ax is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, n, figsize=(4.2 * n, 4.4), squeeze=False, layout="constrained")
        return list(axes[0])
    if hasattr(ax, "add_patch"):
        return [ax]
    axes = list(np.asarray(ax, dtype=object).flat)
    if len(axes) != n:
        raise ShapeError(f"plot.hierarchy draws {n} panels (one per layer that cuts); {len(axes)} Axes were given")
    return axes


def _layer_panel(part: Any, ax: Any, l: int, segs: dict, linewidth: float) -> None:
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    D = part.net.input_dim
    cells = {r.code[: l + 1] for r in part}
    colors = [code_rgb(r.code[: l + 1]) for r in part]
    flat = {"edgecolor": "face", "linewidth": 0.4} if D == 2 else {"edgecolor": "none", "linewidth": 0}
    if D == 2:
        _fill_2d(ax, list(part), colors, flat)
    else:
        _fill_1d(ax, part, list(part), colors, 0, flat)
    handles = []
    for layer in sorted(k for k in segs if k <= l):
        color = rgb_float(layer_rgb(layer))
        if D == 2:
            lines = [_floats(s) for s in segs[layer]]
        else:
            lines = [[(float(s[0][0]), 0), (float(s[0][0]), 1)] for s in segs[layer]]
        kw = {} if D == 2 else {"transform": ax.get_xaxis_transform()}
        ax.add_collection(LineCollection(lines, colors=[color], linewidths=linewidth * (2.0 if layer == l else 1.2),
                                         zorder=3 + layer, **kw))
        handles.append(Line2D([], [], color=color, label=f"layer {layer}"))
    if handles:
        ax.legend(handles=handles, loc="upper right", fontsize="small")
    ax.autoscale_view()
    ax.set_title(f"layers 0-{l}: {len(cells)} cells" if l else f"layer 0: {len(cells)} cells")


def _tree(part: Any, ax: Any, node_size: float) -> Any:
    from matplotlib.collections import LineCollection

    ax = _axes(ax)
    tree = part.hierarchy()
    L = len(part.net.masos)
    depth = L - 1 if part.net.masos[-1].is_affine else L  # an affine output layer repeats its level
    root = (0, ())
    x: dict[Any, float] = {}
    next_leaf = [0.0]

    def place(node: Any) -> float:
        # recursion depth is the number of layers
        children = [] if node[0] >= depth else sorted(tree.successors(node), key=lambda n: n[1])
        if not children:
            x[node] = next_leaf[0]
            next_leaf[0] += 1
        else:
            x[node] = float(np.mean([place(c) for c in children]))
        return x[node]

    place(root)
    pos = {n: (x[n], -n[0]) for n in x}
    segments = [(pos[u], pos[v]) for u, v in tree.edges() if u in pos and v in pos]
    ax.add_collection(LineCollection(segments, colors="0.4", linewidths=0.5, zorder=1))
    P = np.array(list(pos.values()), dtype=float).reshape(-1, 2)
    levels = np.array([n[0] for n in pos], dtype=float)
    ax.scatter(P[:, 0], P[:, 1], s=node_size, c=levels, cmap="plasma", zorder=2)
    ax.set_yticks([-lv for lv in range(depth + 1)])
    ax.set_yticklabels([f"level {lv}\n{sum(1 for n in pos if n[0] == lv)} cells" for lv in range(depth + 1)])
    ax.set_xticks([])
    ax.autoscale_view()
    ax.set_title("layer-by-layer subdivision")
    return ax


# ------------------------------------------------------------------------------------------
# the adjacency graph
# ------------------------------------------------------------------------------------------


def graph(part: Any, ax: Any = None, *, node_size: float = 12, color: str = "tab:red") -> Any:
    """Draw the region adjacency graph with each region at its exact interior point.

    Works for 1-D (points on a line) and 2-D partitions; other dimensions are projected on
    the first two coordinates.  ``ax.collections[0]`` holds one segment per edge.
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


# ------------------------------------------------------------------------------------------
# the graph of an output over a 2-D domain
# ------------------------------------------------------------------------------------------


def surface_facets(part: Any, output: int = 0, items: Sequence[Any] | None = None) -> list[np.ndarray]:
    """The exact facets of the graph of output ``output`` over a 2-D partition: per region (or
    per item of ``items``, e.g. class pieces), its polygon lifted to ``(x, y, f(x, y))``."""
    check_output(part.net, output)
    out = []
    for item in (items if items is not None else part):
        V = _vertices(item)
        aff = part[item.region].affine if isinstance(item, ClassPiece) else item.affine
        a, b = aff.A[output], aff.b[output]
        out.append(np.array([[x, y, a[0] * x + a[1] * y + b] for x, y in V], dtype=object))
    return out


def surface(part: Any, ax: Any = None, *, output: int = 0, color_by: str = "output", cmap: str = "viridis",
            edges: bool = True, linewidth: float = 0.2) -> Any:
    """The piecewise-linear graph of output ``output`` over a 2-D domain, as exact 3-D facets.

    One polygon per region (per class piece for ``color_by="class"``) in a
    :class:`~mpl_toolkits.mplot3d.art3d.Poly3DCollection` (``ax.collections[0]``): the region's
    exact vertices, counter-clockwise, with height the exact output there, as floats.
    Colours as in :func:`partition`.  ``ax`` must be a 3-D Axes (``projection="3d"``) when given.
    Returns the Axes.
    """
    _check_dim(part, "plot.surface", (2,))
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    ax = _axes(ax, projection="3d")
    if not hasattr(ax, "zaxis"):
        raise ShapeError("plot.surface draws on a 3-D Axes; pass one made with projection='3d'")
    col = coloring(part, color_by, output=output, cmap=cmap)
    facets = [_floats(F) for F in surface_facets(part, output, col.items)]
    coll = Poly3DCollection(facets, facecolors=[rgb_float(c) for c in col.colors],
                            edgecolors="black" if edges else "none", linewidths=linewidth if edges else 0)
    ax.add_collection3d(coll)
    allp = np.vstack(facets)
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    pad = np.where(hi > lo, 0.0, 0.5)
    ax.set_xlim(lo[0] - pad[0], hi[0] + pad[0])
    ax.set_ylim(lo[1] - pad[1], hi[1] + pad[1])
    ax.set_zlim(lo[2] - pad[2], hi[2] + pad[2])
    ax.set_xlabel("$x_0$")
    ax.set_ylabel("$x_1$")
    ax.set_zlabel(f"output {output}")
    ax.set_title(f"output {output}: {len(facets)} exact facets")
    return ax


# ------------------------------------------------------------------------------------------
# templates
# ------------------------------------------------------------------------------------------


def template_image(row: Any, shape: Sequence[int]) -> np.ndarray:
    """One template (D,) as an image: (H, W) for shapes (H, W) and (1, H, W); (H, W, 3) RGB for
    (3, H, W), mapped to [0, 1] by ``1/2 + t / (2 max|t|)``; other channel counts side by side
    (H, C W + C - 1) with a NaN column between channels."""
    t = _floats(row).reshape(tuple(int(s) for s in shape))
    if t.ndim == 2:
        return t
    if t.ndim != 3:
        raise ShapeError(f"template shape {tuple(shape)}; expected (H, W) or (C, H, W)")
    C, H, W = t.shape
    if C == 1:
        return t[0]
    if C == 3:
        m = float(np.abs(t).max()) or 1.0
        return np.clip(0.5 + t.transpose(1, 2, 0) / (2 * m), 0, 1)
    gap = np.full((H, 1), np.nan)
    return np.hstack([part for c in range(C) for part in ((t[c], gap) if c < C - 1 else (t[c],))])


def _infer_shape(D: int) -> tuple[int, ...]:
    s = int(round(D ** 0.5))
    if s * s == D:
        return (s, s)
    s = int(round((D / 3) ** 0.5))
    if 3 * s * s == D:
        return (3, s, s)
    raise ShapeError(f"templates have {D} entries, neither s*s nor 3*s*s; pass shape=(H, W) or (C, H, W)")


def templates(T: Any, shape: Sequence[int] | None = None, *, ax: Any = None, cmap: str = "RdBu_r",
              titles: Sequence[str] | None = None) -> np.ndarray:
    """Templates as images in the input's shape.

    Parameters
    ----------
    T : array (C, D) or (N, C, D), or ClassTemplates
        What :func:`exactmaso.templates` returns (the rows of ``A`` at an input: one template
        per output), or :func:`exactmaso.class_templates`' result (its ``templates``, the
        network's input shape, and the predicted class in the titles).
    shape : (H, W) or (C, H, W), optional
        The input's shape (e.g. (28, 28) or (3, 32, 32)); inferred from a ClassTemplates' network,
        else from ``D`` when it is a square (or three squares).
    ax : Axes or array of Axes, optional
        One per image, (N, C) or flat.
    cmap : str
        A diverging colour map; each image is scaled symmetrically around 0 (``vmin = -vmax``).

    Returns
    -------
    numpy array of Axes, shape (N, C) (C for one template matrix); ``axes[i, c].images[0]``
    shows template ``c`` at input ``i`` (see :func:`template_image`).
    """
    predicted = None
    if hasattr(T, "templates") and hasattr(T, "net"):
        predicted = np.asarray(T.predicted)
        shape = shape if shape is not None else T.net.input_shape
        T = T.templates
    arr = np.asarray(T, dtype=object)
    single = arr.ndim == 2
    if single:
        arr = arr[None]
    if arr.ndim != 3:
        raise ShapeError(f"templates have shape {arr.shape}; expected (C, D) or (N, C, D)")
    N, C, D = arr.shape
    shape = tuple(shape) if shape is not None else _infer_shape(D)
    if int(np.prod(shape)) != D:
        raise ShapeError(f"shape {shape} holds {int(np.prod(shape))} entries; the templates have {D}")
    if ax is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(N, C, figsize=(1.9 * C, 2.0 * N), squeeze=False, layout="constrained")
    else:
        axes = np.asarray(ax, dtype=object).reshape(-1)
        if len(axes) != N * C:
            raise ShapeError(f"{N * C} templates to draw; {len(axes)} Axes were given")
        axes = axes.reshape(N, C)
    for i in range(N):
        for c in range(C):
            a = axes[i, c]
            img = template_image(arr[i, c], shape)
            if img.ndim == 3:
                a.imshow(img, interpolation="nearest")
            else:
                m = float(np.nanmax(np.abs(img))) if np.isfinite(img).any() else 0.0
                a.imshow(img, cmap=cmap, vmin=-(m or 1.0), vmax=m or 1.0, interpolation="nearest")
            a.set_xticks([])
            a.set_yticks([])
            k = i * C + c
            if titles is not None:
                a.set_title(titles[k], fontsize="small")
            else:
                star = " *" if predicted is not None and C > 1 and predicted[i] == c else ""
                a.set_title((f"input {i}, " if N > 1 else "") + f"output {c}{star}", fontsize="small")
    return axes[0] if single else axes
