"""Exports: JSON and CSV, written atomically."""

import csv
import io
import json
import os

import pytest

import gipextract
from gipextract.errors import OutputError
from gipextract.export import write_files
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
    assert t2[-1][-1] == "125000.5"


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
