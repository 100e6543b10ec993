"""Exports: JSON and CSV, written atomically."""

import csv
import io
import json
import os

import pytest

import gipextract
from gipextract.atomic import write_set as write_files
from gipextract.cli_output import OutputChoiceError, output_kind
from gipextract.errors import OutputError
from gipextract.export.csv import dedupe, tidy_csv, wide_csv
from gipextract.export.json import to_json

from .conftest import FIXTURES


@pytest.fixture(scope="module")
def report():
    return gipextract.read_report(FIXTURES / "v2019_county.txt")


def test_json_document(report):
    text = to_json(report)
    assert "示例县交通运输局" in text and "\\u" not in text
    doc = json.loads(text)
    assert doc["template"] == "V2019" and doc["year"] == 2019
    assert doc["tables"]["t2"]["art20_5"]["other_external_services"]["items_change"] == {
        "value": -8, "unit": "项", "raw": "-8", "flag": None, "where": doc["tables"]["t2"]["art20_5"][
            "other_external_services"]["items_change"]["where"]}
    assert doc["tables"]["t3"]["granted"]["natural_person"]["value"] == 6
    assert doc["sections"]["s6"] == {"heading": "六、其他需要报告的事项", "text": "无。"}
    assert doc["findings"] == []
    assert report.to_dict() == doc


def test_wide_csv_flattens_the_header(report):
    rows = list(csv.reader(io.StringIO(wide_csv(report, "t3"))))
    assert rows[0][:5] == ["一级", "二级", "三级", "申请人情况|自然人", "申请人情况|法人或其他组织|商业企业"]
    assert rows[1] == ["一、本年新收政府信息公开申请数量", "", "", "10", "3", "0", "1", "0", "0", "14"]
    t2 = list(csv.reader(io.StringIO(wide_csv(report, "t2"))))
    assert t2[-1][-1] == "125000.5元"  # 采购总金额 has no official unit: the unit printed shows


def test_tidy_csv_writes_counts_without_decimals(report):
    rows = {r["key"]: r for r in csv.DictReader(io.StringIO(tidy_csv(report)))}
    assert rows["t3.granted.natural_person"]["value"] == "6"
    assert rows["t2.art20_6.administrative_penalty.items_prev_year"]["value"] == ""
    assert rows["t2.art20_6.administrative_penalty.items_prev_year"]["flag"] == "dash"


def test_dedupe():
    assert dedupe(["a", "b", "a", "a"]) == ["a", "b", "a_2", "a_3"]


def test_write_files_is_all_or_nothing(tmp_path, monkeypatch):
    target = tmp_path / "a.txt"
    target.write_text("old")
    real_fdopen = os.fdopen
    calls = []

    def failing(fd, *a, **k):
        calls.append(fd)
        if len(calls) == 2:
            os.close(fd)
            raise OSError(28, "No space left on device")
        return real_fdopen(fd, *a, **k)

    monkeypatch.setattr(os, "fdopen", failing)
    with pytest.raises(OutputError, match="No space left"):
        write_files({target: "new", tmp_path / "b.txt": "new"})
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


# -- a set of files: all or none, whatever stands in the way ---------------------------------

def _old_set(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    for name in ("t2.csv", "t3.csv", "t4.csv"):
        (out / name).write_text(f"old {name}")
    return out


def _blocked_by_a_directory(out):
    (out / "t4.csv").unlink()
    (out / "t4.csv").mkdir()
    return out / "t4.csv"


def _blocked_by_a_fifo(out):
    (out / "t4.csv").unlink()
    os.mkfifo(out / "t4.csv")
    return out / "t4.csv"


def _blocked_by_a_file_as_parent(out):
    (out / "sub").write_text("a file where a directory is wanted")
    return out / "sub" / "t5.csv"


@pytest.mark.parametrize("block", [_blocked_by_a_directory, _blocked_by_a_fifo, _blocked_by_a_file_as_parent])
def test_write_files_checks_every_target_before_the_first_rename(tmp_path, block):
    out = _old_set(tmp_path)
    blocked = block(out)
    targets = [out / "t2.csv", out / "t3.csv", out / "t4.csv", blocked]
    with pytest.raises(OutputError) as e:
        write_files(dict.fromkeys(targets, "new"))
    assert str(e.value).startswith(f"{blocked}: cannot write output")
    assert ".tmp" not in str(e.value)
    assert [(out / n).read_text() for n in ("t2.csv", "t3.csv")] == ["old t2.csv", "old t3.csv"]
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]


