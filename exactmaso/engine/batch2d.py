"""Batched region enumeration for 2-D inputs and two-piece units (ReLU, leaky ReLU, abs).

The same mathematics as :mod:`.percell` (filtered exact signs, exact fallback, exact
combinatorics), organised for throughput: all cells of a layer are processed together, with
every polygon stored in flat arrays (vertices in cyclic order, each with the label of the edge
that leaves it).  A rigorous bounding-ball test first decides, per cell and unit, whether the
unit surely keeps one sign on the cell; the remaining (cell, unit) pairs are processed as a
wavefront -- at step t every piece of every cell is cut by its cell's t-th candidate unit --
so each step is a handful of vectorised numpy operations over all cells at once, and the
cost per region is a few microseconds instead of a few hundred.  Float maps are kept
unit-major, (units, cells, 3), which is what the GEMM of a layer produces.
"""

from __future__ import annotations

import gc
import os
import threading
import uuid
from typing import Any, Iterator

import numpy as np

from ..maso import Network
from ..numbers import nearest_float, to_float_array
from .cells import Geom, LazyRecord, RegionRecord
from .driver import balanced_chunks, wait_result
from .filter import SAFETY, TINY, U, all_pieces, crossing_points, filtered_values, float_layers, gamma, piece_rows, proved_signs
from .kernel import Exact, domain_vertices
from .stores import PolygonStore, excl, Labels, LevelCodes, merge_levels, Offset, ranges


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


MAP_BYTES = 1 << 27  # layers 1 .. L-1 run depth first over chunks of first-layer cells whose maps may take this much
MAP_FLOATS = 1 << 21  # a layer's float maps are built for at most this many floats' worth of cells at once
TASKS_PER_WORKER = 2  # with workers: tasks per worker (a worker that finishes early takes the next)
SPLIT_PIECES = 16  # with workers: pieces of the first layer per task before the tasks are handed on


