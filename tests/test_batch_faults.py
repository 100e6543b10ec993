"""Batch faults: a batch killed outright, stopped by a signal, out of time,
out of memory or out of disk loses nothing, mixes no two runs' files and
leaves no process or temporary file behind (child processes + kill)."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gipextract.batch import run_batch
from gipextract.batch.journal import Journal
from gipextract.batch.worker import memory_error, timeout_error

from .batch_helpers import (
    misbehaving_env,
    outputs,
    read_csv,
    session_processes,
    synth,
    use_reader,
    wait_for,
    write,
)
from .conftest import FIXTURES

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs Linux /proc and prctl")

AGENCIES = ("示例市甲局", "示例县乙局", "示例区丙局")


def _archive(root: Path, n: int, slow: int = 0, scale: int = 1, extra: dict[str, str] | None = None) -> Path:
    """``n`` good text reports named ``a<i>.txt`` (read first), then ``slow``
    reports named ``z_slow<i>.txt`` (slow in a misbehaving batch)."""
    s = synth()
    for i in range(n):
        write(root / f"a{i:02d}.txt", s.variant("v2021_city", agency=AGENCIES[i % 3], year=2020 + i // 3,
                                                 scale=scale + i))
    for i in range(slow):
        write(root / f"z_slow{i}.txt", s.variant("v2021_city", agency="示例市慢局", year=2020 + i, scale=7 + scale))
    for name, text in (extra or {}).items():
        write(root / name, text)
    return root


def _start(args: list[str], env: dict[str, str], **kw) -> subprocess.Popen:
    """``gipextract batch ARGS`` in a child process of its own session; its
    stderr goes to ``<OUTDIR>.stderr`` (:func:`_stderr`)."""
    out = Path(args[args.index("-o") + 1])
    with open(f"{out}.stderr", "wb") as err:
        return subprocess.Popen([sys.executable, "-m", "gipextract", "batch", *args], env=env,
                                start_new_session=True, stdout=subprocess.DEVNULL, stderr=err, **kw)


def _stderr(out: Path) -> str:
    return Path(f"{out}.stderr").read_text(encoding="utf-8", errors="replace")


def _journaled(out: Path) -> int:
    return len(Journal(out).index())


def _no_temporaries(out: Path) -> list[str]:
    return [p.relative_to(out).as_posix() for p in out.rglob("*")
            if p.name.endswith(".tmp") or ".gipextract-reports" in p.parts]


def _reports_match_manifest(out: Path) -> None:
    """Every report.json a committed manifest lists is of that row's input (same sha256)."""
    if not (out / "manifest.csv").exists():
        return
    for row in read_csv(out / "manifest.csv"):
        if row["report"]:
            doc = json.loads((out / row["report"]).read_text(encoding="utf-8"))
            assert doc["source"]["sha256"] == row["sha256"], row["path"]


def test_sigkill_leaves_no_process_and_resume_redoes_only_unfinished_files(tmp_path):
    src = _archive(tmp_path / "in", 6, slow=2)
    out = tmp_path / "out"
    proc = _start([str(src), "-o", str(out), "--jobs", "2", "-q"], misbehaving_env(tmp_path, "sleep", 60))
    try:
        assert wait_for(lambda: _journaled(out) >= 6, 60), _stderr(out)
        assert len(session_processes(proc.pid)) >= 3  # the batch, its forkserver and workers
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(5)
        # workers die with the batch (and the forkserver and resource tracker with them)
        assert wait_for(lambda: not session_processes(proc.pid), 5), session_processes(proc.pid)
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in session_processes(proc.pid):
            os.kill(pid, signal.SIGKILL)
    assert not (out / "manifest.csv").exists()
    # resume: the six finished files come from the journal, only the two slow ones are read again
    summary = run_batch([str(src)], out, jobs=1, resume=True)
    assert (summary.total, summary.reused, summary.counts["ok"]) == (8, 6, 8)
    assert not (out / ".gipextract-journal").exists() and not _no_temporaries(out)
    fresh = tmp_path / "fresh"
    run_batch([str(src)], fresh, jobs=1)
    assert outputs(out) == outputs(fresh)


def test_sigterm_with_two_jobs_stops_within_a_second_while_a_file_is_read(tmp_path):
    src = _archive(tmp_path / "in", 4, slow=1)
    out = tmp_path / "out"
    proc = _start([str(src), "-o", str(out), "--jobs", "2", "-q"], misbehaving_env(tmp_path, "blocked", 120))
    try:
        assert wait_for(lambda: _journaled(out) >= 4, 60)
        time.sleep(0.3)  # the slow file is in flight
        start = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        took = time.monotonic() - start
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM
    print(f"stopped {took:.2f} s after SIGTERM")
    assert took < 1.5, took  # the commit of 4 inputs included
    assert [r["path"] for r in read_csv(out / "manifest.csv")] == [str(src / f"a{i:02d}.txt") for i in range(4)]
    assert wait_for(lambda: not session_processes(proc.pid), 3), session_processes(proc.pid)
    assert not _no_temporaries(out) and not (out / ".gipextract-journal").exists()


