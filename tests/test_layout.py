"""The shared §7.5 line rule (gipextract/readers/layout.py) and the text
reader's layout-table step that uses it."""

import pytest

import gipextract
from gipextract.document import Paragraph, Source
from gipextract.readers.layout import (
    FRAGMENT,
    HEADING,
    LABEL,
    ROW,
    TEXT,
    Line,
    find_regions,
    is_page_marker,
    layout_blocks,
    line_kind,
    split_cells,
    with_blanks,
)
from gipextract.readers.text import read_text

from .conftest import FIXTURES, cell_mismatches, load_expected
from .pdfmaker import T2_V2019, T2_V2021, mf, printed


def lines(*texts: str) -> list[Line]:
    return [Line(t, split_cells(t), f"line {i + 1}") for i, t in enumerate(texts)]


def shape(blocks):
    return [b.text if isinstance(b, Paragraph) else [[c.text for c in r] for r in b.rows] for b in blocks]


@pytest.mark.parametrize("text", ["- 4 -", "— 1 —", "－4－", "-12-", "第 4 页", "第4页 共6页", "4/6", "Page 3"])
def test_page_markers(text):
    assert is_page_marker(text)


@pytest.mark.parametrize("text", ["4", "2024", "- 4", "2024 年", "（四）无", "1/2 申请", "第二十条第（四）项"])
def test_not_page_markers(text):
    assert not is_page_marker(text)


@pytest.mark.parametrize("text, kind", [
    ("一、本年新收政府信息公开申请数量 12 0 0 1 0 0 13", ROW),
    ("12 0 0 1 0 0 13", ROW),
    ("行政许可 2345", ROW),
    ("规章 — 0 4", ROW),
    ("本", FRAGMENT),
    ("予公开", FRAGMENT),
    ("（三）不", LABEL),
    ("信息内容 本年收费金额（单位：万元）", LABEL),
    ("三、收到和处理政府信息公开申请情况", HEADING),
    ("全年共收到申请 12 件。", TEXT),
    ("具体情况如下：", TEXT),
    ("本机关认真贯彻落实条例，主动公开政府信息，依法办理申请，各项工作有序推进，公开质量进一步提升", TEXT),
    ("全年共受理申请。合计 12", TEXT),
])
def test_line_kinds(text, kind):
    assert line_kind(lines(text)[0]) == kind


def test_narrative_line_ending_in_a_number_stays_a_paragraph():
    ls = lines("本机关联系地址为示例市示例路", "门牌号 90", "如有疑问请来电。")
    assert find_regions(ls) == []
    assert shape(layout_blocks(ls)) == ["本机关联系地址为示例市示例路", "门牌号 90", "如有疑问请来电。"]


