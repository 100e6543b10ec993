"""Reader for PDF reports: pdfplumber's text layer → :class:`Document`
(template-spec §7.1, §7.3, §7.5).

Coordinates are PDF points (1/72 inch) from the top-left corner of the page,
as pdfplumber gives them (``x0``/``x1`` left/right, ``top``/``bottom``).  Each
page is parsed once; its characters and ruling serve every step:

1. **Characters**: the page's characters; a printed space only breaks words,
   a character printed twice at the same place (fake bold) counts once.  A
   page whose characters mostly have no Unicode mapping (pdfminer's
   ``(cid:N)``) has no usable text layer.
2. **Ruled tables**: pdfplumber's table finder on the page's *visible* ruling —
   stroked lines and rectangles, and filled rectangles that are not white.
   White unstroked rectangles (text backgrounds that word processors put behind
   paragraphs) are not ruling.  A table needs two rows and two columns.
3. **Cells**: a table's cell boxes give its grid (the sorted column and row
   boundaries); each box becomes an origin cell with its rowspan/colspan.
   Characters go to the cell under their centre; characters inside the table
   but under no cell (a cell whose border is missing) get a cell of their own,
   bounded by the grid.  A cell's text is its lines joined, CJK without a
   separator (``三、``/``本``/``年``/… → ``三、本年度办理结果``, ``商业企``/``业``).
4. **Lines**: characters outside ruled tables are grouped into lines by *row
   bands* — a character belongs to a band when its vertical centre lies in
   the band and the band's centre in the character — not by reading order, so
   numbers set a little higher than their label share its line.  Words split at
   gaps; cells split at wide gaps and around numbers.  A column of isolated
   one-character words (``三、`` counts as one) stacked line after line is a
   vertical label: it is joined and taken out of the lines it crossed.
5. **Page furniture**: page numbers (``- 4 -``, ``— 1 —``, bare numbers) in the
   top or bottom margin are dropped.
6. **Across pages**: a ruled table that ends a page and one that starts the
   next, with the same left and right edges, are one table: header rows that
   the continuation repeats are dropped, the cell boxes are gridded together,
   and a merged cell cut by the page break (a group label ``（四）无`` /
   ``法提供``, a vertical label's empty continuation) is joined.
7. **Layout text**: the lines outside ruled tables go through the shared
   §7.5 line rule (:mod:`.layout`), which makes table blocks of rows printed
   as lines on pages without ruling; the other lines are reflowed into
   paragraphs (a line that fills the text width continues into an unindented
   next line; centred title lines of one size are one paragraph).
8. **No text layer**: pages with no characters, or none with a Unicode
   mapping, are noted in ``Document.notes`` (OCR is needed); the report's
   findings say so.

Errors: a corrupt, truncated or non-PDF input, or an encrypted PDF without an
empty user password, raises :class:`~gipextract.errors.ReadError` naming the
file; so does a PDF of more than :attr:`PdfSettings.max_pages` pages or
:attr:`PdfSettings.max_bytes` bytes (the work is bounded: no hang).
"""

from __future__ import annotations

import io
from bisect import bisect_right
from dataclasses import dataclass, field
from statistics import median

from ..document import Block, Cell, Document, Paragraph, Source, TableBlock, join_lines
from ..errors import ReadError
from ..values import looks_like_value
from .layout import Line, is_page_marker, layout_blocks

#: A PDF with more pages than this is refused (a report has a few dozen).
MAX_PAGES = 500
#: A PDF larger than this is refused (bytes; scanned reports stay well below).
MAX_BYTES = 200 * 2**20
#: A page with more characters than this is skipped with a note.
MAX_CHARS_PER_PAGE = 200_000

# Tolerances, in PDF points or as a fraction of the font size (em).
_SNAP = 2.0            # grid boundaries closer than this are one boundary
_WORD_GAP = 0.3        # em: a wider gap between characters ends a word
_CELL_GAP = 1.0        # em: a wider gap between words ends a cell
_EDGE_TOLERANCE = 3.0  # table edges this close are the same edge (page joins)
_MARGIN = 0.08         # fraction of the page height: header/footer zones


@dataclass(slots=True)
class PdfSettings:
    """How the PDF reader works; the defaults suit reports exported from Word
    or WPS.

    :ivar ruled_tables: use pdfplumber's table finder on ruling lines.  When
        False every page is read as layout text (spec §7.5).
    :ivar max_pages: refuse PDFs with more pages (``ReadError``).
    :ivar max_bytes: refuse larger PDFs (``ReadError``).
    :ivar table_settings: extra pdfplumber ``table_settings`` (its
        ``TableSettings`` fields), for unusual ruling.
    """

    ruled_tables: bool = True
    max_pages: int = MAX_PAGES
    max_bytes: int = MAX_BYTES
    table_settings: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.max_pages < 1 or self.max_bytes < 1:
            raise ValueError("max_pages and max_bytes must be at least 1")


