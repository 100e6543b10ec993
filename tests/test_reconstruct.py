"""Reconstruct: template-driven cells from located tables (spec §7.3, §7.4, §8)."""

import pytest

import gipextract
from gipextract.document import Cell, TableBlock
from gipextract.reconstruct import Segment, detect_version, segment_rows

from .conftest import FIXTURES, SEED, cell_mismatches, load_expected

T3_HEAD = "三、收到和处理政府信息公开申请情况\n\t（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）\n\t申请人情况\n\n"


def read(text: str) -> gipextract.Report:
    return gipextract.read_report(text.encode("utf-8"))


def row(label: str, values, group: str | None = None) -> str:
    cells = ([group] if group else []) + [label] + [str(v) for v in values]
    return "".join(f"\t{c}\n" for c in cells) + "\n"


@pytest.mark.parametrize("name", sorted(p.stem for p in (FIXTURES / "expected").glob("*.json")
                                         if not p.stem.endswith("_flat")))  # flattened: tests/test_split.py
def test_fixture_reads_to_its_expected_cells(name):
    expected = load_expected(FIXTURES / "expected" / f"{name}.json")
    report = gipextract.read_report(FIXTURES / expected["file"])
    assert cell_mismatches(report, expected) == []
    assert set(report.cells) == set(expected["cells"])
    assert (report.template, report.year, report.agency) == (expected["template"], expected["year"], expected["agency"])


def test_seed_values_named_in_the_issue():
    if not SEED.exists():
        pytest.skip("corpus absent")
    r = gipextract.read_report(SEED)
    v = lambda k: r.cells[k].value  # noqa: E731
    assert [v(f"t2.art20_5.administrative_licensing.{c}") for c in ("items_prev_year", "items_change", "decisions")] \
        == [92, 51, 143]
    penalty = [r.cells[f"t2.art20_6.administrative_penalty.{c}"] for c in ("items_prev_year", "items_change", "decisions")]
    assert [(c.value, c.flag) for c in penalty] == [(None, "dash"), (None, "dash"), (4773, None)]
    fee = r.cells["t2.art20_8.administrative_fees.items_prev_year"]
    assert (fee.value, fee.unit, fee.raw) == (21654145, "元", "21654145元")
    cols = ["natural_person", "commercial_enterprise", "research_institution", "public_welfare_org",
            "legal_service_org", "other_org", "total"]
    assert [v(f"t3.new_received.{c}") for c in cols] == [11, 0, 0, 0, 0, 0, 11]
    for key, n in (("denied_internal_affairs", 1), ("denied_enforcement_file", 2), ("unable_needs_creation", 1),
                   ("other_handling", 5), ("results_total", 11)):
        assert [v(f"t3.{key}.{c}") for c in cols] == [n, 0, 0, 0, 0, 0, n]
    assert [v(k) for k in r.cells if k.startswith("t4.")] == [1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1]
    assert r.cells["t2.art20_1.regulations.made"].flag == "row_missing"
    assert [f.rule for f in r.findings] == ["row_missing"]


def test_version_detection_per_table_gives_mixed():
    t2 = ("二、主动公开政府信息情况\n" + row("第二十条第（一）项", []) + "\t信息内容\n\t本年制发件数\n\t本年废止件数\n\t现行有效件数\n\n"
          + row("规章", [1, 0, 3]))
    t3 = T3_HEAD + row("一、本年新收政府信息公开申请数量", [1, 0, 0, 0, 0, 0, 1]) \
        + row("（六）其他处理", [1, 0, 0, 0, 0, 0, 1]) + row("（七）总计", [1, 0, 0, 0, 0, 0, 1])
    r = read("示例局2023年政府信息公开工作年度报告\n" + t2 + t3)
    assert r.template == "MIXED"
    assert r.table_versions == {"t2": "V2021", "t3": "V2019"}
    assert r.cells["t2.art20_1.regulations.in_force"].value == 3
    assert r.cells["t3.other_handling.total"].value == 1
    assert "t3.other_other.total" not in r.cells


