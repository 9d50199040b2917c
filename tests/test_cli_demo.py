"""``exactmaso demo --out DIR``: the files it writes, and a summary whose numbers agree with
independent computations (a fresh enumeration, the exact JSON, the forward pass)."""

from __future__ import annotations

import json
import re
from fractions import Fraction

import networkx as nx
import pytest

import exactmaso as em
from exactmaso._display import short_decimal
from exactmaso.cli import main
from exactmaso.default_network import DEFAULT_DOMAIN, default_network

_MAGIC = {".pdf": b"%PDF", ".png": b"\x89PNG\r\n\x1a\n", ".tex": b"\\documentclass", ".json": b"{", ".svg": b"<?xml"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One run of the demo: (folder, printed text, summary.json, regions.json)."""
    import contextlib
    import io

    out = tmp_path_factory.mktemp("demo") / "out"
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(["demo", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    regions = json.loads((out / "regions.json").read_text())
    return out, buffer.getvalue(), summary, regions


def _q(text: str) -> Fraction:
    return Fraction(text)


def test_writes_pdf_png_tex_and_json_figures(demo):
    out, text, _, _ = demo
    for name in ("partition.pdf", "partition.png", "hierarchy.pdf", "hierarchy.png", "surface.pdf", "surface.png",
                 "partition.tex", "partition.svg", "regions.json", "network.json", "summary.json", "bounds.cert.json",
                 "lipschitz.cert.json"):
        path = out / name
        assert path.read_bytes().startswith(_MAGIC[path.suffix]), name
        assert f"wrote {path}" in text  # says where each file went
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left
    assert "\\begin{tikzpicture}" in (out / "partition.tex").read_text()


def test_prints_the_exact_checks(demo):
    out, text, _, regions = demo
    assert "== net(x) exactly" in text
    assert "verified in" in text and "volumes sum to 4 = the domain's volume 4" in text
    assert em.load(out / "network.json") == default_network()
    assert re.search(r"done in \d+\.\d\d s\.", text)


def test_region_count_and_cells_per_layer(demo):
    _, _, summary, regions = demo
    net, dom = default_network(), em.Box(*DEFAULT_DOMAIN)
    assert summary["regions"] == em.count_regions(net, dom) == regions["num_regions"]
    codes = [tuple(tuple(layer) for layer in r["code"]) for r in regions["regions"]]
    assert summary["cells_per_layer"] == [len({c[:l] for c in codes}) for l in range(1, len(net.masos) + 1)]
    assert sum(_q(r["volume"]) for r in regions["regions"]) == dom.volume()


def test_adjacency_and_linear_pieces(demo):
    _, _, summary, regions = demo
    part = em.regions(default_network(), em.Box(*DEFAULT_DOMAIN))
    n, edges = len(part), part.graph.number_of_edges()
    assert summary["edges"] == edges == len(regions["edges"])
    assert _q(summary["mean_degree"]) == Fraction(2 * edges, n)
    assert summary["max_degree"] == max(d for _, d in part.graph.degree())
    # linear pieces from the JSON alone: adjacent regions with equal exact affine maps, joined
    same = nx.Graph()
    same.add_nodes_from(range(n))
    maps = [(tuple(map(tuple, r["affine"]["A"])), tuple(r["affine"]["b"])) for r in regions["regions"]]
    same.add_edges_from((e["source"], e["target"]) for e in regions["edges"] if maps[e["source"]] == maps[e["target"]])
    assert summary["linear_pieces"] == nx.number_connected_components(same)


def test_proven_bounds_bracket_the_forward_pass_and_are_attained(demo):
    _, _, summary, regions = demo
    net = default_network()
    lo, hi = _q(summary["output_min"]), _q(summary["output_max"])
    points = [[_q(v) for v in r["point"]] for r in regions["regions"]]
    vertices = [[_q(v) for v in x] for r in regions["regions"] for x in r["vertices"]]
    assert all(lo <= net(p)[0] <= hi for p in points)
    # an affine map on a polytope is extreme at a vertex: the exact range is over the vertices
    values = [net(v)[0] for v in vertices]
    assert (min(values), max(values)) == (lo, hi)
    assert net([_q(v) for v in summary["argmin"]])[0] == lo
    assert net([_q(v) for v in summary["argmax"]])[0] == hi


def test_lipschitz_constant_is_the_steepest_region(demo):
    _, _, summary, regions = demo
    # one output, inf-norm on the inputs: the constant is the largest l1-norm of a region's gradient
    slopes = [sum(abs(_q(a)) for a in r["affine"]["A"][0]) for r in regions["regions"]]
    assert summary["lipschitz_norm"] == "inf"
    assert _q(summary["lipschitz"]) == max(slopes)
    assert slopes[summary["lipschitz_region"]] == max(slopes)


def test_printed_table_matches_the_exact_summary(demo):
    _, text, summary, _ = demo
    table = text[text.index("summary of the bundled network"):]
    assert re.search(rf"linear regions\s+{summary['regions']}\b", table)
    assert re.search(rf"adjacency edges\s+{summary['edges']}\b", table)
    assert re.search(rf"linear pieces\s+{summary['linear_pieces']}\b", table)
    low, high = re.search(r"proven range\s+\[(\S+), (\S+)\]", table).groups()
    # rounded outwards: the printed interval holds the exact one
    assert Fraction(low) <= _q(summary["output_min"]) and Fraction(high) >= _q(summary["output_max"])
    assert low == short_decimal(_q(summary["output_min"]), rounding="down")
    lipschitz = re.search(r"Lipschitz constant \(inf-norm\)\s+(\S+)", table).group(1)
    assert Fraction(lipschitz) >= _q(summary["lipschitz"]) and lipschitz == short_decimal(_q(summary["lipschitz"]), rounding="up")


def test_certificates_check(demo, capsys):
    out, _, _, _ = demo
    for name in ("bounds.cert.json", "lipschitz.cert.json"):
        assert main(["check-certificate", str(out / name), str(out / "network.json")]) == 0
        assert "verified" in capsys.readouterr().out


def test_exact_flag_prints_fractions(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "d"), "--exact"]) == 0
    text = capsys.readouterr().out
    summary = json.loads((tmp_path / "d" / "summary.json").read_text())
    table = text[text.index("summary of the bundled network"):]
    assert f"[{summary['output_min']}, {summary['output_max']}]" in table
    assert summary["mean_degree"] in table
    assert "net(x)        [1229/98304]" in text
