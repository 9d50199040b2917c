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


# ---------------------------------------------------------------------------------------
# hostile files: typed errors, caps checked before parsing (exactmaso.io.limits)
# ---------------------------------------------------------------------------------------


def test_json_huge_integer_is_model_file_error(tmp_path):
    text = json.dumps(_valid_dict()).replace('"1"', "1" + "0" * 5000, 1)
    with pytest.raises(ModelFileError, match="a JSON integer has 5,001 digits; at most 4,300 are allowed"):
        json_io.load(_write(tmp_path, text))
    text = json.dumps(_valid_dict()).replace('"version": 1', '"version": ' + "9" * 5000)
    with pytest.raises(ModelFileError, match="MAX_DIGITS"):
        load_any(_write(tmp_path, text))


@pytest.mark.parametrize("value", ["1/" + "3" * 5000, "-" + "7" * 4301, "1" * 4301 + "/3"])
def test_json_huge_rational_string_is_model_file_error(tmp_path, value):
    data = _valid_dict()
    data["masos"][1]["A"][0][0][1] = value
    with pytest.raises(ModelFileError, match=r"masos\[1\]\.A\[0\]\[0\]\[1\] has 4,30[01]|has 5,000 digits"):
        json_io.load(_write(tmp_path, data))


def test_json_rational_at_the_digit_cap_loads_exactly(tmp_path):
    data = _valid_dict()
    data["masos"][1]["A"][0][0][1] = "-" + "7" * 4300 + "/" + "3" * 4299 + "1"
    net = json_io.load(_write(tmp_path, data))
    assert net.masos[1].A[0, 0, 1] == Fraction(-int("7" * 4300), int("3" * 4299 + "1"))


def test_json_numbers_beyond_a_lowered_int_str_limit_are_model_file_errors(tmp_path):
    import sys

    data = _valid_dict()
    data["masos"][1]["A"][0][0][1] = "1/" + "3" * 1000
    path = _write(tmp_path, data)
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(640)
    try:
        with pytest.raises(ModelFileError, match="get_int_max_str_digits"):
            json_io.load(path)
    finally:
        sys.set_int_max_str_digits(old)


@pytest.mark.parametrize("depth", [33, 100, 100_000])
def test_json_deep_nesting_is_refused_before_parsing(tmp_path, depth):
    data = _valid_dict()
    text = json.dumps(data)[:-1] + ', "x": ' + "[" * depth + "]" * depth + "}"
    with pytest.raises(ModelFileError, match=f"nest {depth + 1} deep.*MAX_NESTING"):
        json_io.load(_write(tmp_path, text))


def test_json_brackets_in_strings_are_not_nesting(tmp_path):
    data = _valid_dict()
    data["comment"] = "[{" * 100 + '\\"[' + "\\\\"
    assert json_io.load(_write(tmp_path, data)) == json_io.from_dict(_valid_dict())


def test_json_too_many_values_are_refused_before_parsing(tmp_path, monkeypatch):
    monkeypatch.setattr(em.io.limits, "MAX_MASO_ENTRIES", 100)
    data = _valid_dict()
    data["padding"] = [0] * 2000
    with pytest.raises(ModelFileError, match="JSON values.*refused before parsing"):
        json_io.load(_write(tmp_path, data))


def test_json_declared_entries_over_the_cap_are_refused_before_converting(tmp_path, monkeypatch):
    monkeypatch.setattr(em.io.limits, "MAX_MASO_ENTRIES", 10)
    with pytest.raises(ModelFileError, match=r"masos\[0\]\.B brings the model to 12 numbers in its MASO form; at most 10"):
        json_io.load(_write(tmp_path, _valid_dict()))
    monkeypatch.setattr(em.io.limits, "MAX_MASO_ENTRIES", 7)
    with pytest.raises(ModelFileError, match=r"masos\[0\]\.A has shape \(2, 2, 2\), 8 entries; at most 7"):
        json_io.load(_write(tmp_path, _valid_dict()))


def test_json_caps_on_axes_layers_and_file_size(tmp_path, monkeypatch):
    data = _valid_dict()
    data["input_shape"] = [2, 10**9]
    with pytest.raises(ModelFileError, match="1,000,000,000 along axis 1; at most 1,048,576.*MAX_DIM"):
        json_io.load(_write(tmp_path, data))
    monkeypatch.setattr(em.io.limits, "MAX_LAYERS", 1)
    with pytest.raises(ModelFileError, match="has 2 layers; at most 1.*MAX_LAYERS"):
        json_io.load(_write(tmp_path, _valid_dict()))
    monkeypatch.setattr(em.io.limits, "MAX_FILE_BYTES", 100)
    with pytest.raises(ModelFileError, match="bytes of model data; at most 100 are read.*MAX_FILE_BYTES"):
        json_io.load(_write(tmp_path, _valid_dict()))
    with pytest.raises(ModelFileError, match="MAX_FILE_BYTES"):
        json_io.loads(json.dumps(_valid_dict()))


def test_json_messages_never_print_huge_values(tmp_path):
    data = _valid_dict()
    data["format"] = "x" * 10**6
    with pytest.raises(ModelFileError, match=r"1,000,000 characters\); expected 'exactmaso-network'") as info:
        json_io.load(_write(tmp_path, data))
    assert len(str(info.value)) < 300
    data = _valid_dict()
    data["masos"][1] = [[["1"] * 1000] * 100]
    with pytest.raises(ModelFileError, match=r"masos\[1\] is \[\[\[\.\.\. 1000 item\(s\)\], \[\.\.\.") as info:
        json_io.load(_write(tmp_path, data))
    assert len(str(info.value)) < 400


def test_json_utf8_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(_valid_dict()).encode())
    assert json_io.load(path) == load_any(path) == json_io.from_dict(_valid_dict())


def test_json_loads_takes_str_or_bytes_only():
    text = json.dumps(_valid_dict())
    assert json_io.loads(text) == json_io.loads(text.encode())
    with pytest.raises(TypeError, match="str or bytes"):
        json_io.loads(_valid_dict())


def test_json_missing_file_is_model_file_not_found_error(tmp_path):
    import errno

    path = tmp_path / "missing.json"
    for reader in (json_io.load, load_any):
        with pytest.raises(ModelFileError, match="missing.json does not exist") as info:
            reader(path)
        err = info.value
        assert isinstance(err, em.errors.ModelFileNotFoundError)
        assert isinstance(err, FileNotFoundError) and isinstance(err, OSError) and isinstance(err, ValueError)
        assert err.errno == errno.ENOENT and err.filename == str(path)
        assert str(err) == f"{path} does not exist; expected " + (
            "an exactmaso JSON file" if reader is json_io.load else "a model file (.json, .npz or .onnx)")


def test_json_ragged_rows_name_the_file_once(tmp_path):
    data = _valid_dict()
    data["masos"][0]["A"][1].append(["1", "2"])
    with pytest.raises(ShapeError) as info:
        json_io.load(_write(tmp_path, data))
    assert str(info.value).count("net.json") == 1


def test_json_after_leading_blank_lines_is_recognised(tmp_path):
    path = _write(tmp_path, "\n" * 100 + "  " + json.dumps(_valid_dict()))
    assert load_any(path) == json_io.from_dict(_valid_dict())
