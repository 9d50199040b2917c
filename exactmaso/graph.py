"""The adjacency graph, the layer hierarchy and the decision boundary of a partition.

Adjacency.  Two regions are adjacent when they share a (D-1)-dimensional face.
:func:`adjacency_graph` reads almost every edge off the codes and facet labels the
enumeration produced (a facet's neighbour is the region whose code swaps the facet's two
pieces; see its docstring for why that is exact); :func:`recover_adjacency` finds the
graph again from the regions' exact facets alone, and decides the degenerate facets for it.

The recovery from facets.  A shared face lies on the hyperplane of one unit ``k`` of one layer ``l`` inside one cell of the first ``l``
layers, and the enumeration labels each facet by the first unit whose hyperplane holds it,
so facets that can touch are grouped by (prefix code, unit, exact hyperplane); the two sides
of a group are the two orientations.  Inside a group, a facet on one side and a facet on the
other are adjacent iff their relative interiors meet: in 1-D always, in 2-D iff their
intervals along the line overlap with positive length, in higher dimension iff their
intersection spans D - 1 dimensions.  Rigorous float filters decide almost every pair; the
rest (thin faces, non-finite floats) are decided in exact arithmetic.  Each edge carries
``units``: the units whose pieces differ on the two sides.  :func:`edge_point` gives an exact
point in the relative interior of a shared face, and :meth:`Partition.verify` re-checks the
whole graph independently (every edge real, none missing).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np

from .numbers import to_float_array

if TYPE_CHECKING:  # pragma: no cover
    from .regions import Partition

__all__ = ["adjacency_graph", "recover_adjacency", "edge_point", "hierarchy", "decision_boundary", "BoundaryPiece"]

_U = 2.0 ** -53


def _facet_vertices(rec: Any, j: int) -> np.ndarray:
    return np.flatnonzero(rec.geom.F[:, j])


def adjacency_graph(part: "Partition") -> nx.Graph:
    """The region adjacency graph, from the codes and facet labels the enumeration produced.

    A facet of region ``r`` (code ``c``) labelled by pieces ``(p, q)`` of unit ``u`` lies on
    the hyperplane ``T`` where those two pieces tie, and ``c[u]`` is one of them.  If a region
    ``r'`` has the code ``c'`` that is ``c`` with ``c[u]`` swapped for the other piece, then
    ``closure(r) & T == closure(r') & T``: on ``T`` the two pieces are equal, so every later
    layer computes the same functions under ``c`` and ``c'`` and every constraint of the two
    codes coincides there, except ``u``'s own, which both satisfy with equality.  That face is
    ``r``'s facet, so ``r`` and ``r'`` share it whole: they are adjacent, and ``r'`` is ``r``'s
    only neighbour across it.  This decides almost every facet by a lookup of codes (exactly:
    the codes are exact, and a 64-bit hash only proposes the candidate, which is compared
    entry by entry).  A facet whose swapped code is no region is degenerate (its neighbours'
    codes differ in several units, which tie on the whole face); those facets alone go to
    :func:`recover_adjacency`'s exact grouping and overlap tests.
    """
    R = len(part)
    G = nx.Graph()
    G.add_nodes_from(range(R))
    if R < 2:
        return G
    codes, offsets = _code_matrix(part)
    reg, unit, p, q = _facet_table(part, offsets)
    if len(reg):
        cur = codes[reg, unit]
        swap = np.where(cur == p, q, p).astype(codes.dtype)
        found = _find_swapped(codes, reg, unit, swap)
        ok = found >= 0
        a, b, u = reg[ok], found[ok], unit[ok]
        # each edge is found from both sides: keep one copy, then one tuple of units per unit
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        keep = np.unique(np.stack([lo, hi, u]), axis=1, return_index=True)[1]
        units = {v: ((l, v - int(offsets[l])),) for v in np.unique(u).tolist()
                 for l in [int(np.searchsorted(offsets, v, side="right") - 1)]}
        G.add_edges_from(zip(lo[keep].tolist(), hi[keep].tolist(), ({"units": units[v]} for v in u[keep].tolist())))
        rest = np.flatnonzero(~ok)
        if len(rest):
            layer_r = np.searchsorted(offsets, unit[rest], side="right") - 1
            wanted = defaultdict(set)
            for i, l, k in zip(reg[rest].tolist(), layer_r.tolist(), (unit[rest] - offsets[layer_r]).tolist()):
                wanted[i].add((l, k))
            _recover(part, G, wanted)
    return G


def _find_swapped(codes: np.ndarray, reg: np.ndarray, unit: np.ndarray, swap: np.ndarray) -> np.ndarray:
    """For each facet, the region whose code is ``codes[reg]`` with ``unit`` set to ``swap``
    (-1 if none).  Hashes propose; the codes are then compared in full."""
    R, n = codes.shape
    # a linear hash with fixed pseudo-random odd words per unit, wrapping modulo 2^64
    W = np.random.default_rng(0x5EED).integers(0, 2 ** 62, size=n, dtype=np.int64).astype(np.uint64) * np.uint64(2) + np.uint64(1)
    with np.errstate(over="ignore"):
        h = np.zeros(R, dtype=np.uint64)
        for c0 in range(0, n, 256):
            h += (codes[:, c0:c0 + 256].astype(np.uint64) * W[c0:c0 + 256]).sum(axis=1, dtype=np.uint64)
        hf = h[reg] + W[unit] * swap.astype(np.uint64) - W[unit] * codes[reg, unit].astype(np.uint64)
    order = np.argsort(h, kind="stable")
    hs = h[order]
    pos = np.minimum(np.searchsorted(hs, hf), R - 1)
    cand = np.where(hs[pos] == hf, order[pos], -1)
    # confirm exactly, in chunks: every unit equal, except the swapped one
    out = np.full(len(reg), -1, dtype=np.int64)
    live = np.flatnonzero(cand >= 0)
    step = max(1, (1 << 22) // max(1, n))
    for a in range(0, len(live), step):
        idx = live[a:a + step]
        want = codes[reg[idx]].copy()
        want[np.arange(len(idx)), unit[idx]] = swap[idx]
        same = (codes[cand[idx]] == want).all(axis=1)
        out[idx[same]] = cand[idx[same]]
    return out


def _code_matrix(part: "Partition") -> tuple[np.ndarray, np.ndarray]:
    """The regions' codes as one integer matrix (a column per unit, layers side by side) and
    the first column of each layer."""
    sizes = [m.num_units for m in part.net.masos]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    levels = _level_chain(part)
    if levels is not None:
        anc = np.arange(len(part))
        blocks = []
        for parent_index, rows in reversed(levels):
            blocks.append(np.asarray(rows)[anc])
            anc = np.asarray(parent_index)[anc]
        return np.concatenate(blocks[::-1], axis=1), offsets[:-1]
    codes = [r.code for r in part]
    blocks = [np.array([c[l] for c in codes], dtype=np.int64).reshape(len(codes), n) for l, n in enumerate(sizes)]
    return np.concatenate(blocks, axis=1), offsets[:-1]


def _level_chain(part: "Partition"):
    """The batched 2-D engine's codes as (parent index, rows) per layer, when every region's
    record reads its code from one such chain, in order; else None."""
    from .engine.stores import LevelCodes

    recs = [r._rec for r in part]
    chain = getattr(recs[0], "_codes", None)
    if not isinstance(chain, LevelCodes) or len(chain) != len(recs):
        return None
    if any(getattr(rec, "_codes", None) is not chain or rec._c != i for i, rec in enumerate(recs)):
        return None
    levels, c = [], chain
    while isinstance(c, LevelCodes):
        levels.append((c.parent_index, c.rows))
        c = c.parent
    if len(levels) != len(part.net.masos):
        return None
    return levels[::-1]


def _facet_table(part: "Partition", offsets: np.ndarray) -> tuple[np.ndarray, ...]:
    """Every facet of every region that lies on a unit's hyperplane: (region, unit column,
    piece p, piece q), from the engine's flat stores where it has them."""
    eng = part._engine
    table = getattr(eng, "facet_table", None)
    # (the engine's own records when the partition holds them all: no Region objects made)
    recs = part._recs if len(part._recs) == len(part) else [r._rec for r in part]
    got = table(recs) if table is not None else None
    if got is not None:
        reg, lab = got
        keep = lab >= eng.labels.m
        return (reg[keep], *eng.labels.decode_units(lab[keep]))
    rows = [(r.index, offsets[lab[0]] + lab[1], lab[2], lab[3])
            for r in part for lab in r._rec.geom.labels if lab[0] != "d"]
    if not rows:
        e = np.zeros(0, dtype=np.int64)
        return e, e, e, e
    return tuple(np.array(c, dtype=np.int64) for c in zip(*rows))


