"""VNN-LIB properties (exactmaso.prove.vnnlib) read into exact specs (exactmaso.prove.spec)."""

from __future__ import annotations

import dataclasses
import gzip
import re
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import exactmaso as em
from exactmaso.errors import DomainError, ExactMasoError, ShapeError, SpecError
from exactmaso.prove import vnnlib
from exactmaso.prove.spec import Case, InputSet, Linear, Spec
from exactmaso.prove.vnnlib import load_vnnlib, parse_vnnlib

DATA = Path(__file__).resolve().parent / "data"
SHARED = Path(__file__).resolve().parents[2] / "shared"  # ../shared beside the repository


def acasxu(number: int) -> Path:
    """ACAS Xu property ``number``: the copy in tests/data, else ../shared, else skip."""
    local = DATA / f"acasxu_prop_{number}.vnnlib"
    if local.exists():
        return local
    shared = SHARED / "acasxu" / f"prop_{number}.vnnlib"
    if not shared.exists():
        pytest.skip(f"{shared} is not present")
    return shared


def mnist_files() -> list[Path]:
    files = sorted((SHARED / "mnistfc").glob("prop_*.vnnlib"))
    if not files:
        pytest.skip(f"no MNIST properties in {SHARED / 'mnistfc'}")
    return files


def zeros_net(num_inputs: int, num_outputs: int) -> em.Network:
    return em.mlp([np.zeros((2, num_inputs)), np.zeros((num_outputs, 2))])


def y_linear(coeffs: dict[int, int], rhs, n: int = 5, strict: bool = False) -> Linear:
    return Linear(tuple(Fraction(coeffs.get(j, 0)) for j in range(n)), Fraction(rhs), strict)


HEADER = "(declare-const X_0 Real)\n(declare-const X_1 Real)\n(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n"
BOX = "(assert (<= -1 X_0 1))\n(assert (<= -1 X_1 1))\n"


def small(body: str) -> Spec:
    """Two inputs in [-1, 1]^2, two outputs, and ``body``."""
    return parse_vnnlib(HEADER + BOX + body, source="small.vnnlib")


# ---------------------------------------------------------------------------------------
# ACAS Xu: all ten properties, counted by eye from the files
# ---------------------------------------------------------------------------------------

# property -> (number of cases, number of distinct input sets, unsafe constraints per case)
ACASXU = {
    1: (1, 1, [1]),  # Y_0 >= 3.991125645861615
    2: (1, 1, [4]),  # Y_0 is maximal: four (<= Y_j Y_0)
    3: (1, 1, [4]),  # Y_0 is minimal
    4: (1, 1, [4]),  # Y_0 is minimal; X_2 fixed at 0
    5: (4, 1, [1] * 4),  # 4-way or: Y_4 not minimal
    6: (8, 2, [1] * 8),  # two input boxes (or) times a 4-way output or
    7: (2, 1, [3, 3]),  # Y_3 minimal among Y_0..Y_3, or Y_4 minimal among Y_0, Y_1, Y_2, Y_4
    8: (3, 1, [2, 2, 2]),
    9: (4, 1, [1] * 4),
    10: (4, 1, [1] * 4),
}


@pytest.mark.parametrize("number", sorted(ACASXU))
def test_acasxu_properties_parse_to_the_cases_in_the_file(number):
    path = acasxu(number)
    spec = load_vnnlib(path)
    num_cases, num_sets, unsafe_sizes = ACASXU[number]
    assert (spec.num_inputs, spec.num_outputs) == (5, 5)
    assert spec.num_cases == num_cases
    assert len(spec.input_sets()) == num_sets
    assert len({id(c.inputs) for c in spec.cases}) == num_sets  # equal sets are one object
    assert [len(c.unsafe) for c in spec.cases] == unsafe_sizes
    for s in spec.input_sets():
        assert s.is_box and all(a <= b for a, b in zip(s.lo, s.hi))
    assert spec.source == str(path)
    assert repr(spec).startswith(f"Spec(cases={num_cases}, input_sets={num_sets}, num_inputs=5, num_outputs=5")


