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
  the whole box).

:func:`check_certificate` checks a whole certificate (a JSON-able dict): the network's content
hash, the question, every bound proof, and every witness point by the exact forward pass.
"""

from __future__ import annotations

import hashlib
import math
from fractions import Fraction
from typing import Any, Sequence

import flint

from ..errors import CertificateError
from ..maso import Network

__all__ = ["network_hash", "ExactModel", "Bounds", "box_bounds", "upper_bound", "decided_pieces", "pattern_maps",
           "check_bound", "check_certificate", "parse_q", "format_q"]

PRECISION = 60  # significant bits kept when a bound is rounded outward
SLOPE_BITS = 64  # upper slopes are rounded up to multiples of 2**-SLOPE_BITS


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


def _down(q: Fraction) -> Fraction:
    """The largest dyadic rational with PRECISION significant bits that is <= q."""
    if q == 0:
        return q
    e = abs(q.numerator).bit_length() - q.denominator.bit_length() - PRECISION
    if e >= 0:
        return Fraction((q.numerator // (q.denominator << e)) << e)
    return Fraction((q.numerator << -e) // q.denominator, 1 << -e)


def _up(q: Fraction) -> Fraction:
    return -_down(-q)


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
        pos = [[max(v, 0) for v in r[:n]] for r in rows]
        neg = [[min(v, 0) for v in r[:n]] for r in rows]
        self.pos, self.neg = flint.fmpz_mat(pos), flint.fmpz_mat(neg)
        self.bias = [r[n] for r in rows]
        if R == 2:  # the cut h = piece 1 - piece 0
            self.cut = [[q - p for p, q in zip(rows[2 * k], rows[2 * k + 1])] for k in range(K)]
            self.cut_pos = flint.fmpz_mat([[max(v, 0) for v in r[:n]] for r in self.cut])
            self.cut_neg = flint.fmpz_mat([[min(v, 0) for v in r[:n]] for r in self.cut])


class ExactModel:
    """The network as exact integer pieces, layer by layer."""

    def __init__(self, net: Network) -> None:
        self.net = net
        self.D = net.input_dim
        self.layers = [_Layer(m) for m in net.masos]


def _clamp(li: int, lo: list, hi: list, phases: dict) -> tuple[list, list]:
    lo, hi = list(lo), list(hi)
    for (l, k), side in phases.items():
        if l == li:
            if side:
                lo[k] = max(lo[k], Fraction(0))
            else:
                hi[k] = min(hi[k], Fraction(0))
    return lo, hi


def _interval(pos, neg, bias: Sequence[int], den: int, lo: Sequence[Fraction], hi: Sequence[Fraction]):
    """Exact bounds of rows ``(pos + neg) z + bias`` over ``den`` on the box ``lo <= z <= hi``."""
    L, dl = _common(lo)
    H, dh = _common(hi)
    common = dl * dh // math.gcd(dl, dh)
    L = flint.fmpz_mat([[v * (common // dl)] for v in L])
    H = flint.fmpz_mat([[v * (common // dh)] for v in H])
    up = (pos * H + neg * L).entries()
    down = (pos * L + neg * H).entries()
    scale = den * common
    return ([Fraction(int(v) + b * common, scale) for v, b in zip(down, bias)],
            [Fraction(int(v) + b * common, scale) for v, b in zip(up, bias)])


def _interval_rows(layer: _Layer, lo, hi) -> tuple[list[Fraction], list[Fraction]]:
    """Exact bounds of every piece of the layer over the box ``lo <= z <= hi`` (interval arithmetic)."""
    return _interval(layer.pos, layer.neg, layer.bias, layer.den, lo, hi)


def _interval_rows_cut(layer: _Layer, lo, hi) -> tuple[list[Fraction], list[Fraction]]:
    """Exact bounds of every cut ``h`` of a two-piece layer over the box."""
    return _interval(layer.cut_pos, layer.cut_neg, [r[layer.n] for r in layer.cut], layer.den, lo, hi)


class Bounds:
    """Per layer: bounds of the cut quantities (``h`` of each two-piece unit, every piece of a
    unit with three or more pieces) and of the layer's outputs, all dyadic."""

    def __init__(self, cut_lo: list, cut_hi: list, out_lo: list, out_hi: list) -> None:
        self.cut_lo, self.cut_hi = cut_lo, cut_hi
        self.out_lo, self.out_hi = out_lo, out_hi
        self.relaxed: dict[int, Any] = {}  # layer -> its relaxation (the bounds are never changed)
        self.empty = False  # some bounds cross: the set they describe is empty

    def relaxation(self, model: "ExactModel", li: int) -> "_Relaxation":
        hit = self.relaxed.get(li)
        if hit is None:
            hit = self.relaxed[li] = _relax(model.layers[li], self.cut_lo[li], self.cut_hi[li])
        return hit


