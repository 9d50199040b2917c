"""Exact compositions of networks: two networks side by side on one input.

``stack(f, g)`` is the network ``x -> (f(x), g(x))``: the layers of both run in parallel on
the same input, and a network that is shorter than the other carries its outputs through the
remaining two-piece layers as pairs ``(max(0, y), max(0, -y))`` (``y`` is their difference),
so every layer keeps one number of pieces per unit.  The stacked network is what proofs about
two networks work on (their difference, their arg-max classes): it is exactly equal to the
pair as a function, which the tests check at random points and which any certificate checker
can recompute, since the construction is deterministic.

Examples
--------
>>> import exactmaso as em
>>> f = em.mlp([[[1, -1]], [[2]]], [[0], [1]])          # 2 relu(x0 - x1) + 1
>>> g = em.mlp([[[1, 1]]], [[0]])                        # x0 + x1, one affine layer
>>> h = stack(f, g)
>>> [str(v) for v in h([3, 1])], h.output_dim
(['5', '4'], 2)
"""

from __future__ import annotations

from fractions import Fraction
import numpy as np

from .errors import ShapeError, UnsupportedLayerError
from .maso import MASO, Network

__all__ = ["stack"]

_ZERO = Fraction(0)


class _Track:
    """How one network's current values read off the stacked layer's outputs:
    ``v = M z + m`` (M a list of rows over z, exact), and the layers still to run."""

    def __init__(self, net: Network) -> None:
        self.layers = list(net.masos)
        D = net.input_dim
        self.M = [[Fraction(int(i == j)) for j in range(D)] for i in range(D)]
        self.m = [_ZERO] * D

    def value_rows(self, n: int) -> list[tuple[list[Fraction], Fraction]]:
        return [(row + [_ZERO] * (n - len(row)), c) for row, c in zip(self.M, self.m)]


def _compose_piece(a: np.ndarray, b: Fraction, rows: list[tuple[list[Fraction], Fraction]], n: int):
    """The piece ``a . v + b`` with ``v = M z + m`` as a row over z and a constant."""
    out = [_ZERO] * n
    const = Fraction(b)
    for ai, (row, c) in zip(a, rows):
        if ai:
            ai = Fraction(ai)
            const += ai * c
            for j, v in enumerate(row):
                if v:
                    out[j] += ai * v
    return out, const


def stack(net1: Network, net2: Network) -> Network:
    """The exact network ``x -> (net1(x), net2(x))`` (outputs of ``net1`` first).

    Layers with one or two pieces per unit are supported (dense, ReLU, leaky ReLU, abs);
    a layer with three or more pieces (max pooling) raises UnsupportedLayerError.
    """
    if not isinstance(net1, Network) or not isinstance(net2, Network):
        raise TypeError("stack takes two exactmaso Networks")
    if net1.input_dim != net2.input_dim:
        raise ShapeError(f"the networks take {net1.input_dim} and {net2.input_dim} inputs; stacking needs the same input")
    tracks = [_Track(net1), _Track(net2)]
    for t, net in zip(tracks, (net1, net2)):
        for l, m in enumerate(net.masos):
            if m.num_pieces > 2:
                raise UnsupportedLayerError(
                    f"layer {l} of a network has {m.num_pieces} pieces per unit (max pooling); stacking two "
                    "networks supports layers of one or two pieces")
    n = net1.input_dim  # width of the current stacked vector z
    masos: list[MASO] = []
    while any(t.layers for t in tracks):
        R = max(t.layers[0].num_pieces for t in tracks if t.layers)
        last = all(len(t.layers) <= 1 for t in tracks) and R == 1
        A_units: list[list[list[Fraction]]] = []
        B_units: list[list[Fraction]] = []
        spans = []
        for t in tracks:
            rows = t.value_rows(n)
            start = len(A_units)
            if t.layers and t.layers[0].num_pieces == R:
                m = t.layers.pop(0)
                for k in range(m.num_units):
                    pieces = [_compose_piece(m.A[k, r], m.B[k, r], rows, n) for r in range(R)]
                    A_units.append([p for p, _ in pieces])
                    B_units.append([c for _, c in pieces])
                K = m.num_units
                spans.append(("native", start, K))
                continue
            if t.layers:  # an affine layer among two-piece layers: run it, then carry its outputs
                m = t.layers.pop(0)
                rows = [_compose_piece(m.A[k, 0], m.B[k, 0], rows, n) for k in range(m.num_units)]
            if R == 1:  # the last layer: the finished network's values pass through as they are
                for row, c in rows:
                    A_units.append([row])
                    B_units.append([c])
                spans.append(("native", start, len(rows)))
            else:  # carry y as the pair (max(0, y), max(0, -y))
                zero = [_ZERO] * n
                for row, c in rows:
                    A_units.append([zero, row])
                    B_units.append([_ZERO, c])
                    A_units.append([zero, [-v for v in row]])
                    B_units.append([_ZERO, -c])
                spans.append(("carry", start, len(rows)))
        width = len(A_units)
        masos.append(MASO(np.array(A_units, dtype=object).reshape(width, R, n),
                          np.array(B_units, dtype=object).reshape(width, R)))
        for t, (kind, start, K) in zip(tracks, spans):
            if kind == "native":
                t.M = [[Fraction(int(j == start + i)) for j in range(width)] for i in range(K)]
            else:
                t.M = [[Fraction(1 if j == start + 2 * i else -1 if j == start + 2 * i + 1 else 0) for j in range(width)]
                       for i in range(K)]
            t.m = [_ZERO] * K
        n = width
        if last:
            break
    # the outputs: (v1, v2) read off the last layer's units
    rows = tracks[0].value_rows(n) + tracks[1].value_rows(n)
    identity = all(c == 0 and sum(1 for v in row if v) == 1 and row[i] == 1 for i, (row, c) in enumerate(rows)) \
        and len(rows) == n
    if not identity:
        if masos[-1].num_pieces == 1:  # fold the read-out into the last affine layer
            prev = masos.pop()
            inner = [(list(prev.A[k, 0]), prev.B[k, 0]) for k in range(prev.num_units)]
            n_prev = prev.input_dim
            composed = [_compose_piece(np.array(row, dtype=object), c, inner, n_prev) for row, c in rows]
        else:
            n_prev = n
            composed = [(row, c) for row, c in rows]
        masos.append(MASO(np.array([[p] for p, _ in composed], dtype=object).reshape(len(composed), 1, n_prev),
                          np.array([[c] for _, c in composed], dtype=object).reshape(len(composed), 1)))
    return Network.from_masos(masos, input_shape=net1.input_shape)

