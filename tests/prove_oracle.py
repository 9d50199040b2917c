"""A brute-force exact oracle for small ReLU MLPs on a box, for the tests of ``em.prove``.

Independent of exactmaso: this module imports nothing from it and works on plain lists of
``fractions.Fraction``.

Network.  ``(Ws, bs)``: ``Ws[l]`` is a list of rows (``out x in``), ``bs[l]`` a list of
offsets; ``x -> relu(W_0 x + b_0) -> ... -> W_L z + b_L``, the last layer affine.

Method.  An activation pattern fixes, for every hidden unit, a sign of its pre-activation.
Given the pattern of the earlier layers, a pre-activation is an exact affine function of
``x``, so the closed set of a pattern, ``{x in box : h_k(x) >= 0 for active k, <= 0 for
inactive k}``, is a polytope on which the network *is* the pattern's affine map (ReLU equals
its chosen piece wherever the sign holds, ties included).  These sets cover the box.  Their
vertices are found by brute force: every ``D``-subset of the constraints is solved exactly
(Gauss-Jordan in Fractions) and its solution kept when it satisfies every constraint.  A
linear function's max over a polytope is attained at a vertex, so the max of any affine
function of the outputs over the box is the max over the pattern sets of their vertices.
Patterns are grown one unit at a time, and a partial pattern whose set is empty (no vertex:
it is bounded) ends its branch: no extension of an empty set is non-empty, so every pattern
is still accounted for.

Nearest adversarial points.  On a pattern set cut by ``y_j >= y_label`` (one more linear
constraint) the distance from ``x0`` is minimised directly: for norms inf and 1, the norm is
linear on each of finitely many cones around ``x0`` (:func:`norm_pieces`), so the minimum is
at a vertex of (set, cone); for norm 2, the nearest point is the projection of ``x0`` onto the
affine hull of some face, so every set of at most ``D`` constraints taken as equalities is
projected onto and the feasible projections are kept (:func:`squared_distance_to_polytope`).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations, product
from typing import Iterator, Sequence

try:  # the exact Gauss-Jordan solve of the regions oracle (which imports nothing from exactmaso either)
    from oracle import solve
except ImportError:  # pragma: no cover - run from the repository root as a package
    from tests.oracle import solve  # type: ignore[no-redef]

__all__ = ["Q", "forward", "affine_layers", "PatternSet", "pattern_sets", "stack", "solve", "rank", "vertices",
           "norm_pieces", "squared_distance_to_polytope", "nearest_adversarial", "distance",
           "not_strictly_on_top"]


def Q(v) -> Fraction:
    """A Fraction from an int, a Fraction or a string such as ``"1/3"``."""
    return Fraction(v)


def forward(Ws: Sequence, bs: Sequence, x: Sequence) -> list[Fraction]:
    """The exact forward pass of the ReLU MLP ``(Ws, bs)`` at ``x``."""
    z = [Q(v) for v in x]
    last = len(Ws) - 1
    for l, (W, b) in enumerate(zip(Ws, bs)):
        h = [sum((Q(w) * v for w, v in zip(row, z)), Q(c)) for row, c in zip(W, b)]
        z = h if l == last else [max(v, Fraction(0)) for v in h]
    return z


def rank(rows: Sequence[Sequence[Fraction]]) -> int:
    """The exact rank of a list of vectors."""
    A = [[Q(v) for v in row] for row in rows]
    rk, ncol = 0, len(A[0]) if A else 0
    for col in range(ncol):
        piv = next((i for i in range(rk, len(A)) if A[i][col] != 0), None)
        if piv is None:
            continue
        A[rk], A[piv] = A[piv], A[rk]
        for i in range(rk + 1, len(A)):
            f = A[i][col] / A[rk][col]
            A[i] = [a - f * c for a, c in zip(A[i], A[rk])]
        rk += 1
    return rk


def vertices(cons: Sequence[tuple[list[Fraction], Fraction]], D: int,
              cache: dict | None = None) -> list[tuple[Fraction, ...]]:
    """Every vertex of ``{x : a . x <= c for (a, c) in cons}`` (bounded), by brute force.

    ``cache`` maps a set of hyperplanes to the solution of their system (None if singular):
    the sets of one network share most of their hyperplanes."""
    cache = {} if cache is None else cache
    planes = [_plane(a, c) for a, c in cons]
    found = set()
    for sub in combinations(range(len(cons)), D):
        key = frozenset(planes[i] for i in sub)
        if key not in cache:
            cache[key] = solve([cons[i][0] for i in sub], [cons[i][1] for i in sub]) if len(key) == D else None
        x = cache[key]
        if x is None:
            continue
        if all(sum((a * v for a, v in zip(row, x)), Fraction(0)) <= c for row, c in cons):
            found.add(tuple(x))
    return sorted(found)


def _plane(a: Sequence[Fraction], c: Fraction) -> tuple[Fraction, ...]:
    """The hyperplane ``a . x = c`` as a key: scaled so that its first non-zero entry is 1."""
    lead = next((v for v in a if v != 0), None)
    if lead is None:
        return (Fraction(0),) * len(a) + (Fraction(c),)
    return tuple(v / lead for v in a) + (Fraction(c) / lead,)


@dataclass(frozen=True)
class PatternSet:
    """The closed set of one activation pattern: its constraints ``(a, c)`` meaning
    ``a . x <= c`` (the box's, then the pattern's), its vertices, and the network's affine map
    ``x -> A x + c`` there (``A`` a list of output rows)."""

    pattern: tuple
    constraints: list
    vertices: list
    A: list
    c: list

    def is_full(self, D: int) -> bool:
        """Does the set have an interior (its vertices span ``D`` dimensions)?"""
        if len(self.vertices) <= D:
            return False
        v0 = self.vertices[0]
        return rank([[a - b for a, b in zip(v, v0)] for v in self.vertices[1:]]) == D

    def value(self, x: Sequence[Fraction]) -> list[Fraction]:
        return [sum((a * v for a, v in zip(row, x)), c) for row, c in zip(self.A, self.c)]


def affine_layers(Ws: Sequence, bs: Sequence, pattern: Sequence[Sequence[int]], D: int):
    """The pre-activations of layers ``0 .. len(pattern)`` as affine maps of ``x``
    ``(rows, offsets)``, under ``pattern`` (one 0/1 tuple for each of the first hidden layers);
    with a tuple for every hidden layer, the last map is the network's output."""
    A = [[Fraction(int(i == j)) for j in range(D)] for i in range(D)]
    c = [Fraction(0)] * D
    maps = []
    for l, (W, b) in enumerate(zip(Ws[:len(pattern) + 1], bs)):
        HA = [[sum((Q(w) * A[k][j] for k, w in enumerate(row)), Fraction(0)) for j in range(D)] for row in W]
        Hc = [sum((Q(w) * c[k] for k, w in enumerate(row)), Q(off)) for row, off in zip(W, b)]
        maps.append((HA, Hc))
        if l < len(pattern):
            A = [row if on else [Fraction(0)] * D for row, on in zip(HA, pattern[l])]
            c = [v if on else Fraction(0) for v, on in zip(Hc, pattern[l])]
    return maps


