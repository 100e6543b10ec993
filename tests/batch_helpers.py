"""Helpers for the batch tests: synthetic archives and worker functions that
misbehave on purpose (module-level, so that worker processes can import them)."""

from __future__ import annotations

import csv
import importlib.util
import os
import sys
import time
from pathlib import Path

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
