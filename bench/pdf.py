"""Benchmark: the whole PDF pipeline vs pdfplumber's own table extraction.

    python bench/pdf.py [REPORT.pdf ...] [-n RUNS]

For each report (default: the corpus PDFs ``../shared/corpus/*_pdf.pdf``),
in one run, prints the median time of:

* **baseline**: ``pdfplumber.open(f)`` and ``page.extract_tables()`` on every
  page (what a user would do by hand, getting tables but no report);
* **gipextract**: ``gipextract.read_report(bytes)``: read (parse every page
  once, tables from ruling, layout lines, page joins), locate, reconstruct,
  and whatever else the pipeline holds;

and their ratio.  Target (issue 5): ratio ≤ 1.2.

Both sides start from the file's bytes in memory and parse the PDF from
scratch on every run; the first run of each is a warm-up and not counted.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pdfplumber
from timing import timed  # bench/timing.py

import gipextract

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"


def baseline(data: bytes) -> int:
    """pdfplumber's ``extract_tables()`` over all pages; returns the table count."""
    n = 0
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            n += len(page.extract_tables())
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("reports", nargs="*", help="PDF files (default: the corpus PDFs)")
    ap.add_argument("-n", "--runs", type=int, default=7)
    args = ap.parse_args()
    paths = [Path(p) for p in args.reports] or sorted(CORPUS.glob("*_pdf.pdf"))
    if not paths:
        raise SystemExit("no PDF given and ../shared/corpus has none")
    total_base = total_full = 0.0
    print(f"{'report':<24} {'pages':>5} {'extract_tables':>15} {'read_report':>12} {'ratio':>6}")
    for path in paths:
        data = path.read_bytes()
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            pages = len(pdf.pages)
        t_base = timed(lambda: baseline(data), args.runs)
        t_full = timed(lambda: gipextract.read_report(data, name=str(path)), args.runs)
        total_base += t_base
        total_full += t_full
        print(f"{path.name:<24} {pages:>5} {t_base * 1e3:>12.1f} ms {t_full * 1e3:>9.1f} ms {t_full / t_base:>6.2f}")
    print(f"{'all':<24} {'':>5} {total_base * 1e3:>12.1f} ms {total_full * 1e3:>9.1f} ms "
          f"{total_full / total_base:>6.2f}  (target ≤ 1.2)")


if __name__ == "__main__":
    main()
