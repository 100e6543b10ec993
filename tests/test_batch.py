"""Batch conversion: discovery, the manifest, cells, resume, interruption, executors."""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import signal
import sys

import pandas as pd
import pytest
from click.testing import CliRunner

import gipextract
from gipextract.batch import BatchUsageError, OutdirInUse, run_batch
from gipextract.batch.inputs import discover
from gipextract.batch.outdir import FINDING_COLUMNS, MANIFEST_COLUMNS
from gipextract.batch.scheduler import Scheduler
from gipextract.batch.worker import Task, convert_one
from gipextract.cli import main
from gipextract.export.csv import tidy_csv
from gipextract.readers import READERS
from gipextract.report import TIDY_COLUMNS

from .batch_helpers import (  # noqa: F401
    check_datapackage,
    crashy_many,
    outputs,
    read_csv,
    signal_on_read,
    sigterm_guard,
    synth,
    use_reader,
    write,
)
from .conftest import FIXTURES

GOOD = {  # relative path → (fixture, agency, year, scale)
    "a_city/2023/report.txt": ("v2021_city", "示例市甲局", 2023, 1),
    "a_city/2024/report.txt": ("v2021_city", "示例市甲局", 2024, 2),
    "b_county/2019.txt": ("v2019_county", "示例县乙局", 2019, 3),
}
HTML = {"c_html/2024.html": ("v2021_city", "示例市丙局", 2024, 5)}


@pytest.fixture
def archive(tmp_path):
    """A folder of good reports (text; HTML rendered from the same fixtures),
    a corrupt DOCX, random bytes named .pdf, an empty file, a news article,
    nested folders and a hidden folder."""
    root = tmp_path / "archive"
    s = synth()
    for rel, (name, agency, year, scale) in GOOD.items():
        write(root / rel, s.variant(name, agency=agency, year=year, scale=scale))
    for rel, (name, agency, year, scale) in HTML.items():
        write(root / rel, s.to_html(s.variant(name, agency=agency, year=year, scale=scale)))
    write(root / "b_county" / "gbk" / "2019_gbk.txt", (FIXTURES / "v2019_county_gbk.txt").read_bytes())
    write(root / "broken" / "corrupt.docx", b"PK\x03\x04" + bytes(random.Random(1).randrange(256) for _ in range(900)))
    write(root / "broken" / "random.pdf", bytes(random.Random(2).randrange(256) for _ in range(4000)))
    write(root / "broken" / "empty.txt", b"")
    write(root / "news" / "deep" / "er" / "not_a_report.txt", (FIXTURES / "not_a_report.txt").read_bytes())
    write(root / ".hidden" / "ignored.txt", "not an input")
    return root


def _cells_by_source(outdir):
    by: dict[str, dict[str, dict]] = {}
    for r in read_csv(outdir / "cells.csv"):
        by.setdefault(r["source"], {})[r["key"]] = r
    return by


def _same(expected, text: str) -> bool:
    if expected is None:
        return text == ""
    return text != "" and math.isclose(float(text), float(expected), abs_tol=1e-9)


# -- discovery -------------------------------------------------------------------


def test_discover_sorts_walks_and_lists_what_it_cannot_read(archive, tmp_path):
    out = archive / "out"
    write(out / "manifest.csv", "old output, never an input")
    entries = discover([str(archive), str(archive / "b_county" / "2019.txt"), str(tmp_path / "nope.txt"),
                        str(tmp_path / "*.none")], exclude=[out])
    paths = [e.path for e in entries]
    assert paths == sorted(paths)
    assert len(paths) == len(set(paths))  # a file named twice is listed once
    assert not any(".hidden" in p or "/out/" in p for p in paths)
    errors = {os.path.basename(e.path): e.error for e in entries if e.error}
    assert errors == {"nope.txt": "no such file or directory", "*.none": "no file matches this pattern"}
    rels = {e.rel for e in entries if not e.error}
    assert "a_city/2023/report.txt" in rels and "news/deep/er/not_a_report.txt" in rels


