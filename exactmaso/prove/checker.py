"""The certificate checker: re-derives every bound a proof relies on, in exact arithmetic.

It imports nothing from the prover.  It uses only exact numbers, the network's exact pieces
(and its exact forward pass, for witnesses), and -- for leaves decided by enumerating
regions -- the partition checker :mod:`exactmaso.verify`, which re-checks independently the
partition that the region engine proposes.

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
* ``"regions"``: the exact maximum over the leaf's box of ``c . f + d`` is the largest value
  at a vertex of the box's linear regions (``c . f`` is affine on each closed region, which is
  the convex hull of its vertices); the partition is proposed by the region engine and
  re-checked by :func:`exactmaso.verify.verify_partition` before it is used.

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

__all__ = ["network_hash", "ExactModel", "box_bounds", "upper_bound", "region_maximum", "check_bound",
           "check_certificate", "parse_q", "format_q"]

PRECISION = 60  # significant bits kept when a bound is rounded outward
SLOPE_BITS = 40  # upper slopes are rounded up to multiples of 2**-SLOPE_BITS


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

    def relaxation(self, model: "ExactModel", li: int) -> "_Relaxation":
        hit = self.relaxed.get(li)
        if hit is None:
            hit = self.relaxed[li] = _relax(model.layers[li], self.cut_lo[li], self.cut_hi[li])
        return hit


def box_bounds(model: ExactModel, lo: Sequence[Fraction], hi: Sequence[Fraction], parent: Bounds | None = None,
               *, crown: bool = False) -> Bounds:
    """Sound bounds of every unit over the box, intersected with ``parent``'s (a box holding
    this one); with ``crown``, also intersected with backward linear bounds."""
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
        if crown and li > 0 and R > 1:
            clo, chi = _crown_cut_bounds(model, li, res, lo, hi, clo, chi)
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
                lo: Sequence[Fraction], hi: Sequence[Fraction]) -> Fraction:
    """A sound upper bound of ``c . f(x) + d`` over the box, from the relaxations of ``bounds``."""
    ints, den = _common([Fraction(v) for v in c])
    row, rden, const = _backward(model, bounds, len(model.layers) - 1, [ints], den, [Fraction(d)])
    return _box_max(row[0], rden, const[0], lo, hi)


def region_maximum(net: Network, lo: Sequence[Fraction], hi: Sequence[Fraction], c: Sequence[Fraction], d: Fraction,
                   *, max_regions: int | None = None) -> tuple[Fraction, tuple[Fraction, ...]]:
    """The exact maximum of ``c . f(x) + d`` over the box and a point attaining it: the largest
    value at a vertex of the box's regions, the partition re-checked by the partition checker."""
    from ..polytope import Box
    from ..regions import regions
    from ..verify import verify_partition

    part = regions(net, Box(list(lo), list(hi)), max_regions=max_regions)
    verify_partition(part, graph=False)
    best: tuple[Fraction, tuple] | None = None
    cf = [Fraction(v) for v in c]
    for reg in part:
        aff = reg.affine
        w = [sum((cf[o] * aff.A[o, j] for o in range(len(cf))), Fraction(0)) for j in range(aff.A.shape[1])]
        w0 = sum((cf[o] * aff.b[o] for o in range(len(cf))), Fraction(0)) + d
        for v in reg.vertices():
            val = sum((a * x for a, x in zip(w, v)), w0)
            if best is None or val > best[0]:
                best = (val, tuple(v))
    assert best is not None  # a box has a region
    return best


# -- certificates -------------------------------------------------------------------------
def _vector(values: Any, n: int, where: str) -> list[Fraction]:
    if not isinstance(values, list) or len(values) != n:
        raise CertificateError(f"{where} has {len(values) if isinstance(values, list) else 'no'} entries; expected {n}")
    return [parse_q(v, f"{where}[{i}]") for i, v in enumerate(values)]


def check_bound(net: Network, proof: dict, *, model: ExactModel | None = None, where: str = "proof") -> None:
    """Check one bound proof: ``c . f(x) + d <= bound`` (``<`` if strict) on its box; raise
    CertificateError naming the failed node."""
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
    stack = [(tree, lo, hi, None, "tree")]
    while stack:
        node, nlo, nhi, parent, path = stack.pop()
        if not isinstance(node, dict):
            raise CertificateError(f"{where}.{path} is not a node")
        bounds = None
        if "split" in node:
            try:
                j, t = node["split"]
                j = int(j)
                t = parse_q(t, f"{where}.{path}.split")
                kids = node["children"]
            except (TypeError, ValueError, KeyError):
                raise CertificateError(f"{where}.{path}.split is not [coordinate, 'p/q'] with two children") from None
            if not (0 <= j < D and nlo[j] <= t <= nhi[j]) or not isinstance(kids, list) or len(kids) != 2:
                raise CertificateError(f"{where}.{path}: the split {node['split']} does not cut the node's box in two")
            if node.get("crown"):
                bounds = box_bounds(model, nlo, nhi, parent, crown=True)
            left_hi = list(nhi)
            left_hi[j] = t
            right_lo = list(nlo)
            right_lo[j] = t
            nb = bounds if bounds is not None else parent
            stack.append((kids[1], right_lo, nhi, nb, path + ".1"))
            stack.append((kids[0], nlo, left_hi, nb, path + ".0"))
            continue
        leaf = node.get("leaf")
        if leaf == "crown":
            bounds = box_bounds(model, nlo, nhi, parent, crown=bool(node.get("crown")))
            got = upper_bound(model, bounds, c, d, nlo, nhi)
        elif leaf == "regions":
            got = region_maximum(net, nlo, nhi, c, d)[0]
        else:
            raise CertificateError(f"{where}.{path}: unknown leaf kind {leaf!r}; expected 'crown' or 'regions'")
        if got > bound or (strict and got == bound):
            raise CertificateError(f"{where}.{path}: the exact bound on this box is {got}, which does not prove "
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
