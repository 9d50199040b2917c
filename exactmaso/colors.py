"""Colours of partition figures, shared by matplotlib (:mod:`exactmaso.plot`) and the TikZ and
SVG exports (:mod:`exactmaso.export`), so that one ``color_by`` gives identical colours in all.

Every colour is an 8-bit RGB triple (what TikZ's ``rgb,255`` and SVG's ``rgb()`` hold); the
matplotlib figures use the same triples divided by 255.  The scalar behind a colour is exact:

- ``"output"``: the mean of output ``output`` over the region.  The output is affine there, so
  its mean is its value at the region's centroid, an exact rational (the polygon centroid by
  the shoelace formula in 2-D, the midpoint in 1-D).
- ``"volume"``: the region's exact volume (area in 2-D, length in 1-D).
- ``"norm"``: ``||A[output]||_1``, the l1 norm of the gradient of output ``output`` on the
  region: exactly the region's Lipschitz constant of that output for the l-infinity norm on
  inputs (the dual norm), as :func:`exactmaso.prove.lipschitz` with ``norm="inf"`` measures it.
- ``"layer"``: the index of the first-layer cell that holds the region (regions of one colour
  were cut apart by later layers only).
- ``"code"``: a colour hashed from the region's code (no scale).
- ``"class"``: one colour per class (:data:`CLASS_COLORS`, lightened for fills), drawn per
  class piece of :func:`exactmaso.boundary.class_pieces` so no colour crosses the boundary.

A scalar ``v`` becomes ``cmap(t)`` with ``t = (v - lo) / (hi - lo)`` computed exactly (``lo``,
``hi`` the extremes over the regions; ``t = 1/2`` when they are equal).  Colour maps are
matplotlib's (a declared dependency; only :mod:`matplotlib.colors` is imported, never pyplot).
"""

from __future__ import annotations

import colorsys
import hashlib
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from .errors import OptionError, ShapeError

if TYPE_CHECKING:  # pragma: no cover
    from .boundary import ClassSplit
    from .regions import Partition

__all__ = [
    "COLOR_BY",
    "SCALED",
    "CLASS_COLORS",
    "LAYER_COLORS",
    "Coloring",
    "coloring",
    "check_color_by",
    "check_output",
    "code_rgb",
    "class_rgb",
    "class_fill",
    "layer_rgb",
    "mean_output",
    "slope_norm",
    "rgb_float",
    "hex_color",
]

COLOR_BY = ("output", "class", "code", "layer", "volume", "norm")
"""Accepted values of ``color_by``."""

SCALED = ("output", "layer", "volume", "norm")
"""The ``color_by`` values that map a scalar through a colour map (and get a colour bar)."""

CLASS_COLORS = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
                (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207))
"""8-bit colours of classes 0..9 (matplotlib's tab10), repeated for more classes."""

LAYER_COLORS = ((27, 158, 119), (217, 95, 2), (117, 112, 179), (231, 41, 138), (102, 166, 30),
                (230, 171, 2), (166, 118, 29), (102, 102, 102))
"""8-bit colours of the boundaries that each layer adds (matplotlib's Dark2), repeated."""

RGB = tuple[int, int, int]


@dataclass(frozen=True, slots=True, eq=False)
class Coloring:
    """The colours of one drawing of a partition.

    Attributes
    ----------
    color_by : str
    items : tuple
        What is filled, in drawing order: the regions, or for ``"class"`` the class pieces.
    colors : tuple of (r, g, b)
        One 8-bit colour per item.
    values : tuple or None
        The exact scalar behind each colour (Fraction or int; the class for ``"class"``);
        None for ``"code"``.
    lo, hi : exact or None
        The extremes of ``values`` for scaled colourings (the colour bar's range).
    label : str
        What the colours encode, for a colour bar or legend.
    cmap : str or None
        The colour map of a scaled colouring.
    """

    color_by: str
    items: tuple
    colors: tuple[RGB, ...]
    values: tuple | None
    lo: Any
    hi: Any
    label: str
    cmap: str | None

    @property
    def is_scaled(self) -> bool:
        return self.color_by in SCALED


def check_color_by(color_by: str) -> None:
    """Raise :class:`OptionError` unless ``color_by`` is one of :data:`COLOR_BY`."""
    if color_by not in COLOR_BY:
        raise OptionError(f"color_by is {color_by!r}; expected one of {', '.join(map(repr, COLOR_BY))}")


def check_output(net: Any, output: int) -> int:
    """``output`` as an int, or :class:`~exactmaso.errors.ShapeError` if the network has no such output."""
    if not isinstance(output, (int, np.integer)) or isinstance(output, bool) or not 0 <= output < net.output_dim:
        raise ShapeError(f"output is {output!r}; the network has outputs 0 .. {net.output_dim - 1}")
    return int(output)


