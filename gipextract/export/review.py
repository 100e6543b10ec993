"""The review page: one self-contained HTML file per report, for a person
checking it (``gipextract review``, and ``review/`` of ``gipextract batch``).

The page shows the report's metadata (agency, year, format version, source
file and sha256), then 表二, 表三 and 表四 laid out as printed
(:mod:`gipextract.export.layout`: the official headers with their merged cells
as ``rowspan``/``colspan``, the official row labels; template-spec §3–§5).
Every value cell is a ``<td>`` carrying ``data-key`` (its canonical key, spec
§10) and showing the value as printed; how a cell shows follows
:mod:`gipextract.export.display`, as in the XLSX:

* an unread cell (``unreadable``, ``ambiguous``, ``row_missing`` …) has class
  ``unread``, shows ``[flag]`` and never a number, and its ``title`` gives the
  flag and the text as printed;
* a number printed in another unit than its column's shows that unit, class
  ``unit``;
* a cell named by a finding has class ``finding-error``, ``finding-warning``
  or ``finding-info`` (its most severe finding), and ``data-findings`` (the
  numbers of those findings in the list).

Beside the tables the findings (spec §6) are listed, each a button
``.finding`` with ``data-cells``: activating it gives its cells class ``hl``
and scrolls to the first; activating a cell lists its findings.  Beside each
table is its source: for a PDF the page images of the pages its cells were
read from (rendered by pypdfium2 as grayscale PNG data URIs, at most
``max_pages`` pages of at most ``max_width`` pixels wide; a PDF whose tables
were not found, such as a scan, shows its first pages), else the table blocks
the reader found, as text (one line per printed row, cells separated by
``│``, each line prefixed with its place in the source).

Everything taken from the report (agency, labels, raw text, messages, file
names) is HTML-escaped.  The CSS and the script are inline: the page needs no
network and no font of its own.
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

from ..normalize import text_cache
from ..report import CellValue, Finding, Report
from ..status import report_status
from ..templates import TABLE_SHORT, TABLES
from .display import cell_note, column_units, is_unread, number_text, other_unit
from .layout import table_layout

if TYPE_CHECKING:
    from ..document import TableBlock
    from ..locate import Located

#: The most page images a page embeds, by default (``gipextract review``).
MAX_PAGES = 8
#: The most page images of one report in a batch (``review/`` pages stay small).
BATCH_MAX_PAGES = 4
#: The widest page image in a batch, in pixels.
BATCH_MAX_WIDTH = 900
#: The widest page image, in pixels; its height is bounded to 1.5 × this.
MAX_WIDTH = 1100
#: Grey levels of a page image (a 4-bit grayscale PNG: ~50–90 KB a page).
_GREYS = 16
#: 256 grey levels → :data:`_GREYS` evenly spaced ones (a table lookup: PIL's
#: adaptive ``quantize`` and ``optimize=True`` cost 15 times as much for 2% fewer bytes).
_LEVELS = [i * _GREYS // 256 for i in range(256)]
_PALETTE = [g for i in range(_GREYS) for g in (i * 255 // (_GREYS - 1),) * 3]
_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
_PAGE = re.compile(r"\bpage (\d+)\b")
_CELL = re.compile(r",? *cell \d+$")


@dataclass(frozen=True, slots=True)
class PageImage:
    """One rendered PDF page.

    :ivar page: its number, 1-based (as the PDF reader's ``where`` gives it).
    :ivar width, height: in pixels.
    :ivar png: the PNG bytes.
    """

    page: int
    width: int
    height: int
    png: bytes

    @property
    def data_uri(self) -> str:
        """The image as a ``data:image/png;base64,…`` URI."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def table_pages(report: Report) -> dict[str, list[int]]:
    """``t2``/``t3``/``t4`` → the PDF pages (1-based, ascending) its cells were
    read from, from the cells' ``where`` (``"page 3"``); a table with no such
    cell is absent."""
    out: dict[str, set[int]] = {}
    for cell in report.cells.values():
        m = _PAGE.search(cell.where or "")
        if m:
            out.setdefault(cell.table, set()).add(int(m.group(1)))
    return {t: sorted(p) for t, p in out.items()}


def render_pages(pdf: bytes, pages: Iterable[int], *, max_pages: int = MAX_PAGES,
                 max_width: int = MAX_WIDTH) -> tuple[list[PageImage], str | None]:
    """Render ``pages`` (1-based) of the PDF ``pdf`` as grayscale PNGs.

    At most ``max_pages`` pages (the first ones asked for), each at most
    ``max_width`` pixels wide and ``1.5 × max_width`` high (never enlarged
    past 2× the PDF's size).  Pages the PDF does not have are skipped.

    :returns: the images, and a note when some could not be rendered or were
        left out (``None`` otherwise).  Never raises for a damaged PDF: the
        note says why there are no images.
    """
    import pypdfium2 as pdfium
    from PIL import Image

    wanted = list(dict.fromkeys(pages))
    note = None
    if len(wanted) > max_pages:
        note = f"{len(wanted) - max_pages} more page(s) not shown (at most {max_pages} page images)"
        wanted = wanted[:max_pages]
    images: list[PageImage] = []
    try:
        doc = pdfium.PdfDocument(pdf)
    except Exception as e:  # noqa: BLE001 — a PDF pdfium cannot open: the page says so
        return [], f"the page images could not be rendered ({e.__class__.__name__}: {e})"
    try:
        n = len(doc)
        for number in wanted:
            if not 1 <= number <= n:
                continue
            page = doc[number - 1]
            try:
                w, h = page.get_size()
                scale = min(max_width / w, 1.5 * max_width / h, 2.0) if w > 0 and h > 0 else 1.0
                grey = page.render(scale=scale, grayscale=True).to_pil().convert("L").point(_LEVELS)
                image = Image.frombytes("P", grey.size, grey.tobytes())
                image.putpalette(_PALETTE)
                buf = io.BytesIO()
                image.save(buf, "PNG", bits=4)
                images.append(PageImage(number, image.width, image.height, buf.getvalue()))
            except Exception as e:  # noqa: BLE001 — one damaged page: the others still show
                note = f"page {number} could not be rendered ({e.__class__.__name__})"
            finally:
                page.close()
    finally:
        doc.close()
    return images, note


def source_text(blocks: list[TableBlock]) -> str:
    """Table blocks as text: one line per printed row, ``where │ cell │ cell …``
    (the place in the source of the row's first cell that has one)."""
    lines = []
    for block in blocks:
        prefix = f"{block.where}, " if block.where else None
        if prefix:
            lines.append(f"── {block.where} ──")
        for row in block.rows:
            where = next((c.where for c in row if c.where), None) or ""
            if prefix and where.startswith(prefix):  # "table 2, row 7, cell 1" under "table 2": "row 7"
                where = _CELL.sub("", where[len(prefix):])
            cells = " │ ".join(c.text.replace("\n", " ") for c in row)
            lines.append(f"{where:>9}  {cells}" if where else cells)
        lines.append("")
    return "\n".join(lines).rstrip()


def _e(text: object) -> str:
    return "" if text is None else _escape(text if type(text) is str else str(text))


@text_cache(maxsize=8192)
def _escape(text: str) -> str:
    """``text`` escaped for HTML (memoised: keys and labels recur in every report)."""
    return html.escape(text, quote=True)


def _asset(name: str) -> str:
    return resources.files("gipextract.export").joinpath(name).read_text(encoding="utf-8")


def _cell_findings(report: Report) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, f in enumerate(report.findings):
        for key in f.cells:
            out.setdefault(key, []).append(i)
    return out


def _cell_html(report: Report, key: str, rowspan: int, colspan: int, units: dict[str, str | None],
               findings: list[int]) -> str:
    cell: CellValue | None = report.cells.get(key)
    unit = units.get(key)
    if (not findings and cell is not None and cell.value is not None
            and (not cell.unit or cell.unit == unit)):  # a plain number (most cells): no note, no title
        spans = (f' rowspan="{rowspan}"' if rowspan > 1 else "") + (f' colspan="{colspan}"' if colspan > 1 else "")
        return f'<td class="v" data-key="{_e(key)}"{spans}>{_e(number_text(cell.value))}</td>'
    classes = ["v"]
    if cell is None:
        shown, title = "", key
    else:
        if cell.value is not None:
            shown = number_text(cell.value) + (other_unit(cell, unit) or "")
        elif is_unread(cell):
            shown = f"[{cell.flag or 'null'}]"
        else:  # printed nothing, a dash or 无: as printed
            shown = (cell.raw or "").strip()
        note = cell_note(report, cell, unit)
        if is_unread(cell):
            classes.append("unread")
        elif note is not None:
            classes.append("unit")
        title = f"{cell.row_label} / {cell.col_label}\n{note}" if note else ""
        if title and cell.where:
            title += f"\n({cell.where})"
    attrs = [f'data-key="{_e(key)}"']
    if findings:
        worst = min((report.findings[i].severity for i in findings), key=lambda s: _SEVERITY_ORDER.get(s, 3))
        classes.append(f"finding-{worst}")
        attrs.append(f'data-findings="{" ".join(map(str, findings))}"')
    if findings or "unread" in classes or "unit" in classes:
        attrs.append('tabindex="0"')
    if rowspan > 1:
        attrs.append(f'rowspan="{rowspan}"')
    if colspan > 1:
        attrs.append(f'colspan="{colspan}"')
    if title or findings:  # the cell panel shows it; plain cells need none (their labels are printed)
        attrs.append(f'title="{_e(title or (f"{cell.row_label} / {cell.col_label}" if cell else key))}"')
    return f'<td class="{" ".join(classes)}" {" ".join(attrs)}>{_e(shown)}</td>'


def _table_html(report: Report, name: str, cell_findings: dict[str, list[int]]) -> str:
    tt = report.template_for(name)
    if tt is None:
        return f'<p class="absent">{_e(TABLE_SHORT[name])}: not found in this report.</p>'
    layout = table_layout(tt)
    units = column_units(report, name)
    rows: list[list[str]] = [[] for _ in range(layout.n_rows)]
    for s in layout.slots:
        if s.key is not None:
            html_cell = _cell_html(report, s.key, s.rowspan, s.colspan, units, cell_findings.get(s.key, []))
        else:
            label = not s.header or (layout.header_rows > 0 and s.col <= layout.label_cols
                                     and s.row > layout.header_rows)  # 表三's stub
            cls = "lbl" + (" group" if s.rowspan > 1 or s.colspan > 1 else "") if label else "h"
            if s.row == 1 and s.col == 1 and layout.header_rows and layout.label_cols:
                cls += " note"  # 表三's 勾稽 note over the corner
            span = (f' rowspan="{s.rowspan}"' if s.rowspan > 1 else "") + (
                f' colspan="{s.colspan}"' if s.colspan > 1 else "")
            scope = ' scope="row"' if cls.startswith("lbl") else ""
            html_cell = f'<th class="{cls}"{span}{scope}>{_e(s.text)}</th>'
        rows[s.row - 1].append(html_cell)
    body = "\n".join(f"<tr>{''.join(r)}</tr>" for r in rows)
    cls = "t2" if tt.blocks else name
    return f'<table class="grid {cls}" data-table="{name}">\n{body}\n</table>'


def _extra_rows_html(report: Report, name: str) -> str:
    extra = [r for r in report.extra_rows if r.table == name]
    if not extra:
        return ""
    items = "".join(f"<li><b>{_e(r.label)}</b> {_e(' │ '.join(r.raw))}"
                    f"{f' <small>({_e(r.where)})</small>' if r.where else ''}</li>" for r in extra)
    return f'<div class="extra"><h3>Rows the format does not have</h3><ul>{items}</ul></div>'


def _source_html(name: str, pages: dict[str, list[int]], shown: set[int], blocks: dict[str, list[TableBlock]],
                 is_pdf: bool) -> str:
    if is_pdf:
        nums = [p for p in pages.get(name, []) if p in shown]
        if not nums:
            return ""
        figs = "".join(f'<figure><div class="pg pg{p}" role="img" aria-label="page {p}" tabindex="0"></div>'
                       f"<figcaption>page {p}</figcaption></figure>" for p in nums)
        label = f"page{'s' if len(nums) > 1 else ''} {', '.join(map(str, nums))}"
        return (f'<details class="source" open><summary>Source: {label}</summary>'
                f'<div class="pages">{figs}</div></details>')
    text = source_text(blocks.get(name, []))
    if not text:
        return ""
    return (f'<details class="source" open><summary>Source: the table as read</summary>'
            f'<pre lang="zh">{_e(text)}</pre></details>')


def _finding_html(i: int, f: Finding) -> str:
    cells = " ".join(f.cells)
    table = TABLE_SHORT.get(f.table or "", "")
    exp = "" if f.expected is None or isinstance(f.expected, (list, dict)) else f" expected {f.expected}"
    act = "" if f.actual is None or isinstance(f.actual, (list, dict)) else f", actual {f.actual}"
    return (f'<li><button type="button" class="finding sev-{_e(f.severity)}" id="f{i}" data-index="{i}" '
            f'data-cells="{_e(cells)}" aria-pressed="false"{"" if f.cells else " data-nocells"}>'
            f'<span class="tag">{_e(f.severity)}</span> <b>{_e(f.rule)}</b> {_e(table)}'
            f'<span class="msg">{_e(f.message)}</span>'
            f'{f"<span class=ea>{_e(exp + act)}</span>" if exp or act else ""}</button></li>')


def review_html(report: Report, *, located: Located | None = None, pdf: bytes | None = None,
                max_pages: int = MAX_PAGES, max_width: int = MAX_WIDTH) -> str:
    """The review page of ``report`` (module docstring), as one HTML document.

    :param located: what :func:`gipextract.pipeline.locate_document` found in
        the report's document; its table blocks are shown as the source text
        beside each table (not for a PDF with ``pdf`` given).
    :param pdf: the PDF's bytes, for the page images beside the tables.
    :param max_pages: the most page images embedded (the tables' pages first).
    :param max_width: the widest page image, in pixels.
    :returns: the HTML text (UTF-8 when written; self-contained).
    """
    cell_findings = _cell_findings(report)
    is_pdf = pdf is not None
    pages = table_pages(report) if is_pdf else {}
    images: list[PageImage] = []
    note = None
    if pdf is not None:
        wanted = [p for t in TABLES for p in pages.get(t, [])]
        if not wanted:  # tables not found (a scan): the first pages, to see what the PDF holds
            wanted = list(range(1, max_pages + 1))
        images, note = render_pages(pdf, wanted, max_pages=max_pages, max_width=max_width)
    shown = {im.page for im in images}
    blocks = dict(located.tables) if located is not None else {}

    sections = []
    for name in TABLES:
        tt = report.template_for(name)
        title = f"{TABLE_SHORT[name]} {tt.title}" if tt is not None else TABLE_SHORT[name]
        version = f' <small class="ver">{_e(tt.version)}</small>' if tt is not None else ""
        sections.append(
            f'<section class="tbl" id="sec-{name}" aria-labelledby="h-{name}">'
            f'<h2 id="h-{name}">{_e(title)}{version}</h2>'
            f'<div class="pair"><div class="gridwrap">{_table_html(report, name, cell_findings)}'
            f"{_extra_rows_html(report, name)}</div>"
            f"{_source_html(name, pages, shown, blocks, is_pdf)}</div></section>")
    unplaced = sorted(shown - {p for ps in pages.values() for p in ps})
    if unplaced:
        figs = "".join(f'<figure><div class="pg pg{p}" role="img" aria-label="page {p}" tabindex="0"></div>'
                       f"<figcaption>page {p}</figcaption></figure>" for p in unplaced)
        sections.append(f'<section class="tbl" id="sec-pages"><h2>Source pages</h2><div class="pages">{figs}</div>'
                        "</section>")
    page_css = "\n".join(f".pg{im.page}{{background-image:url({im.data_uri});aspect-ratio:{im.width}/{im.height}}}"
                         for im in images)

    src = report.source
    n = {s: sum(1 for f in report.findings if f.severity == s) for s in ("error", "warning", "info")}
    versions = ", ".join(f"{TABLE_SHORT[t]} {v}" for t, v in sorted(report.table_versions.items()))
    meta = [("Agency", report.agency or "(not found)"), ("Year", report.year or "(not found)"),
            ("Format", report.template + (f" ({versions})" if versions and report.template == "MIXED" else "")),
            ("Source", src.path), ("Read as", src.format + (f", {src.encoding}" if src.encoding else "")),
            ("SHA-256", src.sha256)]
    meta_html = "".join(f"<div><dt>{_e(k)}</dt><dd{' class=mono' if k == 'SHA-256' else ''}>{_e(v)}</dd></div>"
                        for k, v in meta)
    status, identities, n_unread = report_status(report)  # as the manifest and `extract` say it
    if not report.has_tables():
        verdict, badge = "no tables", "bad"
    else:
        verdict, badge = {"broken": ("identities broken", "bad"), "hold": ("identities hold", "good")}.get(
            identities, ("identities not all checked", "unchecked"))
        if n_unread:
            verdict = f"{status}: {n_unread} cells not read · {verdict}"
    badges = (f'<span class="badge {badge}">{_e(verdict)}</span> '
              f'<span class="badge sev-error">{n["error"]} error</span> '
              f'<span class="badge sev-warning">{n["warning"]} warning</span> '
              f'<span class="badge sev-info">{n["info"]} info</span>')
    notice = "" if report.has_tables() else (
        '<p class="notice" role="note">No statistics table (表二, 表三, 表四) was found in this report.</p>')
    if note:
        notice += f'<p class="notice" role="note">{_e(note)}</p>'
    findings = "\n".join(_finding_html(i, f) for i, f in enumerate(report.findings)) or (
        '<li class="none">No findings.</li>')
    heading = f"{report.agency or '(agency not found)'} · {report.year or '(year not found)'}"
    return _asset("review_template.html").format(
        title=_e(f"Review · {heading}"), heading=_e(heading), meta=meta_html, badges=badges, notice=notice,
        n_findings=len(report.findings), findings=findings, sections="\n".join(sections),
        css=_asset("review.css") + "\n" + page_css, js=_asset("review.js"))


def review_page(data: bytes, report: Report, *, located: Located | None = None, max_pages: int = MAX_PAGES,
                max_width: int = MAX_WIDTH) -> str:
    """The review page of ``report``, read from ``data`` (the input's bytes):
    for a PDF with the page images of ``data``; for another format with the
    table blocks of its document (the source text beside the tables): those
    of ``located`` (:func:`gipextract.pipeline.read_located` gives it with the
    report), else read again from ``data`` with the reader that read ``report``.

    :raises ReadError: only if ``data`` can no longer be read as it was.
    """
    if report.source.format == "pdf":
        return review_html(report, pdf=data, max_pages=max_pages, max_width=max_width)
    if located is None:
        from ..pipeline import locate_document, read_document_from  # the document, for its table blocks

        located = locate_document(read_document_from(data, report.source.format, name=report.source.path))
    return review_html(report, located=located)