def test_acasxu_property_1_is_exact():
    spec = load_vnnlib(acasxu(1))
    (case,) = spec.cases
    threshold = Fraction("3.991125645861615")
    assert threshold == Fraction(3991125645861615, 10**15) == Fraction(798225129172323, 200000000000000)
    assert case.unsafe == (y_linear({0: -1}, -threshold),)  # -Y_0 <= -t, that is Y_0 >= t
    assert case.inputs.lo == (Fraction(3, 5), Fraction(-1, 2), Fraction(-1, 2), Fraction(9, 20), Fraction(-1, 2))
    assert case.inputs.hi == (Fraction(679857769, 10**9), Fraction(1, 2), Fraction(1, 2), Fraction(1, 2), Fraction(-9, 20))
    assert case.inputs.lo[0] == Fraction(3, 5)  # "0.6" is three fifths, not the float 0.6
    x = case.inputs.lo
    assert spec.is_unsafe(x, [threshold, 0, 0, 0, 0])
    assert not spec.is_unsafe(x, [threshold - Fraction(1, 10**30), 0, 0, 0, 0])
    assert not spec.is_unsafe([Fraction(3, 5) - Fraction(1, 10**30), *x[1:]], [10, 0, 0, 0, 0])  # x outside


def test_acasxu_property_4_fixes_one_coordinate():
    """Property 4 says '(<= X_2 0.0)' and '(>= X_2 0.0)': the intruder heading is fixed at 0."""
    (s,) = load_vnnlib(acasxu(4)).input_sets()
    fixed = [i for i in range(5) if s.lo[i] == s.hi[i]]
    assert fixed == [2] and s.lo[2] == 0
    assert s.contains([s.lo[0], 0, 0, s.hi[3], s.hi[4]])
    assert not s.contains([s.lo[0], 0, Fraction(1, 10**20), s.hi[3], s.hi[4]])


def test_acasxu_property_6_has_two_input_boxes_sharing_the_output_disjunction():
    spec = load_vnnlib(acasxu(6))
    first, second = spec.input_sets()
    assert first.lo[1] == Fraction("0.11140846") and first.hi[1] == Fraction("0.499999896")
    assert second.lo[1] == Fraction("-0.499999896") and second.hi[1] == Fraction("-0.11140846")
    assert first.lo[0::2] == second.lo[0::2] and first.hi[0::2] == second.hi[0::2]  # the rest is equal
    by_input = spec.unsafe_by_input()
    assert list(by_input) == [first, second]
    coc_not_minimal = tuple((y_linear({j: 1, 0: -1}, 0),) for j in (1, 2, 3, 4))  # Y_j <= Y_0
    assert by_input[first] == by_input[second] == coc_not_minimal
    assert [c.inputs for c in spec.cases] == [first] * 4 + [second] * 4


def test_acasxu_property_7_output_disjunction():
    spec = load_vnnlib(acasxu(7))
    left, right = spec.cases
    assert left.inputs is right.inputs
    assert left.unsafe == tuple(y_linear({3: 1, j: -1}, 0) for j in (0, 1, 2))
    assert right.unsafe == tuple(y_linear({4: 1, j: -1}, 0) for j in (0, 1, 2))


def _prop7_violated(y) -> bool:
    """Property 7's unsafe set written directly: strong left or strong right is minimal."""
    return any(all(y[k] <= y[j] for j in (0, 1, 2)) for k in (3, 4))


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_acasxu_property_7_is_unsafe_matches_the_formula(data):
    spec = load_vnnlib(acasxu(7))
    (s,) = spec.input_sets()
    x = [lo + (hi - lo) * data.draw(st.fractions(0, 1, max_denominator=50)) for lo, hi in zip(s.lo, s.hi)]
    y = data.draw(st.lists(st.integers(-3, 3), min_size=5, max_size=5))
    assert spec.is_unsafe(x, y) == _prop7_violated(y)
    assert not spec.is_unsafe([s.hi[0] + 1, *x[1:]], y)


