"""MLPs from numpy arrays and .npz files; the content-sniffing loader; no pickle ever runs."""

from __future__ import annotations

import builtins
import io
import os
import pickle
import time
import warnings
import zipfile
from fractions import Fraction

import numpy as np
import pytest

import exactmaso as em
from exactmaso.errors import ModelFileError, ShapeError, UnsupportedLayerError
from exactmaso.io import from_numpy, load, load_npz, save, save_npz


def _weights(seed: int, sizes=(3, 6, 4, 2), dtype=np.float64):
    rng = np.random.default_rng(seed)
    W = [rng.standard_normal((o, i)).astype(dtype) for i, o in zip(sizes[:-1], sizes[1:])]
    b = [rng.standard_normal(o).astype(dtype) for o in sizes[1:]]
    return W, b


class _Malicious:
    """Unpickling this creates the marker file: proof that a pickle was executed."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (builtins.open, (self.marker, "w"))


# ---------------------------------------------------------------------------------------
# from_numpy
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_from_numpy_is_mlp_and_exact(dtype):
    W, b = _weights(0, dtype=dtype)
    net = from_numpy(W, b)
    assert net == em.mlp(W, b)
    assert net.masos[0].A[2, 1, 1] == Fraction(float(W[0][2, 1]))
    x = np.array([0.25, -1.0, 2.0])
    ref = x
    for i, (Wi, bi) in enumerate(zip(W, b)):
        ref = Wi.astype(np.float64) @ ref + bi
        if i < len(W) - 1:
            ref = np.maximum(ref, 0)
    assert [float(v) for v in net(x)] == pytest.approx(ref, rel=1e-12)


def test_from_numpy_activations():
    W, b = _weights(1)
    assert from_numpy(W, b, "abs") == em.mlp(W, b, "abs")
    assert from_numpy(W, b, "leaky_relu(1/10)") == em.mlp(W, b, em.LeakyReLU("1/10"))
    with pytest.raises(UnsupportedLayerError, match="tanh"):
        from_numpy(W, b, "tanh")


# ---------------------------------------------------------------------------------------
# npz round trips
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("activation", ["relu", "abs", "leaky_relu(1/8)", "leaky_relu(3/100)"])
def test_npz_round_trip(tmp_path, activation):
    W, b = _weights(2, dtype=np.float32)
    net = from_numpy(W, b, activation)
    save_npz(net, tmp_path / "m.npz")
    back = load_npz(tmp_path / "m.npz")
    assert back == net
    assert load(tmp_path / "m.npz") == net


def test_npz_float_weights_stay_float_arrays(tmp_path):
    W, b = _weights(3)
    save_npz(W, tmp_path / "m.npz", biases=b)
    with np.load(tmp_path / "m.npz", allow_pickle=False) as z:
        assert z["W0"].dtype == np.float64
        assert np.array_equal(z["W1"], W[1])
        assert str(z["activation"]) == "relu"
    assert load_npz(tmp_path / "m.npz") == from_numpy(W, b)


def test_npz_non_float_rationals_are_stored_as_strings(tmp_path):
    net = em.mlp([[["1/3", 2], [0, "-7/5"]], [["1/10", 1]]], [[0, "2/3"], [1]])
    save_npz(net, tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as z:
        assert z["W0"].dtype.kind == "U"
    assert load_npz(tmp_path / "m.npz") == net


def test_npz_keeps_input_shape(tmp_path):
    rng = np.random.default_rng(4)
    net = em.Network([em.Flatten(), em.Dense(rng.standard_normal((3, 4))), em.ReLU(), em.Dense(rng.standard_normal((1, 3)))],
                     input_shape=(1, 2, 2))
    save_npz(net, tmp_path / "m.npz")
    back = load_npz(tmp_path / "m.npz")
    assert back == net and back.input_shape == (1, 2, 2)


def test_plain_savez_without_activation_or_biases(tmp_path):
    W, _ = _weights(5)
    np.savez(tmp_path / "m.npz", W0=W[0], W1=W[1], W2=W[2])
    assert load_npz(tmp_path / "m.npz") == from_numpy(W)


@pytest.mark.parametrize(
    "net",
    [
        em.Network([em.MaxPool1d(2), em.Flatten(), em.Dense([[1, 1]])], input_shape=(1, 4)),
        em.Network([em.Dense([[1, 2]]), em.ReLU()]),
        em.Network([em.Dense([[1, 2], [3, 4]]), em.Residual([em.ReLU()]), em.Dense([[1, 1]])]),
    ],
    ids=["maxpool", "ends-in-relu", "residual"],
)
def test_non_mlp_refused_with_pointer_to_json(tmp_path, net):
    with pytest.raises(UnsupportedLayerError, match=r"exactmaso\.io\.save"):
        save_npz(net, tmp_path / "m.npz")
    save(net, tmp_path / "m.json")  # the pointer is right: JSON takes it
    assert load(tmp_path / "m.json") == net


# ---------------------------------------------------------------------------------------
# malformed files
# ---------------------------------------------------------------------------------------


def test_truncated_npz(tmp_path):
    W, b = _weights(6)
    save_npz(W, tmp_path / "m.npz", biases=b)
    data = (tmp_path / "m.npz").read_bytes()
    (tmp_path / "t.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="truncated"):
        load_npz(tmp_path / "t.npz")
    with pytest.raises(ModelFileError, match="truncated"):
        load(tmp_path / "t.npz")


def test_wrong_magic(tmp_path):
    (tmp_path / "m.npz").write_bytes(b"GIF89a not a model")
    with pytest.raises(ModelFileError, match="not a zip archive"):
        load_npz(tmp_path / "m.npz")
    with pytest.raises(ModelFileError, match="no format exactmaso reads"):
        load(tmp_path / "m.npz")


def test_empty_file_and_npy(tmp_path):
    (tmp_path / "e.bin").write_bytes(b"")
    with pytest.raises(ModelFileError, match="empty"):
        load(tmp_path / "e.bin")
    np.save(tmp_path / "a.npy", np.zeros(3))
    with pytest.raises(ModelFileError, match="single .npy array"):
        load(tmp_path / "a.npy")


def test_nan_weight(tmp_path):
    W, b = _weights(7)
    W[1][2, 3] = np.nan
    np.savez(tmp_path / "m.npz", W0=W[0], b0=b[0], W1=W[1], b1=b[1], W2=W[2], b2=b[2])
    with pytest.raises(ModelFileError, match=r"W1\[2, 3\] is nan; expected a finite real number"):
        load_npz(tmp_path / "m.npz")


def test_bad_string_weight(tmp_path):
    np.savez(tmp_path / "m.npz", W0=np.array([["1/3", "abc"]]))
    with pytest.raises(ModelFileError, match=r"W0\[0, 1\] is the string 'abc'"):
        load_npz(tmp_path / "m.npz")


@pytest.mark.parametrize(
    "arrays, pattern",
    [
        (dict(W0=np.ones((3, 2)), b0=np.ones(3), W1=np.ones((1, 4))), "W1 has 4 columns; W0 has 3 rows"),
        (dict(W0=np.ones((3, 2)), b0=np.ones(2)), "b0 has 2 entries; W0 has 3 rows"),
        (dict(W0=np.ones(3)), r"W0 has shape \(3,\); expected 2 dimension"),
        (dict(W0=np.ones((3, 2)), input_shape=np.array([5])), r"input_shape \(5,\) has 5 entries; W0 has 2 columns"),
    ],
)
def test_shape_mismatch(tmp_path, arrays, pattern):
    np.savez(tmp_path / "m.npz", **arrays)
    with pytest.raises(ShapeError, match=pattern) as info:
        load_npz(tmp_path / "m.npz")
    assert isinstance(info.value, ModelFileError)


def test_missing_and_unknown_arrays(tmp_path):
    np.savez(tmp_path / "a.npz", weights=np.ones((2, 2)))
    with pytest.raises(ModelFileError, match="has no array 'W0'"):
        load_npz(tmp_path / "a.npz")
    np.savez(tmp_path / "b.npz", W0=np.ones((2, 2)), extra=np.ones(2))
    with pytest.raises(ModelFileError, match=r"unexpected arrays \['extra'\]"):
        load_npz(tmp_path / "b.npz")


def test_plain_object_array_refused(tmp_path):
    np.savez(tmp_path / "m.npz", W0=np.array([[Fraction(1, 3)]], dtype=object))
    with pytest.raises(ModelFileError, match="'W0' is an object array"):
        load_npz(tmp_path / "m.npz")


# ---------------------------------------------------------------------------------------
# malicious pickles are never executed
# ---------------------------------------------------------------------------------------


def test_malicious_payload_is_real(tmp_path):
    """Sanity check of the test payload itself: unpickling it does create the marker."""
    marker = tmp_path / "sanity"
    pickle.loads(pickle.dumps(_Malicious(str(marker))))  # lint: allow-unpickle (proves the payload is real)
    assert marker.exists()


def test_malicious_object_array_in_npz_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    evil = np.empty(1, dtype=object)
    evil[0] = _Malicious(str(marker))
    np.savez(tmp_path / "evil.npz", W0=evil)
    with pytest.raises(ModelFileError, match="object array"):
        load_npz(tmp_path / "evil.npz")
    with pytest.raises(ModelFileError, match="object array"):
        load(tmp_path / "evil.npz")
    np.savez(tmp_path / "evil2.npz", W0=np.ones((1, 1)), activation=evil)
    with pytest.raises(ModelFileError, match="object array"):
        load(tmp_path / "evil2.npz")
    assert not marker.exists()


@pytest.mark.parametrize("name", ["evil.pkl", "evil.npz", "evil.json", "evil.onnx", "evil"])
@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_raw_pickle_never_runs(tmp_path, name, protocol):
    marker = tmp_path / "pwned"
    path = tmp_path / name
    path.write_bytes(pickle.dumps(_Malicious(str(marker)), protocol=protocol))
    with pytest.raises(ModelFileError, match=None if name.endswith(".onnx") else "pickle"):
        load(path)
    if not name.endswith(".onnx"):
        with pytest.raises(ModelFileError):
            load_npz(path)
    assert not marker.exists()


def test_pickle_inside_zip_never_runs(tmp_path):
    """A zip holding a pickle (as a PyTorch checkpoint does) is refused, not unpickled."""
    marker = tmp_path / "pwned"
    with zipfile.ZipFile(tmp_path / "ckpt.pt", "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps(_Malicious(str(marker))))
    with pytest.raises(ModelFileError, match="never unpickles"):
        load(tmp_path / "ckpt.pt")
    assert not marker.exists()


# ---------------------------------------------------------------------------------------
# hostile .npz files: typed errors from names, declared sizes and .npy headers, before any
# array is decompressed (exactmaso.io.limits)
# ---------------------------------------------------------------------------------------


def _npy_header(shape, descr="<f8") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def _zip(path, members: dict) -> str:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return str(path)


@pytest.mark.parametrize("data", [b"hello world, not an npy array", b"", b"\x93NUMPY\x01\x00\xff\xff{'descr'"])
def test_npz_member_not_npy_is_model_file_error(tmp_path, data):
    path = _zip(tmp_path / "m.npz", {"W0.npy": data})
    with pytest.raises(ModelFileError, match="W0 is not a readable .npy array"):
        load(path)


def test_npz_member_without_npy_name_is_model_file_error(tmp_path):
    path = _zip(tmp_path / "m.npz", {"W0.npy": _npy_header((1, 1)) + bytes(8), "notes.txt": b"hi"})
    with pytest.raises(ModelFileError, match="member 'notes.txt' is not an .npy array"):
        load_npz(path)


@pytest.mark.parametrize("shape", [(0, 3), (3, 0)])
def test_npz_zero_size_array_is_shape_error(tmp_path, shape):
    np.savez(tmp_path / "m.npz", W0=np.zeros(shape))
    with pytest.raises(ShapeError, match=rf"W0 has shape \({shape[0]}, {shape[1]}\); every dimension must be at least 1") as info:
        load(tmp_path / "m.npz")
    assert isinstance(info.value, ModelFileError)


@pytest.mark.parametrize(
    "shape, pattern",
    [((10**9, 10**9), "1,000,000,000 along axis 0.*MAX_DIM"), ((2**20, 2**10), "1,073,741,824 entries.*MAX_ENTRIES")],
)
def test_npz_huge_header_shape_is_refused_before_reading(tmp_path, shape, pattern):
    path = _zip(tmp_path / "m.npz", {"W0.npy": _npy_header(shape) + bytes(64)})
    with pytest.raises(ModelFileError, match=pattern):
        load(path)


def test_npz_zip_bomb_is_refused_from_declared_sizes(tmp_path):
    """280 KB that would inflate to a 6000 x 6000 float64 array (288 MB, minutes as exact numbers)."""
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open("W0.npy", "w", force_zip64=True) as fp:
            fp.write(_npy_header((6000, 6000)))
            chunk = bytes(1 << 22)
            for _ in range(6000 * 6000 * 8 // len(chunk)):
                fp.write(chunk)
            fp.write(bytes(6000 * 6000 * 8 % len(chunk)))
    assert path.stat().st_size < 2_000_000
    start = time.perf_counter()
    with pytest.raises(ModelFileError, match=r"W0 has shape \(6000, 6000\), 36,000,000 entries; at most 16,777,216"):
        load(path)
    assert time.perf_counter() - start < 1.0


def test_npz_uncompressed_size_over_the_cap_is_refused(tmp_path, monkeypatch):
    np.savez_compressed(tmp_path / "m.npz", W0=np.zeros((50, 50)))
    assert (tmp_path / "m.npz").stat().st_size < 1000
    monkeypatch.setattr(em.io.limits, "MAX_FILE_BYTES", 10_000)
    with pytest.raises(ModelFileError, match=r"\(uncompressed\) holds 20,128 bytes of model data; at most 10,000.*MAX_FILE_BYTES"):
        load_npz(tmp_path / "m.npz")


def test_npz_masos_over_the_cap_are_refused_before_reading(tmp_path, monkeypatch):
    W, b = _weights(9)  # sizes 3, 6, 4, 2: MASO numbers 6*2*4 + 4*2*7 + 2*1*5 = 114
    save_npz(W, tmp_path / "m.npz", biases=b)
    monkeypatch.setattr(em.io.limits, "MAX_MASO_ENTRIES", 110)
    with pytest.raises(ModelFileError, match="the MASO layer of W2 brings the model to 114 numbers in its MASO form"):
        load_npz(tmp_path / "m.npz")
    monkeypatch.setattr(em.io.limits, "MAX_MASO_ENTRIES", 2**26)
    monkeypatch.setattr(em.io.limits, "MAX_ENTRIES", 30)
    with pytest.raises(ModelFileError, match="stored numbers; at most 30.*MAX_ENTRIES"):
        load_npz(tmp_path / "m.npz")


@pytest.mark.parametrize("extra", [-8, 8])
def test_npz_data_size_disagreeing_with_header_is_model_file_error(tmp_path, extra):
    data = _npy_header((3, 3)) + bytes(72 + extra)
    path = _zip(tmp_path / "m.npz", {"W0.npy": data})
    with pytest.raises(ModelFileError, match=rf"W0 declares shape \(3, 3\) of float64 in its header \(200 bytes with the "
                                             rf"header\) but its zip member holds {200 + extra} bytes"):
        load_npz(path)


def test_npz_duplicate_members_are_refused(tmp_path):
    path = tmp_path / "m.npz"
    member = _npy_header((1, 1)) + bytes(8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
        _zip(path, {"W0.npy": member})
        with zipfile.ZipFile(path, "a") as zf:
            zf.writestr("W0.npy", member)
    with pytest.raises(ModelFileError, match="two members named 'W0.npy'"):
        load_npz(path)


@pytest.mark.parametrize("descr", ["<c16", "|b1", "|V8", "<M8[s]", "|S4", "<U0", [("a", "<f8")], "(2,)<f8"])
def test_npz_non_number_dtypes_are_refused_from_the_header(tmp_path, descr):
    path = _zip(tmp_path / "m.npz", {"W0.npy": _npy_header((1, 1), descr) + bytes(64)})
    with pytest.raises(ModelFileError, match="has dtype .*; expected float, int or unicode"):
        load_npz(path)


@pytest.mark.parametrize(
    "text, pattern",
    [
        ("1e999999999", "has 1,000,000,000 digits"),
        ("1e-999999999", "has 999,999,999 digits"),
        ("0." + "1" * 5000, "has 5,000 digits"),
        ("1e" + "9" * 20, "is the string '1e9999"),
        ("nan", "is the string 'nan'"),
        ("inf", "is the string 'inf'"),
        (".", "is the string '.'"),
        ("1_000", "is the string '1_000'"),
    ],
)
def test_npz_string_numbers_are_checked_before_expanding(tmp_path, text, pattern):
    np.savez(tmp_path / "m.npz", W0=np.array([["1/3", text]]))
    start = time.perf_counter()
    with pytest.raises(ModelFileError, match=r"W0\[0, 1\] " + pattern):
        load_npz(tmp_path / "m.npz")
    assert time.perf_counter() - start < 1.0


def test_npz_decimal_and_exponent_strings_are_exact(tmp_path):
    np.savez(tmp_path / "m.npz", W0=np.array([["0.125", "-3/4", "1.5e2", "2E-3", " 7 "]]))
    assert load_npz(tmp_path / "m.npz").masos[0].A[0, 0].tolist() == [
        Fraction(1, 8), Fraction(-3, 4), Fraction(150), Fraction(1, 500), Fraction(7)]


def test_npz_strings_longer_than_the_digit_cap_allows_are_refused_from_the_header(tmp_path):
    np.savez(tmp_path / "m.npz", W0=np.array([["1" * 9000]]))
    with pytest.raises(ModelFileError, match="strings of up to 9,000 characters.*MAX_DIGITS"):
        load_npz(tmp_path / "m.npz")


@pytest.mark.parametrize("act", ["leaky_relu(1e999999999)", "leaky_relu(" + "1" * 300 + ")", "relu" * 100])
def test_npz_activation_string_is_checked(tmp_path, act):
    np.savez(tmp_path / "m.npz", W0=np.ones((1, 1)), W1=np.ones((1, 1)), activation=np.array(act))
    start = time.perf_counter()
    with pytest.raises(ModelFileError, match="activation"):
        load_npz(tmp_path / "m.npz")
    assert time.perf_counter() - start < 1.0


def test_npz_input_shape_that_would_overflow_is_refused(tmp_path):
    np.savez(tmp_path / "m.npz", W0=np.ones((1, 1)), input_shape=np.array([2**32, 2**32], dtype=np.int64))
    with pytest.raises(ModelFileError, match="input_shape has shape .* along axis 0.*MAX_DIM"):
        load_npz(tmp_path / "m.npz")


def test_npz_missing_file_is_model_file_not_found_error(tmp_path):
    with pytest.raises(em.errors.ModelFileNotFoundError, match="m.npz does not exist; expected an .npz file") as info:
        load_npz(tmp_path / "m.npz")
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, ModelFileError)


# ---------------------------------------------------------------------------------------
# the content-sniffing loader on files that are no model
# ---------------------------------------------------------------------------------------


def test_load_sniffs_every_non_model(tmp_path):
    (tmp_path / "empty.json").write_bytes(b"")
    with pytest.raises(ModelFileError, match="empty.json is empty"):
        load(tmp_path / "empty.json")
    with pytest.raises(ModelFileError, match="is a folder"):
        load(tmp_path)
    (tmp_path / "random.bin").write_bytes(np.random.default_rng(0).bytes(4096).replace(b"\x80", b"\x81"))
    with pytest.raises(ModelFileError, match="no format exactmaso reads"):
        load(tmp_path / "random.bin")
    with pytest.raises(em.errors.ModelFileNotFoundError, match="does not exist"):
        load(tmp_path / "missing.npz")


def test_load_refuses_a_fifo_without_blocking(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ModelFileError, match="not a regular file"):
        load(fifo)


def test_npz_array_with_too_many_axes_is_refused_from_the_header(tmp_path):
    """Found by fuzzing: an activation of shape (1,) * 3000 made numpy's reshape raise ValueError."""
    path = _zip(tmp_path / "m.npz", {"W0.npy": _npy_header((1, 1)) + bytes(8),
                                      "activation.npy": _npy_header((1,) * 3000, "<U4") + "relu".encode("utf-32-le")})
    with pytest.raises(ModelFileError, match="activation declares 3,000 axes; at most 32 are allowed.*MAX_AXES"):
        load_npz(path)


