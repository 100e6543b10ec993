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
   A template row with no segment is ``row_missing``; a segment with numbers
   and no template row is an extra row, kept but never counted.
4. **Values.**  A matched segment must carry exactly as many values as the
   row has columns (trailing empty cells aside); they are taken in order and
   parsed by :func:`gipextract.values.parse_value`.  Any other count leaves the
   row's cells null (``unreadable``) with a finding: a number is never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from .chain import heaviest_chain
from .document import Cell, TableBlock
from .locate import Located
from .normalize import clean_text, label_core, label_key, numbering, similarity
from .report import CellValue, ExtraRow, Finding, Report
from .split import Column, RowRun, is_run, recover
from .templates import (
    TABLE_SHORT,
    TABLES,
    VERSIONS,
    RowSpec,
    TableTemplate,
    get_template,
    section_tables,
    sections,
    settings,
)
from .values import MONEY, looks_like_value, parse_value

#: 表二 主动公开政府信息情况 …: each table by its short name and its section's official heading.
TABLE_NAMES = {t: f"{TABLE_SHORT[t]} {s.official.split('、', 1)[1]}" for s in sections() if (t := s.table)}
_ALL_BLANK_WEIGHT = 0.9


@dataclass(slots=True)
class Segment:
    """A printed row reduced to what matching needs.

    :ivar labels: texts of its label cells, left to right.
    :ivar values: its value cells (numbers, dashes, blanks), left to right.
    :ivar where: place of its first cell.
    :ivar prefix: labels of a label-only segment directly before it (a label
        wrapped onto the previous printed row).
    """

    labels: list[str]
    values: list[Cell]
    where: str | None
    prefix: str = ""
    blank_rows: list[int] = field(default_factory=list)  # widths of wholly empty rows after it

    @property
    def filled(self) -> bool:
        """True if at least one value cell is non-empty."""
        return any(c.text for c in self.values)


def _stub_width(block: TableBlock, starts: list[list[int]]) -> int:
    """The number of grid columns left of the block's leftmost column that
    holds a printed value (number, dash, 无): the label columns."""
    return min((c for row, cols in zip(block.rows, starts) for cell, c in zip(row, cols)
                if cell.text and looks_like_value(cell.text)), default=0)


_CJK = re.compile(r"[\u3400-\u9fff]")


@lru_cache(maxsize=4096)
def _annotated_number(text: str) -> bool:
    """A cell after a row's label that is a number with words around it
    (``约678``, ``678（估）``): digits, no label numbering (``1.``, ``（一）``) and
    at most two CJK characters.  It is a value the report annotated (then read
    as ``unreadable`` with a finding), never part of the label."""
    return any(ch.isdigit() for ch in text) and numbering(text) is None and len(_CJK.findall(text)) <= 2


def segment_rows(blocks: list[TableBlock]) -> list[Segment]:
    """The segments of ``blocks`` in order (see the module docstring, step 1).
    An empty cell in a label column of the grid (left of every printed value,
    e.g. a label cell that does not span the leaf-label column) is a merged
    or empty label slot, not a blank value."""
    segs: list[Segment] = []
    for block in blocks:
        starts: list[list[int]] | None = None
        stub = 0
        for r, row in enumerate(block.rows):
            texts = [cell.text for cell in row]
            first = 0
            while first < len(texts) and not texts[first]:
                first += 1
            if "" in texts[first:]:  # an empty cell after the first text: maybe in a label column
                if starts is None:
                    starts = block.columns()
                    stub = _stub_width(block, starts)
                if stub:
                    row = [cell for cell, c in zip(row, starts[r]) if cell.text or c >= stub]
            i = 0
            while i < len(row) and not row[i].text:
                i += 1
            labels = []
            while i < len(row) and not looks_like_value(row[i].text) and not (labels and _annotated_number(row[i].text)):
                labels.append(row[i].text)
                i += 1
            values = row[i:]
            if labels:
                prev = segs[-1] if segs else None
                prefix = "".join(prev.labels) if prev and not prev.values else ""
                segs.append(Segment(labels, list(values), row[0].where, prefix))
            elif any(c.text for c in values):
                if segs:
                    segs[-1].values.extend(values)
                else:
                    segs.append(Segment([], list(values), values[0].where))
            elif segs and len(row) > 1:  # a printed row with every cell empty (表四 left unfilled)
                segs[-1].blank_rows.append(len(row))
    return segs


