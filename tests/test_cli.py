"""The ``exactmaso`` command: demo, regions, info, and one-line errors with exit status 2."""

from __future__ import annotations

import json
import os
import shutil
import sys
from fractions import Fraction

import pytest

import exactmaso as em
from exactmaso.cli import main, parse_box, UsageError

from conftest import one_line_error


def _small_net() -> em.Network:
    return em.mlp([[[1, 1], [1, -1], [Fraction(1, 2), 2]], [[1, -1, 1]]], [[0, Fraction(1, 4), -1], [0]])


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "model.json"
    _small_net().save(path)
    return str(path)


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


def _under_a_file(tmp, name: str):
    (tmp / "a file").write_text("")
    return tmp / "a file" / name


def _with_folder_in_place_of(tmp, name: str):
    (tmp / "d" / name).mkdir(parents=True)
    return tmp / "d"


def _regions_raise(monkeypatch, exc: BaseException) -> None:
    def raising(*args, **kwargs):
        raise exc

    monkeypatch.setattr(em, "regions", raising)


def test_missing_file(tmp_path, capsys):
    err = one_line_error(capsys, ["regions", str(tmp_path / "nope.json"), "--box", "-1", "1"])
    assert "not found" in err and "nope.json" in err
    assert "not found" in one_line_error(capsys, ["info", str(tmp_path / "nope.json")])


@pytest.mark.parametrize(
    "box, message",
    [
        (["1", "-1"], "not below"),
        (["-1,-1,-1", "1"], "3 coordinates"),
        (["a", "1"], "expected numbers"),
        (["0", "0"], "not below"),
        (["nan", "1"], "'nan', which is not a finite number"),
        (["-inf", "1"], "'-inf', which is not a finite number"),
        (["0", "Infinity"], "'Infinity', which is not a finite number"),
        (["1/0", "1"], "'1/0'; expected numbers"),
        (["0", "1e5000"], "'1e5000', which has more than 4300 digits"),
        (["0", "1e999999999"], "'1e999999999', which has more than 4300 digits"),
        (["1e-4300", "1"], "'1e-4300', which has more than 4300 digits"),
        (["0", "1" * 4301], "more than 4300 digits"),
    ],
)
def test_bad_box(model_file, capsys, box, message):
    assert message in one_line_error(capsys, ["regions", model_file, "--box", *box])


@pytest.mark.parametrize(
    "option, message",
    [(["--workers", "0"], "--workers is 0; expected a positive number"), (["--show", "-1"], "--show is -1")],
)
def test_bad_count_option(model_file, capsys, enumerations, option, message):
    assert message in one_line_error(capsys, ["regions", model_file, "--box", "-1", "1", *option])
    assert not enumerations


def test_model_path_is_a_folder(tmp_path, capsys):
    err = one_line_error(capsys, ["regions", str(tmp_path), "--box", "-1", "1"])
    assert "is a folder" in err and str(tmp_path) in err


def test_onnx_model_without_onnx_package_says_how_to_install(tmp_path, capsys, monkeypatch):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"\x08\x07\x12\x07pytorch")
    monkeypatch.setitem(sys.modules, "onnx", None)  # makes ``import onnx`` raise ImportError
    for argv in (["info", str(path)], ["regions", str(path), "--box", "-1", "1"]):
        err = one_line_error(capsys, argv)
        assert 'pip install "exactmaso[onnx]"' in err and "model.onnx" in err


def test_unknown_plot_format_is_refused_before_work(model_file, tmp_path, capsys, enumerations):
    target = tmp_path / "out.xyz"
    err = one_line_error(capsys, ["regions", model_file, "--box", "-1", "1", "--plot", str(target)])
    assert str(target) in err and ".xyz" in err
    assert ".png" in err and ".pdf" in err and ".svg" in err  # the formats matplotlib writes
    assert not enumerations and not target.exists()
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("option", ["--json", "--plot"])
@pytest.mark.parametrize(
    "make_path, message",
    [
        (lambda tmp: tmp / "no such folder" / "out.png", "does not exist"),
        (lambda tmp: tmp, "is a folder"),
        (lambda tmp: _under_a_file(tmp, "out.png"), "is not a folder"),
    ],
    ids=["missing folder", "a folder", "under a file"],
)
def test_output_path_is_checked_before_work(model_file, tmp_path, capsys, enumerations, option, make_path, message):
    path = str(make_path(tmp_path))
    err = one_line_error(capsys, ["regions", model_file, "--box", "-1", "1", option, path])
    assert f"{option} {path!r}" in err and message in err
    assert not enumerations


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may write to any folder")
def test_unwritable_output_folder_is_refused_before_work(model_file, tmp_path, capsys, enumerations):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        err = one_line_error(capsys, ["regions", model_file, "--box", "-1", "1", "--json", str(folder / "r.json")])
    finally:
        folder.chmod(0o700)
    assert "is not writable" in err and str(folder) in err
    assert not enumerations


