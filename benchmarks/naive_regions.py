"""A naive baseline for linear-region counting: one LP per candidate code, layer by layer.

This is the reference point of ``benchmarks/bench_regions.py`` (issue 3); it is *not* part of
exactmaso and gives no guarantee.  Float arithmetic only.

Algorithm
---------
Start with the domain box as the only cell.  For each nonlinear layer ``l`` (a MASO with
``R >= 2`` pieces per unit) and each cell of layer ``l - 1`` (a polytope in input space, kept as
the list of all half-spaces met so far, redundant ones included, together with the affine map
``x -> P x + q`` that gives the layer's input on the cell), the units of layer ``l`` are taken one
at a time: every current sub-cell is split into the ``R`` candidate sub-cells "piece r is the
arg-max" (``R - 1`` half-spaces each; for ReLU: ``h <= 0`` and ``h >= 0``), and each candidate
is kept iff it is full-dimensional, decided by one Chebyshev-centre LP per candidate:

    maximise rho  s.t.  a_i . x + ||a_i|| rho <= b_i   (rows normalised to unit norm)

and "full-dimensional" means rho > ``RADIUS_TOL`` (1e-9).  The LPs go to HiGHS through highspy,
one reused ``Highs`` object, presolve off, one thread, a fresh ``passModel`` per LP (no warm
start).  A unit whose pre-activation is constant on the cell (gradient below ``ZERO_TOL``)
is decided by the sign of the constant, without an LP.  Trailing affine layers (``R = 1``) do
not split.

Usage::

    from naive_regions import naive_count_regions
    n, stats = naive_count_regions(net, lo, hi)      # stats: {"lps": ..., "seconds": ...}
"""

from __future__ import annotations

import os
import time
from typing import Any, Sequence

import numpy as np

RADIUS_TOL = 1e-9
ZERO_TOL = 1e-12

__all__ = ["naive_count_regions", "ChebyshevLP", "RADIUS_TOL"]


class ChebyshevLP:
    """One reused HiGHS object answering "is {x : A x <= b} full-dimensional?"."""

    def __init__(self) -> None:
        import highspy

        # the first Highs() prints a banner even when silenced: swallow it at the fd level
        fd = os.dup(1)
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 1)
                self.h = highspy.Highs()
                self.h.setOptionValue("output_flag", False)
        finally:
            os.dup2(fd, 1)
            os.close(fd)
        self.h.setOptionValue("presolve", "off")
        self.h.setOptionValue("threads", 1)
        self._opt = highspy.HighsModelStatus.kOptimal
        self._infeasible = highspy.HighsModelStatus.kInfeasible
        self.count = 0

    def radius(self, A: np.ndarray, b: np.ndarray) -> float:
        """Chebyshev radius of {x : A x <= b} (rows normalised here); -inf when empty.

        Variables (x_1 .. x_D, rho); maximise rho.  ``A`` must bound the set (it always holds
        the domain box here).
        """
        m, D = A.shape
        norms = np.sqrt((A * A).sum(axis=1))
        An = A / norms[:, None]
        bn = b / norms
        n = D + 1
        M = np.empty((m, n))
        M[:, :D] = An
        M[:, D] = 1.0
        cost = np.zeros(n)
        cost[D] = -1.0  # minimise -rho
        inf = np.inf
        col_lo = np.full(n, -inf)
        col_hi = np.full(n, inf)
        row_lo = np.full(m, -inf)
        row_hi = np.ascontiguousarray(bn, dtype=np.float64)
        a_start = (np.arange(m, dtype=np.int32) * n).astype(np.int32)
        a_index = np.tile(np.arange(n, dtype=np.int32), m)
        a_value = np.ascontiguousarray(M.ravel())
        integrality = np.zeros(n, np.int32)  # full length: an empty array reads garbage
        h = self.h
        h.clearSolver()
        h.passModel(n, m, m * n, 2, 1, 0.0, cost, col_lo, col_hi, row_lo, row_hi,
                    a_start, a_index, a_value, integrality)
        h.run()
        self.count += 1
        status = h.getModelStatus()
        if status == self._opt:
            return float(h.getInfo().objective_function_value) * -1.0
        if status == self._infeasible:
            return -np.inf
        raise RuntimeError(f"HiGHS returned {h.modelStatusToString(status)} on a Chebyshev LP")


