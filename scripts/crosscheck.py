"""Long randomised cross-check: exactmaso's regions against the independent N-D oracle.

    python scripts/crosscheck.py --seed 7 --time 1800 --fail-dir /tmp/crosscheck_fail

Case i of a run has the seed ``SEED * 1_000_000 + i`` (replay one with ``--case SEED``); every
failing case is written as a small JSON (network in MASO form, box, seed, mismatches) into
``--fail-dir``, and a summary is printed at the end (also on Ctrl-C) and saved there as
summary.json.  Run from the worktree root so that ``import exactmaso`` is this checkout.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import crosscheck as cc  # noqa: E402


def _normalise(msg: str) -> str:
    """An exception message with its numbers blanked, to group equal failures."""
    return re.sub(r"-?\d+(/\d+)?(\.\d+)?(e[+-]?\d+)?", "#", msg)[:140]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=None, help="run seed (default: from the clock)")
    ap.add_argument("--count", type=int, default=None, help="number of networks (default: until --time)")
    ap.add_argument("--time", type=float, default=None, help="stop after this many seconds")
    ap.add_argument("--fail-dir", default="/tmp/crosscheck_fail")
    ap.add_argument("--family", action="append", help="only these families (repeatable)")
    ap.add_argument("--dim", type=int, action="append", help="only these input dimensions (repeatable)")
    ap.add_argument("--case", type=int, default=None, help="replay the single case with this case seed")
    ap.add_argument("--em-time-limit", type=float, default=60.0, help="time_limit for em.regions")
    ap.add_argument("--case-timeout", type=float, default=180.0, help="wall-clock limit per case (oracle + exactmaso)")
    ap.add_argument("--quiet", action="store_true", help="only the summary")
    args = ap.parse_args(argv)
    if args.count is None and args.time is None and args.case is None:
        args.count = 200
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(3), "big")
    fail_dir = Path(args.fail_dir)
    fail_dir.mkdir(parents=True, exist_ok=True)
    print(f"crosscheck seed={seed} count={args.count} time={args.time} fail_dir={fail_dir} "
          f"exactmaso={cc.em.__file__}", flush=True)

    tried = 0
    by_cat: collections.Counter = collections.Counter()
    by_family: collections.Counter = collections.Counter()
    degenerate = 0
    kinds: collections.Counter = collections.Counter()  # networks with at least one mismatch of this kind
    kinds_by_family: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    exceptions: collections.Counter = collections.Counter()
    warned: collections.Counter = collections.Counter()
    failing = 0
    t_em = t_or = 0.0
    slowest = (0.0, "")
    start = time.perf_counter()

    def summary() -> dict:
        elapsed = time.perf_counter() - start
        return {
            "seed": seed,
            "networks": tried,
            "failing_networks": failing,
            "elapsed_s": round(elapsed, 1),
            "oracle_s": round(t_or, 1),
            "exactmaso_s": round(t_em, 1),
            "non_generic_fraction": round(degenerate / tried, 3) if tried else 0.0,
            "categories": dict(by_cat),
            "families": dict(by_family),
            "mismatches_by_kind": dict(kinds),
            "mismatches_by_family": {f: dict(c) for f, c in sorted(kinds_by_family.items())},
            "exceptions": {k: v for k, v in exceptions.most_common()},
            "runtime_warnings": {k: v for k, v in warned.most_common(10)},
            "slowest_case": {"seconds": round(slowest[0], 1), "case": slowest[1]},
        }

    def print_summary() -> None:
        s = summary()
        print("\n=== crosscheck summary ===")
        print(f"seed {s['seed']}: {s['networks']} networks in {s['elapsed_s']} s "
              f"(oracle {s['oracle_s']} s, exactmaso {s['exactmaso_s']} s); {s['failing_networks']} failing")
        print(f"non-generic (built degenerate): {100 * s['non_generic_fraction']:.1f}%; categories {s['categories']}")
        print("mismatches by kind (networks):")
        for k, v in sorted(kinds.items(), key=lambda kv: -kv[1]):
            print(f"  {k:22s} {v}")
        print(f"verify failures: {kinds.get('verify_failed', 0)}; verify passed on a wrong partition: "
              f"{kinds.get('verify_passed_wrong', 0)}")
        print("exceptions (stage: type: message):")
        for k, v in exceptions.most_common():
            print(f"  {v:5d}  {k}")
        if warned:
            print("RuntimeWarnings from exactmaso (networks):")
            for k, v in warned.most_common(8):
                print(f"  {v:5d}  {k}")
        print("mismatches by family:")
        for f, c in sorted(kinds_by_family.items()):
            print(f"  {f:28s} {dict(c)}")
        print(f"slowest case: {s['slowest_case']}")
        (fail_dir / "summary.json").write_text(json.dumps(s, indent=1))

    seeds = [args.case] if args.case is not None else None
    i = 0
    try:
        while True:
            if seeds is not None:
                if i >= len(seeds):
                    break
                case_seed = seeds[i]
            else:
                if args.count is not None and i >= args.count:
                    break
                if args.time is not None and time.perf_counter() - start > args.time:
                    break
                case_seed = seed * 1_000_000 + i
            i += 1
            case = cc.make_case(case_seed)
            if args.family and not any(case.family == f or case.family.split(":")[0] == f for f in args.family):
                continue
            if args.dim and case.D not in args.dim:
                continue
            t0 = time.perf_counter()
            with warnings.catch_warnings(record=True) as wlist:
                warnings.simplefilter("always")
                mm, info = cc.check_case(case, time_limit=args.em_time_limit, case_timeout=args.case_timeout)
            dt = time.perf_counter() - t0
            tried += 1
            if not args.quiet and tried % 500 == 0:
                print(f"... {tried} networks, {failing} failing, {time.perf_counter() - start:.0f} s", flush=True)
            by_cat[case.category] += 1
            by_family[case.family.split(":")[0]] += 1
            degenerate += case.degenerate
            t_or += info.get("oracle_s", 0.0)
            t_em += info.get("em_regions_s", 0.0) + info.get("em_graph_s", 0.0) + info.get("em_verify_s", 0.0)
            if dt > slowest[0]:
                slowest = (dt, case.describe())
            ws = {f"{Path(w.filename).name}:{w.lineno}: {w.category.__name__}: {str(w.message)[:60]}"
                  for w in wlist if "exactmaso" in str(w.filename)}
            for w in ws:
                warned[w] += 1
            if not mm:
                continue
            failing += 1
            for k in {m.kind for m in mm}:
                kinds[k] += 1
                kinds_by_family[case.family][k] += 1
            for m in mm:
                if m.kind in ("exception", "limit", "timeout", "oracle_exception"):
                    exceptions[f"{m.kind}: {_normalise(m.detail)}"] += 1
            name = f"{case_seed}_{case.family.replace(':', '-')}_{'-'.join(sorted({m.kind for m in mm}))}.json"
            data = cc.case_to_json(case, mm)
            data["run_seed"] = seed
            (fail_dir / name).write_text(json.dumps(data))
            if not args.quiet:
                print(f"FAIL {case.describe()} ({dt:.1f} s): " + "; ".join(str(m)[:160] for m in mm), flush=True)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    print_summary()
    return 0


if __name__ == "__main__":
    sys.exit(main())
