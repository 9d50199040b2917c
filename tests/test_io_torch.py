"""Exact networks from PyTorch modules (exactmaso.io.torch_io)."""

from __future__ import annotations

import builtins
import pickle
from fractions import Fraction

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

import exactmaso as em  # noqa: E402
from exactmaso.errors import ModelFileError, ShapeError, UnsupportedLayerError  # noqa: E402
from exactmaso.io import from_torch, load, save  # noqa: E402
from exactmaso.io.torch_io import ResidualBlock  # noqa: E402


# ---------------------------------------------------------------------------------------
# tiny torch models (shared with tests/test_io_onnx.py by import)
# ---------------------------------------------------------------------------------------


def _randomise_batchnorm(model: nn.Module) -> None:
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
            if m.weight is not None:
                m.weight.data.uniform_(0.5, 1.5)
                m.bias.data.uniform_(-0.5, 0.5)


def make_mlp() -> tuple[nn.Module, tuple[int, ...]]:
    return nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 6), nn.LeakyReLU(0.1), nn.Linear(6, 2)), (3,)


def make_cnn() -> tuple[nn.Module, tuple[int, ...]]:
    model = nn.Sequential(
        nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(3, 2, (2, 3), stride=(1, 2), padding=(1, 1)), nn.ReLU(),
        nn.Flatten(), nn.Linear(16, 3),
    )
    return model, (1, 6, 6)


def make_batchnorm_net() -> tuple[nn.Module, tuple[int, ...]]:
    model = nn.Sequential(
        nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.AvgPool2d(2, padding=1),
        nn.Flatten(), nn.Dropout(0.5), nn.Linear(12, 5), nn.BatchNorm1d(5), nn.ReLU(),
        nn.Linear(5, 2),
    )
    return model, (2, 5, 5)


def make_residual_net() -> tuple[nn.Module, tuple[int, ...]]:
    model = nn.Sequential(
        nn.Linear(4, 5), nn.ReLU(),
        ResidualBlock(nn.Sequential(nn.Linear(5, 5), nn.ReLU(), nn.Identity(), nn.Linear(5, 5))),
        ResidualBlock(nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 5), nn.ReLU(),
                                    ResidualBlock(nn.Sequential(nn.Linear(5, 5), nn.ReLU())))),
        nn.Linear(5, 2),
    )
    return model, (4,)


def make_conv1d_net() -> tuple[nn.Module, tuple[int, ...]]:
    model = nn.Sequential(
        nn.Conv1d(2, 3, 3, padding=1), nn.LeakyReLU(0.2), nn.MaxPool1d(3, stride=2, padding=1),
        nn.BatchNorm1d(3), nn.AvgPool1d(2), nn.Flatten(), nn.Linear(6, 2),
    )
    return model, (2, 8)


MODELS = {
    "mlp": make_mlp,
    "cnn": make_cnn,
    "batchnorm": make_batchnorm_net,
    "residual": make_residual_net,
    "conv1d": make_conv1d_net,
}


def build(name: str, dtype: torch.dtype, seed: int = 0) -> tuple[nn.Module, tuple[int, ...]]:
    torch.manual_seed(seed)
    model, shape = MODELS[name]()
    _randomise_batchnorm(model)
    return model.to(dtype).eval(), shape


def torch_output(model: nn.Module, x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    dtype = next(model.parameters()).dtype
    with torch.no_grad():
        return model(torch.as_tensor(x).to(dtype).reshape(1, *shape)).reshape(-1).double().numpy()


# ---------------------------------------------------------------------------------------
# exact agreement with torch
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_forward_matches_torch_and_affine_map_is_exact(name, dtype):
    model, shape = build(name, dtype)
    net = from_torch(model, shape)
    assert net.input_shape == shape
    rng = np.random.default_rng(1)
    rel = 1e-5 if dtype == torch.float32 else 1e-11
    for _ in range(3):
        x = rng.standard_normal(int(np.prod(shape))).astype(np.float32 if dtype == torch.float32 else np.float64)
        exact = net(x)
        assert [float(v) for v in exact] == pytest.approx(torch_output(model, x, shape), rel=rel, abs=rel)
        xf = em.to_fraction_array(x)
        aff = net.affine_map(xf)
        assert list(aff.A.dot(xf) + aff.b) == list(exact)


def test_parameters_convert_exactly():
    model, _ = build("mlp", torch.float32)
    net = from_torch(model)
    W = model[0].weight.detach().numpy()
    b = model[0].bias.detach().numpy()
    assert net.masos[0].A[4, 1, 2] == Fraction(float(W[4, 2]))
    assert net.masos[0].B[4, 1] == Fraction(float(b[4]))
    lin = [(m.weight.detach().numpy(), m.bias.detach().numpy()) for m in model if isinstance(m, nn.Linear)]
    expected = em.Network([em.Dense(*lin[0]), em.ReLU(), em.Dense(*lin[1]), em.LeakyReLU(0.1), em.Dense(*lin[2])])
    assert net == expected


def test_input_shape_inferred_for_first_linear():
    model, _ = build("residual", torch.float64)
    assert from_torch(model) == from_torch(model, (4,))
    cnn, _ = build("cnn", torch.float32)
    with pytest.raises(ShapeError, match="give input_shape="):
        from_torch(cnn)


def test_nested_sequential_and_json_round_trip(tmp_path):
    torch.manual_seed(2)
    model = nn.Sequential(nn.Sequential(nn.Linear(2, 3), nn.ReLU()), nn.Sequential(nn.Sequential(nn.Linear(3, 1)))).eval()
    net = from_torch(model)
    save(net, tmp_path / "n.json")
    assert load(tmp_path / "n.json") == net
    x = np.array([0.5, -0.25], dtype=np.float32)
    assert float(net(x)[0]) == pytest.approx(float(model(torch.tensor(x)).detach()[0]), rel=1e-6)


# ---------------------------------------------------------------------------------------
# refusals
# ---------------------------------------------------------------------------------------


def test_training_mode_refused():
    model, shape = build("batchnorm", torch.float32)
    model.train()
    with pytest.raises(UnsupportedLayerError, match=r"module\.eval\(\)"):
        from_torch(model, shape)
    drop = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.1))
    with pytest.raises(UnsupportedLayerError, match=r"'1' \(Dropout\) is in training mode.*module\.eval\(\)"):
        from_torch(drop)


