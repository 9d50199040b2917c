"""Benchmark of exact linear-region enumeration (issue 3).

For each network of the issue this prints regions, seconds, regions/s and peak memory of
``em.regions``, beside a naive float baseline (``naive_regions.py``: one Chebyshev LP per
candidate code, layer by layer) on N1, N4 and N5, measured in the same run.

Every measurement (one network, one method) runs in its own fresh process (multiprocessing,
"spawn"), one after the other, so that timings do not share a core and peak memory is that
process's own: peak memory is ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` of the child
(the whole process: interpreter, numpy, exactmaso, the network), read after the run; the
"before" column is the same figure read just before the timed call, so the difference is what
the enumeration itself added.  "seconds" is wall-clock time of the call alone: imports,
building the network and the domain happen before the clock starts.

Usage::

    python benchmarks/bench_regions.py                   # all networks, naive on N1, N4, N5
    python benchmarks/bench_regions.py --nets N1,N3 --skip-naive
    python benchmarks/bench_regions.py --time-limit 60 --verify   # limit applies to em.regions
    python benchmarks/bench_regions.py --nets N2 --skip-naive --verify --repeat 3   # medians of 3 runs
    python benchmarks/bench_regions.py --naive-time-limit 120     # limit for the baseline
    python benchmarks/bench_regions.py --naive-only      # baseline alone (no em.regions needed)
    python benchmarks/bench_regions.py --nets N6,N8 --workers 2 --skip-naive   # and with 2 workers
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # one BLAS thread per process
    os.environ.setdefault(_var, "1")

import sys
import time
import traceback
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for _p in (ROOT, HERE):
    if _p not in sys.path:
        sys.path.insert(0, _p)

# The networks of issue 3 and their agreed region counts.
NETWORKS: dict[str, dict[str, Any]] = {
    "N1": {"sizes": [2, 16, 16, 1], "seed": 1, "expected": 200},
    "N2": {"sizes": [2, 32, 32, 32, 1], "seed": 2, "expected": 1496},
    "N3": {"sizes": [2, 64, 64, 64, 1], "seed": 3, "expected": 4323},
    "N4": {"sizes": [3, 16, 16, 1], "seed": 4, "expected": 1621},
    "N5": {"sizes": [4, 12, 12, 1], "seed": 5, "expected": 1076},
    "N6": {"sizes": [2, 128, 128, 128, 128, 1], "seed": 6, "expected": 31552},
    # deeper, wider and higher-dimensional ones (counts measured by this engine, the serial and
    # the parallel runs agreeing)
    "N7": {"sizes": [3, 32, 32, 32, 1], "seed": 7, "expected": 17583},
    "N8": {"sizes": [5, 16, 16, 1], "seed": 8, "expected": 31658},
    "N9": {"sizes": [6, 12, 12, 12, 1], "seed": 9, "expected": 13644},
    "N10": {"sizes": [2, 256, 256, 256, 1], "seed": 10, "expected": 80321},
}
NAIVE_NETS = ("N1", "N4", "N5")

# Peer figures quoted in issue 3 (same 2-core machine kind), seconds.
PEERS = [
    ("fastest float tool (edge subdivision, float32 PyTorch, no certificates)", {"N3": 0.15, "N6": 5.8}),
    ("graph-based 2-D tool", {"N3": 8.0}),
    ("BFS with one LP per region", {"N3": 190.0}),
]
TARGET = "exactmaso target: <= fastest float tool on N1-N5, and N6 <= 2.9 s (twice as fast)"


def network_weights(sizes: list[int], seed: int):
    """Weights (out, in) and biases exactly as issue 3 specifies them (float64)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    weights, biases = [], []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        W = rng.normal(size=(n_out, n_in)) / np.sqrt(n_in)
        b = 0.5 * rng.normal(size=n_out)
        weights.append(W)
        biases.append(b)
    return weights, biases


