"""Multilayer perceptrons from numpy arrays and ``.npz`` files (never unpickled).

An ``.npz`` model holds ``W0, b0, W1, b1, ...`` (weights of shape (out, in), like
``torch.nn.Linear``), optionally ``activation`` (a unicode scalar: ``"relu"``, ``"abs"`` or
``"leaky_relu(1/100)"``) and ``input_shape`` (ints).  Weights are float arrays when every
entry is a float64 exactly, and unicode arrays of ``"p/q"`` strings otherwise, so a round
trip is always exact.  Files are read member by member after checking every declared size
and ``.npy`` header (:mod:`exactmaso.io.limits`): object arrays and pickles are refused,
never executed.
"""

from __future__ import annotations

import math
import os
import re
import zipfile
from fractions import Fraction
from typing import Any, BinaryIO, Sequence

import numpy as np

from ..errors import DomainError, ModelFileError, ModelShapeError, ShapeError, UnsupportedLayerError
from ..layers import LeakyReLU, Layer, mlp
from ..maso import Network
from ..numbers import fraction_to_str, to_fraction_array
from . import limits

__all__ = ["from_numpy", "save_npz", "load_npz", "mlp_parameters"]

_LEAKY = re.compile(r"leaky_?relu\((.+)\)")


def _activation(activation: str | Layer) -> str | Layer:
    """Accept "leaky_relu(0.1)" on top of what :func:`~exactmaso.layers.mlp` accepts."""
    if isinstance(activation, str):
        match = _LEAKY.fullmatch(activation.strip().lower())
        if match:
            return LeakyReLU(match.group(1))
    return activation


def from_numpy(
    weights: Sequence[Any], biases: Sequence[Any] | None = None, activation: str | Layer = "relu"
) -> Network:
    """An exact MLP from weight matrices (out, in) and bias vectors, the last layer affine.

    A thin layer over :func:`exactmaso.mlp`; ``activation`` may also be written
    ``"leaky_relu(1/10)"``.

    Examples
    --------
    >>> import numpy as np
    >>> net = from_numpy([np.array([[1.0], [-1.0]]), np.array([[1.0, 1.0]])])
    >>> net([-0.5]).tolist()
    [Fraction(1, 2)]
    """
    return mlp(list(weights), None if biases is None else list(biases), _activation(activation))


# ------------------------------------------------------------------------------------------
# network -> MLP parameters
# ------------------------------------------------------------------------------------------


def _activation_name(slope: Fraction) -> str:
    if slope == 0:
        return "relu"
    if slope == -1:
        return "abs"
    return f"leaky_relu({fraction_to_str(slope)})"


def mlp_parameters(net: Network) -> tuple[list[np.ndarray], list[np.ndarray], str]:
    """Recover ``(weights, biases, activation)`` of a network that is an MLP.

    The network is an MLP when every layer but the last has two pieces per unit, the first
    piece being ``s`` times the second for one slope ``s`` shared by all layers (ReLU:
    ``s = 0``, abs: ``s = -1``, leaky ReLU: ``0 < s < 1``), and the last layer is affine.

    Raises
    ------
    UnsupportedLayerError
        For any other network (max-pooling, residual blocks, ...); save it as JSON instead.
    """
    masos = net.masos
    hint = "; save it as exact JSON with exactmaso.io.save(net, path) instead"
    if not masos[-1].is_affine:
        raise UnsupportedLayerError(f"the last layer of the network is not affine, so it is not an MLP{hint}")
    slope: Fraction | None = None
    weights, biases = [], []
    for l, m in enumerate(masos[:-1]):
        if m.num_pieces != 2:
            raise UnsupportedLayerError(
                f"layer {l} has {m.num_pieces} pieces per unit; an MLP layer has 2 (an activation){hint}"
            )
        A0, A1, B0, B1 = m.A[:, 0, :], m.A[:, 1, :], m.B[:, 0], m.B[:, 1]
        for k in range(m.num_units):
            row0 = list(A0[k]) + [B0[k]]
            row1 = list(A1[k]) + [B1[k]]
            pivot = next((j for j, v in enumerate(row1) if v != 0), None)
            if pivot is None:
                ok = all(v == 0 for v in row0)
            else:
                s = row0[pivot] / row1[pivot]
                slope = s if slope is None else slope
                ok = s == slope and all(a == slope * b for a, b in zip(row0, row1))
            if not ok:
                raise UnsupportedLayerError(
                    f"layer {l} unit {k} is not one activation (ReLU, abs or leaky ReLU with one slope) "
                    f"of an affine map, so the network is not an MLP{hint}"
                )
        weights.append(A1.copy())
        biases.append(B1.copy())
    last = masos[-1]
    weights.append(last.A[:, 0, :].copy())
    biases.append(last.B[:, 0].copy())
    if slope is not None and slope >= 1:
        raise UnsupportedLayerError(f"the activation slope {slope} is not a leaky ReLU slope{hint}")
    return weights, biases, _activation_name(slope if slope is not None else Fraction(0))


