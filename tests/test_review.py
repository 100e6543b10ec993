"""The review page (gipextract.export.review, ``gipextract review``): the
tables as printed, cells marked by the findings that name them, on every input
format; escaping; no tables; bounded page images; the real report 002."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from lxml import html as lxml_html

import gipextract
from gipextract.cli import main
from gipextract.document import Source
from gipextract.export.display import number_text
from gipextract.export.layout import table_layout
from gipextract.export.review import review_html, review_page
from gipextract.report import CellValue, Finding, Report
from gipextract.templates import TABLES

from . import pdfmaker, render
from .conftest import FIXTURES, cell_mismatches, load_expected, truth

BROKEN = FIXTURES / "v2021_city_broken.txt"


def parse(page: str):
    return lxml_html.fromstring(page.encode("utf-8"))


def cells(page: str) -> dict[str, tuple[set[str], str, str]]:
    """data-key → (classes, text shown, title) of every value cell."""
    out = {}
    for td in parse(page).xpath("//td[@data-key]"):
        out[td.get("data-key")] = (set(td.get("class", "").split()), td.text_content(), td.get("title") or "")
    return out


def marked(page: str, cls: str) -> set[str]:
    return {k for k, (classes, _, _) in cells(page).items() if cls in classes}


def named(report: Report, severity: str) -> set[str]:
    return {k for f in report.findings if f.severity == severity for k in f.cells}


def broken_inputs() -> dict[str, bytes]:
    """The broken fixture as text, HTML, DOCX and PDF."""
    text = BROKEN.read_bytes()
    doc = gipextract.read_document_from(BROKEN)
    return {"text": text, "html": render.to_html(doc), "docx": render.to_docx(doc),
            "pdf": pdfmaker.report_pdf(load_expected(FIXTURES / "expected" / "v2021_city_broken.json"))}


@pytest.fixture(scope="module")
def broken_pages() -> dict[str, tuple[Report, str]]:
    out = {}
    for fmt, data in broken_inputs().items():
        report = gipextract.read_report(data, name=f"broken.{fmt}")
        assert report.source.format == fmt
        out[fmt] = (report, review_page(data, report))
    return out


@pytest.mark.parametrize("fmt", ["text", "html", "docx", "pdf"])
def test_broken_identities_mark_exactly_the_cells_their_findings_name(broken_pages, fmt):
    report, page = broken_pages[fmt]
    errors = named(report, "error")
    assert errors and report.errors
    assert marked(page, "finding-error") == errors
    assert marked(page, "finding-warning") == named(report, "warning") - errors
    # the same cells on every input format: the text reader's findings
    assert errors == named(broken_pages["text"][0], "error")
    # each finding is a button naming its cells
    buttons = parse(page).xpath("//button[contains(@class, 'finding')]")
    assert [b.get("data-cells").split() for b in buttons] == [f.cells for f in report.findings]
    assert {b.get("class").split()[1] for b in buttons} == {f"sev-{f.severity}" for f in report.findings}


def test_the_broken_t3_cells_show_the_values_printed(broken_pages):
    report, page = broken_pages["text"]
    shown = cells(page)
    assert shown["t3.new_received.natural_person"][1] == "34"
    assert shown["t3.granted.natural_person"][1] == "20"
    assert shown["t4.admin_review.total"][1] == "5"
    assert "finding-error" in shown["t4.admin_review.total"][0]
    # every cell of the report's tables is on the page, once, with its value as printed
    assert set(shown) == {k for t in TABLES for k in report.template_for(t).cell_keys()}
    for key, (_, text, _) in shown.items():
        cell = report.cells[key]
        if cell.value is not None:
            assert text == number_text(cell.value) + (cell.unit if cell.unit == "元" else ""), key
        elif cell.flag in ("blank", "dash", "none_text"):
            assert text == (cell.raw or "").strip(), key


def test_source_beside_the_tables(broken_pages):
    _, text_page = broken_pages["text"]
    sources = parse(text_page).xpath("//details[contains(@class, 'source')]/pre")
    assert len(sources) == 3 and "一、本年新收政府信息公开申请数量" in sources[1].text_content()
    assert "line " in sources[1].text_content()
    _, pdf_page = broken_pages["pdf"]
    assert re.findall(r"\.pg(\d+)\{background-image:url\(data:image/png;base64,", pdf_page)
    assert parse(pdf_page).xpath("//div[contains(@class, 'pg')][@role='img']")


def test_headers_are_laid_out_with_their_spans(broken_pages):
    _, page = broken_pages["text"]
    t3 = parse(page).xpath("//table[@data-table='t3']")[0]
    th = {e.text_content(): e for e in t3.xpath(".//th")}
    assert th["申请人情况"].get("colspan") == "7"
    assert th["法人或其他组织"].get("colspan") == "5"
    assert th["自然人"].get("rowspan") == "2"
    t4 = parse(page).xpath("//table[@data-table='t4']")[0]
    th4 = {e.text_content(): e for e in t4.xpath(".//th")}
    assert th4["行政复议"].get("colspan") == "5" and th4["行政诉讼"].get("colspan") == "10"
    # every row of a table covers the same number of grid columns
    report = broken_pages["text"][0]
    for name in TABLES:
        layout = table_layout(report.template_for(name))
        widths = [0] * layout.n_rows
        for s in layout.slots:
            for r in range(s.row, s.last_row + 1):
                widths[r - 1] += s.colspan
        assert set(widths) == {layout.n_cols}


def _shell(agency: str, label: str) -> Report:
    report = gipextract.read_report(FIXTURES / "v2021_city.txt")
    report.agency = agency
    key = "t3.granted.natural_person"
    c = report.cells[key]
    report.cells[key] = CellValue(c.key, c.table, c.row_key, c.col_key, label, c.col_label, None, None,
                                  "<img src=x onerror=alert(2)>", "unreadable", c.where)
    report.findings.append(Finding("unreadable", "warning", "t3", [key], None, "<b>x</b>",
                                   "<script>alert(3)</script> cannot be read"))
    report.source = Source(path="<script>alert(4)</script>.txt", format="text", sha256="0" * 64)
    return report


def test_everything_from_the_report_is_escaped():
    page = review_html(_shell("<script>alert(1)</script>局", "（一）<i>予以公开</i>"))
    assert page.count("<script>") == 1  # the page's own
    for raw in ("<script>alert", "<img src=x", "<i>予以", "<b>x</b>"):
        assert raw not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;局" in page
    assert "&lt;script&gt;alert(4)&lt;/script&gt;.txt" in page
    tree = parse(page)
    assert tree.xpath("//h1")[0].text_content() == "<script>alert(1)</script>局 · 2024"
    classes, text, title = cells(page)["t3.granted.natural_person"]
    assert {"unread", "finding-warning"} <= classes and text == "[unreadable]"
    assert "unreadable: printed as '<img src=x onerror=alert(2)>'" in title  # flag and raw text on hover


def test_unread_and_other_unit_cells_are_marked_as_in_the_xlsx():
    report = gipextract.read_report(FIXTURES / "v2019_county.txt")
    page = review_page((FIXTURES / "v2019_county.txt").read_bytes(), report)
    shown = cells(page)
    other = [k for k, c in report.cells.items() if c.value is not None and c.unit == "元"
             and "unit" in shown.get(k, (set(), "", ""))[0]]
    for key in other:
        assert shown[key][1].endswith("元")
    unread = [k for k, c in report.cells.items() if c.value is None and c.flag not in ("blank", "dash", "none_text")]
    for key in unread:
        assert "unread" in shown[key][0] and not re.search(r"\d", shown[key][1])


def test_a_report_without_tables_says_so():
    data = (FIXTURES / "not_a_report.txt").read_bytes()
    report = gipextract.read_report(data)
    page = review_page(data, report)
    assert "No statistics table (表二, 表三, 表四) was found in this report." in page
    assert not parse(page).xpath("//td[@data-key]")
    assert page.count("not found in this report") == 3


def test_a_scan_shows_its_first_pages_and_a_huge_pdf_is_bounded():
    data = pdfmaker.scanned_pdf(pages=12)
    report = gipextract.read_report(data)
    page = review_page(data, report, max_pages=3)
    assert sorted(set(re.findall(r"\.pg(\d+)\{", page))) == ["1", "2", "3"]
    assert len(page.encode()) < 200_000
    big = pdfmaker.text_pdf(*[[f"第{i}页"] for i in range(40)])
    report = gipextract.read_report(big)
    assert len(set(re.findall(r"\.pg(\d+)\{", review_page(big, report, max_pages=5)))) == 5


def test_cli_review_writes_one_page(tmp_path):
    out = tmp_path / "page.html"
    result = CliRunner().invoke(main, ["review", str(BROKEN), "-o", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "http://" not in page and "https://" not in page
    assert marked(page, "finding-error") == named(gipextract.read_report(BROKEN), "error")
    bad = CliRunner().invoke(main, ["review", str(tmp_path / "missing.txt"), "-o", str(out)])
    assert bad.exit_code == 1 and "missing.txt" in bad.output
    assert CliRunner().invoke(main, ["review", str(BROKEN), "-o", str(tmp_path)]).exit_code == 1


def test_real_pdf_002_review_page(corpus):
    data = (corpus / "002_2023_pdf.pdf").read_bytes()
    report = gipextract.read_report(data, name="002_2023_pdf.pdf")
    assert not cell_mismatches(report, truth("002_2023_pdf.pdf"))
    page = review_page(data, report)
    shown = cells(page)
    expected = truth("002_2023_pdf.pdf")["cells"]
    for key, value in expected.items():
        if value is not None and key in shown:
            assert float(shown[key][1]) == float(value), key
    assert marked(page, "finding-error") == named(report, "error")
    assert "t4.admin_review.total" in marked(page, "finding-error")
    assert sorted(set(re.findall(r"\.pg(\d+)\{", page))) == ["2", "3", "4"]
    assert len(page.encode()) < 600_000


def test_the_page_and_the_xlsx_share_one_layout(broken_pages):
    """The XLSX's merged cells are exactly the page's rowspan/colspan cells."""
    import io

    from openpyxl import load_workbook

    from gipextract.export.xlsx import SHEETS, to_xlsx

    report, _ = broken_pages["text"]
    wb = load_workbook(io.BytesIO(to_xlsx(report)))
    for name in TABLES:
        merged = {(r.min_row, r.min_col, r.max_row, r.max_col) for r in wb[SHEETS[name]].merged_cells.ranges}
        layout = table_layout(report.template_for(name))
        assert merged == {(s.row, s.col, s.last_row, s.last_col) for s in layout.slots
                          if (s.row, s.col) != (s.last_row, s.last_col)}


@pytest.mark.parametrize("name, verdict", [
    ("v2021_city", "identities hold"),
    ("v2021_city_broken", "identities broken"),
    ("v2019_county_flat", "partial: 19 cells not read · identities not all checked"),
])
def test_the_verdict_badge_says_what_the_manifest_says(name, verdict):
    """A page never shows "identities hold" for a report whose identities were
    not all checked (cells not read): its badge says what the manifest's
    ``status`` and ``identities`` say."""
    page = lxml_html.fromstring(review_html(gipextract.read_report(FIXTURES / f"{name}.txt")))
    badge = page.xpath('//span[contains(@class, "badge")]')[0]
    assert badge.text_content() == verdict
    assert badge.get("class").split()[1] == {"identities hold": "good", "identities broken": "bad"}.get(verdict,
                                                                                                      "unchecked")
