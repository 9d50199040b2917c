"""Rigorous float bound propagation: interval and backward linear (CROWN-style) bounds.

Every bound computed here is *sound*: it holds for the exact network, not only for its float
copy.  The float copy is the engines' rescaled one (:func:`exactmaso._engine.float_layers`:
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

from typing import Sequence

import numpy as np

from .._engine import float_layers
from ..maso import Network

__all__ = ["FloatModel", "FloatBounds"]

U = 2.0 ** -53
SAFETY = 1.0 + 1e-9
TINY = 1e-280


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
        self.flat_A, self.flat_B = self.A.reshape(-1, self.n), self.B.reshape(-1)
        self.flat_eA, self.flat_eB = self.eA.reshape(-1, self.n), self.eB.reshape(-1)
        self.gam = _gamma(self.n + 2)
        if R == 2:
            cut = fl.cut if fl.cut is not None else P[:, 1, :]
            self.H, self.Hb = cut[:, :-1], cut[:, -1]
            self.eH, self.eHb = U * np.abs(self.H) + fl.eta, U * np.abs(self.Hb) + fl.eta

    def interval(self, A, b, eA, eb, zl, zh) -> tuple[np.ndarray, np.ndarray]:
        """Sound bounds of the exact rows (within eA, eb of A, b) over the box [zl, zh]."""
        zmag = np.maximum(np.abs(zl), np.abs(zh))
        P, N = np.maximum(A, 0.0), np.minimum(A, 0.0)
        hi = P @ zh + N @ zl + b
        lo = P @ zl + N @ zh + b
        err = (self.gam * (np.abs(A) @ zmag + np.abs(b)) + eA @ zmag + eb) * SAFETY + TINY
        return _down(lo - err), _up(hi + err)


class FloatBounds:
    """Per layer: bounds of the cut quantities and of the outputs (in the rescaled units)."""

    __slots__ = ("cut_lo", "cut_hi", "out_lo", "out_hi", "relaxed")

    def __init__(self) -> None:
        self.cut_lo: list[np.ndarray] = []
        self.cut_hi: list[np.ndarray] = []
        self.out_lo: list[np.ndarray] = []
        self.out_hi: list[np.ndarray] = []
        self.relaxed: dict = {}


class FloatModel:
    """The network's float copy and its rigorous bound propagation."""

    def __init__(self, net: Network) -> None:
        fls = float_layers(net)
        self.layers = [_FLayer(fl, m.num_pieces) for fl, m in zip(fls, net.masos)]
        self.out_scale = np.ldexp(1.0, fls[-1].scale.astype(np.int64))
        self.D = net.input_dim

    # -- bounds -------------------------------------------------------------------------
    def bounds(self, lo: np.ndarray, hi: np.ndarray, *, crown: bool = True, parent: FloatBounds | None = None,
               phases: dict | None = None) -> FloatBounds:
        """Sound bounds over the box, intersected with ``parent``'s; ``phases`` maps a unit
        ``(l, k)`` of a two-piece layer to 1 (``h >= 0``) or 0 (``h <= 0``) on the branch."""
        res = FloatBounds()
        zl, zh = lo, hi
        with np.errstate(all="ignore"):
            for li, L in enumerate(self.layers):
                plo, phi = L.interval(L.flat_A, L.flat_B, L.flat_eA, L.flat_eB, zl, zh)
                K, R = L.K, L.R
                if R == 2:
                    clo, chi = L.interval(L.H, L.Hb, L.eH, L.eHb, zl, zh)
                elif R > 2:
                    clo, chi = plo.copy(), phi.copy()
                else:
                    clo = chi = np.zeros(0)
                if parent is not None and R > 1:
                    clo, chi = np.maximum(clo, parent.cut_lo[li]), np.minimum(chi, parent.cut_hi[li])
                if R == 2 and phases:
                    clo, chi = _clamp(li, clo, chi, phases)
                if crown and li > 0 and R > 1:
                    clo, chi = self._crown_cut(li, res, lo, hi, clo, chi)
                    if R == 2 and phases:
                        clo, chi = _clamp(li, clo, chi, phases)
                res.cut_lo.append(clo)
                res.cut_hi.append(chi)
                if R == 1:
                    ylo, yhi = plo, phi
                else:
                    ylo = plo.reshape(K, R).max(axis=1)
                    yhi = phi.reshape(K, R).max(axis=1)
                    if R == 2:  # y = g0 + relu(h), sums rounded outwards
                        ylo = np.maximum(ylo, _down(plo[0::2] + np.maximum(clo, 0)))
                        yhi = np.minimum(yhi, _up(phi[0::2] + np.maximum(chi, 0)))
                if parent is not None:
                    ylo, yhi = np.maximum(ylo, parent.out_lo[li]), np.minimum(yhi, parent.out_hi[li])
                res.out_lo.append(ylo)
                res.out_hi.append(yhi)
                zl, zh = ylo, yhi
        return res

    def undecided(self, b: FloatBounds) -> list[np.ndarray]:
        """Per layer, the units the bounds leave undecided (two-piece: ``l < 0 < u``; more
        pieces: no piece dominates)."""
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

    # -- relaxations and the backward pass ---------------------------------------------
    def _relax(self, li: int, b: FloatBounds):
        """(Alo, clo, Aup, cup, error bounds of each against the exact relaxation)."""
        hit = b.relaxed.get(li)
        if hit is not None:
            return hit
        L = self.layers[li]
        K, R = L.K, L.R
        ar = np.arange(K)
        if R == 1:
            A, c, eA, ec = L.A[:, 0], L.B[:, 0], L.eA[:, 0], L.eB[:, 0]
            hit = (A, c, eA, ec, A, c, eA, ec)
        elif R == 2:
            l, u = b.cut_lo[li], b.cut_hi[li]
            act, dead = l >= 0, u <= 0
            unst = ~(act | dead)
            pick = np.where(act | (unst & (u > -l)), 1, 0)  # the lower line: piece 1 or piece 0
            Alo, clo, eAlo, eclo = L.A[ar, pick], L.B[ar, pick], L.eA[ar, pick], L.eB[ar, pick]
            with np.errstate(all="ignore"):
                s = _up(u / _down(u - l))
            s = np.where(unst, s, 0.0)
            exact_up = ~unst
            upick = np.where(act, 1, 0)
            A0, B0, eA0, eB0 = L.A[:, 0], L.B[:, 0], L.eA[:, 0], L.eB[:, 0]
            Aup = np.where(exact_up[:, None], L.A[ar, upick], A0 + s[:, None] * L.H)
            cup = np.where(exact_up, L.B[ar, upick], B0 + s * (L.Hb - l))
            eAup = np.where(exact_up[:, None], L.eA[ar, upick],
                            2 * U * (np.abs(A0) + s[:, None] * np.abs(L.H)) + eA0 + s[:, None] * L.eH)
            ecup = np.where(exact_up, L.eB[ar, upick],
                            3 * U * (np.abs(B0) + s * (np.abs(L.Hb) + np.abs(l))) + eB0 + s * L.eHb)
            hit = (Alo, clo, eAlo, eclo, Aup, cup, eAup, ecup)
        else:
            pl, ph = b.cut_lo[li].reshape(K, R), b.cut_hi[li].reshape(K, R)
            best = np.argmax(pl + ph, axis=1)
            Alo, clo, eAlo, eclo = L.A[ar, best], L.B[ar, best], L.eA[ar, best], L.eB[ar, best]
            dom = np.zeros((K, R), dtype=bool)
            for r in range(R):
                dom[:, r] = pl[:, r] >= np.delete(ph, r, axis=1).max(axis=1)
            has = dom.any(axis=1)
            r = np.argmax(dom, axis=1)
            Aup = np.where(has[:, None], L.A[ar, r], 0.0)
            cup = np.where(has, L.B[ar, r], ph.max(axis=1))
            eAup = np.where(has[:, None], L.eA[ar, r], 0.0)
            ecup = np.where(has, L.eB[ar, r], 0.0)
            hit = (Alo, clo, eAlo, eclo, Aup, cup, eAup, ecup)
        b.relaxed[li] = hit
        return hit

    def _input_magnitude(self, b: FloatBounds, li: int, lo, hi) -> np.ndarray:
        if li == 0:
            return np.maximum(np.abs(lo), np.abs(hi))
        return np.maximum(np.abs(b.out_lo[li - 1]), np.abs(b.out_hi[li - 1]))

    def backward(self, b: FloatBounds, top: int, lam: np.ndarray, lo, hi) -> tuple[np.ndarray, np.ndarray]:
        """Sound upper bounds of ``lam . y_top`` as ``lam_x . x + const`` (rows of lam)."""
        const = np.zeros(lam.shape[0])
        slack = np.zeros(lam.shape[0])
        with np.errstate(all="ignore"):
            for li in range(top, -1, -1):
                Alo, clo, eAlo, eclo, Aup, cup, eAup, ecup = self._relax(li, b)
                zmag = self._input_magnitude(b, li, lo, hi)
                P, N = np.maximum(lam, 0.0), np.minimum(lam, 0.0)
                aP, aN = P, -N
                gam = _gamma(lam.shape[1] + 2)
                add = P @ cup + N @ clo
                const = const + add
                new = P @ Aup + N @ Alo
                slack = slack + (
                    (aP @ eAup + aN @ eAlo) @ zmag + aP @ ecup + aN @ eclo        # the float relaxations
                    + gam * ((aP @ np.abs(Aup) + aN @ np.abs(Alo)) @ zmag)         # rounding of the new lam
                    + gam * (aP @ np.abs(cup) + aN @ np.abs(clo)) + U * np.abs(const)  # and of the constants
                )
                lam = new
        return lam, _up((const + slack * SAFETY) * (1 + 4 * U) + TINY)

    def _box_max(self, lam: np.ndarray, const: np.ndarray, lo, hi) -> np.ndarray:
        xmag = np.maximum(np.abs(lo), np.abs(hi))
        with np.errstate(all="ignore"):
            val = np.maximum(lam, 0.0) @ hi + np.minimum(lam, 0.0) @ lo + const
            err = _gamma(len(lo) + 2) * (np.abs(lam) @ xmag + np.abs(const)) * SAFETY + TINY
        return _up(val + err)

    def _crown_cut(self, li: int, b: FloatBounds, lo, hi, clo, chi):
        L = self.layers[li]
        if L.R == 2:
            rows, rb, er, erb = L.H, L.Hb, L.eH, L.eHb
            idx = np.flatnonzero((clo < 0) & (chi > 0))
        else:
            rows, rb, er, erb = L.flat_A, L.flat_B, L.flat_eA, L.flat_eB
            idx = np.arange(len(rows))
        if not len(idx):
            return clo, chi
        zmag = self._input_magnitude(b, li, lo, hi)
        # row . z + rb with |row - exact| <= er: the float row's bound plus er . |z| + erb
        extra = (er[idx] @ zmag + erb[idx]) * SAFETY
        lam = np.vstack([rows[idx], -rows[idx]])
        lx, cx = self.backward(b, li - 1, lam, lo, hi)
        up = self._box_max(lx, cx, lo, hi)
        m = len(idx)
        clo, chi = clo.copy(), chi.copy()
        chi[idx] = np.minimum(chi[idx], _up(up[:m] + rb[idx] + extra))
        clo[idx] = np.maximum(clo[idx], _down(-up[m:] + rb[idx] - extra))
        return clo, chi

    def upper(self, b: FloatBounds, c: Sequence, d, lo, hi) -> tuple[float, np.ndarray, float]:
        """A sound upper bound of ``c . f(x) + d`` over the box (``c``, ``d`` exact), and the
        linear bound ``row . x + const`` it maximises (``row``, ``const``: rigorous for x in the box)."""
        cf = np.array([float(v) for v in c])
        with np.errstate(all="ignore"):
            lam = (cf * self.out_scale)[None, :]
            lx, cx = self.backward(b, len(self.layers) - 1, lam, lo, hi)
            # c and d rounded to floats: |c - cf| <= u |cf| (+ underflow), charged through |y|
            ymag = np.maximum(np.abs(b.out_lo[-1]), np.abs(b.out_hi[-1]))
            ec = (U * np.abs(cf) + 1e-300) * self.out_scale
            df = float(d)
            cx = _up(cx + df + (U * abs(df) + 1e-300 + ec @ ymag) * SAFETY)
        return float(self._box_max(lx, cx, lo, hi)[0]), lx[0], float(cx[0])


def _clamp(li: int, lo: np.ndarray, hi: np.ndarray, phases: dict) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = lo.copy(), hi.copy()
    for (l, k), side in phases.items():
        if l == li:
            if side:
                lo[k] = max(lo[k], 0.0)
            else:
                hi[k] = min(hi[k], 0.0)
    return lo, hi
