"""Reader for reports saved as one-cell-per-line text (template-spec §7.4).

The layout (the seed report's): a table cell is a tab-prefixed line, a blank
line ends a table row, an empty tab line stands for a merged cell, a cell's
wrapped text may continue on the next, untabbed line, and every other line is
a paragraph.  The Lark grammar ``grammars/text_layout.lark`` tokenizes that
layout; the small pre-pass here fixes what a grammar cannot express:

* decoding (BOM, UTF-8, GBK/GB18030 detection: :mod:`.encoding`);
* CRLF/CR line ends, zero-width characters, stray control characters;
* spaces and U+3000 before a heading or paragraph (`` 一、总体情况``);
* telling a wrapped cell line (``本年新`` / ``制作数量``) from a paragraph that
  directly follows the last cell of a table (the seed's section 五 heading).

A wrapped line is one that directly follows a label cell (not a number), is
followed by another cell line or a blank line, is short, and is neither a
numbered heading (``五、…``) nor a sentence (ends with ``。``).

After the grammar, one separate step, :func:`layout_tables`, handles text
laid out like a printed page (raw PDF-to-text dumps, spec §7.5: a table row is
one line, a label and then its numbers).  Runs of paragraphs that hold such
rows become table blocks by the shared rule of :mod:`.layout`, which the PDF
reader uses too; page-number lines (``- 4 -``) are dropped there.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from lark import Lark, Token, Transformer
from lark.exceptions import LarkError

from ..document import Cell, Document, Paragraph, Source, TableBlock, join_lines
from ..errors import ReadError
from ..values import looks_like_value
from .encoding import decode_text
from .layout import Line, is_page_marker, layout_blocks, split_cells

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\u200c\u200d\u2060\ufeff]")
_SPACES = " \u3000\xa0"
_STRIP = " \t\n\u3000\xa0"
_HEADING_NUMBER = re.compile(r"^[一二三四五六七八九十]+\s*[、.．]")
_MAX_WRAP = 40


class _ToBlocks(Transformer):
    """Builds paragraphs and table blocks while the LALR parser reduces."""

    def row(self, toks: list[Token]) -> list[Cell]:
        cells: list[Cell] = []
        text, line = "", 0
        for tok in toks:
            if tok.type == "CONTINUATION":
                text = join_lines((text, tok[1:]))
                continue
            if line:
                cells.append(Cell(text, where=f"line {line}"))
            text, line = tok.strip(_STRIP), tok.line or 0
        cells.append(Cell(text, where=f"line {line}"))
        return cells

    def paragraph(self, toks: list[Token]) -> Paragraph:
        return Paragraph(toks[0].strip(), where=f"line {toks[0].line}")

    def start(self, items: list) -> list:
        blocks: list = []
        for item in items:
            if isinstance(item, Paragraph):
                blocks.append(item)
            elif blocks and isinstance(blocks[-1], TableBlock):
                blocks[-1].rows.append(item)
            else:
                blocks.append(TableBlock([item], where=item[0].where))
        return blocks


def grammar_text() -> str:
    """The text of ``grammars/text_layout.lark``."""
    return resources.files("gipextract.grammars").joinpath("text_layout.lark").read_text(encoding="utf-8")


@cache
def _parser() -> Lark:
    return Lark(grammar_text(), parser="lalr", lexer="contextual", transformer=_ToBlocks())


def prepare(text: str) -> str:
    """The pre-pass: normalise line ends and leading spaces, drop control and
    zero-width characters, and mark wrapped cell lines with a leading ``\\v``.
    Returns text in which every line ends with ``\\n`` and line *n* of the
    input is still line *n*."""
    lines = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    kinds: list[str] = []  # "cell", "value", "blank", "text" per line
    out: list[str] = []
    for line in lines:
        s = line.lstrip(_SPACES)
        if s.startswith("\t"):
            content = s.strip(" \t\u3000\xa0")
            out.append("\t" + content)
            kinds.append("value" if looks_like_value(content) else "cell")
        elif not s.strip():
            out.append("")
            kinds.append("blank")
        else:
            out.append(s.rstrip())
            kinds.append("text")
    for i, kind in enumerate(kinds):
        if kind != "text" or i == 0 or kinds[i - 1] not in ("cell", "wrap"):
            continue
        nxt = kinds[i + 1] if i + 1 < len(kinds) else "blank"
        s = out[i]
        if (nxt in ("cell", "value", "blank") and len(s) <= _MAX_WRAP
                and not _HEADING_NUMBER.match(s) and not s.endswith(("。", "：", ":"))):
            kinds[i] = "wrap"
            out[i] = "\v" + s
    return "".join(line + "\n" for line in out)


def parse_text(text: str, source: Source) -> Document:
    """Tokenize decoded report text into a :class:`Document`.

    :raises ReadError: if the layout cannot be tokenized (names the line).
    """
    try:
        blocks: list = _parser().parse(prepare(text))  # type: ignore[assignment]  # the transformer's list
    except LarkError as e:  # the grammar accepts any line sequence; this is a bug guard
        line = getattr(e, "line", None)
        raise ReadError(f"cannot tokenize the text layout: {e.__class__.__name__}", path=source.path,
                        where=f"line {line}" if line else None) from e
    return Document(layout_tables(blocks), source)


def layout_tables(blocks: list) -> list:
    """The layout-table step (spec §7.5): every run of consecutive paragraphs
    is passed through :func:`.layout.layout_blocks`, so that table rows printed
    as lines of text become table blocks and page-number lines are dropped.
    Paragraphs that are not part of a table come back unchanged.

    :param blocks: the grammar's paragraphs and table blocks, in order.
    :returns: the blocks with those runs replaced.
    """
    out: list = []
    run: list[Paragraph] = []

    def flush() -> None:
        if any(looks_like_value(p.text.rsplit(None, 1)[-1]) for p in run if p.text):  # a line may be a row
            out.extend(layout_blocks([Line(p.text, split_cells(p.text), p.where) for p in run]))
        else:
            out.extend(p for p in run if not is_page_marker(p.text))
        run.clear()

    for block in blocks:
        if isinstance(block, Paragraph):
            run.append(block)
        else:
            flush()
            out.append(block)
    flush()
    return out


def read_text(data: bytes, source: Source) -> Document:
    """Decode ``data`` and tokenize it (see the module docstring).

    :param source: provenance; its ``encoding`` is filled in.
    :raises ReadError: binary data.
    :raises DecodeError: no supported encoding fits.
    """
    text, source.encoding, notes = decode_text(data, source.path)
    doc = parse_text(text, source)
    doc.notes[:0] = notes
    return doc
