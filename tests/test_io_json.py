"""Exact JSON save/load of networks (exactmaso.io.json_io)."""

from __future__ import annotations

import json
import os
from fractions import Fraction

import numpy as np
import pytest

import exactmaso as em
from exactmaso.errors import ModelFileError, ShapeError
from exactmaso.io import json_io
from exactmaso.io import load as load_any
from exactmaso.io import save


# ---------------------------------------------------------------------------------------
# tiny networks
# ---------------------------------------------------------------------------------------


def _random_mlp(seed: int, sizes=(3, 5, 4, 2)) -> em.Network:
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal((o, i)).astype(np.float32) for i, o in zip(sizes[:-1], sizes[1:])]
    biases = [rng.standard_normal(o) for o in sizes[1:]]
    return em.mlp(weights, biases)


def _rational_net() -> em.Network:
    return em.Network(
        [em.Dense([["1/3", "-2/7"], [5, "1"]], ["1/1000000007", "-3"]), em.Abs(),
         em.Dense([["123456789123456789/2", "0"]], ["0"])]
    )


def _cnn() -> em.Network:
    rng = np.random.default_rng(3)
    return em.Network(
        [em.Conv2d(rng.standard_normal((2, 1, 3, 3)), rng.standard_normal(2), padding=1), em.ReLU(),
         em.MaxPool2d(2), em.Flatten(), em.Dense(rng.standard_normal((3, 8)), rng.standard_normal(3))],
        input_shape=(1, 4, 4),
    )


NETS = {"mlp": lambda: _random_mlp(0), "rational": _rational_net, "cnn": _cnn}


def _valid_dict() -> dict:
    return json_io.to_dict(em.mlp([[[1, 2], [3, 4]], [["1/2", "-1/3"]]], [[0, 1], ["5/7"]]))


def _write(tmp_path, data) -> str:
    path = tmp_path / "net.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


# ---------------------------------------------------------------------------------------
# round trips
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(NETS))
def test_round_trip_is_exact(tmp_path, name):
    net = NETS[name]()
    path = tmp_path / f"{name}.json"
    save(net, path)
    back = json_io.load(path)
    assert back == net
    assert back.input_shape == net.input_shape
    assert load_any(path) == net


def test_file_layout_uses_p_over_q_strings(tmp_path):
    net = em.mlp([[["1/3"]]], [["-2/5"]])
    save(net, tmp_path / "n.json")
    data = json.loads((tmp_path / "n.json").read_text())
    assert data == {
        "format": "exactmaso-network",
        "version": 1,
        "input_shape": [1],
        "masos": [{"A": [[["1/3"]]], "B": [["-2/5"]]}],
    }


def test_float_weights_keep_their_binary_value(tmp_path):
    net = em.mlp([[[0.1]]], [[0.2]])
    save(net, tmp_path / "n.json")
    back = json_io.load(tmp_path / "n.json")
    assert back.masos[0].A[0, 0, 0] == Fraction(0.1) != Fraction(1, 10)


def test_network_save_method_hands_off(tmp_path):
    net = _rational_net()
    net.save(tmp_path / "n.json")
    assert json_io.load(tmp_path / "n.json") == net


def test_dumps_loads(tmp_path):
    net = _cnn()
    assert json_io.loads(json_io.dumps(net)) == net


# ---------------------------------------------------------------------------------------
# atomic writes
# ---------------------------------------------------------------------------------------


def test_save_replaces_and_leaves_no_temporary_files(tmp_path):
    path = tmp_path / "n.json"
    save(_random_mlp(1), path)
    save(_random_mlp(2), path)
    assert json_io.load(path) == _random_mlp(2)
    assert sorted(os.listdir(tmp_path)) == ["n.json"]


def test_saved_file_permissions_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        save(_random_mlp(1), tmp_path / "n.json")
    finally:
        os.umask(old)
    assert (tmp_path / "n.json").stat().st_mode & 0o777 == 0o644