def test_typo_label_is_matched_by_the_fuzzy_rule():
    t3 = T3_HEAD + row("1.属于国家秘密", [0] * 7, "（三）不予公开") + row("2.其他法律行政止公开", [1, 0, 0, 0, 0, 0, 1]) \
        + row("3.危及“三安全一稳定”", [0] * 7)
    r = read("2024年\n" + t3)
    assert r.cells["t3.denied_prohibited_by_law.natural_person"].value == 1


def test_wrong_value_count_leaves_the_row_null_with_a_finding():
    t3 = T3_HEAD + row("一、本年新收政府信息公开申请数量", [3, 0, 0, 0, 0, 3]) + row("（七）总计", [3, 0, 0, 0, 0, 0, 3])
    r = read("2024年\n" + t3)
    cells = [r.cells[f"t3.new_received.{c}"] for c in ("natural_person", "total")]
    assert [(c.value, c.flag) for c in cells] == [(None, "unreadable"), (None, "unreadable")]
    f = next(f for f in r.findings if f.rule == "value_count")
    assert f.expected == 7 and f.actual == 6 and "t3.new_received.total" in f.cells
    assert r.cells["t3.results_total.total"].value == 3


def test_missing_rows_are_null_and_reported_once():
    t3 = T3_HEAD + row("一、本年新收政府信息公开申请数量", [3, 0, 0, 0, 0, 0, 3]) + row("（七）总计", [3, 0, 0, 0, 0, 0, 3])
    r = read("2024年\n" + t3)
    assert r.cells["t3.granted.total"].flag == "row_missing"
    missing = [f for f in r.findings if f.rule == "row_missing"]
    assert len(missing) == 1 and "t3.granted.total" in missing[0].cells and "（一）予以公开" in missing[0].message


def test_extra_row_is_kept_but_not_a_cell():
    t2 = ("二、主动公开政府信息情况\n" + row("第二十条第（一）项", []) + "\t信息内容\n\t本年新制作数量\n\t本年新公开数量\n\t对外公开总数量\n\n"
          + row("规章", [1, 1, 3]) + row("其他主动公开文件", [5, 5, 9]) + row("规范性文件", [2, 2, 8]))
    r = read("2020年\n" + t2)
    assert r.cells["t2.art20_1.normative_documents.total_published"].value == 8
    assert [(e.label, e.raw) for e in r.extra_rows] == [("其他主动公开文件", ["5", "5", "9"])]


def test_unit_from_the_header_actually_printed():
    t2 = ("二、主动公开政府信息情况\n" + row("第二十条第（八）项", []) + "\t信息内容\n\t本年收费金额（单位：元）\n\n"
          + row("行政事业性收费", ["380"]))
    r = read("2024年\n" + t2)
    fee = r.cells["t2.art20_8.administrative_fees.fee_amount_wan_yuan"]
    assert (fee.value, fee.unit) == (380, "元")  # printed value kept, never rescaled


def test_table_four_as_three_rows_of_five():
    t4 = "四、政府信息公开行政复议、行政诉讼情况\n" + row("行政复议", [1, 0, 0, 0, 1]) \
        + row("未经复议直接起诉", [0, 1, 0, 0, 1], "行政诉讼") + row("复议后起诉", [0, 0, 0, 2, 2])
    r = read("2024年\n" + t4)
    assert [r.cells[f"t4.{g}.total"].value for g in ("admin_review", "litigation_direct", "litigation_after_review")] \
        == [1, 1, 2]


def test_no_tables_means_table_absent_findings():
    r = gipextract.read_report(FIXTURES / "not_a_report.txt")
    assert r.cells == {} and r.table_versions == {}
    assert [(f.rule, f.table) for f in r.findings] == [("table_absent", "t2"), ("table_absent", "t3"),
                                                       ("table_absent", "t4")]
    assert all(r.table(t).empty for t in ("t2", "t3", "t4"))


def test_pre2019_report_is_not_reconstructed():
    r = read("某县2016年政府信息公开工作年度报告\n一、概述\n\t主动公开文件数\n\t条\n\t206\n\n")
    assert r.template == "PRE2019" and r.cells == {}


