"""Adjacency graph, hierarchy, linear pieces and decision boundary of a partition (issue 3).

Adjacency counts from the theory of hyperplane arrangements: n hyperplanes in general position
in R^d have n * sum_{i<=d-1} C(n-1, i) facets (each hyperplane is cut by the other n-1, in
general position in R^{d-1}), and two regions of an arrangement share at most one facet.  In a
box holding every vertex strictly inside, with n >= d, every face of the arrangement has a
vertex (the normals span R^d, so every face is pointed), hence meets the open box: clipping
loses neither a region nor an adjacency, and the box's own facets are never edges.

In 2-D the graph is compared with a brute-force oracle: two oracle polygons are adjacent iff
they share a boundary segment of positive length.  In any dimension an edge must be a real
(D-1)-face: the intersection of the two closed polytopes has affine dimension exactly D-1.
"""

from __future__ import annotations

from fractions import Fraction
from itertools import combinations

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import exactmaso as em

try:
    from oracle import (
        F,
        affine_rank,
        arrangement_vertices,
        box_around,
        frac,
        general_layer,
        general_position_edges,
        make_net,
        oracle_adjacency_2d,
        oracle_cells,
        one_hidden_layer,
        point_tuple,
        polytope_rows,
        preactivations,
        telgarsky,
        vertices_hrep,
    )
except ImportError:  # tests/ as a package
    from tests.oracle import (  # type: ignore[no-redef]
        F,
        affine_rank,
        arrangement_vertices,
        box_around,
        frac,
        general_layer,
        general_position_edges,
        make_net,
        oracle_adjacency_2d,
        oracle_cells,
        one_hidden_layer,
        point_tuple,
        polytope_rows,
        preactivations,
        telgarsky,
        vertices_hrep,
    )

SQ = ([F(-1), F(-1)], [F(1), F(1)])


def partition(weights, biases, lo, hi):
    net = make_net(weights, biases)
    return net, em.regions(net, em.Box(lo, hi))


def shared_face(part, i, j):
    """Exact vertices of the intersection of the two closed regions."""
    rows = polytope_rows(part[i].polytope) + polytope_rows(part[j].polytope)
    return vertices_hrep([a for a, _ in rows], [b for _, b in rows])


def differing_units(c1, c2):
    return {(l, k) for l, (t1, t2) in enumerate(zip(c1, c2)) for k, (u, v) in enumerate(zip(t1, t2)) if u != v}


def edge_units(G, i, j):
    units = G.edges[i, j]["units"]
    return {(int(l), int(k)) for l, k in units}


def check_graph_basics(part):
    G = part.graph
    assert isinstance(G, nx.Graph) and not G.is_directed()
    assert set(G.nodes) == set(range(len(part)))
    assert nx.number_of_selfloops(G) == 0
    for i, j in G.edges:
        assert G.has_edge(j, i)
        assert "units" in G.edges[i, j]
    return G


def check_edges_are_faces(part, weights, biases, *, check_non_edges=True):
    """Every edge is a (D-1)-face on the zero set of each listed unit, and lists at least one of
    the units that flip across it; (optionally) no other pair of regions shares a (D-1)-face."""
    D = part.net.input_dim
    G = check_graph_basics(part)
    for i, j in G.edges:
        face = shared_face(part, i, j)
        assert affine_rank(face) == D - 1, f"edge {i}-{j}: the closures meet in dimension {affine_rank(face)}"
        units = edge_units(G, i, j)
        diff = differing_units(part[i].code, part[j].code)
        assert diff, f"edge {i}-{j}: the two codes are equal"
        assert units & diff, f"edge {i}-{j}: units {units} hold none of the flipped units {diff}"
        for v in face:
            pre = preactivations(weights, biases, v)
            for l, k in units:
                assert l < len(weights) - 1, f"edge {i}-{j}: unit {(l, k)} is in the affine output layer"
                assert pre[l][k] == 0, f"edge {i}-{j}: unit {(l, k)} is {pre[l][k]} on the face at {v}, not 0"
    if check_non_edges:
        for i, j in combinations(range(len(part)), 2):
            if not G.has_edge(i, j):
                assert affine_rank(shared_face(part, i, j)) < D - 1, f"regions {i}, {j} share a facet but no edge"


