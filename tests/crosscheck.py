"""Randomised cross-check of exactmaso's regions against the independent oracle (tests/oracle_nd.py).

A *case* is a random network with a box, drawn from one *family*: generic float weights,
small-integer and dyadic grids, and families built degenerate on purpose (concurrent,
parallel, duplicate and negated hyperplanes, hyperplanes through box corners, zero rows,
identical pieces, deeper units through vertices of the first layer, max-pooling of the input),
2^-45..2^-60 perturbations of those, global scales of 1e+-100 / 1e+-300 and rows mixing huge
and tiny entries.  A case is fully determined by its integer seed (:func:`make_case`).

Each case keeps two descriptions of one network: ``recipe``, the exactmaso layers (Dense,
ReLU, LeakyReLU, Abs, MASO, MaxPool1d) that :func:`build_net` hands to ``em.Network``, and
``layers``, the MASO form as plain lists of Fractions folded here independently
(:func:`fold_recipe`), which is what the oracle reads.  :func:`check_case` runs both and
returns the list of :class:`Mismatch` es (empty when they agree).

This module imports exactmaso (it is the harness); the oracle does not.
"""

from __future__ import annotations

import json
import math
import random
import signal
import time
import traceback
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

import exactmaso as em
from exactmaso.graph import recover_adjacency

try:
    from oracle_nd import OracleResult, oracle_regions
except ImportError:  # tests/ as a package
    from tests.oracle_nd import OracleResult, oracle_regions  # type: ignore[no-redef]

F = Fraction

__all__ = [
    "Case", "Mismatch", "FAMILIES", "make_case", "fold_recipe", "build_net", "layers_of_net",
    "net_from_layers", "check_case", "check_layers", "case_to_json", "load_json", "minimise",
    "oracle_expectations", "CaseTimeout",
]


# ---------------------------------------------------------------------------------------------
# cases
# ---------------------------------------------------------------------------------------------


@dataclass
class Case:
    seed: int
    family: str
    category: str  # generic | grid | degenerate | near_degenerate | magnitude
    degenerate: bool  # built non-generic on purpose (directly or as the base of a variant)
    D: int
    lo: list
    hi: list
    recipe: list  # ("dense", W, b) | ("relu",) | ("leaky", s) | ("abs",) | ("maso", A, B) | ("maxpool", k)
    input_shape: tuple | None = None
    layers: list = field(default_factory=list)  # plain MASO form, filled by make_case

    def describe(self) -> str:
        sizes = [len(A) for A, _ in self.layers]
        pieces = [max(len(u) for u in A) for A, _ in self.layers]
        return f"seed={self.seed} family={self.family} D={self.D} units={sizes} pieces={pieces}"


@dataclass
class Mismatch:
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


# ---------------------------------------------------------------------------------------------
# exact linear algebra on nested lists
# ---------------------------------------------------------------------------------------------


def _identity(n: int) -> list[list[Fraction]]:
    return [[F(int(i == j)) for j in range(n + 1)] for i in range(n)]


def _compose(W, b, P):
    """Rows of ``W (P [z; 1]) + b`` as augmented rows over z."""
    n1 = len(P[0])
    out = []
    for row, bi in zip(W, b):
        r = [sum((w * P[j][i] for j, w in enumerate(row)), F(0)) for i in range(n1)]
        r[-1] += bi
        out.append(r)
    return out


def fold_recipe(recipe: Sequence[tuple], D: int) -> list:
    """The MASO form of a recipe (an independent fold: affine layers into the next MASO)."""
    layers = []
    P = _identity(D)  # pending affine map of the last MASO's output (or of the input)
    pending = False
    for op in recipe:
        name = op[0]
        if name == "dense":
            P = _compose(op[1], op[2], P)
            pending = True
            continue
        if name in ("relu", "leaky", "abs"):
            slopes = {"relu": (F(0), F(1)), "abs": (F(-1), F(1))}.get(name) or (F(op[1]), F(1))
            A = [[[s * v for v in row[:-1]] for s in slopes] for row in P]
            B = [[s * row[-1] for s in slopes] for row in P]
        elif name == "maso":
            A0, B0 = op[1], op[2]
            A, B = [], []
            for ua, ub in zip(A0, B0):
                ra, rb = [], []
                for piece, off in zip(ua, ub):
                    r = _compose([piece], [off], P)[0]
                    ra.append(r[:-1])
                    rb.append(r[-1])
                A.append(ra)
                B.append(rb)
        elif name == "maxpool":
            k = op[1]
            n = len(P)
            A = [[P[i][:-1] for i in range(s, s + k)] for s in range(0, n - k + 1, k)]
            B = [[P[i][-1] for i in range(s, s + k)] for s in range(0, n - k + 1, k)]
        else:  # pragma: no cover
            raise ValueError(f"unknown recipe op {name!r}")
        layers.append((A, B))
        P = _identity(len(A))
        pending = False
    if pending:
        layers.append(([[row[:-1]] for row in P], [[row[-1]] for row in P]))
    return layers


def build_net(case: Case) -> em.Network:
    """The exactmaso network of the recipe, through the public layer constructors."""
    out: list = []
    for op in case.recipe:
        name = op[0]
        if name == "dense":
            W = np.array(op[1], dtype=object)
            b = np.array(op[2], dtype=object)
            if len(op) > 3 and op[3] == "float":  # hand floats to exactmaso's own conversion
                W = np.array([[float(v) for v in row] for row in op[1]], dtype=np.float64)
                b = np.array([float(v) for v in op[2]], dtype=np.float64)
            if out and isinstance(out[-1], em.MaxPool1d):
                out.append(em.Flatten())
            out.append(em.Dense(W, b))
        elif name == "relu":
            out.append(em.ReLU())
        elif name == "leaky":
            out.append(em.LeakyReLU(op[1]))
        elif name == "abs":
            out.append(em.Abs())
        elif name == "maso":
            out.append(em.MASO(np.array(op[1], dtype=object), np.array(op[2], dtype=object)))
        elif name == "maxpool":
            out.append(em.MaxPool1d(op[1]))
    return em.Network(out, input_shape=case.input_shape)


