"""Certificates of ``em.prove``: tampering with any claimed answer, witness, hash or bound is
rejected with a CertificateError naming the field; bad arguments raise typed errors that say
what is wrong; a search stopped by a limit carries a proven interval (checked here against a
brute-force maximum) and a certificate that verifies.

The tampering tests walk the JSON tree of a saved certificate and change one leaf at a time:
a rational ``"p/q"`` moves by 1/7, an integer by 1, a boolean flips, a hash changes its last
digit.  Each change is then *decided in this file*, from the mathematics of the claim and an
exact oracle of the hand-built networks that uses nothing from exactmaso:

- ``reject``: the tampered certificate no longer proves a true statement (a claimed answer or
  witness is now wrong, a hash or a proof's box no longer matches, the set grows past what the
  proofs cover); ``em.prove.check`` must raise CertificateError and the message must name the
  field (its key, its path, or a word for it such as 'network', 'box', 'region').
- ``either``: the change leaves the claim true (a multiplier of a proof tree, a split point,
  a witness moved to another point that still witnesses the claim, a set shrunk inside what
  the proofs cover): a rejection is allowed, an acceptance is sound.  The claim is unchanged
  or was decided true by the oracle, so accepting it is no soundness problem.
"""

from __future__ import annotations

import copy
import json
import math
import re
from fractions import Fraction as Q

import numpy as np
import pytest

import exactmaso as em
from exactmaso.errors import (CertificateError, DomainError, ExactMasoError, LimitError, ProveError, ShapeError)
from exactmaso.prove import Case, InputSet, Linear, Spec

SEVENTH = Q(1, 7)


# =========================================================================================
# an exact oracle for small ReLU MLPs (nothing from exactmaso)
# =========================================================================================
class Oracle:
    """``x -> W_L relu(... relu(W_1 x + b_1) ...) + b_L`` in Fractions: values, pre-activations,
    the signs of points against a code (1 = active) and the Jacobian along a code."""

    def __init__(self, W, b) -> None:
        self.W = [[[Q(v) for v in row] for row in M] for M in W]
        self.b = [[Q(v) for v in vec] for vec in b]
        self.D = len(self.W[0][0])
        self.O = len(self.W[-1])

    def net(self):
        return em.mlp([[[str(v) for v in row] for row in M] for M in self.W], [[str(v) for v in vec] for vec in self.b])

    def pre(self, x):
        """Pre-activations of the hidden layers and the output."""
        z, hs = [Q(v) for v in x], []
        for li, (M, c) in enumerate(zip(self.W, self.b)):
            h = [sum((a * v for a, v in zip(row, z)), Q(0)) + ci for row, ci in zip(M, c)]
            hs.append(h)
            z = [max(v, Q(0)) for v in h] if li < len(self.W) - 1 else h
        return hs

    def __call__(self, x):
        return self.pre(x)[-1]

    def strictly_coded(self, x, code) -> bool:
        """Every hidden pre-activation is non-zero at x, with the signs of ``code``."""
        hs = self.pre(x)[:-1]
        return all(v != 0 and int(v > 0) == c for h, cl in zip(hs, code) for v, c in zip(h, cl))

    def jacobian(self, code):
        J = [[Q(int(i == j)) for j in range(self.D)] for i in range(self.D)]
        for li, M in enumerate(self.W):
            J = [[sum((M[o][k] * J[k][j] for k in range(len(J))), Q(0)) for j in range(self.D)] for o in range(len(M))]
            if li < len(self.W) - 1:
                J = [row if code[li][o] else [Q(0)] * self.D for o, row in enumerate(J)]
        return J

    def value(self, c, d, x):
        return sum((a * v for a, v in zip(c, self(x))), Q(0)) + d


def top_set(y):
    m = max(y)
    return {j for j, v in enumerate(y) if v == m}


def not_strictly_on_top(y, label) -> bool:
    return any(y[j] >= y[label] for j in range(len(y)) if j != label)


def dist(x, x0, norm):
    d = [a - b for a, b in zip(x, x0)]
    if norm == "inf":
        return max(abs(v) for v in d)
    if norm == 1:
        return sum((abs(v) for v in d), Q(0))
    return sum((v * v for v in d), Q(0))  # squared, for norm 2


def in_box(x, lo, hi) -> bool:
    return all(Q(a) <= v <= Q(b) for a, v, b in zip(lo, x, hi))


def qs(v):
    return [Q(t) for t in v]


def _split(poly, a, c):
    """The parts ``a . x + c <= 0`` and ``>= 0`` of a convex polygon (a list of its vertices in order)."""
    vals = [a[0] * p[0] + a[1] * p[1] + c for p in poly]
    neg, pos = [], []
    for i, (p, hp) in enumerate(zip(poly, vals)):
        q, hq = poly[(i + 1) % len(poly)], vals[(i + 1) % len(poly)]
        if hp <= 0:
            neg.append(p)
        if hp >= 0:
            pos.append(p)
        if (hp < 0 < hq) or (hq < 0 < hp):
            t = hp / (hp - hq)
            r = (p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1]))
            neg.append(r)
            pos.append(r)
    return neg, pos


def _area2(poly):
    return sum((p[0] * q[1] - q[0] * p[1] for p, q in zip(poly, poly[1:] + poly[:1])), Q(0))


def region_vertices(oracles, lo, hi):
    """Every vertex of the linear regions, on the box ``lo <= x <= hi`` of the plane, of the
    networks ``oracles`` together: the box is cut by every hidden unit of each network, layer
    after layer (a unit is affine on a cell, which lies in one region of the earlier layers),
    exact polygon clipping.  A continuous piecewise-linear function of the outputs is affine on
    each cell, so its maximum over the box is its maximum over these points."""
    (x0, y0), (x1, y1) = qs(lo), qs(hi)
    cells = [[(x0, y0), (x1, y0), (x1, y1), (x0, y1)]]
    for o in oracles:
        ident = [([Q(int(i == j)) for j in range(2)], Q(0)) for i in range(2)]
        cur = [(poly, ident) for poly in cells]
        for li in range(len(o.W) - 1):
            nxt = []
            for poly, z in cur:
                H = [([sum((w * zr[0][j] for w, zr in zip(row, z)), Q(0)) for j in range(2)],
                      sum((w * zr[1] for w, zr in zip(row, z)), Q(0)) + bias) for row, bias in zip(o.W[li], o.b[li])]
                pieces = [(poly, [])]
                for a, c in H:
                    new = []
                    for pp, signs in pieces:
                        neg, pos = _split(pp, a, c)
                        new += [(part, signs + [side]) for part, side in ((neg, 0), (pos, 1)) if _area2(part) != 0]
                    pieces = new
                zero = ([Q(0), Q(0)], Q(0))
                nxt += [(pp, [h if s else zero for h, s in zip(H, signs)]) for pp, signs in pieces]
            cur = nxt
        cells = [poly for poly, _ in cur]
    return {p for poly in cells for p in poly}


def brute_max(values, points):
    """max over the points of ``values(x)``."""
    return max(values(list(p)) for p in points)


# the networks: small rational weights, 2 inputs
A = Oracle([[[1, "1/2"], ["-1/3", 1], [1, -1]], [[1, -1, "1/2"], ["-1/2", 1, 1]]], [[0, "1/4", "-1/5"], [0, "1/3"]])
# the same function as A with its hidden units permuted (2, 0, 1)
A_SWAP = Oracle([[[1, -1], [1, "1/2"], ["-1/3", 1]], [["1/2", 1, -1], [1, "-1/2", 1]]],
                [["-1/5", 0, "1/4"], [0, "1/3"]])
# A with one weight changed (W2[0][2]: 1/2 -> 3/5)
A_TWEAK = Oracle([[[1, "1/2"], ["-1/3", 1], [1, -1]], [[1, -1, "3/5"], ["-1/2", 1, 1]]],
                 [[0, "1/4", "-1/5"], [0, "1/3"]])
# one output, non-negative read-out and input-0 weights: convex, non-decreasing in x0, not in x1
M = Oracle([[[1, "1/2"], [1, -1], ["1/3", 1]], [[1, 2, 1]]], [[0, "-1/4", "1/5"], ["1/3"]])
# three inputs, for the dimension errors
THREE = Oracle([[[1, 0, 1], [0, 1, 1]], [[1, 1]]], [[0, 0], [0]])

