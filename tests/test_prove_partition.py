"""em.prove.lipschitz, min_adversarial, is_convex and is_monotone against mathematics and a
brute-force oracle.

Expected values come from closed forms (|x|, the sawtooth, an affine map whose induced norms
are read off its matrix, nets whose decision boundary is a line) or from tests/prove_oracle.py,
which imports nothing from exactmaso and enumerates activation patterns and polytope vertices
in Fractions.  Witnesses are re-checked with the test's own exact forward pass.
"""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
import sympy

import exactmaso as em

try:
    from conftest import make_sawtooth
    from prove_oracle import distance, forward, nearest_adversarial, not_strictly_on_top, pattern_sets
except ImportError:  # pragma: no cover - run from the repository root as a package
    from tests.conftest import make_sawtooth  # type: ignore[no-redef]
    from tests.prove_oracle import distance, forward, nearest_adversarial, not_strictly_on_top, pattern_sets  # type: ignore[no-redef]

F = Fraction
NORMS = ["inf", 1, 2]

ABS_WS, ABS_BS = [[[1], [-1]], [[1, 1]]], [[0, 0], [0]]          # |x| = relu(x) + relu(-x)
RELU_WS, RELU_BS = [[[1]], [[1]]], [[0], [0]]                    # relu(x)


def random_weights(widths: list[int], seed: int) -> tuple[list, list]:
    """Dyadic weights ``k / 4`` with ``|k| <= 8`` and offsets ``k / 8`` with ``|k| <= 4``."""
    rng = random.Random(seed)
    Ws, bs = [], []
    for n_in, n_out in zip(widths[:-1], widths[1:]):
        Ws.append([[F(rng.randint(-8, 8), 4) for _ in range(n_in)] for _ in range(n_out)])
        bs.append([F(rng.randint(-4, 4), 8) for _ in range(n_out)])
    return Ws, bs


def tent(x: Fraction) -> Fraction:
    return 2 * max(x, F(0)) - 4 * max(x - F(1, 2), F(0))


def sawtooth(L: int, x: Fraction) -> Fraction:
    """Telgarsky's sawtooth t^L, computed directly."""
    for _ in range(L):
        x = tent(x)
    return x


def verified(r):
    """The result, after its certificate has been re-checked."""
    r.verify()
    return r


def in_box(x, lo, hi) -> bool:
    return len(x) == len(lo) and all(F(l) <= v <= F(h) for v, l, h in zip(x, lo, hi))


def to_sympy(q) -> sympy.Expr:
    q = F(q)
    return sympy.Rational(q.numerator, q.denominator)


def assert_algebraic_equal(value, expected) -> None:
    """``value`` (exactmaso's sympy number) is exactly ``expected`` (the test's own)."""
    assert sympy.simplify(sympy.sympify(value) - expected) == 0
    assert float(value) == pytest.approx(float(expected), abs=1e-12)


def induced_norm(M, norm):
    """The operator norm of the matrix ``M`` (a list of rows) for one norm on both sides:
    inf -> max row abs sum, 1 -> max column abs sum, 2 -> the largest singular value (sympy)."""
    if norm == "inf":
        return max(sum(abs(v) for v in row) for row in M)
    if norm == 1:
        return max(sum(abs(row[j]) for row in M) for j in range(len(M[0])))
    S = sympy.Matrix([[to_sympy(v) for v in row] for row in M])
    eig = [e for e in (S * S.T).eigenvals()]
    return sympy.sqrt(max(eig, key=lambda e: sympy.N(e, 50)))


def exact_gradient(f, p, h=F(1, 2**64)) -> list[Fraction]:
    """The gradient of the scalar ``f`` at a point ``p`` where ``f`` is affine on a
    neighbourhood wider than ``h``: forward differences are then exact."""
    fp = f(p)
    return [(f([v + h * (i == j) for i, v in enumerate(p)]) - fp) / h for j in range(len(p))]


# -- Lipschitz: closed forms --------------------------------------------------------------
@pytest.mark.parametrize("norm", NORMS)
def test_lipschitz_of_abs_is_one(norm):
    r = em.prove.lipschitz(em.mlp(ABS_WS, ABS_BS), em.Box([-1], [1]), norm=norm)
    if norm == 2:
        assert_algebraic_equal(r.value, sympy.Integer(1))
    else:
        assert r.value == 1 and isinstance(r.value, Fraction)
    assert r.value_float == 1.0
    assert -1 <= r.point[0] <= 1 and r.point[0] != 0
    r.verify()