# ---------------------------------------------------------------------------------------------
# counts from theory
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "d,n,seed", [(1, 1, 0), (1, 4, 0), (2, 2, 0), (2, 3, 0), (2, 5, 0), (2, 6, 1), (3, 3, 0), (3, 4, 0), (3, 5, 0), (3, 4, 3)]
)
def test_general_position_edges(d, n, seed):
    W, b = general_layer(n, d, seed)
    lo, hi = box_around(arrangement_vertices(W, b), d)
    weights, biases = one_hidden_layer(W, b)
    net, part = partition(weights, biases, lo, hi)
    G = check_graph_basics(part)
    assert G.number_of_edges() == general_position_edges(n, d)
    for i, j in G.edges:
        diff = differing_units(part[i].code, part[j].code)
        assert len(diff) == 1, f"general position: adjacent regions differ in one unit, got {diff}"
        assert edge_units(G, i, j) == diff
    if d <= 2 or n <= 4:
        check_edges_are_faces(part, weights, biases, check_non_edges=(d <= 2 or n <= 3))


def test_general_position_edges_hand_checked():
    """Three lines x = 0, y = 0, x + y = 1/2 on [-1, 1]^2: 7 regions, 9 = 3 * 3 edges (each line
    is cut into 3 segments by the other two)."""
    W, b = [[F(1), F(0)], [F(0), F(1)], [F(1), F(1)]], [F(0), F(0), F(-1, 2)]
    weights, biases = one_hidden_layer(W, b)
    net, part = partition(weights, biases, *SQ)
    assert len(part) == 7
    assert part.graph.number_of_edges() == 9
    # the triangle x, y > 0, x + y < 1/2 touches the other three around it, nothing else
    tri = part.index_of(((1, 1, 0), (0,))) if hasattr(part, "index_of") else next(
        r.index for r in part if r.code == ((1, 1, 0), (0,))
    )
    nbrs = {part[j].code[0] for j in part.graph.neighbors(tri)}
    assert nbrs == {(0, 1, 0), (1, 0, 0), (1, 1, 1)}


@pytest.mark.parametrize("L", [1, 2, 3, 5])
def test_sawtooth_graph_is_a_path(L):
    weights, biases = telgarsky(L)
    net, part = partition(weights, biases, [F(0)], [F(1)])
    G = check_graph_basics(part)
    assert G.number_of_edges() == 2**L - 1
    assert nx.is_connected(G) and max(d for _, d in G.degree) <= 2
    # neighbours are consecutive intervals
    left = {i: min(point_tuple(v)[0] for v in part[i].vertices()) for i in range(len(part))}
    right = {i: max(point_tuple(v)[0] for v in part[i].vertices()) for i in range(len(part))}
    for i, j in G.edges:
        assert right[i] == left[j] or right[j] == left[i]


# ---------------------------------------------------------------------------------------------
# against the 2-D adjacency oracle
# ---------------------------------------------------------------------------------------------