DOM = em.Box([-1, -1], [1, 1])
DOM_LO, DOM_HI = [Q(-1)] * 2, [Q(1)] * 2
X0 = [Q(1, 2), Q(-1, 2)]  # A(X0) = (13/20, 121/120): class 1 by 43/120
CUT_DOM = em.Box([-1, -1], [1, Q(-19, 40)])  # cuts the eps = 1/20 box around X0 at the top


def make_spec(unsafe_rhs):
    box = InputSet((-1, -1), (1, 1))
    if unsafe_rhs is None:  # holds: y0 >= 2 never; y0 - y1 >= 2 and y1 >= 0 never
        return Spec((Case(box, (Linear((-1, 0), -2),)), Case(box, (Linear((-1, 1), -2), Linear((0, -1), 0)))), 2, 2)
    return Spec((Case(box, (Linear((-1, 0), unsafe_rhs),)),), 2, 2)  # y0 >= -rhs


# =========================================================================================
# the certificates, built once
# =========================================================================================
_BUILT: dict = {}


def _build():
    if _BUILT:
        return _BUILT
    a, a_swap, a_tweak, m = A.net(), A_SWAP.net(), A_TWEAK.net(), M.net()
    B = {}

    def add(name, result, nets, oracle, **info):
        B[name] = dict(cert=result.certificate, nets=nets, oracle=oracle, result=result, **info)

    add("output_bounds", em.prove.output_bounds(a, DOM, output=0), a, A)
    for norm in (1, "inf"):
        add(f"lipschitz_{norm}", em.prove.lipschitz(a, DOM, norm=norm, output=0), a, A)
    add("lipschitz_2", em.prove.lipschitz(a, DOM, norm=2), a, A)
    add("robust_inf_holds", em.prove.robust(a, X0, "1/20", norm="inf", dom=CUT_DOM), a, A)
    add("robust_inf_not", em.prove.robust(a, X0, "1/4", norm="inf"), a, A)
    add("robust_1_holds", em.prove.robust(a, X0, "1/5", norm=1), a, A)
    add("robust_2_holds", em.prove.robust(a, X0, "1/20", norm=2), a, A)
    add("robust_2_not", em.prove.robust(a, X0, "1/4", norm=2), a, A)
    add("min_adversarial_1", em.prove.min_adversarial(a, X0, norm=1), a, A)
    add("min_adversarial_inf", em.prove.min_adversarial(a, X0, norm="inf"), a, A)
    add("equivalent_holds", em.prove.equivalent(a, a_swap, DOM), (a, a_swap), (A, A_SWAP))
    add("equivalent_not", em.prove.equivalent(a, a_tweak, DOM), (a, a_tweak), (A, A_TWEAK))
    add("equivalent_argmax_holds", em.prove.equivalent(a, a_swap, DOM, mode="argmax"), (a, a_swap), (A, A_SWAP))
    add("equivalent_argmax_not", em.prove.equivalent(a, a_tweak, DOM, mode="argmax"), (a, a_tweak), (A, A_TWEAK))
    add("convex_holds", em.prove.is_convex(m, DOM), m, M)
    add("convex_not", em.prove.is_convex(a, DOM, output=0), a, A)
    add("monotone_holds", em.prove.is_monotone(m, DOM, input=0), m, M)
    add("monotone_not", em.prove.is_monotone(m, DOM, input=1), m, M)
    add("spec_holds", em.prove.check_spec(a, make_spec(None)), a, A)
    add("spec_violated", em.prove.check_spec(a, make_spec(-1)), a, A)
    with pytest.raises(LimitError) as info:
        em.prove.output_bounds(a, DOM, output=0, which="max", time_limit=0)  # (its root would be decided)
    assert info.value.certificate is not None
    B["output_bounds_partial"] = dict(cert=info.value.certificate, nets=a, oracle=A, result=None)
    _BUILT.update(B)
    return _BUILT


@pytest.fixture(scope="module")
def built():
    return _build()


# =========================================================================================
# tampering: the leaves, their perturbations, and what must happen
# =========================================================================================
HEX64 = re.compile(r"[0-9a-f]{64}")
NORM_SWAP = {"inf": 1, 1: 2, 2: "inf"}
SKIP = object()


