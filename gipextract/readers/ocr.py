"""Reader for scanned reports: page images → :class:`Document` by OCR
(template-spec §7.1, §7.3, §7.5).

Used for image files (PNG, JPEG, TIFF with one or more pages, BMP: format
``image``) and, through :func:`ocr_pages`, for the PDF pages that have no
usable text layer.  The engine is RapidOCR on ONNX Runtime (the optional
``ocr`` extra, ``pip install 'gipextract[ocr]'``: its wheel ships the PP-OCR
detection and recognition models, so it runs offline); it is loaded once per
process, on first use.  Coordinates are pixels of the working image, from its
top-left corner; a *unit* is one PDF point (1/72 inch) at the page's
resolution, estimated from the page width as an A4 page (595 pt).

Each page goes through these steps:

1. **Normalise**: grey scale; a page far below or above ~200 dpi is scaled to
   it.  The ruling is found on the page as it is; text is found and read on
   a copy without specks (ink pieces of at most 4 pixels, which would read
   as ``.``; a median filter would erase thin lines and the thin strokes of
   serif digits).
2. **Deskew**: the angle (±5°) that makes the ink's row profile sharpest
   (projection-profile variance, searched coarse then fine on a reduced
   copy); the page is turned back by it.
3. **Ruling grid** (OpenCV): an adaptive binarisation; horizontal and vertical
   line masks by morphological opening with long thin kernels (30 pt and
   14 pt: longer than any stroke of a character, shorter than a cell).  Each
   connected piece of ruling large enough to be a table is one table; its
   box is closed (a table cut by a page break has no rule at the cut); its
   cells are the enclosed regions between the lines, each an origin cell whose
   row and column spans come from the table's snapped row and column
   boundaries.  Slots no region covers get an empty cell.
4. **Text boxes**: the detector finds the text lines of the page once.
5. **Cells**: every cell is recognised on its own crop: each text box whose
   centre lies in the cell, or, where the detector found no box but the cell
   holds ink (a lone ``0`` in a wide cell), the ink's bounding box.  A cell's
   lines join as the other readers join them (:func:`~gipextract.document.join_lines`);
   its :attr:`~gipextract.document.Cell.confidence` is the lowest line score.
   A cell that holds ink the recogniser reads as nothing has text ``""`` and
   confidence ``0.0``.  A low-confidence cell is re-read from a crop at
   another scale and binarisation; readings that differ become its
   :attr:`~gipextract.document.Cell.alternatives`.  Nothing here corrects a
   reading: deciding which cells are uncertain is :mod:`gipextract.ocrcheck`'s.
6. **Lines**: the boxes outside ruled tables are placed into lines by
   position (a box joins a line when their vertical extents overlap by half)
   and go through the shared §7.5 line rule (:mod:`.layout`), so unruled
   tables become table blocks and the rest paragraphs.  The cells of those
   blocks carry their box's score as ``confidence`` and, for a number read
   under :data:`REREAD_BELOW`, its re-readings, as ruled cells do.

Pages are read in order; a ruled table that ends a page and one that starts
the next with the same column boundaries are one table (the rows appended).

Errors: an image larger than :data:`MAX_PIXELS` pixels (checked from the
header, before decoding), more than :data:`MAX_PAGES` pages, or a file the
image library cannot decode raises :class:`~gipextract.errors.ReadError`
naming the file.  A blank page or a picture that is not a report gives a
document without tables (the report's findings say ``table_absent``).
"""

from __future__ import annotations

import io
import threading
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..document import Block, Cell, Document, Paragraph, Source, TableBlock, join_lines
from ..errors import ReadError
from .layout import Line, layout_blocks

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

#: The largest page image (pixels) read; a larger header is refused before decoding.
MAX_PIXELS = 80_000_000
#: The most pages an image file (a multi-page TIFF) may have.
MAX_PAGES = 200
#: The resolution pages are read at (dots per inch); PDF pages are rendered at it.
DPI = 200
#: A cell whose lowest line score is under this is re-read for alternatives.
REREAD_BELOW = 0.9
#: Install hint for the optional engine.
INSTALL_HINT = "pip install 'gipextract[ocr]'"