GRAPH_NETS = {
    "two_layers": (
        [[[F(1), F(2)], [F(-1), F(1, 2)], [F(1, 3), F(-1)]], [[F(1), F(-1), F(2)], [F(-2), F(1), F(1)]], [[F(1), F(3)]]],
        [[F(1, 4), F(-1, 3), F(0)], [F(1, 5), F(-1, 7)], [F(0)]],
    ),
    "concurrent": one_hidden_layer([[F(1), F(0)], [F(0), F(1)], [F(1), F(-1)], [F(1), F(1)]], [F(0)] * 4),
    "duplicates": one_hidden_layer([[F(1), F(1)], [F(2), F(2)], [F(-1), F(-1)], [F(1), F(-1)]], [F(0), F(0), F(0), F(1, 3)]),
    "edge_and_corner": one_hidden_layer([[F(1), F(0)], [F(1), F(1)], [F(0), F(1)], [F(1), F(-1)]], [F(-1), F(-2), F(0), F(0)]),
    "integer_grid": one_hidden_layer(
        [[F(a), F(c)] for a in (-1, 0, 1) for c in (-1, 0, 1) if (a, c) != (0, 0)], [F((a + c) % 3 - 1) for a in range(3) for c in range(3) if (a, c) != (1, 1)]
    ),
    "deep_coincident": (
        [[[F(1), F(0)], [F(0), F(1)]], [[F(1), F(0)], [F(-1), F(0)], [F(1), F(-1)]], [[F(1), F(2), F(3)]]],
        [[F(0), F(0)], [F(0), F(0), F(0)], [F(0)]],
    ),
}


@pytest.mark.parametrize("name", list(GRAPH_NETS))
def test_graph_vs_oracle_2d(name):
    weights, biases = GRAPH_NETS[name]
    net, part = partition(weights, biases, *SQ)
    cells = oracle_cells(weights, biases, *SQ)
    adj = oracle_adjacency_2d(cells)
    got = {frozenset((part[i].code, part[j].code)) for i, j in part.graph.edges}
    assert got == set(adj), f"missing {list(set(adj) - got)[:3]}, extra {list(got - set(adj))[:3]}"
    check_edges_are_faces(part, weights, biases)
    # the oracle's shared segment lies on the zero set of every listed unit
    G = part.graph
    for i, j in G.edges:
        seg = adj[frozenset((part[i].code, part[j].code))]
        for v in seg:
            pre = preactivations(weights, biases, v)
            assert all(pre[l][k] == 0 for l, k in edge_units(G, i, j))


def check_units_complete(part):
    """Every unit that flips across an edge has its boundary on the face (a continuous
    pre-activation that is > 0 on one side and <= 0 on the other vanishes on the face), so the
    "units" attribute, "the (layer, unit) pairs whose boundary holds it", must list it."""
    G = part.graph
    for i, j in G.edges:
        diff = differing_units(part[i].code, part[j].code)
        units = edge_units(G, i, j)
        assert diff <= units, (
            f"edge {i}-{j} (codes {part[i].code} / {part[j].code}): units {sorted(units)} miss the flipped "
            f"units {sorted(diff - units)}"
        )


@pytest.mark.parametrize("name", ["duplicates", "deep_coincident"])
def test_units_list_every_unit_holding_the_face(name):
    """Duplicated / negated hyperplanes and a deeper unit whose boundary coincides with a
    first-layer one: all the units whose boundary holds a face are listed."""
    weights, biases = GRAPH_NETS[name]
    net, part = partition(weights, biases, *SQ)
    check_units_complete(part)


small_fracs = st.fractions(min_value=-2, max_value=2, max_denominator=3)


@st.composite
def small_nets_2d(draw):
    widths = [2, draw(st.integers(2, 5))]
    if draw(st.booleans()):
        widths.append(draw(st.integers(2, 3)))
    widths.append(1)
    weights, biases = [], []
    for i in range(len(widths) - 1):
        weights.append([[draw(small_fracs) for _ in range(widths[i])] for _ in range(widths[i + 1])])
        biases.append([draw(small_fracs) for _ in range(widths[i + 1])])
    return weights, biases


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(small_nets_2d())
def test_hypothesis_graph_vs_oracle(wb):
    """Adjacency is symmetric, every edge is a real 1-face with the right units, and the edge set
    is the oracle's."""
    weights, biases = wb
    net, part = partition(weights, biases, *SQ)
    adj = oracle_adjacency_2d(oracle_cells(weights, biases, *SQ))
    got = {frozenset((part[i].code, part[j].code)) for i, j in part.graph.edges}
    assert got == set(adj)
    check_edges_are_faces(part, weights, biases, check_non_edges=False)


