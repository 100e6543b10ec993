"""The OCR reader (gipextract.readers.ocr) and the OCR check (gipextract.ocrcheck).

Scans are made here: the synthetic reports of ``fixtures/`` drawn as PDF by
``tests/pdfmaker.py``, rendered with pypdfium2, turned ±1°, blurred, with
noise and JPEG artefacts (``tests/scanmaker.py``), and read back cell by cell.
The real PDFs 001–003 of ``../shared/corpus`` rendered to images must give
their text layer's cells (marked ``ocr_corpus``: minutes of OCR).
OCR is slow on a shared machine: each scan is read once per module.
"""

from __future__ import annotations

import io
import json
import math

import pytest

pytest.importorskip("rapidocr_onnxruntime")

import gipextract  # noqa: E402
from gipextract.errors import ReadError  # noqa: E402
from gipextract.ocrcheck import check_ocr  # noqa: E402
from gipextract.readers import detect_format  # noqa: E402
from gipextract.readers import ocr as ocr_reader  # noqa: E402

from . import pdfmaker, scanmaker  # noqa: E402
from .conftest import FIXTURES, truth  # noqa: E402


def expected(name: str) -> dict:
    return json.loads((FIXTURES / "expected" / f"{name}.json").read_text(encoding="utf-8"))


def score(report, exp: dict) -> tuple[int, list[str], list[str]]:
    """(cells right, cells null where a number was printed, cells with a wrong number)."""
    right, nulls, wrong = 0, [], []
    for key, want in exp["cells"].items():
        cell = report.cells.get(key)
        got = None if cell is None else cell.value
        if (want is None and got is None) or (want is not None and got is not None
                                              and math.isclose(float(got), float(want), abs_tol=1e-9)):
            right += 1
        elif got is None:
            nulls.append(f"{key}: printed {want}, null ({cell.flag if cell else 'no cell'})")
        else:
            wrong.append(f"{key}: printed {want}, read {got} (raw {cell.raw!r})")
    return right, nulls, wrong


@pytest.fixture(scope="module")
def scanned_v2021():
    """v2021_city drawn, scanned at 200 dpi (pages turned +1°, −1°, +1°, noise, blur, JPEG 75), as an image-only PDF."""
    pages = scanmaker.scan(pdfmaker.report_pdf(expected("v2021_city")), dpi=200)
    return gipextract.read_report(scanmaker.image_pdf(pages), name="v2021_city.scan.pdf")


@pytest.fixture(scope="module")
def scanned_v2019_tiff():
    """v2019_county scanned at 300 dpi (pages turned −1°, +0.5°), as one multi-page TIFF."""
    pages = scanmaker.scan(pdfmaker.report_pdf(expected("v2019_county")), dpi=300, angles=(-1.0, 0.5))
    return gipextract.read_report(scanmaker.image_file(pages, "TIFF", compression="tiff_lzw"), name="v2019.tiff")


def test_image_only_pdf_scan_gives_every_cell(scanned_v2021):
    r = scanned_v2021
    right, nulls, wrong = score(r, expected("v2021_city"))
    assert wrong == []
    assert right >= 0.99 * 200, nulls
    assert (r.agency, r.year, r.template) == ("示例市生态环境局", 2024, "V2021")
    assert r.cells["t3.new_received.natural_person"].value == 33
    assert r.cells["t2.art20_8.administrative_fees.fee_amount_wan_yuan"].value == 1234.56
    assert "s5" in r.sections and not r.needs_ocr


def test_ocr_cells_are_flagged_and_keep_their_confidence(scanned_v2021):
    r = scanned_v2021
    c = r.cells["t3.results_total.total"]
    assert c.value == 45 and c.flag == "ocr" and 0 < c.confidence <= 1
    tidy = r.tidy()
    assert "confidence" in tidy.columns and tidy["confidence"].notna().sum() >= 190
    node = r.to_dict()["tables"]["t3"]["results_total"]["total"]
    assert node["flag"] == "ocr" and node["confidence"] == c.confidence
    assert any(f.rule == "reader_note" and "read by OCR" in f.message for f in r.findings)


