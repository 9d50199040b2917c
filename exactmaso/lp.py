"""HiGHS linear programs that *propose*, and exact certificates that *decide*.

Floating-point LPs (HiGHS through ``highspy``, one reused solver object per thread,
presolve off, one thread) suggest points, rays and multipliers.  Every fact the library
relies on is then re-derived in exact rational arithmetic and packaged as a certificate
whose ``.verify()`` re-checks it in plain :class:`fractions.Fraction` arithmetic:

======================================  =================================================
:class:`InteriorPointCertificate`       ``A x < b`` strictly: the set is nonempty and
                                        full-dimensional
:class:`InfeasibilityCertificate`       ``y >= 0, y^T A = 0, y^T b < 0``: ``A x <= b`` is
                                        empty (Farkas)
:class:`BoundednessCertificate`         ``y > 0, y^T A = 0, rank A = D``: the recession cone
                                        of ``A x <= b`` is ``{0}``
:class:`UnboundednessCertificate`       ``A x0 <= b, A d <= 0, d != 0``
:class:`FlatnessCertificate`            ``y >= 0, y^T A = 0, y^T b = 0`` with a nonzero row
                                        in its support: the set lies in a hyperplane
======================================  =================================================

A float status alone never decides anything: when a float proposal cannot be turned into
an exact certificate the functions here return ``None`` ("undecided") and the caller falls
back to an exact method.

HiGHS pitfalls handled here: it silently drops matrix entries with ``|a| <= 1e-9`` and
treats bounds ``>= 1e20`` as infinite, so exact rows are scaled (each row divided exactly
by its largest absolute entry) before they are rounded to floats; ``threads`` is set
only before the first ``run()`` in the process; the integrality array passed to
``passModel`` is a full-length ``int32`` array.
"""

from __future__ import annotations

import contextlib
import enum
import math
import os
import sys
import threading
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Iterator, Sequence

import flint
import numpy as np

from .errors import CertificateError, ShapeError
from .numbers import to_fraction_array

__all__ = [
    "LPStatus",
    "LPResult",
    "LPSolver",
    "solve_lp",
    "chebyshev_center",
    "farkas",
    "float_system",
    "float_rows",
    "primitive_int_row",
    "interior_point_certificate",
    "infeasibility_certificate",
    "boundedness_certificate",
    "flatness_certificate",
    "InteriorPointCertificate",
    "InfeasibilityCertificate",
    "BoundednessCertificate",
    "UnboundednessCertificate",
    "FlatnessCertificate",
]

#: relative size below which a float multiplier is taken as zero when guessing a support
SUPPORT_TOL = 1e-9
#: largest magnitude passed to HiGHS as a finite bound (it treats >= 1e20 as infinite)
FLOAT_BOUND_CAP = 1e19


# --------------------------------------------------------------------------------------
# float LPs
# --------------------------------------------------------------------------------------


class LPStatus(enum.Enum):
    """Outcome of a float LP.  Only a proposal: exact certificates decide."""

    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    UNDECIDED = "undecided"  # time/iteration limit, numerical trouble, unbounded-or-infeasible


@dataclass(frozen=True, slots=True)
class LPResult:
    """A float LP result: ``x`` (primal, or None), ``objective``, and the HiGHS row duals.

    ``dual_ray`` holds a Farkas ray (one entry per row, sign-normalised to ``>= 0`` in the
    ``A x <= b`` convention) when the LP is reported infeasible and HiGHS provides one.
    """

    status: LPStatus
    x: np.ndarray | None
    objective: float | None
    row_duals: np.ndarray | None
    dual_ray: np.ndarray | None


_THREADS_LOCK = threading.Lock()
_THREADS_SET = False


@contextlib.contextmanager
def _silenced_stdout() -> Iterator[None]:
    """Send the C-level standard output to /dev/null for the duration (banners from C++)."""
    try:
        sys.stdout.flush()
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # no real file descriptor (e.g. captured)
        yield
        return
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), fd)
            yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


