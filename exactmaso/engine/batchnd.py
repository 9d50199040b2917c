"""Batched region enumeration for inputs of every dimension but 2 (which :mod:`.batch2d`
serves), units of any number of pieces.

Filtered exact signs, exact fallback, exact combinatorics, organised for throughput like
:mod:`.batch2d`: all cells of a layer
are processed together, one unit at a time, with every polytope ("piece") stored in flat
arrays:

* an append-only vertex store (slots): float coordinates ``X`` with a rigorous error bound ``e``
  (max norm), exact coordinates when known, and the vertex's facet incidence as a bitset
  over global integer labels (domain rows first, then one label per unit of each layer);
* per piece: a range of the vertex-list array (the slots of its vertices, in order) and a
  range of the edge array (pairs of positions in its own vertex list).

Neighbouring pieces share the slots of the vertices on their common faces.  That is exact
because what a cut computes at a vertex is a function of the point alone: the unit's difference
of pieces is a continuous function of the input, so its sign at a vertex, and the point where it
crosses an edge, do not depend on which cell's map evaluates them.  So every cut evaluates each
distinct slot once and makes each new vertex once per distinct crossing edge.  A slot's bitset
must be the same for every piece listing it: where a cut would change it for one
piece only (a vertex on the cut gets the new label; a label stops being a facet), that piece gets
a copy of the slot.  In general position a vertex lies in up to 2^D pieces, so the store holds
far fewer vertices than the pieces list (N8, 5-D: 66,886 slots for 1,028,746 list entries;
the complex has 58,763 vertices).  Most units that do not cut a polytope are decided without
touching its vertices, by the float box of its vertices or of a polytope that holds it: a
layer first tests every (cell, unit) on the cell's L1 ball and box at once, and where a layer
has a single cell (the first one) each piece gets its own box.

Cutting a piece by the hyperplane of unit ``k``: the signs at its vertices are decided by a
float filter with a rigorous error bound, or exactly (:class:`~exactmaso.engine.kernel.Exact`) when
the filter cannot decide.  The crossing edges (ends of strictly opposite signs) give the new
vertices (incidence: the labels common to both ends, plus the new label); the old edges whose
ends lie on one side stay; (side end, new vertex) are new edges; the edges inside the cut face
are found by the combinatorial test among the vertices on the cut (two of them are adjacent iff
they share at least D - 1 labels and no third vertex on the cut holds all the labels they
share).  Labels that stop being facets are dropped (:func:`.cells.prune`); this
can only happen when some vertex lies on the cutting hyperplane, so only those children are
examined.

Units of three or more pieces: see :meth:`EngineND._many_piece_units`.

The results are those of the depth-first per-cell reference engine (tests/percell.py, which
the tests compare against): the same regions in the same order (by code), the same facet
labels (in the same order), the same vertices (in the same order) and incidences.
"""

from __future__ import annotations

import copy
import os
from typing import Iterator, Sequence

import numpy as np

from ..maso import Network
from ..numbers import nearest_float, to_float_array
from .cells import Geom, LazyRecords, RegionRecord, prune, record_ranges
from .driver import balanced_chunks, runs, wait_result, warm_allocator
from .filter import (SAFETY, TINY, U, crossing_points, filtered_values, float_layers, gamma, piece_rows, proved_signs, row_max,
                     row_sum, side_flags)
from .kernel import Exact, domain_vertices
from .stores import LevelCodes, Offset, PolytopeStore, excl, Labels, levels_of, merge_levels, popcount, ranges, true_at, unpack


__all__ = ["supports", "enumerate_nd", "EngineND"]

_EMPTY = np.zeros(0, dtype=np.int64)
CUT_VERTICES = 1 << 18  # vertices of the pieces one call of the cut handles at most
TASKS_PER_WORKER = 8  # tasks per worker process (contiguous runs of first-layer pieces or cells)
SPLIT_PIECES = 32  # pieces per task the first layer is cut into before the workers take over
STREAM_VERTICES = 1 << 16  # stream(): first-layer cells per run, by their summed vertex counts


def _chunks(items: np.ndarray, sizes: np.ndarray, limit: int) -> list[np.ndarray]:
    """``items`` in consecutive runs whose ``sizes`` add up to at most ``limit`` (a run holds
    at least one item)."""
    return [items[a:b] for a, b in runs(sizes, limit)]


def supports(net: Network) -> bool:
    """True when the batched N-D engine is used: any input dimension but 2 (the 2-D engine's),
    units of any number of pieces."""
    return net.input_dim != 2


def _cut_face_edges(QB: np.ndarray, qo: np.ndarray, m: int, D: int, newlab: int | None = None):
    """Edges of the cut faces: pairs (i, j), i < j, of cut-face items (grouped by piece ``qo``,
    in increasing order of pieces).

    Two vertices of a cut face are adjacent iff they share >= D - 1 labels and no third vertex
    of the face holds all the labels they share (the combinatorial test; the face's vertices
    are the only vertices of either child holding the new label).

    The third-vertex search is needed only where a vertex is not simple.  A vertex holding
    exactly D labels lies on exactly D facets (a vertex lies on at least D, and each facet
    has one label); if two such vertices share D - 1 labels, those facets meet in a face F
    that contains both, and at a simple vertex the face of D - 1 of its facets is an edge: F is
    that edge, whose only vertices are its two ends.  In general position every vertex is
    simple, so the search runs only on degenerate pieces.

    Big faces (more than :data:`HASH_PAIRS` pairs per vertex and label left to drop: high
    dimensions) whose vertices are all simple go to :func:`_simple_face_edges` (``newlab``: the
    cut's label), which finds the same pairs by sorting instead of scanning all pairs.
    """
    nq = len(qo)
    if nq < 2:
        return _EMPTY, _EMPTY
    qn = np.bincount(qo, minlength=m)
    # a face's pairs per vertex against the keys sorting makes per vertex
    big = (qn - 1) > 2 * HASH_PAIRS * (D - 1) if newlab is not None else None
    if big is not None and big.any():
        # the big faces whose vertices are all simple by sorting, the others pairwise
        sort = big.copy()
        sort[qo[popcount(QB.reshape(nq, -1)) != D]] = False
        good = sort[qo]
        gi = true_at(good)
        fast = _simple_face_edges(QB.take(gi, axis=0), qo[gi], newlab, D) if len(gi) else None
        if fast is not None:
            bi = true_at(~good)
            I, J = gi[fast[0]], gi[fast[1]]
            if len(bi):
                I2, J2 = _pairwise_face_edges(QB.take(bi, axis=0), qo[bi], m, D)
                I, J = np.concatenate([I, bi[I2]]), np.concatenate([J, bi[J2]])
                order = qo[I].argsort(kind="stable")  # (two runs in piece order: merged)
                I, J = I[order], J[order]
            return I, J
    return _pairwise_face_edges(QB, qo, m, D)


def _pairwise_face_edges(QB: np.ndarray, qo: np.ndarray, m: int, D: int):
    """:func:`_cut_face_edges` by scanning all pairs of each piece's face vertices."""
    nq = len(qo)
    if nq < 2:
        return _EMPTY, _EMPTY
    qn = np.bincount(qo, minlength=m)
    qs = excl(qn)
    after = qs[qo] + qn[qo] - np.arange(nq) - 1
    I = np.arange(nq).repeat(after)
    if not len(I):
        return _EMPTY, _EMPTY
    J = ranges(np.arange(nq) + 1, after)
    # (few pairs share D - 1 labels: they are picked out once, their common labels kept
    # only where a vertex is not simple)
    if QB.shape[1] == 1:
        Q1 = QB[:, 0]
        ok = true_at(np.bitwise_count(Q1[I] & Q1[J]) >= D - 1)
    else:
        ok = true_at(popcount(QB.take(I, axis=0) & QB.take(J, axis=0)) >= D - 1)
    I, J = I[ok], J[ok]
    simple = popcount(QB.reshape(nq, -1)) == D
    sure = simple[I] & simple[J]
    if sure.all():
        return I, J
    I_sure, J_sure = I[sure], J[sure]
    I, J = I[~sure], J[~sure]
    common = QB.take(I, axis=0) & QB.take(J, axis=0)
    g = qo[I]
    gl = qn[g]
    rp = np.repeat(np.arange(len(I)), gl)
    Wq = ranges(qs[g], gl)
    cr = common[rp]
    holds = (QB.take(Wq, axis=0) & cr) == cr
    if holds.ndim > 1:
        holds = holds.all(axis=1)
    holders = np.bincount(rp[holds], minlength=len(I))
    keep = holders == 2
    # the pairs in the order of the all-pairs scan: by first item, then second
    I, J = np.concatenate([I_sure, I[keep]]), np.concatenate([J_sure, J[keep]])
    order = np.lexsort((J, I))
    return I[order], J[order]


