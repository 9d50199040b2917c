"""Export of partitions: TikZ and SVG pictures, exact JSON (and reading it back), tables.

- :func:`tikz` builds a TikZ picture of a 2-D partition as a plain string: one filled closed
  path per region (per class piece for ``color_by="class"``) through the exact vertices
  rounded exactly to decimals, the exact values kept in comments, the decision boundary as
  paths; ``standalone=True`` makes a document that ``pdflatex`` compiles as it is.
- :func:`svg` is the same picture as an SVG string (plain string building).
- :func:`json` writes every exact fact of a partition (codes, polytopes, vertices, volumes,
  affine maps, adjacency) with rationals as ``"p/q"`` strings, so that a reader in any
  language can re-check it; :func:`load_json` / :func:`from_dict` read it back exactly into a
  :class:`PartitionData`, whose :meth:`~PartitionData.verify` re-checks it.
- :func:`table`, :func:`csv` and :func:`dataframe`: one row per region (code, exact volume,
  exact output ranges, the layer of the last split).

Colours are :mod:`exactmaso.colors`', shared with :mod:`exactmaso.plot`.
"""

from __future__ import annotations

import csv as _csv
import io as _io
import json as _json
import math
import os
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

import numpy as np

from ._files import write_text_atomic
from .boundary import class_split, convex_polygon
from .colors import Coloring, code_rgb, coloring, hex_color, rgb_float
from .errors import CertificateError, ModelFileError, ShapeError
from .numbers import fraction_to_str

__all__ = [
    "tikz",
    "write_tikz",
    "svg",
    "json",
    "to_dict",
    "from_dict",
    "load_json",
    "PartitionData",
    "RegionData",
    "table",
    "csv",
    "dataframe",
    "decimal_string",
    "polygon",
    "code_color",
    "FORMAT",
]

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


def polygon(region: Any) -> np.ndarray:
    """Exact vertices of a 2-D region in counter-clockwise order, shape (n, 2) (decided
    exactly: :func:`exactmaso.boundary.convex_polygon`)."""
    return convex_polygon(region.vertices())


def code_color(code: Any) -> tuple[float, float, float]:
    """A stable RGB colour (components in [0, 1]) derived from a hash of the code (the 8-bit
    :func:`exactmaso.colors.code_rgb` over 255)."""
    return rgb_float(code_rgb(code))


def _check_2d(part: Any, what: str) -> None:
    dim = part.net.input_dim
    if dim != 2:
        raise ShapeError(f"{what} draws 2-D partitions; this partition lives in dimension {dim}")


def _q(value: Any) -> str:
    return fraction_to_str(Fraction(value))


def _code_text(code: Any) -> str:
    return " | ".join("".join(str(c) for c in layer) if all(c < 10 for c in layer) else ",".join(map(str, layer))
                      for layer in code)


# ------------------------------------------------------------------------------------------
# the picture shared by TikZ and SVG
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Frame:
    """Where the picture's coordinates come from: printed ``((x - x0) / 10**k, (y - y0) / 10**k)``.

    For domains of moderate size near the origin ``x0 = y0 = k = 0`` and the printed numbers
    are the inputs themselves; otherwise the shift and scale keep them of order one, so that
    TeX's fixed-point dimensions (about 5 decimals, at most 16383 pt) hold them.
    """

    x_lo: Fraction
    x_hi: Fraction
    y_lo: Fraction
    y_hi: Fraction
    x0: Fraction
    y0: Fraction
    k: int

    @classmethod
    def of(cls, polys: Sequence[np.ndarray]) -> "_Frame":
        xs = [v for P in polys for v in P[:, 0]]
        ys = [v for P in polys for v in P[:, 1]]
        x_lo, x_hi, y_lo, y_hi = min(xs), max(xs), min(ys), max(ys)
        extent = max(x_hi - x_lo, y_hi - y_lo)
        k = 0 if Fraction(1, 16) <= extent <= 1000 else math.floor(math.log10(extent))
        unit = Fraction(10) ** k
        far = max(abs(x_lo), abs(x_hi), abs(y_lo), abs(y_hi)) / unit > 1000
        x0 = (x_lo / unit).__floor__() * unit if (far or k) else Fraction(0)
        y0 = (y_lo / unit).__floor__() * unit if (far or k) else Fraction(0)
        return cls(x_lo, x_hi, y_lo, y_hi, x0, y0, k)

    @property
    def is_identity(self) -> bool:
        return self.x0 == 0 and self.y0 == 0 and self.k == 0

    def map(self, x: Fraction, y: Fraction) -> tuple[Fraction, Fraction]:
        unit = Fraction(10) ** self.k
        return (x - self.x0) / unit, (y - self.y0) / unit


