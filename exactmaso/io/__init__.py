"""Converters: numpy/npz, PyTorch, ONNX, ``.nnet`` and exact JSON files to :class:`~exactmaso.maso.Network`.

Nothing here ever unpickles: ``.npz`` members are read by their ``.npy`` headers (object
arrays are refused), torch weights with ``torch.load(..., weights_only=True)``, and
:func:`load` refuses pickles.  Hostile or broken files give a typed
:class:`~exactmaso.errors.ModelFileError` (sizes are checked first: :mod:`.limits`).
``torch`` and ``onnx`` are optional and imported only inside the functions that need them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from ..errors import ModelFileError
from ..maso import Network
from . import limits
from .json_io import save
from .limits import open_model_file
from .nnet_io import from_nnet, read_nnet
from .numpy_io import from_numpy, load_npz, save_npz

__all__ = [
    "load", "save", "from_numpy", "load_npz", "save_npz", "from_torch", "from_onnx", "from_nnet", "read_nnet", "limits",
]

_PICKLE_GLOBAL = re.compile(rb"c[A-Za-z_][\w.]*\n[A-Za-z_]")  # protocol 0/1 opcode GLOBAL "module\nname"
_PICKLE_HINT = (
    "exactmaso never unpickles files, because unpickling runs arbitrary code; save the model as exact "
    "JSON (exactmaso.io.save), as .npz arrays, as ONNX, or load torch weights with "
    "exactmaso.io.from_torch(module, state_dict=path)"
)


def from_torch(module: Any, input_shape: Any = None, *, state_dict: Any = None, storage: str = "auto") -> Network:
    """See :func:`exactmaso.io.torch_io.from_torch` (imports torch lazily)."""
    from .torch_io import from_torch as _from_torch

    return _from_torch(module, input_shape, state_dict=state_dict, storage=storage)


def from_onnx(path: str | os.PathLike) -> Network:
    """See :func:`exactmaso.io.onnx_io.from_onnx` (imports onnx lazily)."""
    from .onnx_io import from_onnx as _from_onnx

    return _from_onnx(path)


def _sniff(head: bytes) -> str:
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"{"):
        return "json"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if head.startswith(b"\x80") or head[:1] in (b"(", b"]", b"}") or _PICKLE_GLOBAL.match(head):
        return "pickle"
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    return "unknown"


def load(path: str | os.PathLike) -> Network:
    """Load a network from a file, recognising its format by its content.

    - exact JSON (starts with ``{``) -> :func:`exactmaso.io.json_io.load`
    - ``.npz`` (a zip archive) -> :func:`load_npz`
    - ``*.onnx`` -> :func:`from_onnx`
    - ``*.nnet`` -> :func:`from_nnet` (raw inputs; see :mod:`exactmaso.io.nnet_io` for the
      normalisation, and the clamping it does not apply)

    Pickles (and anything else) are refused with :class:`~exactmaso.errors.ModelFileError`,
    never executed.  Every reader checks the sizes a file declares against
    :mod:`exactmaso.io.limits` before it reads or allocates.

    Raises
    ------
    ModelFileNotFoundError
        ``path`` does not exist.  It is a :class:`~exactmaso.errors.ModelFileError` (so a
        ``ValueError``) and also a ``FileNotFoundError``, so ``except OSError`` still works.
    ModelFileError
        A folder, a FIFO or device, an empty file, a pickle, an unknown or malformed format,
        a size above a cap (:class:`~exactmaso.errors.ModelShapeError` for inconsistent shapes).
    """
    p = Path(path)
    with open_model_file(p, "a model file (.json, .npz or .onnx)") as fh:
        head = fh.read(4096)  # enough for JSON after blank lines, and every magic number
    kind = _sniff(head)
    if kind == "json":
        from .json_io import load as load_json

        return load_json(p)
    if kind == "zip":
        return load_npz(p)
    if p.suffix.lower() == ".onnx":
        return from_onnx(p)
    if p.suffix.lower() == ".nnet":
        return from_nnet(p)
    if kind == "pickle":
        raise ModelFileError(f"{p} looks like a Python pickle (starts with {head[:4]!r}); {_PICKLE_HINT}")
    if kind == "npy":
        raise ModelFileError(f"{p} is a single .npy array; expected an .npz archive of W0, b0, W1, b1, ...")
    if not head:
        raise ModelFileError(f"{p} is empty; expected a model file (.json, .npz or .onnx)")
    raise ModelFileError(
        f"{p} starts with {head[:8]!r}, which is no format exactmaso reads; expected exact JSON "
        "(starting with '{'), an .npz archive, or a file named *.onnx or *.nnet"
    )
