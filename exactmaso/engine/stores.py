"""Flat stores of the batched engines: vertices of every cell in contiguous arrays, and the
cells' codes as per-layer rows with parent indices.

:class:`PolygonStore` holds 2-D polygons (vertices in cyclic order, each with the label of
the edge leaving it); :class:`PolytopeStore` holds D-dimensional polytopes (vertices with
facet bit sets, and edges).  :class:`LevelCodes` keeps a level's codes as rows over the
parent level (tuples are built only when read); :class:`Labels` numbers the facet labels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..maso import Network


class Offset:
    """Codes ``a .. a + n - 1`` of a sequence of codes, indexed from 0."""

    def __init__(self, codes, a: int, n: int) -> None:
        self.codes, self.a, self.n = codes, a, n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, c: int) -> tuple:
        return self.codes[self.a + int(c)]

    def all(self) -> list[tuple]:
        return [self.codes[self.a + i] for i in range(self.n)]


class LevelCodes:
    """Codes of the cells of one level: parent level, parent index and this layer's code rows.

    Tuples are built only when asked for (the exact fallback, or the final regions).
    """

    def __init__(self, parent, parent_index: np.ndarray, rows: np.ndarray) -> None:
        self.parent = parent
        self.parent_index = parent_index
        self.rows = rows
        self._memo: dict[int, tuple] = {}
        self._all: list[tuple] | None = None

    MEMO = 256  # at least this many codes asked for one by one, and a quarter of them, before
    # all are built in one pass (an exact fallback asks for a few; a checker for all)

    def __len__(self) -> int:
        return len(self.parent_index)

    def __getitem__(self, c: int) -> tuple:
        if self._all is not None:
            return self._all[c]
        hit = self._memo.get(c)
        if hit is None:
            if len(self._memo) >= max(self.MEMO, len(self) // 4):  # most will be asked for: build all
                self._all = self.all()
                self._memo = {}
                return self._all[c]
            hit = self.parent[int(self.parent_index[c])] + (tuple(self.rows[c].tolist()),)
            self._memo[c] = hit
        return hit

    def all(self) -> list[tuple]:
        """Every code, built level by level in one pass."""
        if self._all is not None:
            return self._all
        prev = self.parent.all() if isinstance(self.parent, (LevelCodes, Offset)) else list(self.parent)
        return [prev[p] + (tuple(r),) for p, r in zip(self.parent_index.tolist(), self.rows.tolist())]


class PolygonStore:
    """Append-only vertex storage: coordinates, error bounds, outgoing edge labels, exact values."""

    def __init__(self, cap: int = 1024) -> None:
        self.X = np.empty((cap, 2))
        self.e = np.empty(cap)
        self.lab = np.empty(cap, dtype=np.int64)
        self.exact = np.empty(cap, dtype=object)
        self.n = 0

    def append(self, X, e, lab, exact) -> int:
        m = len(e)
        need = self.n + m
        grow(self, ("X", "e", "lab", "exact"), self.n, need)
        s = self.n
        self.X[s:need] = X
        self.e[s:need] = e
        self.lab[s:need] = lab
        self.exact[s:need] = exact
        self.n = need
        return s


def grow(store: Any, names: tuple, used: int, need: int) -> None:
    """Make room for ``need`` rows in the store's arrays (doubling), keeping the first ``used``."""
    if need <= len(getattr(store, names[0])):
        return
    cap = max(need, 2 * len(getattr(store, names[0])))
    for name in names:
        old = getattr(store, name)
        new = np.empty((cap,) + old.shape[1:], dtype=old.dtype)
        new[:used] = old[:used]
        setattr(store, name, new)


def excl(counts: np.ndarray) -> np.ndarray:
    """Exclusive cumulative sum: the start of each segment of the given lengths."""
    out = np.zeros(len(counts), dtype=np.int64)
    if len(counts) > 1:
        counts[:-1].cumsum(out=out[1:])  # (the method: called thousands of times per enumeration)
    return out


def true_at(mask: np.ndarray) -> np.ndarray:
    """The indices where a 1-D mask is true (``np.flatnonzero`` without its reshaping, which
    costs more than the search on the engine's small arrays)."""
    return mask.nonzero()[0]


