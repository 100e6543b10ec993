"""Layout lines → paragraphs and table blocks (template-spec §7.5, §7.1, §7.3).

Some sources give a report as lines of text laid out like the printed page:
the text layer of a PDF page without ruling lines (rebuilt from character
positions by :mod:`.pdf`) and raw PDF-to-text dumps (``pdftotext`` output,
read by :mod:`.text`).  In such text a table row is one line, a label followed
by its numbers (``一、本年新收政府信息公开申请数量 3001 53 0 0 61 4 3119``), and
merged cells leave fragments behind.  This module is the one implementation of
that rule; both readers call :func:`layout_blocks`.  It knows layout, not the
template: no label of the official format appears here.

Each :class:`Line` comes with its *cells*: the reader's split of the line (the
text reader splits at whitespace, the PDF reader at wide gaps).  Then:

1. **Page furniture.**  Page-number lines (``- 4 -``, ``— 1 —``, ``第 4 页``,
   ``4/6``) are dropped (:func:`is_page_marker`); a table cut by a page break
   thereby runs on.
2. **Kinds.**  A *row* ends in one or more value cells (numbers, dashes,
   ``无``: :func:`~gipextract.values.looks_like_value`) after an optional label
   (no ``。``, at most ``MAX_ROW_LABEL`` characters).  A *fragment* is one cell
   of 1–3 characters with no digit: a piece of a merged cell's text (vertical
   labels printed one character per line, the tail of a wrapped header word),
   or a line the PDF reader found to be a vertical label.  A *label* line is
   other short text without sentence punctuation (a header, a wrapped label).
   Everything else is *text* (narrative, headings), and so is a line the PDF
   reader found to fill the page's width in one piece (``prose``).
3. **Regions.**  Rows separated only by label and fragment lines (at most
   ``MAX_GAP`` label lines) form one table region; a region takes in the label
   and fragment lines right above its first row (the header) and the
   fragments right below its last.  A region needs two rows, or one row of at
   least ``MIN_LONE_VALUES`` values (表四's single row of 15), so that a line of
   narrative that happens to end in a number stays narrative.  A numbered
   heading (``二、上年结转…``) followed directly by a line of bare numbers is a
   label whose numbers wrapped, not a heading.
4. **Rows.**  Each line of a region becomes one table row: its label cells,
   then one cell per value.  A run of fragment lines becomes one label row,
   its characters joined (``三、``/``本``/``年``/… → ``三、本年度办理结果``);
   when the run directly follows a label line, its first fragment is the tail
   of that label (``（三）不`` + ``予公开``) and is appended to it (with
   geometry: of the label line of the last two whose horizontal extent it
   overlaps, so ``（六）其`` + ``他处理`` across an interleaved leaf label).  Joining a
   wrapped label with the line that carries its numbers is left to the
   reconstructor (a label-only row is the prefix of the row after it).
   When the reader knows where each cell is (PDF), a row with fewer values
   than the rows above and below it, which agree on their columns, gets an
   empty cell for each column it leaves blank (:func:`with_blanks`); text
   dumps keep no trace of a blank cell.

Lines outside regions become paragraphs, one per line by default; a reader
that can do better (the PDF reader reflows lines into paragraphs) passes its
own ``paragraphs`` function.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..document import Block, Cell, Paragraph, TableBlock
from ..values import looks_like_value

#: Longest label (characters, spaces excluded) a table row line may carry.
MAX_ROW_LABEL = 60
#: Longest label-only line that may sit inside a table region.
MAX_LABEL_LINE = 40
#: Longest fragment of a merged cell (characters).
MAX_FRAGMENT = 3
#: Most label lines allowed between two rows of one region.
MAX_GAP = 6
#: Values a lone row needs to be a table by itself (表四's row has 15).
MIN_LONE_VALUES = 3

ROW, FRAGMENT, LABEL, HEADING, TEXT, EMPTY = "row", "fragment", "label", "heading", "text", "empty"

_DASHES = "-—–－―─~_"
_PAGE_MARKER = re.compile(
    rf"^(?:[{_DASHES}]+\s*\d{{1,4}}\s*[{_DASHES}]+"               # - 4 -, — 1 —, －4－
    r"|第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?"  # 第 4 页, 第4页 共6页
    r"|\d{1,4}\s*/\s*\d{1,4}"                                 # 4/6
    r"|(?:page|p\.)\s*\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?)$",   # Page 4, page 4 of 6
    re.I,
)
_HEADING = re.compile(r"^[一二三四五六七八九十]+\s*[、.．]\s*\S{4,}")
_NO_DIGIT_SHORT = re.compile(rf"^[^\d\sA-Za-z]{{1,{MAX_FRAGMENT}}}$")
_SENTENCE = ("。", "；", ";")


@dataclass(slots=True)
class Line:
    """One printed line of layout text.

    :ivar text: the line as printed (trimmed), used for paragraphs.
    :ivar cells: the line split into cells left to right by the reader
        (labels and values; never empty strings).
    :ivar where: its place in the source (``"line 12"``, ``"page 4"``).
    :ivar vertical: True if the reader found by geometry that the line is a
        merged cell's text printed one character per line, already joined.
    :ivar x0: left edge of the line (PDF points), when the reader knows it.
    :ivar x1: right edge of the line (PDF points), when the reader knows it.
    :ivar spans: ``(x0, x1)`` of each cell (PDF points), parallel to
        ``cells``, when the reader knows them; ``None`` otherwise.
    :ivar prose: True if the reader knows by geometry that the line is running
        text (its first cell fills most of the page's width), so never a
        table row even when it ends in a number.
    """

    text: str
    cells: list[str]
    where: str | None = None
    vertical: bool = False
    x0: float | None = None
    x1: float | None = None
    spans: list[tuple[float, float]] | None = None
    prose: bool = False


def is_page_marker(text: str) -> bool:
    """True for a page-number line: ``- 4 -``, ``— 1 —``, ``－4－``,
    ``第 4 页``, ``第4页 共6页``, ``4/6``, ``Page 4``.  A bare number is *not*
    a page marker here (it may be a table value); the PDF reader drops bare
    numbers in the page margins itself."""
    s = text.strip()
    return len(s) <= 24 and _PAGE_MARKER.match(s) is not None


def split_cells(text: str) -> list[str]:
    """A plain-text line's cells: its whitespace-separated tokens (a text dump
    keeps no other trace of the cell boundaries)."""
    return text.split()


def _trailing_values(cells: list[str]) -> int:
    n = 0
    for c in reversed(cells):
        if not looks_like_value(c):
            break
        n += 1
    return n


def line_kind(line: Line) -> str:
    """The kind of ``line``: ``row``, ``fragment``, ``label``, ``heading``,
    ``text`` or ``empty`` (module docstring, step 2)."""
    cells = [c for c in line.cells if c.strip()]
    if not cells:
        return EMPTY
    if line.vertical:
        return FRAGMENT
    if line.prose:
        return TEXT
    n = _trailing_values(cells)
    label = "".join(cells[:len(cells) - n])
    if n:
        return ROW if not any(p in label for p in _SENTENCE) and len(label) <= MAX_ROW_LABEL else TEXT
    text = "".join(cells)
    if len(cells) == 1 and _NO_DIGIT_SHORT.match(text):
        return FRAGMENT
    if any(p in text for p in _SENTENCE) or text.endswith(("：", ":")) or len(text) > MAX_LABEL_LINE:
        return TEXT
    if _HEADING.match(text):
        return HEADING
    return LABEL


def _kinds(lines: Sequence[Line]) -> list[str]:
    kinds = [line_kind(line) for line in lines]
    for i, k in enumerate(kinds):
        if k != HEADING:
            continue
        j = i + 1
        while j < len(kinds) and kinds[j] == EMPTY:
            j += 1
        if j < len(kinds) and kinds[j] == ROW and _trailing_values(lines[j].cells) == len(lines[j].cells):
            kinds[i] = LABEL  # a label whose numbers wrapped onto the next line
    return kinds


def find_regions(lines: Sequence[Line]) -> list[tuple[int, int]]:
    """The table regions of ``lines`` as ``(start, stop)`` index ranges
    (stop exclusive), in order (module docstring, step 3)."""
    kinds = _kinds(lines)
    clusters: list[list[int]] = []
    for i, k in enumerate(kinds):
        if k != ROW:
            continue
        if clusters:
            prev = clusters[-1][-1]
            between = kinds[prev + 1:i]
            if all(b in (LABEL, FRAGMENT, EMPTY) for b in between) and between.count(LABEL) <= MAX_GAP:
                clusters[-1].append(i)
                continue
        clusters.append([i])
    regions: list[tuple[int, int]] = []
    for rows in clusters:
        if len(rows) < 2 and _trailing_values(lines[rows[0]].cells) < MIN_LONE_VALUES:
            continue
        start, stop = rows[0], rows[-1] + 1
        floor = regions[-1][1] if regions else 0
        while start > floor and kinds[start - 1] in (LABEL, FRAGMENT, EMPTY):
            start -= 1
        while start < rows[0] and kinds[start] == EMPTY:
            start += 1
        while stop < len(lines) and kinds[stop] in (FRAGMENT, EMPTY):
            stop += 1
        while stop > rows[-1] + 1 and kinds[stop - 1] == EMPTY:
            stop -= 1
        regions.append((start, stop))
    return regions


def _split(line: Line) -> tuple[list[str], list[str]]:
    """A row line's label cells and value cells."""
    cells = [c for c in line.cells if c.strip()]
    n = _trailing_values(cells)
    labels, values = cells[:len(cells) - n], cells[len(cells) - n:]
    if any(looks_like_value(c) for c in labels):
        labels = [" ".join(labels)]  # a number inside a label (第 1 项) must not start the values
    return labels, values


