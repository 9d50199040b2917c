"""Exact local complexity, checked against mathematics and an independent oracle.

The oracle below imports nothing from exactmaso: networks are raw lists of Fraction weights
(ReLU after every layer but the last), codes come from a plain Fraction forward pass, and
the geometry facts (line arrangements, distances to segments) are computed from scratch.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction as F

import numpy as np
import pytest

import exactmaso as em

# ------------------------------------------------------------------------------------------
# the oracle (plain Fractions, nothing from exactmaso)
# ------------------------------------------------------------------------------------------


def oracle_forward(layers, x):
    """(code, output, tie) of the ReLU net ``layers`` = [(W, b), ...] at the exact point x.

    Code: per layer the tuple of 1 (pre-activation > 0) / 0, the last (affine) layer all 0;
    ``tie`` is True when some hidden pre-activation is exactly 0."""
    z = list(x)
    code, tie = [], False
    for i, (W, b) in enumerate(layers):
        pre = [sum((w * v for w, v in zip(row, z)), F(0)) + c for row, c in zip(W, b)]
        if i == len(layers) - 1:
            code.append(tuple(0 for _ in pre))
            z = pre
        else:
            code.append(tuple(1 if p > 0 else 0 for p in pre))
            tie = tie or any(p == 0 for p in pre)
            z = [p if p > 0 else F(0) for p in pre]
    return tuple(code), z, tie


def oracle_affine(layers, code, x0, dirs):
    """The exact affine map t -> net(x0 + M t) under ``code`` (M = dirs^T), as a hashable tuple."""
    P = len(dirs)
    # the map so far: value = J t + c, J a list of rows (one per unit)
    J = [[dirs[p][i] for p in range(P)] for i in range(len(x0))]
    c = list(x0)
    for l, ((W, b), active) in enumerate(zip(layers, code)):
        J2 = [[sum((w * J[i][p] for i, w in enumerate(row)), F(0)) for p in range(P)] for row in W]
        c2 = [sum((w * c[i] for i, w in enumerate(row)), F(0)) + bb for row, bb in zip(W, b)]
        if l < len(layers) - 1:  # a hidden layer: inactive units give 0
            J2 = [r if a else [F(0)] * P for r, a in zip(J2, active)]
            c2 = [v if a else F(0) for v, a in zip(c2, active)]
        J, c = J2, c2
    return tuple(map(tuple, J)), tuple(c)


def to_x(x0, dirs, t):
    return [x0[i] + sum((t[p] * dirs[p][i] for p in range(len(dirs))), F(0)) for i in range(len(x0))]


def grid(shape, P, r, n):
    """Exact points of a grid on the neighbourhood in t-coordinates, shifted off the axes."""
    shift = F(1, 7919)
    for ks in itertools.product(range(-n, n + 1), repeat=P):
        t = [r * k / n + shift * (i + 1) for i, k in enumerate(ks)]
        inside = sum(abs(v) for v in t) < r if shape == "cross" else max(abs(v) for v in t) < r
        if inside:
            yield t


def cross_vertices(P, r):
    out = []
    for i in range(P):
        for s in (r, -r):
            t = [F(0)] * P
            t[i] = s
            out.append(t)
    return out


def box_vertices(P, r):
    return [list(c) for c in itertools.product((r, -r), repeat=P)]


def oracle_approx(layers, x0, dirs, shape, r):
    """The published estimate by hand: per layer, units whose code is not constant at the vertices."""
    P = len(dirs)
    verts = cross_vertices(P, r) if shape == "cross" else box_vertices(P, r)
    codes = [oracle_forward(layers, to_x(x0, dirs, t))[0] for t in verts]
    return [sum(1 for k in range(len(codes[0][l])) if len({c[l][k] for c in codes}) > 1) for l in range(len(layers))]


def polygon_2d(shape, r):
    """Vertices of the 2-D neighbourhood in t-coordinates, in cyclic order."""
    if shape == "cross":
        return [(r, F(0)), (F(0), r), (-r, F(0)), (F(0), -r)]
    return [(r, r), (-r, r), (-r, -r), (r, -r)]


def line_cuts(line, poly):
    """The segment where the line a.t + c = 0 crosses the convex polygon's interior (or None)."""
    a0, a1, c = line
    f = [a0 * p[0] + a1 * p[1] + c for p in poly]
    if not (min(f) < 0 < max(f)):
        return None
    pts = []
    for i in range(len(poly)):
        p, q = poly[i], poly[(i + 1) % len(poly)]
        fp, fq = f[i], f[(i + 1) % len(poly)]
        if fp == 0:
            pts.append(p)
        elif fp * fq < 0:
            s = fp / (fp - fq)
            pts.append((p[0] + s * (q[0] - p[0]), p[1] + s * (q[1] - p[1])))
    pts = sorted(set(pts))
    assert len(pts) == 2
    return pts


