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


def signal_on_read(monkeypatch, signum: int, n: int) -> list[str]:
    """Make the in-process worker send ``signum`` to this process as it reads
    the ``n``-th file (while the batch waits for that result); returns the
    names read, in order."""
    import gipextract.batch.worker as worker

    reads: list[str] = []

    def read_report(data, fmt, name):
        reads.append(name)
        if len(reads) == n:
            os.kill(os.getpid(), signum)
        return gipextract.read_report(data, fmt, name=name)

    monkeypatch.setattr(worker, "read_report", read_report)
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
