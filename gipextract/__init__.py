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

The public names are imported on first use (module ``__getattr__``), so that
``import gipextract`` — and ``gipextract --version`` — does not load the
pipeline, the readers and their libraries.
"""

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
    from .document import Cell, Document, Paragraph, Source, TableBlock
    from .errors import DecodeError, GipextractError, OutputError, ReadError, TemplateError, UnsupportedFormatError
    from .pipeline import read_document_from, read_report
    from .report import CellValue, Finding, Report

    __version__: str

#: public name → the submodule that defines it (imported on first access).
_LAZY = {
    **dict.fromkeys(("Cell", "Document", "Paragraph", "Source", "TableBlock"), ".document"),
    **dict.fromkeys(("DecodeError", "GipextractError", "OutputError", "ReadError", "TemplateError",
                     "UnsupportedFormatError"), ".errors"),
    **dict.fromkeys(("read_document_from", "read_report"), ".pipeline"),
    **dict.fromkeys(("CellValue", "Finding", "Report"), ".report"),
}

__all__ = [
    "Cell", "CellValue", "DecodeError", "Document", "Finding", "GipextractError", "OutputError", "Paragraph",
    "ReadError", "Report", "Source", "TableBlock", "TemplateError", "UnsupportedFormatError", "__version__",
    "read_document_from", "read_report",
]


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("gipextract")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "0.0.0+unknown"


def __getattr__(name: str) -> _typing.Any:
    """The public names of the package, imported (and cached) on first access.

    :raises AttributeError: ``name`` is not a public name of the package.
    """
    if name == "__version__":
        value: _typing.Any = _version()
    elif name in _LAZY:
        value = getattr(_importlib.import_module(_LAZY[name], __name__), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
