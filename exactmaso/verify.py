"""Independent exact re-check of every claim a partition exposes.

The checker re-derives each claim from the network and the domain alone, in integer and
rational arithmetic: it imports nothing from the enumeration engines, the graph builder or
the volume code, and it reads the partition only through what a user sees (codes, facet
labels and rows, polytopes, points, vertices, affine maps, volumes, the graph and its
``units``) and, for a value not yet computed, through the region's incidence record, which it
treats as a proposal (an engine region's vertices are solved here from the facets its record
says meet there, then checked like any listed vertex).  What it proves, and how
(docs/regions.md, "The certificate", states the same):

For every region with code ``w``, facet rows ``R`` (``a . x + c >= 0``) and vertices ``V``:

1. *Rows.*  Each facet row equals the row its label names, recomputed here: a domain row of
   the user's domain, or ``g_r - g_s`` for unit ``k`` of layer ``l`` under the prefix code
   ``w[:l]`` (exact integer composition of the layers), oriented towards the piece ``w`` takes.
   ``polytope`` holds the same rows.  So ``C(w) subset P``, where ``P = {R >= 0}`` and
   ``C(w)`` is the closed code region of ``w`` in the domain.
2. *Vertices.*  Each ``v`` in ``V`` satisfies every row, is tight on rows of rank ``D`` (a
   vertex of ``P``), and lies in ``C(w)``: every row of the domain holds at ``v`` (also the
   rows the region's facets do not name), and at every unit the piece ``w`` chooses is a
   maximum at ``v``, the layers composed along ``w``.  *Completeness*: from every ``v``,
   every edge of ``P`` (an extreme ray of the cone of its tight rows, followed to the first
   row that stops it) ends at a vertex in ``V``, and none is unbounded.  The graph of a polytope is
   connected, so ``V`` is the vertex set of ``P`` and ``P`` is bounded: ``P = conv(V)``.  As
   ``C(w)`` is convex and holds ``V``, ``P = C(w)``: the rows describe the region exactly.
   Each row is tight on vertices of affine rank ``D - 1`` (a facet), no two on the same ones.
3. *Point.*  The region's point is strictly inside every row and the forward pass gives it
   the code ``w``: ``C(w)`` is full-dimensional and ``w`` is the code of its interior (ties go
   to the lowest piece).  Codes are pairwise distinct, so the regions' interiors are disjoint
   (at the first unit where two codes differ, the two regions lie on opposite sides of one
   hyperplane that is not identically zero, by the tie rule at the points).
4. *Affine map.*  It equals the composition of the layers along ``w``, recomputed here.
5. *Volume.*  The volume of ``conv(V)`` is recomputed here and must equal the region's
   reported volume; the volumes sum to the domain's volume.  With (3), the regions tile the
   domain: none is missing.

For the adjacency graph:

6. *Every edge is real.*  The two regions have facets on one hyperplane, on opposite sides,
   whose intersection has positive (D-1)-volume (computed exactly: one facet clipped by the
   other region's rows); ``units`` is exactly the set of units whose piece differs between
   the two codes (by continuity, those are the units whose boundary holds the face).
7. *No edge is missing.*  For every facet of every region that is not on the domain's
   boundary, the (D-1)-volumes of its intersections with the facets of its graph neighbours
   on the same hyperplane add up to its own (D-1)-volume.  The neighbours' facets have
   disjoint relative interiors (their regions lie on one side), so a region sharing a
   (D-1)-face with this one but missing from the graph would leave part of the facet
   uncovered.

How, in batches (every number exact unless said otherwise; each distinct vertex, facet row,
cell map and facet is computed once, however many regions share it):

- *Maps.*  The pieces of every layer on every cell of the code tree (one cell per distinct
  prefix ``w[:l]``) are composed in integers modulo primes so small that a float64 matrix
  product of balanced residues is exact (``(n + 2) ((p + 3) / 2)**2 <= 2**52``, ``n`` the
  widest inner dimension of a product), all cells of a block of regions in one BLAS product
  per prime, and the rows a claim needs (facet rows, affine maps) are recovered by the
  Chinese remainder theorem from enough primes to exceed twice a proven bound on their
  magnitude (a bound per level: shallow rows need fewer primes than the maps).  The deepest
  levels, where cells outnumber the rows needed there (the affine maps' level always, below
  a hidden layer), are not composed: each row needed there is carried down as a vector
  (``Z u = [M | mden e] (P^T u)``, ``M`` a selection of the level above) to the deepest
  composed level; the same integers, associated the other way round.  Rows that are one
  vector under their cells' ReLU masks (the affine maps' rows, the first step down) are
  multiplied as ``mask @ (diag(v) P)``, by running sums over the differences of consecutive
  regions' masks (they differ in about one unit): the same residues, every partial sum an
  integer below ``2**52``.
- *Vertices* are homogeneous integers ``(n_1, .., n_D, d)``, gcd 1, ``d > 0``; rows are
  primitive integers.  Signs of a row at a vertex are integer dot products, but for two
  kinds that need none: the D rows an engine vertex is solved from (here, by Cramer's rule)
  are zero there by construction, and a unit's row is positive where the forward pass below
  proves the chosen piece strictly above the other.
- *Code at the vertices.*  At a vertex ``v`` the pieces along ``w`` equal the network's own
  forward pass at ``v`` as long as the earlier layers' chosen pieces are maxima there (by
  induction on the layers), so one forward pass per distinct vertex serves every region that
  holds it.  It runs in float64 with a rigorous bound on its distance to the exact forward
  pass (the checker's own floats, from the exact weights and the exact vertex; every rounding
  covered; the vertex itself is rounded within ``4 U |x|``), and a float value decides a
  comparison only where the bound proves its sign; every comparison it cannot decide (ties:
  the units whose boundary holds the vertex) is made in exact integers along the region's
  own code: by the sign of the region's facet row on that unit where it has one (the same
  sign its tight sets need, computed once), else by the unit's pieces composed along the code.
  For units of at most two pieces the float status is the vertex's alone, so a region's
  extremes over its vertices decide (a vertex proving the chosen piece below fails; one
  proving it strictly above serves the point's code).
- *Domain.*  Every distinct vertex satisfies every row of the domain: the floats of the
  forward pass (the same error bound) decide where they prove the row's value positive, the
  others (vertices on the domain's boundary) are integer dot products.
- *Point.*  The point is strictly inside every row (exact), and the forward pass gives it the
  code ``w``: on ``P = C(w)`` every chosen piece is a maximum, so at an interior point a
  chosen piece ties a lower-indexed one only if the two are equal on all of ``P``; hence the
  code at the point is ``w`` if and only if every chosen piece is strictly above every
  lower-indexed piece at some vertex, which is what is checked.
- *Completeness* at a vertex on exactly D independent rows (the usual case) is combinatorial:
  each of its D edges (D - 1 rows staying tight) must hold another listed vertex, which then
  is the edge's end (two simple vertices of a region closing one edge meet when their edges'
  row sets are sorted; an edge left open is looked up among all the region's vertices);
  other vertices follow every extreme ray exactly, as above.
- *Volume.*  Signed cones from the origin over the facets, ``vol P = sum_F sign(c_F)
  vol conv(0, F)``, each facet triangulated by pulling (apexes: the lowest vertex of each
  face); the cones of a facet shared by two regions cancel in the sum over the regions.
  From 3-D on the long integers are FLINT's (GMP).  The sum is compared with the domain's
  volume unreduced: numerators and denominators added in a tree, without gcds.
"""

from __future__ import annotations

import gc
import math
import operator
import sys
import time
from fractions import Fraction
from itertools import accumulate, combinations
from typing import TYPE_CHECKING, Any, Sequence

import flint
import numpy as np

from .errors import CertificateError
from .maso import Affine
from .numbers import to_fraction_array

if TYPE_CHECKING:  # pragma: no cover
    from .regions import Partition

__all__ = ["verify_partition"]

Hom = tuple  # a point as integers (n_1, ..., n_D, d), gcd 1, d > 0: x = n / d
Row = tuple  # a half-space as primitive integers (a_1, ..., a_D, c): a . x + c >= 0

U = 2.0 ** -53  # unit round-off of float64
SAFETY = 1.0 + 1e-9  # covers the rounding of the error bounds' own computation
TINY = 1e-290  # covers underflow
CHUNK = 4096  # vertices (or cells) per float / modular batch
_new_object = object.__new__  # for Fractions already in lowest terms (:func:`_fraction`)


