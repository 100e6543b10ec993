"""The PDF reader (gipextract/readers/pdf/) on synthetic PDFs drawn by
tests/pdfmaker.py, and on the real PDFs of ../shared/corpus."""

import copy
import functools
import io

import pytest

import gipextract
from gipextract.document import Source, TableBlock
from gipextract.errors import ReadError
from gipextract.readers import READERS
from gipextract.readers.pdf import PdfSettings, bands, cell_text, read_pdf, vertical_stacks, words
from gipextract.status import report_status

from . import pdfmaker
from .conftest import FIXTURES, cell_mismatches, load_expected, truth

LAYOUTS = {
    "ruled": {},
    "unruled": {"ruled": False},
    "numbers_set_higher": {"numbers_higher": 3.0},
    "unruled_numbers_set_higher": {"ruled": False, "numbers_higher": 3.0},
    "white_rects_behind_text": {"backgrounds": True},
    "group_cut_by_page_break": {"t3_break_before": "unable_needs_creation"},
    "unruled_group_cut_by_page_break": {"ruled": False, "t3_break_before": "unable_needs_creation"},
    "break_inside_the_block_label": {"t3_break_before": "partially_granted"},
    "empty_cell_between_label_and_numbers": {"empty_leaf_slot": True},
    "horizontal_block_label": {"vertical": False, "ruled": False},
    "header_repeated_on_each_page": {"repeat_header": True, "t3_break_before": "unable_needs_creation"},
}


def expected(name: str) -> dict:
    return load_expected(FIXTURES / "expected" / f"{name}.json")


def doc(data: bytes, **settings):
    return read_pdf(data, Source("synthetic.pdf", "pdf", ""), PdfSettings(**settings) if settings else None)


def report(data: bytes):
    return gipextract.read_report(data, name="synthetic.pdf")


@functools.cache
def rendered(name: str, layout: str) -> bytes:
    return pdfmaker.report_pdf(expected(name), **LAYOUTS[layout])


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("name", ["v2021_city", "v2019_county"])
def test_synthetic_report_reads_every_cell(name, layout):
    exp = expected(name)
    r = report(rendered(name, layout))
    assert cell_mismatches(r, exp) == []
    assert (r.template, r.year, r.agency) == (exp["template"], exp["year"], exp["agency"])
    assert not [f for f in r.findings if f.rule in ("value_count", "unreadable", "row_missing", "table_absent")]


def tables(d) -> list[TableBlock]:
    return [b for b in d.blocks if isinstance(b, TableBlock)]


def test_table_cut_by_a_page_break_is_one_block_with_the_cut_label_rejoined():
    d = doc(rendered("v2021_city", "group_cut_by_page_break"))
    t3 = tables(d)[1]
    cells = {c.text: c for row in t3.rows for c in row}
    assert cells["（四）无法提供"].rowspan == 3
    assert cells["三、本年度办理结果"].rowspan == 22
    assert len({c.where for row in t3.rows for c in row}) >= 2
    assert len(tables(d)) == 3
    assert not [p for p in d.paragraphs if p.text.strip("- ").isdigit()]  # page numbers dropped


def test_header_rows_repeated_on_a_continuation_page_are_dropped():
    d = doc(rendered("v2021_city", "header_repeated_on_each_page"))
    t3 = tables(d)[1]
    texts = [c.text for row in t3.rows for c in row]
    assert texts.count("申请人情况") == 1 and texts.count("商业企业") == 1
    cells = {c.text: c for row in t3.rows for c in row}
    assert cells["（四）无法提供"].rowspan == 3 and cells["三、本年度办理结果"].rowspan == 22


def test_white_rectangles_behind_paragraphs_are_not_tables():
    d = doc(rendered("v2021_city", "white_rects_behind_text"))
    assert len(tables(d)) == 3
    assert any(p.text.startswith("本年度，本机关认真贯彻落实") for p in d.paragraphs)


def test_paragraph_lines_are_reflowed_and_the_title_joined():
    d = doc(rendered("v2021_city", "ruled"))
    texts = [p.text for p in d.paragraphs]
    assert texts[0] == "示例市生态环境局2024年政府信息公开工作年度报告"
    assert "一、总体情况" in texts
    assert any(t.startswith("本年度，本机关") and t.endswith("公开质量进一步提升。") for t in texts)


def test_empty_label_slot_is_in_the_document_and_not_a_value():
    d = doc(rendered("v2021_city", "empty_cell_between_label_and_numbers"))
    total = next(row for row in tables(d)[1].rows if row[0].text == "（七）总计")
    assert total[1].text == "" and len(total) == 9