def test_graph_3d_faces():
    """A two-layer 3-D net: every edge is a 2-face, and every pair sharing a 2-face is an edge."""
    weights = [
        [[F(1), F(-1), F(0)], [F(0), F(1), F(1, 2)], [F(1), F(1), F(1)]],
        [[F(1), F(-1), F(1)], [F(-1, 2), F(1), F(1)]],
        [[F(1), F(2)]],
    ]
    biases = [[F(1, 3), F(0), F(-1, 2)], [F(0), F(-1, 4)], [F(0)]]
    lo, hi = [F(-1)] * 3, [F(1)] * 3
    net, part = partition(weights, biases, lo, hi)
    assert len(part) == len(oracle_cells(weights, biases, lo, hi))
    check_edges_are_faces(part, weights, biases, check_non_edges=True)


# ---------------------------------------------------------------------------------------------
# hierarchy and levels
# ---------------------------------------------------------------------------------------------

HIER_NETS = [GRAPH_NETS["two_layers"], GRAPH_NETS["deep_coincident"]] + [telgarsky(3)]


@pytest.mark.parametrize("k", range(len(HIER_NETS)))
def test_hierarchy(k):
    weights, biases = HIER_NETS[k]
    D = len(weights[0][0])
    lo, hi = ([F(0)], [F(1)]) if D == 1 else SQ
    net, part = partition(weights, biases, lo, hi)
    L = len(net.masos)
    H = part.hierarchy()
    assert isinstance(H, nx.DiGraph)
    codes = [r.code for r in part]
    want_nodes = {(l, c[:l]) for c in codes for l in range(L + 1)}
    want_edges = {((l, c[:l]), (l + 1, c[: l + 1])) for c in codes for l in range(L)}
    assert set(H.nodes) == want_nodes
    assert set(H.edges) == want_edges
    assert (0, ()) in H and H.in_degree((0, ())) == 0
    leaves = {v for v in H.nodes if H.out_degree(v) == 0}
    assert leaves == {(L, c) for c in codes}
    # volumes: each node's cell is the union of its regions; children sum to the parent, and the
    # cells of the first l layers are those the oracle finds when only those layers split
    vol = {c: frac(r.volume()) for c, r in zip(codes, part)}
    node_vol = {}
    for (l, p) in H.nodes:
        node_vol[(l, p)] = sum((v for c, v in vol.items() if c[:l] == p), Fraction(0))
    for node in H.nodes:
        kids = list(H.successors(node))
        if kids:
            assert sum((node_vol[c] for c in kids), Fraction(0)) == node_vol[node]
    for l in range(1, L):
        ref = oracle_cells(weights, biases, lo, hi, upto=l)
        assert {p: node_vol[(l, p)] for (m, p) in H.nodes if m == l} == {p: c.measure for p, c in ref.items()}
    # part.level(l): prefix -> indices of the regions in that cell
    for l in range(L + 1):
        lev = part.level(l)
        assert set(lev) == {p for (m, p) in H.nodes if m == l}
        for p, idx in lev.items():
            assert sorted(idx) == sorted(i for i, c in enumerate(codes) if c[:l] == p)


# ---------------------------------------------------------------------------------------------
# linear pieces vs activation regions
# ---------------------------------------------------------------------------------------------


def check_linear_pieces_definition(part):
    groups = part.linear_pieces()
    flat = sorted(i for g in groups for i in g)
    assert flat == list(range(len(part))), "linear pieces must partition the regions"
    G = part.graph
    where = {i: gi for gi, g in enumerate(groups) for i in g}
    for g in groups:
        first = part[g[0]].affine
        assert all(part[i].affine == first for i in g)
        assert nx.is_connected(G.subgraph(g))
    for i, j in G.edges:
        if where[i] != where[j]:
            assert part[i].affine != part[j].affine
    return groups


def as_code_groups(part, groups):
    return {frozenset(part[i].code for i in g) for g in groups}


