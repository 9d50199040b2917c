"""Exact brute-force oracles for the linear regions of tiny ReLU networks.

Independent of exactmaso's region code: everything here is plain ``fractions.Fraction``
arithmetic on the weights as given (lists of rows, like ``torch.nn.Linear.weight``).

The network is ``x -> W_L relu(... relu(W_1 x + b_1) ...) + b_L``.  The code of an input is the
tuple of per-layer tuples: for a hidden unit, 1 iff its pre-activation is > 0 (ties -> 0); the
final affine layer contributes a tuple of zeros (one per output), as ``net.masos`` does.

The oracle splits the domain neuron by neuron, layer by layer (all activation patterns with
pruning): on a cell the pattern of the earlier units fixes every pre-activation as an exact affine
function ``a . x + c``; code 1 keeps ``a . x + c >= 0``, code 0 keeps ``a . x + c <= 0``, and a
candidate is a region iff the clipped cell has positive measure.  A pre-activation that is
identically zero on a cell (``a = 0, c = 0``) gives code 0 only.

Cells are intervals (1-D), convex polygons clipped by Sutherland-Hodgman (2-D), and H-polytopes
whose vertices come from all plane triples and whose volume is a tetrahedral decomposition of
the exact hull (3-D).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations
from typing import Any, Sequence


F = Fraction


# ---------------------------------------------------------------------------------------------
# exact numbers
# ---------------------------------------------------------------------------------------------


def frac(v: Any) -> Fraction:
    """Exact Fraction of an int, Fraction, float (its exact binary value) or "p/q" string."""
    if isinstance(v, Fraction):
        return v
    if isinstance(v, bool):
        raise TypeError("bool is not a number here")
    if isinstance(v, (int, float, str)):
        return Fraction(v)
    if hasattr(v, "numerator") and hasattr(v, "denominator"):
        return Fraction(int(v.numerator), int(v.denominator))
    return Fraction(v)


def frac_vector(v: Sequence[Any]) -> list[Fraction]:
    return [frac(x) for x in v]


def frac_matrix(M: Sequence[Sequence[Any]]) -> list[list[Fraction]]:
    return [frac_vector(row) for row in M]


def det(M: Sequence[Sequence[Fraction]]) -> Fraction:
    """Exact determinant by fraction-valued Gaussian elimination."""
    A = [list(map(frac, row)) for row in M]
    n = len(A)
    sign = 1
    result = Fraction(1)
    for i in range(n):
        piv = next((r for r in range(i, n) if A[r][i] != 0), None)
        if piv is None:
            return Fraction(0)
        if piv != i:
            A[i], A[piv] = A[piv], A[i]
            sign = -sign
        result *= A[i][i]
        for r in range(i + 1, n):
            if A[r][i] != 0:
                f = A[r][i] / A[i][i]
                for c in range(i, n):
                    A[r][c] -= f * A[i][c]
    return sign * result


def solve(M: Sequence[Sequence[Fraction]], rhs: Sequence[Fraction]) -> list[Fraction] | None:
    """Exact solution of the square system M x = rhs, or None when M is singular."""
    n = len(M)
    A = [list(map(frac, row)) + [frac(r)] for row, r in zip(M, rhs)]
    for i in range(n):
        piv = next((r for r in range(i, n) if A[r][i] != 0), None)
        if piv is None:
            return None
        A[i], A[piv] = A[piv], A[i]
        p = A[i][i]
        A[i] = [v / p for v in A[i]]
        for r in range(n):
            if r != i and A[r][i] != 0:
                f = A[r][i]
                A[r] = [vr - f * vi for vr, vi in zip(A[r], A[i])]
    return [A[i][n] for i in range(n)]


def _dot(a: Sequence[Fraction], x: Sequence[Fraction]) -> Fraction:
    return sum((ai * xi for ai, xi in zip(a, x)), Fraction(0))


# ---------------------------------------------------------------------------------------------
# forward pass (the network's definition)
# ---------------------------------------------------------------------------------------------


def _layers(weights: Sequence[Any], biases: Sequence[Any] | None) -> list[tuple[list[list[Fraction]], list[Fraction]]]:
    Ws = [frac_matrix(W) for W in weights]
    if biases is None:
        bs = [[Fraction(0)] * len(W) for W in Ws]
    else:
        bs = [frac_vector(b) for b in biases]
    for i, (W, b) in enumerate(zip(Ws, bs)):
        assert len(W) == len(b), f"layer {i}: {len(W)} rows, {len(b)} biases"
        if i:
            assert len(W[0]) == len(Ws[i - 1]), f"layer {i} has {len(W[0])} columns; layer {i - 1} has {len(Ws[i - 1])} rows"
    return list(zip(Ws, bs))


def preactivations(weights, biases, x) -> list[list[Fraction]]:
    """Exact pre-activations of every layer (the last one is the output)."""
    z = frac_vector(x)
    out = []
    layers = _layers(weights, biases)
    for i, (W, b) in enumerate(layers):
        p = [_dot(row, z) + bi for row, bi in zip(W, b)]
        out.append(p)
        z = [max(v, Fraction(0)) for v in p]
    return out


def forward(weights, biases, x) -> tuple[list[Fraction], tuple[tuple[int, ...], ...]]:
    """Exact output and code of one input."""
    pre = preactivations(weights, biases, x)
    code = tuple(tuple(1 if v > 0 else 0 for v in p) for p in pre[:-1]) + (tuple(0 for _ in pre[-1]),)
    return pre[-1], code


def weights_from_net(net) -> tuple[list, list]:
    """(weights, biases) of a ReLU network held as MASOs (pieces 0 and z, last layer affine).

    Only reads the parameters; used to run the oracle on networks built in other ways.
    """
    masos = list(net.masos)
    Ws, bs = [], []
    for l, m in enumerate(masos):
        K, R, D = m.A.shape
        if l < len(masos) - 1:
            assert R == 2, f"layer {l} has {R} pieces; the oracle handles ReLU layers only"
            for k in range(K):
                assert all(v == 0 for v in m.A[k, 0]) and m.B[k, 0] == 0, "piece 0 of a ReLU unit must be 0"
            Ws.append([[frac(v) for v in m.A[k, 1]] for k in range(K)])
            bs.append([frac(m.B[k, 1]) for k in range(K)])
        else:
            assert R == 1, "the oracle expects the last layer to be affine"
            Ws.append([[frac(v) for v in m.A[k, 0]] for k in range(K)])
            bs.append([frac(m.B[k, 0]) for k in range(K)])
    return Ws, bs


# ---------------------------------------------------------------------------------------------
# 1-D cells: intervals
# ---------------------------------------------------------------------------------------------


def _clip_interval(cell, a, c):
    """Keep a . x + c >= 0 on the interval (lo, hi)."""
    lo, hi = cell
    a0 = a[0]
    if a0 == 0:
        return cell if c >= 0 else None
    t = -c / a0
    if a0 > 0:
        lo = max(lo, t)
    else:
        hi = min(hi, t)
    return (lo, hi) if lo <= hi else None


def _interval_measure(cell) -> Fraction:
    return Fraction(0) if cell is None else max(cell[1] - cell[0], Fraction(0))


def _interval_vertices(cell) -> frozenset:
    return frozenset({(cell[0],), (cell[1],)})


# ---------------------------------------------------------------------------------------------
# 2-D cells: convex polygons (counter-clockwise lists of vertices)
# ---------------------------------------------------------------------------------------------


def _cross(o, p, q) -> Fraction:
    return (p[0] - o[0]) * (q[1] - o[1]) - (p[1] - o[1]) * (q[0] - o[0])


def polygon_area(poly) -> Fraction:
    """Exact area of a polygon (shoelace; absolute value)."""
    n = len(poly)
    if n < 3:
        return Fraction(0)
    s = Fraction(0)
    for i in range(n):
        x0, y0 = poly[i]
        x1, y1 = poly[(i + 1) % n]
        s += x0 * y1 - x1 * y0
    return abs(s) / 2


def _clean_polygon(poly):
    """Drop repeated and collinear vertices; returns [] for a degenerate polygon."""
    pts = []
    for p in poly:
        if not pts or pts[-1] != p:
            pts.append(p)
    while len(pts) > 1 and pts[0] == pts[-1]:
        pts.pop()
    changed = True
    while changed and len(pts) >= 3:
        changed = False
        for i in range(len(pts)):
            o, p, q = pts[i - 1], pts[i], pts[(i + 1) % len(pts)]
            if _cross(o, p, q) == 0:
                del pts[i]
                changed = True
                break
    return pts if len(pts) >= 3 else []


def clip_polygon(poly, a, c):
    """Sutherland-Hodgman: the part of the convex polygon where a . x + c >= 0 (exact)."""
    out = []
    n = len(poly)
    for i in range(n):
        P, Q = poly[i], poly[(i + 1) % n]
        fP = a[0] * P[0] + a[1] * P[1] + c
        fQ = a[0] * Q[0] + a[1] * Q[1] + c
        if fP >= 0:
            out.append(P)
        if (fP > 0 and fQ < 0) or (fP < 0 and fQ > 0):
            t = fP / (fP - fQ)
            out.append((P[0] + t * (Q[0] - P[0]), P[1] + t * (Q[1] - P[1])))
    return _clean_polygon(out)


# ---------------------------------------------------------------------------------------------
# 3-D cells: H-polytopes {x : n . x <= d}
# ---------------------------------------------------------------------------------------------


def vertices_3d(halfspaces) -> list[tuple[Fraction, Fraction, Fraction]]:
    """All vertices of {x : n . x <= d} (exact): feasible solutions of every plane triple."""
    verts = set()
    for (n1, d1), (n2, d2), (n3, d3) in combinations(halfspaces, 3):
        x = solve([n1, n2, n3], [d1, d2, d3])
        if x is None:
            continue
        if all(_dot(n, x) <= d for n, d in halfspaces):
            verts.add(tuple(x))
    return sorted(verts)


def _hull_2d_order(points):
    """Exact convex hull (monotone chain) of 2-D points, counter-clockwise, no collinear points."""
    pts = sorted(set(points))
    if len(pts) <= 2:
        return pts
    lower, upper = [], []
    for p in pts:
        while len(lower) >= 2 and _cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and _cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def hull_volume_3d(halfspaces, verts=None) -> Fraction:
    """Exact volume of the polytope {x : n . x <= d} with the given (or computed) vertices.

    Each facet's vertices are ordered by an exact 2-D hull of their projection (dropping a
    coordinate where the facet normal is non-zero), fanned into triangles, and each triangle
    is coned to the vertex centroid: the volume is the sum of |det| / 6 of those tetrahedra.
    Facets on coincident planes are counted once (keyed by their vertex sets).
    """
    if verts is None:
        verts = vertices_3d(halfspaces)
    if len(verts) < 4:
        return Fraction(0)
    m = len(verts)
    cen = tuple(sum(v[i] for v in verts) / m for i in range(3))
    seen = set()
    vol = Fraction(0)
    for n, d in halfspaces:
        on = [v for v in verts if _dot(n, v) == d]
        key = frozenset(on)
        if len(on) < 3 or key in seen:
            continue
        seen.add(key)
        drop = max(range(3), key=lambda i: abs(n[i]))
        keep = [i for i in range(3) if i != drop]
        proj = {(v[keep[0]], v[keep[1]]): v for v in on}
        order = [proj[p] for p in _hull_2d_order(list(proj))]
        if len(order) < 3:
            continue
        v0 = order[0]
        for v1, v2 in zip(order[1:-1], order[2:]):
            rows = [[v[i] - cen[i] for i in range(3)] for v in (v0, v1, v2)]
            vol += abs(det(rows)) / 6
    return vol


def _clip_3d(cell, a, c):
    """Keep a . x + c >= 0, i.e. (-a) . x <= c; drops constraints tight at no vertex."""
    hs = cell + [([-v for v in a], c)]
    verts = vertices_3d(hs)
    if not verts:
        return None
    hs = [(n, d) for n, d in hs if any(_dot(n, v) == d for v in verts)]
    return hs


def _measure_3d(cell) -> Fraction:
    return Fraction(0) if cell is None else hull_volume_3d(cell)


# ---------------------------------------------------------------------------------------------
# the oracle
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One region found by the oracle."""

    code: tuple
    measure: Fraction  # length, area or volume
    vertices: frozenset  # exact vertices (tuples of Fractions)
    A: tuple  # output affine map on the region: rows of Fractions
    b: tuple
    point: tuple  # an exact point strictly inside (vertex centroid)


