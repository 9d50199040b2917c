"""Lower slopes in the backward pass: a two-piece unit ``y = g0 + relu(h)`` lies above
``g0 + a h`` for every ``a`` in [0, 1], so a bound computed with any such slopes holds.

Checked against an exact forward pass written here (random networks, random boxes, random
dyadic slopes), in the rigorous float pass the search uses and in the exact checker; the
checker with the default slopes given explicitly agrees with the checker without them to the
last bit; the triangle LP's slopes and weights reproduce its value (LP duality: the LP is
proposed in floats, the bound is then computed); and a certificate's slopes are what the
checker uses, range-checked.
"""

from __future__ import annotations

import random
from fractions import Fraction

import numpy as np
import pytest

from exactmaso.errors import CertificateError
from exactmaso.maso import MASO, Network
from exactmaso.prove import checker
from exactmaso.prove.relax import FloatModel, float_and_error
from exactmaso.prove.triangle import dyadic, triangle_slopes

from test_prove_relax import check_functional_bounds, exact_layers, points_of, random_boxes, random_net

F = Fraction
SCALE = 1 << checker.ALPHA_BITS

NETS = [
    (11, 2, [(6, 2), (5, 2), (2, 1)]),  # two-piece units with g0 != 0
    (12, 3, [(5, 2), (4, 3), (4, 2), (2, 1)]),  # a maxout layer between them
    (13, 2, [(8, 2), (3, 1), (6, 2), (1, 1)]),  # an affine layer inside
]


def random_slopes(fm: FloatModel, nb: int, rng: np.random.Generator) -> list:
    """Per layer None or (nb, K) dyadic slopes in [0, 1], a third of them NaN (the default)."""
    out = []
    for L in fm.layers:
        if L.R != 2:
            out.append(None)
            continue
        a = dyadic(rng.random((nb, L.K)))
        a[rng.random((nb, L.K)) < 1 / 3] = np.nan
        a[rng.random((nb, L.K)) < 1 / 6] = 0.0
        out.append(a)
    return out


@pytest.mark.parametrize("seed, D, widths", NETS)
def test_float_bounds_with_any_lower_slopes_hold_at_exact_points(seed, D, widths):
    net, pieces = random_net(seed, D, widths)
    rng = random.Random(seed)
    boxes = random_boxes(D, 6, rng)
    fm = FloatModel(net)
    lo = np.array([[float(v) for v in b[0]] for b in boxes])
    hi = np.array([[float(v) for v in b[1]] for b in boxes])
    batch = fm.bounds(lo, hi, crown=True)
    O = net.output_dim
    C = [[F(rng.randint(-4, 4), 4) for _ in range(O)] for _ in range(2)]
    d = [F(rng.randint(-4, 4), 8) for _ in range(2)]
    cf, ec = float_and_error(C)
    df, ed = float_and_error(d)
    alpha = random_slopes(fm, len(boxes), np.random.default_rng(seed))
    check_functional_bounds(pieces, boxes, C, d, *fm.upper(batch, cf, ec, df, ed, alpha), rng)


@pytest.mark.parametrize("seed, D, widths", NETS)
def test_exact_bounds_with_any_lower_slopes_hold_and_the_default_ones_change_nothing(seed, D, widths):
    net, pieces = random_net(seed, D, widths)
    rng = random.Random(seed + 1)
    model = checker.ExactModel(net)
    O = net.output_dim
    for lo, hi in random_boxes(D, 4, rng):
        bounds = checker.box_bounds(model, lo, hi, crown=True)
        c = [F(rng.randint(-4, 4), 4) for _ in range(O)]
        d = F(rng.randint(-4, 4), 8)
        plain = checker.upper_bound(model, bounds, c, d, lo, hi)
        default, given = {}, {}
        for l, layer in enumerate(model.layers):
            if layer.R != 2:
                continue
            cl, ch, _ = bounds.cut[l]
            for k in range(layer.K):
                if cl[k] < 0 < ch[k]:  # undecided: the default slope is 1 if u > -l, else 0
                    default.setdefault(l, {})[k] = SCALE if ch[k] > -cl[k] else 0
                given.setdefault(l, {})[k] = rng.randint(0, SCALE)  # decided units ignore theirs
        assert checker.upper_bound(model, bounds, c, d, lo, hi, alphas=default) == plain
        sloped = checker.upper_bound(model, bounds, c, d, lo, hi, alphas=given)
        for x in points_of(lo, hi, rng):
            y = exact_layers(pieces, x)[-1][1]
            assert sum((a * b for a, b in zip(c, y)), F(0)) + d <= sloped


