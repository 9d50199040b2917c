"""The exact kernel: hyperplanes, vertices and maps of cells in rational arithmetic.

:class:`Exact` computes, from a cell's code, the exact affine map of each layer's input, the
exact row of a facet label and the exact vertex cut out by labels, in integer arithmetic
(python-flint) and cached per code prefix.  The engines call it only where the float
filter cannot decide, and the regions' exact data (vertices, polytopes, affine maps) comes
from it on demand.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, Sequence

import flint
import numpy as np

from ..maso import Network
from ..numbers import IntMatrix, nearest_float
from .cells import Geom, Label
from .filter import TINY, U


def _rows_to_fmpq(rows: Sequence[Sequence[Fraction]]) -> Any:
    return flint.fmpq_mat([[flint.fmpq(v.numerator, v.denominator) for v in r] for r in rows])


class Exact:
    """Exact hyperplanes and vertices, computed from codes and cached."""

    CACHE = 8192  # cells whose exact rows are kept (enumeration order keeps hits local)
    CACHE_ROWS = 1 << 18  # and at most this many rows of exact maps and products in all
    ROWS_DENSITY = 32  # layers with fewer non-zeros than 1 / this of their entries compose single rows

    def __init__(self, net: Network, A_dom: np.ndarray, b_dom: np.ndarray) -> None:
        self.net = net
        self.D = net.input_dim
        self.A_dom = A_dom
        self.b_dom = b_dom
        self._products: dict[tuple, tuple[list, int]] = {}
        self._maps: dict[tuple, tuple[list, int]] = {}
        self._rows: dict[tuple, tuple[Fraction, ...]] = {}
        self._int_rows: dict[tuple, tuple[int, ...]] = {}
        self._weight: dict[int, int] = {}  # rows held by each cache of maps or products
        self._by_rows: dict[int, bool] = {}  # per layer: whether it composes single rows

    def _remember(self, cache: dict, key: tuple, value: Any) -> None:
        """Keep ``value``; when the cache is full, forget its older half.  Caches of maps and
        products (values ``(rows, den)``) are full at :attr:`CACHE_ROWS` rows (a map of a wide
        layer holds thousands), the others at :attr:`CACHE` entries."""
        rows = len(value[0]) if cache is self._maps or cache is self._products else 0
        used = self._weight.get(id(cache), 0) + rows
        if len(cache) >= self.CACHE or used > self.CACHE_ROWS:
            old = list(cache)[: max(1, len(cache) // 2)]
            for k in old:
                if rows:
                    used -= len(cache[k][0])
                del cache[k]
        cache[key] = value
        self._weight[id(cache)] = used

    def _map_ints(self, prefix: tuple) -> tuple[list, int]:
        """Exact map of the input of layer ``len(prefix)``: integer rows ``[M | m]`` over ``den``."""
        hit = self._maps.get(prefix)
        if hit is None:
            D = self.D
            if not prefix:
                hit = ([[1 if i == j else 0 for j in range(D + 1)] for i in range(D)], 1)
            else:
                R = self.net.masos[len(prefix) - 1].num_pieces
                idx = [k * R + c for k, c in enumerate(prefix[-1])]
                sel, den = self._rows_at(prefix[:-1], idx)
                g = den
                for row in sel:
                    for v in row:
                        if v:
                            g = math.gcd(g, v)
                            if g == 1:
                                break
                    if g == 1:
                        break
                hit = ([[v // g for v in row] for row in sel], den // g) if g > 1 else (sel, den)
            self._remember(self._maps, prefix, hit)
        return hit

    def _rows_at(self, prefix: tuple, idx: Sequence[int]) -> tuple[list, int]:
        """Rows ``idx`` of the pieces of layer ``len(prefix)`` on the cell ``prefix``, as affine
        functions of x (the integer rows of :meth:`pieces_at`, over its denominator).

        A layer with few non-zeros (:meth:`_composes_rows`) composes only those rows of its
        exact sparse pieces with the cell's map, never the layer's whole product; a dense one
        reads them from the cell's (cached) product, which its other facets share.
        """
        l = len(prefix)
        if not self._composes_rows(l):
            rows, den = self.pieces_at(prefix)
            return [rows[i] for i in idx], den
        P = self.net.masos[l].pieces_sparse_int().rows(list(idx))
        rows, den = self._map_ints(prefix)
        Z = np.array(rows + [[0] * self.D + [den]], dtype=object)
        return [list(r) for r in P.dot_ints(Z)], P.den * den

    def _composes_rows(self, l: int) -> bool:
        """Whether layer ``l`` composes single rows (:meth:`_rows_at`): when it is stored sparse
        or some but at most 1 / :attr:`ROWS_DENSITY` of its entries are non-zero (a max-pool
        layer's pieces pick one input each), where a whole dense product would mostly multiply
        zeros."""
        hit = self._by_rows.get(l)
        if hit is None:
            m = self.net.masos[l]
            K, R, n = m.num_units, m.num_pieces, m.input_dim
            nnz = m.num_nonzeros
            hit = m.is_sparse or 0 < nnz and self.ROWS_DENSITY * nnz <= K * R * (n + 1)
            self._by_rows[l] = hit
        return hit

    def pieces_at(self, prefix: tuple) -> tuple[list, int]:
        """Every piece of layer ``l = len(prefix)`` on the cell ``prefix``, as affine functions of x.

        Returns the ``K * R`` rows (unit-major) of D + 1 integers over one denominator: one
        FLINT product of the layer's integer pieces with the cell's exact map.
        """
        hit = self._products.get(prefix)
        if hit is None:
            D = self.D
            l = len(prefix)
            m = self.net.masos[l]
            pieces, where = m.pieces_int()
            zero = [0] * (D + 1)
            if pieces is None:
                hit = ([zero] * len(where), 1)
            else:
                rows, den = self._map_ints(prefix)
                aug = flint.fmpz_mat(rows + [[0] * D + [den]])
                ent = [int(v) for v in (pieces.num * aug).entries()]
                w = D + 1
                hit = ([ent[i * w:(i + 1) * w] if i >= 0 else zero for i in where], pieces.den * den)
            self._remember(self._products, prefix, hit)
        return hit

    def prefix_map(self, prefix: tuple) -> IntMatrix:
        """Exact augmented map ``[M | m]`` of the input of layer ``len(prefix)``."""
        rows, den = self._map_ints(prefix)
        return IntMatrix.from_ints(rows, den, (len(rows), self.D + 1))

    def _diff_ints(self, code: tuple, label: Label) -> tuple[list[int], int]:
        l, k, r, s = label
        R = self.net.masos[l].num_pieces
        (a, b), den = self._rows_at(code[:l], [k * R + r, k * R + s])
        return [p - q for p, q in zip(a, b)], den

    def row(self, code: tuple, label: Label) -> tuple[Fraction, ...]:
        """Exact (a, c) with a.x + c = g_r - g_s (or, for a domain row, b - A x), as D + 1 Fractions."""
        if label[0] == "d":
            i = label[1]
            return tuple([-v for v in self.A_dom[i]] + [self.b_dom[i]])
        key = (code[: label[0]], label)
        hit = self._rows.get(key)
        if hit is None:
            diff, den = self._diff_ints(code, label)
            hit = tuple(Fraction(v, den) for v in diff)
            self._remember(self._rows, key, hit)
        return hit

    def row_int(self, code: tuple, label: Label) -> tuple[int, ...]:
        """A positive integer multiple of :meth:`row` (same zero set, same signs), cached."""
        key = label if label[0] == "d" else (code[: label[0]], label)
        hit = self._int_rows.get(key)
        if hit is None:
            if label[0] == "d":
                r = self.row(code, label)
                den = 1
                for v in r:
                    den = den * v.denominator // math.gcd(den, v.denominator)
                ints = [int(v * den) for v in r]
            else:
                ints = self._diff_ints(code, label)[0]
            g = 0
            for v in ints:
                g = math.gcd(g, v)
            hit = tuple(v // g for v in ints) if g > 1 else tuple(ints)
            self._remember(self._int_rows, key, hit)
        return hit

    def oriented_row(self, code: tuple, label: Label) -> tuple[Fraction, ...]:
        """The facet row oriented so that the region satisfies ``a.x + c >= 0``."""
        row = self.row(code, label)
        if label[0] == "d":
            return row
        l, k, r, s = label
        return row if code[l][k] == r else tuple(-v for v in row)

    def _vertex_2d(self, code: tuple, labels: list) -> tuple[Fraction, Fraction]:
        rows = [self.row_int(code, lab) for lab in labels]
        for a in range(len(rows)):
            for b in range(a + 1, len(rows)):
                x = _cramer_2d(rows[a], rows[b])
                if x is not None:
                    return x
        raise AssertionError("a vertex lies on fewer than 2 independent facets")  # invariant

    def vertex(self, code: tuple, geom: Geom, i: int) -> tuple[Fraction, ...]:
        """Exact coordinates of vertex i of a cell whose prefix code is ``code``."""
        hit = geom.exact[i]
        if hit is not None:
            return hit
        labels = [geom.labels[j] for j in np.flatnonzero(geom.F[i])]
        x = self._vertex_2d(code, labels) if self.D == 2 else self._vertex_nd(code, labels)
        geom.exact[i] = x
        geom.X = geom.X.copy()
        geom.X[i] = [nearest_float(v) for v in x]
        geom.e = geom.e.copy()
        geom.e[i] = U * float(np.max(np.abs(geom.X[i]))) + TINY
        return x

    def _vertex_nd(self, code: tuple, labels: list) -> tuple[Fraction, ...]:
        x = solve_integer_rows([self.row_int(code, lab) for lab in labels], self.D)
        if x is None:
            raise AssertionError("a vertex lies on fewer than D independent facets")  # invariant
        return x


def solve_integer_rows(rows: Sequence[Sequence[int]], D: int) -> tuple[Fraction, ...] | None:
    """The point x with ``a . x + c = 0`` for every integer row (a_1 .. a_D, c) of a consistent
    system of rank D; None when the rank is lower.

    Fraction-free (Bareiss) elimination with row pivoting: every intermediate entry is a minor
    of the system, so all divisions are exact and the numbers stay as small as the answer.
    """
    M = [list(r[:D]) + [-r[D]] for r in rows]
    prev = 1
    for col in range(D):
        p = next((i for i in range(col, len(M)) if M[i][col] != 0), None)
        if p is None:
            return None
        M[col], M[p] = M[p], M[col]
        piv = M[col]
        for i in range(col + 1, len(M)):
            row = M[i]
            f = row[col]
            M[i] = [(piv[col] * row[j] - f * piv[j]) // prev for j in range(D + 1)]
        prev = piv[col]
    # fraction-free back substitution: the last pivot is the determinant det of the chosen
    # D rows, and y = det * x is integral (Cramer), with every division below exact
    det = M[D - 1][D - 1]
    y = [0] * D
    for i in range(D - 1, -1, -1):
        acc = M[i][D] * det - sum(M[i][j] * y[j] for j in range(i + 1, D))
        y[i] = acc // M[i][i]
    return tuple(Fraction(v, det) for v in y)


def _cramer_2d(r1: tuple[int, ...], r2: tuple[int, ...]) -> tuple[Fraction, Fraction] | None:
    """The point where a1 x + b1 y + c1 = 0 meets a2 x + b2 y + c2 = 0 (None if parallel)."""
    a1, b1, c1 = r1
    a2, b2, c2 = r2
    det = a1 * b2 - a2 * b1
    if det == 0:
        return None
    return Fraction(b1 * c2 - b2 * c1, det), Fraction(a2 * c1 - a1 * c2, det)


def domain_vertices(A: np.ndarray, b: np.ndarray) -> tuple[list[tuple[Fraction, ...]], np.ndarray]:
    """Exact vertices of {A x <= b}, sorted, and their incidence (``F[k, i]``: row i is tight
    at vertex k), by the exact double description of :class:`~exactmaso.polytope.Polytope`
    (brute force over the D-subsets of rows took seconds for a 5-D cross-polytope's 32 rows)."""
    from ..polytope import Polytope

    m = A.shape[0]
    V = Polytope(A, b, check=False).vertices()
    verts = sorted(tuple(Fraction(v) for v in x) for x in V)
    fq = lambda v: flint.fmpq(v.numerator, v.denominator)  # noqa: E731
    Am = flint.fmpq_mat([[fq(v) for v in row] for row in A])
    bq = [fq(v) for v in b]
    F = np.zeros((len(verts), m), dtype=bool)
    for k, x in enumerate(verts):
        r = Am * flint.fmpq_mat([[fq(v)] for v in x])
        F[k] = [r[i, 0] == bq[i] for i in range(m)]
    return verts, F
