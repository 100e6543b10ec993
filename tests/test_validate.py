"""Validate: the identities (勾稽关系) of spec §6 and the findings that name the cells."""

import csv
import io
import json
import random

import pytest
from click.testing import CliRunner

import gipextract
from gipextract.cli import main
from gipextract.document import Source
from gipextract.errors import TemplateError
from gipextract.export.findings import FINDINGS_COLUMNS, findings_csv, findings_text
from gipextract.report import CellValue, Report
from gipextract.status import report_status
from gipextract.templates import TABLES, VERSIONS, _load_toml, _table, get_template, label_aliases
from gipextract.validate import cell_label, check, evaluate, identities, identities_of, rules, validate

from .conftest import FIXTURES, SEED, load_expected, violation_mismatches
from .test_reconstruct import T3_HEAD, row

CITY = FIXTURES / "v2021_city.txt"
COUNTY = FIXTURES / "v2019_county.txt"
COLS = ["natural_person", "commercial_enterprise", "research_institution", "public_welfare_org", "legal_service_org",
        "other_org", "total"]
T4_COLS = ["upheld", "corrected", "other_result", "pending", "total"]


def edited(path, changes: dict[str, str]) -> gipextract.Report:
    """The fixture at ``path`` read with the cells named in ``changes``
    (canonical key → new cell text) printed differently: the cell's line (its
    ``where``) is rewritten, so the layout stays the fixture's own."""
    lines = path.read_text(encoding="utf-8").split("\n")
    cells = gipextract.read_report(path).cells
    for key, text in changes.items():
        lines[int(cells[key].where.split()[1]) - 1] = "\t" + text
    return gipextract.read_report("\n".join(lines).encode("utf-8"), name=f"{path.name} (edited)")


def found(report, severities=("error", "warning")) -> list[tuple[str, list[str]]]:
    return [(f.rule, f.cells) for f in report.findings if f.severity in severities]


def t3_row(key: str) -> list[str]:
    return [f"t3.{key}.{c}" for c in COLS]


def t3_column(col: str, version="V2021") -> list[str]:
    tt = get_template(version).tables["t3"]
    keys = [r.key for r in tt.rows]
    leaves = keys[keys.index("granted"):keys.index("results_total")]
    return [f"t3.{r}.{col}" for r in leaves + ["results_total"]]


def t3a(col: str) -> list[str]:
    return [f"t3.{r}.{col}" for r in ("new_received", "carried_over_prev", "results_total", "carried_forward_next")]


# -- clean reports ------------------------------------------------------------

def test_clean_fixtures_and_the_seed_have_no_error_or_warning():
    assert gipextract.read_report(COUNTY).findings == []
    city = gipextract.read_report(CITY)
    assert found(city) == []
    if SEED.exists():
        seed = gipextract.read_report(SEED)
        assert [f.rule for f in seed.findings] == ["row_missing"]


def test_blank_total_is_info_and_the_cell_stays_null():
    city = gipextract.read_report(CITY)
    [info] = city.findings
    assert (info.rule, info.severity, info.cells) == ("blank_total", "info", ["t3.unable_unclear.total"])
    assert "（四）3.补正后申请内容仍不明确 → 1" in info.message
    cell = city.cells["t3.unable_unclear.total"]
    assert (cell.value, cell.flag, cell.raw) == (None, "blank", "")


# -- a report with three numbers changed ------------------------------

