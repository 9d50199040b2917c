"""What the engines know of a cell or a region: exact combinatorics, float geometry.

A :class:`Geom` is a convex polytope as float vertices (with error bounds and, once
computed, exact coordinates) and vertex-facet incidences; each facet has a label, ``("d", i)``
for a domain row or ``(l, k, r, s)`` for the hyperplane ``g_r = g_s`` of unit ``k`` of layer
``l``.  :class:`RegionRecord` (and its lazy form) is a final region; :func:`prune` drops the
labels that are not facets.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np


# A facet label is a tuple: ("d", i) for row i of the domain, or (l, k, r, s) for the
# hyperplane g_r = g_s (r < s) of unit k of layer l inside the level-l ancestor cell.
Label = tuple


class Geom:
    """A convex polytope as vertices with incidences; arrays are never mutated in place."""

    __slots__ = ("X", "e", "F", "labels", "exact")

    def __init__(self, X: np.ndarray, e: np.ndarray, F: np.ndarray, labels: list, exact: list) -> None:
        self.X = X  # (n, D) float
        self.e = e  # (n,) bound on |X - exact| (max norm)
        self.F = F  # (n, f) bool: vertex i lies on facet label j
        self.labels = labels  # f labels
        self.exact = exact  # n entries: None or tuple of Fractions


class RegionRecord:
    """What the enumeration knows of one region (exact combinatorics, float geometry)."""

    __slots__ = ("code", "geom", "M", "E")

    def __init__(self, code: tuple, geom: Geom, M: np.ndarray, E: np.ndarray) -> None:
        self.code = code
        self.geom = geom
        self.M = M  # float augmented output map (out, D + 1)
        self.E = E  # its error bound


class LazyRecord(RegionRecord):
    """A region record whose code and Geom are built on first use.

    ``codes[c]`` is the code (a list, or a lazy container that builds tuples on demand);
    ``build(*args)`` returns the Geom from an engine's flat storage.
    """

    __slots__ = ("_codes", "_c", "_build", "_args", "_geom")

    def __init__(self, codes: Any, c: int, build: Any, *args: Any) -> None:
        self._codes = codes
        self._c = c
        self._build = build
        self._args = args
        self._geom = None
        self.M = None
        self.E = None

    @property
    def code(self) -> tuple:  # type: ignore[override]
        return self._codes[self._c]

    @property
    def geom(self) -> Geom:  # type: ignore[override]
        if self._geom is None:
            self._geom = self._build(*self._args)
        return self._geom


class LazyRecords(Sequence):
    """The records of an engine's regions, made when first asked for: record ``c`` is a
    :class:`LazyRecord` of code ``codes[c]`` whose Geom is ``build(starts[c], lens[c])``.  A
    partition that is counted, or read in part, makes few of them; one read whole makes them
    all in one pass once a quarter have been asked for one by one."""

    def __init__(self, codes: Any, build: Any, starts: np.ndarray, lens: np.ndarray) -> None:
        self.codes, self.build = codes, build
        self.starts, self.lens = starts, lens
        self._made: list = [None] * len(lens)
        self._count = 0  # records made one by one
        self._all = False

    def __len__(self) -> int:
        return len(self._made)

    def __getitem__(self, c):  # type: ignore[override]
        if isinstance(c, slice):
            return [self[i] for i in range(*c.indices(len(self)))]
        r = self._made[c]  # (an IndexError as a list's)
        if r is None:
            self._count += 1
            if self._count > max(256, len(self._made) // 4):
                self._make_all()
                return self._made[c]
            c = range(len(self._made))[c]
            r = self._made[c] = LazyRecord(self.codes, c, self.build, int(self.starts[c]), int(self.lens[c]))
        return r

    def __iter__(self) -> Iterator[LazyRecord]:
        self._make_all()
        return iter(self._made)

    def _make_all(self) -> None:
        """Every record not yet made, in one pass, with the cyclic garbage collector paused:
        tens of thousands of new objects (none of them garbage) would otherwise set off
        collections that walk the whole heap, which took most of this time."""
        if self._all:
            return
        self._all = True
        made, codes, build = self._made, self.codes, self.build
        paused = gc.isenabled()
        gc.disable()
        try:
            for c, (s, n) in enumerate(zip(self.starts.tolist(), self.lens.tolist())):
                if made[c] is None:
                    made[c] = LazyRecord(codes, c, build, s, n)
        finally:
            if paused:
                gc.enable()


def record_ranges(recs: Any, build: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """The store ranges (starts, lengths) of records that are all ``build``'s (an engine's
    :class:`LazyRecords`, or a list of its :class:`LazyRecord`), else None."""
    if isinstance(recs, LazyRecords) and recs.build == build:
        return recs.starts, recs.lens
    if all(isinstance(r, LazyRecord) and r._build == build for r in recs):
        return (np.array([r._args[0] for r in recs], dtype=np.int64),
                np.array([r._args[1] for r in recs], dtype=np.int64))
    return None


def prune(geom: Geom, D: int) -> Geom:
    """Drop labels that are not facets: fewer than D vertices, or a vertex set inside another's."""
    F = geom.F
    size = F.sum(axis=0)
    keep = size >= D
    if D >= 4 and keep.sum() > 1:
        Fi = F[:, keep].astype(np.int32)
        inter = Fi.T @ Fi
        sz = size[keep]
        sub = (inter == sz[:, None]) & (sz[None, :] > sz[:, None])
        inner = sub.any(axis=1)
        idx = np.flatnonzero(keep)
        keep[idx[inner]] = False
    if keep.all():
        return geom
    cols = np.flatnonzero(keep)
    return Geom(geom.X, geom.e, F[:, cols], [geom.labels[j] for j in cols], geom.exact)
