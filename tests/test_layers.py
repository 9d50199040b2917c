"""Layers compiled to MASOs (exactmaso/layers.py) against direct computations in the test."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

import exactmaso as em

F = Fraction


def fr(a) -> np.ndarray:
    """Integer / float array -> object array of exact Fractions (Fraction(float) is exact)."""
    a = np.asarray(a)
    out = np.empty(a.shape, dtype=object)
    for idx in np.ndindex(a.shape):
        v = a[idx]
        out[idx] = v if isinstance(v, F) else F(v.item() if hasattr(v, "item") else v)
    return out


def rand_ints(rng, shape, lo=-3, hi=4):
    return rng.integers(lo, hi, size=shape)


# -- direct reference computations (channels first, one sample) -------------------------------


def conv_direct(x, weight, bias, stride, padding):
    """Cross-correlation with zero padding, any number of spatial dims, by explicit loops."""
    x, weight = fr(x), fr(weight)
    cout, cin = weight.shape[:2]
    kernel = weight.shape[2:]
    spatial = x.shape[1:]
    out_sp = [(s + 2 * p - k) // st + 1 for s, p, k, st in zip(spatial, padding, kernel, stride)]
    out = np.empty((cout, *out_sp), dtype=object)
    for co in range(cout):
        for opos in itertools.product(*[range(o) for o in out_sp]):
            acc = F(bias[co]) if bias is not None else F(0)
            for ci in range(cin):
                for kpos in itertools.product(*[range(k) for k in kernel]):
                    ipos = [o * st - p + k for o, st, p, k in zip(opos, stride, padding, kpos)]
                    if all(0 <= i < s for i, s in zip(ipos, spatial)):
                        acc += weight[(co, ci, *kpos)] * x[(ci, *ipos)]
            out[(co, *opos)] = acc
    return out


def pool_direct(x, kernel, stride, padding, mode):
    """Max pooling with -inf padding, or average pooling dividing by the kernel size
    (padding counted as zeros), by explicit loops; also returns the max-pool codes."""
    x = fr(x)
    spatial = x.shape[1:]
    out_sp = [(s + 2 * p - k) // st + 1 for s, p, k, st in zip(spatial, padding, kernel, stride)]
    out = np.empty((x.shape[0], *out_sp), dtype=object)
    codes = []
    for c in range(x.shape[0]):
        for opos in itertools.product(*[range(o) for o in out_sp]):
            vals = []
            for kpos in itertools.product(*[range(k) for k in kernel]):
                ipos = [o * st - p + k for o, st, p, k in zip(opos, stride, padding, kpos)]
                if all(0 <= i < s for i, s in zip(ipos, spatial)):
                    vals.append(x[(c, *ipos)])
            if mode == "max":
                out[(c, *opos)] = max(vals)
                codes.append(vals.index(max(vals)))
            else:
                out[(c, *opos)] = sum(vals, F(0)) / math.prod(kernel)
    return out, tuple(codes)


# -- convolutions ---------------------------------------------------------------------------------


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 0), (1, 1), (2, 1), ((1, 2), (2, 0)), (3, 2)])
def test_conv2d_equals_direct_loops(stride, padding):
    rng = np.random.default_rng(hash((str(stride), str(padding))) % 2**32)
    weight = rand_ints(rng, (3, 2, 3, 2))
    bias = [F(1, 2), -1, 0]
    conv = em.Conv2d(weight, bias, stride=stride, padding=padding)
    net = em.Network([conv], input_shape=(2, 5, 6))
    st = stride if isinstance(stride, tuple) else (stride, stride)
    pd = padding if isinstance(padding, tuple) else (padding, padding)
    for _ in range(3):
        x = rand_ints(rng, (2, 5, 6))
        want = conv_direct(x, weight, bias, st, pd)
        assert net(x).tolist() == want.ravel().tolist()
    assert net.output_dim == want.size


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1), (3, 0), (1, 2)])
def test_conv1d_equals_direct_loops(stride, padding):
    rng = np.random.default_rng(stride * 10 + padding)
    weight = rng.normal(size=(2, 3, 3))  # float weights: exact binary values
    bias = rng.normal(size=2)
    net = em.Network([em.Conv1d(weight, bias, stride=stride, padding=padding)], input_shape=(3, 7))
    x = rng.normal(size=(3, 7))
    want = conv_direct(x, weight, bias, (stride,), (padding,))
    assert net(x).tolist() == want.ravel().tolist()


def test_conv_errors():
    with pytest.raises(em.ShapeError, match="weight takes 2 channels; its input has 3"):
        em.Network([em.Conv2d(np.ones((1, 2, 2, 2)))], input_shape=(3, 4, 4))
    with pytest.raises(em.ShapeError, match=r"needs an input of 3 dimensions \(channels first\); got shape \(16,\)"):
        em.Network([em.Conv2d(np.ones((1, 1, 2, 2)))], input_shape=(16,))
    with pytest.raises(em.ShapeError, match="does not fit an input of shape"):
        em.Network([em.Conv1d(np.ones((1, 1, 5)))], input_shape=(1, 3))
    with pytest.raises(em.ShapeError, match="Conv2d stride is 0; expected an int or 2 ints, each at least 1"):
        em.Conv2d(np.ones((1, 1, 2, 2)), stride=0)
    with pytest.raises(em.ShapeError, match="Conv1d padding is -1"):
        em.Conv1d(np.ones((1, 1, 2)), padding=-1)
    with pytest.raises(em.ShapeError, match=r"Conv2d bias has shape \(2,\); expected \(1,\)"):
        em.Conv2d(np.ones((1, 1, 2, 2)), bias=[1, 2])
    with pytest.raises(em.ShapeError, match="expected 4"):
        em.Conv2d(np.ones((1, 2, 2)))


# -- pooling -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kernel, stride, padding", [(2, None, 0), (3, 1, 1), (2, 1, 1), ((2, 3), (1, 2), (1, 1)), (3, 2, 0)]
)
def test_pool2d_equals_direct(kernel, stride, padding):
    rng = np.random.default_rng(5)
    k = kernel if isinstance(kernel, tuple) else (kernel, kernel)
    s = k if stride is None else (stride if isinstance(stride, tuple) else (stride, stride))
    p = padding if isinstance(padding, tuple) else (padding, padding)
    mx = em.Network([em.MaxPool2d(kernel, stride, padding)], input_shape=(2, 5, 6))
    avg = em.Network([em.AvgPool2d(kernel, stride, padding)], input_shape=(2, 5, 6))
    for _ in range(3):
        x = rand_ints(rng, (2, 5, 6), -2, 3)  # small integers: many ties
        want_max, want_codes = pool_direct(x, k, s, p, "max")
        got, code = mx.forward_with_codes(x)
        assert got.tolist() == want_max.ravel().tolist()
        assert code == (want_codes,)
        want_avg, _ = pool_direct(x, k, s, p, "avg")
        assert avg(x).tolist() == want_avg.ravel().tolist()


@pytest.mark.parametrize("kernel, stride, padding", [(2, None, 0), (3, 1, 1), (4, 3, 2)])
def test_pool1d_equals_direct(kernel, stride, padding):
    rng = np.random.default_rng(kernel)
    x = rng.normal(size=(3, 9))
    s = kernel if stride is None else stride
    mx = em.Network([em.MaxPool1d(kernel, stride, padding)], input_shape=(3, 9))
    avg = em.Network([em.AvgPool1d(kernel, stride, padding)], input_shape=(3, 9))
    want_max, want_codes = pool_direct(x, (kernel,), (s,), (padding,), "max")
    assert mx(x).tolist() == want_max.ravel().tolist()
    assert mx.code(x) == (want_codes,)
    assert avg(x).tolist() == pool_direct(x, (kernel,), (s,), (padding,), "avg")[0].ravel().tolist()


def test_maxpool_border_windows_have_repeated_first_entry():
    # kernel 3, padding 1 on a length-4 input: the first window holds entries 0, 1 only
    net = em.Network([em.MaxPool1d(3, 1, 1)], input_shape=(1, 4))
    m = net.masos[0]
    assert m.A.shape == (4, 3, 4)
    assert m.A[0].tolist() == [[1, 0, 0, 0], [0, 1, 0, 0], [1, 0, 0, 0]]
    assert net.code([7, 7, 0, 0]) == ((0, 0, 0, 0),)  # all ties go to the first entry
    assert net.code([1, 7, 0, 5]) == ((1, 1, 0, 1),)
    assert net([1, 7, 0, 5]).tolist() == [7, 7, 7, 5]


def test_pool_errors():
    with pytest.raises(em.ShapeError, match="padding .* is more than half the kernel"):
        em.MaxPool2d(2, padding=2)
    with pytest.raises(em.ShapeError, match="kernel_size is 0"):
        em.AvgPool1d(0)
    with pytest.raises(em.ShapeError, match="does not fit"):
        em.Network([em.MaxPool2d(4)], input_shape=(1, 3, 3))
    with pytest.raises(em.ShapeError, match=r"layer 1 \(MaxPool2d\) needs an input of 3 dimensions"):
        em.Network([em.Flatten(), em.MaxPool2d(2)], input_shape=(1, 4, 4))


# -- batch norm ---------------------------------------------------------------------------------------


def test_batchnorm_exact_when_var_plus_eps_is_a_square():
    eps = F(1, 100)
    roots = [F(3, 2), F(2), F(1, 4)]
    mean, var = [1, F(-1, 2), 0], [r * r - eps for r in roots]
    weight, bias = [2, -1, F(1, 3)], [0, 1, F(1, 2)]
    bn = em.BatchNorm.from_stats(mean, var, weight, bias, eps=eps)
    assert bn.scale.tolist() == [F(weight[c]) / roots[c] for c in range(3)]
    net = em.Network([bn], input_shape=(3,))
    z = [F(5, 7), 2, F(-1, 3)]
    want = [F(weight[c]) * (F(z[c]) - F(mean[c])) / roots[c] + F(bias[c]) for c in range(3)]
    assert net(z).tolist() == want


def test_batchnorm_float64_definition_otherwise():
    """scale = float(weight) / math.sqrt(float(var + eps)) taken exactly; shift = bias - scale * mean exactly."""
    mean, var, weight, bias = [0.3, -1.2], [0.7, 2.0], [1.5, 0.25], [0.1, -0.2]
    eps = 1e-5
    bn = em.BatchNorm.from_stats(mean, var, weight, bias, eps=eps)
    for c in range(2):
        v = F(var[c]) + F(eps)  # exact sum of the binary values
        scale = F(float(F(weight[c])) / math.sqrt(float(v)))
        assert bn.scale[c] == scale
        assert bn.shift[c] == F(bias[c]) - scale * F(mean[c])
        # and it is the float64 normalisation to within rounding
        assert float(bn.scale[c]) == pytest.approx(weight[c] / math.sqrt(var[c] + eps), rel=1e-15)


def test_batchnorm_on_feature_maps_and_errors():
    bn = em.BatchNorm([2, F(1, 2)], [1, 0])
    net = em.Network([bn], input_shape=(2, 2, 2))
    x = np.arange(8).reshape(2, 2, 2)
    assert net(x).tolist() == [F(1), F(3), F(5), F(7), F(2), F(5, 2), F(3), F(7, 2)]
    with pytest.raises(em.ShapeError, match=r"\(BatchNorm\) has 2 channels; its input has 3"):
        em.Network([bn], input_shape=(3, 2))
    with pytest.raises(em.DomainError, match="channel 0 has variance \\+ eps = -1"):
        em.BatchNorm.from_stats([0], [-2], eps=1)
    with pytest.raises(em.ShapeError, match="shift has 1 channels; scale has 2"):
        em.BatchNorm([1, 2], [0])


def test_batchnorm_folds_into_dense_exactly():
    bn = em.BatchNorm.from_stats([1, 2], [F(1, 4), 4], eps=0)  # scales 2 and 1/2
    net = em.Network([em.Dense([[1, 1], [1, -1]]), bn, em.ReLU(), em.Dense([[1, 1]])])
    assert net.num_layers == 2
    for x in ([3, 1], [F(1, 3), F(-2, 5)]):
        z = [F(x[0]) + F(x[1]), F(x[0]) - F(x[1])]
        h = [max(F(0), 2 * (z[0] - 1)), max(F(0), (z[1] - 2) / 2)]
        assert net(x).tolist() == [h[0] + h[1]]


# -- activations -----------------------------------------------------------------------------------------


def test_leaky_relu_slopes():
    net = em.Network([em.LeakyReLU(F(1, 4))], input_shape=(2,))
    assert net([-4, 4]).tolist() == [F(-1), F(4)]
    assert em.Network([em.LeakyReLU(-1)], input_shape=(1,))([-3]).tolist() == [F(3)]  # |x| as max(-x, x)
    assert em.Network([em.LeakyReLU(1)], input_shape=(1,))([-3]).tolist() == [F(-3)]
    assert em.LeakyReLU().negative_slope == F(1, 100)
    assert em.LeakyReLU(0.01).negative_slope == F(0.01)
    with pytest.raises(em.UnsupportedLayerError, match="slope 2 > 1 is concave"):
        em.LeakyReLU(2)
    with pytest.raises(em.UnsupportedLayerError):
        em.LeakyReLU(1.0000001)
    with pytest.raises(TypeError):  # UnsupportedLayerError is also a TypeError
        em.LeakyReLU(3)


class Sigmoid:
    """A stand-in for an unsupported layer object."""


@pytest.mark.parametrize(
    "layer, words", [("relu", "'relu' (type str)"), (Sigmoid(), "type Sigmoid"), (np.tanh, "type ufunc"), (None, "None")]
)
def test_unsupported_layers_are_named(layer, words):
    with pytest.raises(em.UnsupportedLayerError) as info:
        em.Network([em.Dense([[1]]), layer])
    msg = str(info.value)
    assert msg.startswith("layer 1 is ") and words in msg and "supported:" in msg
    with pytest.raises(em.UnsupportedLayerError, match="layer 0 is "):
        em.Network([layer])


def test_unsupported_inside_residual_names_its_position():
    with pytest.raises(em.UnsupportedLayerError, match=r"layer 1\.0 is .*Sigmoid"):
        em.Network([em.Dense([[1]]), em.Residual([Sigmoid()])])


def test_dense_shape_mismatch_names_both_sizes():
    with pytest.raises(em.ShapeError, match=r"layer 2 \(Dense\) weight has 7 columns; its input has 8 entries"):
        em.Network([em.Dense(np.ones((8, 3))), em.ReLU(), em.Dense(np.ones((2, 7)))])
    with pytest.raises(em.ShapeError, match="Dense bias has 2 entries; the weight has 3 rows"):
        em.Dense(np.ones((3, 2)), [1, 2])
    with pytest.raises(em.ShapeError, match=r"add a Flatten\(\) before it"):
        em.Network([em.Dense(np.ones((2, 4)))], input_shape=(1, 2, 2))


def test_network_compile_errors():
    with pytest.raises(em.ShapeError, match="empty list"):
        em.Network([])
    with pytest.raises(em.ShapeError, match="pass input_shape="):
        em.Network([em.ReLU()])
    with pytest.raises(em.ShapeError, match="wrap a branch in Residual"):
        em.Network([em.Dense([[1]]), [em.ReLU()]])
    with pytest.raises(em.ShapeError, match="input_shape is"):
        em.Network([em.ReLU()], input_shape=(0,))


# -- structure: folding, flatten, trailing affine -------------------------------------------------------


def test_layer_structure_and_trailing_affine():
    relu_only = em.Network([em.Dense([[1], [-1]]), em.ReLU()])
    assert relu_only.num_layers == 1  # nothing after the last nonlinearity
    with_readout = em.Network([em.Dense([[1], [-1]]), em.ReLU(), em.Dense(np.eye(2))])
    assert with_readout.num_layers == 2 and with_readout.masos[-1].is_affine  # even an identity read-out
    assert em.Network([em.Flatten()], input_shape=(1, 2)).masos[0].is_affine  # no MASO at all: one affine
    flat_after = em.Network([em.Dense([[1], [-1]]), em.ReLU(), em.Flatten()])
    assert flat_after.num_layers == 1


def test_cnn_against_direct_computation():
    rng = np.random.default_rng(3)
    w1 = rand_ints(rng, (2, 1, 3, 3))
    b1 = [F(1, 2), F(-1, 3)]
    w2 = rng.normal(size=(3, 2 * 3 * 3))
    net = em.Network(
        [em.Conv2d(w1, b1, padding=1), em.ReLU(), em.MaxPool2d(2, 2, 1), em.Flatten(), em.Dense(w2), em.Abs()],
        input_shape=(1, 5, 5),
    )
    assert [m.num_pieces for m in net.masos] == [2, 4, 2]
    for _ in range(4):
        x = rng.normal(size=(1, 5, 5))
        h = conv_direct(x, w1, b1, (1, 1), (1, 1))
        h = np.vectorize(lambda v: max(v, F(0)), otypes=[object])(h)
        h, _ = pool_direct(h, (2, 2), (2, 2), (1, 1), "max")
        h = h.ravel()
        want = [abs(sum((F(w) * v for w, v in zip(row, h)), F(0))) for row in w2]
        assert net(x).tolist() == want
        assert net.affine_map(x.ravel())(x.ravel()).tolist() == want


# -- residual blocks -----------------------------------------------------------------------------------------


def relu_vec(v):
    return [max(F(0), t) for t in v]


def matvec(W, v, b=None):
    out = [sum((F(w) * t for w, t in zip(row, v)), F(0)) for row in W]
    return out if b is None else [o + F(c) for o, c in zip(out, b)]


def test_residual_equals_x_plus_g():
    W1, b1 = [[1, -1], [2, 1], [0, 1]], [0, F(-1, 2), 1]
    W2, b2 = [[1, 0, -1], [F(1, 2), 1, 1]], [F(1, 3), 0]
    block = em.Residual([em.Dense(W1, b1), em.ReLU(), em.Dense(W2, b2)])
    W0 = [[1, 2], [-1, 1]]
    net = em.Network([em.Dense(W0), em.ReLU(), block, em.ReLU(), em.Dense([[1, -1]])])
    rng = np.random.default_rng(0)
    for x in rng.integers(-4, 5, size=(10, 2)).tolist() + [[F(1, 3), F(2, 7)]]:
        u = relu_vec(matvec(W0, x))
        g = matvec(W2, relu_vec(matvec(W1, u, b1)), b2)
        want = [a - b for a, b in [relu_vec([u[0] + g[0], u[1] + g[1]])]]
        assert net(x).tolist() == want
        assert net.affine_map(x)(x).tolist() == want
    # the carried units have identical pieces, so their code is always 0
    carried = net.masos[1].A[3:]
    assert all((carried[k, 0] == carried[k, 1]).all() for k in range(carried.shape[0]))


def test_residual_with_affine_branch_and_at_the_input():
    W = [[1, F(1, 2)], [-1, 3]]
    b = [1, F(-1, 4)]
    net = em.Network([em.Residual([em.Dense(W, b)]), em.ReLU()], input_shape=(2,))
    assert net.num_layers == 1
    for x in ([1, 2], [F(-3, 2), F(1, 5)]):
        g = matvec(W, x, b)
        assert net(x).tolist() == relu_vec([F(x[0]) + g[0], F(x[1]) + g[1]])


def test_nested_residual():
    inner = em.Residual([em.Dense([[1, -1], [0, 2]], [F(-1, 2), 0]), em.Abs()])  # y -> y + |A y + a|
    outer = em.Residual([em.Dense([[2, 1], [1, 1]]), em.ReLU(), inner, em.Dense([[1, 0], [-1, 1]], [0, 1])])
    net = em.Network([outer, em.Dense([[1, 2]])], input_shape=(2,))
    rng = np.random.default_rng(1)
    for x in rng.integers(-3, 4, size=(12, 2)).tolist() + [[F(1, 7), F(-2, 9)]]:
        y = relu_vec(matvec([[2, 1], [1, 1]], x))
        z = matvec([[1, -1], [0, 2]], y, [F(-1, 2), 0])
        y2 = [y[i] + abs(z[i]) for i in range(2)]
        g = matvec([[1, 0], [-1, 1]], y2, [0, 1])
        out = [F(x[0]) + g[0], F(x[1]) + g[1]]
        want = matvec([[1, 2]], out)
        assert net(x).tolist() == want
        assert net.affine_map(x)(x).tolist() == want


def test_residual_branch_must_keep_the_shape():
    with pytest.raises(em.ShapeError, match=r"branch ends with shape \(3,\); its input has shape \(2,\)"):
        em.Network([em.Residual([em.Dense(np.ones((3, 2)))])], input_shape=(2,))


def test_raw_masos_as_layers():
    relu = em.MASO([[[0, 0], [1, -1]]], [[0, 0]])  # relu(x0 - x1)
    net = em.Network([em.Dense([[1, 0], [0, 2]], [1, 0]), relu])
    assert net([3, 1]).tolist() == [F(2)]
    with pytest.raises(em.ShapeError, match=r"layer 1 \(MASO\) takes 2 inputs; it gets shape \(3,\)"):
        em.Network([em.Dense(np.ones((3, 1))), relu])


# -- mlp -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "activation, fn",
    [
        ("relu", lambda z: max(z, F(0))),
        ("ReLU", lambda z: max(z, F(0))),
        ("abs", abs),
        ("leaky_relu", lambda z: max(z, z / 100)),
        ("LeakyReLU", lambda z: max(z, z / 100)),
        (em.LeakyReLU(F(1, 3)), lambda z: max(z, z / 3)),
        (em.Abs, abs),
    ],
)
def test_mlp_activations(activation, fn):
    W1, b1, W2, b2 = [[1, -2], [3, 1]], [F(1, 2), -1], [[1, 1]], [0]
    net = em.mlp([W1, W2], [b1, b2], activation=activation)
    for x in ([1, 1], [-2, F(1, 3)], [0, 0]):
        assert net(x).tolist() == matvec(W2, [fn(z) for z in matvec(W1, x, b1)], b2)


def test_mlp_errors():
    with pytest.raises(em.UnsupportedLayerError, match="activation 'sigmoid' is not a max-affine spline"):
        em.mlp([[[1]], [[1]]], activation="sigmoid")
    with pytest.raises(em.UnsupportedLayerError, match="neither a layer"):
        em.mlp([[[1]], [[1]]], activation=42)
    with pytest.raises(em.ShapeError, match="2 weight matrices and 1 bias vectors"):
        em.mlp([[[1]], [[1]]], [[0]])
    with pytest.raises(em.ShapeError, match="no weight matrices"):
        em.mlp([])
    with pytest.raises(em.ShapeError, match=r"layer 2 \(Dense\) weight has 3 columns; its input has 2 entries"):
        em.mlp([np.ones((2, 1)), np.ones((1, 3))])


@pytest.mark.parametrize("activation", [em.ReLU(), em.Abs(), em.LeakyReLU(F(-2, 3)), em.LeakyReLU(0.01)])
def test_integer_form_of_compiled_pieces_matches_the_pieces(activation):
    """The compiler hands the forward pass an integer form of each MASO's pieces; it must
    equal [A | B] exactly."""
    net = em.Network([em.Dense([[F(1, 3), 2], [-1, F(5, 7)]], [F(1, 2), 0]), activation, em.Dense([[1, 1]])])
    for m in net.masos:
        rows, den = m._int_pieces()
        K, R, D = m.A.shape
        for k in range(K):
            for r in range(R):
                want = list(m.A[k, r]) + [m.B[k, r]]
                assert [F(v, den) for v in rows[k * R + r]] == want
