"""Regressions of ``em.prove``: claims whose certificates did not verify, and searches that
never ended, each with its reproducer and an answer computed without the prover.

1. ``equivalent`` said that a network and its rescaled copy (a first-layer unit doubled, its
   outgoing weights halved: the same function) are equivalent, but the certificate did not
   verify, and the proof took 6-25 s.  Root cause: the prover closed a node with its float
   relaxation while the checker's exact relaxation of the same node was a different one.  The
   node's phases pinned a unit at ``h = 0`` (``h <= 0`` on a box where ``h >= 0``, exact bounds
   ``[0, 0]``): the checker took its piece 1 (``l >= 0`` first), the float bounds (``l`` a
   rounding below 0) its piece 0.  Both are sound where the phases hold, and differ by ``h(x)``
   on the box.  The same happens wherever the exact bounds sit on a tie (weights and boxes
   with short binary fractions give exact ties everywhere: 10 of 40 small quantized networks'
   output bounds did not verify).  Now a phased unit pinned at 0 takes its phase's piece on
   both sides, and a node whose float relaxation sits within rounding of a tie closes only
   when the checker's exact computation closes it too.  Two equal functions differ by exactly
   0, which no relaxation that is not exact proves: such boxes are decided by their linear
   regions (a ``"regions"`` leaf the checker re-verifies as a partition).
2. ``output_bounds`` of a bias-free network whose maximum (0) is at the origin, where every
   unit switches, reached depth 400 after 102 s: the boxes around the origin look the same at
   every scale.  Now a box attaining the best value is decided by its regions.

The oracles: the exact forward pass of ``tests/prove_oracle.py`` (nothing from exactmaso) at
every vertex of every linear region (``em.regions``, its own certificate re-checked first), or
that file's brute-force pattern sets.
"""

from __future__ import annotations

import copy
import json
from fractions import Fraction

import numpy as np
import pytest

import exactmaso as em
from exactmaso.compose import stack
from exactmaso.errors import CertificateError
from exactmaso.prove import checker
from exactmaso.prove.relax import FloatModel

try:
    from prove_oracle import forward, pattern_sets
except ImportError:  # pragma: no cover - run from the repository root as a package
    from tests.prove_oracle import forward, pattern_sets  # type: ignore[no-redef]

F = Fraction
BOX = em.Box([-1, -1], [1, 1])
LO, HI = [F(-1)] * 2, [F(1)] * 2


def exact(arrays) -> list:
    """Float arrays as nested lists of the Fractions they are exactly."""
    return [np.vectorize(F, otypes=[object])(np.asarray(a, dtype=float)).tolist() for a in arrays]


def quantized(widths: list[int], seed: int) -> tuple[list, list]:
    """The weights of the reproducers: normal samples rounded to multiples of 1/4."""
    rng = np.random.default_rng(seed)
    W = [np.round(rng.normal(size=(o, i)) * 4) / 4 for i, o in zip(widths, widths[1:])]
    B = [np.round(rng.normal(size=o) * 4) / 4 for o in widths[1:]]
    return W, B


def rescaled_twin(W: list, B: list) -> tuple[list, list]:
    """Unit 0 of the first layer doubled and its outgoing weights halved: the same function."""
    W2, B2 = [w.copy() for w in W], [b.copy() for b in B]
    W2[0][0] *= 2
    B2[0][0] *= 2
    W2[1][:, 0] /= 2
    return W2, B2


def vertices_of_regions(net: em.Network) -> list:
    part = em.regions(net, BOX)
    part.verify()
    return [list(v) for reg in part for v in reg.vertices()]


def leaf_kinds(tree: dict) -> list[str]:
    out, todo = [], [tree]
    while todo:
        node = todo.pop()
        todo.extend(node.get("children", []))
        if "leaf" in node:
            out.append(node["leaf"])
    return out


