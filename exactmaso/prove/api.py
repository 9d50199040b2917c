"""Proofs about networks: output bounds, robustness, equivalence (branch and bound), and the
partition-based ones (Lipschitz constants, convexity, monotonicity, nearest adversarial points).

Floats propose, exact arithmetic decides: every answer is exact, and every result carries a
certificate that :mod:`exactmaso.prove.checker` re-checks without trusting this module.
"""

from __future__ import annotations

import json
import math
import time
from fractions import Fraction
from typing import Any, Sequence

import numpy as np

from ..errors import DomainError, LimitError, ProveError, ShapeError
from ..maso import Network
from ..numbers import to_fraction, to_fraction_array
from ..polytope import Box, Polytope
from . import checker
from .checker import ClaimSet, ball_set, format_q
from .results import Equivalence, OutputBounds, Robustness, certificate_text
from .search import maximize

__all__ = ["output_bounds", "robust", "equivalent"]


# -- arguments ----------------------------------------------------------------------------
def check_net(net: Any, name: str = "net") -> Network:
    if not isinstance(net, Network):
        raise TypeError(f"{name} is a {type(net).__name__}; expected an exactmaso Network (em.mlp, em.load, ...)")
    return net


def domain_of(dom: Any, D: int) -> ClaimSet:
    """A Box, a Polytope or a pair (lo, hi) as the exact set the proofs are about."""
    if isinstance(dom, tuple) and len(dom) == 2 and not isinstance(dom, Polytope):
        dom = Box(*dom)
    if not isinstance(dom, Polytope):
        raise TypeError(f"the domain is a {type(dom).__name__}; expected em.Box(lo, hi) or em.Polytope(A, b)")
    if dom.dim != D:
        raise ShapeError(f"the domain lives in {dom.dim} dimensions; the network takes {D} inputs")
    A, b = dom.A, dom.b
    if isinstance(dom, Box):
        return ClaimSet([-v for v in b[D:]], list(b[:D]))
    V = dom.vertices()  # exact; the Polytope has checked it is bounded and full-dimensional
    lo = [min(V[:, j]) for j in range(D)]
    hi = [max(V[:, j]) for j in range(D)]
    return ClaimSet(lo, hi, [(list(A[i]), b[i]) for i in range(A.shape[0])])


def start_point(S: ClaimSet) -> list[Fraction]:
    if not S.rows:
        return [(a + b) / 2 for a, b in zip(S.lo, S.hi)]
    V = S.vertices()
    return [sum((v[j] for v in V), Fraction(0)) / len(V) for j in range(S.D)]


def functional(net: Network, output: Any, c: Any, d: Any) -> tuple[list[Fraction], Fraction]:
    O = net.output_dim
    if c is not None and output is not None:
        raise ProveError("give output=j or c=..., not both")
    if c is None:
        if output is None:
            if O != 1:
                raise ProveError(f"the network has {O} outputs; say which with output=j (or a functional c=)")
            output = 0
        output = parse_index(output, O, "output", "outputs")
        c = [Fraction(int(o == output)) for o in range(O)]
    else:
        c = list(to_fraction_array(c, name="c", ndim=1))
        if len(c) != O:
            raise ShapeError(f"c has {len(c)} entries; the network has {O} outputs")
    return c, to_fraction(d, name="d")


