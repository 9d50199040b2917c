"""Proofs about networks, exact, each with a certificate that a separate checker re-verifies.

- :func:`output_bounds` -- the exact min and max of an output (or a linear functional) over a
  domain, by branch and bound;
- :func:`lipschitz` -- the exact Lipschitz constant (norms 1, 2, inf) over a domain;
- :func:`robust`, :func:`min_adversarial` -- robustness of the arg-max class on a ball, and the
  exact distance to the nearest point where it changes;
- :func:`equivalent` -- equality of two networks on a domain (values within eps, or arg-max);
- :func:`is_convex`, :func:`is_monotone` -- with a witness when false;
- :func:`check` -- re-verify a saved certificate; :mod:`exactmaso.prove.checker` imports
  nothing from the provers;
- :mod:`exactmaso.prove.spec`, :func:`load_vnnlib` -- exact specifications and VNN-LIB files;
  :func:`check_spec` -- decide a spec: holds (certificate) or violated (exact counterexample).

Every result is frozen and has ``.verify()`` (exact re-check of its certificate) and
``.save(path)`` (the certificate as JSON, see docs/proofs.md, "The certificate file").
"""

from .api import equivalent, output_bounds, robust
from .partition import is_convex, is_monotone, lipschitz, min_adversarial
from .results import (Equivalence, Lipschitz, MinAdversarial, OutputBounds, PropertyResult, Robustness, check,
                      load_certificate)
from .spec import Case, InputSet, Linear, Spec
from .vnn import SpecResult, check_spec, counterexample_text
from .vnnlib import load_vnnlib, parse_vnnlib

__all__ = ["output_bounds", "lipschitz", "robust", "min_adversarial", "equivalent", "is_convex", "is_monotone",
           "check", "load_certificate", "load_vnnlib", "check_spec", "SpecResult", "counterexample_text", "parse_vnnlib", "Spec", "Case", "InputSet", "Linear",
           "OutputBounds", "Lipschitz", "Robustness", "MinAdversarial", "Equivalence", "PropertyResult"]
