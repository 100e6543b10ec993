"""Benchmark: ``gipextract batch`` against a plain ``read_report`` loop.

    python bench/batch.py [-n 1000] [--repeat 3] [--memory-n 10000] [--keep DIR] [--from DIR]

Generates N reports from the project's synthetic fixtures (``fixtures/synth.py``:
V2021 and V2019 layouts, a different organ, year and scale of numbers for
each, 10 organs × several years so that the cross-year checks have pairs),
then runs, each in a child process and **interleaved** (A B C D, A B C D, … so
that a noisy, shared machine slows every side alike), ``--repeat`` times:

* **A, loop**: a plain loop ``load`` + ``read_report`` over the same files
  (``python -c``), the floor the batch is compared with;
* **B, batch --jobs 1 --no-review**: the whole batch in one process;
* **C, batch --jobs 1**: the same with its review pages (the default);
* **D, batch --jobs 2 --no-review**: two worker processes.

CPU is the CPU time (user + system) of the child and of every process it
started (``getrusage(RUSAGE_CHILDREN)`` for ``--jobs 1``; psutil samples for
the process tree of ``--jobs 2``, whose workers are not children of the
command), process start-up and imports included on both sides.  Each round
also runs A, B and C on one report: their CPU is each side's fixed cost
(start-up, imports; the batch's pyarrow, pandas and sqlite-utils), and
``(CPU at N − CPU at 1) / (N − 1)`` its marginal CPU per report.  Printed per
side: median CPU per report, fixed and marginal, and reports/s (wall clock);
per pair: the median of the per-round ratios B/A and C/A, whole runs and
marginal, and their spread (min–max over rounds).  Target: B/A ≤ 1.2.

With ``--from DIR`` the inputs are instead the files under DIR (e.g. the
real reports of ``../shared/corpus``), each copied under ``-n / files`` names
(rounded up), so that the ratios hold for that mix of formats.

Then one run of ``batch --jobs 2`` (with and without review pages) on
``--memory-n`` reports samples the process tree every 50 ms (psutil) and
prints the peak summed PSS (shared pages split between the processes that
share them) and RSS.  Target: PSS < 300 MB at 10,000 reports.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _synth():
    spec = importlib.util.spec_from_file_location("synth", ROOT / "fixtures" / "synth.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def generate(where: Path, n: int, html_share: float) -> Counter:
    """Write n varied reports under ``where`` (one folder per organ)."""
    s = _synth()
    kinds: Counter = Counter()
    n_html = int(round(n * html_share))
    for i in range(n):
        organ = i % 10
        if i % 3 == 2:
            name, year = "v2019_county", 2019 + (i // 10) % 2
        else:
            name, year = "v2021_city", 2021 + (i // 10) % 5
        text = s.variant(name, agency=f"示例第{organ}局{i // 100}", year=year, scale=1 + i % 37)
        folder = where / f"organ{organ}" / f"batch{i // 1000}"
        folder.mkdir(parents=True, exist_ok=True)
        if i < n_html:
            (folder / f"r{i:06d}.html").write_text(s.to_html(text), encoding="utf-8")
            kinds["html"] += 1
        else:
            (folder / f"r{i:06d}.txt").write_text(text, encoding="utf-8")
            kinds["text"] += 1
    return kinds


def _watch(pid: int, peak: dict, stop: threading.Event) -> None:
    """Sample the batch's process tree: peak summed RSS and PSS (shared pages
    split between the processes that share them), and each process's CPU time."""
    try:
        import psutil
    except ImportError:
        return
    try:
        proc = psutil.Process(pid)
    except psutil.Error:
        return
    while not stop.is_set():
        try:
            procs = [proc] + proc.children(recursive=True)
        except psutil.Error:
            break
        rss = pss = 0
        for p in procs:
            try:
                info = p.memory_full_info()
                rss += info.rss
                pss += getattr(info, "pss", info.rss)
                peak["cpu"][p.pid] = sum(p.cpu_times()[:2])
                name = "batch" if p.pid == pid else "worker/server"
                peak["each"][p.pid] = (name, max(peak["each"].get(p.pid, ("", 0))[1], info.rss),
                                       max(peak["each"].get(p.pid, ("", 0, 0))[2] if p.pid in peak["each"] else 0,
                                           getattr(info, "pss", info.rss)))
            except psutil.Error:
                pass
        peak["rss"] = max(peak["rss"], rss)
        peak["pss"] = max(peak["pss"], pss)
        stop.wait(0.05)


def _busy() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    try:
        with open("/proc/stat") as fh:
            v = [int(x) for x in fh.readline().split()[1:]]
    except OSError:
        return 0, 0
    return sum(v) - v[3] - v[4], sum(v)


LOOP = """
import sys
from pathlib import Path
from gipextract.pipeline import load, read_report
from gipextract.readers import detect_format
n = 0
for p in sorted(Path(sys.argv[1]).rglob("*")):
    if p.is_file():
        data, _ = load(str(p), str(p))
        read_report(data, detect_format(data, str(p)), name=str(p))
        n += 1
"""


def _batch_cmd(inputs: Path, out: Path, jobs: int, review: bool) -> list[str]:
    cmd = [sys.executable, "-c", "from gipextract.cli import main; main()", "batch", str(inputs), "-o", str(out),
           "-q", "--overwrite", "--jobs", str(jobs)]
    return cmd + ([] if review else ["--no-review"])


