"""Long fuzzing run of the model readers (JSON, .npz, ONNX) through ``exactmaso.load``.

Each reader is fuzzed in its own child process for ``--minutes``: coverage-guided with
atheris (libFuzzer) over the exactmaso code, its mutations mixed with the byte-level and
structured mutators of ``tests/test_fuzz_readers.py``, starting from that file's seed models;
or, with ``--engine random`` (or when atheris is missing), by those mutators alone.

Every input must give a valid Network or an ExactMasoError.  Anything else is a crash; an
input running longer than ``--hang`` seconds is a hang.  Both are saved (input and traceback)
under ``--out``.  As in the tests, the caps of exactmaso.io.limits are lowered
(``FUZZ_CAPS``) so that every admitted input loads in seconds: a hang is then work the caps do
not bound.  The run prints its seed, and per reader the executions, typed errors by class,
valid networks, crashes and hangs.

    python scripts/fuzz_readers.py --minutes 10            # all three readers, one after another
    python scripts/fuzz_readers.py --readers onnx --minutes 1 --seed 7
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATS_EVERY = 2.0  # seconds between writes of the child's counters


# ---------------------------------------------------------------------------------------
# the child: one reader
# ---------------------------------------------------------------------------------------


class _Run:
    """Counters and saved findings of one reader's run, written to ``out/stats.json``."""

    def __init__(self, fuzz, kind: str, out: Path, hang: float, deadline: float) -> None:
        self.fuzz, self.kind, self.out, self.hang, self.deadline = fuzz, kind, out, hang, deadline
        self.names = fuzz.FILE_NAMES[kind]
        self.folder = tempfile.mkdtemp(prefix=f"fuzz-{kind}-")
        self.counts: collections.Counter = collections.Counter()
        self.typed: collections.Counter = collections.Counter()
        self.crashes: dict[str, dict] = {}
        self.hangs: list[str] = []
        self.slowest = 0.0
        self.started = time.monotonic()
        self.written = 0.0

    def one(self, data: bytes) -> None:
        name = self.names[data[-1] % len(self.names)] if data else self.names[0]
        (self.out / "current.bin").write_bytes(data)  # what was running if the process dies
        start = time.monotonic()
        outcome, error = self.fuzz.run_reader(data, name, self.folder, self.hang)
        self.slowest = max(self.slowest, time.monotonic() - start)
        self.counts["executions"] += 1
        self.counts[outcome] += 1
        if outcome == "typed":
            self.typed[type(error).__name__] += 1
        elif outcome == "crash":
            frame = traceback.extract_tb(error.__traceback__)[-1]
            key = f"{type(error).__name__} at {Path(frame.filename).name}:{frame.lineno}"
            if key not in self.crashes:
                path = self._save(data, "crash", self.fuzz.describe(outcome, error))
                self.crashes[key] = {"count": 0, "input": str(path), "message": str(error)[:300]}
            self.crashes[key]["count"] += 1
        elif outcome == "hang":
            self.hangs.append(str(self._save(data, "hang", f"over {self.hang} s")))
        now = time.monotonic()
        if now - self.written > STATS_EVERY:
            self.write()
        if now > self.deadline:
            self.write()
            os._exit(0)

    def _save(self, data: bytes, what: str, text: str) -> Path:
        path = self.out / f"{what}-{hashlib.sha1(data).hexdigest()[:12]}.bin"
        path.write_bytes(data)
        path.with_suffix(".txt").write_text(text)
        return path

    def write(self) -> None:
        self.written = time.monotonic()
        stats = {"reader": self.kind, "seconds": round(self.written - self.started, 1), **self.counts,
                 "typed_by_class": dict(self.typed), "crashes": self.crashes, "hangs": self.hangs,
                 "slowest_seconds": round(self.slowest, 3)}
        tmp = self.out / "stats.json.tmp"
        tmp.write_text(json.dumps(stats, indent=1))
        os.replace(tmp, self.out / "stats.json")


