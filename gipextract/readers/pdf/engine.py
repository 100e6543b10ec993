"""The PDF reader's access to PDFium (pypdfium2): the document, each page's
characters and visible ruling, and page images for OCR (template-spec §7.1,
§7.3).

Coordinates are PDF points from the top-left corner of the page's media box
(``x0``/``x1`` left/right, ``top``/``bottom``), as the rest of the reader uses
them.  Nothing here knows about tables or reports.
"""

from __future__ import annotations

import ctypes
import math
from typing import TYPE_CHECKING, Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ...errors import ReadError
from .geometry import TEXT, TOP, UNMAPPED_CHAR, X0, PageError

if TYPE_CHECKING:
    from PIL import Image

#: A rendered page image may have at most this many pixels (the DPI is
#: lowered to fit): 50 megapixels is an A4 page at about 600 DPI.
MAX_RENDER_PIXELS = 50_000_000


def open_pdf(data: bytes, path: str) -> pdfium.PdfDocument:
    """PDFium's document for ``data``.

    :param data: the PDF file's bytes (kept alive by the document).
    :param path: the file name, for the error message.
    :raises ReadError: encrypted with a user password, or not a readable PDF
        (corrupt, truncated, not a PDF).
    """
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        if pdfium_c.FPDF_GetLastError() == pdfium_c.FPDF_ERR_PASSWORD:
            raise ReadError("the PDF is encrypted with a password; decrypt it first", path=path) from e
        raise ReadError(f"not a readable PDF (corrupt or truncated; {e})", path=path) from e


def upright(a: float, b: float, c: float, d: float) -> bool:
    """Whether a character's matrix ``[a b c d]`` (page space, y up) sets it
    upright and unmirrored: left to right, not rotated more than a slant
    (italics, at most 45°), so that sorting by ``x0`` gives its reading order."""
    return a > 0 and d > 0 and abs(b) <= 0.1 * a and abs(c) <= d


def page_chars(textpage: pdfium.PdfTextPage, height: float, max_chars: int) -> tuple[list[tuple], int]:
    """The characters of one page as tuples ``(x0, x1, top, bottom, size,
    text)`` (see :mod:`.geometry`), sorted top to bottom, left to right, with
    a character printed twice at the same place (fake bold) kept once, and
    the count of characters left out because they are not set upright
    (mirrored or rotated text: their left-to-right order is not their reading
    order, so digits would come out reversed).

    Boxes follow pdfminer's: ``x0``/``x1`` from the glyph's advance,
    ``bottom`` from the font's descent, ``top`` one font size above it; a
    glyph of a vertical-writing font is one font size square from its origin.
    Characters PDFium generates (spaces and line breaks it infers) are not
    printed and left out; a character whose font maps it to no Unicode
    character has the text :data:`UNMAPPED_CHAR`.

    :param height: the page height in points (the top of the media box).
    :param max_chars: more characters than this on the page (PDFium's count,
        before any box is made) raises :class:`PageError`.
    :raises PageError: too many characters, or a coordinate that is not a
        finite number.
    """
    textpage = getattr(textpage, "raw", textpage)  # the C handle: no wrapper work per call
    n = pdfium_c.FPDFText_CountChars(textpage)
    if n > max_chars:
        raise PageError(f"has more than {max_chars:,} characters")
    if n <= 0:
        return [], 0
    buf = (ctypes.c_ushort * (n + 1))()
    got = pdfium_c.FPDFText_GetText(textpage, 0, n, buf)
    units = bytes(memoryview(buf).cast("B")[: 2 * max(got - 1, 0)]).decode("utf-16-le", "replace")
    text = units if len(units) == n else None  # a character outside the BMP: read them one by one
    rect = pdfium_c.FS_RECTF()
    m = pdfium_c.FS_MATRIX()
    rect_p, m_p = ctypes.byref(rect), ctypes.byref(m)
    generated, loose, fontsize = pdfium_c.FPDFText_IsGenerated, pdfium_c.FPDFText_GetLooseCharBox, \
        pdfium_c.FPDFText_GetFontSize
    get_matrix, map_error = pdfium_c.FPDFText_GetMatrix, pdfium_c.FPDFText_HasUnicodeMapError
    get_origin = pdfium_c.FPDFText_GetCharOrigin
    ox, oy = ctypes.c_double(), ctypes.c_double()
    ox_p, oy_p = ctypes.byref(ox), ctypes.byref(oy)
    raw: list[tuple] = []
    turned = 0
    isfinite = math.isfinite
    for i in range(n):
        if generated(textpage, i):
            continue
        ch = text[i] if text is not None else chr(pdfium_c.FPDFText_GetUnicode(textpage, i) or 0xFFFD)
        if ch in "\r\n":
            continue
        if map_error(textpage, i) or ch in ("\x00", "\ufffe"):
            ch = UNMAPPED_CHAR
        loose(textpage, i, rect_p)
        get_matrix(textpage, i, m_p)
        size = fontsize(textpage, i) * math.hypot(m.c, m.d)
        x0, x1, bottom = rect.left, rect.right, height - rect.bottom
        if x1 - x0 > 2 * size + 1:  # a vertical-writing glyph: PDFium's loose box is not the glyph's
            get_origin(textpage, i, ox_p, oy_p)
            x0, x1, bottom = ox.value, ox.value + size, height - oy.value
        if not (isfinite(x0) and isfinite(x1) and isfinite(bottom) and isfinite(size)):
            raise PageError("has a character at a position that is not a finite number")
        if not upright(m.a, m.b, m.c, m.d):
            turned += ch.strip() != ""
            continue
        raw.append((x0, x1, bottom - size, bottom, size, ch))
    raw.sort(key=lambda c: (round(c[TOP]), c[X0]))
    out: list[tuple] = []
    last: tuple | None = None
    for c in raw:
        if not c[TEXT].strip():
            out.append(c)  # a printed space: a word break, never text
            continue
        if last is not None and c[TEXT] == last[TEXT] and abs(c[X0] - last[X0]) < 1 and abs(c[TOP] - last[TOP]) < 1:
            continue  # printed twice (fake bold)
        out.append(c)
        last = c
    return out, turned


