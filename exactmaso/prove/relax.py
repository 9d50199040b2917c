"""Rigorous float bound propagation: interval and backward linear (CROWN-style) bounds.

Every bound computed here is *sound*: it holds for the exact network, not only for its float
copy.  The float copy is the engines' rescaled one (:func:`exactmaso.engine.filter.float_layers`:
unit ``k`` of layer ``l`` outputs ``y / 2**t``, which keeps huge and tiny weights finite) and
every rounding is charged: a float piece is within ``u |p| + eta`` of the exact one
(``u = 2**-53``), a dot product of length ``n`` within ``gamma_n`` times the dot product of the
absolute values, and the backward pass treats its float coefficients as exact numbers and
moves the rounding of each product into the constant, through bounds of the layer inputs'
magnitudes.  So a box the search settles with these bounds is settled; the certificate is
re-checked independently in exact rational arithmetic (:mod:`exactmaso.prove.checker`),
with the same relaxations.

Relaxations: a two-piece unit is ``y = g0 + relu(h)`` (``h = g1 - g0``).  With ``h`` in
``[l, u]``: ``l >= 0`` gives ``y = g1``, ``u <= 0`` gives ``y = g0``; otherwise ``y`` lies above
``g1`` if ``u > -l`` (else ``g0``) and below ``g0 + s (h - l)``, ``s >= u / (u - l)``.  A unit
of three or more pieces lies above its most promising piece and below a piece that dominates
all the others, or below the largest upper bound of its pieces.  A *phase* fixes a two-piece
unit's side on a branch of the search (``h >= 0`` or ``h <= 0``), which clamps its bounds.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..engine.filter import float_layers
from ..maso import Network

__all__ = ["FloatModel", "FloatBounds", "Batch", "float_and_error"]

U = 2.0 ** -53
SAFETY = 1.0 + 1e-9
TINY = 1e-280
TIE = 2.0 ** -30  # a decision within this fraction of a unit's magnitude of its threshold is a tie


def _gamma(n: int) -> float:
    return n * U / (1 - n * U)


def _up(x: np.ndarray) -> np.ndarray:
    return np.nextafter(x, np.inf)


def _down(x: np.ndarray) -> np.ndarray:
    return np.nextafter(x, -np.inf)


class _FLayer:
    def __init__(self, fl, R: int) -> None:
        P = fl.pieces  # (K, R, n + 1)
        self.R = R
        self.K, _, n1 = P.shape
        self.n = n1 - 1
        self.A = P[:, :, :-1]
        self.B = P[:, :, -1]
        self.eA = U * np.abs(self.A) + fl.eta  # bounds on |float - exact|
        self.eB = U * np.abs(self.B) + fl.eta
        self.flat = _Rows(self.A.reshape(-1, self.n), self.B.reshape(-1), self.eA.reshape(-1, self.n),
                          self.eB.reshape(-1))
        # the backward pass's rows per piece: |A_r| charged with the rounding of a sum of
        # (R + 1) K products, the error of the float pieces added
        self.gam = _gamma(self.K * (R + 1) + 2)
        self.piece_err = [(self.eA[:, r] + self.gam * np.abs(self.A[:, r])).T.copy() for r in range(R)]
        # pieces that are zero with no error (a ReLU's piece 0) add nothing to a backward pass
        self.live = [r for r in range(R) if self.A[:, r].any() or self.piece_err[r].any()]
        self.absT = [np.abs(self.A[:, r]).T.copy() for r in range(R)]
        self.cut = None
        if R == 2:
            cut = fl.cut if fl.cut is not None else P[:, 1, :]
            H, Hb = cut[:, :-1], cut[:, -1]
            self.cut = _Rows(H, Hb, U * np.abs(H) + fl.eta, U * np.abs(Hb) + fl.eta)
            self.cut_err = (self.cut.eA + (self.gam + 2 * U) * np.abs(H)).T.copy()


class _Rows:
    """Float rows ``A x + b`` within ``eA, eb`` (entrywise) of exact ones, with what the
    interval bound of many boxes at once needs precomputed."""

    def __init__(self, A: np.ndarray, b: np.ndarray, eA: np.ndarray, eb: np.ndarray) -> None:
        self.A, self.b, self.eA, self.eb = A, b, eA, eb
        self.PT, self.NT = np.maximum(A, 0.0).T.copy(), np.minimum(A, 0.0).T.copy()
        self.absT, self.eAT = np.abs(A).T.copy(), eA.T.copy()
        self.absb = np.abs(b)
        self.gam = _gamma(A.shape[1] + 2)

    def interval(self, zl: np.ndarray, zh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sound bounds of the exact rows over each box ``[zl[i], zh[i]]`` (rows of zl, zh)."""
        zmag = np.maximum(np.abs(zl), np.abs(zh))
        hi = zh @ self.PT + zl @ self.NT + self.b
        lo = zl @ self.PT + zh @ self.NT + self.b
        err = (self.gam * (zmag @ self.absT + self.absb) + zmag @ self.eAT + self.eb) * SAFETY + TINY
        return _down(lo - err), _up(hi + err)



