"""Branch and bound for the exact maximum of ``c . f(x) + d`` over a box.

The box is split coordinate by coordinate.  Float bound propagation
(:mod:`exactmaso.prove.relax`) gives each box an upper bound and a promising vertex; exact
values of the network at such points give the best value found so far.  A box whose bound
falls to that value is *settled*; a box with few undecided units is *solved exactly* (the
largest value at a vertex of its linear regions, the partition re-checked).  When no box is
left open, every settled box is re-proved by the exact checker (the same relaxations in
exact arithmetic, with bounds recomputed at the root and wherever a float proposal failed);
a box the checker cannot settle is reopened.  The tree of splits with its leaves is the
certificate: :func:`exactmaso.prove.checker.check_bound` re-checks it from scratch.
"""

from __future__ import annotations

import heapq
import itertools
import sys
import time
from fractions import Fraction
from typing import Any, Sequence

import numpy as np

from ..errors import LimitError
from ..maso import Network
from ..numbers import to_float_array
from . import checker
from .relax import FloatModel

__all__ = ["Maximum", "maximize"]

REGION_UNITS = 14  # a box with at most this many undecided units is solved by its regions
REGION_CAP = 4000  # ... unless it has more regions than this


class _Node:
    __slots__ = ("lo", "hi", "flo", "fhi", "depth", "parent", "ub", "row", "kind", "split", "children",
                 "crown", "value", "fb", "serial")

    def __init__(self, lo, hi, depth, parent) -> None:
        self.lo, self.hi = lo, hi
        self.flo, self.fhi = to_float_array(np.array(lo, dtype=object)), to_float_array(np.array(hi, dtype=object))
        self.depth, self.parent = depth, parent
        self.kind = "open"  # open, split, crown (settled by a bound), regions (solved exactly)
        self.split = None
        self.children: list[_Node] = []
        self.crown = False  # the certificate recomputes backward bounds here
        self.value = None
        self.fb = None
        self.ub = np.inf
        self.row = None

    def tree(self) -> dict:
        if self.kind == "split":
            j, t = self.split
            out = {"split": [j, checker.format_q(t)], "children": [c.tree() for c in self.children]}
        else:
            out = {"leaf": self.kind}
        if self.crown:
            out["crown"] = True
        return out


class Maximum:
    """The exact maximum of ``c . f + d`` over a box, a point attaining it and the proof tree."""

    def __init__(self, value: Fraction, point: tuple, tree: dict, nodes: int, seconds: float) -> None:
        self.value, self.point, self.tree, self.nodes, self.seconds = value, point, tree, nodes, seconds