def _drawing(part: Any, color_by: str, output: int, cmap: str, boundary: bool) -> tuple[Coloring, list, list]:
    """The coloured items with their exact polygons, and the distinct boundary segments."""
    split = class_split(part) if (color_by == "class" or boundary) else None
    col = coloring(part, color_by, output=output, cmap=cmap, split=split)
    polys = [item.vertices if color_by == "class" else polygon(item) for item in col.items]
    segments = []
    if boundary:
        seen: set = set()
        for p in split.boundary:  # type: ignore[union-attr]
            key = frozenset(tuple(v) for v in p.vertices)
            if key not in seen:
                seen.add(key)
                V = p.vertices if len(p.vertices) == 2 else polygon(part[p.region])
                segments.append((p, V))
    return col, polys, segments


def _item_comment(item: Any, color_by: str) -> str:
    if color_by == "class":
        return f"region {item.region}, class {item.label} piece"
    return f"region {item.index}: code {_code_text(item.code)}"


def _exact_text(P: np.ndarray) -> str:
    return " -- ".join(f"({_q(x)}, {_q(y)})" for x, y in P)


# ------------------------------------------------------------------------------------------
# TikZ
# ------------------------------------------------------------------------------------------


def tikz(
    part: Any,
    *,
    color_by: str = "code",
    output: int = 0,
    cmap: str = "viridis",
    boundary: bool = True,
    standalone: bool = False,
    digits: int = 8,
    width_cm: float = 8.0,
    exact: bool = True,
) -> str:
    """A TikZ picture of a 2-D partition: one filled closed path per region.

    Parameters
    ----------
    part : Partition
        A partition of a 2-D domain (``em.regions`` of a network with two inputs).
    color_by : {"code", "class", "output", "layer", "volume", "norm"}
        The colours of :mod:`exactmaso.colors` (identical to :func:`exactmaso.plot.partition`'s
        for the same ``color_by``, ``output`` and ``cmap``).  ``"class"`` fills one path per
        class piece (:func:`exactmaso.boundary.class_pieces`) instead of one per region.
    boundary : bool
        Draw the exact decision boundary (:func:`exactmaso.boundary.decision_boundary`), one
        ``\\draw[boundary]`` path per distinct piece.
    standalone : bool
        Return a LaTeX document (``article`` with ``tikz`` and ``geometry``, the page cut to the
        picture: only texlive's base and pictures packages are needed) that ``pdflatex``
        compiles as it is; else the bare ``tikzpicture``.
    digits : int
        Decimals printed for each coordinate (rounded exactly).
    width_cm : float
        Width of the domain in the picture; the aspect ratio is kept.
    exact : bool
        Keep every exact vertex (``p/q``) in a comment above its path.

    Returns
    -------
    str
        Starts with a comment header (network, domain box, colouring, coordinates); each
        region's (or piece's) path is preceded by a comment with its index and code (or
        class) and, with ``exact``, its exact vertices.  The picture's coordinates are the
        inputs themselves, except for domains far from the origin or of extreme size, where
        the header gives the shift and power of ten applied (so TeX's dimensions hold them).

    Raises
    ------
    ShapeError
        The partition is not 2-D, or ``output`` is not an output.
    exactmaso.errors.OptionError
        ``color_by`` or ``cmap`` unknown (a ValueError).
    """
    _check_2d(part, "export.tikz")
    col, polys, segments = _drawing(part, color_by, output, cmap, boundary)
    frame = _Frame.of(polys)
    unit = Fraction(10) ** frame.k
    scale = width_cm / float((frame.x_hi - frame.x_lo) / unit) if frame.x_hi > frame.x_lo else 1.0
    num = lambda v: decimal_string(v, digits)  # noqa: E731

    def path(P: np.ndarray) -> str:
        return " -- ".join("({}, {})".format(*map(num, frame.map(x, y))) for x, y in P)

    what = f"{len(col.items)} class pieces of " if color_by == "class" else ""
    lines = [
        f"% exactmaso partition: {what}{len(part)} linear regions of {part.net!r}",
        f"% domain x0 in [{num(frame.x_lo)}, {num(frame.x_hi)}], x1 in [{num(frame.y_lo)}, {num(frame.y_hi)}]; "
        f"coordinates are exact rationals rounded to {digits} decimals",
        _frame_comment(frame, num),
        f"% fill: color_by={color_by!r}" + (f" ({col.label}, {col.cmap} from {_q(col.lo)} to {_q(col.hi)})"
                                            if col.is_scaled else f" ({col.label})"),
        "% exact values (p/q): " + ("the comment above each path; " if exact else "") + "exactmaso.export.json",
        f"\\begin{{tikzpicture}}[x={scale:.6g}cm, y={scale:.6g}cm, line join=round,",
        "  region/.style={draw=black!70, line width=0.2pt},",
        "  boundary/.style={draw=black, line width=1pt, line cap=round}]",
    ]
    for item, P, color in zip(col.items, polys, col.colors):
        red, green, blue = color
        lines.append(f"  % {_item_comment(item, color_by)}")
        if exact:
            lines.append(f"  % exact: {_exact_text(P)}")
        lines.append(f"  \\filldraw[region, fill={{rgb,255:red,{red}; green,{green}; blue,{blue}}}] {path(P)} -- cycle;")
    if segments:
        lines.append(f"  % decision boundary: {len(segments)} pieces")
        for piece, V in segments:
            lines.append(f"  % region {piece.region}, outputs {piece.outputs}" + (f"; exact: {_exact_text(V)}" if exact else ""))
            closing = " -- cycle" if len(V) > 2 else ""
            lines.append(f"  \\draw[boundary] {path(V)}{closing};")
    lines.append("\\end{tikzpicture}")
    body = "\n".join(lines) + "\n"
    if not standalone:
        return body
    margin = 0.3
    height_cm = width_cm * float((frame.y_hi - frame.y_lo) / (frame.x_hi - frame.x_lo)) if frame.x_hi > frame.x_lo else width_cm
    return (
        "\\documentclass{article}\n"
        "\\usepackage{tikz}\n"
        f"\\usepackage[paperwidth={width_cm + 2 * margin + 0.2:.4g}cm, paperheight={height_cm + 2 * margin + 0.2:.4g}cm, "
        f"margin={margin}cm]{{geometry}}\n"
        "\\pagestyle{empty}\n"
        "\\begin{document}\n"
        "\\noindent\n"
        + body
        + "\\end{document}\n"
    )


