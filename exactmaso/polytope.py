"""Exact convex polytopes in H-representation: ``{x : A x <= b}``.

Public numbers are :class:`fractions.Fraction` (object arrays); inside, each row of
``[A | b]`` is scaled to a primitive integer vector and all arithmetic runs on Python ints
(and python-flint for ranks and solves).

Methods
-------
Validation (``Polytope(A, b)``, ``check=True``)
    Bounded, nonempty and full-dimensional, else :class:`~exactmaso.errors.DomainError`
    with an exact certificate attached as ``err.certificate`` where one is available
    (:mod:`exactmaso.lp`: a ray for "unbounded", Farkas multipliers for "empty", implicit
    equality multipliers for "flat").  For ``D <= 6`` the decision is made by the exact
    double description below (which also caches the vertices); beyond, by float LPs
    turned into exact certificates (an interior point and ``y > 0, y^T A = 0``), with the
    double description as the exact fallback whenever a proposal fails to verify.
Vertices
    Exact double description (Motzkin et al.) of the homogenised cone
    ``{(x, t) : A x - b t <= 0, t >= 0}`` in integer arithmetic with the combinatorial
    adjacency test.  Exact by construction (no tolerance anywhere): every vertex and every
    row incidence comes out of integer arithmetic; degenerate vertices (more than D tight
    rows), duplicated and rescaled rows need no special care.
Facets (``irredundant``)
    A row is a facet iff its set of tight vertices is inclusion-maximal among the rows'
    tight-vertex sets (each such set is a face; facets are the maximal proper faces).
    Rows defining the same facet are identical once scaled to primitive integers; the
    first is kept.
Volume
    Pulling triangulation from the exact vertex-facet incidences (the facets of a face F
    are the maximal sets ``F ∩ facet_j``), summing exact integer determinants.  Exact in
    every dimension; the number of simplices grows quickly with D, so beyond D = 6 or so
    it becomes slow (it is never approximate).

Per-call times on this machine kind (D <= 4, m <= 40, random polytopes) are listed in
``tests/test_polytope.py::test_timings`` and the module report.
"""

from __future__ import annotations

import itertools
import math
from operator import mul
from dataclasses import KW_ONLY, InitVar, dataclass, field
from fractions import Fraction
from typing import Any, Sequence

import flint
import numpy as np

from . import lp
from .errors import DomainError, ShapeError
from .geometry import homogeneous_volume
from .numbers import to_fraction_array

__all__ = ["Polytope", "Box"]

#: up to this dimension the constructor check uses the exact double description
DD_CHECK_MAX_DIM = 6
#: with at least this many rows per dimension, and a float Chebyshev centre already known,
#: the double description inserts the rows most binding there first (fewer dead rays)
DD_ORDER_MIN_ROWS_PER_DIM = 4


# --------------------------------------------------------------------------------------
# integer rows
# --------------------------------------------------------------------------------------


