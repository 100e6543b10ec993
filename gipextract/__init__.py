"""gipextract: the statistics tables of Chinese government information-disclosure
annual reports (政府信息公开工作年度报告) as clean data.

>>> import gipextract
>>> report = gipextract.read_report("fixtures/v2021_city.txt")
>>> report.template, report.year
('V2021', 2024)
>>> report.cells["t3.new_received.total"].value
41

Stages (one module each): :mod:`~gipextract.readers` (bytes → Document),
:mod:`~gipextract.locate` (sections, tables), :mod:`~gipextract.reconstruct`
(template-driven cells), :mod:`~gipextract.validate` (identities → findings),
:mod:`~gipextract.export` (CSV, JSON).
"""

from importlib import metadata as _metadata

from .document import Cell, Document, Paragraph, Source, TableBlock
from .errors import DecodeError, GipextractError, OutputError, ReadError, TemplateError, UnsupportedFormatError
from .pipeline import read_document_from, read_report
from .report import CellValue, Finding, Report

try:
    __version__ = _metadata.version("gipextract")
except _metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "Cell", "CellValue", "DecodeError", "Document", "Finding", "GipextractError", "OutputError", "Paragraph",
    "ReadError", "Report", "Source", "TableBlock", "TemplateError", "UnsupportedFormatError", "__version__",
    "read_document_from", "read_report",
]
