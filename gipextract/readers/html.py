"""Reader for reports published as web pages: HTML, Word-saved HTML (also
when served as ``.doc``), and full government CMS pages around the report.

Steps, each over the whole input once:

0. **Unwrap** a "single file web page" (MHTML, as Word saves ``.mht`` and
   sites serve as ``.doc``): its first ``text/html`` part is the page, and
   the part's charset is the declared one.
1. **Decode** (:func:`decode_html`): a byte-order mark decides; then the
   charset the page declares in its first 16 KiB (``<meta charset>``,
   ``<meta http-equiv="Content-Type" content="…; charset=…">``, ``<?xml
   encoding?>``); then UTF-8, charset-normalizer and GB18030
   (:func:`gipextract.readers.encoding.decode`).  A declared GB2312/GBK is
   read as GB18030, its superset (pages that declare GB2312 use GBK
   characters).  A declared Western single-byte charset (ISO-8859-1,
   windows-1252, ASCII) on a page with non-ASCII bytes is ignored: it is a
   wrong default of the server, and decoding with it would give mojibake.
2. **Parse** with lxml's HTML parser (libxml2 in recovery mode; comments,
   processing instructions and Word's conditional comments dropped; no
   network access).
3. **Walk** the tree once in document order.  Block elements (``<p>``,
   ``<div>``, ``<h1>``…, ``<li>``…) and ``<br>`` end a paragraph; text in
   inline elements (``<span>``, ``<font>``, Word's ``<o:p>``, ``<a>``) joins,
   so a label split over many ``<span>``\\ s is one text.  Whitespace runs
   (including ``&nbsp;`` and U+3000) become one space and are trimmed.  A
   ``<table>`` with no table inside is a :class:`TableBlock`: its ``<tr>``
   rows, its ``<td>``/``<th>`` origin cells with ``rowspan``/``colspan``;
   lines of a cell (``<br>``, ``<p>``) join by
   :func:`~gipextract.document.join_lines` (``本年新<br>制作数量`` →
   ``本年新制作数量``).  A table that contains tables is a layout table:
   its cells are read as containers.  Scripts, styles, forms' controls,
   ``<nav>`` and elements hidden by ``display:none`` / ``mso-hide:all`` are
   skipped.
4. **Find the report body** inside a full page: the deepest element that
   holds at least :data:`BODY_SHARE` of the page's text outside links
   (navigation bars, link lists and most footers are links).  Blocks outside
   it are dropped, except tables that hold numbers, which are kept wherever
   they are.  The page's ``<title>`` is kept as the first paragraph: CMS
   pages print the report's title outside the article body.

Cells' ``where`` reads ``"table 2, row 5, cell 3"``; paragraphs' reads
``"line 40"`` (the source line of the element).
"""

from __future__ import annotations

import email
import email.parser
import email.policy
import re

from lxml import etree

from ..document import Cell, Document, Paragraph, Source, TableBlock, clamp_tables, join_lines
from ..errors import ReadError
from .encoding import Decoded, ascii_head, decode_text

#: Share of the page's non-link text that the report body must hold (step 4).
BODY_SHARE = 0.8

