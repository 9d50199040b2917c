"""Exact linear regions of a network on a bounded polytope domain.

>>> import exactmaso as em
>>> net = em.mlp([[[1], [-1]], [[1, 1]]], [["-1/2", "-1/2"], [0]])
>>> part = em.regions(net, em.Box([-1], [1]))
>>> len(part), sum(r.volume() for r in part)
(3, Fraction(2, 1))

A *region* is a full-dimensional cell of the domain on which the code is constant.  The
enumeration decides every sign exactly (a float filter with a rigorous error bound, exact
rational arithmetic where the filter cannot tell), so the list of regions, their codes and
their facets are exact; exact coordinates, interior points and affine maps are computed from
the codes when first asked for, and :meth:`Partition.verify` re-checks everything
independently in exact arithmetic.  See docs/regions.md for the method.

Two batched engines (:mod:`exactmaso.engine`) cut all cells of a layer at once, with units of
any number of pieces, and give identical results in identical (lexicographic code) order:
:mod:`exactmaso.engine.batch2d` for 2-D inputs (polygons) and :mod:`exactmaso.engine.batchnd`
for every other dimension (polytopes with shared vertices).
"""

from __future__ import annotations

from concurrent.futures import Executor
from fractions import Fraction
from typing import Any, Iterator, Sequence

import numpy as np

from .engine.batch2d import Engine2D, supports as supports_2d
from .engine.batchnd import EngineND
from .engine.cells import RegionRecord
from .engine.driver import Monitor
from .errors import CertificateError, DomainError, ShapeError
from .maso import Affine, Network
from .numbers import to_fraction_array

__all__ = ["Region", "Partition", "regions", "iter_regions", "count_regions"]


def _domain_arrays(dom: Any, D: int) -> tuple[np.ndarray, np.ndarray]:
    A = getattr(dom, "A", None)
    b = getattr(dom, "b", None)
    if A is None or b is None:
        raise DomainError(f"the domain is a {type(dom).__name__}; expected em.Box(lo, hi) or em.Polytope(A, b)")
    A = to_fraction_array(A, name="domain A", ndim=2)
    b = to_fraction_array(b, name="domain b", ndim=1)
    if A.shape[1] != D:
        raise ShapeError(f"the domain lives in dimension {A.shape[1]}; the network input has {D} coordinates")
    return A, b


