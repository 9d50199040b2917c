"""Deciding a specification (a VNN-LIB property) exactly: holds, with a certificate, or
violated, with an exact counterexample.

A case of a spec is violated at ``x`` iff ``x`` is in its input set and every unsafe
constraint ``a_i . y <= b_i`` holds at ``y = f(x)``, that is iff ``min_i g_i(x) >= 0`` with
``g_i = b_i - a_i . f(x)``.  Branch and bound (:mod:`exactmaso.prove.search`) decides
``max_x min_i g_i(x) < 0`` with target 0: it stops at the first exact point reaching 0 (a
counterexample, re-checked against the spec in Fractions), or proves every node below 0 --
each leaf by a convex combination of the ``g_i`` whose rigorous bound is negative, or by an
exact linear program when the network is affine on the leaf.  The certificate holds, per
case, that tree; the checker re-derives every bound.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..errors import LimitError, ProveError, ShapeError
from ..maso import Network
from .api import _limits, _q, check_net, start_point
from .checker import ClaimSet
from .results import ProofResult, certificate_text
from .relax import FloatModel, float_and_error
from .search import probe_points, search
from .spec import Spec

__all__ = ["SpecResult", "check_spec", "spec_cases_json"]

SPEC_PROBE_SAMPLES = 100_000  # random points per case (about 0.2 s on ACAS Xu) before branch and bound
CASE_SLICE = 2.0  # seconds of branch and bound a case gets per turn


@dataclass(frozen=True)
class SpecResult(ProofResult):
    """The verdict on a spec: ``status`` is ``"holds"`` or ``"violated"``; a violation comes with
    ``counterexample`` (exact input), ``output`` (the exact ``f(counterexample)``) and ``case``
    (the index of the case it violates)."""

    status: str = "holds"
    counterexample: tuple | None = None
    output: tuple | None = None
    case: int | None = None
    nodes: int = 0
    seconds: float = 0.0


def _case_set(case: Any) -> ClaimSet:
    s = case.inputs
    rows = [(list(c.coeffs), c.rhs) for c in s.constraints]  # strict ones by their closure: sound for a proof
    return ClaimSet(list(s.lo), list(s.hi), rows)


def _case_functionals(case: Any, O: int) -> list[tuple[list[Fraction], Fraction]]:
    return [([-v for v in c.coeffs], c.rhs) for c in case.unsafe]


def spec_cases_json(spec: Spec) -> list[dict]:
    """The spec's cases as the certificate states them (exact, in the order of the spec)."""
    out = []
    for case in spec.cases:
        inputs = _case_set(case).to_json()
        inputs["strict"] = [bool(c.strict) for c in case.inputs.constraints]
        out.append({"inputs": inputs,
                    "unsafe": [_q(list(c.coeffs) + [c.rhs]) + [bool(c.strict)] for c in case.unsafe]})
    return out


