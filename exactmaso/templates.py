"""Templates, matched filters, and memorisation measures.

On the region of an input ``x`` the network is ``f(x) = A x + b`` exactly.  The rows of ``A``
are the signal-dependent *templates*; output ``c`` is the matched filter ``<A[c], x> + b[c]``:
the inner product of the input with its template, plus an offset.  For a classifier the
template of the predicted class says what the network "matches" at ``x``; how close ``x`` is
to it (a cosine), and how many training samples share its region, measure memorisation.

Everything here is exact (Fractions) except the cosine similarities, which are irrational in
general: they are floats computed from the exact squared cosine (one correctly rounded
division and one correctly rounded square root, so within an ulp or two of the true value).

A batch is computed one affine map per distinct code: the codes of all samples come from one
exact batched forward pass, and samples with equal codes share their map.
"""

from __future__ import annotations

import math
import operator
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Sequence

import numpy as np

from .errors import CertificateError, ShapeError
from .maso import Affine, Code, Network
from .numbers import lcm_of_denominators, to_fraction_array

__all__ = [
    "templates",
    "matched_filter",
    "class_templates",
    "ClassTemplates",
    "cosine_similarity",
    "memorisation",
    "Memorisation",
    "MemorisationSet",
]


# -- the maps of a batch, one per distinct code --------------------------------------------
def _code_groups(net: Network, X: np.ndarray) -> tuple[list[Code], dict[Code, list[int]]]:
    """Codes of the rows of ``X`` (exact) and, per distinct code, the rows that have it."""
    # in the input's own shape, a batch of one is never read as a single input
    codes = net.code(X.reshape(len(X), *net.input_shape)) if len(X) else []
    groups: dict[Code, list[int]] = {}
    for i, code in enumerate(codes):
        groups.setdefault(code, []).append(i)
    return codes, groups


def _maps(net: Network, groups: dict[Code, list[int]]) -> dict[Code, Affine]:
    return {code: net.affine_map(code=code) for code in groups}


def templates(net: Network, x: Any) -> np.ndarray:
    """The exact template matrix of ``net`` at ``x``: the rows of ``A`` in ``f = A x + b``.

    Parameters
    ----------
    net : Network
    x : array-like, shape (D,) or (N, D) (or ``net.input_shape`` / (N, *input_shape))

    Returns
    -------
    numpy object array of Fractions
        Shape (out, D) for one input; (N, out, D) for a batch, computed with one exact
        forward pass for the codes and one affine map per distinct code.

    Examples
    --------
    >>> import exactmaso as em
    >>> net = em.mlp([[[2, 0], [0, -1]], [[1, 1]]])
    >>> em.templates(net, [1, -1]).tolist()
    [[Fraction(2, 1), Fraction(-1, 1)]]
    >>> em.templates(net, [[1, -1], [1, 1]])[:, 0, :].tolist()
    [[Fraction(2, 1), Fraction(-1, 1)], [Fraction(2, 1), Fraction(0, 1)]]
    """
    X, single = net._batch(x)
    if single:
        return net.affine_map(X[0]).A
    _, groups = _code_groups(net, X)
    out = np.empty((len(X), net.output_dim, net.input_dim), dtype=object)
    for code, aff in _maps(net, groups).items():
        out[groups[code]] = aff.A
    return out


def matched_filter(net: Network, x: Any) -> tuple[np.ndarray, np.ndarray]:
    """Matched-filter scores at ``x``: ``(<A[c], x>, b[c])`` for each output ``c``, exact.

    Their sum equals ``net(x)`` exactly.  For one input both arrays have shape (out,); for a
    batch (N, D), shape (N, out).

    Examples
    --------
    >>> import exactmaso as em
    >>> net = em.mlp([[[2, 0], [0, -1]], [[1, 1]]], [[0, 0], [5]])
    >>> corr, offset = em.matched_filter(net, [1, -1])
    >>> (corr + offset).tolist() == net([1, -1]).tolist()
    True
    """
    X, single = net._batch(x)
    if single:
        aff = net.affine_map(X[0])
        return aff.A.dot(X[0]), aff.b.copy()
    _, groups = _code_groups(net, X)
    corr = np.empty((len(X), net.output_dim), dtype=object)
    offset = np.empty((len(X), net.output_dim), dtype=object)
    for code, aff in _maps(net, groups).items():
        idx = groups[code]
        corr[idx] = _Products(X[idx], aff.A).fractions()
        offset[idx] = aff.b
    return corr, offset


