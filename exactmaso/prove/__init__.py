"""Property proofs with exact certificates: specifications, VNN-LIB, provers and a checker.

- :mod:`exactmaso.prove.spec` -- exact specifications: :class:`~exactmaso.prove.spec.Linear`,
  :class:`~exactmaso.prove.spec.InputSet`, :class:`~exactmaso.prove.spec.Case`,
  :class:`~exactmaso.prove.spec.Spec` (a property in disjunctive normal form);
- :mod:`exactmaso.prove.vnnlib` -- reading VNN-LIB property files into a ``Spec``.
"""
