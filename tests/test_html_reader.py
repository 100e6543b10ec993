"""The HTML reader: spans, cell text, the report body of a CMS page, encodings, bad input."""

import codecs

import pytest

import gipextract
from gipextract.document import Paragraph, Source, TableBlock
from gipextract.errors import DecodeError
from gipextract.readers.html import looks_like_html, read_html, sniff_charset

TITLE = "示例市2024年政府信息公开工作年度报告"


def doc(html: str | bytes):
    data = html.encode("utf-8") if isinstance(html, str) else html
    return read_html(data, Source("<test>", "html", ""))


def shape(d):
    return [b.text if isinstance(b, Paragraph) else [[(c.text, c.rowspan, c.colspan) for c in r] for r in b.rows]
            for b in d.blocks]


def cells(html: str) -> list[str]:
    return [c.text for row in doc(f"<table><tr>{html}</tr></table>").tables[0].rows for c in row]


def test_rowspan_and_colspan_are_kept_as_origin_cells():
    d = doc('<table><tr><td rowspan="2" colspan="3">三、本年度办理结果</td><td>1</td></tr><tr><td>2</td></tr></table>')
    assert shape(d) == [[[("三、本年度办理结果", 2, 3), ("1", 1, 1)], [("2", 1, 1)]]]
    assert d.tables[0].rows[1][0].where == "table 1, row 2, cell 1"
    assert d.tables[0].grid() == [["三、本年度办理结果", None, None, "1"], [None, None, None, "2"]]


@pytest.mark.parametrize("td, text", [
    ("<td>本年新<br />制作数量</td>", "本年新制作数量"),
    ("<td><p>社会</p><p>公益 &nbsp; &nbsp; </p>组织</td>", "社会公益组织"),
    ("<td><span>商</span><span style='mso-bidi-font-size:12pt'>业</span>企业<o:p></o:p></td>", "商业企业"),
    ("<td><p class=MsoNormal><span lang=EN-US>0</span><span>&nbsp;&nbsp;&nbsp;</span></p></td>", "0"),
    ("<td><span>&nbsp;</span>0</td>", "0"),
    ("<td>&nbsp;</td>", ""),
    ("<td><p><o:p>&nbsp;</o:p></p></td>", ""),
    ("<td>\u3000\u3000规章\u3000</td>", "规章"),
    ("<td>Word<br>2019</td>", "Word 2019"),
    ("<td>1<span style='display:none'>9</span>2</td>", "12"),
])
def test_cell_text_joins_lines_spans_and_padding(td, text):
    assert cells(td) == [text]


def test_paragraphs_end_at_blocks_and_line_breaks():
    d = doc("<body><p>一、总体情况<br>本机关<b>主动</b>公开。</p><div>二、主动公开<span>政府信息情况</span></div>尾</body>")
    assert shape(d) == ["一、总体情况", "本机关主动公开。", "二、主动公开政府信息情况", "尾"]


def test_scripts_styles_comments_and_hidden_text_are_skipped():
    d = doc("<body><script>var t = '<table><tr><td>9</td></tr></table>';</script><style>p {}</style>"
            "<!-- <p>注释</p> --><p>正文<span style='DISPLAY: none; mso-hide: all'>隐藏</span>。</p>"
            "<![if !supportLists]><p>1、列表</p><![endif]></body>")
    assert shape(d) == ["正文。", "1、列表"]