class FloatBounds:
    """One box's bounds per layer: of the cut quantities and of the outputs (rescaled units)."""

    __slots__ = ("cut_lo", "cut_hi", "out_lo", "out_hi", "linear")

    def __init__(self, cut_lo: list, cut_hi: list, out_lo: list, out_hi: list, linear: dict | None = None) -> None:
        self.cut_lo, self.cut_hi, self.out_lo, self.out_hi = cut_lo, cut_hi, out_lo, out_hi
        # per layer with backward bounds: (units, Lu, cu, Ll, cl) with h <= Lu . x + cu and
        # -h <= Ll . x + cl on the box (so on every box inside it)
        self.linear = linear


class Batch:
    """The bounds of ``B`` boxes at once: per layer, arrays whose first axis is the box, and
    the relaxations the backward passes built from them (one per layer, built once)."""

    __slots__ = ("lo", "hi", "cut_lo", "cut_hi", "out_lo", "out_hi", "relaxed", "linear", "off", "interval")

    def __init__(self, lo: np.ndarray, hi: np.ndarray) -> None:
        self.lo, self.hi = lo, hi
        self.cut_lo: list[np.ndarray] = []
        self.cut_hi: list[np.ndarray] = []
        self.out_lo: list[np.ndarray] = []
        self.out_hi: list[np.ndarray] = []
        self.relaxed: dict = {}
        self.linear: dict = {}
        self.off: dict = {}  # per layer with phases: (B, K) the units with the phase h <= 0
        self.interval: dict = {}  # per layer given backward bounds: the cut bounds before them

    def __len__(self) -> int:
        return len(self.lo)

    def node(self, i: int, linear: bool = False) -> FloatBounds:
        """Box ``i``'s bounds (with ``linear``, also its backward linear bounds)."""
        lin = {li: (idx, Lu[i].copy(), cu[i].copy(), Ll[i].copy(), cl[i].copy())
               for li, (idx, Lu, cu, Ll, cl) in self.linear.items()} if linear else None
        return FloatBounds([a[i].copy() for a in self.cut_lo], [a[i].copy() for a in self.cut_hi],
                           [a[i].copy() for a in self.out_lo], [a[i].copy() for a in self.out_hi], lin)

    def empty(self) -> np.ndarray:
        """Per box: whether its bounds cross (its phases cannot hold together on it)."""
        out = np.zeros(len(self.lo), dtype=bool)
        for lo, hi in zip(self.cut_lo, self.cut_hi):
            if lo.shape[1]:
                out |= (lo > hi).any(axis=1)
        return out