def test_network_sizes_are_checked():
    path = acasxu(1)
    assert load_vnnlib(path, zeros_net(5, 5)).num_inputs == 5
    with pytest.raises(ShapeError, match=r"declares 5 inputs \(X_0 to X_4\); the network has input_dim = 4"):
        load_vnnlib(path, zeros_net(4, 5))
    with pytest.raises(ShapeError, match=r"declares 5 outputs \(Y_0 to Y_4\); the network has output_dim = 3"):
        load_vnnlib(path, zeros_net(5, 3))
    with pytest.raises(ShapeError, match="input_dim = 6"):
        parse_vnnlib(path.read_text(), net=zeros_net(6, 5))
    with pytest.raises(TypeError, match="Network"):
        load_vnnlib(path, net=[1, 2])


# ---------------------------------------------------------------------------------------
# MNIST: 784 inputs, a 9-way output disjunction, one shared box
# ---------------------------------------------------------------------------------------


def test_mnist_properties_share_one_box():
    for path in mnist_files()[::10]:  # three of the thirty files
        label = int(re.search(r"label: (\d+)", path.read_text()).group(1))
        eps = Fraction(path.stem.split("_")[-1])
        start = time.perf_counter()
        spec = load_vnnlib(path, zeros_net(784, 10))
        elapsed = time.perf_counter() - start
        assert elapsed < 1.0, f"{path.name} took {elapsed:.2f} s"
        assert (spec.num_inputs, spec.num_outputs, spec.num_cases) == (784, 10, 9)
        (box,) = spec.input_sets()
        assert all(c.inputs is box for c in spec.cases) and box.is_box
        # the files' bounds are float32 values written in decimal: widths are 2 eps up to rounding
        assert all(0 <= a <= b <= 1 and b - a <= 2 * eps + Fraction(1, 10**6) for a, b in zip(box.lo, box.hi))
        others = [j for j in range(10) if j != label]
        assert [c.unsafe for c in spec.cases] == [(y_linear({label: 1, j: -1}, 0, n=10),) for j in others]
        assert repr(spec) == f"Spec(cases=9, input_sets=1, num_inputs=784, num_outputs=10, source={str(path)!r})"


def test_a_large_box_with_an_output_disjunction_is_built_once():
    """The MNIST shape without ../shared: 784 bounds and a 9-way or give 9 cases, one InputSet."""
    n = 784
    lines = [f"(declare-const X_{i} Real)" for i in range(n)] + [f"(declare-const Y_{j} Real)" for j in range(10)]
    lines += [f"(assert (<= X_{i} 0.{i + 1:04d}))\n(assert (>= X_{i} 0.0))" for i in range(n)]
    lines.append("(assert (or " + " ".join(f"(and (>= Y_{j} Y_0))" for j in range(1, 10)) + "))")
    start = time.perf_counter()
    spec = parse_vnnlib("\n".join(lines))
    assert time.perf_counter() - start < 1.0
    assert spec.num_cases == 9 and len({id(c.inputs) for c in spec.cases}) == 1
    assert spec.cases[0].inputs.hi[:3] == (Fraction(1, 10000), Fraction(2, 10000), Fraction(3, 10000))
    assert repr(spec.cases[0].inputs) == "InputSet(dim=784, constraints=0)"


# ---------------------------------------------------------------------------------------
# numbers, terms, formulas
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "literal, value",
    [
        ("0.6", Fraction(3, 5)),
        ("-0.5", Fraction(-1, 2)),
        ("1e-3", Fraction(1, 1000)),
        ("2.5E+2", Fraction(250)),
        ("3.991125645861615", Fraction(3991125645861615, 10**15)),
        ("0.1", Fraction(1, 10)),
        ("7", Fraction(7)),
        ("-0", Fraction(0)),
        (".5", Fraction(1, 2)),
        ("+1.25", Fraction(5, 4)),
        ("1e-1000", Fraction(1, 10**1000)),
        ("(/ 1 3)", Fraction(1, 3)),
        ("(- 2)", Fraction(-2)),
    ],
)
def test_decimal_literals_are_exact(literal, value):
    (case,) = small(f"(assert (<= Y_0 {literal}))").cases
    assert case.unsafe == (Linear((1, 0), value),)
    assert type(case.unsafe[0].rhs) is Fraction


