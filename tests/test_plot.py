"""Figures of partitions, rendered headless: what is drawn equals the exact geometry as floats.

Oracles: each region's exact vertices (``Region.vertices``, ``Region.polytope``) and the exact
forward pass ``net(x)``; class pieces are checked exactly (inside their region, their class on
top at every vertex, the right class at their interior point), so a class-coloured polygon
never crosses the decision boundary.
"""

from __future__ import annotations

import re
from fractions import Fraction

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import exactmaso as em  # noqa: E402
from exactmaso import boundary, colors, export, plot  # noqa: E402

from conftest import make_random_mlp  # noqa: E402
from test_boundary import affine_from_forward, label_of, top_classes  # noqa: E402

F = Fraction


@pytest.fixture(scope="module")
def part2d():
    net = em.mlp([[[1, 1], [1, -1], [Fraction(1, 2), 2], [-1, Fraction(1, 3)]], [[1, -1, 1, 2], [0, 1, -1, 1]], [[1, 1]]],
                 [[0, Fraction(1, 4), -1, Fraction(1, 5)], [Fraction(-1, 2), 0], [0]])
    return em.regions(net, em.Box([-1, -1], [1, 1]))


@pytest.fixture(scope="module")
def classes2d():
    """Three classes, 55 regions, 71 class pieces, 17 boundary pieces on [-2, 2]^2."""
    net = make_random_mlp([2, 6, 6, 3], 2)
    return em.regions(net, em.Box([-2, -2], [2, 2]))


@pytest.fixture(scope="module")
def part1d():
    net = em.mlp([[[1], [-1], [2]], [[1, 1, -1]]], [[0, 0, -1], [0]])
    return em.regions(net, em.Box([-1], [1]))


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def floats(points) -> list[tuple[float, ...]]:
    return [tuple(float(v) for v in p) for p in points]


def is_ccw(P) -> bool:
    n = len(P)
    return all((P[(i + 1) % n][0] - P[i][0]) * (P[(i + 2) % n][1] - P[i][1])
               - (P[(i + 1) % n][1] - P[i][1]) * (P[(i + 2) % n][0] - P[i][0]) > 0 for i in range(n))


def patch_vertices(patch) -> list[tuple[float, float]]:
    xy = patch.get_xy()
    return [tuple(p) for p in xy[:-1]]  # a closed Polygon repeats its first vertex


# -- the partition, one patch per region ---------------------------------------------------


@pytest.mark.parametrize("color_by", [c for c in plot.COLOR_BY if c != "class"])
@pytest.mark.parametrize("which", ["part2d", "classes2d"])
def test_one_patch_per_region_with_its_exact_vertices(request, which, color_by):
    part = request.getfixturevalue(which)
    fig, ax = plt.subplots()
    assert plot.partition(part, ax=ax, color_by=color_by) is ax
    assert len(ax.patches) == len(part)
    for region, patch in zip(part, ax.patches):
        drawn = patch_vertices(patch)
        assert sorted(drawn) == sorted(floats(region.vertices()))
        assert len(drawn) == len(region.vertices())
        x, y = np.array(drawn).T
        assert (x * np.roll(y, -1) - np.roll(x, -1) * y).sum() > 0  # counter-clockwise


def test_class_patches_never_straddle_the_boundary(classes2d):
    part, net = classes2d, classes2d.net
    ax = plot.partition(part, color_by="class", boundary=True)
    pieces = boundary.class_pieces(part)
    assert len(ax.patches) == len(pieces) > len(part)  # some regions are cut by the boundary
    area: dict[int, Fraction] = {}
    for piece, patch in zip(pieces, ax.patches):
        assert patch_vertices(patch) == floats(piece.vertices)
        assert is_ccw(piece.vertices)
        rows = part[piece.region].polytope
        for v in piece.vertices:  # inside one region (so the map is affine), its class on top
            assert rows.contains(v)
            assert piece.label in top_classes(net(list(v)))
        assert rows.contains_interior(piece.point)
        assert label_of(net(list(piece.point))) == piece.label
        assert tuple(round(255 * c) for c in patch.get_facecolor()[:3]) == colors.class_fill(piece.label)
        area[piece.region] = area.get(piece.region, F(0)) + piece.volume()
    assert all(area[r.index] == r.volume() for r in part)  # the pieces cover each region
    assert {piece.label for piece in pieces} == {0, 1, 2}
    assert ax.get_legend() is not None