_A4_WIDTH_PT = 595.0
#: A cell that reads as one of these alone is a dash (its text becomes ``—``, the reading kept as an alternative).
_DASH_LIKE = frozenset({"一", "-", "－", "_", "~", "―", "─", "–"})
_lock = threading.Lock()


def available() -> bool:
    """True when the OCR engine (``rapidocr_onnxruntime``, OpenCV, numpy,
    Pillow) can be imported."""
    try:
        import cv2  # noqa: F401
        import numpy  # noqa: F401
        import rapidocr_onnxruntime  # noqa: F401
        from PIL import Image  # noqa: F401
    except ImportError:
        return False
    return True


@lru_cache(maxsize=1)
def engine() -> Any:
    """The RapidOCR engine, built once per process (its models come with the
    wheel: nothing is downloaded).

    :raises ImportError: the ``ocr`` extra is not installed.
    """
    from rapidocr_onnxruntime import RapidOCR

    # the detector works on the page reduced to 1280 px: text lines of a 200-dpi page stay well above its
    # smallest box, at half the cost of the full page
    eng = RapidOCR(det_limit_side_len=1280, det_limit_type="max")
    threads = ort_threads()
    for part in (eng.text_det, eng.text_rec):
        try:  # rapidocr builds its sessions with ORT's defaults; rebuild them from the same model file
            old = part.session.session
            part.session.session = _session(old._model_path, threads)
        except Exception:  # noqa: BLE001 - another rapidocr layout: keep its own session
            pass
    return eng


def ort_threads() -> int:
    """ONNX Runtime's intra-op threads for the OCR models: the environment
    variable ``GIPEXTRACT_OCR_THREADS`` when set (≥ 1), else the cores this
    process may run on less those the machine's load already keeps busy
    (at least 1).  Readings do not depend on it; only the time does."""
    import os

    env = os.environ.get("GIPEXTRACT_OCR_THREADS", "").strip()
    if env.isdigit() and int(env) >= 1:
        return int(env)
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    try:
        busy = int(os.getloadavg()[0])
    except OSError:
        busy = 0
    return max(1, min(cores, cores - busy + 1))


def _session(model_path: str, threads: int) -> Any:
    """An ONNX Runtime CPU session for ``model_path``: ``threads`` intra-op
    threads that sleep rather than spin while they wait (on a shared machine a
    spinning pool takes the cores the other thread needs), and the memory
    arena on (the batches repeat the same shapes)."""
    import onnxruntime as ort  # type: ignore[import-untyped]

    so = ort.SessionOptions()
    so.log_severity_level = 4
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(model_path, sess_options=so, providers=["CPUExecutionProvider"])


# -- pages ------------------------------------------------------------------------


@dataclass(slots=True)
class _Grid:
    """One ruled table found on a page: its box and its cells."""

    x0: int
    y0: int
    x1: int
    y1: int
    xs: list[float]
    ys: list[float]
    #: (x0, y0, x1, y1, row, col, rowspan, colspan) of each enclosed region
    cells: list[tuple[int, int, int, int, int, int, int, int]] = field(default_factory=list)


@dataclass(slots=True)
class _Page:
    """A normalised page: grey image (uint8), points-per-pixel scale, ink mask."""

    number: int
    gray: np.ndarray
    unit: float  # pixels per point
    angle: float = 0.0
    clean: Any = None  # ``gray`` median-filtered (scan speckle out), for the detector and recogniser


def _normalise(number: int, img: Image.Image) -> _Page:
    import cv2
    import numpy as np

    gray = np.asarray(img.convert("L"))
    h, w = gray.shape
    target = _A4_WIDTH_PT / 72 * DPI  # ≈ 1653 px
    if w > 1.5 * target or w < 0.7 * target:
        f = target / w
        gray = cv2.resize(gray, (max(1, round(w * f)), max(1, round(h * f))),
                          interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC)
    page = _Page(number, gray, gray.shape[1] / _A4_WIDTH_PT)
    page.angle = _skew_angle(gray)
    if abs(page.angle) >= 0.1:
        hh, ww = gray.shape
        m = cv2.getRotationMatrix2D((ww / 2, hh / 2), page.angle, 1.0)
        page.gray = cv2.warpAffine(gray, m, (ww, hh), flags=cv2.INTER_CUBIC, borderValue=255)
    page.clean = _despeckle(page.gray)
    return page