CMS_PAGE = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{TITLE}_年报_示例市人民政府</title></head>
<body><div class="header"><a href="/">首页</a><a href="/gk">政务公开</a>
<a href="/nb/2023.htm">示例市2023年政府信息公开工作年度报告</a></div>
<ul class="nav"><li><a href="/a">主动公开</a></li><li><a href="/b">依申请公开</a></li></ul>
<div class="main"><div class="article_title">{TITLE}</div>
<div class="TRS_Editor"><p>一、总体情况</p><p>{"本机关认真贯彻《条例》，全年主动公开政府信息。" * 8}</p>
<p>二、主动公开政府信息情况</p><table><tr><td>规章</td><td>1</td></tr></table>
<p>六、其他需要报告的事项</p><p>无。</p></div></div>
<div class="footer"><a href="/map">网站地图</a> <a href="/c">联系我们</a><p>主办：示例市人民政府办公室</p></div>
<table class="calendar"><tr><td>1</td><td>2</td></tr></table>
<script>document.write("x")</script></body></html>"""


def test_report_body_is_found_inside_a_cms_page():
    d = doc(CMS_PAGE)
    paragraphs = [b.text for b in d.blocks if isinstance(b, Paragraph)]
    assert paragraphs[0] == f"{TITLE}_年报_示例市人民政府"  # the page <title> comes first
    assert paragraphs[1:] == ["一、总体情况", "本机关认真贯彻《条例》，全年主动公开政府信息。" * 8,
                              "二、主动公开政府信息情况", "六、其他需要报告的事项", "无。"]
    # tables with numbers are kept wherever they are; locate ignores those without labels
    assert [t.rows[0][0].text for t in d.tables] == ["规章", "1"]
    r = gipextract.read_report(CMS_PAGE.encode(), name="page.html")
    assert (r.agency, r.year) == ("示例市", 2024)  # not the 2023 report linked in the navigation
    assert r.sections["s6"] == "无。"


def test_a_table_holding_tables_is_read_as_layout():
    side = "侧栏文字，与正文一样长。"
    d = doc("<table><tr><td><p>二、主动公开政府信息情况</p><table><tr><td>规章</td><td>0</td></tr></table></td>"
            f"<td>{side}</td></tr></table>")
    assert shape(d) == ["二、主动公开政府信息情况", [[("规章", 1, 1), ("0", 1, 1)]], side]
    # a short sidebar is not part of the report body
    d = doc("<table><tr><td><p>二、主动公开政府信息情况</p><table><tr><td>规章</td><td>0</td></tr></table></td>"
            "<td>侧栏</td></tr></table>")
    assert shape(d) == ["二、主动公开政府信息情况", [[("规章", 1, 1), ("0", 1, 1)]]]


@pytest.mark.parametrize("html", [
    "<table></table>", "<table><tr></tr></table>", "<table><tbody></tbody></table><p>x</p>",
    "<td>孤立单元格</td>", "<table><tr><td>a</td></tr><tr></tr><tr height=0></tr></table>",
])
def test_empty_and_odd_tables_do_not_crash(html):
    d = doc(html)
    assert all(t.rows and t.rows[-1] for t in d.tables)


def test_spans_are_parsed_defensively():
    d = doc('<table><tr><td rowspan="0">A</td><td colspan="2;">B</td><td colspan="x">C</td></tr>'
            '<tr><td rowspan="999">D</td></tr><tr><td colspan="99999">E</td></tr></table>')
    rows = shape(d)[0]
    assert rows[0] == [("A", 3, 1), ("B", 1, 2), ("C", 1, 1)]  # rowspan=0: to the end of the table
    assert rows[1] == [("D", 2, 1)]                              # clamped to the rows there are
    assert rows[2] == [("E", 1, 5)]                              # clamped to the table's size (its 5 cells)
    assert d.notes == ["1 cell span(s) of table 1 reached past the table and were cut to its size."]


PAGE = f"<html><head>{{meta}}</head><body><p>{TITLE}</p><p>一、总体情况（朱镕基、王堃）</p></body></html>"


@pytest.mark.parametrize("meta, encoding, bom", [
    ("", "utf-8", b""),
    ("", "utf-8", codecs.BOM_UTF8),
    ("", "utf-16-le", codecs.BOM_UTF16_LE),
    ('<meta charset="gbk">', "gbk", b""),
    ('<meta http-equiv="Content-Type" content="text/html; charset=gb2312">', "gbk", b""),  # GBK-only 镕 堃
    ('<META HTTP-EQUIV=Content-Type CONTENT="text/html; charset=GB18030">', "gb18030", b""),
    ("", "gbk", b""),                                                                   # undeclared
    ('<meta charset="iso-8859-1">', "gbk", b""),                                       # a wrong default
    ('<meta charset="utf-8">', "gbk", b""),                                            # a wrong declaration
])
def test_encodings(meta, encoding, bom):
    page = PAGE.format(meta=meta)
    d = doc(bom + page.encode(encoding))
    assert [b.text for b in d.blocks] == [TITLE, page.split("<p>")[2].split("</p>")[0]]


def test_big5_page_of_a_mirror_site():
    page = '<html><head><meta charset="big5"></head><body><p>二、主動公開政府資訊情況</p><p>規範性檔案</p></body></html>'
    assert [b.text for b in doc(page.encode("big5")).blocks] == ["二、主動公開政府資訊情況", "規範性檔案"]


def test_sniff_charset_maps_gb2312_to_its_superset():
    assert sniff_charset(b'<meta charset="GB2312">') == "gb18030"
    assert sniff_charset(b'<?xml version="1.0" encoding="gbk"?><html>') == "gb18030"
    assert sniff_charset(b"<html><body>") is None


def test_mhtml_single_file_web_page_is_unwrapped():
    html = PAGE.format(meta='<meta http-equiv=Content-Type content="text/html; charset=gb2312">').encode("gbk")
    import quopri
    mhtml = (b'MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary="----=_NextPart_01"\r\n\r\n'
             b'------=_NextPart_01\r\nContent-Location: file:///C:/x.htm\r\n'
             b'Content-Transfer-Encoding: quoted-printable\r\nContent-Type: text/html; charset="gb2312"\r\n\r\n'
             + quopri.encodestring(html) + b"\r\n------=_NextPart_01--\r\n")
    assert looks_like_html(mhtml)
    assert [b.text for b in doc(mhtml).blocks][0] == TITLE


def test_a_page_without_tables_gives_table_absent_findings():
    r = gipextract.read_report(PAGE.format(meta="").encode(), name="news.html")
    assert [f.rule for f in r.findings] == ["table_absent"] * 3
    assert r.source.format == "html"


def test_an_undecodable_page_is_a_decode_error_naming_the_file():
    data = b"<html><body><p>" + bytes(range(0x80, 0x100)) * 8 + b"</p></body></html>"
    with pytest.raises(DecodeError, match=r"^bad\.html: cannot decode"):
        gipextract.read_report(data, name="bad.html")


def test_the_walk_makes_table_blocks_in_document_order():
    d = doc("<p>前</p><table><caption>表一</caption><tr><th>信息内容</th><td>1</td></tr></table><p>后</p>")
    assert [type(b) for b in d.blocks] == [Paragraph, Paragraph, TableBlock, Paragraph]
    assert d.blocks[1].text == "表一"


# -- the quirks of real pages, as kinds (016, 028, 031 in ../shared/corpus show them) ------------

def _row(*cells) -> str:
    out = []
    for c in cells:
        text, attrs = (c, "") if isinstance(c, str) else (c[0], c[1])
        out.append(f"<td {attrs}><p><span>{text}</span></p></td>")
    return "<tr>" + "".join(out) + "</tr>"


QUIRKS_PAGE = ("<html><head><meta charset='utf-8'><title>示例县2019年政府信息公开工作年度报告</title></head><body>"
               "<p>\u3000\u3000二、主动公开政府信息情况</p><table>"
               + _row(("第二十条第（五）项", "colspan=5"))
               + _row("信息内容", "上一年项目数量", ("本年增/减", "colspan=2"), "处理决定数量")   # header: colspan on col 3
               + _row("行政许可", ("120", "colspan=2"), "+5", "3456")                     # data: colspan on col 2
               + "</table><p>\u3000\u3000三、收到和处理政府信息公开申请情况</p><table>"
               + _row(("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", "colspan=3 rowspan=3"),
                      ("申请人情况", "colspan=7"))
               + _row(("自然人", "rowspan=2"), ("法人或其他组织", "colspan=5"), ("总计", "rowspan=2"))
               + _row("商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他")
               + _row(("一、本年新收政府信息公开申请数量", "colspan=3"), "3&nbsp;&nbsp;", *["&nbsp;0"] * 5, "3")
               + _row(("三、本年度办理结果", "rowspan=2"), ("（一）予以公开", "colspan=2"), "2", *["0"] * 5, "&nbsp;")
               + _row(("（二）部分公开（区分处理的，只计这一情形，不计其他情形）", "colspan=2"), "1", *["0"] * 5, "1")
               # the table breaks across a page in the source document: the block cell is printed again
               + _row(("三、本年度办理结果", "rowspan=2"), ("（四）无法提供", "rowspan=1"), "1.本机关不掌握相关政府信息",
                      "0", *["0"] * 5, "0")
               + _row(("（七）总计", "colspan=2"), "3", *["0"] * 5, "3")
               + "</table></body></html>")


def test_real_page_quirks_as_a_kind():
    """Colspans that disagree between header and data rows (016), blank 总计
    cells (016), values padded with &nbsp; in their own spans (031), a 表三
    whose 三、本年度办理结果 block cell is printed twice (031), headings
    indented with U+3000 (031): values are taken in order, blanks stay blank."""
    r = gipextract.read_report(QUIRKS_PAGE.encode(), name="quirks.html")
    v = {k: (c.value, c.flag) for k, c in r.cells.items()}
    assert [v[f"t2.art20_5.administrative_licensing.{c}"] for c in ("items_prev_year", "items_change", "decisions")] \
        == [(120, None), (5, None), (3456, None)]
    assert v["t3.new_received.natural_person"] == (3, None) and v["t3.new_received.commercial_enterprise"] == (0, None)
    assert v["t3.granted.total"] == (None, "blank")
    assert v["t3.unable_not_held.natural_person"] == (0, None) and v["t3.results_total.total"] == (3, None)
    assert r.headings["s2"] == "二、主动公开政府信息情况"
    assert not [f for f in r.findings if f.rule in ("value_count", "unreadable", "extra_row")]


def test_real_cms_page_body_and_merges(corpus):
    d = gipextract.read_document_from(corpus / "028_2024_html.html")
    paragraphs = [b.text for b in d.blocks if isinstance(b, Paragraph)]
    assert paragraphs[0].startswith("平潭综合实验区2024年度政府信息公开工作年度报告_")  # <title>
    assert paragraphs[2] == "一、总体情况" and paragraphs[-1] == "2024年，无收取信息处理费情况。"
    assert not any("网站标识码" in t or "友情链接" in t for t in paragraphs)  # footer and navigation dropped
    assert [t.n_rows for t in d.tables] == [14, 28, 4]
    assert d.tables[1].rows[2][2].text == "社会公益组织"  # 社会</p><p>公益 &nbsp; …


def test_real_word_html_page_repeats_the_block_cell(corpus):
    d = gipextract.read_document_from(corpus / "031_2019_html.html")
    t3 = d.tables[1]
    blocks = [(c.text, c.rowspan) for row in t3.rows for c in row if c.text == "三、本年度办理结果"]
    assert blocks == [("三、本年度办理结果", 10), ("三、本年度办理结果", 10)]
    r = gipextract.read_report(corpus / "031_2019_html.html")
    assert r.cells["t2.art20_9.centralized_procurement.procurement_amount"].raw == "75394432.52元"


def test_real_page_with_blank_totals_and_misaligned_colspans(corpus):
    d = gipextract.read_document_from(corpus / "016_2019_html.html")
    t2 = d.tables[0]
    header, data = t2.grid()[5], t2.grid()[6]
    assert header == ["信息内容", "上一年项目数量", "本年增/减", None, "处理决定数量"]
    assert data == ["行政许可", "0", None, "0", "0"]  # the colspan sits on another column than the header's
    r = gipextract.read_report(corpus / "016_2019_html.html")
    assert (r.cells["t3.granted.total"].value, r.cells["t3.granted.total"].flag) == (None, "blank")
    assert r.cells["t3.results_total.total"].value == 805
