"""Exception hierarchy of exactmaso.

Every error raised on purpose by the library is an :class:`ExactMasoError`.  Each leaf also
subclasses the matching builtin exception, so ``except ValueError`` keeps working for code
that does not know about exactmaso.
"""

from __future__ import annotations

import errno

__all__ = [
    "ExactMasoError",
    "ShapeError",
    "UnsupportedLayerError",
    "DomainError",
    "CertificateError",
    "LimitError",
    "DenseLimitError",
    "OptionError",
    "ModelFileError",
    "ModelFileNotFoundError",
    "ModelShapeError",
    "SpecError",
]


class ExactMasoError(Exception):
    """Root of all exactmaso errors."""


class ShapeError(ExactMasoError, ValueError):
    """An array, layer or input has the wrong shape or size."""


class UnsupportedLayerError(ExactMasoError, TypeError):
    """A layer or operator has no exact max-affine spline form (sigmoid, tanh, GELU, ...)."""


class DomainError(ExactMasoError, ValueError):
    """A domain is empty, unbounded, not full-dimensional, or a number is not a finite real."""


class CertificateError(ExactMasoError, RuntimeError):
    """An exact re-check of a certificate failed."""


class LimitError(ExactMasoError, RuntimeError):
    """A user-set limit (regions, time) was reached before the computation finished.

    Attributes
    ----------
    count : int
        How many items (regions, search nodes) had been processed when the limit was hit.
    lower, upper : Fraction or None
        For a proof stopped by a limit: exact bounds proven so far, an interval certain to
        hold the answer (None where nothing is proven).
    certificate : dict or None
        For a proof stopped by a limit: a certificate of what is proven (``em.prove.check``
        re-verifies it), or None.
    """

    def __init__(self, message: str, *, count: int = 0, lower: object = None, upper: object = None,
                 certificate: object = None) -> None:
        super().__init__(message)
        self.count = count
        self.lower = lower  # for proofs: an interval [lower, upper] certain to hold the answer
        self.upper = upper
        self.certificate = certificate


class DenseLimitError(LimitError, MemoryError):
    """A dense copy of a sparse exact object would hold more than :data:`MAX_DENSE_ENTRIES` numbers.

    Both a :class:`~exactmaso.errors.LimitError` and a :class:`MemoryError`.

    Attributes
    ----------
    entries : int
        How many numbers the dense copy would hold.
    limit : int
        The limit that was applied.
    """

    def __init__(self, message: str, *, entries: int = 0, limit: int = 0) -> None:
        super().__init__(message, count=entries)
        self.entries = entries
        self.limit = limit

    def __reduce__(self):
        return (_rebuild_dense_limit_error, (self.args[0] if self.args else "", self.entries, self.limit))


def _rebuild_dense_limit_error(message: str, entries: int, limit: int) -> DenseLimitError:
    return DenseLimitError(message, entries=entries, limit=limit)


class OptionError(ExactMasoError, ValueError):
    """An option of a figure or export has a value outside its accepted set (``color_by``,
    ``kind``); also a ValueError."""


class ModelFileError(ExactMasoError, ValueError):
    """A model file is malformed, truncated, of an unknown format, or unsafe to load."""


class ModelShapeError(ShapeError, ModelFileError):
    """A model file whose arrays have inconsistent or impossible shapes (both a ShapeError
    and a ModelFileError)."""


class ModelFileNotFoundError(ModelFileError, FileNotFoundError):
    """A model file (or the external data an ONNX model names) does not exist.

    Both a :class:`ModelFileError` (so ``except ValueError`` and ``except ExactMasoError``
    catch it, like every other unreadable model) and a :class:`FileNotFoundError` (so
    ``except OSError`` code keeps working).  ``errno`` is ``ENOENT`` and ``filename`` the
    missing path; ``str()`` is the message alone.
    """

    def __init__(self, message: str, filename: str | None = None) -> None:
        super().__init__(message)
        self.errno = errno.ENOENT
        self.strerror = message
        self.filename = filename

    def __str__(self) -> str:
        return str(self.args[0])

    def __reduce__(self):
        return (type(self), (self.args[0], self.filename))


class ProveError(ExactMasoError, ValueError):
    """A proof was asked with arguments that do not fit (an unsupported norm, a missing output
    index, a mode that is not available)."""


class SpecError(ExactMasoError, ValueError):
    """A property specification (a VNN-LIB file, a robustness or bounds question) is malformed,
    unsupported, or does not fit the network it is asked about."""

