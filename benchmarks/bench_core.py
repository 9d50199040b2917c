"""Throughput of the exact core: forward pass and affine maps, beside a float forward pass.

Networks (float32 weights from numpy.random.default_rng(0), converted exactly):
  MLP  [784, 256, 256, 10], ReLU between layers;
  CNN  Conv2d(1->4, 3x3, padding 1) + ReLU + MaxPool2d(2) + Flatten + Linear(144 -> 10) on 1x12x12.
Inputs are float32 samples (converted exactly, conversion included in the timings).

    python benchmarks/bench_core.py
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

import exactmaso as em

BATCH = 64
MIN_SECONDS = 1.0


def mlp_network(rng: np.random.Generator) -> em.Network:
    widths = [784, 256, 256, 10]
    weights = [(rng.normal(size=(o, i)) / np.sqrt(i)).astype(np.float32) for i, o in zip(widths[:-1], widths[1:])]
    biases = [(0.1 * rng.normal(size=o)).astype(np.float32) for o in widths[1:]]
    return em.mlp(weights, biases)


def cnn_network(rng: np.random.Generator) -> em.Network:
    conv_w = (rng.normal(size=(4, 1, 3, 3)) / 3).astype(np.float32)
    conv_b = (0.1 * rng.normal(size=4)).astype(np.float32)
    lin_w = (rng.normal(size=(10, 144)) / 12).astype(np.float32)
    lin_b = (0.1 * rng.normal(size=10)).astype(np.float32)
    layers = [em.Conv2d(conv_w, conv_b, padding=1), em.ReLU(), em.MaxPool2d(2), em.Flatten(), em.Dense(lin_w, lin_b)]
    return em.Network(layers, input_shape=(1, 12, 12))


def float_forward(net: em.Network) -> Callable[[np.ndarray], np.ndarray]:
    """Float64 forward pass through the MASO pieces (reference speed; not exact)."""
    pieces = net.float_pieces()

    def run(X: np.ndarray) -> np.ndarray:
        Z = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
        for P in pieces:  # (K, R, D + 1)
            K, R, D1 = P.shape
            flat = P.reshape(K * R, D1)
            Z = (Z @ flat[:, :-1].T + flat[:, -1]).reshape(len(Z), K, R).max(axis=2)
        return Z

    return run


def rate(fn: Callable[[], object], items: int) -> float:
    """Items per second of ``fn`` (each call handles ``items``), timed for at least MIN_SECONDS."""
    fn()  # warm caches (integer forms of the layers)
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= MIN_SECONDS:
            return calls * items / elapsed


def bench(name: str, net: em.Network, X: np.ndarray) -> list[str]:
    x = X[0]
    exact_single = rate(lambda: net(x), 1)
    exact_batch = rate(lambda: net(X), len(X))
    affine = rate(lambda: net.affine_map(x), 1)
    ref = float_forward(net)
    float_batch = rate(lambda: ref(X), len(X))
    aff = net.affine_map(x)
    xf = em.to_fraction_array(x.reshape(-1))
    assert all(aff(xf) == net(x)), "affine map must reproduce net(x) exactly"
    assert np.allclose(ref(X[:1])[0], [float(v) for v in net(x)], rtol=1e-9, atol=1e-9)
    return [
        f"{name:<24} {exact_single:>14,.1f} {exact_batch:>16,.1f} {affine:>14,.1f} {float_batch:>16,.0f}"
    ]


def main() -> None:
    rng = np.random.default_rng(0)
    mlp, cnn = mlp_network(rng), cnn_network(rng)
    X_mlp = rng.normal(size=(BATCH, 784)).astype(np.float32)
    X_cnn = rng.normal(size=(BATCH, 1, 12, 12)).astype(np.float32)
    header = f"{'network':<24} {'exact 1 (s/s)':>14} {'exact 64 (s/s)':>16} {'affine_map/s':>14} {'float64 64 (s/s)':>16}"
    print("samples per second (s/s); exact = Fractions / integers, float64 = numpy reference")
    print(header)
    print("-" * len(header))
    for line in bench("MLP [784,256,256,10]", mlp, X_mlp) + bench("CNN 1x12x12 conv-pool", cnn, X_cnn):
        print(line)


if __name__ == "__main__":
    main()
