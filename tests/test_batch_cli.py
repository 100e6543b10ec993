"""`gipextract batch` on the command line: exit codes, messages, refusal, corpus."""

from __future__ import annotations

import os

from click.testing import CliRunner

from gipextract.cli import main

from .batch_helpers import read_csv, synth, write
from .conftest import FIXTURES


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_batch_all_read_exits_0_and_says_what_it_did(tmp_path):
    write(tmp_path / "in" / "a.txt", synth().variant("v2021_city"))
    write(tmp_path / "in" / "news.txt", (FIXTURES / "not_a_report.txt").read_bytes())
    r = run("batch", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--jobs", "1")
    assert r.exit_code == 0, r.output
    assert r.stdout == ""
    assert "2 of 2 inputs: 1 ok, 0 findings, 1 no_tables, 0 failed" in r.stderr
    assert len(read_csv(tmp_path / "out" / "manifest.csv")) == 2


def test_batch_with_a_failed_input_exits_1_naming_it_in_one_line(tmp_path):
    write(tmp_path / "in" / "a.txt", synth().variant("v2021_city"))
    bad = write(tmp_path / "in" / "bad.pdf", bytes(range(256)) * 8)
    r = run("batch", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-j", "2")
    assert r.exit_code == 1
    errors = [line for line in r.stderr.splitlines() if str(bad) in line]
    assert len(errors) == 1 and "Traceback" not in r.stderr
    rows = {os.path.basename(x["path"]): x for x in read_csv(tmp_path / "out" / "manifest.csv")}
    assert rows["bad.pdf"]["status"] == "failed" and rows["a.txt"]["status"] == "ok"


def test_batch_quiet_is_silent(tmp_path):
    write(tmp_path / "in" / "bad.txt", b"")
    r = run("batch", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-q", "-j", "1")
    assert r.exit_code == 1 and r.stderr == ""


def test_batch_refuses_an_outdir_holding_a_batch(tmp_path):
    write(tmp_path / "in" / "a.txt", synth().variant("v2021_city"))
    assert run("batch", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-j", "1").exit_code == 0
    r = run("batch", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-j", "1")
    assert r.exit_code == 2 and "--resume" in r.stderr
    r = run("batch", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-j", "1", "--resume")
    assert r.exit_code == 0 and "1 kept from the previous run" in r.stderr


def test_batch_output_that_is_a_file_exits_2_or_1(tmp_path):
    write(tmp_path / "in" / "a.txt", "x")
    blocker = write(tmp_path / "file", "x")
    r = run("batch", str(tmp_path / "in"), "-o", str(blocker))
    assert r.exit_code in (1, 2) and "Traceback" not in r.stderr


def test_corpus_lists_every_file_and_pre2019_is_no_tables(corpus, tmp_path):
    r = run("batch", str(corpus), "-o", str(tmp_path / "out"), "-q")
    assert r.exit_code in (0, 1)
    rows = read_csv(tmp_path / "out" / "manifest.csv")
    files = sorted(str(p) for p in corpus.rglob("*") if p.is_file() and not p.name.startswith("."))
    assert [x["path"] for x in rows] == files
    by_name = {os.path.basename(x["path"]): x for x in rows}
    for n in range(15, 28):
        if n in (16,):
            continue  # 016 is a 2019 HTML report
        row = next(x for name, x in by_name.items() if name.startswith(f"{n:03d}_"))
        assert (row["status"], row["template"]) == ("no_tables", "PRE2019"), row
    for x in rows:
        assert x["status"] in ("ok", "findings", "failed", "no_tables")
        assert (x["status"] == "failed") == bool(x["error"])
