"""Partition.verify accepts true partitions and rejects tampered ones, naming what failed."""

from fractions import Fraction as F

import numpy as np
import pytest

import exactmaso as em
from exactmaso._engine import RegionRecord


@pytest.fixture
def part():
    rng = np.random.default_rng(3)
    net = em.mlp([rng.integers(-3, 4, size=(5, 2)), rng.integers(-3, 4, size=(4, 5)), [[1, -1, 2, 1]]],
                 [rng.integers(-2, 3, size=5), rng.integers(-2, 3, size=4), [0]])
    p = em.regions(net, em.Box([-2, -2], [2, 2]))
    assert len(p) > 5
    p.verify()  # the true partition passes
    return p


def test_missing_region_is_caught(part):
    part._regions.pop()
    with pytest.raises(em.CertificateError, match="volumes sum"):
        part.verify()


def test_duplicated_region_is_caught(part):
    part._regions.append(part._regions[0])
    with pytest.raises(em.CertificateError, match="same code"):
        part.verify()


def test_wrong_code_is_caught(part):
    reg = part._regions[2]
    code = [list(c) for c in reg.code]
    code[0][0] = 1 - code[0][0]
    reg._rec = RegionRecord(tuple(tuple(c) for c in code), reg._rec.geom, None, None)
    reg._cache.clear()
    with pytest.raises(em.CertificateError):
        part.verify()


def test_moved_vertex_is_caught(part):
    reg = part._regions[1]
    V = reg.vertices().copy()
    V[0] = [V[0][0] + F(1, 1000), V[0][1] - F(1, 997)]
    reg._cache["vertices"] = V
    with pytest.raises(em.CertificateError):
        part.verify()


def test_false_edge_is_caught(part):
    G = part.graph
    i, j = next((a, b) for a in range(len(part)) for b in range(a + 1, len(part)) if not G.has_edge(a, b))
    a = (i, 0)
    b = (j, 0)
    G.add_edge(i, j, units=((0, 0),), facets=(a, b), point=tuple(part[i].point))
    with pytest.raises(em.CertificateError, match="edge"):
        part.verify()