def leaves(obj, path=()):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from leaves(v, path + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from leaves(v, path + (i,))
    elif obj is not None:
        yield path, obj


def fmt(path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


def _direction(path) -> int:
    """+1 or -1: the proofs' boxes shrink (they no longer hold the claim's set); the claim's
    sets grow (the proofs no longer cover them); proof rows tighten."""
    keys = [p for p in path if isinstance(p, str)]
    last = keys[-1]
    if "box" in keys:
        return 1 if last == "lo" else -1
    if ("domain" in keys or "inputs" in keys) and last in ("lo", "hi"):
        return -1 if last == "lo" else 1
    return 1


def perturb(cert, path, v):
    """The perturbed leaf, or SKIP for a structural word."""
    keys = [p for p in path if isinstance(p, str)]
    key = keys[-1] if keys else ""
    if key == "norm":
        return NORM_SWAP.get(v, SKIP)
    if key == "status":
        return {"holds": "violated", "violated": "holds"}[v]
    if key == "side":
        return {"max": "min", "min": "max"}[v]
    if isinstance(v, bool):
        return not v
    if isinstance(v, int):
        return v + 1
    if isinstance(v, str):
        if HEX64.fullmatch(v):
            return v[:-1] + ("0" if v[-1] != "0" else "1")
        try:
            q = Q(v)
        except (ValueError, ZeroDivisionError):
            return SKIP  # a structural word: kind, leaf, 'dual', 'empty', 'all', 'd'
        if "rows" in keys and "proofs" in keys and isinstance(path[-1], int):
            row = get(cert, path[:-1])
            return str(q - SEVENTH) if path[-1] == len(row) - 1 else str(q + SEVENTH)
        return str(q + _direction(path) * SEVENTH)
    return SKIP


def set_leaf(cert, path, value):
    node = cert
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value


def get(cert, path):
    node = cert
    for p in path:
        node = node[p]
    return node


REJECT, EITHER = "reject", "either"
MAX_TREE_LEAVES = 8  # per certificate: re-checking a proof tree is the slow part


class Decider:
    """What tampering with each leaf must do, for one certificate."""

    def __init__(self, name, entry):
        self.name, self.entry = name, entry
        self.orig = entry["cert"]
        self.claim = self.orig["claim"]
        self.oracle = entry["oracle"]

    # -- per leaf ---------------------------------------------------------------------------
    def decide(self, path, new):
        """(REJECT, tokens the message must contain one of) or (EITHER, why)."""
        top = path[0]
        if top == "network":
            return REJECT, ["network", "hash"]
        if top == "version":
            return REJECT, ["version"]
        if top == "proofs":
            return self.proof_leaf(path, new)
        if top == "partition":
            return self.partition_leaf(path, new)
        if top == "claim":
            return self.claim_leaf(path, new)
        raise AssertionError(f"unexpected leaf {fmt(path)}")

    def proof_leaf(self, path, new):
        i, field = path[1], path[2]
        here = f"proofs[{i}]"
        if field == "tree":
            return EITHER, "a proof tree's split, branch, multiplier or lambda: the claim is unchanged"
        if field in ("c", "d", "functionals"):
            return REJECT, ["functional", here]
        if field == "bound":
            return REJECT, [f"{here}.bound", "bound"]
        if field == "strict":
            return self.proof_strict(i, here)
        if field == "box":
            return REJECT, [f"{here}.box"]
        if field == "case":
            return REJECT, ["case"]
        if field == "rows":
            return self.proof_row(path, new)
        raise AssertionError(f"unexpected proof leaf {fmt(path)}")

    def proof_strict(self, i, here):
        """A bound flipped between '<=' and '<'.  Robustness and specs bound by 0, which must stay
        strict.  Output bounds and equivalences: '<' is false where the bound is attained, true
        where the functional stays below it; the brute-force maximum decides."""
        proof = self.orig["proofs"][i]
        kind = self.claim["kind"]
        if kind not in ("output_bounds", "output_bounds_partial", "equivalent"):
            return REJECT, [here]
        c, d = qs(proof["c"]), Q(proof["d"])
        nets = self.oracle if isinstance(self.oracle, tuple) else (self.oracle,)
        pts = region_vertices(nets, self.claim["domain"]["lo"], self.claim["domain"]["hi"])
        top = brute_max(lambda x: sum((a * v for a, v in zip(c, [y for o in nets for y in o(x)])), Q(0)) + d, pts)
        if top < Q(proof["bound"]):
            return EITHER, "the functional stays strictly below the bound"
        return REJECT, [here]

    def proof_row(self, path, new):
        """A 1-norm ball row ``a . x <= b`` of a proof: b tightened must be rejected; a coefficient
        changed is fine iff the row still holds on the whole ball."""
        i, r, k = path[1], path[3], path[4]
        row = qs(self.orig["proofs"][i]["rows"][r])
        if k == len(row) - 1:
            return REJECT, [f"proofs[{i}].rows[{r}]"]
        row[k] = Q(new)
        x0, eps = qs(self.claim["x0"]), Q(self.claim["eps"])
        D = len(x0)
        vertices = [[x0[j] + s * eps * (j == t) for j in range(D)] for t in range(D) for s in (1, -1)]
        if max(sum((a * v for a, v in zip(row[:D], p)), Q(0)) for p in vertices) > row[D]:
            return REJECT, [f"proofs[{i}].rows[{r}]"]
        return EITHER, "the changed row still holds on the ball"

    def partition_leaf(self, path, new):
        r, field = path[2], path[3]
        tokens = [f"region {r}", f"regions[{r}]", f"regions {r} and", f"and {r} have the same code"]
        if field == "point":
            reg = copy.deepcopy(self.orig["partition"]["regions"][r])
            reg["point"][path[4]] = new
            x = qs(reg["point"])
            lo, hi = self.partition_box()
            if all(a < v < b for a, v, b in zip(lo, x, hi)) and self.partition_oracle().strictly_coded(x, reg["code"]):
                return EITHER, "the moved point is still strictly inside its region"
            return REJECT, tokens
        if field == "facets" and self._same_row(r, path[4], path[5], new):
            return EITHER, "the label names another unit with the same hyperplane"
        # a code, a facet label or a vertex: the region no longer is what the network has
        return REJECT, tokens

    def _same_row(self, r, f, k, new):
        """Whether a unit label [0, unit, 0, 1] changed to another unit of the first layer with
        the same row and the same piece in the region's code (identical facet rows)."""
        reg = self.orig["partition"]["regions"][r]
        label = reg["facets"][f]
        if label[0] == "d" or k != 1 or label[0] != 0:
            return False
        nets = self.oracle if isinstance(self.oracle, tuple) else (self.oracle,)
        rows = [(tuple(row), bias) for o in nets for row, bias in zip(o.W[0], o.b[0])]
        code = reg["code"][0]
        u, v = label[1], new
        return 0 <= v < len(rows) and rows[u] == rows[v] and code[u] == code[v]

    def partition_oracle(self):
        o = self.oracle
        if isinstance(o, tuple):  # the stacked network of an equivalence
            f, g = o
            return _Stacked(f, g)
        return o

    def partition_box(self):
        c = self.claim
        if c["kind"] == "robust":
            c = c["nearest"]
        if c["kind"] == "min_adversarial":
            x0, r = qs(c["x0"]), Q(c["radius"])
            lo, hi = [v - r for v in x0], [v + r for v in x0]
            if c.get("domain"):
                lo = [max(a, Q(b)) for a, b in zip(lo, c["domain"]["lo"])]
                hi = [min(a, Q(b)) for a, b in zip(hi, c["domain"]["hi"])]
            return lo, hi
        return qs(c["domain"]["lo"]), qs(c["domain"]["hi"])

    def claim_leaf(self, path, new):
        kind = self.claim["kind"]
        tampered = copy.deepcopy(self.orig)
        set_leaf(tampered, path, new)
        verdict = getattr(self, "claim_" + kind)(path[1:], tampered["claim"], new)
        return verdict

    # -- claims -------------------------------------------------------------------------------
    def claim_output_bounds(self, sub, claim, new):
        key = sub[0]
        o = self.oracle
        c, d = qs(claim["c"]), Q(claim["d"])
        if key in ("argmax", "argmin"):
            side = key[3:]
            x = qs(claim[key])
            if in_box(x, DOM_LO, DOM_HI) and o.value(c, d, x) == Q(claim[side]):
                return EITHER, "the moved point attains the same value"
            return REJECT, [f"claim.{key}"]
        if key in ("c", "d"):
            return REJECT, ["claim.max", "claim.min", "functional", f"claim.{key}"]
        if key == "domain":
            return REJECT, ["claim.domain", "box", "set the claim is about"]
        return REJECT, [f"claim.{key}"]

    def claim_output_bounds_partial(self, sub, claim, new):
        key = sub[0]
        o = self.oracle
        c, d = qs(claim["c"]), Q(claim["d"])
        if key == "at":
            x = qs(claim["at"])
            if in_box(x, DOM_LO, DOM_HI) and o.value(c, d, x) == Q(claim["lower"]):
                return EITHER, "the moved point attains the same value"
            return REJECT, ["claim.at", "claim.lower"]
        if key in ("c", "d", "side"):
            return REJECT, ["claim.lower", "functional", f"claim.{key}"]
        if key == "upper":
            return REJECT, ["claim.upper"]
        if key == "domain":
            return REJECT, ["claim.domain", "box", "set the claim is about"]
        return REJECT, [f"claim.{key}"]

    def _regions(self):
        return self.orig["partition"]["regions"]

    def claim_lipschitz(self, sub, claim, new):
        key = sub[0]
        norm = self.claim["norm"]
        if key == "value" and norm == 2 and sub[1] == "interval":
            import sympy

            t = sympy.Symbol("t")
            poly = sympy.Poly([sympy.Rational(str(v)) for v in claim["value"]["poly"]], t)
            lo, hi = (sympy.Rational(str(v)) for v in claim["value"]["interval"])
            true = max(sympy.Poly([sympy.Rational(str(v)) for v in self.claim["value"]["poly"]], t).real_roots())
            if lo <= hi and lo <= true <= hi and poly.count_roots(lo, hi) == 1:
                return EITHER, "the interval still isolates the same root"
            return REJECT, ["claim.value"]
        if key == "region":
            r = claim["region"]
            if not 0 <= r < len(self._regions()):
                return REJECT, ["claim.region"]
            if self._lip_norm(self._regions()[r]["code"], qs(claim["c"]) if claim["c"] else None, norm) == \
                    self._lip_true(None):
                return EITHER, "another region attains the same norm"
            return REJECT, ["claim.region", "claim.value"]
        if key == "c":
            true = self._lip_true(qs(claim["c"]))
            if true == Q(claim["value"]) and self._lip_norm(self._regions()[claim["region"]]["code"], qs(claim["c"]),
                                                            norm) == true:
                return EITHER, "the changed functional has the same Lipschitz constant"
            return REJECT, ["claim.value"]
        if key == "domain":
            return REJECT, ["volume", "domain"]
        if key == "norm":
            return REJECT, ["claim.value", "claim.norm"]
        return REJECT, [f"claim.{key}"]

    def _lip_norm(self, code, c, norm):
        J = self.oracle.jacobian(code)
        if c is not None:
            J = [[sum((ci * J[o][j] for o, ci in enumerate(c)), Q(0)) for j in range(len(J[0]))]]
        if norm == "inf":
            return max(sum((abs(v) for v in row), Q(0)) for row in J)
        if norm == 1:
            return max(sum((abs(row[j]) for row in J), Q(0)) for j in range(len(J[0])))
        n = len(J[0])
        G = [[sum((J[k][i] * J[k][j] for k in range(len(J))), Q(0)) for j in range(n)] for i in range(n)]
        import sympy

        return max(sympy.Matrix([[sympy.Rational(v.numerator, v.denominator) for v in row] for row in G]).eigenvals())

    def _lip_true(self, c):
        norm = self.claim["norm"]
        if c is None:
            c = qs(self.claim["c"]) if self.claim["c"] else None
        return max(self._lip_norm(reg["code"], c, norm) for reg in self._regions())

    def claim_robust(self, sub, claim, new):
        key = sub[0]
        o = self.oracle
        holds = self.claim["holds"]
        if key == "nearest":
            return self.nearest_leaf(sub[1:], claim["nearest"], new, prefix="claim.nearest")
        if key == "holds":
            return REJECT, ["claim.holds", "claim.counterexample", "claim.nearest", "no proof"]
        if key == "label" and holds:
            return REJECT, ["claim.label", "functional", "claim.nearest.label"]
        norm = claim["norm"]
        x0, eps = qs(claim["x0"]), Q(claim["eps"])
        dom = claim.get("domain")
        if holds:
            if key == "domain":
                if self._ball_cut(x0, eps, dom) == self._ball_cut(x0, eps, self.claim["domain"]):
                    return EITHER, "the domain grew where the ball does not reach: the same set"
                return REJECT, ["box", "set the claim is about", "claim.domain"]
            if key == "norm":
                if (self.claim["norm"], norm) == ("inf", 1):
                    return EITHER, "the 1-ball lies inside the inf-ball of the same radius"
                return REJECT, ["claim.nearest", "norm", "proof"]
            # x0 or eps: a ball the proofs do not cover
            return REJECT, ["box", "set the claim is about", f"claim.{key}", "claim.nearest"]
        # not robust: the counterexample decides
        x = qs(claim["counterexample"])
        label = claim["label"]
        ok = (isinstance(label, int) and 0 <= label < o.O and dist(x, x0, norm) <= (eps * eps if norm == 2 else eps)
              and (dom is None or in_box(x, dom["lo"], dom["hi"])) and not_strictly_on_top(o(x), label))
        if ok:
            return EITHER, "the counterexample still is one"
        return REJECT, ["claim.counterexample", f"claim.{key}", "claim.label"]

    @staticmethod
    def _ball_cut(x0, eps, dom):
        lo, hi = [v - eps for v in x0], [v + eps for v in x0]
        if dom:
            lo = [max(a, Q(b)) for a, b in zip(lo, dom["lo"])]
            hi = [min(a, Q(b)) for a, b in zip(hi, dom["hi"])]
        return lo, hi

    def claim_min_adversarial(self, sub, claim, new):
        return self.nearest_leaf(sub, claim, new, prefix="claim")

    def nearest_leaf(self, sub, claim, new, prefix):
        """A leaf of a min_adversarial claim (or of a robust claim's ``nearest``)."""
        key = sub[0]
        o = self.oracle
        if key == "bounds":
            return EITHER, "a dual multiplier: the claim is unchanged"
        if key == "radius_fixed":
            if new is True:
                return EITHER, "the minimum over the partitioned box: a weaker claim"
            # now the global nearest point: proven iff the value lies within the radius
            norm = claim["norm"]
            vkey = "value_squared" if norm == 2 else "value"
            r = Q(claim["radius"])
            if claim.get(vkey) is not None and Q(claim[vkey]) <= (r * r if norm == 2 else r):
                return EITHER, "the value lies within the radius: the global nearest point too"
            return REJECT, [f"{prefix}.radius"]
        if key == "point":
            x, x0 = qs(claim["point"]), qs(claim["x0"])
            norm, label = claim["norm"], claim["label"]
            vkey = "value_squared" if norm == 2 else "value"
            lo, hi = self.partition_box()
            if in_box(x, lo, hi) and not_strictly_on_top(o(x), label) and dist(x, x0, norm) == Q(claim[vkey]):
                return EITHER, "the moved point is as near and adversarial"
            return REJECT, [f"{prefix}.point", f"{prefix}.value"]
        if key in ("value", "value_squared"):
            return REJECT, [f"{prefix}.{key}", f"{prefix}.point", "claim.holds"]
        if key == "norm" and prefix == "claim.nearest":
            return REJECT, ["claim.nearest.norm"]
        if key == "norm":
            # the value in the other norm (inf <-> 1): the prover's answer for that norm is the
            # truth here (its own certificate verifies, and the prover shares no code with the checker)
            other = {1: "inf", "inf": 1}.get(claim["norm"])
            truth = _BUILT.get(f"min_adversarial_{other}")
            if truth is not None and truth["cert"]["claim"]["value"] == claim.get("value"):
                return EITHER, "the same value in the other norm"
            return REJECT, [f"{prefix}.value", f"{prefix}.bounds", f"{prefix}.point", "claim.norm"]
        if key in ("x0", "radius", "domain", "label"):
            if prefix == "claim.nearest" and key in ("x0", "label", "domain"):
                return REJECT, [f"claim.nearest.{key}"]
            return REJECT, [f"{prefix}.{key}", "region", f"{prefix}.value", "volume"]
        return REJECT, [f"{prefix}.{key}"]

    def claim_equivalent(self, sub, claim, new):
        key = sub[0]
        f, g = self.oracle
        if claim["mode"] == "argmax":
            if key in ("counterexample", "domain") and not self.claim["holds"]:
                x = qs(claim["counterexample"])
                if in_box(x, claim["domain"]["lo"], claim["domain"]["hi"]) and top_set(f(x)) != top_set(g(x)):
                    return EITHER, "the top classes still differ there"
                return REJECT, ["claim.counterexample"]
            if key == "bounds":
                return EITHER, "a dual multiplier: the claim is unchanged"
            if key == "domain":
                return REJECT, ["volume", "domain"]
            if key == "holds":
                return REJECT, ["claim.holds", "claim.counterexample", "partition"]
            return REJECT, [f"claim.{key}"]
        M, eps = Q(claim["max_difference"]), Q(claim["eps"])
        if key == "witness":
            x = qs(claim["witness"])
            if in_box(x, DOM_LO, DOM_HI) and max(abs(a - b) for a, b in zip(f(x), g(x))) == M:
                return EITHER, "the moved witness attains the same difference"
            return REJECT, ["claim.witness", "claim.max_difference"]
        if key == "eps":
            if claim["holds"] is (M <= eps):
                return EITHER, "holds is still right for the new eps"
            return REJECT, ["claim.holds"]
        if key == "domain":
            return REJECT, ["box", "set the claim is about", "claim.domain"]
        if key == "max_difference":
            return REJECT, ["claim.max_difference"]
        return REJECT, [f"claim.{key}"]

    def claim_convex(self, sub, claim, new):
        key = sub[0]
        o = self.oracle
        holds = self.claim["holds"]
        if key == "c" and holds:
            assert o.O == 1  # c -> (8/7) c, a positive multiple: the same convexity
            return EITHER, "a positive multiple of the functional"
        if key == "holds":
            return REJECT, ["claim.holds", "claim.witness", "partition"]
        if holds:
            if key == "domain":
                return REJECT, ["volume", "domain"]
            return REJECT, [f"claim.{key}"]
        x, y = (qs(p) for p in claim["witness"])
        lo, hi = qs(claim["domain"]["lo"]), qs(claim["domain"]["hi"])
        c = qs(claim["c"])
        mid = [(a + b) / 2 for a, b in zip(x, y)]
        if in_box(x, lo, hi) and in_box(y, lo, hi) and 2 * o.value(c, 0, mid) > o.value(c, 0, x) + o.value(c, 0, y):
            return EITHER, "still a chord below the graph"
        return REJECT, ["claim.witness"]

    def claim_monotone(self, sub, claim, new):
        key = sub[0]
        o = self.oracle
        holds = self.claim["holds"]
        c = qs(claim["c"])
        if key == "holds":
            return REJECT, ["claim.holds", "claim.witness", "partition"]
        if key == "c" and holds:
            assert o.O == 1  # c -> (8/7) c, a positive multiple: the same monotonicity
            return EITHER, "a positive multiple of the functional"
        i, sign = claim["input"], 1 if claim["increasing"] else -1
        if holds:
            if key == "domain":
                return REJECT, ["volume", "domain"]
            if key in ("input", "increasing"):
                if not 0 <= i < o.D:
                    return REJECT, ["claim.input"]
                slopes = [sum((ci * row[i] for ci, row in zip(c, o.jacobian(reg["code"]))), Q(0))
                          for reg in self._regions()]
                if all(sign * s >= 0 for s in slopes):
                    return EITHER, "monotone in that sense too"
                return REJECT, ["claim.holds", "slope"]
            return REJECT, [f"claim.{key}"]
        x, y = (qs(p) for p in claim["witness"])
        lo, hi = qs(claim["domain"]["lo"]), qs(claim["domain"]["hi"])
        ok = (0 <= i < o.D and in_box(x, lo, hi) and in_box(y, lo, hi)
              and all(a == b for j, (a, b) in enumerate(zip(x, y)) if j != i) and y[i] > x[i]
              and sign * (o.value(c, 0, y) - o.value(c, 0, x)) < 0)
        if ok:
            return EITHER, "still a pair contradicting monotonicity"
        return REJECT, ["claim.witness", "claim.input"]

    def claim_spec(self, sub, claim, new):
        key = sub[0]
        o = self.oracle
        status = self.claim["status"]
        if key == "status":
            return REJECT, ["claim.status", "claim.counterexample", "claim.case", "proof"]
        if status == "holds":
            if key == "cases" and sub[2] == "inputs":
                return REJECT, ["box", "set the claim is about", "claim.cases"]
            if key == "cases" and sub[2] == "unsafe" and isinstance(new, bool):
                # a strict unsafe constraint: a smaller unsafe set, still unreachable
                return EITHER, "the unsafe set only shrinks"
            return REJECT, ["functionals", f"claim.{key}"]
        # violated: the counterexample decides
        k = claim["case"]
        if not (isinstance(k, int) and 0 <= k < len(claim["cases"])):
            return REJECT, ["claim.case"]
        case = claim["cases"][k]
        x = qs(claim["counterexample"])
        y = o(x)
        ok = in_box(x, case["inputs"]["lo"], case["inputs"]["hi"])
        for u in case["unsafe"]:
            a, b, strict = qs(u[:-2]), Q(u[-2]), u[-1]
            lhs = sum((p * q for p, q in zip(a, y)), Q(0))
            ok = ok and (lhs < b if strict else lhs <= b)
        if ok:
            return EITHER, "the counterexample still violates the case"
        return REJECT, ["claim.counterexample", "claim.case"]


class _Stacked:
    """The oracle of two networks of the same depth stacked as exactmaso.compose.stack does:
    each hidden layer holds the first network's units, then the second's."""

    def __init__(self, f, g):
        self.f, self.g = f, g

    def strictly_coded(self, x, code):
        hs = [a + b for a, b in zip(self.f.pre(x)[:-1], self.g.pre(x)[:-1])]
        return all(v != 0 and int(v > 0) == c for h, cl in zip(hs, code) for v, c in zip(h, cl))


def tamper_outcomes(name, entry, tmp_path):
    """Every perturbed leaf: (path, new value, decision, outcome, message)."""
    cert = entry["cert"]
    dec = Decider(name, entry)
    out = []
    target = tmp_path / f"{name}.cert.json"
    items = [(path, v) for path, v in leaves(cert) if path[0] != "format" and path[:2] != ("claim", "kind")]
    tree = [k for k, (path, _) in enumerate(items) if path[0] == "proofs" and path[2] == "tree"]
    keep = set(tree[:: max(1, -(-len(tree) // MAX_TREE_LEAVES))])  # proof trees: an even sample
    items = [item for k, item in enumerate(items) if k in keep or k not in set(tree)]
    # every leaf of the first proof; of the others (re-checked after the earlier ones, which is
    # slow for the equivalences' four) the first leaf of each field
    seen = set()
    sample = []
    for path, v in items:
        if path[0] == "proofs" and path[1] > 0 and path[2] != "tree":
            if (path[1], path[2]) in seen:
                continue
            seen.add((path[1], path[2]))
        sample.append((path, v))
    items = sample
    for path, v in items:
        new = perturb(cert, path, v)
        if new is SKIP:
            continue
        verdict, extra = dec.decide(path, new)
        t = copy.deepcopy(cert)
        set_leaf(t, path, new)
        target.write_text(json.dumps(t))
        try:
            em.prove.check(target, entry["nets"])
            outcome, msg = "accepted", ""
        except CertificateError as exc:
            outcome, msg = "rejected", str(exc)
        except Exception as exc:  # noqa: BLE001 - any other error is a failure of the checker
            outcome, msg = f"crashed {type(exc).__name__}", str(exc)
        out.append((path, v, new, verdict, extra, outcome, msg))
    return out


def failures(outcomes, known=()):
    bad = []
    for path, old, new, verdict, extra, outcome, msg in outcomes:
        where = fmt(path)
        if any(re.fullmatch(k, where) for k in known):
            continue
        if outcome.startswith("crashed"):
            bad.append(f"{where}: {old!r} -> {new!r}: {outcome}: {msg}")
        elif verdict == REJECT and outcome == "accepted":
            bad.append(f"{where}: {old!r} -> {new!r} was ACCEPTED although the claim is no longer proven")
        elif verdict == REJECT and not any(tok in msg for tok in extra):
            bad.append(f"{where}: {old!r} -> {new!r} rejected, but the message names none of {extra}: {msg}")
    return bad


# =========================================================================================
# 1. tampering
# =========================================================================================
CERT_NAMES = ["output_bounds", "output_bounds_partial", "lipschitz_1", "lipschitz_inf", "lipschitz_2",
              "robust_inf_holds", "robust_inf_not", "robust_1_holds", "robust_2_holds", "robust_2_not",
              "min_adversarial_1", "min_adversarial_inf", "equivalent_holds", "equivalent_not",
              "equivalent_argmax_holds", "equivalent_argmax_not", "convex_holds", "convex_not", "monotone_holds",
              "monotone_not", "spec_holds", "spec_violated"]
PARTITION_KINDS = {"lipschitz_1", "lipschitz_inf", "lipschitz_2", "equivalent_argmax_holds", "convex_holds",
                   "monotone_holds"}

# Checker weaknesses these tests found, now fixed (each has its own test below): a 2-norm
# robustness claim that does not hold checks its ``nearest`` part and partition too; a
# partition-based claim whose domain grew is rejected naming claim.domain.
KNOWN_ACCEPTED: dict = {}
KNOWN_VAGUE: dict = {}
ANSWER = {"output_bounds": "claim.max", "output_bounds_partial": "claim.lower", "lipschitz_1": "claim.value",
          "lipschitz_inf": "claim.value", "lipschitz_2": "claim.value.poly[1]", "robust_inf_holds": "claim.holds",
          "robust_inf_not": "claim.holds", "robust_1_holds": "claim.holds", "robust_2_holds": "claim.holds",
          "robust_2_not": "claim.holds", "min_adversarial_1": "claim.value", "min_adversarial_inf": "claim.value",
          "equivalent_holds": "claim.max_difference", "equivalent_not": "claim.max_difference",
          "equivalent_argmax_holds": "claim.holds", "equivalent_argmax_not": "claim.holds",
          "convex_holds": "claim.holds", "convex_not": "claim.holds", "monotone_holds": "claim.holds",
          "monotone_not": "claim.holds", "spec_holds": "claim.status", "spec_violated": "claim.status"}


def test_the_certificates_are_what_their_names_say(built):
    """The answers the tampering tests rely on, against the oracle."""
    holds = {n: built[n]["result"].holds for n in CERT_NAMES
             if n.split("_")[-1] in ("holds", "not") and not n.startswith("spec")}
    assert all(v is n.endswith("holds") for n, v in holds.items()), holds
    assert built["spec_holds"]["result"].status == "holds" and built["spec_violated"]["result"].status == "violated"
    pts = region_vertices([A], DOM_LO, DOM_HI)
    r = built["output_bounds"]["result"]
    assert (r.lo, r.hi) == (min(A(list(p))[0] for p in pts), max(A(list(p))[0] for p in pts)) == (Q(-19, 12), Q(7, 5))
    both = region_vertices([A, A_TWEAK], DOM_LO, DOM_HI)
    assert built["equivalent_not"]["result"].max_difference == \
        max(abs(a - b) for p in both for a, b in zip(A(list(p)), A_TWEAK(list(p)))) == Q(9, 50)
    assert built["equivalent_holds"]["result"].max_difference == 0
    for n in ("lipschitz_1", "lipschitz_inf"):
        dec = Decider(n, built[n])
        assert built[n]["result"].value == dec._lip_true(None)
    assert built["min_adversarial_1"]["result"].value == Q(43, 150)
    y = A(list(built["min_adversarial_1"]["result"].point))
    assert y[0] == y[1]  # the nearest point is on the decision boundary


def saved(name, built, tmp_path):
    """The certificate as ``result.save(path)`` writes it (a LimitError's as json.dump)."""
    entry = built[name]
    path = tmp_path / f"{name}.json"
    if entry["result"] is not None:
        entry["result"].save(path)
    else:
        path.write_text(json.dumps(entry["cert"]))
    return path, {**entry, "cert": json.loads(path.read_text())}


@pytest.mark.parametrize("name", CERT_NAMES)
def test_tampering_with_any_leaf_is_rejected_naming_the_field(built, name, tmp_path):
    path, entry = saved(name, built, tmp_path)
    em.prove.check(path, entry["nets"])  # the untampered certificate verifies
    outcomes = tamper_outcomes(name, entry, tmp_path)
    must = [o for o in outcomes if o[3] == REJECT]
    assert len(must) >= 3, f"{name}: only {len(must)} leaves must be rejected; the walk found too little"
    known = KNOWN_ACCEPTED.get(name, [])
    vague = KNOWN_VAGUE.get(name, [])
    bad = failures(outcomes, known=known + vague)
    # the vaguely named ones must still be rejected
    bad += [f"{fmt(p)}: {old!r} -> {new!r} was ACCEPTED" for p, old, new, verdict, _, outcome, _ in outcomes
            if verdict == REJECT and outcome == "accepted" and any(re.fullmatch(k, fmt(p)) for k in vague)]
    assert not bad, f"{name}: {len(bad)} of {len(outcomes)} tampered leaves went wrong:\n" + "\n".join(bad)
    # the walk did reach the network hash and the claimed answer, and both were rejected
    rejected = {fmt(p) for p, _, _, verdict, _, outcome, _ in outcomes if verdict == REJECT and outcome == "rejected"}
    assert {"network", ANSWER[name]} <= rejected or (name.startswith("equivalent") and {"network[0]", "network[1]",
                                                                                         ANSWER[name]} <= rejected)


@pytest.mark.parametrize("name, leaf, value, message", [
    ("convex_not", ("claim", "witness", 1), None, "claim.witness: the midpoint"),  # y = x: no chord
    ("monotone_not", ("claim", "witness", 1), None, "claim.witness: the second point"),  # y = x
    ("convex_not", ("claim", "witness", 0, 0), "5", "claim.witness has a point outside the domain"),
    ("monotone_not", ("claim", "increasing"), False, "claim.witness: the values do not contradict"),
])
def test_a_broken_witness_is_rejected(built, tmp_path, name, leaf, value, message):
    """Most single moves of these witnesses keep them witnesses (the walk decides so); these
    moves break them."""
    _, entry = saved(name, built, tmp_path)
    cert = entry["cert"]
    set_leaf(cert, leaf, copy.deepcopy(cert["claim"]["witness"][0]) if value is None else value)
    with pytest.raises(CertificateError, match=re.escape(message)):
        em.prove.check(cert, entry["nets"])


# the certificate whose proof tree has Lagrangian multipliers (a row of the 1-norm ball's; the
# output bounds of these small networks are decided by the regions of their boxes)
WITH_MULTIPLIERS = "robust_1_holds"


def test_a_multiplier_change_that_breaks_a_leaf_is_rejected_naming_the_node(built):
    """A Lagrangian multiplier of a leaf is needed: zeroing every multiplier of the proof
    leaves a leaf whose relaxation bound is above the bound it must prove."""
    cert = copy.deepcopy(built[WITH_MULTIPLIERS]["cert"])
    net = built[WITH_MULTIPLIERS]["nets"]
    changed = []

    def strip(node, where):
        if "multipliers" in node and node["multipliers"]:
            node["multipliers"] = [[l, k, "0"] for l, k, _ in node["multipliers"]]
            changed.append(where)
        for i, kid in enumerate(node.get("children", [])):
            strip(kid, f"{where}.{i}")

    strip(cert["proofs"][0]["tree"], "proofs[0].tree")
    assert changed
    with pytest.raises(CertificateError, match=r"proofs\[0\]\.tree") as info:
        em.prove.check(cert, net)
    assert any(w in str(info.value) for w in changed) or "tree" in str(info.value)


def test_a_negative_multiplier_is_rejected(built):
    cert = copy.deepcopy(built[WITH_MULTIPLIERS]["cert"])
    stack, node = [cert["proofs"][0]["tree"]], None
    while stack and node is None:  # the first node (depth first) with multipliers
        top = stack.pop()
        node = top if top.get("multipliers") else None
        stack.extend(reversed(top.get("children", [])))
    assert node is not None
    node["multipliers"][0][2] = "-1"
    with pytest.raises(CertificateError, match="negative"):
        em.prove.check(cert, built[WITH_MULTIPLIERS]["nets"])


@pytest.mark.parametrize("leaf, value", [(("claim", "nearest", "value_squared"), "1"),
                                         (("claim", "nearest", "point", 0), "0"),
                                         (("claim", "nearest", "radius"), "7")])
def test_robust_2_counterexample_certificate_checks_its_nearest_claim(built, tmp_path, leaf, value):
    _, entry = saved("robust_2_not", built, tmp_path)
    cert = entry["cert"]
    assert Q(cert["claim"]["nearest"]["value_squared"]) <= Q(cert["claim"]["eps"]) ** 2
    set_leaf(cert, leaf, value)  # now false: no point at squared distance 1, or (0, ...) is not the point
    with pytest.raises(CertificateError, match="nearest"):
        em.prove.check(cert, entry["nets"])


@pytest.mark.parametrize("name", sorted(PARTITION_KINDS))
def test_a_grown_domain_of_a_partition_claim_is_named(built, tmp_path, name):
    _, entry = saved(name, built, tmp_path)
    cert = entry["cert"]
    cert["claim"]["domain"]["hi"][0] = "8/7"
    with pytest.raises(CertificateError, match="domain"):
        em.prove.check(cert, entry["nets"])


@pytest.mark.parametrize("name, other", [("output_bounds", A_TWEAK), ("lipschitz_1", A_TWEAK),
                                         ("robust_inf_holds", A_TWEAK), ("convex_holds", A)])
def test_a_certificate_checked_against_another_network_names_the_hash(built, tmp_path, name, other):
    path, _ = saved(name, built, tmp_path)
    with pytest.raises(CertificateError, match="network") as info:
        em.prove.check(path, other.net())
    assert "hash" in str(info.value)


def test_an_equivalence_checked_against_another_second_network_names_it(built, tmp_path):
    path, _ = saved("equivalent_holds", built, tmp_path)
    with pytest.raises(CertificateError, match=r"network.*hash.*network 1"):
        em.prove.check(path, (A.net(), A_TWEAK.net()))
    with pytest.raises(CertificateError, match="2 network"):
        em.prove.check(path, A.net())  # one network for a claim about two


def test_the_networks_in_the_other_order_are_rejected(built, tmp_path):
    path, _ = saved("equivalent_not", built, tmp_path)
    with pytest.raises(CertificateError, match="network 0"):
        em.prove.check(path, (A_TWEAK.net(), A.net()))


@pytest.mark.parametrize("content", [
    pytest.param(lambda text: text[: len(text) // 2], id="truncated"),
    pytest.param(lambda text: "", id="empty"),
    pytest.param(lambda text: "not json at all {", id="garbage"),
    pytest.param(lambda text: text.replace('"claim"', "'claim'"), id="single-quoted key"),
])
def test_a_file_that_is_not_json_is_a_certificate_error(built, tmp_path, content):
    path, _ = saved("output_bounds", built, tmp_path)
    path.write_text(content(path.read_text()))
    with pytest.raises(CertificateError, match="not a JSON certificate"):
        em.prove.check(path, A.net())


def test_a_file_that_is_not_utf8_is_a_certificate_error(tmp_path):
    path = tmp_path / "binary.json"
    path.write_bytes(b"\xff\xfe\x00{\x80")
    with pytest.raises(CertificateError, match="not a JSON certificate"):
        em.prove.check(path, A.net())


def test_a_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="cannot read the certificate"):
        em.prove.check(tmp_path / "nope.json", A.net())


@pytest.mark.parametrize("mutate, message", [
    (lambda c: c["claim"].update(kind="unknown"), "claim.kind 'unknown' is not a kind this checker knows"),
    (lambda c: c["claim"].update(kind=None), "claim.kind None is not a kind"),
    (lambda c: c["claim"].pop("kind"), "lacks its claim"),
    (lambda c: c.pop("claim"), "lacks its claim"),
    (lambda c: c.update(format="something-else"), "the field 'format'"),
    (lambda c: c.update(version=2), "the field 'version' is 2"),
    (lambda c: c["claim"].pop("argmax"), "claim.argmax"),
    (lambda c: c.pop("proofs"), "no proof bounds the functional"),
    (lambda c: c["proofs"][0].pop("tree"), "proofs[0] lacks a field"),
])
def test_malformed_certificates_are_rejected(built, tmp_path, mutate, message):
    path, entry = saved("output_bounds", built, tmp_path)
    cert = entry["cert"]
    mutate(cert)
    path.write_text(json.dumps(cert))
    with pytest.raises(CertificateError) as info:
        em.prove.check(path, A.net())
    assert message in str(info.value)


def test_a_json_value_that_is_not_an_object_is_rejected(tmp_path):
    path = tmp_path / "list.json"
    path.write_text("[1, 2, 3]")
    with pytest.raises(CertificateError, match="not an exactmaso certificate"):
        em.prove.check(path, A.net())


def test_checking_against_a_non_network_is_a_type_error(built, tmp_path):
    path, _ = saved("output_bounds", built, tmp_path)
    with pytest.raises(TypeError, match="not an exactmaso Network"):
        em.prove.check(path, "model.json")


# =========================================================================================
# 2. bad arguments: typed errors that say what is wrong
# =========================================================================================
NET_A = A.net()
BAD = [
    # eps
    ("negative eps", lambda: em.prove.robust(NET_A, X0, "-1/20"), DomainError, "negative"),
    ("negative eps (equivalent)", lambda: em.prove.equivalent(NET_A, NET_A, DOM, eps=-1), DomainError, "negative"),
    ("negative radius", lambda: em.prove.min_adversarial(NET_A, X0, radius="-1/3"), DomainError, "negative"),
    ("NaN eps", lambda: em.prove.robust(NET_A, X0, float("nan")), DomainError, "eps is nan"),
    ("NaN eps (equivalent)", lambda: em.prove.equivalent(NET_A, NET_A, DOM, eps=math.nan), DomainError, "eps is nan"),
    ("inf eps", lambda: em.prove.robust(NET_A, X0, math.inf), DomainError, "eps is inf"),
    ("-inf eps", lambda: em.prove.robust(NET_A, X0, -math.inf), DomainError, "eps is -inf"),
    ("non-number eps", lambda: em.prove.robust(NET_A, X0, "one half"), DomainError, "eps"),
    # norms
    ("norm 3", lambda: em.prove.robust(NET_A, X0, "1/20", norm=3), ProveError, "norm=3 is not supported"),
    ("norm 'l3'", lambda: em.prove.robust(NET_A, X0, "1/20", norm="l3"), ProveError, "norm='l3' is not supported"),
    ("norm 0 (lipschitz)", lambda: em.prove.lipschitz(NET_A, DOM, norm=0), ProveError, "norm=0 is not supported"),
    ("norm 'euclid' (lipschitz)", lambda: em.prove.lipschitz(NET_A, DOM, norm="euclid"), ProveError,
     "norm='euclid' is not supported"),
    ("norm 1.5 (min_adversarial)", lambda: em.prove.min_adversarial(NET_A, X0, norm=1.5), ProveError,
     "norm=1.5 is not supported"),
    ("norm True", lambda: em.prove.robust(NET_A, X0, "1/20", norm=True), ProveError, "norm=True is not supported"),
    ("norm None", lambda: em.prove.lipschitz(NET_A, DOM, norm=None), ProveError, "norm=None is not supported"),
    # x0
    ("x0 of 3 coordinates", lambda: em.prove.robust(NET_A, [0, 0, 0], "1/20"), ShapeError, "x0 has shape (3,)"),
    ("x0 of 1 coordinate", lambda: em.prove.min_adversarial(NET_A, [0]), ShapeError, "x0 has shape (1,)"),
    ("x0 NaN", lambda: em.prove.robust(NET_A, [math.nan, 0], "1/20"), DomainError, "x0[0] is nan"),
    ("x0 outside the domain", lambda: em.prove.robust(NET_A, [3, 0], "1/20", dom=DOM), DomainError,
     "x0 lies outside the domain"),
    # domains
    ("unbounded box", lambda: em.prove.output_bounds(NET_A, em.Box([-math.inf, -1], [1, 1]), output=0), DomainError,
     "lo[0] is -inf"),
    ("unbounded pair", lambda: em.prove.output_bounds(NET_A, ([-1, -1], [1, math.inf]), output=0), DomainError,
     "hi[1] is inf"),
    ("unbounded polytope", lambda: em.prove.output_bounds(
        NET_A, em.Polytope(np.array([[1, 0], [0, 1]]), np.array([1, 1])), output=0), DomainError, "unbounded"),
    ("empty box", lambda: em.prove.output_bounds(NET_A, em.Box([1, -1], [-1, 1]), output=0), DomainError,
     "lo[0] = 1 is not < hi[0] = -1"),
    ("empty polytope", lambda: em.prove.lipschitz(NET_A, em.Polytope(
        np.array([[1, 0], [-1, 0], [0, 1], [0, -1]]), np.array([-1, -1, 1, 1]))), DomainError, "empty"),
    ("flat box", lambda: em.prove.is_convex(NET_A, em.Box([0, -1], [0, 1]), output=0), DomainError,
     "lo[0] = 0 is not < hi[0] = 0"),
    ("domain of 3 dimensions", lambda: em.prove.output_bounds(NET_A, em.Box([-1] * 3, [1] * 3), output=0), ShapeError,
     "the domain lives in 3 dimensions; the network takes 2 inputs"),
    ("domain of 1 dimension", lambda: em.prove.lipschitz(NET_A, em.Box([-1], [1])), ShapeError,
     "the domain lives in 1 dimensions"),
    ("robust domain of 3 dimensions", lambda: em.prove.robust(NET_A, X0, "1/20", dom=em.Box([-1] * 3, [1] * 3)),
     ShapeError, "3 dimensions"),
    ("not a domain", lambda: em.prove.output_bounds(NET_A, [[-1, -1], [1, 1]], output=0), TypeError,
     "expected em.Box(lo, hi)"),
    # two networks
    ("different input dimensions", lambda: em.prove.equivalent(NET_A, THREE.net(), DOM), ShapeError,
     "net1 takes 2 inputs and net2 3"),
    ("different output dimensions", lambda: em.prove.equivalent(NET_A, M.net(), DOM), ShapeError,
     "net1 has 2 outputs and net2 1"),
    ("different input dimensions (argmax)", lambda: em.prove.equivalent(NET_A, THREE.net(), DOM, mode="argmax"),
     ShapeError, "equivalence needs the same inputs"),
    # indices
    ("output 2 of 2", lambda: em.prove.output_bounds(NET_A, DOM, output=2), ShapeError,
     "output=2; the network's outputs are 0..1"),
    ("output -1", lambda: em.prove.output_bounds(NET_A, DOM, output=-1), ShapeError, "output=-1"),
    ("output 5 (lipschitz)", lambda: em.prove.lipschitz(NET_A, DOM, output=5), ShapeError, "output=5"),
    ("output 2 (convex)", lambda: em.prove.is_convex(NET_A, DOM, output=2), ShapeError, "output=2"),
    ("output 1 of 1 (monotone)", lambda: em.prove.is_monotone(M.net(), DOM, output=1), ShapeError, "output=1"),
    ("input 2 (monotone)", lambda: em.prove.is_monotone(NET_A, DOM, input=2, output=0), ShapeError, "input=2"),
    ("label 2", lambda: em.prove.robust(NET_A, X0, "1/20", label=2), ShapeError,
     "label=2; the network's classes are 0..1"),
    ("c of the wrong length", lambda: em.prove.output_bounds(NET_A, DOM, c=[1, 0, 0]), ShapeError,
     "c has 3 entries"),
    ("output and c", lambda: em.prove.output_bounds(NET_A, DOM, output=0, c=[1, 0]), ProveError, "not both"),
    ("no output", lambda: em.prove.output_bounds(NET_A, DOM), ProveError, "say which with output=j"),
    ("no output (convex)", lambda: em.prove.is_convex(NET_A, DOM), ProveError, "say which with output=j"),
    ("robust with one output", lambda: em.prove.robust(M.net(), X0, "1/20"), ProveError, "one output"),
    ("mode", lambda: em.prove.equivalent(NET_A, NET_A, DOM, mode="values"), ProveError, "mode='values'"),
    ("which", lambda: em.prove.output_bounds(NET_A, DOM, output=0, which="maximum"), ProveError, "which='maximum'"),
    # not networks
    ("a file name", lambda: em.prove.output_bounds("model.json", DOM, output=0), TypeError,
     "net is a str; expected an exactmaso Network"),
    ("a list (lipschitz)", lambda: em.prove.lipschitz([[1, 2]], DOM), TypeError, "net is a list"),
    ("None (equivalent)", lambda: em.prove.equivalent(NET_A, None, DOM), TypeError, "net2 is a NoneType"),
    ("a dict (robust)", lambda: em.prove.robust({}, X0, "1/20"), TypeError, "net is a dict"),
    ("a dict (min_adversarial)", lambda: em.prove.min_adversarial({}, X0), TypeError, "net is a dict"),
    ("a dict (convex)", lambda: em.prove.is_convex({}, DOM), TypeError, "net is a dict"),
    ("a dict (monotone)", lambda: em.prove.is_monotone({}, DOM), TypeError, "net is a dict"),
    ("a dict (check_spec)", lambda: em.prove.check_spec({}, make_spec(None)), TypeError, "net is a dict"),
    ("not a spec", lambda: em.prove.check_spec(NET_A, "prop.vnnlib"), TypeError, "expected an em.prove.Spec"),
    ("a spec of other sizes", lambda: em.prove.check_spec(M.net(), make_spec(None)), ShapeError,
     "the spec is about 2 inputs and 2 outputs"),
]


@pytest.mark.parametrize("call, error, message", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_arguments_raise_typed_errors_that_say_what_is_wrong(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert message in str(info.value)
    if error is not TypeError:
        assert isinstance(info.value, ExactMasoError) and isinstance(info.value, ValueError)


def test_the_norm_names_l1_l2_linf_are_aliases():
    """'l2' is not an error: it names the 2-norm (as 'l1', 'linf' and 'max' name the others)."""
    assert em.prove.lipschitz(NET_A, DOM, norm="l2").value == em.prove.lipschitz(NET_A, DOM, norm=2).value
    assert em.prove.lipschitz(NET_A, DOM, norm="L1", output=0).value == Q(11, 6)
    assert em.prove.lipschitz(NET_A, DOM, norm="linf", output=0).value == \
        em.prove.lipschitz(NET_A, DOM, norm=math.inf, output=0).value == Q(17, 6)


def test_a_boolean_output_index_is_rejected():
    with pytest.raises(ShapeError, match="output=True"):
        em.prove.output_bounds(NET_A, DOM, output=True)


def test_lipschitz_value_float_is_the_float_of_the_value(built):
    r = built["lipschitz_2"]["result"]
    assert r.value_float == pytest.approx(float(r.value), rel=1e-12)


# =========================================================================================
# 3. limits: a proven interval, checked against a brute-force maximum
# =========================================================================================
def _limit_oracle():
    rng = np.random.default_rng(0)
    sizes = [2, 10, 10, 1]
    W = [rng.integers(-9, 10, (o, i)).tolist() for i, o in zip(sizes, sizes[1:])]
    b = [rng.integers(-9, 10, o).tolist() for o in sizes[1:]]
    return Oracle(W, b)


@pytest.fixture(scope="module")
def limit_case():
    """A [2, 10, 10, 1] network whose maximum on [-1, 1]^2 takes branch and bound 5 nodes, and
    its exact maximum and minimum by enumeration of its activation regions."""
    o = _limit_oracle()
    pts = region_vertices([o], DOM_LO, DOM_HI)
    values = [o(list(p))[0] for p in pts]
    return o, o.net(), max(values), min(values)


def test_the_brute_force_oracle_agrees_with_the_prover_on_the_limit_network(limit_case):
    o, net, top, bottom = limit_case
    r = em.prove.output_bounds(net, DOM)
    assert (r.lo, r.hi) == (bottom, top)
    assert r.nodes >= 10  # both sides need several nodes (a limit of 3 stops each)
    assert o(list(r.argmax))[0] == top


def _check_limit(exc, net, value, side, tmp_path):
    assert isinstance(exc, LimitError)
    assert exc.lower is not None and exc.upper is not None
    assert exc.lower <= value <= exc.upper, f"[{exc.lower}, {exc.upper}] does not hold the {side} {value}"
    assert exc.count >= 1
    cert = exc.certificate
    assert cert is not None and cert["claim"]["kind"] == "output_bounds_partial" and cert["claim"]["side"] == side
    lo, hi = (exc.lower, exc.upper) if side == "max" else (-exc.upper, -exc.lower)  # the claim is about -min
    assert (Q(cert["claim"]["lower"]), Q(cert["claim"]["upper"])) == (lo, hi)
    em.prove.check(cert, net)
    path = tmp_path / "partial.json"
    path.write_text(json.dumps(cert))
    em.prove.check(path, net)
    # and it is about this network and this interval only
    with pytest.raises(CertificateError, match="network"):
        em.prove.check(cert, A_TWEAK.net() if net.input_dim == 2 and net.output_dim == 2 else NET_A)
    tampered = copy.deepcopy(cert)
    tampered["claim"]["upper"] = str(Q(cert["claim"]["lower"]) - 1)
    with pytest.raises(CertificateError, match="claim.upper"):
        em.prove.check(tampered, net)


@pytest.mark.parametrize("which", ["max", "min"])
def test_max_nodes_raises_a_limit_error_with_a_proven_interval(limit_case, tmp_path, which):
    _, net, top, bottom = limit_case
    with pytest.raises(LimitError) as info:
        em.prove.output_bounds(net, DOM, which=which, max_nodes=3)
    _check_limit(info.value, net, top if which == "max" else bottom, which, tmp_path)
    message = str(info.value)
    assert "max_nodes=3" in message and f"{which}imum" in message


def test_max_nodes_stops_the_first_side_of_both(limit_case, tmp_path):
    _, net, top, _ = limit_case
    with pytest.raises(LimitError) as info:
        em.prove.output_bounds(net, DOM, max_nodes=3)
    _check_limit(info.value, net, top, "max", tmp_path)


def test_a_tiny_time_limit_raises_a_limit_error_with_a_proven_interval(limit_case, tmp_path):
    _, net, top, _ = limit_case
    with pytest.raises(LimitError) as info:
        em.prove.output_bounds(net, DOM, which="max", time_limit=0.001)
    _check_limit(info.value, net, top, "max", tmp_path)
    assert "time_limit=" in str(info.value)


@pytest.mark.parametrize("limit", [0.001, 0.0025, 0])
@pytest.mark.parametrize("which", ["max", "min", "both"])
def test_the_time_limit_message_names_the_limit_given(limit_case, limit, which):
    """(Before commit 0124796 the message showed the time *remaining* for the side, e.g.
    'time_limit=0.009964708 s' for time_limit=0.01.)"""
    _, net, _, _ = limit_case
    with pytest.raises(LimitError) as info:
        em.prove.output_bounds(net, DOM, which=which, time_limit=limit)
    assert f"time_limit={limit} s" in str(info.value)


def test_the_check_spec_time_limit_message_names_the_limit_given(limit_case):
    _, net, top, _ = limit_case
    spec = Spec((Case(InputSet((-1, -1), (1, 1)), (Linear((-1,), -(top + 1)),)),), 2, 1)
    with pytest.raises(LimitError) as info:
        em.prove.check_spec(net, spec, time_limit=0.001)
    assert "time_limit=0.001 s" in str(info.value)


def test_a_zero_time_limit_still_proves_an_interval(limit_case, tmp_path):
    _, net, top, _ = limit_case
    with pytest.raises(LimitError) as info:
        em.prove.output_bounds(net, DOM, which="max", time_limit=0)
    _check_limit(info.value, net, top, "max", tmp_path)


def test_check_spec_limit_names_the_limit_and_the_case(limit_case):
    _, net, top, _ = limit_case
    box = InputSet((-1, -1), (1, 1))
    spec = Spec((Case(box, (Linear((-1,), -(top + 1)),)),), 2, 1)  # y0 >= max + 1: holds, but needs nodes
    with pytest.raises(LimitError) as info:
        em.prove.check_spec(net, spec, max_nodes=2)
    message = str(info.value)
    assert "max_nodes=2" in message and "case 0 of 1" in message
    assert info.value.upper is None or info.value.lower is None or info.value.lower <= info.value.upper
