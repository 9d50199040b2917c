"""Independent exact re-check of every claim a partition exposes.

The checker re-derives each claim from the network and the domain alone, in integer and
rational arithmetic: it imports nothing from the enumeration engines, the graph builder or
the volume code, and it reads the partition only through what a user sees (codes, facet
labels and rows, polytopes, points, vertices, affine maps, volumes, the graph and its
``units``).  What it proves, and how (docs/regions.md, "The certificate", states the same):

For every region with code ``w``, facet rows ``R`` (``a . x + c >= 0``) and vertices ``V``:

1. *Rows.*  Each facet row equals the row its label names, recomputed here: a domain row of
   the user's domain, or ``g_r - g_s`` for unit ``k`` of layer ``l`` under the prefix code
   ``w[:l]`` (exact integer composition of the layers), oriented towards the piece ``w`` takes.
   ``polytope`` holds the same rows.  So ``C(w) subset P``, where ``P = {R >= 0}`` and
   ``C(w)`` is the closed code region of ``w`` in the domain.
2. *Vertices.*  Each ``v`` in ``V`` satisfies every row, is tight on rows of rank ``D`` (a
   vertex of ``P``), and lies in ``C(w)``: the exact forward pass at ``v`` shows that the piece
   ``w`` chooses is a maximum at every unit.  *Completeness*: from every ``v``, every edge of
   ``P`` (an extreme ray of the cone of its tight rows, followed to the first row that stops
   it) ends at a vertex in ``V``, and none is unbounded.  The graph of a polytope is
   connected, so ``V`` is the vertex set of ``P`` and ``P`` is bounded: ``P = conv(V)``.  As
   ``C(w)`` is convex and holds ``V``, ``P = C(w)``: the rows describe the region exactly.
   Each row is tight on vertices of affine rank ``D - 1`` (a facet), no two on the same ones.
3. *Point.*  The region's point is strictly inside every row and the forward pass gives it
   the code ``w``: ``C(w)`` is full-dimensional and ``w`` is the code of its interior (ties go
   to the lowest piece).  Codes are pairwise distinct, so the regions' interiors are disjoint
   (at the first unit where two codes differ, the two regions lie on opposite sides of one
   hyperplane that is not identically zero, by the tie rule at the points).
4. *Affine map.*  It equals the composition of the layers along ``w``, recomputed here.
5. *Volume.*  The volume of ``conv(V)`` is recomputed here (a triangulation of the boundary
   coned to the centroid, simplices by integer determinants) and must equal the region's
   reported volume; the volumes sum to the domain's volume.  With (3), the regions tile the
   domain: none is missing.

For the adjacency graph:

6. *Every edge is real.*  The two regions have facets on one hyperplane, on opposite sides,
   whose intersection has positive (D-1)-volume (computed exactly: one facet clipped by the
   other region's rows); ``units`` is exactly the set of units whose piece differs between
   the two codes (by continuity, those are the units whose boundary holds the face).
7. *No edge is missing.*  For every facet of every region that is not on the domain's
   boundary, the (D-1)-volumes of its intersections with the facets of its graph neighbours
   on the same hyperplane add up to its own (D-1)-volume.  The neighbours' facets have
   disjoint relative interiors (their regions lie on one side), so a region sharing a
   (D-1)-face with this one but missing from the graph would leave part of the facet
   uncovered.
"""

from __future__ import annotations

import math
from fractions import Fraction
from itertools import combinations
from typing import TYPE_CHECKING, Any, Sequence

import flint
import numpy as np

from .errors import CertificateError
from .maso import Affine
from .numbers import to_fraction_array

if TYPE_CHECKING:  # pragma: no cover
    from .regions import Partition

__all__ = ["verify_partition"]

Hom = tuple  # a point as integers (n_1, ..., n_D, d), gcd 1, d > 0: x = n / d
Row = tuple  # a half-space as primitive integers (a_1, ..., a_D, c): a . x + c >= 0