def _box_cell(lo, hi):
    D = len(lo)
    if D == 1:
        return (lo[0], hi[0])
    if D == 2:
        return [(lo[0], lo[1]), (hi[0], lo[1]), (hi[0], hi[1]), (lo[0], hi[1])]
    if D == 3:
        hs = []
        for i in range(3):
            e = [Fraction(0)] * 3
            e[i] = Fraction(1)
            hs.append((e, hi[i]))
            hs.append(([-v for v in e], -lo[i]))
        return hs
    raise ValueError(f"the oracle handles dimensions 1, 2, 3; got {D}")


def _ops(D):
    if D == 1:
        return _clip_interval, _interval_measure, _interval_vertices
    if D == 2:
        return clip_polygon, polygon_area, frozenset
    return _clip_3d, _measure_3d, lambda cell: frozenset(vertices_3d(cell))


def oracle_cells(weights, biases, lo, hi, *, upto: int | None = None) -> dict[tuple, Cell]:
    """All regions of the ReLU network on the box [lo, hi] (D = 1, 2 or 3), exactly.

    Parameters
    ----------
    weights, biases : per-layer (out, in) rows and (out,) offsets; the last layer is affine.
    lo, hi : box corners.
    upto : if given, only the first ``upto`` hidden layers split (the cells of the hierarchy at
        level ``upto``); the codes then have length ``upto``.

    Returns
    -------
    dict code -> Cell
    """
    layers = _layers(weights, biases)
    lo = frac_vector(lo)
    hi = frac_vector(hi)
    D = len(lo)
    assert len(layers[0][0][0]) == D, "the first layer's width must match the box dimension"
    clip, measure, verts_of = _ops(D)
    hidden = layers[:-1] if upto is None else layers[:upto]
    # a cell of the partition: (geometry, code so far, affine maps (a, c) of the layer input)
    ident = [([Fraction(1) if j == i else Fraction(0) for j in range(D)], Fraction(0)) for i in range(D)]
    cells = [(_box_cell(lo, hi), (), ident)]
    for W, b in hidden:
        new_cells = []
        for geom, code, z in cells:
            pre = []
            for row, bk in zip(W, b):
                a = [sum((w * zj[0][i] for w, zj in zip(row, z)), Fraction(0)) for i in range(D)]
                c = sum((w * zj[1] for w, zj in zip(row, z)), bk)
                pre.append((a, c))
            partial = [(geom, ())]
            for a, c in pre:
                nxt = []
                for g, bits in partial:
                    if all(v == 0 for v in a) and c == 0:
                        nxt.append((g, bits + (0,)))
                        continue
                    g1 = clip(g, a, c)
                    if g1 is not None and len(g1) and measure(g1) > 0:
                        nxt.append((g1, bits + (1,)))
                    g0 = clip(g, [-v for v in a], -c)
                    if g0 is not None and len(g0) and measure(g0) > 0:
                        nxt.append((g0, bits + (0,)))
                partial = nxt
            zero = ([Fraction(0)] * D, Fraction(0))
            for g, bits in partial:
                new_cells.append((g, code + (bits,), [pre[k] if bits[k] else zero for k in range(len(bits))]))
        cells = new_cells
    out = {}
    Wl, bl = layers[-1]
    for geom, code, z in cells:
        if upto is None:
            code = code + (tuple(0 for _ in Wl),)
            A = tuple(tuple(sum((w * zj[0][i] for w, zj in zip(row, z)), Fraction(0)) for i in range(D)) for row in Wl)
            bb = tuple(sum((w * zj[1] for w, zj in zip(row, z)), bk) for row, bk in zip(Wl, bl))
        else:
            A, bb = (), ()
        verts = verts_of(geom)
        vl = list(verts)
        point = tuple(sum(v[i] for v in vl) / len(vl) for i in range(D))
        assert code not in out, f"the oracle produced the code {code} twice"
        out[code] = Cell(code, measure(geom), frozenset(verts), A, bb, point)
    return out


