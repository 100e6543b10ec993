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


def _quoted_chars() -> str:
    """The characters for which :func:`csv.writer` (``QUOTE_MINIMAL``, ``"\\n"``
    line ends) quotes a field, asked of the running Python's own writer (the
    set differs between versions: 3.11 leaves ``"\\r"`` unquoted)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    out = []
    for c in [chr(i) for i in range(0x80)] + ["\x85", "\u2028", "\u2029"]:
        buf.seek(0)
        buf.truncate()
        writer.writerow(["a" + c + "b"])
        if buf.getvalue().startswith('"'):
            out.append(c)
    return "".join(out)


#: Characters that make :func:`csv.writer` quote a field (:func:`_quoted_chars`).
QUOTED_CHARS = _quoted_chars()


class TidyCsvFormatter:
    """Tidy rows as CSV text, byte-identical to the body of :func:`tidy_csv`
    (:func:`csv.writer`, ``"\\n"`` line ends): the batch's ``cells.csv`` made
    many reports at a time by Arrow (:meth:`arrow_lines`), each distinct label
    and report field escaped once in Python (:meth:`esc`, memoized and bounded)."""

    _MAX_MEMO = 200_000

    def __init__(self) -> None:
        self._esc: dict[str, str] = {}
        self._buf = io.StringIO()
        self._csv = csv.writer(self._buf, lineterminator="\n")

    def esc(self, s) -> str:
        """``s`` as one CSV field (quoted when it must be); ``None`` → ``""``;
        a number as :func:`str` gives it."""
        if s is None or s == "":
            return ""
        if not isinstance(s, str):
            return str(s)
        out = self._esc.get(s)
        if out is None:
            if any(c in QUOTED_CHARS for c in s):
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

    def arrow_lines(self, heads: Iterable[tuple], head_index, values, units, raws, flags,
                    reports: Iterable[tuple], report_index) -> bytes:
        """CSV lines (UTF-8, each ending in ``\\n``) of many reports' cells,
        one per cell, in the columns of :data:`~gipextract.report.TIDY_COLUMNS`.

        :param heads: the distinct label 6-tuples (``key`` … ``col_label``);
            ``head_index``: per cell, the index of its tuple (Arrow ``int32`` array).
        :param values: per cell, the value (Arrow ``float64``, null when none),
            printed as :func:`~gipextract.export.display.number_text` prints it.
        :param units, raws, flags: per cell (Arrow ``string``, null printed empty).
        :param reports: per report, ``(source, agency, year, template)``;
            ``report_index``: per cell, the index of its report (``int32``).
        """
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        esc = self.esc
        head_text = pa.array([",".join(esc(x) for x in h) for h in heads], pa.string()).take(head_index)
        tail_text = pa.array([",".join(esc(x) for x in r) + "\n" for r in reports], pa.string()).take(report_index)
        fields = [head_text, _arrow_numbers(values), *(_arrow_fields(a) for a in (units, raws, flags)), tail_text]
        lines = pc.binary_join_element_wise(*fields, ",")  # each ends in the "\n" of its report's fields
        if not len(lines):
            return b""
        # the lines lie one after the other in the array's data buffer, between its first and last offsets
        ends = np.frombuffer(lines.buffers()[1], dtype=np.int32, count=len(lines) + 1, offset=4 * lines.offset)
        return lines.buffers()[2].slice(int(ends[0]), int(ends[-1] - ends[0])).to_pybytes()


def _arrow_fields(strings):
    """Arrow strings as CSV fields: null → ``""``, a field holding one of
    :data:`QUOTED_CHARS` quoted with its quotes doubled (as :func:`csv.writer`)."""
    import re

    import pyarrow.compute as pc

    strings = pc.fill_null(strings, "")
    must = pc.match_substring_regex(strings, "[" + "".join(re.escape(c) for c in QUOTED_CHARS) + "]")
    if not pc.any(must).as_py():
        return strings
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(strings, '"', '""'), '"', "")
    return pc.if_else(must, quoted, strings)


def _arrow_numbers(values):
    """Arrow ``float64`` values as :func:`~gipextract.export.display.number_text`
    prints them: a whole number without a decimal point, another by Python's
    ``repr`` (converted in Python: money with a fraction, rare), null → ``""``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    whole = pc.fill_null(pc.and_(pc.equal(pc.floor(values), values), pc.less(pc.abs(values), 2.0 ** 63)), False)
    text = pc.if_else(whole, pc.if_else(whole, values, 0.0).cast(pa.int64()).cast(pa.string()), "")
    other = pc.fill_null(pc.invert(whole), False)
    other = pc.and_(other, pc.is_valid(values))
    if pc.any(other).as_py():
        rest = [number_text(v) for v in pc.filter(values, other).to_pylist()]
        text = pc.replace_with_mask(text, other, pa.array(rest, pa.string()))
    return text
