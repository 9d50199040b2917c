"""Branch and bound for the exact maximum of ``c . f(x) + d`` over a box.

Nodes are boxes with *phases*: the signs of some two-piece units' cuts (a ReLU's
pre-activation ``h >= 0`` or ``<= 0``) on that branch.  Rigorous float bound propagation
(:mod:`exactmaso.prove.relax`) gives each node a sound upper bound and a promising box
vertex, where the exact network gives a value: the best value so far is exact and attained.
A node whose bound does not exceed the best value is closed.  A node on which every unit is
decided is affine: its maximum is a small exact linear program (:mod:`exactmaso.prove.lpexact`)
whose optimal multipliers close it with the exact value.  Other nodes are split: a box with
many undecided units along one coordinate (the one that moves the linear bound most), a box
with few by the sign of one undecided unit of the earliest layer that has one.

Some nodes are decided exactly instead, by the linear regions of their box
(:func:`exactmaso.regions`, at most ``REGION_CAP`` of them): the maximum over the regions'
vertices is the exact maximum over the box, so the node closes with it (a ``"regions"``
leaf).  Linear bounds close a box that holds a point attaining the best value only once they
are exact there, which they never are where the best is attained where many units switch (a
bias-free network at the origin) or on a whole piece (two networks that are the same
function).  So in a pure maximisation a box without phases that attains the best is decided
by its regions before it is branched on units, or after ``ATTAIN_STREAK`` generations (split
by the box, not by units, while its regions are too many); so is a node at depth
``EXACT_DEPTH`` or more, and one whose float closure the exact bounds refused (below).

The float bounds and the checker's exact ones differ by rounding, which moves a bound by as
little, except where a choice of the relaxation sits on a tie and rounding flips it
(:meth:`exactmaso.prove.relax.FloatModel.ties`: a unit pinned at 0, a lower line at
``u = -l``, ...): the checker then bounds the node with the other, equally sound, relaxation.
Such a node, and every node below it, closes only when the checker's own computation
(:func:`exactmaso.prove.checker.leaf_value`, on the checker's exact bounds of the node's
branch) closes it too; a unit pinned at 0 by its phase takes its phase's piece on both sides.

Every decision rests on rigorous bounds, so the maximum returned is proven; the tree of
splits and branches with its leaves is the certificate, which
:func:`exactmaso.prove.checker.check_bound` re-checks from scratch in exact rational
arithmetic (the same relaxations, no floats).
"""

from __future__ import annotations

import heapq
import itertools
import sys
import time
from fractions import Fraction
from typing import Any, Sequence

import numpy as np

from ..engine.kernel import Exact
from ..errors import CertificateError, ExactMasoError, LimitError
from ..lp import LPStatus, solve_lp
from ..maso import Network
from ..numbers import to_float_array, to_fraction_array
from . import checker
from .lpexact import maximize_over_box
from .relax import TIE, Batch, FloatModel, float_and_error
from .triangle import triangle_slopes

__all__ = ["Maximum", "maximize", "BRANCH_UNITS"]

BRANCH_UNITS = 12  # a node with at most this many undecided units is split by units, not by the box
MAX_DEPTH = 400  # deeper certificates nest past what JSON readers accept (about 1000 levels)
RELATIVE_WIDTH_FLOOR = 1e-4  # trial splits skip coordinates this much narrower than the widest
TRIAL_SPLIT_DIMS = 8  # a box of at most this many open coordinates tries each one before splitting
# the search for good points before branching: random points, the best polished uphill
PROBE_SAMPLES, PROBE_POLISH, PROBE_ROUNDS, PROBE_STEP, PROBE_OFFERS = 4096, 32, 60, 0.05, 8
PROBE_POLISH_DIMS = 16  # boxes of more dimensions keep their random points unpolished
PROBE_FLOATS = 2_000_000  # at most this many sampled coordinates (100,000 points in 20-D, 2,551 in 784-D)
SHORTLIST = 2  # halvings per node bounded in full: the best by cheap bounds (and the widest)
GROUP = 16  # open nodes taken from the queue and bounded together
SLOPE_REFRESH = 2  # an open node whose lower slopes come from this many generations up solves its own triangle LP
SLOPE_LIFE = 2  # slopes are inherited by this many generations below the node whose LP gave them
SLOPE_UNITS = 25  # only nodes with at most this many undecided units solve a triangle LP (more: slower on ACAS Xu)
REGION_CAP = 64  # a node is decided by the linear regions of its box only if it has at most this many
REGION_SAMPLES = 4 * REGION_CAP  # random points whose float patterns can show a box has more regions than that
REGION_TEXT = 1 << 16  # and they take at most this many characters of certificate (they list their vertices)
ATTAIN_STREAK = 3  # generations of boxes attaining the best value before one is decided by its regions
EXACT_DEPTH = 40  # a node this deep that the bounds leave open is decided by its regions (when they are few)
STOP_SECONDS = 0.1  # a search stopped by a limit bounds boxes on a tie exactly this long (and one box more)
PROBE_CHUNK = 8192  # points valued at a time by the probe (its deadline is checked between them)


class _Node:
    __slots__ = ("lo", "hi", "flo", "fhi", "phases", "parent", "kind", "split", "branch", "children", "fb", "ub", "ups", "guess",
                 "row", "cx", "mult", "value", "depth", "lam", "alpha", "aw", "alpha_depth", "alpha_here",
                 "use_alpha", "bi", "ub_plain", "tie", "xb", "refused", "attain", "top", "block", "partition")

    def __init__(self, lo, hi, phases, parent) -> None:
        self.lo, self.hi = lo, hi
        self.flo, self.fhi = to_float_array(np.array(lo, dtype=object)), to_float_array(np.array(hi, dtype=object))
        self.phases = phases
        self.parent = parent
        self.depth = 0 if parent is None else parent.depth + 1
        self.kind = "open"  # open, split, branch, bound, empty, regions (the last three closed)
        self.split = self.branch = None
        self.children: list[_Node] = []
        self.fb = None
        self.ub = None  # the rigorous upper bound, once bounded
        self.guess = None  # a float point worth valuing (the mixture LP's optimum)
        self.ups = None  # (index in its batch, and every functional's linear bound there)
        self.row = None
        self.cx = 0.0
        self.mult: list[tuple] = []
        self.value = None
        self.lam = None  # the weights of the functionals whose combination bounds the node
        # lower slopes (per layer None or (K,) floats, NaN: the default) from the triangle LP
        # of this node or of an ancestor (alpha_depth deep), with that LP's weights of the
        # functionals; alpha_here: the LP was this node's; use_alpha: the bound ub uses them
        if parent is None:
            self.alpha = self.aw = None
            self.alpha_depth = 0
        elif parent.alpha is not None and parent.depth + 1 - parent.alpha_depth <= SLOPE_LIFE:
            self.alpha, self.aw, self.alpha_depth = parent.alpha, parent.aw, parent.alpha_depth
        else:  # slopes from too far up fit this box badly (and bias the choice of splits)
            self.alpha = self.aw = None
            self.alpha_depth = 0
        self.alpha_here = self.use_alpha = False
        self.bi = None  # its index in the batch that bounded it
        self.ub_plain = None  # its bound without lower slopes (what the choice of its split compares)
        # a float choice of its relaxation, or of an ancestor's, sits on a tie: it closes only
        # when the checker's exact bounds (xb, its own, computed on demand) close it too
        self.tie = parent is not None and parent.tie
        self.xb = None
        self.refused = None  # the threshold at which the float bounds closed it and the exact ones did not
        self.attain = 0  # generations (this one included) whose boxes attained the best value
        self.top = None  # the best exact value seen at a point of its box
        # (undecided units, depth) of a failed attempt to decide it by its regions above it
        self.block = None if parent is None else parent.block
        self.partition = None  # a regions leaf's regions, as certificate data

    def tree(self, cut: frozenset = frozenset()) -> dict:
        """The certificate's tree below this node (built without recursion: trees get deep),
        the nodes whose ids are in ``cut`` written as bound leaves (their subtrees left out).
        A node's lower slopes are written only if a leaf takes them (see :meth:`slope_users`)."""
        used = self.slope_users(cut)
        root: dict = {}
        stack = [(self, root)]
        while stack:
            node, out = stack.pop()
            if node.alpha_here and id(node) in used:
                out["alpha"] = node.alpha_json()
            if node.kind in ("split", "branch") and id(node) not in cut:
                if node.kind == "split":
                    j, t = node.split
                    out["split"] = [j, checker.format_q(t)]
                else:
                    out["branch"] = list(node.branch)
                out["children"] = [{}, {}]
                stack.extend(zip(node.children, out["children"]))
                continue
            out.update(node.leaf_json())
        return root

    def slope_users(self, cut: frozenset = frozenset()) -> set[int]:
        """The ids of the nodes below this one (itself included) whose lower slopes some leaf
        takes: a bound leaf with ``use_alpha`` takes those of the nearest node at or above it
        that gives them (the nodes in ``cut`` are leaves).  The others' slopes are never read
        by the checker (a split, branch, empty or regions node below them either does not use
        slopes or has nearer ones)."""
        used: set[int] = set()
        stack = [(self, None)]
        while stack:
            node, owner = stack.pop()
            if node.alpha_here:
                owner = id(node)
            if node.kind in ("split", "branch") and id(node) not in cut:
                stack.extend((kid, owner) for kid in node.children)
            elif node.use_alpha and node.kind not in ("empty", "regions") and owner is not None:
                used.add(owner)
        return used

    def leaf_json(self) -> dict:
        """The node as a leaf of the certificate (an open one as a bound leaf)."""
        if self.kind == "regions":
            return {"leaf": "regions", "partition": self.partition}
        out: dict = {"leaf": "empty" if self.kind == "empty" else "bound"}
        if self.lam is not None and self.kind != "empty":
            out["lambda"] = [checker.format_q(v) for v in self.lam]
        if self.use_alpha and self.kind != "empty":
            out["use_alpha"] = True
        if self.mult:
            out["multipliers"] = [[l, k, checker.format_q(y)] for l, k, y in self.mult]
        return out

    def alpha_json(self) -> list:
        """The lower slopes of its own triangle LP, as certificate data."""
        scale = float(1 << checker.ALPHA_BITS)
        return [[l, int(k), int(a * scale)] for l, al in enumerate(self.alpha) if al is not None
                for k in np.flatnonzero(np.isfinite(al)) for a in (al[k],)]


