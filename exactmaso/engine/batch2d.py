"""Batched region enumeration for 2-D inputs, units of any number of pieces.

Filtered exact signs, exact fallback, exact combinatorics, organised for throughput: all cells of a layer are processed together, with
every polygon stored in flat arrays (vertices in cyclic order, each with the label of the edge
that leaves it).  A rigorous bounding-ball test first decides, per cell and unit, whether the
unit surely keeps one sign on the cell; the remaining (cell, unit) pairs are processed as a
wavefront -- at step t every piece of every cell is cut by its cell's t-th candidate unit --
so each step is a handful of vectorised numpy operations over all cells at once, and the
cost per region is a few microseconds instead of a few hundred.  Float maps are kept
unit-major, (units, cells, 3), which is what the GEMM of a layer produces.
"""

from __future__ import annotations

import copy
import os
import threading
import uuid
from typing import Any, Iterator, Sequence

import numpy as np

from ..maso import Network
from ..numbers import nearest_float, to_float_array
from .cells import Geom, LazyRecords, RegionRecord, record_ranges
from .driver import balanced_chunks, runs, wait_result, warm_allocator
from .filter import (SAFETY, TINY, U, all_pieces, crossing_points, filtered_values, float_layers, gamma, piece_rows,
                     proved_signs, side_flags)
from .kernel import Exact, domain_vertices
from .stores import PolygonStore, excl, Labels, LevelCodes, levels_of, merge_levels, Offset, ranges


__all__ = ["supports", "enumerate_2d", "Engine2D"]

_G3 = gamma(4)  # rounding of a 2-D dot product plus offset, and of the inputs


def supports(net: Network) -> bool:
    """True when the batched engine applies: 2-D input (units of any number of pieces)."""
    return net.input_dim == 2


def _ball_test(H0, H1, H2, EH, c0, c1, rho):
    """``h(c)`` and a bound on ``|h(x) - h(c)|`` plus all rounding, over the L1 ball ``|x - c| <= rho``.

    ``h = H0 x0 + H1 x1 + H2`` is a float row with entry error ``EH``; where ``|h(c)|`` exceeds
    the bound, the exact function has that sign on the whole ball.  Arrays broadcast.
    """
    a0, a1 = np.abs(H0), np.abs(H1)
    ac0, ac1 = np.abs(c0), np.abs(c1)
    hm = H0 * c0 + H1 * c1 + H2
    slack = (
        EH * (ac0 + ac1 + 1)
        + _G3 * (a0 * ac0 + a1 * ac1 + np.abs(H2))
        + (np.maximum(a0, a1) + EH) * rho
    ) * SAFETY + TINY
    return hm, slack


def _abs_max3(G: np.ndarray) -> np.ndarray:
    """``np.abs(G).max(axis=-1)`` for a last axis of length 3, elementwise (a reduction over
    so short an axis is several times slower)."""
    out = np.maximum(np.abs(G[..., 0]), np.abs(G[..., 1]))
    return np.maximum(out, np.abs(G[..., 2]), out=out)


def _grid_bounds(H0: np.ndarray, H1: np.ndarray, H2: np.ndarray, EG: np.ndarray, ctr: np.ndarray,
                 rho: np.ndarray, out: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``hm - slack``, ``hm + slack`` of :func:`_ball_test`, into ``out``, for the rows
    ``(H0, H1, H2)`` (..., C) (errors ``EG``) over the cells' balls (``ctr`` (C, 2), ``rho``
    (C,)), and the rows' largest |entry|: the same operations in the same order (the same
    floats), in a few buffers instead of a temporary per operation."""
    c0, c1 = ctr[:, 0], ctr[:, 1]
    ac0, ac1 = np.abs(c0), np.abs(c1)
    a0, a1 = np.abs(H0), np.abs(H1)
    s = a0 * ac0
    t = a1 * ac1
    s += t
    np.abs(H2, out=t)
    s += t
    s *= _G3
    np.maximum(a0, a1, out=a0)
    big = np.maximum(a0, t)
    np.multiply(EG, ac0 + ac1 + 1, out=t)
    t += s
    a0 += EG
    a0 *= rho
    t += a0
    t *= SAFETY
    t += TINY  # t: the slack
    np.multiply(H0, c0, out=a1)
    np.multiply(H1, c1, out=s)
    a1 += s
    a1 += H2  # a1: hm
    np.subtract(a1, t, out=out[0])
    np.add(a1, t, out=out[1])
    return out[0], out[1], big


def _pair_signs(store: PolygonStore, starts: np.ndarray, lens: np.ndarray, Gc: np.ndarray, Ec: np.ndarray,
                poss: np.ndarray, known: "np.ndarray | None" = None,
                balls: "tuple[np.ndarray, np.ndarray] | None" = None) -> np.ndarray:
    """``above[i, r, s]``: ``g_r > g_s`` proved on all of piece ``i`` (store range
    ``starts[i], lens[i]``), for the pieces ``Gc[i]`` (R, 3) of one unit on it, each entry
    within ``Ec[i]`` (R,) of the exact one; only pairs of pieces that both may win
    (``poss[i]``) are compared, the others are left False (nothing proved).  ``known``
    (n, R, R), when given, holds signs proved on a polygon that contains the piece (its
    cell): they hold on the piece too, are kept, and their pairs are not compared again.
    With the pieces' ``balls`` (centres (n, 2), L1 radii (n,), see :meth:`Engine2D._balls`)
    a pair is first tried with :func:`_ball_test` over the piece's ball, which holds the
    piece, and only the pairs that it leaves undecided are evaluated at the vertices.

    The rows are the float differences ``g_r - g_s`` (error ``E_r + E_s`` plus the rounding
    of the subtraction, as :meth:`Engine2D._layer_multi` bounds its cut rows), evaluated
    with the bound of :func:`~exactmaso.engine.filter.filtered_values` (D = 2, written out).
    A sign proved at a vertex is the exact sign at the exact vertex, and an affine function
    with a positive sign at every vertex of a convex polygon is positive on all of it;
    nothing non-finite proves anything."""
    n, R = Ec.shape
    a, b = _pairs(R)
    if known is None:
        above = np.zeros((n, R, R), dtype=bool)
        pi, pp = np.nonzero(poss[:, a] & poss[:, b])  # the pairs compared: (piece, pair)
    else:
        above = known.copy()
        pi, pp = np.nonzero(poss[:, a] & poss[:, b] & ~(known[:, a, b] | known[:, b, a]))
    if not len(pi):
        return above
    ra, rb = a[pp], b[pp]
    h = Gc[pi, ra] - Gc[pi, rb]  # (pairs, 3)
    eh = Ec[pi, ra] + Ec[pi, rb] + U * _abs_max3(h)
    if balls is not None:
        ctr, rho = balls
        hm, slack = _ball_test(h[:, 0], h[:, 1], h[:, 2], eh, ctr[pi, 0], ctr[pi, 1], rho[pi])
        up, down = hm > slack, hm < -slack
        above[pi[up], ra[up], rb[up]] = True
        above[pi[down], rb[down], ra[down]] = True
        rest = np.flatnonzero(~(up | down))
        if not len(rest):
            return above
        pi, ra, rb, h, eh = pi[rest], ra[rest], rb[rest], h[rest], eh[rest]
    pl = lens[pi]
    seg = excl(pl)
    idx = ranges(starts[pi], pl)
    X, e = store.X.take(idx, axis=0), store.e[idx]  # (take: row gathers by fancy indexing are slower)
    h0, h1, h2 = (np.repeat(h[:, j], pl) for j in range(3))  # each pair's row at each of its vertices
    eh = np.repeat(eh, pl)
    x0, x1 = X[:, 0], X[:, 1]
    vals = h0 * x0
    vals += h1 * x1
    vals += h2
    a0, a1 = np.abs(h0), np.abs(h1)
    ax0, ax1 = np.abs(x0), np.abs(x1)
    # the bound, term by term in place: (eh (|x0| + |x1| + 1 + 2 e) + e (|h0| + |h1| + 2 eh)
    # + gamma (|x0| |h0| + |x1| |h1| + |h2|)) SAFETY + TINY
    thr = ax0 + ax1
    thr += 1
    thr += 2 * e
    thr *= eh
    t = a0 + a1
    t += 2 * eh
    t *= e
    thr += t
    np.multiply(ax0, a0, out=t)
    ax1 *= a1
    t += ax1
    t += np.abs(h2)
    t *= _G3
    thr += t
    thr *= SAFETY
    thr += TINY
    above[pi, ra, rb] = np.logical_and.reduceat((vals > thr) & (vals < np.inf), seg)
    np.negative(thr, out=thr)
    above[pi, rb, ra] = np.logical_and.reduceat((vals < thr) & (vals > -np.inf), seg)
    return above


_PAIRS: dict = {}


def _pairs(R: int) -> tuple[np.ndarray, np.ndarray]:
    """The pairs ``a < b`` of R pieces (``np.triu_indices(R, 1)``, kept)."""
    hit = _PAIRS.get(R)
    if hit is None:
        hit = _PAIRS[R] = np.triu_indices(R, 1)
    return hit


MAP_BYTES = 1 << 27  # layers 1 .. L-1 run depth first over chunks of first-layer cells whose maps may take this much
MAP_FLOATS = 1 << 21  # a layer's float maps are built for at most this many floats' worth of cells at once
TASKS_PER_WORKER = 2  # with workers: tasks per worker (a worker that finishes early takes the next)
GRID_BLOCK = 1 << 15  # (unit, piece, cell) entries of a multi-piece layer bounded at once
PAIR_CHUNK = 1 << 14  # (cell, unit) pairs whose pieces are compared at the cells' vertices at once
SPLIT_PIECES = 16  # with workers: pieces of the first layer per task before the tasks are handed on
STREAM_VERTICES = 1 << 16  # stream(): first-layer cells per run, by their summed vertex counts


class _PieceMaps:
    """The float maps of the pieces of a layer's units on its cells, as rows of a table:
    piece ``r`` of unit ``k`` on cell ``c`` has the map ``T[i]`` (3,), the error bound
    ``E[i]`` and the largest |entry| ``B[i]``, ``i = index[k, r, c]``.  A max-pooling piece
    reads one unit of the layer before, so its map is that unit's map on the parent cell,
    scaled, or zero: the table holds those few rows and ``index`` (K, R, C) picks them.  With
    ``index`` None the table holds every piece on every cell, ``i = (k R + r) C + c``."""

    def __init__(self, T: np.ndarray, E: np.ndarray, B: np.ndarray, index: "np.ndarray | None",
                 shape: tuple[int, int, int]) -> None:
        self.T, self.E, self.B, self.index, self.shape = T, E, B, index, shape
        # the table's columns, contiguous, for the ball test (see grid)
        self._cols = None if index is None else [np.ascontiguousarray(T[:, j]) for j in range(3)] + [E]

    def at(self, k, r, c):
        """The table rows of pieces ``r`` of units ``k`` on cells ``c`` (arrays broadcast)."""
        _, R, C = self.shape
        flat = (k * R + r) * C + c
        return flat if self.index is None else np.take(self.index.reshape(-1), flat)

    def rows(self, k: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every piece of units ``k`` on cells ``c``: maps (n, R, 3) and error bounds (n, R)."""
        i = self.at(k[:, None], np.arange(self.shape[1]), c[:, None])
        return self.T.take(i, axis=0), self.E.take(i)

    def grid(self, a: int, b: int) -> list[np.ndarray]:
        """The three entries and the error bound of every piece of units ``a .. b - 1`` on
        every cell, (b - a, R, C) each, contiguous (the ball test runs on them)."""
        if self.index is None:
            _, R, C = self.shape
            rows = slice(a * R * C, b * R * C)
            return [np.ascontiguousarray(self.T[rows, j]).reshape(b - a, R, C) for j in range(3)] + [
                self.E[rows].reshape(b - a, R, C)]
        return [np.take(x, self.index[a:b]) for x in self._cols]