@settings(max_examples=100, deadline=None)
@given(st.integers(-(10**30), 10**30), st.integers(0, 40), st.integers(-40, 40))
def test_random_decimal_literals_are_exact(mantissa, decimals, exponent):
    digits = f"{abs(mantissa):0{decimals + 1}d}"
    text = ("-" if mantissa < 0 else "") + (f"{digits[:-decimals]}.{digits[-decimals:]}" if decimals else digits)
    text += f"e{exponent}"
    (case,) = small(f"(assert (>= Y_1 {text}))").cases
    assert case.unsafe[0].rhs == -Fraction(mantissa, 10**decimals) * Fraction(10) ** exponent


def test_terms():
    spec = small(
        "(assert (<= (* 2 X_0) 1))\n"  # X_0 <= 1/2: a bound
        "(assert (>= (- X_0 X_1) (/ -1 4)))\n"  # a constraint over two inputs
        "(assert (<= (+ Y_0 Y_0 (* 3 (- Y_1)) 1) (* 2 0.5 Y_1)))\n"  # 2 Y_0 - 4 Y_1 <= -1
        "(assert (<= (* Y_0 2 3) (- 1 2 3)))\n"  # 6 Y_0 <= -4
        "(assert (<= (- X_1) 0.5))\n"  # X_1 >= -1/2
    )
    (case,) = spec.cases
    assert case.inputs.lo == (-1, Fraction(-1, 2)) and case.inputs.hi == (Fraction(1, 2), 1)
    assert case.inputs.constraints == (Linear((-1, 1), Fraction(1, 4)),)
    assert case.unsafe == (Linear((2, -4), -1), Linear((6, 0), -4))


def test_nested_and_or_distribute():
    spec = small(
        "(assert (and (or (<= Y_0 1) (<= Y_0 2)) (or (and (<= Y_1 3) (<= Y_1 4)) (<= Y_1 5))))\n"
        "(assert (or (and (<= X_0 0) (>= X_1 0)) (and (>= X_0 0))))\n"
    )
    y0 = {1: Linear((1, 0), 1), 2: Linear((1, 0), 2)}
    y1 = {k: Linear((0, 1), k) for k in (3, 4, 5)}
    # cases in product order: the disjuncts of the earlier conjunct vary slowest
    expected = [(y0[a], *b) for a in (1, 2) for b in ((y1[3], y1[4]), (y1[5],)) for _ in "xx"]
    assert [c.unsafe for c in spec.cases] == expected
    first, second = spec.input_sets()
    assert (first.lo, first.hi) == ((-1, 0), (0, 1)) and (second.lo, second.hi) == ((0, -1), (1, 1))
    assert [c.inputs for c in spec.cases] == [first, second] * 4
    assert len({id(c.inputs) for c in spec.cases}) == 2


def test_repeated_cases_and_constraints_are_merged():
    spec = small("(assert (or (<= Y_0 1) (<= Y_0 1) (and (<= Y_1 2) (<= Y_1 2))))\n(assert (<= X_0 1))")
    assert [c.unsafe for c in spec.cases] == [(Linear((1, 0), 1),), (Linear((0, 1), 2),)]


def test_strict_comparisons_stay_strict():
    spec = small("(assert (< Y_0 Y_1))\n(assert (> X_0 0))\n(assert (< X_1 (/ 1 2)))")
    (case,) = spec.cases
    assert case.unsafe == (Linear((1, -1), 0, strict=True),)
    assert not case.unsafe[0].holds([1, 1]) and case.unsafe[0].holds([0, 1])
    s = case.inputs  # the closed box, plus the strict bounds as strict half-spaces
    assert (s.lo, s.hi) == ((0, -1), (1, Fraction(1, 2)))
    assert s.constraints == (Linear((-1, 0), 0, strict=True), Linear((0, 1), Fraction(1, 2), strict=True))
    assert s.contains([Fraction(1, 10**9), 0]) and not s.contains([0, 0]) and not s.contains([1, Fraction(1, 2)])
    assert spec.is_unsafe([1, 0], [0, 1]) and not spec.is_unsafe([1, 0], [1, 1])


