"""The ``exactmaso`` command: demo, regions, info, and one-line errors with exit status 2."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

import exactmaso as em
from exactmaso.cli import main, parse_box, UsageError


def _small_net() -> em.Network:
    return em.mlp([[[1, 1], [1, -1], [Fraction(1, 2), 2]], [[1, -1, 1]]], [[0, Fraction(1, 4), -1], [0]])


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "model.json"
    _small_net().save(path)
    return str(path)


def test_demo_writes_every_file(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    for name in ("partition.png", "partition.svg", "regions.json", "partition.tex", "network.json"):
        assert (out / name).stat().st_size > 0, name
    text = capsys.readouterr().out
    assert "== net(x) exactly" in text
    assert "verified" in text
    data = json.loads((out / "regions.json").read_text())
    assert sum(Fraction(r["volume"]) for r in data["regions"]) == 4
    assert em.load(out / "network.json") == em.default_network.default_network()


@pytest.mark.parametrize("box", [["-1", "1"], ["-1,-1", "1,1"], ["[-1, -1]", "1"]])
def test_regions_on_saved_model(model_file, tmp_path, box, capsys):
    out_json, out_png = tmp_path / "r.json", tmp_path / "r.png"
    code = main(["regions", model_file, "--box", *box, "--json", str(out_json), "--plot", str(out_png), "--verify"])
    assert code == 0
    expected = len(em.regions(_small_net(), em.Box([-1, -1], [1, 1])))
    data = json.loads(out_json.read_text())
    assert data["num_regions"] == expected
    assert f"{expected} linear regions" in capsys.readouterr().out
    assert out_png.stat().st_size > 0


def test_regions_with_workers(model_file, capsys):
    assert main(["regions", model_file, "--box", "-1", "1", "--workers", "2"]) == 0
    expected = len(em.regions(_small_net(), em.Box([-1, -1], [1, 1])))
    assert f"{expected} linear regions" in capsys.readouterr().out


def test_info(model_file, capsys):
    assert main(["info", model_file]) == 0
    assert "layer 0: 3 units" in capsys.readouterr().out


def _one_line_error(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    return err


def test_missing_file(tmp_path, capsys):
    err = _one_line_error(capsys, ["regions", str(tmp_path / "nope.json"), "--box", "-1", "1"])
    assert "not found" in err and "nope.json" in err
    assert "not found" in _one_line_error(capsys, ["info", str(tmp_path / "nope.json")])


@pytest.mark.parametrize(
    "box, message",
    [
        (["1", "-1"], "not below"),
        (["-1,-1,-1", "1"], "3 coordinates"),
        (["a", "1"], "expected numbers"),
        (["0", "0"], "not below"),
    ],
)
def test_bad_box(model_file, capsys, box, message):
    assert message in _one_line_error(capsys, ["regions", model_file, "--box", *box])


def test_malformed_model_file(tmp_path, capsys):
    path = tmp_path / "broken.json"
    path.write_text('{"format": "exactmaso.network", "layers": [')
    err = _one_line_error(capsys, ["info", str(path)])
    assert err.startswith("exactmaso info:")


def test_parse_box_is_exact():
    lo, hi = parse_box(" -1/3", "0.1,2", 2)
    assert lo == [Fraction(-1, 3)] * 2 and hi == [Fraction(1, 10), Fraction(2)]
    with pytest.raises(UsageError):
        parse_box("1,2", "3", 3)