class Region:
    """One linear region: its code, and exact geometry computed on first use."""

    __slots__ = ("index", "_rec", "_part", "_cache")

    def __init__(self, index: int, rec: RegionRecord, part: "Partition") -> None:
        self.index = index
        self._rec = rec
        self._part = part
        self._cache: dict = {}

    def __repr__(self) -> str:
        from ._display import code_text

        return (f"Region(index={self.index}, code={code_text(self.code, 48)}, vertices={len(self._rec.geom.X)}, "
                f"facets={len(self._rec.geom.labels)}; exact: .vertices(), .volume(), .affine)")

    @property
    def code(self) -> tuple:
        """Per layer, the arg-max piece of every unit on this region (a tuple of tuples)."""
        return self._rec.code

    @property
    def facet_labels(self) -> list[tuple]:
        """For each facet: ("d", i) for domain row i, or (layer, unit, r, s) for g_r = g_s."""
        return list(self._rec.geom.labels)

    def facet_rows(self) -> list[tuple[Fraction, ...]]:
        """Exact rows (a, c) of the facets, oriented so that the region is ``a . x + c >= 0``."""
        hit = self._cache.get("rows")
        if hit is None:
            ex = self._part._engine.exact
            hit = [ex.oriented_row(self.code, lab) for lab in self._rec.geom.labels]
            self._cache["rows"] = hit
        return hit

    @property
    def polytope(self):
        """The region as an irredundant exact :class:`~exactmaso.polytope.Polytope` ``{A x <= b}``."""
        hit = self._cache.get("polytope")
        if hit is None:
            from .polytope import Polytope

            D = self._part.net.input_dim
            rows = self.facet_rows()
            A = np.array([[-v for v in r[:D]] for r in rows], dtype=object)
            b = np.array([r[D] for r in rows], dtype=object)
            hit = Polytope(A, b, check=False)
            self._cache["polytope"] = hit
        return hit

    def vertices(self) -> np.ndarray:
        """Exact vertices, an object array (n, D) of Fractions."""
        hit = self._cache.get("vertices")
        if hit is None:
            g = self._rec.geom
            hit = np.array([self.vertex(i) for i in range(len(g.X))], dtype=object)
            self._cache["vertices"] = hit
        return hit

    def vertex(self, i: int) -> tuple[Fraction, ...]:
        """Exact coordinates of vertex ``i`` (in the order of :meth:`vertices`)."""
        return self._part._engine.exact.vertex(self.code, self._rec.geom, i)

    def vertices_float(self) -> np.ndarray:
        """Float vertices (within a few ulps; for plots)."""
        return self._rec.geom.X.copy()

    @property
    def point(self) -> np.ndarray:
        """An exact point strictly inside the region."""
        hit = self._cache.get("point")
        if hit is None:
            rows = self.facet_rows()
            D = self._part.net.input_dim
            guess = self._rec.geom.X.mean(axis=0)
            cand = [Fraction(*float(v).as_integer_ratio()) for v in guess] if np.isfinite(guess).all() else None
            if cand is None or not _strictly_inside(rows, cand, D):
                V = self.vertices()
                cand = [sum(V[:, j], Fraction(0)) / len(V) for j in range(D)]
            hit = np.array(cand, dtype=object)
            self._cache["point"] = hit
        return hit

    @property
    def affine(self) -> Affine:
        """The exact affine map of the network on this region."""
        hit = self._cache.get("affine")
        if hit is None:
            hit = self._part.net.affine_map(code=self.code)
            self._cache["affine"] = hit
        return hit

    def volume(self) -> Fraction:
        """Exact volume (length in 1-D, area in 2-D)."""
        hit = self._cache.get("volume")
        if hit is None:
            from .geometry import volume_from_incidence

            hit = volume_from_incidence(self.vertices(), self._rec.geom.F)
            self._cache["volume"] = hit
        return hit

    def power_cell(self, l: int) -> tuple[np.ndarray, Fraction]:
        """(centroid, radius) of the power-diagram cell of layer ``l`` that holds this region.

        Inside the cell of the first ``l`` layers the input of layer ``l`` is ``z = M x + c``;
        layer ``l`` assigns the code ``w`` minimising ``||x - mu_w||^2 - rad_w`` with
        ``mu_w = M^T sum_k A[k, w_k]`` and ``rad_w = ||mu_w||^2 + 2 (<sum_k A[k, w_k], c> + sum_k B[k, w_k])``.
        """
        net = self._part.net
        if not 0 <= l < len(net.masos):
            raise ShapeError(f"layer {l} does not exist; the network has layers 0 .. {len(net.masos) - 1}")
        ex = self._part._engine.exact
        Mc = ex.prefix_map(self.code[:l]).to_fractions()
        M, c = Mc[:, :-1], Mc[:, -1]
        m = net.masos[l]
        w = self.code[l]
        a = sum((m.A[k, w[k]] for k in range(m.num_units)), np.array([Fraction(0)] * m.input_dim, dtype=object))
        bsum = sum((m.B[k, w[k]] for k in range(m.num_units)), Fraction(0))
        mu = M.T.dot(a)
        rad = mu.dot(mu) + 2 * (a.dot(c) + bsum)
        return mu, rad


def _strictly_inside(rows: Sequence[Sequence[Fraction]], x: Sequence[Fraction], D: int) -> bool:
    return all(sum(r[j] * x[j] for j in range(D)) + r[D] > 0 for r in rows)