def test_a_strict_bound_is_dropped_when_a_tighter_bound_exists():
    (s,) = small("(assert (< X_0 1))\n(assert (<= X_0 0.5))\n(assert (<= X_1 1))").input_sets()
    assert s.hi[0] == Fraction(1, 2) and s.is_box
    (s,) = small("(assert (< X_0 1))").input_sets()  # equal values: the strict one wins
    assert s.hi[0] == 1 and s.constraints == (Linear((1, 0), 1, strict=True),)


def test_equality_gives_two_constraints_and_chains_compare_neighbours():
    spec = small("(assert (= X_0 0.25))\n(assert (= Y_0 Y_1 2))\n(assert (<= 0 X_1 0.5))")
    (case,) = spec.cases
    assert case.inputs.lo == (Fraction(1, 4), 0) and case.inputs.hi == (Fraction(1, 4), Fraction(1, 2))
    assert case.unsafe == (Linear((1, -1), 0), Linear((-1, 1), 0), Linear((0, 1), 2), Linear((0, -1), -2))


def test_comments_and_neutral_commands():
    text = "; a property\n(set-logic QF_LRA)\n" + HEADER + BOX + "(assert (<= Y_0 1)) ; (assert (<= Y_0 -5))\n(check-sat)\n(get-model)\n(exit)\n"
    assert parse_vnnlib(text).cases[0].unsafe == (Linear((1, 0), 1),)


def test_no_output_constraint_makes_every_input_a_violation():
    spec = small("")
    assert spec.cases[0].unsafe == () and spec.is_unsafe([0, 0], [5, 5])


def test_deep_nesting_up_to_the_limit():
    ands = vnnlib.MAX_NESTING - 2  # (assert (and ... (and (<= Y_0 1)))): MAX_NESTING levels
    formula = "(and " * ands + "(<= Y_0 1)" + ")" * ands
    assert small(f"(assert {formula})").num_cases == 1
    with pytest.raises(SpecError, match=r"nest deeper than 100 levels"):
        small(f"(assert (and {formula}))")
    with pytest.raises(SpecError, match=r"line 7: parentheses nest deeper"):
        small("(assert " + "(" * 10**5)  # no RecursionError, whatever the depth


# ---------------------------------------------------------------------------------------
# bad input: the typed error, naming the problem
# ---------------------------------------------------------------------------------------

