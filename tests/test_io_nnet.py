"""Exact networks from .nnet files (exactmaso.io.nnet_io): normalisation, exact decimals, errors."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import exactmaso as em
from exactmaso.cli import main
from exactmaso.errors import ModelFileError, ModelFileNotFoundError, ModelShapeError
from exactmaso.io import read_nnet

try:
    from acas_reference import acas_parameters, acas_path
except ImportError:  # pragma: no cover - run from the repository root as a package
    from tests.acas_reference import acas_parameters, acas_path  # type: ignore[no-redef]

# a 2-3-1 network; line numbers matter for the error tests below
SMALL = """\
// a 2-3-1 network
// second header line
2,2,1,3,
2,3,1,
0,
-1,0,
1,2,
0.5,1,0.25,
2,0.5,4,
0.6,-1,
1,1,
-0.5,2.5e-1,
0.1,
0,
-1,
1,-1,0.125,
0.75,
"""
MEANS, RANGES = [Fraction(1, 2), Fraction(1)], [Fraction(2), Fraction(1, 2)]
MEAN_OUT, RANGE_OUT = Fraction(1, 4), Fraction(4)
W0 = [[Fraction(3, 5), -1], [1, 1], [Fraction(-1, 2), Fraction(1, 4)]]
B0 = [Fraction(1, 10), 0, -1]
W1 = [[1, -1, Fraction(1, 8)]]
B1 = [Fraction(3, 4)]


def small_reference(x: list[Fraction]) -> list[Fraction]:
    """The file's network on raw inputs inside [min, max], in Fractions."""
    u = [(xi - m) / r for xi, m, r in zip(x, MEANS, RANGES)]
    h = [max(sum(w * v for w, v in zip(row, u)) + b, Fraction(0)) for row, b in zip(W0, B0)]
    z = [sum(w * v for w, v in zip(row, h)) + b for row, b in zip(W1, B1)]
    return [RANGE_OUT * v + MEAN_OUT for v in z]


def reference_evaluate(text: str, x: list[float]) -> list[float]:
    """What the reference evaluators (sisl/NNet) compute: numbers as float64, the inputs clamped
    to [min, max] and normalised, ReLU layers, the outputs de-normalised."""
    rows = [line.strip().rstrip(",").split(",") for line in text.splitlines() if line.strip() and line[:2] != "//"]
    num_layers, n_in = int(rows[0][0]), int(rows[0][1])
    sizes = [int(v) for v in rows[1]]
    low, high, means, ranges = ([float(v) for v in row] for row in rows[3:7])
    h = np.array([(min(max(xi, lo), hi) - m) / r for xi, lo, hi, m, r in zip(x, low, high, means, ranges)])
    at = 7
    for k in range(num_layers):
        W = np.array([[float(v) for v in row] for row in rows[at:at + sizes[k + 1]]])
        b = np.array([float(row[0]) for row in rows[at + sizes[k + 1]:at + 2 * sizes[k + 1]]])
        at += 2 * sizes[k + 1]
        h = W @ h + b
        if k < num_layers - 1:
            h = np.maximum(h, 0.0)
    return list(h * ranges[n_in] + means[n_in])


def write(tmp_path, text: str, name: str = "m.nnet") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_small_network_on_raw_inputs(tmp_path):
    net = em.from_nnet(write(tmp_path, SMALL))
    assert net.input_shape == (2,) and net.output_dim == 1
    rng = np.random.default_rng(0)
    for _ in range(20):
        x = [Fraction(int(rng.integers(-100, 101)), 100), Fraction(int(rng.integers(0, 201)), 100)]
        assert net(x).tolist() == small_reference(x)
        assert [float(v) for v in net(x)] == pytest.approx(reference_evaluate(SMALL, [float(v) for v in x]), rel=1e-12)
    # the same network written by hand: both normalisations folded into the Dense layers
    scale = [1 / r for r in RANGES]
    first_W = [[w * s for w, s in zip(row, scale)] for row in W0]
    first_b = [b - sum(w * m for w, m in zip(row, MEANS)) for row, b in zip(first_W, B0)]
    last_W = [[RANGE_OUT * w for w in row] for row in W1]
    last_b = [RANGE_OUT * b + MEAN_OUT for b in B1]
    assert net == em.Network([em.Dense(first_W, first_b), em.ReLU(), em.Dense(last_W, last_b)])


def test_decimals_are_the_exact_decimals_they_spell(tmp_path):
    text = "1,1,1,1,\n1,1,\n0,\n0,\n1,\n0,0,\n1,1,\n0.6,\n0.1,\n"
    net = em.from_nnet(write(tmp_path, text))
    assert net([1]).tolist() == [Fraction(7, 10)]  # 3/5 + 1/10, not the float 0.6 + 0.1
    assert net.masos[0].A[0, 0, 0] == Fraction(3, 5)


