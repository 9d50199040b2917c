"""Tests for exactmaso.lp: float LPs propose, exact certificates decide."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exactmaso import lp
from exactmaso.errors import CertificateError

F = Fraction
SQUARE_A = [[1, 0], [-1, 0], [0, 1], [0, -1]]


def obj(values):
    out = np.empty(len(values), dtype=object)
    out[:] = [F(v) for v in values]
    return out


def test_solve_lp_statuses_and_bounds():
    r = lp.solve_lp([1.0, 1.0], [[-1.0, 0.0], [0.0, -1.0]], [-2.0, -3.0])
    assert r.status is lp.LPStatus.OPTIMAL and r.x.tolist() == pytest.approx([2.0, 3.0])
    assert r.objective == pytest.approx(5.0)
    # free variables by default (scipy's linprog would clip at 0)
    r = lp.solve_lp([1.0], [[-1.0]], [5.0])
    assert r.x.tolist() == pytest.approx([-5.0])
    r = lp.solve_lp([1.0], [[-1.0]], [5.0], bounds=(0, None))
    assert r.x.tolist() == pytest.approx([0.0])
    assert lp.solve_lp([-1.0], [[-1.0]], [0.0]).status is lp.LPStatus.UNBOUNDED
    r = lp.solve_lp([0.0], [[1.0], [-1.0]], [0.0, -1.0])
    assert r.status is lp.LPStatus.INFEASIBLE and r.dual_ray is not None and np.all(r.dual_ray >= -1e-12)


def test_one_solver_is_reused():
    s = lp.LPSolver()
    for k in range(5):
        r = lp.solve_lp([1.0], [[-1.0]], [-float(k)], solver=s)
        assert r.x[0] == pytest.approx(k)
    assert s._highs is s._get()


def test_chebyshev_center():
    x, r = lp.chebyshev_center(SQUARE_A, [1, 0, 1, 0])
    assert x.tolist() == pytest.approx([0.5, 0.5]) and r == pytest.approx(0.5)
    assert lp.chebyshev_center(SQUARE_A, [1, -2, 1, 0]) is None  # empty
    x, r = lp.chebyshev_center([[1, 0], [0, 1]], [1, 1])
    assert r == math.inf
    # float input takes the float path and gives the same answer
    x2, r2 = lp.chebyshev_center(np.array(SQUARE_A, dtype=float), np.array([1.0, 0, 1, 0]))
    assert x2.tolist() == pytest.approx([0.5, 0.5]) and r2 == pytest.approx(0.5)


def test_interior_point_certificate():
    cert = lp.interior_point_certificate(SQUARE_A, [2, 0, 2, 0])
    cert.verify()
    assert cert.x.tolist() == [1, 1]
    assert lp.interior_point_certificate(SQUARE_A, [1, 0, 0, 0]) is None  # flat: undecided
    bad = lp.InteriorPointCertificate(obj([1]).reshape(1, 1), obj([1]), obj([1]))
    with pytest.raises(CertificateError, match="row 0"):
        bad.verify()


def test_farkas_exact_and_scaled_rows():
    cert = lp.farkas(SQUARE_A, [1, -2, 1, 1])
    cert.verify()
    assert cert.y[2] == cert.y[3] == 0 and cert.y[0] > 0 and cert.y[1] > 0
    # rows with entries below HiGHS's 1e-9 drop threshold: x <= -1 and -x <= 0, scaled by 1e-12
    tiny = F(1, 10**12)
    cert = lp.farkas([[tiny, 0], [-tiny, 0], [0, 1], [0, -1]], [-tiny, 0, 1, 1])
    assert cert is not None
    cert.verify()
    # huge right-hand sides (HiGHS treats >= 1e20 as infinite) and huge coefficients
    big = F(10**30)
    cert = lp.farkas([[big, 0], [-1, 0], [0, 1], [0, -1]], [big, -2, big, big])
    assert cert is not None
    cert.verify()
    # a zero row with a negative right-hand side certifies itself
    cert = lp.farkas([[0, 0], [1, 0]], [-1, 5])
    cert.verify()
    assert cert.y.tolist() == [1, 0]
    # feasible systems never get a certificate
    assert lp.farkas(SQUARE_A, [1, 0, 1, 0]) is None
    # a feasible but flat system is not "empty"
    assert lp.farkas(SQUARE_A, [1, -1, 1, 0]) is None


def test_certificates_reject_tampering():
    cert = lp.farkas(SQUARE_A, [1, -2, 1, 1])
    y = cert.y.copy()
    y[0] += F(1, 10**9)
    with pytest.raises(CertificateError):
        lp.InfeasibilityCertificate(cert.A, cert.b, y).verify()
    with pytest.raises(CertificateError, match="negative"):
        lp.InfeasibilityCertificate(cert.A, cert.b, -cert.y).verify()
    b = cert.b.copy()
    b[0], b[1] = F(1), F(-1)  # x <= 1 and x >= 1: feasible, and y^T b = 0
    with pytest.raises(CertificateError, match="y\\^T b"):
        lp.InfeasibilityCertificate(cert.A, b, cert.y).verify()


def test_boundedness_and_unboundedness_certificates():
    cert = lp.boundedness_certificate(SQUARE_A)
    cert.verify()
    assert all(v > 0 for v in cert.y)
    assert lp.boundedness_certificate([[1, 0], [0, 1]]) is None
    assert lp.boundedness_certificate([[1, 1], [-1, -1]]) is None  # rank 1
    tri = lp.boundedness_certificate([[1, 0], [0, 1], [-1, -1], [F(1, 3), F(1, 7)]])
    tri.verify()
    u = lp.UnboundednessCertificate(obj([1, 0]).reshape(1, 2), obj([1]), obj([0, 0]), obj([-1, 5]))
    u.verify()
    with pytest.raises(CertificateError, match="direction"):
        lp.UnboundednessCertificate(u.A, u.b, u.x0, obj([1, 0])).verify()
    with pytest.raises(CertificateError, match="rank"):
        lp.BoundednessCertificate(np.array([[F(1), F(1)], [F(-1), F(-1)]], dtype=object), obj([1, 1])).verify()


def test_flatness_certificate():
    A = [[1, 1, 0], [-1, -1, 0], [1, 0, 0], [-1, 0, 0], [0, 0, 1], [0, 0, -1]]
    b = [1, -1, 1, 1, 1, 1]
    cert = lp.flatness_certificate(A, b, 0)
    cert.verify()
    assert cert.rows == (0, 1)
    assert lp.flatness_certificate(SQUARE_A, [1, 0, 1, 0], 0) is None  # not flat


def test_float_rows_scaling():
    Af, bf = lp.float_system([[F(1, 10**12), F(-3, 10**12)], [0, 0], [10**30, 1]], [F(1, 10**12), 0, 10**50])
    assert Af[0].tolist() == pytest.approx([1 / 3, -1.0]) and bf[0] == pytest.approx(1 / 3)
    assert Af[1].tolist() == [0.0, 0.0]
    assert Af[2, 0] == 1.0 and bf[2] == lp.FLOAT_BOUND_CAP  # 1e20 would mean "infinite"
    assert np.abs(Af).max() <= 1.0


rationals = st.fractions(min_value=-5, max_value=5, max_denominator=30)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4).flatmap(lambda d: st.tuples(
    st.lists(st.lists(rationals, min_size=d, max_size=d), min_size=1, max_size=8),
    st.lists(rationals, min_size=8, max_size=8),
    st.lists(rationals, min_size=d, max_size=d),
    st.fractions(min_value=F(1, 10**6), max_value=3))))
def test_hypothesis_farkas_never_wrong(args):
    rows, rhs, a, gap = args
    d = len(a)
    b = rhs[: len(rows)]
    cert = lp.farkas(rows, b)
    if cert is not None:  # a returned certificate is exact: the origin cannot be feasible
        cert.verify()
        assert not all(v >= 0 for v in b)
    if not any(a):
        return
    # add a . x <= 0 and a . x >= gap: empty; when a certificate comes back it verifies
    A2 = rows + [a, [-v for v in a]]
    b2 = b + [F(0), -gap]
    cert = lp.farkas(A2, b2)
    if cert is not None:
        cert.verify()
    ip = lp.interior_point_certificate(A2, b2)
    assert ip is None