def layers_of_net(net: em.Network) -> list:
    """``net.masos`` as plain nested lists of Fractions (the oracle's input form)."""
    layers = []
    for m in net.masos:
        K, R, _ = m.A.shape
        A = [[[F(v) for v in m.A[k, r]] for r in range(R)] for k in range(K)]
        B = [[F(m.B[k, r]) for r in range(R)] for k in range(K)]
        layers.append((A, B))
    return layers


def net_from_layers(layers: Sequence, input_shape: Sequence[int] | None = None) -> em.Network:
    """An exactmaso network made of exactly these MASOs (every unit of a layer needs the same
    number of pieces)."""
    masos = []
    for A, B in layers:
        masos.append(em.MASO(np.array([[[F(v) for v in p] for p in u] for u in A], dtype=object),
                             np.array([[F(v) for v in u] for u in B], dtype=object)))
    return em.Network.from_masos(masos, input_shape=tuple(input_shape) if input_shape else None)


# ---------------------------------------------------------------------------------------------
# random generation
# ---------------------------------------------------------------------------------------------

_MAX_WIDTH = {1: 5, 2: 5, 3: 4, 4: 3, 5: 3}
_MAX_UNITS = {1: 10, 2: 9, 3: 7, 4: 5, 5: 4}


def _pick_dim(rng: random.Random) -> int:
    return rng.choices([1, 2, 3, 4, 5], weights=[12, 30, 30, 16, 12])[0]


def _pick_widths(rng: random.Random, D: int) -> list[int]:
    depth = rng.choice([1, 1, 2, 2, 3]) if D <= 3 else rng.choice([1, 2])
    widths: list[int] = []
    for _ in range(depth):
        budget = _MAX_UNITS[D] - sum(widths) - (depth - len(widths) - 1)
        if budget < 1:
            break
        widths.append(rng.randint(1, min(_MAX_WIDTH[D], budget)))
    return widths


def _pick_box(rng: random.Random, D: int) -> tuple[list, list]:
    u = rng.random()
    if u < 0.5:
        return [F(-1)] * D, [F(1)] * D
    if u < 0.7:
        return [F(0)] * D, [F(1)] * D
    lo, hi = [], []
    for _ in range(D):
        a = F(rng.randint(-8, 4), 4)
        lo.append(a)
        hi.append(a + F(rng.randint(1, 8), 4))
    return lo, hi


def _int(rng: random.Random) -> Fraction:
    return F(rng.randint(-3, 3))


def _dyadic(rng: random.Random) -> Fraction:
    return F(rng.randint(-16, 16), rng.choice([2, 4, 8]))


def _gauss(rng: random.Random) -> Fraction:
    return F(rng.gauss(0.0, 1.0))


def _matrix(rng, rows, cols, draw) -> list[list[Fraction]]:
    return [[draw(rng) for _ in range(cols)] for _ in range(rows)]


def _activation(rng: random.Random, n_in: int, K: int, draw, *, allow_maso: bool = True) -> tuple:
    """One nonlinear op for K units (after a Dense with K outputs, or reading n_in inputs for a MASO)."""
    u = rng.random()
    if u < 0.4:
        return ("relu",)
    if u < 0.6:
        return ("leaky", rng.choice([F(1, 100), F(1, 2), F(-1, 2), F(0.01), F(1, 4)]))
    if u < 0.8 or not allow_maso:
        return ("abs",)
    R = 3
    return ("maso", [[[draw(rng) for _ in range(n_in)] for _ in range(R)] for _ in range(K)],
            [[draw(rng) for _ in range(R)] for _ in range(K)])


def _plain_recipe(rng: random.Random, D: int, widths: list[int], draw, *, first: list | None = None) -> list:
    """Dense + activation per hidden layer (a MASO op reads the Dense output), then a Dense read-out.
    ``first`` optionally gives the first layer's (W, b)."""
    recipe: list = []
    n = D
    for i, K in enumerate(widths):
        if i == 0 and first is not None:
            W, b = first
            K = len(W)
        else:
            W, b = _matrix(rng, K, n, draw), [draw(rng) for _ in range(K)]
        act = _activation(rng, K, K, draw)
        recipe.append(("dense", W, b))
        recipe.append(act)
        n = K
    out = rng.choice([1, 1, 2])
    recipe.append(("dense", _matrix(rng, out, n, draw), [draw(rng) for _ in range(out)]))
    return recipe


def _fam_generic(rng, D):
    recipe = _plain_recipe(rng, D, _pick_widths(rng, D), _gauss)
    recipe = [op + ("float",) if op[0] == "dense" else op for op in recipe]
    return recipe, None


def _fam_int(rng, D):
    return _plain_recipe(rng, D, _pick_widths(rng, D), _int), None


def _fam_dyadic(rng, D):
    return _plain_recipe(rng, D, _pick_widths(rng, D), _dyadic), None


def _random_point(rng, lo, hi, kind=None) -> list[Fraction]:
    kind = kind or rng.choice(["interior", "corner", "face"])
    D = len(lo)
    if kind == "corner":
        return [rng.choice([lo[i], hi[i]]) for i in range(D)]
    p = [lo[i] + (hi[i] - lo[i]) * F(rng.randint(1, 7), 8) for i in range(D)]
    if kind == "face":
        i = rng.randrange(D)
        p[i] = rng.choice([lo[i], hi[i]])
    return p


