"""Exact property specifications: an input set and an unsafe output set, in disjunctive normal form.

A property of a network ``f`` is written as the set of its violations, a disjunction of
*cases*.  Each :class:`Case` pairs an :class:`InputSet` (a box intersected with half-spaces
over the inputs ``x``) with a conjunction of *unsafe* half-spaces over the outputs
``y = f(x)``.  The property is violated iff some case is satisfiable: some ``x`` in the
case's input set has ``f(x)`` in every unsafe half-space of the case.

Every number is a :class:`fractions.Fraction`.  Values given to the constructors are
converted exactly (a float is its binary value, ``"3/5"`` and ``"0.6"`` are three fifths);
NaN, infinities and non-numbers raise :class:`~exactmaso.errors.SpecError`.  Points given to
``holds`` / ``contains`` / ``is_unsafe`` are converted the same way, and a wrong length is a
:class:`~exactmaso.errors.ShapeError`.

Examples
--------
>>> from fractions import Fraction
>>> box = InputSet(lo=(0, 0), hi=(1, 1))
>>> unsafe = Linear(coeffs=(-1,), rhs=-2)            # -y0 <= -2, that is y0 >= 2
>>> spec = Spec(cases=(Case(box, (unsafe,)),), num_inputs=2, num_outputs=1)
>>> spec.is_unsafe(["1/2", "1/2"], [Fraction(5, 2)])
True
>>> spec.is_unsafe([2, 0], [3])                       # x outside the box
False
>>> print(unsafe)
-v0 <= -2
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Iterable

from ..errors import DomainError, ShapeError, SpecError
from ..numbers import fraction_to_str, to_fraction, to_fraction_array

__all__ = ["Linear", "InputSet", "Case", "Spec"]

_ZERO = Fraction(0)
_SHORT_REPR_DIM = 6  # an InputSet of at most this dimension shows its bounds in repr()


# --------------------------------------------------------------------------------------
# exact conversion (construction: SpecError; evaluation points: DomainError / ShapeError)
# --------------------------------------------------------------------------------------


def _spec_number(value: Any, name: str) -> Fraction:
    if type(value) is Fraction:
        return value
    try:
        return to_fraction(value, name=name)
    except (DomainError, ShapeError) as exc:
        raise SpecError(str(exc)) from None


def _spec_vector(values: Any, name: str) -> tuple[Fraction, ...]:
    if type(values) is tuple and all(type(v) is Fraction for v in values):
        return values
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise SpecError(f"{name} is {values!r:.60}; expected a sequence of exact numbers")
    return tuple(_spec_number(v, f"{name}[{i}]") for i, v in enumerate(values))


def _point(values: Any, size: int, name: str) -> tuple[Fraction, ...]:
    """An exact evaluation point of length ``size``."""
    if type(values) in (tuple, list) and all(type(v) is Fraction for v in values):
        point = tuple(values)
    else:
        point = tuple(to_fraction_array(values, name=name, ndim=1))
    if len(point) != size:
        raise ShapeError(f"{name} has {len(point)} entries; expected {size}")
    return point


def _dot(coeffs: tuple[Fraction, ...], point: tuple[Fraction, ...]) -> Fraction:
    return Fraction(sum(c * v for c, v in zip(coeffs, point) if c))


# --------------------------------------------------------------------------------------
# the types
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Linear:
    """The half-space ``sum_j coeffs[j] * v[j] <= rhs`` (``<`` when ``strict``) over one vector.

    The vector ``v`` is the inputs ``x`` in :attr:`InputSet.constraints` and the outputs ``y``
    in :attr:`Case.unsafe`.

    Parameters
    ----------
    coeffs : sequence of exact numbers, one per variable (at least one)
    rhs : exact number
    strict : bool
        Whether the inequality is strict (``<``), as VNN-LIB's ``<`` and ``>`` are.

    Examples
    --------
    >>> h = Linear((1, -1), 0, strict=True)          # v0 < v1
    >>> h.holds([1, 2]), h.holds([2, 2]), Linear((1, -1), 0).holds([2, 2])
    (True, False, True)
    >>> h.value(["1/2", 3])
    Fraction(-5, 2)
    """

    coeffs: tuple[Fraction, ...]
    rhs: Fraction
    strict: bool = False

    def __post_init__(self) -> None:
        coeffs = _spec_vector(self.coeffs, "Linear.coeffs")
        if not coeffs:
            raise SpecError("Linear.coeffs is empty; expected one coefficient per variable")
        object.__setattr__(self, "coeffs", coeffs)
        object.__setattr__(self, "rhs", _spec_number(self.rhs, "Linear.rhs"))
        if not isinstance(self.strict, bool):
            raise SpecError(f"Linear.strict is {self.strict!r:.40}; expected True or False")

    @property
    def dim(self) -> int:
        """The number of variables."""
        return len(self.coeffs)

    def value(self, v: Any) -> Fraction:
        """The exact left-hand side ``sum_j coeffs[j] * v[j]``."""
        return _dot(self.coeffs, _point(v, self.dim, "v"))

    def holds(self, v: Any) -> bool:
        """Whether ``v`` satisfies the inequality, decided exactly (strictness respected)."""
        return self._holds_at(_point(v, self.dim, "v"))

    def _holds_at(self, point: tuple[Fraction, ...]) -> bool:
        lhs = _dot(self.coeffs, point)
        return lhs < self.rhs if self.strict else lhs <= self.rhs

    def to_text(self, var: str = "v") -> str:
        """The inequality as text with variables ``{var}0, {var}1, ...``: ``"y1 - y0 <= 0"``."""
        parts: list[str] = []
        for j, c in enumerate(self.coeffs):
            if not c:
                continue
            size = abs(c)
            term = f"{var}{j}" if size == 1 else f"{fraction_to_str(size)}*{var}{j}"
            if parts:
                parts.append(("- " if c < 0 else "+ ") + term)
            else:
                parts.append(("-" if c < 0 else "") + term)
        lhs = " ".join(parts) if parts else "0"
        return f"{lhs} {'<' if self.strict else '<='} {fraction_to_str(self.rhs)}"

    def __str__(self) -> str:
        return self.to_text()


@dataclass(frozen=True, slots=True, repr=False)
class InputSet:
    """The box ``lo <= x <= hi`` intersected with the half-spaces ``constraints`` over ``x``.

    ``lo[i] == hi[i]`` fixes coordinate ``i`` (ACAS Xu property 4 fixes ``X_2 = 0``).  Strict
    input bounds read from a file keep the closed box in ``lo`` / ``hi`` and add the strict
    half-space to ``constraints``.  Emptiness through ``constraints`` is not checked here.

    Examples
    --------
    >>> s = InputSet((0, 0), (1, 1), (Linear((1, 1), 1),))     # a triangle
    >>> s.contains(["1/2", "1/2"]), s.contains([1, 1]), s.dim
    (True, False, 2)
    """

    lo: tuple[Fraction, ...]
    hi: tuple[Fraction, ...]
    constraints: tuple[Linear, ...] = ()

    def __post_init__(self) -> None:
        lo = _spec_vector(self.lo, "InputSet.lo")
        hi = _spec_vector(self.hi, "InputSet.hi")
        if not lo or len(lo) != len(hi):
            raise SpecError(f"InputSet has {len(lo)} lower and {len(hi)} upper bounds; expected the same number, at least one")
        for i, (a, b) in enumerate(zip(lo, hi)):
            if a > b:
                raise SpecError(
                    f"InputSet lo[{i}] = {fraction_to_str(a)} exceeds hi[{i}] = {fraction_to_str(b)}; "
                    "expected lo <= hi (the box would be empty)"
                )
        if not isinstance(self.constraints, tuple):
            raise SpecError(f"InputSet.constraints is a {type(self.constraints).__name__}; expected a tuple of Linear")
        for k, c in enumerate(self.constraints):
            if not isinstance(c, Linear):
                raise SpecError(f"InputSet.constraints[{k}] is a {type(c).__name__}; expected a Linear")
            if c.dim != len(lo):
                raise SpecError(f"InputSet.constraints[{k}] has {c.dim} coefficients; the box has dimension {len(lo)}")
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)

    @property
    def dim(self) -> int:
        """The number of input variables."""
        return len(self.lo)

    @property
    def is_box(self) -> bool:
        """True when there are no constraints beyond the box."""
        return not self.constraints

    def contains(self, x: Any) -> bool:
        """Whether ``x`` lies in the set, decided exactly (strict constraints respected)."""
        return self._contains_at(_point(x, self.dim, "x"))

    def _contains_at(self, point: tuple[Fraction, ...]) -> bool:
        if not all(a <= v <= b for a, v, b in zip(self.lo, point, self.hi)):
            return False
        return all(c._holds_at(point) for c in self.constraints)

    def __repr__(self) -> str:
        if self.dim <= _SHORT_REPR_DIM:
            lo = ", ".join(fraction_to_str(v) for v in self.lo)
            hi = ", ".join(fraction_to_str(v) for v in self.hi)
            return f"InputSet(lo=[{lo}], hi=[{hi}], constraints={len(self.constraints)})"
        return f"InputSet(dim={self.dim}, constraints={len(self.constraints)})"


@dataclass(frozen=True, slots=True, repr=False)
class Case:
    """One disjunct of a property: ``x in inputs`` and ``f(x)`` in every ``unsafe`` half-space.

    An empty ``unsafe`` conjunction makes every ``x`` of the input set a violation.
    """

    inputs: InputSet
    unsafe: tuple[Linear, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.inputs, InputSet):
            raise SpecError(f"Case.inputs is a {type(self.inputs).__name__}; expected an InputSet")
        if not isinstance(self.unsafe, tuple):
            raise SpecError(f"Case.unsafe is a {type(self.unsafe).__name__}; expected a tuple of Linear")
        for k, c in enumerate(self.unsafe):
            if not isinstance(c, Linear):
                raise SpecError(f"Case.unsafe[{k}] is a {type(c).__name__}; expected a Linear")
            if c.dim != self.unsafe[0].dim:
                raise SpecError(
                    f"Case.unsafe[{k}] has {c.dim} coefficients; Case.unsafe[0] has {self.unsafe[0].dim}"
                )

    def is_unsafe(self, x: Any, y: Any) -> bool:
        """Whether ``(x, y)`` is a violation of this case, decided exactly."""
        y_point = _point(y, self.unsafe[0].dim, "y") if self.unsafe else ()
        return self._is_unsafe_at(_point(x, self.inputs.dim, "x"), y_point)

    def _is_unsafe_at(self, x: tuple[Fraction, ...], y: tuple[Fraction, ...]) -> bool:
        return self.inputs._contains_at(x) and all(c._holds_at(y) for c in self.unsafe)

    def __repr__(self) -> str:
        return f"Case(inputs={self.inputs!r}, unsafe={len(self.unsafe)} constraint(s))"


@dataclass(frozen=True, slots=True, repr=False)
class Spec:
    """A property as the disjunction of its :class:`Case` s: violated iff some case is satisfiable.

    Parameters
    ----------
    cases : tuple of Case, at least one
    num_inputs, num_outputs : int
        The sizes of ``x`` and ``y``; every case must agree with them.
    source : str
        Where the spec came from (a file name); not compared.

    Examples
    --------
    >>> box = InputSet((0,), (1,))
    >>> y0_le_y1 = Linear((1, -1), 0)                         # y0 <= y1
    >>> y0_far_above = Linear((-1, 1), -5, strict=True)       # y0 - y1 > 5
    >>> spec = Spec((Case(box, (y0_le_y1,)), Case(box, (y0_far_above,))), 1, 2)
    >>> spec
    Spec(cases=2, input_sets=1, num_inputs=1, num_outputs=2)
    >>> [spec.is_unsafe([0], y) for y in ([3, 3], [4, 3], [8, 3], [9, 3])]
    [True, False, False, True]
    """

    cases: tuple[Case, ...]
    num_inputs: int
    num_outputs: int
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        for name in ("num_inputs", "num_outputs"):
            n = getattr(self, name)
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise SpecError(f"Spec.{name} is {n!r:.40}; expected a positive int")
        if not isinstance(self.cases, tuple) or not self.cases:
            raise SpecError(
                f"Spec.cases is {self.cases!r:.60}; expected a non-empty tuple of Case "
                "(a spec without cases could never be violated)"
            )
        for k, case in enumerate(self.cases):
            if not isinstance(case, Case):
                raise SpecError(f"Spec.cases[{k}] is a {type(case).__name__}; expected a Case")
            if case.inputs.dim != self.num_inputs:
                raise SpecError(f"Spec.cases[{k}] has inputs of dimension {case.inputs.dim}; num_inputs is {self.num_inputs}")
            if case.unsafe and case.unsafe[0].dim != self.num_outputs:
                raise SpecError(
                    f"Spec.cases[{k}] has unsafe constraints over {case.unsafe[0].dim} outputs; num_outputs is {self.num_outputs}"
                )
        if not isinstance(self.source, str):
            raise SpecError(f"Spec.source is a {type(self.source).__name__}; expected a str")

    @property
    def num_cases(self) -> int:
        """The number of cases (disjuncts)."""
        return len(self.cases)

    def input_sets(self) -> tuple[InputSet, ...]:
        """The distinct input sets of the cases (equal sets once), in order of first use."""
        return tuple(self._grouped())

    def unsafe_by_input(self) -> dict[InputSet, tuple[tuple[Linear, ...], ...]]:
        """Each distinct input set -> the unsafe conjunctions of its cases, in order.

        The spec is violated iff for some input set ``S`` and some conjunction ``U`` of
        ``unsafe_by_input()[S]`` an ``x`` in ``S`` has ``f(x)`` in every half-space of ``U``.
        """
        return {s: tuple(c.unsafe for c in cases) for s, cases in self._grouped().items()}

    def _grouped(self) -> dict[InputSet, list[Case]]:
        # Cases read from a file share their InputSet objects; identity is checked first so
        # that a 784-dimensional box is compared (not hashed) only against distinct ones.
        groups: dict[int, list[Case]] = {}
        keys: list[InputSet] = []
        for case in self.cases:
            s = case.inputs
            if id(s) not in groups:
                same = next((t for t in keys if t == s), None)
                if same is None:
                    keys.append(s)
                    groups[id(s)] = []
                else:
                    groups[id(s)] = groups[id(same)]
            groups[id(s)].append(case)
        return {s: groups[id(s)] for s in keys}

    def is_unsafe(self, x: Any, y: Any) -> bool:
        """Whether ``(x, y)`` is a violation of some case, decided exactly.

        For a counterexample check pass ``y = net(x)``.
        """
        x_point = _point(x, self.num_inputs, "x")
        y_point = _point(y, self.num_outputs, "y")
        return any(case._is_unsafe_at(x_point, y_point) for case in self.cases)

    def __repr__(self) -> str:
        source = f", source={self.source!r}" if self.source else ""
        return (
            f"Spec(cases={self.num_cases}, input_sets={len(self.input_sets())}, "
            f"num_inputs={self.num_inputs}, num_outputs={self.num_outputs}{source})"
        )
