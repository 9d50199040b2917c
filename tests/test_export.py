"""TikZ, SVG, exact JSON (and reading it back) and tables of partitions.

The TeX structure is checked on the text (one closed path per region or class piece, balanced
braces, matching begin/end pairs, coordinates within the rounding of the exact vertices, the
exact vertices in the comments); pdflatex compiles the standalone document when it is
installed (scripts/compile_tikz.sh installs it on Debian).
"""

from __future__ import annotations

import csv as _csv
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from fractions import Fraction

import pytest

import exactmaso as em
from exactmaso import boundary, export

from conftest import make_random_mlp

F = Fraction


@pytest.fixture(scope="module")
def part():
    net = em.mlp([[[1, 1], [1, -1], [Fraction(1, 2), 2], [-1, Fraction(1, 3)]], [[1, -1, 1, 2]]],
                 [[0, Fraction(1, 4), -1, Fraction(1, 5)], [0]])
    return em.regions(net, em.Box([-1, -1], [1, 1]))


@pytest.fixture(scope="module")
def classes():
    net = make_random_mlp([2, 6, 6, 3], 2)
    return em.regions(net, em.Box([-2, -2], [2, 2]))


# -- TeX structure -------------------------------------------------------------------------


def check_tex_structure(text: str) -> None:
    """Braces balance (outside comments) and every \\begin{X} has its \\end{X}, nested."""
    depth, stack = 0, []
    for line in text.splitlines():
        code = line.split("%", 1)[0]
        for ch in code:
            depth += {"{": 1, "}": -1}.get(ch, 0)
            assert depth >= 0, f"unbalanced braces at {line!r}"
        for kind, name in re.findall(r"\\(begin|end)\{(\w+)\}", code):
            if kind == "begin":
                stack.append(name)
            else:
                assert stack and stack.pop() == name, f"\\end{{{name}}} without its \\begin"
    assert depth == 0 and not stack


COORD = re.compile(r"\((-?[\d.]+), (-?[\d.]+)\)")
EXACT = re.compile(r"\((-?\d+(?:/\d+)?), (-?\d+(?:/\d+)?)\)")


def filled_paths(text: str) -> list[tuple[str, str]]:
    """(exact comment, path) of every filled path, in order."""
    lines = text.splitlines()
    out = []
    for i, line in enumerate(lines):
        if line.strip().startswith("\\filldraw"):
            out.append((lines[i - 1].strip(), line.strip()))
    return out


def test_tikz_one_closed_path_per_region(part):
    text = export.tikz(part)
    assert text.startswith("% exactmaso partition")
    check_tex_structure(text)
    paths = filled_paths(text)
    assert len(paths) == len(part)
    assert all(p.endswith("-- cycle;") for _, p in paths)
    assert text.count("\\begin{tikzpicture}") == 1 and text.count("\\end{tikzpicture}") == 1
    for region, (comment, path) in zip(part, paths):
        exact = [tuple(F(v) for v in m) for m in EXACT.findall(comment.split("exact:", 1)[1])]
        assert sorted(exact) == sorted(tuple(v) for v in region.vertices())
        printed = [tuple(F(v) for v in m) for m in COORD.findall(path)]
        assert len(printed) == len(exact)
        assert all(abs(p - e) <= F(1, 2 * 10**8) for P, E in zip(printed, exact) for p, e in zip(P, E))


def test_tikz_header_gives_both_bounds(part):
    header = export.tikz(part).splitlines()[1]
    assert "x0 in [-1, 1], x1 in [-1, 1]" in header