def pattern_sets(Ws: Sequence, bs: Sequence, lo: Sequence, hi: Sequence,
                 rows: Sequence = ()) -> Iterator[PatternSet]:
    """Every non-empty pattern set of the box ``[lo, hi]`` (cut by ``rows``, pairs ``(a, c)``
    meaning ``a . x <= c``), with its vertices and affine map."""
    D = len(lo)
    box = []
    for j in range(D):
        e = [Fraction(int(i == j)) for i in range(D)]
        box.append((e, Q(hi[j])))
        box.append(([-v for v in e], -Q(lo[j])))
    box += [([Q(v) for v in a], Q(c)) for a, c in rows]
    widths = [len(W) for W in Ws[:-1]]

    cache: dict = {}

    def grow(prefix: tuple, bits: tuple, cons: list, verts: list) -> Iterator[PatternSet]:
        """Extend the pattern ``prefix`` (whole layers) and ``bits`` (the first units of the
        next layer) one unit at a time, dropping empty sets as soon as they appear."""
        l = len(prefix)
        HA, Hc = affine_layers(Ws, bs, prefix, D)[l]
        if l == len(widths):
            yield PatternSet(prefix, cons, verts, HA, Hc)
            return
        if len(bits) == widths[l]:
            yield from grow(prefix + (bits,), (), cons, verts)
            return
        k = len(bits)
        for on in (0, 1):
            # active: h >= 0, i.e. -row . x <= off; inactive: h <= 0, i.e. row . x <= -off
            extra = ([-v for v in HA[k]], Hc[k]) if on else (list(HA[k]), -Hc[k])
            new = cons + [extra]
            new_verts = vertices(new, D, cache)
            if new_verts:
                yield from grow(prefix, bits + (on,), new, new_verts)

    yield from grow((), (), box, vertices(box, D, cache))


def stack(f: tuple, g: tuple) -> tuple:
    """The network ``x -> (f(x), g(x))`` of two MLPs of the same depth and input size:
    the first layers one above the other, the later ones block-diagonal."""
    (Wf, bf), (Wg, bg) = f, g
    if len(Wf) != len(Wg):
        raise ValueError("stack needs two MLPs of the same depth")
    Ws, bs = [[list(r) for r in Wf[0]] + [list(r) for r in Wg[0]]], [list(bf[0]) + list(bg[0])]
    for l in range(1, len(Wf)):
        nf, ng = len(Wf[l][0]), len(Wg[l][0])
        Ws.append([list(r) + [0] * ng for r in Wf[l]] + [[0] * nf + list(r) for r in Wg[l]])
        bs.append(list(bf[l]) + list(bg[l]))
    return Ws, bs


