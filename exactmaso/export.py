"""Export of partitions: TikZ pictures and exact JSON.

``tikz(part)`` builds a TikZ picture of a 2-D partition as a plain string (exact vertex
coordinates printed as decimals); ``json(part, path)`` writes every exact fact of a partition
(codes, polytopes, vertices, volumes, affine maps, adjacency) with rationals as ``"p/q"``
strings, so that a reader in any language can re-check it.
"""

from __future__ import annotations

import colorsys
import hashlib
import json as _json
import os
from fractions import Fraction
from typing import Any

import numpy as np

from ._files import write_text_atomic

from .numbers import fraction_to_str

__all__ = ["tikz", "write_tikz", "json", "to_dict", "decimal_string", "FORMAT"]

FORMAT = "exactmaso-partition"
"""The ``"format"`` field of partition JSON files (version 1)."""


# ------------------------------------------------------------------------------------------
# shared helpers
# ------------------------------------------------------------------------------------------


def decimal_string(value: Fraction, digits: int = 8) -> str:
    """``value`` rounded half-away-from-zero to ``digits`` decimals, trailing zeros dropped.

    The rounding is exact (integer arithmetic on the numerator and denominator).

    >>> decimal_string(Fraction(1, 3), 4), decimal_string(Fraction(-5, 2)), decimal_string(Fraction(7))
    ('0.3333', '-2.5', '7')
    """
    value = Fraction(value)
    sign = "-" if value < 0 else ""
    scaled = abs(value) * 10**digits
    units = (scaled.numerator * 2 + scaled.denominator) // (2 * scaled.denominator)
    whole, frac = divmod(units, 10**digits)
    if frac == 0:
        return f"{sign}{whole}" if whole else "0"
    text = f"{frac:0{digits}d}".rstrip("0")
    return f"{sign}{whole}.{text}"


def _angle_order(vertices: np.ndarray, center: np.ndarray) -> list[int]:
    """Indices of 2-D vertices sorted counter-clockwise around an interior point.

    Floats only order the vertices for drawing; the coordinates stay exact.
    """
    V = np.array([[float(v) for v in row] for row in vertices], dtype=float)
    c = np.array([float(v) for v in center], dtype=float)
    angles = np.arctan2(V[:, 1] - c[1], V[:, 0] - c[0])
    return [int(i) for i in np.argsort(angles, kind="stable")]


def polygon(region: Any) -> np.ndarray:
    """Exact vertices of a 2-D region in counter-clockwise order, shape (n, 2)."""
    V = np.asarray(region.vertices(), dtype=object)
    return V[_angle_order(V, region.point)]


def code_color(code: Any) -> tuple[float, float, float]:
    """A stable RGB colour (components in [0, 1]) derived from a hash of the code."""
    digest = hashlib.sha256(repr(code).encode()).digest()
    hue = int.from_bytes(digest[:4], "big") / 2**32
    sat = 0.35 + 0.3 * digest[4] / 255
    val = 0.75 + 0.2 * digest[5] / 255
    return colorsys.hsv_to_rgb(hue, sat, val)


def _check_2d(part: Any, what: str) -> None:
    dim = part.net.input_dim
    if dim != 2:
        from .errors import ShapeError

        raise ShapeError(f"{what} draws 2-D partitions; this partition lives in dimension {dim}")


# ------------------------------------------------------------------------------------------
# TikZ
# ------------------------------------------------------------------------------------------