# -- label matching ---------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Target:
    row: int
    key: str
    core: str
    number: str | None


_TARGETS: dict[tuple[str, str], tuple] = {}


def _targets(tt: TableTemplate) -> tuple[dict[str, list[int]], dict[str, list[int]], tuple[_Target, ...]]:
    memo = (tt.version, tt.name)
    if memo not in _TARGETS:
        _TARGETS[memo] = _build_targets(tt)
    return _TARGETS[memo]


def _build_targets(tt: TableTemplate) -> tuple[dict[str, list[int]], dict[str, list[int]], tuple[_Target, ...]]:
    by_key: dict[str, list[int]] = {}
    by_core: dict[str, list[int]] = {}
    targets = []
    for i, r in enumerate(tt.rows):
        for text in (r.label, *r.aliases):
            t = _Target(i, label_key(text), label_core(text), numbering(text))
            targets.append(t)
            by_key.setdefault(t.key, []).append(i)
            if len(t.core) >= 2:
                by_core.setdefault(t.core, []).append(i)
    return by_key, by_core, tuple(targets)


def _candidates(seg: Segment) -> list[str]:
    texts = [seg.labels[-1]]
    if len(seg.labels) > 1:
        texts.append("".join(seg.labels))
    if seg.prefix:
        texts.append(seg.prefix + "".join(seg.labels))
    return texts


def match_scores(tt: TableTemplate, seg: Segment) -> dict[int, float]:
    """Similarity of ``seg``'s label to each template row it could be, keeping
    only scores at or above the fuzzy threshold: 1.0 exact (or an alias),
    0.95 equal without numbering and notes, else the LCS ratio of the cores
    (halved when both labels are numbered and the numbers differ)."""
    if not seg.labels:
        return {}
    by_key, by_core, targets = _targets(tt)
    scores: dict[int, float] = {}
    for text in _candidates(seg):
        for i in by_key.get(label_key(text), ()):
            scores[i] = 1.0
        for i in by_core.get(label_core(text), ()):
            scores.setdefault(i, 0.95)
    if scores:
        return scores
    threshold = settings().get("fuzzy_threshold", 0.75)
    for text in _candidates(seg):
        core, num = label_core(text), numbering(text)
        if len(core) < 2:
            continue
        for t in targets:
            if not t.core or 2 * min(len(core), len(t.core)) < threshold * (len(core) + len(t.core)):
                continue
            s = similarity(core, t.core)
            if num and t.number and num != t.number:
                s *= 0.5
            if s >= threshold and s > scores.get(t.row, 0.0):
                scores[t.row] = s
    return scores


def align(tt: TableTemplate, segs: list[Segment]) -> dict[int, int]:
    """Template row index → segment index: the order-preserving matching of
    rows to labelled segments with values that maximises the summed
    similarity (:func:`gipextract.chain.heaviest_chain`).  A segment whose
    values are all empty weighs a little less, so a filled row wins a tie."""
    cands = []
    for j, seg in enumerate(segs):
        if seg.values and seg.labels:
            weight = 1.0 if seg.filled else _ALL_BLANK_WEIGHT
            cands += [(i, j, s * weight) for i, s in match_scores(tt, seg).items()]
    return {i: j for i, j, _ in heaviest_chain(cands)}


def _out_of_order(tt: TableTemplate, segs: list[Segment], matched: dict[int, int]) -> dict[int, int]:
    """Rows the report printed out of the template's order (a converter that
    moved a table's first rows to its end): an unmatched template row whose
    label, exactly or by an alias, is the label of one unmatched segment with
    values, and of no other row.  Order protects fuzzy matches; an exact,
    unique label needs no such protection."""
    by_key = _targets(tt)[0]
    taken = set(matched.values())
    found: dict[int, list[int]] = {}
    for j, seg in enumerate(segs):
        if j in taken or not seg.labels or not seg.filled:
            continue
        rows = {i for text in _candidates(seg) for i in by_key.get(label_key(text), ())}
        if len(rows) == 1 and (i := rows.pop()) not in matched:
            found.setdefault(i, []).append(j)
    return {i: js[0] for i, js in found.items() if len(js) == 1}


