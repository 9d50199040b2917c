"""Float bound propagation for the search: interval and backward linear (CROWN-style) bounds.

These floats only *propose*: the search uses them to decide where to split and which boxes
look settled, and every box it keeps as settled is re-proved by the exact checker
(:mod:`exactmaso.prove.checker`), which uses the same relaxations in exact arithmetic.  The
float copy is the engines' rescaled one (:func:`exactmaso._engine.float_layers`): unit ``k``
of layer ``l`` outputs ``y / 2**t``, which keeps huge and tiny weights finite.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .._engine import float_layers
from ..maso import Network

__all__ = ["FloatModel", "FloatBounds"]


class _FLayer:
    def __init__(self, fl, R: int) -> None:
        P = fl.pieces  # (K, R, n + 1)
        self.R = R
        self.K, _, n1 = P.shape
        self.n = n1 - 1
        self.A = P[:, :, :-1]
        self.B = P[:, :, -1]
        self.flat_A = self.A.reshape(-1, self.n)
        self.flat_B = self.B.reshape(-1)
        if R == 2:
            cut = fl.cut if fl.cut is not None else P[:, 1, :]
            self.H, self.Hb = cut[:, :-1], cut[:, -1]


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
    """The network's float copy and its bound propagation."""

    def __init__(self, net: Network) -> None:
        fls = float_layers(net)
        self.layers = [_FLayer(fl, m.num_pieces) for fl, m in zip(fls, net.masos)]
        self.out_scale = np.ldexp(1.0, fls[-1].scale.astype(np.int64))
        self.D = net.input_dim

    # -- bounds -------------------------------------------------------------------------
    def bounds(self, lo: np.ndarray, hi: np.ndarray, *, crown: bool = True, parent: FloatBounds | None = None) -> FloatBounds:
        res = FloatBounds()
        zl, zh = lo, hi
        for li, L in enumerate(self.layers):
            plo, phi = _interval(L.flat_A, L.flat_B, zl, zh)
            K, R = L.K, L.R
            if R == 2:
                clo, chi = _interval(L.H, L.Hb, zl, zh)
            elif R > 2:
                clo, chi = plo.copy(), phi.copy()
            else:
                clo = chi = np.zeros(0)
            if parent is not None and R > 1:
                clo, chi = np.maximum(clo, parent.cut_lo[li]), np.minimum(chi, parent.cut_hi[li])
            if crown and li > 0 and R > 1:
                clo, chi = self._crown_cut(li, res, lo, hi, clo, chi)
            res.cut_lo.append(clo)
            res.cut_hi.append(chi)
            if R == 1:
                ylo, yhi = plo, phi
            else:
                ylo = plo.reshape(K, R).max(axis=1)
                yhi = phi.reshape(K, R).max(axis=1)
                if R == 2:
                    ylo = np.maximum(ylo, plo[0::2] + np.maximum(clo, 0))
                    yhi = np.minimum(yhi, phi[0::2] + np.maximum(chi, 0))
            if parent is not None:
                ylo, yhi = np.maximum(ylo, parent.out_lo[li]), np.minimum(yhi, parent.out_hi[li])
            res.out_lo.append(ylo)
            res.out_hi.append(yhi)
            zl, zh = ylo, yhi
        return res

    def unstable(self, b: FloatBounds) -> int:
        """How many two-piece units the bounds leave undecided (units of more pieces count all)."""
        n = 0
        for L, lo, hi in zip(self.layers, b.cut_lo, b.cut_hi):
            if L.R == 2:
                n += int(((lo < 0) & (hi > 0)).sum())
            elif L.R > 2:
                n += L.K
        return n

    # -- relaxations and the backward pass ---------------------------------------------
    def _relax(self, li: int, b: FloatBounds):
        hit = b.relaxed.get(li)
        if hit is not None:
            return hit
        L = self.layers[li]
        if L.R == 1:
            A, c = L.A[:, 0], L.B[:, 0]
            hit = (A, c, A, c)
        elif L.R == 2:
            l, u = b.cut_lo[li], b.cut_hi[li]
            act, dead = l >= 0, u <= 0
            unst = ~(act | dead)
            alpha = np.where(act, 1.0, np.where(dead, 0.0, (u > -l).astype(float)))
            A0, B0 = L.A[:, 0], L.B[:, 0]
            Alo = A0 + alpha[:, None] * L.H
            clo = B0 + alpha * L.Hb
            with np.errstate(all="ignore"):
                s = np.where(unst, u / np.where(unst, u - l, 1.0), alpha)
            Aup = A0 + s[:, None] * L.H
            cup = B0 + s * L.Hb - np.where(unst, s * l, 0.0)
            hit = (Alo, clo, Aup, cup)
        else:
            K, R = L.K, L.R
            pl, ph = b.cut_lo[li].reshape(K, R), b.cut_hi[li].reshape(K, R)
            best = np.argmax(pl + ph, axis=1)
            ar = np.arange(K)
            Alo, clo = L.A[ar, best], L.B[ar, best]
            top2 = np.sort(ph, axis=1)
            others = np.where(ph == top2[:, -1:], top2[:, -2:-1], top2[:, -1:])  # max over the other pieces
            dom = pl >= others
            has = dom.any(axis=1)
            r = np.argmax(dom, axis=1)
            Aup = np.where(has[:, None], L.A[ar, r], 0.0)
            cup = np.where(has, L.B[ar, r], ph.max(axis=1))
            hit = (Alo, clo, Aup, cup)
        b.relaxed[li] = hit
        return hit

    def backward(self, b: FloatBounds, top: int, lam: np.ndarray, const: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Upper bounds ``lam . y_top + const`` substituted down to linear functions of ``x``."""
        for li in range(top, -1, -1):
            Alo, clo, Aup, cup = self._relax(li, b)
            P, N = np.maximum(lam, 0.0), np.minimum(lam, 0.0)
            const = const + P @ cup + N @ clo
            lam = P @ Aup + N @ Alo
        return lam, const

    def _crown_cut(self, li: int, b: FloatBounds, lo, hi, clo, chi):
        L = self.layers[li]
        if L.R == 2:
            rows, rb = L.H, L.Hb
            idx = np.flatnonzero((clo < 0) & (chi > 0))
        else:
            rows, rb = L.flat_A, L.flat_B
            idx = np.arange(len(rows))
        if not len(idx):
            return clo, chi
        lam = np.vstack([rows[idx], -rows[idx]])
        const = np.concatenate([rb[idx], -rb[idx]])
        lx, cx = self.backward(b, li - 1, lam, const)
        up = _box_max(lx, cx, lo, hi)
        m = len(idx)
        clo, chi = clo.copy(), chi.copy()
        chi[idx] = np.minimum(chi[idx], up[:m])
        clo[idx] = np.maximum(clo[idx], -up[m:])
        return clo, chi

    def upper(self, b: FloatBounds, c: Sequence[float], d: float, lo, hi) -> tuple[float, np.ndarray, np.ndarray]:
        """Upper bound of ``c . f(x) + d`` over the box, the linear bound's coefficients over x,
        and the box vertex maximising it (a good place to look for a large value)."""
        lam = (np.asarray(c, dtype=np.float64) * self.out_scale)[None, :]
        lx, cx = self.backward(b, len(self.layers) - 1, lam, np.array([float(d)]))
        row = lx[0]
        vertex = np.where(row > 0, hi, lo)
        return float(_box_max(lx, cx, lo, hi)[0]), row, vertex


def _interval(A: np.ndarray, b: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    P, N = np.maximum(A, 0.0), np.minimum(A, 0.0)
    return P @ lo + N @ hi + b, P @ hi + N @ lo + b


def _box_max(lam: np.ndarray, const: np.ndarray, lo, hi) -> np.ndarray:
    return np.maximum(lam, 0.0) @ hi + np.minimum(lam, 0.0) @ lo + const