class _Selected:
    """The float maps of a chunk of cells of the next level, built on demand: each unit's
    output map is the map of its selected piece on the parent cell, so the chunk keeps only
    the parent cells' piece maps and the children's codes, not ``K x cells x 3`` floats.

    For a ReLU layer ``G`` is piece 1 on the parent cells alone, (K, parents, 3) (``EG``
    its error bounds and ``big`` its largest |entry|, (K, parents)), piece 0 being exactly
    zero; for other layers ``G`` is the :class:`_PieceMaps` of the pieces on the parent
    cells (``EG``, ``big`` None)."""

    def __init__(self, G: "np.ndarray | _PieceMaps", EG: "np.ndarray | None", big: "np.ndarray | None",
                 cells: np.ndarray, pc: np.ndarray, relu: bool) -> None:
        self.G, self.EG, self.big, self.cells, self.pc, self.relu = G, EG, big, cells, pc, relu
        self.n = len(cells)

    def window(self, a: int, b: int) -> "_Selected":
        """The same maps for cells ``a .. b - 1`` only (nothing is copied)."""
        return _Selected(self.G, self.EG, self.big, self.cells[a:b], self.pc[a:b], self.relu)

    def build(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(M, Er, rowmax)`` of cells ``a .. b - 1``, laid out as :meth:`Engine2D._layer` takes them."""
        cells, code = self.cells[a:b], self.pc[a:b].T  # (K, n)
        K, n = code.shape
        M = np.empty((K + 1, n, 3))
        Er = np.zeros((K + 1, n))
        rmx = np.empty((K + 1, n))
        M[K], rmx[K] = (0.0, 0.0, 1.0), 1.0
        if self.relu:
            on = code.astype(bool)
            np.take(self.G, cells, axis=1, out=M[:K], mode="clip")  # valid indices; "clip" needs no buffer
            M[:K] *= on[:, :, None]
            np.multiply(self.EG[:, cells], on, out=Er[:K])
            np.multiply(self.big[:, cells], on, out=rmx[:K])
        else:  # np.take into the output: several times faster than fancy indexing, for the
            # large maps a max-pooling layer hands on
            pm = self.G
            pick = code.astype(np.int64)  # the table rows (unit, cell), in place: (k R + code) C + cell
            pick += (np.arange(K) * pm.shape[1])[:, None]
            pick *= pm.shape[2]
            pick += cells[None, :]
            if pm.index is not None:
                pick = np.take(pm.index.reshape(-1), pick, mode="clip")  # valid indices
            np.take(pm.T, pick, axis=0, out=M[:K], mode="clip")  # valid indices
            np.take(pm.E, pick, out=Er[:K], mode="clip")
            np.take(pm.B, pick, out=rmx[:K], mode="clip")
        rmx[:K] += Er[:K]
        return M, Er, rmx


class _Maps:
    """A level's float maps in chunks of consecutive cells: ``(M, Er, rowmax)`` per chunk, laid
    out as :meth:`Engine2D._layer` takes them (cells on axis 1), or a :class:`_Selected` that
    builds them when they are read."""

    def __init__(self, parts: list) -> None:
        self.parts = parts
        self.ends = np.cumsum([p.n if isinstance(p, _Selected) else p[0].shape[1] for p in parts])

    def slice(self, a: int, b: int) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """The maps of cells ``a .. b - 1`` (views when they lie in one chunk)."""
        i = int(np.searchsorted(self.ends, a, side="right"))
        got = []
        while a < b:
            start = int(self.ends[i - 1]) if i else 0
            stop = min(b, int(self.ends[i]))
            part = self.parts[i]
            if isinstance(part, _Selected):
                got.append(part.build(a - start, stop - start))
            else:
                M, Er, rmx = part
                got.append((M[:, a - start:stop - start], Er[:, a - start:stop - start], rmx[:, a - start:stop - start]))
            a, i = stop, i + 1
        if len(got) == 1:
            M, Er, rmx = got[0]
        else:
            M, Er, rmx = (np.concatenate([g[j] for g in got], axis=1) for j in range(3))
        return M, (Er, rmx)

    def window(self, a: int, b: int) -> "_Maps":
        """The maps of cells ``a .. b - 1`` as chunks of their own, still built on demand
        (views and windows of this object's chunks: nothing is built or copied here)."""
        parts, start = [], 0
        for part, stop in zip(self.parts, self.ends.tolist()):
            lo, hi = max(a, start) - start, min(b, stop) - start
            if lo < hi:
                if isinstance(part, _Selected):
                    parts.append(part.window(lo, hi))
                else:
                    parts.append(tuple(x[:, lo:hi] for x in part))
            start = stop
        return _Maps(parts)


def _wavefront(maybe: np.ndarray) -> Iterator[np.ndarray]:
    """The steps of a layer's cuts over the candidate (cell, unit) pairs ``maybe`` (cells x
    units): at step ``t`` every cell cuts its pieces by its own ``t``-th candidate unit, in
    increasing unit order, so all cells advance together in one batched call per step.
    Yields, per step, each cell's unit (-1 for a cell with fewer candidates)."""
    C = maybe.shape[0]
    mc, mk = np.nonzero(maybe)  # row-major: units in increasing order within each cell
    rank = np.arange(len(mc)) - np.searchsorted(mc, mc)
    by_rank = np.argsort(rank, kind="stable")
    bounds = np.searchsorted(rank[by_rank], np.arange(int(rank.max()) + 2 if len(rank) else 1))
    for t in range(len(bounds) - 1):
        unit_at = np.full(C, -1, dtype=np.int64)
        sel_t = by_rank[bounds[t]:bounds[t + 1]]
        unit_at[mc[sel_t]] = mk[sel_t]
        yield unit_at


class _Pieces:
    """The pieces of a layer's cells while the layer's units cut them, in growing arrays: per
    piece its store range, its cell, its code row so far, whether it is alive (not split),
    and its ball (centre and L1 radius, see :meth:`Engine2D._balls`)."""

    def __init__(self, start, length, cell, code, ctr, rho) -> None:
        n = len(start)
        cap = max(16, 2 * n)
        self.start = np.empty(cap, dtype=np.int64)
        self.len = np.empty(cap, dtype=np.int64)
        self.cell = np.empty(cap, dtype=np.int64)
        self.code = np.empty((cap, code.shape[1]), dtype=np.int8)
        self.alive = np.zeros(cap, dtype=bool)
        self.ctr = np.empty((cap, 2))
        self.rho = np.empty(cap)
        self.n = self.live = 0
        self._put(slice(0, n), start, length, cell, code, ctr, rho)

    def _put(self, sl: slice, start, length, cell, code, ctr, rho) -> None:
        self.start[sl], self.len[sl], self.cell[sl], self.code[sl] = start, length, cell, code
        self.ctr[sl], self.rho[sl], self.alive[sl] = ctr, rho, True
        self.n = sl.stop
        self.live += sl.stop - sl.start

    def split(self, parents: np.ndarray, start, length, code, ctr, rho) -> None:
        """Replace each of ``parents`` by two children (rows ``2 i``, ``2 i + 1`` of the rest)."""
        P, m = self.n, len(start)
        if P + m > len(self.alive):
            cap = max(P + m, 2 * len(self.alive))
            for name in ("start", "len", "cell", "code", "ctr", "rho"):
                old = getattr(self, name)
                setattr(self, name, np.resize(old, (cap,) + old.shape[1:]))
            alive = np.zeros(cap, dtype=bool)
            alive[:P] = self.alive[:P]
            self.alive = alive
        self._put(slice(P, P + m), start, length, np.repeat(self.cell[parents], 2), code, ctr, rho)
        self.alive[parents] = False
        self.live -= len(parents)


class _Cuts:
    """A two-piece layer's cuts in progress (see :meth:`Engine2D._start_cuts`): the layer,
    the cells' codes, the cut rows ``H`` (K, C, 3) with error bounds ``EH``, the pieces'
    float maps for the next layer, the wavefront's remaining steps, the pieces so far and
    the number of steps done."""

    def __init__(self, l: int, codes, H, EH, maps: tuple, steps: Iterator[np.ndarray], pieces: _Pieces) -> None:
        self.l, self.codes, self.H, self.EH, self.maps, self.steps, self.pieces = l, codes, H, EH, maps, steps, pieces
        self.done = 0


def _sign_structure(P: Any, inputs_nonneg: np.ndarray, exact_signs: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per row of float pieces ``P`` ((K R, n + 1), dense or CSR): whether the piece is >= 0
    everywhere (non-negative offset, and positive slopes only on inputs that are >= 0
    everywhere) and whether it is exactly zero.  With underflow (``exact_signs`` False) a float
    entry may be zero where the exact one is not: nothing is claimed."""
    rows = P.shape[0]
    if not exact_signs:
        return np.zeros(rows, dtype=bool), np.zeros(rows, dtype=bool)
    n = P.shape[1] - 1
    if isinstance(P, np.ndarray):
        A, B = P[:, :-1], P[:, -1]
        nonneg = (B >= 0) & ((A == 0) | ((A > 0) & inputs_nonneg)).all(axis=1)
        return nonneg, (P == 0).all(axis=1)
    P = P.tocsr()
    row = np.repeat(np.arange(rows), np.diff(P.indptr))
    col, v = P.indices, P.data
    ok_in = np.concatenate([inputs_nonneg, [True]])  # the offset column needs only v >= 0
    bad = (v < 0) | ((v > 0) & ~ok_in[np.minimum(col, n)])
    nonneg = np.ones(rows, dtype=bool)
    nonneg[row[bad]] = False
    return nonneg, np.diff(P.indptr) == 0


class Engine2D:
    """The batched 2-D enumeration of one network on one convex polygon ``{A x <= b}``.

    ``monitor``, when given (an :class:`~exactmaso.engine.driver.Monitor`), is ticked during the cuts
    with a lower bound on the number of regions and may raise
    :class:`~exactmaso.errors.LimitError`.
    """

    def __init__(self, net: Network, A_dom: np.ndarray, b_dom: np.ndarray, monitor=None) -> None:
        warm_allocator()  # (see there: the cuts' temporaries reuse the heap)
        self.net = net
        self.monitor = monitor  # ticked with a lower bound on the number of regions; may raise
        self.lower = 1  # that lower bound (for the chunk of cells being worked, see _depth_first)
        self.done = 0  # regions of the chunks already finished
        self.exact = Exact(net, A_dom, b_dom)
        self.A_dom, self.b_dom = A_dom, b_dom
        self.labels = Labels(net, A_dom.shape[0])
        self.store = PolygonStore()
        # float pieces: P0, P1 as (K, n + 1); their difference (and bounds) for the cuts
        self.P0, self.P1, self.Pd, self.PR, self.eta = [], [], [], [], []
        self._sparse: dict = {}  # layer -> its float pieces for the products (see _sparse_pieces)
        self.nonneg = []  # per layer (K, R): pieces >= 0 on the whole input space
        out_nonneg = np.zeros(net.input_dim, dtype=bool)  # the inputs: no sign known
        for m, fl in zip(net.masos, float_layers(net)):
            K, R = m.num_units, m.num_pieces
            Pf = all_pieces(fl)  # (K R, n + 1), dense or CSR
            self.PR.append(Pf)
            nonneg, zero_piece = _sign_structure(Pf, out_nonneg, fl.eta == 0)
            self.nonneg.append(nonneg.reshape(K, R))
            # a unit with an exactly zero piece outputs max(0, ...) >= 0
            out_nonneg = (nonneg | zero_piece).reshape(K, R).any(axis=1)
            self.P0.append(piece_rows(fl, 0))
            self.P1.append(piece_rows(fl, R - 1))
            self.Pd.append(fl.cut)
            self.eta.append(fl.eta)

    def _tick(self) -> None:
        if self.monitor is not None:
            self.monitor.tick(self.done + self.lower)

    # -- exact fallback -------------------------------------------------------------------
    def _exact_vertex(self, code: tuple, j: int, prev: int) -> tuple:
        hit = self.store.exact[j]
        if hit is not None:
            return hit
        labs = [self.labels.decode(self.store.lab[prev]), self.labels.decode(self.store.lab[j])]
        geom = Geom(self.store.X[j:j + 1].copy(), self.store.e[j:j + 1].copy(),
                    np.ones((1, 2), dtype=bool), labs, [None])
        x = self.exact.vertex(code, geom, 0)
        self.store.exact[j] = x
        self.store.X[j] = geom.X[0]
        self.store.e[j] = geom.e[0]
        return x

    def _exact_value(self, code: tuple, label: tuple, x: tuple, orient: int):
        row = self.exact.row(code, label)
        return (row[0] * x[0] + row[1] * x[1] + row[2]) * orient

    # -- the root --------------------------------------------------------------------------
    def _root(self):
        verts, F = domain_vertices(self.A_dom, self.b_dom)
        n = len(verts)
        # walk the polygon: consecutive vertices share a facet
        order = [0]
        used = {0}
        while len(order) < n:
            cur = order[-1]
            for j in range(n):
                if j not in used and (F[cur] & F[j]).any():
                    order.append(j)
                    used.add(j)
                    break
        labs = []
        for i, cur in enumerate(order):
            nxt = order[(i + 1) % n]
            labs.append(int(np.flatnonzero(F[cur] & F[nxt])[0]))
        X = to_float_array(np.array([verts[i] for i in order], dtype=object))
        e = U * np.abs(X).max(axis=1) + TINY
        ex = np.empty(n, dtype=object)
        ex[:] = [verts[i] for i in order]
        s = self.store.append(X, e, np.array(labs), ex)
        # the map of the input itself, unit-major (n + 1, C, 3) with the row (0, 0, 1) last;
        # error bounds per row (n + 1, C) and the rows' largest entries plus bounds
        M = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])[:, None, :]
        return [()], np.array([s]), np.array([n]), _Maps([(M, np.zeros((3, 1)), np.ones((3, 1)))])

    # -- one layer ---------------------------------------------------------------------------
    def layer(self, l: int, codes: list, starts: np.ndarray, lens: np.ndarray, maps: "_Maps | None"):
        """Cut all cells of level l by layer l (see :meth:`_layer`), at most ``MAP_FLOATS / 3K``
        cells at a time: the layer's float maps (``K x cells x 3``) and what is built from them
        stay within a fixed size, and the cells are independent, so the chunks' results,
        concatenated, are those of one call.  ``maps`` (None when the layer has one piece) gives
        the cells' float maps, built chunk by chunk as they are read."""
        m = self.net.masos[l]
        K, C = m.num_units, len(codes)
        step = max(1, MAP_FLOATS // (3 * K * max(1, m.num_pieces - 1)))
        levels, out_s, out_n, parts = [], [], [], []
        for a in range(0, C, step):
            b = min(C, a + step)
            sub = self._layer(l, Offset(codes, a, b - a) if a or b < C else codes, starts[a:b], lens[a:b],
                              maps.window(a, b) if maps is not None else None)
            sub_codes, s_, n_, Mn = sub
            levels.append((a, [(sub_codes.parent_index, sub_codes.rows)]))
            out_s.append(s_)
            out_n.append(n_)
            if Mn is not None:
                parts.append(Mn)
        new_codes = merge_levels(codes, levels)
        # the next layer's maps stay in their chunks (concatenated they doubled the peak)
        return new_codes, np.concatenate(out_s), np.concatenate(out_n), (_Maps(parts) if parts else None)

    def _products(self, l: int, maps: "_Maps", pieces: list) -> list:
        """Layer l's float pieces composed with the cells' float maps, ``G = P @ M`` ((rows of
        P), cells, 3), with ``EG`` bounding the error of every entry: ``|P| Er`` (widened for
        its rounding) covers the error of M's entries, ``gamma(n + 3) |P| rowmax`` the rounding
        of the product, ``eta`` the pieces' entries below the normal range.  ``pieces`` are
        ``(P, |P|)`` pairs; one ``(G, EG)`` each.

        The maps are built here and dropped on return (the cuts need only G and EG): layout
        unit-major, ``M`` (n + 1, C, 3) holds row ``i`` of every cell's augmented float map of
        the layer input (the last row is (0, 0, 1)) and ``E = (Er, rowmax)``, per row and cell,
        a bound on the error of the row's entries and the row's largest |entry| plus that
        bound.  This is the layout the GEMM produces, so nothing is transposed."""
        M, (Er, rowmax) = maps.slice(0, int(maps.ends[-1]))
        n, C = M.shape[0] - 1, M.shape[1]
        flatM = M.reshape(n + 1, 3 * C)
        both = np.concatenate([Er, rowmax], axis=1)
        gam = gamma(n + 3)
        eta = self.eta[l] * rowmax.sum(axis=0)
        out = []
        for P, Pa in pieces:
            G = np.asarray(P @ flatM).reshape(-1, C, 3)
            bounds = np.asarray(Pa @ both)
            out.append((G, bounds[:, :C] * (1 + 2 * U) + gam * bounds[:, C:] + eta))
        return out

    def _layer(self, l: int, codes: list, starts: np.ndarray, lens: np.ndarray, maps: "_Maps | None"):
        """Cut all cells of level l by layer l.  Returns the level-(l+1) cells: codes, store
        ranges and (when the next layer cuts) the lazy float maps of their outputs."""
        net = self.net
        m = net.masos[l]
        K, R = m.num_units, m.num_pieces
        C = len(codes)
        if R == 1:
            return LevelCodes(codes, np.arange(C), np.zeros((C, K), dtype=np.int8)), starts, lens, None
        if R > 2:
            return self._layer_multi(l, codes, starts, lens, maps)
        cuts = self._start_cuts(l, codes, starts, lens, maps)
        self._advance(cuts)
        return self._finish(cuts)

    def _start_cuts(self, l: int, codes: list, starts: np.ndarray, lens: np.ndarray, maps: "_Maps") -> "_Cuts":
        """The cuts of a two-piece layer, before their first step: the float maps of the
        pieces and cut rows on every cell, which units may cut which cells (the ball test),
        and the cells as the first pieces."""
        C = len(codes)
        rows = [self.P1[l]] if self.Pd[l] is None else [self.P1[l], self.P0[l], self.Pd[l]]
        prods = self._products(l, maps, [(P, abs(P)) for P in rows])
        G1, EG1 = prods[0]
        if self.Pd[l] is None:
            G0 = EG0 = None
            H, EH = G1, EG1
        else:
            (G0, EG0), (H, EH) = prods[1:]
        # -- which units may cut which cells: a ball around each cell's centre -------------
        ctr, rho = self._balls(starts, lens)
        hm, slack = _ball_test(H[:, :, 0], H[:, :, 1], H[:, :, 2], EH, ctr[:, 0], ctr[:, 1], rho)  # (K, C)
        sure_pos = (hm > slack).T  # (C, K)
        maybe = ~(sure_pos | (hm < -slack).T)
        # -- pieces: start as the cells; cut unit by unit across all of them ------------------
        pieces = _Pieces(starts, lens, np.arange(C), sure_pos.astype(np.int8), ctr, rho)
        return _Cuts(l, codes, H, EH, (G0, EG0, G1, EG1), _wavefront(maybe), pieces)

    def _advance(self, cuts: "_Cuts", until: int | None = None) -> None:
        """Run the wavefront steps of a two-piece layer (see :meth:`_layer`); with ``until``,
        stop after the step at which that many pieces are alive (``cuts.done`` counts the
        steps run, so that another engine can resume the cuts on the pieces)."""
        l, codes, H, EH, pieces = cuts.l, cuts.codes, cuts.H, cuts.EH, cuts.pieces
        for unit_at in cuts.steps:
            cuts.done += 1
            self._tick()
            P = pieces.n
            cand = np.flatnonzero(pieces.alive[:P] & (unit_at[pieces.cell[:P]] >= 0))
            if len(cand):
                kc = unit_at[pieces.cell[cand]]
                # the same ball test per piece: pieces far from the line need no vertex work
                hc, cc = H[kc, pieces.cell[cand]], EH[kc, pieces.cell[cand]]
                hm_p, slack_p = _ball_test(hc[:, 0], hc[:, 1], hc[:, 2], cc, pieces.ctr[cand, 0], pieces.ctr[cand, 1],
                                           pieces.rho[cand])
                surely = hm_p > slack_p
                pieces.code[cand[surely], kc[surely]] = 1
                near = ~(surely | (hm_p < -slack_p))
                cand, kc = cand[near], kc[near]
            if len(cand):
                lab = np.zeros((len(cand), 4), dtype=np.int64)
                lab[:, 0], lab[:, 1], lab[:, 3] = l, kc, 1
                haspos, hasneg, children = self._cut(codes, cand, pieces.start, pieces.len, pieces.cell,
                                                     H[kc, pieces.cell[cand]], EH[kc, pieces.cell[cand]], lab,
                                                     np.full(len(cand), -1), self.labels.unit(l, 0) + kc)
                up = haspos & ~hasneg
                pieces.code[cand[up], kc[up]] = 1
                if children is not None:
                    mp, pos_s, pos_n, neg_s, neg_n = children
                    split_p, ks = cand[mp], kc[mp]
                    # negative child keeps code 0 at its unit, positive child gets 1: (neg, pos) per split
                    newcodes = pieces.code.take(split_p, axis=0).repeat(2, axis=0)
                    pair = np.arange(len(split_p))
                    newcodes[2 * pair, ks] = 0
                    newcodes[2 * pair + 1, ks] = 1
                    s_new = np.column_stack([neg_s, pos_s]).ravel()
                    n_new = np.column_stack([neg_n, pos_n]).ravel()
                    pieces.split(split_p, s_new, n_new, newcodes, *self._balls(s_new, n_new))
                    self.lower = max(self.lower, pieces.live)
                    self._tick()
            if until is not None and pieces.live >= until:
                return

    def _finish(self, cuts: "_Cuts"):
        """The level-(l+1) cells once every step of :meth:`_advance` is done: the live pieces,
        the children of each cell in code (lexicographic) order, cells in their order."""
        l, net, pieces = cuts.l, self.net, cuts.pieces
        K = net.masos[l].num_units
        alive = np.flatnonzero(pieces.alive[:pieces.n])
        cells, pc = pieces.cell[alive], pieces.code.take(alive, axis=0)
        order = np.lexsort(tuple(pc[:, j] for j in range(K - 1, -1, -1)) + (cells,))
        alive, cells, pc = alive[order], cells[order], pc[order]
        new_codes = LevelCodes(cuts.codes, cells, pc)
        out_maps = None  # the next layer is the affine read-out: no cut needs its maps
        if l + 1 < len(net.masos) and net.masos[l + 1].num_pieces > 1:
            G0, EG0, G1, EG1 = cuts.maps
            if G0 is None:  # ReLU: piece 0 is exactly zero
                out_maps = _Selected(G1, EG1, _abs_max3(G1), cells, pc, relu=True)
            else:
                G = np.stack([G0, G1], axis=1)  # (K, 2, C, 3)
                pm = _PieceMaps(G.reshape(-1, 3), np.stack([EG0, EG1], axis=1).reshape(-1), _abs_max3(G).reshape(-1),
                                None, G.shape[:3])
                out_maps = _Selected(pm, None, None, cells, pc, relu=False)
        return new_codes, pieces.start[alive], pieces.len[alive], out_maps

    def _layer_multi(self, l: int, codes: list, starts: np.ndarray, lens: np.ndarray, maps: "_Maps"):
        """Cut all cells of level l by a layer of units of R >= 3 pieces (max-pooling, maxout).

        For each candidate unit, as the per-cell reference engine (tests/percell.py) does, a piece is replaced by its parts
        where piece ``r`` is the arg-max (ties to the lowest index): one copy of the piece per
        piece ``r`` that may win on it, clipped by ``g_r >= g_s`` (``g_r > g_s`` for
        ``s < r``) for every ``s`` that may beat it, in increasing ``s``; a copy that keeps
        no full-dimensional part is dropped.  Pieces that surely lose on the whole cell (below
        another piece, by the ball test) are never copied nor clipped against: where ``r``
        wins it is above them.

        Before the copies are made, every pair of the unit's pieces is compared on the piece
        with the float filter (:func:`_pair_signs`: over the piece's ball, else at its
        vertices; a pair proved on the cell is not compared again on its pieces).  A sign
        proved over a ball that holds the piece holds on all of it; a proved sign at every
        vertex is the exact sign there, and an affine function positive at every vertex of a
        convex polygon is positive on all of it, so:

        * a piece ``r`` proved below some ``s`` on the whole piece wins nowhere: no copy (the
          clip by ``s`` would have dropped it, whatever the clips before it did);
        * a clip of copy ``r`` by an ``s`` proved below ``r`` on the whole piece (hence on
          the copy, a part of it) keeps the copy as it is: it is not run;
        * when one piece alone is not proved below another, it is the unique arg-max at every
          point of the piece (the arg-max at a point is never a piece proved below another),
          so every clip of its copy keeps it whole and the others are dropped: the piece
          takes that code as it is, with no clip.

        Each of these skips a clip whose exact outcome is known, so the regions, their
        vertex lists and labels are those of running every clip.  The clips left are done in
        rounds, each copy clipped by its next beater (increasing ``s``, as above) in one
        batched :meth:`_cut` (positive side only) per round, at most ``R - 1`` rounds per step.

        The pieces' float maps on the cells are a :class:`_PieceMaps` (for max-pooling a small
        table and an index, :meth:`_pool_products`), and which pieces may win on which cells
        comes from their bounds over the cells' balls (:meth:`_piece_bounds`).
        """
        net = self.net
        m = net.masos[l]
        K, R = m.num_units, m.num_pieces
        C = len(codes)
        st = self.store
        pm = self._pool_products(l, maps)
        if pm is None:
            [(G, EG)] = self._products(l, maps, [self._sparse_pieces(l)])
            G = G.reshape(-1, 3)
            pm = _PieceMaps(G, EG.reshape(-1), _abs_max3(G), None, (K, R, C))
        ctr, rho = self._balls(starts, lens)
        lo_b, hi_b, zero, positive, possible = self._piece_bounds(l, pm, ctr, rho)  # (K, R, C)
        nonneg = self.nonneg[l][:, :, None]  # (K, R, 1)
        only = possible.sum(axis=1) == 1  # (K, C): one piece wins on the whole cell
        base = np.argmax(possible, axis=1).T.astype(np.int8)  # (C, K): that piece, where only
        # the cells decide most of the rest: the pieces that may win on the cell (not proved
        # below another over its ball or at every vertex), one of them alone: the unit's code
        winners = possible.copy()
        mk, mc = np.nonzero(~only)
        cell_above = np.empty((len(mk), R, R), dtype=bool)  # the signs on the cells, for their pieces
        for a in range(0, len(mk), PAIR_CHUNK):
            k_, c_ = mk[a:a + PAIR_CHUNK], mc[a:a + PAIR_CHUNK]
            pk = possible[k_, :, c_]
            cell_above[a:a + PAIR_CHUNK] = _pair_signs(st, starts[c_], lens[c_], *pm.rows(k_, c_), pk,
                                                       balls=(ctr[c_], rho[c_]))
            w = pk & ~cell_above[a:a + PAIR_CHUNK].any(axis=1)
            winners[k_, :, c_] = w
            one = w.sum(axis=1) == 1
            only[k_[one], c_[one]] = True
            base[c_[one], k_[one]] = np.argmax(w[one], axis=1)
        cell_key = mk * C + mc  # increasing
        ar_R = np.arange(R)
        sel = self._selections(l)
        # the live pieces; every piece ever made has an id, its parent's id, unit and winner
        lv_id, lv_cell = np.arange(C), np.arange(C)
        lv_start, lv_len, lv_ctr, lv_rho = starts.copy(), lens.copy(), ctr, rho
        h_parent, h_unit, h_win = [np.full(C, -1)], [np.zeros(C, dtype=np.int64)], [np.zeros(C, dtype=np.int8)]
        made = C
        for unit_at in _wavefront(~only.T):
            self._tick()
            at = unit_at[lv_cell]
            is_c = at >= 0
            cand = np.flatnonzero(is_c)
            if not len(cand):
                continue
            kc, cc = at[cand], lv_cell[cand]
            poss = possible[kc, :, cc]  # (pieces, R)
            known = cell_above[np.searchsorted(cell_key, kc * C + cc)]
            above = _pair_signs(st, lv_start[cand], lv_len[cand], *pm.rows(kc, cc), poss, known,
                                (lv_ctr[cand], lv_rho[cand]))
            win = winners[kc, :, cc] & ~above.any(axis=1)  # not proved below another piece on the piece
            ci, cr = np.nonzero(win)  # the copies: (piece, r), r increasing per piece
            ck, ccell = kc[ci], cc[ci]
            c_start, c_len = lv_start[cand[ci]], lv_len[cand[ci]]
            c_ctr, c_rho = lv_ctr[cand[ci]], lv_rho[cand[ci]]
            c_alive = np.ones(len(ci), dtype=bool)
            # the beaters s of each copy r: s may win, may beat r (the cell's balls, the
            # piece's vertices), and no structural rule decides g_r >= 0 = g_s on the cell
            # (for s < r, g_r > 0 but on a line, as g_r is surely not zero)
            beat = poss[ci] & ~above[ci, cr, :] & (ar_R != cr[:, None])
            beat &= ~(lo_b[ck, cr, ccell][:, None] > hi_b[ck, :, ccell])
            beat &= ~(zero[ck, :, ccell] & nonneg[ck, cr, 0][:, None]
                      & ((ar_R > cr[:, None]) | positive[ck, cr, ccell][:, None]))
            beat[(win.sum(axis=1) == 1)[ci]] = False  # the unique arg-max on its piece
            while True:
                has = beat & c_alive[:, None]
                q = np.flatnonzero(has.any(axis=1))
                if not len(q):
                    break
                s_q = np.argmax(has[q], axis=1)  # each copy's next beater, in increasing order
                beat[q, s_q] = False
                r_q, k_q, cell_q = cr[q], ck[q], ccell[q]
                i_r, i_s = pm.at(k_q, r_q, cell_q), pm.at(k_q, s_q, cell_q)
                g_r, g_s, e_r, e_s = pm.T.take(i_r, axis=0), pm.T.take(i_s, axis=0), pm.E[i_r], pm.E[i_s]
                # pieces equal exactly (equal floats, zero error bounds): a tie on the whole copy
                same = (e_r == 0) & (e_s == 0) & (g_r == g_s).all(axis=1)
                if same.any():
                    c_alive[q[same & (s_q < r_q)]] = False
                    keep_q = ~same
                    q, r_q, s_q, k_q, g_r, g_s, e_r, e_s = (v[keep_q] for v in (q, r_q, s_q, k_q, g_r, g_s, e_r, e_s))
                    if not len(q):
                        continue
                h = g_r - g_s
                eh = e_r + e_s + U * _abs_max3(h)
                hm_q, sl_q = _ball_test(h[:, 0], h[:, 1], h[:, 2], eh, c_ctr[q, 0], c_ctr[q, 1], c_rho[q])
                c_alive[q[hm_q < -sl_q]] = False  # surely below s on the whole copy
                near = ~((hm_q > sl_q) | (hm_q < -sl_q))
                if not near.all():
                    q, h, eh, r_q, s_q, k_q = q[near], h[near], eh[near], r_q[near], s_q[near], k_q[near]
                    if not len(q):
                        continue
                lo_, hi_ = np.minimum(r_q, s_q), np.maximum(r_q, s_q)
                lab = np.column_stack([np.full(len(q), l), k_q, lo_, hi_])
                orient = np.where(r_q == lo_, 1, -1)  # h = g_r - g_s = orient (g_lo - g_hi)
                zs = None if sel is None else np.column_stack([sel[k_q, r_q], sel[k_q, s_q]])
                haspos, hasneg, children = self._cut(codes, q, c_start, c_len, ccell, h, eh, lab, orient,
                                                     self.labels.pair(l, k_q, lo_, hi_), zs, positive_only=True)
                tie = ~haspos & ~hasneg  # g_r == g_s on the whole copy: the lower index wins
                c_alive[q[(~haspos & hasneg) | (tie & (s_q < r_q))]] = False
                if children is not None:
                    mp, pos_s, pos_n = children
                    c_start[q[mp]], c_len[q[mp]] = pos_s, pos_n
                    c_ctr[q[mp]], c_rho[q[mp]] = self._balls(pos_s, pos_n)
                self._tick()
            keep = np.flatnonzero(c_alive)
            h_parent.append(lv_id[cand[ci[keep]]])
            h_unit.append(ck[keep])
            h_win.append(cr[keep].astype(np.int8))
            rest = np.flatnonzero(~is_c)
            lv_id = np.concatenate([lv_id[rest], np.arange(made, made + len(keep))])
            made += len(keep)
            lv_cell = np.concatenate([lv_cell[rest], ccell[keep]])
            lv_start = np.concatenate([lv_start[rest], c_start[keep]])
            lv_len = np.concatenate([lv_len[rest], c_len[keep]])
            lv_ctr = np.concatenate([lv_ctr[rest], c_ctr[keep]])
            lv_rho = np.concatenate([lv_rho[rest], c_rho[keep]])
            self.lower = max(self.lower, len(lv_id))
        # codes: the cells' sure pieces, then each piece's winners up its chain of parents
        parent, unit, winner = (np.concatenate(v) for v in (h_parent, h_unit, h_win))
        cells = lv_cell
        pc = np.where(only.T, base, 0).astype(np.int8)[cells]
        cur, rows = lv_id.copy(), np.arange(len(cells))
        while True:
            sel = np.flatnonzero(cur >= C)
            if not len(sel):
                break
            pc[rows[sel], unit[cur[sel]]] = winner[cur[sel]]
            cur[sel] = parent[cur[sel]]
        order = np.lexsort(tuple(pc[:, j] for j in range(K - 1, -1, -1)) + (cells,))
        cells, pc = cells[order], pc[order]
        new_codes = LevelCodes(codes, cells, pc)
        out_maps = None
        if l + 1 < len(net.masos) and net.masos[l + 1].num_pieces > 1:
            out_maps = _Selected(pm, None, None, cells, pc, relu=False)
            if K * R * C > (K + 1) * len(cells):  # the children's maps are the smaller: build them
                out_maps = out_maps.build(0, out_maps.n)
        return new_codes, lv_start[order], lv_len[order], out_maps

    def _piece_bounds(self, l: int, pm: "_PieceMaps", ctr: np.ndarray, rho: np.ndarray):
        """For every unit, piece and cell of a multi-piece layer l (``pm``), (K, R, C) each: the
        piece's bounds over the cell's ball (:func:`_grid_bounds`), whether it is exactly
        zero, whether it is surely positive but on a line, and whether it may win somewhere on
        the cell (see :meth:`_layer_multi`).  Computed :data:`GRID_BLOCK` entries at a time,
        so that the temporaries stay in cache."""
        K, R, C = pm.shape
        lo, hi = np.empty((K, R, C)), np.empty((K, R, C))
        zero, positive, possible = (np.empty((K, R, C), dtype=bool) for _ in range(3))
        nonneg = self.nonneg[l][:, :, None]  # (K, R, 1)
        step = max(1, GRID_BLOCK // (R * C))
        for a in range(0, K, step):
            b = min(K, a + step)
            H0, H1, H2, EG = pm.grid(a, b)
            lo_, hi_, big = _grid_bounds(H0, H1, H2, EG, ctr, rho, out=(lo[a:b], hi[a:b]))
            # r may win somewhere on the cell unless it is surely below some piece (NaN: may win)
            may = np.less(hi_, lo_.max(axis=1, keepdims=True), out=possible[a:b])
            np.logical_not(may, out=may)
            # a piece that is exactly zero (a float row of zeros with a zero error bound: e.g.
            # the output of a ReLU that is off on the cell) loses every tie to a lower zero piece
            z = np.equal(EG, 0, out=zero[a:b])
            z &= big == 0
            seen = z[:, 0].copy()  # a zero piece before r
            for r in range(1, R):
                may[:, r] &= ~(z[:, r] & seen)
                seen |= z[:, r]
            # a piece that is >= 0 everywhere (max-pooling of ReLU outputs) and surely not zero
            # on the cell is > 0 on all of it but a line: a zero piece wins nowhere full-dimensional
            pos = np.greater(big, EG, out=positive[a:b])
            pos &= nonneg[a:b]
            may &= ~(z & pos.any(axis=1, keepdims=True))
        return lo, hi, zero, positive, possible

    def _pool_products(self, l: int, maps: "_Maps") -> "_PieceMaps | None":
        """The :class:`_PieceMaps` of a layer whose every piece reads one input with one weight
        and no offset (max-pooling), from the maps of a ReLU layer before it (chunks of
        :class:`_Selected`), without building those maps: each piece's map is its weight
        times the selected unit's map on the parent cell where that unit is on, zero where
        it is off, so the table holds each piece on each parent cell, then one zero row.  The
        same floats as the product of the selection rows with the built maps (one product per
        entry, once rounded, and no sum), and the same bounds (the terms of :meth:`_products`
        with one entry per row; no entry below the normal range).  None where this does not
        apply: :meth:`_products` then runs."""
        cache = self.__dict__.setdefault("_pool_picks", {})
        if l not in cache:
            from scipy.sparse import csr_matrix

            P = csr_matrix(self.PR[l])
            P.eliminate_zeros()
            n = P.shape[1] - 1
            ok = self.eta[l] == 0 and bool((np.diff(P.indptr) == 1).all()) and bool((P.indices < n).all())
            cache[l] = (P.indices.astype(np.int64), P.data.astype(np.float64)) if ok else None
        pick = cache[l]
        parts = maps.parts
        if pick is None or not all(isinstance(p, _Selected) and p.relu for p in parts):
            return None
        for part in parts:
            if not (np.isfinite(part.big).all() and np.isfinite(part.EG).all() and part.big.max(initial=0.0) < 1e300
                    and part.EG.max(initial=0.0) < 1e300):
                return None  # rowmax sums that might overflow: let _products handle them
        idx, coef = pick
        KR = len(idx)
        gam = gamma(parts[0].G.shape[0] + 3)
        acoef = np.abs(coef)[:, None]
        Ts, Es, rows, offset = [], [], [], 0
        for part in parts:
            P = part.G.shape[1]
            T = part.G[idx] * coef[:, None, None]  # (K R, P, 3): the pieces on the parent cells
            T += 0.0  # no negative zeros (the product with the built maps has none)
            Er = part.EG[idx]
            rmx = part.big[idx] + Er
            Ts.append(T.reshape(-1, 3))
            Es.append(((acoef * Er) * (1 + 2 * U) + gam * (acoef * rmx)).reshape(-1))
            rows.append(offset + np.arange(KR)[:, None] * P + part.cells[None, :])  # (K R, cells)
            offset += KR * P
        on = np.concatenate([part.pc[:, idx].T for part in parts], axis=1).astype(bool)  # the selected unit is on
        index = np.concatenate(rows, axis=1) if len(rows) > 1 else rows[0]
        zero_row = offset  # where the selected unit is off: (row - zero_row) * on + zero_row, in place
        index -= zero_row
        index *= on
        index += zero_row
        T = np.concatenate(Ts + [np.zeros((1, 3))])
        E = np.concatenate(Es + [np.zeros(1)])
        K = self.net.masos[l].num_units
        shape = (K, KR // K, index.shape[1])
        return _PieceMaps(T, E, _abs_max3(T), index.reshape(shape), shape)

    def _selections(self, l: int) -> "np.ndarray | None":
        """For a layer l of three or more pieces after a layer of ReLU-like units (two pieces,
        piece 0 exactly zero): ``(K, R)`` the one input (a unit of layer l - 1) that each
        piece reads, for pieces with no offset and one non-zero weight (max-pooling), -1 for
        the others; None when no piece is such or the float copies cannot tell (underflow:
        a zero float entry need not be an exact zero).  See :meth:`_structural_zeros`."""
        cache = self.__dict__.setdefault("_selected_inputs", {})
        if l in cache:
            return cache[l]
        out = None
        prev = self.net.masos[l - 1] if l else None
        if prev is not None and prev.num_pieces == 2 and self.eta[l] == 0 and self.eta[l - 1] == 0:
            from scipy.sparse import csr_matrix

            Pp = csr_matrix(self.PR[l - 1])
            relu = np.diff(Pp.indptr)[0::2] == 0  # piece 0 of each unit of layer l - 1 is zero
            P = csr_matrix(self.PR[l])
            P.eliminate_zeros()
            n = P.shape[1] - 1
            nnz = np.diff(P.indptr)
            # (every piece zero: nothing is read, nothing selected)
            first = np.where(nnz > 0, P.indices[np.minimum(P.indptr[:-1], len(P.indices) - 1)], n) if P.nnz else np.full(len(nnz), n)
            picks = (nnz == 1) & (first < n)
            sel = np.where(picks, first, -1)
            sel[picks] = np.where(relu[first[picks]], first[picks], -1)
            if (sel >= 0).any():
                out = sel.reshape(self.net.masos[l].num_units, -1)
        cache[l] = out
        return out

    def _structural_zeros(self, l: int, idx, seg, lens, owner, und, zsel) -> np.ndarray:
        """Which of the undecided vertices ``und`` (positions in ``idx``) of a clip of layer l
        are exact zeros of ``g_r - g_s`` by structure: the vertex lies on the lines of two
        units ``u, w`` of layer l - 1 whose piece 0 is exactly zero (its two edges' labels),
        and pieces r and s each read only ``u`` or ``w`` (``zsel``, see :meth:`_selections`).
        On such a line the unit's two pieces are equal, so its output (their max) is 0 at
        the vertex; the network is continuous, so the cell's exact maps give that value at
        the vertex, and ``g_r = g_s = 0`` there exactly.  The exact kernel would find the
        same zero."""
        st = self.store
        o = owner[und]
        first = seg[o]
        pv = np.where(und > first, und - 1, first + lens[o] - 1)
        base = self.labels.base[l - 1]
        Kp = self.net.masos[l - 1].num_units
        u1 = st.lab[idx[und]] - base
        u0 = st.lab[idx[pv]] - base
        a, b = zsel[o, 0], zsel[o, 1]
        return ((u0 >= 0) & (u0 < Kp) & (u1 >= 0) & (u1 < Kp) & (u0 != u1) & (a >= 0) & (b >= 0)
                & ((a == u0) | (a == u1)) & ((b == u0) | (b == u1)))

    def _sparse_pieces(self, l: int):
        """Layer l's float pieces as (K R, n + 1) rows and their absolute values; CSR when at most
        a tenth of the entries are non-zero (pooling selects one input per piece)."""
        hit = self._sparse.get(l)
        if hit is None:
            Pf = self.PR[l]
            if isinstance(Pf, np.ndarray) and np.count_nonzero(Pf) * 10 <= Pf.size:
                from scipy.sparse import csr_matrix

                Pf = csr_matrix(Pf)
            hit = self._sparse[l] = (Pf, abs(Pf))
        return hit

    def _balls(self, starts: np.ndarray, lens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Centre (mean of the float vertices) and an L1 radius holding every exact vertex."""
        seg = excl(lens)
        idx = ranges(starts, lens)
        Xv, ev = self.store.X.take(idx, axis=0), self.store.e[idx]
        ctr = np.add.reduceat(Xv, seg, axis=0) / lens[:, None]
        rho = np.maximum.reduceat(np.abs(Xv - np.repeat(ctr, lens, axis=0)).sum(axis=1) + 2 * ev, seg) * (1 + 4 * U)
        return ctr, rho

    def _cut(self, codes, cand, p_start, p_len, p_cell, hrow, ehrow, lab, orient, newlab, zsel=None,
             positive_only=False):
        """Signs of the float row ``hrow[i]`` (error ``ehrow[i]``) at the vertices of piece
        ``cand[i]``; split the mixed pieces.  The row is ``orient[i]`` times the exact row of
        the label ``lab[i] = (l, k, a, b)`` (``g_a - g_b``); the new edges get the integer
        label ``newlab[i]``.  Signs are proved by the filter, by structure (``zsel``, see
        :meth:`_structural_zeros`) or else exactly.  Returns the pieces' sign flags and, for
        the mixed ones, their positions in ``cand`` with the two children's store ranges
        (positive side first), or with ``positive_only`` the positive side's alone (a copy of
        a piece clipped where its piece stays above another)."""
        st = self.store
        lens = p_len[cand]
        starts = p_start[cand]
        idx = ranges(starts, lens)
        seg = excl(lens)
        owner = np.repeat(np.arange(len(cand)), lens)
        cells = p_cell[cand]
        h = hrow[owner]
        eh = ehrow[owner]
        X, e = st.X.take(idx, axis=0), st.e[idx]
        vals, thr = filtered_values(X, e, h, eh)
        s = proved_signs(vals, thr)
        exact_used = np.zeros(len(idx), dtype=bool)
        und = np.flatnonzero(s == 0)
        if len(und) and zsel is not None:
            und = und[~self._structural_zeros(int(lab[0, 0]), idx, seg, lens, owner, und, zsel)]
        if len(und):
            for v in und.tolist():
                self._tick()
                o = int(owner[v])
                first = int(seg[o])
                prev = int(idx[v - 1]) if v > first else int(idx[first + lens[o] - 1])
                code = codes[int(cells[o])]
                x = self._exact_vertex(code, int(idx[v]), prev)
                val = self._exact_value(code, tuple(lab[o].tolist()), x, int(orient[o]))
                s[v] = (val > 0) - (val < 0)
                exact_used[v] = True
            X, e = st.X.take(idx, axis=0), st.e[idx]
            vals = filtered_values(X, e, h, eh)[0]
        if not len(idx):
            z = np.zeros(0, dtype=bool)
            return z, z, None
        haspos, hasneg, mixed = side_flags(s, seg)
        if not mixed.any():
            return haspos, hasneg, None
        # -- split the mixed pieces ----------------------------------------------------------
        mp = np.flatnonzero(mixed)
        sel = mixed[owner]
        gi = np.flatnonzero(sel)  # positions (in idx order) of vertices of mixed pieces
        own = owner[gi]
        mlen = lens[mp]
        mseg = excl(mlen)
        local = np.arange(len(gi)) - np.repeat(mseg, mlen)
        nxt_local = np.where(local + 1 < np.repeat(mlen, mlen), local + 1, 0)
        nxt = np.repeat(mseg, mlen) + nxt_local  # index into gi
        sv = s[gi]
        sn = sv[nxt]
        cross = sv * sn < 0
        # new vertices on crossing edges (j -> next)
        cj = np.flatnonzero(cross)
        a_pos = np.where(sv[cj] > 0, cj, nxt[cj])  # the positive end
        b_neg = np.where(sv[cj] > 0, nxt[cj], cj)
        A_, B_ = gi[a_pos], gi[b_neg]
        Xn, en = crossing_points(vals[A_], vals[B_], thr[A_], thr[B_], X[A_], X[B_], e[A_], e[B_])
        exn = np.empty(len(cj), dtype=object)
        need = np.flatnonzero(exact_used[A_] | exact_used[B_])
        if len(need):
            for q in need.tolist():
                o = int(own[cj[q]])
                code = codes[int(cells[o])]
                label, sign = tuple(lab[o].tolist()), int(orient[o])
                xa = self._vertex_in_piece(code, idx, seg, lens, owner, A_[q])
                xb = self._vertex_in_piece(code, idx, seg, lens, owner, B_[q])
                va = self._exact_value(code, label, xa, sign)
                vb = self._exact_value(code, label, xb, sign)
                tt = va / (va - vb)
                x = tuple(p + tt * (r - p) for p, r in zip(xa, xb))
                exn[q] = x
                Xn[q] = [nearest_float(x[0]), nearest_float(x[1])]
                en[q] = U * float(np.abs(Xn[q]).max()) + TINY
        # slots: (vertex j, crossing after j), in cyclic order within each piece
        slot_of_cross = np.full(len(gi), -1, dtype=np.int64)
        slot_of_cross[cj] = np.arange(len(cj))
        newlab = newlab[own]  # per vertex of a mixed piece
        labv = st.lab[idx[gi]]
        out = []
        for side in (1,) if positive_only else (-1, 1):
            keep_v = sv * side >= 0
            # label of the segment leaving an original vertex
            lv = np.where((sv == 0) & (sn * side < 0), newlab, labv)
            # label of the segment leaving a crossing: exit from this side -> along the cut
            lc = np.where(sv * side > 0, newlab, labv)
            mask = np.column_stack([keep_v, cross]).ravel()
            slots = np.flatnonzero(mask)  # slot 2j: vertex j; slot 2j + 1: the crossing after it
            src_kind = slots & 1
            src_pos = slots >> 1
            count = np.add.reduceat(mask, 2 * mseg, dtype=np.int64)  # slots kept per piece
            is_v = np.flatnonzero(src_kind == 0)  # (positions, not a mask: faster to assign through)
            is_c = np.flatnonzero(src_kind)
            Xo = np.empty((len(src_pos), 2))
            eo = np.empty(len(src_pos))
            lo = np.empty(len(src_pos), dtype=np.int64)
            exo = np.empty(len(src_pos), dtype=object)
            pv = src_pos[is_v]
            Xo[is_v], eo[is_v], lo[is_v] = X[gi[pv]], e[gi[pv]], lv[pv]
            exo[is_v] = st.exact[idx[gi[pv]]]
            pc_ = src_pos[is_c]
            q = slot_of_cross[pc_]
            Xo[is_c], eo[is_c], lo[is_c] = Xn[q], en[q], lc[pc_]
            exo[is_c] = exn[q]
            s0 = st.append(Xo, eo, lo, exo)
            starts_out = s0 + excl(count)
            out.append((starts_out, count))
        return haspos, hasneg, (mp,) + sum(out[::-1], ())  # the positive side first

    def _vertex_in_piece(self, code, idx, seg, lens, owner, v):
        o = int(owner[v])
        first = int(seg[o])
        prev = int(idx[v - 1]) if v > first else int(idx[first + lens[o] - 1])
        return self._exact_vertex(code, int(idx[v]), prev)

    # -- driver ----------------------------------------------------------------------------
    def run(self, executor=None) -> Sequence[RegionRecord]:
        with np.errstate(all="ignore"):  # non-finite floats are undecided, never errors
            return self._run(executor)

    def _stage(self, l: int) -> None:
        if self.monitor is not None:
            self.monitor.stage = f"layer {l + 1} of {len(self.net.masos)}"

    def _run(self, executor) -> Sequence[RegionRecord]:
        state = self._root()
        self._stage(0)
        if len(self.net.masos) < 2:
            codes, starts, lens = self.layer(0, *state)[:3]
            return self._records(codes, starts, lens)
        if executor is not None:
            return self._parallel(executor, *state)
        codes, starts, lens, maps = self.layer(0, *state)
        chunks, starts, lens = self._depth_first(codes, starts, lens, maps, progress=True)
        return self._records(merge_levels(codes, chunks), starts, lens)

    def stream(self) -> Iterator[Sequence[RegionRecord]]:
        """The regions in order, in runs: the first layer cuts the whole domain, then the later
        layers run on consecutive runs of its cells (about :data:`STREAM_VERTICES` vertices
        each), each run's polygons in a store of its own that lives as long as its records.
        The runs, concatenated, are :meth:`run`'s regions; what is held at once is the first
        layer and one run's regions."""
        L = len(self.net.masos)
        with np.errstate(all="ignore"):
            state = self._root()
            self._stage(0)
            codes, starts, lens, maps = self.layer(0, *state)
        if L == 1:
            yield self._records(codes, starts, lens)
            return
        for a, b in runs(lens, STREAM_VERTICES):
            sub = copy.copy(self)  # the same network, kernel and filter; a store of its own
            sub.store = PolygonStore()
            X, e, lab, exact, n = self._export(starts[a:b], lens[a:b])
            s0 = sub.store.append(X, e, lab, exact)
            sub.lower = b - a
            sub.done = self.done + len(lens) - b  # each cell not yet cut holds a region
            base = Offset(codes, a, b - a)
            with np.errstate(all="ignore"):
                chunks, out_starts, out_lens = sub._depth_first(base, s0 + excl(n), n,
                                                                None if maps is None else maps.window(a, b), progress=True)
            self.done += len(out_lens)
            yield sub._records(merge_levels(base, chunks), out_starts, out_lens)

    def _parallel(self, executor, codes, starts: np.ndarray, lens: np.ndarray, maps) -> Sequence[RegionRecord]:
        """The enumeration with the executor's workers; results merged in code order.

        A two-piece first layer is cut here only until it has :data:`SPLIT_PIECES` pieces per
        task.  A piece's code on the units cut so far is final, and the regions inside it are
        those whose codes have that prefix; so the pieces sorted by code, taken in contiguous
        groups, give tasks whose regions are contiguous runs of the serial order.  Each worker
        resumes the first layer's cuts on its pieces (the same float steps on the same data,
        hence the same vertices and decisions) and runs the other layers.  Other first layers
        are cut here and their cells handed on.  The tasks, :data:`TASKS_PER_WORKER` per
        worker, are about equal in estimated work and submitted largest first, so a worker
        that finishes early takes the next one."""
        workers = getattr(executor, "_max_workers", None) or os.cpu_count() or 2
        ntasks = TASKS_PER_WORKER * workers
        if self.net.masos[0].num_pieces == 2:
            cuts = self._start_cuts(0, codes, starts, lens, maps)
            self._advance(cuts, until=SPLIT_PIECES * ntasks)
            pieces = cuts.pieces
            live = np.flatnonzero(pieces.alive[:pieces.n])
            live = live[np.lexsort(pieces.code[live].T[::-1])]
            starts, lens, rows = pieces.start[live], pieces.len[live], pieces.code[live]
            work = _piece_work(cuts.H[:, 0], pieces.ctr[live], pieces.rho[live])
            base, job = [()], ("resume", cuts.done)
        else:
            codes, starts, lens, maps = self.layer(0, codes, starts, lens, maps)
            rows, work, base, job = codes.rows, lens.astype(float) ** 2, codes, ("cells",)
        bounds = balanced_chunks(work, ntasks)  # contiguous, about equal work
        groups = list(zip(bounds[:-1].tolist(), bounds[1:].tolist()))
        token = uuid.uuid4().hex  # names this enumeration's engine in the workers
        futures: dict = {}
        for a, b in sorted(groups, key=lambda g: -work[g[0]:g[1]].sum()):
            window = maps.window(a, b) if job[0] == "cells" and maps is not None else None
            futures[a] = executor.submit(_task, token, self.net, self.A_dom, self.b_dom,
                                         job + (rows[a:b], self._export(starts[a:b], lens[a:b]), window))
        if self.monitor is not None:
            self.monitor.stage = f"in {len(groups)} tasks"
        chunks, out_starts, out_lens, found = [], [], [], 0
        for a, b in groups:
            # every piece or cell not yet back holds at least one region
            levels, (X, e, lab, exact, n) = wait_result(futures[a], list(futures.values()), self.monitor,
                                                        found + len(lens) - a)
            s0 = self.store.append(X, e, lab, exact)
            chunks.append((0 if job[0] == "resume" else a, levels))
            out_starts.append(s0 + excl(n))
            out_lens.append(n)
            found += len(n)
        return self._records(merge_levels(base, chunks), np.concatenate(out_starts), np.concatenate(out_lens))

    def _job(self, kind: str, *args):
        """One task of :meth:`_parallel`, in a worker: the levels of the codes below the task's
        base (the root for ``"resume"``, the first layer's cells for ``"cells"``) and the
        regions' polygons."""
        if kind == "resume":
            done, rows, (X, e, lab, exact, n), _ = args
            cuts = self._start_cuts(0, *self._root())
            for _ in range(done):  # the steps the parent ran
                next(cuts.steps)
            st = self.store.append(X, e, lab, exact) + excl(n)
            cuts.pieces = _Pieces(st, n, np.zeros(len(n), dtype=np.int64), rows, *self._balls(st, n))
            self._advance(cuts)
            codes, starts, lens, part = self._finish(cuts)
            maps = _Maps([part]) if part is not None else None
            first = levels_of(codes, 1)
        else:
            rows, (X, e, lab, exact, n), maps = args
            codes = LevelCodes([()], np.zeros(len(rows), dtype=np.int64), rows)
            starts, lens = self.store.append(X, e, lab, exact) + excl(n), n
            first = []
        chunks, starts, lens = self._depth_first(codes, starts, lens, maps)
        return first + levels_of(merge_levels(codes, chunks), len(self.net.masos) - 1), self._export(starts, lens)

    def _depth_first(self, codes, starts: np.ndarray, lens: np.ndarray, maps, progress: bool = False):
        """Layers 1 .. L-1 on cells of the first layer, in this process: the results of chunks
        of those cells as :func:`merge_levels` takes them (per chunk, per layer after the first,
        the cells' parents and code rows), and the regions' store ranges.  When the later
        layers are wide the cells are taken in chunks, depth first (each chunk through every
        layer before the next starts), so that the float maps alive at once stay near
        :data:`MAP_BYTES`; the chunks' results merged in order are those of one pass."""
        C = len(codes)
        widest = max(m.num_units for m in self.net.masos[:-1])
        step = max(1, int(MAP_BYTES // (widest * 40 * 4)))  # 5 floats per unit and cell, 4 cells per cell
        chunks, out_starts, out_lens = [], [], []
        for a in range(0, C, step):
            b = min(C, a + step)
            if progress and self.monitor is not None and C > step:
                self.monitor.stage = f"layers 2 to {len(self.net.masos)}, cells {a + 1} to {b} of {C}"
            state = (Offset(codes, a, b - a) if C > step else codes, starts[a:b], lens[a:b],
                     maps.window(a, b) if maps is not None else None)
            for l in range(1, len(self.net.masos)):
                if progress and C <= step:
                    self._stage(l)
                state = self.layer(l, *state)
            chunks.append((a, levels_of(state[0], len(self.net.masos) - 1)))
            out_starts.append(state[1])
            out_lens.append(state[2])
            self.done += len(state[2])
            self.lower = 1
        return chunks, np.concatenate(out_starts), np.concatenate(out_lens)

    def _export(self, starts: np.ndarray, lens: np.ndarray):
        idx = ranges(starts, lens)
        st = self.store
        return st.X.take(idx, axis=0), st.e[idx], st.lab[idx], st.exact[idx], lens

    def _records(self, codes, starts, lens) -> LazyRecords:
        return LazyRecords(codes, self._geom_of, starts, lens)

    def facet_table(self, recs: list) -> tuple[np.ndarray, np.ndarray] | None:
        """(region, integer label) of every edge of every region's polygon, read off the store;
        None unless every record is one of this engine's."""
        got = record_ranges(recs, self._geom_of)
        if got is None:
            return None
        starts, lens = got
        return np.repeat(np.arange(len(recs)), lens), self.store.lab[ranges(starts, lens)]

    def _geom_of(self, s: int, n: int) -> Geom:
        """The Geom of the polygon stored at ``s .. s + n``: vertex i lies on edges i - 1 and i."""
        st = self.store
        sl = slice(s, s + n)
        F = np.zeros((n, n), dtype=bool)
        ar = np.arange(n)
        F[ar, ar] = True
        F[ar, (ar - 1) % n] = True
        labels = [self.labels.decode(int(v)) for v in st.lab[sl]]
        return Geom(st.X[sl].copy(), st.e[sl].copy(), F, labels, list(st.exact[sl]))


def _piece_work(H: np.ndarray, ctr: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """An estimate of the regions of the first layer inside each piece of the root cell (for
    balancing tasks only): ``1 + lines + crossings`` of the float lines ``H`` (K, 3) within the
    pieces' balls (centre ``ctr``, L1 radius ``rho``)."""
    a, b = np.triu_indices(len(H), 1)
    det = H[a, 0] * H[b, 1] - H[a, 1] * H[b, 0]
    keep = det != 0
    a, b, det = a[keep], b[keep], det[keep]
    px = (H[a, 1] * H[b, 2] - H[b, 1] * H[a, 2]) / det
    py = (H[b, 0] * H[a, 2] - H[a, 0] * H[b, 2]) / det
    dist = np.abs(H[:, :2] @ ctr.T + H[:, 2:]) / np.maximum(np.abs(H[:, :2]).max(axis=1, keepdims=True), TINY)
    lines = (dist <= rho).sum(axis=0)  # L-infinity distance to the line within the L1 radius
    inside = np.abs(px[:, None] - ctr[:, 0]) + np.abs(py[:, None] - ctr[:, 1]) <= rho
    return 1.0 + lines + inside.sum(axis=0)


_SERVED = threading.local()  # per worker thread: the engine of the enumeration it last served


def _task(token: str, net: Network, A_dom, b_dom, job: tuple):
    """Worker: one task of :meth:`Engine2D._parallel`.  The engine (float copies of the
    network, exact caches) is kept between the tasks of one enumeration, per thread (a
    thread pool runs tasks side by side in one process), with a fresh store per task."""
    if getattr(_SERVED, "token", None) != token:
        _SERVED.engine, _SERVED.token = Engine2D(net, A_dom, b_dom), token
    eng = _SERVED.engine
    eng.store = PolygonStore()
    with np.errstate(all="ignore"):  # non-finite floats are undecided, never errors
        return eng._job(*job)


def enumerate_2d(net: Network, A_dom: np.ndarray, b_dom: np.ndarray, monitor=None, executor=None) -> tuple[Sequence[RegionRecord], Engine2D]:
    eng = Engine2D(net, A_dom, b_dom, monitor)
    return eng.run(executor), eng