def gram(dirs):
    return [[sum((a * b for a, b in zip(u, v)), F(0)) for v in dirs] for u in dirs]


def q(G, u, v):
    return sum((u[i] * G[i][j] * v[j] for i in range(len(u)) for j in range(len(v))), F(0))


def segment_distance_sq(seg, G):
    """Exact squared G-distance from 0 to the segment (a clamped projection), and the nearest point."""
    e1, e2 = seg
    d = tuple(b - a for a, b in zip(e1, e2))
    s = -q(G, e1, d) / q(G, d, d)
    s = min(max(s, F(0)), F(1))
    y = tuple(a + s * v for a, v in zip(e1, d))
    return q(G, y, y), y


def restricted_lines(W, b, x0, dirs):
    """Each unit of a one-hidden-layer net as a line a.t + c = 0 in t-coordinates."""
    return [(sum((w * dirs[0][i] for i, w in enumerate(row)), F(0)),
             sum((w * dirs[1][i] for i, w in enumerate(row)), F(0)),
             sum((w * x0[i] for i, w in enumerate(row)), F(0)) + c) for row, c in zip(W, b)]


class NotGeneral(Exception):
    """The lines are not in general position with respect to the polygon."""


def arrangement_count(lines, poly):
    """Regions cut from a convex polygon by lines in general position: 1 + lines crossing it +
    crossing points strictly inside.  Raises NotGeneral for parallel crossing lines, a
    crossing on the boundary, or three lines through one inside point."""
    cut = [ln for ln in lines if line_cuts(ln, poly) is not None]
    inside = []
    for (a, b, c), (d, e, f) in itertools.combinations(cut, 2):
        det = a * e - b * d
        if det == 0:
            raise NotGeneral("parallel lines")
        p = ((b * f - c * e) / det, (c * d - a * f) / det)
        sides = [(q1[0] - p0[0]) * (p[1] - p0[1]) - (q1[1] - p0[1]) * (p[0] - p0[0])
                 for p0, q1 in zip(poly, poly[1:] + poly[:1])]  # > 0: left of the edge
        if all(v > 0 for v in sides) or all(v < 0 for v in sides):
            inside.append(p)
        elif all(v >= 0 for v in sides) or all(v <= 0 for v in sides):
            raise NotGeneral("a crossing on the boundary")
    if len(set(inside)) != len(inside):
        raise NotGeneral("three lines through one point")
    return 1 + len(cut) + len(inside)


def as_mlp(layers):
    return em.mlp([W for W, _ in layers], [b for _, b in layers])


def fr(rows):
    return [[F(v) for v in row] for row in rows]


# exactly orthonormal rational directions (rows of (1/3) [[2, 2, 1], [-2, 1, 2], [1, -2, 2]])
DIRS_3D = [[F(2, 3), F(2, 3), F(1, 3)], [F(-2, 3), F(1, 3), F(2, 3)]]
AXES_2D = [[F(1), F(0)], [F(0), F(1)]]