def _through(rng, W_row, p) -> Fraction:
    return -sum((w * x for w, x in zip(W_row, p)), F(0))


def _nonzero_row(rng, n, draw) -> list[Fraction]:
    while True:
        row = [draw(rng) for _ in range(n)]
        if any(row):
            return row


def _fam_concurrent(rng, D, lo, hi):
    widths = _pick_widths(rng, D)
    K = max(widths[0], min(D + 1, _MAX_WIDTH[D]))
    widths[0] = K
    p = _random_point(rng, lo, hi)
    W = [_nonzero_row(rng, D, _int) for _ in range(K)]
    n_conc = rng.randint(max(2, K - 1), K) if K >= 2 else K
    b = [_through(rng, W[i], p) if i < n_conc else _dyadic(rng) for i in range(K)]
    return _plain_recipe(rng, D, widths, _int, first=(W, b)), None


def _fam_corner(rng, D, lo, hi):
    widths = _pick_widths(rng, D)
    K = widths[0]
    W, b = [], []
    for _ in range(K):
        c = _random_point(rng, lo, hi, "corner")
        if rng.random() < 0.5:  # touching only: the corner is the unique maximiser of w . x
            row = [F(rng.randint(1, 3)) * (1 if c[i] == hi[i] else -1) for i in range(D)]
            if rng.random() < 0.5:
                row = [-v for v in row]
        else:
            row = _nonzero_row(rng, D, _int)
        W.append(row)
        b.append(_through(rng, row, c))
    return _plain_recipe(rng, D, widths, _dyadic, first=(W, b)), None


