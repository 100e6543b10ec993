"""Reader for Word reports (``.docx``, WordprocessingML; ECMA-376 Part 1 §17).

Steps:

1. **Check the package** (:func:`check_zip`) before anything is inflated: a
   valid zip, at most :data:`MAX_MEMBERS` members, at most
   :data:`MAX_UNCOMPRESSED` bytes once inflated (a zip bomb is refused, not
   read), and a package that is a Word document (an Excel workbook, a
   presentation, an OpenDocument file or any other zip is refused by name).
2. **Open the package** the OPC way: the package relationships
   (``_rels/.rels``) name the main document part, whatever its part name,
   and ``[Content_Types].xml`` says what it is (python-docx's OPC constants
   and part-URI rules).  Only these three parts are inflated, each by
   :func:`read_member`, which never inflates past the size the member
   declares: python-docx's own package reader inflates every part with
   ``ZipFile.read``, which a member lying about its size can make inflate
   without bound.
3. **Parse the main part once** with a hardened lxml parser: no DTD
   loading, no entity expansion, no network access, default size limits.  A
   part that declares a DTD (Word never writes one) is refused.
4. **Walk the body once** in order: ``w:p`` → :class:`Paragraph` (runs'
   ``w:t`` text, ``w:tab`` as a space; a ``w:br``/``w:cr`` line break ends a
   paragraph); ``w:tbl`` → :class:`TableBlock`; content controls
   (``w:sdt``) and custom XML are read through.  Each table is read from its
   cell XML once (python-docx's ``row.cells`` repeats a merged cell in every
   slot it covers, so it is not used): ``w:gridSpan`` → ``colspan``;
   ``w:vMerge`` restart/continue → the restarting cell's ``rowspan`` (the
   continuing cells are not listed: origin cells only);
   ``w:gridBefore`` → an empty placeholder cell spanning the skipped grid
   columns (``w:gridAfter`` needs none); legacy ``w:hMerge`` continue →
   the previous cell's ``colspan``.  A cell's paragraphs and line breaks join
   by :func:`~gipextract.document.join_lines` (``商业`` + break + ``企业`` →
   ``商业企业``).  A table that contains tables is a layout table: its cells
   are read as containers, so the inner tables become table blocks.
   Text boxes (``w:txbxContent``; the ``mc:Fallback`` copy skipped) are read
   after the paragraph that anchors them, with a note.

Cells' ``where`` reads ``"table 2, row 5, cell 3"``; paragraphs' reads
``"paragraph 12"`` (1-based, in body order).
"""

from __future__ import annotations

import io
import zipfile
import zlib
from itertools import islice

from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from lxml import etree

from ..document import Cell, Document, Paragraph, Source, TableBlock, clamp_tables, join_lines
from ..errors import ReadError, UnsupportedFormatError
from .encoding import ascii_head

#: Largest total inflated size of the package's members (bytes).
MAX_UNCOMPRESSED = 200 * 2**20
#: Largest inflated size of one XML part the reader parses (the main document,
#: relationships, content types).  A report's document.xml is well under
#: 1 MiB (images are separate parts, never inflated); lxml holds several
#: times a part's size, so this keeps parsing well under 1 GB.
MAX_PART = 32 * 2**20
#: Largest number of members in the package.
MAX_MEMBERS = 10_000
#: Largest column span taken from ``w:gridSpan``/``w:gridBefore`` (Word allows 63 columns).
MAX_SPAN = 1000

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
P, T, TAB, PTAB, BR, CR = (_W + t for t in ("p", "t", "tab", "ptab", "br", "cr"))
TBL, TR, TC, TCPR, TRPR = (_W + t for t in ("tbl", "tr", "tc", "tcPr", "trPr"))
SDT, SDT_CONTENT, CUSTOM_XML = _W + "sdt", _W + "sdtContent", _W + "customXml"
GRID_SPAN, V_MERGE, H_MERGE, GRID_BEFORE = (_W + t for t in ("gridSpan", "vMerge", "hMerge", "gridBefore"))
NO_BREAK_HYPHEN, TXBX, ALT_CHUNK, BODY, VAL = (_W + "noBreakHyphen", _W + "txbxContent", _W + "altChunk",
                                                 _W + "body", _W + "val")