def _frame_comment(frame: _Frame, num: Any) -> str:
    if frame.is_identity:
        return "% picture coordinates are the inputs (x0, x1)"
    return (f"% picture coordinates are ((x0 - {num(frame.x0)}) / 10^{frame.k}, (x1 - {num(frame.y0)}) / 10^{frame.k})"
            " (shifted and scaled so that TeX's dimensions hold them)")


def write_tikz(part: Any, path: str | os.PathLike, **options: Any) -> None:
    """Write :func:`tikz` of ``part`` to ``path`` (atomically); options as in :func:`tikz`."""
    write_text_atomic(path, tikz(part, **options))


# ------------------------------------------------------------------------------------------
# SVG
# ------------------------------------------------------------------------------------------


def svg(
    part: Any,
    path: str | os.PathLike | None = None,
    *,
    color_by: str = "code",
    output: int = 0,
    cmap: str = "viridis",
    boundary: bool = True,
    width_px: float = 480.0,
    digits: int = 3,
    exact: bool = False,
) -> str:
    """An SVG picture of a 2-D partition (plain string building, no drawing library).

    One ``<polygon>`` per region (per class piece for ``color_by="class"``) with the colours
    of :func:`tikz` and :func:`exactmaso.plot.partition`, each with a ``<title>`` (index and
    code, or class); the decision boundary as ``<polyline>`` elements of class
    ``"boundary"``.  Coordinates are pixels: ``x_px = (x0 - lo) s``, ``y_px = (hi - x1) s``
    (SVG's y axis points down), rounded exactly to ``digits`` decimals; with ``exact`` each
    polygon carries its exact vertices in a ``data-exact`` attribute.  Written to ``path``
    (atomically) when given; the text is returned either way.
    """
    _check_2d(part, "export.svg")
    col, polys, segments = _drawing(part, color_by, output, cmap, boundary)
    frame = _Frame.of(polys)
    w = frame.x_hi - frame.x_lo
    s = Fraction(width_px) / w if w > 0 else Fraction(1)
    height = (frame.y_hi - frame.y_lo) * s
    num = lambda v: decimal_string(v, digits)  # noqa: E731

    def points(P: np.ndarray) -> str:
        return " ".join(f"{num((x - frame.x_lo) * s)},{num((frame.y_hi - y) * s)}" for x, y in P)

    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{num(Fraction(width_px))}" height="{num(height)}" '
        f'viewBox="0 0 {num(Fraction(width_px))} {num(height)}">',
        f"<!-- exactmaso partition: {len(part)} linear regions; color_by={color_by!r}; "
        f"x0 in [{_q(frame.x_lo)}, {_q(frame.x_hi)}], x1 in [{_q(frame.y_lo)}, {_q(frame.y_hi)}] -->",
        '<g stroke="#4d4d4d" stroke-width="0.4" stroke-linejoin="round">',
    ]
    for item, P, color in zip(col.items, polys, col.colors):
        extra = f' data-exact="{_exact_text(P)}"' if exact else ""
        out.append(f'<polygon points="{points(P)}" fill="{hex_color(color)}"{extra}>'
                   f"<title>{_item_comment(item, color_by)}</title></polygon>")
    out.append("</g>")
    if segments:
        out.append('<g class="boundary" fill="none" stroke="black" stroke-width="1.6" stroke-linecap="round">')
        for piece, V in segments:
            closed = np.vstack([V, V[:1]]) if len(V) > 2 else V
            out.append(f'<polyline class="boundary" points="{points(closed)}">'
                       f"<title>region {piece.region}, outputs {piece.outputs}</title></polyline>")
        out.append("</g>")
    out.append("</svg>")
    text = "\n".join(out) + "\n"
    if path is not None:
        write_text_atomic(path, text)
    return text


