"""Benchmark: the whole PDF pipeline vs pdfplumber's own table extraction.

    python bench/pdf.py [REPORT.pdf ...] [-n RUNS] [--reader]

For each report (default: the corpus PDFs ``../shared/corpus/*_pdf.pdf``),
in one run, times alternately (A B A B …, so that a noisy machine slows both
sides alike):

* **A, baseline**: ``pdfplumber.open(f)`` and ``page.extract_tables()`` on
  every page (what a user would do by hand, getting tables but no report);
* **B, gipextract**: ``gipextract.read_report(bytes)``: read (PDFium: every
  page once, tables from ruling, layout lines, page joins), locate,
  reconstruct, validate (``--reader``: the PDF reader alone).

and prints, per report and over all of them, the median of the per-pair
ratios B/A with its spread (the 10th–90th percentile of the ratios).
Target: median ratio ≤ 0.3.

Both sides start from the file's bytes in memory and parse the PDF from
scratch on every run; the first pair is a warm-up and not counted.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import pdfplumber

import gipextract
from gipextract.document import Source
from gipextract.readers.pdf import read_pdf

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"


def baseline(data: bytes) -> int:
    """pdfplumber's ``extract_tables()`` over all pages; returns the table count."""
    n = 0
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            n += len(page.extract_tables())
    return n


def _once(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def pairs(a: Callable[[], object], b: Callable[[], object], runs: int) -> list[tuple[float, float]]:
    """``runs`` pairs of seconds ``(a, b)``, timed alternately after one warm-up pair."""
    a()
    b()
    return [(_once(a), _once(b)) for _ in range(runs)]


def spread(ratios: list[float]) -> str:
    """The median ratio and its 10th–90th percentile range."""
    if len(ratios) < 2:
        return f"{ratios[0]:.3f}"
    q = statistics.quantiles(ratios, n=10)
    return f"{statistics.median(ratios):.3f} [{q[0]:.3f}–{q[-1]:.3f}]"


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("reports", nargs="*", help="PDF files (default: the corpus PDFs)")
    ap.add_argument("-n", "--runs", type=int, default=9)
    ap.add_argument("--reader", action="store_true", help="time the PDF reader alone, not the pipeline")
    args = ap.parse_args()
    paths = [Path(p) for p in args.reports] or sorted(CORPUS.glob("*_pdf.pdf"))
    if not paths:
        raise SystemExit("no PDF given and ../shared/corpus has none")
    side = "read_pdf" if args.reader else "read_report"
    print(f"{'report':<24} {'extract_tables':>15} {side:>12}   ratio: median [p10–p90]")
    all_ratios: list[float] = []
    for path in paths:
        data = path.read_bytes()
        if args.reader:
            def ours(data: bytes = data, path: Path = path) -> object:
                return read_pdf(data, Source(str(path), "pdf", ""))
        else:
            def ours(data: bytes = data, path: Path = path) -> object:
                return gipextract.read_report(data, name=str(path))
        got = pairs(lambda data=data: baseline(data), ours, args.runs)
        ratios = [b / a for a, b in got]
        all_ratios += ratios
        ta = statistics.median(a for a, _ in got)
        tb = statistics.median(b for _, b in got)
        print(f"{path.name:<24} {ta * 1e3:>12.1f} ms {tb * 1e3:>9.1f} ms   {spread(ratios)}")
    print(f"{'all':<24} {'':>15} {'':>12}   {spread(all_ratios)}  (target ≤ 0.3)")


if __name__ == "__main__":
    main()
