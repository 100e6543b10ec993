"""Ruled tables of the PDF reader: cell boxes from the page's visible ruling,
characters assigned to cells, tables joined across page breaks
(template-spec §7.1, §7.3).

Coordinates are points from the top-left corner of the page.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field

from ...document import Cell, TableBlock, join_lines
from .geometry import BOTTOM, TOP, X0, X1, cell_text

_SNAP = 2.0            # grid boundaries closer than this are one boundary
_EDGE_TOLERANCE = 3.0  # table edges this close are the same edge (page joins)

def _snap(values: list[float]) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if out and v - out[-1] <= _SNAP:
            continue
        out.append(v)
    return out


def _index(bounds: list[float], v: float) -> int:
    """Index of the boundary nearest to ``v``."""
    i = bisect_right(bounds, v)
    if i == 0:
        return 0
    if i == len(bounds) or v - bounds[i - 1] <= bounds[i] - v:
        return i - 1
    return i


@dataclass(slots=True)
class _Box:
    """A cell box of a ruled table: ``(x0, top, x1, bottom)`` in points, its
    characters, and the page it is on."""

    x0: float
    top: float
    x1: float
    bottom: float
    page: int
    chars: list[tuple] = field(default_factory=list)
    text: str = ""


@dataclass(slots=True)
class _Ruled:
    """A ruled table of one page (or joined across pages)."""

    boxes: list[_Box]
    x0: float
    top: float
    x1: float
    bottom: float
    page: int


def _grid(boxes: list[_Box]) -> tuple[list[float], list[float]]:
    xs = _snap([b.x0 for b in boxes] + [b.x1 for b in boxes])
    ys = _snap([b.top for b in boxes] + [b.bottom for b in boxes])
    return xs, ys


def _span(box: _Box, xs: list[float], ys: list[float]) -> tuple[int, int, int, int]:
    """``(row, col, rowspan, colspan)`` of ``box`` on the grid."""
    c0, c1 = _index(xs, box.x0), _index(xs, box.x1)
    r0, r1 = _index(ys, box.top), _index(ys, box.bottom)
    return r0, c0, max(r1 - r0, 1), max(c1 - c0, 1)


def _ruled_table(table, chars: list[tuple], page: int) -> tuple[_Ruled, list[tuple]] | None:
    """The :class:`_Ruled` table of a pdfplumber ``Table`` with its characters,
    and the characters of ``chars`` left outside it; ``None`` if the table has
    fewer than two rows or columns."""
    boxes = [_Box(c[0], c[1], c[2], c[3], page) for c in table.cells]
    xs, ys = _grid(boxes)
    if len(xs) < 3 or len(ys) < 3:
        return None
    x0, top, x1, bottom = table.bbox
    slot: dict[tuple[int, int], int] = {}
    for i, b in enumerate(boxes):
        r, c, rs, cs = _span(b, xs, ys)
        for dr in range(rs):
            for dc in range(cs):
                slot.setdefault((r + dr, c + dc), i)
    outside: list[tuple] = []
    orphans: dict[tuple[int, int], list[tuple]] = {}
    for ch in chars:
        cx, cy = (ch[X0] + ch[X1]) / 2, (ch[TOP] + ch[BOTTOM]) / 2
        if not (x0 <= cx <= x1 and top <= cy <= bottom):
            outside.append(ch)
            continue
        key = (bisect_right(ys, cy) - 1, bisect_right(xs, cx) - 1)
        owner = slot.get(key)
        if owner is None:
            orphans.setdefault(key, []).append(ch)
        else:
            boxes[owner].chars.append(ch)
    ncols, nrows = len(xs) - 1, len(ys) - 1
    for r, c in sorted(orphans):  # a cell whose border is missing: bounded by the grid
        if (r, c) not in orphans:
            continue
        found = orphans.pop((r, c))
        if not (0 <= r < nrows and 0 <= c < ncols):
            outside.extend(found)
            continue
        c1 = c + 1
        while c1 < ncols and (r, c1) not in slot:
            found += orphans.pop((r, c1), [])
            c1 += 1
        boxes.append(_Box(xs[c], ys[r], xs[c1], ys[r + 1], page, found))
    for b in boxes:
        b.text = cell_text(b.chars)
    return _Ruled(boxes, x0, top, x1, bottom, page), outside


class _Edges:
    """What pdfplumber's table finder reads of a page: its ruling edges."""

    def __init__(self, edges: list[dict], bbox: tuple[float, float, float, float]):
        self.edges = edges
        self.bbox = bbox


#: Ruling whose horizontal × vertical lines (after pdfplumber joins and snaps
#: them) exceed this is too dense to grid: pdfplumber's cell search grows
#: faster than the square of the crossings (a 100 × 100 grid takes seconds).
#: A report table has a few hundred.
MAX_RULING_CROSSINGS = 4_000


class RulingTooDense(Exception):
    """A page's ruling has more crossings than :data:`MAX_RULING_CROSSINGS`."""


