"""Benchmark: crawler dumps (whole report on one line, cells run together)
against a baseline checkout, interleaved.

    python bench/crawler.py --baseline DIR [-n ROUNDS] [FILES…]

DIR is another checkout's root (one holding ``gipextract/``), e.g. the
commit before a change: ``git archive REV gipextract | tar -x -C DIR``.
Two worker processes, one importing each tree, read the same files
(default: the crawler dumps among ``../shared/corpus/005``–``013``); the
script asks them in turn (A B A B …, ROUNDS times), so load on the machine
hits both sides alike, and prints the median of the per-round ratios
(current / baseline) with its spread (the 25th–75th percentiles).  It also
checks that both sides read the same cells from every file.

Target (template-spec §7.4 crawler dumps): current ≤ 0.5× the baseline.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"

_WORKER = r"""
import hashlib, json, sys, time
sys.path.insert(0, sys.argv[1])
import gipextract
files = json.loads(sys.argv[2])
datas = [open(f, "rb").read() for f in files]
def run():
    return [gipextract.read_report(d, name=f) for d, f in zip(datas, files)]
reports = run()
digest = hashlib.sha256(repr([sorted((k, c.value, c.flag) for k, c in r.cells.items()) for r in reports])
                        .encode()).hexdigest()
print(json.dumps({"digest": digest}), flush=True)
for line in sys.stdin:
    t = time.perf_counter()
    run()
    print(json.dumps({"seconds": time.perf_counter() - t}), flush=True)
"""


def _default_files() -> list[str]:
    out = []
    for f in sorted(CORPUS.glob("0*")):
        if "005" <= f.name[:3] <= "013" and f.suffix == ".txt":
            text = f.read_bytes().decode("utf-8", "replace")
            if max((len(line) for line in text.splitlines()), default=0) >= 2000:  # one long line: a crawler dump
                out.append(str(f))
    return out


def _start(tree: Path, files: list[str]) -> tuple[subprocess.Popen, str]:
    p = subprocess.Popen([sys.executable, "-c", _WORKER, str(tree), json.dumps(files)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout is not None
    return p, json.loads(p.stdout.readline())["digest"]


def _once(p: subprocess.Popen) -> float:
    assert p.stdin is not None and p.stdout is not None
    p.stdin.write("go\n")
    p.stdin.flush()
    return json.loads(p.stdout.readline())["seconds"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*")
    ap.add_argument("--baseline", required=True, type=Path)
    ap.add_argument("-n", "--rounds", type=int, default=30)
    args = ap.parse_args()
    files = args.files or _default_files()
    if not files:
        sys.exit("no crawler dump to read (../shared/corpus missing?)")
    base, base_digest = _start(args.baseline, files)
    cur, cur_digest = _start(ROOT, files)
    ratios, t_base, t_cur = [], [], []
    try:
        for _ in range(args.rounds):
            a, b = _once(base), _once(cur)
            t_base.append(a)
            t_cur.append(b)
            ratios.append(b / a)
    finally:
        for p in (base, cur):
            p.stdin.close()  # type: ignore[union-attr]
            p.wait()
    q1, _, q3 = statistics.quantiles(ratios, n=4)
    print(f"files: {len(files)} crawler dumps ({', '.join(Path(f).name for f in files)})")
    print(f"baseline {args.baseline}: median {statistics.median(t_base) * 1e3:.1f} ms per round")
    print(f"current  {ROOT}: median {statistics.median(t_cur) * 1e3:.1f} ms per round")
    print(f"ratio current/baseline: median {statistics.median(ratios):.2f} (25–75%: {q1:.2f}–{q3:.2f}, "
          f"{args.rounds} interleaved rounds; target ≤ 0.5)")
    print("same cells on both sides:", "yes" if base_digest == cur_digest else "NO")


if __name__ == "__main__":
    main()
