"""Power diagrams and hierarchical vector quantisation (VQ) of data.

Inside the cell of the first ``l`` layers (a fixed prefix code) the input of layer ``l`` is
``z = M x + c``, exactly, and every piece of that layer is an affine function of ``x``.  Layer
``l`` assigns the code ``w`` (one piece per unit) that maximises ``sum_k g[k, w_k](x)``, i.e.
that minimises the power distance

    ||x - mu_w||^2 - rad_w,   mu_w = M^T sum_k A[k, w_k],
                              rad_w = ||mu_w||^2 + 2 (<sum_k A[k, w_k], c> + sum_k B[k, w_k])

(the two differ by ``||x||^2``, the same for every code).  The sum separates over the units,
so the arg-min over codes is the per-unit arg-max, and the layer cuts the cell into a power
diagram: one convex cell per code that wins somewhere.  Composed over the layers this is a
hierarchical vector quantiser; this module computes it exactly and compares it with K-means.

- :func:`power_diagram`: the cells (:class:`PowerCell`) of one layer inside one prefix cell,
  with exact centroid, radius, H-polytope and volume; :func:`power_diagrams` all of them for a
  partition (the hierarchy of :meth:`~exactmaso.regions.Partition.hierarchy`).
- :func:`assign`: the codes of data samples, every layer, decided exactly (a float pass with
  a rigorous error bound decides almost every sample; the rest take the exact forward pass).
- :func:`tree`: the hierarchy as it is occupied by data (counts, label purity, data means,
  exact centroids), with a K-means comparison per level (:func:`adjusted_rand_index`).
- :func:`summary`: per level, the number of cells, their exact volumes and how the layer
  splits the cells of the level above.

Levels and layers: layer ``l`` (``net.masos[l]``, ``l = 0`` first) turns the cells of level
``l`` (codes of layers ``0 .. l-1``; level 0 is the whole domain) into those of level ``l + 1``.
"""

from __future__ import annotations

import math
import operator
import warnings
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Hashable, Iterator, Sequence

import networkx as nx
import numpy as np

from .engine.filter import SAFETY, TINY, U, gamma
from .engine.kernel import Exact
from .errors import CertificateError, DomainError, ShapeError
from .maso import MASO, Network
from .numbers import to_fraction_array
from .polytope import Polytope

if TYPE_CHECKING:  # pragma: no cover
    from .regions import Partition

__all__ = [
    "PowerCell",
    "power_diagram",
    "power_diagrams",
    "assign",
    "tree",
    "summary",
    "Summary",
    "LevelSummary",
    "adjusted_rand_index",
    "purity",
]

Prefix = tuple[tuple[int, ...], ...]
IntRow = tuple[int, ...]  # (a_0 .. a_{D-1}, beta): the half-space a . x <= beta

_ETA = 2.0**-1074  # absolute error of rounding below the normal range


# ------------------------------------------------------------------------------------------
# power cells
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class PowerCell:
    """One cell of the power diagram of a layer inside a prefix cell.

    Attributes
    ----------
    code : tuple of int
        The layer's code on the cell: the winning piece of every unit.
    centroid : numpy.ndarray of Fraction, shape (D,)
        ``mu_w`` in input coordinates.
    radius : Fraction
        ``rad_w``; the cell is where ``||x - mu_w||^2 - rad_w`` is least among the codes.
    polytope : Polytope
        The closed cell, exact: the domain's rows, the rows of the prefix code and the rows
        of this code (not reduced: call :meth:`Polytope.irredundant` for the facets).
    volume : Fraction
        Exact volume (the sum of the volumes of the regions inside).
    """

    code: tuple[int, ...]
    centroid: np.ndarray
    radius: Fraction
    polytope: Polytope
    volume: Fraction

    def __post_init__(self) -> None:
        if not isinstance(self.polytope, Polytope):
            raise TypeError(f"PowerCell polytope is a {type(self.polytope).__name__}; expected an em.Polytope")
        D = self.polytope.dim
        centroid = to_fraction_array(self.centroid, name="PowerCell centroid", shape=(D,))
        object.__setattr__(self, "centroid", centroid)
        object.__setattr__(self, "code", tuple(operator.index(v) for v in self.code))
        if type(self.radius) is not Fraction or type(self.volume) is not Fraction:
            raise TypeError(
                f"PowerCell radius and volume are {type(self.radius).__name__} and {type(self.volume).__name__}; "
                "expected Fractions"
            )
        if self.volume <= 0:
            raise DomainError(f"PowerCell volume is {self.volume}; a cell of a power diagram is full-dimensional")

    def power_distance(self, x: Any) -> Fraction:
        """Exact ``||x - centroid||^2 - radius``."""
        X = to_fraction_array(x, name="x", shape=(self.polytope.dim,))
        return sum(((a - m) * (a - m) for a, m in zip(X, self.centroid)), Fraction(0)) - self.radius

    def __repr__(self) -> str:
        from ._display import code_text, short_decimal

        return (f"PowerCell(code={code_text([self.code], 48)}, volume={short_decimal(self.volume)}; "
                "exact: .centroid, .radius, .volume)")


def _check_layer(net: Network, level: Any) -> int:
    try:
        l = operator.index(level)
    except TypeError:
        raise ShapeError(f"level is {level!r:.40}; expected an int, a layer index 0 .. {len(net.masos) - 1}") from None
    if not 0 <= l < len(net.masos):
        raise ShapeError(f"level {l} does not exist; the network has layers 0 .. {len(net.masos) - 1}")
    return l


