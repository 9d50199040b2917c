"""Frozen results of proofs, each with its certificate, ``verify()`` and ``save(path)``."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from .._files import write_text_atomic
from ..maso import Network
from . import checker

__all__ = ["ProofResult", "OutputBounds", "Lipschitz", "Robustness", "MinAdversarial", "Equivalence",
           "PropertyResult", "check", "load_certificate"]


@dataclass(frozen=True)
class ProofResult:
    """Base of every proof result: the networks it is about and its certificate.

    ``certificate`` is a fresh JSON-ready dict on every access (the result stays frozen);
    ``verify()`` re-checks it with :mod:`exactmaso.prove.checker`, which trusts nothing the
    prover computed; ``save(path)`` writes it as JSON (atomically).
    """

    _nets: tuple = field(repr=False, compare=False)
    _certificate: str = field(repr=False, compare=False)

    @property
    def certificate(self) -> dict:
        return json.loads(self._certificate)

    def verify(self) -> None:
        """Re-check the certificate exactly; raise CertificateError if any claim fails."""
        nets = self._nets if len(self._nets) > 1 else self._nets[0]
        checker.check_certificate(self.certificate, nets)

    def save(self, path: str | os.PathLike) -> None:
        """Write the certificate as JSON to ``path`` (see docs/proofs.md, "The certificate file")."""
        write_text_atomic(path, self._certificate + "\n")

    def __repr__(self) -> str:
        """One or two lines: numbers as short decimals, long points cut, and the names of the
        attributes that hold the exact values."""
        from dataclasses import fields

        from .._display import brief, shorten

        shown, exact = [], []
        for f in fields(self):
            if f.repr:
                text, rounded = brief(getattr(self, f.name))
                shown.append(f"{f.name}={text}")
                if rounded:
                    exact.append("." + f.name)
        hint = f"; exact: {', '.join(exact)}" if exact else ""
        return f"{type(self).__name__}({shorten(', '.join(shown), 120)}{hint})"


@dataclass(frozen=True)
class OutputBounds(ProofResult):
    """The exact minimum and maximum of ``c . f(x) + d`` over a domain, with points attaining them."""

    lo: Fraction | None = None
    hi: Fraction | None = None
    argmin: tuple | None = None
    argmax: tuple | None = None
    nodes: int = 0
    seconds: float = 0.0

    __repr__ = ProofResult.__repr__


@dataclass(frozen=True)
class Lipschitz(ProofResult):
    """The exact Lipschitz constant: ``value`` (a Fraction for norms 1 and inf, a sympy
    expression for norm 2), ``value_float``, the index of a region attaining it in the
    partition of the domain, and a point of that region."""

    value: Any = None
    value_float: float = 0.0
    norm: Any = "inf"
    region: int = -1
    point: tuple | None = None

    __repr__ = ProofResult.__repr__


@dataclass(frozen=True)
class Robustness(ProofResult):
    """Whether class ``label`` stays strictly on top on the ball; an exact counterexample if not."""

    holds: bool = False
    counterexample: tuple | None = None
    label: int = 0
    eps: Fraction = Fraction(0)
    norm: Any = "inf"

    __repr__ = ProofResult.__repr__


@dataclass(frozen=True)
class MinAdversarial(ProofResult):
    """The exact distance from ``x0`` to the nearest point where ``label`` is not strictly on top
    (``value`` a Fraction for norms 1 and inf, a sympy expression for norm 2; None when there is
    no such point in the domain), and that point."""

    value: Any = None
    value_float: float = float("inf")
    point: tuple | None = None
    label: int = 0
    norm: Any = "inf"

    __repr__ = ProofResult.__repr__


@dataclass(frozen=True)
class Equivalence(ProofResult):
    """Whether two networks agree on the domain (within ``eps``, or in their arg-max class);
    ``max_difference`` is the exact max over the domain of ``max_o |f_o - g_o|``."""

    holds: bool = False
    counterexample: tuple | None = None
    max_difference: Fraction | None = None
    mode: str = "value"

    __repr__ = ProofResult.__repr__


@dataclass(frozen=True)
class PropertyResult(ProofResult):
    """A yes/no property (convexity, monotonicity) with a witness when it fails: points whose
    exact values contradict it."""

    holds: bool = False
    witness: tuple | None = None
    property: str = ""

    __repr__ = ProofResult.__repr__


def load_certificate(path: str | os.PathLike) -> dict:
    """Read a certificate file (JSON only, size-capped); CertificateError if it is not one."""
    from ..io.limits import MAX_FILE_BYTES

    try:
        size = os.path.getsize(path)
    except OSError as exc:
        raise FileNotFoundError(f"cannot read the certificate {os.fspath(path)!r}: {exc.strerror}") from None
    if size > MAX_FILE_BYTES:
        raise checker.CertificateError(f"{os.fspath(path)}: {size} bytes, above the {MAX_FILE_BYTES}-byte limit")
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise checker.CertificateError(f"{os.fspath(path)} is not a JSON certificate ({exc})") from None


def check(path: str | os.PathLike | dict, net: Network | tuple) -> None:
    """Re-verify a saved certificate against a network (a pair for claims about two networks);
    raise CertificateError naming the field that fails."""
    cert = path if isinstance(path, dict) else load_certificate(path)
    checker.check_certificate(cert, net)


def certificate_text(nets: tuple, claim: dict, proofs: list, extra: dict | None = None) -> str:
    hashes = [checker.network_hash(n) for n in nets]
    cert = {"format": "exactmaso-certificate", "version": 1,
            "network": hashes[0] if len(hashes) == 1 else hashes, "claim": claim, "proofs": proofs}
    if extra:
        cert.update(extra)
    return json.dumps(cert, separators=(",", ":"))
