"""The OCR check: cells read by OCR that are not sure become null (design.md
"The model"; template-spec §6 for the identities, §10.3 for flags).

Runs after :func:`gipextract.reconstruct.reconstruct` and before
:func:`gipextract.validate.validate`, on the cells the OCR reader read (those
with a ``confidence``).  Readers do not know the template, so the identities
are used here, through :func:`gipextract.validate.evaluate`.  A cell is
*uncertain* when

1. its recognition score is under :data:`MIN_CONFIDENCE`, or under
   :data:`DOUBT_CONFIDENCE` while a re-read of it (another scale, another
   binarisation) gave a different number; or ink was found where the
   recogniser read nothing (score ``0.0``); or
2. it is in an identity that does not hold, and one of its alternative
   readings would make that identity hold.

An uncertain cell's value becomes ``None`` with flag ``ocr_uncertain``; a
finding (rule ``ocr_uncertain``, severity ``warning``) gives its readings
(``actual``: the reading first, then the alternatives).  The alternative is
never taken as the value; and since a null ``ocr_uncertain`` cell is unknown
to the checks, an identity that pointed at it does not count as evidence for
it afterwards (its equations are reported as not checked).
"""

from __future__ import annotations

from .report import CellValue, Finding, Report
from .templates import TABLE_SHORT, get_template
from .validate import ZERO_FLAGS, evaluate
from .values import parse_value

#: Below this recognition score an OCR cell is always uncertain.
MIN_CONFIDENCE = 0.5
#: Below this score an OCR cell whose re-reads disagree on its number is uncertain.
DOUBT_CONFIDENCE = 0.8
#: The flag of an OCR cell made null by this check.
FLAG = "ocr_uncertain"


def _number(text: str, kind: str) -> int | float | None:
    return parse_value(text, kind).value


def _kind(cell: CellValue, version: str | None) -> str:
    """The value kind of ``cell``'s column (``count``, ``signed``, ``money``) from the template."""
    try:
        row = get_template(version or "").tables[cell.table].row(cell.row_key)
        return next(c.kind for c in row.columns if c.key == cell.col_key)
    except Exception:  # no such version, row or column: read it as a count
        return "count"


def _values(report: Report, table: str) -> dict[str, int | float | None]:
    """The table's cells as :func:`evaluate` takes them: numbers, ``None``
    for a cell that counts 0 (blank, dash), unknown cells left out."""
    out: dict[str, int | float | None] = {}
    for k, c in report.cells.items():
        if c.table != table:
            continue
        if c.value is not None:
            out[k] = c.value
        elif c.flag in ZERO_FLAGS or c.flag == "ocr":
            out[k] = None
    return out


def _other_numbers(cell: CellValue, version: str | None) -> list[int | float]:
    kind = _kind(cell, version)
    mine = cell.value
    out: list[int | float] = []
    for alt in cell.alternatives:
        v = _number(alt, kind)
        if v is not None and v != mine and v not in out:
            out.append(v)
    return out


def _low(cell: CellValue, version: str | None) -> bool:
    if cell.confidence is None:
        return False
    if cell.confidence == 0.0:
        return True  # ink the recogniser read as nothing
    if cell.raw and cell.confidence < MIN_CONFIDENCE:
        return True
    return cell.confidence < DOUBT_CONFIDENCE and bool(_other_numbers(cell, version))


def _fixes(version: str, table: str, values: dict, cell: CellValue, broken: set[str]) -> bool:
    """True if one of ``cell``'s alternative numbers makes an equation of
    ``broken`` (rule/line ids) hold."""
    for alt in _other_numbers(cell, version):
        trial = dict(values)
        trial[cell.key] = alt
        still = {_eq_id(r.identity) for r in evaluate(version, table, trial).failed}
        if broken - still:
            return True
    return False


def _eq_id(identity) -> str:
    return f"{identity.rule}:{identity.line}"


def check_ocr(report: Report) -> Report:
    """Null the uncertain OCR cells of ``report`` in place (module docstring)
    and add an ``ocr_uncertain`` finding for each; return ``report``.  A report
    with no OCR cell is returned unchanged.  Never raises for odd values."""
    ocr = [c for c in report.cells.values() if c.confidence is not None]
    if not ocr:
        return report
    uncertain: dict[str, str] = {}
    for c in ocr:
        if _low(c, report.table_versions.get(c.table)):
            uncertain[c.key] = f"read with confidence {c.confidence:.2f}"
    for table, version in report.table_versions.items():
        values = _values(report, table)
        for k in uncertain:
            values.pop(k, None)
        try:
            failed = evaluate(version, table, values).failed
        except Exception:  # an unknown version or table: nothing to check against
            continue
        for r in failed:
            ident = r.identity
            for key in (*ident.left, *ident.right):
                cell = report.cells.get(key)
                if cell is None or cell.confidence is None or key in uncertain or cell.value is None:
                    continue
                if _fixes(version, table, values, cell, {_eq_id(ident)}):
                    uncertain[key] = f"breaks {ident.rule}, which another reading of it would satisfy"
    for key, why in uncertain.items():
        c = report.cells[key]
        readings = [c.raw or "", *c.alternatives]
        shown = ", ".join(repr(x) for x in readings if x) or "nothing"
        report.findings.append(Finding(
            FLAG, "warning", c.table, [key], actual=readings,
            message=f"{TABLE_SHORT.get(c.table, c.table)}: cell {c.row_label} / {c.col_label} was read by OCR as "
                    f"{shown} ({why}, {c.where or 'place unknown'}); it is left null."))
        c.value = None
        c.flag = FLAG
    return report