def ruled_tables(edges: list[dict], chars: list[tuple], page: int, bbox: tuple[float, float, float, float],
                 table_settings: dict | None = None,
                 max_crossings: int = MAX_RULING_CROSSINGS) -> tuple[list[_Ruled], list[tuple]]:
    """The ruled tables of one page and the characters outside them (steps
    2–3 of the reader): pdfplumber's table finder (its ``lines`` strategy:
    snap, join and intersect the ruling) on the page's visible ruling
    ``edges`` (see :func:`.engine.page_edges`), cells filled with ``chars``.
    A table needs two rows and two columns.

    :param page: the 1-based page number, for ``where``.
    :param bbox: the page's ``(x0, top, x1, bottom)`` in points.
    :param table_settings: extra pdfplumber ``TableSettings`` fields.
    :raises RulingTooDense: more than ``max_crossings`` horizontal × vertical
        lines once joined (checked before any crossing is computed).
    """
    if not edges:
        return [], chars
    from pdfplumber.table import (
        Table,
        TableFinder,
        TableSettings,
        cells_to_tables,
        edges_to_intersections,
        intersections_to_cells,
    )

    ts = {"vertical_strategy": "lines", "horizontal_strategy": "lines", **(table_settings or {})}
    stub = _Edges(edges, bbox)
    finder = TableFinder.__new__(TableFinder)  # TableFinder.__init__'s steps, with a bound between them
    finder.page = stub  # type: ignore[assignment]
    finder.settings = settings = TableSettings.resolve(ts)
    joined = finder.get_edges()
    horizontal = sum(e["orientation"] == "h" for e in joined)
    if horizontal * (len(joined) - horizontal) > max_crossings:
        raise RulingTooDense
    points = edges_to_intersections(joined, settings.intersection_x_tolerance, settings.intersection_y_tolerance)
    tables: list[_Ruled] = []
    for group in cells_to_tables(intersections_to_cells(points)):
        found = _ruled_table(Table(stub, group), chars, page)  # type: ignore[arg-type]
        if found is not None:
            table, chars = found
            tables.append(table)
    return tables, chars


def _table_block(t: _Ruled) -> TableBlock:
    """The table block of a ruled table: rows of origin cells with spans."""
    xs, ys = _grid(t.boxes)
    placed = sorted(((*_span(b, xs, ys), b) for b in t.boxes), key=lambda p: (p[0], p[1]))
    rows: list[list[Cell]] = [[] for _ in range(max(len(ys) - 1, 1))]
    for r, _c, rs, cs, b in placed:
        rows[min(r, len(rows) - 1)].append(Cell(b.text, rowspan=rs, colspan=cs, where=f"page {b.page}"))
    rows = [row for row in rows if row]
    return TableBlock(rows, where=f"page {t.page}")


def _row_texts(t: _Ruled) -> list[list[str]]:
    """The texts of the boxes that start in each grid row of ``t``, sorted."""
    xs, ys = _grid(t.boxes)
    rows: list[list[str]] = [[] for _ in range(max(len(ys) - 1, 1))]
    for box in t.boxes:
        rows[min(_span(box, xs, ys)[0], len(rows) - 1)].append(box.text)
    return [sorted(r) for r in rows]


def _without_repeated_header(a: _Ruled, b: _Ruled) -> _Ruled:
    """``b`` without its first rows when they repeat ``a``'s first rows (a
    word processor's repeated header rows on a continuation page)."""
    ra, rb = _row_texts(a), _row_texts(b)
    k = 0
    while k < min(len(ra), len(rb) - 1) and rb[k] == ra[k] and any(rb[k]):
        k += 1
    if not k:
        return b
    xs, ys = _grid(b.boxes)
    boxes = [x for x in b.boxes if _span(x, xs, ys)[0] >= k]
    return _Ruled(boxes, b.x0, ys[k], b.x1, b.bottom, b.page)


def _join_tables(a: _Ruled, b: _Ruled) -> _Ruled:
    """Table ``b`` (top of a page) appended below table ``a`` (bottom of the
    previous page): a repeated header dropped, ``b``'s boxes moved up so that
    its top edge is ``a``'s bottom edge, then a merged cell cut by the break
    joined (step 6)."""
    b = _without_repeated_header(a, b)
    shift = a.bottom - b.top
    axs, ays = _grid(a.boxes)

    def align(x: float) -> float:  # the same ruling drawn a few points off
        near = axs[_index(axs, x)]
        return near if abs(near - x) <= _EDGE_TOLERANCE else x

    moved = [_Box(align(x.x0), x.top + shift, align(x.x1), x.bottom + shift, x.page, x.chars, x.text)
             for x in b.boxes]
    bxs, bys = _grid(moved)
    last = [x for x in a.boxes if abs(x.bottom - a.bottom) <= _SNAP]
    first = [x for x in moved if abs(x.top - a.bottom) <= _SNAP]
    gone: set[int] = set()
    for c in first:
        for p in last:
            if abs(p.x0 - c.x0) > _SNAP or abs(p.x1 - c.x1) > _SNAP:
                continue
            p_rows, c_rows = _span(p, axs, ays)[2], _span(c, bxs, bys)[2]
            if (c_rows > 1 and p_rows == 1) or ((not c.text or not p.text) and (p_rows > 1 or c_rows > 1)):
                p.bottom = c.bottom
                p.text = join_lines((p.text, c.text))
                gone.add(id(c))
            break
    boxes = a.boxes + [x for x in moved if id(x) not in gone]
    return _Ruled(boxes, min(a.x0, b.x0), a.top, max(a.x1, b.x1), b.bottom + shift, a.page)