def test_failed_write_names_the_users_path_not_a_temp_file(model_file, tmp_path, capsys, monkeypatch):
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "r.json"
    real = em.regions

    def enumerate_then_remove_folder(*args, **kwargs):
        part = real(*args, **kwargs)
        shutil.rmtree(folder)  # the checked folder disappears while the command works
        return part

    monkeypatch.setattr(em, "regions", enumerate_then_remove_folder)
    err = one_line_error(capsys, ["regions", model_file, "--box", "-1", "1", "--json", str(target)])
    assert f"--json {str(target)!r} could not be written" in err
    assert ".tmp" not in err


@pytest.mark.parametrize(
    "make_out, message",
    [
        (lambda tmp: _under_a_file(tmp, ""), "is a file; expected a folder"),
        (lambda tmp: _under_a_file(tmp, "sub"), "could not be created"),
        (lambda tmp: _with_folder_in_place_of(tmp, "regions.json"), "regions.json' is a folder"),
    ],
    ids=["a file", "under a file", "an output is a folder"],
)
def test_demo_out_is_checked_before_work(tmp_path, capsys, enumerations, make_out, message):
    out = str(make_out(tmp_path))
    err = one_line_error(capsys, ["demo", "--out", out])
    assert out in err and message in err
    assert not enumerations
    assert capsys.readouterr().out == ""


def test_ctrl_c_exits_130_with_one_line(model_file, capsys, monkeypatch):
    _regions_raise(monkeypatch, KeyboardInterrupt())
    assert one_line_error(capsys, ["regions", model_file, "--box", "-1", "1"], status=130) == (
        "exactmaso regions: interrupted"
    )


def test_huge_box_bound_is_exact(model_file, capsys):
    """1e400 is beyond the float range; the float filter leaves such signs to exact arithmetic."""
    assert main(["regions", model_file, "--box", "-1", "1e400"]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "linear regions" in captured.out


@pytest.mark.parametrize("exc", [ZeroDivisionError("boom"), OverflowError("boom"), ValueError("boom")])
def test_unexpected_exception_is_an_internal_error(model_file, capsys, monkeypatch, exc):
    _regions_raise(monkeypatch, exc)
    err = one_line_error(capsys, ["regions", model_file, "--box", "-1", "1"], status=1)
    assert f"exactmaso regions: internal error: {type(exc).__name__}: boom" in err
    assert "EXACTMASO_DEBUG=1" in err


def test_debug_env_shows_the_traceback_of_an_internal_error(model_file, capsys, monkeypatch):
    _regions_raise(monkeypatch, ZeroDivisionError("boom"))
    monkeypatch.setenv("EXACTMASO_DEBUG", "1")
    assert main(["regions", model_file, "--box", "-1", "1"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert err.strip().splitlines()[-1].startswith("exactmaso regions: internal error: ZeroDivisionError: boom")


def test_help_documents_exit_statuses(capsys):
    with pytest.raises(SystemExit):
        main(["regions", "--help"])
    out = capsys.readouterr().out
    assert "130" in out and "EXACTMASO_DEBUG=1" in out and "internal error" in out


def test_malformed_model_file(tmp_path, capsys):
    path = tmp_path / "broken.json"
    path.write_text('{"format": "exactmaso.network", "layers": [')
    err = one_line_error(capsys, ["info", str(path)])
    assert err.startswith("exactmaso info:")


def test_parse_box_is_exact():
    lo, hi = parse_box(" -1/3", "0.1,2", 2)
    assert lo == [Fraction(-1, 3)] * 2 and hi == [Fraction(1, 10), Fraction(2)]
    with pytest.raises(UsageError):
        parse_box("1,2", "3", 3)