def oracle_regions(weights, biases, lo, hi) -> dict[tuple, tuple[Fraction, frozenset]]:
    """{code: (measure, vertex set)} of every region (see :func:`oracle_cells`)."""
    return {code: (c.measure, c.vertices) for code, c in oracle_cells(weights, biases, lo, hi).items()}


# ---------------------------------------------------------------------------------------------
# adjacency in 2-D
# ---------------------------------------------------------------------------------------------


def _polygon_edges(verts: frozenset):
    order = _hull_2d_order(list(verts))
    return [(order[i], order[(i + 1) % len(order)]) for i in range(len(order))]


def _segment_overlap(e, f):
    """The common part of two segments if they are collinear and overlap in positive length."""
    P, Q = e
    R, S = f
    if _cross(P, Q, R) != 0 or _cross(P, Q, S) != 0:
        return None
    d = (Q[0] - P[0], Q[1] - P[1])
    dd = d[0] * d[0] + d[1] * d[1]

    def t(X):
        return ((X[0] - P[0]) * d[0] + (X[1] - P[1]) * d[1]) / dd

    t0, t1 = sorted((t(R), t(S)))
    lo, hi = max(Fraction(0), t0), min(Fraction(1), t1)
    if hi <= lo:
        return None
    return tuple((P[0] + s * d[0], P[1] + s * d[1]) for s in (lo, hi))


