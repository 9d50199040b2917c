"""Benchmark of the exact certificate checker on ACAS Xu branch-and-bound certificates.

For each instance: ``em.prove.check_spec`` decides the property (timed: "search"), then
``result.verify()`` re-checks its certificate in exact rational arithmetic (timed: "check",
the best of ``--repeat`` runs).  "nodes" counts the nodes of the certificate's proof trees,
the nodes the checker visits, and "ms/node" is the check time per node.

Usage::

    python benchmarks/bench_checker.py            # three instances
    python benchmarks/bench_checker.py --quick    # two short ones
    python benchmarks/bench_checker.py --only 1_3:prop_1 --repeat 3

Skips (exit 0) when the ACAS Xu files (``../shared/acasxu`` beside the repository, or
``--dir``) are missing.  ACAS Xu networks: CC BY 4.0, from the Reluplex work (Katz et al.,
CAV 2017), as published with the VNN-COMP 2021 benchmarks.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_DIR = os.path.join(ROOT, "..", "shared", "acasxu")
INSTANCES = ["1_1:prop_4", "1_3:prop_1", "1_2:prop_3"]
QUICK = ["2_1:prop_4", "1_1:prop_4"]


def tree_nodes(cert: dict) -> int:
    """The number of nodes in the certificate's proof trees."""
    count = 0
    for proof in cert.get("proofs", []):
        stack = [proof["tree"]] if isinstance(proof, dict) and "tree" in proof else []
        while stack:
            node = stack.pop()
            count += 1
            stack.extend(node.get("children", []))
    return count


def run(directory: str, instance: str, time_limit: float, repeat: int) -> tuple:
    import exactmaso as em

    net_name, prop = instance.split(":")
    net = em.load(os.path.join(directory, f"ACASXU_run2a_{net_name}_batch_2000.onnx"))
    spec = em.prove.load_vnnlib(os.path.join(directory, f"{prop}.vnnlib"), net)
    t0 = time.perf_counter()
    result = em.prove.check_spec(net, spec, time_limit=time_limit)
    search = time.perf_counter() - t0
    nodes = tree_nodes(result.certificate)
    check = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        result.verify()
        check = min(check, time.perf_counter() - t0)
    return result.status, nodes, search, check


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="two short instances")
    ap.add_argument("--only", help="instances NET:PROP, comma-separated (e.g. 1_3:prop_1)")
    ap.add_argument("--dir", default=DEFAULT_DIR, help="the ACAS Xu folder (onnx and vnnlib files)")
    ap.add_argument("--time-limit", type=float, default=120.0, help="seconds per search")
    ap.add_argument("--repeat", type=int, default=1, help="checks per certificate (the best is shown)")
    args = ap.parse_args(argv)
    if not os.path.isdir(args.dir):
        print(f"skipped: no ACAS Xu folder at {args.dir}")
        return 0
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    instances = args.only.split(",") if args.only else QUICK if args.quick else INSTANCES
    print(f"{'instance':<14} {'status':<8} {'nodes':>6} {'search s':>9} {'check s':>8} {'ms/node':>8}")
    for instance in instances:
        status, nodes, search, check = run(args.dir, instance, args.time_limit, args.repeat)
        per_node = 1000 * check / nodes if nodes else float("nan")
        print(f"{instance:<14} {status:<8} {nodes:>6} {search:>9.2f} {check:>8.2f} {per_node:>8.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
