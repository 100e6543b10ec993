"""Reconstruct, step 1: printed rows → segments (template-spec §7.3, §7.4).

Every printed row becomes a :class:`Segment`: its label cells and its value
cells.  See :mod:`gipextract.reconstruct` for the whole stage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..document import Cell, TableBlock
from ..normalize import numbering, text_cache
from ..values import looks_like_value


@dataclass(slots=True)
class Segment:
    """A printed row reduced to what matching needs.

    :ivar labels: texts of its label cells, left to right.
    :ivar values: its value cells (numbers, dashes, blanks), left to right.
    :ivar where: place of its first cell.
    :ivar prefix: labels of a label-only segment directly before it (a label
        wrapped onto the previous printed row).
    """

    labels: list[str]
    values: list[Cell]
    where: str | None
    prefix: str = ""
    blank_rows: list[int] = field(default_factory=list)  # widths of wholly empty rows after it

    @property
    def filled(self) -> bool:
        """True if at least one value cell is non-empty."""
        return any(c.text for c in self.values)


def _stub_width(block: TableBlock, starts: list[list[int]]) -> int:
    """The number of grid columns left of the block's leftmost column that
    holds a printed value (number, dash, 无): the label columns."""
    return min((c for row, cols in zip(block.rows, starts) for cell, c in zip(row, cols)
                if cell.text and looks_like_value(cell.text)), default=0)


_CJK = re.compile(r"[\u3400-\u9fff]")


@text_cache(maxsize=4096)
def _annotated_number(text: str) -> bool:
    """A cell after a row's label that is a number with words around it
    (``约678``, ``678（估）``): digits, no label numbering (``1.``, ``（一）``) and
    at most two CJK characters.  It is a value the report annotated (then read
    as ``unreadable`` with a finding), never part of the label."""
    return any(ch.isdigit() for ch in text) and numbering(text) is None and len(_CJK.findall(text)) <= 2


def segment_rows(blocks: list[TableBlock]) -> list[Segment]:
    """The segments of ``blocks`` in order (see the module docstring, step 1).
    An empty cell in a label column of the grid (left of every printed value,
    e.g. a label cell that does not span the leaf-label column) is a merged
    or empty label slot, not a blank value."""
    segs: list[Segment] = []
    for block in blocks:
        starts: list[list[int]] | None = None
        stub = 0
        for r, row in enumerate(block.rows):
            texts = [cell.text for cell in row]
            first = 0
            while first < len(texts) and not texts[first]:
                first += 1
            if "" in texts[first:]:  # an empty cell after the first text: maybe in a label column
                if starts is None:
                    starts = block.columns()
                    stub = _stub_width(block, starts)
                if stub:
                    row = [cell for cell, c in zip(row, starts[r]) if cell.text or c >= stub]
            i = 0
            while i < len(row) and not row[i].text:
                i += 1
            labels: list[str] = []
            while i < len(row) and not looks_like_value(row[i].text) and not (
                    labels and _annotated_number(row[i].text)):
                labels.append(row[i].text)
                i += 1
            values = row[i:]
            if labels:
                prev = segs[-1] if segs else None
                prefix = "".join(prev.labels) if prev and not prev.values else ""
                segs.append(Segment(labels, list(values), row[0].where, prefix))
            elif any(c.text for c in values):
                if segs:
                    segs[-1].values.extend(values)
                else:
                    segs.append(Segment([], list(values), values[0].where))
            elif segs and len(row) > 1:  # a printed row with every cell empty (表四 left unfilled)
                segs[-1].blank_rows.append(len(row))
    return segs
