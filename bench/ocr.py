"""Benchmark: seconds per page and per report of the OCR reader.

    python bench/ocr.py [-n RUNS] [--dpi 200] [--corpus]

Reads synthetic scans (``tests/scanmaker.py``: the fixtures' reports drawn by
``tests/pdfmaker.py``, rendered at ``--dpi``, turned ±1°, noise, blur, JPEG),
and with ``--corpus`` the corpus PDFs 001–003 rendered to images, each as an
image-only PDF through the whole pipeline (``gipextract.read_report``).  For
each report it prints the median seconds per report, per page and per *table
page* (a page holding a ruled table: the time of the table pages alone, read
one by one), with the spread (min–max) over the runs.  The engine is loaded
once before timing (a warm-up run is not counted).  Target: ≤ 5 s
per table page on 2 cores.

Runs are sequential on purpose: the machine's cores are what one report gets.
It prints the machine's load average before and after, and the ONNX Runtime
threads used (``GIPEXTRACT_OCR_THREADS`` overrides them): on a shared machine
the seconds depend on both.  Nothing is compared here, so nothing is
interleaved: each figure is the median of ``-n`` runs with its min–max.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import gipextract  # noqa: E402
from gipextract.document import Source, TableBlock  # noqa: E402
from gipextract.readers import ocr  # noqa: E402
from tests import pdfmaker, scanmaker  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"


def _spread(xs: list[float]) -> str:
    return f"{statistics.median(xs):6.2f} s  ({min(xs):.2f}–{max(xs):.2f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=3, help="timed runs per report (default 3)")
    ap.add_argument("--dpi", type=int, default=200)
    ap.add_argument("--corpus", action="store_true", help="also the corpus PDFs 001–003 rendered to images")
    args = ap.parse_args()

    cases = []
    for name in ("v2021_city", "v2019_county"):
        exp = json.loads((ROOT / "fixtures" / "expected" / f"{name}.json").read_text(encoding="utf-8"))
        cases.append((f"{name} (synthetic scan)", scanmaker.scan(pdfmaker.report_pdf(exp), dpi=args.dpi)))
    if args.corpus and CORPUS.is_dir():
        for name in ("001_2024_pdf.pdf", "002_2023_pdf.pdf", "003_2024_pdf.pdf"):
            cases.append((f"{name} (rendered)", scanmaker.render((CORPUS / name).read_bytes(), args.dpi)))

    ocr.engine()
    src = Source("bench", "image", "")
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; ONNX Runtime threads "
          f"{ocr.engine().text_rec.session.session.get_session_options().intra_op_num_threads}")
    print(f"{'report':34} {'pages':>5}  {'per report':22} {'per page':22} {'per table page':22}")
    for label, pages in cases:
        data = scanmaker.image_pdf(pages, args.dpi)
        table_pages = [i for i, im in enumerate(pages, 1)
                       if any(isinstance(b, TableBlock) for b in ocr.ocr_pages([(i, im)], src))]
        whole, tables = [], []
        for run in range(args.n + 1):
            t = time.perf_counter()
            gipextract.read_report(data, name=label)
            t_whole = time.perf_counter() - t
            t = time.perf_counter()
            for i in table_pages:
                ocr.ocr_pages([(i, pages[i - 1])], src)
            t_tables = time.perf_counter() - t
            if run:  # the first run warms up
                whole.append(t_whole)
                tables.append(t_tables / max(1, len(table_pages)))
        per_page = [w / len(pages) for w in whole]
        print(f"{label:34} {len(pages):5}  {_spread(whole):22} {_spread(per_page):22} {_spread(tables):22}"
              f"  [{len(table_pages)} table pages]")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