BAD = [
    ("(assert (<= (* X_0 X_1) 1))", r"line 7: nonlinear term \(\* X_0 X_1\)"),
    ("(assert (<= (* Y_0 (+ Y_1 1)) 1))", r"nonlinear term"),
    ("(assert (<= (/ 1 Y_0) 1))", r"division by a non-constant"),
    ("(assert (<= Y_0 (/ 1 0)))", r"division by zero"),
    ("(assert (<= X_0 Y_0))", r"mixes input and output variables \(X_0 and Y_0\); unsupported"),
    ("(assert (<= 1 2))", r"compares constants only"),
    ("(assert (<= X_0 X_0))", r"compares constants only"),
    ("(assert (<= Y_0 nan))", r"nan is not a finite number"),
    ("(assert (<= Y_0 -inf))", r"-inf is not a finite number"),
    ("(assert (<= Y_0 Infinity))", r"Infinity is not a finite number"),
    ("(assert (<= Y_0 1e1001))", r"exponent of 1e1001 exceeds MAX_EXPONENT = 1000"),
    ("(assert (<= Y_0 " + "9" * 5000 + "))", r"has too many digits"),
    ("(assert (<= Y_0 0x10))", r"unknown symbol '0x10'"),
    ("(assert (<= Y_0 1/2))", r"unknown symbol '1/2'"),
    ("(assert (<= X_2 1))", r"X_2 is used but not declared"),
    ("(assert (<= x_0 1))", r"unknown symbol 'x_0'"),
    ("(assert (foo Y_0 1))", r"line 7: unknown operator 'foo' in a formula"),
    ("(assert (<= (foo Y_0) 1))", r"line 7: unknown operator 'foo' in a term"),
    ("(assert (not (<= Y_0 1)))", r"negation is unsupported"),
    ("(assert (<= Y_0))", r"needs at least two terms; got 1"),
    ("(assert (*))", r"unknown operator '\*' in a formula"),
    ("(assert (<= (*) 1))", r"needs at least two terms; got 0"),
    ("(assert (or))", r"\(or\) has no arguments"),
    ("(assert (and))", r"\(and\) has no arguments"),
    ("(assert (<= Y_0 1) (<= Y_0 2))", r"takes one formula; got 2"),
    ("(assert true)", r"got the symbol 'true'"),
    ("(assert ())", r"empty list \(\)"),
    ("(assert ((<= Y_0 1)))", r"got a list"),
    ("(declare-fun X_2 () Real)", r"line 7: unknown command 'declare-fun'"),
    ("(push 1)", r"unknown command 'push'"),
    ("(assert (<= Y_0 1)))", r"unexpected '\)' with no matching"),
    ("(assert (<= Y_0 1)", r"line 7: '\(' is never closed"),
    ("junk", r"unexpected symbol 'junk' outside parentheses"),
    ("(declare-const X_0 Real)", r"X_0 is declared twice \(lines 1 and 7\)"),
    ("(declare-const Z Real)", r"unsupported variable name 'Z'"),
    ("(declare-const X_01 Real)", r"unsupported variable name 'X_01'"),
    ("(declare-const X_2 Int)", r"X_2 has sort 'Int'; only Real"),
    ("(declare-const X_2)", r"expected \(declare-const NAME Real\)"),
    ("(declare-const X_1234567890 Real)", r"more than 9 digits"),
    ("(declare-const X_3 Real)", r"X_2 is not declared but X_3 is; the inputs must be numbered"),
    ("(declare-const Y_5 Real)", r"Y_2 is not declared but Y_5 is; the outputs"),
    ("(assert (>= X_0 2))", r"X_0 has lower bound 2 on line 7 and upper bound 1 on line 5: the input set is empty"),
    ("(assert (> X_1 1))", r"X_1 has lower bound 1 \(strict\) on line 7 and upper bound 1 on line 6: the input set is empty"),
    ("(assert (or (<= X_0 -2) (<= Y_0 1)))", r"X_0 has lower bound -1 .* in case 1 of 2"),
]


@pytest.mark.parametrize("body, message", BAD, ids=[b[:40] for b, _ in BAD])
def test_bad_input_raises_spec_error_naming_the_problem(body, message):
    with pytest.raises(SpecError, match=message) as info:
        small(body)
    assert str(info.value).startswith("small.vnnlib")
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "text, message",
    [
        ("(declare-const X_0 Real)(declare-const Y_0 Real)(assert (<= X_0 1))", r"X_0 has no lower bound"),
        ("(declare-const X_0 Real)(declare-const Y_0 Real)(assert (>= X_0 1))", r"X_0 has no upper bound"),
        (
            "(declare-const X_0 Real)(declare-const X_1 Real)(declare-const Y_0 Real)(assert (<= 0 X_0 1))"
            "(assert (<= 0 (+ X_0 X_1) 1))",
            r"X_1 has no lower bound; every input needs .* such as \(>= X_1 0\)",
        ),
        (
            "(declare-const X_0 Real)(declare-const Y_0 Real)(assert (or (<= 0 X_0 1) (<= X_0 1)))",
            r"X_0 has no lower bound in case 2 of 2",
        ),
        ("(declare-const Y_0 Real)", r"no input variable is declared"),
        ("(declare-const X_0 Real)(assert (<= 0 X_0 1))", r"no output variable is declared"),
        ("", r"no input variable is declared"),
    ],
)
def test_unbounded_inputs_and_missing_variables(text, message):
    with pytest.raises(SpecError, match=message):
        parse_vnnlib(text)


