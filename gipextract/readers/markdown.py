"""Reader for reports converted to Markdown (PDF-to-Markdown or OCR tools).

Such files hold the report as Markdown: ``#`` headings, paragraphs, and the
tables as GitHub-style pipe tables (``| 规章 | 0 | 0 | 0 |`` under a
``|---|---|`` separator).  This reader knows that syntax and nothing else:

* a pipe row becomes a table row, one cell per ``|``-separated field
  (``<br>`` inside a cell joins its lines); separator rows are dropped;
  consecutive pipe rows form one table block, any other line ends it;
* a heading loses its ``#`` marks and becomes a paragraph; every other
  non-empty line is a paragraph;
* then the shared layout-table step (:func:`.text.layout_tables`, spec §7.5)
  turns runs of paragraphs that are table rows printed as lines of text
  (``行政许可 97``) into table blocks, as for raw PDF text.

Converters mangle tables (header cells split over fields, labels lost,
columns dropped); the reader keeps what is printed, field for field, and
leaves the judgement to the reconstructor, which never shifts a value to fit.
"""

from __future__ import annotations

import re

from ..document import Cell, Document, Paragraph, Source, TableBlock
from .encoding import decode_text
from .text import layout_tables

_PIPE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_HEADING = re.compile(r"^\s*#{1,6}\s+")
_BR = re.compile(r"<br\s*/?>", re.I)


def looks_like_markdown(text: str) -> bool:
    """True if ``text`` holds a Markdown pipe table: at least two pipe rows and
    a ``|---|`` separator row."""
    lines = text.splitlines()
    return sum(bool(_PIPE_ROW.match(x)) for x in lines) >= 2 and any(_SEPARATOR.match(x) for x in lines)


def _cells(line: str, number: int) -> list[Cell]:
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") else body
    return [Cell(_BR.sub("", field).strip(), where=f"line {number}") for field in body.split("|")]


def read_markdown(data: bytes, source: Source) -> Document:
    """Decode ``data`` and read its paragraphs and pipe tables (module docstring).

    :param source: provenance; its ``encoding`` is filled in.
    :raises ReadError: binary data.  :raises DecodeError: no supported encoding fits.
    """
    text, source.encoding, notes = decode_text(data, source.path)
    blocks: list = []
    table: list[list[Cell]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if _PIPE_ROW.match(line):
            if not _SEPARATOR.match(line):
                table.append(_cells(line, number))
            continue
        if table:
            blocks.append(TableBlock(table, where=table[0][0].where))
            table = []
        line = _HEADING.sub("", line).strip()
        if line:
            blocks.append(Paragraph(line, where=f"line {number}"))
    if table:
        blocks.append(TableBlock(table, where=table[0][0].where))
    return Document(layout_tables(blocks), source, notes)
