"""The DOCX reader: merged cells from the cell XML, cell text, odd structures, bad packages."""

import io
import struct
import time
import zipfile

import pytest

import gipextract
from gipextract.document import Paragraph, Source
from gipextract.errors import ReadError, UnsupportedFormatError
from gipextract.readers.docx import MAX_UNCOMPRESSED, read_docx

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = (f'xmlns:w="{W}" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
      'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
      'xmlns:v="urn:schemas-microsoft-com:vml"')
WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships '
        'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        'Target="{target}"/></Relationships>')


def package(body: str = "", *, content_type: str = WORD_MAIN, part: str = "word/document.xml",
            document: str | None = None, members: dict | None = None) -> bytes:
    """A minimal OPC package whose main part holds ``<w:body>{body}</w:body>``."""
    xml = document if document is not None else (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {NS}><w:body>{body}</w:body></w:document>')
    types = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
             'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
             f'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override '
             f'PartName="/{part}" ContentType="{content_type}"/></Types>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", types)
        zf.writestr("_rels/.rels", RELS.format(target=part))
        zf.writestr(part, xml)
        for name, data in (members or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def p(text: str = "", **kw) -> str:
    return f"<w:p><w:r><w:t xml:space=\"preserve\">{text}</w:t></w:r></w:p>" if text else "<w:p/>"


def tc(text: str = "", span: int = 1, vmerge: str | None = None, paras: str | None = None) -> str:
    pr = (f'<w:gridSpan w:val="{span}"/>' if span > 1 else "") + (
        "" if vmerge is None else "<w:vMerge/>" if vmerge == "" else f'<w:vMerge w:val="{vmerge}"/>')
    return f"<w:tc><w:tcPr>{pr}</w:tcPr>{paras if paras is not None else p(text)}</w:tc>"


def tr(*cells: str, before: int = 0) -> str:
    pr = f'<w:trPr><w:gridBefore w:val="{before}"/></w:trPr>' if before else ""
    return f"<w:tr>{pr}{''.join(cells)}</w:tr>"


def tbl(*rows: str) -> str:
    return f"<w:tbl><w:tblPr/><w:tblGrid/>{''.join(rows)}</w:tbl>"


def read(body: str = "", **kw):
    return read_docx(package(body, **kw), Source("<test>", "docx", ""))


def spans(d):
    return [[(c.text, c.rowspan, c.colspan) for c in row] for t in d.tables for row in t.rows]


# -- merged cells -------------------------------------------------------------

def test_gridspan_and_vmerge_become_origin_cells_with_spans():
    """The official 表三 header: the note restarts a 3-wide vertical merge;
    ``<w:vMerge/>`` without a value continues it (ECMA-376 §17.4.85)."""
    d = read(tbl(
        tr(tc("（本列数据的勾稽关系）", 3, "restart"), tc("申请人情况", 7)),
        tr(tc("", 3, ""), tc("自然人", vmerge="restart"), tc("法人或其他组织", 5), tc("总计", vmerge="restart")),
        tr(tc("", 3, "continue"), tc("", vmerge=""), *(tc(t) for t in "ABCDE"), tc("", vmerge="continue")),
        tr(tc("一、本年新收", 3), *(tc(str(i)) for i in range(7)))))
    rows = spans(d)
    assert rows[0] == [("（本列数据的勾稽关系）", 3, 3), ("申请人情况", 1, 7)]
    assert rows[1] == [("自然人", 2, 1), ("法人或其他组织", 1, 5), ("总计", 2, 1)]
    assert [c[0] for c in rows[2]] == list("ABCDE")
    assert d.tables[0].grid()[2] == [None, None, None, None, "A", "B", "C", "D", "E", None]
    assert d.tables[0].rows[3][1].where == "table 1, row 4, cell 2"


def test_vertical_merge_ends_where_the_column_is_not_continued():
    d = read(tbl(tr(tc("三、本年度办理结果", vmerge="restart"), tc("（一）")),
                 tr(tc("", vmerge="continue"), tc("（二）")),
                 tr(tc("四、结转"), tc("9")),
                 tr(tc("", vmerge="continue"), tc("孤立的续格"))))  # a continue with nothing open: its own cell
    assert spans(d) == [[("三、本年度办理结果", 2, 1), ("（一）", 1, 1)], [("（二）", 1, 1)],
                        [("四、结转", 1, 1), ("9", 1, 1)], [("", 1, 1), ("孤立的续格", 1, 1)]]


def test_grid_before_and_legacy_hmerge():
    hmerge = '<w:tc><w:tcPr><w:hMerge w:val="restart"/></w:tcPr>{}</w:tc><w:tc><w:tcPr><w:hMerge/></w:tcPr><w:p/></w:tc>'
    d = read(tbl(tr(tc("规章"), tc("1"), tc("2")), tr(tc("3"), tc("4"), before=1),
                 tr(hmerge.format(p("行政许可")), tc("5"))))
    assert spans(d) == [[("规章", 1, 1), ("1", 1, 1), ("2", 1, 1)],
                        [("", 1, 1), ("3", 1, 1), ("4", 1, 1)],
                        [("行政许可", 1, 2), ("5", 1, 1)]]
    assert d.tables[0].rows[1][0].where == "table 1, row 2 (w:gridBefore)"


def test_cell_paragraphs_and_line_breaks_join():
    wrapped = '<w:p><w:r><w:t>商业</w:t><w:br/><w:t>企业</w:t></w:r></w:p>'
    two = p("本年新") + p("制作数量")
    field = ('<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>PAGE</w:instrText></w:r>'
             '<w:r><w:t>1</w:t></w:r><w:del><w:r><w:delText>9</w:delText></w:r></w:del>'
             '<w:ins><w:r><w:t>2</w:t></w:r></w:ins></w:p>')
    d = read(tbl(tr(tc(paras=wrapped), tc(paras=two), tc(paras=field), tc("\u3000\u3000"), tc(paras="<w:p/>"))))
    assert [c.text for c in d.tables[0].rows[0]] == ["商业企业", "本年新制作数量", "12", "", ""]


def test_body_paragraphs_split_at_line_breaks_and_tabs_are_spaces():
    d = read('<w:p><w:r><w:t>一、总体情况</w:t><w:br/><w:t>本机关</w:t><w:tab/><w:t>全年</w:t></w:r></w:p>'
             + p() + p("二、主动公开政府信息情况"))
    assert [(b.text, b.where) for b in d.blocks] == [("一、总体情况", "paragraph 1"), ("本机关 全年", "paragraph 1"),
                                                     ("二、主动公开政府信息情况", "paragraph 3")]


def test_content_controls_and_custom_xml_are_read_through():
    d = read(f"<w:sdt><w:sdtContent>{p('标题')}{tbl(tr(tc('规章'), tc('1')))}</w:sdtContent></w:sdt>"
             f"<w:customXml>{p('正文')}</w:customXml>"
             + tbl(f"<w:sdt><w:sdtContent>{tr(tc('行政许可'), '<w:sdt><w:sdtContent>' + tc('7') + '</w:sdtContent></w:sdt>')}"
                   "</w:sdtContent></w:sdt>"))
    assert [b.text for b in d.blocks if isinstance(b, Paragraph)] == ["标题", "正文"]
    assert spans(d) == [[("规章", 1, 1), ("1", 1, 1)], [("行政许可", 1, 1), ("7", 1, 1)]]


def test_nested_tables_are_read_as_layout_with_a_note():
    inner = tbl(tr(tc("规章"), tc("3")))
    d = read(tbl(tr(tc(paras=p("二、主动公开政府信息情况") + inner + p()), tc("旁注"))))
    assert [b.text if isinstance(b, Paragraph) else "TABLE" for b in d.blocks] == \
        ["二、主动公开政府信息情况", "TABLE", "旁注"]
    assert spans(d) == [[("规章", 1, 1), ("3", 1, 1)]]
    assert "layout" in d.notes[0]
    report = gipextract.read_report(package(tbl(tr(tc(paras=inner + p())))), name="nested.docx")
    assert any(f.rule == "reader_note" and "layout" in f.message for f in report.findings)


@pytest.mark.parametrize("body", ["<w:tbl/>", "<w:tbl><w:tr/></w:tbl>", tbl(tr()), tbl(tr(tc(paras=""))), ""])
def test_empty_tables_and_bodies_do_not_crash(body):
    d = read(body)
    assert all(any(t.rows) for t in d.tables)


def test_tables_in_text_boxes_are_read_once_with_a_note():
    box = f"<w:txbxContent>{p('三、收到和处理政府信息公开申请情况')}{tbl(tr(tc('（一）予以公开'), tc('5')))}</w:txbxContent>"
    anchored = ('<w:p><w:r><w:t>锚定段落</w:t></w:r><w:r><mc:AlternateContent>'
                f'<mc:Choice Requires="wps"><w:drawing><wps:txbx>{box}</wps:txbx></w:drawing></mc:Choice>'
                f'<mc:Fallback><w:pict><v:textbox>{box}</v:textbox></w:pict></mc:Fallback>'
                '</mc:AlternateContent></w:r></w:p>')
    d = read(anchored)
    assert [b.text if isinstance(b, Paragraph) else "TABLE" for b in d.blocks] == \
        ["锚定段落", "三、收到和处理政府信息公开申请情况", "TABLE"]
    assert spans(d) == [[("（一）予以公开", 1, 1), ("5", 1, 1)]]
    assert d.notes == ["1 table(s) were read from a text box anchored at paragraph 1."]


def test_alternate_content_in_a_cell_is_read_once():
    """A number drawn in a text box inside a cell: Word stores it twice (mc:Choice
    and the mc:Fallback copy); reading both would turn 5 into 55."""
    box = "<w:txbxContent><w:p><w:r><w:t>5</w:t></w:r></w:p></w:txbxContent>"
    run = ('<w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wps:txbx>' + box +
           '</wps:txbx></w:drawing></mc:Choice><mc:Fallback><w:pict><v:textbox>' + box +
           "</v:textbox></w:pict></mc:Fallback></mc:AlternateContent></w:r>")
    d = read(tbl(tr(tc("行政许可"), tc(paras=f"<w:p>{run}</w:p>"))))
    assert spans(d) == [[("行政许可", 1, 1), ("5", 1, 1)]]


def test_absurd_spans_are_clamped():
    d = read(tbl(tr(tc("a", 10**9), tc("b")), tr(tc("c"), before=10**9)))
    # w:gridSpan/w:gridBefore are capped at 1000 while reading, then at the table's size (its 4 cells)
    assert [[c.colspan for c in row] for row in d.tables[0].rows] == [[4, 1], [4, 1]]
    assert d.notes == ["2 cell span(s) of table 1 reached past the table and were cut to its size."]


def test_alt_chunk_is_noted():
    d = read(p("正文") + '<w:altChunk xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
                      'r:id="rId9"/>')
    assert "altChunk" in d.notes[0]


def test_main_part_is_found_through_the_relationships():
    d = read(p("正文"), part="word/document2.xml")
    assert [b.text for b in d.blocks] == ["正文"]


# -- bad packages ---------------------------------------------------------------

def _read_bytes(data: bytes, name: str = "bad.docx"):
    return gipextract.read_report(data, name=name)


def test_truncated_zip_is_a_read_error_naming_the_file():
    data = package(p("正文"))
    with pytest.raises(ReadError, match=r"^bad\.docx: not a readable \.docx: the zip archive is corrupt or truncated"):
        _read_bytes(data[: len(data) // 2])


def test_a_docx_that_is_not_a_zip_when_forced():
    with pytest.raises(ReadError, match="corrupt or truncated"):
        gipextract.read_report(b"just text, named .docx", "docx", name="bad.docx")


@pytest.mark.parametrize("make, message", [
    (lambda: package(content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                     part="xl/workbook.xml", document="<workbook/>"), r"an Excel workbook \(\.xlsx\), not a Word"),
    (lambda: package(content_type="application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
                     part="ppt/presentation.xml", document="<p/>"), r"PowerPoint"),
    (lambda: _zip({"photo.jpg": b"\xff\xd8\xff", "readme.txt": b"hello"}), r"a zip archive, not a Word document"),
])
def test_a_zip_that_is_not_a_word_document_is_named(make, message):
    with pytest.raises(UnsupportedFormatError, match=message):
        _read_bytes(make())


def _zip(members: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_members_declaring_a_huge_size_are_refused_before_inflating():
    data = bytearray(package(p("正文"), members={"word/media/big.bin": b"\0" * 1000}))
    cd = data.rfind(b"PK\x01\x02")  # the last central-directory entry: big.bin
    struct.pack_into("<I", data, cd + 24, MAX_UNCOMPRESSED + 1)
    with pytest.raises(ReadError, match=r"refused: the zip archive would inflate to 200 MiB"):
        _read_bytes(bytes(data))


def test_a_member_lying_about_its_size_is_not_inflated_past_it():
    """A zip bomb whose headers declare 1 000 bytes for 20 MB of spaces: reading
    stops at the declared size (a bad CRC) instead of inflating it all."""
    xml = (f'<w:document {NS}><w:body>' + p("正文")).encode() + b" " * (20 * 2**20) + b"</w:body></w:document>"
    data = bytearray(package(document=xml.decode()))
    start = data.find(b"word/document.xml") - 30  # its local header
    struct.pack_into("<I", data, start + 22, 1000)
    for cd in range(len(data)):
        cd = data.find(b"PK\x01\x02", cd)
        if cd < 0:
            break
        if data[cd + 46: cd + 46 + 17] == b"word/document.xml":
            struct.pack_into("<I", data, cd + 24, 1000)
    with pytest.raises(ReadError, match=r"part 'word/document.xml' is damaged"):
        _read_bytes(bytes(data))


BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY a "aaaaaaaaaa">'
                  + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
                  + f']><w:document {NS}><w:body><w:p><w:r><w:t>&j;</w:t></w:r></w:p></w:body></w:document>')
EXTERNAL = (f'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY x SYSTEM "http://192.0.2.1/x">]>'
            f'<w:document {NS}><w:body><w:p><w:r><w:t>&x;</w:t></w:r></w:p></w:body></w:document>')


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, EXTERNAL], ids=["entity_expansion", "external_entity"])
def test_xml_declaring_entities_is_refused_without_expanding_or_fetching(xml):
    t0 = time.perf_counter()
    with pytest.raises(ReadError, match=r"^bad\.docx: refused: the package XML declares a DTD"):
        _read_bytes(package(document=xml))
    assert time.perf_counter() - t0 < 5  # no expansion, no network wait (a guard, not a timing test)


def test_malformed_xml_and_missing_parts_are_read_errors():
    with pytest.raises(ReadError, match="malformed XML"):
        _read_bytes(package(document="<w:document><w:body>"))
    data = package(p("x"))
    broken = _zip({n: zipfile.ZipFile(io.BytesIO(data)).read(n) for n in ("[Content_Types].xml", "_rels/.rels")})
    with pytest.raises(ReadError, match="has no part 'word/document.xml'"):
        _read_bytes(broken)


# -- the real blank template -------------------------------------------------------

def test_blank_official_template_reads_as_v2021_with_every_cell_blank(corpus):
    """The Word copy of the official V2021 template (WPS-authored merges, 商业/企业
    wrapped with w:br): every table cell it prints is there and blank."""
    path = corpus / "templates" / "2021_format_blank_template.docx"
    doc = gipextract.read_document_from(path)
    t3 = doc.tables[1]
    assert [(c.rowspan, c.colspan) for c in t3.rows[0]] == [(3, 3), (1, 7)]
    assert [c.text for c in t3.rows[2]] == ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]
    assert (t3.rows[5][0].text, t3.rows[5][0].rowspan) == ("三、本年度办理结果", 22)
    r = gipextract.read_report(path)
    assert r.template == "V2021"
    t2_t3 = [c for c in r.cells.values() if c.table in ("t2", "t3")]
    assert len(t2_t3) == 185 and {(c.value, c.flag) for c in t2_t3} == {(None, "blank")}


def test_a_main_document_part_past_the_part_limit_is_refused():
    import io
    import zipfile

    from gipextract.readers.docx import MAX_PART, read_member
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", b" " * (MAX_PART + 1))  # compresses to almost nothing
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z, pytest.raises(ReadError, match="MiB"):
        read_member(z, "word/document.xml", "big.docx")
