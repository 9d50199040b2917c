"""Running an enumeration: limits and progress (:class:`Monitor`), waiting on workers,
and splitting work into contiguous chunks (balanced, or bounded in size)."""

from __future__ import annotations

import sys
import time
from typing import Any, Sequence

import numpy as np

from ..errors import LimitError


def balanced_chunks(work: np.ndarray, n: int) -> np.ndarray:
    """Bounds ``0 = b_0 < ... < b_m = len(work)`` (m <= n) of contiguous chunks whose summed
    ``work`` is about equal (each chunk ends where the running total passes its share)."""
    total = np.cumsum(work, dtype=float)
    if not len(total):
        return np.array([0], dtype=np.int64)
    cuts = np.searchsorted(total, total[-1] * np.arange(1, n) / n, side="right")
    return np.unique(np.concatenate([[0], np.clip(cuts, 1, len(work) - 1) if len(work) > 1 else [], [len(work)]])).astype(np.int64)


_WARM = False


def warm_allocator() -> None:
    """Once per process: allocate and free one 30 MB block (never touched).

    glibc's malloc serves blocks above a threshold (128 KiB at start) by fresh mappings that
    are returned to the system when freed, and it raises that threshold to the size of the
    largest such block freed so far (up to 32 MiB).  A layer's cuts allocate and free many
    temporaries of a few MiB each; in a process that has not yet freed a large block each of
    them is a fresh mapping whose pages fault in again (N8: 98k page faults, 0.2-0.4 s of
    system time on the first enumeration, 6k on the second).  Freeing one large block first
    puts the allocator in the state the second enumeration starts in, so the temporaries reuse
    the heap.  Elsewhere (another allocator) this is one untouched allocation.
    """
    global _WARM
    if not _WARM:
        _WARM = True
        np.empty((30 << 20) // 8)  # allocated and, unreferenced, freed at once


def runs(sizes: np.ndarray, limit: int) -> list[tuple[int, int]]:
    """Bounds ``(a, b)`` of consecutive runs of items whose ``sizes`` add up to at most
    ``limit`` (a run holds at least one item), covering all of them."""
    n = len(sizes)
    if not n or int(sizes.sum()) <= limit:
        return [(0, n)]
    total = np.cumsum(sizes)
    cuts = [0]
    while cuts[-1] < n:
        base = total[cuts[-1] - 1] if cuts[-1] else 0
        cuts.append(max(cuts[-1] + 1, int(np.searchsorted(total, base + limit, side="right"))))
    return list(zip(cuts[:-1], cuts[1:]))


def wait_result(fut: Any, futures: Sequence[Any], monitor: "Monitor | None", regions: int) -> Any:
    """``fut.result()``, waiting no longer than the monitor's time limit allows.

    On time-out the other futures are cancelled and :class:`~exactmaso.errors.LimitError` is
    raised (with ``regions``, a lower bound on the count).
    """
    import concurrent.futures as cf

    timeout = None if monitor is None else monitor.remaining()
    try:
        return fut.result(timeout=timeout)
    except cf.TimeoutError:
        for f in futures:
            f.cancel()
        monitor.tick(regions)  # past the limit: raises LimitError
        raise  # pragma: no cover - tick raised


class Monitor:
    """Limits and progress of one enumeration.

    The engines call :meth:`tick` often (at every cut, every wavefront step and every exact
    fallback) with a lower bound on the number of regions; it raises
    :class:`~exactmaso.errors.LimitError` as soon as ``max_regions`` is exceeded or
    ``time_limit`` seconds have passed, and redraws a one-line progress report on stderr at
    most every 0.25 s when ``progress`` is on.
    """

    INTERVAL = 0.25

    def __init__(self, *, max_regions: int | None = None, time_limit: float | None = None, progress: bool = False) -> None:
        self.max_regions = max_regions
        self.time_limit = time_limit
        self.progress = progress
        self.start = time.perf_counter()
        self.last = self.start
        self.stage = ""

    def remaining(self) -> float | None:
        """Seconds left before the time limit (None without one)."""
        if self.time_limit is None:
            return None
        return max(0.0, self.time_limit - (time.perf_counter() - self.start))

    def tick(self, regions: int) -> None:
        if self.max_regions is not None and regions > self.max_regions:
            self.show(regions, final=True)
            raise LimitError(f"more than max_regions={self.max_regions} regions: at least {regions} found", count=regions)
        if self.time_limit is None and not self.progress:
            return
        now = time.perf_counter()
        if self.time_limit is not None and now - self.start > self.time_limit:
            self.show(regions, final=True)
            raise LimitError(f"time_limit={self.time_limit} s reached with at least {regions} regions", count=regions)
        if self.progress and now - self.last >= self.INTERVAL:
            self.show(regions)

    def show(self, regions: int, final: bool = False) -> None:
        if not self.progress:
            return
        now = time.perf_counter()
        self.last = now
        elapsed = now - self.start
        rate = regions / max(elapsed, 1e-9)
        stage = f"{self.stage}: " if self.stage and not final else ""
        sys.stderr.write(f"\rexactmaso: {stage}{regions:,} regions ({rate:,.0f}/s, {elapsed:.1f} s)    ")
        if final:
            sys.stderr.write("\n")
        sys.stderr.flush()