def test_one_output_classes_are_the_sign(part2d):
    net = part2d.net
    ax = plot.partition(part2d, color_by="class")
    pieces = boundary.class_pieces(part2d)
    assert len(ax.patches) == len(pieces)
    for piece in pieces:
        y = net(list(piece.point))[0]
        assert piece.label == (1 if y > 0 else 0)
        for v in piece.vertices:
            f = net(list(v))[0]
            assert (f >= 0) if piece.label == 1 else (f <= 0)


@pytest.mark.parametrize("color_by", plot.COLOR_BY)
def test_colour_bar_or_legend(classes2d, color_by):
    ax = plot.partition(classes2d, color_by=color_by)
    assert len(ax.figure.axes) == (2 if color_by in colors.SCALED else 1)
    assert (ax.get_legend() is not None) == (color_by == "class")
    plt.close("all")
    ax = plot.partition(classes2d, color_by=color_by, colorbar=False)
    assert len(ax.figure.axes) == 1 and ax.get_legend() is None


def test_colour_values_are_exact(classes2d):
    """The scalars behind the colours: the exact mean of the output (its value at the exact
    centroid), the exact area, the exact l1 norm of the gradient."""
    region = classes2d[0]
    col = colors.coloring(classes2d, "output", output=1)
    assert isinstance(col.values[0], Fraction)
    # the mean over the polygon by an independent triangulation from one vertex
    P = export.polygon(region)
    total, moment = F(0), [F(0), F(0)]
    for i in range(1, len(P) - 1):
        a = ((P[i][0] - P[0][0]) * (P[i + 1][1] - P[0][1]) - (P[i][1] - P[0][1]) * (P[i + 1][0] - P[0][0])) / 2
        total += a
        for j in range(2):
            moment[j] += a * (P[0][j] + P[i][j] + P[i + 1][j]) / 3
    centroid = [moment[0] / total, moment[1] / total]
    assert col.values[0] == classes2d.net(centroid)[1]
    assert total == region.volume() == colors.coloring(classes2d, "volume").values[0]
    A, _ = affine_from_forward(classes2d.net, region)
    assert colors.coloring(classes2d, "norm", output=1).values[0] == abs(A[1][0]) + abs(A[1][1])


def test_points_and_data_on_top(classes2d):
    X = np.array([[0.5, -0.25], [-1.0, 1.0], [1.5, 1.5]])
    ax = plot.partition(classes2d, points=True, data=X, labels=[0, 1, 2], colorbar=False)
    pts, data = ax.collections[0], ax.collections[1]
    assert floats(pts.get_offsets()) == [tuple(float(v) for v in r.point) for r in classes2d]
    assert np.array_equal(data.get_offsets(), X)
    assert [tuple(round(255 * c) for c in fc[:3]) for fc in data.get_facecolors()] == [colors.class_rgb(c) for c in (0, 1, 2)]
    with pytest.raises(em.ShapeError, match="labels"):
        plot.partition(classes2d, data=X, labels=[0, 1])


def test_decision_boundary_segments_are_exact_ties(classes2d):
    net = classes2d.net
    ax = plot.decision_boundary(classes2d)
    drawn = ax.collections[-1].get_segments()
    pieces = boundary.decision_boundary(classes2d)
    distinct = {frozenset(map(tuple, p.vertices)): p for p in pieces}
    assert len(drawn) == len(distinct) > 0
    exact = {tuple(sorted(floats(k))): p for k, p in distinct.items()}
    for seg in drawn:
        p = exact[tuple(sorted(map(tuple, seg)))]
        i, j = p.outputs
        for v in p.vertices:
            y = list(net(list(v)))
            assert y[i] == y[j] == max(y)


