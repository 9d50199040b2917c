"""The ``exactmaso`` command.

    exactmaso demo --out DIR                      the main job on the bundled default network
    exactmaso regions MODEL --box LO HI [--json F] [--plot F] [--workers N] [--verify]
    exactmaso info MODEL                          the MASO structure of a model file

``MODEL`` is a file that ``exactmaso.load`` reads (exact JSON, ``.npz``, ``.onnx``).  A box
bound is one number for every coordinate (``--box -1 1``) or one per coordinate, separated by
commas (``--box -1,-2 1,2``); numbers are exact (``1/3``, ``0.1`` = one tenth).  Errors print one
line to stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from fractions import Fraction
from typing import Any, Sequence

import numpy as np

import exactmaso as em

from .default_network import DEFAULT_DOMAIN, DEFAULT_SEED, DEFAULT_WIDTHS, default_network
from .numbers import fraction_to_str

__all__ = ["main"]

_SAMPLE_INPUT = (Fraction(1, 3), Fraction(-1, 2))


class UsageError(Exception):
    """A command-line argument that the command cannot use (reported in one line, exit 2)."""


# ------------------------------------------------------------------------------------------
# small helpers
# ------------------------------------------------------------------------------------------


def _say(message: str) -> None:
    print(message, flush=True)


def _q(value: Any) -> str:
    return fraction_to_str(Fraction(value))


def _vector(values: Any) -> str:
    return "[" + ", ".join(_q(v) for v in values) + "]"


def _affine_text(row: Any, offset: Any) -> str:
    """``a0 x0 + a1 x1 + ... + b`` with exact coefficients; zero terms left out."""
    text = ""
    for d, a in enumerate(row):
        a = Fraction(a)
        if a:
            sign = "-" if a < 0 else "+"
            text += f" {sign} {_q(abs(a))} x{d}" if text else f"{'-' if a < 0 else ''}{_q(abs(a))} x{d}"
    b = Fraction(offset)
    if not text:
        return _q(b)
    return text + (f" {'-' if b < 0 else '+'} {_q(abs(b))}" if b else "")


def _point(values: Any) -> str:
    return "(" + ", ".join(_q(v) for v in values) + ")"


def _code(code: Any) -> str:
    return " | ".join("".join(map(str, layer)) for layer in code)


def _parse_bound(text: str, dim: int, name: str) -> list[Fraction]:
    parts = [p for p in text.strip().strip("[]()").replace(",", " ").split()]
    if not parts:
        raise UsageError(f"--box {name} is empty; expected a number or {dim} comma-separated numbers")
    try:
        values = [Fraction(p) for p in parts]
    except (ValueError, ZeroDivisionError):
        raise UsageError(f"--box {name} is {text.strip()!r}; expected numbers such as -1, 0.5 or 1/3") from None
    if len(values) == 1:
        values = values * dim
    if len(values) != dim:
        raise UsageError(f"--box {name} has {len(values)} coordinates; the model has input dimension {dim}")
    return values


def parse_box(lo: str, hi: str, dim: int) -> tuple[list[Fraction], list[Fraction]]:
    """Exact box bounds from the two ``--box`` arguments (scalars or per-coordinate lists)."""
    lo_v, hi_v = _parse_bound(lo, dim, "LO"), _parse_bound(hi, dim, "HI")
    for i, (a, b) in enumerate(zip(lo_v, hi_v)):
        if not a < b:
            raise UsageError(f"--box coordinate {i}: LO = {_q(a)} is not below HI = {_q(b)}")
    return lo_v, hi_v


def _protect_box_values(argv: list[str]) -> list[str]:
    """Let ``--box -1,-1 1,1`` through argparse, which reads ``-1,-1`` as an option name.

    argparse treats a token that holds a space as a value, so the two tokens after ``--box``
    get a leading space when they start with ``-``; :func:`parse_box` strips it again.
    """
    out = list(argv)
    for i, token in enumerate(out):
        if token == "--box":
            for j in (i + 1, i + 2):
                if j < len(out) and out[j].startswith("-"):
                    out[j] = " " + out[j]
    return out


def _load(path: str) -> Any:
    if not os.path.exists(path):
        raise UsageError(f"model file {path!r} not found")
    if os.path.isdir(path):
        raise UsageError(f"model path {path!r} is a folder; expected a .json, .npz or .onnx file")
    return em.load(path)


def _save_figure(part: Any, path: str, *extra: str) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import plot

    fig, ax = plt.subplots(figsize=(6.5, 6))
    plot.partition(part, ax=ax, color_by="output")
    written = []
    for target in (path, *extra):
        fig.savefig(target, dpi=150, bbox_inches="tight")
        written.append(target)
    plt.close(fig)
    return written


def _show_regions(part: Any, count: int) -> None:
    for r in list(part)[:count]:
        _say(f"  region {r.index}: code {_code(r.code)}")
        _say(f"    vertices {', '.join(_point(v) for v in r.vertices())}")
        _say(f"    volume {_q(r.volume())}; on it, output 0 = {_affine_text(r.affine.A[0], r.affine.b[0])}")


# ------------------------------------------------------------------------------------------
# commands
# ------------------------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace) -> int:
    """The main job on the bundled default network."""
    out = args.out
    os.makedirs(out, exist_ok=True)
    _say(f"exactmaso {em.__version__} demo -> {out}")
    _say(f"\n[1/4] the bundled network: a ReLU MLP {list(DEFAULT_WIDTHS)}, weights p/32 from seed {DEFAULT_SEED}")
    net = default_network()
    _say(net.summary())

    x = np.array(_SAMPLE_INPUT, dtype=object)
    _say(f"\n[2/4] exact affine map at x = {_vector(x)}")
    y, code = net.forward_with_codes(x)
    aff = net.affine_map(x)
    _say(f"  code          {_code(code)}")
    _say(f"  net(x)        {_vector(y)}")
    for c, row in enumerate(em.templates(net, x)):
        _say(f"  template {c}    {_vector(row)}   (row {c} of A; b[{c}] = {_q(aff.b[c])})")
        _say(f"  on this region output {c} = {_affine_text(row, aff.b[c])}")
    corr, offset = em.matched_filter(net, x)
    for c in range(net.output_dim):
        ok = corr[c] + offset[c] == y[c]
        _say(
            f"  output {c}: <template, x> = {_q(corr[c])}, offset = {_q(offset[c])}, "
            f"sum = {_q(corr[c] + offset[c])} {'== net(x) exactly' if ok else '!= net(x)  (BUG)'}"
        )
    if not all(aff(x) == y):
        raise em.CertificateError("the affine map at x does not reproduce net(x)")

    net_path = os.path.join(out, "network.json")
    net.save(net_path)
    _say(f"  saved the exact network to {net_path}")

    _say("\n[3/4] linear regions on [-1, 1]^2")
    dom = em.Box(*DEFAULT_DOMAIN)
    start = time.perf_counter()
    part = em.regions(net, dom)
    seconds = time.perf_counter() - start
    _say(f"  {len(part)} regions, {part.graph.number_of_edges()} adjacencies, in {seconds:.2f} s; the first three:")
    _show_regions(part, 3)
    part.verify()
    total = sum((r.volume() for r in part), Fraction(0))
    _say(f"  verified: certificates re-checked in plain Fractions; volumes sum to {_q(total)} "
         f"= the domain's volume {_q(dom.volume())}")

    _say("\n[4/4] writing figures and exact files")
    from . import export

    written = _save_figure(part, os.path.join(out, "partition.png"), os.path.join(out, "partition.svg"))
    export.json(part, os.path.join(out, "regions.json"))
    export.write_tikz(part, os.path.join(out, "partition.tex"), standalone=True)
    written += [os.path.join(out, name) for name in ("regions.json", "partition.tex")] + [net_path]
    for path in written:
        _say(f"  wrote {path}")
    _say("done.")
    return 0


def cmd_regions(args: argparse.Namespace) -> int:
    """Enumerate, report and optionally export the regions of a model on a box."""
    net = _load(args.model)
    lo, hi = parse_box(args.box[0], args.box[1], net.input_dim)
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers is {args.workers}; expected a positive number of processes")
    if args.plot and net.input_dim not in (1, 2):
        raise UsageError(f"--plot draws 1-D and 2-D partitions; the model has input dimension {net.input_dim}")
    dom = em.Box(lo, hi)
    _say(net.summary())
    _say(f"domain: box from {_vector(lo)} to {_vector(hi)}")
    start = time.perf_counter()
    if args.workers:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            part = em.regions(net, dom, executor=pool, progress=args.progress)
    else:
        part = em.regions(net, dom, progress=args.progress)
    seconds = time.perf_counter() - start
    _say(f"{len(part)} linear regions, {part.graph.number_of_edges()} adjacencies, in {seconds:.2f} s")
    _show_regions(part, args.show)
    if args.verify:
        part.verify()
        _say("verified: every certificate re-checked exactly")
    if args.json:
        from . import export

        export.json(part, args.json)
        _say(f"wrote {args.json}")
    if args.plot:
        _save_figure(part, args.plot)
        _say(f"wrote {args.plot}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    """Print the MASO structure of a model file."""
    net = _load(args.model)
    _say(net.summary())
    pieces = sum(m.num_units * m.num_pieces for m in net.masos)
    _say(f"total: {sum(m.num_units for m in net.masos)} units, {pieces} affine pieces")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="exactmaso",
        description="Exact geometry of deep networks as max-affine spline operators.",
    )
    parser.add_argument("--version", action="version", version=f"exactmaso {em.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = sub.add_parser("demo", help="the main job on the bundled default network")
    demo.add_argument("--out", default="demo_out", help="output folder (created; default: demo_out)")
    demo.set_defaults(run=cmd_demo)

    reg = sub.add_parser("regions", help="enumerate the exact linear regions of a model on a box")
    reg.add_argument("model", help="model file: exact JSON, .npz or .onnx")
    reg.add_argument("--box", nargs=2, metavar=("LO", "HI"), required=True,
                     help="bounds: a number for every coordinate or comma-separated per coordinate")
    reg.add_argument("--json", metavar="F", help="write the exact partition as JSON to F")
    reg.add_argument("--plot", metavar="F", help="save a figure of a 1-D or 2-D partition to F (.png, .svg, .pdf)")
    reg.add_argument("--workers", type=int, metavar="N", help="enumerate in N worker processes")
    reg.add_argument("--verify", action="store_true", help="re-check every certificate exactly")
    reg.add_argument("--show", type=int, default=3, metavar="K", help="print the first K regions (default 3)")
    reg.add_argument("--progress", action="store_true", help="show a progress bar on stderr")
    reg.set_defaults(run=cmd_regions)

    info = sub.add_parser("info", help="print the MASO structure of a model file")
    info.add_argument("model", help="model file: exact JSON, .npz or .onnx")
    info.set_defaults(run=cmd_info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 success, 2 error)."""
    args = build_parser().parse_args(_protect_box_values(list(sys.argv[1:] if argv is None else argv)))
    try:
        return int(args.run(args))
    except (UsageError, em.ExactMasoError, OSError) as exc:
        kind = "error" if isinstance(exc, UsageError) else type(exc).__name__
        message = " ".join(str(exc).split()) or repr(exc)
        print(f"exactmaso {args.command}: {kind}: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
