"""Render synthetic reports as PDF for the PDF reader's tests.

The machine has no CJK font file, so the reports are drawn with reportlab's
built-in CID font ``STSong-Light`` (Adobe-GB1, referenced by name and not
embedded: pdfminer maps its codes back to Unicode) and numbers in the base-14
``Times-Roman``, as Word/WPS exports mix a CJK font with Times for digits.

:func:`report_pdf` draws a whole report from an expected-values document in
the format of ``fixtures/expected/*.json`` (the synthetic fixtures' values:
invented agency, invented numbers keeping the identities); the labels come
from ``fixtures/make_fixtures.py`` and the table-二 labels below, written from
the spec, not from gipextract's template data.  Options reproduce the layouts
of real PDFs: ruling or none, a table cut by a page break inside a merged group
cell, vertical labels one character per line, numbers set higher than their
labels, white rectangles behind paragraphs, an empty cell between a label and
its numbers.  Coordinates: points, ``top`` measured from the top of the page.
"""

from __future__ import annotations

import importlib.util
import io
import zlib
from dataclasses import dataclass

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from .conftest import FIXTURES

_spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
mf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mf)

CJK = "STSong-Light"
NUM = "Times-Roman"
pdfmetrics.registerFont(UnicodeCIDFont(CJK))

W, H = 595.0, 842.0
LEFT, RIGHT, TOP, BOTTOM = 77.0, 518.0, 80.0, 770.0
PAD = 2.5

T2_V2021 = [
    ("art20_1", "第二十条第（一）项", ["本年制发件数", "本年废止件数", "现行有效件数"],
     [("regulations", "规章"), ("normative_documents", "行政规范性文件")], ["issued", "repealed", "in_force"]),
    ("art20_5", "第二十条第（五）项", ["本年处理决定数量"], [("administrative_licensing", "行政许可")], ["decisions"]),
    ("art20_6", "第二十条第（六）项", ["本年处理决定数量"],
     [("administrative_penalty", "行政处罚"), ("administrative_compulsion", "行政强制")], ["decisions"]),
    ("art20_8", "第二十条第（八）项", ["本年收费金额（单位：万元）"], [("administrative_fees", "行政事业性收费")],
     ["fee_amount_wan_yuan"]),
]
T2_V2019 = [
    ("art20_1", "第二十条第（一）项", ["本年新制作数量", "本年新公开数量", "对外公开总数量"],
     [("regulations", "规章"), ("normative_documents", "规范性文件")], ["made", "published", "total_published"]),
    ("art20_5", "第二十条第（五）项", ["上一年项目数量", "本年增/减", "处理决定数量"],
     [("administrative_licensing", "行政许可"), ("other_external_services", "其他对外管理服务事项")],
     ["items_prev_year", "items_change", "decisions"]),
    ("art20_6", "第二十条第（六）项", ["上一年项目数量", "本年增/减", "处理决定数量"],
     [("administrative_penalty", "行政处罚"), ("administrative_compulsion", "行政强制")],
     ["items_prev_year", "items_change", "decisions"]),
    ("art20_8", "第二十条第（八）项", ["上一年项目数量", "本年增/减"], [("administrative_fees", "行政事业性收费")],
     ["items_prev_year", "items_change"]),
    ("art20_9", "第二十条第（九）项", ["采购项目数量", "采购总金额"], [("centralized_procurement", "政府集中采购")],
     ["procurement_projects", "procurement_amount"]),
]


def _runs(s: str, font: str) -> list[tuple[str, str]]:
    """``s`` split into runs drawable in ``font``: the number font has no CJK
    glyphs, so non-ASCII characters fall back to the CJK font."""
    if font == CJK:
        return [(s, CJK)] if s else []
    out: list[tuple[str, str]] = []
    for ch in s:
        f = font if ch.isascii() else CJK
        if out and out[-1][1] == f:
            out[-1] = (out[-1][0] + ch, f)
        else:
            out.append((ch, f))
    return out


@dataclass
class C:
    """A table cell to draw: text (``\\n`` forces a line break), spans, and
    whether it is a value (drawn in the number font)."""

    text: str
    rowspan: int = 1
    colspan: int = 1
    value: bool = False


