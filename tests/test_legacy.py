"""Legacy Word (.doc, .wps), RTF and OpenDocument inputs, converted to DOCX by
headless LibreOffice (gipextract/convert.py) and read by the DOCX reader.

The golden cases: every fixture rendered as DOCX (tests/render.py) is saved by
LibreOffice as ``.doc``, ``.wps`` (the ``.doc`` under that name), ``.rtf`` and
``.odt`` (fixtures/render_legacy.py) and must read back to the text reader's
report.  Bad input (a damaged, password-protected or non-Word OLE2 file, a
LibreOffice that hangs or crashes, no LibreOffice at all) gives one line
naming the file, within the time limit, leaving no file and no process.

Tests that need LibreOffice skip when ``soffice`` is absent locally, never in
CI (``CI`` set).  The hang/crash/missing cases use a stand-in ``soffice``
script and run everywhere.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import olefile
import pandas as pd
import pytest
from click.testing import CliRunner

import gipextract
from gipextract import convert
from gipextract.batch.worker import Task, convert_many
from gipextract.cli import main
from gipextract.errors import ReadError, UnsupportedFormatError
from gipextract.readers import detect_format

from . import render
from .batch_helpers import read_csv
from .conftest import FIXTURES
from .test_readers_golden import CASES, assert_reads_like_text_version, text_version

needs_soffice = pytest.mark.skipif(not shutil.which("soffice") and not os.environ.get("CI"),
                                   reason="LibreOffice (soffice) is not installed")

KINDS = ("doc", "wps", "rtf", "odt")


def _render_legacy():
    spec = importlib.util.spec_from_file_location("render_legacy", FIXTURES / "render_legacy.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _ours() -> list[str]:
    """Command lines of LibreOffice processes started by this process's converters."""
    r = subprocess.run(["pgrep", "-af", f"gipextract-lo-profile-{os.getpid()}-"], capture_output=True, text=True)
    return [ln for ln in r.stdout.splitlines() if "pgrep" not in ln]


@pytest.fixture(scope="session")
def legacy_dir(tmp_path_factory) -> Path:
    """Every fixture as .doc/.wps/.rtf/.odt, rendered once per session, and
    converted back in one LibreOffice run (Converter.prepare) for the reads."""
    out = tmp_path_factory.mktemp("legacy")
    docx = []
    for name in CASES:
        _, doc, _ = text_version(name)
        path = out / f"{name}.docx"
        path.write_bytes(render.to_docx(doc))
        docx.append(path)
    files = _render_legacy().render(docx, out)
    items = []
    for kind in KINDS:
        for p in files[kind]:
            data = p.read_bytes()
            items.append((data, kind, str(p), hashlib.sha256(data).hexdigest()))
    convert.converter().prepare(items)
    yield out
    convert.converter().discard()


@needs_soffice
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", CASES)
def test_every_legacy_rendering_gives_the_text_readers_report(legacy_dir, name, kind):
    base, doc, expected = text_version(name)
    path = legacy_dir / f"{name}.{kind}"
    assert detect_format(path.read_bytes(), path.name) == kind
    report = gipextract.read_report(path)
    assert (report.source.format, report.source.converted_by) == (kind, "libreoffice")
    assert_reads_like_text_version(report, base, expected, name)


def _spans(document, colspan: bool = True):
    return [[[(c.text, c.rowspan, c.colspan if colspan else None) for c in row] for row in t.rows]
            for t in document.tables]


@needs_soffice
@pytest.mark.parametrize("kind", KINDS)
def test_libreoffice_keeps_the_merged_grid_of_the_tables(legacy_dir, kind):
    """What LibreOffice changes in the tables: every cell's text and rowspan
    come back as in the DOCX it was made from (and the ODT's colspans too).
    Through Word 97 and RTF, whose rows carry their own cell edges, it may
    rebuild the grid with an extra narrow column: in 表四 the 行政复议 总计 cell
    then spans 2 grid columns (and 行政诉讼 11) instead of 1 (10); the cells,
    and so the report, are the same."""
    from_docx = gipextract.read_document_from(legacy_dir / "v2021_city.docx")
    from_legacy = gipextract.read_document_from(legacy_dir / f"v2021_city.{kind}")
    assert _spans(from_legacy, colspan=False) == _spans(from_docx, colspan=False)
    if kind == "odt":
        assert _spans(from_legacy) == _spans(from_docx)
    assert len(from_legacy.paragraphs) == len(from_docx.paragraphs)