def _despeckle(gray: np.ndarray) -> np.ndarray:
    """``gray`` with specks of ink (connected pieces of at most 4 pixels) painted white: scan noise
    would read as ``.``; a median filter would also erase the thin strokes of a serif digit."""
    import cv2
    import numpy as np

    ink = (gray < 200).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    small = np.nonzero(stats[:, cv2.CC_STAT_AREA] <= 4)[0]
    small = small[small > 0]
    if not len(small):
        return gray
    out = gray.copy()
    out[np.isin(labels, small)] = 255
    return out


def _skew_angle(gray: np.ndarray) -> float:
    """The rotation (degrees, counter-clockwise positive as OpenCV turns) that
    makes the ink's row profile sharpest, within ±5°."""
    import cv2
    import numpy as np

    small = cv2.resize(gray, (gray.shape[1] // 2, gray.shape[0] // 2), interpolation=cv2.INTER_AREA)
    ink = (small < 160).astype(np.float32)
    if ink.sum() < 50:
        return 0.0
    hh, ww = ink.shape

    def score(a: float) -> float:
        m = cv2.getRotationMatrix2D((ww / 2, hh / 2), a, 1.0)
        rows = cv2.warpAffine(ink, m, (ww, hh), flags=cv2.INTER_NEAREST).sum(axis=1)
        return float(np.square(np.diff(rows)).sum())

    best = max((a / 2 for a in range(-10, 11)), key=score)
    return max((best + a / 20 for a in range(-10, 11)), key=score)


def _binary(gray: np.ndarray) -> np.ndarray:
    """Ink = 255: an adaptive threshold (uneven scans) that also needs the pixel clearly darker than paper
    (a thin ruling line rendered grey stays ink; no smoothing, which would erase it)."""
    import cv2

    adaptive = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 10)
    return cv2.bitwise_and(adaptive, (gray < 225).astype(gray.dtype) * 255)


def _snap(values: Sequence[float], tol: float) -> list[float]:
    out: list[list[float]] = []
    for v in sorted(values):
        if out and v - out[-1][-1] <= tol:
            out[-1].append(v)
        else:
            out.append([v])
    return [sum(g) / len(g) for g in out]


def _nearest(bounds: list[float], v: float) -> int:
    return min(range(len(bounds)), key=lambda i: abs(bounds[i] - v))


def _grids(page: _Page, binary: np.ndarray) -> tuple[list[_Grid], np.ndarray]:
    """The ruled tables of a page (step 3) and the ruling mask."""
    import cv2
    import numpy as np

    u = page.unit
    hk = cv2.getStructuringElement(cv2.MORPH_RECT, (max(10, round(30 * u)), 1))
    vk = cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(8, round(14 * u))))
    horiz = cv2.morphologyEx(binary, cv2.MORPH_OPEN, hk)
    vert = cv2.morphologyEx(binary, cv2.MORPH_OPEN, vk)
    ruling = cv2.dilate(cv2.bitwise_or(horiz, vert), np.ones((3, 3), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(ruling, connectivity=8)
    grids: list[_Grid] = []
    for i in range(1, n):
        x, y, w, h, _area = (int(v) for v in stats[i])
        if w < 100 * u or h < 25 * u:
            continue
        grid = _cells(ruling[y:y + h, x:x + w], x, y, u)
        if grid is not None:
            grids.append(grid)
    grids.sort(key=lambda g: g.y0)
    return grids, ruling


def _cells(mask: np.ndarray, ox: int, oy: int, u: float) -> _Grid | None:
    """The enclosed regions of one table's ruling mask → a :class:`_Grid`
    (``None`` when it is not a table of at least 2 × 2 cells)."""
    import cv2

    mask = mask.copy()  # close the table's box: a table cut by a page break has no rule at the cut
    mask[:2, :] = mask[-2:, :] = 255
    mask[:, :2] = mask[:, -2:] = 255
    padded = cv2.copyMakeBorder(mask, 2, 2, 2, 2, cv2.BORDER_CONSTANT, value=0)
    n, _, stats, _ = cv2.connectedComponentsWithStats(255 - padded, connectivity=4)
    ph, pw = padded.shape
    boxes = []
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i])
        if x == 0 or y == 0 or x + w >= pw or y + h >= ph:
            continue  # outside the table
        if w < 4 * u or h < 4 * u or area < 0.5 * w * h:
            continue
        boxes.append((x - 2 + ox, y - 2 + oy, x - 2 + ox + w, y - 2 + oy + h))
    if len(boxes) < 4:
        return None
    tol = max(4.0, 3 * u)
    xs = _snap([b[0] for b in boxes] + [b[2] for b in boxes], tol)
    ys = _snap([b[1] for b in boxes] + [b[3] for b in boxes], tol)
    if len(xs) < 3 or len(ys) < 3:
        return None
    grid = _Grid(ox, oy, ox + mask.shape[1], oy + mask.shape[0], xs, ys)
    for x0, y0, x1, y1 in boxes:
        c0, c1 = _nearest(xs, x0), _nearest(xs, x1)
        r0, r1 = _nearest(ys, y0), _nearest(ys, y1)
        grid.cells.append((x0, y0, x1, y1, r0, c0, max(1, r1 - r0), max(1, c1 - c0)))
    rows = {c[4] for c in grid.cells}
    cols = {c[5] for c in grid.cells}
    return grid if len(rows) >= 2 and len(cols) >= 2 else None