# ------------------------------------------------------------------------------------------
# JSON
# ------------------------------------------------------------------------------------------


def _qs(array: Any) -> Any:
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

    Schema (version 1; every rational is a string ``"p/q"`` or ``"p"``, lowest terms)::

        {"format": "exactmaso-partition",          always this string
         "version": 1,
         "input_dim": D, "output_dim": C,          ints
         "domain": {"type": "Box" | "Polytope",
                    "lo": [D], "hi": [D],          Box only
                    "A": [[D] x m], "b": [m],      the domain {x : A x <= b}
                    "volume": q},
         "num_regions": n,                         int, = len(regions)
         "total_volume": q,                        the sum of the regions' volumes
         "regions": [                              in enumeration order, index = position
           {"index": i,
            "code": [[int] per unit] per layer,    the arg-max piece of every unit
            "point": [D],                          strictly inside the region
            "polytope": {"A": [[D] x f], "b": [f]},  irredundant: {x : A x <= b}
            "vertices": [[D] x v],                 exact; counter-clockwise in 2-D
            "volume": q,
            "affine": {"A": [[D] x C], "b": [C]}}, net(x) = A x + b on the region
           ...],
         "edges": [{"source": i, "target": j,      regions sharing a (D-1)-face, i < j,
                    "units": [[layer, unit], ...]}, ...]}   the units whose boundary holds it

    :func:`load_json` reads it back exactly; :meth:`PartitionData.verify` re-checks it.
    """
    write_text_atomic(path, _json.dumps(to_dict(part), indent=1) + "\n")


@dataclass(frozen=True, slots=True)
class RegionData:
    """One region as read from a partition file: exact tuples of Fractions (compare with ``==``)."""

    index: int
    code: tuple[tuple[int, ...], ...]
    point: tuple[Fraction, ...]
    A: tuple[tuple[Fraction, ...], ...]        # the region {x : A x <= b}
    b: tuple[Fraction, ...]
    vertices: tuple[tuple[Fraction, ...], ...]
    volume: Fraction
    affine_A: tuple[tuple[Fraction, ...], ...]  # net(x) = affine_A x + affine_b on the region
    affine_b: tuple[Fraction, ...]


@dataclass(frozen=True, slots=True)
class PartitionData:
    """A partition file read back (:func:`load_json`, :func:`from_dict`): every field exact.

    Two reads of files with the same content are ``==``, and
    ``from_dict(to_dict(part))`` equals ``load_json`` of ``json(part, path)``.  The domain is
    kept as its fields: ``domain_type``, ``domain_A``, ``domain_b`` (``{x : A x <= b}``),
    ``domain_lo``/``domain_hi`` for boxes (else None) and ``domain_volume``.
    """

    input_dim: int
    output_dim: int
    domain_type: str
    domain_A: tuple[tuple[Fraction, ...], ...]
    domain_b: tuple[Fraction, ...]
    domain_lo: tuple[Fraction, ...] | None
    domain_hi: tuple[Fraction, ...] | None
    domain_volume: Fraction
    total_volume: Fraction
    regions: tuple[RegionData, ...]
    edges: tuple[tuple[int, int, tuple[tuple[int, int], ...]], ...]

    def __len__(self) -> int:
        return len(self.regions)

    def to_dict(self) -> dict:
        """The file's dictionary again (``from_dict(d).to_dict() == d`` for a file ``json`` wrote)."""
        domain: dict[str, Any] = {"type": self.domain_type}
        if self.domain_lo is not None:
            domain["lo"], domain["hi"] = _qs(self.domain_lo), _qs(self.domain_hi)
        domain.update(A=_qs(self.domain_A), b=_qs(self.domain_b), volume=_q(self.domain_volume))
        return {
            "format": FORMAT, "version": 1, "input_dim": self.input_dim, "output_dim": self.output_dim,
            "domain": domain, "num_regions": len(self.regions), "total_volume": _q(self.total_volume),
            "regions": [{"index": r.index, "code": [list(c) for c in r.code], "point": _qs(r.point),
                         "polytope": {"A": _qs(r.A), "b": _qs(r.b)}, "vertices": _qs(r.vertices),
                         "volume": _q(r.volume), "affine": {"A": _qs(r.affine_A), "b": _qs(r.affine_b)}}
                        for r in self.regions],
            "edges": [{"source": i, "target": j, "units": [list(u) for u in units]} for i, j, units in self.edges],
        }

    def verify(self, net: Any = None) -> None:
        """Re-check the file's claims exactly, from its own numbers (and ``net`` when given).

        Each point is strictly inside its region; each vertex satisfies the region's rows with
        at least D of them tight; the volumes sum to ``total_volume`` and to the domain's
        volume; edges join distinct existing regions.  With ``net``: ``net(point)`` equals the
        region's affine map at the point and ``net.code(point)`` is the region's code.
        Raises :class:`~exactmaso.errors.CertificateError` naming the first failure.
        """
        D = self.input_dim
        total = Fraction(0)
        for r in self.regions:
            slack = [c - sum(a * x for a, x in zip(row, r.point)) for row, c in zip(r.A, r.b)]
            if not all(s > 0 for s in slack):
                raise CertificateError(f"region {r.index}: its point is not strictly inside its polytope")
            for v in r.vertices:
                vals = [c - sum(a * x for a, x in zip(row, v)) for row, c in zip(r.A, r.b)]
                if any(s < 0 for s in vals) or sum(1 for s in vals if s == 0) < D:
                    raise CertificateError(f"region {r.index}: {[str(t) for t in v]} is not a vertex of its polytope")
            total += r.volume
            if net is not None:
                value = [sum(a * x for a, x in zip(row, r.point)) + c for row, c in zip(r.affine_A, r.affine_b)]
                if value != list(net(list(r.point))):
                    raise CertificateError(f"region {r.index}: the affine map differs from the network at its point")
                if tuple(tuple(c) for c in net.code(list(r.point))) != r.code:
                    raise CertificateError(f"region {r.index}: the network's code at its point is not the region's")
        if total != self.total_volume or total != self.domain_volume:
            raise CertificateError(f"the volumes sum to {total}; the file says {self.total_volume}, "
                                   f"the domain's volume is {self.domain_volume}")
        n = len(self.regions)
        for i, j, _ in self.edges:
            if not (0 <= i < j < n):
                raise CertificateError(f"edge ({i}, {j}) does not join two regions 0 .. {n - 1} with source < target")


