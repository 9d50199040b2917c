"""Power diagrams and hierarchical VQ (exactmaso.vq, and the attributes of Partition.hierarchy).

Everything is checked against mathematics recomputed here in plain Fractions from the raw
weights, never against the library's own output:

- the MASO form of each test network is written down from its weights by hand (ReLU: pieces
  0 and W z + b; leaky ReLU: s (W z + b) and W z + b; abs: -(W z + b) and W z + b; max-out and
  max-pool: one piece per entry), and the input map z = M x + c of a cell is the composition
  of the selected pieces, so centroid mu_w = M^T sum_k A[k, w_k] and radius
  rad_w = ||mu_w||^2 + 2 (<sum_k A[k, w_k], c> + sum_k B[k, w_k]) come from DESIGN.md's formula;
- inside a cell, the region's code is the unique arg-min of the power distance over the
  sibling cells at the region's interior point;
- for D = 2, 3 the cells of a layer are rebuilt from centroids and radii alone (scipy's
  HalfspaceIntersection and ConvexHull propose, exact arithmetic decides every vertex);
- volumes come from the brute-force oracle of tests/oracle.py;
- codes of data equal the exact forward pass, also on boundaries (ties) and at extreme
  magnitudes, where the float filter must defer to the exact path.
"""

from __future__ import annotations

from collections import Counter
from fractions import Fraction as F
from itertools import combinations, product

import networkx as nx
import numpy as np
import pytest
from scipy.optimize import linprog
from scipy.spatial import ConvexHull, HalfspaceIntersection

import exactmaso as em
from exactmaso import vq

try:
    from oracle import affine_rank, oracle_cells, solve, vertices_hrep
except ImportError:  # tests/ as a package
    from tests.oracle import affine_rank, oracle_cells, solve, vertices_hrep  # type: ignore[no-redef]


# ---------------------------------------------------------------------------------------------
# test networks and their MASO form, written down from the raw weights
# ---------------------------------------------------------------------------------------------


def dot(a, x):
    return sum((F(ai) * F(xi) for ai, xi in zip(a, x)), F(0))


def hidden_layer(W, b, act):
    """MASO pieces (A: K x R x n, B: K x R) of ``act(W z + b)``."""
    A, B = [], []
    for row, bk in zip(W, b):
        row, bk = [F(v) for v in row], F(bk)
        if act == "relu":
            A.append([[F(0)] * len(row), row])
            B.append([F(0), bk])
        elif act == "abs":
            A.append([[-v for v in row], row])
            B.append([-bk, bk])
        else:  # ("leaky", s)
            s = act[1]
            A.append([[s * v for v in row], row])
            B.append([s * bk, bk])
    return A, B


def affine_layer(W, b):
    return [[[F(v) for v in row]] for row in W], [[F(bk)] for bk in b]


def mlp_case(widths, seed, act="relu"):
    rng = np.random.default_rng(seed)
    Ws = [rng.integers(-3, 4, size=(o, i)).tolist() for i, o in zip(widths[:-1], widths[1:])]
    bs = [rng.integers(-2, 3, size=o).tolist() for o in widths[1:]]
    activation = {"relu": "relu", "abs": "abs"}.get(act) or em.LeakyReLU(act[1])
    net = em.mlp(Ws, bs, activation=activation)
    layers = [hidden_layer(W, b, act) for W, b in zip(Ws[:-1], bs[:-1])] + [affine_layer(Ws[-1], bs[-1])]
    assert len(net.masos) == len(layers)
    return net, layers, (Ws, bs)


def maxout_case(seed):
    """Two max-out units with three pieces each, then an affine read-out (em.MASO directly)."""
    rng = np.random.default_rng(seed)
    A0 = rng.integers(-3, 4, size=(2, 3, 2)).tolist()
    B0 = rng.integers(-2, 3, size=(2, 3)).tolist()
    A1, B1 = [[[1, -2]]], [[1]]
    net = em.Network.from_masos([em.MASO(A0, B0), em.MASO(A1, B1)])
    frac3 = lambda t: [[[F(v) for v in p] for p in u] for u in t]  # noqa: E731
    return net, [(frac3(A0), [[F(v) for v in u] for u in B0]), (frac3(A1), [[F(v) for v in u] for u in B1])]


