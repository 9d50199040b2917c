"""Converting convolutional networks: time and peak memory of from_torch, restrict, affine_map.

Networks (torch random initialisation after ``torch.manual_seed(0)``, float32 weights,
converted exactly):

  small  Conv2d(1->4, 3) ReLU MaxPool2d(2) Conv2d(4->8, 3) ReLU MaxPool2d(2) Flatten Linear(8, 10)
         on 1x12x12;
  mnist  Conv2d(1->16, 3) ReLU MaxPool2d(2) Conv2d(16->32, 3) ReLU MaxPool2d(2) Flatten
         Linear(800, 10) on 1x28x28.

Each network is measured in its own child process (peak RSS is the child's ``ru_maxrss``):
conversion, ``net.restrict(*em.plane(x0, x1, x2))`` through three random images,
``net.affine_map(x)`` at a random image, and the exact forward pass ``net(x)``.  A step that
fails (a MemoryError, a time-out) is reported instead of its time.

    python benchmarks/bench_convert.py [small] [mnist] [--timeout S] [--storage auto|dense|sparse]
                                        [--pythonpath DIR]

``--pythonpath DIR`` imports exactmaso from DIR instead, e.g. the code before a change:
``mkdir /tmp/old && git archive HEAD exactmaso | tar -x -C /tmp/old``.

Measured on this machine (2 cores shared; ranges are idle .. loaded), before -> after
structured conversion; peak RSS includes ~256 MiB for importing torch and exactmaso:

  small  convert 0.65-1.4 s -> 0.018-0.027 s; affine_map 0.05-0.09 s either way; peak ~275 MiB
  mnist  convert did not finish in 300 s (8.1 GiB and growing) -> 0.25-0.52 s, 341 MiB peak;
         forward 0.07-0.1 s, affine_map 0.2-0.42 s, restrict to a plane 0.19-0.42 s,
         affine_map on the plane 0.26-0.41 s; --storage dense: DenseLimitError at once
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import time


def _maxrss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def make_model(name: str):
    import torch
    from torch import nn

    torch.manual_seed(0)
    if name == "small":
        model = nn.Sequential(
            nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(4, 8, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(8, 10),
        )
        return model.eval(), (1, 12, 12)
    if name == "mnist":
        model = nn.Sequential(
            nn.Conv2d(1, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(800, 10),
        )
        return model.eval(), (1, 28, 28)
    raise ValueError(f"unknown network {name!r}; expected small or mnist")


def _child(name: str, storage: str, pythonpath: str | None, queue) -> None:
    import sys

    if pythonpath:
        sys.path.insert(0, pythonpath)
    import numpy as np

    import exactmaso as em

    out: dict = {"name": name}
    try:
        model, shape = make_model(name)
        rng = np.random.default_rng(0)
        images = [rng.random(shape).astype(np.float32) for _ in range(3)]
        out["rss_start"] = _maxrss_mib()
        t0 = time.perf_counter()
        from exactmaso.io.torch_io import from_torch

        kwargs = {} if storage == "default" else {"storage": storage}
        net = from_torch(model, input_shape=shape, **kwargs)
        out["convert_s"] = time.perf_counter() - t0
        out["convert_rss"] = _maxrss_mib()
        queue.put(dict(out))
        t0 = time.perf_counter()
        y = net(images[0])
        out["forward_s"] = time.perf_counter() - t0
        import torch

        with torch.no_grad():
            ref = model.double()(torch.tensor(images[0][None], dtype=torch.float64)).numpy()[0]
        out["forward_err"] = float(np.max(np.abs(np.array([float(v) for v in y]) - ref)))
        queue.put(dict(out))
        t0 = time.perf_counter()
        aff = net.affine_map(images[0])
        out["affine_map_s"] = time.perf_counter() - t0
        x = np.array([em.to_fraction(v) for v in images[0].reshape(-1)], dtype=object)
        out["affine_map_ok"] = bool(all(a == b for a, b in zip(aff(x), y)))
        queue.put(dict(out))
        t0 = time.perf_counter()
        M, c = em.plane(*images)
        sliced = net.restrict(M, c)
        out["restrict_s"] = time.perf_counter() - t0
        out["restrict_ok"] = bool(all(a == b for a, b in zip(sliced([1, 0]), net(images[1]))))
        t0 = time.perf_counter()
        sliced.affine_map([0.25, 0.5])
        out["slice_affine_map_s"] = time.perf_counter() - t0
        out["rss_peak"] = _maxrss_mib()
    except BaseException as exc:  # report, do not hide: the parent prints it
        out["error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
        out["rss_peak"] = _maxrss_mib()
    queue.put(out)


def measure(name: str, storage: str, timeout: float, pythonpath: str | None = None) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(name, storage, pythonpath, queue))
    t0 = time.perf_counter()
    proc.start()
    last: dict = {"name": name}
    while proc.is_alive() or not queue.empty():
        try:
            last = queue.get(timeout=0.5)
        except Exception:
            pass
        if time.perf_counter() - t0 > timeout and proc.is_alive():
            proc.kill()
            last["error"] = f"timed out after {timeout:.0f} s"
            break
    proc.join()
    return last


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("nets", nargs="*", default=["small", "mnist"])
    ap.add_argument("--timeout", type=float, default=600.0)
    ap.add_argument("--storage", default="default", help="from_torch storage= (default: its own default)")
    ap.add_argument("--pythonpath", help="import exactmaso from this folder (e.g. an older version)")
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args()
    rows = [measure(name, args.storage, args.timeout, args.pythonpath) for name in args.nets]
    keys = ["rss_start", "convert_s", "convert_rss", "forward_s", "forward_err", "affine_map_s", "affine_map_ok",
            "restrict_s", "restrict_ok", "slice_affine_map_s", "rss_peak", "error"]
    print(f"{'net':6s} " + " ".join(f"{k:>{max(len(k), 6)}s}" for k in keys[:-1]))
    for r in rows:
        print(f"{r['name']:6s} " + " ".join(f"{_fmt(r.get(k, '-')):>{max(len(k), 6)}s}" for k in keys[:-1]))
        if "error" in r:
            print(f"         error: {r['error']}")
    print("(seconds; RSS in MiB: rss_start after importing torch and exactmaso, convert_rss the peak after "
          "conversion, rss_peak the peak overall)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
