"""The wide outputs (t2/t3/t4.csv, the XLSX table sheets): an unread cell is never
a blank or a number, and a number printed in another unit shows that unit."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter

import pytest
from openpyxl import load_workbook

import gipextract
from gipextract.export.csv import wide_csv
from gipextract.export.display import PRINTED_NONE
from gipextract.export.xlsx import SHEETS, UNIT_FILL, UNREAD_FILL, to_xlsx
from gipextract.templates import TABLES

from .conftest import CORPUS, FIXTURES, SEED, truth

SAMPLE = FIXTURES / "v2021_city.txt"
_NUMBER_WITH_UNIT = re.compile(r"(-?\d+(?:\.\d+)?)(\D*)")


def _edited(tmp_path, *edits: tuple[str, str]):
    """The sample report with some cells printed differently (each old text occurs once)."""
    text = SAMPLE.read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / "edited.txt"
    path.write_text(text, encoding="utf-8")
    return gipextract.read_report(path)


@pytest.fixture(scope="module")
def odd(tmp_path_factory):
    """Every kind of cell the wide outputs must tell apart: a fee printed in 元 under a 万元 header,
    a count printed with its own unit (件, same) and another one (个), a fraction in a count column
    and a number in words (unreadable), a dash, blanks."""
    return _edited(tmp_path_factory.mktemp("odd"), ("\t1234.56\n", "\t12345600元\n"), ("\t2345\n", "\t2345件\n"),
                   ("\t678\n", "\t678个\n"), ("\t33\n", "\t33.5\n"), ("\t41\n", "\t四十一\n"))


def _reports():
    yield "odd", None
    for path in sorted(FIXTURES.glob("*.txt")):
        yield path.name, path
    if CORPUS.is_dir():
        for path in sorted(CORPUS.iterdir()):
            if path.is_file() and path.suffix in (".txt", ".md", ".html", ".pdf"):
                yield path.name, path


def _column_unit(report, key):
    table, _, rest = key.partition(".")
    row_key, _, col_key = rest.rpartition(".")
    tt = report.template_for(table)
    return next(c.unit for c in tt.row(row_key).columns if c.key == col_key)


def check_wide_csv(report) -> int:
    """Check every field of the wide CSVs of ``report`` against its cell; returns how many were checked."""
    checked = 0
    for table in TABLES:
        tt = report.template_for(table)
        if tt is None:
            assert len(wide_csv(report, table).splitlines()) == 1  # the header row only
            continue
        body = list(csv.reader(io.StringIO(wide_csv(report, table))))[1:]
        nlev = len(tt.row_levels)
        assert len(body) == len(tt.rows)
        for i, row in enumerate(tt.rows):
            for j, column in enumerate(tt.columns):
                field = body[i][nlev + j]
                spec = next((c for c in row.columns if c.path == column.path), None)
                if spec is None:  # 表二: this block has no such column
                    assert field == ""
                    continue
                cell = report.cells[f"{table}.{row.key}.{spec.key}"]
                checked += 1
                if cell.value is None:
                    assert not re.search(r"\d", field), (cell, field)
                    assert field == ("" if cell.flag in PRINTED_NONE else f"[{cell.flag}]"), (cell, field)
                    continue
                m = _NUMBER_WITH_UNIT.fullmatch(field)
                assert m and float(m[1]) == float(cell.value), (cell, field)
                assert m[2] == (cell.unit if cell.unit and cell.unit != spec.unit else ""), (cell, field)
    return checked


def check_xlsx(report) -> None:
    """The table sheets mark exactly the unread cells and the cells in another unit, and no
    text that looks like a number stands in a value position."""
    wb = load_workbook(io.BytesIO(to_xlsx(report)))
    for table, title in SHEETS.items():
        if report.template_for(table) is None:
            continue
        cells = [c for c in report.cells.values() if c.table == table]
        unread = Counter((None, f"{c.flag}: printed as {c.raw!r}" if c.raw else c.flag)
                         for c in cells if c.value is None and c.flag not in PRINTED_NONE)
        other_unit = Counter((f"{c.raw.strip()}", f"unit: printed as {c.raw!r}, in {c.unit}")
                             for c in cells if c.value is not None and c.unit
                             and c.unit != _column_unit(report, c.key))
        marked_unread, marked_unit = Counter(), Counter()
        for row in wb[title].iter_rows():
            for x in row:
                if isinstance(x.value, str) and x.fill.fgColor.rgb != UNIT_FILL.fgColor.rgb:
                    assert not re.fullmatch(r"[\d.,\s+-]+", x.value), (title, x.coordinate, x.value)
                if x.fill.fgColor.rgb == UNREAD_FILL.fgColor.rgb:
                    note = x.comment.text
                    marked_unread[(x.value, note.split(" — ")[0] if ": printed as " in note else note.split(":")[0])] += 1
                elif x.fill.fgColor.rgb == UNIT_FILL.fgColor.rgb:
                    marked_unit[(x.value, x.comment.text.split(";")[0])] += 1
        assert marked_unread == unread, title
        assert marked_unit == other_unit, title


@pytest.mark.parametrize("name, path", list(_reports()), ids=[n for n, _ in _reports()])
def test_every_wide_field_says_what_the_cell_is(name, path, odd):
    report = odd if path is None else gipextract.read_report(path)
    if report.has_tables():
        assert check_wide_csv(report) == len(report.cells)
    check_xlsx(report)


def test_unread_and_other_unit_cells_of_the_sample(odd):
    t2 = list(csv.DictReader(io.StringIO(wide_csv(odd, "t2"))))
    assert t2[5]["本年收费金额（单位：万元）"] == "12345600元"  # printed in 元 under a 万元 header
    assert t2[2]["本年处理决定数量"] == "2345"  # 件 in a 件 column: a plain number
    assert t2[3]["本年处理决定数量"] == "678个"
    assert t2[4]["本年处理决定数量"] == ""  # 行政强制 printed as — : nothing, not unread
    t3 = list(csv.reader(io.StringIO(wide_csv(odd, "t3"))))
    assert t3[1][3:] == ["[unreadable]", "4", "1", "0", "1", "2", "[unreadable]"]  # 33.5 and 四十一
    assert odd.cells["t3.new_received.natural_person"].raw == "33.5"


def test_xlsx_marks_the_sample(odd):
    wb = load_workbook(io.BytesIO(to_xlsx(odd)))
    t3 = wb["表三"]
    assert [c.value for c in t3[4]][3:] == [None, 4, 1, 0, 1, 2, None]
    assert t3["D4"].fill.fgColor.rgb == UNREAD_FILL.fgColor.rgb
    assert t3["D4"].comment.text == "unreadable: printed as '33.5'"
    t2 = wb["表二"]
    fee = next(x for row in t2.iter_rows() for x in row if x.value == "12345600元")
    assert fee.comment.text == "unit: printed as '12345600元', in 元; the column is in 万元"
    assert (t2["A11"].value, t2["B11"].value, t2["B11"].comment) == ("行政强制", "—", None)


def test_the_seed_shows_its_yuan_under_items(corpus):
    report = gipextract.read_report(SEED)
    row = next(r for r in csv.DictReader(io.StringIO(wide_csv(report, "t2"))) if r["信息内容"] == "行政事业性收费")
    assert row["上一年项目数量"] == "21654145元"
    assert report.cells["t2.art20_8.administrative_fees.items_prev_year"].unit == "元"


def test_an_ambiguous_row_is_marked_with_its_candidates(corpus):
    """005 prints 行政处罚 as 26480430 (truth 2648 / 0 / 430): no cell may show that run."""
    path = corpus / "005_2019_txt.txt"
    report = gipextract.read_report(path)
    expected = truth(path.name)["cells"]
    row = next(r for r in csv.DictReader(io.StringIO(wide_csv(report, "t2"))) if r["信息内容"] == "行政处罚")
    assert [row[c] for c in ("上一年项目数量", "本年增/减", "处理决定数量")] == ["[ambiguous]"] * 3
    t2 = load_workbook(io.BytesIO(to_xlsx(report)))["表二"]
    marked = next(r for r in t2.iter_rows() if r[0].value == "行政处罚")
    assert [x.value for x in marked[1:4]] == [None, None, None]
    notes = [x.comment.text for x in marked[1:4]]
    assert all(re.match(r"ambiguous: printed as '26480430' — \d+ cuts fit \(", n) for n in notes), notes
    key = "t2.art20_6.administrative_penalty."
    for note, col in zip(notes, ("items_prev_year", "items_change", "decisions")):
        could = note.split("this cell could be ")[1]
        assert str(expected[key + col]) in re.split(r", | or ", could), note