def oracle_adjacency_2d(cells: dict[tuple, Cell]) -> dict[frozenset, tuple]:
    """{frozenset({code1, code2}): shared segment (two exact endpoints)} for 2-D oracle cells.

    Two regions are adjacent iff their closures share a boundary segment of positive length.
    """
    codes = list(cells)
    edges = {code: _polygon_edges(cells[code].vertices) for code in codes}
    bbox = {}
    for code in codes:
        vs = cells[code].vertices
        bbox[code] = (min(v[0] for v in vs), max(v[0] for v in vs), min(v[1] for v in vs), max(v[1] for v in vs))
    out = {}
    for c1, c2 in combinations(codes, 2):
        b1, b2 = bbox[c1], bbox[c2]
        if b1[1] < b2[0] or b2[1] < b1[0] or b1[3] < b2[2] or b2[3] < b1[2]:
            continue
        for e in edges[c1]:
            seg = None
            for f in edges[c2]:
                seg = _segment_overlap(e, f)
                if seg is not None:
                    break
            if seg is not None:
                out[frozenset((c1, c2))] = seg
                break
    return out


# ---------------------------------------------------------------------------------------------
# general H-polytopes in D <= 3 (for checks on the implementation's polytopes)
# ---------------------------------------------------------------------------------------------


