"""Independent exact re-check of a partition (plain Fractions and the exact forward pass).

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

from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from .errors import CertificateError
from .geometry import volume_from_incidence

if TYPE_CHECKING:  # pragma: no cover
    from .regions import Partition

__all__ = ["verify_partition"]


def _row_value(row, x, D: int) -> Fraction:
    return sum(row[j] * x[j] for j in range(D)) + row[D]


def _unit_pieces_at(net, X: np.ndarray):
    """Exact piece values of every unit at each point: list over layers of (N, K, R) lists."""

    out = []
    z = X
    for m in net.masos:
        K, R, _ = m.A.shape
        vals = z.dot(m.A.reshape(K * R, -1).T) + m.B.reshape(1, K * R)
        vals = vals.reshape(len(z), K, R)
        out.append(vals)
        z = vals.max(axis=2)
    return out


def verify_partition(part: "Partition", *, graph: bool = True) -> None:
    net = part.net
    D = net.input_dim
    codes = [r.code for r in part]
    if len(set(codes)) != len(codes):
        raise CertificateError("two regions have the same code")
    A_dom, b_dom = part._engine.A_dom, part._engine.b_dom
    total = Fraction(0)
    for reg in part:
        rows = reg.facet_rows()
        p = list(reg.point)
        bad = [i for i, r in enumerate(rows) if not _row_value(r, p, D) > 0]
        if bad:
            raise CertificateError(f"region {reg.index}: its point is not strictly inside facet {bad[0]}")
        if net.code(np.array(p, dtype=object)) != reg.code:
            raise CertificateError(f"region {reg.index}: the forward pass gives its point another code")
        V = reg.vertices()
        for v in V:
            if any(sum(A_dom[i, j] * v[j] for j in range(D)) > b_dom[i] for i in range(A_dom.shape[0])):
                raise CertificateError(f"region {reg.index}: vertex {[str(t) for t in v]} lies outside the domain")
        pieces = _unit_pieces_at(net, V)
        for l, vals in enumerate(pieces):
            chosen = reg.code[l]
            for n in range(len(V)):
                for k, c in enumerate(chosen):
                    if any(vals[n, k, c] < w for w in vals[n, k]):
                        raise CertificateError(
                            f"region {reg.index}: at vertex {n}, unit {k} of layer {l} does not take piece {c}"
                        )
        F = np.zeros((len(V), len(rows)), dtype=bool)
        for j, r in enumerate(rows):
            for n, v in enumerate(V):
                val = _row_value(r, v, D)
                if val < 0:
                    raise CertificateError(f"region {reg.index}: facet row {j} is negative at vertex {n}")
                F[n, j] = val == 0
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

    D = part.net.input_dim
    for i, j, data in part.graph.edges(data=True):
        x = edge_point(part, i, j)
        a, b = data["facets"]
        for reg_idx, col in (a, b):
            rows = part[reg_idx].facet_rows()
            for c, r in enumerate(rows):
                v = _row_value(r, x, D)
                if c == col and v != 0:
                    raise CertificateError(f"edge ({i}, {j}): its point is not on the shared facet of region {reg_idx}")
                if c != col and not v > 0:
                    raise CertificateError(
                        f"edge ({i}, {j}): its point is not in the relative interior of region {reg_idx}'s facet"
                    )
