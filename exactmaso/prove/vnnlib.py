"""Reading VNN-LIB property files into an exact :class:`~exactmaso.prove.spec.Spec`.

VNN-LIB (the property format of VNN-COMP) is a fragment of SMT-LIB 2 over the reals: the
inputs ``X_0 .. X_{n-1}`` and outputs ``Y_0 .. Y_{m-1}`` of a network are declared with
``(declare-const X_i Real)``, and every ``(assert F)`` adds a condition; a counterexample to
the property is an ``x`` with ``y = f(x)`` that satisfies all of them.  This module reads:

- formulas ``(and F ...)``, ``(or F ...)`` and comparisons ``(<= a b ...)``, ``(>= ...)``,
  ``(< ...)``, ``(> ...)``, ``(= ...)`` (chains compare neighbours, as in SMT-LIB);
- linear terms: numbers, declared variables, ``(+ t ...)``, ``(- t)``, ``(- t u ...)``,
  ``(* c ... t)`` with at most one non-constant factor, ``(/ t c ...)`` by non-zero constants;
- decimal literals as the exact decimals they spell (``0.6`` is 3/5; never through a float);
- ``(check-sat)``, ``(get-model)``, ``(exit)``, ``(set-logic ...)``, ``(set-info ...)``,
  which change nothing, and ``;`` comments.

The conjunction of the assertions is put in disjunctive normal form; each disjunct becomes
a :class:`~exactmaso.prove.spec.Case`: its single-variable input comparisons become the
box, its other input comparisons the input constraints, its output comparisons the unsafe
conjunction.  Strict comparisons stay strict (``Linear.strict``).  Disjuncts that share
their input part share one :class:`~exactmaso.prove.spec.InputSet` object.

Everything malformed or unsupported raises :class:`~exactmaso.errors.SpecError` naming the
problem and its line; a file whose variable counts disagree with a given network raises
:class:`~exactmaso.errors.ShapeError`.  See ``docs/vnnlib.md``.

Examples
--------
>>> spec = parse_vnnlib('''
... (declare-const X_0 Real)
... (declare-const Y_0 Real)
... (declare-const Y_1 Real)
... (assert (<= 0 X_0 0.6))                 ; 0 <= X_0 <= 3/5
... (assert (or (> Y_0 Y_1) (>= Y_1 1e-3)))
... ''')
>>> spec
Spec(cases=2, input_sets=1, num_inputs=1, num_outputs=2)
>>> spec.cases[0].inputs.hi
(Fraction(3, 5),)
>>> [str(c.unsafe[0]) for c in spec.cases]
['-v0 + v1 < 0', '-v1 <= -1/1000']
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Union

from ..errors import ShapeError, SpecError
from .spec import Case, InputSet, Linear, Spec

__all__ = ["load_vnnlib", "parse_vnnlib", "MAX_FILE_BYTES", "MAX_NESTING", "MAX_CASES", "MAX_EXPONENT"]

MAX_FILE_BYTES = 64 * 2**20
"""Largest file (or text, in characters) read: 64 MiB."""

MAX_NESTING = 100
"""Deepest parenthesis nesting accepted (VNN-COMP files nest 3 or 4 deep)."""

MAX_CASES = 100_000
"""Most cases the disjunctive normal form may have; more raises SpecError instead of exploding."""

MAX_EXPONENT = 1000
"""Largest decimal exponent in a literal (``1e-1000``); beyond it the exact value gets huge."""

_ZERO = Fraction(0)
_ONE = Fraction(1)
_TOKEN = re.compile(r"[()]|[^\s();]+")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE]([+-]?\d+))?")
_NON_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)
_VARIABLE = re.compile(r"([XY])_(0|[1-9][0-9]*)")
_MAX_INDEX_DIGITS = 9
_COMPARISONS = frozenset({"<=", ">=", "<", ">", "="})
_NEUTRAL_COMMANDS = frozenset({"check-sat", "get-model", "exit", "set-logic", "set-info"})
_GZIP_MAGIC = b"\x1f\x8b"
_SHOW_CHARS = 60  # how much of an s-expression an error message quotes


# --------------------------------------------------------------------------------------
# s-expressions
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Symbol:
    text: str
    line: int


@dataclass(slots=True)
class _List:
    items: list[Union["_List", _Symbol]]
    line: int  # where the "(" is


_Sexp = Union[_List, _Symbol]


def _show(node: _Sexp) -> str:
    """The s-expression as text, cut after about ``_SHOW_CHARS`` characters."""
    tokens: list[str] = []
    size = 0
    stack: list[Any] = [node]
    while stack and size <= _SHOW_CHARS:
        item = stack.pop()
        if isinstance(item, str):
            token = item
        elif isinstance(item, _Symbol):
            token = item.text
        else:
            token = "("
            stack.append(")")
            stack.extend(reversed(item.items))
        tokens.append(token)
        size += len(token) + 1
    text = ""
    for prev, token in zip([""] + tokens, tokens):
        text += token if (prev in ("", "(") or token == ")") else " " + token
    return text + (" ..." if stack else "")


# --------------------------------------------------------------------------------------
# linear constraints and the disjunctive normal form
# --------------------------------------------------------------------------------------

_Var = tuple[str, int]  # ("X", 3) is X_3
_Expr = tuple[dict[_Var, Fraction], Fraction]  # sum of coeff * var, plus a constant


@dataclass(frozen=True, slots=True, eq=False)
class _Constraint:
    """``sum_i coeffs[i] * V_i <= rhs`` (``<`` if strict) over the variables ``V = kind``."""

    kind: str
    coeffs: dict[int, Fraction]
    rhs: Fraction
    strict: bool
    line: int


# A conjunction node is a tuple whose items are _Constraints or conjunction nodes: it is a
# DAG, so a 784-atom input box is built once and shared by every disjunct that contains it.
# A DNF is a list of terms (input node, output node).
_Node = tuple
_Term = tuple[_Node, _Node]
_EMPTY: _Node = ()


def _flatten(node: _Node) -> list[_Constraint]:
    """The constraints of a conjunction node, in order (iteratively: nodes may be deep)."""
    out: list[_Constraint] = []
    stack: list[Any] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, tuple):
            stack.extend(reversed(item))
        else:
            out.append(item)
    return out


def _add(a: _Expr, b: _Expr, sign: int = 1) -> _Expr:
    coeffs = dict(a[0])
    for var, c in b[0].items():
        total = coeffs.get(var, _ZERO) + sign * c
        if total:
            coeffs[var] = total
        else:
            coeffs.pop(var, None)
    return coeffs, a[1] + sign * b[1]


def _scale(a: _Expr, factor: Fraction) -> _Expr:
    if not factor:
        return {}, _ZERO
    return {var: factor * c for var, c in a[0].items()}, factor * a[1]


def _tighter(old: tuple | None, new: tuple, upper: bool) -> tuple:
    """Of two bounds ``(value, strict, line)`` on one side, the one that cuts more."""
    if old is None:
        return new
    if new[0] == old[0]:
        return new if new[1] and not old[1] else old
    return new if (new[0] < old[0]) == upper else old


class _Reader:
    """One parse: declarations, formulas to DNF, DNF to a Spec."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.declared: dict[_Var, int] = {}  # variable -> line of its declaration
        # memos keyed by id(): every keyed object stays alive for the whole parse (the DNF
        # terms hold the nodes and constraints; each _cats value holds both of its parts)
        self._cats: dict[tuple[int, int], _Node] = {}
        self._input_sets: dict[int, InputSet] = {}
        self._interned: dict[InputSet, InputSet] = {}
        self._unsafe: dict[int, tuple[Linear, ...]] = {}
        self._linears: dict[int, Linear] = {}

    def error(self, line: int | None, message: str) -> SpecError:
        where = ", ".join(p for p in (self.source, f"line {line}" if line else "") if p)
        return SpecError(f"{where}: {message}" if where else message)

    # -- reading -------------------------------------------------------------------------

    def read(self, text: str) -> Spec:
        asserted: list[tuple[list[_Term], int]] = []
        for command in self._sexps(text):
            head, args = self._head(command, "a command")
            if head == "declare-const":
                self._declare(command, args)
            elif head == "assert":
                if len(args) != 1:
                    raise self.error(command.line, f"(assert ...) takes one formula; got {len(args)}: {_show(command)}")
                asserted.append((self._formula(args[0]), command.line))
            elif head not in _NEUTRAL_COMMANDS:
                raise self.error(command.line, f"unknown command {head!r:.40}; expected declare-const or assert")
        num_inputs = self._count("X")
        num_outputs = self._count("Y")
        terms = self._conjoin(asserted)
        cases: list[Case] = []
        seen: set[tuple[int, tuple[Linear, ...]]] = set()
        for k, (x_node, y_node) in enumerate(terms):
            inputs = self._input_set(x_node, num_inputs, k, len(terms))
            unsafe = self._unsafe_of(y_node, num_outputs)
            if (id(inputs), unsafe) not in seen:
                seen.add((id(inputs), unsafe))
                cases.append(Case(inputs, unsafe))
        return Spec(tuple(cases), num_inputs, num_outputs, source=self.source)

    def _sexps(self, text: str) -> list[_List]:
        """The top-level s-expressions, built iteratively with a nesting cap."""
        top: list[_List] = []
        open_lists: list[_List] = []
        for number, line in enumerate(text.split("\n"), start=1):
            cut = line.find(";")
            for token in _TOKEN.findall(line if cut < 0 else line[:cut]):
                if token == "(":
                    if len(open_lists) >= MAX_NESTING:
                        raise self.error(number, f"parentheses nest deeper than {MAX_NESTING} levels")
                    open_lists.append(_List([], number))
                elif token == ")":
                    if not open_lists:
                        raise self.error(number, "unexpected ')' with no matching '('")
                    done = open_lists.pop()
                    (open_lists[-1].items if open_lists else top).append(done)
                elif open_lists:
                    open_lists[-1].items.append(_Symbol(token, number))
                else:
                    raise self.error(number, f"unexpected symbol {token!r:.40} outside parentheses")
        if open_lists:
            raise self.error(open_lists[0].line, "'(' is never closed (the file may be truncated)")
        return top

    def _head(self, node: _List, what: str) -> tuple[str, list[_Sexp]]:
        if not node.items:
            raise self.error(node.line, f"empty list () where {what} was expected")
        head = node.items[0]
        if not isinstance(head, _Symbol):
            raise self.error(node.line, f"expected {what} name after '(', got a list: {_show(node)}")
        return head.text, node.items[1:]

    # -- declarations --------------------------------------------------------------------

    def _declare(self, command: _List, args: list[_Sexp]) -> None:
        if len(args) != 2 or not all(isinstance(a, _Symbol) for a in args):
            raise self.error(command.line, f"expected (declare-const NAME Real); got {_show(command)}")
        name, sort = args[0].text, args[1].text
        var = self._variable(name, command.line)
        if var is None:
            raise self.error(command.line, f"unsupported variable name {name!r:.40}; expected X_i (inputs) or Y_i (outputs)")
        if sort != "Real":
            raise self.error(command.line, f"{name} has sort {sort!r:.40}; only Real is supported")
        if var in self.declared:
            raise self.error(command.line, f"{name} is declared twice (lines {self.declared[var]} and {command.line})")
        self.declared[var] = command.line

    def _variable(self, text: str, line: int) -> _Var | None:
        match = _VARIABLE.fullmatch(text)
        if match is None:
            return None
        if len(match.group(2)) > _MAX_INDEX_DIGITS:
            raise self.error(line, f"variable index of {text:.40} has more than {_MAX_INDEX_DIGITS} digits")
        return match.group(1), int(match.group(2))

    def _count(self, kind: str) -> int:
        """How many ``kind`` variables are declared; they must be numbered 0..n-1."""
        what = "input" if kind == "X" else "output"
        indices = sorted(i for k, i in self.declared if k == kind)
        if not indices:
            raise self.error(None, f"no {what} variable is declared; expected (declare-const {kind}_0 Real) and so on")
        for expected, index in enumerate(indices):
            if index != expected:
                raise self.error(
                    None,
                    f"{kind}_{expected} is not declared but {kind}_{indices[-1]} is; the {what}s must be "
                    f"numbered {kind}_0, {kind}_1, ... without gaps",
                )
        return len(indices)

    # -- formulas ------------------------------------------------------------------------

    def _formula(self, node: _Sexp) -> list[_Term]:
        if isinstance(node, _Symbol):
            raise self.error(node.line, f"expected a formula such as (<= X_0 1); got the symbol {node.text!r:.40}")
        op, args = self._head(node, "an operator")
        if op in ("and", "or") and not args:
            raise self.error(node.line, f"({op}) has no arguments; expected at least one formula")
        if op == "and":
            return self._conjoin([(self._formula(a), a.line) for a in args])
        if op == "or":
            terms: list[_Term] = []
            for a in args:
                terms.extend(self._formula(a))
                if len(terms) > MAX_CASES:
                    raise self.error(node.line, f"the disjunctive normal form has more than MAX_CASES = {MAX_CASES} cases")
            return terms
        if op in _COMPARISONS:
            return [self._comparison(node, op, args)]
        if op == "not":
            raise self.error(node.line, f"negation is unsupported: {_show(node)}; write the negated comparison, e.g. (> a b) for (not (<= a b))")
        raise self.error(node.line, f"unknown operator {op!r:.40} in a formula; expected and, or, <=, >=, <, >, =")

    def _conjoin(self, parts: list[tuple[list[_Term], int]]) -> list[_Term]:
        """The DNF of a conjunction: distribute over the disjunctions, share everything else."""
        result: list[_Term] = [(_EMPTY, _EMPTY)]
        pending_x: list[_Node] = []  # single-term parts, joined into one node before use
        pending_y: list[_Node] = []
        for terms, line in parts:
            if len(terms) == 1:
                pending_x.append(terms[0][0])
                pending_y.append(terms[0][1])
                continue
            result = self._extend(result, pending_x, pending_y)
            pending_x, pending_y = [], []
            if len(result) * len(terms) > MAX_CASES:
                raise self.error(line, f"the disjunctive normal form has more than MAX_CASES = {MAX_CASES} cases")
            result = [(self._cat(a, c), self._cat(b, d)) for a, b in result for c, d in terms]
        return self._extend(result, pending_x, pending_y)

    def _extend(self, result: list[_Term], xs: list[_Node], ys: list[_Node]) -> list[_Term]:
        x, y = _join(xs), _join(ys)
        return [(self._cat(a, x), self._cat(b, y)) for a, b in result]

    def _cat(self, a: _Node, b: _Node) -> _Node:
        if not a:
            return b
        if not b:
            return a
        key = (id(a), id(b))
        node = self._cats.get(key)
        if node is None:
            node = self._cats[key] = (a, b)
        return node

    def _comparison(self, node: _List, op: str, args: list[_Sexp]) -> _Term:
        if len(args) < 2:
            raise self.error(node.line, f"({op} ...) needs at least two terms; got {len(args)}: {_show(node)}")
        exprs = [self._term(a) for a in args]
        constraints: list[_Constraint] = []
        for left, right in zip(exprs, exprs[1:]):
            if op in ("<=", "<", "="):
                constraints.append(self._constraint(_add(left, right, -1), op == "<", node))
            if op in (">=", ">", "="):
                constraints.append(self._constraint(_add(right, left, -1), op == ">", node))
        xs = tuple(c for c in constraints if c.kind == "X")
        ys = tuple(c for c in constraints if c.kind == "Y")
        return xs, ys

    def _constraint(self, expr: _Expr, strict: bool, node: _List) -> _Constraint:
        """``expr <= 0`` (``< 0`` if strict) as a constraint over X alone or Y alone."""
        coeffs, constant = expr
        kinds = sorted({kind for kind, _ in coeffs})
        if not kinds:
            raise self.error(node.line, f"{_show(node)} compares constants only; constant comparisons are unsupported")
        if len(kinds) > 1:
            x_name = next(f"X_{i}" for k, i in coeffs if k == "X")
            y_name = next(f"Y_{i}" for k, i in coeffs if k == "Y")
            raise self.error(
                node.line,
                f"{_show(node)} mixes input and output variables ({x_name} and {y_name}); "
                "unsupported: every comparison must be over the inputs alone or the outputs alone",
            )
        by_index = {i: c for (_, i), c in sorted(coeffs.items())}
        return _Constraint(kinds[0], by_index, -constant, strict, node.line)

    # -- terms ---------------------------------------------------------------------------

    def _term(self, node: _Sexp) -> _Expr:
        if isinstance(node, _Symbol):
            return self._atom(node)
        op, args = self._head(node, "an operator")
        if op == "+" and args:
            total: _Expr = ({}, _ZERO)
            for a in args:
                total = _add(total, self._term(a))
            return total
        if op == "-" and args:
            first = self._term(args[0])
            if len(args) == 1:
                return _scale(first, -_ONE)
            for a in args[1:]:
                first = _add(first, self._term(a), -1)
            return first
        if op == "*" and len(args) >= 2:
            return self._product(node, [self._term(a) for a in args])
        if op == "/" and len(args) >= 2:
            quotient = self._term(args[0])
            for a in args[1:]:
                divisor = self._term(a)
                if divisor[0]:
                    raise self.error(node.line, f"division by a non-constant is nonlinear: {_show(node)}")
                if not divisor[1]:
                    raise self.error(node.line, f"division by zero: {_show(node)}")
                quotient = _scale(quotient, 1 / divisor[1])
            return quotient
        if op in ("+", "-", "*", "/"):
            need = "one term" if op in "+-" else "two terms"
            raise self.error(node.line, f"({op} ...) needs at least {need}; got {len(args)}: {_show(node)}")
        raise self.error(node.line, f"unknown operator {op!r:.40} in a term; expected +, -, * or /")

    def _product(self, node: _List, factors: list[_Expr]) -> _Expr:
        constant = _ONE
        variable: _Expr | None = None
        for factor in factors:
            if not factor[0]:
                constant *= factor[1]
            elif variable is None:
                variable = factor
            else:
                raise self.error(node.line, f"nonlinear term {_show(node)}: all factors but one must be constants")
        return _scale(variable, constant) if variable is not None else ({}, constant)

    def _atom(self, symbol: _Symbol) -> _Expr:
        text = symbol.text
        match = _NUMBER.fullmatch(text)
        if match is not None:
            return {}, self._decimal(text, match.group(1), symbol.line)
        var = self._variable(text, symbol.line)
        if var is not None:
            if var not in self.declared:
                raise self.error(symbol.line, f"{text} is used but not declared before; add (declare-const {text} Real)")
            return {var: _ONE}, _ZERO
        if _NON_FINITE.fullmatch(text):
            raise self.error(symbol.line, f"{text} is not a finite number; expected a decimal literal such as 0.5")
        raise self.error(symbol.line, f"unknown symbol {text!r:.40}; expected a number or a declared X_i or Y_i")

    def _decimal(self, text: str, exponent: str | None, line: int) -> Fraction:
        """The exact value of a decimal literal: ``"0.6"`` is 3/5."""
        if exponent is not None:
            digits = exponent.lstrip("+-").lstrip("0")
            if len(digits) > len(str(MAX_EXPONENT)) or int(digits or "0") > MAX_EXPONENT:
                raise self.error(line, f"the exponent of {text:.40} exceeds MAX_EXPONENT = {MAX_EXPONENT}")
        try:
            return Fraction(text)
        except ValueError:  # more digits than Python converts to an int
            raise self.error(line, f"the number {text:.40}... has too many digits") from None

    # -- from the DNF to the Spec ----------------------------------------------------------

    def _input_set(self, node: _Node, n: int, case: int, num_cases: int) -> InputSet:
        if id(node) in self._input_sets:
            return self._input_sets[id(node)]
        lower: list[tuple | None] = [None] * n  # (value, strict, line)
        upper: list[tuple | None] = [None] * n
        others: list[Linear] = []
        for c in _flatten(node):
            if len(c.coeffs) == 1:
                ((i, a),) = c.coeffs.items()
                bound = (c.rhs / a, c.strict, c.line)
                if a > 0:
                    upper[i] = _tighter(upper[i], bound, upper=True)
                else:
                    lower[i] = _tighter(lower[i], bound, upper=False)
            else:
                others.append(self._linear(c, n))
        where = f" in case {case + 1} of {num_cases}" if num_cases > 1 else ""
        for i in range(n):
            lo, hi = lower[i], upper[i]
            for bound, side, op in ((lo, "lower", ">="), (hi, "upper", "<=")):
                if bound is None:
                    raise self.error(
                        None,
                        f"X_{i} has no {side} bound{where}; every input needs a lower and an upper bound "
                        f"from a comparison with one variable, such as ({op} X_{i} 0)",
                    )
            if lo[0] > hi[0] or (lo[0] == hi[0] and (lo[1] or hi[1])):
                raise self.error(
                    None,
                    f"X_{i} has lower bound {lo[0]}{' (strict)' if lo[1] else ''} on line {lo[2]} and upper bound "
                    f"{hi[0]}{' (strict)' if hi[1] else ''} on line {hi[2]}{where}: the input set is empty",
                )
            if lo[1]:
                others.append(_unit(n, i, -_ONE, -lo[0]))
            if hi[1]:
                others.append(_unit(n, i, _ONE, hi[0]))
        inputs = InputSet(tuple(b[0] for b in lower), tuple(b[0] for b in upper), tuple(dict.fromkeys(others)))
        inputs = self._interned.setdefault(inputs, inputs)
        self._input_sets[id(node)] = inputs
        return inputs

    def _unsafe_of(self, node: _Node, n: int) -> tuple[Linear, ...]:
        if id(node) not in self._unsafe:
            self._unsafe[id(node)] = tuple(dict.fromkeys(self._linear(c, n) for c in _flatten(node)))
        return self._unsafe[id(node)]

    def _linear(self, c: _Constraint, n: int) -> Linear:
        if id(c) not in self._linears:
            coeffs = [_ZERO] * n
            for i, a in c.coeffs.items():
                coeffs[i] = a
            self._linears[id(c)] = Linear(tuple(coeffs), c.rhs, c.strict)
        return self._linears[id(c)]