def _row_cells(line: Line, values: list[str] | None = None) -> list[Cell]:
    labels, printed = _split(line)
    return [Cell(t, where=line.where) for t in labels + (printed if values is None else values)]


def _value_spans(line: Line) -> list[tuple[float, float]] | None:
    if line.spans is None or len(line.spans) != len(line.cells):
        return None
    n = _trailing_values(line.cells)
    return line.spans[len(line.spans) - n:] if n else []


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def with_blanks(line: Line, above: Line, below: Line) -> list[str] | None:
    """The values of row ``line`` with ``""`` for the blank cells it leaves
    out, when geometry shows them: the rows ``above`` and ``below`` it carry
    more values, as many each, in the same columns (their value cells overlap
    pairwise), and each value of ``line`` lies in exactly one of those
    columns.  ``None`` when that cannot be shown (then the row keeps what it
    printed and the reconstructor reports a wrong count)."""
    mine, up, down = _value_spans(line), _value_spans(above), _value_spans(below)
    if not mine or up is None or down is None or len(up) != len(down) or len(up) <= len(mine):
        return None
    if not all(_overlap(a, b) for a, b in zip(up, down)):
        return None
    columns = [(min(a[0], b[0]), max(a[1], b[1])) for a, b in zip(up, down)]
    values = _split(line)[1]
    out = [""] * len(columns)
    last = -1
    for text, span in zip(values, mine):
        hits = [k for k, col in enumerate(columns) if _overlap(span, col)]
        if len(hits) != 1 or hits[0] <= last:
            return None
        out[hits[0]] = text
        last = hits[0]
    return out


