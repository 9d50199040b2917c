"""ACAS Xu reference forward passes written from the networks' raw ONNX initializers.

Independent of exactmaso: this module imports nothing from it.  The VNN-COMP ACAS Xu files
(``../shared/acasxu`` beside the repository) are ``Sub`` (the input mean), ``Flatten``, then
``MatMul`` + ``Add`` with ``Relu`` between the layers; tests compare exactmaso's exact network
with these passes in float64 and in Fractions.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

__all__ = ["ACAS", "ACAS_OPS", "acas_path", "acas_parameters", "forward_float64", "forward_exact"]

ACAS = Path(__file__).resolve().parents[2] / "shared" / "acasxu"  # ../shared beside the repository
ACAS_OPS = ["Sub", "Flatten"] + ["MatMul", "Add", "Relu"] * 6 + ["MatMul", "Add"]


def acas_path(name: str) -> Path:
    """The ONNX file of network ``name`` (such as ``"1_1"``); skips the test if it is absent
    (or if the onnx package is, which reading it needs)."""
    pytest.importorskip("onnx")
    path = ACAS / f"ACASXU_run2a_{name}_batch_2000.onnx"
    if not path.exists():
        pytest.skip(f"{path} is not present")
    return path


def acas_parameters(path: Path) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """The subtracted mean and the (W (in, out), b) of each layer, float32 as stored."""
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    assert [n.op_type for n in graph.node] == ACAS_OPS
    init = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    mean = init[graph.node[0].input[1]].reshape(-1)
    matmuls = [n for n in graph.node if n.op_type == "MatMul"]
    adds = [n for n in graph.node if n.op_type == "Add"]
    return mean, [(init[m.input[1]], init[a.input[1]]) for m, a in zip(matmuls, adds)]


def forward_float64(mean, layers, x: np.ndarray) -> np.ndarray:
    h = x - mean.astype(np.float64)
    for i, (W, b) in enumerate(layers):
        h = h @ W.astype(np.float64) + b.astype(np.float64)
        if i < len(layers) - 1:
            h = np.maximum(h, 0.0)
    return h


def forward_exact(mean, layers, x: list[Fraction]) -> list[Fraction]:
    """The same in Fractions, every float32 initializer entry taken as the rational it stores."""
    h = [xi - Fraction(float(m)) for xi, m in zip(x, mean)]
    for i, (W, b) in enumerate(layers):
        Wf = [[Fraction(float(v)) for v in row] for row in W]  # (in, out)
        h = [sum(Wf[j][k] * h[j] for j in range(len(h))) + Fraction(float(b[k])) for k in range(W.shape[1])]
        if i < len(layers) - 1:
            h = [max(v, Fraction(0)) for v in h]
    return h