def test_discover_expands_globs_and_lists_special_files(tmp_path):
    write(tmp_path / "x" / "a.txt", "a")
    write(tmp_path / "x" / "y" / "b.txt", "b")
    os.mkfifo(tmp_path / "x" / "pipe")
    os.symlink(tmp_path / "missing", tmp_path / "x" / "dangling")
    entries = discover([str(tmp_path / "x" / "**" / "*.txt"), str(tmp_path / "x")])
    by = {os.path.basename(e.path): e.error for e in entries}
    assert by["a.txt"] is None and by["b.txt"] is None
    assert "not a regular file" in by["pipe"] and by["dangling"] == "broken symbolic link"


# -- an archive of every kind of input ----------------------------------------------


def test_archive_manifest_lists_every_file_with_right_cells(archive, tmp_path):
    out = tmp_path / "out"
    summary = run_batch([str(archive)], out, jobs=1, reports=True)
    manifest = read_csv(out / "manifest.csv")
    assert [tuple(r) for r in [manifest[0].keys()]] == [MANIFEST_COLUMNS]
    files = sorted(str(p) for p in archive.rglob("*") if p.is_file() and ".hidden" not in p.parts)
    assert [r["path"] for r in manifest] == files
    status = {os.path.relpath(r["path"], archive): r for r in manifest}
    for rel in GOOD:
        assert status[rel]["status"] == "ok", status[rel]
    assert status["b_county/gbk/2019_gbk.txt"]["status"] == "ok"
    for rel in ("broken/corrupt.docx", "broken/random.pdf", "broken/empty.txt"):
        row = status[rel]
        assert row["status"] == "failed" and row["error"] and "\n" not in row["error"] and row["report"] == ""
    assert "empty" in status["broken/empty.txt"]["error"]
    news = status["news/deep/er/not_a_report.txt"]
    assert news["status"] == "not_a_report" and news["identities"] == "not_checked" and news["n_cells"] == "0"
    html = status["c_html/2024.html"]
    if "html" in READERS:
        assert html["status"] in ("ok", "partial") and html["format"] == "html"
    else:
        assert html["status"] == "failed" and "no reader for format 'html'" in html["error"]
    assert summary.total == len(files) and summary.done == len(files)
    assert summary.counts["failed"] == len(summary.failed) >= 3 and not summary.interrupted

    cells = _cells_by_source(out)
    s = synth()
    good = dict(GOOD, **(HTML if "html" in READERS else {}))
    for rel, (name, agency, year, scale) in good.items():
        got = cells[str(archive / rel)]
        expected = s.expected_cells(name, scale)
        assert set(got) == set(expected)
        wrong = [k for k, v in expected.items() if not _same(v, got[k]["value"])]
        assert wrong == []
        row = next(iter(got.values()))
        assert (row["agency"], row["year"]) == (agency, str(year))
        assert status[rel]["n_cells"] == str(len(expected))
        assert status[rel]["n_null"] == str(sum(v is None for v in expected.values()))
    # each report.json is the report's JSON document
    doc = json.loads((out / status["a_city/2024/report.txt"]["report"]).read_text(encoding="utf-8"))
    assert doc["tables"]["t3"]["new_received"]["total"]["value"] == 82
    assert doc["source"]["sha256"] == status["a_city/2024/report.txt"]["sha256"]


def test_cells_csv_is_the_tidy_csv_of_every_report(archive, tmp_path):
    out = tmp_path / "out"
    run_batch([str(archive)], out, jobs=1)
    manifest = read_csv(out / "manifest.csv")
    expected = "".join(tidy_csv(gipextract.read_report(r["path"])).split("\n", 1)[1]
                       for r in manifest if r["status"] not in ("failed",))
    header, body = (out / "cells.csv").read_text(encoding="utf-8").split("\n", 1)
    assert header == ",".join(TIDY_COLUMNS) and body == expected