def _check_prefix(net: Network, level: int, prefix: Any) -> Prefix:
    """``prefix`` as a tuple of per-layer code tuples for layers ``0 .. level-1``."""
    try:
        layers = tuple(tuple(operator.index(c) for c in layer) for layer in prefix)
    except TypeError:
        raise ShapeError(f"prefix {prefix!r:.80} is not a sequence of per-layer sequences of ints") from None
    if len(layers) != level:
        raise ShapeError(f"prefix has codes for {len(layers)} layers; the cells of layer {level} need {level}")
    for i, (c, m) in enumerate(zip(layers, net.masos)):
        if len(c) != m.num_units:
            raise ShapeError(f"prefix code of layer {i} has {len(c)} entries; the layer has {m.num_units} units")
        if any(not 0 <= v < m.num_pieces for v in c):
            raise ShapeError(f"prefix code of layer {i} is {c}; pieces run from 0 to {m.num_pieces - 1}")
    return layers


def _primitive(row: Sequence[int]) -> IntRow:
    g = math.gcd(*row)
    return tuple(v // g for v in row) if g > 1 else tuple(row)


class _Rows:
    """Half-spaces ``a . x <= beta``: primitive integer rows (deduplicated, in order) and their
    exact arrays.  A cell's rows extend its parent's, sharing the converted arrays."""

    __slots__ = ("keys", "A", "b")

    def __init__(self, keys: dict[IntRow, None], A: np.ndarray, b: np.ndarray) -> None:
        self.keys = keys
        self.A = A
        self.b = b

    @classmethod
    def empty(cls, D: int) -> "_Rows":
        return cls({}, np.empty((0, D), dtype=object), np.empty(0, dtype=object))

    def extended(self, rows: Sequence[IntRow]) -> "_Rows":
        new = [r for r in dict.fromkeys(rows) if r not in self.keys]
        if not new:
            return self
        D = self.A.shape[1]
        A = np.empty((len(new), D), dtype=object)
        b = np.empty(len(new), dtype=object)
        for i, r in enumerate(new):
            A[i, :] = [Fraction(v) for v in r[:D]]
            b[i] = Fraction(r[D])
        keys = dict(self.keys)
        keys.update(dict.fromkeys(new))
        return _Rows(keys, np.vstack([self.A, A]), np.concatenate([self.b, b]))

    def polytope(self, *, check: bool) -> Polytope:
        return Polytope(self.A, self.b, check=check)


def _domain_rows(domain: Any, D: int) -> list[IntRow]:
    """The rows of a Box / Polytope domain as primitive integer rows ``(a, beta)``."""
    if not isinstance(domain, Polytope):
        raise DomainError(f"the domain is a {type(domain).__name__}; expected em.Box(lo, hi) or em.Polytope(A, b)")
    if domain.dim != D:
        raise ShapeError(f"the domain lives in dimension {domain.dim}; the network input has {D} coordinates")
    out = []
    for a, beta in zip(domain.A, domain.b):
        den = math.lcm(*(v.denominator for v in (*a, beta)))
        row = [v.numerator * (den // v.denominator) for v in (*a, beta)]
        if any(row[:D]):
            out.append(_primitive(row))
    return out


def _unit_rows(exact: Exact, prefix: Prefix, k: int, w: int) -> list[IntRow] | None:
    """Half-spaces on which piece ``w`` wins unit ``k`` of layer ``len(prefix)`` in the cell
    ``prefix``: ``g_r - g_w <= 0`` for every other piece ``r`` (strictly for ``r < w``, which
    matters only when the difference is constant).  None when it never wins."""
    pieces, _ = exact.pieces_at(prefix)  # affine functions of x, times a positive denominator
    D = exact.D
    R = exact.net.masos[len(prefix)].num_pieces
    gw = pieces[k * R + w]
    out = []
    for r in range(R):
        if r == w:
            continue
        d = [p - q for p, q in zip(pieces[k * R + r], gw)]
        if any(d[:D]):
            out.append(_primitive(d[:D] + [-d[D]]))
        elif d[D] > 0 or (d[D] == 0 and r < w):
            return None  # piece r beats (or ties with a lower index) piece w everywhere
    return out


def _choice_rows(exact: Exact, prefix: Prefix, code_l: Sequence[int], memo: dict | None = None) -> list[IntRow] | None:
    """Half-spaces on which layer ``len(prefix)`` picks ``code_l`` in the cell ``prefix``
    (None when some unit's piece never wins); ``memo`` caches per (unit, piece) across codes
    of one prefix."""
    memo = {} if memo is None else memo
    out: list[IntRow] = []
    for k, w in enumerate(code_l):
        if (k, w) not in memo:
            memo[(k, w)] = _unit_rows(exact, prefix, k, w)
        rows = memo[(k, w)]
        if rows is None:
            return None
        out += rows
    return out


def _prefix_rows(exact: Exact, prefix: Prefix) -> list[IntRow] | None:
    """Half-spaces of the closed cell of ``prefix`` (without the domain); None if empty."""
    out: list[IntRow] = []
    for l in range(len(prefix)):
        rows = _choice_rows(exact, prefix[:l], prefix[l])
        if rows is None:
            return None
        out += rows
    return out


def _centroid_radius(exact: Exact, prefix: Prefix, code_l: Sequence[int]) -> tuple[np.ndarray, Fraction]:
    """``(mu_w, rad_w)`` of code ``code_l`` of layer ``len(prefix)`` inside the cell ``prefix``.

    ``sum_k g[k, w_k](x) = s . x + t`` with ``s = M^T sum_k A[k, w_k]`` and
    ``t = <sum_k A[k, w_k], c> + sum_k B[k, w_k]``, so ``mu = s`` and ``rad = ||s||^2 + 2 t``.
    """
    pieces, den = exact.pieces_at(prefix)
    D = exact.D
    R = exact.net.masos[len(prefix)].num_pieces
    total = [0] * (D + 1)
    for k, w in enumerate(code_l):
        total = [a + b for a, b in zip(total, pieces[k * R + w])]
    mu = np.empty(D, dtype=object)
    mu[:] = [Fraction(v, den) for v in total[:D]]
    rad = sum((v * v for v in mu), Fraction(0)) + 2 * Fraction(total[D], den)
    return mu, rad


def _diagram(exact: Exact, base: _Rows, prefix: Prefix, volumes: dict[tuple, Fraction]) -> tuple[list[PowerCell], list[_Rows]]:
    """The power cells of layer ``len(prefix)`` in the cell ``prefix`` (half-spaces ``base``),
    one per code of ``volumes`` (code -> exact volume), sorted by code; and their rows."""
    cells, rows = [], []
    memo: dict = {}
    for w in sorted(volumes):
        own = _choice_rows(exact, prefix, w, memo)
        if own is None:  # pragma: no cover - a region has this code, so it wins somewhere
            raise CertificateError(f"code {w} of layer {len(prefix)} holds regions but never wins in cell {prefix}")
        mu, rad = _centroid_radius(exact, prefix, w)
        cell_rows = base.extended(own)
        # check=False: the cell holds regions of positive volume, so it is full-dimensional
        cells.append(PowerCell(w, mu, rad, cell_rows.polytope(check=False), volumes[w]))
        rows.append(cell_rows)
    return cells, rows


def _is_partition(obj: Any) -> bool:
    from .regions import Partition

    return isinstance(obj, Partition)


def _empty_exact(net: Network) -> Exact:
    """The engine's exact kernel for the pieces of ``net`` on prefix cells (no domain rows)."""
    return Exact(net, np.zeros((0, net.input_dim), dtype=object), np.zeros(0, dtype=object))


def _partition_domain(part: "Partition") -> _Rows:
    dom = part.domain
    if not isinstance(dom, Polytope):
        dom = Polytope(to_fraction_array(dom.A, name="domain A", ndim=2), to_fraction_array(dom.b, name="domain b", ndim=1),
                       check=False)
    return _Rows.empty(part.net.input_dim).extended(_domain_rows(dom, part.net.input_dim))


def power_diagram(net: "Network | Partition", level: int, prefix: Any = (), domain: Any = None) -> list[PowerCell]:
    """The power diagram of layer ``level`` inside the cell of a prefix code, exactly.

    Parameters
    ----------
    net : Network or Partition
        A network (then ``domain`` is required), or a partition from :func:`em.regions
        <exactmaso.regions.regions>`, whose regions are reused (no new enumeration; the
        domain is the partition's).
    level : int
        The layer, ``0 .. len(net.masos) - 1`` (0 is the first layer).
    prefix : sequence of per-layer codes, length ``level``
        The codes of layers ``0 .. level-1`` that fix the cell (``()`` for layer 0: the cell
        is the whole domain).
    domain : Box or Polytope
        The bounded input set; required with a network (power cells are unbounded in
        general, and the volumes need a bounded set), not allowed with a partition.

    Returns
    -------
    list of PowerCell
        One per layer-``level`` code whose cell is full-dimensional inside the prefix cell,
        sorted by code.  Their volumes sum exactly to the prefix cell's volume.

    Raises
    ------
    DomainError
        No domain was given with a network (or one was given with a partition), or the
        prefix cell is empty or not full-dimensional in the domain.
    ShapeError
        ``level`` or ``prefix`` does not fit the network.

    Notes
    -----
    With a network, the prefix cell is built from the exact pieces (checked to be
    full-dimensional, reduced to its facets) and the network truncated after layer
    ``level`` is enumerated inside it with :func:`~exactmaso.regions.regions`: each of
    its regions is one power cell (a cell is convex).

    Examples
    --------
    >>> import exactmaso as em
    >>> net = em.mlp([[[1]], [[1]]], [[0], [0]])          # relu(x) on [-1, 2]
    >>> [(c.code, c.volume) for c in em.power_diagram(net, 0, domain=em.Box([-1], [2]))]
    [((0,), Fraction(1, 1)), ((1,), Fraction(2, 1))]
    """
    if _is_partition(net):
        if domain is not None:
            raise DomainError("power_diagram got a Partition and a domain; a partition brings its own domain, "
                              "pass one or the other")
        return _partition_diagram(net, level, prefix)
    if not isinstance(net, Network):
        raise TypeError(f"net is a {type(net).__name__}; expected an em.Network or an em.Partition")
    if domain is None:
        raise DomainError("power_diagram of a network needs a bounded domain: pass domain=em.Box(lo, hi) or "
                          "em.Polytope(A, b) (or pass a Partition instead of the network)")
    l = _check_layer(net, level)
    pre = _check_prefix(net, l, prefix)
    D = net.input_dim
    exact = _empty_exact(net)
    rows = _prefix_rows(exact, pre)
    if rows is None:
        raise DomainError(f"the cell of prefix {pre} is empty: a constant difference of pieces rules the code out everywhere")
    try:
        cell = _Rows.empty(D).extended(_domain_rows(domain, D) + rows).polytope(check=True).irredundant()
    except DomainError as exc:
        raise DomainError(f"the cell of prefix {pre} inside the domain is not full-dimensional "
                          f"({getattr(exc, 'kind', 'empty or flat')}); expected a prefix code that holds a region") from exc
    from .regions import regions

    part = regions(Network.from_masos(net.masos[: l + 1]), cell)
    volumes: dict[tuple, Fraction] = {}
    for reg in part:
        if reg.code[:l] != pre:  # pragma: no cover - the interior of the cell has the prefix code
            raise CertificateError(f"region with code {reg.code} lies inside the cell of prefix {pre}")
        volumes[reg.code[l]] = volumes.get(reg.code[l], Fraction(0)) + reg.volume()
    return _diagram(exact, _Rows.empty(D).extended(_domain_rows(cell, D)), pre, volumes)[0]


def _partition_diagram(part: "Partition", level: int, prefix: Any) -> list[PowerCell]:
    net = part.net
    l = _check_layer(net, level)
    pre = _check_prefix(net, l, prefix)
    volumes: dict[tuple, Fraction] = {}
    for reg in part:
        if reg.code[:l] == pre:
            volumes[reg.code[l]] = volumes.get(reg.code[l], Fraction(0)) + reg.volume()
    if not volumes:
        raise DomainError(f"no region of the partition has the prefix code {pre}; its cell is not full-dimensional")
    exact = _empty_exact(net)
    rows = _prefix_rows(exact, pre)
    if rows is None:  # pragma: no cover - regions have this prefix
        raise CertificateError(f"prefix {pre} holds regions but its cell is empty")
    return _diagram(exact, _partition_domain(part).extended(rows), pre, volumes)[0]


def power_diagrams(part: "Partition") -> dict[tuple[int, Prefix], list[PowerCell]]:
    """Every power diagram of a partition's hierarchy.

    Returns
    -------
    dict
        ``(l, prefix) -> power_diagram(part, l, prefix)`` for every level ``l < L`` and every
        prefix code of length ``l`` that holds a region, in depth-first order of the
        hierarchy (the keys are the inner nodes of :meth:`Partition.hierarchy`).
    """
    if not _is_partition(part):
        raise TypeError(f"power_diagrams takes an em.Partition; got a {type(part).__name__}")
    net = part.net
    L = len(net.masos)
    exact = _empty_exact(net)
    volumes: dict[tuple[int, Prefix], dict[tuple, Fraction]] = {}
    for reg in part:
        v = reg.volume()
        for l in range(L):
            node = volumes.setdefault((l, reg.code[:l]), {})
            node[reg.code[l]] = node.get(reg.code[l], Fraction(0)) + v
    rows: dict[Prefix, _Rows] = {(): _partition_domain(part)}
    out: dict[tuple[int, Prefix], list[PowerCell]] = {}
    for (l, pre) in sorted(volumes, key=lambda node: node[1]):  # depth first: parents before children
        cells, cell_rows = _diagram(exact, rows.pop(pre), pre, volumes[(l, pre)])
        out[(l, pre)] = cells
        if l + 1 < L:
            for c, r in zip(cells, cell_rows):
                rows[pre + (c.code,)] = r
    return out


# ------------------------------------------------------------------------------------------
# codes of data: a rigorous float pass, exact where it cannot decide
# ------------------------------------------------------------------------------------------


def _competing(m: MASO, P: np.ndarray) -> np.ndarray:
    """(K, R) bool: piece r of unit k is not an exact copy of a lower piece of that unit.

    A copy never wins (ties go to the lowest index), so only the others compete.  Equal
    floats ``P`` propose the copies; the exact pieces decide."""
    K, R, _ = m.A.shape
    out = np.ones((K, R), dtype=bool)
    for r in range(1, R):
        same = (P[:, :r, :] == P[:, r : r + 1, :]).all(axis=2)  # (K, r) float copies
        for k, q in zip(*np.nonzero(same)):
            if out[k, r] and m.B[k, q] == m.B[k, r] and all(u == v for u, v in zip(m.A[k, q], m.A[k, r])):
                out[k, r] = False
    return out


def _float_codes(masos: Sequence[MASO], Z: np.ndarray, E: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Per-layer codes (N, K) from a float pass, and a mask of the samples it decided.

    ``Z`` holds float inputs and ``E`` bounds ``|x - Z|`` entrywise.  Each piece value
    ``v = fl(a . z + b)`` of the rounded pieces ``(a, b)`` satisfies

        |exact - v| <= (1 + 2u) |a| . E + (2u + gamma_{n+1}) (|a| . |z| + |b|)
                       + eta (|z|_1 + |E|_1 + 1)

    (pieces within ``2u |a| + eta`` of the exact ones, the dot product within
    ``gamma_{n+1}``); a unit is decided where the float winner beats every other competing
    piece by more than the two bounds.  The winner's value and bound feed the next layer.
    Nothing non-finite decides.
    """
    N = Z.shape[0]
    ok = np.isfinite(Z).all(axis=1) & np.isfinite(E).all(axis=1)
    codes = []
    with np.errstate(all="ignore"):
        for m in masos:
            K, R, n = m.A.shape
            P = m.pieces_float()
            if not np.isfinite(P).all():
                ok[:] = False
            A = P[:, :, :n].reshape(K * R, n)
            B = P[:, :, n].reshape(K * R)
            absA = np.abs(A)
            V = (Z @ A.T + B).reshape(N, K, R)
            scale = (1 + 2 * U) * E + (2 * U + gamma(n + 1)) * np.abs(Z)
            err = scale @ absA.T + (2 * U + gamma(n + 1)) * np.abs(B)
            err += _ETA * (np.abs(Z).sum(axis=1) + E.sum(axis=1) + 1)[:, None]
            err = (err * SAFETY + TINY).reshape(N, K, R)
            ok &= np.isfinite(V).all(axis=(1, 2)) & np.isfinite(err).all(axis=(1, 2))
            if R == 1:
                w = np.zeros((N, K), dtype=np.int64)
                Z, E = V[:, :, 0], err[:, :, 0]
            elif R == 2:
                live = _competing(m, P)[:, 1]  # False: piece 1 copies piece 0 and never wins
                diff = V[:, :, 1] - V[:, :, 0]
                need = (err[:, :, 0] + err[:, :, 1]) * SAFETY + TINY
                win = (diff > 0) & live
                ok &= ((np.abs(diff) > need) | ~live).all(axis=1)
                w = win.astype(np.int64)
                Z = np.where(win, V[:, :, 1], V[:, :, 0])
                E = np.where(win, err[:, :, 1], err[:, :, 0])
            else:
                live = _competing(m, P)[None, :, :]
                w = np.argmax(np.where(live, V, -np.inf), axis=2)
                vw = np.take_along_axis(V, w[:, :, None], axis=2)
                ew = np.take_along_axis(err, w[:, :, None], axis=2)
                beats = (vw - V) > (ew + err) * SAFETY + TINY
                beats |= ~live | (np.arange(R)[None, None, :] == w[:, :, None])
                ok &= beats.all(axis=(1, 2))
                Z, E = vw[:, :, 0], ew[:, :, 0]
            codes.append(w)
    return codes, ok


class _Samples:
    """Data samples (N, D): nearest floats, a bound on their distance to the exact values, and
    the exact rows on demand."""

    def __init__(self, net: Network, X: Any) -> None:
        if isinstance(X, np.ndarray) and X.dtype.kind == "f" and X.dtype.itemsize <= 8:
            floats = self._shaped(net, X.astype(np.float64))  # float16/32/64 widen exactly
            bad = ~np.isfinite(floats)
            if bad.any():
                i, j = (int(v) for v in np.argwhere(bad)[0])
                raise DomainError(f"X[{i}, {j}] is {float(floats[i, j])!r}; expected a finite real number")
            self.exact: np.ndarray | None = None  # the floats are the exact values
            self.floats = floats
            self.error = np.zeros_like(floats)
        else:
            exact = self._shaped(net, to_fraction_array(X, name="X"))
            floats = np.empty(exact.shape, dtype=np.float64)
            flat = floats.reshape(-1)
            for i, v in enumerate(exact.flat):
                try:
                    flat[i] = float(v)  # correctly rounded
                except OverflowError:  # non-finite floats never decide: the exact path takes it
                    flat[i] = math.inf if v > 0 else -math.inf
            self.exact = exact
            self.floats = floats
            self.error = 2 * U * np.abs(floats) + _ETA  # within u |x|, or eta below the normal range

    @staticmethod
    def _shaped(net: Network, arr: np.ndarray) -> np.ndarray:
        D, shape = net.input_dim, net.input_shape
        if arr.ndim == len(shape) + 1 and arr.shape[1:] == shape:
            arr = arr.reshape(arr.shape[0], D)
        if arr.ndim != 2 or arr.shape[1] != D:
            more = f" or (N, {', '.join(map(str, shape))})" if len(shape) > 1 else ""
            raise ShapeError(f"X has shape {arr.shape}; expected (N, {D}){more}")
        return arr

    def __len__(self) -> int:
        return self.floats.shape[0]

    def exact_rows(self, idx: np.ndarray) -> np.ndarray:
        if self.exact is not None:
            return self.exact[idx]
        return to_fraction_array(self.floats[idx], name="X")


def _codes(net: Network, samples: _Samples, layers: int) -> tuple[list[np.ndarray], int]:
    """Codes of layers ``0 .. layers-1`` of every sample, exact; and how many took the exact path."""
    masos = net.masos[:layers]
    codes, ok = _float_codes(masos, samples.floats, samples.error)
    todo = np.flatnonzero(~ok)
    if len(todo):
        sub = Network.from_masos(masos, input_shape=net.input_shape)
        rows = samples.exact_rows(todo).reshape(len(todo), *net.input_shape)  # a batch, even of one
        exact = sub.code(rows)
        for l in range(layers):
            codes[l][todo] = np.array([c[l] for c in exact], dtype=np.int64).reshape(len(todo), -1)
    return codes, len(todo)


def assign(net: Network, X: Any, level: int | None = None) -> list[np.ndarray] | np.ndarray:
    """The code of every sample at every layer (its cell of the hierarchical VQ), exactly.

    Parameters
    ----------
    net : Network
    X : array-like, shape (N, D) (or (N, *net.input_shape))
        Floats (their exact binary values), ints, Fractions, "p/q" strings.
    level : int, optional
        A layer index ``0 .. len(net.masos) - 1``: return only that layer's codes.

    Returns
    -------
    list of numpy.ndarray, or numpy.ndarray
        With ``level=None``, one int64 array per layer, shape (N, K_l): row ``j`` of array
        ``l`` is ``net.code(X[j])[l]``.  With ``level=l``, that one array.  The cell of sample
        ``j`` at level ``l + 1`` of the hierarchy is the prefix of its first ``l + 1`` rows.

    Notes
    -----
    A float64 pass decides each unit's winning piece where its margin over every other
    piece exceeds a rigorous bound on the rounding errors, ``gamma_{n+1} (|a| . |z| + |b|)``
    plus the rounding of the pieces and the errors carried from the layers before; a sample
    with any undecided unit (a tie on a boundary, an overflow) takes the exact integer
    forward pass.  The result equals ``net.code`` on every sample.

    Examples
    --------
    >>> import exactmaso as em
    >>> net = em.mlp([[[1], [-1]], [[1, 1]]], [[0, 0], [0]])
    >>> assign(net, [[2], [0], ["-1/3"]], level=0).tolist()
    [[1, 0], [0, 0], [0, 1]]
    """
    if not isinstance(net, Network):
        raise TypeError(f"net is a {type(net).__name__}; expected an em.Network")
    samples = _Samples(net, X)
    if level is None:
        return _codes(net, samples, len(net.masos))[0]
    l = _check_layer(net, level)
    return _codes(net, samples, l + 1)[0][l]


# ------------------------------------------------------------------------------------------
# comparing partitions of data
# ------------------------------------------------------------------------------------------


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def _check_same_length(a: Sequence[Hashable], b: Sequence[Hashable], names: str) -> None:
    if len(a) != len(b):
        raise ShapeError(f"{names} have {len(a)} and {len(b)} entries; expected one per sample each")


def adjusted_rand_index(a: Sequence[Hashable], b: Sequence[Hashable]) -> Fraction:
    """Adjusted Rand index of two clusterings of the same samples, exactly.

    From the contingency table ``n_ij`` (samples in cluster ``i`` of ``a`` and ``j`` of
    ``b``), its row sums ``a_i`` and column sums ``b_j``:
    ``ARI = (S - E) / ((S_a + S_b) / 2 - E)`` with ``S = sum C(n_ij, 2)``,
    ``S_a = sum C(a_i, 2)``, ``S_b = sum C(b_j, 2)``, ``E = S_a S_b / C(n, 2)``.  The
    denominator vanishes only when both clusterings are one cluster or both all singletons
    (then they are equal): the index is 1 there, as for fewer than two samples.

    Examples
    --------
    >>> adjusted_rand_index([0, 0, 1, 1], [0, 0, 1, 2])
    Fraction(4, 7)
    >>> adjusted_rand_index([0, 0, 1, 1], ["b", "b", "a", "a"])
    Fraction(1, 1)
    """
    a, b = list(a), list(b)
    _check_same_length(a, b, "the two clusterings")
    n = len(a)
    if n < 2:
        return Fraction(1)
    S = sum(_pairs(v) for v in Counter(zip(a, b)).values())
    Sa = sum(_pairs(v) for v in Counter(a).values())
    Sb = sum(_pairs(v) for v in Counter(b).values())
    expected = Fraction(Sa * Sb, _pairs(n))
    top = Fraction(Sa + Sb, 2)
    if top == expected:
        return Fraction(1)
    return (S - expected) / (top - expected)


def purity(clusters: Sequence[Hashable], labels: Sequence[Hashable]) -> Fraction:
    """Fraction of the samples that carry the majority label of their cluster (in [0, 1]).

    >>> purity([0, 0, 0, 1], ["x", "x", "y", "y"])
    Fraction(3, 4)
    """
    clusters, labels = list(clusters), list(labels)
    _check_same_length(clusters, labels, "clusters and labels")
    if not clusters:
        return Fraction(1)
    best: dict[Hashable, int] = {}
    for (c, _), v in Counter(zip(clusters, labels)).items():
        best[c] = max(best.get(c, 0), v)
    return Fraction(sum(best.values()), len(clusters))


def _distortion(X: np.ndarray, clusters: np.ndarray) -> float:
    """Mean squared distance of the samples to the mean of their cluster (float)."""
    counts = np.bincount(clusters)
    sums = np.stack([np.bincount(clusters, weights=X[:, j], minlength=len(counts)) for j in range(X.shape[1])], axis=1)
    means = sums / np.maximum(counts, 1)[:, None]
    return float(((X - means[clusters]) ** 2).sum() / len(X))


def _kmeans_pp(X: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding (Arthur and Vassilvitskii 2007) in O(N k D): each new centre is a
    sample drawn with probability proportional to its squared distance to the nearest centre
    so far (scipy's own ``minit="++"`` recomputes all distances at every step)."""
    N = len(X)
    centres = [X[rng.integers(N)]]
    d2 = ((X - centres[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        cum = np.cumsum(d2)
        if cum[-1] > 0:  # P(i) = d2[i] / sum(d2)
            i = min(int(np.searchsorted(cum, rng.random() * cum[-1], side="right")), N - 1)
        else:  # every sample sits on a centre already
            i = int(rng.integers(N))
        centres.append(X[i])
        d2 = np.minimum(d2, ((X - X[i]) ** 2).sum(axis=1))
    return np.array(centres)


def _kmeans(X: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Cluster labels of ``scipy.cluster.vq.kmeans2`` with ``k`` clusters, k-means++ seeding."""
    from scipy.cluster.vq import kmeans2

    if k == 1:
        return np.zeros(len(X), dtype=np.int64)
    rng = np.random.default_rng(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an empty cluster warns; the comparison stays valid
        _, lab = kmeans2(X, _kmeans_pp(X, k, rng), minit="matrix", seed=rng)
    return lab.astype(np.int64)


# ------------------------------------------------------------------------------------------
# the hierarchy occupied by data
# ------------------------------------------------------------------------------------------


def tree(net: Network, X: Any, labels: Sequence[Hashable] | None = None, *, seed: int = 0,
         centroids: bool = True) -> nx.DiGraph:
    """The hierarchy of ``net``'s cells as occupied by the samples ``X``, with a K-means report.

    Parameters
    ----------
    net : Network
    X : array-like (N, D), N >= 1
        Samples (see :func:`assign`).
    labels : sequence of N hashable labels, optional
        Class labels; give node purities and the purities of the report.
    seed : int, keyword-only
        Seed of the K-means runs.
    centroids : bool, keyword-only
        Attach each cell's exact power-diagram ``centroid`` and ``radius`` (one exact product
        per occupied cell; switch off for large data on wide networks).

    Returns
    -------
    networkx.DiGraph
        Nodes ``(level, prefix_code)`` as in :meth:`Partition.hierarchy`: the root ``(0, ())``
        holds every sample, node ``(l + 1, prefix + (w,))`` the samples of ``(l, prefix)``
        that layer ``l`` sends to code ``w``; only occupied cells appear.  Node attributes:

        - ``level``; ``count`` (samples; children's counts add up to the parent's);
        - ``purity`` (Fraction in [0, 1]: the majority label's share) and ``majority``
          (that label), None without labels;
        - ``data_centroid``: float mean of the node's samples, shape (D,);
        - ``centroid``, ``radius`` (non-root nodes, with ``centroids=True``): the exact
          power-diagram centroid and radius of the cell (see :func:`power_diagram`).

        ``G.graph["kmeans"]`` maps each level ``l = 1 .. L`` to a dict: ``k`` (occupied
        cells), ``ari`` (:func:`adjusted_rand_index` of the network's cells and K-means with
        ``k`` clusters on the same samples, ``scipy.cluster.vq.kmeans2``, k-means++ seeding),
        ``network_purity`` and ``kmeans_purity`` (None without labels), and
        ``network_distortion`` / ``kmeans_distortion`` (mean squared distance to the cluster
        mean, floats).  ``G.graph["exact_fallbacks"]`` counts the samples :func:`assign`
        decided exactly.
    """
    if not isinstance(net, Network):
        raise TypeError(f"net is a {type(net).__name__}; expected an em.Network")
    samples = _Samples(net, X)
    N = len(samples)
    if N == 0:
        raise ShapeError("X has no samples; expected at least one row")
    if labels is not None:
        labels = list(labels)
        if len(labels) != N:
            raise ShapeError(f"labels has {len(labels)} entries; X has {N} samples")
    L = len(net.masos)
    codes, fallbacks = _codes(net, samples, L)
    Xf = samples.floats
    # cell ids per level: level l + 1 refines level l by the layer-l code
    ids = [np.zeros(N, dtype=np.int64)]
    for l in range(L):
        _, inv = np.unique(np.column_stack([ids[-1], codes[l]]), axis=0, return_inverse=True)
        ids.append(inv.reshape(-1).astype(np.int64))
    exact = _empty_exact(net) if centroids else None

    G = nx.DiGraph()
    _add_tree_node(G, (0, ()), np.arange(N), Xf, labels)
    prefixes: list[Prefix] = [()]  # prefix of each cell id of the current level
    for l in range(L):
        order = np.argsort(ids[l + 1], kind="stable")
        starts = np.flatnonzero(np.r_[True, np.diff(ids[l + 1][order]) != 0])
        groups = np.split(order, starts[1:])  # members of cell id 0, 1, ... of level l + 1
        nxt: list[Prefix] = []
        for members in groups:
            j = int(members[0])
            parent = prefixes[int(ids[l][j])]
            w = tuple(int(v) for v in codes[l][j])
            nxt.append(parent + (w,))
        for c in sorted(range(len(groups)), key=nxt.__getitem__):  # depth-first node order
            parent, w = nxt[c][:-1], nxt[c][-1]
            node = (l + 1, nxt[c])
            _add_tree_node(G, node, groups[c], Xf, labels)
            if exact is not None:
                G.nodes[node]["centroid"], G.nodes[node]["radius"] = _centroid_radius(exact, parent, w)
            G.add_edge((l, parent), node)
        prefixes = nxt
    G.graph["kmeans"] = {l: _kmeans_report(Xf, ids[l], labels, seed) for l in range(1, L + 1)}
    G.graph["exact_fallbacks"] = fallbacks
    return G


def _add_tree_node(G: nx.DiGraph, node: tuple, members: np.ndarray, Xf: np.ndarray, labels: list | None) -> None:
    pur = majority = None
    if labels is not None:
        majority, top = Counter(labels[i] for i in members.tolist()).most_common(1)[0]
        pur = Fraction(top, len(members))
    G.add_node(node, level=node[0], count=len(members), purity=pur, majority=majority,
               data_centroid=Xf[members].mean(axis=0))


def _kmeans_report(Xf: np.ndarray, cells: np.ndarray, labels: list | None, seed: int) -> dict[str, Any]:
    k = int(cells.max()) + 1
    km = _kmeans(Xf, k, seed)
    return {
        "k": k,
        "ari": adjusted_rand_index(cells.tolist(), km.tolist()),
        "network_purity": purity(cells.tolist(), labels) if labels is not None else None,
        "kmeans_purity": purity(km.tolist(), labels) if labels is not None else None,
        "network_distortion": _distortion(Xf, cells),
        "kmeans_distortion": _distortion(Xf, km),
    }


# ------------------------------------------------------------------------------------------
# summary table
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LevelSummary:
    """One level of :func:`summary`: the cells of layers ``0 .. level-1``.

    Attributes
    ----------
    level : int
        ``1 .. L``; the layer that made these cells is ``level - 1``.
    cells : int
        Number of full-dimensional cells.
    min_volume, median_volume, max_volume : Fraction
        Exact cell volumes (the median of an even count is the mean of the middle two).
    parents : int
        Cells of level ``level - 1``.
    split : int
        How many of them the layer cuts into two or more cells.
    mean_children : Fraction
        ``cells / parents``.
    max_children : int
        The most cells one parent is cut into.
    """

    level: int
    cells: int
    min_volume: Fraction
    median_volume: Fraction
    max_volume: Fraction
    parents: int
    split: int
    mean_children: Fraction
    max_children: int

    def __repr__(self) -> str:
        from ._display import short_decimal

        return (f"LevelSummary(level={self.level}, cells={self.cells}, volumes {short_decimal(self.min_volume)} "
                f"to {short_decimal(self.max_volume)}, split {self.split} of {self.parents}; "
                "exact: .min_volume, .median_volume, .max_volume)")


_COLUMNS = ("level", "cells", "min volume", "median volume", "max volume", "split", "mean children", "max children")


@dataclass(frozen=True, slots=True)
class Summary(Sequence[LevelSummary]):
    """The rows of :func:`summary`, one per level; ``str()`` prints an aligned table."""

    rows: tuple[LevelSummary, ...]

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i):  # type: ignore[override]
        return self.rows[i]

    def __iter__(self) -> Iterator[LevelSummary]:
        return iter(self.rows)

    def __repr__(self) -> str:
        cells = ", ".join(str(r.cells) for r in self.rows[:8]) + (", ..." if len(self.rows) > 8 else "")
        return f"Summary({len(self.rows)} levels, cells per level {cells}; print() shows the table)"

    def __str__(self) -> str:
        table = [list(_COLUMNS)]
        for r in self.rows:
            table.append([
                str(r.level), str(r.cells), f"{float(r.min_volume):.4g}", f"{float(r.median_volume):.4g}",
                f"{float(r.max_volume):.4g}", f"{r.split} of {r.parents}", f"{float(r.mean_children):.2f}",
                str(r.max_children),
            ])
        widths = [max(len(row[i]) for row in table) for i in range(len(_COLUMNS))]
        return "\n".join("  ".join(cell.rjust(w) for cell, w in zip(row, widths)) for row in table)


def _median(values: list[Fraction]) -> Fraction:
    s = sorted(values)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def summary(part: "Partition") -> Summary:
    """Per level of the hierarchy: cells, exact volumes, and how the layer splits.

    Examples
    --------
    >>> import exactmaso as em
    >>> net = em.mlp([[[1], [-1]], [[1, 1]]], [["-1/2", "-1/2"], [0]])
    >>> s = em.vq.summary(em.regions(net, em.Box([-1], [1])))
    >>> [(r.level, r.cells, r.max_volume, r.split) for r in s]
    [(1, 3, Fraction(1, 1), 1), (2, 3, Fraction(1, 1), 0)]
    """
    if not _is_partition(part):
        raise TypeError(f"summary takes an em.Partition; got a {type(part).__name__}")
    L = len(part.net.masos)
    vols = [r.volume() for r in part]
    rows = []
    for l in range(1, L + 1):
        cell_vol: dict[Prefix, Fraction] = {}
        children: dict[Prefix, set] = {}
        for r, v in zip(part, vols):
            cell_vol[r.code[:l]] = cell_vol.get(r.code[:l], Fraction(0)) + v
            children.setdefault(r.code[: l - 1], set()).add(r.code[l - 1])
        values = list(cell_vol.values())
        counts = [len(c) for c in children.values()]
        rows.append(LevelSummary(
            level=l, cells=len(values), min_volume=min(values), median_volume=_median(values),
            max_volume=max(values), parents=len(counts), split=sum(1 for c in counts if c > 1),
            mean_children=Fraction(len(values), len(counts)), max_children=max(counts),
        ))
    return Summary(tuple(rows))