def check_spec(net: Network, spec: Spec, time_limit: float | None = None, *, max_nodes: int | None = None,
               progress: bool = False) -> SpecResult:
    """Decide ``spec`` for ``net`` exactly: ``.status`` ``"holds"`` (every case's unsafe set is
    unreachable; the certificate proves it) or ``"violated"`` (``.counterexample`` lies in a
    case's input set and the exact output in its unsafe set).

    On ``time_limit`` (seconds, all cases together) or ``max_nodes`` (per case), LimitError
    says which cases were proven and carries the interval of ``max min_i g_i`` of the case
    being worked on (``.upper < 0`` would prove it).
    """
    net = check_net(net)
    if not isinstance(spec, Spec):
        raise TypeError(f"spec is a {type(spec).__name__}; expected an em.prove.Spec (em.prove.load_vnnlib)")
    D, O = net.input_dim, net.output_dim
    if spec.num_inputs != D or spec.num_outputs != O:
        raise ShapeError(f"the spec is about {spec.num_inputs} inputs and {spec.num_outputs} outputs; the network has "
                         f"{D} and {O}")
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    start = time.perf_counter()
    nodes = 0
    cases = spec_cases_json(spec)
    # every case first gets a quick uphill float search for a counterexample (a violated
    # case is often not the first one), each point decided exactly
    fm = FloatModel(net)
    for k, case in enumerate(spec.cases):
        S, F = _case_set(case), _case_functionals(case, O)
        if F:
            cf, ec = float_and_error([c for c, _ in F])
            df, ed = float_and_error([d for _, d in F])
            for x in probe_points(fm, (cf, ec, df, ed), S.lo, S.hi, samples=SPEC_PROBE_SAMPLES, deadline=deadline):
                if case.is_unsafe(x, net(x)):
                    return _violated(net, spec, cases, k, x, 0, start)
            if deadline is not None and time.perf_counter() > deadline:
                raise LimitError(f"check_spec: time_limit={time_limit:g} s reached while sampling case {k} of "
                                 f"{len(spec.cases)} for a counterexample (0 proven)", count=0, lower=None, upper=None)
    # then branch and bound on every case, the cases taking turns (a slice of time each), so
    # that a violated case is not kept waiting behind a hard one that holds
    searches = []
    for k, case in enumerate(spec.cases):
        S = _case_set(case)
        F = _case_functionals(case, O)
        if not F:  # no unsafe constraint: every input of the set violates the case
            x = start_point(S)
            if case.is_unsafe(x, net(x)):
                return _violated(net, spec, cases, k, x, nodes, start)
            raise ProveError(f"case {k}: its input set has no point that the spec's check accepts")
        stricts = {bool(c.strict) for c in case.unsafe}
        if len(stricts) > 1:
            raise ProveError(f"case {k} mixes strict and non-strict unsafe constraints; write it as two specs")
        strict = stricts == {True}  # unsafe needs every g_i > 0: a proof of max min g_i <= 0 suffices
        s = search(net, S.lo, S.hi, F if len(F) > 1 else F[0][0], 0 if len(F) > 1 else F[0][1], rows=S.rows,
                   start=start_point(S), target=Fraction(0), reach_strictly=strict,
                   **_limits(deadline, time_limit), max_nodes=max_nodes, progress=progress)
        searches.append((k, case, S, F, strict, s))
    done: dict[int, dict] = {}
    active = list(searches)
    k = 0
    try:
        for k, *_, s in active:
            s.begin()
        while active:
            for item in list(active):
                k, case, S, F, strict, s = item
                if not s.advance(time.perf_counter() + CASE_SLICE if len(active) > 1 else None):
                    continue
                active.remove(item)
                m = s.result()
                nodes += m.nodes
                if m.value is not None and (m.value > 0 if strict else m.value >= 0):
                    x = list(m.point)
                    if case.is_unsafe(x, net(x)):
                        return _violated(net, spec, cases, k, x, nodes, start)
                    raise ProveError(f"case {k}: the point reaching the unsafe set lies on the boundary of a strict "
                                     "input constraint; this version cannot decide such a case")
                proof = {"functionals": [_q(c + [d]) for c, d in F], "box": {"lo": _q(S.lo), "hi": _q(S.hi)},
                         "bound": "0", "strict": not strict, "crown": "all", "tree": m.tree, "case": k}
                if S.rows:
                    proof["rows"] = [_q(list(a) + [b]) for a, b in S.rows]
                done[k] = proof
    except LimitError as exc:
        open_ = sorted(set(range(len(spec.cases))) - set(done))
        raise LimitError(f"check_spec: case {k} of {len(spec.cases)} ({len(done)} proven, open: "
                         f"{', '.join(map(str, open_))}): {exc}",
                         count=nodes + sum(s.nodes for *_, s in active), lower=exc.lower, upper=exc.upper) from None
    proofs = [done[k] for k in sorted(done)]
    claim = {"kind": "spec", "cases": cases, "status": "holds", "counterexample": None, "case": None}
    return SpecResult(_nets=(net,), _certificate=certificate_text((net,), claim, proofs), status="holds",
                      nodes=nodes, seconds=time.perf_counter() - start)


def _violated(net, spec, cases, k, x, nodes, start) -> SpecResult:
    y = tuple(net(list(x)))
    claim = {"kind": "spec", "cases": cases, "status": "violated", "counterexample": _q(x), "case": k}
    return SpecResult(_nets=(net,), _certificate=certificate_text((net,), claim, []), status="violated",
                      counterexample=tuple(x), output=y, case=k, nodes=nodes, seconds=time.perf_counter() - start)


def counterexample_text(result: SpecResult) -> str:
    """The counterexample in VNN-COMP's result form: ``((X_0 v) ... (Y_0 v) ...)``, exact
    decimals where they terminate, else ``p/q`` rationals."""
    from ..numbers import fraction_to_str

    def num(v: Fraction) -> str:
        d = Fraction(v).denominator
        for p in (2, 5):
            while d % p == 0:
                d //= p
        return _decimal(Fraction(v)) if d == 1 else fraction_to_str(Fraction(v))

    lines = [f"(X_{i} {num(v)})" for i, v in enumerate(result.counterexample)]
    lines += [f"(Y_{j} {num(v)})" for j, v in enumerate(result.output)]
    return "(" + "\n ".join(lines) + ")"


def _decimal(q: Fraction) -> str:
    """The exact decimal expansion of a fraction whose denominator is 2^a 5^b."""
    sign = "-" if q < 0 else ""
    q = abs(q)
    digits = 0
    while (q * 10 ** digits).denominator != 1:
        digits += 1
    n = q.numerator * 10 ** digits // q.denominator
    s = str(n).rjust(digits + 1, "0")
    return f"{sign}{s[:-digits]}.{s[-digits:]}" if digits else f"{sign}{s}"
