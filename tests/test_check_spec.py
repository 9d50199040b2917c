"""``em.prove.check_spec``: exact verdicts where float verifiers are fooled, and real ACAS Xu
instances (a holding and a violated one) whose certificates the checker re-verifies.

Every expected verdict is derived by hand from the network's formula; every counterexample
is re-checked here with a forward pass written in the test (Fractions, no exactmaso code).
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

import exactmaso as em
from exactmaso.errors import CertificateError
from exactmaso.prove.vnnlib import parse_vnnlib

try:
    from acas_reference import acas_parameters, acas_path, forward_exact
except ImportError:  # pragma: no cover - run from the repository root as a package
    from tests.acas_reference import acas_parameters, acas_path, forward_exact  # type: ignore[no-redef]

SHARED = Path(__file__).resolve().parents[2] / "shared"
TINY = Fraction(1, 2**60)


def relu(v: Fraction) -> Fraction:
    return v if v > 0 else Fraction(0)


def header(n_in: int, n_out: int) -> str:
    return "".join(f"(declare-const X_{i} Real)\n" for i in range(n_in)) + \
        "".join(f"(declare-const Y_{j} Real)\n" for j in range(n_out))


# ---------------------------------------------------------------------------------------
# where a float verifier is fooled
# ---------------------------------------------------------------------------------------

def tiny_gap_net() -> em.Network:
    """y0 = relu(x0) + relu(x1) + 2^-60, y1 = relu(x0) + relu(x1): y0 > y1 everywhere, by 2^-60,
    which float64 rounds away wherever y1 is near 1."""
    return em.mlp([[[1, 0], [0, 1]], [[1, 1], [1, 1]]], [[0, 0], [TINY, 0]])


BOX01 = "(assert (>= X_0 0.0))\n(assert (<= X_0 1.0))\n(assert (>= X_1 0.0))\n(assert (<= X_1 1.0))\n"


def test_outputs_apart_by_two_to_the_minus_60_are_never_equal():
    net = tiny_gap_net()
    assert float(net([Fraction(1), Fraction(1)])[0]) == float(net([Fraction(1), Fraction(1)])[1])  # floats tie
    spec = parse_vnnlib(header(2, 2) + BOX01 + "(assert (<= Y_0 Y_1))\n", net=net)
    r = em.prove.check_spec(net, spec)
    assert r.status == "holds"
    r.verify()


def test_a_gap_of_two_to_the_minus_60_is_a_real_violation_the_other_way():
    net = tiny_gap_net()
    # y0 >= y1 + 2^-60 holds everywhere (with equality): "y0 - y1 >= 2^-60" is reachable
    digits = str(5**60)  # 2^-60 = 5^60 / 10^60, a terminating decimal, read exactly
    exact = "0." + "0" * (60 - len(digits)) + digits
    assert Fraction(exact) == TINY
    body = f"(assert (>= (- Y_0 Y_1) {exact}))\n"
    spec = parse_vnnlib(header(2, 2) + BOX01 + body, net=net)
    r = em.prove.check_spec(net, spec)
    assert r.status == "violated"
    x = r.counterexample
    y0 = relu(x[0]) + relu(x[1]) + TINY
    y1 = relu(x[0]) + relu(x[1])
    assert 0 <= x[0] <= 1 and 0 <= x[1] <= 1 and y0 - y1 >= TINY
    assert tuple(r.output) == (y0, y1)
    r.verify()


def test_a_counterexample_exactly_on_a_kink():
    # y0 = relu(x0 - 3/10) on x0 in [0.3, 1]: "y0 <= 0" only at x0 = 3/10, the kink itself
    net = em.mlp([[[1]], [[1]]], [[Fraction(-3, 10)], [0]])
    spec = parse_vnnlib(header(1, 1) + "(assert (>= X_0 0.3))\n(assert (<= X_0 1.0))\n(assert (<= Y_0 0.0))\n",
                        net=net)
    r = em.prove.check_spec(net, spec)
    assert r.status == "violated"
    assert r.counterexample == (Fraction(3, 10),) and relu(r.counterexample[0] - Fraction(3, 10)) == 0
    r.verify()
    # just past the kink the unsafe set is out of reach
    spec = parse_vnnlib(header(1, 1) + "(assert (>= X_0 0.3000001))\n(assert (<= X_0 1.0))\n(assert (<= Y_0 0.0))\n",
                        net=net)
    assert em.prove.check_spec(net, spec).status == "holds"


def test_a_box_with_lo_equal_hi_in_one_coordinate():
    # y0 = relu(x0 + x1 - 1) with x1 fixed at 0.5: y0 = relu(x0 - 1/2) on x0 in [0, 1]
    net = em.mlp([[[1, 1]], [[1]]], [[-1], [0]])
    fixed = "(assert (>= X_0 0.0))\n(assert (<= X_0 1.0))\n(assert (>= X_1 0.5))\n(assert (<= X_1 0.5))\n"
    holds = parse_vnnlib(header(2, 1) + fixed + "(assert (>= Y_0 0.5000001))\n", net=net)
    r = em.prove.check_spec(net, holds)
    assert r.status == "holds"  # the max is relu(1 - 1/2) = 1/2
    r.verify()
    reach = parse_vnnlib(header(2, 1) + fixed + "(assert (>= Y_0 0.5))\n", net=net)
    r = em.prove.check_spec(net, reach)
    assert r.status == "violated"
    assert r.counterexample == (Fraction(1), Fraction(1, 2))  # the only point reaching 1/2
    r.verify()


def test_a_tampered_spec_certificate_is_rejected(tmp_path):
    net = tiny_gap_net()
    spec = parse_vnnlib(header(2, 2) + BOX01 + "(assert (<= Y_0 Y_1))\n", net=net)
    path = tmp_path / "cert.json"
    em.prove.check_spec(net, spec).save(path)
    em.prove.check(path, net)
    data = json.loads(path.read_text())
    # claim the other output: "y1 <= y0" is reached everywhere, so the tree cannot prove it
    data["claim"]["cases"][0]["unsafe"][0][:2] = data["claim"]["cases"][0]["unsafe"][0][1::-1]
    path.write_text(json.dumps(data))
    with pytest.raises(CertificateError):
        em.prove.check(path, net)


# ---------------------------------------------------------------------------------------
# ACAS Xu (../shared beside the repository)
# ---------------------------------------------------------------------------------------

def acas_prop(number: int) -> Path:
    path = SHARED / "acasxu" / f"prop_{number}.vnnlib"
    if not path.exists():
        pytest.skip(f"{path} is not present")
    return path


def test_acasxu_instance_that_holds_has_a_certificate_the_checker_accepts(tmp_path):
    path = acas_path("4_5")
    net = em.from_onnx(path)
    spec = em.prove.load_vnnlib(acas_prop(4), net)
    r = em.prove.check_spec(net, spec, time_limit=100)
    assert r.status == "holds"  # VNN-COMP 2021: 4_5 prop_4 holds
    cert = tmp_path / "cert.json"
    r.save(cert)
    em.prove.check(cert, net)
    # a split point moved: the certificate no longer covers the box, or no longer proves it
    data = json.loads(cert.read_text())
    proof = data["proofs"][0]
    assert "split" in proof["tree"] or "branch" in proof["tree"]
    proof["bound"] = "-1"
    cert.write_text(json.dumps(data))
    with pytest.raises(CertificateError, match="bound"):
        em.prove.check(cert, net)


def test_acasxu_instance_that_is_violated_has_an_exact_counterexample():
    path = acas_path("2_1")
    net = em.from_onnx(path)
    spec = em.prove.load_vnnlib(acas_prop(2), net)
    r = em.prove.check_spec(net, spec, time_limit=100)
    assert r.status == "violated"  # VNN-COMP 2021: 2_1 prop_2 is violated
    x = r.counterexample
    case = spec.cases[r.case]
    assert all(lo <= v <= hi for v, lo, hi in zip(x, case.inputs.lo, case.inputs.hi))
    y = forward_exact(*acas_parameters(path), list(x))  # from the raw initializers
    assert tuple(y) == tuple(r.output)
    # property 2's unsafe set: Y_0 is the largest score
    assert all(y[0] >= y[j] for j in range(1, 5))
    r.verify()


# ---------------------------------------------------------------------------------------
# a violation hidden in the second case, in a narrow spike
# ---------------------------------------------------------------------------------------

def spike_net() -> em.Network:
    """y0 = relu(1 - 1000 |x0 - 3/10|) = relu(1 - 1000 relu(x0 - 3/10) - 1000 relu(3/10 - x0)):
    a spike of height 1 and base 1/500 at x0 = 3/10, zero elsewhere on [0, 1]."""
    return em.mlp([[[1], [-1]], [[-1000, -1000]], [[1]]],
                  [[Fraction(-3, 10), Fraction(3, 10)], [1], [0]])


def spike(x: Fraction) -> Fraction:
    return relu(1 - 1000 * abs(x - Fraction(3, 10)))


SPIKE_SPEC = header(1, 1) + "(assert (>= X_0 0.0))\n(assert (<= X_0 1.0))\n" \
    "(assert (or (and (<= Y_0 -0.5)) (and (>= Y_0 0.9999))))\n"


@pytest.mark.parametrize("probes", [True, False])
def test_a_violation_in_the_second_case_inside_a_narrow_spike(monkeypatch, probes):
    # case 0 (y0 <= -1/2) holds: y0 >= 0; case 1 (y0 >= 0.9999) holds only where
    # |x0 - 3/10| <= 1e-7.  Found by the random points and their pattern search, and with
    # those off (no random points, no polish) by branch and bound alone
    if not probes:
        from exactmaso.prove import search, vnn
        monkeypatch.setattr(vnn, "SPEC_PROBE_SAMPLES", 0)
        monkeypatch.setattr(search, "PROBE_SAMPLES", 0)
        monkeypatch.setattr(search, "PROBE_ROUNDS", 0)
    net = spike_net()
    assert net([Fraction(3, 10)]) == [1] and net([Fraction(1, 2)]) == [0]
    spec = parse_vnnlib(SPIKE_SPEC, net=net)
    r = em.prove.check_spec(net, spec, time_limit=60)
    assert r.status == "violated" and r.case == 1
    (x,) = r.counterexample
    assert 0 <= x <= 1 and spike(x) >= Fraction(9999, 10000) and r.output == (spike(x),)
    r.verify()


def test_the_spike_spec_holds_once_the_spike_is_out_of_reach():
    net = spike_net()
    spec = parse_vnnlib(SPIKE_SPEC.replace("0.9999", "1.0000001"), net=net)
    r = em.prove.check_spec(net, spec, time_limit=60)
    assert r.status == "holds"  # the spike's top is exactly 1
    r.verify()


@pytest.mark.parametrize("name, number", [("1_9", 7), ("2_9", 8)])
def test_acasxu_violations_that_branch_and_bound_reaches_slowly(name, number):
    # VNN-COMP 2021: both violated; the fastest float verifier missed both within 116 s
    path = acas_path(name)
    net = em.from_onnx(path)
    spec = em.prove.load_vnnlib(acas_prop(number), net)
    r = em.prove.check_spec(net, spec, time_limit=100)
    assert r.status == "violated"
    x, case = r.counterexample, spec.cases[r.case]
    assert all(lo <= v <= hi for v, lo, hi in zip(x, case.inputs.lo, case.inputs.hi))
    y = forward_exact(*acas_parameters(path), list(x))  # from the raw initializers
    assert tuple(y) == tuple(r.output)
    assert all(c.holds(y) for c in case.unsafe)