def vertices_hrep(A, b) -> list[tuple]:
    """All vertices of {x : A x <= b} (D <= 3 small), by solving every D-subset of rows."""
    rows = [(frac_vector(a), frac(bi)) for a, bi in zip(A, b)]
    D = len(rows[0][0])
    verts = set()
    for sub in combinations(rows, D):
        x = solve([r[0] for r in sub], [r[1] for r in sub])
        if x is None:
            continue
        if all(_dot(a, x) <= bi for a, bi in rows):
            verts.add(tuple(x))
    return sorted(verts)


def affine_rank(points) -> int:
    """Dimension of the affine hull of a set of exact points (-1 for the empty set)."""
    pts = [frac_vector(p) for p in points]
    if not pts:
        return -1
    p0 = pts[0]
    M = [[pi - qi for pi, qi in zip(p, p0)] for p in pts[1:]]
    return matrix_rank(M)


def matrix_rank(M) -> int:
    A = [list(map(frac, row)) for row in M]
    if not A:
        return 0
    rank, ncol = 0, len(A[0])
    for c in range(ncol):
        piv = next((r for r in range(rank, len(A)) if A[r][c] != 0), None)
        if piv is None:
            continue
        A[rank], A[piv] = A[piv], A[rank]
        for r in range(len(A)):
            if r != rank and A[r][c] != 0:
                f = A[r][c] / A[rank][c]
                A[r] = [x - f * y for x, y in zip(A[r], A[rank])]
        rank += 1
    return rank


