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

For other stages: evaluating values without a Report
====================================================

:func:`evaluate` checks one table version over a plain mapping
``{canonical key: number | None}`` (``None`` = a blank cell, a key left out =
unknown) and returns the failing :class:`Result` s with their residuals;
:func:`identities` lists the compiled equations (each with its canonical
keys) and :func:`identities_of` those a given cell is in, so a search (the
digit splitter of issue 7) can score a candidate row by the few equations it
touches with :meth:`Identity.sides`.  Everything is compiled once per table
version and cached; nothing here uses pandas.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

from .report import CellValue, Finding, Report
from .templates import TABLE_SHORT, TABLES, VERSIONS, BoundSpec, TableTemplate, get_template, on_reload

Number = int | float

#: Flags of null cells that count 0 in the checks (spec §7.2).  A ``blank``
#: cell counts 0 too, except a ``blank_total`` total (module docstring).
ZERO_FLAGS = frozenset({"blank", "dash", "none_text", "row_missing"})
#: Rule ids of the info findings this module adds besides the template's rules.
INFO_RULES = ("blank_total", "not_checked")

_NAN = math.nan
_MISSING = object()
_GROUP_NUMBER = re.compile(r"^[（(][一二三四五六七八九十]+[）)]")
_TRAILING_NOTE = re.compile(r"^(.+?)[（(][^（(]*[）)]$")
_MANY_TERMS = 4
_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
_ABSENT = CellValue("", "", "", "", "", "", None, None, None, None)
_NO_CELLS = itertools.repeat(_ABSENT)


# -- compiled equations -------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Identity:
    """One equation of a table: ``Σ left <op> Σ right`` over canonical keys.

    :ivar rule: the spec's rule id (``T3-B``).
    :ivar table: ``t2``, ``t3`` or ``t4``.
    :ivar each: ``"row"`` (runs along a row; ``line`` is a row key) or
        ``"column"`` (``line`` is a column key).
    :ivar line: the row or column key this equation runs along
        (``granted``, ``natural_person``, ``art20_1.regulations``).
    :ivar left: canonical keys of the parts, e.g. the six applicant cells of
        a row for T3-B.
    :ivar right: canonical keys of the other side, e.g. the row's 总计.
    :ivar op: ``"="``, ``"<="`` or ``">="``.
    :ivar severity: ``error`` (identity) or ``warning`` (plausibility).
    :ivar blank_total: a blank ``right[0]`` counts as ``Σ left`` (spec §7.2).
    :ivar derived: the equation follows from others (spec §6.1 T3-D).
    :ivar note: a phrase findings of this equation end with.
    """

    rule: str
    table: str
    each: str
    line: str
    left: tuple[str, ...]
    right: tuple[str, ...]
    op: str = "="
    severity: str = "error"
    blank_total: bool = False
    derived: bool = False
    note: str = ""

    @property
    def keys(self) -> tuple[str, ...]:
        """Every canonical key of the equation, left then right (printed order)."""
        return self.left + self.right

    def sides(self, values: Mapping[str, Number | None]) -> tuple[Number, Number] | None:
        """``(Σ left, Σ right)`` over ``values``, ``None`` counting 0; ``None``
        if a key is missing from ``values`` (unknown).  No blank-total rule:
        that needs the whole table (:func:`evaluate`)."""
        sums = []
        for side in (self.left, self.right):
            total: Number = 0
            for k in side:
                v = values.get(k, _MISSING)
                if v is _MISSING:
                    return None
                total += v or 0
            sums.append(total)
        return sums[0], sums[1]

    def holds(self, left: Number, right: Number) -> bool:
        """True if sides ``left`` and ``right`` satisfy the equation's ``op``
        (floats compared to a relative 1e-9)."""
        if self.op == "=":
            return left == right or (isinstance(left + right, float) and math.isclose(left, right, rel_tol=1e-9))
        return left <= right if self.op == "<=" else left >= right


@dataclass(frozen=True, slots=True)
class Result:
    """An evaluated equation that failed.

    :ivar identity: the equation.
    :ivar left: ``Σ left`` as checked (blank totals replaced, module docstring).
    :ivar right: ``Σ right`` as checked.
    """

    identity: Identity
    left: Number
    right: Number

    @property
    def residual(self) -> Number:
        """``left − right`` (0 for an equation that holds)."""
        return self.left - self.right


