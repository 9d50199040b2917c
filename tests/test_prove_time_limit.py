"""Time limits are kept on properties whose bounds sit on ties, and what a stopped search
reports is still proven.

The network: ``y0 = sum_k |w_k . x + b_k|`` over 36 hyperplanes in 9 dimensions with integer
weights, one of them through the origin (its unit's bounds at the root are symmetric about 0,
a tie of the relaxation, which every box below inherits: each open box then needs the
checker's exact bound), and ``y1 = M + 1/1000``.  ``y0`` is convex, so its maximum ``M`` over
``[-1, 1]^9`` is at a corner, computed here exactly from the 512 corners; so the maximum of
``y0 - y1`` is ``-1/1000``.
"""

import itertools
import time
from fractions import Fraction

import numpy as np
import pytest

import exactmaso as em
from exactmaso.cli import main
from test_cli_vnnlib import abs_sum_files, abs_sum_net

SLACK = 3.0  # seconds past the limit (a loaded CI machine; the point is to catch 10x overruns)


def _tie_net():
    d, k = 9, 36
    rng = np.random.default_rng(0)
    w = rng.integers(-20, 21, size=(k, d))
    b11 = rng.choice([-9, -7, -5, -3, -1, 1, 3, 5, 7, 9], size=k)  # b = b11 / 11
    b11[0] = 0  # a hyperplane through the origin, the centre of the box
    W = [[Fraction(int(v)) for v in row] for row in w]
    b = [Fraction(int(v), 11) for v in b11]
    return abs_sum_net(W, b, Fraction(1, 1000))


@pytest.fixture(scope="module")
def tie_net():
    return _tie_net()


def test_the_maximum_is_at_a_corner(tie_net):
    """The exact network's values at the 512 corners (the fixture's M came from integers)."""
    net, M = tie_net
    corners = itertools.product([Fraction(-1), Fraction(1)], repeat=9)
    assert max(net(list(x))[0] for x in corners) == M


@pytest.mark.parametrize("limit", [0.02, 1.0, 2.0])
def test_check_spec_keeps_its_time_limit_and_its_interval_holds_the_maximum(tie_net, tmp_path, limit):
    net, M = tie_net
    spec = em.prove.load_vnnlib(abs_sum_files(tmp_path, net)[1], net)
    start = time.perf_counter()
    with pytest.raises(em.LimitError) as info:
        em.prove.check_spec(net, spec, time_limit=limit)
    assert time.perf_counter() - start < limit + SLACK
    exc = info.value
    true_max = Fraction(-1, 1000)  # the maximum of min_i g_i = y0 - y1 over the box
    assert exc.lower is None or exc.lower <= true_max
    assert exc.upper is None or exc.upper >= true_max


@pytest.mark.parametrize("limit", ["1", "2"])
def test_the_cli_answers_timeout_within_its_limit(tie_net, tmp_path, capsys, limit):
    model, prop = abs_sum_files(tmp_path, tie_net[0])
    out = tmp_path / "result.txt"
    start = time.perf_counter()
    assert main(["vnnlib", model, prop, "--timeout", limit, "--out", str(out)]) == 3
    assert time.perf_counter() - start < float(limit) + SLACK
    assert out.read_text() == "timeout\n"
    assert capsys.readouterr().out.startswith("timeout: ")


@pytest.mark.parametrize("limits", [{"time_limit": 0.5}, {"time_limit": 1.5}, {"max_nodes": 300}])
def test_a_stopped_bound_is_proven_and_certified(tie_net, limits):
    net, M = tie_net
    box = em.Box([-1] * 9, [1] * 9)
    start = time.perf_counter()
    with pytest.raises(em.LimitError) as info:
        em.prove.output_bounds(net, box, output=0, which="max", **limits)
    assert time.perf_counter() - start < limits.get("time_limit", 5.0) + SLACK
    exc = info.value
    assert exc.lower is not None and exc.upper is not None
    assert exc.lower <= M <= exc.upper
    # the certificate re-checks [lower, upper] from scratch, in Fractions
    em.prove.check(exc.certificate, net)
    claim = exc.certificate["claim"]
    assert Fraction(claim["upper"]) == exc.upper and Fraction(claim["lower"]) == exc.lower


def test_a_certificate_of_a_false_upper_bound_is_refused(tie_net):
    """The partial certificate's leaves are checked against its bound: the same tree cannot
    prove a bound below the true maximum."""
    net, M = tie_net
    with pytest.raises(em.LimitError) as info:
        em.prove.output_bounds(net, em.Box([-1] * 9, [1] * 9), output=0, which="max", time_limit=0.5)
    cert = info.value.certificate
    false = M - 1
    cert["claim"]["upper"] = str(false)
    cert["proofs"][0]["bound"] = str(false)
    with pytest.raises(em.CertificateError):
        em.prove.check(cert, net)
