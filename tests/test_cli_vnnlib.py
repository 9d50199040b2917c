"""``exactmaso vnnlib MODEL PROP``: the competition's verdicts (holds / violated with an exact
counterexample / timeout), the result file, the certificate and one-line errors."""

from __future__ import annotations

import itertools
import json
import math
from fractions import Fraction

import numpy as np
import pytest

import exactmaso as em
from exactmaso.cli import main

# y0 = relu(x0) - relu(x1), y1 = 1/4 on the box [0, 1]^2 (the read-out's bias)
_HEADER = """; two inputs, two outputs
(declare-const X_0 Real)
(declare-const X_1 Real)
(declare-const Y_0 Real)
(declare-const Y_1 Real)
(assert (>= X_0 0.0))
(assert (<= X_0 {hi0}))
(assert (>= X_1 0.5))
(assert (<= X_1 1.0))
"""


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "net.json"
    em.mlp([[[1, 0], [0, 1]], [[1, -1], [0, 0]]], [[0, 0], [0, Fraction(1, 4)]]).save(path)
    return str(path)


def _prop(tmp_path, hi0: str, unsafe: str) -> str:
    path = tmp_path / "prop.vnnlib"
    path.write_text(_HEADER.format(hi0=hi0) + unsafe + "\n")
    return str(path)