class Maximum:
    """The exact maximum of ``c . f + d`` over a box, a point attaining it, and the proof tree."""

    def __init__(self, value: Fraction, point: tuple, tree: dict, nodes: int, seconds: float) -> None:
        self.value, self.point, self.tree, self.nodes, self.seconds = value, point, tree, nodes, seconds


class _Search:
    def __init__(self, net: Network, lo, hi, c, d, *, time_limit, max_nodes, progress, target=None,
                 rows=(), start=None, reach_strictly=False, given_limit=None) -> None:
        self.net = net
        # the objective: c . f + d, or the minimum of several functionals (c is then a list of
        # (c_i, d_i) pairs and d is ignored)
        if c and isinstance(c[0], (tuple, list)) and len(c[0]) == 2 and isinstance(c[0][0], (list, tuple)):
            self.F = [([Fraction(v) for v in ci], Fraction(di)) for ci, di in c]
        else:
            self.F = [([Fraction(v) for v in c], Fraction(d))]
        self.c, self.d = self.F[0]
        self.multi = len(self.F) > 1
        self.fm = FloatModel(net)
        cf, ec = float_and_error([ci for ci, _ in self.F])
        df, ed = float_and_error([di for _, di in self.F])
        self.F_float = (cf, ec, df, ed)
        self.time_limit, self.max_nodes, self.progress = time_limit, max_nodes, progress
        # the limit as the caller was given it (a caller running several searches passes what remains)
        self.given_limit = given_limit if given_limit is not None else time_limit
        self.target = target  # decide "maximum < target" only: close what is below it, stop at a value >= it
        self.reach_strictly = reach_strictly  # or "maximum <= target": close what is at most it, stop above it
        self.start = time.perf_counter()
        self.deadline = None if time_limit is None else self.start + time_limit
        self.last_report = self.start
        self.root = _Node(list(lo), list(hi), {}, None)
        self.best: tuple[Fraction, tuple] | None = None
        self.nodes = 0
        self.heap: list = []
        self.counter = itertools.count()
        self.exact = Exact(net, *_box_rows(lo, hi))
        self.row_cache: dict = {}
        # the domain's rows a . x <= b as cuts h = b - a . x >= 0 (labelled ("row", i))
        self.rows = [(("row", i), 1, [-Fraction(v) for v in a], Fraction(b)) for i, (a, b) in enumerate(rows)]
        self.domain_rows = [([Fraction(v) for v in a], Fraction(b)) for a, b in rows]  # as the proof states them
        self.model: checker.ExactModel | None = None  # the checker's exact model, once a node needs it
        if start is not None:
            self.offer(list(start))

    # -- values ----------------------------------------------------------------------------
    def feasible(self, x: Sequence[Fraction]) -> bool:
        return all(sum((a * v for a, v in zip(h, x)), c) >= 0 for _, _, h, c in self.rows)

    def offer(self, x: Sequence[Fraction], value: Fraction | None = None) -> Fraction | None:
        """Value ``x`` exactly (unless ``value`` is given) and keep it if it is the best; the
        value, or None for a point outside the domain."""
        if self.rows and not self.feasible(x):
            return None  # a point outside the domain attains nothing
        if value is None:
            y = self.net(list(x))
            value = min(sum((a * b for a, b in zip(ci, y)), Fraction(0)) + di for ci, di in self.F)
        if self.best is None or value > self.best[0]:
            self.best = (value, tuple(x))
        return value

    def best_float(self) -> float:
        return float(self.best[0]) if self.best is not None else -np.inf

    # -- nodes -----------------------------------------------------------------------------
    def bound_many(self, nodes: list[_Node], crown: bool = True) -> Batch | None:
        """Rigorous float bounds of the nodes not bounded yet, all in one batch, and each one's
        upper bound by its best single functional; a node whose phases cannot hold together
        on its box is empty.  Returns the batch (its relaxations serve :meth:`mix`).  Without
        ``crown`` the layers' bounds are intervals met with the parent's bounds and its
        backward linear bounds (a cheap estimate for comparing trial splits, never kept)."""
        todo = [n for n in nodes if n.ub is None]
        if not todo:
            return None
        parents = [n.parent.fb if n.parent is not None else None for n in todo]
        batch = self.fm.bounds(np.array([n.flo for n in todo]), np.array([n.fhi for n in todo]), crown=crown,
                               parents=parents, phases=[n.phases for n in todo])
        empty = batch.empty()
        ub, rows, cx = self.fm.upper(batch, *self.F_float)
        pick = np.argmin(ub, axis=1)
        ties = self.fm.ties(batch, [n.phases for n in todo]) if crown else None
        for i, n in enumerate(todo):
            n.fb = batch.node(i, linear=crown)
            n.bi = i
            n.use_alpha = n.alpha_here = False
            n.ub_plain = None
            if ties is not None:
                n.tie = bool(ties[i]) or (n.parent is not None and n.parent.tie)
            if empty[i]:
                n.kind, n.ub = "empty", -np.inf
                continue
            f = int(pick[i])
            n.ub, n.row, n.cx = float(ub[i, f]), rows[i, f], float(cx[i, f])
            if self.multi:
                n.lam = [Fraction(int(k == f)) for k in range(len(self.F))]
                n.ups = (i, rows[i], cx[i])
        return batch

    def sloped(self, batch: Batch, nodes: list[_Node], given) -> None:
        """Bound ``nodes`` (bounded in ``batch``) again with lower slopes and weights
        ``given(node) = (alpha, weights)`` (weights: exact, or None for one functional); a
        bound lower than the node's replaces it."""
        if not nodes:
            return
        size = len(batch)
        alpha = []
        for li, L in enumerate(self.fm.layers):
            if L.R != 2:
                alpha.append(None)
                continue
            a = np.full((size, L.K), np.nan)
            for n in nodes:
                al = given(n)[0][li]
                if al is not None:
                    a[n.bi] = al
            alpha.append(a)
        F_cf, F_ec, F_df, F_ed = self.F_float
        if not self.multi:
            ub, rows, cx = self.fm.upper(batch, F_cf, F_ec, F_df, F_ed, alpha)
        else:
            O = len(self.c)
            cf, ec = np.zeros((size, 1, O)), np.zeros((size, 1, O))
            df, ed = np.zeros((size, 1)), np.zeros((size, 1))
            for n in nodes:
                cf[n.bi, 0], ec[n.bi, 0], df[n.bi, 0], ed[n.bi, 0] = self.combined(given(n)[1])
            ub, rows, cx = self.fm.upper(batch, cf, ec, df, ed, alpha)
        for n in nodes:
            i = n.bi
            if ub[i, 0] < n.ub:
                al, w = given(n)
                if n.ub_plain is None:
                    n.ub_plain = n.ub
                n.ub, n.row, n.cx, n.use_alpha = float(ub[i, 0]), rows[i, 0], float(cx[i, 0]), True
                if self.multi:
                    n.lam = w
                if al is not n.alpha:  # the node's own LP's
                    n.alpha, n.aw, n.alpha_depth, n.alpha_here = al, w, n.depth, True

    def combined(self, lam: list[Fraction]) -> tuple:
        """``sum_i lam_i (c_i, d_i)`` in floats, and bounds of their distances to the exact
        combination (lam_i rounded, the F_i within their errors, and the sum's rounding)."""
        F_cf, F_ec, F_df, F_ed = self.F_float
        gam = _gamma(len(self.F) + 4)
        w = np.array([float(v) for v in lam])
        return (w @ F_cf, (w @ F_ec + gam * (w @ np.abs(F_cf))) * (1 + 1e-9) + 1e-300, w @ F_df,
                (w @ F_ed + gam * (w @ np.abs(F_df))) * (1 + 1e-9) + 1e-300)

    def slopes(self, batch: Batch | None, nodes: list[_Node]) -> None:
        """Open nodes whose lower slopes are missing or :data:`SLOPE_REFRESH` generations old
        solve their triangle LP (:mod:`exactmaso.prove.triangle`); its slopes and weights give
        a rigorous bound, kept where lower (and inherited by the node's children), and its
        optimum a point worth valuing."""
        if batch is None:
            return
        want = [n for n in nodes if n.kind == "open" and n.bi is not None and not self.closed(n.ub)
                and (n.alpha is None or n.depth - n.alpha_depth >= SLOPE_REFRESH)
                and sum(len(u) for u in self.fm.undecided(n.fb)) <= SLOPE_UNITS]
        F_cf, _, F_df, _ = self.F_float
        proposed = {}
        for n in want:
            res = triangle_slopes(self.fm, n.fb, n.flo, n.fhi, F_cf * self.fm.out_scale, F_df)
            if res is None:
                continue
            if n.guess is None and np.isfinite(res.x).all():
                n.guess = res.x
            proposed[id(n)] = (res.alpha, _exact_weights(res.weights) if self.multi else None)
        self.sloped(batch, [n for n in want if id(n) in proposed], lambda n: proposed[id(n)])

    def mix(self, batch: Batch | None, nodes: list[_Node]) -> None:
        """For a minimum of functionals: the nodes that their best single functional leaves
        open get the bound of a convex combination of them (weights from a small LP on their
        linear bounds, :func:`_mixture`), when it is lower."""
        want = [n for n in nodes if n.ups is not None and n.kind == "open" and not self.closed(n.ub)]
        if batch is not None and want:
            size, O = len(batch), len(self.c)
            cf, ec = np.zeros((size, 1, O)), np.zeros((size, 1, O))
            df, ed = np.zeros((size, 1)), np.zeros((size, 1))
            chosen = {}
            for n in want:
                i, rows, cx = n.ups
                lam, x = _mixture(rows, cx, n.flo, n.fhi)
                if x is not None:
                    n.guess = x  # where the functionals' linear bounds are jointly highest
                if lam is None:
                    continue
                cf[i, 0], ec[i, 0], df[i, 0], ed[i, 0] = self.combined(lam)
                chosen[i] = (n, lam)
            if chosen:
                ub, rows, cx = self.fm.upper(batch, cf, ec, df, ed)
                for i, (n, lam) in chosen.items():
                    if ub[i, 0] < n.ub:
                        n.ub, n.row, n.cx, n.lam = float(ub[i, 0]), rows[i, 0], float(cx[i, 0]), lam
                        n.use_alpha = False
        for n in nodes:
            n.ups = None

    def settle(self, nodes: list[_Node]) -> None:
        """Bounded nodes join the search: phases' rows tighten their bounds, the box vertex
        their linear bound points at is offered as a value, and the open ones are queued."""
        live = []
        for n in nodes:
            if n.kind == "empty" and not self.confirm(n):
                self.reopen(n)
            if n.kind != "open":
                continue
            if (n.phases or self.rows) and n.refused is None and np.isfinite(n.ub) and not self.closed(n.ub):
                self.tighten(n, n.cx)
                if n.kind == "empty":
                    if self.confirm(n):
                        continue
                    self.reopen(n)
            live.append(n)
        if not live:
            return
        points, owners = [], []
        for n in live:
            if n.row is not None and np.isfinite(n.row).all():
                points.append([h if v > 0 else l for v, l, h in zip(n.row, n.lo, n.hi)])
            else:
                points.append([(a + b) / 2 for a, b in zip(n.lo, n.hi)])
            owners.append(n)
            if n.guess is not None and np.isfinite(n.guess).all():
                points.append([min(max(Fraction(float(v)), l), h) for v, l, h in zip(n.guess, n.lo, n.hi)])
                owners.append(n)
                n.guess = None
        # the float network sorts out the points that cannot beat the best value; the exact
        # one decides the others (and every point the floats cannot value)
        vals = _float_objective(self.fm, self.F_float, np.array([[float(v) for v in p] for p in points]))
        vals = np.where(np.isfinite(vals), vals, np.inf)
        floor = self.best_float()
        floor -= 1e-6 * (1.0 + abs(floor))
        for i in np.argsort(-vals):
            if not vals[i] >= floor:
                break
            value, n = self.offer(points[i]), owners[i]
            if value is not None and (n.top is None or value > n.top):
                n.top = value
        for n in live:
            heapq.heappush(self.heap, (-n.ub, next(self.counter), n))

    def reopen(self, node: _Node) -> None:
        """A node the float bounds closed and the exact ones did not: open again, to be decided
        exactly or split.  One found empty keeps the bound of its parent (which holds on it)."""
        if node.kind == "empty":
            node.mult = []  # they prove nothing now
            node.ub = node.parent.ub if node.parent is not None else np.inf
            node.row, node.cx = np.full(len(node.lo), np.nan), 0.0
        node.kind, node.refused = "open", self.threshold()

    def phase_rows(self, node: _Node) -> list[tuple]:
        """Phased units whose cut is exactly affine in x on the node (every unit of the earlier
        layers decided): (l, k, side, a, c) with h = a . x + c exact."""
        decided = self.fm.pieces(node.fb, node.phases)
        out = []
        D = self.net.input_dim
        for (l, k), side in sorted(node.phases.items()):
            if any(p is None for p in decided[:l]):
                continue
            prefix = tuple(decided[:l])
            key = (prefix, l, k)
            hit = self.row_cache.get(key)
            if hit is None:
                row = self.exact.row(prefix + ((0,) * self.fm.layers[l].K,), (l, k, 0, 1))  # g0 - g1 = -h
                hit = ([-v for v in row[:D]], -row[D])
                if len(self.row_cache) > 50000:
                    self.row_cache.clear()
                self.row_cache[key] = hit
            out.append((l, k, side, hit[0], hit[1]))
        out.extend(((label[0], label[1], side, a, c) for label, side, a, c in self.rows))
        return out

    def tighten(self, node: _Node, cx: float) -> None:
        """A float LP over the box and the phases' affine rows proposes Lagrangian multipliers;
        the bound they give is computed rigorously (or they prove the branch empty)."""
        rows = self.phase_rows(node)
        if not rows:
            return
        D = self.net.input_dim
        A = np.array([[float(v) for v in a] for _, _, _, a, _ in rows]).reshape(len(rows), D)
        c0 = np.array([float(c) for *_, c in rows])
        sig = np.array([1.0 if side else -1.0 for _, _, side, _, _ in rows])
        # s h(x) >= 0  <=>  -s a . x <= s c
        res = solve_lp(-node.row, -sig[:, None] * A, sig * c0, bounds=list(zip(node.flo, node.fhi)))
        if res.status is LPStatus.INFEASIBLE and res.dual_ray is not None:
            y = np.maximum(res.dual_ray, 0.0)
            if _lagrangian_max(np.zeros(D), 0.0, y, sig, A, c0, rows, node) < 0:
                node.kind = "empty"
                node.mult = [(l, k, Fraction(v)) for (l, k, *_), v in zip(rows, y) if v > 0]
            return
        if res.status is not LPStatus.OPTIMAL:
            return
        if self.rows and res.x is not None:
            self.offer([Fraction(float(v)) for v in res.x])
        y = np.maximum(-res.row_duals, 0.0)
        ub = _lagrangian_max(node.row, cx, y, sig, A, c0, rows, node)
        if ub < node.ub:
            node.ub = ub
            node.mult = [(l, k, Fraction(v)) for (l, k, *_), v in zip(rows, y) if v > 0]

    def tick(self) -> None:
        self.nodes += 1
        now = time.perf_counter()
        if self.max_nodes is not None and self.nodes > self.max_nodes:
            self.stop(f"max_nodes={self.max_nodes} reached")
        self.check_time(now)
        if self.progress and now - self.last_report > 0.5:
            self.last_report = now
            top = -self.heap[0][0] if self.heap else float("nan")
            sys.stderr.write(f"\rexactmaso prove: {self.nodes} nodes, best {self.best_float():.9g}, "
                             f"bound {max(top, self.best_float()):.9g}, {len(self.heap)} open ({now - self.start:.1f} s)   ")
            sys.stderr.flush()

    def check_time(self, now: float | None = None) -> None:
        """Stop (LimitError) once the time limit has passed."""
        if self.deadline is not None and (time.perf_counter() if now is None else now) > self.deadline:
            self.stop(f"time_limit={self.given_limit:g} s reached")

    def close_line(self) -> None:
        if self.progress:
            sys.stderr.write("\n")
            sys.stderr.flush()

    def split_options(self, node: _Node) -> list[int]:
        """The coordinates a box may be halved along.  In few dimensions every one (but those
        already far narrower than the widest relative to the root box, where halving again
        gains only round-off) is tried, and :meth:`choose_split` keeps the best; in many
        dimensions the one with the largest ``|row_j| * width_j`` (the linear bound's
        sensitivity)."""
        D = len(node.lo)
        open_ = [j for j in range(D) if node.hi[j] > node.lo[j]]
        if not open_:  # nothing left to halve: the rigorous float bounds cannot settle this point
            self.stop(f"a branch reached a single point whose units the float bounds leave undecided "
                      f"({_describe_box(node)})")
        if len(open_) <= TRIAL_SPLIT_DIMS:
            rel = self.relative_width(node)
            widest = max(rel[j] for j in open_)
            return [j for j in open_ if rel[j] >= RELATIVE_WIDTH_FLOOR * widest]
        width = node.fhi - node.flo
        score = np.abs(node.row) * width if np.isfinite(node.row).all() else width
        if not np.isfinite(score).all() or score.max() <= 0:
            score = width
        j = int(np.argmax(score))
        if node.hi[j] == node.lo[j]:
            j = int(np.argmax([h - l for l, h in zip(node.lo, node.hi)]))
        return [j]

    def choose_split(self, node: _Node, js: list[int], options: list[list[_Node]]) -> list[_Node]:
        """Of the bounded halvings, the one that lowers the bounds of its halves most in total
        (each half counted at most at the node's bound, which holds on it: linear bounds are
        not monotone under splitting, a half may get a worse one).  Near-ties (within a tenth
        of the best gain), and gains within round-off (the bounds are stuck on this box), go
        to the coordinate widest relative to the root box, so that no coordinate is halved
        forever while another one stays wide."""
        if len(js) == 1:
            j, children = js[0], options[0]
        else:
            rel = self.relative_width(node)
            trials = []
            for j, children in zip(js, options):
                trials.append((_total(node, children), j, children))
            best = min(t[0] for t in trials)
            gain = 2 * _plain(node) - best
            if not gain > 1e-9 * (1.0 + abs(node.ub)):
                near = trials
            else:
                tol = 0.1 * gain if np.isfinite(gain) else 0.0
                near = [t for t in trials if t[0] <= best + tol]
            _, j, children = max(near, key=lambda t: (rel[t[1]], -t[0]))
        node.kind, node.split = "split", (j, (node.lo[j] + node.hi[j]) / 2)
        node.children = children
        return children

    def relative_width(self, node: _Node) -> np.ndarray:
        root = self.root.fhi - self.root.flo
        with np.errstate(all="ignore"):
            return np.where(root > 0, (node.fhi - node.flo) / root, 0.0)

    def halves(self, node: _Node, j: int) -> list[_Node]:
        t = (node.lo[j] + node.hi[j]) / 2
        left_hi, right_lo = list(node.hi), list(node.lo)
        left_hi[j], right_lo[j] = t, t
        return [_Node(node.lo, left_hi, node.phases, node), _Node(right_lo, node.hi, node.phases, node)]

    def branch_unit(self, node: _Node, undecided: list[np.ndarray]) -> list[_Node] | None:
        """The two branches on the sign of one undecided unit of the earliest layer that has
        one (the most balanced), or None if that layer's units have three or more pieces."""
        for l, idx in enumerate(undecided):
            if not len(idx):
                continue
            if self.fm.layers[l].R != 2:
                return None  # a unit of three or more pieces: split the box instead
            lo, hi = node.fb.cut_lo[l][idx], node.fb.cut_hi[l][idx]
            k = int(idx[np.argmax(np.minimum(hi, -lo))])
            node.branch = (l, k)
            return [_Node(node.lo, node.hi, {**node.phases, (l, k): side}, node) for side in (0, 1)]
        return None

    def solve_leaf(self, node: _Node) -> None:
        """Every unit decided: the network is affine on the branch, an exact LP decides it (on
        a tie, if the checker's exact bounds decide the units alike: else it stays open)."""
        before = (node.mult, node.lam)
        self.exact_leaf(node)
        if node.kind != "open" and not self.confirm(node):
            node.mult, node.lam = before
            node.value = None
            self.reopen(node)

    def exact_leaf(self, node: _Node) -> None:
        code = tuple(self.fm.pieces(node.fb, node.phases))
        aff = self.net.affine_map(code=code)
        D = self.net.input_dim
        units = sorted(node.phases)
        A, b = [], []
        for (l, k) in units:
            row = self.exact.row(code, (l, k, 0, 1))  # g0 - g1 = -h
            a, c0 = [-v for v in row[:D]], -row[D]    # h = a . x + c0
            if node.phases[(l, k)]:
                A.append([-v for v in a])
                b.append(c0)  # h >= 0  <=>  -a . x <= c0
            else:
                A.append(a)
                b.append(-c0)  # h <= 0  <=>  a . x <= -c0
        for label, _, h, c in self.rows:  # h . x + c >= 0  <=>  -h . x <= c
            units.append(label)
            A.append([-v for v in h])
            b.append(c)
        pieces = [([sum((ci[o] * aff.A[o, j] for o in range(len(ci))), Fraction(0)) for j in range(D)],
                   sum((ci[o] * aff.b[o] for o in range(len(ci))), Fraction(0)) + di) for ci, di in self.F]
        if not self.multi:
            (w, w0), = pieces
            out = maximize_over_box(w, node.lo, node.hi, A, b)
            node.mult = [(l, k, y) for (l, k), y in zip(units, out.y) if y]
            if out.status == "infeasible":
                node.kind = "empty"
                return
            node.kind, node.value = "bound", out.value + w0
            self.offer(out.x, out.value + w0)
            return
        # max t subject to t <= g_i(x) for every functional: z = (x, t), t within a box that
        # holds every g_i on the node (from the output bounds)
        ymag = [max(abs(Fraction(float(a))), abs(Fraction(float(c)))) for a, c in zip(node.fb.out_lo[-1], node.fb.out_hi[-1])]
        scale = [Fraction(float(v)) for v in self.fm.out_scale]
        M = 2 * max(sum((abs(ci[o]) * ymag[o] * scale[o] for o in range(len(ci))), abs(di)) for ci, di in self.F) + 1
        Az = [list(a) + [Fraction(0)] for a in A]
        bz = list(b)
        for w, w0 in pieces:  # t - w . x <= w0
            Az.append([-v for v in w] + [Fraction(1)])
            bz.append(w0)
        out = maximize_over_box([Fraction(0)] * D + [Fraction(1)], list(node.lo) + [-M], list(node.hi) + [M], Az, bz)
        m = len(units)
        if out.status == "infeasible":
            node.kind = "empty"
            node.mult = [(l, k, y) for (l, k), y in zip(units, out.y[:m]) if y]
            return
        lam = list(out.y[m:])
        if sum(lam) != 1:  # the t box binds, which the bounds rule out: refuse to certify it
            raise ArithmeticError("the leaf's linear program did not price the minimum's functionals")
        node.mult = [(l, k, y) for (l, k), y in zip(units, out.y[:m]) if y]
        node.lam = lam
        node.kind, node.value = "bound", out.value
        self.offer(out.x[:D], out.value)

    # -- exact decisions ---------------------------------------------------------------------
    def exact_value(self, node: _Node) -> Fraction | None:
        """The checker's exact bound of an open node's leaf (None: its branch is empty)."""
        if self.model is None:
            self.model = checker.ExactModel(self.net)
        try:
            return checker.leaf_value(self.model, node.leaf_json(), self.exact_bounds(node), self.F, node.lo,
                                      node.hi, node.phases, self.exact_alphas(node), self.domain_rows, "node")
        finally:
            node.xb.relaxed.clear()

    def confirm(self, node: _Node) -> bool:
        """Whether a node the float bounds (or its exact LP) closed is closed in the checker's
        terms too.  Off a tie the two computations make the same choices of relaxation, and
        their bounds differ by rounding only, far below the worst-case error terms the float
        bounds carry; so only a node on a tie, or one closed by a float bound within rounding
        of the best value, is re-computed exactly (on the checker's bounds of its branch)."""
        if not node.tie and not (node.kind == "bound" and node.value is None and self.thin(node.ub)):
            return True
        bound, strict = self.threshold()
        if bound is None:  # (nothing is closed below no value; an empty leaf needs no bound)
            if node.kind != "empty":
                return False
            bound = Fraction(0)
        if self.model is None:
            self.model = checker.ExactModel(self.net)
        try:
            checker.check_leaf(self.model, node.leaf_json(), self.exact_bounds(node), self.F, node.lo, node.hi,
                               node.phases, self.exact_alphas(node), self.domain_rows, bound, strict, "node")
        except CertificateError:
            return False
        finally:
            node.xb.relaxed.clear()  # (kept for the bounds its children meet; the relaxations are not needed)
        return True

    def threshold(self) -> tuple[Fraction | None, bool]:
        """What a closed node must be proven to be below: the target (strictly unless
        ``reach_strictly``), else the best value so far (which the final bound is at least)."""
        if self.target is not None:
            return self.target, not self.reach_strictly
        return (self.best[0] if self.best is not None else None), False

    def thin(self, ub: float) -> bool:
        """Whether a float bound closes a node by a margin within rounding."""
        bound, _ = self.threshold()
        if bound is None or not np.isfinite(ub):
            return False
        b = float(bound)
        if self.target is not None and self.best is not None:
            b = max(b, float(self.best[0]))
        return b - ub <= TIE * (1.0 + abs(ub))

    def exact_bounds(self, node: _Node) -> "checker.Bounds":
        """The checker's exact bounds of the node (from the root down its branch, as the
        checker computes them, each node's once)."""
        chain, n = [], node
        while n is not None and n.xb is None:
            chain.append(n)
            n = n.parent
        parent = n.xb if n is not None else None
        for m in reversed(chain):
            m.xb = checker.box_bounds(self.model, m.lo, m.hi, parent, crown=True, phases=m.phases)
            if parent is not None:
                parent.relaxed.clear()
            parent = m.xb
        return node.xb

    def exact_alphas(self, node: _Node) -> dict | None:
        """The lower slopes the checker gives the node's leaf: the nearest node at or above it
        whose own triangle LP gave slopes."""
        n = node
        while n is not None and not n.alpha_here:
            n = n.parent
        return None if n is None else checker.parse_alphas(self.model, n.alpha_json(), "node")

    def wants_regions(self, node: _Node, count: int) -> bool:
        """Whether to decide the node by the regions of its box (see the module docstring).
        Below a failed attempt, a node tries again with fewer undecided units, or once its box
        has been halved along every coordinate (an attaining box, which is split, not
        branched) or a few levels deeper."""
        if self.multi or (count == 0 and node.refused is None):
            return False  # (the maximum of a minimum of functionals is not at a vertex)
        attaining = self.attaining(node)
        if node.block is not None:
            units, depth = node.block
            if count >= units and node.depth < depth + (len(node.lo) if attaining else 2 * len(node.lo) + 2):
                return False
        if attaining and (node.attain >= ATTAIN_STREAK or count <= BRANCH_UNITS):
            return True
        return node.refused is not None or node.depth >= EXACT_DEPTH

    def attaining(self, node: _Node) -> bool:
        """A box without phases that attains the best value of a pure maximisation.  The bounds
        close it only once they are exact at the point attaining it: never, where the best is
        attained where many units switch or on a whole piece.  So it is decided by its regions
        (see :meth:`wants_regions`, :meth:`splits_box`)."""
        return self.target is None and not self.multi and not node.phases and node.attain > 0

    def splits_box(self, node: _Node) -> bool:
        """An attaining box whose regions are too many is split, not branched on units (the
        branches keep its box, and each holds the point attaining the best), so that its
        halves' regions may be few enough; for a few generations only (two halvings of every
        coordinate), beyond which it is branched as any other box (in many dimensions the
        regions' vertices can be too long for a certificate however small the box)."""
        return self.attaining(node) and node.attain < ATTAIN_STREAK + 2 * len(node.lo)

    def note_attain(self, node: _Node) -> None:
        """Count the generations whose boxes attained the best value (a point of the box
        reached it: the best point itself, or a point valued there)."""
        attains = False
        if self.best is not None:
            value, x = self.best
            attains = (node.top is not None and node.top >= value) or all(
                l <= v <= h for l, v, h in zip(node.lo, x, node.hi))
        node.attain = (node.parent.attain if node.parent is not None else 0) + 1 if attains else 0

    def regions_leaf(self, node: _Node, count: int) -> bool:
        """Decide the node by the linear regions of its box (cut by the domain's rows; its
        phases are not needed): the maximum over their vertices is the exact maximum over the
        box, offered as a value, so the node closes with it.  False (and the node is left as
        it was) when the box has more than ``REGION_CAP`` regions, or their certificate data
        would take more than ``REGION_TEXT`` characters (many dimensions, long vertices), or the
        time limit comes first."""
        from ..regions import regions

        S = checker.ClaimSet(node.lo, node.hi, self.domain_rows)
        remaining = None if self.deadline is None else self.deadline - time.perf_counter()
        if remaining is not None and remaining <= 0:
            return False  # (the search stops at the next node)
        if not self.rows and _many_patterns(self.fm, node.flo, node.fhi, REGION_CAP):
            node.block = (count, node.depth)  # (an attempt would fail, after a long enumeration)
            return False
        try:
            part = regions(self.net, checker.set_polytope(S), max_regions=REGION_CAP, time_limit=remaining)
        except (LimitError, ExactMasoError, ValueError, ArithmeticError):
            part = None  # too many regions, or a box the rows cut to less than full dimension
        vertices, text = [], 0
        for reg in part or ():
            vertices.append(reg.vertices())
            text += sum(len(checker.format_q(x)) + 4 for v in vertices[-1] for x in v)
            if text > REGION_TEXT:
                break
        if not part or text > REGION_TEXT:
            node.block = (count, node.depth)
            return False
        data = checker.partition_json(part)
        (c, d), = self.F
        best = None
        for reg, V in zip(part, vertices):
            A, b = np.asarray(reg.affine.A), np.asarray(reg.affine.b)
            w = [sum((c[o] * A[o, j] for o in range(len(c)) if c[o]), Fraction(0)) for j in range(len(node.lo))]
            w0 = sum((c[o] * b[o] for o in range(len(c)) if c[o]), Fraction(0)) + d
            for v in V:
                value = sum((a * x for a, x in zip(w, v) if a), w0)
                if best is None or value > best[0]:
                    best = (value, tuple(v))
        self.offer(best[1], best[0])
        node.kind, node.value, node.partition = "regions", best[0], data
        node.mult, node.lam = [], None
        return True

    def reached(self) -> bool:
        v = self.best[0]
        return v > self.target if self.reach_strictly else v >= self.target

    def closed(self, ub: float) -> bool:
        """Whether a rigorous upper bound settles a node: at most the best exact value (or
        below the target)."""
        if not np.isfinite(ub):
            return False
        q = Fraction(ub)
        if self.target is not None and (q <= self.target if self.reach_strictly else q < self.target):
            return True
        return self.best is not None and q <= self.best[0]

    # -- the search ------------------------------------------------------------------------
    def probe(self) -> None:
        """Offer the best points of an uphill float search (:func:`probe_points`)."""
        for x in probe_points(self.fm, self.F_float, self.root.lo, self.root.hi, samples=PROBE_SAMPLES,
                              rounds=PROBE_ROUNDS, deadline=self.deadline):
            self.offer(x)

    def run(self) -> Maximum:
        self.begin()
        self.advance()
        return self.result()

    def begin(self) -> None:
        """Probe for good points (until the time limit) and bound the root (whatever the time:
        a stopped search's interval needs the root's bound; the first node checks the limit)."""
        self.probe()
        batch = self.bound_many([self.root])
        self.mix(batch, [self.root])
        self.slopes(batch, [self.root])
        if self.root.kind == "empty":  # pragma: no cover - the root has no phases
            raise AssertionError("the root box is empty")
        self.settle([self.root])

    def advance(self, until: float | None = None) -> bool:
        """Search until ``time.perf_counter()`` passes ``until`` (None: to the end); True when
        the search is over (:meth:`result` has the answer).  Limits raise LimitError."""
        while self.heap and not self.decided():
            if until is not None and time.perf_counter() >= until:
                return False
            # the most promising open nodes, bounded together in one batch
            group = []
            while self.heap and len(group) < GROUP:
                node = heapq.heappop(self.heap)[2]
                if node.kind == "open":
                    group.append(node)
            self.current = group  # open until split or closed: the limit's interval counts them
            work = []
            for node in group:
                self.tick()
                if node.depth >= MAX_DEPTH:
                    self.stop(f"a branch reached depth {MAX_DEPTH} (the bounds do not tighten on "
                              f"{_describe_box(node)})")
                if self.closed(node.ub) and node.refused != self.threshold():
                    node.kind = "bound"  # (a refused one again only once the best value has moved)
                    if self.confirm(node):
                        continue
                    self.reopen(node)
                undecided = self.fm.undecided(node.fb)
                count = sum(len(u) for u in undecided)
                self.note_attain(node)
                if count == 0:
                    self.solve_leaf(node)
                    if node.kind != "open":
                        continue
                if self.wants_regions(node, count) and self.regions_leaf(node, count):
                    continue
                by_units = 0 < count <= BRANCH_UNITS and not self.splits_box(node)
                children = self.branch_unit(node, undecided) if by_units else None
                if children is not None:
                    work.append((node, None, [children]))
                else:
                    js = self.split_options(node)
                    work.append((node, js, [self.halves(node, j) for j in js]))
            # trial halvings are ranked by cheap bounds; the best few get the full ones, which
            # pick the halving to keep
            trials = [ch for _, js, options in work if js is not None and len(js) > 1
                      for children in options for ch in children]
            if trials:
                self.mix(self.bound_many(trials, crown=False), trials)
                for i, (node, js, options) in enumerate(work):
                    if js is not None and len(js) > 1:
                        # the best by the estimates, and the relatively widest coordinate (the
                        # estimates can miss what halving a wide coordinate gains)
                        order = sorted(range(len(js)), key=lambda t: _total(node, options[t]))[:SHORTLIST]
                        rel = self.relative_width(node)
                        wide = max(range(len(js)), key=lambda t: rel[js[t]])
                        if wide not in order:
                            order.append(wide)
                        work[i] = (node, [js[t] for t in order], [options[t] for t in order])
                        for children in work[i][2]:
                            for ch in children:  # bounded again below, in full (as the checker will)
                                ch.kind, ch.ub, ch.fb, ch.lam = "open", None, None, None
            full = [ch for _, _, options in work for children in options for ch in children]
            batch = self.bound_many(full)
            self.mix(batch, full)
            kept = []
            for node, js, options in work:
                if js is None:
                    node.kind, node.children = "branch", options[0]
                    kept.extend(options[0])
                else:
                    kept.extend(self.choose_split(node, js, options))
            # the kept halves' inherited slopes, then their own LPs (after the choice of the
            # split, which slopes from a larger box would bias)
            self.sloped(batch, [n for n in kept if n.kind == "open" and n.alpha is not None], lambda n: (n.alpha, n.aw))
            self.slopes(batch, kept)
            self.settle(kept)
            for node in group:
                node.fb = None  # its children are bounded: what they inherit is theirs now
            self.current = []
        return True

    def result(self) -> Maximum:
        self.close_line()
        if self.best is None:
            return Maximum(None, None, self.root.tree(), self.nodes, time.perf_counter() - self.start)
        return Maximum(self.best[0], self.best[1], self.root.tree(), self.nodes, time.perf_counter() - self.start)

    def decided(self) -> bool:
        """Whether a point reaches the target (the question "below the target?" is answered)."""
        return self.target is not None and self.best is not None and self.reached()

    def stop(self, why: str) -> None:
        """Raise LimitError with an interval proven to hold the maximum: from the best value to
        :meth:`proven_upper` (which bounds boxes on a tie exactly for at most ``STOP_SECONDS``,
        and one box more, before it settles for a wider bound proven already)."""
        self.close_line()
        lower = self.best[0] if self.best is not None else None
        top, cut = self.proven_upper(time.perf_counter() + STOP_SECONDS)
        if top == np.inf:
            upper = None
        elif top == -np.inf:  # nothing left open
            upper = lower
        else:
            upper = top if lower is None else max(lower, top)
        if lower is None:
            raise LimitError(f"{why} after {self.nodes} nodes; no point of the domain reached yet",
                             count=self.nodes, lower=None, upper=upper)
        exc = LimitError(f"{why} after {self.nodes} nodes; the maximum lies in [{float(lower):.9g}, "
                         f"{float(upper) if upper is not None else float('inf'):.9g}] (both ends proven)",
                         count=self.nodes, lower=lower, upper=upper)
        # what is proven so far: the tree, cut where proven_upper says, with its open nodes as
        # leaves bounded by ``upper``
        exc.partial = Maximum(lower, self.best[1], self.root.tree(frozenset(cut)), self.nodes,
                              time.perf_counter() - self.start)
        raise exc

    def proven_upper(self, deadline: float) -> tuple[Any, set[int]]:
        """A bound of the maximum over the open nodes (and, under a target, the closed ones),
        proven in the checker's terms too, and the ids of the inner nodes at which the tree is
        cut (written as leaves) for its leaves to prove it.  Returns ``(bound, cut)``: the
        bound a Fraction, ``inf`` (not bounded) or ``-inf`` (nothing open).

        Each node has its own bound (:meth:`own_bound`; on a tie, the checker's exact bound of
        the node as a leaf, computed on demand).  A node's box lies in its ancestors', so the
        least own bound on the path from the root to a node bounds it: the tree is opened from
        the root, the node of the largest such bound first, until that node is a leaf (no
        deeper bound lowers the answer) or an exact bound would be needed after ``deadline``.
        The answer is the largest least bound over the nodes reached; an inner node is cut
        where its own bound is at most what its subtree reached proves (the largest least
        bound is ``min(own, max over the children)`` applied from the leaves up)."""
        values: dict[int, Any] = {}
        own = {id(self.root): self.own_bound(self.root, values)}
        heap = [(-own[id(self.root)], 0, self.root)] if own[id(self.root)] > -np.inf else []
        opened: list[_Node] = []  # parents before their children
        count = itertools.count(1)
        while heap:
            node = heap[0][2]
            if node.kind not in ("split", "branch"):
                break  # a leaf has the largest bound: nothing deeper lowers the answer
            if time.perf_counter() >= deadline and any(self.costly(ch, values) for ch in node.children):
                break
            least = -heapq.heappop(heap)[0]
            opened.append(node)
            for ch in node.children:
                v = own[id(ch)] = self.own_bound(ch, values)
                if min(least, v) > -np.inf:
                    heapq.heappush(heap, (-min(least, v), next(count), ch))
        # the cut, from the leaves up: best(n) = min(own(n), max over n's children of best(child))
        # (by the distributive law, the largest least bound the loop above reached)
        best: dict[int, Any] = {}
        cut: set[int] = set()
        for node in reversed(opened):
            below = max((best.get(id(ch), own[id(ch)]) for ch in node.children), default=-np.inf)
            if own[id(node)] <= below:
                cut.add(id(node))
                best[id(node)] = own[id(node)]
            else:
                best[id(node)] = below
        done = {id(n) for n in opened}
        reached = [ch for n in opened for ch in n.children] if done else [self.root]
        cut.update(id(n) for n in reached if n.kind in ("split", "branch") and id(n) not in done)  # leaves now
        return best.get(id(self.root), own[id(self.root)]), cut

    def own_bound(self, node: _Node, values: dict) -> Any:
        """What a node of the tree is proven to stay below, in the checker's terms when it is
        written as a leaf: ``-inf`` for a closed leaf of a pure maximisation (at most the best
        value) and for an empty branch; under a target, a closed leaf's exact value or float
        bound, or the target (a tie closes only below it, exactly); an open or inner node's
        rigorous float bound, or on a tie (or refused) its exact bound as a leaf (cached in
        ``values``); ``inf`` where there is none."""
        if node.kind in ("bound", "empty", "regions"):
            if self.target is None or node.kind == "empty":
                return -np.inf
            if node.value is not None:
                return node.value
            return self.target if node.tie else Fraction(float(node.ub))
        if node.ub is None or node.ub == np.inf or np.isnan(node.ub):
            return np.inf
        if self.costly(node, values) or id(node) in values:
            if id(node) not in values:
                values[id(node)] = self.exact_value(node)
            v = values[id(node)]
            return -np.inf if v is None else v
        return Fraction(float(node.ub)) if node.ub > -np.inf else -np.inf

    def costly(self, node: _Node, values: dict) -> bool:
        """Whether :meth:`own_bound` would compute the node's exact bound (on a tie, or
        refused: the float bound is not the checker's), not cached in ``values`` yet."""
        return (node.kind in ("open", "split", "branch") and (node.tie or node.refused is not None)
                and node.ub is not None and id(node) not in values)