def _join(nodes: list[_Node]) -> _Node:
    """One conjunction node for several; a single non-empty node is returned itself (shared)."""
    parts = [n for n in nodes if n]
    if not parts:
        return _EMPTY
    return parts[0] if len(parts) == 1 else tuple(parts)


def _unit(n: int, i: int, sign: Fraction, rhs: Fraction) -> Linear:
    """The strict half-space ``sign * x_i < rhs``."""
    coeffs = [_ZERO] * n
    coeffs[i] = sign
    return Linear(tuple(coeffs), rhs, strict=True)


# --------------------------------------------------------------------------------------
# public functions
# --------------------------------------------------------------------------------------


def parse_vnnlib(text: str, *, source: str = "", net: Any = None) -> Spec:
    """Read VNN-LIB text into an exact :class:`~exactmaso.prove.spec.Spec`.

    Parameters
    ----------
    text : str
        The property, at most ``MAX_FILE_BYTES`` characters.
    source : str
        A name for error messages and ``Spec.source`` (a file name).
    net : Network, optional
        When given, the numbers of ``X_i`` and ``Y_i`` must equal ``net.input_dim`` and
        ``net.output_dim``.

    Raises
    ------
    SpecError
        Malformed or unsupported text; the message names the problem and its line.
    ShapeError
        The variable counts disagree with ``net``.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_vnnlib takes the text as a str; got {type(text).__name__}")
    if len(text) > MAX_FILE_BYTES:
        raise SpecError(f"{source or 'the text'} has {len(text)} characters; the limit is MAX_FILE_BYTES = {MAX_FILE_BYTES}")
    spec = _Reader(source).read(text)
    _check_network(spec, net)
    return spec


def load_vnnlib(path: str | os.PathLike, net: Any = None) -> Spec:
    """Read a VNN-LIB property file (UTF-8 text, at most ``MAX_FILE_BYTES``) into a Spec.

    See :func:`parse_vnnlib`; a missing file raises :class:`FileNotFoundError`; a folder, an
    oversized, gzip-compressed or non-UTF-8 file raises :class:`~exactmaso.errors.SpecError`.
    """
    path = Path(path)
    if path.is_dir():
        raise SpecError(f"{path} is a folder; expected a VNN-LIB file")
    with open(path, "rb") as handle:
        raw = handle.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise SpecError(f"{path} is larger than MAX_FILE_BYTES = {MAX_FILE_BYTES} bytes; refusing to read it")
    if raw.startswith(_GZIP_MAGIC):
        raise SpecError(f"{path} is gzip-compressed; decompress it first (gunzip) and load the .vnnlib text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path}: not UTF-8 text at byte {exc.start}; expected a VNN-LIB file") from None
    return parse_vnnlib(text, source=str(path), net=net)


def _check_network(spec: Spec, net: Any) -> None:
    if net is None:
        return
    try:
        dims = {"inputs": (spec.num_inputs, net.input_dim, "X"), "outputs": (spec.num_outputs, net.output_dim, "Y")}
    except AttributeError:
        raise TypeError(f"net must be an exactmaso Network (with input_dim and output_dim); got {type(net).__name__}") from None
    where = f"{spec.source}: " if spec.source else ""
    for what, (count, expected, kind) in dims.items():
        if count != expected:
            attr = "input_dim" if kind == "X" else "output_dim"
            raise ShapeError(
                f"{where}the property declares {count} {what} ({kind}_0 to {kind}_{count - 1}); "
                f"the network has {attr} = {expected}"
            )
