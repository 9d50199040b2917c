"""Multilayer perceptrons from numpy arrays and ``.npz`` files (never unpickled).

An ``.npz`` model holds ``W0, b0, W1, b1, ...`` (weights of shape (out, in), like
``torch.nn.Linear``), optionally ``activation`` (a unicode scalar: ``"relu"``, ``"abs"`` or
``"leaky_relu(1/100)"``) and ``input_shape`` (ints).  Weights are float arrays when every
entry is a float64 exactly, and unicode arrays of ``"p/q"`` strings otherwise, so a round
trip is always exact.  Files are read with ``np.load(..., allow_pickle=False)``: object
arrays and pickles are refused, never executed.
"""

from __future__ import annotations

import os
import re
import zipfile
from fractions import Fraction
from typing import Any, Sequence

import numpy as np

from ..errors import DomainError, ModelFileError, ShapeError, UnsupportedLayerError
from ..layers import LeakyReLU, Layer, mlp
from ..maso import Network
from ..numbers import fraction_to_str, to_fraction_array
from .json_io import ModelShapeError

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


def _read_member(npz: Any, key: str, source: str) -> np.ndarray:
    try:
        return npz[key]
    except ValueError as exc:  # object arrays need pickle: refused
        raise ModelFileError(
            f"{source}: array {key!r} is an object array (pickled data), which exactmaso never loads; "
            "expected a float, int or unicode array"
        ) from exc
    except (zipfile.BadZipFile, EOFError, OSError, KeyError) as exc:
        raise ModelFileError(f"{source}: array {key!r} is unreadable ({exc}); the file may be truncated") from exc


def load_npz(path: str | os.PathLike) -> Network:
    """Read an MLP saved by :func:`save_npz` (or by ``np.savez(W0=..., b0=..., ...)``).

    Raises
    ------
    ModelFileError
        Not a zip/npz file, truncated, unknown or missing arrays, object arrays (pickles are
        never loaded), non-finite numbers.
    ShapeError
        Weights or biases whose shapes do not chain.
    """
    source = str(path)
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
    except IsADirectoryError:
        raise ModelFileError(f"{source} is a folder; expected an .npz file") from None
    if magic[:2] != b"PK":
        raise ModelFileError(f"{source}: starts with {magic!r}, not a zip archive; expected an .npz file")
    try:
        npz = np.load(path, allow_pickle=False)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise ModelFileError(f"{source}: not a readable .npz archive ({exc}); the file may be truncated") from exc
    if not isinstance(npz, np.lib.npyio.NpzFile):  # pragma: no cover - magic checked above
        raise ModelFileError(f"{source}: not an .npz archive")
    with npz:
        keys = set(npz.files)
        if any(name.endswith(".pkl") for name in npz.zip.namelist()):
            raise ModelFileError(
                f"{source}: holds pickled data (a PyTorch checkpoint?); exactmaso never unpickles. "
                "For torch weights use exactmaso.io.from_torch(module, state_dict=path)"
            )
        n = 0
        while f"W{n}" in keys:
            n += 1
        if n == 0:
            raise ModelFileError(f"{source}: has no array 'W0' (arrays: {sorted(keys)}); expected W0, b0, W1, b1, ...")
        known = {f"W{i}" for i in range(n)} | {f"b{i}" for i in range(n)} | {"activation", "input_shape"}
        unknown = sorted(keys - known)
        if unknown:
            raise ModelFileError(
                f"{source}: unexpected arrays {unknown}; expected W0..W{n - 1}, b0..b{n - 1}, activation, input_shape"
            )
        activation = "relu"
        if "activation" in keys:
            act = _read_member(npz, "activation", source)
            if act.dtype.kind != "U" or act.size != 1:
                raise ModelFileError(f"{source}: 'activation' has dtype {act.dtype} and shape {act.shape}; expected one unicode string")
            activation = str(act.reshape(-1)[0])
        weights, biases = [], []
        for i in range(n):
            weights.append(_exact(_read_member(npz, f"W{i}", source), f"{source}: W{i}", 2))
            if f"b{i}" in keys:
                biases.append(_exact(_read_member(npz, f"b{i}", source), f"{source}: b{i}", 1))
            else:
                biases.append(np.array([Fraction(0)] * weights[-1].shape[0], dtype=object))
        input_shape = None
        if "input_shape" in keys:
            shp = _read_member(npz, "input_shape", source)
            if shp.dtype.kind not in "iu" or shp.ndim != 1 or shp.size == 0 or (shp <= 0).any():
                raise ModelFileError(f"{source}: 'input_shape' is {shp!r}; expected a 1-D array of positive ints")
            input_shape = tuple(int(s) for s in shp)
    for i in range(n):
        if biases[i].shape[0] != weights[i].shape[0]:
            raise ModelShapeError(f"{source}: b{i} has {biases[i].shape[0]} entries; W{i} has {weights[i].shape[0]} rows")
        if i and weights[i].shape[1] != weights[i - 1].shape[0]:
            raise ModelShapeError(
                f"{source}: W{i} has {weights[i].shape[1]} columns; W{i - 1} has {weights[i - 1].shape[0]} rows"
            )
    if input_shape is not None and int(np.prod(input_shape)) != weights[0].shape[1]:
        raise ModelShapeError(f"{source}: input_shape {input_shape} has {int(np.prod(input_shape))} entries; W0 has {weights[0].shape[1]} columns")
    try:
        net = from_numpy(weights, biases, activation)
    except UnsupportedLayerError as exc:
        raise ModelFileError(f"{source}: {exc}") from exc
    if input_shape is not None and input_shape != net.input_shape:
        net = Network.from_masos(net.masos, input_shape=input_shape)
    return net


def _exact(arr: np.ndarray, name: str, ndim: int) -> np.ndarray:
    if arr.dtype.kind not in "fiuU":
        raise ModelFileError(f"{name} has dtype {arr.dtype}; expected float, int or unicode 'p/q' strings")
    if arr.ndim != ndim:
        raise ModelShapeError(f"{name} has shape {arr.shape}; expected {ndim} dimension(s)")
    if arr.dtype.kind == "U":  # plain str entries, so that messages show 'abc', not np.str_('abc')
        arr = np.array(arr.tolist(), dtype=object)
    try:
        return to_fraction_array(arr, name=name)
    except (DomainError, ShapeError) as exc:
        raise ModelFileError(str(exc)) from exc