# -- the nearest point where the arg-max class changes ------------------------------------
def distance(x: Sequence, x0: Sequence, norm) -> Fraction:
    """``||x - x0||`` in norm ``"inf"``, 1 or 2 (squared for norm 2, so that it stays rational)."""
    d = [Q(a) - Q(b) for a, b in zip(x, x0)]
    if norm == "inf":
        return max(abs(v) for v in d)
    if norm == 1:
        return sum(abs(v) for v in d)
    return sum(v * v for v in d)


def not_strictly_on_top(y: Sequence, label: int) -> bool:
    """Whether class ``label`` fails to be strictly the largest output (ties count as a change)."""
    return any(y[j] >= y[label] for j in range(len(y)) if j != label)


def norm_pieces(x0: Sequence, norm) -> list:
    """The norm ``||x - x0||`` (inf or 1) as linear pieces: ``(constraints, (g, g0))`` where on
    the polytope of the constraints the norm is ``g . x + g0``; the pieces cover the space."""
    D = len(x0)
    x0 = [Fraction(v) for v in x0]
    e = [[Fraction(int(i == j)) for j in range(D)] for i in range(D)]
    pieces = []
    if norm == 1:
        for sig in product((1, -1), repeat=D):
            cons = [([-s * v for v in e[i]], -s * x0[i]) for i, s in enumerate(sig)]  # s (x_i - x0_i) >= 0
            g = [Fraction(s) for s in sig]
            pieces.append((cons, (g, -sum(s * c for s, c in zip(sig, x0)))))
        return pieces
    for i in range(D):
        for s in (1, -1):
            lead = [Fraction(s) * v for v in e[i]]  # the largest |x_k - x0_k| is s (x_i - x0_i) >= 0
            cons = [([-v for v in lead], -s * x0[i])]
            for k in range(D):
                if k != i:
                    for t in (1, -1):  # t (x_k - x0_k) <= s (x_i - x0_i)
                        cons.append(([t * a - b for a, b in zip(e[k], lead)], t * x0[k] - s * x0[i]))
            pieces.append((cons, (lead, -s * x0[i])))
    return pieces


def squared_distance_to_polytope(x0: Sequence, cons: Sequence) -> Fraction | None:
    """min |x - x0|^2 over ``{a . x <= c}`` (None if empty): the nearest point is the projection of x0 onto the
    affine hull of some face, so try every set of at most D constraints as equalities and keep
    the feasible projections."""
    D = len(x0)
    x0 = [Fraction(v) for v in x0]
    best = None
    for k in range(D + 1):
        for sub in combinations(range(len(cons)), k):
            A = [cons[i][0] for i in sub]
            # x = x0 - A^T y with (A A^T) y = A x0 - c
            G = [[sum((a * b for a, b in zip(r1, r2)), Fraction(0)) for r2 in A] for r1 in A]
            y = solve(G, [sum((a * v for a, v in zip(A[i], x0)), Fraction(0)) - cons[sub[i]][1] for i in range(k)])
            if y is None:
                continue
            x = [v - sum((y[i] * A[i][j] for i in range(k)), Fraction(0)) for j, v in enumerate(x0)]
            if all(sum((a * v for a, v in zip(row, x)), Fraction(0)) <= c for row, c in cons):
                d = sum(((a - b) ** 2 for a, b in zip(x, x0)), Fraction(0))
                best = d if best is None else min(best, d)
    return best


def nearest_adversarial(Ws: Sequence, bs: Sequence, x0: Sequence, norm,
                        R) -> tuple[int, Fraction | None]:
    """``(label, d)``: the arg-max class at ``x0`` (ties to the lowest index) and the least
    ``||x - x0||`` (squared for norm 2) over the box of radius ``R`` around ``x0`` where the
    label is not strictly on top (None if there is no such point): the argument of the
    module docstring, once per pattern set and other class ``j``, on the set cut by
    ``y_j >= y_label``.  Norms inf and 1: on every pattern set, class and piece of the norm
    the objective is linear, so its minimum is at a vertex of (set, margin >= 0, piece).
    Norm 2: the distance to each (set, margin >= 0) polytope."""
    D = len(x0)
    y0 = forward(Ws, bs, x0)
    label = max(range(len(y0)), key=lambda j: (y0[j], -j))
    lo, hi = [Fraction(v) - R for v in x0], [Fraction(v) + R for v in x0]
    vals = []
    for s in pattern_sets(Ws, bs, lo, hi):
        for j in range(len(y0)):
            if j == label:
                continue
            # y_j >= y_label: (A_label - A_j) x <= c_j - c_label
            margin = ([a - b for a, b in zip(s.A[label], s.A[j])], s.c[j] - s.c[label])
            if norm == 2:
                vals.append(squared_distance_to_polytope(x0, s.constraints + [margin]))
                continue
            for cons, (g, g0) in norm_pieces(x0, norm):
                vals += [sum((a * b for a, b in zip(g, v)), g0) for v in vertices(s.constraints + [margin] + cons, D)]
    vals = [v for v in vals if v is not None]
    return label, min(vals) if vals else None
