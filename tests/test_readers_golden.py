"""The same golden cases through every reader, as lark runs the same cases
through every parser: each fixture, read by the text reader, is rendered as
DOCX (real gridSpan/vMerge merges), as HTML (rowspan/colspan; UTF-8 in a CMS
page, GBK with ``<meta charset="gbk">``), as Word-saved HTML served as
``.doc`` (GB2312 declared by http-equiv) and as a Word "single file web page"
(MHTML) served as ``.doc``; every rendering must read back to the text
reader's report: the same tidy cells, sections, metadata and findings."""

import io
import zipfile

import pandas as pd
import pytest

import gipextract

from . import render
from .conftest import FIXTURES, cell_mismatches, load_expected

CASES = sorted(p.stem for p in (FIXTURES / "expected").glob("*.json"))

#: rendering → (render function, format the content must be detected as, file name suffix)
RENDERINGS = {
    "docx": (render.to_docx, "docx", ".docx"),
    "html_utf8_cms_page": (render.to_html, "html", ".html"),
    "html_gbk": (lambda d: render.to_html(d, encoding="gbk", chrome=False), "html", ".htm"),
    "word_html_as_doc": (render.to_word_html, "html", ".doc"),
    "mhtml_as_doc": (render.to_mhtml, "html", ".doc"),
    "markdown": (render.to_markdown, "markdown", ".md"),
}

_TEXT: dict[str, tuple] = {}


def text_version(name: str):
    """(text report, text Document, expected) of fixture ``name``, read once."""
    if name not in _TEXT:
        expected = load_expected(FIXTURES / "expected" / f"{name}.json")
        path = FIXTURES / expected["file"]
        _TEXT[name] = (gipextract.read_report(path), gipextract.read_document_from(path), expected)
    return _TEXT[name]


def findings(report):
    return [(f.rule, f.severity, f.table, f.cells) for f in report.findings]



def assert_reads_like_text_version(report, base, expected: dict, name: str) -> None:
    """``report`` (read from another rendering of fixture ``name``) is the text
    version ``base``: the same tidy cells, the fixture's expected values, flags,
    units (and raw text, but for a crawler dump's cut cells), metadata, sections
    and findings."""
    pd.testing.assert_frame_equal(report.tidy().drop(columns="source"), base.tidy().drop(columns="source"))
    # a crawler dump's ambiguous cells are null by design (tests/test_split.py); the others must be right
    undecided = {k for k, c in report.cells.items() if c.flag in ("ambiguous", "unreadable") and name.endswith("_flat")}
    known = {part: ({k: v for k, v in expected[part].items() if k not in undecided} if isinstance(expected.get(part), dict)
                    else expected.get(part)) for part in ("cells", "flags", "units")}
    if not name.endswith("_flat"):  # the raw text of a cut cell is the splitter's (tests/test_split.py)
        known["raw"] = expected.get("raw", {})
    assert cell_mismatches(report, known) == []
    assert (report.template, report.year, report.agency, report.table_versions) == \
        (base.template, base.year, base.agency, base.table_versions)
    assert report.sections == base.sections and report.headings == base.headings
    assert findings(report) == findings(base)


@pytest.mark.parametrize("kind", sorted(RENDERINGS))
@pytest.mark.parametrize("name", CASES)
def test_every_reader_gives_the_text_readers_report(name, kind):
    base, doc, expected = text_version(name)
    make, fmt, suffix = RENDERINGS[kind]
    report = gipextract.read_report(make(doc), name=f"{name}{suffix}")
    # without a table, a "Markdown" rendering has no pipe table: it is plain text
    assert report.source.format == (fmt if doc.tables or kind != "markdown" else "text")
    assert_reads_like_text_version(report, base, expected, name)


def _spans(block):
    return [[(c.text, c.rowspan, c.colspan) for c in row] for row in block.rows]


@pytest.mark.parametrize("kind", ["docx", "html_utf8_cms_page", "word_html_as_doc"])
def test_renderings_carry_the_official_merged_grid(kind):
    """Not flat tables: 表三 and 表四 come back with the merges of the official
    template (spec §4.1, §5), so the readers really resolved them."""
    _, doc, _ = text_version("v2021_city")
    data = RENDERINGS[kind][0](doc)
    if kind == "docx":
        xml = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode()
        assert xml.count('w:vMerge w:val="restart"') >= 10 and xml.count("<w:vMerge/>") >= 40
    tables = gipextract.read_document_from(data).tables
    t3 = next(t for t in tables if t.rows[0][-1].text == "申请人情况")
    rows = _spans(t3)
    assert rows[0] == [(render.NOTE, 3, 3), ("申请人情况", 1, 7)]
    assert rows[1] == [("自然人", 2, 1), ("法人或其他组织", 1, 5), ("总计", 2, 1)]
    assert [c[0] for c in rows[2]] == ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]
    assert rows[5][:2] == [("三、本年度办理结果", 22, 1), ("（一）予以公开", 1, 2)]
    assert rows[7][:2] == [("（三）不予公开", 8, 1), ("1.属于国家秘密", 1, 1)]
    assert t3.grid()[8][:3] == [None, None, "2.其他法律行政法规禁止公开"]
    t4 = tables[-1]
    assert _spans(t4)[0] == [("行政复议", 1, 5), ("行政诉讼", 1, 10)]
    assert len(t4.rows[-1]) == 15