def test_three_numbers_changed_give_exactly_their_findings():
    expected = load_expected(FIXTURES / "expected" / "v2021_city_broken.json")
    report = gipextract.read_report(FIXTURES / expected["file"])
    assert violation_mismatches(report, expected) == []
    assert found(report) == [(v["rule"], v["cells"]) for v in expected["violations"]]
    by_rule = {}
    for f in report.errors:
        by_rule.setdefault(f.rule, []).append(f)
    # each finding names the one cell that was changed, and what balances it
    [t3a_] = by_rule["T3-A"]
    assert (t3a_.expected, t3a_.actual) == (38, 37)
    assert "一、本年新收政府信息公开申请数量/自然人 alone would account for this and T3-B of row 一、本年新收政府信息公开申请数量: " \
           "it reads 34, and 33 would balance both" in t3a_.message
    [t3c] = by_rule["T3-C"]
    assert (t3c.expected, t3c.actual) == (7, 5)
    assert "（一）予以公开/商业企业 alone would account for this and T3-B of row （一）予以公开: it reads 5, and 3" \
           in t3c.message
    [t4a] = by_rule["T4-A"]
    assert (t4a.expected, t4a.actual) == (4, 5)
    assert t4a.message == "表四 row 行政复议: 结果维持 2 + 结果纠正 1 + 其他结果 0 + 尚未审结 1 = 4, but 总计 5 (spec §6 T4-A)."
    assert report.cells["t3.new_received.natural_person"].value == 34  # never "fixed"


def test_cli_validate_exits_3_on_the_broken_report_and_0_on_the_clean_one():
    r = CliRunner().invoke(main, ["validate", str(FIXTURES / "v2021_city_broken.txt")])
    assert r.exit_code == 3
    assert "T3-C" in r.stdout and "column 商业企业" in r.stdout and "5 errors" in r.stdout
    r = CliRunner().invoke(main, ["validate", str(CITY)])
    assert r.exit_code == 0 and "0 errors" in r.stdout and "blank_total" in r.stdout


# -- one rule at a time ---------------------------------------------------------

def test_t3a_leaf_column():
    r = edited(CITY, {"t3.carried_forward_next.natural_person": "3"})
    assert found(r) == [("T3-A", t3a("natural_person")), ("T3-B", t3_row("carried_forward_next"))]
    f = r.errors[0]
    assert f.message.startswith("表三 column 自然人: 一、本年新收政府信息公开申请数量 33 + 二、上年结转政府信息公开申请数量 4 = 37, "
                                "but （七）总计 35 + 四、结转下年度继续办理 3 = 38")


def test_t3b_wrong_total_folds_the_total_column():
    r = edited(CITY, {"t3.granted.total": "28"})
    assert found(r) == [("T3-B", t3_row("granted"))]
    f = r.errors[0]
    assert (f.expected, f.actual) == (27, 28)
    assert "（一）予以公开/总计 alone would account for this and T3-C of column 总计: it reads 28, and 27 would balance " \
           "both" in f.message


def test_t3d_a_wrong_grand_total_is_one_finding():
    r = edited(CITY, {"t3.results_total.total": "40"})
    assert found(r) == [("T3-B", t3_row("results_total"))]
    assert "T3-A of column 总计 and T3-C of column 总计" in r.errors[0].message


def test_t3c_like_006_both_columns_reported():
    """006_2020: the result rows over-count in 自然人 and in 总计 while every
    T3-B holds: two T3-C findings, the 总计 one saying what it follows from."""
    r = edited(CITY, {"t3.other_other.natural_person": "2", "t3.other_other.total": "2"})
    assert found(r) == [("T3-C", t3_column("natural_person")), ("T3-C", t3_column("total"))]
    np_, total = r.errors
    assert (np_.expected, np_.actual, total.expected, total.actual) == (37, 35, 47, 45)
    assert "; it follows from T3-C of column 自然人;" in total.message
    assert "（四）3.补正后申请内容仍不明确 1*" in total.message  # the fixture's blank 总计, counted as its row's sum
    assert total.message.endswith("(spec §6 T3-C; §6.1 T3-D).")


def test_t3c_v2019_single_other_row():
    r = edited(COUNTY, {"t3.other_handling.legal_service_org": "2", "t3.other_handling.total": "2"})
    assert found(r) == [("T3-C", t3_column("legal_service_org", "V2019")), ("T3-C", t3_column("total", "V2019"))]
    assert "t3.other_handling.legal_service_org" in r.errors[0].cells


def test_t3e_negative_count():
    r = edited(CITY, {"t3.granted.research_institution": "-1"})
    negative = [f for f in r.findings if f.rule == "T3-E"]
    assert [(f.severity, f.cells, f.expected, f.actual) for f in negative] == [
        ("error", ["t3.granted.research_institution"], "≥ 0", -1)]
    assert {f.rule for f in r.errors} == {"T3-B", "T3-C", "T3-E"}