def test_partition_with_boundary_draws_it_last(classes2d):
    ax = plot.partition(classes2d, color_by="output", boundary=True, colorbar=False)
    assert len(ax.collections[-1].get_segments()) == len(plot.boundary_segments(classes2d))


@pytest.mark.parametrize("color_by", plot.COLOR_BY)
def test_colours_identical_in_matplotlib_and_tikz(classes2d, color_by):
    ax = plot.partition(classes2d, color_by=color_by, output=1)
    text = export.tikz(classes2d, color_by=color_by, output=1)
    tikz = [tuple(int(v) for v in m) for m in re.findall(r"rgb,255:red,(\d+); green,(\d+); blue,(\d+)", text)]
    mpl = [tuple(round(255 * c) for c in p.get_facecolor()[:3]) for p in ax.patches]
    assert tikz == mpl and len(mpl) == len(ax.patches)
    svg = re.findall(r'fill="#([0-9a-f]{6})"', export.svg(classes2d, color_by=color_by, output=1))
    assert [tuple(int(h[k:k + 2], 16) for k in (0, 2, 4)) for h in svg] == mpl


def test_partition_makes_its_own_axes(part2d):
    ax = plot.partition(part2d)
    assert isinstance(ax, matplotlib.axes.Axes)
    assert len(ax.patches) == len(part2d)
    x0, x1 = ax.get_xlim()
    assert x0 <= -1 and x1 >= 1


def test_bad_options_are_typed_errors(part2d, classes2d):
    with pytest.raises(ValueError, match="color_by"):
        plot.partition(part2d, color_by="taste")
    with pytest.raises(em.ExactMasoError, match="'output', 'class'"):
        plot.partition(part2d, color_by="taste")
    with pytest.raises(em.OptionError, match="cmap"):
        plot.partition(part2d, cmap="no-such-map")
    with pytest.raises(em.ShapeError, match="outputs 0 .. 2"):
        plot.partition(classes2d, output=3)
    with pytest.raises(em.OptionError, match="kind"):
        plot.hierarchy(part2d, kind="forest")


def test_partition_refuses_3d():
    net = em.mlp([[[1, 1, 1]], [[1]]])
    part = em.regions(net, em.Box([-1, -1, -1], [1, 1, 1]))
    with pytest.raises(em.ShapeError, match="dimension 3"):
        plot.partition(part)
    with pytest.raises(em.ShapeError, match="dimension 3"):
        plot.hierarchy(part)
    assert isinstance(plot.hierarchy(part, kind="tree"), matplotlib.axes.Axes)


# -- 1-D -----------------------------------------------------------------------------------


def test_partition_1d_is_the_graph_with_its_breakpoints(part1d):
    net = part1d.net
    ax = plot.partition(part1d, boundary=True)
    assert len(ax.patches) == len(part1d) == 3
    for region, patch in zip(part1d, ax.patches):
        V = region.vertices()[:, 0]
        assert (patch.get_x(), patch.get_x() + patch.get_width()) == pytest.approx((float(min(V)), float(max(V))))
    (line,) = ax.lines  # the piecewise-linear graph of the output
    ends = sorted({v for r in part1d for v in r.vertices()[:, 0]})
    assert sorted(set(line.get_xdata())) == [float(v) for v in ends]
    for x, y in zip(line.get_xdata(), line.get_ydata()):
        assert y == float(net([F(x)])[0])  # the breakpoints are dyadic here: float(x) is exact
    marks = ax.collections[0].get_offsets()
    assert sorted(map(tuple, marks)) == sorted((float(v), float(net([v])[0])) for v in ends)


