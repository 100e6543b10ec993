"""The batch output as a research dataset: honest statuses, reports.csv,
keys.csv, gipextract.db (opened through Datasette), organs across years.

The synthetic folder holds every kind of input a researcher's archive has;
the corpus test runs the same over real reports and their truth files.
"""

from __future__ import annotations

import asyncio
import csv
import json
import math
import re
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from gipextract.batch import run_batch
from gipextract.cli import main
from gipextract.crossreport import organ_names, pair_years
from gipextract.export.dataset import ALL_KEYS, KEY_COLUMNS, REPORT_COLUMNS, keys_info
from gipextract.locate import agency_from_title
from gipextract.status import UNREAD_FLAGS, report_status
from gipextract.templates import TABLES, VERSIONS, get_template

from .batch_helpers import read_csv, synth, write
from .conftest import FIXTURES, truth
from .pdfmaker import scanned_pdf

_NUMBER_LINE = re.compile(r"(?m)^\t[+-]?\d+(?:\.\d+)?(?:元)?$")


def _pre2019_text() -> str:
    return ("示例县人民政府2017年政府信息公开工作年度报告\n\n一、概述\n2017年，示例县人民政府认真做好政府信息公开工作。\n\n"
            "二、主动公开政府信息情况\n全年主动公开政府信息120条。\n\n三、依申请公开政府信息情况\n全年受理申请3件。\n")


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """Every kind of input: good reports of both formats, an unfilled
    template, a pre-2019 report, a news page, a scan, a corrupt PDF, a
    flattened dump with glued digits, one organ's two years under two
    spellings, and a README that --exclude keeps out."""
    s = synth()
    root = tmp_path_factory.mktemp("dataset") / "archive"
    write(root / "a_v2021.txt", s.variant("v2021_city", agency="示例市生态环境局", year=2024))
    write(root / "b_v2019.html", s.to_html(s.variant("v2019_county", agency="示例县交通运输局", year=2019)))
    blank = _NUMBER_LINE.sub("\t", s.variant("v2021_city", agency="示例市水务局", year=2024))
    write(root / "c_blank_template.txt", blank)
    write(root / "d_pre2019.txt", _pre2019_text())
    write(root / "e_news.txt", (FIXTURES / "not_a_report.txt").read_bytes())
    write(root / "f_scan.pdf", scanned_pdf())
    write(root / "g_corrupt.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\ngarbage without xref\n")
    write(root / "h_flat.txt", (FIXTURES / "v2021_city_flat.txt").read_bytes())
    # one organ, two years, two spellings; the later year scaled so that 上年结转 ≠ last year's 结转下年度
    write(root / "organ" / "2023.txt", s.variant("v2021_city", agency="示例区人民政府", year=2023))
    write(root / "organ" / "2024.txt", s.variant("v2021_city", agency="样本市示例区人民政府", year=2024, scale=2))
    write(root / "README.md", "# 说明\n这个文件夹收集年度报告。\n")
    return root


@pytest.fixture(scope="module")
def out(folder, tmp_path_factory) -> Path:
    from gipextract.readers import ocr

    outdir = tmp_path_factory.mktemp("dataset_out") / "out"
    with pytest.MonkeyPatch.context() as mp:  # as on a machine without the ocr extra: the scan is needs_ocr
        mp.setattr(ocr, "available", lambda: False)
        summary = run_batch([str(folder)], outdir, jobs=1, exclude=["README*"])
    assert summary.total == 10
    return outdir


def _by_name(rows: list[dict], column: str = "path") -> dict[str, dict]:
    return {Path(r[column]).name if "organ" not in r[column] else "/".join(Path(r[column]).parts[-2:]): r
            for r in rows}