def box_bounds(model: ExactModel, lo: Sequence[Fraction], hi: Sequence[Fraction], parent: Bounds | None = None,
               *, crown: bool = False, phases: dict | None = None) -> Bounds:
    """Sound bounds of every unit over the box, intersected with ``parent``'s (a box holding
    this one); with ``crown``, also intersected with backward linear bounds.  ``phases`` maps
    units ``(l, k)`` of two-piece layers to 1 (``h >= 0``) or 0 (``h <= 0``): the bounds then
    hold on the part of the box where those signs hold (they are clamped)."""
    res = Bounds([], [], [], [])
    zl, zh = list(lo), list(hi)
    for li, layer in enumerate(model.layers):
        plo, phi = _interval_rows(layer, zl, zh)
        K, R = layer.K, layer.R
        if R == 1:
            clo, chi = [], []
        elif R == 2:
            clo, chi = _interval_rows_cut(layer, zl, zh)
        else:
            clo, chi = list(plo), list(phi)
        if parent is not None and R > 1:
            clo = [max(a, b) for a, b in zip(clo, parent.cut_lo[li])]
            chi = [min(a, b) for a, b in zip(chi, parent.cut_hi[li])]
        if R == 2 and phases:
            clo, chi = _clamp(li, clo, chi, phases)
        if crown and li > 0 and R > 1 and not res.empty:
            clo, chi = _crown_cut_bounds(model, li, res, lo, hi, clo, chi)
            if R == 2 and phases:
                clo, chi = _clamp(li, clo, chi, phases)
        if any(a > b for a, b in zip(clo, chi)):
            res.empty = True  # the signs the phases ask for cannot hold together on the box
        clo = [_down(v) for v in clo]
        chi = [_up(v) for v in chi]
        res.cut_lo.append(clo)
        res.cut_hi.append(chi)
        # the layer's outputs: the max of its pieces
        if R == 1:
            ylo, yhi = plo, phi
        else:
            ylo = [max(plo[k * R:(k + 1) * R]) for k in range(K)]
            yhi = [max(phi[k * R:(k + 1) * R]) for k in range(K)]
            if R == 2:  # y = g0 + relu(h)
                ylo = [max(a, plo[2 * k] + max(clo[k], 0)) for k, a in enumerate(ylo)]
                yhi = [min(a, phi[2 * k] + max(chi[k], 0)) for k, a in enumerate(yhi)]
        if parent is not None:
            ylo = [max(a, b) for a, b in zip(ylo, parent.out_lo[li])]
            yhi = [min(a, b) for a, b in zip(yhi, parent.out_hi[li])]
        res.out_lo.append([_down(v) for v in ylo])
        res.out_hi.append([_up(v) for v in yhi])
        zl, zh = res.out_lo[-1], res.out_hi[-1]
    return res


class _Relaxation:
    """Unit k of a layer lies between ``lo_k . z + clo_k`` and ``up_k . z + cup_k``:
    coefficient rows as integers over ``den``, constants as Fractions."""

    def __init__(self, lo_rows, up_rows, den, clo, cup) -> None:
        self.lo = flint.fmpz_mat(lo_rows)
        self.up = flint.fmpz_mat(up_rows)
        self.den = den
        ints, self.cden = _common(list(clo) + list(cup))  # the constants as integer columns
        K = len(clo)
        self.clo = flint.fmpz_mat([[v] for v in ints[:K]])
        self.cup = flint.fmpz_mat([[v] for v in ints[K:]])


