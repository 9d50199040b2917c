"""An exact brute-force oracle for the linear regions of a MASO network, in any dimension.

Independent of exactmaso: this module imports nothing from it and works on plain nested lists
and Python integers (``fractions.Fraction`` only at the boundary).

Network.  A list of layers; layer ``l`` is ``(A, B)`` with ``A[k][r]`` the slope (a list of
``n_l`` numbers) and ``B[k][r]`` the offset of piece ``r`` of unit ``k``; the unit's output is
``max_r <A[k][r], z> + B[k][r]`` and its code is the arg-max with ties to the lowest index.  A
layer with one piece per unit is affine.  Numbers are anything ``Fraction()`` accepts.

Method.  Cells are exact convex polytopes kept in both forms: integer rows ``h = (a, c)``
meaning ``a . x + c >= 0`` (primitive: gcd 1, so equal hyperplanes have equal rows) and
vertices in homogeneous integer coordinates ``(X, w)``, ``x = X / w``, ``w > 0``, each with
the bitmask of the rows tight at it.  The domain is split layer by layer and unit by unit:
on a cell, the earlier codes fix the layer input as an exact affine map of ``x``, so piece
``r`` of a unit is an affine function ``g_r``; code ``r`` keeps ``g_r - g_s >= 0`` for every
``s`` (skipped when ``g_r - g_s`` is identically zero; if that happens for an ``s < r`` the tie
rule gives the code to ``s``, so ``r`` is dropped).  A cut by ``h >= 0`` keeps the vertices
with ``h >= 0`` and adds the crossing points of the edges from ``h > 0`` to ``h < 0``; two
vertices span an edge iff no third vertex is tight on every row tight at both (the
combinatorial test, exact under any degeneracy).  The cut is full-dimensional iff some vertex
has ``h > 0``.  Rows whose tight-vertex sets are not maximal are dropped (they are not facets),
so every cell is irredundant.

Volumes come from a pulling triangulation (apex: the lowest vertex of a face; the facets of a
face are the maximal proper intersections with the rows' tight sets) and integer
determinants.  Two regions are adjacent iff some facet row of one is the negated facet row of
the other and the two facets, cut against each other inside their common hyperplane (by the
same exact cut, one dimension lower), keep a full-dimensional piece.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import combinations
from typing import Any, Iterable, Sequence

try:  # python-flint's integer determinant, when installed (a plain-Python one otherwise)
    import flint as _flint
except ImportError:  # pragma: no cover
    _flint = None

__all__ = ["OracleRegion", "OracleResult", "oracle_regions", "forward", "to_layers", "box_rows", "edge_problems"]


# ---------------------------------------------------------------------------------------------
# integer helpers
# ---------------------------------------------------------------------------------------------


def _primitive(row: Sequence[int]) -> tuple[int, ...]:
    """The row divided by the gcd of its entries (zero rows stay zero)."""
    g = math.gcd(*row)
    if g > 1:
        return tuple(v // g for v in row)
    return tuple(row)


def _hom(X: Sequence[int], w: int) -> tuple[int, ...]:
    """Homogeneous point ``(X, w)``, ``w > 0``, divided by its gcd."""
    if w < 0:
        X = [-v for v in X]
        w = -w
    g = math.gcd(w, *X)
    if g > 1:
        return tuple(v // g for v in X) + (w // g,)
    return tuple(X) + (w,)


def _dot(h: Sequence[int], v: Sequence[int]) -> int:
    """``h`` at the homogeneous point ``v`` (both of length D + 1): the sign of ``h(v / w)``."""
    return sum(map(operator.mul, h, v))


def _det(M: list[list[int]]) -> int:
    """Exact integer determinant (Bareiss fraction-free elimination)."""
    A = [list(r) for r in M]
    n = len(A)
    sign, prev = 1, 1
    for i in range(n - 1):
        if A[i][i] == 0:
            p = next((r for r in range(i + 1, n) if A[r][i] != 0), None)
            if p is None:
                return 0
            A[i], A[p] = A[p], A[i]
            sign = -sign
        piv = A[i][i]
        for r in range(i + 1, n):
            Ar, Ai = A[r], A[i]
            f = Ar[i]
            for c in range(i + 1, n):
                Ar[c] = (Ar[c] * piv - f * Ai[c]) // prev
            Ar[i] = 0
        prev = piv
    return sign * A[n - 1][n - 1]


def _int_solve(rows: list[list[int]], rhs: list[int]) -> tuple[list[int], int] | None:
    """Cramer's rule on integers: ``(X, w)`` with ``rows @ (X / w) = rhs``, or None if singular."""
    w = _det(rows)
    if w == 0:
        return None
    n = len(rows)
    X = []
    for j in range(n):
        M = [row[:j] + [rhs[i]] + row[j + 1:] for i, row in enumerate(rows)]
        X.append(_det(M))
    return X, w


