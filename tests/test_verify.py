"""Partition.verify accepts true partitions and rejects every tampered claim, naming it.

The tampering suite alters every field that a Partition, a Region or the graph exposes, one
at a time, and checks that verify() raises CertificateError with a message that names the
region (or edge) and the claim that failed.  Partitions in 2-D and 3-D.
"""

from __future__ import annotations

import re
from fractions import Fraction as F

import numpy as np
import pytest

import exactmaso as em
from exactmaso.engine.cells import RegionRecord
from exactmaso.maso import Affine
from exactmaso.polytope import Polytope


def _net(D: int, seed: int) -> em.Network:
    rng = np.random.default_rng(seed)
    return em.mlp([rng.integers(-3, 4, size=(5, D)), rng.integers(-3, 4, size=(4, 5)), [[1, -1, 2, 1]]],
                  [rng.integers(-2, 3, size=5), rng.integers(-2, 3, size=4), [0]])


@pytest.fixture(params=[2, 3], ids=["2-D", "3-D"])
def part(request):
    D = request.param
    p = em.regions(_net(D, 3), em.Box([-2] * D, [2] * D))
    assert len(p) > 8
    p.verify()  # the true partition passes
    p._tamper_ok = True
    return p


def _rejects(part, pattern: str) -> None:
    with pytest.raises(em.CertificateError, match=pattern):
        part.verify()


def _inner(part) -> int:
    """A region with a non-domain facet."""
    return next(r.index for r in part if any(lab[0] != "d" for lab in r.facet_labels))


# -- the set of regions -------------------------------------------------------------------
def test_missing_region(part):
    part._regions.pop()
    _rejects(part, "volumes sum to")


def test_duplicated_region(part):
    part._regions.append(part._regions[0])
    _rejects(part, r"region \d+: its index|same code")


def test_regions_swapped_in_order(part):
    part._regions[1], part._regions[2] = part._regions[2], part._regions[1]
    _rejects(part, r"region 1: its index says 2")


def test_wrong_code(part):
    reg = part._regions[2]
    code = [list(c) for c in reg.code]
    code[0][0] = 1 - code[0][0]
    reg._rec = RegionRecord(tuple(tuple(c) for c in code), reg._rec.geom, None, None)
    reg._cache.clear()
    _rejects(part, r"region 2: |regions (\d+ and )?2( and \d+)? have the same code")


# -- facets ---------------------------------------------------------------------------------
def test_domain_facet_row_loosened_by_2_to_the_minus_60(part):
    reg = next(r for r in part if any(lab[0] == "d" for lab in r.facet_labels))
    rows = list(reg.facet_rows())
    t = next(t for t, lab in enumerate(reg.facet_labels) if lab[0] == "d")
    rows[t] = rows[t][:-1] + (rows[t][-1] + F(1, 2 ** 60),)
    reg._cache["rows"] = rows
    _rejects(part, rf"region {reg.index}: facet row {t} is not the row of its label")


def test_unit_facet_row_changed(part):
    reg = part[_inner(part)]
    rows = list(reg.facet_rows())
    t = next(t for t, lab in enumerate(reg.facet_labels) if lab[0] != "d")
    rows[t] = tuple(v * 2 for v in rows[t][:-1]) + (rows[t][-1] * 2 + F(1, 2 ** 40),)
    reg._cache["rows"] = rows
    _rejects(part, rf"region {reg.index}: facet row {t} is not the row of its label")


def test_facet_label_changed(part):
    reg = part[_inner(part)]
    labels = reg._rec.geom.labels
    t = next(t for t, lab in enumerate(labels) if lab[0] != "d")
    l, k, r, s = labels[t]
    other = (k + 1) % part.net.masos[l].num_units
    labels[t] = (l, other, r, s)
    reg._cache.clear()
    _rejects(part, rf"region {reg.index}: ")


def test_facet_row_removed(part):
    reg = part[_inner(part)]
    rows = list(reg.facet_rows())
    labels = reg._rec.geom.labels
    t = next(t for t, lab in enumerate(labels) if lab[0] != "d")
    del rows[t]
    del labels[t]
    reg._rec.geom.F = np.delete(reg._rec.geom.F, t, axis=1)
    reg._cache.clear()
    reg._cache["rows"] = rows
    _rejects(part, rf"region {reg.index}: ")


def test_polytope_differs_from_the_rows(part):
    reg = part[3]
    P = reg.polytope
    b = P.b.copy()
    b[0] = b[0] + F(1, 2 ** 60)
    reg._cache["polytope"] = Polytope(P.A, b, check=False)
    _rejects(part, r"region 3: its polytope differs from its facet rows")


# -- points and vertices -------------------------------------------------------------------
def test_point_outside_the_region(part):
    reg, other = part[1], part[len(part) - 1]
    reg._cache["point"] = other.point
    _rejects(part, r"region 1: ")


def test_moved_vertex(part):
    reg = part[1]
    V = reg.vertices().copy()
    V[0] = [v + F(1, 997 * (j + 1)) for j, v in enumerate(V[0])]
    reg._cache["vertices"] = V
    _rejects(part, r"region 1: ")