def test_segments_join_cell_per_row_streams():
    rows = [[Cell("（一）予以公开")]] + [[Cell(str(i))] for i in range(7)] + [[Cell("")]]
    segs = segment_rows([TableBlock(rows)])
    assert [(s.labels, [c.text for c in s.values]) for s in segs] == [(["（一）予以公开"], list("0123456"))]


def test_detect_version_needs_markers():
    assert detect_version("t3", [Segment(["（六）其他处理"], [Cell("1")] * 7, None)]) == "V2019"
    assert detect_version("t3", [Segment(["1.申请人无正当理由逾期不补正"], [Cell("1")] * 7, None)]) == "V2021"
    assert detect_version("t3", [Segment(["（一）予以公开"], [Cell("1")] * 7, None)]) is None


def test_table_four_with_blank_cells_is_read_cell_by_cell_not_split():
    header = "四、政府信息公开行政复议、行政诉讼情况\n\t行政复议\n\t行政诉讼\n\n" + "".join(
        f"\t{h}\n" for h in ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计") * 3) + "\n"
    values = ["5", "0", "0", "2", "7", "8", "0", "0", "1", "9"] + [""] * 5
    r = read("2019年\n" + header + "".join(f"\t{v}\n" for v in values) + "\n")
    got = [(c.value, c.flag) for k, c in r.cells.items() if k.startswith("t4.")]
    assert got[:5] == [(5, None), (0, None), (0, None), (2, None), (7, None)]
    assert got[10:] == [(None, "blank")] * 5


def test_empty_cell_in_a_label_column_is_not_a_value():
    """A label cell that does not span the leaf-label column leaves an empty
    cell between label and numbers (a grid from a PDF, DOCX or HTML table);
    it is a label slot, not a blank 自然人 value."""
    values = [Cell(str(v)) for v in range(7)]
    rows = [
        [Cell("三、本年度办理结果", rowspan=3), Cell("（三）不予公开", rowspan=2), Cell("1.属于国家秘密"), *values],
        [Cell("2.其他法律行政法规禁止公开"), *values],
        [Cell("（七）总计"), Cell(""), *values],
        [Cell("四、结转下年度继续办理", colspan=3), Cell(""), *values[1:]],
    ]
    segs = segment_rows([TableBlock(rows)])
    assert [(s.labels[-1], [c.text for c in s.values]) for s in segs] == [
        ("1.属于国家秘密", list("0123456")),
        ("2.其他法律行政法规禁止公开", list("0123456")),
        ("（七）总计", list("0123456")),
        ("四、结转下年度继续办理", ["", *"123456"]),  # a blank in a value column stays a blank value
    ]


def test_reader_notes_become_findings_and_explain_absent_tables():
    from gipextract.document import Document, Paragraph, Source
    from gipextract.locate import locate
    from gipextract.reconstruct import reconstruct

    doc = Document([Paragraph("某市2024年政府信息公开工作年度报告")], Source("<test>", "pdf", ""),
                   notes=["The PDF has no text layer on page 2: OCR is needed."], incomplete=True)
    r = reconstruct(locate(doc))
    assert [f.rule for f in r.findings] == ["reader_note", "table_absent", "table_absent", "table_absent"]
    assert all("OCR is needed" in f.message for f in r.findings)
    # a note about content that was read (a table in a text box) claims nothing about OCR
    doc = Document([Paragraph("某市2024年政府信息公开工作年度报告")], Source("<test>", "docx", ""),
                   notes=["1 table(s) were read from a text box."])
    assert not any("OCR" in f.message for f in reconstruct(locate(doc)).findings)


def test_rows_not_found_in_an_incomplete_document_are_unknown_not_zero():
    """A PDF page the reader could not use (no text layer, damaged) may hold the
    rows that are not found: they are unreadable, so no identity is judged on
    them (no false T3-A/T3-C errors), where a complete report's omitted rows
    count 0."""
    text = (T3_HEAD + row("（一）予以公开", [3, 0, 0, 0, 0, 0, 3]) + row("（七）总计", [3, 0, 0, 0, 0, 0, 3])
            + row("四、结转下年度继续办理", [1, 0, 0, 0, 0, 0, 1]))
    doc = gipextract.read_document_from(("2024年\n" + text).encode("utf-8"))
    from gipextract.locate import locate
    from gipextract.reconstruct import reconstruct
    from gipextract.validate import validate
    complete = validate(reconstruct(locate(doc)))
    assert complete.cells["t3.new_received.total"].flag == "row_missing"
    assert any(f.rule == "T3-A" for f in complete.errors)          # 0 + 0 ≠ 3 + 1, as the report says
    doc.incomplete, doc.notes = True, ["Page 3 could not be parsed (a damaged content stream) and was skipped."]
    partial = validate(reconstruct(locate(doc)))
    assert partial.cells["t3.new_received.total"].flag == "unreadable"
    assert partial.errors == []
    assert any(f.rule == "not_checked" for f in partial.findings)
    assert next(f for f in partial.findings if f.rule == "row_missing").severity == "warning"


def test_table_four_printed_with_an_empty_data_row_is_blank_not_absent():
    from gipextract.document import Document, Paragraph, Source
    from gipextract.locate import locate
    from gipextract.reconstruct import reconstruct
    head = [[Cell("行政复议", colspan=5), Cell("行政诉讼", colspan=10)],
            [Cell(x) for x in ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")]
            + [Cell("未经复议直接起诉", colspan=5), Cell("复议后起诉", colspan=5)],
            [Cell(x) for x in ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计") * 2],
            [Cell("") for _ in range(15)]]
    doc = Document([Paragraph("四、政府信息公开行政复议、行政诉讼情况"), TableBlock(head)], Source("x", "html", ""))
    r = reconstruct(locate(doc))
    assert "t4" in r.table_versions
    assert {(c.value, c.flag) for k, c in r.cells.items() if k.startswith("t4.")} == {(None, "blank")}
    assert not any(f.rule == "table_absent" and f.table == "t4" for f in r.findings)


def test_a_row_printed_out_of_order_is_read_when_its_label_is_exact():
    t2 = ("二、主动公开政府信息情况\n" + row("第二十条第（五）项", []) + "\t信息内容\n\t本年处理决定数量\n\n"
          + row("行政许可", [97]) + row("第二十条第（六）项", []) + row("行政处罚", [0]) + row("行政强制", [0])
          + "\t信息内容\n\t本年制发件数\n\t本年废止件数\n\t现行有效件数\n\n"
          + row("规章", [0, 0, 0]) + row("规范性文件", [13, 0, 55]))
    r = read("2024年\n" + t2)
    assert [r.cells[f"t2.art20_1.normative_documents.{c}"].value for c in ("issued", "repealed", "in_force")] \
        == [13, 0, 55]
    assert r.cells["t2.art20_5.administrative_licensing.decisions"].value == 97
    assert r.extra_rows == []
    missing = next(f for f in r.findings if f.rule == "row_missing")  # only the fee row, which is not printed
    assert {k.rsplit(".", 1)[0] for k in missing.cells} == {"t2.art20_8.administrative_fees"}


@pytest.mark.parametrize("printed", ["约678", "678左右", "678余"])
def test_an_annotated_number_is_an_unreadable_value_not_a_missing_row(printed):
    t2 = ("二、主动公开政府信息情况\n" + row("第二十条第（六）项", []) + "\t信息内容\n\t本年处理决定数量\n\n"
          + row("行政处罚", [printed]) + row("行政强制", [3]))
    r = read("2024年\n" + t2)
    cell = r.cells["t2.art20_6.administrative_penalty.decisions"]
    assert (cell.value, cell.flag, cell.raw) == (None, "unreadable", printed)
    assert any(f.rule == "unreadable" and cell.key in f.cells for f in r.findings)
    assert r.cells["t2.art20_6.administrative_compulsion.decisions"].value == 3


def _as_read_by(text: str, ocr: bool) -> gipextract.Report:
    """``text`` read as a text report, its table cells marked as read by OCR when ``ocr``."""
    from gipextract.pipeline import locate_document, read_document_from
    from gipextract.reconstruct import reconstruct

    doc = read_document_from(text.encode("utf-8"), "text")
    if ocr:
        for block in doc.blocks:
            for cells in getattr(block, "rows", []):
                for c in cells:
                    c.confidence = 0.97
    return reconstruct(locate_document(doc))


@pytest.mark.parametrize("ocr", [False, True])
def test_values_read_by_ocr_are_never_split(ocr):
    """One value fewer than the row's cells: in a text dump digits may have
    run together (the splitter cuts ``11`` into 1 | 1 where the identities and
    digit count allow, flag ``split_recovered``); values read by OCR come from
    the cells of a ruled grid, one each, so a lost cell leaves the row null
    and ``unreadable`` — never two numbers the page does not show."""
    t3 = T3_HEAD + row("2.没有现成信息需要另行制作", [0, 0, 0, 0, 0, 11], "（四）无法提供") + row("（七）总计", [0, 0, 0, 0, 0, 1, 1])
    r = _as_read_by("2024年\n" + t3, ocr)
    cells = [r.cells[f"t3.unable_needs_creation.{c}"] for c in ("natural_person", "other_org", "total")]
    if ocr:
        assert [(c.value, c.flag) for c in cells] == [(None, "unreadable")] * 3
        f = next(f for f in r.findings if f.rule == "value_count")
        assert (f.expected, f.actual) == (7, 6)
    else:
        assert [(c.value, c.flag) for c in cells] == [(0, "split_recovered"), (1, "split_recovered"),
                                                     (1, "split_recovered")]


@pytest.mark.parametrize("ocr", [False, True])
def test_table_four_read_by_ocr_with_a_cell_lost_is_not_split(ocr):
    header = "四、政府信息公开行政复议、行政诉讼情况\n\t行政复议\n\t行政诉讼\n\n" + "".join(
        f"\t{h}\n" for h in ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计") * 3) + "\n"
    values = ["5", "0", "0", "2", "7", "8", "0", "0", "1", "9", "3", "0", "0", "0", "3"]
    del values[4]  # 14 values, 15 cells: "7" lost
    values[3] = "27"
    r = _as_read_by("2019年\n" + header + "".join(f"\t{v}\n" for v in values) + "\n", ocr)
    got = [(c.value, c.flag) for k, c in r.cells.items() if k.startswith("t4.")]
    if ocr:
        assert got == [(None, "unreadable")] * 15
        assert any(f.rule == "value_count" and f.table == "t4" for f in r.findings)
    else:  # a run "27" of a text dump may be 2 | 7: the splitter decides
        assert got[3:5] == [(2, "split_recovered"), (7, "split_recovered")]


@pytest.mark.parametrize("before, flag", [("- 4 -\n", "unreadable"), ("", "unreadable"),
                                          ("2024年\n" + T3_HEAD, "row_missing")])
def test_a_text_that_starts_inside_a_table_leaves_the_rows_before_it_unknown(before, flag):
    """A text cut out of a report (it starts with the middle of 表三, at most a
    page number before it) does not show the table's first rows: they are
    unknown (``unreadable``, ``table_cut_off``), not left out by the report
    (``row_missing``) as they are under the table's own heading."""
    body = (row("（一）予以公开", [3, 0, 0, 0, 0, 0, 3]) + row("（二）部分公开", [1, 0, 0, 0, 0, 0, 1])
            + row("（七）总计", [4, 0, 0, 0, 0, 0, 4]) + row("四、结转下年度继续办理", [0] * 7))
    r = read(before + body)
    first = [r.cells[f"t3.{k}.total"] for k in ("new_received", "carried_over_prev")]
    assert [(c.value, c.flag) for c in first] == [(None, flag)] * 2
    assert r.cells["t3.granted.total"].value == 3
    cut = [f for f in r.findings if f.rule == "table_cut_off"]
    if flag == "unreadable":
        assert len(cut) == 1 and "starts inside the table, at row （一）予以公开" in cut[0].message
        assert "t3.new_received.total" in cut[0].cells
    else:
        assert not cut
