"""Lines outside ruled tables of the PDF reader: layout lines with their
cells, vertical labels, page furniture and paragraph reflow
(template-spec §7.3, §7.5).

Coordinates are points from the top-left corner of the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median

from ...document import Paragraph, join_lines
from ...values import looks_like_value
from ..layout import Line, is_page_marker
from .geometry import _Word, bands, words

_CELL_GAP = 1.0        # em: a wider gap between words ends a cell
_MARGIN = 0.08         # fraction of the page height: header/footer zones

#: A page with more isolated one-character words than this has no vertical
#: labels looked for (a report page has a few dozen; the search is quadratic).
MAX_STACK_CANDIDATES = 2_000

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
    previous one.  Returned top to bottom; none on a page with more than
    :data:`MAX_STACK_CANDIDATES` such words (bounded time)."""
    cands: list[_Word] = []
    for ws in lines:
        for k, w in enumerate(ws):
            if not (len(w.text) == 1 or len(w.text) == 2 and not w.text[1].isalnum()) or not w.text[0].isalpha() \
                    or w.text[0].isascii():
                continue
            em = max(w.size, 1.0)
            if (k == 0 or w.x0 - ws[k - 1].x1 > 0.5 * em) and (k + 1 == len(ws) or ws[k + 1].x0 - w.x1 > 0.5 * em):
                cands.append(w)
    if len(cands) > MAX_STACK_CANDIDATES:
        return []  # not a report page; the search below is quadratic in the candidates
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


def _left(ln: Line) -> float:
    return ln.x0 if ln.x0 is not None else 0.0


def _right(ln: Line) -> float:
    return ln.x1 if ln.x1 is not None else 0.0


def _reflow(run: list[Line]) -> list[Paragraph]:
    """Paragraphs of a run of lines outside tables (step 7): a line that
    reaches the right edge of the text continues into the next line when that
    one is not indented and is set in the same size; consecutive centred
    lines of one size larger than the text (a title) are one paragraph."""
    lines = [ln for ln in run if isinstance(ln, _PdfLine)]
    if not lines:
        return []
    wide = [ln for ln in lines if _right(ln) - _left(ln) > 200]
    left = median(_left(ln) for ln in wide) if wide else min(_left(ln) for ln in lines)
    right = median(_right(ln) for ln in wide) if wide else max(_right(ln) for ln in lines)
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
            full = _right(prev) >= right - 1.5 * em and _left(prev) <= left + 2.5 * em
            continues = full and _left(ln) <= left + 0.8 * em and not text.startswith(_ENUMERATED)
            title = (ln.size > body + 1 and ln.page == prev.page and abs((_left(ln) + _right(ln)) / 2 - centre) < 2 * em
                     and abs((_left(prev) + _right(prev)) / 2 - centre) < 2 * em and ln.top - prev.bottom < 1.5 * em)
            if continues or title:
                out[-1] = Paragraph(join_lines((out[-1].text, text)), where=out[-1].where)
                prev = ln
                continue
        out.append(Paragraph(text, where=ln.where))
        prev = ln
    return out