@pytest.mark.parametrize("L", [1, 2, 3, 4])
@pytest.mark.parametrize("norm", NORMS)
def test_lipschitz_of_the_sawtooth_is_two_to_the_depth(L, norm):
    # t^L has slopes +-2^L on each of its 2^L pieces of [0, 1]
    r = em.prove.lipschitz(make_sawtooth(L), em.Box([0], [1]), norm=norm)
    if norm == 2:
        assert_algebraic_equal(r.value, sympy.Integer(2**L))
    else:
        assert r.value == 2**L
    (p,) = r.point
    assert 0 < p < 1
    assert abs(exact_gradient(lambda x: sawtooth(L, x[0]), [p])[0]) == 2**L
    r.verify()


AFFINE_W = [[1, 2, -1], [3, 0, 1]]


@pytest.mark.parametrize("norm", NORMS)
def test_lipschitz_of_an_affine_map_is_its_induced_norm(norm):
    net = em.mlp([AFFINE_W], [[F(1, 3), -2]])  # no hidden layer: one region
    r = em.prove.lipschitz(net, em.Box([-1, 0, -2], [1, 1, 3]), norm=norm)
    if norm == 1:
        want = max(sum(abs(row[j]) for row in AFFINE_W) for j in range(3))   # column sums 4, 2, 2
        assert want == 4 and r.value == want
    elif norm == "inf":
        want = max(sum(abs(v) for v in row) for row in AFFINE_W)             # row sums 4, 4
        assert want == 4 and r.value == want
    else:
        W = sympy.Matrix(AFFINE_W)
        want = sympy.sqrt(max((W * W.T).eigenvals(), key=lambda e: float(e)))  # sqrt(8 + 2 sqrt 2)
        assert_algebraic_equal(want, sympy.sqrt(8 + 2 * sympy.sqrt(2)))
        assert_algebraic_equal(r.value, want)
    r.verify()


def test_lipschitz_value_float_for_norm_2_is_the_float_of_an_irrational_value():
    # the exact value is sqrt(8 + 2 sqrt 2) = 3.29065...; value_float comes out as sqrt(10.5) = 3.24037...
    net = em.mlp([AFFINE_W], [[0, 0]])
    r = em.prove.lipschitz(net, em.Box([-1, -1, -1], [1, 1, 1]), norm=2)
    assert_algebraic_equal(r.value, sympy.sqrt(8 + 2 * sympy.sqrt(2)))  # the exact value is right
    assert r.value_float == pytest.approx(float(sympy.sqrt(8 + 2 * sympy.sqrt(2))), abs=1e-12)


def test_lipschitz_of_one_output_of_an_affine_map_is_the_dual_norm_of_its_row():
    net = em.mlp([AFFINE_W], [[0, 0]])
    box = em.Box([-1, -1, -1], [1, 1, 1])
    row = AFFINE_W[0]  # (1, 2, -1)
    assert verified(em.prove.lipschitz(net, box, norm="inf", output=0)).value == sum(abs(v) for v in row)
    assert verified(em.prove.lipschitz(net, box, norm=1, output=0)).value == max(abs(v) for v in row)
    r = em.prove.lipschitz(net, box, norm=2, output=0)
    assert_algebraic_equal(r.value, sympy.sqrt(sum(v * v for v in row)))  # sqrt 6
    r.verify()


# -- Lipschitz: the pattern oracle --------------------------------------------------------
LIP_CASES = [([2, 5, 1], 21, ([-1, -1], [1, 1])), ([2, 3, 3, 1], 22, ([-1, 0], [1, 2])),
             ([3, 4, 1], 23, ([-1, -1, -1], [1, 1, 1])), ([2, 4, 2], 24, ([-1, -1], [1, 1]))]


@pytest.fixture(scope="module", params=LIP_CASES, ids=lambda c: f"{'x'.join(map(str, c[0]))}-seed{c[1]}")
def lip_case(request):
    widths, seed, (lo, hi) = request.param
    Ws, bs = random_weights(widths, seed)
    full = [s for s in pattern_sets(Ws, bs, lo, hi) if s.is_full(len(lo))]
    return em.mlp(Ws, bs), Ws, bs, lo, hi, full


