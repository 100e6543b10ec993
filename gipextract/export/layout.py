"""The statistics tables laid out as the official format prints them: which
header, label or value goes in which grid cell, and over how many rows and
columns it spans.  Shared by the XLSX export (:mod:`gipextract.export.xlsx`)
and the review page (:mod:`gipextract.export.review`); both only draw it.

* 表二 (spec §3, §3.1): one block per 第二十条 item: the block header row
  (``第二十条第（一）项``) across the table, then ``信息内容`` and the block's
  column labels, then its rows; a block with fewer columns than the widest one
  lets its last column span the rest (``本年处理决定数量`` over three columns).
* 表三 (spec §4.1): the 勾稽 note in the top-left corner over the label columns
  and header rows; the header band ``申请人情况`` → ``自然人`` (two rows high),
  ``法人或其他组织`` → five leaves, ``总计``; the row labels merged as printed.
* 表四 (spec §5): ``行政复议`` over five columns and ``行政诉讼`` over ten, split
  into ``未经复议直接起诉`` and ``复议后起诉``; one row of 15 numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..templates import TableTemplate

#: The note the official 表三 prints in its top-left header cell (spec §4.1, §6.1 T3-A).
T3_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"


@dataclass(frozen=True, slots=True)
class Slot:
    """One printed cell of a table grid (1-based, inclusive).

    :ivar row, col: its top-left grid position.
    :ivar last_row, last_col: its bottom-right grid position (``== row, col``
        when it spans nothing).
    :ivar text: a header's or label's text; ``None`` for a value cell.
    :ivar key: a value cell's canonical key; ``None`` for a header or label.
    :ivar header: a header cell (bold, centred); ``False`` for 表二's row
        labels and for value cells.
    """

    row: int
    col: int
    last_row: int
    last_col: int
    text: str | None = None
    key: str | None = None
    header: bool = True

    @property
    def rowspan(self) -> int:
        """Grid rows covered, ≥ 1."""
        return self.last_row - self.row + 1

    @property
    def colspan(self) -> int:
        """Grid columns covered, ≥ 1."""
        return self.last_col - self.col + 1


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


@dataclass(frozen=True, slots=True)
class Layout:
    """A table's printed grid: its :class:`Slot` s in drawing order (headers,
    then labels and values row by row), and the grid's size.

    :ivar label_cols: columns holding row labels (left of the values).
    :ivar header_rows: rows of the header band (表三/表四; 0 for 表二).
    """

    slots: tuple[Slot, ...]
    n_rows: int
    n_cols: int
    label_cols: int
    header_rows: int


def grid_layout(tt: TableTemplate) -> Layout:
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
    slots: list[Slot] = []
    if width and depth:
        slots.append(Slot(1, 1, depth, width, T3_NOTE if tt.name == "t3" else ""))
    for level, first, last_level, last, label in spans([_pad(p, depth) for p in columns]):
        slots.append(Slot(level + 1, width + first + 1, last_level + 1, width + last + 1, label))
    if width:
        for level, first, last_level, last, label in spans([_pad(p, width) for p in row_paths]):
            slots.append(Slot(depth + first + 1, level + 1, depth + last + 1, last_level + 1, label))
    for i, row_keys in enumerate(keys):
        for j, key in enumerate(row_keys):
            slots.append(Slot(depth + i + 1, width + j + 1, depth + i + 1, width + j + 1, key=key, header=False))
    return Layout(tuple(slots), depth + len(keys), width + len(columns), width, depth)


def blocks_layout(tt: TableTemplate) -> Layout:
    """表二: one block per 第二十条 item (spec §3)."""
    width = 1 + max(len(r.columns) for r in tt.rows)
    slots: list[Slot] = []
    at = 1
    for bkey, blabel in tt.blocks:
        rows = [r for r in tt.rows if r.group == bkey]
        slots.append(Slot(at, 1, at, width, blabel))
        cols = rows[0].columns
        slots.append(Slot(at + 1, 1, at + 1, 1, "信息内容"))
        for j, c in enumerate(cols):
            slots.append(Slot(at + 1, j + 2, at + 1, width if j == len(cols) - 1 else j + 2, c.label))
        for i, r in enumerate(rows):
            slots.append(Slot(at + 2 + i, 1, at + 2 + i, 1, r.label, header=False))
            for j, key in enumerate(tt.row_cell_keys(r)):
                last = width if j == len(cols) - 1 else j + 2
                slots.append(Slot(at + 2 + i, j + 2, at + 2 + i, last, key=key, header=False))
        at += 2 + len(rows)
    return Layout(tuple(slots), at - 1, width, 1, 0)


#: id(template) → (template, its layout): the few templates in use, each laid
#: out once (the template is held, so its id cannot be reused while cached).
_LAYOUTS: dict[int, tuple[TableTemplate, Layout]] = {}


def table_layout(tt: TableTemplate) -> Layout:
    """The printed grid of ``tt``: :func:`blocks_layout` for 表二, else
    :func:`grid_layout` (computed once per template)."""
    hit = _LAYOUTS.get(id(tt))
    if hit is not None and hit[0] is tt:
        return hit[1]
    layout = blocks_layout(tt) if tt.blocks else grid_layout(tt)
    if len(_LAYOUTS) >= 64:
        _LAYOUTS.clear()
    _LAYOUTS[id(tt)] = (tt, layout)
    return layout