BOX_SHARE, BOX_REST = 0.1, 4  # a box test deciding under this share of the pieces rests this many units
HASH_PAIRS = 8  # _cut_face_edges sorts a face instead of scanning when its pairs exceed this many per key
_MIX = np.uint64(0x9E3779B97F4A7C15)


def _simple_face_edges(QB: np.ndarray, qo: np.ndarray, newlab: int, D: int):
    """The edges :func:`_cut_face_edges` finds, for face vertices that are all simple (the
    caller's choice), or None (see below).

    Two simple face vertices are adjacent iff they share D - 1 labels, the cut's and D - 2
    others (see :func:`_cut_face_edges`): iff dropping one of its other labels from each
    leaves the same set.  So the pairs are the items whose keys (piece, labels less one of
    the others) are equal, found by sorting them as the piece (high bits, exactly) and a
    hash of the label set (low bits): the pairs come in piece order.  A run of two equal
    sort keys is checked exactly; a run of three or more (a hash collision, or three
    vertices on one edge, which simple vertices exclude) sends the call back to the pairwise
    scan.
    """
    n, W = QB.shape
    x = QB.copy()
    x[:, newlab // 64] &= ~np.uint64(1 << (newlab % 64))
    keys = np.empty((D - 1, n, W), dtype=np.uint64)
    rows = np.arange(n)
    for j in range(D - 1):  # drop each other label in turn: the lowest one left
        if W == 1:
            xw = x[:, 0]
            low = xw & (~xw + np.uint64(1))
            keys[j, :, 0] = QB[:, 0] ^ low
            xw ^= low
            continue
        w = np.argmax(x != 0, axis=1)
        xw = x[rows, w]
        low = xw & (~xw + np.uint64(1))
        keys[j] = QB
        keys[j, rows, w] ^= low
        x[rows, w] = xw ^ low
    keys = keys.reshape((D - 1) * n, W)
    item = np.tile(rows, D - 1)
    h = keys[:, 0] * _MIX
    for w in range(1, W):
        h ^= keys[:, w]
        h *= _MIX
    pb = np.uint64(max(1, int(qo[-1]).bit_length()))  # bits of the piece numbers (qo is sorted)
    h >>= pb
    h |= qo.astype(np.uint64).take(item) << (np.uint64(64) - pb)
    order = h.argsort()
    h = h[order]
    same = h[1:] == h[:-1]
    if (same[1:] & same[:-1]).any():
        return None
    at = true_at(same)
    a, b = order[at], order[at + 1]
    ok = keys[a, 0] == keys[b, 0]  # (the piece is the same: equal high bits)
    for w in range(1, W):  # (a word at a time: see filter.row_max)
        ok &= keys[a, w] == keys[b, w]
    a, b = item[a[ok]], item[b[ok]]
    return np.minimum(a, b), np.maximum(a, b)


def _boxes(X: np.ndarray, e: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per polytope (its vertices the rows ``starts[i] ..`` of ``X``): the float box of its
    vertices (lo, hi) and the largest error bound of a vertex."""
    return (np.minimum.reduceat(X, starts, axis=0), np.maximum.reduceat(X, starts, axis=0),
            np.maximum.reduceat(e, starts))


def _box_signs(h: np.ndarray, eh: np.ndarray, lo: np.ndarray, hi: np.ndarray, er: np.ndarray) -> np.ndarray:
    """+1 / -1 where the exact affine row whose float is ``h`` (entries within ``eh``) is proved
    positive / negative on a whole polytope, 0 where the box test cannot tell.

    The exact points of a polytope whose float vertices have the box [lo, hi] and errors at most
    ``er`` lie within ``rad`` of the box's float centre ``mid`` in every coordinate (rad covers
    the rounding of mid and of the half-widths), so ``|h*(x) - h*(mid)| <= (|h| + eh) . rad``,
    and ``h*(mid)`` is within ``eh (|mid|_1 + 1)`` plus the dot product's rounding of its float.
    """
    D = lo.shape[1]
    mid = (lo + hi) * 0.5
    amid = np.abs(mid)
    rad = (hi - lo) * (0.5 + 2 * U) + (er[:, None] + 2 * U * amid + TINY)
    hx, ah = h[:, :D], np.abs(h[:, :D])
    val = np.einsum("ij,ij->i", hx, mid) + h[:, D]
    slack = (
        eh * (row_sum(amid) + 1 + row_sum(rad))
        + gamma(D + 2) * (np.einsum("ij,ij->i", ah, amid) + np.abs(h[:, D]))
        + np.einsum("ij,ij->i", ah, rad)
    ) * SAFETY + TINY
    out = np.zeros(len(val), dtype=np.int8)
    out[(val > slack) & (val < np.inf)] = 1
    out[(val < -slack) & (val > -np.inf)] = -1
    return out


def _cell_signs(H, EH, ctr, rho, lo, hi, er) -> np.ndarray:
    """(C, K) signs the ball test proves (:func:`_ball_signs`), and where it cannot tell,
    those the box test proves (:func:`_box_signs`, cell ``c``'s box ``lo[c], hi[c], er[c]``)."""
    s = _ball_signs(H, EH, ctr, rho)
    c, k = np.nonzero(s == 0)
    if len(c):
        s[c, k] = _box_signs(H[c, k], EH[c, k], lo[c], hi[c], er[c])
    return s


def _ball_signs(H: np.ndarray, EH: np.ndarray, ctr: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """(C, K) +1 / -1 where the exact row whose float is ``H[c, k]`` (entries within
    ``EH[c, k]``) is proved positive / negative on the L1 ball of radius ``rho[c]`` around
    ``ctr[c]`` (which holds cell ``c``), 0 where the test cannot tell."""
    D = ctr.shape[1]
    hm = np.einsum("ckd,cd->ck", H[:, :, :D], ctr) + H[:, :, D]
    aH = np.abs(H)
    actr = np.abs(ctr)
    slack = (
        EH * (row_sum(actr)[:, None] + 1)
        + gamma(D + 2) * (np.einsum("ckd,cd->ck", aH[:, :, :D], actr) + aH[:, :, D])
        + (row_max(aH[:, :, :D]) + EH) * rho[:, None]
    ) * SAFETY + TINY
    return proved_signs(hm, slack)


class _Cut:
    """One hyperplane cut: the float rows ``H`` (C, D + 1) of the function whose sign splits
    (per cell, entries within ``EH``), the exact label it makes a facet, the orientation
    (``H`` is ``orient`` times the label's exact row) and the label's integer."""

    __slots__ = ("H", "EH", "label", "orient", "bit")

    def __init__(self, H: np.ndarray, EH: np.ndarray, label: tuple, orient: int, bit: int) -> None:
        self.H, self.EH, self.label, self.orient, self.bit = H, EH, label, orient, bit


class _LayerCut:
    """One layer's cutting under way: the level's codes, the float maps ``G`` (per piece of
    the units: (C, K, D + 1) maps and (C, K) bounds), the pieces, and the ball test (a
    function of float rows and bounds); for two-piece units the cut rows ``H``, ``EH``,
    their ball signs per cell and unit, and the units that may cut some cell."""

    __slots__ = ("l", "codes", "G", "pieces", "ball", "H", "EH", "signs", "units")

    def __init__(self, l: int, codes, G: list, pieces: "_Pieces") -> None:
        self.l, self.codes, self.G, self.pieces = l, codes, G, pieces
        self.ball = self.H = self.EH = self.signs = None
        self.units: list = []


class _Pieces:
    """The pieces (polytopes) of one layer's cutting, in growable flat arrays: their ranges
    in the store (``vs``, ``vn``, ``es``, ``en``), cell, code row of this layer and whether
    they are live, and their float boxes (``lo``, ``hi``, ``er``: built when a unit first
    asks, ``boxed``).  They start as the cells.  With ``cell_boxes`` (a layer of many cells)
    the pieces have no boxes of their own: the layer's cell test has tested every unit on
    the box of each cell, which holds its pieces, and building each piece's box costs more
    than it saves there (N8: 80 ms a run, for a fifth more time in all)."""

    FIELDS = ("vs", "vn", "es", "en")

    def __init__(self, vs, vn, es, en, K: int, D: int, cells=None, cell_boxes: bool = False) -> None:
        C = len(vs)
        cap = max(16, 2 * C)
        self.f = {
            "vs": np.empty(cap, dtype=np.int64), "vn": np.empty(cap, dtype=np.int64),
            "es": np.empty(cap, dtype=np.int64), "en": np.empty(cap, dtype=np.int64),
            "lo": np.empty((cap, D)), "hi": np.empty((cap, D)), "er": np.empty(cap),
            "boxed": np.zeros(cap, dtype=bool), "cell": np.empty(cap, dtype=np.int64),
        }
        for name, v in zip(self.FIELDS, (vs, vn, es, en)):
            self.f[name][:C] = v
        self.f["cell"][:C] = np.arange(C) if cells is None else cells
        self.code = np.zeros((cap, K), dtype=np.int8)
        self.alive = np.zeros(cap, dtype=bool)
        self.alive[:C] = True
        self.n = C
        self.cell_boxes = cell_boxes

    def _grow(self, m: int) -> int:
        n = self.n
        if n + m > len(self.alive):
            cap = max(n + m, 2 * len(self.alive))
            for name in self.f:
                self.f[name] = _grown(self.f[name], n, cap)
            self.code = _grown(self.code, n, cap)
            self.alive = _grown(self.alive, n, cap)
            self.alive[n:] = False
        self.n = n + m
        return n

    def add_pairs(self, parents: np.ndarray, neg: tuple, pos: tuple) -> np.ndarray:
        """Append both children of each parent (negative side first), with the parent's cell
        and code; their indices."""
        m = len(parents)
        n0 = self._grow(2 * m)
        new = slice(n0, n0 + 2 * m)  # (the new rows are contiguous: slices, and rows by take)
        for j, name in enumerate(self.FIELDS):
            self.f[name][n0:n0 + 2 * m:2] = neg[j]
            self.f[name][n0 + 1:n0 + 2 * m:2] = pos[j]
        self.f["boxed"][new] = False
        self.f["cell"][new] = self.f["cell"][parents].repeat(2)
        self.code[new] = self.code.take(parents, axis=0).repeat(2, axis=0)
        return np.arange(n0, n0 + 2 * m)

    def add(self, parents: np.ndarray, child: tuple) -> np.ndarray:
        """Append one child per parent (not live), with the parent's cell and code."""
        m = len(parents)
        n0 = self._grow(m)
        new = slice(n0, n0 + m)
        for j, name in enumerate(self.FIELDS):
            self.f[name][new] = child[j]
        self.f["boxed"][new] = False
        self.f["cell"][new] = self.f["cell"][parents]
        self.code[new] = self.code.take(parents, axis=0)
        return np.arange(n0, n0 + m)

    def copy(self, src: np.ndarray, origin: np.ndarray) -> np.ndarray:
        """Append copies of the pieces ``src`` (not live) with the cell and code of ``origin``."""
        m = len(src)
        n0 = self._grow(m)
        new = slice(n0, n0 + m)
        for name in self.FIELDS + ("lo", "hi", "er", "boxed"):
            self.f[name][new] = self.f[name].take(src, axis=0)
        self.f["cell"][new] = self.f["cell"][origin]
        self.code[new] = self.code.take(origin, axis=0)
        return np.arange(n0, n0 + m)


def _distinct(key: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``np.unique(key, return_index=True, return_inverse=True)``, but ``first`` is the index
    of some occurrence of each value, not the first: an unstable sort is more than twice as
    fast, and the callers' keys name one thing wherever they occur."""
    perm = key.argsort()
    sk = key[perm]
    head = np.empty(len(sk), dtype=bool)
    head[:1] = True
    np.not_equal(sk[1:], sk[:-1], out=head[1:])
    inv = np.empty(len(sk), dtype=np.int64)
    inv[perm] = head.cumsum() - 1
    return sk[head], perm[head], inv


def _grown(a: np.ndarray, n: int, cap: int) -> np.ndarray:
    """A new array of ``cap`` rows like ``a``, its first ``n`` rows copied (the rest unset)."""
    out = np.empty((cap,) + a.shape[1:], dtype=a.dtype)
    out[:n] = a[:n]
    return out


class EngineND:
    def __init__(self, net: Network, A_dom: np.ndarray, b_dom: np.ndarray, monitor=None) -> None:
        warm_allocator()  # (see there: the cuts' temporaries reuse the heap)
        self.net = net
        self.D = net.input_dim
        self.monitor = monitor  # ticked with a lower bound on the number of regions; may raise
        self.lower = 1  # that lower bound (for the cells being worked)
        self.done = 0  # regions of the runs already finished (stream())
        self.exact = Exact(net, A_dom, b_dom)
        self.A_dom, self.b_dom = A_dom, b_dom
        self.labels = Labels(net, A_dom.shape[0])
        self.W = max(1, -(-self.labels.end // 64))
        self.st = PolytopeStore(self.D, self.W)
        # float pieces (K, n + 1) of every layer, and for two pieces the float of their exact
        # difference (None for ReLU: piece 0 is zero and the cut rows are piece 1)
        self.P, self.Pd, self.eta = [], [], []
        for m, fl in zip(net.masos, float_layers(net)):
            dense = (lambda P: P if P is None or isinstance(P, np.ndarray) else P.toarray())
            self.P.append([dense(piece_rows(fl, r)) for r in range(m.num_pieces)])
            self.Pd.append(dense(fl.cut))
            self.eta.append(fl.eta)

    # -- labels ----------------------------------------------------------------------------
    def _bits_labels(self, bits: np.ndarray) -> list[int]:
        return true_at(unpack(bits.reshape(1, -1))[0]).tolist()

    def _tick(self) -> None:
        if self.monitor is not None:
            self.monitor.tick(self.done + self.lower)

    # -- exact fallback -------------------------------------------------------------------
    def _exact_vertex(self, code: tuple, slot: int) -> tuple:
        st = self.st
        hit = st.exact.get(slot)
        if hit is not None:
            return hit
        labs = [self.labels.decode(j) for j in self._bits_labels(st.B[slot])]
        geom = Geom(st.X[slot:slot + 1].copy(), st.e[slot:slot + 1].copy(),
                    np.ones((1, len(labs)), dtype=bool), labs, [None])
        x = self.exact.vertex(code, geom, 0)
        st.set_exact(slot, x)
        st.X[slot] = geom.X[0]
        st.e[slot] = geom.e[0]
        return x

    def _exact_value(self, code: tuple, label: tuple, x: tuple, orient: int):
        """A positive multiple of ``orient`` times the label's exact row at ``x``."""
        row = self.exact.row_int(code, label)
        D = self.D
        return (sum(row[i] * x[i] for i in range(D)) + row[D]) * orient

    # -- the root --------------------------------------------------------------------------
    def _root(self):
        D = self.D
        verts, F = domain_vertices(self.A_dom, self.b_dom)
        n = len(verts)
        X = to_float_array(np.array(verts, dtype=object).reshape(n, D))
        e = U * np.max(np.abs(X), axis=1) + TINY
        labels = [("d", i) for i in range(self.A_dom.shape[0])]
        geom = prune(Geom(X, e, F, labels, list(verts)), D)
        st = self.st
        s = st.reserve(n)
        st.X[s:s + n] = X
        st.e[s:s + n] = e
        st.B[s:s + n] = 0
        for j, lab in enumerate(geom.labels):
            i = lab[1]
            rows = true_at(geom.F[:, j])
            st.B[s + rows, i // 64] |= np.uint64(1 << (i % 64))
        for i, x in enumerate(verts):
            st.set_exact(s + i, tuple(x))
        vs = st.add_lists(np.arange(s, s + n))
        # edges: the combinatorial test among all pairs of vertices
        I, J = _cut_face_edges(st.B[s:s + n], np.zeros(n, dtype=np.int64), 1, D)
        es = st.add_edges(I, J)
        M = np.hstack([np.eye(D), np.zeros((D, 1))])
        return ([()], np.array([vs]), np.array([n]), np.array([es]), np.array([len(I)]), M[None], np.zeros((1, D)))

    # -- maps -----------------------------------------------------------------------------
    def _maps(self, l: int, M: np.ndarray, E: np.ndarray):
        """Float maps (C, K, D + 1) of the pieces and of their difference, with per-row bounds (C, K)."""
        D = self.D
        C, n, _ = M.shape
        K = self.net.masos[l].num_units
        flatM = np.empty((n + 1, C, D + 1))
        flatM[:n] = M.transpose(1, 0, 2)
        flatM[n] = 0.0
        flatM[n, :, D] = 1.0
        flatM = flatM.reshape(n + 1, (D + 1) * C)
        Er = np.zeros((n + 1, C))
        Er[:n] = E.T
        rowmax = row_max(np.abs(flatM).reshape(n + 1, C, D + 1)) + Er
        both = np.concatenate([Er, rowmax], axis=1)
        gam = gamma(n + 3)
        eta = self.eta[l] * rowmax.sum(axis=0)[:, None]  # entries of the pieces below the normal range

        def product(P):
            # P holds the nearest floats of exact rows: |exact - float| <= entry errors of the
            # map times |P| (+ 2 ulps), plus the rounding of the dot products
            G = (P @ flatM).reshape(K, C, D + 1).transpose(1, 0, 2)
            bounds = np.abs(P) @ both
            EG = (bounds[:, :C] * (1 + 2 * U) + gam * bounds[:, C:]).T + eta
            return G, EG

        return product

    # -- one layer ---------------------------------------------------------------------------
    def layer(self, l, codes, vs, vn, es, en, M, E):
        """Cut the cells of level ``l`` (their codes, vertex lists, edges and float maps) by
        layer ``l``: the next level's cells in code order, as the same tuple."""
        m = self.net.masos[l]
        if m.num_pieces == 1:
            C, K = len(codes), m.num_units
            new_codes = LevelCodes(codes, np.arange(C), np.zeros((C, K), dtype=np.int8))
            if self._need_next(l):
                G0, EG0 = self._maps(l, M, E)(self.P[l][0])
                return new_codes, vs, vn, es, en, G0, EG0
            return new_codes, vs, vn, es, en, None, None
        cut = self._begin(l, codes, vs, vn, es, en, M, E)
        if m.num_pieces == 2:
            self._two_piece_units(cut, cut.units)
        else:
            self._many_piece_units(cut)
        return self._finish(cut)

    def _need_next(self, l: int) -> bool:
        return any(mm.num_pieces > 1 for mm in self.net.masos[l + 1:])  # a later cut needs the maps

    def _begin(self, l, codes, vs, vn, es, en, M, E, rows=None, ball=None) -> "_LayerCut":
        """The start of layer ``l``'s cuts: the float maps of the unit's pieces per cell, the
        ball test per cell and unit, the pieces (the cells).  ``rows`` and ``ball`` resume a
        two-piece layer whose earlier units were cut elsewhere: the pieces' code rows so far
        (every piece then lies in cell 0) and that cell's ball signs."""
        K, R = self.net.masos[l].num_units, self.net.masos[l].num_pieces
        product = self._maps(l, M, E)
        if R == 2 and self.Pd[l] is None:  # ReLU: piece 0 is exactly zero
            G1 = product(self.P[l][1])
            G = [(np.zeros_like(G1[0]), np.zeros_like(G1[1])), G1]
        else:
            G = [product(P) for P in self.P[l]]  # per piece: float maps (C, K, D + 1), bounds (C, K)
        C = len(codes)
        pieces = _Pieces(vs, vn, es, en, K, self.D, cells=None if rows is None else 0, cell_boxes=rows is None and C > 1)
        cut = _LayerCut(l, codes, G, pieces)
        if ball is None:
            # the cells' centres and L1 radii, and their boxes: the ball test decides most
            # (cell, unit) pairs, the box test many of the others
            st = self.st
            seg = excl(vn)
            idx = st.V[ranges(vs, vn)]
            Xv, ev = st.X.take(idx, axis=0), st.e[idx]
            ctr = np.add.reduceat(Xv, seg, axis=0) / vn[:, None]
            off = ctr.take(np.arange(C).repeat(vn), axis=0)  # (take: row gathers by fancy indexing are slower)
            np.subtract(Xv, off, out=off)
            rho = np.maximum.reduceat(row_sum(np.abs(off, out=off)) + self.D * ev, seg) * (1 + gamma(2 * self.D + 4))
            lo, hi, er = _boxes(Xv, ev, seg)  # (arrays of their own: the pieces' rows 0 .. C - 1 are the cells)
            f = pieces.f
            f["lo"][:C], f["hi"][:C], f["er"][:C] = lo, hi, er
            f["boxed"][:C] = True
            cut.ball = (lambda H, EH: _cell_signs(H, EH, ctr, rho, lo, hi, er))
        if R == 2:
            cut.H, cut.EH = G[1] if self.Pd[l] is None else product(self.Pd[l])  # ReLU: the cut rows are piece 1
            cut.signs = cut.ball(cut.H, cut.EH) if ball is None else ball
            cut.units = true_at((cut.signs == 0).any(axis=0)).tolist()
            if rows is None:
                cut.pieces.code[:len(codes)] = cut.signs > 0
        if rows is not None:
            cut.pieces.code[:len(rows)] = rows
        return cut

    def _finish(self, cut: "_LayerCut"):
        """The next level's cells, in code order, once every unit of the layer has cut."""
        pieces, K = cut.pieces, cut.pieces.code.shape[1]
        alive = true_at(pieces.alive[:pieces.n])
        cells = pieces.f["cell"][alive]
        pc = pieces.code.take(alive, axis=0)
        order = np.lexsort(tuple(pc[:, j] for j in range(K - 1, -1, -1)) + (cells,))
        alive, cells, pc = alive[order], cells[order], pc[order]
        new_codes = LevelCodes(cut.codes, cells, pc)  # tuples only when asked for
        if self._need_next(cut.l):
            Gs = np.stack([g for g, _ in cut.G])  # (R, C, K, D + 1)
            EGs = np.stack([eg for _, eg in cut.G])
            R_, C_ = Gs.shape[:2]
            flat = (pc.astype(np.int64) * C_ + cells[:, None]) * K + np.arange(K)  # [pc, cell, unit], flat
            Mn = Gs.reshape(R_ * C_ * K, -1).take(flat, axis=0)
            En = EGs.reshape(-1).take(flat)
        else:
            Mn = En = None
        f = pieces.f
        return new_codes, f["vs"][alive], f["vn"][alive], f["es"][alive], f["en"][alive], Mn, En

    def _two_piece_units(self, lc: "_LayerCut", units: list) -> None:
        """Cut the pieces by the given units of a layer of two-piece units, unit by unit (a unit
        whose hyperplane misses a box that holds a piece, its cell's or its own, is decided
        for the whole piece without touching its vertices)."""
        l, codes, pieces = lc.l, lc.codes, lc.pieces
        f = pieces.f
        maybe = lc.signs == 0
        skip = 0  # units left to cut without the box test (it decided too few lately)
        # in the last layer that cuts, a piece's children need edges only while a later unit
        # may cut its cell: the position in lc.units of the last unit that may, per cell
        lastpos = None
        if lc.units and not self._need_next(l):
            M = maybe[:, lc.units]
            lastpos = np.where(M.any(axis=1), M.shape[1] - 1 - np.argmax(M[:, ::-1], axis=1), -1)
            at_unit = {k: j for j, k in enumerate(lc.units)}
        for k in units:
            self._tick()
            cut = _Cut(np.ascontiguousarray(lc.H[:, k]), lc.EH[:, k], (l, k, 0, 1), -1, self.labels.unit(l, k))
            cand_all = true_at(pieces.alive[:pieces.n] & maybe[f["cell"][:pieces.n], k])
            if skip:
                skip -= 1
            elif not pieces.cell_boxes:  # (else lc.signs has the box tests)
                # (in many dimensions a polytope's box is loose and building it costs more than
                # the vertex signs it saves: where it decides few pieces it rests a few units)
                box = self._box(cut, pieces, cand_all)
                pieces.code[cand_all[box > 0], k] = 1
                if (box != 0).sum() < BOX_SHARE * len(cand_all):
                    skip = BOX_REST
                cand_all = cand_all[box == 0]
            # in chunks of at most CUT_VERTICES vertices: the cut's temporaries stay small
            # (the pieces are cut independently; the final sort by code fixes the order)
            for cand in _chunks(cand_all, f["vn"][cand_all], CUT_VERTICES):
                need = None if lastpos is None else lastpos[f["cell"][cand]] > at_unit[k]
                haspos, hasneg, children = self._cut(cut, codes, cand, f, edges=need)
                pieces.code[cand[haspos & ~hasneg], k] = 1
                if children is None:
                    continue
                split_p, neg, pos = children
                new = pieces.add_pairs(split_p, neg, pos)
                pieces.code[new[0::2], k] = 0
                pieces.code[new[1::2], k] = 1
                pieces.alive[new] = True
                pieces.alive[split_p] = False
                self._progress(pieces)

    def _many_piece_units(self, lc: "_LayerCut") -> None:
        """Cut the pieces by every unit of a layer of R >= 3 pieces (max-pooling, max of R
        affine maps), unit by unit: as the per-cell reference engine does, the part of a
        piece where piece ``r`` of the unit is the arg-max is the piece clipped to
        ``g_r >= g_s`` for ``s = 0, 1, ..`` in turn (ties, ``g_r = g_s`` on the whole part: the
        lowest index wins).  Each clip runs on the parts of every cell at once; a clip that a
        ball (per cell) or box (per part) test decides touches no vertex."""
        l, codes, pieces, G, ball = lc.l, lc.codes, lc.pieces, lc.G, lc.ball
        f = pieces.f
        C = len(codes)
        R = len(G)
        K = pieces.code.shape[1]
        # signs of g_lo - g_hi per cell and unit, for every pair lo < hi
        pair = {}
        for lo in range(R):
            for hi in range(lo + 1, R):
                H = G[lo][0] - G[hi][0]
                EH = G[lo][1] + G[hi][1] + U * row_max(np.abs(H)) * (1 + 2 * U)
                pair[lo, hi] = (H, EH, ball(H, EH))
        for k in range(K):
            # a cell where some piece beats every other one everywhere: decided
            decided = np.full(C, -1, dtype=np.int64)
            for r in range(R):
                wins = np.ones(C, dtype=bool)
                for s_ in range(R):
                    if s_ != r:
                        sg = pair[min(r, s_), max(r, s_)][2][:, k]
                        wins &= (sg > 0) if r < s_ else (sg < 0)
                decided[wins & (decided < 0)] = r
            live = true_at(pieces.alive[:pieces.n])
            lcell = f["cell"][live]
            fixed = decided[lcell] >= 0
            pieces.code[live[fixed], k] = decided[lcell[fixed]]
            parents = live[~fixed]
            if not len(parents):
                continue
            self._tick()
            finals = []  # per r: (part, parent) of the parts where piece r is the arg-max
            for r in range(R):
                cur, origin = parents, parents
                for s_ in range(R):
                    if s_ == r or not len(cur):
                        continue
                    lo, hi = min(r, s_), max(r, s_)
                    H, EH, sg = pair[lo, hi]
                    sign = 1 if r == lo else -1  # + means piece r wins
                    cut = _Cut(H[:, k] * sign, EH[:, k], (l, k, lo, hi), sign, self.labels.pair(l, k, lo, hi))
                    cs = sg[f["cell"][cur], k] * sign
                    if not pieces.cell_boxes:  # (else sg has the box tests)
                        cs[cs == 0] = self._box(cut, pieces, cur[cs == 0])
                    keep = cs > 0
                    new_cur, new_origin = [cur[keep]], [origin[keep]]
                    und = true_at(cs == 0)
                    for ch in _chunks(und, f["vn"][cur[und]], CUT_VERTICES):
                        cand = cur[ch]
                        haspos, hasneg, children = self._cut(cut, codes, cand, f, positive_only=True)
                        # unchanged: g_r >= g_s on the part, or a tie (g_r = g_s on the whole
                        # part) that r wins as the lower index
                        same = (haspos & ~hasneg) | (~haspos & ~hasneg & (r < s_))
                        new_cur.append(cand[same])
                        new_origin.append(origin[ch][same])
                        if children is not None:
                            split_p, _, pos = children
                            new_cur.append(pieces.add(split_p, pos))
                            new_origin.append(origin[ch][haspos & hasneg])
                    cur, origin = np.concatenate(new_cur), np.concatenate(new_origin)
                    self._tick()
                finals.append((cur, origin))
            pieces.alive[parents] = False
            for r, (part, origin) in enumerate(finals):
                new = pieces.copy(part, origin)
                pieces.code[new, k] = r
                pieces.alive[new] = True
            self._progress(pieces)

    def _box(self, cut: "_Cut", pieces: "_Pieces", cand: np.ndarray) -> np.ndarray:
        f = pieces.f
        need = cand[~f["boxed"][cand]]
        if len(need):
            st = self.st
            vn = f["vn"][need]
            idx = st.V[ranges(f["vs"][need], vn)]
            f["lo"][need], f["hi"][need], f["er"][need] = _boxes(st.X.take(idx, axis=0), st.e[idx], excl(vn))
            f["boxed"][need] = True
        cc = f["cell"][cand]
        return _box_signs(cut.H.take(cc, axis=0), cut.EH[cc], f["lo"].take(cand, axis=0), f["hi"].take(cand, axis=0), f["er"][cand])

    def _progress(self, pieces: "_Pieces") -> None:
        alive = true_at(pieces.alive[:pieces.n])
        self.lower = max(self.lower, len(alive))
        self._tick()
        self._collect(pieces.f, alive)

    # -- signs and splits -----------------------------------------------------------------
    def _cut(self, cut: "_Cut", codes, cand, p, positive_only: bool = False, edges=None):
        """Cut the pieces ``cand`` by ``cut``'s hyperplane: per piece whether some vertex is
        strictly positive / negative, and for the pieces it crosses the children (negative
        side, positive side; only the positive one with ``positive_only``, a clip).  With
        ``edges`` (bool per piece) only the children of those pieces get edges (the others
        are cut no more)."""
        D = self.D
        st = self.st
        vs = p["vs"][cand]
        vn = p["vn"][cand]
        idx = st.V[ranges(vs, vn)]  # the pieces' vertex slots, piece by piece
        seg = excl(vn)
        owner = np.arange(len(cand)).repeat(vn)
        cells = p["cell"][cand]
        # -- signs, once per distinct slot: H is the unit's difference of pieces, a continuous
        # function of the input, so a vertex has one value whichever cell's map gives it -----
        at = np.empty(st.n, dtype=np.int64)
        at[idx] = np.arange(len(idx))
        u = true_at(at[idx] == np.arange(len(idx)))  # one position per distinct slot
        slots = idx[u]
        at[slots] = np.arange(len(u))  # slot -> its row in the per-slot arrays below
        ucell = cells[owner[u]]
        h = cut.H.take(ucell, axis=0)  # (take: row gathers by fancy indexing are several times slower)
        eh = cut.EH[ucell]
        Xs = st.X.take(slots, axis=0)
        vals, thr = filtered_values(Xs, st.e[slots], h, eh)
        su = proved_signs(vals, thr)
        exact_used = np.zeros(len(u), dtype=bool)
        und = true_at(su == 0)
        if len(und):
            for v in und.tolist():
                self._tick()
                code = codes[int(ucell[v])]
                x = self._exact_vertex(code, int(slots[v]))
                val = self._exact_value(code, cut.label, x, cut.orient)
                su[v] = (val > 0) - (val < 0)
                exact_used[v] = True
            vals = filtered_values(st.X.take(slots, axis=0), st.e[slots], h, eh)[0]
        row = at[idx]  # position -> per-slot row
        s = su[row]
        haspos, hasneg, mixed = side_flags(s, seg)
        if not mixed.any():
            return haspos, hasneg, None
        # -- split the mixed pieces ------------------------------------------------------------
        mp = true_at(mixed)
        m = len(mp)
        pieces = cand[mp]
        mvn = vn[mp]
        mseg = seg[mp]
        gm = ranges(mseg, mvn)  # positions (in idx order) of the vertices of mixed pieces
        om = np.arange(m).repeat(mvn)
        sg = s[gm]
        # edges of the mixed pieces, as positions in idx
        eidx = ranges(p["es"][pieces], p["en"][pieces])
        eo = np.arange(m).repeat(p["en"][pieces])
        off = mseg[eo]
        pu = st.Eu[eidx] + off  # int64, as off is
        pv = st.Ev[eidx] + off
        su_, sv_ = s[pu], s[pv]
        ci = true_at(su_ * sv_ < 0)
        upos = su_[ci] > 0
        A_ = np.where(upos, pu[ci], pv[ci])  # the positive end
        B_ = np.where(upos, pv[ci], pu[ci])  # the negative end
        co = eo[ci]
        # new vertices in the reference engine's order: by (positive end, negative end) per
        # piece, which is by (positive end, negative end) as the pieces' positions are in order
        order = (A_ * len(idx) + B_).argsort()
        A_, B_, co = A_[order], B_[order], co[order]
        nc = len(co)
        # -- the new vertices, once per distinct crossing edge (a pair of slots): pieces that
        # share an edge share the point where the unit's hyperplane crosses it ----------------
        SA, SB = idx[A_], idx[B_]
        key = SA * st.n + SB
        ukey, first, inv = _distinct(key)
        ua, ub = SA[first], SB[first]
        ra, rb = at[ua], at[ub]
        Xn, en_ = crossing_points(vals[ra], vals[rb], thr[ra], thr[rb], st.X.take(ua, axis=0), st.X.take(ub, axis=0), st.e[ua], st.e[ub])
        newlab = cut.bit
        nw, nbit = newlab // 64, np.uint64(1 << (newlab % 64))
        Bn = st.B.take(ua, axis=0) & st.B.take(ub, axis=0)
        Bn[:, nw] |= nbit
        nn = len(ukey)
        ns = st.reserve(nn)
        st.X[ns:ns + nn] = Xn
        st.e[ns:ns + nn] = en_
        st.B[ns:ns + nn] = Bn
        need = true_at(exact_used[ra] | exact_used[rb])
        if len(need):
            for q in need.tolist():
                code = codes[int(cells[mp[co[first[q]]]])]
                xa = self._exact_vertex(code, int(ua[q]))
                xb = self._exact_vertex(code, int(ub[q]))
                va = self._exact_value(code, cut.label, xa, cut.orient)
                vb = self._exact_value(code, cut.label, xb, cut.orient)
                tt = va / (va - vb)
                x = tuple(a + tt * (b - a) for a, b in zip(xa, xb))
                st.set_exact(ns + q, x)
                st.X[ns + q] = [nearest_float(v) for v in x]
                st.e[ns + q] = U * float(np.abs(st.X[ns + q]).max()) + TINY
        slot_new = ns + inv  # per crossing (piece, edge): the new vertex's slot
        # -- vertices on the hyperplane: both children hold them with the new label added, so
        # they get a copy (other pieces holding the slot keep it as it is), once per slot -----
        zmask = sg == 0
        zp = gm[zmask]
        zo = om[zmask]
        pos_slot = idx[gm]  # the slot each kept vertex takes in the children
        if len(zp):
            zs, zinv = np.unique(idx[zp], return_inverse=True)
            nz = len(zs)
            z0 = st.reserve(nz)
            st.X[z0:z0 + nz] = st.X.take(zs, axis=0)
            st.e[z0:z0 + nz] = st.e[zs]
            st.B[z0:z0 + nz] = st.B.take(zs, axis=0)
            st.B[z0:z0 + nz, nw] |= nbit
            st.copy_exact(zs, np.arange(z0, z0 + nz))
            pos_slot[zmask] = z0 + zinv
        # -- the cut face: zero vertices and new vertices; its edges ---------------------------
        QB = np.concatenate([st.B.take(pos_slot[zmask], axis=0), st.B.take(slot_new, axis=0)])
        qo = np.concatenate([zo, co])
        qsrc = np.concatenate([zp, -1 - np.arange(nc)])  # >= 0: position in idx; < 0: new vertex
        qord = qo.argsort(kind="stable")
        QB, qo, qsrc = QB.take(qord, axis=0), qo[qord], qsrc[qord]
        need = None if edges is None else edges[mp]  # per mixed piece: its children get edges
        if need is None:
            QI, QJ = _cut_face_edges(QB, qo, m, D, newlab)
        else:
            qs_ = true_at(need[qo])  # (the face items of those pieces, still in piece order)
            QI, QJ = _cut_face_edges(QB.take(qs_, axis=0), qo[qs_], m, D, newlab)
            QI, QJ = qs_[QI], qs_[QJ]
        q_old = qsrc >= 0
        qeo = qo[QI]
        nnew = np.bincount(co, minlength=m)
        rank_new = np.arange(nc) - excl(nnew)[co]
        lo_e, hi_e = np.minimum(su_, sv_), np.maximum(su_, sv_)  # an edge's end signs, low and high
        off_face = hi_e != lo_e
        off_face |= lo_e != 0  # (an edge with both ends on the cut lies in the cut face)
        nface = np.bincount(qeo, minlength=m)
        face_rank = np.arange(len(QI)) - excl(nface)[qeo]
        out = []
        for side in ((1,) if positive_only else (-1, 1)):
            keepm = sg * side >= 0
            kp = gm[keepm]
            ko = om[keepm]
            nold = np.bincount(ko, minlength=m)
            tot = nold + nnew
            rank_old = np.arange(len(kp)) - excl(nold)[ko]
            local_new = nold[co] + rank_new  # positions in the children's vertex lists
            # the children's vertex lists: kept vertices in the parent's order, then new ones
            lists = np.empty(int(tot.sum()), dtype=np.int64)
            cs = excl(tot)
            lists[cs[ko] + rank_old] = pos_slot[keepm]
            lists[cs[co] + local_new] = slot_new
            v0 = st.add_lists(lists)
            posmap = np.full(len(idx), -1, dtype=np.int64)
            posmap[kp] = rank_old
            # the children's edges, each child's in a run: its old edges with no end on the
            # other side (but those inside the cut face), then its half edges (this side's end,
            # new vertex), then the edges of the cut face
            keep_e = (lo_e >= 0) & off_face if side > 0 else (hi_e <= 0) & off_face
            if need is not None:
                keep_e &= need[eo]
            ew = true_at(keep_e)
            oo = eo[ew]
            ekept = np.bincount(oo, minlength=m)
            nhalf = nnew if need is None else nnew * need
            ecount = ekept + nhalf + nface
            es0 = st.reserve_edges(int(ecount.sum())) + excl(ecount)
            Eu, Ev = st.Eu, st.Ev
            at_e = (es0 - excl(ekept))[oo] + np.arange(len(ew))
            Eu[at_e] = posmap[pu[ew]]
            Ev[at_e] = posmap[pv[ew]]
            half = posmap[A_ if side > 0 else B_]
            if need is None:
                at_e = (es0 + ekept)[co] + rank_new
                Eu[at_e], Ev[at_e] = half, local_new
            else:
                hs = true_at(need[co])
                at_e = (es0 + ekept)[co[hs]] + rank_new[hs]
                Eu[at_e], Ev[at_e] = half[hs], local_new[hs]
            qloc = np.empty(len(qsrc), dtype=np.int64)
            qloc[q_old] = posmap[qsrc[q_old]]
            qloc[~q_old] = local_new[-1 - qsrc[~q_old]]
            at_e = (es0 + ekept + nhalf)[qeo] + face_rank
            Eu[at_e] = qloc[QI]
            Ev[at_e] = qloc[QJ]
            out.append((v0 + cs, tot, es0, ecount))
        # -- labels that stop being facets (only possible where a vertex lies on the cut) ----
        if len(zo):
            for o in np.unique(zo).tolist():
                for cs, tot, *_ in out:
                    self._prune_piece(int(cs[o]), int(tot[o]))
        return haspos, hasneg, (pieces, None if positive_only else out[0], out[-1])

    def _prune_piece(self, s: int, n: int) -> None:
        """Drop the labels that are not facets of the piece whose vertex list is ``V[s:s + n]``
        (its vertices that held one get a copy without it: other pieces may list them)."""
        st = self.st
        D = self.D
        slots = st.V[s:s + n]
        Fb = unpack(st.B[slots])
        cols = true_at(Fb.any(axis=0))
        F = Fb[:, cols]
        g = prune(Geom(None, None, F, list(range(len(cols))), None), D)
        if len(g.labels) == len(cols):
            return
        dropped = np.setdiff1d(np.arange(len(cols)), np.array(g.labels, dtype=np.int64))
        mask = np.zeros(st.B.shape[1], dtype=np.uint64)
        for j in cols[dropped].tolist():
            mask[j // 64] |= np.uint64(1 << (j % 64))
        hit = true_at((st.B[slots] & mask).any(axis=1))
        src = slots[hit]
        c0 = st.reserve(len(hit))
        new = np.arange(c0, c0 + len(hit))
        st.X[new], st.e[new] = st.X[src], st.e[src]
        st.B[new] = st.B[src] & ~mask
        st.copy_exact(src, new)
        st.V[s + hit] = new

    # -- driver ----------------------------------------------------------------------------
    def run(self, executor=None) -> Sequence[RegionRecord]:
        with np.errstate(all="ignore"):  # non-finite floats are undecided, never errors
            state = self._root()
            L = len(self.net.masos)
            if executor is None or L < 2:
                codes, vs, vn = self._layers(state)[:3]
                return self._records(codes, vs, vn)
            return self._parallel(executor, state)

    def _layers(self, state, first: int = 0, stop: int | None = None):
        """Layers ``first`` .. ``stop - 1`` (by default all from ``first`` on) on ``state``.
        After each the store keeps only the live pieces (a split copies a piece's vertices
        into both children; the parent's are garbage), and their edges only while a later
        layer cuts (a layer of units of two or more pieces)."""
        L = len(self.net.masos)
        for l in range(first, L if stop is None else stop):
            self._stage(l)
            state = self.layer(l, *state)
            if self.net.masos[l].num_pieces > 1:  # (an affine layer cuts nothing: no garbage)
                state = self._compact(*state, edges=self._need_next(l))
        return state

    def _parallel(self, executor, state) -> Sequence[RegionRecord]:
        """The enumeration with the executor's workers; results merged in code order.

        A two-piece first layer is cut here only by its first units, until it has about
        :data:`SPLIT_PIECES` pieces per task.  A piece's code on the units cut so far is final,
        and the regions inside it are those whose codes have that prefix; so the pieces sorted
        by code, taken in contiguous groups, give tasks whose regions are contiguous runs of the
        serial order.  Each worker resumes the first layer's cuts on its pieces (the same float
        steps on the same data, hence the same vertices and decisions) and runs the other
        layers.  Other first layers are cut here and their cells handed on in contiguous
        chunks (later layers keep the cells' order).  The tasks, :data:`TASKS_PER_WORKER` per
        worker, are about equal in estimated work and submitted largest first, so a worker
        that finishes early takes the next one."""
        workers = getattr(executor, "_max_workers", None) or os.cpu_count() or 2
        ntasks = TASKS_PER_WORKER * workers
        self._stage(0)
        if self.net.masos[0].num_pieces == 2:
            jobs, work = self._split_first_layer(state, ntasks)
            base, firsts = [()], [0] * len(jobs)  # the tasks' codes start at the root
        else:
            codes, vs, vn, es, en, M, E = self.layer(0, *state)
            work = vn.astype(float) ** 2
            bounds = balanced_chunks(work, ntasks)
            jobs = [("cells", Offset(codes, a, b - a), self._export(vs[a:b], vn[a:b], es[a:b], en[a:b]),
                     None if M is None else np.ascontiguousarray(M[a:b]), None if E is None else np.ascontiguousarray(E[a:b]))
                    for a, b in zip(bounds[:-1], bounds[1:])]
            work = [float(work[a:b].sum()) for a, b in zip(bounds[:-1], bounds[1:])]
            base, firsts = codes, bounds[:-1].tolist()  # they start at the first layer's cells
        futures: list = [None] * len(jobs)
        for i in sorted(range(len(jobs)), key=lambda i: -work[i]):
            futures[i] = executor.submit(_tail_nd, self.net, self.A_dom, self.b_dom, jobs[i])
        if self.monitor is not None:
            self.monitor.stage = f"in {len(futures)} tasks"
        chunks, out_starts, out_lens = [], [], []
        self.st = PolytopeStore(self.D, self.W)  # the first layer's pieces are no longer needed
        found = 0
        for fut, first in zip(futures, firsts):
            levels, sub = wait_result(fut, futures, self.monitor, self.lower)
            chunks.append((first, levels))
            out_starts.append(self._load(sub))
            out_lens.append(sub[5])
            found += len(sub[5])
            self.lower = max(self.lower, found)
        return self._records(merge_levels(base, chunks), np.concatenate(out_starts), np.concatenate(out_lens))

    def _split_first_layer(self, state, ntasks: int) -> tuple[list, list]:
        """Cut the root by the first units of a two-piece first layer until there are about
        :data:`SPLIT_PIECES` pieces per task; the resume jobs of contiguous groups of the
        pieces in code order, and their estimated work."""
        codes, vs, vn, es, en, M, E = state
        lc = self._begin(0, codes, vs, vn, es, en, M, E)
        pieces = lc.pieces
        j = 0
        while j < len(lc.units) and int(pieces.alive[:pieces.n].sum()) < SPLIT_PIECES * ntasks:
            self._two_piece_units(lc, lc.units[j:j + 1])
            j += 1
        rest = lc.units[j:]
        live = true_at(pieces.alive[:pieces.n])
        live = live[np.lexsort(pieces.code[live].T[::-1])]
        # work grows about as (units that may still cut the piece) ^ D
        cutting = np.zeros(len(live))
        for k in rest:
            cut = _Cut(lc.H[:, k], lc.EH[:, k], (0, k, 0, 1), -1, 0)
            cutting += self._box(cut, pieces, live) == 0
        work = (1.0 + cutting) ** self.D
        bounds = balanced_chunks(work, ntasks)
        f = pieces.f
        jobs = []
        for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
            g = live[a:b]
            jobs.append(("resume", pieces.code[g], self._export(f["vs"][g], f["vn"][g], f["es"][g], f["en"][g]),
                         lc.signs, M, E, rest))
        return jobs, [float(work[a:b].sum()) for a, b in zip(bounds[:-1], bounds[1:])]

    def stream(self) -> Iterator[Sequence[RegionRecord]]:
        """The regions in order, in runs: the first layer cuts the whole domain, then the later
        layers run on consecutive runs of its cells (about :data:`STREAM_VERTICES` vertices
        each), each run in a store of its own that lives as long as its records.  Later layers
        keep the cells' order, so the runs, concatenated, are :meth:`run`'s regions; what is
        held at once is the first layer and one run's regions."""
        L = len(self.net.masos)
        with np.errstate(all="ignore"):
            state = self._layers(self._root(), 0, 1)
        codes, vs, vn, es, en, M, E = state
        if L == 1:
            yield self._records(codes, vs, vn)
            return
        for a, b in runs(vn, STREAM_VERTICES):
            sub = copy.copy(self)  # the same network, kernel and filter; a store of its own
            with np.errstate(all="ignore"):
                cells = sub._restore(self._export(vs[a:b], vn[a:b], es[a:b], en[a:b]))
                sub.lower = b - a
                sub.done = self.done + len(vn) - b  # each cell not yet cut holds a region
                run = sub._layers((Offset(codes, a, b - a), cells[0], vn[a:b], cells[1], cells[2],
                                   None if M is None else M[a:b], None if E is None else E[a:b]), 1)
            self.done += len(run[2])
            yield sub._records(run[0], run[1], run[2])

    def _stage(self, l: int) -> None:
        if self.monitor is not None:
            self.monitor.stage = f"layer {l + 1} of {len(self.net.masos)}"

    def _records(self, codes, vs, vn) -> LazyRecords:
        return LazyRecords(codes, self._geom_of, vs, vn)

    def _export(self, vs: np.ndarray, vn: np.ndarray, es: np.ndarray | None = None, en: np.ndarray | None = None):
        """The pieces, compact, for another engine of the same network and domain: the distinct
        vertices they list (X, e, B, exact), the lists as indices into those, the list lengths,
        and (with ``es``, ``en``) their edges."""
        st = self.st
        slots = st.V[ranges(vs, vn)]
        keep = np.zeros(st.n, dtype=bool)
        keep[slots] = True
        used = true_at(keep)  # in slot order: the vertices keep their relative order
        new = np.empty(st.n, dtype=np.int64)
        new[used] = np.arange(len(used))
        out = [st.X.take(used, axis=0), st.e[used], st.B.take(used, axis=0), st.exact_at(used), new[slots], vn]
        if es is not None:
            ei = ranges(es, en)
            out.append((st.Eu[ei], st.Ev[ei], en))
        return tuple(out)

    def _collect(self, p: dict, alive: np.ndarray) -> None:
        """When most of the store is garbage (the vertices, lists and edges of pieces that were
        split), move the live pieces ``alive`` into a new store and renumber their ranges in ``p``."""
        live = int(p["vn"][alive].sum())
        if self.st.nv < 3 * live + 65536:
            return
        vs, es, _ = self._restore(self._export(p["vs"][alive], p["vn"][alive], p["es"][alive], p["en"][alive]),
                                  cap=live)
        p["vs"][alive], p["es"][alive] = vs, es

    def _compact(self, codes, vs, vn, es, en, M, E, *, edges: bool):
        """The state with a new store holding only its pieces (and their edges)."""
        vs, es, en = self._restore(self._export(vs, vn, es, en) if edges else self._export(vs, vn))
        return codes, vs, vn, es, en, M, E

    def _restore(self, pieces: tuple, cap: int = 0):
        """A new store holding the pieces :meth:`_export` gave (with or without their edges);
        their list starts, edge starts and edge counts in it."""
        X = pieces[0]
        self.st = PolytopeStore(self.D, self.W, cap=max(16, cap, len(X)))
        vs = self._load(pieces)
        vn = pieces[5]
        if len(pieces) == 6:
            none = np.zeros(len(vn), dtype=np.int64)
            return vs, none, none
        eu, ev, en = pieces[6]
        e0 = self.st.add_edges(eu, ev)
        return vs, e0 + excl(en), en

    def _load(self, pieces: tuple) -> np.ndarray:
        """Append the vertices and lists of exported pieces; the lists' starts."""
        X, e, B, known, lists, vn = pieces[:6]
        st = self.st
        n = len(X)
        s = st.reserve(n)
        st.X[s:s + n], st.e[s:s + n], st.B[s:s + n] = X, e, B
        st.load_exact(s, known)
        return st.add_lists(lists + s) + excl(vn)

    def facet_table(self, recs: list) -> tuple[np.ndarray, np.ndarray] | None:
        """(region, integer label) of every facet of every region (the union of its vertices'
        facet bits), read off the store; None unless every record is one of this engine's."""
        got = record_ranges(recs, self._geom_of)
        if got is None:
            return None
        starts, lens = got
        st = self.st
        per = np.bitwise_or.reduceat(st.B.take(st.V[ranges(starts, lens)], axis=0), excl(lens), axis=0)
        reg, lab = np.nonzero(unpack(per))
        return reg, lab

    def _geom_of(self, s: int, n: int) -> Geom:
        """The Geom of the polytope whose vertex list is ``V[s:s + n]``."""
        st = self.st
        slots = st.V[s:s + n]
        Fb = unpack(st.B[slots])
        cols = true_at(Fb.any(axis=0))
        labels = [self.labels.decode(int(j)) for j in cols]
        return Geom(st.X[slots], st.e[slots], Fb[:, cols].copy(), labels, [st.exact.get(i) for i in slots.tolist()])


def _tail_nd(net: Network, A_dom, b_dom, job: tuple):
    """Worker: finish the first layer's cuts on some of its pieces (``"resume"``) or take some
    of its cells (``"cells"``), run the other layers; return the levels of the codes below the
    task's base (the root, or the first layer's cells) and the polytopes."""
    with np.errstate(all="ignore"):
        eng = EngineND(net, A_dom, b_dom)
        if job[0] == "resume":
            _, rows, pieces, signs, M, E, units = job
            vs, es, en = eng._restore(pieces)
            lc = eng._begin(0, [()], vs, pieces[5], es, en, M, E, rows=rows, ball=signs)
            eng._two_piece_units(lc, units)
            state = eng._compact(*eng._finish(lc), edges=eng._need_next(0))
        else:
            _, codes, pieces, M, E = job
            vs, es, en = eng._restore(pieces)
            state = (codes, vs, pieces[5], es, en, M, E)
        state = eng._layers(state, 1)
        depth = len(net.masos) - (job[0] == "cells")
        return levels_of(state[0], depth), eng._export(state[1], state[2])


def enumerate_nd(net: Network, A_dom: np.ndarray, b_dom: np.ndarray, monitor=None,
                 executor=None) -> tuple[Sequence[RegionRecord], EngineND]:
    eng = EngineND(net, A_dom, b_dom, monitor)
    return eng.run(executor), eng