def maxpool_case():
    """max(x0, x1) by MaxPool1d(2) on input shape (1, 2), then relu(W1 m + b1), then affine."""
    W1, b1 = [[1], [-2], [3]], [F(-1, 2), 1, 0]
    W2, b2 = [[1, 1, -1]], [0]
    net = em.Network([em.MaxPool1d(2), em.Flatten(), em.Dense(W1, b1), em.ReLU(), em.Dense(W2, b2)], input_shape=(1, 2))
    pool = ([[[F(1), F(0)], [F(0), F(1)]]], [[F(0), F(0)]])
    layers = [pool, hidden_layer(W1, b1, "relu"), affine_layer(W2, b2)]
    assert len(net.masos) == 3
    return net, layers


CASES = {
    "relu_0": lambda: mlp_case([2, 4, 3, 1], 0)[:2],
    "relu_1": lambda: mlp_case([2, 3, 3, 1], 1)[:2],
    "leaky": lambda: mlp_case([2, 3, 3, 1], 2, ("leaky", F(1, 4)))[:2],
    "abs": lambda: mlp_case([2, 3, 2, 1], 3, "abs")[:2],
    "maxout": lambda: maxout_case(4),
    "maxpool": maxpool_case,
}

BOX2 = ([-2, -2], [2, 2])


# ---------------------------------------------------------------------------------------------
# the oracle: codes, input maps, centroids, radii, cell rows (plain Fractions)
# ---------------------------------------------------------------------------------------------


def oracle_code(layers, x):
    z, code = [F(v) for v in x], []
    for A, B in layers:
        c, out = [], []
        for Ak, Bk in zip(A, B):
            vals = [dot(a, z) + bb for a, bb in zip(Ak, Bk)]
            c.append(vals.index(max(vals)))  # ties: the lowest index
            out.append(max(vals))
        code.append(tuple(c))
        z = out
    return tuple(code)


def input_map(layers, prefix, D):
    """(M, c) with z = M x + c the input of layer len(prefix) on the cell of ``prefix``."""
    M = [[F(int(i == j)) for j in range(D)] for i in range(D)]
    c = [F(0)] * D
    for (A, B), w in zip(layers, prefix):
        S = [A[k][w[k]] for k in range(len(w))]
        s = [B[k][w[k]] for k in range(len(w))]
        M = [[sum((row[i] * M[i][j] for i in range(len(row))), F(0)) for j in range(D)] for row in S]
        c = [dot(row, c) + sk for row, sk in zip(S, s)]
    return M, c


def centroid_radius(layers, prefix, w, D):
    A, B = layers[len(prefix)]
    M, c = input_map(layers, prefix, D)
    n = len(A[0][0])
    a = [sum((A[k][w[k]][i] for k in range(len(w))), F(0)) for i in range(n)]
    bsum = sum((B[k][w[k]] for k in range(len(w))), F(0))
    mu = [sum((M[i][j] * a[i] for i in range(n)), F(0)) for j in range(D)]
    return mu, sum((v * v for v in mu), F(0)) + 2 * (dot(a, c) + bsum)


def power_distance(x, mu, rad):
    return sum(((F(xi) - m) ** 2 for xi, m in zip(x, mu)), F(0)) - rad


def box_rows(lo, hi):
    D = len(lo)
    rows = []
    for j in range(D):
        e = [F(int(i == j)) for i in range(D)]
        rows.append((e, F(hi[j])))
        rows.append(([-v for v in e], -F(lo[j])))
    return rows


def prefix_rows(layers, prefix, D):
    """Rows a . x <= beta of the closed cell where layers 0 .. len(prefix)-1 choose ``prefix``."""
    rows = []
    for l, w in enumerate(prefix):
        A, B = layers[l]
        M, c = input_map(layers, prefix[:l], D)
        for k, wk in enumerate(w):
            for r in range(len(A[k])):
                if r == wk:
                    continue
                # g_r - g_w <= 0 as a function of x
                da = [A[k][r][i] - A[k][wk][i] for i in range(len(c))]
                a = [sum((M[i][j] * da[i] for i in range(len(c))), F(0)) for j in range(D)]
                rows.append((a, -(dot(da, c) + B[k][r] - B[k][wk])))
    return rows