def _primitive_vector(v: Sequence[int]) -> tuple[int, ...]:
    g = math.gcd(*v)
    if g > 1:
        return tuple(x // g for x in v)
    return tuple(v)


def _point_ints(x: np.ndarray) -> tuple[list[int], int]:
    """A rational point as integers over one positive common denominator."""
    den = 1
    for v in x:
        q = v.denominator
        if q != 1:
            den = den // math.gcd(den, q) * q
    return [v.numerator * (den // v.denominator) for v in x], den


def _exact_copy(x: Any, name: str, ndim: int) -> np.ndarray:
    """A private exact copy (fast when x is already an object array of Fractions)."""
    if isinstance(x, np.ndarray) and x.dtype == object and x.ndim == ndim and all(type(v) is Fraction for v in x.flat):
        return x.copy()
    return to_fraction_array(x, name=name, ndim=ndim)


def _fraction_array(rows: Sequence[Sequence[Fraction]], ncols: int) -> np.ndarray:
    out = np.empty((len(rows), ncols), dtype=object)
    for i, r in enumerate(rows):
        out[i, :] = list(r)
    return out


def _fraction_vector(vals: Sequence[Fraction]) -> np.ndarray:
    out = np.empty(len(vals), dtype=object)
    out[:] = list(vals)
    return out


# --------------------------------------------------------------------------------------
# double description
# --------------------------------------------------------------------------------------


def _independent_rows(G: list[tuple[int, ...]], d: int) -> list[int]:
    """Indices of the first maximal linearly independent subset of the rows of G."""
    M = flint.fmpz_mat(d, len(G), [G[i][j] for j in range(d) for i in range(len(G))])
    R, _, rank = M.rref()
    piv = []
    j = 0
    for i in range(rank):
        while R[i, j] == 0:
            j += 1
        piv.append(j)
        j += 1
    return piv


def _double_description(G: list[tuple[int, ...]], d: int) -> list[tuple[tuple[int, ...], int]]:
    """Extreme rays of the pointed cone ``{y : g . y <= 0 for g in G}`` (rank G = d >= 1).

    Returns ``(ray, mask)`` pairs: a primitive integer ray and the bit mask of the rows of
    G that vanish on it.
    """
    basis = _independent_rows(G, d)
    M = flint.fmpq_mat(d, d, [G[i][j] for i in basis for j in range(d)])
    Minv = M.inv()
    full = 0
    for i in basis:
        full |= 1 << i
    rays: list[tuple[int, ...]] = []
    masks: list[int] = []
    for k, i in enumerate(basis):
        col = [-Minv[j, k] for j in range(d)]  # G[basis] . col = -e_k
        den = 1
        for v in col:
            q = int(v.q)
            den = den // math.gcd(den, q) * q
        rays.append(_primitive_vector([int(v.p) * (den // int(v.q)) for v in col]))
        masks.append(full & ~(1 << i))
    in_basis = set(basis)
    need = d - 2
    for k, g in enumerate(G):
        if k in in_basis:
            continue
        bit = 1 << k
        vals = [sum(map(mul, g, r)) for r in rays]
        pos = [i for i, v in enumerate(vals) if v > 0]
        if not pos:
            for i, v in enumerate(vals):
                if v == 0:
                    masks[i] |= bit
            continue
        neg = [i for i, v in enumerate(vals) if v < 0]
        new_rays: list[tuple[int, ...]] = []
        new_masks: list[int] = []
        for p in pos:
            mp = masks[p]
            vp = vals[p]
            rp = rays[p]
            for n in neg:
                Z = mp & masks[n]
                if Z.bit_count() < need:
                    continue
                # adjacent iff no third ray is tight on all of Z (p and n always are)
                if sum(1 for mr in masks if mr & Z == Z) > 2:
                    continue
                vn = vals[n]
                rn = rays[n]
                new_rays.append(_primitive_vector([vp * a - vn * c for a, c in zip(rn, rp)]))
                new_masks.append(Z | bit)
        keep_rays = []
        keep_masks = []
        for i, v in enumerate(vals):
            if v < 0:
                keep_rays.append(rays[i])
                keep_masks.append(masks[i])
            elif v == 0:
                keep_rays.append(rays[i])
                keep_masks.append(masks[i] | bit)
        rays = keep_rays + new_rays
        masks = keep_masks + new_masks
    return list(zip(rays, masks))


# --------------------------------------------------------------------------------------
# exact classification
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Vrep:
    """Exact vertices (sorted) with the rows tight at each, and the facet rows."""

    vertices: tuple[tuple[Fraction, ...], ...]
    homogeneous: tuple[tuple[int, ...], ...]  # vertex i = homogeneous[i][:D] / homogeneous[i][D]
    incidence: tuple[frozenset[int], ...]  # rows of the polytope tight at each vertex
    facet_rows: tuple[int, ...]  # one row per facet, in row order
    facet_masks: tuple[int, ...]  # vertex bit masks of those facets


def _nullspace_vector(rows: list[tuple[int, ...]], D: int) -> tuple[Fraction, ...]:
    """A nonzero exact d with ``r[:D] . d = 0`` for every row (the rows have rank < D)."""
    M = flint.fmpz_mat(max(len(rows), 1), D, [v for r in rows for v in r[:D]] or [0] * D)
    N, nullity = M.nullspace()
    return tuple(Fraction(int(N[j, 0])) for j in range(D))


def _raise(kind: str, message: str, certificate: Any = None) -> None:
    err = DomainError(message)
    err.kind = kind  # type: ignore[attr-defined]
    err.certificate = certificate  # type: ignore[attr-defined]
    raise err


def _fmt(v: Sequence[Fraction]) -> str:
    s = "[" + ", ".join(str(x) for x in v) + "]"
    return s if len(s) <= 200 else s[:197] + "...]"


def _raise_empty(A: np.ndarray, b: np.ndarray) -> None:
    cert = lp.infeasibility_certificate(A, b)
    if cert is not None:
        rows = [i for i, v in enumerate(cert.y) if v > 0]
        _raise("empty", f"polytope {{x : A x <= b}} is empty: rows {rows} are contradictory "
               f"(multipliers y = {_fmt([cert.y[i] for i in rows])} give y^T A = 0 and "
               f"y^T b = {sum(cert.y[i] * b[i] for i in rows)} < 0; see err.certificate)", cert)
    _raise("empty", "polytope {x : A x <= b} is empty (exact double description found no point); "
           "expected a nonempty set", None)


def _raise_unbounded(A: np.ndarray, b: np.ndarray, x0: Sequence[Fraction], d: Sequence[Fraction]) -> None:
    cert = lp.UnboundednessCertificate(A, b, _fraction_vector(x0), _fraction_vector(d))
    _raise("unbounded", f"polytope {{x : A x <= b}} is unbounded: it contains the ray x0 + t d, t >= 0, "
           f"with x0 = {_fmt(x0)} and d = {_fmt(d)}; expected a bounded set (see err.certificate)", cert)


def _raise_flat(A: np.ndarray, b: np.ndarray, rows: list[int]) -> None:
    cert = lp.flatness_certificate(A, b, rows[0])
    _raise("flat", f"polytope {{x : A x <= b}} is flat (not full-dimensional): rows {rows} hold with equality "
           "on the whole set; expected a set with nonempty interior (see err.certificate)", cert)


def _feasible_point_exact(A: np.ndarray, b: np.ndarray) -> tuple[Fraction, ...] | None:
    """Some exact point of ``{A x <= b}`` or None if empty (any rank)."""
    m, D = A.shape
    rows = [lp.primitive_int_row(A[i], b[i]) for i in range(m)]
    if any(all(v == 0 for v in r[:D]) and r[D] < 0 for r in rows):
        return None
    nz = [i for i in range(m) if any(rows[i][:D])]
    if not nz:
        return tuple(Fraction(0) for _ in range(D))
    # restrict to the row space: x = B^T z with B a basis of the rows
    basis_idx = _independent_rows([rows[i][:D] for i in nz], D)
    B = [rows[nz[k]][:D] for k in basis_idx]
    r = len(B)
    if r < D:
        Az = _fraction_array([[sum(Fraction(a) * bb for a, bb in zip(A[i], Bk)) for Bk in B] for i in range(m)], r)
        z = _feasible_point_exact(Az, b)
        if z is None:
            return None
        return tuple(sum((z[k] * B[k][j] for k in range(r)), Fraction(0)) for j in range(D))
    G = [(0,) * D + (-1,)] + [rows[i][:D] + (-rows[i][D],) for i in nz]
    for ray, _ in _double_description(G, D + 1):
        if ray[D] > 0:
            return tuple(Fraction(v, ray[D]) for v in ray[:D])
    return None


def _vrep(A: np.ndarray, b: np.ndarray, rows: list[tuple[int, ...]], order: Sequence[int] | None = None) -> _Vrep:
    """Exact vertices and incidences; raises DomainError if not a full-dimensional polytope.

    ``order``: the order in which the double description inserts the rows (a heuristic
    only: most binding rows first keeps the intermediate cones small)."""
    m, D = A.shape
    for i, r in enumerate(rows):
        if r[D] < 0 and not any(r[:D]):
            _raise_empty(A, b)
    nz = [i for i in range(m) if any(rows[i][:D])]
    rank = len(_independent_rows([rows[i][:D] for i in nz], D)) if nz else 0
    if rank < D:  # a line direction: unbounded unless empty
        x0 = _feasible_point_exact(A, b)
        if x0 is None:
            _raise_empty(A, b)
        _raise_unbounded(A, b, x0, _nullspace_vector(rows, D))
    if order is not None:
        rank_of = {i: k for k, i in enumerate(order)}
        nz.sort(key=lambda i: rank_of.get(i, m))
    G = [(0,) * D + (-1,)] + [rows[i][:D] + (-rows[i][D],) for i in nz]
    rays = _double_description(G, D + 1)
    points = [(tuple(Fraction(v, r[D]) for v in r[:D]), mask, r) for r, mask in rays if r[D] > 0]
    if not points:
        _raise_empty(A, b)
    for r, _ in rays:
        if r[D] == 0:  # an extreme ray of the recession cone
            _raise_unbounded(A, b, points[0][0], tuple(Fraction(v) for v in r[:D]))
    points.sort(key=lambda p: p[0])
    zero_rows_tight = frozenset(i for i in range(m) if not any(rows[i]))
    incidence = []
    for _, mask, _ in points:
        inc = [nz[k - 1] for k in range(1, len(G)) if mask >> k & 1]
        incidence.append(frozenset(inc) | zero_rows_tight)
    # implicit equalities: a nonzero row tight at every vertex
    common = ~0
    for _, mask, _ in points:
        common &= mask
    flat = [nz[k - 1] for k in range(1, len(G)) if common >> k & 1]
    if flat:
        _raise_flat(A, b, flat)
    # vertex masks of rows, facets = inclusion-maximal ones
    row_masks = {}
    for vi, inc in enumerate(incidence):
        for i in inc:
            row_masks[i] = row_masks.get(i, 0) | (1 << vi)
    candidates = [(i, row_masks[i]) for i in nz if i in row_masks]
    facet_rows = []
    facet_masks = []
    seen = set()
    for i, s in candidates:
        if s in seen:
            continue
        if any(t != s and t & s == s for _, t in candidates):
            continue
        seen.add(s)
        facet_rows.append(i)
        facet_masks.append(s)
    return _Vrep(tuple(p[0] for p in points), tuple(p[2] for p in points), tuple(incidence),
                 tuple(facet_rows), tuple(facet_masks))


# --------------------------------------------------------------------------------------
# volume
# --------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------
# the Polytope type
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class Polytope:
    """The convex polytope ``{x : A x <= b}``: bounded and full-dimensional, exact.

    Parameters
    ----------
    A : array-like (m, D)
        Exact or float numbers (floats convert to their exact binary value).
    b : array-like (m,)
    check : bool, keyword-only
        Verify (exactly) that the set is nonempty, bounded and full-dimensional; raises
        :class:`~exactmaso.errors.DomainError` saying which property fails, with
        ``err.kind`` in ``{"empty", "unbounded", "flat"}`` and ``err.certificate`` (an
        exact, ``.verify()``-able certificate from :mod:`exactmaso.lp`, or None when only
        the exact computation itself is the proof).  Pass ``check=False`` only when the
        caller already knows; methods still raise DomainError if they meet a bad set.

    Equality: ``==`` compares representations (same rows in the same order, exactly);
    :meth:`equals` compares the sets.

    Examples
    --------
    >>> P = Polytope([[1, 0], [0, 1], [-1, -1]], [1, 1, 0])
    >>> P.volume()
    Fraction(2, 1)
    >>> P.vertices().tolist()
    [[Fraction(-1, 1), Fraction(1, 1)], [Fraction(1, 1), Fraction(-1, 1)], [Fraction(1, 1), Fraction(1, 1)]]
    """

    A: np.ndarray
    b: np.ndarray
    _: KW_ONLY
    check: InitVar[bool] = True
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self, check: bool) -> None:
        A = _exact_copy(self.A, "A", 2)
        b = _exact_copy(self.b, "b", 1)
        if A.shape[1] < 1:
            raise ShapeError(f"A has shape {A.shape}; expected at least one column (dimension D >= 1)")
        if A.shape[0] != b.shape[0]:
            raise ShapeError(f"A has {A.shape[0]} rows and b has {b.shape[0]} entries; expected equal")
        A.flags.writeable = False
        b.flags.writeable = False
        object.__setattr__(self, "A", A)
        object.__setattr__(self, "b", b)
        if check:
            self._validate()

    # ---- representation -----------------------------------------------------------

    @property
    def dim(self) -> int:
        """The ambient dimension D."""
        return int(self.A.shape[1])

    @property
    def num_rows(self) -> int:
        return int(self.A.shape[0])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Polytope):
            return NotImplemented
        return (self.A.shape == other.A.shape and bool(np.all(self.A == other.A))
                and bool(np.all(self.b == other.b)))

    def __hash__(self) -> int:
        return hash((self.A.shape, tuple(self.A.flat), tuple(self.b.flat)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(A={self.A.tolist()!r}, b={self.b.tolist()!r})"

    def _rows(self) -> list[tuple[int, ...]]:
        """Each row of ``[A | b]`` as a primitive integer vector (a positive rescaling)."""
        rows = self._cache.get("rows")
        if rows is None:
            rows = [lp.primitive_int_row(self.A[i], self.b[i]) for i in range(self.num_rows)]
            self._cache["rows"] = rows
        return rows

    # ---- validation ---------------------------------------------------------------

    def _validate(self) -> None:
        if self.dim <= DD_CHECK_MAX_DIM:
            self._vrep()
            return
        cert = lp.interior_point_certificate(self.A, self.b)
        bounded = lp.boundedness_certificate(self.A) if cert is not None else None
        if cert is None or bounded is None:
            self._vrep()  # exact fallback; raises with the reason
            return
        self._cache["interior"] = cert

    def _vrep(self) -> _Vrep:
        v = self._cache.get("vrep")
        if v is None:
            order = None
            prop = self._cache.get("chebyshev")
            if prop is not None and self.num_rows >= DD_ORDER_MIN_ROWS_PER_DIM * self.dim:
                # a float centre is known already: insert the rows most binding there first
                    Af, bf = lp.float_rows(self._rows(), self.dim)
                    with np.errstate(all="ignore"):
                        slack = (bf - Af @ prop[0]) / np.maximum(np.linalg.norm(Af, axis=1), 1e-300)
                    order = [int(i) for i in np.argsort(slack, kind="stable")]
            v = _vrep(self.A, self.b, self._rows(), order)
            self._cache["vrep"] = v
        return v

    def _chebyshev(self) -> tuple[np.ndarray, float] | None:
        """Float Chebyshev centre (a proposal; cached)."""
        if "chebyshev" not in self._cache:
            Af, bf = lp.float_rows(self._rows(), self.dim)
            self._cache["chebyshev"] = lp.chebyshev_center(Af, bf)
        return self._cache["chebyshev"]

    # ---- points -------------------------------------------------------------------

    def interior_point(self) -> np.ndarray:
        """An exact point strictly inside (``A x < b``), as an object array of Fractions.

        The float Chebyshev centre from HiGHS is rationalised exactly and checked; if the
        check fails (thin or badly scaled sets) the exact average of the vertices is used.
        """
        return self.interior_certificate().x

    def interior_certificate(self) -> lp.InteriorPointCertificate:
        """:class:`~exactmaso.lp.InteriorPointCertificate` for :meth:`interior_point`."""
        cert = self._cache.get("interior")
        if cert is None:
            x = None
            if "vrep" not in self._cache or "chebyshev" in self._cache:
                prop = self._chebyshev()
                if prop is not None and prop[1] > 0:
                    xf = _fraction_vector([Fraction(*float(v).as_integer_ratio()) for v in prop[0]])
                    if self.contains_interior(xf):
                        x = xf
            if x is None:
                V = self._vrep().vertices
                n = len(V)
                x = _fraction_vector([sum((v[j] for v in V), Fraction(0)) / n for j in range(self.dim)])
            cert = lp.InteriorPointCertificate(self.A, self.b, x)
            self._cache["interior"] = cert
        return cert

    def _slack_signs(self, x: Any) -> list[int]:
        x = to_fraction_array(x, name="x", shape=(self.dim,))
        X, q = _point_ints(x)
        D = self.dim
        out = []
        for r in self._rows():
            s = r[D] * q - sum(a * c for a, c in zip(r, X))
            out.append((s > 0) - (s < 0))
        return out

    def contains(self, x: Any) -> bool:
        """Exact test ``A x <= b`` (the closed set)."""
        return all(s >= 0 for s in self._slack_signs(x))

    def contains_interior(self, x: Any) -> bool:
        """Exact test ``A x < b`` on every row (strictly inside; zero rows ``0 <= 0``
        count as satisfied)."""
        D = self.dim
        rows = self._rows()
        return all(s > 0 or not any(rows[i][:D]) for i, s in enumerate(self._slack_signs(x)))

    # ---- combinatorics ------------------------------------------------------------

    def vertices(self) -> np.ndarray:
        """Exact vertices, an ``(n, D)`` object array of Fractions sorted lexicographically.

        Computed by an exact integer double description (see the module docstring).
        """
        V = self._vrep().vertices
        return _fraction_array(V, self.dim)

    def vertex_incidence(self) -> tuple[frozenset[int], ...]:
        """For each vertex (in the order of :meth:`vertices`) the rows tight at it."""
        return self._vrep().incidence

    def facet_rows(self) -> tuple[int, ...]:
        """Indices of the rows that define facets, one per facet (the first of duplicates)."""
        return self._vrep().facet_rows

    def facet_vertices(self) -> tuple[tuple[int, ...], ...]:
        """For each facet (in the order of :meth:`facet_rows`) the indices of its vertices."""
        return tuple(tuple(i for i in range(len(self._vrep().vertices)) if m >> i & 1)
                     for m in self._vrep().facet_masks)

    @property
    def num_vertices(self) -> int:
        return len(self._vrep().vertices)

    @property
    def num_facets(self) -> int:
        return len(self._vrep().facet_rows)

    def irredundant(self) -> "Polytope":
        """The same set with only facet-defining rows, each scaled to a primitive integer
        row ``[a | beta]`` (rows in their original order)."""
        P = self._cache.get("irredundant")
        if P is None:
            rows = self._rows()
            D = self.dim
            fr = self.facet_rows()
            A = _fraction_array([[Fraction(v) for v in rows[i][:D]] for i in fr], D)
            b = _fraction_vector([Fraction(rows[i][D]) for i in fr])
            P = Polytope(A, b, check=False)
            vr = self._vrep()
            pos = {i: k for k, i in enumerate(fr)}
            P._cache["vrep"] = _Vrep(vr.vertices, vr.homogeneous,
                                    tuple(frozenset(pos[i] for i in inc if i in pos) for inc in vr.incidence),
                                    tuple(range(len(fr))), vr.facet_masks)
            if "interior" in self._cache:
                P._cache["interior"] = lp.InteriorPointCertificate(A, b, self._cache["interior"].x)
            P._cache["irredundant"] = P
            self._cache["irredundant"] = P
        return P

    def canonical(self) -> "Polytope":
        """The normal form of the set: facet rows as primitive integers, sorted.  Two
        polytopes are the same set iff their canonical forms are ``==``."""
        rows = self._rows()
        D = self.dim
        key = sorted(rows[i] for i in self.facet_rows())
        A = _fraction_array([[Fraction(v) for v in r[:D]] for r in key], D)
        b = _fraction_vector([Fraction(r[D]) for r in key])
        return Polytope(A, b, check=False)

    def equals(self, other: "Polytope") -> bool:
        """Exact set equality (representations may differ)."""
        if self.dim != other.dim:
            return False
        rows_s = {self._rows()[i] for i in self.facet_rows()}
        rows_o = {other._rows()[i] for i in other.facet_rows()}
        return rows_s == rows_o

    # ---- measure ------------------------------------------------------------------

    def volume(self) -> Fraction:
        """Exact D-dimensional volume (any D; pulling triangulation, see module docstring).

        Examples
        --------
        >>> Box([0, 0], [1, 1]).volume()
        Fraction(1, 1)
        """
        v = self._cache.get("volume")
        if v is None:
            vr = self._vrep()
            v = homogeneous_volume(vr.homogeneous, vr.facet_masks, self.dim)
            self._cache["volume"] = v
        return v


class Box(Polytope):
    """The axis-aligned box ``{x : lo <= x <= hi}`` as a :class:`Polytope`.

    Rows: ``x_j <= hi_j`` for j = 0..D-1, then ``-x_j <= -lo_j``.  ``lo < hi`` is checked
    in every coordinate.

    Examples
    --------
    >>> Box([0, 0], [1, 1]).volume()
    Fraction(1, 1)
    >>> Box([0], ["1/3"]).interior_point().tolist()
    [Fraction(1, 6)]
    """

    __slots__ = ()

    def __init__(self, lo: Any, hi: Any) -> None:
        lo = to_fraction_array(lo, name="lo", ndim=1)
        hi = to_fraction_array(hi, name="hi", ndim=1)
        if lo.shape != hi.shape or lo.shape[0] < 1:
            raise ShapeError(f"lo has shape {lo.shape} and hi has shape {hi.shape}; expected equal "
                             "shapes (D,) with D >= 1")
        for j, (l, h) in enumerate(zip(lo, hi)):
            if not l < h:
                raise DomainError(f"Box: lo[{j}] = {l} is not < hi[{j}] = {h}; expected lo < hi in every "
                                  "coordinate (a full-dimensional box)")
        D = lo.shape[0]
        A = np.empty((2 * D, D), dtype=object)
        A[:] = Fraction(0)
        for j in range(D):
            A[j, j] = Fraction(1)
            A[D + j, j] = Fraction(-1)
        b = _fraction_vector(list(hi) + [-v for v in lo])
        Polytope.__init__(self, A, b, check=False)
        mid = _fraction_vector([(l + h) / 2 for l, h in zip(lo, hi)])
        self._cache["interior"] = lp.InteriorPointCertificate(self.A, self.b, mid)
        vol = Fraction(1)
        for l, h in zip(lo, hi):
            vol *= h - l
        self._cache["volume"] = vol

    @property
    def lo(self) -> np.ndarray:
        D = self.dim
        return _fraction_vector([-v for v in self.b[D:]])

    @property
    def hi(self) -> np.ndarray:
        return _fraction_vector(list(self.b[: self.dim]))

    def __repr__(self) -> str:
        return f"Box(lo={self.lo.tolist()!r}, hi={self.hi.tolist()!r})"

    def _vrep(self) -> _Vrep:
        v = self._cache.get("vrep")
        if v is None:
            D = self.dim
            lo, hi = self.lo, self.hi
            verts = []
            incidence = []
            for corner in itertools.product((0, 1), repeat=D):  # lexicographic, as lo < hi
                verts.append(tuple(hi[j] if c else lo[j] for j, c in enumerate(corner)))
                incidence.append(frozenset(j if c else D + j for j, c in enumerate(corner)))
            masks = []
            for i in range(2 * D):
                masks.append(sum(1 << k for k, inc in enumerate(incidence) if i in inc))
            hom = []
            for vert in verts:
                X, q = _point_ints(vert)
                hom.append(tuple(X) + (q,))
            v = _Vrep(tuple(verts), tuple(hom), tuple(incidence), tuple(range(2 * D)), tuple(masks))
            self._cache["vrep"] = v
        return v
