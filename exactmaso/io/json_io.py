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
import sys
from fractions import Fraction
from typing import Any

import numpy as np

from ..errors import ModelFileError, ModelShapeError
from . import limits
from ..maso import MASO, Network
from .._files import write_text_atomic
from ..numbers import fraction_to_str

__all__ = ["save", "load", "dumps", "loads", "ModelShapeError", "FORMAT", "VERSION"]

FORMAT = "exactmaso-network"
VERSION = 1

_RATIONAL = re.compile(r"-?[0-9]+(/[0-9]+)?")
_RATIONAL_ROW = re.compile(r"(?:-?[0-9]+(?:/[0-9]+)?,)*")


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

_JSON_KEPT = b'"[]{}'
_JSON_DROP = bytes(c for c in range(256) if c not in _JSON_KEPT)


def _json_depth(raw: bytes) -> int:
    """The deepest nesting of lists and objects in JSON text, without parsing it.

    Escaped backslashes and quotes go first, so that the remaining quotes delimit strings;
    then only quotes and brackets are kept, empty strings dropped (an even number of quotes,
    so the parity before every other character is kept), and the brackets outside strings
    are summed.
    """
    kept = raw.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _JSON_DROP).replace(b'""', b"")
    if not kept:
        return 0
    chars = np.frombuffer(kept, dtype=np.uint8)
    quote = chars == ord('"')
    outside = (np.cumsum(quote) - quote) % 2 == 0
    step = np.isin(chars, np.frombuffer(b"[{", dtype=np.uint8)).astype(np.int64)
    step -= np.isin(chars, np.frombuffer(b"]}", dtype=np.uint8))
    step[~outside] = 0
    return int(np.cumsum(step).max(initial=0))


def _check_json_size(raw: bytes, source: str) -> None:
    """Refuse, before parsing, JSON text that is too large, holds too many values or nests
    too deeply."""
    limits.check_file_size(len(raw), source)
    # every list entry but the last of each list is followed by a comma; a network's lists
    # hold its numbers and the rows around them, at most twice as many values as numbers
    values = raw.count(b",") + 1
    most = 2 * limits.MAX_MASO_ENTRIES + 1000
    if values > most:
        raise ModelFileError(
            f"{source}: holds about {values:,} JSON values, more than the {most:,} a network of at most "
            f"{limits.MAX_MASO_ENTRIES:,} numbers needs (exactmaso.io.limits.MAX_MASO_ENTRIES); refused before parsing"
        )
    depth = _json_depth(raw)
    if depth > limits.MAX_NESTING:
        raise ModelFileError(
            f"{source}: JSON lists and objects nest {depth} deep; a network file nests 6 deep and at most "
            f"{limits.MAX_NESTING} is accepted (exactmaso.io.limits.MAX_NESTING)"
        )


def _preview(value: Any, depth: int = 2) -> str:
    """A short spelling of a JSON value for messages; never a full repr of a large value."""
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else f"{value[:40]!r}... ({len(value):,} characters)"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**30:
        return f"an integer of {len(str(abs(value)))} digits"
    if isinstance(value, list):
        if depth == 0:
            return f"[... {len(value)} item(s)]"
        items = [_preview(v, depth - 1) for v in value[:4]]
        more = f", ... {len(value)} items" if len(value) > 4 else ""
        return "[" + ", ".join(items) + more + "]"
    if isinstance(value, dict):
        keys = ", ".join(_preview(k) for k in list(value)[:6])
        return f"an object with keys [{keys}{', ...' if len(value) > 6 else ''}]"
    return repr(value)


def _int_of_digits(text: str, where: str) -> int:
    """``int(text)`` of a string of ASCII digits (with a sign), after the digit cap."""
    limits.check_digits(len(text.lstrip("-+")), where)
    try:
        return int(text)
    except ValueError:  # this Python's int_max_str_digits is below MAX_DIGITS
        raise ModelFileError(
            f"{where} has {len(text.lstrip('-+'))} digits, more than this Python converts "
            f"(sys.get_int_max_str_digits() = {sys.get_int_max_str_digits()})"
        ) from None


def _parse_rational(value: Any, where: str) -> Fraction:
    if isinstance(value, str):
        text = value.strip()
        if _RATIONAL.fullmatch(text):
            num, _, den = text.partition("/")
            q = _int_of_digits(den, where) if den else 1
            if q == 0:
                raise ModelFileError(f"{where} is {_preview(value)}, a division by zero; expected a 'p/q' string with q > 0")
            return Fraction(_int_of_digits(num, where), q)
        raise ModelFileError(f"{where} is {_preview(value)}; expected a 'p/q' string such as '-3/4' or '2'")
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
    if (
        all(type(v) is str for v in values)
        and max(map(len, values)) <= limits.MAX_DIGITS
        and _RATIONAL_ROW.fullmatch(",".join(values) + ",")
    ):
        out = []
        try:
            for v in values:
                hit = cache.get(v)
                if hit is None:
                    num, _, den = v.partition("/")
                    hit = cache[v] = Fraction(int(num), int(den)) if den else Fraction(int(num))
                out.append(hit)
            return out
        except (ZeroDivisionError, ValueError):
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
            first = where.rpartition(": ")[2]  # the path without the file name, said once already
            raise ModelShapeError(
                f"{where}[{i}] has shape {shape}; {first}[0] has shape {inner} (rows must have equal lengths)"
            )
        flat.extend(sub)
    assert inner is not None
    return flat, (len(value), *inner)