def probe_points(fm: FloatModel, F_float: tuple, lo: Sequence[Fraction], hi: Sequence[Fraction], *,
                 samples: int = PROBE_SAMPLES, rounds: int = PROBE_ROUNDS, offers: int = PROBE_OFFERS,
                 seed: int = 0, deadline: float | None = None) -> list[list[Fraction]]:
    """Points of the box worth an exact value.  Many random points (at most ``PROBE_FLOATS``
    coordinates in all, so fewer in many dimensions) and, in few dimensions, the corners are
    valued by the float network's ``min_i c_i . f + d_i``; the best ``PROBE_POLISH`` are polished
    (in at most ``PROBE_POLISH_DIMS`` dimensions) by a coordinate pattern search: each point
    tries a step up and down each coordinate, keeps what gains, and halves its steps when
    nothing does (maxima often sit on the box's faces, where this stays).  Returns the best
    ``offers`` of them as exact points clipped to the exact box.  A guide only: whoever uses a
    point values it exactly.  Past ``deadline`` (a ``time.perf_counter()`` value) it values no
    more points (checked every ``PROBE_CHUNK`` points and every polishing round) and returns
    the best of those valued."""
    flo, fhi = to_float_array(np.array(lo, dtype=object)), to_float_array(np.array(hi, dtype=object))
    D = len(flo)
    if not (np.isfinite(flo).all() and np.isfinite(fhi).all()):
        return []
    rng = np.random.default_rng(seed)
    width = fhi - flo
    samples = min(samples, max(256, PROBE_FLOATS // max(D, 1)))  # (in many dimensions, fewer)
    chunk = min(PROBE_CHUNK, max(256, (1 << 21) // max(D, 1)))

    def late() -> bool:
        return deadline is not None and time.perf_counter() > deadline

    def value(X):
        v = _float_objective(fm, F_float, X)
        return np.where(np.isfinite(v), v, -np.inf)

    X = flo + width * rng.random((samples, D))
    if D <= 10:
        corners = (np.arange(1 << D)[:, None] >> np.arange(D)) & 1
        X = np.vstack([X, np.where(corners, fhi, flo)])
    parts = []
    for i in range(0, len(X), chunk):
        if late():
            break
        parts.append(value(X[i:i + chunk]))
    if not parts:
        return []
    vals = np.concatenate(parts)
    top = np.argsort(-vals)[:PROBE_POLISH]
    P, pv = X[top].copy(), vals[top]
    step = np.tile(PROBE_STEP * width, (len(P), 1))
    for _ in range(rounds if D <= PROBE_POLISH_DIMS else 0):  # (2 D passes a round)
        if late():
            break
        gained = np.zeros(len(P), dtype=bool)
        for j in range(D):
            if not width[j] > 0:
                continue
            for sign in (1.0, -1.0):
                Q = P.copy()
                Q[:, j] = np.clip(Q[:, j] + sign * step[:, j], flo[j], fhi[j])
                qv = value(Q)
                up = qv > pv
                P[up], pv[up] = Q[up], qv[up]
                gained |= up
        step[~gained] *= 0.5
    out = []
    for i in np.argsort(-pv)[:offers]:
        if not np.isfinite(pv[i]):
            break
        out.append([min(max(Fraction(float(v)), a), b) for v, a, b in zip(P[i], lo, hi)])
    return out


def _many_patterns(fm: FloatModel, lo: np.ndarray, hi: np.ndarray, cap: int, *, seed: int = 0) -> bool:
    """Whether ``REGION_SAMPLES`` random points of the box show more than ``cap`` activation
    patterns of the float network (each unit's top piece; a point within rounding of a tie
    between two pieces is not counted): points of distinct patterns lie in distinct linear
    regions, so the box has more than ``cap`` of them.  A guide only, which skips regions
    attempts bound to fail (an enumeration that can take seconds before it hits its cap)."""
    if not (np.isfinite(lo).all() and np.isfinite(hi).all()):
        return False
    rng = np.random.default_rng(seed)
    z = lo + (hi - lo) * rng.random((REGION_SAMPLES, len(lo)))
    sure = np.ones(len(z), dtype=bool)
    codes = []
    with np.errstate(all="ignore"):
        for L in fm.layers:
            P = (z @ L.flat.A.T + L.flat.b).reshape(len(z), L.K, L.R)
            if L.R > 1:
                top = np.sort(P, axis=2)
                gap = top[..., -1] - top[..., -2]
                sure &= (gap > 1e-6 * (1.0 + np.abs(top[..., -1]))).all(axis=1)
                codes.append(np.argmax(P, axis=2))
            z = P.max(axis=2)
    if not codes or not sure.any():
        return False
    return len(np.unique(np.concatenate(codes, axis=1)[sure], axis=0)) > cap


def _float_objective(fm: FloatModel, F_float: tuple, X: np.ndarray) -> np.ndarray:
    """``min_i c_i . f(x) + d_i`` at each row of X in floats (a guide only: no error bound,
    not finite where the float network overflows)."""
    cf, _, df, _ = F_float
    with np.errstate(all="ignore"):
        return np.min(fm.forward(X) @ cf.T + df, axis=1)


def _total(node: "_Node", children: list["_Node"]) -> float:
    """The halves' bounds added up, each at most the node's (which holds on it), all without
    lower slopes (the halves get theirs after the choice)."""
    return sum(max(min(ch.ub, _plain(node)), -1e300) for ch in children)


def _plain(node: "_Node") -> float:
    return node.ub_plain if node.ub_plain is not None else node.ub


def _describe_box(node: "_Node") -> str:
    widths = node.fhi - node.flo
    return f"a box of widths {np.array2string(widths, precision=3)} with {len(node.phases)} unit phases"


def _mixture(rows: np.ndarray, cx: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple:
    """Weights ``lam`` (rational, >= 0, summing to 1) for bounding ``min_i g_i`` by one
    combination ``sum_i lam_i g_i``: the optimal duals of ``max t  s.t.  t <= row_i . x + cx_i``
    over the box, from the functionals' linear bounds.  The minimum of the linear bounds is
    usually far below each one's maximum where the functionals cross.  Returns ``(lam, x)``
    with the LP's optimal point ``x`` (floats), None for what the LP did not give."""
    if not (np.isfinite(rows).all() and np.isfinite(cx).all()):
        return None, None
    m, D = rows.shape
    A = np.hstack([-rows, np.ones((m, 1))])  # t - row_i . x <= cx_i
    obj = np.zeros(D + 1)
    obj[D] = -1.0
    res = solve_lp(obj, A, cx, bounds=list(zip(lo, hi)) + [(None, None)])
    if res.status is not LPStatus.OPTIMAL or res.row_duals is None:
        return None, None
    x = np.asarray(res.x[:D], dtype=float) if res.x is not None else None
    w = np.maximum(-np.asarray(res.row_duals, dtype=float), 0.0)
    if not np.isfinite(w).all() or w.sum() <= 0:
        return None, x
    return _exact_weights(w), x


def _exact_weights(w: np.ndarray) -> list[Fraction] | None:
    """Float weights >= 0 as short fractions >= 0 summing to exactly 1 (None if all are 0)."""
    lam = [Fraction(float(v)).limit_denominator(1 << 20) for v in w / w.sum()]
    total = sum(lam)
    return [v / total for v in lam] if total > 0 else None


def _lagrangian_max(row: np.ndarray, cx: float, y: np.ndarray, sig: np.ndarray, A: np.ndarray, c0: np.ndarray,
                    rows: list, node: "_Node") -> float:
    """A rigorous upper bound of max over the box of (row + sum y s a) . x + cx + sum y s c, where
    the float rows A, c0 are within one ulp of the exact a, c."""
    ys = y * sig
    g = row + ys @ A
    g0 = cx + ys @ c0
    xmag = np.maximum(np.abs(node.flo), np.abs(node.fhi))
    n = len(y) + 2
    err = (_gamma(n) * (np.abs(row) + y @ np.abs(A)) + 2 * _U * (y @ np.abs(A))) @ xmag \
        + _gamma(n) * (abs(cx) + y @ np.abs(c0)) + 2 * _U * (y @ np.abs(c0))
    val = np.maximum(g, 0.0) @ node.fhi + np.minimum(g, 0.0) @ node.flo + g0
    val += _gamma(len(g) + 2) * (np.abs(g) @ xmag + abs(g0))
    return float(np.nextafter((val + err * (1 + 1e-9) + 1e-280) * (1 + 8 * _U), np.inf))


_U = 2.0 ** -53


def _gamma(n: int) -> float:
    return n * _U / (1 - n * _U)


def _box_rows(lo, hi):
    D = len(lo)
    A = np.empty((2 * D, D), dtype=object)
    A[:] = Fraction(0)
    for j in range(D):
        A[j, j] = Fraction(1)
        A[D + j, j] = Fraction(-1)
    b = to_fraction_array(list(hi) + [-v for v in lo], name="box")
    return A, b


def maximize(net: Network, lo: Sequence[Fraction], hi: Sequence[Fraction], c: Sequence[Any], d: Any = 0, *,
             time_limit: float | None = None, max_nodes: int | None = None, progress: bool = False,
             target: Fraction | None = None, rows: Sequence[tuple] = (), start: Sequence[Fraction] | None = None,
             reach_strictly: bool = False, given_limit: float | None = None) -> Maximum:
    """The exact maximum of ``c . f(x) + d`` over the box ``lo <= x <= hi`` (see the module docstring).

    With ``target``, only "is the maximum below ``target``?" is decided: nodes whose bound is
    below it are closed too, and the search stops at the first point reaching it.  Then
    ``value`` is the best exact value found: the maximum is below ``target`` (and the tree
    proves ``< target``) when ``value < target``, else ``value >= target`` is attained at
    ``point``.  ``given_limit`` is the time limit as the user gave it, for the LimitError's
    message, when ``time_limit`` is what remains of it.  A branch deeper than ``MAX_DEPTH``
    stops the search with a LimitError (its certificate would nest too deep for JSON readers).
    """
    return search(net, lo, hi, c, d, time_limit=time_limit, max_nodes=max_nodes, progress=progress, target=target,
                  rows=rows, start=start, reach_strictly=reach_strictly, given_limit=given_limit).run()


def search(net: Network, lo: Sequence[Fraction], hi: Sequence[Fraction], c: Sequence[Any], d: Any = 0,
           **options: Any) -> "_Search":
    """The search :func:`maximize` runs, to be run in steps: ``.begin()``, then
    ``.advance(until)`` until it returns True, then ``.result()`` (several searches can share
    one time limit that way).  Options as for :func:`maximize`."""
    options.setdefault("time_limit", None)
    options.setdefault("max_nodes", None)
    options.setdefault("progress", False)
    return _Search(net, lo, hi, c, d, **options)
