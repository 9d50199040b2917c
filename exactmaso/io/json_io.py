"""Exact JSON files of a :class:`~exactmaso.maso.Network`.

The format is plain JSON with every rational written as a ``"p/q"`` (or ``"p"``) string, so
nothing is rounded on the way out or in::

    {"format": "exactmaso-network", "version": 1,
     "input_shape": [1, 8, 8],
     "masos": [{"A": [[["1/2", "-3"], ...], ...],    # K x R x D strings
                "B": [["0", "1/4"], ...]}, ...]}      # K x R strings

:func:`save` writes atomically (a temporary file in the same folder, then ``os.replace``),
so a crash never leaves a half-written model behind.  :func:`load` checks everything and
says what is wrong and where: ``"masos[1].A[3][0][2] is 'abc'; expected a 'p/q' string"``.
"""

from __future__ import annotations

import json
import math
import os
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelFileError, ShapeError
from ..maso import MASO, Network
from .._files import write_text_atomic
from ..numbers import fraction_to_str

__all__ = ["save", "load", "dumps", "loads", "ModelShapeError", "FORMAT", "VERSION"]

FORMAT = "exactmaso-network"
VERSION = 1

_RATIONAL = re.compile(r"-?[0-9]+(/[0-9]+)?")
_RATIONAL_ROW = re.compile(r"(?:-?[0-9]+(?:/[0-9]+)?,)*")


class ModelShapeError(ShapeError, ModelFileError):
    """A model file whose arrays have inconsistent shapes (both a ShapeError and a ModelFileError)."""


# ------------------------------------------------------------------------------------------
# writing
# ------------------------------------------------------------------------------------------


def _strings(arr: np.ndarray) -> list:
    """Nested lists of "p/q" strings of an object array of Fractions."""
    flat = [fraction_to_str(v) for v in arr.flat]
    out: Any = flat
    for size in reversed(arr.shape[1:]):
        out = [out[i:i + size] for i in range(0, len(out), size)]
    return out


def to_dict(net: Network) -> dict:
    """The JSON-ready dictionary of a network."""
    if not isinstance(net, Network):
        raise TypeError(f"expected an exactmaso Network; got {type(net).__name__}")
    return {
        "format": FORMAT,
        "version": VERSION,
        "input_shape": [int(s) for s in net.input_shape],
        "masos": [{"A": _strings(m.A), "B": _strings(m.B)} for m in net.masos],
    }


def dumps(net: Network) -> str:
    """The exact JSON text of a network."""
    return json.dumps(to_dict(net), separators=(",", ":"))


def save(net: Network, path: str | os.PathLike) -> None:
    """Write ``net`` to ``path`` as exact JSON, atomically.

    The text goes to a temporary file in the same folder, which then replaces ``path`` in
    one step: readers see the old file or the complete new one, never a partial one.

    Examples
    --------
    >>> import exactmaso as em, tempfile, os
    >>> net = em.mlp([[[1, -1]], [[2]]], [["1/3"], [0]])
    >>> with tempfile.TemporaryDirectory() as d:
    ...     save(net, os.path.join(d, "net.json"))
    ...     load(os.path.join(d, "net.json")) == net
    True
    """
    write_text_atomic(path, dumps(net))


# ------------------------------------------------------------------------------------------
# reading
# ------------------------------------------------------------------------------------------


def _parse_rational(value: Any, where: str) -> Fraction:
    if isinstance(value, str):
        text = value.strip()
        if _RATIONAL.fullmatch(text):
            num, _, den = text.partition("/")
            if den and int(den) == 0:
                raise ModelFileError(f"{where} is {value!r}, a division by zero; expected a 'p/q' string with q > 0")
            return Fraction(int(num), int(den) if den else 1)
        raise ModelFileError(f"{where} is {value!r:.60}; expected a 'p/q' string such as '-3/4' or '2'")
    if isinstance(value, bool):
        raise ModelFileError(f"{where} is the boolean {value!r}; expected a 'p/q' string")
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        if math.isnan(value):
            raise ModelFileError(f"{where} is NaN; expected a 'p/q' string")
        if math.isinf(value):
            raise ModelFileError(f"{where} is {value!r}; expected a 'p/q' string")
        raise ModelFileError(
            f"{where} is the JSON number {value!r}, which is not exact; expected a 'p/q' string"
        )
    raise ModelFileError(f"{where} is a JSON {type(value).__name__}; expected a 'p/q' string")


def _row(values: list, where: str, cache: dict[str, Fraction]) -> list[Fraction]:
    """Parse a list of scalars: one regex check for the whole row, then plain int parsing."""
    if all(type(v) is str for v in values) and _RATIONAL_ROW.fullmatch(",".join(values) + ","):
        out = []
        try:
            for v in values:
                hit = cache.get(v)
                if hit is None:
                    num, _, den = v.partition("/")
                    hit = cache[v] = Fraction(int(num), int(den)) if den else Fraction(int(num))
                out.append(hit)
            return out
        except ZeroDivisionError:
            pass  # located below
    return [_parse_rational(v, f"{where}[{i}]") for i, v in enumerate(values)]


