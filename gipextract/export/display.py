"""How a cell shows in the wide outputs (``t2.csv``… and the XLSX table sheets).

The wide outputs are read by people in spreadsheets, under the official column
headers.  Two things must never be lost there (the tidy ``cells.csv`` keeps
them in its ``unit``, ``raw`` and ``flag`` columns):

* **A cell that could not be read is not a blank cell.**  A null cell is
  *printed empty* when the report printed nothing, a dash or 无 there
  (flags in :data:`PRINTED_NONE`); any other null cell (``unreadable``,
  ``ambiguous``, ``row_missing`` …) is *unread*, and never shows a number-like
  text in the value position.
* **A number printed in another unit than its column's shows that unit.**  The
  column's unit is the template's :attr:`~gipextract.templates.ColumnSpec.unit`,
  the unit of the official header the wide outputs print (``本年收费金额（单位：万元）``
  → 万元; 采购总金额 fixes none, so any unit printed or read from the report's
  header shows).  ``21654145元`` under 上一年项目数量 (项) shows as ``21654145元``;
  ``5`` in a 件 column stays ``5``.
"""

from __future__ import annotations

from ..report import CellValue, Finding, Report

#: Flags of null cells where the report printed no number on purpose (nothing,
#: a dash, 无): shown empty in the wide CSVs, as printed in the XLSX.
PRINTED_NONE = frozenset({"blank", "dash", "none_text"})
#: How many of an ``ambiguous`` row's candidate cuts a note lists.
_CUTS_SHOWN = 4
#: How many of a cell's candidate values a note lists.
_VALUES_SHOWN = 8


def number_text(v) -> str:
    """``v`` as printed: counts without a decimal point, money with its
    fraction; ``""`` for ``None``/NA/NaN."""
    if v is None:
        return ""
    try:
        f = float(v)
    except TypeError:  # pandas.NA
        return ""
    if f != f:  # NaN
        return ""
    return str(int(f)) if f.is_integer() else repr(f)


def column_units(report: Report, table: str) -> dict[str, str | None]:
    """Canonical key → the unit of its column as the official header prints it
    (the template's ``ColumnSpec.unit``, ``None`` when the format fixes none),
    for every cell of ``table`` in the report's version of it; ``{}`` when the
    report lacks the table."""
    tt = report.template_for(table)
    if tt is None:
        return {}
    return {key: c.unit for r in tt.rows for key, c in zip(tt.row_cell_keys(r), r.columns)}


def is_unread(cell: CellValue | None) -> bool:
    """True if ``cell`` is null for a reason other than the report printing no
    number there (module docstring): unreadable, ambiguous, row missing …"""
    return cell is not None and cell.value is None and cell.flag not in PRINTED_NONE


def other_unit(cell: CellValue | None, unit: str | None) -> str | None:
    """The unit ``cell`` was printed in when it has a value and that unit is not
    its column's ``unit``, else ``None``."""
    if cell is None or cell.value is None or not cell.unit or cell.unit == unit:
        return None
    return cell.unit


def wide_text(cell: CellValue | None, unit: str | None) -> str:
    """``cell`` as a wide-CSV field (the convention of :mod:`gipextract.export.csv`):
    the number (``12``, ``1234.56``); the number and its unit when that differs
    from the column's ``unit`` (``21654145元``); ``""`` for no cell or a printed-empty
    null cell; ``[flag]`` (``[ambiguous]``, ``[unreadable]``, ``[row_missing]``) for
    an unread one."""
    if cell is None:
        return ""
    if cell.value is None:
        return f"[{cell.flag or 'null'}]" if is_unread(cell) else ""
    return number_text(cell.value) + (other_unit(cell, unit) or "")


def _candidates(report: Report, key: str) -> str:
    """`` — 16 cuts fit (2 6 480430 | …); this cell could be 2, 26 or 264`` for a
    cell of an ``ambiguous`` finding, else ``""``."""
    finding: Finding | None = next((f for f in report.findings if f.rule == "ambiguous" and key in f.cells), None)
    if finding is None or not isinstance(finding.actual, list) or not finding.actual:
        return ""
    cuts = [o for o in finding.actual if isinstance(o, dict)]
    shown = " | ".join(" ".join("∅" if v is None else number_text(v) for v in o.values()) for o in cuts[:_CUTS_SHOWN])
    more = " | …" if len(cuts) > _CUTS_SHOWN else ""
    numbers = sorted({o[key] for o in cuts if o.get(key) is not None})
    values = [number_text(v) for v in numbers] + (["∅"] if any(key in o and o[key] is None for o in cuts) else [])
    if len(values) > _VALUES_SHOWN:
        could = f"; this cell could be {', '.join(values[:_VALUES_SHOWN - 1])}, …"
    elif len(values) > 1:
        could = f"; this cell could be {', '.join(values[:-1])} or {values[-1]}"
    else:
        could = ""
    return f" — {len(cuts)} cuts fit ({shown}{more}){could}"


def cell_note(report: Report, cell: CellValue, unit: str | None) -> str | None:
    """Why ``cell`` shows as it does in a wide output, in one line for a
    spreadsheet comment, or ``None`` when it is a plain number (or printed
    empty): ``ambiguous: printed as '26480430' — 16 cuts fit (2 6 480430 | …);
    this cell could be 2, 26, 264 or 2648``; ``row_missing: the report has no
    such row``; ``unreadable: `` and the message of the cell's reading finding
    when no text was read for it; ``unit: printed as '21654145元', in 元; the
    column is in 项``."""
    if is_unread(cell):
        if cell.raw:
            printed = f"printed as {cell.raw!r}"
        elif cell.flag == "row_missing":
            printed = "the report has no such row"
        else:  # e.g. a row with more or fewer values than the format: its finding says so
            printed = next((f.message for f in report.findings if cell.key in f.cells and f.severity != "error"),
                           "no text read")
        return f"{cell.flag or 'null'}: {printed}{_candidates(report, cell.key)}"
    printed_unit = other_unit(cell, unit)
    if printed_unit:
        column = f"the column is in {unit}" if unit else "the format fixes no unit for this column"
        return f"unit: printed as {cell.raw!r}, in {printed_unit}; {column}"
    return None