# -- recognition ------------------------------------------------------------------


def _bgr(gray: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)


def _pad_crop(gray: np.ndarray, x0: int, y0: int, x1: int, y1: int, pad: int) -> np.ndarray:
    import cv2

    crop = gray[max(0, y0):max(0, y1), max(0, x0):max(0, x1)]
    return cv2.copyMakeBorder(crop, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)


def _recognise(crops: list[np.ndarray]) -> list[tuple[str, float]]:
    """Text and score of each crop (grey), by the recogniser alone."""
    if not crops:
        return []
    with _lock:  # one engine per process; ONNX sessions are not shared across threads here
        res, _ = engine().text_rec([_bgr(c) for c in crops])
    return [(str(t).strip(), float(s)) for t, s in res]


def _detect(gray: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Axis-aligned boxes (x0, y0, x1, y1) of the page's text lines."""
    with _lock:
        boxes, _ = engine().text_det(_bgr(gray))
    if boxes is None:
        return []
    out = []
    for b in boxes:
        xs = [p[0] for p in b]
        ys = [p[1] for p in b]
        out.append((int(min(xs)), int(min(ys)), int(max(xs)) + 1, int(max(ys)) + 1))
    return out


def _ink_box(ink: np.ndarray) -> tuple[int, int, int, int] | None:
    import numpy as np

    ys, xs = np.nonzero(ink)
    if len(xs) < 6:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def _alternatives(gray: np.ndarray, box: tuple[int, int, int, int], pad: int, first: str) -> tuple[str, ...]:
    """Other readings of one line: the crop scaled 1.5× and 0.75×, binarised (Otsu), and stretched 2× across."""
    import cv2

    crop = _pad_crop(gray, *box, pad)
    variants = [cv2.resize(crop, None, fx=1.5, fy=1.5, interpolation=cv2.INTER_CUBIC),
                cv2.resize(crop, None, fx=0.75, fy=0.75, interpolation=cv2.INTER_AREA),
                cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1],
                # stretched 2× across: more of the recogniser's time steps per glyph, so two equal digits
                # that touch ('33') are not collapsed into one
                cv2.resize(crop, None, fx=2.0, fy=1.0, interpolation=cv2.INTER_CUBIC)]
    seen: list[str] = []
    for text, _ in _recognise(variants):
        if text != first and text not in seen:
            seen.append(text)
    return tuple(seen)


