"""Structured (sparse) networks: SparseIntMatrix, sparse MASOs, and CNNs converted sparse.

Oracles are independent of the code under test: plain Fraction matrix products, an exact
forward pass of the torch module written here in Fractions (convolution and pooling by the
direct loops of tests/test_layers.py), torch's own float64 forward pass and Jacobian, exact
finite differences inside a region, and the dense storage of the same layers.
"""

from __future__ import annotations

import copy
import math
import copy
import time
from fractions import Fraction

import numpy as np
import pytest

import exactmaso as em
import exactmaso.numbers as numbers
from exactmaso.maso import MASO, Network
from exactmaso.errors import DenseLimitError
from exactmaso.numbers import IntMatrix, SparseIntMatrix

from test_layers import conv_direct, pool_direct

F = Fraction


# ---------------------------------------------------------------------------------------
# plain Fraction oracles
# ---------------------------------------------------------------------------------------


def frac_matmul(a, b):
    """Product of two nested lists of Fractions/ints by the definition."""
    return [[sum((F(a[i][k]) * F(b[k][j]) for k in range(len(b))), F(0)) for j in range(len(b[0]))] for i in range(len(a))]


def random_int(rng, bits):
    v = int(rng.integers(-(1 << min(bits, 60)), 1 << min(bits, 60)))
    return v << (bits - 60) | int(rng.integers(0, 1 << (bits - 60))) if bits > 60 else v


def random_int_rows(rng, r, c, density, bits=8):
    return [[random_int(rng, bits) if rng.random() < density else 0 for _ in range(c)] for _ in range(r)]


def as_fractions(rows, den):
    return [[F(v, den) for v in row] for row in rows]


def dense_of(m: SparseIntMatrix):
    return m.to_fractions().tolist()


# ---------------------------------------------------------------------------------------
# SparseIntMatrix against Fractions
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("paths", ["default", "chunked", "sorted", "flint"])
@pytest.mark.parametrize("seed", range(6))
def test_sparse_products_equal_fraction_products(seed, paths, monkeypatch):
    if paths == "chunked":  # tiny blocks of terms and of rows
        monkeypatch.setattr(numbers, "_CHUNK", 3)
    elif paths == "sorted":  # never a dense accumulator
        monkeypatch.setattr(numbers, "_DENSE_ACCUMULATE", 0)
    elif paths == "flint":  # dense enough for one FLINT product: no terms are formed
        monkeypatch.setattr(numbers, "_sum_terms", None)
    rng = np.random.default_rng(seed)
    if paths == "flint":
        r, m, n, da, db = 60, 60, 60, 1.0, 1.0
    else:
        r, m, n = (int(v) for v in rng.integers(1, 12, 3))
        da, db = rng.random(), rng.random()
    bits = 90 if seed % 2 else 8
    a, b = random_int_rows(rng, r, m, da, bits), random_int_rows(rng, m, n, db)
    A, B = SparseIntMatrix.from_ints(a, 3 + seed), SparseIntMatrix.from_ints(b, 7)
    ints = [[sum(a[i][k] * b[k][j] for k in range(m)) for j in range(n)] for i in range(r)]  # by the definition
    want = as_fractions(ints, (3 + seed) * 7)
    assert dense_of(A @ B) == want
    if paths != "flint":
        assert (A @ IntMatrix.from_ints(b, 7)).to_fractions().tolist() == want
        assert A.dot_ints(np.array(b, dtype=object)).tolist() == ints