def test_too_many_cases(monkeypatch):
    monkeypatch.setattr(vnnlib, "MAX_CASES", 8)
    two = ["(or (<= Y_0 {k}) (<= Y_1 {k}))".format(k=k) for k in range(4)]
    assert small(f"(assert (and {two[0]} {two[1]} {two[2]}))").num_cases == 8
    with pytest.raises(SpecError, match="line 7: the disjunctive normal form has more than MAX_CASES = 8 cases"):
        small(f"(assert (and {' '.join(two)}))")
    with pytest.raises(SpecError, match="more than MAX_CASES = 8 cases"):
        small("(assert (or " + " ".join(f"(<= Y_0 {k})" for k in range(9)) + "))")
    with pytest.raises(SpecError, match="line 10: the disjunctive normal form"):
        small("\n".join(f"(assert {t})" for t in two))


def test_file_errors(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError):
        load_vnnlib(tmp_path / "missing.vnnlib")
    with pytest.raises(SpecError, match="is a folder"):
        load_vnnlib(tmp_path)
    latin = tmp_path / "latin.vnnlib"
    latin.write_bytes(b"; caf\xe9\n")
    with pytest.raises(SpecError, match="not UTF-8 text at byte 5"):
        load_vnnlib(latin)
    gz = tmp_path / "prop.vnnlib.gz"
    gz.write_bytes(gzip.compress(b"(declare-const X_0 Real)"))
    with pytest.raises(SpecError, match="gzip-compressed; decompress it first"):
        load_vnnlib(gz)
    good = tmp_path / "good.vnnlib"
    good.write_text("\ufeff" + HEADER + BOX, encoding="utf-8")  # a byte order mark is fine
    assert load_vnnlib(str(good)).num_inputs == 2
    monkeypatch.setattr(vnnlib, "MAX_FILE_BYTES", 100)
    with pytest.raises(SpecError, match="larger than MAX_FILE_BYTES = 100"):
        load_vnnlib(good)
    with pytest.raises(SpecError, match="the limit is MAX_FILE_BYTES = 100"):
        parse_vnnlib(HEADER + BOX)
    with pytest.raises(TypeError, match="str"):
        parse_vnnlib(b"(declare-const X_0 Real)")


# ---------------------------------------------------------------------------------------
# fuzzing: mutated property text only ever raises ExactMasoError
# ---------------------------------------------------------------------------------------

PIECES = ["(", ")", " ", "\n", ";", "X_0", "X_5", "Y_1", "Y_9", "0", "-", ".", "e", "1e-3", "nan", "<=", ">=", "<",
          "=", "and", "or", "not", "+", "*", "/", "(* X_0 X_1)", "(declare-const X_5 Real)", "(assert", "Real", "\x00"]


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzz_mutated_properties(data):
    text = data.draw(st.sampled_from([acasxu(7), acasxu(6)])).read_text()
    for _ in range(data.draw(st.integers(1, 6))):
        at = data.draw(st.integers(0, len(text)))
        kind = data.draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = data.draw(st.sampled_from(PIECES) | st.text(max_size=3))
        end = min(len(text), at + data.draw(st.integers(0, 20)))
        if kind == "insert":
            text = text[:at] + piece + text[at:]
        elif kind == "delete":
            text = text[:at] + text[end:]
        else:
            text = text[:at] + piece + text[end:]
    try:
        spec = parse_vnnlib(text)
    except ExactMasoError:
        return
    assert spec.num_cases >= 1 and all(isinstance(c, Case) for c in spec.cases)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40))
def test_fuzz_token_soup(pieces):
    try:
        parse_vnnlib(HEADER + BOX + " ".join(pieces))
    except ExactMasoError:
        pass


# ---------------------------------------------------------------------------------------
# the spec types
# ---------------------------------------------------------------------------------------