FALLBACK, ALTERNATE = _MC + "Fallback", _MC + "AlternateContent"
_TEXT_TAGS = (T, TAB, PTAB, BR, CR, NO_BREAK_HYPHEN)
_READ_THROUGH = (SDT, SDT_CONTENT, CUSTOM_XML)

_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
#: Content types of a Word main document part: .docx, .dotx, .docm, .dotm.
_WORD_MAIN = frozenset({CT.WML_DOCUMENT_MAIN,
                        "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
                        "application/vnd.ms-word.document.macroEnabled.main+xml",
                        "application/vnd.ms-word.template.macroEnabledTemplate.main+xml"})
_OTHER_OOXML = (("spreadsheetml", "an Excel workbook (.xlsx)"), ("ms-excel", "an Excel workbook (.xlsm)"),
                ("presentationml", "a PowerPoint presentation (.pptx)"),
                ("ms-powerpoint", "a PowerPoint presentation (.pptm)"))


_DTD_REFUSED = "refused: the package XML declares a DTD (<!DOCTYPE>, entities), which Word never writes"


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=True, remove_pis=True, collect_ids=False)


def _int(el, default: int = 1) -> int:
    """The ``w:val`` of a span-like element, clamped to [0, :data:`MAX_SPAN`]."""
    if el is None:
        return default
    try:
        return min(max(int(el.get(VAL, default)), 0), MAX_SPAN)
    except ValueError:
        return default