def test_t4a_and_t4b():
    r = edited(CITY, {"t4.admin_review.total": "3"})
    assert found(r) == [("T4-A", [f"t4.admin_review.{c}" for c in T4_COLS])]
    r = edited(CITY, {"t4.litigation_after_review.upheld": "-1", "t4.litigation_after_review.total": "0"})
    assert found(r) == [("T4-B", ["t4.litigation_after_review.upheld"])]


def test_t2_plausibility_rules_are_warnings():
    r = edited(CITY, {"t2.art20_1.normative_documents.in_force": "10",
                      "t2.art20_1.regulations.repealed": "-1"})
    assert [(f.rule, f.severity, f.cells) for f in r.findings] == [
        ("T2-P1", "warning", ["t2.art20_1.normative_documents.in_force", "t2.art20_1.normative_documents.issued"]),
        ("T2-P1", "warning", ["t2.art20_1.regulations.repealed"]),
        ("blank_total", "info", ["t3.unable_unclear.total"])]
    assert r.findings[0].message.startswith("表二 row 行政规范性文件: 现行有效件数 10 is less than 本年制发件数 12")
    r = edited(COUNTY, {"t2.art20_1.normative_documents.total_published": "5"})
    assert [(f.rule, f.severity, f.expected, f.actual) for f in r.findings] == [("T2-P2", "warning", 8, 5)]


def test_t2u_amount_that_looks_like_yuan():
    r = edited(CITY, {"t2.art20_8.administrative_fees.fee_amount_wan_yuan": "12345678"})
    [f] = found(r)
    assert f == ("T2-U", ["t2.art20_8.administrative_fees.fee_amount_wan_yuan"])
    assert r.cells["t2.art20_8.administrative_fees.fee_amount_wan_yuan"].value == 12345678
    text = ("二、主动公开政府信息情况\n" + row("第二十条第（八）项", [])
            + "\t信息内容\n\t本年收费金额（单位：元）\n\n" + row("行政事业性收费", ["12345678"]))
    r = gipextract.read_report(("2024年\n" + text).encode())
    assert r.cells["t2.art20_8.administrative_fees.fee_amount_wan_yuan"].unit == "元"
    assert [f for f in r.findings if f.rule in rules()] == []  # printed in 元, as its header says


# -- null rules (spec §7.2) ----------------------------------------------------

def test_blank_totals_like_016_are_one_info_not_errors():
    """016_2019 (上海 2019): 总计 left blank on every result row."""
    county = gipextract.read_report(COUNTY)
    tt = get_template("V2019").tables["t3"]
    keys = [r.key for r in tt.rows]
    leaves = keys[keys.index("granted"):keys.index("results_total")]
    r = edited(COUNTY, {f"t3.{k}.total": "" for k in leaves})
    assert found(r) == []
    [info] = r.findings
    assert info.rule == "blank_total" and info.cells == [f"t3.{k}.total" for k in leaves]
    assert "（一）予以公开 → 9" in info.message
    assert all(r.cells[k].flag == "blank" and r.cells[k].value is None for k in info.cells)
    assert county.cells["t3.granted.total"].value == 9


def test_blank_total_does_not_hide_a_wrong_leaf():
    r = edited(COUNTY, {"t3.granted.total": "", "t3.granted.natural_person": "7"})
    assert [f.rule for f in r.errors] == ["T3-C", "T3-C"]  # 自然人 and, through the imputed 总计, 总计


def test_dash_none_text_and_missing_rows_count_zero():
    r = edited(CITY, {"t3.denied_state_secret.natural_person": "/", "t3.denied_state_secret.total": "无"})
    assert found(r) == []
    t3 = T3_HEAD + row("一、本年新收政府信息公开申请数量", [3, 0, 0, 0, 0, 0, 3]) \
        + row("（一）予以公开", [3, 0, 0, 0, 0, 0, 3], "三、本年度办理结果") + row("（七）总计", [3, 0, 0, 0, 0, 0, 3])
    r = gipextract.read_report(("2024年\n" + t3).encode())
    assert [f.rule for f in r.findings if f.table == "t3"] == ["row_missing"]