# ---------------------------------------------------------------------------------------------
# constructions with known counts
# ---------------------------------------------------------------------------------------------


def moment_curve_layer(ts, d) -> tuple[list[list[Fraction]], list[Fraction]]:
    """Hyperplanes sum_j t^j x_j + t^d = 0 (j < d), one per t: in general position for distinct t.

    Any d normals (1, t, ..., t^{d-1}) form a Vandermonde matrix and any d + 1 augmented rows
    (1, t, ..., t^d) too, so no d normals are dependent and no d + 1 hyperplanes share a point.
    """
    ts = frac_vector(ts)
    assert len(set(ts)) == len(ts)
    W = [[t**j for j in range(d)] for t in ts]
    b = [t**d for t in ts]
    return W, b


def is_general_position(W, b) -> bool:
    """Exact check: every k <= D normals are independent and no D + 1 hyperplanes share a point."""
    W = frac_matrix(W)
    b = frac_vector(b)
    n, D = len(W), len(W[0])
    for k in range(1, min(n, D) + 1):
        for sub in combinations(range(n), k):
            if matrix_rank([W[i] for i in sub]) < k:
                return False
    for sub in combinations(range(n), D + 1):
        if det([W[i] + [b[i]] for i in sub]) == 0:
            return False
    return True


def arrangement_vertices(W, b) -> list[tuple]:
    """All points where D of the hyperplanes W x + b = 0 meet (exact)."""
    W = frac_matrix(W)
    b = frac_vector(b)
    D = len(W[0])
    out = set()
    for sub in combinations(range(len(W)), D):
        x = solve([W[i] for i in sub], [-b[i] for i in sub])
        if x is not None:
            out.add(tuple(x))
    return sorted(out)


def box_around(points, D, margin=Fraction(1)) -> tuple[list[Fraction], list[Fraction]]:
    """A box holding every point strictly inside (and the origin)."""
    lo = [min([p[i] for p in points] + [Fraction(0)]) - margin for i in range(D)]
    hi = [max([p[i] for p in points] + [Fraction(0)]) + margin for i in range(D)]
    return lo, hi


def fit_into_box(W, b, lo, hi) -> tuple[list[list[Fraction]], list[Fraction]]:
    """Change of variables that maps every arrangement vertex strictly inside (lo, hi).

    With x = m + s * (v - lo) coordinate-wise (s > 0), the hyperplane W x + b = 0 becomes
    (W s) v + (W (m - s lo) + b) = 0: the same arrangement, affinely moved (general position is kept).
    """
    W = frac_matrix(W)
    b = frac_vector(b)
    D = len(W[0])
    lo, hi = frac_vector(lo), frac_vector(hi)
    verts = arrangement_vertices(W, b)
    vlo = [min(v[i] for v in verts) for i in range(D)]
    vhi = [max(v[i] for v in verts) for i in range(D)]
    m, s = [], []
    for i in range(D):
        width = vhi[i] - vlo[i]
        pad = width / 4 if width else Fraction(1)
        m.append(vlo[i] - pad)
        s.append((width + 2 * pad) / (hi[i] - lo[i]))
    W2 = [[row[i] * s[i] for i in range(D)] for row in W]
    b2 = [bi + sum((row[i] * (m[i] - s[i] * lo[i]) for i in range(D)), Fraction(0)) for row, bi in zip(W, b)]
    return W2, b2


def telgarsky(L: int):
    """Sawtooth: L compositions of the tent map t(x) = 2 relu(x) - 4 relu(x - 1/2) on [0, 1]."""
    return zigzag(2, L)


def zigzag_coefficients(w: int) -> list[Fraction]:
    """c with g(x) = sum_j c_j relu(x - j/w): the zigzag with w pieces of slope +-w, [0,1] -> [0,1]."""
    return [Fraction(w)] + [Fraction(2 * w * (-1) ** j) for j in range(1, w)]


def zigzag(w: int, L: int):
    """1-D folding network: L layers of w zigzag units; w**L regions on [0, 1]."""
    c = zigzag_coefficients(w)
    thresholds = [-Fraction(j, w) for j in range(w)]
    weights = [[[Fraction(1)] for _ in range(w)]]
    biases = [thresholds]
    for _ in range(L - 1):
        weights.append([list(c) for _ in range(w)])
        biases.append(list(thresholds))
    weights.append([list(c)])
    biases.append([Fraction(0)])
    return weights, biases