# -- small geometry -------------------------------------------------------------

# A character as a tuple, for speed: (x0, x1, top, bottom, size, text).
X0, X1, TOP, BOTTOM, SIZE, TEXT = range(6)


def bands(chars: list[tuple]) -> list[list[tuple]]:
    """Group characters into printed lines by vertical position (step 4): a
    character joins the current band when its centre lies within the band
    and the band's centre within the character.  Bands top to bottom, each
    sorted left to right."""
    out: list[list[tuple]] = []
    top = bottom = mid = 0.0
    for ch in sorted(chars, key=lambda c: c[TOP] + c[BOTTOM]):
        cy = (ch[TOP] + ch[BOTTOM]) / 2
        if out and top <= cy <= bottom and ch[TOP] <= mid <= ch[BOTTOM]:
            out[-1].append(ch)
            top, bottom = min(top, ch[TOP]), max(bottom, ch[BOTTOM])
            continue
        out.append([ch])
        top, bottom, mid = ch[TOP], ch[BOTTOM], cy
    for band in out:
        band.sort(key=lambda c: c[X0])
    return out


@dataclass(slots=True)
class _Word:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    chars: list[tuple]


def words(band: list[tuple]) -> list[_Word]:
    """The words of one band: characters split at a printed space or where
    the gap exceeds ``_WORD_GAP`` em."""
    out: list[_Word] = []
    space = False
    for ch in band:
        if not ch[TEXT].strip():
            space = True
            continue
        if out and not space:
            w = out[-1]
            if ch[X0] - w.x1 <= _WORD_GAP * max(ch[SIZE], w.size, 1.0):
                w.text += ch[TEXT]
                w.x1 = max(w.x1, ch[X1])
                w.top, w.bottom = min(w.top, ch[TOP]), max(w.bottom, ch[BOTTOM])
                w.chars.append(ch)
                continue
        out.append(_Word(ch[TEXT], ch[X0], ch[X1], ch[TOP], ch[BOTTOM], ch[SIZE], [ch]))
        space = False
    return out


def cell_text(chars: list[tuple]) -> str:
    """The text of one table cell: its lines (bands) top to bottom; words and
    lines are joined by :func:`~gipextract.document.join_lines`, without a
    separator unless both sides are ASCII letters or digits (then a space: two
    numbers in one cell stay two numbers, never one), step 3."""
    return join_lines(join_lines(w.text for w in words(band)) for band in bands(chars))


# -- ruled tables -----------------------------------------------------------------

def _visible(obj: dict) -> bool:
    """Whether a rectangle is ruling a reader can see (step 2)."""
    if obj.get("object_type") != "rect":
        return True
    if obj.get("stroke"):
        return True
    if not obj.get("fill"):
        return False
    color = obj.get("non_stroking_color")
    if color is None:
        return True
    if not isinstance(color, (tuple, list)):
        color = (color,)
    values = [v for v in color if isinstance(v, (int, float))]
    if len(values) == 4:  # CMYK: white is all zero
        return any(v > 0.02 for v in values)
    return any(v < 0.98 for v in values)


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
        i = slot.get(key)
        if i is None:
            orphans.setdefault(key, []).append(ch)
        else:
            boxes[i].chars.append(ch)
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


def _table_block(t: _Ruled) -> TableBlock:
    """The table block of a ruled table: rows of origin cells with spans."""
    xs, ys = _grid(t.boxes)
    placed = sorted(((*_span(b, xs, ys), b) for b in t.boxes), key=lambda p: (p[0], p[1]))
    rows: list[list[Cell]] = [[] for _ in range(max(len(ys) - 1, 1))]
    for r, c, rs, cs, b in placed:
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


# -- lines outside tables ---------------------------------------------------------

@dataclass(slots=True)
class _PdfLine(Line):
    """A layout line with its geometry (points) and page number."""

    top: float = 0.0
    bottom: float = 0.0
    size: float = 0.0
    page: int = 0