@pytest.mark.parametrize("seed", range(8))
def test_sparse_row_and_column_operations(seed):
    rng = np.random.default_rng(seed)
    r, c = (int(v) for v in rng.integers(1, 9, 2))
    a = random_int_rows(rng, r, c, rng.random(), 70)
    b = random_int_rows(rng, r, c, rng.random())
    A, B = SparseIntMatrix.from_ints(a, 6), SparseIntMatrix.from_ints(b, 4)
    fa, fb = as_fractions(a, 6), as_fractions(b, 4)
    assert dense_of(A + B) == [[x + y for x, y in zip(p, q)] for p, q in zip(fa, fb)]
    assert dense_of(A - B) == [[x - y for x, y in zip(p, q)] for p, q in zip(fa, fb)]
    assert dense_of(-A) == [[-x for x in p] for p in fa]
    assert dense_of(A - A) == [[F(0)] * c for _ in range(r)] and (A - A).nnz == 0
    idx = [int(i) for i in rng.integers(0, r, 6)]
    assert dense_of(A.rows(idx)) == [fa[i] for i in idx]
    f = [int(v) for v in rng.integers(-3, 4, r)]
    assert dense_of(A.scale_rows(f, 5)) == [[x * s / 5 for x in p] for p, s in zip(fa, f)]
    assert dense_of(A.transpose()) == [list(col) for col in zip(*fa)]
    assert dense_of(SparseIntMatrix.vstack([A, B])) == fa + fb
    assert dense_of(A.augmented()) == fa + [[F(0)] * (c - 1) + [F(1)]]
    spread = [[F(0)] * (2 * c + 1) for _ in range(r)]
    for i in range(r):
        for j in range(c):
            spread[i][2 * j + 1] = fa[i][j]
    assert dense_of(A.remap_columns(np.arange(c) * 2 + 1, 2 * c + 1)) == spread
    # equality is of values; reduced() removes common factors of den and data
    doubled = SparseIntMatrix.from_ints([[2 * v for v in row] for row in a], 12)
    assert doubled == A and hash(doubled) == hash(A) and doubled.reduced().den == A.reduced().den
    assert SparseIntMatrix.from_int_matrix(IntMatrix.from_ints(a, 6)) == A
    assert SparseIntMatrix.from_fractions(np.array(fa, dtype=object)) == A
    assert A.to_int_matrix().to_fractions().tolist() == fa
    coo = SparseIntMatrix.from_coo([0, 0, r - 1], [0, 0, c - 1], [2, 3, 4], (r, c), 2)  # repeats add up
    assert coo.to_fractions()[0, 0] == F(5, 2) and coo.to_fractions()[r - 1, c - 1] == (F(2) if (r, c) != (1, 1) else F(9, 2))


def test_sparse_floats_are_nearest_floats():
    tiny, huge = 5, 1 << 2200
    m = SparseIntMatrix.from_ints([[1, -1, tiny], [huge, 7, 0]], 3 << 1070)
    want = [float(F(1, 3 << 1070)), float(F(-1, 3 << 1070)), float(F(tiny, 3 << 1070)), math.inf, float(F(7, 3 << 1070))]
    assert m.float_values().tolist() == want  # subnormal and beyond-range entries included
    assert m.to_scipy().toarray().tolist() == [[want[0], want[1], want[2]], [want[3], want[4], 0.0]]


def test_sparse_validation():
    with pytest.raises(em.ShapeError, match="increase strictly"):
        SparseIntMatrix([0, 2], [1, 0], [1, 1], 1, (1, 2))
    with pytest.raises(ValueError, match="stores a zero"):
        SparseIntMatrix([0, 1], [0], [0], 1, (1, 2))
    with pytest.raises(em.ShapeError, match="indptr of length 2"):
        SparseIntMatrix([0, 1, 1], [0], [1], 1, (1, 2))
    with pytest.raises(ValueError, match="positive integer"):
        SparseIntMatrix([0, 1], [0], [1], 0, (1, 2))
    with pytest.raises(em.ShapeError, match="cannot multiply"):
        SparseIntMatrix.eye(2) @ SparseIntMatrix.eye(3)


# ---------------------------------------------------------------------------------------
# sparse MASOs: the same function and forms as dense ones
# ---------------------------------------------------------------------------------------


def random_maso(rng, K, R, D, density=0.5):
    A = np.empty((K, R, D), dtype=object)
    B = np.empty((K, R), dtype=object)
    for idx in np.ndindex(A.shape):
        A[idx] = F(int(rng.integers(-9, 10)), int(rng.integers(1, 7))) if rng.random() < density else F(0)
    for idx in np.ndindex(B.shape):
        B[idx] = F(int(rng.integers(-9, 10)), int(rng.integers(1, 7))) if rng.random() < density else F(0)
    return MASO(A, B)