def _table_block(page: _Page, grid: _Grid, binary: np.ndarray, ruling: np.ndarray,
                 boxes: list[tuple[int, int, int, int]]) -> TableBlock:
    """Recognise each cell of ``grid`` on its own crop (step 5)."""
    u = page.unit
    pad = max(4, round(3 * u))
    where = f"page {page.number}"
    import cv2
    import numpy as np

    ink_all = binary.copy()
    ink_all[cv2.dilate(ruling, np.ones((5, 5), np.uint8)) > 0] = 0  # and the grey edges of the lines
    ink_all[page.clean >= 200] = 0  # scan speckle is not ink
    # the lines to read in each cell: detected boxes by centre, else the ink's box
    per_cell: list[list[tuple[int, int, int, int]]] = []
    for x0, y0, x1, y1, *_ in grid.cells:
        inside = [b for b in boxes if x0 <= (b[0] + b[2]) / 2 <= x1 and y0 <= (b[1] + b[3]) / 2 <= y1]
        m = max(3, round(1.5 * u))
        ink = ink_all[y0 + m:y1 - m, x0 + m:x1 - m]
        lines: list[tuple[int, int, int, int]] = []
        for bx0, by0, bx1, by1 in sorted(inside, key=lambda b: (b[1], b[0])):
            # grow the detector's box (it can miss a glyph's edge), clip it to the cell, shrink it to the ink
            gy = (by1 - by0) // 4
            bx0, by0, bx1, by1 = bx0 - 2 * gy, by0 - gy, bx1 + 2 * gy, by1 + gy
            cb = (max(bx0, x0 + m), max(by0, y0 + m), min(bx1, x1 - m), min(by1, y1 - m))
            tight = _ink_box(ink_all[cb[1]:cb[3], cb[0]:cb[2]]) if cb[2] > cb[0] and cb[3] > cb[1] else None
            if tight is not None:
                lines.append((cb[0] + tight[0], cb[1] + tight[1], cb[0] + tight[2], cb[1] + tight[3]))
        if not lines:
            tight = _ink_box(ink) if ink.size else None
            if tight is not None and (tight[3] - tight[1]) >= 2.5 * u:
                lines.append((x0 + m + tight[0], y0 + m + tight[1], x0 + m + tight[2], y0 + m + tight[3]))
        per_cell.append(lines)
    crops = [_pad_crop(page.clean, *b, pad) for lines in per_cell for b in lines]
    results = iter(_recognise(crops))
    slots: dict[tuple[int, int], Cell] = {}
    for (*_, r, c, rs, cs), lines in zip(grid.cells, per_cell):
        read = [(b, *next(results)) for b in lines]
        if not read:
            slots[(r, c)] = Cell("", rs, cs, where)
            continue
        text = join_lines(t for _, t, _ in read)
        conf = min(s for _, _, s in read) if text else 0.0
        alts: tuple[str, ...] = ()
        if len(read) == 1 and conf < REREAD_BELOW:
            alts = _alternatives(page.clean, read[0][0], pad, text)
        if text in _DASH_LIKE:  # a dash and 一 have one shape: the recogniser cannot tell them apart
            alts = tuple(dict.fromkeys((text, *alts)))
            text = "—"
        slots[(r, c)] = Cell(text, rs, cs, where, confidence=round(conf, 4), alternatives=alts)
    covered: set[tuple[int, int]] = set()
    for (r, c), cell in slots.items():
        covered.update((r + dr, c + dc) for dr in range(cell.rowspan) for dc in range(cell.colspan))
    rows: list[list[Cell]] = []
    for r in range(len(grid.ys) - 1):
        row = []
        for c in range(len(grid.xs) - 1):
            if (r, c) in slots:
                row.append(slots[(r, c)])
            elif (r, c) not in covered:
                row.append(Cell("", where=where))
        rows.append(row)
    return TableBlock([row for row in rows if row], where=where)


# -- lines outside tables ---------------------------------------------------------


class _Read(str):
    """A text box's reading that keeps its score and re-readings through the
    shared line rule (which makes table cells of the lines' texts)."""

    score: float
    alternatives: tuple[str, ...]

    def __new__(cls, text: str, score: float, alternatives: tuple[str, ...] = ()) -> _Read:
        obj = super().__new__(cls, text)
        obj.score, obj.alternatives = score, alternatives
        return obj