def printed(expected: dict, key: str) -> str:
    """The text a report prints for cell ``key`` of an expected document."""
    if key in expected.get("raw", {}):
        return expected["raw"][key]
    value = expected["cells"][key]
    if value is None:
        return {"blank": "", "dash": "—", "none_text": "无"}.get(expected["flags"].get(key), "")
    return str(value)


class Pdf:
    """A few pages drawn top-down: paragraphs, titles and tables.

    :param ruled: draw cell borders.
    :param numbers_higher: points by which numbers are set above the middle
        of their row (a label seems to sit a line below its numbers).
    :param backgrounds: draw a white, unstroked rectangle behind every
        paragraph line (what WPS does; it is not ruling).
    """

    def __init__(self, ruled: bool = True, numbers_higher: float = 0.0, backgrounds: bool = False):
        self.buf = io.BytesIO()
        self.c = canvas.Canvas(self.buf, pagesize=(W, H))
        self.ruled, self.higher, self.backgrounds = ruled, numbers_higher, backgrounds
        self.page, self.y = 1, TOP

    # -- primitives -------------------------------------------------------

    def _text(self, x: float, top: float, s: str, size: float, font: str = CJK) -> None:
        for run, f in _runs(s, font):
            self.c.setFont(f, size)
            self.c.drawString(x, H - top - size * 0.86, run)
            x += pdfmetrics.stringWidth(run, f, size)

    @staticmethod
    def width(s: str, size: float, font: str = CJK) -> float:
        return sum(pdfmetrics.stringWidth(run, f, size) for run, f in _runs(s, font))

    def wrap(self, s: str, width: float, size: float, font: str = CJK) -> list[str]:
        lines: list[str] = []
        for part in s.split("\n"):
            line = ""
            for ch in part:
                if line and self.width(line + ch, size, font) > width:
                    lines.append(line)
                    line = ""
                line += ch
            lines.append(line)
        return lines

    def new_page(self) -> None:
        self._text(W / 2 - 12, 800, f"- {self.page} -", 12, NUM)
        self.c.showPage()
        self.page += 1
        self.y = TOP

    def save(self) -> bytes:
        self._text(W / 2 - 12, 800, f"- {self.page} -", 12, NUM)
        self.c.showPage()
        self.c.save()
        return self.buf.getvalue()

    # -- text -------------------------------------------------------------

    def title(self, *lines: str, size: float = 20) -> None:
        for s in lines:
            self._text(W / 2 - self.width(s, size) / 2, self.y, s, size)
            self.y += size * 1.4
        self.y += size

    def para(self, s: str, size: float = 12, indent: bool = True) -> None:
        first = 2 * size if indent else 0.0
        lines = self.wrap(s, RIGHT - LEFT - first, size)
        rest = self.wrap(s[len(lines[0]):], RIGHT - LEFT, size) if len(lines) > 1 else []
        for i, line in enumerate([lines[0], *[ln for ln in rest if ln]]):
            if self.y + size * 1.8 > BOTTOM:
                self.new_page()
            x = LEFT + (first if i == 0 else 0)
            if self.backgrounds:
                self.c.setFillColorRGB(1, 1, 1)
                self.c.rect(LEFT - 3, H - self.y - size * 1.6, RIGHT - LEFT + 6, size * 1.6, stroke=0, fill=1)
                self.c.setFillColorRGB(0, 0, 0)
            self._text(x, self.y, line, size)
            self.y += size * 1.6

    # -- tables -----------------------------------------------------------

    def table(self, rows: list[list[C]], widths: list[float], size: float = 9, break_before: set[int] = frozenset(),
              min_height: float = 18.0, repeat: int = 0) -> None:
        """Draw a table; ``break_before`` lists row indices that start a new
        page (a merged cell crossing the break is cut, its lines flowing on);
        the first ``repeat`` rows are drawn again at the top of every
        continuation page (Word's repeated header rows)."""
        xs = [LEFT]
        for w_ in widths:
            xs.append(xs[-1] + w_)
        placed: list[tuple[int, int, C]] = []
        taken: set[tuple[int, int]] = set()
        for r, row in enumerate(rows):
            col = 0
            for cell in row:
                while (r, col) in taken:
                    col += 1
                placed.append((r, col, cell))
                for dr in range(cell.rowspan):
                    for dc in range(cell.colspan):
                        taken.add((r + dr, col + dc))
                col += cell.colspan
        line_h = size * 1.3
        heights = [min_height] * len(rows)
        for r, col, cell in placed:
            if cell.rowspan == 1:
                n = len(self.wrap(cell.text, xs[col + cell.colspan] - xs[col] - 2 * PAD, size))
                heights[r] = max(heights[r], n * line_h + 2 * PAD)
        # lay rows out on pages: (page, top) of every row
        tops: list[tuple[int, float]] = []
        page, y = self.page, self.y
        header = sum(heights[:repeat])
        for r, h in enumerate(heights):
            if r in break_before or y + h > BOTTOM:
                page, y = page + 1, TOP + (header if r >= repeat else 0)
            tops.append((page, y))
            y += h
        pages_needed = tops[-1][0] - self.page
        # draw page by page
        for p in range(self.page, self.page + pages_needed + 1):
            cells = list(placed)
            at = tops
            if repeat and p > tops[0][0]:  # the repeated header rows, then the page's own rows
                at = [(p, TOP + sum(heights[:i])) if i < repeat else t for i, t in enumerate(tops)]
            for r, col, cell in cells:
                span = range(r, r + cell.rowspan)
                parts = [i for i in span if at[i][0] == p]
                if not parts:
                    continue
                x0, x1 = xs[col], xs[col + cell.colspan]
                top = at[parts[0]][1]
                bottom = at[parts[-1]][1] + heights[parts[-1]]
                if self.ruled:
                    self.c.setLineWidth(0.5)
                    self.c.rect(x0, H - bottom, x1 - x0, bottom - top, stroke=1, fill=0)
                self._cell_text(cell, span, at, heights, p, x0, x1, size, line_h)
            if p < self.page + pages_needed:
                self.new_page()
        self.y = tops[-1][1] + heights[-1] + 16

    def _cell_text(self, cell: C, span, tops, heights, page, x0, x1, size, line_h) -> None:
        font = NUM if cell.value else CJK
        lines = self.wrap(cell.text, x1 - x0 - 2 * PAD, size if not cell.value else size + 1, font)
        rows = list(span)
        total = sum(heights[i] for i in rows)
        block = len(lines) * line_h
        start = PAD if cell.rowspan > 1 else (total - block) / 2  # merged cells: top-aligned, like Word
        for k, line in enumerate(lines):
            offset = start + k * line_h
            acc = 0.0
            for i in rows:  # which row (and so which page part) this line falls in
                if offset + line_h / 2 < acc + heights[i] or i == rows[-1]:
                    break
                acc += heights[i]
            if tops[i][0] != page:
                continue
            y = tops[i][1] + (offset - acc)
            if cell.value:
                y -= self.higher
            w_ = self.width(line, size + 1 if cell.value else size, font)
            self._text((x0 + x1) / 2 - w_ / 2, y, line, size + 1 if cell.value else size, font)