def tikz(part: Any, *, digits: int = 8, width_cm: float = 8.0, standalone: bool = False) -> str:
    """A TikZ picture of a 2-D partition: one ``\\filldraw`` path per region.

    Parameters
    ----------
    part : Partition
        A partition of a 2-D domain (``em.regions`` of a network with two inputs).
    digits : int
        Decimals printed for each exact vertex coordinate (rounded exactly).
    width_cm : float
        Width of the domain in the picture; the aspect ratio is kept.
    standalone : bool
        Wrap the picture in a ``standalone`` LaTeX document that compiles on its own.

    Returns
    -------
    str
        Starts with a comment header (network, domain, region count); each region's path is
        preceded by a comment with its index and code and filled with the colour of its code.
    """
    _check_2d(part, "export.tikz")
    polys = [polygon(r) for r in part]
    xs = [v for P in polys for v in P[:, 0]]
    ys = [v for P in polys for v in P[:, 1]]
    x_lo, x_hi = (min(xs), max(xs)) if xs else (Fraction(0), Fraction(1))
    y_lo = min(ys) if ys else Fraction(0)
    scale = width_cm / float(x_hi - x_lo) if x_hi > x_lo else 1.0
    num = lambda v: decimal_string(v, digits)  # noqa: E731
    lines = [
        f"% exactmaso partition: {len(part)} linear regions of {part.net!r}",
        f"% domain x in [{num(x_lo)}, {num(x_hi)}], y from {num(y_lo)}; "
        f"coordinates are exact rationals rounded to {digits} decimals",
        "% exact values (p/q) of every vertex: exactmaso.export.json",
        f"\\begin{{tikzpicture}}[x={scale:.6g}cm, y={scale:.6g}cm, line join=round]",
    ]
    for r, P in zip(part, polys):
        red, green, blue = (int(round(255 * c)) for c in code_color(r.code))
        path = " -- ".join(f"({num(x)}, {num(y)})" for x, y in P)
        lines.append(f"  % region {r.index}: code {_code_text(r.code)}")
        lines.append(
            f"  \\filldraw[fill={{rgb,255:red,{red}; green,{green}; blue,{blue}}}, "
            f"draw=black!70, line width=0.2pt] {path} -- cycle;"
        )
    lines.append("\\end{tikzpicture}")
    body = "\n".join(lines) + "\n"
    if standalone:
        return "\\documentclass[tikz]{standalone}\n\\begin{document}\n" + body + "\\end{document}\n"
    return body


def write_tikz(part: Any, path: str | os.PathLike, **options: Any) -> None:
    """Write :func:`tikz` of ``part`` to ``path`` (atomically); options as in :func:`tikz`."""
    write_text_atomic(path, tikz(part, **options))


def _code_text(code: Any) -> str:
    return " | ".join("".join(str(c) for c in layer) if all(c < 10 for c in layer) else ",".join(map(str, layer)) for layer in code)


# ------------------------------------------------------------------------------------------
# JSON
# ------------------------------------------------------------------------------------------


def _q(value: Any) -> str:
    return fraction_to_str(Fraction(value))


def _qs(array: Any) -> list:
    arr = np.asarray(array, dtype=object)
    if arr.ndim == 0:
        return _q(arr.item())
    return [_qs(a) for a in arr] if arr.ndim > 1 else [_q(v) for v in arr]


def _domain_dict(domain: Any) -> dict:
    out: dict[str, Any] = {"type": type(domain).__name__}
    for name in ("lo", "hi", "A", "b"):
        value = getattr(domain, name, None)
        if value is not None:
            out[name] = _qs(value)
    if hasattr(domain, "volume"):
        out["volume"] = _q(domain.volume())
    return out


def to_dict(part: Any) -> dict:
    """The JSON-ready dictionary that :func:`json` writes (all rationals as ``"p/q"``)."""
    regions = []
    total = Fraction(0)
    for r in part:
        volume = Fraction(r.volume())
        total += volume
        vertices = polygon(r) if part.net.input_dim == 2 else np.asarray(r.vertices(), dtype=object)
        regions.append(
            {
                "index": int(r.index),
                "code": [list(map(int, layer)) for layer in r.code],
                "point": _qs(r.point),
                "polytope": {"A": _qs(r.polytope.A), "b": _qs(r.polytope.b)},
                "vertices": _qs(vertices),
                "volume": _q(volume),
                "affine": {"A": _qs(r.affine.A), "b": _qs(r.affine.b)},
            }
        )
    edges = []
    for i, j, data in sorted(part.graph.edges(data=True), key=lambda e: (min(e[0], e[1]), max(e[0], e[1]))):
        units = [list(map(int, u)) for u in data.get("units", ())]
        edges.append({"source": int(min(i, j)), "target": int(max(i, j)), "units": units})
    return {
        "format": FORMAT,
        "version": 1,
        "input_dim": int(part.net.input_dim),
        "output_dim": int(part.net.output_dim),
        "domain": _domain_dict(part.domain),
        "num_regions": len(regions),
        "total_volume": _q(total),
        "regions": regions,
        "edges": edges,
    }


def json(part: Any, path: str | os.PathLike) -> None:
    """Write the partition as exact JSON to ``path``, atomically (temp file + ``os.replace``).

    Layout: ``{"format": "exactmaso-partition", "version": 1, "input_dim", "output_dim",
    "domain", "num_regions", "total_volume", "regions": [{"index", "code", "point",
    "polytope": {"A", "b"}, "vertices", "volume", "affine": {"A", "b"}}], "edges":
    [{"source", "target", "units"}]}``.  Every rational is a ``"p/q"`` (or ``"p"``) string;
    2-D vertices are listed counter-clockwise.
    """
    write_text_atomic(path, _json.dumps(to_dict(part), indent=1) + "\n")


