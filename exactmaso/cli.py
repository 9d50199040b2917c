"""The ``exactmaso`` command.

    exactmaso demo [--out DIR] [--exact]          the main job on the bundled default network
    exactmaso regions MODEL [--box LO HI] [--slice X0 X1 X2] [--json F] [--plot F] [--format FMT]
                      [--color-by C] [--output J] [--no-graph] [--max-regions N] [--time-limit S]
                      [--workers N] [--verify] [--show K] [--exact] [--progress]
    exactmaso info MODEL                          the MASO structure of a model file
    exactmaso prove bounds|lipschitz|robust|equivalent MODEL ...   exact proofs with certificates
    exactmaso vnnlib MODEL PROP.vnnlib [--timeout S] [--out F] [--certificate F]
    exactmaso check-certificate CERT MODEL...     re-verify a saved certificate

``MODEL`` is a file that ``exactmaso.load`` reads (exact JSON, ``.npz``, ``.onnx``; ONNX needs
``pip install "exactmaso[onnx]"``).  A box bound is one number for every coordinate
(``--box -1 1``) or one per coordinate, separated by commas (``--box -1,-2 1,2``); numbers are
exact (``1/3``, ``0.1`` = one tenth, ``1e400``) and have at most 4300 digits.

``regions --slice X0 X1 X2`` studies the plane through three inputs of a model with two or more
inputs: ``(a, b) -> X0 + a (X1 - X0) + b (X2 - X0)`` (``em.plane``, ``net.restrict``), on
``--box`` in the plane's coordinates (default ``[0, 1]^2``, which holds the triangle of the
three points).  Each point is comma-separated exact numbers (``0.5,0,1/3``; one number is
repeated for every coordinate) or a file: ``.npy`` (a numeric array of any shape, floats read
at their binary value) or ``.json`` (a list, possibly nested, of numbers or ``"p/q"`` strings;
decimals read as typed, ``0.1`` = one tenth).

Numbers are printed as decimals rounded to 6 significant digits; ``--exact`` prints the exact
fractions (and the JSON files and certificates always hold them).

Every argument and output path (``--json``, ``--plot`` and its format, ``--slice`` files,
``demo --out``) is checked before any work starts, and every file is written whole or not at
all (a temporary file moved into place).  Errors print one line to stderr; the exit status
says which:

    0    success
    2    an error in the arguments, the model file or an output path
    3    a limit was reached: regions --max-regions/--time-limit (the result is partial and
         nothing is written), prove --time-limit, vnnlib --timeout
    4    check-certificate: the certificate does not verify
    1    an internal error (a bug in exactmaso); set EXACTMASO_DEBUG=1 to also see the traceback
    130  interrupted (Ctrl-C)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import secrets
import signal
import sys
import time
import traceback
from fractions import Fraction
from typing import Any, Callable, Iterator, NoReturn, Sequence

import numpy as np

import exactmaso as em

from ._display import SIGNIFICANT_DIGITS, affine_text, code_text, short_decimal
from ._files import write_text_atomic
from .default_network import DEFAULT_DOMAIN, DEFAULT_SEED, DEFAULT_WIDTHS, default_network
from .numbers import fraction_to_str, to_fraction_array

__all__ = ["main"]

_SAMPLE_INPUT = (Fraction(1, 3), Fraction(-1, 2))

EXIT_INTERNAL_ERROR, EXIT_USAGE_ERROR, EXIT_INTERRUPTED = 1, 2, 130
EXIT_LIMIT = 3  # a limit stopped the work: regions is partial, prove prints the proven interval
EXIT_REJECTED = 4  # check-certificate: the certificate does not verify
DEBUG_ENV = "EXACTMASO_DEBUG"
_EXIT_STATUS_HELP = f"""exit status:
  0    success
  2    an error in the arguments, the model file or an output path (one line on stderr)
  1    an internal error, a bug in exactmaso (one line; set {DEBUG_ENV}=1 to see the traceback)
  3    a limit was reached. regions: --max-regions or --time-limit (the result is partial and
       nothing is written); prove: --time-limit (the interval proven so far is printed);
       vnnlib: --timeout
  4    check-certificate: the certificate does not verify (the failed field is named)
  130  interrupted (Ctrl-C)"""

# Python's default limit for converting ints to and from decimal text: a number with more
# digits could be read but not printed or saved, and a huge exponent (1e999999999) would take
# minutes to expand.
_MAX_DIGITS = 4300
_DIGITS_BOUND = 10**_MAX_DIGITS  # the smallest int with more than _MAX_DIGITS digits
_EXPONENT = re.compile(r"[eE]([-+]?[0-9_]+)$")
_NOT_FINITE = ("nan", "inf", "infinity")

PLOT_FORMATS = ("pdf", "png", "svg", "tex")
"""What ``regions --plot`` writes: a matplotlib figure (pdf, png, svg) or a TikZ picture (tex)."""

_SLICE_FILE_SUFFIXES = (".npy", ".json")
_SHOWN_VERTICES = 8  # regions lists at most this many vertices of a region
_SHOWN_VALUES = 8  # and at most this many coordinates of a vector (unless --exact)
_CODE_WIDTH = 72  # characters of a code that the region list shows


class UsageError(Exception):
    """A command-line argument that the command cannot use (reported in one line, exit 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors (unknown option, bad choice, missing value) in one line."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE_ERROR, f"{self.prog}: error: {_one_line(message)} (see {self.prog} --help)\n")


# ------------------------------------------------------------------------------------------
# small helpers
# ------------------------------------------------------------------------------------------


def _say(message: str) -> None:
    print(message, flush=True)


def _one_line(exc: BaseException | str) -> str:
    return " ".join(str(exc).split()) or repr(exc)


def _q(value: Any) -> str:
    return fraction_to_str(Fraction(value))


class _Numbers:
    """How a command prints exact values: decimals rounded to 6 significant digits, or with
    ``--exact`` the exact fractions (sympy expressions for 2-norm values)."""

    NOTE = f"decimals are rounded to {SIGNIFICANT_DIGITS} significant digits; --exact prints exact fractions"

    def __init__(self, exact: bool) -> None:
        self.exact = exact

    def num(self, value: Any, rounding: str = "nearest") -> str:
        """One value; ``rounding="down"`` or ``"up"`` keeps a printed bound a bound."""
        if self.exact:
            return _q(value) if _is_rational(value) else str(value)
        return short_decimal(value, rounding=rounding)

    def equals(self, value: Any, rounding: str = "nearest") -> str:
        """``= v`` when the text is the exact value, ``~ v`` when it is rounded."""
        text = self.num(value, rounding)
        exact = self.exact or (_is_rational(value) and Fraction(text) == Fraction(value))
        return f"{'=' if exact else '~'} {text}"

    def _values(self, values: Any) -> str:
        values = list(values)
        if self.exact or len(values) <= _SHOWN_VALUES:
            return ", ".join(self.num(v) for v in values)
        return ", ".join(self.num(v) for v in values[:_SHOWN_VALUES]) + f", ... ({len(values)} values)"

    def vector(self, values: Any) -> str:
        return f"[{self._values(values)}]"

    def point(self, values: Any) -> str:
        return f"({self._values(values)})"

    def affine(self, row: Any, offset: Any) -> str:
        """``a0 x0 + a1 x1 + ... + b``, zero terms left out."""
        return affine_text(row, offset, self.num)


def _is_rational(value: Any) -> bool:
    return isinstance(value, (Fraction, int)) or getattr(value, "is_Rational", False) is True


def _parse_number(text: str, what: str) -> Fraction:
    """One exact number given on the command line; ``what`` names it (``--box LO``)."""
    if text.strip().lower().lstrip("+-") in _NOT_FINITE:
        raise UsageError(f"{what} has {text.strip()!r}, which is not a finite number; expected numbers such as -1, 0.5 or 1/3")
    too_long = UsageError(f"{what} has {text.strip()!r}, which has more than {_MAX_DIGITS} digits; expected at most {_MAX_DIGITS}")
    if sum(ch.isdigit() for ch in text) > _MAX_DIGITS:
        raise too_long
    try:
        exponent = _EXPONENT.search(text.strip())
        if exponent and abs(int(exponent.group(1))) > _MAX_DIGITS:
            raise too_long
        value = Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise UsageError(f"{what} has {text.strip()!r}; expected numbers such as -1, 0.5 or 1/3") from None
    if abs(value.numerator) >= _DIGITS_BOUND or value.denominator >= _DIGITS_BOUND:
        raise too_long
    return value


def _parse_bound(text: str, dim: int, name: str, space: str) -> list[Fraction]:
    parts = [p for p in text.strip().strip("[]()").replace(",", " ").split()]
    if not parts:
        raise UsageError(f"--box {name} is empty; expected a number or {dim} comma-separated numbers")
    values = [_parse_number(p, f"--box {name}") for p in parts]
    if len(values) == 1:
        values = values * dim
    if len(values) != dim:
        raise UsageError(f"--box {name} has {len(values)} coordinates; {space} {dim}")
    return values


def parse_box(lo: str, hi: str, dim: int, *, space: str = "the model has input dimension") -> tuple[list[Fraction], list[Fraction]]:
    """Exact box bounds from the two ``--box`` arguments (scalars or per-coordinate lists);
    ``space`` says whose dimension ``dim`` is, for the error message."""
    lo_v, hi_v = _parse_bound(lo, dim, "LO", space), _parse_bound(hi, dim, "HI", space)
    for i, (a, b) in enumerate(zip(lo_v, hi_v)):
        if not a < b:
            raise UsageError(f"--box coordinate {i}: LO = {_q(a)} is not below HI = {_q(b)}")
    return lo_v, hi_v


def _parse_point(text: str, dim: int, option: str) -> list[Fraction]:
    """A point given as comma-separated exact numbers (one number: every coordinate)."""
    parts = [p for p in text.strip().strip("[]()").replace(",", " ").split()]
    values = [_parse_number(p, option) for p in parts]
    if len(values) == 1 and dim > 1:
        values = values * dim
    if len(values) != dim:
        raise UsageError(f"{option} has {len(values)} coordinates; the model has input dimension {dim}")
    return values


_PROTECTED = {"--box": 2, "--slice": 3, "--x0": 1, "--eps": 1}  # options whose values may start with "-"


def _protect_box_values(argv: list[str]) -> list[str]:
    """Let ``--box -1,-1 1,1`` (and ``--slice -1,0 ...``, ``--x0 -1,0``, ``--eps -1``) through
    argparse, which reads ``-1,-1`` as an option name.

    argparse treats a token that holds a space as a value, so the tokens after these options
    get a leading space when they start with ``-``; the parsers strip it again.
    """
    out = list(argv)
    for i, token in enumerate(out):
        for j in range(i + 1, i + 1 + _PROTECTED.get(token, 0)):
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



def _check_input_file(path: str, option: str) -> None:
    if not os.path.exists(path):
        raise UsageError(f"{option} {path!r} not found")
    if os.path.isdir(path):
        raise UsageError(f"{option} {path!r} is a folder; expected a file")


def _plot_format(args: argparse.Namespace) -> str:
    """The format of ``--plot``: ``--format``, or the file name's suffix; they must agree."""
    suffix = os.path.splitext(args.plot)[1][1:].lower()
    expected = ", ".join("." + f for f in PLOT_FORMATS)
    if args.format is not None:
        fmt = args.format.lower()
        if fmt not in PLOT_FORMATS:
            raise UsageError(f"--format is {args.format!r}; expected one of {', '.join(PLOT_FORMATS)}")
        if suffix and suffix != fmt:
            raise UsageError(f"--plot {args.plot!r} ends in .{suffix} but --format is {fmt}; "
                             f"give a file name ending in .{fmt}, or leave out --format")
        return fmt
    if not suffix:
        raise UsageError(f"--plot {args.plot!r} has no suffix to tell its format; "
                         f"end the name in one of {expected} or give --format")
    if suffix not in PLOT_FORMATS:
        raise UsageError(f"--plot {args.plot!r}: cannot write .{suffix} files; expected one of {expected} "
                         "(or --format)")
    return suffix


@contextlib.contextmanager
def _writing(path: str, option: str) -> Iterator[None]:
    """Report a failed write in one line naming the user's path (never a temporary file's)."""
    try:
        yield
    except OSError as exc:
        raise UsageError(f"{option} {path!r} could not be written ({exc.strerror or type(exc).__name__})") from None


def _write_atomic(path: str, option: str, write: Callable[[str], None]) -> None:
    """Write one output file through ``write(temporary path)`` beside ``path``, then move it
    over ``path``: the file is whole or absent, never half-written."""
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    with _writing(path, option):
        try:
            write(tmp)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise


def _quiet_worker() -> None:
    """Worker processes leave Ctrl-C to the main process, which reports it in one line."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save_figure(fig: Any, option: str, targets: Sequence[tuple[str, str]]) -> None:
    """Save ``fig`` to every ``(path, format)``, each atomically; then close it."""
    plt = _pyplot()
    try:
        for path, fmt in targets:
            _write_atomic(path, option, lambda tmp: fig.savefig(tmp, format=fmt, dpi=150, bbox_inches="tight"))
    finally:
        plt.close(fig)


def _partition_figure(part: Any, color_by: str, output: int) -> Any:
    """The partition coloured by ``color_by``; by class with the decision boundary on top."""
    from . import plot

    fig, ax = _pyplot().subplots(figsize=(6.5, 6))
    plot.partition(part, ax=ax, color_by=color_by, output=output, boundary=color_by == "class")
    return fig


def _write_plot(part: Any, args: argparse.Namespace) -> None:
    """``--plot`` in its format: a standalone TikZ picture (tex) or a matplotlib figure, in the
    colours of ``--color-by`` (by class with the decision boundary on top)."""
    if args.plot_format == "tex":
        from . import export

        with _writing(args.plot, "--plot"):
            export.write_tikz(part, args.plot, color_by=args.color_by, output=args.output,
                              boundary=args.color_by == "class", standalone=True)
        return
    _save_figure(_partition_figure(part, args.color_by, args.output), "--plot", [(args.plot, args.plot_format)])


def _show_regions(part: Any, count: int, numbers: _Numbers, output: int = 0) -> None:
    for r in list(part)[:count]:
        V = r.vertices()
        shown = ", ".join(numbers.point(v) for v in V[:_SHOWN_VERTICES])
        more = f", ... ({len(V)} vertices; --json lists them all)" if len(V) > _SHOWN_VERTICES else ""
        _say(f"  region {r.index}: code {code_text(r.code, _CODE_WIDTH)}")
        _say(f"    vertices {shown}{more}")
        _say(f"    volume {numbers.num(r.volume())}; on it, output {output} = "
             f"{numbers.affine(r.affine.A[output], r.affine.b[output])}")


# ------------------------------------------------------------------------------------------
# --slice: the plane through three inputs
# ------------------------------------------------------------------------------------------


def _read_point_file(path: str, option: str) -> np.ndarray:
    """The exact values of a ``.npy`` or ``.json`` point file, flattened."""
    from .io.limits import MAX_FILE_BYTES

    _check_input_file(path, option)
    size = os.path.getsize(path)
    if size > MAX_FILE_BYTES:
        raise UsageError(f"{option} {path!r} has {size} bytes; expected at most {MAX_FILE_BYTES}")
    if path.lower().endswith(".npy"):
        try:
            arr = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise UsageError(f"{option} {path!r} is not a .npy array: {_one_line(exc)}") from None
        if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "iuf":
            raise UsageError(f"{option} {path!r} holds {getattr(arr, 'dtype', type(arr).__name__)} values; "
                             "expected a numeric (integer or float) array")
        try:
            return to_fraction_array(arr.reshape(-1), name=f"{option} {path!r}")
        except em.ExactMasoError as exc:
            raise UsageError(_one_line(exc)) from None
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh, parse_float=lambda s: _parse_number(s, f"{option} {path!r}"),
                             parse_int=lambda s: _parse_number(s, f"{option} {path!r}"),
                             parse_constant=lambda s: _parse_number(s, f"{option} {path!r}"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise UsageError(f"{option} {path!r} is not JSON: {_one_line(exc)}") from None
    values: list[Fraction] = []

    def flatten(item: Any) -> None:
        if isinstance(item, list):
            for sub in item:
                flatten(sub)
        elif isinstance(item, Fraction):
            values.append(item)
        elif isinstance(item, str):
            values.append(_parse_number(item, f"{option} {path!r}"))
        else:
            kind = {dict: "an object", bool: "a boolean", type(None): "null"}.get(type(item), type(item).__name__)
            raise UsageError(f"{option} {path!r} holds {kind}; expected a list of numbers or \"p/q\" strings")

    flatten(data)
    return np.array(values, dtype=object)


def _slice_points(args: argparse.Namespace) -> list[tuple[str, np.ndarray | None]]:
    """The three ``--slice`` arguments, each with its exact values when it names a file (read
    before any work; text is parsed once the model's input dimension is known)."""
    points = []
    for i, text in enumerate(args.slice):
        text = text.strip()
        is_file = text.lower().endswith(_SLICE_FILE_SUFFIXES)
        points.append((text, _read_point_file(text, f"--slice X{i}") if is_file else None))
    return points


def _restrict_to_slice(net: Any, points: list[tuple[str, np.ndarray | None]]) -> tuple[Any, list[np.ndarray]]:
    """The 2-input network on the plane through the three points, and the exact points."""
    D = net.input_dim
    if D < 2:
        raise UsageError(f"--slice takes a plane through three inputs; the model has input dimension {D}")
    exact = []
    for i, (text, values) in enumerate(points):
        option = f"--slice X{i}"
        if values is None:
            values = np.array(_parse_point(text, D, option), dtype=object)
        elif values.shape[0] != D:
            raise UsageError(f"{option} {text!r} holds {values.shape[0]} values; the model has input dimension {D}")
        exact.append(values)
    try:
        M, c = em.plane(*exact)
    except em.ShapeError as exc:
        raise UsageError(f"--slice: {_one_line(exc)}") from None
    return net.restrict(M, c), exact


# ------------------------------------------------------------------------------------------
# regions
# ------------------------------------------------------------------------------------------


def _check_regions_options(args: argparse.Namespace) -> None:
    """Everything about ``regions`` that can be checked without reading the model."""
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers is {args.workers}; expected a positive number of processes")
    if args.show < 0:
        raise UsageError(f"--show is {args.show}; expected a number of regions to print, 0 or more")
    if args.max_regions is not None and args.max_regions < 1:
        raise UsageError(f"--max-regions is {args.max_regions}; expected a positive number of regions")
    if args.time_limit is not None and not (math.isfinite(args.time_limit) and args.time_limit > 0):
        raise UsageError(f"--time-limit is {args.time_limit}; expected a positive number of seconds")
    if args.output is not None and args.output < 0:
        raise UsageError(f"--output is {args.output}; expected an output index, 0 or more")
    if args.box is None and args.slice is None:
        raise UsageError("give the domain: --box LO HI (or --slice X0 X1 X2, whose box defaults to [0, 1]^2)")
    if args.no_graph and args.json is not None:
        raise UsageError("--json writes the adjacency edges, which need the graph that --no-graph skips; "
                         "leave out one of them")
    for option, value in (("--format", args.format), ("--color-by", args.color_by)):
        if value is not None and args.plot is None:
            raise UsageError(f"{option} {value} is about the --plot figure; give --plot F too")
    if args.json is not None:
        _check_output_file(args.json, "--json")
    if args.json is not None and args.plot is not None and os.path.abspath(args.json) == os.path.abspath(args.plot):
        raise UsageError(f"--json and --plot are both {args.json!r}; give them different files")
    args.plot_format = None
    if args.plot is not None:
        _check_output_file(args.plot, "--plot")
        args.plot_format = _plot_format(args)
    args.color_by = args.color_by or "output"
    args.slice_points = _slice_points(args) if args.slice is not None else None


def _check_against_model(net: Any, args: argparse.Namespace) -> None:
    """The options that depend on the (possibly sliced) network: dimensions and output index."""
    D = net.input_dim
    if args.output is not None and args.output >= net.output_dim:
        raise UsageError(f"--output is {args.output}; the model's outputs are 0..{net.output_dim - 1}")
    args.output = args.output or 0
    if args.plot_format == "tex" and D != 2:
        raise UsageError(f"--plot {args.plot!r}: a TikZ picture draws 2-D partitions; the model has input dimension {D}"
                         + ("" if args.slice else "; --slice X0 X1 X2 draws the plane through three inputs"))
    if args.plot and D not in (1, 2):
        raise UsageError(f"--plot draws 1-D and 2-D partitions; the model has input dimension {D}; "
                         "--slice X0 X1 X2 draws the plane through three inputs")


def _enumerate(net: Any, dom: Any, args: argparse.Namespace) -> Any:
    limits = {"max_regions": args.max_regions, "time_limit": args.time_limit}
    if not args.workers:
        return em.regions(net, dom, progress=args.progress, **limits)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    others = set(multiprocessing.active_children())
    pool = ProcessPoolExecutor(max_workers=args.workers, initializer=_quiet_worker)
    try:
        part = em.regions(net, dom, executor=pool, progress=args.progress, **limits)
    except BaseException:
        # On Ctrl-C (or any error, or a limit) neither run the queued work nor wait for the
        # running work: the pool's workers ignore Ctrl-C, so stop them here.
        pool.shutdown(wait=False, cancel_futures=True)
        for worker in set(multiprocessing.active_children()) - others:
            worker.terminate()
        raise
    pool.shutdown()
    return part


def _stopped_early(exc: Any, args: argparse.Namespace, seconds: float) -> int:
    """Say that a limit stopped the enumeration and that the result is partial."""
    given = [f"--max-regions {args.max_regions}" if args.max_regions is not None else None,
             f"--time-limit {args.time_limit:g}" if args.time_limit is not None else None]
    _say(f"STOPPED EARLY ({', '.join(g for g in given if g)}) after {seconds:.2f} s: {_one_line(exc)}")
    unwritten = [f"{option} {path}" for option, path in (("--json", args.json), ("--plot", args.plot)) if path]
    _say(f"the result is PARTIAL: the domain has at least {exc.count} linear regions; the enumeration did not finish, "
         "so no region is listed" + (f" and nothing was written ({', '.join(unwritten)})" if unwritten else "")
         + "; raise the limit for the complete partition")
    return EXIT_LIMIT


def _graph_line(part: Any, seconds: float, numbers: _Numbers) -> str:
    G = part.graph
    n, edges = len(part), G.number_of_edges()
    mean = Fraction(2 * edges, n) if n else Fraction(0)
    top = max((d for _, d in G.degree()), default=0)
    return (f"adjacency graph: {edges} edges (pairs of regions sharing a facet), mean degree {numbers.num(mean)}, "
            f"max degree {top}, in {seconds:.2f} s")


def cmd_regions(args: argparse.Namespace) -> int:
    """Enumerate, report and optionally export the regions of a model on a box (or a slice)."""
    _check_regions_options(args)
    numbers = _Numbers(args.exact)
    net = _load(args.model)
    model_dim = net.input_dim
    if args.slice_points is not None:
        net, points = _restrict_to_slice(net, args.slice_points)
    box = args.box or ("0", "1")
    space = "the --slice plane has dimension" if args.slice_points is not None else "the model has input dimension"
    lo, hi = parse_box(box[0], box[1], net.input_dim, space=space)
    _check_against_model(net, args)
    dom = em.Box(lo, hi)
    if args.slice_points is not None:
        _say(f"slice: the plane (a, b) -> X0 + a (X1 - X0) + b (X2 - X0) of the model's {model_dim} inputs, with")
        for i, p in enumerate(points):
            _say(f"  X{i} = {numbers.point(p)}")
        _say(net.summary().replace("Network:", "Network on the plane:", 1))
        _say(f"domain: (a, b) in the box from {numbers.vector(lo)} to {numbers.vector(hi)}")
    else:
        _say(net.summary())
        _say(f"domain: box from {numbers.vector(lo)} to {numbers.vector(hi)}")
    start = time.perf_counter()
    args.progress_line_open = args.progress
    try:
        part = _enumerate(net, dom, args)
    except em.LimitError as exc:
        args.progress_line_open = False  # the monitor ends its line when it stops
        return _stopped_early(exc, args, time.perf_counter() - start)
    args.progress_line_open = False  # the last update ends the line
    _say(f"{len(part)} linear regions, in {time.perf_counter() - start:.2f} s")
    if args.no_graph:
        _say("adjacency graph: not built (--no-graph)")
    else:
        start = time.perf_counter()
        part.graph  # noqa: B018  (built here, to time it)
        _say(_graph_line(part, time.perf_counter() - start, numbers))
    _show_regions(part, args.show, numbers, args.output)
    if args.verify:
        from .verify import verify_partition

        verify_partition(part, graph=not args.no_graph)
        _say("verified: every certificate re-checked exactly" + (" (regions only: --no-graph)" if args.no_graph else ""))
    if args.json:
        from . import export

        with _writing(args.json, "--json"):
            export.json(part, args.json)
        _say(f"wrote {args.json}" + (" (coordinates of the plane, (a, b))" if args.slice else ""))
    if args.plot:
        _write_plot(part, args)
        _say(f"wrote {args.plot}")
    if not args.exact and len(part):
        _say(f"({numbers.NOTE})")
    return 0


# ------------------------------------------------------------------------------------------
# demo
# ------------------------------------------------------------------------------------------

_DEMO_FILES = {
    "network.json": "the bundled network, exact (read it with em.load)",
    "regions.json": "every region exactly: code, polytope, vertices, volume, affine map; the adjacency edges",
    "summary.json": "the summary table with exact values (p/q strings)",
    "bounds.cert.json": "certificate of the output bounds (exactmaso check-certificate F network.json)",
    "lipschitz.cert.json": "certificate of the Lipschitz constant",
    "partition.pdf": "the regions coloured by the output and by class, the decision boundary (output = 0) on top",
    "partition.png": "the same figure as PNG",
    "partition.tex": "the regions by output with the boundary, a TikZ document (exact vertices in comments)",
    "partition.svg": "the same picture as plain SVG",
    "hierarchy.pdf": "the layer-by-layer subdivision: each layer cuts the cells of the layers before it",
    "hierarchy.png": "the same figure as PNG",
    "surface.pdf": "the output as a surface over the domain, one flat facet per region",
    "surface.png": "the same figure as PNG",
}


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


def _demo_affine_map(net: Any, numbers: _Numbers) -> None:
    x = np.array(_SAMPLE_INPUT, dtype=object)
    _say(f"\n[2/5] exact affine map at x = {numbers.vector(x)}")
    y, code = net.forward_with_codes(x)
    aff = net.affine_map(x)
    _say(f"  code          {code_text(code)}")
    _say(f"  net(x)        {numbers.vector(y)}")
    for c, row in enumerate(em.templates(net, x)):
        _say(f"  template {c}    {numbers.vector(row)}   (row {c} of A; b[{c}] = {numbers.num(aff.b[c])})")
        _say(f"  on this region output {c} = {numbers.affine(row, aff.b[c])}")
    corr, offset = em.matched_filter(net, x)
    for c in range(net.output_dim):
        ok = corr[c] + offset[c] == y[c]
        _say(f"  output {c}: <template, x> = {numbers.num(corr[c])}, offset = {numbers.num(offset[c])}, "
             f"sum = {numbers.num(corr[c] + offset[c])} {'== net(x) exactly' if ok else '!= net(x)  (BUG)'}")
    if not all(aff(x) == y):
        raise em.CertificateError("the affine map at x does not reproduce net(x)")


def _demo_summary(part: Any, bounds: Any, lipschitz: Any) -> dict[str, Any]:
    """The numbers of the demo's summary table, exact."""
    G = part.graph
    n, edges = len(part), G.number_of_edges()
    return {
        "regions": n,
        "cells_per_layer": [len(part.level(l)) for l in range(1, len(part.net.masos) + 1)],
        "linear_pieces": len(part.linear_pieces()),
        "edges": edges,
        "mean_degree": Fraction(2 * edges, n),
        "max_degree": max(d for _, d in G.degree()),
        "output_min": bounds.lo, "argmin": bounds.argmin,
        "output_max": bounds.hi, "argmax": bounds.argmax,
        "lipschitz": lipschitz.value, "lipschitz_norm": lipschitz.norm, "lipschitz_region": lipschitz.region,
    }


def _summary_json(summary: dict[str, Any]) -> str:
    def exact(value: Any) -> Any:
        if isinstance(value, Fraction):
            return _q(value)
        if isinstance(value, (tuple, list)):
            return [exact(v) for v in value]
        return value

    data = {"format": "exactmaso-demo-summary", "version": 1, "network": "exactmaso.default_network()",
            "domain": {"lo": [_q(v) for v in DEFAULT_DOMAIN[0]], "hi": [_q(v) for v in DEFAULT_DOMAIN[1]]},
            **{key: exact(value) for key, value in summary.items()}}
    return json.dumps(data, indent=1) + "\n"


def _print_summary(summary: dict[str, Any], numbers: _Numbers) -> None:
    rows = [("linear regions", str(summary["regions"]), "")]
    last = len(summary["cells_per_layer"]) - 1
    for l, cells in enumerate(summary["cells_per_layer"]):
        note = "(the affine read-out cuts nothing)" if l == last and cells == summary["cells_per_layer"][l - 1] else ""
        rows.append((f"cells after layer {l}", str(cells), note))
    rows += [
        ("linear pieces", str(summary["linear_pieces"]), "(connected groups of regions with one affine map)"),
        ("adjacency edges", str(summary["edges"]), "(pairs of regions sharing a facet)"),
        ("mean degree", numbers.num(summary["mean_degree"]), f"(max {summary['max_degree']})"),
        ("output 0, proven range",
         f"[{numbers.num(summary['output_min'], 'down')}, {numbers.num(summary['output_max'], 'up')}]",
         f"(min at {numbers.point(summary['argmin'])}, max at {numbers.point(summary['argmax'])})"),
        (f"Lipschitz constant ({summary['lipschitz_norm']}-norm)", numbers.num(summary["lipschitz"], "up"),
         f"(attained in region {summary['lipschitz_region']})"),
    ]
    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    for name, value, note in rows:
        _say(f"  {name.ljust(width)}  {value.ljust(value_width)}  {note}".rstrip())
    if not numbers.exact:
        _say("  (bounds rounded outwards; " + numbers.NOTE + "; summary.json holds the exact values)")


def _demo_figures(part: Any, out: str) -> None:
    """The partition (by output and by class, with the decision boundary), the hierarchy and
    the surface, each as PDF and PNG."""
    from . import plot

    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5.4), layout="constrained")
    plot.partition(part, ax=left, color_by="output", boundary=True)
    left.set_title(f"{len(part)} linear regions, coloured by output 0; decision boundary (output 0 = 0)", fontsize=9)
    plot.partition(part, ax=right, color_by="class", boundary=True)
    right.set_title("class pieces: class 1 where output 0 > 0, class 0 elsewhere", fontsize=9)
    figures = {"partition": fig}
    figures["hierarchy"] = plot.hierarchy(part)[0].figure
    figures["surface"] = plot.surface(part).figure
    for name, fig in figures.items():
        targets = [(os.path.join(out, f"{name}.{fmt}"), fmt) for fmt in ("pdf", "png")]
        _save_figure(fig, "--out", targets)