def build_network(sizes: list[int], seed: int):
    """The exact network ``em.mlp(weights, biases)``: ReLU after every layer but the last."""
    import exactmaso as em

    weights, biases = network_weights(sizes, seed)
    return em.mlp(weights, biases)


def _maxrss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


# ---------------------------------------------------------------------------------------
# child processes: one measurement each
# ---------------------------------------------------------------------------------------


def _warm(_: int) -> str:
    import exactmaso

    return exactmaso.__version__


def _child(conn, name: str, method: str, time_limit: float | None, verify: bool, count_only: bool,
           workers: int = 0) -> None:
    out: dict[str, Any] = {"name": name, "method": method}
    try:
        spec = NETWORKS[name]
        D = spec["sizes"][0]
        t0 = time.perf_counter()
        net = build_network(spec["sizes"], spec["seed"])
        out["build_s"] = time.perf_counter() - t0
        if method == "naive":
            from naive_regions import naive_count_regions

            net.float_pieces()  # float copies of the weights: built before the clock, like em's net
            out["rss_before"] = _maxrss_mib()
            try:
                n, st = naive_count_regions(net, [-1.0] * D, [1.0] * D, time_limit=time_limit)
                out.update(regions=n, seconds=st["seconds"], lps=st["lps"], per_layer=st["per_layer"])
            except TimeoutError:
                out.update(timeout=True, seconds=time_limit)
        else:
            import exactmaso as em

            if verify:  # part.verify()'s module is imported before its clock, like the package
                import exactmaso.verify  # noqa: F401
            dom = em.Box([-1] * D, [1] * D)
            pool = None
            if workers:
                from concurrent.futures import ProcessPoolExecutor

                pool = ProcessPoolExecutor(workers)
                # started and with exactmaso imported before the clock, as a pool a script reuses
                list(pool.map(_warm, range(workers)))
            out["rss_before"] = _maxrss_mib()
            t0 = time.perf_counter()
            part = None
            try:
                if count_only:
                    n = em.count_regions(net, dom, time_limit=time_limit, executor=pool)
                else:
                    part = em.regions(net, dom, time_limit=time_limit, executor=pool)
                    n = len(part)
                out.update(regions=n, seconds=time.perf_counter() - t0)
            except em.LimitError as exc:
                out.update(timeout=True, seconds=time.perf_counter() - t0, count=getattr(exc, "count", None))
            finally:
                if pool is not None:
                    pool.shutdown()
            if verify and part is not None:
                out["rss_regions"] = _maxrss_mib()
                out["rss_peak"] = out["rss_regions"]
                conn.send(dict(out, partial=True))  # the parent keeps this if verify is killed
                t0 = time.perf_counter()
                out["edges"] = len(part.graph.edges)
                out["graph_s"] = time.perf_counter() - t0
                conn.send(dict(out, partial=True))
                t0 = time.perf_counter()
                try:
                    part.verify()
                    out["verify"] = "ok"
                except em.CertificateError as exc:
                    out["verify"] = f"FAIL: {exc}"
                out["verify_s"] = time.perf_counter() - t0
        out["rss_peak"] = _maxrss_mib()
    except BaseException as exc:  # report, never hang the parent
        out["error"] = f"{type(exc).__name__}: {exc}"
        out["traceback"] = traceback.format_exc()
    conn.send(out)
    conn.close()