def relu_net(seed: int, sizes: list[int]) -> Network:
    rng = random.Random(seed)
    layers = []
    for i, (n, K) in enumerate(zip(sizes, sizes[1:])):
        W = [[F(rng.randint(-20, 20), 16) for _ in range(n)] for _ in range(K)]
        b = [F(rng.randint(-8, 8), 16) for _ in range(K)]
        if i < len(sizes) - 2:
            layers.append(MASO([[[F(0)] * n, W[k]] for k in range(K)], [[F(0), b[k]] for k in range(K)]))
        else:
            layers.append(MASO([[W[k]] for k in range(K)], [[b[k]] for k in range(K)]))
    return Network.from_masos(layers)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_triangle_lp_slopes_and_weights_give_its_value(seed):
    net = relu_net(seed, [3, 12, 10, 8, 3])
    fm = FloatModel(net)
    lo, hi = np.array([[-0.5, -0.25, 0.0]]), np.array([[0.5, 0.5, 0.75]])
    batch = fm.bounds(lo, hi, crown=True)
    fb = batch.node(0)
    C = [[F(1), F(-1), F(0)], [F(1), F(0), F(-1)]]  # min(y0 - y1, y0 - y2)
    cf, ec = float_and_error(C)
    df, ed = float_and_error([F(0), F(0)])
    res = triangle_slopes(fm, fb, lo[0], hi[0], cf * fm.out_scale, df)
    assert res is not None and abs(res.weights.sum() - 1) < 1e-12
    w = res.weights
    alpha = [None if a is None else a[None] for a in res.alpha]
    ub, _, _ = fm.upper(batch, (w @ cf)[None], (w @ ec)[None] + 1e-15, np.array([w @ df]), np.array([1e-15]), alpha)
    assert ub[0, 0] >= res.value - 1e-9 * (1 + abs(res.value))  # a bound: at least the LP's value
    assert ub[0, 0] <= res.value + 1e-6 * (1 + abs(res.value))  # and, by LP duality, no more
    default, _, _ = fm.upper(batch, (w @ cf)[None], (w @ ec)[None] + 1e-15, np.array([w @ df]), np.array([1e-15]))
    assert ub[0, 0] <= default[0, 0] + 1e-9
    # every point's min(y0 - y1, y0 - y2) is at most the LP's value
    rng = np.random.default_rng(seed)
    X = lo + (hi - lo) * rng.random((4000, 3))
    Y = fm.forward(X)
    assert np.min(Y @ cf.T, axis=1).max() <= res.value + 1e-9


def one_relu_net() -> Network:
    """y = relu(x): one ReLU, then the identity."""
    return Network.from_masos([MASO([[[F(0)], [F(1)]]], [[F(0), F(0)]]), MASO([[[F(1)]]], [[F(0)]])])


def proof(tree: dict, bound: str = "0") -> dict:
    # max of -relu(x) on [-1, 2] is 0; the default lower line (slope 1, as u = 2 > -l = 1)
    # only proves -relu(x) <= -x <= 1, the slope 0 proves <= 0
    return {"c": ["-1"], "d": "0", "box": {"lo": ["-1"], "hi": ["2"]}, "bound": bound, "tree": tree}


def test_a_leaf_proves_with_the_slopes_it_is_given_and_not_without():
    net = one_relu_net()
    checker.check_bound(net, proof({"leaf": "bound", "use_alpha": True, "alpha": [[0, 0, 0]]}))
    checker.check_bound(net, proof({"split": [0, "1"], "alpha": [[0, 0, 0]],
                                    "children": [{"leaf": "bound", "use_alpha": True}, {"leaf": "bound"}]}))
    with pytest.raises(CertificateError, match="does not prove"):
        checker.check_bound(net, proof({"leaf": "bound"}))  # the default slope
    with pytest.raises(CertificateError, match="does not prove"):
        checker.check_bound(net, proof({"leaf": "bound", "alpha": [[0, 0, 0]]}))  # given, not used
    with pytest.raises(CertificateError, match="does not prove"):
        checker.check_bound(net, proof({"leaf": "bound", "use_alpha": True, "alpha": [[0, 0, SCALE // 2]]}))
    checker.check_bound(net, proof({"leaf": "bound", "use_alpha": True, "alpha": [[0, 0, SCALE // 2]]}, "1/2"))


@pytest.mark.parametrize("alpha, match", [
    ([[0, 0, SCALE + 1]], "outside"),
    ([[0, 0, -1]], "outside"),
    ([[1, 0, 0]], "not a unit of a two-piece layer"),  # the affine layer
    ([[0, 1, 0]], "not a unit of a two-piece layer"),
    ([[0, 0, 0], [0, 0, 1]], "twice"),
    ([[0, 0, "0"]], "integers"),
    ({"0": 0}, "not a list"),
])
def test_bad_slopes_are_rejected(alpha, match):
    with pytest.raises(CertificateError, match=match):
        checker.check_bound(one_relu_net(), proof({"leaf": "bound", "use_alpha": True, "alpha": alpha}))


def test_a_leaf_using_slopes_nobody_gave_is_rejected():
    with pytest.raises(CertificateError, match="neither it nor a node above"):
        checker.check_bound(one_relu_net(), proof({"leaf": "bound", "use_alpha": True}))
    with pytest.raises(CertificateError, match="expected true or false"):
        checker.check_bound(one_relu_net(), proof({"leaf": "bound", "use_alpha": "yes", "alpha": [[0, 0, 0]]}))


def _leaves(tree: dict):
    stack = [tree]
    while stack:
        node = stack.pop()
        stack.extend(node.get("children", []))
        yield node


def test_a_search_closes_leaves_with_triangle_lp_slopes_and_the_certificate_checks():
    import exactmaso as em

    net = relu_net(4, [3, 12, 10, 8, 3])
    dom = em.Box([F(-1, 2), F(-1, 4), F(0)], [F(1, 2), F(1, 2), F(3, 4)])
    res = em.prove.output_bounds(net, dom, output=0)
    res.verify()
    nodes = [n for p in res.certificate["proofs"] for n in _leaves(p["tree"])]
    assert any("alpha" in n for n in nodes) and any(n.get("use_alpha") for n in nodes)
    # the exact maximum is attained where the certificate says
    assert net(list(res.argmax))[0] == res.hi