def _fam_parallel(rng, D, lo, hi):
    widths = _pick_widths(rng, D)
    K = max(widths[0], 2)
    widths[0] = K
    base = [(_nonzero_row(rng, D, _int), _dyadic(rng)) for _ in range(max(1, K // 2))]
    W, b = [], []
    for i in range(K):
        w, c = base[i % len(base)] if i < len(base) else rng.choice(base)
        mode = "same" if i < len(base) else rng.choice(["dup", "scaled", "negated", "shift", "negdup"])
        if mode in ("same", "dup"):
            W.append(list(w)); b.append(c)
        elif mode == "scaled":
            s = rng.choice([F(2), F(1, 2), F(3)])
            W.append([s * v for v in w]); b.append(s * c)
        elif mode == "negated":  # same hyperplane, opposite side
            W.append([-v for v in w]); b.append(-c)
        elif mode == "negdup":
            s = rng.choice([F(-2), F(-1, 3)])
            W.append([s * v for v in w]); b.append(s * c)
        else:
            W.append(list(w)); b.append(c + _dyadic(rng) / 2)
    return _plain_recipe(rng, D, widths, _dyadic, first=(W, b)), None


def _fam_zero_rows(rng, D, lo, hi):
    widths = _pick_widths(rng, D)
    recipe = _plain_recipe(rng, D, widths, _int)
    dense = [i for i, op in enumerate(recipe) if op[0] == "dense"]
    for i in dense:
        W, b = [list(r) for r in recipe[i][1]], list(recipe[i][2])
        for k in range(len(W)):
            if rng.random() < 0.35:
                W[k] = [F(0)] * len(W[k])
                b[k] = rng.choice([F(0), F(0), F(1, 2), F(-1)])
        if rng.random() < 0.3 and len(W[0]) > 1:  # a zero column: a prism
            j = rng.randrange(len(W[0]))
            for row in W:
                row[j] = F(0)
        recipe[i] = ("dense", W, b)
    # identical pieces: leaky ReLU of slope 1, or a MASO with a repeated piece
    for i, op in enumerate(recipe):
        if op[0] == "leaky" and rng.random() < 0.5:
            recipe[i] = ("leaky", F(1))
        if op[0] == "maso" and rng.random() < 0.7:
            A = [[list(p) for p in u] for u in op[1]]
            B = [list(u) for u in op[2]]
            for u in range(len(A)):
                r, s = rng.sample(range(len(A[u])), 2)
                A[u][s] = list(A[u][r])
                B[u][s] = B[u][r] + rng.choice([F(0), F(0), F(1), F(-1)])
            recipe[i] = ("maso", A, B)
    return recipe, None


def _act_value(op, z: list[Fraction]) -> list[Fraction]:
    name = op[0]
    if name == "relu":
        return [max(F(0), v) for v in z]
    if name == "abs":
        return [abs(v) for v in z]
    if name == "leaky":
        return [max(op[1] * v, v) for v in z]
    A, B = op[1], op[2]
    return [max(sum((a * x for a, x in zip(p, z)), F(0)) + o for p, o in zip(ua, ub)) for ua, ub in zip(A, B)]


def _fam_deep_concurrent(rng, D, lo, hi):
    """Later units through a vertex of the first layer's arrangement (or a box corner), or
    reading one earlier unit alone (its pre-activation vanishes on a half-space)."""
    widths = _pick_widths(rng, D)
    if len(widths) < 2:
        widths.append(rng.randint(1, 2))
    widths[0] = max(widths[0], min(D, _MAX_WIDTH[D]))
    recipe = _plain_recipe(rng, D, widths, _int)
    # a point where D first-layer hyperplanes meet: solve by making them pass through p
    p = _random_point(rng, lo, hi, rng.choice(["interior", "corner"]))
    W0, b0 = recipe[0][1], list(recipe[0][2])
    for k in range(min(D, len(W0))):
        b0[k] = _through(rng, W0[k], p)
    recipe[0] = ("dense", W0, b0)
    z = _act_value(recipe[1], [sum((w * x for w, x in zip(row, p)), bi) for row, bi in zip(W0, b0)])
    for i in range(2, len(recipe) - 1, 2):
        W, b = [list(r) for r in recipe[i][1]], list(recipe[i][2])
        for k in range(len(W)):
            if rng.random() < 0.3:  # read one earlier unit alone
                j = rng.randrange(len(W[k]))
                W[k] = [F(int(t == j)) * rng.choice([1, 2, -1]) for t in range(len(W[k]))]
                b[k] = F(0)
            else:  # through the point
                b[k] = -sum((w * v for w, v in zip(W[k], z)), F(0))
        recipe[i] = ("dense", W, b)
        pre = [sum((w * v for w, v in zip(row, z)), bi) for row, bi in zip(W, b)]
        z = _act_value(recipe[i + 1], pre) if recipe[i + 1][0] != "maso" else _act_value(recipe[i + 1], pre)
    return recipe, None


def _fam_maso_ties(rng, D, lo, hi):
    """Max-of-3 units whose pieces all pass through one point, or repeat, or differ by constants."""
    widths = _pick_widths(rng, D)
    p = _random_point(rng, lo, hi)
    recipe: list = []
    n = D
    z = p
    for i, K in enumerate(widths):
        A, B = [], []
        for _ in range(K):
            ua, ub = [], []
            for r in range(3):
                mode = rng.random()
                if r and mode < 0.25:
                    ua.append(list(ua[0])); ub.append(ub[0])
                elif r and mode < 0.45:
                    ua.append(list(ua[0])); ub.append(ub[0] + rng.choice([F(1), F(-1), F(1, 4)]))
                else:
                    a = [_int(rng) for _ in range(n)]
                    ua.append(a); ub.append(_through(rng, a, z) if rng.random() < 0.7 else _dyadic(rng))
            A.append(ua); B.append(ub)
        if i == 0:
            recipe.append(("maso", A, B))
        else:
            recipe.append(("dense", [[F(int(a == b_)) for b_ in range(n)] for a in range(n)], [F(0)] * n))
            recipe.append(("maso", A, B))
        z = _act_value(("maso", A, B), z)
        n = K
    recipe.append(("dense", _matrix(rng, 1, n, _int), [_int(rng)]))
    return recipe, None


def _fam_maxpool_input(rng, D, lo, hi):
    """MaxPool1d over the raw input (pieces x_i: hyperplanes x_i = x_j), then a small MLP."""
    D2 = max(D, 2)
    k = rng.choice([k for k in (2, 3) if k <= D2])
    recipe: list = [("maxpool", k)]
    n = D2 // k
    widths = _pick_widths(rng, D2)[:2]
    for K in widths:
        recipe.append(("dense", _matrix(rng, K, n, _int), [_dyadic(rng) for _ in range(K)]))
        recipe.append(_activation(rng, K, K, _int))
        n = K
    recipe.append(("dense", _matrix(rng, 1, n, _int), [F(0)]))
    return recipe, (1, D2)


_DEGENERATE = {
    "concurrent": _fam_concurrent,
    "corner": _fam_corner,
    "parallel": _fam_parallel,
    "zero_rows": _fam_zero_rows,
    "deep_concurrent": _fam_deep_concurrent,
    "maso_ties": _fam_maso_ties,
    "maxpool_input": _fam_maxpool_input,
}


def _perturb(rng: random.Random, recipe: list) -> list:
    """Add +-2^-e (e in 45..60) to some entries of the first layers (thin faces and slivers)."""
    out = []
    first = True
    for op in recipe:
        if op[0] in ("dense", "maso") and (first or rng.random() < 0.3):
            first = False
            def eps():
                return F(rng.choice([1, -1]), 2 ** rng.randint(45, 60))
            if op[0] == "dense":
                W = [[v + eps() if rng.random() < 0.25 else v for v in row] for row in op[1]]
                b = [v + eps() if rng.random() < 0.6 else v for v in op[2]]
                out.append(("dense", W, b))
            else:
                A = [[[v + eps() if rng.random() < 0.2 else v for v in p] for p in u] for u in op[1]]
                B = [[v + eps() if rng.random() < 0.5 else v for v in u] for u in op[2]]
                out.append(("maso", A, B))
        else:
            out.append(op)
    return out


_SCALES = [F(1e100), F(1e-100), F(1e300), F(1e-300), F(2) ** 400, F(1, 2**400)]


def _scale(rng: random.Random, recipe: list) -> list:
    """Multiply whole affine/MASO layers by huge or tiny factors (the regions do not change for
    ReLU/leaky/abs/max units, which are positively homogeneous)."""
    same = rng.random() < 0.4  # the same factor on every layer: products across layers
    s0 = rng.choice(_SCALES)
    out = []
    for op in recipe:
        if op[0] in ("dense", "maso"):
            s = s0 if same else rng.choice(_SCALES + [F(1)])
            if op[0] == "dense":
                out.append(("dense", [[s * v for v in row] for row in op[1]], [s * v for v in op[2]]))
            else:
                out.append(("maso", [[[s * v for v in p] for p in u] for u in op[1]], [[s * v for v in u] for u in op[2]]))
        else:
            out.append(op)
    return out


_HUGE = [F(1e200), F(-1e200), F(1e-200), F(-1e-200), F(1), F(-1), F(0), F(1e150), F(-1e-150)]


def _fam_mixed(rng, D, lo, hi):
    """Rows mixing 1e200 and 1e-200 (and 1, 0) entries."""
    def draw(r):
        return r.choice(_HUGE)
    return _plain_recipe(rng, D, _pick_widths(rng, D), draw), None


# name -> (category, weight)
FAMILIES: dict[str, tuple[str, float]] = {
    "generic": ("generic", 1.0),
    "int_grid": ("grid", 1.5),
    "dyadic_grid": ("grid", 1.0),
    **{name: ("degenerate", 1.0) for name in _DEGENERATE},
    "perturbed": ("near_degenerate", 3.0),
    "scaled": ("magnitude", 1.5),
    "mixed": ("magnitude", 1.0),
}


def make_case(seed: int, family: str | None = None, *, D: int | None = None) -> Case:
    """The case of this seed (the family and the dimension are drawn from the seed unless given)."""
    rng = random.Random(seed)
    names = list(FAMILIES)
    fam = family or rng.choices(names, weights=[FAMILIES[n][1] for n in names])[0]
    if fam not in FAMILIES:
        raise ValueError(f"unknown family {fam!r}; expected one of {names}")
    D = D or _pick_dim(rng)
    lo, hi = _pick_box(rng, D)
    category, _ = FAMILIES[fam]
    name = fam
    degenerate = category == "degenerate"
    if fam == "generic":
        recipe, shape = _fam_generic(rng, D)
    elif fam == "int_grid":
        recipe, shape = _fam_int(rng, D)
    elif fam == "dyadic_grid":
        recipe, shape = _fam_dyadic(rng, D)
    elif fam == "mixed":
        recipe, shape = _fam_mixed(rng, D, lo, hi)
    elif fam in _DEGENERATE:
        recipe, shape = _DEGENERATE[fam](rng, D, lo, hi)
    else:  # perturbed / scaled: a variant of a degenerate (or, for scaled, any) base
        bases = list(_DEGENERATE) if fam == "perturbed" else list(_DEGENERATE) + ["int_grid", "dyadic_grid"]
        base = rng.choice(bases)
        if base in _DEGENERATE:
            recipe, shape = _DEGENERATE[base](rng, D, lo, hi)
            degenerate = True
        else:
            recipe, shape = (_fam_int if base == "int_grid" else _fam_dyadic)(rng, D)
        recipe = _perturb(rng, recipe) if fam == "perturbed" else _scale(rng, recipe)
        name = f"{fam}:{base}"
    if shape is not None:
        D = shape[1]
        lo, hi = (lo + lo[:1] * D)[:D], (hi + hi[:1] * D)[:D]
    case = Case(seed, name, category, degenerate, D, lo, hi, recipe, shape)
    case.layers = fold_recipe(recipe, D)
    return case


# ---------------------------------------------------------------------------------------------
# comparison
# ---------------------------------------------------------------------------------------------


class CaseTimeout(Exception):
    pass


def _alarm(seconds: float | None):
    class _Guard:
        def __enter__(self):
            if seconds:
                def handler(signum, frame):
                    raise CaseTimeout(f"case took more than {seconds} s")
                self.old = signal.signal(signal.SIGALRM, handler)
                signal.setitimer(signal.ITIMER_REAL, seconds)
            return self

        def __exit__(self, *exc):
            if seconds:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, self.old)
            return False

    return _Guard()


def _primitive_le(a: Sequence, b) -> tuple[int, ...]:
    """``a . x <= b`` as the primitive integer row of ``-a . x + b >= 0`` (the oracle's form)."""
    vals = [-F(v) for v in a] + [F(b)]
    den = math.lcm(*(v.denominator for v in vals))
    ints = [v.numerator * (den // v.denominator) for v in vals]
    g = math.gcd(*ints)
    return tuple(v // g for v in ints) if g > 1 else tuple(ints)


def _short(e: BaseException) -> str:
    msg = str(e).splitlines()[0] if str(e) else ""
    return f"{type(e).__name__}: {msg[:160]}"


def _code_str(code) -> str:
    return "|".join("".join(map(str, layer)) for layer in code)


def check_layers(
    layers: Sequence,
    lo: Sequence,
    hi: Sequence,
    *,
    net: em.Network | None = None,
    oracle: OracleResult | None = None,
    time_limit: float | None = 60.0,
    verify: bool = True,
    input_shape: Sequence[int] | None = None,
) -> tuple[list[Mismatch], dict]:
    """Compare ``em.regions(net, em.Box(lo, hi))`` with the oracle on ``layers`` (MASO form).

    ``net`` defaults to :func:`net_from_layers`.  Returns the mismatches and some figures
    (times, counts)."""
    info: dict = {}
    out: list[Mismatch] = []
    t0 = time.perf_counter()
    if oracle is None:
        try:
            oracle = oracle_regions(layers, lo, hi)
        except CaseTimeout:
            raise
        except Exception as e:  # the oracle must not fail
            return [Mismatch("oracle_exception", _short(e) + " " + traceback.format_exc(limit=-2).replace("\n", " "))], info
    info["oracle_s"] = time.perf_counter() - t0
    info["regions"] = len(oracle.regions)
    info["edges"] = len(oracle.edges)
    stage = "build"
    t0 = time.perf_counter()
    try:
        if net is None:
            net = net_from_layers(layers, input_shape)
        stage = "regions"
        part = em.regions(net, em.Box(list(lo), list(hi)), time_limit=time_limit)
        info["em_regions_s"] = time.perf_counter() - t0
        stage = "compare"
        got = {}
        for r in part:
            got[r.code] = r
        if len(got) != len(part):
            out.append(Mismatch("codes", f"{len(part)} regions but {len(got)} distinct codes"))
        want = oracle.by_code()
        if len(part) != len(want):
            out.append(Mismatch("count", f"oracle {len(want)} regions, exactmaso {len(part)}"))
        missing = sorted(set(want) - set(got))
        extra = sorted(set(got) - set(want))
        if missing or extra:
            out.append(Mismatch("codes", f"missing {[_code_str(c) for c in missing[:4]]} ({len(missing)}), "
                                         f"extra {[_code_str(c) for c in extra[:4]]} ({len(extra)})"))
        bad: dict[str, list[str]] = {"affine": [], "vertices": [], "volume": [], "hrep": []}
        for code in sorted(set(want) & set(got)):
            o, r = want[code], got[code]
            stage = "region data"
            A = [[F(v) for v in row] for row in r.affine.A]
            b = [F(v) for v in r.affine.b]
            if A != [list(row) for row in o.A] or b != list(o.b):
                bad["affine"].append(_code_str(code))
            verts = {tuple(F(v) for v in row) for row in r.vertices()}
            if verts != set(o.vertices):
                bad["vertices"].append(f"{_code_str(code)} ({len(verts)} vertices, oracle {len(o.vertices)})")
            vol = F(r.volume())
            if vol != o.volume:
                bad["volume"].append(f"{_code_str(code)} ({float(vol):.6g}, oracle {float(o.volume):.6g})")
            P = r.polytope
            rows = {_primitive_le(P.A[i], P.b[i]) for i in range(P.A.shape[0])}
            if rows != set(o.rows) or P.A.shape[0] != len(o.rows):
                bad["hrep"].append(f"{_code_str(code)} ({P.A.shape[0]} facets, oracle {len(o.rows)})")
        for kind, items in bad.items():
            if items:
                out.append(Mismatch(kind, f"{len(items)} regions differ, e.g. {items[0]}"))
        stage = "graph"
        t1 = time.perf_counter()
        G = part.graph
        info["em_graph_s"] = time.perf_counter() - t1
        edges = {frozenset((part[i].code, part[j].code)) for i, j in G.edges}
        miss = oracle.edges - edges
        extra_e = edges - oracle.edges
        if miss:
            ex = sorted(tuple(sorted(p)) for p in miss)[0]
            out.append(Mismatch("edges_missing", f"{len(miss)} of {len(oracle.edges)} oracle edges missing, e.g. {_code_str(ex[0])} -- {_code_str(ex[-1])}"))
        if extra_e:
            ex = sorted(tuple(sorted(p)) for p in extra_e)[0]
            out.append(Mismatch("edges_extra", f"{len(extra_e)} edges not in the oracle, e.g. {_code_str(ex[0])} -- {_code_str(ex[-1])}"))
        stage = "graph recovery"
        H = recover_adjacency(part)
        rec_edges = {frozenset((i, j)): d["units"] for i, j, d in H.edges(data=True)}
        eng_edges = {frozenset((i, j)): d["units"] for i, j, d in G.edges(data=True)}
        if rec_edges != eng_edges:
            out.append(Mismatch("edges_recovery", f"the engine's graph and the recovery from facets differ: "
                                f"{len(set(rec_edges) - set(eng_edges))} edges only recovered, "
                                f"{len(set(eng_edges) - set(rec_edges))} only from the engine, "
                                f"{sum(rec_edges[e] != eng_edges[e] for e in set(rec_edges) & set(eng_edges))} with other units"))
        if verify:
            stage = "verify"
            t1 = time.perf_counter()
            try:
                part.verify()
                if out:
                    out.append(Mismatch("verify_passed_wrong", "verify() passed on a partition that differs from the oracle: "
                                        + ", ".join(sorted({m.kind for m in out}))))
            except em.CertificateError as e:
                out.append(Mismatch("verify_failed", _short(e)))
            info["em_verify_s"] = time.perf_counter() - t1
    except CaseTimeout:
        raise
    except em.LimitError as e:
        out.append(Mismatch("limit", f"{stage}: {_short(e)}"))
    except Exception as e:
        out.append(Mismatch("exception", f"{stage}: {_short(e)}"))
    return out, info


def _compile_mismatch(net: em.Network, layers: list) -> Mismatch | None:
    got = layers_of_net(net)
    if len(got) != len(layers):
        return Mismatch("compile", f"net.masos has {len(got)} layers; the recipe folds to {len(layers)}")
    for l, ((A1, B1), (A2, B2)) in enumerate(zip(got, layers)):
        if A1 != [[list(p) for p in u] for u in A2] or B1 != [list(u) for u in B2]:
            return Mismatch("compile", f"layer {l}: net.masos differs from the recipe's independent fold")
    return None


def check_case(case: Case, *, time_limit: float | None = 60.0, case_timeout: float | None = None) -> tuple[list[Mismatch], dict]:
    """Build the case in exactmaso (through the layer constructors) and compare with the oracle."""
    with _alarm(case_timeout):
        try:
            net = build_net(case)
        except Exception as e:
            return [Mismatch("exception", f"build: {_short(e)}")], {}
        mm = _compile_mismatch(net, case.layers)
        try:
            out, info = check_layers(case.layers, case.lo, case.hi, net=net, time_limit=time_limit)
        except CaseTimeout as e:
            return [Mismatch("timeout", str(e))], {}
    if mm is not None:
        out.insert(0, mm)
    return out, info


# ---------------------------------------------------------------------------------------------
# JSON cases and fixtures
# ---------------------------------------------------------------------------------------------


def _s(v) -> str:
    v = F(v)
    return f"{v.numerator}/{v.denominator}" if v.denominator != 1 else str(v.numerator)


def layers_to_json(layers: Sequence) -> list:
    return [{"A": [[[_s(v) for v in p] for p in u] for u in A], "B": [[_s(v) for v in u] for u in B]} for A, B in layers]


def layers_from_json(data: Sequence) -> list:
    return [([[[F(v) for v in p] for p in u] for u in L["A"]], [[F(v) for v in u] for u in L["B"]]) for L in data]


def case_to_json(case: Case, mismatches: Sequence[Mismatch]) -> dict:
    return {
        "seed": case.seed,
        "family": case.family,
        "category": case.category,
        "degenerate": case.degenerate,
        "D": case.D,
        "box": {"lo": [_s(v) for v in case.lo], "hi": [_s(v) for v in case.hi]},
        "layers": layers_to_json(case.layers),
        "input_shape": list(case.input_shape) if case.input_shape else None,
        "mismatches": [{"kind": m.kind, "detail": m.detail} for m in mismatches],
    }


def load_json(path: str | Path) -> tuple[list, list, list, dict]:
    """(layers, lo, hi, the whole record) of a saved case or fixture."""
    data = json.loads(Path(path).read_text())
    lo = [F(v) for v in data["box"]["lo"]]
    hi = [F(v) for v in data["box"]["hi"]]
    return layers_from_json(data["layers"]), lo, hi, data


def oracle_expectations(layers: Sequence, lo: Sequence, hi: Sequence) -> dict:
    """What a regression fixture expects, from the oracle only."""
    res = oracle_regions(layers, lo, hi)
    return {
        "regions": len(res.regions),
        "edges": len(res.edges),
        "codes": [[list(layer) for layer in r.code] for r in res.regions],
        "volumes": [_s(r.volume) for r in res.regions],
        "edge_codes": sorted([[list(l) for l in c] for c in sorted(p)] for p in res.edges),
    }


# ---------------------------------------------------------------------------------------------
# minimisation
# ---------------------------------------------------------------------------------------------


def _drop_unit(layers, l, k):
    A, B = layers[l]
    new = list(layers)
    new[l] = ([u for i, u in enumerate(A) if i != k], [u for i, u in enumerate(B) if i != k])
    if l + 1 < len(layers):
        A2, B2 = layers[l + 1]
        new[l + 1] = ([[[v for i, v in enumerate(p) if i != k] for p in u] for u in A2], B2)
    return new


def _drop_layer(layers, l):
    """Remove hidden layer l; the next layer's slopes are cut or padded with zeros to fit."""
    n_in = len(layers[l][0][0][0])
    new = list(layers[:l]) + list(layers[l + 1:])
    A2, B2 = new[l]
    fit = [[(list(p[:n_in]) + [F(0)] * n_in)[:n_in] for p in u] for u in A2]
    new[l] = (fit, B2)
    return new


def _drop_input(layers, lo, hi, j):
    A, B = layers[0]
    new = [([[[v for i, v in enumerate(p) if i != j] for p in u] for u in A], B)] + list(layers[1:])
    return new, [v for i, v in enumerate(lo) if i != j], [v for i, v in enumerate(hi) if i != j]


def _drop_piece(layers, l, r):
    A, B = layers[l]
    new = list(layers)
    new[l] = ([[p for i, p in enumerate(u) if i != r] for u in A], [[v for i, v in enumerate(u) if i != r] for u in B])
    return new


def _simpler(v: Fraction) -> list[Fraction]:
    """Candidate simpler values for one entry (shorter literals, see :func:`_cost`), simplest first."""
    out = [F(0)]
    if v != 0:
        sign = 1 if v > 0 else -1
        out += [F(sign)]
        r = F(round(v))
        if r != 0:
            out.append(r)
        for den in (2, 4, 8, 16):
            out.append(F(round(v * den), den))
        e = abs(v.numerator).bit_length() - v.denominator.bit_length()  # |v| ~ 2^e
        if abs(e) >= 10:
            for e2 in (e, e // 2, e // 4, e // 8):
                out.append(sign * F(2) ** e2)
            d = round(e * 0.30103)  # the nearest decade, and rounder ones below it
            for d2 in sorted({d, 300 * (d // 300), 100 * (d // 100), 50 * (d // 50), 10 * (d // 10)} - {0}, key=abs):
                if abs(d2) <= 307:
                    out.append(sign * F(10.0 ** d2))
    seen, res = set(), []
    for c in out:
        if c not in seen and c != v and _cost(c) < _cost(v):
            seen.add(c)
            res.append(c)
    return sorted(res, key=_cost)


def _cost(v: Fraction) -> int:
    """How long the number reads in a reproduction (its literal, see :func:`_lit`)."""
    return len(_lit(v))


def _layers_cost(layers) -> int:
    return sum(_cost(F(v)) for A, B in layers for u in A for p in u for v in p) + sum(_cost(F(v)) for _, B in layers for u in B for v in u)


def minimise(
    layers: list,
    lo: list,
    hi: list,
    fails: Callable[[list, list, list], bool],
    *,
    budget_s: float = 600.0,
    log: Callable[[str], None] | None = None,
) -> tuple[list, list, list]:
    """Greedy reduction of a failing case: drop layers, units, pieces, inputs; then simplify
    every number; repeat while ``fails(layers, lo, hi)`` stays true (and the budget lasts)."""
    start = time.perf_counter()

    def ok(cand) -> bool:
        if time.perf_counter() - start > budget_s:
            return False
        try:
            return fails(*cand)
        except Exception:
            return False

    cur = (layers, lo, hi)
    changed = True
    while changed and time.perf_counter() - start < budget_s:
        changed = False
        L, lo_, hi_ = cur
        cands = []
        for l in range(len(L) - 1):
            if l + 1 < len(L):
                cands.append(("drop layer", (_drop_layer(L, l), lo_, hi_)))
        for l in range(len(L)):
            if len(L[l][0]) > 1:
                for k in range(len(L[l][0])):
                    cands.append((f"drop unit {l}.{k}", (_drop_unit(L, l, k), lo_, hi_)))
        for l in range(len(L)):
            R = len(L[l][0][0])
            if R > 1 and all(len(u) == R for u in L[l][0]):
                for r in range(R):
                    cands.append((f"drop piece {l}.{r}", (_drop_piece(L, l, r), lo_, hi_)))
        if len(lo_) > 1:
            for j in range(len(lo_)):
                cands.append((f"drop input {j}", _drop_input(L, lo_, hi_, j)))
        for name, cand in cands:
            if ok(cand):
                cur = cand
                changed = True
                if log:
                    log(f"minimise: {name}")
                break
        if changed:
            continue
        # numbers: the box, then every entry
        for j in range(len(lo_)):
            for new_lo, new_hi in ((F(-1), F(1)), (F(0), F(1))):
                if (lo_[j], hi_[j]) != (new_lo, new_hi):
                    cand = (L, lo_[:j] + [new_lo] + lo_[j + 1:], hi_[:j] + [new_hi] + hi_[j + 1:])
                    if _cost(new_lo) + _cost(new_hi) <= _cost(lo_[j]) + _cost(hi_[j]) and ok(cand):
                        cur = cand
                        changed = True
                        break
            if changed:
                break
        if changed:
            continue
        for l, (A, B) in enumerate(L):
            for k in range(len(A)):
                for r in range(len(A[k])):
                    for i in range(len(A[k][r]) + 1):
                        v = A[k][r][i] if i < len(A[k][r]) else B[k][r]
                        for c in _simpler(F(v)):
                            A2 = [[list(p) for p in u] for u in A]
                            B2 = [list(u) for u in B]
                            if i < len(A[k][r]):
                                A2[k][r][i] = c
                            else:
                                B2[k][r] = c
                            new = list(L)
                            new[l] = (A2, B2)
                            if ok((new, lo_, hi_)):
                                cur = (new, lo_, hi_)
                                changed = True
                                L = new
                                A, B = A2, B2
                                break
        if log and changed:
            log(f"minimise: numbers simplified (cost {_layers_cost(cur[0])})")
    return cur


# ---------------------------------------------------------------------------------------------
# a one-line reproduction in exactmaso's public API
# ---------------------------------------------------------------------------------------------


def _lit(v) -> str:
    """A short exact Python literal of a rational: int, 2**k, an exact float, or a "p/q" string."""
    v = F(v)
    if v.denominator == 1 and abs(v) < 10**6:
        return str(v.numerator)
    for sign, a in ((1, v), (-1, -v)):
        if a > 0 and a.numerator & (a.numerator - 1) == 0 and a.denominator & (a.denominator - 1) == 0 and (a.numerator == 1 or a.denominator == 1):
            k = a.numerator.bit_length() - 1 if a.denominator == 1 else -(a.denominator.bit_length() - 1)
            if abs(k) >= 10:
                return f"{'-' if sign < 0 else ''}2**{k}" if k > 0 else f"{'-' if sign < 0 else ''}2**({k})"
    try:
        f = float(v)
        if F(f) == v and len(repr(f)) <= 22:
            return repr(f)
    except OverflowError:
        pass
    return f"'{v.numerator}/{v.denominator}'"


def _vec(vs) -> str:
    return "[" + ", ".join(_lit(v) for v in vs) + "]"


def _mat(rows) -> str:
    return "[" + ", ".join(_vec(r) for r in rows) + "]"


def reproduction(layers: Sequence, lo: Sequence, hi: Sequence, input_shape: Sequence[int] | None = None) -> str:
    """``net = em.mlp(...)`` when every hidden layer is one elementwise activation of a Dense
    layer (ReLU, leaky ReLU, abs), else ``em.Network.from_masos([...])``; then the regions call."""
    box = f"em.Box({_vec(lo)}, {_vec(hi)})"
    hidden, last = layers[:-1], layers[-1]
    act = None
    ok = all(len(u) == 1 for u in last[0]) and not input_shape
    Ws, bs = [], []
    for A, B in hidden:
        if not ok:
            break
        W, b = [], []
        for ua, ub in zip(A, B):
            if len(ua) != 2:
                ok = False
                break
            w, c = ua[1], ub[1]
            if any(w) or c:
                nz = next(i for i, x in enumerate(list(w) + [c]) if x)
                s = (list(ua[0]) + [ub[0]])[nz] / (list(w) + [c])[nz]
            else:
                s = None
            if s is not None and ([s * x for x in w] != list(ua[0]) or s * c != ub[0]):
                ok = False
                break
            if s is not None:
                if act is None:
                    act = s
                elif act != s:
                    ok = False
                    break
            W.append(list(w))
            b.append(c)
        Ws.append(W)
        bs.append(b)
    if ok:
        Ws.append([list(u[0]) for u in last[0]])
        bs.append([u[0] for u in last[1]])
        a = act if act is not None else F(0)
        name = {F(0): '"relu"', F(-1): '"abs"'}.get(a, f"em.LeakyReLU({_lit(a)})")
        act_arg = f", activation={name}" if hidden else ""
        net = f"em.mlp([{', '.join(_mat(W) for W in Ws)}], [{', '.join(_vec(b) for b in bs)}]{act_arg})"
    else:
        masos = ", ".join(f"em.MASO([{', '.join(_mat(u) for u in A)}], {_mat(B)})" for A, B in layers)
        shape = f", input_shape={tuple(input_shape)}" if input_shape else ""
        net = f"em.Network.from_masos([{masos}]{shape})"
    return f"net = {net}; part = em.regions(net, {box})"
