"""Reconstruct: rebuild the statistics tables from located table blocks
(template-spec §7.3, §7.4, §8).  One reconstructor serves every reader.

1. **Segments.**  Every printed row becomes a segment: its label cells (the
   leading non-number cells, after the empty cells of merged slots) and its
   value cells (the rest, blanks included).  Empty cells in the grid's label
   columns (left of every printed value) are merged or empty label slots
   wherever they stand, never blank values.  A row with numbers but no label
   continues the segment before it, so layouts that put each cell on its own
   row (one-cell-per-line dumps) and 表四's unlabelled row of 15 numbers give
   the same segments as a grid.
2. **Version** (spec §8): the labels that mark V2019 or V2021 in 表二 and 表三
   (template ``markers``/``leaf_markers``); a table without markers follows the
   other tables, then the report year.  Tables of different versions make the
   report ``MIXED``, each table keyed by its own version.
3. **Alignment.**  Template rows and segments are matched in order by label
   similarity (exact after normalisation, then the template's aliases, then the
   label without numbering or notes, then fuzzy LCS ≥ the threshold of
   labels.toml): the monotonic matching with the greatest total similarity.
   A segment with numbers and no template row is an extra row, kept but never
   counted.  A template row with no segment is ``row_missing`` (the report
   left it out) only when no such extra row is left: otherwise its label may
   have been cut (a wrap, a page break, a header word glued to it), so its
   cells are ``unreadable``, never guessed, unless exactly one row is missing,
   exactly one extra row stands in its place and its label is part of the
   row's (or contains it): then it is that row (``cut_label``, spec §7.3).
   Rows after the last one read, down to a total row, are a table cut off
   (``table_cut_off``): ``unreadable`` too.
4. **Values.**  A matched segment must carry exactly as many values as the
   row has columns (trailing empty cells aside); they are taken in order and
   parsed by :func:`gipextract.values.parse_value`.  Any other count leaves the
   row's cells null (``unreadable``) with a finding: a number is never guessed.

Modules: :mod:`.segment` (step 1), :mod:`.match` (steps 2–3), :mod:`.build`
(step 4); this one runs them over a located document.  :func:`rebuild`
returns the report with every table's :class:`TableReconstruction`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..document import Paragraph
from ..locate import Located
from ..report import Finding, Report
from ..templates import PRE_FORMAT, TABLES, VERSIONS, fallback_version, get_template, section_tables, version_for_year
from .build import TABLE_NAMES, RowMatch, TableReconstruction, build_table, rebuild_table
from .match import align, detect_version, match_scores
from .segment import _CJK, Segment, segment_rows

__all__ = ["TABLE_NAMES", "Reconstruction", "RowMatch", "Segment", "TableReconstruction", "align", "build_table",
           "detect_version", "match_scores", "rebuild", "rebuild_table", "reconstruct", "segment_rows",
           "version_for_year"]


@dataclass(slots=True)
class Reconstruction:
    """The reconstruct stage's result with its intermediates: the ``report``,
    each table's :class:`TableReconstruction`, the versions the tables'
    markers ``detected`` (spec §8 rules 1–2), the version the year meant
    (``prior``, rule 3) and the ``fallback`` tables without markers took."""

    report: Report
    tables: dict[str, TableReconstruction] = field(default_factory=dict)
    detected: dict[str, str] = field(default_factory=dict)
    prior: str | None = None
    fallback: str | None = None



def reconstruct(located: Located) -> Report:
    """Build the :class:`Report` of a located document (module docstring).
    Never raises for odd content: what cannot be read becomes null cells and
    findings.  The reader's notes (``Document.notes``: a page without a text
    layer, a skipped part) become ``reader_note`` findings and are cited by
    the ``table_absent`` findings.  :func:`rebuild` returns the same report
    with the stage's intermediates."""
    return rebuild(located).report


def _opens_text(located: Located, table: str) -> bool:
    """True if table ``table``'s first block is the first thing the document
    says: no section heading was found for it, and every paragraph before the
    block holds no Chinese word (a page number ``- 4 -`` at most) — a text cut
    out of a report, starting inside the table (spec §7.3)."""
    blocks = located.tables.get(table)
    if not blocks or any(section_tables().get(k) == table for k in located.sections):
        return False
    for block in located.document.blocks:
        if block is blocks[0]:
            return True
        if not isinstance(block, Paragraph) or _CJK.search(block.text):
            return False
    return False


def rebuild(located: Located) -> Reconstruction:
    """:func:`reconstruct`, returning a :class:`Reconstruction`: the report
    and, per table, the segments, the row matches and the runs split (what
    ``gipextract inspect`` shows)."""
    doc = located.document
    report = Report(source=doc.source, agency=located.agency, year=located.year,
                    sections={k: s.text for k, s in located.sections.items()},
                    headings={k: s.heading for k, s in located.sections.items()},
                    title=located.title, needs_ocr=doc.needs_ocr)
    # Reading problems the reader noted (a table in a text box, a nested table) are info findings.
    report.findings.extend(Finding("reader_note", "info", None, message=note) for note in doc.notes)
    segs = {t: segment_rows(located.tables[t]) for t in TABLES}
    detected = {t: v for t in ("t2", "t3") if segs[t] and (v := detect_version(t, segs[t]))}
    prior = version_for_year(located.year)
    present = [t for t in TABLES if segs[t]]
    result = Reconstruction(report, detected=dict(detected), prior=prior)

    if prior == PRE_FORMAT and not detected:
        report.template = PRE_FORMAT
        report.findings.append(Finding(
            "table_absent", "info", None,
            message=f"A {located.year} report: the standard statistics tables (表二/表三/表四) exist only from the "
                    f"2019 format on (spec §9); no table was extracted."))
        return result

    kinds = set(detected.values())
    meant = prior if prior is not None and prior in VERSIONS else fallback_version()
    fallback = kinds.pop() if len(kinds) == 1 else meant
    result.fallback = fallback
    for t in present:
        version = detected.get(t, fallback)
        table = rebuild_table(t, get_template(version).tables[t], segs[t], report, doc.incomplete,
                              opens_text=_opens_text(located, t))
        if table is not None:
            report.table_versions[t] = version
            result.tables[t] = table
    versions = set(report.table_versions.values())
    if len(versions) > 1:
        report.template = "MIXED"
    elif versions and (detected or prior in VERSIONS):
        report.template = versions.pop()
    elif versions:
        report.template = "UNKNOWN"
        report.findings.append(Finding(
            "version_unknown", "warning", None,
            message=f"Neither the tables nor the year tell the format version; the tables are keyed as {fallback}."))
    for t in TABLES:
        if t not in report.table_versions:
            sec = next(k for k, v in section_tables().items() if v == t)
            where = f" (section {located.sections[sec].heading!r} has none)" if sec in located.sections else ""
            if doc.incomplete:
                why = f" Part of the document could not be read: {' '.join(doc.notes)}"
            else:
                why = (" Either the report has no such table, or its layout was not recognised "
                       "(`gipextract inspect` shows what was read).")
            report.findings.append(Finding(
                "table_absent", "warning", t,
                message=f"{TABLE_NAMES[t]} was not found in the report{where}; its cells are absent, not zero.{why}"))
    return result