@pytest.mark.parametrize("seed", range(6))
def test_sparse_maso_has_the_forms_of_the_dense_one(seed):
    rng = np.random.default_rng(seed)
    K, R, D = (int(v) for v in rng.integers(1, 6, 3))
    dense = random_maso(rng, K, R, D)
    sparse = dense.to_sparse()
    assert sparse.is_sparse and not dense.is_sparse
    assert sparse == dense and dense == sparse and hash(sparse) == hash(dense)
    assert sparse.to_dense() == dense and not sparse.to_dense().is_sparse
    assert sparse.with_storage("sparse") is sparse and dense.with_storage("dense") is dense
    assert (sparse.A == dense.A).all() and (sparse.B == dense.B).all()
    assert np.array_equal(sparse.pieces_float(), dense.pieces_float())
    for m in (dense, sparse):
        assert np.array_equal(m.pieces_sparse_float().toarray(), dense.pieces_float().reshape(K * R, D + 1))
        aug = np.concatenate([dense.A.reshape(K * R, D), dense.B.reshape(K * R, 1)], axis=1).tolist()
        assert dense_of(m.pieces_sparse_int()) == aug
        Z = [[F(int(v), 3) for v in rng.integers(-5, 6, 3)] for _ in range(D + 1)]
        assert m.pieces_matmul(IntMatrix.from_fractions(np.array(Z, dtype=object))).to_fractions().tolist() == \
            frac_matmul(aug, Z)
        code = [int(v) for v in rng.integers(0, R, K)]
        sel = [aug[k * R + c] for k, c in enumerate(code)]
        assert dense_of(m.selected_sparse(code)) == sel
        assert m.selected_pieces(code).to_fractions().tolist() == sel
        Zi = IntMatrix.from_fractions(np.array(Z, dtype=object))
        assert m.selected_matmul(code, Zi).to_fractions().tolist() == frac_matmul(sel, Z)
        total = [[F(int(v), 5) for v in rng.integers(-4, 5, K + 1)] for _ in range(3)]
        want = frac_matmul(total, sel + [[F(0)] * D + [F(1)]])
        T = np.array(total, dtype=object)
        assert m.compose_selected(IntMatrix.from_fractions(T), code).to_fractions().tolist() == want
        assert dense_of(m.compose_selected(SparseIntMatrix.from_fractions(T), code)) == want
    z = [F(int(v), 2) for v in rng.integers(-6, 7, D)]
    assert sparse(z).tolist() == dense(z).tolist() and sparse.code(z) == dense.code(z)
    # worker processes receive networks by the reduce protocol; deepcopy runs the same protocol
    # (the project never unpickles)
    assert copy.deepcopy(sparse) == sparse and copy.deepcopy(sparse).is_sparse
    assert "sparse" in repr(sparse) and "sparse" not in repr(dense)


def test_sparse_maso_is_immutable_and_checked():
    m = MASO([[[0], [1]]], [[0, 0]]).to_sparse()
    with pytest.raises(AttributeError, match="immutable"):
        m.A = None
    with pytest.raises(em.ShapeError, match=r"sparse MASO pieces have shape \(3, 2\); 1 units of 2 pieces"):
        MASO.from_sparse(SparseIntMatrix.eye(3, 2), 1, 2)
    with pytest.raises(TypeError, match="SparseIntMatrix"):
        MASO.from_sparse(np.eye(2), 1, 2)
    with pytest.raises(ValueError, match="storage is 'compact'"):
        m.with_storage("compact")
    with pytest.raises(ValueError, match="storage is 'compact'"):
        em.Network([em.Dense([[1]]), em.ReLU()], storage="compact")
    with pytest.raises(em.ShapeError, match="a code of this layer has 1 entries from 0 to 1"):
        m.selected_sparse([2])


