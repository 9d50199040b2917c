"""The caps of exactmaso.io.limits: what they admit, what they refuse, and the bound on the
dense MASO form that ONNX models are checked against before compiling."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

import exactmaso as em
from exactmaso.errors import ModelFileError
from exactmaso.io import limits


def _dense(out: int, inp: int) -> em.Dense:
    return em.Dense(np.full((out, inp), Fraction(1, 3), dtype=object))


def _conv(cout: int, cin: int, k: int = 3) -> em.Conv2d:
    return em.Conv2d(np.ones((cout, cin, k, k)))


def _maso_numbers(net: em.Network) -> int:
    return sum(m.A.shape[0] * m.A.shape[1] * (m.A.shape[2] + 1) for m in net.masos)


NETWORKS = {
    "mlp": ([_dense(5, 3), em.ReLU(), _dense(4, 5), em.LeakyReLU("1/10"), _dense(2, 4)], (3,)),
    "cnn": ([_conv(2, 1), em.ReLU(), em.MaxPool2d(2), em.Flatten(), _dense(3, 8)], (1, 6, 6)),
    "pools": ([em.AvgPool2d(2), em.Abs(), em.MaxPool2d(2, 1), em.Flatten(), _dense(2, 8)], (2, 6, 6)),
    "conv1d": ([em.Conv1d(np.ones((2, 1, 3)), stride=2, padding=1), em.ReLU(), em.Flatten(), _dense(2, 8)], (1, 8)),
    "batchnorm": ([em.Flatten(), em.BatchNorm([2, 3, 4], [0, 1, 0]), em.ReLU(), _dense(1, 3)], (3,)),
    "residual": ([em.ReLU(), em.Residual([_dense(3, 3), em.ReLU(), _dense(3, 3)]), em.Residual([_dense(3, 3)]),
                  em.Residual([em.Residual([_dense(3, 3), em.ReLU()])]), _dense(1, 3)], (3,)),
    "no maso": ([_dense(2, 3)], (3,)),
}


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_compiled_size_bound_covers_the_compiled_network(name):
    layers, shape = NETWORKS[name]
    bound = limits.check_compiled_size(layers, shape, name)
    actual = _maso_numbers(em.Network(layers, input_shape=shape))
    assert actual <= bound
    if name != "residual":  # chains are counted exactly
        assert bound == actual


def test_caps_admit_a_784_by_4096_mlp():
    assert limits.check_shape((4096, 784), "W0") == 4096 * 784
    count = limits.EntryCount("mlp", "MAX_MASO_ENTRIES")
    count.add(4096 * 2 * 785, "W0")
    count.add(10 * 1 * 4097, "W1")
    assert limits.check_compiled_size([_dense(4096, 784), em.ReLU(), _dense(10, 4096)], (784,), "mlp") == count.total


@pytest.mark.parametrize(
    "layers, shape",
    [
        ([_conv(16, 1), em.ReLU(), em.Flatten(), _dense(10, 16 * 26 * 26)], (1, 28, 28)),
        ([_conv(4, 1), em.ReLU(), em.MaxPool2d(2), em.Flatten(), _dense(10, 4 * 13 * 13)], (1, 28, 28)),
        ([em.Conv2d(np.ones((8, 3, 3, 3)), stride=2), em.ReLU(), _conv(8, 8), em.ReLU(), em.Flatten(),
          _dense(10, 8 * 13 * 13)], (3, 32, 32)),
    ],
    ids=["mnist-16ch", "mnist-4ch-maxpool", "cifar-8ch-stride2"],
)
def test_caps_admit_mnist_and_cifar_sized_conv_nets(layers, shape):
    assert limits.check_compiled_size(layers, shape, "conv") <= limits.MAX_MASO_ENTRIES


def test_caps_refuse_a_cifar_conv_net_whose_dense_form_is_too_large():
    layers = [_conv(64, 3), em.ReLU(), em.Flatten(), _dense(10, 64 * 30 * 30)]
    with pytest.raises(ModelFileError, match=r"layer 0 \(Conv2d\) becomes a dense 57,600 x 3,073 matrix.*MAX_MASO_ENTRIES"):
        limits.check_compiled_size(layers, (3, 32, 32), "big")


def test_caps_are_read_at_call_time(monkeypatch):
    monkeypatch.setattr(limits, "MAX_DIM", 4)
    with pytest.raises(ModelFileError, match="5 along axis 1; at most 4 are allowed"):
        limits.check_shape((2, 5), "W0")
    monkeypatch.setattr(limits, "MAX_DIM", 2**20)
    assert limits.check_shape((2, 5), "W0") == 10


def test_open_model_file_refuses_devices_and_folders(tmp_path):
    with pytest.raises(ModelFileError, match="not a regular file"):
        limits.open_model_file("/dev/null")
    with pytest.raises(ModelFileError, match="is a folder"):
        limits.open_model_file(tmp_path)


@pytest.mark.slow
def test_a_784_by_4096_mlp_npz_loads(tmp_path):
    rng = np.random.default_rng(0)
    W0 = (rng.standard_normal((4096, 784)) * 0.05).astype(np.float32)
    W1 = (rng.standard_normal((10, 4096)) * 0.05).astype(np.float32)
    np.savez(tmp_path / "m.npz", W0=W0, b0=np.zeros(4096, np.float32), W1=W1, b1=np.zeros(10, np.float32))
    net = em.load(tmp_path / "m.npz")
    assert net.masos[0].A.shape == (4096, 2, 784) and net.masos[0].A[7, 1, 5] == Fraction(float(W0[7, 5]))
    assert math.prod(net.input_shape) == 784
