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
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "damaged or truncated OLE2"),
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


@pytest.mark.parametrize("command", ["extract", "validate"])
def test_every_command_says_on_stderr_when_the_input_is_not_a_report_or_partly_read(command):
    """Not a report, or a report with cells not read: `extract` and `validate`
    both say so on stderr (the status the batch manifest gives), and exit 0."""
    for name, said in (("not_a_report", "status not_a_report, identities not_checked"),
                       ("v2019_county_flat", "status partial (19 cells not read), identities not_checked")):
        r = run(command, str(FIXTURES / f"{name}.txt"))
        assert r.exit_code == 0 and said in r.stderr, (name, r.stderr)
    r = run(command, str(FIXTURES / "v2021_city.txt"))
    assert r.exit_code == 0 and r.stderr == ""


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


def test_help_names_every_exit_code():
    text = " ".join(run("-h").stdout.split())
    assert "Exit codes: 0 ok, 1 an input could not be read or an output not written, 2 usage, 3 identities " \
           "broken." in text


def test_the_package_namespace_holds_only_its_api():
    import types

    import gipextract

    public = {n for n in dir(gipextract) if not n.startswith("_")}
    modules = {n for n in public if isinstance(getattr(gipextract, n), types.ModuleType)}
    assert public - modules == set(gipextract.__all__) - {"__version__"}


# -- -o: a known extension is one file, a directory is a directory, anything else is a usage error --

@pytest.mark.parametrize("output, files", [
    ("r.json", ["r.json"]), ("r.csv", ["r.csv"]), ("r.jsonl", ["r.jsonl"]), ("r.xlsx", ["r.xlsx"]),
    ("out.csv/", ["out.csv/cells.csv", "out.csv/findings.csv", "out.csv/report.json", "out.csv/t2.csv",
                  "out.csv/t3.csv", "out.csv/t4.csv"]),
    ("out", ["out/cells.csv", "out/findings.csv", "out/report.json", "out/t2.csv", "out/t3.csv", "out/t4.csv"]),
])
def test_output_names_a_file_or_a_directory(tmp_path, output, files):
    r = run("extract", SAMPLE, "-o", str(tmp_path / output) + ("/" if output.endswith("/") else ""))
    assert r.exit_code == 0, r.output
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()) == files


@pytest.mark.parametrize("output, existing", [("r.parquet", False), ("r.txt", False), ("existing.txt", True),
                                              ("Makefile", True)])
def test_output_with_another_extension_is_a_usage_error(tmp_path, output, existing):
    if existing:
        (tmp_path / output).write_text("keep me")
    r = run("extract", str(tmp_path / "missing-input.txt"), "-o", str(tmp_path / output))
    assert r.exit_code == 2  # before the input is read: a missing input would be exit 1
    assert ".json, .csv, .jsonl or .xlsx" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ([output] if existing else [])


def test_a_blocked_output_directory_is_left_as_it_was(tmp_path):
    out = tmp_path / "half"
    assert run("extract", str(FIXTURES / "v2019_county.txt"), "-o", str(out)).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (out / "t4.csv").unlink()
    (out / "t4.csv").mkdir()
    r = run("extract", SAMPLE, "-o", str(out))
    assert r.exit_code == 1
    assert r.stderr == f"gipextract: error: {out / 't4.csv'}: cannot write output: it is a directory\n"
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == {
        n: b for n, b in before.items() if n != "t4.csv"}


# -- a reader that goes away (| head -1) ends the output quietly; the exit code is the command's --------

_CLOSED_PIPE_RUNS = {
    "validate": (["validate", str(FIXTURES / "v2021_city_broken.txt"), SAMPLE], "stdout", 3),
    "extract": (["extract", SAMPLE], "stdout", 0),
    "inspect": (["inspect", SAMPLE], "stdout", 0),
    "review": (["review", SAMPLE], "stdout", 0),
    "batch": (["batch", str(FIXTURES / "v2019_county.txt"), "-o", "{tmp}/batch", "--jobs", "1"], "stderr", 0),
    "-h": (["-h"], "stdout", 0),
    "--version": (["--version"], "stdout", 0),
}


def test_every_command_is_run_with_a_closed_pipe():
    assert set(main.commands) <= set(_CLOSED_PIPE_RUNS)


@pytest.mark.parametrize("name", sorted(_CLOSED_PIPE_RUNS))
def test_a_closed_pipe_ends_the_output_quietly(tmp_path, name):
    import os
    import subprocess
    import sys

    args, stream, code = _CLOSED_PIPE_RUNS[name]
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte: every write fails
    other = tmp_path / "other.txt"
    with open(other, "wb") as fh:
        pipes = {"stdout": write_end, "stderr": fh} if stream == "stdout" else {"stdout": fh, "stderr": write_end}
        r = subprocess.run([sys.executable, "-c", f"from gipextract.cli import main; main({args!r})"],
                           stdin=subprocess.DEVNULL, timeout=300, **pipes)
    os.close(write_end)
    assert r.returncode == code
    if stream == "stdout":  # nothing on stderr: no BrokenPipeError, no "internal error"
        assert other.read_bytes() == b""
