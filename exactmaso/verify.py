"""Independent exact re-check of a partition, in exact rational and integer arithmetic.

Nothing here uses the enumeration engines' float filters: signs are integer signs, and the
network is evaluated by its own exact forward pass.

What is checked, and why it proves the partition:

1. Codes are pairwise distinct.  Closures of regions with distinct codes have disjoint
   interiors (at the first unit where two codes differ, one region has ``g_r >= g_s`` and
   the other ``g_s >= g_r`` for the same affine functions).
2. Every region's exact point is strictly inside its facet rows, and the exact forward pass
   gives it the region's code.
3. Every vertex lies in the domain and in the closed code region: the exact forward pass at
   the vertex gives every unit's pieces (pre-activations are continuous, so these are the
   region's own affine functions there), and the region's chosen piece is a maximum at
   every unit.  Every facet row is >= 0 at every vertex.  Hence conv(vertices) lies in the
   closure of the region.
4. The exact volumes of conv(vertices) sum to the domain's exact volume.  The volume is a
   pulling triangulation over the faces cut out by the facet rows (tight sets recomputed
   exactly); a missing facet can only make it smaller, so with (1) and (3) equality proves
   the regions tile the domain and that no region is missing.
5. Each adjacency edge comes with an exact point in the relative interior of both regions'
   facets on one hyperplane (it satisfies both facet rows with equality and every other row
   strictly), so the shared face is (D-1)-dimensional.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from .errors import CertificateError
from .geometry import volume_from_incidence

if TYPE_CHECKING:  # pragma: no cover
    from .regions import Partition

__all__ = ["verify_partition"]


def _layer_pieces(net) -> list:
    """Per layer: (all K * R pieces as a FLINT integer matrix, their denominator, K, R)."""
    import flint

    out = []
    for m in net.masos:
        rows, den = m._int_pieces()
        out.append((flint.fmpz_mat(rows), den, m.num_units, m.num_pieces))
    return out


def _maximal_pieces(layers: list, points: list, chunk: int = 2048) -> list[np.ndarray]:
    """For each layer, an (N, K) array of bit masks: bit r of unit k is set at point j when
    piece r is a maximum of unit k there (the exact forward pass, in integers).

    Each point is numerators over one denominator; each layer's pieces are integer rows over
    one denominator; one FLINT integer product per layer and chunk gives all piece values
    (comparisons within a point share the denominator).
    """
    import flint

    out = [np.zeros((len(points), K), dtype=np.int64) for (_, _, K, _) in layers]
    for a in range(0, len(points), chunk):
        nums, dens = [], []
        for v in points[a:a + chunk]:
            den = 1
            for t in v:
                den = den * t.denominator // math.gcd(den, t.denominator)
            nums.append([t.numerator * (den // t.denominator) for t in v])
            dens.append(den)
        N = len(nums)
        for l, (pieces, pden, K, R) in enumerate(layers):
            Z = flint.fmpz_mat([row + [d] for row, d in zip(nums, dens)]).transpose()
            vals = np.array([int(t) for t in (pieces * Z).entries()], dtype=object).reshape(K, R, N)
            best = vals.max(axis=1)  # (K, N): the layer's exact outputs, over dens * pden
            is_max = (vals == best[:, None, :]).astype(bool)
            masks = np.zeros((K, N), dtype=np.int64)
            for r in range(R):
                masks |= is_max[:, r, :].astype(np.int64) << r
            out[l][a:a + N] = masks.T
            nums = best.T.tolist()
            dens = [d * pden for d in dens]
    return out


def _int_rows(rows: list) -> list[tuple[int, ...]]:
    """Positive integer multiples of rational rows (same signs everywhere)."""
    out = []
    for r in rows:
        den = 1
        for v in r:
            den = den * v.denominator // math.gcd(den, v.denominator)
        out.append(tuple(int(v.numerator * (den // v.denominator)) for v in r))
    return out


def _point_ints(x) -> tuple[list[int], int]:
    den = 1
    for v in x:
        den = den * v.denominator // math.gcd(den, v.denominator)
    return [v.numerator * (den // v.denominator) for v in x], den


def _sign(row: tuple[int, ...], num: list[int], den: int) -> int:
    """Sign of a . x + c at x = num / den (den > 0)."""
    v = sum(a * n for a, n in zip(row, num)) + row[-1] * den
    return (v > 0) - (v < 0)


def verify_partition(part: "Partition", *, graph: bool = True) -> None:
    net = part.net
    D = net.input_dim
    codes = [r.code for r in part]
    if len(set(codes)) != len(codes):
        raise CertificateError("two regions have the same code")
    A_dom, b_dom = part._engine.A_dom, part._engine.b_dom
    dom_rows = _int_rows([tuple([-v for v in A_dom[i]] + [b_dom[i]]) for i in range(A_dom.shape[0])])
    # (2) interior points: strictly inside the facet rows; the forward pass gives the code
    points = [list(r.point) for r in part]
    for a in range(0, len(points), 2048):
        got = net.code(np.array(points[a:a + 2048], dtype=object).reshape(-1, D))
        for n, c in enumerate(got):
            if c != codes[a + n]:
                raise CertificateError(f"region {a + n}: the forward pass gives its point another code")
    # (3) vertices: each distinct vertex is evaluated once
    Vs = [r.vertices() for r in part]
    ids: dict[tuple, int] = {}
    vid = [[ids.setdefault(tuple(v), len(ids)) for v in V] for V in Vs]
    distinct = list(ids)
    masks = _maximal_pieces(_layer_pieces(net), distinct)
    ints = [_point_ints(v) for v in distinct]
    outside = [q for q, (num, den) in enumerate(ints) if any(_sign(r, num, den) < 0 for r in dom_rows)]
    if outside:
        raise CertificateError(f"vertex {[str(t) for t in distinct[outside[0]]]} lies outside the domain")
    total = Fraction(0)
    for reg, V, q in zip(part, Vs, vid):
        rows = _int_rows(reg.facet_rows())
        num, den = _point_ints(points[reg.index])
        bad = [i for i, r in enumerate(rows) if _sign(r, num, den) <= 0]
        if bad:
            raise CertificateError(f"region {reg.index}: its point is not strictly inside facet {bad[0]}")
        for l, c in enumerate(reg.code):
            ok = (masks[l][q] >> np.asarray(c, dtype=np.int64)) & 1
            if not ok.all():
                n, k = (int(t) for t in np.argwhere(ok == 0)[0])
                raise CertificateError(f"region {reg.index}: at vertex {n}, unit {k} of layer {l} does not take piece {c[k]}")
        F = np.zeros((len(V), len(rows)), dtype=bool)
        for n, qq in enumerate(q):
            vn, vd = ints[qq]
            for j, r in enumerate(rows):
                sgn = _sign(r, vn, vd)
                if sgn < 0:
                    raise CertificateError(f"region {reg.index}: facet row {j} is negative at vertex {n}")
                F[n, j] = sgn == 0
        F = F[:, _maximal_columns(F, D)]
        total += volume_from_incidence(V, F)
    dom_volume = _domain_volume(part)
    if total != dom_volume:
        raise CertificateError(f"the regions' volumes sum to {total}; the domain's volume is {dom_volume}")
    if graph:
        _verify_graph(part)


def _maximal_columns(F: np.ndarray, D: int) -> list[int]:
    sets = [frozenset(np.flatnonzero(F[:, j]).tolist()) for j in range(F.shape[1])]
    keep = []
    for j, s in enumerate(sets):
        if len(s) < D:
            continue
        if any(s < t for t in sets) or any(s == sets[i] for i in keep):
            continue
        keep.append(j)
    return keep


def _domain_volume(part: "Partition") -> Fraction:
    dom = part.domain
    vol = getattr(dom, "volume", None)
    if callable(vol):
        return vol()
    from ._engine import domain_vertices

    V, F = domain_vertices(part._engine.A_dom, part._engine.b_dom)
    Vn = np.array(V, dtype=object)
    return volume_from_incidence(Vn, F[:, _maximal_columns(F, Vn.shape[1])])


def _verify_graph(part: "Partition") -> None:
    from .graph import edge_point

    rows_of: dict[int, list] = {}
    for i, j, data in part.graph.edges(data=True):
        num, den = _point_ints(edge_point(part, i, j))
        a, b = data["facets"]
        for reg_idx, col in (a, b):
            rows = rows_of.get(reg_idx)
            if rows is None:
                rows = rows_of[reg_idx] = _int_rows(part[reg_idx].facet_rows())
            for c, r in enumerate(rows):
                sgn = _sign(r, num, den)
                if c == col and sgn != 0:
                    raise CertificateError(f"edge ({i}, {j}): its point is not on the shared facet of region {reg_idx}")
                if c != col and sgn <= 0:
                    raise CertificateError(
                        f"edge ({i}, {j}): its point is not in the relative interior of region {reg_idx}'s facet"
                    )