# -- whole reports --------------------------------------------------------------

def _t2_rows(expected: dict, blocks) -> list[list[C]]:
    rows: list[list[C]] = []
    for bkey, blabel, headers, brows, cols in blocks:
        rows.append([C(blabel, colspan=4)])
        rows.append([C("信息内容")] + [C(h, colspan=4 - len(headers) if i == len(headers) - 1 and len(headers) < 3
                                           else 1) for i, h in enumerate(headers)])
        for rkey, rlabel in brows:
            vals = [printed(expected, f"t2.{bkey}.{rkey}.{c}") for c in cols]
            rows.append([C(rlabel)] + [C(v, value=True, colspan=4 - len(vals) if i == len(vals) - 1 and len(vals) < 3
                                         else 1) for i, v in enumerate(vals)])
    return rows


def _t3_rows(expected: dict, order, *, vertical: bool, empty_leaf_slot: bool, typos: dict[str, str]) -> list[list[C]]:
    rows: list[list[C]] = [
        [C(mf.NOTE, rowspan=3, colspan=3), C("申请人情况", colspan=7)],
        [C("自然人", rowspan=2), C("法人或其他组织", colspan=5), C("总计", rowspan=2)],
        [C("商业企业"), C("科研机构"), C("社会公益组织"), C("法律服务机构"), C("其他")],
    ]
    block_rows = sum(1 for _, g, _ in order if g is not None)
    group_len: dict[str, int] = {}
    current = None
    for _key, group, label in order:
        if group:
            current = group
        if label[0].isdigit() and current:
            group_len[current] = group_len.get(current, 0) + 1
    for key, group, label in order:
        label = typos.get(label, label)
        vals = [C(printed(expected, f"t3.{key}.{c}"), value=True) for c in mf.T3_COLS]
        leaf = label[0].isdigit()
        if group is None:
            rows.append([C(label, colspan=3)] + vals)
            continue
        row: list[C] = []
        if group.startswith("三、"):
            text = "\n".join(["三、", *"本年度办理结果"]) if vertical else "三、本年度办理结果"
            row.append(C(text, rowspan=block_rows))
        if leaf:
            if group and not group.startswith("三、"):
                row.append(C(group, rowspan=group_len[group]))
            row.append(C(label))
        elif empty_leaf_slot:
            row += [C(label), C("")]
        else:
            row.append(C(label, colspan=2))
        rows.append(row + vals)
    return rows