def test_unreadable_cell_leaves_its_identities_unchecked():
    r = edited(CITY, {"t3.granted.research_institution": "1x"})
    assert found(r, ("error",)) == []
    [skipped] = [f for f in r.findings if f.rule == "not_checked"]
    assert skipped.cells == ["t3.granted.research_institution"]
    assert "T3-B of row （一）予以公开 and T3-C of column 科研机构 were not checked" in skipped.message


def test_mixed_report_like_002_checks_each_table_with_its_version():
    t2 = ("二、主动公开政府信息情况\n" + row("第二十条第（一）项", []) + "\t信息内容\n\t本年制发件数\n\t本年废止件数\n\t现行有效件数\n\n"
          + row("规章", [1, 0, 3]))
    t3 = T3_HEAD + row("一、本年新收政府信息公开申请数量", [2, 0, 0, 0, 0, 0, 2]) \
        + row("（一）予以公开", [1, 0, 0, 0, 0, 0, 1], "三、本年度办理结果") + row("（六）其他处理", [1, 0, 0, 0, 0, 0, 1]) \
        + row("（七）总计", [2, 0, 0, 0, 0, 0, 2])
    t4 = ("四、政府信息公开行政复议、行政诉讼情况\n\t行政复议\n\t行政诉讼\n\n"
          + "".join(f"\t{v}\n" for v in [10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0]))
    r = gipextract.read_report(("示例区人民政府2023年政府信息公开工作年度报告\n" + t2 + t3 + t4).encode())
    assert r.template == "MIXED" and r.table_versions["t3"] == "V2019"
    assert [(f.rule, f.cells, f.expected, f.actual) for f in r.errors] == [
        ("T4-A", [f"t4.admin_review.{c}" for c in T4_COLS], 11, 0),
        ("T4-A", [f"t4.litigation_after_review.{c}" for c in T4_COLS], 5, 0)]


# -- the library API -------------------------------------------------------------

def test_validate_is_idempotent_and_check_is_pure():
    r = gipextract.read_report(FIXTURES / "v2021_city_broken.txt")
    before = list(r.findings)
    assert validate(r) is r and r.findings == before
    assert check(r) == [f for f in before if f.rule in rules()]
    assert r.findings == before


def test_identities_per_version():
    assert [sum(i.rule == rule for i in identities("V2021", "t3")) for rule in ("T3-A", "T3-B", "T3-C")] == [7, 25, 7]
    assert len(identities("V2019", "t3")) == 7 + 23 + 7
    c19 = next(i for i in identities("V2019", "t3") if i.rule == "T3-C" and i.line == "natural_person")
    c21 = next(i for i in identities("V2021", "t3") if i.rule == "T3-C" and i.line == "natural_person")
    assert "t3.other_handling.natural_person" in c19.left and len(c19.left) == 19
    assert {"t3.other_no_correction.natural_person", "t3.other_fee_unpaid.natural_person",
            "t3.other_other.natural_person"} <= set(c21.left) and len(c21.left) == 21
    assert [i.derived for i in identities("V2021", "t3") if i.line == "total"] == [True, True]
    assert [(i.rule, i.line) for i in identities_of("V2021", "t3", "t3.granted.natural_person")] == [
        ("T3-B", "granted"), ("T3-C", "natural_person")]
    assert cell_label("V2021", "t3.partially_granted.other_org") == ("（二）部分公开", "法人或其他组织/其他")


