"""Shared test helpers.

Real reports live in ``../shared/corpus`` (from the project root), never in
this repository; tests that need them use the ``corpus`` fixture, which skips
cleanly when the directory is absent.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
CORPUS = ROOT.parent / "shared" / "corpus"
SEED = CORPUS / "000_9ae0767dbc617b7e.txt"


@pytest.fixture
def corpus() -> Path:
    """The real-report corpus directory; skips the test when it is absent."""
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not present")
    return CORPUS


def load_expected(path: Path) -> dict:
    """A truth/expected file (format: ../shared/corpus/truth/README.md)."""
    return json.loads(path.read_text(encoding="utf-8"))


def truth(name: str) -> dict:
    """The corpus truth file of report ``name``; skips when absent."""
    path = CORPUS / "truth" / f"{name}.json"
    if not path.exists():
        pytest.skip(f"no truth file for {name}")
    return load_expected(path)


def _same(expected, cell) -> bool:
    if cell is None:
        return False
    if expected is None:
        return cell.value is None
    return cell.value is not None and math.isclose(float(cell.value), float(expected), rel_tol=0, abs_tol=1e-9)


def cell_mismatches(report, expected: dict, *, check_flags: bool = True) -> list[str]:
    """Every way ``report`` differs from an expected/truth document: value,
    flag of a null cell, unit of a money cell.  Empty when all agree."""
    out = []
    for key, value in expected["cells"].items():
        cell = report.cells.get(key)
        if not _same(value, cell):
            out.append(f"{key}: expected {value!r}, got {cell.value if cell else 'no cell'!r}"
                       f" (raw {cell.raw if cell else None!r}, flag {cell.flag if cell else None})")
        elif check_flags and value is None and cell.flag != expected.get("flags", {}).get(key):
            out.append(f"{key}: expected flag {expected.get('flags', {}).get(key)!r}, got {cell.flag!r}")
    for key, unit in expected.get("units", {}).items():
        cell = report.cells.get(key)
        if cell is not None and cell.unit != unit:
            out.append(f"{key}: expected unit {unit!r}, got {cell.unit!r}")
    for key, raw in expected.get("raw", {}).items():
        cell = report.cells.get(key)
        if cell is not None and cell.raw != raw:
            out.append(f"{key}: expected raw {raw!r}, got {cell.raw!r}")
    return out


def violation_mismatches(report, expected: dict) -> list[str]:
    """Every way the error findings of ``report`` differ from the
    ``violations`` of an expected/truth document: a violation no error finding
    of its rule covers (its cells all among the finding's), or an error
    finding that covers no violation.  Empty when they agree."""
    violations = expected.get("violations", [])
    errors = [f for f in report.findings if f.severity == "error"]

    def covers(f, v) -> bool:
        return f.rule == v["rule"] and set(v["cells"]) <= set(f.cells)

    out = [f"not found: {v['rule']} on {v['cells']}" for v in violations if not any(covers(f, v) for f in errors)]
    out += [f"unexpected: {f.rule} on {f.cells}: {f.message}" for f in errors if not any(covers(f, v) for v in violations)]
    return out
