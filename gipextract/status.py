"""A report's status: how far it was read, in one word (design.md "batch").

Computed in this one place from a :class:`~gipextract.report.Report`; the
batch manifest and ``gipextract extract`` (on stderr) both say it.

``status`` is one of :data:`STATUSES`:

``ok``
    every table of the report's format found and every cell read: nulls only
    where the report itself printed a blank, a dash, 无 or left a row out
    (template-spec §7.2, §10.3 flags ``blank``, ``dash``, ``none_text``,
    ``row_missing``).  A row is ``row_missing`` only when nothing printed
    could be it: a template row not found while a printed row with numbers
    is left unmatched (a cut label), or after the last row of a table cut
    off before its total row, is ``unreadable`` (spec §7.3), so it makes the
    report ``partial`` and counts in ``n_unread``.
``partial``
    tables found, some cells not read: a cell flagged with one of
    :data:`UNREAD_FLAGS`, or a table absent (its cells all count as unread).
``empty``
    tables found but not one number in them (an unfilled template).
``needs_ocr``
    no table found and pages had no text layer (OCR not installed or not run).
``pre2019``
    no table found, and the report is of the pre-2019 free form (spec §9).
``not_a_report``
    read, but nothing in it is a statistics table.
``failed``
    not read at all (the batch sets it; never returned here).

``identities`` is ``hold`` (tables with numbers, every identity checked, no ``error`` finding),
``broken`` (an ``error`` finding of spec §6) or ``not_checked`` (no error, but
nothing to check, or an identity left unchecked: an unread cell, an absent table).
"""

from __future__ import annotations

from .report import Report
from .templates import TABLES, VERSIONS, get_template

#: Every status a batch manifest can hold, in the order a summary lists them.
STATUSES = ("ok", "partial", "empty", "needs_ocr", "pre2019", "not_a_report", "failed")

#: Values of the manifest's ``identities`` column.
IDENTITIES = ("hold", "broken", "not_checked")

#: Cell flags meaning "the report printed something here that was not read"
#: (spec §10.3): ``unreadable`` (text that is no number, or a part of the
#: source that could not be read), ``ambiguous`` (several readings of glued
#: digits fit), ``ocr_uncertain`` (an OCR reading below confidence).  Any
#: other flag (``blank``, ``dash``, ``none_text``, ``row_missing``,
#: ``split_recovered``…) is a cell read.
UNREAD_FLAGS: frozenset[str] = frozenset({"unreadable", "ambiguous", "ocr_uncertain"})


def _absent_cells(report: Report) -> int:
    """Cells of the tables the report's format has but the report lacks."""
    present = set(report.table_versions)
    if not present:
        return 0
    if report.template in VERSIONS:
        version = report.template
    else:  # MIXED or UNKNOWN: the version most of the present tables use
        versions = sorted(report.table_versions.values())
        version = max(versions, key=versions.count)
    return sum(len(get_template(version).tables[t].cell_keys()) for t in TABLES if t not in present)


def report_status(report: Report) -> tuple[str, str, int]:
    """The status of ``report`` (module docstring).

    :returns: ``(status, identities, n_unread)``: ``status`` one of
        :data:`STATUSES` but ``failed``; ``identities`` one of
        :data:`IDENTITIES`; ``n_unread`` the cells flagged with one of
        :data:`UNREAD_FLAGS` plus the cells of absent tables (0 unless
        ``partial``).
    """
    if not report.has_tables():
        status = ("needs_ocr" if report.needs_ocr else "pre2019" if report.template == "PRE2019"
                  else "not_a_report")
        return status, "not_checked", 0
    if not any(c.value is not None for c in report.cells.values()):
        return "empty", "not_checked", 0
    n_unread = sum(1 for c in report.cells.values() if c.flag in UNREAD_FLAGS) + _absent_cells(report)
    # `hold` claims every identity was checked: one left unchecked (an unread cell, an absent table) says so
    unchecked = n_unread > 0 or any(f.rule == "not_checked" for f in report.findings)
    identities = "broken" if report.errors else "not_checked" if unchecked else "hold"
    return ("partial" if n_unread else "ok"), identities, n_unread


def status_line(report: Report) -> str:
    """``status ok, identities hold`` (with ``, n_unread N`` when partial):
    what ``gipextract extract`` prints on stderr."""
    status, identities, n_unread = report_status(report)
    unread = f" ({n_unread} cells not read)" if n_unread else ""
    return f"status {status}{unread}, identities {identities}"