def _mark_read(blocks: list[Block], reads: dict[str, list[float]]) -> None:
    """Give the cells of the table blocks the line rule made from OCR lines
    their recognition score and re-readings (§7.3: every cell read by OCR
    carries its confidence).  A cell whose text went through the rule
    unchanged keeps its own box's score; one the rule built (joined
    fragments) takes the lowest score of the page's readings found in its
    text, else 0.0 (unsure)."""
    for block in blocks:
        if not isinstance(block, TableBlock):
            continue
        for row in block.rows:
            for cell in row:
                if not cell.text or cell.confidence is not None:
                    continue
                if isinstance(cell.text, _Read):
                    cell.confidence, cell.alternatives = round(cell.text.score, 4), cell.text.alternatives
                else:
                    found = [sc for t, scores in reads.items() if t and t in cell.text for sc in scores]
                    cell.confidence = round(min(found), 4) if found else 0.0
                if cell.text in _DASH_LIKE:
                    cell.alternatives = tuple(dict.fromkeys((str(cell.text), *cell.alternatives)))
                    cell.text = "—"
                cell.text = str(cell.text)


def _lines(page: _Page, boxes: list[tuple[int, int, int, int]]) -> list[tuple[float, Line]]:
    """The text boxes outside tables → layout lines with their top (pixels), recognised (step 6)."""
    u = page.unit
    pad = max(4, round(3 * u))
    read = _recognise([_pad_crop(page.clean, *b, pad) for b in boxes])
    items: list[tuple[tuple[int, int, int, int], str, float]] = []
    for b, (t, s) in zip(boxes, read):
        if t:
            # only a number's re-readings are used (by the identities): prose is not re-read
            number = any(ch.isdigit() for ch in t) or t in _DASH_LIKE
            alts = _alternatives(page.clean, b, pad, t) if s < REREAD_BELOW and number else ()
            items.append((b, _Read(t, s, alts), s))
    items.sort(key=lambda it: (it[0][1] + it[0][3]) / 2)
    rows: list[list[tuple[tuple[int, int, int, int], str, float]]] = []
    for it in items:
        b = it[0]
        if rows:
            top = min(x[0][1] for x in rows[-1])
            bottom = max(x[0][3] for x in rows[-1])
            overlap = min(bottom, b[3]) - max(top, b[1])
            if overlap >= 0.5 * min(b[3] - b[1], bottom - top):
                rows[-1].append(it)
                continue
        rows.append([it])
    where = f"page {page.number}"
    width = page.gray.shape[1] / u
    out: list[tuple[float, Line]] = []
    for row in rows:
        row.sort(key=lambda x: x[0][0])
        cells = [t for _, t, _ in row]
        spans = [(b[0] / u, b[2] / u) for b, _, _ in row]
        x0, x1 = spans[0][0], spans[-1][1]
        text = " ".join(cells)
        out.append((min(b[1] for b, _, _ in row),
                    Line(text, cells, where, x0=x0, x1=x1, spans=spans,
                         prose=len(row) == 1 and (x1 - x0) > 0.6 * width)))
    return out


def _paragraphs(lines: list[Line]) -> list[Paragraph]:
    """Reflow lines into paragraphs: a line reaching near the right margin
    runs on into the next line when that one is not indented."""
    out: list[Paragraph] = []
    if not lines:
        return out
    left = min(ln.x0 or 0.0 for ln in lines)
    right = max(ln.x1 or 0.0 for ln in lines)
    prev: Line | None = None
    for ln in lines:
        full = prev is not None and (prev.x1 or 0) >= right - 20
        indented = (ln.x0 or 0) > left + 12
        if out and prev is not None and full and not indented and ln.where == prev.where:
            out[-1] = Paragraph(join_lines([out[-1].text, ln.text]), where=out[-1].where)
        else:
            out.append(Paragraph(ln.text, where=ln.where))
        prev = ln
    return out


# -- the reader -------------------------------------------------------------------


def _same_columns(a: _Grid, b: _Grid, u: float) -> bool:
    return (len(a.xs) == len(b.xs) and all(abs(p - q) <= 4 * u for p, q in zip(a.xs, b.xs)))


def _read_page(number: int, img: Image.Image) -> tuple[list[tuple[str, Any]], _Page]:
    """A page's items in reading order: ``("table", (TableBlock, _Grid))`` and ``("line", Line)``."""
    page = _normalise(number, img)
    binary = _binary(page.gray)
    grids, ruling = _grids(page, binary)
    boxes = _detect(page.clean)
    items: list[tuple[float, str, Any]] = []
    outside = []
    for b in boxes:
        cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
        if not any(g.x0 <= cx <= g.x1 and g.y0 <= cy <= g.y1 for g in grids):
            outside.append(b)
    for g in grids:
        inside = [b for b in boxes if g.x0 <= (b[0] + b[2]) / 2 <= g.x1 and g.y0 <= (b[1] + b[3]) / 2 <= g.y1]
        items.append((g.y0, "table", (_table_block(page, g, binary, ruling, inside), g)))
    for top, ln in _lines(page, outside):
        items.append((top, "line", ln))
    items.sort(key=lambda it: it[0])
    return [(kind, obj) for _, kind, obj in items], page