def _split_unit(lp: ChebyshevLP, A: np.ndarray, b: np.ndarray, G: np.ndarray, g: np.ndarray):
    """Candidate sub-cells of cell (A, b) for one unit with piece values G x + g (R pieces).

    Returns a list of (piece r, A', b') for the full-dimensional candidates.
    """
    R = G.shape[0]
    out = []
    for r in range(R):
        rows, rhs, ok = [], [], True
        for s in range(R):
            if s == r:
                continue
            # piece s - piece r <= 0
            a = G[s] - G[r]
            c = g[s] - g[r]
            if np.sqrt(a @ a) <= ZERO_TOL:
                if c > 0:  # piece s beats r everywhere on the cell
                    ok = False
                    break
                if c == 0 and s < r:  # tie everywhere: lowest index wins
                    ok = False
                    break
                continue  # constraint holds everywhere
            rows.append(a)
            rhs.append(-c)
        if not ok:
            continue
        if not rows:
            out.append((r, A, b))
            continue
        A2 = np.vstack([A, np.array(rows)])
        b2 = np.concatenate([b, np.array(rhs)])
        if lp.radius(A2, b2) > RADIUS_TOL:
            out.append((r, A2, b2))
    return out


def naive_count_regions(net: Any, lo: Sequence[float], hi: Sequence[float], *, time_limit: float | None = None):
    """Count the full-dimensional linear regions of ``net`` on the box [lo, hi] (float LPs).

    Returns ``(count, stats)`` with stats {"lps", "seconds", "per_layer"}; raises
    TimeoutError when ``time_limit`` (seconds) is exceeded.
    """
    t0 = time.perf_counter()
    lo = np.asarray(lo, dtype=np.float64)
    hi = np.asarray(hi, dtype=np.float64)
    D = lo.shape[0]
    lp = ChebyshevLP()
    A0 = np.vstack([np.eye(D), -np.eye(D)])
    b0 = np.concatenate([hi, -lo])
    # a cell: (A, b, P, q) with the current layer input z = P x + q
    cells = [(A0, b0, np.eye(D), np.zeros(D))]
    per_layer = []
    for maso in net.masos:
        F = maso.pieces_float()  # (K, R, n_in + 1)
        K, R, _ = F.shape
        if R == 1:
            cells = [(A, b, None, None) for A, b, _, _ in cells]
            continue
        new_cells = []
        for A, b, P, q in cells:
            # piece values in input space: (K, R, D) slopes and (K, R) offsets
            S = F[:, :, :-1] @ P
            o = F[:, :, :-1] @ q + F[:, :, -1]
            sub = [(A, b, ())]
            for k in range(K):
                nxt = []
                for As, bs, code in sub:
                    for r, A2, b2 in _split_unit(lp, As, bs, S[k], o[k]):
                        nxt.append((A2, b2, code + (r,)))
                sub = nxt
                if time_limit is not None and time.perf_counter() - t0 > time_limit:
                    raise TimeoutError(f"naive baseline exceeded {time_limit} s")
            for As, bs, code in sub:
                sel = np.array(code)
                Ssel = S[np.arange(K), sel]  # (K, D)
                osel = o[np.arange(K), sel]
                new_cells.append((As, bs, Ssel, osel))
        cells = new_cells
        per_layer.append(len(cells))
    return len(cells), {"lps": lp.count, "seconds": time.perf_counter() - t0, "per_layer": per_layer}


if __name__ == "__main__":  # pragma: no cover - quick manual check
    import sys

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from bench_regions import NETWORKS, build_network

    for name in sys.argv[1:] or ["N1"]:
        spec = NETWORKS[name]
        net = build_network(spec["sizes"], spec["seed"])
        n, st = naive_count_regions(net, [-1.0] * spec["sizes"][0], [1.0] * spec["sizes"][0])
        print(name, n, spec["expected"], f"{st['seconds']:.2f} s", st["lps"], "LPs", st["per_layer"])