@pytest.mark.parametrize("version", VERSIONS)
def test_the_total_column_equations_are_derived_as_the_docstring_says(version):
    """r(T3-A, 总计) = Σ r(T3-A, c) − r(T3-B, 一) − r(T3-B, 二) + r(T3-B, （七）) + r(T3-B, 四),
    and T3-C likewise: what makes folding them sound (spec §6.1 T3-D)."""
    rng = random.Random(7)
    values = {k: rng.randrange(50) for k in get_template(version).tables["t3"].cell_keys()}
    r = {(i.rule, i.line): (lambda s: s[0] - s[1])(i.sides(values)) for i in identities(version, "t3")}
    leaf_cols = COLS[:-1]
    tt = get_template(version).tables["t3"]
    keys = [row.key for row in tt.rows]
    leaves = keys[keys.index("granted"):keys.index("results_total")]
    assert r["T3-A", "total"] == sum(r["T3-A", c] for c in leaf_cols) - r["T3-B", "new_received"] \
        - r["T3-B", "carried_over_prev"] + r["T3-B", "results_total"] + r["T3-B", "carried_forward_next"]
    assert r["T3-C", "total"] == sum(r["T3-C", c] for c in leaf_cols) - sum(r["T3-B", k] for k in leaves) \
        + r["T3-B", "results_total"]


def test_evaluate_a_mapping_without_a_report():
    """What the digit splitter needs: one row's candidate values
    checked alone; a key left out is unknown, None is a blank."""
    cand = dict(zip(t3_row("new_received"), [23, 0, 0, 0, 0, 0, 23]))
    ev = evaluate("V2019", "t3", cand)
    assert ev.holds and len(ev.unchecked) == len(identities("V2019", "t3")) - 1
    bad = dict(zip(t3_row("new_received"), [2, 30, 0, 0, 0, 0, 23]))
    [res] = evaluate("V2019", "t3", bad).failed
    assert (res.identity.rule, res.identity.line, res.left, res.right, res.residual) == ("T3-B", "new_received",
                                                                                       32, 23, 9)
    blank = dict(zip(t3_row("new_received"), [2, 1, 0, 0, 0, 0, None]))
    ev = evaluate("V2019", "t3", blank)
    assert ev.holds and ev.imputed == {"t3.new_received.total": 3}
    [t4a] = [i for i in identities("V2021", "t4") if i.line == "admin_review"]
    assert t4a.sides(dict(zip(t4a.keys, [1, 0, None, 0, 1]))) == (1, 1)
    assert t4a.sides({}) is None


@pytest.mark.parametrize("version", VERSIONS)
def test_truth_cells_give_exactly_the_recorded_violations(corpus, version):
    """Every truth file of the corpus, taken as a Report of its cells (so
    independent of the readers): the validator finds exactly its violations
    (002: two T4-A, 006: two T3-C, 016: blank totals only, info)."""
    checked = 0
    for path in sorted((corpus / "truth").glob("*.json")):
        t = load_expected(path)
        if version not in (t["template"], "V2021" if t["template"] == "MIXED" else None):
            continue
        report = Report(Source(t["file"], "text", ""), year=t["year"], template=t["template"])
        for table in TABLES:
            keys = {k for k in t["cells"] if k.startswith(f"{table}.")}
            fits = [v for v in VERSIONS if keys and keys <= set(get_template(v).tables[table].cell_keys())]
            if not fits:
                continue
            tt = get_template(t["template"] if t["template"] in fits else fits[-1]).tables[table]
            report.table_versions[table] = tt.version
            for r in tt.rows:
                for col in r.columns:
                    k = f"{table}.{r.key}.{col.key}"
                    if k in t["cells"]:
                        v = t["cells"][k]
                        report.cells[k] = CellValue(k, table, r.key, col.key, r.label, col.label, v,
                                                    t["units"].get(k), None, t["flags"].get(k) if v is None else None)
        validate(report)
        assert violation_mismatches(report, t) == [], t["file"]
        assert not [f for f in report.findings if f.severity == "warning"], t["file"]
        checked += 1
    assert checked


# -- exports and the CLI -----------------------------------------------------------

