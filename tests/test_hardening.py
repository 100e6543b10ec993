"""Hostile inputs end quickly, in bounded memory, with one line naming the file
(spans bounded by the table's size; MHTML parts bounded before parsing)."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gipextract
from gipextract.document import MAX_GRID_SLOTS, Cell, TableBlock
from gipextract.errors import ReadError
from gipextract.readers.html import MAX_MHTML_PARTS


def _status_mb(field: str) -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field} in /proc/self/status")


def _reset_peak() -> float:
    """Reset this process's peak RSS (VmHWM) to its current RSS and return that
    (MB): the test's own growth is then measured, not what earlier tests in the
    same process (OCR models, a large corpus) already took."""
    with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
        fh.write("5")
    return _status_mb("VmRSS")


def _peak_mb() -> float:
    """Peak RSS (MB) since :func:`_reset_peak`."""
    return _status_mb("VmHWM")


def _reference_columns(block: TableBlock) -> list[list[int]]:
    """The straightforward slot-set expansion (spans clamped as the table does)."""
    n_rows, max_cols = block.span_limits()
    taken: set[tuple[int, int]] = set()
    out = []
    for r, row in enumerate(block.rows):
        c, starts = 0, []
        for cell in row:
            while (r, c) in taken:
                c += 1
            starts.append(c)
            cs = min(max(cell.colspan, 1), max_cols)
            for dr in range(min(max(cell.rowspan, 1), n_rows - r)):
                for dc in range(cs):
                    taken.add((r + dr, c + dc))
            c += cs
        out.append(starts)
    return out


_tables = st.lists(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), max_size=6), min_size=1, max_size=8)


@settings(max_examples=300, deadline=None)
@given(_tables)
def test_columns_agree_with_the_slot_set_expansion(spec):
    block = TableBlock([[Cell("x", rs, cs) for rs, cs in row] for row in spec])
    assert block.columns() == _reference_columns(block)


def _span_page(rows: int, rowspan: int = 65534, colspan: int = 1000) -> bytes:
    cells = f'<td rowspan="{rowspan}" colspan="{colspan}">1</td>' * 4
    body = "".join(f"<tr>{cells}</tr>" for _ in range(rows))
    return f"<html><body><p>三、收到和处理政府信息公开申请情况</p><table>{body}</table></body></html>".encode()


@pytest.mark.parametrize("rows", [100, 400])
def test_huge_html_spans_are_refused_fast_in_one_line(rows):
    base = _reset_peak()
    t0 = time.perf_counter()
    with pytest.raises(ReadError, match=r"^page\.html, table 1: a table whose spans make a grid of .* refused$"):
        gipextract.read_report(_span_page(rows), name="page.html")
    assert time.perf_counter() - t0 < 5 and _peak_mb() - base < 1024


def test_spans_past_a_small_table_are_cut_to_its_size_and_noted():
    doc = gipextract.read_document_from(_span_page(2, rowspan=9, colspan=50), name="p.html")
    block = doc.tables[0]
    assert [[(c.rowspan, c.colspan) for c in row] for row in block.rows] == [[(2, 8)] * 4, [(1, 8)] * 4]
    assert len(block.grid()[0]) == 64  # 32 columns from row 1's cells, pushed right by row 0's cover
    assert "were cut to its size" in doc.notes[0]


def test_the_grid_bound_is_a_read_error_naming_the_table():
    block = TableBlock([[Cell("x", 1, 10**6)] * 3 for _ in range(3)] * 1000, where="table 7")
    with pytest.raises(ReadError, match=f"table 7: .*more than {MAX_GRID_SLOTS:,} slots"):
        block.clamp_spans("f.html")


def _docx_span_attack(span: int) -> bytes:
    import io
    import zipfile

    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    tc = f'<w:tc><w:tcPr><w:gridSpan w:val="{span}"/><w:vMerge w:val="restart"/></w:tcPr><w:p><w:r><w:t>1</w:t></w:r></w:p></w:tc>'
    rows = "".join(f"<w:tr>{tc * 4}</w:tr>" for _ in range(300))
    xml = f'<w:document {w}><w:body><w:tbl>{rows}</w:tbl></w:body></w:document>'
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/'
                   'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        z.writestr("word/document.xml", xml)
    return buf.getvalue()


def test_docx_grid_spans_are_bounded():
    base = _reset_peak()
    t0 = time.perf_counter()
    try:
        gipextract.read_report(_docx_span_attack(1000), name="a.docx")
    except ReadError as e:
        assert str(e).startswith("a.docx")
    assert time.perf_counter() - t0 < 10 and _peak_mb() - base < 1024


# -- MHTML: parts bounded before parsing ------------------------------------------------------------

_HEAD = b'MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary="B"\r\n\r\n'
_EMPTY = b"--B\r\nContent-Type: application/octet-stream\r\n\r\n\r\n"
_PAGE = b'--B\r\nContent-Type: text/html; charset="utf-8"\r\n\r\n<html><body><p>\xe6\x8a\xa5\xe5\x91\x8a</p></body></html>\r\n'


def test_mhtml_with_a_flood_of_parts_is_refused_before_parsing():
    data = _HEAD + _EMPTY * (25 * 2**20 // len(_EMPTY)) + _PAGE + b"--B--\r\n"
    base = _reset_peak()
    t0 = time.perf_counter()
    with pytest.raises(ReadError, match=rf"^r\.mht: an MHTML file with more than {MAX_MHTML_PARTS} parts"):
        gipextract.read_report(data, name="r.mht")
    assert time.perf_counter() - t0 < 5 and _peak_mb() - base < 1024


def test_mhtml_page_after_a_few_parts_and_before_a_huge_one_is_read():
    data = _HEAD + _EMPTY * 3 + _PAGE + b"--B\r\nContent-Type: image/png\r\n\r\n" + b"\0" * (40 * 2**20) + b"\r\n--B--\r\n"
    doc = gipextract.read_document_from(data, name="r.mht")
    assert [b.text for b in doc.paragraphs] == ["报告"]


def test_mhtml_page_part_too_large_is_refused():
    data = _HEAD + _PAGE[:-2] + b"<p>x</p>" * (2 * 2**20) + b"\r\n--B--\r\n"
    with pytest.raises(ReadError, match=r"^r\.mht: the page part of the MHTML file is"):
        gipextract.read_report(data, name="r.mht")


# -- text: a stray byte costs that byte, with a note; not-text is refused at the right place -------

def test_a_stray_byte_in_utf8_text_costs_only_that_byte():
    from tests.conftest import FIXTURES, load_expected

    data = (FIXTURES / "v2021_city.txt").read_bytes()
    lines = data.split(b"\n")
    lines[5] = lines[5][:12] + b"\xff" + lines[5][12:]  # inside a paragraph (line 6)
    offset = sum(len(line) + 1 for line in lines[:5]) + 12
    report = gipextract.read_report(b"\n".join(lines), name="t.txt")
    expected = load_expected(FIXTURES / "expected" / "v2021_city.json")["cells"]
    assert {k: c.value for k, c in report.cells.items()} == expected
    assert report.source.encoding == "utf-8"
    notes = [f.message for f in report.findings if f.rule == "reader_note"]
    assert notes == [f"1 byte(s) invalid in utf-8 replaced by U+FFFD, the first at line 6 (byte offset {offset}); "
                     f"a cell holding one is unreadable."]


def test_a_stray_byte_before_digits_in_gbk_text_never_gives_another_number():
    from tests.conftest import FIXTURES, load_expected

    data = (FIXTURES / "v2019_county_gbk.txt").read_bytes()
    expected = load_expected(FIXTURES / "expected" / "v2019_county_gbk.json")["cells"]
    key = "t3.new_received.total"
    value = str(expected[key]).encode()
    lines = data.split(b"\n")
    i = next(i for i, line in enumerate(lines) if line.strip() == value and i > 40)
    lines[i] = lines[i].replace(value, b"\xff" + value)  # \xff1 is not GB18030: GB18030 would swallow the digit
    report = gipextract.read_report(b"\n".join(lines), name="g.txt")
    assert report.source.encoding == "gb18030"
    got = {k: c.value for k, c in report.cells.items()}
    assert got[key] is None and report.cells[key].flag == "unreadable"
    assert {k: v for k, v in got.items() if k != key} == {k: v for k, v in expected.items() if k != key}


def test_not_text_is_refused_naming_the_first_bad_byte():
    data = "报告第一行\n第二行".encode() + bytes(range(0x80, 0x100)) * 8
    with pytest.raises(gipextract.DecodeError,
                       match=r"^x\.txt: cannot decode as UTF-8 or GB18030/GBK: more than 1 invalid bytes "
                             r"\(as UTF-8 the first is at line 2 \(byte offset 25\)\)$"):
        gipextract.read_report(data, name="x.txt")


#: Declared charsets that are no charset: unknown, junk (a NUL: tests/fuzz/regressions/html), codecs that are
#: not text encodings, Python's escape codecs (they would make digits out of ``\x31``), UTF-7, too long.
BAD_CHARSETS = ["ut", "utf-8-", "x" * 300, "gb2\x0012", "utf\x00-8", "zlib", "base64", "hex", "rot13",
                "unicode_escape", "raw-unicode-escape", "utf-7", "idna", "punycode"]


@pytest.mark.parametrize("charset", [c for c in BAD_CHARSETS if "\x00" not in c])  # a NUL in a page: binary
def test_an_unknown_or_broken_declared_charset_falls_back_to_detection(charset):
    page = f'<html><head><meta charset="{charset}"></head><body><p>报告\xff \\x31\\u0032</p></body></html>'
    data = page.encode("utf-8").replace("\xff".encode(), b"\xff")
    doc = gipextract.read_document_from(data, "html", name="c.html")
    assert [p.text for p in doc.paragraphs] == ["报告\ufffd \\x31\\u0032"]


@pytest.mark.parametrize("charset", BAD_CHARSETS)
def test_a_mime_part_declaring_no_charset_is_read_as_if_undeclared(charset):
    html = "<html><body><p>报告 \\x31</p></body></html>".encode()
    data = (b'MIME-Version: 1.0\nContent-Type: multipart/related; boundary="b"\n\n--b\n'
            b'Content-Type: text/html; charset="' + charset.encode("latin-1") + b'"\n'
            b"Content-Transfer-Encoding: 8bit\n\n" + html + b"\n--b--\n")
    doc = gipextract.read_document_from(data, "html", name="c.mht")
    assert [p.text for p in doc.paragraphs] == ["报告 \\x31"]


def test_a_span_with_thousands_of_digits_is_the_html_limit():
    doc = gipextract.read_document_from(f'<table><tr><td colspan="{"9" * 5000}">a</td><td>b</td></tr></table>'.encode(),
                                        "html", name="s.html")
    assert [(c.text, c.colspan) for c in doc.tables[0].rows[0]] == [("a", 2), ("b", 1)]


def test_the_text_caches_hold_a_bounded_amount_of_long_text():
    """A process reading thousands of reports (a batch worker, the fuzz runner) must not grow: the caches of
    text functions are emptied once the long texts they took in (a crawler dump's one-line report, a long digit
    run) add up to LONG_TEXT_BUDGET characters (before, 16,384 of them could stay: hundreds of MB)."""
    import gipextract.export.review  # noqa: F401 — these register their caches too
    import gipextract.reconstruct.segment  # noqa: F401
    from gipextract.normalize import LONG_TEXT_BUDGET, TEXT_CACHES
    from tests.conftest import FIXTURES

    assert len(TEXT_CACHES) == 7
    dump = ((FIXTURES / "v2021_city.txt").read_text(encoding="utf-8").replace("\n", " ") + " ") * 3
    n = 3 * LONG_TEXT_BUDGET // (2 * len(dump))  # one and a half budgets of distinct long texts
    for cached in TEXT_CACHES:
        for i in range(n):
            cached(f"{dump}{i}")
        assert cached.cache_info().currsize <= LONG_TEXT_BUDGET // len(dump) + 1, cached
        assert cached("1,234") == cached("1,234") and cached.cache_info().hits  # short texts still remembered
    for i in range(5):  # and through the pipeline
        gipextract.read_report(f"{dump}{i}".encode(), "text", name=f"dump{i}.txt")
