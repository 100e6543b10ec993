"""Export: a :class:`~gipextract.report.Report` to files (one module per format),
and the registry of those formats.

:data:`EXPORTERS` maps a format name to its :class:`Exporter`: the file
extension, the file name it takes in an output directory, the function that
renders it (imported only when used: ``openpyxl`` and ``pyarrow`` are loaded
only for the formats that need them), whether it can be one stream (``-o
FILE``, stdout) and what it needs.  :func:`render` gives a format's bytes.
Files are written by :mod:`gipextract.atomic` (one file, or a set all or
none); which files ``extract -o`` writes is the CLI's policy
(:mod:`gipextract.cli_output`).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..report import Report


@dataclass(frozen=True)
class Exporter:
    """One output format of a report.

    :ivar name: the format's name (``--format``, :data:`EXPORTERS` key).
    :ivar extension: the file extension, with its dot.
    :ivar filename: its file name in an output directory; ``{table}`` is
        replaced by each table's key (``t2``) when ``per_table``.
    :ivar function: ``"module:function"`` rendering it: ``function(report)``,
        or ``function(report, table)`` when ``per_table``; returns ``str``
        (UTF-8; CSV with a BOM when asked) or ``bytes``.
    :ivar stream: the format can be one stream (stdout, ``-o FILE.ext``).
    :ivar per_table: one file per statistics table.
    :ivar bom: a text format Excel needs a UTF-8 BOM for (``--excel``).
    :ivar needs: the libraries it imports beyond the core (for messages and docs).
    :ivar description: one line for help texts.
    """

    name: str
    extension: str
    filename: str
    function: str
    stream: bool = True
    per_table: bool = False
    bom: bool = False
    needs: tuple[str, ...] = ()
    description: str = ""

    def render(self, report: Report, *, excel: bool = False, table: str | None = None) -> bytes:
        """The format's bytes for ``report`` (``table`` for a per-table format).

        :raises ValueError: ``table`` missing for a per-table format.
        """
        module, func = self.function.split(":")
        fn = getattr(importlib.import_module(module), func)
        if self.per_table:
            if table is None:
                raise ValueError(f"the {self.name} format needs a table")
            out = fn(report, table)
        else:
            out = fn(report)
        if isinstance(out, bytes):
            return out
        return out.encode("utf-8-sig" if excel and self.bom else "utf-8")


#: format name → :class:`Exporter`.  Other exports add themselves here.
EXPORTERS: dict[str, Exporter] = {e.name: e for e in (
    Exporter("json", ".json", "report.json", "gipextract.export.json:to_json",
             description="the whole report (metadata, cells, sections, findings)"),
    Exporter("csv", ".csv", "cells.csv", "gipextract.export.csv:tidy_csv", bom=True,
             description="the tidy cells, one per row"),
    Exporter("jsonl", ".jsonl", "cells.jsonl", "gipextract.export.jsonl:cells_jsonl",
             description="one JSON object per cell"),
    Exporter("xlsx", ".xlsx", "report.xlsx", "gipextract.export.xlsx:to_xlsx", needs=("openpyxl",),
             description="the three tables as printed, plus cells and findings sheets"),
    Exporter("wide_csv", ".csv", "{table}.csv", "gipextract.export.csv:wide_csv", stream=False, per_table=True,
             bom=True, description="one table as printed, one CSV per table"),
    Exporter("findings_csv", ".csv", "findings.csv", "gipextract.export.findings:findings_csv", stream=False,
             bom=True, description="the findings, one per row"),
)}

#: The formats that can be one stream (``--format``), in help order.
FORMATS = tuple(name for name, e in EXPORTERS.items() if e.stream)


def render(report: Report, fmt: str = "json", *, excel: bool = False, table: str | None = None) -> bytes:
    """``report`` in format ``fmt`` (:data:`EXPORTERS`) as bytes.

    :raises KeyError: an unknown format.
    """
    return EXPORTERS[fmt].render(report, excel=excel, table=table)