_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)"""
                      rb"""|<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._:-]+)""", re.I)
_SNIFF_BYTES = 16384
_HTML_START = re.compile(rb"""(?:\xef\xbb\xbf)?\s*(?:<!--.*?-->\s*|<\?xml[^>]*>\s*)*"""
                         rb"""<(?:!doctype\s+html|html|head|body|meta|title|div|p|span|table|font|center)\b""", re.S)
_GB = {"gb2312", "gbk", "x-gbk", "gb_2312-80", "gb_2312", "csgb2312", "chinese", "iso-ir-58", "cp936", "gb18030"}
_WESTERN = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "windows-1252", "cp1252", "us-ascii", "ascii",
            "iso-8859-15", "ansi_x3.4-1968"}

_SKIP = frozenset({"script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas",
                   "select", "option", "button", "input", "textarea", "nav", "map", "area", "audio", "video",
                   "head", "title", "meta", "link", "xml"})
#: Elements that end a paragraph (or a line inside a cell).  Every other
#: element (span, font, b, a, o:p, …) is inline.
_BLOCK = frozenset({"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "dl", "dt", "dd",
                    "blockquote", "pre", "section", "article", "header", "footer", "main", "aside", "center",
                    "address", "figure", "figcaption", "hr", "form", "fieldset", "body", "html", "caption",
                    "table", "tbody", "thead", "tfoot", "tr", "td", "th", "details", "summary", "legend"})
_CELL = ("td", "th")
_DIGIT = re.compile(r"\d")
_SPAN_LIMIT = {"colspan": 1000, "rowspan": 65534}

#: The largest HTML markup read (lxml holds ~90× its input on degenerate pages,
#: so this keeps a page under ~0.4 GB).  For a Word "single file web page"
#: (MHTML) it applies to the HTML part, not to the embedded images.
MAX_HTML_BYTES = 4 * 2**20
#: The most MHTML parts looked through for the page (Word puts the page first,
#: then one part per image).
MAX_MHTML_PARTS = 1000
#: The largest encoded page part of an MHTML file decoded (quoted-printable
#: takes up to 3 bytes per byte, so the page itself is still bounded by
#: :data:`MAX_HTML_BYTES` after decoding).
MAX_MHTML_PART_BYTES = 3 * MAX_HTML_BYTES
_MHTML_HEADER_BYTES = 64 * 1024


def _codec(name: str, data: bytes) -> str | None:
    name = name.strip().lower()
    if name in _GB:
        return "gb18030"
    if name in _WESTERN and not data.isascii():
        return None
    if name in ("big5", "big5-hkscs", "cn-big5", "x-x-big5"):
        return "big5hkscs"
    return name or None


def sniff_charset(data: bytes) -> str | None:
    """The charset an HTML page declares in its first 16 KiB (``<meta
    charset>``, ``<meta http-equiv … charset=…>`` or ``<?xml encoding=…?>``),
    as a Python codec name (GB2312/GBK → ``gb18030``), or ``None``.  A
    Western single-byte declaration is dropped when ``data`` is not ASCII
    (see the module docstring)."""
    m = _CHARSET.search(data[:_SNIFF_BYTES])
    if not m:
        return None
    return _codec((m.group(1) or m.group(2)).decode("ascii"), data)


def looks_like_html(data: bytes) -> bool:
    """True if ``data`` is an HTML page whatever its name says: markup at the
    start (after a BOM, comments or an XML declaration), UTF-16 HTML, or a
    "single file web page" (MHTML, ``multipart/related``) as Word saves it."""
    head = ascii_head(data)
    low = head.lower()
    if b"mime-version:" in low and b"multipart/related" in low:
        return True
    return _HTML_START.match(low) is not None


def _unwrap_mhtml(data: bytes, path: str) -> tuple[bytes, str | None] | None:
    """The first ``text/html`` part of an MHTML file and its declared charset,
    or ``None`` if ``data`` is not MHTML.

    Bounded before anything is parsed: the parts are found by scanning for the
    boundary (the message is never parsed whole), only the headers of the
    parts before the page are read (at most :data:`MAX_MHTML_PARTS` of them),
    and the page part is decoded only if its encoded size is at most
    :data:`MAX_MHTML_PART_BYTES`.

    :raises ReadError: more parts before the page than allowed, or a page part
        too large (naming ``path``).
    """
    low = data[:4096].lower()
    if b"mime-version:" not in low or b"multipart/related" not in low:
        return None
    head_end = _blank_line(data, 0, _MHTML_HEADER_BYTES)
    if head_end is None:
        return None
    top = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(data[:head_end])
    boundary = top.get_boundary()
    if not boundary:
        return None
    delim = b"\n--" + boundary.encode("ascii", "replace")
    pos = data.find(delim, head_end - 2)
    for n in range(MAX_MHTML_PARTS + 1):
        if pos < 0:
            return None
        start = data.find(b"\n", pos + len(delim))  # the rest of the delimiter line
        if start < 0 or data[pos + len(delim):pos + len(delim) + 2] == b"--":  # the closing delimiter
            return None
        if n == MAX_MHTML_PARTS:
            raise ReadError(f"an MHTML file with more than {MAX_MHTML_PARTS} parts before its page: refused",
                            path=path)
        nxt = data.find(delim, start)
        end = nxt if nxt >= 0 else len(data)
        hdr_end = _blank_line(data, start + 1, _MHTML_HEADER_BYTES)
        if hdr_end is not None and hdr_end <= end:
            part_head = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(
                data[start + 1:hdr_end])
            if part_head.get_content_type() == "text/html":
                if end - start > MAX_MHTML_PART_BYTES:
                    raise ReadError(f"the page part of the MHTML file is {(end - start) / 2**20:.1f} MiB "
                                    f"encoded, more than the {MAX_MHTML_PART_BYTES // 2**20} MiB a report's "
                                    f"page can be", path=path)
                part = email.message_from_bytes(data[start + 1:end], policy=email.policy.compat32)
                payload = part.get_payload(decode=True)
                if isinstance(payload, bytes):
                    return payload, part.get_content_charset()
        pos = nxt
    return None


def _blank_line(data: bytes, start: int, limit: int) -> int | None:
    """The end of the header block starting at ``start`` (just past its blank
    line), looked for in the next ``limit`` bytes; ``None`` if there is none."""
    window = data[start:start + limit]
    ends = [i + len(sep) for sep in (b"\r\n\r\n", b"\n\n") if (i := window.find(sep)) >= 0]
    return start + min(ends) if ends else None


def decode_html(data: bytes, path: str, declared: str | None = None) -> Decoded:
    """Decode an HTML page (module docstring, step 1) → ``(text, encoding)``.

    :param declared: a charset declared outside the page (an MHTML part's
        header); it takes precedence over the page's own ``<meta>``.
    :raises ReadError: binary data.
    :raises DecodeError: no supported encoding fits.
    """
    return decode_text(data, path, declared=(declared and _codec(declared, data)) or sniff_charset(data))


def _hidden(style: str) -> bool:
    """True if an inline ``style`` hides its element (``display:none``,
    ``visibility:hidden``, Word's ``mso-hide:all``)."""
    s = style.lower()
    if "display" not in s and "hide" not in s and "visibility" not in s:
        return False
    s = s.replace(" ", "")
    return "display:none" in s or "mso-hide:all" in s or "visibility:hidden" in s


def _span(el, name: str) -> int:
    raw = el.get(name)
    if not raw:
        return 1
    m = re.match(r"\s*(\d+)", raw)
    if not m:
        return 1
    digits = m.group(1).lstrip("0") or "0"
    return _SPAN_LIMIT[name] if len(digits) > 9 else min(int(digits), _SPAN_LIMIT[name])


class _Walker:
    """One pass over the parsed page, building blocks (module docstring, step 3)
    and recording each container's block range and non-link text (step 4)."""

    def __init__(self) -> None:
        self.blocks: list = []
        self.parts: list[str] = []          # text of the line being read
        self.line_no: int | None = None
        self.cell_lines: list[str] | None = None  # lines of the cell being read, or None outside data cells
        self.rows: list[list[Cell]] | None = None  # rows of the data table being read
        self.n_tables = 0
        self.chars = 0                       # characters outside links so far (text nodes trimmed)
        self.link_depth = 0
        self.containers: list[tuple[int, int, int]] = []  # (chars, start block, end block)
        self.numeric_tables: list[int] = []  # block indices of tables holding a number

    # -- text ---------------------------------------------------------------

    def text(self, s: str | None) -> None:
        if s:
            self.parts.append(s)
            if not self.link_depth:
                self.chars += len(s.strip())

    def end_line(self, el=None) -> None:
        """Close the current line: a cell line inside a data cell, else a paragraph."""
        if self.parts:
            line = " ".join("".join(self.parts).split())
            self.parts.clear()
            if line:
                if self.cell_lines is not None:
                    self.cell_lines.append(line)
                else:
                    self.blocks.append(Paragraph(line, where=f"line {self.line_no}" if self.line_no else None))
        if el is not None:
            self.line_no = el.sourceline

    # -- tables -------------------------------------------------------------

    def start_cell(self) -> None:
        self.end_line()
        self.cell_lines = []

    def end_cell(self, el) -> None:
        self.end_line()
        lines, self.cell_lines = self.cell_lines or [], None
        if self.rows is None:  # a cell outside any <table>: treat as a paragraph break
            self.blocks.extend(Paragraph(t) for t in lines)
            return
        if not self.rows:
            self.rows.append([])
        r, c = len(self.rows), len(self.rows[-1]) + 1
        self.rows[-1].append(Cell(join_lines(lines), _span(el, "rowspan"), max(_span(el, "colspan"), 1),
                                  where=f"table {self.n_tables + 1}, row {r}, cell {c}"))

    def end_table(self) -> None:
        rows, self.rows = self.rows or [], None
        while rows and not rows[-1]:  # Word's closing <tr height=0></tr> and the like: layout only
            rows.pop()
        n = len(rows)
        for r, row in enumerate(rows):
            for cell in row:
                if cell.rowspan == 0 or r + cell.rowspan > n:  # rowspan=0: to the end of the table
                    cell.rowspan = max(n - r, 1)
        if any(rows):
            self.n_tables += 1
            if any(c.text and _DIGIT.search(c.text) for row in rows for c in row):
                self.numeric_tables.append(len(self.blocks))
            self.blocks.append(TableBlock(rows, where=f"table {self.n_tables}"))

    # -- the walk -----------------------------------------------------------

    def walk(self, root) -> None:
        walker = etree.iterwalk(root, events=("start", "end"))
        stack: list[tuple[str, int, int]] = []  # (role, chars at start, blocks at start)
        for event, el in walker:
            tag = el.tag
            if not isinstance(tag, str):
                continue
            if event == "start":
                style = el.get("style")
                if tag in _SKIP or (style and _hidden(style)):
                    walker.skip_subtree()
                    stack.append(("skip", 0, 0))
                    continue
                if tag == "br":
                    self.end_line()
                    stack.append(("br", 0, 0))
                    continue
                if tag == "a" and el.get("href") is not None:
                    self.link_depth += 1
                    role = "link"
                elif tag not in _BLOCK:
                    role = "inline"
                elif self.rows is not None:  # inside a data table
                    if tag == "tr":
                        self.end_line()
                        self.rows.append([])
                        role = "tr"
                    elif tag in _CELL and self.cell_lines is None:
                        self.start_cell()
                        role = "cell"
                    else:
                        self.end_line(el)
                        role = "block"
                elif tag == "table" and el.find(".//table") is None:
                    self.end_line(el)
                    self.rows = []
                    role = "table"
                else:
                    self.end_line(el)
                    role = "container"
                stack.append((role, self.chars, len(self.blocks)))
                self.text(el.text)
            else:
                role, chars0, start = stack.pop()
                if role == "link":
                    self.link_depth -= 1
                elif role == "cell":
                    self.end_cell(el)
                elif role == "table":
                    self.end_line()
                    if self.cell_lines is not None:
                        self.end_cell(el)
                    self.end_table()
                elif role in ("block", "tr"):
                    self.end_line()
                elif role == "container":
                    self.end_line()
                    self.containers.append((self.chars - chars0, start, len(self.blocks)))
                self.text(el.tail)
        self.end_line()

    def body_blocks(self) -> list:
        """The blocks of the report body (module docstring, step 4)."""
        total = self.chars
        if not total or not self.containers:
            return self.blocks
        best = None
        for chars, start, end in self.containers:  # post-order: an element comes before its ancestors
            if chars >= BODY_SHARE * total and (best is None or chars < best[0]):
                best = (chars, start, end)
        if best is None:
            return self.blocks
        _, start, end = best
        keep = set(range(start, end)) | set(self.numeric_tables)
        return [b for i, b in enumerate(self.blocks) if i in keep]


def _parse(text: str, path: str):
    parser = etree.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True,
                              collect_ids=False, default_doctype=False)
    try:
        root = etree.fromstring(text.encode("utf-8", "surrogatepass"), parser)
    except etree.LxmlError as e:
        raise ReadError(f"cannot parse the HTML: {e}", path=path) from None
    if root is None:
        raise ReadError("no HTML content (the page is empty or not HTML)", path=path)
    return root