def coloring(part: "Partition", color_by: str = "output", *, output: int = 0, cmap: str = "viridis",
             split: "ClassSplit | None" = None) -> Coloring:
    """The colours of ``part`` for ``color_by`` (see the module docstring for each scalar).

    Parameters
    ----------
    part : Partition
        A 1-D or 2-D partition.
    color_by : {"output", "class", "code", "layer", "volume", "norm"}
    output : int
        The output of ``"output"`` and ``"norm"``.
    cmap : str
        A matplotlib colour map name, for the scaled colourings.
    split : ClassSplit, optional
        :func:`exactmaso.boundary.class_split` of ``part`` when already computed (``"class"``).

    Raises
    ------
    OptionError
        ``color_by`` is not one of :data:`COLOR_BY`.
    ShapeError
        ``output`` is not an output of the network, or the partition is not 1-D or 2-D.
    """
    check_color_by(color_by)
    output = check_output(part.net, output)
    D = part.net.input_dim
    if D not in (1, 2):
        raise ShapeError(f"colours are defined for 1-D and 2-D partitions; this one lives in dimension {D}")
    if color_by == "class":
        from .boundary import class_split

        pieces = (split if split is not None else class_split(part)).pieces
        return Coloring("class", tuple(pieces), tuple(class_fill(p.label) for p in pieces),
                        tuple(p.label for p in pieces), None, None, "class", None)
    regions = tuple(part)
    if color_by == "code":
        return Coloring("code", regions, tuple(code_rgb(r.code) for r in regions), None, None, None,
                        "code", None)
    if color_by == "output":
        values: tuple = tuple(mean_output(r, output) for r in regions)
        label = f"mean of output {output} over the region"
    elif color_by == "volume":
        values = tuple(r.volume() for r in regions)
        label = "area" if D == 2 else "length"
    elif color_by == "norm":
        values = tuple(slope_norm(r, output) for r in regions)
        label = f"$\\|\\nabla f_{{{output}}}\\|_1$ (local Lipschitz constant, $\\ell_\\infty$ inputs)"
    else:  # "layer"
        firsts: dict[tuple, int] = {}
        values = tuple(firsts.setdefault(r.code[0], len(firsts)) for r in regions)
        label = "first-layer cell"
    lo, hi = (min(values), max(values)) if values else (Fraction(0), Fraction(1))
    colormap = _colormap(cmap)
    colors = tuple(_quantised(colormap(float(_position(v, lo, hi)))) for v in values)
    return Coloring(color_by, regions, colors, values, lo, hi, label, cmap)


def _colormap(cmap: Any) -> Any:
    import matplotlib

    if not isinstance(cmap, str):
        return cmap
    try:
        return matplotlib.colormaps[cmap]
    except KeyError:
        raise OptionError(f"cmap is {cmap!r}; expected a matplotlib colour map name such as 'viridis'") from None


def _position(v: Any, lo: Any, hi: Any) -> Fraction:
    """``(v - lo) / (hi - lo)`` exactly; 1/2 when the range is one value."""
    if hi == lo:
        return Fraction(1, 2)
    return (Fraction(v) - Fraction(lo)) / (Fraction(hi) - Fraction(lo))


def _quantised(rgba: Sequence[float]) -> RGB:
    return tuple(int(round(255 * float(c))) for c in rgba[:3])  # type: ignore[return-value]


def mean_output(region: Any, output: int) -> Fraction:
    """Exact mean of output ``output`` over a 1-D or 2-D region: its value at the centroid."""
    V = region.vertices()
    A, b = region.affine.A[output], region.affine.b[output]
    if V.shape[1] == 1:
        c = (min(V[:, 0]) + max(V[:, 0])) / 2
        return A[0] * c + b
    from .boundary import convex_polygon

    P = convex_polygon(V)
    n = len(P)
    cross = [P[i][0] * P[(i + 1) % n][1] - P[(i + 1) % n][0] * P[i][1] for i in range(n)]
    area6 = 3 * sum(cross, Fraction(0))
    cx = sum(((P[i][0] + P[(i + 1) % n][0]) * cross[i] for i in range(n)), Fraction(0)) / area6
    cy = sum(((P[i][1] + P[(i + 1) % n][1]) * cross[i] for i in range(n)), Fraction(0)) / area6
    return A[0] * cx + A[1] * cy + b


def slope_norm(region: Any, output: int) -> Fraction:
    """``||A[output]||_1`` on the region, exact: the l-infinity Lipschitz constant of the output there."""
    return sum((abs(v) for v in region.affine.A[output]), Fraction(0))


def code_rgb(code: Any) -> RGB:
    """A stable 8-bit colour derived from a hash of the code (pastel: light enough for
    black edges and a boundary on top)."""
    digest = hashlib.sha256(repr(code).encode()).digest()
    hue = int.from_bytes(digest[:4], "big") / 2**32
    sat = 0.35 + 0.3 * digest[4] / 255
    val = 0.75 + 0.2 * digest[5] / 255
    return _quantised(colorsys.hsv_to_rgb(hue, sat, val))


def class_rgb(label: int) -> RGB:
    """The colour of class ``label`` (data points, legends)."""
    return CLASS_COLORS[int(label) % len(CLASS_COLORS)]


def class_fill(label: int) -> RGB:
    """The fill of class ``label``'s pieces: its colour mixed half-way with white."""
    return tuple((c + 255 + 1) // 2 for c in class_rgb(label))  # type: ignore[return-value]


def layer_rgb(layer: int) -> RGB:
    """The colour of the boundaries that layer ``layer`` adds."""
    return LAYER_COLORS[int(layer) % len(LAYER_COLORS)]


def rgb_float(color: RGB) -> tuple[float, float, float]:
    """An 8-bit colour as matplotlib's floats in [0, 1]."""
    return tuple(c / 255 for c in color)  # type: ignore[return-value]


def hex_color(color: RGB) -> str:
    """An 8-bit colour as ``#rrggbb``."""
    return "#{:02x}{:02x}{:02x}".format(*color)
