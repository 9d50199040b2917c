"""Caps on what the model readers accept, checked on declared sizes before anything is built.

A model file is untrusted input.  Every reader (:func:`exactmaso.io.load`, the JSON, ``.npz``
and ONNX readers) checks the sizes a file *declares* -- its length on disk, a zip member's
uncompressed size, an ``.npy`` header's shape and dtype, an ONNX tensor's dims, the number of
digits of a rational, the dense MASO form its layers compile to -- against the caps below
before it reads, decompresses or allocates, and refuses with a
:class:`~exactmaso.errors.ModelFileError` that names the cap.

The caps are module attributes read at call time; a session that needs more can raise one::

    import exactmaso.io.limits
    exactmaso.io.limits.MAX_MASO_ENTRIES = 2**27

Values and reasons (also in ``docs/formats.md``).  Measured here: building one exact number
of a MASO costs 2-3 us and about 85 bytes (a 784 x 4096 ReLU layer, 6.4 million numbers,
loads in 15 s and 0.9 GB; a 4-channel 3 x 3 convolution + ReLU + 2 x 2 max-pooling of a
28 x 28 image, 11.6 million numbers, in 25 s and 1 GB).

``MAX_FILE_BYTES = 2**30`` (1 GiB)
    bytes read for one model: a JSON file, an ONNX file with its external data, the
    uncompressed members of an ``.npz``.
``MAX_ENTRIES = 2**24`` (16,777,216)
    numbers stored in the arrays of an ``.npz`` or the tensors of an ONNX file (weights,
    biases, statistics): 64 MB as float32.  A 784 x 4096 layer has 3.2 million; a
    6000 x 6000 matrix (36 million) is refused from its header.
``MAX_MASO_ENTRIES = 2**25`` (33,554,432)
    numbers of the MASO form a model compiles to: the ``A`` (units x pieces x inputs) and
    ``B`` of every layer, as a JSON file stores them, and every dense matrix built on the
    way (a convolution becomes a dense (units x inputs) matrix).  This is what loading
    costs, whatever the file's size (a 200-byte ONNX file can declare a large input), so the
    cap is the worst case: about 70 s and 3 GB.  It admits a 784-4096-10 MLP (6.4 million),
    convolutional networks on MNIST-sized inputs such as a 16-channel 3 x 3 convolution +
    ReLU (17 million) or a 4-channel one followed by max-pooling (11.6 million; pooling after
    a ReLU reads a dense identity of the ReLU's units), and on CIFAR-sized inputs an
    8-channel stride-2 convolution + ReLU (11 million).
``MAX_DIM = 2**20`` (1,048,576)
    size of one axis of any array or input (an ImageNet input, 3 x 224 x 224, is 150,528).
``MAX_AXES = 32``
    axes of one array or tensor (numpy allows 64; a model needs at most 5, a 2-D convolution's
    weight having 4).
``MAX_DIGITS = 4300``
    decimal digits of one numerator or denominator in a file: Python's default limit for
    ``int(str)`` (``sys.get_int_max_str_digits()``), whose cost grows quadratically.  Exact
    float32 values need at most 45 digits (``2**-149``), float64 values at most 324
    (``2**-1074``); folded layers multiply a few of them, so 4300 leaves ample room.
``MAX_LAYERS = 10_000``
    MASO layers in one model.
``MAX_NESTING = 32``
    nesting of JSON lists and objects (a network file needs 6), and of residual blocks
    inside residual blocks in an ONNX graph.
"""

from __future__ import annotations

import math
import os
import stat
from typing import Any, BinaryIO, Sequence

from ..errors import ModelFileError, ModelFileNotFoundError, ModelShapeError

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_ENTRIES",
    "MAX_MASO_ENTRIES",
    "MAX_DIM",
    "MAX_AXES",
    "MAX_DIGITS",
    "MAX_LAYERS",
    "MAX_NESTING",
    "open_model_file",
    "read_model_bytes",
    "check_file_size",
    "check_shape",
    "check_digits",
    "EntryCount",
    "check_layer_count",
    "check_compiled_size",
]

MAX_FILE_BYTES = 2**30
MAX_ENTRIES = 2**24
MAX_MASO_ENTRIES = 2**25
MAX_DIM = 2**20
MAX_AXES = 32
MAX_DIGITS = 4300
MAX_LAYERS = 10_000
MAX_NESTING = 32


def _cap(name: str) -> int:
    return int(globals()[name])


def _refused(message: str, name: str) -> ModelFileError:
    """``message`` ("... at most N are allowed") with the name of the cap that refused it."""
    return ModelFileError(f"{message} (exactmaso.io.limits.{name}); the model is refused before it is read further")


# ------------------------------------------------------------------------------------------
# files
# ------------------------------------------------------------------------------------------