def _child(kind: str, seconds: float, seed: int, out: Path, hang: float, engine: str) -> None:
    sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
    atheris = None
    if engine == "atheris":
        try:
            import atheris
        except ImportError:
            print("atheris is not installed; using --engine random", file=sys.stderr)
    if atheris is not None:
        with atheris.instrument_imports(include=["exactmaso"]):
            import exactmaso  # noqa: F401  (instrumented for coverage)
    import test_fuzz_readers as fuzz

    import exactmaso.io.limits as limits

    for name, value in fuzz.FUZZ_CAPS.items():
        setattr(limits, name, value)
    run = _Run(fuzz, kind, out, hang, time.monotonic() + seconds)
    seeds = fuzz.seeds(kind)
    if atheris is None:
        rng = random.Random(seed)
        pool = list(seeds)
        while True:
            data = fuzz.mutate(kind, rng.choice(pool), rng)
            if rng.random() < 0.3:
                data = fuzz.mutate(kind, data, rng)
            run.one(data)
            if len(pool) < 200 and rng.random() < 0.05:
                pool.append(data)  # mutants of mutants
    corpus = out / "corpus"
    corpus.mkdir(exist_ok=True)
    for i, data in enumerate(seeds):
        (corpus / f"seed-{i}").write_bytes(data)

    def mutator(data: bytes, max_size: int, mutator_seed: int) -> bytes:
        rng = random.Random(mutator_seed)
        if rng.random() < 0.4:
            return atheris.Mutate(data, max_size)
        return fuzz.mutate(kind, data, rng)[:max_size]

    argv = [sys.argv[0], str(corpus), f"-seed={seed}", f"-max_total_time={int(seconds) + 60}", "-timeout=0",
            "-rss_limit_mb=6000", "-max_len=262144", "-print_final_stats=1", f"-artifact_prefix={out}{os.sep}"]
    atheris.Setup(argv, run.one, custom_mutator=mutator)
    atheris.Fuzz()


# ---------------------------------------------------------------------------------------
# the parent: one child per reader, then the figures
# ---------------------------------------------------------------------------------------


def _summary(kind: str, stats: dict, returncode: int | None, out: Path) -> str:
    lines = [f"{kind}: {stats.get('executions', 0):,} executions in {stats.get('seconds', 0)} s; "
             f"{stats.get('ok', 0):,} valid networks, {stats.get('typed', 0):,} typed errors "
             f"({', '.join(f'{k} {v:,}' for k, v in sorted(stats.get('typed_by_class', {}).items()))}); "
             f"crashes {stats.get('crash', 0)} ({len(stats.get('crashes', {}))} distinct), hangs {stats.get('hang', 0)}, "
             f"slowest input {stats.get('slowest_seconds', 0)} s"]
    for key, crash in stats.get("crashes", {}).items():
        lines.append(f"  crash {key} x{crash['count']}: {crash['message'][:120]} -> {crash['input']}")
    for path in stats.get("hangs", []):
        lines.append(f"  hang -> {path}")
    if returncode not in (0, None):
        current = out / "current.bin"
        lines.append(f"  the child process ended with code {returncode} (killed, out of memory or a C-level crash); "
                     f"the input it was running is {current}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readers", default="json,npz,onnx", help="comma-separated: json, npz, onnx")
    parser.add_argument("--minutes", type=float, default=10.0, help="per reader")
    parser.add_argument("--seed", type=int, default=None, help="default: random (printed)")
    parser.add_argument("--hang", type=float, default=10.0, help="seconds after which an input is a hang")
    parser.add_argument("--engine", choices=["atheris", "random"], default="atheris")
    parser.add_argument("--out", type=Path, default=None, help="where inputs and stats go (default: a new temp folder)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    out = args.out or Path(tempfile.mkdtemp(prefix="fuzz-readers-"))
    if args.child:
        _child(args.child, args.minutes * 60, seed, out, args.hang, args.engine)
        return 0
    print(f"seed {seed}; engine {args.engine}; {args.minutes:g} min per reader; hang over {args.hang:g} s; out {out}", flush=True)
    failed = False
    for kind in args.readers.split(","):
        folder = out / kind
        folder.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, __file__, "--child", kind, "--minutes", str(args.minutes), "--seed", str(seed),
               "--hang", str(args.hang), "--engine", args.engine, "--out", str(folder)]
        with open(folder / "child.log", "w") as log:
            try:
                code: int | None = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT,
                                                  timeout=args.minutes * 60 + 5 * args.hang + 120).returncode
            except subprocess.TimeoutExpired:
                code = -9
        stats_file = folder / "stats.json"
        stats = json.loads(stats_file.read_text()) if stats_file.exists() else {}
        print(_summary(kind, stats, code, folder), flush=True)
        failed |= bool(stats.get("crash") or stats.get("hang") or code not in (0, None))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