def test_every_status_is_as_defined(out):
    rows = _by_name(read_csv(out / "manifest.csv"))
    got = {name: (r["status"], r["identities"], r["n_unread"]) for name, r in rows.items()}
    assert got == {
        "a_v2021.txt": ("ok", "hold", "0"),
        "b_v2019.html": ("ok", "hold", "0"),
        "c_blank_template.txt": ("empty", "not_checked", "0"),
        "d_pre2019.txt": ("pre2019", "not_checked", "0"),
        "e_news.txt": ("not_a_report", "not_checked", "0"),
        # a blank scan: OCR, when installed, reads it and finds no table
        "f_scan.pdf": ("needs_ocr", "not_checked", "0"),
        "g_corrupt.pdf": ("failed", "not_checked", "0"),
        "h_flat.txt": ("partial", "not_checked", "10"),
        "organ/2023.txt": ("ok", "hold", "0"),
        "organ/2024.txt": ("ok", "hold", "0"),
    }
    assert len(got) == 10 and "README.md" not in got
    assert rows["g_corrupt.pdf"]["error"] and "\n" not in rows["g_corrupt.pdf"]["error"]
    assert all(not r["error"] for name, r in rows.items() if name != "g_corrupt.pdf")


def test_reports_csv_has_one_right_row_per_report_read(out):
    s = synth()
    reports = _by_name(read_csv(out / "reports.csv"), "source")
    assert sorted(reports) == ["a_v2021.txt", "b_v2019.html", "h_flat.txt", "organ/2023.txt", "organ/2024.txt"]
    with open(out / "reports.csv", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert tuple(header) == REPORT_COLUMNS
    for name, (base, scale) in {"a_v2021.txt": ("v2021_city", 1), "b_v2019.html": ("v2019_county", 1),
                                "organ/2023.txt": ("v2021_city", 1), "organ/2024.txt": ("v2021_city", 2)}.items():
        row = reports[name]
        expected = s.expected_cells(base, scale)
        for key in ALL_KEYS:
            want = expected.get(key)
            if want is None:
                assert row[key] == "", (name, key)
            else:
                assert math.isclose(float(row[key]), float(want)), (name, key, row[key], want)
    assert reports["organ/2024.txt"]["organ"] == reports["organ/2023.txt"]["organ"] == "样本市示例区人民政府"
    assert reports["a_v2021.txt"]["year"] == "2024" and reports["b_v2019.html"]["template"] == "V2019"
    flat = reports["h_flat.txt"]
    assert (flat["status"], flat["n_unread"]) == ("partial", "10")
    # an unread cell is empty in reports.csv: its flag is in cells.csv
    cells = [c for c in read_csv(out / "cells.csv") if c["source"].endswith("h_flat.txt") and c["flag"] in UNREAD_FLAGS]
    assert len(cells) == 10 and all(flat[c["key"]] == "" for c in cells)


def test_reports_parquet_is_typed(out):
    import pyarrow.parquet as pq

    table = pq.read_table(out / "reports.parquet")
    assert table.column_names == list(REPORT_COLUMNS) and table.num_rows == 5
    assert str(table.schema.field("year").type) == "int32"
    assert str(table.schema.field("t3.granted.total").type) == "int64"
    assert str(table.schema.field("t2.art20_8.administrative_fees.fee_amount_wan_yuan").type) == "double"
    rows = {Path(r["source"]).name: r for r in table.to_pylist()}
    assert rows["a_v2021.txt"]["t3.new_received.total"] == synth().expected_cells("v2021_city")["t3.new_received.total"]


def test_keys_csv_is_the_data_dictionary_of_both_formats(out):
    keys = read_csv(out / "keys.csv")
    assert tuple(keys[0]) == KEY_COLUMNS
    every = {k for v in VERSIONS for t in TABLES for k in get_template(v).tables[t].cell_keys()}
    assert [k["key"] for k in keys] == list(ALL_KEYS) and set(ALL_KEYS) == every and len(every) == 226
    by_key = {k["key"]: k for k in keys}
    assert {c["key"] for c in read_csv(out / "cells.csv")} <= set(by_key)
    fee = by_key["t2.art20_8.administrative_fees.fee_amount_wan_yuan"]
    assert (fee["unit"], fee["kind"], fee["versions"], fee["table"]) == ("万元", "money", "V2021", "t2")
    granted = by_key["t3.granted.natural_person"]
    assert granted["versions"] == "V2019 V2021" and granted["col_label"].endswith("自然人")
    assert granted["row_label"] == "三、本年度办理结果 / （一）予以公开"


def test_organs_are_paired_across_years_with_their_cross_year_findings(out):
    rows = _by_name(read_csv(out / "manifest.csv"))
    early, late = rows["organ/2023.txt"], rows["organ/2024.txt"]
    assert early["agency"] == "示例区人民政府" and late["agency"] == "样本市示例区人民政府"
    assert early["organ"] == late["organ"] == "样本市示例区人民政府"
    assert late["previous"] == early["path"] and early["previous"] == ""
    t3y = [f for f in read_csv(out / "findings.csv") if f["rule"] == "T3-Y"]
    assert t3y and {f["source"] for f in t3y} == {late["path"]}
    s = synth()
    before = s.expected_cells("v2021_city", 1)["t3.carried_forward_next.total"]
    now = s.expected_cells("v2021_city", 2)["t3.carried_over_prev.total"]
    total = next(f for f in t3y if f["cells"] == "t3.carried_over_prev.total")
    assert (float(total["expected"]), float(total["actual"])) == (before, now)


def test_the_database_opens_in_datasette(out):
    from datasette.app import Datasette

    meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert set(meta["databases"]["gipextract"]["tables"]) == {"manifest", "reports", "cells", "findings", "keys"}

    async def ask():
        ds = Datasette(files=[str(out / "gipextract.db")], metadata=meta)
        await ds.invoke_startup()
        reports = await ds.client.get("/gipextract/reports.json?_shape=objects&_sort=source")
        keys = await ds.client.get("/gipextract/keys.json?_shape=objects&key=t3.granted.total")
        return reports, keys

    reports, keys = asyncio.run(ask())
    assert reports.status_code == 200 and keys.status_code == 200
    rows = reports.json()["rows"]
    assert len(rows) == 5 and {Path(r["source"]).name for r in rows} >= {"a_v2021.txt", "2023.txt", "2024.txt"}
    a = next(r for r in rows if r["source"].endswith("a_v2021.txt"))
    assert a["t3.new_received.total"] == synth().expected_cells("v2021_city")["t3.new_received.total"]
    assert keys.json()["rows"][0]["unit"] == "件"


def test_the_database_has_keys_and_foreign_keys(out):
    db = sqlite3.connect(out / "gipextract.db")
    try:
        counts = {t: db.execute(f"select count(*) from {t}").fetchone()[0]
                  for t in ("manifest", "reports", "cells", "findings", "keys")}
        assert counts["manifest"] == 10 and counts["reports"] == 5 and counts["keys"] == 226
        assert counts["cells"] == len(read_csv(out / "cells.csv"))
        assert db.execute("pragma foreign_key_check").fetchall() == []
        fks = {(r[2], r[3], r[4]) for r in db.execute("pragma foreign_key_list(cells)")}
        assert fks == {("manifest", "source", "path"), ("keys", "key", "key")}
        pk = [r[1] for r in sorted(db.execute("pragma table_info(cells)"), key=lambda r: r[5]) if r[5]]
        assert pk == ["source", "key"]
        # numbers are numbers, missing is NULL
        assert db.execute("select typeof(value) from cells where value is not null limit 1").fetchone() == ("real",)
        assert db.execute("select typeof(\"t3.granted.total\") from reports limit 1").fetchone() == ("integer",)
        labelled = db.execute("select row_label, col_label, organ, year from cells_labelled "
                              "where key = 't3.granted.natural_person' and source like '%2024.txt'").fetchone()
        assert labelled == ("三、本年度办理结果 / （一）予以公开", "申请人情况 / 自然人", "样本市示例区人民政府", 2024)
    finally:
        db.close()


def test_excel_writes_a_bom_and_empty_tables_have_a_header(tmp_path):
    write(tmp_path / "in" / "news.txt", (FIXTURES / "not_a_report.txt").read_bytes())
    run_batch([str(tmp_path / "in")], tmp_path / "out", jobs=1, excel=True)
    for name in ("manifest.csv", "cells.csv", "findings.csv", "reports.csv", "keys.csv"):
        data = (tmp_path / "out" / name).read_bytes()
        assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\n") >= 1, name
    assert (tmp_path / "out" / "reports.csv").read_bytes() == ("\ufeff" + ",".join(REPORT_COLUMNS) + "\n").encode()
    pkg = json.loads((tmp_path / "out" / "datapackage.json").read_text(encoding="utf-8"))
    assert {r["encoding"] for r in pkg["resources"]} == {"utf-8-sig"}


def test_organs_file_and_contradicted_names():
    # two longer names end with the same short one: nothing says which it is
    names = ["鼓楼区人民政府", "南京市鼓楼区人民政府", "福州市鼓楼区人民政府", "洪泽区人民政府", "淮安市洪泽区人民政府", "公安局",
             "淮安市公安局"]
    got = organ_names(names)
    assert got["鼓楼区人民政府"] == "鼓楼区人民政府" and got["洪泽区人民政府"] == "淮安市洪泽区人民政府"
    assert got["公安局"] == "公安局"  # no place of its own: never merged
    assert organ_names(names, {"鼓楼区人民政府": "南京市鼓楼区人民政府"})["鼓楼区人民政府"] == "南京市鼓楼区人民政府"
    paired = pair_years([("a", "洪泽区人民政府", 2023, "ok"), ("b", "淮安市 洪泽区人民政府", 2024, "partial"),
                         ("c", None, 2024, "failed")])
    assert paired == {"a": ("淮安市洪泽区人民政府", ""), "b": ("淮安市洪泽区人民政府", "a")}


def test_batch_cli_organs_include_exclude(folder, tmp_path):
    organs = write(tmp_path / "organs.csv", "name,organ\n示例区人民政府,示例区\n样本市示例区人民政府,示例区\n")
    r = CliRunner().invoke(main, ["batch", str(folder / "organ"), str(folder / "README.md"), "-o", str(tmp_path / "o"),
                                  "--organs", str(organs), "--include", "*.txt", "-q", "-j", "1"])
    assert r.exit_code == 0, r.output
    rows = read_csv(tmp_path / "o" / "manifest.csv")
    # a file named on the command line is always kept; --include filters what directories hold
    assert [Path(x["path"]).name for x in rows] == ["README.md", "2023.txt", "2024.txt"]
    assert [x["organ"] for x in rows] == ["", "示例区", "示例区"]
    bad = CliRunner().invoke(main, ["batch", str(folder / "organ"), "-o", str(tmp_path / "p"), "--organs",
                                    str(folder / "README.md")])
    assert bad.exit_code == 2 and "organs file needs a header" in bad.output  # a usage error naming the file
    assert not (tmp_path / "p").exists()


def test_status_of_a_report_and_extract_says_it(tmp_path):
    from gipextract import read_report

    rep = read_report(FIXTURES / "v2021_city_flat.txt")
    assert report_status(rep) == ("partial", "not_checked", 10)
    r = CliRunner().invoke(main, ["extract", str(FIXTURES / "v2021_city_flat.txt"), "-q", "-o", "-",
                                  "--format", "csv"])
    assert r.exit_code == 0 and r.stdout.startswith("key,table") and not (Path.cwd() / "-").exists()
    r = CliRunner().invoke(main, ["extract", str(FIXTURES / "v2021_city_flat.txt"), "-o", str(tmp_path / "x.json")])
    assert "status partial (10 cells not read), identities not_checked" in r.stderr
    r = CliRunner().invoke(main, ["extract", "a.pdf", "b.pdf"])
    assert r.exit_code == 2 and "gipextract batch a.pdf b.pdf -o OUTDIR" in r.output
    r = CliRunner().invoke(main, ["validate", "-q", str(FIXTURES / "v2021_city_broken.txt")])
    assert r.exit_code == 3 and r.stdout == ""
    assert len(repr(rep)) < 300 and "\n" not in repr(rep)


def test_agency_from_a_title_without_gongzuo():
    assert agency_from_title(["示例区人民政府2023年政府信息公开年度报告"]) == "示例区人民政府"
    assert agency_from_title(["2023年示例县人民政府政府信息公开年度报告"]) == "示例县人民政府"
    assert agency_from_title(["示例县人民政府2013年信息公开年度报告"]) == "示例县人民政府"


def test_python_dash_m_gipextract():
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "gipextract", "--version"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.startswith("gipextract")


# -- the real corpus --------------------------------------------------------------------------


def test_corpus_statuses_pairs_and_rows_match_truth(corpus, tmp_path):
    files = [corpus / n for n in ("002_2023_pdf.pdf", "003_2024_pdf.pdf", "015_2018_txt.txt", "028_2024_html.html")]
    blank = corpus / "templates" / "2021_format_blank_template.docx"
    run_batch([str(f) for f in files] + ([str(blank)] if blank.exists() else []), tmp_path / "out", jobs=1)
    rows = {Path(r["path"]).name: r for r in read_csv(tmp_path / "out" / "manifest.csv")}
    assert rows["002_2023_pdf.pdf"]["status"] == "ok" and rows["002_2023_pdf.pdf"]["identities"] == "broken"
    assert (rows["003_2024_pdf.pdf"]["status"], rows["003_2024_pdf.pdf"]["identities"]) == ("ok", "hold")
    assert rows["015_2018_txt.txt"]["status"] == "pre2019"
    assert rows["028_2024_html.html"]["status"] == "ok"
    if blank.exists():
        assert rows[blank.name]["status"] == "empty"
    # 洪泽区人民政府 (2023) and 淮安市洪泽区人民政府 (2024): one organ, paired
    assert rows["002_2023_pdf.pdf"]["organ"] == rows["003_2024_pdf.pdf"]["organ"] == "淮安市洪泽区人民政府"
    assert rows["003_2024_pdf.pdf"]["previous"] == rows["002_2023_pdf.pdf"]["path"]
    reports = {Path(r["source"]).name: r for r in read_csv(tmp_path / "out" / "reports.csv")}
    assert sorted(reports) == ["002_2023_pdf.pdf", "003_2024_pdf.pdf", "028_2024_html.html"]
    for name, row in reports.items():
        t = truth(name)
        assert (row["organ"], int(row["year"])) == (t["agency"], t["year"])  # 002's title says 洪泽区人民政府
        for key in ALL_KEYS:
            want = t["cells"].get(key)
            assert (row[key] == "") if want is None else math.isclose(float(row[key]), float(want)), (name, key)


def test_keys_info_labels_come_from_the_templates():
    info = {k.key: k for k in keys_info()}
    for v in VERSIONS:
        for t in TABLES:
            tt = get_template(v).tables[t]
            for r in tt.rows:
                for c in r.columns:
                    k = info[f"{t}.{r.key}.{c.key}"]
                    assert v in k.versions.split() and k.kind == c.kind and k.unit == (c.unit or "")


def test_exclude_matches_the_path_under_the_directory(folder, tmp_path):
    summary = run_batch([str(folder)], tmp_path / "out", jobs=1, exclude=["organ/*", "README*", "*.pdf"],
                        include=["*.txt", "*.html"])
    names = sorted(Path(r["path"]).name for r in read_csv(tmp_path / "out" / "manifest.csv"))
    assert summary.total == 6 and names == ["a_v2021.txt", "b_v2019.html", "c_blank_template.txt", "d_pre2019.txt",
                                            "e_news.txt", "h_flat.txt"]


def test_an_absent_table_is_a_csv_with_its_header(tmp_path):
    r = CliRunner().invoke(main, ["extract", "-q", str(FIXTURES / "not_a_report.txt"), "-o", str(tmp_path / "o") + "/"])
    assert r.exit_code == 0
    for name in ("t2.csv", "t3.csv", "t4.csv"):
        lines = (tmp_path / "o" / name).read_text(encoding="utf-8").splitlines()
        assert len(lines) == 1 and lines[0].count(",") >= 4, name
    assert (tmp_path / "o" / "t4.csv").read_text(encoding="utf-8").startswith("类别,起诉方式,结果维持")


def test_organs_file_rows_with_more_or_fewer_cells_than_its_header(tmp_path):
    """A row longer than the header keeps its first two cells; a short row is no alias."""
    from gipextract.crossreport import load_organ_aliases

    path = tmp_path / "organs.csv"
    path.write_text("name,organ\n洪泽区人民政府,淮安市洪泽区人民政府,备注,更多\n公安局\n", encoding="utf-8")
    assert load_organ_aliases(str(path)) == {"洪泽区人民政府": "淮安市洪泽区人民政府"}
