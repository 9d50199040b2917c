"""Exact networks from PyTorch modules (``torch`` is an optional dependency).

:func:`from_torch` reads a ``torch.nn.Sequential`` (nested ones too) of

- ``Linear``, ``Conv1d``, ``Conv2d`` (groups 1, dilation 1, zero padding),
- ``ReLU``, ``LeakyReLU``,
- ``MaxPool1d/2d`` (dilation 1, no ceil mode), ``AvgPool1d/2d`` (no ceil mode, padding
  counted, no divisor override),
- ``BatchNorm1d/2d`` in eval mode with running statistics,
- ``Flatten`` (``start_dim=1, end_dim=-1``), ``Identity``, ``Dropout`` (eval mode),
- :class:`ResidualBlock` (``x + body(x)``),

and converts every parameter exactly (a float32 or float64 weight is a dyadic rational).
Weights from a file are read with ``torch.load(..., weights_only=True)`` only.

Conventions shared with :func:`~exactmaso.io.onnx_io.from_onnx`: BatchNorm folds with
:meth:`exactmaso.layers.BatchNorm.from_stats` and the module's ``eps``; a LeakyReLU slope is
the module's ``negative_slope`` (a Python float).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Sequence

from ..errors import ModelFileError, ShapeError, UnsupportedLayerError
from ..layers import (
    AvgPool1d,
    AvgPool2d,
    BatchNorm,
    Conv1d,
    Conv2d,
    Dense,
    Flatten,
    LeakyReLU,
    MaxPool1d,
    MaxPool2d,
    ReLU,
    Residual,
)
from ..maso import Network
from . import limits

__all__ = ["from_torch", "ResidualBlock"]


def _import_torch() -> Any:
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "exactmaso.io.from_torch needs PyTorch, an optional dependency: pip install exactmaso[torch]"
        ) from exc
    return torch


_RESIDUAL_BLOCK: Any = None


def _residual_block_class() -> Any:
    """Create :class:`ResidualBlock` on first use, so that importing exactmaso needs no torch."""
    global _RESIDUAL_BLOCK
    if _RESIDUAL_BLOCK is None:
        torch = _import_torch()

        class ResidualBlock(torch.nn.Module):
            """``x -> x + body(x)``: a residual block that :func:`from_torch` understands.

            Parameters
            ----------
            body : torch.nn.Module
                Usually an ``nn.Sequential`` of supported layers whose output has the shape
                of its input.
            """

            def __init__(self, body: Any) -> None:
                super().__init__()
                self.body = body

            def forward(self, x: Any) -> Any:
                return x + self.body(x)

        ResidualBlock.__module__ = __name__
        ResidualBlock.__qualname__ = "ResidualBlock"
        _RESIDUAL_BLOCK = ResidualBlock
    return _RESIDUAL_BLOCK


def __getattr__(name: str) -> Any:
    if name == "ResidualBlock":
        return _residual_block_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ------------------------------------------------------------------------------------------
# parameters
# ------------------------------------------------------------------------------------------


def _array(tensor: Any, torch: Any) -> Any:
    """A detached CPU numpy copy of a parameter; bfloat16/float16 widen exactly to float32."""
    t = tensor.detach().cpu()
    if t.dtype in (torch.bfloat16, torch.float16):
        t = t.to(torch.float32)
    return t.numpy()


def _load_state_dict(module: Any, state_dict: Any, torch: Any) -> None:
    if isinstance(state_dict, (str, os.PathLike)):
        limits.open_model_file(state_dict, "a torch state_dict file").close()  # exists, regular, size cap
        try:
            state_dict = torch.load(state_dict, map_location="cpu", weights_only=True)
        except Exception as exc:  # weights_only refuses anything but tensors and containers
            raise ModelFileError(
                f"{state_dict}: cannot be read by torch.load(weights_only=True) ({type(exc).__name__}: "
                f"{str(exc).splitlines()[0] if str(exc) else ''}); exactmaso never unpickles arbitrary objects"
            ) from exc
    if not isinstance(state_dict, Mapping):
        raise ModelFileError(f"state_dict is a {type(state_dict).__name__}; expected a mapping of names to tensors")
    try:
        module.load_state_dict(state_dict)
    except RuntimeError as exc:
        raise ModelFileError(f"the state_dict does not fit the module: {exc}") from exc


# ------------------------------------------------------------------------------------------
# modules -> layers
# ------------------------------------------------------------------------------------------


def _where(path: str, module: Any) -> str:
    return f"module {path!r} ({type(module).__name__})" if path else f"the top module ({type(module).__name__})"


def _ints(v: Any) -> tuple[int, ...]:
    return (int(v),) if isinstance(v, int) else tuple(int(x) for x in v)


def _conv_padding(m: Any, where: str) -> Any:
    pad = m.padding
    if pad == "valid":
        return 0
    if pad == "same":
        ks = _ints(m.kernel_size)
        if any(k % 2 == 0 for k in ks):
            raise UnsupportedLayerError(f"{where} uses padding='same' with an even kernel {ks}; expected symmetric padding")
        return tuple(k // 2 for k in ks) if len(ks) > 1 else ks[0] // 2
    return pad


def _overrides_forward(module: Any, torch: Any) -> bool:
    """True for a subclass of a torch layer that replaces the layer's forward()."""
    for base in type(module).__mro__:
        if base is torch.nn.Module:
            return False
        if base.__module__.startswith("torch.nn.modules"):
            return type(module).forward is not base.forward
    return False


