"""The triangle LP of a box, solved in floats, as lower slopes for the backward pass.

With every layer's cut bounds fixed (a :class:`~exactmaso.prove.relax.FloatBounds`), the
tightest convex relaxation of a two-piece unit ``y = g0 + relu(h)`` with ``h`` in ``[l, u]``,
``l < 0 < u``, is the triangle ``y >= g0``, ``y >= g1``, ``y <= g0 + s (h - l)``
(``s = u / (u - l)``).  Maximising ``min_i c_i . f + d_i`` over the box and those triangles is
a linear program; its dual is a backward pass (CROWN) in which unit ``k``'s lower line is
``g0 + alpha_k h`` with ``alpha_k = mu_1 / (mu_0 + mu_1)`` (``mu_0``, ``mu_1`` the multipliers
of ``y >= g0`` and ``y >= g1``) and the functionals are combined with the multipliers of their
rows.  So the LP's slopes and weights, put into the rigorous float backward pass
(:meth:`FloatModel.upper` with ``alpha``) and into the exact checker, give the LP's bound
(Salman et al., "A convex relaxation barrier to tight robustness verification of neural
networks", 2019).  The LP only proposes: nothing it returns is trusted without that pass.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..lp import LPSolver
from .checker import ALPHA_BITS
from .relax import FloatBounds, FloatModel

__all__ = ["TriangleLP", "triangle_slopes", "dyadic"]


class TriangleLP:
    """What one call of :func:`triangle_slopes` proposes: the LP's value (a float, not a bound),
    the functionals' weights (>= 0, summing to 1), per layer the lower slopes (``(K,)`` arrays,
    NaN for units the LP leaves free, None for layers without two-piece units), and the LP's
    optimal input point."""

    __slots__ = ("value", "weights", "alpha", "x")

    def __init__(self, value: float, weights: np.ndarray, alpha: list, x: np.ndarray) -> None:
        self.value, self.weights, self.alpha, self.x = value, weights, alpha, x


_SOLVER: LPSolver | None = None


def _highs():
    """This module's own HiGHS object, set up once."""
    global _SOLVER
    if _SOLVER is None:
        _SOLVER = LPSolver()
        h = _SOLVER._get()
        # presolve removes the decided units' rows (4-6x faster than without on ACAS Xu); the
        # primal simplex suits these LPs
        h.setOptionValue("presolve", "on")
        h.setOptionValue("simplex_strategy", 4)
    return _SOLVER._get()


