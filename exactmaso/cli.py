"""The ``exactmaso`` command.

    exactmaso demo --out DIR                      the main job on the bundled default network
    exactmaso regions MODEL --box LO HI [--json F] [--plot F] [--workers N] [--verify]
    exactmaso info MODEL                          the MASO structure of a model file
    exactmaso prove bounds|lipschitz|robust|equivalent MODEL ...   exact proofs with certificates
    exactmaso vnnlib MODEL PROP.vnnlib [--timeout S] [--out F] [--certificate F]
    exactmaso check-certificate CERT MODEL...     re-verify a saved certificate

``MODEL`` is a file that ``exactmaso.load`` reads (exact JSON, ``.npz``, ``.onnx``; ONNX needs
``pip install "exactmaso[onnx]"``).  A box bound is one number for every coordinate
(``--box -1 1``) or one per coordinate, separated by commas (``--box -1,-2 1,2``); numbers are
exact (``1/3``, ``0.1`` = one tenth, ``1e400``) and have at most 4300 digits.

Every argument and output path (``--json``, ``--plot`` and its format, ``demo --out``) is
checked before any work starts.  Errors print one line to stderr; the exit status says which:

    0    success
    2    an error in the arguments, the model file or an output path
    1    an internal error (a bug in exactmaso); set EXACTMASO_DEBUG=1 to also see the traceback
    130  interrupted (Ctrl-C)
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import sys
import time
import traceback
from fractions import Fraction
from typing import Any, Iterator, Sequence

import numpy as np

import exactmaso as em

from ._files import write_text_atomic
from .default_network import DEFAULT_DOMAIN, DEFAULT_SEED, DEFAULT_WIDTHS, default_network
from .numbers import fraction_to_str

__all__ = ["main"]

_SAMPLE_INPUT = (Fraction(1, 3), Fraction(-1, 2))
_DEMO_FILES = ("network.json", "partition.png", "partition.svg", "regions.json", "partition.tex")

EXIT_INTERNAL_ERROR, EXIT_USAGE_ERROR, EXIT_INTERRUPTED = 1, 2, 130
DEBUG_ENV = "EXACTMASO_DEBUG"
_EXIT_STATUS_HELP = f"""exit status:
  0    success
  2    an error in the arguments, the model file or an output path (one line on stderr)
  1    an internal error, a bug in exactmaso (one line; set {DEBUG_ENV}=1 to see the traceback)
  3    prove: a --time-limit was reached (the interval proven so far is printed);
       vnnlib: the --timeout was reached
  4    check-certificate: the certificate does not verify (the failed field is named)
  130  interrupted (Ctrl-C)"""

# Python's default limit for converting ints to and from decimal text: a number with more
# digits could be read but not printed or saved, and a huge exponent (1e999999999) would take
# minutes to expand.
_MAX_DIGITS = 4300
_DIGITS_BOUND = 10**_MAX_DIGITS  # the smallest int with more than _MAX_DIGITS digits
_EXPONENT = re.compile(r"[eE]([-+]?[0-9_]+)$")
_NOT_FINITE = ("nan", "inf", "infinity")


class UsageError(Exception):
    """A command-line argument that the command cannot use (reported in one line, exit 2)."""


# ------------------------------------------------------------------------------------------
# small helpers
# ------------------------------------------------------------------------------------------


def _say(message: str) -> None:
    print(message, flush=True)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or repr(exc)


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


def _parse_number(text: str, name: str) -> Fraction:
    """One exact ``--box`` number; ``name`` is ``LO`` or ``HI``."""
    if text.lower().lstrip("+-") in _NOT_FINITE:
        raise UsageError(f"--box {name} has {text!r}, which is not a finite number; expected numbers such as -1, 0.5 or 1/3")
    too_long = UsageError(f"--box {name} has {text!r}, which has more than {_MAX_DIGITS} digits; expected at most {_MAX_DIGITS}")
    if sum(ch.isdigit() for ch in text) > _MAX_DIGITS:
        raise too_long
    try:
        exponent = _EXPONENT.search(text)
        if exponent and abs(int(exponent.group(1))) > _MAX_DIGITS:
            raise too_long
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise UsageError(f"--box {name} has {text!r}; expected numbers such as -1, 0.5 or 1/3") from None
    if abs(value.numerator) >= _DIGITS_BOUND or value.denominator >= _DIGITS_BOUND:
        raise too_long
    return value


def _parse_bound(text: str, dim: int, name: str) -> list[Fraction]:
    parts = [p for p in text.strip().strip("[]()").replace(",", " ").split()]
    if not parts:
        raise UsageError(f"--box {name} is empty; expected a number or {dim} comma-separated numbers")
    values = [_parse_number(p, name) for p in parts]
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
    """Let ``--box -1,-1 1,1`` (and ``--x0 -1,0``, ``--eps -1``) through argparse, which reads
    ``-1,-1`` as an option name.

    argparse treats a token that holds a space as a value, so the two tokens after ``--box``
    get a leading space when they start with ``-``; :func:`parse_box` strips it again.
    """
    out = list(argv)
    takes = {"--box": 2, "--x0": 1, "--eps": 1}  # options whose values may start with "-"
    for i, token in enumerate(out):
        for j in range(i + 1, i + 1 + takes.get(token, 0)):
            if j < len(out) and out[j].startswith("-") and (token == "--box" or not out[j].startswith("--")):
                out[j] = " " + out[j]
    return out


def _load(path: str) -> Any:
    if not os.path.exists(path):
        raise UsageError(f"model file {path!r} not found")
    if os.path.isdir(path):
        raise UsageError(f"model path {path!r} is a folder; expected a .json, .npz or .onnx file")
    try:
        return em.load(path)
    except em.ExactMasoError:
        raise
    except ImportError as exc:
        missing = _onnx_missing(path, exc)
        if missing is None:
            raise
        raise missing from exc
    except (OverflowError, ValueError) as exc:
        raise UsageError(f"model file {path!r} could not be read: {type(exc).__name__}: {_one_line(exc)}") from exc


def _onnx_missing(path: str, exc: ImportError) -> UsageError | None:
    """The one-line error for an ONNX model when the optional ``onnx`` package cannot be imported
    (None if ``exc`` is about something else)."""
    cause = exc.__cause__ if isinstance(exc.__cause__, ImportError) else exc
    name = cause.name or ""
    if name == "onnx" or name.startswith("onnx."):
        return UsageError(f"model file {path!r} is an ONNX model, which needs the optional onnx package; "
                          'install it with: pip install "exactmaso[onnx]"')
    if path.lower().endswith(".onnx"):
        return UsageError(f"model file {path!r} is an ONNX model, but the onnx package failed to import "
                          f'({type(cause).__name__}: {_one_line(cause)}); reinstall it with: pip install "exactmaso[onnx]"')
    return None


def _check_output_file(path: str, option: str) -> None:
    """Refuse, before any work, an output file that could not be written."""
    if not path:
        raise UsageError(f"{option} is empty; expected a file name")
    if os.path.isdir(path):
        raise UsageError(f"{option} {path!r} is a folder; expected a file name")
    folder = os.path.dirname(path) or os.curdir
    if not os.path.isdir(folder):
        what = "is not a folder" if os.path.exists(folder) else "does not exist"
        raise UsageError(f"{option} {path!r}: the folder {folder!r} {what}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {path!r}: the folder {folder!r} is not writable")
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise UsageError(f"{option} {path!r} exists and is not writable")


def _check_plot_format(path: str) -> None:
    """Refuse a ``--plot`` file name whose extension matplotlib cannot write."""
    from matplotlib.backend_bases import FigureCanvasBase

    extension = os.path.splitext(path)[1][1:].lower()
    formats = FigureCanvasBase.get_supported_filetypes()
    if extension and extension not in formats:
        raise UsageError(f"--plot {path!r}: matplotlib cannot write .{extension} files; "
                         f"expected one of {', '.join('.' + f for f in sorted(formats))}")


def _prepare_out_dir(out: str) -> None:
    """Create the demo's ``--out`` folder and check that every file in it can be written."""
    if os.path.exists(out) and not os.path.isdir(out):
        raise UsageError(f"--out {out!r} is a file; expected a folder")
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {out!r}: the folder could not be created ({exc.strerror or type(exc).__name__})") from None
    for name in _DEMO_FILES:
        _check_output_file(os.path.join(out, name), "--out")