def test_jobs_1_and_2_give_identical_outputs(archive, tmp_path):
    run_batch([str(archive)], tmp_path / "one", jobs=1)
    run_batch([str(archive)], tmp_path / "two", jobs=2)
    assert outputs(tmp_path / "one") == outputs(tmp_path / "two")


def test_parquet_holds_the_csv_rows_typed(archive, tmp_path):
    out = tmp_path / "out"
    run_batch([str(archive)], out, jobs=1)
    pq = pd.read_parquet(out / "cells.parquet")
    csv_rows = read_csv(out / "cells.csv")
    assert list(pq.columns) == list(TIDY_COLUMNS) and len(pq) == len(csv_rows)
    assert pq["value"].dtype == "float64" and pq["year"].dtype == pd.Int32Dtype()
    for (_, p), c in zip(pq.iterrows(), csv_rows):
        assert (p["source"], p["key"]) == (c["source"], c["key"])
        assert _same(None if pd.isna(p["value"]) else p["value"], c["value"])
    # an empty printed cell keeps raw "" (blank); a missing one would be null
    blank = pq[(pq["flag"] == "blank")]
    assert len(blank) and (blank["raw"] == "").all()


def test_parquet_year_is_a_nullable_integer_when_a_year_is_unknown(tmp_path):
    """One report without a year must not turn the year column into float64
    (2024.0) for pandas: Int32 with <NA>; value float64 (counts and money)."""
    import re

    import pyarrow.parquet as papq

    s = synth()
    write(tmp_path / "in" / "a.txt", s.variant("v2021_city", year=2024))
    write(tmp_path / "in" / "b.txt", re.sub(r"(19|20)\d{2}\s*年", "本年", s.variant("v2021_city", scale=2)))
    out = tmp_path / "out"
    run_batch([str(tmp_path / "in")], out, jobs=1)
    assert [r["year"] for r in read_csv(out / "manifest.csv")] == ["2024", ""]
    frame = pd.read_parquet(out / "cells.parquet")
    assert frame["year"].dtype == pd.Int32Dtype() and frame["value"].dtype == "float64"
    a, b = (frame[frame["source"] == str(tmp_path / "in" / name)] for name in ("a.txt", "b.txt"))
    assert len(a) == len(b) == 200 and (a["year"] == 2024).all() and b["year"].isna().all()
    assert all(pd.api.types.is_string_dtype(frame[c]) for c in TIDY_COLUMNS if c not in ("value", "year"))
    assert b.loc[b["key"] == "t3.new_received.total", "value"].tolist() == [82.0]  # scale 2 × 41
    schema = papq.read_schema(out / "cells.parquet")  # what other readers (Arrow, Polars, DuckDB, R) see
    assert (str(schema.field("year").type), str(schema.field("value").type)) == ("int32", "double")


def test_findings_csv_and_datapackage(archive, tmp_path):
    out = tmp_path / "out"
    run_batch([str(archive)], out, jobs=1)
    findings = read_csv(out / "findings.csv")
    assert findings and tuple(findings[0]) == FINDING_COLUMNS
    news = [f for f in findings if f["source"].endswith("not_a_report.txt")]
    assert [f["rule"] for f in news] == ["table_absent"] * 3
    pkg = check_datapackage(out)
    assert [r["path"] for r in pkg["resources"]] == ["manifest.csv", "cells.csv", "findings.csv", "reports.csv", "keys.csv"]


# -- cross-report checks ---------------------------------------------------------------


