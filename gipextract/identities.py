"""The identities (勾稽关系) of each table version, compiled once, and their
evaluation over plain values (template-spec §6, §7.2).

The rules are data (``[[tables.tN.identities]]`` and ``[[tables.tN.bounds]]``
of the ``v*.toml`` templates).  This module turns them into equations over
canonical keys (:class:`Identity`) and evaluates them; it writes no message.
Both the validator (:mod:`gipextract.validate`, which turns an
:class:`Evaluation` into findings) and the digit splitter
(:mod:`gipextract.split`, which cuts value runs with the equalities) import it.

:func:`evaluate` checks one table version over a plain mapping
``{canonical key: number | None}`` (``None`` = a blank cell, a key left out =
unknown) and returns the failing :class:`Result` s with their residuals;
:func:`identities` lists the compiled equations (each with its canonical
keys) and :func:`identities_of` those a given cell is in, so a search (the
digit splitter) can score a candidate row by the few equations it
touches with :meth:`Identity.sides`.  Everything is compiled once per table
version and cached; nothing here uses pandas.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

from .templates import BoundSpec, TableTemplate, get_template, on_reload

Number = int | float

_NAN = math.nan
_GROUP_NUMBER = re.compile(r"^[（(][一二三四五六七八九十]+[）)]")
_TRAILING_NOTE = re.compile(r"^(.+?)[（(][^（(]*[）)]$")


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
                if k not in values:
                    return None
                total += values[k] or 0
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


def _split(key: str) -> tuple[str, str]:
    """``"t2.art20_1.regulations.issued"`` → ``("art20_1.regulations", "issued")``."""
    row, col = key[3:].rsplit(".", 1)
    return row, col


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
        sides=tuple((a, b) for a, b in sides if a and b) if all(a and b for a, b in sides) else None,
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


def line_label(version: str, ident: Identity) -> str:
    """What ``ident`` runs along, for messages: ``"row （二）部分公开"`` or
    ``"column 自然人"`` (the labels of :func:`cell_label`)."""
    c = _compiled(version, ident.table)
    if ident.each == "row":
        return f"row {c.row_labels[ident.line]}"
    return f"column {c.col_labels[ident.line]}"


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
        if k not in values:
            nums.append(_NAN)
            continue
        v = values[k]
        if v is None:
            nums.append(0)
            blanks.append(i)
        else:
            nums.append(v)
    return _run(c, nums, blanks, units)[0]


on_reload(_compiled.cache_clear)