def mixed_expected() -> dict:
    """v2021_city as a hybrid: 表二 of the 2021 format, 表三 with the 2019
    format's single （六）其他处理 row (spec §8 MIXED)."""
    exp = copy.deepcopy(expected("v2021_city"))
    exp["template"] = "MIXED"
    cells = exp["cells"]
    for col in pdfmaker.mf.T3_COLS:
        parts = [cells.pop(f"t3.{r}.{col}") for r in ("other_no_correction", "other_fee_unpaid", "other_other")]
        cells[f"t3.other_handling.{col}"] = sum(p or 0 for p in parts)
        for r in ("other_no_correction", "other_fee_unpaid", "other_other"):
            exp["flags"].pop(f"t3.{r}.{col}", None)
            exp["raw"].pop(f"t3.{r}.{col}", None)
    return exp


@pytest.mark.parametrize("ruled", [True, False])
def test_hybrid_report_is_mixed_and_a_typo_label_still_matches(ruled):
    exp = mixed_expected()
    data = pdfmaker.report_pdf(exp, ruled=ruled, typos={"2.其他法律行政法规禁止公开": "2.其他法律行政止公开"})
    r = report(data)
    assert r.template == "MIXED"
    assert r.table_versions == {"t2": "V2021", "t3": "V2019", "t4": "V2021"}
    assert cell_mismatches(r, exp) == []
    assert len(r.cells) == 186


@pytest.fixture
def no_ocr(monkeypatch):
    """As on a machine without the ``ocr`` extra."""
    from gipextract.readers import ocr
    monkeypatch.setattr(ocr, "available", lambda: False)


def test_scanned_pdf_says_ocr_is_needed(no_ocr):
    r = report(pdfmaker.scanned_pdf())
    assert not r.has_tables()
    absent = [f for f in r.findings if f.rule == "table_absent"]
    assert [f.table for f in absent] == ["t2", "t3", "t4"]
    assert all("OCR" in f.message and "no text layer" in f.message for f in absent)
    assert [f.rule for f in r.findings if "no text layer" in f.message][0] == "reader_note"


def test_page_without_text_layer_is_noted(no_ocr):
    pages = pdfmaker.text_pdf(["一、总体情况", "本机关全年主动公开政府信息。"])
    d = doc(pages)
    assert d.notes == [] and not d.incomplete
    assert [p.text for p in d.paragraphs] == ["一、总体情况", "本机关全年主动公开政府信息。"]
    d = doc(pdfmaker.scanned_pdf(3))
    assert len(d.notes) == 1 and "any page" in d.notes[0]
    assert d.incomplete  # what those pages print is unknown: rows not found there are unreadable


def encrypted(user_password: str) -> bytes:
    from reportlab.lib import pdfencrypt
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, encrypt=pdfencrypt.StandardEncryption(user_password, ownerPassword="owner", strength=128))
    c.setFont("Helvetica", 12)
    c.drawString(80, 700, "Annual report 2024")
    c.showPage()
    c.save()
    return buf.getvalue()


@pytest.mark.parametrize("data, reason", [
    (b"%PDF-1.4\n" + bytes(range(256)) * 20, "not a readable PDF"),
    (b"%PDF-1.7\n", "not a readable PDF"),
    (pdfmaker.text_pdf(["一、总体情况"])[:400], "not a readable PDF"),
    (encrypted("secret"), "encrypted"),
])
def test_unreadable_pdf_is_one_line_read_error_naming_the_file(data, reason):
    with pytest.raises(ReadError) as e:
        gipextract.read_report(data, name="broken.pdf")
    message = str(e.value)
    assert message.startswith("broken.pdf: ") and reason in message and "\n" not in message


def test_owner_password_only_pdf_is_read():
    d = doc(encrypted(""))
    assert [p.text for p in d.paragraphs] == ["Annual report 2024"]


def test_work_is_bounded():
    data = pdfmaker.text_pdf(["一"], ["二"], ["三"])
    with pytest.raises(ReadError, match="3 pages"):
        doc(data, max_pages=2)
    with pytest.raises(ReadError, match="larger than"):
        doc(data, max_bytes=100)
    with pytest.raises(ValueError):
        PdfSettings(max_pages=0)


# -- geometry on hand-made characters: (x0, x1, top, bottom, size, text) ------------

def chars(text: str, x: float, top: float, size: float = 10.0, height: float | None = None) -> list[tuple]:
    h = height or size
    return [(x + i * size, x + (i + 1) * size, top, top + h, size, ch) for i, ch in enumerate(text)]


def test_numbers_set_higher_share_the_band_of_their_label():
    label = chars("属于国家秘密", 100, 586.0, 10, 10.7)
    numbers = chars("1", 320, 581.4, 7, 14.1) + chars("0", 350, 581.4, 7, 14.1)
    nxt = chars("其他", 100, 604.0, 10, 10.7) + chars("0", 320, 601.3, 7, 14.1)
    got = [["".join(c[5] for c in band)] for band in bands(label + numbers + nxt)]
    assert got == [["属于国家秘密10"], ["其他0"]]


def test_vertical_label_is_one_stack():
    column = [chars(ch, 77, 585 + 15 * i, 7.4) for i, ch in enumerate(["三、", "本", "年", "度"])]
    rows = [chars("其他", 143, 585 + 15 * i, 7.4) + chars("0", 300, 585 + 15 * i, 7.4) for i in range(4)]
    lines = [words(sorted(a + b, key=lambda c: c[0])) for a, b in zip(column, rows)]
    stacks = vertical_stacks(lines)
    assert ["".join(w.text for w in s) for s in stacks] == ["三、本年度"]  # not 其他×4, not the numbers