def _where_error(where: str, message: str) -> ModelFileError:
    return ModelFileError(f"{where}: {message}")


def _fraction(value: Any, where: str) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _where_error(where, f"is {value!r:.60}; expected a rational as a 'p/q' string")
    try:
        return Fraction(value.strip()) if isinstance(value, str) else Fraction(value)
    except (ValueError, ZeroDivisionError):
        raise _where_error(where, f"is {value!r:.60}; expected a rational as a 'p/q' string") from None


def _vector(value: Any, where: str, n: int | None = None) -> tuple[Fraction, ...]:
    if not isinstance(value, list) or (n is not None and len(value) != n):
        want = f"a list of {n} rationals" if n is not None else "a list of rationals"
        raise _where_error(where, f"is {str(value)[:60]}; expected {want}")
    return tuple(_fraction(v, f"{where}[{i}]") for i, v in enumerate(value))


def _matrix(value: Any, where: str, ncols: int) -> tuple[tuple[Fraction, ...], ...]:
    if not isinstance(value, list):
        raise _where_error(where, f"is {str(value)[:60]}; expected a list of rows")
    return tuple(_vector(row, f"{where}[{i}]", ncols) for i, row in enumerate(value))


def _field(data: dict, key: str, where: str) -> Any:
    if not isinstance(data, dict) or key not in data:
        raise _where_error(where, f"has no {key!r}")
    return data[key]


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _where_error(where, f"is {value!r:.60}; expected an integer")
    return value