@needs_soffice
def test_the_json_export_says_the_input_was_converted(legacy_dir):
    r = CliRunner().invoke(main, ["extract", str(legacy_dir / "v2021_city.rtf")])
    assert r.exit_code == 0, r.stderr
    assert '"format": "rtf"' in r.stdout and '"converted_by": "libreoffice"' in r.stdout


@needs_soffice
def test_a_conversion_leaves_no_file_and_no_process(legacy_dir, tmp_path):
    """A separate process converts one file alone (no prepared result) with
    its temporary directory in ``tmp``: once it exits, ``tmp`` is empty and no
    LibreOffice of its runs."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    out = tmp_path / "r.json"
    r = subprocess.run([sys.executable, "-c", "from gipextract.cli import main; main()", "extract", str(legacy_dir / "v2019_county.odt"),
                        "-o", str(out)], env=dict(os.environ, TMPDIR=str(tmp)), capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert '"converted_by": "libreoffice"' in out.read_text(encoding="utf-8")
    assert list(tmp.iterdir()) == []
    assert subprocess.run(["pgrep", "-f", str(tmp)], capture_output=True).stdout == b""


@needs_soffice
def test_converter_close_removes_its_profile_and_leaves_no_process(legacy_dir):
    data = (legacy_dir / "v2021_city.doc").read_bytes()
    with convert.Converter() as c:
        docx = c.to_docx(data, "doc", "v2021_city.doc")
        profile = c._profile
        assert docx.startswith(b"PK") and profile and os.path.isdir(profile)
    assert not os.path.exists(profile)
    assert _ours() == []


# -- bad input ----------------------------------------------------------------------------------

def _doc_with(legacy_dir: Path, tmp_path: Path, fib_flags: int) -> bytes:
    """The rendered .doc with FibBase's flags word ORed with ``fib_flags``."""
    path = tmp_path / "x.doc"
    shutil.copyfile(legacy_dir / "v2021_city.doc", path)
    with olefile.OleFileIO(str(path), write_mode=True) as ole:
        stream = bytearray(ole.openstream("WordDocument").read())
        stream[10:12] = (int.from_bytes(stream[10:12], "little") | fib_flags).to_bytes(2, "little")
        ole.write_stream("WordDocument", bytes(stream))
    return path.read_bytes()


@needs_soffice
def test_a_password_protected_doc_is_refused_in_one_line(legacy_dir, tmp_path):
    data = _doc_with(legacy_dir, tmp_path, 0x0100)  # fEncrypted
    with pytest.raises(ReadError, match=r"^locked\.doc: a password-protected Word document; remove the password"):
        gipextract.read_report(data, name="locked.doc")


