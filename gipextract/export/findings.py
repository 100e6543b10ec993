"""Findings export: a report's findings as CSV, as a readable text table, or
as JSON documents (for ``gipextract validate`` and ``extract -o DIR``).

``findings.csv`` (and the XLSX ``findings`` sheet, from the same
:func:`findings_rows`) has the columns :data:`FINDINGS_COLUMNS`, one row per
finding: ``cells`` are the canonical keys separated by spaces, ``labels`` the
same cells as ``row label/column label`` separated by ``; `` (labels as in the
messages, :func:`gipextract.validate.cell_label`), ``expected``/``actual`` as
in :class:`~gipextract.report.Finding`: a number or text as it is, a list or
dict (an ``ambiguous`` finding's candidate cuts) as JSON with Chinese kept,
empty when it has none.

The text table of :func:`findings_text` (``gipextract validate``) shortens an
``expected``/``actual`` wider than :data:`TEXT_CELL_WIDTH` columns with ``…``;
the CSV and JSON outputs keep everything.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Iterator

from ..report import Finding, Report
from ..validate import cell_label

#: Columns of :func:`findings_csv`, in order.
FINDINGS_COLUMNS = ("source", "rule", "severity", "table", "cells", "labels", "expected", "actual", "message")
#: How many cells the text table lists before it elides the middle ones.
_SHOWN = 6
#: Widest ``expected``/``actual`` in the text table (display columns; CJK count 2).
TEXT_CELL_WIDTH = 24


def field(v) -> int | float | str:
    """A finding's ``expected``/``actual`` as one field: ``None`` → ``""``, a
    whole float → ``int``, other numbers and text as they are, anything else
    (lists, dicts) → compact JSON with Chinese kept."""
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, (int, float, str)) and not isinstance(v, bool):
        return v
    return json.dumps(v, ensure_ascii=False, separators=(", ", ": "), default=str)


def _value(v) -> str:
    return str(field(v))


def labels(report: Report, keys: list[str]) -> list[tuple[str, str]]:
    """``(row label, column label)`` of each of ``keys``, by the version its
    table is keyed by; a key the report's templates lack gives ``(key, "")``."""
    out = []
    for k in keys:
        version = report.table_versions.get(k[:2])
        try:
            out.append(cell_label(version, k) if version else (k, ""))
        except KeyError:
            out.append((k, ""))
    return out


def findings_rows(report: Report) -> Iterator[list]:
    """One list per finding of ``report``, in :data:`FINDINGS_COLUMNS` order
    (module docstring): text, except ``expected``/``actual``, which are numbers
    when the finding's are (see :func:`field`)."""
    for f in report.findings:
        yield [report.source.path, f.rule, f.severity, f.table or "", " ".join(f.cells),
               "; ".join("/".join(p for p in pair if p) for pair in labels(report, f.cells)),
               field(f.expected), field(f.actual), f.message]


def findings_csv(report: Report) -> str:
    """The findings of ``report`` as CSV text with a header row (module
    docstring); just the header when there are none."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(FINDINGS_COLUMNS)
    w.writerows(findings_rows(report))
    return buf.getvalue()


def describe_cells(report: Report, f: Finding) -> str:
    """``f``'s cells in a few words with their labels: ``row （一）予以公开:
    自然人, 商业企业, …`` when they share a row, ``column 自然人: …`` when they
    share a column, else each ``row/column``; long lists keep their ends."""
    if not f.cells:
        return "—"
    pairs = labels(report, f.cells)
    rows, cols = {r for r, _ in pairs}, {c for _, c in pairs}
    if len(pairs) > 1 and len(rows) == 1:
        head, items = f"row {pairs[0][0]}: ", [c for _, c in pairs]
    elif len(pairs) > 1 and len(cols) == 1:
        head, items = f"column {pairs[0][1]}: ", [r for r, _ in pairs]
    else:
        head, items = "", ["/".join(p for p in pair if p) for pair in pairs]
    if len(items) > _SHOWN:
        items = items[:_SHOWN - 2] + [f"… ({len(items) - _SHOWN + 1} more)", items[-1]]
    return head + ", ".join(items)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def shorten(text: str, width: int = TEXT_CELL_WIDTH) -> str:
    """``text`` cut to at most ``width`` display columns, ending in ``…`` when cut."""
    if _width(text) <= width:
        return text
    out, used = [], 1
    for ch in text:
        used += _width(ch)
        if used > width:
            break
        out.append(ch)
    return "".join(out) + "…"


def _pad(text: str, width: int, right: bool = False) -> str:
    gap = " " * max(0, width - _width(text))
    return gap + text if right else text + gap


def counts(report: Report) -> dict[str, int]:
    """Number of findings of each severity: ``{"error": …, "warning": …, "info": …}``."""
    out = {"error": 0, "warning": 0, "info": 0}
    for f in report.findings:
        out[f.severity] = out.get(f.severity, 0) + 1
    return out


def findings_text(report: Report) -> str:
    """The findings of ``report`` as a readable table: a heading line with the
    file, format version and counts, then one line per finding (rule,
    severity, expected, actual, cells with their labels) followed by its
    message, indented."""
    n = counts(report)
    lines = [f"{report.source.path}: {report.template}; {n['error']} error{'s' * (n['error'] != 1)}, "
             f"{n['warning']} warning{'s' * (n['warning'] != 1)}, {n['info']} info"]
    if not report.findings:
        return lines[0] + "\n"
    head = ("rule", "severity", "expected", "actual", "cells")
    rows = [(f.rule, f.severity, shorten(_value(f.expected)), shorten(_value(f.actual)), describe_cells(report, f))
            for f in report.findings]
    widths = [max(_width(r[i]) for r in rows + [head]) for i in range(4)]

    def line(cols) -> str:
        return "  " + "  ".join([_pad(cols[0], widths[0]), _pad(cols[1], widths[1]),
                                 _pad(cols[2], widths[2], right=True), _pad(cols[3], widths[3], right=True),
                                 cols[4]])

    lines.append(line(head))
    indent = " " * (2 + widths[0] + 2)
    for f, row in zip(report.findings, rows):
        lines.append(line(row))
        lines.append(indent + f.message)
    return "\n".join(lines) + "\n"


def findings_document(report: Report) -> dict:
    """The findings of ``report`` as one JSON-ready dict: ``source`` (path),
    ``template``, ``table_versions``, ``counts`` (by severity) and
    ``findings`` (each :meth:`~gipextract.report.Finding.to_dict`)."""
    return {"source": report.source.path, "template": report.template,
            "table_versions": dict(report.table_versions), "counts": counts(report),
            "findings": [f.to_dict() for f in report.findings]}