def test_write_files_puts_back_what_it_replaced_when_a_rename_fails(tmp_path, monkeypatch):
    out = _old_set(tmp_path)
    real_replace = os.replace
    renames = []

    def replace(src, dst, *a, **k):
        if str(src).endswith(".tmp"):
            renames.append(dst)
            if len(renames) == 3:
                raise OSError(5, "Input/output error", str(src))
        return real_replace(src, dst, *a, **k)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OutputError, match=r"t4\.csv: cannot write output: Input/output error"):
        write_files({out / "t2.csv": "new", out / "t3.csv": "new", out / "t4.csv": "new", out / "cells.csv": "new"})
    assert sorted(p.name for p in out.iterdir()) == ["t2.csv", "t3.csv", "t4.csv"]
    assert [(out / n).read_text() for n in ("t2.csv", "t3.csv", "t4.csv")] == ["old t2.csv", "old t3.csv", "old t4.csv"]


def test_write_files_removes_the_directories_it_made_on_failure(tmp_path):
    (tmp_path / "x.json").mkdir()
    with pytest.raises(OutputError, match="it is a directory"):
        write_files({tmp_path / "a" / "b" / "c.csv": "new", tmp_path / "x.json": "new"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.json"]


def test_write_files_names_the_target_when_the_directory_cannot_be_written(tmp_path, monkeypatch):
    real_open = os.open

    def open_(path, *a, **k):
        if str(path).endswith(".tmp"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *a, **k)

    monkeypatch.setattr(os, "open", open_)
    with pytest.raises(OutputError) as e:
        write_files({tmp_path / "x.json": "{}"})
    assert str(e.value) == f"{tmp_path / 'x.json'}: cannot write output: Permission denied"


def test_write_files_refuses_a_directory_it_may_not_write_before_writing_anything(tmp_path, monkeypatch):
    out = _old_set(tmp_path)
    ro = tmp_path / "ro"
    ro.mkdir()
    monkeypatch.setattr(os, "access", lambda path, mode: os.fspath(path) != str(ro))  # as a non-root user sees it
    with pytest.raises(OutputError, match=rf"^{ro / 'x.json'}: cannot write output: the directory {ro} is not writable"):
        write_files({out / "t2.csv": "new", ro / "x.json": "{}"})
    assert (out / "t2.csv").read_text() == "old t2.csv"


@pytest.mark.parametrize("output, exists, kind", [
    ("r.json", None, ("file", "json")), ("r.csv", None, ("file", "csv")), ("r.JSONL", None, ("file", "jsonl")),
    ("r.xlsx", None, ("file", "xlsx")), ("out.csv/", None, ("dir", None)), ("out", None, ("dir", None)),
    ("out.json", "dir", ("dir", None)), ("out.d", "dir", ("dir", None)), ("out.d/", None, ("dir", None)),
])
def test_output_kind(tmp_path, output, exists, kind):
    if exists == "dir":
        (tmp_path / output).mkdir()
    assert output_kind(str(tmp_path / output) + ("/" if output.endswith("/") else ""), None) == kind


@pytest.mark.parametrize("output, exists, message", [
    ("r.parquet", None, r"unknown extension '\.parquet'; give a file ending in \.json, \.csv, \.jsonl or \.xlsx"),
    ("r.txt", None, r"unknown extension '\.txt'"),
    ("existing.txt", "file", r"unknown extension '\.txt'"),
    ("Makefile", "file", r"is an existing file, not a directory"),
    ("report.json/", "file", r"is an existing file, not a directory"),
])
def test_output_kind_refuses(tmp_path, output, exists, message):
    if exists == "file":
        (tmp_path / output.rstrip("/")).write_text("x")
    with pytest.raises(OutputChoiceError, match=message):
        output_kind(str(tmp_path / output) + ("/" if output.endswith("/") else ""), None)
    with pytest.raises(OutputChoiceError, match="--format json contradicts"):
        output_kind(str(tmp_path / "r.csv"), "json")