def cmd_demo(args: argparse.Namespace) -> int:
    """The main job on the bundled default network: regions, graph, proofs, figures, files."""
    out = args.out
    _prepare_out_dir(out)
    numbers = _Numbers(args.exact)
    begin = time.perf_counter()
    _say(f"exactmaso {em.__version__} demo -> {out}")
    _say(f"\n[1/5] the bundled network: a ReLU MLP {list(DEFAULT_WIDTHS)}, weights p/32 from seed {DEFAULT_SEED}")
    net = default_network()
    _say(net.summary())
    _demo_affine_map(net, numbers)

    _say("\n[3/5] linear regions on [-1, 1]^2")
    dom = em.Box(*DEFAULT_DOMAIN)
    start = time.perf_counter()
    part = em.regions(net, dom)
    _say(f"  {len(part)} regions in {time.perf_counter() - start:.2f} s; the first three:")
    _show_regions(part, 3, numbers)
    start = time.perf_counter()
    part.verify()
    total = sum((r.volume() for r in part), Fraction(0))
    _say(f"  verified in {time.perf_counter() - start:.2f} s: every certificate (regions and adjacency graph) "
         f"re-checked in plain Fractions; volumes sum to {_q(total)} = the domain's volume {_q(dom.volume())}")

    _say("\n[4/5] proofs (em.prove), each with a certificate that a separate checker re-verifies")
    start = time.perf_counter()
    bounds = em.prove.output_bounds(net, dom, output=0)
    lipschitz = em.prove.lipschitz(net, dom, norm="inf")
    bounds.verify()
    lipschitz.verify()
    _say(f"  min and max of output 0, and the Lipschitz constant (inf-norm), proved and verified in "
         f"{time.perf_counter() - start:.2f} s")

    _say("\n[5/5] writing figures and exact files")
    start = time.perf_counter()
    summary = _demo_summary(part, bounds, lipschitz)
    path = lambda name: os.path.join(out, name)  # noqa: E731
    from . import export

    with _writing(path("network.json"), "--out"):
        net.save(path("network.json"))
    with _writing(path("regions.json"), "--out"):
        export.json(part, path("regions.json"))
    with _writing(path("partition.tex"), "--out"):
        export.write_tikz(part, path("partition.tex"), color_by="output", boundary=True, standalone=True)
    with _writing(path("partition.svg"), "--out"):
        export.svg(part, path("partition.svg"), color_by="output", boundary=True)
    for result, name in ((bounds, "bounds.cert.json"), (lipschitz, "lipschitz.cert.json")):
        with _writing(path(name), "--out"):
            result.save(path(name))
    with _writing(path("summary.json"), "--out"):
        write_text_atomic(path("summary.json"), _summary_json(summary))
    _demo_figures(part, out)
    _say(f"  {len(_DEMO_FILES)} files in {time.perf_counter() - start:.2f} s:")
    width = max(len(path(name)) for name in _DEMO_FILES)
    for name, what in _DEMO_FILES.items():
        _say(f"  wrote {path(name).ljust(width)}  {what}")

    _say("\nsummary of the bundled network on [-1, 1]^2")
    _print_summary(summary, numbers)
    _say(f"\ndone in {time.perf_counter() - begin:.2f} s.")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    """Print the MASO structure of a model file."""
    net = _load(args.model)
    _say(net.summary())
    pieces = sum(m.num_units * m.num_pieces for m in net.masos)
    _say(f"total: {sum(m.num_units for m in net.masos)} units, {pieces} affine pieces")
    return 0


