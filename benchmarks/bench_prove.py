"""Benchmark of exact proofs (``em.prove``): seconds per proof.

Networks and questions:

- N1..N5, the region benchmark's nets (``bench_regions.py``) on [-1, 1]^D: the max and the
  min of output 0 (branch and bound), the Lipschitz constant in norms inf and 2 (partition),
  and robustness on the inf-ball of radius 1/20 around the centre.  These nets have one
  output, so robustness is asked of the sign classifier x -> (f(x), 0): is the sign of f
  constant (and non-zero) on the ball?
- N8, a [5, 16, 16, 1] net built like N1..N5 (seed 8) on [-1, 1]^5: the max and the min of
  its output by branch and bound, against the same numbers from full enumeration (every
  region, the exact output at every region vertex; an affine function on a polytope peaks at
  a vertex).  The two must be equal, and branch and bound at least 10x faster.
- C2, a [2, 16, 16, 2] net (seed 10) on the unit square: Lipschitz constants in norms 1, inf
  and 2 (the operator norm over both outputs), bounds of output 0, robustness at the centre.
- ACAS Xu network 1_1 over property 1's input box: the max of output 0 within 116 s (it closes
  in 18-45 s on a 2-core machine, 2,192 nodes; with a smaller limit the interval proves it).  The
  VNN-COMP files are in normalised units on both sides (1500 ft/s becomes
  (1500 - 7.5188840201005975) / 373.94992 = 3.991125645861615, the number in the vnnlib), so
  the property holds if the proven upper end is below the vnnlib's threshold.

Every proof runs in its own fresh spawned process, one after the other: the network and the
domain are built there before the clock starts, and "seconds" is ``time.perf_counter`` around
the one call.

Usage::

    python benchmarks/bench_prove.py                 # everything (about 5 minutes)
    python benchmarks/bench_prove.py --quick         # skip N8's full enumeration
    python benchmarks/bench_prove.py --no-acas --skip-l2
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for _p in (ROOT, HERE):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from bench_regions import NETWORKS as REGION_NETWORKS  # noqa: E402
from bench_regions import build_network, network_weights  # noqa: E402

REGION_NETS = ("N1", "N2", "N3", "N4", "N5")
EXTRA_NETWORKS: dict[str, dict[str, Any]] = {
    "N8": {"sizes": [5, 16, 16, 1], "seed": 8, "box": (-1, 1)},
    "C2": {"sizes": [2, 16, 16, 2], "seed": 10, "box": (0, 1)},
}
EPS = Fraction(1, 20)
MIN_SPEEDUP = 10.0

ACAS_DIR = "/work/shared/acasxu"
ACAS_NET = os.path.join(ACAS_DIR, "ACASXU_run2a_1_1_batch_2000.onnx")
ACAS_PROP = os.path.join(ACAS_DIR, "prop_1.vnnlib")
ACAS_TIME_LIMIT = 116.0


@dataclass(frozen=True)
class Job:
    """One timed proof: ``kind`` names the call, ``params`` its arguments."""

    group: str
    net: str
    proof: str
    kind: str
    params: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------------------
# networks and domains
# ---------------------------------------------------------------------------------------


def net_spec(name: str) -> dict[str, Any]:
    if name in EXTRA_NETWORKS:
        return EXTRA_NETWORKS[name]
    return {**REGION_NETWORKS[name], "box": (-1, 1)}


def seed_of(name: str) -> str:
    return str(net_spec(name)["seed"]) if name != "ACAS" else "-"


def domain(name: str):
    import exactmaso as em

    spec = net_spec(name)
    lo, hi = spec["box"]
    D = spec["sizes"][0]
    return em.Box([lo] * D, [hi] * D)


def sign_classifier(sizes: list[int], seed: int):
    """The net x -> (f(x), 0) for a one-output net f: class 0 wins exactly where f > 0."""
    import numpy as np

    import exactmaso as em

    weights, biases = network_weights(sizes, seed)
    weights[-1] = np.vstack([weights[-1], np.zeros((1, weights[-1].shape[1]))])
    biases[-1] = np.append(biases[-1], 0.0)
    return em.mlp(weights, biases)


def acas_network(path: str):
    """ACAS Xu from ONNX: ``em.from_onnx`` if it reads the file, else the loader below.

    Returns ``(net, loader)``, where ``loader`` says which one read it.
    """
    import exactmaso as em

    try:
        return em.from_onnx(path), "em.from_onnx"
    except em.ExactMasoError as exc:
        return acas_from_initializers(path), f"onnx initializers (em.from_onnx: {type(exc).__name__})"


def acas_from_initializers(path: str):
    """The VNN-COMP ACAS Xu graph Sub(input, mean) -> Flatten -> (MatMul, Add, Relu) x 6 ->
    MatMul, Add as ``em.mlp``: the float32 initializers taken exactly, the mean subtraction
    folded into the first bias (b1' = b1 - W1 @ mean, in Fractions)."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    import exactmaso as em

    graph = onnx.load(path).graph
    init = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    ops = [n.op_type for n in graph.node]
    expected = ["Sub", "Flatten"] + ["MatMul", "Add", "Relu"] * 6 + ["MatMul", "Add"]
    if ops != expected:
        raise ValueError(f"{path}: the graph is {ops}; expected {expected}")

    def exact(a) -> np.ndarray:
        return np.vectorize(lambda v: Fraction(float(v)), otypes=[object])(a)

    mean = exact(init[graph.node[0].input[1]].reshape(-1))
    weights = [exact(init[n.input[1]].T) for n in graph.node if n.op_type == "MatMul"]  # x @ W: W is (in, out)
    biases = [exact(init[n.input[1]].reshape(-1)) for n in graph.node if n.op_type == "Add"]
    biases[0] = biases[0] - weights[0].dot(mean)
    return em.mlp(weights, biases)


def acas_threshold(spec) -> Fraction:
    """t of property 1's unsafe set ``Y_0 >= t`` (the vnnlib's one output comparison)."""
    (case,) = spec.cases
    (unsafe,) = case.unsafe  # -y0 <= -t
    c = unsafe.coeffs
    if c[0] >= 0 or any(c[1:]):
        raise ValueError(f"property 1's unsafe set is {unsafe}; expected y0 >= t")
    return unsafe.rhs / c[0]


# ---------------------------------------------------------------------------------------
# one proof, in a child process
# ---------------------------------------------------------------------------------------


def _q(x: Fraction) -> str:
    return f"{x.numerator}/{x.denominator}"


def run_job(job: Job) -> dict[str, Any]:
    """Build the job's network and domain, then time the proof alone."""
    import exactmaso as em

    p = job.params
    out: dict[str, Any] = {}
    if job.kind == "bounds":
        net, dom = build_network(net_spec(job.net)["sizes"], net_spec(job.net)["seed"]), domain(job.net)
        t0 = time.perf_counter()
        r = em.prove.output_bounds(net, dom, output=0, which=p["side"])
        out["seconds"] = time.perf_counter() - t0
        value = r.hi if p["side"] == "max" else r.lo
        out.update(exact=_q(value), answer=f"{float(value):.6g}", nodes=r.nodes)
    elif job.kind == "lipschitz":
        net, dom = build_network(net_spec(job.net)["sizes"], net_spec(job.net)["seed"]), domain(job.net)
        t0 = time.perf_counter()
        r = em.prove.lipschitz(net, dom, norm=p["norm"])
        out["seconds"] = time.perf_counter() - t0
        out["answer"] = f"{r.value_float:.6g}"
    elif job.kind == "robust":
        spec = net_spec(job.net)
        net = sign_classifier(spec["sizes"], spec["seed"]) if spec["sizes"][-1] == 1 else build_network(
            spec["sizes"], spec["seed"])
        lo, hi = spec["box"]
        x0 = [Fraction(lo + hi, 2)] * spec["sizes"][0]
        t0 = time.perf_counter()
        r = em.prove.robust(net, x0, EPS, norm="inf")
        out["seconds"] = time.perf_counter() - t0
        top = (("y0 > 0", "y0 < 0")[r.label] if spec["sizes"][-1] == 1 else f"class {r.label} on top")
        out["answer"] = f"{top}: " + ("holds" if r.holds else "counterexample")
    elif job.kind == "enumerate":
        out.update(enumerate_extremes(job.net))
    elif job.kind == "acas":
        out.update(acas_bound(p["time_limit"]))
    else:  # pragma: no cover
        raise ValueError(f"unknown job kind {job.kind!r}")
    return out


def enumerate_extremes(name: str) -> dict[str, Any]:
    """Max and min of output 0 from the full partition: the exact output at every region vertex."""
    import numpy as np

    import exactmaso as em

    net, dom = build_network(net_spec(name)["sizes"], net_spec(name)["seed"]), domain(name)
    t0 = time.perf_counter()
    part = em.regions(net, dom)
    t1 = time.perf_counter()
    vertices = {tuple(v) for r in part for v in r.vertices()}
    t2 = time.perf_counter()
    y = net(np.array(sorted(vertices), dtype=object))[:, 0]
    hi, lo = max(y), min(y)
    t3 = time.perf_counter()
    return {"seconds": t3 - t0, "max": _q(hi), "min": _q(lo), "answer": f"[{float(lo):.6g}, {float(hi):.6g}]",
            "detail": f"{len(part)} regions {t1 - t0:.1f} s, {len(vertices)} vertices {t2 - t1:.1f} s, "
                      f"outputs {t3 - t2:.1f} s"}


def acas_bound(time_limit: float) -> dict[str, Any]:
    """Max of ACAS Xu 1_1's output 0 over property 1's box, with a time limit."""
    import exactmaso as em

    t0 = time.perf_counter()
    net, loader = acas_network(ACAS_NET)
    spec = em.prove.load_vnnlib(ACAS_PROP, net)
    box = em.Box(spec.cases[0].inputs.lo, spec.cases[0].inputs.hi)
    threshold = acas_threshold(spec)
    out: dict[str, Any] = {"loader": loader, "load_s": time.perf_counter() - t0, "threshold": _q(threshold)}
    t0 = time.perf_counter()
    try:
        r = em.prove.output_bounds(net, box, output=0, which="max", time_limit=time_limit)
        out["seconds"] = time.perf_counter() - t0
        lower = upper = r.hi
        out.update(nodes=r.nodes, answer=f"max {float(r.hi):.6g} (exact)")
    except em.LimitError as exc:
        out["seconds"] = time.perf_counter() - t0
        lower, upper = exc.lower, exc.upper
        out.update(nodes=exc.count, answer=f"max in [{float(lower):.4g}, {float(upper):.4g}] (limit)")
    out["proven"] = upper is not None and upper < threshold
    out["lower"], out["upper"] = _q(lower), _q(upper)
    return out


def _child(conn, job: Job) -> None:
    try:
        rec = run_job(job)
    except BaseException as exc:  # report, never hang the parent
        rec = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
    conn.send(rec)
    conn.close()


def measure(job: Job, hard_limit: float | None) -> dict[str, Any]:
    """Run one job in a fresh spawned process; a record with "error" if it fails or hangs."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, job))
    proc.start()
    child.close()
    rec = None
    if parent.poll(hard_limit):
        try:
            rec = parent.recv()
        except EOFError:
            pass
    if rec is None:
        why = f"killed after {hard_limit:.0f} s (hard limit)" if proc.is_alive() else f"child died (exit code {proc.exitcode})"
        if proc.is_alive():
            proc.terminate()
        rec = {"error": why}
    proc.join()
    return rec


# ---------------------------------------------------------------------------------------
# the run
# ---------------------------------------------------------------------------------------


def jobs(args) -> list[Job]:
    out: list[Job] = []
    norms_1out = ["inf"] + ([] if args.skip_l2 else [2])
    for name in REGION_NETS:
        out += [Job("N1-N5", name, f"bounds {side} y0", "bounds", {"side": side}) for side in ("max", "min")]
        out += [Job("N1-N5", name, f"lipschitz {norm}", "lipschitz", {"norm": norm}) for norm in norms_1out]
        out.append(Job("N1-N5", name, "robust inf 1/20 (sign)", "robust"))
    out += [Job("N8", "N8", f"bounds {side} y0", "bounds", {"side": side}) for side in ("max", "min")]
    if not args.quick:
        out.append(Job("N8", "N8", "enumeration + vertices", "enumerate"))
    out += [Job("C2", "C2", f"lipschitz {norm}", "lipschitz", {"norm": norm})
            for norm in [1, "inf"] + ([] if args.skip_l2 else [2])]
    out += [Job("C2", "C2", f"bounds {side} y0", "bounds", {"side": side}) for side in ("max", "min")]
    out.append(Job("C2", "C2", "robust inf 1/20", "robust"))
    if not args.no_acas:
        out.append(Job("ACAS", "ACAS", "prop 1: bounds max y0", "acas", {"time_limit": args.acas_time_limit}))
    return out


def method_of(job: Job) -> str:
    return {"bounds": "B&B", "robust": "B&B", "lipschitz": "partition", "enumerate": "partition",
            "acas": "B&B"}[job.kind]


def _fmt_s(x: float | None) -> str:
    return "-" if x is None else (f"{x:.3f}" if x < 10 else f"{x:.1f}")


def print_table(done: list[tuple[Job, dict]]) -> None:
    head = ["group", "net", "seed", "proof", "method", "answer", "nodes", "seconds"]
    rows = []
    for job, rec in done:
        answer = "ERROR" if "error" in rec else rec["answer"]
        rows.append([job.group, job.net, seed_of(job.net), job.proof, method_of(job), answer,
                     str(rec.get("nodes", "-")), _fmt_s(rec.get("seconds"))])
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    left = {"group", "net", "proof", "method", "answer"}

    def line(cells):
        return "  ".join(c.ljust(w) if h in left else c.rjust(w) for c, w, h in zip(cells, widths, head))

    print(line(head))
    print("-" * len(line(head)))
    group = None
    for (job, rec), row in zip(done, rows):
        if group is not None and job.group != group:
            print()
        group = job.group
        print(line(row))
    print("-" * len(line(head)))
    totals: dict[str, float] = {}
    for job, rec in done:
        totals[job.group] = totals.get(job.group, 0.0) + rec.get("seconds", 0.0)
    for g, s in totals.items():
        print(line(["total", g, "", "", "", "", "", _fmt_s(s)]))
    print(line(["total", "all", "", "", "", "", "", _fmt_s(sum(totals.values()))]))


def summarise_n8(done: list[tuple[Job, dict]]) -> bool:
    """Branch and bound against enumeration on N8; False if they disagree or the speed-up is short."""
    recs = {job.proof: rec for job, rec in done if job.group == "N8"}
    bb = [recs.get("bounds max y0"), recs.get("bounds min y0")]
    enum = recs.get("enumeration + vertices")
    if enum is None or any(r is None or "error" in r for r in bb) or "error" in enum:
        return enum is None and all(r is not None and "error" not in r for r in bb)
    same_max = Fraction(bb[0]["exact"]) == Fraction(enum["max"])
    same_min = Fraction(bb[1]["exact"]) == Fraction(enum["min"])
    bb_s = bb[0]["seconds"] + bb[1]["seconds"]
    ratio = enum["seconds"] / bb_s
    print(f"\nN8 [5,16,16,1] seed 8 on [-1,1]^5: enumeration ({enum['detail']})")
    print(f"  max equal: {'yes' if same_max else 'NO'}, min equal: {'yes' if same_min else 'NO'} (exact Fractions)")
    print(f"  branch and bound {bb_s:.2f} s (max {bb[0]['seconds']:.2f} s + min {bb[1]['seconds']:.2f} s) vs "
          f"enumeration {enum['seconds']:.1f} s: {ratio:.0f}x faster (needs >= {MIN_SPEEDUP:.0f}x: "
          f"{'pass' if ratio >= MIN_SPEEDUP else 'FAIL'})")
    return same_max and same_min and ratio >= MIN_SPEEDUP


def summarise_acas(done: list[tuple[Job, dict]]) -> None:
    for job, rec in done:
        if job.group != "ACAS" or "error" in rec:
            continue
        t = Fraction(rec["threshold"])
        print(f"\nACAS Xu 1_1, property 1 (unsafe: Y_0 >= {float(t)!r}); net read by {rec['loader']} "
              f"in {rec['load_s']:.1f} s (outside the clock)")
        print(f"  max of y0 in [{float(Fraction(rec['lower'])):.6g}, {float(Fraction(rec['upper'])):.6g}] after "
              f"{rec['nodes']} nodes, {rec['seconds']:.1f} s: property 1 "
              + ("PROVEN (upper end < threshold)" if rec["proven"] else "not proven"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="skip N8's full enumeration (the slow baseline)")
    ap.add_argument("--no-acas", action="store_true", help="skip ACAS Xu")
    ap.add_argument("--skip-l2", action="store_true", help="skip the norm-2 Lipschitz constants")
    ap.add_argument("--acas-time-limit", type=float, default=ACAS_TIME_LIMIT,
                    help=f"seconds for the ACAS Xu bound (default {ACAS_TIME_LIMIT:g})")
    ap.add_argument("--hard-limit", type=float, default=900.0,
                    help="kill one proof's process after this many seconds (default 900)")
    args = ap.parse_args(argv)

    import platform

    print(f"bench_prove: python {platform.python_version()}, {os.cpu_count()} CPUs; one fresh spawned process "
          f"per proof, run sequentially; seconds = time.perf_counter around the call alone")
    print(f"robust: inf-ball of radius {EPS} around the domain's centre; N1-N5 and N8 on [-1,1]^D, "
          f"C2 [2,16,16,2] on [0,1]^2; nets as in bench_regions.py (seed column)\n")
    done: list[tuple[Job, dict]] = []
    t_start = time.perf_counter()
    for job in jobs(args):
        rec = measure(job, args.hard_limit)
        done.append((job, rec))
        status = rec["error"] if "error" in rec else f"{rec['answer']}, {_fmt_s(rec['seconds'])} s"
        print(f"  [{job.net} {job.proof}] {status}", file=sys.stderr, flush=True)
    wall = time.perf_counter() - t_start
    print_table(done)
    print(f"(wall clock of the whole run, process start-ups included: {wall:.0f} s)")
    ok = summarise_n8(done)
    summarise_acas(done)
    errors = [(job, rec) for job, rec in done if "error" in rec]
    for job, rec in errors:
        print(f"\n{job.net} {job.proof}: {rec['error']}")
        if "traceback" in rec:
            print(rec["traceback"].rstrip())
    return 0 if ok and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