def huge_sparse_maso(K=5000, R=2, D=2000) -> MASO:
    """K units of relu(z_(k % D) + 1): K * R * (D + 1) = 20 million dense numbers, 2 K non-zeros."""
    rows = np.repeat(np.arange(K) * R + 1, 2)
    cols = np.stack([np.arange(K) % D, np.full(K, D)], axis=1).reshape(-1)
    return MASO.from_sparse(SparseIntMatrix.from_coo(rows, cols, np.ones(2 * K, dtype=np.int64), (K * R, D + 1)), K, R)


def test_huge_dense_materialisation_raises_the_typed_error():
    m = huge_sparse_maso()
    for make in (lambda: m.A, lambda: m.B, m.pieces_float, m._int_pieces, m.pieces_fmpz, m.to_dense,
                 lambda: m.with_storage("dense")):
        with pytest.raises(DenseLimitError, match=r"5,000 units x 2 pieces x 2,000 inputs\) would be a dense array of "
                                                  r"20,010,000 numbers; the limit is 8,388,608") as info:
            make()
        assert isinstance(info.value, MemoryError) and isinstance(info.value, em.LimitError)
        assert info.value.entries == 20_010_000 and info.value.limit == numbers.MAX_DENSE_ENTRIES
    with pytest.raises(DenseLimitError, match="non-zero integer pieces .* 10,005,000 numbers"):
        m.pieces_int()
    with pytest.raises(DenseLimitError, match="selected pieces .* 10,005,000 numbers"):
        m.selected_pieces([1] * 5000)
    # the sparse forms, the forward pass and the affine maps need nothing dense
    assert m.pieces_sparse_float().nnz == 10000 and m.with_storage("auto").is_sparse
    x = np.arange(2000) - 500
    hidden, code = Network.from_masos([m]).forward_with_codes(x)
    assert hidden.tolist() == [F(max(0, int(x[k % 2000]) + 1)) for k in range(5000)]
    readout = MASO.from_sparse(SparseIntMatrix.from_coo([0, 1, 2], [0, 1, 4999], [1, 1, 1], (3, 5001)), 3, 1)
    net = Network.from_masos([m, readout])  # units 0, 1 and 4999 of the huge layer
    y = net(x)
    assert y.tolist() == [F(0), F(0), F(500)]
    aff = net.affine_map(x)
    assert list(aff(x)) == list(y) and aff.A.shape == (3, 2000)
    assert [[j for j, v in enumerate(row) if v] for row in aff.A] == [[], [], [999]]
    with pytest.raises(DenseLimitError):
        net.float_pieces()


def test_the_limit_can_be_set(monkeypatch):
    m = MASO([[[0, 0], [1, 2]], [[0, 0], [3, 0]]], [[0, 0], [0, 1]]).to_sparse()  # 12 numbers
    monkeypatch.setattr(numbers, "MAX_DENSE_ENTRIES", 11)
    with pytest.raises(DenseLimitError, match="12 numbers; the limit is 11"):
        m.A
    assert m.to_dense(max_entries=12) == m
    with pytest.raises(DenseLimitError):
        em.Network([em.Dense([[1, 2], [3, 0]], [0, 1]), em.ReLU()], storage="dense")
    assert em.Network([em.Dense([[1, 2], [3, 0]], [0, 1]), em.ReLU()]).masos[0].is_sparse  # "auto" goes sparse


# ---------------------------------------------------------------------------------------
# CNNs from torch: sparse storage == dense storage == exact oracle ~ torch float64
# ---------------------------------------------------------------------------------------

torch = pytest.importorskip("torch")
nn = torch.nn

from exactmaso.io.torch_io import ResidualBlock, from_torch  # noqa: E402


def _tuple(v, n):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


def _bn_scale_shift(m):
    """BatchNorm's documented exact fold: scale = w / sqrt(var + eps) when that root is rational,
    else the float64 number float(w) / sqrt(float(var + eps)); shift = b - scale * mean exactly."""
    out = []
    for c in range(m.num_features):
        w = F(float(m.weight[c].detach())) if m.weight is not None else F(1)
        b = F(float(m.bias[c].detach())) if m.bias is not None else F(0)
        v = F(float(m.running_var[c])) + F(float(m.eps))
        p, q = math.isqrt(v.numerator), math.isqrt(v.denominator)
        scale = w / F(p, q) if (p * p, q * q) == (v.numerator, v.denominator) else F(float(w) / math.sqrt(float(v)))
        out.append((scale, b - scale * F(float(m.running_mean[c]))))
    return out