class LPSolver:
    """One reused :class:`highspy.Highs` object (output off, presolve off, one thread).

    Not thread-safe; use one per thread (the module functions do so automatically).
    """

    __slots__ = ("_highs",)

    def __init__(self) -> None:
        self._highs: Any = None

    def _get(self) -> Any:
        global _THREADS_SET
        if self._highs is None:
            import highspy

            with _silenced_stdout():  # the first Highs() prints a banner whatever its options
                h = highspy.Highs()
            h.setOptionValue("output_flag", False)
            h.setOptionValue("presolve", "off")
            with _THREADS_LOCK:
                if not _THREADS_SET:  # HiGHS accepts this only before the first run()
                    h.setOptionValue("threads", 1)
                    _THREADS_SET = True
            self._highs = h
        return self._highs

    def solve(
        self,
        c: Any,
        A_ub: Any,
        b_ub: Any,
        bounds: Any = None,
    ) -> LPResult:
        """Minimise ``c @ x`` subject to ``A_ub @ x <= b_ub`` and ``bounds`` (floats).

        ``bounds``: None (all variables free), one ``(lo, hi)`` pair for all variables, or a
        sequence of pairs; ``None`` inside a pair means infinite.
        """
        import highspy

        c = np.asarray(c, dtype=np.float64).ravel()
        A = np.asarray(A_ub, dtype=np.float64)
        b = np.asarray(b_ub, dtype=np.float64).ravel()
        n = c.shape[0]
        if A.size == 0:
            A = A.reshape(0, n)
        if A.ndim != 2 or A.shape[1] != n or A.shape[0] != b.shape[0]:
            raise ShapeError(f"LP with c of length {n}: A_ub has shape {A.shape}, b_ub has shape {b.shape}; "
                             f"expected (m, {n}) and (m,)")
        m = A.shape[0]
        inf = highspy.kHighsInf
        lo, hi = _bounds_arrays(bounds, n, inf)
        rows_up = np.clip(b, -FLOAT_BOUND_CAP, FLOAT_BOUND_CAP)
        h = self._get()
        h.clearSolver()
        h.passModel(
            n, m, m * n, int(highspy.MatrixFormat.kRowwise), int(highspy.ObjSense.kMinimize), 0.0,
            c, lo, hi, np.full(m, -inf), rows_up,
            np.arange(0, m * n + 1, n, dtype=np.int32) if n else np.zeros(m + 1, np.int32),
            np.tile(np.arange(n, dtype=np.int32), m), np.ascontiguousarray(A.ravel()),
            np.zeros(n, np.int32),
        )
        h.run()
        ms = h.getModelStatus()
        S = highspy.HighsModelStatus
        if ms == S.kOptimal:
            sol = h.getSolution()
            return LPResult(LPStatus.OPTIMAL, np.array(sol.col_value), h.getInfo().objective_function_value,
                            np.array(sol.row_dual), None)
        if ms == S.kInfeasible:
            ray = None
            _, has_ray, r = h.getDualRay()
            if has_ray:
                r = np.asarray(r, dtype=np.float64)
                ray = -r if r.sum() < 0 else r
            return LPResult(LPStatus.INFEASIBLE, None, None, None, ray)
        if ms == S.kUnbounded:
            return LPResult(LPStatus.UNBOUNDED, None, None, None, None)
        return LPResult(LPStatus.UNDECIDED, None, None, None, None)


def _bounds_arrays(bounds: Any, n: int, inf: float) -> tuple[np.ndarray, np.ndarray]:
    lo = np.full(n, -inf)
    hi = np.full(n, inf)
    if bounds is None:
        return lo, hi
    if len(bounds) == 2 and not isinstance(bounds[0], (tuple, list)):
        bounds = [bounds] * n
    if len(bounds) != n:
        raise ShapeError(f"bounds has {len(bounds)} pairs; expected {n} (one per variable)")
    for j, (l, u) in enumerate(bounds):
        lo[j] = -inf if l is None else max(float(l), -inf)
        hi[j] = inf if u is None else min(float(u), inf)
    return lo, hi


