"""Numbers and text for people to read: short decimals of exact values, and shortened text.

Exact values stay exact everywhere else; these helpers only decide how a value is *shown* in a
repr or a printed table (the exact value is always one attribute or one ``--exact`` away).

>>> from fractions import Fraction
>>> short_decimal(Fraction(777, 2048)), short_decimal(Fraction(-557, 512)), short_decimal(4)
('0.379395', '-1.08789', '4')
>>> short_decimal(Fraction(-557, 512), rounding="down"), short_decimal(Fraction(10) ** 400 / 3)
('-1.0879', '3.33333e+399')
>>> shorten("x" * 30, 12)
'xxxxxxxxx...'
"""

from __future__ import annotations

import decimal
from fractions import Fraction
from typing import Any, Iterable

__all__ = ["short_decimal", "shorten", "code_text", "affine_text", "brief", "SIGNIFICANT_DIGITS"]

SIGNIFICANT_DIGITS = 6
"""Significant digits of the decimals that reprs and the command line print."""

_ROUNDING = {"nearest": decimal.ROUND_HALF_EVEN, "down": decimal.ROUND_FLOOR, "up": decimal.ROUND_CEILING}


def _as_fraction(value: Any) -> Fraction | None:
    """``value`` as a Fraction when it is rational (Fraction, int, float, sympy Rational)."""
    if isinstance(value, (Fraction, int)) and not isinstance(value, bool):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(value) if value == value and abs(value) != float("inf") else None
    is_rational = getattr(value, "is_Rational", False)
    if is_rational:
        return Fraction(int(value.p), int(value.q))
    try:  # numpy scalars
        import numpy as np

        if isinstance(value, np.integer):
            return Fraction(int(value))
        if isinstance(value, np.floating) and np.isfinite(value):
            return Fraction(float(value))
    except ImportError:  # pragma: no cover - numpy is a dependency
        pass
    return None


def short_decimal(value: Any, digits: int = SIGNIFICANT_DIGITS, *, rounding: str = "nearest") -> str:
    """``value`` with ``digits`` significant digits, rounded exactly.

    Parameters
    ----------
    value : Fraction, int, float, sympy number or expression
        Rationals are rounded in exact arithmetic (any size: ``10**400 / 3`` prints as
        ``3.33333e+399``); other real sympy expressions (``sqrt(2)/3``) are evaluated to
        ``digits + 10`` digits first.
    digits : int
        Significant digits.
    rounding : {"nearest", "down", "up"}
        ``"down"`` rounds towards minus infinity and ``"up"`` towards plus infinity, so that a
        printed lower (upper) bound is still a lower (upper) bound.

    Returns
    -------
    str
        In ``%g`` style: trailing zeros dropped, the exponent form below 1e-5 and from
        ``10**digits`` on.
    """
    if rounding not in _ROUNDING:
        raise ValueError(f"rounding is {rounding!r}; expected one of {', '.join(_ROUNDING)}")
    q = _as_fraction(value)
    context = decimal.Context(prec=digits, rounding=_ROUNDING[rounding], Emax=decimal.MAX_EMAX,
                              Emin=decimal.MIN_EMIN)
    if q is None:
        import sympy

        text = str(sympy.N(value, digits + 10))
        try:
            number = context.create_decimal(text)
        except decimal.InvalidOperation:
            return text  # not a real number: show sympy's text
    else:
        if q.denominator == 1 and len(str(abs(q.numerator))) <= digits:
            return str(q.numerator)
        number = context.divide(decimal.Decimal(q.numerator), decimal.Decimal(q.denominator))
    return _g_format(number, digits)


def _g_format(number: decimal.Decimal, digits: int) -> str:
    if number.is_zero():
        return "0"
    exponent = number.adjusted()
    if -5 <= exponent < digits:
        text = f"{number:f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    mantissa = f"{number.scaleb(-exponent):.{digits - 1}f}"
    mantissa = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
    return f"{mantissa}e{exponent:+03d}"


def _is_number(value: Any) -> bool:
    return _as_fraction(value) is not None or getattr(value, "is_number", False) is True


def brief(value: Any, *, limit: int = 4, digits: int = SIGNIFICANT_DIGITS) -> tuple[str, bool]:
    """A short text for one attribute of a result, and whether it hides exact digits.

    Numbers print as :func:`short_decimal`; sequences (tuples, lists, arrays, nested) show at
    most ``limit`` entries; anything else its ``repr``, cut to 40 characters.  The flag is True
    when the text is not the exact value (a number was rounded or entries were left out).

    >>> from fractions import Fraction
    >>> brief(Fraction(1, 4)), brief((Fraction(1, 3), 2)), brief("inf")
    (('0.25', False), ('(0.333333, 2)', True), ("'inf'", False))
    """
    if value is None or isinstance(value, (bool, str)):
        return shorten(repr(value), 40), False
    if isinstance(value, float):
        return short_decimal(value, digits), False  # a measurement (seconds, a float twin), not a claim
    if _is_number(value):
        text = short_decimal(value, digits)
        q = _as_fraction(value)
        return text, q is None or Fraction(text) != q
    if hasattr(value, "tolist") and not isinstance(value, (tuple, list)):
        value = value.tolist()
    if isinstance(value, (tuple, list)):
        parts = [brief(v, limit=limit, digits=digits) for v in value[:limit]]
        more = f", ... ({len(value)} entries)" if len(value) > limit else ""
        text = "(" + ", ".join(t for t, _ in parts) + ("," if len(value) == 1 else "") + more + ")"
        return text, bool(more) or any(r for _, r in parts)
    return shorten(repr(value), 40), False


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in ``...`` when cut."""
    return text if len(text) <= limit else text[: max(limit - 3, 0)] + "..."


def code_text(code: Any, limit: int | None = None) -> str:
    """A network code as text, one group of digits per layer: ``0110 | 10 | 0``.

    Units with ten or more pieces are written with commas (``3,11,0``); with ``limit`` the text
    is cut to that many characters (:func:`shorten`).
    """
    text = " | ".join(
        "".join(map(str, layer)) if all(0 <= c < 10 for c in layer) else ",".join(map(str, layer)) for layer in code
    )
    return text if limit is None else shorten(text, limit)


def affine_text(coefficients: Iterable[Any], offset: Any, number: Any = short_decimal) -> str:
    """``a0 x0 - a1 x1 + ... + b`` with zero terms left out; ``number`` prints one value's size."""
    terms = []
    for d, a in enumerate(coefficients):
        a = Fraction(a)
        if a:
            terms.append(("-" if a < 0 else "+", f"{number(abs(a))} x{d}"))
    b = Fraction(offset)
    if b or not terms:
        terms.append(("-" if b < 0 else "+", number(abs(b))))
    first_sign, first = terms[0]
    text = ("-" if first_sign == "-" else "") + first
    return text + "".join(f" {sign} {term}" for sign, term in terms[1:])
