"""Benchmark: the whole pipeline on HTML and DOCX reports vs the usual one-liners.

    python bench/readers.py [-n RUNS] [--html PAGE ...] [--docx FILE ...]

In one run, prints two ratios (targets: both ≤ 1.0):

* **HTML**: ``gipextract.read_report`` (decode → parse → walk → find the
  report body → locate → reconstruct, whatever the pipeline holds) on each
  page vs ``pandas.read_html`` on the same bytes (lxml flavour: parse, find
  the tables, expand spans, build DataFrames).  Pages: the corpus HTML reports
  (``../shared/corpus/016_2019_html.html``, ``028_2024_html.html`` (a full CMS
  page), ``031_2019_html.html`` (Word-pasted)), else the project's fixtures
  rendered as HTML.
* **DOCX**: ``gipextract.read_report`` on a report rendered as DOCX (the
  corpus has no real DOCX report: the fixtures ``fixtures/v2019_county.txt``
  and ``fixtures/v2021_city.txt`` rendered with real merged cells by
  ``tests/render.py``) vs ``docx2python`` on the same bytes (its
  ``.body``: every paragraph and table).

The ratio is the sum of gipextract's per-file median times over the sum of
the baseline's.  Medians of RUNS timings; one warm-up run first.  Needs the
``bench`` extra: ``pip install -e '.[bench]'`` (docx2python).
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import warnings
from pathlib import Path

import pandas as pd
from timing import interleaved, ratio  # bench/timing.py (this directory is on sys.path when run as a script)

import gipextract

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
CORPUS_HTML = ["016_2019_html.html", "028_2024_html.html", "031_2019_html.html"]
FIXTURES = ["v2019_county.txt", "v2021_city.txt"]


def rendered(kind: str) -> list[tuple[str, bytes]]:
    sys.path.insert(0, str(ROOT))
    from tests import render

    out = []
    for name in FIXTURES:
        doc = gipextract.read_document_from(ROOT / "fixtures" / name)
        data = render.to_docx(doc) if kind == "docx" else render.to_html(doc)
        out.append((f"fixtures/{name} as {kind}", data))
    return out


def compare(label: str, files: list[tuple[str, bytes]], ours, theirs, their_name: str, runs: int) -> float:
    """Time both sides alternately on each file; print per-file medians and the
    median per-pair ratio with its spread; return the ratio of summed medians."""
    total_ours = total_theirs = 0.0
    all_ours: list[float] = []
    all_theirs: list[float] = []
    print(f"{label}:")
    for name, data in files:
        s_ours, s_theirs = interleaved(lambda data=data, name=name: ours(data, name),
                                       lambda data=data: theirs(data), runs)
        t_ours, t_theirs = statistics.median(s_ours), statistics.median(s_theirs)
        total_ours += t_ours
        total_theirs += t_theirs
        all_ours += s_ours
        all_theirs += s_theirs
        print(f"  {name:44s} {len(data):>8,} B   gipextract {t_ours * 1e3:7.2f} ms   "
              f"{their_name} {t_theirs * 1e3:7.2f} ms   ratio {ratio(s_ours, s_theirs)}")
    total = total_ours / total_theirs
    print(f"  {label} ratio (sum of medians): {total:.2f}; per pair, median [p10–p90]: "
          f"{ratio(all_ours, all_theirs)}  (target ≤ 1.0)")
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--runs", type=int, default=30)
    ap.add_argument("--html", nargs="*", help="HTML pages (default: the corpus HTML reports)")
    ap.add_argument("--docx", nargs="*", help="DOCX files (default: the fixtures rendered as DOCX)")
    args = ap.parse_args()
    try:
        from docx2python import docx2python
    except ImportError:
        sys.exit("bench/readers.py needs docx2python: pip install -e '.[bench]'")

    if args.html:
        html_files = [(p, Path(p).read_bytes()) for p in args.html]
    elif all((CORPUS / n).exists() for n in CORPUS_HTML):
        html_files = [(n, (CORPUS / n).read_bytes()) for n in CORPUS_HTML]
    else:
        html_files = rendered("html")
    docx_files = [(p, Path(p).read_bytes()) for p in args.docx] if args.docx else rendered("docx")

    def read_html_tables(data: bytes):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pd.read_html(io.BytesIO(data), flavor="lxml")

    def read_docx2python(data: bytes):
        with docx2python(io.BytesIO(data)) as content:
            return content.body

    def pipeline(data: bytes, name: str):
        return gipextract.read_report(data, name=name)

    r_html = compare("HTML", html_files, pipeline, read_html_tables, "pandas.read_html", args.runs)
    r_docx = compare("DOCX", docx_files, pipeline, read_docx2python, "docx2python", args.runs)
    print(f"\nratios: HTML {r_html:.2f} (vs pandas.read_html), DOCX {r_docx:.2f} (vs docx2python); targets ≤ 1.0")


if __name__ == "__main__":
    main()
