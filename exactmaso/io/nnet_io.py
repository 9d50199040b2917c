"""Exact networks from ``.nnet`` files, the text format of the ACAS Xu networks (Reluplex, Marabou).

The format (github.com/sisl/NNet), line by line:

1. any number of header lines starting with ``//``;
2. ``numLayers, inputSize, outputSize, maxLayerSize`` (``numLayers`` counts the weight
   matrices; ``maxLayerSize`` is read and not used);
3. the ``numLayers + 1`` layer sizes, from the input's to the output's;
4. a legacy flag (one integer, not used);
5. ``inputSize`` input minimums, then 6. ``inputSize`` input maximums;
7. ``inputSize + 1`` means: one per input, then one for every output;
8. ``inputSize + 1`` ranges, likewise;
9. per layer, its weight matrix row by row (one line of ``in`` values per unit), then its
   bias vector (one line of one value per unit).

Values are separated by commas, and a line may end with a comma.  Every layer but the last is
followed by a ReLU; the last is affine.

Normalisation.  The network reads *raw* inputs ``x`` and returns raw outputs, as the
reference evaluators do:

    y = range_out * f((x - mean) / range) + mean_out

where ``f`` is the ReLU network of the weights, ``(x_i - mean_i) / range_i`` the input
normalisation and ``mean_out``, ``range_out`` the last mean and range (one pair for all
outputs).  Both maps are exact affine maps, folded into the first and the last Dense layer.

Not applied: the clamping of each input to ``[min_i, max_i]`` that the reference evaluators
do before normalising.  A clamp is not affine, so the network read here equals the file's
network only on the box ``[min, max]``; restrict the domain of an analysis to that box
(``read_nnet(path).input_box()``), as the ACAS Xu properties do.

Numbers are read as the decimals they spell: ``0.6`` is exactly ``3/5``, not the float64
nearest to it (which the reference evaluators compute with), and ``5.40062e-02`` is
``270031/5000000``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Iterator

import numpy as np

from ..errors import ModelFileError, ModelShapeError
from ..layers import Dense, ReLU
from ..maso import Network
from . import limits

if TYPE_CHECKING:
    from ..polytope import Box

__all__ = ["NNet", "read_nnet", "from_nnet"]

_DECIMAL = re.compile(r"[+-]?(?P<int>\d*)(?:\.(?P<frac>\d*))?(?:[eE](?P<exp>[+-]?\d{1,9}))?")
_INTEGER = re.compile(r"[+-]?\d{1,18}")


@dataclass(frozen=True, slots=True)
class NNet:
    """What an ``.nnet`` file holds: the exact network on raw inputs and its normalisation data.

    Attributes
    ----------
    network : Network
        Raw inputs to raw outputs, the normalisation folded in (the clamping to
        ``[input_min, input_max]`` is not: see :mod:`exactmaso.io.nnet_io`).
    input_min, input_max : tuple of Fraction
        The box the file's network is defined on (one bound per input).
    means, ranges : tuple of Fraction
        One per input, then one for every output.
    """

    network: Network
    input_min: tuple[Fraction, ...]
    input_max: tuple[Fraction, ...]
    means: tuple[Fraction, ...]
    ranges: tuple[Fraction, ...]

    def input_box(self) -> "Box":
        """The box ``[input_min, input_max]``, where :attr:`network` equals the file's network."""
        from ..polytope import Box

        return Box(list(self.input_min), list(self.input_max))


class _Lines:
    """The non-blank lines of an ``.nnet`` text after its ``//`` header, with their numbers."""

    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self._lines = enumerate(text.splitlines(), start=1)
        self.number = 0
        self._header = True

    def _next(self, what: str) -> str:
        for number, line in self._lines:
            self.number = number
            if self._header and line.startswith("//"):
                continue
            self._header = False
            if line.strip():
                return line
        raise ModelFileError(f"{self.source}: the file ends after line {self.number}; expected {what}")

    def values(self, count: int, what: str) -> list[str]:
        """The ``count`` comma-separated values of the next line (a trailing comma allowed)."""
        line = self._next(what).strip()
        if line.endswith(","):
            line = line[:-1]
        items = [item.strip() for item in line.split(",")]
        if len(items) != count:
            raise ModelFileError(f"{self.where()} has {len(items)} values; expected {count} ({what})")
        return items

    def rest(self) -> Iterator[int]:
        """The numbers of the lines left that are not blank."""
        for number, line in self._lines:
            if line.strip():
                yield number

    def where(self) -> str:
        return f"{self.source}, line {self.number}"


def _integer(text: str, where: str, *, minimum: int) -> int:
    if _INTEGER.fullmatch(text) is None:
        raise ModelFileError(f"{where} holds {text!r:.40}; expected an integer")
    value = int(text)
    if value < minimum:
        raise ModelShapeError(f"{where} holds {value}; expected an integer of at least {minimum}")
    return value


def _number(text: str, where: str) -> Fraction:
    """The exact value of a decimal such as ``-1.5``, ``.25`` or ``5.40062e-02``."""
    match = _DECIMAL.fullmatch(text)
    if match is None or not (match["int"] or match["frac"]):
        raise ModelFileError(f"{where} holds {text!r:.40}; expected a decimal number such as -0.125 or 5.4e-02")
    digits = (match["int"] + (match["frac"] or "")).lstrip("0")
    exp = int(match["exp"] or 0) - len(match["frac"] or "")
    limits.check_digits(len(digits) + max(exp, 0), where)  # the numerator
    limits.check_digits(max(-exp, 0), where)  # the power of ten below it
    return Fraction(text)