def _t4_rows(expected: dict) -> list[list[C]]:
    leaves = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]
    return [
        [C("行政复议", colspan=5), C("行政诉讼", colspan=10)],
        [*(C(h, rowspan=2) for h in leaves), C("未经复议直接起诉", colspan=5), C("复议后起诉", colspan=5)],
        [*(C(h) for h in leaves), *(C(h) for h in leaves)],
        [C(printed(expected, f"t4.{g}.{c}"), value=True) for g in mf.T4_ROWS for c in mf.T4_COLS],
    ]


def report_pdf(expected: dict, *, ruled: bool = True, vertical: bool = True, numbers_higher: float = 0.0,
               backgrounds: bool = False, t3_break_before: str | None = None, empty_leaf_slot: bool = False,
               typos: dict[str, str] | None = None, repeat_header: bool = False) -> bytes:
    """A whole synthetic report as PDF bytes.

    :param expected: the values to print (``fixtures/expected/*.json`` format).
    :param t3_break_before: 表三 row key that starts a new page.
    :param typos: official label → label as misprinted.
    :param repeat_header: repeat 表三's three header rows on its continuation page.
    """
    pdf = Pdf(ruled=ruled, numbers_higher=numbers_higher, backgrounds=backgrounds)
    agency = expected["agency"]
    pdf.title(agency, f"{expected['year']}年政府信息公开工作年度报告")
    pdf.para(f"本报告由{agency}根据《中华人民共和国政府信息公开条例》编制，所列数据的统计期限自"
             f"{expected['year']}年1月1日起至{expected['year']}年12月31日止。")
    pdf.para("一、总体情况", indent=True)
    pdf.para("本年度，本机关认真贯彻落实《中华人民共和国政府信息公开条例》，主动公开政府信息共计一千余条，"
             "依法办理政府信息公开申请，各项工作有序推进，公开质量进一步提升。")
    pdf.para("二、主动公开政府信息情况")
    v2019 = "t2.art20_9.centralized_procurement.procurement_amount" in expected["cells"]
    pdf.table(_t2_rows(expected, T2_V2019 if v2019 else T2_V2021), [150, 97, 97, 97], size=9)
    pdf.para("三、收到和处理政府信息公开申请情况")
    other = mf.T3_V2019_OTHER if "t3.other_handling.total" in expected["cells"] else mf.T3_V2021_OTHER
    order = mf.T3_COMMON_HEAD + other + mf.T3_TAIL
    rows = _t3_rows(expected, order, vertical=vertical, empty_leaf_slot=empty_leaf_slot, typos=typos or {})
    brk = {3 + [k for k, _, _ in order].index(t3_break_before)} if t3_break_before else set()
    pdf.table(rows, [24, 34, 130] + [36.1] * 7, size=7.5, break_before=brk, min_height=16,
              repeat=3 if repeat_header else 0)
    pdf.para("四、政府信息公开行政复议、行政诉讼情况")
    pdf.table(_t4_rows(expected), [29.4] * 15, size=7.5)
    pdf.para("五、存在的主要问题及改进情况")
    pdf.para("一是政策解读的形式还不够丰富；二是信息公开的及时性有待提高。下一步将加强培训，提升工作水平。")
    pdf.para("六、其他需要报告的事项")
    pdf.para("本年度未收取信息处理费。")
    return pdf.save()


