"""A small exact simplex: ``max w . x`` over ``{lo <= x <= hi, A x <= b}`` in Fractions.

For the few exact leaves of a search (a box on which every unit's piece is fixed, so the
network is affine there): it returns the exact optimum, an optimal vertex and the optimal
multipliers of the rows ``A x <= b`` (the box is kept as the domain of the Lagrangian, which
is how the checker uses them), or, when the set is empty, multipliers proving it.  Dense
tableau, Bland's rule (no cycling), two phases; sizes are a handful of variables and a few
dozen rows.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Sequence

__all__ = ["LPOutcome", "maximize_over_box"]


class LPOutcome:
    """``status`` "optimal" (``value``, ``x``, ``y``) or "infeasible" (``y`` with
    ``max over the box of y . (b - A x) < 0``)."""

    __slots__ = ("status", "value", "x", "y")

    def __init__(self, status: str, value: Fraction | None, x: tuple | None, y: list[Fraction]) -> None:
        self.status, self.value, self.x, self.y = status, value, x, y


def _pivot(T: list[list[Fraction]], basis: list[int], r: int, c: int) -> None:
    row = T[r]
    p = row[c]
    if p != 1:
        T[r] = row = [v / p for v in row]
    for i, other in enumerate(T):
        if i != r:
            f = other[c]
            if f:
                T[i] = [a - f * b for a, b in zip(other, row)]
    basis[r] = c


def _simplex(T: list[list[Fraction]], basis: list[int], ncols: int) -> bool:
    """Maximise the objective in the last row (stored as -c, so optimal when no entry < 0).
    Returns False when unbounded (cannot happen on a box)."""
    obj = len(T) - 1
    while True:
        c = next((j for j in range(ncols) if T[obj][j] < 0), None)  # Bland: smallest index
        if c is None:
            return True
        best = None
        for i in range(obj):
            a = T[i][c]
            if a > 0:
                ratio = T[i][-1] / a
                if best is None or ratio < best[0] or (ratio == best[0] and basis[i] < basis[best[1]]):
                    best = (ratio, i)
        if best is None:
            return False
        _pivot(T, basis, best[1], c)


def maximize_over_box(w: Sequence[Fraction], lo: Sequence[Fraction], hi: Sequence[Fraction],
                      A: Sequence[Sequence[Fraction]], b: Sequence[Fraction]) -> LPOutcome:
    """Exact ``max w . x`` subject to ``lo <= x <= hi`` and ``A x <= b``."""
    D, m = len(w), len(A)
    # x = lo + u, 0 <= u; rows: A u <= b - A lo (m rows), u_j <= hi_j - lo_j (D rows)
    rows = [list(a) for a in A] + [[Fraction(1) if j == i else Fraction(0) for j in range(D)] for i in range(D)]
    rhs = [bi - sum((aj * l for aj, l in zip(a, lo)), Fraction(0)) for a, bi in zip(A, b)] + [h - l for l, h in zip(lo, hi)]
    n_rows = m + D
    # columns: u (D), slacks (n_rows), artificials (one per negative right-hand side), rhs
    neg = [i for i in range(n_rows) if rhs[i] < 0]
    n_art = len(neg)
    ncols = D + n_rows + n_art
    T: list[list[Fraction]] = []
    basis: list[int] = []
    art_of = {}
    for i in range(n_rows):
        sign = -1 if rhs[i] < 0 else 1
        row = [Fraction(sign) * v for v in rows[i]] + [Fraction(0)] * (n_rows + n_art) + [sign * rhs[i]]
        row[D + i] = Fraction(sign)
        if sign < 0:
            k = len(art_of)
            art_of[i] = D + n_rows + k
            row[D + n_rows + k] = Fraction(1)
            basis.append(D + n_rows + k)
        else:
            basis.append(D + i)
        T.append(row)
    if n_art:
        # phase 1: maximise -(sum of artificials)
        obj = [Fraction(0)] * (ncols + 1)
        for i in neg:
            obj = [o - v for o, v in zip(obj, T[i])]
        for k in range(n_art):
            obj[D + n_rows + k] = Fraction(0)
        T.append(obj)
        _simplex(T, basis, ncols)
        if T[-1][-1] < 0:  # infeasible: the duals of phase 1 are Farkas multipliers
            # reduced costs of the slacks: y >= 0, y^T [A; I] >= 0, y . rhs < 0 (Farkas)
            return LPOutcome("infeasible", None, None, [T[-1][D + i] for i in range(m)])
        T.pop()
        # drive artificials out of the basis where possible, then forget their columns
        for r, bv in enumerate(basis):
            if bv >= D + n_rows:
                c = next((j for j in range(D + n_rows) if T[r][j] != 0), None)
                if c is not None:
                    _pivot(T, basis, r, c)
        T = [row[:D + n_rows] + [row[-1]] for row in T]
        ncols = D + n_rows
    obj = [Fraction(0)] * (ncols + 1)
    for j in range(D):
        obj[j] = -Fraction(w[j])
    for r, bv in enumerate(basis):
        if bv < ncols and obj[bv] != 0:
            f = obj[bv]
            obj = [o - f * v for o, v in zip(obj, T[r])]
    T.append(obj)
    if not _simplex(T, basis, ncols):  # pragma: no cover - a box is bounded
        raise AssertionError("the LP over a box is unbounded")
    u = [Fraction(0)] * D
    for r, bv in enumerate(basis):
        if bv < D:
            u[bv] = T[r][-1]
    x = tuple(l + v for l, v in zip(lo, u))
    value = sum((wi * xi for wi, xi in zip(w, x)), Fraction(0))
    y = [T[-1][D + i] for i in range(m)]  # the reduced costs of the slacks: the row multipliers
    return LPOutcome("optimal", value, x, y)
