"""A printed row whose label is not matched (cut by a wrap or a page break, glued
to a header word) is not an absent row (template-spec §7.3): the template rows
not found are unknown (unreadable) and their identities unchecked, unless the
one rule of :func:`gipextract.reconstruct.build._cut_label_row` proves which
row it is; a table whose printed rows stop early is cut off, not short."""

import pytest

import gipextract
from gipextract.status import report_status

from .conftest import FIXTURES

CITY = (FIXTURES / "v2021_city.txt").read_text(encoding="utf-8")
LEAF1 = "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"
LEAF2 = "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"
ROW1 = "t3.other_no_correction"


def read(text: str) -> gipextract.Report:
    return gipextract.read_report(text.encode("utf-8"))


def row_values(r: gipextract.Report, prefix: str) -> list:
    return [c.value for k, c in r.cells.items() if k.startswith(prefix + ".")]


@pytest.fixture(scope="module")
def city() -> gipextract.Report:
    return read(CITY)


@pytest.mark.parametrize("printed", ["行政机关不再处理其政府信息公开申请", "不补正、行政机关不再处理"])
def test_one_cut_label_in_its_place_is_proved_to_be_its_row(city, printed):
    r = read(CITY.replace(LEAF1, printed, 1))
    key = ROW1
    assert row_values(r, key) == row_values(city, key) and any(v for v in row_values(r, key))
    assert r.errors == [] and r.extra_rows == []
    [cut] = [f for f in r.findings if f.rule == "cut_label"]
    assert cut.severity == "info" and "§7.3" in cut.message and not any(f.rule == "row_missing" for f in r.findings)
    assert report_status(r) == report_status(city) == ("ok", "hold", 0)


def test_a_header_word_glued_to_a_label_is_proved_to_be_its_row(city):
    r = read(CITY.replace("\t现行有效件数\n\n\t规章\n", "\t现行有效件数规章\n", 1))
    assert row_values(r, "t2.art20_1.regulations") == row_values(city, "t2.art20_1.regulations") == [0, 0, 4]
    assert [f.rule for f in r.findings if f.table == "t2"] == ["cut_label"]


def test_two_cut_labels_leave_both_rows_unknown_never_guessed(city):
    text = CITY.replace(LEAF1, "行政机关不再处理其政府信息公", 1).replace(LEAF2, "缴纳费用、行政机关不再处理其政", 1)
    r = read(text)
    unknown = [k for k, c in r.cells.items() if k.startswith(("t3.other_no", "t3.other_fee"))]
    assert {r.cells[k].flag for k in unknown} == {"unreadable"}
    assert len(unknown) == 14 and all(r.cells[k].value is None for k in unknown)
    [missing] = [f for f in r.findings if f.rule == "row_missing"]
    assert missing.severity == "warning" and set(missing.cells) == set(unknown)
    assert "行政机关不再处理其政府信息公'" in missing.message and "'缴纳费用、行政机关不再处理其政'" in missing.message
    assert r.errors == []  # the identities that use them are not checked, never reported broken
    assert any(f.rule == "not_checked" and "T3-C" in f.message for f in r.findings)
    assert len(r.extra_rows) == 2
    assert report_status(r) == ("partial", "not_checked", 14)


def test_a_cut_label_out_of_its_place_is_not_taken_for_the_row(city):
    """The leftover row stands elsewhere than the missing row: unknown, not guessed."""
    lines = CITY.split("\n")
    i = lines.index("\t" + LEAF1)
    block = lines[i:i + 8]
    del lines[i:i + 9]
    j = lines.index("\t（五）不予处理")
    block[0] = "\t不再处理其政府信息公开申请"
    lines[j:j] = [*block, ""]
    r = read("\n".join(lines))
    assert not any(f.rule == "cut_label" for f in r.findings)
    assert {c.flag for k, c in r.cells.items() if k.startswith(ROW1 + ".")} <= {"unreadable"}
    assert r.errors == []


