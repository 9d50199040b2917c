"""exactmaso's region enumeration side by side with the edge-subdivision tool.

The peer: "Polyhedral complex extraction from ReLU networks using edge subdivision" (Berzins,
ICML 2023), the fastest float tool we know of: float32 PyTorch, it returns the vertices and
edges of the polyhedral complex (no regions, no certificates).  Its source is not part of
exactmaso; fetch it into a folder outside the project and pass that folder::

    git clone https://github.com/arturs-berzins/relu_edge_subdivision /tmp/edge_subdivision
    python benchmarks/bench_peers.py --edge-subdivision /tmp/edge_subdivision

Both run the networks of ``bench_regions.py`` on [-1, 1]^D (the same float64 weights; the
peer gets their float32 copies), each measurement in a fresh spawned process with one thread,
interleaved (exactmaso, peer, exactmaso, peer, ...) ``--repeats`` times.  The table gives the
median seconds of the timed call alone, the peak memory of the process, and the ratio
``t(exactmaso) / t(edge subdivision)`` (below 1: exactmaso is faster).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # one thread per process
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import multiprocessing as mp  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from typing import Any  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for _p in (ROOT, HERE):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from bench_regions import NETWORKS, _maxrss_mib, network_weights  # noqa: E402


def _run_exactmaso(name: str) -> dict[str, Any]:
    import exactmaso as em
    from bench_regions import build_network

    spec = NETWORKS[name]
    D = spec["sizes"][0]
    net = build_network(spec["sizes"], spec["seed"])
    t0 = time.perf_counter()
    part = em.regions(net, em.Box([-1] * D, [1] * D))
    return {"seconds": time.perf_counter() - t0, "regions": len(part), "mib": _maxrss_mib()}


def _run_peer(name: str, path: str) -> dict[str, Any]:
    sys.path.insert(0, path)
    import torch
    from edge_subdivision import skeletal_subdivision
    from NN import Net

    torch.set_num_threads(1)
    spec = NETWORKS[name]
    weights, biases = network_weights(spec["sizes"], spec["seed"])
    f = Net(ks=spec["sizes"])
    with torch.no_grad():
        for fc, W, b in zip(f.fcs, weights, biases):
            fc.weight.copy_(torch.tensor(W, dtype=torch.float32))
            fc.bias.copy_(torch.tensor(b, dtype=torch.float32))
        t0 = time.perf_counter()
        vs, edges, _ = skeletal_subdivision(f, bbox=(-1, 1), device="cpu", verbose=False)
    return {"seconds": time.perf_counter() - t0, "vertices": len(vs), "edges": len(edges), "mib": _maxrss_mib()}


def _child(conn, tool: str, name: str, path: str | None) -> None:
    try:
        out = _run_exactmaso(name) if tool == "exactmaso" else _run_peer(name, path)
    except BaseException as exc:  # report, keep the table
        out = {"error": f"{type(exc).__name__}: {exc}"[:160], "traceback": traceback.format_exc()}
    conn.send(out)
    conn.close()


def measure(tool: str, name: str, path: str | None, hard_limit: float) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_child, args=(child, tool, name, path))
    p.start()
    child.close()
    out = parent.recv() if parent.poll(hard_limit) else {"error": f"killed after {hard_limit:.0f} s"}
    if p.is_alive():
        p.kill()
    p.join()
    return out


def _median(recs: list[dict], key: str) -> float | None:
    vals = [r[key] for r in recs if key in r]
    return statistics.median(vals) if vals else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--edge-subdivision", metavar="PATH", help="folder holding the peer's edge_subdivision.py and NN.py")
    ap.add_argument("--nets", default=",".join(NETWORKS), help="comma-separated subset of " + ",".join(NETWORKS))
    ap.add_argument("--repeats", type=int, default=3, help="interleaved measurements per tool and network")
    ap.add_argument("--hard-limit", type=float, default=600.0, help="seconds before a measurement is killed")
    args = ap.parse_args(argv)
    names = [n.strip().upper() for n in args.nets.split(",") if n.strip()]
    bad = [n for n in names if n not in NETWORKS]
    if bad:
        ap.error(f"unknown network(s) {bad}; expected some of {list(NETWORKS)}")
    path = args.edge_subdivision
    if path is not None and not os.path.exists(os.path.join(path, "edge_subdivision.py")):
        ap.error(f"--edge-subdivision {path}: no edge_subdivision.py there")
    if path is None:
        print("bench_peers: no --edge-subdivision PATH given; timing exactmaso alone", file=sys.stderr)
    tools = ["exactmaso"] + (["edge subdivision"] if path else [])
    recs: dict[tuple[str, str], list[dict]] = {(t, n): [] for t in tools for n in names}
    for rep in range(args.repeats):
        for name in names:
            for tool in tools:
                r = measure(tool, name, path, args.hard_limit)
                recs[(tool, name)].append(r)
                what = r.get("error") or f"{r['seconds']:.3f} s"
                print(f"  [{rep + 1}/{args.repeats} {name} {tool}] {what}", file=sys.stderr, flush=True)
    print(f"# {args.repeats} interleaved runs per tool and network, fresh processes, one thread; "
          f"medians of the timed call; peak MiB of the process")
    head = (f"{'net':<4} {'D':>2} {'regions':>8} {'exactmaso s':>12} {'MiB':>6} {'peer vertices':>14} "
            f"{'peer s':>9} {'MiB':>6} {'ratio em/peer':>14}")
    print(head)
    print("-" * len(head))
    for name in names:
        em_r = recs[("exactmaso", name)]
        pe_r = recs.get(("edge subdivision", name), [])
        t_em, t_pe = _median(em_r, "seconds"), _median(pe_r, "seconds")
        regions = next((r["regions"] for r in em_r if "regions" in r), None)
        verts = next((r["vertices"] for r in pe_r if "vertices" in r), None)
        err = next((r["error"] for r in pe_r if "error" in r), None)

        def f(v, spec):
            return "-" if v is None else format(v, spec)

        ratio = f"{t_em / t_pe:.2f}" if t_em is not None and t_pe else ("peer failed" if err else "-")
        print(f"{name:<4} {NETWORKS[name]['sizes'][0]:>2} {f(regions, 'd'):>8} {f(t_em, '.3f'):>12} "
              f"{f(_median(em_r, 'mib'), '.0f'):>6} {f(verts, ',d'):>14} {f(t_pe, '.3f'):>9} "
              f"{f(_median(pe_r, 'mib'), '.0f'):>6} {ratio:>14}")
        if err:
            print(f"     peer: {err}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
