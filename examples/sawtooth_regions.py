"""Telgarsky's sawtooth: depth L, two ReLUs per layer, exactly 2^L linear regions on [0, 1].

The tent map t(x) = 2 relu(x) - 4 relu(x - 1/2) folds [0, 1] onto itself; composing it L
times gives 2^L linear pieces.  Prints a table: depth, regions, 2^L, seconds, verified.

    python examples/sawtooth_regions.py [MAX_DEPTH]
"""

import sys
import time
from fractions import Fraction

import exactmaso as em


def sawtooth(depth: int) -> em.Network:
    half = Fraction(1, 2)
    layers = [em.Dense([[1], [1]], [0, -half]), em.ReLU()]
    for _ in range(depth - 1):
        # t(z) = 2 h0 - 4 h1 feeds the next tent's two ReLUs
        layers += [em.Dense([[2, -4], [2, -4]], [0, -half]), em.ReLU()]
    layers.append(em.Dense([[2, -4]], [0]))
    return em.Network(layers)


def main(max_depth: int = 8) -> None:
    print(f"{'depth':>5} {'regions':>8} {'2^L':>6} {'seconds':>8}  verified")
    for depth in range(1, max_depth + 1):
        net = sawtooth(depth)
        start = time.perf_counter()
        part = em.regions(net, em.Box([0], [1]))
        seconds = time.perf_counter() - start
        part.verify()
        print(f"{depth:>5} {len(part):>8} {2**depth:>6} {seconds:>8.3f}  {'yes' if len(part) == 2**depth else 'NO'}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 8)