def check_against_oracle(layers, lc, j, *, n_grid):
    """Every region the library reports is genuine (its point has its code, no tie, inside the
    neighbourhood); grid codes are among them; regions tile the neighbourhood (volumes);
    pieces and the approximation agree with the oracle."""
    part = lc.partitions[j]
    x0 = list(lc.samples[j])
    dirs = [list(d) for d in lc.directions]
    P, r = len(dirs), lc.radius
    codes = set()
    for reg in part:
        t = list(reg.point)
        assert (sum(abs(v) for v in t) if lc.shape == "cross" else max(abs(v) for v in t)) < r
        code, _, tie = oracle_forward(layers, to_x(x0, dirs, t))
        assert not tie and code == reg.code
        codes.add(code)
    assert len(codes) == len(part) == lc.regions[j]
    for t in grid(lc.shape, P, r, n_grid):
        code, _, tie = oracle_forward(layers, to_x(x0, dirs, t))
        assert tie or code in codes
    volume = (2 * r) ** P / math.factorial(P) if lc.shape == "cross" else (2 * r) ** P
    assert sum(reg.volume() for reg in part) == volume
    assert len({oracle_affine(layers, c, x0, dirs) for c in codes}) == lc.pieces[j]
    assert list(lc.approx_per_layer[j]) == oracle_approx(layers, x0, dirs, lc.shape, r)
    varying = [sum(1 for k in range(len(next(iter(codes))[l])) if len({c[l][k] for c in codes}) > 1)
               for l in range(len(layers))]
    assert list(lc.neurons_per_layer[j]) == varying


# ------------------------------------------------------------------------------------------
# counts known from theory
# ------------------------------------------------------------------------------------------


def test_line_arrangement_in_a_diamond():
    """Five lines built by hand in the diamond |t1| + |t2| <= 1 (axes, x0 = 0): x1 = 1/5,
    x2 = -1/7, x1 + x2 = 1/3 and 3 x1 - x2 = 2 cross it; of their 6 crossings all but
    (1/5, -7/5) lie inside; x1 + x2 = 3 misses it -> 1 + 4 + 5 = 10 regions."""
    W = fr([[1, 0], [0, 1], [1, 1], [3, -1], [1, 1]])
    b = [F(-1, 5), F(1, 7), F(-1, 3), F(-2), F(-3)]
    layers = [(W, b), (fr([[1, 2, 3, 4, 5]]), [F(0)])]
    lines = restricted_lines(W, b, [F(0), F(0)], AXES_2D)
    assert arrangement_count(lines, polygon_2d("cross", F(1))) == 10  # 1 + 4 lines + 5 crossings
    lc = em.local_complexity(as_mlp(layers), [[0, 0]], 1, directions=AXES_2D, keep_partitions=True)
    assert lc.regions.tolist() == [10]
    assert lc.neurons.tolist() == [4] and lc.approx.tolist() == [4]  # one layer: a line cuts iff vertices differ
    check_against_oracle(layers, lc, 0, n_grid=24)


def test_random_arrangements_in_a_slice_of_3d():
    """One-hidden-layer nets in D = 3, seen in a 2-D slice: the count is the arrangement's
    (drawn until the oracle finds the lines in general position) and the distance is the
    nearest segment's."""
    rng = np.random.default_rng(7)
    G = gram(DIRS_3D)
    for shape in ("cross", "box"):
        done = 0
        while done < 3:
            W = [[F(int(v), 8) for v in row] for row in rng.integers(-16, 17, size=(6, 3))]
            b = [F(int(v), 16) for v in rng.integers(-12, 13, size=6)]
            x0 = [F(int(v), 10) for v in rng.integers(-3, 4, size=3)]
            lines = restricted_lines(W, b, x0, DIRS_3D)
            poly = polygon_2d(shape, F(3, 4))
            try:
                expected = arrangement_count(lines, poly)
            except NotGeneral:
                continue
            layers = [(W, b), (fr([[1] * 6]), [F(0)])]
            lc = em.local_complexity(as_mlp(layers), [x0], F(3, 4), shape, directions=DIRS_3D, keep_partitions=True)
            assert lc.regions[0] == expected
            segs = [s for s in (line_cuts(ln, poly) for ln in lines) if s is not None]
            if segs:
                assert lc.boundary_distance_sq[0] == min(segment_distance_sq(s, G)[0] for s in segs)
            else:
                assert lc.boundary_distance_sq[0] is None
            check_against_oracle(layers, lc, 0, n_grid=12)
            done += 1