def recover_adjacency(part: "Partition") -> nx.Graph:
    """The region adjacency graph recovered from the regions' exact facets alone (every facet
    grouped and tested; see the module docstring): an independent check of
    :func:`adjacency_graph`, and its fallback on degenerate facets."""
    G = nx.Graph()
    G.add_nodes_from(range(len(part)))
    _recover(part, G, None)
    return G


def _recover(part: "Partition", G: nx.Graph, wanted: dict | None) -> None:
    """Add the edges across the facets ``wanted`` (region -> set of units (l, k); None: every
    facet) found by exact grouping and overlap tests."""
    D = part.net.input_dim
    groups: dict[tuple, list[tuple[int, int, int]]] = defaultdict(list)
    exact = part._engine.exact
    regs = part if wanted is None else [part[i] for i in sorted(wanted)]
    for reg in regs:
        for j, lab in enumerate(reg._rec.geom.labels):
            if lab[0] == "d" or (wanted is not None and (lab[0], lab[1]) not in wanted[reg.index]):
                continue
            l, k, r, s = lab
            # one exact hyperplane inside one cell: units of three or more pieces may label the
            # two sides of one face by different piece pairs (max(-x, 0, x) at x = 0)
            row = exact.row_int(reg.code, lab)
            lead = next(v for v in row if v)
            line = row if lead > 0 else tuple(-v for v in row)
            side = (1 if lead > 0 else -1) * (1 if reg.code[l][k] == r else -1)
            groups[(reg.code[:l], reg.code[l][:k], l, k, line)].append((reg.index, j, side))
    for key, items in groups.items():
        lo = [(i, j) for i, j, side in items if side > 0]
        hi = [(i, j) for i, j, side in items if side < 0]
        if not lo or not hi:
            continue
        if D == 1:
            pairs = [(a, b) for a in lo for b in hi]
        elif D == 2:
            pairs = _sweep_2d(part, lo, hi, key[4])
        else:
            pairs = _pairs_nd(part, lo, hi)
        for a, b in pairs:
            G.add_edge(a[0], b[0], units=_units(part[a[0]].code, part[b[0]].code))


