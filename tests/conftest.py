"""Tiny shared fixtures: a square, a 1-D ReLU, the Telgarsky sawtooth, random MLPs.

Every fixture is exact where it can be (integer or rational weights) and documents the
mathematics that tests may rely on.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import exactmaso as em


@pytest.fixture
def square() -> tuple[list[int], list[int]]:
    """The box [0, 1]^2 as ``(lo, hi)`` lists."""
    return [0, 0], [1, 1]


@pytest.fixture
def relu_1d() -> em.Network:
    """``x -> relu(x - 1/2)`` on one input (em.mlp, one hidden unit, identity read-out).

    Two linear regions on [0, 1] split at x = 1/2; code ((1,), (0,)) for x > 1/2.
    """
    return em.mlp([[[1]], [[1]]], [[Fraction(-1, 2)], [0]])


def make_sawtooth(depth: int) -> em.Network:
    """Telgarsky's sawtooth ``t^depth`` with the tent ``t(x) = 2 relu(x) - 4 relu(x - 1/2)``.

    On [0, 1] the tent maps [0, 1/2] onto [0, 1] rising and [1/2, 1] onto [0, 1] falling, so
    ``t^L`` is piecewise linear with exactly ``2**L`` linear regions there (its breakpoints
    are k / 2**L), and every layer's code is (1, 0) or (1, 1) on the interior of a region.
    Built unfolded (Dense, ReLU, Dense, Dense, ReLU, ...) so that compiling must fold the
    read-out of one tent into the next: the result has ``depth`` ReLU layers plus one affine.
    """
    if depth < 1:
        raise ValueError(f"sawtooth depth is {depth}; expected at least 1")
    split = em.Dense([[1], [1]], [0, Fraction(-1, 2)])  # (x, x - 1/2)
    readout = em.Dense([[2, -4]])                                      # 2 h0 - 4 h1
    layers: list = []
    for i in range(depth):
        if i:
            layers.append(readout)
        layers += [split, em.ReLU()]
    layers.append(readout)
    return em.Network(layers)


@pytest.fixture
def sawtooth():
    """Factory: ``sawtooth(L)`` is the exact Telgarsky sawtooth network of depth L (see
    :func:`make_sawtooth`), 1 input, 1 output, 2**L linear regions on [0, 1]."""
    return make_sawtooth


def mlp_weights(widths: list[int], seed: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The benchmark recipe of issue 3: ``rng = numpy.random.default_rng(seed)``; for each
    layer in order ``W = rng.normal(size=(out, in)) / sqrt(in)``, then
    ``b = 0.5 * rng.normal(size=out)`` (float64)."""
    rng = np.random.default_rng(seed)
    weights, biases = [], []
    for n_in, n_out in zip(widths[:-1], widths[1:]):
        weights.append(rng.normal(size=(n_out, n_in)) / np.sqrt(n_in))
        biases.append(0.5 * rng.normal(size=n_out))
    return weights, biases


def make_random_mlp(widths: list[int], seed: int, *, activation="relu", with_weights: bool = False):
    """An :func:`em.mlp` on the float64 weights of :func:`mlp_weights` (converted exactly),
    with ``activation`` between layers and the last layer affine.

    With ``with_weights=True`` returns ``(net, weights, biases)`` (the float64 arrays), for
    independent reference computations.
    """
    weights, biases = mlp_weights(widths, seed)
    net = em.mlp(weights, biases, activation=activation)
    return (net, weights, biases) if with_weights else net


@pytest.fixture
def random_mlp():
    """Factory: ``random_mlp(widths, seed, activation="relu", with_weights=False)``; see
    :func:`make_random_mlp`.  E.g. ``random_mlp([2, 16, 16, 1], 1)`` is network N1 of issue 3."""
    return make_random_mlp


def one_line_error(capsys, argv: list[str], status: int = 2) -> str:
    """Run the CLI's ``main(argv)``; check the exit status and that stderr is exactly one line;
    return that line."""
    from exactmaso.cli import main

    assert main(argv) == status
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert "Traceback" not in err
    return err.strip()


@pytest.fixture
def enumerations(monkeypatch) -> list:
    """Records every call of ``em.regions`` (still enumerating), to show that a check came first."""
    calls = []
    real = em.regions

    def recording(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(em, "regions", recording)
    return calls
