"""Max-pooling on the batched 2-D engine: a conv + max-pool net against its stride-2 twin.

The nets (1 x 12 x 12 input, random weights rounded to 3 decimals, seed 0):

  pooled   Conv2d(1->4, 3) ReLU MaxPool2d(2) Conv2d(4->8, 3) ReLU MaxPool2d(2) Flatten Linear(8 -> 10)
  strided  Conv2d(1->4, 3, stride 2) ReLU Conv2d(4->8, 3, stride 2) ReLU Flatten Linear(32 -> 10)

Both are restricted to the plane through three random inputs (``em.plane``) and enumerated on
boxes of growing size in the plane's coordinates; the table gives regions, wall and CPU
seconds and microseconds (CPU) per region, and the ratio of the pooled net's cost per region
to the strided net's at the closest region count, in wall and in CPU time (the CPU ratio is
the one to trust on a loaded machine).  Both nets are first run once on a tiny box, so that
imports and first-call costs stay out of the first row, and each row is the run with the
least CPU time of ``--repeat`` runs (3; the first run of a size also pays for the heap's
growth, and the machine's load varies).  ``--per-cell S`` also runs the depth-first per-cell reference engine
(tests/percell.py) on the pooled net for S seconds (what max-pooling nets used before) and reports its rate.

    python benchmarks/bench_pool.py [--repeat 3] [--per-cell 20]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import exactmaso as em


def networks(seed: int = 0) -> tuple[em.Network, em.Network, np.ndarray]:
    rng = np.random.default_rng(seed)
    w1, b1 = rng.normal(size=(4, 1, 3, 3)).round(3), rng.normal(size=4).round(3)
    w2, b2 = (rng.normal(size=(8, 4, 3, 3)) / 3).round(3), rng.normal(size=8).round(3)
    pooled = [em.Conv2d(w1, b1), em.ReLU(), em.MaxPool2d(2), em.Conv2d(w2, b2), em.ReLU(), em.MaxPool2d(2), em.Flatten()]
    strided = [em.Conv2d(w1, b1, stride=2), em.ReLU(), em.Conv2d(w2, b2, stride=2), em.ReLU(), em.Flatten()]
    out = []
    for layers in (pooled, strided):
        n = em.Network(layers, input_shape=(1, 12, 12)).output_dim
        wl, bl = rng.normal(size=(10, n)).round(3), rng.normal(size=10).round(3)
        out.append(em.Network(layers + [em.Dense(wl, bl)], input_shape=(1, 12, 12)))
    X = np.array([rng.uniform(0, 1, size=144).round(3) for _ in range(3)])
    return out[0], out[1], X


def timed(net: em.Network, half: float, repeat: int = 1) -> tuple[int, float, float]:
    """Regions, wall seconds and CPU seconds of an enumeration: of the one with the least CPU
    time among ``repeat`` runs."""
    best = None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        part = em.regions(net, em.Box([0.5 - half] * 2, [0.5 + half] * 2))
        run = (len(part), time.perf_counter() - t, time.process_time() - c)
        del part
        if best is None or run[2] < best[2]:
            best = run
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--per-cell", type=float, default=0.0, metavar="S",
                    help="also run the per-cell engine on the pooled net for S seconds")
    ap.add_argument("--repeat", type=int, default=3, metavar="N",
                    help="runs per row; the row is the run with the least CPU time (default 3)")
    args = ap.parse_args(argv)
    pooled, strided, X = networks()
    M, c = em.plane(*X)
    nets = {"pooled": pooled.restrict(M, c), "strided": strided.restrict(M, c)}
    for net in nets.values():  # warm-up: imports and first-call costs out of the first row
        timed(net, 0.05)
    print(f"{'net':8} {'box half-width':>14} {'regions':>8} {'s':>7} {'CPU s':>7} {'us/region':>10} {'CPU us/region':>14}")
    rows: dict[str, list[tuple[int, float, float]]] = {"pooled": [], "strided": []}
    for name, half_widths in (("pooled", (0.5, 1.5)), ("strided", (1.5, 5.0, 15.0))):
        for h in half_widths:
            n, s, c = timed(nets[name], h, args.repeat)
            rows[name].append((n, s, c))
            print(f"{name:8} {h:14g} {n:8d} {s:7.2f} {c:7.2f} {1e6 * s / n:10.1f} {1e6 * c / n:14.1f}", flush=True)
    for n, s, c in rows["pooled"]:
        m, t, d = min(rows["strided"], key=lambda r: abs(np.log(r[0] / n)))
        print(f"pooled {n} regions: {1e6 * s / n:.1f} us/region ({1e6 * c / n:.1f} CPU); strided {m} regions: "
              f"{1e6 * t / m:.1f} us/region ({1e6 * d / m:.1f} CPU); ratio {(s / n) / (t / m):.2f} "
              f"(CPU {(c / n) / (d / m):.2f})")
    if args.per_cell:
        from exactmaso.engine.driver import Monitor
        import os
        import sys

        sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
        from percell import Engine  # the reference engine, tests/percell.py
        from exactmaso.errors import LimitError
        from exactmaso.regions import _check_net_dom

        A, b = _check_net_dom(nets["pooled"], em.Box([0.0] * 2, [1.0] * 2))
        eng = Engine(nets["pooled"], A, b, Monitor(time_limit=args.per_cell))
        count, t = 0, time.perf_counter()
        try:
            for _ in eng.iter_records():
                count += 1
        except LimitError:
            pass
        s = time.perf_counter() - t
        print(f"per-cell engine, pooled, box half-width 0.5: {count} regions in {s:.1f} s "
              f"({1e6 * s / max(count, 1):.0f} us/region{', stopped' if s >= args.per_cell else ''})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
