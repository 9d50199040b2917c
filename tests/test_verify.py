"""Partition.verify accepts true partitions and rejects every tampered claim, naming it.

The tampering suite alters every field that a Partition, a Region or the graph exposes, one
at a time, and checks that verify() raises CertificateError with a message that names the
region (or edge) and the claim that failed.  Partitions in 2-D and 3-D.  Values the regions
have not computed yet are proposed by their records (incidences), which are tampered too.
The batched machinery itself is tested in tests/test_verify_batched.py.
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


def test_wrong_code_at_a_unit_far_from_the_region(part):
    """A unit of the last hidden layer away from the region flipped: no facet row depends on
    it, and the float forward pass proves the flipped piece below at the vertices."""
    reg = part._regions[2]
    l = len(reg.code) - 2
    on = {lab[:2] for lab in reg.facet_labels if lab[0] != "d"}
    k = next(k for k in range(len(reg.code[l])) if (l, k) not in on)
    code = [list(c) for c in reg.code]
    code[l][k] = 1 - code[l][k]
    reg._rec = RegionRecord(tuple(tuple(c) for c in code), reg._rec.geom, None, None)
    reg._cache.clear()
    _rejects(part, rf"region 2: at vertex \d+, unit {k} of layer {l} does not take piece {code[l][k]}"
                   r"|regions (\d+ and )?2( and \d+)? have the same code")


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


# -- claims the user has not read yet: the record proposes, the checker decides ---------------
def _fresh(part):
    """The fixture's partition with every computed value forgotten (as after em.regions)."""
    for r in part:
        r._cache.clear()
    part._graph = None
    return part


def test_fresh_partition_passes_and_stores_what_it_proved(part):
    _fresh(part)
    part.verify()
    r = part[3]
    assert {"rows", "vertices", "point", "affine", "volume"} <= set(r._cache)
    assert r.volume() == r.polytope.volume()  # the exact double description of polytope.py agrees
    assert r.affine == part.net.affine_map(code=r.code)
    assert part.net.code(r.point) == r.code


def test_record_incidence_of_a_vertex_moved_to_another_vertex(part):
    _fresh(part)
    reg = part[_inner(part)]
    F = reg._rec.geom.F
    q = next(q for q in range(len(F)) if (F[q] != F[0]).any())
    F[q] = F[0]  # vertex q now claims the facets of vertex 0: the two solve to one point
    _rejects(part, rf"region {reg.index}: a vertex is listed twice")


def test_record_incidence_off_by_one_facet(part):
    _fresh(part)
    reg = part[_inner(part)]
    F = reg._rec.geom.F
    q = 0
    on = np.flatnonzero(F[q])
    off = np.flatnonzero(~F[q])
    F[q, on[0]], F[q, off[0]] = False, True  # one facet swapped for one the vertex is not on
    _rejects(part, rf"region {reg.index}: ")


def test_point_on_a_facet(part):
    reg = part[_inner(part)]
    V = reg.vertices()
    D = V.shape[1]
    rows = reg.facet_rows()
    # the midpoint of two vertices of one facet lies on that facet, not strictly inside
    t, (a, b) = next((t, ab) for t, row in enumerate(rows)
                     for ab in [[q for q in range(len(V)) if sum(row[j] * V[q][j] for j in range(D)) + row[D] == 0][:2]]
                     if len(ab) == 2)
    reg._cache["point"] = np.array([(V[a][j] + V[b][j]) / 2 for j in range(D)], dtype=object)
    _rejects(part, rf"region {reg.index}: its point is not strictly inside facet row {t}")


def test_rows_reported_but_polytope_not_yet(part):
    reg = part[2]
    rows = list(reg.facet_rows())
    reg._cache.pop("polytope", None)
    rows[0] = tuple(v * 3 for v in rows[0])  # the same half-space, but not the label's row
    reg._cache["rows"] = rows
    _rejects(part, r"region 2: facet row 0 is not the row of its label")


def test_polytope_reported_rows_not_yet(part):
    reg = part[2]
    P = reg.polytope
    reg._cache.pop("rows")
    A = P.A.copy()
    A[0] = [v * 2 for v in A[0]]
    b = P.b.copy()
    b[0] = b[0] * 2  # the same half-space again, not the same rows
    reg._cache["polytope"] = Polytope(A, b, check=False)
    _rejects(part, r"region 2: its polytope differs from its facet rows")


def test_affine_matrix_entry_changed(part):
    reg = part[5]
    aff = reg.affine
    A = aff.A.copy()
    A[0, 0] = A[0, 0] + F(1, 2 ** 70)
    reg._cache["affine"] = Affine(A, aff.b)
    _rejects(part, r"region 5: its affine map is not the network.s map on its code")