def scanned_pdf(pages: int = 2) -> bytes:
    """A PDF whose pages are images only (no text layer), like a scan."""
    from PIL import Image
    from reportlab.lib.utils import ImageReader

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(W, H))
    img = ImageReader(Image.new("L", (60, 80), 200))
    for _ in range(pages):
        c.drawImage(img, 50, 50, 495, 742)
        c.showPage()
    c.save()
    return buf.getvalue()


def text_pdf(*pages: list[str], size: float = 12) -> bytes:
    """A plain PDF with the given lines of text on each page."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(W, H))
    for lines in pages:
        c.setFont(CJK, size)
        for i, line in enumerate(lines):
            c.drawString(LEFT, H - TOP - i * size * 1.6, line)
        c.showPage()
    c.save()
    return buf.getvalue()


# -- raw PDFs: hand-written content streams, for what reportlab will not draw ------

HELVETICA = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
#: A font whose codes map to made-up glyph names and that has no ToUnicode:
#: its characters have no Unicode mapping.
UNMAPPED_FONT = (b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Type /Encoding "
                 b"/Differences [65 /g1 /g2 /g3 /g4 /g5 /g6] >> >>")


def _stream(data: bytes, filters: list[bytes]) -> bytes:
    names = b" ".join(b"/" + f for f in filters)
    return b"<< /Length %d /Filter [%s] >>\nstream\n" % (len(data), names) + data + b"\nendstream"


def raw_pdf(*contents: bytes | tuple[bytes, list[bytes]], font: bytes = HELVETICA, form: bytes = b"") -> bytes:
    """A PDF with one page per content stream, its font ``/F1`` = ``font``.
    A content is the stream's bytes (Flate-compressed here) or ``(encoded
    bytes, filter names)`` already encoded.  ``form``: the content of a form
    XObject ``/Fm1`` every page can draw (``/Fm1 Do``)."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"", font,
            b"<< /Type /XObject /Subtype /Form /BBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> "
            b"/Length %d /Filter /FlateDecode >>\nstream\n" % len(zlib.compress(form)) + zlib.compress(form)
            + b"\nendstream"]
    kids = []
    for content in contents:
        data, filters = (zlib.compress(content), [b"FlateDecode"]) if isinstance(content, bytes) else content
        n = len(objs) + 1
        kids.append(b"%d 0 R" % n)
        objs.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> "
                    b"/XObject << /Fm1 4 0 R >> >> /Contents %d 0 R >>" % (n + 1))
        objs.append(_stream(data, filters))
    objs[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(kids))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def text_content(*runs: tuple[str, tuple[float, ...]], size: float = 12) -> bytes:
    """A content stream showing each ``(ASCII text, text matrix a b c d e f)``."""
    ops = [b"BT /F1 %g Tf" % size]
    for text, m in runs:
        ops.append(b"%s Tm (%s) Tj" % (b" ".join(b"%g" % v for v in m), text.encode("ascii")))
    ops.append(b"ET")
    return b"\n".join(ops)


def zeros_deflated(n_mib: int) -> bytes:
    """A zlib stream inflating to ``n_mib`` MiB of zero bytes, made in
    milliseconds: one fully flushed deflated MiB repeated."""
    mib = 1 << 20
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = co.compress(bytes(mib)) + co.flush(zlib.Z_FULL_FLUSH)
    tail = co.flush()
    total = n_mib * mib
    adler = (((total % 65521) << 16) | 1).to_bytes(4, "big")
    return b"\x78\xda" + block * n_mib + tail + adler


#: A page reading ``Total 41``, to show that the other pages of a hostile PDF are read.
GOOD_PAGE = text_content(("Total 41", (1, 0, 0, 1, 72, 700)))
