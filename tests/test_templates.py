"""Templates and matched filters (exactmaso/templates.py)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import exactmaso as em

from conftest import make_random_mlp, mlp_weights
from exactmaso.templates import class_templates, cosine_similarity, memorisation


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


# -- batches -------------------------------------------------------------------------------
def _maxpool_net(seed: int) -> em.Network:
    """Conv1d (2 channels, kernel 3) on a (1, 8) signal, ReLU, MaxPool1d(2), Flatten, Dense to 3."""
    rng = np.random.default_rng(seed)
    return em.Network(
        [em.Conv1d(rng.normal(size=(2, 1, 3)), rng.normal(size=2)), em.ReLU(), em.MaxPool1d(2),
         em.Flatten(), em.Dense(rng.normal(size=(3, 6)), rng.normal(size=3))],
        input_shape=(1, 8),
    )


def _pool_first_net(seed: int) -> em.Network:
    """MaxPool1d(2) over the raw (1, 6) input (pieces x_i, hyperplanes x_i = x_j), then an MLP."""
    rng = np.random.default_rng(seed)
    return em.Network(
        [em.MaxPool1d(2), em.Flatten(), em.Dense(rng.normal(size=(5, 3)), rng.normal(size=5)), em.LeakyReLU("1/10"),
         em.Dense(rng.normal(size=(2, 5)), rng.normal(size=2))],
        input_shape=(1, 6),
    )


NETS = {
    "relu": lambda: make_random_mlp([3, 8, 8, 4], 3),
    "leaky_relu": lambda: make_random_mlp([3, 8, 8, 4], 4, activation="leaky_relu"),
    "abs": lambda: make_random_mlp([4, 6, 5, 3], 5, activation="abs"),
    "maxpool": lambda: _maxpool_net(6),
    "maxpool_first": lambda: _pool_first_net(7),
}


def _batch(net: em.Network, n: int, seed: int) -> np.ndarray:
    """``n`` random inputs with a few exact repeats (so some codes are shared by several rows)."""
    X = np.random.default_rng(seed).normal(size=(n, net.input_dim))
    X[n // 2] = X[0]
    X[n - 1] = X[1]
    return X


@pytest.mark.parametrize("name", sorted(NETS))
def test_templates_times_input_plus_offset_is_the_output(name):
    net = NETS[name]()
    X = _batch(net, 12, 0)
    T = em.templates(net, X)
    corr, offset = em.matched_filter(net, X)
    Y = net(X)
    assert T.shape == (12, net.output_dim, net.input_dim) and corr.shape == offset.shape == Y.shape
    assert all(type(v) is Fraction for v in T.flat)
    for i, x in enumerate(em.to_fraction_array(X)):
        by_hand = [sum((a * v for a, v in zip(row, x)), Fraction(0)) for row in T[i]]
        assert by_hand == corr[i].tolist()
        assert [c + b for c, b in zip(by_hand, offset[i])] == Y[i].tolist()


@pytest.mark.parametrize("name", sorted(NETS))
def test_batch_equals_per_sample(name):
    net = NETS[name]()
    X = _batch(net, 10, 1)
    T = em.templates(net, X)
    corr, offset = em.matched_filter(net, X)
    ct = class_templates(net, X)
    for i, x in enumerate(X):
        assert T[i].tolist() == em.templates(net, x).tolist()
        c1, o1 = em.matched_filter(net, x)
        assert corr[i].tolist() == c1.tolist() and offset[i].tolist() == o1.tolist()
        one = class_templates(net, x)
        assert one.num_samples == 1 and one.codes[0] == ct.codes[i] == net.code(x)
        assert one.templates[0].tolist() == ct.templates[i].tolist() == T[i].tolist()
        assert one.predicted[0] == ct.predicted[i]
        assert one.similarity[0] == ct.similarity[i]  # same float, computed the same exact way
    assert ct.outputs.tolist() == net(X).tolist()


def test_batches_in_the_input_shape_and_empty_batches():
    net = _maxpool_net(2)
    X = _batch(net, 4, 2)
    assert em.templates(net, X.reshape(4, 1, 8)).tolist() == em.templates(net, X).tolist()
    assert em.templates(net, X[0].reshape(1, 8)).shape == (3, 8)  # exactly input_shape: one input
    assert em.templates(net, np.zeros((0, 8))).shape == (0, 3, 8)


# -- class templates -----------------------------------------------------------------------
def _float_cosine(u, v) -> float:
    u, v = np.asarray(u, dtype=float), np.asarray(v, dtype=float)
    return float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)))


@pytest.mark.parametrize("name", ["relu", "abs", "maxpool"])
def test_class_templates_predict_the_arg_max_and_the_cosine_of_its_template(name):
    net = NETS[name]()
    X = _batch(net, 10, 3)
    ct = class_templates(net, X)
    Y = net(X)
    for i in range(len(X)):
        best = max(Y[i])
        assert ct.predicted[i] == [c for c in range(net.output_dim) if Y[i][c] == best][0]
        assert ct.predicted_templates[i].tolist() == ct.templates[i, ct.predicted[i]].tolist()
        assert ct.similarity[i] == pytest.approx(_float_cosine(X[i], ct.predicted_templates[i]), rel=1e-12)
    ct.verify()


def test_class_templates_by_hand():
    # outputs (relu(x0), relu(x1)) on four quadrant regions; at (2, 3) the template of class 1
    # is e1: cosine 3 / sqrt(13); at (4, 4) the tie goes to class 0
    net = em.mlp([[[1, 0], [0, 1]], [[1, 0], [0, 1]]])
    ct = class_templates(net, [[2, 3], [4, 4], [-1, -2]])
    assert ct.predicted.tolist() == [1, 0, 0]
    assert ct.templates[0].tolist() == [[1, 0], [0, 1]]
    assert ct.templates[2].tolist() == [[0, 0], [0, 0]]
    assert ct.correlations[0].tolist() == [2, 3] and ct.offsets[0].tolist() == [0, 0]
    assert ct.similarity[0] == pytest.approx(3 / 13**0.5, rel=1e-15)
    assert ct.similarity[1] == pytest.approx(2**-0.5, rel=1e-15)
    assert np.isnan(ct.similarity[2])  # the template of class 0 is zero there
    assert cosine_similarity([3, 4], [4, 3]) == 24 / 25
    assert np.isnan(cosine_similarity([0, 0], [1, 2]))


def test_a_one_output_network_is_a_logit():
    # f(x) = relu(x0) - relu(x1) - 1: class 1 where f > 0, with template A[0]; class 0 gets -A[0]
    net = em.mlp([[[1, 0], [0, 1]], [[1, -1]]], [[0, 0], [-1]])
    ct = class_templates(net, [[3, 1], [1, 3], [-2, -2]])
    assert ct.num_classes == 2
    assert ct.predicted.tolist() == [1, 0, 0]
    assert ct.predicted_templates.tolist() == [[1, -1], [-1, 1], [0, 0]]
    assert ct.similarity[0] == pytest.approx(2 / (10**0.5 * 2**0.5), rel=1e-15)
    assert ct.similarity[1] == pytest.approx(2 / (10**0.5 * 2**0.5), rel=1e-15)
    ct.verify()


def test_verify_catches_a_changed_template_or_prediction():
    net = NETS["relu"]()
    ct = class_templates(net, _batch(net, 4, 4))
    ct.verify()
    ct.templates[1, 0, 0] += Fraction(1, 10**9)
    with pytest.raises(em.CertificateError, match="input 1: the templates"):
        ct.verify()
    ct.templates[1, 0, 0] -= Fraction(1, 10**9)
    ct.predicted[2] = (ct.predicted[2] + 1) % net.output_dim
    with pytest.raises(em.CertificateError, match="input 2: predicted class"):
        ct.verify()


# -- memorisation --------------------------------------------------------------------------
def _oracle_patterns(weights, biases, X, activation: str) -> list[tuple]:
    """Activation patterns (pre-activation > 0, unit by unit, layer by layer) from the raw
    float weights converted to Fractions: the oracle for region sharing.  For ReLU, leaky ReLU
    (slope 1/100) and abs, a unit's arg-max piece is 1 exactly when its pre-activation is
    positive (at 0 the two pieces tie and the tie goes to piece 0)."""
    act = {"relu": lambda p: max(p, Fraction(0)), "leaky_relu": lambda p: max(p, p / 100), "abs": abs}[activation]
    W = [[[Fraction(v) for v in row] for row in Wl] for Wl in weights]
    b = [[Fraction(v) for v in bl] for bl in biases]
    out = []
    for x in X:
        h = [Fraction(v) for v in x]
        pattern = []
        for Wl, bl in zip(W[:-1], b[:-1]):
            pre = [sum((w * v for w, v in zip(row, h)), Fraction(0)) + c for row, c in zip(Wl, bl)]
            pattern.append(tuple(p > 0 for p in pre))
            h = [act(p) for p in pre]
        out.append(tuple(pattern))
    return out


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "abs"])
def test_region_sharing_counts_match_an_independent_oracle(activation):
    # a small net on a small box: few regions, many samples in each, and exact repeats
    net, weights, biases = make_random_mlp([2, 5, 4, 3], 8, activation=activation, with_weights=True)
    rng = np.random.default_rng(9)
    X_train = rng.uniform(-1, 1, size=(60, 2))
    X_train[50:55] = X_train[:5]
    X_test = np.vstack([rng.uniform(-1, 1, size=(25, 2)), rng.uniform(5, 9, size=(5, 2)), X_train[:3]])
    m = memorisation(net, X_train, X_test)
    train_pat = _oracle_patterns(weights, biases, X_train, activation)
    test_pat = _oracle_patterns(weights, biases, X_test, activation)
    assert m.train.shared.tolist() == [train_pat.count(p) for p in train_pat]
    assert m.train.train_shared.tolist() == m.train.shared.tolist()
    assert m.test.shared.tolist() == [test_pat.count(p) for p in test_pat]
    assert m.test.train_shared.tolist() == [train_pat.count(p) for p in test_pat]
    for s, pats in ((m.train, train_pat), (m.test, test_pat)):
        occupied = set(pats)
        alone = [p for p in occupied if pats.count(p) == 1]
        assert s.num_regions == len(occupied)
        assert s.singleton_fraction == Fraction(len(alone), len(occupied))
    assert 1 < m.train.num_regions < 60 and m.train.shared.max() > 1  # the test is not vacuous
    assert m.test.in_training_region == Fraction(sum(1 for p in test_pat if p in set(train_pat)), len(test_pat))
    m.verify()


def test_singleton_fraction_by_hand():
    # (relu(x0), relu(x1)): the regions are the four open quadrants (a point on an axis goes
    # with the tie to the lower code)
    net = em.mlp([[[1, 0], [0, 1]], [[1, 0], [0, 1]]])
    X_train = [[1, 1], [2, 3], [-1, 2], [3, -1], [0, 5]]  # (0, 5) ties at x0 = 0: with (-1, 2)
    X_test = [[5, 5], [-1, -1], [-3, -4], [4, -2]]
    m = memorisation(net, X_train, X_test, labels_train=[0, 1, 1, 0, 0], labels_test=[0, 1, 0, 1])
    assert m.train.shared.tolist() == [2, 2, 2, 1, 2]
    assert m.train.num_regions == 3 and m.train.num_singletons == 1
    assert m.train.singleton_fraction == Fraction(1, 3)
    assert m.test.shared.tolist() == [1, 2, 2, 1] and m.test.singleton_fraction == Fraction(2, 3)
    assert m.test.train_shared.tolist() == [2, 0, 0, 1]
    assert m.test.in_training_region == Fraction(1, 2)
    # predictions: (1, 1) tie -> 0, (2, 3) -> 1, (-1, 2) -> 1, (3, -1) -> 0, (0, 5) -> 1
    assert m.train.predicted.tolist() == [0, 1, 1, 0, 1]
    assert m.train.accuracy == Fraction(4, 5) and m.test.accuracy == Fraction(1, 2)
    assert m.train.similarity[1] == pytest.approx(3 / 13**0.5, rel=1e-15)
    m.verify()
    table = str(m)
    assert table.splitlines()[0].split() == ["train", "test"]
    row = {line[:40].strip(): line[40:].split() for line in table.splitlines()[1:]}
    assert row["samples"] == ["5", "4"]
    assert row["occupied regions"] == ["3", "3"]
    assert row["regions with one sample"] == ["1", "2"]
    assert row["fraction of occupied regions"] == ["0.333", "0.667"]
    assert row["accuracy"] == ["0.800", "0.500"]
    assert row["samples in a region with training data"] == ["1.000", "0.500"]


def test_memorisation_without_a_test_set():
    net = NETS["relu"]()
    m = memorisation(net, _batch(net, 8, 5))
    assert m.test is None and m.sets == (m.train,)
    assert "test" not in str(m).splitlines()[0] and "accuracy" not in str(m)
    assert m.train.accuracy is None and m.train.correct is None


def test_memorisation_verify_catches_a_changed_count():
    net = NETS["relu"]()
    m = memorisation(net, _batch(net, 8, 6), _batch(net, 4, 7))
    m.verify()
    m.test.train_shared[0] += 1
    with pytest.raises(em.CertificateError, match="test: training samples per region"):
        m.verify()


def test_memorisation_rejects_bad_inputs():
    net = NETS["relu"]()
    X = _batch(net, 4, 8)
    with pytest.raises(em.ShapeError, match="X_train is one input"):
        memorisation(net, X[0])
    with pytest.raises(em.ShapeError, match="X_train holds no samples"):
        memorisation(net, np.zeros((0, 3)))
    with pytest.raises(em.ShapeError, match="labels_train has shape"):
        memorisation(net, X, labels_train=[0, 1])
    with pytest.raises(em.ShapeError, match="labels_test was given without X_test"):
        memorisation(net, X, labels_test=[0])
    with pytest.raises(em.ShapeError, match="each row of x has 2 coordinates"):
        memorisation(net, X, np.zeros((2, 2)))