def test_read_nnet_keeps_the_normalisation_data(tmp_path):
    data = read_nnet(write(tmp_path, SMALL))
    assert data.input_min == (-1, 0) and data.input_max == (1, 2)
    assert data.means == (Fraction(1, 2), 1, Fraction(1, 4)) and data.ranges == (2, Fraction(1, 2), 4)
    box = data.input_box()
    assert isinstance(box, em.Box) and box.volume() == 4
    assert data.network == em.from_nnet(tmp_path / "m.nnet")


def test_line_endings_spaces_and_trailing_commas_are_optional(tmp_path):
    expected = em.from_nnet(write(tmp_path, SMALL))
    lines = SMALL.splitlines()
    variant = [line.rstrip(",").replace(",", " , ") for line in lines]
    text = "\r\n".join(variant) + "\r\n\r\n   \n"
    assert em.from_nnet(write(tmp_path, text, "v.nnet")) == expected


def test_one_layer_folds_both_normalisations_into_it(tmp_path):
    text = "1,2,2,2,\n2,2,\n0,\n0,0,\n1,1,\n1,-1,10,\n2,4,0.5,\n1,2,\n3,-4,\n0.5,\n-0.5,\n"
    net = em.from_nnet(write(tmp_path, text))
    x = [Fraction(1, 3), Fraction(2, 7)]
    u = [(x[0] - 1) / 2, (x[1] + 1) / 4]
    raw = [u[0] + 2 * u[1] + Fraction(1, 2), 3 * u[0] - 4 * u[1] - Fraction(1, 2)]
    assert net(x).tolist() == [Fraction(1, 2) * v + 10 for v in raw]
    assert len(net.masos) == 1 and net.masos[0].is_affine


def test_load_and_the_cli_pick_nnet_by_suffix(tmp_path, capsys):
    path = write(tmp_path, SMALL)
    assert em.load(path) == em.from_nnet(path) == em.io.from_nnet(path)
    assert main(["info", str(path)]) == 0
    assert "input dimension 2" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------
# an ACAS Xu network written as .nnet from its ONNX initializers
# ---------------------------------------------------------------------------------------

# the normalisation of the ACAS Xu networks (the header of sisl/NNet's TestNetwork.nnet)
ACAS_MIN = ["0.0", "-3.141593", "-3.141593", "100.0", "0.0"]
ACAS_MAX = ["60760.0", "3.141593", "3.141593", "1200.0", "1200.0"]
ACAS_MEANS = ["19791.091", "0.0", "0.0", "650.0", "600.0", "7.5188840201"]
ACAS_RANGES = ["60261.0", "6.28318530718", "6.28318530718", "1100.0", "1200.0", "373.94992"]


def acas_as_nnet(onnx_path: Path, means: list[str], ranges: list[str]) -> str:
    """The .nnet text of a VNN-COMP ACAS Xu ONNX file, every float32 written as its exact decimal."""
    mean, layers = acas_parameters(onnx_path)
    assert not mean.any()  # the subtracted mean is 0
    weights = [W.T for W, _ in layers]  # (out, in)
    biases = [b for _, b in layers]
    sizes = [weights[0].shape[1]] + [W.shape[0] for W in weights]

    def exact(v) -> str:
        return str(Decimal(float(v)))  # a float32 is a dyadic rational: a finite decimal

    lines = ["// ACAS Xu from ONNX", f"{len(weights)},{sizes[0]},{sizes[-1]},{max(sizes)},",
             ",".join(map(str, sizes)) + ",", "0,", ",".join(ACAS_MIN) + ",", ",".join(ACAS_MAX) + ",",
             ",".join(means) + ",", ",".join(ranges) + ","]
    for W, b in zip(weights, biases):
        lines += [",".join(exact(v) for v in row) + "," for row in W]
        lines += [exact(v) + "," for v in b]
    return "\n".join(lines) + "\n"


def test_acas_nnet_without_normalisation_is_the_onnx_network(tmp_path):
    path = acas_path("1_1")
    text = acas_as_nnet(path, ["0"] * 6, ["1"] * 6)
    assert em.from_nnet(write(tmp_path, text)) == em.from_onnx(path)


def test_acas_nnet_normalises_raw_inputs_exactly(tmp_path):
    path = acas_path("1_1")
    text = acas_as_nnet(path, ACAS_MEANS, ACAS_RANGES)
    data = read_nnet(write(tmp_path, text))
    onnx_net = em.from_onnx(path)  # on normalised inputs, normalised outputs
    means, ranges = [Fraction(v) for v in ACAS_MEANS], [Fraction(v) for v in ACAS_RANGES]
    rng = np.random.default_rng(1)
    lo, hi = np.array(data.input_min, dtype=float), np.array(data.input_max, dtype=float)
    for _ in range(4):
        x = [Fraction(v).limit_denominator(1000) for v in rng.uniform(lo, hi)]
        u = [(xi - m) / r for xi, m, r in zip(x, means, ranges)]
        assert data.network(x).tolist() == [ranges[5] * v + means[5] for v in onnx_net(u)]
        # as the reference readers compute it in float64 (inside the box their clamping does nothing)
        reference = reference_evaluate(text, [float(v) for v in x])
        assert [float(v) for v in data.network(x)] == pytest.approx(reference, rel=1e-9, abs=1e-9)