def test_one_neuron_straddling_its_hyperplane():
    """relu(w.x + b) with w outside the slice: 2 regions, and the distance within the slice,
    (w.x0 + b)^2 / ||M^T w||^2, is larger than the distance in the full space."""
    d = [[F(3, 5), F(4, 5), F(0)], [F(0), F(0), F(1)]]  # orthonormal, exactly
    layers = [(fr([[1, 2, 3]]), [F(-1, 4)]), (fr([[1]]), [F(0)])]
    lc = em.local_complexity(as_mlp(layers), [[0, 0, 0]], 1, directions=d, keep_partitions=True)
    Mtw2 = F(11, 5) ** 2 + 3**2  # ||M^T w||^2 = 346/25
    assert lc.regions.tolist() == [2] and lc.pieces.tolist() == [2]
    assert lc.boundary_distance_sq[0] == F(1, 16) / Mtw2 == F(25, 5536)
    assert lc.boundary_distance_sq[0] > F(1, 16) / 14  # the full-space distance is smaller
    p = lc.boundary_point[0]
    assert sum(w * v for w, v in zip([1, 2, 3], p)) - F(1, 4) == 0  # on the hyperplane
    assert sum(v * v for v in p) == lc.boundary_distance_sq[0]  # at that distance from x0 = 0
    assert lc.boundary_distance[0] == pytest.approx(math.sqrt(25 / 5536))
    assert lc.neurons_per_layer.tolist() == [[1, 0]] and lc.approx_per_layer.tolist() == [[1, 0]]
    check_against_oracle(layers, lc, 0, n_grid=10)


def test_inside_one_region():
    layers = [(fr([[1, 0], [0, 1]]), [F(5), F(-5)]), (fr([[1, 1]]), [F(0)])]
    lc = em.local_complexity(as_mlp(layers), [[0, 0], [F(1, 3), F(-1, 2)]], 1, directions=AXES_2D)
    assert lc.regions.tolist() == [1, 1] and lc.pieces.tolist() == [1, 1]
    assert lc.approx.tolist() == [0, 0] and lc.neurons.tolist() == [0, 0]
    assert list(lc.boundary_distance_sq) == [None, None]
    assert np.isinf(lc.boundary_distance).all() and lc.boundary_point == (None, None)


def test_distance_uses_the_exact_metric_of_the_directions():
    """Directions (2, 0), (0, 1): x1 = 1/2 is t1 = 1/4, at distance 1/2 in input space."""
    layers = [(fr([[1, 0]]), [F(-1, 2)]), (fr([[1]]), [F(0)])]
    lc = em.local_complexity(as_mlp(layers), [[0, 0]], 1, directions=[[2, 0], [0, 1]])
    assert lc.boundary_distance_sq[0] == F(1, 4)
    assert list(lc.boundary_point[0]) == [F(1, 2), F(0)]


def test_nearest_boundary_when_the_perpendicular_foot_leaves_the_neighbourhood():
    """The line 100 x1 + 19 x2 = 95 cuts the diamond only near its corner (1, 0): the foot of
    the perpendicular from 0 lies outside, so the nearest boundary point is the end of the
    segment on the edge x1 + x2 = 1, (76/81, 5/81), not the line's distance 9025/10361."""
    layers = [(fr([[100, 19]]), [F(-95)]), (fr([[1]]), [F(0)])]
    lc = em.local_complexity(as_mlp(layers), [[0, 0]], 1, directions=AXES_2D)
    seg = line_cuts((F(100), F(19), F(-95)), polygon_2d("cross", F(1)))
    d, y = segment_distance_sq(seg, gram(AXES_2D))
    assert d == F(5801, 6561) > F(9025, 10361)
    assert lc.boundary_distance_sq[0] == d
    assert tuple(lc.boundary_point[0]) == y == (F(76, 81), F(5, 81))


