"""JSON export: one document per report (Chinese kept as is).

Shape::

    {
      "gipextract": "0.1.0",
      "source": {"path", "format", "sha256", "encoding", "converted_by"},
      "agency": str|null, "year": int|null, "template": "V2019"|"V2021"|"MIXED"|…,
      "table_versions": {"t2": "V2019", …},
      "title": [str, …],
      "sections": {"s1": {"heading": str, "text": str}, …},
      "tables": {"t3": {"granted": {"natural_person":
                   {"value": 2, "unit": "件", "raw": "2", "flag": null, "where": "line 117"}}}, …},
      "extra_rows": [{"table", "label", "raw", "where"}, …],
      "findings": [{"rule", "severity", "table", "cells", "expected", "actual", "message"}, …],
      "narrative": [{"section", "sentence", "span", "number", "value", "unit", "rule",
                     "readings", "also", "status", "table_values"}, …]
    }

A cell read by OCR also has ``"confidence"`` (the recogniser's score, 0–1).
``tables`` nests each cell under the parts of its canonical key (spec §10):
``tables["t2"]["art20_5"]["administrative_licensing"]["decisions"]``.
"""

from __future__ import annotations

import json

from .. import report as _report


def report_to_dict(report: _report.Report) -> dict:
    """The JSON document of ``report`` as a dict (module docstring): the
    model's own :meth:`~gipextract.report.Report.to_dict`."""
    return report.to_dict()


def to_json(report: _report.Report, indent: int | None = 2) -> str:
    """``report`` as JSON text, non-ASCII kept (no ``\\uXXXX``), ending in a newline."""
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=indent) + "\n"
