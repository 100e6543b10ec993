"""Benchmark: the whole text pipeline vs a bare Lark LALR tokenization.

    python bench/text.py [REPORT] [-n RUNS]

Prints the per-report time of ``gipextract.read_report`` (bytes → decode →
pre-pass → Lark → locate → reconstruct → validate, whatever the pipeline
holds) on REPORT (default: the seed report
``../shared/corpus/000_9ae0767dbc617b7e.txt``, else the project's
``fixtures/v2019_county.txt``) next to:

* **bare Lark LALR tokenization** (the baseline of the text reader's target): the
  project's grammar run by plain ``Lark(grammar, parser="lalr",
  lexer="contextual").parse(text)`` on the same file's text (after the
  pre-pass, which plain Lark needs), building Lark's own parse tree;
* for reference, the lexer alone (``lexer="basic"``, ``lex()``, no parser).

Target: pipeline / bare LALR ≤ 2.

It also checks that reading scales linearly with the input: the text reader
on N and 4·N lines of each layout (paragraphs only, cells only, rows, a
paragraph between rows) must take about 4× as long, not 16×.

The two sides are timed alternately (A B A B …, RUNS pairs) so that load on the
machine hits both alike; the ratio printed is the median of the per-pair ratios
with its 10th–90th percentile spread. The first run (grammar compilation) is
excluded from both.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from lark import Lark
from timing import interleaved, ratio, timed  # bench/timing.py

import gipextract
from gipextract.readers.encoding import decode
from gipextract.readers.text import grammar_text, prepare

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT.parent / "shared" / "corpus" / "000_9ae0767dbc617b7e.txt"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report", nargs="?", default=str(SEED if SEED.exists() else ROOT / "fixtures" / "v2019_county.txt"))
    ap.add_argument("-n", "--runs", type=int, default=200)
    args = ap.parse_args()
    data = Path(args.report).read_bytes()
    text = prepare(decode(data, args.report)[0])
    bare_parser = Lark(grammar_text(), parser="lalr", lexer="contextual")
    lexer = Lark(grammar_text(), parser="lalr", lexer="basic")

    t_lex = timed(lambda: list(lexer.lex(text)), args.runs)
    s_full, s_bare = interleaved(lambda: gipextract.read_report(data, name=args.report),
                                 lambda: bare_parser.parse(text), args.runs)
    t_full, t_bare = statistics.median(s_full), statistics.median(s_bare)
    print(f"report:                  {args.report} ({len(data):,} bytes, {len(list(lexer.lex(text)))} tokens)")
    print(f"bare Lark LALR parse:    {t_bare * 1e3:8.3f} ms/report")
    print(f"  (lexer alone:          {t_lex * 1e3:8.3f} ms/report)")
    print(f"gipextract read_report:  {t_full * 1e3:8.3f} ms/report")
    print(f"ratio vs bare LALR:      {ratio(s_full, s_bare)}  (median [p10–p90] of interleaved pairs; target ≤ 2)")
    print(f"  (ratio vs lexer alone: {t_full / t_lex:8.2f})")
    print("scaling (time for 4·N lines / time for N lines; linear ≈ 4):")
    for name, unit in (("paragraphs", "一二三\n"), ("cells", "\t1\n"), ("rows", "\t1\n\n"),
                       ("paragraph, row", "说明\n\t1\n")):
        small, large = (unit * 10_000).encode("utf-8"), (unit * 40_000).encode("utf-8")
        t_small = timed(lambda small=small: gipextract.read_document_from(small, "text"), 3)
        t_large = timed(lambda large=large: gipextract.read_document_from(large, "text"), 3)
        print(f"  {name:16s} {t_large / t_small:5.1f}×  ({t_large * 1e3:.0f} ms for 40,000 lines)")


if __name__ == "__main__":
    main()
