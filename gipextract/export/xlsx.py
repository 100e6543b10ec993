"""XLSX export (openpyxl): the three tables laid out as the official format
prints them, merged header cells included, plus the tidy cells and findings.

Sheets:

* ``表二`` — one block per 第二十条 item: the block header row (``第二十条第（一）项``)
  across the table, then ``信息内容`` and the block's column labels, then its
  rows; a block with fewer columns than the widest one lets its last column
  span the rest (``本年处理决定数量`` over three columns, spec §3.1).
* ``表三`` — the 勾稽 note in the top-left corner over the three label columns
  and three header rows; the header band ``申请人情况`` → ``自然人`` (two rows
  high), ``法人或其他组织`` → five leaves, ``总计``; the row labels merged as
  printed (``三、本年度办理结果`` down its rows, ``（三）不予公开`` over its eight
  sub-rows, ``一、本年新收…`` across the three label columns) (spec §4.1).
* ``表四`` — ``行政复议`` over five columns and ``行政诉讼`` over ten, split into
  ``未经复议直接起诉`` and ``复议后起诉``; one row of 15 numbers (spec §5).
* ``cells`` — the tidy cells (:data:`gipextract.report.TIDY_COLUMNS`).
* ``findings`` — the report's findings.

Numbers are written as numbers, in the unit of the official column header.
The table sheets mark what a number alone would hide (the rules of
:mod:`gipextract.export.display`, shared with the wide CSVs):

* a cell that could not be read (``unreadable``, ``ambiguous``, ``row_missing``
  …) stays empty, filled :data:`UNREAD_FILL` (light red), with a comment giving
  its flag and the text as printed: ``ambiguous: printed as '26480430' — 16 cuts
  fit (2 6 480430 | …); this cell could be 2, 26, 264, …``;
* a number printed in another unit than its column's is written as text with
  its unit (``21654145元``), filled :data:`UNIT_FILL` (light yellow), with a
  comment naming both units;
* a cell where the report printed a dash or 无 shows it as printed (``—``); a
  blank one stays empty.

The ``cells`` sheet has every cell's ``value``, ``unit``, ``raw`` and ``flag``;
the ``findings`` sheet has the columns and conventions of ``findings.csv``
(:data:`gipextract.export.findings.FINDINGS_COLUMNS`).  A table the report
lacks gives a sheet saying so.
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from ..report import TIDY_COLUMNS, Report
from ..templates import TABLE_SHORT, TableTemplate
from .display import cell_note, column_units, is_unread, number_text, other_unit
from .findings import FINDINGS_COLUMNS, findings_rows

#: The note the official 表三 prints in its top-left header cell (spec §4.1, §6.1 T3-A).
T3_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
SHEETS = TABLE_SHORT
_HEADER = Font(bold=True)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
#: Fill of a cell that could not be read (its comment says why).
UNREAD_FILL = PatternFill("solid", start_color="FFC7CE", end_color="FFC7CE")
#: Fill of a number printed in another unit than its column's.
UNIT_FILL = PatternFill("solid", start_color="FFEB9C", end_color="FFEB9C")
_COMMENT_SIZE = (90, 300)  # height, width in points


def spans(paths: list[tuple[str, ...]]) -> list[tuple[int, int, int, int, str]]:
    """Merged header cells of a header band, as ``(level, first, last_level,
    last, label)`` (0-based, inclusive).

    ``paths`` are the top-down label paths of consecutive columns (or rows),
    padded to one depth with ``""``.  Neighbours whose paths agree up to a
    level share that level's cell; a ``""`` under a label extends that label's
    cell downwards (``自然人`` over two header rows).
    """
    out = []
    depth = max((len(p) for p in paths), default=0)
    for level in range(depth):
        i = 0
        while i < len(paths):
            label = paths[i][level]
            if label == "":
                i += 1
                continue
            j = i
            while j + 1 < len(paths) and paths[j + 1][:level + 1] == paths[i][:level + 1]:
                j += 1
            last_level = level
            while last_level + 1 < depth and all(paths[k][last_level + 1] == "" for k in range(i, j + 1)):
                last_level += 1
            out.append((level, i, last_level, j, label))
            i = j + 1
    return out


def _pad(path: tuple[str, ...], depth: int) -> tuple[str, ...]:
    return path + ("",) * (depth - len(path))


def _put(ws, row: int, col: int, last_row: int, last_col: int, value, header: bool = True) -> None:
    cell = ws.cell(row=row, column=col, value=value)
    cell.alignment = _CENTER if header else _LEFT
    if header:
        cell.font = _HEADER
    if (last_row, last_col) != (row, col):
        ws.merge_cells(start_row=row, start_column=col, end_row=last_row, end_column=last_col)


def _put_value(ws, row: int, col: int, report: Report, key: str, units: dict[str, str | None]) -> None:
    """Write the cell ``key`` at (``row``, ``col``) as the module docstring says:
    a number, a number with its unit, a dash as printed, or empty; marked with
    a fill and a comment when it is unread or in another unit."""
    cell = report.cells.get(key)
    if cell is None:
        return
    unit = units.get(key)
    if cell.value is not None:
        printed_unit = other_unit(cell, unit)
        value = cell.value if printed_unit is None else f"{number_text(cell.value)}{printed_unit}"
    elif is_unread(cell):
        value = None
    else:  # printed nothing, a dash or 无: as printed
        value = (cell.raw or "").strip() or None
    target = ws.cell(row=row, column=col, value=value)
    note = cell_note(report, cell, unit)
    if note is not None:
        target.fill = UNREAD_FILL if is_unread(cell) else UNIT_FILL
        target.comment = Comment(note, "gipextract", height=_COMMENT_SIZE[0], width=_COMMENT_SIZE[1])


def _grid(ws, report: Report, tt: TableTemplate) -> None:
    """表三 / 表四: one header band over shared columns (spec §4.1, §5)."""
    if tt.joined_row:  # 表四: the rows printed side by side as one row
        rows = [tt.row(k) for k in tt.joined_row]
        columns = [r.path + (c.label,) for r in rows for c in r.columns]
        keys = [[k for r in rows for k in tt.row_cell_keys(r)]]
        row_paths: list[tuple[str, ...]] = [()]
    else:
        columns = [c.path for c in tt.columns]
        keys = [tt.row_cell_keys(r) for r in tt.rows]
        row_paths = [r.path for r in tt.rows]
    depth = max(len(p) for p in columns)
    width = max(len(p) for p in row_paths)
    if width and depth:
        _put(ws, 1, 1, depth, width, T3_NOTE if tt.name == "t3" else "")
    for level, first, last_level, last, label in spans([_pad(p, depth) for p in columns]):
        _put(ws, level + 1, width + first + 1, last_level + 1, width + last + 1, label)
    if width:
        for level, first, last_level, last, label in spans([_pad(p, width) for p in row_paths]):
            _put(ws, depth + first + 1, level + 1, depth + last + 1, last_level + 1, label)
    units = column_units(report, tt.name)
    for i, row_keys in enumerate(keys):
        for j, key in enumerate(row_keys):
            _put_value(ws, depth + i + 1, width + j + 1, report, key, units)
    for j in range(width):
        ws.column_dimensions[get_column_letter(j + 1)].width = 14 if j < width - 1 else 36
    for j in range(len(columns)):
        ws.column_dimensions[get_column_letter(width + j + 1)].width = 11


def _blocks(ws, report: Report, tt: TableTemplate) -> None:
    """表二: one block per 第二十条 item (spec §3)."""
    width = 1 + max(len(r.columns) for r in tt.rows)
    units = column_units(report, tt.name)
    at = 1
    for bkey, blabel in tt.blocks:
        rows = [r for r in tt.rows if r.group == bkey]
        _put(ws, at, 1, at, width, blabel)
        cols = rows[0].columns
        _put(ws, at + 1, 1, at + 1, 1, "信息内容")
        for j, c in enumerate(cols):
            _put(ws, at + 1, j + 2, at + 1, width if j == len(cols) - 1 else j + 2, c.label)
        for i, r in enumerate(rows):
            _put(ws, at + 2 + i, 1, at + 2 + i, 1, r.label, header=False)
            for j, key in enumerate(tt.row_cell_keys(r)):
                last = width if j == len(cols) - 1 else j + 2
                _put_value(ws, at + 2 + i, j + 2, report, key, units)
                if last != j + 2:
                    ws.merge_cells(start_row=at + 2 + i, start_column=j + 2, end_row=at + 2 + i, end_column=last)
        at += 2 + len(rows)
    ws.column_dimensions["A"].width = 18
    for j in range(2, width + 1):
        ws.column_dimensions[get_column_letter(j)].width = 16


def _rows_sheet(wb: Workbook, title: str, header: tuple[str, ...], rows) -> None:
    ws = wb.create_sheet(title)
    ws.append(list(header))
    for c in ws[1]:
        c.font = _HEADER
    for row in rows:
        ws.append(list(row))
        for c in ws[ws.max_row]:
            if c.data_type == "f":  # text read from a report that starts with "=" is text, not a formula
                c.data_type = "s"
    ws.freeze_panes = "A2"


def to_xlsx(report: Report) -> bytes:
    """``report`` as an XLSX workbook (module docstring), as bytes."""
    wb = Workbook()
    wb.remove(wb.active)
    for name, title in SHEETS.items():
        ws = wb.create_sheet(title)
        tt = report.template_for(name)
        if tt is None:
            ws.cell(row=1, column=1, value=f"{title}: not found in this report")
        elif tt.blocks:
            _blocks(ws, report, tt)
        else:
            _grid(ws, report, tt)
    _rows_sheet(wb, "cells", TIDY_COLUMNS, report.tidy_rows())
    _rows_sheet(wb, "findings", FINDINGS_COLUMNS, findings_rows(report))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