# ------------------------------------------------------------------------------------------
# npz files
# ------------------------------------------------------------------------------------------


def _exact_array(arr: np.ndarray) -> np.ndarray:
    """float64 when every entry is a float64 exactly, else unicode "p/q" strings."""
    try:
        floats = np.array([float(v) for v in arr.flat], dtype=np.float64)
    except OverflowError:
        floats = None
    if floats is not None and all(Fraction(f) == v for f, v in zip(floats.tolist(), arr.flat)):
        return floats.reshape(arr.shape)
    return np.array([fraction_to_str(v) for v in arr.flat], dtype=np.str_).reshape(arr.shape)


def save_npz(
    net_or_weights: Network | Sequence[Any],
    path: str | os.PathLike,
    *,
    biases: Sequence[Any] | None = None,
    activation: str | Layer = "relu",
) -> None:
    """Save an MLP as an ``.npz`` file of ``W0, b0, W1, b1, ...`` (exactly).

    Parameters
    ----------
    net_or_weights
        A :class:`~exactmaso.maso.Network` that is an MLP (see :func:`mlp_parameters`), or a
        list of weight matrices (then ``biases`` and ``activation`` are as in
        :func:`from_numpy`).
    path
        Where to write (numpy adds ``.npz`` when the name lacks it).
    """
    net = net_or_weights if isinstance(net_or_weights, Network) else from_numpy(net_or_weights, biases, activation)
    weights, bias_list, act = mlp_parameters(net)
    arrays: dict[str, np.ndarray] = {}
    for i, (W, b) in enumerate(zip(weights, bias_list)):
        arrays[f"W{i}"] = _exact_array(W)
        arrays[f"b{i}"] = _exact_array(b)
    arrays["activation"] = np.array(act, dtype=np.str_)
    arrays["input_shape"] = np.array(net.input_shape, dtype=np.int64)
    np.savez(path, **arrays)


_NUMBER_STRING = re.compile(
    r"\s*[+-]?(?:(?P<num>\d+)(?:/(?P<den>\d+))?"
    r"|(?P<int>\d*)\.(?P<frac>\d*)(?:[eE](?P<exp>[+-]?\d{1,9}))?"
    r"|(?P<mant>\d+)[eE](?P<exp2>[+-]?\d{1,9}))\s*"
)
_MEMBER_KINDS = "fiuU"
_LONGEST_ACTIVATION = 200  # characters of "leaky_relu(1/100)" and the like
_LONGEST_DIRECTORY_ENTRY = 46 + 256  # bytes of a zip directory entry with a name of up to 256 bytes  # float, signed and unsigned int, unicode "p/q" strings


def _check_number_string(text: str, where: str) -> None:
    """Refuse a string that is not ``p/q``, an integer or a decimal, or whose exact value needs
    more than ``MAX_DIGITS`` digits (``"1e999999999"`` would take minutes to expand)."""
    match = _NUMBER_STRING.fullmatch(text)
    if match is None or (match["int"] is not None and not (match["int"] or match["frac"])):
        shown = repr(text) if len(text) <= 60 else f"{text[:60]!r}... ({len(text):,} characters)"
        raise ModelFileError(f"{where} is the string {shown}; expected a 'p/q' string such as '-3/4', an integer or a decimal")
    if match["num"] is not None:
        limits.check_digits(len(match["num"]), where)
        limits.check_digits(len(match["den"] or ""), where)
        return
    digits = match["mant"] if match["mant"] is not None else match["int"] + match["frac"]
    exp = int(match["exp"] or match["exp2"] or 0) - len(match["frac"] or "")
    limits.check_digits(len(digits.lstrip("0")) + max(exp, 0), where)  # the numerator
    limits.check_digits(max(-exp, 0), where)  # the power of ten below it


def _check_strings(arr: np.ndarray, name: str) -> None:
    """Check every distinct string of ``arr``; a bad one is reported at its first index."""
    for text in set(arr.ravel().tolist()):
        try:
            _check_number_string(text, name)
        except ModelFileError:
            index = ", ".join(str(int(i)) for i in np.argwhere(arr == text)[0])
            _check_number_string(text, f"{name}[{index}]")
            raise