def test_partition_1d_classes(part1d):
    net = part1d.net
    ax = plot.partition(part1d, color_by="class", boundary=True)
    pieces = boundary.class_pieces(part1d)
    assert len(ax.patches) == len(pieces)
    for piece in pieces:
        assert label_of(net(list(piece.point))) == piece.label
    zeros = [float(p.vertices[0][0]) for p in boundary.decision_boundary(part1d)]
    drawn = [seg[0][0] for seg in ax.collections[-1].get_segments()]
    assert sorted(set(drawn)) == sorted(set(zeros))
    for x in zeros:
        assert net([F(x)])[0] == 0


# -- hierarchy -----------------------------------------------------------------------------


def unit_ties(net, l, x) -> bool:
    """Is x on a boundary of layer l: does some unit of layer l have two pieces tied at its
    maximum there (exact forward pass through the first l layers)?"""
    z = np.array(x, dtype=object)
    for m in net.masos[:l]:
        z = m(z)
    m = net.masos[l]
    for k in range(m.num_units):
        vals = [sum(m.A[k, r, j] * z[j] for j in range(m.input_dim)) + m.B[k, r] for r in range(m.num_pieces)]
        if sum(1 for v in vals if v == max(vals)) >= 2:
            return True
    return False


def test_hierarchy_one_panel_per_cutting_layer(classes2d):
    net = classes2d.net
    assert net.masos[-1].is_affine and len(net.masos) == 3
    axes = plot.hierarchy(classes2d)
    assert len(axes) == 2  # no panel for the affine output layer
    exact = plot.layer_segments(classes2d)
    assert sorted(exact) == [0, 1]
    for l, seg_list in exact.items():
        for seg in seg_list:
            mid = [(a + b) / 2 for a, b in zip(seg[0], seg[1])]
            assert unit_ties(net, l, mid)
    for l, ax in enumerate(axes):
        assert len(ax.patches) == len(classes2d)
        lines = ax.collections
        assert len(lines) == l + 1  # the boundaries of layers 0 .. l, one collection each
        for layer, coll in enumerate(lines):
            assert tuple(round(255 * c) for c in coll.get_colors()[0][:3]) == colors.layer_rgb(layer)
            assert sorted(tuple(map(tuple, s)) for s in coll.get_segments()) == sorted(
                tuple(floats(s)) for s in exact[layer])
    assert axes[-1].get_title().endswith(f"{len(classes2d)} cells")


def test_hierarchy_axes_given(classes2d):
    fig, (a, b) = plt.subplots(1, 2)
    assert plot.hierarchy(classes2d, ax=[a, b]) == [a, b]
    fig, one = plt.subplots()
    assert plot.hierarchy(classes2d, ax=one) == [one]
    assert len(one.collections) == 2  # the last panel: every layer's boundaries
    with pytest.raises(em.ShapeError, match="2 panels"):
        plot.hierarchy(classes2d, ax=[a])


def test_hierarchy_tree_has_no_affine_level(classes2d, part1d):
    for part in (classes2d, part1d):
        ax = plot.hierarchy(part, kind="tree")
        assert isinstance(ax, matplotlib.axes.Axes)
        L = len(part.net.masos)
        labels = [t.get_text() for t in ax.get_yticklabels()]
        assert len(labels) == L  # levels 0 .. L-1: the affine output layer adds none
        assert labels[-1].endswith(f"{len(part)} cells")


def test_hierarchy_1d(part1d):
    axes = plot.hierarchy(part1d)
    assert len(axes) == 1
    assert len(axes[0].patches) == len(part1d)


def test_graph(part2d, part1d):
    for p in (part2d, part1d):
        ax = plot.graph(p)
        assert isinstance(ax, matplotlib.axes.Axes)
        assert len(ax.collections[0].get_segments()) == p.graph.number_of_edges()


# -- surface -------------------------------------------------------------------------------