def test_cross_report_warnings_on_the_later_report(archive, tmp_path):
    out = tmp_path / "out"
    run_batch([str(archive)], out, jobs=1, reports=True)
    later = str(archive / "a_city" / "2024" / "report.txt")
    cross = [f for f in read_csv(out / "findings.csv") if f["rule"] in ("T3-Y", "T2-Y1")]
    assert cross and all(f["source"] == later and f["severity"] == "warning" for f in cross)
    # 2023 (scale 1) carries forward [2,0,0,0,0,1 | 3]; 2024 (scale 2) carries over [8,2,0,0,0,4 | 14]
    t3y = {f["cells"]: (f["expected"], f["actual"]) for f in cross if f["rule"] == "T3-Y"}
    assert t3y == {"t3.carried_over_prev.natural_person": ("2", "8"),
                   "t3.carried_over_prev.commercial_enterprise": ("0", "2"),
                   "t3.carried_over_prev.other_org": ("1", "4"), "t3.carried_over_prev.total": ("3", "14")}
    # 规范性文件: 58 (2023) + 24 issued − 6 repealed = 76 ≠ 116; 规章: 4 + 0 − 0 = 4 ≠ 8
    t2y1 = {f["cells"].split()[0]: (f["expected"], f["actual"]) for f in cross if f["rule"] == "T2-Y1"}
    assert t2y1 == {"t2.art20_1.normative_documents.in_force": ("76", "116"),
                    "t2.art20_1.regulations.in_force": ("4", "8")}
    manifest = {r["path"]: r for r in read_csv(out / "manifest.csv")}
    # report.json is the single report as `extract` gives it; the cross-year findings live in findings.csv
    doc = json.loads((out / manifest[later]["report"]).read_text(encoding="utf-8"))
    assert doc == json.loads(gipextract.read_report(later).to_json())
    assert manifest[later]["status"] == "ok"  # warnings do not make a report 'findings'


# -- nothing lost: interruption, resume, refusal ------------------------------------------


@pytest.mark.parametrize("signum, jobs", [(signal.SIGINT, 1), (signal.SIGTERM, 1), (signal.SIGTERM, 2)],
                         ids=["SIGINT-j1", "SIGTERM-j1", "SIGTERM-j2"])
def test_interrupt_commits_what_was_done_and_resume_finishes(archive, tmp_path, sigterm_guard, signum, jobs):  # noqa: F811 (a fixture)
    full = tmp_path / "full"
    run_batch([str(archive)], full, jobs=1, reports=True)
    out = tmp_path / "out"
    seen = []

    def signal_after_three(entry, status):
        seen.append(entry.path)
        if len(seen) == 3:
            os.kill(os.getpid(), signum)

    summary = run_batch([str(archive)], out, jobs=jobs, reports=True, progress=signal_after_three)
    assert summary.interrupted and summary.signal == signum and summary.done == 3
    manifest = read_csv(out / "manifest.csv")
    assert [r["path"] for r in manifest] == seen
    assert {r["source"] for r in read_csv(out / "cells.csv")} <= set(seen)
    assert not list(out.rglob("*.tmp"))  # no temporary file left
    listed = {r["report"] for r in manifest if r["report"]}
    assert {p.relative_to(out).as_posix() for p in (out / "reports").rglob("report.json")} == listed
    check_datapackage(out)
    assert signal.getsignal(signal.SIGTERM) is sigterm_guard  # the batch's handler is gone

    summary = run_batch([str(archive)], out, jobs=2, reports=True, resume=True)
    assert not summary.interrupted and summary.signal is None
    assert summary.reused == sum(1 for r in manifest if r["status"] != "failed")
    assert outputs(out) == outputs(full)


def test_sigterm_while_a_file_is_read_stops_before_it(monkeypatch, archive, tmp_path, sigterm_guard):  # noqa: F811 (a fixture)
    """SIGTERM that arrives while the batch waits for a result (here: while
    the file is read, in this process) stops at once; that file is not listed."""
    reads = signal_on_read(monkeypatch, signal.SIGTERM, 3)
    out = tmp_path / "out"
    summary = run_batch([str(archive)], out, jobs=1)
    assert summary.interrupted and summary.signal == signal.SIGTERM
    manifest = read_csv(out / "manifest.csv")
    assert reads[2] not in {r["path"] for r in manifest} and reads[1] in {r["path"] for r in manifest}
    assert len(manifest) == summary.done < summary.total
    assert not list(out.rglob("*.tmp"))
    check_datapackage(out)