def test_nearest_boundary_of_random_planes_near_a_corner_of_the_octahedron():
    """A plane w.t = c cutting the octahedron |t1| + |t2| + |t3| <= 1 near a vertex: the
    nearest boundary point is the perpendicular foot when it lies in the octahedron, else the
    nearest point of the cut polygon, which lies on one of the segments joining its vertices
    (the polygon's vertices are where the plane meets the octahedron's 12 edges)."""
    rng = np.random.default_rng(5)
    dirs = [[F(2, 3), F(2, 3), F(1, 3)], [F(-2, 3), F(1, 3), F(2, 3)], [F(1, 3), F(-2, 3), F(2, 3)]]
    G = gram(dirs)
    assert G == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    octahedron = cross_vertices(3, F(1))
    edges = [(u, v) for u, v in itertools.combinations(octahedron, 2) if u != [-x for x in v]]
    assert len(edges) == 12
    foot_outside = 0
    for _ in range(20):
        w = [F(int(v)) for v in rng.integers(-5, 6, size=3)]
        if not any(w):
            continue
        c = max(abs(v) for v in w) * F(int(rng.integers(6, 10)), 10)
        W = [[sum((w[p] * dirs[p][i] for p in range(3)), F(0)) for i in range(3)]]  # w = W M
        lc = em.local_complexity(as_mlp([(W, [-c]), (fr([[1]]), [F(0)])]), [[0, 0, 0]], 1, directions=dirs)
        ww = sum(v * v for v in w)
        foot = [c * v / ww for v in w]
        if sum(abs(v) for v in foot) <= 1:
            expected = c * c / ww
        else:
            foot_outside += 1
            corners = set()
            for u, v in edges:
                fu = sum(a * b for a, b in zip(w, u)) - c
                fv = sum(a * b for a, b in zip(w, v)) - c
                if fu == 0:
                    corners.add(tuple(u))
                elif fu * fv < 0:
                    s = fu / (fu - fv)
                    corners.add(tuple(a + s * (b - a) for a, b in zip(u, v)))
            expected = min(segment_distance_sq((a, b), G)[0] for a, b in itertools.combinations(sorted(corners), 2))
            assert expected > c * c / ww  # the plane's own distance would be wrong here
        assert lc.regions.tolist() == [2]
        assert lc.boundary_distance_sq[0] == expected
        point = lc.boundary_point[0]
        assert sum(W[0][i] * point[i] for i in range(3)) == c and sum(v * v for v in point) == expected
    assert foot_outside >= 3


def test_sample_on_a_boundary_and_pieces_on_non_adjacent_regions():
    """f(x) = relu(x) + relu(x - 1/3) - 2 relu(x - 1/2) + relu(x - 2/3) on [0, 1] (x0 = 1/2,
    r = 1/2): 4 regions with maps x, 2x - 1/3, 2/3, x -- 3 distinct maps (the first and last
    are equal but not adjacent; connected pieces are 4).  x0 is on a boundary: distance 0.
    The approximation counts relu(x), whose pre-activation is 0 at the vertex x = 0 (a tie)
    but which cuts nothing: 4 against the exact 3."""
    layers = [(fr([[1], [1], [1], [1]]), [F(0), F(-1, 3), F(-1, 2), F(-2, 3)]), (fr([[1, 1, -2, 1]]), [F(0)])]
    lc = em.local_complexity(as_mlp(layers), [[F(1, 2)]], F(1, 2), directions=[[1]], keep_partitions=True)
    assert lc.regions.tolist() == [4] and lc.pieces.tolist() == [3]
    assert len(lc.partitions[0].linear_pieces()) == 4
    assert lc.boundary_distance_sq[0] == 0 and list(lc.boundary_point[0]) == [F(1, 2)]
    assert lc.neurons_per_layer.tolist() == [[3, 0]] and lc.approx_per_layer.tolist() == [[4, 0]]
    check_against_oracle(layers, lc, 0, n_grid=60)