def _nested(value: Any, depth: int, where: str, cache: dict[str, Fraction]) -> tuple[list[Fraction], tuple[int, ...]]:
    """Flatten a rectangular nested list of ``depth`` levels into Fractions and a shape."""
    if depth == 0:
        return [_parse_rational(value, where)], ()
    if isinstance(value, list) and depth == 1 and value and not any(isinstance(v, list) for v in value):
        return _row(value, where, cache), (len(value),)
    if not isinstance(value, list):
        raise ModelShapeError(
            f"{where} is a JSON {type(value).__name__}; expected a list nested {depth} deep"
        )
    if not value:
        raise ModelShapeError(f"{where} is an empty list; every dimension must be at least 1")
    flat: list[Fraction] = []
    inner: tuple[int, ...] | None = None
    for i, item in enumerate(value):
        sub, shape = _nested(item, depth - 1, f"{where}[{i}]", cache)
        if inner is None:
            inner = shape
        elif shape != inner:
            raise ModelShapeError(
                f"{where}[{i}] has shape {shape}; {where}[0] has shape {inner} (rows must have equal lengths)"
            )
        flat.extend(sub)
    assert inner is not None
    return flat, (len(value), *inner)


def _array(flat: list[Fraction], shape: tuple[int, ...]) -> np.ndarray:
    out = np.empty(len(flat), dtype=object)
    out[:] = flat
    return out.reshape(shape)


def from_dict(data: Any, *, source: str = "model") -> Network:
    """Build a network from the dictionary of an exact JSON model file."""
    if not isinstance(data, dict):
        raise ModelFileError(f"{source}: the top level is a JSON {type(data).__name__}; expected an object")
    fmt = data.get("format")
    if fmt != FORMAT:
        raise ModelFileError(f"{source}: format is {fmt!r}; expected {FORMAT!r}")
    version = data.get("version")
    if version != VERSION or isinstance(version, bool):
        raise ModelFileError(f"{source}: version is {version!r}; this exactmaso reads version {VERSION}")
    shape = data.get("input_shape")
    if (
        not isinstance(shape, list)
        or not shape
        or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in shape)
    ):
        raise ModelFileError(f"{source}: input_shape is {shape!r:.80}; expected a list of positive ints")
    masos_data = data.get("masos")
    if not isinstance(masos_data, list) or not masos_data:
        raise ModelFileError(f"{source}: masos is {masos_data!r:.80}; expected a non-empty list of layers")
    masos = []
    cache: dict[str, Fraction] = {}
    prev_units = math.prod(shape)
    for l, layer in enumerate(masos_data):
        where = f"{source}: masos[{l}]"
        if not isinstance(layer, dict) or "A" not in layer or "B" not in layer:
            raise ModelFileError(f"{where} is {layer!r:.80}; expected an object with keys 'A' and 'B'")
        A, a_shape = _nested(layer["A"], 3, f"{where}.A", cache)
        B, b_shape = _nested(layer["B"], 2, f"{where}.B", cache)
        if b_shape != a_shape[:2]:
            raise ModelShapeError(f"{where}.B has shape {b_shape}; A of shape {a_shape} needs B of shape {a_shape[:2]}")
        if a_shape[2] != prev_units:
            what = f"the input shape {tuple(shape)} has {prev_units} entries" if l == 0 else f"masos[{l - 1}] has {prev_units} units"
            raise ModelShapeError(f"{where}.A takes {a_shape[2]} inputs (shape {a_shape}); {what}")
        masos.append(MASO(_array(A, a_shape), _array(B, b_shape)))
        prev_units = a_shape[0]
    return Network.from_masos(masos, input_shape=tuple(shape))


def loads(text: str | bytes, *, source: str = "model") -> Network:
    """Read a network from exact JSON text."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        hint = " (the file looks truncated)" if exc.pos >= len(text.rstrip()) else ""
        raise ModelFileError(
            f"{source}: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}{hint}"
        ) from None
    except (UnicodeDecodeError, RecursionError) as exc:
        raise ModelFileError(f"{source}: not valid JSON: {exc}") from None
    return from_dict(data, source=source)


def load(path: str | os.PathLike) -> Network:
    """Read a network written by :func:`save`; every number is checked and taken exactly."""
    try:
        raw = Path(path).read_bytes()
    except IsADirectoryError:
        raise ModelFileError(f"{path} is a folder; expected an exactmaso JSON file") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ModelFileError(f"{path}: not UTF-8 text at byte {exc.start}; expected an exactmaso JSON file") from None
    return loads(text, source=str(path))