def _cells(ws: list[_Word]) -> tuple[list[str], list[tuple[float, float]]]:
    """A line's cells and their ``(x0, x1)``: a number is a cell of its own;
    other words close together (gap under ``_CELL_GAP`` em) share a cell."""
    cells: list[str] = []
    spans: list[tuple[float, float]] = []
    prev: _Word | None = None
    prev_value = True
    for w in ws:
        value = looks_like_value(w.text)
        if prev is not None and not value and not prev_value and w.x0 - prev.x1 < _CELL_GAP * max(w.size, prev.size):
            cells[-1] = join_lines((cells[-1], w.text))
            spans[-1] = (spans[-1][0], w.x1)
        else:
            cells.append(w.text)
            spans.append((w.x0, w.x1))
        prev, prev_value = w, value
    return cells, spans


def vertical_stacks(lines: list[list[_Word]]) -> list[list[_Word]]:
    """Vertical labels among the words of a page's lines (step 4): columns of
    at least three isolated words of one character (or one and a punctuation
    mark, ``三、``; not a digit or Latin letter; more than half an em from
    their neighbours on the line),
    aligned on their left edge or centre and each at most 1.5 em below the
    previous one.  Returned top to bottom."""
    cands: list[_Word] = []
    for ws in lines:
        for k, w in enumerate(ws):
            if not (len(w.text) == 1 or len(w.text) == 2 and not w.text[1].isalnum()) or not w.text[0].isalpha() \
                    or w.text[0].isascii():
                continue
            em = max(w.size, 1.0)
            if (k == 0 or w.x0 - ws[k - 1].x1 > 0.5 * em) and (k + 1 == len(ws) or ws[k + 1].x0 - w.x1 > 0.5 * em):
                cands.append(w)
    stacks: list[list[_Word]] = []
    for w in sorted(cands, key=lambda w: w.top):
        em = max(w.size, 1.0)
        for stack in stacks:
            last = stack[-1]
            aligned = abs(last.x0 - w.x0) <= 0.3 * em or abs(last.x0 + last.x1 - w.x0 - w.x1) <= 0.6 * em
            if aligned and 0 <= w.top - last.bottom <= 1.5 * em:
                stack.append(w)
                break
        else:
            stacks.append([w])
    return [s for s in stacks if len(s) >= 3]


#: A line whose first cell is at least this fraction of the page width wide
#: is running text (prose), never a table row.
_PROSE_WIDTH = 0.6


def page_lines(chars: list[tuple], page: int, width: float = 595.0) -> list[_PdfLine]:
    """The layout lines of a page's characters outside ruled tables (step 4),
    top to bottom; ``width`` is the page width in points.  Vertical labels are
    found first and taken out, so that they do not disturb the row bands of
    the lines they cross; each comes back as one line flagged ``vertical``, at
    the place of its first character.  A line whose first cell spans
    ``_PROSE_WIDTH`` of the page is flagged ``prose``."""
    lines = [ws for ws in map(words, bands(chars)) if ws]
    out: list[_PdfLine] = []
    stacks = vertical_stacks(lines)
    if stacks:
        taken = {id(ch) for stack in stacks for w in stack for ch in w.chars}
        lines = [ws for ws in map(words, bands([ch for ch in chars if id(ch) not in taken])) if ws]
    for ws in stacks:
        text = "".join(w.text for w in ws)
        x0, x1 = min(w.x0 for w in ws), max(w.x1 for w in ws)
        out.append(_PdfLine(text, [text], f"page {page}", True, x0, x1, [(x0, x1)], False,
                            ws[0].top, ws[-1].bottom, ws[0].size, page))
    for ws in lines:
        cells, spans = _cells(ws)
        text = " ".join(cells)
        prose = spans[0][1] - spans[0][0] >= _PROSE_WIDTH * width
        out.append(_PdfLine(text, cells, f"page {page}", False, ws[0].x0, ws[-1].x1, spans, prose,
                            min(w.top for w in ws), max(w.bottom for w in ws),
                            median(w.size for w in ws), page))
    out.sort(key=lambda ln: ln.top)
    return out


def _drop_furniture(lines: list[_PdfLine], height: float) -> list[_PdfLine]:
    """The lines without page numbers in the top/bottom margin (step 5)."""
    keep = []
    for ln in lines:
        in_margin = ln.bottom <= height * _MARGIN or ln.top >= height * (1 - _MARGIN)
        bare = ln.text.strip().isdigit() and len(ln.text.strip()) <= 4
        if in_margin and (bare or is_page_marker(ln.text)):
            continue
        keep.append(ln)
    return keep


# -- paragraphs -------------------------------------------------------------------

_ENUMERATED = ("一、", "二、", "三、", "四、", "五、", "六、", "七、", "八、", "九、", "十、", "（", "(")