def test_resume_converts_changed_and_failed_inputs_again(archive, tmp_path):
    out = tmp_path / "out"
    first = run_batch([str(archive)], out, jobs=1)
    n_read = first.total - first.counts["failed"]
    assert run_batch([str(archive)], out, jobs=1, resume=True).reused == n_read
    s = synth()
    write(archive / "a_city" / "2024" / "report.txt", s.variant("v2021_city", agency="示例市甲局", year=2024, scale=7))
    write(archive / "broken" / "empty.txt", (FIXTURES / "v2019_county.txt").read_bytes())
    summary = run_batch([str(archive)], out, jobs=1, resume=True)
    assert summary.reused == n_read - 1
    manifest = {os.path.relpath(r["path"], archive): r for r in read_csv(out / "manifest.csv")}
    assert manifest["broken/empty.txt"]["status"] == "ok"
    cells = _cells_by_source(out)
    assert cells[str(archive / "a_city/2024/report.txt")]["t3.new_received.total"]["value"] == str(41 * 7)
    fresh = tmp_path / "fresh"
    run_batch([str(archive)], fresh, jobs=1)
    assert outputs(out) == outputs(fresh)


def test_resume_drops_rows_of_inputs_no_longer_given(archive, tmp_path):
    out = tmp_path / "out"
    run_batch([str(archive)], out, jobs=1, reports=True)
    summary = run_batch([str(archive / "a_city")], out, jobs=1, reports=True, resume=True)
    assert summary.total == 2 and summary.reused == 2
    manifest = read_csv(out / "manifest.csv")
    assert len(manifest) == 2
    assert {p.relative_to(out).as_posix() for p in (out / "reports").rglob("report.json")} == \
        {r["report"] for r in manifest}
    fresh = tmp_path / "fresh"
    run_batch([str(archive / "a_city")], fresh, jobs=1, reports=True)
    assert outputs(out) == outputs(fresh)


def test_existing_batch_needs_resume_or_overwrite(archive, tmp_path):
    out = tmp_path / "out"
    run_batch([str(archive / "a_city")], out, jobs=1, reports=True)
    with pytest.raises(OutdirInUse):
        run_batch([str(archive / "a_city")], out, jobs=1, reports=True)
    before = outputs(out)
    with pytest.raises(BatchUsageError, match="--resume and --overwrite contradict each other"):
        run_batch([str(archive / "a_city")], out, jobs=1, resume=True, overwrite=True)
    assert outputs(out) == before
    run_batch([str(archive / "b_county")], out, jobs=1, reports=True, overwrite=True)
    assert [os.path.basename(r["path"]) for r in read_csv(out / "manifest.csv")] == ["2019.txt", "2019_gbk.txt"]
    assert len(list((out / "reports").rglob("report.json"))) == 2


def test_empty_input_directory_gives_empty_outputs(tmp_path):
    (tmp_path / "in").mkdir()
    summary = run_batch([str(tmp_path / "in")], tmp_path / "out", jobs=1)
    assert summary.total == 0 and not summary.failed
    assert (tmp_path / "out" / "manifest.csv").read_text(encoding="utf-8") == ",".join(MANIFEST_COLUMNS) + "\n"
    assert len(pd.read_parquet(tmp_path / "out" / "cells.parquet")) == 0


# -- the worker and the scheduler ----------------------------------------------------------


def test_worker_times_out_a_slow_file(monkeypatch, tmp_path):
    import time


    def slow(*args, **kwargs):
        time.sleep(5)

    use_reader(monkeypatch, slow)
    path = write(tmp_path / "r.txt", "x")
    result = convert_one(Task(str(path), "r.txt", None, 0.2))
    assert result.status == "failed" and result.error == "took longer than 0.2 s to read (--timeout); not read"
    assert result.sha256 == hashlib.sha256(b"x").hexdigest() and result.n_cells == 0 and result.cells_columns is None


def _alarm_now() -> None:
    """What the time limit's timer does when it expires, at a known point."""
    signal.raise_signal(signal.SIGALRM)


