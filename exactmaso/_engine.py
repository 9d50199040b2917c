"""The region-enumeration engine: hierarchical cell subdivision with filtered exact signs.

Every cell of the first ``l`` layers is a convex polytope kept as its vertices (float
coordinates with a rigorous error bound, exact coordinates when computed) and its
vertex-facet incidences.  Layer ``l`` cuts each cell by the hyperplanes of its units; a cut
evaluates the unit's affine pre-activation at the cell's vertices, splits the edges whose
ends have strictly opposite signs, and reads the new polytopes' edges off the incidences
(two vertices span an edge iff no third vertex lies on every facet the two share: the
combinatorial test, valid in any dimension and for degenerate polytopes).

Exactness: every sign is decided either by a floating-point filter whose error bound is
rigorous (float maps carry entry-wise error bounds, vertices carry coordinate error bounds,
and the bound covers every rounding on the way) or, when the filter cannot decide, in exact
rational arithmetic.  Floats never decide on their own, so the combinatorics -- which
regions exist, their codes, their facets and vertex incidences -- is exact.  Exact
coordinates and hyperplanes are computed lazily, from the codes, when asked for.
"""

from __future__ import annotations

import math
import sys
import time
from fractions import Fraction
from typing import Any, Iterator, Sequence

import flint
import numpy as np

from .errors import LimitError
from .maso import Network
from .numbers import IntMatrix, nearest_float, to_float_array

U = 2.0 ** -53  # unit round-off of float64
SAFETY = 1.0 + 1e-9  # covers the rounding of the bound computations themselves
TINY = 1e-290  # covers underflow


def gamma(n: int) -> float:
    return n * U / (1 - n * U)


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


class Cell:
    __slots__ = ("level", "code", "geom", "M", "E")

    def __init__(self, level: int, code: tuple, geom: Geom, M: np.ndarray, E: np.ndarray) -> None:
        self.level = level
        self.code = code
        self.geom = geom
        self.M = M  # float augmented map of the layer-`level` input, (n_l, D + 1)
        self.E = E


def _rows_to_fmpq(rows: Sequence[Sequence[Fraction]]) -> Any:
    return flint.fmpq_mat([[flint.fmpq(v.numerator, v.denominator) for v in r] for r in rows])


class Exact:
    """Exact hyperplanes and vertices, computed from codes and cached."""

    CACHE = 8192  # cells whose exact rows are kept (enumeration order keeps hits local)
    CACHE_ROWS = 1 << 18  # and at most this many rows of exact maps and products in all

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
                if self.net.masos[len(prefix) - 1].is_sparse:
                    sel, den = self._sparse_rows(prefix[:-1], idx)
                else:
                    rows, den = self.pieces_at(prefix[:-1])
                    sel = [rows[i] for i in idx]
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

    def _sparse_rows(self, prefix: tuple, idx: Sequence[int]) -> tuple[list, int]:
        """Rows ``idx`` of the pieces of the sparse layer ``len(prefix)`` on the cell ``prefix``,
        as affine functions of x (integer rows over one denominator): only those rows are
        composed with the cell's map, never the layer's dense product."""
        D = self.D
        P = self.net.masos[len(prefix)].pieces_sparse_int().rows(list(idx))
        rows, den = self._map_ints(prefix)
        Z = np.array(rows + [[0] * D + [den]], dtype=object)
        return [list(r) for r in P.dot_ints(Z)], P.den * den

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
        if self.net.masos[l].is_sparse:
            (a, b), den = self._sparse_rows(code[:l], [k * R + r, k * R + s])
        else:
            rows, den = self.pieces_at(code[:l])
            a, b = rows[k * R + r], rows[k * R + s]
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


