"""What ``gipextract extract`` writes for ``-o`` and ``--format``: the CLI's
output policy, on top of the export registry (:data:`gipextract.export.EXPORTERS`)
and the atomic writer (:mod:`gipextract.atomic`).

``-o`` names one file when it ends in a stream format's extension (``.json``,
``.csv``, ``.jsonl``, ``.xlsx``), else a directory (a trailing separator, an
existing directory, or no extension).  A directory gets the set
:data:`DIRECTORY_SETS` lists for the format, written all or none.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from .export import EXPORTERS, render

if TYPE_CHECKING:
    from .report import Report

#: ``-o FILE`` extensions and the format each one picks.
FILE_FORMATS = {e.extension: name for name, e in EXPORTERS.items() if e.stream}
#: ``--format`` (``None``: not given) → the formats written into ``-o DIR``.
DIRECTORY_SETS: dict[str | None, tuple[str, ...]] = {
    None: ("wide_csv", "csv", "findings_csv", "json"),
    "csv": ("wide_csv", "csv", "findings_csv"),
    "json": ("json",),
    "jsonl": ("jsonl",),
    "xlsx": ("xlsx",),
}


class OutputChoiceError(ValueError):
    """Raised when ``-o``/``--format`` do not name an output gipextract writes:
    an unknown extension, a format contradicting the extension, an existing
    file given as a directory.  A usage error: nothing has been written."""


def output_kind(output: str, fmt: str | None) -> tuple[str, str | None]:
    """What ``-o output`` (with ``--format fmt``) names: ``("file", format)`` or
    ``("dir", fmt)``.

    A known extension (:data:`FILE_FORMATS`) names one file; a trailing path
    separator, an existing directory or no extension names a directory.

    :raises OutputChoiceError: another extension (the message lists the
        choices), ``fmt`` contradicting the extension, or an existing file (or
        one named with a trailing separator) given where a directory is meant.
    """
    trailing = output.endswith(("/", os.sep))
    path = Path(output)
    suffix = path.suffix.lower()
    if not trailing and suffix in FILE_FORMATS and not path.is_dir():
        if fmt and fmt != FILE_FORMATS[suffix]:
            raise OutputChoiceError(f"--format {fmt} contradicts the extension of {output}")
        return "file", FILE_FORMATS[suffix]
    if path.is_dir() or trailing or not suffix:
        if path.exists() and not path.is_dir():
            raise OutputChoiceError(f"{output} is an existing file, not a directory; give a file ending in "
                                    f"{_choices()}, or a directory")
        return "dir", fmt
    raise OutputChoiceError(f"{output}: unknown extension {path.suffix!r}; give a file ending in {_choices()}, "
                            f"or a directory (end it with /)")


def _choices() -> str:
    exts = list(FILE_FORMATS)
    return ", ".join(exts[:-1]) + " or " + exts[-1]


def output_files(report: Report, output: str, fmt: str | None = None, excel: bool = False) -> dict[Path, bytes]:
    """The files ``gipextract extract -o output [--format fmt] [--excel]``
    writes for ``report``, as ``path → bytes`` for :func:`gipextract.atomic.write_set`.

    One file (:func:`output_kind`) in the format its extension names; a
    directory: the files of :data:`DIRECTORY_SETS` (without ``--format``:
    ``t2.csv t3.csv t4.csv cells.csv findings.csv report.json``).  ``excel``
    puts a UTF-8 BOM on the CSVs.

    :raises OutputChoiceError: see :func:`output_kind`.
    """
    from .templates import TABLES

    kind, fmt = output_kind(output, fmt)
    out = Path(output)
    if kind == "file":
        return {out: render(report, fmt or "json", excel=excel)}
    files: dict[Path, bytes] = {}
    for name in DIRECTORY_SETS[fmt]:
        e = EXPORTERS[name]
        if e.per_table:
            for t in TABLES:
                files[out / e.filename.format(table=t)] = e.render(report, excel=excel, table=t)
        else:
            files[out / e.filename] = e.render(report, excel=excel)
    return files


def stdout_bytes(report: Report, fmt: str | None = None, excel: bool = False) -> bytes:
    """``report`` as one stream in format ``fmt`` (default ``json``; any
    stream format of :data:`~gipextract.export.EXPORTERS`)."""
    return render(report, fmt or "json", excel=excel)