def exact_forward(module, x):
    """The torch module evaluated in exact Fractions on one input x (channels first)."""
    if isinstance(module, nn.Sequential):
        for child in module:
            x = exact_forward(child, x)
        return x
    if isinstance(module, ResidualBlock):
        return x + exact_forward(module.body, x)
    if isinstance(module, (nn.Identity, nn.Dropout)):
        return x
    if isinstance(module, nn.Flatten):
        return x.reshape(-1)
    if isinstance(module, nn.ReLU):
        return np.array([max(v, F(0)) for v in x.flat], dtype=object).reshape(x.shape)
    if isinstance(module, nn.LeakyReLU):
        s = F(float(module.negative_slope))
        return np.array([v if v > 0 else s * v for v in x.flat], dtype=object).reshape(x.shape)
    if isinstance(module, nn.Linear):
        W = em.to_fraction_array(module.weight.detach().numpy())
        b = em.to_fraction_array(module.bias.detach().numpy())
        return np.array([sum((w * v for w, v in zip(row, x)), F(0)) + bi for row, bi in zip(W, b)], dtype=object)
    if isinstance(module, (nn.Conv1d, nn.Conv2d)):
        n = x.ndim - 1
        return conv_direct(x, module.weight.detach().numpy(), [F(float(v)) for v in module.bias.detach()],
                           _tuple(module.stride, n), _tuple(module.padding, n))
    if isinstance(module, (nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d)):
        n = x.ndim - 1
        k = _tuple(module.kernel_size, n)
        st = _tuple(module.stride if module.stride is not None else module.kernel_size, n)
        mode = "max" if isinstance(module, (nn.MaxPool1d, nn.MaxPool2d)) else "avg"
        return pool_direct(x, k, st, _tuple(module.padding, n), mode)[0]
    if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        out = x.copy()
        for c, (s, t) in enumerate(_bn_scale_shift(module)):
            out[c] = out[c] * s + t
        return out
    raise AssertionError(f"no oracle for {module}")


def _randomise(model):
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
    return model.eval()


def cnn_maxpool_avgpool():
    return nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(3, 4, 2, padding=1), nn.ReLU(),
                         nn.AvgPool2d(2), nn.Flatten(), nn.Linear(16, 3)), (2, 9, 9)


def cnn_batchnorm_residual():
    body = nn.Sequential(nn.Conv2d(3, 3, 3, padding=1), nn.ReLU(), nn.Conv2d(3, 3, 3, padding=1))
    return nn.Sequential(nn.Conv2d(1, 3, 3, stride=2, padding=1), nn.BatchNorm2d(3), nn.ReLU(),
                         nn.MaxPool2d(3, stride=2, padding=1), ResidualBlock(body), nn.ReLU(),
                         nn.Flatten(), nn.Linear(12, 2)), (1, 8, 7)


def cnn_pool_between_convs():
    """Average pooling between two convolutions folds into one sparse product; a leaky ReLU."""
    return nn.Sequential(nn.Conv2d(1, 2, 2), nn.AvgPool2d(2, padding=1), nn.Conv2d(2, 3, 2, stride=(1, 2)),
                         nn.BatchNorm2d(3), nn.LeakyReLU(0.125), nn.MaxPool2d((2, 1)), nn.Flatten(),
                         nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 2)), (1, 7, 8)


def cnn_conv1d_residual():
    body = nn.Sequential(nn.Conv1d(2, 2, 3, padding=1), nn.ReLU(), nn.BatchNorm1d(2))
    return nn.Sequential(nn.Conv1d(1, 2, 3), nn.ReLU(), ResidualBlock(body), nn.MaxPool1d(2),
                         ResidualBlock(nn.Sequential(nn.Conv1d(2, 2, 1))), nn.Flatten(), nn.Linear(16, 1)), (1, 18)


