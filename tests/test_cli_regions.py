"""``exactmaso regions``: the graph on demand (--no-graph), limits (--max-regions, --time-limit),
figures (--plot, --format, --color-by, --output), slices (--slice) and --exact.

Every bad value is refused before any work, in one line on stderr with exit status 2, and
leaves no file behind; a limit stops with exit status 3, says the result is partial and writes
nothing.
"""

from __future__ import annotations

import json
import os
import re
from fractions import Fraction

import numpy as np
import pytest

import exactmaso as em
from exactmaso._display import affine_text, short_decimal
from exactmaso.cli import main
from exactmaso.numbers import fraction_to_str

from conftest import one_line_error


def _two_outputs() -> em.Network:
    return em.mlp([[[1, 1], [1, -1], [Fraction(1, 2), 2]], [[1, -1, 1], [0, 1, -1]]],
                  [[0, Fraction(1, 4), -1], [0, Fraction(1, 3)]])


def _three_inputs() -> em.Network:
    return em.mlp([[[1, 0, 1], [0, 1, -1], [1, -1, 0], [Fraction(1, 2), 1, 1]], [[1, -1, 1, 1]]],
                  [[0, Fraction(1, 4), Fraction(-1, 3), 0], [0]])


SQUARE = em.Box([-1, -1], [1, 1])


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "model.json"
    _two_outputs().save(path)
    return str(path)


@pytest.fixture
def model3(tmp_path):
    path = tmp_path / "model3.json"
    _three_inputs().save(path)
    return str(path)


@pytest.fixture
def model1(tmp_path):
    path = tmp_path / "model1.json"
    em.mlp([[[1], [-1]], [[1, 1]]], [[Fraction(-1, 2), Fraction(-1, 2)], [0]]).save(path)
    return str(path)


