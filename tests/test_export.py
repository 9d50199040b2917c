"""TikZ and exact JSON export of partitions."""

from __future__ import annotations

import json
import os
from fractions import Fraction

import pytest

import exactmaso as em
from exactmaso import export


@pytest.fixture(scope="module")
def part():
    net = em.mlp([[[1, 1], [1, -1], [Fraction(1, 2), 2], [-1, Fraction(1, 3)]], [[1, -1, 1, 2]]],
                 [[0, Fraction(1, 4), -1, Fraction(1, 5)], [0]])
    return em.regions(net, em.Box([-1, -1], [1, 1]))


def test_tikz_one_path_per_region(part):
    text = export.tikz(part)
    assert text.startswith("% exactmaso partition")
    paths = [line for line in text.splitlines() if line.strip().startswith("\\filldraw")]
    assert len(paths) == len(part)
    assert all(line.rstrip().endswith("-- cycle;") for line in paths)
    assert text.count("\\begin{tikzpicture}") == 1 and text.count("\\end{tikzpicture}") == 1
    doc = export.tikz(part, standalone=True)
    assert doc.startswith("\\documentclass") and doc.rstrip().endswith("\\end{document}")


def test_write_tikz(part, tmp_path):
    path = tmp_path / "p.tex"
    export.write_tikz(part, path)
    assert path.read_text() == export.tikz(part)


def test_tikz_refuses_1d():
    part = em.regions(em.mlp([[[1], [-1]], [[1, 1]]]), em.Box([-1], [1]))
    with pytest.raises(em.ShapeError, match="2-D"):
        export.tikz(part)


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


def test_json_overwrites_atomically(part, tmp_path):
    path = tmp_path / "r.json"
    path.write_text("old")
    export.json(part, path)
    assert json.loads(path.read_text())["num_regions"] == len(part)
    assert sorted(os.listdir(tmp_path)) == ["r.json"]
