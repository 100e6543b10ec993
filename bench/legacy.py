"""Benchmark: legacy Word (.doc) reports, converted by LibreOffice.

    python bench/legacy.py [-n 50] [--runs 3] [--jobs 2] [--keep DIR]

Makes N distinct reports (``fixtures/synth.py`` variants: a different organ,
year and scale of numbers each), renders them as DOCX (tests/render.py) and
saves those as Word 97 ``.doc`` with LibreOffice (fixtures/render_legacy.py),
then prints:

* **alone**: seconds for one ``.doc`` read by a fresh ``gipextract extract``
  process (Python start, a fresh LibreOffice profile, conversion, reading),
  against the same report as ``.docx``; the median of ``--runs`` runs, the
  two sides interleaved (A B A B …);
* **in a warm process**: seconds per ``.doc`` of ``gipextract.read_report`` in
  one process (the converter's profile reused), median over the files;
* **batch**: ``gipextract batch DIR --jobs J`` over the N ``.doc`` files and
  over the N ``.docx`` files, interleaved, ``--runs`` times each: seconds per
  file amortised (wall time / N), the median ratio .doc / .docx and its spread
  (min–max).

Needs LibreOffice (``soffice``).  Wall-clock times on a shared machine: the
script prints the load average before and after.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import gipextract  # noqa: E402
from tests import render  # noqa: E402


def _module(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "fixtures" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_reports(n: int, where: Path) -> tuple[list[Path], list[Path]]:
    """N distinct reports as ``.docx`` and ``.doc`` under ``where/docx``, ``where/doc``."""
    synth, render_legacy = _module("synth"), _module("render_legacy")
    (where / "docx").mkdir(parents=True)
    docx = []
    for i in range(n):
        name = ("v2021_city", "v2019_county")[i % 2]
        text = synth.variant(name, agency=f"示例第{i}区人民政府办公室", year=2019 + i % 6, scale=1 + i % 7)
        doc = gipextract.read_document_from(text.encode("utf-8"), name=f"r{i:03d}.txt")
        path = where / "docx" / f"r{i:03d}.docx"
        path.write_bytes(render.to_docx(doc))
        docx.append(path)
    tmp = where / "render"
    files = render_legacy.render(docx, tmp, formats=("doc",))
    (where / "doc").mkdir()
    docs = []
    for p in files["doc"]:
        docs.append(Path(shutil.move(str(p), where / "doc" / p.name)))
    shutil.rmtree(tmp)
    return docx, docs


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from gipextract.cli import main; main()", *args]


def _wall(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - t0
    if r.returncode not in (0, 3):
        raise SystemExit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr}")
    return elapsed


def _interleaved(a: list[str], b: list[str], runs: int) -> tuple[list[float], list[float]]:
    ta, tb = [], []
    for _ in range(runs):
        ta.append(_wall(a))
        tb.append(_wall(b))
    return ta, tb


def _ratio_line(what: str, ta: list[float], tb: list[float], per: int = 1) -> str:
    ratios = [x / y for x, y in zip(ta, tb)]
    return (f"{what}: .doc {statistics.median(ta) / per:.3f} s/file, .docx {statistics.median(tb) / per:.3f} s/file; "
            f"ratio .doc/.docx median {statistics.median(ratios):.2f} (spread {min(ratios):.2f}–{max(ratios):.2f}, "
            f"{len(ratios)} runs)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=50, help="reports in the batch (default 50)")
    ap.add_argument("--runs", type=int, default=3, help="interleaved runs of each side (default 3)")
    ap.add_argument("--jobs", type=int, default=2, help="batch --jobs (default 2)")
    ap.add_argument("--keep", type=Path, help="make the files in this directory and keep them")
    args = ap.parse_args()
    if not (shutil.which("soffice") or shutil.which("libreoffice")):
        raise SystemExit("LibreOffice is not installed (apt-get install libreoffice-writer-nogui)")
    where = args.keep or Path(tempfile.mkdtemp(prefix="gipextract-bench-legacy-"))
    try:
        print(f"load average {os.getloadavg()[0]:.2f}; {os.cpu_count()} CPUs")
        t0 = time.perf_counter()
        docx, docs = make_reports(args.n, where)
        print(f"made {len(docs)} .doc files in {time.perf_counter() - t0:.1f} s")
        out = where / "out"

        ta, tb = _interleaved(_cli("extract", str(docs[0]), "-o", str(out / "a.json")),
                              _cli("extract", str(docx[0]), "-o", str(out / "b.json")), args.runs)
        print(_ratio_line("alone (a fresh process each)", ta, tb))

        warm = []
        gipextract.read_report(docs[0])  # the converter's profile is made here
        for p in docs[1:]:
            t = time.perf_counter()
            report = gipextract.read_report(p)
            warm.append(time.perf_counter() - t)
            assert report.source.converted_by == "libreoffice" and report.has_tables(), p
        print(f"in a warm process (profile reused): {statistics.median(warm):.3f} s/file "
              f"(min {min(warm):.3f}, max {max(warm):.3f}, {len(warm)} files)")

        def batch(kind: str, i: int) -> list[str]:
            return _cli("batch", str(where / kind), "-o", str(out / f"{kind}{i}"), "--jobs", str(args.jobs), "-q")

        ta, tb = [], []
        for i in range(args.runs):
            ta.append(_wall(batch("doc", i)))
            tb.append(_wall(batch("docx", i)))
        with open(out / "doc0" / "manifest.csv", encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        print(f"batch: {len(rows)} of {len(docs)} files listed, statuses {sorted({r['status'] for r in rows})}, "
              f"formats {sorted({r['format'] for r in rows})}")
        print(_ratio_line(f"batch of {len(docs)} with --jobs {args.jobs} (amortised)", ta, tb, per=len(docs)))
        print(f"load average {os.getloadavg()[0]:.2f}")
    finally:
        if not args.keep:
            shutil.rmtree(where, ignore_errors=True)


if __name__ == "__main__":
    main()