class FloatModel:
    """The network's float copy and its rigorous bound propagation, many boxes at once."""

    def __init__(self, net: Network) -> None:
        fls = float_layers(net)
        self.layers = [_FLayer(fl, m.num_pieces) for fl, m in zip(fls, net.masos)]
        self.out_scale = np.ldexp(1.0, fls[-1].scale.astype(np.int64))
        self.D = net.input_dim

    def forward(self, X: np.ndarray) -> np.ndarray:
        """The float copy's outputs at the rows of X (a guide: no error bound)."""
        z = X
        for L in self.layers:
            if L.live == [1] and L.R == 2:  # a ReLU: piece 0 is zero
                z = np.maximum(z @ L.A[:, 1].T + L.B[:, 1], 0.0)
            else:
                z = (z @ L.flat.A.T + L.flat.b).reshape(len(X), L.K, L.R).max(axis=2)
        return z * self.out_scale

    # -- bounds -------------------------------------------------------------------------
    def bounds(self, lo: np.ndarray, hi: np.ndarray, *, crown: bool = True,
               parents: Sequence[FloatBounds | None] | None = None,
               phases: Sequence[dict] | None = None) -> Batch:
        """Sound bounds over each box ``[lo[i], hi[i]]`` (rows of ``(B, D)`` arrays), intersected
        with ``parents[i]``'s; ``phases[i]`` maps a unit ``(l, k)`` of a two-piece layer to 1
        (``h >= 0``) or 0 (``h <= 0``) on box ``i``'s branch."""
        res = Batch(lo, hi)
        nb = len(lo)
        inherit = parents is not None and any(p is not None for p in parents)
        masks = _phase_masks(self.layers, phases, nb) if phases is not None and any(phases) else {}
        res.off = {li: off for li, (_, off) in masks.items()}
        zl, zh = lo, hi
        with np.errstate(all="ignore"):
            for li, L in enumerate(self.layers):
                plo, phi = L.flat.interval(zl, zh)
                K, R = L.K, L.R
                if R == 2:
                    clo, chi = L.cut.interval(zl, zh)
                elif R > 2:
                    clo, chi = plo.copy(), phi.copy()
                else:
                    clo = chi = np.zeros((nb, 0))
                if inherit and R > 1:
                    clo = np.maximum(clo, _stack(parents, "cut_lo", li, -np.inf, clo.shape[1]))
                    chi = np.minimum(chi, _stack(parents, "cut_hi", li, np.inf, chi.shape[1]))
                    if not crown:  # (the checker re-derives full bounds from the parents' intervals only)
                        clo, chi = self._inherit_linear(li, parents, lo, hi, clo, chi)
                if li in masks:
                    clo, chi = _clamp(clo, chi, masks[li])
                if crown and li > 0 and R > 1:
                    res.interval[li] = (clo, chi)  # (which units get backward bounds is a choice too)
                    clo, chi = self._crown_cut(li, res, clo, chi)
                    if li in masks:
                        clo, chi = _clamp(clo, chi, masks[li])
                res.cut_lo.append(clo)
                res.cut_hi.append(chi)
                if R == 1:
                    ylo, yhi = plo, phi
                else:
                    ylo = plo.reshape(nb, K, R).max(axis=2)
                    yhi = phi.reshape(nb, K, R).max(axis=2)
                    if R == 2:  # y = g0 + relu(h), sums rounded outwards
                        ylo = np.maximum(ylo, _down(plo[:, 0::2] + np.maximum(clo, 0)))
                        yhi = np.minimum(yhi, _up(phi[:, 0::2] + np.maximum(chi, 0)))
                if inherit:
                    ylo = np.maximum(ylo, _stack(parents, "out_lo", li, -np.inf, K))
                    yhi = np.minimum(yhi, _stack(parents, "out_hi", li, np.inf, K))
                res.out_lo.append(ylo)
                res.out_hi.append(yhi)
                zl, zh = ylo, yhi
        return res

    def _inherit_linear(self, li: int, parents, lo, hi, clo, chi):
        """Meet the bounds with the parents' backward linear bounds, maximised over each box."""
        groups: dict = {}
        for i, p in enumerate(parents):
            if p is not None and p.linear and li in p.linear:
                groups.setdefault(id(p), (p, []))[1].append(i)
        if not groups:
            return clo, chi
        clo, chi = clo.copy(), chi.copy()
        for p, rows in groups.values():
            idx, Lu, cu, Ll, cl = p.linear[li]
            sel = np.array(rows)
            blo, bhi = lo[sel], hi[sel]
            m = len(idx)
            lam = np.broadcast_to(np.vstack([Lu, Ll]), (len(sel), 2 * m, lo.shape[1]))
            up = self.box_max(lam, np.broadcast_to(np.concatenate([cu, cl]), (len(sel), 2 * m)), blo, bhi)
            chi[sel[:, None], idx] = np.minimum(chi[sel[:, None], idx], up[:, :m])
            clo[sel[:, None], idx] = np.maximum(clo[sel[:, None], idx], -up[:, m:])
        return clo, chi

    def undecided(self, b: FloatBounds) -> list[np.ndarray]:
        """Per layer, the units one box's bounds leave undecided (two-piece: ``l < 0 < u``;
        more pieces: no piece dominates)."""
        out = []
        for L, lo, hi in zip(self.layers, b.cut_lo, b.cut_hi):
            if L.R == 1:
                out.append(np.zeros(0, dtype=np.int64))
            elif L.R == 2:
                out.append(np.flatnonzero(~((lo >= 0) | (hi <= 0))))
            else:
                pl, ph = lo.reshape(L.K, L.R), hi.reshape(L.K, L.R)
                dom = np.zeros(L.K, dtype=bool)
                for r in range(L.R):
                    others = np.delete(ph, r, axis=1).max(axis=1)
                    dom |= pl[:, r] >= others
                out.append(np.flatnonzero(~dom))
        return out

    def ties(self, b: Batch, phases: Sequence[dict]) -> np.ndarray:
        """Per box: whether a choice of its relaxation sits within rounding of a tie, where the
        exact bounds the checker computes could make the other choice (``(B,)`` booleans).

        The float bounds and the checker's differ by rounding.  That changes a bound by as
        little, except where it flips a discrete choice of the relaxation: a two-piece unit
        without a phase whose ``l`` or ``u`` is near 0 (decided or not, pinned at 0, lower
        slopes applying or not), an undecided one with ``u`` near ``-l`` (its lower line is
        ``g1`` or ``g0``), a unit of three or more pieces with two of them near a tie (which
        piece is the lower line, which one dominates), a two-piece unit whose interval bounds
        (before backward bounds) are near 0 (the backward bounds apply to it or not), and a box
        found empty by bounds that cross by little.  "Near" is within ``TIE`` times the
        magnitude of the unit's terms
        (``|W| |z| + |b|``, which the rounding errors are proportional to).  A phased unit's
        choice is its phase's on both sides (:func:`_active`)."""
        nb = len(b.lo)
        out = np.zeros(nb, dtype=bool)
        masks = _phase_masks(self.layers, phases, nb) if any(phases) else {}
        crossing, robust = np.zeros(nb, dtype=bool), np.zeros(nb, dtype=bool)
        with np.errstate(all="ignore"):
            for li, L in enumerate(self.layers):
                if L.R == 1:
                    continue
                rows = L.cut if L.R == 2 else L.flat
                zmag = self._input_magnitude(b, li)
                near = TIE * (zmag @ rows.absT + rows.absb) + TINY
                near = np.where(np.isfinite(near), near, np.inf)
                lo, hi = b.cut_lo[li], b.cut_hi[li]
                crossing |= (lo > hi).any(axis=1)
                robust |= (lo - hi > near).any(axis=1)
                if L.R == 2:
                    phased = masks[li][0] | masks[li][1] if li in masks else np.zeros(lo.shape, dtype=bool)
                    zero = (np.abs(lo) <= near) | (np.abs(hi) <= near)
                    if li in b.interval:
                        ilo, ihi = b.interval[li]
                        zero |= (np.abs(ilo) <= near) | (np.abs(ihi) <= near)
                    pick = (lo < 0) & (hi > 0) & (np.abs(hi + lo) <= near)
                    out |= (~phased & (zero | pick)).any(axis=1)
                else:
                    K, R = L.K, L.R
                    pl, ph, tol = lo.reshape(nb, K, R), hi.reshape(nb, K, R), near.reshape(nb, K, R).max(axis=2)
                    mid = np.sort(pl + ph, axis=2)
                    out |= (mid[:, :, -1] - mid[:, :, -2] <= 2 * tol).any(axis=1)
                    for r in range(R):
                        gap = pl[:, :, r] - np.delete(ph, r, axis=2).max(axis=2)
                        out |= (np.abs(gap) <= tol).any(axis=1)
        return out | (crossing & ~robust)

    def pieces(self, b: FloatBounds, phases: dict) -> list[tuple | None]:
        """Per layer, the piece each unit takes on one box's branch (``phases``) as the bounds
        decide it, or None where they leave a unit of the layer undecided."""
        out: list[tuple | None] = []
        for li, (L, lo, hi) in enumerate(zip(self.layers, b.cut_lo, b.cut_hi)):
            if L.R == 1:
                out.append((0,) * L.K)
            elif L.R == 2:
                off = np.zeros(L.K, dtype=bool)
                for (l, k), side in phases.items():
                    if l == li and not side:
                        off[k] = True
                act = _active(lo, hi, off)
                out.append(tuple(int(v) for v in act) if (act | (hi <= 0)).all() else None)
            else:
                pl, ph = lo.reshape(L.K, L.R), hi.reshape(L.K, L.R)
                code = []
                for k in range(L.K):
                    r = next((r for r in range(L.R) if all(pl[k, r] >= ph[k, s] for s in range(L.R) if s != r)), None)
                    if r is None:
                        break
                    code.append(r)
                out.append(tuple(code) if len(code) == L.K else None)
        return out

    # -- relaxations and the backward pass ---------------------------------------------
    def _relax(self, li: int, b: Batch, alpha: np.ndarray | None = None) -> tuple:
        """Layer ``li``'s relaxation on every box: the pieces chosen as upper and lower lines
        (weights ``(B, K, R)``, one-hot or zero), the slope ``s`` of a two-piece unit's upper
        line ``g0 + s (h - l)`` where it is undecided (else 0), and the lines' constants with
        bounds of their float errors.  ``alpha`` ``(B, K)`` gives undecided two-piece units the
        lower line ``g0 + alpha h`` (``alpha`` in [0, 1], exact dyadic floats; NaN: the default
        choice of 0 or 1)."""
        hit = b.relaxed.get(li) if alpha is None else None
        if hit is not None:
            return hit
        L = self.layers[li]
        K, R = L.K, L.R
        nb = len(b.lo)
        if R == 1:
            w = np.ones((nb, K, 1))
            c, e = np.broadcast_to(L.B[:, 0], (nb, K)), np.broadcast_to(L.eB[:, 0], (nb, K))
            hit = (w, w, None, c, e, c, e)
        elif R == 2:
            l, u = b.cut_lo[li], b.cut_hi[li]
            act, dead = _active(l, u, b.off.get(li)), u <= 0
            dead &= ~act
            unst = ~(act | dead)
            pick = act | (unst & (u > -l))  # the lower line: piece 1 (else piece 0)
            wl = np.stack([~pick, pick], axis=2).astype(float)
            wu = np.stack([~act, act], axis=2).astype(float)  # the upper line's piece (undecided: g0 + s (h - l))
            with np.errstate(all="ignore"):
                s = np.where(unst, _up(u / _down(u - l)), 0.0)
                B0, B1, eB0, eB1 = L.B[:, 0], L.B[:, 1], L.eB[:, 0], L.eB[:, 1]
                Hb, eHb = L.cut.b, L.cut.eb
                lz = np.where(unst, l, 0.0)
                cup = np.where(act, B1, B0) + s * (Hb - lz)
                ecup = np.where(act, eB1, eB0) + np.where(
                    unst, 3 * U * (np.abs(B0) + s * (np.abs(Hb) + np.abs(lz))) + s * eHb, 0.0)
            clo, eclo = np.where(pick, B1, B0), np.where(pick, eB1, eB0)
            if alpha is not None:
                given = unst & np.isfinite(alpha)
                a = np.where(given, alpha, pick.astype(float))
                wl = np.stack([1.0 - a, a], axis=2)
                with np.errstate(all="ignore"):
                    clo = np.where(given, (1.0 - a) * B0 + a * B1, clo)
                    # the constant's rounding, and that of the products lam * a and
                    # lam * (1 - a) (times the pieces' coefficients, through |z|)
                    zmag = self._input_magnitude(b, li)
                    eround = 2 * U * ((1.0 - a) * (zmag @ L.absT[0]) + a * (zmag @ L.absT[1]))
                    eclo = np.where(given, (1.0 - a) * eB0 + a * eB1 + 3 * U * ((1.0 - a) * np.abs(B0) + a * np.abs(B1))
                                    + eround, eclo)
            hit = (wu, wl, s, cup, ecup, clo, eclo)
        else:
            pl, ph = b.cut_lo[li].reshape(nb, K, R), b.cut_hi[li].reshape(nb, K, R)
            eye = np.eye(R)
            wl = eye[np.argmax(pl + ph, axis=2)]
            dom = np.zeros((nb, K, R), dtype=bool)
            for r in range(R):
                dom[:, :, r] = pl[:, :, r] >= np.delete(ph, r, axis=2).max(axis=2)
            has = dom.any(axis=2)
            wu = eye[np.argmax(dom, axis=2)] * has[:, :, None]
            cup = np.where(has, (wu * L.B).sum(axis=2), ph.max(axis=2))
            ecup = np.where(has, (wu * L.eB).sum(axis=2), 0.0)
            clo, eclo = (wl * L.B).sum(axis=2), (wl * L.eB).sum(axis=2)
            hit = (wu, wl, None, cup, ecup, clo, eclo)
        if alpha is None:
            b.relaxed[li] = hit
        return hit

    def _input_magnitude(self, b: Batch, li: int) -> np.ndarray:
        if li == 0:
            return np.maximum(np.abs(b.lo), np.abs(b.hi))
        return np.maximum(np.abs(b.out_lo[li - 1]), np.abs(b.out_hi[li - 1]))

    def backward(self, b: Batch, top: int, lam: np.ndarray, alpha: Sequence | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Sound upper bounds of ``lam . y_top`` as ``lam_x . x + const`` on every box: ``lam``
        is ``(M, K)`` (the same rows on every box) or ``(B, M, K)``; returns ``(B, M, D)`` and
        ``(B, M)``.  ``alpha``: per layer None or the lower slopes of :meth:`_relax`.

        Each layer's rows are exact numbers the float ones stand for: the pass moves the
        rounding of each product, and the error of the float pieces, into the constant
        through bounds of the layer's input magnitudes."""
        nb = len(b.lo)
        if lam.ndim == 2:
            lam = np.broadcast_to(lam, (nb,) + lam.shape)
        M = lam.shape[1]
        const = np.zeros((nb, M))
        slack = np.zeros((nb, M))
        with np.errstate(all="ignore"):
            for li in range(top, -1, -1):
                L = self.layers[li]
                wu, wl, s, cup, ecup, clo, eclo = self._relax(li, b, None if alpha is None else alpha[li])
                zmag = self._input_magnitude(b, li)
                P, N = np.maximum(lam, 0.0), np.minimum(lam, 0.0)
                new = np.zeros((nb * M, L.n))
                # per unit: the error of its line's coefficients (times |z|) and of its constant
                eu = ecup + L.gam * np.abs(cup)
                el = eclo + L.gam * np.abs(clo)
                for r in L.live:
                    W = P * wu[:, None, :, r] + N * wl[:, None, :, r]
                    new += W.reshape(nb * M, L.K) @ L.A[:, r]
                    ez = zmag @ L.piece_err[r]  # (B, K)
                    eu = eu + wu[:, :, r] * ez
                    el = el + wl[:, :, r] * ez
                if s is not None:
                    Ps = P * s[:, None, :]
                    new += Ps.reshape(nb * M, L.K) @ L.cut.A
                    eu = eu + s * (zmag @ L.cut_err)
                const = const + _rowdot(P, cup) + _rowdot(N, clo)
                slack = slack + _rowdot(P, eu) - _rowdot(N, el) + U * np.abs(const)
                lam = new.reshape(nb, M, L.n)
            total = const + slack * SAFETY
            return lam, _up(total + 4 * U * np.abs(total) + TINY)

    @staticmethod
    def box_max(lam: np.ndarray, const: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Sound upper bounds of ``lam[i, m] . x + const[i, m]`` over box ``i``."""
        xmag = np.maximum(np.abs(lo), np.abs(hi))
        with np.errstate(all="ignore"):
            val = (np.einsum("bmd,bd->bm", np.maximum(lam, 0.0), hi) + np.einsum("bmd,bd->bm", np.minimum(lam, 0.0), lo)
                   + const)
            err = _gamma(lo.shape[1] + 2) * (np.einsum("bmd,bd->bm", np.abs(lam), xmag) + np.abs(const)) * SAFETY + TINY
        return _up(val + err)

    def _crown_cut(self, li: int, b: Batch, clo: np.ndarray, chi: np.ndarray):
        L = self.layers[li]
        if L.R == 2:
            rows = L.cut
            idx = np.flatnonzero(((clo < 0) & (chi > 0)).any(axis=0))
        else:
            rows = L.flat
            idx = np.arange(len(rows.b))
        if not len(idx):
            return clo, chi
        A, rb = rows.A[idx], rows.b[idx]
        zmag = self._input_magnitude(b, li)
        # row . z + rb with |row - exact| <= er: the float row's bound plus er . |z| + erb
        extra = (zmag @ rows.eAT[:, idx] + rows.eb[idx]) * SAFETY
        lx, cx = self.backward(b, li - 1, np.vstack([A, -A]))
        up = self.box_max(lx, cx, b.lo, b.hi)
        m = len(idx)
        clo, chi = clo.copy(), chi.copy()
        # only the units each box needs them for, as the checker does: a two-piece unit the
        # box's intervals decide keeps its intervals
        need = ((clo[:, idx] < 0) & (chi[:, idx] > 0)) if L.R == 2 else np.ones((len(clo), m), dtype=bool)
        chi[:, idx] = np.where(need, np.minimum(chi[:, idx], _up(up[:, :m] + rb + extra)), chi[:, idx])
        clo[:, idx] = np.where(need, np.maximum(clo[:, idx], _down(-up[:, m:] + rb - extra)), clo[:, idx])
        # the linear bounds themselves, for boxes inside these ones: h <= Lu . x + cu and
        # -h <= Ll . x + cl (the row's constant and error folded in, rounded up; the error
        # term holds on a smaller box, whose layer inputs are smaller in magnitude)
        cu, cl = _up_sum(cx[:, :m] + rb + extra), _up_sum(cx[:, m:] - rb + extra)
        b.linear[li] = (idx, lx[:, :m], cu, lx[:, m:], cl)
        return clo, chi

    def upper(self, b: Batch, cf: np.ndarray, ec: np.ndarray, df: np.ndarray, ed: np.ndarray,
              alpha: Sequence | None = None):
        """Sound upper bounds of ``c . f(x) + d`` over every box, for functionals given as
        floats ``cf`` ``(F, O)`` or ``(B, F, O)`` and ``df`` ``(F,)`` or ``(B, F)`` within ``ec``,
        ``ed`` of the exact ``c``, ``d`` (:func:`float_and_error`).  Returns the bounds
        ``(B, F)`` and the linear bounds ``row . x + const`` they maximise (``(B, F, D)``,
        ``(B, F)``: rigorous for x in the box).  ``alpha``: lower slopes (:meth:`backward`)."""
        nb = len(b.lo)
        with np.errstate(all="ignore"):
            lx, cx = self.backward(b, len(self.layers) - 1, cf * self.out_scale, alpha)
            # the rounding of c and d, charged through |y|
            ymag = np.maximum(np.abs(b.out_lo[-1]), np.abs(b.out_hi[-1]))
            ecs = np.broadcast_to(ec * self.out_scale, (nb,) + cf.shape[-2:])
            err = np.einsum("bfo,bo->bf", ecs, ymag) + ed
            cx = _up(cx + df + err * SAFETY + U * np.abs(df))
        return self.box_max(lx, cx, b.lo, b.hi), lx, cx


def _active(lo: np.ndarray, hi: np.ndarray, off: np.ndarray | None) -> np.ndarray:
    """Two-piece units on piece 1: ``lo >= 0``, except a unit with the phase ``h <= 0``
    (``off``), which takes piece 0 wherever its bounds allow (``hi <= 0``: the clamp holds it
    at exactly 0 there), as the checker does with a unit pinned at 0 by its phase."""
    act = lo >= 0
    return act if off is None else act & ~(off & (hi <= 0))


def _up_sum(v: np.ndarray) -> np.ndarray:
    """An upper bound of a value that a few float additions rounded to ``v``."""
    return _up(v + 4 * U * np.abs(v) + TINY)


def _rowdot(X: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``X[b, m, :] . v[b, :]`` for every b, m."""
    return np.matmul(X, v[:, :, None])[:, :, 0]


def float_and_error(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """The nearest floats of exact numbers and bounds of their distances to them."""
    f = np.array([float(v) for v in np.asarray(values, dtype=object).ravel()]).reshape(np.shape(values))
    return f, U * np.abs(f) + 2.0 ** -1074


def _stack(parents: Sequence[FloatBounds | None], name: str, li: int, fill: float, size: int) -> np.ndarray:
    return np.stack([getattr(p, name)[li] if p is not None else np.full(size, fill) for p in parents])


def _phase_masks(layers: list, phases: Sequence[dict], nb: int) -> dict:
    """Per layer with phases: boolean (B, K) arrays of the units fixed to ``h >= 0`` and ``h <= 0``."""
    masks: dict = {}
    for i, ph in enumerate(phases):
        for (l, k), side in ph.items():
            if l not in masks:
                K = layers[l].K
                masks[l] = (np.zeros((nb, K), dtype=bool), np.zeros((nb, K), dtype=bool))
            masks[l][0 if side else 1][i, k] = True
    return masks


def _clamp(lo: np.ndarray, hi: np.ndarray, mask: tuple) -> tuple[np.ndarray, np.ndarray]:
    on, off = mask
    return np.where(on, np.maximum(lo, 0.0), lo), np.where(off, np.minimum(hi, 0.0), hi)