def read_html(data: bytes, source: Source) -> Document:
    """Read an HTML page into a :class:`Document` (see the module docstring).

    :param data: the page's bytes, in any encoding the module docstring lists.
    :param source: provenance; its ``encoding`` is filled in.
    :returns: the document; a page with no tables gives a document without
        table blocks (the pipeline then reports ``table_absent``).
    :raises ReadError: binary data, or markup lxml cannot parse at all.
    :raises DecodeError: no supported encoding fits.
    """
    mhtml = _unwrap_mhtml(data, source.path)
    if mhtml is not None:
        data, declared = mhtml
    else:
        declared = None
    if len(data) > MAX_HTML_BYTES:  # the markup itself; an MHTML file's images do not count
        raise ReadError(f"the HTML is {len(data) / 2**20:.1f} MiB, more than the {MAX_HTML_BYTES // 2**20} MiB "
                        f"a report's page can be", path=source.path)
    text, source.encoding, notes = decode_html(data, source.path, declared)
    root = _parse(text, source.path)
    walker = _Walker()
    body = root.find("body")
    walker.walk(body if body is not None else root)
    blocks = walker.body_blocks()
    title = root.find("head/title")
    if title is None:
        title = root.find(".//title")
    if title is not None:
        t = " ".join("".join(title.itertext()).split())
        if t and not (blocks and isinstance(blocks[0], Paragraph) and blocks[0].text == t):
            blocks.insert(0, Paragraph(t, where="<title>"))
    return Document(blocks, source, notes + clamp_tables(blocks, source.path))