class Partition(Sequence[Region]):
    """The exact linear regions of a network on a domain, in enumeration order."""

    def __init__(self, net: Network, domain: Any, records: list[RegionRecord], engine: Any) -> None:
        self.net = net
        self.domain = domain
        self._engine = engine
        self._recs = records
        self._items: list[Region | None] = [None] * len(records)  # Region objects, made on first use
        self._complete = not records
        self._index: dict | None = None  # code -> index, built on first use
        self._graph = None

    @property
    def _regions(self) -> list[Region]:
        """Every region (the list itself: made complete on first use)."""
        if not self._complete:
            items, recs = self._items, self._recs
            for i, r in enumerate(items):
                if r is None:
                    items[i] = Region(i, recs[i], self)
            self._complete = True
        return self._items  # type: ignore[return-value]

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, i):  # type: ignore[override]
        if self._complete or not isinstance(i, (int, np.integer)):
            return self._regions[i]
        r = self._items[i]
        if r is None:
            i = range(len(self._items))[i]  # negative indices; IndexError as a list's
            r = self._items[i] = Region(i, self._recs[i], self)
        return r

    def __iter__(self) -> Iterator[Region]:
        return iter(self._regions)

    def __repr__(self) -> str:
        return f"Partition({len(self)} regions, input_dim={self.net.input_dim}, output_dim={self.net.output_dim})"

    def index_of(self, code: Any) -> int:
        """Index of the region with this code (KeyError if no region has it)."""
        return self._code_index()[self.net.check_code(code)]

    def _code_index(self) -> dict:
        if self._index is None or len(self._index) != len(self._regions):
            self._index = {r.code: r.index for r in self._regions}
        return self._index

    # -- structure -----------------------------------------------------------------------
    @property
    def graph(self):
        """Adjacency graph (networkx.Graph): an edge iff two regions share a (D-1)-face."""
        if self._graph is None:
            from .graph import adjacency_graph

            self._graph = adjacency_graph(self)
        return self._graph

    def hierarchy(self):
        """The layer-by-layer subdivision as a networkx.DiGraph of (level, prefix code) nodes."""
        from .graph import hierarchy

        return hierarchy(self)

    def level(self, l: int) -> dict[tuple, list[int]]:
        """Cells of the first ``l`` layers: prefix code -> indices of the regions inside."""
        if not 0 <= l <= len(self.net.masos):
            raise ShapeError(f"level {l} does not exist; levels run from 0 to {len(self.net.masos)}")
        out: dict[tuple, list[int]] = {}
        for r in self._regions:
            out.setdefault(r.code[:l], []).append(r.index)
        return out

    def locate(self, x: Any) -> int:
        """Index of a region whose closure holds ``x`` (exact)."""
        X = to_fraction_array(x, name="x", shape=(self.net.input_dim,))
        D = self.net.input_dim
        A, b = self._engine.A_dom, self._engine.b_dom
        if any(sum(A[i, j] * X[j] for j in range(D)) > b[i] for i in range(A.shape[0])):
            raise DomainError(f"x = {[str(v) for v in X]} lies outside the domain")
        code = self.net.code(X)
        hit = self._code_index().get(code)
        if hit is not None:
            return hit
        # x lies on a boundary where ties sent it to a lower-dimensional code: search closures
        xs = list(X)
        for r in self._regions:
            if all(sum(row[j] * xs[j] for j in range(D)) + row[D] >= 0 for row in r.facet_rows()):
                return r.index
        raise CertificateError(f"no region's closure holds x = {[str(v) for v in X]}")  # pragma: no cover

    def linear_pieces(self) -> list[list[int]]:
        """Groups of adjacent regions whose affine maps are exactly equal (connected components)."""
        import networkx as nx

        G = self.graph
        same = nx.Graph()
        same.add_nodes_from(range(len(self)))
        for i, j in G.edges:
            if self[i].affine == self[j].affine:
                same.add_edge(i, j)
        return sorted(sorted(c) for c in nx.connected_components(same))

    def decision_boundary(self):
        """Exact pieces of the decision boundary; see :func:`exactmaso.graph.decision_boundary`."""
        from .graph import decision_boundary

        return decision_boundary(self)

    def verify(self, *, progress: bool = False) -> None:
        """Re-check every certificate exactly; raise CertificateError on failure (``progress``: a line on stderr)."""
        from .verify import verify_partition

        verify_partition(self, progress=progress)


def _check_net_dom(net: Any, dom: Any) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(net, Network):
        raise TypeError(f"net is a {type(net).__name__}; expected an em.Network")
    return _domain_arrays(dom, net.input_dim)