# -- 1. the rescaled twin ----------------------------------------------------------------------
@pytest.mark.parametrize("widths, seed", [([2, 8, 8, 2], 0), ([2, 6, 6, 2], 1), ([2, 8, 8, 2], 3)])
def test_a_rescaled_twin_is_equivalent_with_a_certificate_that_verifies(widths, seed):
    W, B = quantized(widths, seed)
    W2, B2 = rescaled_twin(W, B)
    f, g = em.mlp(W, B), em.mlp(W2, B2)
    r = em.prove.equivalent(f, g, BOX)
    assert r.holds and r.max_difference == 0 and r.counterexample is None
    r.verify()  # was: CertificateError, the exact bound on a leaf is 5/32
    # decided exactly: a difference that is 0 everywhere closes no relaxation that is not exact
    assert any("regions" in leaf_kinds(p["tree"]) for p in r.certificate["proofs"])
    # the oracle: both networks are affine on every region of the stacked one, so they are
    # the same function on the box iff they agree at every vertex of every region
    (Wf, Bf), (Wg, Bg) = (exact(W), exact(B)), (exact(W2), exact(B2))
    for v in vertices_of_regions(stack(f, g)):
        assert forward(Wf, Bf, v) == forward(Wg, Bg, v)


def test_a_twin_that_differs_somewhere_has_the_oracles_maximum_difference():
    W, B = quantized([2, 6, 6, 2], 2)
    W2, B2 = rescaled_twin(W, B)
    B2[1][3] += 0.25  # a second-layer offset moved: the functions differ where that unit is active
    f, g = em.mlp(W, B), em.mlp(W2, B2)
    r = em.prove.equivalent(f, g, BOX)
    r.verify()
    (Wf, Bf), (Wg, Bg) = (exact(W), exact(B)), (exact(W2), exact(B2))
    diff = [max(abs(a - b) for a, b in zip(forward(Wf, Bf, v), forward(Wg, Bg, v)))
            for v in vertices_of_regions(stack(f, g))]
    assert r.max_difference == max(diff) > 0 and not r.holds
    x = r.counterexample
    assert max(abs(a - b) for a, b in zip(forward(Wf, Bf, x), forward(Wg, Bg, x))) == r.max_difference


# -- 2. the bias-free network ------------------------------------------------------------------
def test_the_maximum_of_a_bias_free_network_at_the_origin_is_proven():
    rng = np.random.default_rng(0)
    W = [rng.normal(size=(8, 2)), rng.normal(size=(8, 8)), rng.normal(size=(2, 8))]
    net = em.mlp(W)  # no biases: positively homogeneous, every unit switches at the origin
    r = em.prove.output_bounds(net, BOX, output=0)  # was: LimitError at depth 400 after 102 s
    r.verify()
    Wq, Bq = exact(W), [[F(0)] * len(w) for w in W]
    values = [forward(Wq, Bq, v)[0] for v in vertices_of_regions(net)]
    assert (r.lo, r.hi) == (min(values), max(values))
    assert r.hi == 0
    assert forward(Wq, Bq, r.argmax)[0] == r.hi and forward(Wq, Bq, r.argmin)[0] == r.lo


# -- the cause: float and exact relaxations at ties ---------------------------------------------
@pytest.mark.parametrize("seed", [1, 5, 15, 19, 33, 37, 39])
def test_output_bounds_of_quantized_networks_have_certificates_that_verify(seed):
    """Seeds whose certificates did not verify (a bound or an empty leaf the checker's exact
    relaxation did not reproduce)."""
    W, B = quantized([2, 6, 6, 2], seed)
    r = em.prove.output_bounds(em.mlp(W, B), BOX, output=0)
    r.verify()
    Wq, Bq = exact(W), exact(B)
    values = [s.value(v)[0] for s in pattern_sets(Wq, Bq, LO, HI) for v in s.vertices]
    assert (r.lo, r.hi) == (min(values), max(values))