def _expected_arrays(n: int) -> str:
    return f"W0..W{n - 1}, b0..b{n - 1}, activation, input_shape" if n else "W0, b0, W1, b1, ..., activation, input_shape"


_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_EOCD = b"PK\x06\x06"


def _declared_directory(fh: BinaryIO) -> tuple[int, int] | None:
    """(members, central directory bytes) that a zip's end records declare, read from its last
    64 KiB before :mod:`zipfile` builds one object per member; None if there is no such record
    (zipfile then reports the file)."""
    fh.seek(0, os.SEEK_END)
    size = fh.tell()
    tail_start = max(0, size - (22 + 65535))
    fh.seek(tail_start)
    tail = fh.read()
    at = tail.rfind(_EOCD)
    if at < 0 or at + 22 > len(tail):
        return None
    members = int.from_bytes(tail[at + 10:at + 12], "little")
    directory = int.from_bytes(tail[at + 12:at + 16], "little")
    if (members == 0xFFFF or directory == 0xFFFFFFFF) and at >= 20 and tail[at - 20:at - 16] == _ZIP64_LOCATOR:
        offset = int.from_bytes(tail[at - 12:at - 4], "little")
        fh.seek(min(offset, size))
        record = fh.read(56)
        if len(record) == 56 and record[:4] == _ZIP64_EOCD:
            members = int.from_bytes(record[32:40], "little")
            directory = int.from_bytes(record[40:48], "little")
    return members, directory


def _members(zf: zipfile.ZipFile, source: str) -> dict[str, zipfile.ZipInfo]:
    """The ``.npy`` members of an ``.npz`` archive by array name, checked by their names and
    declared sizes only (nothing is decompressed)."""
    infos = zf.infolist()
    names = [info.filename for info in infos]
    if any(name.endswith(".pkl") for name in names):
        raise ModelFileError(
            f"{source}: holds pickled data (a PyTorch checkpoint?); exactmaso never unpickles. "
            "For torch weights use exactmaso.io.from_torch(module, state_dict=path)"
        )
    most = 2 * limits.MAX_LAYERS + 2
    if len(infos) > most:
        raise ModelFileError(f"{source}: holds {len(infos):,} members; an .npz model of at most {limits.MAX_LAYERS:,} "
                             f"layers holds at most {most:,} (exactmaso.io.limits.MAX_LAYERS)")
    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        if not info.filename.endswith(".npy") or info.is_dir():
            raise ModelFileError(
                f"{source}: member {info.filename[:80]!r} is not an .npy array; an .npz model holds only "
                "W0.npy, b0.npy, W1.npy, ..., activation.npy and input_shape.npy"
            )
        key = info.filename[: -len(".npy")]
        if key in members:
            raise ModelFileError(f"{source}: holds two members named {info.filename[:80]!r}; expected one of each")
        if info.flag_bits & 0x1:
            raise ModelFileError(f"{source}: member {info.filename[:80]!r} is encrypted; expected plain .npy arrays")
        members[key] = info
    limits.check_file_size(sum(info.file_size for info in infos), f"{source} (uncompressed)")
    return members