def test_approximation_misses_a_second_layer_unit():
    """relu(1/2 - |t1| - |t2|) from relu(+-t1), relu(+-t2): the second-layer unit is negative
    at all four vertices of the diamond r = 1 but cuts it along |t1| + |t2| = 1/2, so the
    estimate counts [4, 0, 0] while exactly [4, 1, 0] units cut it; 4 quadrants x 2 = 8
    regions; maps: 0 outside (one piece) and four distinct maps inside -> 5 pieces."""
    layers = [(fr([[1, 0], [-1, 0], [0, 1], [0, -1]]), [F(0)] * 4),
              (fr([[-1, -1, -1, -1]]), [F(1, 2)]),
              (fr([[1]]), [F(0)])]
    lc = em.local_complexity(as_mlp(layers), [[0, 0]], 1, directions=AXES_2D, keep_partitions=True)
    assert lc.regions.tolist() == [8] and lc.pieces.tolist() == [5]
    assert lc.neurons_per_layer.tolist() == [[4, 1, 0]] and lc.neurons.tolist() == [5]
    assert lc.approx_per_layer.tolist() == [[4, 0, 0]] and lc.approx.tolist() == [4]
    assert lc.boundary_distance_sq[0] == 0  # x0 sits where the axes cross
    check_against_oracle(layers, lc, 0, n_grid=20)
    text = str(lc)
    assert "APPROXIMATION" in text and "regions" in text and "[4 0 0]" in text and "[4 1 0]" in text


def test_cross_and_box_differ_on_a_corner():
    """x1 + x2 = 3/2 cuts the box [-1, 1]^2 at its corner but misses the diamond."""
    layers = [(fr([[1, 1]]), [F(-3, 2)]), (fr([[1]]), [F(0)])]
    net = as_mlp(layers)
    box = em.local_complexity(net, [[0, 0]], 1, "box")
    cross = em.local_complexity(net, [[0, 0]], 1, "cross", directions=AXES_2D)
    assert box.directions.tolist() == AXES_2D  # a small input: the box spans every coordinate
    assert (box.regions.tolist(), cross.regions.tolist()) == ([2], [1])
    assert (box.approx.tolist(), cross.approx.tolist()) == ([1], [0])
    assert box.boundary_distance_sq[0] == F(9, 8) and cross.boundary_distance_sq[0] is None
    assert oracle_approx(layers, [F(0), F(0)], AXES_2D, "box", F(1)) == [1, 0]


@pytest.mark.parametrize("shape", ["cross", "box"])
def test_random_deep_net_against_the_oracle(shape):
    rng = np.random.default_rng(11 if shape == "cross" else 12)
    sizes = [3, 5, 4, 1]
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        W = [[F(int(v), 4) for v in row] for row in rng.integers(-6, 7, size=(n_out, n_in))]
        b = [F(int(v), 8) for v in rng.integers(-6, 7, size=n_out)]
        layers.append((W, b))
    X = [[F(int(v), 5) for v in row] for row in rng.integers(-3, 4, size=(2, 3))]
    lc = em.local_complexity(as_mlp(layers), X, F(1, 2), shape, directions=DIRS_3D, keep_partitions=True)
    for j in range(2):
        check_against_oracle(layers, lc, j, n_grid=10)
    assert lc.regions.sum() > 4  # the case is not trivial


def test_random_directions_are_the_exact_ones_used():
    rng = np.random.default_rng(3)
    layers = [([[F(int(v), 2) for v in row] for row in rng.integers(-3, 4, size=(4, 3))],
               [F(int(v), 4) for v in rng.integers(-2, 3, size=4)]),
              (fr([[1, -1, 1, -1]]), [F(0)])]
    net = as_mlp(layers)
    x0 = [F(1, 10), F(-1, 5), F(0)]
    lc = em.local_complexity(net, [x0], F(1, 2), P=2, seed=5, keep_partitions=True)
    again = em.local_complexity(net, [x0], F(1, 2), P=2, seed=5)
    assert lc.directions.shape == (2, 3) and all(type(v) is F for v in lc.directions.flat)
    assert (lc.directions == again.directions).all() and (lc.regions == again.regions).all()
    Df = lc.directions.astype(float)
    assert Df @ Df.T == pytest.approx(np.eye(2), abs=1e-12)  # orthonormal in floats
    assert lc.partitions[0].net == net.restrict(lc.directions.T, x0)  # the exact slice
    check_against_oracle(layers, lc, 0, n_grid=8)


