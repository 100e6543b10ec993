"""Render a text fixture's Document as DOCX and as HTML, with real merged cells.

The golden cases of tests/test_readers_golden.py run every fixture through
every reader (as lark tests every parser with the same cases): the fixture is
read by the text reader, the resulting Document is rendered here, and the
rendering must read back to the same report.

A one-cell-per-line dump lists a table's cells the way Word stores them: one
entry per ``w:tc``, a vertically merged slot as an empty cell (template-spec
§7.4).  :func:`layout` turns such rows back into a grid of merged cells:

* a row's width is the table's widest row;
* an empty cell among a row's labels, under a label that starts in the same
  grid column, continues that label downwards (``vMerge`` / ``rowspan``);
* in a data row the last label absorbs the spare columns when the row has
  the table's full count of values (表三's stub: ``（一）予以公开`` spans 2),
  else the last value does (表二: ``行政许可`` | value spanning 3);
* in a header row the last cell absorbs them, and the few header cells that
  the official template widens over the cells below them (the 勾稽 note,
  ``法人或其他组织``, ``行政复议``, ``未经复议直接起诉``) get their official
  width from :data:`HEADER_SPANS` (template-spec §4.1, §5, written here from
  the spec, not from gipextract's template data).

So 表三 comes out as the official grid: the note 3 × 3, ``申请人情况`` over 7,
``自然人``/``总计`` two rows high, ``三、本年度办理结果`` down the whole stub,
``（三）不予公开`` over its 8 rows.  Header cells that the official template
wraps (``商业``/``企业``) get a line break, and the long 表二 headers are
split into two paragraphs, so the readers' joining of cell lines is exercised.
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass

from gipextract.document import Document, Paragraph, TableBlock
from gipextract.normalize import label_key
from gipextract.values import looks_like_value

NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
HEADER_SPANS = {label_key(NOTE): 3, "法人或其他组织": 5, "行政复议": 5, "未经复议直接起诉": 5}
#: Cells printed on two lines: (first line, second line, as a line break?)
WRAPS = {"商业企业": ("商业", "企业", True), "科研机构": ("科研", "机构", True),
         "本年新制作数量": ("本年新", "制作数量", False), "本年新公开数量": ("本年新", "公开数量", False),
         "本年处理决定数量": ("本年处理", "决定数量", False)}


@dataclass(eq=False)
class Placed:
    """A cell placed on the grid: an origin cell, or (``origin`` set) a slot
    that continues the origin cell above it."""

    text: str
    col: int
    colspan: int = 1
    rowspan: int = 1
    origin: Placed | None = None


def _is_value(text: str) -> bool:
    return bool(text) and looks_like_value(text)


def layout(block: TableBlock) -> tuple[int, list[list[Placed]]]:
    """``(width, rows)`` of ``block`` as a grid of merged cells (module docstring)."""
    rows = block.texts()
    width = max(len(r) for r in rows)

    def n_labels(r: list[str]) -> int:
        return max((i + 1 for i, t in enumerate(r) if t and not _is_value(t)), default=0)

    data = [any(_is_value(t) for t in r[n_labels(r):]) for r in rows]
    vmax = max((len(r) - n_labels(r) for r, d in zip(rows, data) if d), default=0)
    out: list[list[Placed]] = []
    above: dict[int, Placed] = {}
    for r, is_data in zip(rows, data):
        nl = n_labels(r) if is_data else len(r)
        absorb = (nl - 1 if len(r) - nl == vmax else len(r) - 1) if is_data else len(r) - 1
        placed, col, here = [], 0, {}
        for i, text in enumerate(r):
            origin = above.get(col)
            if (not text and i < nl and origin is not None and origin.col == col and origin.text
                    and not _is_value(origin.text)):
                origin.rowspan += 1
                cell = Placed("", col, origin.colspan, origin=origin)
            else:
                span = HEADER_SPANS.get(label_key(text), 1) if not is_data else 1
                if i == absorb:
                    span = width - col - (len(r) - 1 - i)
                cell = Placed(text, col, max(span, 1))
            placed.append(cell)
            for c in range(col, col + cell.colspan):
                here[c] = cell.origin or cell
            col += cell.colspan
        above = here
        out.append(placed)
    return width, out


# -- DOCX -------------------------------------------------------------------

def to_docx(doc: Document) -> bytes:
    """``doc`` as a .docx built by python-docx, tables with real merges
    (``w:gridSpan``, ``w:vMerge`` restart/continue)."""
    import docx

    d = docx.Document()
    for block in doc.blocks:
        if isinstance(block, Paragraph):
            d.add_paragraph(block.text)
            continue
        width, rows = layout(block)
        table = d.add_table(rows=len(rows), cols=width)
        table.style = "Table Grid"
        for r, row in enumerate(rows):
            for p in row:
                if p.origin is not None:
                    continue
                cell = table.cell(r, p.col)
                if p.rowspan > 1 or p.colspan > 1:
                    cell = cell.merge(table.cell(r + p.rowspan - 1, p.col + p.colspan - 1))
                _docx_text(cell, p.text)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _docx_text(cell, text: str) -> None:
    para = cell.paragraphs[0]
    if text in WRAPS:
        first, second, as_break = WRAPS[text]
        para.add_run(first)
        if as_break:
            para.runs[-1].add_break()
            para.add_run(second)
        else:
            cell.add_paragraph(second)
    else:
        para.add_run(text)


# -- HTML -------------------------------------------------------------------

CHROME_TOP = ('<div class="header"><a href="/">首页</a> <a href="/zwgk/">政务公开</a> '
              '<a href="/zwgk/nb/">政府信息公开年报</a> <a href="/zwgk/nb/2023.htm">2023年政府信息公开工作年度报告</a>'
              '</div><ul class="menu"><li><a href="/a">主动公开</a></li><li><a href="/b">依申请公开</a></li>'
              '<li><a href="/c">政府信息公开年报</a></li></ul>')
CHROME_BOTTOM = ('<div class="footer"><ul><li><a href="/x">网站地图</a></li><li><a href="/y">联系我们</a></li>'
                 '<li><a href="http://example.invalid">友情链接：示例省人民政府</a></li></ul>'
                 '<p>主办：示例市人民政府办公室 网站标识码：0000000000</p></div>'
                 '<script>var s = "<table><tr><td>1</td></tr></table>";</script>')


def _h(text: str) -> str:
    return html.escape(text, quote=False)


def to_html(doc: Document, *, encoding: str = "utf-8", meta: str | None = "charset", chrome: bool = True) -> bytes:
    """``doc`` as a plain HTML page (``<td rowspan colspan>``), encoded in
    ``encoding`` and declared by ``<meta charset>`` (``meta="charset"``), by
    ``http-equiv`` (``meta="http-equiv"``) or not at all (``None``); with
    ``chrome``, a CMS page around it (navigation, footer, a script)."""
    title = doc.blocks[0].text if doc.blocks and isinstance(doc.blocks[0], Paragraph) else ""
    head = {"charset": f'<meta charset="{encoding}">',
            "http-equiv": f'<meta http-equiv="Content-Type" content="text/html; charset={encoding}">',
            None: ""}[meta]
    out = [f"<!DOCTYPE html>\n<html><head>{head}<title>{_h(title)}</title>"
           "<style>td { border: 1px solid }</style></head><body>\n"]
    if chrome:
        out.append(CHROME_TOP + '\n<div class="article"><div class="TRS_Editor">\n')
    for block in doc.blocks:
        if isinstance(block, Paragraph):
            out.append(f"<p>{_h(block.text)}</p>\n")
            continue
        _, rows = layout(block)
        out.append('<table border="1" cellspacing="0"><tbody>\n')
        for row in rows:
            out.append("<tr>")
            for p in row:
                if p.origin is not None:
                    continue
                attrs = (f' rowspan="{p.rowspan}"' if p.rowspan > 1 else "") + (
                    f' colspan="{p.colspan}"' if p.colspan > 1 else "")
                out.append(f"<td{attrs}>{_html_cell(p.text)}</td>")
            out.append("</tr>\n")
        out.append("</tbody></table>\n")
    if chrome:
        out.append("</div></div>\n" + CHROME_BOTTOM)
    out.append("</body></html>\n")
    return "".join(out).encode(encoding)


def _html_cell(text: str) -> str:
    if text in WRAPS:
        first, second, as_break = WRAPS[text]
        return f"{_h(first)}<br/>{_h(second)}" if as_break else f"<p>{_h(first)}</p><p>{_h(second)}</p>"
    return _h(text) if text else "&nbsp;"


WORD_HEAD = """<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office"
xmlns:w="urn:schemas-microsoft-com:office:word" xmlns="http://www.w3.org/TR/REC-html40">
<head>
<meta http-equiv=Content-Type content="text/html; charset=gb2312">
<meta name=ProgId content=Word.Document>
<meta name=Generator content="Microsoft Word 15">
<title>{title}</title>
<!--[if gte mso 9]><xml>
 <w:WordDocument><w:View>Print</w:View><w:Zoom>100</w:Zoom></w:WordDocument>