def test_findings_csv_and_text():
    r = gipextract.read_report(FIXTURES / "v2021_city_broken.txt")
    rows = list(csv.DictReader(io.StringIO(findings_csv(r))))
    assert tuple(rows[0]) == FINDINGS_COLUMNS
    assert [x["rule"] for x in rows] == ["T3-A", "T3-B", "T3-B", "T3-C", "T4-A", "blank_total"]
    assert rows[0]["cells"].split() == t3a("natural_person")
    assert rows[0]["labels"].startswith("一、本年新收政府信息公开申请数量/自然人; 二、上年结转政府信息公开申请数量/自然人")
    assert (rows[0]["expected"], rows[0]["actual"], rows[-1]["expected"]) == ("38", "37", "")
    text = findings_text(r)
    assert text.splitlines()[0].endswith("V2021; 5 errors, 0 warnings, 1 info")
    assert "row （一）予以公开: 自然人, 商业企业" in text and "column 商业企业: （一）予以公开, （二）部分公开" in text
    assert findings_csv(gipextract.read_report(COUNTY)) == ",".join(FINDINGS_COLUMNS) + "\n"


def _all_fixture_reports():
    return [gipextract.read_report(p) for p in sorted(FIXTURES.glob("*.txt"))]


def test_findings_csv_writes_lists_and_dicts_as_json():
    seen = set()
    for report in _all_fixture_reports():
        rows = list(csv.DictReader(io.StringIO(findings_csv(report))))
        assert len(rows) == len(report.findings)
        for f, written in zip(report.findings, rows):
            for name in ("expected", "actual"):
                v = getattr(f, name)
                if isinstance(v, (list, dict)):
                    assert json.loads(written[name]) == v and "'" not in written[name], (f.rule, written[name])
                    seen.add(f.rule)
                else:
                    assert written[name] == ("" if v is None else str(int(v) if isinstance(v, float) and v.is_integer()
                                                                 else v))
    assert {"ambiguous", "split_recovered"} <= seen
    flat = gipextract.read_report(FIXTURES / "v2021_city_flat.txt")
    row = next(r for r in csv.DictReader(io.StringIO(findings_csv(flat))) if r["rule"] == "ambiguous")
    assert json.loads(row["actual"])[0] == {"t2.art20_1.normative_documents.issued": 1,
                                            "t2.art20_1.normative_documents.repealed": 2,
                                            "t2.art20_1.normative_documents.in_force": 358}


def test_findings_text_shortens_long_values():
    from gipextract.export.findings import TEXT_CELL_WIDTH, _width

    for report in _all_fixture_reports():
        lines = findings_text(report).splitlines()[1:]
        if not lines:
            continue
        head = lines[0]  # the column heads; every row is padded to where "cells" starts
        assert _width(head[:head.index("cells")]) <= 2 + 20 + 2 + 8 + 2 + TEXT_CELL_WIDTH + 2 + TEXT_CELL_WIDTH + 2
    flat = findings_text(gipextract.read_report(FIXTURES / "v2021_city_flat.txt"))
    line = next(x for x in flat.splitlines() if x.lstrip().startswith("ambiguous"))
    assert '[{"t2.art20_1.normative…' in line
    assert "more than one way to cut it" in flat  # the message is whole


def test_the_xlsx_findings_sheet_is_findings_csv():
    from openpyxl import load_workbook

    from gipextract.export.xlsx import to_xlsx

    for report in _all_fixture_reports():
        sheet = load_workbook(io.BytesIO(to_xlsx(report)))["findings"]
        got = [["" if c.value is None else str(c.value) for c in r] for r in sheet.iter_rows()]
        assert got == list(csv.reader(io.StringIO(findings_csv(report)))), report.source.path


def test_cli_validate_json_and_unreadable_files(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"")
    r = CliRunner().invoke(main, ["validate", "--format", "json", str(FIXTURES / "v2021_city_broken.txt"), str(bad),
                                  str(COUNTY)])
    assert r.exit_code == 1
    docs = json.loads(r.stdout)
    assert [d.get("counts", {}).get("error") for d in docs] == [5, None, 0]
    assert docs[1]["source"] == str(bad) and "empty" in docs[1]["error"]
    assert docs[0]["findings"][0]["cells"] == t3a("natural_person")
    assert str(bad) in r.stderr