def _run(cmd: list[str], watch: bool = False) -> dict:
    """Run ``cmd``; its wall time, CPU (children's rusage, or psutil over
    the process tree with ``watch``) and peak PSS/RSS (``watch`` only)."""
    peak = {"rss": 0, "pss": 0, "cpu": {}, "each": {}}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd)
    stop = threading.Event()
    watcher = threading.Thread(target=_watch, args=(proc.pid, peak, stop), daemon=True)
    if watch:
        watcher.start()
    rc = proc.wait()
    wall = time.perf_counter() - t0
    stop.set()
    if watch:
        watcher.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if rc != 0:
        raise SystemExit(f"{' '.join(cmd[:4])}…: exit {rc}")
    return {"wall": wall, "cpu": max(cpu, sum(peak["cpu"].values())), "pss": peak["pss"], "rss": peak["rss"],
            "each": list(peak["each"].values())}


def _spread(xs: list[float]) -> str:
    return f"{statistics.median(xs):.2f} (spread {min(xs):.2f}–{max(xs):.2f}, {len(xs)} rounds)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=1000, help="reports for the CPU comparison (default 1000)")
    ap.add_argument("--repeat", type=int, default=3, help="interleaved rounds (default 3)")
    ap.add_argument("--memory-n", type=int, default=10000, help="reports for the memory run (default 10000; 0: skip)")
    ap.add_argument("--keep", type=Path, default=None, help="keep the inputs and outputs in this directory")
    ap.add_argument("--from", dest="source", type=Path, default=None,
                    help="use copies of the files under this directory instead of generated reports")
    args = ap.parse_args()

    base = Path(tempfile.mkdtemp(prefix="gipextract-bench-")) if args.keep is None else args.keep
    inputs, out, one = base / "in", base / "out", base / "one"
    shutil.rmtree(inputs, ignore_errors=True)
    shutil.rmtree(one, ignore_errors=True)
    if args.source is None:
        generate(inputs, args.n, 0.0)
        generate(one, 1, 0.0)
        what = "generated text reports"
    else:
        files = sorted(p for p in args.source.rglob("*") if p.is_file() and not p.name.startswith("."))
        if not files:
            raise SystemExit(f"{args.source}: no files")
        copies = -(-args.n // len(files))
        for k in range(copies):
            for f in files:
                target = inputs / f"copy{k:03d}" / f.relative_to(args.source)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(f, target)
        one.mkdir(parents=True)
        shutil.copyfile(files[0], one / files[0].name)
        args.n = copies * len(files)
        what = f"copies of the {len(files)} files under {args.source}"
    sides = {"A loop": [sys.executable, "-c", LOOP, str(inputs)],
             "B batch -j1 --no-review": _batch_cmd(inputs, out, 1, False),
             "C batch -j1": _batch_cmd(inputs, out, 1, True),
             "D batch -j2 --no-review": _batch_cmd(inputs, out, 2, False)}
    fixed = {"A loop": [sys.executable, "-c", LOOP, str(one)],
             "B batch -j1 --no-review": _batch_cmd(one, base / "out1", 1, False),
             "C batch -j1": _batch_cmd(one, base / "out1", 1, True)}
    got: dict[str, list[dict]] = {k: [] for k in sides}
    got1: dict[str, list[dict]] = {k: [] for k in fixed}
    for _ in range(args.repeat):
        for name, cmd in sides.items():  # interleaved: A B C D, A B C D, …
            got[name].append(_run(cmd, watch=name.startswith("D")))
            if name in fixed:
                got1[name].append(_run(fixed[name]))
    print(f"inputs:   {args.n} {what}; {args.repeat} interleaved rounds; "
          f"{os.cpu_count()} CPUs (shared machine: compare the ratios, not the absolute times)")
    marginal = {name: [(r["cpu"] - r1["cpu"]) / (args.n - 1) for r, r1 in zip(got[name], got1[name])]
                for name in fixed}
    for name, runs in got.items():
        cpu = statistics.median(r["cpu"] for r in runs) / args.n * 1e3
        rate = statistics.median(args.n / r["wall"] for r in runs)
        split = (f"   fixed {statistics.median(r['cpu'] for r in got1[name]) * 1e3:5.0f} ms + marginal "
                 f"{statistics.median(marginal[name]) * 1e3:5.2f} ms/report" if name in fixed else "")
        print(f"{name:26s} CPU {cpu:6.2f} ms/report   {rate:6.0f} reports/s (wall){split}")
    loop = [r["cpu"] for r in got["A loop"]]
    for name in ("B batch -j1 --no-review", "C batch -j1"):
        ratios = [r["cpu"] / a for r, a in zip(got[name], loop)]
        print(f"CPU ratio {name[0]}/A ({name[2:]} / loop), whole runs: {_spread(ratios)}  (target ≤ 1.2)")
        ratios = [b / a for b, a in zip(marginal[name], marginal["A loop"])]
        print(f"CPU ratio {name[0]}/A ({name[2:]} / loop), marginal:   {_spread(ratios)}")
    if args.memory_n:
        shutil.rmtree(inputs, ignore_errors=True)
        generate(inputs, args.memory_n, 0.0)
        for review in (False, True):
            r = _run(_batch_cmd(inputs, out, 2, review), watch=True)
            label = "batch -j2" + ("" if review else " --no-review")
            print(f"memory {label:22s} at {args.memory_n}: peak {r['pss'] / 2**20:.0f} MB PSS / "
                  f"{r['rss'] / 2**20:.0f} MB RSS summed over the process tree (target PSS < 300 MB); "
                  f"{args.memory_n / r['wall']:.0f} reports/s")
            each = "; ".join(f"{name} {rss / 2**20:.0f}/{pss / 2**20:.0f}" for name, rss, pss in r["each"])
            print(f"    per process, peak RSS/PSS MB: {each}")
    if args.keep is None:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