# ------------------------------------------------------------------------------------------
# prove, check-certificate, vnnlib
# ------------------------------------------------------------------------------------------


def _save_certificate(result: Any, args: argparse.Namespace) -> None:
    if args.certificate:
        with _writing(args.certificate, "--certificate"):
            result.save(args.certificate)
        _say(f"wrote the certificate {args.certificate} (check it with: exactmaso check-certificate "
             f"{args.certificate} {' '.join(args.models)})")


def cmd_prove(args: argparse.Namespace) -> int:
    """Prove a property of a model exactly and print the answer (decimal, or exact with --exact)."""
    if args.certificate:
        _check_output_file(args.certificate, "--certificate")
    numbers = _Numbers(args.exact)
    net = _load(args.model)
    args.models = [args.model]
    kw: dict[str, Any] = {}
    if args.time_limit is not None:
        if not (math.isfinite(args.time_limit) and args.time_limit > 0):
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
                _say(f"max {numbers.equals(r.hi)}  at x = {numbers.point(r.argmax)}")
            if r.lo is not None:
                _say(f"min {numbers.equals(r.lo)}  at x = {numbers.point(r.argmin)}")
        elif args.property == "lipschitz":
            r = em.prove.lipschitz(net, dom, norm=args.norm, output=args.output, progress=args.progress)
            _say(f"Lipschitz constant ({args.norm}-norm) {numbers.equals(r.value)}  (region {r.region}, "
                 f"point {numbers.point(r.point)})")
        elif args.property == "robust":
            x0 = _parse_point(args.x0, net.input_dim, "--x0")
            r = em.prove.robust(net, x0, _parse_number(args.eps, "--eps") if args.eps else 0, norm=args.norm, dom=dom,
                                label=args.label, progress=args.progress, **kw)
            args.progress_line_open = False
            if r.holds:
                _say(f"robust: class {r.label} stays strictly on top on the {args.norm}-ball of radius "
                     f"{numbers.num(r.eps)}")
            else:
                _say(f"not robust: at x = {numbers.point(r.counterexample)} class {r.label} is not strictly on top "
                     f"(outputs {numbers.vector(net(list(r.counterexample)))})")
        else:
            net2 = _load(args.model2)
            args.models = [args.model, args.model2]
            eps = _parse_number(args.eps, "--eps") if args.eps else Fraction(0)
            r = em.prove.equivalent(net, net2, dom, eps, progress=args.progress, **kw)
            args.progress_line_open = False
            _say(f"max |f - g| {numbers.equals(r.max_difference)}")
            _say("equivalent" + (f" within {numbers.num(eps)}" if eps else "") if r.holds else
                 f"not equivalent: they differ by {numbers.num(r.max_difference)} at x = "
                 f"{numbers.point(r.counterexample)}")
    except em.LimitError as exc:
        args.progress_line_open = False
        lo = "-inf" if exc.lower is None else numbers.num(exc.lower, "down")
        hi = "+inf" if exc.upper is None else numbers.num(exc.upper, "up")
        _say(f"limit reached: {_one_line(exc)}")
        _say(f"proven so far: the answer lies in [{lo}, {hi}]" + ("" if args.exact else " (rounded outwards)"))
        return EXIT_LIMIT
    _say(f"proved in {time.perf_counter() - start:.2f} s" + ("" if args.exact else f"; {numbers.NOTE}"))
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
        p.add_argument("--exact", action="store_true", help="print exact fractions (default: 6-digit decimals)")
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