# -- exact integer helpers ---------------------------------------------------------------
def _hom(x: Sequence[Fraction]) -> Hom:
    den = 1
    for t in x:
        den = den * t.denominator // math.gcd(den, t.denominator)
    nums = [t.numerator * (den // t.denominator) for t in x]
    g = den
    for v in nums:
        g = math.gcd(g, v)
    return tuple(v // g for v in nums) + (den // g,)


def _dyadic_hom(x: Sequence[float]) -> Hom:
    """Finite floats as a homogeneous point.  Each is ``m / 2**k`` in lowest terms; over the
    largest ``2**k`` the numerators are integers and one of them is odd (or ``d = 1``), so the
    gcd is 1 already."""
    pairs = [v.as_integer_ratio() for v in x]
    d = max(q for _, q in pairs)
    return tuple(p * (d // q) for p, q in pairs) + (d,)


def _dyadic_homs(X: np.ndarray) -> list[Hom]:
    """:func:`_dyadic_hom` of each row of a finite float64 array ``(N, D)``, in bulk: each
    float is ``M 2**e`` with ``|M| < 2**53`` an integer (``frexp``, exact), ``M`` odd once its
    trailing zeros move into ``e``; over ``d = 2**K``, ``K`` the largest ``-e`` (or 0), the
    numerators are ``M 2**(e + K)``: the same integers as :func:`_dyadic_hom`."""
    N, D = X.shape
    m, e = np.frexp(X)
    M = (m * 2.0 ** 53).astype(np.int64)  # exact: a float's significand has 53 bits
    nz = M != 0
    low = M & -M  # the lowest set bit (0 for M = 0)
    tz = np.frexp(low.astype(np.float64))[1].astype(np.int64) - 1  # its position (exact: a power of 2)
    ex = np.where(nz, e.astype(np.int64) - 53 + tz, np.iinfo(np.int32).max)  # a zero: no constraint on K
    K = np.zeros(N, dtype=np.int64)
    for j in range(D):  # the largest -e per row (a loop over the few columns is faster than max(axis=1))
        np.maximum(K, -ex[:, j], out=K)
    odd = np.where(nz, M >> np.where(nz, tz, 0), 0)
    shift = np.where(nz, ex + K[:, None], 0)
    small = K <= 62  # rows whose integers fit in int64: |odd| < 2**53 shifted by at most 9 bits
    for j in range(D):
        small &= shift[:, j] <= 9
    H = np.empty((N, D + 1), dtype=object)
    H[small] = np.concatenate([odd[small] << shift[small], np.left_shift(1, K[small])[:, None]], axis=1).astype(object)
    big = ~small
    H[big, :D] = odd[big].astype(object) << shift[big].astype(object)
    H[big, D] = np.ones(int(big.sum()), dtype=object) << K[big].astype(object)
    return list(map(tuple, H.tolist()))


def _primitive(ints: Sequence[int]) -> tuple[int, ...]:
    g = 0
    for v in ints:
        g = math.gcd(g, v)
    return tuple(ints) if g <= 1 else tuple(v // g for v in ints)


def _int_row(row: Sequence[Fraction]) -> Row:
    """The primitive positive integer multiple of a rational row (same zero set and signs)."""
    den = 1
    for t in row:
        den = den * t.denominator // math.gcd(den, t.denominator)
    return _primitive([t.numerator * (den // t.denominator) for t in row])


def _value(row: Row, p: Hom) -> int:
    """A positive multiple (p's denominator) of the row's value at p: its sign is the sign."""
    return sum(a * n for a, n in zip(row, p))


def _rank(rows: Sequence[Sequence[int]]) -> int:
    if not rows:
        return 0
    return flint.fmpz_mat([list(r) for r in rows]).rank()


def _affine_rank(points: Sequence[Hom]) -> int:
    """Affine rank of points given homogeneously (the rank of [n | d] minus one)."""
    return _rank(points) - 1


def _hyperplane_key(row: Row) -> tuple[tuple[int, ...], int]:
    """(the row scaled so that its first non-zero entry is positive, orientation +-1)."""
    lead = next((v for v in row if v), 1)
    return (row, 1) if lead > 0 else (tuple(-v for v in row), -1)


def _det(M: Sequence[Sequence[int]]) -> int:
    """Exact determinant of a small integer matrix (explicit up to 4 x 4, FLINT beyond)."""
    n = len(M)
    if n == 1:
        return M[0][0]
    if n == 2:
        return M[0][0] * M[1][1] - M[0][1] * M[1][0]
    if n == 3:
        (a, b, c), (d, e, f), (g, h, i) = M
        return a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
    if n == 4:
        (a, b, c, d), (e, f, g, h), (i, j, k, l), (m, n_, o, p) = M
        kp_lo, jp_nl, jo_nk = k * p - l * o, j * p - l * n_, j * o - k * n_
        ip_lm, io_km, in_jm = i * p - l * m, i * o - k * m, i * n_ - j * m
        return (a * (f * kp_lo - g * jp_nl + h * jo_nk) - b * (e * kp_lo - g * ip_lm + h * io_km)
                + c * (e * jp_nl - f * ip_lm + h * in_jm) - d * (e * jo_nk - f * io_km + g * in_jm))
    return int(flint.fmpz_mat([list(r) for r in M]).det())


def _null_vector(rows: Sequence[Sequence[int]], D: int) -> tuple[int, ...]:
    """An integer vector orthogonal to D - 1 rows of length D (signed maximal minors)."""
    if D == 1:
        return (1,)
    out = []
    for j in range(D):
        det = _det([[r[c] for c in range(D) if c != j] for r in rows])
        out.append(det if j % 2 == 0 else -det)
    return _primitive(out)


# -- batched exact kernels on numpy object arrays of Python ints --------------------------
def _dets(M: np.ndarray) -> np.ndarray:
    """Determinants of a stack ``(N, k, k)`` of integer matrices (explicit up to 4 x 4)."""
    k = M.shape[1]
    if k == 1:
        return M[:, 0, 0].copy()
    if k == 2:
        return M[:, 0, 0] * M[:, 1, 1] - M[:, 0, 1] * M[:, 1, 0]
    if k == 3:
        a, b, c = M[:, 0, 0], M[:, 0, 1], M[:, 0, 2]
        d, e, f = M[:, 1, 0], M[:, 1, 1], M[:, 1, 2]
        g, h, i = M[:, 2, 0], M[:, 2, 1], M[:, 2, 2]
        return a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
    if k == 4:
        # Laplace along the first two rows: products of complementary 2 x 2 minors
        top = {(p, q): M[:, 0, p] * M[:, 1, q] - M[:, 0, q] * M[:, 1, p] for p, q in combinations(range(4), 2)}
        bot = {(p, q): M[:, 2, p] * M[:, 3, q] - M[:, 2, q] * M[:, 3, p] for p, q in combinations(range(4), 2)}
        return (top[0, 1] * bot[2, 3] - top[0, 2] * bot[1, 3] + top[0, 3] * bot[1, 2]
                + top[1, 2] * bot[0, 3] - top[1, 3] * bot[0, 2] + top[2, 3] * bot[0, 1])
    return np.array([_det(m.tolist()) for m in M], dtype=object)


def _null_vectors(rows: np.ndarray) -> np.ndarray:
    """Stack ``(N, D, D + 1)`` of D integer rows -> ``(N, D + 1)``: the signed maximal minors,
    a vector orthogonal to the D rows (zero when they are dependent).  For the rows of D
    hyperplanes ``a . x + c = 0`` it is their meeting point homogeneously, ``(n, d)`` with
    ``x = n / d`` (Cramer's rule)."""
    N, D = rows.shape[0], rows.shape[1]
    out = np.empty((N, D + 1), dtype=object)
    if D == 1:
        out[:, 0], out[:, 1] = rows[:, 0, 1], -rows[:, 0, 0]
        return out
    if D in (3, 4):  # Laplace along the first rows, their 2 x 2 minors shared by the D + 1 determinants
        for j, det in enumerate(_shared_minor_dets(rows)):
            out[:, j] = det if j % 2 == 0 else -det
        return out
    for j in range(D + 1):
        det = _dets(np.delete(rows, j, axis=2))
        out[:, j] = det if j % 2 == 0 else -det
    return out


def _shared_minor_dets(rows: np.ndarray) -> list[np.ndarray]:
    """For a stack ``(N, D, D + 1)`` of integer matrices, D = 3 or 4: the determinants of the
    D + 1 square matrices left by deleting column ``j`` (``j = 0 .. D``).  Expanded along the
    first row (D = 3) or the first two rows (D = 4) with the 2 x 2 minors of the last two rows
    (and of the first two), each computed once for all D + 1 of them."""
    D = rows.shape[1]
    cols = [rows[:, :, c] for c in range(D + 1)]  # (N, D) each

    def minors(r0: int) -> dict:
        return {(p, q): cols[p][:, r0] * cols[q][:, r0 + 1] - cols[q][:, r0] * cols[p][:, r0 + 1]
                for p, q in combinations(range(D + 1), 2)}

    bot = minors(D - 2)
    top = minors(0) if D == 4 else None
    out = []
    for j in range(D + 1):
        c = [t for t in range(D + 1) if t != j]
        if D == 3:  # r0 . (the signed minors of rows 1, 2)
            det = cols[c[0]][:, 0] * bot[c[1], c[2]] - cols[c[1]][:, 0] * bot[c[0], c[2]] + cols[c[2]][:, 0] * bot[c[0], c[1]]
        else:  # sum over column pairs (p, q) of rows 0, 1: sign (-1)**(p + q + 1), the complementary minor
            det = 0
            for p, q in combinations(range(4), 2):
                rest = tuple(c[t] for t in range(4) if t not in (p, q))
                term = top[c[p], c[q]] * bot[rest]
                det = det + term if (p + q) % 2 else det - term
        out.append(det)
    return out


def _normalised_hom(h: Sequence[int]) -> Hom | None:
    """A homogeneous point with d > 0 and gcd 1, or None when d = 0 (no point)."""
    d = h[-1]
    if d == 0:
        return None
    g = math.gcd(*h)
    s = g if d > 0 else -g
    return tuple(v // s for v in h)


def _normalised_homs(H: np.ndarray) -> list[Hom | None]:
    """:func:`_normalised_hom` of the rows of an object array ``(N, D + 1)``, in bulk."""
    if len(H) == 0:
        return []
    g = np.gcd.reduce(H, axis=1)
    d = H[:, -1]
    s = np.where(d > 0, g, -g)
    s[d == 0] = 1
    out = list(map(tuple, (H // s[:, None]).tolist()))
    for t in np.flatnonzero(d == 0).tolist():
        out[t] = None
    return out


def _dot(rows: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Row-wise integer dot products of two object arrays ``(N, D + 1)``."""
    if rows.shape[0] == 0:
        return np.zeros(0, dtype=object)
    return (rows * points).sum(axis=1)


def _sign(values: np.ndarray) -> np.ndarray:
    """Signs of an object array of Python ints, as int8."""
    return (values > 0).astype(np.int8) - (values < 0).astype(np.int8)


# -- exact integers modulo primes: composition in float64 BLAS, recovery by the CRT --------
def _primes_above_bound(below: int, exceed: int) -> list[int]:
    """The largest primes under ``below``, as many as it takes for their product to exceed ``exceed``."""
    out: list[int] = []
    modulus = 1
    p = below - 1 if below % 2 == 0 else below - 2
    while modulus <= exceed:
        if p < 3:  # pragma: no cover - below is at least 2**16 for any layer of fewer than 2**20 inputs
            raise ValueError(f"not enough primes below {below} to exceed {exceed}")
        if flint.fmpz(p).is_prime():
            out.append(p)
            modulus *= p
        p -= 2
    return out


def _residues(values: np.ndarray, primes: Sequence[int]) -> np.ndarray:
    """Integers (an object array) modulo each prime: ``values.shape + (len(primes),)`` int64 in ``[0, p)``."""
    flat = np.asarray(values, dtype=object).ravel()
    out = np.empty((len(flat), len(primes)), dtype=np.int64)
    for j, p in enumerate(primes):
        out[:, j] = (flat % p).astype(np.int64) if len(flat) else 0
    return out.reshape(np.shape(values) + (len(primes),))


def _balanced(res: np.ndarray, primes: np.ndarray) -> np.ndarray:
    """Residues in ``[0, p)`` (the last axis runs over the primes) as float64 in ``(-p/2, p/2]``."""
    return np.where(res > primes // 2, res - primes, res).astype(np.float64)


def _reduce(x: np.ndarray, p: np.ndarray, invp: np.ndarray) -> None:
    """In place: exact integers ``|x| < 2**52`` (floats) to ``x - p * round(x / p)``, within
    ``(p + 3) / 2`` of 0 (``x / p`` is computed with an error far below 1/2)."""
    t = x * invp
    np.rint(t, out=t)
    t *= p
    x -= t


def _crt(res: np.ndarray, primes: Sequence[int]) -> np.ndarray:
    """The integers of absolute value below ``prod(primes) / 2`` with these residues
    ``(N, len(primes))``, for primes below ``2**26.4`` (``p**2 < 2**52.8``; those of
    :class:`_Cascade` are below ``2**26.2``).

    Garner's mixed-radix digits ``x = d_0 + d_1 p_0 + d_2 p_0 p_1 + ..``, ``0 <= d_j < p_j``,
    one vectorised step per prime, in float64 holding exact integers: ``x`` so far is kept
    modulo each later prime within ``p / 2 + 1`` of 0, so every product and sum stays below
    ``p**2 < 2**53``.  Then ``x`` in 16-bit limbs (the digits times the limbs of each radix, one
    float64 product: every sum an integer below ``k 2**42.4 < 2**53``, so exact, for fewer than
    1,500 primes; the carries propagated in int64), read as Python ints."""
    if max(primes) ** 2 >= 2 ** 52.8:  # pragma: no cover - the cascade's primes are smaller
        raise ValueError("_crt needs primes below 2**26.4")
    if len(primes) >= 1500:  # pragma: no cover - bounds of thousands of bits need a few dozen
        raise ValueError("_crt needs fewer than 1,500 primes")
    N, k = res.shape
    radix = [math.prod(primes[:j]) for j in range(k + 1)]  # p_0 .. p_{j-1}
    p = np.array(primes, dtype=np.float64)[:, None]
    C = np.array([[radix[j] % q for q in primes] for j in range(k)], dtype=np.float64)[:, :, None]
    inv = [float(pow(radix[j] % primes[j], -1, primes[j])) for j in range(k)]
    r = (res % np.array(primes, dtype=np.int64)).T.astype(np.float64)  # (primes, N)
    acc = np.zeros((k, N))  # x so far modulo each prime
    digits = np.empty((k, N), dtype=np.int64)
    for j in range(k):
        d = r[j] - acc[j]
        d -= p[j] * np.rint(d / p[j])  # within p / 2 + 1 of 0
        d *= inv[j]
        d -= p[j] * np.rint(d / p[j])
        d += p[j] * (d < 0)  # in [0, p)
        digits[j] = d
        if j + 1 < k:
            a = acc[j + 1:]
            a += d * C[j, j + 1:]
            a -= p[j + 1:] * np.rint(a / p[j + 1:])
    T = (radix[k].bit_length() + 15) // 16
    limbs = np.array([[(radix[j] >> (16 * t)) & 0xFFFF for j in range(k)] for t in range(T)], dtype=np.int64)
    X = (limbs.astype(np.float64) @ digits.astype(np.float64)).astype(np.int64)  # (limbs, N), exact
    for t in range(T - 1):
        X[t + 1] += X[t] >> 16
        X[t] &= 0xFFFF
    raw = np.ascontiguousarray(X.T).astype("<u2").tobytes()
    w = 2 * T
    x = np.empty(N, dtype=object)
    x[:] = [int.from_bytes(raw[i * w:(i + 1) * w], "little") for i in range(N)]
    M = radix[k]
    return np.where(x > M // 2, x - M, x)


class _Layer:
    """One MASO layer as exact integer pieces over one denominator, and float copies."""

    def __init__(self, m: Any) -> None:
        rows, den = m._int_pieces()
        self.K, self.R = m.num_units, m.num_pieces
        self.den = den
        self.din = len(rows[0]) - 1
        self.rows = rows  # K * R rows of din + 1 integers, unit-major
        nz = [i for i, r in enumerate(rows) if any(r)]
        self.nz = np.full(len(rows), -1, dtype=np.int64)  # row of each piece among the non-zero ones, -1: zero
        self.nz[nz] = np.arange(len(nz))
        kept = [rows[i] for i in nz] or [[0] * (self.din + 1)]  # at least one row (all zero when no piece is not)
        self.nz_rows = np.array(kept, dtype=object).reshape(len(kept), self.din + 1)
        self.rowsum = max((sum(abs(v) for v in r) for r in rows), default=0)
        # floats, each within U |a| + TINY of the exact rational (true division is correctly rounded)
        flt = np.array([[_quotient(v, den) for v in r] for r in rows], dtype=np.float64)
        flt = flt.reshape(len(rows), self.din + 1)
        self.A, self.b = flt[:, :-1], flt[:, -1]


def _quotient(n: int, d: int) -> float:
    try:
        return n / d
    except OverflowError:
        return math.inf if (n > 0) == (d > 0) else -math.inf


class _Cascade:
    """Every cell of the code tree and the pieces of its layer on it, modulo primes.

    Level ``l`` has one cell per distinct prefix ``w[:l]``; on it the pieces of layer ``l``
    are ``Z = [M | mden e] P^T``: a row per coordinate of ``x`` and one for the constant, a
    column per non-zero piece, ``M`` the pieces the prefix chose one level up (integers over
    ``mden``, ``e`` the constant's indicator).  ``Z`` has one more column, ``den mden e``: the
    constant column of the next level, so a code's choice is a selection of ``Z``'s columns.
    Residues are balanced, ``|r| <= (p + 3) / 2``, and the primes so small that
    ``(n + 1) ((p + 3) / 2)**2 < 2**52`` for every inner dimension ``n`` of a product: every
    float64 product and sum of residues is an exact integer.  Regions are taken in blocks
    (code order keeps a block's cells few), all primes at once.

    Levels deeper than :meth:`depth` are not composed: a row a claim needs there (a facet row
    ``Z u``, ``u`` picking the difference of two pieces, or a piece of the last layer: the
    affine map) is carried down instead, ``Z u = [M | mden e] (P^T u)`` with ``M`` a
    selection of the columns of the ``Z`` one level up, until it meets a composed level.
    That is the same integer linear algebra associated the other way round, so it gives the
    same integers; it costs a product per carried row where composing costs one per cell and
    coordinate.  :meth:`run` returns the rows exactly, by the Chinese remainder theorem.
    """

    BLOCK = 256  # regions per block: a few hundred cells per matrix product, arrays of a few MB

    def __init__(self, layers: list[_Layer], D: int, cell: list[np.ndarray], parent: list[np.ndarray],
                 rep: list[np.ndarray], codes: list[np.ndarray]) -> None:
        self.layers, self.D = layers, D
        self.cell, self.parent, self.rep, self.codes = cell, parent, rep, codes
        self.mden = [1]
        for lay in layers[:-1]:
            self.mden.append(self.mden[-1] * lay.den)
        self.zden = [lay.den * md for lay, md in zip(layers, self.mden)]  # denominators of Z per level
        level_bound, bm = [], 1
        for lay, md in zip(layers, self.mden):
            bz = lay.rowsum * max(bm, md)  # |Z| <= (row sum of |P|) max(|M|, mden)
            level_bound.append(2 * bz)  # differences of two pieces, and the selected pieces
            bm = bz
        self.bound = max(level_bound)
        widest = max(max(lay.din, len(lay.nz_rows)) + 1 for lay in layers)  # inner dimensions, both ways
        h = math.isqrt((1 << 52) // (widest + 1))
        self.primes = _primes_above_bound(2 * h - 3, max(1, 2 * self.bound))  # one at least (all rows 0)
        # the rows of level l are recovered from the first primes whose product exceeds twice their bound
        modulus = list(accumulate(self.primes, operator.mul, initial=1))  # modulus[k]: of the first k primes
        self.level_primes = [max(1, next(k for k, M in enumerate(modulus) if M > 2 * b)) for b in level_bound]
        # layers whose choice is a 0/1 mask of the columns (ReLU-like: piece 0 zero, piece 1 row k)
        self.masked = [lay.R == 2 and len(lay.nz_rows) == lay.K and (lay.nz[0::2] < 0).all()
                       and (lay.nz[1::2] == np.arange(lay.K)).all() for lay in layers]

    def depth(self, carried: list[int]) -> int:
        """The deepest level to compose: level ``l`` is skipped while the rows carried through
        it (``carried[l]``, the rows needed deeper) are fewer than half its cells times
        ``D + 1`` (what composing it costs, in the same products)."""
        l = len(self.layers) - 1
        while l > 0 and 2 * carried[l] < (self.D + 1) * len(self.rep[l]):
            l -= 1
        return l

    def run(self, diffs: list[tuple[np.ndarray, np.ndarray, np.ndarray]], final: np.ndarray, progress: Any) -> tuple:
        """``diffs[l] = (cells, ra, sa)``: the rows ``piece ra - piece sa`` (columns of ``Z``,
        -1 for a zero piece) of layer ``l`` on those level-``l`` cells; ``final`` (regions,
        K): the selected columns of the last layer for each region.  Returns them exactly
        (object arrays ``(rows, D + 1)`` and ``(regions, K, D + 1)``), over ``zden[l]`` and
        over ``zden`` of the last layer; levels below :meth:`depth` are carried (any depth
        gives the same integers)."""
        D, L, n = self.D, len(self.layers), len(self.cell[0])
        K_out = final.shape[1]
        # the rows wanted, level by level: (cell, column a, column b, block), the row Z[a] - Z[b]
        want = []
        for l, (dc, ra, sa) in enumerate(diffs):
            if l == L - 1:
                dc = np.concatenate([dc, np.repeat(self.cell[L - 1], K_out)])
                ra = np.concatenate([ra, final.ravel()])
                sa = np.concatenate([sa, np.full(n * K_out, -1, dtype=np.int64)])
            want.append((dc, ra, sa, self.rep[l][dc] // self.BLOCK))  # the block of the cell's first region
        sizes = [len(w[0]) for w in want]
        m = self.depth([sum(sizes[l + 1:]) for l in range(L)])
        primes = np.array(self.primes, dtype=np.int64)
        npr = len(primes)
        pf = primes.astype(np.float64)[:, None, None]
        mod = (pf, 1.0 / pf)
        P = [self.extended(lay, primes) for lay in self.layers]  # (primes, columns + 1, din + 1)
        PT = [np.ascontiguousarray(np.swapaxes(p, 1, 2)) for p in P]
        res = [np.zeros((s, D + 1, npr), dtype=np.int64) for s in sizes]
        order = [np.argsort(w[3], kind="stable") for w in want]
        nb = (n + self.BLOCK - 1) // self.BLOCK
        bounds = [np.searchsorted(w[3][o], np.arange(nb + 1)) for w, o in zip(want, order)]
        root = PT[0][:, None]  # level 0: the first layer's pieces on the input itself
        for b in range(nb):
            r0, r1 = b * self.BLOCK, min(n, (b + 1) * self.BLOCK)
            cells, Z = [np.zeros(1, dtype=np.int64)], [root]
            for l in range(1, m + 1):
                new = np.unique(self.cell[l][r0:r1])
                Z.append(self.compose(Z[-1], l, new, np.searchsorted(cells[-1], self.parent[l][new]), PT[l], mod))
                cells.append(new)
            carry = None  # rows carried down: (vectors (primes, rows, columns), cells, levels, slots)
            shared: list = []  # rows of the carry that are one vector under their cells' masks
            for l in range(L - 1, -1, -1):
                pick = order[l][bounds[l][b]:bounds[l][b + 1]]
                dc, ra, sa, _ = want[l]
                if l > m:  # not composed: the rows as vectors over [M | mden e], then one level up
                    q = _pieces(P[l], ra[pick])
                    two = sa[pick] >= 0
                    if two.any():  # a difference of two pieces: |q| <= p, reduced below
                        q[:, two] -= _pieces(P[l], sa[pick[two]])
                    vc, vl, vs = dc[pick], np.full(len(pick), l), pick
                    if carry is not None:
                        w, wc, wl, ws = carry
                        q = np.concatenate([_carried_product(w, P[l], shared, mod), q], axis=1)
                        vc, vl, vs = np.concatenate([wc, vc]), np.concatenate([wl, vl]), np.concatenate([ws, vs])
                    if carry is not None or two.any():
                        _reduce(q, *mod)
                    shared = self.shared(q, ra[pick], sa[pick], l, vc) if carry is None and l - 1 > m else []
                    carry = (self.select(q, l, vc), self.parent[l][vc], vl, vs)
                    continue
                if len(pick):
                    loc = np.searchsorted(cells[l], dc[pick])
                    y = _columns_at(Z[l], loc, ra[pick]) - _columns_at(Z[l], loc, sa[pick])
                    res[l][pick] = np.swapaxes(y.astype(np.int64) % primes[:, None], 1, 2)
                if l == m and carry is not None:
                    w, wc, wl, ws = carry
                    G = np.take(Z[l], np.searchsorted(cells[l], wc), axis=1)  # (primes, rows, D + 1, columns)
                    y = np.einsum("prdc,prc->prd", G, w)  # a dot product per row (no BLAS call per row)
                    y = np.moveaxis(y.astype(np.int64) % primes[:, None, None], 0, 2)
                    for lev in np.unique(wl).tolist():
                        res[lev][ws[wl == lev]] = y[wl == lev]
            progress.tick("maps", r1, n)
        out = [_crt(r[:, :, :k].reshape(-1, k), self.primes[:k]).reshape(r.shape[:2])
               for r, k in zip(res, self.level_primes)]
        k = len(diffs[L - 1][0])
        return out[:L - 1] + [out[L - 1][:k]], out[L - 1][k:].reshape(n, K_out, D + 1)

    SHARED = 16  # rows of one vector in a block, at least, for their product by differences

    def shared(self, q: np.ndarray, ra: np.ndarray, sa: np.ndarray, l: int, cells: np.ndarray) -> list:
        """The rows first carried from level ``l`` (pieces ``ra - sa``, residues ``q``) that are
        one vector ``v`` masked by their cells' codes (a masked layer ``l - 1``), grouped by
        vector: ``[(rows, v (primes, columns), masks (rows, columns) bool), ..]``, for groups
        of at least :attr:`SHARED` rows.  Their product with the pieces one level up is
        ``mask @ (diag(v) P)``, formed by :func:`_carried_product` from the differences of
        consecutive masks."""
        if not self.masked[l - 1] or len(ra) < self.SHARED:
            return []
        key = ra * (len(self.layers[l].nz_rows) + 2) + sa + 1  # the pair of pieces (-1: none)
        _, inv, cnt = np.unique(key, return_inverse=True, return_counts=True)
        out = []
        for t in np.flatnonzero(cnt >= self.SHARED).tolist():
            rows = np.flatnonzero(inv.ravel() == t)
            out.append((rows, q[:, rows[0]], self.mask(l, cells[rows])[0] > 0))
        return out

    def extended(self, lay: _Layer, primes: np.ndarray) -> np.ndarray:
        """``P``: the layer's non-zero pieces and a last row ``den`` times the constant's
        indicator, as balanced residues ``(primes, columns + 1, din + 1)``."""
        rows = np.concatenate([lay.nz_rows, np.array([[0] * lay.din + [lay.den]], dtype=object)])
        return _balanced(np.moveaxis(_residues(rows, self.primes), -1, 0), primes[:, None, None])

    def choice(self, l: int, cells: np.ndarray) -> np.ndarray:
        """For level-``l`` cells, the column of the level above that each unit of layer
        ``l - 1`` takes (-1 for a zero piece), then the constant column: ``(cells, K + 1)``."""
        prev = self.layers[l - 1]
        code = self.codes[l - 1][self.rep[l][cells]].astype(np.int64)
        cols = prev.nz[np.arange(prev.K) * prev.R + code]
        return np.concatenate([cols, np.full((len(cells), 1), len(prev.nz_rows), dtype=np.int64)], axis=1)

    def mask(self, l: int, cells: np.ndarray) -> np.ndarray:
        """For a masked layer ``l - 1``: ``(1, cells, K + 1)`` floats, 1 where the unit takes piece 1, and the constant."""
        code = self.codes[l - 1][self.rep[l][cells]]
        return np.concatenate([code == 1, np.ones((len(cells), 1), dtype=bool)], axis=1)[None].astype(np.float64)

    def select(self, q: np.ndarray, l: int, cells: np.ndarray) -> np.ndarray:
        """Vectors over ``[M | mden e]`` of level-``l`` cells ``(primes, rows, K + 1)`` as
        vectors over the columns of ``Z`` one level up (the transpose of the code's selection)."""
        if self.masked[l - 1]:
            return q * self.mask(l, cells)
        cols = self.choice(l, cells)
        out = np.zeros(q.shape[:2] + (len(self.layers[l - 1].nz_rows) + 1,))
        t, k = np.nonzero(cols >= 0)
        out[:, t, cols[t, k]] = q[:, t, k]
        return out

    def compose(self, Z: np.ndarray, l: int, cells: np.ndarray, parents: np.ndarray, PT: np.ndarray,
                mod: tuple) -> np.ndarray:
        """``Z`` of some level-``l`` cells from their parents' (``parents``: positions in the
        ``Z`` of the level above, layout (primes, cells, D + 1, columns)), one matrix product
        per prime for all the cells."""
        npr, nc, D = Z.shape[0], len(cells), self.D
        G = np.take(Z, parents, axis=1)
        if self.masked[l - 1]:
            G *= self.mask(l, cells)[:, :, None, :]
        else:
            cols = self.choice(l, cells)
            G = np.take_along_axis(G, np.maximum(cols, 0)[None, :, None, :], axis=3) * (cols >= 0)[None, :, None, :]
        out = np.matmul(G.reshape(npr, nc * (D + 1), G.shape[3]), PT).reshape(npr, nc, D + 1, PT.shape[2])
        _reduce(out, *(x[:, :, :, None] for x in mod))
        return out


def _carried_product(w: np.ndarray, P: np.ndarray, shared: list, mod: tuple) -> np.ndarray:
    """``w @ P`` (``w`` (primes, rows, columns) of residues, ``P`` (primes, columns, out))
    modulo each prime: the rows of ``shared`` (see :meth:`_Cascade.shared`: ``w`` is ``v``
    masked) by differences, the others by one matrix product per prime.

    For a group, ``B = diag(v) P`` reduced (balanced residues, ``|B| <= (p + 3) / 2``) and
    row ``t`` is ``m_0 B + sum_s (m_s - m_(s-1)) B`` over the group's rows up to ``t``, a
    running sum over the mask changes in order: sums of ``k`` rows of ``B`` (``k`` the
    columns and the changes in all), integers below
    ``k (p + 3) / 2 < 2**52`` in float64 (``k`` at most rows times columns), so exact; the
    same residues as the product (consecutive regions differ in about one unit, so ``k`` is
    about the group's size where the product costs a row of ``P`` per column)."""
    npr, nout = w.shape[0], P.shape[2]
    out = np.empty(w.shape[:2] + (nout,))
    rest = np.ones(w.shape[1], dtype=bool)
    for rows, v, masks in shared:
        change = np.diff(masks.astype(np.int8), axis=0)
        r, c = _nonzero2(change != 0)  # the changes from row t to row t + 1
        k = len(r) + masks.shape[1]
        if k * 2.0 ** 24 >= 2.0 ** 52 or len(r) * 8 > masks.size:  # far apart: the product is cheaper
            continue
        B = v[:, :, None] * P  # |v P| <= ((p + 3) / 2)**2: exact
        _reduce(B, *mod)
        Bt = np.ascontiguousarray(np.moveaxis(B, 1, 0)).reshape(B.shape[1], npr * nout)  # a row per column of w
        terms = Bt[c] * change[r, c].astype(np.float64)[:, None]
        running = np.empty((len(r) + 1, npr * nout))  # the first row's product, then after each change
        running[0] = masks[0].astype(np.float64) @ Bt
        for t in range(len(r)):  # row by row: contiguous vector additions (a cumsum over axis 0 is slower)
            np.add(running[t], terms[t], out=running[t + 1])
        last = np.searchsorted(r, np.arange(len(rows)) - 1, side="right")  # the changes up to each row
        out[:, rows] = np.moveaxis(running[last].reshape(len(rows), npr, nout), 0, 1)
        rest[rows] = False
    if rest.all():
        return np.matmul(w, P)
    if rest.any():
        out[:, rest] = np.matmul(w[:, rest], P)
    return out


def _pieces(P: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``P[:, rows]`` for ``P`` (primes, rows, columns), zero where ``rows`` is -1."""
    if len(rows) and rows.min() >= 0:
        return P[:, rows]
    return P[:, np.maximum(rows, 0)] * (rows >= 0)[None, :, None]


def _columns_at(Z: np.ndarray, cells: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``Z[:, cells[t], :, cols[t]]`` for each t, zero where ``cols`` is -1: (t, primes, D + 1)."""
    return Z[:, cells, :, np.maximum(cols, 0)] * (cols >= 0)[:, None, None]


# -- the forward pass in floats with a rigorous error bound -------------------------------
def _gamma(n: int) -> float:
    return n * U / (1 - n * U)


def _vertex_floats(H: np.ndarray, D: int) -> tuple[np.ndarray, np.ndarray]:
    """Float coordinates of exact homogeneous points ``(n, d)`` and a bound on their error.

    ``n`` and ``d`` are rounded to floats (correctly: relative error at most ``U`` each) and
    divided (``U`` more), so ``X`` is within ``3.01 U |x|`` of ``x = n / d``, hence within
    ``4 U |X| + TINY`` (TINY covers underflow).  Integers beyond the float range take the
    correctly rounded quotient, within ``U |X| + TINY``."""
    H = np.asarray(H, dtype=object).reshape(len(H), D + 1)
    try:
        F = np.array(H.ravel().tolist(), dtype=np.float64).reshape(H.shape)
    except OverflowError:  # an integer beyond 2**1024: one by one
        X = np.array([[_quotient(h[j], h[D]) for j in range(D)] for h in H.tolist()], dtype=np.float64)
        return X.reshape(len(H), D), np.abs(X.reshape(len(H), D)) * U + TINY
    X = F[:, :D] / F[:, D:]
    return X, np.abs(X) * (4 * U) + TINY


def _affine_floats(H: np.ndarray, Eh: np.ndarray, A: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``g = H A^T + b`` in floats and a bound on ``|g - g*|``, ``g*`` the exact values of the
    exact rows (of which ``A``, ``b`` are the correctly rounded floats) at exact points within
    ``Eh`` of ``H`` (the bound of :func:`_forward_statuses`)."""
    u1 = U / (1 - U)
    g = H @ A.T + b
    gam = _gamma(A.shape[1] + 2)
    err = ((gam + u1) * np.abs(H) + (1 + u1) * Eh) @ np.abs(A).T  # both terms in one product
    err += (gam + u1) * np.abs(b)
    # a weight below the normal range is only within TINY of its float (0 for |a| < 2^-1075)
    err += TINY * (np.abs(H).sum(axis=1) + Eh.sum(axis=1) + 1)[:, None]
    err *= SAFETY
    err += TINY
    return g, err


def _forward_statuses(X: np.ndarray, E: np.ndarray, layers: list[_Layer]) -> tuple[np.ndarray, dict]:
    """Which pieces the network's exact forward pass at the exact points proves to be maxima.

    Returns ``(two, many)``.  ``two`` (points, units) is for the units of layers with at most
    two pieces: 1 when piece 1 is proved strictly above piece 0, -1 when proved strictly
    below, 0 when the floats cannot tell (for one piece: -1, "piece 0 is the maximum", so that
    the status of the chosen piece ``c`` is always ``two * (2 c - 1)``).  ``many[l]``
    (points, K, R) is for a layer of more pieces: 1 when the piece is proved strictly above
    every other piece of its unit, -1 when proved below one of them, 0 when undecided.

    ``X`` is within ``E`` (entrywise) of the exact points.  A layer's pieces
    ``g = A h + b`` are computed in floats from a float ``h`` within ``e`` of the exact input;
    then ``|g - g*| <= (gamma + u') |A| |h| + gamma |b| + (1 + u') |A| e + u' |b| + TINY``,
    with ``u' = U / (1 - U)`` covering the rounding of the exact weights to floats, plus
    ``TINY (|h|_1 + |e|_1 + 1)`` for weights below the normal range (each within ``TINY`` of its
    float, which is 0 below 2^-1075: with inputs near 1e300 that term decides), and the
    unit's output (the maximum of its pieces) is within the largest of its pieces' bounds.
    The bound is evaluated in floats as ``|A| ((gamma + u') |h| + (1 + u') e) + ..``: sums of
    non-negative products, so its own rounding is a relative ``gamma_(n + 2)``, far inside
    ``SAFETY``.
    A float comparison ``g > e`` is exact, so it proves ``g* > 0``.  Nothing non-finite
    decides.
    """
    n = X.shape[0]
    two = np.zeros((n, sum(lay.K for lay in layers if lay.R <= 2)), dtype=np.int8)
    many: dict[int, np.ndarray] = {}
    col = 0
    H, Eh = X, E
    for l, lay in enumerate(layers):
        K, R = lay.K, lay.R
        relu = R == 2 and (lay.nz[0::2] < 0).all()
        rows = np.arange(1, 2 * K, 2) if relu else np.arange(K * R)  # the pieces to compute
        g, err = _affine_floats(H, Eh, lay.A[rows], lay.b[rows])
        finite = np.isfinite(g) & np.isfinite(err)
        if relu:  # piece 0 is exactly 0
            st = (g > err).astype(np.int8) - (g < -err).astype(np.int8)
            st[~finite] = 0
            two[:, col:col + K] = st
            H, Eh = np.maximum(g, 0.0), err
        else:
            g = g.reshape(n, K, R)
            err = err.reshape(n, K, R)
            finite = finite.reshape(n, K, R).all(axis=2)
            if R == 1:
                two[:, col:col + K] = -1
            else:
                lo = [np.nextafter(g[:, :, r] - err[:, :, r], -np.inf) for r in range(R)]
                hi = [np.nextafter(g[:, :, r] + err[:, :, r], np.inf) for r in range(R)]
                if R == 2:
                    st = (lo[1] > hi[0]).astype(np.int8) - (hi[1] < lo[0]).astype(np.int8)
                    st[~finite] = 0
                    two[:, col:col + K] = st
                else:
                    out = np.zeros((n, K, R), dtype=np.int8)
                    for c in range(R):
                        hi_o = lo_o = None
                        for s_ in range(R):
                            if s_ != c:
                                hi_o = hi[s_] if hi_o is None else np.maximum(hi_o, hi[s_])
                                lo_o = lo[s_] if lo_o is None else np.maximum(lo_o, lo[s_])
                        st = (lo[c] > hi_o).astype(np.int8) - (hi[c] < lo_o).astype(np.int8)
                        st[~finite] = 0
                        out[:, :, c] = st
                    many[l] = out
            H, Eh = g[:, :, 0], err[:, :, 0]
            for r in range(1, R):
                H = np.maximum(H, g[:, :, r])
                Eh = np.maximum(Eh, err[:, :, r])
        bad = ~(np.isfinite(H) & np.isfinite(Eh))
        if bad.any():  # later layers see an infinite error there
            H = np.where(bad, 0.0, H)
            Eh = np.where(bad, np.inf, Eh)
        if R <= 2:
            col += K
    return two, many


# -- polytopes as vertices with tight sets ----------------------------------------------
def _faces(S: frozenset, facets: list[frozenset], k: int, rank_of) -> set[frozenset]:
    """The (k-1)-faces of the k-face ``S``: its intersections with facets of affine rank k - 1."""
    out = set()
    for F in facets:
        G = S & F
        if len(G) >= k and G != S and G not in out and (k <= 2 or rank_of(G) == k - 1):
            out.add(G)
    return out


def _polygon_area(points: list[Hom], edges: list[frozenset]) -> Fraction:
    """Area of a convex polygon from its vertices and its edges (pairs), by the shoelace sum."""
    nxt: dict[int, list[int]] = {}
    for e in edges:
        a, b = tuple(e)
        nxt.setdefault(a, []).append(b)
        nxt.setdefault(b, []).append(a)
    start = min(nxt)
    order, prev, cur = [start], None, start
    while True:
        a, b = nxt[cur]
        step = b if a == prev else a
        if step == start:
            break
        order.append(step)
        prev, cur = cur, step
    total = flint.fmpq(0)
    for q in range(len(order)):
        (x0, y0, d0), (x1, y1, d1) = points[order[q]], points[order[(q + 1) % len(order)]]
        total += flint.fmpq(x0 * y1 - x1 * y0, d0 * d1)
    return abs(Fraction(int(total.p), 2 * int(total.q)))


def _volume(points: list[Hom], tight: list[frozenset], dim: int) -> Fraction:
    """Exact volume of conv(points) in R^dim; ``tight[i]`` are the facet rows tight at point i.

    Polygons by the shoelace sum over their cyclic order; otherwise a pulling triangulation:
    a face's (k-1)-faces are its intersections with the facets that have affine rank k - 1,
    each not holding the face's first vertex is triangulated and coned to it, and every
    simplex contributes an integer determinant.
    """
    n = len(points)
    if dim == 1:
        xs = [Fraction(p[0], p[1]) for p in points]
        return max(xs) - min(xs)
    rank_memo: dict[frozenset, int] = {}

    def rank_of(S: frozenset) -> int:
        hit = rank_memo.get(S)
        if hit is None:
            hit = rank_memo[S] = _affine_rank([points[i] for i in S])
        return hit

    facets = []
    for t in set().union(*tight):
        S = frozenset(i for i in range(n) if t in tight[i])
        if len(S) >= dim and S not in facets and rank_of(S) == dim - 1:
            facets.append(S)
    if dim == 2:
        return _polygon_area(points, facets)
    memo: dict[frozenset, list[tuple[int, ...]]] = {}

    def triangulate(S: frozenset, k: int) -> list[tuple[int, ...]]:
        hit = memo.get(S)
        if hit is not None:
            return hit
        apex = min(S)
        if k == 0:
            out = [(apex,)]
        else:
            out = [(apex,) + s for G in _faces(S, facets, k, rank_of) if apex not in G for s in triangulate(G, k - 1)]
        memo[S] = out
        return out

    total = flint.fmpq(0)
    for simplex in triangulate(frozenset(range(n)), dim):
        pts = [points[i] for i in simplex]
        d = 1
        for p in pts:
            d *= p[dim]
        total += flint.fmpq(abs(_det(pts)), d)
    return Fraction(int(total.p), int(total.q) * math.factorial(dim))


def _clip(points: list[Hom], tight: list[frozenset], label: Any, row: Row):
    """Clip the polytope conv(points) (every vertex with its complete tight set) by ``row >= 0``.

    Two vertices span an edge iff no third vertex is tight on every row the two share.
    Returns the new (points, tight) or None when less than a point remains.
    """
    vals = [_value(row, p) for p in points]
    keep = [i for i, v in enumerate(vals) if v >= 0]
    if not keep:
        return None
    if len(keep) == len(points):
        return points, [t | {label} if v == 0 else t for t, v in zip(tight, vals)]
    new_pts = [points[i] for i in keep]
    new_tight = [tight[i] | {label} if vals[i] == 0 else tight[i] for i in keep]
    for u in (i for i, v in enumerate(vals) if v > 0):
        for w in (i for i, v in enumerate(vals) if v < 0):
            common = tight[u] & tight[w]
            if any(q not in (u, w) and common <= tight[q] for q in range(len(points))):
                continue
            su, sw = vals[u], vals[w]
            P, Q = points[u], points[w]
            x = [su * b - sw * a for a, b in zip(P, Q)]  # homogeneous: the last entry is the denominator
            new_pts.append(_primitive(x))
            new_tight.append(common | {label})
    return new_pts, new_tight


def _projected_volume(row: Row, points: list[Hom], tight: list[frozenset], D: int) -> Fraction:
    """The (D-1)-volume, projected along the first coordinate the row uses, of a polytope
    inside the row's hyperplane (a label tight at every point, such as the row's own, spans
    the whole polytope and is no face of it, so :func:`_volume` passes over it)."""
    if D == 1:
        return Fraction(1)
    drop = next(j for j in range(D) if row[j])
    proj = [p[:drop] + p[drop + 1:] for p in points]
    return _volume(proj, tight, D - 1)


# -- the network per cell, exact (for single rows: labels named by a caller, rare ties) -----
class _Level:
    """One cell of the first ``l`` layers along a code: its input map and, on demand, its pieces."""

    __slots__ = ("prefix", "M", "mden", "mat", "rows")

    def __init__(self, prefix: tuple, M: list, mden: int) -> None:
        self.prefix = prefix
        self.M = M  # rows [a | c] of the layer input as integer functions of x, over mden
        self.mden = mden
        self.mat = None  # the layer's pieces on the cell, a FLINT matrix (K * R, D + 1)
        self.rows = None  # the same as lists


class _Maps:
    """Exact maps of each layer's input along a code, composed here in integers (FLINT).

    The pieces of layer ``l`` on the cell ``prefix`` (``len(prefix) == l``) are ``K * R``
    integer rows over ``x`` and one denominator.  Only the current path of cells is kept, so
    asks in code order share the work and memory stays proportional to the depth.
    """

    def __init__(self, net) -> None:
        self.D = net.input_dim
        self.layers = []
        for m in net.masos:
            rows, den = m._int_pieces()
            self.layers.append((flint.fmpz_mat(rows), den, m.num_units, m.num_pieces))
        D = self.D
        self.path = [_Level((), [[1 if i == j else 0 for j in range(D + 1)] for i in range(D)], 1)]

    def level(self, prefix: tuple) -> _Level:
        path = self.path
        common = 0
        while common + 1 < len(path) and common < len(prefix) and path[common + 1].prefix == prefix[: common + 1]:
            common += 1
        if common == len(prefix):  # on the current path (deeper cells stay for the next asks)
            return path[common]
        del path[common + 1:]
        for l in range(common, len(prefix)):
            rows, den = self.rows(path[-1])
            R = self.layers[l][3]
            path.append(_Level(prefix[: l + 1], [rows[k * R + c] for k, c in enumerate(prefix[l])], den))
        return path[len(prefix)]

    def rows(self, cell: _Level) -> tuple[list, int]:
        """The pieces of the cell's layer as integer rows (K * R lists) and their denominator."""
        P, pden, _, _ = self.layers[len(cell.prefix)]
        if cell.rows is None:
            cell.mat = P * flint.fmpz_mat(cell.M + [[0] * self.D + [cell.mden]])
            cell.rows = [[int(v) for v in r] for r in cell.mat.tolist()]
        return cell.rows, pden * cell.mden


# -- progress on stderr, drawn like the enumeration's -------------------------------------
class _Progress:
    """A one-line report on stderr, redrawn at most every 0.25 s (the enumeration's format)."""

    INTERVAL = 0.25

    def __init__(self, on: bool, regions: int) -> None:
        self.on = on
        self.regions = regions
        self.start = time.perf_counter()
        self.last = self.start

    def tick(self, stage: str, done: int, total: int) -> None:
        if not self.on:
            return
        now = time.perf_counter()
        if now - self.last >= self.INTERVAL or done == total:
            self.last = now
            sys.stderr.write(f"\rexactmaso: verify {self.regions:,} regions: {stage} {done:,}/{total:,} "
                             f"({now - self.start:.1f} s)    ")
            sys.stderr.flush()

    def close(self, ok: bool) -> None:
        if not self.on:
            return
        word = "verified" if ok else "rejected"
        sys.stderr.write(f"\rexactmaso: {word} {self.regions:,} regions ({time.perf_counter() - self.start:.1f} s)"
                         + " " * 24 + "\n")
        sys.stderr.flush()


# -- the checker -------------------------------------------------------------------------
class _Checker:
    def __init__(self, part: "Partition") -> None:
        self.part = part
        self.net = part.net
        self.D = part.net.input_dim
        dom = part.domain
        A = to_fraction_array(dom.A, name="domain A", ndim=2)
        b = to_fraction_array(dom.b, name="domain b", ndim=1)
        self.dom_rows = [tuple([-v for v in A[i]] + [b[i]]) for i in range(A.shape[0])]
        self.dom_int = [_int_row(r) for r in self.dom_rows]
        self.dom_keys = {_hyperplane_key(r) for r in self.dom_int}
        self.maps = _Maps(self.net)

    def fail(self, message: str) -> None:
        raise CertificateError(message)

    def expected_row(self, i: int, code: tuple, label: Any) -> tuple:
        """The exact row (D + 1 Fractions) that a facet label names, oriented for ``code``."""
        what = self.check_label(i, label, code)
        if what[0] == "d":
            return self.dom_rows[what[1]]
        l, k, r, s = what
        P, den = self.maps.rows(self.maps.level(code[:l]))
        R = self.net.masos[l].num_pieces
        sign = 1 if code[l][k] == r else -1
        pr, ps = P[k * R + r], P[k * R + s]
        return tuple(Fraction(sign * (pr[j] - ps[j]), den) for j in range(self.D + 1))

    def check_label(self, i: int, label: Any, code: Any) -> tuple:
        """("d", t) for a domain row, (l, k, r, s) for a unit's, checked against the domain,
        the network and the code; else a CertificateError saying what is wrong."""
        if not isinstance(label, tuple) or not label:
            self.fail(f"region {i}: facet label {label!r} is not a domain row ('d', i) or a unit (l, k, r, s)")
        if label[0] == "d":
            t = label[1] if len(label) == 2 else -1
            if not (isinstance(t, (int, np.integer)) and 0 <= t < len(self.dom_rows)):
                self.fail(f"region {i}: facet label {label!r} names no row of the domain")
            return ("d", int(t))
        return self.unit_label(i, label, code)

    def unit_label(self, i: int, label: Any, code: Any) -> tuple[int, int, int, int]:
        """(l, k, r, s) of a unit's facet label, checked against the network and the code."""
        if len(label) != 4:
            self.fail(f"region {i}: facet label {label!r} is not (layer, unit, r, s)")
        try:
            l, k, r, s = (int(v) for v in label)
        except (TypeError, ValueError):
            self.fail(f"region {i}: facet label {label!r} is not (layer, unit, r, s)")
        if not 0 <= l < len(self.net.masos):
            self.fail(f"region {i}: facet label {label!r} names layer {l}, which does not exist")
        m = self.net.masos[l]
        if not (0 <= k < m.num_units and 0 <= r < s < m.num_pieces):
            self.fail(f"region {i}: facet label {label!r} names no unit and pair of pieces of layer {l}")
        if code[l][k] not in (r, s):
            self.fail(f"region {i}: facet label {label!r} is for pieces {r}, {s}; the region takes piece {code[l][k]}")
        return l, k, r, s

    # -- the run ---------------------------------------------------------------------------
    def run(self, graph: bool = True, progress: bool = False) -> None:
        """The checks, with the cyclic garbage collector paused: the checker makes hundreds of
        thousands of objects that live until it ends (Fractions, tuples, rows), which would
        otherwise set off collections that walk the whole heap again and again (a sixth of the
        time on 30,000 regions); none of them is garbage in a cycle."""
        paused = gc.isenabled()
        gc.disable()
        try:
            self.run_checks(graph, progress)
        finally:
            if paused:
                gc.enable()

    def run_checks(self, graph: bool, progress: bool) -> None:
        regs = list(self.part)
        self.regs = regs
        self.caches = [_cache(reg) for reg in regs]  # what each region reports (its cache), and its record
        self.recs = [_record(reg) for reg in regs]
        self.progress = _Progress(progress, len(regs))
        ok = False
        try:
            self.check_regions()
            if graph:
                self.check_graph()
            ok = True
        finally:
            self.progress.close(ok)

    def check_regions(self) -> None:
        if not self.regs:
            self.fail(f"the regions' volumes sum to 0; the domain's volume is {self.domain_volume()}")
        for i, reg in enumerate(self.regs):
            if reg.index != i:
                self.fail(f"region {i}: its index says {reg.index}")
        self.read_codes()
        self.read_cells()
        self.read_facets()
        self.exact_rows()
        self.check_rows()
        self.read_vertices()
        self.read_points()
        self.check_points_inside()
        self.float_statuses()
        self.tight_sets()
        self.check_code_at_vertices()
        self.check_vertices_and_facets()
        self.check_complete()
        self.check_point_codes()
        self.check_affine()
        self.check_in_domain()
        num, den = _tree_sum(self.volumes())
        self.store()
        dom_volume = self.domain_volume()
        if num * dom_volume.denominator != dom_volume.numerator * den:
            total = Fraction(int(num), int(den))
            self.fail(f"the regions' volumes sum to {total}; the domain's volume is {dom_volume}")

    # -- codes and the code tree ----------------------------------------------------------
    def read_codes(self) -> None:
        """The regions' codes as one small-integer matrix per layer (checked like the network
        checks a code: ints, one per unit, each a piece of its unit), pairwise distinct."""
        net, regs = self.net, self.regs
        n = len(regs)
        masos = net.masos
        raw = [reg.code for reg in regs]
        arrays = None
        if all(len(c) == len(masos) for c in raw) and all(m.num_pieces <= 256 for m in masos):
            try:
                arrays = []
                for l, m in enumerate(masos):
                    layer = [c[l] for c in raw]
                    if set(map(len, layer)) - {m.num_units}:
                        raise ValueError
                    a = np.frombuffer(b"".join(map(bytes, layer)), dtype=np.uint8).reshape(n, m.num_units)
                    if n and a.max() >= m.num_pieces:
                        raise ValueError
                    arrays.append(a)
            except (TypeError, ValueError):  # not small ints: the network's check names the fault
                arrays = None
        if arrays is None:
            checked = [net.check_code(c) for c in raw]
            arrays = [np.array([c[l] for c in checked], dtype=np.int64).reshape(n, m.num_units)
                      for l, m in enumerate(masos)]
        self.C = arrays
        self.uoff = np.concatenate([[0], np.cumsum([m.num_units for m in masos])]).astype(np.int64)
        self.Cmat = np.concatenate(arrays, axis=1) if arrays else np.zeros((n, 0), dtype=np.uint8)
        self.keys = [_code_bytes(a, m.num_pieces) for a, m in zip(arrays, masos)]  # per layer, compact
        if n > 1:
            first, inv = _unique_rows(np.concatenate(self.keys, axis=1))
            if len(first) != n:
                b = int(np.flatnonzero(first[inv] != np.arange(n)).min())
                self.fail(f"regions {int(first[inv[b]])} and {b} have the same code")
        self.layers = [_Layer(m) for m in masos]
        self.layer_of = np.repeat(np.arange(len(masos)), [m.num_units for m in masos])
        self.progress.tick("codes", n, n)

    def code(self, i: int) -> tuple:
        return tuple(tuple(int(v) for v in a[i]) for a in self.C)

    def read_cells(self) -> None:
        """The code tree: for each level ``l``, every region's cell (its prefix ``w[:l]``), each
        cell's parent cell and a region in it."""
        n, L = len(self.regs), len(self.C)
        cell = [np.zeros(n, dtype=np.int64)]
        parent: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
        rep = [np.zeros(1, dtype=np.int64)]
        for l in range(1, L + 1):
            first, inv = _unique_rows(np.concatenate([cell[-1].view(np.uint8).reshape(n, 8), self.keys[l - 1]], axis=1))
            cell.append(inv)
            rep.append(first)
            parent.append(cell[l - 1][first])
        self.cell, self.parent, self.rep = cell, parent, rep

    # -- facets ---------------------------------------------------------------------------
    def read_facets(self) -> None:
        """Every facet label, checked, as arrays: region, layer (-1 for the domain), unit,
        pieces, domain row; the chosen piece and the orientation of unit rows."""
        regs, ndom = self.regs, len(self.dom_rows)
        self.labels = [reg.facet_labels for reg in regs]
        flat = [lab for labels in self.labels for lab in labels]
        self.f_start = np.concatenate([[0], np.cumsum([len(labels) for labels in self.labels])]).astype(np.int64)
        nf = len(flat)
        self.f_reg = np.repeat(np.arange(len(regs)), np.diff(self.f_start))
        dom = np.array([type(lab) is tuple and len(lab) == 2 and lab[0] == "d" for lab in flat], dtype=bool)
        lay, unit, pr, ps, drow = (np.full(nf, -1, dtype=np.int64) for _ in range(5))
        try:  # in bulk: tuples of ints, in range
            ok = all(type(lab) is tuple for lab in flat)
            if ok and dom.any():
                t = np.array([flat[f][1] for f in np.flatnonzero(dom)])
                ok = t.dtype.kind in "iu" and t.ndim == 1 and bool(((t >= 0) & (t < ndom)).all())
                if ok:
                    drow[dom] = t
            if ok and not dom.all():
                u = np.array([flat[f] for f in np.flatnonzero(~dom)])
                ok = u.dtype.kind in "iu" and u.ndim == 2 and u.shape[1] == 4
                if ok:
                    lay[~dom], unit[~dom], pr[~dom], ps[~dom] = u.T
                    ok = self.labels_valid(lay, unit, pr, ps, ~dom)
        except (TypeError, ValueError):
            ok = False
        if not ok:  # one by one: the first bad label is named (labels of other number types pass as before)
            checked = [self.check_label(i, lab, _CodeRow(self.C, i))
                       for i, labels in enumerate(self.labels) for lab in labels]
            for f, what in enumerate(checked):
                if what[0] == "d":
                    lay[f], drow[f] = -1, what[1]
                else:
                    lay[f], unit[f], pr[f], ps[f] = what
                    drow[f] = -1
        self.f_l, self.f_k, self.f_r, self.f_s, self.f_d = lay, unit, pr, ps, drow
        self.f_unit = lay >= 0
        self.f_col = np.where(self.f_unit, self.uoff[np.maximum(lay, 0)] + unit, -1)
        chosen = np.zeros(nf, dtype=np.int64)
        chosen[self.f_unit] = self.Cmat[self.f_reg[self.f_unit], self.f_col[self.f_unit]]
        self.f_c = chosen  # the piece the region takes at the facet's unit
        self.f_sign = np.where(chosen == pr, 1, -1)

    def labels_valid(self, lay, unit, pr, ps, sel) -> bool:
        """Unit labels name a layer, a unit and two pieces ``r < s`` of it, one of them the
        region's (vectorised; :meth:`check_label` names a failure)."""
        L = len(self.layers)
        l = lay[sel]
        if not ((l >= 0) & (l < L)).all():
            return False
        K = np.array([lay_.K for lay_ in self.layers])[l]
        R = np.array([lay_.R for lay_ in self.layers])[l]
        k, r, s = unit[sel], pr[sel], ps[sel]
        if not ((k >= 0) & (k < K) & (r >= 0) & (r < s) & (s < R)).all():
            return False
        c = self.Cmat[self.f_reg[sel], self.uoff[l] + k]
        return bool(((c == r) | (c == s)).all())

    def exact_rows(self) -> None:
        """Each facet's row exactly (integers over a denominator) and primitive, its
        hyperplane and orientation; each region's affine map; all by one modular cascade."""
        L, D = len(self.layers), self.D
        n, nf = len(self.regs), len(self.f_reg)
        # the distinct rows a label names: (level-l cell, piece r, piece s) of unit k
        diffs, self.f_req = [], np.full(nf, -1, dtype=np.int64)
        for l in range(L):
            lay = self.layers[l]
            idx = np.flatnonzero(self.f_l == l)
            if len(idx):
                key = np.stack([self.cell[l][self.f_reg[idx]], lay.nz[self.f_k[idx] * lay.R + self.f_r[idx]],
                                lay.nz[self.f_k[idx] * lay.R + self.f_s[idx]]], axis=1)
                first, inv = _unique_rows(key)
                uk = key[first]
                self.f_req[idx] = inv
                diffs.append((uk[:, 0], uk[:, 1], uk[:, 2]))
            else:
                diffs.append((np.zeros(0, dtype=np.int64),) * 3)
        last = self.layers[L - 1]
        final = last.nz[np.arange(last.K)[None, :] * last.R + self.C[L - 1]]
        cas = _Cascade(self.layers, D, self.cell, self.parent, self.rep, self.C)
        self.cascade = cas
        self.diff_rows, self.affine_rows = cas.run(diffs, final, self.progress)
        # one table of distinct primitive rows (the domain's first), each with its hyperplane
        table = list(self.dom_int)
        offset = [len(table)]
        for rows in self.diff_rows:
            if len(rows):
                g = np.gcd.reduce(rows, axis=1)
                table.extend(map(tuple, (rows // np.where(g == 0, 1, g)[:, None]).tolist()))
            offset.append(len(table))
        keys: dict[tuple, int] = {}
        t_hid = np.empty(len(table), dtype=np.int64)
        t_ori = np.empty(len(table), dtype=np.int64)
        for t, row in enumerate(table):
            key, o = _hyperplane_key(row)
            t_hid[t], t_ori[t] = keys.setdefault(key, len(keys)), o
        rid = np.where(self.f_unit, np.array(offset[:-1] + [0])[np.maximum(self.f_l, 0)] + self.f_req, self.f_d)
        sign = np.where(self.f_unit, self.f_sign, 1)
        T = np.array(table, dtype=object).reshape(len(table), D + 1)
        self.f_rid, self.f_orient = rid, sign
        self.f_row = T.take(rid, axis=0) * sign[:, None]  # (facets, D + 1): primitive, oriented like the region
        self.f_hid = t_hid[rid]
        self.f_ori = t_ori[rid] * sign
        dom_side = {(t_hid[t], t_ori[t]) for t in range(len(self.dom_int))}
        self.f_dom_boundary = np.array([(h, o) in dom_side for h, o in zip(self.f_hid.tolist(), self.f_ori.tolist())],
                                       dtype=bool)  # on a hyperplane of the domain, on the domain's side
        self.progress.tick("rows", n, n)

    def fraction_rows(self, facets: np.ndarray) -> list[tuple]:
        """The exact rows of some facets as Fractions (what their regions report); one tuple
        per distinct row and orientation, shared by the regions that report it."""
        lay, sgn = self.f_l[facets], self.f_sign[facets]
        unit = lay >= 0
        key = np.stack([lay, np.where(unit, self.f_req[facets], self.f_d[facets]), np.where(unit, sgn, 1)], axis=1)
        first, inv = _unique_rows(key)
        distinct = key[first]
        pos: dict[tuple, tuple] = {}  # (level, row) -> (the row, its negative) as Fractions
        for l in np.unique(distinct[distinct[:, 0] >= 0, 0]).tolist():
            ts = np.unique(distinct[distinct[:, 0] == l, 1])
            rows_l = self.diff_rows[l][ts]
            flat = _lowest_terms(rows_l, self.cascade.zden[l])
            neg = [_fraction(-f._numerator, f._denominator) for f in flat]
            w = rows_l.shape[1]
            for q, t in enumerate(ts.tolist()):
                pos[l, t] = (tuple(flat[q * w:(q + 1) * w]), tuple(neg[q * w:(q + 1) * w]))
        rows = [self.dom_rows[t] if l < 0 else pos[l, t][0 if s > 0 else 1] for l, t, s in distinct.tolist()]
        return [rows[k] for k in inv.tolist()]

    def facet_equals(self, f: int, row: Any) -> bool:
        """Whether a reported row equals facet ``f``'s exact row."""
        if len(row) != self.D + 1:
            return False
        if self.f_l[f] < 0:
            return tuple(row) == self.dom_rows[self.f_d[f]]
        l = self.f_l[f]
        den = self.cascade.zden[l]
        sgn = int(self.f_sign[f])
        return all(_frac_equal(v, sgn * int(e), den) for v, e in zip(row, self.diff_rows[l][self.f_req[f]]))

    def check_rows(self) -> None:
        """Reported rows (and polytopes) equal the rows their labels name; rows not yet
        computed are taken from here (stored after the checks).  A polytope not yet computed
        is left to be built, on first use, from the rows that are then stored."""
        D = self.D
        reported: dict[int, list] = {}
        fresh = []
        for i, (reg, rec) in enumerate(zip(self.regs, self.recs)):
            rows = reg._cache.get("rows") if rec is not None else reg.facet_rows()
            if rows is None:
                fresh.append(i)
            else:
                reported[i] = rows
        idx = (np.concatenate([np.arange(self.f_start[i], self.f_start[i + 1]) for i in fresh]) if fresh
               else np.zeros(0, dtype=np.int64))
        flat = self.fraction_rows(idx)
        self.new_rows: dict[int, list] = {}
        at = 0
        for i in fresh:
            m = int(self.f_start[i + 1] - self.f_start[i])
            self.new_rows[i] = flat[at:at + m]
            at += m
        for i, rows in reported.items():
            a, b = int(self.f_start[i]), int(self.f_start[i + 1])
            rows = [tuple(r) for r in rows]
            if len(rows) != b - a:
                self.fail(f"region {i}: {len(rows)} facet rows for {b - a} facet labels")
            for t, row in enumerate(rows):
                if not self.facet_equals(a + t, row):
                    self.fail(f"region {i}: facet row {t} is not the row of its label {self.labels[i][t]!r}")
        for i, (reg, rec) in enumerate(zip(self.regs, self.recs)):
            poly = reg._cache.get("polytope") if rec is not None else reg.polytope
            if poly is not None:
                rows = self.new_rows[i] if i in self.new_rows else [tuple(r) for r in reported[i]]
                A, bb = np.asarray(poly.A), np.asarray(poly.b)
                if A.shape != (len(rows), D) or any(
                    tuple(-v for v in A[t]) + (bb[t],) != row for t, row in enumerate(rows)
                ):
                    self.fail(f"region {i}: its polytope differs from its facet rows")

    # -- vertices -------------------------------------------------------------------------
    def read_vertices(self) -> None:
        """Every region's vertices as homogeneous integers, each distinct vertex once: reported
        ones as given; an engine region's not yet computed ones solved here from the facets
        its record says meet there (a proposal, checked like any vertex)."""
        D, regs = self.D, self.regs
        n = len(regs)
        claimed: dict[int, list] = {}  # region -> its reported vertices as Homs
        records: list[tuple[int, np.ndarray]] = []  # regions whose vertices are solved here, and their incidences
        self.derived = np.zeros(n, dtype=bool)
        self.cramer = (np.zeros(0, dtype=np.int64), np.zeros((0, D), dtype=np.int64))  # see solve_vertices
        counts = np.zeros(n, dtype=np.int64)
        m = np.diff(self.f_start)
        nfac = m.tolist()
        for i, (reg, rec) in enumerate(zip(regs, self.recs)):
            V = reg._cache.get("vertices") if rec is not None else reg.vertices()
            if V is None:
                F = np.asarray(rec.geom.F, dtype=bool)
                if F.ndim == 2 and F.shape[1] == nfac[i]:
                    records.append((i, F))
                    continue
                V = reg.vertices()  # an unusual record: the engine's own vertices
            V = np.asarray(V, dtype=object)
            if V.ndim != 2 or (len(V) and V.shape[1] != D):
                self.fail(f"region {i}: its vertices have shape {V.shape}; expected (n, {D})")
            claimed[i] = [_hom([Fraction(t) for t in v]) for v in V]
            counts[i] = len(V)
        if records:  # the incidences of all those regions at once: (region, vertex, facet)
            who = np.array([i for i, _ in records], dtype=np.int64)
            self.derived[who] = True
            counts[who] = [F.shape[0] for _, F in records]
            sizes = np.array([F.size for _, F in records], dtype=np.int64)
            at = np.flatnonzero(np.concatenate([F.ravel() for _, F in records]))
            k = np.searchsorted(np.cumsum(sizes), at, side="right")
            local = at - (np.cumsum(sizes) - sizes)[k]
            mi = m[who[k]]
            solve_reg, solve_q, solve_fac = who[k], local // mi, local % mi + self.f_start[who[k]]
        few = np.flatnonzero(counts < D + 1)
        if len(few):
            i = int(few[0])
            self.fail(f"region {i}: {counts[i]} vertices cannot span dimension {D}")
        self.i_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.i_reg = np.repeat(np.arange(n), counts)
        ids: dict[Hom, int] = {}
        vid = np.full(len(self.i_reg), -1, dtype=np.int64)
        for i, hs in claimed.items():
            vid[self.i_start[i]:self.i_start[i + 1]] = [ids.setdefault(h, len(ids)) for h in hs]
        if records:
            inc, homs, which = self.solve_vertices(solve_reg, solve_q, solve_fac)
            hv = np.array([-1 if h is None else ids.setdefault(h, len(ids)) for h in homs] + [-1], dtype=np.int64)
            vid[inc] = hv[which]
        missing = np.flatnonzero(vid < 0)  # an engine vertex on no facet at all
        if len(missing):
            q = int(missing[0])
            i = int(self.i_reg[q])
            self.fail(f"region {i}: vertex {q - self.i_start[i]} is not a vertex of the region "
                      f"(its tight rows have rank < {D})")
        self.i_vid = vid
        first, inv = _unique_rows(np.stack([self.i_reg, vid], axis=1))
        if len(first) != len(vid):
            q = int(np.flatnonzero(first[inv] != np.arange(len(vid))).min())
            self.fail(f"region {int(self.i_reg[q])}: a vertex is listed twice")
        self.V = list(ids)
        self.Vobj = np.array(self.V, dtype=object).reshape(len(self.V), D + 1)
        self.X, self.E = _vertex_floats(self.V, D)
        self.progress.tick("vertices", n, n)

    def local(self, i: int) -> list[Hom]:
        """Region ``i``'s vertices, in its order."""
        return [self.V[v] for v in self.i_vid[self.i_start[i]:self.i_start[i + 1]].tolist()]

    def solve_vertices(self, s_reg: np.ndarray, s_q: np.ndarray, s_fac: np.ndarray) -> tuple:
        """Solve the proposed vertices of engine regions: D of the facets each lies on (the
        first independent ones in label order, like the engine), by Cramer's rule in integers,
        once per distinct set of hyperplanes.  Returns (incidences, distinct points, the point
        of each incidence).  Records the incidences solved from their first D facets and those
        facets (``self.cramer``): the rows are zero there by construction."""
        D = self.D
        order = np.lexsort((s_fac, s_q, s_reg))
        s_reg, s_q, s_fac = s_reg[order], s_q[order], s_fac[order]
        inc_all = self.i_start[s_reg] + s_q
        brk = np.flatnonzero(np.r_[True, inc_all[1:] != inc_all[:-1]])
        inc = inc_all[brk]
        ntight = np.diff(np.r_[brk, len(inc_all)])
        first = np.zeros((len(brk), D), dtype=np.int64)
        enough = ntight >= D
        for j in range(D):
            first[enough, j] = s_fac[brk[enough] + j]
        cand = np.flatnonzero(enough)
        homs: list[Hom | None] = []
        which = np.full(len(brk), -1, dtype=np.int64)
        if len(cand):
            firsts, inv = _unique_rows(np.sort(self.f_hid[first[cand]], axis=1))
            rows = np.empty((len(firsts), D, D + 1), dtype=object)
            for j in range(D):
                rows[:, j, :] = self.f_row.take(first[cand[firsts], j], axis=0)
            homs = _normalised_homs(_null_vectors(rows))
            which[cand] = inv
        dead = np.array([h is None for h in homs], dtype=bool)
        retry = np.flatnonzero((which < 0) | (dead[np.maximum(which, 0)] if len(homs) else True))
        for c in retry.tolist():  # the first D are dependent: the others, in order
            which[c] = -1
            if ntight[c] > D:
                facs = s_fac[brk[c]:brk[c] + ntight[c]]
                for combo in combinations(facs.tolist(), D):
                    rows = np.array([[self.f_row[f] for f in combo]], dtype=object)
                    h = _normalised_hom(_null_vectors(rows)[0].tolist())
                    if h is not None:
                        which[c] = len(homs)
                        homs.append(h)
                        break
            if which[c] < 0:
                i = int(s_reg[brk[c]])
                self.fail(f"region {i}: vertex {int(s_q[brk[c]])} is not a vertex of the region (its tight rows have "
                          f"rank < {D})")
        solved = np.zeros(len(brk), dtype=bool)
        solved[cand] = True
        solved[retry] = False
        self.cramer = (inc[solved], first[solved])
        return inc, homs, which

    # -- points ---------------------------------------------------------------------------
    def read_points(self) -> None:
        """Reported points as given; points not yet computed are chosen here (the float mean
        of the vertices when it is strictly inside, else a positive combination of them)."""
        D = self.D
        self.points: list[Hom | None] = []
        self.new_points: list[int] = []
        for i, (reg, rec) in enumerate(zip(self.regs, self.recs)):
            p = reg._cache.get("point") if rec is not None else reg.point
            if p is None:
                self.points.append(None)
                self.new_points.append(i)
            else:
                p = np.asarray(p, dtype=object)
                if p.shape != (D,):
                    self.fail(f"region {i}: its point has shape {p.shape}; expected ({D},)")
                self.points.append(_hom([Fraction(t) for t in p]))

    def check_points_inside(self) -> None:
        """Every point strictly inside every facet row of its region (exact)."""
        if self.new_points:
            counts = np.diff(self.i_start)
            with np.errstate(all="ignore"):
                mean = np.add.reduceat(self.X.take(self.i_vid, axis=0), self.i_start[:-1], axis=0) / counts[:, None]
            finite = np.isfinite(mean).all(axis=1)
            todo = np.array(self.new_points, dtype=np.int64)
            good = todo[finite[todo]]
            for i, h in zip(good.tolist(), _dyadic_homs(mean.take(good, axis=0))):
                self.points[i] = h
            for i in todo[~finite[todo]].tolist():
                self.points[i] = self.positive_combination(i)
        vals = self.point_values()
        bad = np.flatnonzero(vals <= 0)
        new = set(self.new_points)
        retry = sorted({int(self.f_reg[f]) for f in bad.tolist()} & new)
        if retry:  # the float mean is not strictly inside (a sliver): a combination of all vertices is
            for i in retry:
                self.points[i] = self.positive_combination(i)
            vals = self.point_values()
            bad = np.flatnonzero(vals <= 0)
        if len(bad):
            f = int(bad[0])
            i = int(self.f_reg[f])
            self.fail(f"region {i}: its point is not strictly inside facet row {f - self.f_start[i]}")

    def positive_combination(self, i: int) -> Hom:
        """sum(n_q) / sum(d_q) over the region's vertices: every vertex with a positive weight."""
        hs = self.local(i)
        return _normalised_hom([sum(h[j] for h in hs) for j in range(self.D + 1)])

    def point_values(self) -> np.ndarray:
        P = np.empty((len(self.regs), self.D + 1), dtype=object)
        for i, h in enumerate(self.points):
            P[i] = h
        return _dot(self.f_row, P.take(self.f_reg, axis=0))

    # -- the code at the vertices -----------------------------------------------------------
    def float_statuses(self) -> None:
        """The float forward pass at every distinct vertex (see :func:`_forward_statuses`)."""
        nv = len(self.V)
        lays = self.layers
        self.two_col = np.full(int(self.uoff[-1]), -1, dtype=np.int64)  # unit column -> column of ``two``
        c2 = 0
        for l, lay in enumerate(lays):
            if lay.R <= 2:
                self.two_col[self.uoff[l]:self.uoff[l + 1]] = np.arange(c2, c2 + lay.K)
                c2 += lay.K
        two = np.zeros((nv, c2), dtype=np.int8)
        many = {l: np.zeros((nv, lay.K, lay.R), dtype=np.int8) for l, lay in enumerate(lays) if lay.R > 2}
        for a in range(0, nv, CHUNK):
            with np.errstate(all="ignore"):  # overflow gives infinities, which decide nothing
                t, m = _forward_statuses(self.X[a:a + CHUNK], self.E[a:a + CHUNK], lays)
            two[a:a + CHUNK] = t
            for l, arr in m.items():
                many[l][a:a + CHUNK] = arr
            self.progress.tick("signs", min(nv, a + CHUNK), nv)
        self.two, self.many = two, many
        self.two_cols = np.flatnonzero(self.two_col >= 0)

    def chosen_status(self, vids: np.ndarray, regions: np.ndarray) -> np.ndarray:
        """(pairs, units): the float status of the piece each region takes, at each vertex."""
        out = np.empty((len(vids), int(self.uoff[-1])), dtype=np.int8)
        tc = self.two_cols
        if len(tc):
            sgn = 2 * self.Cmat.take(regions, axis=0)[:, tc].astype(np.int8) - 1
            out[:, tc] = self.two[vids] * sgn
        for l, arr in self.many.items():
            a, b = int(self.uoff[l]), int(self.uoff[l + 1])
            chosen = self.C[l][regions][:, :, None].astype(np.int64)
            out[:, a:b] = np.take_along_axis(arr[vids], chosen, axis=2)[:, :, 0]
        return out

    def pair_status(self, vids: np.ndarray, cols: np.ndarray, chosen: np.ndarray) -> np.ndarray:
        """The float status of piece ``chosen`` of unit column ``cols`` at vertex ``vids``."""
        out = np.zeros(len(vids), dtype=np.int8)
        t = self.two_col[cols]
        two = t >= 0
        out[two] = self.two[vids[two], t[two]] * (2 * chosen[two] - 1).astype(np.int8)
        for l, arr in self.many.items():
            sel = self.layer_of[cols] == l
            if sel.any():
                out[sel] = arr[vids[sel], cols[sel] - self.uoff[l], chosen[sel]]
        return out

    def check_code_at_vertices(self) -> None:
        """At every vertex of every region each chosen piece is a maximum of its unit, the
        layers composed along the region's code: proved by the float forward pass where it can
        tell, else in exact integers.  Records where a chosen piece is strictly above all
        others (for the point's code).

        For a unit of at most two pieces the float status of piece 1 at a vertex is the same
        for every region holding the vertex, and the chosen piece's is it or its negative, so
        per region and unit the extremes of the status over the vertices decide: some vertex
        proves the chosen piece strictly above (strict), some proves it below (a failure).
        The undecided ones (status 0) are the units whose boundary the float bound cannot
        separate from the vertex; there the region's two-piece facet row on the unit, when it
        has one, was evaluated exactly by :meth:`tight_sets` (its row is the chosen piece
        minus the other, along the code); other units are evaluated along the code."""
        n, Ucols = len(self.regs), int(self.uoff[-1])
        layer_of, tc = self.layer_of, self.two_cols
        strict = np.zeros((n, Ucols), dtype=bool)
        fails: list[tuple[int, int]] = []  # (incidence, unit column) proved to fail
        u_inc, u_col = [], []
        step = max(1, (1 << 22) // max(1, Ucols))
        r0 = 0
        while r0 < n:  # chunks of whole regions, about ``step`` incidences each
            r1 = int(np.searchsorted(self.i_start, self.i_start[r0] + step, side="right")) - 1
            r1 = min(n, max(r1, r0 + 1))
            a, b = int(self.i_start[r0]), int(self.i_start[r1])
            starts = self.i_start[r0:r1] - a
            if len(tc):
                G = self.two[self.i_vid[a:b]]  # (incidences, units of at most two pieces)
                hi, lo = _segment_any(G == 1, starts), _segment_any(G == -1, starts)
                one = self.Cmat[r0:r1][:, tc] == 1
                strict[r0:r1, tc] = np.where(one, hi, lo)
                if np.where(one, lo, hi).any():  # some chosen piece proved below: find where
                    st = self.chosen_status(self.i_vid[a:b], self.i_reg[a:b])
                    fails.extend((a + row, c) for row, c in np.argwhere(st == -1)[:64].tolist())
                ui, uc = _nonzero2(G == 0)
                u_inc.append(ui + a)
                u_col.append(tc[uc])
            for l, arr in self.many.items():
                ua = int(self.uoff[l])
                chosen = self.C[l][self.i_reg[a:b]][:, :, None].astype(np.int64)
                st = np.take_along_axis(arr[self.i_vid[a:b]], chosen, axis=2)[:, :, 0]
                strict[r0:r1, ua:ua + arr.shape[1]] = _segment_any(st == 1, starts)
                fails.extend((a + row, ua + c) for row, c in np.argwhere(st == -1)[:64].tolist())
                ui, uc = _nonzero2(st == 0)
                u_inc.append(ui + a)
                u_col.append(uc + ua)
            r0 = r1
        u_inc = np.concatenate(u_inc) if u_inc else np.zeros(0, dtype=np.int64)
        u_col = np.concatenate(u_col) if u_col else np.zeros(0, dtype=np.int64)
        # undecided: exactly, by the sign of the region's own two-piece facet row where it has
        # one (from :meth:`tight_sets`), else along its code (cell maps composed here)
        fac = self.two_piece_facets(self.i_reg[u_inc], u_col)
        with_f = fac >= 0
        if with_f.any():
            sg = self.pair_sign(u_inc[with_f], fac[with_f])
            inc_w, col_w = u_inc[with_f], u_col[with_f]
            pos = sg > 0
            strict[self.i_reg[inc_w[pos]], col_w[pos]] = True
            fails.extend(zip(inc_w[sg < 0].tolist(), col_w[sg < 0].tolist()))
        rest = np.flatnonzero(~with_f)
        if len(rest):
            for t in rest[np.lexsort((u_col[rest], self.i_reg[u_inc[rest]]))].tolist():
                inc, col = int(u_inc[t]), int(u_col[t])
                i = int(self.i_reg[inc])
                l = int(layer_of[col])
                vals = self.piece_values(i, l, col - int(self.uoff[l]), self.V[self.i_vid[inc]])
                c = int(self.Cmat[i, col])
                if any(v > vals[c] for v in vals):
                    fails.append((inc, col))
                elif all(vals[c] > v for s, v in enumerate(vals) if s != c):
                    strict[i, col] = True
        self.strict = strict
        if fails:
            # the first failing layer of the first failing vertex of the first region: every
            # earlier layer there is proved (or checked) to choose maxima, so the pieces along
            # the code at this layer are the forward pass's, and the failure is the code's
            inc, col = min(fails, key=lambda ic: (ic[0], layer_of[ic[1]], ic[1]))
            i = int(self.i_reg[inc])
            q = inc - int(self.i_start[i])
            l = int(layer_of[col])
            k = col - int(self.uoff[l])
            c = int(self.Cmat[i, col])
            if self.layers[l].R == 2:
                self.fail(f"region {i}: at vertex {q}, unit {k} of layer {l} does not take piece {c}")
            vals = self.piece_values(i, l, k, self.V[self.i_vid[inc]])
            s = max(range(len(vals)), key=lambda t: (vals[t], -t))
            self.fail(f"region {i}: at vertex {q}, unit {k} of layer {l} does not take piece {c} (piece {s} is larger)")

    def pair_sign(self, incs: np.ndarray, facets: np.ndarray) -> np.ndarray:
        """The exact sign of facet rows at incidences of their own regions (from :meth:`tight_sets`)."""
        reg = self.i_reg[incs]
        m = np.diff(self.f_start)
        at = self.p_start[reg] + (incs - self.i_start[reg]) * m[reg] + (facets - self.f_start[reg])
        return self.p_sign[at]

    def two_piece_facets(self, regions: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """For (region, unit column) pairs: a facet of the region on that unit when the unit
        has two pieces (its oriented row is the chosen piece minus the other), else -1."""
        Ucols = int(self.uoff[-1])
        two = self.f_unit & (np.array([lay.R for lay in self.layers])[np.maximum(self.f_l, 0)] == 2)
        keys = self.f_reg[two] * Ucols + self.f_col[two]
        facs = np.flatnonzero(two)
        order = np.argsort(keys, kind="stable")
        keys, facs = keys[order], facs[order]
        want = regions * Ucols + cols
        pos = np.minimum(np.searchsorted(keys, want), max(len(keys) - 1, 0))
        hit = (keys[pos] == want) if len(keys) else np.zeros(len(want), dtype=bool)
        return np.where(hit, facs[pos] if len(keys) else -1, -1)

    def piece_values(self, i: int, l: int, k: int, h: Hom) -> list[int]:
        """The exact values (times a positive factor) of unit ``k``'s pieces of layer ``l`` at
        ``h``, along region ``i``'s code."""
        rows, _ = self.maps.rows(self.maps.level(self.code(i)[:l]))
        R = self.layers[l].R
        return [_value(rows[k * R + r], h) for r in range(R)]

    # -- tight sets, vertices and facets ----------------------------------------------------
    def tight_sets(self) -> None:
        """For every region, every facet row's sign at every one of its vertices: a unit row is
        positive where the float forward pass proves the chosen piece strictly above the
        others (the row is that difference along the code, so this holds where the code check
        of :meth:`check_code_at_vertices`, which runs next and fails otherwise, holds at the
        earlier layers); the D rows a vertex was solved from here (:meth:`solve_vertices`) are
        zero there by Cramer's rule (a determinant with a repeated row); every other sign (and
        every domain row's) is evaluated exactly."""
        m = np.diff(self.f_start)
        nvert = np.diff(self.i_start)
        per = m * nvert
        P = int(per.sum())
        self.p_start = np.cumsum(per) - per  # each region's first pair
        # pairs (incidence, facet) region by region: vertex-major
        reg_of = np.repeat(np.arange(len(self.regs)), per)
        loc = np.arange(P) - np.repeat(np.cumsum(per) - per, per)
        mm = np.maximum(m[reg_of], 1)
        p_inc = self.i_start[reg_of] + loc // mm
        p_fac = self.f_start[reg_of] + loc % mm
        sign = np.zeros(P, dtype=np.int8)
        u = np.flatnonzero(self.f_unit[p_fac])
        if len(u):
            st = self.pair_status(self.i_vid[p_inc[u]], self.f_col[p_fac[u]], self.f_c[p_fac[u]])
            sign[u[st == 1]] = 1
        zero = np.zeros(P, dtype=bool)
        c_inc, c_fac = self.cramer
        if len(c_inc):
            c_reg = self.i_reg[c_inc]
            at = self.p_start[c_reg] + (c_inc - self.i_start[c_reg]) * m[c_reg]
            zero[(at[:, None] + c_fac - self.f_start[c_reg][:, None]).ravel()] = True
            sign[zero] = 0
        need = np.flatnonzero((sign == 0) & ~zero)
        if len(need):
            sign[need] = _sign(_dot(self.f_row.take(p_fac[need], axis=0), self.Vobj.take(self.i_vid[p_inc[need]], axis=0)))
        self.p_inc, self.p_fac, self.p_sign = p_inc, p_fac, sign
        self.progress.tick("facets", len(self.regs), len(self.regs))

    def check_vertices_and_facets(self) -> None:
        """Vertices satisfy their region's rows and are tight on rows of rank D; each row is
        tight on vertices of affine rank D - 1 (two vertices in 2-D), no two on the same ones."""
        D = self.D
        bad = np.flatnonzero(self.p_sign < 0)
        if len(bad):
            t = int(bad[0])
            inc, f = int(self.p_inc[t]), int(self.p_fac[t])
            i = int(self.i_reg[inc])
            self.fail(f"region {i}: vertex {inc - self.i_start[i]} violates facet row {f - self.f_start[i]}")
        tight = self.p_sign == 0
        t_inc, t_fac = self.p_inc[tight], self.p_fac[tight]  # by incidence, facets in order
        cnt = np.bincount(t_inc, minlength=len(self.i_reg))
        self.t_inc, self.t_fac, self.t_cnt = t_inc, t_fac, cnt
        self.t_start = tstart = np.concatenate([[0], np.cumsum(cnt)])
        few = np.flatnonzero(cnt < D)
        if len(few):
            inc = int(few[0])
            i = int(self.i_reg[inc])
            self.fail(f"region {i}: vertex {inc - self.i_start[i]} is not a vertex of the region "
                      f"(its tight rows have rank < {D})")
        # rank D: the first D tight normals independent (one determinant per distinct set), else FLINT
        firsts = np.stack([t_fac[tstart[:-1] + j] for j in range(D)], axis=1)
        uniq, inv = _unique_rows(np.sort(self.f_hid[firsts], axis=1))
        normals = np.empty((len(uniq), D, D), dtype=object)
        for j in range(D):
            normals[:, j, :] = self.f_row.take(firsts[uniq, j], axis=0)[:, :D]
        ok = (_dets(normals) != 0)[inv]
        for inc in np.flatnonzero(~ok).tolist():
            facs = t_fac[tstart[inc]:tstart[inc + 1]].tolist()
            if len(facs) == D or _rank([self.f_row[f][:D] for f in facs]) < D:
                i = int(self.i_reg[inc])
                self.fail(f"region {i}: vertex {inc - self.i_start[i]} is not a vertex of the region "
                          f"(its tight rows have rank < {D})")
        # facets: the vertices each row is tight on, by facet
        order = np.lexsort((t_inc, t_fac))
        self.fv_inc = inc_sorted = t_inc[order]
        fcnt = np.bincount(t_fac[order], minlength=len(self.f_reg))
        self.fv_start = fstart = np.concatenate([[0], np.cumsum(fcnt)])
        small = np.flatnonzero(fcnt != 2 if D == 2 else fcnt < D)
        if len(small):
            f = int(small[0])
            i = int(self.f_reg[f])
            t = f - int(self.f_start[i])
            if D == 2 and fcnt[f] > 2:
                self.fail(f"region {i}: facet row {t} holds {fcnt[f]} listed vertices; an edge of a polygon holds two "
                          "(the vertex list is incomplete or wrong)")
            self.fail(f"region {i}: facet row {t} is not a facet (its vertices do not span dimension {D - 1})")
        # no two facet rows of a region on the same vertex set (incidences padded with -1)
        width = int(fcnt.max()) if len(fcnt) else 0
        pad = np.full((len(self.f_reg), width + 1), -1, dtype=np.int64)
        pad[:, 0] = self.f_reg
        pos = np.arange(len(inc_sorted)) - np.repeat(fstart[:-1], fcnt)
        pad[np.repeat(np.arange(len(self.f_reg)), fcnt), 1 + pos] = inc_sorted
        if len(_unique_rows(pad)[0]) != len(self.f_reg):
            seen: dict[tuple, int] = {}
            for f in range(len(self.f_reg)):
                key = (int(self.f_reg[f]), tuple(inc_sorted[fstart[f]:fstart[f + 1]].tolist()))
                if key in seen:
                    self.fail(f"region {key[0]}: two facet rows hold the same facet")
                seen[key] = f

    def check_facet_ranks(self, facets: np.ndarray) -> None:
        """Affine rank D - 1 of these facets' vertices: D of them with a non-zero maximal minor
        (the first D, batched), else the rank of all of them."""
        D = self.D
        inc_sorted, fstart = self.fv_inc, self.fv_start
        pts = np.empty((len(facets), D, D + 1), dtype=object)
        for j in range(D):
            pts[:, j, :] = self.Vobj.take(self.i_vid[inc_sorted[fstart[facets] + j]], axis=0)
        ok = (_null_vectors(pts) != 0).any(axis=1) if len(facets) else np.zeros(0, dtype=bool)
        for f in facets[~ok].tolist():
            S = [self.V[self.i_vid[q]] for q in inc_sorted[fstart[f]:fstart[f + 1]].tolist()]
            if _affine_rank(S) != D - 1:
                i = int(self.f_reg[f])
                self.fail(f"region {i}: facet row {f - self.f_start[i]} is not a facet (its vertices do not span "
                          f"dimension {D - 1})")

    def check_complete(self) -> None:
        """The listed vertices are all the vertices of {rows >= 0}, which is bounded.

        1-D: two vertices of an interval are its two ends.  2-D: every row holds exactly two
        listed vertices (checked with the facets), so each edge of the polygon ends at listed
        vertices and the polygon, whose every edge is a segment, is bounded.  Otherwise, at a
        simple vertex (D tight rows, independent) the edges are the lines on which D - 1 of
        them stay tight, and each must hold another listed vertex tight on those D - 1 rows (it
        lies on the edge's ray, since it satisfies the row that leaves, and a vertex of P on an
        edge of P is the edge's end, so the edge is bounded and ends there); at other vertices
        every extreme ray of the cone of the tight rows is followed exactly to the first row
        that stops it.
        """
        D = self.D
        if D <= 2:
            return
        cnt, tstart = self.t_cnt, self.t_start
        # a facet holding a simple vertex whose edges all end at listed vertices has D - 1
        # independent edges from it in its hyperplane: affine rank D - 1; the others are checked
        simple_on = np.zeros(len(self.f_reg), dtype=bool)
        simple_on[self.t_fac[(cnt == D)[self.t_inc] & (np.diff(self.f_start)[self.i_reg[self.t_inc]] <= 63)]] = True
        m = np.diff(self.f_start)
        nvert = np.diff(self.i_start)
        narrow = m[self.i_reg] <= 63  # tight sets fit one uint64 mask
        masks = np.zeros(len(self.i_reg), dtype=np.uint64)
        local = (self.t_fac - self.f_start[self.i_reg[self.t_inc]]).astype(np.uint64)
        keep = narrow[self.t_inc]
        np.bitwise_or.at(masks, self.t_inc[keep], np.left_shift(np.uint64(1), local[keep]))
        simple = (cnt == D) & narrow
        # padded masks of each region's vertices (0 never holds the D - 1 >= 2 rows of an edge)
        width = int(nvert.max())
        pad = np.zeros((len(self.regs), width), dtype=np.uint64)
        col = np.arange(len(self.i_reg)) - self.i_start[self.i_reg]
        pad[self.i_reg, col] = masks
        sinc = np.flatnonzero(simple)
        # an edge's D - 1 rows (a simple vertex's mask less one row) that another simple vertex of
        # the region also drops one row to reach: that vertex ends the edge (found by sorting)
        bits = np.stack([np.left_shift(np.uint64(1), local[tstart[sinc] + j]) for j in range(D)], axis=1)
        S = (masks[sinc][:, None] ^ bits).ravel()  # (simple vertex, row dropped), flat
        reg = np.repeat(self.i_reg[sinc], D)
        order = np.lexsort((S, reg))
        twin = (reg[order][1:] == reg[order][:-1]) & (S[order][1:] == S[order][:-1])
        matched = np.zeros(len(S), dtype=bool)
        matched[order[1:][twin]] = True
        matched[order[:-1][twin]] = True
        # the others: any vertex of the region (simple or not) holding the edge's rows
        rest = np.flatnonzero(~matched)
        step = max(1, (1 << 22) // max(1, width))
        for a in range(0, len(rest), step):
            e = rest[a:a + step]
            inc, Se = sinc[e // D], S[e]
            hit = (pad.take(self.i_reg[inc], axis=0) & Se[:, None]) == Se[:, None]  # (edges, width)
            hit[np.arange(len(inc)), col[inc]] = False  # not the vertex itself
            found = hit.any(axis=1)
            if not found.all():
                q = int(inc[~found].min())
                i = int(self.i_reg[q])
                self.fail(f"region {i}: the vertex list is incomplete: an edge from vertex {q - self.i_start[i]} "
                          "ends at a vertex not listed")
        for q in np.flatnonzero(~simple).tolist():
            i = int(self.i_reg[q])
            self.edge_walk(i, q - int(self.i_start[i]))
        self.check_facet_ranks(np.flatnonzero(~simple_on))

    def edge_walk(self, i: int, q: int) -> None:
        """Every edge of the region's polyhedron from its vertex ``q`` (an extreme ray of the
        cone of its tight rows, followed exactly to the first row that stops it) ends at a
        listed vertex."""
        D = self.D
        a, b = int(self.f_start[i]), int(self.f_start[i + 1])
        rows = [tuple(self.f_row[f]) for f in range(a, b)]
        H = self.local(i)
        v = H[q]
        normals = [r[:D] for r in rows]
        slack = [_value(r, v) for r in rows]
        known = set(H)
        Tl = [t for t, s in enumerate(slack) if s == 0]
        rays = set()
        for S in combinations(Tl, D - 1):
            d = _null_vector([normals[t] for t in S], D)
            if not any(d):
                continue
            dots = [sum(x * y for x, y in zip(normals[t], d)) for t in Tl if t not in S]
            if all(x >= 0 for x in dots) and any(dots):
                rays.add(d)
            elif all(x <= 0 for x in dots) and any(dots):
                rays.add(tuple(-x for x in d))
        for d in rays:
            best = None  # (slack, rate) of the first row that stops the ray
            for t, nrm in enumerate(normals):
                rate = -sum(x * y for x, y in zip(nrm, d))
                if rate > 0 and (best is None or slack[t] * best[1] < best[0] * rate):
                    best = (slack[t], rate)
            if best is None:
                self.fail(f"region {i}: unbounded: an edge from vertex {q} never meets a facet")
            sl, rate = best
            if _primitive([x * rate + sl * y for x, y in zip(v[:D], d)] + [v[D] * rate]) not in known:
                self.fail(f"region {i}: the vertex list is incomplete: an edge from vertex {q} ends at a vertex "
                          "not listed")

    def check_in_domain(self) -> None:
        """Every distinct vertex satisfies every row of the domain (so each region, the hull of
        its vertices, lies in the domain, whether or not its facets name those rows): proved by
        the floats with their error bound where they can tell, else in exact integers."""
        D = self.D
        rows = np.array(self.dom_int, dtype=object).reshape(len(self.dom_int), D + 1)
        if len(rows) == 0 or len(self.V) == 0:
            return
        flt = np.array([[_quotient(v, 1) for v in r] for r in rows.tolist()], dtype=np.float64)
        open_ = []  # (vertex, domain row) pairs the floats leave open
        for a in range(0, len(self.V), CHUNK):
            with np.errstate(all="ignore"):
                g, err = _affine_floats(self.X[a:a + CHUNK], self.E[a:a + CHUNK], flt[:, :D], flt[:, D])
                proved = (g > err) & np.isfinite(g) & np.isfinite(err)  # nothing non-finite decides
            v, t = _nonzero2(~proved)
            open_.append((v + a, t))
        v = np.concatenate([o[0] for o in open_])
        t = np.concatenate([o[1] for o in open_])
        bad = np.flatnonzero(_dot(rows.take(t, axis=0), self.Vobj.take(v, axis=0)) < 0) if len(v) else np.zeros(0, dtype=np.int64)
        if len(bad):
            inc = int(np.flatnonzero(self.i_vid == v[bad[0]])[0])
            i = int(self.i_reg[inc])
            row = int(t[bad[0]])
            self.fail(f"region {i}: vertex {inc - self.i_start[i]} lies outside the domain (domain row {row})")

    def check_point_codes(self) -> None:
        """The forward pass gives each region's point its code: every chosen piece strictly
        above every lower-indexed piece at some vertex (then also at the interior point)."""
        need = np.argwhere(~self.strict & (self.Cmat > 0))
        for i, col in need.tolist():
            l = int(self.layer_of[col])
            k = col - int(self.uoff[l])
            c = int(self.Cmat[i, col])
            a, b = int(self.i_start[i]), int(self.i_start[i + 1])
            vals = [self.piece_values(i, l, k, self.V[v]) for v in self.i_vid[a:b].tolist()]
            for s in range(c):
                if not any(vv[c] > vv[s] for vv in vals):
                    if self.layers[l].R == 2:
                        self.fail(f"region {i}: the forward pass at its point gives another code (at layer {l})")
                    self.fail(f"region {i}: the forward pass at its point gives another code "
                              f"(unit {k} of layer {l} takes piece {s}, not {c})")

    # -- affine maps and volumes ------------------------------------------------------------
    def check_affine(self) -> None:
        """Each region's affine map is the composition of the layers along its code."""
        D = self.D
        den = self.cascade.mden[-1] * self.layers[-1].den
        self.affine_den = den
        self.new_affine: list[int] = []
        for i, cache in enumerate(self.caches):
            aff = cache.get("affine") if cache is not None else None
            if aff is None:
                self.new_affine.append(i)
                continue
            M = self.affine_rows[i]
            A, b = np.asarray(aff.A), np.asarray(aff.b)
            if A.shape != (M.shape[0], D) or b.shape != (M.shape[0],) or not all(
                _frac_equal(A[o, j], int(M[o, j]), den) for o in range(M.shape[0]) for j in range(D)
            ) or not all(_frac_equal(b[o], int(M[o, D]), den) for o in range(M.shape[0])):
                self.fail(f"region {i}: its affine map is not the network's map on its code")

    def volumes(self) -> list:
        """Each region's exact volume, checked against what it reports; returns rationals
        (pairs of integers: numerator, positive denominator) whose sum is the sum of the volumes."""
        regs = self.regs
        if self.D == 1:
            vols = [self.region_volume(i) for i in range(len(regs))]
            terms = [(v.numerator, v.denominator) for v in vols]
        else:
            vols, terms = self.polytope_volumes()
        self.new_volume: dict[int, Fraction] = {}
        for i, (cache, vol) in enumerate(zip(self.caches, vols)):
            claimed = cache.get("volume") if cache is not None else None
            if claimed is None:
                self.new_volume[i] = vol
            elif claimed != vol:
                self.fail(f"region {i}: its volume is {claimed}; its vertices span volume {vol}")
        self.progress.tick("volumes", len(regs), len(regs))
        return terms

    def polytope_volumes(self) -> tuple[list[Fraction], list[tuple]]:
        """Volumes in D >= 2 as signed cones from the origin over the facets:
        ``vol P = sum_F sign(c_F) vol conv(0, F)`` over the facets ``a . x + c >= 0`` (the origin
        is on the inner side of F when ``c_F > 0``), ``vol conv(0, F)`` by a pulling
        triangulation of F (an edge, in 2-D; apexes the lowest vertex of each face), each
        simplex ``|det(n_1 .. n_D)| / (D! d_1 .. d_D)`` from its vertices ``n / d``, once for
        both regions that share the facet.  Simple regions (every vertex on D rows) have their
        faces by sets of facets and are done in batches; others one by one (:func:`_volume`).

        The sum: the two sides of a shared facet have opposite ``c_F``, so their cones cancel
        and the regions' volumes add up to the other facets' cones (on the domain's boundary,
        or shared in part), plus the volumes done one by one: returns the volumes and those
        terms."""
        D, n = self.D, len(self.regs)
        m = np.diff(self.f_start)
        simple_inc = self.t_cnt == D
        simple = (np.logical_and.reduceat(simple_inc, self.i_start[:-1]) if n else np.zeros(0, dtype=bool)) & (m <= 63)
        vols: list[Fraction] = [Fraction(0)] * n
        rest = np.flatnonzero(~simple).tolist()
        for i in rest:
            vols[i] = self.region_volume(i)
        parts = [(vols[i].numerator, vols[i].denominator) for i in rest]
        if simple.any():
            # distinct facets of simple regions (same hyperplane, same vertices)
            fs = np.flatnonzero(simple[self.f_reg])
            fcnt = np.diff(self.fv_start)
            width = int(fcnt[fs].max())
            BIG = np.iinfo(np.int64).max
            at = np.minimum(self.fv_start[fs][:, None] + np.arange(width)[None, :], len(self.fv_inc) - 1)
            held = np.arange(width)[None, :] < fcnt[fs][:, None]
            vv = np.sort(np.where(held, self.i_vid[self.fv_inc[at]], BIG), axis=1)
            key = np.concatenate([self.f_hid[fs][:, None], np.where(vv == BIG, -1, vv)], axis=1)
            first, inv = _unique_rows(key)
            rep = fs[first]  # one facet of each distinct facet
            # the long products and quotients in FLINT (GMP) from 3-D on; in 2-D they are short
            self.Vz = self.Vobj if D == 2 else _fmpz_array(self.Vobj)
            K, LF = self.edge_cones(rep) if D == 2 else self.facet_cones(rep, simple)
            # each region: vol * D! * L = sum_F sign(c_F) K_F (L / L_F), L the product of its vertices' d
            sg = np.sign(self.f_row[:, D].take(fs).astype(object)).astype(np.int64)
            L = _products(self.Vz[:, D].take(self.i_vid), self.i_start)
            regs_f = self.f_reg[fs]
            starts = np.flatnonzero(np.r_[True, regs_f[1:] != regs_f[:-1]])
            tot = np.add.reduceat(sg.astype(object) * K[inv] * (L[regs_f] // LF[inv]), starts)
            fact = math.factorial(D)
            who = regs_f[starts].tolist()
            for i, v in zip(who, _lowest_terms([int(x) for x in tot], [fact * int(L[i]) for i in who])):
                vols[i] = v
            # the sum: per distinct facet, the signs of its sides (opposite sides cancel)
            net = np.zeros(len(rep), dtype=np.int64)
            np.add.at(net, inv, sg)
            parts += [(int(net[k]) * K[k], fact * LF[k]) for k in np.flatnonzero(net).tolist()]  # not reduced
        return vols, parts

    def edge_cones(self, facets: np.ndarray) -> tuple:
        """For edges ``(x_a, y_a, d_a)``, ``(x_b, y_b, d_b)`` of polygons: the triangle with the
        origin has area ``K / (2 L)``, ``K = |x_a y_b - x_b y_a|``, ``L = d_a d_b``."""
        a = self.Vz.take(self.i_vid[self.fv_inc[self.fv_start[facets]]], axis=0)
        b = self.Vz.take(self.i_vid[self.fv_inc[self.fv_start[facets] + 1]], axis=0)
        return np.abs(a[:, 0] * b[:, 1] - b[:, 0] * a[:, 1]), a[:, 2] * b[:, 2]

    def facet_cones(self, facets: np.ndarray, simple: np.ndarray) -> tuple:
        """For facets of simple regions: the cone with the origin has volume ``K / (D! L)``,
        L the product of the facet's vertices' d.  The pulling triangulation walks the faces of
        the facet as sets of facets (simple polytopes), level by level."""
        D, n = self.D, len(self.regs)
        BIG = np.iinfo(np.int64).max
        m = np.diff(self.f_start)
        # tight masks, padded per region: masks and vertex ids (apexes: the lowest id)
        masks = np.zeros(len(self.i_reg), dtype=np.uint64)
        loc = (self.t_fac - self.f_start[self.i_reg[self.t_inc]]).astype(np.uint64)
        keep = simple[self.i_reg[self.t_inc]]
        np.bitwise_or.at(masks, self.t_inc[keep], np.left_shift(np.uint64(1), loc[keep]))
        W = int(np.diff(self.i_start).max())
        col = np.arange(len(self.i_reg)) - self.i_start[self.i_reg]
        padm = np.zeros((n, W), dtype=np.uint64)
        padv = np.full((n, W), BIG, dtype=np.int64)
        padm[self.i_reg, col] = masks
        padv[self.i_reg, col] = self.i_vid
        reg = self.f_reg[facets]
        loc = facets - self.f_start[reg]
        M = np.left_shift(np.uint64(1), loc.astype(np.uint64))
        owner = np.arange(len(facets))
        mem = (padm.take(reg, axis=0) & M[:, None]) == M[:, None]
        chain = [np.argmin(np.where(mem, padv.take(reg, axis=0), BIG), axis=1)]  # apex positions, level by level
        mmax = int(m.max())
        for _ in range(D - 2):  # down to the edges
            outs = []
            step = max(1, (1 << 22) // max(1, mmax * padm.shape[1]))
            for a in range(0, len(reg), step):
                r, Mm, ow = reg[a:a + step], M[a:a + step], owner[a:a + step]
                ch = [c_[a:a + step] for c_ in chain]
                g = np.arange(mmax, dtype=np.uint64)
                bit = np.left_shift(np.uint64(1), g)[None, :]
                sub = Mm[:, None] | bit  # (faces, mmax)
                valid = (np.arange(mmax)[None, :] < m[r][:, None]) & ((Mm[:, None] & bit) == 0)
                mm = (padm.take(r, axis=0)[:, None, :] & sub[:, :, None]) == sub[:, :, None]  # (faces, mmax, W)
                apex_in = mm[np.arange(len(r)), :, ch[-1]]
                ok = valid & mm.any(axis=2) & ~apex_in
                fi, gi = _nonzero2(ok)
                held = mm.reshape(len(r) * mmax, W).take(fi * mmax + gi, axis=0)  # mm[fi, gi]
                new_apex = np.argmin(np.where(held, padv.take(r[fi], axis=0), BIG), axis=1)
                outs.append((r[fi], sub[fi, gi], ow[fi], [c_[fi] for c_ in ch] + [new_apex]))
            reg = np.concatenate([o[0] for o in outs])
            M = np.concatenate([o[1] for o in outs])
            owner = np.concatenate([o[2] for o in outs])
            chain = [np.concatenate([o[3][k] for o in outs]) for k in range(len(chain) + 1)]
        # edges: the vertex other than the apex closes each simplex
        mem = (padm.take(reg, axis=0) & M[:, None]) == M[:, None]
        mem[np.arange(len(reg)), chain[-1]] = False
        last = np.argmax(mem, axis=1)
        pos = np.stack(chain + [last], axis=1)  # (simplices, D)
        vid = padv.ravel().take(reg[:, None] * padv.shape[1] + pos)
        det = np.abs(self.cone_dets(vid))  # the simplex with the origin: D! d_1 .. d_D times its volume
        dz = self.Vz[:, D]
        dprod = dz.take(vid[:, 0])
        for k in range(1, D):
            dprod = dprod * dz.take(vid[:, k])
        # per facet: L_F, then N_F = sum |det| L_F / prod d
        LF = _products(self.Vz[:, D].take(self.i_vid[self.fv_inc]), self.fv_start)[facets]
        order = np.argsort(owner, kind="stable")
        contrib = det[order] * (LF[owner[order]] // dprod[order])
        starts = np.flatnonzero(np.r_[True, owner[order][1:] != owner[order][:-1]])
        N = np.zeros(len(facets), dtype=object)
        N[owner[order][starts]] = np.add.reduceat(contrib, starts)
        return N, LF

    def cone_dets(self, vid: np.ndarray) -> np.ndarray:
        """``det(n_1 .. n_D)`` of simplices of vertices ``vid`` (simplices, D).  Simplices share
        vertex pairs (an edge ends many of them), so in 3-D and 4-D the 2 x 2 minors of each
        distinct pair are computed once and each determinant is a Laplace sum of their products."""
        D = self.D
        N = self.Vz[:, :D]
        if D not in (3, 4):
            return _dets(N[vid])
        cols = list(combinations(range(D), 2))

        def minors(a: np.ndarray, b: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
            first, inv = _unique_rows(np.stack([a, b], axis=1))
            u, v = N.take(a[first], axis=0), N.take(b[first], axis=0)
            return [u[:, p] * v[:, q] - u[:, q] * v[:, p] for p, q in cols], inv

        if D == 3:  # along the first row: its entries times the minors of the other two
            m, inv = minors(vid[:, 1], vid[:, 2])
            x = N.take(vid[:, 0], axis=0)
            return x[:, 0] * m[2][inv] - x[:, 1] * m[1][inv] + x[:, 2] * m[0][inv]
        top, ti = minors(vid[:, 0], vid[:, 1])
        bot, bi = minors(vid[:, 2], vid[:, 3])
        sign = {(0, 1): 1, (0, 2): -1, (0, 3): 1, (1, 2): 1, (1, 3): -1, (2, 3): 1}
        out = np.zeros(len(vid), dtype=object)
        for k, (p, q) in enumerate(cols):
            rest = tuple(c for c in range(4) if c not in (p, q))
            term = top[k][ti] * bot[cols.index(rest)][bi]
            out = out + term if sign[p, q] > 0 else out - term
        return out

    def region_volume(self, i: int) -> Fraction:
        a, b = int(self.i_start[i]), int(self.i_start[i + 1])
        fa = int(self.f_start[i])
        tight = [frozenset((self.t_fac[self.t_start[inc]:self.t_start[inc + 1]] - fa).tolist()) for inc in range(a, b)]
        return _volume(self.local(i), tight, self.D)

    def domain_volume(self) -> Fraction:
        dom = self.part.domain
        lo, hi = getattr(dom, "lo", None), getattr(dom, "hi", None)
        if lo is not None and hi is not None:
            vol = Fraction(1)
            for a, c in zip(lo, hi):
                vol *= Fraction(c) - Fraction(a)
            return vol
        return Fraction(dom.volume())

    def store(self) -> None:
        """Values proved here become what the regions report from now on (cached): rows and
        vertices not yet computed, points, affine maps and volumes (Fractions shared by the
        regions that hold the same value, each put in lowest terms once, in bulk:
        :func:`_lowest_terms`)."""
        D = self.D
        derived = np.flatnonzero(self.derived)
        if len(derived):
            need = np.unique(np.concatenate([self.i_vid[self.i_start[i]:self.i_start[i + 1]] for i in derived]))
            VF = np.empty((len(self.V), D), dtype=object)
            VF[need] = _fractions([self.V[v] for v in need.tolist()], D)
        for i, cache in enumerate(self.caches):
            if cache is None:
                continue
            if i in self.new_rows:
                cache["rows"] = self.new_rows[i]
            if self.derived[i] and "vertices" not in cache:
                cache["vertices"] = VF[self.i_vid[self.i_start[i]:self.i_start[i + 1]]]
            if i in self.new_volume:
                cache["volume"] = self.new_volume[i]
        points = _fractions([self.points[i] for i in self.new_points], D)
        for i, p in zip(self.new_points, points):
            cache = self.caches[i]
            if cache is not None:
                cache["point"] = p
        if self.new_affine:
            den = self.affine_den
            M = self.affine_rows[self.new_affine]  # (regions, out, D + 1)
            Q = np.empty(M.size, dtype=object)
            Q[:] = _lowest_terms(M, den)
            Q = Q.reshape(M.shape)
            for t, i in enumerate(self.new_affine):
                cache = self.caches[i]
                if cache is not None:
                    cache["affine"] = Affine._trusted(Q[t, :, :D].copy(), Q[t, :, D].copy())

    # -- the graph ------------------------------------------------------------------------
    def check_graph(self) -> None:
        """Every edge is real (two facets on one hyperplane, opposite sides, meeting in D - 1
        dimensions) with the right ``units``; every facet off the domain's boundary is covered
        by its graph neighbours' facets.  Facets with the same vertices (the usual case) share
        the whole face; others are compared exactly, clipped where they overlap in part."""
        G = self.part.graph
        n = len(self.regs)
        if set(G.nodes) != set(range(n)):
            self.fail(f"the graph's nodes are not the regions 0 .. {n - 1}")
        edges = list(G.edges(data=True))
        nE = len(edges)
        ei = np.array([e[0] for e in edges], dtype=np.int64)
        ej = np.array([e[1] for e in edges], dtype=np.int64)
        # the units whose pieces differ, edge by edge
        diff_e, diff_c = [], []
        step = max(1, (1 << 22) // max(1, self.Cmat.shape[1]))
        for a in range(0, nE, step):
            e, c = _nonzero2(self.Cmat.take(ei[a:a + step], axis=0) != self.Cmat.take(ej[a:a + step], axis=0))
            diff_e.append(e + a)
            diff_c.append(c)
        diff_c = np.concatenate(diff_c) if diff_c else np.zeros(0, dtype=np.int64)
        diff_e = np.concatenate(diff_e) if diff_e else np.zeros(0, dtype=np.int64)
        bounds = np.searchsorted(diff_e, np.arange(nE + 1))
        units_of = list(zip(self.layer_of[diff_c].tolist(), (diff_c - self.uoff[self.layer_of[diff_c]]).tolist()))
        # each region's facets by hyperplane (one per hyperplane: a region is on one side of it)
        H = max(len(self.f_hid) and int(self.f_hid.max()) + 1, 1)
        fkey = self.f_reg * H + self.f_hid
        forder = np.argsort(fkey, kind="stable")
        fkeys = fkey[forder]
        # candidate facet pairs of every edge: a facet of i and one of j on the same hyperplane
        cnt_i = np.diff(self.f_start)[ei]
        pe = np.repeat(np.arange(nE), cnt_i)
        fi = self.f_start[ei][pe] + (np.arange(len(pe)) - np.repeat(np.cumsum(cnt_i) - cnt_i, cnt_i))
        want = ej[pe] * H + self.f_hid[fi]
        pos = np.minimum(np.searchsorted(fkeys, want), max(len(fkeys) - 1, 0))
        hit = fkeys[pos] == want if len(fkeys) else np.zeros(len(want), dtype=bool)
        hit &= self.f_ori[fi] != self.f_ori[forder[pos]]
        pe, fi, fj = pe[hit], fi[hit], forder[pos[hit]]
        same = self.same_vertices(fi, fj)
        full = np.zeros(len(self.f_reg), dtype=bool)
        full[fi[same]] = True
        full[fj[same]] = True
        shared = np.zeros(nE, dtype=bool)
        shared[pe[same]] = True
        pieces: dict[int, list] = {}  # facets covered in part: the pieces neighbours cover
        cand_start = np.searchsorted(pe, np.arange(nE + 1))
        for e in range(nE):
            i, j, data = edges[e]
            if i == j:
                self.fail(f"edge ({i}, {j}): a region is not adjacent to itself")
            units = tuple(units_of[bounds[e]:bounds[e + 1]])
            if tuple(sorted(tuple(u) for u in data.get("units", ()))) != units:
                self.fail(f"edge ({i}, {j}): its units {data.get('units')} are not the units whose pieces differ, {units}")
            if not shared[e]:
                for t in range(cand_start[e], cand_start[e + 1]):
                    if self.share(int(fi[t]), int(fj[t]), full, pieces):
                        shared[e] = True
                        break
                if not shared[e]:
                    self.fail(f"edge ({i}, {j}): the two regions share no (D-1)-dimensional face")
            if e % 4096 == 0:
                self.progress.tick("graph", e, nE)
        for f in np.flatnonzero(~full & ~self.f_dom_boundary).tolist():
            whole = self.facet_measure(f, *self.facet_poly(f))
            got = sum((self.facet_measure(f, P, T) for P, T in pieces.get(f, ())), Fraction(0))
            if got != whole:
                i = int(self.f_reg[f])
                self.fail(f"region {i}: facet {f - self.f_start[i]} is not covered by its graph neighbours' facets "
                          f"(an adjacency is missing)")
        self.progress.tick("graph", nE, nE)

    def same_vertices(self, fi: np.ndarray, fj: np.ndarray) -> np.ndarray:
        """Whether facet pairs have the same vertices (distinct vertices, by identity)."""
        cnt = np.diff(self.fv_start)
        out = cnt[fi] == cnt[fj]
        if self.D == 2:
            a = np.sort(self.i_vid[self.fv_inc.reshape(-1, 2)], axis=1)
            return out & (a[:, 0].take(fi) == a[:, 0].take(fj)) & (a[:, 1].take(fi) == a[:, 1].take(fj))
        width = int(cnt.max()) if len(cnt) else 0
        if len(cnt) * width > 1 << 24:  # (a few very wide facets) one by one
            for t in np.flatnonzero(out).tolist():
                out[t] = self.vertex_set(int(fi[t])) == self.vertex_set(int(fj[t]))
            return out
        # each facet's vertex ids sorted, padded with -1 (a region lists a vertex once, so equal
        # rows are equal sets)
        at = np.minimum(self.fv_start[:-1, None] + np.arange(width)[None, :], max(len(self.fv_inc) - 1, 0))
        held = np.arange(width)[None, :] < cnt[:, None]
        ids = np.sort(np.where(held, self.i_vid[self.fv_inc[at]], np.iinfo(np.int64).max), axis=1)
        cand = np.flatnonzero(out)
        a, b = ids.take(fi[cand], axis=0), ids.take(fj[cand], axis=0)
        eq = np.ones(len(cand), dtype=bool)
        for j in range(width):  # a loop over the columns: faster than all(axis=1)
            eq &= a[:, j] == b[:, j]
        out[cand] = eq
        return out

    def vertex_set(self, f: int) -> frozenset:
        return frozenset(self.i_vid[self.fv_inc[self.fv_start[f]:self.fv_start[f + 1]]].tolist())

    def facet_poly(self, f: int) -> tuple[list[Hom], list[frozenset]]:
        """The facet's vertices and, for each, the labels (region facet indices) tight there."""
        incs = self.fv_inc[self.fv_start[f]:self.fv_start[f + 1]].tolist()
        fa = int(self.f_start[self.f_reg[f]])
        pts = [self.V[self.i_vid[q]] for q in incs]
        tight = [frozenset((self.t_fac[self.t_start[q]:self.t_start[q + 1]] - fa).tolist()) for q in incs]
        return pts, tight

    def inside(self, f: int, region: int) -> bool:
        """True when every vertex of facet ``f`` satisfies every row of ``region``."""
        a, b = int(self.f_start[region]), int(self.f_start[region + 1])
        own = set(self.i_vid[self.i_start[region]:self.i_start[region + 1]].tolist())
        pts = [v for v in self.vertex_set(f) if v not in own]  # the region's vertices satisfy its rows
        if not pts:
            return True
        vals = (self.f_row[a:b][None, :, :] * self.Vobj[pts][:, None, :]).sum(axis=2)
        return bool((vals >= 0).all())

    def share(self, fi: int, fj: int, full: np.ndarray, pieces: dict) -> bool:
        """Whether two facets on one hyperplane meet in a (D-1)-dimensional set; records the cover."""
        ri, rj = int(self.f_reg[fi]), int(self.f_reg[fj])
        i_in_j, j_in_i = self.inside(fi, rj), self.inside(fj, ri)
        if i_in_j or j_in_i:
            for f, g, f_in_g in ((fi, fj, i_in_j), (fj, fi, j_in_i)):
                if f_in_g:
                    full[f] = True
                else:
                    pieces.setdefault(f, []).append(self.facet_poly(g))
            return True
        points, tight = self.facet_poly(fi)
        a, b = int(self.f_start[rj]), int(self.f_start[rj + 1])
        for g in range(a, b):
            if g != fj:
                got = _clip(points, tight, ("g", g), tuple(self.f_row[g]))
                if got is None:
                    return False
                points, tight = got
        if (_affine_rank(points) if points else -1) < self.D - 1:
            return False
        pieces.setdefault(fi, []).append((points, tight))
        pieces.setdefault(fj, []).append((points, tight))
        return True

    def facet_measure(self, f: int, points: list[Hom], tight: list[frozenset]) -> Fraction:
        """The (D-1)-volume, projected along one coordinate, of a polytope inside facet ``f``'s hyperplane."""
        return _projected_volume(tuple(self.f_row[f]), points, tight, self.D)


def _products(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Products of the integers of an object array over the ranges ``starts[k]:starts[k+1]``."""
    n = len(starts) - 1
    out = np.ones(n, dtype=object)
    nonempty = np.flatnonzero(np.diff(starts) > 0)
    if len(nonempty):
        out[nonempty] = np.multiply.reduceat(values, starts[nonempty])
    return out


def _fmpz_array(values: np.ndarray) -> np.ndarray:
    """An object array of Python ints as the same integers in FLINT (``flint.fmpz``): products
    and quotients of numbers of thousands of bits are several times faster in GMP."""
    out = np.empty(values.shape, dtype=object)
    out.flat[:] = [flint.fmpz(v) for v in values.ravel().tolist()]
    return out


def _nonzero2(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.nonzero`` of a 2-D bool array (the same pairs in the same order), through the flat
    indices: several times faster on large arrays."""
    return np.divmod(np.flatnonzero(mask), max(mask.shape[1], 1))


def _segment_any(mask: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """For a bool matrix, whether each segment of rows (``starts``: their first rows) has a
    True in each column: one bitwise-or reduction over 8 columns a word."""
    n, k = mask.shape
    wide = np.zeros((n, -(-k // 8) * 8), dtype=bool)
    wide[:, :k] = mask
    return np.bitwise_or.reduceat(wide.view(np.uint64), starts, axis=0).view(bool)[:, :k]


def _fraction(n: int, d: int) -> Fraction:
    """``Fraction(n, d)`` for Python ints already in lowest terms with ``d > 0``: the same
    object (its two slots), without the type checks and the gcd of normalising it again."""
    f = _new_object(Fraction)
    f._numerator, f._denominator = n, d
    return f


if _fraction(-6, 35) != Fraction(-6, 35) or hash(_fraction(3, 7)) != hash(Fraction(3, 7)):  # pragma: no cover
    _fraction = Fraction  # (a Python whose Fraction keeps other slots: the public constructor)


def _lowest_terms(nums: Any, dens: Any) -> list[Fraction]:
    """``[Fraction(n, d) ...]`` of Python ints ``n`` over positive Python ints ``d`` (equal-length
    sequences, or ``dens`` one int), the gcds and exact quotients in bulk."""
    n = np.asarray(nums, dtype=object).ravel()
    d = dens if isinstance(dens, int) else np.asarray(dens, dtype=object).ravel()
    if len(n) == 0:
        return []
    if not np.any(d & (d - 1)):  # powers of two (dyadic weights, points): gcd(n, 2**k) is n's lowest bit
        low = n & -n  # the largest power of two dividing n (0 for n = 0)
        g = np.where(low == 0, d, np.minimum(low, d))
    else:
        g = np.gcd(n, d)  # math.gcd of each pair: positive (d > 0), and gcd(0, d) = d gives 0 / 1
    return list(map(_fraction, (n // g).tolist(), (d // g).tolist()))


def _fractions(points: list[Hom], D: int) -> np.ndarray:
    """Homogeneous points as an object array ``(len(points), D)`` of Fractions."""
    out = np.empty((len(points), D), dtype=object)
    if points:
        H = np.array(points, dtype=object).reshape(len(points), D + 1)
        out.flat[:] = _lowest_terms(H[:, :D], np.repeat(H[:, D], D))
    return out


def _code_bytes(a: np.ndarray, R: int) -> np.ndarray:
    """Rows of codes as short byte strings (bits for two pieces), equal iff the rows are."""
    if R <= 2:
        return np.packbits(a.astype(bool), axis=1)
    return a.astype(np.uint8) if R <= 256 else a.astype(np.int64).view(np.uint8).reshape(a.shape[0], -1)


def _unique_rows(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first index of each distinct row, the distinct row of each row) of an integer matrix."""
    a = np.ascontiguousarray(a if a.dtype == np.uint8 else a.astype(np.int64))
    if a.shape[0] == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if a.dtype == np.int64:  # columns of small range: one int64 key per row (mixed radix), sorted far faster
        lo, hi = a.min(axis=0).tolist(), a.max(axis=0).tolist()
        spans = [h - l + 1 for l, h in zip(lo, hi)]
        if math.prod(spans) < 2 ** 62:
            key = a[:, 0] - lo[0]
            for j in range(1, a.shape[1]):
                key = key * spans[j] + (a[:, j] - lo[j])  # below the product of the spans: exact
            _, first, inv = np.unique(key, return_index=True, return_inverse=True)
            return first.astype(np.int64), inv.ravel().astype(np.int64)
    v = a.view(np.dtype((np.void, a.dtype.itemsize * a.shape[1]))).ravel()
    _, first, inv = np.unique(v, return_index=True, return_inverse=True)
    return first.astype(np.int64), inv.ravel().astype(np.int64)


class _CodeRow:
    """``code[l][k]`` of one region, read from the code arrays (for label checks)."""

    __slots__ = ("C", "i")

    def __init__(self, C: list[np.ndarray], i: int) -> None:
        self.C, self.i = C, i

    def __getitem__(self, l: int) -> Any:
        return self.C[l][self.i]


def _cache(reg: Any) -> dict | None:
    return getattr(reg, "_cache", None)


def _record(reg: Any) -> Any:
    """An engine region's record (codes, facet labels, incidences), or None."""
    rec = getattr(reg, "_rec", None)
    return rec if rec is not None and hasattr(rec, "geom") else None


def _frac_equal(v: Any, num: int, den: int) -> bool:
    if isinstance(v, Fraction):
        return v.numerator * den == num * v.denominator
    return Fraction(v) == Fraction(num, den)


def _tree_sum(values: Sequence[tuple]) -> tuple[Any, Any]:
    """The sum of rationals (pairs of integers: a numerator, a positive denominator, not
    necessarily in lowest terms) as a numerator and a positive denominator,
    not in lowest terms: added in pairs, neighbours first, without gcds (FLINT integers; a gcd
    of numbers of thousands of bits costs far more than their product, and the sum is only
    compared with another rational)."""
    pairs = [(flint.fmpz(n), flint.fmpz(d)) for n, d in values]
    if not pairs:
        return flint.fmpz(0), flint.fmpz(1)
    while len(pairs) > 1:
        merged = [(a * d + c * b, b * d) for (a, b), (c, d) in zip(pairs[0::2], pairs[1::2])]
        pairs = merged + pairs[len(merged) * 2:]
    return pairs[0]


def verify_partition(part: "Partition", *, graph: bool = True, progress: bool = False) -> None:
    """Re-check every claim of ``part`` (see the module docstring); raise CertificateError.

    Parameters
    ----------
    part : Partition
    graph : bool
        Also check the adjacency graph (every edge real, none missing, its ``units``).
    progress : bool
        Show a progress line on stderr.
    """
    _Checker(part).run(graph=graph, progress=progress)
