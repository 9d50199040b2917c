"""Fuzzing the model readers: a mutated JSON, .npz or ONNX file gives a valid Network or an
ExactMasoError -- never another exception, never a hang.

Seeds are small valid models of each format.  Mutations are byte-level (flips, truncation,
insertions, deletions, splices between seeds) and structured: the JSON tree (huge integers and
rationals, deep nesting, wrong types, NaN, negative or empty dimensions), the ``.npz`` members
and ``.npy`` headers (shapes, dtypes, names, sizes), the ONNX protobuf fields (dims, data
types, data lengths, attributes, inputs and outputs, external data).  The same seeds and
mutators drive the long run of ``scripts/fuzz_readers.py``; here each example runs under a
deadline and the whole file takes well under a minute.
"""

from __future__ import annotations

import functools
import io
import json
import math
import os
import pickle
import random
import signal
import tempfile
import traceback
import warnings
import zipfile
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import exactmaso as em
from exactmaso.errors import ExactMasoError

KINDS = ("json", "npz", "onnx")
FILE_NAMES = {"json": ("m.json", "model"), "npz": ("m.npz", "model.bin"), "onnx": ("m.onnx",)}
HANG_SECONDS = 10.0

# Fuzzing runs with lower caps: every input they admit then loads within a few seconds, so an
# input that takes HANG_SECONDS is work the caps do not bound (at the default caps an admitted
# model may take up to about a minute: see exactmaso.io.limits).
FUZZ_CAPS = {"MAX_MASO_ENTRIES": 2**20, "MAX_ENTRIES": 2**20, "MAX_FILE_BYTES": 2**24}


# ---------------------------------------------------------------------------------------
# running a reader on one input
# ---------------------------------------------------------------------------------------


class Hang(BaseException):
    """Raised by the alarm when a reader runs longer than the time limit (a BaseException, so
    that no reader's ``except Exception`` can swallow it)."""


def _alarm(signum: int, frame: Any) -> None:
    raise Hang()


def run_reader(data: bytes, name: str, folder: str, seconds: float = HANG_SECONDS) -> tuple[str, BaseException | None]:
    """Write ``data`` to ``folder/name`` and load it with :func:`exactmaso.load`.

    Returns ``("ok", None)`` for a valid network, ``("typed", error)`` for an ExactMasoError,
    ``("hang", None)`` past ``seconds`` and ``("crash", error)`` for any other exception.
    """
    path = os.path.join(folder, name)
    with open(path, "wb") as fh:
        fh.write(data)
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        net = em.load(path)
        _check_network(net)
    except Hang:
        return "hang", None
    except ExactMasoError as exc:
        return "typed", exc
    except Exception as exc:  # noqa: BLE001 - classifying every failure is the point
        return "crash", exc
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return "ok", None


def _check_network(net: Any) -> None:
    """A loaded network is a Network whose layers chain and which evaluates at zero."""
    if not isinstance(net, em.Network):
        raise AssertionError(f"em.load returned a {type(net).__name__}, not a Network")
    if math.prod(net.input_shape) != net.input_dim:
        raise AssertionError(f"input_shape {net.input_shape} does not hold {net.input_dim} inputs")
    if net.input_dim <= 2048:
        out = net(np.zeros(net.input_dim, dtype=np.int64))
        if out.shape != (net.output_dim,) or not all(type(v) is Fraction for v in out):
            raise AssertionError(f"the forward pass gives {out!r:.80}")


def describe(outcome: str, error: BaseException | None) -> str:
    if error is None:
        return outcome
    return f"{outcome}: {type(error).__name__}: {str(error)[:300]}\n" + "".join(traceback.format_exception(error)[-6:])


# ---------------------------------------------------------------------------------------
# seeds: small valid models of each format
# ---------------------------------------------------------------------------------------


def _json_seeds() -> list[bytes]:
    rng = np.random.default_rng(0)
    mlp = em.mlp([rng.standard_normal((3, 2)).astype(np.float32), rng.standard_normal((1, 3))],
                 [rng.standard_normal(3), ["1/3"]])
    cnn = em.Network([em.Conv2d(rng.standard_normal((2, 1, 3, 3)), rng.standard_normal(2), padding=1), em.ReLU(),
                      em.MaxPool2d(2), em.Flatten(), em.Dense(rng.standard_normal((2, 8)))], input_shape=(1, 4, 4))
    rational = em.Network([em.Dense([["1/3", "-2/7"], [5, "1"]], ["1/1000000007", "-3"]), em.Abs(),
                           em.Dense([["123456789123456789/2", "0"]], ["0"])])
    return [em.io.json_io.dumps(net).encode() for net in (mlp, cnn, rational)]


