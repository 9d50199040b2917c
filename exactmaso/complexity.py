"""Exact local complexity: the linear regions of a network around data samples.

Published work on "local complexity" (Humayun, Balestriero and Baraniuk, e.g. "Deep networks
always grok", 2024) measures how densely linear regions pack around a sample ``x0`` by taking
a random cross-polytope of ``P`` orthonormal directions and radius ``r`` around it, pushing its
``2 P`` vertices through the network, and counting, layer by layer, the neurons whose
pre-activation changes sign among those vertices -- an approximation, by the authors' own
account.  This module computes the geometry exactly and reports the approximation beside it.

The neighbourhood
    With exact rational directions ``d_1 .. d_P`` (the rows of ``.directions``; ``M`` is the
    ``D x P`` matrix whose columns they are) the neighbourhood of ``x0`` is exactly
    ``{x0 + M t : t in T}`` with ``T = {sum_i |t_i| <= r}`` (``shape="cross"``) or
    ``T = {max_i |t_i| <= r}`` (``shape="box"``).  Random cross directions are orthonormal
    in floats (a QR factorisation) and then converted exactly: the neighbourhood used, and
    every figure reported, is that of the rationals returned in ``.directions``; they are
    orthonormal to about 1e-16, not exactly, which is why distances use their exact Gram
    matrix ``G = M^T M``.
Exact figures
    The network restricted to the neighbourhood's affine hull, ``net.restrict(M, x0)``, is
    enumerated exactly on ``T`` by :func:`exactmaso.regions`.

    - ``regions``: the number of linear regions of ``net`` whose intersection with the
      neighbourhood is ``P``-dimensional (equivalently, the regions of the restricted network
      on ``T``; lower-dimensional contacts are not counted).
    - ``pieces``: the number of distinct affine maps among those regions, as functions on the
      neighbourhood (maps of the restricted network, compared exactly).  Regions with equal
      maps count once *whether or not they are adjacent*; :meth:`Partition.linear_pieces`
      counts connected groups instead, which can be more.
    - ``neurons`` / ``neurons_per_layer``: the number of units whose arg-max piece is not the
      same on all those regions -- the exact counterpart of the approximation below.
    - ``boundary_distance_sq``: the exact squared Euclidean distance (in input space, within
      the affine hull) from ``x0`` to the nearest boundary between two regions inside the
      neighbourhood (the neighbourhood's own boundary is not a region boundary); ``0`` when
      ``x0`` lies on a boundary, ``None`` when the neighbourhood lies inside one region.
      ``boundary_point`` is an exact point of that boundary at that distance (a witness).
      ``boundary_distance`` is its float square root, for tables and plots.
The approximation
    ``approx`` / ``approx_per_layer``: the published estimate computed the same way -- an
    exact forward pass of the neighbourhood's vertices (``x0 +- r d_i`` for the cross, the
    ``2^P`` corners for the box) and, per layer, the number of units whose arg-max piece
    (for ReLU: whether the pre-activation is positive; ties go to the lowest piece, as in
    codes everywhere in exactmaso) is not the same at all vertices.  It is an approximation
    of ``neurons`` (a second-layer unit can cut the neighbourhood with the same sign at every
    vertex) and is never reported as an exact figure.

Method notes: the restricted networks of all samples come from one :meth:`Network.restrict`
call per chunk of samples (the hull directions plus one column per sample; the per-sample
offsets are columns of that exact product).  ``pieces`` compares affine maps by a fingerprint
modulo a prime (exact integer arithmetic: maps with different fingerprints are certainly
different) and confirms equal fingerprints with the exact rational maps.  The boundary
distance is the distance to the nearest facet hyperplane of the region holding ``x0`` when
the foot of the perpendicular lies on the region, and otherwise the exact nearest point of
its region facets, found among the projections of ``x0`` onto the affine hulls of their
faces.

Cost: the region enumeration does the work (see benchmarks/bench_vq.py).
"""

from __future__ import annotations

import itertools
import math
import statistics
import sys
import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Iterable, Iterator, Sequence

import flint
import numpy as np

from .errors import CertificateError, DomainError, LimitError, ShapeError
from .maso import MASO, Network
from .numbers import to_fraction, to_fraction_array
from .polytope import Box, Polytope
from .regions import Partition, regions

__all__ = [
    "SHAPES",
    "FULL_SPACE_MAX_DIM",
    "LocalComplexity",
    "TrainingHistory",
    "local_complexity",
    "neighbourhood_directions",
    "over_training",
    "plot_over_training",
]

SHAPES = ("cross", "box")
"""Accepted values of ``shape``."""