def filtered_values(X: np.ndarray, e: np.ndarray, h: np.ndarray, eh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Float values of affine rows at points, and rigorous bounds on their distance to the exact ones.

    Row ``i`` of ``h`` (n, D + 1) is a float approximation, each entry within ``eh[i]``, of an
    exact affine function; point ``i`` of ``X`` (n, D) is within ``e[i]`` (max norm) of an exact
    point.  Then ``|h(x) - h*(x*)| <= eh (|x|_1 + 1 + D e) + e (|h|_1 + D eh) + rounding``, and
    a sign is proved where ``|value| > bound``.
    """
    D = X.shape[1]
    hx = h[:, :D]
    vals = np.einsum("ij,ij->i", X, hx) + h[:, D]
    ax = np.abs(X)
    ah = np.abs(hx)
    thr = (
        eh * (ax.sum(axis=1) + 1 + D * e)
        + e * (ah.sum(axis=1) + D * eh)
        + gamma(D + 2) * (np.einsum("ij,ij->i", ax, ah) + np.abs(h[:, D]))
    ) * SAFETY + TINY
    return vals, thr


def proved_signs(vals: np.ndarray, thr: np.ndarray) -> np.ndarray:
    """Signs the float filter proves: +1 / -1 where ``|vals|`` exceeds the bound, 0 = undecided.

    Nothing non-finite decides: a NaN or infinite value, or a bound that overflowed, leaves
    the sign undecided (all comparisons with NaN are false), for the exact fallback.
    """
    s = np.zeros(vals.shape, dtype=np.int8)
    s[(vals > thr) & (vals < np.inf)] = 1
    s[(vals < -thr) & (vals > -np.inf)] = -1
    return s


class FloatLayer:
    """The float filter's copy of one layer of a network.

    The filter works on a rescaled network: unit ``k`` of layer ``l`` outputs
    ``y[l, k] / 2**t[l, k]``, so the pieces of that unit become
    ``A[k, r, j] * 2**(t[l-1, j] - t[l, k])`` and ``B[k, r] / 2**t[l, k]`` (the input is not
    rescaled).  A positive factor keeps every unit's arg-max and the sign of every difference
    of its pieces, so every decision of the scaled network is a decision of the network
    itself, while the exponents (chosen so that each unit's largest entry lies in [1, 2))
    keep the floats of weights such as 1e200 beside 1e-200, or of products of huge weights
    over many layers, finite and normal.  The exact fallback works on the network itself.

    Attributes
    ----------
    pieces : (K, R, n + 1) float64
        Nearest floats of the rescaled augmented pieces ``[A | B]``.
    cut : (K, n + 1) float64 or None
        For a two-piece layer: nearest floats of the rescaled exact differences
        ``piece 1 - piece 0`` (rounding the exact difference keeps each entry within an ulp,
        a difference of two rounded pieces would not); None when every piece 0 is zero
        (ReLU), where the cut rows are piece 1 itself, or when R != 2.
    eta : float
        An absolute error bound per entry on top of the relative rounding: 0, or 2**-1074
        when some non-zero entry fell below the normal range.
    scale : (K,) int
        The exponents ``t[l, k]``.
    """

    __slots__ = ("pieces", "cut", "eta", "scale")

    def __init__(self, pieces: np.ndarray, cut: np.ndarray | None, eta: float, scale: np.ndarray) -> None:
        self.pieces = pieces
        self.cut = cut
        self.eta = eta
        self.scale = scale  # (K,) the exponents t: unit k of the float copy outputs y_k / 2**t[k]


_NORMAL = 2.0 ** -1022


def _scaled_floats(rows: list, shifts: list, den: int) -> tuple[np.ndarray, bool]:
    """Nearest floats of ``rows[i][j] * 2**shifts[i][j] / den`` and whether any underflowed."""
    ints = np.array(rows, dtype=object)
    e = den.bit_length() - 1
    F = None
    if den == 1 << e:
        try:  # float(int) rounds once and ldexp is exact down to the normal range
            F = np.ldexp(ints.astype(np.float64), np.array(shifts, dtype=np.int64) - e)
        except OverflowError:  # an integer beyond the float range: one entry at a time
            F = None
    if F is None:  # correctly rounded integer division, one entry at a time
        F = np.array([[(v << t) / den if t >= 0 else v / (den << -t) for v, t in zip(row, sh)]
                      for row, sh in zip(rows, shifts)], dtype=np.float64)
    return F, bool(((ints != 0) & (np.abs(F) < _NORMAL)).any())


SPARSE_FLOATS = 1 << 22  # a sparse layer whose dense float copy would exceed this stays sparse


def float_layers(net: Network) -> list[FloatLayer]:
    """The float filter's copy of every layer (see :class:`FloatLayer`)."""
    out = []
    t_in = [0] * net.input_dim  # exponents of the current layer's input coordinates
    for m in net.masos:
        K, R, n = m.num_units, m.num_pieces, m.input_dim
        if m.is_sparse and K * R * (n + 1) > SPARSE_FLOATS:
            fl = _sparse_float_layer(m, np.array(t_in, dtype=np.int64))
            out.append(fl)
            t_in = fl.scale.tolist()
            continue
        rows, den = m._int_pieces()
        dbits = den.bit_length()
        t_out = []
        shifts = []
        for k in range(K):
            big = None
            for r in range(R):
                row = rows[k * R + r]
                for j, v in enumerate(row):
                    if v:
                        b = v.bit_length() + (t_in[j] if j < n else 0)
                        big = b if big is None or b > big else big
            t = 0 if big is None else big - dbits
            t_out.append(t)
            sh = [tj - t for tj in t_in] + [-t]
            shifts.extend([sh] * R)
        P, under = _scaled_floats(rows, shifts, den)
        cut = None
        if R == 2 and any(any(rows[2 * k]) for k in range(K)):
            diff = [[q - p for p, q in zip(rows[2 * k], rows[2 * k + 1])] for k in range(K)]
            cut, under_c = _scaled_floats(diff, shifts[::2], den)
            under = under or under_c
        out.append(FloatLayer(P.reshape(K, R, n + 1), cut, 2.0 ** -1074 if under else 0.0, np.array(t_out)))
        t_in = t_out
    return out


def piece_rows(fl: FloatLayer, r: int) -> Any:
    """Piece ``r`` of every unit of a float layer: (K, n + 1), dense or CSR like the layer."""
    if isinstance(fl.pieces, np.ndarray):
        return fl.pieces[:, r, :]
    R = fl.pieces.shape[0] // len(fl.scale)
    return fl.pieces[r::R]


def all_pieces(fl: FloatLayer) -> Any:
    """Every piece of a float layer as (K R, n + 1) rows, unit-major, dense or CSR."""
    if isinstance(fl.pieces, np.ndarray):
        K, R, n1 = fl.pieces.shape
        return fl.pieces.reshape(K * R, n1)
    return fl.pieces


def _sparse_float_layer(m: Any, t_in: np.ndarray) -> FloatLayer:
    """:class:`FloatLayer` of a large sparse layer: the same rescaling, entry by entry, with
    ``pieces`` (and ``cut``) as ``scipy.sparse`` CSR matrices of shape (K R, n + 1)."""
    import scipy.sparse

    K, R, n = m.num_units, m.num_pieces, m.input_dim
    S = m.pieces_sparse_int()
    den = S.den
    rowid = S.row_of_entries()
    tcol = np.where(S.indices < n, t_in[np.minimum(S.indices, n - 1)], 0)
    bits = np.fromiter((v.bit_length() for v in S.data), dtype=np.int64, count=len(S.data)) + tcol
    big = np.full(K, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(big, rowid // R, bits)
    t_out = np.where(big == np.iinfo(np.int64).min, 0, big - den.bit_length())

    def scaled(M: Any, units: np.ndarray) -> tuple[Any, bool]:
        cols = np.where(M.indices < n, t_in[np.minimum(M.indices, n - 1)], 0) - t_out[units]
        F, under = _scaled_floats([list(M.data)], [cols.tolist()], M.den)
        return scipy.sparse.csr_matrix((F[0], M.indices.copy(), M.indptr.copy()), shape=M.shape), under

    P, under = scaled(S, rowid // R)
    cut = None
    if R == 2 and (S.row_lengths()[0::2] > 0).any():
        Dm = S.rows(np.arange(1, K * R, 2)) - S.rows(np.arange(0, K * R, 2))
        cut, under_c = scaled(Dm, Dm.row_of_entries())
        under = under or under_c
    return FloatLayer(P, cut, 2.0 ** -1074 if under else 0.0, t_out)


def crossing_points(ha, hb, da, db, Xa, Xb, ea, eb) -> tuple[np.ndarray, np.ndarray]:
    """Float points where segments [Xa, Xb] cross an affine function's zero, with error bounds.

    ``ha > 0 > hb`` are float values at the ends, within ``da, db`` of the exact values, and
    the filter decided both signs (``ha - da > 0 > hb + db``); ``ea, eb`` bound the ends'
    coordinate errors.  The exact crossing is ``xa* + t* (xb* - xa*)`` with
    ``t* = ha*/(ha* - hb*)``, which lies in an interval computed from the value intervals
    (widened for rounding).  The returned bound covers
    ``(1 - t*)|xa~ - xa*| + t*|xb~ - xb*| + |t~ - t*| |xb~ - xa~|`` and the rounding.
    Entries whose end signs were decided exactly are meaningless here: callers compute those
    crossings exactly.
    """
    # entries with an exactly decided end may divide 0 by 0: they are replaced by the caller
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        p_lo, p_hi = ha - da, ha + da
        q_lo, q_hi = -hb - db, db - hb
        t_lo = p_lo / (p_lo + q_hi) * (1 - 4 * U)
        t_hi = p_hi / (p_hi + q_lo) * (1 + 4 * U)
        t = 0.5 * (t_lo + t_hi)
        dt = 0.5 * (t_hi - t_lo) + 2 * U
        d = Xb - Xa
        Xn = Xa + t[:, None] * d
        en = (np.maximum(ea, eb) + dt * np.abs(d).max(axis=1)
              + 3 * U * (np.abs(Xa) + np.abs(Xb)).max(axis=1)) * SAFETY + TINY
    return Xn, en


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
    from .polytope import Polytope

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


class Engine:
    """Enumerates the regions of ``net`` on the domain ``{A x <= b}`` depth first."""

    def __init__(self, net: Network, A_dom: np.ndarray, b_dom: np.ndarray, monitor: "Monitor | None" = None) -> None:
        self.net = net
        self.D = net.input_dim
        self.L = len(net.masos)
        self.exact = Exact(net, A_dom, b_dom)
        self.P = []  # the filter's float pieces (K*R, n+1) per layer (see FloatLayer)
        self.absP = []
        self.gam = []
        self.eta = []
        for m, fl in zip(net.masos, float_layers(net)):
            n = m.input_dim
            Pf = all_pieces(fl)
            if not isinstance(Pf, np.ndarray):
                Pf = Pf.toarray()  # the per-cell engine works on dense rows (small nets)
            self.P.append(Pf)
            self.absP.append(np.abs(Pf))
            self.gam.append(gamma(n + 3))
            self.eta.append(fl.eta)
        self.A_dom, self.b_dom = A_dom, b_dom
        self.monitor = monitor  # checks limits and shows progress; may raise LimitError
        self.count = 0  # regions produced so far

    # -- the root ----------------------------------------------------------------------
    def root(self) -> Cell:
        verts, F = domain_vertices(self.A_dom, self.b_dom)
        D = self.D
        X = to_float_array(np.array(verts, dtype=object).reshape(len(verts), D))
        e = U * np.max(np.abs(X), axis=1) + TINY
        labels = [("d", i) for i in range(self.A_dom.shape[0])]
        geom = Geom(X, e, F, labels, list(verts))
        geom = _prune(geom, D)
        M = np.hstack([np.eye(D), np.zeros((D, 1))])
        return Cell(0, (), geom, M, np.zeros_like(M))

    # -- signs ---------------------------------------------------------------------------
    def signs(self, cell_code: tuple, geom: Geom, H: np.ndarray, EH: np.ndarray, label: Label, orient: int):
        """Signs of the affine function ``H`` at the vertices; returns (s, vals, thr, exact_used).

        ``H``/``EH`` are the float row (D + 1) and its error bound, with ``H`` approximating
        ``orient * (g_r - g_s)`` for ``label = (l, k, r, s)``: the exact fallback evaluates the
        same orientation.
        """
        D = self.D
        X, e = geom.X, geom.e
        vals = X @ H[:D] + H[D]
        ax = np.abs(X)
        aH = np.abs(H)
        thr = (
            (ax + e[:, None]) @ EH[:D] + EH[D] + e * (aH[:D].sum() + EH[:D].sum())
            + gamma(D + 2) * (ax @ aH[:D] + aH[D])
        ) * SAFETY + TINY
        s = proved_signs(vals, thr)
        und = np.flatnonzero(s == 0)
        exact_used = np.zeros(len(vals), dtype=bool)
        if len(und):
            row = self.exact.row(cell_code, label)
            for i in und:
                x = self.exact.vertex(cell_code, geom, i)
                v = (sum(a * xi for a, xi in zip(row[:D], x)) + row[D]) * orient
                s[i] = (v > 0) - (v < 0)
                exact_used[i] = True
            # vertex coordinates may have been refined: recompute the float values there
            X, e = geom.X, geom.e
            vals = X @ H[:D] + H[D]
        return s, vals, thr, exact_used

    # -- cutting -------------------------------------------------------------------------
    def split(self, cell_code: tuple, geom: Geom, s, vals, thr, exact_used, label: Label, orient: int):
        """Split ``geom`` by the hyperplane (signs ``s`` at its vertices: both +1 and -1 occur).

        Returns (negative part, positive part).  ``vals`` approximate ``orient`` times the exact
        row of ``label`` (see :meth:`signs`).
        """
        D = self.D
        F = geom.F
        pos = np.flatnonzero(s > 0)
        neg = np.flatnonzero(s < 0)
        Fi = F.astype(np.int16)
        C = Fi[pos] @ Fi[neg].T
        pi, ni = np.nonzero(C >= D - 1)
        a_idx, b_idx = pos[pi], neg[ni]
        if D >= 3 and len(a_idx):
            common = F[a_idx] & F[b_idx]  # (c, f)
            cnt = Fi @ common.T.astype(np.int16)  # (n, c)
            size = common.sum(axis=1)
            holders = (cnt == size[None, :]).sum(axis=0)
            keep = holders == 2
            a_idx, b_idx = a_idx[keep], b_idx[keep]
        c = len(a_idx)
        # new vertices on the crossing edges
        Xn, en = crossing_points(vals[a_idx], vals[b_idx], thr[a_idx], thr[b_idx],
                                 geom.X[a_idx], geom.X[b_idx], geom.e[a_idx], geom.e[b_idx])
        Fn = F[a_idx] & F[b_idx]
        exact_new: list = [None] * c
        need = np.flatnonzero(exact_used[a_idx] | exact_used[b_idx])
        if len(need):
            row = self.exact.row(cell_code, label)
            if orient < 0:
                row = tuple(-v for v in row)
            for j in need:
                xa = self.exact.vertex(cell_code, geom, a_idx[j])
                xb = self.exact.vertex(cell_code, geom, b_idx[j])
                va = sum(q * x for q, x in zip(row[:D], xa)) + row[D]
                vb = sum(q * x for q, x in zip(row[:D], xb)) + row[D]
                tt = va / (va - vb)
                x = tuple(p + tt * (q - p) for p, q in zip(xa, xb))
                exact_new[j] = x
                Xn[j] = [nearest_float(v) for v in x]
                en[j] = U * float(np.max(np.abs(Xn[j]))) + TINY
        zero = s == 0
        col_old = zero
        parts = []
        for side in (s < 0, s > 0):
            keep_old = np.flatnonzero(side | zero)
            X = np.vstack([geom.X[keep_old], Xn])
            e = np.concatenate([geom.e[keep_old], en])
            Fc = np.vstack([F[keep_old], Fn])
            newcol = np.concatenate([col_old[keep_old], np.ones(c, dtype=bool)])
            Fc = np.hstack([Fc, newcol[:, None]])
            exact = [geom.exact[i] for i in keep_old] + list(exact_new)
            parts.append(_prune(Geom(X, e, Fc, geom.labels + [label], exact), D))
        return parts[0], parts[1]

    # -- one layer on one cell ----------------------------------------------------------
    def children(self, cell: Cell) -> Iterator[Cell]:
        """The cells that layer ``cell.level`` cuts ``cell`` into, in code order, one at a time.

        Depth first over the units of the layer, so the first child arrives after one path of
        cuts, memory stays small, and the monitor's limits are checked at every cut.
        """
        l = cell.level
        m = self.net.masos[l]
        K, R = m.num_units, m.num_pieces
        D = self.D
        Maug = np.vstack([cell.M, np.eye(1, D + 1, D)])
        Eaug = np.vstack([cell.E, np.zeros((1, D + 1))])
        G = self.P[l] @ Maug
        EG = (self.absP[l] @ Eaug) * (1 + 2 * U) + self.gam[l] * (self.absP[l] @ (np.abs(Maug) + Eaug))
        if self.eta[l]:  # entries of the pieces that fell below the normal range
            EG = EG + self.eta[l] * (np.abs(Maug) + Eaug).sum(axis=0)
        G = G.reshape(K, R, D + 1)
        EG = EG.reshape(K, R, D + 1)
        if R == 1:
            yield self._child(cell, cell.geom, (0,) * K, G, EG)
        elif R == 2:
            yield from self._two_piece_children(cell, G, EG)
        else:
            yield from self._general_children(cell, G, EG)

    def _tick(self) -> None:
        if self.monitor is not None:
            self.monitor.tick(self.count)

    def _child(self, cell: Cell, geom: Geom, code_l: tuple, G: np.ndarray, EG: np.ndarray) -> Cell:
        idx = np.arange(len(code_l))
        c = np.asarray(code_l)
        return Cell(cell.level + 1, cell.code + (tuple(code_l),), geom, G[idx, c], EG[idx, c])

    def _two_piece_children(self, cell: Cell, G: np.ndarray, EG: np.ndarray) -> Iterator[Cell]:
        l = cell.level
        D = self.D
        H = G[:, 1] - G[:, 0]
        EH = EG[:, 1] + EG[:, 0] + U * np.abs(H)
        geom = cell.geom
        X, e = geom.X, geom.e
        K = H.shape[0]
        vals = X @ H[:, :D].T + H[:, D]
        ax = np.abs(X)
        aH = np.abs(H)
        thr = (
            (ax + e[:, None]) @ EH[:, :D].T + EH[:, D] + e[:, None] * (aH[:, :D].sum(1) + EH[:, :D].sum(1))
            + gamma(D + 2) * (ax @ aH[:, :D].T + aH[:, D])
        ) * SAFETY + TINY
        S = proved_signs(vals, thr)
        anypos = (S > 0).any(axis=0)
        anyneg = (S < 0).any(axis=0)
        undecided = (S == 0).any(axis=0)
        code = np.zeros(K, dtype=np.int64)
        cutting = []
        for k in range(K):
            if undecided[k]:
                self._tick()
                s, _, _, _ = self.signs(cell.code, geom, H[k], EH[k], (l, k, 0, 1), -1)
                p, n = bool((s > 0).any()), bool((s < 0).any())
            else:
                p, n = bool(anypos[k]), bool(anyneg[k])
            if p and n:
                cutting.append(k)
            elif p:
                code[k] = 1
        # depth first over the cutting units; the negative side (code 0) comes first
        stack = [(geom, code, 0)]
        while stack:
            g, c, i = stack.pop()
            if i == len(cutting):
                yield self._child(cell, g, tuple(int(v) for v in c), G, EG)
                continue
            self._tick()
            k = cutting[i]
            label = (l, k, 0, 1)
            # H = g_1 - g_0 is minus the exact row g_0 - g_1 of the label (l, k, 0, 1)
            s, v, t, ex = self.signs(cell.code, g, H[k], EH[k], label, -1)
            haspos, hasneg = bool((s > 0).any()), bool((s < 0).any())
            if haspos and hasneg:
                gn, gp = self.split(cell.code, g, s, v, t, ex, label, -1)
                c1 = c.copy()
                c1[k] = 1
                stack.append((gp, c1, i + 1))
                stack.append((gn, c, i + 1))
            else:
                if haspos:
                    c = c.copy()
                    c[k] = 1
                stack.append((g, c, i + 1))

    def _general_children(self, cell: Cell, G: np.ndarray, EG: np.ndarray) -> Iterator[Cell]:
        """Units with R > 2 pieces: for each piece r, keep {g_r >= g_s for all s} (ties: lowest index)."""
        K = G.shape[0]
        stack: list[tuple[Geom, tuple[int, ...]]] = [(cell.geom, ())]
        while stack:
            g, c = stack.pop()
            k = len(c)
            if k == K:
                yield self._child(cell, g, c, G, EG)
                continue
            parts = [(part, c + (r,)) for r, part in enumerate(self._piece_parts(cell, g, k, G, EG)) if part is not None]
            stack.extend(reversed(parts))

    def _piece_parts(self, cell: Cell, g: Geom, k: int, G: np.ndarray, EG: np.ndarray) -> list[Geom | None]:
        """For each piece r of unit k: the part of ``g`` where r is the arg-max (None if not full-dimensional)."""
        l = cell.level
        R = G.shape[1]
        out: list[Geom | None] = []
        for r in range(R):
            part: Geom | None = g
            for s_ in range(R):
                if s_ == r or part is None:
                    continue
                self._tick()
                lo, hi = min(r, s_), max(r, s_)
                label = (l, k, lo, hi)
                sign = 1 if r == lo else -1  # orient so that + means piece r wins
                H = (G[k, lo] - G[k, hi]) * sign
                EH = EG[k, lo] + EG[k, hi] + U * np.abs(H)
                s, v, t, ex = self.signs(cell.code, part, H, EH, label, sign)
                haspos, hasneg = bool((s > 0).any()), bool((s < 0).any())
                if not haspos and not hasneg:  # g_r == g_s on the whole part: tie
                    if s_ < r:
                        part = None
                elif not haspos:
                    part = None
                elif hasneg:
                    part = self.split(cell.code, part, s, v, t, ex, label, sign)[1]
            out.append(part)
        return out

    # -- traversal -----------------------------------------------------------------------
    def iter_records(self, cell: Cell | None = None) -> Iterator[RegionRecord]:
        """Depth-first: the regions inside ``cell`` (the whole domain by default), in code order."""
        L = self.L
        with np.errstate(all="ignore"):  # non-finite floats are undecided, never errors
            start = cell if cell is not None else self.root()
        stack = [iter([start])]
        while stack:
            with np.errstate(all="ignore"):
                c = next(stack[-1], None)
            if c is None:
                stack.pop()
                continue
            if c.level == L:
                self.count += 1
                yield RegionRecord(c.code, c.geom, c.M, c.E)
                continue
            stack.append(self.children(c))


def _prune(geom: Geom, D: int) -> Geom:
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


def balanced_chunks(work: np.ndarray, n: int) -> np.ndarray:
    """Bounds ``0 = b_0 < ... < b_m = len(work)`` (m <= n) of contiguous chunks whose summed
    ``work`` is about equal (each chunk ends where the running total passes its share)."""
    total = np.cumsum(work, dtype=float)
    if not len(total):
        return np.array([0], dtype=np.int64)
    cuts = np.searchsorted(total, total[-1] * np.arange(1, n) / n, side="right")
    return np.unique(np.concatenate([[0], np.clip(cuts, 1, len(work) - 1) if len(work) > 1 else [], [len(work)]])).astype(np.int64)


def wait_result(fut: Any, futures: Sequence[Any], monitor: "Monitor | None", regions: int) -> Any:
    """``fut.result()``, waiting no longer than the monitor's time limit allows.

    On time-out the other futures are cancelled and :class:`~exactmaso.errors.LimitError` is
    raised (with ``regions``, a lower bound on the count).
    """
    import concurrent.futures as cf

    timeout = None if monitor is None else monitor.remaining()
    try:
        return fut.result(timeout=timeout)
    except cf.TimeoutError:
        for f in futures:
            f.cancel()
        monitor.tick(regions)  # past the limit: raises LimitError
        raise  # pragma: no cover - tick raised


class Monitor:
    """Limits and progress of one enumeration.

    The engines call :meth:`tick` often (at every cut, every wavefront step and every exact
    fallback) with a lower bound on the number of regions; it raises
    :class:`~exactmaso.errors.LimitError` as soon as ``max_regions`` is exceeded or
    ``time_limit`` seconds have passed, and redraws a one-line progress report on stderr at
    most every 0.25 s when ``progress`` is on.
    """

    INTERVAL = 0.25

    def __init__(self, *, max_regions: int | None = None, time_limit: float | None = None, progress: bool = False) -> None:
        self.max_regions = max_regions
        self.time_limit = time_limit
        self.progress = progress
        self.start = time.perf_counter()
        self.last = self.start
        self.stage = ""

    def remaining(self) -> float | None:
        """Seconds left before the time limit (None without one)."""
        if self.time_limit is None:
            return None
        return max(0.0, self.time_limit - (time.perf_counter() - self.start))

    def tick(self, regions: int) -> None:
        if self.max_regions is not None and regions > self.max_regions:
            self.show(regions, final=True)
            raise LimitError(f"more than max_regions={self.max_regions} regions: at least {regions} found", count=regions)
        if self.time_limit is None and not self.progress:
            return
        now = time.perf_counter()
        if self.time_limit is not None and now - self.start > self.time_limit:
            self.show(regions, final=True)
            raise LimitError(f"time_limit={self.time_limit} s reached with at least {regions} regions", count=regions)
        if self.progress and now - self.last >= self.INTERVAL:
            self.show(regions)

    def show(self, regions: int, final: bool = False) -> None:
        if not self.progress:
            return
        now = time.perf_counter()
        self.last = now
        elapsed = now - self.start
        rate = regions / max(elapsed, 1e-9)
        stage = f"{self.stage}: " if self.stage and not final else ""
        sys.stderr.write(f"\rexactmaso: {stage}{regions:,} regions ({rate:,.0f}/s, {elapsed:.1f} s)    ")
        if final:
            sys.stderr.write("\n")
        sys.stderr.flush()