def _pairs_nd(part: "Partition", lo_side: list, hi_side: list) -> list:
    """Adjacent pairs among facets on one hyperplane (D >= 3).

    For each pair whose bounding boxes meet, rigorous float tests decide first: the facets
    are *separated* when some other facet row of one region is negative, beyond its error
    bound, at every vertex of the other facet (complete for the polygons of D = 3); they
    *overlap* when the centroid of one facet's vertices is strictly inside the other region's
    rows (its exact counterpart lies in the relative interior of both facets).  Pairs the
    floats cannot decide (thin faces, non-finite floats) are decided exactly: one facet is
    clipped by the other region's rows and the intersection must span D - 1 dimensions.
    """
    def info(item):
        reg = part[item[0]]
        g = reg._rec.geom
        v = _facet_vertices(reg._rec, item[1])
        rows, arows = _float_rows(reg)
        keep = [i for i in range(len(rows)) if i != item[1]]
        X, e = g.X[v], g.e[v]
        row_keys = [_line_key(reg.code, g.labels[i]) for i in keep]
        vertex_keys = [_vertex_key(reg, i) for i in v]
        with np.errstate(invalid="ignore", over="ignore"):
            low, high = X.min(axis=0) - 2 * e.max(), X.max(axis=0) + 2 * e.max()
        return (low, high, X, e, rows[keep], arows[keep], row_keys, vertex_keys, reg, keep, v)

    A = [info(a) for a in lo_side]
    B = [info(b) for b in hi_side]
    out = []
    with np.errstate(all="ignore"):  # non-finite floats decide nothing: the exact test does
        for a, ia in zip(lo_side, A):
            for b, ib in zip(hi_side, B):
                if np.any(ib[1] < ia[0]) or np.any(ia[1] < ib[0]):
                    continue
                if _separated(ia, ib) or _separated(ib, ia):
                    continue
                if _centroid_inside(ib, ia) or _centroid_inside(ia, ib) or _facet_overlap(part, a, b) is not None:
                    out.append((a, b))
    return out