def measure(name: str, method: str, *, time_limit: float | None, verify: bool = False,
            count_only: bool = False, hard_limit: float | None = None, workers: int = 0) -> dict[str, Any]:
    """Run one measurement in a fresh spawned process and return its record."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_child, args=(child, name, method, time_limit, verify, count_only, workers))
    p.start()
    child.close()
    rec: dict[str, Any] | None = None
    partial: dict[str, Any] | None = None
    deadline = None if hard_limit is None else time.monotonic() + hard_limit
    while rec is None:
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        if not parent.poll(left):
            break
        try:
            msg = parent.recv()
        except EOFError:
            break
        if msg.get("partial"):
            partial = msg
        else:
            rec = msg
    if rec is None:
        why = f"killed after {hard_limit:.0f} s (hard limit)" if p.is_alive() else f"child died (exit code {p.exitcode})"
        if p.is_alive():
            p.terminate()
            p.join(5)
        if partial is not None:  # regions finished; graph/verify did not
            rec = dict(partial, verify=why)
            rec.pop("partial")
        else:
            rec = {"name": name, "method": method, "error": why}
    p.join()
    return rec


# ---------------------------------------------------------------------------------------
# table
# ---------------------------------------------------------------------------------------


def _fmt_s(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def _fmt_rate(n: int | None, s: float | None) -> str:
    if n is None or not s:
        return "-"
    return f"{n / s:,.0f}"


def _cell(rec: dict[str, Any] | None) -> tuple[str, str, str]:
    """(regions, seconds, peak MiB) strings of one record."""
    if rec is None:
        return "-", "-", "-"
    if "error" in rec:
        return "error", "-", "-"
    if rec.get("timeout"):
        c = rec.get("count")
        return ("timeout" + (f" ({c}+)" if c is not None else "")), _fmt_s(rec.get("seconds")), f"{rec['rss_peak']:.0f}"
    return str(rec["regions"]), _fmt_s(rec["seconds"]), f"{rec['rss_peak']:.0f}"


def print_table(names: list[str], em_recs: dict, naive_recs: dict, *, verify: bool) -> None:
    head = ["net", "D", "regions", "expected", "match", "seconds", "regions/s", "peak MiB", "(before)"]
    if verify:
        head += ["edges", "graph s", "verify s", "verify"]
    head += ["naive regions", "naive match", "naive s", "naive LPs", "naive MiB", "ratio naive/em"]
    rows = []
    for name in names:
        spec = NETWORKS[name]
        e = em_recs.get(name)
        nv = naive_recs.get(name)
        reg, sec, mib = _cell(e)
        ok = e is not None and "error" not in e and not e.get("timeout")
        match = ("yes" if e["regions"] == spec["expected"] else "NO") if ok else "-"
        row = [name, str(spec["sizes"][0]), reg, str(spec["expected"]), match, sec,
               _fmt_rate(e["regions"], e["seconds"]) if ok else "-", mib,
               f"{e['rss_before']:.0f}" if e is not None and "rss_before" in e else "-"]
        if verify:
            row += [str(e.get("edges", "-")) if e else "-", _fmt_s(e.get("graph_s")) if e else "-",
                    _fmt_s(e.get("verify_s")) if e else "-", (e.get("verify", "-")[:12] if e else "-")]
        nreg, nsec, nmib = _cell(nv)
        nok = nv is not None and "error" not in nv and not nv.get("timeout")
        nmatch = ("yes" if nv["regions"] == spec["expected"] else "NO") if nok else "-"
        ratio = f"{nv['seconds'] / e['seconds']:.1f}x" if (nok and ok and e["seconds"] > 0) else "-"
        row += [nreg, nmatch, nsec, str(nv.get("lps", "-")) if nok else "-", nmib, ratio]
        rows.append(row)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    line = "  ".join(h.rjust(w) for h, w in zip(head, widths))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths)))
    for name in names:
        e = em_recs.get(name)
        if e and e.get("verify") not in (None, "ok"):
            print(f"\n{name} graph/verify: {e['verify']}")
    for recs in (em_recs, naive_recs):
        for name in names:
            rec = recs.get(name)
            if rec and "error" in rec:
                print(f"\n{name} [{rec['method']}] {rec['error']}")
                if "traceback" in rec:
                    print(rec["traceback"].rstrip())


# ---------------------------------------------------------------------------------------
# --verify: enumeration, graph and verify() times side by side (medians of --repeat runs)
# ---------------------------------------------------------------------------------------


def measure_verify(name: str, repeat: int, **options: Any) -> dict[str, Any]:
    """``repeat`` fresh-process measurements of one network with graph and verify timed; the
    first run's record with the per-run times and, for each time, the median over the runs."""
    import statistics

    runs = [measure(name, "exactmaso", verify=True, **options) for _ in range(max(1, repeat))]
    rec = dict(runs[0])
    for key in ("seconds", "graph_s", "verify_s"):
        vals = [r[key] for r in runs if key in r]
        if vals:
            rec[key + "_runs"] = vals
            rec[key] = statistics.median(vals)
    fails = [r.get("verify") for r in runs if r.get("verify") not in (None, "ok")]
    if fails:
        rec["verify"] = fails[0]
    return rec


