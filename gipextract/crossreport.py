"""Cross-report checks: identities between one organ's reports of consecutive
years (template-spec §6.1 T3-Y, §6.3 T2-Y1).

Neither identity is printed in a report and both are often broken for good
reasons (re-classification, mergers, cleanup campaigns), so every violation is
a ``warning`` :class:`~gipextract.report.Finding` on the *later* report, naming
the later report's cells by canonical key.  Nothing here changes a cell.

The checks need only a few cells of each report, so they work on
:class:`ReportFacts` (source, agency, year and those cells) rather than whole
:class:`~gipextract.report.Report` objects: a batch of thousands of reports
keeps a few dozen numbers per report in memory, not the reports.

Reports are paired when both know their agency and year, the agencies are
equal as printed (after trimming whitespace) and the years are consecutive.
Several reports of the same organ for the earlier year (copies of one report
in different formats) are used together when they agree on the cells a check
needs (a cell one could not read is taken from another); when two give
different numbers, that check is not made and an ``info`` finding
``cross_report_ambiguous`` says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from .errors import GipextractError
from .report import Finding, Report
from .templates import fallback_version, get_template

_T3 = get_template(fallback_version()).tables["t3"]  # 表三's columns are the same in every version
_T2 = get_template(fallback_version()).tables["t2"]  # T2-Y1 reads the newest format's 表二 (spec §6.3)
T3_COLUMNS = tuple(c.key for c in _T3.columns)
T3_COLUMN_LABELS = {c.key: c.label for c in _T3.columns}
#: 表二 （一） rows of V2021: row key (without the block) → official label.
T2_ROWS = {r.key.split(".", 1)[1]: r.label for r in _T2.rows if r.group == "art20_1"}

#: Canonical keys of the cells the checks read (V2019 and V2021 表三; V2021 表二).
NEEDED_KEYS: frozenset[str] = frozenset(
    [f"t3.{row}.{col}" for row in ("carried_over_prev", "carried_forward_next") for col in T3_COLUMNS]
    + [f"t2.art20_1.{row}.{col}" for row in T2_ROWS for col in ("issued", "repealed", "in_force")])

_ORDER = tuple(sorted(NEEDED_KEYS))
_INDEX = {k: i for i, k in enumerate(_ORDER)}
class CompactCells(Mapping):
    """A read-only ``key → (value, flag)`` mapping over :data:`NEEDED_KEYS`,
    stored as two tuples (a batch keeps one per report: a few hundred bytes,
    not a dict of tuples)."""

    __slots__ = ("_values", "_flags", "_present")

    def __init__(self, cells: Mapping[str, tuple] | None = None):
        values, flags, present = [None] * len(_ORDER), [None] * len(_ORDER), 0
        for k, (value, flag) in dict(cells or {}).items():
            if k in _INDEX:
                i = _INDEX[k]
                values[i], flags[i], present = value, flag, present | (1 << i)
        self._values, self._flags, self._present = tuple(values), tuple(flags), present

    def __getitem__(self, key: str) -> tuple:
        i = _INDEX.get(key)
        if i is None or not self._present >> i & 1:
            raise KeyError(key)
        return self._values[i], self._flags[i]

    def __iter__(self):
        return (k for i, k in enumerate(_ORDER) if self._present >> i & 1)

    def __len__(self) -> int:
        return bin(self._present).count("1")


#: Rule ids produced here (a batch strips and recomputes them on ``--resume``).
CROSS_RULES: frozenset[str] = frozenset({"T3-Y", "T2-Y1", "cross_report_ambiguous"})

#: Flags of null cells that the checks read as 0 (spec §7.2: dash and 无 mean
#: none; a blank leaf cell means not filled, 0 for arithmetic).
_ZERO_FLAGS = frozenset({"dash", "none_text"})


@dataclass(slots=True)
class ReportFacts:
    """What the cross-report checks need of one report.

    :ivar source: the report's source path (findings are keyed by it).
    :ivar agency: the issuing organ, or ``None`` (then the report is not paired).
    :ivar year: the report year, or ``None`` (then the report is not paired).
    :ivar cells: canonical key → ``(value, flag)`` for the keys of
        :data:`NEEDED_KEYS` the report has (any mapping; kept as
        :class:`CompactCells`).
    """

    source: str
    agency: str | None
    year: int | None
    cells: Mapping[str, tuple[int | float | None, str | None]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.cells, CompactCells):
            self.cells = CompactCells(self.cells)

    @classmethod
    def of(cls, report: Report) -> ReportFacts:
        """The facts of ``report``."""
        return cls(report.source.path, report.agency, report.year, needed_cells(report.cells))


def needed_cells(cells: Mapping) -> dict[str, tuple[int | float | None, str | None]]:
    """``key → (value, flag)`` for the keys of :data:`NEEDED_KEYS` in ``cells``
    (a mapping of canonical key → :class:`~gipextract.report.CellValue`)."""
    return {k: (cells[k].value, cells[k].flag) for k in NEEDED_KEYS if k in cells}


def _checkable(cell: tuple | None, total: bool = False) -> int | float | None:
    """The value a check uses for ``cell``, or ``None`` when it cannot say."""
    if cell is None:
        return None
    value, flag = cell
    if value is not None:
        return value
    if flag in _ZERO_FLAGS or (flag == "blank" and not total):
        return 0
    return None


def _fmt(v) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def _t3y(prev: ReportFacts, cur: ReportFacts) -> list[Finding]:
    out = []
    for col in T3_COLUMNS:
        before = _checkable(prev.cells.get(f"t3.carried_forward_next.{col}"), col == "total")
        now = _checkable(cur.cells.get(f"t3.carried_over_prev.{col}"), col == "total")
        if before is None or now is None or before == now:
            continue
        out.append(Finding(
            rule="T3-Y", severity="warning", table="t3", cells=[f"t3.carried_over_prev.{col}"],
            expected=before, actual=now,
            message=(f"表三 二、上年结转政府信息公开申请数量 ({T3_COLUMN_LABELS[col]}) is {_fmt(now)}, but the "
                     f"{prev.year} report ({prev.source}) gives 四、结转下年度继续办理 = {_fmt(before)}")))
    return out


def _t2y1(prev: ReportFacts, cur: ReportFacts) -> list[Finding]:
    out = []
    for row, label in T2_ROWS.items():
        base = f"t2.art20_1.{row}"
        before = _checkable(prev.cells.get(f"{base}.in_force"))
        now = _checkable(cur.cells.get(f"{base}.in_force"))
        issued = _checkable(cur.cells.get(f"{base}.issued"))
        repealed = _checkable(cur.cells.get(f"{base}.repealed"))
        if before is None or now is None or issued is None or repealed is None:
            continue
        expected = before + issued - repealed
        if expected == now:
            continue
        out.append(Finding(
            rule="T2-Y1", severity="warning", table="t2",
            cells=[f"{base}.in_force", f"{base}.issued", f"{base}.repealed"], expected=expected, actual=now,
            message=(f"表二 {label} 现行有效件数 is {_fmt(now)}, but the {prev.year} report ({prev.source}) gives "
                     f"{_fmt(before)} + 本年制发件数 {_fmt(issued)} − 本年废止件数 {_fmt(repealed)} "
                     f"= {_fmt(expected)}")))
    return out


def _agreed(candidates: list[ReportFacts], keys: tuple[str, ...]) -> ReportFacts | None:
    """The earlier year's facts for ``keys`` when the candidate reports agree
    (copies of one report: a cell one of them could not read is taken from the
    others), or ``None`` when two give different numbers for a cell."""
    if len(candidates) == 1:
        return candidates[0]
    merged: dict[str, tuple] = {}
    for k in keys:
        known: dict[int | float, tuple] = {}
        for e in candidates:
            cell = e.cells.get(k)
            value = _checkable(cell, k.endswith(".total"))
            if value is not None and cell is not None:
                known.setdefault(value, cell)
        if len(known) > 1:
            return None
        if known:
            merged[k] = next(iter(known.values()))
    first = candidates[0]
    return ReportFacts(", ".join(e.source for e in candidates), first.agency, first.year, merged)


#: (rule, the earlier report's keys it reads, the check).
_CHECKS = (
    ("T3-Y", tuple(f"t3.carried_forward_next.{c}" for c in T3_COLUMNS), _t3y),
    ("T2-Y1", tuple(f"t2.art20_1.{r}.in_force" for r in T2_ROWS), _t2y1),
)


def cross_report_findings(facts: Iterable[ReportFacts]) -> dict[str, list[Finding]]:
    """:func:`iter_cross_report_findings` as a dict: source → findings."""
    return dict(iter_cross_report_findings(facts))


def iter_cross_report_findings(facts: Iterable[ReportFacts]) -> Iterator[tuple[str, list[Finding]]]:
    """Check every report against its organ's report of the previous year.

    :param facts: one :class:`ReportFacts` per report, in a fixed order (the
        order decides which earlier report a message cites first).
    :returns: ``(source, findings on that later report)`` in input order;
        sources without findings are skipped.  Only the findings of one report
        are held at a time.  Rules: ``T3-Y`` (spec §6.1: per
        column, 上年结转 of year Y = 结转下年度 of year Y−1), ``T2-Y1`` (spec §6.3,
        V2021: 现行有效 Y = 现行有效 Y−1 + 制发 Y − 废止 Y, per row), both
        ``warning``; ``cross_report_ambiguous`` (``info``).
    """
    facts = list(facts)
    by_organ: dict[tuple[str, int], list[ReportFacts]] = {}
    for f in facts:
        if f.agency and f.agency.strip() and f.year is not None:
            by_organ.setdefault((f.agency.strip(), f.year), []).append(f)
    for f in facts:
        if not (f.agency and f.agency.strip()) or f.year is None:
            continue
        earlier = by_organ.get((f.agency.strip(), f.year - 1), [])
        found: list[Finding] = []
        for rule, keys, check in _CHECKS:
            candidates = [e for e in earlier if any(k in e.cells for k in keys)]
            if not candidates:
                continue
            earlier_facts = _agreed(candidates, keys)
            if earlier_facts is None:
                found.append(Finding(
                    rule="cross_report_ambiguous", severity="info", table=None, cells=[],
                    message=(f"{rule} not checked: {len(candidates)} reports of {f.agency.strip()} for {f.year - 1} "
                             f"disagree ({', '.join(e.source for e in candidates)})")))
                continue
            found.extend(check(earlier_facts, f))
        if found:
            yield f.source, found


def check_reports(reports: Iterable[Report]) -> dict[str, list[Finding]]:
    """:func:`cross_report_findings` for whole reports (library convenience);
    the reports are not modified."""
    return cross_report_findings(ReportFacts.of(r) for r in reports)


# -- one organ across years ------------------------------------------------------

#: A higher-level place prefixed to an organ's name: one or more of 省/自治区/市/自治州/州/地区/盟
#: names (``淮安市``, ``江苏省淮安市``), as in 淮安市洪泽区人民政府 vs 洪泽区人民政府.
_PLACE_PREFIX = re.compile(r"^(?:[\u4e00-\u9fff]{1,8}?(?:省|自治区|市|自治州|州|地区|盟))+$")
#: A name that can stand for an organ without its higher-level place: it
#: starts with a place of its own (a 区, 县, 市, 旗…), so ``公安局`` never does.
_PLACE_START = re.compile(r"^[\u4e00-\u9fff]{1,10}?(?:省|自治区|市|自治州|州|地区|盟|区|县|旗|镇|乡|街道)")


def clean_organ_name(name: str | None) -> str | None:
    """``name`` without any whitespace, or ``None`` when nothing is left."""
    if name is None:
        return None
    text = "".join(name.split())
    return text or None


def organ_names(names: Iterable[str], aliases: Mapping[str, str] | None = None) -> dict[str, str]:
    """The organ each agency name stands for, the same in every year.

    A name that is another name of the batch minus a leading higher-level place
    (``洪泽区人民政府`` and ``淮安市洪泽区人民政府``) is that organ when nothing in
    the batch contradicts it: exactly one longer name ends with it (two, as
    ``南京市鼓楼区人民政府`` and ``福州市鼓楼区人民政府``, leave it alone).  The
    organ is the longest such name (the most specific one).  ``aliases``
    (name → organ, as a user's ``--organs`` file gives them) come first and
    are taken as given; names are compared without whitespace.

    :param names: agency names as read (``None`` and blanks are skipped).
    :returns: every cleaned name → its organ (itself when nothing applies).
    """
    aliases = {clean_organ_name(k) or "": clean_organ_name(v) or "" for k, v in (aliases or {}).items()}
    cleaned = sorted({c for n in names if (c := clean_organ_name(n))})
    out: dict[str, str] = {}
    free = [n for n in cleaned if n not in aliases]
    longer: dict[str, list[str]] = {}
    for short in free:
        if not _PLACE_START.match(short):
            continue
        for full in free:
            if len(full) > len(short) and full.endswith(short) and _PLACE_PREFIX.match(full[:-len(short)]):
                longer.setdefault(short, []).append(full)

    def organ(name: str, depth: int = 0) -> str:
        fulls = longer.get(name, [])
        if depth > 10:
            return name
        # the longer names must themselves lead to one organ: 洪泽区… → 淮安市洪泽区… → 江苏省淮安市洪泽区…
        targets = {organ(f, depth + 1) for f in fulls}
        return targets.pop() if len(targets) == 1 else name

    for n in cleaned:
        out[n] = aliases[n] if n in aliases and aliases[n] else organ(n)
    return out


class OrgansFileError(GipextractError):
    """An organs file (``batch --organs``) that is missing, unreadable or
    without its ``name,organ`` header; the message names the file."""


def load_organ_aliases(path: str) -> dict[str, str]:
    """A user's organ aliases: a CSV file (UTF-8, BOM or not) with a header
    ``name,organ`` and one alias per row.

    :raises OrgansFileError: the file is missing or cannot be read, or has no
        such header (one line naming the file).
    """
    import csv

    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            fields = [f.strip() for f in reader.fieldnames or ()]
            if not {"name", "organ"} <= set(fields):
                got = ",".join(fields) if fields else "nothing"
                raise OrgansFileError(f"{path}: an organs file needs a header row 'name,organ' (it has {got!r})")
            out = {}
            for row in reader:
                # cells past the header's columns (DictReader's None key, a list) are not aliases
                row = {k.strip(): v.strip() for k, v in row.items() if isinstance(k, str) and isinstance(v, str)}
                if "name" not in row or "organ" not in row:
                    continue
                if row["name"] and row["organ"]:
                    out[row["name"]] = row["organ"]
            return out
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        why = getattr(e, "strerror", None) or e
        raise OrgansFileError(f"{path}: cannot read the organs file: {why}") from None


def pair_years(rows: Iterable[tuple[str, str | None, int | None, str]],
               aliases: Mapping[str, str] | None = None) -> dict[str, tuple[str, str]]:
    """Each report's organ and the same organ's report of the year before.

    :param rows: ``(path, agency, year, status)`` per input, in input order.
    :param aliases: name → organ (:func:`organ_names`).
    :returns: path → ``(organ, previous path)``, ``""`` where there is none.
        Of several reports of the organ's previous year, the first in input
        order whose status is ``ok`` or ``partial`` is named (else the first).
    """
    rows = list(rows)
    organ_of = organ_names((r[1] for r in rows if r[1]), aliases)
    by_year: dict[tuple[str, int], list[tuple[str, str]]] = {}
    for path, agency, year, status in rows:
        name = clean_organ_name(agency)
        if name and year is not None:
            by_year.setdefault((organ_of[name], year), []).append((path, status))
    out: dict[str, tuple[str, str]] = {}
    for path, agency, year, _ in rows:
        name = clean_organ_name(agency)
        if not name:
            continue
        organ = organ_of[name]
        earlier = by_year.get((organ, year - 1), []) if year is not None else []
        read = [p for p, s in earlier if s in ("ok", "partial")]
        out[path] = (organ, (read or [p for p, _ in earlier] or [""])[0])
    return out
