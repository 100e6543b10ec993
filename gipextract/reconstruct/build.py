"""Reconstruct, step 4: the cells of one table from its matched segments
(template-spec §7.2 values, §7.3 structural deviations, §7.4 split digits),
with the reading findings and what was matched (:class:`TableReconstruction`).
See :mod:`gipextract.reconstruct` for the whole stage.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from ..document import Cell
from ..identities import Identity, identities, line_label
from ..normalize import clean_text, label_core
from ..report import CellValue, ExtraRow, Finding, Report
from ..split import Column, RowRun, is_run, recover
from ..templates import (
    TABLE_SHORT,
    RowSpec,
    TableTemplate,
    sections,
)
from ..values import MONEY, parse_value
from .match import _out_of_order, align
from .segment import Segment

#: 表二 主动公开政府信息情况 …: each table by its short name and its section's official heading.
TABLE_NAMES = {t: f"{TABLE_SHORT[t]} {s.official.split('、', 1)[1]}" for s in sections() if (t := s.table)}


# -- building cells ---------------------------------------------------------

def _header_unit(tt: TableTemplate, segs: list[Segment], col) -> str | None:
    core = label_core(col.label)
    for s in segs:
        for text in s.labels:
            if label_core(text) == core:
                t = clean_text(text)
                if "万元" in t:
                    return "万元"
                if "元" in t:
                    return "元"
    return col.unit


def _fill_row(tt: TableTemplate, row: RowSpec, seg: Segment, units: dict[str, str | None],
              cells: dict[str, CellValue], findings: list[Finding], values: list[Cell] | None = None
              ) -> RowRun | None:
    """Fill ``cells`` with ``row``'s values from ``seg`` (or ``values``); return
    a :class:`~gipextract.split.RowRun` instead when the values are a run of
    cells printed together, for the splitter."""
    name = tt.name
    vals = seg.values if values is None else values
    n = len(row.columns)
    if len(vals) > n and not any(c.text for c in vals[n:]):
        vals = vals[:n]
    keys = tt.row_cell_keys(row)
    if len(vals) < n and any(c.text for c in vals) and all(is_run(c.text) for c in vals if c.text) \
            and may_split(vals):
        # cells run together (a crawler dump, split digits): the splitter decides
        return RowRun([Column(k, c.kind) for k, c in zip(keys, row.columns)],
                      " ".join(c.text for c in vals if c.text), seg.where)
    if len(vals) != n and any(c.text for c in vals):
        _unreadable_rows(tt, [row], vals, seg.where, units, cells, findings)
        return None
    if len(vals) < n:
        vals = list(vals) + [Cell("")] * (n - len(vals))
    rkey, rlabel = row.key, row.label
    for key, col, cell in zip(keys, row.columns, vals):
        pv = parse_value(cell.text, col.kind)
        unit = pv.unit or units[col.key]
        if pv.flag == "unreadable":
            shown = cell.text if len(cell.text) <= 60 else f"{cell.text[:40]}…({len(cell.text)} characters)"
            why = pv.note or f"which is not a {'amount' if col.kind == MONEY else 'count'}"
            findings.append(Finding(
                "unreadable", "warning", name, [key], actual=cell.text,
                message=f"{TABLE_NAMES[name]}: cell {row.label} / {col.label} reads {shown!r}, "
                        f"{why} ({cell.where or seg.where})."))
        cells[key] = CellValue(key, name, rkey, col.key, rlabel, col.path[-1], pv.value, unit, cell.text,
                               pv.flag or ("ocr" if cell.confidence is not None else None), cell.where or seg.where,
                               cell.confidence, cell.alternatives)
    return None


def may_split(vals: list[Cell]) -> bool:
    """True if fewer values than a row's cells may be cells printed together,
    for the splitter (template-spec §7.4); never for values read by OCR, which
    reads each cell of a ruled grid apart: a cell it lost or merged into a
    label is not digits run together, and cutting its neighbour's number
    (``11`` → 1, 1) would invent two numbers the page does not show."""
    return all(c.confidence is None for c in vals)


def _null_rows(tt: TableTemplate, rows: list[RowSpec], flag: str, units: dict[str, str | None],
               cells: dict[str, CellValue], where: str | None = None) -> None:
    """Every cell of ``rows`` null with ``flag`` (why it has no value)."""
    for r in rows:
        for key, c in zip(tt.row_cell_keys(r), r.columns):
            cells[key] = CellValue(key, tt.name, r.key, c.key, r.label, c.label, None, units[c.key], None, flag, where)


def _unreadable_rows(tt: TableTemplate, rows: list[RowSpec], vals: list[Cell], where: str | None,
                     units: dict[str, str | None], cells: dict[str, CellValue], findings: list[Finding]) -> None:
    """Rows whose values do not fit their cells (too many, too few and not to
    be split): a ``value_count`` warning, and every cell null, flag ``unreadable``."""
    name = tt.name
    keys = [k for row in rows for k in tt.row_cell_keys(row)]
    n = len(keys)
    label = " + ".join(row.label for row in rows)
    findings.append(Finding(
        "value_count", "warning", name, keys, expected=n, actual=len(vals),
        message=f"{TABLE_NAMES[name]}: row {label} has {len(vals)} values where the format has {n} "
                f"({' '.join(c.text or '∅' for c in vals)}, {where}); its cells are left null."))
    _null_rows(tt, rows, "unreadable", units, cells, where)


def _joined_segment(tt: TableTemplate, segs: list[Segment]) -> int | None:
    if not tt.joined_row:
        return None
    width = sum(len(tt.row(k).columns) for k in tt.joined_row)
    for j, s in enumerate(segs):
        vals = s.values
        if len(vals) >= width and s.filled and not any(c.text for c in vals[width:]):
            return j
    for j, s in enumerate(segs):
        texts = [c.text for c in s.values if c.text]
        if texts and all(is_run(t) for t in texts) and sum(ch.isdigit() for t in texts for ch in t) >= width:
            return j
    return None


def _blank_joined_row(tt: TableTemplate, segs: list[Segment], units: dict[str, str | None],
                      cells: dict[str, CellValue], findings: list[Finding], filled_rows: set[str]) -> None:
    """表四's header printed over a data row whose cells are all empty: the
    table is there and unfilled, so its cells are null with flag ``blank``
    (0 in the checks, spec §7.2), not an absent table."""
    width = sum(len(tt.row(k).columns) for k in tt.joined_row)
    seg = next((s for s in segs if width in s.blank_rows), None)
    if seg is None:
        return
    for key in tt.joined_row:
        row = tt.row(key)
        _fill_row(tt, row, seg, units, cells, findings, [Cell("", where=seg.where)] * len(row.columns))
        filled_rows.add(key)


def _split_runs(tt: TableTemplate, pending: list[RowRun], units: dict[str, str | None],
                cells: dict[str, CellValue], findings: list[Finding]) -> None:
    """Cut the value runs of ``pending`` rows into cells (:mod:`gipextract.split`)."""
    name = tt.name
    fixed = {k: c.value for k, c in cells.items() if c.value is not None or c.flag in ("dash", "none_text")}
    out, ambiguous = recover(tt, pending, fixed)
    labels = tt.cell_specs()
    how: dict[str | None, int] = {}
    for run in pending:
        keys = [c.key for c in run.columns]
        if not all(k in out for k in keys):
            rows = sorted({labels[k][0].label for k in keys}, key=[r.label for r in tt.rows].index)
            findings.append(Finding(
                "value_count", "warning", name, keys, expected=len(keys), actual=len(run.run.split()),
                message=f"{TABLE_NAMES[name]}: the run {run.run!r} of row {', '.join(rows)} ({run.where}) cannot be "
                        f"cut into its {len(keys)} cells; they are left null."))
        for k in keys:
            r, c = labels[k]
            rec = out.get(k)
            if rec is None:
                cells[k] = CellValue(k, name, r.key, c.key, r.label, c.label, None, units[c.key], run.run,
                                     "unreadable", run.where)
                continue
            how[rec.how] = how.get(rec.how, 0) + 1
            unit = parse_value(rec.raw, c.kind).unit if rec.flag == "split_recovered" else rec.unit
            cells[k] = CellValue(k, name, r.key, c.key, r.label, c.label, rec.value, unit or units[c.key], rec.raw,
                                 rec.flag, run.where)
    for run, keys, options in ambiguous:
        r = labels[keys[0]][0]
        shown = "; ".join(" ".join("∅" if v is None else str(v) for v in o) for o in options)
        row_keys = [c.key for c in run.columns]
        findings.append(Finding(
            "ambiguous", "warning", name, keys, actual=[dict(zip(row_keys, o)) for o in options],
            message=f"{TABLE_NAMES[name]}: row {r.label} was printed as {run.run!r} ({run.where}); more than one "
                    f"way to cut it satisfies every identity ({shown}), so {len(keys)} of its cells are left null."))
    used: dict[tuple[str, str], Identity] = {}
    decided: list[str] = []
    for k, rec in out.items():
        if rec.used and rec.flag != "ambiguous":
            decided.append(k)
    decided_set = set(decided)
    checked: set[int] = set()  # the equations already looked at (by id: each one is used by many cells)
    for k in decided:
        for eq in out[k].used:
            if id(eq) not in checked:
                checked.add(id(eq))
                if eq.identity is not None and not decided_set.isdisjoint(eq.keys):
                    used.setdefault((eq.identity.rule, eq.identity.line), eq.identity)
    if used:
        names = [f"{i.rule} of {line_label(tt.version, i)}" for i in used.values()]
        findings.append(Finding(
            "used_for_split", "info", name, decided, actual=names,
            message=f"{TABLE_NAMES[name]}: {len(decided)} cells printed without separators were cut so that "
                    f"{'this identity holds' if len(names) == 1 else 'these identities hold'}: {', '.join(names)}. "
                    f"They hold by construction, so they are no evidence that these cells were read right."))
    n = sum(v for k, v in how.items() if k)
    if n:
        findings.append(Finding(
            "split_recovered", "info", name, [], actual={k: v for k, v in how.items() if k},
            message=f"{TABLE_NAMES[name]}: {n} cells were printed without separators and recovered by splitting: "
                    f"{how.get('digits', 0)} by the digit count alone, {how.get('row', 0)} by the row's identities, "
                    f"{how.get('table', 0)} by identities across rows."))


def _cut_off_tail(tt: TableTemplate, filled_rows: set[str], segs: list[Segment]) -> list[RowSpec]:
    """The rows of a table cut off at its end (spec §7.3: a truncated text, a
    lost last page, a last row the reader did not join across a page break):
    the template rows after the last row read, when they include a total row
    (the one-cell side of a column identity, 表三's （七）总计), which a report
    never leaves out as it may an empty leaf row, or when the table's last
    printed row is a header without numbers that names a column of one of
    them (表二's ``信息内容 | 本年收费金额`` with its row lost).  Empty when
    the table is not cut off."""
    tail: list[RowSpec] = []
    for r in reversed(tt.rows):
        if r.key in filled_rows:
            break
        tail.append(r)
    prefix = f"{tt.name}."
    totals = {k[len(prefix):].rsplit(".", 1)[0] for i in identities(tt.version, tt.name)
              if i.each == "column" and len(i.right) == 1 for k in i.right}
    if len(tail) == len(tt.rows):
        return []
    if any(r.key in totals for r in tail):
        return tail[::-1]
    last = segs[-1] if segs else None
    if last is not None and not last.filled and last.labels:
        heads = {label_core(c.label) for r in tail for c in r.columns}
        if any(label_core(t) in heads for t in last.labels):
            return tail[::-1]
    return []


def _cut_label_row(tt: TableTemplate, rest: list[Segment], matched: dict[int, int], missing: list[RowSpec],
                   extra: list[Segment]) -> tuple[RowSpec, int] | None:
    """The one case where a printed row that matched no label is proved to be
    a template row (spec §7.3, a label cut by a wrap, a page break or a
    glued header word): exactly one template row not found, exactly one
    printed row with numbers left over, that printed row standing between the
    printed rows of the template rows around the missing one, and its label
    (one label cell, or its label cells joined, folded to
    :func:`~gipextract.normalize.label_core`) contained in the row's label or
    an alias, or containing it, by at least two characters.  Returns the row
    and the index of the printed row in ``rest``, else ``None`` (then the
    missing row is unknown, never guessed)."""
    if len(missing) != 1 or len(extra) != 1:
        return None
    row, seg = missing[0], extra[0]
    i = tt.rows.index(row)
    k = next(j for j, s in enumerate(rest) if s is seg)
    before = [j for r, j in matched.items() if r < i]
    after = [j for r, j in matched.items() if r > i]
    if (before and max(before) >= k) or (after and min(after) <= k):
        return None
    printed = {label_core(t) for t in (*seg.labels, "".join(seg.labels))}
    cores = {label_core(t) for t in (row.label, *row.aliases)}
    for p in printed:
        for c in cores:
            if min(len(p), len(c)) >= 2 and (p in c or c in p):
                return row, k
    return None


@dataclass(slots=True)
class RowMatch:
    """How one template row was read.

    :ivar row: the template row.
    :ivar how: ``label`` (matched in order by its label), ``out_of_order``
        (an exact label printed out of the template's order), ``joined``
        (taken from 表四's unlabelled row of numbers), ``blank_row`` (an
        unfilled printed row under the header), ``cut_label`` (the one
        printed row left over, whose cut label is part of this row's, spec
        §7.3), ``missing`` (no printed row).
    :ivar segment: the printed row it was read from, or ``None``.
    :ivar values: the value cells taken for it, as printed.
    :ivar run: the value run sent to the splitter when its cells were printed
        run together (:mod:`gipextract.split`), else ``None``.
    """

    row: RowSpec
    how: str
    segment: Segment | None = None
    values: list[Cell] = field(default_factory=list)
    run: str | None = None


@dataclass(slots=True)
class TableReconstruction:
    """What reconstruct did with one table (template-spec §7.3, §7.4): its
    ``version``, the ``segments`` read from its blocks, one :class:`RowMatch`
    per template row in template order, and the printed rows kept as extra
    rows."""

    table: str
    version: str
    segments: list[Segment]
    rows: list[RowMatch]
    extra: list[Segment] = field(default_factory=list)

    @property
    def matched(self) -> int:
        """The number of template rows read from a printed row."""
        return sum(m.segment is not None for m in self.rows)


def build_table(name: str, tt: TableTemplate, segs: list[Segment], report: Report, incomplete: bool = False) -> bool:
    """Fill ``report.cells`` with table ``name`` keyed by ``tt``; add reading
    findings and extra rows.  Returns False (and adds nothing) if no row of
    the template could be matched.  :func:`rebuild_table` also returns what
    was matched."""
    return rebuild_table(name, tt, segs, report, incomplete) is not None


def rebuild_table(name: str, tt: TableTemplate, segs: list[Segment], report: Report, incomplete: bool = False,
                  opens_text: bool = False) -> TableReconstruction | None:
    """:func:`build_table`, returning its :class:`TableReconstruction` (or
    ``None`` when no row of the template could be matched).

    :param opens_text: the table's rows are the first words of the document
        (no title, no section heading before them): a text that starts inside
        the table, whose rows before the first one read are unknown, not absent."""
    cells: dict[str, CellValue] = {}
    findings: list[Finding] = []
    units = {c.key: _header_unit(tt, segs, c) if c.kind == MONEY else c.unit for c in tt.columns}
    used: set[int] = set()
    filled_rows: set[str] = set()
    pending: list[RowRun] = []
    trace: dict[str, RowMatch] = {}
    j = _joined_segment(tt, segs)
    if j is not None:
        vals, pos = segs[j].values, 0
        width = sum(len(tt.row(k).columns) for k in tt.joined_row)
        if len(vals) < width and not may_split(vals):  # OCR lost a cell: which one is not known
            _unreadable_rows(tt, [tt.row(k) for k in tt.joined_row], vals, segs[j].where, units, cells, findings)
            filled_rows.update(tt.joined_row)
            for key in tt.joined_row:
                trace[key] = RowMatch(tt.row(key), "joined", segs[j], list(vals))
        elif len(vals) < width:  # fewer cells than the row has: they ran together, split them as one run
            keys = [(k, c) for r in tt.joined_row for k, c in zip(tt.row_cell_keys(tt.row(r)), tt.row(r).columns)]
            text = " ".join(c.text for c in vals if c.text)
            pending.append(RowRun([Column(k, c.kind) for k, c in keys], text, segs[j].where))
            filled_rows.update(tt.joined_row)
            for key in tt.joined_row:
                trace[key] = RowMatch(tt.row(key), "joined", segs[j], list(vals), text)
        else:
            for key in tt.joined_row:
                row = tt.row(key)
                taken = vals[pos:pos + len(row.columns)]
                _fill_row(tt, row, segs[j], units, cells, findings, taken)
                trace[key] = RowMatch(row, "joined", segs[j], list(taken))
                pos += len(row.columns)
                filled_rows.add(key)
        used.add(j)
    rest = [s for k, s in enumerate(segs) if k not in used]
    matched = align(tt, rest)
    by_label = set(matched)
    matched.update(_out_of_order(tt, rest, matched))
    for i, k in matched.items():
        row = tt.rows[i]
        if row.key not in filled_rows:
            run = _fill_row(tt, row, rest[k], units, cells, findings)
            if run is not None:
                pending.append(run)
            trace[row.key] = RowMatch(row, "label" if i in by_label else "out_of_order", rest[k],
                                      list(rest[k].values), run.run if run is not None else None)
            filled_rows.add(row.key)
    if not filled_rows and tt.joined_row:
        _blank_joined_row(tt, segs, units, cells, findings, filled_rows)
        for key in filled_rows:
            trace[key] = RowMatch(tt.row(key), "blank_row")
    if not filled_rows:
        return None
    if pending:
        _split_runs(tt, pending, units, cells, findings)
    used_rest = set(matched.values())
    extra: list[Segment] = []
    for k, s in enumerate(rest):
        if k not in used_rest and s.labels and any(c.text and parse_value(c.text).value is not None for c in s.values):
            extra.append(s)
            report.extra_rows.append(ExtraRow(name, "".join(s.labels), [c.text for c in s.values], s.where))
            findings.append(Finding("extra_row", "info", name, [], actual=[c.text for c in s.values],
                                    message=f"{TABLE_NAMES[name]}: row {''.join(s.labels)!r} ({s.where}) is not in "
                                            f"the {tt.version} format; kept as an extra row, not counted."))
    missing = [r for r in tt.rows if r.key not in filled_rows]
    cut = _cut_label_row(tt, rest, matched, missing, extra)
    if cut is not None:
        row, k = cut
        seg = rest[k]
        run = _fill_row(tt, row, seg, units, cells, findings)
        if run is not None:
            _split_runs(tt, [run], units, cells, findings)
        trace[row.key] = RowMatch(row, "cut_label", seg, list(seg.values), run.run if run is not None else None)
        filled_rows.add(row.key)
        missing.remove(row)
        extra.remove(seg)
        printed = "".join(seg.labels)
        report.extra_rows[:] = [e for e in report.extra_rows if not (e.table == name and e.where == seg.where
                                                                     and e.label == printed)]
        findings[:] = [f for f in findings if not (f.rule == "extra_row" and f.table == name
                                                   and f"({seg.where})" in f.message and repr(printed) in f.message)]
        findings.append(Finding(
            "cut_label", "info", name, tt.row_cell_keys(row), actual=printed,
            message=f"{TABLE_NAMES[name]}: the printed row {printed!r} ({seg.where}) is read as row {row.label}: "
                    f"its label is part of that row's label (cut, wrapped or glued), it stands where that row "
                    f"belongs, and it is the only unmatched row there and that row the only one not found "
                    f"(spec §7.3)."))
    # Part of the source unread (a PDF page without text), or printed rows with numbers that match no
    # template row (a label cut by a wrap, a page break or a glued header word): a row not found may be
    # one of them, so its cells are unknown (unreadable), not absent (spec §7.3).
    # A table cut off at its end (a truncated text, a lost last page): unknown, not absent.
    tail = _cut_off_tail(tt, filled_rows, segs) if not incomplete and not extra else []
    # A text that starts inside the table (a page cut out of a report): the rows before the first one read
    # are as unknown as those after the last one of a table cut off at its end.
    head = list(itertools.takewhile(lambda r: r.key not in filled_rows, tt.rows)) \
        if opens_text and not incomplete and filled_rows else []
    for lost, where in ((tail, f"the printed table stops after row {tt.rows[len(tt.rows) - len(tail) - 1].label}, "
                              f"before the format's last rows" if tail else ""),
                       (head, f"the text starts inside the table, at row {tt.rows[len(head)].label}, after the "
                              f"format's first rows" if head else "")):
        if not lost:
            continue
        findings.insert(0, Finding(
            "table_cut_off", "warning", name, [f"{name}.{r.key}.{c.key}" for r in lost for c in r.columns],
            message=f"{TABLE_NAMES[name]}: {where} ({', '.join(r.label for r in lost)}): it may be cut off "
                    f"({'a truncated text' if lost is tail else 'a part of a report'}, a lost page), so their cells "
                    f"are unknown (unreadable), not absent (spec §7.3)."))
        _null_rows(tt, lost, "unreadable", units, cells)
        missing = [r for r in missing if r not in lost]
    unknown = incomplete or bool(extra)
    _null_rows(tt, missing, "unreadable" if unknown else "row_missing", units, cells)
    if missing:
        labels = ", ".join(r.label for r in missing)
        printed_rows = ", ".join(f"{''.join(s.labels)!r} ({s.where})" for s in extra)
        if incomplete:
            message = (f"{TABLE_NAMES[name]}: no row {labels} was found, but part of the document could not be "
                       f"read (see the reader's notes), so their cells are unknown (unreadable), not absent.")
        elif extra:
            message = (f"{TABLE_NAMES[name]}: no row {labels} was found, but the table prints "
                       f"{'a row' if len(extra) == 1 else 'rows'} with numbers that match no row of the format: "
                       f"{printed_rows}. A label cut by a wrap or a page break may hide "
                       f"{'it' if len(missing) == 1 else 'them'} there, so their cells are unknown (unreadable), "
                       f"not absent, and the identities that use them are not checked.")
        else:
            message = f"{TABLE_NAMES[name]}: the report has no row {labels}; its cells are null (row_missing)."
        findings.insert(0, Finding(
            "row_missing", "warning" if unknown else "info", name,
            [f"{name}.{r.key}.{c.key}" for r in missing for c in r.columns], message=message))
    for key in tt.cell_keys():
        report.cells[key] = cells[key]
    report.findings.extend(findings)
    return TableReconstruction(name, tt.version, segs, [trace.get(r.key) or RowMatch(r, "missing") for r in tt.rows],
                               extra)