def test_a_row_left_out_with_nothing_unmatched_is_still_absent(city):
    lines = CITY.split("\n")
    i = lines.index("\t" + LEAF1)
    del lines[i:i + 8]  # its label and its 7 values; （六）其他处理 stays, on the next row
    r = read("\n".join(lines))
    flags = {c.flag for k, c in r.cells.items() if k.startswith(ROW1 + ".")}
    assert flags == {"row_missing"}
    assert [f.severity for f in r.findings if f.rule == "row_missing"] == ["info"]


def test_a_table_cut_off_at_its_end_is_partial_not_short(city):
    text = CITY[:CITY.index("\t（五）不予处理")]
    r = read(text)
    [cut] = [f for f in r.findings if f.rule == "table_cut_off"]
    assert "t3.results_total.total" in cut.cells
    assert all(r.cells[k].flag == "unreadable" and r.cells[k].value is None for k in cut.cells)
    status, _, n_unread = report_status(r)
    assert status == "partial" and n_unread >= len(cut.cells)
    assert not any(f.rule == "row_missing" and f.table == "t3" for f in r.findings)


def test_the_corpus_markdown_with_cut_labels_is_partial_not_absent(corpus):
    r = gipextract.read_report(corpus / "009_2025_md.md")
    for leaf in ("other_no_correction", "other_fee_unpaid"):
        keys = [k for k in r.cells if k.startswith(f"t3.{leaf}.")]
        assert keys and {r.cells[k].flag for k in keys} == {"unreadable"}
    assert not any(c.flag == "row_missing" for c in r.cells.values() if c.table == "t3")
    assert report_status(r)[0] == "partial"


def _print_to_pdf(html_path, out) -> None:
    import shutil
    import subprocess

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed")
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                    f"--print-to-pdf={out}", html_path.as_uri()], check=True, capture_output=True, timeout=180)


def test_a_label_wrapped_in_a_printed_pdf_is_read_as_its_row(corpus, tmp_path):
    """031 printed by Chromium wraps （三）7 as '7.属于行政 / 执法案卷': the
    part with the numbers is proved to be that row, and the report equals its truth."""
    from .conftest import cell_mismatches, truth

    pdf = tmp_path / "c.pdf"
    _print_to_pdf(corpus / "031_2019_html.html", pdf)
    r = gipextract.read_report(pdf)
    assert cell_mismatches(r, truth("031_2019_html.html")) == []
    assert report_status(r) == ("ok", "hold", 0)


def test_rows_lost_at_a5_page_breaks_are_unknown_not_absent(corpus, tmp_path):
    """028 printed on A5: 表三 （三）2 is split by a page break (proved, read);
    表二's fee row falls alone at the top of the next page, outside its table:
    unknown (table_cut_off), never the row_missing that would say the report has none."""
    from .conftest import truth

    html = tmp_path / "a5.html"
    text = (corpus / "028_2024_html.html").read_bytes()
    html.write_bytes(text.replace(b"</head>", b"<style>@page{size:A5;margin:12mm}</style></head>", 1)
                     if b"</head>" in text else text.replace(b"</HEAD>", b"<style>@page{size:A5;margin:12mm}</style></HEAD>", 1))
    pdf = tmp_path / "a5.pdf"
    _print_to_pdf(html, pdf)
    r = gipextract.read_report(pdf)
    exp = truth("028_2024_html.html")["cells"]
    fee = "t2.art20_8.administrative_fees.fee_amount_wan_yuan"
    assert {k: c.value for k, c in r.cells.items() if k in exp and k != fee} == {k: v for k, v in exp.items() if k != fee}
    assert (r.cells[fee].value, r.cells[fee].flag) == (None, "unreadable")
    assert not any(c.flag == "row_missing" for c in r.cells.values())
    assert report_status(r) == ("partial", "not_checked", 1)