def folding_2d(w: int, folds: int, lines_W, lines_b):
    """2-D Montufar-style net on [0,1]^2: `folds` layers folding each coordinate w times, then one
    layer of the given lines in the folded coordinates; then a 1-output affine layer.

    Every cell of the w**folds x w**folds grid maps affinely onto [0,1]^2, so the count is
    w**(2 folds) times the number of regions the lines cut the open unit square into.
    """
    c = zigzag_coefficients(w)
    zero = [Fraction(0)] * w
    thr = [-Fraction(j, w) for j in range(w)]
    weights = [[[Fraction(1), Fraction(0)] for _ in range(w)] + [[Fraction(0), Fraction(1)] for _ in range(w)]]
    biases = [thr + thr]
    for _ in range(folds - 1):
        weights.append([c + zero for _ in range(w)] + [zero + c for _ in range(w)])
        biases.append(thr + thr)
    lines_W = frac_matrix(lines_W)
    weights.append([[row[0] * cj for cj in c] + [row[1] * cj for cj in c] for row in lines_W])
    biases.append(frac_vector(lines_b))
    weights.append([[Fraction(k + 2) for k in range(len(lines_W))]])
    biases.append([Fraction(0)])
    return weights, biases


def one_hidden_layer(W, b):
    """Hidden layer W x + b, then a 1-output affine layer (not the identity)."""
    n = len(W)
    return [W, [[Fraction(k + 2) for k in range(n)]]], [b, [Fraction(0)]]


