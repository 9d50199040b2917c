"""The float filter: rounded copies of the network and rigorous error bounds.

Floats propose, exact arithmetic decides.  Every float value the engines compute comes with a
bound on its distance to the exact value (``gamma`` bounds the rounding of a dot product,
``U`` is the unit round-off, ``SAFETY`` and ``TINY`` cover the bound computations and
underflow), so a sign is *proved* when the value exceeds its bound (:func:`filtered_values`,
:func:`proved_signs`) and left to the exact kernel otherwise.  :func:`float_layers` gives the
rescaled float copy of every layer (dense, or CSR for large sparse layers).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..maso import Network
from ..numbers import SparseIntMatrix


U = 2.0 ** -53  # unit round-off of float64
SAFETY = 1.0 + 1e-9  # covers the rounding of the bound computations themselves
TINY = 1e-290  # covers underflow


def gamma(n: int) -> float:
    return n * U / (1 - n * U)


def row_max(a: np.ndarray) -> np.ndarray:
    """``a.max(axis=-1)``, a column at a time: numpy reduces a short last axis (a point's D
    coordinates) about ten times slower than it takes the maximum of D columns."""
    out = a[..., 0].copy()
    for j in range(1, a.shape[-1]):
        np.maximum(out, a[..., j], out=out)
    return out


def row_sum(a: np.ndarray) -> np.ndarray:
    """``a.sum(axis=-1)``, a column at a time (see :func:`row_max`); left to right, as numpy
    sums fewer than eight terms."""
    out = a[..., 0].copy()
    for j in range(1, a.shape[-1]):
        np.add(out, a[..., j], out=out)
    return out


def filtered_values(X: np.ndarray, e: np.ndarray, h: np.ndarray, eh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Float values of affine rows at points, and rigorous bounds on their distance to the exact ones.

    Row ``i`` of ``h`` (n, D + 1) is a float approximation, each entry within ``eh[i]``, of an
    exact affine function; point ``i`` of ``X`` (n, D) is within ``e[i]`` (max norm) of an exact
    point.  Then ``|h(x) - h*(x*)| <= eh (|x|_1 + 1 + D e) + e (|h|_1 + D eh) + rounding``, and
    a sign is proved where ``|value| > bound``.
    """
    D = X.shape[1]
    hx = h[:, :D]
    vals = np.einsum("ij,ij->i", X, hx)
    vals += h[:, D]
    ax = np.abs(X)
    ah = np.abs(hx)
    one = np.ones(D)  # (row sums as products: numpy's small-axis sums are slow; SAFETY covers any order)
    thr = ax @ one
    thr += 1 + D * e
    thr *= eh
    t2 = ah @ one
    t2 += D * eh
    t2 *= e
    thr += t2
    t3 = np.einsum("ij,ij->i", ax, ah)
    t3 += np.abs(h[:, D])
    t3 *= gamma(D + 2)
    thr += t3
    thr *= SAFETY
    thr += TINY
    return vals, thr


