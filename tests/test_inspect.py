"""`gipextract inspect` shows reconstruct's own row matches (template-spec §7.3, §7.4)."""

from pathlib import Path

from gipextract.inspect import inspect_report
from gipextract.locate import locate
from gipextract.pipeline import read_document_from
from gipextract.reconstruct import rebuild, reconstruct

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _doc(name: str):
    return read_document_from(FIXTURES / name)


def test_inspect_shows_the_t4_row_of_numbers_it_read():
    out = inspect_report(_doc("v2021_city.txt"))
    assert "t4: 0 of 3 rows matched" not in out
    assert "reconstruct t4 as V2021: 3 of 3 rows matched (3 from the unlabelled row of numbers)" in out
    lines = out.splitlines()
    at = lines.index("reconstruct t4 as V2021: 3 of 3 rows matched (3 from the unlabelled row of numbers)")
    t4 = [" ".join(line.split()) for line in lines[at + 1:at + 4]]
    assert t4 == ["行政复议 ← (row of numbers) 2 1 0 1 4",
                  "未经复议直接起诉 ← (row of numbers) 1 0 0 0 1",
                  "复议后起诉 ← (row of numbers) 0 1 0 0 1"]
    assert "reconstruct t3 as V2021: 25 of 25 rows matched by label" in out


def test_rebuild_returns_what_reconstruct_read():
    loc = locate(_doc("v2021_city.txt"))
    rec = rebuild(loc)
    assert rec.report.cells == reconstruct(loc).cells
    assert {t: tr.matched for t, tr in rec.tables.items()} == {"t2": 6, "t3": 25, "t4": 3}
    assert [m.how for m in rec.tables["t4"].rows] == ["joined"] * 3
    t4_cells = [k for k in rec.report.cells if k.startswith("t4.")]
    assert len(t4_cells) == 15 and all(rec.report.cells[k].value is not None for k in t4_cells)
    assert rec.prior == "V2021" and rec.detected == {"t2": "V2021", "t3": "V2021"}


def test_inspect_marks_the_runs_it_split():
    out = inspect_report(_doc("v2021_city_flat.txt"))
    assert "(split)" in out and "unflatten:" in out