def _add_regions_parser(sub: Any, with_epilog: dict) -> None:
    from .plot import COLOR_BY

    reg = sub.add_parser("regions", help="enumerate the exact linear regions of a model on a box", **with_epilog)
    reg.add_argument("model", help='model file: exact JSON, .npz or .onnx (needs pip install "exactmaso[onnx]")')
    reg.add_argument("--box", nargs=2, metavar=("LO", "HI"),
                     help="bounds: a number for every coordinate or comma-separated per coordinate "
                          "(with --slice: the plane's two coordinates; default 0 1)")
    reg.add_argument("--slice", nargs=3, metavar=("X0", "X1", "X2"),
                     help="study the plane through three inputs, (a, b) -> X0 + a (X1 - X0) + b (X2 - X0); "
                          "each point comma-separated exact numbers or a .npy / .json file")
    reg.add_argument("--json", metavar="F", help="write the exact partition (regions and adjacency edges) as JSON to F")
    reg.add_argument("--plot", metavar="F", help="draw a 1-D or 2-D partition to F (.pdf, .png, .svg, or .tex for TikZ)")
    reg.add_argument("--format", metavar="FMT",
                     help=f"the format of --plot: {', '.join(PLOT_FORMATS)} (default: the suffix of F)")
    reg.add_argument("--color-by", choices=COLOR_BY, metavar="C",
                     help=f"colour the --plot regions by: {', '.join(COLOR_BY)} (default output)")
    reg.add_argument("--output", type=int, metavar="J",
                     help="the output that --color-by output, the region list and 1-D plots use (default 0)")
    reg.add_argument("--no-graph", action="store_true",
                     help="do not build the adjacency graph (faster; --verify then checks the regions only)")
    reg.add_argument("--max-regions", type=int, metavar="N",
                     help="stop (exit 3, partial result, nothing written) when there are more than N regions")
    reg.add_argument("--time-limit", type=float, metavar="S",
                     help="stop (exit 3, partial result, nothing written) after S seconds")
    reg.add_argument("--workers", type=int, metavar="N", help="enumerate in N worker processes")
    reg.add_argument("--verify", action="store_true", help="re-check every certificate exactly")
    reg.add_argument("--show", type=int, default=3, metavar="K", help="print the first K regions (default 3)")
    reg.add_argument("--exact", action="store_true", help="print exact fractions (default: 6-digit decimals)")
    reg.add_argument("--progress", action="store_true", help="show a progress bar on stderr")
    reg.set_defaults(run=cmd_regions)


def build_parser() -> argparse.ArgumentParser:
    with_epilog: dict[str, Any] = {"epilog": _EXIT_STATUS_HELP, "formatter_class": argparse.RawDescriptionHelpFormatter}
    parser = _Parser(
        prog="exactmaso",
        description="Exact geometry of deep networks as max-affine spline operators.",
        **with_epilog,
    )
    parser.add_argument("--version", action="version", version=f"exactmaso {em.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = sub.add_parser("demo", help="the main job on the bundled default network", **with_epilog)
    demo.add_argument("--out", default="demo_out", help="output folder (created; default: demo_out)")
    demo.add_argument("--exact", action="store_true", help="print exact fractions (default: 6-digit decimals)")
    demo.set_defaults(run=cmd_demo)
    _add_regions_parser(sub, with_epilog)

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
