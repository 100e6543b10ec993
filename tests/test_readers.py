"""Format detection from the content (the file name is only a hint) and the registry."""

import codecs

import pytest

from gipextract.readers import READERS, detect_format

from .test_docx_reader import p, package


def test_readers_are_registered():
    assert {"text", "html", "docx"} <= set(READERS)


@pytest.mark.parametrize("data, name, fmt", [
    (package(p("正文")), "report.docx", "docx"),
    (package(p("正文")), "report.doc", "docx"),                       # a .docx saved as .doc
    (b"<html><body><table></table></body></html>", "report.docx", "html"),
    (b'<html xmlns:o="urn:schemas-microsoft-com:office:office">\r\n<head>', "report.doc", "html"),  # Word HTML
    (b"<!-- saved from url=(0014)about:internet -->\n<HTML><HEAD>", "report.doc", "html"),
    (b"\xef\xbb\xbf<div class=TRS_Editor><p>\xe4\xb8\x80</p></div>", "page", "html"),   # a CMS fragment
    (codecs.BOM_UTF16_LE + "<html><body>报告</body></html>".encode("utf-16-le"), "report.doc", "html"),
    (b'MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary="x"\r\n', "report.doc", "html"),  # MHTML
    ("\t规章\n\t1\n".encode(), "report.html", "text"),
    ("一、总体情况\n本机关<重要>工作。\n".encode(), "report.txt", "text"),
])
def test_format_is_detected_from_the_content(data, name, fmt):
    assert detect_format(data, name) == fmt


@pytest.mark.parametrize("data, name, fmt", [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "report.doc", "doc"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "report.wps", "wps"),
    (b"{\\rtf1\\ansi\\ansicpg936 report}", "report.doc", "rtf"),
])
def test_legacy_formats_are_detected_for_conversion(data, name, fmt):
    """Converted by LibreOffice before reading (tests/test_legacy.py)."""
    assert detect_format(data, name) == fmt


# -- bad input through the command line: one line naming the file, exit 1, no output ---------

def _bad_inputs():
    from .test_docx_reader import BILLION_LAUGHS, _zip

    good = package(p("正文"))
    return {
        "truncated.docx": (good[: len(good) // 2], "corrupt or truncated"),
        "entities.docx": (package(document=BILLION_LAUGHS), "declares a DTD"),
        "workbook.docx": (package(content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                                               ".main+xml", part="xl/workbook.xml", document="<w/>"), "Excel workbook"),
        "random.zip": (_zip({"a.txt": b"x"}), "a zip archive, not a Word document"),
        "legacy.doc": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "damaged or truncated OLE2"),
        "undecodable.html": (b"<html><body><p>" + bytes(range(0x80, 0x100)) * 8 + b"</p></body></html>",
                             "cannot decode"),
    }


@pytest.mark.parametrize("name", sorted(_bad_inputs()))
def test_bad_input_exits_1_with_one_line_naming_the_file(tmp_path, name):
    from click.testing import CliRunner

    from gipextract.cli import main

    data, reason = _bad_inputs()[name]
    path = tmp_path / name
    path.write_bytes(data)
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["extract", str(path), "-o", str(out)])
    assert r.exit_code == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and reason in lines[0], r.stderr
    assert "Traceback" not in r.stderr and not out.exists()


def test_a_page_without_tables_is_read_and_says_table_absent(tmp_path):
    from click.testing import CliRunner

    from gipextract.cli import main

    path = tmp_path / "news.html"
    path.write_text("<html><body><p>示例市召开2024年政务公开工作会议。</p></body></html>", encoding="utf-8")
    r = CliRunner().invoke(main, ["extract", str(path)])
    assert r.exit_code == 0
    assert r.stderr.count(f"{path}: table_absent") == 3