def test_cell_text_joins_lines_without_spaces_but_keeps_two_numbers_apart():
    assert cell_text(chars("商业企", 10, 10) + chars("业", 10, 22)) == "商业企业"
    assert cell_text(chars("10", 10, 10) + chars("1", 40, 10)) == "10 1"


# -- the real PDFs ------------------------------------------------------------------

PDFS = ["001_2024_pdf.pdf", "002_2023_pdf.pdf", "003_2024_pdf.pdf"]


@pytest.mark.parametrize("name", PDFS)
def test_real_pdf_read_as_layout_text_alone_equals_its_truth(corpus, name, monkeypatch):
    """The §7.5 line rule with geometry (no table finder) reads every cell too."""
    monkeypatch.setitem(READERS, "pdf", functools.partial(read_pdf, settings=PdfSettings(ruled_tables=False)))
    r = gipextract.read_report(corpus / name)
    assert cell_mismatches(r, truth(name)) == []


@pytest.mark.parametrize("name", PDFS)
def test_real_pdf_has_a_text_layer_on_every_page(corpus, name):
    from gipextract.readers.pdf import pages_needing_ocr

    d = gipextract.pipeline.read_document_from(corpus / name)
    assert d.notes == [] and not d.incomplete
    assert pages_needing_ocr((corpus / name).read_bytes(), Source(name, "pdf", "")) == []


def test_real_pdf_tables_are_joined_across_pages(corpus):
    d = gipextract.pipeline.read_document_from(corpus / "001_2024_pdf.pdf")
    t2, t3, t4 = tables(d)
    assert {c.where for row in t2.rows for c in row} == {"page 3", "page 4"}
    texts = {c.text: c for row in t3.rows for c in row}
    assert texts["（四）无法提供"].rowspan == 3
    assert texts["三、本年度办理结果"].rowspan == 22
    assert not [p for p in d.paragraphs if "- 4 -" in p.text]


def test_partial_text_dump_yields_its_cells_and_nulls_for_the_rest(corpus):
    name = "004_2024_txt.txt"
    exp = truth(name)
    r = gipextract.read_report(corpus / name)
    assert cell_mismatches(r, exp) == []
    rest = [c for k, c in r.cells.items() if k not in exp["cells"]]
    assert rest and all(c.value is None for c in rest)
    # the text starts inside 表二 (its first blocks are not in it) and 表三 stops before its total row: both cut
    # off, their missing rows unknown (unreadable), never said to be left out by the report (row_missing)
    assert {c.flag for c in rest if c.table == "t2"} == {"unreadable"}
    assert {c.flag for c in rest if c.table == "t3"} == {"unreadable"}
    assert [f.table for f in r.findings if f.rule == "table_cut_off"] == ["t2", "t3"]
    assert [f.table for f in r.findings if f.rule == "table_absent"] == ["t4"]
    missing = {k for f in r.findings if f.rule in ("row_missing", "table_cut_off") for k in f.cells}
    assert missing == {c.key for c in rest}
    assert report_status(r) == ("partial", "not_checked", 15 + 84 + 7)


def test_cli_extracts_a_pdf_and_refuses_a_broken_one(tmp_path):
    import json

    from click.testing import CliRunner

    from gipextract.cli import main

    good, bad = tmp_path / "report.pdf", tmp_path / "broken.pdf"
    good.write_bytes(rendered("v2021_city", "ruled"))
    bad.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 4)
    r = CliRunner().invoke(main, ["extract", str(good)])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["tables"]["t3"]["new_received"]["total"]["value"] == 41
    r = CliRunner().invoke(main, ["extract", str(bad)])
    assert r.exit_code == 1 and len(r.stderr.strip().splitlines()) == 1 and str(bad) in r.stderr


def test_text_layer_without_unicode_mapping_is_noted_not_read(no_ocr):
    """Characters whose font maps them to no Unicode character (made-up glyph
    names, no ToUnicode): a page made of them has no usable text layer."""
    d = doc(pdfmaker.raw_pdf(pdfmaker.text_content(("ABCDEF", (1, 0, 0, 1, 72, 700))), font=pdfmaker.UNMAPPED_FONT))
    assert d.blocks == [] and "no readable text layer" in d.notes[0] and "any page" in d.notes[0]
    assert d.incomplete


def test_running_text_ending_in_numbers_is_not_a_table():
    d = doc(pdfmaker.text_pdf([
        "本机关全年共受理政府信息公开申请，依法予以公开和部分公开的申请合计件数为 12",
        "全年办理答复的申请件数合计，较上年同期有所增长，其中结转下年度继续办理 3",
        "上述申请均在法定期限内答复",
    ]))
    assert not tables(d)
    assert len(d.paragraphs) >= 1
