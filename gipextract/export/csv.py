"""CSV export: one wide CSV per table and one tidy CSV of all cells.

Wide CSVs (``t2.csv``, ``t3.csv``, ``t4.csv``) have one column per row-index
level (named as the template's ``row_levels``) followed by one column per data
column, named by its header path joined with ``|``
(``申请人情况|法人或其他组织|商业企业``).  The tidy CSV (``cells.csv``) has the
columns of :data:`gipextract.report.TIDY_COLUMNS`.  Numbers are written as
printed: counts without a decimal point, money with its fraction.  Null cells
are empty.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from ..report import Report


def _number(v) -> str:
    if v is None:
        return ""
    try:
        f = float(v)
    except TypeError:  # pandas.NA
        return ""
    if f != f:  # NaN
        return ""
    return str(int(f)) if f.is_integer() else repr(f)


def dedupe(names: list[str]) -> list[str]:
    """Make column names unique deterministically: the second ``x`` becomes
    ``x_2``, the third ``x_3`` (as sqlite-utils' ``dedupe_keys``)."""
    seen: dict[str, int] = {}
    out = []
    for n in names:
        if n in seen:
            seen[n] += 1
            n = f"{n}_{seen[n]}"
            while n in seen:
                n += "_"
        seen.setdefault(n, 1)
        out.append(n)
    return out


def wide_csv(report: Report, table: str) -> str:
    """Table ``table`` of ``report`` as wide CSV text (module docstring); just a
    header-less empty string if the report lacks the table."""
    frame = report.table(table)
    if frame.empty:
        return ""
    flat = frame.copy()
    flat.columns = ["|".join(p for p in col if p) for col in frame.columns]
    flat = flat.reset_index()
    flat.columns = dedupe([str(c) for c in flat.columns])
    nlev = frame.index.nlevels
    for col in flat.columns[nlev:]:
        flat[col] = [_number(v) for v in flat[col]]
    buf = io.StringIO()
    flat.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


def tidy_csv(report: Report) -> str:
    """All cells of ``report`` as tidy CSV text, one row per cell."""
    frame = report.tidy().copy()
    frame["value"] = [_number(v) for v in frame["value"]]
    buf = io.StringIO()
    frame.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


class TidyCsvFormatter:
    """Tidy rows as CSV text, byte-identical to the body of :func:`tidy_csv`
    (:func:`csv.writer`, ``"\\n"`` line ends), fast enough for batches: each
    distinct string is escaped once and each cell key's six label fields are
    joined once (the memos are bounded)."""

    _MAX_MEMO = 200_000

    def __init__(self) -> None:
        self._esc: dict[str, str] = {}
        self._heads: dict[tuple, str] = {}
        self._buf = io.StringIO()
        self._csv = csv.writer(self._buf, lineterminator="\n")

    def esc(self, s) -> str:
        """``s`` as one CSV field (quoted when it must be); ``None`` → ``""``."""
        if s is None or s == "":
            return ""
        out = self._esc.get(s)
        if out is None:
            if any(c in s for c in ',"\r\n') or s != s.strip():
                self._buf.seek(0)
                self._buf.truncate()
                self._csv.writerow([s])
                out = self._buf.getvalue()[:-1]
            else:
                out = s
            if len(self._esc) > self._MAX_MEMO:
                self._esc.clear()
            self._esc[s] = out
        return out

    def text(self, cells: Iterable[tuple], source: str, agency, year, template) -> str:
        """CSV lines (each ending in ``\\n``) of one report's cells: 10-tuples of
        the first ten :data:`~gipextract.report.TIDY_COLUMNS`, followed by the
        report-level ``source, agency, year, template``."""
        esc, heads = self.esc, self._heads
        tail = f"{esc(source)},{esc(agency)},{'' if year is None else year},{esc(template)}\n"
        lines = []
        for c in cells:
            head = heads.get(c[:6])
            if head is None:
                if len(heads) > self._MAX_MEMO:
                    heads.clear()
                head = heads[c[:6]] = ",".join(esc(x) for x in c[:6])
            v = c[6]
            value = str(v) if type(v) is int and -2**53 < v < 2**53 else _number(v)
            lines.append(f"{head},{value},{esc(c[7])},{esc(c[8])},{esc(c[9])},{tail}")
        return "".join(lines)