def _float_rows(reg: Any) -> tuple[np.ndarray, np.ndarray]:
    """The region's facet rows as floats (nearest), and their absolute values; cached."""
    hit = reg._cache.get("float_rows")
    if hit is None:
        R = to_float_array(np.array(reg.facet_rows(), dtype=object))
        hit = (R, np.abs(R))
        reg._cache["float_rows"] = hit
    return hit


def _row_bounds(rows, arows, X, e):
    """Float values of the rows at the points, and rigorous bounds on their errors."""
    D = X.shape[1]
    vals = X @ rows[:, :D].T + rows[:, D]
    ax = np.abs(X)
    err = (4 * _U * (ax @ arows[:, :D].T + arows[:, D]) + e[:, None] * arows[:, :D].sum(axis=1)) * 1.01 + 1e-300
    return vals, err


def _separated(own, other) -> bool:
    """True when one of ``own``'s other facet rows is <= 0 at every vertex of ``other``.

    A value is surely negative beyond its float error bound, or exactly zero when the row's
    plane is one of the planes that cut the vertex out (equal keys, one exact plane).
    """
    rows, arows, row_keys = own[4], own[5], own[6]
    vals, err = _row_bounds(rows, arows, other[2], other[3])
    neg = vals < -err  # (vertices, rows)
    for j in np.flatnonzero((neg | (vals <= err)).all(axis=0)):
        if all(neg[n, j] or row_keys[j] in other[7][n] or _exact_sign(own, j, other, n) <= 0 for n in range(len(neg))):
            return True
    return False


def _exact_sign(own, j: int, other, n: int) -> int:
    """Exact sign of ``own``'s j-th other facet row at ``other``'s n-th facet vertex."""
    row = _int_rows_of(own[8])[own[9][j]]
    num, den = _vertex_ints(other[8], int(other[10][n]))
    v = sum(a * t for a, t in zip(row, num)) + row[-1] * den
    return (v > 0) - (v < 0)


def _int_rows_of(reg: Any) -> list[tuple[int, ...]]:
    """The region's oriented facet rows as integer rows (positive multiples), cached."""
    hit = reg._cache.get("int_rows")
    if hit is None:
        ex = reg._part._engine.exact
        hit = []
        for lab in reg._rec.geom.labels:
            r = ex.row_int(reg.code, lab)
            if lab[0] != "d" and reg.code[lab[0]][lab[1]] != lab[2]:
                r = tuple(-v for v in r)
            hit.append(r)
        reg._cache["int_rows"] = hit
    return hit