def _declared_shape(value: Any, depth: int) -> tuple[int, ...] | None:
    """The shape a nested list claims through its first entries (None if it claims none)."""
    shape = []
    for _ in range(depth):
        if not isinstance(value, list) or not value:
            return None
        shape.append(len(value))
        value = value[0]
    return tuple(shape)


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
        raise ModelFileError(f"{source}: format is {_preview(fmt)}; expected {FORMAT!r}")
    version = data.get("version")
    if version != VERSION or isinstance(version, bool):
        raise ModelFileError(f"{source}: version is {_preview(version)}; this exactmaso reads version {VERSION}")
    shape = data.get("input_shape")
    if (
        not isinstance(shape, list)
        or not shape
        or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in shape)
    ):
        raise ModelFileError(f"{source}: input_shape is {_preview(shape)}; expected a list of positive ints")
    limits.check_shape(shape, f"{source}: input_shape", cap="MAX_MASO_ENTRIES")
    masos_data = data.get("masos")
    if not isinstance(masos_data, list) or not masos_data:
        raise ModelFileError(f"{source}: masos is {_preview(masos_data)}; expected a non-empty list of layers")
    limits.check_layer_count(len(masos_data), source)
    count = limits.EntryCount(source, "MAX_MASO_ENTRIES")
    for l, layer in enumerate(masos_data):
        if isinstance(layer, dict):
            for key, depth in (("A", 3), ("B", 2)):
                claimed = _declared_shape(layer.get(key), depth)
                if claimed is not None:
                    entries = limits.check_shape(claimed, f"{source}: masos[{l}].{key}", cap="MAX_MASO_ENTRIES")
                    count.add(entries, f"masos[{l}].{key}")
    masos = []
    cache: dict[str, Fraction] = {}
    prev_units = math.prod(shape)
    for l, layer in enumerate(masos_data):
        where = f"{source}: masos[{l}]"
        if not isinstance(layer, dict) or "A" not in layer or "B" not in layer:
            raise ModelFileError(f"{where} is {_preview(layer)}; expected an object with keys 'A' and 'B'")
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


def _parse(text: str, source: str) -> Network:
    def parse_int(digits: str) -> int:
        return _int_of_digits(digits, f"{source}: a JSON integer")

    try:
        data = json.loads(text, parse_int=parse_int)
    except json.JSONDecodeError as exc:
        hint = " (the file looks truncated)" if exc.pos >= len(text.rstrip()) else ""
        raise ModelFileError(
            f"{source}: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}{hint}"
        ) from None
    except RecursionError:
        raise ModelFileError(f"{source}: not valid JSON: nested too deeply for the parser") from None
    return from_dict(data, source=source)


def _decode(raw: bytes, source: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ModelFileError(f"{source}: not UTF-8 text at byte {exc.start}; expected an exactmaso JSON file") from None


def loads(text: str | bytes, *, source: str = "model") -> Network:
    """Read a network from exact JSON text (checked against :mod:`exactmaso.io.limits` first)."""
    if isinstance(text, str):
        limits.check_file_size(len(text), source)
        _check_json_size(text.encode("utf-8", "surrogatepass"), source)
    elif isinstance(text, (bytes, bytearray)):
        _check_json_size(bytes(text), source)
        text = _decode(bytes(text), source)
    else:
        raise TypeError(f"loads takes JSON text as str or bytes; got {type(text).__name__}")
    return _parse(text, source)


def load(path: str | os.PathLike) -> Network:
    """Read a network written by :func:`save`; every number is checked and taken exactly.

    Sizes are checked before parsing (see :mod:`exactmaso.io.limits`).

    Raises
    ------
    ModelFileNotFoundError
        ``path`` does not exist (a :class:`ModelFileError` and a :class:`FileNotFoundError`).
    ModelFileError
        Not UTF-8 JSON, a wrong header, a bad number (located: ``masos[1].A[3][0][2]``), a size
        above a cap.
    ModelShapeError
        Ragged or inconsistent arrays (a :class:`ShapeError` and a :class:`ModelFileError`).
    """
    raw = limits.read_model_bytes(path, "an exactmaso JSON file")
    source = os.fspath(path)
    _check_json_size(raw, source)
    text = _decode(raw, source)
    del raw
    return _parse(text, source)
