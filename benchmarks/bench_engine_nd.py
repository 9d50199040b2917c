"""Per-cell engine vs the batched N-D engine on the 3-D and 4-D networks of issue 3.

Prints, for N4 ([3,16,16,1], seed 4, [-1,1]^3) and N5 ([4,12,12,1], seed 5, [-1,1]^4), the
best wall-clock time over ``--repeat`` runs of ``Engine(...).iter_records()`` (per cell, depth
first) and of ``enumerate_nd`` (batched), their ratio, and whether both give the same codes in
the same order (and, with ``--check``, the same facet labels and vertex incidences).

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
for _p in (ROOT, HERE):
    if _p not in sys.path:
        sys.path.insert(0, _p)

NETS = {"N4": ([3, 16, 16, 1], 4, 1621), "N5": ([4, 12, 12, 1], 5, 1076)}


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
    from exactmaso.engine.percell import Engine
    from exactmaso.regions import _domain_arrays

    print(f"{'net':4} {'regions':>8} {'per-cell s':>11} {'batched s':>10} {'speed-up':>9}  same")
    for name, (sizes, seed, expected) in NETS.items():
        net = build_network(sizes, seed)
        D = sizes[0]
        A, b = _domain_arrays(em.Box([-1] * D, [1] * D), D)
        t_old, old = best_time(lambda: list(Engine(net, A, b).iter_records()), args.repeat)
        t_new, (new, _) = best_time(lambda: enumerate_nd(net, A, b), args.repeat)
        same = [r.code for r in old] == [r.code for r in new]
        if same and args.check:
            for ro, rn in zip(old, new):
                go, gn = ro.geom, rn.geom
                same = same and go.labels == gn.labels and go.F.shape == gn.F.shape and bool((go.F == gn.F).all())
        ok = "yes" if same and len(new) == expected else "NO"
        print(f"{name:4} {len(new):8d} {t_old:11.3f} {t_new:10.3f} {t_old / t_new:8.1f}x  {ok}")


if __name__ == "__main__":
    main()