def triangle_slopes(fm: FloatModel, fb: FloatBounds, lo: np.ndarray, hi: np.ndarray, cf: np.ndarray,
                    df: np.ndarray) -> TriangleLP | None:
    """Solve ``max t  s.t.  t <= cf_i . y + df_i`` (``y`` the network's rescaled float outputs,
    ``cf`` already rescaled, ``(F, O)``) over the box ``[lo, hi]`` and the triangle relaxation
    of ``fb``'s bounds.  None when the network has units of three or more pieces or HiGHS does
    not report an optimum."""
    import highspy

    if any(L.R > 2 for L in fm.layers):
        return None
    inf = highspy.kHighsInf
    D = fm.D
    offs, nv = [], D
    for L in fm.layers:
        offs.append(nv)
        nv += L.K
    t = nv
    nv += 1
    I, J, V, rlo, rhi = [], [], [], [], []
    meta = []
    r0 = 0
    prev = np.arange(D)

    def block(rows, A, ycols, ysign):
        K, n = A.shape
        I.append(np.repeat(rows, n))
        J.append(np.tile(prev, K))
        V.append(A.ravel())
        I.append(rows)
        J.append(ycols)
        V.append(np.full(K, ysign))

    with np.errstate(all="ignore"):
        for li, L in enumerate(fm.layers):
            K = L.K
            ycols = offs[li] + np.arange(K)
            if L.R == 1:  # y - A z = B
                rows = r0 + np.arange(K)
                block(rows, -L.A[:, 0], ycols, 1.0)
                rlo.append(L.B[:, 0])
                rhi.append(L.B[:, 0])
                meta.append(None)
                r0 += K
            else:
                l, u = fb.cut_lo[li], fb.cut_hi[li]
                act, dead = l >= 0, u <= 0
                unst = ~(act | dead)
                s = np.where(unst, u / np.where(unst, u - l, 1.0), 0.0)
                A0, A1, B0, B1 = L.A[:, 0], L.A[:, 1], L.B[:, 0], L.B[:, 1]
                ra = r0 + np.arange(K)
                rb, rc = ra + K, ra + 2 * K
                block(ra, A0, ycols, -1.0)  # g0 - y <= 0 (= 0 where dead)
                block(rb, A1, ycols, -1.0)  # g1 - y <= 0 (= 0 where active)
                block(rc, -((1 - s)[:, None] * A0 + s[:, None] * A1), ycols, 1.0)  # y <= g0 + s (h - l)
                rlo += [np.where(dead, -B0, -inf), np.where(act, -B1, -inf), np.full(K, -inf)]
                rhi += [np.where(act, inf, -B0), np.where(dead, inf, -B1),
                        np.where(unst, (1 - s) * B0 + s * B1 - s * np.where(unst, l, 0.0), inf)]
                meta.append((unst, ra, rb))
                r0 += 3 * K
            prev = ycols
        F = len(cf)
        rt = r0 + np.arange(F)
        block(rt, -np.asarray(cf, dtype=float), np.full(F, t), 1.0)  # t - cf_i . y <= df_i
        rlo.append(np.full(F, -inf))
        rhi.append(np.asarray(df, dtype=float))
        r0 += F
    rlo_a, rhi_a = np.concatenate(rlo), np.concatenate(rhi)
    if not (np.isfinite(lo).all() and np.isfinite(hi).all()) or np.isnan(rlo_a).any() or np.isnan(rhi_a).any():
        return None
    M = sp.csc_matrix((np.concatenate(V), (np.concatenate(I), np.concatenate(J))), shape=(r0, nv))
    M.eliminate_zeros()
    if not np.isfinite(M.data).all():
        return None
    cost = np.zeros(nv)
    cost[t] = -1.0
    h = _highs()
    h.clearSolver()
    h.passModel(nv, r0, M.nnz, int(highspy.MatrixFormat.kColwise), int(highspy.ObjSense.kMinimize), 0.0,
                cost, np.concatenate([lo, np.full(nv - D, -inf)]), np.concatenate([hi, np.full(nv - D, inf)]),
                np.clip(rlo_a, -inf, inf), np.clip(rhi_a, -inf, inf),
                M.indptr.astype(np.int32), M.indices.astype(np.int32), M.data, np.zeros(nv, np.int32))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    sol = h.getSolution()
    rd = np.abs(np.asarray(sol.row_dual, dtype=float))
    w = rd[rt]
    if not np.isfinite(w).all() or w.sum() <= 0:
        return None
    alpha = []
    for m in meta:
        if m is None:
            alpha.append(None)
            continue
        unst, ra, rb = m
        a, b = rd[ra], rd[rb]
        with np.errstate(all="ignore"):
            al = np.where(unst & (a + b > 0), b / (a + b), np.nan)
        alpha.append(dyadic(al))
    x = np.asarray(sol.col_value, dtype=float)[:D]
    return TriangleLP(-h.getInfo().objective_function_value, w / w.sum(), alpha, x)


def dyadic(a: np.ndarray) -> np.ndarray:
    """Slopes rounded to multiples of ``2**-ALPHA_BITS`` in [0, 1] (NaN kept): exact floats the
    checker reads as the integers ``a * 2**ALPHA_BITS``."""
    scale = float(1 << ALPHA_BITS)
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(a), np.clip(np.round(a * scale), 0.0, scale) / scale, np.nan)