def test_linear_converts_exactly_and_validates():
    h = Linear([1, 0.5, "1/3"], "0.1")
    assert h.coeffs == (1, Fraction(1, 2), Fraction(1, 3)) and h.rhs == Fraction(1, 10)
    assert Linear((0.1,), 0).coeffs[0] == Fraction(0.1) != Fraction(1, 10)  # a float is its binary value
    assert h.value([6, 2, 3]) == 8 and not h.holds([6, 2, 3]) and h.holds([0, 0, "3/10"])
    assert str(Linear((1, -1, 0, Fraction(-2, 3)), 5, strict=True)) == "v0 - v1 - 2/3*v3 < 5"
    assert Linear((0, -2), 0).to_text("y") == "-2*y1 <= 0"
    with pytest.raises(SpecError, match=r"Linear.coeffs\[1\] is nan"):
        Linear((1, float("nan")), 0)
    with pytest.raises(SpecError, match="Linear.rhs is inf"):
        Linear((1,), float("inf"))
    with pytest.raises(SpecError, match="empty"):
        Linear((), 0)
    with pytest.raises(SpecError, match="sequence"):
        Linear("12", 0)
    with pytest.raises(SpecError, match="strict"):
        Linear((1,), 0, strict=1)
    with pytest.raises(ShapeError, match="v has 1 entries; expected 3"):
        h.holds([1])
    with pytest.raises(DomainError):
        h.holds([1, 2, float("nan")])
    with pytest.raises(dataclasses.FrozenInstanceError):
        h.rhs = Fraction(0)


def test_input_set_validates():
    with pytest.raises(SpecError, match=r"lo\[1\] = 2 exceeds hi\[1\] = 1"):
        InputSet((0, 2), (1, 1))
    with pytest.raises(SpecError, match="2 lower and 1 upper"):
        InputSet((0, 0), (1,))
    with pytest.raises(SpecError, match="at least one"):
        InputSet((), ())
    with pytest.raises(SpecError, match=r"constraints\[0\] has 3 coefficients; the box has dimension 2"):
        InputSet((0, 0), (1, 1), (Linear((1, 1, 1), 0),))
    with pytest.raises(SpecError, match="tuple of Linear"):
        InputSet((0, 0), (1, 1), [Linear((1, 1), 0)])
    with pytest.raises(SpecError, match="expected a Linear"):
        InputSet((0,), (1,), ("x <= 1",))
    s = InputSet(np.array([0, 0]), ["1/2", 1.0])
    assert s.hi == (Fraction(1, 2), 1) and s.dim == 2 and s.contains(np.array([0.5, 1.0]))
    assert repr(s) == "InputSet(lo=[0, 0], hi=[1/2, 1], constraints=0)"
    with pytest.raises(ShapeError, match=r"x has 2 dimension\(s\)"):
        s.contains(np.zeros((1, 2)))


def test_case_and_spec_validate():
    box = InputSet((0,), (1,))
    with pytest.raises(SpecError, match="expected an InputSet"):
        Case((0, 1), ())
    with pytest.raises(SpecError, match=r"unsafe\[1\] has 3 coefficients; Case.unsafe\[0\] has 2"):
        Case(box, (Linear((1, 1), 0), Linear((1, 1, 1), 0)))
    with pytest.raises(SpecError, match="tuple of Linear"):
        Case(box, [Linear((1, 1), 0)])
    case = Case(box, (Linear((1, 1), 0),))
    with pytest.raises(SpecError, match="non-empty tuple of Case"):
        Spec((), 1, 2)
    with pytest.raises(SpecError, match="num_inputs is 2"):
        Spec((case,), 2, 2)
    with pytest.raises(SpecError, match="over 2 outputs; num_outputs is 3"):
        Spec((case,), 1, 3)
    with pytest.raises(SpecError, match="positive int"):
        Spec((case,), True, 2)
    spec = Spec((case,), 1, 2, source="a")
    assert spec == Spec((case,), 1, 2, source="b")  # the source is not compared
    with pytest.raises(ShapeError, match="y has 1 entries; expected 2"):
        spec.is_unsafe([0], [0])
    assert case.is_unsafe([1], [-1, 1]) and not case.is_unsafe([1], [1, 1])


def test_input_sets_are_distinct_by_value():
    a, b, a_again = InputSet((0,), (1,)), InputSet((0,), (2,)), InputSet((0,), (1,))
    u = (Linear((1,), 0),)
    v = (Linear((-1,), 0),)
    spec = Spec((Case(a, u), Case(b, u), Case(a_again, v)), 1, 1)
    assert spec.input_sets() == (a, b) and spec.input_sets()[0] is a
    assert spec.unsafe_by_input() == {a: (u, v), b: (u,)}
    assert repr(spec) == "Spec(cases=3, input_sets=2, num_inputs=1, num_outputs=1)"