def oracle_lipschitz(full, norm, output=None):
    """max over the full-dimensional pattern sets of the induced norm of their matrix (of one
    row: the dual norm of the gradient).  Sets with no interior are left out: there the
    pattern's slope need not be a slope of the network."""
    mats = [s.A if output is None else [s.A[output]] for s in full]
    vals = [induced_norm(M, norm) for M in mats]
    if norm == 2:
        return max(vals, key=lambda v: sympy.N(v, 50))
    return max(vals)


@pytest.mark.parametrize("norm", NORMS)
def test_lipschitz_matches_the_pattern_oracle(lip_case, norm):
    net, Ws, bs, lo, hi, full = lip_case
    O = len(bs[-1])
    for output in ([None] if O == 1 else [None, 0, O - 1]):
        want = oracle_lipschitz(full, norm, output)
        r = em.prove.lipschitz(net, em.Box(lo, hi), norm=norm, output=output)
        if norm == 2:
            assert_algebraic_equal(r.value, want)
        else:
            assert r.value == want
        assert in_box(r.point, lo, hi)
        if output is not None or O == 1:
            # the named region's point: the network's own slope there attains the value
            j = output or 0
            g = exact_gradient(lambda x: forward(Ws, bs, x)[j], list(r.point))
            got = induced_norm([g], norm)
            if norm == 2:
                assert_algebraic_equal(got, want)
            else:
                assert got == want
        r.verify()


def test_lipschitz_of_one_output_is_the_dual_norm_of_its_gradient(lip_case):
    # for one output the induced norms are the dual norms of the gradient g:
    # inf on the inputs -> |g|_1, 1 -> |g|_inf, 2 -> |g|_2
    net, Ws, bs, lo, hi, full = lip_case
    box = em.Box(lo, hi)
    for j in range(len(bs[-1])):
        grads = [s.A[j] for s in full]
        one, inf = (max(sum(abs(v) for v in g) for g in grads), max(max(abs(v) for v in g) for g in grads))
        two = sympy.sqrt(to_sympy(max(sum(v * v for v in g) for g in grads)))
        assert verified(em.prove.lipschitz(net, box, norm="inf", output=j)).value == one
        assert verified(em.prove.lipschitz(net, box, norm=1, output=j)).value == inf
        assert_algebraic_equal(verified(em.prove.lipschitz(net, box, norm=2, output=j)).value, two)


@pytest.mark.parametrize("norm", NORMS)
def test_lipschitz_on_a_polytope_matches_the_pattern_oracle(norm):
    # the box [-1, 1]^2 cut by x1 + x2 <= 1/2 and x1 - 2 x2 <= 1
    Ws, bs = random_weights([2, 5, 2], 81)
    rows = [([1, 1], F(1, 2)), ([1, -2], 1)]
    dom = em.Polytope([[1, 0], [-1, 0], [0, 1], [0, -1]] + [a for a, _ in rows], [1, 1, 1, 1] + [c for _, c in rows])
    full = [s for s in pattern_sets(Ws, bs, [-1, -1], [1, 1], rows) if s.is_full(2)]
    r = em.prove.lipschitz(em.mlp(Ws, bs), dom, norm=norm)
    want = oracle_lipschitz(full, norm)
    if norm == 2:
        assert_algebraic_equal(r.value, want)
    else:
        assert r.value == want
    r.verify()


# -- the nearest adversarial point: closed forms -------------------------------------------
def assert_nearest(r, Ws, bs, x0, label, norm, want):
    """value == want exactly (a sympy number for norm 2), and the point is adversarial at
    exactly that distance."""
    if norm == 2:
        assert_algebraic_equal(r.value, want)
        assert distance(r.point, x0, 2) == F(str(sympy.Rational(want**2)))
    else:
        assert r.value == want and isinstance(r.value, Fraction)
        assert distance(r.point, x0, norm) == want
    assert all(isinstance(v, Fraction) for v in r.point)
    assert r.label == label
    assert not_strictly_on_top(forward(Ws, bs, r.point), label)
    r.verify()


# y0 = x1, y1 = x2 at x0 = (1, 0): class 0 leads by 1; the nearest point with x2 >= x1 is
# (1/2, 1/2) at inf-distance 1/2 and 2-distance sqrt(2)/2, or at 1-distance 1.
SWAP_WS, SWAP_BS = [[[1, 0], [0, 1]]], [[0, 0]]
SWAP_WANT = {"inf": F(1, 2), 1: F(1), 2: sympy.sqrt(2) / 2}


