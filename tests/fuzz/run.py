"""Run the fuzz harness and print statistics per reader.

    python -m tests.fuzz.run [--inputs N] [--minutes M] [--jobs J] [--readers text,html,…] [--memory-gb G]
                             [--no-ocr]

Each reader runs in ``--jobs`` worker processes at once (its shards, under
``nice``), each limited to an address space of ``--memory-gb`` (the ``pdf``
reader: at least :data:`PDF_MEMORY_GB`, the ``batch`` default, since a
picture page goes to OCR and ONNX Runtime reserves more than 2 GB) — a blow-up
becomes a ``MemoryError`` that the oracle counts, not a machine brought down.
With ``--no-ocr`` a PDF page without text is left unread (``needs_ocr``)
instead of going to OCR, as without the ``ocr`` extra: the PDF reader's own
code is fuzzed at volume (a mutated PDF whose text layer broke is a picture
page, and OCR costs seconds a page).

A shard draws inputs from :func:`tests.fuzz.harness.mutated`, skipping any it
has tried already, until it has tried its share of ``--inputs`` or its share
of ``--minutes`` has passed.

For each reader it prints the inputs tried and how many were distinct (by
SHA-256), how many were read and refused, the failures by signature (each saved
under ``tests/fuzz/found/``), the slowest input per MB (inputs of 64 KiB or
more: below, the fixed cost of a report dominates), the slowest input, and
the peak memory of one shard (its maximum resident set) and the most one input
added to it (``VmHWM`` reset before each input; that input is kept under
``tests/fuzz/found/<reader>/peak-memory-*.bin`` when it is 100 MB or more).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

from .harness import FOUND, READERS, ROOT, FuzzFailure, check, mutated, save_failure, seeds, signature

#: Seconds after which one input is stopped (SIGALRM) and counted as a hang.
HARD_TIMEOUT = 60.0
#: The least address space (GB) a ``pdf`` shard gets: ``batch --memory-limit``'s default.
PDF_MEMORY_GB = 4.0


class _Timeout(BaseException):
    """Raised by SIGALRM in the input being read (not an ``Exception``: the oracle must not catch it)."""


def _alarm(_signum, _frame):
    raise _Timeout


def _status_mb(field: str) -> int:
    """``VmRSS``/``VmHWM`` of this process in MB (0 where /proc is not there)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


def _reset_peak() -> int:
    """Reset this process's peak resident set (``VmHWM``) to its current one; return that (MB)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass
    return _status_mb("VmRSS:")


def _worker(reader: str, seconds: float, inputs: int, memory_gb: float, digests: Path, no_ocr: bool = False) -> dict:
    if no_ocr:
        from gipextract.readers import ocr
        ocr.available = lambda: False  # type: ignore[assignment]
    signal.signal(signal.SIGALRM, _alarm)
    limit = int(memory_gb * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    warnings.simplefilter("ignore")
    seeds(reader)
    strategy = mutated(reader)
    stats: dict = {"reader": reader, "inputs": 0, "read": 0, "refused": 0, "failures": Counter(),
                   "slowest_per_mb": [0.0, 0], "slowest": [0.0, 0], "peak_input_mb": [0, 0]}
    end = time.monotonic() + seconds
    tried: set[bytes] = set()
    with digests.open("wb") as out:
        while time.monotonic() < end and stats["inputs"] < inputs:
            data = strategy.example()
            digest = hashlib.sha256(data).digest()[:12]
            if digest in tried:  # the smallest mutations come again and again: each is counted once
                continue
            tried.add(digest)
            stats["inputs"] += 1
            out.write(digest)
            base = _reset_peak()
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
            grew = _status_mb("VmHWM:") - base
            if grew > stats["peak_input_mb"][0]:
                stats["peak_input_mb"] = [grew, len(data)]
                if grew >= 100:  # keep the input that needed the most memory, to look at
                    kept = FOUND / reader / f"peak-memory-{digests.stem}.bin"
                    kept.parent.mkdir(parents=True, exist_ok=True)
                    kept.write_bytes(data)
                    kept.with_suffix(".txt").write_text(f"+{grew} MB resident while read, {took:.2f} s\n")
            if took > stats["slowest"][0]:
                stats["slowest"] = [took, len(data)]
            if len(data) >= 64 * 1024 and took / (len(data) / 2**20) > stats["slowest_per_mb"][0]:
                stats["slowest_per_mb"] = [took / (len(data) / 2**20), len(data)]
    stats["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return stats


def _merge(shards: list[dict], digest_files: list[Path]) -> dict:
    """One reader's statistics from its shards (counts summed, maxima kept, distinct inputs counted)."""
    total: dict = {"reader": shards[0]["reader"], "shards": len(shards), "inputs": 0, "read": 0, "refused": 0,
                   "failures": Counter(), "slowest_per_mb": [0.0, 0], "slowest": [0.0, 0], "peak_rss_mb": 0.0,
                   "peak_input_mb": [0, 0]}
    for s in shards:
        for k in ("inputs", "read", "refused"):
            total[k] += s[k]
        total["failures"].update(s["failures"])
        for k in ("slowest_per_mb", "slowest", "peak_input_mb"):
            total[k] = max(total[k], s.get(k, [0, 0]))
        total["peak_rss_mb"] = max(total["peak_rss_mb"], s["peak_rss_mb"])
    seen: set[bytes] = set()
    for path in digest_files:
        blob = path.read_bytes()
        seen.update(blob[i:i + 12] for i in range(0, len(blob), 12))
    total["distinct"] = len(seen)
    return total


