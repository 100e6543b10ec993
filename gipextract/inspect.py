"""Inspect: what each stage made of one report, as text for a person.

``gipextract inspect REPORT`` prints, stage by stage, the reader's document
(format, encoding, its blocks), what :mod:`~gipextract.locate` found (title,
sections, which table block is which table), and how
:mod:`~gipextract.reconstruct` matched each template row to a printed row
(label as printed → official label, values as printed), as reconstruct itself
returns it (:func:`~gipextract.reconstruct.rebuild`).  It is the first thing
to look at when a new layout reads wrong (style.md: pdfplumber's
``debug_tablefinder``).  It only formats what the stages return; it decides
nothing.
"""

from __future__ import annotations

from . import narrative
from .document import Document
from .locate import Located
from .pipeline import locate_document
from .reconstruct import Reconstruction, rebuild
from .report import Report
from .validate import validate

_WIDTH = 28


def _short(text: str, width: int = _WIDTH) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _document(doc: Document, out: list[str]) -> None:
    s = doc.source
    out.append(f"read: {s.path}  format {s.format}" + (f", encoding {s.encoding}" if s.encoding else "")
               + f", {len(doc.paragraphs)} paragraphs, {len(doc.tables)} table blocks")
    for note in doc.notes:
        out.append(f"  note: {note}")


def _located(loc: Located, out: list[str]) -> None:
    out.append(f"locate: agency {loc.agency!r}, year {loc.year}")
    for line in loc.title[:3]:
        out.append(f"  title  {_short(line, 60)}")
    for key, sec in loc.sections.items():
        out.append(f"  {key}     {sec.heading}  ({sec.where})")
    for table, blocks in loc.tables.items():
        if not blocks:
            out.append(f"  {table}: no table block")
        for b in blocks:
            out.append(f"  {table}: table block at {b.where}, {b.n_rows} rows")
            for row in b.rows:
                cells = " | ".join(_short(c.text, 14) + (f"⟨{c.rowspan}×{c.colspan}⟩" if c.rowspan > 1 or
                                                         c.colspan > 1 else "") for c in row)
                out.append(f"      {cells}")


_HOW = {"label": "by label", "out_of_order": "by label, printed out of order",
        "joined": "from the unlabelled row of numbers", "blank_row": "an unfilled row under the header",
        "cut_label": "by its cut label, the one printed row left over there (spec §7.3)"}


def _matches(rec: Reconstruction, report: Report, out: list[str]) -> None:
    for table, tr in rec.tables.items():
        tt = report.template_for(table)
        if tt is None:
            continue
        hows: dict[str, int] = {}
        for m in tr.rows:
            if m.how != "missing":
                hows[m.how] = hows.get(m.how, 0) + 1
        told = ", ".join(f"{n} {_HOW[h]}" for h, n in hows.items())
        out.append(f"reconstruct {table} as {tr.version}: {tr.matched} of {len(tr.rows)} rows matched"
                   + (" by label" if set(hows) == {"label"} else f" ({told})" if told else ""))
        for m in tr.rows:
            seg = m.segment
            printed = "(row of numbers)" if m.how == "joined" else "".join(seg.labels) if seg else "—"
            values = m.run if m.run is not None else " ".join(c.text or "∅" for c in m.values)
            flags = {f for k in tt.row_cell_keys(m.row) if (f := report.cells[k].flag) is not None}
            out.append(f"  {_short(m.row.label):{_WIDTH}}  ← {_short(printed):{_WIDTH}}  {values}"
                       + (" (split)" if m.run is not None else "")
                       + (f"  [{', '.join(sorted(flags))}]" if flags else ""))
        for seg in tr.extra:
            out.append(f"  extra row {''.join(seg.labels)!r}: {' '.join(c.text or '∅' for c in seg.values)}")


def inspect_report(doc: Document) -> str:
    """Run the stages after the reader on ``doc`` and return their
    stage-by-stage account (module docstring) as lines of text.  A crawler dump
    is shown after :func:`~gipextract.unflatten.unflatten`, as reconstruct saw it."""
    out: list[str] = []
    _document(doc, out)
    loc = locate_document(doc)
    rec = rebuild(loc)
    report = validate(rec.report)
    if loc.document is not doc:
        out.append("unflatten: the cells of this text were run together; showing the rebuilt document")
    _located(loc, out)
    _matches(rec, report, out)
    out.extend(narrative.inspect_lines(narrative.apply(report)))
    out.append(f"report: template {report.template} {dict(report.table_versions)}, {len(report.cells)} cells, "
               f"{sum(c.value is None for c in report.cells.values())} null, {len(report.findings)} findings")
    for f in report.findings:
        out.append(f"  {f.severity:7s} {f.rule:14s} {f.message}")
    return "\n".join(out) + "\n"