@pytest.fixture
def out(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def _argparse_error(capsys, argv: list[str]) -> str:
    """An error that argparse finds (an unknown choice, a value that is not a number): exit 2, one line."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err.strip()


# ------------------------------------------------------------------------------------------
# the adjacency graph: built when asked for, skipped with --no-graph
# ------------------------------------------------------------------------------------------


def test_default_run_reports_graph_statistics(model, capsys):
    assert main(["regions", model, "--box", "-1", "1"]) == 0
    out = capsys.readouterr().out
    part = em.regions(_two_outputs(), SQUARE)
    edges = part.graph.number_of_edges()
    mean = Fraction(2 * edges, len(part))
    assert f"{len(part)} linear regions" in out
    assert f"adjacency graph: {edges} edges" in out
    assert f"mean degree {short_decimal(mean)}," in out


def test_no_graph_never_builds_the_graph(model, capsys, monkeypatch):
    import exactmaso.graph

    def refuse(part):
        raise AssertionError("the adjacency graph was built")

    monkeypatch.setattr(exactmaso.graph, "adjacency_graph", refuse)
    assert main(["regions", model, "--box", "-1", "1", "--no-graph", "--verify"]) == 0
    out = capsys.readouterr().out
    assert "adjacency graph: not built (--no-graph)" in out
    assert "verified" in out and "regions only" in out


def test_no_graph_with_json_is_refused_before_work(model, out, capsys, enumerations):
    target = out / "r.json"
    err = one_line_error(capsys, ["regions", model, "--box", "-1", "1", "--no-graph", "--json", str(target)])
    assert "--json" in err and "--no-graph" in err
    assert not enumerations and not target.exists()


# ------------------------------------------------------------------------------------------
# limits: --max-regions and --time-limit
# ------------------------------------------------------------------------------------------


def test_max_regions_stops_early_says_partial_and_writes_nothing(model, out, capsys):
    n = em.count_regions(_two_outputs(), SQUARE)
    targets = [out / "r.json", out / "r.png"]
    status = main(["regions", model, "--box", "-1", "1", "--max-regions", str(n - 1),
                   "--json", str(targets[0]), "--plot", str(targets[1])])
    text = capsys.readouterr().out
    assert status == 3
    assert "STOPPED EARLY (--max-regions" in text and "PARTIAL" in text
    assert "nothing was written" in text
    assert "linear regions, in" not in text  # no claim of a complete count
    assert os.listdir(out) == []


def test_max_regions_at_the_count_is_complete(model, capsys):
    n = em.count_regions(_two_outputs(), SQUARE)
    assert main(["regions", model, "--box", "-1", "1", "--max-regions", str(n)]) == 0
    assert f"{n} linear regions" in capsys.readouterr().out


def test_time_limit_stops_early(model3, out, capsys):
    target = out / "r.json"
    status = main(["regions", model3, "--box", "-1", "1", "--time-limit", "1e-9", "--json", str(target)])
    text = capsys.readouterr().out
    assert status == 3
    assert "STOPPED EARLY (--time-limit 1e-09)" in text and "PARTIAL" in text
    assert not target.exists()


def test_generous_time_limit_changes_nothing(model, capsys):
    assert main(["regions", model, "--box", "-1", "1", "--time-limit", "600"]) == 0
    assert f"{em.count_regions(_two_outputs(), SQUARE)} linear regions" in capsys.readouterr().out


def test_limit_with_workers_stops_the_pool(model3, capsys):
    status = main(["regions", model3, "--box", "-1", "1", "--max-regions", "2", "--workers", "2"])
    assert status == 3
    assert "PARTIAL" in capsys.readouterr().out


@pytest.mark.parametrize(
    "option, message",
    [
        (["--max-regions", "0"], "--max-regions is 0; expected a positive number"),
        (["--max-regions", "-5"], "--max-regions is -5"),
        (["--time-limit", "0"], "--time-limit is 0.0; expected a positive number of seconds"),
        (["--time-limit", "-1"], "--time-limit is -1.0"),
        (["--time-limit", "nan"], "--time-limit is nan"),
        (["--time-limit", "inf"], "--time-limit is inf"),
        (["--output", "-1"], "--output is -1"),
    ],
)
def test_bad_limits_are_refused_before_work(model, capsys, enumerations, option, message):
    assert message in one_line_error(capsys, ["regions", model, "--box", "-1", "1", *option])
    assert not enumerations


@pytest.mark.parametrize("option", [["--max-regions", "many"], ["--time-limit", "soon"], ["--output", "x"]])
def test_non_numbers_are_one_line_argparse_errors(model, capsys, enumerations, option):
    err = _argparse_error(capsys, ["regions", model, "--box", "-1", "1", *option])
    assert option[0] in err and "exactmaso regions: error:" in err
    assert not enumerations


# ------------------------------------------------------------------------------------------
# --plot, --format, --color-by, --output
# ------------------------------------------------------------------------------------------

_MAGIC = {"pdf": b"%PDF", "png": b"\x89PNG", "svg": b"<svg", "tex": b"\\documentclass"}


def _has_magic(path, fmt: str) -> bool:
    data = path.read_bytes()
    return data.startswith(_MAGIC[fmt]) or (fmt == "svg" and _MAGIC[fmt] in data[:2000])


@pytest.mark.parametrize("fmt", ["pdf", "png", "svg", "tex"])
def test_format_from_the_suffix(model, out, capsys, fmt):
    target = out / f"fig.{fmt}"
    assert main(["regions", model, "--box", "-1", "1", "--plot", str(target)]) == 0
    assert _has_magic(target, fmt)
    assert f"wrote {target}" in capsys.readouterr().out
    assert os.listdir(out) == [target.name]  # no temporary file left beside it


@pytest.mark.parametrize("fmt", ["pdf", "png", "svg", "tex", "PDF"])
def test_format_option_for_a_name_without_suffix(model, out, fmt):
    target = out / "figure"
    assert main(["regions", model, "--box", "-1", "1", "--plot", str(target), "--format", fmt]) == 0
    assert _has_magic(target, fmt.lower())


@pytest.mark.parametrize("color_by", [None, "class", "norm"])
def test_tex_plot_is_the_tikz_export(model, out, color_by):
    target = out / "p.tex"
    given = ["--color-by", color_by, "--output", "1"] if color_by else []
    assert main(["regions", model, "--box", "-1", "1", "--plot", str(target), *given]) == 0
    part = em.regions(_two_outputs(), SQUARE)
    expected = em.export.tikz(part, color_by=color_by or "output", output=1 if color_by else 0,
                              boundary=color_by == "class", standalone=True)
    assert target.read_text() == expected


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--plot", "{out}/f.png", "--format", "jpg"], "--format is 'jpg'; expected one of pdf, png, svg, tex"),
        (["--plot", "{out}/f.png", "--format", "pdf"], "ends in .png but --format is pdf"),
        (["--plot", "{out}/figure"], "has no suffix to tell its format"),
        (["--plot", "{out}/f.eps"], "cannot write .eps files; expected one of .pdf, .png, .svg, .tex"),
        (["--format", "pdf"], "--format pdf is about the --plot figure; give --plot F too"),
        (["--color-by", "code"], "--color-by code is about the --plot figure"),
        (["--plot", "{out}/f.png", "--output", "2"], "--output is 2; the model's outputs are 0..1"),
        (["--plot", "{out}/f.png", "--json", "{out}/f.png"], "--json and --plot are both"),
    ],
)
def test_bad_figure_options_are_refused_before_work(model, out, capsys, enumerations, argv, message):
    argv = [a.format(out=out) for a in argv]
    assert message in one_line_error(capsys, ["regions", model, "--box", "-1", "1", *argv])
    assert not enumerations
    assert os.listdir(out) == []
    assert capsys.readouterr().out == ""


def test_unknown_color_by_is_a_one_line_error(model, out, capsys, enumerations):
    err = _argparse_error(capsys, ["regions", model, "--box", "-1", "1", "--plot", str(out / "f.png"),
                                   "--color-by", "rainbow"])
    assert "--color-by" in err and "'rainbow'" in err and "'output'" in err
    assert not enumerations and os.listdir(out) == []


@pytest.mark.parametrize("color_by", em.plot.COLOR_BY)
def test_every_color_by_draws(model, out, color_by):
    target = out / "f.png"
    argv = ["regions", model, "--box", "-1", "1", "--plot", str(target), "--color-by", color_by, "--output", "1"]
    assert main(argv) == 0
    assert _has_magic(target, "png")


def test_color_by_is_passed_to_the_plot(model, out, monkeypatch):
    seen = {}
    real = em.plot.partition

    def spy(part, ax=None, color_by="output", **kw):
        seen.update(color_by=color_by, **kw)
        return real(part, ax=ax, color_by=color_by, **kw)

    monkeypatch.setattr(em.plot, "partition", spy)
    argv = ["regions", model, "--box", "-1", "1", "--plot", str(out / "f.png"), "--color-by", "volume", "--output", "1"]
    assert main(argv) == 0
    assert seen == {"color_by": "volume", "output": 1, "boundary": False}


def test_output_picks_the_affine_map_shown(model, capsys):
    assert main(["regions", model, "--box", "-1", "1", "--output", "1", "--show", "1", "--exact"]) == 0
    text = capsys.readouterr().out
    r = em.regions(_two_outputs(), SQUARE)[0]
    expected = affine_text(r.affine.A[1], r.affine.b[1], lambda v: fraction_to_str(Fraction(v)))
    assert f"on it, output 1 = {expected}" in text


def test_plot_of_a_3d_model_points_to_slice(model3, out, capsys, enumerations):
    err = one_line_error(capsys, ["regions", model3, "--box", "-1", "1", "--plot", str(out / "f.png")])
    assert "input dimension 3" in err and "--slice" in err
    assert not enumerations and os.listdir(out) == []


def test_tex_of_a_1d_model_is_refused(model1, out, capsys, enumerations):
    err = one_line_error(capsys, ["regions", model1, "--box", "-1", "1", "--plot", str(out / "f.tex")])
    assert "TikZ picture draws 2-D partitions" in err
    assert not enumerations


def test_1d_model_plots(model1, out):
    assert main(["regions", model1, "--box", "-1", "1", "--plot", str(out / "f.svg")]) == 0
    assert _has_magic(out / "f.svg", "svg")


# ------------------------------------------------------------------------------------------
# files are whole or absent
# ------------------------------------------------------------------------------------------


def _failing_savefig(monkeypatch):
    from matplotlib.figure import Figure

    def half_then_fail(self, fname, **kw):
        with open(fname, "wb") as fh:
            fh.write(b"%PDF-half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", half_then_fail)


def test_failed_figure_write_leaves_no_file(model, out, capsys, monkeypatch):
    _failing_savefig(monkeypatch)
    target = out / "f.pdf"
    err = one_line_error(capsys, ["regions", model, "--box", "-1", "1", "--plot", str(target)])
    assert f"--plot {str(target)!r} could not be written (No space left on device)" in err
    assert os.listdir(out) == []


def test_failed_figure_write_keeps_the_old_file(model, out, capsys, monkeypatch):
    target = out / "f.pdf"
    target.write_bytes(b"old figure")
    _failing_savefig(monkeypatch)
    one_line_error(capsys, ["regions", model, "--box", "-1", "1", "--plot", str(target)])
    assert target.read_bytes() == b"old figure"
    assert os.listdir(out) == ["f.pdf"]


# ------------------------------------------------------------------------------------------
# --slice
# ------------------------------------------------------------------------------------------

_X0, _X1, _X2 = ["1/2", "-1", "0"], ["1", "1/3", "1/4"], ["-1", "0", "1"]


def _slice_count(lo=(0, 0), hi=(1, 1)) -> int:
    M, c = em.plane(*[[Fraction(v) for v in p] for p in (_X0, _X1, _X2)])
    return em.count_regions(_three_inputs().restrict(M, c), em.Box(list(lo), list(hi)))


def test_slice_from_text(model3, out, capsys):
    target = out / "slice.json"
    argv = ["regions", model3, "--slice", ",".join(_X0), ",".join(_X1), ",".join(_X2), "--json", str(target),
            "--plot", str(out / "slice.png"), "--verify"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    n = _slice_count()
    assert f"{n} linear regions" in text and "verified" in text
    assert "X1 = (1, 0.333333, 0.25)" in text
    data = json.loads(target.read_text())
    assert data["num_regions"] == n and data["input_dim"] == 2
    assert sum(Fraction(r["volume"]) for r in data["regions"]) == 1  # the box [0, 1]^2


def test_slice_from_npy_and_json_files(model3, tmp_path, capsys):
    np.save(tmp_path / "x0.npy", np.array([0.5, -1.0, 0.0]))  # floats that are exactly 1/2, -1, 0
    (tmp_path / "x1.json").write_text(json.dumps([[1, "1/3"], [0.25]]))  # nested; 0.25 read as typed
    argv = ["regions", model3, "--slice", str(tmp_path / "x0.npy"), str(tmp_path / "x1.json"), ",".join(_X2)]
    assert main(argv) == 0
    assert f"{_slice_count()} linear regions" in capsys.readouterr().out


def test_json_decimals_are_read_as_typed(model3, tmp_path, capsys):
    (tmp_path / "x.json").write_text("[0.1, 0, 0]")
    argv = ["regions", model3, "--slice", str(tmp_path / "x.json"), "1,0,0", "0,1,0", "--show", "0", "--exact"]
    assert main(argv) == 0
    assert "X0 = (1/10, 0, 0)" in capsys.readouterr().out


def test_slice_with_a_box_in_plane_coordinates(model3, capsys):
    argv = ["regions", model3, "--slice", *(",".join(p) for p in (_X0, _X1, _X2)), "--box", "-1", "2"]
    assert main(argv) == 0
    assert f"{_slice_count((-1, -1), (2, 2))} linear regions" in capsys.readouterr().out


def test_slice_box_has_two_coordinates(model3, capsys, enumerations):
    argv = ["regions", model3, "--slice", "0", "1,0,0", "0,1,0", "--box", "0,0,0", "1"]
    assert "--box LO has 3 coordinates; the --slice plane has dimension 2" in one_line_error(capsys, argv)
    assert not enumerations


def test_slice_values_may_start_with_a_minus(model3, capsys):
    assert main(["regions", model3, "--slice", "-1,-1,-1", "1,-1,-1", "-1,1,-1", "--show", "0"]) == 0
    assert "X0 = (-1, -1, -1)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "points, message",
    [
        (["0", "0", "0"], "--slice: the three inputs lie on one line"),
        (["0", "1,0,0", "2,0,0"], "lie on one line"),
        (["0", "1,0", "0,1,0"], "--slice X1 has 2 coordinates; the model has input dimension 3"),
        (["0", "1,0,zero", "0,1,0"], "--slice X1 has 'zero'; expected numbers"),
        (["0", "1,0,nan", "0,1,0"], "'nan', which is not a finite number"),
        (["{tmp}/none.npy", "1,0,0", "0,1,0"], "--slice X0 '{tmp}/none.npy' not found"),
        (["{tmp}/bad.json", "1,0,0", "0,1,0"], "is not JSON"),
        (["{tmp}/obj.json", "1,0,0", "0,1,0"], "expected a list of numbers"),
        (["{tmp}/short.json", "1,0,0", "0,1,0"], "holds 2 values; the model has input dimension 3"),
        (["{tmp}/text.npy", "1,0,0", "0,1,0"], "expected a numeric (integer or float) array"),
        (["{tmp}/nan.npy", "1,0,0", "0,1,0"], "--slice X0"),
        (["{tmp}/junk.npy", "1,0,0", "0,1,0"], "is not a .npy array"),
    ],
)
def test_bad_slices_are_refused_before_work(model3, tmp_path, capsys, enumerations, points, message):
    (tmp_path / "bad.json").write_text("[1, 2,")
    (tmp_path / "obj.json").write_text('{"x": 1}')
    (tmp_path / "short.json").write_text("[1, 2]")
    np.save(tmp_path / "text.npy", np.array(["a", "b", "c"]))
    np.save(tmp_path / "nan.npy", np.array([np.nan, 0.0, 0.0]))
    (tmp_path / "junk.npy").write_bytes(b"not numpy")
    before = sorted(os.listdir(tmp_path))
    argv = ["regions", model3, "--slice", *(p.format(tmp=tmp_path) for p in points)]
    assert message.format(tmp=tmp_path) in one_line_error(capsys, argv)
    assert not enumerations
    assert sorted(os.listdir(tmp_path)) == before


def test_slice_of_a_1d_model_is_refused(model1, capsys, enumerations):
    assert "--slice takes a plane" in one_line_error(capsys, ["regions", model1, "--slice", "0", "1", "2"])
    assert not enumerations


def test_no_domain_is_refused(model, capsys, enumerations):
    assert "give the domain: --box LO HI" in one_line_error(capsys, ["regions", model])
    assert not enumerations


# ------------------------------------------------------------------------------------------
# readable numbers and --exact
# ------------------------------------------------------------------------------------------


def _region_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("    ")]


def test_numbers_are_short_decimals_by_default(model, capsys):
    assert main(["regions", model, "--box", "-1", "1", "--show", "5"]) == 0
    text = capsys.readouterr().out
    assert "/" not in "".join(_region_lines(text))
    assert "--exact prints exact fractions" in text
    for token in re.split(r"[\s(),;]+", " ".join(_region_lines(text))):
        if token[:1].isdigit() or token.startswith("-") and token[1:2].isdigit():
            assert len(token.lstrip("-").replace(".", "").lstrip("0")) <= 6, token  # 6 significant digits


def test_exact_prints_fractions(model, capsys):
    assert main(["regions", model, "--box", "-1", "1", "--show", "100", "--exact"]) == 0
    text = capsys.readouterr().out
    part = em.regions(_two_outputs(), SQUARE)
    for r in part:
        assert f"volume {fraction_to_str(r.volume())};" in text
    assert "--exact prints" not in text


def test_long_vertex_lists_are_cut(tmp_path, capsys, random_mlp):
    path = tmp_path / "wide.json"
    net = random_mlp([3, 12, 1], 3)
    net.save(path)
    part = em.regions(net, em.Box([-1] * 3, [1] * 3))
    many = max(part, key=lambda r: len(r.vertices()))
    assert len(many.vertices()) > 8
    assert main(["regions", str(path), "--box", "-1", "1", "--show", str(many.index + 1), "--no-graph"]) == 0
    assert f"({len(many.vertices())} vertices; --json lists them all)" in capsys.readouterr().out