def _swallow_exception(data, fmt, name):
    report = gipextract.read_report(data, fmt, name=name)
    try:  # as the PDF reader does for a damaged page: note it and read the others
        _alarm_now()
    except Exception:  # noqa: BLE001
        pass
    return report


def _swallow_everything(data, fmt, name):
    report = gipextract.read_report(data, fmt, name=name)
    try:  # a bare except in some library
        _alarm_now()
    except BaseException:  # noqa: BLE001
        pass
    return report


def _wrap_everything(data, fmt, name):
    try:  # a library that turns whatever happens into its own error
        _alarm_now()
    except BaseException as e:  # noqa: BLE001
        raise RuntimeError("page 5 could not be parsed") from e
    return gipextract.read_report(data, fmt, name=name)


def _swallow_in_a_loop(data, fmt, name):
    import time

    for _ in range(100):  # the timer really fires during this loop (0.2 s of its 1 s)
        try:
            time.sleep(0.01)
        except Exception:  # noqa: BLE001
            pass
    return gipextract.read_report(data, fmt, name=name)


@pytest.mark.parametrize("reader, timeout", [(_swallow_exception, 60), (_swallow_everything, 60),
                                             (_wrap_everything, 60), (_swallow_in_a_loop, 0.2)])
def test_a_timed_out_file_is_failed_whatever_the_reader_catches(monkeypatch, tmp_path, reader, timeout):

    path = write(tmp_path / "r.txt", synth().variant("v2021_city"))
    assert convert_one(Task(str(path), "r.txt", None, timeout)).status == "ok"  # the file reads well
    before = signal.getsignal(signal.SIGALRM)
    use_reader(monkeypatch, reader)
    result = convert_one(Task(str(path), "r.txt", None, timeout))
    assert (result.status, result.error) == ("failed", f"took longer than {timeout:g} s to read (--timeout); not read")
    assert (result.n_cells, result.cells_columns, result.report_json, result.facts) == (0, None, None, {})
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    # no timer left running, the previous handler back
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0) and signal.getsignal(signal.SIGALRM) is before


def test_an_alarm_swallowed_once_is_raised_again(monkeypatch, tmp_path):
    """A bare ``except:`` that swallows the time limit's exception does not let
    the reader run on: the alarm repeats until the reading stops."""
    import time


    finished = []

    def swallow_the_first_then_work(data, fmt, name):
        try:
            while True:
                time.sleep(0.01)
        except BaseException:  # noqa: BLE001
            pass
        for _ in range(1000):  # 10 s of work that the repeated alarm stops
            time.sleep(0.01)
        finished.append(name)
        return gipextract.read_report(data, fmt, name=name)

    use_reader(monkeypatch, swallow_the_first_then_work)
    path = write(tmp_path / "r.txt", synth().variant("v2021_city"))
    result = convert_one(Task(str(path), "r.txt", None, 0.1))
    assert (result.status, result.error) == ("failed", "took longer than 0.1 s to read (--timeout); not read")
    assert finished == []


def test_an_alarm_in_a_finalizer_fails_the_file_without_noise(monkeypatch, tmp_path):
    """The alarm can go off in a ``__del__``, where Python only prints an
    exception ("Exception ignored in …"); the file still fails, silently."""

    class Finalized:
        def __del__(self):
            _alarm_now()

    def alarm_in_a_finalizer(data, fmt, name):
        Finalized()
        return gipextract.read_report(data, fmt, name=name)

    use_reader(monkeypatch, alarm_in_a_finalizer)
    printed = []
    monkeypatch.setattr(sys, "unraisablehook", printed.append)
    path = write(tmp_path / "r.txt", synth().variant("v2021_city"))
    result = convert_one(Task(str(path), "r.txt", None, 60))
    assert (result.status, result.error) == ("failed", "took longer than 60 s to read (--timeout); not read")
    assert printed == [] and sys.unraisablehook == printed.append