@pytest.mark.parametrize("norm", NORMS)
def test_min_adversarial_for_two_coordinates(norm):
    r = em.prove.min_adversarial(em.mlp(SWAP_WS, SWAP_BS), [1, 0], norm=norm)
    assert_nearest(r, SWAP_WS, SWAP_BS, [1, 0], 0, norm, SWAP_WANT[norm])
    if norm != 1:
        assert r.point == (F(1, 2), F(1, 2))  # unique for norms inf and 2


# s = 3 x1 + 4 x2; y0 = relu(s), y1 = relu(-s) + 5/2.  At x0 with s(x0) = s0 > 5/2, the class
# changes where s = 5/2: a drop of s0 - 5/2, at inf-distance (s0 - 5/2) / 7, 1-distance
# (s0 - 5/2) / 4 and 2-distance (s0 - 5/2) / 5.
LINE_WS, LINE_BS = [[[3, 4], [-3, -4]], [[1, 0], [0, 1]]], [[0, 0], [0, F(5, 2)]]


def line_want(x0, norm):
    drop = 3 * F(x0[0]) + 4 * F(x0[1]) - F(5, 2)
    return {"inf": drop / 7, 1: drop / 4, 2: to_sympy(drop / 5)}[norm]


@pytest.mark.parametrize("x0", [[1, 1], [10, 10]], ids=["near", "far"])
@pytest.mark.parametrize("norm", NORMS)
def test_min_adversarial_to_a_line(x0, norm):
    # "far": the distance (about 9.6 to 17) is beyond the first boxes, which must grow
    r = em.prove.min_adversarial(em.mlp(LINE_WS, LINE_BS), x0, norm=norm)
    assert_nearest(r, LINE_WS, LINE_BS, x0, 0, norm, line_want(x0, norm))


ABS2_WS, ABS2_BS = [[[1], [-1]], [[1, 1], [0, 0]]], [[0, 0], [0, F(1, 2)]]  # (|x|, 1/2)


@pytest.mark.parametrize("norm", NORMS)
def test_min_adversarial_within_a_domain(norm):
    net = em.mlp(ABS2_WS, ABS2_BS)
    # on [3/4, 2] class 0 (|x| > 1/2) never loses: no adversarial point
    r = em.prove.min_adversarial(net, [1], norm=norm, dom=em.Box([F(3, 4)], [2]))
    assert r.value is None and r.point is None
    r.verify()
    # on [-2, 2] the nearest tie to x0 = 1 is x = 1/2; to x0 = 1/8 (class 1 on top) it is 1/2 too
    r = em.prove.min_adversarial(net, [1], norm=norm, dom=em.Box([-2], [2]))
    assert_nearest(r, ABS2_WS, ABS2_BS, [1], 0, norm, F(1, 2) if norm != 2 else sympy.Rational(1, 2))
    r = em.prove.min_adversarial(net, [F(1, 8)], norm=norm, dom=em.Box([-2], [2]))
    assert r.point == (F(1, 2),)
    assert_nearest(r, ABS2_WS, ABS2_BS, [F(1, 8)], 1, norm, F(3, 8) if norm != 2 else sympy.Rational(3, 8))


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("radius", [1, 3])
def test_min_adversarial_within_a_radius_that_holds_the_nearest_point(norm, radius):
    # the nearest point lies within the fixed box of radius 1 or 3 around (1, 0): same answer
    r = em.prove.min_adversarial(em.mlp(SWAP_WS, SWAP_BS), [1, 0], norm=norm, radius=radius)
    assert_nearest(r, SWAP_WS, SWAP_BS, [1, 0], 0, norm, SWAP_WANT[norm])


