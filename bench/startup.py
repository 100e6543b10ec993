"""Benchmark: start-up of the ``gipextract`` command vs a bare Python start.

    python bench/startup.py [-n ROUNDS]

Runs, interleaved (A B C A B C …, so that a noisy machine slows every side
alike), whole processes of

* ``python -c pass`` (the floor),
* ``gipextract --version``,
* ``gipextract -h``,

and prints, for each command, the median wall time and the median of the
per-round ratios to the ``python -c pass`` of the same round, with the spread
(the 10th–90th percentile of those ratios).  Target: each ratio ≤ 4.

The command is the console script beside the interpreter (``.venv/bin/gipextract``,
the whole process a user starts), else ``python -m gipextract.cli``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

_SCRIPT = Path(sys.executable).with_name("gipextract")
_CLI = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "gipextract.cli"]
SIDES = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "gipextract --version": [*_CLI, "--version"],
    "gipextract -h": [*_CLI, "-h"],
}


def _run(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


def main() -> None:
    """Run the rounds and print one line per command."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", "--rounds", type=int, default=30)
    args = ap.parse_args()
    for cmd in SIDES.values():  # warm the file cache and the bytecode
        _run(cmd)
    times: dict[str, list[float]] = {name: [] for name in SIDES}
    for _ in range(args.rounds):
        for name, cmd in SIDES.items():
            times[name].append(_run(cmd))
    base = times["python -c pass"]
    print(f"{'command':24} {'median ms':>10} {'ratio':>7}  spread (p10–p90)")
    for name, samples in times.items():
        ratios = [t / b for t, b in zip(samples, base)]
        print(f"{name:24} {statistics.median(samples) * 1000:10.1f} {statistics.median(ratios):7.2f}  "
              f"{_pct(ratios, 0.1):.2f}–{_pct(ratios, 0.9):.2f}")


if __name__ == "__main__":
    main()