def test_tikz_class_pieces_and_boundary(classes):
    text = export.tikz(classes, color_by="class", boundary=True)
    check_tex_structure(text)
    split = boundary.class_split(classes)
    paths = filled_paths(text)
    assert len(paths) == len(split.pieces) > len(classes)
    for piece, (comment, _) in zip(split.pieces, paths):
        assert [tuple(F(v) for v in m) for m in EXACT.findall(comment)] == [tuple(v) for v in piece.vertices]
    draws = [line for line in text.splitlines() if line.strip().startswith("\\draw[boundary]")]
    distinct = {frozenset(map(tuple, p.vertices)) for p in split.boundary}
    assert len(draws) == len(distinct) > 0
    for line in draws:
        ends = frozenset(tuple(F(v) for v in m) for m in COORD.findall(line))
        assert any(all(any(abs(a[0] - b[0]) <= F(1, 10**8) and abs(a[1] - b[1]) <= F(1, 10**8) for b in d) for a in ends)
                   for d in distinct)
    assert "\\draw[boundary]" not in export.tikz(classes, boundary=False)


def test_tikz_standalone_document(part):
    doc = export.tikz(part, standalone=True)
    assert doc.startswith("\\documentclass") and doc.rstrip().endswith("\\end{document}")
    check_tex_structure(doc)
    assert "\\usepackage{tikz}" in doc


def test_tikz_far_and_tiny_domains_are_shifted_and_scaled():
    part = far_partition()
    assert len(part) > 1
    text = export.tikz(part)
    check_tex_structure(text)
    assert "(x0 - 1000) / 10^-3" in text
    for _, path in filled_paths(text):
        assert all(0 <= F(v) <= 1 for m in COORD.findall(path) for v in m)


def test_tikz_refuses_1d_and_bad_options(part):
    part1 = em.regions(em.mlp([[[1], [-1]], [[1, 1]]]), em.Box([-1], [1]))
    with pytest.raises(em.ShapeError, match="2-D"):
        export.tikz(part1)
    with pytest.raises(em.ShapeError, match="2-D"):
        export.svg(part1)
    with pytest.raises(ValueError, match="color_by"):
        export.tikz(part, color_by="taste")
    with pytest.raises(em.ExactMasoError, match="color_by"):
        export.svg(part, color_by="taste")


def test_write_tikz(part, tmp_path):
    path = tmp_path / "p.tex"
    export.write_tikz(part, path)
    assert path.read_text() == export.tikz(part)


def far_partition():
    """A partition of a tiny box far from the origin (TeX cannot hold its raw coordinates)."""
    net = em.mlp([[[1, -1], [1, 1]], [[1, 1]]], [[0, F(-4000001, 2000)], [0]])
    return em.regions(net, em.Box([1000, 1000], [F(1000001, 1000), F(1000001, 1000)]))


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed (scripts/compile_tikz.sh installs it)")
@pytest.mark.parametrize("which, color_by", [("classes", "class"), ("classes", "output"), ("far", "code")])
def test_pdflatex_compiles_the_standalone_document(classes, tmp_path, which, color_by):
    part = classes if which == "classes" else far_partition()
    (tmp_path / "p.tex").write_text(export.tikz(part, color_by=color_by, standalone=True))
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "p.tex"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:]
    assert (tmp_path / "p.pdf").read_bytes().startswith(b"%PDF")


def test_compile_script_writes_and_compiles(tmp_path):
    """scripts/compile_tikz.sh: with pdflatex present it compiles; without, it says how to get it."""
    script = os.path.join(os.path.dirname(__file__), "..", "scripts", "compile_tikz.sh")
    env = dict(os.environ, PYTHON=sys.executable, EXACTMASO_NO_INSTALL="1")
    done = subprocess.run(["bash", script, str(tmp_path)], capture_output=True, text=True, env=env, timeout=300)
    assert (tmp_path / "partition.tex").exists()
    if shutil.which("pdflatex"):
        assert done.returncode == 0, done.stderr
        assert (tmp_path / "partition.pdf").read_bytes().startswith(b"%PDF")
    else:
        assert done.returncode != 0 and "texlive" in done.stderr


# -- SVG -----------------------------------------------------------------------------------