def _relax(layer: _Layer, clo: list[Fraction], chi: list[Fraction]) -> _Relaxation:
    n, K, R, den = layer.n, layer.K, layer.R, layer.den
    rows = layer.rows
    scale = 1 << SLOPE_BITS
    lo_rows, up_rows, c_lo, c_up = [], [], [], []
    for k in range(K):
        if R == 1:
            r = rows[k]
            lo_rows.append([v * scale for v in r[:n]])
            up_rows.append([v * scale for v in r[:n]])
            c_lo.append(Fraction(r[n], den))
            c_up.append(Fraction(r[n], den))
            continue
        if R == 2:
            r0, r1 = rows[2 * k], rows[2 * k + 1]
            l, u = clo[k], chi[k]
            if l >= 0 or u <= 0:
                r = r1 if l >= 0 else r0
                lo_rows.append([v * scale for v in r[:n]])
                up_rows.append([v * scale for v in r[:n]])
                c_lo.append(Fraction(r[n], den))
                c_up.append(Fraction(r[n], den))
                continue
            r = r1 if u > -l else r0  # the lower line g0 + a h with a in {0, 1}
            lo_rows.append([v * scale for v in r[:n]])
            c_lo.append(Fraction(r[n], den))
            # the upper line g0 + s (h - l), s >= u / (u - l), rounded up to a dyadic
            q = u / (u - l)
            S = -((-q.numerator * scale) // q.denominator)
            up_rows.append([p * scale + S * (w - p) for p, w in zip(r0[:n], r1[:n])])
            c_up.append(Fraction(r0[n] * scale + S * (r1[n] - r0[n]), den * scale) - Fraction(S, scale) * l)
            continue
        pl, ph = clo[k * R:(k + 1) * R], chi[k * R:(k + 1) * R]
        best = max(range(R), key=lambda r_: pl[r_] + ph[r_])
        r = rows[k * R + best]
        lo_rows.append([v * scale for v in r[:n]])
        c_lo.append(Fraction(r[n], den))
        dominant = next((r_ for r_ in range(R) if all(pl[r_] >= ph[s] for s in range(R) if s != r_)), None)
        if dominant is not None:
            r = rows[k * R + dominant]
            up_rows.append([v * scale for v in r[:n]])
            c_up.append(Fraction(r[n], den))
        else:
            up_rows.append([0] * n)
            c_up.append(max(ph))
    return _Relaxation(lo_rows, up_rows, den * scale, c_lo, c_up)


def _backward(model: ExactModel, bounds: Bounds, top: int, lam: list[list[int]], lam_den: int,
              const: list[Fraction]) -> tuple[list[list[int]], int, list[Fraction]]:
    """Substitute relaxed layers ``top, top - 1, ..., 0`` into upper bounds ``lam . y_top + const``.

    ``lam`` are integer rows over ``lam_den`` (coefficients of layer ``top``'s outputs); the
    result is integer rows over the input ``x`` (and a denominator) and the constants.
    """
    for li in range(top, -1, -1):
        rel = bounds.relaxation(model, li)
        P = [[max(v, 0) for v in row] for row in lam]
        N = [[min(v, 0) for v in row] for row in lam]
        Pm, Nm = flint.fmpz_mat(P), flint.fmpz_mat(N)
        nxt = Pm * rel.up + Nm * rel.lo
        added = (Pm * rel.cup + Nm * rel.clo).entries()
        const = [c + Fraction(int(a), lam_den * rel.cden) for c, a in zip(const, added)]
        lam = [[int(v) for v in row] for row in nxt.tolist()]
        lam_den *= rel.den
        g = lam_den
        for row in lam:
            for v in row:
                if v:
                    g = math.gcd(g, v)
                    if g == 1:
                        break
            if g == 1:
                break
        if g > 1:
            lam = [[v // g for v in row] for row in lam]
            lam_den //= g
    return lam, lam_den, const


def _box_max(row: list[int], den: int, const: Fraction, lo: Sequence[Fraction], hi: Sequence[Fraction]) -> Fraction:
    return const + sum((Fraction(v, den) * (hi[j] if v > 0 else lo[j]) for j, v in enumerate(row) if v), Fraction(0))


def _crown_cut_bounds(model: ExactModel, li: int, partial: Bounds, lo, hi, clo, chi):
    """Backward linear bounds of layer li's cut quantities that interval bounds leave unsettled."""
    layer = model.layers[li]
    n = layer.n
    if layer.R == 2:
        rows = layer.cut
        open_ = [k for k in range(layer.K) if clo[k] < 0 < chi[k]]
    else:
        rows = layer.rows
        open_ = list(range(len(rows)))
    if not open_:
        return clo, chi
    lam = [list(rows[k][:n]) for k in open_] + [[-v for v in rows[k][:n]] for k in open_]
    const = [Fraction(rows[k][n], layer.den) for k in open_] + [Fraction(-rows[k][n], layer.den) for k in open_]
    lam_x, den, const = _backward(model, partial, li - 1, lam, layer.den, const)
    clo, chi = list(clo), list(chi)
    m = len(open_)
    for q, k in enumerate(open_):
        chi[k] = min(chi[k], _box_max(lam_x[q], den, const[q], lo, hi))
        clo[k] = max(clo[k], -_box_max(lam_x[m + q], den, const[m + q], lo, hi))
    return clo, chi


def upper_bound(model: ExactModel, bounds: Bounds, c: Sequence[Fraction], d: Fraction,
                lo: Sequence[Fraction], hi: Sequence[Fraction], multipliers: Sequence[tuple] = ()) -> Fraction | None:
    """A sound upper bound of ``c . f(x) + d`` over the part of the box the bounds describe
    (None when it is empty), from the relaxations of ``bounds``.

    ``multipliers`` are ``(l, k, y)`` with ``y >= 0`` for units with a phase: the Lagrangian
    term ``y s h(x)`` (``s = +1`` for ``h >= 0``, ``-1`` for ``h <= 0``) is ``>= 0`` where the
    phases hold, so adding it keeps the bound; it needs ``h`` exactly affine in ``x``, i.e. every
    unit of the earlier layers decided by the bounds.
    """
    if bounds.empty:
        return None
    ints, den = _common([Fraction(v) for v in c])
    row, rden, const = _backward(model, bounds, len(model.layers) - 1, [ints], den, [Fraction(d)])
    g = [Fraction(v, rden) for v in row[0]]
    g0 = const[0]
    for l, k, y, side, h in _lagrangian_rows(model, bounds, multipliers):
        s = y if side else -y
        g = [a + s * v for a, v in zip(g, h[:-1])]
        g0 += s * h[-1]
    return g0 + sum((a * (hi[j] if a > 0 else lo[j]) for j, a in enumerate(g) if a), Fraction(0))


def decided_pieces(model: ExactModel, bounds: Bounds, layer: int) -> list[int] | None:
    """The piece each unit of ``layer`` takes on the whole set the bounds describe, or None."""
    L = model.layers[layer]
    if L.R == 1:
        return [0] * L.K
    lo, hi = bounds.cut_lo[layer], bounds.cut_hi[layer]
    if L.R == 2:
        out = []
        for a, b in zip(lo, hi):
            if a >= 0:
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


def _multipliers(node: dict, phases: dict, where: str) -> list[tuple]:
    out = []
    for item in node.get("multipliers", []):
        try:
            l, k, y = item
            l, k = int(l), int(k)
        except (TypeError, ValueError):
            raise CertificateError(f"{where}: a multiplier is {item!r:.60}; expected [layer, unit, 'p/q']") from None
        if (l, k) not in phases:
            raise CertificateError(f"{where}: the multiplier of unit ({l}, {k}) has no phase on this branch")
        out.append((l, k, parse_q(y, f"{where}.multipliers"), phases[(l, k)]))
    return out


def check_bound(net: Network, proof: dict, *, model: ExactModel | None = None, where: str = "proof") -> None:
    """Check one bound proof: ``c . f(x) + d <= bound`` (``<`` if strict) on its box; raise
    CertificateError naming the failed node.

    The tree's nodes: ``{"split": [j, "t"], "children": [lower half, upper half]}`` (coordinate
    ``j`` at ``t``), ``{"branch": [l, k], "children": [h <= 0, h >= 0]}`` (the cut ``h`` of unit
    ``k`` of two-piece layer ``l``), and leaves ``{"leaf": "bound"}`` (the relaxation's bound,
    with optional ``"multipliers": [[l, k, "y"], ...]`` for units with a phase) or
    ``{"leaf": "empty"}`` (the phases cannot hold together: crossing bounds, or multipliers
    whose Lagrangian is negative on the whole box).  Every node computes its bounds from its
    box, its phases and its parent's bounds; backward bounds where ``"crown": true`` (or
    everywhere when the proof says ``"crown": "all"``).
    """
    model = model or ExactModel(net)
    D, out = net.input_dim, net.output_dim
    try:
        c = _vector(proof["c"], out, f"{where}.c")
        d = parse_q(proof["d"], f"{where}.d")
        lo = _vector(proof["box"]["lo"], D, f"{where}.box.lo")
        hi = _vector(proof["box"]["hi"], D, f"{where}.box.hi")
        bound = parse_q(proof["bound"], f"{where}.bound")
        strict = bool(proof.get("strict", False))
        tree = proof["tree"]
    except (KeyError, TypeError) as exc:
        raise CertificateError(f"{where} lacks a field ({exc}); expected c, d, box, bound and tree") from None
    if any(a > b for a, b in zip(lo, hi)):
        raise CertificateError(f"{where}.box is empty")
    everywhere = proof.get("crown") == "all"
    stack = [(tree, lo, hi, None, {}, "tree")]
    while stack:
        node, nlo, nhi, parent, phases, path = stack.pop()
        at = f"{where}.{path}"
        if not isinstance(node, dict):
            raise CertificateError(f"{at} is not a node")
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
                stack.append((kids[1], right_lo, nhi, bounds, phases, path + ".1"))
                stack.append((kids[0], nlo, left_hi, bounds, phases, path + ".0"))
            else:
                try:
                    l, k = (int(v) for v in node["branch"])
                except (TypeError, ValueError):
                    raise CertificateError(f"{at}.branch is not [layer, unit]") from None
                if not (0 <= l < len(model.layers) and model.layers[l].R == 2 and 0 <= k < model.layers[l].K):
                    raise CertificateError(f"{at}: branch {node['branch']} names no unit of a two-piece layer")
                if (l, k) in phases:
                    raise CertificateError(f"{at}: unit ({l}, {k}) is branched on twice")
                stack.append((kids[1], nlo, nhi, bounds, {**phases, (l, k): 1}, path + ".1"))
                stack.append((kids[0], nlo, nhi, bounds, {**phases, (l, k): 0}, path + ".0"))
            continue
        leaf = node.get("leaf")
        mult = _multipliers(node, phases, at)
        if leaf == "empty":
            if bounds.empty:
                continue
            zero = [Fraction(0)] * out
            got = upper_bound(model, bounds, zero, Fraction(0), nlo, nhi, mult)
            if got is None or got < 0:
                continue
            raise CertificateError(f"{at}: the leaf is said to be empty, but its Lagrangian reaches {got} >= 0")
        if leaf != "bound":
            raise CertificateError(f"{at}: unknown leaf kind {leaf!r}; expected 'bound' or 'empty'")
        got = upper_bound(model, bounds, c, d, nlo, nhi, mult)
        if got is None:
            continue
        if got > bound or (strict and got == bound):
            raise CertificateError(f"{at}: the exact bound on this box is {got}, which does not prove "
                                   f"{'<' if strict else '<='} {bound}")


def check_certificate(cert: dict, net: Network) -> None:
    """Check a whole certificate (see :mod:`exactmaso.prove.certificates`); raise CertificateError
    naming the field that failed."""
    if not isinstance(cert, dict) or cert.get("format") != "exactmaso-certificate":
        raise CertificateError("not an exactmaso certificate (the field 'format' is not 'exactmaso-certificate')")
    if cert.get("network") != network_hash(net):
        raise CertificateError("the field 'network' does not match this network's content hash")
    model = ExactModel(net)
    for i, proof in enumerate(cert.get("proofs", [])):
        check_bound(net, proof, model=model, where=f"proofs[{i}]")
    for i, w in enumerate(cert.get("witnesses", [])):
        where = f"witnesses[{i}]"
        try:
            x = _vector(w["x"], net.input_dim, f"{where}.x")
            c = _vector(w["c"], net.output_dim, f"{where}.c")
            d = parse_q(w["d"], f"{where}.d")
            value = parse_q(w["value"], f"{where}.value")
            lo = _vector(w["box"]["lo"], net.input_dim, f"{where}.box.lo")
            hi = _vector(w["box"]["hi"], net.input_dim, f"{where}.box.hi")
        except (KeyError, TypeError) as exc:
            raise CertificateError(f"{where} lacks a field ({exc})") from None
        if any(not (a <= v <= b) for a, v, b in zip(lo, x, hi)):
            raise CertificateError(f"{where}.x lies outside its box")
        y = net(x)
        got = sum((a * b for a, b in zip(c, y)), Fraction(0)) + d
        if got != value:
            raise CertificateError(f"{where}.value is {value}; the network gives {got} at {where}.x")
