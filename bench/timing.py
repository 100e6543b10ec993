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


def interleaved(a, b, runs: int) -> tuple[list[float], list[float]]:
    """Seconds of ``runs`` calls of ``a`` and of ``b``, alternated (A B A B …) after
    one warm-up call of each, so that load on the machine hits both sides alike.

    :returns: the two lists of samples, in call order (``ratio(ta, tb)`` pairs them).
    """
    a()
    b()
    ta: list[float] = []
    tb: list[float] = []
    for i in range(runs):
        for fn, out in (((a, ta), (b, tb)) if i % 2 == 0 else ((b, tb), (a, ta))):
            t0 = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t0)
    return ta, tb


def ratio(ta: list[float], tb: list[float]) -> str:
    """``median [p10–p90]`` of the per-pair ratios ``ta[i] / tb[i]``."""
    ratios = sorted(x / y for x, y in zip(ta, tb))
    q = statistics.quantiles(ratios, n=10) if len(ratios) >= 2 else [ratios[0]] * 9
    return f"{statistics.median(ratios):.2f} [{q[0]:.2f}–{q[-1]:.2f}]"