class _Selected:
    """The float maps of a chunk of cells of the next level, built on demand: each unit's
    output map is the map of its selected piece on the parent cell, so the chunk keeps only
    the parent cells' piece maps and the children's codes, not ``K x cells x 3`` floats.

    ``G`` holds the pieces' maps on the parent cells, (K, R, parents, 3) (``EG`` their error
    bounds and ``big`` their largest |entry|, (K, R, parents)); for a ReLU layer ``G`` is
    piece 1 alone, (K, parents, 3), piece 0 being exactly zero."""

    def __init__(self, G: np.ndarray, EG: np.ndarray, big: np.ndarray, cells: np.ndarray, pc: np.ndarray,
                 relu: bool) -> None:
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
        else:
            R, C = self.G.shape[1], self.G.shape[2]
            pick = (np.arange(K)[:, None] * R + code) * C + cells[None, :]  # flat (unit, piece, cell)
            M[:K] = self.G.reshape(-1, 3)[pick]
            Er[:K] = self.EG.reshape(-1)[pick]
            rmx[:K] = self.big.reshape(-1)[pick]
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
                    newcodes = np.repeat(pieces.code[split_p], 2, axis=0)
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
        cells, pc = pieces.cell[alive], pieces.code[alive]
        order = np.lexsort(tuple(pc[:, j] for j in range(K - 1, -1, -1)) + (cells,))
        alive, cells, pc = alive[order], cells[order], pc[order]
        new_codes = LevelCodes(cuts.codes, cells, pc)
        out_maps = None  # the next layer is the affine read-out: no cut needs its maps
        if l + 1 < len(net.masos) and net.masos[l + 1].num_pieces > 1:
            G0, EG0, G1, EG1 = cuts.maps
            if G0 is None:  # ReLU: piece 0 is exactly zero
                out_maps = _Selected(G1, EG1, _abs_max3(G1), cells, pc, relu=True)
            else:
                G = np.stack([G0, G1], axis=1)
                out_maps = _Selected(G, np.stack([EG0, EG1], axis=1), _abs_max3(G), cells, pc, relu=False)
        return new_codes, pieces.start[alive], pieces.len[alive], out_maps

    def _layer_multi(self, l: int, codes: list, starts: np.ndarray, lens: np.ndarray, maps: "_Maps"):
        """Cut all cells of level l by a layer of units of R >= 3 pieces (max-pooling, maxout).

        For each candidate unit, as the per-cell engine does, a piece is replaced by its parts
        where piece ``r`` is the arg-max (ties to the lowest index): one copy of the piece per
        piece ``r`` that may win on the cell, clipped by ``g_r >= g_s`` (``g_r > g_s`` for
        ``s < r``) for every ``s`` that may beat it, in increasing ``s``; a copy that keeps
        no full-dimensional part is dropped.  Pieces that surely lose on the whole cell (below
        another piece, by the ball test) are never copied nor clipped against: where ``r``
        wins it is above them.  Each clip is one batched :meth:`_cut` over all copies.
        """
        net = self.net
        m = net.masos[l]
        K, R = m.num_units, m.num_pieces
        C = len(codes)
        [(G, EG)] = self._products(l, maps, [self._sparse_pieces(l)])
        G, EG = G.reshape(K, R, C, 3), EG.reshape(K, R, C)
        ctr, rho = self._balls(starts, lens)
        hm, slack = _ball_test(G[..., 0], G[..., 1], G[..., 2], EG, ctr[:, 0], ctr[:, 1], rho)  # (K, R, C)
        lo_b, hi_b = hm - slack, hm + slack
        # r may win somewhere on the cell unless it is surely below some piece (NaN: may win)
        possible = ~(hi_b < lo_b.max(axis=1, keepdims=True))
        # a piece that is exactly zero (a float row of zeros with a zero error bound: e.g. the
        # output of a ReLU that is off on the cell) loses every tie to a lower zero piece
        big = _abs_max3(G)  # (K, R, C)
        zero = (EG == 0) & (big == 0)
        possible &= ~(zero & (np.cumsum(zero, axis=1) > 1))
        # a piece that is >= 0 everywhere (max-pooling of ReLU outputs) and surely not zero on
        # the cell is > 0 on all of it but a line: a zero piece wins nowhere full-dimensional
        nonneg = self.nonneg[l][:, :, None]  # (K, R, 1)
        positive = nonneg & (big > EG)
        possible &= ~(zero & positive.any(axis=1, keepdims=True))
        only = possible.sum(axis=1) == 1  # (K, C): one piece wins on the whole cell
        base = np.argmax(possible, axis=1).T.astype(np.int8)  # (C, K): that piece, where only
        p_start, p_len, p_cell = starts.copy(), lens.copy(), np.arange(C)
        p_code = np.where(only.T, base, 0).astype(np.int8)
        p_alive = np.ones(C, dtype=bool)
        for unit_at in _wavefront(~only.T):
            self._tick()
            cand = np.flatnonzero(p_alive & (unit_at[p_cell] >= 0))
            if not len(cand):
                continue
            kc, cc = unit_at[p_cell[cand]], p_cell[cand]
            poss = possible[kc, :, cc]  # (pieces, R)
            ci, cr = np.nonzero(poss)  # the copies: (piece, r), r increasing per piece
            ck, ccell = kc[ci], cc[ci]
            c_start, c_len, c_cell = p_start[cand[ci]], p_len[cand[ci]], ccell
            c_alive = np.ones(len(ci), dtype=bool)
            c_ctr, c_rho = self._balls(c_start, c_len)
            for s_ in range(R):
                # copies that must be clipped against piece s_: it may win and may beat r
                need = c_alive & (cr != s_) & poss[ci, s_] & ~(lo_b[ck, cr, ccell] > hi_b[ck, s_, ccell])
                # g_r >= 0 = g_s on the whole cell: nothing to clip (for s_ < r, g_r > 0 but on a
                # line, as g_r is surely not zero)
                need &= ~(zero[ck, s_, ccell] & nonneg[ck, cr, 0]
                          & ((s_ > cr) | positive[ck, cr, ccell]))
                q = np.flatnonzero(need)
                if not len(q):
                    continue
                r_q, k_q, cell_q = cr[q], ck[q], ccell[q]
                # pieces equal exactly (equal floats, zero error bounds): a tie on the whole copy
                same = ((EG[k_q, r_q, cell_q] == 0) & (EG[k_q, s_, cell_q] == 0)
                        & (G[k_q, r_q, cell_q] == G[k_q, s_, cell_q]).all(axis=1))
                if same.any():
                    if s_ < r_q.max():
                        c_alive[q[same & (s_ < r_q)]] = False
                    q, r_q, k_q, cell_q = q[~same], r_q[~same], k_q[~same], cell_q[~same]
                    if not len(q):
                        continue
                h = G[k_q, r_q, cell_q] - G[k_q, s_, cell_q]
                eh = EG[k_q, r_q, cell_q] + EG[k_q, s_, cell_q] + U * np.abs(h).max(axis=1)
                hm_q, sl_q = _ball_test(h[:, 0], h[:, 1], h[:, 2], eh, c_ctr[q, 0], c_ctr[q, 1], c_rho[q])
                c_alive[q[hm_q < -sl_q]] = False  # surely below s_ on the whole copy
                near = ~((hm_q > sl_q) | (hm_q < -sl_q))
                q, h, eh, r_q, k_q = q[near], h[near], eh[near], r_q[near], k_q[near]
                if not len(q):
                    continue
                lo_, hi_ = np.minimum(r_q, s_), np.maximum(r_q, s_)
                lab = np.column_stack([np.full(len(q), l), k_q, lo_, hi_])
                orient = np.where(r_q == lo_, 1, -1)  # h = g_r - g_s = orient (g_lo - g_hi)
                haspos, hasneg, children = self._cut(codes, q, c_start, c_len, c_cell, h, eh, lab, orient,
                                                     self.labels.pair(l, k_q, lo_, hi_))
                tie = ~haspos & ~hasneg  # g_r == g_s on the whole copy: the lower index wins
                c_alive[q[(~haspos & hasneg) | (tie & (s_ < r_q))]] = False
                if children is not None:
                    mp, pos_s, pos_n, _, _ = children
                    c_start[q[mp]], c_len[q[mp]] = pos_s, pos_n
                    c_ctr[q[mp]], c_rho[q[mp]] = self._balls(pos_s, pos_n)
                self._tick()
            keep = np.flatnonzero(c_alive)
            new_code = p_code[cand[ci[keep]]]
            new_code[np.arange(len(keep)), ck[keep]] = cr[keep]
            p_alive[cand] = False
            p_start = np.concatenate([p_start, c_start[keep]])
            p_len = np.concatenate([p_len, c_len[keep]])
            p_cell = np.concatenate([p_cell, c_cell[keep]])
            p_code = np.concatenate([p_code, new_code])
            p_alive = np.concatenate([p_alive, np.ones(len(keep), dtype=bool)])
            self.lower = max(self.lower, int(p_alive.sum()))
        alive = np.flatnonzero(p_alive)
        cells, pc = p_cell[alive], p_code[alive]
        order = np.lexsort(tuple(pc[:, j] for j in range(K - 1, -1, -1)) + (cells,))
        alive, cells, pc = alive[order], cells[order], pc[order]
        new_codes = LevelCodes(codes, cells, pc)
        out_maps = None
        if l + 1 < len(net.masos) and net.masos[l + 1].num_pieces > 1:
            out_maps = _Selected(G, EG, big, cells, pc, relu=False)
            if K * R * C > (K + 1) * len(cells):  # the children's maps are the smaller: build them
                out_maps = out_maps.build(0, len(cells))
        return new_codes, p_start[alive], p_len[alive], out_maps

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
        Xv, ev = self.store.X[idx], self.store.e[idx]
        ctr = np.add.reduceat(Xv, seg, axis=0) / lens[:, None]
        rho = np.maximum.reduceat(np.abs(Xv - np.repeat(ctr, lens, axis=0)).sum(axis=1) + 2 * ev, seg) * (1 + 4 * U)
        return ctr, rho

    def _cut(self, codes, cand, p_start, p_len, p_cell, hrow, ehrow, lab, orient, newlab):
        """Signs of the float row ``hrow[i]`` (error ``ehrow[i]``) at the vertices of piece
        ``cand[i]``; split the mixed pieces.  The row is ``orient[i]`` times the exact row of
        the label ``lab[i] = (l, k, a, b)`` (``g_a - g_b``); the new edges get the integer
        label ``newlab[i]``.  Returns the pieces' sign flags and, for the mixed ones, their
        positions in ``cand`` with the two children's store ranges."""
        st = self.store
        lens = p_len[cand]
        starts = p_start[cand]
        idx = ranges(starts, lens)
        seg = excl(lens)
        owner = np.repeat(np.arange(len(cand)), lens)
        cells = p_cell[cand]
        h = hrow[owner]
        eh = ehrow[owner]
        X, e = st.X[idx], st.e[idx]
        vals, thr = filtered_values(X, e, h, eh)
        s = proved_signs(vals, thr)
        exact_used = np.zeros(len(idx), dtype=bool)
        und = np.flatnonzero(s == 0)
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
            X, e = st.X[idx], st.e[idx]
            vals = filtered_values(X, e, h, eh)[0]
        if not len(idx):
            z = np.zeros(0, dtype=bool)
            return z, z, None
        haspos = np.logical_or.reduceat(s > 0, seg)
        hasneg = np.logical_or.reduceat(s < 0, seg)
        mixed = haspos & hasneg
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
        for side in (-1, 1):
            keep_v = sv * side >= 0
            # label of the segment leaving an original vertex
            lv = np.where((sv == 0) & (sn * side < 0), newlab, labv)
            # label of the segment leaving a crossing: exit from this side -> along the cut
            lc = np.where(sv * side > 0, newlab, labv)
            mask = np.column_stack([keep_v, cross]).ravel()
            slots = np.flatnonzero(mask)  # slot 2j: vertex j; slot 2j + 1: the crossing after it
            src_kind = slots & 1
            src_pos = slots >> 1
            count = np.add.reduceat(mask.reshape(-1, 2).sum(1), mseg) if len(gi) else np.zeros(0, int)
            is_v = src_kind == 0
            Xo = np.empty((len(src_pos), 2))
            eo = np.empty(len(src_pos))
            lo = np.empty(len(src_pos), dtype=np.int64)
            exo = np.empty(len(src_pos), dtype=object)
            pv = src_pos[is_v]
            Xo[is_v], eo[is_v], lo[is_v] = X[gi[pv]], e[gi[pv]], lv[pv]
            exo[is_v] = st.exact[idx[gi[pv]]]
            pc_ = src_pos[~is_v]
            q = slot_of_cross[pc_]
            Xo[~is_v], eo[~is_v], lo[~is_v] = Xn[q], en[q], lc[pc_]
            exo[~is_v] = exn[q]
            s0 = st.append(Xo, eo, lo, exo)
            starts_out = s0 + excl(count)
            out.append((starts_out, count))
        (neg_s, neg_n), (pos_s, pos_n) = out
        return haspos, hasneg, (mp, pos_s, pos_n, neg_s, neg_n)

    def _vertex_in_piece(self, code, idx, seg, lens, owner, v):
        o = int(owner[v])
        first = int(seg[o])
        prev = int(idx[v - 1]) if v > first else int(idx[first + lens[o] - 1])
        return self._exact_vertex(code, int(idx[v]), prev)

    # -- driver ----------------------------------------------------------------------------
    def run(self, executor=None) -> list[RegionRecord]:
        with np.errstate(all="ignore"):  # non-finite floats are undecided, never errors
            return self._run(executor)

    def _stage(self, l: int) -> None:
        if self.monitor is not None:
            self.monitor.stage = f"layer {l + 1} of {len(self.net.masos)}"

    def _run(self, executor) -> list[RegionRecord]:
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

    def _parallel(self, executor, codes, starts: np.ndarray, lens: np.ndarray, maps) -> list[RegionRecord]:
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
            first = _levels(codes, 1)
        else:
            rows, (X, e, lab, exact, n), maps = args
            codes = LevelCodes([()], np.zeros(len(rows), dtype=np.int64), rows)
            starts, lens = self.store.append(X, e, lab, exact) + excl(n), n
            first = []
        chunks, starts, lens = self._depth_first(codes, starts, lens, maps)
        return first + _levels(merge_levels(codes, chunks), len(self.net.masos) - 1), self._export(starts, lens)

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
            chunks.append((a, _levels(state[0], len(self.net.masos) - 1)))
            out_starts.append(state[1])
            out_lens.append(state[2])
            self.done += len(state[2])
            self.lower = 1
        return chunks, np.concatenate(out_starts), np.concatenate(out_lens)

    def _export(self, starts: np.ndarray, lens: np.ndarray):
        idx = ranges(starts, lens)
        st = self.store
        return st.X[idx], st.e[idx], st.lab[idx], st.exact[idx], lens

    def _records(self, codes, starts, lens) -> list[RegionRecord]:
        """One lazy record per region.  The cyclic garbage collector is paused meanwhile: tens
        of thousands of new objects (none of them garbage) would otherwise set off collections
        that walk the whole heap, which took most of this time."""
        paused = gc.isenabled()
        gc.disable()
        try:
            return [LazyRecord(codes, c, self._geom_of, s, n) for c, (s, n) in enumerate(zip(starts.tolist(), lens.tolist()))]
        finally:
            if paused:
                gc.enable()

    def facet_table(self, recs: list) -> tuple[np.ndarray, np.ndarray] | None:
        """(region, integer label) of every edge of every region's polygon, read off the store;
        None unless every record is one of this engine's."""
        if not all(isinstance(r, LazyRecord) and r._build == self._geom_of for r in recs):
            return None
        starts = np.array([r._args[0] for r in recs], dtype=np.int64)
        lens = np.array([r._args[1] for r in recs], dtype=np.int64)
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


def _levels(codes: LevelCodes, depth: int) -> list:
    """The last ``depth`` levels of a chain of codes as ``(parent index, rows)``, first first."""
    levels = []
    for _ in range(depth):
        levels.append((codes.parent_index, codes.rows))
        codes = codes.parent
    return levels[::-1]


def enumerate_2d(net: Network, A_dom: np.ndarray, b_dom: np.ndarray, monitor=None, executor=None) -> tuple[list[RegionRecord], Engine2D]:
    eng = Engine2D(net, A_dom, b_dom, monitor)
    return eng.run(executor), eng
