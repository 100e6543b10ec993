"""Validate: the identities (勾稽关系) and plausibility rules of one report
(template-spec §6), as findings that name the cells.

What is checked
===============

Every rule that can be checked inside one report, for the template version
each table is keyed by (``report.table_versions``; a ``MIXED`` report checks
each table with its own version's rules).  The rules are data in
``templates/v2019.toml`` and ``v2021.toml`` (``[[tables.tN.identities]]`` and
``[[tables.tN.bounds]]``, loaded as :class:`~gipextract.templates.IdentitySpec`
and :class:`~gipextract.templates.BoundSpec`); this module knows no rule by
name:

======  ==========================================================  ========
rule    what                                                        severity
======  ==========================================================  ========
T3-A    each of the 7 columns: 一 + 二 = （七）总计 + 四             error
T3-B    each row: the 6 applicant columns add up to 总计             error
T3-C    each column: the result rows add up to （七）总计            error
        (V2019 one （六） row, V2021 three)
T3-E    every 表三 cell is a non-negative whole number               error
T4-A    each group: 维持 + 纠正 + 其他 + 尚未审结 = 总计             error
T4-B    every 表四 cell is a non-negative whole number               error
T2-P1   V2021 （一）: counts ≥ 0; 现行有效件数 ≥ 本年制发件数          warning
T2-P2   V2019 （一）: 本年新制作数量 ≥ 0; 本年新公开数量 ≤ 对外公开总数量  warning
T2-U    V2021 （八）: an amount over 1,000,000 under a 万元 header   warning
======  ==========================================================  ========

Values in the checks (spec §7.2)
================================

The cells are never changed; the checks read them like this:

* a number counts as printed;
* a blank, dash (``/`` ``—``), ``无`` or a missing row (``row_missing``) counts 0,
  except a missing total row (the single right-hand row of a column
  identity: （七）总计), whose absence means the table was cut off, not that
  it is 0 (004_2024 stops after （四）1): it is unknown, as below;
* a blank cell on the right of a ``blank_total`` identity (a 总计 of 表三 or
  表四 the report left unfilled) counts as the sum of its row's parts, so it
  never breaks T3-B/T4-A; one ``info`` finding (rule ``blank_total``) per
  table lists those cells and the sums used.  The cells stay null (flag
  ``blank``);
* any other null (``unreadable``, a row with the wrong number of values) is
  unknown: an identity that needs it is not evaluated, and one ``info``
  finding (rule ``not_checked``) per table says which were skipped.

The most specific finding (spec §6.1 T3-D)
==========================================

A wrong cell breaks every identity it is in, and no more: a leaf cell of 表三
breaks its row's T3-B and its column's T3-C (or T3-A for rows 一, 二, 四); a
cell of （七）总计 breaks T3-B, T3-C and T3-A.  Each of those is reported, and
each names the cells it involves.  Two rules keep one wrong cell from burying
the reader:

1. **Derived equations are folded.**  On the 总计 column, T3-A and T3-C follow
   from the same identity on the six applicant columns together with T3-B of
   the rows involved (``derived_from = "T3-B"`` in the data).  With
   ``r(·) = left − right``::

                 自然人 … 其他 (C6)     │ 总计
       一        T3-B(一):  Σ C6 = 总计 │  ┐
       二        T3-B(二)               │  │ T3-A(总计)
       （七）    T3-B(（七）)            │  │
       四        T3-B(四)               │  ┘
                 T3-A(c) for c in C6

       r(T3-A, 总计) = Σ_c r(T3-A, c) − r(T3-B, 一) − r(T3-B, 二)
                                     + r(T3-B, （七）) + r(T3-B, 四)

   (T3-C on 总计 likewise, over the result rows and （七）).

   A failing equation on the 总计 column is folded into a failing T3-B of one
   of its rows when that row's 总计 cell alone accounts for both (changing it
   by one amount would balance both).  Then it is not a finding of its own;
   the T3-B finding's message says that it breaks the 总计 column too.  Any
   other failure on the 总计 column is reported (as the corpus's real
   violations are: 006_2020 breaks T3-C on 自然人 and on 总计 with every
   T3-B holding), and its message says it follows from the findings on the
   applicant columns when one of those failed too.
2. **The one cell is named.**  When a single cell of a failing identity is in
   at least two identities, all evaluated and all failing by amounts that one
   change of that cell would cancel, the finding's message names that cell,
   its printed value and the value that would balance them.  The cell is not
   changed.

Findings come errors first, then warnings, then ``info``; within a severity
by table (表二, 表三, 表四), identities in data order (T3-A, T3-B, T3-C) each
along its rows/columns in printed order, then the cell ranges.  A finding's
``cells`` are every cell of its equation, left side then right side (printed
order); ``expected`` is the left side (the sum of the parts), ``actual`` the
right side (the printed total); for ranges ``expected`` is the range as text
(``"≥ 0"``) and ``actual`` the value.

Evaluation lives in :mod:`gipextract.identities`
================================================

The equations are compiled and evaluated there (``evaluate``,
``identities``, ``identities_of``, ``cell_label``, ``Identity``,
``Evaluation``; still importable from here); this module writes the
findings.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from functools import cache

from .identities import (
    Evaluation,
    Identity,
    Number,
    OutOfRange,
    Result,
    _Compiled,
    _compiled,
    _run,
    _split,
    cell_label,
    evaluate,
    identities,
    identities_of,
)
from .report import CellValue, Finding, Report
from .templates import TABLE_SHORT, TABLES, VERSIONS, get_template, on_reload

__all__ = ["Evaluation", "Identity", "OutOfRange", "Result", "cell_label", "check", "evaluate", "identities",
           "identities_of", "rules", "validate"]

#: Flags of null cells that count 0 in the checks (spec §7.2).  A ``blank``
#: cell counts 0 too, except a ``blank_total`` total (module docstring).
ZERO_FLAGS = frozenset({"blank", "dash", "none_text", "row_missing"})
#: Rule ids of the info findings this module adds besides the template's rules.
INFO_RULES = ("blank_total", "not_checked")

_NAN = math.nan
_MANY_TERMS = 4
_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
_ABSENT = CellValue("", "", "", "", "", "", None, None, None, None)
_NO_CELLS = itertools.repeat(_ABSENT)

# -- findings of a report -------------------------------------------------------

def _delta(ident: Identity, residual: Number, key: str) -> Number:
    """The change of cell ``key`` that would cancel ``residual``."""
    return residual if key in ident.right else -residual


def _same(a: Number, b: Number) -> bool:
    return a == b or math.isclose(a, b, rel_tol=1e-9)


class _Writer:
    """Builds the findings of one table from an evaluation (messages, folding,
    the one cell; module docstring)."""

    def __init__(self, c: _Compiled, cells: Mapping[str, CellValue], ev: Evaluation, nums: list, residuals: list):
        self.c, self.cells, self.ev, self.nums, self.res = c, cells, ev, nums, residuals
        self.short = TABLE_SHORT[c.tt.name]

    def label(self, key: str) -> str:
        return "/".join(cell_label(self.c.tt.version, key))

    def part(self, ident: Identity, key: str) -> str:
        row, col = _split(key)
        return self.c.col_labels[col] if ident.each == "row" else self.c.row_labels[row]

    def where(self, ident: Identity) -> str:
        if ident.each == "row":
            return f"{self.short} row {self.c.row_labels[ident.line]}"
        return f"{self.short} column {self.c.col_labels[ident.line]}"

    def value_text(self, key: str) -> str:
        if key in self.ev.imputed:
            return f"{_fmt(self.ev.imputed[key])}*"
        cell = self.cells.get(key)
        if cell is None or cell.value is None:
            return f"0 ({cell.flag if cell else 'absent'})"
        return _fmt(cell.value)

    def side(self, ident: Identity, keys: tuple[str, ...], total: Number) -> str:
        if len(keys) == 1:
            return f"{self.part(ident, keys[0])} {self.value_text(keys[0])}"
        shown = keys if len(keys) <= _MANY_TERMS else [k for k in keys if self.ev.imputed.get(k) or (
            (cell := self.cells.get(k)) is not None and cell.value)]
        if not shown:
            return f"the {len(keys)} {'columns' if ident.each == 'row' else 'rows'} (all 0)"
        text = " + ".join(f"{self.part(ident, k)} {self.value_text(k)}" for k in shown)
        rest = len(keys) - len(shown)
        if rest:
            text += f" ({rest} other {'column' if ident.each == 'row' else 'row'}{'s' if rest > 1 else ''} 0)"
        return f"{text} = {_fmt(total)}"

    def sentence(self, r: Result) -> str:
        i = r.identity
        left, right = self.side(i, i.left, r.left), self.side(i, i.right, r.right)
        if i.op == "=":
            return f"{self.where(i)}: {left}, but {right}"
        worse = "less than" if i.op == ">=" else "more than"
        return f"{self.where(i)}: {left} is {worse} {right}"

    def name(self, pos: int) -> str:
        i = self.c.identities[pos]
        return f"{i.rule} of {self.where(i).split(' ', 1)[1]}"

    def one_cell(self, pos: int, failed: Mapping[int, Result]) -> list[tuple[str, Number, tuple[int, ...]]]:
        """Cells of failing equation ``pos`` that alone account for every
        equation they are in (at least two, all failing by amounts one change
        of the cell cancels)."""
        ident, out = self.c.identities[pos], []
        for key in ident.keys:
            others = self.c.by_cell.get(key, ())
            if len(others) < 2:
                continue
            delta = _delta(ident, self.res[pos], key)
            if all(p in failed and _same(_delta(self.c.identities[p], self.res[p], key), delta) for p in others):
                out.append((key, delta, tuple(p for p in others if p != pos)))
        return out

    def findings(self) -> list[Finding]:
        c, ev = self.c, self.ev
        failed = {c.position[r.identity]: r for r in ev.failed}
        folded: dict[int, list[int]] = {}
        for pos in failed:
            for base, key in c.folds.get(pos, ()):
                if base in failed and _same(_delta(c.identities[base], self.res[base], key),
                                            _delta(c.identities[pos], self.res[pos], key)):
                    folded.setdefault(base, []).append(pos)
                    break
        hidden = {p for ps in folded.values() for p in ps}
        out: list[Finding] = []
        for pos, r in failed.items():
            if pos in hidden:
                continue
            i = r.identity
            text = self.sentence(r)
            named: set[int] = set()
            for key, delta, others in self.one_cell(pos, failed):
                cell = self.cells.get(key)
                printed = cell.value if cell is not None and cell.value is not None else 0
                text += (f"; {self.label(key)} alone would account for this and "
                         f"{_and([self.name(p) for p in others])}: it reads {self.value_text(key)}, "
                         f"and {_fmt(printed + delta)} would balance {'both' if len(others) == 1 else 'all'}")
                named.update(others)
            also = [p for p in folded.get(pos, ()) if p not in named]
            if also:
                text += f"; it breaks {_and([self.name(p) for p in also])} by the same amount"
            spec = f"spec §6 {i.rule}"
            bases = [b for b in c.bases.get(pos, ()) if b in failed]
            if i.derived and bases:
                text += f"; it follows from {_and([self.name(b) for b in bases])}"
                spec += "; §6.1 T3-D"
            if i.note:
                text += f"; {i.note}"
            if any(k in ev.imputed for k in i.keys):
                text += "; * a blank cell, counted as the sum of its row's parts"
            out.append(Finding(i.rule, i.severity, i.table, list(i.keys), expected=r.left, actual=r.right,
                               message=f"{text} ({spec})."))
        for o in ev.out_of_range:
            b = o.bound
            rng = " and ".join(t for t in (f"≥ {_fmt(b.min)}" if b.min is not None else "",
                                          f"≤ {_fmt(b.max)}" if b.max is not None else "") if t)
            unit = f" {b.unit}" if b.unit else ""
            if b.min is not None and o.value < b.min:
                why = f"less than {_fmt(b.min)}"
            elif b.max is not None and o.value > b.max:
                why = f"more than {_fmt(b.max)}{unit}"
            else:
                why = "not a whole number"
            note = f"; {b.note}" if b.note else ""
            out.append(Finding(b.rule, b.severity, c.tt.name, [o.key], expected=rng, actual=o.value,
                               message=f"{self.short} cell {self.label(o.key)} reads {_fmt(o.value)}{unit}, "
                                       f"{why}{note} (spec §6 {b.rule})."))
        if ev.imputed:
            keys = list(ev.imputed)
            cols = {_split(k)[1] for k in keys}
            one_col = len(cols) == 1
            what = (f"{c.col_labels[cols.pop()]} is left blank in {len(keys)} row{'s' * (len(keys) > 1)}" if one_col
                    else f"{len(keys)} totals are left blank")
            listed = ", ".join(f"{c.row_labels[_split(k)[0]] if one_col else self.label(k)} → {_fmt(v)}"
                               for k, v in ev.imputed.items() if v)
            zeros = sum(1 for v in ev.imputed.values() if not v)
            if zeros:
                listed += f"{'; ' if listed else ''}{zeros} with parts all 0 or blank"
            out.append(Finding(
                "blank_total", "info", c.tt.name, keys,
                message=f"{self.short}: {what} ({listed}); the checks use the sum of each row's parts in its "
                        f"place, and the cells stay null (spec §7.2)."))
        if ev.unchecked:
            index = {k: n for n, k in enumerate(c.keys)}
            unknown = sorted({k for i in ev.unchecked for k in i.keys if self.nums[index[k]] != self.nums[index[k]]
                              and ((cell := self.cells.get(k)) is None or cell.flag != "blank")}, key=index.__getitem__)
            cut = any(self.cells[k].flag == "row_missing" for k in unknown if k in self.cells)
            out.append(Finding(
                "not_checked", "info", c.tt.name, unknown,
                message=f"{self.short}: {_and([self.name(c.position[i]) for i in ev.unchecked])} "
                        f"{'was' if len(ev.unchecked) == 1 else 'were'} not checked: "
                        f"{'it involves' if len(ev.unchecked) == 1 else 'they involve'} cells that could not "
                        f"be read{' or a total row the report lacks' if cut else ''}."))
        return out


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _fmt(v: Number | None) -> str:
    if v is None:
        return "null"
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return f"{v}"


def _table_findings(report: Report, table: str, version: str) -> list[Finding]:
    c = _compiled(version, table)
    cells = report.cells
    nums = [cell.value for cell in map(cells.get, c.keys, _NO_CELLS)]
    blanks = []
    if None in nums:
        for i, v in enumerate(nums):
            if v is None:
                flag = cells[c.keys[i]].flag if c.keys[i] in cells else None
                nums[i] = 0 if flag in ZERO_FLAGS and not (flag == "row_missing" and i in c.total_cells) else _NAN
                if flag == "blank":
                    blanks.append(i)
    units = {k: cells[k].unit for k in c.unit_keys if k in cells} if c.unit_keys else None
    ev, residuals = _run(c, nums, blanks, units)
    if ev.holds and not ev.imputed and not ev.unchecked:
        return []
    return _Writer(c, cells, ev, nums, residuals).findings()


def check(report: Report) -> list[Finding]:
    """The findings of every rule of spec §6 checkable inside ``report``
    (module docstring), for each table present with its own version.  Pure:
    ``report`` is not changed.  Never raises for a broken identity."""
    out: list[Finding] = []
    for table in TABLES:
        version = report.table_versions.get(table)
        if version is not None and version in VERSIONS:
            out.extend(_table_findings(report, table, version))
    if out:
        out.sort(key=lambda f: _SEVERITY_ORDER[f.severity])
    return out


@cache
def rules() -> frozenset[str]:
    """Every rule id :func:`check` may report (the templates' rules and
    :data:`INFO_RULES`)."""
    ids = set(INFO_RULES)
    for v in VERSIONS:
        for tt in get_template(v).tables.values():
            ids.update(s.rule for s in tt.identities)
            ids.update(b.rule for b in tt.bounds)
    return frozenset(ids)


on_reload(rules.cache_clear)


def validate(report: Report) -> Report:
    """Add the findings of :func:`check` to ``report.findings`` (replacing
    those of an earlier validation, so calling it twice changes nothing) and
    return ``report``.  Reading findings of the earlier stages are kept."""
    own = rules()
    report.findings[:] = [f for f in report.findings if f.rule not in own] + check(report)
    return report
