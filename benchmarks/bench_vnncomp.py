"""Benchmark of the complete verifier on VNN-COMP instances (ACAS Xu by default).

Runs every instance of an instances csv (``model.onnx,property.vnnlib,timeout`` per line, the
VNN-COMP layout; default ``../shared/acasxu/acasxu_instances.csv``) through
``em.prove.check_spec`` with the instance's timeout, then re-verifies each verdict's
certificate with the checker (``em.prove.check``; a violation's certificate re-evaluates the
counterexample exactly).  Prints one row per instance (verdict, seconds, nodes, certificate
size, check seconds) and then the totals and the median seconds per property.

Every instance runs in its own fresh process (``python bench_vnncomp.py --worker ...``) with
one BLAS thread, one after the other (``--jobs N``: N at a time, rows still in the csv's
order): the network and the property are loaded there before the clock starts;
"seconds" is ``time.perf_counter`` around ``check_spec`` alone, "load" the model and property
reading.  A worker that outlives its timeout by more than ``--grace`` seconds (plus the
check) is killed and counted as a timeout.

The published ground truth for the 186 ACAS Xu instances of VNN-COMP 2021 is 139 holding and
47 violated; exactmaso's verdicts are exact (a certificate for "holds", an exact
counterexample for "violated"), so its totals are printed beside those numbers.

Usage::

    python benchmarks/bench_vnncomp.py                    # all 186 instances (hours)
    python benchmarks/bench_vnncomp.py --subset 3         # 3 instances per property, spread out
    python benchmarks/bench_vnncomp.py --properties 3,4 --timeout 30
    python benchmarks/bench_vnncomp.py --only 1_1:prop_4  # one instance (network 1_1, prop_4)
    python benchmarks/bench_vnncomp.py --jobs 2           # two instances at a time (two cores)

ACAS Xu networks: CC BY 4.0, from the Reluplex work (Katz et al., CAV 2017), as published
with the VNN-COMP 2021 benchmarks.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_CSV = os.path.join(ROOT, "..", "shared", "acasxu", "acasxu_instances.csv")
PUBLISHED = {"holds": 139, "violated": 47}  # VNN-COMP 2021, ACAS Xu (186 instances)


def worker(model: str, prop: str, timeout: float, cert_path: str, check: bool) -> dict[str, Any]:
    """Decide one instance in this process; return a JSON-able row."""
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    import exactmaso as em

    t0 = time.perf_counter()
    net = em.load(model)
    spec = em.prove.load_vnnlib(prop, net)
    row: dict[str, Any] = {"load": time.perf_counter() - t0}
    t0 = time.perf_counter()
    try:
        r = em.prove.check_spec(net, spec, time_limit=timeout)
    except em.LimitError as exc:
        row.update(verdict="timeout", seconds=time.perf_counter() - t0, nodes=exc.count, why=str(exc)[:300])
        return row
    row.update(verdict=r.status, seconds=time.perf_counter() - t0, nodes=r.nodes)
    r.save(cert_path)
    row["cert_bytes"] = os.path.getsize(cert_path)
    if check:
        t0 = time.perf_counter()
        try:
            em.prove.check(cert_path, net)
            row["checked"] = True
        except em.CertificateError as exc:  # a bug: report it, never hide it
            row["checked"] = False
            row["check_error"] = str(exc)[:300]
        row["check_seconds"] = time.perf_counter() - t0
    return row


def _instances(path: str) -> list[tuple[str, str, float]]:
    base = os.path.dirname(os.path.abspath(path))
    out = []
    with open(path, newline="") as fh:
        for line in csv.reader(fh):
            if not line or line[0].startswith("#"):
                continue
            model, prop, timeout = (s.strip() for s in line[:3])
            out.append((os.path.join(base, model), os.path.join(base, prop), float(timeout)))
    return out


def _name(model: str, prop: str) -> str:
    m = os.path.basename(model).replace("ACASXU_run2a_", "").replace("_batch_2000.onnx", "")
    return f"{m}:{os.path.basename(prop).replace('.vnnlib', '')}"


def _prop_of(name: str) -> str:
    return name.split(":", 1)[1]


def _pick(items: list, k: int) -> list:
    """k items spread evenly over the list (first and last included)."""
    if k >= len(items):
        return items
    if k == 1:
        return [items[0]]
    return [items[round(i * (len(items) - 1) / (k - 1))] for i in range(k)]


def run_one(model: str, prop: str, timeout: float, check: bool, grace: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench_vnncomp_") as tmp:
        cert = os.path.join(tmp, "cert.json")
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", model, prop, str(timeout), cert]
        if not check:
            cmd.append("--no-check")
        # the check is not timed against the instance: allow it as long again (at least 10 minutes)
        wall = timeout + grace + (max(600.0, 10 * timeout) if check else 0.0)
        # one BLAS thread per worker (unless the caller chose): instances running side by side
        # with --jobs do not fight over the cores
        env = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", **os.environ}
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=wall, env=env)
        except subprocess.TimeoutExpired:
            return {"verdict": "killed", "seconds": wall, "nodes": None}
        lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
        if done.returncode != 0 or not lines:
            tail = (done.stderr.strip().splitlines() or ["?"])[-1]
            return {"verdict": "error", "seconds": float("nan"), "nodes": None, "error": tail[:200]}
        return json.loads(lines[-1])


def _fmt(v: Any, spec: str) -> str:
    if v is None:
        width = "".join(ch for ch in spec.split(".")[0] if ch.isdigit())
        return "-".rjust(int(width) if width else 1)
    if isinstance(v, float) and v != v:
        return "nan"
    return format(v, spec)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--instances", default=DEFAULT_CSV, help="instances csv (default: ../shared/acasxu)")
    ap.add_argument("--subset", type=int, metavar="K", help="K instances per property, spread over the networks")
    ap.add_argument("--properties", help="comma-separated property numbers or names (e.g. 1,3 or prop_7)")
    ap.add_argument("--only", action="append", metavar="NET:PROP", help="one instance, e.g. 1_9:prop_7 (repeatable)")
    ap.add_argument("--timeout", type=float, help="override every instance's timeout (seconds)")
    ap.add_argument("--no-check", action="store_true", help="do not re-verify the certificates")
    ap.add_argument("--grace", type=float, default=30.0, help="seconds beyond the timeout before a worker is killed")
    ap.add_argument("--json", metavar="F", help="also write the rows as JSON to F")
    ap.add_argument("--jobs", type=int, default=1, metavar="N",
                    help="instances run side by side (default 1; each worker uses one BLAS thread)")
    ap.add_argument("--worker", nargs=4, metavar=("MODEL", "PROP", "TIMEOUT", "CERT"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        model, prop, timeout, cert = args.worker
        print(json.dumps(worker(model, prop, float(timeout), cert, not args.no_check)), flush=True)
        return 0

    if not os.path.exists(args.instances):
        print(f"bench_vnncomp: no instances csv at {args.instances}; pass --instances", file=sys.stderr)
        return 2
    items = [(m, p, t, _name(m, p)) for m, p, t in _instances(args.instances)]
    if args.properties:
        wanted = {w if w.startswith("prop_") else f"prop_{w}" for w in args.properties.split(",")}
        items = [it for it in items if _prop_of(it[3]) in wanted]
    if args.only:
        items = [it for it in items if it[3] in set(args.only)]
    if args.subset:
        by_prop: dict[str, list] = {}
        for it in items:
            by_prop.setdefault(_prop_of(it[3]), []).append(it)
        items = [it for group in by_prop.values() for it in _pick(group, args.subset)]
    if not items:
        print("bench_vnncomp: no instance selected", file=sys.stderr)
        return 2

    print(f"# {len(items)} instances from {os.path.relpath(args.instances)}; one fresh process each; "
          f"python {sys.version.split()[0]}, {os.cpu_count()} cpus")
    head = f"{'instance':<14} {'verdict':<9} {'seconds':>8} {'nodes':>7} {'cert KiB':>9} {'check s':>8} {'load s':>7}"
    print(head)
    print("-" * len(head))
    rows = []

    def one(item):
        model, prop, timeout, name = item
        return {**run_one(model, prop, args.timeout or timeout, not args.no_check, args.grace), "instance": name}

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = pool.map(one, items)  # in the csv's order
        for row in results:
            name = row["instance"]
            rows.append(row)
            cert = row.get("cert_bytes")
            flag = "" if row.get("checked", True) else f"  CHECK FAILED: {row.get('check_error')}"
            if row["verdict"] == "error":
                flag = f"  {row.get('error')}"
            print(f"{name:<14} {row['verdict']:<9} {_fmt(row.get('seconds'), '8.2f')} {_fmt(row.get('nodes'), '7d')} "
                  f"{_fmt(None if cert is None else cert / 1024, '9.1f')} {_fmt(row.get('check_seconds'), '8.2f')} "
                  f"{_fmt(row.get('load'), '7.2f')}{flag}", flush=True)

    print()
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    decided = [r for r in rows if r["verdict"] in ("holds", "violated")]
    checked = sum(1 for r in decided if r.get("checked"))
    print("verdicts: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) +
          f"; certificates re-verified: {checked} of {len(decided)}" + ("" if not args.no_check else " (--no-check)"))
    if len(rows) == 186:
        print(f"published (VNN-COMP 2021): holds {PUBLISHED['holds']}, violated {PUBLISHED['violated']}")
    total = sum(r["seconds"] for r in rows if r.get("seconds") == r.get("seconds"))
    print(f"total seconds (check_spec): {total:.1f}; certificate checks: "
          f"{sum(r.get('check_seconds', 0.0) for r in rows):.1f}")
    print(f"\n{'property':<9} {'n':>3} {'decided':>7} {'median s':>9} {'max s':>8} {'median check s':>15}")
    groups: dict[str, list] = {}
    for r in rows:
        groups.setdefault(_prop_of(r["instance"]), []).append(r)
    for prop in sorted(groups, key=lambda p: int(p.split("_")[1])):
        g = groups[prop]
        secs = [r["seconds"] for r in g if r["verdict"] in ("holds", "violated")]
        chk = [r["check_seconds"] for r in g if "check_seconds" in r]
        print(f"{prop:<9} {len(g):>3} {len(secs):>7} {_fmt(statistics.median(secs) if secs else None, '9.2f')} "
              f"{_fmt(max(secs) if secs else None, '8.2f')} {_fmt(statistics.median(chk) if chk else None, '15.2f')}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