# -- version detection (spec §8) --------------------------------------------

def detect_version(name: str, segs: list[Segment]) -> str | None:
    """The version whose markers ``segs`` carry (spec §8 rules 1–2), or ``None``
    when there are none or both versions score the same."""
    # every label key once, and each row's labels joined, in one searchable string
    blob = "\x00".join(label_key(t) for s in segs for t in (*s.labels, "".join(s.labels)))
    leaves = {label_core(s.labels[-1]) for s in segs if s.labels and s.filled}
    votes = {}
    for v in VERSIONS:
        tt = get_template(v).tables[name]
        votes[v] = sum(label_key(m) in blob for m in tt.markers) + sum(label_core(m) in leaves for m in tt.leaf_markers)
    top = max(votes.values())
    winners = [v for v, n in votes.items() if n == top]
    return winners[0] if top and len(winners) == 1 else None


def version_for_year(year: int | None) -> str | None:
    """The format a report year was meant to use (spec §8 rule 3)."""
    if year is None:
        return None
    if year <= 2018:
        return "PRE2019"
    return "V2019" if year <= 2020 else "V2021"


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
    if len(vals) < n and any(c.text for c in vals) and all(is_run(c.text) for c in vals if c.text):
        # cells run together (a crawler dump, split digits): the splitter decides
        return RowRun([Column(k, c.kind) for k, c in zip(keys, row.columns)],
                      " ".join(c.text for c in vals if c.text), seg.where)
    if len(vals) != n and any(c.text for c in vals):
        findings.append(Finding(
            "value_count", "warning", name, keys, expected=n, actual=len(vals),
            message=f"{TABLE_NAMES[name]}: row {row.label} has {len(vals)} values where the format has {n} "
                    f"({' '.join(c.text or '∅' for c in vals)}, {seg.where}); its cells are left null."))
        for key, col in zip(keys, row.columns):
            cells[key] = CellValue(key, name, row.key, col.key, row.label, col.label, None, units[col.key],
                                   None, "unreadable", seg.where)
        return
    if len(vals) < n:
        vals = list(vals) + [Cell("")] * (n - len(vals))
    rkey, rlabel = row.key, row.label
    for key, col, cell in zip(keys, row.columns, vals):
        pv = parse_value(cell.text, col.kind)
        unit = pv.unit or units[col.key]
        if pv.flag == "unreadable":
            findings.append(Finding(
                "unreadable", "warning", name, [key], actual=cell.text,
                message=f"{TABLE_NAMES[name]}: cell {row.label} / {col.label} reads {cell.text!r}, "
                        f"which is not a {'amount' if col.kind == MONEY else 'count'} ({cell.where or seg.where})."))
        cells[key] = CellValue(key, name, rkey, col.key, rlabel, col.path[-1], pv.value, unit, cell.text,
                               pv.flag or ("ocr" if cell.confidence is not None else None), cell.where or seg.where,
                               cell.confidence, cell.alternatives)


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
    labels = {k: (r, c) for r in tt.rows for k, c in zip(tt.row_cell_keys(r), r.columns)}
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
    n = sum(v for k, v in how.items() if k)
    if n:
        findings.append(Finding(
            "split_recovered", "info", name, [], actual={k: v for k, v in how.items() if k},
            message=f"{TABLE_NAMES[name]}: {n} cells were printed without separators and recovered by splitting: "
                    f"{how.get('digits', 0)} by the digit count alone, {how.get('row', 0)} by the row's identities, "
                    f"{how.get('table', 0)} by identities across rows."))