def print_verify_times(names: list[str], em_recs: dict) -> None:
    """Per network: regions, the seconds of em.regions, part.graph and part.verify() (medians
    of the runs, each run in a fresh process) and verify's and the graph's multiples of the
    enumeration time."""
    print("\n--verify: seconds (median of the runs; each run a fresh process) and multiples of em.regions")
    head = ["net", "regions", "runs", "regions s", "graph s", "verify s", "graph/regions", "verify/regions", "verify"]
    rows = []
    for name in names:
        e = em_recs.get(name) or {}
        reg, grs, ver = e.get("seconds"), e.get("graph_s"), e.get("verify_s")
        ratio = (lambda x: f"{x / reg:.1f}x" if x is not None and reg else "-")
        rows.append([name, str(e.get("regions", "-")), str(len(e.get("seconds_runs", [0]))), _fmt_s(reg), _fmt_s(grs),
                     _fmt_s(ver), ratio(grs), ratio(ver), str(e.get("verify", "-"))[:40]])
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    print("  ".join(h.rjust(w) for h, w in zip(head, widths)))
    for r in rows:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths)))
    for name in names:
        e = em_recs.get(name) or {}
        if "verify_s_runs" in e:
            print(f"  {name} runs: regions {', '.join(_fmt_s(x) for x in e['seconds_runs'])}; "
                  f"graph {', '.join(_fmt_s(x) for x in e.get('graph_s_runs', []))}; "
                  f"verify {', '.join(_fmt_s(x) for x in e['verify_s_runs'])}")