class _Search:
    def __init__(self, net: Network, lo, hi, c, d, *, time_limit, max_nodes, progress, crown_leaves=None) -> None:
        self.net = net
        self.c = [Fraction(v) for v in c]
        self.d = Fraction(d)
        self.fm = FloatModel(net)
        self.model = checker.ExactModel(net)
        self.time_limit, self.max_nodes, self.progress = time_limit, max_nodes, progress
        self.start = time.perf_counter()
        self.last_report = self.start
        self.root = _Node(list(lo), list(hi), 0, None)
        self.root.crown = True
        self.best: tuple[Fraction, tuple] | None = None
        self.nodes = 0
        self.heap: list = []
        self.counter = itertools.count()
        self.cf = np.array([float(v) for v in self.c])

    # -- values ----------------------------------------------------------------------------
    def value_at(self, x: Sequence[Fraction]) -> Fraction:
        y = self.net(list(x))
        return sum((a * b for a, b in zip(self.c, y)), Fraction(0)) + self.d

    def offer(self, x: Sequence[Fraction], value: Fraction | None = None) -> None:
        v = self.value_at(x) if value is None else value
        if self.best is None or v > self.best[0]:
            self.best = (v, tuple(x))

    def best_float(self) -> float:
        return float(self.best[0]) if self.best is not None else -np.inf

    # -- nodes -----------------------------------------------------------------------------
    def evaluate(self, node: _Node) -> None:
        parent_fb = node.parent.fb if node.parent is not None else None
        with np.errstate(all="ignore"):
            node.fb = self.fm.bounds(node.flo, node.fhi, crown=True, parent=parent_fb)
            ub, row, vertex = self.fm.upper(node.fb, self.cf, float(self.d), node.flo, node.fhi)
        node.ub = ub if np.isfinite(ub) else np.inf
        node.row = row
        corner = [h if v > 0 else l for v, l, h in zip(row, node.lo, node.hi)] if np.isfinite(row).all() else None
        mid = [(a + b) / 2 for a, b in zip(node.lo, node.hi)]
        self.offer(corner if corner is not None else mid)
        self.push(node)

    def push(self, node: _Node) -> None:
        heapq.heappush(self.heap, (-node.ub, next(self.counter), node))

    def tick(self) -> None:
        self.nodes += 1
        now = time.perf_counter()
        if self.max_nodes is not None and self.nodes > self.max_nodes:
            self.stop(f"max_nodes={self.max_nodes} reached")
        if self.time_limit is not None and now - self.start > self.time_limit:
            self.stop(f"time_limit={self.time_limit} s reached")
        if self.progress and now - self.last_report > 0.5:
            self.last_report = now
            top = -self.heap[0][0] if self.heap else float("nan")
            sys.stderr.write(f"\rexactmaso prove: {self.nodes} boxes, best {float(self.best[0]):.6g}, "
                             f"bound {top:.6g}, {len(self.heap)} open ({now - self.start:.1f} s)   ")
            sys.stderr.flush()

    def close_line(self) -> None:
        if self.progress:
            sys.stderr.write("\n")
            sys.stderr.flush()

    def split(self, node: _Node) -> None:
        width = node.fhi - node.flo
        score = np.abs(node.row) * width if node.row is not None and np.isfinite(node.row).all() else width
        if not np.isfinite(score).all() or score.max() <= 0:
            score = width
        j = int(np.argmax(score))
        if node.hi[j] == node.lo[j]:  # a flat coordinate: split the widest other one
            j = int(np.argmax([h - l for l, h in zip(node.lo, node.hi)]))
        t = (node.lo[j] + node.hi[j]) / 2
        node.kind, node.split = "split", (j, t)
        left_hi, right_lo = list(node.hi), list(node.lo)
        left_hi[j], right_lo[j] = t, t
        node.children = [_Node(node.lo, left_hi, node.depth + 1, node), _Node(right_lo, node.hi, node.depth + 1, node)]
        for ch in node.children:
            self.evaluate(ch)
        node.fb = None  # the children hold what they need

    def try_regions(self, node: _Node) -> bool:
        if self.fm.unstable(node.fb) > REGION_UNITS:
            return False
        try:
            v, x = checker.region_maximum(self.net, node.lo, node.hi, self.c, self.d, max_regions=REGION_CAP)
        except LimitError:
            return False
        node.kind, node.value = "regions", v
        self.offer(x, v)
        return True

    # -- the search ------------------------------------------------------------------------
    def run(self) -> Maximum:
        if all(l == h for l, h in zip(self.root.lo, self.root.hi)):
            self.offer(self.root.lo)
            self.root.kind = "regions"
            return self.finish()
        self.evaluate(self.root)
        while True:
            self.explore()
            failed = self.certify()
            if not failed:
                return self.finish()
            for node in failed:
                node.kind = "open"
                self.push(node)

    def explore(self) -> None:
        while self.heap:
            _, _, node = heapq.heappop(self.heap)
            if node.kind != "open":
                continue
            self.tick()
            if node.ub <= self.best_float():
                node.kind = "crown"
                continue
            if self.try_regions(node):
                continue
            self.split(node)

    def certify(self) -> list[_Node]:
        """Exact proofs of every settled box; the boxes the checker could not settle."""
        best = self.best[0]
        failed: list[_Node] = []
        stack = [(self.root, None)]
        while stack:
            node, parent_b = stack.pop()
            if node.kind == "split":
                b = checker.box_bounds(self.model, node.lo, node.hi, parent_b, crown=True) if node.crown else parent_b
                stack.extend((ch, b) for ch in reversed(node.children))
                continue
            if node.kind != "crown":
                continue
            b = checker.box_bounds(self.model, node.lo, node.hi, parent_b, crown=node.crown)
            if checker.upper_bound(self.model, b, self.c, self.d, node.lo, node.hi) <= best:
                continue
            if not node.crown:  # retry with backward bounds recomputed at this box
                node.crown = True
                b = checker.box_bounds(self.model, node.lo, node.hi, parent_b, crown=True)
                if checker.upper_bound(self.model, b, self.c, self.d, node.lo, node.hi) <= best:
                    continue
            failed.append(node)
            if node.fb is None:
                node.fb = self.fm.bounds(node.flo, node.fhi, crown=True)
            node.ub = np.inf  # the float bound was too optimistic: split it
        return failed

    def finish(self) -> Maximum:
        self.close_line()
        return Maximum(self.best[0], self.best[1], self.root.tree(), self.nodes, time.perf_counter() - self.start)

    def stop(self, why: str) -> None:
        """Raise LimitError with an interval proven to hold the maximum."""
        self.close_line()
        lower = self.best[0]
        upper = lower
        stack = [(self.root, None)]
        open_nodes = 0
        while stack:
            node, parent_b = stack.pop()
            if node.kind == "split":
                b = checker.box_bounds(self.model, node.lo, node.hi, parent_b, crown=True) if node.crown else parent_b
                stack.extend((ch, b) for ch in node.children)
                continue
            if node.kind == "regions":
                upper = max(upper, node.value)
                continue
            open_nodes += node.kind == "open"
            b = checker.box_bounds(self.model, node.lo, node.hi, parent_b, crown=True)
            upper = max(upper, checker.upper_bound(self.model, b, self.c, self.d, node.lo, node.hi))
        raise LimitError(f"{why} after {self.nodes} boxes; the maximum lies in [{float(lower):.9g}, {float(upper):.9g}]"
                         f" (proven exactly; {open_nodes} boxes were still open)", count=self.nodes, lower=lower, upper=upper)


def maximize(net: Network, lo: Sequence[Fraction], hi: Sequence[Fraction], c: Sequence[Any], d: Any = 0, *,
             time_limit: float | None = None, max_nodes: int | None = None, progress: bool = False) -> Maximum:
    """The exact maximum of ``c . f(x) + d`` over the box ``lo <= x <= hi`` (see the module docstring)."""
    return _Search(net, lo, hi, c, d, time_limit=time_limit, max_nodes=max_nodes, progress=progress).run()