# ---------------------------------------------------------------------------------------
# bad files: typed errors naming the line
# ---------------------------------------------------------------------------------------


def replace_line(number: int, text: str) -> str:
    lines = SMALL.splitlines()
    lines[number - 1] = text
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "text, error, pattern",
    [
        ("", ModelFileError, r"m.nnet: the file ends after line 0; expected numLayers, inputSize"),
        ("// only a header\n//\n", ModelFileError, r"ends after line 2; expected numLayers"),
        (replace_line(3, "2,2,1,"), ModelFileError, r"m.nnet, line 3 has 3 values; expected 4"),
        (replace_line(3, "two,2,1,3,"), ModelFileError, r"line 3, value 1 holds 'two'; expected an integer"),
        (replace_line(3, "2,0,1,3,"), ModelShapeError, r"line 3, value 2 holds 0; expected an integer of at least 1"),
        (replace_line(4, "2,3,2,"), ModelShapeError, r"line 4: the layer sizes run from 2 to 2; the line before "
                                                      r"declares 2 inputs and 1 outputs"),
        (replace_line(4, "2,3,"), ModelFileError, r"line 4 has 2 values; expected 3 \(the 3 layer sizes"),
        (replace_line(5, "zero,"), ModelFileError, r"line 5, the legacy flag holds 'zero'; expected an integer"),
        (replace_line(7, "1,-2,"), ModelFileError, r"line 7: the maximum of input 1 is -2, below its minimum 0"),
        (replace_line(9, "2,0,4,"), ModelFileError, r"line 9: the range of input 1 is 0"),
        (replace_line(8, "0.5,1,"), ModelFileError, r"line 8 has 2 values; expected 3 \(the 3 means"),
        (replace_line(11, "1,1,1,"), ModelFileError, r"line 11 has 3 values; expected 2 \(a row of layer 0's 3 x 2"),
        (replace_line(12, "abc,1,"), ModelFileError, r"line 12, value 1 \(a row of layer 0's 3 x 2 weights\) holds "
                                                     r"'abc'; expected a decimal number"),
        (replace_line(12, "nan,1,"), ModelFileError, r"line 12, value 1 .* holds 'nan'"),
        (replace_line(12, "inf,1,"), ModelFileError, r"line 12, value 1 .* holds 'inf'"),
        (replace_line(12, "1/3,1,"), ModelFileError, r"line 12, value 1 .* holds '1/3'"),
        (replace_line(12, "1e999999,1,"), ModelFileError, r"line 12, value 1 .* has 1,000,000 digits.*MAX_DIGITS"),
        (replace_line(14, "0,1,"), ModelFileError, r"line 14 has 2 values; expected 1 \(a bias of layer 0"),
        (SMALL.rsplit("\n", 2)[0] + "\n", ModelFileError, r"ends after line 16; expected a bias of layer 1"),
        (SMALL + "1,\n", ModelFileError, r"m.nnet, line 18: data after the biases of the last layer"),
        ("// early\n20000,2,1,3,\n", ModelFileError, r"20,000 layers; at most 10,000.*MAX_LAYERS"),
        ("3,1,1,1048576,\n1,1048576,1048576,1,\n", ModelFileError, r"layer 1 \(1048576 x 1048576 weights and "
                                                                  r"biases\).*MAX_ENTRIES"),
    ],
    ids=["empty", "header_only", "short_header", "word_in_header", "zero_size", "sizes_mismatch", "few_sizes",
         "word_flag", "max_below_min", "zero_range", "few_means", "long_row", "word_weight", "nan", "inf", "ratio",
         "huge_exponent", "two_biases", "truncated", "extra_line", "too_many_layers", "too_many_weights"],
)
def test_bad_files_are_typed_errors_naming_the_line(tmp_path, text, error, pattern):
    with pytest.raises(error, match=pattern):
        em.from_nnet(write(tmp_path, text))


def test_not_text_and_missing_files(tmp_path):
    path = tmp_path / "b.nnet"
    path.write_bytes(b"// header\n\xff\xfe\x00binary")
    with pytest.raises(ModelFileError, match=r"b.nnet: byte 10 is not UTF-8 text; expected an .nnet text file"):
        em.load(path)
    with pytest.raises(ModelFileNotFoundError, match=r"missing.nnet does not exist; expected an .nnet file"):
        em.from_nnet(tmp_path / "missing.nnet")
