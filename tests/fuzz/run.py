"""Run the fuzz harness for a set time and print statistics per reader.

    python -m tests.fuzz.run [--minutes M] [--readers text,html,…] [--memory-gb G]

Each reader runs in a process of its own (one after the other, under
``nice``), limited to ``--memory-gb`` of address space (a blow-up becomes a
``MemoryError`` that the oracle counts, not a machine brought down), drawing
inputs from :func:`tests.fuzz.harness.mutated` for its share of the time.  For
each reader it prints the inputs tried, how many were read and refused, the
failures by signature (each saved under ``tests/fuzz/found/``), the slowest
input per MB (inputs of 64 KiB or more: below, the fixed cost of a report
dominates) and the slowest input, and the peak
memory (the process's maximum resident set).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import time
import warnings
from collections import Counter

from .harness import READERS, ROOT, FuzzFailure, check, mutated, save_failure, seeds, signature

#: Seconds after which one input is stopped (SIGALRM) and counted as a hang.
HARD_TIMEOUT = 60.0


class _Timeout(BaseException):
    """Raised by SIGALRM in the input being read (not an ``Exception``: the oracle must not catch it)."""


def _alarm(_signum, _frame):
    raise _Timeout


def _worker(reader: str, seconds: float, memory_gb: float) -> dict:
    signal.signal(signal.SIGALRM, _alarm)
    limit = int(memory_gb * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    warnings.simplefilter("ignore")
    seeds(reader)
    strategy = mutated(reader)
    stats: dict = {"reader": reader, "inputs": 0, "read": 0, "refused": 0, "failures": Counter(),
                   "slowest_per_mb": [0.0, 0], "slowest": [0.0, 0]}
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        data = strategy.example()
        stats["inputs"] += 1
        t0 = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, HARD_TIMEOUT)
        try:
            outcome = check(data, reader)
        except FuzzFailure as f:
            stats["failures"][signature(f)] += 1
            save_failure(data, reader, f)
            took = time.perf_counter() - t0
        except _Timeout:
            stats["failures"]["slow-timeout"] += 1
            save_failure(data, reader, FuzzFailure("slow", f"stopped after {HARD_TIMEOUT} s"))
            took = time.perf_counter() - t0
        except MemoryError:
            stats["failures"]["exception-MemoryError"] += 1
            save_failure(data, reader, FuzzFailure("exception", "MemoryError at rlimit:0"))
            took = time.perf_counter() - t0
        else:
            stats[outcome.status] += 1
            took = outcome.seconds  # the read itself, not the oracle
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if took > stats["slowest"][0]:
            stats["slowest"] = [took, len(data)]
        if len(data) >= 64 * 1024 and took / (len(data) / 2**20) > stats["slowest_per_mb"][0]:
            stats["slowest_per_mb"] = [took / (len(data) / 2**20), len(data)]
    stats["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return stats


def main() -> None:
    """Run every reader in turn for its share of ``--minutes``; print and save the statistics."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=25)
    ap.add_argument("--readers", default=",".join(READERS))
    ap.add_argument("--memory-gb", type=float, default=2.0)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--seconds", type=float, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(_worker(args.worker, args.seconds, args.memory_gb)))
        return
    readers = args.readers.split(",")
    share = args.minutes * 60 / len(readers)
    results = []
    for reader in readers:
        cmd = ["nice", "-n", "15", sys.executable, "-m", "tests.fuzz.run", "--worker", reader,
               "--seconds", str(share), "--memory-gb", str(args.memory_gb)]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=os.environ,
                              timeout=share + 600)
        lines = proc.stdout.strip().splitlines()
        if proc.returncode or not lines:
            print(f"{reader}: worker failed ({proc.returncode}): {proc.stderr[-2000:]}")
            continue
        results.append(json.loads(lines[-1]))
        r = results[-1]
        print(f"{reader:9} {r['inputs']:7d} inputs  {r['read']:6d} read  {r['refused']:6d} refused  "
              f"failures {dict(r['failures']) or 0}  slowest/MB {r['slowest_per_mb'][0]:.2f} s "
              f"({r['slowest_per_mb'][1]} B)  slowest {r['slowest'][0]:.2f} s ({r['slowest'][1]} B)  "
              f"peak RSS {r['peak_rss_mb']:.0f} MB", flush=True)
    out = ROOT / "tests" / "fuzz" / "found" / "last_run.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
