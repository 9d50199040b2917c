"""Minimised failures of the cross-check, kept as fixtures (tests/regressions/*.json).

Each fixture holds a network in MASO form (rationals as "p/q" strings), a box, and what the
independent oracle (tests/oracle_nd.py) says about it: the number of regions, their codes and
volumes, and the adjacency edges as pairs of codes.  exactmaso must agree and its verify()
must pass.  ``reproduce`` in each fixture is the same network as a one-line em call.
Write new fixtures with scripts/minimise_case.py.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

import exactmaso as em

try:
    import crosscheck as cc
    from oracle_nd import edge_problems, oracle_regions
except ImportError:  # tests/ as a package
    from tests import crosscheck as cc  # type: ignore[no-redef]
    from tests.oracle_nd import edge_problems, oracle_regions  # type: ignore[no-redef]

FIXTURES = sorted((Path(__file__).parent / "regressions").glob("*.json"))


def _code(c) -> tuple:
    return tuple(tuple(layer) for layer in c)


def _load(path: Path):
    layers, lo, hi, data = cc.load_json(path)
    exp = data["expected"]
    codes = [_code(c) for c in exp["codes"]]
    volumes = dict(zip(codes, (Fraction(v) for v in exp["volumes"])))
    edges = {frozenset((_code(a), _code(b))) for a, b in exp["edge_codes"]}
    return layers, lo, hi, exp, codes, volumes, edges


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_exactmaso_matches_the_oracle_fixture(path):
    layers, lo, hi, exp, codes, volumes, edges = _load(path)
    net = cc.net_from_layers(layers, json.loads(path.read_text()).get("input_shape"))
    part = em.regions(net, em.Box(lo, hi))
    problems = []
    if len(part) != exp["regions"]:
        problems.append(f"{len(part)} regions; the oracle has {exp['regions']}")
    got = {r.code: r for r in part}
    if set(got) != set(codes):
        problems.append(f"codes differ: missing {sorted(set(codes) - set(got))[:3]}, extra {sorted(set(got) - set(codes))[:3]}")
    wrong = [c for c in codes if c in got and Fraction(got[c].volume()) != volumes[c]]
    if wrong:
        problems.append(f"{len(wrong)} volumes differ, e.g. code {wrong[0]}")
    if not problems:
        got_edges = {frozenset((part[i].code, part[j].code)) for i, j in part.graph.edges}
        if got_edges != edges:
            problems.append(f"{len(part.graph.edges)} edges; the oracle has {exp['edges']} "
                            f"({len(edges - got_edges)} missing, {len(got_edges - edges)} extra)")
    try:
        part.verify()
    except em.CertificateError as e:
        problems.append(f"verify() failed: {e}")
    assert not problems, f"{path.name}: {json.loads(path.read_text())['what']}\n" + "\n".join(problems)


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_the_oracle_still_gives_the_fixture(path):
    """The expectations are the oracle's (guards the fixtures against edits and the oracle
    against regressions; exactmaso plays no part)."""
    layers, lo, hi, exp, codes, volumes, edges = _load(path)
    res = oracle_regions(layers, lo, hi)
    assert [r.code for r in res.regions] == codes
    assert [r.volume for r in res.regions] == [volumes[c] for c in codes]
    assert res.edges == edges
    assert edge_problems(layers, res) == []  # every edge re-checked from the forward pass