def test_affine_with_an_extra_output(part):
    reg = part[5]
    aff = reg.affine
    reg._cache["affine"] = Affine(np.vstack([aff.A, aff.A]), np.concatenate([aff.b, aff.b]))
    _rejects(part, r"region 5: its affine map is not the network.s map on its code")


def test_volume_changed_on_a_fresh_partition(part):
    _fresh(part)
    part[6]._cache["volume"] = F(1, 3)
    _rejects(part, r"region 6: its volume is 1/3; its vertices span volume")


def test_regions_merged_into_one_code(part):
    """Two neighbours given one code: same code, or (if one is renumbered) a missing volume."""
    G = part.graph
    i, j = next(iter(G.edges))
    b = part._regions[j]
    b._rec = RegionRecord(part[i].code, b._rec.geom, None, None)
    b._cache.clear()
    _rejects(part, rf"regions {min(i, j)} and {max(i, j)} have the same code")


def test_edge_between_regions_on_one_line_that_do_not_touch(part):
    """Facets on one hyperplane with opposite orientations but apart: the exact clip is empty."""
    G = part.graph
    facets = {}
    for r in part:
        for t, row in enumerate(r.facet_rows()):
            key = _line(row)
            facets.setdefault(key[0], []).append((r.index, key[1]))
    pair = None
    for key, side in facets.items():
        for a, oa in side:
            for b, ob in side:
                if a < b and oa != ob and not G.has_edge(a, b) and not ({tuple(v) for v in part[a].vertices()}
                                                                          & {tuple(v) for v in part[b].vertices()}):
                    pair = (a, b)
                    break
            if pair:
                break
        if pair:
            break
    if pair is None:
        pytest.skip("no two regions on opposite sides of one hyperplane, apart")
    a, b = pair
    units = tuple(sorted((l, k) for l, (x, y) in enumerate(zip(part[a].code, part[b].code))
                         for k, (p, q) in enumerate(zip(x, y)) if p != q))
    G.add_edge(a, b, units=units)
    _rejects(part, rf"edge \({a}, {b}\): the two regions share no \(D-1\)-dimensional face")


def _line(row):
    """(the row as primitive integers, first non-zero positive; orientation +-1)."""
    from math import gcd, lcm

    den = lcm(*(v.denominator for v in row))
    ints = [int(v * den) for v in row]
    g = 0
    for v in ints:
        g = gcd(g, v)
    ints = tuple(v // g for v in ints)
    lead = next(v for v in ints if v)
    return (ints, 1) if lead > 0 else (tuple(-v for v in ints), -1)


def test_graph_not_checked_when_asked(part):
    from exactmaso.verify import verify_partition

    part.graph.add_edge(0, 0, units=())
    verify_partition(part, graph=False)  # the regions' claims only
    with pytest.raises(em.CertificateError, match=r"edge \(0, 0\)"):
        verify_partition(part)


# -- a unit identically zero: only the tie rule at the point tells its code -------------------
def test_code_of_a_unit_tied_everywhere():
    """Unit 2 of layer 0 is the zero function: both pieces are maxima everywhere, so the
    vertices cannot tell its code; the forward pass at an interior point takes piece 0."""
    net = em.mlp([[[1, 0], [0, 1], [0, 0]], [[1, 2, 3]]], [[F(1, 3), F(-1, 5), 0], [0]])
    part = em.regions(net, em.Box([-1, -1], [1, 1]))
    part.verify()
    assert {r.code[0][2] for r in part} == {0}
    reg = part._regions[1]
    code = [list(c) for c in reg.code]
    code[0][2] = 1
    reg._rec = RegionRecord(tuple(tuple(c) for c in code), reg._rec.geom, None, None)
    reg._cache.clear()
    _rejects(part, r"region 1: the forward pass at its point gives another code \(at layer 0\)")


def test_progress_line(part, capsys):
    _fresh(part)
    part.verify(progress=True)
    err = capsys.readouterr().err
    assert err.startswith("\rexactmaso: ") and err.endswith("\n")
    assert f"exactmaso: verified {len(part):,} regions" in err.splitlines()[-1].split("\r")[-1]


def test_no_regions_at_all(part):
    part._regions.clear()
    _rejects(part, r"the regions' volumes sum to 0; the domain's volume is \d+")


def test_facet_label_as_a_list(part):
    reg = part[_inner(part)]
    labels = reg._rec.geom.labels
    t = next(t for t, lab in enumerate(labels) if lab[0] != "d")
    labels[t] = list(labels[t])
    _rejects(part, rf"region {reg.index}: facet label \[.*\] is not a domain row \('d', i\) or a unit")


def test_facet_labels_of_numpy_integers_pass(part):
    for r in part:
        r._rec.geom.labels[:] = [("d", np.int64(lab[1])) if lab[0] == "d" else tuple(np.int64(v) for v in lab)
                                 for lab in r._rec.geom.labels]
    part.verify()