</xml><![endif]-->
<style>
<!--
 p.MsoNormal {{mso-style-parent:""; margin:0cm; text-align:justify; font-size:10.5pt; font-family:等线;}}
-->
</style>
</head>
<body lang=ZH-CN style='tab-interval:21.0pt;text-justify-trim:punctuation'>
<div class=WordSection1 style='layout-grid:15.6pt'>
"""


def _word_runs(text: str) -> str:
    """``text`` split over several ``<span>``\\ s with ``mso-`` styles, as Word writes runs."""
    if not text:
        return "<span lang=EN-US><o:p>&nbsp;</o:p></span>"
    if _is_value(text):
        return (f"<span lang=EN-US style='font-size:12.0pt;mso-bidi-font-family:Calibri'>{_h(text)}</span>"
                "<span lang=EN-US style='mso-spacerun:yes'>&nbsp;&nbsp;</span>")
    chunks = [text[i:i + 3] for i in range(0, len(text), 3)]
    return "".join(f"<span style='font-family:仿宋_GB2312;mso-ascii-font-family:\"Times New Roman\"'>{_h(c)}</span>"
                   for c in chunks) + "<o:p></o:p>"


def to_word_html(doc: Document) -> bytes:
    """``doc`` as Word's "Save as Web Page" (filtered) writes it: GB2312
    declared by ``http-equiv`` (bytes in GBK), ``MsoNormal`` paragraphs,
    runs split over ``<span>``\\ s with ``mso-`` styles, ``<o:p>``, values
    padded with ``&nbsp;`` in their own span, downlevel conditional comments
    and a run hidden by ``display:none``."""
    title = doc.blocks[0].text if doc.blocks and isinstance(doc.blocks[0], Paragraph) else ""
    out = [WORD_HEAD.format(title=_h(title))]
    for block in doc.blocks:
        if isinstance(block, Paragraph):
            out.append(f"<p class=MsoNormal style='text-indent:32.0pt;mso-char-indent-count:2.0'>"
                       f"<![if !supportLists]><![endif]>{_word_runs(block.text)}"
                       f"<span style='display:none;mso-hide:all'>隐藏文字</span></p>\n")
            continue
        _, rows = layout(block)
        out.append("<table class=MsoNormalTable border=1 cellspacing=0 cellpadding=0 "
                   "style='border-collapse:collapse;border:none;mso-border-alt:solid windowtext .5pt'>\n")
        for r, row in enumerate(rows):
            out.append(f"<tr style='mso-yfti-irow:{r}'>")
            for p in row:
                if p.origin is not None:
                    continue
                attrs = (f" rowspan={p.rowspan}" if p.rowspan > 1 else "") + (
                    f" colspan={p.colspan}" if p.colspan > 1 else "")
                if p.text in WRAPS:
                    first, second, _ = WRAPS[p.text]
                    inner = (f"<p class=MsoNormal align=center>{_word_runs(first)}</p>"
                             f"<p class=MsoNormal align=center>{_word_runs(second)}</p>")
                else:
                    inner = f"<p class=MsoNormal align=center style='text-align:center'>{_word_runs(p.text)}</p>"
                out.append(f"<td width=60{attrs} valign=top style='border:solid windowtext 1.0pt;"
                           f"mso-border-alt:solid windowtext .5pt;padding:0cm 5.4pt 0cm 5.4pt'>{inner}</td>")
            out.append("</tr>\n")
        out.append("<![if !supportMisalignedColumns]><tr height=0></tr><![endif]>\n</table>\n")
    out.append("</div>\n</body>\n</html>\n")
    return "".join(out).encode("gbk")


def to_mhtml(doc: Document, image_bytes: int = 16) -> bytes:
    """``doc`` as Word's "Single File Web Page" (MHTML, ``multipart/related``):
    the Word-HTML of :func:`to_word_html` as a quoted-printable ``text/html``
    part declared GB2312, plus an image part of about ``image_bytes``."""
    import email.charset
    import email.encoders
    from email.mime.image import MIMEImage
    from email.mime.multipart import MIMEMultipart
    from email.mime.nonmultipart import MIMENonMultipart

    msg = MIMEMultipart("related", type="text/html")
    part = MIMENonMultipart("text", "html", charset="gb2312")
    part.set_payload(to_word_html(doc))
    email.encoders.encode_quopri(part)
    part["Content-Location"] = "file:///C:/report.htm"
    msg.attach(part)
    img = MIMEImage(b"\x89PNG\r\n\x1a\n" + b"\0" * image_bytes, "png")
    img["Content-Location"] = "file:///C:/report.files/image001.png"
    msg.attach(img)
    return msg.as_bytes()


def to_markdown(doc: Document) -> bytes:
    """The document as a PDF-to-Markdown converter writes it: section headings
    as ``##`` headings, other paragraphs as lines, each table as a pipe table
    whose first row is followed by a ``|---|`` separator; a merged slot is an
    empty field, as in the text layout."""
    out: list[str] = []
    for block in doc.blocks:
        if isinstance(block, Paragraph):
            heading = block.text[:2] in ("一、", "二、", "三、", "四、", "五、", "六、")
            out += [("## " if heading else "") + block.text, ""]
            continue
        for i, row in enumerate(block.rows):
            out.append("| " + " | ".join(c.text for c in row) + " |")
            if i == 0:
                out.append("|" + "---|" * len(row))
        out.append("")
    return "\n".join(out).encode("utf-8")