def _continues(fragment: Line, label: Line) -> bool:
    """Whether ``fragment`` can be the wrapped tail of ``label``: always in
    text without geometry; in a PDF, when their horizontal extents overlap."""
    if fragment.x0 is None or label.x0 is None or fragment.x1 is None or label.x1 is None:
        return True
    return fragment.x0 < label.x1 and label.x0 < fragment.x1


def region_block(lines: Sequence[Line]) -> TableBlock:
    """The table block of one region's lines (module docstring, step 4)."""
    kinds = _kinds(lines)
    rows: list[list[Cell]] = []
    fragments: list[Line] = []
    labels: list[tuple[int, Line]] = []  # label-only rows that a fragment may continue
    row_lines: list[tuple[int, Line]] = []  # rows with values, for blank cells shown by geometry

    def flush() -> None:
        if fragments:
            text = "".join("".join(f.cells) for f in fragments)
            rows.append([Cell(text, where=fragments[0].where)])
            fragments.clear()

    for line, kind in zip(lines, kinds):
        if kind == EMPTY:
            continue
        if kind == FRAGMENT:
            # the tail of a wrapped label: the row just above, or (knowing geometry) the one above that
            reach = 2 if line.x0 is not None else 1
            target = next((r for r, label in reversed(labels) if r >= len(rows) - reach and _continues(line, label)),
                          None)
            if not fragments and not line.vertical and target is not None:
                last = rows[target][-1]
                rows[target][-1] = Cell(last.text + "".join(line.cells), where=last.where)
                labels = [(r, label) for r, label in labels if r != target]
                continue
            fragments.append(line)
            continue
        flush()
        if kind == ROW:
            row_lines.append((len(rows), line))
        rows.append(_row_cells(line))
        if kind != ROW:
            labels.append((len(rows) - 1, line))
    flush()
    for (_, above), (r, line), (_, below) in zip(row_lines, row_lines[1:], row_lines[2:]):
        values = with_blanks(line, above, below)
        if values is not None:
            rows[r] = _row_cells(line, values)
    return TableBlock(rows, where=lines[0].where if lines else None)


def _one_paragraph_per_line(lines: list[Line]) -> list[Paragraph]:
    return [Paragraph(line.text, where=line.where) for line in lines if line.text.strip()]


def layout_blocks(lines: Sequence[Line],
                  paragraphs: Callable[[list[Line]], list[Paragraph]] = _one_paragraph_per_line) -> list[Block]:
    """Turn layout lines into blocks (see the module docstring).

    :param lines: the lines in reading order (across pages).
    :param paragraphs: turns a run of lines outside any table into paragraphs;
        by default one paragraph per line.
    :returns: paragraphs and table blocks in reading order; page-number lines
        are dropped.  Never raises.
    """
    kept = [line for line in lines if not is_page_marker(line.text)]
    out: list[Block] = []
    pos = 0
    for start, stop in find_regions(kept):
        if start > pos:
            out.extend(paragraphs(kept[pos:start]))
        out.append(region_block(kept[start:stop]))
        pos = stop
    if pos < len(kept):
        out.extend(paragraphs(kept[pos:]))
    return out