def _convert(module: Any, path: str, torch: Any, out: list) -> None:
    """Append the exactmaso layers of ``module`` to ``out``."""
    nn = torch.nn
    where = _where(path, module)
    prefix = f"{path}." if path else ""

    if isinstance(module, nn.Sequential):
        if type(module).forward is not nn.Sequential.forward:
            raise UnsupportedLayerError(f"{where} overrides forward(); expected a plain nn.Sequential")
        for name, child in module.named_children():
            _convert(child, prefix + name, torch, out)
        return
    if isinstance(module, _residual_block_class()):
        body: list = []
        _convert(module.body, prefix + "body", torch, body)
        out.append(Residual(body))
        return
    if _overrides_forward(module, torch):
        raise UnsupportedLayerError(
            f"{where} overrides forward() of its torch base class; exactmaso reads only the standard layers"
        )
    if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d, nn.modules.dropout._DropoutNd)) and module.training:
        raise UnsupportedLayerError(
            f"{where} is in training mode, where it depends on the batch or on chance; call module.eval() first"
        )
    if isinstance(module, (nn.Identity, nn.modules.dropout._DropoutNd)):
        return
    if isinstance(module, nn.Linear):
        out.append(Dense(_array(module.weight, torch), None if module.bias is None else _array(module.bias, torch)))
        return
    if isinstance(module, (nn.Conv1d, nn.Conv2d)):
        if module.groups != 1:
            raise UnsupportedLayerError(f"{where} has groups={module.groups}; expected groups=1")
        if any(d != 1 for d in _ints(module.dilation)):
            raise UnsupportedLayerError(f"{where} has dilation={module.dilation}; expected 1")
        if module.padding_mode != "zeros":
            raise UnsupportedLayerError(f"{where} has padding_mode={module.padding_mode!r}; expected 'zeros'")
        cls = Conv1d if isinstance(module, nn.Conv1d) else Conv2d
        bias = None if module.bias is None else _array(module.bias, torch)
        out.append(cls(_array(module.weight, torch), bias, stride=module.stride, padding=_conv_padding(module, where)))
        return
    if isinstance(module, nn.ReLU):
        out.append(ReLU())
        return
    if isinstance(module, nn.LeakyReLU):
        out.append(LeakyReLU(float(module.negative_slope)))
        return
    if isinstance(module, (nn.MaxPool1d, nn.MaxPool2d)):
        if any(d != 1 for d in _ints(module.dilation)):
            raise UnsupportedLayerError(f"{where} has dilation={module.dilation}; expected 1")
        if module.ceil_mode:
            raise UnsupportedLayerError(f"{where} has ceil_mode=True; expected False")
        if module.return_indices:
            raise UnsupportedLayerError(f"{where} has return_indices=True; expected False")
        cls = MaxPool1d if isinstance(module, nn.MaxPool1d) else MaxPool2d
        out.append(cls(module.kernel_size, module.stride, module.padding))
        return
    if isinstance(module, (nn.AvgPool1d, nn.AvgPool2d)):
        if module.ceil_mode:
            raise UnsupportedLayerError(f"{where} has ceil_mode=True; expected False")
        if not module.count_include_pad and any(p != 0 for p in _ints(module.padding)):
            raise UnsupportedLayerError(f"{where} has count_include_pad=False with padding; expected count_include_pad=True")
        if getattr(module, "divisor_override", None) is not None:
            raise UnsupportedLayerError(f"{where} has divisor_override={module.divisor_override}; expected None")
        cls = AvgPool1d if isinstance(module, nn.AvgPool1d) else AvgPool2d
        out.append(cls(module.kernel_size, module.stride, module.padding))
        return
    if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        if module.running_mean is None or module.running_var is None:
            raise UnsupportedLayerError(
                f"{where} has no running statistics (track_running_stats=False); expected eval-mode statistics"
            )
        weight = None if module.weight is None else _array(module.weight, torch)
        bias = None if module.bias is None else _array(module.bias, torch)
        out.append(BatchNorm.from_stats(_array(module.running_mean, torch), _array(module.running_var, torch), weight, bias, float(module.eps)))
        return
    if isinstance(module, nn.Flatten):
        if module.start_dim != 1 or module.end_dim != -1:
            raise UnsupportedLayerError(
                f"{where} has start_dim={module.start_dim}, end_dim={module.end_dim}; expected start_dim=1, end_dim=-1"
            )
        out.append(Flatten())
        return
    raise UnsupportedLayerError(
        f"{where} is not a max-affine spline layer; supported: Linear, Conv1d, Conv2d, ReLU, LeakyReLU, "
        "MaxPool1d/2d, AvgPool1d/2d, BatchNorm1d/2d (eval), Flatten, Identity, Dropout (eval), "
        "Sequential and exactmaso.io.torch_io.ResidualBlock"
    )