def _frac(v: Any) -> Fraction:
    if isinstance(v, Fraction):
        return v
    if isinstance(v, bool):
        raise TypeError("bool is not a number here")
    return Fraction(v)


def _bits(mask: int) -> Iterable[int]:
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


# ---------------------------------------------------------------------------------------------
# cells: rows (a . x + c >= 0, primitive ints), homogeneous vertices, tight masks
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Cell:
    rows: tuple[tuple[int, ...], ...]
    verts: tuple[tuple[int, ...], ...]
    masks: tuple[int, ...]  # masks[v]: bit i set iff rows[i] is tight at verts[v]


def _row_sets(cell_rows: Sequence, masks: Sequence[int]) -> list[int]:
    """For each row, the bitmask of the vertices where it is tight."""
    sets = [0] * len(cell_rows)
    for vi, m in enumerate(masks):
        bit = 1 << vi
        for i in _bits(m):
            sets[i] |= bit
    return sets


def _prune(rows: list, verts: list, masks: list[int]) -> _Cell:
    """Drop the rows whose tight-vertex sets are not maximal (not facets); remap the masks."""
    sets = _row_sets(rows, masks)
    keep = []
    for i, Si in enumerate(sets):
        if Si == 0:
            continue
        dominated = False
        for j, Sj in enumerate(sets):
            if j != i and Si & ~Sj == 0 and (Si != Sj or j < i):
                dominated = True
                break
        if not dominated:
            keep.append(i)
    if len(keep) == len(rows):
        return _Cell(tuple(rows), tuple(verts), tuple(masks))
    new_masks = []
    for m in masks:
        nm = 0
        for newi, oldi in enumerate(keep):
            if m >> oldi & 1:
                nm |= 1 << newi
        new_masks.append(nm)
    return _Cell(tuple(rows[i] for i in keep), tuple(verts), tuple(new_masks))


def _cut(cell: _Cell, h: tuple[int, ...], *, prune: bool = True) -> _Cell | None:
    """The cell intersected with ``h >= 0``; None unless that is full-dimensional.

    Also cuts a face of a cell (its vertices and their masks; then ``prune`` must be false):
    the edge test and the full-dimensionality test hold within the face's affine hull."""
    verts, masks = cell.verts, cell.masks
    mul = operator.mul
    vals = [sum(map(mul, h, v)) for v in verts]
    pos = [i for i, s in enumerate(vals) if s > 0]
    if not pos:
        return None
    neg = [i for i, s in enumerate(vals) if s < 0]
    if not neg:
        return cell
    D = len(h) - 1
    hbit = 1 << len(cell.rows)
    new_verts, new_masks = [], []
    for i, s in enumerate(vals):
        if s >= 0:
            new_verts.append(verts[i])
            new_masks.append(masks[i] | hbit if s == 0 else masks[i])
    nv = len(verts)
    for i in pos:
        mi, vi, si = masks[i], verts[i], vals[i]
        for j in neg:
            common = mi & masks[j]
            if common.bit_count() < D - 1:
                continue
            if any(k != i and k != j and masks[k] & common == common for k in range(nv)):
                continue  # a third vertex on the smallest face holding both: not an edge
            sj, vj = vals[j], verts[j]
            p = [si * b - sj * a for a, b in zip(vi, vj)]
            new_verts.append(_hom(p[:-1], p[-1]))
            new_masks.append(common | hbit)
    rows = list(cell.rows) + [h]
    if not prune:
        return _Cell(tuple(rows), tuple(new_verts), tuple(new_masks))
    return _prune(rows, new_verts, new_masks)