#: without ``P`` or ``directions``, inputs of at most this many coordinates use all of them
FULL_SPACE_MAX_DIM = 4
#: samples restricted per :meth:`Network.restrict` call (memory: units x pieces x chunk rationals)
RESTRICT_CHUNK = 64
#: regions fingerprinted per batch (memory: units x pieces x batch x (P + 1) int64)
FINGERPRINT_BATCH = 256

_ZERO = Fraction(0)


# ------------------------------------------------------------------------------------------
# results
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class LocalComplexity:
    """Exact local complexity of a network around N samples, with the published estimate.

    Arrays have one entry per sample; the ``*_per_layer`` arrays one column per layer of
    ``net.masos`` (an affine last layer always has 0).  See the module docstring for the
    definitions.

    Attributes
    ----------
    samples : (N, D) object array of Fractions, the centres ``x0``.
    directions : (P, D) object array of Fractions, exactly the directions used.
    radius : Fraction
    shape : "cross" or "box"
    regions, pieces, neurons : (N,) int arrays -- exact.
    neurons_per_layer : (N, L) int array -- exact.
    boundary_distance_sq : (N,) object array of Fractions (None: no region boundary inside).
    boundary_point : tuple of N exact (D,) points on the nearest region boundary (or None).
    approx, approx_per_layer : (N,) and (N, L) int arrays -- the vertex-based *approximation*.
    partitions : tuple of N :class:`~exactmaso.regions.Partition` in the ``t``-coordinates of
        the neighbourhood (``x = x0 + M t``), or None unless ``keep_partitions=True``.
    """

    samples: np.ndarray
    directions: np.ndarray
    radius: Fraction
    shape: str
    regions: np.ndarray
    pieces: np.ndarray
    neurons: np.ndarray
    neurons_per_layer: np.ndarray
    boundary_distance_sq: np.ndarray
    boundary_point: tuple
    approx: np.ndarray
    approx_per_layer: np.ndarray
    partitions: tuple | None = None

    @property
    def P(self) -> int:
        """The dimension of the neighbourhood."""
        return int(self.directions.shape[0])

    @property
    def boundary_distance(self) -> np.ndarray:
        """Float distances to the nearest region boundary (inf where there is none); the
        exact squares are :attr:`boundary_distance_sq`."""
        return np.array([math.inf if d is None else math.sqrt(d) for d in self.boundary_distance_sq], dtype=float)

    def __len__(self) -> int:
        return int(self.regions.shape[0])

    def summary(self) -> dict[str, float]:
        """Means and medians over the samples (floats, of the exact integer counts)."""
        out: dict[str, float] = {}
        for name in ("regions", "pieces", "neurons", "approx"):
            vals = [int(v) for v in getattr(self, name)]
            out[f"mean_{name}"] = float(statistics.fmean(vals))
            out[f"median_{name}"] = float(statistics.median(vals))
        return out

    def table(self) -> str:
        """Per sample: the exact figures beside the approximation, as aligned text."""
        vertices = 2 * self.P if self.shape == "cross" else 2**self.P
        head = ["sample", "regions", "pieces", "neurons", "per layer", "boundary dist",
                "approx", "approx per layer"]
        rows = []
        dist = self.boundary_distance
        for j in range(len(self)):
            d = "none" if math.isinf(dist[j]) else f"{dist[j]:.6g}"
            rows.append([str(j), str(self.regions[j]), str(self.pieces[j]), str(self.neurons[j]),
                         _per_layer(self.neurons_per_layer[j]), d, str(self.approx[j]),
                         _per_layer(self.approx_per_layer[j])])
        widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)]
        lines = [
            f"local complexity: {len(self)} samples, {self.shape} neighbourhoods of radius {self.radius} "
            f"in P = {self.P} of D = {self.directions.shape[1]} dimensions",
            "exact: regions meeting the neighbourhood (P-dimensionally), distinct affine maps (pieces), "
            "units whose piece varies (neurons), distance to the nearest region boundary",
            f"approx: units whose piece varies over the {vertices} vertices (published estimate, "
            "Humayun et al. 2024) -- an APPROXIMATION, not an exact count",
            "  ".join(h.rjust(w) for h, w in zip(head, widths)),
        ]
        lines.append("-" * len(lines[-1]))
        lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        return (f"LocalComplexity(N={len(self)}, shape={self.shape!r}, P={self.P}, radius={self.radius}, "
                f"mean regions={statistics.fmean(int(v) for v in self.regions) if len(self) else 0:.3g})")


def _per_layer(counts: np.ndarray) -> str:
    return "[" + " ".join(str(int(c)) for c in counts) + "]"