# -- exact integer helpers ---------------------------------------------------------------
def _hom(x: Sequence[Fraction]) -> Hom:
    den = 1
    for t in x:
        den = den * t.denominator // math.gcd(den, t.denominator)
    nums = [t.numerator * (den // t.denominator) for t in x]
    g = den
    for v in nums:
        g = math.gcd(g, v)
    return tuple(v // g for v in nums) + (den // g,)


def _primitive(ints: Sequence[int]) -> tuple[int, ...]:
    g = 0
    for v in ints:
        g = math.gcd(g, v)
    return tuple(ints) if g <= 1 else tuple(v // g for v in ints)


def _int_row(row: Sequence[Fraction]) -> Row:
    """The primitive positive integer multiple of a rational row (same zero set and signs)."""
    den = 1
    for t in row:
        den = den * t.denominator // math.gcd(den, t.denominator)
    return _primitive([t.numerator * (den // t.denominator) for t in row])


def _value(row: Row, p: Hom) -> int:
    """A positive multiple (p's denominator) of the row's value at p: its sign is the sign."""
    return sum(a * n for a, n in zip(row, p))


def _rank(rows: Sequence[Sequence[int]]) -> int:
    if not rows:
        return 0
    return flint.fmpz_mat([list(r) for r in rows]).rank()


def _affine_rank(points: Sequence[Hom]) -> int:
    """Affine rank of points given homogeneously (the rank of [n | d] minus one)."""
    return _rank(points) - 1


def _hyperplane_key(row: Row) -> tuple[tuple[int, ...], int]:
    """(the row scaled so that its first non-zero entry is positive, orientation +-1)."""
    lead = next(v for v in row if v)
    return (row, 1) if lead > 0 else (tuple(-v for v in row), -1)


def _det(M: Sequence[Sequence[int]]) -> int:
    """Exact determinant of a small integer matrix (explicit up to 4 x 4, FLINT beyond)."""
    n = len(M)
    if n == 1:
        return M[0][0]
    if n == 2:
        return M[0][0] * M[1][1] - M[0][1] * M[1][0]
    if n == 3:
        (a, b, c), (d, e, f), (g, h, i) = M
        return a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
    if n == 4:
        (a, b, c, d), (e, f, g, h), (i, j, k, l), (m, n_, o, p) = M
        kp_lo, jp_nl, jo_nk = k * p - l * o, j * p - l * n_, j * o - k * n_
        ip_lm, io_km, in_jm = i * p - l * m, i * o - k * m, i * n_ - j * m
        return (a * (f * kp_lo - g * jp_nl + h * jo_nk) - b * (e * kp_lo - g * ip_lm + h * io_km)
                + c * (e * jp_nl - f * ip_lm + h * in_jm) - d * (e * jo_nk - f * io_km + g * in_jm))
    return int(flint.fmpz_mat([list(r) for r in M]).det())


def _null_vector(rows: Sequence[Sequence[int]], D: int) -> tuple[int, ...]:
    """An integer vector orthogonal to D - 1 rows of length D (signed maximal minors)."""
    if D == 1:
        return (1,)
    out = []
    for j in range(D):
        det = _det([[r[c] for c in range(D) if c != j] for r in rows])
        out.append(det if j % 2 == 0 else -det)
    return _primitive(out)


# -- polytopes as vertices with tight sets ----------------------------------------------
def _faces(S: frozenset, facets: list[frozenset], k: int, rank_of) -> set[frozenset]:
    """The (k-1)-faces of the k-face ``S``: its intersections with facets of affine rank k - 1."""
    out = set()
    for F in facets:
        G = S & F
        if len(G) >= k and G != S and G not in out and (k <= 2 or rank_of(G) == k - 1):
            out.add(G)
    return out


def _polygon_area(points: list[Hom], edges: list[frozenset]) -> Fraction:
    """Area of a convex polygon from its vertices and its edges (pairs), by the shoelace sum."""
    nxt: dict[int, list[int]] = {}
    for e in edges:
        a, b = tuple(e)
        nxt.setdefault(a, []).append(b)
        nxt.setdefault(b, []).append(a)
    start = min(nxt)
    order, prev, cur = [start], None, start
    while True:
        a, b = nxt[cur]
        step = b if a == prev else a
        if step == start:
            break
        order.append(step)
        prev, cur = cur, step
    total = flint.fmpq(0)
    for q in range(len(order)):
        (x0, y0, d0), (x1, y1, d1) = points[order[q]], points[order[(q + 1) % len(order)]]
        total += flint.fmpq(x0 * y1 - x1 * y0, d0 * d1)
    return abs(Fraction(int(total.p), 2 * int(total.q)))


def _volume(points: list[Hom], tight: list[frozenset], dim: int) -> Fraction:
    """Exact volume of conv(points) in R^dim; ``tight[i]`` are the facet rows tight at point i.

    Polygons by the shoelace sum over their cyclic order; otherwise a pulling triangulation:
    a face's (k-1)-faces are its intersections with the facets that have affine rank k - 1,
    each not holding the face's first vertex is triangulated and coned to it, and every
    simplex contributes an integer determinant.
    """
    n = len(points)
    if dim == 1:
        xs = [Fraction(p[0], p[1]) for p in points]
        return max(xs) - min(xs)
    rank_memo: dict[frozenset, int] = {}

    def rank_of(S: frozenset) -> int:
        hit = rank_memo.get(S)
        if hit is None:
            hit = rank_memo[S] = _affine_rank([points[i] for i in S])
        return hit

    facets = []
    for t in set().union(*tight):
        S = frozenset(i for i in range(n) if t in tight[i])
        if len(S) >= dim and S not in facets and rank_of(S) == dim - 1:
            facets.append(S)
    if dim == 2:
        return _polygon_area(points, facets)
    memo: dict[frozenset, list[tuple[int, ...]]] = {}

    def triangulate(S: frozenset, k: int) -> list[tuple[int, ...]]:
        hit = memo.get(S)
        if hit is not None:
            return hit
        apex = min(S)
        if k == 0:
            out = [(apex,)]
        else:
            out = [(apex,) + s for G in _faces(S, facets, k, rank_of) if apex not in G for s in triangulate(G, k - 1)]
        memo[S] = out
        return out

    total = flint.fmpq(0)
    for simplex in triangulate(frozenset(range(n)), dim):
        pts = [points[i] for i in simplex]
        d = 1
        for p in pts:
            d *= p[dim]
        total += flint.fmpq(abs(_det(pts)), d)
    return Fraction(int(total.p), int(total.q) * math.factorial(dim))


def _clip(points: list[Hom], tight: list[frozenset], label: Any, row: Row):
    """Clip the polytope conv(points) (every vertex with its complete tight set) by ``row >= 0``.

    Two vertices span an edge iff no third vertex is tight on every row the two share.
    Returns the new (points, tight) or None when less than a point remains.
    """
    vals = [_value(row, p) for p in points]
    keep = [i for i, v in enumerate(vals) if v >= 0]
    if not keep:
        return None
    if len(keep) == len(points):
        return points, [t | {label} if v == 0 else t for t, v in zip(tight, vals)]
    new_pts = [points[i] for i in keep]
    new_tight = [tight[i] | {label} if vals[i] == 0 else tight[i] for i in keep]
    for u in (i for i, v in enumerate(vals) if v > 0):
        for w in (i for i, v in enumerate(vals) if v < 0):
            common = tight[u] & tight[w]
            if any(q not in (u, w) and common <= tight[q] for q in range(len(points))):
                continue
            su, sw = vals[u], vals[w]
            P, Q = points[u], points[w]
            x = [su * b - sw * a for a, b in zip(P, Q)]  # homogeneous: the last entry is the denominator
            new_pts.append(_primitive(x))
            new_tight.append(common | {label})
    return new_pts, new_tight


class _Facet:
    """One facet of one region: its row, hyperplane key and (projected) vertices."""

    __slots__ = ("region", "index", "row", "key", "orient", "points", "tight", "pmat")

    def __init__(self, region: int, index: int, row: Row, points: list[Hom], tight: list[frozenset]) -> None:
        self.region = region
        self.index = index
        self.row = row
        self.key, self.orient = _hyperplane_key(row)
        self.points = points
        self.tight = tight
        self.pmat = None  # the points as FLINT columns, built on first use


# -- the network, recomputed here ------------------------------------------------------
class _Level:
    """One cell of the first ``l`` layers along a code: its input map and, on demand, its pieces."""

    __slots__ = ("prefix", "M", "mden", "mat", "rows", "diff", "signed")

    def __init__(self, prefix: tuple, M: list, mden: int) -> None:
        self.prefix = prefix
        self.M = M  # rows [a | c] of the layer input as integer functions of x, over mden
        self.mden = mden
        self.mat = None  # the layer's pieces on the cell, a FLINT matrix (K * R, D + 1)
        self.rows = None  # the same as lists
        self.diff = None  # two-piece layers: piece 1 - piece 0 of every unit, (K, D + 1), as lists
        self.signed = None  # for the layer that made this cell: the chosen piece minus the other


class _Maps:
    """Exact maps of each layer's input along a code, composed here in integers (FLINT).

    The pieces of layer ``l`` on the cell ``prefix`` (``len(prefix) == l``) are ``K * R``
    integer rows over ``x`` and one denominator.  Only the current path of cells is kept, so
    regions in code order share the work and memory stays proportional to the depth.
    """

    def __init__(self, net) -> None:
        self.D = net.input_dim
        self.layers = []
        self.diffs = []
        for m in net.masos:
            rows, den = m._int_pieces()
            self.layers.append((flint.fmpz_mat(rows), den, m.num_units, m.num_pieces))
            two = m.num_pieces == 2
            self.diffs.append(flint.fmpz_mat([[q - p for p, q in zip(rows[2 * k], rows[2 * k + 1])]
                                              for k in range(m.num_units)]) if two else None)
        D = self.D
        self.path = [_Level((), [[1 if i == j else 0 for j in range(D + 1)] for i in range(D)], 1)]

    def level(self, prefix: tuple) -> _Level:
        path = self.path
        common = 0
        while common + 1 < len(path) and common < len(prefix) and path[common + 1].prefix == prefix[: common + 1]:
            common += 1
        if common == len(prefix):  # on the current path (deeper cells stay for the next asks)
            return path[common]
        del path[common + 1:]
        for l in range(common, len(prefix)):
            rows, den = self.rows(path[-1])
            R = self.layers[l][3]
            path.append(_Level(prefix[: l + 1], [rows[k * R + c] for k, c in enumerate(prefix[l])], den))
        return path[len(prefix)]

    def matrix(self, cell: _Level) -> tuple[Any, int]:
        """The pieces of the cell's layer as a FLINT matrix (K * R, D + 1) and their denominator."""
        P, pden, _, _ = self.layers[len(cell.prefix)]
        if cell.mat is None:
            cell.mat = P * flint.fmpz_mat(cell.M + [[0] * self.D + [cell.mden]])
        return cell.mat, pden * cell.mden

    def chosen_minus_other(self, code: tuple, l: int) -> Any:
        """Two-piece layer ``l``: on the cell ``code[:l]``, the piece each unit takes (``code[l]``)
        minus its other piece, a FLINT matrix (K, D + 1): non-negative on the closed code region."""
        cell = self.level(code[: l + 1])
        if cell.signed is None:
            parent = self.level(code[:l])
            if parent.diff is None:
                aug = flint.fmpz_mat(parent.M + [[0] * self.D + [parent.mden]])
                parent.diff = (self.diffs[l] * aug).tolist()
            cell.signed = flint.fmpz_mat([row if c else [-v for v in row] for row, c in zip(parent.diff, code[l])])
        return cell.signed

    def rows(self, cell: _Level) -> tuple[list, int]:
        mat, den = self.matrix(cell)
        if cell.rows is None:
            cell.rows = mat.tolist()
        return cell.rows, den


# -- the checker -------------------------------------------------------------------------
class _Checker:
    def __init__(self, part: "Partition") -> None:
        self.part = part
        self.net = part.net
        self.D = part.net.input_dim
        dom = part.domain
        A = to_fraction_array(dom.A, name="domain A", ndim=2)
        b = to_fraction_array(dom.b, name="domain b", ndim=1)
        self.dom_rows = [tuple([-v for v in A[i]] + [b[i]]) for i in range(A.shape[0])]
        self.dom_keys = {_hyperplane_key(_int_row(r)) for r in self.dom_rows}
        self.maps = _Maps(self.net)
        self.layers_R = [m.num_pieces for m in self.net.masos]
        self.facets: list[list[_Facet]] = []
        self.rowmats: list = []  # per region: its integer rows as a FLINT matrix

    def fail(self, message: str) -> None:
        raise CertificateError(message)

    # -- regions --------------------------------------------------------------------------
    def run(self, graph: bool = True) -> None:
        part, net, D = self.part, self.net, self.D
        n = len(part)
        codes = []
        for i, reg in enumerate(part):
            if reg.index != i:
                self.fail(f"region {i}: its index says {reg.index}")
            codes.append(net.check_code(reg.code))
        if len(set(codes)) != len(codes):
            first = next(i for i, c in enumerate(codes) if codes.index(c) != i)
            self.fail(f"regions {codes.index(codes[first])} and {first} have the same code")
        total = Fraction(0)
        for i, reg in enumerate(part):
            total += self.region(i, reg, codes[i])
        dom_volume = self.domain_volume()
        if total != dom_volume:
            self.fail(f"the regions' volumes sum to {total}; the domain's volume is {dom_volume}")
        if graph:
            self.graph(codes)

    def expected_row(self, i: int, code: tuple, label: Any) -> tuple:
        if not isinstance(label, tuple) or not label:
            self.fail(f"region {i}: facet label {label!r} is not a domain row ('d', i) or a unit (l, k, r, s)")
        if label[0] == "d":
            t = label[1] if len(label) == 2 else -1
            if not (isinstance(t, (int, np.integer)) and 0 <= t < len(self.dom_rows)):
                self.fail(f"region {i}: facet label {label!r} names no row of the domain")
            return self.dom_rows[int(t)]
        if len(label) != 4:
            self.fail(f"region {i}: facet label {label!r} is not (layer, unit, r, s)")
        l, k, r, s = (int(v) for v in label)
        if not 0 <= l < len(self.net.masos):
            self.fail(f"region {i}: facet label {label!r} names layer {l}, which does not exist")
        m = self.net.masos[l]
        if not (0 <= k < m.num_units and 0 <= r < s < m.num_pieces):
            self.fail(f"region {i}: facet label {label!r} names no unit and pair of pieces of layer {l}")
        if code[l][k] not in (r, s):
            self.fail(f"region {i}: facet label {label!r} is for pieces {r}, {s}; the region takes piece {code[l][k]}")
        P, den = self.maps.rows(self.maps.level(code[:l]))
        R = m.num_pieces
        sign = 1 if code[l][k] == r else -1
        pr, ps = P[k * R + r], P[k * R + s]
        return tuple(Fraction(sign * int(pr[j] - ps[j]), den) for j in range(self.D + 1))

    def region(self, i: int, reg: Any, code: tuple) -> Fraction:
        D = self.D
        V = [tuple(v) for v in reg.vertices()]
        ph = _hom(reg.point)
        labels = reg.facet_labels
        rows = [tuple(r) for r in reg.facet_rows()]
        if len(rows) != len(labels):
            self.fail(f"region {i}: {len(rows)} facet rows for {len(labels)} facet labels")
        for t, (row, lab) in enumerate(zip(rows, labels)):
            if len(row) != D + 1 or row != self.expected_row(i, code, lab):
                self.fail(f"region {i}: facet row {t} is not the row of its label {lab!r}")
        poly = reg.polytope
        A, b = np.asarray(poly.A), np.asarray(poly.b)
        if A.shape != (len(rows), D) or any(
            tuple(-v for v in A[t]) + (b[t],) != row for t, row in enumerate(rows)
        ):
            self.fail(f"region {i}: its polytope differs from its facet rows")
        irows = [_int_row(r) for r in rows]
        # the point: strictly inside
        for t, r in enumerate(irows):
            if _value(r, ph) <= 0:
                self.fail(f"region {i}: its point is not strictly inside facet row {t}")
        # vertices: on the rows, vertices of P, in the closed code region
        if len(V) < D + 1:
            self.fail(f"region {i}: {len(V)} vertices cannot span dimension {D}")
        H = [_hom(v) for v in V]
        if len(set(H)) != len(H):
            self.fail(f"region {i}: a vertex is listed twice")
        rowmat = flint.fmpz_mat([list(r) for r in irows])
        slack = np.array([int(v) for v in (rowmat * flint.fmpz_mat([list(h) for h in H]).transpose()).entries()],
                         dtype=object).reshape(len(irows), len(H))  # slack[t, q]: row t at vertex q
        bad = np.argwhere(slack < 0)
        if len(bad):
            t, q = (int(v) for v in bad[0])
            self.fail(f"region {i}: vertex {q} violates facet row {t}")
        zero = slack == 0
        tight = [frozenset(np.flatnonzero(zero[:, q]).tolist()) for q in range(len(H))]
        for q, T in enumerate(tight):
            normals = [irows[t][:D] for t in T]
            if len(T) < D or (_det(normals) == 0 if len(T) == D else _rank(normals) < D):
                self.fail(f"region {i}: vertex {q} is not a vertex of the region (its tight rows have rank < {D})")
        # facets: every row is tight on vertices of affine rank D - 1, no two on the same ones
        sets = [frozenset(np.flatnonzero(zero[t]).tolist()) for t in range(len(irows))]
        for t, S in enumerate(sets):
            if len(S) < D or (D > 2 and _affine_rank([H[q] for q in S]) != D - 1):
                self.fail(f"region {i}: facet row {t} is not a facet (its vertices do not span dimension {D - 1})")
        if len(set(sets)) != len(sets):
            self.fail(f"region {i}: two facet rows hold the same facet")
        self.vertices_complete(i, H, tight, irows, sets, slack)
        self.code_region(i, code, H, ph)
        self.affine(i, reg, code)
        vol = _volume(H, tight, D)
        claimed = reg._cache.get("volume")
        if claimed is None:
            reg._cache["volume"] = vol  # proved here: what volume() reports from now on
        elif claimed != vol:
            self.fail(f"region {i}: its volume is {claimed}; its vertices span volume {vol}")
        self.rowmats.append(rowmat)
        self.facets.append([_Facet(i, t, r, [H[q] for q in sorted(sets[t])], [tight[q] for q in sorted(sets[t])])
                            for t, r in enumerate(irows)])
        return vol

    def code_region(self, i: int, code: tuple, H: list[Hom], ph: Hom) -> None:
        """Every vertex lies in the closed code region (the piece the code takes is a maximum of
        every unit, the layers composed along the code), and at the point the code is the
        network's: its pieces are maxima, strictly above every lower-indexed piece (the tie
        rule), layer after layer -- the exact forward pass, along the code."""
        cols = flint.fmpz_mat([list(h) for h in H] + [list(ph)]).transpose()
        n = len(H) + 1
        for l, c_l in enumerate(code):
            R = self.layers_R[l]
            if R == 1:
                continue
            if R == 2:  # the chosen piece minus the other: >= 0 at the vertices, > 0 at the point for piece 1
                E = (self.maps.chosen_minus_other(code, l) * cols).entries()  # (K, n), the point last
                if min(E) < 0:
                    at = next(q for q in range(len(E)) if E[q] < 0)
                    what = "its point" if at % n == n - 1 else f"vertex {at % n}"
                    self.fail(f"region {i}: at {what}, unit {at // n} of layer {l} does not take piece {c_l[at // n]}")
                if any(c and not v for c, v in zip(c_l, E[n - 1::n])):
                    self.fail(f"region {i}: the forward pass at its point gives another code (at layer {l})")
                continue
            mat, _ = self.maps.matrix(self.maps.level(code[:l]))
            E = (mat * cols).entries()
            for k, c in enumerate(c_l):
                base = E[(k * R + c) * n:(k * R + c + 1) * n]
                for s_ in range(R):
                    if s_ == c:
                        continue
                    other = E[(k * R + s_) * n:(k * R + s_ + 1) * n]
                    for q in range(n - 1):
                        if base[q] < other[q]:
                            self.fail(f"region {i}: at vertex {q}, unit {k} of layer {l} does not take piece {c} "
                                      f"(piece {s_} is larger)")
                    if base[-1] < other[-1] or (s_ < c and base[-1] == other[-1]):
                        self.fail(f"region {i}: the forward pass at its point gives another code "
                                  f"(unit {k} of layer {l} takes piece {s_}, not {c})")

    def affine(self, i: int, reg: Any, code: tuple) -> None:
        """The region's affine map is the composition of the layers along its code."""
        D = self.D
        cell = self.maps.level(code)
        A_w = [[Fraction(int(v), cell.mden) for v in row[:D]] for row in cell.M]
        b_w = [Fraction(int(row[D]), cell.mden) for row in cell.M]
        aff = reg._cache.get("affine")
        if aff is None:  # proved here: what ``affine`` reports from now on
            reg._cache["affine"] = Affine(np.array(A_w, dtype=object).reshape(len(A_w), D), np.array(b_w, dtype=object))
        elif [list(r) for r in np.asarray(aff.A)] != A_w or list(np.asarray(aff.b)) != b_w:
            self.fail(f"region {i}: its affine map is not the network's map on its code")

    def vertices_complete(self, i: int, H: list[Hom], tight: list[frozenset], rows: list[Row],
                          sets: list[frozenset], slack: np.ndarray) -> None:
        """The listed vertices are all the vertices of {rows >= 0}, which is bounded.

        1-D: two vertices of an interval are its two ends.  2-D: every row holds exactly two
        listed vertices, so each edge of the polygon ends at listed vertices and the polygon,
        whose every edge is a segment, is bounded.  Otherwise every edge of the polyhedron from
        every listed vertex (an extreme ray of the cone of its tight rows, followed to the
        first row that stops it) must end at a listed vertex; each edge is followed once.
        """
        D = self.D
        if D == 1:
            return
        if D == 2:
            for t, S in enumerate(sets):
                if len(S) != 2:
                    self.fail(f"region {i}: facet row {t} holds {len(S)} listed vertices; an edge of a polygon holds two "
                              "(the vertex list is incomplete or wrong)")
            return
        known = {h: q for q, h in enumerate(H)}
        normals = [r[:D] for r in rows]
        done: set[tuple[int, tuple]] = set()
        for q, (v, T) in enumerate(zip(H, tight)):
            Tl = sorted(T)
            rays = set()
            for S in combinations(Tl, D - 1):
                d = _null_vector([normals[t] for t in S], D)
                if not any(d):
                    continue
                dots = [sum(a * x for a, x in zip(normals[t], d)) for t in Tl if t not in S]
                if all(x >= 0 for x in dots) and any(dots):
                    rays.add(d)
                elif all(x <= 0 for x in dots) and any(dots):
                    rays.add(tuple(-x for x in d))
            for d in rays:
                if (q, d) in done:
                    continue
                best = None  # (slack, rate) of the first row that stops the ray
                for t, nrm in enumerate(normals):
                    rate = -sum(a * x for a, x in zip(nrm, d))
                    if rate > 0:
                        sl = slack[t, q]
                        if best is None or sl * best[1] < best[0] * rate:
                            best = (sl, rate)
                if best is None:
                    self.fail(f"region {i}: unbounded: an edge from vertex {q} never meets a facet")
                sl, rate = best
                w = known.get(_primitive([a * rate + sl * x for a, x in zip(v[:D], d)] + [v[D] * rate]))
                if w is None:
                    self.fail(f"region {i}: the vertex list is incomplete: an edge from vertex {q} ends at a vertex not listed")
                done.add((w, tuple(-x for x in d)))

    def domain_volume(self) -> Fraction:
        dom = self.part.domain
        lo, hi = getattr(dom, "lo", None), getattr(dom, "hi", None)
        if lo is not None and hi is not None:
            vol = Fraction(1)
            for a, c in zip(lo, hi):
                vol *= Fraction(c) - Fraction(a)
            return vol
        return Fraction(dom.volume())

    # -- the graph ------------------------------------------------------------------------
    def graph(self, codes: list[tuple]) -> None:
        G = self.part.graph
        n = len(codes)
        if set(G.nodes) != set(range(n)):
            self.fail(f"the graph's nodes are not the regions 0 .. {n - 1}")
        full: set[tuple[int, int]] = set()  # facets that one neighbour's facet contains
        pieces: dict[tuple[int, int], list] = {}  # other facets: the pieces neighbours cover
        by_key = [{f.key: f for f in fs} for fs in self.facets]
        for i, j, data in G.edges(data=True):
            if i == j:
                self.fail(f"edge ({i}, {j}): a region is not adjacent to itself")
            units = tuple(sorted((l, k) for l, (a, b) in enumerate(zip(codes[i], codes[j]))
                                 for k, (x, y) in enumerate(zip(a, b)) if x != y))
            if tuple(sorted(tuple(u) for u in data.get("units", ()))) != units:
                self.fail(f"edge ({i}, {j}): its units {data.get('units')} are not the units whose pieces differ, {units}")
            for key, fi in by_key[i].items():
                fj = by_key[j].get(key)
                if fj is not None and fj.orient != fi.orient and self.share(fi, fj, full, pieces):
                    break
            else:
                self.fail(f"edge ({i}, {j}): the two regions share no (D-1)-dimensional face")
        for fs in self.facets:
            for f in fs:
                where = (f.region, f.index)
                if where in full or (f.key, f.orient) in self.dom_keys:
                    continue  # covered by one neighbour, or on the domain's boundary
                whole = self.facet_volume(f, f.points, f.tight)
                got = sum((self.facet_volume(f, P, T) for P, T in pieces.get(where, ())), Fraction(0))
                if got != whole:
                    self.fail(f"region {f.region}: facet {f.index} is not covered by its graph neighbours' facets "
                              f"(an adjacency is missing)")

    def inside(self, f: _Facet, region: int) -> bool:
        """True when every vertex of facet ``f`` satisfies every row of ``region``."""
        if f.pmat is None:
            f.pmat = flint.fmpz_mat([list(p) for p in f.points]).transpose()
        return min((self.rowmats[region] * f.pmat).entries()) >= 0

    def share(self, fi: _Facet, fj: _Facet, full: set, pieces: dict) -> bool:
        """Whether two facets on one hyperplane meet in a (D-1)-dimensional set; records the cover."""
        a, b = (fi.region, fi.index), (fj.region, fj.index)
        i_in_j, j_in_i = self.inside(fi, fj.region), self.inside(fj, fi.region)
        if i_in_j or j_in_i:
            for f, g, g_in_f, where in ((fi, fj, j_in_i, a), (fj, fi, i_in_j, b)):
                if self.inside(f, g.region):
                    full.add(where)
                else:
                    pieces.setdefault(where, []).append((g.points, g.tight) if g_in_f else None)
            return True
        points, tight = fi.points, fi.tight
        for h in self.facets[fj.region]:
            if h.index != fj.index:
                got = _clip(points, tight, ("g", h.index), h.row)
                if got is None:
                    return False
                points, tight = got
        if self.flat_rank(fi, points) < self.D - 1:
            return False
        pieces.setdefault(a, []).append((points, tight))
        pieces.setdefault(b, []).append((points, tight))
        return True

    def flat_rank(self, f: _Facet, points: list[Hom]) -> int:
        return _affine_rank(points) if points else -1

    def facet_volume(self, f: _Facet, points: list[Hom], tight: list[frozenset]) -> Fraction:
        """The (D-1)-volume, projected along one coordinate, of a polytope inside ``f``'s hyperplane."""
        D = self.D
        if D == 1:
            return Fraction(1)
        drop = next(j for j in range(D) if f.row[j])
        proj = [p[:drop] + p[drop + 1:] for p in points]
        # the facet's own row is tight everywhere and carries no face of the facet
        return _volume(proj, [t - {f.index} for t in tight], D - 1)


def verify_partition(part: "Partition", *, graph: bool = True) -> None:
    """Re-check every claim of ``part`` (see the module docstring); raise CertificateError."""
    _Checker(part).run(graph=graph)