def test_npz_zip_directory_is_checked_before_zipfile_reads_it(tmp_path, monkeypatch):
    monkeypatch.setattr(em.io.limits, "MAX_LAYERS", 1)
    path = _zip(tmp_path / "m.npz", {f"x{i}.npy": b"" for i in range(5)})
    with pytest.raises(ModelFileError, match="its zip directory declares 5 members in [0-9,]+ bytes.*at most 4 members"):
        load_npz(path)
    monkeypatch.setattr(zipfile.ZipFile, "_RealGetContents", lambda self: pytest.fail("zipfile read the directory"))
    with pytest.raises(ModelFileError, match="declares 5 members"):
        load_npz(path)


def _as_zip64(data: bytes) -> bytes:
    """The same archive with its end record pointing to a ZIP64 end record (as for > 65535 members)."""
    import struct

    at = data.rfind(b"PK\x05\x06")
    entries, cd_size, cd_offset = struct.unpack("<HII", data[at + 10:at + 20])
    zip64 = struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, entries, entries, cd_size, cd_offset)
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, at, 1)
    end = data[at:at + 10] + struct.pack("<HII", 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF) + data[at + 20:]
    return data[:at] + zip64 + locator + end


def test_npz_zip64_directory_is_checked_too(tmp_path, monkeypatch):
    W, b = _weights(10)
    save_npz(W, tmp_path / "m.npz", biases=b)
    (tmp_path / "z.npz").write_bytes(_as_zip64((tmp_path / "m.npz").read_bytes()))
    assert load_npz(tmp_path / "z.npz") == load_npz(tmp_path / "m.npz")  # zipfile reads it as well
    monkeypatch.setattr(em.io.limits, "MAX_LAYERS", 1)
    with pytest.raises(ModelFileError, match="its zip directory declares 8 members"):
        load_npz(tmp_path / "z.npz")