def main() -> None:
    """Run every reader's shards (``--jobs`` processes at a time); print and save the statistics."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=25, help="time for all readers together")
    ap.add_argument("--inputs", type=int, default=10**9, help="inputs per reader (stop early when reached)")
    ap.add_argument("--jobs", type=int, default=1, help="shards per reader, run at once")
    ap.add_argument("--readers", default=",".join(READERS))
    ap.add_argument("--memory-gb", type=float, default=2.0)
    ap.add_argument("--no-ocr", action="store_true", help="leave PDF pages without text unread (no OCR)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--seconds", type=float, help=argparse.SUPPRESS)
    ap.add_argument("--digests", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(_worker(args.worker, args.seconds, args.inputs, args.memory_gb, args.digests, args.no_ocr)))
        return
    readers = args.readers.split(",")
    share = args.minutes * 60 / len(readers)
    jobs = max(1, args.jobs)
    results = []
    with tempfile.TemporaryDirectory(prefix="gipextract-fuzz-") as tmp:
        for reader in readers:
            memory = max(args.memory_gb, PDF_MEMORY_GB) if reader == "pdf" else args.memory_gb
            per_shard = -(-args.inputs // jobs)
            procs, digest_files = [], []
            for shard in range(jobs):
                digest_files.append(Path(tmp) / f"{reader}-{shard}.sha")
                cmd = ["nice", "-n", "15", sys.executable, "-m", "tests.fuzz.run", "--worker", reader,
                       "--seconds", str(share), "--inputs", str(per_shard), "--memory-gb", str(memory),
                       "--digests", str(digest_files[-1])] + (["--no-ocr"] if args.no_ocr else [])
                procs.append(subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                              text=True, env=os.environ))
            shards = []
            for proc in procs:
                out, err = proc.communicate(timeout=share + 600)
                lines = out.strip().splitlines()
                if proc.returncode or not lines:
                    print(f"{reader}: shard failed ({proc.returncode}): {err[-2000:]}", flush=True)
                    continue
                shards.append(json.loads(lines[-1]))
            if not shards:
                continue
            r = _merge(shards, [p for p in digest_files if p.exists()])
            results.append(r)
            print(f"{reader:9} {r['inputs']:7d} inputs ({r['distinct']} distinct)  {r['read']:6d} read  "
                  f"{r['refused']:6d} refused  failures {dict(r['failures']) or 0}  "
                  f"slowest/MB {r['slowest_per_mb'][0]:.2f} s ({r['slowest_per_mb'][1]} B)  "
                  f"slowest {r['slowest'][0]:.2f} s ({r['slowest'][1]} B)  "
                  f"peak RSS {r['peak_rss_mb']:.0f} MB per shard (one input: +{r['peak_input_mb'][0]} MB, "
                  f"{r['peak_input_mb'][1]} B)", flush=True)
    out_path = ROOT / "tests" / "fuzz" / "found" / "last_run.json"
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
