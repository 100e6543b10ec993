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
from .layout import T3_NOTE, Layout, blocks_layout, grid_layout, spans  # noqa: F401 — T3_NOTE, spans: re-exported

SHEETS = TABLE_SHORT
_HEADER = Font(bold=True)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
#: Fill of a cell that could not be read (its comment says why).
UNREAD_FILL = PatternFill("solid", start_color="FFC7CE", end_color="FFC7CE")
#: Fill of a number printed in another unit than its column's.
UNIT_FILL = PatternFill("solid", start_color="FFEB9C", end_color="FFEB9C")
_COMMENT_SIZE = (90, 300)  # height, width in points


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


def _draw(ws, report: Report, layout: Layout, units: dict[str, str | None]) -> None:
    """Draw the printed grid ``layout`` (:mod:`gipextract.export.layout`) on ``ws``."""
    for s in layout.slots:
        if s.key is None:
            _put(ws, s.row, s.col, s.last_row, s.last_col, s.text, header=s.header)
            continue
        _put_value(ws, s.row, s.col, report, s.key, units)
        if (s.last_row, s.last_col) != (s.row, s.col):
            ws.merge_cells(start_row=s.row, start_column=s.col, end_row=s.last_row, end_column=s.last_col)


def _grid(ws, report: Report, tt: TableTemplate) -> None:
    """表三 / 表四: one header band over shared columns (spec §4.1, §5)."""
    layout = grid_layout(tt)
    _draw(ws, report, layout, column_units(report, tt.name))
    width = layout.label_cols
    for j in range(width):
        ws.column_dimensions[get_column_letter(j + 1)].width = 14 if j < width - 1 else 36
    for j in range(layout.n_cols - width):
        ws.column_dimensions[get_column_letter(width + j + 1)].width = 11


def _blocks(ws, report: Report, tt: TableTemplate) -> None:
    """表二: one block per 第二十条 item (spec §3)."""
    layout = blocks_layout(tt)
    _draw(ws, report, layout, column_units(report, tt.name))
    ws.column_dimensions["A"].width = 18
    for j in range(2, layout.n_cols + 1):
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
