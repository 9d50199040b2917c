"""Minimise a failing cross-check case and save it as a regression fixture.

    python scripts/minimise_case.py /tmp/crosscheck_fail/CASE.json --kind edges_missing \
        --out tests/regressions/thin_face_3d.json --what "a thin face between ... is an edge"

``--kind`` is a mismatch kind of tests/crosscheck.py (count, codes, affine, vertices, volume,
hrep, edges_missing, edges_extra, verify_failed, verify_passed_wrong) or ``exception:TYPE``
(e.g. exception:OverflowError).  The case is reduced greedily (layers, units, pieces, inputs,
then simpler numbers) while that failure persists; the fixture's expectations come from the
oracle only.  ``--min-dim`` keeps at least that many inputs (e.g. to keep a 3-D case 3-D).
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import crosscheck as cc  # noqa: E402


def matcher(kind: str):
    base, _, typ = kind.partition(":")

    def hit(mismatches) -> bool:
        return any(m.kind == base and (not typ or typ in m.detail) for m in mismatches)

    return hit


def write_fixture(out, what, kind, layers, lo, hi, *, shape=None, found_by=None) -> dict:
    """Print the reproduction, the oracle's figures and exactmaso's mismatches; write the
    fixture (expectations from the oracle only) when ``out`` is given."""
    mm, _ = cc.check_layers(layers, lo, hi, time_limit=60, input_shape=shape)
    repro = cc.reproduction(layers, lo, hi, input_shape=shape)
    exp = cc.oracle_expectations(layers, lo, hi)
    print(repro)
    print(f"oracle: {exp['regions']} regions, {exp['edges']} edges")
    for m in mm:
        print(f"exactmaso: {m}")
    fixture = {
        "what": what,
        "kind": kind,
        "reproduce": repro,
        "found_by": found_by or {},
        "input_shape": shape,
        "layers": cc.layers_to_json(layers),
        "box": {"lo": [cc._s(v) for v in lo], "hi": [cc._s(v) for v in hi]},
        "expected": exp,
        "exactmaso_when_saved": [str(m) for m in mm],
    }
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(fixture, indent=1) + "\n")
        print(f"wrote {out}")
    return fixture


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("case", help="a failing case JSON written by scripts/crosscheck.py (or a fixture)")
    ap.add_argument("--kind", required=True)
    ap.add_argument("--out", help="fixture path (tests/regressions/NAME.json)")
    ap.add_argument("--what", default="", help="one sentence: what the fixture guards")
    ap.add_argument("--budget", type=float, default=300.0, help="seconds of minimisation")
    ap.add_argument("--min-dim", type=int, default=1)
    ap.add_argument("--no-minimise", action="store_true")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    layers, lo, hi, data = cc.load_json(args.case)
    shape = data.get("input_shape")

    def shape_for(lo_):
        """(1, D) stays (channels, length) when inputs are dropped; other shapes only as given."""
        if not shape:
            return None
        if len(shape) == 2 and shape[0] == 1:
            return [1, len(lo_)]
        return shape if len(lo_) == len(lo) else None
    hit = matcher(args.kind)
    need_verify = args.kind.startswith("verify")

    def fails(L, lo_, hi_) -> bool:
        if len(lo_) < args.min_dim:
            return False
        with cc._alarm(60):
            try:
                mm, _ = cc.check_layers(L, lo_, hi_, time_limit=30, verify=need_verify,
                                        input_shape=shape_for(lo_))
            except cc.CaseTimeout:
                return False
        return hit(mm)

    if not fails(layers, lo, hi):
        print(f"the case does not fail with {args.kind!r} as given", file=sys.stderr)
        return 1
    if not args.no_minimise:
        layers, lo, hi = cc.minimise(layers, lo, hi, fails, budget_s=args.budget, log=print)
    shape = shape_for(lo)
    write_fixture(args.out, args.what, args.kind, layers, lo, hi, shape=shape,
                  found_by={k: data[k] for k in ("seed", "family", "run_seed") if k in data})
    return 0


if __name__ == "__main__":
    sys.exit(main())