@dataclass(frozen=True, slots=True, eq=False)
class TrainingHistory:
    """Local complexity at training checkpoints: one :class:`LocalComplexity` per step.

    The ``mean_*`` / ``median_*`` properties are float arrays with one entry per step
    (summaries of the exact per-sample counts in :attr:`results`; ``*_approx`` summarise the
    approximation).
    """

    steps: tuple
    results: tuple

    def _stat(self, name: str, how: Callable[[list[int]], float]) -> np.ndarray:
        return np.array([how([int(v) for v in getattr(res, name)]) for res in self.results], dtype=float)

    @property
    def mean_regions(self) -> np.ndarray:
        return self._stat("regions", statistics.fmean)

    @property
    def median_regions(self) -> np.ndarray:
        return self._stat("regions", statistics.median)

    @property
    def mean_pieces(self) -> np.ndarray:
        return self._stat("pieces", statistics.fmean)

    @property
    def median_pieces(self) -> np.ndarray:
        return self._stat("pieces", statistics.median)

    @property
    def mean_neurons(self) -> np.ndarray:
        return self._stat("neurons", statistics.fmean)

    @property
    def median_neurons(self) -> np.ndarray:
        return self._stat("neurons", statistics.median)

    @property
    def mean_approx(self) -> np.ndarray:
        """Mean of the *approximation* per step."""
        return self._stat("approx", statistics.fmean)

    @property
    def median_approx(self) -> np.ndarray:
        """Median of the *approximation* per step."""
        return self._stat("approx", statistics.median)

    def __len__(self) -> int:
        return len(self.steps)

    def table(self) -> str:
        head = ["step", "mean regions", "median regions", "mean pieces", "mean neurons", "mean approx",
                "median approx"]
        cols = [self.mean_regions, self.median_regions, self.mean_pieces, self.mean_neurons,
                self.mean_approx, self.median_approx]
        rows = [[str(s)] + [f"{c[i]:.4g}" for c in cols] for i, s in enumerate(self.steps)]
        widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)]
        lines = ["local complexity over training (regions, pieces, neurons exact; approx = the published "
                 "vertex estimate, an APPROXIMATION)",
                 "  ".join(h.rjust(w) for h, w in zip(head, widths))]
        lines.append("-" * len(lines[-1]))
        lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


# ------------------------------------------------------------------------------------------
# the neighbourhood
# ------------------------------------------------------------------------------------------


def neighbourhood_directions(input_dim: int, P: int, *, shape: str = "cross", seed: Any = None) -> np.ndarray:
    """Default directions of a neighbourhood, exact: a (P, D) object array of Fractions.

    ``shape="cross"``: P random orthonormal directions (QR of a Gaussian matrix drawn with
    ``numpy.random.default_rng(seed)``), orthonormal in floats and converted exactly.
    ``shape="box"``: coordinate axes, exactly -- all of them when ``P == input_dim``, else P
    distinct coordinates drawn with ``seed`` (in increasing order).

    >>> neighbourhood_directions(2, 2, shape="box").tolist()
    [[Fraction(1, 1), Fraction(0, 1)], [Fraction(0, 1), Fraction(1, 1)]]
    """
    _check_shape(shape)
    D, P = int(input_dim), int(P)
    if not 1 <= P <= D:
        raise ShapeError(f"P = {P} directions asked in an input of {D} coordinates; expected 1 <= P <= {D}")
    rng = np.random.default_rng(seed)
    if shape == "box":
        coords = range(D) if P == D else sorted(int(j) for j in rng.choice(D, size=P, replace=False))
        out = np.full((P, D), _ZERO, dtype=object)
        for i, j in enumerate(coords):
            out[i, j] = Fraction(1)
        return out
    Q, _ = np.linalg.qr(rng.standard_normal((D, P)))
    return to_fraction_array(Q.T, name="directions")


def _check_shape(shape: str) -> None:
    if shape not in SHAPES:
        raise ValueError(f"shape is {shape!r}; expected one of {SHAPES}")


def _resolve_directions(D: int, shape: str, directions: Any, P: int | None, seed: Any) -> np.ndarray:
    if directions is None:
        if P is None:
            if D > FULL_SPACE_MAX_DIM:
                raise ShapeError(f"the input has {D} coordinates; give P= (the number of directions) or "
                                 f"directions= (a (P, {D}) array); only inputs of at most "
                                 f"{FULL_SPACE_MAX_DIM} coordinates default to all of them")
            P = D
        return neighbourhood_directions(D, P, shape=shape, seed=seed)
    dirs = to_fraction_array(directions, name="directions", ndim=2)
    if dirs.shape[1] != D or not 1 <= dirs.shape[0] <= D:
        raise ShapeError(f"directions have shape {dirs.shape}; expected (P, {D}) with 1 <= P <= {D}")
    if P is not None and int(P) != dirs.shape[0]:
        raise ShapeError(f"P = {P} but {dirs.shape[0]} directions were given; give one or the other")
    return dirs