def print_peers(names: list[str], em_recs: dict) -> None:
    print("\nPeers quoted in issue 3 (same 2-core machine kind), seconds:")
    for tool, figs in PEERS:
        print(f"  {tool}: " + ", ".join(f"{k} {v:g} s" for k, v in figs.items()))
    print(f"  {TARGET}")
    fastest = PEERS[0][1]
    for name in names:
        e = em_recs.get(name)
        if name in fastest and e and "error" not in e and not e.get("timeout"):
            print(f"  {name}: exactmaso {e['seconds']:.3f} s vs fastest float tool {fastest[name]:g} s "
                  f"-> {fastest[name] / e['seconds']:.2f}x the float tool's speed")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nets", default=",".join(NETWORKS), help="comma-separated subset of " + ",".join(NETWORKS))
    ap.add_argument("--skip-naive", action="store_true", help="do not run the naive baseline")
    ap.add_argument("--naive-only", action="store_true", help="run only the naive baseline (no em.regions)")
    ap.add_argument("--time-limit", type=float, default=None, help="seconds per network (em.regions time_limit=)")
    ap.add_argument("--naive-time-limit", type=float, default=None,
                    help="seconds per network for the naive baseline (default: none)")
    ap.add_argument("--hard-limit", type=float, default=None,
                    help="kill a measurement (incl. graph/verify) after this many seconds "
                         "(default 3 * time-limit + 120, none without --time-limit)")
    ap.add_argument("--verify", action="store_true", help="also time part.graph and part.verify()")
    ap.add_argument("--repeat", type=int, default=1, metavar="N",
                    help="with --verify: N fresh-process runs per network, medians reported")
    ap.add_argument("--count-only", action="store_true", help="time em.count_regions instead of em.regions")
    ap.add_argument("--workers", type=int, default=0, metavar="N",
                    help="also time em.regions with executor=ProcessPoolExecutor(N) (one BLAS thread each)")
    args = ap.parse_args(argv)

    names = [n.strip().upper() for n in args.nets.split(",") if n.strip()]
    bad = [n for n in names if n not in NETWORKS]
    if bad:
        ap.error(f"unknown network(s) {bad}; expected some of {list(NETWORKS)}")
    # a safety net for a child that ignores its time limit
    ap_hard = args.hard_limit
    hard = ap_hard if ap_hard is not None else (None if args.time_limit is None else 3 * args.time_limit + 120)
    naive_hard = None if args.naive_time_limit is None else 3 * args.naive_time_limit + 120

    import platform

    print(f"bench_regions: python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"one spawned process per measurement, run sequentially")
    print("peak MiB = ru_maxrss of that process (whole process); (before) = ru_maxrss just before "
          "the timed call; seconds = wall clock of the call alone\n")
    em_recs: dict[str, dict] = {}
    naive_recs: dict[str, dict] = {}
    par_recs: dict[str, dict] = {}
    for name in names:
        if not args.naive_only:
            if args.verify:
                em_recs[name] = measure_verify(name, args.repeat, time_limit=args.time_limit,
                                               count_only=args.count_only, hard_limit=hard)
            else:
                em_recs[name] = measure(name, "exactmaso", time_limit=args.time_limit,
                                        count_only=args.count_only, hard_limit=hard)
            r = em_recs[name]
            sys.stdout.flush()
            print(f"  [{name} exactmaso] {_cell(r)[0]} regions, {_cell(r)[1]} s", file=sys.stderr, flush=True)
            if args.workers:
                w = measure(name, "exactmaso", time_limit=args.time_limit, count_only=args.count_only,
                            hard_limit=hard, workers=args.workers)
                par_recs[name] = w
                print(f"  [{name} exactmaso, {args.workers} workers] {_cell(w)[0]} regions, {_cell(w)[1]} s",
                      file=sys.stderr, flush=True)
        if not args.skip_naive and name in NAIVE_NETS:
            naive_recs[name] = measure(name, "naive", time_limit=args.naive_time_limit, hard_limit=naive_hard)
            r = naive_recs[name]
            print(f"  [{name} naive] {_cell(r)[0]} regions, {_cell(r)[1]} s", file=sys.stderr, flush=True)
    sys.stderr.flush()
    print_table(names, em_recs, naive_recs, verify=args.verify)
    if args.verify:
        print_verify_times(names, em_recs)
    if not args.naive_only:
        print_peers(names, em_recs)
    if par_recs:
        print(f"\nwith executor=ProcessPoolExecutor({args.workers}), its processes started before the clock "
              "(same regions, same order):")
        print(f"{'net':<5} {'serial s':>9} {'parallel s':>11} {'speed-up':>9} {'regions':>8}")
        for name, w in par_recs.items():
            r = em_recs[name]
            ok = not (r.get("timeout") or w.get("timeout") or "error" in r or "error" in w)
            speed = f"{r['seconds'] / w['seconds']:.2f}x" if ok and w["seconds"] > 0 else "-"
            print(f"{name:<5} {_cell(r)[1]:>9} {_cell(w)[1]:>11} {speed:>9} {_cell(w)[0]:>8}")
    fails = [n for n, r in em_recs.items() if "error" in r or (not r.get("timeout") and r["regions"] != NETWORKS[n]["expected"])]
    fails += [n + " (parallel)" for n, r in par_recs.items()
              if "error" in r or (not r.get("timeout") and r["regions"] != NETWORKS[n]["expected"])]
    fails += [n + " (naive)" for n, r in naive_recs.items()
              if "error" in r or (not r.get("timeout") and r["regions"] != NETWORKS[n]["expected"])]
    timeouts = [n for n, r in em_recs.items() if r.get("timeout")]
    timeouts += [n + " (naive)" for n, r in naive_recs.items() if r.get("timeout")]
    if timeouts:
        print(f"\ntimeout: {', '.join(timeouts)}")
    if fails:
        print(f"\nmismatch or error: {', '.join(fails)}")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