_LOCAL = threading.local()


def _default_solver() -> LPSolver:
    s = getattr(_LOCAL, "solver", None)
    if s is None:
        s = _LOCAL.solver = LPSolver()
    return s


def solve_lp(c: Any, A_ub: Any, b_ub: Any, bounds: Any = None, *, solver: LPSolver | None = None) -> LPResult:
    """Float LP ``min c @ x  s.t.  A_ub @ x <= b_ub`` (variables free unless ``bounds``).

    Examples
    --------
    >>> r = solve_lp([1.0], [[-1.0]], [-2.0])
    >>> r.status, r.x.tolist()
    (<LPStatus.OPTIMAL: 'optimal'>, [2.0])
    """
    return (solver or _default_solver()).solve(c, A_ub, b_ub, bounds)


# --------------------------------------------------------------------------------------
# exact rows <-> floats
# --------------------------------------------------------------------------------------


def _exact_array(x: Any, name: str, ndim: int) -> np.ndarray:
    if isinstance(x, np.ndarray) and x.dtype == object and x.ndim == ndim and all(type(v) is Fraction for v in x.flat):
        return x
    return to_fraction_array(x, name=name, ndim=ndim)


def _as_exact(A: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    A = _exact_array(A, "A", 2)
    b = _exact_array(b, "b", 1)
    if A.shape[0] != b.shape[0]:
        raise ShapeError(f"A has {A.shape[0]} rows and b has {b.shape[0]} entries; expected equal")
    return A, b


def _row_scales(A: np.ndarray) -> list[Fraction]:
    """The largest absolute entry of each row (1 for a zero row)."""
    out = []
    for row in A:
        s = max((abs(v) for v in row), default=Fraction(0))
        out.append(s if s else Fraction(1))
    return out


def primitive_int_row(a: Sequence[Fraction], beta: Fraction) -> tuple[int, ...]:
    """``[a | beta]`` scaled by a positive factor to a primitive integer vector."""
    den = 1
    for v in (*a, beta):
        q = v.denominator
        if q != 1:
            den = den // math.gcd(den, q) * q
    ints = [v.numerator * (den // v.denominator) for v in (*a, beta)]
    g = math.gcd(*ints)
    if g > 1:
        ints = [v // g for v in ints]
    return tuple(ints)


def float_rows(rows: Sequence[Sequence[int]], d: int) -> tuple[np.ndarray, np.ndarray]:
    """Floats for HiGHS from integer rows ``[a | beta]`` (``a . x <= beta``): each row
    divided by its largest absolute ``a`` entry (exact integer division, correctly rounded),
    so entries lie in ``[-1, 1]``; right-hand sides are capped at ``1e19``."""
    m = len(rows)
    Af = np.zeros((m, d))
    bf = np.zeros(m)
    for i, r in enumerate(rows):
        s = max(abs(v) for v in r[:d]) if d else 0
        s = s or 1
        Af[i] = [v / s for v in r[:d]]
        q = r[d] / s if abs(r[d]) < s * FLOAT_BOUND_CAP else math.copysign(FLOAT_BOUND_CAP, r[d])
        bf[i] = q
    return Af, bf


def float_system(A: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    """Floats for HiGHS: each exact row of ``[A | b]`` divided by the largest absolute entry
    of its ``A`` part (zero rows are left as they are), see :func:`float_rows`.

    The scaled rows have entries in ``[-1, 1]`` (so a row is never dropped as a whole by
    HiGHS's ``1e-9`` threshold); the right-hand sides are capped at ``1e19``.
    """
    A, b = _as_exact(A, b)
    m, d = A.shape
    return float_rows([primitive_int_row(A[i], b[i]) for i in range(m)], d)


def chebyshev_center(A: Any, b: Any, *, solver: LPSolver | None = None) -> tuple[np.ndarray, float] | None:
    """Float Chebyshev centre of ``{x : A x <= b}``: the centre and radius of a largest
    inscribed Euclidean ball, or None when HiGHS reports infeasible or fails.

    Exact ``A``, ``b`` (object arrays, lists of Fractions...) are row-scaled exactly first;
    float arrays are row-scaled in floats.  The radius is ``inf`` if the set contains
    arbitrarily large balls (the returned centre is then some feasible point).  A proposal
    only: check the centre exactly before relying on it.
    """
    if isinstance(A, np.ndarray) and A.dtype.kind == "f":
        Af = np.asarray(A, dtype=np.float64)
        bf = np.asarray(b, dtype=np.float64).ravel()
        s = np.abs(Af).max(axis=1, initial=0.0)
        s[s == 0] = 1.0
        Af, bf = Af / s[:, None], bf / s
    else:
        Af, bf = float_system(A, b)
    m, d = Af.shape
    norms = np.sqrt((Af * Af).sum(axis=1))
    M = np.hstack([Af, norms[:, None]])
    cost = np.zeros(d + 1)
    cost[-1] = -1.0
    bounds = [(None, None)] * d + [(0.0, None)]
    res = solve_lp(cost, M, bf, bounds, solver=solver)
    if res.status is LPStatus.UNBOUNDED:
        bounds[-1] = (0.0, 1.0)
        res = solve_lp(cost, M, bf, bounds, solver=solver)
        if res.status is not LPStatus.OPTIMAL:
            return None
        return res.x[:d], math.inf
    if res.status is not LPStatus.OPTIMAL:
        return None
    return res.x[:d], float(res.x[d])


# --------------------------------------------------------------------------------------
# exact helpers
# --------------------------------------------------------------------------------------


def _fractions_of_floats(v: np.ndarray) -> list[Fraction]:
    return [Fraction(*float(t).as_integer_ratio()) for t in v]


def _rank(rows: Sequence[Sequence[Fraction]]) -> int:
    """Exact rank of a rational matrix given as rows (plain Fraction elimination)."""
    M = [list(r) for r in rows]
    if not M:
        return 0
    rank = 0
    ncols = len(M[0])
    for col in range(ncols):
        piv = next((i for i in range(rank, len(M)) if M[i][col] != 0), None)
        if piv is None:
            continue
        M[rank], M[piv] = M[piv], M[rank]
        p = M[rank][col]
        for i in range(rank + 1, len(M)):
            f = M[i][col]
            if f:
                f = f / p
                M[i] = [x - f * y for x, y in zip(M[i], M[rank])]
        rank += 1
    return rank


def _flint_rank(A: np.ndarray) -> int:
    """Exact rank of a Fraction object matrix with python-flint."""
    m, d = A.shape
    if m == 0 or d == 0:
        return 0
    M = flint.fmpq_mat(m, d)
    for i in range(m):
        for j in range(d):
            v = A[i, j]
            if v:
                M[i, j] = flint.fmpq(v.numerator, v.denominator)
    return M.rank()


def _snap(M: list[list[Fraction]], rhs: list[Fraction], guess: list[Fraction]) -> list[Fraction] | None:
    """An exact solution of ``M y = rhs`` near ``guess``: the free variables of the reduced
    row echelon form take their guessed values, the pivot variables are solved for.
    Returns None if the system is inconsistent."""
    rows = len(M)
    n = len(guess)
    if rows == 0:
        return list(guess)
    aug = flint.fmpq_mat(rows, n + 1)
    for i in range(rows):
        for j in range(n):
            if M[i][j]:
                aug[i, j] = flint.fmpq(M[i][j].numerator, M[i][j].denominator)
        aug[i, n] = flint.fmpq(rhs[i].numerator, rhs[i].denominator)
    R, rank = aug.rref()
    pivots = []
    for i in range(rank):
        j = next(j for j in range(n + 1) if R[i, j] != 0)
        if j == n:
            return None  # 0 = nonzero: inconsistent
        pivots.append(j)
    y = list(guess)
    pivset = set(pivots)
    free = [j for j in range(n) if j not in pivset]
    for i, pj in enumerate(pivots):
        v = Fraction(int(R[i, n].p), int(R[i, n].q))
        for j in free:
            r = R[i, j]
            if r != 0 and y[j]:
                v -= Fraction(int(r.p), int(r.q)) * y[j]
        y[pj] = v
    return y


def _dot(u: Sequence[Fraction], v: Sequence[Fraction]) -> Fraction:
    return sum((x * y for x, y in zip(u, v)), Fraction(0))


# --------------------------------------------------------------------------------------
# certificates
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InteriorPointCertificate:
    """``A x < b`` holds strictly and exactly: ``{x : A x <= b}`` is nonempty and
    full-dimensional (a small ball around ``x`` lies in it)."""

    A: np.ndarray
    b: np.ndarray
    x: np.ndarray

    def verify(self) -> None:
        for i, (row, bi) in enumerate(zip(self.A, self.b)):
            lhs = _dot(row, self.x)
            if not lhs < bi:
                raise CertificateError(f"interior point certificate: row {i} gives {lhs} which is not < {bi}")


@dataclass(frozen=True, slots=True)
class InfeasibilityCertificate:
    """Farkas: ``y >= 0``, ``y^T A = 0``, ``y^T b < 0``; then ``A x <= b`` has no solution
    (``0 = y^T A x <= y^T b < 0`` would follow)."""

    A: np.ndarray
    b: np.ndarray
    y: np.ndarray

    def verify(self) -> None:
        if any(v < 0 for v in self.y):
            raise CertificateError("infeasibility certificate: y has a negative entry")
        m, d = self.A.shape
        for j in range(d):
            s = _dot(self.y, self.A[:, j])
            if s != 0:
                raise CertificateError(f"infeasibility certificate: (y^T A)[{j}] = {s}; expected 0")
        s = _dot(self.y, self.b)
        if not s < 0:
            raise CertificateError(f"infeasibility certificate: y^T b = {s}; expected < 0")


@dataclass(frozen=True, slots=True)
class BoundednessCertificate:
    """``y > 0`` (every entry), ``y^T A = 0`` and ``rank A = D``: then ``A d <= 0`` forces
    ``A d = 0`` (as ``0 = y^T A d`` is a sum of nonpositive terms with positive weights) and
    so ``d = 0``; ``{x : A x <= b}`` is bounded."""

    A: np.ndarray
    y: np.ndarray

    def verify(self) -> None:
        if any(v <= 0 for v in self.y):
            raise CertificateError("boundedness certificate: y has an entry <= 0")
        m, d = self.A.shape
        for j in range(d):
            s = _dot(self.y, self.A[:, j])
            if s != 0:
                raise CertificateError(f"boundedness certificate: (y^T A)[{j}] = {s}; expected 0")
        r = _rank(self.A.tolist())
        if r != d:
            raise CertificateError(f"boundedness certificate: rank A = {r}; expected {d}")


@dataclass(frozen=True, slots=True)
class UnboundednessCertificate:
    """A point ``x0`` with ``A x0 <= b`` and a direction ``d != 0`` with ``A d <= 0``: the
    ray ``x0 + t d, t >= 0`` lies in ``{x : A x <= b}``."""

    A: np.ndarray
    b: np.ndarray
    x0: np.ndarray
    d: np.ndarray

    def verify(self) -> None:
        if all(v == 0 for v in self.d):
            raise CertificateError("unboundedness certificate: the direction is zero")
        for i, (row, bi) in enumerate(zip(self.A, self.b)):
            if _dot(row, self.x0) > bi:
                raise CertificateError(f"unboundedness certificate: the point violates row {i}")
            if _dot(row, self.d) > 0:
                raise CertificateError(f"unboundedness certificate: the direction increases row {i}")


@dataclass(frozen=True, slots=True)
class FlatnessCertificate:
    """``y >= 0``, ``y^T A = 0``, ``y^T b = 0`` and a row ``i`` with ``y_i > 0`` and
    ``A[i] != 0``: every ``x`` with ``A x <= b`` has ``A[i] x = b[i]`` (a sum of nonnegative
    slacks with positive weights is zero), so the set lies in a hyperplane."""

    A: np.ndarray
    b: np.ndarray
    y: np.ndarray

    def verify(self) -> None:
        if any(v < 0 for v in self.y):
            raise CertificateError("flatness certificate: y has a negative entry")
        m, d = self.A.shape
        for j in range(d):
            if _dot(self.y, self.A[:, j]) != 0:
                raise CertificateError(f"flatness certificate: (y^T A)[{j}] != 0")
        if _dot(self.y, self.b) != 0:
            raise CertificateError("flatness certificate: y^T b != 0")
        if not any(v > 0 and any(a != 0 for a in row) for v, row in zip(self.y, self.A)):
            raise CertificateError("flatness certificate: no nonzero row in the support of y")

    @property
    def rows(self) -> tuple[int, ...]:
        """Rows that hold with equality on the whole set (the support of y)."""
        return tuple(i for i, v in enumerate(self.y) if v > 0)


def _fraction_vector(vals: Sequence[Fraction]) -> np.ndarray:
    out = np.empty(len(vals), dtype=object)
    out[:] = list(vals)
    return out


def interior_point_certificate(
    A: Any, b: Any, *, solver: LPSolver | None = None
) -> InteriorPointCertificate | None:
    """Float Chebyshev centre, rationalised exactly (``Fraction(float)``) and checked to be
    strictly interior; None if the float proposal fails (undecided, not "empty")."""
    A, b = _as_exact(A, b)
    prop = chebyshev_center(A, b, solver=solver)
    if prop is None or not prop[1] > 0:
        return None
    cert = InteriorPointCertificate(A, b, _fraction_vector(_fractions_of_floats(prop[0])))
    try:
        cert.verify()
    except CertificateError:
        return None
    return cert


def _multiplier_certificate(
    A: np.ndarray, b: np.ndarray, yf: np.ndarray, target_b: Fraction
) -> list[Fraction] | None:
    """An exact ``y >= 0`` with ``y^T A = 0`` and ``y^T b = target_b``, snapped from the float
    guess ``yf`` (multipliers of the *scaled* float rows, see :func:`float_rows`) on its
    numerical support; None if snapping fails."""
    m, d = A.shape
    if yf is None or not np.all(np.isfinite(yf)) or yf.max(initial=0.0) <= 0:
        return None
    yf = np.where(yf > SUPPORT_TOL * yf.max(), yf, 0.0)
    support = [i for i in range(m) if yf[i] > 0]
    scales = _row_scales(A[support])
    # multipliers of the exact rows: y_i = y_scaled_i / s_i
    guess = [Fraction(*float(yf[i]).as_integer_ratio()) / s for i, s in zip(support, scales)]
    # normalise the guess so that y^T b ~= target_b where possible
    gb = _dot(guess, [b[i] for i in support])
    if target_b != 0 and gb != 0 and (gb < 0) == (target_b < 0):
        guess = [g * (target_b / gb) for g in guess]
    M = [[A[i, j] for i in support] for j in range(d)] + [[b[i] for i in support]]
    rhs = [Fraction(0)] * d + [target_b]
    if target_b == 0:  # homogeneous: fix the scale by the largest guessed entry
        k = max(range(len(support)), key=lambda t: guess[t])
        M.append([Fraction(int(t == k)) for t in range(len(support))])
        rhs.append(guess[k])
    ys = _snap(M, rhs, guess)
    if ys is None or any(v < 0 for v in ys):
        return None
    y = [Fraction(0)] * m
    for i, v in zip(support, ys):
        y[i] = v
    return y


def infeasibility_certificate(
    A: Any, b: Any, *, solver: LPSolver | None = None
) -> InfeasibilityCertificate | None:
    """Exact Farkas certificate for an empty ``{x : A x <= b}``, snapped from the HiGHS dual
    ray; None when HiGHS does not report infeasibility or the snapped ray fails the exact
    check (undecided: the caller must not conclude anything)."""
    A, b = _as_exact(A, b)
    m, d = A.shape
    for i in range(m):  # a zero row with a negative right-hand side is its own certificate
        if b[i] < 0 and all(v == 0 for v in A[i]):
            y = [Fraction(0)] * m
            y[i] = Fraction(1)
            return InfeasibilityCertificate(A, b, _fraction_vector(y))
    Af, bf = float_system(A, b)
    res = solve_lp(np.zeros(d), Af, bf, solver=solver)
    if res.status is not LPStatus.INFEASIBLE or res.dual_ray is None:
        return None
    y = _multiplier_certificate(A, b, res.dual_ray, Fraction(-1))
    if y is None:
        return None
    cert = InfeasibilityCertificate(A, b, _fraction_vector(y))
    try:
        cert.verify()
    except CertificateError:
        return None
    return cert


def farkas(A: Any, b: Any, *, solver: LPSolver | None = None) -> InfeasibilityCertificate | None:
    """Alias of :func:`infeasibility_certificate`: ``y >= 0, y^T A = 0, y^T b < 0`` or None."""
    return infeasibility_certificate(A, b, solver=solver)


def boundedness_certificate(A: Any, *, solver: LPSolver | None = None) -> BoundednessCertificate | None:
    """Exact ``y > 0`` with ``y^T A = 0`` and ``rank A = D`` (then every ``{A x <= b}`` is
    bounded), from the float LP ``y >= 1, A^T y = 0`` snapped exactly; None if undecided."""
    A = _exact_array(A, "A", 2)
    m, d = A.shape
    if m == 0 or _flint_rank(A) != d:
        return None
    # scale each row: y_i for the scaled row equals y_i * s_i for the original one
    scales = _row_scales(A)
    At = np.array([[float(A[i, j] / scales[i]) for i in range(m)] for j in range(d)]).reshape(d, m)
    # equality A^T y = 0 as two inequalities; y >= 1
    res = solve_lp(np.ones(m), np.vstack([At, -At]), np.zeros(2 * d), bounds=[(1.0, None)] * m, solver=solver)
    if res.status is not LPStatus.OPTIMAL:
        return None
    guess = [Fraction(*float(v).as_integer_ratio()) / s for v, s in zip(res.x, scales)]
    M = [[A[i, j] for i in range(m)] for j in range(d)]
    y = _snap(M, [Fraction(0)] * d, guess)
    if y is None:
        return None
    cert = BoundednessCertificate(A, _fraction_vector(y))
    try:
        cert.verify()
    except CertificateError:
        return None
    return cert


def flatness_certificate(
    A: Any, b: Any, row: int, *, solver: LPSolver | None = None
) -> FlatnessCertificate | None:
    """Exact proof that ``A[row] x = b[row]`` on all of a nonempty ``{x : A x <= b}``:
    from the float LP ``max b[row] - A[row] x`` (optimal value 0) and its duals, snapped
    exactly; None if undecided."""
    A, b = _as_exact(A, b)
    m, d = A.shape
    Af, bf = float_system(A, b)
    res = solve_lp(Af[row], Af, bf, solver=solver)
    if res.status is not LPStatus.OPTIMAL or res.row_duals is None:
        return None
    # duals of the min problem are <= 0 for <= rows: y = -dual + e_row (scaled rows)
    yf = -np.asarray(res.row_duals, dtype=np.float64)
    yf[row] += 1.0
    y = _multiplier_certificate(A, b, yf, Fraction(0))
    if y is None or y[row] <= 0:
        return None
    cert = FlatnessCertificate(A, b, _fraction_vector(y))
    try:
        cert.verify()
    except CertificateError:
        return None
    return cert
