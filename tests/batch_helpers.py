"""Helpers for the batch tests: synthetic archives and worker functions that
misbehave on purpose (module-level, so that worker processes can import them)."""

from __future__ import annotations

import csv
import importlib.util
import os
import signal
import sys
import time
from pathlib import Path

import pytest

import gipextract
from gipextract.batch.worker import FileResult, Task, convert_one

from .conftest import FIXTURES


def synth():
    """The fixtures/synth.py module."""
    if "synth" not in sys.modules:
        spec = importlib.util.spec_from_file_location("synth", FIXTURES / "synth.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules["synth"] = module
    return sys.modules["synth"]


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def outputs(outdir: Path) -> dict[str, bytes]:
    """Every output file's bytes, by path relative to ``outdir``."""
    return {p.relative_to(outdir).as_posix(): p.read_bytes() for p in sorted(outdir.rglob("*")) if p.is_file()}


def crashy_many(tasks: list[Task]) -> list[FileResult]:
    """convert_many, except that a file named ``*crash*`` kills its worker process."""
    out = []
    for t in tasks:
        if "crash" in os.path.basename(t.path):
            os._exit(9)
        out.append(convert_one(t))
    return out


def slow_many(tasks: list[Task]) -> list[FileResult]:
    """convert_many, slowly (for interrupting a running batch)."""
    time.sleep(0.05)
    return [convert_one(t) for t in tasks]


def check_datapackage(outdir: Path) -> dict:
    """Assert that ``outdir/datapackage.json`` describes the CSV files beside
    it: each resource's path, size, sha256 and dialect; its header is its
    fields; every value has its field's type (or is the missing value ``""``);
    primary keys are unique and foreign keys resolve.  Returns the descriptor."""
    import hashlib
    import json
    import math

    pkg = json.loads((outdir / "datapackage.json").read_text(encoding="utf-8"))
    assert pkg["profile"] == "tabular-data-package"
    assert sorted(r["name"] for r in pkg["resources"]) == ["cells", "findings", "keys", "manifest", "reports"]
    tables = {}
    for res in pkg["resources"]:
        data = (outdir / res["path"]).read_bytes()
        assert res["bytes"] == len(data) and res["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
        assert res["encoding"] == "utf-8" and not data.startswith(b"\xef\xbb\xbf") and b"\r\n" not in data
        assert data.endswith(b"\n") and res["dialect"]["lineTerminator"] == "\n"
        schema = res["schema"]
        rows = read_csv(outdir / res["path"])
        header = data.split(b"\n", 1)[0].decode("utf-8").split(",")
        assert [f["name"] for f in schema["fields"]] == header
        for f in schema["fields"]:
            for r in rows:
                v = r[f["name"]]
                if v in schema["missingValues"]:
                    continue
                if f["type"] == "integer":
                    assert v.lstrip("-").isdigit(), (res["name"], f["name"], v)
                elif f["type"] == "number":
                    assert math.isfinite(float(v)), (res["name"], f["name"], v)
                else:
                    assert f["type"] == "string"
        if "primaryKey" in schema:
            keys = [tuple(r[k] for k in schema["primaryKey"]) for r in rows]
            assert len(keys) == len(set(keys)), res["name"]
        tables[res["name"]] = (schema, rows)
    for name, (schema, rows) in tables.items():
        for fk in schema.get("foreignKeys", []):
            target_schema, target_rows = tables[fk["reference"]["resource"]]
            targets = {tuple(r[k] for k in fk["reference"]["fields"]) for r in target_rows}
            assert {tuple(r[k] for k in fk["fields"]) for r in rows} <= targets, name
    return pkg


def use_reader(monkeypatch, read_report) -> None:
    """Make the batch worker read every file with ``read_report(data, fmt, name)``
    (a fake that sleeps, fails, signals …) in place of the pipeline: the worker
    calls :func:`gipextract.pipeline.read_located`, here without a located
    document (a review page then reads its input again)."""
    import gipextract.batch.worker as worker

    def read_located(data, fmt, name=None):
        return None, read_report(data, fmt, name=name)

    monkeypatch.setattr(worker, "read_located", read_located)


def signal_on_read(monkeypatch, signum: int, n: int) -> list[str]:
    """Make the in-process worker send ``signum`` to this process as it reads
    the ``n``-th file (while the batch waits for that result); returns the
    names read, in order."""

    reads: list[str] = []

    def read_report(data, fmt, name):
        reads.append(name)
        if len(reads) == n:
            os.kill(os.getpid(), signum)
        return gipextract.read_report(data, fmt, name=name)

    use_reader(monkeypatch, read_report)
    return reads


def _sigterm_reached_the_test(signum, frame):
    raise AssertionError("SIGTERM reached the test: the batch did not handle it")


@pytest.fixture
def sigterm_guard():
    """While the test runs, a SIGTERM the batch does not handle fails the test
    instead of killing pytest; yields that handler."""
    previous = signal.signal(signal.SIGTERM, _sigterm_reached_the_test)
    try:
        yield _sigterm_reached_the_test
    finally:
        signal.signal(signal.SIGTERM, previous)


# -- misbehaving batches in a child process (tests/test_batch_faults.py) ------------------------------------

_SITECUSTOMIZE = '''
import os
if os.environ.get("GIPX_TEST_MISBEHAVE"):
    import signal
    import time

    import gipextract.batch.worker as _w

    _mode, _arg = os.environ["GIPX_TEST_MISBEHAVE"].split(":")
    _real = _w.read_located

    def read_located(data, fmt, name):
        base = os.path.basename(name)
        if "slow" in base:
            if _mode == "blocked":  # stuck where no alarm reaches it (C code)
                signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
            time.sleep(float(_arg))
        if "hog" in base:
            hog = bytearray(int(float(_arg) * (1 << 30)))
            hog[::4096] = b"x" * len(hog[::4096])
        return _real(data, fmt, name=name)

    _w.read_located = read_located
'''


def misbehaving_env(tmp_path: Path, mode: str, arg: float) -> dict[str, str]:
    """The environment of a child batch whose worker reads files named
    ``*slow*`` slowly (``mode`` ``sleep``: ``arg`` seconds; ``blocked``: the
    same with ``SIGALRM`` blocked, as in C code) and makes files named
    ``*hog*`` allocate ``arg`` GB (``hog``).  Works in every process of the
    batch (a ``sitecustomize`` on ``PYTHONPATH``)."""
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(_SITECUSTOMIZE, encoding="utf-8")
    env = dict(os.environ)
    root = str(Path(gipextract.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([str(site), root] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env["GIPX_TEST_MISBEHAVE"] = f"{mode}:{arg}"
    return env


def session_processes(sid: int) -> list[int]:
    """Pids of the live processes of session ``sid`` (Linux /proc)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(stat[3]) == sid and stat[0] != b"Z":  # fields after the name: state, ppid, pgrp, session
            out.append(int(entry))
    return out


def wait_for(predicate, timeout: float, every: float = 0.05) -> bool:
    """Poll ``predicate`` until it is true (returns True) or ``timeout`` seconds pass (False)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(every)
    return bool(predicate())
