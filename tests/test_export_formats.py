"""extract --format xlsx / jsonl and the export modules behind them."""

from __future__ import annotations

import io
import json

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

import gipextract
from gipextract.cli import main
from gipextract.export.xlsx import T3_NOTE, spans, to_xlsx
from gipextract.report import TIDY_COLUMNS

from .conftest import FIXTURES

SAMPLE = FIXTURES / "v2021_city.txt"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def merged(ws) -> set[str]:
    return {str(r) for r in ws.merged_cells.ranges}


def test_spans_merge_equal_prefixes_and_extend_down_into_blanks():
    paths = [("申请人情况", "自然人", ""), ("申请人情况", "法人", "商业企业"), ("申请人情况", "法人", "其他"),
             ("申请人情况", "总计", "")]
    assert spans(paths) == [(0, 0, 0, 3, "申请人情况"), (1, 0, 2, 0, "自然人"), (1, 1, 1, 2, "法人"),
                            (1, 3, 2, 3, "总计"), (2, 1, 2, 1, "商业企业"), (2, 2, 2, 2, "其他")]


def test_xlsx_tables_have_the_official_merged_headers():
    wb = load_workbook(io.BytesIO(to_xlsx(gipextract.read_report(SAMPLE))))
    assert wb.sheetnames == ["表二", "表三", "表四", "cells", "findings"]
    t3 = wb["表三"]
    assert t3["A1"].value == T3_NOTE and t3["D1"].value == "申请人情况" and t3["E2"].value == "法人或其他组织"
    assert {"A1:C3", "D1:J1", "D2:D3", "E2:I2", "J2:J3", "A6:A27", "B8:B15", "A4:C4"} <= merged(t3)
    assert [c.value for c in t3[4]] == ["一、本年新收政府信息公开申请数量", None, None, 33, 4, 1, 0, 1, 2, 41]
    t4 = wb["表四"]
    assert {"A1:E1", "F1:O1", "F2:J2", "K2:O2", "A2:A3"} <= merged(t4)
    assert [c.value for c in t4[4]] == [2, 1, 0, 1, 4, 1, 0, 0, 0, 1, 0, 1, 0, 0, 1]
    t2 = wb["表二"]
    assert t2["A1"].value == "第二十条第（一）项" and "A1:D1" in merged(t2)
    assert (t2["A11"].value, t2["B11"].value) == ("行政强制", "—")  # 行政强制: the dash as printed; the cells sheet has value null, flag dash
    cells = wb["cells"]
    assert [c.value for c in cells[1]] == list(TIDY_COLUMNS) and cells.max_row == 201


def test_xlsx_of_a_report_without_tables_says_so():
    wb = load_workbook(io.BytesIO(to_xlsx(gipextract.read_report(FIXTURES / "not_a_report.txt"))))
    assert "not found" in wb["表三"]["A1"].value


def test_extract_xlsx_to_file_and_dir(tmp_path):
    assert run("extract", SAMPLE, "-o", tmp_path / "r.xlsx").exit_code == 0
    assert load_workbook(tmp_path / "r.xlsx")["表三"]["D4"].value == 33
    assert run("extract", SAMPLE, "-o", tmp_path / "d", "--format", "xlsx").exit_code == 0
    assert [p.name for p in (tmp_path / "d").iterdir()] == ["report.xlsx"]
    assert run("extract", SAMPLE, "-o", tmp_path / "r.xlsx", "--format", "json").exit_code == 2


def test_extract_xlsx_refuses_a_terminal(monkeypatch):
    import gipextract.cli as cli
    monkeypatch.setattr(cli, "_stdout_is_terminal", lambda: True)
    r = run("extract", SAMPLE, "--format", "xlsx")
    assert r.exit_code == 2 and "binary" in r.stderr


def test_extract_xlsx_to_a_pipe_writes_the_workbook():
    r = run("extract", SAMPLE, "--format", "xlsx")
    assert r.exit_code == 0 and r.stdout_bytes.startswith(b"PK\x03\x04")


@pytest.mark.parametrize("args", [("--format", "jsonl"), ("-o", "{tmp}/c.jsonl")])
def test_extract_jsonl(tmp_path, args):
    args = [a.format(tmp=tmp_path) for a in args]
    r = run("extract", SAMPLE, *args)
    assert r.exit_code == 0, r.output
    text = r.stdout if "-o" not in args else (tmp_path / "c.jsonl").read_text(encoding="utf-8")
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) == 200 and list(lines[0]) == list(TIDY_COLUMNS)
    by = {x["key"]: x for x in lines}
    assert by["t3.new_received.total"]["value"] == 41 and by["t2.art20_8.administrative_fees.fee_amount_wan_yuan"][
        "value"] == 1234.56
    dash = by["t2.art20_6.administrative_compulsion.decisions"]
    assert (dash["value"], dash["flag"], dash["raw"]) == (None, "dash", "—")
    assert "示例市生态环境局" in text


# -- cells.csv lines made by Arrow ------------------------------------------------

_FIELD_TEXT = st.text(alphabet=st.sampled_from(list('a1 ,"\n\r\t;件元—\x85\u2028\x00')), max_size=6)
_FIELD = st.one_of(st.none(), _FIELD_TEXT)
_VALUE = st.one_of(st.none(), st.integers(-2**62, 2**62), st.integers(2**53 - 3, 2**53 + 3),
                   st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.5, 1e-7, 1e16, -0.0, 2.0**63]))


@settings(max_examples=300, deadline=None)
@given(cells=st.lists(st.tuples(st.tuples(*[_FIELD_TEXT] * 6), _VALUE, _FIELD, _FIELD, _FIELD), min_size=1, max_size=8),
       reports=st.lists(st.tuples(_FIELD_TEXT, _FIELD, st.one_of(st.none(), st.integers(1990, 2030)), _FIELD),
                        min_size=1, max_size=3),
       data=st.data())
def test_arrow_cells_csv_lines_are_what_the_csv_module_writes(cells, reports, data):
    """Each cell's line is :func:`csv.writer`'s (as pandas' ``to_csv`` in
    :func:`tidy_csv`): quoting, doubled quotes, ``None`` empty, a whole number
    without a decimal point, another as Python prints it."""
    import csv

    import pyarrow as pa

    from gipextract.export.csv import TidyCsvFormatter
    from gipextract.export.display import number_text

    heads = list(dict.fromkeys(c[0] for c in cells))
    of_report = [data.draw(st.integers(0, len(reports) - 1)) for _ in cells]
    got = TidyCsvFormatter().arrow_lines(
        heads, pa.array([heads.index(c[0]) for c in cells], pa.int32()),
        pa.array([None if c[1] is None else float(c[1]) for c in cells], pa.float64()),
        *(pa.array([c[j] for c in cells], pa.string()) for j in (2, 3, 4)),
        reports, pa.array(of_report, pa.int32()))
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(
        [*c[0], number_text(None if c[1] is None else float(c[1])), c[2], c[3], c[4], *reports[r]]
        for c, r in zip(cells, of_report))
    assert got.decode("utf-8") == buf.getvalue()