def test_multipage_tiff_scan_at_300_dpi(scanned_v2019_tiff):
    r = scanned_v2019_tiff
    right, nulls, wrong = score(r, expected("v2019_county"))
    assert wrong == []
    assert right >= 0.99 * len(expected("v2019_county")["cells"]), nulls
    assert r.template == "V2019" and r.source.format == "image"


@pytest.mark.parametrize("fmt, magic", [("PNG", b"\x89PNG"), ("JPEG", b"\xff\xd8\xff"), ("TIFF", b"II*\x00"),
                                        ("BMP", b"BM")])
def test_page_images_are_detected_by_their_magic_bytes(fmt, magic):
    from PIL import Image

    data = scanmaker.image_file([Image.new("L", (40, 30), 255)], fmt)
    assert data.startswith(magic) and detect_format(data, "page") == "image"


def test_blank_page_and_a_picture_that_is_no_report_give_table_absent():
    import numpy as np
    from PIL import Image

    blank = scanmaker.image_file([Image.new("L", (1240, 1754), 255)], "PNG")
    rng = np.random.default_rng(1)
    photo = Image.fromarray((rng.random((900, 1200)) * 255).astype("uint8"))
    for data in (blank, scanmaker.image_file([photo], "JPEG")):
        r = gipextract.read_report(data, name="page.png")
        assert not r.has_tables()
        assert [f.table for f in r.findings if f.rule == "table_absent"] == ["t2", "t3", "t4"]


def test_a_huge_image_is_refused_before_it_is_decoded():
    from PIL import Image

    buf = io.BytesIO()
    Image.new("1", (20_000, 20_000), 1).save(buf, "PNG")  # a few KB of file, 400 megapixels
    with pytest.raises(ReadError, match=r"pixels a page image may have") as e:
        gipextract.read_report(buf.getvalue(), name="huge.png")
    assert str(e.value).startswith("huge.png: ") and "\n" not in str(e.value)


@pytest.mark.parametrize("cut", [60, 300])
def test_a_corrupt_image_is_one_line_error(cut):
    from PIL import Image

    data = scanmaker.image_file([Image.new("L", (400, 300), 128)], "PNG")[:cut]
    with pytest.raises(ReadError, match="not a readable image") as e:
        gipextract.read_report(data, name="broken.png")
    assert str(e.value).startswith("broken.png: ") and "\n" not in str(e.value)


def test_text_forced_through_the_image_reader_is_a_one_line_error_naming_the_file():
    with pytest.raises(ReadError, match="not a readable image: no image format PIL knows") as e:
        gipextract.read_report((FIXTURES / "v2021_city.txt").read_bytes(), "image", name="report.txt")
    assert str(e.value).startswith("report.txt: ") and "BytesIO" not in str(e.value)


def test_without_the_extra_a_scan_says_it_needs_ocr(monkeypatch):
    from PIL import Image

    monkeypatch.setattr(ocr_reader, "available", lambda: False)
    png = scanmaker.image_file([Image.new("L", (400, 300), 255)], "PNG")
    r = gipextract.read_report(png, name="page.png")
    assert r.needs_ocr and not r.has_tables()
    assert any("pip install 'gipextract[ocr]'" in f.message for f in r.findings if f.rule == "reader_note")
    r = gipextract.read_report(pdfmaker.scanned_pdf(), name="scan.pdf")
    assert r.needs_ocr
    notes = [f.message for f in r.findings if f.rule == "reader_note"]
    assert len(notes) == 1 and "needs OCR" in notes[0] and "pip install 'gipextract[ocr]'" in notes[0]


def test_a_text_pdf_is_not_ocred():
    r = gipextract.read_report(pdfmaker.report_pdf(expected("v2021_city")))
    assert all(c.confidence is None and c.flag != "ocr" for c in r.cells.values())
    assert "confidence" not in r.tidy().columns


# -- the OCR check -----------------------------------------------------------------

def _as_ocr(report, confidence: float = 0.99):
    for c in report.cells.values():
        c.confidence = confidence
        if c.flag is None:
            c.flag = "ocr"
    return report


def _report():
    return _as_ocr(gipextract.reconstruct.reconstruct(
        gipextract.pipeline.locate_document(gipextract.pipeline.read_document_from(FIXTURES / "v2021_city.txt"))))


