"""Locate: sections, tables, title, year and agency."""

import pytest

from gipextract.document import Cell, Document, Paragraph, Source, TableBlock
from gipextract.locate import agency_from_title, locate, report_year
from gipextract.readers.text import read_text

from .conftest import FIXTURES, SEED


def located(text: str):
    return locate(read_text(text.encode("utf-8"), Source("<t>", "text", "")))


def test_seed_sections_and_tables():
    if not SEED.exists():
        pytest.skip("corpus absent")
    loc = located(SEED.read_text(encoding="utf-8"))
    assert list(loc.sections) == ["s1", "s2", "s3", "s4", "s5", "s6"]
    assert loc.sections["s5"].heading == "五、政务公开的成效及下一步工作打算"
    assert loc.sections["s6"].text == "本年度无其他需要报告的事项。"
    assert {t: len(b) for t, b in loc.tables.items()} == {"t2": 1, "t3": 1, "t4": 1}
    assert (loc.year, loc.agency, loc.title) == (2019, None, [])


def test_row_label_without_tab_is_not_a_heading():
    loc = located("一、总体情况\n正文。\n三、收到和处理政府信息公开申请情况\n四、结转下年度继续办理\n"
                  "四、政府信息公开行政复议、行政诉讼情况\n五、存在的主要问题及改进情况\n")
    assert loc.sections["s4"].heading == "四、政府信息公开行政复议、行政诉讼情况"
    assert loc.sections["s3"].paragraphs == ["四、结转下年度继续办理"]


def test_subheadings_of_section_one_are_not_sections():
    loc = located("一、总体情况\n（一）主动公开\n（二）依申请公开\n（五）监督保障\n二、主动公开政府信息情况\n")
    assert list(loc.sections) == ["s1", "s2"]
    assert loc.sections["s1"].paragraphs == ["（一）主动公开", "（二）依申请公开", "（五）监督保障"]


def test_narrative_cell_line_in_section_one_is_not_a_table():
    loc = located("一、总体情况\n\t（一）主动公开。全年主动公开政府信息1580条。\n\n二、主动公开政府信息情况\n")
    assert loc.tables == {"t2": [], "t3": [], "t4": []}


def test_tables_found_by_content_when_headings_are_missing():
    rows = [[Cell("行政复议"), Cell("行政诉讼")], [Cell(x) for x in ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")]]
    doc = Document([Paragraph("某局2024年政府信息公开工作年度报告"), TableBlock(rows)], Source("x", "html", ""))
    loc = locate(doc)
    assert len(loc.tables["t4"]) == 1 and loc.sections == {}


@pytest.mark.parametrize("title, agency, year", [
    (["淮安市人民政府2024年政府信息公开工作年度报告"], "淮安市人民政府", 2024),
    (["2019年上海市人民政府办公厅政府信息公开工作年度报告"], "上海市人民政府办公厅", 2019),
    (["标题: 平潭综合实验区2019年度政府信息公开工作年度报告"], "平潭综合实验区", 2019),
    (["示例县交通运输局2019年政府信息公开工作年度报告", "（2020年1月20日）"], "示例县交通运输局", 2019),
    (["关于印发2024年工作要点的通知"], None, None),
    # a title wrapped over two lines; the sentence after it cites the regulation and is no title
    (["正文", "2025 年上海市人民政府办公厅政府信息公开", "工作年度报告", "本年度报告根据《中华人民共和国政府信息公开条例》编制"],
     "上海市人民政府办公厅", 2025),
    (["# 沐阳县人民政府 2025 年 政府信息公开工作年度报告", "沐阳县人民政府"], "沐阳县人民政府", 2025),
    (["本年度报告根据《中华人民共和国政府信息公开条例》编制"], None, None),
    (["示例区2024年度政府信息公开工作年度报告_政府信息公开年报_示例区政府网"], "示例区", 2024),
    (["示例区2024年度政府信息公开工作年度报告 - 示例区人民政府"], "示例区", 2024),
])
def test_title(title, agency, year):
    assert agency_from_title(title) == agency
    assert report_year(title, "") == year


def test_year_from_text_ignores_dates():
    text = "2020年1月20日发布。2019年，本局共收到申请。2019年全年主动公开。2020年将继续。"
    assert report_year([], text) == 2019


def test_fixture_sections():
    loc = located((FIXTURES / "v2021_city.txt").read_text(encoding="utf-8"))
    assert loc.sections["s4"].heading == "四、因政府信息公开工作被申请行政复议、提起行政诉讼情况"
    assert (loc.agency, loc.year) == ("示例市生态环境局", 2024)