def _visible(obj: Any) -> bool:
    """Whether a path is ruling a reader can see: stroked, or filled in a
    colour that is not white and not transparent.  White unstroked boxes (the
    backgrounds word processors put behind paragraphs) are not ruling."""
    fill, stroke = ctypes.c_int(), ctypes.c_int()
    if not pdfium_c.FPDFPath_GetDrawMode(obj, ctypes.byref(fill), ctypes.byref(stroke)):
        return True
    if stroke.value:
        return True
    if not fill.value:
        return False
    r, g, b, a = (ctypes.c_uint() for _ in range(4))
    if not pdfium_c.FPDFPageObj_GetFillColor(obj, ctypes.byref(r), ctypes.byref(g), ctypes.byref(b), ctypes.byref(a)):
        return True
    return a.value > 0 and min(r.value, g.value, b.value) < 250


def _edge(x0: float, y0: float, x1: float, y1: float, height: float) -> dict | None:
    """A pdfplumber edge between two points (page space), or ``None`` if the
    segment is neither horizontal nor vertical."""
    if abs(y0 - y1) < 0.01:
        orientation = "h"
        y1 = y0
    elif abs(x0 - x1) < 0.01:
        orientation = "v"
        x1 = x0
    else:
        return None
    top, bottom = height - max(y0, y1), height - min(y0, y1)
    left, right = min(x0, x1), max(x0, x1)
    return {"object_type": "line", "x0": left, "x1": right, "top": top, "bottom": bottom, "doctop": top,
            "width": right - left, "height": bottom - top, "orientation": orientation}


def _compose(m: tuple[float, ...], n: tuple[float, ...]) -> tuple[float, ...]:
    """The matrix ``m`` followed by ``n`` (PDF order ``[a b c d e f]``)."""
    a, b, c, d, e, f = m
    na, nb, nc, nd, ne, nf = n
    return (a * na + b * nc, a * nb + b * nd, c * na + d * nc, c * nb + d * nd,
            e * na + f * nc + ne, e * nb + f * nd + nf)