def test_a_timed_out_batch_lists_the_file_as_failed_in_one_line(monkeypatch, tmp_path):

    for name in ("a.txt", "b.txt", "c.txt"):
        write(tmp_path / "in" / name, synth().variant("v2021_city"))

    def b_is_slow(data, fmt, name):
        if name.endswith("b.txt"):
            return _swallow_exception(data, fmt, name)
        return gipextract.read_report(data, fmt, name=name)

    use_reader(monkeypatch, b_is_slow)
    r = CliRunner().invoke(main, ["batch", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-j", "1",
                                  "--timeout", "30"])
    assert r.exit_code == 1
    assert r.stderr.splitlines()[0] == f"gipextract: {tmp_path / 'in' / 'b.txt'}: took longer than 30 s to read " \
                                       "(--timeout); not read"
    rows = {os.path.basename(x["path"]): x for x in read_csv(tmp_path / "out" / "manifest.csv")}
    assert [rows[n]["status"] for n in ("a.txt", "b.txt", "c.txt")] == ["ok", "failed", "ok"]
    assert (rows["b.txt"]["n_cells"], rows["b.txt"]["report"]) == ("0", "")
    assert {c["source"] for c in read_csv(tmp_path / "out" / "cells.csv")} == \
        {str(tmp_path / "in" / "a.txt"), str(tmp_path / "in" / "c.txt")}


def test_a_pdf_is_read_whole_or_failed_whatever_its_time_limit(corpus):
    """The acceptance test's loop: a PDF whose limit expires mid-page came back
    ``ok`` with a page "could not be parsed" and nulls.  Each limit here gives
    either the full result or ``failed``, never something in between."""
    pdf = corpus / "001_2024_pdf.pdf"
    full = convert_one(Task(str(pdf), "r.pdf", None, None))
    assert full.status in ("ok", "partial") and full.n_cells > 100
    seen = set()
    for limit in (0.001, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6, 0.8, 3600):
        r = convert_one(Task(str(pdf), "r.pdf", None, limit))
        if r.status == "failed":
            assert r.error == f"took longer than {limit:g} s to read (--timeout); not read" and r.n_cells == 0
        else:
            assert (r.status, r.cells_columns, r.findings_csv, r.report_json) == \
                (full.status, full.cells_columns, full.findings_csv, full.report_json), limit
        seen.add(r.status)
    assert "failed" in seen and full.status in seen  # 1 ms is too short for any PDF, an hour long enough


def test_a_file_that_kills_its_worker_fails_alone(tmp_path):
    s = synth()
    tasks = []
    for i in range(12):
        name = "crash.txt" if i == 5 else f"r{i:02d}.txt"
        path = write(tmp_path / name, s.variant("v2021_city", scale=i + 1))
        tasks.append(Task(str(path), name, None, None))
    results = list(Scheduler(jobs=2, chunk=2, fn=crashy_many).run(tasks, total=len(tasks)))
    assert [r.path for r in results] == [t.name for t in tasks]
    failed = [r.path for r in results if r.status == "failed"]
    assert failed == ["crash.txt"] and "worker process died" in results[5].error
    assert all(r.n_cells == 200 and len(r.cells_columns[0]) == 200 for r in results if r.status == "ok")
    assert results[0].facts["t3.carried_over_prev.total"] == (7, None)


# -- Dask ---------------------------------------------------------------------------


def test_dask_cluster_writes_the_same_outdir(archive, tmp_path):
    distributed = pytest.importorskip("distributed")
    run_batch([str(archive)], tmp_path / "local", jobs=2)
    # in-process workers, inproc:// comms, status pages on loopback ports only
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, protocol="inproc",
                                  dashboard_address="127.0.0.1:0",
                                  worker_dashboard_address="127.0.0.1:0") as cluster:
        r = CliRunner().invoke(main, ["batch", str(archive), "-o", str(tmp_path / "dask"), "-q",
                                      "--dask-scheduler", cluster.scheduler_address])
    assert r.exit_code == 1, r.output  # the archive holds broken files on purpose
    assert outputs(tmp_path / "dask") == outputs(tmp_path / "local")