def build_table(name: str, tt: TableTemplate, segs: list[Segment], report: Report, incomplete: bool = False) -> bool:
    """Fill ``report.cells`` with table ``name`` keyed by ``tt``; add reading
    findings and extra rows.  Returns False (and adds nothing) if no row of
    the template could be matched."""
    cells: dict[str, CellValue] = {}
    findings: list[Finding] = []
    units = {c.key: _header_unit(tt, segs, c) if c.kind == MONEY else c.unit for c in tt.columns}
    used: set[int] = set()
    filled_rows: set[str] = set()
    pending: list[RowRun] = []
    j = _joined_segment(tt, segs)
    if j is not None:
        vals, pos = segs[j].values, 0
        width = sum(len(tt.row(k).columns) for k in tt.joined_row)
        if len(vals) < width:  # fewer cells than the row has: they ran together, split them as one run
            keys = [(k, c) for r in tt.joined_row for k, c in zip(tt.row_cell_keys(tt.row(r)), tt.row(r).columns)]
            pending.append(RowRun([Column(k, c.kind) for k, c in keys],
                                  " ".join(c.text for c in vals if c.text), segs[j].where))
            filled_rows.update(tt.joined_row)
        else:
            for key in tt.joined_row:
                row = tt.row(key)
                _fill_row(tt, row, segs[j], units, cells, findings, vals[pos:pos + len(row.columns)])
                pos += len(row.columns)
                filled_rows.add(key)
        used.add(j)
    rest = [s for k, s in enumerate(segs) if k not in used]
    matched = align(tt, rest)
    matched.update(_out_of_order(tt, rest, matched))
    for i, k in matched.items():
        row = tt.rows[i]
        if row.key not in filled_rows:
            run = _fill_row(tt, row, rest[k], units, cells, findings)
            if run is not None:
                pending.append(run)
            filled_rows.add(row.key)
    if not filled_rows and tt.joined_row:
        _blank_joined_row(tt, segs, units, cells, findings, filled_rows)
    if not filled_rows:
        return False
    if pending:
        _split_runs(tt, pending, units, cells, findings)
    used_rest = set(matched.values())
    for k, s in enumerate(rest):
        if k not in used_rest and s.labels and any(c.text and parse_value(c.text).value is not None for c in s.values):
            report.extra_rows.append(ExtraRow(name, "".join(s.labels), [c.text for c in s.values], s.where))
            findings.append(Finding("extra_row", "info", name, [], actual=[c.text for c in s.values],
                                    message=f"{TABLE_NAMES[name]}: row {''.join(s.labels)!r} ({s.where}) is not in "
                                            f"the {tt.version} format; kept as an extra row, not counted."))
    missing = [r for r in tt.rows if r.key not in filled_rows]
    # Part of the source unread (a PDF page without text): a row not found may be printed there.
    flag = "unreadable" if incomplete else "row_missing"
    for r in missing:
        for c in r.columns:
            key = f"{name}.{r.key}.{c.key}"
            cells[key] = CellValue(key, name, r.key, c.key, r.label, c.label, None, units[c.key], None, flag)
    if missing:
        labels = ", ".join(r.label for r in missing)
        findings.insert(0, Finding(
            "row_missing", "warning" if incomplete else "info", name,
            [f"{name}.{r.key}.{c.key}" for r in missing for c in r.columns],
            message=(f"{TABLE_NAMES[name]}: no row {labels} was found, but part of the document could not be "
                     f"read (see the reader's notes), so their cells are unknown (unreadable), not absent."
                     if incomplete else
                     f"{TABLE_NAMES[name]}: the report has no row {labels}; its cells are null (row_missing).")))
    for key in tt.cell_keys():
        report.cells[key] = cells[key]
    report.findings.extend(findings)
    return True


def reconstruct(located: Located) -> Report:
    """Build the :class:`Report` of a located document (module docstring).
    Never raises for odd content: what cannot be read becomes null cells and
    findings.  The reader's notes (``Document.notes``: a page without a text
    layer, a skipped part) become ``reader_note`` findings and are cited by
    the ``table_absent`` findings."""
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

    if prior == "PRE2019" and not detected:
        report.template = "PRE2019"
        report.findings.append(Finding(
            "table_absent", "info", None,
            message=f"A {located.year} report: the standard statistics tables (表二/表三/表四) exist only from the "
                    f"2019 format on (spec §9); no table was extracted."))
        return report

    kinds = set(detected.values())
    fallback = kinds.pop() if len(kinds) == 1 else (prior if prior in VERSIONS else "V2021")
    for t in present:
        version = detected.get(t, fallback)
        if build_table(t, get_template(version).tables[t], segs[t], report, doc.incomplete):
            report.table_versions[t] = version
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
    return report