CNNS = {f.__name__: f for f in (cnn_maxpool_avgpool, cnn_batchnorm_residual, cnn_pool_between_convs, cnn_conv1d_residual)}


def build_cnn(name, seed):
    torch.manual_seed(seed)
    model, shape = CNNS[name]()
    return _randomise(model), shape


def torch64(model, x, shape):
    m64 = copy.deepcopy(model).double()
    with torch.no_grad():
        return m64(torch.as_tensor(np.asarray(x, dtype=np.float64)).reshape(1, *shape)).reshape(-1).numpy()


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("name", sorted(CNNS))
def test_structured_conversion_equals_dense_and_the_oracles(name, seed):
    model, shape = build_cnn(name, seed)
    sparse = from_torch(model, shape, storage="sparse")
    dense = from_torch(model, shape, storage="dense")
    assert all(m.is_sparse for m in sparse.masos) and not any(m.is_sparse for m in dense.masos)
    assert sparse == dense and len(sparse.masos) == len(dense.masos)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((3, *shape)).astype(np.float32)
    ys, codes = sparse.forward_with_codes(X)
    assert ys.tolist() == dense(X).tolist() and codes == dense.code(X) == sparse.code(X)
    for x, y, code in zip(X, ys, codes):
        xf = em.to_fraction_array(x)
        assert y.tolist() == exact_forward(model, xf).reshape(-1).tolist()  # exact == exact
        assert sparse(x).tolist() == y.tolist() and sparse.code(x) == code
        assert [float(v) for v in y] == pytest.approx(torch64(model, x, shape), rel=1e-9, abs=1e-12)
        aff = sparse.affine_map(x)
        assert aff == dense.affine_map(x) == sparse.affine_map(code=code)
        assert list(aff(xf.reshape(-1))) == y.tolist()