@contextlib.contextmanager
def _writing(path: str, option: str) -> Iterator[None]:
    """Report a failed write in one line naming the user's path (never a temporary file's)."""
    try:
        yield
    except OSError as exc:
        raise UsageError(f"{option} {path!r} could not be written ({exc.strerror or type(exc).__name__})") from None


def _quiet_worker() -> None:
    """Worker processes leave Ctrl-C to the main process, which reports it in one line."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _save_figure(part: Any, option: str, path: str, *extra: str) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import plot

    fig, ax = plt.subplots(figsize=(6.5, 6))
    plot.partition(part, ax=ax, color_by="output")
    written = []
    try:
        for target in (path, *extra):
            with _writing(target, option):
                fig.savefig(target, dpi=150, bbox_inches="tight")
            written.append(target)
    finally:
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
    _prepare_out_dir(out)
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
    with _writing(net_path, "--out"):
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

    written = _save_figure(part, "--out", os.path.join(out, "partition.png"), os.path.join(out, "partition.svg"))
    json_path, tex_path = os.path.join(out, "regions.json"), os.path.join(out, "partition.tex")
    with _writing(json_path, "--out"):
        export.json(part, json_path)
    with _writing(tex_path, "--out"):
        export.write_tikz(part, tex_path, standalone=True)
    written += [json_path, tex_path, net_path]
    for path in written:
        _say(f"  wrote {path}")
    _say("done.")
    return 0


def _check_regions_options(args: argparse.Namespace) -> None:
    """Everything about ``regions`` that can be checked without reading the model."""
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers is {args.workers}; expected a positive number of processes")
    if args.show < 0:
        raise UsageError(f"--show is {args.show}; expected a number of regions to print, 0 or more")
    if args.json is not None:
        _check_output_file(args.json, "--json")
    if args.plot is not None:
        _check_output_file(args.plot, "--plot")
        _check_plot_format(args.plot)


def _enumerate(net: Any, dom: Any, args: argparse.Namespace) -> Any:
    if not args.workers:
        return em.regions(net, dom, progress=args.progress)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    others = set(multiprocessing.active_children())
    pool = ProcessPoolExecutor(max_workers=args.workers, initializer=_quiet_worker)
    try:
        part = em.regions(net, dom, executor=pool, progress=args.progress)
    except BaseException:
        # On Ctrl-C (or any error) neither run the queued work nor wait for the running work:
        # the pool's workers ignore Ctrl-C, so stop them here.
        pool.shutdown(wait=False, cancel_futures=True)
        for worker in set(multiprocessing.active_children()) - others:
            worker.terminate()
        raise
    pool.shutdown()
    return part


def cmd_regions(args: argparse.Namespace) -> int:
    """Enumerate, report and optionally export the regions of a model on a box."""
    _check_regions_options(args)
    net = _load(args.model)
    lo, hi = parse_box(args.box[0], args.box[1], net.input_dim)
    if args.plot and net.input_dim not in (1, 2):
        raise UsageError(f"--plot draws 1-D and 2-D partitions; the model has input dimension {net.input_dim}")
    dom = em.Box(lo, hi)
    _say(net.summary())
    _say(f"domain: box from {_vector(lo)} to {_vector(hi)}")
    start = time.perf_counter()
    args.progress_line_open = args.progress
    part = _enumerate(net, dom, args)
    args.progress_line_open = False  # the last update ends the line
    seconds = time.perf_counter() - start
    _say(f"{len(part)} linear regions, {part.graph.number_of_edges()} adjacencies, in {seconds:.2f} s")
    _show_regions(part, args.show)
    if args.verify:
        part.verify()
        _say("verified: every certificate re-checked exactly")
    if args.json:
        from . import export

        with _writing(args.json, "--json"):
            export.json(part, args.json)
        _say(f"wrote {args.json}")
    if args.plot:
        _save_figure(part, "--plot", args.plot)
        _say(f"wrote {args.plot}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    """Print the MASO structure of a model file."""
    net = _load(args.model)
    _say(net.summary())
    pieces = sum(m.num_units * m.num_pieces for m in net.masos)
    _say(f"total: {sum(m.num_units for m in net.masos)} units, {pieces} affine pieces")
    return 0


EXIT_LIMIT = 3  # a prove command stopped at --time-limit: the proven interval is printed
EXIT_REJECTED = 4  # check-certificate: the certificate does not verify


def _decimal(value: Any) -> str:
    """An exact value and its decimal: a Fraction, or a sympy expression (norm 2)."""
    if isinstance(value, Fraction):
        return f"{_q(value)}  (~ {float(value):.12g})"
    import sympy

    return f"{value}  (~ {float(sympy.N(value, 15)):.12g})"


def _parse_point(text: str, dim: int, option: str) -> list[Fraction]:
    parts = [p for p in text.strip().strip("[]()").replace(",", " ").split()]
    try:
        values = [_parse_number(p, "LO") for p in parts]
    except UsageError:
        raise UsageError(f"{option} has {text!r}; expected {dim} comma-separated numbers such as 0.5 or 1/3") from None
    if len(values) == 1 and dim > 1:
        values = values * dim
    if len(values) != dim:
        raise UsageError(f"{option} has {len(values)} coordinates; the model has input dimension {dim}")
    return values


def _save_certificate(result: Any, args: argparse.Namespace) -> None:
    if args.certificate:
        with _writing(args.certificate, "--certificate"):
            result.save(args.certificate)
        _say(f"wrote the certificate {args.certificate} (check it with: exactmaso check-certificate "
             f"{args.certificate} {' '.join(args.models)})")


def cmd_prove(args: argparse.Namespace) -> int:
    """Prove a property of a model exactly and print the answer (exact and decimal)."""
    if args.certificate:
        _check_output_file(args.certificate, "--certificate")
    net = _load(args.model)
    args.models = [args.model]
    kw: dict[str, Any] = {}
    if args.time_limit is not None:
        if not args.time_limit > 0:
            raise UsageError(f"--time-limit {args.time_limit} is not a positive number of seconds")
        kw["time_limit"] = args.time_limit
    dom = None
    if getattr(args, "box", None):
        dom = em.Box(*parse_box(args.box[0], args.box[1], net.input_dim))
    start = time.perf_counter()
    args.progress_line_open = args.progress
    try:
        if args.property == "bounds":
            r = em.prove.output_bounds(net, dom, output=args.output, which=args.which, progress=args.progress, **kw)
            args.progress_line_open = False
            if r.hi is not None:
                _say(f"max = {_decimal(r.hi)}  at x = {_point(r.argmax)}")
            if r.lo is not None:
                _say(f"min = {_decimal(r.lo)}  at x = {_point(r.argmin)}")
        elif args.property == "lipschitz":
            r = em.prove.lipschitz(net, dom, norm=args.norm, output=args.output, progress=args.progress)
            _say(f"Lipschitz constant ({args.norm}-norm) = {_decimal(r.value)}  (region {r.region}, "
                 f"point {_point(r.point)})")
        elif args.property == "robust":
            x0 = _parse_point(args.x0, net.input_dim, "--x0")
            r = em.prove.robust(net, x0, _parse_number(args.eps, "LO") if args.eps else 0, norm=args.norm, dom=dom,
                                label=args.label, progress=args.progress, **kw)
            args.progress_line_open = False
            if r.holds:
                _say(f"robust: class {r.label} stays strictly on top on the {args.norm}-ball of radius {_q(r.eps)}")
            else:
                _say(f"not robust: at x = {_point(r.counterexample)} class {r.label} is not strictly on top "
                     f"(outputs {_vector(net(list(r.counterexample)))})")
        else:
            net2 = _load(args.model2)
            args.models = [args.model, args.model2]
            eps = _parse_number(args.eps, "LO") if args.eps else 0
            r = em.prove.equivalent(net, net2, dom, eps, progress=args.progress, **kw)
            args.progress_line_open = False
            _say(f"max |f - g| = {_decimal(r.max_difference)}")
            _say("equivalent" + (f" within {_q(Fraction(eps))}" if eps else "") if r.holds else
                 f"not equivalent: they differ by {_q(r.max_difference)} at x = {_point(r.counterexample)}")
    except em.LimitError as exc:
        args.progress_line_open = False
        lo = "-inf" if exc.lower is None else _decimal(exc.lower)
        hi = "+inf" if exc.upper is None else _decimal(exc.upper)
        _say(f"limit reached: {_one_line(exc)}")
        _say(f"proven so far: the answer lies in [{lo}, {hi}]")
        return EXIT_LIMIT
    _say(f"proved in {time.perf_counter() - start:.2f} s")
    _save_certificate(r, args)
    return 0


def cmd_check_certificate(args: argparse.Namespace) -> int:
    """Re-verify a saved certificate against its model(s)."""
    nets = [_load(m) for m in args.models]
    start = time.perf_counter()
    try:
        em.prove.check(args.certificate, nets[0] if len(nets) == 1 else tuple(nets))
    except em.CertificateError as exc:
        print(f"exactmaso check-certificate: REJECTED: {_one_line(exc)}", file=sys.stderr, flush=True)
        return EXIT_REJECTED
    cert = em.prove.load_certificate(args.certificate)
    _say(f"verified: the {cert['claim']['kind']} certificate holds for {' and '.join(args.models)} "
         f"({time.perf_counter() - start:.2f} s)")
    return 0


def _write_result(args: argparse.Namespace, text: str) -> None:
    """The verdict lines to ``--out``, if given (written whole or not at all)."""
    if args.out:
        with _writing(args.out, "--out"):
            write_text_atomic(args.out, text)


def cmd_vnnlib(args: argparse.Namespace) -> int:
    """Decide a VNN-LIB property of a model, in the form of the VNN-COMP scripts: prints (and
    writes to ``--out``) ``holds``, ``violated`` with the exact counterexample, or ``timeout``."""
    for path, option in ((args.out, "--out"), (args.certificate, "--certificate")):
        if path:
            _check_output_file(path, option)
    if args.timeout is not None and not args.timeout > 0:
        raise UsageError(f"--timeout {args.timeout} is not a positive number of seconds")
    net = _load(args.model)
    if not os.path.exists(args.property):
        raise UsageError(f"property file {args.property!r} not found")
    spec = em.prove.load_vnnlib(args.property, net)
    start = time.perf_counter()
    args.progress_line_open = args.progress
    try:
        r = em.prove.check_spec(net, spec, time_limit=args.timeout, progress=args.progress)
    except em.LimitError as exc:
        args.progress_line_open = False
        _say(f"timeout: {_one_line(exc)}")
        _write_result(args, "timeout\n")
        return EXIT_LIMIT
    args.progress_line_open = False
    seconds = time.perf_counter() - start
    text = r.status + "\n"
    if r.status == "violated":
        text += em.prove.counterexample_text(r) + "\n"
    print(text, end="", flush=True)
    if r.status == "violated":
        _say(f"violated (case {r.case} of the property) in {seconds:.2f} s; the counterexample's exact output "
             "was re-checked against the property")
    else:
        _say(f"holds: no input of the property's set reaches its unsafe outputs ({r.nodes} nodes, {seconds:.2f} s)")
    _write_result(args, text)
    args.models = [args.model]
    _save_certificate(r, args)
    return 0


def _add_prove_parsers(sub: Any, with_epilog: dict) -> None:
    prove = sub.add_parser("prove", help="prove a property exactly, with a certificate", **with_epilog)
    kinds = prove.add_subparsers(dest="property", metavar="PROPERTY", required=True)
    model_help = 'model file: exact JSON, .npz or .onnx (needs pip install "exactmaso[onnx]")'

    def common(p: Any, box_required: bool = True) -> None:
        p.add_argument("model", help=model_help)
        p.add_argument("--box", nargs=2, metavar=("LO", "HI"), required=box_required,
                       help="the domain: a number for every coordinate or comma-separated per coordinate")
        p.add_argument("--certificate", metavar="F", help="write the JSON certificate to F")
        p.add_argument("--progress", action="store_true", help="show progress on stderr")
        p.set_defaults(run=cmd_prove)

    b = kinds.add_parser("bounds", help="the exact min and max of an output over the box", **with_epilog)
    common(b)
    b.add_argument("--output", type=int, default=None, help="output index (needed if the model has several)")
    b.add_argument("--which", choices=("both", "max", "min"), default="both")
    b.add_argument("--time-limit", type=float, metavar="S", help="stop after S seconds with the proven interval")
    lip = kinds.add_parser("lipschitz", help="the exact Lipschitz constant over the box", **with_epilog)
    common(lip)
    lip.add_argument("--norm", choices=("inf", "1", "2"), default="inf")
    lip.add_argument("--output", type=int, default=None, help="one output (default: all, the operator norm)")
    lip.set_defaults(time_limit=None)
    rob = kinds.add_parser("robust", help="is the arg-max class constant on a ball?", **with_epilog)
    common(rob, box_required=False)
    rob.add_argument("--x0", required=True, help="the centre, comma-separated")
    rob.add_argument("--eps", required=True, help="the radius (exact: 0.01, 1/100)")
    rob.add_argument("--norm", choices=("inf", "1", "2"), default="inf")
    rob.add_argument("--label", type=int, default=None, help="the class (default: the arg-max at x0)")
    rob.add_argument("--time-limit", type=float, metavar="S")
    eq = kinds.add_parser("equivalent", help="are two models the same function on the box?", **with_epilog)
    common(eq)
    eq.add_argument("model2", help="the second model file")
    eq.add_argument("--eps", default=None, help="tolerance in the inf-norm of the outputs (default 0)")
    eq.add_argument("--time-limit", type=float, metavar="S")

    vnn = sub.add_parser("vnnlib", help="decide a VNN-LIB property exactly: holds, violated or timeout",
                         **with_epilog)
    vnn.add_argument("model", help=model_help)
    vnn.add_argument("property", help="the VNN-LIB property file (.vnnlib)")
    vnn.add_argument("--timeout", type=float, metavar="S", help="give up after S seconds (prints timeout, exit 3)")
    vnn.add_argument("--out", metavar="RESULT", help="write the verdict (and counterexample) to RESULT")
    vnn.add_argument("--certificate", metavar="F", help="write the JSON certificate to F")
    vnn.add_argument("--progress", action="store_true", help="show progress on stderr")
    vnn.set_defaults(run=cmd_vnnlib)

    chk = sub.add_parser("check-certificate", help="re-verify a saved certificate", **with_epilog)
    chk.add_argument("certificate", help="the certificate (JSON)")
    chk.add_argument("models", nargs="+", metavar="MODEL", help="the model file (two for an equivalence)")
    chk.set_defaults(run=cmd_check_certificate)


def build_parser() -> argparse.ArgumentParser:
    with_epilog: dict[str, Any] = {"epilog": _EXIT_STATUS_HELP, "formatter_class": argparse.RawDescriptionHelpFormatter}
    parser = argparse.ArgumentParser(
        prog="exactmaso",
        description="Exact geometry of deep networks as max-affine spline operators.",
        **with_epilog,
    )
    parser.add_argument("--version", action="version", version=f"exactmaso {em.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = sub.add_parser("demo", help="the main job on the bundled default network", **with_epilog)
    demo.add_argument("--out", default="demo_out", help="output folder (created; default: demo_out)")
    demo.set_defaults(run=cmd_demo)

    reg = sub.add_parser("regions", help="enumerate the exact linear regions of a model on a box", **with_epilog)
    reg.add_argument("model", help='model file: exact JSON, .npz or .onnx (needs pip install "exactmaso[onnx]")')
    reg.add_argument("--box", nargs=2, metavar=("LO", "HI"), required=True,
                     help="bounds: a number for every coordinate or comma-separated per coordinate")
    reg.add_argument("--json", metavar="F", help="write the exact partition as JSON to F")
    reg.add_argument("--plot", metavar="F",
                     help="save a figure of a 1-D or 2-D partition to F (.png, .pdf, .svg or another format matplotlib writes)")
    reg.add_argument("--workers", type=int, metavar="N", help="enumerate in N worker processes")
    reg.add_argument("--verify", action="store_true", help="re-check every certificate exactly")
    reg.add_argument("--show", type=int, default=3, metavar="K", help="print the first K regions (default 3)")
    reg.add_argument("--progress", action="store_true", help="show a progress bar on stderr")
    reg.set_defaults(run=cmd_regions)

    info = sub.add_parser("info", help="print the MASO structure of a model file", **with_epilog)
    info.add_argument("model", help='model file: exact JSON, .npz or .onnx (needs pip install "exactmaso[onnx]")')
    info.set_defaults(run=cmd_info)
    _add_prove_parsers(sub, with_epilog)
    return parser


def _fail(args: argparse.Namespace, message: str, status: int) -> int:
    """Print the one-line error (after the traceback when EXACTMASO_DEBUG is set); return ``status``."""
    if os.environ.get(DEBUG_ENV, "") not in ("", "0"):
        traceback.print_exc()
    if getattr(args, "progress_line_open", False):
        sys.stderr.write("\n")  # end the progress line that the enumeration left open
    print(f"exactmaso {args.command}: {message}", file=sys.stderr, flush=True)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    0 success, 2 an error in the input (arguments, model file, output paths), 1 an internal
    error (a bug; set ``EXACTMASO_DEBUG=1`` to see its traceback), 130 interrupted (Ctrl-C).
    Every error is one line on stderr.
    """
    args = build_parser().parse_args(_protect_box_values(list(sys.argv[1:] if argv is None else argv)))
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        return _fail(args, "interrupted", EXIT_INTERRUPTED)
    except UsageError as exc:
        return _fail(args, f"error: {_one_line(exc)}", EXIT_USAGE_ERROR)
    except (em.ExactMasoError, OSError) as exc:
        return _fail(args, f"{type(exc).__name__}: {_one_line(exc)}", EXIT_USAGE_ERROR)
    except Exception as exc:
        return _fail(args, f"internal error: {type(exc).__name__}: {_one_line(exc)} "
                           f"(a bug in exactmaso; rerun with {DEBUG_ENV}=1 to see the traceback)", EXIT_INTERNAL_ERROR)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
