"""CSV export: one wide CSV per table and one tidy CSV of all cells.

Wide CSVs (``t2.csv``, ``t3.csv``, ``t4.csv``) are meant for spreadsheets: one
column per row-index level (named as the template's ``row_levels``) followed by
one column per data column, named by its official header path joined with
``|`` (``申请人情况|法人或其他组织|商业企业``).  Each value field is one of
(:func:`gipextract.export.display.wide_text`):

* a number, as printed: counts without a decimal point, money with its
  fraction (``12``, ``1234.56``), in the unit of the column's official header;
* a number followed by its unit (``21654145元``) when the report printed it in
  another unit than the column's (a fee in 元 under ``本年收费金额（单位：万元）``,
  ``元`` under 上一年项目数量), or any unit in a column whose format fixes none
  (V2019 采购总金额);
* empty: the report printed nothing, a dash or 无 there (flags ``blank``,
  ``dash``, ``none_text``), or the row has no such column (表二's blocks);
* ``[flag]`` — ``[unreadable]``, ``[ambiguous]``, ``[row_missing]`` …: a cell that
  could not be read (or a row the report lacks).  It is never a number; the text
  as printed is in ``cells.csv``'s ``raw`` and the reason in ``findings.csv``.

The tidy CSV (``cells.csv``) has the columns of
:data:`gipextract.report.TIDY_COLUMNS`, one row per cell: ``value`` is the
number (empty when null), and ``unit``, ``raw`` and ``flag`` say in which unit
it was printed, what text was read and why a value is null or special.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from ..report import Report
from .display import column_units, number_text, wide_text


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
    """Table ``table`` of ``report`` as wide CSV text (module docstring: numbers,
    numbers with a unit, empty, ``[flag]``); only the header row if the report
    lacks the table (the header of the report's format, else of the newest), so
    that a spreadsheet never meets a 0-byte file.

    :raises KeyError: ``table`` is not ``t2``, ``t3`` or ``t4``.
    """
    frame = report.table(table)
    tt = report.template_for(table)
    if frame.empty or tt is None:
        return _header_only(report, table)
    units = column_units(report, table)
    flat = frame.copy().astype(object)
    for j, col in enumerate(tt.columns):  # the frame's columns and rows are the template's, in order
        texts = []
        for r in tt.rows:
            spec = next((c for c in r.columns if c.path == col.path), None)
            key = f"{table}.{r.key}.{spec.key}" if spec is not None else None
            texts.append(wide_text(report.cells.get(key), units.get(key)) if key else "")
        flat.iloc[:, j] = texts
    flat.columns = ["|".join(p for p in col if p) for col in frame.columns]
    flat = flat.reset_index()
    flat.columns = dedupe([str(c) for c in flat.columns])
    buf = io.StringIO()
    flat.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


def _header_only(report: Report, table: str) -> str:
    from ..templates import VERSIONS, fallback_version, get_template

    present = list(report.table_versions.values())
    version = report.template if report.template in VERSIONS else (present[0] if present else fallback_version())
    tt = get_template(version).tables[table]
    names = dedupe(list(tt.row_levels) + ["|".join(p for p in c.path if p) for c in tt.columns])
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(names)
    return buf.getvalue()


def tidy_csv(report: Report) -> str:
    """All cells of ``report`` as tidy CSV text, one row per cell."""
    frame = report.tidy().copy()
    frame["value"] = [number_text(v) for v in frame["value"]]
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
            value = str(v) if type(v) is int and -2**53 < v < 2**53 else number_text(v)
            lines.append(f"{head},{value},{esc(c[7])},{esc(c[8])},{esc(c[9])},{tail}")
        return "".join(lines)
