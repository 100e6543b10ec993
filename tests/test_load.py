"""Loading inputs: bounded reads, no special files, a size limit per format, and
binary data told apart from every format whatever its name."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

import gipextract
from gipextract import pipeline
from gipextract.cli import main
from gipextract.errors import ReadError
from gipextract.readers import READERS, detect_format
from gipextract.readers.docx import MAX_UNCOMPRESSED
from gipextract.readers.pdf import MAX_BYTES

from .conftest import FIXTURES

SAMPLE = FIXTURES / "v2021_city.txt"


class Endless:
    """A binary stream of zeros that never ends, counting what was read from it."""

    def __init__(self):
        self.read_bytes = 0

    def read(self, n=-1):
        assert n is not None and n >= 0, "an unbounded read"
        self.read_bytes += n
        return b"\0" * n


def test_limits_follow_the_readers_own():
    assert set(pipeline.FORMAT_LIMITS) == set(READERS)
    assert pipeline.FORMAT_LIMITS["pdf"] == MAX_BYTES and pipeline.FORMAT_LIMITS["docx"] == MAX_UNCOMPRESSED
    assert pipeline.MAX_INPUT_BYTES == max(pipeline.FORMAT_LIMITS.values())
    assert pipeline.FORMAT_LIMITS["text"] == pipeline.FORMAT_LIMITS["markdown"] == 2 * 2**20


def test_a_stream_is_read_no_further_than_the_limit(monkeypatch):
    monkeypatch.setattr(pipeline, "MAX_INPUT_BYTES", 5000)
    stream = Endless()
    with pytest.raises(ReadError, match=r"^<stdin>: larger than the 0.00476837 MiB limit for any input"):
        pipeline.load(stream, "<stdin>")
    assert stream.read_bytes == 5001


def test_bytes_and_files_over_the_limit_are_refused(monkeypatch, tmp_path):
    monkeypatch.setattr(pipeline, "MAX_INPUT_BYTES", 1000)
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * 1001)
    with pytest.raises(ReadError, match=rf"^{big}: 0.0 MiB, larger than the .* limit for any input; not a report"):
        pipeline.load(big)
    with pytest.raises(ReadError, match=r"^<bytes>: .*limit for any input"):
        pipeline.load(b"x" * 1001)
    assert pipeline.load(b"x" * 1000) == (b"x" * 1000, "<bytes>")


@pytest.mark.parametrize("fmt", sorted(READERS))
def test_each_format_has_its_limit(monkeypatch, fmt):
    monkeypatch.setitem(pipeline.FORMAT_LIMITS, fmt, 100)
    with pytest.raises(ReadError, match=rf"^big: 0.0 MiB, larger than the 9.53674e-05 MiB limit for a {fmt} report"):
        gipextract.read_document_from(b"x" * 101, fmt, name="big")


def test_a_text_report_over_its_limit_is_refused_from_stdin_in_one_line():
    data = SAMPLE.read_bytes()
    r = CliRunner().invoke(main, ["extract", "-"], input=data * (2 * 2**20 // len(data) + 1))
    assert r.exit_code == 1
    assert r.stderr == "gipextract: error: <stdin>: 2.0 MiB, larger than the 2 MiB limit for a text report; not a report\n"


def test_an_input_larger_than_the_text_limits_is_detected_from_its_first_bytes():
    """3 MiB starting like a PDF is a PDF (its reader says what is wrong), not text over its limit."""
    with pytest.raises(ReadError, match=r"^big\.pdf: not a readable PDF \(corrupt or truncated"):
        gipextract.read_document_from(b"%PDF-1.4\n" + b"0" * (3 * 2**20), name="big.pdf")


@pytest.mark.parametrize("path", ["/dev/zero", "/dev/null"])
def test_a_device_is_refused_without_reading(path):
    if not os.path.exists(path):
        pytest.skip(f"no {path}")
    with pytest.raises(ReadError, match=rf"^{path}: is not a regular file \(a device, FIFO or socket\)"):
        pipeline.load(path)


def test_a_fifo_is_refused_without_opening_it(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    # in a child process, so that a regression (opening the FIFO) blocks the child, not the suite
    code = f"from gipextract.cli import main; main(['extract', {str(fifo)!r}])"
    try:
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("reading a FIFO blocked")
    assert r.returncode == 1
    assert r.stderr == f"gipextract: error: {fifo}: is not a regular file (a device, FIFO or socket); give a report " \
                       "file, or '-' to read standard input\n"


@pytest.mark.parametrize("name, hint", [
    ("report.pdf", " (named .pdf, but it does not start with %PDF-: damaged, or not a PDF)"),
    ("report.docx", " (named .docx, but it does not start with a zip header: damaged, or not a Word document)"),
    ("report.txt", ""), ("report.html", ""), ("report", ""),
])
def test_binary_data_is_not_any_report_whatever_its_name(name, hint):
    data = bytes(range(256)) * 8
    with pytest.raises(ReadError) as e:
        detect_format(data, name)
    assert str(e.value) == f"{name}: binary data that is not a PDF, DOCX or HTML report{hint}"


@pytest.mark.parametrize("command", ["extract", "validate", "inspect"])
def test_a_file_without_read_permission_is_the_loaders_one_line(tmp_path, monkeypatch, command):
    path = tmp_path / "report.txt"
    path.write_bytes(SAMPLE.read_bytes())
    path.chmod(0)
    if os.access(path, os.R_OK):  # root reads anything: make it look as it does to a user
        monkeypatch.setattr(os, "access", lambda p, mode, **k: os.fspath(p) != str(path))

        def unreadable(p, *a, **k):
            raise PermissionError(13, "Permission denied", os.fspath(p))

        monkeypatch.setattr(pipeline, "open", unreadable, raising=False)
    r = CliRunner().invoke(main, [command, str(path)])
    assert r.exit_code == 1
    assert r.stderr == f"gipextract: error: {path}: permission denied\n"


def test_no_report_argument_is_checked_by_click():
    """Every REPORT argument is left to the loader (one line, exit 1), not to click (usage, exit 2)."""
    import click

    for name, command in main.commands.items():
        for param in command.params:
            if isinstance(param, click.Argument) and isinstance(param.type, click.Path):
                assert not param.type.readable and not param.type.exists, (name, param.name)


def test_a_zip_is_told_what_to_do_with_it():
    from .test_docx_reader import _zip

    with pytest.raises(ReadError) as e:
        gipextract.read_document_from(_zip({"report.html": b"<html></html>", "readme.txt": b"hello"}), name="bundle.zip")
    assert str(e.value) == ("bundle.zip: a zip archive, not a Word document (.docx) or any report format gipextract "
                            "reads; if the report is inside it, unpack it and give the report file")
    with pytest.raises(ReadError, match=r"an OpenDocument file \(\.odt/\.ods\), not a Word document \(\.docx\); "
                                        r"convert it to \.docx first"):
        gipextract.read_document_from(_zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
                                            "content.xml": b"<x/>"}), name="r.ods")


def test_a_zip_holding_a_pdf_is_a_zip():
    import io
    import zipfile

    from gipextract.readers import detect_format
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("a.pdf", b"%PDF-1.4\n%fake\n")
    assert detect_format(buf.getvalue(), "archive.zip") == "docx"  # the DOCX reader then names it a plain zip


def test_an_mhtml_page_with_large_images_is_read_but_large_markup_is_not(tmp_path):
    from gipextract.readers.html import MAX_HTML_BYTES

    from . import render
    from .conftest import FIXTURES
    doc = gipextract.read_document_from(FIXTURES / "v2021_city.txt")
    big = render.to_mhtml(doc, image_bytes=MAX_HTML_BYTES + 2**20)  # the images count against no limit
    assert len(big) > MAX_HTML_BYTES
    assert gipextract.read_report(big, name="report.mht").cells["t3.new_received.total"].value == 41
    markup = b"<html><body>" + b"<p>x</p>" * (MAX_HTML_BYTES // 8) + b"</body></html>"
    with pytest.raises(gipextract.ReadError, match="MiB"):
        gipextract.read_report(markup, name="huge.html")


def test_a_reader_failing_with_a_long_many_line_message_is_one_bounded_line(monkeypatch):
    """A library failing inside a reader (ONNX Runtime puts a whole traceback in its message) gives one line."""
    from gipextract import readers

    def boom(data, source):
        raise RuntimeError("Traceback (most recent call last):\n  File \"x.py\", line 1\n" + "detail " * 200)

    monkeypatch.setitem(readers.READERS, "text", boom)
    with pytest.raises(ReadError) as e:
        gipextract.read_document_from(b"hello", name="r.txt")
    message = str(e.value)
    assert "\n" not in message and len(message) < 400
    assert message.startswith("r.txt: the text reader failed: RuntimeError: Traceback (most recent call last): File")