def _vertex_ints(reg: Any, i: int) -> tuple[list[int], int]:
    """Exact vertex i as integer numerators over one positive denominator, cached."""
    cache = reg._cache.setdefault("vertex_ints", {})
    hit = cache.get(i)
    if hit is None:
        x = reg.vertex(i)
        den = 1
        for t in x:
            den = den * t.denominator // math.gcd(den, t.denominator)
        hit = ([t.numerator * (den // t.denominator) for t in x], den)
        cache[i] = hit
    return hit


def _centroid_inside(facet, region) -> bool:
    """True when the centroid of ``facet``'s vertices is surely inside ``region``'s other rows."""
    X, e = facet[2], facet[3]
    c = X.mean(axis=0)[None, :]
    ce = np.array([e.max() + 4 * _U * np.abs(X).max()])
    vals, err = _row_bounds(region[4], region[5], c, ce)
    return bool((vals > err).all())


def _line_key(code: tuple, label: tuple) -> tuple:
    """Identity of the exact line of a facet label in a region: equal keys, equal lines."""
    return label if label[0] == "d" else (code[: label[0]], label)


def _vertex_key(reg: Any, i: int) -> frozenset:
    g = reg._rec.geom
    return frozenset(_line_key(reg.code, g.labels[j]) for j in np.flatnonzero(g.F[i]))


def _sweep_2d(part: "Partition", lo_side: list, hi_side: list, line: tuple[int, ...]) -> list:
    """Adjacent pairs among collinear facets on the two sides of one line (2-D).

    ``line`` is the exact integer row (a0, a1, c) of the line; positions along it are read
    off the coordinate in which the line's direction (-a1, a0) is largest, decided exactly.
    Facets of one side have disjoint interiors, so after sorting along the line each facet
    meets only a few facets of the other side.  The overlap length is decided by the float
    filter, then by vertex identity (two endpoints cut out by the same two exact lines are
    one point), then exactly; where floats are not finite, every pair is decided exactly.
    """
    j = 0 if abs(line[1]) >= abs(line[0]) else 1

    def intervals(items):
        out = []
        for reg_idx, col in items:
            reg = part[reg_idx]
            g = reg._rec.geom
            v = _facet_vertices(reg._rec, col)
            out.append((reg_idx, col, v, g.X[v], g.e[v]))
        return out

    A, B = intervals(lo_side), intervals(hi_side)
    if not all(np.isfinite(it[3]).all() and np.isfinite(it[4]).all() for it in A + B):
        return [(a, b) for a in lo_side for b in hi_side if _overlap_2d(part, a, b, j) is not None]

    def span(item):
        t = item[3][:, j]
        o = np.argsort(t)
        # (whether the floats prove which end is the low one: each is within its bound)
        sure = bool(t[o[1]] - t[o[0]] > 2 * (item[4][o[0]] + item[4][o[1]]) + 1e-300)
        return t[o[0]], t[o[1]], item[2][o[0]], item[2][o[1]], float(item[4].max()), sure
    SA = [span(it) for it in A]
    SB = [span(it) for it in B]
    order_b = sorted(range(len(B)), key=lambda q: SB[q][0])
    lows_b = [SB[q][0] for q in order_b]
    emax = 2 * max(max(s_[4] for s_ in SA), max(s_[4] for s_ in SB)) + 1e-300
    import bisect
    out = []
    for p_, (a_lo, a_hi, a_vlo, a_vhi, ea, a_sure) in enumerate(SA):
        stop = bisect.bisect_right(lows_b, a_hi + 2 * emax)
        for q in order_b[:stop]:
            b_lo, b_hi, b_vlo, b_vhi, eb, b_sure = SB[q]
            if b_hi < a_lo - 2 * emax:
                continue
            gap = min(a_hi, b_hi) - max(a_lo, b_lo)
            err = 2 * (ea + eb) + 1e-300
            a, b = (A[p_][0], A[p_][1]), (B[q][0], B[q][1])
            if gap > err:
                out.append((a, b))
                continue
            if gap < -err:
                continue
            # the inner endpoints: the larger low end and the smaller high end; where the
            # floats prove each segment's low end, and the two inner ends are one point, the
            # segments touch end to end (a segment whose ends the floats misorder could give
            # its high end as "low" and share it with the other's high end: exactly then)
            lo_pt = (a, a_vlo) if a_lo >= b_lo else (b, b_vlo)
            hi_pt = (a, a_vhi) if a_hi <= b_hi else (b, b_vhi)
            if a_sure and b_sure and _vertex_key(part[lo_pt[0][0]], lo_pt[1]) == _vertex_key(part[hi_pt[0][0]], hi_pt[1]):
                continue  # the same point: they touch, the overlap has length zero
            if _overlap_2d(part, a, b, j) is not None:
                out.append((a, b))
    return out


def _units(c1: tuple, c2: tuple) -> tuple[tuple[int, int], ...]:
    """The units whose boundary holds the face two adjacent regions share: the units whose
    pieces differ on the two sides (by continuity those pieces tie on the whole face)."""
    return tuple(sorted((l, k) for l, (a, b) in enumerate(zip(c1, c2)) for k, (x, y) in enumerate(zip(a, b)) if x != y))


def _overlap_2d(part: "Partition", a: tuple[int, int], b: tuple[int, int], j: int):
    """Exact overlap of two collinear segments, positions read off coordinate ``j`` (in which
    the line's direction is non-zero): the two inner endpoints, or None."""
    ra, rb = part[a[0]], part[b[0]]
    va, vb = _facet_vertices(ra._rec, a[1]), _facet_vertices(rb._rec, b[1])
    Va = sorted((ra.vertex(i) for i in va), key=lambda v: v[j])
    Vb = sorted((rb.vertex(i) for i in vb), key=lambda v: v[j])
    lo_pt = Va[0] if Va[0][j] >= Vb[0][j] else Vb[0]
    hi_pt = Va[1] if Va[1][j] <= Vb[1][j] else Vb[1]
    if hi_pt[j] > lo_pt[j]:
        return lo_pt, hi_pt
    return None


def _facet_overlap(part: "Partition", a: tuple[int, int], b: tuple[int, int]) -> tuple[Fraction, ...] | None:
    """An exact point in the relative interior of both facets ``a`` and ``b`` (on one
    hyperplane), or None when they meet in less than D - 1 dimensions.

    Facet ``a`` (its exact vertices, each with the set of region ``a``'s facets it lies on)
    is clipped by every other facet row of region ``b``, in exact arithmetic; two vertices
    span an edge iff no third vertex lies on every facet the two share.  The intersection's
    vertex centroid is the witness when the vertices span D - 1 dimensions.
    """
    ra, rb = part[a[0]], part[b[0]]
    D = part.net.input_dim
    F = ra._rec.geom.F
    verts = [(tuple(ra.vertex(i)), frozenset(np.flatnonzero(F[i]).tolist())) for i in _facet_vertices(ra._rec, a[1])]
    for t, row in enumerate(rb.facet_rows()):
        if t == b[1]:
            continue
        vals = [sum(c * x for c, x in zip(row[:D], v)) + row[D] for v, _ in verts]
        if all(v >= 0 for v in vals):
            verts = [(v, inc | {("b", t)}) if val == 0 else (v, inc) for (v, inc), val in zip(verts, vals)]
            continue
        nxt = [(v, inc | {("b", t)}) if val == 0 else (v, inc) for (v, inc), val in zip(verts, vals) if val >= 0]
        for p, (u, iu) in enumerate(verts):
            for q, (w, iw) in enumerate(verts):
                if not vals[p] > 0 > vals[q]:
                    continue
                shared = iu & iw
                if any(r not in (p, q) and shared <= verts[r][1] for r in range(len(verts))):
                    continue  # not an edge
                s_ = vals[p] / (vals[p] - vals[q])
                nxt.append((tuple(x + s_ * (y - x) for x, y in zip(u, w)), shared | {("b", t)}))
        verts = nxt
        if len(verts) < D:
            return None
    points = [v for v, _ in verts]
    if len(points) < D or _affine_rank(points) != D - 1:
        return None
    return tuple(sum(c, Fraction(0)) / len(points) for c in zip(*points))


def _shared_facets(part: "Partition", i: int, j: int) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Pairs of facets of regions i and j on one hyperplane, on opposite sides (exact rows)."""
    def keyed(reg):
        out = {}
        for t, row in enumerate(reg.facet_rows()):
            den = math.lcm(*(v.denominator for v in row))
            ints = [int(v * den) for v in row]
            g = math.gcd(*ints)
            ints = [v // g for v in ints]
            lead = next(v for v in ints if v)
            out[tuple(v if lead > 0 else -v for v in ints)] = (t, 1 if lead > 0 else -1)
        return out

    ki, kj = keyed(part[i]), keyed(part[j])
    return [((i, ki[k][0]), (j, kj[k][0])) for k in ki if k in kj and ki[k][1] != kj[k][1]]


def edge_point(part: "Partition", i: int, j: int) -> tuple[Fraction, ...]:
    """An exact point in the relative interior of the face shared by regions ``i`` and ``j``.

    Computed from the two regions' exact facets (not from the graph's attributes); raises
    ValueError when the two regions share no (D-1)-dimensional face.
    """
    D = part.net.input_dim
    for a, b in _shared_facets(part, i, j):
        if D == 1:
            return tuple(part[i].vertex(_facet_vertices(part[i]._rec, a[1])[0]))
        if D == 2:
            row = part[i].facet_rows()[a[1]]
            got = _overlap_2d(part, a, b, 0 if abs(row[1]) >= abs(row[0]) else 1)
            if got is not None:
                lo, hi = got
                return tuple((p + q) / 2 for p, q in zip(lo, hi))
        else:
            got = _facet_overlap(part, a, b)
            if got is not None:
                return got
    raise ValueError(f"regions {i} and {j} do not share a face")


class _CellAttributes(dict):
    """A hierarchy node's attributes; ``polytope``, ``volume`` and ``power_cell`` are computed
    for every node on the first request of any of them (one pass of
    :func:`exactmaso.vq.power_diagrams`), so a hierarchy used for its structure costs nothing
    more."""

    LAZY = ("polytope", "volume", "power_cell")

    def __init__(self, loader: "_CellLoader", *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._loader = loader

    def __missing__(self, key):
        if key in self.LAZY and not self._loader.done:
            self._loader.load()
            return self[key]
        raise KeyError(key)

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default


class _CellLoader:
    def __init__(self, part: "Partition", T: nx.DiGraph) -> None:
        self.part, self.T, self.done = part, T, False

    def load(self) -> None:
        from .polytope import Polytope
        from .vq import power_diagrams

        self.done = True
        part, T = self.part, self.T
        diagrams = power_diagrams(part)
        dom = part.domain if isinstance(part.domain, Polytope) else Polytope(part.domain.A, part.domain.b, check=False)
        root = T.nodes[(0, ())]
        dict.update(root, polytope=dom, volume=sum((c.volume for c in diagrams[(0, ())]), Fraction(0)))
        for (l, prefix), cells in diagrams.items():
            for c in cells:
                dict.update(T.nodes[(l + 1, prefix + (c.code,))], polytope=c.polytope, volume=c.volume,
                            power_cell=(c.centroid, c.radius))


def hierarchy(part: "Partition") -> nx.DiGraph:
    """The layer-by-layer subdivision of a partition (hierarchical vector quantisation).

    Nodes are ``(level, prefix_code)`` with ``prefix_code = code[:level]``; the root is
    ``(0, ())`` (the domain).  The children of a level-``l`` node are the cells of the power
    diagram that layer ``net.masos[l]`` cuts it into (see :func:`exactmaso.vq.power_diagram`);
    the leaves ``(L, code)`` are the regions.  Node attributes:

    - ``level``: the level ``l``;
    - ``children``: the number of children;
    - ``region`` (leaves): the index of the region in the partition;
    - ``volume``: exact volume (Fraction): the sum of the volumes of the regions inside;
    - ``polytope``: the closed cell as an exact :class:`~exactmaso.polytope.Polytope` (the
      domain's rows and, per layer, the rows on which the prefix code wins; not reduced, call
      ``.irredundant()`` for the facets); the root's is the domain;
    - ``power_cell`` (every node but the root): ``(centroid, radius)``, exact, of the power
      cell that created the node, in input coordinates.

    The last three are computed, for all nodes at once, when one of them is first read
    (``T.nodes[n]["volume"]``): the structure alone is cheap, the cells are not.
    """
    T = nx.DiGraph()
    loader = _CellLoader(part, T)
    L = len(part.net.masos)
    T.add_node((0, ()))
    for reg in part:
        for l in range(L):
            child = (l + 1, reg.code[: l + 1])
            if child not in T:
                T.add_node(child)
                T.add_edge((l, reg.code[:l]), child)
    for node in T.nodes:
        T._node[node] = _CellAttributes(loader, level=node[0], children=T.out_degree(node))
    for reg in part:
        T._node[(L, reg.code)]["region"] = reg.index
    return T


@dataclass(frozen=True)
class BoundaryPiece:
    """A piece of the decision boundary inside one region.

    ``row`` is the exact (a, c) with the piece on ``a . x + c = 0``; ``outputs`` the pair of
    outputs that tie there (``(0,)`` for a single output's zero set); ``vertices`` exact.
    """

    region: int
    outputs: tuple[int, ...]
    row: tuple[Fraction, ...]
    vertices: np.ndarray

    def __repr__(self) -> str:
        from ._display import affine_text, shorten

        D = len(self.row) - 1
        plane = shorten(affine_text(self.row[:D], self.row[D]), 60)
        return (f"BoundaryPiece(region={self.region}, outputs={self.outputs}, on {plane} = 0, "
                f"{len(self.vertices)} vertices; exact: .row, .vertices)")


def _affine_rank(points: list[tuple[Fraction, ...]]) -> int:
    import flint

    if len(points) < 2:
        return 0
    p0 = points[0]
    mat = flint.fmpq_mat([[flint.fmpq((v - w).numerator, (v - w).denominator) for v, w in zip(p, p0)] for p in points[1:]])
    return mat.rank()


def decision_boundary(part: "Partition") -> list[BoundaryPiece]:
    """Exact pieces where the arg-max output changes (for one output: where it is zero).

    In each region the outputs are affine; for outputs ``i < j`` the piece is the set of the
    region's points with ``f_i = f_j >= f_k`` for all other ``k``, kept when it is
    (D-1)-dimensional and bounds a region's piece of class ``i`` or ``j`` (an output equal to a
    lower one on the whole region is that one).  A region where the single output vanishes
    identically is reported with all its vertices.  Computed for all regions and outputs at once
    by :func:`exactmaso.boundary.decision_boundary` (floats propose, exact arithmetic decides).
    """
    from .boundary import decision_boundary as batched

    return batched(part)
