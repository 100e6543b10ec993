"""Timing helper shared by the benchmark scripts in bench/."""

from __future__ import annotations

import statistics
import time


def timed(fn, runs: int) -> float:
    """Median seconds of ``runs`` calls of ``fn`` after one warm-up call
    (imports, caches and grammar compilation are not counted)."""
    fn()
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)