@pytest.mark.parametrize("norm, radius", [("inf", F(1, 4)), (1, F(1, 4)), (2, F(1, 4)), (1, F(1, 2)), (2, F(1, 2))])
def test_min_adversarial_with_a_radius_below_the_distance_verifies(norm, radius):
    # the nearest point of y0 = x1, y1 = x2 to (1, 0) is at distance 1/2, 1, sqrt(2)/2 (inf, 1, 2).
    # With the box fixed to a smaller radius the documented answer is the nearest point within
    # the box, or None; either way the result must carry a certificate that verifies.
    r = em.prove.min_adversarial(em.mlp(SWAP_WS, SWAP_BS), [1, 0], norm=norm, radius=radius)
    if radius == F(1, 4):
        assert r.value is None and r.point is None  # nothing adversarial in [3/4, 5/4] x [-1/4, 1/4]
    else:  # (1/2, 1/2) lies in the box of radius 1/2, at distance 1 (norm 1), sqrt(2)/2 (norm 2)
        assert r.point == (F(1, 2), F(1, 2))
    r.verify()


def test_min_adversarial_at_a_tie_is_zero():
    r = em.prove.min_adversarial(em.mlp(ABS2_WS, ABS2_BS), [F(-1, 2)])
    assert r.value == 0 and r.point == (F(-1, 2),)
    r.verify()


# -- the nearest adversarial point: the pattern oracle ----------------------------------------
@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("seed", [31, 32])
def test_min_adversarial_matches_the_pattern_oracle(seed, norm):
    Ws, bs = random_weights([2, 4, 3], seed)
    x0, R = [F(1, 4), F(-1, 8)], F(2)
    label, want = nearest_adversarial(Ws, bs, x0, norm, R)
    assert want is not None and want < (R * R if norm == 2 else R)  # nothing outside the box is nearer
    r = em.prove.min_adversarial(em.mlp(Ws, bs), x0, norm=norm)
    assert_nearest(r, Ws, bs, x0, label, norm, sympy.sqrt(to_sympy(want)) if norm == 2 else want)


# -- convexity ----------------------------------------------------------------------------
def assert_chord_below(f, witness, lo, hi):
    """The witness of non-convexity: x, y in the domain with f((x + y) / 2) > (f(x) + f(y)) / 2."""
    x, y = witness
    assert in_box(x, lo, hi) and in_box(y, lo, hi)
    m = [(a + b) / 2 for a, b in zip(x, y)]
    assert 2 * f(m) > f(x) + f(y)


@pytest.mark.parametrize("ws, bs, lo, hi", [(RELU_WS, RELU_BS, [-1], [1]), (ABS_WS, ABS_BS, [-1], [2]),
                                            (RELU_WS, RELU_BS, [1], [2])], ids=["relu", "abs", "relu-linear-part"])
def test_convex_functions_are_convex(ws, bs, lo, hi):
    r = em.prove.is_convex(em.mlp(ws, bs), em.Box(lo, hi))
    assert r.holds and r.witness is None
    r.verify()


@pytest.mark.parametrize("L", [1, 2, 3])
def test_the_sawtooth_is_not_convex(L):
    r = em.prove.is_convex(make_sawtooth(L), em.Box([0], [1]))
    assert not r.holds
    assert_chord_below(lambda x: sawtooth(L, x[0]), r.witness, [0], [1])
    r.verify()


def test_minus_abs_is_not_convex():
    ws, bs = [[[1], [-1]], [[-1, -1]]], [[0, 0], [0]]
    r = em.prove.is_convex(em.mlp(ws, bs), em.Box([-1], [1]))
    assert not r.holds
    assert_chord_below(lambda x: -abs(x[0]), r.witness, [-1], [1])
    r.verify()


def oracle_is_convex(sets, j, D) -> bool:
    """A continuous piecewise-affine function on a convex set is convex exactly when it is the
    max of its pieces: f(v) >= every full-dimensional piece at every vertex of every set."""
    pieces = [(s.A[j], s.c[j]) for s in sets if s.is_full(D)]
    for s in sets:
        for v in s.vertices:
            fv = s.value(v)[j]
            if any(sum((a * b for a, b in zip(g, v)), g0) > fv for g, g0 in pieces):
                return False
    return True


@pytest.mark.parametrize("seed, positive", [(41, True), (42, False), (43, False), (44, True)])
def test_is_convex_matches_the_pattern_oracle(seed, positive):
    Ws, bs = random_weights([2, 4, 2], seed)
    if positive:  # non-negative read-out weights: a sum of convex functions, convex
        Ws[1] = [[abs(w) for w in row] for row in Ws[1]]
    lo, hi = [-1, -1], [1, 1]
    sets = list(pattern_sets(Ws, bs, lo, hi))
    net = em.mlp(Ws, bs)
    for j in (0, 1):
        want = oracle_is_convex(sets, j, 2)
        if positive:
            assert want
        r = em.prove.is_convex(net, em.Box(lo, hi), output=j)
        assert r.holds is want
        if not want:
            assert_chord_below(lambda x: forward(Ws, bs, x)[j], r.witness, lo, hi)
        r.verify()