def open_model_file(path: str | os.PathLike, what: str = "a model file") -> BinaryIO:
    """Open ``path`` for binary reading after checking that it is a regular file within
    ``MAX_FILE_BYTES``.

    Opening is non-blocking, so a FIFO or a device is refused instead of waiting forever.

    Raises
    ------
    ModelFileNotFoundError
        ``path`` does not exist (also a :class:`FileNotFoundError`).
    ModelFileError
        A folder, a FIFO or device, an unreadable file, or a file above the cap.
    """
    source = os.fspath(path)
    try:
        fd = os.open(source, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise ModelFileNotFoundError(f"{source} does not exist; expected {what}", source) from None
    except IsADirectoryError:
        raise ModelFileError(f"{source} is a folder; expected {what}") from None
    except OSError as exc:
        raise ModelFileError(f"{source} cannot be opened ({type(exc).__name__}: {exc.strerror}); expected {what}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ModelFileError(f"{source} is a folder; expected {what}")
        if not stat.S_ISREG(info.st_mode):
            raise ModelFileError(f"{source} is not a regular file (a FIFO, socket or device); expected {what}")
        check_file_size(info.st_size, source)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_model_bytes(path: str | os.PathLike, what: str = "a model file") -> bytes:
    """The bytes of a model file, read only after the checks of :func:`open_model_file`."""
    with open_model_file(path, what) as fh:
        data = fh.read(_cap("MAX_FILE_BYTES") + 1)
    check_file_size(len(data), os.fspath(path))  # a file that grew while being read
    return data


def check_file_size(size: int, source: str) -> None:
    """Refuse ``size`` bytes of model data above ``MAX_FILE_BYTES``."""
    if size > _cap("MAX_FILE_BYTES"):
        raise _refused(f"{source} holds {size:,} bytes of model data; at most {_cap('MAX_FILE_BYTES'):,} are read",
                       "MAX_FILE_BYTES")


# ------------------------------------------------------------------------------------------
# declared shapes and numbers
# ------------------------------------------------------------------------------------------


def check_shape(shape: Sequence[Any], name: str, *, allow_empty: bool = False, cap: str = "MAX_ENTRIES") -> int:
    """The number of entries of a declared ``shape``, after checking every axis.

    At most ``MAX_AXES`` axes, each an int from 1 (0 with ``allow_empty``) to ``MAX_DIM``, and
    the product at most the cap named ``cap``; ``name`` says where the shape comes from ("m.npz: W0").
    """
    dims = tuple(shape)
    if len(dims) > _cap("MAX_AXES"):
        raise _refused(f"{name} declares {len(dims):,} axes; at most {_cap('MAX_AXES')} are allowed", "MAX_AXES")
    smallest = 0 if allow_empty else 1
    for axis, d in enumerate(dims):
        if not isinstance(d, int) or isinstance(d, bool):
            raise ModelShapeError(f"{name} declares the shape {dims!r:.100}; expected positive integers")
        if d < smallest:
            raise ModelShapeError(f"{name} has shape {dims}; every dimension must be at least {smallest}")
        if d > _cap("MAX_DIM"):
            raise _refused(f"{name} has shape {dims}, {d:,} along axis {axis}; at most {_cap('MAX_DIM'):,} are allowed",
                           "MAX_DIM")
    entries = math.prod(dims)
    if entries > _cap(cap):
        raise _refused(f"{name} has shape {dims}, {entries:,} entries; at most {_cap(cap):,} are allowed", cap)
    return entries


def check_digits(digits: int, where: str) -> None:
    """Refuse a numerator or denominator written with more than ``MAX_DIGITS`` digits."""
    if digits > _cap("MAX_DIGITS"):
        raise _refused(f"{where} has {digits:,} digits; at most {_cap('MAX_DIGITS'):,} are allowed", "MAX_DIGITS")


class EntryCount:
    """A running total of the numbers of one model, refused above the cap named ``cap``
    (``"MAX_ENTRIES"`` for stored arrays, ``"MAX_MASO_ENTRIES"`` for the MASO form).

    >>> count = EntryCount("m.json", "MAX_MASO_ENTRIES")
    >>> count.add(6, "masos[0]"); count.total
    6
    """

    def __init__(self, source: str, cap: str = "MAX_ENTRIES") -> None:
        self.source = source
        self.cap = cap
        self.total = 0

    def add(self, entries: int, what: str) -> None:
        self.total += entries
        if self.total > _cap(self.cap):
            kind = "numbers in its MASO form" if self.cap == "MAX_MASO_ENTRIES" else "stored numbers"
            raise _refused(f"{self.source}: {what} brings the model to {self.total:,} {kind}; at most "
                           f"{_cap(self.cap):,} are allowed", self.cap)


def check_layer_count(count: int, source: str) -> None:
    """Refuse a model of more than ``MAX_LAYERS`` layers."""
    if count > _cap("MAX_LAYERS"):
        raise _refused(f"{source} has {count:,} layers; at most {_cap('MAX_LAYERS'):,} are allowed", "MAX_LAYERS")


# ------------------------------------------------------------------------------------------
# the dense MASO form of a list of layers
# ------------------------------------------------------------------------------------------


class _Bound:
    """Upper bounds on the dense matrices that compiling layers builds (as
    :func:`exactmaso.layers.compile_layers` does): affine steps hold a (units x source + 1) map from
    the last MASO's output; convolutions and pools become dense matrices; each nonlinearity
    emits a MASO of (units x pieces x source) numbers."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.count = EntryCount(source, "MAX_MASO_ENTRIES")
        self.layers = 0

    def dense(self, rows: int, cols: int, what: str) -> None:
        if rows * cols > _cap("MAX_MASO_ENTRIES"):
            raise _refused(f"{self.source}: {what} becomes a dense {rows:,} x {cols:,} matrix ({rows * cols:,} numbers); "
                           f"at most {_cap('MAX_MASO_ENTRIES'):,} are allowed", "MAX_MASO_ENTRIES")

    def steps(self, n: int, what: str) -> None:
        if n > _cap("MAX_MASO_ENTRIES"):
            raise _refused(f"{self.source}: {what} needs {n:,} steps to build; at most {_cap('MAX_MASO_ENTRIES'):,} "
                           "are allowed", "MAX_MASO_ENTRIES")

    def maso(self, units: int, pieces: int, inputs: int, what: str) -> None:
        self.layers += 1
        check_layer_count(self.layers, self.source)
        self.dense(units * pieces, inputs + 1, what)
        self.count.add(units * pieces * (inputs + 1), what)


def check_compiled_size(layers: Sequence[Any], input_shape: Sequence[int], source: str) -> int:
    """Refuse, before compiling, layers whose MASO form would exceed the caps; returns an
    upper bound on the numbers of that form.

    ``layers`` are :mod:`exactmaso.layers` objects (Dense, Conv1d/2d, pools, BatchNorm,
    Flatten, activations, Residual).  The bound errs on the large side; shapes that do not fit
    are left for the compiler to report.
    """
    bound = _Bound(source)
    dims = tuple(int(s) for s in input_shape)
    check_shape(dims, f"{source}: the input", cap="MAX_MASO_ENTRIES")
    n_in = math.prod(dims)
    shape, src, pending = _walk(list(layers), dims, n_in, False, 0, bound, "layer ")
    if shape is not None and (pending or bound.layers == 0):
        bound.maso(math.prod(shape), 1, src, "the last affine layer")
    return bound.count.total


def _walk(layers: list, shape: tuple[int, ...], src: int, pending: bool, carry: int, bound: _Bound,
          prefix: str) -> tuple[tuple[int, ...] | None, int, bool]:
    """Follow shapes through ``layers``; returns (shape, source units, pending map) or a None
    shape when a layer does not fit (the compiler reports it)."""
    from ..layers import (Abs, AvgPool1d, AvgPool2d, BatchNorm, Conv1d, Conv2d, Dense, Flatten, LeakyReLU,
                          MaxPool1d, MaxPool2d, ReLU, Residual)

    convs, max_pools, pools = (Conv1d, Conv2d), (MaxPool1d, MaxPool2d), (MaxPool1d, MaxPool2d, AvgPool1d, AvgPool2d)

    for i, layer in enumerate(layers):
        what = f"{prefix}{i} ({type(layer).__name__})"
        n = math.prod(shape)
        if isinstance(layer, Dense):
            out = int(layer.W.shape[0])
            bound.dense(out, src + 1, what)
            shape, pending = (out,), True
        elif isinstance(layer, convs + pools):
            is_conv = isinstance(layer, convs)
            kernel = tuple(layer.weight.shape[2:]) if is_conv else tuple(layer.kernel_size)
            spatial = shape[1:]
            if len(spatial) != len(kernel):
                return None, src, pending
            out_sp = tuple((s + 2 * p - k) // st + 1 for s, k, st, p in zip(spatial, kernel, layer.stride, layer.padding))
            if any(o <= 0 for o in out_sp):
                return None, src, pending
            channels = int(layer.weight.shape[0]) if is_conv else shape[0]
            n_out = channels * math.prod(out_sp)
            per_window = math.prod(kernel) * (int(layer.weight.shape[1]) if is_conv else 1)
            bound.steps(n_out * per_window, what)
            shape = (channels, *out_sp)
            if isinstance(layer, max_pools):
                pieces = math.prod(min(k, s) for k, s in zip(kernel, spatial))
                bound.maso(n_out + carry, pieces, src + carry, what)
                src, pending = n_out, False
            else:
                bound.dense(n_out, n + 1, what)
                bound.dense(n_out, src + 1, what)
                pending = True
        elif isinstance(layer, BatchNorm):
            bound.dense(n, src + 1, what)
            pending = True
        elif isinstance(layer, Flatten):
            shape = (n,)
        elif isinstance(layer, (ReLU, LeakyReLU, Abs)):
            if not pending:
                bound.dense(src + 1, src + 1, what)
            bound.maso(n + carry, 2, src + carry, what)
            src, pending = n, False
        elif isinstance(layer, Residual):
            before = bound.layers
            end, last, _ = _walk(list(layer.layers), shape, n, False, src + carry, bound, f"{what} branch layer ")
            if end is None:
                return None, src, pending
            if bound.layers > before:
                src = last + src
            bound.dense(n, src + 1, what)
            pending = True
        else:
            return None, src, pending
    return shape, src, pending
