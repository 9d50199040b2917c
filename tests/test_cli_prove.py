"""``exactmaso prove ...`` and ``exactmaso check-certificate``: exact answers, certificates
that verify, rejected tampering (exit 4), limits (exit 3) and one-line errors (exit 2)."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

import exactmaso as em
from exactmaso.cli import main


def _two_class() -> em.Network:
    # y0 = relu(x0), y1 = relu(x1): on [-1, 1]^2, y0 ranges over [0, 1]
    return em.mlp([[[1, 0], [0, 1]], [[1, 0], [0, 1]]], [[0, 0], [0, 0]])


@pytest.fixture
def models(tmp_path):
    a = tmp_path / "a.json"
    b = tmp_path / "b.json"
    _two_class().save(a)
    # the same function with the hidden units swapped
    em.mlp([[[0, 1], [1, 0]], [[0, 1], [1, 0]]], [[0, 0], [0, 0]]).save(b)
    return str(a), str(b)


def test_bounds_prints_exact_values_and_writes_a_certificate(models, tmp_path, capsys):
    a, _ = models
    cert = tmp_path / "bounds.json"
    assert main(["prove", "bounds", a, "--box", "-1", "1", "--output", "0", "--certificate", str(cert)]) == 0
    out = capsys.readouterr().out
    assert "max = 1" in out and "min = 0" in out
    assert main(["check-certificate", str(cert), a]) == 0
    assert "verified" in capsys.readouterr().out


def test_check_certificate_rejects_a_tampered_bound(models, tmp_path, capsys):
    a, _ = models
    cert = tmp_path / "bounds.json"
    assert main(["prove", "bounds", a, "--box", "-1", "1", "--output", "0", "--certificate", str(cert)]) == 0
    data = json.loads(cert.read_text())
    data["claim"]["max"] = "1/2"
    cert.write_text(json.dumps(data))
    capsys.readouterr()
    assert main(["check-certificate", str(cert), a]) == 4
    err = capsys.readouterr().err
    assert "REJECTED" in err and "claim.max" in err


def test_check_certificate_rejects_another_network(models, tmp_path, capsys):
    a, b = models
    cert = tmp_path / "bounds.json"
    assert main(["prove", "bounds", a, "--box", "-1", "1", "--output", "1", "--certificate", str(cert)]) == 0
    assert main(["check-certificate", str(cert), b]) == 4
    assert "network" in capsys.readouterr().err


def test_robust_flips_at_the_known_radius(models, capsys):
    a, _ = models
    # at x0 = (1, 0) class 0 leads by 1; on the inf-ball the gap closes at eps = 1/2 (a tie)
    assert main(["prove", "robust", a, "--x0", "1,0", "--eps", "1/3"]) == 0
    assert "robust:" in capsys.readouterr().out
    assert main(["prove", "robust", a, "--x0", "1,0", "--eps", "1/2"]) == 0
    assert "not robust" in capsys.readouterr().out


def test_lipschitz_and_equivalence(models, tmp_path, capsys):
    a, b = models
    assert main(["prove", "lipschitz", a, "--box", "-1", "1", "--norm", "2"]) == 0
    assert "= 1" in capsys.readouterr().out  # the identity on the positive quadrant
    cert = tmp_path / "eq.json"
    assert main(["prove", "equivalent", a, b, "--box", "-1", "1", "--certificate", str(cert)]) == 0
    out = capsys.readouterr().out
    assert "max |f - g| = 0" in out and "equivalent" in out
    assert main(["check-certificate", str(cert), a, b]) == 0


def test_time_limit_prints_the_proven_interval(tmp_path, capsys):
    import numpy as np

    rng = np.random.default_rng(0)
    sizes = [3, 24, 24, 1]
    W = [rng.integers(-9, 10, (o, i)).tolist() for i, o in zip(sizes, sizes[1:])]
    bias = [rng.integers(-9, 10, o).tolist() for o in sizes[1:]]
    path = tmp_path / "m.json"
    em.mlp(W, bias).save(path)
    status = main(["prove", "bounds", str(path), "--box", "-1", "1", "--time-limit", "0.001"])
    out = capsys.readouterr().out
    assert status == 3
    assert "proven so far" in out


@pytest.mark.parametrize("argv, message", [
    (["prove", "bounds", "{a}", "--box", "-1", "1"], "say which with output=j"),
    (["prove", "robust", "{a}", "--x0", "1,0,0", "--eps", "1/4"], "--x0 has 3 coordinates"),
    (["prove", "robust", "{a}", "--x0", "1,0", "--eps", "-1/4"], "negative"),
    (["prove", "bounds", "{a}", "--box", "1", "-1", "--output", "0"], "is not below HI"),
])
def test_bad_arguments_are_one_line_errors(models, capsys, argv, message):
    a, _ = models
    assert main([v.format(a=a) for v in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err


def test_numbers_are_decimals_and_exact_with_the_flag(tmp_path, capsys):
    path = tmp_path / "third.json"
    em.mlp([[[Fraction(1, 3), 0]], [[1]]], [[0], [0]]).save(path)  # relu(x0 / 3): max 1/3 on [-1, 1]^2
    assert main(["prove", "bounds", str(path), "--box", "-1", "1"]) == 0
    out = capsys.readouterr().out
    assert "max ~ 0.333333  at x = (1, " in out and "min = 0" in out and "--exact prints" in out
    assert main(["prove", "bounds", str(path), "--box", "-1", "1", "--exact"]) == 0
    out = capsys.readouterr().out
    assert "max = 1/3  at x = (1, " in out and "--exact prints" not in out
