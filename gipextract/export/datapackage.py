"""``datapackage.json``: a Frictionless Tabular Data Package descriptor for the
CSV files of a batch output directory (specs.frictionlessdata.io, v1:
Data Package, Tabular Data Resource, Table Schema, CSV Dialect).

Each CSV is one resource with its path, size in bytes, ``sha256:`` hash, the
dialect gipextract writes (comma, ``"`` quoting, ``\\n`` line ends, a header
row, UTF-8 without BOM), and a Table Schema: one field per column with its
type and meaning, ``""`` as the missing value, and the keys that join the
files (``cells.source`` and ``findings.source`` → ``manifest.path``).
``cells.parquet`` (the same rows as ``cells.csv``, typed) is not listed: a
Tabular Data Package may hold only tabular (CSV) resources.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..report import TIDY_COLUMNS
from .dataset import KEY_COLUMNS, REPORT_META, key_description, keys_info

_S, _I, _N = "string", "integer", "number"

#: resource name → [(field, type, description)], in column order.
FIELDS: dict[str, list[tuple[str, str, str]]] = {
    "manifest": [
        ("path", _S, "The input file as given on the command line (joined with its path under a given directory)."),
        ("sha256", _S, "SHA-256 of the input's bytes, hex; empty if the file could not be read."),
        ("format", _S, "The reader used: text, markdown, html, docx or pdf; empty if not detected."),
        ("status", _S, "ok (every table found, every cell read); partial (tables found, some cells not read: "
                       "see n_unread); empty (tables without a number: an unfilled template); needs_ocr (no text "
                       "layer); pre2019 (the pre-2019 free form); not_a_report; failed (not read, see error)."),
        ("identities", _S, "hold, broken (an identity of template-spec §6 fails) or not_checked."),
        ("n_unread", _I, "Cells not read: flagged unreadable, ambiguous or ocr_uncertain, or in an absent table."),
        ("error", _S, "For failed inputs, why, in one line (e.g. took longer than the --timeout)."),
        ("template", _S, "Format version: V2019, V2021, MIXED, PRE2019 or UNKNOWN."),
        ("year", _I, "Report year; empty when unknown."),
        ("agency", _S, "Issuing organ, from the title."),
        ("organ", _S, "The agency normalised so that one organ has one name in every year (a name that is "
                      "another's minus a leading higher-level place is that organ; --organs aliases first)."),
        ("previous", _S, "The same organ's report of the year before, when the batch has it (manifest.path); "
                         "the cross-year checks T3-Y and T2-Y1 compare the two."),
        ("n_cells", _I, "Numeric table cells found."),
        ("n_null", _I, "Of those, cells without a number (see their flag in cells.csv)."),
        ("n_errors", _I, "Findings of severity error (broken identities)."),
        ("report", _S, "The report's JSON document, relative to this directory."),
    ],
    "cells": [
        ("key", _S, "Canonical cell key (template-spec §10), e.g. t3.granted.natural_person."),
        ("table", _S, "t2 (主动公开), t3 (收到和处理申请) or t4 (行政复议/行政诉讼)."),
        ("row_key", _S, "Canonical row key."),
        ("col_key", _S, "Canonical column key."),
        ("row_label", _S, "Official label of the row."),
        ("col_label", _S, "Official label of the column."),
        ("value", _N, "The number printed; empty when the cell has none (see flag). Counts and money share "
                       "this column: unit says which (money may have a fraction)."),
        ("unit", _S, "件/项 for counts, 万元/元 for money."),
        ("raw", _S, "The cell's text exactly as read."),
        ("flag", _S, "Why value is empty or special: blank, dash, none_text, row_missing, unreadable, …"),
        ("source", _S, "The input file (manifest.path)."),
        ("agency", _S, "Issuing organ of the report."),
        ("year", _I, "Report year; empty when unknown."),
        ("template", _S, "Format version of the report."),
    ],
    "findings": [
        ("source", _S, "The input file (manifest.path) the finding is about."),
        ("rule", _S, "Rule id: an identity of template-spec §6 (T3-A, T3-Y, T2-Y1, …) or a reading problem."),
        ("severity", _S, "error, warning or info."),
        ("table", _S, "t2, t3, t4, or empty for the whole report."),
        ("cells", _S, "Canonical keys of the cells involved, separated by spaces."),
        ("labels", _S, "The same cells as 'row label/column label', separated by '; '."),
        ("expected", _S, "What the rule expects (a number, or text), if it has one."),
        ("actual", _S, "What was found (a number, or text), if it has one."),
        ("message", _S, "One sentence naming the cells by their official labels."),
    ],
}
assert [f[0] for f in FIELDS["cells"]] == list(TIDY_COLUMNS)
FIELDS["keys"] = [
    ("key", _S, "Canonical cell key (template-spec §10)."), ("table", _S, "t2, t3 or t4."),
    ("row_key", _S, "Canonical row key."), ("col_key", _S, "Canonical column key."),
    ("row_label", _S, "Official row label path, levels joined by ' / '."),
    ("col_label", _S, "Official column header path, levels joined by ' / '."),
    ("unit", _S, "The unit the format fixes (件, 项, 万元), or empty."),
    ("kind", _S, "count, signed or money."), ("versions", _S, "Format versions having the key."),
]
assert tuple(f[0] for f in FIELDS["keys"]) == KEY_COLUMNS
_META = {f[0]: f for f in FIELDS["manifest"]}
FIELDS["reports"] = (
    [("source", _S, "The input file (manifest.path).")]
    + [_META[c] for c in REPORT_META[1:]]
    + [(k.key, _N if k.kind == "money" else _I, key_description(k)) for k in keys_info()])

_KEYS: dict[str, dict[str, object]] = {
    "manifest": {"primaryKey": ["path"]},
    "cells": {"primaryKey": ["source", "key"],
              "foreignKeys": [{"fields": ["source"], "reference": {"resource": "manifest", "fields": ["path"]}}]},
    "findings": {"foreignKeys": [{"fields": ["source"], "reference": {"resource": "manifest", "fields": ["path"]}}]},
    "reports": {"primaryKey": ["source"],
                "foreignKeys": [{"fields": ["source"], "reference": {"resource": "manifest", "fields": ["path"]}}]},
    "keys": {"primaryKey": ["key"]},
}

DIALECT = {"delimiter": ",", "lineTerminator": "\n", "quoteChar": '"', "doubleQuote": True, "header": True}


@dataclass(frozen=True, slots=True)
class FileInfo:
    """A written file: ``path`` relative to the package, ``bytes``, ``sha256`` hex."""

    path: str
    bytes: int
    sha256: str


def descriptor(files: dict[str, FileInfo], *, title: str, encoding: str = "utf-8") -> dict:
    """The package descriptor as a dict (no timestamp, so that equal outputs
    give equal descriptors).

    :param files: resource name (``manifest``, ``cells``, ``findings``) → the
        CSV file written for it.
    :param title: a human title for the package.
    :param encoding: of the CSVs: ``utf-8``, or ``utf-8-sig`` when they start
        with a byte-order mark (``batch --excel``).
    :raises KeyError: an unknown resource name.
    """
    resources = [
        {"name": name, "path": info.path, "profile": "tabular-data-resource", "format": "csv",
         "mediatype": "text/csv", "encoding": encoding, "bytes": info.bytes, "hash": f"sha256:{info.sha256}",
         "dialect": DIALECT,
         "schema": {"fields": [{"name": n, "type": t, "description": d} for n, t, d in FIELDS[name]],
                    "missingValues": [""], **_KEYS[name]}}
        for name, info in files.items()]
    return {"profile": "tabular-data-package", "name": "gipextract-batch", "title": title, "resources": resources}


def to_json(pkg: dict) -> str:
    """The descriptor as JSON text (Chinese kept), ending in a newline."""
    return json.dumps(pkg, ensure_ascii=False, indent=2) + "\n"