# -- monotonicity -------------------------------------------------------------------------
def assert_monotone_witness(f, witness, i, increasing, lo, hi):
    """x, y = x + t e_i (t > 0) in the domain with f(y) < f(x) (> for non-increasing)."""
    x, y = witness
    assert in_box(x, lo, hi) and in_box(y, lo, hi)
    d = [b - a for a, b in zip(x, y)]
    assert d[i] > 0 and all(v == 0 for k, v in enumerate(d) if k != i)
    assert (f(y) < f(x)) if increasing else (f(y) > f(x))


def test_relu_is_non_decreasing_and_not_non_increasing():
    net = em.mlp(RELU_WS, RELU_BS)
    r = em.prove.is_monotone(net, em.Box([-1], [1]))
    assert r.holds and r.witness is None
    r.verify()
    r = em.prove.is_monotone(net, em.Box([-1], [1]), increasing=False)
    assert not r.holds
    assert_monotone_witness(lambda x: max(x[0], F(0)), r.witness, 0, False, [-1], [1])
    r.verify()
    # on [-1, 0] relu is constant: both
    assert verified(em.prove.is_monotone(net, em.Box([-1], [0]), increasing=False)).holds


@pytest.mark.parametrize("L", [1, 2, 3])
@pytest.mark.parametrize("increasing", [True, False])
def test_the_sawtooth_is_not_monotone(L, increasing):
    r = em.prove.is_monotone(make_sawtooth(L), em.Box([0], [1]), increasing=increasing)
    assert not r.holds
    assert_monotone_witness(lambda x: sawtooth(L, x[0]), r.witness, 0, increasing, [0], [1])
    r.verify()
    # on its first piece [0, 2^-L] it rises
    r = em.prove.is_monotone(make_sawtooth(L), em.Box([0], [F(1, 2**L)]), increasing=increasing)
    assert r.holds is increasing
    if not increasing:
        assert_monotone_witness(lambda x: sawtooth(L, x[0]), r.witness, 0, False, [0], [F(1, 2**L)])
    r.verify()


def test_monotone_in_one_input_and_not_the_other():
    # relu(x1) - x2: non-decreasing in x1, non-increasing (not non-decreasing) in x2
    ws, bs = [[[1, 0], [0, 1], [0, -1]], [[1, -1, 1]]], [[0, 0, 0], [0]]   # x2 = relu(x2) - relu(-x2)
    net, lo, hi = em.mlp(ws, bs), [-1, -1], [1, 1]
    assert forward(ws, bs, [F(1, 3), F(-1, 2)]) == [F(1, 3) + F(1, 2)]
    assert verified(em.prove.is_monotone(net, em.Box(lo, hi), input=0)).holds
    assert verified(em.prove.is_monotone(net, em.Box(lo, hi), input=1, increasing=False)).holds
    r = em.prove.is_monotone(net, em.Box(lo, hi), input=1)
    assert not r.holds
    assert_monotone_witness(lambda x: forward(ws, bs, x)[0], r.witness, 1, True, lo, hi)
    r.verify()


@pytest.mark.parametrize("seed", [51, 52, 53])
def test_is_monotone_matches_the_pattern_oracle(seed):
    # non-decreasing in x_i exactly when every full-dimensional piece has slope >= 0 in x_i
    Ws, bs = random_weights([2, 4, 1], seed)
    lo, hi = [-1, -1], [1, 1]
    full = [s for s in pattern_sets(Ws, bs, lo, hi) if s.is_full(2)]
    net = em.mlp(Ws, bs)
    for i in (0, 1):
        for increasing in (True, False):
            sign = 1 if increasing else -1
            want = all(sign * s.A[0][i] >= 0 for s in full)
            r = em.prove.is_monotone(net, em.Box(lo, hi), input=i, increasing=increasing)
            assert r.holds is want
            if not want:
                assert_monotone_witness(lambda x: forward(Ws, bs, x)[0], r.witness, i, increasing, lo, hi)
            r.verify()