def test_svg_one_polygon_per_region(part, tmp_path):
    text = export.svg(part, tmp_path / "p.svg")
    assert (tmp_path / "p.svg").read_text() == text
    root = ET.fromstring(text)
    ns = {"s": "http://www.w3.org/2000/svg"}
    polys = root.findall(".//s:polygon", ns)
    assert len(polys) == len(part)
    s = F(480, 2)  # pixels per unit: 480 px over a width of 2
    for region, poly in zip(part, polys):
        pts = [tuple(F(v) for v in p.split(",")) for p in poly.get("points").split()]
        want = sorted(((x + 1) * s, (1 - y) * s) for x, y in region.vertices())
        assert all(abs(a - b) <= F(1, 2000) for P, W in zip(sorted(pts), want) for a, b in zip(P, W))
        assert poly.find("s:title", ns).text.startswith(f"region {region.index}: code")


def test_svg_class_pieces_and_boundary(classes):
    root = ET.fromstring(export.svg(classes, color_by="class", exact=True))
    ns = {"s": "http://www.w3.org/2000/svg"}
    split = boundary.class_split(classes)
    polys = root.findall(".//s:polygon", ns)
    assert len(polys) == len(split.pieces)
    for piece, poly in zip(split.pieces, polys):
        assert [tuple(F(v) for v in m) for m in EXACT.findall(poly.get("data-exact"))] == [tuple(v) for v in piece.vertices]
    lines = root.findall(".//s:polyline", ns)
    assert len(lines) == len({frozenset(map(tuple, p.vertices)) for p in split.boundary})


# -- JSON ----------------------------------------------------------------------------------


def test_decimal_string_rounds_exactly():
    assert export.decimal_string(Fraction(2, 3), 3) == "0.667"
    assert export.decimal_string(Fraction(-1, 8), 2) == "-0.13"
    assert export.decimal_string(Fraction(1, 10**9), 8) == "0"
    assert export.decimal_string(Fraction(12345, 10), 8) == "1234.5"


def test_json_round_trip_is_exact(part, tmp_path):
    path = tmp_path / "regions.json"
    export.json(part, path)
    assert [p.name for p in tmp_path.iterdir()] == ["regions.json"]  # no temp file left behind
    data = json.loads(path.read_text())
    assert data["format"] == export.FORMAT and data["num_regions"] == len(part)
    volumes = [Fraction(r["volume"]) for r in data["regions"]]
    assert all(isinstance(r["volume"], str) for r in data["regions"])
    assert sum(volumes) == Fraction(data["total_volume"]) == Fraction(data["domain"]["volume"]) == 4
    assert volumes == [r.volume() for r in part]
    net = part.net
    for r, d in zip(part, data["regions"]):
        assert tuple(tuple(layer) for layer in d["code"]) == r.code
        point = [Fraction(v) for v in d["point"]]
        A = [[Fraction(v) for v in row] for row in d["affine"]["A"]]
        b = [Fraction(v) for v in d["affine"]["b"]]
        value = [sum(a * x for a, x in zip(row, point)) + c for row, c in zip(A, b)]
        assert value == list(net(point))
        rows = [[Fraction(v) for v in row] for row in d["polytope"]["A"]]
        rhs = [Fraction(v) for v in d["polytope"]["b"]]
        for vertex in d["vertices"]:
            v = [Fraction(t) for t in vertex]
            assert all(sum(a * x for a, x in zip(row, v)) <= c for row, c in zip(rows, rhs))
    assert len(data["edges"]) == part.graph.number_of_edges()
    assert all(part.graph.has_edge(e["source"], e["target"]) for e in data["edges"])


def test_load_json_reads_back_exactly(part, tmp_path):
    path = tmp_path / "regions.json"
    export.json(part, path)
    got = export.load_json(path)
    assert got == export.from_dict(export.to_dict(part))
    assert got.to_dict() == export.to_dict(part)
    assert len(got) == len(part)
    for r, d in zip(part, got.regions):
        assert d.code == r.code and d.volume == r.volume()
        assert sorted(d.vertices) == sorted(tuple(v) for v in r.vertices())
        assert d.affine_A == tuple(tuple(row) for row in r.affine.A)
    got.verify(part.net)