def from_dict(data: Any, *, source: str = "partition") -> PartitionData:
    """Read the dictionary of a partition file (see :func:`json` for the schema) exactly.

    Raises :class:`~exactmaso.errors.ModelFileError` (a ValueError) naming the first field
    that is missing or malformed.
    """
    if not isinstance(data, dict):
        raise _where_error(source, f"is a {type(data).__name__}; expected a JSON object")
    if data.get("format") != FORMAT:
        raise _where_error(source, f"format is {data.get('format')!r:.60}; expected {FORMAT!r}")
    if data.get("version") != 1:
        raise _where_error(source, f"version is {data.get('version')!r:.20}; this reader knows version 1")
    D = _int(_field(data, "input_dim", source), f"{source}: input_dim")
    C = _int(_field(data, "output_dim", source), f"{source}: output_dim")
    dom = _field(data, "domain", source)
    dw = f"{source}: domain"
    lo = _vector(dom["lo"], f"{dw}.lo", D) if isinstance(dom, dict) and "lo" in dom else None
    hi = _vector(dom["hi"], f"{dw}.hi", D) if isinstance(dom, dict) and "hi" in dom else None
    regions_data = _field(data, "regions", source)
    if not isinstance(regions_data, list):
        raise _where_error(f"{source}: regions", "is not a list")
    if _int(_field(data, "num_regions", source), f"{source}: num_regions") != len(regions_data):
        raise _where_error(f"{source}: num_regions", f"is {data['num_regions']}; the file lists {len(regions_data)} regions")
    regions = []
    for i, r in enumerate(regions_data):
        w = f"{source}: regions[{i}]"
        if _int(_field(r, "index", w), f"{w}.index") != i:
            raise _where_error(f"{w}.index", f"is {r['index']}; expected {i} (regions are listed in order)")
        code = _field(r, "code", w)
        if not isinstance(code, list) or not all(isinstance(c, list) for c in code):
            raise _where_error(f"{w}.code", "is not a list of lists of integers")
        poly, aff = _field(r, "polytope", w), _field(r, "affine", w)
        regions.append(RegionData(
            index=i,
            code=tuple(tuple(_int(v, f"{w}.code") for v in c) for c in code),
            point=_vector(_field(r, "point", w), f"{w}.point", D),
            A=_matrix(_field(poly, "A", f"{w}.polytope"), f"{w}.polytope.A", D),
            b=_vector(_field(poly, "b", f"{w}.polytope"), f"{w}.polytope.b"),
            vertices=_matrix(_field(r, "vertices", w), f"{w}.vertices", D),
            volume=_fraction(_field(r, "volume", w), f"{w}.volume"),
            affine_A=_matrix(_field(aff, "A", f"{w}.affine"), f"{w}.affine.A", D),
            affine_b=_vector(_field(aff, "b", f"{w}.affine"), f"{w}.affine.b", C),
        ))
        if len(regions[-1].A) != len(regions[-1].b) or len(regions[-1].affine_A) != C:
            raise _where_error(w, "polytope A and b, or affine A and the outputs, have different lengths")
    edges = []
    for k, e in enumerate(_field(data, "edges", source)):
        w = f"{source}: edges[{k}]"
        units = _field(e, "units", w)
        if not isinstance(units, list) or not all(isinstance(u, list) and len(u) == 2 for u in units):
            raise _where_error(f"{w}.units", "is not a list of [layer, unit] pairs")
        edges.append((_int(_field(e, "source", w), f"{w}.source"), _int(_field(e, "target", w), f"{w}.target"),
                      tuple((_int(u[0], f"{w}.units"), _int(u[1], f"{w}.units")) for u in units)))
    return PartitionData(
        input_dim=D, output_dim=C,
        domain_type=str(_field(dom, "type", dw)),
        domain_A=_matrix(_field(dom, "A", dw), f"{dw}.A", D),
        domain_b=_vector(_field(dom, "b", dw), f"{dw}.b"),
        domain_lo=lo, domain_hi=hi,
        domain_volume=_fraction(_field(dom, "volume", dw), f"{dw}.volume"),
        total_volume=_fraction(_field(data, "total_volume", source), f"{source}: total_volume"),
        regions=tuple(regions), edges=tuple(edges),
    )