@pytest.mark.parametrize("color_by", ["output", "class"])
def test_surface_exact_facets(classes2d, color_by):
    net = classes2d.net
    ax = plot.surface(classes2d, output=2, color_by=color_by)
    (coll,) = ax.collections
    faces = getattr(coll, "_faces", None)
    if faces is None:  # pragma: no cover - matplotlib keeps the 3-D polygons here since 3.8
        pytest.skip("this matplotlib does not keep Poly3DCollection faces in _faces")
    invalid = np.broadcast_to(coll._invalid_vertices, faces.shape[:2])
    items = boundary.class_pieces(classes2d) if color_by == "class" else list(classes2d)
    assert len(faces) == len(items)
    for face, bad, item in zip(faces, invalid, items):
        V = item.vertices if color_by == "class" else export.polygon(item)
        want = [(float(x), float(y), float(net([x, y])[2])) for x, y in V]
        assert [tuple(p) for p in face[~bad]] == want
    assert sorted(set(map(tuple, faces[0][~invalid[0]][:, :2]))) == sorted(
        floats(items[0].vertices if color_by == "class" else items[0].vertices()))


def test_surface_needs_2d_and_3d_axes(part1d, part2d):
    with pytest.raises(em.ShapeError, match="2-D"):
        plot.surface(part1d)
    fig, ax = plt.subplots()
    with pytest.raises(em.ShapeError, match="3-D Axes"):
        plot.surface(part2d, ax=ax)


# -- templates -----------------------------------------------------------------------------


def test_templates_28x28():
    rng = np.random.default_rng(0)
    net = em.mlp([rng.normal(size=(5, 784)) / 28, rng.normal(size=(3, 5))])
    x = rng.uniform(size=784)
    T = em.templates(net, x)
    axes = plot.templates(T)
    assert axes.shape == (3,)
    for c, ax in enumerate(axes):
        img = ax.images[0].get_array()
        assert img.shape == (28, 28)
        assert np.array_equal(np.asarray(img), np.array([float(v) for v in T[c]]).reshape(28, 28))
    batch = em.templates(net, np.stack([x, 1 - x]))
    assert plot.templates(batch, (28, 28)).shape == (2, 3)


def test_templates_channels_first():
    rng = np.random.default_rng(1)
    layers = [em.Flatten(), em.Dense(rng.normal(size=(4, 3 * 8 * 8)) / 8), em.ReLU(), em.Dense(rng.normal(size=(2, 4)))]
    net = em.Network(layers, input_shape=(3, 8, 8))
    X = rng.uniform(size=(2, 3, 8, 8))
    ct = em.class_templates(net, X.reshape(2, -1))
    axes = plot.templates(ct)  # the shape comes from the network
    assert axes.shape == (2, 2)
    img = axes[0, 1].images[0].get_array()
    t = np.array([float(v) for v in ct.templates[0, 1]]).reshape(3, 8, 8)
    assert img.shape == (8, 8, 3)
    assert np.allclose(img, np.clip(0.5 + t.transpose(1, 2, 0) / (2 * np.abs(t).max()), 0, 1))
    assert "*" in axes[0, int(ct.predicted[0])].get_title()
    with pytest.raises(em.ShapeError, match="shape="):
        plot.templates(np.ones((2, 7)))
    with pytest.raises(em.ShapeError, match="holds 12 entries"):
        plot.templates(np.ones((2, 10)), shape=(3, 4))


# -- the example ---------------------------------------------------------------------------


FIGURES = ["partition_class.png", "partition_output.png", "hierarchy.png", "graph.png", "surface.png",
           "partition_1d.png", "templates.png"]


def test_figures_example_writes_every_kind(tmp_path, capsys):
    """examples/figures.py --quick (a few seconds): every figure kind as a PNG file."""
    pytest.importorskip("torch")
    import importlib.util
    import os

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "figures.py")
    spec = importlib.util.spec_from_file_location("figures_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = module.main(["--out", str(tmp_path), "--quick"])
    assert sorted(os.path.basename(p) for p in written) == sorted(FIGURES)
    for name in FIGURES:
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    out = capsys.readouterr().out
    assert "class pieces" in out and "wrote 7 figures" in out