def test_extract_writes_findings_and_strict_exits_3(tmp_path):
    broken = str(FIXTURES / "v2021_city_broken.txt")
    r = CliRunner().invoke(main, ["extract", broken, "-o", str(tmp_path / "out")])
    assert r.exit_code == 0 and "T3-A" in r.stderr
    doc = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert [f["rule"] for f in doc["findings"]][:2] == ["T3-A", "T3-B"]
    assert "T4-A" in (tmp_path / "out" / "findings.csv").read_text(encoding="utf-8")
    r = CliRunner().invoke(main, ["extract", "--strict", broken, "-o", str(tmp_path / "strict")])
    assert r.exit_code == 3 and (tmp_path / "strict" / "report.json").exists()
    assert CliRunner().invoke(main, ["extract", "--strict", str(CITY), "-q"]).exit_code == 0


# -- the identity data --------------------------------------------------------------

def _t3_data(**change) -> dict:
    d = _load_toml("v2021.toml")["tables"]["t3"]
    d["identities"] = [dict(i) for i in d["identities"]]
    d["identities"][1].update(change)
    return d


@pytest.mark.parametrize("change, message", [
    ({"left": ["natural_person", "no_such_column"]}, "no cell"),
    ({"op": "=="}, "unknown op"),
    ({"each": "cell"}, "'each'"),
    ({"right": ["total", "other_org"], "left": ["natural_person"]}, "blank_total"),
    ({"severity": "fatal"}, "unknown severity"),
    ({"rule": "T3-X"}, "derived_from"),
    ({"right": []}, "non-empty"),
])
def test_malformed_identities_raise_template_error(change, message):
    with pytest.raises(TemplateError, match=message):
        _table("t3", "V2021", _t3_data(**change), label_aliases())


def test_malformed_bounds_raise_template_error():
    d = _load_toml("v2021.toml")["tables"]["t4"]
    d["bounds"] = [{"rule": "T4-B"}]
    with pytest.raises(TemplateError, match="min"):
        _table("t4", "V2021", d, label_aliases())
    d["bounds"] = [{"rule": "T4-B", "min": 0, "columns": ["no_such"]}]
    with pytest.raises(TemplateError, match="no cell"):
        _table("t4", "V2021", d, label_aliases())


def test_a_table_cut_off_before_its_total_row_is_not_checked_not_broken():
    """004_2024 (a partial text dump) stops after （四）1: the rows after the
    last one printed, down to （七）总计, are unknown (unreadable: a report
    never leaves its total row out, spec §7.3), so T3-A and T3-C are not
    checked rather than reported broken; T3-B still checks the rows present."""
    t3 = T3_HEAD + row("一、本年新收政府信息公开申请数量", [3, 0, 0, 0, 0, 0, 3]) \
        + row("（一）予以公开", [2, 0, 0, 0, 0, 0, 2], "三、本年度办理结果") \
        + row("（二）部分公开（区分处理的，只计这一情形，不计其他情形）", [1, 0, 0, 0, 0, 0, 2])
    r = gipextract.read_report(("2024年\n" + t3).encode())
    assert found(r, ("error",)) == [("T3-B", t3_row("partially_granted"))]
    [cut] = [f for f in r.findings if f.rule == "table_cut_off"]
    assert "stops after row （二）部分公开" in cut.message
    missing = [k for f in r.findings if f.rule == "row_missing" and f.table == "t3" for k in f.cells]
    assert {k.split(".")[1] for k in missing} == {"carried_over_prev"}  # not printed: absent, as before
    tail = [k for k in r.cells if k.startswith("t3.") and r.cells[k].value is None and k not in missing]
    assert set(cut.cells) == set(tail) and "t3.results_total.total" in tail
    assert {r.cells[k].flag for k in tail} == {"unreadable"}
    [skipped] = [f for f in r.findings if f.rule == "not_checked"]
    assert "T3-A of column 自然人" in skipped.message and "T3-C of column 总计" in skipped.message
    status, identities_, n_unread = report_status(r)
    assert (status, identities_) == ("partial", "broken") and n_unread >= len(tail)