def test_a_unit_pinned_at_zero_by_its_phase_takes_the_phases_piece_in_floats_and_exactly():
    # h = x0 on [0, 1] x [0, 1] with the phase h <= 0: pinned at h = 0 (exact bounds [0, 0])
    net = em.mlp([[[1, 0]], [[1]]], [[0], [0]])
    lo, hi = [F(0), F(0)], [F(1), F(1)]
    phases = {(0, 0): 0}
    model = checker.ExactModel(net)
    exact_bounds = checker.box_bounds(model, lo, hi, crown=True, phases=phases)
    assert exact_bounds.cut_lo[0] == exact_bounds.cut_hi[0] == [0]
    assert checker.decided_pieces(model, exact_bounds, 0) == [0]
    fm = FloatModel(net)
    b = fm.bounds(np.array([[0.0, 0.0]]), np.array([[1.0, 1.0]]), phases=[phases])
    assert fm.pieces(b.node(0), phases)[0] == (0,)
    # without the phase it is on its piece 1 exactly (l = 0 >= 0), while the float bounds
    # leave it undecided (l is a rounding below 0): a tie, which the checker's bounds decide
    assert checker.decided_pieces(model, checker.box_bounds(model, lo, hi), 0) == [1]
    free = fm.bounds(np.array([[0.0, 0.0]]), np.array([[1.0, 1.0]]))
    assert fm.pieces(free.node(0), {})[0] is None and fm.ties(free, [{}])[0]


def test_ties_are_the_choices_rounding_can_flip():
    # unit 0: h = x0 - x1 on [-1, 1]^2, u = -l exactly (its lower line is g1 or g0);
    # unit 1: h = x0 + 1, l = 0 exactly; unit 2: h = x0 + 1/2, far from every tie
    units = [[[1, -1]], [[1, 0]], [[1, 0]]]
    offsets = [[0], [1], [F(1, 2)]]
    tied = []
    for W, b in zip(units, offsets):
        fm = FloatModel(em.mlp([W, [[1]]], [b, [0]]))
        tied.append(bool(fm.ties(fm.bounds(np.array([[-1.0, -1.0]]), np.array([[1.0, 1.0]])), [{}])[0]))
    assert tied == [True, True, False]


def test_float_bounds_the_checker_cannot_reproduce_never_close_a_node(monkeypatch):
    """Every node on a tie, and float bounds 1 too low (bounds no exact relaxation gives):
    each node they close is re-computed exactly, refused, and decided exactly instead; the
    answer is still the oracle's and the certificate verifies."""
    monkeypatch.setattr(FloatModel, "ties", lambda self, b, phases: np.ones(len(b), dtype=bool))
    upper = FloatModel.upper

    def too_low(self, *args, **kwargs):
        ub, rows, cx = upper(self, *args, **kwargs)
        return ub - 1.0, rows, cx - 1.0

    monkeypatch.setattr(FloatModel, "upper", too_low)
    W, B = quantized([2, 6, 6, 2], 39)
    r = em.prove.output_bounds(em.mlp(W, B), BOX, output=0)
    r.verify()
    Wq, Bq = exact(W), exact(B)
    values = [s.value(v)[0] for s in pattern_sets(Wq, Bq, LO, HI) for v in s.vertices]
    assert (r.lo, r.hi) == (min(values), max(values))


def test_a_limit_on_a_network_full_of_ties_still_proves_its_interval():
    W, B = quantized([2, 8, 8, 2], 6)  # its maximum takes 14 nodes
    net = em.mlp(W, B)
    with pytest.raises(em.LimitError) as info:
        em.prove.output_bounds(net, BOX, output=0, which="max", max_nodes=4)
    exc = info.value
    em.prove.check(exc.certificate, net)  # its open leaves bounded by the checker's own bounds
    Wq, Bq = exact(W), exact(B)
    top = max(forward(Wq, Bq, v)[0] for v in vertices_of_regions(net))
    assert exc.lower <= top <= exc.upper


