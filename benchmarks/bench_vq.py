"""Benchmark of exact local complexity and of the VQ assignment of data.

Prints two tables:

1. ``em.local_complexity`` samples/s on a random [784, 256, 256, 10] ReLU MLP (the recipe of
   ``bench_regions.py``: ``W = normal / sqrt(in)``, ``b = 0.5 normal``, seeded) around
   MNIST-like samples (uniform in [0, 1]^784, seeded), for P = 2, 3, 5 directions, both
   neighbourhood shapes, one radius for all (``--radius``, default 1/2), with the mean exact
   counts beside the mean published approximation.
2. ``em.vq.assign(net, X)`` samples/s on the same network and on [2, 64, 64, 64, 1]
   (N3 of ``bench_regions.py``).

"seconds" is wall-clock time of the call alone (network and data are built before the clock
starts); every row runs in this one process, one after the other, single-threaded BLAS.

Usage::

    python benchmarks/bench_vq.py                       # the default table
    python benchmarks/bench_vq.py --P 2,3 --samples 50  # more samples, fewer dimensions
    python benchmarks/bench_vq.py --radius 1/4 --shapes cross --time-limit 120
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # a shared machine: one BLAS thread

import argparse  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from fractions import Fraction  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for _p in (ROOT, HERE):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from bench_regions import NETWORKS, build_network  # noqa: E402  (one recipe for random MLPs)

MNIST_SIZES = [784, 256, 256, 10]
#: default samples per row: P = 5 cross-polytopes cost seconds each (see exactmaso.complexity)
DEFAULT_SAMPLES = {2: 16, 3: 16, 5: 3}


def _samples(rng: Any, n: int, D: int, lo: float, hi: float):
    return rng.uniform(lo, hi, size=(n, D))


def bench_complexity(net: Any, X: Any, P: int, shape: str, radius: Fraction, seed: int,
                     time_limit: float | None) -> dict[str, Any]:
    import exactmaso as em

    rec: dict[str, Any] = {"P": P, "shape": shape, "N": len(X)}
    t0 = time.perf_counter()
    try:
        lc = em.local_complexity(net, X, radius, shape, P=P, seed=seed, time_limit=time_limit)
    except em.LimitError as exc:
        rec.update(error=f"limit: {exc}", seconds=time.perf_counter() - t0)
        return rec
    rec["seconds"] = time.perf_counter() - t0
    rec.update(lc.summary())
    rec["max_regions"] = int(lc.regions.max())
    return rec


def bench_setup(P: int, shape: str, radius: Fraction) -> float:
    """Seconds of one local_complexity call on a network with a single region in the
    neighbourhood: the fixed cost per sample (the engine's set-up on the domain)."""
    import exactmaso as em

    one = em.mlp([[[1] + [0] * (P - 1)], [[1]]], [[10 * radius + 1], [0]])  # never cut
    t0 = time.perf_counter()
    em.local_complexity(one, [[0] * P], radius, shape, directions=np.eye(P, dtype=int))
    return time.perf_counter() - t0


def bench_assign(net: Any, X: Any) -> dict[str, Any]:
    import exactmaso as em

    t0 = time.perf_counter()
    try:
        em.vq.assign(net, X, level=None)
    except Exception as exc:  # report, keep the table
        return {"status": f"error: {type(exc).__name__}: {exc}"[:100]}
    return {"status": "ok", "seconds": time.perf_counter() - t0}


def _table(head: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)]
    line = "  ".join(h.rjust(w) for h, w in zip(head, widths))
    out = [line, "-" * len(line)]
    out += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--P", default="2,3,5", help="comma-separated neighbourhood dimensions")
    ap.add_argument("--shapes", default="cross,box", help="comma-separated subset of cross,box")
    ap.add_argument("--radius", default="1/2", help="neighbourhood radius, exact ('p/q' or decimal)")
    ap.add_argument("--samples", type=int, default=None,
                    help=f"samples per local-complexity row (default {DEFAULT_SAMPLES})")
    ap.add_argument("--assign-samples", type=int, default=1000, help="samples for em.vq.assign")
    ap.add_argument("--net-seed", type=int, default=9, help="seed of the [784, 256, 256, 10] weights")
    ap.add_argument("--data-seed", type=int, default=0, help="seed of the samples")
    ap.add_argument("--dir-seed", type=int, default=1, help="seed of the neighbourhood directions")
    ap.add_argument("--time-limit", type=float, default=None, help="seconds per local-complexity row")
    args = ap.parse_args(argv)

    import exactmaso as em

    Ps = [int(p) for p in args.P.split(",") if p.strip()]
    shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    bad = [s for s in shapes if s not in em.complexity.SHAPES]
    if bad:
        ap.error(f"unknown shape(s) {bad}; expected some of {em.complexity.SHAPES}")
    radius = em.to_fraction(args.radius, name="--radius")
    n3 = NETWORKS["N3"]

    print(f"bench_vq: python {platform.python_version()}, {os.cpu_count()} CPUs, one process, rows run in turn")
    print(f"network [784, 256, 256, 10]: bench_regions recipe, seed {args.net_seed}; samples uniform in "
          f"[0, 1]^784, seed {args.data_seed}; directions seed {args.dir_seed}; radius {radius}")
    print(f"second network {n3['sizes']} (bench_regions N3), seed {n3['seed']}; its samples uniform in "
          f"[-1, 1]^2, seed {args.data_seed}\n")
    t0 = time.perf_counter()
    big = build_network(MNIST_SIZES, args.net_seed)
    small = build_network(n3["sizes"], n3["seed"])
    print(f"(networks built in {time.perf_counter() - t0:.1f} s)\n", flush=True)

    rows = []
    for P in Ps:
        n = args.samples if args.samples is not None else DEFAULT_SAMPLES.get(P, 4)
        X = _samples(np.random.default_rng(args.data_seed), n, 784, 0.0, 1.0)
        for shape in shapes:
            rec = bench_complexity(big, X, P, shape, radius, args.dir_seed, args.time_limit)
            setup = f"{bench_setup(P, shape, radius):.2f}"
            print(f"  [P={P} {shape}] {rec.get('seconds', 0):.1f} s", file=sys.stderr, flush=True)
            if "error" in rec:
                rows.append([str(P), shape, str(rec["N"]), f"{rec['seconds']:.2f}", "-", setup, rec["error"][:40],
                             "", "", "", "", ""])
                continue
            rows.append([str(P), shape, str(rec["N"]), f"{rec['seconds']:.2f}", f"{rec['N'] / rec['seconds']:.2f}",
                         setup, f"{rec['mean_regions']:.1f}", f"{rec['median_regions']:g}", str(rec["max_regions"]),
                         f"{rec['mean_pieces']:.1f}", f"{rec['mean_neurons']:.1f}", f"{rec['mean_approx']:.1f}"])
    print(f"em.local_complexity on [784, 256, 256, 10], radius {radius} "
          "(regions, pieces, neurons exact; approx = published vertex estimate, an approximation)")
    print("set-up s = one call on a network that never cuts the neighbourhood (1 region, "
          "1 sample): the fixed cost per sample")
    print(_table(["P", "shape", "N", "seconds", "samples/s", "set-up s", "mean regions", "median", "max", "mean pieces",
                  "mean neurons", "mean approx"], rows))

    arows = []
    for name, net, D, lo in (("[784, 256, 256, 10]", big, 784, 0.0), (str(n3["sizes"]), small, 2, -1.0)):
        X = _samples(np.random.default_rng(args.data_seed), args.assign_samples, D, lo, 1.0)
        rec = bench_assign(net, X)
        rate = f"{args.assign_samples / rec['seconds']:,.0f}" if rec["status"] == "ok" else rec["status"]
        secs = f"{rec['seconds']:.3f}" if rec["status"] == "ok" else "-"
        arows.append([name, str(args.assign_samples), secs, rate])
    print("\nem.vq.assign(net, X, level=None)")
    print(_table(["network", "N", "seconds", "samples/s"], arows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