def load_json(path: str | os.PathLike) -> PartitionData:
    """Read a file written by :func:`json` exactly (the size cap of the model readers applies:
    :data:`exactmaso.io.limits.MAX_FILE_BYTES`)."""
    from .io.limits import read_model_bytes

    source = os.fspath(path)
    raw = read_model_bytes(path, "a partition file")
    try:
        data = _json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ModelFileError(f"{source}: not a JSON partition file ({type(exc).__name__}: {exc})") from None
    return from_dict(data, source=source)


# ------------------------------------------------------------------------------------------
# tables
# ------------------------------------------------------------------------------------------


def _last_splits(part: Any) -> list[int | None]:
    """Per region, the last layer that split the cell holding it: the largest ``l`` whose cell
    of layers ``0 .. l-1`` (the region's ``code[:l]``) holds regions of two codes at layer
    ``l``; None when no layer splits (the domain is one region)."""
    L = len(part.net.masos)
    children: list[dict] = [{} for _ in range(L)]
    for r in part:
        for l in range(L):
            children[l].setdefault(r.code[:l], set()).add(r.code[l])
    out = []
    for r in part:
        split = [l for l in range(L) if len(children[l][r.code[:l]]) > 1]
        out.append(split[-1] if split else None)
    return out


def table(part: Any) -> list[dict]:
    """One row per region, exact values as ``"p/q"`` strings.

    Columns: ``region``; ``code`` (per layer the units' pieces, layers separated by ``|``);
    ``volume`` (exact) and ``volume_float``; ``last_split_layer`` (see below); for each output
    ``j``: ``output{j}_min`` and ``output{j}_max`` (exact: the output is affine on the region,
    so its extremes are at vertices) and their ``_float`` values.  The last split is the
    largest layer ``l`` whose units cut the cell of layers ``0 .. l-1`` holding the region
    (None when the domain is one region).
    """
    C = part.net.output_dim
    rows = []
    for r, last in zip(part, _last_splits(part)):
        V = r.vertices()
        A, b = r.affine.A, r.affine.b
        row: dict[str, Any] = {"region": r.index, "code": _code_text(r.code), "volume": _q(r.volume()),
                               "volume_float": float(r.volume()), "last_split_layer": last}
        for j in range(C):
            vals = [sum((a * x for a, x in zip(A[j], v)), Fraction(0)) + b[j] for v in V]
            lo, hi = min(vals), max(vals)
            row.update({f"output{j}_min": _q(lo), f"output{j}_max": _q(hi),
                        f"output{j}_min_float": float(lo), f"output{j}_max_float": float(hi)})
        rows.append(row)
    return rows


def csv(part: Any, path: str | os.PathLike) -> None:
    """Write :func:`table` of ``part`` as CSV (a header row, then one row per region),
    atomically; exact values stay ``"p/q"`` strings, a missing last split is empty."""
    rows = table(part)
    buf = _io.StringIO()
    fields = list(rows[0]) if rows else ["region", "code", "volume", "volume_float", "last_split_layer"]
    writer = _csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(path, buf.getvalue())


def dataframe(part: Any) -> Any:
    """:func:`table` of ``part`` as a pandas DataFrame (pandas is imported here, on demand).

    Raises ImportError saying how to install pandas when it is missing.
    """
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("exactmaso.export.dataframe needs pandas: pip install pandas "
                          "(exactmaso.export.csv and table work without it)") from None
    return pd.DataFrame(table(part))