def _records(
    net: Network,
    dom: Any,
    *,
    executor: Executor | None,
    progress: bool,
    max_regions: int | None,
    time_limit: float | None,
) -> Iterator[tuple[RegionRecord, Any]]:
    A, b = _check_net_dom(net, dom)
    monitor = Monitor(max_regions=max_regions, time_limit=time_limit, progress=progress)
    engine = _engine(net, A, b, monitor)
    # without workers, in runs of the first layer's cells: the regions of one run are held at once
    runs: Iterator[list[RegionRecord]] = iter([engine.run(executor)]) if executor is not None else engine.stream()
    count = 0
    for recs in runs:
        for rec in recs:
            count += 1
            monitor.tick(count)
            yield rec, engine
    monitor.show(count, final=True)


def _engine(net: Network, A: np.ndarray, b: np.ndarray, monitor: Monitor) -> Engine2D | EngineND:
    """The batched engine for the net's input dimension (its ``exact`` kernel and domain serve
    the regions' exact methods)."""
    return (Engine2D if supports_2d(net) else EngineND)(net, A, b, monitor)  # N-D: every other dimension


def _batched(net: Network, A: np.ndarray, b: np.ndarray, monitor: Monitor,
             executor: Executor | None) -> tuple[list[RegionRecord], Engine2D | EngineND]:
    """All records at once, and the engine that made them."""
    engine = _engine(net, A, b, monitor)
    return engine.run(executor), engine


def iter_regions(
    net: Network,
    dom: Any,
    *,
    executor: Executor | None = None,
    progress: bool = False,
    max_regions: int | None = None,
    time_limit: float | None = None,
) -> Iterator[Region]:
    """Stream the regions of ``net`` on ``dom`` in the order of :func:`regions`.

    Regions come attached to a growing :class:`Partition`, so their exact methods work.
    Without an executor they come in runs: the first layer is cut for the whole domain, then
    the later layers for one run of its cells at a time, so the first region arrives after the
    first layer and one run, and a run's data can be dropped once its regions are (as
    :func:`count_regions` does).  Limits (``max_regions``, ``time_limit``) are checked at every
    cut, and progress is reported while the layers run.
    """
    part: Partition | None = None
    for rec, engine in _records(net, dom, executor=executor, progress=progress, max_regions=max_regions, time_limit=time_limit):
        if part is None:
            part = Partition(net, dom, [], engine)
        reg = Region(len(part._regions), rec, part)
        part._regions.append(reg)
        yield reg


def regions(
    net: Network,
    dom: Any,
    executor: Executor | None = None,
    progress: bool = False,
    *,
    max_regions: int | None = None,
    time_limit: float | None = None,
) -> Partition:
    """All linear regions of ``net`` on the bounded polytope ``dom``, exactly.

    Parameters
    ----------
    net : Network
    dom : Box or Polytope
    executor : concurrent.futures.Executor, optional
        Splits the work by the cells of the first layer.
    progress : bool
        Show a progress line on stderr.
    max_regions, time_limit : optional
        Raise :class:`~exactmaso.errors.LimitError` (with ``.count``) when exceeded; the
        enumeration is never cut silently.
    """
    A, b = _check_net_dom(net, dom)
    monitor = Monitor(max_regions=max_regions, time_limit=time_limit, progress=progress)
    recs, engine = _batched(net, A, b, monitor, executor)  # the records come as one list
    monitor.tick(len(recs))
    monitor.show(len(recs), final=True)
    return Partition(net, dom, recs, engine)


def count_regions(
    net: Network,
    dom: Any,
    *,
    executor: Executor | None = None,
    progress: bool = False,
    max_regions: int | None = None,
    time_limit: float | None = None,
) -> int:
    """The number of regions of ``net`` on ``dom``; options as in :func:`regions`.  Without an
    executor it keeps only the first layer's cells and one run of regions at a time (see
    :func:`iter_regions`), so it counts more regions than :func:`regions` could hold."""
    n = 0
    for _ in _records(net, dom, executor=executor, progress=progress, max_regions=max_regions, time_limit=time_limit):
        n += 1
    return n
