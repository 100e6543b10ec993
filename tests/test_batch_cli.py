"""`gipextract batch` on the command line: exit codes, messages, refusal, corpus."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading

import pytest
from click.testing import CliRunner

from gipextract.cli import main
from gipextract.status import IDENTITIES, STATUSES

from .batch_helpers import outputs, read_csv, signal_on_read, sigterm_guard, synth, write  # noqa: F401
from .conftest import FIXTURES


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_batch_all_read_exits_0_and_says_what_it_did(tmp_path):
    write(tmp_path / "in" / "a.txt", synth().variant("v2021_city"))
    write(tmp_path / "in" / "news.txt", (FIXTURES / "not_a_report.txt").read_bytes())
    r = run("batch", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--jobs", "1")
    assert r.exit_code == 0, r.output
    assert r.stdout == ""
    assert "2 of 2 inputs: 1 ok, 0 partial, 0 empty, 0 needs_ocr, 0 pre2019, 1 not_a_report, 0 failed" in r.stderr
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


def test_corpus_lists_every_file_and_pre2019_is_pre2019(corpus, tmp_path):
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
        assert (row["status"], row["template"]) == ("pre2019", "PRE2019"), row
    for x in rows:
        assert x["status"] in STATUSES and x["identities"] in IDENTITIES
        assert (x["status"] == "failed") == bool(x["error"])


# -- arguments that cannot be right: usage errors, at once ---------------------------------


def test_batch_resume_with_overwrite_is_a_usage_error(tmp_path):
    write(tmp_path / "in" / "a.txt", synth().variant("v2021_city"))
    assert run("batch", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-j", "1", "-q").exit_code == 0
    before = outputs(tmp_path / "out")
    r = run("batch", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-j", "1", "--resume", "--overwrite")
    assert r.exit_code == 2 and "Traceback" not in r.stderr
    assert "Error: --resume and --overwrite contradict each other" in r.stderr
    assert outputs(tmp_path / "out") == before  # nothing touched
    r = run("batch", str(tmp_path / "in"), "-o", str(tmp_path / "new"), "--overwrite", "--resume")
    assert r.exit_code == 2 and not (tmp_path / "new").exists()


@pytest.mark.parametrize("address", ["notanaddress", "tcp://scheduler", "http://scheduler:8786",
                                     "tcp://scheduler:0", "tcp://scheduler:port", ""])
def test_batch_malformed_dask_address_is_a_usage_error(tmp_path, address):
    write(tmp_path / "in" / "a.txt", synth().variant("v2021_city"))
    r = run("batch", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--dask-scheduler", address)
    assert r.exit_code == 2, r.output
    error = [line for line in r.stderr.splitlines() if line.startswith("Error:")]
    assert error == [error[0]] and f"--dask-scheduler {address!r} is not a Dask scheduler address" in error[0]
    assert "Traceback" not in r.stderr and not (tmp_path / "out").exists()


def _batch_process(*args: str, connect_timeout: float) -> subprocess.CompletedProcess:
    """``gipextract batch ARGS`` in a fresh interpreter, with the Dask connect
    timeout shortened (10 s by default): what happens at the interpreter's exit
    (a half-made Dask client's ``__del__``) shows in its stderr."""
    code = ("import sys, gipextract.batch.run as r; r.DASK_CONNECT_TIMEOUT = float(sys.argv[1]); "
            "from gipextract.cli import main; main(sys.argv[2:], prog_name='gipextract')")
    return subprocess.run([sys.executable, "-c", code, str(connect_timeout), "batch", *args],
                          capture_output=True, text=True, timeout=120)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_batch_unreachable_dask_scheduler_fails_in_one_line(tmp_path):
    write(tmp_path / "in" / "a.txt", synth().variant("v2021_city"))
    address = f"tcp://127.0.0.1:{_closed_port()}"
    r = _batch_process(str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--dask-scheduler", address,
                       connect_timeout=0.5)
    assert r.returncode == 1
    assert r.stderr.splitlines() == [f"gipextract: error: cannot connect to the Dask scheduler at {address}: "
                                     f"Timed out trying to connect to {address} after 0.5 s"]
    assert not (tmp_path / "out").exists()


def test_batch_peer_that_is_no_dask_scheduler_fails_in_one_line(tmp_path):
    """A port where something else answers (here: HTTP error pages): one line,
    and no ``Exception ignored in: Client.__del__`` traceback at exit."""
    write(tmp_path / "in" / "a.txt", synth().variant("v2021_city"))
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    accepted = []

    def answer():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            accepted.append(conn)
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n" * 16)

    threading.Thread(target=answer, daemon=True).start()
    address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
    try:
        r = _batch_process(str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--dask-scheduler", address,
                           connect_timeout=1)
    finally:
        server.close()
        for conn in accepted:
            conn.close()
    assert r.returncode == 1
    assert len(r.stderr.splitlines()) == 1, r.stderr
    assert r.stderr.startswith(f"gipextract: error: cannot connect to the Dask scheduler at {address}: it does not "
                               "answer as a Dask scheduler (")
    assert not (tmp_path / "out").exists()


def test_batch_help_states_the_dask_connect_timeout():
    from gipextract.batch import DASK_CONNECT_TIMEOUT

    r = run("batch", "--help")
    assert f"within {DASK_CONNECT_TIMEOUT:g} s" in " ".join(r.stdout.split())


# -- SIGTERM ----------------------------------------------------------------------------------


def test_batch_sigterm_exits_143_and_commits_what_was_done(monkeypatch, tmp_path, sigterm_guard):  # noqa: F811 (a fixture)
    for i in range(4):
        write(tmp_path / "in" / f"r{i}.txt", synth().variant("v2021_city", scale=i + 1))
    signal_on_read(monkeypatch, signal.SIGTERM, 3)
    r = run("batch", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-j", "1", "-q")
    assert signal.getsignal(signal.SIGTERM) is sigterm_guard
    assert r.exit_code == 143
    assert r.stderr == (f"gipextract: interrupted (SIGTERM): the 2 inputs done are listed in "
                        f"{tmp_path / 'out' / 'manifest.csv'}; rerun with --resume to finish\n")
    assert [os.path.basename(x["path"]) for x in read_csv(tmp_path / "out" / "manifest.csv")] == ["r0.txt", "r1.txt"]
    assert not list((tmp_path / "out").rglob("*.tmp"))
    monkeypatch.undo()
    r = run("batch", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-j", "1", "--resume")
    assert r.exit_code == 0 and "4 of 4 inputs: 4 ok" in r.stderr and "(2 kept from the previous run)" in r.stderr


def test_a_batch_with_no_input_file_warns_that_its_dataset_is_empty(tmp_path):
    """An empty folder, or --include matching nothing: still a (header-only)
    dataset and exit 0, but one line on stderr says no input was found."""
    (tmp_path / "empty").mkdir()
    (tmp_path / "some").mkdir()
    (tmp_path / "some" / "a.txt").write_text("x", encoding="utf-8")
    for args, said in (([str(tmp_path / "empty")], "no input file found in"),
                       ([str(tmp_path / "some"), "--include", "*.xyz"], "(with the --include/--exclude given)")):
        r = CliRunner().invoke(main, ["batch", *args, "-o", str(tmp_path / "out"), "--overwrite", "--no-review"])
        assert r.exit_code == 0 and said in r.stderr and "the dataset written is empty" in r.stderr
        assert (tmp_path / "out" / "manifest.csv").read_text(encoding="utf-8").count("\n") == 1
    r = CliRunner().invoke(main, ["batch", str(tmp_path / "some"), "-o", str(tmp_path / "out"), "--overwrite"])
    assert r.exit_code == 0 and "no input file found" not in r.stderr
