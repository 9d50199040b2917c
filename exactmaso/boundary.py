"""Exact class pieces and the decision boundary of a partition, batched over regions.

The class of an input
    On a region ``R`` the network is affine, ``f(x) = A x + b`` with ``C`` outputs.  The class
    of ``x`` is the arg-max of ``f(x)``, the lowest index on ties (the convention of
    :meth:`Network.code` and :func:`exactmaso.templates.class_templates`).  A one-output network
    is a logit: class 1 where ``f(x) > 0``, class 0 where ``f(x) <= 0``
    (``class_templates``' reading), which is the arg-max of the two scores ``(0, f(x))``.  So
    both cases are the arg-max of scores ``g_0, ..., g_{S-1}`` (``g = f``, or ``g = (0, f)``).

Class pieces
    Scores that are the same affine function on ``R`` are one score: each group is represented
    by its lowest index (the tie-break gives it the class).  For representatives ``c`` the
    *class piece* is the convex polytope ::

        P_c = {x in R : g_c(x) >= g_k(x) for every representative k}.

    The pieces with non-empty interior tile ``R``, and on the interior of ``P_c`` the class is
    ``c`` exactly: ``g_c - g_k`` is a non-zero affine function (distinct representatives), so
    its interior in ``{g_c - g_k >= 0}`` is ``{g_c - g_k > 0}``.

Decision boundary
    For representatives ``i < j`` the tie set ``T_ij = {x in R : g_i = g_j >= g_k for all k}``
    is the face of ``P_i`` (and of ``P_j``) on the hyperplane ``g_i = g_j``.  A boundary piece
    is such a face of a class piece that is ``(D-1)``-dimensional.  With one output it is the
    zero set ``f = 0`` in ``R``; a region where ``f`` vanishes identically is one piece with all
    its vertices.  Pieces live in closed regions: a piece on the common facet of two regions is
    reported once for each of them.  (Where two top scores touch without crossing, a tie set
    is reported although the class does not change; for networks in general position the
    pieces are exactly where the arg-max changes.)

Method: floats propose, exact decides
    For all regions at once (numpy, in chunks) every score is evaluated at every vertex (the
    nearest floats of the exact vertices and of the exact maps) with a rigorous bound on the
    rounding error.  A pair ``(c, k)`` is *redundant* when ``g_c - g_k`` is surely positive at
    every vertex (then on all of ``R``: ``R`` is the hull of its vertices) and *excludes* ``c``
    when it is surely negative at every vertex; every other pair, and everything the floats
    cannot bound (non-finite values), is a *cut*.  The exact phase then builds each candidate
    piece by clipping ``R`` with its cuts in integer arithmetic (2-D: a counter-clockwise
    polygon, clipped edge by edge, vertices as integer numerators over a positive
    denominator; other dimensions: the exact double description of
    :class:`~exactmaso.polytope.Polytope`), decides exactly whether it has an interior, and
    reads the boundary pieces off its vertices where ``g_c = g_k``.  Everything returned is
    exact: the floats only skip half-planes that provably do not cut and pieces that provably
    are empty.

>>> import exactmaso as em
>>> from exactmaso import boundary
>>> net = em.mlp([[[1, 0], [0, 1]]])                 # one affine layer: the outputs are (x0, x1)
>>> part = em.regions(net, em.Box([-1, -1], [1, 1]))
>>> [(p.label, p.volume()) for p in boundary.class_pieces(part)]
[(0, Fraction(2, 1)), (1, Fraction(2, 1))]
>>> [p.vertices.tolist() for p in boundary.decision_boundary(part)]
[[[Fraction(-1, 1), Fraction(-1, 1)], [Fraction(1, 1), Fraction(1, 1)]]]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import cmp_to_key
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from .errors import DomainError
from .graph import BoundaryPiece
from .numbers import to_float_array
from .polytope import Polytope

if TYPE_CHECKING:  # pragma: no cover
    from .regions import Partition, Region

__all__ = [
    "ClassPiece",
    "ClassSplit",
    "BoundaryPiece",
    "class_split",
    "class_pieces",
    "decision_boundary",
    "num_classes",
    "convex_polygon",
]

_U = 2.0**-53
_TINY = 2.0**-1070
#: entries of one float block (regions x vertices x scores x scores) of the filter
_BLOCK_ENTRIES = 2**22

# a point in homogeneous integer form: (numerators..., denominator), denominator > 0, reduced
IntPoint = tuple[int, ...]


@dataclass(frozen=True, slots=True, eq=False)
class ClassPiece:
    """A convex piece of one region on which the class is constant.

    Attributes
    ----------
    region : int
        Index of the region in the partition.
    label : int
        The class on the piece's interior (arg-max, lowest index on ties; for one output,
        1 where ``f > 0`` and 0 where ``f <= 0``).
    vertices : (n, D) object array of Fractions
        Exact vertices; counter-clockwise in 2-D, increasing in 1-D.
    point : (D,) object array of Fractions
        An exact point strictly inside the piece.
    cuts : tuple of int
        The scores ``k`` whose ties ``g_label = g_k`` cut the region to the piece (score
        indices: outputs, or for one output 0 for the constant 0 and 1 for ``f``).
    polytope : Polytope
        The piece as ``{x : A x <= b}``: the region's facet rows, then one row
        ``g_k(x) - g_label(x) <= 0`` per cut (not reduced; not validated again).
    """

    region: int
    label: int
    vertices: np.ndarray
    point: np.ndarray
    cuts: tuple[int, ...]
    polytope: Polytope

    def volume(self) -> Fraction:
        """Exact volume (length in 1-D, area in 2-D)."""
        D = self.vertices.shape[1]
        if D == 1:
            return Fraction(max(self.vertices[:, 0]) - min(self.vertices[:, 0]))
        if D == 2:
            return _shoelace([tuple(v) for v in self.vertices])
        return self.polytope.volume()


@dataclass(frozen=True, slots=True, eq=False)
class ClassSplit:
    """The class pieces and the decision boundary of a partition, from one computation.

    ``pieces`` are in region order, then by class; ``boundary`` in region order, then by
    output pair (the order of :func:`exactmaso.graph.decision_boundary`).
    """

    pieces: tuple[ClassPiece, ...]
    boundary: tuple[BoundaryPiece, ...]


def num_classes(net: Any) -> int:
    """The number of classes: the outputs, or 2 for a one-output network (a logit)."""
    return 2 if net.output_dim == 1 else int(net.output_dim)


def class_pieces(part: "Partition") -> list[ClassPiece]:
    """Every region split exactly into convex pieces of constant class; see the module docstring."""
    return list(class_split(part).pieces)


def decision_boundary(part: "Partition") -> list[BoundaryPiece]:
    """Exact pieces of the decision boundary, batched over regions and outputs.

    For outputs ``i < j`` a piece is the set of a region's points with ``f_i = f_j >= f_k``
    for all other ``k``, kept when it is ``(D-1)``-dimensional and bounds a piece of class
    ``i`` or ``j``; for one output, the zero set of ``f`` in each region (a region where ``f``
    vanishes identically is reported with all its vertices).  ``row`` is the exact
    ``(a, c)`` with the piece on ``a . x + c = 0`` (``f_i - f_j``, or ``f``); ``vertices`` the
    piece's exact vertices, sorted.  See the module docstring for the method.
    """
    return list(class_split(part).boundary)


def class_split(part: "Partition") -> ClassSplit:
    """Class pieces and decision boundary of ``part`` (one pass; see the module docstring)."""
    regions = list(part)
    if not regions:
        return ClassSplit((), ())
    D = part.net.input_dim
    one_output = part.net.output_dim == 1
    data = [_RegionData.of(reg, one_output) for reg in regions]
    status = _float_status(data, D)
    pieces: list[ClassPiece] = []
    boundary: list[BoundaryPiece] = []
    for reg, rd, (keep, exclude) in zip(regions, data, status):
        got_pieces, got_bound = _split_region(reg, rd, keep, exclude, D, one_output)
        pieces += got_pieces
        boundary += got_bound
    return ClassSplit(tuple(pieces), tuple(boundary))


# ------------------------------------------------------------------------------------------
# per-region exact data
# ------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _RegionData:
    """A region's scores as integer rows over one positive denominator, exact and float."""

    scores: list[tuple[int, ...]]  # S rows (a_0, ..., a_{D-1}, c), times a positive common factor
    A: np.ndarray                  # the exact affine map's A (out, D) and b (out,)
    b: np.ndarray
    vertices: np.ndarray           # exact (n, D)

    @classmethod
    def of(cls, reg: "Region", one_output: bool) -> "_RegionData":
        aff = reg.affine
        A, b = aff.A, aff.b
        den = math.lcm(*(v.denominator for v in A.flat), *(v.denominator for v in b))
        rows = [tuple(v.numerator * (den // v.denominator) for v in A[c]) + (b[c].numerator * (den // b[c].denominator),)
                for c in range(A.shape[0])]
        if one_output:
            rows = [(0,) * (A.shape[1] + 1)] + rows
        return cls(rows, A, b, reg.vertices())


def _float_status(data: list[_RegionData], D: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per region, ``(cut, exclude)``: boolean (S, S) arrays from the rigorous float filter.

    ``cut[c, k]``: the tie ``g_c = g_k`` may cut the region (not surely ``g_c > g_k`` at every
    vertex); ``exclude[c, k]``: ``g_c < g_k`` surely at every vertex, so class ``c`` has no
    piece.  Values are the nearest floats of the exact vertices and maps.  The error of each
    computed score ``a . x + c`` is at most ``2 (D + 4) u (|a| . |x| + |c|)``, u = 2**-53
    (each of the D + 1 terms carries at most D + 3 relative roundings: the two inputs, the
    product, the sums; the factor 2 covers the rounding of the bound itself), plus
    ``(D + 2) 2**-1070 (||a||_1 + ||x||_1 + 1)`` for results and inputs in the subnormal range;
    the difference of two scores adds the two bounds and one rounding.  Overflow gives
    infinities or NaN, which compare false both ways: undecided.
    """
    S = len(data[0].scores)
    out: list[tuple[np.ndarray, np.ndarray]] = []
    nmax = max(len(rd.vertices) for rd in data)
    step = max(1, _BLOCK_ENTRIES // max(1, nmax * S * S))
    with np.errstate(all="ignore"):  # non-finite values are undecided: the exact phase decides them
        for start in range(0, len(data), step):
            block = data[start:start + step]
            n = max(len(rd.vertices) for rd in block)
            V = np.empty((len(block), n, D))
            G = np.empty((len(block), S, D + 1))
            for t, rd in enumerate(block):
                X = to_float_array(rd.vertices)
                V[t, : len(X)] = X
                V[t, len(X):] = X[-1]  # padding by a repeated vertex changes no min or max
                G[t] = _float_scores(rd)
            F = np.einsum("rvd,rsd->rvs", V, G[:, :, :D]) + G[:, None, :, D]
            absA = np.abs(G[:, :, :D])
            E = (2 * (D + 4) * _U * (np.einsum("rvd,rsd->rvs", np.abs(V), absA) + np.abs(G[:, None, :, D]))
                 + (D + 2) * _TINY * (absA.sum(axis=2)[:, None, :] + np.abs(V).sum(axis=2)[:, :, None] + 1))
            diff = F[:, :, :, None] - F[:, :, None, :]
            err = E[:, :, :, None] + E[:, :, None, :] + 2 * _U * np.abs(diff)
            positive = (diff > err).all(axis=1)
            negative = (diff < -err).all(axis=1)
            for t in range(len(block)):
                out.append((~positive[t], negative[t]))
    return out


def _float_scores(rd: _RegionData) -> np.ndarray:
    """The scores as float rows (S, D + 1): nearest floats of the exact map (inf if huge)."""
    D = rd.A.shape[1]
    rows = to_float_array(np.hstack([rd.A, rd.b[:, None]]))
    if len(rd.scores) == rows.shape[0] + 1:  # one output: the constant score 0 first
        rows = np.vstack([np.zeros((1, D + 1)), rows])
    return rows


# ------------------------------------------------------------------------------------------
# one region, exactly
# ------------------------------------------------------------------------------------------


def _split_region(reg: "Region", rd: _RegionData, cut: np.ndarray, exclude: np.ndarray, D: int,
                  one_output: bool) -> tuple[list[ClassPiece], list[BoundaryPiece]]:
    S = len(rd.scores)
    scores = rd.scores
    # representatives: a score equal to a lower one on the region is that one (exact rows)
    rep = list(range(S))
    for k in range(S):
        rep[k] = next(c for c in range(k + 1) if scores[c] == scores[k])
    reps = [c for c in range(S) if rep[c] == c]
    if one_output and len(reps) == 1:
        # f vanishes identically on the region: class 0 everywhere, the region is a zero set
        zero = tuple(Fraction(0) for _ in range(D + 1))
        piece = ClassPiece(reg.index, 0, _ordered(reg.vertices(), D), reg.point, (), reg.polytope)
        return [piece], [BoundaryPiece(reg.index, (0,), zero, reg.vertices())]
    pieces: list[ClassPiece] = []
    faces: dict[tuple[int, int], np.ndarray] = {}
    for c in reps:
        if any(exclude[c, k] for k in reps if k != c):
            continue
        cuts = tuple(k for k in reps if k != c and cut[c, k])
        rows = [tuple(p - q for p, q in zip(scores[c], scores[k])) for k in cuts]
        got = _clip_2d(reg, rows) if D == 2 else _clip_nd(reg, rows)
        if got is None:
            continue
        vertices, point, values = got
        pieces.append(ClassPiece(reg.index, c, vertices, point, cuts, _piece_polytope(reg, rows)))
        for k, vals in zip(cuts, values):
            pair = (min(c, k), max(c, k))
            if pair in faces:
                continue
            on = [v for v, s in zip(vertices, vals) if s == 0]
            if len(on) >= D and _affine_rank(on) == D - 1:
                faces[pair] = np.array(sorted(_face_vertices(on, D)), dtype=object)
    bound = []
    for (i, j), verts in sorted(faces.items()):
        if one_output:
            bound.append(BoundaryPiece(reg.index, (0,), tuple(rd.A[0]) + (rd.b[0],), verts))
        else:
            row = tuple(rd.A[i] - rd.A[j]) + (rd.b[i] - rd.b[j],)
            bound.append(BoundaryPiece(reg.index, (i, j), row, verts))
    return pieces, bound


def _piece_polytope(reg: "Region", rows: list[tuple[int, ...]]) -> Polytope:
    P = reg.polytope
    if not rows:
        return P
    D = P.dim
    extra_A = np.array([[Fraction(-v) for v in r[:D]] for r in rows], dtype=object)
    extra_b = np.array([Fraction(r[D]) for r in rows], dtype=object)
    return Polytope(np.vstack([P.A, extra_A]), np.concatenate([P.b, extra_b]), check=False)


def _face_vertices(on: list, D: int) -> list[tuple[Fraction, ...]]:
    """The vertices of a face given the piece's vertices on its hyperplane: in 2-D the two
    ends of the segment (extra collinear points are dropped), otherwise all of them."""
    pts = sorted({tuple(v) for v in on})
    if D == 2 and len(pts) > 2:
        return [pts[0], pts[-1]]  # along a line, the lexicographic order is the line's order
    return pts


def _ordered(vertices: np.ndarray, D: int) -> np.ndarray:
    if D == 2:
        return convex_polygon(vertices)
    if D == 1:
        return np.array(sorted(vertices.tolist()), dtype=object)
    return vertices


# -- 2-D: a counter-clockwise polygon clipped in integer arithmetic ------------------------


def _int_point(v: Sequence[Fraction]) -> IntPoint:
    den = math.lcm(*(t.denominator for t in v))
    return tuple(t.numerator * (den // t.denominator) for t in v) + (den,)


def _reduced(p: Sequence[int]) -> IntPoint:
    if p[-1] < 0:
        p = [-t for t in p]
    g = math.gcd(*p)
    return tuple(t // g for t in p) if g > 1 else tuple(p)


def _value(row: Sequence[int], p: IntPoint) -> int:
    """``den * row(x)`` for the point ``x = p[:-1] / p[-1]``: the sign of ``row`` at ``x``."""
    return sum(a * t for a, t in zip(row, p))


def convex_polygon(points: Any) -> np.ndarray:
    """The vertices of a convex polygon in counter-clockwise order, decided exactly.

    ``points`` are exact 2-D points (each a vertex of their convex hull); they are sorted by
    their angle around their centroid with exact integer orientation tests (no float angles).

    >>> from fractions import Fraction as F
    >>> convex_polygon([[F(1), F(1)], [F(0), F(0)], [F(0), F(1)], [F(1), F(0)]]).tolist()
    [[Fraction(0, 1), Fraction(0, 1)], [Fraction(1, 1), Fraction(0, 1)], [Fraction(1, 1), Fraction(1, 1)], [Fraction(0, 1), Fraction(1, 1)]]
    """
    pts = [tuple(Fraction(t) for t in p) for p in np.asarray(points, dtype=object)]
    ints = _ccw([_int_point(p) for p in pts])
    return np.array([[Fraction(p[0], p[2]), Fraction(p[1], p[2])] for p in ints], dtype=object)


def _ccw(points: list[IntPoint]) -> list[IntPoint]:
    """Homogeneous 2-D points sorted counter-clockwise around their centroid, exactly; the
    first is the lowest (then leftmost) point, so the order does not depend on the input's."""
    if len(points) < 3:
        return sorted(points, key=lambda p: (Fraction(p[1], p[2]), Fraction(p[0], p[2])))
    n = len(points)
    # centroid times n * prod(den) is not needed: directions scaled by positive numbers suffice
    L = math.lcm(*(p[2] for p in points))
    cx = sum(p[0] * (L // p[2]) for p in points)
    cy = sum(p[1] * (L // p[2]) for p in points)
    # direction from the centroid (cx, cy) / (n L) to p, times n L p[2] > 0
    dirs = {p: (p[0] * n * L - cx * p[2], p[1] * n * L - cy * p[2]) for p in points}

    def half(d: tuple[int, int]) -> int:  # 0: angle in [-pi/2, pi/2) from straight down, ...
        x, y = d
        return 0 if (y < 0 or (y == 0 and x > 0)) else 1

    def compare(p: IntPoint, q: IntPoint) -> int:
        a, b = dirs[p], dirs[q]
        ha, hb = half(a), half(b)
        if ha != hb:
            return ha - hb
        cross = a[0] * b[1] - a[1] * b[0]
        return -1 if cross > 0 else (1 if cross < 0 else 0)

    ordered = sorted(points, key=cmp_to_key(compare))
    start = min(range(n), key=lambda i: (Fraction(ordered[i][1], ordered[i][2]), Fraction(ordered[i][0], ordered[i][2])))
    return ordered[start:] + ordered[:start]


def _clip_polygon(poly: list[IntPoint], row: Sequence[int]) -> list[IntPoint]:
    """The part of a counter-clockwise convex polygon where ``row >= 0`` (Sutherland-Hodgman
    for one half-plane, exact); the result is counter-clockwise, possibly degenerate."""
    vals = [_value(row, p) for p in poly]
    if all(v >= 0 for v in vals):
        return poly
    out: list[IntPoint] = []
    n = len(poly)
    for i in range(n):
        p, vp = poly[i], vals[i]
        q, vq = poly[(i + 1) % n], vals[(i + 1) % n]
        if vp >= 0:
            out.append(p)
        if (vp > 0 > vq) or (vp < 0 < vq):
            # vp * q - vq * p lies on row = 0; its denominator vp q_den - vq p_den has the sign of vp
            out.append(_reduced([vp * b - vq * a for a, b in zip(p, q)]))
    return out


def _shoelace(pts: Sequence[tuple[Fraction, Fraction]]) -> Fraction:
    """Exact signed area of a polygon (positive when counter-clockwise)."""
    if len(pts) < 3:
        return Fraction(0)
    twice = sum((pts[i][0] * pts[(i + 1) % len(pts)][1] - pts[(i + 1) % len(pts)][0] * pts[i][1]
                 for i in range(len(pts))), Fraction(0))
    return twice / 2


def _clip_2d(reg: "Region", rows: list[tuple[int, ...]]):
    """The region clipped by ``row >= 0`` for each row: (vertices ccw, interior point, the
    rows' exact signs at the vertices) or None when the result has no interior."""
    poly = _ccw([_int_point(v) for v in reg.vertices()])
    if not rows:
        vertices = np.array([[Fraction(p[0], p[2]), Fraction(p[1], p[2])] for p in poly], dtype=object)
        return vertices, reg.point, []
    for row in rows:
        poly = _clip_polygon(poly, row)
        if len(poly) < 3:
            return None
    vertices = np.array([[Fraction(p[0], p[2]), Fraction(p[1], p[2])] for p in poly], dtype=object)
    if _shoelace([tuple(v) for v in vertices]) <= 0:
        return None
    point = np.array([sum(vertices[:, j], Fraction(0)) / len(poly) for j in range(2)], dtype=object)
    return vertices, point, [[_value(row, p) for p in poly] for row in rows]


# -- other dimensions: the exact double description ----------------------------------------


def _clip_nd(reg: "Region", rows: list[tuple[int, ...]]):
    """As :func:`_clip_2d` in any dimension, with :class:`Polytope`'s exact vertices."""
    D = reg.polytope.dim
    if not rows:
        vertices = _ordered(reg.vertices(), D)
        return vertices, reg.point, []
    try:
        vertices = _ordered(_validated(reg, rows).vertices(), D)
    except DomainError:  # empty or flat: no piece
        return None
    point = np.array([sum(vertices[:, j], Fraction(0)) / len(vertices) for j in range(D)], dtype=object)
    values = [[sum(r[j] * v[j] for j in range(D)) + r[D] for v in vertices] for r in rows]
    return vertices, point, values


def _validated(reg: "Region", rows: list[tuple[int, ...]]) -> Polytope:
    P = _piece_polytope(reg, rows)
    return Polytope(P.A, P.b)  # raises DomainError when empty or not full-dimensional


def _affine_rank(points: Sequence[Sequence[Fraction]]) -> int:
    """Exact rank of the differences ``p - points[0]`` (fraction-free Gaussian elimination)."""
    if len(points) < 2:
        return 0
    p0 = points[0]
    rows = [[Fraction(a) - Fraction(b) for a, b in zip(p, p0)] for p in points[1:]]
    rank, ncols = 0, len(p0)
    for col in range(ncols):
        pivot = next((i for i in range(rank, len(rows)) if rows[i][col] != 0), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for i in range(rank + 1, len(rows)):
            if rows[i][col] != 0:
                f = rows[i][col] / rows[rank][col]
                rows[i] = [a - f * b for a, b in zip(rows[i], rows[rank])]
        rank += 1
    return rank