def _numbers(lines: _Lines, count: int, what: str) -> list[Fraction]:
    items = lines.values(count, what)
    return [_number(item, f"{lines.where()}, value {i + 1} ({what})") for i, item in enumerate(items)]


def _matrix(rows: list[list[Fraction]]) -> np.ndarray:
    out = np.empty((len(rows), len(rows[0])), dtype=object)
    out[:] = rows
    return out


def read_nnet(path: str | os.PathLike) -> NNet:
    """Read an ``.nnet`` file: its exact network on raw inputs and its normalisation data.

    Parameters
    ----------
    path
        An ``.nnet`` text file (the format is described in :mod:`exactmaso.io.nnet_io`).

    Returns
    -------
    NNet
        ``.network`` maps raw inputs to raw outputs; restrict analyses to
        ``.input_box()``, where it equals the file's network (the inputs' clamping is not
        applied).

    Raises
    ------
    ModelFileNotFoundError
        ``path`` does not exist.
    ModelFileError
        The file is not UTF-8 text, a line holds too few or too many values or something
        that is not a number, the file ends early or goes on after the last layer, an input
        range is 0, an input minimum is above its maximum, or a size is above a cap
        (:mod:`exactmaso.io.limits`).  The message names the line.
    ModelShapeError
        Layer sizes that disagree with the input or output size, or sizes below 1.
    """
    source = os.fspath(path)
    data = limits.read_model_bytes(path, "an .nnet file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ModelFileError(f"{source}: byte {exc.start} is not UTF-8 text; expected an .nnet text file") from None
    lines = _Lines(text, source)

    head = lines.values(4, "numLayers, inputSize, outputSize, maxLayerSize")
    where = lines.where()
    num_layers, n_in, n_out, _ = (_integer(v, f"{where}, value {i + 1}", minimum=1) for i, v in enumerate(head))
    limits.check_layer_count(num_layers, source)
    sizes_text = lines.values(num_layers + 1, f"the {num_layers + 1} layer sizes, input first")
    where = lines.where()
    sizes = [_integer(v, f"{where}, value {i + 1}", minimum=1) for i, v in enumerate(sizes_text)]
    for i, size in enumerate(sizes):
        limits.check_shape((size,), f"{where}: layer size {i + 1}")
    if sizes[0] != n_in or sizes[-1] != n_out:
        raise ModelShapeError(f"{where}: the layer sizes run from {sizes[0]} to {sizes[-1]}; the line before declares "
                              f"{n_in} inputs and {n_out} outputs")
    count = limits.EntryCount(source)
    for k in range(num_layers):
        count.add(sizes[k + 1] * (sizes[k] + 1), f"layer {k} ({sizes[k + 1]} x {sizes[k]} weights and biases)")
    flag = lines.values(1, "the legacy flag (one integer)")
    _integer(flag[0], f"{lines.where()}, the legacy flag", minimum=-(10**18))

    low = _numbers(lines, n_in, f"the {n_in} input minimums")
    high = _numbers(lines, n_in, f"the {n_in} input maximums")
    for i, (lo, hi) in enumerate(zip(low, high)):
        if lo > hi:
            raise ModelFileError(f"{lines.where()}: the maximum of input {i} is {hi}, below its minimum {lo}")
    means = _numbers(lines, n_in + 1, f"the {n_in + 1} means (inputs, then outputs)")
    ranges = _numbers(lines, n_in + 1, f"the {n_in + 1} ranges (inputs, then outputs)")
    zero = next((i for i, r in enumerate(ranges[:n_in]) if r == 0), None)
    if zero is not None:
        raise ModelFileError(f"{lines.where()}: the range of input {zero} is 0; expected a nonzero range to divide by")

    weights, biases = [], []
    for k in range(num_layers):
        fan_in, units = sizes[k], sizes[k + 1]
        weights.append(_matrix([_numbers(lines, fan_in, f"a row of layer {k}'s {units} x {fan_in} weights")
                                for _ in range(units)]))
        biases.append(np.array([_numbers(lines, 1, f"a bias of layer {k} ({units} lines of one value)")[0]
                                for _ in range(units)], dtype=object))
    extra = next(lines.rest(), None)
    if extra is not None:
        raise ModelFileError(f"{source}, line {extra}: data after the biases of the last layer; expected the end of "
                             "the file")

    # x -> (x - mean) / range before the first layer, y -> range_out * y + mean_out after the last
    scale = np.array([1 / r for r in ranges[:n_in]], dtype=object)
    offset = np.array([m / r for m, r in zip(means[:n_in], ranges[:n_in])], dtype=object)
    biases[0] = biases[0] - weights[0].dot(offset)
    weights[0] = weights[0] * scale[None, :]
    weights[-1] = weights[-1] * ranges[n_in]
    biases[-1] = biases[-1] * ranges[n_in] + means[n_in]

    layers: list = []
    for k in range(num_layers):
        layers.append(Dense(weights[k], biases[k]))
        if k < num_layers - 1:
            layers.append(ReLU())
    return NNet(Network(layers, input_shape=(n_in,)), tuple(low), tuple(high), tuple(means), tuple(ranges))


def from_nnet(path: str | os.PathLike) -> Network:
    """The exact network of an ``.nnet`` file, on raw inputs (see :func:`read_nnet`).

    The input normalisation ``(x - mean) / range`` and the output de-normalisation
    ``range_out * y + mean_out`` are exact affine maps inside the network; the clamping of
    the inputs to ``[min, max]`` is not applied, so analyse the network on that box
    (``read_nnet(path).input_box()``).
    """
    return read_nnet(path).network