def test_linear_pieces_output_ignores_units():
    """Lines x = 0, y = 0, x + y = 1/2; output 2 relu(x): the map depends only on the first unit,
    so the 7 regions form 2 pieces: x > 0 and x < 0."""
    weights = [[[F(1), F(0)], [F(0), F(1)], [F(1), F(1)]], [[F(2), F(0), F(0)]]]
    biases = [[F(0), F(0), F(-1, 2)], [F(0)]]
    net, part = partition(weights, biases, *SQ)
    assert len(part) == 7
    groups = check_linear_pieces_definition(part)
    codes = [r.code for r in part]
    expected = {frozenset(c for c in codes if c[0][0] == 1), frozenset(c for c in codes if c[0][0] == 0)}
    assert as_code_groups(part, groups) == expected


def test_linear_pieces_cancellation():
    """relu(x) and relu(2x) cancel in 2 relu(x) - relu(2x) = 0; relu(y) has output weight 0: four
    activation regions, one linear piece (the zero map)."""
    weights = [[[F(1), F(0)], [F(2), F(0)], [F(0), F(1)]], [[F(2), F(-1), F(0)]]]
    biases = [[F(0), F(0), F(-1, 3)], [F(0)]]
    net, part = partition(weights, biases, *SQ)
    assert len(part) == 4
    groups = check_linear_pieces_definition(part)
    assert groups == [[0, 1, 2, 3]] or sorted(map(sorted, groups)) == [[0, 1, 2, 3]]
    for r in part:
        assert all(v == 0 for v in np.asarray(r.affine.A).flat) and all(v == 0 for v in r.affine.b)


def test_linear_pieces_equal_maps_not_adjacent():
    """f = relu(x - 1/3) - 2 relu(x - 1/2) + relu(x - 2/3) on [0, 1]: 0, x - 1/3, 2/3 - x, 0.
    The first and last regions have the same (zero) map but are not adjacent: 4 pieces."""
    weights = [[[F(1)], [F(1)], [F(1)]], [[F(1), F(-2), F(1)]]]
    biases = [[F(-1, 3), F(-1, 2), F(-2, 3)], [F(0)]]
    net, part = partition(weights, biases, [F(0)], [F(1)])
    assert len(part) == 4
    groups = check_linear_pieces_definition(part)
    assert len(groups) == 4
    zero = [r.index for r in part if all(v == 0 for v in r.affine.A.flat) and all(v == 0 for v in r.affine.b)]
    assert len(zero) == 2


def test_linear_pieces_merge_across_layers():
    """h1 = relu(x), h2 = relu(y - 1/2); layer 2 repeats them (its boundaries coincide with layer
    1's); output relu(h1) = relu(x): 4 regions, 2 pieces (x > 0 and x < 0)."""
    weights = [[[F(1), F(0)], [F(0), F(1)]], [[F(1), F(0)], [F(0), F(1)]], [[F(1), F(0)]]]
    biases = [[F(0), F(-1, 2)], [F(0), F(0)], [F(0)]]
    net, part = partition(weights, biases, *SQ)
    groups = check_linear_pieces_definition(part)
    codes = [r.code for r in part]
    assert as_code_groups(part, groups) == {
        frozenset(c for c in codes if c[0][0] == 1),
        frozenset(c for c in codes if c[0][0] == 0),
    }


@pytest.mark.parametrize("L", [2, 4])
def test_linear_pieces_sawtooth(L):
    weights, biases = telgarsky(L)
    net, part = partition(weights, biases, [F(0)], [F(1)])
    groups = check_linear_pieces_definition(part)
    assert len(groups) == 2**L


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(small_nets_2d())
def test_hypothesis_linear_pieces(wb):
    weights, biases = wb
    net, part = partition(weights, biases, *SQ)
    check_linear_pieces_definition(part)


# ---------------------------------------------------------------------------------------------
# decision boundary (one output: the zero set)
# ---------------------------------------------------------------------------------------------