def test_non_vertex_added(part):
    reg = part[2]
    V = reg.vertices()
    mid = [sum(V[:, j], F(0)) / len(V) for j in range(V.shape[1])]
    reg._cache["vertices"] = np.vstack([V, np.array([mid], dtype=object)])
    _rejects(part, r"region 2: vertex \d+ is not a vertex")


def test_edge_midpoint_added_as_a_vertex(part):
    reg = part[2]
    V = reg.vertices()
    D = V.shape[1]
    rows = reg.facet_rows()
    # two vertices on D - 1 common facets span an edge; its midpoint is on the boundary
    tight = [{t for t, r in enumerate(rows) if sum(r[j] * v[j] for j in range(D)) + r[D] == 0} for v in V]
    a, b = next((a, b) for a in range(len(V)) for b in range(a + 1, len(V)) if len(tight[a] & tight[b]) >= D - 1)
    mid = [(V[a][j] + V[b][j]) / 2 for j in range(D)]
    reg._cache["vertices"] = np.vstack([V, np.array([mid], dtype=object)])
    _rejects(part, r"region 2: vertex \d+ is not a vertex")


def test_vertex_removed(part):
    reg = part[2]
    reg._cache["vertices"] = reg.vertices()[1:]
    _rejects(part, r"region 2: ")


def test_vertex_listed_twice(part):
    reg = part[2]
    V = reg.vertices()
    reg._cache["vertices"] = np.vstack([V, V[:1]])
    _rejects(part, r"region 2: a vertex is listed twice")


# -- maps and measures ---------------------------------------------------------------------
def test_affine_maps_swapped(part):
    i, j = next((a, b) for a in range(len(part)) for b in range(a + 1, len(part)) if part[a].affine != part[b].affine)
    part[i]._cache["affine"], part[j]._cache["affine"] = part[j].affine, part[i].affine
    _rejects(part, rf"region {i}: its affine map is not the network.s map on its code")


def test_affine_offset_changed(part):
    reg = part[4]
    aff = reg.affine
    b = aff.b.copy()
    b[0] = b[0] + F(1, 2 ** 60)
    reg._cache["affine"] = Affine(aff.A, b)
    _rejects(part, r"region 4: its affine map")


def test_volume_changed(part):
    reg = part[0]
    reg._cache["volume"] = reg.volume() + F(1, 2 ** 60)
    _rejects(part, r"region 0: its volume is")


def test_volumes_traded_between_regions(part):
    v0, v1 = part[0].volume(), part[1].volume()
    assert v0 != v1
    part[0]._cache["volume"], part[1]._cache["volume"] = v1, v0
    _rejects(part, r"region 0: its volume is")


# -- the graph -----------------------------------------------------------------------------
def test_edge_removed(part):
    G = part.graph
    i, j = next(iter(G.edges))
    G.remove_edge(i, j)
    _rejects(part, r"region \d+: facet \d+ is not covered by its graph neighbours")


def test_edge_added_between_regions_touching_at_a_vertex_only(part):
    G = part.graph
    keys = [{tuple(v) for v in r.vertices()} for r in part]
    D = part.net.input_dim
    pair = next(((a, b) for a in range(len(part)) for b in range(a + 1, len(part))
                 if not G.has_edge(a, b) and 0 < len(keys[a] & keys[b]) < D), None)
    if pair is None:
        pytest.skip("no two regions touch in a lower-dimensional face only")
    a, b = pair
    units = tuple(sorted((l, k) for l, (x, y) in enumerate(zip(part[a].code, part[b].code))
                         for k, (p, q) in enumerate(zip(x, y)) if p != q))
    G.add_edge(a, b, units=units)
    _rejects(part, rf"edge \({a}, {b}\): the two regions share no \(D-1\)-dimensional face")


def test_edge_added_between_distant_regions(part):
    G = part.graph
    keys = [{tuple(v) for v in r.vertices()} for r in part]
    a, b = next((a, b) for a in range(len(part)) for b in range(a + 1, len(part)) if not keys[a] & keys[b])
    G.add_edge(a, b, units=((0, 0),))
    _rejects(part, rf"edge \({a}, {b}\): ")


def test_edge_units_changed(part):
    G = part.graph
    i, j, data = next(iter(G.edges(data=True)))
    data["units"] = tuple(data["units"]) + ((len(part.net.masos) - 1, 0),)
    _rejects(part, rf"edge \({i}, {j}\): its units")


def test_graph_node_added(part):
    part.graph.add_node(len(part))
    _rejects(part, r"the graph's nodes are not the regions")


def test_self_loop_added(part):
    part.graph.add_edge(0, 0, units=())
    _rejects(part, r"edge \(0, 0\): a region is not adjacent to itself")


def test_messages_name_the_claim(part):
    """Every message above names a region or an edge: a spot check of the format."""
    reg = part[0]
    reg._cache["volume"] = F(-1)
    with pytest.raises(em.CertificateError) as info:
        part.verify()
    assert re.match(r"region 0: its volume is -1; its vertices span volume \d+(/\d+)?$", str(info.value))
