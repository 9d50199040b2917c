"""The per-cell reference engine (tests/percell.py) vs the batched N-D engine.

Prints, for N4 ([3,16,16,1], seed 4, [-1,1]^3), N5 ([4,12,12,1], seed 5, [-1,1]^4) and a 3-D
net of units with three pieces (P3: two layers of 16 units, each the max of three random
affine maps, then a read-out; seed 0), the best wall-clock time over ``--repeat`` runs of
``Engine(...).iter_records()`` (per cell, depth first; the library's engine for three-piece
units in D >= 3 until the batched engine took them) and of ``enumerate_nd`` (batched), their
ratio, and whether both give the same codes in the same order (and, with ``--check``, the
same facet labels and vertex incidences).

Usage::

    python benchmarks/bench_engine_nd.py [--repeat 5] [--check]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for _p in (ROOT, HERE, os.path.join(ROOT, "tests")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

NETS = {"N4": ([3, 16, 16, 1], 4, 1621), "N5": ([4, 12, 12, 1], 5, 1076), "P3": None}


def max_of_three(K: int = 16, seed: int = 0, D: int = 3):
    """Two layers of K units, each the max of three random affine pieces, and a read-out."""
    import numpy as np

    import exactmaso as em

    rng = np.random.default_rng(seed)

    def layer(K, R, n):
        return em.MASO(rng.integers(-8, 9, size=(K, R, n)) / 8, rng.integers(-8, 9, size=(K, R)) / 8)

    return em.Network.from_masos([layer(K, 3, D), layer(K, 3, K), layer(1, 1, K)])


def best_time(fn, repeat: int):
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--check", action="store_true", help="also compare labels and incidences")
    args = ap.parse_args()

    import exactmaso as em
    from bench_regions import build_network
    from exactmaso.engine.batchnd import enumerate_nd
    from percell import Engine  # tests/percell.py
    from exactmaso.regions import _domain_arrays

    print(f"{'net':4} {'regions':>8} {'per-cell s':>11} {'batched s':>10} {'speed-up':>9}  same")
    for name, spec in NETS.items():
        if spec is None:
            net, D, expected = max_of_three(), 3, None
        else:
            sizes, seed, expected = spec
            net, D = build_network(sizes, seed), sizes[0]
        A, b = _domain_arrays(em.Box([-1] * D, [1] * D), D)
        t_old, old = best_time(lambda: list(Engine(net, A, b).iter_records()), args.repeat)
        t_new, (new, _) = best_time(lambda: enumerate_nd(net, A, b), args.repeat)
        same = [r.code for r in old] == [r.code for r in new]
        if same and args.check:
            for ro, rn in zip(old, new):
                go, gn = ro.geom, rn.geom
                same = same and go.labels == gn.labels and go.F.shape == gn.F.shape and bool((go.F == gn.F).all())
        ok = "yes" if same and expected in (None, len(new)) else "NO"
        print(f"{name:4} {len(new):8d} {t_old:11.3f} {t_new:10.3f} {t_old / t_new:8.1f}x  {ok}")


if __name__ == "__main__":
    main()