@needs_soffice
def test_a_truncated_doc_is_a_read_error_naming_the_file(legacy_dir):
    data = (legacy_dir / "v2021_city.doc").read_bytes()
    with pytest.raises(ReadError, match=r"^cut\.doc: a damaged or truncated"):
        gipextract.read_report(data[: len(data) // 2], name="cut.doc")
    assert _ours() == []


@needs_soffice
@pytest.mark.parametrize("stream, message", [
    ("Workbook", r"an Excel workbook \(\.xls\), not a Word document$"),
    ("EncryptedPackage", r"a password-protected Office document; remove the password first$"),  # an encrypted .docx
])
def test_an_ole2_file_that_is_not_word_is_named(legacy_dir, stream, message):
    """An OLE2 file holding another stream instead of ``WordDocument`` (the
    .doc with its directory entry renamed), as an .xls served as .doc is."""
    data = bytearray((legacy_dir / "v2021_city.doc").read_bytes())
    at = data.index("WordDocument\0".encode("utf-16-le"))
    name = f"{stream}\0".encode("utf-16-le")
    data[at:at + 64] = name.ljust(64, b"\0")
    data[at + 64:at + 66] = len(name).to_bytes(2, "little")  # the entry's name length, in bytes
    assert detect_format(bytes(data), "report.doc") == "doc"  # the container; check_legacy looks inside
    with pytest.raises(ReadError, match=r"^report\.doc: " + message):
        gipextract.read_report(bytes(data), name="report.doc")


def test_an_ole2_header_alone_is_damaged():
    with pytest.raises(ReadError, match=r"^r\.wps: a damaged or truncated OLE2"):
        gipextract.read_report(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, name="r.wps")


def test_an_odf_zip_without_content_is_damaged():
    import io
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        zf.writestr("styles.xml", "<x/>")
    assert detect_format(buf.getvalue(), "r.odt") == "odt"
    with pytest.raises(ReadError, match=r"^r\.odt: a damaged OpenDocument file \(no content\.xml\)"):
        gipextract.read_report(buf.getvalue(), name="r.odt")


RTF = b"{\\rtf1\\ansi\\ansicpg936 report}"


def _fake_soffice(tmp_path: Path, body: str) -> str:
    """A stand-in ``soffice``: a shell script running ``body``."""
    path = tmp_path / "fake-soffice"
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_a_hanging_libreoffice_is_killed_with_its_children_within_the_time_limit(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    fake = _fake_soffice(tmp_path, "sleep 300 & sleep 300")  # a child of its own, like soffice.bin
    start = time.monotonic()
    with convert.Converter(soffice=fake, timeout=1) as c:
        with pytest.raises(ReadError, match=r"^hang\.rtf: an RTF document: LibreOffice took longer than 1 s"):
            c.to_docx(RTF, "rtf", "hang.rtf")
    assert time.monotonic() - start < 15
    assert subprocess.run(["pgrep", "-f", fake], capture_output=True).stdout == b""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fake-soffice"]


def test_a_crashing_libreoffice_is_one_line(tmp_path):
    fake = _fake_soffice(tmp_path, "echo 'soffice.bin: fatal' >&2; kill -SEGV $$")
    with convert.Converter(soffice=fake) as c, pytest.raises(ReadError) as e:
        c.to_docx(RTF, "rtf", "crash.rtf")
    assert str(e.value) == "crash.rtf: an RTF document: LibreOffice crashed (signal 11) converting it: soffice.bin: fatal"


def test_a_libreoffice_that_writes_nothing_is_one_line(tmp_path):
    fake = _fake_soffice(tmp_path, "echo 'Error: source file could not be loaded'")
    with convert.Converter(soffice=fake) as c, pytest.raises(ReadError) as e:
        c.to_docx(RTF, "rtf", "x.rtf")
    assert str(e.value) == ("x.rtf: an RTF document: LibreOffice could not convert it (damaged, or not a document "
                            "it reads): Error: source file could not be loaded")


def test_without_libreoffice_the_error_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setenv("GIPEXTRACT_SOFFICE", "")
    with pytest.raises(UnsupportedFormatError) as e:
        gipextract.read_report(RTF, name="report.doc")
    assert str(e.value) == ("report.doc: an RTF document: reading it needs LibreOffice, which is not installed "
                            "(install it: apt-get install libreoffice-writer-nogui)")
    path = tmp_path / "report.rtf"
    path.write_bytes(RTF)
    r = CliRunner().invoke(main, ["extract", str(path)])
    assert r.exit_code == 1 and r.stderr.count("\n") == 1
    assert str(path) in r.stderr and "apt-get install libreoffice-writer-nogui" in r.stderr


def test_batch_marks_files_failed_without_libreoffice(monkeypatch, tmp_path):
    monkeypatch.setenv("GIPEXTRACT_SOFFICE", "")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.rtf").write_bytes(RTF)
    shutil.copyfile(FIXTURES / "v2021_city.txt", tmp_path / "in" / "b.txt")
    r = CliRunner().invoke(main, ["batch", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-j", "1"])
    assert r.exit_code == 1
    rows = {os.path.basename(x["path"]): x for x in read_csv(tmp_path / "out" / "manifest.csv")}
    assert rows["a.rtf"]["status"] == "failed" and rows["a.rtf"]["format"] == "rtf"
    assert "needs LibreOffice" in rows["a.rtf"]["error"] and "libreoffice-writer-nogui" in rows["a.rtf"]["error"]
    assert rows["b.txt"]["status"] == "ok"


# -- batch ----------------------------------------------------------------------------------------

@needs_soffice
def test_a_chunk_of_legacy_files_is_converted_together_errors_per_file(legacy_dir, tmp_path):
    files = [legacy_dir / f"{n}.{k}" for n, k in (("v2021_city", "doc"), ("v2019_county", "rtf"),
                                                  ("v2021_city_broken", "odt"))]
    bad = tmp_path / "bad.doc"
    bad.write_bytes((legacy_dir / "v2021_city.doc").read_bytes()[:3000])
    convert.converter().discard()
    tasks = [Task(path=str(p), name=p.name) for p in [*files, bad]]
    results = convert_many(tasks)
    assert [(r.path, r.format, r.status) for r in results] == [
        ("v2021_city.doc", "doc", "ok"), ("v2019_county.rtf", "rtf", "ok"),
        ("v2021_city_broken.odt", "odt", "ok"), ("bad.doc", "doc", "failed")]
    assert results[2].identities == "broken"
    assert "damaged or truncated" in results[-1].error
    assert convert.converter()._ready == {} and _ours() == []


@needs_soffice
def test_batch_over_doc_files_with_two_jobs_lists_every_file(legacy_dir, tmp_path):
    src = (legacy_dir / "v2021_city.doc").read_bytes()
    for i in range(4):
        (tmp_path / "in").mkdir(exist_ok=True)
        (tmp_path / "in" / f"r{i}.doc").write_bytes(src)
    r = CliRunner().invoke(main, ["batch", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--jobs", "2"])
    assert r.exit_code == 0, r.stderr
    rows = read_csv(tmp_path / "out" / "manifest.csv")
    assert [(os.path.basename(x["path"]), x["format"], x["status"]) for x in rows] == \
        [(f"r{i}.doc", "doc", "ok") for i in range(4)]
    cells = read_csv(tmp_path / "out" / "cells.csv")
    assert {x["value"] for x in cells if x["key"] == "t3.new_received.total"} == {"41"}


def test_a_batch_time_limit_ends_a_hanging_libreoffice(tmp_path, monkeypatch):
    """The batch's per-file alarm interrupts the conversion: the file is
    ``failed`` with the time-limit error and LibreOffice's process group is gone."""
    fake = _fake_soffice(tmp_path, "sleep 300 & sleep 300")
    monkeypatch.setenv("GIPEXTRACT_SOFFICE", fake)
    path = tmp_path / "slow.rtf"
    path.write_bytes(RTF)
    start = time.monotonic()
    result = convert_many([Task(path=str(path), name="slow.rtf", timeout=1)])[0]
    assert (result.status, result.format) == ("failed", "rtf") and "took longer than 1 s" in result.error
    assert time.monotonic() - start < 15
    assert subprocess.run(["pgrep", "-f", fake], capture_output=True).stdout == b""


@needs_soffice
def test_templates_dot_and_ott_are_read_as_doc_and_odt(legacy_dir, tmp_path):
    base, _, _ = text_version("v2021_city")
    soffice = shutil.which("soffice") or "soffice"
    for filt in ("dot:MS Word 97 Vorlage", "ott:writer8_template"):
        subprocess.run([soffice, f"-env:UserInstallation={(tmp_path / 'p').as_uri()}", "--headless", "--convert-to",
                        filt, "--outdir", str(tmp_path), str(legacy_dir / "v2021_city.docx")],
                       capture_output=True, timeout=300, start_new_session=True)
    for suffix, fmt in ((".dot", "doc"), (".ott", "odt")):
        report = gipextract.read_report(tmp_path / f"v2021_city{suffix}")
        assert (report.source.format, report.source.converted_by) == (fmt, "libreoffice")
        pd.testing.assert_frame_equal(report.tidy().drop(columns="source"), base.tidy().drop(columns="source"))


def test_what_a_killed_process_left_is_removed_by_the_next_converter(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    dead = subprocess.Popen(["true"])
    dead.wait()
    for prefix in ("gipextract-lo-profile-", "gipextract-lo-work-"):
        (tmp_path / f"{prefix}{dead.pid}-abc").mkdir()
    alive = tmp_path / f"gipextract-lo-work-{os.getppid()}-abc"
    alive.mkdir()
    fake = _fake_soffice(tmp_path, "exit 0")
    with convert.Converter(soffice=fake) as c, pytest.raises(ReadError, match="could not convert"):
        c.to_docx(RTF, "rtf", "x.rtf")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["fake-soffice", alive.name])
