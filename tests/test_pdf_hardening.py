"""The PDF reader's bounds and damage handling (gipextract/readers/pdf/):
hostile pages cost that page only, with a note, within 20 s and 1 GB; text set
mirrored or rotated never gives a reversed number.  The PDFs are hand-written
(tests/pdfmaker.py ``raw_pdf``); the heavy ones are read in a subprocess that
reports its own peak memory."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import pypdfium2.raw as pdfium_raw
import pytest

import gipextract
from gipextract.document import Source, TableBlock
from gipextract.errors import ReadError
from gipextract.readers import pdf as pdf_reader
from gipextract.readers.pdf import PdfSettings, open_pdf, pages_needing_ocr, read_pdf, render_page_images

from . import pdfmaker

ROOT = Path(__file__).resolve().parent.parent
GOOD = pdfmaker.text_content(("Total 41", (1, 0, 0, 1, 72, 700)))


def doc(data: bytes, **settings):
    return read_pdf(data, Source("hostile.pdf", "pdf", ""), PdfSettings(**settings) if settings else None)


def texts(d) -> list[str]:
    """The text of each block (a table block's cells joined by spaces)."""
    return [" ".join(c.text for row in b.rows for c in row) if isinstance(b, TableBlock) else b.text
            for b in d.blocks]


def run_bounded(build: str) -> dict:
    """Build a PDF with ``build`` (Python defining ``data``) and read it in a
    subprocess; its seconds, peak RSS (MB), notes and incompleteness."""
    code = textwrap.dedent("""
        import json, resource, sys, time, zlib
        from tests import pdfmaker
        from gipextract.document import Source
        from gipextract.readers.pdf import read_pdf
        """) + textwrap.dedent(build) + textwrap.dedent("""
        t0 = time.perf_counter()
        d = read_pdf(data, Source("hostile.pdf", "pdf", ""))
        seconds = time.perf_counter() - t0
        # VmHWM, not ru_maxrss: Linux carries a parent's peak into ru_maxrss across fork and exec
        rss = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")) / 1024
        print(json.dumps({"seconds": seconds, "rss_mb": rss, "notes": d.notes, "incomplete": d.incomplete,
                          "texts": [p.text for p in d.paragraphs]}))
        """)
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_three_million_characters_in_a_few_kb_skip_their_page_only():
    got = run_bounded("""
        run = b"(" + b"1" * 30 + b") Tj "
        data = pdfmaker.raw_pdf(b"BT /F1 1 Tf 10 10 Td " + run * 100_000 + b"ET", pdfmaker.GOOD_PAGE)
        assert len(data) < 20_000
        """)
    assert got["seconds"] < 20 and got["rss_mb"] < 1024
    assert got["incomplete"] and got["notes"] == ["Page 1 has more than 200,000 characters and was skipped."]
    assert got["texts"] == ["Total 41"]


def test_a_form_drawn_many_times_counts_each_time():
    got = run_bounded("""
        form = b"BT /F1 1 Tf 10 10 Td " + (b"(" + b"2" * 30 + b") Tj ") * 100 + b"ET"
        data = pdfmaker.raw_pdf(b"/Fm1 Do " * 1000, pdfmaker.GOOD_PAGE, form=form)
        """)
    assert got["seconds"] < 20 and got["rss_mb"] < 1024
    assert got["incomplete"] and got["notes"] == ["Page 1 has more than 200,000 characters and was skipped."]
    assert got["texts"] == ["Total 41"]


def test_a_content_stream_inflating_to_4_gib_skips_its_page_only():
    got = run_bounded("""
        bomb = zlib.compress(pdfmaker.zeros_deflated(4096))
        data = pdfmaker.raw_pdf((bomb, [b"FlateDecode", b"FlateDecode"]), pdfmaker.GOOD_PAGE)
        assert len(data) < 100_000
        """)
    assert got["seconds"] < 20 and got["rss_mb"] < 1024
    assert got["incomplete"] and got["notes"] == [
        "Page 1 has content streams that inflate to more than 8,388,608 bytes and was skipped."]
    assert got["texts"] == ["Total 41"]


def test_content_bound_is_a_setting():
    d = doc(pdfmaker.raw_pdf(b"% " + b"x" * 5000 + b"\n" + GOOD, GOOD), max_content_bytes=4096)
    assert d.incomplete and d.notes == ["Page 1 has content streams that inflate to more than 4,096 bytes and was "
                                        "skipped."]
    assert texts(d) == ["Total 41"]


def test_pdfium_character_count_is_checked_before_boxes_are_made():
    data = pdfmaker.raw_pdf(GOOD, GOOD)
    d = doc(data, max_chars_per_page=5)
    assert d.notes == ["Page 1–2 has more than 5 characters and was skipped."]


@pytest.mark.parametrize("matrix", [(-1, 0, 0, 1, 300, 600), (1, 0, 0, -1, 100, 600), (0, 1, -1, 0, 300, 600),
                                    (-1, 0, 0, -1, 300, 600)], ids=["mirrored", "flipped", "rotated", "upside-down"])
def test_text_not_set_upright_is_never_read_backwards(matrix):
    """pdfminer read ``1234.56`` set with a mirrored matrix as ``65.4321``."""
    data = pdfmaker.raw_pdf(pdfmaker.text_content(("Total 1234.56", matrix), ("Other 7", (1, 0, 0, 1, 72, 700))))
    d = doc(data)
    got = " ".join(texts(d))
    assert "65.4321" not in got and "1234.56" not in got and "Other 7" in got
    assert d.incomplete and len(d.notes) == 1 and "mirrored or rotated" in d.notes[0] and "Page 1" in d.notes[0]


def test_a_page_whose_text_is_all_mirrored_is_not_said_to_need_ocr():
    d = doc(pdfmaker.raw_pdf(b"-1 0 0 1 595 0 cm " + pdfmaker.text_content(("Total 1234.56", (1, 0, 0, 1, 72, 700)))))
    assert d.blocks == [] and d.incomplete
    assert d.notes == ["Page 1 has text set mirrored or rotated (12 characters), left unread: its reading order is "
                       "not certain."]


def test_italic_slant_is_upright():
    d = doc(pdfmaker.raw_pdf(pdfmaker.text_content(("Total 1234.56", (1, 0, 0.3, 1, 72, 700)))))
    assert " ".join(texts(d)) == "Total 1234.56" and not d.notes


def test_a_non_finite_coordinate_costs_its_page(monkeypatch):
    real = pdfium_raw.FPDFText_GetLooseCharBox
    pages = [0]

    def nan_on_page_two(textpage, i, rect):
        ok = real(textpage, i, rect)
        pages[0] += i == 0  # each page's characters are read in order, from 0
        if pages[0] == 2:
            rect._obj.left = math.nan
        return ok

    monkeypatch.setattr(pdfium_raw, "FPDFText_GetLooseCharBox", nan_on_page_two)
    d = doc(pdfmaker.raw_pdf(GOOD, GOOD, GOOD))
    assert d.incomplete and d.notes == ["Page 2 has a character at a position that is not a finite number and was "
                                        "skipped."]
    assert " ".join(texts(d)) == "Total 41 Total 41"


def test_an_exception_on_one_page_costs_that_page(monkeypatch):
    real = pdf_reader._read_page

    def broken_on_page_two(page, number, settings):
        if number == 2:
            raise RuntimeError("damaged")
        return real(page, number, settings)

    monkeypatch.setattr(pdf_reader, "_read_page", broken_on_page_two)
    d = doc(pdfmaker.raw_pdf(GOOD, GOOD, GOOD))
    assert d.incomplete and d.notes == ["Page 2 could not be parsed (a damaged content stream) and was skipped."]
    assert " ".join(texts(d)) == "Total 41 Total 41"
    r = gipextract.read_report(pdfmaker.raw_pdf(GOOD, GOOD), name="x.pdf")
    assert any("Page 2 could not be parsed" in f.message for f in r.findings)


def test_every_page_broken_is_a_read_error(monkeypatch):
    monkeypatch.setattr(pdf_reader, "_read_page", lambda *a: (_ for _ in ()).throw(RuntimeError("damaged")))
    with pytest.raises(ReadError, match="no page could be parsed"):
        doc(pdfmaker.raw_pdf(GOOD))


def test_garbage_content_stream_is_tolerated():
    d = doc(pdfmaker.raw_pdf(b"BT /F1 12 Tf ((((( Tj ] ] >> 1 0 0 Tm ET q q q Q", (b"\x00\x01garbage", [b"FlateDecode"]),
                             GOOD))
    assert texts(d) == ["Total 41"] and d.incomplete


def test_pages_needing_ocr_and_their_images():
    data = pdfmaker.scanned_pdf(2)
    assert pages_needing_ocr(data, Source("s.pdf", "pdf", "")) == [0, 1]
    assert pages_needing_ocr(pdfmaker.raw_pdf(GOOD), Source("t.pdf", "pdf", "")) == []
    pdf = open_pdf(data, Source("s.pdf", "pdf", ""))
    try:
        images = render_page_images(pdf, [1, 0], dpi=72)
        assert [im.size for im in images] == [(595, 842), (595, 842)] and images[0].mode == "RGB"
        big = render_page_images(pdf, [0], dpi=2400, max_pixels=1_000_000)[0]
        assert big.size[0] * big.size[1] <= 1_000_000 and abs(big.size[0] / big.size[1] - 595 / 842) < 0.01
        with pytest.raises(IndexError):
            render_page_images(pdf, [2], dpi=72)
    finally:
        pdf.close()


def test_zeros_deflated_is_what_it_says():
    assert zlib.decompress(pdfmaker.zeros_deflated(2)) == bytes(2 << 20)


def test_inflation_is_measured_to_the_end_and_stopped_past_the_bound():
    from gipextract.readers.pdf import streams

    assert streams._inflate(pdfmaker.zeros_deflated(3), 5 << 20) == bytes(3 << 20)
    assert streams._inflate(zlib.compress(b"abc")[2:], 100) == b"abc"  # raw deflate, no zlib header
    with pytest.raises(streams._Over):
        streams._inflate(pdfmaker.zeros_deflated(7), 5 << 20)


def test_ruling_too_dense_to_grid_is_read_as_lines_with_a_note():
    """pdfplumber's cell search on a 100 × 100 grid takes seconds: the page's
    text is read without its ruling instead."""
    import time

    grid = b"".join(b"50 %g m 500 %g l S " % (90 + 4.5 * i, 90 + 4.5 * i) for i in range(100))
    grid += b"".join(b"%g 90 m %g 540 l S " % (50 + 4.5 * i, 50 + 4.5 * i) for i in range(100))
    t0 = time.perf_counter()
    d = doc(pdfmaker.raw_pdf(grid + GOOD))
    assert time.perf_counter() - t0 < 10
    assert texts(d) == ["Total 41"] and not d.incomplete
    assert d.notes == ["Page 1 has ruling of more than 4,000 line crossings, too dense to find its table cells: its "
                       "text was read as lines, without the ruling."]


def test_vertical_label_search_is_bounded():
    from gipextract.readers.pdf import lines
    from gipextract.readers.pdf.geometry import _Word

    many = [[_Word("é", 10.0 + 30 * k, 20.0 + 30 * k, 12.0 * r, 12.0 * r + 10, 10.0, []) for k in range(50)]
            for r in range(50)]
    assert lines.vertical_stacks(many) == []  # 2,500 candidates: not a report page
    assert len(lines.vertical_stacks(many[:30])) == 50


def test_inline_image_bytes_are_not_counted_as_characters():
    from gipextract.readers.pdf import streams

    content = b"BT (abc) Tj ET q BI /W 10 /H 10 ID " + b"(x)" * 1000 + b" EI Q BT <0041> Tj ET"
    assert streams._text_bytes(content) == 5
    image_page = b"q BI /W 300 /H 300 /BPC 8 /CS /G ID " + b"(" * 90_000 + b"\n EI Q "
    d = doc(pdfmaker.raw_pdf(image_page, GOOD), max_chars_per_page=1000)
    assert "Page 1 has more than" not in " ".join(d.notes)


def test_pages_pdfminer_cannot_pair_with_pdfium_get_the_worst_cost(monkeypatch):
    from gipextract.readers.pdf import streams

    monkeypatch.setattr(streams, "page_costs", lambda data, count, max_bytes: {0: 10, 1: None})
    d = doc(pdfmaker.raw_pdf(GOOD, GOOD, GOOD))
    assert d.blocks == [] and d.notes == [
        "Page 1–3 has content streams that inflate to more than 8,388,608 bytes and was skipped."]
    monkeypatch.setattr(streams, "page_costs", lambda data, count, max_bytes: {0: 10, 1: 20})
    assert " ".join(texts(doc(pdfmaker.raw_pdf(GOOD, GOOD, GOOD)))) == "Total 41 Total 41 Total 41"
