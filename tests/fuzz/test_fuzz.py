"""Fuzzing every reader through ``read_report`` (oracle: tests/fuzz/harness.py).

CI runs the ``ci`` Hypothesis profile (a few dozen inputs per reader, ≲ 60 s in
all); ``GIPEXTRACT_FUZZ=long`` selects the ``long`` profile (thousands per reader;
``python -m tests.fuzz.run`` runs it for a set time with statistics).  Every
input that ever failed is kept under ``tests/fuzz/regressions/<reader>/`` and
replayed here; a ``.xfail`` file beside one gives the reason it still fails
(the module that owns the fix; a reason starting ``slow:`` is replayed only by
the long profile).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from .harness import READERS, REGRESSIONS, FuzzFailure, check, mutated, save_failure, seeds

settings.register_profile("ci", max_examples=int(os.environ.get("GIPEXTRACT_FUZZ_EXAMPLES", "25")),
                          deadline=None, derandomize=True, database=None,
                          suppress_health_check=list(HealthCheck))
settings.register_profile("long", max_examples=int(os.environ.get("GIPEXTRACT_FUZZ_EXAMPLES", "5000")),
                          deadline=None, suppress_health_check=list(HealthCheck))
PROFILE = "long" if os.environ.get("GIPEXTRACT_FUZZ") == "long" else "ci"
#: PDFs are slow to read: fewer of them in CI.
SCALE = {"pdf": 0.4, "docx": 0.6}


def _fuzz(reader: str):
    base = settings.get_profile(PROFILE)
    seeds(reader)  # built outside the strategy (rendering may use `random`)

    @settings(base, max_examples=max(5, int(base.max_examples * SCALE.get(reader, 1))))
    @given(data=mutated(reader))
    def run(data: bytes) -> None:
        try:
            check(data, reader)
        except FuzzFailure as f:
            save_failure(data, reader, f)
            raise
    return run


@pytest.mark.parametrize("reader", READERS)
def test_fuzz_reader(reader):
    _fuzz(reader)()


def _regressions() -> list:
    cases = []
    for path in sorted(REGRESSIONS.glob("*/*.bin")):
        reason = path.with_suffix(".xfail")
        marks = []
        if reason.exists():  # "slow: …" — a hang is not replayed in every run (GIPEXTRACT_FUZZ=long does)
            text = reason.read_text().strip()
            run = not text.startswith("slow:") or PROFILE == "long"
            marks = [pytest.mark.xfail(reason=text, strict=False, run=run)]
        cases.append(pytest.param(path, id=f"{path.parent.name}/{path.stem}", marks=marks))
    return cases


@pytest.mark.parametrize("path", _regressions())
def test_fuzz_regression(path: Path):
    check(path.read_bytes(), path.parent.name)
