"""The per-cell engine, kept as a reference for the tests: depth first over cells, any
dimension, any number of pieces.

Each cell is cut by its layer's units one at a time (units of three or more pieces by the
part of the cell where each piece is the arg-max), in code order.  This was the library's
engine for nets the batched engines did not serve; now :mod:`exactmaso.engine.batch2d` and
:mod:`exactmaso.engine.batchnd` serve every network, and the tests check that they give this
engine's regions, codes, order, facet labels and vertices.  It shares the float filter and
the exact kernel with them; its cut is its own (one cell at a time), an independent check of
theirs.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from exactmaso.maso import Network
from exactmaso.numbers import nearest_float, to_float_array
from exactmaso.engine.cells import Geom, Label, RegionRecord, prune
from exactmaso.engine.driver import Monitor
from exactmaso.engine.filter import SAFETY, TINY, U, all_pieces, crossing_points, float_layers, gamma, proved_signs
from exactmaso.engine.kernel import Exact, domain_vertices


class Cell:
    __slots__ = ("level", "code", "geom", "M", "E")

    def __init__(self, level: int, code: tuple, geom: Geom, M: np.ndarray, E: np.ndarray) -> None:
        self.level = level
        self.code = code
        self.geom = geom
        self.M = M  # float augmented map of the layer-`level` input, (n_l, D + 1)
        self.E = E


class Engine:
    """Enumerates the regions of ``net`` on the domain ``{A x <= b}`` depth first."""

    def __init__(self, net: Network, A_dom: np.ndarray, b_dom: np.ndarray, monitor: "Monitor | None" = None) -> None:
        self.net = net
        self.D = net.input_dim
        self.L = len(net.masos)
        self.exact = Exact(net, A_dom, b_dom)
        self.P = []  # the filter's float pieces (K*R, n+1) per layer (see FloatLayer)
        self.absP = []
        self.gam = []
        self.eta = []
        for m, fl in zip(net.masos, float_layers(net)):
            n = m.input_dim
            Pf = all_pieces(fl)
            if not isinstance(Pf, np.ndarray):
                Pf = Pf.toarray()  # the per-cell engine works on dense rows (small nets)
            self.P.append(Pf)
            self.absP.append(np.abs(Pf))
            self.gam.append(gamma(n + 3))
            self.eta.append(fl.eta)
        self.A_dom, self.b_dom = A_dom, b_dom
        self.monitor = monitor  # checks limits and shows progress; may raise LimitError
        self.count = 0  # regions produced so far

    # -- the root ----------------------------------------------------------------------
    def root(self) -> Cell:
        verts, F = domain_vertices(self.A_dom, self.b_dom)
        D = self.D
        X = to_float_array(np.array(verts, dtype=object).reshape(len(verts), D))
        e = U * np.max(np.abs(X), axis=1) + TINY
        labels = [("d", i) for i in range(self.A_dom.shape[0])]
        geom = Geom(X, e, F, labels, list(verts))
        geom = prune(geom, D)
        M = np.hstack([np.eye(D), np.zeros((D, 1))])
        return Cell(0, (), geom, M, np.zeros_like(M))

    # -- signs ---------------------------------------------------------------------------
    def signs(self, cell_code: tuple, geom: Geom, H: np.ndarray, EH: np.ndarray, label: Label, orient: int):
        """Signs of the affine function ``H`` at the vertices; returns (s, vals, thr, exact_used).

        ``H``/``EH`` are the float row (D + 1) and its error bound, with ``H`` approximating
        ``orient * (g_r - g_s)`` for ``label = (l, k, r, s)``: the exact fallback evaluates the
        same orientation.
        """
        D = self.D
        X, e = geom.X, geom.e
        vals = X @ H[:D] + H[D]
        ax = np.abs(X)
        aH = np.abs(H)
        thr = (
            (ax + e[:, None]) @ EH[:D] + EH[D] + e * (aH[:D].sum() + EH[:D].sum())
            + gamma(D + 2) * (ax @ aH[:D] + aH[D])
        ) * SAFETY + TINY
        s = proved_signs(vals, thr)
        und = np.flatnonzero(s == 0)
        exact_used = np.zeros(len(vals), dtype=bool)
        if len(und):
            row = self.exact.row(cell_code, label)
            for i in und:
                x = self.exact.vertex(cell_code, geom, i)
                v = (sum(a * xi for a, xi in zip(row[:D], x)) + row[D]) * orient
                s[i] = (v > 0) - (v < 0)
                exact_used[i] = True
            # vertex coordinates may have been refined: recompute the float values there
            X, e = geom.X, geom.e
            vals = X @ H[:D] + H[D]
        return s, vals, thr, exact_used

    # -- cutting -------------------------------------------------------------------------
    def split(self, cell_code: tuple, geom: Geom, s, vals, thr, exact_used, label: Label, orient: int):
        """Split ``geom`` by the hyperplane (signs ``s`` at its vertices: both +1 and -1 occur).

        Returns (negative part, positive part).  ``vals`` approximate ``orient`` times the exact
        row of ``label`` (see :meth:`signs`).
        """
        D = self.D
        F = geom.F
        pos = np.flatnonzero(s > 0)
        neg = np.flatnonzero(s < 0)
        Fi = F.astype(np.int16)
        C = Fi[pos] @ Fi[neg].T
        pi, ni = np.nonzero(C >= D - 1)
        a_idx, b_idx = pos[pi], neg[ni]
        if D >= 3 and len(a_idx):
            common = F[a_idx] & F[b_idx]  # (c, f)
            cnt = Fi @ common.T.astype(np.int16)  # (n, c)
            size = common.sum(axis=1)
            holders = (cnt == size[None, :]).sum(axis=0)
            keep = holders == 2
            a_idx, b_idx = a_idx[keep], b_idx[keep]
        c = len(a_idx)
        # new vertices on the crossing edges
        Xn, en = crossing_points(vals[a_idx], vals[b_idx], thr[a_idx], thr[b_idx],
                                 geom.X[a_idx], geom.X[b_idx], geom.e[a_idx], geom.e[b_idx])
        Fn = F[a_idx] & F[b_idx]
        exact_new: list = [None] * c
        need = np.flatnonzero(exact_used[a_idx] | exact_used[b_idx])
        if len(need):
            row = self.exact.row(cell_code, label)
            if orient < 0:
                row = tuple(-v for v in row)
            for j in need:
                xa = self.exact.vertex(cell_code, geom, a_idx[j])
                xb = self.exact.vertex(cell_code, geom, b_idx[j])
                va = sum(q * x for q, x in zip(row[:D], xa)) + row[D]
                vb = sum(q * x for q, x in zip(row[:D], xb)) + row[D]
                tt = va / (va - vb)
                x = tuple(p + tt * (q - p) for p, q in zip(xa, xb))
                exact_new[j] = x
                Xn[j] = [nearest_float(v) for v in x]
                en[j] = U * float(np.max(np.abs(Xn[j]))) + TINY
        zero = s == 0
        col_old = zero
        parts = []
        for side in (s < 0, s > 0):
            keep_old = np.flatnonzero(side | zero)
            X = np.vstack([geom.X[keep_old], Xn])
            e = np.concatenate([geom.e[keep_old], en])
            Fc = np.vstack([F[keep_old], Fn])
            newcol = np.concatenate([col_old[keep_old], np.ones(c, dtype=bool)])
            Fc = np.hstack([Fc, newcol[:, None]])
            exact = [geom.exact[i] for i in keep_old] + list(exact_new)
            parts.append(prune(Geom(X, e, Fc, geom.labels + [label], exact), D))
        return parts[0], parts[1]

    # -- one layer on one cell ----------------------------------------------------------
    def children(self, cell: Cell) -> Iterator[Cell]:
        """The cells that layer ``cell.level`` cuts ``cell`` into, in code order, one at a time.

        Depth first over the units of the layer, so the first child arrives after one path of
        cuts, memory stays small, and the monitor's limits are checked at every cut.
        """
        l = cell.level
        m = self.net.masos[l]
        K, R = m.num_units, m.num_pieces
        D = self.D
        Maug = np.vstack([cell.M, np.eye(1, D + 1, D)])
        Eaug = np.vstack([cell.E, np.zeros((1, D + 1))])
        G = self.P[l] @ Maug
        EG = (self.absP[l] @ Eaug) * (1 + 2 * U) + self.gam[l] * (self.absP[l] @ (np.abs(Maug) + Eaug))
        if self.eta[l]:  # entries of the pieces that fell below the normal range
            EG = EG + self.eta[l] * (np.abs(Maug) + Eaug).sum(axis=0)
        G = G.reshape(K, R, D + 1)
        EG = EG.reshape(K, R, D + 1)
        if R == 1:
            yield self._child(cell, cell.geom, (0,) * K, G, EG)
        elif R == 2:
            yield from self._two_piece_children(cell, G, EG)
        else:
            yield from self._general_children(cell, G, EG)

    def _tick(self) -> None:
        if self.monitor is not None:
            self.monitor.tick(self.count)

    def _child(self, cell: Cell, geom: Geom, code_l: tuple, G: np.ndarray, EG: np.ndarray) -> Cell:
        idx = np.arange(len(code_l))
        c = np.asarray(code_l)
        return Cell(cell.level + 1, cell.code + (tuple(code_l),), geom, G[idx, c], EG[idx, c])

    def _two_piece_children(self, cell: Cell, G: np.ndarray, EG: np.ndarray) -> Iterator[Cell]:
        l = cell.level
        D = self.D
        H = G[:, 1] - G[:, 0]
        EH = EG[:, 1] + EG[:, 0] + U * np.abs(H)
        geom = cell.geom
        X, e = geom.X, geom.e
        K = H.shape[0]
        vals = X @ H[:, :D].T + H[:, D]
        ax = np.abs(X)
        aH = np.abs(H)
        thr = (
            (ax + e[:, None]) @ EH[:, :D].T + EH[:, D] + e[:, None] * (aH[:, :D].sum(1) + EH[:, :D].sum(1))
            + gamma(D + 2) * (ax @ aH[:, :D].T + aH[:, D])
        ) * SAFETY + TINY
        S = proved_signs(vals, thr)
        anypos = (S > 0).any(axis=0)
        anyneg = (S < 0).any(axis=0)
        undecided = (S == 0).any(axis=0)
        code = np.zeros(K, dtype=np.int64)
        cutting = []
        for k in range(K):
            if undecided[k]:
                self._tick()
                s, _, _, _ = self.signs(cell.code, geom, H[k], EH[k], (l, k, 0, 1), -1)
                p, n = bool((s > 0).any()), bool((s < 0).any())
            else:
                p, n = bool(anypos[k]), bool(anyneg[k])
            if p and n:
                cutting.append(k)
            elif p:
                code[k] = 1
        # depth first over the cutting units; the negative side (code 0) comes first
        stack = [(geom, code, 0)]
        while stack:
            g, c, i = stack.pop()
            if i == len(cutting):
                yield self._child(cell, g, tuple(int(v) for v in c), G, EG)
                continue
            self._tick()
            k = cutting[i]
            label = (l, k, 0, 1)
            # H = g_1 - g_0 is minus the exact row g_0 - g_1 of the label (l, k, 0, 1)
            s, v, t, ex = self.signs(cell.code, g, H[k], EH[k], label, -1)
            haspos, hasneg = bool((s > 0).any()), bool((s < 0).any())
            if haspos and hasneg:
                gn, gp = self.split(cell.code, g, s, v, t, ex, label, -1)
                c1 = c.copy()
                c1[k] = 1
                stack.append((gp, c1, i + 1))
                stack.append((gn, c, i + 1))
            else:
                if haspos:
                    c = c.copy()
                    c[k] = 1
                stack.append((g, c, i + 1))

    def _general_children(self, cell: Cell, G: np.ndarray, EG: np.ndarray) -> Iterator[Cell]:
        """Units with R > 2 pieces: for each piece r, keep {g_r >= g_s for all s} (ties: lowest index)."""
        K = G.shape[0]
        stack: list[tuple[Geom, tuple[int, ...]]] = [(cell.geom, ())]
        while stack:
            g, c = stack.pop()
            k = len(c)
            if k == K:
                yield self._child(cell, g, c, G, EG)
                continue
            parts = [(part, c + (r,)) for r, part in enumerate(self._piece_parts(cell, g, k, G, EG)) if part is not None]
            stack.extend(reversed(parts))

    def _piece_parts(self, cell: Cell, g: Geom, k: int, G: np.ndarray, EG: np.ndarray) -> list[Geom | None]:
        """For each piece r of unit k: the part of ``g`` where r is the arg-max (None if not full-dimensional)."""
        l = cell.level
        R = G.shape[1]
        out: list[Geom | None] = []
        for r in range(R):
            part: Geom | None = g
            for s_ in range(R):
                if s_ == r or part is None:
                    continue
                self._tick()
                lo, hi = min(r, s_), max(r, s_)
                label = (l, k, lo, hi)
                sign = 1 if r == lo else -1  # orient so that + means piece r wins
                H = (G[k, lo] - G[k, hi]) * sign
                EH = EG[k, lo] + EG[k, hi] + U * np.abs(H)
                s, v, t, ex = self.signs(cell.code, part, H, EH, label, sign)
                haspos, hasneg = bool((s > 0).any()), bool((s < 0).any())
                if not haspos and not hasneg:  # g_r == g_s on the whole part: tie
                    if s_ < r:
                        part = None
                elif not haspos:
                    part = None
                elif hasneg:
                    part = self.split(cell.code, part, s, v, t, ex, label, sign)[1]
            out.append(part)
        return out

    # -- traversal -----------------------------------------------------------------------
    def iter_records(self, cell: Cell | None = None) -> Iterator[RegionRecord]:
        """Depth-first: the regions inside ``cell`` (the whole domain by default), in code order."""
        L = self.L
        with np.errstate(all="ignore"):  # non-finite floats are undecided, never errors
            start = cell if cell is not None else self.root()
        stack = [iter([start])]
        while stack:
            with np.errstate(all="ignore"):
                c = next(stack[-1], None)
            if c is None:
                stack.pop()
                continue
            if c.level == L:
                self.count += 1
                yield RegionRecord(c.code, c.geom, c.M, c.E)
                continue
            stack.append(self.children(c))