def test_input_checks_and_limits():
    layers = [(fr([[1, 0], [-1, 0], [0, 1], [0, -1]]), [F(0)] * 4), (fr([[-1, -1, -1, -1]]), [F(1, 2)]),
              (fr([[1]]), [F(0)])]
    net = as_mlp(layers)
    with pytest.raises(em.LimitError) as err:
        em.local_complexity(net, [[0, 0]], 1, directions=AXES_2D, max_regions=3)
    assert "sample 0" in str(err.value)
    with pytest.raises(em.LimitError):
        em.local_complexity(net, [[0, 0]], 1, directions=AXES_2D, time_limit=0)
    with pytest.raises(ValueError, match="shape"):
        em.local_complexity(net, [[0, 0]], 1, "sphere")
    with pytest.raises(em.DomainError, match="radius"):
        em.local_complexity(net, [[0, 0]], 0)
    with pytest.raises(em.ShapeError, match="dependent"):
        em.local_complexity(net, [[0, 0]], 1, directions=[[1, 1], [2, 2]])
    with pytest.raises(em.ShapeError, match="P="):
        em.local_complexity(as_mlp([(fr([[1] * 6]), [F(0)]), (fr([[1]]), [F(0)])]), [[0] * 6], 1)


# ------------------------------------------------------------------------------------------
# training checkpoints (PyTorch)
# ------------------------------------------------------------------------------------------


def test_over_training_and_its_plot():
    torch = pytest.importorskip("torch")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    before = {k: v.clone() for k, v in model.state_dict().items()}

    def state(b1):  # lines x1 = -b1[0], x2 = -b1[1], x1 + x2 = -b1[2]; read-out: the sum
        return {"0.weight": torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), "0.bias": torch.tensor(b1),
                "2.weight": torch.tensor([[1.0, 1.0, 1.0]]), "2.bias": torch.tensor([0.0])}

    far = state([-4.0, -4.0, -4.0])        # no line meets the diamond |x1| + |x2| <= 1
    near = state([-0.25, -0.25, -4.0])     # two lines cross inside it: 1 + 2 + 1 = 4 regions
    hist = em.complexity.over_training(model, [(10, far), (20, near)], [[0.0, 0.0]], 1,
                                       directions=AXES_2D, input_shape=(2,))
    assert hist.steps == (10, 20)
    assert hist.mean_regions.tolist() == [1.0, 4.0] and hist.median_regions.tolist() == [1.0, 4.0]
    assert hist.mean_pieces.tolist() == [1.0, 4.0]  # maps 0, x1 - 1/4, x2 - 1/4, x1 + x2 - 1/2
    assert hist.mean_approx.tolist() == [0.0, 2.0]
    assert hist.results[1].boundary_distance_sq[0] == F(1, 16)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())  # weights restored
    assert model.training

    again = em.complexity.over_training(model, lambda: iter([far, near]), [[0.0, 0.0]], 1, directions=AXES_2D)
    assert again.steps == (0, 1) and again.mean_regions.tolist() == [1.0, 4.0]
    assert "APPROXIMATION" in str(again)

    fig, ax = plt.subplots()
    assert em.complexity.plot_over_training(hist, ax=ax) is ax
    assert len(ax.lines) == 3 and ax.lines[0].get_ydata().tolist() == [1.0, 4.0]
    assert isinstance(em.complexity.plot_over_training(hist), matplotlib.axes.Axes)
    plt.close("all")