def piece_points(piece):
    """Exact points of a decision-boundary piece, whatever container it is."""
    for name in ("vertices", "points"):
        v = getattr(piece, name, None)
        if v is not None:
            v = v() if callable(v) else v
            return [point_tuple(p) for p in v]
    if isinstance(piece, dict):
        for name in ("vertices", "points"):
            if name in piece:
                return [point_tuple(p) for p in piece[name]]
    arr = np.asarray(piece, dtype=object)
    if arr.ndim == 2:
        return [point_tuple(p) for p in arr]
    raise AssertionError(f"cannot read exact points from a decision-boundary piece of type {type(piece).__name__}")


def test_decision_boundary_one_output():
    """f(x, y) = relu(x) + relu(y) - 1/2 on [-1, 1]^2 vanishes on the polyline
    (1/2, -1) .. (1/2, 0) .. (0, 1/2) .. (-1, 1/2): every piece lies on the zero set, inside its
    region, on its row; the pieces have positive length and reach every kink of the zero set."""
    weights = [[[F(1), F(0)], [F(0), F(1)]], [[F(1), F(1)]]]
    biases = [[F(0), F(0)], [F(-1, 2)]]
    net, part = partition(weights, biases, *SQ)
    pieces = part.decision_boundary()
    assert len(pieces) == 3  # one segment in each of the regions x > 0 > y, x, y > 0, y > 0 > x
    pts = set()
    for piece in pieces:
        ps = piece_points(piece)
        assert affine_rank(ps) == 1
        check_piece(net, part, piece, ps)
        pts.update(ps)
    for kink in [(F(1, 2), F(-1)), (F(1, 2), F(0)), (F(0), F(1, 2)), (F(-1), F(1, 2))]:
        assert kink in pts


def check_piece(net, part, piece, ps):
    region = getattr(piece, "region", None)
    outputs = tuple(getattr(piece, "outputs", (0,)))
    for p in ps:
        y = list(net(list(p)))
        if len(y) == 1:
            assert y[0] == 0, f"decision boundary point {p} has f = {y[0]}"
        else:
            i, j = outputs
            assert y[i] == y[j] == max(y), f"at {p} outputs {outputs} do not tie at the maximum: {y}"
        if region is not None:
            for a, bi in polytope_rows(part[region].polytope):
                assert sum(x * w for x, w in zip(p, a)) <= bi, f"piece point {p} is outside region {region}"
        row = getattr(piece, "row", None)
        if row is not None:
            D = len(p)
            assert sum(frac(row[d]) * p[d] for d in range(D)) + frac(row[D]) == 0


def test_decision_boundary_argmax_three_outputs():
    """Three outputs (x, y, 1/4 + relu(x + y) - relu(x + y)): the arg-max changes on pieces where
    two outputs tie at the maximum; every kink point of the 'Mercedes' triple junction is exact."""
    weights = [[[F(1), F(0)], [F(0), F(1)], [F(-1), F(0)], [F(0), F(-1)]],
               [[F(1), F(0), F(-1), F(0)], [F(0), F(1), F(0), F(-1)], [F(0), F(0), F(0), F(0)]]]
    biases = [[F(0), F(0), F(0), F(0)], [F(0), F(0), F(1, 4)]]
    net, part = partition(weights, biases, *SQ)
    pieces = part.decision_boundary()
    assert pieces
    pts = set()
    for piece in pieces:
        ps = piece_points(piece)
        assert affine_rank(ps) == 1
        check_piece(net, part, piece, ps)
        pts.update(ps)
    # outputs x, y, 1/4: the junction where all three tie is (1/4, 1/4)
    assert (F(1, 4), F(1, 4)) in pts
    # x = y above 1/4, x = 1/4 below y = 1/4 down to the box edge, y = 1/4 left to the box edge
    assert (F(1), F(1)) in pts and (F(1, 4), F(-1)) in pts and (F(-1), F(1, 4)) in pts


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(small_nets_2d())
def test_hypothesis_decision_boundary_on_zero_set(wb):
    weights, biases = wb
    net, part = partition(weights, biases, *SQ)
    for piece in part.decision_boundary():
        check_piece(net, part, piece, piece_points(piece))


