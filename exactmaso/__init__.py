"""exactmaso: the exact geometry of deep networks as max-affine spline operators.

>>> import exactmaso as em
>>> net = em.mlp([[[1, -1], [1, 1]], [[1, 1]]], [[0, 0], [0]])
>>> net([1, 2]).tolist()
[Fraction(3, 1)]
>>> net.code([1, 2])
((0, 1), (0,))
"""

from . import errors
from .errors import (
    CertificateError,
    DenseLimitError,
    DomainError,
    ExactMasoError,
    LimitError,
    ModelFileError,
    OptionError,
    ProveError,
    SpecError,
    ShapeError,
    UnsupportedLayerError,
)
from .layers import (
    Abs,
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
    mlp,
)
from .io import from_nnet, from_numpy, from_onnx, from_torch, load
from .maso import MASO, Affine, Network, plane
from .numbers import to_fraction, to_fraction_array
from .polytope import Box, Polytope
from .regions import Partition, Region, count_regions, iter_regions, regions
from .templates import (
    ClassTemplates,
    Memorisation,
    MemorisationSet,
    class_templates,
    cosine_similarity,
    matched_filter,
    memorisation,
    templates,
)
from .vq import PowerCell, power_diagram
from .complexity import local_complexity
from .boundary import ClassPiece, class_pieces
from . import boundary, colors, complexity, compose, export, graph, io, plot, prove, vq  # noqa: E402  (submodules as attributes: em.plot.partition, ...)

__version__ = "0.1.0"

__all__ = [
    "errors",
    "ExactMasoError",
    "ShapeError",
    "UnsupportedLayerError",
    "DomainError",
    "CertificateError",
    "LimitError",
    "DenseLimitError",
    "OptionError",
    "ModelFileError",
    "ProveError",
    "SpecError",
    "MASO",
    "Affine",
    "Network",
    "plane",
    "Dense",
    "ReLU",
    "LeakyReLU",
    "Abs",
    "MaxPool1d",
    "MaxPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "Conv1d",
    "Conv2d",
    "BatchNorm",
    "Flatten",
    "Residual",
    "mlp",
    "to_fraction",
    "to_fraction_array",
    "templates",
    "matched_filter",
    "class_templates",
    "ClassTemplates",
    "memorisation",
    "Memorisation",
    "MemorisationSet",
    "cosine_similarity",
    "from_numpy",
    "from_torch",
    "from_onnx",
    "from_nnet",
    "load",
    "Box",
    "Polytope",
    "Region",
    "Partition",
    "regions",
    "iter_regions",
    "count_regions",
    "PowerCell",
    "power_diagram",
    "local_complexity",
    "class_pieces",
    "ClassPiece",
    "boundary",
    "colors",
    "complexity",
    "vq",
    "export",
    "graph",
    "io",
    "plot",
    "__version__",
]