def _reflow(lines: list[_PdfLine]) -> list[Paragraph]:
    """Paragraphs of a run of lines outside tables (step 7): a line that
    reaches the right edge of the text continues into the next line when that
    one is not indented and is set in the same size; consecutive centred
    lines of one size larger than the text (a title) are one paragraph."""
    if not lines:
        return []
    wide = [ln for ln in lines if ln.x1 - ln.x0 > 200]
    left = median(ln.x0 for ln in wide) if wide else min(ln.x0 for ln in lines)
    right = median(ln.x1 for ln in wide) if wide else max(ln.x1 for ln in lines)
    body = median(ln.size for ln in lines)
    centre = (left + right) / 2
    out: list[Paragraph] = []
    prev: _PdfLine | None = None
    for ln in lines:
        text = ln.text.strip()
        if not text:
            continue
        if prev is not None and abs(prev.size - ln.size) <= 0.5:
            em = max(ln.size, 1.0)
            full = prev.x1 >= right - 1.5 * em and prev.x0 <= left + 2.5 * em
            continues = full and ln.x0 <= left + 0.8 * em and not text.startswith(_ENUMERATED)
            title = (ln.size > body + 1 and ln.page == prev.page and abs((ln.x0 + ln.x1) / 2 - centre) < 2 * em
                     and abs((prev.x0 + prev.x1) / 2 - centre) < 2 * em and ln.top - prev.bottom < 1.5 * em)
            if continues or title:
                out[-1] = Paragraph(join_lines((out[-1].text, text)), where=out[-1].where)
                prev = ln
                continue
        out.append(Paragraph(text, where=ln.where))
        prev = ln
    return out


# -- the reader -------------------------------------------------------------------

def _pdf_error(e: Exception) -> Exception | None:
    """The pdfminer error behind ``e`` (pdfplumber wraps them), or ``None``
    if ``e`` is not a PDF parsing error."""
    from pdfminer.psexceptions import PSException
    from pdfplumber.utils.exceptions import PdfminerException

    if isinstance(e, PdfminerException):
        return e.args[0] if e.args and isinstance(e.args[0], Exception) else e
    return e if isinstance(e, PSException) else None


def _open(data: bytes, source: Source):
    """``pdfplumber.open`` on ``data``.

    :raises ReadError: encrypted with a password, or not a readable PDF.
    """
    import pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect

    try:
        return pdfplumber.open(io.BytesIO(data))
    except Exception as e:
        cause = _pdf_error(e)
        if cause is None:
            raise
        if isinstance(cause, PDFPasswordIncorrect):
            raise ReadError("the PDF is encrypted with a password; decrypt it first", path=source.path) from e
        detail = f": {cause}" if str(cause) else ""
        raise ReadError(f"not a readable PDF (corrupt or truncated; {cause.__class__.__name__}{detail})",
                        path=source.path) from e


def _page_chars(page) -> list[tuple]:
    out = []
    last = None
    for c in sorted(page.chars, key=lambda c: (round(c["top"]), c["x0"])):
        text = c["text"]
        ch = (c["x0"], c["x1"], c["top"], c["bottom"], c.get("size") or (c["bottom"] - c["top"]), text)
        if not text.strip():
            out.append(ch)  # a printed space: a word break, never text
            continue
        if last is not None and text == last[TEXT] and abs(ch[X0] - last[X0]) < 1 and abs(ch[TOP] - last[TOP]) < 1:
            continue  # printed twice (fake bold)
        out.append(ch)
        last = ch
    return out


TEXT_LAYER, NO_TEXT, UNMAPPED = "text", "no text", "unmapped"


def _read_page(page, number: int, settings: PdfSettings) -> tuple[list, str]:
    """A page's items in reading order (ruled tables and lines) and the state
    of its text layer: ``TEXT_LAYER``, ``NO_TEXT`` or ``UNMAPPED``."""
    chars = _page_chars(page)
    printed = [c for c in chars if c[TEXT].strip()]
    if not printed:
        return [], NO_TEXT
    if 2 * sum(c[TEXT].startswith("(cid:") for c in printed) > len(printed):
        return [], UNMAPPED
    tables: list[_Ruled] = []
    if settings.ruled_tables and (page.lines or page.rects or page.curves):
        ts = {"vertical_strategy": "lines", "horizontal_strategy": "lines", **settings.table_settings}
        for t in page.filter(_visible).find_tables(ts):
            found = _ruled_table(t, chars, number)
            if found is not None:
                table, chars = found
                tables.append(table)
    lines = _drop_furniture(page_lines(chars, number, float(page.width)), float(page.height))
    items: list = [*tables, *lines]
    items.sort(key=lambda it: it.top)
    return items, TEXT_LAYER


