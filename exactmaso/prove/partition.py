"""Proofs that read the whole partition: Lipschitz constants, convexity, monotonicity, and the
nearest point where the arg-max class changes.

Each enumerates the linear regions of the domain exactly (:func:`exactmaso.regions`), answers
region by region in exact arithmetic, and puts the partition (codes, points, facet labels,
vertices) in the certificate: the checker re-verifies the partition with
:func:`exactmaso.verify.verify_partition` and then the claim on every region.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, Sequence

import numpy as np

from ..errors import DomainError, ProveError
from ..lp import LPStatus, solve_lp
from ..maso import Network
from ..regions import regions
from . import checker
from .api import check_net, domain_of, parse_eps, parse_index, parse_norm, parse_point, top_class, _q
from .checker import ClaimSet, format_q
from .lpexact import maximize_over_box
from .results import Lipschitz, MinAdversarial, PropertyResult, certificate_text

__all__ = ["lipschitz", "is_convex", "is_monotone", "min_adversarial"]


def _enumerate(net: Network, S: ClaimSet, progress: bool = False):
    poly = checker.set_polytope(S)
    part = regions(net, poly, progress=progress)
    return part, checker.partition_json(part)


def _functional(net: Network, output: Any) -> list[Fraction] | None:
    if output is None:
        return None
    O = net.output_dim
    output = parse_index(output, O, "output", "outputs")
    return [Fraction(int(o == output)) for o in range(O)]


def _scalar(net: Network, output: Any, what: str) -> list[Fraction]:
    c = _functional(net, output)
    if c is None:
        if net.output_dim != 1:
            raise ProveError(f"{what} is about one output; the network has {net.output_dim}: say which with output=j")
        c = [Fraction(1)]
    return c


# -- Lipschitz ----------------------------------------------------------------------------
def lipschitz(net: Network, dom: Any, norm: Any = "inf", output: int | None = None, *,
              progress: bool = False) -> Lipschitz:
    """The exact Lipschitz constant of the network on ``dom`` in the given norm (the same norm
    on inputs and outputs; for one output, or ``output=j``, the dual norm of the gradient).

    It is the largest, over the linear regions, of the induced norm of the region's matrix:
    max row sum (``"inf"``), max column sum (``1``), largest singular value (``2``: an exact
    algebraic number, a sympy expression, the square root of the largest eigenvalue of
    ``A A^T``).  ``.region`` is the index of a region attaining it in ``em.regions(net, dom)``.
    """
    net = check_net(net)
    norm = parse_norm(norm)
    S = domain_of(dom, net.input_dim)
    c = _functional(net, output)
    part, pjson = _enumerate(net, S, progress)
    mats = [checker.region_matrix(np.asarray(r.affine.A), c) for r in part]
    if norm in (1, "inf"):
        vals = [checker.induced_norm(M, norm) for M in mats]
        best = max(range(len(vals)), key=lambda i: vals[i])
        value: Any = vals[best]
        value_float = float(value)
        stored = format_q(value)
    else:
        floats = [float(np.linalg.norm(np.array(M, dtype=float), 2)) if M else 0.0 for M in mats]
        order = sorted(range(len(mats)), key=lambda i: -floats[i])
        best = order[0]
        while True:
            lam = checker.largest_eigenvalue(mats[best])
            above = next((i for i in order if not checker.eigen_at_most(mats[i], lam)), None)
            if above is None:
                break
            best = above  # floats misranked two regions: the exact comparison decides
        value = _sqrt_value(lam)
        value_float = _float_of(value)
        stored = lam.to_json()
    claim = {"kind": "lipschitz", "domain": S.to_json(), "norm": norm, "c": None if c is None else _q(c),
             "value": stored, "region": best}
    return Lipschitz(_nets=(net,), _certificate=certificate_text((net,), claim, [], {"partition": pjson}),
                     value=value, value_float=value_float, norm=norm, region=best, point=tuple(part[best].point))


def _float_of(value: Any) -> float:
    """The nearest float of an exact sympy number (evaluated to 30 digits, then rounded)."""
    import sympy

    return float(sympy.N(value, 30))


def _sqrt_value(lam: "checker.Algebraic") -> Any:
    """sqrt(lambda) as a sympy expression: exact for a rational, else the square root of the
    polynomial root (``CRootOf``, radicals for degree 2)."""
    import sympy

    if lam.rational is not None:
        return sympy.sqrt(sympy.Rational(lam.rational.numerator, lam.rational.denominator))
    t = sympy.Symbol("t")
    poly = sympy.Poly([sympy.Rational(v.numerator, v.denominator) for v in lam.coeffs], t)
    for factor, _ in sympy.factor_list(poly.as_expr(), t)[1]:
        fp = sympy.Poly(factor, t)
        if fp.count_roots(sympy.Rational(lam.lo.numerator, lam.lo.denominator),
                          sympy.Rational(lam.hi.numerator, lam.hi.denominator)) == 1:
            roots = fp.real_roots()
            return sympy.sqrt(roots[-1]) if roots else sympy.nan
    raise AssertionError("the eigenvalue's factor was not found")  # pragma: no cover


# -- convexity and monotonicity -----------------------------------------------------------
def is_convex(net: Network, dom: Any, output: int | None = None, *, progress: bool = False) -> PropertyResult:
    """Is output ``j`` (the only output by default) a convex function on ``dom``?

    Yes exactly when it is the maximum of its regions' affine pieces: at every vertex of every
    region, the region's piece is at least every other region's piece.  The witness of a no is
    a chord that lies below the graph: exact points ``x``, ``y`` of the domain with
    ``f((x + y) / 2) > (f(x) + f(y)) / 2``.
    """
    net = check_net(net)
    S = domain_of(dom, net.input_dim)
    c = _scalar(net, output, "convexity")
    part, pjson = _enumerate(net, S, progress)
    pieces = [checker.piece(r.affine, c) for r in part]
    bad = checker.convexity_violation(pieces, [r.vertices() for r in part])
    claim: dict = {"kind": "convex", "domain": S.to_json(), "c": _q(c), "holds": bad is None, "witness": None}
    witness = None
    if bad is not None:
        r, s, v = bad
        witness = _chord_witness(net, c, tuple(part[s].point), v)
        claim["witness"] = [_q(witness[0]), _q(witness[1])]
    extra = {"partition": pjson} if bad is None else None
    return PropertyResult(_nets=(net,), _certificate=certificate_text((net,), claim, [], extra), holds=bad is None,
                          witness=witness, property="convex")


def _chord_witness(net: Network, c: Sequence[Fraction], y: tuple, v: Sequence[Fraction]) -> tuple:
    """f = g_s near ``y`` and f(v) < g_s(v): halve the segment from y towards v until its
    midpoint lies above the chord (at most log2 of the segment over the flat part's length)."""
    def f(x):
        out = net(list(x))
        return sum((a * b for a, b in zip(c, out)), Fraction(0))

    fy = f(y)
    h = Fraction(1)
    while True:
        z = tuple(a + h * (b - a) for a, b in zip(y, v))
        m = tuple(a + h / 2 * (b - a) for a, b in zip(y, v))
        if 2 * f(m) > fy + f(z):
            return (y, z)
        h /= 2


def is_monotone(net: Network, dom: Any, input: int = 0, output: int | None = None, *, increasing: bool = True,
                progress: bool = False) -> PropertyResult:
    """Is output ``j`` non-decreasing in input ``i`` on ``dom`` (non-increasing with
    ``increasing=False``)?  Yes exactly when every region's slope in ``x_i`` has that sign.
    The witness of a no: exact points ``x`` and ``y = x + t e_i`` (``t > 0``) of the domain with
    ``f(y) < f(x)`` (``>`` for non-increasing)."""
    net = check_net(net)
    D = net.input_dim
    input = parse_index(input, D, "input", "inputs")
    S = domain_of(dom, D)
    c = _scalar(net, output, "monotonicity")
    part, pjson = _enumerate(net, S, progress)
    sign = 1 if increasing else -1
    witness = None
    for r in part:
        g, _ = checker.piece(r.affine, c)
        if sign * g[input] < 0:
            x = list(r.point)
            A, b = np.asarray(r.polytope.A), np.asarray(r.polytope.b)
            steps = [(b[k] - sum((A[k, j] * x[j] for j in range(D)), Fraction(0))) / A[k, input]
                     for k in range(A.shape[0]) if A[k, input] > 0]
            t = min(steps) / 2
            y = list(x)
            y[input] += t
            witness = (tuple(x), tuple(y))
            break
    claim: dict = {"kind": "monotone", "domain": S.to_json(), "c": _q(c), "input": int(input),
                   "increasing": bool(increasing), "holds": witness is None,
                   "witness": None if witness is None else [_q(witness[0]), _q(witness[1])]}
    extra = {"partition": pjson} if witness is None else None
    return PropertyResult(_nets=(net,), _certificate=certificate_text((net,), claim, [], extra),
                          holds=witness is None, witness=witness,
                          property="non-decreasing" if increasing else "non-increasing")


# -- the nearest adversarial point --------------------------------------------------------
def min_adversarial(net: Network, x0: Any, norm: Any = "inf", *, dom: Any = None, label: int | None = None,
                    radius: Any = None, progress: bool = False) -> MinAdversarial:
    """The exact distance from ``x0`` to the nearest point (of ``dom``, if given) where class
    ``label`` (default: the arg-max at ``x0``) is not strictly on top, and that point.

    The linear regions of the box of radius ``r`` around ``x0`` are enumerated (``r`` doubles
    until the nearest point found lies within ``r``, so nothing outside can be nearer); in each
    region and for each other class the distance is a small exact program: a linear program
    for norms ``"inf"`` and ``1`` (a rational value), the projection onto a polytope for norm
    ``2`` (proposed by cvxpy, decided by an exact KKT system: the value is the square root of
    a rational).  Every region's lower bound is certified by exact dual multipliers.
    ``radius`` fixes the box: then the answer is the nearest point within the box of radius
    ``radius`` around ``x0`` (in the inf-norm, intersected with ``dom``; None if it has none),
    which is what robustness at ``eps = radius`` needs; the certificate says so
    (``"radius_fixed": true``).
    """
    net = check_net(net)
    D, O = net.input_dim, net.output_dim
    if O < 2:
        raise ProveError("the nearest adversarial point is about the arg-max class; the network has one output")
    x0 = parse_point(x0, D, "x0")
    norm = parse_norm(norm)
    S_dom = domain_of(dom, D) if dom is not None else None
    if S_dom is not None and not S_dom.contains(x0):
        raise DomainError("x0 lies outside the domain")
    if label is None:
        label = top_class(net, x0)
    else:
        label = parse_index(label, O, "label", "classes")
    fixed = radius is not None
    r = parse_eps(radius) if fixed else Fraction(1, 8) * (max(h - l for l, h in zip(S_dom.lo, S_dom.hi))
                                                          if S_dom is not None else 8)
    base = {"kind": "min_adversarial", "x0": _q(x0), "norm": norm, "label": label,
            "domain": S_dom.to_json() if S_dom is not None else None}
    y0 = net(x0)
    if any(y0[j] >= y0[label] for j in range(O) if j != label):
        claim = {**base, "radius": None, "value_squared" if norm == 2 else "value": "0", "point": _q(x0)}
        return MinAdversarial(_nets=(net,), _certificate=certificate_text((net,), claim, []), value=Fraction(0),
                              value_float=0.0, point=tuple(x0), label=label, norm=norm)
    if r == 0:
        r = Fraction(1, 8)  # x0 itself is not adversarial: a positive radius is needed for a lower bound
    while True:
        B = checker.ball_box(x0, r, S_dom)
        part, pjson = _enumerate(net, B, progress)
        best, bounds = _nearest_in(net, part, x0, label, norm, B, r)
        whole = S_dom is not None and all(a <= l for a, l in zip(B.lo, S_dom.lo)) and \
            all(a >= h for a, h in zip(B.hi, S_dom.hi))
        within = best is not None and checker.norm_value_at_most(best[0], norm, r)
        if within or fixed or whole:
            break
        r = 2 * r if best is None else checker.norm_radius(best[0], norm)
    # with a fixed radius the claim is the nearest point within the box of radius r (a
    # minimum over that box, None if it holds no such point), not the global nearest one
    claim = {**base, "radius": format_q(r), "radius_fixed": fixed, "bounds": bounds}
    if best is None:
        claim.update({"value_squared" if norm == 2 else "value": None, "point": None})
        value, value_float, point = None, math.inf, None
    else:
        q, point = best
        claim.update({"value_squared" if norm == 2 else "value": format_q(q), "point": _q(point)})
        value = q if norm != 2 else _sqrt_rational(q)
        value_float = float(q) if norm != 2 else math.sqrt(q)
    return MinAdversarial(_nets=(net,), _certificate=certificate_text((net,), claim, [], {"partition": pjson}),
                          value=value, value_float=value_float, point=None if point is None else tuple(point),
                          label=label, norm=norm)


def _sqrt_rational(q: Fraction) -> Any:
    import sympy

    return sympy.sqrt(sympy.Rational(q.numerator, q.denominator))


def _nearest_in(net, part, x0, label, norm, B: ClaimSet, r: Fraction):
    """The nearest adversarial point within the partitioned box: (value, point) or None (the
    value is the squared distance for norm 2), and per region and class a certificate entry:
    ``["empty"]`` (the class never reaches the label in the region: its margin is negative at
    every vertex) or ``["dual", [y...]]`` (multipliers whose bound is at least the value)."""
    O = net.output_dim
    candidates = []
    bounds: list = []
    for i, reg in enumerate(part):
        V = reg.vertices()
        aff = reg.affine
        row_entries = []
        for j in range(O):
            if j == label:
                row_entries.append(None)
                continue
            g, g0 = checker.margin(aff, j, label)
            if all(sum((a * v for a, v in zip(g, p)), g0) < 0 for p in V):
                row_entries.append(["empty"])
                continue
            A, b = checker.adversarial_rows(reg.polytope, g, g0)
            fl = _float_distance(A, b, x0, norm, B, r)
            candidates.append((fl, i, j, A, b))
            row_entries.append(None)  # filled below
        bounds.append(row_entries)
    candidates.sort(key=lambda t: t[0])
    best = None
    for fl, i, j, A, b in candidates:
        if best is not None and fl > float(best[0]) * (1 + 1e-6) + 1e-12:
            # far from the best: a rationalised float dual is enough, checked exactly
            y = _float_dual(A, b, x0, norm, B, r)
            if y is not None and checker.distance_bound(A, b, x0, norm, B, r, y) >= best[0]:
                bounds[i][j] = ["dual", _q(y)]
                continue
        value, point, y = _exact_distance(A, b, x0, norm, B, r)
        if value is None:
            bounds[i][j] = ["dual", _q(y)]  # infeasible: a Farkas combination
            continue
        if best is None or value < best[0]:
            best = (value, point)
        bounds[i][j] = ["dual", _q(y)]
    return best, bounds


def _float_distance(A, b, x0, norm, B, r) -> float:
    res = _float_program(A, b, x0, norm, B, r)
    return res[0] if res is not None else math.inf


def _float_program(A, b, x0, norm, B, r):
    """Float proposal: (value, x, dual multipliers of the rows A x <= b) or None if infeasible."""
    D = len(x0)
    Af = np.array([[float(v) for v in row] for row in A], dtype=float).reshape(len(A), D)
    bf = np.array([float(v) for v in b])
    xf = np.array([float(v) for v in x0])
    if norm == 2:
        import cvxpy as cp

        x = cp.Variable(D)
        cons = [Af @ x <= bf]
        prob = cp.Problem(cp.Minimize(cp.sum_squares(x - xf)), cons)
        try:
            prob.solve()
        except cp.error.SolverError:
            return None
        if x.value is None or prob.status not in ("optimal", "optimal_inaccurate"):
            return None
        return float(prob.value), x.value, np.maximum(np.asarray(cons[0].dual_value, dtype=float).reshape(-1), 0.0)
    Afull, bfull, lo, hi, w = checker.distance_program(A, b, x0, norm, B, r)
    Ff = np.array([[float(v) for v in row] for row in Afull], dtype=float)
    res = solve_lp([-float(v) for v in w], Ff, [float(v) for v in bfull],
                   bounds=[(float(l), float(h)) for l, h in zip(lo, hi)])
    if res.status is not LPStatus.OPTIMAL:
        return None
    return float(-(np.dot([float(v) for v in w], res.x))), res.x[:D], np.maximum(-res.row_duals, 0.0)


def _float_dual(A, b, x0, norm, B, r) -> list[Fraction] | None:
    res = _float_program(A, b, x0, norm, B, r)
    if res is None:
        return None
    return [Fraction(float(v)).limit_denominator(1 << 40) if v > 0 else Fraction(0) for v in res[2]]


def _exact_distance(A, b, x0, norm, B, r):
    """The exact nearest point of {A x <= b} within the box: (value, point, multipliers), or
    (None, None, Farkas multipliers) when it is empty.  Norm 2: the value is squared."""
    if norm == 2:
        return checker_projection(A, b, x0)
    Afull, bfull, lo, hi, w = checker.distance_program(A, b, x0, norm, B, r)
    out = maximize_over_box(w, lo, hi, Afull, bfull)
    if out.status == "infeasible":
        return None, None, list(out.y)
    return -out.value, list(out.x[:len(x0)]), list(out.y)


def checker_projection(A, b, x0):
    """Exact projection of ``x0`` onto {A x <= b}: an active set proposed by a float solution
    (cvxpy), refined until the exact KKT conditions hold (multipliers >= 0, point feasible)."""
    res = _float_program(A, b, x0, 2, None, None)
    D = len(x0)
    if res is None:
        # a float solver could not say: decide feasibility exactly with the simplex
        lo = [Fraction(-1 << 60)] * D
        hi = [Fraction(1 << 60)] * D
        out = maximize_over_box([Fraction(0)] * D, lo, hi, A, b)
        if out.status == "infeasible":
            return None, None, list(out.y)
        active: set[int] = set()
    else:
        _, xf, _ = res
        slack = [float(bi) - float(sum((float(a) * v for a, v in zip(row, xf)))) for row, bi in zip(A, b)]
        scale = 1e-7 * (1 + max(abs(float(v)) for v in b))
        active = {k for k, s in enumerate(slack) if s <= scale}
    for _ in range(4 * len(A) + 10):
        x, mu = checker.project_onto(A, b, x0, sorted(active))
        neg = [k for k, m in mu.items() if m < 0]
        viol = [k for k in range(len(A)) if sum((a * v for a, v in zip(A[k], x)), Fraction(0)) > b[k]]
        if not neg and not viol:
            y = [2 * mu.get(k, Fraction(0)) for k in range(len(A))]
            return sum(((a - c) ** 2 for a, c in zip(x, x0)), Fraction(0)), x, y
        if neg:
            active.discard(min(neg, key=lambda k: mu[k]))
        if viol:
            active.add(max(viol, key=lambda k: sum((a * v for a, v in zip(A[k], x)), Fraction(0)) - b[k]))
    raise ArithmeticError("the exact projection did not settle on an active set")  # pragma: no cover


# -- equivalence of arg-max classes -------------------------------------------------------
def equivalent_argmax(net1: Network, net2: Network, dom: Any, *, progress: bool = False):
    """Do ``net1`` and ``net2`` have the same set of top classes at every point of ``dom``?

    On every region of the two networks stacked, and for every pair of classes ``i != k``
    and each order of the networks, a small exact LP maximises ``g_k - g_i`` over the part
    of the region where ``i`` is a top class of ``f``: a positive maximum gives a point where
    ``i`` is on top for ``f`` but not for ``g``; otherwise dual multipliers (checked exactly)
    prove it is at most 0.  The certificate is the stacked partition and those multipliers.
    """
    from ..compose import stack
    from .results import Equivalence

    S = domain_of(dom, net1.input_dim)
    joint = stack(net1, net2)
    O = net1.output_dim
    part, pjson = _enumerate(joint, S, progress)
    entries: list = []
    witness = None
    for reg in part:
        lo, hi = checker.vertex_box(reg.vertices())
        per = []
        for first in (0, 1):
            for i in range(O):
                for k in range(O):
                    if i == k:
                        continue
                    A, b, w, w0 = checker.argmax_program(reg.polytope, reg.affine, O, first, i, k)
                    y = _float_lp_dual(w, A, b, lo, hi)
                    if y is not None and checker.lagrangian_box_max(w, w0, A, b, lo, hi, y) <= 0:
                        per.append(["dual", _q(y)])
                        continue
                    out = maximize_over_box(w, lo, hi, A, b)
                    if out.status == "infeasible":
                        per.append(["dual", _q(out.y)])
                        continue
                    if out.value + w0 > 0:
                        witness = tuple(out.x)
                        break
                    per.append(["dual", _q(out.y)])
                if witness is not None:
                    break
            if witness is not None:
                break
        if witness is not None:
            break
        entries.append(per)
    holds = witness is None
    claim = {"kind": "equivalent", "mode": "argmax", "domain": S.to_json(), "holds": holds,
             "counterexample": None if holds else _q(witness), "bounds": entries if holds else None}
    extra = {"partition": pjson} if holds else None
    return Equivalence(_nets=(net1, net2), _certificate=certificate_text((net1, net2), claim, [], extra),
                       holds=holds, counterexample=witness, max_difference=None, mode="argmax")


def _float_lp_dual(w, A, b, lo, hi) -> list[Fraction] | None:
    Af = np.array([[float(v) for v in row] for row in A], dtype=float)
    res = solve_lp([-float(v) for v in w], Af, [float(v) for v in b], bounds=[(float(l), float(h)) for l, h in zip(lo, hi)])
    if res.status is LPStatus.OPTIMAL and res.row_duals is not None:
        return [Fraction(float(v)).limit_denominator(1 << 40) if v > 0 else Fraction(0)
                for v in np.maximum(-res.row_duals, 0.0)]
    if res.status is LPStatus.INFEASIBLE and res.dual_ray is not None:
        return [Fraction(float(v)).limit_denominator(1 << 40) if v > 0 else Fraction(0)
                for v in np.maximum(res.dual_ray, 0.0)]
    return None