def test_holds_writes_the_verdict_and_a_certificate_that_verifies(model, tmp_path, capsys):
    # y0 = x0 - x1 <= 0.25 - 0.5 < 1/4 = y1 on the box: "y0 >= y1" is unreachable
    prop = _prop(tmp_path, "0.25", "(assert (>= Y_0 Y_1))")
    out, cert = tmp_path / "result.txt", tmp_path / "cert.json"
    assert main(["vnnlib", model, prop, "--out", str(out), "--certificate", str(cert)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "holds"
    assert out.read_text() == "holds\n"
    assert main(["check-certificate", str(cert), model]) == 0
    assert json.loads(cert.read_text())["claim"]["status"] == "holds"


def test_violated_prints_an_exact_counterexample(model, tmp_path, capsys):
    # with x0 up to 1, y0 = x0 - x1 reaches 1/4 = y1 only at x0 - x1 >= 1/4, e.g. (1, 1/2)
    prop = _prop(tmp_path, "1.0", "(assert (>= Y_0 Y_1))")
    out = tmp_path / "result.txt"
    assert main(["vnnlib", model, prop, "--out", str(out)]) == 0
    text = out.read_text()
    assert text.splitlines()[0] == "violated"
    values = {}
    for line in text.splitlines()[1:]:
        name, value = line.strip("() ").split()
        values[name] = Fraction(value)
    x0, x1 = values["X_0"], values["X_1"]
    assert 0 <= x0 <= 1 and Fraction(1, 2) <= x1 <= 1
    # the written outputs are the exact forward pass, and they lie in the unsafe set
    assert values["Y_0"] == max(x0, 0) - max(x1, 0) and values["Y_1"] == Fraction(1, 4)
    assert values["Y_0"] >= values["Y_1"]
    assert capsys.readouterr().out.startswith("violated\n")


def abs_sum_net(W: list, b: list, margin: Fraction) -> tuple[em.Network, Fraction]:
    """``y0 = sum_k |w_k . x + b_k|`` (each ``|z|`` as ``relu(z) + relu(-z)``) and
    ``y1 = M + margin``, ``M`` the maximum of ``y0`` on ``[-1, 1]^d``: ``y0`` is convex, so it
    is the largest value at the ``2^d`` corners, computed exactly in integers (the rows scaled
    by their common denominator).  Returns the network and ``M``."""
    d, k = len(W[0]), len(W)
    den = math.lcm(*(Fraction(v).denominator for v in [*itertools.chain(*W), *b]))
    Wi = np.array([[int(Fraction(v) * den) for v in row] for row in W])
    bi = np.array([int(Fraction(v) * den) for v in b])
    corners = np.array(list(itertools.product([-1, 1], repeat=d)))
    M = Fraction(int(np.abs(corners @ Wi.T + bi).sum(axis=1).max()), den)
    net = em.mlp([W + [[-v for v in row] for row in W], [[1] * (2 * k), [0] * (2 * k)]],
                 [b + [-v for v in b], [0, M + margin]])
    return net, M


def abs_sum_files(tmp_path, net: em.Network) -> tuple[str, str]:
    """The model file and the property ``y0 >= y1`` on ``[-1, 1]^d`` (unsafe: never, when the
    net is :func:`abs_sum_net`'s with a positive margin)."""
    d = net.input_dim
    model = tmp_path / "abs.json"
    net.save(model)
    lines = [f"(declare-const X_{i} Real)" for i in range(d)] + ["(declare-const Y_0 Real)", "(declare-const Y_1 Real)"]
    for i in range(d):
        lines += [f"(assert (>= X_{i} -1.0))", f"(assert (<= X_{i} 1.0))"]
    lines.append("(assert (>= Y_0 Y_1))")
    prop = tmp_path / "abs.vnnlib"
    prop.write_text("\n".join(lines) + "\n")
    return str(model), str(prop)


def _hard_property(tmp_path) -> tuple[str, str]:
    """A model and a property that holds, by 1/1000, and that no bound at the root decides.

    ``y0 = sum_k |w_k . x + b_k|`` over 36 generic hyperplanes in 9 dimensions (each ``|z|`` as
    ``relu(z) + relu(-z)``) and ``y1 = M + 1/1000``, on the box ``[-1, 1]^9``; the unsafe set
    is ``y0 >= y1``.  ``y0`` is convex, so its maximum ``M`` is at one of the 512 corners,
    computed here exactly.  A linear bound of ``|z|`` on an interval is its chord, far above
    ``|z|`` wherever a hyperplane crosses the box: at the root ``y0 - y1`` is bounded by about
    300 where it must be below 0, and branch and bound runs for minutes (over 4, when this was
    written) before its bounds close.  The weights are sevenths and the biases odd elevenths,
    so that no bound of a halved box is within rounding of 0 (a tie, which a time-out bounds
    again exactly: slowly, for many open boxes).
    """
    d, k = 9, 36
    rng = np.random.default_rng(0)
    w7 = rng.integers(-20, 21, size=(k, d))  # w = w7 / 7
    b11 = rng.choice([-9, -7, -5, -3, -1, 1, 3, 5, 7, 9], size=k)  # b = b11 / 11
    W = [[Fraction(int(v), 7) for v in row] for row in w7]
    b = [Fraction(int(v), 11) for v in b11]
    return abs_sum_files(tmp_path, abs_sum_net(W, b, Fraction(1, 1000))[0])


def test_timeout_is_a_verdict_with_exit_3(tmp_path, capsys):
    model, prop = _hard_property(tmp_path)
    out, cert = tmp_path / "result.txt", tmp_path / "cert.json"
    status = main(["vnnlib", model, prop, "--timeout", "0.5", "--out", str(out), "--certificate", str(cert)])
    assert status == 3 and out.read_text() == "timeout\n"
    assert capsys.readouterr().out.startswith("timeout: ")
    assert not cert.exists()  # nothing was proven: no certificate


@pytest.mark.parametrize("args, message", [
    (["--timeout", "0"], "--timeout"),
    (["--timeout", "-5"], "--timeout"),
])
def test_bad_options_are_one_line_errors(model, tmp_path, capsys, args, message):
    prop = _prop(tmp_path, "1.0", "(assert (>= Y_0 Y_1))")
    assert main(["vnnlib", model, prop, *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_a_property_of_the_wrong_dimension_is_refused(model, tmp_path, capsys):
    path = tmp_path / "three.vnnlib"
    path.write_text("(declare-const X_0 Real)\n(declare-const X_1 Real)\n(declare-const X_2 Real)\n"
                    "(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n"
                    "(assert (>= X_0 0))\n(assert (<= X_0 1))\n(assert (>= X_1 0))\n(assert (<= X_1 1))\n"
                    "(assert (>= X_2 0))\n(assert (<= X_2 1))\n(assert (>= Y_0 Y_1))\n")
    out = tmp_path / "result.txt"
    assert main(["vnnlib", model, str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "ShapeError" in err and "declares 3 inputs" in err
    assert not out.exists()  # nothing half-written


def test_a_missing_property_file_is_named(model, tmp_path, capsys):
    assert main(["vnnlib", model, str(tmp_path / "nope.vnnlib")]) == 2
    assert "nope.vnnlib" in capsys.readouterr().err