def _assemble(pages: list[list]) -> list[Block]:
    """Blocks of all pages: ruled tables joined across page breaks, the runs
    of lines between them through the §7.5 line rule (steps 6–7)."""
    flat: list = []
    for items in pages:
        if (flat and items and isinstance(flat[-1], _Ruled) and isinstance(items[0], _Ruled)
                and abs(flat[-1].x0 - items[0].x0) <= _EDGE_TOLERANCE
                and abs(flat[-1].x1 - items[0].x1) <= _EDGE_TOLERANCE):
            flat[-1] = _join_tables(flat[-1], items[0])
            items = items[1:]
        flat.extend(items)
    blocks: list[Block] = []
    run: list[_PdfLine] = []
    for it in flat:
        if isinstance(it, _Ruled):
            blocks.extend(layout_blocks(run, _reflow))
            run = []
            blocks.append(_table_block(it))
        else:
            run.append(it)
    blocks.extend(layout_blocks(run, _reflow))
    return blocks


def _page_list(numbers: list[int]) -> str:
    spans: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        spans.append(str(start) if start == prev else f"{start}–{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(spans)


def read_pdf(data: bytes, source: Source, settings: PdfSettings | None = None) -> Document:
    """Read a PDF report's text layer into a :class:`Document` (module
    docstring).

    :param data: the PDF file's bytes.
    :param source: provenance (``format`` ``"pdf"``).
    :param settings: reader settings; :class:`PdfSettings` defaults if ``None``.
    :returns: paragraphs and table blocks in reading order; cells' ``where``
        is ``"page N"``.  Pages without a text layer are listed in ``notes``.
    :raises ReadError: not a readable PDF, encrypted, too large, too many
        pages, or no page could be parsed.
    """
    settings = settings or PdfSettings()
    if len(data) > settings.max_bytes:
        raise ReadError(f"the PDF is larger than {settings.max_bytes // 2**20} MiB; not a report", path=source.path)
    notes: list[str] = []
    with _open(data, source) as pdf:
        try:
            pages = pdf.pages
        except Exception as e:  # a broken page tree
            if _pdf_error(e) is None:
                raise
            raise ReadError(f"not a readable PDF (broken page tree: {_pdf_error(e).__class__.__name__})",
                            path=source.path) from e
        if len(pages) > settings.max_pages:
            raise ReadError(f"the PDF has {len(pages)} pages, more than the {settings.max_pages} a report can have",
                            path=source.path)
        items: list[list] = []
        state: dict[str, list[int]] = {NO_TEXT: [], UNMAPPED: []}
        skipped: list[int] = []
        broken: list[int] = []
        for n, page in enumerate(pages, start=1):
            try:
                if len(page.chars) > MAX_CHARS_PER_PAGE:
                    skipped.append(n)
                    items.append([])
                    continue
                page_items, layer = _read_page(page, n, settings)
            except Exception as e:  # one broken page: note it, read the others
                if _pdf_error(e) is None:
                    raise
                broken.append(n)
                items.append([])
                continue
            finally:
                page.close()
            items.append(page_items)
            state.get(layer, []).append(n)
    if broken and len(broken) == len(items):
        raise ReadError("not a readable PDF (no page could be parsed)", path=source.path)
    for layer, what in ((NO_TEXT, "no text layer"), (UNMAPPED, "no readable text layer (its fonts map no "
                                                                  "characters to Unicode)")):
        if state[layer]:
            which = "any page" if len(state[layer]) == len(items) else f"page {_page_list(state[layer])}"
            notes.append(f"The PDF has {what} on {which}: what is printed there needs OCR before gipextract "
                         f"can read it.")
    if skipped:
        notes.append(f"Page {_page_list(skipped)} has more than {MAX_CHARS_PER_PAGE:,} characters and was skipped.")
    if broken:
        notes.append(f"Page {_page_list(broken)} could not be parsed (a damaged content stream) and was skipped.")
    lost = bool(skipped or broken or state[NO_TEXT] or state[UNMAPPED])
    pictures = sorted(state[NO_TEXT] + state[UNMAPPED])
    if pictures:  # pages that are pictures: OCR (readers/ocr.py) when the extra is installed
        from . import ocr
        if not ocr.available():
            notes = [f"{n} Install OCR to read it: {ocr.INSTALL_HINT}" if "needs OCR" in n else n for n in notes]
            return Document(_assemble(items), source, notes, incomplete=True, needs_ocr=True)
        return ocr.with_ocr_pages(data, source, pictures, items, _assemble, notes)
    return Document(_assemble(items), source, notes, incomplete=lost)