def test_low_confidence_cell_is_null_with_its_readings():
    r = _report()
    c = r.cells["t3.granted.natural_person"]
    c.confidence, c.alternatives = 0.31, ("28",)
    check_ocr(r)
    assert c.value is None and c.flag == "ocr_uncertain"
    f = next(f for f in r.findings if f.rule == "ocr_uncertain")
    assert f.cells == ["t3.granted.natural_person"] and f.actual == ["20", "28"] and "0.31" in f.message
    others = [k for k, x in r.cells.items() if x.flag == "ocr_uncertain"]
    assert others == ["t3.granted.natural_person"]


def test_misread_cell_in_a_broken_identity_is_null_when_a_reread_fits():
    r = _report()
    c = r.cells["t3.granted.commercial_enterprise"]  # printed 3
    c.value, c.raw, c.alternatives, c.confidence = 8, "8", ("3",), 0.86  # read as 8, a re-read says 3
    check_ocr(r)
    assert c.value is None and c.flag == "ocr_uncertain"
    f = next(f for f in r.findings if f.rule == "ocr_uncertain")
    assert f.actual == ["8", "3"] and "T3-" in f.message
    gipextract.validate.validate(r)
    # the nulled cell is unknown to the checks: its identities are not checked, not taken as proof of '3'
    assert any(f.rule == "not_checked" for f in r.findings)


def test_an_alternative_that_fits_no_identity_changes_nothing():
    r = _report()
    c = r.cells["t3.granted.commercial_enterprise"]
    c.alternatives, c.confidence = ("5",), 0.86  # the reading 3 holds; 5 would break T3
    check_ocr(r)
    assert c.value == 3 and c.flag == "ocr"
    assert not any(f.rule == "ocr_uncertain" for f in r.findings)


def test_a_report_read_from_text_is_left_alone():
    r = gipextract.read_report(FIXTURES / "v2021_city.txt")
    before = {k: (c.value, c.flag) for k, c in r.cells.items()}
    check_ocr(r)
    assert {k: (c.value, c.flag) for k, c in r.cells.items()} == before


# -- the real reports, rendered to images ----------------------------------------------

@pytest.mark.ocr_corpus
@pytest.mark.parametrize("name", ["001_2024_pdf.pdf", "002_2023_pdf.pdf", "003_2024_pdf.pdf"])
def test_real_pdf_rendered_to_images_gives_its_text_layer_cells(corpus, name):
    text_layer = gipextract.read_report(corpus / name)
    pages = scanmaker.render((corpus / name).read_bytes(), dpi=200)
    r = gipextract.read_report(scanmaker.image_pdf(pages), name=f"{name}.scan.pdf")
    exp = {"cells": {k: c.value for k, c in text_layer.cells.items()}}
    right, nulls, wrong = score(r, exp)
    assert wrong == []
    assert right >= 0.99 * len(exp["cells"]), nulls
    right, nulls, wrong = score(r, truth(name))
    assert wrong == [] and right >= 0.99 * len(truth(name)["cells"]), nulls


# -- unruled tables ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def scanned_unruled():
    """v2021_city drawn without ruling (the tables' cells placed by position only), scanned at 200 dpi."""
    pages = scanmaker.scan(pdfmaker.report_pdf(expected("v2021_city"), ruled=False), dpi=200)
    return gipextract.read_report(scanmaker.image_pdf(pages), name="v2021_city.unruled.scan.pdf")


def test_unruled_scan_gives_no_wrong_number(scanned_unruled):
    r = scanned_unruled
    right, nulls, wrong = score(r, expected("v2021_city"))
    assert wrong == []
    assert right >= 145, nulls  # measured 151 of 200 (2 cores): the README OCR section says what it misses
    for key, c in r.cells.items():
        if c.value is None and key in expected("v2021_city")["cells"] and expected("v2021_city")["cells"][key]:
            assert c.flag, key  # a printed number not read is null with a flag saying why
    assert (r.agency, r.year, r.template) == ("示例市生态环境局", 2024, "V2021")


def test_unruled_scan_cells_are_flagged_ocr_with_confidence(scanned_unruled):
    r = scanned_unruled
    read = [c for c in r.cells.values() if c.value is not None]
    assert read and all(c.flag == "ocr" and c.confidence is not None and 0 < c.confidence <= 1 for c in read)
    assert r.cells["t3.granted.natural_person"].value == 20