@dataclass(frozen=True, slots=True)
class OutOfRange:
    """A cell outside its range (:class:`~gipextract.templates.BoundSpec`).

    :ivar bound: the range rule.
    :ivar key: the cell's canonical key.
    :ivar value: its value.
    """

    bound: BoundSpec
    key: str
    value: Number


@dataclass(slots=True)
class Evaluation:
    """What :func:`evaluate` found in one table.

    :ivar failed: the equations that do not hold, in compiled order.
    :ivar out_of_range: the cells outside their range.
    :ivar imputed: blank totals → the ``Σ left`` the checks used instead.
    :ivar unchecked: equations not evaluated because a cell is unknown.
    """

    failed: list[Result] = field(default_factory=list)
    out_of_range: list[OutOfRange] = field(default_factory=list)
    imputed: dict[str, Number] = field(default_factory=dict)
    unchecked: list[Identity] = field(default_factory=list)

    @property
    def holds(self) -> bool:
        """True if no equation failed and no cell is out of range."""
        return not self.failed and not self.out_of_range


@dataclass(frozen=True, slots=True)
class _Compiled:
    """One table version's rules as index structures (built once)."""

    tt: TableTemplate
    keys: tuple[str, ...]
    identities: tuple[Identity, ...]
    position: dict[Identity, int]
    lidx: tuple[tuple[int, ...], ...]
    ridx: tuple[tuple[int, ...], ...]
    sides: tuple[tuple[slice, slice], ...] | None
    imputing: tuple[int, ...]
    bounds: tuple[tuple[BoundSpec, tuple[int, ...], slice | None], ...]
    unit_keys: tuple[str, ...]
    total_cells: frozenset[int]
    by_cell: dict[str, tuple[int, ...]]
    bases: dict[int, tuple[int, ...]]
    folds: dict[int, tuple[tuple[int, str], ...]]
    row_labels: dict[str, str]
    col_labels: dict[str, str]


def _as_slice(idx: tuple[int, ...]) -> slice | None:
    """``idx`` as a slice of the row-major cell list when it is an arithmetic
    progression (a row's cells, a column's cells), else ``None``."""
    if len(idx) == 1:
        return slice(idx[0], idx[0] + 1)
    step = idx[1] - idx[0]
    if step > 0 and all(b - a == step for a, b in zip(idx, idx[1:])):
        return slice(idx[0], idx[-1] + 1, step)
    return None


def _row_label(path: tuple[str, ...]) -> str:
    """A row's label for messages: the leaf without a trailing note
    (``（二）部分公开``), a numbered sub-row prefixed with its group's number
    (``（三）1.属于国家秘密``)."""
    leaf = path[-1]
    m = _TRAILING_NOTE.match(leaf)
    if m and _GROUP_NUMBER.sub("", m.group(1)):
        leaf = m.group(1)
    if leaf[:1].isdigit() and len(path) >= 2 and (g := _GROUP_NUMBER.match(path[-2])):
        leaf = g.group(0) + leaf
    return leaf


def _col_label(path: tuple[str, ...]) -> str:
    """A column's label for messages: the leaf, with its group when the leaf
    alone is ambiguous (``法人或其他组织/其他``)."""
    leaf = path[-1]
    return f"{path[-2]}/{leaf}" if len(path) >= 3 and len(leaf) <= 2 else leaf


