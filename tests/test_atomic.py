"""The one atomic writer (gipextract.atomic): a set of files survives a kill
at any of its renames — the next run (or ``recover``) completes it from its
journal and leaves no temporary file, backup or journal behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gipextract.atomic import recover, write_file, write_set

from .conftest import FIXTURES

#: Run ``gipextract extract`` in a child that SIGKILLs itself at its Nth rename of a staged file
#: (``stage``: while writing its Nth staged file, before any rename).
CHILD = """
import os, signal, sys
from gipextract import cli
at, n = sys.argv[1], int(sys.argv[2])
real_replace, real_fdopen, count = os.replace, os.fdopen, [0]
def replace(src, dst, *a, **k):
    if at == "rename" and str(src).endswith(".tmp"):
        count[0] += 1
        if count[0] == n:
            os.kill(os.getpid(), signal.SIGKILL)
    return real_replace(src, dst, *a, **k)
def fdopen(fd, *a, **k):
    if at == "stage":
        count[0] += 1
        if count[0] == n:
            os.kill(os.getpid(), signal.SIGKILL)
    return real_fdopen(fd, *a, **k)
os.replace, os.fdopen = replace, fdopen
sys.argv = ["gipextract", "extract", *sys.argv[3:]]
cli.main()
"""

SET = ["cells.csv", "findings.csv", "report.json", "t2.csv", "t3.csv", "t4.csv"]


def _extract(*args: str, kill: tuple[str, int] | None = None) -> subprocess.CompletedProcess:
    at, n = kill or ("never", 0)
    return subprocess.run([sys.executable, "-c", CHILD, at, str(n), *args], capture_output=True, text=True)


def _contents(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    """The old set (v2019_county) and the new set (v2021_city) as extract writes them."""
    base = tmp_path_factory.mktemp("sets")
    assert _extract(str(FIXTURES / "v2019_county.txt"), "-q", "-o", str(base / "old")).returncode == 0
    assert _extract(str(FIXTURES / "v2021_city.txt"), "-q", "-o", str(base / "new")).returncode == 0
    return _contents(base / "old"), _contents(base / "new")


def _old_dir(tmp_path: Path, old: dict[str, bytes]) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    for name, data in old.items():
        (out / name).write_bytes(data)
    return out


@pytest.mark.parametrize("n", [1, 4, len(SET)])
def test_extract_killed_at_a_rename_is_completed_by_the_next_run(tmp_path, sets, n):
    old, new = sets
    out = _old_dir(tmp_path, old)
    r = _extract(str(FIXTURES / "v2021_city.txt"), "-q", "-o", str(out), kill=("rename", n))
    assert r.returncode == -signal.SIGKILL
    left = sorted(p.name for p in out.iterdir() if p.name.startswith("."))
    assert any(name.endswith(".journal") for name in left)  # the kill left its journal
    recover(out)  # what the next write to the directory does first
    assert _contents(out) == new  # rolled forward: the whole new set, nothing else


@pytest.mark.parametrize("n", [1, len(SET)])
def test_extract_killed_while_staging_leaves_the_old_set_and_the_next_run_cleans_up(tmp_path, sets, n):
    old, new = sets
    out = _old_dir(tmp_path, old)
    r = _extract(str(FIXTURES / "v2021_city.txt"), "-q", "-o", str(out), kill=("stage", n))
    assert r.returncode == -signal.SIGKILL
    assert {k: v for k, v in _contents(out).items() if not k.startswith(".")} == old
    r = _extract(str(FIXTURES / "v2021_city.txt"), "-q", "-o", str(out))  # the next run
    assert r.returncode == 0, r.stderr
    assert _contents(out) == new


def test_next_extract_after_a_kill_at_a_rename_leaves_no_debris(tmp_path, sets):
    old, new = sets
    out = _old_dir(tmp_path, old)
    assert _extract(str(FIXTURES / "v2021_city.txt"), "-q", "-o", str(out), kill=("rename", 3)).returncode < 0
    assert _extract(str(FIXTURES / "v2019_county.txt"), "-q", "-o", str(out)).returncode == 0
    assert _contents(out) == old


def test_recover_leaves_files_of_a_running_writer_alone(tmp_path):
    mine = tmp_path / f".a.csv.gipx-{os.getpid()}-0123abcd.tmp"
    mine.write_text("in flight")
    journal = tmp_path / f".gipextract-{os.getpid()}-0123abcd.journal"
    journal.write_text("[]")
    recover(tmp_path)
    assert mine.exists() and journal.exists()


def test_recover_drops_a_journal_cut_short(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    (tmp_path / f".gipextract-{dead}-0123abcd.journal").write_text('[{"tmp": ')
    (tmp_path / f".a.csv.gipx-{dead}-0123abcd.tmp").write_text("staged")
    (tmp_path / "a.csv").write_text("old")
    recover(tmp_path)
    assert _contents(tmp_path) == {"a.csv": b"old"}


def test_write_file_and_streamed_content(tmp_path):
    path = write_file(tmp_path / "d" / "x.bin", lambda fh: fh.write(b"streamed"))
    assert path.read_bytes() == b"streamed"
    write_set({tmp_path / "a.txt": "ä", tmp_path / "b.txt": b"b"}, encoding="utf-8-sig")
    assert (tmp_path / "a.txt").read_bytes() == "\ufeffä".encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt", "d"]