_IDENTITY = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def page_edges(page: pdfium.PdfPage, height: float, max_objects: int) -> list[dict]:
    """The visible ruling of one page as pdfplumber edges (dicts with
    ``x0 x1 top bottom width height orientation``): each straight horizontal
    or vertical segment of a visible path (a rectangle gives its four sides,
    a line itself), inside form XObjects too.  Curves and slanted segments
    are not ruling.

    :param height: the page height in points.
    :param max_objects: more page objects than this (counted through forms
        before any segment is read) raises :class:`PageError`.
    :raises PageError: too many objects, or a coordinate that is not finite.
    """
    m = pdfium_c.FS_MATRIX()
    x, y = ctypes.c_float(), ctypes.c_float()
    out: list[dict] = []
    count = 0

    def walk(objs: list[Any], outer: tuple[float, ...]) -> None:
        nonlocal count
        count += len(objs)
        if count > max_objects:
            raise PageError(f"has more than {max_objects:,} drawing objects")
        for obj in objs:
            kind = pdfium_c.FPDFPageObj_GetType(obj)
            if kind not in (pdfium_c.FPDF_PAGEOBJ_PATH, pdfium_c.FPDF_PAGEOBJ_FORM):
                continue
            if not pdfium_c.FPDFPageObj_GetMatrix(obj, ctypes.byref(m)):
                continue
            mat = _compose((m.a, m.b, m.c, m.d, m.e, m.f), outer)
            if kind == pdfium_c.FPDF_PAGEOBJ_FORM:
                k = pdfium_c.FPDFFormObj_CountObjects(obj)
                walk([pdfium_c.FPDFFormObj_GetObject(obj, i) for i in range(max(k, 0))], mat)
                continue
            if not _visible(obj):
                continue
            a, b, c, d, e, f = mat
            start: tuple[float, float] | None = None
            cur: tuple[float, float] | None = None
            for i in range(pdfium_c.FPDFPath_CountSegments(obj)):
                seg = pdfium_c.FPDFPath_GetPathSegment(obj, i)
                if not pdfium_c.FPDFPathSegment_GetPoint(seg, ctypes.byref(x), ctypes.byref(y)):
                    continue
                px, py = a * x.value + c * y.value + e, b * x.value + d * y.value + f
                if not (math.isfinite(px) and math.isfinite(py)):
                    raise PageError("has a drawing at a position that is not a finite number")
                kind_seg = pdfium_c.FPDFPathSegment_GetType(seg)
                if kind_seg == pdfium_c.FPDF_SEGMENT_MOVETO or cur is None:
                    start = cur = (px, py)
                    continue
                if kind_seg == pdfium_c.FPDF_SEGMENT_LINETO:
                    edge = _edge(cur[0], cur[1], px, py, height)
                    if edge is not None:
                        out.append(edge)
                cur = (px, py)
                if pdfium_c.FPDFPathSegment_GetClose(seg) and start is not None and start != cur:
                    edge = _edge(cur[0], cur[1], start[0], start[1], height)
                    if edge is not None:
                        out.append(edge)
                    cur = start

    n = pdfium_c.FPDFPage_CountObjects(page)
    if n > max_objects:
        raise PageError(f"has more than {max_objects:,} drawing objects")
    walk([pdfium_c.FPDFPage_GetObject(page, i) for i in range(max(n, 0))], _IDENTITY)
    return out


def render_page_images(pdf: pdfium.PdfDocument, page_indices: list[int], dpi: float = 300.0,
                       max_pixels: int = MAX_RENDER_PIXELS) -> list[Image.Image]:
    """Page images for OCR, rendered by PDFium (template-spec §7.1).

    :param pdf: an open document (:func:`open_pdf`).
    :param page_indices: 0-based page numbers, in the order wanted.
    :param dpi: resolution; lowered for a page whose image would exceed
        ``max_pixels`` pixels (the image keeps the page's proportions).
    :returns: one RGB :class:`PIL.Image.Image` per index.
    :raises IndexError: an index outside the document.
    :raises ValueError: ``dpi`` not positive.
    """
    if not dpi > 0:
        raise ValueError("dpi must be positive")
    images = []
    for i in page_indices:
        if not 0 <= i < len(pdf):
            raise IndexError(f"page index {i} outside the document's {len(pdf)} pages")
        page = pdf[i]
        try:
            w, h = page.get_size()
            scale = dpi / 72.0
            pixels = math.ceil(w * scale) * math.ceil(h * scale)
            if pixels > max_pixels:
                scale *= math.sqrt(max_pixels / pixels)
            while math.ceil(w * scale) * math.ceil(h * scale) > max_pixels and scale > 1e-3:
                scale *= 0.99
            bitmap = page.render(scale=scale)
            try:
                images.append(bitmap.to_pil().convert("RGB"))
            finally:
                bitmap.close()
        finally:
            page.close()
    return images