def ocr_pages(images: Sequence[tuple[int, Image.Image]], source: Source) -> list[Block]:
    """Read page images by OCR (module docstring, steps 1–6).

    :param images: ``(page number, image)`` pairs in page order; any Pillow
        mode; about 150–300 dpi for a printed page (other resolutions are
        scaled to :data:`DPI`).
    :param source: provenance, for messages.
    :returns: paragraphs and table blocks in reading order; every block and
        cell has ``where="page N"``; table cells carry ``confidence`` (0–1)
        and ``alternatives``.
    :raises ImportError: the ``ocr`` extra is not installed (check :func:`available`).
    """
    flat: list[tuple[str, Any]] = []
    last_grid: _Grid | None = None
    for number, img in images:
        items, page = _read_page(number, img)
        for i, (kind, obj) in enumerate(items):
            if kind == "table":
                block, grid = obj
                if (i == 0 and last_grid is not None and flat and flat[-1][0] == "table"
                        and _same_columns(last_grid, grid, page.unit)):
                    flat[-1][1].rows.extend(block.rows)
                else:
                    flat.append(("table", block))
                last_grid = grid
            else:
                flat.append((kind, obj))
                last_grid = None if kind == "line" and not _is_furniture(obj) else last_grid
    reads: dict[str, list[float]] = {}
    for kind, obj in flat:
        if kind == "line":
            for t in obj.cells:
                if isinstance(t, _Read):
                    reads.setdefault(str(t), []).append(t.score)
    blocks: list[Block] = []
    run: list[Line] = []
    for kind, obj in flat:
        if kind == "table":
            blocks.extend(_laid_out(run, reads))
            run = []
            blocks.append(obj)
        else:
            run.append(obj)
    blocks.extend(_laid_out(run, reads))
    return blocks


def _laid_out(run: list[Line], reads: dict[str, list[float]]) -> list[Block]:
    """The §7.5 line rule on OCR lines, its table cells marked with their scores."""
    out = layout_blocks(run, _paragraphs)
    _mark_read(out, reads)
    return out


def _is_furniture(ln: Line) -> bool:
    from .layout import is_page_marker

    return is_page_marker(ln.text) or ln.text.strip().isdigit()


# -- image files ------------------------------------------------------------------