def _fmpq(v: Fraction) -> Any:
    return flint.fmpq(v.numerator, v.denominator)


def _fraction(q: Any) -> Fraction:
    return Fraction(int(q.p), int(q.q))


def _gram(dirs: np.ndarray) -> tuple[list[list[Fraction]], list[list[Fraction]]]:
    """Exact ``G = M^T M`` (M = dirs^T) and its inverse; ShapeError if the directions are dependent."""
    P = dirs.shape[0]
    G = [[sum((a * b for a, b in zip(dirs[i], dirs[j])), _ZERO) for j in range(P)] for i in range(P)]
    Gq = flint.fmpq_mat([[_fmpq(v) for v in row] for row in G])
    if Gq.det() == 0:
        raise ShapeError(f"the {P} directions are linearly dependent (exactly); expected independent directions")
    Gi = Gq.inv()
    return G, [[_fraction(Gi[i, j]) for j in range(P)] for i in range(P)]


def _domain(shape: str, P: int, r: Fraction) -> Polytope:
    """The neighbourhood in t-coordinates: the cross-polytope or the cube of radius r."""
    if shape == "box":
        return Box([-r] * P, [r] * P)
    signs = list(itertools.product((1, -1), repeat=P))
    return Polytope(np.array(signs, dtype=object), np.array([r] * len(signs), dtype=object))


def _vertices(shape: str, P: int, r: Fraction) -> np.ndarray:
    """The vertices of the neighbourhood in t-coordinates: +-r e_i (cross) or the corners (box)."""
    if shape == "box":
        corners = list(itertools.product((r, -r), repeat=P))
        return np.array(corners, dtype=object)
    out = np.full((2 * P, P), _ZERO, dtype=object)
    for i in range(P):
        out[2 * i, i] = r
        out[2 * i + 1, i] = -r
    return out


def _samples(net: Network, X: Any) -> np.ndarray:
    """X as an exact (N, D) array: accepts (D,), (N, D), net.input_shape or (N, *input_shape)."""
    arr = to_fraction_array(X, name="X")
    D, shape = net.input_dim, net.input_shape
    if arr.shape == shape or arr.shape == (D,):
        return arr.reshape(1, D)
    if arr.ndim == 2 and arr.shape[1] == D:
        out = arr
    elif arr.ndim == len(shape) + 1 and arr.shape[1:] == shape:
        out = arr.reshape(arr.shape[0], D)
    else:
        raise ShapeError(f"X has shape {arr.shape}; expected ({D},) or (N, {D}) or (N, *{shape})")
    if out.shape[0] == 0:
        raise ShapeError("X holds no samples; expected at least one row")
    return out


def _restricted_networks(net: Network, M: np.ndarray, X: np.ndarray) -> Iterator[Network]:
    """``net.restrict(M, x)`` for each row x of X, from one restriction per chunk of samples.

    ``net.restrict([M | X_chunk^T])`` has first-layer pieces ``[A M | A X^T | B]``; the
    restriction to sample j keeps the slopes ``A M`` and the offset ``A x_j + B`` -- the same
    exact numbers as ``net.restrict(M, x_j)``.
    """
    P = M.shape[1]
    rest = net.masos[1:]
    for start in range(0, X.shape[0], RESTRICT_CHUNK):
        chunk = X[start:start + RESTRICT_CHUNK]
        big = net.restrict(np.concatenate([M, chunk.T], axis=1))
        first = big.masos[0]
        slopes = first.A[:, :, :P]
        for j in range(chunk.shape[0]):
            offsets = first.A[:, :, P + j] + first.B
            yield Network.from_masos([MASO(slopes, offsets), *rest])


# ------------------------------------------------------------------------------------------
# exact figures of one neighbourhood
# ------------------------------------------------------------------------------------------


def _varying_units(codes: Sequence[tuple], net: Network) -> list[int]:
    """Per layer, the number of units whose piece is not the same in all ``codes``."""
    out = []
    for l, m in enumerate(net.masos):
        out.append(sum(1 for k in range(m.num_units) if len({c[l][k] for c in codes}) > 1))
    return out