def power_rows(centres, w):
    """Rows on which code ``w`` has the least power distance among ``centres`` (code -> (mu, rad)).

    Two codes with the same power function differ only in units whose pieces coincide on the
    cell; ties go to the lowest piece of each unit, i.e. to the lexicographically lower code:
    against a lower code with the same function, ``w`` gets the impossible row 0 <= -1."""
    mu_w, rad_w = centres[w]
    rows = []
    for v, (mu_v, rad_v) in centres.items():
        if v == w:
            continue
        # ||x - mu_w||^2 - rad_w <= ||x - mu_v||^2 - rad_v, linear in x
        a = [2 * (q - p) for p, q in zip(mu_w, mu_v)]
        beta = dot(mu_v, mu_v) - rad_v - dot(mu_w, mu_w) + rad_w
        if not any(a) and beta == 0 and v < w:
            beta = F(-1)
        rows.append((a, beta))
    return rows


def strictly_inside(rows, x):
    return all(dot(a, x) < beta for a, beta in rows)


def inside(rows, x):
    return all(dot(a, x) <= beta for a, beta in rows)


def rows_of(poly):
    return [([F(v) for v in a], F(beta)) for a, beta in zip(poly.A, poly.b)]


def exact_vertices(poly):
    """Vertices of a PowerCell polytope by brute force over its rows (no library geometry)."""
    return {tuple(v) for v in vertices_hrep(poly.A, poly.b)}


# ---------------------------------------------------------------------------------------------
# the power diagram of every cell: arg-min, centroids, radii, polytopes
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_region_code_is_the_power_argmin_among_siblings(name):
    net, layers = CASES[name]()
    D = net.input_dim
    part = em.regions(net, em.Box(*BOX2))
    L = len(net.masos)
    for reg in part:
        assert oracle_code(layers, reg.point) == reg.code  # the hand-written MASO form is the net
    for l in range(L):
        by_prefix = {}
        for reg in part:
            by_prefix.setdefault(reg.code[:l], []).append(reg)
        for prefix, members in by_prefix.items():
            cells = em.power_diagram(part, l, prefix)
            assert [c.code for c in cells] == sorted({r.code[l] for r in members})
            for c in cells:
                mu, rad = centroid_radius(layers, prefix, c.code, D)
                assert list(c.centroid) == mu and c.radius == rad
                assert all(type(v) is F for v in c.centroid) and type(c.radius) is F and type(c.volume) is F
            for reg in members:
                x = list(reg.point)
                dist = {c.code: power_distance(x, c.centroid, c.radius) for c in cells}
                best = min(dist.values())
                assert [w for w, d in dist.items() if d == best] == [reg.code[l]]
                for c in cells:  # the interior point is inside its own cell only
                    if c.code == reg.code[l]:
                        assert strictly_inside(rows_of(c.polytope), x)
                    else:
                        assert not inside(rows_of(c.polytope), x)


def test_power_diagram_of_a_network_matches_the_partition_path():
    net, layers = CASES["maxout"]()
    box = em.Box(*BOX2)
    part = em.regions(net, box)
    for prefix in {r.code[:1] for r in part}:
        got = em.power_diagram(net, 1, prefix, domain=box)
        assert len(got) == 1 and got[0].volume == sum((r.volume() for r in part if r.code[:1] == prefix), F(0))
        mu, rad = centroid_radius(layers, prefix, got[0].code, 2)
        assert list(got[0].centroid) == mu and got[0].radius == rad
    cells = em.power_diagram(net, 0, domain=box)
    for c in cells:
        mu, rad = centroid_radius(layers, (), c.code, 2)
        assert list(c.centroid) == mu and c.radius == rad


# ---------------------------------------------------------------------------------------------
# cross-check with scipy: the diagram rebuilt from centroids and radii alone
# ---------------------------------------------------------------------------------------------


def exactify(rows, xf, D):
    """The exact vertex behind a float vertex ``xf`` of {a . x <= beta}: solve D of the rows
    tight there (floats choose them, exact arithmetic checks feasibility)."""
    A = np.array([[float(v) for v in a] for a, _ in rows])
    bb = np.array([float(beta) for _, beta in rows])
    slack = (bb - A @ xf) / np.maximum(np.linalg.norm(A, axis=1), 1e-300)
    near = [int(i) for i in np.argsort(slack)[: D + 4]]
    for sub in combinations(near, D):
        x = solve([rows[i][0] for i in sub], [rows[i][1] for i in sub])
        if x is not None and inside(rows, x) and np.allclose([float(v) for v in x], xf, atol=1e-6):
            return tuple(x)
    raise AssertionError(f"no exact vertex of the rows near the float vertex {xf}")


