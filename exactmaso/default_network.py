"""The bundled default network: a small fixed 2-D ReLU MLP with exact dyadic weights.

It is what ``exactmaso demo`` studies: an MLP with layer widths ``[2, 8, 8, 1]`` whose
weights and biases are the rationals ``p / 32`` drawn once from a fixed seed.  Dyadic
rationals are exactly what float weights are, but short enough to read in a printout.

>>> net = default_network()
>>> net.input_dim, net.output_dim, len(net.masos)
(2, 1, 3)
>>> net([0, 0]).tolist()
[Fraction(-501, 8192)]
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from .layers import mlp
from .maso import Network

__all__ = ["default_network", "DEFAULT_WIDTHS", "DEFAULT_SEED", "DEFAULT_DOMAIN"]

DEFAULT_WIDTHS: tuple[int, ...] = (2, 8, 8, 1)
DEFAULT_SEED: int = 2024
DEFAULT_DOMAIN: tuple[tuple[int, int], tuple[int, int]] = ((-1, -1), (1, 1))
"""The domain ``[-1, 1]^2`` as ``(lo, hi)``."""

_DENOMINATOR = 32


def default_network(widths: tuple[int, ...] = DEFAULT_WIDTHS, *, seed: int = DEFAULT_SEED) -> Network:
    """The bundled MLP: ReLU between layers, the last layer affine.

    Each weight is ``p / 32`` with ``p`` a rounded ``N(0, 32^2 / fan_in)`` sample and each bias
    ``p / 32`` with ``p`` a rounded ``N(0, 16^2)`` sample, from ``numpy.random.default_rng(seed)``.

    Parameters
    ----------
    widths : tuple of int
        Layer widths, input first.
    seed : int
        Seed of the generator; the default gives the network that ``exactmaso demo`` uses.
    """
    rng = np.random.default_rng(seed)
    weights, biases = [], []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        W = np.rint(rng.normal(size=(fan_out, fan_in)) * _DENOMINATOR / np.sqrt(fan_in)).astype(int)
        b = np.rint(rng.normal(size=fan_out) * _DENOMINATOR / 2).astype(int)
        weights.append([[Fraction(int(p), _DENOMINATOR) for p in row] for row in W])
        biases.append([Fraction(int(p), _DENOMINATOR) for p in b])
    return mlp(weights, biases, activation="relu")