_MAGIC = ((b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"),
          (b"GIF87a", "GIF"), (b"GIF89a", "GIF"))


def image_kind(data: bytes) -> str | None:
    """``"PNG"``, ``"JPEG"``, ``"TIFF"``, ``"BMP"`` or ``"GIF"`` from the first
    bytes of ``data``, else ``None``."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    if data[:2] == b"BM" and len(data) >= 26 and data[6:10] == b"\x00\x00\x00\x00":
        return "BMP"
    return None


def _frames(data: bytes, source: Source) -> Iterator[tuple[int, Image.Image]]:
    """The pages of an image file, each checked against :data:`MAX_PIXELS`
    from its header before it is decoded."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the size is checked below
            img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as e:
        raise ReadError(f"the image has more than the {MAX_PIXELS:,} pixels a page image may have",
                        path=source.path) from e
    except UnidentifiedImageError as e:  # PIL's message names its BytesIO, not the file
        raise ReadError("not a readable image: no image format PIL knows (PNG, JPEG, TIFF, BMP, GIF, WebP …)",
                        path=source.path) from e
    except (OSError, ValueError) as e:
        raise ReadError(f"not a readable image ({e.__class__.__name__}: {e})", path=source.path) from e
    for i, frame in enumerate(ImageSequence.Iterator(img), start=1):
        if i > MAX_PAGES:
            raise ReadError(f"the image has more than {MAX_PAGES} pages; not a report", path=source.path)
        w, h = frame.size
        if w * h > MAX_PIXELS:
            raise ReadError(f"page {i} is {w} × {h} pixels, more than the {MAX_PIXELS:,} pixels a page image may have",
                            path=source.path)
        try:
            frame.load()
            yield i, frame.copy()
        except (OSError, ValueError, SyntaxError) as e:
            raise ReadError(f"not a readable image (page {i}: {e.__class__.__name__}: {e})",
                            path=source.path) from e


def read_image(data: bytes, source: Source) -> Document:
    """Read a page image file (PNG, JPEG, TIFF with one or more pages, BMP)
    by OCR.

    Without the ``ocr`` extra the document is empty, ``needs_ocr`` is set and
    a note says how to install it.

    :returns: the blocks of :func:`ocr_pages`; ``notes`` say the pages were read by OCR.
    :raises ReadError: a corrupt or truncated image, a page above
        :data:`MAX_PIXELS` pixels, more than :data:`MAX_PAGES` pages.
    """
    kind = image_kind(data) or "image"
    if not available():
        return Document([], source, [f"A page image ({kind}) needs OCR, which is not installed: {INSTALL_HINT}."],
                        incomplete=True, needs_ocr=True)
    pages = list(_frames(data, source))
    blocks = ocr_pages(pages, source)
    note = (f"A page image ({kind}, {len(pages)} page{'s' if len(pages) != 1 else ''}) read by OCR: a row OCR "
            f"did not find is unknown, not absent.")
    return Document(blocks, source, [note], incomplete=True)


def render_pdf_pages(data: bytes, numbers: Sequence[int], source: Source) -> list[tuple[int, Image.Image]]:
    """Render PDF pages ``numbers`` (1-based) at :data:`DPI` with pypdfium2
    (the page's pixels bounded by :data:`MAX_PIXELS`).

    :raises ReadError: PDFium cannot open the document.
    """
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        raise ReadError(f"not a readable PDF for OCR ({e})", path=source.path) from e
    out = []
    try:
        for n in numbers:
            page = pdf[n - 1]
            w, h = page.get_size()
            scale = DPI / 72
            if w * h * scale * scale > MAX_PIXELS:
                scale = (MAX_PIXELS / (w * h)) ** 0.5
            out.append((n, page.render(scale=scale, grayscale=True).to_pil()))
            page.close()
    finally:
        pdf.close()
    return out


def ocr_pdf_pages(data: bytes, numbers: Sequence[int], source: Source) -> dict[int, list[Block]]:
    """OCR the PDF pages ``numbers``: page number → its blocks (tables that
    run on across consecutive OCR pages are joined into the first page's list)."""
    out: dict[int, list[Block]] = {}
    groups: list[list[int]] = []
    for n in sorted(numbers):
        if groups and groups[-1][-1] == n - 1:
            groups[-1].append(n)
        else:
            groups.append([n])
    for g in groups:
        out[g[0]] = ocr_pages(render_pdf_pages(data, g, source), source)
        for n in g[1:]:
            out[n] = []
    return out


def with_ocr_pages(data: bytes, source: Source, numbers: Sequence[int], items: list[list[Any]],
                   assemble: Any, notes: list[str]) -> Document:
    """The PDF reader's document with its picture pages (``numbers``, 1-based)
    read by OCR: ``items`` are the text-layer reader's per-page items, turned
    into blocks by ``assemble``; the OCR pages' blocks take their place in
    page order.  The reader's notes that those pages need OCR are replaced by
    one saying they were read by OCR; the document stays ``incomplete`` (a
    row OCR did not find is unknown, not absent).

    :raises ReadError: PDFium cannot render the document.
    """
    ocred = ocr_pdf_pages(data, numbers, source)
    blocks: list[Block] = []
    run: list[Any] = []
    for n, page_items in enumerate(items, start=1):
        if n in ocred:
            blocks.extend(assemble(run))
            run = []
            blocks.extend(ocred[n])
        else:
            run.append(page_items)
    blocks.extend(assemble(run))
    kept = [note for note in notes if "needs OCR" not in note]
    which = "any page" if len(numbers) == len(items) else f"page {', '.join(str(n) for n in numbers)}"
    kept.append(f"The PDF has no text layer on {which}: it was read by OCR, so a row OCR did not find there is "
                f"unknown, not absent.")
    return Document(blocks, source, kept, incomplete=True)
