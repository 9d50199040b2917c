"""Templates and matched filters (exactmaso/templates.py)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import exactmaso as em

from conftest import mlp_weights


def float_forward(weights, biases, x):
    h = np.asarray(x, dtype=np.float64)
    for i, (W, b) in enumerate(zip(weights, biases)):
        h = W @ h + b
        if i < len(weights) - 1:
            h = np.maximum(h, 0.0)
    return h


@pytest.mark.parametrize("widths, seed", [([3, 12, 12, 2], 0), ([5, 8, 4], 1), ([2, 16, 16, 1], 1)])
def test_templates_are_gradients(random_mlp, widths, seed):
    """Central finite differences of a float64 forward pass at a generic point (no unit
    near zero, so the step stays in the region) approximate the template rows."""
    net = random_mlp(widths, seed)
    Ws, bs = mlp_weights(widths, seed)
    x = np.random.default_rng(seed + 7).uniform(-1, 1, size=widths[0])
    T = em.templates(net, x)
    assert T.shape == (widths[-1], widths[0])
    h = 1e-6
    for d in range(widths[0]):
        e = np.zeros(widths[0])
        e[d] = h
        fd = (float_forward(Ws, bs, x + e) - float_forward(Ws, bs, x - e)) / (2 * h)
        assert [float(v) for v in T[:, d]] == pytest.approx(fd, rel=1e-6, abs=1e-6)


def test_templates_equal_affine_map_rows_exactly(random_mlp):
    net = random_mlp([4, 6, 6, 3], 2)
    for x in np.random.default_rng(0).normal(size=(5, 4)):
        T = em.templates(net, x)
        assert T.dtype == object and all(type(v) is Fraction for v in T.flat)
        assert T.tolist() == net.affine_map(x).A.tolist()


def test_templates_of_a_hand_computed_net():
    # f(x) = relu(x0 - x1) + 2 relu(x1): at (3, 1) both units are on: templates [1, 1]
    net = em.mlp([[[1, -1], [0, 1]], [[1, 2]]])
    assert em.templates(net, [3, 1]).tolist() == [[1, 1]]
    assert em.templates(net, [1, 3]).tolist() == [[0, 2]]
    assert em.templates(net, [-1, -3]).tolist() == [[1, -1]]


@pytest.mark.parametrize("activation", ["relu", "abs", "leaky_relu"])
def test_matched_filter_sums_to_the_output(random_mlp, activation):
    net = random_mlp([3, 8, 8, 4], 3, activation=activation)
    for x in np.random.default_rng(1).normal(size=(6, 3)):
        corr, offset = em.matched_filter(net, x)
        assert corr.shape == offset.shape == (4,)
        assert (corr + offset).tolist() == net(x).tolist()
        aff = net.affine_map(x)
        X = em.to_fraction_array(x)
        assert corr.tolist() == [sum((a * v for a, v in zip(row, X)), Fraction(0)) for row in aff.A]
        assert offset.tolist() == aff.b.tolist()


def test_matched_filter_is_a_copy(relu_1d):
    corr, offset = em.matched_filter(relu_1d, [2])
    assert corr.tolist() == [Fraction(2)] and offset.tolist() == [Fraction(-1, 2)]
    offset[0] = Fraction(99)
    assert em.matched_filter(relu_1d, [2])[1].tolist() == [Fraction(-1, 2)]


def test_templates_reject_batches(relu_1d):
    with pytest.raises(em.ShapeError, match="batch"):
        em.templates(relu_1d, [[1], [2]])
    with pytest.raises(em.ShapeError, match="batch"):
        em.matched_filter(relu_1d, [[1], [2]])