def general_layer(n, d, seed):
    """n hyperplanes in R^d, exactly in general position: moment curve (seed 0) or random integers."""
    if seed == 0:
        ts = [Fraction(k - n // 2, 2) for k in range(n)]
        return moment_curve_layer(ts, d)
    rng = random.Random(seed)
    while True:
        W = [[Fraction(rng.randint(-6, 6)) for _ in range(d)] for _ in range(n)]
        b = [Fraction(rng.randint(-6, 6), rng.randint(1, 3)) for _ in range(n)]
        if is_general_position(W, b):
            return W, b


def general_position_count(n: int, d: int) -> int:
    from math import comb

    return sum(comb(n, i) for i in range(d + 1))


def general_position_edges(n: int, d: int) -> int:
    from math import comb

    return n * sum(comb(n - 1, i) for i in range(d))


# ---------------------------------------------------------------------------------------------
# checks on exactmaso's partitions (these import exactmaso; the oracle above does not)
# ---------------------------------------------------------------------------------------------


def make_net(weights, biases):
    """em.mlp of the given layers, checked to keep one MASO per layer (no folded identity)."""
    import exactmaso as em

    net = em.mlp(weights, biases)
    assert len(net.masos) == len(weights), "the test network lost a layer: avoid an identity output layer"
    return net


def point_tuple(v) -> tuple:
    return tuple(frac(x) for x in v)


def region_vertex_set(r) -> frozenset:
    return frozenset(point_tuple(row) for row in r.vertices())


def summary(part) -> dict:
    """{code: (volume, vertex set)} of a partition."""
    out = {}
    for r in part:
        assert r.code not in out, f"code {r.code} is reported twice"
        out[r.code] = (frac(r.volume()), region_vertex_set(r))
    return out


def box_volume(lo, hi) -> Fraction:
    v = Fraction(1)
    for a, b in zip(lo, hi):
        v *= frac(b) - frac(a)
    return v


def polytope_rows(poly) -> list[tuple[list[Fraction], Fraction]]:
    A = [[frac(v) for v in row] for row in poly.A]
    b = [frac(v) for v in poly.b]
    assert len(A) == len(b)
    return list(zip(A, b))


def check_region(net, r, lo, hi) -> None:
    """Every exact property a region must have (see docs/regions_api.md)."""
    D = len(lo)
    lo, hi = frac_vector(lo), frac_vector(hi)
    rows = polytope_rows(r.polytope)
    x = point_tuple(r.point)
    assert len(x) == D
    # strictly inside, in plain Fractions
    for a, bi in rows:
        assert _dot(a, x) < bi, f"region {r.index}: point {x} is not strictly inside facet {a} . x <= {bi}"
    assert all(l < xi < h for l, xi, h in zip(lo, x, hi)), f"region {r.index}: point {x} outside the open box"
    assert net.code(list(x)) == r.code, f"region {r.index}: net.code(point) = {net.code(list(x))}, region code {r.code}"
    assert len(r.code) == len(net.masos)
    assert list(net(list(x))) == list(r.affine(list(x))), f"region {r.index}: net(point) != affine(point)"
    verts = sorted(region_vertex_set(r))
    assert len(verts) >= D + 1
    assert affine_rank(verts) == D, f"region {r.index}: vertices {verts} are not full-dimensional"
    for v in verts:
        assert all(l <= vi <= h for l, vi, h in zip(lo, v, hi)), f"region {r.index}: vertex {v} outside the box"
        for a, bi in rows:
            assert _dot(a, v) <= bi, f"region {r.index}: vertex {v} violates {a} . x <= {bi}"
        # continuity: the region's map equals the network on the closure
        assert list(net(list(v))) == list(r.affine(list(v))), f"region {r.index}: net(vertex {v}) != affine(vertex)"
    # the vertices are exactly those of the H-representation
    assert set(vertices_hrep([a for a, _ in rows], [bi for _, bi in rows])) == set(verts), (
        f"region {r.index}: vertices() differ from the polytope's vertices"
    )
    # irredundant: every row carries a (D-1)-face, and no two rows carry the same one
    tight_sets = []
    for a, bi in rows:
        tight = frozenset(v for v in verts if _dot(a, v) == bi)
        assert affine_rank(tight) == D - 1, f"region {r.index}: row {a} . x <= {bi} is not a facet (redundant)"
        tight_sets.append(tight)
    assert len(set(tight_sets)) == len(tight_sets), f"region {r.index}: two rows describe the same facet"
    vol = frac(r.volume())
    assert vol > 0
    if D == 1:
        assert vol == verts[-1][0] - verts[0][0]
    elif D == 2:
        assert vol == polygon_area(_hull_2d_order([tuple(v) for v in verts]))
    elif D == 3:
        assert vol == hull_volume_3d(rows, verts)


def check_partition(part, net, lo, hi) -> None:
    """Region checks, indices, distinct codes, exact tiling of the box."""
    regions = list(part)
    assert len(regions) == len(part)
    codes = [r.code for r in regions]
    assert len(set(codes)) == len(codes), "codes are not distinct"
    for i, r in enumerate(regions):
        assert r.index == i
        assert part[i].code == r.code
        check_region(net, r, lo, hi)
        assert part.locate(list(r.point)) == i, f"locate(point of region {i}) = {part.locate(list(r.point))}"
    total = sum((frac(r.volume()) for r in regions), Fraction(0))
    assert total == box_volume(lo, hi), f"volumes sum to {total}; the box has volume {box_volume(lo, hi)}"


def assert_matches_oracle(part, weights, biases, lo, hi) -> dict:
    """Same codes, same exact measures, same vertex sets, same affine maps as the oracle."""
    cells = oracle_cells(weights, biases, lo, hi)
    got = {r.code: r for r in part}
    missing = sorted(set(cells) - set(got))
    extra = sorted(set(got) - set(cells))
    assert not missing and not extra, (
        f"{len(cells)} oracle regions, {len(got)} reported; missing codes {missing[:5]}, extra codes {extra[:5]}"
    )
    for code, cell in cells.items():
        r = got[code]
        assert frac(r.volume()) == cell.measure, f"code {code}: volume {r.volume()}, oracle {cell.measure}"
        assert region_vertex_set(r) == cell.vertices, (
            f"code {code}: vertices {sorted(region_vertex_set(r))}, oracle {sorted(cell.vertices)}"
        )
        A = [[frac(v) for v in row] for row in r.affine.A]
        b = [frac(v) for v in r.affine.b]
        assert A == [list(row) for row in cell.A] and b == list(cell.b), f"code {code}: affine map differs from the oracle"
    return cells
