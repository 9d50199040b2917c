"""The certificate checker: re-derives every bound a proof relies on, in exact arithmetic.

It imports nothing from the prover: only exact numbers, the network's exact pieces and its
exact forward pass (for witnesses).

The one kind of claim it checks is a **bound**: ``c . f(x) + d <= U`` (or ``< U``) for every
``x`` in a box, where ``f`` is the network.  A bound certificate is a tree of splits of the
box (coordinate ``j`` at ``t``: the two closed halves cover the box) whose leaves are

* ``"crown"``: a linear relaxation of the network on the leaf's box.  The checker computes,
  layer by layer, bounds of every unit's pre-activation (interval arithmetic from the box,
  intersected with the bounds inherited from the parent node and, at nodes marked
  ``"crown": true``, with backward linear bounds), relaxes every unit with them (a ReLU-type
  unit ``g0 + relu(h)`` with ``h`` in ``[l, u]`` lies between ``g0 + a h``, ``a`` in {0, 1},
  and ``g0 + s (h - l)``, ``s >= u / (u - l)``; a unit of three or more pieces between its
  most promising piece and the largest upper bound of its pieces), substitutes the
  relaxations backwards from ``c`` to a linear function of ``x`` and maximises it over the box
  exactly.  Every intermediate bound is rounded *outward* to a short dyadic rational and
  every upper slope rounded *up*, so the numbers stay short and every step stays sound.
* the tree may also branch on the sign of one unit's cut ``h`` (a ReLU's pre-activation):
  the two branches ``h <= 0`` and ``h >= 0`` cover the box; a branch's *phase* clamps that
  unit's bounds, and a leaf may add Lagrangian multipliers ``y >= 0`` of phased units whose
  cut is exactly affine in ``x`` there (every unit of the earlier layers decided).  When every
  unit is decided the relaxation is exact, and with the optimal multipliers of the leaf's
  small linear program the bound is the exact maximum over the branch.  A leaf may also be
  *empty*: its phases contradict each other (crossing bounds, or a Lagrangian negative on
  the whole box).  A unit its bounds pin at ``h = 0`` (``l >= 0 >= u``) takes the piece of
  its phase (piece 0 for ``h <= 0``; piece 1 without a phase): both are equal where ``h = 0``.
* ``"regions"``: the leaf lists the linear regions of its box (cut by the proof's rows), as a
  partition claim does; the checker re-verifies them as a partition of exactly that set
  (:func:`claimed_partition`), and the bound is the maximum of the functional over their
  vertices, the exact maximum over the box.  It ignores the branch's phases (the box holds
  the branch) and bounds one functional (the maximum of a minimum is not at a vertex).

:func:`check_certificate` checks a whole certificate (a JSON-able dict): the network's content
hash, the claim (what was asked and answered), every bound the claim needs, found among the
proofs and re-checked, and every witness point by the exact forward pass.  Claims about a
whole partition (Lipschitz constants, convexity, monotonicity, nearest adversarial points)
re-check the partition with :func:`exactmaso.verify.verify_partition` (which imports no
enumeration code either) and then the claim region by region.  Besides exact numbers the
checker uses only the exact core: the network's pieces and forward pass, exact polytope
vertices, and the deterministic stacking of two networks (:mod:`exactmaso.compose`).
"""

from __future__ import annotations

import hashlib
import itertools
import math
from fractions import Fraction
from typing import Any, Sequence

import flint
import numpy as np

from ..errors import CertificateError
from ..maso import Network

__all__ = ["network_hash", "ExactModel", "Bounds", "box_bounds", "upper_bound", "decided_pieces", "pattern_maps",
           "check_bound", "check_leaf", "leaf_value", "regions_bound", "parse_alphas", "check_certificate", "parse_q",
           "format_q"]

PRECISION = 60  # significant bits kept when a bound is rounded outward
SLOPE_BITS = 64  # upper slopes are rounded up to multiples of 2**-SLOPE_BITS
ALPHA_BITS = 32  # lower slopes a certificate gives are multiples of 2**-ALPHA_BITS


# -- numbers -----------------------------------------------------------------------------
def parse_q(text: Any, where: str = "value") -> Fraction:
    """An exact rational from its certificate form ``"p/q"`` (or an int)."""
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        raise CertificateError(f"{where} is {text!r:.60}; expected a 'p/q' string")
    try:
        if isinstance(text, str) and len(text) > 20000:
            raise ValueError("too long")
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise CertificateError(f"{where} is {text!r:.60}; expected a 'p/q' string") from None


def format_q(q: Fraction) -> str:
    q = Fraction(q)
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


def _down(p: int, q: int) -> tuple[int, int]:
    """The largest dyadic rational with PRECISION significant bits that is <= p / q (q > 0),
    as ``(m, e)``: the number ``m * 2**e``.  The bits are counted in the lowest terms of p / q."""
    if p == 0:
        return 0, 0
    if q & (q - 1) == 0:
        # q = 2**k: cancelling 2**t from p / q leaves the difference of bit lengths, so e, as
        # it is, and m = floor(p / 2**(k + e)) need no gcd
        e = abs(p).bit_length() - q.bit_length() - PRECISION
        s = q.bit_length() - 1 + e
        return (p >> s if s >= 0 else p << -s), e
    g = math.gcd(p, q)
    if g > 1:
        p, q = p // g, q // g
    e = abs(p).bit_length() - q.bit_length() - PRECISION
    if e >= 0:
        return p // (q << e), e
    return (p << -e) // q, e


def _outward(lo: list[tuple[int, int]], hi: list[tuple[int, int]]) -> tuple[list[int], list[int], int]:
    """Bounds ``(p, q)`` (the numbers p / q) rounded outward, ``lo`` down and ``hi`` up (as
    ``-_down(-p, q)``), as integers over one power of two."""
    down = [_down(p, q) for p, q in lo]
    up = [_down(-p, q) for p, q in hi]
    shift = -min([0] + [e for _, e in down] + [e for _, e in up])
    return [m << (e + shift) for m, e in down], [-m << (e + shift) for m, e in up], 1 << shift


def _lowest(p: int, q: int) -> tuple[int, int]:
    """p / q in lowest terms."""
    g = math.gcd(p, q)
    return p // g, q // g