# -- the regions leaf: what the checker verifies ------------------------------------------------
@pytest.fixture(scope="module")
def regions_certificate():
    """A bias-free [2, 4, 1] network's output bounds: its boxes are decided by their regions."""
    net = em.mlp([[[1, 2], [-1, 1], [2, -1], [1, 1]], [[1, -2, 1, -1]]])
    r = em.prove.output_bounds(net, BOX)
    r.verify()
    cert = r.certificate
    path, node = first_regions_leaf(cert["proofs"][0]["tree"])
    assert len(node["partition"]["regions"]) >= 3
    return net, cert, path


def first_regions_leaf(tree: dict) -> tuple[list, dict]:
    todo = [([], tree)]
    while todo:
        path, node = todo.pop()
        if node.get("leaf") == "regions":
            return path, node
        todo.extend((path + [i], kid) for i, kid in enumerate(node.get("children", [])))
    raise AssertionError("no regions leaf")


def tampered(cert: dict, path: list, change) -> tuple[dict, str]:
    out = copy.deepcopy(cert)
    node = out["proofs"][0]["tree"]
    for i in path:
        node = node["children"][i]
    change(node)
    return out, "proofs[0].tree" + "".join(f".{i}" for i in path)


def rejected(net, cert, *words) -> str:
    with pytest.raises(CertificateError) as info:
        em.prove.check(cert, net)
    message = str(info.value)
    assert all(w in message for w in words), message
    return message


def test_a_region_dropped_from_a_regions_leaf_is_rejected(regions_certificate):
    net, cert, path = regions_certificate
    bad, at = tampered(cert, path, lambda n: n["partition"]["regions"].pop())
    rejected(net, bad, at)


def test_a_moved_vertex_of_a_regions_leaf_is_rejected(regions_certificate):
    net, cert, path = regions_certificate

    def move(node):
        v = node["partition"]["regions"][0]["vertices"][0]
        v[0] = checker.format_q(F(v[0]) + F(1, 7))

    bad, at = tampered(cert, path, move)
    rejected(net, bad, at)


def test_a_changed_code_of_a_regions_leaf_is_rejected(regions_certificate):
    net, cert, path = regions_certificate

    def flip(node):
        code = node["partition"]["regions"][0]["code"]
        code[0][0] = 1 - code[0][0]

    bad, at = tampered(cert, path, flip)
    rejected(net, bad, at)


def test_a_regions_leaf_of_another_box_is_rejected(regions_certificate):
    net, cert, path = regions_certificate
    other = em.prove.checker.partition_json(em.regions(net, em.Box([-1, -1], [0, 0])))
    bad, at = tampered(cert, path, lambda n: n.update(partition=other))
    rejected(net, bad, at, "does not tile")


def test_a_regions_leaf_without_its_partition_is_rejected(regions_certificate):
    net, cert, path = regions_certificate
    bad, at = tampered(cert, path, lambda n: n.pop("partition"))
    rejected(net, bad, at, "partition")


def test_a_bound_below_the_regions_maximum_is_rejected(regions_certificate):
    net, cert, path = regions_certificate
    proof = copy.deepcopy(cert["proofs"][0])
    proof["bound"] = checker.format_q(F(proof["bound"]) - F(1, 1000))
    with pytest.raises(CertificateError, match="the maximum over the vertices of its regions is"):
        checker.check_bound(net, proof)


def test_a_regions_leaf_cannot_bound_a_minimum_of_functionals(regions_certificate):
    net, cert, path = regions_certificate
    proof = copy.deepcopy(cert["proofs"][0])
    c, d = proof.pop("c"), proof.pop("d")
    proof["functionals"] = [c + [d], [checker.format_q(-F(v)) for v in c] + [d]]
    with pytest.raises(CertificateError, match="a regions leaf bounds one functional"):
        checker.check_bound(net, proof)


def test_a_regions_leaf_survives_a_save_and_load(regions_certificate, tmp_path):
    net, cert, _ = regions_certificate
    path = tmp_path / "cert.json"
    path.write_text(json.dumps(cert))
    em.prove.check(path, net)