def _read_header(zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """(shape, fortran_order, dtype, header length) of an ``.npy`` member: only its first bytes
    are decompressed."""
    fmt = np.lib.format
    try:
        with zf.open(info) as fp:
            version = fmt.read_magic(fp)
            if version == (1, 0):
                shape, fortran, dtype = fmt.read_array_header_1_0(fp)
            elif version == (2, 0):
                shape, fortran, dtype = fmt.read_array_header_2_0(fp)
            else:
                raise ModelFileError(f"{where} is an .npy file of format version {version}; expected 1.0 or 2.0")
            return tuple(shape), bool(fortran), dtype, fp.tell()
    except ModelFileError:
        raise
    except Exception as exc:  # a zip or .npy header of untrusted bytes: any failure is a bad file
        raise ModelFileError(
            f"{where} is not a readable .npy array ({type(exc).__name__}: {str(exc)[:200]}); the file may be corrupt"
        ) from exc


def _check_header(shape: tuple[int, ...], dtype: np.dtype, source: str, key: str) -> int:
    """The number of entries of a member after checking its dtype and shape; object arrays
    (which only pickles can fill) are refused here, before any data is read."""
    where = f"{source}: {key}"
    if dtype.hasobject:
        raise ModelFileError(
            f"{source}: array {key!r} is an object array (pickled data), which exactmaso never loads; "
            "expected a float, int or unicode array"
        )
    if key == "activation" and dtype.itemsize > 4 * _LONGEST_ACTIVATION:
        raise ModelFileError(f"{where} holds strings of {dtype.itemsize // 4:,} characters; expected 'relu', 'abs' or 'leaky_relu(s)'")
    if dtype.kind not in _MEMBER_KINDS or dtype.itemsize == 0 or dtype.shape:
        raise ModelFileError(f"{where} has dtype {dtype}; expected float, int or unicode 'p/q' strings")
    longest = 2 * limits.MAX_DIGITS + 64  # a 'p/q' string of two MAX_DIGITS integers, and some spaces
    if dtype.kind == "U" and dtype.itemsize // 4 > longest:
        raise ModelFileError(f"{where} holds strings of up to {dtype.itemsize // 4:,} characters; a number of at most "
                             f"{limits.MAX_DIGITS:,} digits per integer needs at most {longest:,} (exactmaso.io.limits.MAX_DIGITS)")
    return limits.check_shape(shape, where)


def _read_data(zf: zipfile.ZipFile, info: zipfile.ZipInfo, header: tuple, where: str) -> np.ndarray:
    shape, fortran, dtype, offset = header
    size = math.prod(shape) * dtype.itemsize
    try:
        with zf.open(info) as fp:
            fp.read(offset)
            data = fp.read(size)
            rest = fp.read(1)
    except Exception as exc:  # decompression or CRC failures of untrusted bytes
        raise ModelFileError(
            f"{where} is unreadable ({type(exc).__name__}: {str(exc)[:200]}); the file may be truncated or corrupt"
        ) from exc
    if len(data) != size:
        raise ModelFileError(f"{where} declares shape {shape} of {dtype} ({size:,} bytes) but holds only "
                             f"{len(data):,} bytes; the file may be truncated")
    if rest:
        raise ModelFileError(f"{where} holds more bytes than its header declares (shape {shape} of {dtype}, {size:,} bytes)")
    return np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")


def load_npz(path: str | os.PathLike) -> Network:
    """Read an MLP saved by :func:`save_npz` (or by ``np.savez(W0=..., b0=..., ...)``).

    The archive is read member by member with :mod:`zipfile` and :mod:`numpy.lib.format`:
    names, declared sizes and ``.npy`` headers (shape, dtype) are checked against
    :mod:`exactmaso.io.limits` before any array is decompressed, and object arrays are
    refused from their header, so nothing is ever unpickled.

    Raises
    ------
    ModelFileNotFoundError
        ``path`` does not exist (a :class:`ModelFileError` and a :class:`FileNotFoundError`).
    ModelFileError
        Not a zip/npz file, truncated, unknown or missing arrays, members that are not
        ``.npy`` arrays, object arrays (pickles are never loaded), non-finite numbers, sizes
        above a cap.
    ShapeError
        Weights or biases whose shapes do not chain, or arrays with an empty dimension (a
        :class:`~exactmaso.errors.ModelShapeError`, also a ModelFileError).
    """
    source = os.fspath(path)
    with limits.open_model_file(path, "an .npz file") as fh:
        magic = fh.read(4)
        if magic[:2] != b"PK":
            raise ModelFileError(f"{source}: starts with {magic!r}, not a zip archive; expected an .npz file")
        declared = _declared_directory(fh)
        most = 2 * limits.MAX_LAYERS + 2
        if declared is not None and (declared[0] > most or declared[1] > most * _LONGEST_DIRECTORY_ENTRY):
            raise ModelFileError(
                f"{source}: its zip directory declares {declared[0]:,} members in {declared[1]:,} bytes; an .npz model "
                f"of at most {limits.MAX_LAYERS:,} layers has at most {most:,} members (exactmaso.io.limits.MAX_LAYERS)"
            )
        fh.seek(0)
        try:
            zf = zipfile.ZipFile(fh)
        except Exception as exc:  # zipfile's own parse of untrusted bytes
            raise ModelFileError(
                f"{source}: not a readable .npz archive ({type(exc).__name__}: {str(exc)[:200]}); "
                "the file may be truncated"
            ) from exc
        with zf:
            return _load_members(zf, _members(zf, source), source)


def _load_members(zf: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], source: str) -> Network:
    keys = set(members)
    n = 0
    while f"W{n}" in keys:
        n += 1
    if n == 0:
        raise ModelFileError(f"{source}: has no array 'W0' (arrays: {sorted(keys)[:20]}); expected W0, b0, W1, b1, ...")
    known = {f"W{i}" for i in range(n)} | {f"b{i}" for i in range(n)} | {"activation", "input_shape"}
    unknown = sorted(keys - known)
    if unknown:
        raise ModelFileError(f"{source}: unexpected arrays {unknown[:20]}; expected {_expected_arrays(n)}")
    # every header first: shapes, dtypes and sizes are checked before any data is read
    headers = {}
    stored = limits.EntryCount(source)
    compiled = limits.EntryCount(source, "MAX_MASO_ENTRIES")
    for key in sorted(keys):
        where = f"{source}: {key}"
        headers[key] = _read_header(zf, members[key], where)
        shape, _, dtype, offset = headers[key]
        stored.add(_check_header(shape, dtype, source, key), key)
        size = offset + math.prod(shape) * dtype.itemsize
        if members[key].file_size != size:
            raise ModelFileError(f"{where} declares shape {shape} of {dtype} in its header ({size:,} bytes with the header) "
                                 f"but its zip member holds {members[key].file_size:,} bytes")
        want = 2 if key[0] == "W" else 0 if key == "activation" else 1
        if len(shape) != want and not (key == "activation" and math.prod(shape) == 1):
            raise ModelShapeError(f"{where} has shape {shape}; expected {want} dimension(s)")
    for i in range(n):
        out, inp = headers[f"W{i}"][0]
        compiled.add(out * (2 if i < n - 1 else 1) * (inp + 1), f"the MASO layer of W{i}")

    def read(key: str) -> np.ndarray:
        return _read_data(zf, members[key], headers[key], f"{source}: {key}")

    activation = "relu"
    if "activation" in keys:
        act = read("activation")
        if act.dtype.kind != "U":
            raise ModelFileError(f"{source}: 'activation' has dtype {act.dtype}; expected one unicode string")
        activation = _check_activation(str(act.reshape(-1)[0]), f"{source}: activation")
    weights, biases = [], []
    for i in range(n):
        weights.append(_exact(read(f"W{i}"), f"{source}: W{i}", 2))
        if f"b{i}" in keys:
            biases.append(_exact(read(f"b{i}"), f"{source}: b{i}", 1))
        else:
            biases.append(np.array([Fraction(0)] * weights[-1].shape[0], dtype=object))
    input_shape = None
    if "input_shape" in keys:
        shp = read("input_shape")
        if shp.dtype.kind not in "iu" or (shp <= 0).any():
            raise ModelFileError(f"{source}: 'input_shape' is {shp.tolist()!r:.80}; expected a 1-D array of positive ints")
        input_shape = tuple(int(s) for s in shp)
        limits.check_shape(input_shape, f"{source}: input_shape")
    for i in range(n):
        if biases[i].shape[0] != weights[i].shape[0]:
            raise ModelShapeError(f"{source}: b{i} has {biases[i].shape[0]} entries; W{i} has {weights[i].shape[0]} rows")
        if i and weights[i].shape[1] != weights[i - 1].shape[0]:
            raise ModelShapeError(
                f"{source}: W{i} has {weights[i].shape[1]} columns; W{i - 1} has {weights[i - 1].shape[0]} rows"
            )
    if input_shape is not None and math.prod(input_shape) != weights[0].shape[1]:
        raise ModelShapeError(f"{source}: input_shape {input_shape} has {math.prod(input_shape)} entries; W0 has {weights[0].shape[1]} columns")
    try:
        net = from_numpy(weights, biases, activation)
    except UnsupportedLayerError as exc:
        raise ModelFileError(f"{source}: {exc}") from exc
    if input_shape is not None and input_shape != net.input_shape:
        net = Network.from_masos(net.masos, input_shape=input_shape)
    return net


def _check_activation(text: str, where: str) -> str:
    """The activation string of a file, refused if it is long or its leaky slope is no number."""
    if len(text) > _LONGEST_ACTIVATION:
        raise ModelFileError(f"{where} is a string of {len(text):,} characters; expected 'relu', 'abs' or 'leaky_relu(s)'")
    match = _LEAKY.fullmatch(text.strip().lower())
    if match:
        _check_number_string(match.group(1), f"{where} slope")
    return text


def _exact(arr: np.ndarray, name: str, ndim: int) -> np.ndarray:
    if arr.dtype.kind not in "fiuU":
        raise ModelFileError(f"{name} has dtype {arr.dtype}; expected float, int or unicode 'p/q' strings")
    if arr.ndim != ndim:
        raise ModelShapeError(f"{name} has shape {arr.shape}; expected {ndim} dimension(s)")
    if arr.dtype.kind == "U":  # plain str entries, so that messages show 'abc', not np.str_('abc')
        _check_strings(arr, name)
        arr = np.array(arr.tolist(), dtype=object)
    try:
        return to_fraction_array(arr, name=name)
    except (DomainError, ShapeError) as exc:
        raise ModelFileError(str(exc)) from exc