class _Fingerprints:
    """Affine maps of codes modulo a prime, batched in int64: equal maps have equal
    fingerprints, so different fingerprints prove different maps (equal ones are confirmed
    exactly by the caller).

    The layers after the first are the same objects in every restricted network of one call:
    their residues are kept; the first layer's are computed per network.
    """

    def __init__(self, shared: Sequence[MASO], P: int) -> None:
        widest = max([P] + [m.input_dim for m in shared]) + 1
        # widest * (p - 1)^2 stays below 2^63: int64 products of residues never overflow
        self._p = self._prime_below(math.isqrt((2**63 - 1) // widest))
        self._shared = list(shared)
        self._residues = self._reduce(self._shared)

    @staticmethod
    def _prime_below(n: int) -> int:
        n -= 1
        while not flint.fmpz(n).is_prime():
            n -= 1
        return n

    def _reduce(self, masos: Sequence[MASO]) -> list[tuple[np.ndarray, int]]:
        """(pieces mod p, inverse of the denominator mod p) per layer; moves to a smaller prime
        (and reduces the shared layers again) while the prime divides a denominator."""
        while True:
            p = self._p
            out = []
            for m in masos:
                pieces, den = m.pieces_fmpz()
                if den % p == 0:
                    break
                res = np.array([int(v) % p for v in pieces.entries()], dtype=np.int64)
                out.append((res.reshape(pieces.nrows(), pieces.ncols()), pow(den, -1, p)))
            else:
                return out
            self._p = self._prime_below(p)
            if masos is not self._shared:
                self._residues = self._reduce(self._shared)

    def keys(self, net: Network, codes: Sequence[tuple]) -> list[bytes]:
        """One fingerprint (bytes) per code, of the affine map of ``net`` under that code.

        ``net`` is a restricted network of this call: its layers after the first are the
        shared ones.
        """
        while True:
            p = self._p
            layers = self._reduce(net.masos[:1]) + self._residues
            if p == self._p:
                break
        out: list[bytes] = []
        for start in range(0, len(codes), FINGERPRINT_BATCH):
            out += self._batch(net, layers, codes[start:start + FINGERPRINT_BATCH])
        return out

    def _batch(self, net: Network, layers: list[tuple[np.ndarray, int]], codes: Sequence[tuple]) -> list[bytes]:
        p = self._p
        n = len(codes)
        d1 = net.input_dim + 1
        T = None  # (n, units, d1): the map of the layers so far, [t; 1] -> z, mod p
        for l, (m, (res, inv)) in enumerate(zip(net.masos, layers)):
            K, R = m.num_units, m.num_pieces
            if T is None:
                prod = np.broadcast_to(res[:, None, :], (K * R, n, d1))
            else:
                aug = np.concatenate([T, np.zeros((n, 1, d1), dtype=np.int64)], axis=1)
                aug[:, -1, -1] = 1
                flat = aug.transpose(1, 0, 2).reshape(aug.shape[1], n * d1)
                prod = (res @ flat % p).reshape(K * R, n, d1)
            sel = np.array([[k * R + c[l][k] for k in range(K)] for c in codes], dtype=np.intp)
            T = prod[sel, np.arange(n)[:, None], :] * inv % p
        return [T[i].tobytes() for i in range(n)]


def _count_pieces(part: Partition, prints: _Fingerprints) -> int:
    """The number of distinct exact affine maps among the regions of ``part``."""
    keys = prints.keys(part.net, [r.code for r in part])
    groups: dict[bytes, list[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault(key, []).append(i)
    total = 0
    for members in groups.values():
        total += 1 if len(members) == 1 else len({part[i].affine for i in members})
    return total


def _primitive(row: Sequence[Fraction]) -> tuple[int, ...]:
    """A row of rationals scaled by a positive number to coprime integers."""
    den = math.lcm(*(v.denominator for v in row))
    ints = [v.numerator * (den // v.denominator) for v in row]
    g = math.gcd(*ints)
    return tuple(v // g for v in ints) if g > 1 else tuple(ints)


def _dot(u: Sequence[Fraction], v: Sequence[Fraction]) -> Fraction:
    return sum((a * b for a, b in zip(u, v)), _ZERO)


def _quad(G: Sequence[Sequence[Fraction]], u: Sequence[Fraction], v: Sequence[Fraction]) -> Fraction:
    """``u^T G v``."""
    return sum((u[i] * _dot(G[i], v) for i in range(len(u))), _ZERO)


def _nearest_boundary(
    part: Partition, G: list[list[Fraction]], Gi: list[list[Fraction]], dom_rows: set[tuple[int, ...]]
) -> tuple[Fraction | None, tuple[Fraction, ...] | None]:
    """Squared G-distance from t = 0 to the nearest region boundary inside the domain, and a
    nearest point (None, None when the region holding 0 has no region facet)."""
    P = part.net.input_dim
    origin = [_ZERO] * P
    reg = part[part.locate(origin)]
    rows = reg.facet_rows()
    inner = [j for j, lab in enumerate(reg.facet_labels) if lab[0] != "d" and _primitive(rows[j]) not in dom_rows]
    if not inner:
        return None, None
    if any(rows[j][P] == 0 for j in inner):
        return _ZERO, tuple(origin)
    best, foot = None, None
    for j in inner:
        a, c = rows[j][:P], rows[j][P]
        Gia = [_dot(Gi[i], a) for i in range(P)]
        norm = _dot(a, Gia)
        d = c * c / norm
        if best is None or d < best:
            best, foot = d, tuple(-c * v / norm for v in Gia)
    if _in_closure(rows, foot, P):
        return best, foot
    return _nearest_on_facets(reg, rows, inner, G)


def _in_closure(rows: Sequence[Sequence[Fraction]], t: Sequence[Fraction], P: int) -> bool:
    return all(_dot(r[:P], t) + r[P] >= 0 for r in rows)


def _nearest_on_facets(reg: Any, rows: list, inner: list[int], G: list[list[Fraction]]):
    """Exact nearest point to 0 (metric G) on the union of the facets ``inner`` of a region.

    The nearest point of a polytope lies in the relative interior of one of its faces and is
    there the projection of 0 onto that face's affine hull; every face of a facet is an
    intersection of facets' vertex sets.  So: project 0 onto the affine hull of every face of
    the facets ``inner``, keep the projections that lie on the region, take the nearest.
    """
    P = len(G)
    V = [tuple(v) for v in reg.vertices()]
    tight = [sum(1 << k for k, v in enumerate(V) if _dot(r[:P], v) + r[P] == 0) for r in rows]
    faces = {tight[j] for j in inner}
    frontier = list(faces)
    while frontier:
        f = frontier.pop()
        for mask in tight:
            g = f & mask
            if g and g not in faces:
                faces.add(g)
                frontier.append(g)
    best: tuple[Fraction, tuple[Fraction, ...]] | None = None
    for f in faces:
        y = _project_origin([V[k] for k in range(len(V)) if f >> k & 1], G)
        if _in_closure(rows, y, P):
            d = _quad(G, y, y)
            if best is None or d < best[0]:
                best = (d, y)
    if best is None:  # pragma: no cover - every vertex of a facet lies on the region
        raise CertificateError("no face of the region's facets holds its own projection; the region's "
                               "vertices do not satisfy its facets")
    return best


def _project_origin(points: list[tuple[Fraction, ...]], G: list[list[Fraction]]) -> tuple[Fraction, ...]:
    """The G-orthogonal projection of 0 onto the affine hull of ``points`` (exact)."""
    v0 = points[0]
    P = len(v0)
    diffs = [[p[i] - v0[i] for i in range(P)] for p in points[1:]]
    if not diffs:
        return v0
    U = flint.fmpq_mat([[_fmpq(d[i]) for d in diffs] for i in range(P)])  # P x (k) columns
    R, rank = U.rref()
    if rank == 0:
        return v0
    pivots, j = [], 0
    for i in range(rank):
        while R[i, j] == 0:
            j += 1
        pivots.append(j)
        j += 1
    B = [diffs[j] for j in pivots]  # independent directions of the affine hull
    GB = [[_dot(G[i], b) for i in range(P)] for b in B]  # rows: G b
    lhs = flint.fmpq_mat([[_fmpq(_dot(b, gb)) for gb in GB] for b in B])
    rhs = flint.fmpq_mat([[_fmpq(-_dot(v0, gb))] for gb in GB])
    c = lhs.solve(rhs)
    coef = [_fraction(c[i, 0]) for i in range(len(B))]
    return tuple(v0[i] + sum((coef[k] * B[k][i] for k in range(len(B))), _ZERO) for i in range(P))


# ------------------------------------------------------------------------------------------
# the public functions
# ------------------------------------------------------------------------------------------


def local_complexity(
    net: Network,
    X: Any,
    radius: Any,
    shape: str = "cross",
    *,
    directions: Any = None,
    P: int | None = None,
    seed: Any = None,
    max_regions: int | None = None,
    time_limit: float | None = None,
    keep_partitions: bool = False,
) -> LocalComplexity:
    """Exact local complexity of ``net`` around each sample of ``X``, beside the published estimate.

    Parameters
    ----------
    net : Network
    X : array-like, (N, D), (D,) or (N, *net.input_shape)
        The centres; floats convert to their exact binary values.
    radius : exact number > 0
        ``r``: the neighbourhood is ``{x0 + M t : sum |t_i| <= r}`` (cross) or
        ``{x0 + M t : max |t_i| <= r}`` (box), ``M = directions^T``.
    shape : "cross" or "box"
    directions : array-like (P, D), optional
        Linearly independent directions, used exactly as given (they need not be
        orthonormal: distances are measured in input space through their exact Gram matrix).
        Default: :func:`neighbourhood_directions` (random orthonormal for the cross, coordinate
        axes for the box), the same for every sample.
    P : int, optional
        The number of directions when ``directions`` is not given; defaults to D for inputs of
        at most :data:`FULL_SPACE_MAX_DIM` coordinates, and is required beyond.
    seed : optional
        Seed of ``numpy.random.default_rng`` for the default directions (the only randomness).
    max_regions : int, optional
        Per neighbourhood: raise :class:`~exactmaso.errors.LimitError` when a neighbourhood
        holds more regions.
    time_limit : float, optional
        Seconds for the whole call: :class:`~exactmaso.errors.LimitError` when exceeded.
        Nothing is ever cut silently; ``err.count`` is the number of regions of the
        neighbourhood being enumerated (or of samples done, when the time ran out between
        samples).
    keep_partitions : bool
        Keep each neighbourhood's :class:`~exactmaso.regions.Partition` (in t-coordinates)
        in ``.partitions``.

    Returns
    -------
    LocalComplexity
        See the module docstring for the exact definitions.

    Examples
    --------
    One ReLU unit ``relu(x0 + x1 - 1)`` seen from (1/4, 1/4) within radius 1 along the axes:

    >>> import exactmaso as em
    >>> net = em.mlp([[[1, 1]], [[1]]], [[-1], [0]])
    >>> lc = em.local_complexity(net, [[0.25, 0.25]], 1, directions=[[1, 0], [0, 1]])
    >>> lc.regions.tolist(), lc.pieces.tolist(), lc.boundary_distance_sq.tolist(), lc.approx.tolist()
    ([2], [2], [Fraction(1, 8)], [1])
    """
    if not isinstance(net, Network):
        raise TypeError(f"net is a {type(net).__name__}; expected an em.Network")
    _check_shape(shape)
    r = to_fraction(radius, name="radius")
    if not r > 0:
        raise DomainError(f"radius is {r}; expected a positive number (a full-dimensional neighbourhood)")
    Xf = _samples(net, X)
    dirs = _resolve_directions(net.input_dim, shape, directions, P, seed)
    nP = dirs.shape[0]
    G, Gi = _gram(dirs)
    M = np.ascontiguousarray(dirs.T)
    dom = _domain(shape, nP, r)
    dom_rows = {_primitive([-v for v in dom.A[i]] + [dom.b[i]]) for i in range(dom.num_rows)}
    verts = _vertices(shape, nP, r)
    prints = _Fingerprints(net.masos[1:], nP)
    deadline = None if time_limit is None else time.monotonic() + time_limit
    N, L = Xf.shape[0], len(net.masos)
    counts = np.zeros((N, 3), dtype=np.int64)  # regions, pieces, neurons
    neurons = np.zeros((N, L), dtype=np.int64)
    approx = np.zeros((N, L), dtype=np.int64)
    dist_sq = np.empty(N, dtype=object)
    points: list = []
    parts: list = []
    for j, sub in enumerate(_restricted_networks(net, M, Xf)):
        left = None
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise LimitError(f"local_complexity: time limit of {time_limit} s reached after {j} of {N} samples",
                                 count=j)
        try:
            part = regions(sub, dom, max_regions=max_regions, time_limit=left)
        except LimitError as exc:
            raise LimitError(f"local_complexity: sample {j} of {N}: {exc}", count=exc.count) from exc
        codes = [reg.code for reg in part]
        neurons[j] = _varying_units(codes, sub)
        counts[j] = (len(part), _count_pieces(part, prints), neurons[j].sum())
        approx[j] = _varying_units(sub.code(verts), sub)
        d, t = _nearest_boundary(part, G, Gi, dom_rows)
        dist_sq[j] = d
        points.append(None if t is None else _to_input(Xf[j], M, t))
        if keep_partitions:
            parts.append(part)
    return LocalComplexity(
        samples=Xf, directions=dirs, radius=r, shape=shape,
        regions=counts[:, 0].copy(), pieces=counts[:, 1].copy(), neurons=counts[:, 2].copy(),
        neurons_per_layer=neurons, boundary_distance_sq=dist_sq, boundary_point=tuple(points),
        approx=approx.sum(axis=1), approx_per_layer=approx,
        partitions=tuple(parts) if keep_partitions else None,
    )


def _to_input(x0: np.ndarray, M: np.ndarray, t: Sequence[Fraction]) -> np.ndarray:
    """``x0 + M t`` exactly."""
    out = np.empty(x0.shape[0], dtype=object)
    out[:] = [x0[i] + _dot(M[i], t) for i in range(x0.shape[0])]
    return out


def _checkpoints(checkpoints: Any) -> Iterator[tuple[Any, Any]]:
    """(step, state_dict) pairs from a list / iterable / callable of state dicts or pairs."""
    from collections.abc import Mapping

    source = checkpoints() if callable(checkpoints) else checkpoints
    if isinstance(source, Mapping) and not all(isinstance(v, Mapping) for v in source.values()):
        raise TypeError("checkpoints is a single state dict; expected a list of state dicts (or of "
                        "(step, state_dict) pairs), or a callable returning one")
    items: Iterable = source.items() if isinstance(source, Mapping) else source
    for i, item in enumerate(items):
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Mapping):
            yield item[0], item[1]
        elif isinstance(item, Mapping):
            yield i, item
        else:
            raise TypeError(f"checkpoint {i} is a {type(item).__name__}; expected a state dict or a "
                            "(step, state_dict) pair")


def over_training(
    model: Any,
    checkpoints: Any,
    X: Any,
    radius: Any,
    shape: str = "cross",
    *,
    input_shape: Sequence[int] | None = None,
    directions: Any = None,
    P: int | None = None,
    seed: Any = None,
    max_regions: int | None = None,
    time_limit: float | None = None,
    progress: bool = False,
) -> TrainingHistory:
    """Local complexity of a PyTorch model at each of its training checkpoints.

    For each checkpoint: ``model.load_state_dict(state_dict)``, then ``em.from_torch(model,
    input_shape=...)`` in eval mode, then :func:`local_complexity` on the same samples with
    the same directions at every step (drawn once with ``seed`` unless given).  The model's
    own weights and training mode are restored afterwards.

    Parameters
    ----------
    model : torch.nn.Module
        A module :func:`exactmaso.from_torch` reads.
    checkpoints : list, iterable, mapping or callable
        State dicts, ``(step, state_dict)`` pairs, a mapping ``{step: state_dict}``, or a
        callable returning one of these (e.g. a generator function reading files).  Steps
        default to 0, 1, 2, ...
    X, radius, shape, directions, P, seed, max_regions
        As in :func:`local_complexity`.
    time_limit : float, optional
        Seconds for the whole history (LimitError when exceeded).
    progress : bool
        One line per checkpoint on stderr.
    """
    from .io import from_torch

    _check_shape(shape)
    saved = {k: v.detach().clone() for k, v in model.state_dict().items()}
    was_training = bool(getattr(model, "training", False))
    deadline = None if time_limit is None else time.monotonic() + time_limit
    steps, results = [], []
    dirs = directions
    try:
        for step, sd in _checkpoints(checkpoints):
            model.load_state_dict(sd)
            model.eval()
            net = from_torch(model, input_shape=input_shape)
            if dirs is None:
                dirs = _resolve_directions(net.input_dim, shape, None, P, seed)
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise LimitError(f"over_training: time limit of {time_limit} s reached after {len(steps)} checkpoints",
                                 count=len(steps))
            res = local_complexity(net, X, radius, shape, directions=dirs, max_regions=max_regions, time_limit=left)
            steps.append(step)
            results.append(res)
            if progress:
                s = res.summary()
                print(f"over_training: step {step}: mean regions {s['mean_regions']:.4g}, "
                      f"mean approx {s['mean_approx']:.4g}", file=sys.stderr, flush=True)
    finally:
        model.load_state_dict(saved)
        model.train(was_training)
    return TrainingHistory(steps=tuple(steps), results=tuple(results))


def plot_over_training(history: TrainingHistory, ax: Any = None) -> Any:
    """Mean exact regions, mean exact neurons and the mean approximation per training step.

    matplotlib is imported here; a new figure is made when ``ax`` is None.  Returns the Axes
    (three lines, labelled); never calls ``show()``.
    """
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6, 4))
    steps = list(history.steps)
    ax.plot(steps, history.mean_regions, marker="o", label="regions (exact)")
    ax.plot(steps, history.mean_neurons, marker="s", label="neurons cutting it (exact)")
    ax.plot(steps, history.mean_approx, marker="^", linestyle="--", label="approx: vertex estimate (published)")
    ax.set_xlabel("training step")
    ax.set_ylabel("mean per neighbourhood")
    ax.set_title("local complexity over training")
    ax.legend()
    return ax