def parse_index(value: Any, n: int, name: str, what: str) -> int:
    """An index ``0 <= value < n`` (an int, not a bool) as an int; ShapeError otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value < n:
        raise ShapeError(f"{name}={value!r}; the network's {what} are 0..{n - 1}")
    return int(value)


def parse_norm(norm: Any, allowed: Sequence[Any] = (1, 2, "inf")) -> Any:
    if isinstance(norm, str):
        key = norm.strip().lower()
        value = {"inf": "inf", "linf": "inf", "max": "inf", "1": 1, "l1": 1, "2": 2, "l2": 2}.get(key)
    elif isinstance(norm, (int, float, np.integer, np.floating)) and not isinstance(norm, bool):
        value = "inf" if norm == math.inf else int(norm) if norm in (1, 2) else None
    else:
        value = None
    if value is None or value not in allowed:
        raise ProveError(f"norm={norm!r} is not supported here; choose one of {', '.join(map(str, allowed))}")
    return value


def parse_eps(eps: Any) -> Fraction:
    q = to_fraction(eps, name="eps")  # NaN and infinities raise DomainError
    if q < 0:
        raise DomainError(f"eps = {q} is negative; a ball radius must be >= 0")
    return q


def parse_point(x: Any, D: int, name: str) -> list[Fraction]:
    v = to_fraction_array(x, name=name)
    v = v.reshape(-1) if v.ndim > 1 and v.size == D else v
    if v.ndim != 1 or v.shape[0] != D:
        raise ShapeError(f"{name} has shape {np.shape(v)}; the network takes {D} inputs")
    return list(v)


def _q(v: Sequence[Fraction]) -> list[str]:
    return [format_q(Fraction(x)) for x in v]


def _remaining(deadline: float | None) -> float | None:
    if deadline is None:
        return None
    return max(deadline - time.perf_counter(), 0.0)


def _limits(deadline: float | None, time_limit: float | None) -> dict:
    """A search's time arguments when several searches share ``time_limit``: what remains of it
    until ``deadline``, and the limit as given (for the LimitError's message)."""
    return {"time_limit": _remaining(deadline), "given_limit": time_limit}


def _bound_proof(c: Sequence[Fraction], d: Fraction, S: ClaimSet, bound: Fraction, tree: dict,
                 strict: bool = False) -> dict:
    proof = {"c": _q(c), "d": format_q(d), "box": {"lo": _q(S.lo), "hi": _q(S.hi)}, "bound": format_q(bound),
             "strict": strict, "crown": "all", "tree": tree}
    if S.rows:
        proof["rows"] = [_q(list(a) + [b]) for a, b in S.rows]
    return proof


def _maximize(net, S, c, d, **kw):
    return maximize(net, S.lo, S.hi, c, d, rows=S.rows, start=start_point(S), **kw)


# -- output bounds ------------------------------------------------------------------------
def output_bounds(net: Network, dom: Any, output: int | None = None, *, c: Any = None, d: Any = 0,
                  which: str = "both", time_limit: float | None = None, max_nodes: int | None = None,
                  progress: bool = False) -> OutputBounds:
    """The exact minimum and maximum of output ``j`` (or of ``c . f(x) + d``) over ``dom``.

    Branch and bound over the domain (see :mod:`exactmaso.prove.search`): only boxes that the
    bounds cannot close (a box attaining the best value, a deep one) are decided by their
    linear regions, when they have few.  ``which="max"`` or ``"min"`` computes one side only.  On ``time_limit``
    (seconds, for both sides together) or ``max_nodes`` (per side) a LimitError carries an
    interval proven to hold the side it was working on (``.lower``, ``.upper``) and says which.

    >>> import exactmaso as em
    >>> net = em.mlp([[[1], [-1]], [[1, 1]]], [[0, 0], [0]])      # |x|
    >>> r = em.prove.output_bounds(net, em.Box([-1], [2]))
    >>> r.lo, r.hi, r.argmax
    (Fraction(0, 1), Fraction(2, 1), (Fraction(2, 1),))
    >>> r.verify()
    """
    net = check_net(net)
    S = domain_of(dom, net.input_dim)
    c, d = functional(net, output, c, d)
    if which not in ("both", "max", "min"):
        raise ProveError(f"which={which!r}; expected 'both', 'max' or 'min'")
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    claim: dict = {"kind": "output_bounds", "domain": S.to_json(), "c": _q(c), "d": format_q(d),
                   "max": None, "argmax": None, "min": None, "argmin": None}
    proofs, nodes, seconds = [], 0, 0.0
    found: dict = {}
    for side, sign in (("max", 1), ("min", -1)):
        if which not in ("both", side):
            continue
        sc, sd = [sign * v for v in c], sign * d
        try:
            m = _maximize(net, S, sc, sd, **_limits(deadline, time_limit), max_nodes=max_nodes, progress=progress)
        except LimitError as exc:
            lower, upper = exc.lower, exc.upper
            partial = getattr(exc, "partial", None)
            cert = None
            if partial is not None and upper is not None:
                # a certificate of the proven interval: the point reaching ``lower`` and the tree
                # bounding every open node by ``upper``
                part_claim = {**claim, "kind": "output_bounds_partial", "side": side,
                              "lower": format_q(lower), "upper": format_q(upper), "at": _q(partial.point)}
                cert = json.loads(certificate_text((net,), part_claim, [_bound_proof(sc, sd, S, upper, partial.tree)]))
            if sign < 0:
                lower, upper = (None if upper is None else -upper), (None if lower is None else -lower)
            raise LimitError(f"output_bounds ({side}imum): {exc}".replace(
                "the maximum lies", f"the {side}imum lies" if sign > 0 else "minus the minimum lies"),
                count=exc.count, lower=lower, upper=upper, certificate=cert) from None
        nodes += m.nodes
        seconds += m.seconds
        found[side] = (sign * m.value, m.point)
        claim[side], claim[f"arg{side}"] = format_q(sign * m.value), _q(m.point)
        proofs.append(_bound_proof(sc, sd, S, m.value, m.tree))
    hi, argmax = found.get("max", (None, None))
    lo, argmin = found.get("min", (None, None))
    return OutputBounds(_nets=(net,), _certificate=certificate_text((net,), claim, proofs), lo=lo, hi=hi,
                        argmin=argmin, argmax=argmax, nodes=nodes, seconds=seconds)


# -- robustness ---------------------------------------------------------------------------
def top_class(net: Network, x: Sequence[Fraction]) -> int:
    y = list(net(list(x)))
    return max(range(len(y)), key=lambda j: (y[j], -j))


def robust(net: Network, x0: Any, eps: Any, norm: Any = "inf", *, dom: Any = None, label: int | None = None,
           time_limit: float | None = None, max_nodes: int | None = None, progress: bool = False) -> Robustness:
    """Does class ``label`` (default: the arg-max at ``x0``, the lowest index on ties) stay
    strictly on top on the closed ball ``||x - x0|| <= eps`` (cut by ``dom`` if given)?

    Ties count as a change.  ``.holds`` with a certificate (for every other class ``j`` a proof
    that ``y_j - y_label < 0`` on the ball), or ``.counterexample``, an exact point of the
    ball where another class reaches the label's score.  Norms ``"inf"`` and ``1`` (up to 12
    inputs) by branch and bound; norm ``2`` by the nearest adversarial point
    (:func:`min_adversarial`, partition-based).
    """
    net = check_net(net)
    D, O = net.input_dim, net.output_dim
    if O < 2:
        raise ProveError("robustness is about the arg-max class; the network has one output")
    x0 = parse_point(x0, D, "x0")
    eps = parse_eps(eps)
    norm = parse_norm(norm)
    S_dom = domain_of(dom, D) if dom is not None else None
    if S_dom is not None and not S_dom.contains(x0):
        raise DomainError("x0 lies outside the domain")
    if label is None:
        label = top_class(net, x0)
    else:
        label = parse_index(label, O, "label", "classes")
    if norm == 2:
        from .partition import min_adversarial

        m = min_adversarial(net, x0, norm=2, dom=dom, label=label, radius=eps)
        near = m.certificate
        sq = near["claim"].get("value_squared")
        holds = sq is None or checker.parse_q(sq) > eps * eps
        claim = {"kind": "robust", "x0": _q(x0), "eps": format_q(eps), "norm": 2, "label": label,
                 "domain": S_dom.to_json() if S_dom is not None else None, "holds": holds,
                 "counterexample": None if holds else _q(m.point), "nearest": near["claim"]}
        extra = {"partition": near["partition"]} if "partition" in near else None
        return Robustness(_nets=(net,), _certificate=certificate_text((net,), claim, [], extra), holds=holds,
                          counterexample=None if holds else m.point, label=label, eps=eps, norm=norm)
    if norm == 1 and D > checker.MAX_ONE_NORM_DIM:
        raise ProveError(f"norm 1 robustness supports up to {checker.MAX_ONE_NORM_DIM} inputs (the ball has 2^D rows); "
                         "use norm='inf' or 2")
    S = ball_set(x0, eps, norm, S_dom)
    claim: dict = {"kind": "robust", "x0": _q(x0), "eps": format_q(eps), "norm": norm, "label": label,
                   "domain": S_dom.to_json() if S_dom is not None else None, "holds": True, "counterexample": None}
    y0 = net(x0)
    if any(y0[j] >= y0[label] for j in range(O) if j != label):
        return _not_robust(net, claim, x0, label, eps, norm)
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    proofs = []
    # the most dangerous class first: the one closest to the label at x0
    for j in sorted((j for j in range(O) if j != label), key=lambda j: y0[label] - y0[j]):
        c = [Fraction(int(o == j) - int(o == label)) for o in range(O)]
        if eps == 0:
            S0 = ClaimSet(x0, x0)
            m = maximize(net, S0.lo, S0.hi, c, 0, target=Fraction(0))
        else:
            m = _maximize(net, S, c, Fraction(0), target=Fraction(0), **_limits(deadline, time_limit),
                          max_nodes=max_nodes, progress=progress)
        if m.value is not None and m.value >= 0:
            return _not_robust(net, claim, m.point, label, eps, norm)
        proofs.append(_bound_proof(c, Fraction(0), S if eps else ClaimSet(x0, x0), Fraction(0), m.tree, strict=True))
    return Robustness(_nets=(net,), _certificate=certificate_text((net,), claim, proofs), holds=True,
                      counterexample=None, label=label, eps=eps, norm=norm)


def _not_robust(net, claim, x, label, eps, norm) -> Robustness:
    claim = {**claim, "holds": False, "counterexample": _q(x)}
    return Robustness(_nets=(net,), _certificate=certificate_text((net,), claim, []), holds=False,
                      counterexample=tuple(x), label=label, eps=eps, norm=norm)


# -- equivalence --------------------------------------------------------------------------
def equivalent(net1: Network, net2: Network, dom: Any, eps: Any = 0, *, mode: str = "value",
               time_limit: float | None = None, max_nodes: int | None = None, progress: bool = False) -> Equivalence:
    """Are ``net1`` and ``net2`` the same function on ``dom`` (every output within ``eps``), or
    with ``mode="argmax"`` do they have the same top classes everywhere (partition-based, see
    :func:`exactmaso.prove.partition.equivalent_argmax`)?

    ``.max_difference`` is the exact max over the domain of ``max_o |f_o(x) - g_o(x)|``
    (branch and bound on the two networks stacked, :func:`exactmaso.compose.stack`; where the
    difference attains its maximum on a whole piece, as 0 does for two equal functions, the
    boxes are decided by their linear regions);
    ``.counterexample`` is an exact point where they differ by more than ``eps``.
    """
    from ..compose import stack

    net1, net2 = check_net(net1, "net1"), check_net(net2, "net2")
    if net1.input_dim != net2.input_dim:
        raise ShapeError(f"net1 takes {net1.input_dim} inputs and net2 {net2.input_dim}; equivalence needs the same inputs")
    if net1.output_dim != net2.output_dim:
        raise ShapeError(f"net1 has {net1.output_dim} outputs and net2 {net2.output_dim}")
    if mode == "argmax":
        from .partition import equivalent_argmax

        return equivalent_argmax(net1, net2, dom, progress=progress)
    if mode != "value":
        raise ProveError(f"mode={mode!r}; expected 'value' (outputs within eps) or 'argmax' (the same top classes)")
    eps = parse_eps(eps)
    S = domain_of(dom, net1.input_dim)
    joint = stack(net1, net2)
    O = net1.output_dim
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    best: tuple | None = None
    results = []
    for o in range(O):
        for sign in (1, -1):
            c = [Fraction(0)] * (2 * O)
            c[o], c[O + o] = Fraction(sign), Fraction(-sign)
            m = _maximize(joint, S, c, Fraction(0), **_limits(deadline, time_limit), max_nodes=max_nodes,
                          progress=progress)
            results.append((c, m))
            if best is None or m.value > best[0]:
                best = (m.value, m.point)
    M = max(best[0], Fraction(0))
    proofs = [_bound_proof(c, Fraction(0), S, M, m.tree) for c, m in results]
    holds = M <= eps
    claim = {"kind": "equivalent", "mode": "value", "domain": S.to_json(), "eps": format_q(eps),
             "max_difference": format_q(M), "witness": _q(best[1]), "holds": holds}
    return Equivalence(_nets=(net1, net2), _certificate=certificate_text((net1, net2), claim, proofs), holds=holds,
                       counterexample=None if holds else tuple(best[1]), max_difference=M, mode="value")