@cache
def _compiled(version: str, table: str) -> _Compiled:
    tt = get_template(version).tables[table]
    keys = tuple(tt.cell_keys())
    index = {k: i for i, k in enumerate(keys)}
    identities: list[Identity] = []
    family_of: list[int] = []
    for f, spec in enumerate(tt.identities):
        base = next((b for b in tt.identities if b.rule == spec.derived_from), None)
        for line in spec.along:
            if spec.each == "row":
                left = tuple(f"{table}.{line}.{c}" for c in spec.left)
                right = tuple(f"{table}.{line}.{c}" for c in spec.right)
            else:
                left = tuple(f"{table}.{r}.{line}" for r in spec.left)
                right = tuple(f"{table}.{r}.{line}" for r in spec.right)
            derived = base is not None and line == base.right[0]
            identities.append(Identity(spec.rule, table, spec.each, line, left, right, spec.op, spec.severity,
                                       spec.blank_total, derived, spec.note))
            family_of.append(f)
    by_cell: dict[str, list[int]] = {}
    for pos, ident in enumerate(identities):
        for k in ident.keys:
            by_cell.setdefault(k, []).append(pos)
    bases: dict[int, tuple[int, ...]] = {}
    folds: dict[int, tuple[tuple[int, str], ...]] = {}
    for pos, ident in enumerate(identities):
        if not ident.derived:
            continue
        spec = tt.identities[family_of[pos]]
        row_eq = {identities[p].line: p for p in range(len(identities))
                  if tt.identities[family_of[p]].rule == spec.derived_from}
        rows = [_split(k)[0] for k in ident.keys]
        pairs = tuple((row_eq[r], k) for r, k in zip(rows, ident.keys) if r in row_eq)
        folds[pos] = pairs
        bases[pos] = tuple(p for p in range(len(identities))
                           if family_of[p] == family_of[pos] and p != pos) + tuple(p for p, _ in pairs)
    lidx = tuple(tuple(index[k] for k in i.left) for i in identities)
    ridx = tuple(tuple(index[k] for k in i.right) for i in identities)
    sides = tuple((_as_slice(li), _as_slice(ri)) for li, ri in zip(lidx, ridx))
    bounds = tuple((b, idx, _as_slice(idx)) for b in tt.bounds for idx in [tuple(index[k] for k in b.cells)])
    return _Compiled(
        tt=tt,
        keys=keys,
        identities=tuple(identities),
        position={i: p for p, i in enumerate(identities)},
        lidx=lidx,
        ridx=ridx,
        sides=sides if all(a and b for a, b in sides) else None,
        imputing=tuple(p for p, i in enumerate(identities) if i.blank_total),
        bounds=bounds,
        unit_keys=tuple(k for b in tt.bounds if b.unit for k in b.cells),
        total_cells=frozenset(index[k] for i in identities if i.each == "column" and len(i.right) == 1
                             for k in i.right),
        by_cell={k: tuple(v) for k, v in by_cell.items()},
        bases=bases,
        folds=folds,
        row_labels={r.key: _row_label(r.path) for r in tt.rows},
        col_labels={c.key: _col_label(c.path) for r in tt.rows for c in r.columns},
    )


def identities(version: str, table: str) -> tuple[Identity, ...]:
    """Every equation of table ``table`` (``t2``/``t3``/``t4``) of format
    ``version`` (``V2019``/``V2021``), in the order findings are reported:
    e.g. V2021 表三 has 7 T3-A, 25 T3-B and 7 T3-C equations.

    :raises TemplateError: unknown version.  :raises KeyError: unknown table.
    """
    return _compiled(version, table).identities


def cell_label(version: str, key: str) -> tuple[str, str]:
    """The labels findings use for cell ``key`` of format ``version``:
    ``(row label, column label)``, e.g. ``("（三）1.属于国家秘密", "自然人")``
    for ``t3.denied_state_secret.natural_person`` (the official leaf labels,
    a sub-row with its group's number, a note dropped, an ambiguous column
    with its group: ``法人或其他组织/其他``).

    :raises KeyError: ``key`` is not a cell of that version.
    """
    c = _compiled(version, key[:2])
    row, col = _split(key)
    return c.row_labels[row], c.col_labels[col]


def identities_of(version: str, table: str, key: str) -> tuple[Identity, ...]:
    """The equations of ``version``'s ``table`` that canonical key ``key`` is
    in (a 表三 leaf cell: its row's T3-B and its column's T3-C or T3-A);
    empty for a key in none."""
    c = _compiled(version, table)
    return tuple(c.identities[p] for p in c.by_cell.get(key, ()))


# -- evaluation ----------------------------------------------------------------