def check_zip(data: bytes, path: str) -> zipfile.ZipFile:
    """Open ``data`` as a zip and check it is a sane Word package (module
    docstring, step 1) without inflating anything.

    :returns: the open :class:`zipfile.ZipFile`.
    :raises ReadError: a corrupt or truncated zip, too many members, or
        members that declare more than :data:`MAX_UNCOMPRESSED` bytes.
    :raises UnsupportedFormatError: a zip that is not an Office package
        (names it when it can: OpenDocument, EPUB).
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as e:
        raise ReadError(f"not a readable .docx: the zip archive is corrupt or truncated ({e})", path=path) from None
    if len(infos) > MAX_MEMBERS:
        raise ReadError(f"refused: the zip archive has {len(infos)} members (limit {MAX_MEMBERS})", path=path)
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED:
        raise ReadError(f"refused: the zip archive would inflate to {total // 2**20} MiB "
                        f"(limit {MAX_UNCOMPRESSED // 2**20} MiB); not a report", path=path)
    names = {i.filename for i in infos}
    if "[Content_Types].xml" not in names:
        kind = read_member(zf, "mimetype", path)[:100].decode("ascii", "replace") if "mimetype" in names else ""
        if "opendocument" in kind:
            raise UnsupportedFormatError(
                "an OpenDocument file (.odt/.ods), not a Word document (.docx); convert it to .docx first, "
                "e.g. `libreoffice --headless --convert-to docx FILE`", path=path)
        what = "an EPUB book" if "epub" in kind else "a zip archive"
        raise UnsupportedFormatError(
            f"{what}, not a Word document (.docx) or any report format gipextract reads; "
            f"if the report is inside it, unpack it and give the report file", path=path)
    return zf


def read_member(zf: zipfile.ZipFile, name: str, path: str) -> bytes:
    """The inflated bytes of member ``name``, read in 1 MiB steps and never
    past the size its header declares (nor :data:`MAX_PART`), so a member
    that lies about its size cannot exhaust memory.

    :raises ReadError: the member is missing, corrupt (bad CRC, bad data) or
        too large.
    """
    try:
        info = zf.getinfo(name)
    except KeyError:
        lower = {n.lower(): n for n in zf.namelist()}  # OPC part names are case-insensitive
        if name.lower() not in lower:
            raise ReadError(f"not a readable .docx: the package has no part {name!r}", path=path) from None
        info = zf.getinfo(lower[name.lower()])
    if info.file_size > MAX_PART:
        raise ReadError(f"refused: part {name!r} would inflate to {info.file_size / 2**20:.0f} MiB "
                        f"(limit {MAX_PART // 2**20} MiB); not a report", path=path)
    limit = min(info.file_size, MAX_PART)
    chunks, size = [], 0
    try:
        with zf.open(info) as f:
            while chunk := f.read(2**20):
                size += len(chunk)
                if size > limit:
                    raise ReadError(f"refused: part {name!r} inflates past its declared size", path=path)
                chunks.append(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, ValueError, OSError,
            EOFError, zlib.error) as e:
        raise ReadError(f"not a readable .docx: part {name!r} is damaged ({e})", path=path) from None
    return b"".join(chunks)


def _main_part(zf: zipfile.ZipFile, path: str) -> bytes:
    """The bytes of the main document part: found through the package
    relationships (``officeDocument``), its kind checked in
    ``[Content_Types].xml`` (python-docx's OPC names and part-URI rules)."""
    rels = parse_part(read_member(zf, "_rels/.rels", path), path)
    target = next((r.get("Target") for r in rels.iter(_PKG_REL + "Relationship")
                   if r.get("Type") == RT.OFFICE_DOCUMENT and r.get("TargetMode") != "External"), None)
    if not target:
        raise UnsupportedFormatError("an Office package without a main document; not a Word document (.docx)",
                                     path=path)
    partname = PackURI.from_rel_ref("/", target)
    types = parse_part(read_member(zf, "[Content_Types].xml", path), path)
    content_type = next((o.get("ContentType", "") for o in types.iter(_CT + "Override")
                         if (o.get("PartName") or "").lower() == partname.lower()), None)
    if content_type is None:
        content_type = next((d.get("ContentType", "") for d in types.iter(_CT + "Default")
                             if (d.get("Extension") or "").lower() == partname.ext.lower()), "")
    if content_type not in _WORD_MAIN:
        what = next((name for key, name in _OTHER_OOXML if key in content_type), f"a {content_type!r} package")
        raise UnsupportedFormatError(f"{what}, not a Word document (.docx)", path=path)
    return read_member(zf, partname.membername, path)


def parse_part(blob: bytes, path: str):
    """Parse one XML part with the hardened parser (module docstring, step 3).

    :returns: the root element.
    :raises ReadError: malformed XML, or a part that declares a DTD.
    """
    head = ascii_head(blob)
    if b"<!doctype" in head.lower():
        raise ReadError(_DTD_REFUSED, path=path)
    try:
        root = etree.fromstring(blob, _parser())
    except etree.XMLSyntaxError as e:
        raise ReadError(f"not a readable .docx: malformed XML in the package ({e})", path=path) from None
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.doctype:
        raise ReadError(_DTD_REFUSED, path=path)
    return root


def _line_texts(p, skip=None) -> list[str]:
    """The lines of paragraph ``p``: text of its runs, split at line breaks."""
    lines: list[str] = []
    parts: list[str] = []
    for el in p.iter(_TEXT_TAGS):
        if skip is not None and el in skip:
            continue
        tag = el.tag
        if tag == T:
            if el.text:
                parts.append(el.text)
        elif tag in (TAB, PTAB):
            parts.append(" ")
        elif tag == NO_BREAK_HYPHEN:
            parts.append("-")
        elif tag in (BR, CR):
            lines.append("".join(parts))
            parts = []
    lines.append("".join(parts))
    return [" ".join(s.split()) for s in lines]


class _Walker:
    """One pass over the body, building blocks (module docstring, step 4)."""

    def __init__(self) -> None:
        self.blocks: list = []
        self.notes: list[str] = []
        self.incomplete = False  # content that could not be read (Document.incomplete)
        self.n_paragraphs = 0
        self.n_tables = 0

    def container(self, el) -> None:
        for child in el:
            tag = child.tag
            if tag == P:
                self.paragraph(child)
            elif tag == TBL:
                self.table(child)
            elif tag in _READ_THROUGH:
                self.container(child)
            elif tag == ALT_CHUNK:
                self.notes.append("The document embeds content from another file (w:altChunk), which was not read.")
                self.incomplete = True

    def paragraph(self, p) -> None:
        self.n_paragraphs += 1
        where = f"paragraph {self.n_paragraphs}"
        skip = _not_own_text(p, boxes_too=True)  # text boxes are read as blocks of their own, below
        boxes = [box for box in p.iter(TXBX) if _outermost_box(box, p)] if skip else []
        for line in _line_texts(p, skip):
            if line:
                self.blocks.append(Paragraph(line, where=where))
        for box in boxes:
            before = self.n_tables
            self.container(box)
            if self.n_tables > before:
                self.notes.append(f"{self.n_tables - before} table(s) were read from a text box anchored at {where}.")

    def table(self, tbl) -> None:
        if next(islice(tbl.iter(TBL), 1, None), None) is not None:  # the first match is tbl itself
            self.notes.append(f"A table holds another table (after {self.n_tables} tables); it was read as a "
                              f"layout table and its inner tables as tables.")
            for tr in _children(tbl, TR):
                for tc in _children(tr, TC):
                    self.container(tc)
            return
        t = self.n_tables + 1
        rows: list[list[Cell]] = []
        open_v: dict[int, Cell] = {}
        for r, tr in enumerate(_children(tbl, TR), 1):
            row: list[Cell] = []
            trpr = tr.find(TRPR)
            col = _int(trpr.find(GRID_BEFORE), 0) if trpr is not None else 0
            if col:
                row.append(Cell("", 1, col, where=f"table {t}, row {r} (w:gridBefore)"))
            now_open: dict[int, Cell] = {}
            for tc in _children(tr, TC):
                pr = tc.find(TCPR)
                span, vmerge, hmerge = 1, None, None
                if pr is not None:
                    span = max(_int(pr.find(GRID_SPAN)), 1)
                    vm, hm = pr.find(V_MERGE), pr.find(H_MERGE)
                    vmerge = None if vm is None else vm.get(VAL, "continue")
                    hmerge = None if hm is None else hm.get(VAL, "continue")
                origin = open_v.get(col)
                if vmerge == "continue" and origin is not None and origin.colspan == span:
                    origin.rowspan += 1
                    now_open[col] = origin
                elif hmerge == "continue" and row:
                    row[-1].colspan += span
                else:
                    cell = Cell(_cell_text(tc), 1, span, where=f"table {t}, row {r}, cell {len(row) + 1}")
                    row.append(cell)
                    if vmerge is not None:
                        now_open[col] = cell
                col += span
            open_v = now_open
            rows.append(row)
        if any(rows):
            self.n_tables = t
            self.blocks.append(TableBlock(rows, where=f"table {t}"))


def _not_own_text(p, boxes_too: bool) -> set | None:
    """The text elements of paragraph ``p`` that are not its own line: the
    ``mc:Fallback`` copy of alternate content (the ``mc:Choice`` copy is
    read; reading both would print a number twice: ``5`` → ``55``) and, with
    ``boxes_too``, the text of its text boxes.  ``None`` when there are none
    (the common case, checked at C speed)."""
    if next(p.iter(TXBX, ALTERNATE), None) is None:
        return None
    subs = p.iter(TXBX, FALLBACK) if boxes_too else p.iter(FALLBACK)
    return {x for sub in subs for x in sub.iter(_TEXT_TAGS)}


def _outermost_box(box, p) -> bool:
    """True if text box ``box`` sits in paragraph ``p`` itself, not in another
    text box nor in the ``mc:Fallback`` copy of an ``mc:AlternateContent``."""
    for anc in box.iterancestors():
        if anc is p:
            return True
        if anc.tag in (TXBX, FALLBACK):
            return False
    return False


def _children(el, tag: str):
    """The ``tag`` children of ``el``, reading through content controls and
    custom XML (``w:sdt``/``w:sdtContent``/``w:customXml``), which may wrap
    rows, cells and paragraphs."""
    for child in el:
        if child.tag == tag:
            yield child
        elif child.tag in _READ_THROUGH:
            yield from _children(child, tag)


def _cell_text(tc) -> str:
    """A cell's paragraphs and line breaks joined; text boxes in it count as its text."""
    return join_lines(line for p in _children(tc, P) for line in _line_texts(p, _not_own_text(p, boxes_too=False)))


def read_docx(data: bytes, source: Source) -> Document:
    """Read a Word document into a :class:`Document` (see the module docstring).

    :param data: the bytes of the ``.docx`` package.
    :param source: provenance.
    :returns: the document; reading problems that are not fatal (text boxes,
        nested tables, embedded chunks) are listed in ``Document.notes``.
    :raises ReadError: a corrupt, truncated, oversized or unsafe package.
    :raises UnsupportedFormatError: a zip or Office package that is not a
        Word document.
    """
    with check_zip(data, source.path) as zf:
        root = parse_part(_main_part(zf, source.path), source.path)
    body = root.find(BODY)
    walker = _Walker()
    if body is not None:
        walker.container(body)
    notes = walker.notes + clamp_tables(walker.blocks, source.path)
    return Document(walker.blocks, source, notes, walker.incomplete)
