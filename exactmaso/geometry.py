"""Exact volumes of polytopes given by their vertices and vertex-facet incidences.

The polytope is triangulated by pulling: the lowest vertex of a face is its apex, and every
facet of the face that misses the apex is triangulated recursively (the facets of a face are
the maximal proper intersections with the polytope's other facets, as vertex bit masks) and
coned to it.  The volume is the sum over the simplices of ``|det| / D!`` in homogeneous
integer coordinates (vertex ``i`` is ``H[i][:D] / H[i][D]``), so no common denominator is
formed.  Works in any dimension and for non-simple (degenerate) polytopes; the cost grows
with the number of simplices (beyond about D = 6 it becomes slow, but stays exact).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Sequence

import flint
import numpy as np

__all__ = ["pulling_triangulation", "homogeneous_volume", "volume_from_incidence"]


def pulling_triangulation(n_vertices: int, facet_masks: Sequence[int], dim: int) -> list[tuple[int, ...]]:
    """Simplices (tuples of dim + 1 vertex indices) of a pulling triangulation.

    ``facet_masks`` holds, for each facet, the bit mask of the vertices on it.
    """
    facets = list(facet_masks)
    memo: dict[int, list[tuple[int, ...]]] = {}

    def faces_of(F: int) -> list[int]:
        cands = {F & s for s in facets if F & s != F}
        cands.discard(0)
        return [G for G in cands if not any(H != G and H & G == G for H in cands)]

    def tri(F: int, k: int) -> list[tuple[int, ...]]:
        if F in memo:
            return memo[F]
        apex_bit = F & -F
        apex = apex_bit.bit_length() - 1
        if k == 0:
            out = [(apex,)]
        else:
            out = []
            for G in faces_of(F):
                if not G & apex_bit:
                    out.extend(s + (apex,) for s in tri(G, k - 1))
        memo[F] = out
        return out

    return tri((1 << n_vertices) - 1, dim)


def _det(M: Sequence[Sequence[int]]) -> int:
    n = len(M)
    if n == 1:
        return M[0][0]
    if n == 2:
        return M[0][0] * M[1][1] - M[0][1] * M[1][0]
    if n == 3:
        (a, b, c), (d, e, f), (g, h, i) = M
        return a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
    return int(flint.fmpz_mat([list(r) for r in M]).det())


def homogeneous_volume(H: Sequence[Sequence[int]], facet_masks: Sequence[int], dim: int) -> Fraction:
    """Exact volume from homogeneous integer vertices ``H`` (``H[i][dim] > 0``) and facet masks.

    Sum over the simplices of ``|det [X_i t_i]| / prod t_i / dim!``.
    """
    terms = []
    for simplex in pulling_triangulation(len(H), facet_masks, dim):
        den = 1
        for i in simplex:
            den *= H[i][dim]
        terms.append(flint.fmpq(abs(_det([H[i] for i in simplex])), den))
    if not terms:
        return Fraction(0)
    while len(terms) > 1:  # pairwise: keeps the intermediate denominators balanced
        terms = [terms[k] + terms[k + 1] for k in range(0, len(terms) - 1, 2)] + terms[len(terms) & ~1:]
    total = terms[0]
    return Fraction(int(total.p), int(total.q) * math.factorial(dim))


def volume_from_incidence(V: np.ndarray, F: np.ndarray) -> Fraction:
    """Exact volume of the polytope with exact vertices ``V`` (n, D) and incidence ``F`` (n, f).

    Column ``j`` of ``F`` marks the vertices of facet ``j``; the columns must be the facets.
    """
    n, D = V.shape
    if D == 1:
        xs = [V[i, 0] for i in range(n)]
        return max(xs) - min(xs)
    H = []
    for row in V:
        den = 1
        for v in row:
            den = den * v.denominator // math.gcd(den, v.denominator)
        H.append(tuple(v.numerator * (den // v.denominator) for v in row) + (den,))
    masks = [sum(1 << int(i) for i in np.flatnonzero(F[:, j])) for j in range(F.shape[1])]
    return homogeneous_volume(H, masks, D)