def test_a_killed_overwrite_never_lists_another_runs_report(tmp_path):
    src = _archive(tmp_path / "in", 5, slow=1)
    out = tmp_path / "out"
    run_batch([str(src)], out, jobs=1, reports=True)
    first = {r["path"]: r["sha256"] for r in read_csv(out / "manifest.csv")}
    _archive(tmp_path / "in", 5, slow=1, scale=40)  # every input changes
    proc = _start([str(src), "-o", str(out), "--jobs", "2", "-q", "--overwrite", "--reports"],
                  misbehaving_env(tmp_path, "sleep", 60))
    try:
        assert wait_for(lambda: _journaled(out) >= 5, 60)
        _reports_match_manifest(out)  # the old run's rows still point at the old run's reports
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(5)
    finally:
        if proc.poll() is None:
            proc.kill()
    _reports_match_manifest(out)
    assert {r["path"]: r["sha256"] for r in read_csv(out / "manifest.csv")} == first
    summary = run_batch([str(src)], out, jobs=1, resume=True, reports=True)
    assert (summary.reused, summary.counts["ok"]) == (5, 6)
    _reports_match_manifest(out)
    fresh = tmp_path / "fresh"
    run_batch([str(src)], fresh, jobs=1, reports=True)
    assert outputs(out) == outputs(fresh)


def test_resume_never_keeps_a_row_whose_report_is_of_another_run(tmp_path):
    src = _archive(tmp_path / "in", 3)
    out = tmp_path / "out"
    run_batch([str(src)], out, jobs=1, reports=True)
    rows = read_csv(out / "manifest.csv")
    # another run's report.json in place of the first input's (what an old killed --overwrite could leave)
    (out / rows[0]["report"]).write_bytes((out / rows[1]["report"]).read_bytes())
    summary = run_batch([str(src)], out, jobs=1, resume=True, reports=True)
    assert summary.reused == 2
    _reports_match_manifest(out)


def test_a_worker_stuck_past_its_time_limit_records_the_timeout(tmp_path):
    src = _archive(tmp_path / "in", 2, slow=1)
    out = tmp_path / "out"
    proc = _start([str(src), "-o", str(out), "--jobs", "2", "-q", "--timeout", "1"],
                  misbehaving_env(tmp_path, "blocked", 600))
    try:
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
    rows = {Path(r["path"]).name: r for r in read_csv(out / "manifest.csv")}
    assert proc.returncode == 1
    assert (rows["z_slow0.txt"]["status"], rows["z_slow0.txt"]["error"]) == ("failed", timeout_error(1))
    assert [rows[f"a0{i}.txt"]["status"] for i in range(2)] == ["ok", "ok"]


def test_a_file_over_the_memory_limit_fails_alone_in_one_line(tmp_path):
    src = _archive(tmp_path / "in", 2, extra={"hog.txt": synth().variant("v2021_city", agency="示例市", year=2024,
                                                                           scale=1)})
    out = tmp_path / "out"
    proc = _start([str(src), "-o", str(out), "--jobs", "2", "-q", "--memory-limit", "1"],
                  misbehaving_env(tmp_path, "hog", 3))
    proc.wait(120)
    rows = {Path(r["path"]).name: r for r in read_csv(out / "manifest.csv")}
    assert proc.returncode == 1
    assert (rows["hog.txt"]["status"], rows["hog.txt"]["error"]) == ("failed", memory_error(1))
    assert [rows[f"a0{i}.txt"]["status"] for i in range(2)] == ["ok", "ok"]


def _small_files():
    resource.setrlimit(resource.RLIMIT_FSIZE, (60_000, 60_000))  # a disk that fills up (EFBIG)


@pytest.mark.parametrize("reports", [False, True])
def test_a_full_disk_fails_in_one_line_and_leaves_no_temporary_file(tmp_path, reports):
    src = _archive(tmp_path / "in", 12)
    out = tmp_path / "out"
    args = [str(src), "-o", str(out), "--jobs", "1", "-q"] + (["--reports"] if reports else [])
    proc = _start(args, dict(os.environ), preexec_fn=_small_files)
    proc.wait(120)
    lines = _stderr(out).strip().splitlines()
    assert proc.returncode not in (0, 143) and len(lines) == 1 and "File too large" in lines[0], lines
    assert not (out / "manifest.csv").exists()
    assert not _no_temporaries(out)


_FILL_THE_DATABASE = """
import resource, sys
resource.setrlimit(resource.RLIMIT_FSIZE, (60_000, 60_000))
from gipextract.batch.outdir import FINDING_COLUMNS, MANIFEST_COLUMNS
from gipextract.export.dataset import KEY_COLUMNS, REPORT_COLUMNS
from gipextract.export.sqlite import DatabaseWriter
db = DatabaseWriter(sys.argv[1], {"keys": KEY_COLUMNS, "manifest": MANIFEST_COLUMNS, "reports": REPORT_COLUMNS,
                                  "findings": FINDING_COLUMNS})
try:
    for i in range(1000):
        db.add_cells(f"r{i}.txt", [f"t3.k{j}" for j in range(200)], range(200), ["件"] * 200, ["1"] * 200, [""] * 200)
except OSError as e:
    print(e.strerror)
"""


