"""The format-neutral document every reader produces.

A :class:`Document` is an ordered list of blocks, each a :class:`Paragraph`
(text) or a :class:`TableBlock` (rows of :class:`Cell`).  Readers know their
format (tab lines, ``<td>``, ``w:tc``, PDF words) and nothing else; everything
after them (locate, reconstruct, validate, export) sees only this model.

Cells follow the HTML convention for merged cells: a row lists only the cells
that *start* in it (origin cells); a cell covering several grid slots says so
with ``rowspan``/``colspan``.  Readers that cannot know spans (text dumps, where
a merged slot shows up as an empty line) give ``""`` cells with span 1.
``""`` is an empty cell; there is no ``None`` cell.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .errors import ReadError


def join_lines(parts: Iterable[str]) -> str:
    """Join the lines of one wrapped cell or label into one text, the way the
    official template's wrapped cells read (``商业`` + line break + ``企业`` →
    ``商业企业``): each part is whitespace-trimmed, empty parts are dropped, and
    parts join without a separator except between two ASCII letters or digits
    (``Word`` + ``2019`` → ``Word 2019``), where a space is kept.

    :param parts: the lines, in order (str; may be empty).
    :returns: the joined text (``""`` if every part is empty).
    """
    text = ""
    for part in parts:
        part = part.strip()
        if not part:
            continue
        if text and text[-1].isascii() and text[-1].isalnum() and part[0].isascii() and part[0].isalnum():
            text += " "
        text += part
    return text


#: The largest expanded grid (rows × columns) of one table.  A report's largest
#: table (表三) has ~30 × 12 slots; a spreadsheet-sized table of 100,000 rows ×
#: 40 columns still fits.  Beyond it the spans are an attack or a broken file.
MAX_GRID_SLOTS = 4_000_000


@dataclass(slots=True)
class Cell:
    """One table cell as printed (treat as read-only once a reader made it).

    :ivar text: the cell's text, whitespace-trimmed; line breaks inside the cell
        are joined (CJK text joins without a separator).  ``""`` for an empty cell.
    :ivar rowspan: grid rows covered, ≥ 1.
    :ivar colspan: grid columns covered, ≥ 1.
    :ivar where: where the cell is in the source (``"line 37"``, ``"page 3"``),
        for messages; ``None`` if the reader cannot tell.
    :ivar confidence: for a cell read by OCR, the recogniser's score of its
        text (0–1; ``0.0`` for ink read as nothing); ``None`` for a cell read
        from text.
    :ivar alternatives: for a cell read by OCR, other readings of it (a re-read
        at another scale or binarisation), never used as its text.
    """

    text: str
    rowspan: int = 1
    colspan: int = 1
    where: str | None = None
    confidence: float | None = None
    alternatives: tuple[str, ...] = ()


@dataclass(slots=True)
class Paragraph:
    """A run of text outside any table (a heading or a paragraph of narrative).

    :ivar text: the text, whitespace-trimmed at both ends.
    :ivar where: its place in the source (``"line 12"``), or ``None``.
    """

    text: str
    where: str | None = None


@dataclass(slots=True)
class TableBlock:
    """A table as printed: a list of rows, each a list of origin cells.

    :ivar rows: rows top to bottom; each row lists its origin cells left to
        right (see the module docstring for spans).
    :ivar where: where the table starts in the source, or ``None``.
    """

    rows: list[list[Cell]]
    where: str | None = None

    @property
    def n_rows(self) -> int:
        """Number of printed rows."""
        return len(self.rows)

    def texts(self) -> list[list[str]]:
        """The cell texts, row by row (a ragged list; spans not expanded)."""
        return [[c.text for c in row] for row in self.rows]

    def span_limits(self) -> tuple[int, int]:
        """The largest ``(rowspan, colspan)`` this table can hold: a cell spans
        at most the rows from its own to the last (the row limit is applied per
        row by :meth:`columns`; this returns the table's row count), and at most
        as many columns as the table has origin cells (a grid column with no
        cell starting in it only arises from spans, so no real table is wider).
        """
        return len(self.rows), max(1, sum(len(row) for row in self.rows))

    def clamp_spans(self, path: str | None = None) -> int:
        """Clamp every cell's spans to what the table can hold (:meth:`span_limits`;
        a ``rowspan`` running past the last row ends at it) and check the
        expanded grid's size; readers call it on each table they build.

        :returns: the number of cells whose spans were clamped.
        :raises ReadError: the expanded grid would exceed :data:`MAX_GRID_SLOTS`
            (rows × columns); the message names ``path`` and the table.
        """
        n_rows, max_cols = self.span_limits()
        changed = 0
        for r, row in enumerate(self.rows):
            for cell in row:
                rs, cs = min(max(cell.rowspan, 1), n_rows - r), min(max(cell.colspan, 1), max_cols)
                if (rs, cs) != (cell.rowspan, cell.colspan):
                    cell.rowspan, cell.colspan = rs, cs
                    changed += 1
        try:
            self.columns()
        except ReadError as e:
            raise ReadError(e.message, path=path, where=self.where) from None
        return changed

    def columns(self) -> list[list[int]]:
        """The grid column where each origin cell starts, row by row (the same
        ragged shape as :attr:`rows`): a cell starts at the first slot of its
        row that no cell above (rowspan) or to its left (colspan) covers.

        Spans count as clamped to :meth:`span_limits`.  Time and memory are
        bounded by the expanded grid (rows × columns), not by the spans' areas.

        :raises ReadError: the expanded grid would exceed :data:`MAX_GRID_SLOTS`.
        """
        if all(c.rowspan <= 1 and c.colspan <= 1 for row in self.rows for c in row):
            return [list(range(len(row))) for row in self.rows]  # no spans: the common fast case
        n_rows, max_cols = self.span_limits()
        busy: list[int] = []  # grid column → the first row no longer covered by a cell above
        out: list[list[int]] = []
        width = 0
        for r, row in enumerate(self.rows):
            c = 0
            starts = []
            for cell in row:
                while c < len(busy) and busy[c] > r:
                    c += 1
                starts.append(c)
                cs = min(max(cell.colspan, 1), max_cols)
                until = r + min(max(cell.rowspan, 1), n_rows - r)
                if c + cs > len(busy):
                    busy.extend([0] * (c + cs - len(busy)))
                seg = busy[c:c + cs]
                if max(seg) > until:  # overlapping a cell from above (malformed): keep the longer cover
                    busy[c:c + cs] = [max(b, until) for b in seg]
                else:
                    busy[c:c + cs] = [until] * cs
                c += cs
            width = max(width, c)
            if n_rows * width > MAX_GRID_SLOTS:
                raise ReadError(f"a table whose spans make a grid of {n_rows} rows × {width}+ columns "
                                f"(more than {MAX_GRID_SLOTS:,} slots): refused", where=self.where)
            out.append(starts)
        return out

    def grid(self) -> list[list[str | None]]:
        """The table expanded to its full grid: ``n_rows × n_cols`` where n_cols
        is the widest row after expansion.  A merged cell's text fills its origin
        slot; the slots it covers hold ``None``; slots no cell covers hold ``None``.
        """
        slots: dict[tuple[int, int], str] = {}
        width = 0
        max_cols = self.span_limits()[1]
        for r, (row, starts) in enumerate(zip(self.rows, self.columns())):
            for cell, c in zip(row, starts):
                slots[(r, c)] = cell.text
                width = max(width, c + min(max(cell.colspan, 1), max_cols))
        return [[slots.get((r, c)) for c in range(width)] for r in range(len(self.rows))]


Block = Paragraph | TableBlock


def clamp_tables(blocks: Iterable[Block], path: str | None) -> list[str]:
    """:meth:`TableBlock.clamp_spans` on every table of ``blocks``, for readers
    of formats with spans (HTML, DOCX).

    :returns: notes for :attr:`Document.notes`, one per table whose spans were
        clamped (spans are layout, not values: nothing is inferred from them).
    :raises ReadError: a table's grid is too large (names ``path``).
    """
    notes = []
    for block in blocks:
        if isinstance(block, TableBlock) and (n := block.clamp_spans(path)):
            notes.append(f"{n} cell span(s) of {block.where or 'a table'} reached past the table and were "
                         f"cut to its size.")
    return notes


@dataclass(slots=True)
class Source:
    """Where a document came from.

    :ivar path: the file path as given, or ``"<bytes>"``.
    :ivar format: the reader that read it (``"text"``, ``"html"``, ``"docx"``, ``"pdf"``).
    :ivar sha256: hex digest of the input bytes.
    :ivar encoding: the text encoding used, for text-like formats; else ``None``.
    :ivar converted_by: the tool that converted the input before a reader read
        it (``"libreoffice"`` for ``doc``/``wps``/``rtf``/``odt``, read as DOCX:
        :mod:`gipextract.convert`); ``None`` when the reader read the input itself.
    """

    path: str
    format: str
    sha256: str
    encoding: str | None = None
    converted_by: str | None = None


@dataclass(slots=True)
class Document:
    """A report as an ordered list of blocks, independent of its file format.

    :ivar blocks: paragraphs and table blocks in reading order.
    :ivar source: provenance of the document.
    :ivar notes: reading problems the reader met that are not fatal (a table in
        a text box it skipped, an image-only page), as short sentences.
    :ivar incomplete: True when part of the source could not be read at all (a
        PDF page without a text layer, a damaged or skipped page, content
        embedded from another file): a row or table not found may be printed
        there, so it is unknown rather than absent.
    :ivar needs_ocr: True when pages had no (readable) text layer and no OCR
        was run on them: what they print is not in :attr:`blocks`.
    """

    blocks: list[Block]
    source: Source
    notes: list[str] = field(default_factory=list)
    incomplete: bool = False
    needs_ocr: bool = False

    @property
    def paragraphs(self) -> list[Paragraph]:
        """The paragraph blocks, in order."""
        return [b for b in self.blocks if isinstance(b, Paragraph)]

    @property
    def tables(self) -> list[TableBlock]:
        """The table blocks, in order."""
        return [b for b in self.blocks if isinstance(b, TableBlock)]