def _npz_bytes(write: Callable[[str], None]) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "m.npz")
        write(path)
        return Path(path).read_bytes()


def _npz_seeds() -> list[bytes]:
    rng = np.random.default_rng(1)
    W = [rng.standard_normal((3, 2)), rng.standard_normal((2, 3)).astype(np.float32)]
    b = [rng.standard_normal(3), np.zeros(2)]
    return [
        _npz_bytes(lambda p: em.io.save_npz(W, p, biases=b)),
        _npz_bytes(lambda p: em.io.save_npz([[["1/3", "2"]], [["-1/7"]]], p, activation="leaky_relu(1/10)")),
        _npz_bytes(lambda p: np.savez_compressed(p, W0=np.ones((2, 4), np.int8), W1=np.ones((1, 2)),
                                                 input_shape=np.array([2, 2]), activation=np.array("abs"))),
    ]


def _onnx_seeds() -> list[bytes]:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(2)

    def model(nodes, inits, in_shape, out_shape):
        graph = helper.make_graph(
            nodes, "g",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", *in_shape])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", *out_shape])],
            initializer=[numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()],
        )
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString()

    f32 = np.float32
    mlp = model(
        [helper.make_node("Gemm", ["x", "W1", "b1"], ["h"], name="g1", transB=1),
         helper.make_node("Relu", ["h"], ["r"], name="relu"),
         helper.make_node("Gemm", ["r", "W2"], ["y"], name="g2", transB=1, alpha=0.5)],
        {"W1": rng.standard_normal((3, 2)).astype(f32), "b1": rng.standard_normal(3).astype(f32),
         "W2": rng.standard_normal((1, 3)).astype(f32)}, [2], [1])
    cnn = model(
        [helper.make_node("Constant", [], ["Wc"], value=numpy_helper.from_array(rng.standard_normal((2, 1, 3, 3)).astype(f32))),
         helper.make_node("Conv", ["x", "Wc", "bc"], ["c"], name="conv", pads=[1, 1, 1, 1], kernel_shape=[3, 3], strides=[1, 1]),
         helper.make_node("Relu", ["c"], ["r"], name="relu"),
         helper.make_node("MaxPool", ["r"], ["m"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
         helper.make_node("Flatten", ["m"], ["f"], name="flat", axis=1),
         helper.make_node("MatMul", ["f", "Wd"], ["d"], name="mm"),
         helper.make_node("Add", ["d", "bd"], ["y"], name="bias")],
        {"bc": rng.standard_normal(2).astype(f32), "Wd": rng.standard_normal((8, 2)).astype(f32),
         "bd": rng.standard_normal(2).astype(f32)}, [1, 4, 4], [2])
    residual = model(
        [helper.make_node("Relu", ["x"], ["r"], name="relu0"),
         helper.make_node("Gemm", ["r", "W"], ["g"], name="gemm", transB=1),
         helper.make_node("LeakyRelu", ["g"], ["gr"], name="lrelu", alpha=0.25),
         helper.make_node("Add", ["gr", "r"], ["s"], name="skip"),
         helper.make_node("BatchNormalization", ["s", "sc", "bi", "me", "va"], ["bn"], name="bn", epsilon=1e-5),
         helper.make_node("Abs", ["bn"], ["y"], name="abs")],
        {"W": rng.standard_normal((3, 3)).astype(f32), "sc": np.ones(3, f32), "bi": np.zeros(3, f32),
         "me": rng.standard_normal(3).astype(f32), "va": np.ones(3, f32)}, [3], [3])
    pools = model(
        [helper.make_node("AveragePool", ["x"], ["a"], name="avg", kernel_shape=[2], strides=[2]),
         helper.make_node("Reshape", ["a", "shape"], ["f"], name="flat"),
         helper.make_node("Identity", ["f"], ["i"], name="id"),
         helper.make_node("Dropout", ["i"], ["y"], name="drop")],
        {"shape": np.array([0, -1], np.int64)}, [2, 4], [4])
    return [mlp, cnn, residual, pools]


@functools.cache
def seeds(kind: str) -> tuple[bytes, ...]:
    return tuple({"json": _json_seeds, "npz": _npz_seeds, "onnx": _onnx_seeds}[kind]())


# ---------------------------------------------------------------------------------------
# byte-level mutations
# ---------------------------------------------------------------------------------------

_INTERESTING = [b"\x00" * 8, b"\xff" * 8, b"\xff\xff\xff\xff\x0f", b"\x80" * 9 + b"\x01", b"9" * 40, b"[" * 40,
                b"{", b'"', b"-", b"/0", b"e999999", b"NaN", b"\x93NUMPY", b"PK\x03\x04", b"PK\x05\x06"]


def mutate_bytes(data: bytes, rng: random.Random, pool: tuple[bytes, ...]) -> bytes:
    """One to four byte-level edits: flips, truncation, insertion, deletion, duplication,
    splicing with another seed, interesting values."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(7)
        n = len(out)
        i = rng.randrange(n + 1)
        if op == 0 and n:
            for _ in range(rng.randint(1, 8)):
                out[rng.randrange(n)] ^= 1 << rng.randrange(8)
        elif op == 1:
            del out[i:]
        elif op == 2:
            out[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        elif op == 3:
            del out[i:i + rng.randint(1, 64)]
        elif op == 4:
            j = rng.randrange(n + 1)
            out[i:i] = out[min(i, j):max(i, j)][:4096]
        elif op == 5:
            other = rng.choice(pool)
            out = out[:i] + other[rng.randrange(len(other) + 1):]
        else:
            value = rng.choice(_INTERESTING)
            out[i:i + (len(value) if rng.random() < 0.5 else 0)] = value
    return bytes(out)


# ---------------------------------------------------------------------------------------
# structured mutations of the JSON tree
# ---------------------------------------------------------------------------------------

_LARGEST_MUTANT = 2**20  # characters of JSON text a structured mutation may produce
_MARK = "@@raw{}@@"  # a string replaced by raw JSON text after json.dumps (huge ints, NaN, nesting)


def _json_paths(value: Any, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _json_paths(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value[:6]):
            out += _json_paths(v, path + (i,))
    return out


def _json_replacement(rng: random.Random, raw: list[str], old: Any) -> Any:
    def marked(text: str) -> str:
        raw.append(text)
        return _MARK.format(len(raw) - 1)

    depth = rng.choice([5, 33, 200, 5000])
    choices: list[Callable[[], Any]] = [
        lambda: marked(("-" if rng.random() < 0.3 else "") + "1" + "0" * rng.choice([30, 4299, 4300, 5000, 20000])),
        lambda: "1/" + "9" * rng.choice([10, 4300, 4301, 10000]),
        lambda: "9" * rng.choice([4301, 6000]) + "/7",
        lambda: marked(rng.choice(["NaN", "Infinity", "-Infinity", "1e999", "-0.0", "0.1", "1E400"])),
        lambda: rng.choice(["NaN", "nan", "inf", "", "abc", "1/0", "-0/5", "0x10", "1_0", " 2 ", "1.5", "\u0661"]),
        lambda: rng.choice([None, True, False, 0, -1, 1, 2**63, -(2**63), 0.5, [], {}, [[]], "exactmaso-network"]),
        lambda: marked("[" * depth + "]" * depth),
        lambda: marked("{\"a\":" * depth + "1" + "}" * depth),
        lambda: [old] * (1000 if not isinstance(old, (list, dict)) else 2),
        lambda: [old],
        lambda: [-1] if rng.random() < 0.5 else [0, 2],
        lambda: [2**40, 2**40],
        lambda: str(old)[:100],
    ]
    return rng.choice(choices)()


def mutate_json(data: bytes, rng: random.Random) -> bytes:
    """One to three edits of the parsed JSON tree of a seed, written back as text."""
    try:
        tree = json.loads(data)
    except (ValueError, RecursionError):
        return data
    raw: list[str] = []
    for _ in range(rng.randint(1, 3)):
        paths = _json_paths(tree)
        path = rng.choice(paths)
        if not path:
            tree = _json_replacement(rng, raw, tree)
            continue
        parent = tree
        try:
            for key in path[:-1]:
                parent = parent[key]
            key = path[-1]
            op = rng.random()
            if op < 0.1 and isinstance(parent, (dict, list)):
                del parent[key]
            elif op < 0.2 and isinstance(parent, list):
                parent.insert(key, parent[key])  # a ragged or longer list
            else:
                parent[key] = _json_replacement(rng, raw, parent[key])
        except (KeyError, IndexError, TypeError):
            continue
    text = json.dumps(tree)
    for i, piece in enumerate(raw):
        mark = json.dumps(_MARK.format(i))
        if len(text) + text.count(mark) * (len(piece) - len(mark)) > _LARGEST_MUTANT:
            return data  # repeated subtrees: the mutator, not the reader, would run out of memory
        text = text.replace(mark, piece)
    return text.encode() if len(text) <= _LARGEST_MUTANT else data


# ---------------------------------------------------------------------------------------
# structured mutations of .npz members and .npy headers
# ---------------------------------------------------------------------------------------

_DESCRS = ["<f8", "<f4", "<f2", ">f8", "<i8", "|i1", "|u1", "<u8", "<U8", "<U2", "<U100000", "|O", "<c16", "|b1",
           "|V8", "|S4", "<M8[s]", "<U0", [("a", "<f8")], "(2,)<f8", "<f16"]
_SHAPES = [(), (0,), (0, 3), (3, 0), (1,), (2, 2), (3, 2), (2, 3), (1, 1, 1), (10**9, 10**9), (2**20 + 1,),
           (2**20, 2**10), (2**62,), (5000, 5000)]
_NAMES = ["W0.npy", "W1.npy", "W2.npy", "b0.npy", "b1.npy", "activation.npy", "input_shape.npy", "W0", "x.txt",
          "../W0.npy", "dir/", "data.pkl", "W00.npy", "w0.npy", "W0.npy.npy"]


def _npy(shape: Any, descr: Any, body: bytes, fortran: bool = False) -> bytes:
    buf = io.BytesIO()
    try:
        np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": fortran, "shape": shape})
    except Exception:  # noqa: BLE001 - a header numpy will not write: a hand-made one
        header = repr({"descr": descr, "fortran_order": fortran, "shape": shape}).encode() + b"\n"
        buf = io.BytesIO(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header)
    return buf.getvalue() + body


def _npy_parts(member: bytes) -> tuple[Any, Any, bytes]:
    """(shape, descr, data) of a valid .npy member, or a fallback."""
    try:
        fp = io.BytesIO(member)
        np.lib.format.read_magic(fp)
        shape, _, dtype = np.lib.format.read_array_header_1_0(fp)
        return shape, np.lib.format.dtype_to_descr(dtype), member[fp.tell():]
    except Exception:  # noqa: BLE001
        return (1,), "<f8", bytes(8)


def mutate_npz(data: bytes, rng: random.Random) -> bytes:
    """One to three edits of the members of a seed archive (headers, data, names, members)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = [(info.filename, zf.read(info)) for info in zf.infolist()]
    except Exception:  # noqa: BLE001
        return data
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(9)
        i = rng.randrange(len(members)) if members else None
        if i is None:
            members.append(("W0.npy", _npy((1, 1), "<f8", bytes(8))))
            continue
        name, member = members[i]
        shape, descr, body = _npy_parts(member)
        if op == 0:
            members[i] = (name, _npy(rng.choice(_SHAPES), descr, body))
        elif op == 1:
            members[i] = (name, _npy(shape, rng.choice(_DESCRS), body))
        elif op == 2:
            cut = rng.randrange(len(body) + 1)
            members[i] = (name, _npy(shape, descr, body[:cut] if rng.random() < 0.5 else body + body[:cut]))
        elif op == 3:
            members[i] = (rng.choice(_NAMES), member)
        elif op == 4:
            del members[i]
        elif op == 5:
            members.append((rng.choice(_NAMES), rng.choice([member, b"", pickle.dumps(Fraction(1, 3)), b"\x93NUMPY"])))
        elif op == 6:
            text = rng.choice(["{'descr': '<f8', 'fortran_order': False, 'shape': (2, -3), }",
                               "{'descr': '<f8', 'fortran_order': True, 'shape': (3, 2), }",
                               "{'descr': '<f8', 'shape': (2,), }", "{'descr': 1e999, }", "[1, 2, 3]",
                               "{'descr': '<f8', 'fortran_order': False, 'shape': (" + "1, " * 3000 + "), }",
                               "__import__('os').system('true')"]).encode()
            members[i] = (name, b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text + body)
        elif op == 7:
            values = np.array(rng.choice([["1e999999999"], ["1/" + "3" * 5000], ["nan"], ["1/0"], [" - 1"], ["leaky_relu(2)"],
                                          ["leaky_relu(1e99999)"], [""], ["x" * 300]]))
            buf = io.BytesIO()
            np.save(buf, values.reshape(rng.choice([(1,), (1, 1), ()])) if values.size == 1 else values)
            members[i] = (name, buf.getvalue())
        else:
            obj = np.empty(1, dtype=object)
            obj[0] = Fraction(1, 3)
            buf = io.BytesIO()
            np.save(buf, obj)  # written with pickle, as numpy does for object arrays; a reader must refuse it
            members[i] = (name, buf.getvalue())
    out = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if rng.random() < 0.5 else zipfile.ZIP_STORED
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names
        with zipfile.ZipFile(out, "w", method) as zf:
            for name, member in members:
                zf.writestr(name, member)
    return out.getvalue()


# ---------------------------------------------------------------------------------------
# structured mutations of ONNX protobuf fields
# ---------------------------------------------------------------------------------------

_DIMS = [0, -1, 1, 2, 3, 7, 1000, 2**20 + 1, 2**31, 2**62]
_OPS = ["Gemm", "MatMul", "Add", "Conv", "Relu", "LeakyRelu", "Abs", "MaxPool", "AveragePool", "BatchNormalization",
        "Flatten", "Reshape", "Identity", "Dropout", "Constant", "Sigmoid", "Loop", "If", "Mul"]


def _mutate_tensor(t: Any, rng: random.Random) -> None:
    op = rng.randrange(6)
    if op == 0 and len(t.dims):
        t.dims[rng.randrange(len(t.dims))] = rng.choice(_DIMS)
    elif op == 1:
        if rng.random() < 0.5 and len(t.dims):
            del t.dims[-1]
        else:
            t.dims.append(rng.choice(_DIMS))
    elif op == 2:
        t.data_type = rng.randrange(0, 30)
    elif op == 3:
        data = t.raw_data
        t.raw_data = data[: rng.randrange(len(data) + 1)] if rng.random() < 0.5 else data + bytes(rng.randint(1, 64))
    elif op == 4:
        t.ClearField("raw_data")
        t.float_data.extend([rng.choice([0.0, 1.0, float("nan"), float("inf")])] * rng.randint(0, 12))
    else:
        t.data_location = 1
        t.external_data.add(key="location", value=rng.choice(["../evil.bin", "/etc/passwd", "missing.bin", "m.onnx", ""]))
        if rng.random() < 0.5:
            t.external_data.add(key=rng.choice(["offset", "length"]), value=rng.choice(["abc", "-1", "99999999999", "1"]))


def _mutate_attribute(a: Any, rng: random.Random) -> None:
    op = rng.randrange(5)
    if op == 0:
        a.type = rng.choice([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14])  # the AttributeProto types
    elif op == 1:
        a.f = rng.choice([float("nan"), float("inf"), -1.0, 0.0, 1e30])
    elif op == 2:
        a.i = rng.choice([-1, 0, 2, 2**40, -(2**62)])
    elif op == 3:
        del a.ints[:]
        a.ints.extend([rng.choice(_DIMS) for _ in range(rng.randint(0, 5))])
    else:
        a.s = rng.choice([b"SAME_UPPER", b"VALID", b"\xff\xfe", b""])


def mutate_onnx(data: bytes, rng: random.Random) -> bytes:
    """One to three edits of the ModelProto of a seed: tensors, attributes, nodes, inputs."""
    from onnx import ModelProto

    model = ModelProto()
    try:
        model.ParseFromString(data)
    except Exception:  # noqa: BLE001
        return data
    graph = model.graph
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(7)
        tensors = list(graph.initializer) + [a.t for n in graph.node for a in n.attribute if a.HasField("t")]
        if op == 0 and tensors:
            _mutate_tensor(rng.choice(tensors), rng)
        elif op == 1 and graph.input:
            dims = graph.input[0].type.tensor_type.shape.dim
            if dims and rng.random() < 0.7:
                dims[rng.randrange(len(dims))].dim_value = rng.choice([d for d in _DIMS if d >= 0])
            elif dims and rng.random() < 0.5:
                del dims[-1]
            else:
                dims.add().dim_value = rng.choice([1, 2, 1000])
        elif op == 2 and graph.node:
            node = rng.choice(graph.node)
            if node.attribute:
                _mutate_attribute(rng.choice(node.attribute), rng)
            else:
                node.attribute.add(name=rng.choice(["kernel_shape", "pads", "alpha", "axis", "transB"]), type=rng.randrange(1, 15))
        elif op == 3 and graph.node:
            node = rng.choice(graph.node)
            field = node.input if rng.random() < 0.5 else node.output
            if field and rng.random() < 0.5:
                del field[rng.randrange(len(field))]
            else:
                field.append(rng.choice(["x", "y", "nowhere", "", "W1", "r"]))
        elif op == 4 and graph.node:
            node = rng.choice(graph.node)
            node.op_type = rng.choice(_OPS)
            if rng.random() < 0.2:
                node.domain = "com.microsoft"
        elif op == 5 and graph.node:
            if rng.random() < 0.5:
                graph.node.append(rng.choice(graph.node))
            else:
                del graph.node[rng.randrange(len(graph.node))]
        else:
            if rng.random() < 0.5 and graph.output:
                del graph.output[:]
            else:
                graph.input.add().CopyFrom(graph.input[0] if graph.input else graph.output[0])
    try:
        return model.SerializeToString()
    except Exception:  # noqa: BLE001
        return data


STRUCTURED = {"json": mutate_json, "npz": mutate_npz, "onnx": mutate_onnx}


def mutate(kind: str, data: bytes, rng: random.Random) -> bytes:
    """A byte-level or structured mutation of ``data`` (a ``kind`` file), chosen by ``rng``."""
    if rng.random() < 0.5:
        return STRUCTURED[kind](data, rng)
    return mutate_bytes(data, rng, seeds(kind))


# ---------------------------------------------------------------------------------------
# the properties
# ---------------------------------------------------------------------------------------

FUZZ = settings(max_examples=1000, deadline=3000, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def folder():
    """A scratch folder, with the fuzzing caps set for the module's tests."""
    with pytest.MonkeyPatch.context() as mp, tempfile.TemporaryDirectory() as path:
        for name, value in FUZZ_CAPS.items():
            mp.setattr(em.io.limits, name, value)
        yield path


def _assert_network_or_typed_error(kind: str, data: bytes, name: str, folder: str) -> None:
    outcome, error = run_reader(data, name, folder)
    assert outcome in ("ok", "typed"), f"{kind} input of {len(data)} bytes: {describe(outcome, error)}"


@pytest.mark.parametrize("kind", KINDS)
def test_seeds_load(kind, folder):
    for data in seeds(kind):
        assert run_reader(data, FILE_NAMES[kind][0], folder) == ("ok", None)


@pytest.mark.parametrize("kind", KINDS)
@FUZZ
@given(rng=st.randoms(use_true_random=False), which=st.integers(0, 7))
def test_byte_mutations_give_a_network_or_a_typed_error(kind, folder, rng, which):
    pool = seeds(kind)
    data = mutate_bytes(pool[which % len(pool)], rng, pool)
    names = FILE_NAMES[kind]
    _assert_network_or_typed_error(kind, data, names[which % len(names)], folder)


@pytest.mark.parametrize("kind", KINDS)
@FUZZ
@given(rng=st.randoms(use_true_random=False), which=st.integers(0, 7))
def test_structured_mutations_give_a_network_or_a_typed_error(kind, folder, rng, which):
    pool = seeds(kind)
    data = STRUCTURED[kind](pool[which % len(pool)], rng)
    if rng.random() < 0.3:
        data = STRUCTURED[kind](data, rng)
    names = FILE_NAMES[kind]
    _assert_network_or_typed_error(kind, data, names[which % len(names)], folder)


@settings(max_examples=300, deadline=3000, derandomize=True, database=None)
@given(data=st.binary(max_size=2048), name=st.sampled_from(["m.json", "m.npz", "m.onnx", "model"]))
def test_random_bytes_give_a_typed_error(folder, data, name):
    if name == "m.onnx":
        pytest.importorskip("onnx")
    _assert_network_or_typed_error("random", data, name, folder)