def _run(c: _Compiled, nums: list, blanks: list[int], units: Mapping[str, str | None] | None) -> tuple[
        Evaluation, list]:
    """Evaluate over ``nums`` (values by key index; NaN = unknown, blanks
    already 0).  Returns the evaluation and the residual of every equation
    (NaN when unchecked)."""
    ev = Evaluation()
    get = nums.__getitem__
    if blanks:
        blank_set = set(blanks)
        for pos in c.imputing:
            r = c.ridx[pos][0]
            if r in blank_set:
                total = sum(map(get, c.lidx[pos]))
                nums[r] = total
                if total == total:
                    ev.imputed[c.keys[r]] = total
    if c.sides is not None:  # every side a slice: the fast path for the official tables
        residuals = [sum(nums[a]) - sum(nums[b]) for a, b in c.sides]
    else:
        residuals = [sum(map(get, li)) - sum(map(get, ri)) for li, ri in zip(c.lidx, c.ridx)]
    if any(residuals):  # NaN is truthy: unknown sides land here too
        for pos, d in enumerate(residuals):
            if d == 0:
                continue
            ident = c.identities[pos]
            if d != d:
                ev.unchecked.append(ident)
                continue
            left, right = sum(map(get, c.lidx[pos])), sum(map(get, c.ridx[pos]))
            if not ident.holds(left, right):
                ev.failed.append(Result(ident, left, right))
    for bound, idx, sl in c.bounds:
        lo, hi = bound.min, bound.max
        values = nums[sl] if sl is not None else [nums[i] for i in idx]
        total = sum(values)
        if total == total and (lo is None or min(values) >= lo) and (hi is None or max(values) <= hi) and (
                not bound.integer or type(total) is int):
            continue  # the common case: every value known and in range
        for i, v in zip(idx, values):
            if v != v or (lo is None or v >= lo) and (hi is None or v <= hi) and (
                    not bound.integer or v == int(v)):
                continue
            key = c.keys[i]
            if bound.unit is not None and (units or {}).get(key) != bound.unit:
                continue
            ev.out_of_range.append(OutOfRange(bound, key, v))
    return ev, residuals


def evaluate(version: str, table: str, values: Mapping[str, Number | None],
             units: Mapping[str, str | None] | None = None) -> Evaluation:
    """Check table ``table`` of format ``version`` over ``values``.

    :param values: canonical key → number as printed (``int``, or ``float``
        for money), ``None`` for a blank cell (counts 0; a blank total of a
        ``blank_total`` identity counts as the sum of its parts).  A key left
        out is unknown: the equations that need it are not evaluated
        (``Evaluation.unchecked``), so a partial mapping (one row) checks just
        the equations it covers.
    :param units: canonical key → the unit the cell was printed in, for range
        rules limited to a unit (T2-U); without it those rules are skipped.
    :returns: an :class:`Evaluation`; it never raises for values that break
        an identity.
    :raises TemplateError: unknown version.  :raises KeyError: unknown table.
    """
    c = _compiled(version, table)
    nums, blanks = [], []
    for i, k in enumerate(c.keys):
        v = values.get(k, _MISSING)
        if v is _MISSING:
            nums.append(_NAN)
        elif v is None:
            nums.append(0)
            blanks.append(i)
        else:
            nums.append(v)
    return _run(c, nums, blanks, units)[0]


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
                              and ((cell := self.cells.get(k)) is None or cell.flag != "blank")}, key=index.get)
            cut = any(self.cells[k].flag == "row_missing" for k in unknown if k in self.cells)
            out.append(Finding(
                "not_checked", "info", c.tt.name, unknown,
                message=f"{self.short}: {_and([self.name(c.position[i]) for i in ev.unchecked])} "
                        f"{'was' if len(ev.unchecked) == 1 else 'were'} not checked: "
                        f"{'it involves' if len(ev.unchecked) == 1 else 'they involve'} cells that could not "
                        f"be read{' or a total row the report lacks' if cut else ''}."))
        return out


def _split(key: str) -> tuple[str, str]:
    """``"t2.art20_1.regulations.issued"`` → ``("art20_1.regulations", "issued")``."""
    row, col = key[3:].rsplit(".", 1)
    return row, col


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
        if version in VERSIONS:
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


on_reload(_compiled.cache_clear)
on_reload(rules.cache_clear)


def validate(report: Report) -> Report:
    """Add the findings of :func:`check` to ``report.findings`` (replacing
    those of an earlier validation, so calling it twice changes nothing) and
    return ``report``.  Reading findings of the earlier stages are kept."""
    own = rules()
    report.findings[:] = [f for f in report.findings if f.rule not in own] + check(report)
    return report