def ranges(starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """Concatenation of arange(s, s + n) for each (s, n)."""
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offs = (starts - excl(lens)).repeat(lens)
    offs += np.arange(total)
    return offs


class Labels:
    """Integer facet labels: domain rows first, then a block per layer: one label per unit for
    units of at most two pieces (the pieces 0 and 1 tie), one per unit and pair of pieces
    ``(a, b)``, ``a < b``, for units of R >= 3 pieces (``k R^2 + a R + b`` in the block)."""

    def __init__(self, net: Network, m_dom: int) -> None:
        self.m = m_dom
        self.base, self.R, self.col = [], [], []
        off, col = m_dom, 0
        for mm in net.masos:
            R = mm.num_pieces
            self.base.append(off)
            self.R.append(R)
            self.col.append(col)
            off += mm.num_units * (R * R if R > 2 else 1)
            col += mm.num_units
        self.end = off
        self._memo: dict[int, tuple] = {}  # label -> tuple: regions' geometry decodes each label many times

    def unit(self, l: int, k: int) -> int:
        return self.base[l] + k

    def pair(self, l: int, k, a, b):
        """The label of pieces ``a < b`` of unit ``k`` of a layer of three or more pieces."""
        R = self.R[l]
        return self.base[l] + (k * R + a) * R + b

    def decode(self, v: int) -> tuple:
        hit = self._memo.get(v)
        if hit is None:
            hit = self._memo[int(v)] = self._decode(int(v))
        return hit

    def _decode(self, v: int) -> tuple:
        if v < self.m:
            return ("d", v)
        l = int(np.searchsorted(self.base, v, side="right") - 1)
        i, R = v - self.base[l], self.R[l]
        if R <= 2:
            return (l, i, 0, 1)
        k, ab = divmod(i, R * R)
        return (l, k, ab // R, ab % R)

    def decode_units(self, v: np.ndarray) -> tuple[np.ndarray, ...]:
        """For unit labels ``v`` (none a domain row): the unit's column among all units (layers
        side by side) and the two pieces that tie, vectorised."""
        base, R, col = (np.array(x, dtype=np.int64) for x in (self.base, self.R, self.col))
        l = np.searchsorted(base, v, side="right") - 1
        i = v - base[l]
        Rl = R[l]
        multi = Rl > 2
        RR = np.where(multi, Rl * Rl, 1)
        k = i // RR
        ab = i - k * RR
        a = np.where(multi, ab // np.maximum(Rl, 1), 0)
        b = np.where(multi, ab % np.maximum(Rl, 1), 1)
        return col[l] + k, a, b


def levels_of(codes: "LevelCodes", depth: int) -> list:
    """The last ``depth`` levels of a chain of codes as ``(parent index, rows)``, first first:
    what a worker returns of its codes (arrays, which cross processes far faster than the
    codes' tuples), for :func:`merge_levels`."""
    levels = []
    for _ in range(depth):
        levels.append((codes.parent_index, codes.rows))
        codes = codes.parent
    return levels[::-1]


def merge_levels(base: "LevelCodes", chunks: list) -> "LevelCodes":
    """The codes of the chunks' cells as one chain of levels over ``base`` (the first layer's
    cells); ``chunks`` are ``(first base cell, levels)`` in order, the levels of a chunk indexing
    its own cells."""
    merged = base
    depth = len(chunks[0][1]) if chunks else 0
    offsets = [a for a, _ in chunks]
    for j in range(depth):
        parents, rows = [], []
        for (_, levels), off in zip(chunks, offsets):
            pi, r = levels[j]
            parents.append(np.asarray(pi, dtype=np.int64) + off)
            rows.append(r)
        merged = LevelCodes(merged, np.concatenate(parents), np.concatenate(rows))
        sizes = [len(levels[j][0]) for _, levels in chunks]
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).tolist()
    return merged


class PolytopeStore:
    """Append-only storage of vertices (slots), of polytopes' vertex lists and of their edges.

    A polytope is a range of ``V`` (the slots of its vertices, in order) and a range of
    ``Eu``, ``Ev`` (its edges: the two ends, as positions in its own vertex list).  A slot may
    be listed by several polytopes: neighbours share the vertices on their common faces.

    Exact coordinates are known for few vertices (those the exact fallback computed), so they
    are kept in a dict by slot, with a flag array ``has`` telling which slots have one: copying
    vertices copies flags, and touches the dict only where a flag is set.
    """

    def __init__(self, D: int, W: int, cap: int = 4096) -> None:
        self.X = np.empty((cap, D))
        self.e = np.empty(cap)
        self.B = np.zeros((cap, W), dtype=np.uint64)
        self.has = np.zeros(cap, dtype=bool)
        self.exact: dict[int, tuple] = {}
        self.n = 0
        self.V = np.empty(4 * cap, dtype=np.int64)  # vertex lists: slots
        self.nv = 0
        self.Eu = np.empty(4 * cap, dtype=np.int32)  # edges: the two ends, as positions in
        self.Ev = np.empty(4 * cap, dtype=np.int32)  # their polytope's vertex list
        self.ne = 0

    def add_lists(self, slots: np.ndarray) -> int:
        """Append vertex-list entries; the first one's position in ``V``."""
        need = self.nv + len(slots)
        grow(self, ("V",), self.nv, need)
        s = self.nv
        self.V[s:need] = slots
        self.nv = need
        return s

    def reserve(self, m: int) -> int:
        need = self.n + m
        grow(self, ("X", "e", "B", "has"), self.n, need)
        s = self.n
        self.has[s:need] = False
        self.n = need
        return s

    def set_exact(self, slot: int, x: tuple) -> None:
        self.exact[slot] = x
        self.has[slot] = True

    def copy_exact(self, src: np.ndarray, dst: np.ndarray) -> None:
        """Slot ``dst[i]`` gets the exact coordinates of ``src[i]`` (where it has them)."""
        m = self.has[src]
        self.has[dst] = m
        if m.any():
            ex = self.exact
            for a, b in zip(src[m].tolist(), dst[m].tolist()):
                ex[b] = ex[a]

    def exact_at(self, idx: np.ndarray) -> tuple[np.ndarray, list]:
        """The positions ``i`` (in ``idx``) of the slots with exact coordinates, and those."""
        pos = np.flatnonzero(self.has[idx])
        return pos, [self.exact[s] for s in idx[pos].tolist()]

    def load_exact(self, s0: int, known: tuple[np.ndarray, list]) -> None:
        """Exact coordinates given as :meth:`exact_at` gives them, for slots from ``s0`` on."""
        pos, vals = known
        for i, x in zip(pos.tolist(), vals):
            self.set_exact(s0 + i, x)

    def add_edges(self, u: np.ndarray, v: np.ndarray) -> int:
        """Append edges (positions in their polytope's vertex list); the first one's index."""
        s = self.reserve_edges(len(u))
        self.Eu[s:self.ne] = u
        self.Ev[s:self.ne] = v
        return s

    def reserve_edges(self, m: int) -> int:
        """Room for ``m`` more edges (the caller fills ``Eu``, ``Ev`` there); the first one's index."""
        need = self.ne + m
        grow(self, ("Eu", "Ev"), self.ne, need)
        s = self.ne
        self.ne = need
        return s


def popcount(B: np.ndarray) -> np.ndarray:
    if B.shape[1] == 1:
        return np.bitwise_count(B[:, 0]).astype(np.int64)
    counts = np.bitwise_count(B).astype(np.int64)
    out = counts[:, 0].copy()
    for j in range(1, B.shape[1]):  # (a column at a time: see filter.row_sum)
        out += counts[:, j]
    return out


def unpack(B: np.ndarray) -> np.ndarray:
    """(n, W) uint64 bitsets -> (n, 64 W) bool, column j = label j."""
    B = np.ascontiguousarray(B)
    if B.dtype.byteorder == ">" or (B.dtype.byteorder == "=" and np.little_endian is False):  # pragma: no cover
        B = B.astype("<u8")
    return np.unpackbits(B.view(np.uint8).reshape(len(B), -1), axis=1, bitorder="little").astype(bool)