def test_a_database_that_cannot_grow_is_an_os_error_naming_it(tmp_path):
    # the batch turns an OSError into its one-line "cannot write output" (as for the CSV files above)
    got = subprocess.run([sys.executable, "-c", _FILL_THE_DATABASE, str(tmp_path / "x.db")], capture_output=True,
                         text=True, timeout=120)
    assert got.returncode == 0 and got.stderr == "", got.stderr
    assert got.stdout.strip() == "disk I/O error (gipextract.db)"


def test_the_journal_of_a_killed_batch_needs_resume_or_overwrite(tmp_path):
    from gipextract.batch import OutdirInUse
    from gipextract.batch.worker import FileResult

    src = _archive(tmp_path / "in", 2)
    out = tmp_path / "out"
    out.mkdir()
    journal = Journal(out)
    journal.begin(keep=False)
    journal.append(FileResult(path="x.txt", sha256="0" * 64, format="text", status="ok"))
    journal.close()
    with pytest.raises(OutdirInUse, match="journal"):
        run_batch([str(src)], out, jobs=1)
    assert run_batch([str(src)], out, jobs=1, overwrite=True).counts["ok"] == 2
    assert not (out / ".gipextract-journal").exists()


def test_a_journal_cut_short_keeps_its_whole_records(tmp_path):
    from gipextract.batch.worker import FileResult

    journal = Journal(tmp_path)
    journal.begin(keep=False)
    columns = (("t3.k.a", "t3.k.b"), ("t3", "t3"), ("k", "k"), ("a", "b"), ("行, 一", "行, 一"), ("列", "列"), (1, 2.5),
               ("件", "万元"), ("1", " 2.5"), (None, "x"))
    a = FileResult(path="a.txt", sha256="a" * 64, format="text", status="ok", agency="示例市", year=2024,
                   template="V2021", n_cells=2, cells_columns=columns,
                   facts={"t3.k": (1, None)}, wide=("1", ""), narrative_csv=b"n\n")
    journal.append(a)
    journal.append(FileResult(path="b.txt", sha256="b" * 64, format="text", status="ok", findings_csv=b"y" * 100))
    journal.close()
    data = journal.path.read_bytes()
    journal.path.write_bytes(data[:-10])  # killed while writing the second record
    index = journal.index()
    assert list(index) == ["a.txt"] and journal.read(index["a.txt"][0]) == a
    journal.begin(keep=True)  # a resume appends after the last whole record
    journal.append(FileResult(path="c.txt", sha256="c" * 64, format="text", status="ok"))
    journal.close()
    assert list(journal.index()) == ["a.txt", "c.txt"]


def test_the_memory_limit_holds_in_process_with_one_job(monkeypatch, tmp_path):
    import gipextract

    def read_report(data, fmt, name):
        if "hog" in name:
            bytearray(3 << 30)
        return gipextract.read_report(data, fmt, name=name)

    use_reader(monkeypatch, read_report)
    src = _archive(tmp_path / "in", 1, extra={"hog.txt": synth().variant("v2021_city", agency="示例市", year=2024)})
    out = tmp_path / "out"
    limit = resource.getrlimit(resource.RLIMIT_AS)
    summary = run_batch([str(src)], out, jobs=1, memory_limit=1)
    assert resource.getrlimit(resource.RLIMIT_AS) == limit  # restored
    rows = {Path(r["path"]).name: r for r in read_csv(out / "manifest.csv")}
    assert (rows["hog.txt"]["status"], rows["hog.txt"]["error"]) == ("failed", memory_error(1))
    assert rows["a00.txt"]["status"] == "ok" and summary.counts["failed"] == 1


def test_a_second_batch_into_a_directory_in_use_is_refused_and_changes_nothing(tmp_path):
    """While one batch writes into OUTDIR (it holds a lock on the directory),
    another into the same OUTDIR — even with --overwrite or --resume — is a
    usage error raised before it reads or writes anything; the lock goes with
    the batch that held it, and a directory a refused batch made is not left behind."""
    from gipextract.batch import OutdirInUse
    from gipextract.batch.run import _outdir_lock

    src = tmp_path / "in"
    write(src / "a.txt", (FIXTURES / "v2021_city.txt").read_bytes())
    out = tmp_path / "out"
    run_batch([str(src)], out, jobs=1)
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    with _outdir_lock(out):  # as a running batch holds it
        for options in ({"overwrite": True}, {"resume": True}, {}):
            with pytest.raises(OutdirInUse, match="another gipextract batch is writing into it now"):
                run_batch([str(src)], out, jobs=1, **options)
        assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before
        fresh = tmp_path / "fresh"
        with _outdir_lock(fresh):
            with pytest.raises(OutdirInUse):
                run_batch([str(src)], fresh, jobs=1)
        assert not fresh.exists()
    assert run_batch([str(src)], out, jobs=1, overwrite=True).counts["ok"] == 1