def side_flags(s: np.ndarray, seg: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per polytope (its vertices' signs ``s`` from ``seg[i]`` on): whether some vertex is
    strictly positive, some strictly negative, and both (the hyperplane cuts it)."""
    haspos = np.logical_or.reduceat(s > 0, seg)
    hasneg = np.logical_or.reduceat(s < 0, seg)
    return haspos, hasneg, haspos & hasneg


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
_EXACT = 2 ** 53  # integers below this in magnitude are float64s exactly


def _int_floats(ints: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """Floats of Python ints (a 1-D object array): the nearest float64 of each, the mask of the
    exact ones (``|v| < 2**53``) and whether every entry is within the float range (entries
    beyond it are 0 in the floats, and not exact)."""
    try:
        f = ints.astype(np.float64)
    except OverflowError:  # some integer beyond the float range
        small = (ints < _EXACT) & (ints > -_EXACT)
        f = np.zeros(len(ints))
        f[small] = ints[small].astype(np.float64)
        return f, small, False
    return f, np.abs(f) < _EXACT, True


def _bit_lengths(ints: np.ndarray, f: np.ndarray, small: np.ndarray) -> np.ndarray:
    """``v.bit_length()`` of each Python int (an object array, its floats and exact mask from
    :func:`_int_floats`): the binary exponent of the exact floats, Python for the rest."""
    bits = np.frexp(f)[1].astype(np.int64)
    big = np.flatnonzero(~small)
    if len(big):
        bits[big] = [int(v).bit_length() for v in ints[big].tolist()]
    return bits


def _rounded_quotients(ints: np.ndarray, f: np.ndarray, small: np.ndarray, shifts: np.ndarray, den: int) -> np.ndarray:
    """Correctly rounded floats of ``ints[i] * 2**shifts[i] / den``.

    For exact floats of ``v`` and ``den`` the division rounds once, and scaling by a power of
    two is exact while the result stays normal; the rest (big integers or denominators, results
    near or below the normal range or beyond the float range) are divided in Python."""
    F = np.zeros(len(ints))
    rest = np.ones(len(ints), dtype=bool)
    if den < _EXACT:
        with np.errstate(over="ignore", under="ignore"):
            G = np.ldexp(f / float(den), shifts)
        aG = np.abs(G)
        ok = small & (((aG > _NORMAL) & (aG < np.inf)) | (f == 0))
        F[ok] = G[ok]
        rest = ~ok
    idx = np.flatnonzero(rest)
    if len(idx):
        F[idx] = [(v << t) / den if t >= 0 else v / (den << -t)
                  for v, t in zip(ints[idx].tolist(), shifts[idx].tolist())]
    return F


def _scaled_floats(ints: np.ndarray, shifts: np.ndarray, den: int) -> tuple[np.ndarray, bool]:
    """Nearest floats of ``ints[i] * 2**shifts[i] / den`` (a 1-D object array of Python ints and
    int64 shifts) and whether any non-zero one underflowed."""
    f, small, finite = _int_floats(ints)
    e = den.bit_length() - 1
    if den == 1 << e and finite:  # float(int) rounds once and ldexp is exact down to the normal range
        F = np.ldexp(f, shifts - e)
    else:  # correctly rounded integer division
        F = _rounded_quotients(ints, f, small, shifts, den)
    nonzero = f != 0 if finite else ints != 0
    return F, bool((nonzero & (np.abs(F) < _NORMAL)).any())


SPARSE_FLOATS = 1 << 22  # a sparse layer whose dense float copy would exceed this stays sparse


def float_layers(net: Network) -> list[FloatLayer]:
    """The float filter's copy of every layer (see :class:`FloatLayer`)."""
    out = []
    t_in = np.zeros(net.input_dim, dtype=np.int64)  # exponents of the current layer's input coordinates
    for m in net.masos:
        K, R, n = m.num_units, m.num_pieces, m.input_dim
        fl = _float_layer(m, t_in, dense=not (m.is_sparse and K * R * (n + 1) > SPARSE_FLOATS))
        out.append(fl)
        t_in = fl.scale
    return out


def _exact_entries(m: Any) -> SparseIntMatrix:
    """The layer's augmented pieces as exact sparse integer rows over the denominator of
    ``m._int_pieces()`` for a dense layer (the cached sparse copy when it has that one)."""
    S = m.pieces_sparse_int()
    if not m.is_sparse:
        rows, den = m._int_pieces()
        if S.den != den:
            S = SparseIntMatrix.from_ints(rows, den)
    return S


def _float_layer(m: Any, t_in: np.ndarray, dense: bool) -> FloatLayer:
    """:class:`FloatLayer` of one layer whose input coordinates carry the exponents ``t_in``,
    computed on the non-zero entries; ``pieces`` (and ``cut``) dense, or as ``scipy.sparse``
    CSR matrices of shape (K R, n + 1) (and (K, n + 1))."""
    K, R, n = m.num_units, m.num_pieces, m.input_dim
    S = _exact_entries(m)
    t_col = np.concatenate((t_in, [0]))  # the offsets are not rescaled
    f, small, _ = _int_floats(S.data)
    bits = _bit_lengths(S.data, f, small) + t_col[S.indices]
    none = np.iinfo(np.int64).min
    big = np.full(K, none, dtype=np.int64)
    np.maximum.at(big, S.row_of_entries() // R, bits)
    t_out = np.where(big == none, 0, big - S.den.bit_length())

    def scaled(M: SparseIntMatrix, units: np.ndarray) -> tuple[Any, bool]:
        F, under = _scaled_floats(M.data, t_col[M.indices] - t_out[units], M.den)
        if dense:
            A = np.zeros(M.shape)
            A[M.row_of_entries(), M.indices] = F
            return A, under
        import scipy.sparse

        return scipy.sparse.csr_matrix((F, M.indices.copy(), M.indptr.copy()), shape=M.shape), under

    P, under = scaled(S, S.row_of_entries() // R)
    if dense:
        P = P.reshape(K, R, n + 1)
    cut = None
    if R == 2 and (S.row_lengths()[0::2] > 0).any():
        Dm = S.rows(np.arange(1, K * R, 2)) - S.rows(np.arange(0, K * R, 2))
        cut, under_c = scaled(Dm, Dm.row_of_entries())
        under = under or under_c
    return FloatLayer(P, cut, 2.0 ** -1074 if under else 0.0, t_out)


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
        en = (np.maximum(ea, eb) + dt * row_max(np.abs(d))
              + 3 * U * row_max(np.abs(Xa) + np.abs(Xb))) * SAFETY + TINY
    return Xn, en