def box_rows(lo: Sequence[Any], hi: Sequence[Any]) -> tuple[list[list[Fraction]], list[Fraction]]:
    """The box ``lo <= x <= hi`` as ``(A, b)`` with ``A x <= b``."""
    D = len(lo)
    A, b = [], []
    for i in range(D):
        e = [Fraction(0)] * D
        e[i] = Fraction(1)
        A.append(list(e))
        b.append(_frac(hi[i]))
        A.append([-v for v in e])
        b.append(-_frac(lo[i]))
    return A, b


def _int_row_le(a: Sequence[Any], bi: Any) -> tuple[int, ...]:
    """``a . x <= b`` as the primitive integer row of ``-a . x + b >= 0``."""
    vals = [-_frac(v) for v in a] + [_frac(bi)]
    den = math.lcm(*(v.denominator for v in vals))
    return _primitive([v.numerator * (den // v.denominator) for v in vals])


def _box_cell(lo: Sequence[Fraction], hi: Sequence[Fraction]) -> _Cell:
    D = len(lo)
    for i in range(D):
        if not lo[i] < hi[i]:
            raise ValueError(f"box side {i} is [{lo[i]}, {hi[i]}]; expected lo < hi")
    rows = []
    for i in range(D):
        for sgn, bound in ((1, lo[i]), (-1, hi[i])):  # x_i - lo >= 0 ; hi - x_i >= 0
            e = [Fraction(0)] * D
            e[i] = Fraction(sgn)
            vals = e + [-sgn * bound]
            den = math.lcm(*(v.denominator for v in vals))
            rows.append(_primitive([v.numerator * (den // v.denominator) for v in vals]))
    verts, masks = [], []
    for corner in range(1 << D):
        pt = [hi[i] if corner >> i & 1 else lo[i] for i in range(D)]
        den = math.lcm(*(v.denominator for v in pt))
        verts.append(_hom([v.numerator * (den // v.denominator) for v in pt], den))
        masks.append(sum(1 << (2 * i + (corner >> i & 1)) for i in range(D)))
    return _Cell(tuple(rows), tuple(verts), tuple(masks))


def _polytope_cell(A: Sequence[Sequence[Any]], b: Sequence[Any]) -> _Cell:
    """The cell ``{A x <= b}``: vertices from every D-subset of rows bound a box, which is then
    cut by every row; a vertex left on the box means the set is unbounded."""
    rows = [_int_row_le(a, bi) for a, bi in zip(A, b)]
    D = len(rows[0]) - 1
    pts = []
    for sub in combinations(rows, D):
        sol = _int_solve([list(r[:D]) for r in sub], [-r[D] for r in sub])
        if sol is None:
            continue
        v = _hom(*sol)
        if all(_dot(r, v) >= 0 for r in rows):
            pts.append(v)
    if not pts:
        raise ValueError("the polytope {A x <= b} has no vertex: empty, not full-dimensional or unbounded")
    lo = [min(Fraction(p[i], p[D]) for p in pts) - 1 for i in range(D)]
    hi = [max(Fraction(p[i], p[D]) for p in pts) + 1 for i in range(D)]
    cell = _box_cell(lo, hi)
    box = set(cell.rows)
    for r in rows:
        cell = _cut(cell, r)
        if cell is None:
            raise ValueError("the polytope {A x <= b} is not full-dimensional")
    if any(r in box for r in cell.rows):
        raise ValueError("the polytope {A x <= b} is unbounded")
    return cell


# ---------------------------------------------------------------------------------------------
# volumes: pulling triangulation
# ---------------------------------------------------------------------------------------------


def _volume(cell: _Cell) -> Fraction:
    verts = cell.verts
    D = len(verts[0]) - 1
    sets = _row_sets(cell.rows, cell.masks)
    memo: dict[int, list[tuple[int, ...]]] = {}

    def simplices(S: int) -> list[tuple[int, ...]]:
        hit = memo.get(S)
        if hit is not None:
            return hit
        apex = (S & -S).bit_length() - 1
        if S == 1 << apex:
            out = [(apex,)]
        else:
            cands = {S & T for T in sets}
            cands.discard(S)
            cands.discard(0)
            facets = [F for F in cands if not any(F != G and F & ~G == 0 for G in cands)]
            out = []
            for F in facets:
                if not F >> apex & 1:
                    out.extend(s + (apex,) for s in simplices(F))
        memo[S] = out
        return out

    by_den: dict[int, int] = {}  # sum of |det| per product of the vertices' denominators
    for simplex in simplices((1 << len(verts)) - 1):
        assert len(simplex) == D + 1, f"pulling triangulation produced a {len(simplex) - 1}-simplex in dimension {D}"
        M = [list(verts[i]) for i in simplex]
        w = math.prod(verts[i][D] for i in simplex)
        det = int(_flint.fmpz_mat(M).det()) if _flint is not None and D >= 3 else _det(M)
        by_den[w] = by_den.get(w, 0) + abs(det)
    total = sum((Fraction(n, w) for w, n in by_den.items()), Fraction(0))
    return total / math.factorial(D)


# ---------------------------------------------------------------------------------------------
# network in integer form
# ---------------------------------------------------------------------------------------------


def to_layers(layers: Sequence[Any]) -> list[tuple[list[list[list[Fraction]]], list[list[Fraction]]]]:
    """The layers as Fractions, with shapes checked."""
    out = []
    n = None
    for l, (A, B) in enumerate(layers):
        A = [[[_frac(v) for v in piece] for piece in unit] for unit in A]
        B = [[_frac(v) for v in unit] for unit in B]
        if len(A) != len(B) or not A:
            raise ValueError(f"layer {l}: {len(A)} units of slopes, {len(B)} units of offsets")
        for k, (ua, ub) in enumerate(zip(A, B)):
            if len(ua) != len(ub) or not ua:
                raise ValueError(f"layer {l} unit {k}: {len(ua)} slopes, {len(ub)} offsets")
            for piece in ua:
                if n is not None and len(piece) != n:
                    raise ValueError(f"layer {l} unit {k}: a slope has {len(piece)} entries; expected {n}")
                n = len(piece)
        out.append((A, B))
        n = len(A)
    return out


def _int_layer(A, B) -> tuple[list[list[list[int]]], int]:
    """Pieces ``[A | B]`` of every unit as integer rows over one common denominator."""
    den = 1
    for unit_a, unit_b in zip(A, B):
        for piece, off in zip(unit_a, unit_b):
            den = math.lcm(den, off.denominator, *(v.denominator for v in piece))
    P = [
        [[v.numerator * (den // v.denominator) for v in piece] + [off.numerator * (den // off.denominator)] for piece, off in zip(ua, ub)]
        for ua, ub in zip(A, B)
    ]
    return P, den


def forward(layers: Sequence[Any], x: Sequence[Any]) -> tuple[list[Fraction], tuple[tuple[int, ...], ...]]:
    """Exact output and code of one input (the network's definition)."""
    z = [_frac(v) for v in x]
    code = []
    for A, B in to_layers(layers):
        y, c = [], []
        for ua, ub in zip(A, B):
            vals = [sum((a * zi for a, zi in zip(piece, z)), Fraction(0)) + off for piece, off in zip(ua, ub)]
            best = max(vals)
            r = vals.index(best)  # the first maximum: ties go to the lowest piece
            y.append(best)
            c.append(r)
        z = y
        code.append(tuple(c))
    return z, tuple(code)


# ---------------------------------------------------------------------------------------------
# the oracle
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OracleRegion:
    """One region: exact geometry and the network's affine map on it."""

    code: tuple  # per-layer tuples of piece indices
    A_le: tuple  # irredundant H-representation A_le x <= b_le (rows of Fractions, primitive ints)
    b_le: tuple
    vertices: frozenset  # tuples of Fractions
    volume: Fraction
    A: tuple  # output affine map: rows of Fractions (out x D)
    b: tuple  # (out,)
    point: tuple  # the vertex centroid, strictly inside
    rows: tuple  # the facet rows as primitive integer tuples (a, c): a . x + c >= 0


@dataclass(frozen=True)
class OracleResult:
    regions: list[OracleRegion]
    edges: set  # frozenset({code_i, code_j}) for adjacent regions
    # per edge: (code of the region on the side of +normal, normal, vertices of the shared face)
    edge_faces: dict = field(default_factory=dict)

    def by_code(self) -> dict:
        return {r.code: r for r in self.regions}


def _layer_pieces(P: list, N: list[list[int]], den: int) -> list[list[tuple[int, ...]]]:
    """Piece values ``g_{k,r}`` as integer rows over x (common denominator ``den_L * den``)."""
    D1 = len(N[0]) if N else 0
    out = []
    for unit in P:
        u = []
        for piece in unit:
            row = [0] * D1
            for a, Nrow in zip(piece, N):
                if a:
                    for i in range(D1):
                        row[i] += a * Nrow[i]
            row[D1 - 1] += piece[-1] * den
            u.append(tuple(row))
        out.append(u)
    return out


def _split_unit(cell: _Cell, pieces: list[tuple[int, ...]]) -> list[tuple[int, _Cell]]:
    """The full-dimensional parts of the cell for each arg-max piece of one unit."""
    out = []
    for r, gr in enumerate(pieces):
        if any(pieces[s] == gr for s in range(r)):
            continue  # identical to a lower piece: the tie rule gives the code to that one
        c: _Cell | None = cell
        for s, gs in enumerate(pieces):
            if s == r or gs == gr:
                continue
            c = _cut(c, _primitive([x - y for x, y in zip(gr, gs)]))
            if c is None:
                break
        if c is not None:
            out.append((r, c))
    return out


def _facets_meet(P: _Cell, Q: _Cell, h: tuple[int, ...]) -> _Cell | None:
    """Whether the facet of P on ``h = 0`` (row ``h`` of P, row ``-h`` of Q) and that of Q meet in a
    (D-1)-dimensional set: P's facet, cut by Q's other rows, stays (D-1)-dimensional."""
    hi = P.rows.index(h)
    verts = tuple(v for v, m in zip(P.verts, P.masks) if m >> hi & 1)
    masks = tuple(m for m in P.masks if m >> hi & 1)
    face: _Cell | None = _Cell(P.rows, verts, masks)
    nh = tuple(-v for v in h)
    for r in Q.rows:
        if r == nh:
            continue
        face = _cut(face, r, prune=False)
        if face is None:
            return None
    return face


def _facet_box(cell: _Cell, h: tuple[int, ...]) -> list[tuple[Fraction, Fraction]]:
    """Per coordinate, the range of the facet's vertices (exact)."""
    hi = cell.rows.index(h)
    D = len(h) - 1
    pts = [v for v, m in zip(cell.verts, cell.masks) if m >> hi & 1]
    return [(min(Fraction(v[i], v[D]) for v in pts), max(Fraction(v[i], v[D]) for v in pts)) for i in range(D)]


def _adjacency(cells: list[tuple[tuple, _Cell]]) -> tuple[set, dict]:
    """Pairs of codes whose regions share a (D-1)-face.  A pair is tried when a facet row of one
    is the negated facet row of the other; it is rejected at once when, in a coordinate that is
    not constant on the hyperplane, the facets' coordinate ranges overlap in at most a point
    (then the facets meet inside a (D-2)-flat at most), and decided by :func:`_facets_meet`."""
    by_row: dict[tuple, list[int]] = {}
    for idx, (_, c) in enumerate(cells):
        for r in c.rows:
            by_row.setdefault(r, []).append(idx)
    boxes: dict[tuple[int, tuple], list] = {}

    def box(idx: int, r: tuple) -> list:
        hit = boxes.get((idx, r))
        if hit is None:
            hit = boxes[(idx, r)] = _facet_box(cells[idx][1], r)
        return hit

    edges = set()
    faces = {}
    for idx, (code, c) in enumerate(cells):
        for r in c.rows:
            nr = tuple(-v for v in r)
            D = len(r) - 1
            free = [i for i in range(D) if any(r[j] for j in range(D) if j != i)]
            for jdx in by_row.get(nr, ()):
                if jdx <= idx:
                    continue
                pair = frozenset((code, cells[jdx][0]))
                if pair in edges:
                    continue
                bp, bq = box(idx, r), box(jdx, nr)
                if any(min(bp[i][1], bq[i][1]) <= max(bp[i][0], bq[i][0]) for i in free):
                    continue
                face = _facets_meet(c, cells[jdx][1], r)
                if face is not None:
                    edges.add(pair)
                    pts = [tuple(Fraction(v[i], v[D]) for i in range(D)) for v in face.verts]
                    faces[pair] = (code, r[:D], pts)
    return edges, faces


def _region(code: tuple, cell: _Cell, N: list[list[int]], den: int) -> OracleRegion:
    D = len(cell.rows[0]) - 1
    verts = frozenset(tuple(Fraction(v[i], v[D]) for i in range(D)) for v in cell.verts)
    point = tuple(sum((v[i] for v in verts), Fraction(0)) / len(verts) for i in range(D))
    A_le = tuple(tuple(Fraction(-r[i]) for i in range(D)) for r in cell.rows)
    b_le = tuple(Fraction(r[D]) for r in cell.rows)
    A = tuple(tuple(Fraction(row[i], den) for i in range(D)) for row in N)
    b = tuple(Fraction(row[D], den) for row in N)
    return OracleRegion(code, A_le, b_le, verts, _volume(cell), A, b, point, cell.rows)


def oracle_regions(
    layers: Sequence[Any],
    lo: Sequence[Any] | None = None,
    hi: Sequence[Any] | None = None,
    *,
    A: Sequence[Sequence[Any]] | None = None,
    b: Sequence[Any] | None = None,
    adjacency: bool = True,
) -> OracleResult:
    """Every region of the network on the box ``[lo, hi]`` or the bounded polytope ``{A x <= b}``.

    Returns an :class:`OracleResult`: the regions in lexicographic code order and, when
    ``adjacency`` is true, the set of adjacent pairs of codes.
    """
    if (lo is None) == (A is None):
        raise TypeError("give exactly one domain: lo, hi (a box) or A=, b= (a polytope)")
    if A is not None:
        cell = _polytope_cell(A, b)
    else:
        if hi is None or len(lo) != len(hi):
            raise ValueError("lo and hi must be given with the same length")
        cell = _box_cell([_frac(v) for v in lo], [_frac(v) for v in hi])
    D = len(cell.rows[0]) - 1
    layers = to_layers(layers)
    if len(layers[0][0][0][0]) != D:
        raise ValueError(f"the first layer takes {len(layers[0][0][0][0])} inputs; the domain has dimension {D}")
    int_layers = [_int_layer(Al, Bl) for Al, Bl in layers]
    ident = [[int(i == j) for j in range(D + 1)] for i in range(D)]
    found: list[tuple[tuple, _Cell, list, int]] = []

    def descend(l: int, cell: _Cell, code: tuple, N: list[list[int]], den: int) -> None:
        if l == len(int_layers):
            found.append((code, cell, N, den))
            return
        P, den_l = int_layers[l]
        pieces = _layer_pieces(P, N, den)
        new_den = den_l * den

        def unit(k: int, c: _Cell, lcode: tuple) -> None:
            if k == len(pieces):
                rows = [list(pieces[i][r]) for i, r in enumerate(lcode)]
                g = math.gcd(new_den, *(v for row in rows for v in row))
                descend(l + 1, c, code + (lcode,), [[v // g for v in row] for row in rows], new_den // g)
                return
            for r, sub in _split_unit(c, pieces[k]):
                unit(k + 1, sub, lcode + (r,))

        unit(0, cell, ())

    descend(0, cell, (), ident, 1)
    found.sort(key=lambda t: t[0])
    regions = [_region(code, c, N, den) for code, c, N, den in found]
    edges, faces = _adjacency([(code, c) for code, c, _, _ in found]) if adjacency else (set(), {})
    return OracleResult(regions, edges, faces)


# ---------------------------------------------------------------------------------------------
# a self-check of the edges
# ---------------------------------------------------------------------------------------------


def _rank(vectors: list[list[Fraction]]) -> int:
    M = [list(v) for v in vectors]
    rank = 0
    cols = len(M[0]) if M else 0
    for c in range(cols):
        piv = next((i for i in range(rank, len(M)) if M[i][c] != 0), None)
        if piv is None:
            continue
        M[rank], M[piv] = M[piv], M[rank]
        for i in range(len(M)):
            if i != rank and M[i][c] != 0:
                f = M[i][c] / M[rank][c]
                M[i] = [x - f * y for x, y in zip(M[i], M[rank])]
        rank += 1
    return rank


def edge_problems(layers: Sequence[Any], res: OracleResult) -> list[str]:
    """Re-check every edge from the network's definition: the shared face's vertices lie in both
    closures and span a (D-1)-flat, and stepping from their centroid along the normal, just far
    enough to stay inside, the forward pass gives one region's code on each side."""
    by_code = res.by_code()
    problems = []
    for pair in res.edges:
        code_p, a, pts = res.edge_faces[pair]
        code_q = next(c for c in pair if c != code_p)
        D = len(a)
        for name, reg in ((code_p, by_code[code_p]), (code_q, by_code[code_q])):
            for x in pts:
                if any(sum((ai * xi for ai, xi in zip(row, x)), Fraction(0)) > bi for row, bi in zip(reg.A_le, reg.b_le)):
                    problems.append(f"edge {sorted(pair)}: face vertex {x} outside region {name}")
        if _rank([[xi - yi for xi, yi in zip(x, pts[0])] for x in pts[1:]]) != D - 1:
            problems.append(f"edge {sorted(pair)}: the shared face is not (D-1)-dimensional")
            continue
        p = [sum((x[i] for x in pts), Fraction(0)) / len(pts) for i in range(D)]
        for reg, sign in ((by_code[code_p], 1), (by_code[code_q], -1)):
            d = [sign * Fraction(v) for v in a]
            t = None
            for row, bi in zip(reg.A_le, reg.b_le):
                slack = bi - sum((ri * pi for ri, pi in zip(row, p)), Fraction(0))
                rate = sum((ri * di for ri, di in zip(row, d)), Fraction(0))
                if slack == 0 and rate >= 0:
                    problems.append(f"edge {sorted(pair)}: the face centroid is on another facet of {reg.code}")
                    t = None
                    break
                if rate > 0:
                    t = slack / rate if t is None else min(t, slack / rate)
            if t is None:
                continue
            x = [pi + t / 2 * di for pi, di in zip(p, d)]
            _, code = forward(layers, x)
            if code != reg.code:
                problems.append(f"edge {sorted(pair)}: the forward pass next to the face gives {code}, not {reg.code}")
    return problems