def diagram_from_centres(centres, base_rows, D):
    """Power cells {code: exact vertex set} inside ``base_rows`` from centroids and radii alone."""
    out = {}
    for w in centres:
        rows = base_rows + power_rows(centres, w)
        if any(beta < 0 for a, beta in rows if not any(a)):
            continue  # 0 <= beta < 0: the code loses everywhere (exact)
        rows = [(a, beta) for a, beta in rows if any(a)]
        A = np.array([[float(v) for v in a] for a, _ in rows])
        bb = np.array([float(beta) for _, beta in rows])
        norms = np.linalg.norm(A, axis=1)
        # Chebyshev centre: max r with a . x + r |a| <= beta (floats propose)
        res = linprog(np.r_[np.zeros(D), -1.0], A_ub=np.c_[A, norms], b_ub=bb,
                      bounds=[(None, None)] * D + [(0, None)], method="highs")
        if res.status != 0 or res.x[-1] < 1e-7:
            continue
        hs = HalfspaceIntersection(np.c_[A, -bb], res.x[:D])
        verts = {exactify(rows, v, D) for v in hs.intersections}
        assert affine_rank(verts) == D, f"code {w}: the proposed cell is not full-dimensional"
        out[w] = verts
    return out


ONE_LAYER = [
    ([2, 4, 1], 5, "relu"),
    ([2, 3, 1], 6, "abs"),
    ([2, 3, 1], 7, ("leaky", F(1, 3))),
    ([3, 4, 1], 8, "relu"),
    ([3, 4, 1], 9, "abs"),
]


@pytest.mark.parametrize("widths,seed,act", ONE_LAYER)
def test_one_layer_partition_is_the_power_diagram_of_centroids_and_radii(widths, seed, act):
    net, layers, _ = mlp_case(widths, seed, act)
    D = widths[0]
    lo, hi = [-2] * D, [2] * D
    box = em.Box(lo, hi)
    R = len(layers[0][0][0])
    codes = list(product(range(R), repeat=widths[1]))
    centres = {w: centroid_radius(layers, (), w, D) for w in codes}
    lifted = {(tuple(mu), dot(mu, mu) - rad) for mu, rad in centres.values()}
    assert len(lifted) == len(codes), "the test assumes distinct power centres"
    want = diagram_from_centres(centres, box_rows(lo, hi), D)
    cells = em.power_diagram(net, 0, domain=box)
    assert {c.code for c in cells} == set(want)
    for c in cells:
        assert exact_vertices(c.polytope) == want[c.code]
    part = em.regions(net, box)  # one hidden layer: the regions are the power cells
    assert {r.code[0]: {tuple(v) for v in vertices_hrep(r.polytope.A, r.polytope.b)} for r in part} == want
    # the lower convex hull of the lifted centres (mu, ||mu||^2 - rad) names the cells of R^D
    pts = np.array([[float(v) for v in mu] + [float(dot(mu, mu) - rad)] for mu, rad in centres.values()])
    hull = ConvexHull(pts)
    lower = {codes[i] for eq, simplex in zip(hull.equations, hull.simplices) if eq[D] < -1e-12 for i in simplex}
    big = em.power_diagram(net, 0, domain=em.Box([-60] * D, [60] * D))
    assert {c.code for c in big} == lower


def test_second_layer_in_a_prefix_cell_is_the_power_diagram_of_its_centroids():
    net, layers, _ = mlp_case([2, 3, 3, 1], 1)
    lo, hi = BOX2
    box = em.Box(lo, hi)
    part = em.regions(net, box)
    prefixes = sorted({r.code[:1] for r in part})
    for prefix in prefixes:
        centres = {w: centroid_radius(layers, prefix, w, 2) for w in product(range(2), repeat=3)}
        base = box_rows(lo, hi) + prefix_rows(layers, prefix, 2)
        want = diagram_from_centres(centres, base, 2)
        cells = em.power_diagram(net, 1, prefix, domain=box)
        assert {c.code: exact_vertices(c.polytope) for c in cells} == want


# ---------------------------------------------------------------------------------------------
# volumes, the summary table, the hierarchy's attributes
# ---------------------------------------------------------------------------------------------


RELU_VOLUME_CASES = [([2, 4, 3, 1], 0, BOX2), ([2, 3, 3, 2, 1], 10, BOX2), ([3, 2, 2, 1], 12, ([-1] * 3, [1] * 3))]