@pytest.mark.parametrize("name", sorted(CNNS))
def test_affine_map_is_the_derivative_inside_the_region(name):
    """Exact finite differences inside the region, and torch's float64 Jacobian."""
    model, shape = build_cnn(name, 5)
    net = from_torch(model, shape, storage="sparse")
    rng = np.random.default_rng(5)
    x = em.to_fraction_array(rng.standard_normal(net.input_dim).astype(np.float32))
    aff = net.affine_map(x)
    y, code = net.forward_with_codes(x)
    t = F(1, 1 << 40)
    checked = 0
    for j in list(rng.choice(net.input_dim, 6, replace=False)) + [None]:
        step = np.full(net.input_dim, F(0), dtype=object)
        if j is None:
            step[:] = [F(int(v), 7) for v in rng.integers(-7, 8, net.input_dim)]
        else:
            step[j] = F(1)
        x2 = x + t * step
        if net.code(x2) != code:
            continue
        checked += 1
        assert list((net(x2) - y) / t) == list(aff.A.dot(step))
    assert checked >= 4
    m64 = copy.deepcopy(model).double()
    xt = torch.tensor([float(v) for v in x], dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(lambda v: m64(v.reshape(1, *shape)).reshape(-1), xt).numpy()
    assert np.allclose(jac, em.numbers.to_float_array(aff.A), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", sorted(CNNS))
def test_restrict_then_evaluate_is_evaluate_on_the_plane(name):
    model, shape = build_cnn(name, 7)
    net = from_torch(model, shape, storage="sparse")
    rng = np.random.default_rng(7)
    M, c = em.plane(*(rng.standard_normal(shape).astype(np.float32) for _ in range(3)))
    sliced = net.restrict(M, c)
    first = sliced.masos[0]
    assert (first.num_units, first.num_pieces, first.input_dim) == (net.masos[0].num_units, net.masos[0].num_pieces, 2)
    assert all(a is b for a, b in zip(sliced.masos[1:], net.masos[1:]))  # the later layers stay as they are
    assert sliced == from_torch(model, shape, storage="dense").restrict(M, c)
    for _ in range(4):
        p = np.array([F(int(v), int(q)) for v, q in zip(rng.integers(-9, 10, 2), rng.integers(1, 9, 2))], dtype=object)
        x = M.dot(p) + c
        assert sliced(p).tolist() == net(x).tolist() and sliced.code(p) == net.code(x)
        a2 = sliced.affine_map(p)
        a = net.affine_map(x)
        assert a2 == em.Affine(a.A.dot(M), a.A.dot(c) + a.b)
        # forward composition, as the engines do it: a thin (units x 3) map per layer
        Z = IntMatrix.from_ints([[1, 0, 0], [0, 1, 0], [0, 0, 1]])
        for m, code_l in zip(sliced.masos, sliced.code(p)):
            Z = m.selected_matmul(code_l, Z).augmented()
        assert Z.to_fractions()[:-1].tolist() == np.concatenate([a2.A, a2.b[:, None]], axis=1).tolist()


def test_small_sparse_nets_still_go_through_the_engines():
    """The engines read dense forms; a sparse layer under the limit makes them on demand."""
    torch.manual_seed(3)
    model = nn.Sequential(nn.Conv2d(1, 2, 2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4, 2)).eval()
    rng = np.random.default_rng(3)
    M, c = em.plane(*(rng.standard_normal((1, 5, 4)).astype(np.float32) for _ in range(3)))
    parts = [em.regions(from_torch(model, (1, 5, 4), storage=s).restrict(M, c), em.Box([-2, -2], [2, 2]))
             for s in ("sparse", "dense")]
    assert len(parts[0]) == len(parts[1]) > 1
    assert [r.code for r in parts[0]] == [r.code for r in parts[1]]


def test_sparse_networks_pickle_and_save(tmp_path):
    model, shape = build_cnn("cnn_batchnorm_residual", 1)
    net = from_torch(model, shape, storage="sparse")
    again = copy.deepcopy(net)  # the reduce protocol, as for worker processes
    assert again == net and all(m.is_sparse for m in again.masos)
    em.io.save(net, tmp_path / "n.json")
    assert em.load(tmp_path / "n.json") == net
    assert "sparse (" in net.summary()


# ---------------------------------------------------------------------------------------
# an MNIST-sized CNN
# ---------------------------------------------------------------------------------------


def mnist_cnn():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 16, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(800, 10)).eval()


def test_mnist_sized_cnn_converts_restricts_and_maps_without_dense_layers():
    model = mnist_cnn()
    t0 = time.perf_counter()
    net = from_torch(model, (1, 28, 28))
    seconds = time.perf_counter() - t0
    assert seconds < 30  # about 0.3 s here; dense, it ran out of 8 GB after minutes
    assert [m.is_sparse for m in net.masos] == [True, True, True, True, False]
    assert [(m.num_units, m.num_pieces, m.input_dim) for m in net.masos] == \
        [(10816, 2, 784), (2704, 4, 10816), (3872, 2, 2704), (800, 4, 3872), (10, 1, 800)]
    rng = np.random.default_rng(0)
    images = [rng.random((1, 28, 28)).astype(np.float32) for _ in range(3)]
    y = net(images[0])
    assert [float(v) for v in y] == pytest.approx(torch64(model, images[0], (1, 28, 28)), rel=1e-9, abs=1e-12)
    aff = net.affine_map(images[0])
    assert list(aff(em.to_fraction_array(images[0].reshape(-1)))) == list(y)
    M, c = em.plane(*images)
    sliced = net.restrict(M, c)
    assert sliced.masos[0].A.shape == (10816, 2, 2) and all(m.is_sparse for m in sliced.masos[1:4])
    p = np.array([F(1, 3), F(1, 5)], dtype=object)
    assert sliced(p).tolist() == net(M.dot(p) + c).tolist()
    assert sliced.affine_map(p)(p).tolist() == sliced(p).tolist()


def test_mnist_sized_cnn_refuses_dense_storage_with_the_typed_error():
    t0 = time.perf_counter()
    with pytest.raises(DenseLimitError, match="10,816 units x 2 pieces x 784 inputs"):
        from_torch(mnist_cnn(), (1, 28, 28), storage="dense")
    assert time.perf_counter() - t0 < 30
