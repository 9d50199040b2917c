"""Templates and matched filters.

On the region of an input ``x`` the network is ``f(x) = A x + b``.  The rows of ``A`` are
the signal-dependent *templates*; output ``c`` is the matched filter ``<A[c], x> + b[c]``:
the inner product of the input with its template, plus an offset.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .maso import Network

__all__ = ["templates", "matched_filter"]


def templates(net: Network, x: Any) -> np.ndarray:
    """The exact (out, D) template matrix of ``net`` at ``x``: the rows of ``A`` in ``f = A x + b``.

    Examples
    --------
    >>> import exactmaso as em
    >>> net = em.mlp([[[2, 0], [0, -1]], [[1, 1]]])
    >>> em.templates(net, [1, -1]).tolist()
    [[Fraction(2, 1), Fraction(-1, 1)]]
    """
    return net.affine_map(x).A


def matched_filter(net: Network, x: Any) -> tuple[np.ndarray, np.ndarray]:
    """Matched-filter scores at ``x``: ``(<A[c], x>, b[c])`` for each output ``c``.

    Their sum equals ``net(x)`` exactly.

    Examples
    --------
    >>> import exactmaso as em
    >>> net = em.mlp([[[2, 0], [0, -1]], [[1, 1]]], [[0, 0], [5]])
    >>> corr, offset = em.matched_filter(net, [1, -1])
    >>> (corr + offset).tolist() == net([1, -1]).tolist()
    True
    """
    aff = net.affine_map(x)
    X = net._batch(x)[0][0]
    return aff.A.dot(X), aff.b.copy()