# -- exact products and cosines on integers ------------------------------------------------
class _Products:
    """``X @ A.T`` for rows ``X`` (n, D) and templates ``A`` (C, D), on Python integers.

    Each row of ``X`` is scaled to integers over its own denominator and ``A`` over one, so
    the inner products, the squared norms and the squared cosines come from integer
    arithmetic alone (a cosine does not change when either vector is scaled by a positive
    number).
    """

    def __init__(self, X: np.ndarray, A: np.ndarray) -> None:
        a_den = lcm_of_denominators(A.flat)
        a_rows = [[v.numerator * (a_den // v.denominator) for v in row] for row in A]
        x_rows, self.dens = [], []
        for row in X:
            den = lcm_of_denominators(row)
            x_rows.append([v.numerator * (den // v.denominator) for v in row])
            self.dens.append(den * a_den)
        self.dots = [[sum(map(operator.mul, a, x)) for a in a_rows] for x in x_rows]  # (n, C), times dens
        self.x_norms = [sum(map(operator.mul, x, x)) for x in x_rows]
        self.a_norms = [sum(map(operator.mul, a, a)) for a in a_rows]

    def fractions(self) -> np.ndarray:
        out = np.empty((len(self.dots), len(self.a_norms)), dtype=object)
        for i, (row, den) in enumerate(zip(self.dots, self.dens)):
            out[i, :] = [Fraction(v, den) for v in row]
        return out

    def cosine(self, i: int, c: int, sign: int = 1) -> float:
        """Cosine between row ``i`` of ``X`` and ``sign * A[c]``."""
        return _cosine_from_ints(sign * self.dots[i][c], self.x_norms[i], self.a_norms[c])


def _cosine_from_ints(dot: int, norm_u: int, norm_v: int) -> float:
    """``dot / sqrt(norm_u * norm_v)`` for integer ``dot`` and squared norms; NaN for a zero vector.

    The squared cosine ``dot**2 / (norm_u * norm_v)`` is exact; dividing the two integers is
    correctly rounded in Python, and so is ``math.sqrt``.
    """
    if norm_u == 0 or norm_v == 0:
        return math.nan
    return math.copysign(math.sqrt(dot * dot / (norm_u * norm_v)), dot)


def _integers(v: np.ndarray) -> list[int]:
    den = lcm_of_denominators(v)
    return [t.numerator * (den // t.denominator) for t in v]


def cosine_similarity(u: Any, v: Any) -> float:
    """``<u, v> / (||u|| ||v||)`` of two exact vectors, as a float (NaN if either is zero).

    A float, because a cosine is irrational in general; it is computed from the exact squared
    cosine with one correctly rounded division and one correctly rounded square root.

    Examples
    --------
    >>> cosine_similarity([3, 4], [4, 3])
    0.96
    """
    U = to_fraction_array(u, name="u", ndim=1)
    V = to_fraction_array(v, name="v", shape=U.shape)
    iu, iv = _integers(U), _integers(V)
    return _cosine_from_ints(sum(a * b for a, b in zip(iu, iv)), sum(a * a for a in iu), sum(b * b for b in iv))


# -- class templates -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True, eq=False)
class ClassTemplates:
    """Templates, matched filters and predictions of a classifier at a batch of inputs.

    Attributes
    ----------
    net : Network
    inputs : (N, D) exact inputs
    codes : the code of each input (its region)
    templates : (N, C, D) exact: ``templates[i, c]`` is the template of class ``c`` at input ``i``
    correlations : (N, C) exact ``<templates[i, c], inputs[i]>``
    offsets : (N, C) exact ``b[c]`` of the region of input ``i``
    predicted : (N,) ints: the arg-max of the exact outputs (ties: lowest class).  A
        one-output network is read as a binary classifier on the sign of its logit: class 1
        when ``f(x) > 0`` (template ``A[0]``), else class 0 (template ``-A[0]``).
    similarity : (N,) floats: the cosine between each input and the template of its predicted
        class, computed from exact values (a float: a cosine is irrational in general); NaN
        when the input or the template is zero.

    ``correlations + offsets`` is the matched-filter decomposition of the outputs, exactly:
    :attr:`outputs` equals ``net(inputs)``.  :meth:`verify` re-derives every field.
    """

    net: Network = field(repr=False)
    inputs: np.ndarray = field(repr=False)
    codes: tuple[Code, ...] = field(repr=False)
    templates: np.ndarray = field(repr=False)
    correlations: np.ndarray = field(repr=False)
    offsets: np.ndarray = field(repr=False)
    predicted: np.ndarray = field(repr=False)
    similarity: np.ndarray = field(repr=False)

    @property
    def num_samples(self) -> int:
        return int(self.inputs.shape[0])

    @property
    def num_classes(self) -> int:
        """The number of classes: the outputs, or 2 for a one-output (logit) network."""
        C = self.net.output_dim
        return 2 if C == 1 else C

    @property
    def outputs(self) -> np.ndarray:
        """(N, C) exact outputs: ``correlations + offsets`` (equal to ``net(inputs)``)."""
        return self.correlations + self.offsets

    @property
    def predicted_templates(self) -> np.ndarray:
        """(N, D) exact: the template of each input's predicted class."""
        if self.net.output_dim == 1:
            signs = np.where(self.predicted == 1, 1, -1)
            return self.templates[:, 0, :] * signs[:, None]
        return self.templates[np.arange(self.num_samples), self.predicted]

    def __repr__(self) -> str:
        return f"ClassTemplates({self.num_samples} inputs, {len(set(self.codes))} regions, {self.num_classes} classes)"

    def verify(self) -> None:
        """Re-derive every field in plain Fractions from the network's pieces; CertificateError
        if one differs.  Costs one forward pass per input and one product of the selected
        pieces (output side first) per distinct code."""
        _check_class_templates(self)


def class_templates(net: Network, x: Any) -> ClassTemplates:
    """Class templates, predicted class, cosine similarity and matched filters at ``x``.

    Parameters
    ----------
    net : Network
        A classifier: its outputs are class scores (a one-output network is a logit).
    x : array-like, shape (N, D), or one input (D,) (then N = 1)

    Returns
    -------
    ClassTemplates
        Exact templates, correlations, offsets and predictions; the cosine similarity is a
        float computed from exact values.

    Examples
    --------
    >>> import exactmaso as em
    >>> net = em.mlp([[[1, 0], [0, 1]], [[1, 0], [0, 1]]])      # (relu(x0), relu(x1))
    >>> ct = class_templates(net, [[2, 3], [3, -1]])
    >>> ct.predicted.tolist(), ct.predicted_templates.tolist()
    ([1, 0], [[Fraction(0, 1), Fraction(1, 1)], [Fraction(1, 1), Fraction(0, 1)]])
    >>> ct.similarity.round(4).tolist()                        # 3 / sqrt(13), 3 / sqrt(10)
    [0.8321, 0.9487]
    """
    X, _ = net._batch(x)
    N, C, D = len(X), net.output_dim, net.input_dim
    codes, groups = _code_groups(net, X)
    T = np.empty((N, C, D), dtype=object)
    corr = np.empty((N, C), dtype=object)
    offsets = np.empty((N, C), dtype=object)
    predicted = np.zeros(N, dtype=np.intp)
    similarity = np.full(N, math.nan)
    for code, aff in _maps(net, groups).items():
        idx = groups[code]
        products = _Products(X[idx], aff.A)
        T[idx] = aff.A
        corr[idx] = products.fractions()
        offsets[idx] = aff.b
        for j, i in enumerate(idx):
            y = corr[i] + aff.b
            if C == 1:
                predicted[i] = 1 if y[0] > 0 else 0
                similarity[i] = products.cosine(j, 0, 1 if predicted[i] else -1)
            else:
                predicted[i] = max(range(C), key=y.__getitem__)  # the first maximum
                similarity[i] = products.cosine(j, int(predicted[i]))
    return ClassTemplates(net, X, tuple(codes), T, corr, offsets, predicted, similarity)


# -- memorisation --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, eq=False)
class MemorisationSet:
    """Memorisation measures of one set of samples (training or held-out).

    Attributes
    ----------
    name : "train" or "test"
    samples : ClassTemplates of the set (templates, predictions, similarities)
    shared : (N,) ints: how many samples *of this set* lie in each sample's region (exact code
        equality), the sample itself included
    train_shared : (N,) ints: how many *training* samples lie in each sample's region (for the
        training set, equal to ``shared``; for a held-out sample 0 means a region no training
        sample reached)
    labels : (N,) ints, or None
    """

    name: str
    samples: ClassTemplates = field(repr=False)
    shared: np.ndarray = field(repr=False)
    train_shared: np.ndarray = field(repr=False)
    labels: np.ndarray | None = field(repr=False)

    @property
    def num_samples(self) -> int:
        return self.samples.num_samples

    @property
    def num_regions(self) -> int:
        """Occupied regions: distinct codes among the samples."""
        return len(set(self.samples.codes))

    @property
    def num_singletons(self) -> int:
        """Occupied regions holding exactly one sample of the set."""
        return int(np.count_nonzero(self.shared == 1))

    @property
    def singleton_fraction(self) -> Fraction:
        """Exact fraction of the occupied regions that hold exactly one sample."""
        return Fraction(self.num_singletons, self.num_regions)

    @property
    def similarity(self) -> np.ndarray:
        """(N,) floats: cosine between each sample and its predicted class's template."""
        return self.samples.similarity

    @property
    def predicted(self) -> np.ndarray:
        return self.samples.predicted

    @property
    def correct(self) -> np.ndarray | None:
        """(N,) bools: prediction equals label (None without labels)."""
        return None if self.labels is None else self.samples.predicted == self.labels

    @property
    def accuracy(self) -> Fraction | None:
        """Exact fraction of correct predictions (None without labels)."""
        ok = self.correct
        return None if ok is None else Fraction(int(np.count_nonzero(ok)), self.num_samples)

    @property
    def in_training_region(self) -> Fraction:
        """Exact fraction of the samples whose region holds at least one training sample."""
        return Fraction(int(np.count_nonzero(self.train_shared > 0)), self.num_samples)

    def __repr__(self) -> str:
        return (f"MemorisationSet({self.name!r}: {self.num_samples} samples in {self.num_regions} regions, "
                f"{self.num_singletons} singletons)")


@dataclass(frozen=True, slots=True, eq=False)
class Memorisation:
    """Memorisation measures of a classifier on training data, and on held-out data beside it.

    Attributes
    ----------
    train : MemorisationSet
    test : MemorisationSet or None

    ``str(result)`` is a table with one column per set; :meth:`verify` re-derives every
    number in plain Fractions.
    """

    train: MemorisationSet
    test: MemorisationSet | None = None

    @property
    def sets(self) -> tuple[MemorisationSet, ...]:
        return (self.train,) if self.test is None else (self.train, self.test)

    def table(self) -> str:
        """The measures as a printable table (one column per set)."""
        rows: list[tuple[str, list[str]]] = [
            ("samples", [f"{s.num_samples}" for s in self.sets]),
            ("occupied regions", [f"{s.num_regions}" for s in self.sets]),
            ("regions with one sample", [f"{s.num_singletons}" for s in self.sets]),
            ("  fraction of occupied regions", [f"{float(s.singleton_fraction):.3f}" for s in self.sets]),
            ("mean samples per occupied region", [f"{s.num_samples / s.num_regions:.3f}" for s in self.sets]),
            ("largest region (samples)", [f"{int(s.shared.max())}" for s in self.sets]),
            ("mean template similarity (float)", [_mean(s.similarity) for s in self.sets]),
            ("median template similarity (float)", [_median(s.similarity) for s in self.sets]),
        ]
        if self.test is not None:
            rows.append(("samples in a region with training data",
                         [f"{float(s.in_training_region):.3f}" for s in self.sets]))
        if any(s.labels is not None for s in self.sets):
            rows.append(("accuracy", ["-" if s.accuracy is None else f"{float(s.accuracy):.3f}" for s in self.sets]))
        width = max(len(name) for name, _ in rows)
        lines = [f"{'':<{width}}" + "".join(f"{s.name:>12}" for s in self.sets)]
        lines += [f"{name:<{width}}" + "".join(f"{v:>12}" for v in values) for name, values in rows]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        return f"Memorisation({', '.join(repr(s) for s in self.sets)})"

    def verify(self) -> None:
        """Re-derive templates, predictions, similarities, codes and every count in plain
        Fractions; CertificateError if anything differs."""
        train_codes = _check_class_templates(self.train.samples)
        train_count = Counter(train_codes)
        for s in self.sets:
            codes = train_codes if s is self.train else _check_class_templates(s.samples)
            count = Counter(codes)
            want = [count[c] for c in codes]
            if s.shared.tolist() != want:
                raise CertificateError(f"{s.name}: region-sharing counts differ from the recomputed ones")
            if s.train_shared.tolist() != [train_count[c] for c in codes]:
                raise CertificateError(f"{s.name}: training samples per region differ from the recomputed ones")
            if s.num_regions != len(count) or s.num_singletons != sum(1 for n in count.values() if n == 1):
                raise CertificateError(f"{s.name}: occupied or singleton regions differ from the recomputed ones")


def _mean(values: np.ndarray) -> str:
    finite = values[~np.isnan(values)]
    return f"{float(np.mean(finite)):.3f}" if len(finite) else "-"


def _median(values: np.ndarray) -> str:
    finite = values[~np.isnan(values)]
    return f"{float(np.median(finite)):.3f}" if len(finite) else "-"


def _as_samples(net: Network, X: Any, name: str) -> np.ndarray:
    A, single = net._batch(X)
    if single:
        raise ShapeError(f"{name} is one input; expected a batch (N, {net.input_dim}) of samples")
    if len(A) == 0:
        raise ShapeError(f"{name} holds no samples; expected at least one")
    return A


def _as_labels(labels: Any, n: int, name: str) -> np.ndarray | None:
    if labels is None:
        return None
    arr = np.asarray(labels)
    if arr.shape != (n,) or not np.issubdtype(arr.dtype, np.integer):
        raise ShapeError(f"{name} has shape {arr.shape} and dtype {arr.dtype}; expected {n} integer labels")
    return arr.astype(np.intp)


def memorisation(
    net: Network,
    X_train: Any,
    X_test: Any = None,
    labels_train: Any = None,
    labels_test: Any = None,
) -> Memorisation:
    """Memorisation measures of a classifier: template similarity and region sharing.

    For each sample: the cosine similarity between the sample and the template of its
    predicted class (a float computed from exact values: close to 1 when the network's
    matched filter at ``x`` is ``x`` itself, a sign of memorising it) and the number of
    samples sharing its linear region (exact code equality: same arg-max piece at every
    unit, ties going to the lowest piece).  Per set: the fraction of occupied regions that
    hold exactly one sample (exact).  A held-out set is measured the same way, side by side,
    and also counts the training samples in each of its regions.

    Parameters
    ----------
    net : Network
    X_train : array-like (N, D)
    X_test : array-like (M, D), optional
    labels_train, labels_test : integer arrays (N,) and (M,), optional (give accuracies)

    Returns
    -------
    Memorisation
        ``.train`` and ``.test`` (:class:`MemorisationSet`); ``str()`` prints a table.

    Examples
    --------
    >>> import exactmaso as em
    >>> net = em.mlp([[[1, 0], [0, 1]], [[1, 0], [0, 1]]])      # regions: the four quadrants
    >>> m = memorisation(net, [[1, 1], [2, 3], [-1, 2], [3, -1]], X_test=[[5, 5], [-1, -1]])
    >>> m.train.shared.tolist(), m.train.singleton_fraction, m.test.train_shared.tolist()
    ([2, 2, 1, 1], Fraction(2, 3), [2, 0])
    """
    if X_test is None and labels_test is not None:
        raise ShapeError("labels_test was given without X_test")
    X = _as_samples(net, X_train, "X_train")
    train_samples = class_templates(net, X)
    count = Counter(train_samples.codes)
    shared = np.array([count[c] for c in train_samples.codes], dtype=np.intp)
    train = MemorisationSet("train", train_samples, shared, shared.copy(), _as_labels(labels_train, len(X), "labels_train"))
    if X_test is None:
        return Memorisation(train)
    Y = _as_samples(net, X_test, "X_test")
    test_samples = class_templates(net, Y)
    test_count = Counter(test_samples.codes)
    test = MemorisationSet(
        "test",
        test_samples,
        np.array([test_count[c] for c in test_samples.codes], dtype=np.intp),
        np.array([count.get(c, 0) for c in test_samples.codes], dtype=np.intp),
        _as_labels(labels_test, len(Y), "labels_test"),
    )
    return Memorisation(train, test)


# -- the independent re-check (plain Fractions; nothing above is trusted) ------------------
def _plain_layers(net: Network) -> list[tuple[list, list]]:
    return [(m.A.tolist(), m.B.tolist()) for m in net.masos]


def _plain_forward(layers: Sequence[tuple[list, list]], x: Sequence[Fraction]) -> tuple[Code, list[Fraction]]:
    """Code and output at ``x``: every piece evaluated, the first maximum taken."""
    z = list(x)
    code = []
    for A, B in layers:
        chosen, values = [], []
        for pieces, offsets in zip(A, B):
            best, arg = None, 0
            for r, (a, c) in enumerate(zip(pieces, offsets)):
                v = c + sum((ai * zi for ai, zi in zip(a, z) if ai), Fraction(0))
                if best is None or v > best:
                    best, arg = v, r
            chosen.append(arg)
            values.append(best)
        code.append(tuple(chosen))
        z = values
    return tuple(code), z


def _plain_jacobian(layers: Sequence[tuple[list, list]], code: Code) -> list[list[Fraction]]:
    """The product of the selected slopes, from the output layer back to the input."""
    A_last, _ = layers[-1]
    J = [list(A_last[k][r]) for k, r in enumerate(code[-1])]
    for l in range(len(layers) - 2, -1, -1):
        A, _ = layers[l]
        rows = [A[k][r] for k, r in enumerate(code[l])]
        width = len(rows[0])
        new = []
        for coefs in J:
            acc = [Fraction(0)] * width
            for coef, row in zip(coefs, rows):
                if coef:
                    acc = [s + coef * v for s, v in zip(acc, row)]
            new.append(acc)
        J = new
    return J


def _plain_cosine(u: Sequence[Fraction], v: Sequence[Fraction]) -> float:
    dot = sum((a * b for a, b in zip(u, v)), Fraction(0))
    nu = sum((a * a for a in u), Fraction(0))
    nv = sum((b * b for b in v), Fraction(0))
    if nu == 0 or nv == 0:
        return math.nan
    sq = dot * dot / (nu * nv)
    return math.copysign(math.sqrt(sq.numerator / sq.denominator), dot)


def _same_float(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def _check_class_templates(ct: ClassTemplates) -> list[Code]:
    """Re-derive every field of ``ct`` from ``ct.net``'s pieces and ``ct.inputs``; return the codes."""
    layers = _plain_layers(ct.net)
    C = ct.net.output_dim
    jacobians: dict[Code, list[list[Fraction]]] = {}
    codes = []
    if len(ct.codes) != len(ct.inputs):
        raise CertificateError(f"{len(ct.codes)} codes for {len(ct.inputs)} inputs")
    for i, x in enumerate(ct.inputs.tolist()):
        code, y = _plain_forward(layers, x)
        codes.append(code)
        if ct.codes[i] != code:
            raise CertificateError(f"input {i}: code {ct.codes[i]} differs from the forward pass's {code}")
        J = jacobians.get(code)
        if J is None:
            J = jacobians[code] = _plain_jacobian(layers, code)
        if ct.templates[i].tolist() != J:
            raise CertificateError(f"input {i}: the templates differ from the product of the selected pieces")
        corr = [sum((a * v for a, v in zip(row, x)), Fraction(0)) for row in J]
        if ct.correlations[i].tolist() != corr:
            raise CertificateError(f"input {i}: the correlations differ from <templates, x>")
        if ct.offsets[i].tolist() != [yc - cc for yc, cc in zip(y, corr)]:
            raise CertificateError(f"input {i}: the offsets differ from f(x) - <templates, x>")
        if C == 1:
            label, template = (1, J[0]) if y[0] > 0 else (0, [-v for v in J[0]])
        else:
            top = max(y)
            label = next(c for c in range(C) if y[c] == top)
            template = J[label]
        if int(ct.predicted[i]) != label:
            raise CertificateError(f"input {i}: predicted class {ct.predicted[i]}; the outputs give {label}")
        if not _same_float(float(ct.similarity[i]), _plain_cosine(template, x)):
            raise CertificateError(f"input {i}: similarity {ct.similarity[i]} differs from the recomputed cosine")
    return codes
