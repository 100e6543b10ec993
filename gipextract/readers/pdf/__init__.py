"""Reader for PDF reports: PDFium's text layer → :class:`Document`
(template-spec §7.1, §7.3, §7.5).

Coordinates are PDF points (1/72 inch) from the top-left corner of the page
(``x0``/``x1`` left/right, ``top``/``bottom``).  Each page is parsed once by
PDFium (pypdfium2, :mod:`.engine`); its characters and ruling serve every
step.  The package: :mod:`.engine` (PDFium: characters, ruling, page images),
:mod:`.streams` (content-stream bound), :mod:`.geometry` (bands, words),
:mod:`.ruled` (ruled tables, page joins), :mod:`.lines` (lines, vertical
labels, paragraphs).

1. **Characters**: the page's characters; a printed space only breaks words,
   a character printed twice at the same place (fake bold) counts once.  A
   page whose characters mostly have no Unicode mapping has no usable text
   layer.  Text set mirrored or rotated is left unread with a note (its
   left-to-right order is not its reading order: digits would come out
   reversed), never read backwards.
2. **Ruled tables**: pdfplumber's table finder (its algorithm only: snap,
   join, intersect) on the page's *visible* ruling from PDFium's paths —
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

Bounds (the work is bounded: no hang, no memory blow-up): the file size and
page count (the whole PDF refused); per page, the inflated size of its
content streams (checked before PDFium decodes them, :mod:`.streams`), its
page objects and its characters (PDFium's counts, checked before any box is
made).  A page over a bound, with a coordinate that is not a finite number,
or that PDFium fails on, is skipped with a note and makes the document
``incomplete``; the other pages are read.  Ruling of more than
:data:`~.ruled.MAX_RULING_CROSSINGS` crossings is not gridded (the page is
read as layout lines, with a note), and vertical labels are not looked for
among more than :data:`~.lines.MAX_STACK_CANDIDATES` isolated characters:
both searches grow faster than their input.

Errors: a corrupt, truncated or non-PDF input, or an encrypted PDF without an
empty user password, raises :class:`~gipextract.errors.ReadError` naming the
file; so does a PDF of more than :attr:`PdfSettings.max_pages` pages or
:attr:`PdfSettings.max_bytes` bytes (the work is bounded: no hang).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ...document import Block, Document, Source
from ...errors import ReadError
from ..layout import layout_blocks
from . import streams
from .geometry import NO_TEXT, TEXT_LAYER, UNMAPPED, PageError, bands, cell_text, text_layer_state, words
from .lines import _drop_furniture, _PdfLine, _reflow, page_lines, vertical_stacks
from .ruled import (
    _EDGE_TOLERANCE,
    MAX_RULING_CROSSINGS,
    RulingTooDense,
    _join_tables,
    _Ruled,
    _table_block,
    ruled_tables,
)

__all__ = ["MAX_BYTES", "MAX_CHARS_PER_PAGE", "MAX_CONTENT_BYTES", "MAX_OBJECTS_PER_PAGE", "MAX_PAGES",
           "NO_TEXT", "TEXT_LAYER", "UNMAPPED", "PdfSettings", "bands", "cell_text", "open_pdf", "page_lines",
           "pages_needing_ocr", "read_pdf", "render_page_images", "text_layer_state", "vertical_stacks", "words"]

#: The text-layer state of a page whose ruling was too dense to grid (read as
#: layout lines instead).
DENSE_RULING = "dense ruling"

#: A PDF with more pages than this is refused (a report has a few dozen).
MAX_PAGES = 500
#: A PDF larger than this is refused (bytes; scanned reports stay well below).
MAX_BYTES = 200 * 2**20
#: A page with more characters than this is skipped with a note.
MAX_CHARS_PER_PAGE = 200_000
#: A page with more page objects than this (text runs, paths, images, also
#: inside forms) is skipped with a note.
MAX_OBJECTS_PER_PAGE = 200_000
#: A page whose content streams inflate to more bytes than this is skipped
#: with a note, before PDFium decodes them (a report page holds tens of KB).
MAX_CONTENT_BYTES = 8 * 2**20


@dataclass(slots=True)
class PdfSettings:
    """How the PDF reader works; the defaults suit reports exported from Word
    or WPS.

    :ivar ruled_tables: find tables from the ruling (pdfplumber's table finder
        on PDFium's paths).  When False every page is read as layout text
        (spec §7.5).
    :ivar max_pages: refuse PDFs with more pages (``ReadError``).
    :ivar max_bytes: refuse larger PDFs (``ReadError``).
    :ivar max_chars_per_page: skip a page with more characters (a note).
    :ivar max_objects_per_page: skip a page with more page objects (a note).
    :ivar max_content_bytes: skip a page whose content streams inflate to
        more bytes (a note), checked before they are decoded.
    :ivar table_settings: extra pdfplumber ``table_settings`` (its
        ``TableSettings`` fields), for unusual ruling.
    """

    ruled_tables: bool = True
    max_pages: int = MAX_PAGES
    max_bytes: int = MAX_BYTES
    max_chars_per_page: int = MAX_CHARS_PER_PAGE
    max_objects_per_page: int = MAX_OBJECTS_PER_PAGE
    max_content_bytes: int = MAX_CONTENT_BYTES
    table_settings: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if min(self.max_pages, self.max_bytes, self.max_chars_per_page, self.max_objects_per_page,
               self.max_content_bytes) < 1:
            raise ValueError("max_pages, max_bytes and the per-page bounds must be at least 1")


if TYPE_CHECKING:
    import pypdfium2
    from PIL import Image


def render_page_images(pdf: pypdfium2.PdfDocument, page_indices: list[int], dpi: float = 300.0,
                       max_pixels: int | None = None) -> list[Image.Image]:
    """Page images for OCR: :func:`.engine.render_page_images` (PDFium; at
    most ``max_pixels`` pixels a page, default
    :data:`.engine.MAX_RENDER_PIXELS`).  ``pdf`` is a document opened with
    :func:`open_pdf`."""
    from . import engine

    return engine.render_page_images(pdf, page_indices, dpi, max_pixels or engine.MAX_RENDER_PIXELS)


def open_pdf(data: bytes, source: Source) -> pypdfium2.PdfDocument:
    """PDFium's document for ``data`` (close it after use).

    :raises ReadError: as :func:`read_pdf`, for the whole file.
    """
    from . import engine

    return engine.open_pdf(data, source.path)


def _read_page(page, number: int, settings: PdfSettings) -> tuple[list, str, int]:
    """A page's items in reading order (ruled tables and lines), the state of
    its text layer (:func:`.engine.text_layer_state`) and the number of
    characters left unread because they are not set upright.

    :raises PageError: the page is over a bound or has a non-finite coordinate.
    """
    from . import engine

    x0, bottom, x1, top = page.get_mediabox()
    width, height = x1 - x0, top - bottom
    textpage = page.get_textpage()
    try:
        chars, turned = engine.page_chars(textpage, top, settings.max_chars_per_page)
    finally:
        textpage.close()
    layer = text_layer_state(chars)
    if layer == NO_TEXT and turned:
        return [], TEXT_LAYER, turned  # it has text, only none set upright: its own note, not OCR
    if layer != TEXT_LAYER:
        return [], layer, turned
    tables: list[_Ruled] = []
    if settings.ruled_tables:
        edges = engine.page_edges(page, top, settings.max_objects_per_page)
        try:
            tables, chars = ruled_tables(edges, chars, number, (x0, 0.0, x1, height), settings.table_settings)
        except RulingTooDense:
            layer = DENSE_RULING
    lines = _drop_furniture(page_lines(chars, number, float(width)), float(height))
    items: list = [*tables, *lines]
    items.sort(key=lambda it: it.top)
    return items, layer, turned


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


def _page_costs(data: bytes, count: int, settings: PdfSettings) -> dict[int, int | None]:
    """:func:`.streams.page_costs` for the ``count`` pages PDFium found.  When
    pdfminer lists another number of pages (a damaged page tree each parser
    mends its own way), pages cannot be paired: every page gets the largest
    cost measured (``None`` if any page was over the content bound)."""
    costs = streams.page_costs(data, count, settings.max_content_bytes)
    if costs and len(costs) != count:
        values = list(costs.values())
        worst = None if None in values else max(v for v in values if v is not None)
        costs = dict.fromkeys(range(count), worst)
    return costs


def _check_size(data: bytes, source: Source, settings: PdfSettings) -> None:
    if len(data) > settings.max_bytes:
        raise ReadError(f"the PDF is larger than {settings.max_bytes // 2**20} MiB; not a report", path=source.path)


def read_pdf(data: bytes, source: Source, settings: PdfSettings | None = None) -> Document:
    """Read a PDF report's text layer into a :class:`Document` (module
    docstring).

    :param data: the PDF file's bytes.
    :param source: provenance (``format`` ``"pdf"``).
    :param settings: reader settings; :class:`PdfSettings` defaults if ``None``.
    :returns: paragraphs and table blocks in reading order; cells' ``where``
        is ``"page N"``.  Pages without a text layer, skipped or damaged
        pages and text left unread are listed in ``notes``, and make the
        document ``incomplete``.
    :raises ReadError: not a readable PDF, encrypted, too large, too many
        pages, or no page could be parsed.
    """
    from . import engine

    settings = settings or PdfSettings()
    _check_size(data, source, settings)
    pdf = engine.open_pdf(data, source.path)
    try:
        count = len(pdf)
        if count > settings.max_pages:
            raise ReadError(f"the PDF has {count} pages, more than the {settings.max_pages} a report can have",
                            path=source.path)
        costs = _page_costs(data, count, settings)
        items: list[list] = []
        state: dict[str, list[int]] = {NO_TEXT: [], UNMAPPED: [], DENSE_RULING: []}
        skipped: dict[str, list[int]] = {}
        broken: list[int] = []
        turned: dict[int, int] = {}
        for i in range(count):
            n = i + 1
            items.append([])
            cost = costs.get(i, 0)
            if cost is None:
                skipped.setdefault(f"has content streams that inflate to more than "
                                   f"{settings.max_content_bytes:,} bytes", []).append(n)
                continue
            if cost > settings.max_chars_per_page:
                skipped.setdefault(f"has more than {settings.max_chars_per_page:,} characters", []).append(n)
                continue
            try:
                page = pdf[i]
                try:
                    page_items, layer, k = _read_page(page, n, settings)
                finally:
                    page.close()
            except PageError as e:
                skipped.setdefault(e.reason, []).append(n)
                continue
            except Exception:  # one damaged page (PDFium or a value no geometry expects): note it, read the others
                broken.append(n)
                continue
            items[-1] = page_items
            state.get(layer, []).append(n)
            if k:
                turned[n] = k
    finally:
        pdf.close()
    if broken and len(broken) == len(items):
        raise ReadError("not a readable PDF (no page could be parsed)", path=source.path)
    notes: list[str] = []
    for layer, what in ((NO_TEXT, "no text layer"), (UNMAPPED, "no readable text layer (its fonts map no "
                                                                  "characters to Unicode)")):
        if state[layer]:
            which = "any page" if len(state[layer]) == len(items) else f"page {_page_list(state[layer])}"
            notes.append(f"The PDF has {what} on {which}: what is printed there needs OCR before gipextract "
                         f"can read it.")
    if state[DENSE_RULING]:
        notes.append(f"Page {_page_list(state[DENSE_RULING])} has ruling of more than {MAX_RULING_CROSSINGS:,} "
                     f"line crossings, too dense to find its table cells: its text was read as lines, "
                     f"without the ruling.")
    for reason, pages in skipped.items():
        notes.append(f"Page {_page_list(pages)} {reason} and was skipped.")
    if broken:
        notes.append(f"Page {_page_list(broken)} could not be parsed (a damaged content stream) and was skipped.")
    if turned:
        notes.append(f"Page {_page_list(sorted(turned))} has text set mirrored or rotated "
                     f"({sum(turned.values())} characters), left unread: its reading order is not certain.")
    lost = bool(skipped or broken or turned or state[NO_TEXT] or state[UNMAPPED])
    pictures = sorted(state[NO_TEXT] + state[UNMAPPED])
    if pictures:  # pages that are pictures: OCR (readers/ocr.py) when the extra is installed
        from .. import ocr
        if not ocr.available():
            notes = [f"{n} Install OCR to read it: {ocr.INSTALL_HINT}" if "needs OCR" in n else n for n in notes]
            return Document(_assemble(items), source, notes, incomplete=True, needs_ocr=True)
        return ocr.with_ocr_pages(data, source, pictures, items, _assemble, notes)
    return Document(_assemble(items), source, notes, incomplete=lost)



def pages_needing_ocr(data: bytes, source: Source, settings: PdfSettings | None = None) -> list[int]:
    """The 0-based indices of the pages without a usable text layer
    (:func:`.engine.text_layer_state` is not ``TEXT_LAYER``): what an OCR
    reader should render (:func:`render_page_images`) and read.  Pages over a
    bound or damaged are not listed.

    :raises ReadError: as :func:`read_pdf`, for the whole file.
    """
    from . import engine

    settings = settings or PdfSettings()
    _check_size(data, source, settings)
    pdf = engine.open_pdf(data, source.path)
    out: list[int] = []
    try:
        costs = _page_costs(data, len(pdf), settings)
        for i in range(min(len(pdf), settings.max_pages)):
            cost = costs.get(i, 0)
            if cost is None or cost > settings.max_chars_per_page:
                continue
            try:
                page = pdf[i]
                try:
                    textpage = page.get_textpage()
                    try:
                        chars, _ = engine.page_chars(textpage, page.get_mediabox()[3], settings.max_chars_per_page)
                    finally:
                        textpage.close()
                finally:
                    page.close()
            except Exception:  # damaged or over a bound: not an OCR page
                continue
            if text_layer_state(chars) != TEXT_LAYER:
                out.append(i)
    finally:
        pdf.close()
    return out
