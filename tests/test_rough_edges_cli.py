"""(Named to run after tests/test_hardening.py, whose peak-memory checks read the process peak.)
Rough edges of the command line a new user met: Ctrl-C, a full standard
output, a review page named .pdf, a bad --organs file, a bad
GIPEXTRACT_SOFFICE.  Each a clear line and the documented exit code."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest
from click.testing import CliRunner

from gipextract.cli import main

from .conftest import FIXTURES

CITY = FIXTURES / "v2021_city.txt"


def _interrupt(*_a, **_k):
    raise KeyboardInterrupt


@pytest.mark.parametrize("command", [["extract"], ["validate"], ["review"], ["inspect"]])
def test_ctrl_c_in_a_command_exits_130_in_one_line(monkeypatch, command):
    import gipextract.pipeline

    for name in ("read_report", "read_document_from", "load"):
        monkeypatch.setattr(gipextract.pipeline, name, _interrupt)
    r = CliRunner().invoke(main, [*command, str(CITY)])
    assert r.exit_code == 130, r.output
    assert "Aborted" not in r.output and r.output.strip().splitlines() == ["gipextract: interrupted"]


def test_ctrl_c_during_a_commands_imports_exits_130(monkeypatch):
    broken = types.ModuleType("gipextract.pipeline")
    broken.__getattr__ = _interrupt  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "gipextract.pipeline", broken)
    r = CliRunner().invoke(main, ["extract", str(CITY)])
    assert r.exit_code == 130 and "Aborted" not in r.output


def test_a_real_sigint_while_reading_stdin_exits_130_quietly():
    proc = subprocess.Popen([sys.executable, "-m", "gipextract", "extract", "-"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(3)  # started and blocked reading standard input
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert len(err.decode().strip().splitlines()) <= 1 and b"Traceback" not in err and b"Aborted" not in err


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("command", [["extract"], ["review"]])
def test_a_full_standard_output_is_one_output_error(command):
    with open("/dev/full", "wb") as full:
        p = subprocess.run([sys.executable, "-m", "gipextract", *command, str(CITY)], stdout=full,
                           stderr=subprocess.PIPE, timeout=120)
    err = p.stderr.decode()
    assert p.returncode == 1
    assert err.strip().splitlines()[-1] == "gipextract: error: <standard output>: cannot write output: " \
                                            "No space left on device"
    assert "internal error" not in err and "Traceback" not in err


@pytest.mark.parametrize("name", ["r.pdf", "r.txt", "r"])
def test_review_refuses_a_page_name_that_is_not_html(tmp_path, name):
    r = CliRunner().invoke(main, ["review", str(CITY), "-o", str(tmp_path / name)])
    assert r.exit_code == 2 and ".html or .htm" in r.output
    assert list(tmp_path.iterdir()) == []


def test_review_writes_an_htm_page(tmp_path):
    r = CliRunner().invoke(main, ["review", str(CITY), "-o", str(tmp_path / "r.HTM")])
    assert r.exit_code == 0 and (tmp_path / "r.HTM").read_bytes().lower().startswith(b"<!doctype html>")


@pytest.mark.parametrize("content, says", [(None, "No such file"), ("a,b\nx,y\n", "header row 'name,organ'"),
                                           ("", "header row 'name,organ'")])
def test_organs_missing_or_without_its_header_is_a_usage_error(tmp_path, content, says):
    organs = tmp_path / "organs.csv"
    if content is not None:
        organs.write_text(content, encoding="utf-8")
    r = CliRunner().invoke(main, ["batch", str(CITY), "-o", str(tmp_path / "out"), "--organs", str(organs),
                                  "-q", "-j", "1"])
    assert r.exit_code == 2 and str(organs) in r.output and says in r.output
    assert not (tmp_path / "out" / "manifest.csv").exists()


def test_a_bad_gipextract_soffice_is_named(tmp_path, monkeypatch):
    doc = tmp_path / "x.doc"
    doc.write_bytes(b"{\\rtf1\\ansi hello}")
    monkeypatch.setenv("GIPEXTRACT_SOFFICE", "/nope/soffice")
    r = CliRunner().invoke(main, ["extract", str(doc)])
    assert r.exit_code == 1
    assert "GIPEXTRACT_SOFFICE=/nope/soffice" in r.output and "not installed" not in r.output
    assert str(Path(doc)) in r.output