def oracle_levels(weights, biases, lo, hi, L):
    """{level: {prefix: measure}} for levels 0 .. L from the brute-force oracle."""
    D = len(lo)
    levels = {0: {(): F(1) * np.prod([F(h) - F(l_) for l_, h in zip(lo, hi)])}}
    for l in range(1, L):
        levels[l] = {p: c.measure for p, c in oracle_cells(weights, biases, lo, hi, upto=l).items()}
    levels[L] = {p: c.measure for p, c in oracle_cells(weights, biases, lo, hi).items()}
    assert D in (2, 3)
    return levels


@pytest.mark.parametrize("widths,seed,box", RELU_VOLUME_CASES)
def test_volumes_sum_to_the_prefix_cell(widths, seed, box):
    net, layers, (Ws, bs) = mlp_case(widths, seed)
    lo, hi = box
    dom = em.Box(lo, hi)
    L = len(net.masos)
    levels = oracle_levels(Ws, bs, lo, hi, L)
    for l in range(L):
        for prefix, measure in levels[l].items():
            cells = em.power_diagram(net, l, prefix, domain=dom)
            assert sum((c.volume for c in cells), F(0)) == measure
            assert {prefix + (c.code,): c.volume for c in cells} == {
                p: m for p, m in levels[l + 1].items() if p[:l] == prefix
            }
    part = em.regions(net, dom)
    s = vq.summary(part)
    assert len(s) == L and s[-1].cells == len(part)
    for row in s:
        vols = sorted(levels[row.level].values())
        assert row.cells == len(vols)
        assert (row.min_volume, row.max_volume) == (vols[0], vols[-1])
        n = len(vols)
        assert row.median_volume == (vols[n // 2] if n % 2 else (vols[n // 2 - 1] + vols[n // 2]) / 2)
        kids = Counter(p[:-1] for p in levels[row.level])
        assert row.parents == len(levels[row.level - 1]) == len(kids)
        assert row.split == sum(1 for v in kids.values() if v > 1)
        assert row.max_children == max(kids.values()) and row.mean_children == F(len(vols), len(kids))
    table = str(s).splitlines()
    assert len(table) == L + 1 and "median volume" in table[0]
    assert len({len(line) for line in table}) == 1  # aligned columns


@pytest.mark.parametrize("widths,seed,box", RELU_VOLUME_CASES[:2])
def test_hierarchy_nodes_carry_exact_cells(widths, seed, box):
    net, layers, (Ws, bs) = mlp_case(widths, seed)
    lo, hi = box
    part = em.regions(net, em.Box(lo, hi))
    L = len(net.masos)
    levels = oracle_levels(Ws, bs, lo, hi, L)
    H = part.hierarchy()
    assert {node: data["volume"] for node, data in H.nodes(data=True)} == {
        (l, p): m for l, cells in levels.items() for p, m in cells.items()
    }
    root_rows = rows_of(H.nodes[(0, ())]["polytope"])
    assert {(tuple(a), beta) for a, beta in root_rows} == {(tuple(a), beta) for a, beta in box_rows(lo, hi)}
    for (l, prefix), data in H.nodes(data=True):
        assert data["level"] == l and data["children"] == H.out_degree((l, prefix))
        if l:
            mu, rad = centroid_radius(layers, prefix[:-1], prefix[-1], 2)
            assert list(data["power_cell"][0]) == mu and data["power_cell"][1] == rad
        else:
            assert "power_cell" not in data
        rows = rows_of(data["polytope"])
        for reg in part:
            if reg.code[:l] == prefix:
                assert strictly_inside(rows, reg.point)
            else:
                assert not inside(rows, reg.point)
    for reg in part:
        assert H.nodes[(L, reg.code)]["region"] == reg.index


def test_power_diagrams_lists_every_inner_node():
    net, _, _ = mlp_case([2, 4, 3, 1], 0)
    part = em.regions(net, em.Box(*BOX2))
    H = part.hierarchy()
    diagrams = vq.power_diagrams(part)
    assert set(diagrams) == {n for n in H.nodes if H.out_degree(n)}
    for (l, prefix), cells in diagrams.items():
        assert {(l + 1, prefix + (c.code,)) for c in cells} == set(H.successors((l, prefix)))


def test_power_diagram_errors():
    net, _, _ = mlp_case([2, 3, 1], 0)
    box = em.Box(*BOX2)
    part = em.regions(net, box)
    with pytest.raises(em.DomainError):
        em.power_diagram(net, 0)  # a network needs a bounded domain
    with pytest.raises(em.DomainError):
        em.power_diagram(part, 0, domain=box)
    with pytest.raises(em.ShapeError):
        em.power_diagram(net, 2, domain=box)
    with pytest.raises(em.ShapeError):
        em.power_diagram(net, 1, prefix=(), domain=box)
    with pytest.raises(em.ShapeError):
        em.power_diagram(net, 1, prefix=((0, 1),), domain=box)
    with pytest.raises(em.ShapeError):
        em.power_diagram(net, 1, prefix=((0, 1, 2),), domain=box)
    missing = next(p for p in product(range(2), repeat=3) if p not in {r.code[0] for r in part})
    with pytest.raises(em.DomainError):
        em.power_diagram(part, 1, prefix=(missing,))
    with pytest.raises(em.DomainError):
        em.power_diagram(net, 1, prefix=(missing,), domain=box)
    dead = em.mlp([[[0, 0], [1, 0]], [[1, 1]]], [[0, 0], [0]])  # unit 0 is 0 everywhere: code 0
    with pytest.raises(em.DomainError):
        em.power_diagram(dead, 1, prefix=((1, 1),), domain=box)
    with pytest.raises(em.DomainError):
        vq.PowerCell((0,), [0, 0], F(0), box, F(0))


# ---------------------------------------------------------------------------------------------
# codes of data
# ---------------------------------------------------------------------------------------------


def as_codes(per_layer, j):
    return tuple(tuple(int(v) for v in layer[j]) for layer in per_layer)


def check_assign(net, X):
    got = vq.assign(net, X)
    want = net.code(em.to_fraction_array(X))
    assert len(got) == len(net.masos)
    assert all(arr.dtype == np.int64 and arr.shape == (len(want), m.num_units) for arr, m in zip(got, net.masos))
    assert [as_codes(got, j) for j in range(len(want))] == want
    for l in range(len(net.masos)):
        assert np.array_equal(vq.assign(net, X, level=l), got[l])
    return got


@pytest.mark.parametrize("name", list(CASES))
def test_assign_equals_the_exact_codes_including_region_vertices(name):
    net, layers = CASES[name]()
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(200, net.input_dim))
    check_assign(net, X)
    # the vertices of the regions lie on two or more boundaries at once: ties everywhere
    part = em.regions(net, em.Box(*BOX2))
    V = np.array([v for r in part for v in r.vertices()], dtype=object)
    got = check_assign(net, V)
    assert [as_codes(got, j) for j in range(len(V))] == [oracle_code(layers, v) for v in V]
    # at a region vertex some unit ties (two distinct pieces share the maximum): the float
    # filter must hand every such sample to the exact path
    Vf = V.astype(float)
    _, decided = vq._float_codes(net.masos, Vf, 2 * 2.0**-53 * np.abs(Vf) + 2.0**-1074)
    ties = [any_unit_ties(layers, v) for v in V]
    assert any(ties)
    assert not decided[np.array(ties)].any()


def any_unit_ties(layers, x):
    """True when at ``x`` some unit has two different pieces (not mere copies) at its maximum."""
    z = [F(v) for v in x]
    for A, B in layers:
        out = []
        for Ak, Bk in zip(A, B):
            vals = [dot(a, z) + bb for a, bb in zip(Ak, Bk)]
            if len({(tuple(a), bb) for a, bb, v in zip(Ak, Bk, vals) if v == max(vals)}) > 1:
                return True
            out.append(max(vals))
        z = out
    return False


def test_assign_ties_on_float_boundaries_go_to_the_lowest_piece():
    """Units h0 = relu(x0 - x1), h1 = relu(x0 + 2 x1 - 3/4), then relu(h0 - h1): float inputs
    placed exactly on a boundary are ties (code 0), and only the exact path decides them."""
    net = em.mlp([[[1, -1], [1, 2]], [[1, -1]], [[1]]], [[0, F(-3, 4)], [0], [0]])
    t = np.array([0.125, -0.375, 2.0**-40, 1.5, 2.0**-30])
    on0 = np.c_[t, t]  # x0 = x1
    on1 = np.c_[0.75 - 2 * t, t]  # x0 + 2 x1 = 3/4
    assert all(F(a) + 2 * F(b) == F(3, 4) for a, b in on1)
    # layer 1 ties where h0 = h1: both 0 at (-1, 0); both 3/4 at (1, 1/4) (x1 = 1/4, x0 > 1/4)
    on2 = np.array([[-1.0, 0.0], [1.0, 0.25], [0.5, 0.25]])
    X = np.vstack([on0, on1, on2])
    got = check_assign(net, X)
    n = len(t)
    assert (got[0][:n, 0] == 0).all() and (got[0][n : 2 * n, 1] == 0).all() and (got[1][2 * n :, 0] == 0).all()
    _, decided = vq._float_codes(net.masos, X, np.zeros_like(X))
    assert not decided.any()
    # moved off the boundaries by 1e-3 the floats decide alone, except where both units of
    # layer 0 stay inactive: then layer 1 computes 0 - 0, an exact tie again
    layers = [hidden_layer([[1, -1], [1, 2]], [0, F(-3, 4)], "relu"), hidden_layer([[1, -1]], [0], "relu"),
              affine_layer([[1]], [0])]
    off = X + np.array([1e-3, -2e-3])
    _, decided = vq._float_codes(net.masos, off, np.zeros_like(off))
    ties = np.array([any_unit_ties(layers, x) for x in off])
    assert ties.any() and (~ties).any()
    assert np.array_equal(decided, ~ties)
    check_assign(net, off)


def test_assign_inputs_of_every_kind():
    net, _ = CASES["relu_0"]()
    rng = np.random.default_rng(3)
    X = rng.uniform(-2, 2, size=(50, 2))
    ref = vq.assign(net, X)
    for other in (X.astype(np.float32).astype(np.float64), em.to_fraction_array(X), X.tolist(),
                  [[str(F(v)) for v in row] for row in X]):
        got = vq.assign(net, other)
        assert all(np.array_equal(a, b) for a, b in zip(got, ref))
    X32 = X.astype(np.float32)
    assert [as_codes(vq.assign(net, X32), j) for j in range(50)] == net.code(X32.astype(np.float64))
    # extreme magnitudes: overflow and subnormals never let the floats decide wrongly
    big = np.array([[1e300, -1e300], [1e-310, -1e-320], [5e-324, 0.0], [-1e308, 1e-300]])
    check_assign(net, big)
    huge = np.array([[F(10) ** 400, F(-1, 10**400)], [F(1, 3), F(-(10**350))]], dtype=object)
    check_assign(net, huge)
    # input shape (N, *input_shape)
    pool, _ = CASES["maxpool"]()
    Xp = rng.uniform(-2, 2, size=(20, 1, 2))
    assert [as_codes(vq.assign(pool, Xp), j) for j in range(20)] == pool.code(Xp.reshape(20, 2))
    tie = np.array([[[0.5, 0.5]]])  # one sample of shape (1, 2), a tie of the pool: the exact path
    assert as_codes(vq.assign(pool, tie), 0) == pool.code([0.5, 0.5])


def test_assign_pass_through_units_of_a_residual_block():
    """A residual block carries its input through units whose pieces are equal: code 0 always,
    and the filter must not stall on those exact ties."""
    net = em.Network([em.Dense([[1, -1], [2, 1]], [0, F(1, 3)]), em.Residual([em.Dense([[1, 1], [-1, 2]]), em.ReLU()]),
                      em.ReLU(), em.Dense([[1, -1]])])
    X = np.random.default_rng(4).uniform(-2, 2, size=(100, 2))
    check_assign(net, X)
    _, decided = vq._float_codes(net.masos, X, np.zeros_like(X))
    assert decided.mean() > 0.9


def test_assign_errors():
    net, _ = CASES["relu_0"]()
    with pytest.raises(em.DomainError):
        vq.assign(net, np.array([[0.0, np.nan]]))
    with pytest.raises(em.DomainError):
        vq.assign(net, np.array([[np.inf, 0.0]]))
    with pytest.raises(em.ShapeError):
        vq.assign(net, np.zeros((3, 3)))
    with pytest.raises(em.ShapeError):
        vq.assign(net, np.zeros(2))
    with pytest.raises(em.ShapeError):
        vq.assign(net, np.zeros((3, 2)), level=3)


# ---------------------------------------------------------------------------------------------
# the data tree and the K-means comparison
# ---------------------------------------------------------------------------------------------


def test_adjusted_rand_index_hand_computed():
    # contingency (0,0):2 (1,1):1 (1,2):1; S = 1, S_a = 2, S_b = 1, E = 2/6, max = 3/2: (2/3)/(7/6)
    assert vq.adjusted_rand_index([0, 0, 1, 1], [0, 0, 1, 2]) == F(4, 7)
    # S = 2, S_a = 6, S_b = 3, E = 18/15, max = 9/2: (4/5)/(33/10)
    assert vq.adjusted_rand_index([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2]) == F(8, 33)
    # S = 0, S_a = S_b = 2, E = 2/3, max = 2: (-2/3)/(4/3)
    assert vq.adjusted_rand_index([0, 0, 1, 1], [0, 1, 0, 1]) == F(-1, 2)
    assert vq.adjusted_rand_index([0, 0, 1, 1, 2], ["b", "b", "c", "c", "a"]) == 1
    assert vq.adjusted_rand_index([5] * 4, [7] * 4) == 1
    assert vq.adjusted_rand_index([0, 1, 2], [2, 0, 1]) == 1
    assert vq.adjusted_rand_index([1], [2]) == 1
    assert vq.adjusted_rand_index([0, 0, 0, 0], [0, 1, 2, 3]) == 0  # S = 0, E = 0, max = 3
    assert vq.purity([0, 0, 0, 1], ["x", "x", "y", "y"]) == F(3, 4)
    with pytest.raises(em.ShapeError):
        vq.adjusted_rand_index([0, 1], [0])


def test_tree_counts_purity_centroids_and_kmeans_report():
    net, layers, _ = mlp_case([2, 4, 3, 1], 0)
    rng = np.random.default_rng(5)
    X = rng.uniform(-2, 2, size=(300, 2))
    labels = (X[:, 0] * X[:, 1] > 0).astype(int).tolist()
    G = vq.tree(net, X, labels, seed=1)
    assert isinstance(G, nx.DiGraph) and G.nodes[(0, ())]["count"] == 300
    codes = net.code(X)
    L = len(net.masos)
    for (l, prefix), data in G.nodes(data=True):
        members = [j for j, c in enumerate(codes) if c[:l] == prefix]
        assert data["count"] == len(members) > 0
        kids = list(G.successors((l, prefix)))
        if l < L:
            assert sum(G.nodes[c]["count"] for c in kids) == data["count"]
        top = Counter(labels[j] for j in members).most_common(1)[0][1]
        assert data["purity"] == F(top, len(members)) and 0 <= data["purity"] <= 1
        assert data["data_centroid"] == pytest.approx(X[members].mean(axis=0))
        if l:
            mu, rad = centroid_radius(layers, prefix[:-1], prefix[-1], 2)
            assert list(data["centroid"]) == mu and data["radius"] == rad
    for l in range(L + 1):
        assert {p for (m, p) in G.nodes if m == l} == {c[:l] for c in codes}
    report = G.graph["kmeans"]
    assert set(report) == set(range(1, L + 1))
    for l, r in report.items():
        assert r["k"] == len({c[:l] for c in codes})
        assert -1 <= r["ari"] <= 1
        assert 0 <= r["network_purity"] <= 1 and 0 <= r["kmeans_purity"] <= 1
        cells = [c[:l] for c in codes]
        assert r["network_purity"] == vq.purity(cells, labels)
        assert r["network_distortion"] >= 0 and r["kmeans_distortion"] >= 0
    unlabelled = vq.tree(net, X, centroids=False)
    assert all(d["purity"] is None and "centroid" not in d for _, d in unlabelled.nodes(data=True))
    assert unlabelled.graph["kmeans"][1]["kmeans_purity"] is None


def test_tree_kmeans_agrees_on_two_separated_clusters():
    """relu(x) on two tight clusters at -5 and 5: the first layer's two cells are the clusters,
    and K-means with k = 2 finds them too (ARI 1, purity 1)."""
    net = em.mlp([[[1]], [[1]]], [[0], [0]])
    rng = np.random.default_rng(6)
    X = np.r_[rng.normal(-5, 0.1, 40), rng.normal(5, 0.1, 60)][:, None]
    labels = ["neg"] * 40 + ["pos"] * 60
    G = vq.tree(net, X, labels)
    r = G.graph["kmeans"][1]
    assert r["k"] == 2 and r["ari"] == 1 and r["network_purity"] == 1 and r["kmeans_purity"] == 1
    assert G.nodes[(1, ((1,),))]["count"] == 60 and G.nodes[(1, ((0,),))]["count"] == 40
    with pytest.raises(em.ShapeError):
        vq.tree(net, X, labels[:-1])
    with pytest.raises(em.ShapeError):
        vq.tree(net, np.zeros((0, 1)))