def test_a_lone_row_of_many_values_is_a_table():
    ls = lines("四、政府信息公开行政复议、行政诉讼情况", "行政复议 行政诉讼", "1 0 0 0 1 0 0 0 0 0 0 0 0 0 0", "五、存在的主要问题")
    assert shape(layout_blocks(ls)) == [
        "四、政府信息公开行政复议、行政诉讼情况",
        [["行政复议", "行政诉讼"], ["1", "0", "0", "0", "1", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0"]],
        "五、存在的主要问题",
    ]


def test_layout_table_with_fragments_wraps_and_a_page_break():
    ls = lines(
        "三、收到和处理政府信息公开申请情况",
        "申请人情况",
        "总计商 业 企",
        "业",
        "一、本年新收政府信息公开申请数量 9 1 0 0 0 0 10",
        "三、", "本", "年", "度",
        "（一）予以公开 5 1 0 0 0 0 6",
        "（二）部分公开（区分处理的，只计这一情",
        "形，不计其他情形） 1 0 0 0 0 0 1",
        "- 2 -",
        "（三）不",
        "予公开",
        "1.属于国家秘密 0 0 0 0 0 0 0",
    )
    blocks = layout_blocks(ls)
    assert shape(blocks) == [
        "三、收到和处理政府信息公开申请情况",
        [["申请人情况"], ["总计商", "业", "企业"],
         ["一、本年新收政府信息公开申请数量", "9", "1", "0", "0", "0", "0", "10"],
         ["三、本年度"],
         ["（一）予以公开", "5", "1", "0", "0", "0", "0", "6"],
         ["（二）部分公开（区分处理的，只计这一情"],
         ["形，不计其他情形）", "1", "0", "0", "0", "0", "0", "1"],
         ["（三）不予公开"],
         ["1.属于国家秘密", "0", "0", "0", "0", "0", "0", "0"]],
    ]
    assert blocks[1].rows[2][1].where == "line 5"


def test_numbered_label_whose_numbers_wrapped_is_not_a_heading():
    ls = lines("一、本年新收政府信息公开申请数量 9 1 0 0 0 0 10", "二、上年结转政府信息公开申请数量",
               "1 0 0 0 0 0 1", "（一）予以公开 5 1 0 0 0 0 6")
    assert [len(b.rows) for b in layout_blocks(ls)] == [4]


def test_custom_paragraphs_for_lines_outside_tables():
    ls = lines("第一行", "第二行")
    out = layout_blocks(ls, paragraphs=lambda run: [Paragraph("".join(line.text for line in run))])
    assert shape(out) == ["第一行第二行"]


def geo(text: str, spans: list[tuple[float, float]]) -> Line:
    cells = split_cells(text)
    return Line(text, cells, None, False, spans[0][0], spans[-1][1], spans)


def test_blank_cell_placed_by_geometry():
    cols = [(100, 110), (140, 150), (180, 190)]
    above = geo("甲 1 2 3", [(10, 40), *cols])
    below = geo("丙 7 8 9", [(10, 40), *cols])
    row = geo("乙 4 6", [(10, 40), (101, 109), (181, 189)])
    assert with_blanks(row, above, below) == ["4", "", "6"]
    block = layout_blocks([above, row, below])[0]
    assert [c.text for c in block.rows[1]] == ["乙", "4", "", "6"]


def test_blank_cell_is_not_guessed_without_agreeing_neighbours():
    cols = [(100, 110), (140, 150), (180, 190)]
    above = geo("甲 1 2 3", [(10, 40), *cols])
    other = geo("丙 7", [(10, 40), (140, 150)])
    row = geo("乙 4 6", [(10, 40), (101, 109), (181, 189)])
    assert with_blanks(row, above, other) is None
    straddling = geo("乙 4 6", [(10, 40), (101, 145), (181, 189)])
    assert with_blanks(straddling, above, geo("丙 7 8 9", [(10, 40), *cols])) is None
    assert with_blanks(lines("乙 4 6")[0], lines("甲 1 2 3")[0], lines("丙 7 8 9")[0]) is None  # no geometry


def read(text: str):
    return read_text(text.encode("utf-8"), Source("<test>", "text", ""))


def test_text_reader_turns_layout_rows_into_tables_and_keeps_tab_tables():
    d = read("二、主动公开政府信息情况\n信息内容 本年处理决定数量\n行政处罚 12\n行政强制 3\n- 4 -\n"
             "\t规章\n\t1\n\n正文。\n")
    assert shape(d.blocks) == ["二、主动公开政府信息情况",
                        [["信息内容", "本年处理决定数量"], ["行政处罚", "12"], ["行政强制", "3"]],
                        [["规章", "1"]], "正文。"]


def layout_text(expected: dict) -> str:
    """A synthetic report printed the way a PDF-to-text dump prints it
    (spec §7.5): rows on one line, the block label one character per line,
    group labels wrapped, page markers inside the tables."""
    out = [f"{expected['agency']}{expected['year']}年政府信息公开工作年度报告", "一、总体情况",
           "本机关认真贯彻落实《中华人民共和国政府信息公开条例》，各项工作有序推进。", "二、主动公开政府信息情况"]

    def vals(prefix: str, cols) -> str:
        return " ".join(printed(expected, f"{prefix}.{c}") for c in cols)

    v2019 = "t2.art20_9.centralized_procurement.procurement_amount" in expected["cells"]
    for bkey, blabel, headers, brows, cols in (T2_V2019 if v2019 else T2_V2021):
        out += [blabel, "信息内容 " + " ".join(headers)]
        out += [f"{rlabel} {vals(f't2.{bkey}.{rkey}', cols)}" for rkey, rlabel in brows]
    out += ["- 3 -", "三、收到和处理政府信息公开申请情况", mf.NOTE, "申请人情况", "自然人", "法人或其他组织",
            "总计商 业 企", "业", "科研机", "构", "社会公益", "组织", "法律服务", "机构", "其他"]
    other = mf.T3_V2019_OTHER if v2019 else mf.T3_V2021_OTHER
    for key, group, label in mf.T3_COMMON_HEAD + other + mf.T3_TAIL:
        if group and group.startswith("三、"):
            out += ["三、", *"本年度办理结果"]
        elif group:
            out += [group[:4], group[4:]]
        if key == "unable_needs_creation":
            out.append("- 4 -")
        out.append(f"{label} {vals(f't3.{key}', mf.T3_COLS)}")
    out += ["四、政府信息公开行政复议、行政诉讼情况", "行政复议 行政诉讼", "结果 结果 其他 尚未 总计",
            " ".join(printed(expected, f"t4.{g}.{c}") for g in mf.T4_ROWS for c in mf.T4_COLS),
            "五、存在的主要问题及改进情况", "政策解读形式较为单一。", "六、其他需要报告的事项", "无。"]
    return "\n".join(out) + "\n"


def test_layout_text_report_reads_every_cell():
    expected = load_expected(FIXTURES / "expected" / "v2019_county.json")
    report = gipextract.read_report(layout_text(expected).encode("utf-8"), format="text")
    assert cell_mismatches(report, expected) == []
    assert report.template == "V2019"


def test_layout_text_row_with_a_blank_cell_is_null_not_shifted():
    """A text dump keeps no trace of a blank cell: the row has 6 numbers for 7
    columns, so its cells are null with a finding, never shifted."""
    expected = load_expected(FIXTURES / "expected" / "v2021_city.json")
    report = gipextract.read_report(layout_text(expected).encode("utf-8"), format="text")
    wrong = cell_mismatches(report, expected)
    assert wrong and all(w.startswith("t3.unable_unclear.") for w in wrong)
    assert all(report.cells[f"t3.unable_unclear.{c}"].value is None for c in mf.T3_COLS)
    assert any(f.rule == "value_count" and "t3.unable_unclear.total" in f.cells for f in report.findings)
