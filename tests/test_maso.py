"""MASO, Affine and Network (exactmaso/maso.py) against independent computations."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import exactmaso as em
from exactmaso.maso import MASO, Affine, Network

from conftest import mlp_weights

F = Fraction

# -- independent reference forward passes ---------------------------------------------------

ACTIVATIONS = {
    "relu": (lambda z: np.maximum(z, 0.0), lambda z: max(z, F(0)), lambda z: int(z > 0)),
    "abs": (np.abs, abs, lambda z: int(z > 0)),
    "leaky_relu": (
        lambda z: np.where(z > 0, z, z / 100),
        lambda z: z if z > 0 else z * F(1, 100),
        lambda z: int(z > 0),
    ),
}


def numpy_forward(weights, biases, activation, X):
    """float64 forward pass, batch (N, D)."""
    act = ACTIVATIONS[activation][0]
    h = np.asarray(X, dtype=np.float64)
    for i, (W, b) in enumerate(zip(weights, biases)):
        h = h @ np.asarray(W, dtype=np.float64).T + b
        if i < len(weights) - 1:
            h = act(h)
    return h


def fraction_forward(weights, biases, activation, x):
    """Exact forward pass in plain Fractions (Fraction(float) is the float's binary value),
    with the code of every layer (the last, affine layer has code 0 everywhere)."""
    act, code_of = ACTIVATIONS[activation][1], ACTIVATIONS[activation][2]
    h = [F(v) for v in x]
    code = []
    for i, (W, b) in enumerate(zip(weights, biases)):
        z = [sum((F(w) * v for w, v in zip(row, h)), F(0)) + F(bi) for row, bi in zip(W, b)]
        if i < len(weights) - 1:
            code.append(tuple(code_of(v) for v in z))
            h = [act(v) for v in z]
        else:
            code.append((0,) * len(z))
            h = z
    return h, tuple(code)


NETS = [([2, 16, 16, 1], 1), ([3, 8, 5, 2], 7), ([4, 6, 6, 6, 3], 11), ([1, 4, 1], 3)]


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("widths, seed", NETS)
def test_forward_matches_float64_numpy(random_mlp, widths, seed, activation):
    net, Ws, bs = random_mlp(widths, seed, activation=activation, with_weights=True)
    X = np.random.default_rng(seed + 100).uniform(-2, 2, size=(25, widths[0]))
    exact = net(X)
    assert exact.shape == (25, widths[-1])
    approx = numpy_forward(Ws, bs, activation, X)
    got = np.array([[float(v) for v in row] for row in exact])
    np.testing.assert_allclose(got, approx, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("widths, seed", NETS[:3])
def test_forward_and_code_match_pure_fractions(random_mlp, widths, seed, activation):
    net, Ws, bs = random_mlp(widths, seed, activation=activation, with_weights=True)
    X = np.random.default_rng(seed).uniform(-2, 2, size=(6, widths[0]))
    values, codes = net.forward_with_codes(X)
    for x, got, got_code in zip(X, values, codes):
        want, want_code = fraction_forward(Ws, bs, activation, x)
        assert list(got) == want
        assert all(type(v) is Fraction for v in got)
        assert got_code == want_code
        assert net.code(x) == want_code


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_affine_map_reproduces_forward_exactly(random_mlp, activation):
    net = random_mlp([3, 10, 10, 2], 5, activation=activation)
    for x in np.random.default_rng(1).uniform(-1, 1, size=(8, 3)):
        aff = net.affine_map(x)
        assert isinstance(aff, Affine) and aff.A.shape == (2, 3) and aff.b.shape == (2,)
        X = em.to_fraction_array(x)
        assert list(aff.A.dot(X) + aff.b) == list(net(x))
        assert list(aff(x)) == list(net(x))
        assert net.affine_map(code=net.code(x)) == aff


def test_batch_and_single_agree(random_mlp):
    net = random_mlp([3, 7, 4], 2)
    X = np.random.default_rng(0).normal(size=(5, 3))
    batch = net(X)
    codes = net.code(X)
    assert isinstance(codes, list) and len(codes) == 5
    for i in range(5):
        assert list(net(X[i])) == list(batch[i])
        assert net.code(X[i]) == codes[i]
    assert net(X[:0]).shape == (0, 4)
    assert net.code(X[:0]) == []
    assert list(net(X.tolist())[2]) == list(batch[2])  # nested lists work too


def test_lists_fractions_and_strings_as_input(relu_1d):
    assert relu_1d(["3/4"]).tolist() == [F(1, 4)]
    assert relu_1d([F(1, 4)]).tolist() == [F(0)]
    assert relu_1d([[1], [0]]).tolist() == [[F(1, 2)], [F(0)]]


# -- codes and ties ----------------------------------------------------------------------


def test_relu_tie_goes_to_code_zero():
    net = em.mlp([[[1, -1]], [[1]]], [[0], [0]])  # relu(x0 - x1)
    assert net.code([F(1, 3), F(1, 3)]) == ((0,), (0,))
    assert net.code([F(1, 2), F(1, 3)]) == ((1,), (0,))
    assert net.code([0, 1]) == ((0,), (0,))
    assert net.affine_map([1, 1]).A.tolist() == [[0, 0]]


def test_leaky_and_abs_ties_go_to_code_zero():
    for act in ("leaky_relu", "abs"):
        net = em.mlp([[[1], [1]], [[1, 1]]], [[0, -2], [0]], activation=act)
        assert net.code([2]) == ((1, 0), (0,))  # x - 2 == 0: code 0
        assert net.code([0]) == ((0, 0), (0,))  # x == 0: code 0
        assert net.code([3]) == ((1, 1), (0,))


def test_maxpool_tie_goes_to_first_entry():
    net = em.Network([em.MaxPool1d(3)], input_shape=(1, 3))
    assert net.code([5, 5, 5]) == ((0,),)
    assert net.code([1, 5, 5]) == ((1,),)
    assert net.code([1, 2, 5]) == ((2,),)
    m = MASO([[[1, 0], [0, 1], [1, 0]]], [[0, 0, 0]])  # max(x0, x1, x0)
    assert m.code([3, 1]) == (0,)
    assert m.code([1, 1]) == (0,)
    assert m.code([0, 1]) == (1,)


def test_ties_in_large_numbers():
    big = 10**40
    m = MASO([[[0], [big], [big]]], [[0, F(-1, big), F(-1, big)]])  # max(0, p, p), p = big x - 1/big
    x = F(1, big**2)  # p(x) == 0: a three-way tie
    assert m.code([x]) == (0,) and m([x]).tolist() == [F(0)]
    eps = F(1, big**5)
    assert m.code([x + eps]) == (1,)  # p > 0: pieces 1 and 2 tie, the first wins
    assert m([x + eps]).tolist() == [big * eps]
    assert m.code([x - eps]) == (0,)


# -- MASO itself -----------------------------------------------------------------------------


def direct_maso(A, B, z):
    """y_k = max_r <A[k, r], z> + B[k, r], code = first arg-max, in plain Fractions."""
    ys, code = [], []
    for k in range(len(A)):
        vals = [sum((F(a) * F(v) for a, v in zip(A[k][r], z)), F(0)) + F(B[k][r]) for r in range(len(A[k]))]
        best = max(vals)
        ys.append(best)
        code.append(vals.index(best))
    return ys, tuple(code)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.data())
def test_maso_matches_its_definition(K, R, D, data):
    fr = st.fractions(min_value=-3, max_value=3, max_denominator=6)
    A = [[[data.draw(fr) for _ in range(D)] for _ in range(R)] for _ in range(K)]
    B = [[data.draw(fr) for _ in range(R)] for _ in range(K)]
    z = [data.draw(fr) for _ in range(D)]
    m = MASO(A, B)
    ys, code = direct_maso(A, B, z)
    assert m(z).tolist() == ys
    assert m.code(z) == code


def test_maso_shapes_and_properties():
    m = MASO(np.zeros((3, 2, 4)), np.zeros((3, 2)))
    assert (m.num_units, m.num_pieces, m.input_dim, m.output_dim) == (3, 2, 4, 3)
    assert not m.is_affine and MASO([[[1]]], [[0]]).is_affine
    assert m.pieces_float().shape == (3, 2, 5)
    with pytest.raises(em.ShapeError, match=r"B have shape \(3, 3\); slopes A of shape \(3, 2, 4\) need B of shape \(3, 2\)"):
        MASO(np.zeros((3, 2, 4)), np.zeros((3, 3)))
    with pytest.raises(em.ShapeError, match=r"MASO offsets B has 1 dimension\(s\) \(shape \(3,\)\); expected 2"):
        MASO(np.zeros((3, 2, 4)), np.zeros(3))
    with pytest.raises(em.ShapeError, match="expected 3"):
        MASO(np.zeros((3, 2)), np.zeros((3, 2)))
    with pytest.raises(em.ShapeError, match="at least 1"):
        MASO(np.zeros((0, 2, 1)), np.zeros((0, 2)))
    with pytest.raises(em.DomainError, match=r"MASO slopes A\[0, 1, 0\] is nan"):
        MASO([[[0], [np.nan]]], [[0, 0]])


def test_maso_is_immutable_and_compares_by_value():
    m = MASO([[[0], [1]]], [[0, 0]])
    with pytest.raises(AttributeError):
        m.A = None
    assert m == MASO([[["0"], [1.0]]], [[0, F(0)]])
    assert hash(m) == hash(MASO([[[0], [1]]], [[0, 0]]))
    assert m != MASO([[[0], [2]]], [[0, 0]])


def test_all_zero_layer():
    """A layer whose pieces are all identically zero outputs zeros (regression: the forward
    pass once reused the previous layer's values)."""
    net = em.mlp([[[1], [2]], [[0, 0]], [[3]]], [[1, 1], [0], [F(1, 2)]])
    for x in ([5], [-5], [F(1, 3)]):
        assert net(x).tolist() == [F(1, 2)]
        assert net.code(x)[1] == (0,)
        assert list(net.affine_map(x)(x)) == [F(1, 2)]


# -- affine maps ------------------------------------------------------------------------------


def test_affine_map_of_every_code_of_a_small_net():
    """affine_map(code=...) is the composition of the selected pieces, feasible or not."""
    W1, b1 = [[1, 2], [-1, 1]], [F(1, 2), 0]
    W2, b2 = [[3, -1]], [1]
    net = em.mlp([W1, W2], [b1, b2])
    for c0 in range(2):
        for c1 in range(2):
            aff = net.affine_map(code=((c0, c1), (0,)))
            D = np.diag([F(c0), F(c1)])
            A = np.array(W2, dtype=object).dot(D).dot(np.array(W1, dtype=object))
            b = np.array(W2, dtype=object).dot(D).dot(np.array(b1, dtype=object)) + np.array(b2, dtype=object)
            assert aff.A.tolist() == A.tolist() and aff.b.tolist() == b.tolist()


@st.composite
def small_nets_and_points(draw):
    fr = st.fractions(min_value=-2, max_value=2, max_denominator=4)
    widths = draw(st.lists(st.integers(1, 4), min_size=2, max_size=4))
    weights = [[[draw(fr) for _ in range(n_in)] for _ in range(n_out)] for n_in, n_out in zip(widths, widths[1:])]
    biases = [[draw(fr) for _ in range(n_out)] for n_out in widths[1:]]
    act = draw(st.sampled_from(["relu", "abs", "leaky_relu"]))
    x = [draw(st.fractions(min_value=-3, max_value=3, max_denominator=8)) for _ in range(widths[0])]
    return weights, biases, act, x


@settings(max_examples=60, deadline=None)
@given(small_nets_and_points())
def test_affine_map_consistency_hypothesis(case):
    weights, biases, act, x = case
    net = em.mlp(weights, biases, activation=act)
    want, want_code = fraction_forward(weights, biases, act, x)
    assert net(x).tolist() == want
    assert net.code(x) == want_code
    aff = net.affine_map(x)
    assert aff(x).tolist() == want
    assert net.affine_map(code=want_code) == aff


def test_affine_map_argument_errors(relu_1d):
    with pytest.raises(TypeError, match="exactly one"):
        relu_1d.affine_map()
    with pytest.raises(TypeError, match="exactly one"):
        relu_1d.affine_map([1], code=((1,), (0,)))
    with pytest.raises(em.ShapeError, match="batch of 2"):
        relu_1d.affine_map([[1], [2]])


@pytest.mark.parametrize(
    "code, words",
    [
        (((1,),), "code has 1 layers; the network has 2"),
        (((1, 0), (0,)), "code of layer 0 has 2 entries; the layer has 1 units"),
        (((2,), (0,)), "code of layer 0 holds 2; pieces run from 0 to 1"),
        (((1,), (-1,)), "code of layer 1 holds -1; pieces run from 0 to 0"),
        (5, "is not a sequence of per-layer sequences"),
        ((("a",), (0,)), "is not a sequence of per-layer sequences"),
        (((0.5,), (0,)), "is not a sequence of per-layer sequences"),
    ],
)
def test_bad_codes(relu_1d, code, words):
    with pytest.raises(em.ShapeError) as info:
        relu_1d.affine_map(code=code)
    assert words in str(info.value)


def test_codes_accept_lists_and_numpy_ints(relu_1d):
    assert relu_1d.affine_map(code=[[np.int64(1)], [0]]) == relu_1d.affine_map([1])


def test_affine_objects():
    aff = Affine([[1, 2], [3, 4]], [F(1, 2), 0])
    assert (aff.output_dim, aff.input_dim) == (2, 2)
    assert aff([1, 1]).tolist() == [F(7, 2), F(7)]
    assert aff([[1, 1], [0, 0]]).tolist() == [[F(7, 2), F(7)], [F(1, 2), F(0)]]
    assert aff == Affine([[1.0, 2.0], [3.0, 4.0]], ["1/2", "0"])
    assert aff != Affine([[1, 2], [3, 4]], [0, 0])
    with pytest.raises(em.ShapeError, match="b has 3 entries; A has 2 rows"):
        Affine([[1, 2], [3, 4]], [1, 2, 3])
    with pytest.raises(em.ShapeError, match="x has 3 coordinates; the network expects 2"):
        aff([1, 2, 3])


# -- inputs -------------------------------------------------------------------------------------


def test_bad_inputs(relu_1d, random_mlp):
    net = random_mlp([3, 4, 2], 0)
    with pytest.raises(em.ShapeError, match="x has 2 coordinates; the network expects 3"):
        net([1, 2])
    with pytest.raises(em.ShapeError, match="each row of x has 2 coordinates; the network expects 3"):
        net([[1, 2], [3, 4]])
    with pytest.raises(em.ShapeError, match=r"x has shape \(1, 2, 3\); expected \(3,\) or \(N, 3\)"):
        net(np.zeros((1, 2, 3)))
    with pytest.raises(em.DomainError, match=r"x\[1\] is nan"):
        net([0, np.nan, 1])
    with pytest.raises(em.ShapeError, match="ragged"):
        net([[1, 2, 3], [1, 2]])


def test_inputs_in_the_input_shape():
    conv = em.Network([em.Conv1d([[[1, 1], [1, -1]]]), em.ReLU()], input_shape=(2, 3))
    x = np.arange(6).reshape(2, 3)
    single = conv(x)
    assert single.shape == (2,)
    assert single.tolist() == conv(x.ravel()).tolist()
    assert conv(np.stack([x, x])).shape == (2, 2)
    assert conv(np.stack([x.ravel(), x.ravel()])).tolist() == conv(np.stack([x, x])).tolist()
    with pytest.raises(em.ShapeError, match=r"or \(2, 3\) or \(N, 2, 3\)"):
        conv(np.zeros((3, 2, 1)))


# -- network structure and equality ------------------------------------------------------------------


def test_network_structure(random_mlp):
    net = random_mlp([3, 5, 4, 2], 0)
    assert (net.input_dim, net.output_dim, net.num_layers, len(net)) == (3, 2, 3, 3)
    assert [m.A.shape for m in net.masos] == [(5, 2, 3), (4, 2, 5), (2, 1, 4)]
    assert net.masos[-1].is_affine
    assert "layer 2: 2 units, affine" in net.summary()
    assert repr(net) == "Network(input_dim=3, layers=[5x2, 4x2, 2x1])"


def test_network_equality(random_mlp):
    a = random_mlp([2, 4, 1], 3)
    b = random_mlp([2, 4, 1], 3)
    c = random_mlp([2, 4, 1], 4)
    assert a == b and hash(a) == hash(b)
    assert a != c
    assert a != "a network"
    assert Network.from_masos(a.masos) == a
    assert Network.from_masos(a.masos[:1]) != a
    # folding is exact: two Dense layers in a row equal their product
    W1, W2 = [[1, 2], [3, 4]], [[F(1, 2), -1]]
    folded = em.Network([em.Dense(W1, [1, 0]), em.Dense(W2, [0])])
    assert folded == em.Network([em.Dense([[F(1, 2) - 3, 1 - 4]], [F(1, 2)])])


def test_from_masos_checks():
    relu = MASO([[[0], [1]]], [[0, 0]])
    with pytest.raises(em.ShapeError, match="layer 1 takes 2 inputs; layer 0 has 1 units"):
        Network.from_masos([relu, MASO([[[1, 1]]], [[0]])])
    with pytest.raises(TypeError, match="layer 0 is a str"):
        Network.from_masos(["relu"])
    with pytest.raises(em.ShapeError, match="at least one layer"):
        Network.from_masos([])
    with pytest.raises(em.ShapeError, match=r"input_shape \(2, 2\) holds 4 numbers; the first layer takes 1"):
        Network.from_masos([relu], input_shape=(2, 2))


# -- symbolic ---------------------------------------------------------------------------------------


def test_symbolic_matches_forward_at_rational_points(random_mlp):
    weights = [[[1, -2], [F(1, 2), 1], [-1, -1]], [[1, 1, -1], [2, 0, 1]], [[1, -3]]]
    biases = [[0, F(-1, 3), 1], [F(1, 4), 0], [2]]
    for act in ("relu", "abs", "leaky_relu"):
        net = em.mlp(weights, biases, activation=act)
        (expr,) = net.symbolic()
        x0, x1 = sympy.symbols("x0:2", real=True)
        for point in ([F(1, 3), F(-2, 5)], [F(0), F(0)], [F(7, 2), F(1, 9)], [F(-1), F(2)]):
            val = expr.subs({x0: sympy.Rational(point[0].numerator, point[0].denominator),
                             x1: sympy.Rational(point[1].numerator, point[1].denominator)})
            assert isinstance(val, sympy.Rational)
            assert F(int(val.p), int(val.q)) == net(point)[0]


def test_symbolic_on_float_weights(random_mlp):
    net = random_mlp([2, 3, 1], 9)
    (expr,) = net.symbolic()
    xs = sympy.symbols("x0:2", real=True)
    point = [F(1, 3), F(-1, 7)]
    val = expr.subs(dict(zip(xs, [sympy.Rational(1, 3), sympy.Rational(-1, 7)])))
    assert F(int(val.p), int(val.q)) == net(point)[0]


def test_symbolic_can_be_differentiated_and_printed(relu_1d):
    (expr,) = relu_1d.symbolic()
    (x0,) = sympy.symbols("x0:1", real=True)
    d = sympy.diff(expr, x0)
    assert d.subs(x0, 1) == 1 and d.subs(x0, 0) == 0
    tex = sympy.latex(expr)
    assert "x_{0}" in tex and "max" in tex
    assert sympy.simplify(expr.subs(x0, sympy.Rational(3, 2)) - 1) == 0


def test_symbolic_gradient_equals_templates():
    net = em.mlp([[[2, -1], [1, 1]], [[1, -1]]], [[0, -1], [0]], activation="abs")
    (expr,) = net.symbolic()
    xs = sympy.symbols("x0:2", real=True)
    point = [F(1, 3), F(5, 7)]  # a generic point (no unit at zero)
    subs = dict(zip(xs, [sympy.Rational(1, 3), sympy.Rational(5, 7)]))
    grad = [sympy.diff(expr, x).subs(subs) for x in xs]
    assert [F(int(g.p), int(g.q)) for g in grad] == list(em.templates(net, point)[0])


# -- restrict ----------------------------------------------------------------------------------------------


def test_restrict_is_composition(random_mlp):
    net = random_mlp([4, 6, 6, 2], 8)
    M = np.array([[1, 0], [0, 1], [F(1, 2), F(-1, 3)], [2, 1]], dtype=object)
    c = [F(1, 5), 0, -1, F(3, 7)]
    sub = net.restrict(M, c)
    assert sub.input_dim == 2 and sub.output_dim == 2 and sub.num_layers == net.num_layers
    for xp in ([F(1, 3), F(-2, 3)], [0, 0], [F(5, 2), F(1, 9)]):
        x = M.dot(np.array([F(v) for v in xp], dtype=object)) + np.array([F(v) for v in c], dtype=object)
        assert sub(xp).tolist() == net(x).tolist()
        assert sub.code(xp) == net.code(x)
    assert net.restrict(M)([1, 1]).tolist() == net(M.dot([F(1), F(1)])).tolist()


def test_restrict_errors(random_mlp):
    net = random_mlp([3, 4, 1], 0)
    with pytest.raises(em.ShapeError, match=r"M has shape \(2, 2\); expected \(3, d\)"):
        net.restrict(np.eye(2))
    with pytest.raises(em.ShapeError, match=r"M has shape \(3, 0\)"):
        net.restrict(np.zeros((3, 0)))
    with pytest.raises(em.ShapeError, match=r"offset c has shape \(2,\); expected \(3,\)"):
        net.restrict(np.eye(3)[:, :2], [0, 0])


# -- scale ------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_large_float32_mlp_is_exact_and_consistent():
    """[784, 256, 256, 10] with float32 weights: forward, code and affine map agree exactly
    (a sanity run; the timing figures live in benchmarks/)."""
    Ws, bs = mlp_weights([784, 256, 256, 10], 0)
    Ws = [W.astype(np.float32) for W in Ws]
    bs = [b.astype(np.float32) for b in bs]
    net = em.mlp(Ws, bs)
    rng = np.random.default_rng(1)
    X = rng.random((4, 784)).astype(np.float32)
    Y = net(X)
    approx = numpy_forward(Ws, bs, "relu", X.astype(np.float64))
    np.testing.assert_allclose(np.array(Y, dtype=np.float64), approx, rtol=1e-9, atol=1e-9)
    aff = net.affine_map(X[0])
    assert aff(X[0]).tolist() == Y[0].tolist()