def _infer_input_shape(layers: Sequence[Any]) -> tuple[int, ...]:
    first = layers[0] if layers else None
    if isinstance(first, Dense):
        return (int(first.W.shape[1]),)
    name = type(first).__name__ if first is not None else "nothing"
    raise ShapeError(
        f"the first layer is {name}, whose input size is unknown; give input_shape= without the batch "
        "dimension, e.g. input_shape=(1, 28, 28)"
    )


def from_torch(module: Any, input_shape: Sequence[int] | None = None, *, state_dict: Any = None,
               storage: str = "auto") -> Network:
    """The exact network of a PyTorch module.

    Parameters
    ----------
    module : torch.nn.Module
        An ``nn.Sequential`` (possibly nested, possibly holding :class:`ResidualBlock`) of the
        supported layers listed in the module docstring, in eval mode.
    input_shape : tuple of int, optional
        The shape of one input without the batch dimension, e.g. ``(1, 8, 8)``.  Inferred
        when the first layer is ``Linear``.
    state_dict : path or mapping, optional
        Weights to load into ``module`` first; a path is read with
        ``torch.load(path, weights_only=True)`` (never full unpickling).
    storage : {"auto", "dense", "sparse"}
        How the MASOs store their pieces (see :class:`~exactmaso.maso.Network`): "auto" keeps
        large convolution and pooling layers sparse (exact, integer numerators in CSR form), so
        that, say, an MNIST-sized CNN converts in seconds; "dense" makes every layer dense
        (:class:`~exactmaso.errors.DenseLimitError` when one is too large).

    Raises
    ------
    UnsupportedLayerError
        A module with no max-affine form (Sigmoid, Tanh, GELU, ...), named with its position,
        or BatchNorm/Dropout in training mode.
    ModelFileError
        ``state_dict`` cannot be read safely or does not fit the module.

    Examples
    --------
    >>> import torch
    >>> m = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    >>> from_torch(m.double())
    Network(input_dim=2, layers=[3x2, 1x1])
    """
    torch = _import_torch()
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"from_torch takes a torch.nn.Module; got {type(module).__name__}")
    if state_dict is not None:
        _load_state_dict(module, state_dict, torch)
    layers: list = []
    _convert(module, "", torch, layers)
    if input_shape is None:
        input_shape = _infer_input_shape(layers)
    elif isinstance(input_shape, int):
        input_shape = (input_shape,)
    return Network(layers, input_shape=tuple(int(s) for s in input_shape), storage=storage)
