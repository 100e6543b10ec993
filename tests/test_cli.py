"""The command line: outputs, exit codes, messages."""

import json

import click
import pytest
from click.testing import CliRunner

from gipextract import __version__
from gipextract.cli import main

from .conftest import FIXTURES, ROOT

SAMPLE = str(FIXTURES / "v2021_city.txt")


def run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input)


def test_version():
    r = run("--version")
    assert r.exit_code == 0 and __version__ in r.output


def _commands(group: click.Group, prefix=()):
    yield prefix
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, prefix + (name,))
        else:
            yield prefix + (name,)


@pytest.mark.parametrize("path", list(_commands(main)), ids=lambda p: " ".join(p) or "gipextract")
def test_every_command_has_help_and_is_documented(path):
    r = run(*path, "-h")
    assert r.exit_code == 0 and "Usage:" in r.output
    if path:
        assert f"gipextract {' '.join(path)}" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_extract_json_to_stdout():
    r = run("extract", SAMPLE)
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["tables"]["t3"]["new_received"]["total"]["value"] == 41
    assert "示例市生态环境局" in r.stdout


def test_extract_csv_to_stdout_with_excel_bom():
    r = run("extract", SAMPLE, "--format", "csv", "--excel")
    assert r.exit_code == 0
    assert r.stdout_bytes.startswith(b"\xef\xbb\xbfkey,table,row_key")


def test_extract_to_directory(tmp_path):
    r = run("extract", SAMPLE, "-o", str(tmp_path / "out"))
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["cells.csv", "findings.csv", "report.json", "t2.csv",
                                                                   "t3.csv", "t4.csv"]
    assert not (tmp_path / "out" / "t3.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_extract_to_directory_excel(tmp_path):
    run("extract", SAMPLE, "-o", str(tmp_path), "--excel", "--format", "csv")
    assert (tmp_path / "t3.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert not (tmp_path / "report.json").exists()


def test_extract_to_one_file(tmp_path):
    assert run("extract", SAMPLE, "-o", str(tmp_path / "r.json")).exit_code == 0
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["template"] == "V2021"
    assert run("extract", SAMPLE, "-o", str(tmp_path / "c.csv")).exit_code == 0
    assert (tmp_path / "c.csv").read_text(encoding="utf-8").startswith("key,")
    r = run("extract", SAMPLE, "-o", str(tmp_path / "c.csv"), "--format", "json")
    assert r.exit_code == 2


def test_stdin():
    r = run("extract", "-", input=(FIXTURES / "v2019_county.txt").read_bytes())
    assert r.exit_code == 0 and json.loads(r.stdout)["source"]["path"] == "<stdin>"


@pytest.mark.parametrize("content, reason", [
    (bytes(range(256)) * 8, "binary"),
    (b"", "empty"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "libreoffice"),
])
def test_unreadable_input_exits_1_with_one_line(tmp_path, content, reason):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    r = run("extract", str(path))
    assert r.exit_code == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and reason in lines[0]
    assert "Traceback" not in r.stderr


def test_missing_file_and_directory(tmp_path):
    r = run("extract", str(tmp_path / "nope.txt"))
    assert r.exit_code == 1 and "no such file" in r.stderr
    r = run("extract", str(tmp_path))
    assert r.exit_code == 1 and "directory" in r.stderr


def test_verbose_shows_the_traceback(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(bytes(range(256)) * 8)
    r = run("-v", "extract", str(path))
    assert r.exit_code == 1 and "Traceback" in r.stderr


def test_news_article_says_so_and_still_writes_valid_output(tmp_path):
    r = run("extract", str(FIXTURES / "not_a_report.txt"), "-o", str(tmp_path))
    assert r.exit_code == 0
    assert "table_absent" in r.stderr
    doc = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert doc["tables"] == {} and [f["rule"] for f in doc["findings"]] == ["table_absent"] * 3
    assert (tmp_path / "cells.csv").read_text(encoding="utf-8").startswith("key,")


def test_quiet_silences_reading_problems():
    r = run("extract", str(FIXTURES / "not_a_report.txt"), "-q")
    assert r.exit_code == 0 and r.stderr == ""


def test_unwritable_output_exits_1(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = run("extract", SAMPLE, "-o", str(blocker / "sub"))
    assert r.exit_code == 1 and "cannot write" in r.stderr


def test_inspect_shows_each_stage():
    r = run("inspect", SAMPLE)
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "read: " in out and "format text" in out
    assert "s4     四、因政府信息公开工作被申请行政复议、提起行政诉讼情况" in out
    assert "reconstruct t3 as V2021: 25 of 25 rows matched by label" in out
    assert "商业企业" in out  # the header cells of the located table block


def test_inspect_explains_a_crawler_dump():
    r = run("inspect", str(FIXTURES / "v2021_city_flat.txt"))
    assert r.exit_code == 0 and "unflatten:" in r.stdout and "ambiguous" in r.stdout