def test_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "n.json"
    save(_random_mlp(1), path)
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(json_io.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        save(_random_mlp(2), path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["n.json"]


# ---------------------------------------------------------------------------------------
# malformed files
# ---------------------------------------------------------------------------------------


def test_truncated_file(tmp_path):
    text = json.dumps(_valid_dict())
    path = _write(tmp_path, text[: len(text) // 2])
    with pytest.raises(ModelFileError, match="not valid JSON.*truncated"):
        json_io.load(path)
    with pytest.raises(ModelFileError, match="truncated"):
        load_any(path)


@pytest.mark.parametrize(
    "edit, pattern",
    [
        (lambda d: d.update(format="something-else"), r"format is 'something-else'; expected 'exactmaso-network'"),
        (lambda d: d.pop("format"), "format is None"),
        (lambda d: d.update(version=2), "version is 2; this exactmaso reads version 1"),
        (lambda d: d.update(input_shape=[0]), "input_shape is"),
        (lambda d: d.update(masos=[]), "masos is"),
        (lambda d: d["masos"].__setitem__(1, {"A": [[["1"]]]}), r"masos\[1\] is"),
    ],
)
def test_wrong_header(tmp_path, edit, pattern):
    data = _valid_dict()
    edit(data)
    with pytest.raises(ModelFileError, match=pattern):
        json_io.load(_write(tmp_path, data))


def test_top_level_not_an_object(tmp_path):
    with pytest.raises(ModelFileError, match="top level is a JSON list"):
        json_io.load(_write(tmp_path, "[1, 2]"))


@pytest.mark.parametrize(
    "value, pattern",
    [
        ("abc", r"masos\[1\]\.A\[0\]\[0\]\[1\] is 'abc'; expected a 'p/q' string"),
        ("1/0", r"masos\[1\]\.A\[0\]\[0\]\[1\] is '1/0', a division by zero"),
        ("1.5", r"masos\[1\]\.A\[0\]\[0\]\[1\] is '1.5'; expected a 'p/q' string"),
        (0.5, r"masos\[1\]\.A\[0\]\[0\]\[1\] is the JSON number 0.5, which is not exact"),
        (True, r"masos\[1\]\.A\[0\]\[0\]\[1\] is the boolean True"),
        (None, r"masos\[1\]\.A\[0\]\[0\]\[1\] is a JSON NoneType"),
    ],
)
def test_bad_numbers_are_located(tmp_path, value, pattern):
    data = _valid_dict()
    data["masos"][1]["A"][0][0][1] = value
    with pytest.raises(ModelFileError, match=pattern):
        json_io.load(_write(tmp_path, data))


def test_nan_and_infinity(tmp_path):
    data = _valid_dict()
    data["masos"][0]["B"][1][0] = float("nan")
    with pytest.raises(ModelFileError, match=r"masos\[0\]\.B\[1\]\[0\] is NaN"):
        json_io.load(_write(tmp_path, json.dumps(data)))  # json.dumps writes the NaN token
    data["masos"][0]["B"][1][0] = float("inf")
    with pytest.raises(ModelFileError, match=r"masos\[0\]\.B\[1\]\[0\] is inf"):
        json_io.load(_write(tmp_path, json.dumps(data)))


def test_integers_are_accepted_as_exact(tmp_path):
    data = _valid_dict()
    data["masos"][1]["A"][0][0][0] = 7
    net = json_io.load(_write(tmp_path, data))
    assert net.masos[1].A[0, 0, 0] == 7


@pytest.mark.parametrize(
    "edit, pattern",
    [
        (lambda d: d["masos"][0]["A"][1].append(["1", "2"]), r"masos\[0\]\.A\[1\] has shape \(3, 2\); .*A\[0\] has shape \(2, 2\)"),
        (lambda d: d["masos"][0]["A"][0][0].append("1"), r"masos\[0\]\.A\[0\]\[1\] has shape \(2,\)"),
        (lambda d: d["masos"][0]["B"].pop(), r"masos\[0\]\.B has shape \(1, 2\); A of shape \(2, 2, 2\) needs B of shape \(2, 2\)"),
        (lambda d: d.update(input_shape=[3]), r"masos\[0\]\.A takes 2 inputs .*; the input shape \(3,\) has 3 entries"),
        (lambda d: d["masos"][1].update(A=[[["1", "2", "3"]]]), r"masos\[1\]\.A takes 3 inputs .*; masos\[0\] has 2 units"),
        (lambda d: d["masos"][1].update(A=[]), r"masos\[1\]\.A is an empty list"),
        (lambda d: d["masos"][1].update(A="1"), r"masos\[1\]\.A is a JSON str; expected a list nested 3 deep"),
    ],
)
def test_shape_mismatch(tmp_path, edit, pattern):
    data = _valid_dict()
    edit(data)
    with pytest.raises(ShapeError, match=pattern) as info:
        json_io.load(_write(tmp_path, data))
    assert isinstance(info.value, ModelFileError)  # a bad file, whichever way one catches it


def test_not_utf8(tmp_path):
    path = tmp_path / "net.json"
    path.write_bytes(b'{"format": "\xff\xfe"}')
    with pytest.raises(ModelFileError, match="not UTF-8"):
        json_io.load(path)