@pytest.mark.parametrize("act", [nn.Sigmoid(), nn.Tanh(), nn.GELU(), nn.ReLU6(), nn.Softmax(dim=1)])
def test_unsupported_modules_named_with_position(act):
    model = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU(), ResidualBlock(nn.Sequential(nn.Linear(3, 3), act))))
    name = type(act).__name__
    with pytest.raises(UnsupportedLayerError, match=rf"module '1\.1\.body\.1' \({name}\) is not a max-affine spline layer"):
        from_torch(model.eval())


@pytest.mark.parametrize(
    "module, pattern",
    [
        (nn.Conv2d(2, 2, 3, groups=2), "groups=2"),
        (nn.Conv2d(1, 2, 3, dilation=2), "dilation"),
        (nn.Conv2d(1, 2, 3, padding=1, padding_mode="circular"), "padding_mode='circular'"),
        (nn.MaxPool2d(2, ceil_mode=True), "ceil_mode=True"),
        (nn.MaxPool2d(2, dilation=2), "dilation"),
        (nn.AvgPool2d(3, padding=1, count_include_pad=False), "count_include_pad"),
        (nn.AvgPool2d(2, divisor_override=3), "divisor_override=3"),
        (nn.Flatten(0), "start_dim=0"),
        (nn.BatchNorm2d(2, track_running_stats=False), "no running statistics"),
    ],
)
def test_unsupported_options(module, pattern):
    with pytest.raises(UnsupportedLayerError, match=pattern):
        from_torch(nn.Sequential(module).eval(), (2, 6, 6))


def test_custom_modules_refused():
    class Twice(nn.Module):
        def forward(self, x):
            return 2 * x

    class SneakyLinear(nn.Linear):
        def forward(self, x):
            return torch.sigmoid(super().forward(x))

    with pytest.raises(UnsupportedLayerError, match=r"'0' \(Twice\)"):
        from_torch(nn.Sequential(Twice(), nn.Linear(2, 2)), (2,))
    with pytest.raises(UnsupportedLayerError, match="overrides forward"):
        from_torch(nn.Sequential(SneakyLinear(2, 2)))


def test_not_a_module():
    with pytest.raises(TypeError, match="torch.nn.Module"):
        from_torch([1, 2, 3])


# ---------------------------------------------------------------------------------------
# state_dict files: weights_only, never unpickled
# ---------------------------------------------------------------------------------------


def test_state_dict_file(tmp_path):
    model, shape = build("cnn", torch.float32, seed=3)
    torch.save(model.state_dict(), tmp_path / "w.pt")
    fresh, _ = build("cnn", torch.float32, seed=4)
    assert from_torch(fresh, shape) != from_torch(model, shape)
    assert from_torch(fresh, shape, state_dict=tmp_path / "w.pt") == from_torch(model, shape)
    assert from_torch(fresh, shape, state_dict=model.state_dict()) == from_torch(model, shape)


def test_state_dict_that_does_not_fit(tmp_path):
    model, shape = build("mlp", torch.float32)
    torch.save({"0.weight": torch.zeros(2, 2)}, tmp_path / "w.pt")
    with pytest.raises(ModelFileError, match="does not fit the module"):
        from_torch(model, state_dict=tmp_path / "w.pt")


class _Malicious:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (builtins.open, (self.marker, "w"))


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_malicious_state_dict_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    model, _ = build("mlp", torch.float32)
    # a real torch checkpoint (zip) whose pickle would create the marker
    torch.save({"0.weight": _Malicious(str(marker))}, tmp_path / "evil.pt")
    with pytest.raises(ModelFileError, match="weights_only=True"):
        from_torch(model, state_dict=tmp_path / "evil.pt")
    # and a bare pickle
    (tmp_path / "evil.pkl").write_bytes(pickle.dumps({"0.weight": _Malicious(str(marker))}))
    with pytest.raises(ModelFileError, match="never unpickles"):
        from_torch(model, state_dict=tmp_path / "evil.pkl")
    with pytest.raises(ModelFileError):
        load(tmp_path / "evil.pt")
    assert not marker.exists()