def _common(values: Sequence[Fraction]) -> tuple[list[int], int]:
    """Integers over one common denominator."""
    den = 1
    for v in values:
        den = den * v.denominator // math.gcd(den, v.denominator)
    return [v.numerator * (den // v.denominator) for v in values], den


def network_hash(net: Network) -> str:
    """SHA-256 of the network's exact pieces (its content, not its file)."""
    h = hashlib.sha256()
    h.update(repr(tuple(net.input_shape)).encode())
    for m in net.masos:
        rows, den = m._int_pieces()
        K, R, n = m.A.shape
        h.update(f"|{K},{R},{n},{den}|".encode())
        for row in rows:
            h.update((",".join(map(str, row)) + ";").encode())
    return h.hexdigest()


# -- the network, exactly ----------------------------------------------------------------
class _Layer:
    """One layer's exact pieces as integers over one denominator."""

    def __init__(self, m) -> None:
        rows, den = m._int_pieces()
        K, R, n = m.A.shape
        self.K, self.R, self.n, self.den = K, R, n, den
        self.rows = rows  # K * R rows of n + 1 integers (unit-major)
        if R == 2:  # the cut h = piece 1 - piece 0
            self.cut = [[q - p for p, q in zip(rows[2 * k], rows[2 * k + 1])] for k in range(K)]
        # interval arithmetic bounds the pieces and then (two-piece layers) the cuts, each
        # distinct affine function once (a ReLU's pieces are 0 and its cut): ``which`` maps
        # them to the rows of ``weights`` (their absolute values: ``abs_weights``) and ``bias``
        distinct: dict[tuple, int] = {}
        self.which = [distinct.setdefault(tuple(r), len(distinct)) for r in rows + (self.cut if R == 2 else [])]
        self.weights = flint.fmpz_mat([r[:n] for r in distinct])
        self.abs_weights = flint.fmpz_mat([[abs(v) for v in r[:n]] for r in distinct])
        self.bias = [r[n] for r in distinct]


class ExactModel:
    """The network as exact integer pieces, layer by layer."""

    def __init__(self, net: Network) -> None:
        self.net = net
        self.D = net.input_dim
        self.layers = [_Layer(m) for m in net.masos]


def _clamp(li: int, lo: list, hi: list, phases: dict) -> None:
    """Clamp (in place) the cut bounds ``(p, q)`` of layer ``li`` to the signs ``phases`` asks for."""
    for (l, k), side in phases.items():
        if l == li:
            if side:
                if lo[k][0] < 0:
                    lo[k] = (0, 1)
            elif hi[k][0] > 0:
                hi[k] = (0, 1)


def _meet(lo: list, hi: list, bound_lo: list[int], bound_hi: list[int], den: int) -> tuple[list, list]:
    """Intersect bounds ``(p, q)`` with bounds given as integers over ``den``."""
    lo = [a if a[0] * den >= v * a[1] else (v, den) for a, v in zip(lo, bound_lo)]
    hi = [a if a[0] * den <= v * a[1] else (v, den) for a, v in zip(hi, bound_hi)]
    return lo, hi


def _interval(layer: _Layer, lo: list[int], hi: list[int], den: int) -> tuple[list[int], list[int], int]:
    """Exact bounds of every piece (and, for two-piece layers, after them every cut) of the
    layer on the box ``lo / den <= z <= hi / den``: integers over the returned denominator.

    With ``W`` the weights, ``W+ hi + W- lo = (W (hi + lo) + |W| (hi - lo)) / 2`` (and its
    numerator is even)."""
    mid = layer.weights * flint.fmpz_mat([[a + b] for a, b in zip(lo, hi)])
    rad = layer.abs_weights * flint.fmpz_mat([[b - a] for a, b in zip(lo, hi)])
    mid, rad = [int(v) for v in mid.entries()], [int(v) for v in rad.entries()]
    down = [(m - r) // 2 + c * den for m, r, c in zip(mid, rad, layer.bias)]
    up = [(m + r) // 2 + c * den for m, r, c in zip(mid, rad, layer.bias)]
    return [down[i] for i in layer.which], [up[i] for i in layer.which], layer.den * den


def _fractions(layers: list[tuple[list[int], list[int], int]], side: int) -> list[list[Fraction]]:
    """One side (0: lower, 1: upper) of per-layer bounds ``(lo, hi, den)`` as Fractions."""
    return [[Fraction(v, bounds[2]) for v in bounds[side]] for bounds in layers]


class Bounds:
    """Per layer: bounds of the cut quantities (``h`` of each two-piece unit, every piece of a
    unit with three or more pieces) and of the layer's outputs, all dyadic: ``cut[l]`` and
    ``out[l]`` are ``(lo, hi, den)``, integers over one power of two (``cut_lo`` and the like
    give them as Fractions)."""

    def __init__(self) -> None:
        self.cut: list[tuple[list[int], list[int], int]] = []
        self.out: list[tuple[list[int], list[int], int]] = []
        self.relaxed: dict[int, Any] = {}  # layer -> its relaxation (the bounds are never changed)
        self.empty = False  # some bounds cross: the set they describe is empty
        self.off: dict[int, frozenset] = {}  # layer -> its units with the phase h <= 0 (see :func:`_is_active`)

    cut_lo = property(lambda self: _fractions(self.cut, 0))
    cut_hi = property(lambda self: _fractions(self.cut, 1))
    out_lo = property(lambda self: _fractions(self.out, 0))
    out_hi = property(lambda self: _fractions(self.out, 1))

    def relaxation(self, model: "ExactModel", li: int, alpha: dict | None = None) -> "_Relaxation":
        """Layer ``li``'s relaxation (cached), or with the lower slopes ``alpha`` (``{unit: A}``,
        not cached: they belong to one leaf)."""
        hit = None if alpha else self.relaxed.get(li)
        if hit is None:
            cols = self.relaxation(model, li - 1).live if li > 0 else range(model.D)
            hit = _relax(model.layers[li], *self.cut[li], cols, alpha, self.off.get(li, frozenset()))
            if not alpha:
                self.relaxed[li] = hit
        return hit


def box_bounds(model: ExactModel, lo: Sequence[Fraction], hi: Sequence[Fraction], parent: Bounds | None = None,
               *, crown: bool = False, phases: dict | None = None) -> Bounds:
    """Sound bounds of every unit over the box, intersected with ``parent``'s (a box holding
    this one); with ``crown``, also intersected with backward linear bounds.  ``phases`` maps
    units ``(l, k)`` of two-piece layers to 1 (``h >= 0``) or 0 (``h <= 0``): the bounds then
    hold on the part of the box where those signs hold (they are clamped).

    Every number is exact, ``(p, q)`` for p / q, until each layer's bounds are rounded outward
    to PRECISION significant bits."""
    res = Bounds()
    res.off = _phase_off(phases)
    D = len(lo)
    ints, zden = _common(list(lo) + list(hi))
    box = zl, zh, zden = ints[:D], ints[D:], zden
    for li, layer in enumerate(model.layers):
        K, R = layer.K, layer.R
        ilo, ihi, den = _interval(layer, zl, zh, zden)
        plo, phi = ilo[:K * R], ihi[:K * R]  # the pieces, over den
        if R == 1:
            clo, chi = [], []
        elif R == 2:
            clo, chi = [(v, den) for v in ilo[K * R:]], [(v, den) for v in ihi[K * R:]]
        else:
            clo, chi = [(v, den) for v in plo], [(v, den) for v in phi]
        if parent is not None and R > 1:
            clo, chi = _meet(clo, chi, *parent.cut[li])
        if R == 2 and phases:
            _clamp(li, clo, chi, phases)
        if crown and li > 0 and R > 1 and not res.empty:
            clo, chi = _crown_cut_bounds(model, li, res, box, clo, chi)
            if R == 2 and phases:
                _clamp(li, clo, chi, phases)
        if any(a[0] * b[1] > b[0] * a[1] for a, b in zip(clo, chi)):
            res.empty = True  # the signs the phases ask for cannot hold together on the box
        res.cut.append(_outward(clo, chi))
        # the layer's outputs: the max of its pieces
        if R == 1:
            ylo, yhi = [(v, den) for v in plo], [(v, den) for v in phi]
        elif R == 2:  # y = g0 + relu(h), with h between the rounded cut bounds
            cl, ch, cden = res.cut[-1]
            yden = math.lcm(den, cden)
            fp, fc = yden // den, yden // cden
            ylo = [(max(max(a, b) * fp, a * fp + max(c, 0) * fc), yden) for a, b, c in zip(plo[0::2], plo[1::2], cl)]
            yhi = [(min(max(a, b) * fp, a * fp + max(c, 0) * fc), yden) for a, b, c in zip(phi[0::2], phi[1::2], ch)]
        else:
            ylo = [(max(plo[k * R:(k + 1) * R]), den) for k in range(K)]
            yhi = [(max(phi[k * R:(k + 1) * R]), den) for k in range(K)]
        if parent is not None:
            ylo, yhi = _meet(ylo, yhi, *parent.out[li])
        res.out.append(_outward(ylo, yhi))
        zl, zh, zden = res.out[-1]
    return res


def _phase_off(phases: dict | None) -> dict[int, frozenset]:
    """Per layer, the units whose phase is ``h <= 0``."""
    out: dict[int, set] = {}
    for (l, k), side in (phases or {}).items():
        if not side:
            out.setdefault(l, set()).add(k)
    return {l: frozenset(ks) for l, ks in out.items()}


def _is_active(l: int, u: int, off: bool) -> bool:
    """Whether a two-piece unit whose cut lies in ``[l, u]`` takes its piece 1 (``l >= 0``).
    A unit pinned at ``h = 0`` (``l >= 0 >= u``) takes the piece of its phase: both pieces are
    equal where ``h = 0``, and the phase's is the one the prover's float bounds see (they hold
    the clamped side at exactly 0 and the other within rounding of it)."""
    return l >= 0 and not (off and u <= 0)


class _Relaxation:
    """Unit k of a layer lies between a lower and an upper affine function of the layer's inputs.

    Stored for the backward pass, restricted to what it can see: ``live`` are the units whose
    relaxation is not identically zero (a dead ReLU's output is exactly 0, so the layer above
    needs no coefficient for it), and the columns are the previous layer's live units (all
    inputs for layer 0).  ``lo`` and ``lo_const`` are the lower functions' coefficients and
    constants, one row per live unit, integers over ``den``; ``diff`` and ``diff_const`` are
    upper minus lower for the units in ``open`` (positions in ``live`` whose upper function is
    not the lower one), the coefficients over ``den * 2**SLOPE_BITS``, the constants over
    ``const_den`` (a multiple of ``den``).  Coefficients and constants are kept apart so that
    the constants' (often large) denominators do not multiply every coefficient.
    """

    def __init__(self, live, lo, lo_const, den, open_, diff, diff_const, const_den) -> None:
        self.live, self.lo, self.lo_const, self.den = live, lo, lo_const, den
        self.open, self.diff, self.diff_const, self.const_den = open_, diff, diff_const, const_den


def _relax(layer: _Layer, clo: list[int], chi: list[int], bden: int, cols: Sequence[int],
           alpha: dict | None = None, off: frozenset = frozenset()) -> _Relaxation:
    """The layer's relaxation on the bounds ``clo / bden <= cut <= chi / bden``, in the columns
    ``cols`` (the previous layer's live units).  A ReLU-type unit with ``l < 0 < u`` lies
    between ``g0 + a h`` (``a = 1`` if ``u > -l``, else 0, or ``a = alpha[k] / 2**ALPHA_BITS``
    where ``alpha`` gives it) and ``g0 + s (h - l)``, ``s`` the smallest multiple of
    ``2**-SLOPE_BITS`` that is ``>= u / (u - l)``; a decided unit is its piece (``off``: the
    units with the phase ``h <= 0``, which take piece 0 when pinned at 0); a unit of three
    or more pieces lies between its piece of largest ``lo + hi`` and its dominant piece (or,
    without one, the constant largest upper bound of its pieces).

    With ``alpha``, the lower rows are over ``den * 2**ALPHA_BITS`` (``f`` below) instead of ``den``."""
    n, K, R, den = layer.n, layer.K, layer.R, layer.den
    rows = layer.rows
    scale = 1 << SLOPE_BITS
    f = 1 << ALPHA_BITS if alpha else 1
    lower: list[list[int]] = []  # per unit: its lower row, n + 1 integers over den * f
    # per unit: None (the upper row is the lower one) or upper minus lower as (t, delta, c):
    # coefficients t * delta over den * f * scale, the constant c as (p, q)
    upper: list[tuple | None] = []
    for k in range(K):
        if R == 1:
            lower.append([f * v for v in rows[k]])
            upper.append(None)
        elif R == 2:
            r0, r1 = rows[2 * k], rows[2 * k + 1]
            l, u = clo[k], chi[k]
            if l >= 0 or u <= 0:
                lower.append([f * v for v in (r1 if _is_active(l, u, k in off) else r0)])
                upper.append(None)
                continue
            # the lower line g0 + (A / f) h: A = f (slope 1) if u > -l, else 0, unless alpha says
            A = alpha.get(k) if alpha else None
            if A is None:
                A = f if u > -l else 0
            lower.append([(f - A) * a + A * b for a, b in zip(r0, r1)])
            # the upper line g0 + s (h - l), s = S / scale >= u / (u - l) rounded up to a dyadic;
            # minus the lower line it is (s - A / f) h - s l
            S = -((-u * scale) // (u - l))
            t = S * f - A * scale
            const = t * layer.cut[k][n] * bden - S * f * l * den
            upper.append((t, layer.cut[k], _lowest(const, den * f * scale * bden)))
        else:
            pl, ph = clo[k * R:(k + 1) * R], chi[k * R:(k + 1) * R]
            best = max(range(R), key=lambda r_: pl[r_] + ph[r_])
            r = rows[k * R + best]
            lower.append([f * v for v in r])
            dominant = next((r_ for r_ in range(R) if all(pl[r_] >= ph[s] for s in range(R) if s != r_)), None)
            if dominant is None:  # the constant max(ph) minus the lower row
                upper.append((-scale * f, r, _lowest(max(ph) * den - r[n] * bden, den * bden)))
            elif dominant != best:
                rd = rows[k * R + dominant]
                upper.append((scale * f, [a - b for a, b in zip(rd, r)], _lowest(rd[n] - r[n], den)))
            else:
                upper.append(None)
    den *= f
    live = [k for k in range(K) if upper[k] is not None or any(lower[k])]
    lo = flint.fmpz_mat(len(live), len(cols), [lower[k][j] for k in live for j in cols])
    lo_const = flint.fmpz_mat(len(live), 1, [lower[k][n] for k in live])
    open_ = [i for i, k in enumerate(live) if upper[k] is not None]
    if not open_:
        return _Relaxation(live, lo, lo_const, den, open_, None, None, den)
    const_den = math.lcm(den, *(upper[live[i]][2][1] for i in open_))
    diff, diff_const = [], []
    for i in open_:
        t, delta, (cp, cq) = upper[live[i]]
        diff.extend(t * delta[j] for j in cols)
        diff_const.append(cp * (const_den // cq))
    return _Relaxation(live, lo, lo_const, den, open_, flint.fmpz_mat(len(open_), len(cols), diff),
                       flint.fmpz_mat(len(open_), 1, diff_const), const_den)


class _Linear:
    """Rows of affine functions ``coef . z + const``: ``coef`` integers over ``den``, ``const``
    (a column) integers over ``const_den``."""

    def __init__(self, coef: flint.fmpz_mat, den: int, const: flint.fmpz_mat, const_den: int) -> None:
        self.coef, self.den, self.const, self.const_den = coef, den, const, const_den


def _backward(model: ExactModel, bounds: Bounds, top: int, lam: _Linear, alphas: dict | None = None) -> _Linear:
    """Substitute relaxed layers ``top, top - 1, ..., 0`` into upper bounds ``lam``, rows over
    layer ``top``'s live outputs (see :class:`_Relaxation`).  Each layer replaces ``lam . y``
    by ``lam+ . upper + lam- . lower = lam . lower + lam+ . (upper - lower)``; the result is
    rows over the inputs ``x``.  ``alphas`` maps layers to ``{unit: A}``: the lower slopes
    ``A / 2**ALPHA_BITS`` of those units (where the bounds leave them undecided)."""
    zero = flint.fmpz(0)
    scale = 1 << SLOPE_BITS
    coef, den, const, const_den = lam.coef, lam.den, lam.const, lam.const_den
    for li in range(top, -1, -1):
        rel = bounds.relaxation(model, li, alphas.get(li) if alphas else None)
        nxt = coef * rel.lo  # over den * rel.den
        added = coef * rel.lo_const  # over den * rel.den
        if not rel.open:
            new_const_den = math.lcm(const_den, den * rel.den)
            const = const * (new_const_den // const_den) + added * (new_const_den // (den * rel.den))
        else:
            picked = [coef[i, j] for i in range(coef.nrows()) for j in rel.open]
            pos = flint.fmpz_mat(coef.nrows(), len(rel.open), [v if v > 0 else zero for v in picked])
            nxt = nxt * scale + pos * rel.diff  # over den * rel.den * scale
            new_const_den = math.lcm(const_den, den * rel.const_den)
            const = (const * (new_const_den // const_den) + added * (new_const_den // (den * rel.den))
                     + (pos * rel.diff_const) * (new_const_den // (den * rel.const_den)))
            den *= scale
        coef, den, const_den = nxt, den * rel.den, new_const_den
    return _Linear(coef, den, const, const_den)


def _box_max_rows(lam: _Linear, box: tuple[list[int], list[int], int]) -> tuple[list[int], int]:
    """The exact maximum over the box ``(lo, hi, den)`` (integers over den) of each row of
    ``lam`` (functions of ``x``): integers over the returned denominator."""
    L, H, bden = box
    D = len(L)
    den = math.lcm(lam.den * bden, lam.const_den)
    f_coef, f_const = den // (lam.den * bden), den // lam.const_den
    out = []
    for row, c in zip(lam.coef.tolist(), lam.const.entries()):
        total = 0
        for j in range(D):
            v = int(row[j])
            if v:
                total += v * (H[j] if v > 0 else L[j])
        out.append(total * f_coef + int(c) * f_const)
    return out, den


def _crown_cut_bounds(model: ExactModel, li: int, partial: Bounds, box: tuple, clo: list, chi: list):
    """Backward linear bounds of layer li's cut quantities (bounds ``(p, q)``) that interval
    bounds leave unsettled, on the box ``(lo, hi, den)``."""
    layer = model.layers[li]
    n = layer.n
    if layer.R == 2:
        rows = layer.cut
        open_ = [k for k in range(layer.K) if clo[k][0] < 0 < chi[k][0]]
    else:
        rows = layer.rows
        open_ = list(range(len(rows)))
    if not open_:
        return clo, chi
    cols = partial.relaxation(model, li - 1).live
    coef = [[rows[k][j] for j in cols] for k in open_]
    const = [rows[k][n] for k in open_]
    lam = _Linear(flint.fmpz_mat(coef + [[-v for v in r] for r in coef]), layer.den,
                  flint.fmpz_mat(2 * len(open_), 1, const + [-v for v in const]), layer.den)
    best, den = _box_max_rows(_backward(model, partial, li - 1, lam), box)
    clo, chi = list(clo), list(chi)
    m = len(open_)
    for q, k in enumerate(open_):
        up, down = best[q], -best[m + q]
        if up * chi[k][1] < chi[k][0] * den:
            chi[k] = (up, den)
        if down * clo[k][1] > clo[k][0] * den:
            clo[k] = (down, den)
    return clo, chi


def upper_bound(model: ExactModel, bounds: Bounds, c: Sequence[Fraction], d: Fraction,
                lo: Sequence[Fraction], hi: Sequence[Fraction], multipliers: Sequence[tuple] = (),
                rows: Sequence[tuple] = (), row_multipliers: Sequence[tuple] = (),
                alphas: dict | None = None) -> Fraction | None:
    """A sound upper bound of ``c . f(x) + d`` over the part of the box the bounds describe
    (None when it is empty), from the relaxations of ``bounds``.

    ``multipliers`` are ``(l, k, y)`` with ``y >= 0`` for units with a phase: the Lagrangian
    term ``y s h(x)`` (``s = +1`` for ``h >= 0``, ``-1`` for ``h <= 0``) is ``>= 0`` where the
    phases hold, so adding it keeps the bound; it needs ``h`` exactly affine in ``x``, i.e. every
    unit of the earlier layers decided by the bounds.  ``row_multipliers`` ``(i, y)`` with
    ``y >= 0`` add ``y (b_i - a_i . x)``, which is ``>= 0`` on the proof's set ``a_i . x <= b_i``.
    ``alphas`` (``{layer: {unit: A}}``) gives undecided units the lower slopes ``A / 2**ALPHA_BITS``.
    """
    if bounds.empty:
        return None
    top = len(model.layers) - 1
    ints, den = _common([Fraction(v) for v in c])
    d = Fraction(d)
    lam = _Linear(flint.fmpz_mat([[ints[k] for k in bounds.relaxation(model, top).live]]), den,
                  flint.fmpz_mat([[d.numerator]]), d.denominator)
    res = _backward(model, bounds, top, lam, alphas)
    g = [Fraction(int(v), res.den) for v in res.coef.entries()]
    g0 = Fraction(int(res.const[0, 0]), res.const_den)
    for l, k, y, side, h in _lagrangian_rows(model, bounds, multipliers):
        s = y if side else -y
        g = [a + s * v for a, v in zip(g, h[:-1])]
        g0 += s * h[-1]
    for i, y in row_multipliers:
        a, b = rows[i]
        g = [gj - y * aj for gj, aj in zip(g, a)]
        g0 += y * b
    return g0 + sum((a * (hi[j] if a > 0 else lo[j]) for j, a in enumerate(g) if a), Fraction(0))


def decided_pieces(model: ExactModel, bounds: Bounds, layer: int) -> list[int] | None:
    """The piece each unit of ``layer`` takes on the whole set the bounds describe, or None."""
    L = model.layers[layer]
    if L.R == 1:
        return [0] * L.K
    lo, hi, _ = bounds.cut[layer]  # integers over one positive denominator: signs and order are theirs
    if L.R == 2:
        out = []
        off = bounds.off.get(layer, frozenset())
        for k, (a, b) in enumerate(zip(lo, hi)):
            if _is_active(a, b, k in off):
                out.append(1)
            elif b <= 0:
                out.append(0)
            else:
                return None
        return out
    out = []
    R = L.R
    for k in range(L.K):
        pl, ph = lo[k * R:(k + 1) * R], hi[k * R:(k + 1) * R]
        r = next((r for r in range(R) if all(pl[r] >= ph[s] for s in range(R) if s != r)), None)
        if r is None:
            return None
        out.append(r)
    return out


def pattern_maps(model: ExactModel, bounds: Bounds, upto: int) -> list | None:
    """Exact maps ``x -> z_l`` (rows of D + 1 Fractions) of the inputs of layers ``0 .. upto``
    along the pieces the bounds decide; None where a unit of an earlier layer is undecided."""
    D = model.D
    maps = [[[Fraction(int(i == j)) for j in range(D)] + [Fraction(0)] for i in range(D)]]
    for l in range(upto):
        pieces = decided_pieces(model, bounds, l)
        if pieces is None:
            return None
        L = model.layers[l]
        M = maps[-1]
        nxt = []
        for k, r in enumerate(pieces):
            row = L.rows[k * L.R + r]
            out = [sum((Fraction(row[i], L.den) * M[i][j] for i in range(L.n) if row[i]), Fraction(0)) for j in range(D + 1)]
            out[D] += Fraction(row[L.n], L.den)
            nxt.append(out)
        maps.append(nxt)
    return maps


def _lagrangian_rows(model: ExactModel, bounds: Bounds, multipliers: Sequence[tuple]):
    """For each multiplier (l, k, y, side): the unit's cut h as an exact affine function of x."""
    if not multipliers:
        return
    top = max(int(m[0]) for m in multipliers)
    maps = pattern_maps(model, bounds, top)
    if maps is None:
        raise CertificateError("a multiplier names a unit whose earlier layers are not all decided on its box")
    for l, k, y, side in multipliers:
        L = model.layers[l]
        if L.R != 2 or not 0 <= k < L.K:
            raise CertificateError(f"a multiplier names unit ({l}, {k}), which is not a two-piece unit")
        if y < 0:
            raise CertificateError(f"the multiplier of unit ({l}, {k}) is negative")
        row = L.cut[k]
        M = maps[l]
        D = model.D
        h = [sum((Fraction(row[i], L.den) * M[i][j] for i in range(L.n) if row[i]), Fraction(0)) for j in range(D + 1)]
        h[D] += Fraction(row[L.n], L.den)
        yield l, k, y, side, h


# -- certificates -------------------------------------------------------------------------
def _vector(values: Any, n: int, where: str) -> list[Fraction]:
    if not isinstance(values, list) or len(values) != n:
        raise CertificateError(f"{where} has {len(values) if isinstance(values, list) else 'no'} entries; expected {n}")
    return [parse_q(v, f"{where}[{i}]") for i, v in enumerate(values)]


def _multipliers(node: dict, phases: dict, nrows: int, where: str) -> tuple[list[tuple], list[tuple]]:
    """A leaf's multipliers: ``(l, k, y, side)`` for units with a phase, ``(i, y)`` for the
    proof's rows (``["row", i, "y"]``)."""
    units, rows = [], []
    for item in node.get("multipliers", []):
        try:
            l, k, y = item
            if l == "row":
                i = int(k)
                if not 0 <= i < nrows:
                    raise CertificateError(f"{where}: a multiplier names row {i}; the proof has {nrows} rows")
                yq = parse_q(y, f"{where}.multipliers")
                if yq < 0:
                    raise CertificateError(f"{where}: the multiplier of row {i} is negative")
                rows.append((i, yq))
                continue
            l, k = int(l), int(k)
        except (TypeError, ValueError):
            raise CertificateError(f"{where}: a multiplier is {item!r:.60}; expected [layer, unit, 'p/q'] "
                                   "or ['row', i, 'p/q']") from None
        if (l, k) not in phases:
            raise CertificateError(f"{where}: the multiplier of unit ({l}, {k}) has no phase on this branch")
        units.append((l, k, parse_q(y, f"{where}.multipliers"), phases[(l, k)]))
    return units, rows


def parse_alphas(model: ExactModel, values: Any, where: str) -> dict:
    """A node's lower slopes ``[[l, k, A], ...]``: unit ``k`` of two-piece layer ``l`` gets the
    lower line ``g0 + (A / 2**ALPHA_BITS) h`` below this node, ``A`` an integer in
    ``[0, 2**ALPHA_BITS]``; as ``{l: {k: A}}``."""
    if not isinstance(values, list):
        raise CertificateError(f"{where}.alpha is not a list of [layer, unit, A]")
    top = 1 << ALPHA_BITS
    out: dict = {}
    for item in values:
        if not (isinstance(item, list) and len(item) == 3 and all(type(v) is int for v in item)):
            raise CertificateError(f"{where}.alpha has the entry {item!r:.60}; expected [layer, unit, A] (integers)")
        l, k, A = item
        if not (0 <= l < len(model.layers) and model.layers[l].R == 2 and 0 <= k < model.layers[l].K):
            raise CertificateError(f"{where}.alpha names unit ({l}, {k}), which is not a unit of a two-piece layer")
        if not 0 <= A <= top:
            raise CertificateError(f"{where}.alpha gives unit ({l}, {k}) the slope {A} / 2**{ALPHA_BITS}, outside [0, 1]")
        if k in out.setdefault(l, {}):
            raise CertificateError(f"{where}.alpha names unit ({l}, {k}) twice")
        out[l][k] = A
    return out


def _rows(values: Any, D: int, where: str) -> list[tuple[list[Fraction], Fraction]]:
    """A proof's rows ``[[a_0, ..., a_{D-1}, b], ...]``: half-spaces ``a . x <= b`` that hold on
    the set the proof is about."""
    if values is None:
        return []
    if not isinstance(values, list):
        raise CertificateError(f"{where} is not a list of rows")
    out = []
    for i, row in enumerate(values):
        v = _vector(row, D + 1, f"{where}[{i}]")
        out.append((v[:D], v[D]))
    return out


def _functionals(proof: dict, out: int, where: str) -> list[tuple[list[Fraction], Fraction]]:
    """A proof's functional ``c . y + d``, or with ``"functionals": [[c..., d], ...]`` several:
    the bound is then on their minimum."""
    if "functionals" in proof:
        items = proof["functionals"]
        if not isinstance(items, list) or not items:
            raise CertificateError(f"{where}.functionals is not a non-empty list")
        vs = [_vector(f, out + 1, f"{where}.functionals[{i}]") for i, f in enumerate(items)]
        return [(v[:out], v[out]) for v in vs]
    return [(_vector(proof["c"], out, f"{where}.c"), parse_q(proof["d"], f"{where}.d"))]


def check_bound(net: Network, proof: dict, *, model: ExactModel | None = None, where: str = "proof") -> None:
    """Check one bound proof: ``c . f(x) + d <= bound`` (``<`` if strict) on its box (and on
    its optional ``"rows"`` ``[[a..., b], ...]``, half-spaces ``a . x <= b``: the proof is then
    about the part of the box they cut out); raise CertificateError naming the failed node.

    With ``"functionals": [[c_1..., d_1], ...]`` instead of ``c`` and ``d`` the bound is on
    ``min_i (c_i . f + d_i)``, and each bound leaf names the convex combination it bounds
    (``"lambda"``: weights >= 0 summing to 1; the minimum is at most any such combination).

    The tree's nodes: ``{"split": [j, "t"], "children": [lower half, upper half]}`` (coordinate
    ``j`` at ``t``), ``{"branch": [l, k], "children": [h <= 0, h >= 0]}`` (the cut ``h`` of unit
    ``k`` of two-piece layer ``l``), and leaves ``{"leaf": "bound"}`` (the relaxation's bound,
    with optional ``"multipliers": [[l, k, "y"], ...]`` for units with a phase and
    ``["row", i, "y"]`` for rows, and ``"use_alpha": true`` when it takes the lower slopes
    of the nearest node at or above it that gives ``"alpha": [[l, k, A], ...]``: unit ``k`` of
    layer ``l`` lies above ``g0 + (A / 2**ALPHA_BITS) h`` where undecided) or
    ``{"leaf": "empty"}`` (the phases cannot hold together: crossing bounds, or multipliers
    whose Lagrangian is negative on the whole box) or ``{"leaf": "regions", "partition":
    {"regions": [...]}}`` (the linear regions of the leaf's box, see :func:`regions_bound`).
    Every node computes its bounds from its box, its phases and its parent's bounds; backward
    bounds where ``"crown": true`` (or everywhere when the proof says ``"crown": "all"``).
    """
    model = model or ExactModel(net)
    D, out = net.input_dim, net.output_dim
    try:
        functionals = _functionals(proof, out, where)
        c, d = functionals[0]
        lo = _vector(proof["box"]["lo"], D, f"{where}.box.lo")
        hi = _vector(proof["box"]["hi"], D, f"{where}.box.hi")
        bound = parse_q(proof["bound"], f"{where}.bound")
        strict = bool(proof.get("strict", False))
        tree = proof["tree"]
        rows = _rows(proof.get("rows"), D, f"{where}.rows")
    except (KeyError, TypeError) as exc:
        raise CertificateError(f"{where} lacks a field ({exc}); expected c, d, box, bound and tree") from None
    if any(a > b for a, b in zip(lo, hi)):
        raise CertificateError(f"{where}.box is empty")
    everywhere = proof.get("crown") == "all"
    stack = [(tree, lo, hi, None, {}, None, "tree")]
    while stack:
        node, nlo, nhi, parent, phases, alphas, path = stack.pop()
        at = f"{where}.{path}"
        if not isinstance(node, dict):
            raise CertificateError(f"{at} is not a node")
        if "alpha" in node:
            alphas = parse_alphas(model, node["alpha"], at)
        if node.get("leaf") == "regions":  # decided on its box alone: no bounds needed
            check_leaf(model, node, None, functionals, nlo, nhi, phases, alphas, rows, bound, strict, at)
            continue
        bounds = box_bounds(model, nlo, nhi, parent, crown=everywhere or bool(node.get("crown")), phases=phases)
        kids = node.get("children")
        if "split" in node or "branch" in node:
            if not isinstance(kids, list) or len(kids) != 2:
                raise CertificateError(f"{at} does not have two children")
            if bounds.empty:
                continue  # nothing left to prove below
            if "split" in node:
                try:
                    j, t = node["split"]
                    j = int(j)
                    t = parse_q(t, f"{at}.split")
                except (TypeError, ValueError):
                    raise CertificateError(f"{at}.split is not [coordinate, 'p/q']") from None
                if not (0 <= j < D and nlo[j] <= t <= nhi[j]):
                    raise CertificateError(f"{at}: the split {node['split']} does not cut the node's box in two")
                left_hi, right_lo = list(nhi), list(nlo)
                left_hi[j], right_lo[j] = t, t
                stack.append((kids[1], right_lo, nhi, bounds, phases, alphas, path + ".1"))
                stack.append((kids[0], nlo, left_hi, bounds, phases, alphas, path + ".0"))
            else:
                try:
                    l, k = (int(v) for v in node["branch"])
                except (TypeError, ValueError):
                    raise CertificateError(f"{at}.branch is not [layer, unit]") from None
                if not (0 <= l < len(model.layers) and model.layers[l].R == 2 and 0 <= k < model.layers[l].K):
                    raise CertificateError(f"{at}: branch {node['branch']} names no unit of a two-piece layer")
                if (l, k) in phases:
                    raise CertificateError(f"{at}: unit ({l}, {k}) is branched on twice")
                stack.append((kids[1], nlo, nhi, bounds, {**phases, (l, k): 1}, alphas, path + ".1"))
                stack.append((kids[0], nlo, nhi, bounds, {**phases, (l, k): 0}, alphas, path + ".0"))
            continue
        check_leaf(model, node, bounds, functionals, nlo, nhi, phases, alphas, rows, bound, strict, at)


def leaf_value(model: ExactModel, node: dict, bounds: Bounds | None, functionals: list, lo: Sequence[Fraction],
               hi: Sequence[Fraction], phases: dict, alphas: dict | None, rows: list, at: str) -> Fraction | None:
    """The exact bound one leaf of a bound proof (see :func:`check_bound`) proves on its set,
    or None when that set is empty: the leaf's box ``lo, hi`` cut by the proof's ``rows`` and
    its branch's ``phases``; ``bounds`` are its node's exact bounds (:func:`box_bounds`, its
    parent's met in; not needed by a regions leaf) and ``alphas`` the lower slopes of the
    nearest node at or above it that gives them.  Raises CertificateError naming ``at`` for a
    malformed leaf or an empty leaf whose phases are not shown to contradict each other.
    The prover calls this too, for the leaves its float bounds cannot settle alone."""
    out = model.net.output_dim
    leaf = node.get("leaf")
    if leaf == "regions":
        return regions_bound(model.net, node.get("partition"), lo, hi, rows, functionals, at)
    c, d = functionals[0]
    mult, rmult = _multipliers(node, phases, len(rows), at)
    if leaf == "empty":
        if bounds.empty:
            return None
        zero = [Fraction(0)] * out
        got = upper_bound(model, bounds, zero, Fraction(0), lo, hi, mult, rows, rmult)
        if got is None or got < 0:
            return None
        raise CertificateError(f"{at}: the leaf is said to be empty, but its Lagrangian reaches {got} >= 0")
    if leaf != "bound":
        raise CertificateError(f"{at}: unknown leaf kind {leaf!r}; expected 'bound', 'empty' or 'regions'")
    if len(functionals) > 1:  # the bound is on the minimum: a convex combination bounds it
        lam = _vector(node.get("lambda"), len(functionals), f"{at}.lambda")
        if any(v < 0 for v in lam) or sum(lam) != 1:
            raise CertificateError(f"{at}.lambda is not a convex combination (>= 0, summing to 1)")
        c = [sum((w * f[0][o] for w, f in zip(lam, functionals)), Fraction(0)) for o in range(out)]
        d = sum((w * f[1] for w, f in zip(lam, functionals)), Fraction(0))
    use = node.get("use_alpha", False)
    if use not in (True, False):
        raise CertificateError(f"{at}.use_alpha is {use!r:.40}; expected true or false")
    if use and alphas is None:
        raise CertificateError(f"{at} uses lower slopes, but neither it nor a node above it gives any (alpha)")
    return upper_bound(model, bounds, c, d, lo, hi, mult, rows, rmult, alphas if use else None)


def check_leaf(model: ExactModel, node: dict, bounds: Bounds | None, functionals: list, lo: Sequence[Fraction],
               hi: Sequence[Fraction], phases: dict, alphas: dict | None, rows: list, bound: Fraction, strict: bool,
               at: str) -> None:
    """Check that one leaf proves ``<= bound`` (``< bound`` if ``strict``) on its set (see
    :func:`leaf_value`); raise CertificateError naming ``at`` if not."""
    got = leaf_value(model, node, bounds, functionals, lo, hi, phases, alphas, rows, at)
    if got is None or got < bound or (got == bound and not strict):
        return
    what = "the maximum over the vertices of its regions" if node.get("leaf") == "regions" else \
        "the exact bound on this box"
    raise CertificateError(f"{at}: {what} is {got}, which does not prove {'<' if strict else '<='} {bound}")


def regions_bound(net: Network, data: Any, lo: Sequence[Fraction], hi: Sequence[Fraction], rows: list,
                  functionals: list, at: str) -> Fraction:
    """The exact maximum of the functional over a regions leaf's box (cut by the proof's rows):
    the leaf lists the linear regions of the box (``{"regions": [...]}``, as a partition claim
    does); they are re-verified as a partition of exactly that set (:func:`claimed_partition`),
    so every region's affine map is proven and its vertices are complete, and the maximum of an
    affine function over a polytope is its maximum over the vertices."""
    if len(functionals) != 1:
        raise CertificateError(f"{at}: a regions leaf bounds one functional; this proof bounds the minimum of "
                               f"{len(functionals)}")
    (c, d), = functionals
    S = ClaimSet(lo, hi, rows)
    try:
        part = claimed_partition(data, net, S, what="its box (cut by the proof's rows)")
    except CertificateError as exc:
        raise CertificateError(f"{at}: {exc}") from None
    except (KeyError, TypeError, IndexError) as exc:
        raise CertificateError(f"{at}: its partition is malformed ({exc!r:.80})") from None
    except (ValueError, ArithmeticError) as exc:  # the set itself is no polytope of full dimension
        raise CertificateError(f"{at}: its box (cut by the proof's rows) has no partition: {exc}") from None
    if not len(part):
        raise CertificateError(f"{at}: the partition of its box lists no region")
    best = None
    for reg in part:
        A, b = np.asarray(reg.affine.A), np.asarray(reg.affine.b)
        w = [sum((c[o] * Fraction(A[o, j]) for o in range(len(c)) if c[o]), Fraction(0)) for j in range(len(lo))]
        w0 = sum((c[o] * Fraction(b[o]) for o in range(len(c)) if c[o]), Fraction(0)) + d
        for v in reg.vertices():
            value = sum((a * Fraction(x) for a, x in zip(w, v) if a), w0)
            if best is None or value > best:
                best = value
    return best


# -- the sets claims are about ------------------------------------------------------------
class ClaimSet:
    """A set of inputs a claim is about, exactly: a box ``lo <= x <= hi``, optionally cut by
    rows ``a . x <= b`` (then it is a polytope, and its ``vertices`` are computed exactly).

    Claims name their sets by what the user asked (a domain, or a ball around ``x0``); the
    checker rebuilds the set from that, never from a proof."""

    def __init__(self, lo: Sequence[Fraction], hi: Sequence[Fraction], rows: Sequence[tuple] = ()) -> None:
        self.lo, self.hi = list(lo), list(hi)
        self.rows = [(list(a), Fraction(b)) for a, b in rows]
        self._vertices = None

    @property
    def D(self) -> int:
        return len(self.lo)

    def contains(self, x: Sequence[Fraction]) -> bool:
        return all(l <= v <= h for l, v, h in zip(self.lo, x, self.hi)) and all(
            sum((a * v for a, v in zip(row, x)), Fraction(0)) <= b for row, b in self.rows)

    def vertices(self) -> list[tuple[Fraction, ...]]:
        if self._vertices is None:
            from ..polytope import Polytope

            D = self.D
            A = [[Fraction(int(i == j)) for j in range(D)] for i in range(D)]
            A += [[Fraction(-int(i == j)) for j in range(D)] for i in range(D)]
            b = list(self.hi) + [-v for v in self.lo]
            A += [a for a, _ in self.rows]
            b += [v for _, v in self.rows]
            self._vertices = [tuple(v) for v in Polytope(np.array(A, dtype=object), np.array(b, dtype=object)).vertices()]
        return self._vertices

    def max_linear(self, a: Sequence[Fraction]) -> Fraction:
        """The exact maximum of ``a . x`` over the set."""
        if not self.rows:
            return sum((v * (h if v > 0 else l) for v, l, h in zip(a, self.lo, self.hi)), Fraction(0))
        return max(sum((v * x for v, x in zip(a, p)), Fraction(0)) for p in self.vertices())

    def bounding_box(self) -> tuple[list[Fraction], list[Fraction]]:
        if not self.rows:
            return list(self.lo), list(self.hi)
        V = self.vertices()
        return [min(p[j] for p in V) for j in range(self.D)], [max(p[j] for p in V) for j in range(self.D)]

    def to_json(self) -> dict:
        out: dict = {"lo": [format_q(v) for v in self.lo], "hi": [format_q(v) for v in self.hi]}
        if self.rows:
            out["rows"] = [[format_q(v) for v in a] + [format_q(b)] for a, b in self.rows]
        return out


MAX_ONE_NORM_DIM = 12  # the 1-norm ball is cut out by 2^D rows


def domain_set(data: Any, D: int, where: str = "domain") -> ClaimSet:
    """A claim's domain from its JSON form ``{"lo", "hi", "rows"?}``."""
    if not isinstance(data, dict):
        raise CertificateError(f"{where} is not a set {{lo, hi, rows}}")
    try:
        lo = _vector(data["lo"], D, f"{where}.lo")
        hi = _vector(data["hi"], D, f"{where}.hi")
    except KeyError as exc:
        raise CertificateError(f"{where} lacks the field {exc}") from None
    return ClaimSet(lo, hi, _rows(data.get("rows"), D, f"{where}.rows"))


def ball_set(x0: Sequence[Fraction], eps: Fraction, norm: Any, domain: ClaimSet | None) -> ClaimSet:
    """The closed ball ``||x - x0|| <= eps`` (norm ``"inf"`` or ``1``), cut by the domain."""
    D = len(x0)
    lo = [v - eps for v in x0]
    hi = [v + eps for v in x0]
    rows: list[tuple] = []
    if norm == 1:
        if D > MAX_ONE_NORM_DIM:
            raise CertificateError(f"a 1-norm ball in {D} dimensions has 2^{D} rows; at most {MAX_ONE_NORM_DIM} are supported")
        for signs in itertools.product((1, -1), repeat=D):
            a = [Fraction(s) for s in signs]
            rows.append((a, eps + sum((s * v for s, v in zip(a, x0)), Fraction(0))))
    elif norm != "inf":
        raise CertificateError(f"the ball's norm is {norm!r}; box and row proofs cover norms 'inf' and 1")
    if domain is not None:
        lo = [max(a, b) for a, b in zip(lo, domain.lo)]
        hi = [min(a, b) for a, b in zip(hi, domain.hi)]
        rows += domain.rows
    return ClaimSet(lo, hi, rows)


def _covers(model: ExactModel, proof: dict, target: ClaimSet, where: str) -> None:
    """The proof's set (its box cut by its rows) holds the claim's set."""
    D = target.D
    lo = _vector(proof["box"]["lo"], D, f"{where}.box.lo")
    hi = _vector(proof["box"]["hi"], D, f"{where}.box.hi")
    tlo, thi = target.bounding_box()
    if any(a < b for a, b in zip(tlo, lo)) or any(a > b for a, b in zip(thi, hi)):
        raise CertificateError(f"{where}.box does not hold the set the claim is about")
    for i, (a, b) in enumerate(_rows(proof.get("rows"), D, f"{where}.rows")):
        if target.max_linear(a) > b:
            raise CertificateError(f"{where}.rows[{i}] cuts off part of the set the claim is about")


def _value(net: Network, c: Sequence[Fraction], d: Fraction, x: Sequence[Fraction]) -> Fraction:
    y = net(list(x))
    return sum((a * b for a, b in zip(c, y)), Fraction(0)) + d


def _point(values: Any, D: int, where: str) -> list[Fraction]:
    return _vector(values, D, where)


def _find_proof(proofs: list, c: Sequence[Fraction], d: Fraction, where: str) -> tuple[int, dict]:
    for i, p in enumerate(proofs):
        try:
            pc = [parse_q(v) for v in p["c"]]
            pd = parse_q(p["d"])
        except (KeyError, TypeError):
            raise CertificateError(f"proofs[{i}] lacks its functional (fields c and d)") from None
        if pc == list(c) and pd == d:
            return i, p
    raise CertificateError(f"{where}: no proof bounds the functional it needs (c = {[str(v) for v in c]}, d = {d})")


def _bound_of(proof: dict, where: str) -> tuple[Fraction, bool]:
    try:
        return parse_q(proof["bound"], f"{where}.bound"), bool(proof.get("strict", False))
    except KeyError:
        raise CertificateError(f"{where} lacks the field 'bound'") from None


# -- claims -------------------------------------------------------------------------------
def _claim_output_bounds(cert: dict, net: Network, model: ExactModel) -> None:
    claim = cert["claim"]
    D, O = net.input_dim, net.output_dim
    dom = domain_set(claim.get("domain"), D, "claim.domain")
    c = _vector(claim.get("c"), O, "claim.c")
    d = parse_q(claim.get("d", "0"), "claim.d")
    proofs = cert.get("proofs", [])
    for side, sign in (("max", 1), ("min", -1)):
        if claim.get(side) is None:
            continue
        value = parse_q(claim[side], f"claim.{side}")
        x = _point(claim.get(f"arg{side}"), D, f"claim.arg{side}")
        if not dom.contains(x):
            raise CertificateError(f"claim.arg{side} lies outside the domain")
        got = _value(net, c, d, x)
        if got != value:
            raise CertificateError(f"claim.{side} is {value}; the network gives {got} at claim.arg{side}")
        sc, sd = [sign * v for v in c], sign * d
        i, proof = _find_proof(proofs, sc, sd, f"claim.{side}")
        bound, _ = _bound_of(proof, f"proofs[{i}]")
        if bound != sign * value:
            raise CertificateError(f"proofs[{i}].bound is {bound}; the claim's {side} needs {sign * value}")
        _covers(model, proof, dom, f"proofs[{i}]")
        check_bound(net, proof, model=model, where=f"proofs[{i}]")


def _claim_output_bounds_partial(cert: dict, net: Network, model: ExactModel) -> None:
    """A search stopped by a limit: ``lower <= max (c . f + d) <= upper`` on the domain (for
    ``side == "min"`` the functional is ``-(c . f + d)`` and the claim is about minus the minimum)."""
    claim = cert["claim"]
    D, O = net.input_dim, net.output_dim
    dom = domain_set(claim.get("domain"), D, "claim.domain")
    c = _vector(claim.get("c"), O, "claim.c")
    d = parse_q(claim.get("d", "0"), "claim.d")
    sign = {"max": 1, "min": -1}.get(claim.get("side"))
    if sign is None:
        raise CertificateError("claim.side is neither 'max' nor 'min'")
    sc, sd = [sign * v for v in c], sign * d
    lower = parse_q(claim.get("lower"), "claim.lower")
    upper = parse_q(claim.get("upper"), "claim.upper")
    x = _point(claim.get("at"), D, "claim.at")
    if not dom.contains(x):
        raise CertificateError("claim.at lies outside the domain")
    if _value(net, sc, sd, x) != lower:
        raise CertificateError(f"claim.lower is {lower}; the network gives {_value(net, sc, sd, x)} at claim.at")
    i, proof = _find_proof(cert.get("proofs", []), sc, sd, "claim.upper")
    bound, _ = _bound_of(proof, f"proofs[{i}]")
    if bound != upper:
        raise CertificateError(f"proofs[{i}].bound is {bound}; claim.upper is {upper}")
    _covers(model, proof, dom, f"proofs[{i}]")
    check_bound(net, proof, model=model, where=f"proofs[{i}]")


def _claim_spec(cert: dict, net: Network, model: ExactModel) -> None:
    """A specification: every case's unsafe set is unreachable (a proof per case that the
    minimum of its functionals ``b_i - a_i . y`` is below 0 on its input set), or the
    counterexample lies in a case's input set with its exact output in the unsafe set."""
    claim = cert["claim"]
    D, O = net.input_dim, net.output_dim
    cases = claim.get("cases")
    if not isinstance(cases, list) or not cases:
        raise CertificateError("claim.cases is not a non-empty list")
    parsed = []
    for k, case in enumerate(cases):
        at = f"claim.cases[{k}]"
        try:
            S = domain_set(case["inputs"], D, f"{at}.inputs")
            strict_in = [bool(v) for v in case["inputs"].get("strict", [False] * len(S.rows))]
            unsafe = []
            for i, u in enumerate(case["unsafe"]):
                v = _vector(u[:-1], O + 1, f"{at}.unsafe[{i}]")
                unsafe.append((v[:O], v[O], bool(u[-1])))
        except (KeyError, TypeError, AttributeError):
            raise CertificateError(f"{at} is not a case {{inputs, unsafe}}") from None
        if len(strict_in) != len(S.rows):
            raise CertificateError(f"{at}.inputs.strict does not have one flag per row")
        parsed.append((S, strict_in, unsafe))
    status = claim.get("status")
    if status == "violated":
        k = claim.get("case")
        if not (isinstance(k, int) and 0 <= k < len(parsed)):
            raise CertificateError(f"claim.case {k!r} is not a case index")
        S, strict_in, unsafe = parsed[k]
        x = _point(claim.get("counterexample"), D, "claim.counterexample")
        if not all(l <= v <= h for l, v, h in zip(S.lo, x, S.hi)):
            raise CertificateError("claim.counterexample lies outside the case's input box")
        for (a, b), strict in zip(S.rows, strict_in):
            lhs = sum((p * q for p, q in zip(a, x)), Fraction(0))
            if lhs > b or (strict and lhs == b):
                raise CertificateError("claim.counterexample violates an input constraint of the case")
        y = net(x)
        for i, (a, b, strict) in enumerate(unsafe):
            lhs = sum((p * q for p, q in zip(a, y)), Fraction(0))
            if lhs > b or (strict and lhs == b):
                raise CertificateError(f"claim.counterexample: the exact output is outside unsafe constraint {i} "
                                       f"of case {k}")
        return
    if status != "holds":
        raise CertificateError(f"claim.status is {status!r}; expected 'holds' or 'violated'")
    proofs = cert.get("proofs", [])
    for k, (S, _, unsafe) in enumerate(parsed):
        if not unsafe:
            raise CertificateError(f"claim.cases[{k}] has no unsafe constraint, so every input violates it")
        strict = all(u[2] for u in unsafe)
        want = [[format_q(v) for v in a] + [format_q(b)] for a, b, _ in
                [([-v for v in a], b, s) for a, b, s in unsafe]]
        found = [i for i, p in enumerate(proofs) if isinstance(p, dict) and p.get("case") == k]
        if not found:
            raise CertificateError(f"claim.cases[{k}]: no proof is about this case")
        i = found[0]
        proof = proofs[i]
        try:
            F = _functionals(proof, O, f"proofs[{i}]")
        except KeyError:
            raise CertificateError(f"proofs[{i}] lacks its functionals") from None
        got = [[format_q(v) for v in c] + [format_q(d)] for c, d in F]
        if got != want:
            raise CertificateError(f"proofs[{i}].functionals are not the unsafe constraints of case {k}")
        bound, pstrict = _bound_of(proof, f"proofs[{i}]")
        if not (bound < 0 or (bound == 0 and (pstrict or strict))):
            raise CertificateError(f"proofs[{i}].bound does not keep case {k}'s unsafe set unreachable")
        _covers(model, proof, S, f"proofs[{i}]")
        check_bound(net, proof, model=model, where=f"proofs[{i}]")


def _claim_robust(cert: dict, net: Network, model: ExactModel) -> None:
    claim = cert["claim"]
    D, O = net.input_dim, net.output_dim
    x0 = _point(claim.get("x0"), D, "claim.x0")
    eps = parse_q(claim.get("eps"), "claim.eps")
    if eps < 0:
        raise CertificateError("claim.eps is negative")
    norm = claim.get("norm")
    norm = 1 if norm in (1, "1") else 2 if norm in (2, "2") else "inf" if norm in ("inf", "Linf") else norm
    label = claim.get("label")
    if not (isinstance(label, int) and 0 <= label < O):
        raise CertificateError(f"claim.label {label!r} is not an output index")
    dom = domain_set(claim["domain"], D, "claim.domain") if claim.get("domain") is not None else None
    if dom is not None and not dom.contains(x0):
        raise CertificateError("claim.x0 lies outside the domain")
    holds = claim.get("holds")
    if holds is False:
        x = _point(claim.get("counterexample"), D, "claim.counterexample")
        dist = norm_of(x, x0, norm)
        if dist > (eps * eps if norm == 2 else eps):
            raise CertificateError(f"claim.counterexample lies at distance {dist} > eps from x0")
        if dom is not None and not dom.contains(x):
            raise CertificateError("claim.counterexample lies outside the domain")
        y = net(x)
        if all(y[j] < y[label] for j in range(O) if j != label):
            raise CertificateError(f"claim.counterexample keeps class {label} strictly on top; it is not a counterexample")
        if norm == 2 and claim.get("nearest") is not None:
            # the nearest point it states is a claim too: check it (and that it agrees)
            value = _nearest_of_robust2(cert, net, claim, eps)
            if value is None or value > eps * eps:
                raise CertificateError("claim.nearest: the nearest point it states is farther than eps, but the "
                                       "counterexample lies within eps")
        return
    if holds is not True:
        raise CertificateError("claim.holds is neither true nor false")
    if norm == 2:
        _claim_robust2(cert, net, claim)
        return
    S = ball_set(x0, eps, norm, dom)
    proofs = cert.get("proofs", [])
    for j in range(O):
        if j == label:
            continue
        c = [Fraction(int(o == j) - int(o == label)) for o in range(O)]
        i, proof = _find_proof(proofs, c, Fraction(0), f"claim (class {j} against {label})")
        bound, strict = _bound_of(proof, f"proofs[{i}]")
        if not (bound < 0 or (bound == 0 and strict)):
            raise CertificateError(f"proofs[{i}] bounds y{j} - y{label} by {'<' if strict else '<='} {bound}, "
                                   "which does not keep the class strictly on top")
        _covers(model, proof, S, f"proofs[{i}]")
        check_bound(net, proof, model=model, where=f"proofs[{i}]")


def _claim_equivalent(cert: dict, nets: Sequence[Network], model_net: Network, model: ExactModel) -> None:
    claim = cert["claim"]
    f, g = nets
    D, O = f.input_dim, f.output_dim
    dom = domain_set(claim.get("domain"), D, "claim.domain")
    M = parse_q(claim.get("max_difference"), "claim.max_difference")
    eps = parse_q(claim.get("eps", "0"), "claim.eps")
    x = _point(claim.get("witness"), D, "claim.witness")
    if not dom.contains(x):
        raise CertificateError("claim.witness lies outside the domain")
    got = max(abs(a - b) for a, b in zip(f(x), g(x)))
    if got != M:
        raise CertificateError(f"claim.max_difference is {M}; the networks differ by {got} at claim.witness")
    if claim.get("holds") is not (M <= eps):
        raise CertificateError(f"claim.holds is {claim.get('holds')!r}, but max |f - g| = {M} and eps = {eps}")
    proofs = cert.get("proofs", [])
    for o in range(O):
        for sign in (1, -1):
            c = [Fraction(0)] * (2 * O)
            c[o], c[O + o] = Fraction(sign), Fraction(-sign)
            i, proof = _find_proof(proofs, c, Fraction(0), f"claim (output {o}, sign {sign})")
            bound, _ = _bound_of(proof, f"proofs[{i}]")
            if bound > M:
                raise CertificateError(f"proofs[{i}].bound is {bound}, above claim.max_difference {M}")
            _covers(model, proof, dom, f"proofs[{i}]")
            check_bound(model_net, proof, model=model, where=f"proofs[{i}]")


def check_certificate(cert: dict, net: Network | Sequence[Network]) -> None:
    """Check a whole certificate; raise CertificateError naming the field that failed.

    A certificate is ``{"format": "exactmaso-certificate", "version": 1, "network": hash (or a
    list of two for claims about two networks), "claim": {"kind", ...}, "proofs": [...]}``
    (see docs/proofs.md).  The claim says what is asserted, in terms of what was asked;
    the checker rebuilds every set from the claim, re-evaluates every witness with the exact
    forward pass, finds for every bound the claim needs the proof of exactly that bound, and
    re-checks it node by node.  Nothing the prover computed is trusted.
    """
    if not isinstance(cert, dict) or cert.get("format") != "exactmaso-certificate":
        raise CertificateError("not an exactmaso certificate (the field 'format' is not 'exactmaso-certificate')")
    if cert.get("version") != 1:
        raise CertificateError(f"the field 'version' is {cert.get('version')!r}; this checker reads version 1")
    nets = list(net) if isinstance(net, (list, tuple)) else [net]
    hashes = cert.get("network")
    hashes = hashes if isinstance(hashes, list) else [hashes]
    if len(hashes) != len(nets):
        raise CertificateError(f"the certificate is about {len(hashes)} network(s); {len(nets)} given")
    for i, (h, n) in enumerate(zip(hashes, nets)):
        if not isinstance(n, Network):
            raise TypeError(f"network {i} is a {type(n).__name__}, not an exactmaso Network")
        if h != network_hash(n):
            raise CertificateError("the field 'network' does not match this network's content hash"
                                   + (f" (network {i})" if len(nets) > 1 else ""))
    claim = cert.get("claim")
    if not isinstance(claim, dict) or "kind" not in claim:
        raise CertificateError("the certificate lacks its claim (the field 'claim' with a 'kind')")
    kind = claim["kind"]
    try:
        if kind == "equivalent":
            if len(nets) != 2:
                raise CertificateError("an equivalence certificate is about two networks")
            from ..compose import stack

            joint = stack(nets[0], nets[1])
            if cert["claim"].get("mode", "value") == "argmax":
                _claim_equivalent_argmax(cert, nets, joint)
            else:
                _claim_equivalent(cert, nets, joint, ExactModel(joint))
            return
        if len(nets) != 1:
            raise CertificateError(f"a {kind!r} certificate is about one network")
        model = ExactModel(nets[0])
        if kind == "output_bounds":
            _claim_output_bounds(cert, nets[0], model)
        elif kind == "output_bounds_partial":
            _claim_output_bounds_partial(cert, nets[0], model)
        elif kind == "robust":
            _claim_robust(cert, nets[0], model)
        elif kind == "spec":
            _claim_spec(cert, nets[0], model)
        elif kind in _PARTITION_CLAIMS:
            _PARTITION_CLAIMS[kind](cert, nets[0])
        else:
            raise CertificateError(f"claim.kind {kind!r} is not a kind this checker knows")
    except (KeyError, TypeError) as exc:
        raise CertificateError(f"the certificate lacks a field or has one of the wrong type ({exc})") from None


_PARTITION_CLAIMS: dict = {}


# -- partitions in certificates -----------------------------------------------------------
def set_polytope(S: ClaimSet):
    """The domain a partition of ``S`` is enumerated on (and rebuilt on by the checker): the
    Box when ``S`` has no rows, else the polytope of its rows (the box rows first)."""
    from ..polytope import Box, Polytope

    if not S.rows:
        return Box(S.lo, S.hi)
    D = S.D
    A = [[Fraction(int(i == j)) for j in range(D)] for i in range(D)]
    A += [[Fraction(-int(i == j)) for j in range(D)] for i in range(D)]
    b = list(S.hi) + [-v for v in S.lo]
    A += [list(a) for a, _ in S.rows]
    b += [v for _, v in S.rows]
    return Polytope(np.array(A, dtype=object), np.array(b, dtype=object))


def partition_json(part: Any) -> dict:
    """A partition as certificate data: per region its code, interior point, facet labels and
    exact vertices (everything else is recomputed by the checker)."""
    out = []
    for r in part:
        out.append({"code": [list(map(int, layer)) for layer in r.code], "point": [format_q(v) for v in r.point],
                    "facets": [[lab[0], int(lab[1])] if lab[0] == "d" else [int(v) for v in lab]
                               for lab in r.facet_labels],
                    "vertices": [[format_q(v) for v in p] for p in r.vertices()]})
    return {"regions": out}


class _ClaimedRegion:
    def __init__(self, index: int, code: tuple, point: list, labels: list, rows: list, vertices: list) -> None:
        from ..polytope import Polytope

        self.index, self.code, self.point, self.facet_labels = index, code, np.array(point, dtype=object), labels
        self._rows = rows
        self._vertices = np.array(vertices, dtype=object)
        D = len(point)
        A = np.array([[-v for v in r[:D]] for r in rows], dtype=object).reshape(len(rows), D)
        b = np.array([r[D] for r in rows], dtype=object)
        self.polytope = Polytope(A, b, check=False)
        self._cache: dict = {}

    def facet_rows(self) -> list:
        return self._rows

    def vertices(self) -> np.ndarray:
        return self._vertices

    @property
    def affine(self):
        return self._cache["affine"]  # set by verify_partition from the composition along the code


class _ClaimedPartition:
    def __init__(self, net: Network, domain: Any) -> None:
        self.net, self.domain, self.regions = net, domain, []

    def __len__(self) -> int:
        return len(self.regions)

    def __iter__(self):
        return iter(self.regions)

    def __getitem__(self, i: int):
        return self.regions[i]


def claimed_partition(data: Any, net: Network, S: ClaimSet, what: str = "the claim's domain (claim.domain)") -> _ClaimedPartition:
    """Rebuild the partition a certificate lists and verify it exactly (the regions' polytopes
    from their codes and facet labels, vertices complete, points inside, codes the network's,
    volumes summing to the domain's): then every region's affine map is proven too."""
    from ..verify import _Checker

    if not isinstance(data, dict) or not isinstance(data.get("regions"), list):
        raise CertificateError("the certificate lacks its partition (the field 'partition' with 'regions')")
    D = net.input_dim
    part = _ClaimedPartition(net, set_polytope(S))
    ck = _Checker(part)
    for i, reg in enumerate(data["regions"]):
        where = f"partition.regions[{i}]"
        try:
            code = tuple(tuple(int(v) for v in layer) for layer in reg["code"])
            point = _vector(reg["point"], D, f"{where}.point")
            labels = [("d", int(lab[1])) if lab[0] == "d" else tuple(int(v) for v in lab) for lab in reg["facets"]]
            vertices = [_vector(p, D, f"{where}.vertices") for p in reg["vertices"]]
        except (KeyError, TypeError, ValueError, IndexError):
            raise CertificateError(f"{where} is not a region {{code, point, facets, vertices}}") from None
        try:
            code = net.check_code(code)
        except Exception:
            raise CertificateError(f"{where}.code is not a code of this network") from None
        rows = [ck.expected_row(i, code, lab) for lab in labels]
        part.regions.append(_ClaimedRegion(i, code, point, labels, rows, vertices))
    try:
        ck.run(graph=False)
    except CertificateError as exc:
        # either the partition or the set it claims to tile is wrong: name both
        raise CertificateError(f"the partition does not tile {what} exactly: {exc}") from None
    return part


# -- exact linear algebra for claims --------------------------------------------------------
def region_matrix(A: Any, c: Sequence[Fraction] | None) -> list[list[Fraction]]:
    """The region's matrix (out x D), or the row ``c A`` for a functional."""
    A = [[Fraction(v) for v in row] for row in np.asarray(A)]
    if c is None:
        return A
    D = len(A[0]) if A else 0
    return [[sum((ci * A[o][j] for o, ci in enumerate(c)), Fraction(0)) for j in range(D)]]


def induced_norm(M: list[list[Fraction]], norm: Any) -> Fraction:
    if norm == "inf":
        return max((sum((abs(v) for v in row), Fraction(0)) for row in M), default=Fraction(0))
    return max((sum((abs(row[j]) for row in M), Fraction(0)) for j in range(len(M[0]))), default=Fraction(0))


class Algebraic:
    """A real algebraic number: the only root of the squarefree polynomial ``coeffs`` (highest
    degree first) in ``[lo, hi]``; ``rational`` when it is one."""

    def __init__(self, coeffs: Sequence[Fraction], lo: Fraction, hi: Fraction) -> None:
        self.coeffs, self.lo, self.hi = [Fraction(v) for v in coeffs], Fraction(lo), Fraction(hi)
        self.rational = self.lo if self.lo == self.hi else None
        if len(self.coeffs) == 2:
            self.rational = -self.coeffs[1] / self.coeffs[0]
            self.lo = self.hi = self.rational

    def mid(self) -> Fraction:
        return (self.lo + self.hi) / 2

    def to_json(self) -> dict:
        return {"poly": [format_q(v) for v in self.coeffs], "interval": [format_q(self.lo), format_q(self.hi)]}

    @classmethod
    def from_json(cls, data: Any, where: str) -> "Algebraic":
        try:
            coeffs = [parse_q(v, f"{where}.poly") for v in data["poly"]]
            lo, hi = (parse_q(v, f"{where}.interval") for v in data["interval"])
        except (KeyError, TypeError, ValueError):
            raise CertificateError(f"{where} is not an algebraic number {{poly, interval}}") from None
        if len(coeffs) < 2 or coeffs[0] == 0 or lo > hi:
            raise CertificateError(f"{where} is not a polynomial with an isolating interval")
        lam = cls(coeffs, lo, hi)
        p = _sympy_poly(lam.coeffs)
        if p.sqf_part().degree() != p.degree() or _count(p, lam.lo, lam.hi) != 1:
            raise CertificateError(f"{where}: the polynomial is not squarefree with exactly one root in the interval")
        return lam


def _sympy_poly(coeffs: Sequence[Fraction]):
    import sympy

    t = sympy.Symbol("t")
    return sympy.Poly([sympy.Rational(v.numerator, v.denominator) for v in coeffs], t, domain="QQ")


def _count(p, lo: Fraction | None, hi: Fraction | None) -> int:
    import sympy

    q = (lambda v: None if v is None else sympy.Rational(v.numerator, v.denominator))
    return int(p.count_roots(q(lo), q(hi)))


def _gram(M: list[list[Fraction]]) -> list[list[Fraction]]:
    """M M^T or M^T M, the smaller: its largest eigenvalue is the squared spectral norm."""
    rows, cols = len(M), len(M[0])
    if rows <= cols:
        return [[sum((a * b for a, b in zip(M[i], M[j])), Fraction(0)) for j in range(rows)] for i in range(rows)]
    return [[sum((M[k][i] * M[k][j] for k in range(rows)), Fraction(0)) for j in range(cols)] for i in range(cols)]


def _charpoly(G: list[list[Fraction]]):
    coeffs = flint.fmpq_mat([[flint.fmpq(v.numerator, v.denominator) for v in row] for row in G]).charpoly().coeffs()
    return _sympy_poly([Fraction(int(c.p), int(c.q)) for c in reversed(coeffs)]).sqf_part()


def largest_eigenvalue(M: list[list[Fraction]]) -> Algebraic:
    """The largest eigenvalue of the Gram matrix of M, exactly (an isolating interval)."""
    G = _gram(M)
    if len(G) == 1:
        v = G[0][0]
        return Algebraic([Fraction(1), -v], v, v)
    p = _charpoly(G)
    (lo, hi), _ = p.intervals()[-1]
    coeffs = [Fraction(int(c.p), int(c.q)) for c in p.all_coeffs()]
    return Algebraic(coeffs, Fraction(int(lo.p), int(lo.q)), Fraction(int(hi.p), int(hi.q)))


def eigen_at_most(M: list[list[Fraction]], lam: Algebraic, limit: int = 400) -> bool:
    """Whether the largest eigenvalue of M's Gram matrix is at most ``lam``, exactly: every
    root of its characteristic polynomial is separated from lam by bisection of lam's interval,
    or is lam itself (a common root of the two polynomials in the interval)."""
    G = _gram(M)
    trace = sum((G[i][i] for i in range(len(G))), Fraction(0))
    if trace <= lam.lo:  # the eigenvalues are >= 0 and sum to the trace
        return True
    if len(G) == 1:
        v = G[0][0]
        if lam.rational is not None:
            return v <= lam.rational
        p = _sympy_poly(lam.coeffs)
        return _algebraic_at_least(p, lam, v, limit)
    q = _charpoly(G)
    p = _sympy_poly(lam.coeffs)
    lo, hi = lam.lo, lam.hi
    for _ in range(limit):
        if _count(q, lo, None) == 0 or (lo == hi and _count(q, lo, None) == (1 if q.eval(_r(lo)) == 0 else 0)):
            return True
        above_hi = _count(q, hi, None) - (1 if q.eval(_r(hi)) == 0 else 0)
        if above_hi > 0:
            return False
        g = p.gcd(q)
        if g.degree() > 0 and _count(g, lo, hi) > 0 and _count(q, lo, hi) == 1:
            return True
        if lo == hi:
            return _count(q, lo, None) <= 1 and q.eval(_r(lo)) == 0
        mid = (lo + hi) / 2
        pm = p.eval(_r(mid))
        if pm == 0:
            lo = hi = mid
        elif (pm > 0) == (p.eval(_r(hi)) > 0):
            hi = mid
        else:
            lo = mid
    raise CertificateError("two eigenvalues could not be separated within the bisection limit")


def _r(v: Fraction):
    import sympy

    return sympy.Rational(v.numerator, v.denominator)


def _algebraic_at_least(p, lam: Algebraic, v: Fraction, limit: int) -> bool:
    """lam >= v for a rational v."""
    lo, hi = lam.lo, lam.hi
    for _ in range(limit):
        if lo >= v:
            return True
        if hi < v:
            return False
        if p.eval(_r(v)) == 0:
            return True  # v is the only root in the interval: lam == v
        mid = (lo + hi) / 2
        pm = p.eval(_r(mid))
        if pm == 0:
            return mid >= v
        if (pm > 0) == (p.eval(_r(hi)) > 0):
            hi = mid
        else:
            lo = mid
    raise CertificateError("an eigenvalue could not be compared within the bisection limit")


def piece(affine: Any, c: Sequence[Fraction]) -> tuple[list[Fraction], Fraction]:
    """The scalar piece ``c . (A x + b)`` as (gradient, constant)."""
    A, b = np.asarray(affine.A), np.asarray(affine.b)
    D = A.shape[1]
    g = [sum((ci * Fraction(A[o, j]) for o, ci in enumerate(c)), Fraction(0)) for j in range(D)]
    return g, sum((ci * Fraction(b[o]) for o, ci in enumerate(c)), Fraction(0))


def convexity_violation(pieces: list, vertices: list) -> tuple | None:
    """(r, s, v): a vertex v of region r where region s's piece is above region r's, or None
    (then the function is the max of its pieces: convex)."""
    if not pieces:
        return None
    G = flint.fmpq_mat([[flint.fmpq(x.numerator, x.denominator) for x in list(g) + [g0]] for g, g0 in pieces])
    for r, V in enumerate(vertices):
        H = flint.fmpq_mat([[flint.fmpq(Fraction(x).numerator, Fraction(x).denominator) for x in list(p) + [1]]
                            for p in V]).transpose()
        E = G * H  # (pieces, vertices)
        n, m = E.nrows(), E.ncols()
        for q in range(m):
            own = E[r, q]
            for s in range(n):
                if E[s, q] > own:
                    return r, s, tuple(Fraction(x) for x in V[q])
    return None


# -- distances to adversarial sets ----------------------------------------------------------
def ball_box(x0: Sequence[Fraction], r: Fraction, domain: ClaimSet | None) -> ClaimSet:
    """The box of radius r around x0 (which holds every ball of radius r), cut by the domain."""
    return ball_set(x0, r, "inf", domain)


def margin(affine: Any, j: int, label: int) -> tuple[list[Fraction], Fraction]:
    """``y_j - y_label`` on the region as (gradient, constant)."""
    O = np.asarray(affine.A).shape[0]
    return piece(affine, [Fraction(int(o == j) - int(o == label)) for o in range(O)])


def adversarial_rows(poly: Any, g: Sequence[Fraction], g0: Fraction) -> tuple[list, list]:
    """The region's rows and ``-g . x <= g0`` (class j reaches the label): A x <= b."""
    A = [[Fraction(v) for v in row] for row in np.asarray(poly.A)]
    b = [Fraction(v) for v in np.asarray(poly.b)]
    return A + [[-v for v in g]], b + [Fraction(g0)]


def distance_program(A, b, x0, norm, B: ClaimSet, r: Fraction):
    """The LP ``max w . z`` over a box, rows ``Afull z <= bfull``, whose optimum is minus the
    distance (norm inf: z = (x, t); norm 1: z = (x, s))."""
    D = len(x0)
    zero = Fraction(0)
    if norm == "inf":
        Afull = [list(a) + [zero] for a in A]
        bfull = list(b)
        for i in range(D):
            e = [Fraction(int(k == i)) for k in range(D)]
            Afull.append(e + [Fraction(-1)])
            bfull.append(x0[i])
            Afull.append([-v for v in e] + [Fraction(-1)])
            bfull.append(-x0[i])
        lo, hi = list(B.lo) + [zero], list(B.hi) + [r]
        w = [zero] * D + [Fraction(-1)]
        return Afull, bfull, lo, hi, w
    Afull = [list(a) + [zero] * D for a in A]
    bfull = list(b)
    for i in range(D):
        e = [Fraction(int(k == i)) for k in range(D)]
        s = [Fraction(-int(k == i)) for k in range(D)]
        Afull.append(e + s)
        bfull.append(x0[i])
        Afull.append([-v for v in e] + s)
        bfull.append(-x0[i])
    lo, hi = list(B.lo) + [zero] * D, list(B.hi) + [r] * D
    w = [zero] * D + [Fraction(-1)] * D
    return Afull, bfull, lo, hi, w


def distance_bound(A, b, x0, norm, B: ClaimSet, r: Fraction, y: Sequence[Fraction]) -> Fraction:
    """A lower bound, from multipliers y >= 0, on the distance from x0 to {A x <= b} within the
    box (the squared distance for norm 2)."""
    if any(v < 0 for v in y):
        raise CertificateError("a distance multiplier is negative")
    if norm == 2:
        if len(y) != len(A):
            raise CertificateError(f"{len(y)} multipliers for {len(A)} rows")
        D = len(x0)
        u = [sum((yk * A[k][j] for k, yk in enumerate(y) if yk), Fraction(0)) for j in range(D)]
        lin = sum((yk * (sum((a * v for a, v in zip(A[k], x0)), Fraction(0)) - b[k]) for k, yk in enumerate(y) if yk),
                  Fraction(0))
        return lin - sum((v * v for v in u), Fraction(0)) / 4
    Afull, bfull, lo, hi, w = distance_program(A, b, x0, norm, B, r)
    if len(y) != len(Afull):
        raise CertificateError(f"{len(y)} multipliers for {len(Afull)} rows")
    n = len(w)
    g = [w[j] - sum((yk * Afull[k][j] for k, yk in enumerate(y) if yk), Fraction(0)) for j in range(n)]
    top = sum((gj * (hi[j] if gj > 0 else lo[j]) for j, gj in enumerate(g) if gj), Fraction(0)) + \
        sum((yk * bfull[k] for k, yk in enumerate(y) if yk), Fraction(0))
    return -top


def norm_of(x: Sequence[Fraction], x0: Sequence[Fraction], norm: Any) -> Fraction:
    """||x - x0|| for norms inf and 1, the squared distance for norm 2."""
    d = [a - b for a, b in zip(x, x0)]
    if norm == "inf":
        return max(abs(v) for v in d)
    if norm == 1:
        return sum((abs(v) for v in d), Fraction(0))
    return sum((v * v for v in d), Fraction(0))


def norm_value_at_most(q: Fraction, norm: Any, r: Fraction) -> bool:
    return q <= (r * r if norm == 2 else r)


def norm_radius(q: Fraction, norm: Any) -> Fraction:
    """A radius r with ``norm_value_at_most(q, norm, r)`` (for norm 2, q is squared)."""
    if norm != 2:
        return q
    n, d = q.numerator, q.denominator
    r = Fraction(math.isqrt(n * d) + 1, d)
    return r


def project_onto(A, b, x0, active: Sequence[int]):
    """The exact projection of x0 onto the affine set ``A_S x = b_S`` and the multipliers mu
    (x = x0 - A_S^T mu) on a maximal independent subset of the rows S."""
    D = len(x0)
    rows: list[int] = []
    basis: list[list[Fraction]] = []
    for k in active:
        cand = basis + [A[k]]
        if flint.fmpq_mat([[flint.fmpq(v.numerator, v.denominator) for v in r] for r in cand]).rank() == len(cand):
            basis, rows = cand, rows + [k]
    if not rows:
        return list(x0), {}
    Q = lambda v: flint.fmpq(v.numerator, v.denominator)  # noqa: E731
    AS = flint.fmpq_mat([[Q(v) for v in A[k]] for k in rows])
    rhs = flint.fmpq_mat([[Q(sum((a * v for a, v in zip(A[k], x0)), Fraction(0)) - b[k])] for k in rows])
    mu = (AS * AS.transpose()).solve(rhs)
    mus = [Fraction(int(mu[i, 0].p), int(mu[i, 0].q)) for i in range(len(rows))]
    x = [x0[j] - sum((m * A[k][j] for m, k in zip(mus, rows)), Fraction(0)) for j in range(D)]
    return x, dict(zip(rows, mus))


# -- claims about partitions ----------------------------------------------------------------
def _claim_c(claim: dict, net: Network) -> list[Fraction] | None:
    c = claim.get("c")
    return None if c is None else _vector(c, net.output_dim, "claim.c")


def _parse_norm(value: Any) -> Any:
    if value in ("inf", 1, 2):
        return value
    raise CertificateError(f"claim.norm is {value!r}; expected 'inf', 1 or 2")


def _claim_lipschitz(cert: dict, net: Network) -> None:
    claim = cert["claim"]
    S = domain_set(claim.get("domain"), net.input_dim, "claim.domain")
    norm = _parse_norm(claim.get("norm"))
    c = _claim_c(claim, net)
    part = claimed_partition(cert.get("partition"), net, S)
    region = claim.get("region")
    if not (isinstance(region, int) and 0 <= region < len(part)):
        raise CertificateError(f"claim.region {region!r} is not a region of the partition")
    mats = [region_matrix(np.asarray(r.affine.A), c) for r in part]
    if norm in (1, "inf"):
        value = parse_q(claim.get("value"), "claim.value")
        if induced_norm(mats[region], norm) != value:
            raise CertificateError(f"claim.value is {value}; region {region} has norm {induced_norm(mats[region], norm)}")
        for i, M in enumerate(mats):
            if induced_norm(M, norm) > value:
                raise CertificateError(f"claim.value is {value}; region {i} has the larger norm {induced_norm(M, norm)}")
        return
    lam = Algebraic.from_json(claim.get("value"), "claim.value")
    G = _gram(mats[region])
    if len(G) == 1:
        if lam.rational is None or G[0][0] != lam.rational:
            raise CertificateError(f"claim.value is not the squared norm of region {region}'s gradient")
    else:
        q = _charpoly(G)
        g = _sympy_poly(lam.coeffs).gcd(q)
        if g.degree() == 0 or _count(g, lam.lo, lam.hi) == 0:
            raise CertificateError(f"claim.value is not an eigenvalue of region {region}'s Gram matrix")
    for i, M in enumerate(mats):
        if not eigen_at_most(M, lam):
            raise CertificateError(f"claim.value is below the squared norm of region {i}")


def _claim_convex(cert: dict, net: Network) -> None:
    claim = cert["claim"]
    D = net.input_dim
    S = domain_set(claim.get("domain"), D, "claim.domain")
    c = _vector(claim.get("c"), net.output_dim, "claim.c")
    if claim.get("holds") is False:
        x, y = (_point(p, D, f"claim.witness[{i}]") for i, p in enumerate(claim.get("witness") or [None, None]))
        if not (S.contains(x) and S.contains(y)):
            raise CertificateError("claim.witness has a point outside the domain")
        m = [(a + b) / 2 for a, b in zip(x, y)]
        if not 2 * _value(net, c, Fraction(0), m) > _value(net, c, Fraction(0), x) + _value(net, c, Fraction(0), y):
            raise CertificateError("claim.witness: the midpoint's value is not above the chord")
        return
    if claim.get("holds") is not True:
        raise CertificateError("claim.holds is neither true nor false")
    part = claimed_partition(cert.get("partition"), net, S)
    pieces = [piece(r.affine, c) for r in part]
    bad = convexity_violation(pieces, [r.vertices() for r in part])
    if bad is not None:
        raise CertificateError(f"claim.holds: at a vertex of region {bad[0]} the piece of region {bad[1]} is above "
                               "the function, which is then not convex")


def _claim_monotone(cert: dict, net: Network) -> None:
    claim = cert["claim"]
    D = net.input_dim
    S = domain_set(claim.get("domain"), D, "claim.domain")
    c = _vector(claim.get("c"), net.output_dim, "claim.c")
    i = claim.get("input")
    if not (isinstance(i, int) and 0 <= i < D):
        raise CertificateError(f"claim.input {i!r} is not an input index")
    sign = 1 if claim.get("increasing", True) else -1
    if claim.get("holds") is False:
        x, y = (_point(p, D, f"claim.witness[{k}]") for k, p in enumerate(claim.get("witness") or [None, None]))
        if not (S.contains(x) and S.contains(y)):
            raise CertificateError("claim.witness has a point outside the domain")
        if any(a != b for j, (a, b) in enumerate(zip(x, y)) if j != i) or not y[i] > x[i]:
            raise CertificateError(f"claim.witness: the second point is not the first moved up along input {i}")
        if not sign * (_value(net, c, Fraction(0), y) - _value(net, c, Fraction(0), x)) < 0:
            raise CertificateError("claim.witness: the values do not contradict monotonicity")
        return
    if claim.get("holds") is not True:
        raise CertificateError("claim.holds is neither true nor false")
    part = claimed_partition(cert.get("partition"), net, S)
    for k, r in enumerate(part):
        g, _ = piece(r.affine, c)
        if sign * g[i] < 0:
            raise CertificateError(f"claim.holds: region {k} has slope {g[i]} in input {i}")


def _nearest(claim: dict, cert: dict, net: Network, where: str = "claim") -> tuple:
    """Check a nearest-adversarial claim; return (value or None, radius, box) -- the value is
    proven to be the least distance from x0 to a point of the box where the label is not
    strictly on top (squared for norm 2)."""
    D, O = net.input_dim, net.output_dim
    x0 = _point(claim.get("x0"), D, f"{where}.x0")
    norm = _parse_norm(claim.get("norm"))
    label = claim.get("label")
    if not (isinstance(label, int) and 0 <= label < O):
        raise CertificateError(f"{where}.label {label!r} is not an output index")
    dom = domain_set(claim["domain"], D, f"{where}.domain") if claim.get("domain") is not None else None
    if dom is not None and not dom.contains(x0):
        raise CertificateError(f"{where}.x0 lies outside the domain")
    key = "value_squared" if norm == 2 else "value"
    y0 = net(x0)
    if any(y0[j] >= y0[label] for j in range(O) if j != label):
        if claim.get(key) is None or parse_q(claim[key], f"{where}.{key}") != 0:
            raise CertificateError(f"{where}.{key}: x0 itself is not strictly in class {label}, the distance is 0")
        return Fraction(0), None, None
    r = parse_q(claim.get("radius"), f"{where}.radius")
    if r <= 0:
        raise CertificateError(f"{where}.radius is not positive")
    B = ball_box(x0, r, dom)
    part = claimed_partition(cert.get("partition"), net, B,
                             f"the box of {where}.radius around {where}.x0 (within {where}.domain)")
    value = None if claim.get(key) is None else parse_q(claim[key], f"{where}.{key}")
    if value is not None:
        x = _point(claim.get("point"), D, f"{where}.point")
        if not B.contains(x):
            raise CertificateError(f"{where}.point lies outside the partitioned box")
        y = net(x)
        if all(y[j] < y[label] for j in range(O) if j != label):
            raise CertificateError(f"{where}.point keeps class {label} strictly on top")
        if norm_of(x, x0, norm) != value:
            raise CertificateError(f"{where}.{key} is {value}; {where}.point lies at {norm_of(x, x0, norm)}")
    bounds = claim.get("bounds")
    if not isinstance(bounds, list) or len(bounds) != len(part):
        raise CertificateError(f"{where}.bounds does not have one entry per region")
    for i, reg in enumerate(part):
        entries = bounds[i]
        if not isinstance(entries, list) or len(entries) != O:
            raise CertificateError(f"{where}.bounds[{i}] does not have one entry per class")
        for j in range(O):
            if j == label:
                continue
            at = f"{where}.bounds[{i}][{j}]"
            e = entries[j]
            g, g0 = margin(reg.affine, j, label)
            if e == ["empty"]:
                if any(sum((a * v for a, v in zip(g, p)), g0) >= 0 for p in reg.vertices()):
                    raise CertificateError(f"{at} says class {j} never reaches the label in region {i}, but it does at a vertex")
                continue
            if not (isinstance(e, list) and len(e) == 2 and e[0] == "dual"):
                raise CertificateError(f"{at} is neither ['empty'] nor ['dual', multipliers]")
            if value is None:
                raise CertificateError(f"{at}: the claim says no point is adversarial, but this region needs a bound")
            A, b = adversarial_rows(reg.polytope, g, g0)
            yv = [parse_q(v, f"{at}.multipliers") for v in e[1]]
            if distance_bound(A, b, x0, norm, B, r, yv) < value:
                raise CertificateError(f"{at}: the multipliers bound the distance by less than the claimed value")
    return value, r, B


def _claim_min_adversarial(cert: dict, net: Network) -> None:
    _nearest_in_scope(cert["claim"], cert, net, "claim")


def _nearest_in_scope(claim: dict, cert: dict, net: Network, where: str) -> tuple:
    """Check a nearest-adversarial claim with its scope: the minimum over the partitioned box
    (``radius_fixed``), else the global nearest point (the box must hold every point nearer
    than the value, or the whole domain)."""
    value, r, B = _nearest(claim, cert, net, where)
    if r is None:
        return value, r
    fixed = claim.get("radius_fixed", False)
    if not isinstance(fixed, bool):
        raise CertificateError(f"{where}.radius_fixed is not true or false")
    if fixed:
        return value, r  # the claim is the minimum over the partitioned box, which _nearest has checked
    norm = claim["norm"]
    dom = domain_set(claim["domain"], net.input_dim, f"{where}.domain") if claim.get("domain") is not None else None
    whole = dom is not None and all(a <= l for a, l in zip(B.lo, dom.lo)) and all(a >= h for a, h in zip(B.hi, dom.hi))
    if not whole and (value is None or not norm_value_at_most(value, norm, r)):
        raise CertificateError(f"{where}.radius: the partitioned box does not hold every point nearer than the value")
    return value, r


def _claim_robust2(cert: dict, net: Network, claim: dict) -> None:
    """Robustness in the 2-norm: the nearest adversarial point (within the box of radius eps)
    lies farther than eps, or the counterexample is in the ball."""
    eps = parse_q(claim.get("eps"), "claim.eps")
    value = _nearest_of_robust2(cert, net, claim, eps)
    if value is not None and value <= eps * eps:
        raise CertificateError(f"claim.holds: a point at squared distance {value} <= eps^2 changes the class")


def _nearest_of_robust2(cert: dict, net: Network, claim: dict, eps: Fraction) -> Fraction | None:
    """Check a 2-norm robustness claim's ``nearest`` part (a min_adversarial claim over the box
    of radius >= eps); return its squared distance (None: no point in the box)."""
    near = claim.get("nearest")
    if not isinstance(near, dict):
        raise CertificateError("claim.nearest is missing: a 2-norm robustness claim rests on the nearest point")
    for k in ("x0", "label", "domain"):
        if near.get(k) != claim.get(k):
            raise CertificateError(f"claim.nearest.{k} differs from claim.{k}")
    if near.get("norm") != 2:
        raise CertificateError("claim.nearest.norm is not 2")
    value, r = _nearest_in_scope(near, cert, net, "claim.nearest")
    if r is not None and r < eps:
        raise CertificateError("claim.nearest.radius is below eps: the box does not hold the ball")
    return value


_PARTITION_CLAIMS.update({"lipschitz": _claim_lipschitz, "convex": _claim_convex, "monotone": _claim_monotone,
                          "min_adversarial": _claim_min_adversarial})


# -- equivalence of arg-max classes -----------------------------------------------------------
def vertex_box(V: Any) -> tuple[list[Fraction], list[Fraction]]:
    V = [[Fraction(v) for v in p] for p in V]
    D = len(V[0])
    return [min(p[j] for p in V) for j in range(D)], [max(p[j] for p in V) for j in range(D)]


def argmax_program(poly: Any, affine: Any, O: int, first: int, i: int, k: int):
    """On a region of the stacked network: rows ``A x <= b`` (the region, and class i on top
    of the ``first`` network), the objective ``w . x + w0 = h_k - h_i`` of the other one."""
    own, other = (0, O) if first == 0 else (O, 0)
    A = [[Fraction(v) for v in row] for row in np.asarray(poly.A)]
    b = [Fraction(v) for v in np.asarray(poly.b)]
    M = np.asarray(affine.A)
    c0 = np.asarray(affine.b)
    D = M.shape[1]
    for m in range(O):
        if m == i:
            continue
        # f_m - f_i <= 0
        A.append([Fraction(M[own + m, j]) - Fraction(M[own + i, j]) for j in range(D)])
        b.append(Fraction(c0[own + i]) - Fraction(c0[own + m]))
    w = [Fraction(M[other + k, j]) - Fraction(M[other + i, j]) for j in range(D)]
    return A, b, w, Fraction(c0[other + k]) - Fraction(c0[other + i])


def lagrangian_box_max(w, w0, A, b, lo, hi, y) -> Fraction:
    """``max over the box of (w - y A) . x + y . b + w0``: an upper bound of ``w . x + w0`` on
    {A x <= b} within the box for any ``y >= 0`` (and, when negative with w = 0, a proof that
    the set is empty)."""
    if len(y) != len(A) or any(v < 0 for v in y):
        raise CertificateError("multipliers of the wrong length or sign")
    D = len(w)
    g = [w[j] - sum((yk * A[k][j] for k, yk in enumerate(y) if yk), Fraction(0)) for j in range(D)]
    return w0 + sum((yk * b[k] for k, yk in enumerate(y) if yk), Fraction(0)) + \
        sum((gj * (hi[j] if gj > 0 else lo[j]) for j, gj in enumerate(g) if gj), Fraction(0))


def _claim_equivalent_argmax(cert: dict, nets: Sequence[Network], joint: Network) -> None:
    claim = cert["claim"]
    f, g = nets
    D, O = f.input_dim, f.output_dim
    dom = domain_set(claim.get("domain"), D, "claim.domain")
    if claim.get("holds") is False:
        x = _point(claim.get("counterexample"), D, "claim.counterexample")
        if not dom.contains(x):
            raise CertificateError("claim.counterexample lies outside the domain")
        yf, yg = f(x), g(x)
        top = lambda y: {j for j in range(O) if y[j] == max(y)}  # noqa: E731
        if top(yf) == top(yg):
            raise CertificateError("claim.counterexample: both networks have the same top classes there")
        return
    if claim.get("holds") is not True:
        raise CertificateError("claim.holds is neither true nor false")
    part = claimed_partition(cert.get("partition"), joint, dom)
    bounds = claim.get("bounds")
    if not isinstance(bounds, list) or len(bounds) != len(part):
        raise CertificateError("claim.bounds does not have one entry per region")
    for r, reg in enumerate(part):
        lo, hi = vertex_box(reg.vertices())
        entries = bounds[r]
        if not isinstance(entries, list) or len(entries) != 2 * O * (O - 1):
            raise CertificateError(f"claim.bounds[{r}] does not have one entry per network and pair of classes")
        t = 0
        for first in (0, 1):
            for i in range(O):
                for k in range(O):
                    if i == k:
                        continue
                    e = entries[t]
                    at = f"claim.bounds[{r}][{t}]"
                    t += 1
                    if not (isinstance(e, list) and len(e) == 2 and e[0] == "dual"):
                        raise CertificateError(f"{at} is not ['dual', multipliers]")
                    A, b, w, w0 = argmax_program(reg.polytope, reg.affine, O, first, i, k)
                    y = [parse_q(v, f"{at}.multipliers") for v in e[1]]
                    if lagrangian_box_max(w, w0, A, b, lo, hi, y) > 0:
                        zero = lagrangian_box_max([Fraction(0)] * D, Fraction(0), A, b, lo, hi, y)
                        if not zero < 0:
                            raise CertificateError(f"{at}: the multipliers do not keep class {i} on top of "
                                                   f"network {1 - first} where it is on top of network {first}")