@pytest.mark.parametrize("D", [3, 4, 5])
@pytest.mark.parametrize("eps", [2 ** -50, 2 ** -60])
def test_thin_faces_of_a_prism_keep_every_adjacency(D, eps):
    """Three lines of the plane, one moved by eps off the crossing of the other two, lifted to
    a prism in D dimensions: 7 regions and 9 adjacencies whatever D (the thin triangle's three
    sides are faces of width ~eps, which a float LP cannot see)."""
    W = [[1, 0] + [0] * (D - 2), [0, 1] + [0] * (D - 2), [1, 1] + [0] * (D - 2)]
    net = em.mlp([W, [[1, 1, 1]]], [[0, 0, eps], [0]])
    part = em.regions(net, em.Box([-1] * D, [1] * D))
    assert len(part) == 7
    assert part.graph.number_of_edges() == 9
    assert nx.is_connected(part.graph)
    part.verify()


def _edges_with_units(G):
    return {frozenset((i, j)): d["units"] for i, j, d in G.edges(data=True)}


def _random_net(rng, sizes, pieces=2, scale=8):
    """Integer weights (so that ties are common and exact), ``pieces`` pieces per hidden unit."""
    masos = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        last = i == len(sizes) - 2
        R = 1 if last else pieces
        A = rng.integers(-scale, scale + 1, size=(n_out, R, n_in)).tolist()
        B = rng.integers(-scale, scale + 1, size=(n_out, R)).tolist()
        if not last and pieces == 2:
            A = [[[0] * n_in, row[1]] for row in A]  # ReLU: max(0, a.x + b)
            B = [[0, row[1]] for row in B]
        masos.append(em.MASO(A, B))
    return em.Network.from_masos(masos)


@pytest.mark.parametrize("sizes,pieces,seed", [
    ([2, 10, 10, 1], 2, 0),      # batched 2-D engine
    ([2, 6, 6, 6, 1], 2, 1),
    ([3, 7, 7, 1], 2, 2),        # batched N-D engine
    ([4, 5, 5, 1], 2, 3),
    ([2, 5, 5, 1], 3, 4),        # the per-cell engine (three-piece units)
    ([3, 4, 4, 1], 3, 5),
])
def test_engine_graph_equals_the_recovery_from_facets(sizes, pieces, seed):
    """The graph read off codes and labels is the graph the exact facets give, edge for edge
    and unit for unit (small integer weights: many coincident hyperplanes and ties)."""
    from exactmaso.graph import adjacency_graph, recover_adjacency

    net = _random_net(np.random.default_rng(seed), sizes, pieces, scale=2)
    D = sizes[0]
    part = em.regions(net, em.Box([-2] * D, [2] * D))
    got, want = _edges_with_units(adjacency_graph(part)), _edges_with_units(recover_adjacency(part))
    assert set(got) == set(want), (len(set(got) - set(want)), len(set(want) - set(got)))
    assert got == want
    assert len(got) >= len(part) - 1  # connected domain: at least a spanning tree


def test_engine_graph_on_coincident_units():
    """Two units with one hyperplane (and a third through their corner): the facets whose
    swapped code is no region go to the exact recovery, and nothing is lost."""
    from exactmaso.graph import adjacency_graph, recover_adjacency

    net = em.mlp([[[1, 1], [2, 2], [1, -1]], [[1, -1, 1]]], [[0, 0, 0], [0]])
    part = em.regions(net, em.Box([-1, -1], [1, 1]))
    assert _edges_with_units(adjacency_graph(part)) == _edges_with_units(recover_adjacency(part))
    assert any(len(units) == 2 for units in _edges_with_units(part.graph).values())
    part.verify()