def test_verify_catches_a_tampered_file(part, tmp_path):
    data = export.to_dict(part)
    data["regions"][0]["volume"] = "1/3"
    with pytest.raises(em.CertificateError, match="volumes sum"):
        export.from_dict(data).verify()
    data = export.to_dict(part)
    data["regions"][1]["affine"]["b"] = ["7"]
    with pytest.raises(em.CertificateError, match="affine map differs"):
        export.from_dict(data).verify(part.net)
    data = export.to_dict(part)
    data["regions"][2]["point"] = data["regions"][2]["vertices"][0]
    with pytest.raises(em.CertificateError, match="strictly inside"):
        export.from_dict(data).verify()


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.update(format="other"), "format is 'other'"),
    (lambda d: d.update(version=2), "version is 2"),
    (lambda d: d.update(num_regions=1), "num_regions"),
    (lambda d: d["regions"][0].update(volume="one half"), r"regions\[0\].volume"),
    (lambda d: d["regions"][0].pop("point"), "has no 'point'"),
    (lambda d: d["regions"][0]["vertices"][0].append("1"), r"vertices\[0\]"),
])
def test_from_dict_names_the_malformed_field(part, edit, message):
    data = export.to_dict(part)
    edit(data)
    with pytest.raises(em.ModelFileError, match=message):
        export.from_dict(data)


def test_load_json_refuses_non_json(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(em.ModelFileError, match="not a JSON partition file"):
        export.load_json(path)


def test_json_overwrites_atomically(part, tmp_path):
    path = tmp_path / "r.json"
    path.write_text("old")
    export.json(part, path)
    assert json.loads(path.read_text())["num_regions"] == len(part)
    assert sorted(os.listdir(tmp_path)) == ["r.json"]


# -- tables --------------------------------------------------------------------------------


def last_split_from_hierarchy(part, region):
    """Oracle: the deepest level whose node above the region has two or more children."""
    T = part.hierarchy()
    layers = [l for l in range(len(part.net.masos)) if T.out_degree((l, region.code[:l])) > 1]
    return layers[-1] if layers else None


def test_csv_has_exact_volumes_ranges_and_last_split(classes, tmp_path):
    net = classes.net
    path = tmp_path / "regions.csv"
    export.csv(classes, path)
    with open(path, newline="") as fh:
        rows = list(_csv.DictReader(fh))
    assert len(rows) == len(classes)
    for region, row in zip(classes, rows):
        assert F(row["volume"]) == region.volume()
        assert float(row["volume_float"]) == float(region.volume())
        values = [list(net(list(v))) for v in region.vertices()]  # exact forward pass at the vertices
        for j in range(net.output_dim):
            assert F(row[f"output{j}_min"]) == min(y[j] for y in values)
            assert F(row[f"output{j}_max"]) == max(y[j] for y in values)
        want = last_split_from_hierarchy(classes, region)
        assert row["last_split_layer"] == ("" if want is None else str(want))
        assert row["code"] == " | ".join("".join(map(str, layer)) for layer in region.code)
    assert export.table(classes)[0]["region"] == 0


def test_one_region_has_no_split():
    part = em.regions(em.mlp([[[1, 2]]]), em.Box([-1, -1], [1, 1]))
    assert [row["last_split_layer"] for row in export.table(part)] == [None]


def test_dataframe_without_pandas_says_how_to_install(part, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # importing it now raises ImportError
    with pytest.raises(ImportError, match="pip install pandas"):
        export.dataframe(part)


def test_dataframe_with_pandas(part):
    pd = pytest.importorskip("pandas")
    df = export.dataframe(part)
    assert isinstance(df, pd.DataFrame) and len(df) == len(part)
    assert [F(v) for v in df["volume"]] == [r.volume() for r in part]
