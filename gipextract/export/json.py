"""JSON export: one document per report (Chinese kept as is).

Shape::

    {
      "gipextract": "0.1.0",
      "source": {"path", "format", "sha256", "encoding"},
      "agency": str|null, "year": int|null, "template": "V2019"|"V2021"|"MIXED"|…,
      "table_versions": {"t2": "V2019", …},
      "title": [str, …],
      "sections": {"s1": {"heading": str, "text": str}, …},
      "tables": {"t3": {"granted": {"natural_person":
                   {"value": 2, "unit": "件", "raw": "2", "flag": null, "where": "line 117"}}}, …},
      "extra_rows": [{"table", "label", "raw", "where"}, …],
      "findings": [{"rule", "severity", "table", "cells", "expected", "actual", "message"}, …]
    }

A cell read by OCR also has ``"confidence"`` (the recogniser's score, 0–1).
``tables`` nests each cell under the parts of its canonical key (spec §10):
``tables["t2"]["art20_5"]["administrative_licensing"]["decisions"]``.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from .. import report as _report


def report_to_dict(report: _report.Report) -> dict:
    """The JSON document of ``report`` as a dict (module docstring)."""
    from .. import __version__

    tables: dict = {}
    for c in report.cells.values():
        node = tables
        for part in c.key.split(".")[:-1]:
            node = node.setdefault(part, {})
        node[c.col_key] = {"value": c.value, "unit": c.unit, "raw": c.raw, "flag": c.flag, "where": c.where}
        if c.confidence is not None:  # read by OCR
            node[c.col_key]["confidence"] = c.confidence
    return {
        "gipextract": __version__,
        "source": asdict(report.source),
        "agency": report.agency,
        "year": report.year,
        "template": report.template,
        "table_versions": dict(report.table_versions),
        "title": list(report.title),
        "sections": {k: {"heading": report.headings.get(k), "text": v} for k, v in report.sections.items()},
        "tables": tables,
        "extra_rows": [asdict(e) for e in report.extra_rows],
        "findings": [f.to_dict() for f in report.findings],
    }


def to_json(report: _report.Report, indent: int | None = 2) -> str:
    """``report`` as JSON text, non-ASCII kept (no ``\\uXXXX``), ending in a newline."""
    return json.dumps(report_to_dict(report), ensure_ascii=False, indent=indent) + "\n"
