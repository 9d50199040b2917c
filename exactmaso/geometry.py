"""Exact volumes of polytopes given by vertices and vertex-facet incidences.

The polytope is triangulated by pulling: pick the first vertex ``v0``; every facet that does
not hold ``v0`` is triangulated recursively (its own facets are the maximal intersections
with the other facets) and coned to ``v0``.  The volume is the sum of ``|det| / D!`` over the
simplices, computed exactly with FLINT rationals.  Works in any dimension and for
non-simple (degenerate) polytopes; the cost grows with the number of simplices.
"""

from __future__ import annotations

import math
from fractions import Fraction

import flint
import numpy as np

__all__ = ["volume_from_incidence", "pulling_triangulation"]


def _subfaces(face: frozenset, faces: list[frozenset], k: int) -> list[frozenset]:
    """The (k-1)-faces of a k-face ``face``: maximal proper intersections with the other faces."""
    cands = {face & g for g in faces if g != face}
    cands = [c for c in cands if len(c) >= k and c != face]
    cands.sort(key=len, reverse=True)
    out: list[frozenset] = []
    for c in cands:
        if not any(c < o for o in out) and c not in out:
            out.append(c)
    return out


def pulling_triangulation(n_vertices: int, facets: list[frozenset], dim: int) -> list[tuple[int, ...]]:
    """Simplices (tuples of dim + 1 vertex indices) of a pulling triangulation."""

    def rec(S: frozenset, faces: list[frozenset], k: int) -> list[tuple[int, ...]]:
        if k == 1:
            return [tuple(sorted(S))]
        v0 = min(S)
        out = []
        for f in faces:
            if v0 in f:
                continue
            sub = _subfaces(f, faces, k - 1) if k - 1 >= 2 else []
            for simplex in rec(f, sub, k - 1):
                out.append((v0,) + simplex)
        return out

    if dim == 0:
        return [(0,)]
    return rec(frozenset(range(n_vertices)), list(facets), dim)


def volume_from_incidence(V: np.ndarray, F: np.ndarray) -> Fraction:
    """Exact volume of the polytope with exact vertices ``V`` (n, D) and incidence ``F`` (n, f).

    Column ``j`` of ``F`` marks the vertices of facet ``j``; the columns must be the facets.
    """
    n, D = V.shape
    facets = [frozenset(np.flatnonzero(F[:, j]).tolist()) for j in range(F.shape[1])]
    if D == 1:
        xs = [V[i, 0] for i in range(n)]
        return max(xs) - min(xs)
    Q = [[flint.fmpq(v.numerator, v.denominator) for v in row] for row in V]
    total = flint.fmpq(0)
    for s in pulling_triangulation(n, facets, D):
        base = Q[s[0]]
        mat = flint.fmpq_mat([[Q[i][j] - base[j] for j in range(D)] for i in s[1:]])
        d = mat.det()
        total += d if d >= 0 else -d
    total /= math.factorial(D)
    return Fraction(int(total.p), int(total.q))
