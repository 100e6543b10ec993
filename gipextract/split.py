"""Split: cut value runs into cells, choosing the cuts the identities allow
(template-spec §6, §7.2 "split digits").

A *value run* is what a crawler leaves of a table row: its cells' texts run
together (``640020470``, ``230 000023``, ``2648-18538``,
``13575394432.52元``).  The format fixes how many cells the row has; the
identities (勾稽关系) fix how they relate.  For each row this module
enumerates the ways to cut its run into that many cells, then keeps the
assignments under which every identity holds:

* **pieces**: whitespace separates pieces and a cell never spans one (hard
  boundaries); a sign (``-18``) starts a cell; a decimal fraction and a unit
  (``.52元``) end one; a dash (``/``, ``—``) is a cell of its own;
* **blanks**: a crawler prints nothing for a blank cell.  In a row no
  identity checks (表二) a blank may therefore have vanished anywhere, and
  those cuts are candidates too (``134`` may be 1 3 4 or ∅ 1 34 …).  Rows the
  identities check (表三, 表四) are cut with every cell printed: a vanished
  blank there leaves no cut that satisfies them, and the row is unreadable;
* **cells**: no leading zeros (``07`` is never a cell), at most
  :data:`MAX_DIGITS` digits, a sign only in a signed column (V2019 本年增/减),
  a fraction only in a money column;
* **row identities** (T3-B, T4-A) prune while enumerating: the cell that closes
  an identity must spell the value the others imply, so it never branches;
* **table identities** (T3-A, T3-C) are solved jointly over the rows they
  join, rows with fewest candidates first.

A cell on which every surviving assignment agrees is recovered (flag
``split_recovered``).  A cell on which they disagree is left null (flag
``ambiguous``) with a finding listing the candidates: never a guess.  When no
assignment satisfies every identity (the report itself breaks one), only the
row identities are used and the table identities are left to the validator.

How the search runs (the answers do not depend on it): a run's cells are
worked out once per position and column kind (:class:`_Lattice`) and shared
by the row search, the digits pass and the rows of one table that print the
same run; a row no identity checks is cut with each (column, position) solved
once; a row with identities is searched depth first, one call per step, and
every search counts the steps of that depth-first search, so
:data:`MAX_ROW_STEPS` cuts a row off exactly where it always has.  A table
whose rows each have one cut skips the joint search.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from .identities import Identity, identities
from .templates import on_reload
from .values import DASH_CHARS, MAX_DIGITS, MINUS_CHARS, MONEY, SIGNED, exact_number, is_dash, is_value_run

#: Stop enumerating a row after this many candidates (the row is then ambiguous).
MAX_ROW_CANDIDATES = 5000
#: Stop enumerating a row after trying this many cell cuts (the row is then ambiguous).
MAX_ROW_STEPS = 20_000
#: At most this many candidate cuts are listed in an ``ambiguous`` finding.
MAX_LISTED = 20
#: Stop the joint search after this many complete assignments.
MAX_SOLUTIONS = 256
#: Stop the joint search after visiting this many partial assignments.
MAX_STEPS = 200_000

_PIECE = re.compile(r"(?P<sign>[+-])?(?P<int>\d+)(?:\.(?P<frac>\d+))?(?P<unit>万元|元)?")
# Scanning form of a run (same length): minus signs as "-", full-width "+" and "." as ASCII.
_SCAN = str.maketrans({**dict.fromkeys(MINUS_CHARS, "-"), "＋": "+", "．": "."})


def _unit(raw: str | None) -> str | None:
    """The unit (``元``/``万元``) a cut cell's text ends with, or ``None``."""
    if not raw or not raw.endswith("元"):
        return None
    return "万元" if raw.endswith("万元") else "元"


def is_run(text: str) -> bool:
    """True if ``text`` is a value run (:func:`gipextract.values.is_value_run`,
    the one rule): digits, spaces, signs, decimal points, dashes, 元/万元, and
    at least one digit."""
    return is_value_run(text)


@dataclass(frozen=True, slots=True)
class Equation:
    """One identity instance: ``Σ coef·cell = 0`` over canonical keys, e.g.
    T3-B of row 一: ``natural_person + … + other_org − total = 0``."""

    rule: str
    keys: tuple[str, ...]
    coefs: tuple[int, ...]
    identity: Identity | None = None  # the compiled identity it comes from


@dataclass(frozen=True, slots=True)
class Piece:
    """A stretch of a run between hard boundaries: an optional sign, integer
    digits, an optional fraction and unit; or a run of dash characters
    (``dash``; one dash cell or several)."""

    sign: str
    digits: str
    frac: str | None = None
    unit: str | None = None
    dash: str | None = None


def pieces(run: str) -> list[Piece] | None:
    """The pieces of ``run``, or ``None`` if it holds something that is no
    value (a comma inside a run, a fraction in the middle of digits…).  A
    minus (:data:`~gipextract.values.MINUS_CHARS`) directly before a digit is
    a sign; any other run of dash characters is one or more dash cells."""
    out: list[Piece] = []
    for chunk in run.replace("，", ",").split():
        scan = chunk.translate(_SCAN)
        pos = 0
        while pos < len(chunk):
            sign = scan[pos] == "-" and pos + 1 < len(chunk) and chunk[pos + 1].isdigit()
            if chunk[pos] in DASH_CHARS and not sign:
                end = pos + 1
                while end < len(chunk) and chunk[end] in DASH_CHARS:
                    end += 1
                if not is_dash(chunk[pos:end]):
                    return None
                out.append(Piece("", "", dash=chunk[pos:end]))
                pos = end
                continue
            m = _PIECE.match(scan, pos)
            if not m or m.end() == pos:
                return None
            out.append(Piece(m["sign"] or "", m["int"], m["frac"], m["unit"]))
            pos = m.end()
    return out


@dataclass(slots=True)
class Column:
    """What a cell may hold: its canonical key and value kind."""

    key: str
    kind: str


@dataclass(slots=True)
class RowRun:
    """A row waiting to be split: its columns in order and its run text."""

    columns: list[Column]
    run: str
    where: str | None = None
    candidates: list[tuple] = field(default_factory=list)  # tuples of (value, raw) per column
    truncated: bool = False
    blanks: bool = False  # a blank cell may have vanished from the run (a crawler prints nothing for it)


def _cell_value(sign: str, digits: str, frac: str | None, kind: str):
    if len(digits) > 1 and digits[0] == "0":
        return None
    if frac is not None and kind != MONEY:
        return None
    if sign and kind != SIGNED:
        return None
    if frac is None:  # the search never cuts more than MAX_DIGITS digits: an int is exact
        return -int(digits) if sign == "-" else int(digits)
    return exact_number(sign, digits, frac)


def row_candidates(row: RowRun, equations: list[Equation], limit: int = MAX_ROW_CANDIDATES,
                   memo: dict | None = None) -> None:
    """Fill ``row.candidates`` with every cut of ``row.run`` into
    ``len(row.columns)`` cells that satisfies ``equations`` (which must only
    involve this row's keys).  Each candidate is a tuple of ``(value, raw)``
    per column; a dash cell is ``(None, "/")``.  Sets ``row.truncated`` when
    more than ``limit`` exist (the row is then ambiguous).  ``memo`` (a dict the caller keeps
    for one table) remembers small results: the same run recurs
    (``0000000`` in many rows)."""
    index = {c.key: i for i, c in enumerate(row.columns)}
    shape = tuple((tuple(index[k] for k in eq.keys), eq.coefs) for eq in equations)
    if memo is None:
        _enumerate(row, shape, limit)
        return
    key = (row.run, tuple(c.kind for c in row.columns), row.blanks, shape, limit)
    hit = memo.get(key)
    if hit is None:
        _enumerate(row, shape, limit, memo)
        if len(row.candidates) <= _MEMO_KEEP:
            memo[key] = (tuple(row.candidates), row.truncated)
    else:
        row.candidates, row.truncated = list(hit[0]), hit[1]


#: The most candidates of one run a memo keeps.
_MEMO_KEEP = 64


class _Lattice:
    """The places a run can be cut at, and the cells between them.

    A *position* counts the run's digit and dash characters before it (signs,
    fractions and units are part of the cell that ends or starts there); the
    end of one piece is the start of the next, so a position stands for one
    ``(piece, offset)`` and :attr:`total` is the end of the run."""

    __slots__ = ("ps", "total", "at", "_tables")

    def __init__(self, ps: list[Piece]):
        self.ps = ps
        self.at: list[tuple[int, int]] = []  # position → (piece, offset)
        for p, piece in enumerate(ps):
            self.at.extend((p, off) for off in range(len(piece.dash if piece.dash is not None else piece.digits)))
        self.total = len(self.at)
        self.at.append((len(ps), 0))
        self._tables: dict[str, list[list[tuple] | None]] = {}

    def table(self, kind: str) -> list[list[tuple] | None]:
        """Per position, :meth:`moves` for ``kind`` once worked out, else ``None``
        (for a caller that looks them up often)."""
        out = self._tables.get(kind)
        if out is None:
            out = self._tables[kind] = [None] * (self.total + 1)
        return out

    def moves(self, pos: int, kind: str) -> list[tuple]:
        """The cells a column of ``kind`` can take from ``pos``, shortest first:
        ``(value, raw, next position, characters taken)``; a dash cell's value
        is ``None``.  Empty at the end of the run."""
        table = self.table(kind)
        out = table[pos]
        return out if out is not None else self.fill(table, pos, kind)

    def fill(self, table: list[list[tuple] | None], pos: int, kind: str) -> list[tuple]:
        """Work out :meth:`moves` into ``table`` (:meth:`table` of ``kind``) at ``pos``."""
        out = table[pos] = []
        p, off = self.at[pos]
        if p == len(self.ps):
            return out
        piece = self.ps[p]
        if piece.dash is not None:
            rest = piece.dash[off:]
            for length in range(1, len(rest) + 1):
                token = rest[:length]
                if is_dash(token):
                    out.append((None, token, pos + length, length))
            return out
        rest = piece.digits[off:]
        sign = piece.sign if off == 0 else ""
        if sign and kind != SIGNED:
            return out
        # as _cell_value: no leading zero (a cell starting with 0 is 0), a fraction only where the piece ends
        negative = sign == "-"
        for length in (1,) if rest[0] == "0" else range(1, min(MAX_DIGITS, len(rest)) + 1):
            if length < len(rest):
                digits = rest[:length]
                out.append((-int(digits) if negative else int(digits), sign + digits if sign else digits,
                            pos + length, length))
                continue
            v = _cell_value(sign, rest, piece.frac, kind)
            if v is not None:
                raw = sign + rest + (f".{piece.frac}" if piece.frac else "") + (piece.unit or "")
                out.append((v, raw, pos + length, length))
        return out


def _lattice(run: str, memo: dict | None) -> _Lattice | None:
    """The :class:`_Lattice` of ``run`` (kept in ``memo``), or ``None`` when it holds no value."""
    key = ("lattice", run)
    if memo is not None and key in memo:
        return memo[key]
    ps = pieces(run)
    lat = None if ps is None else _Lattice(ps)
    if memo is not None:
        memo[key] = lat
    return lat


def _plan(shape: tuple) -> tuple[dict[int, list[tuple]], dict[int, int]]:
    """For equations of ``shape`` (each ``(column indexes, coefficients)``):
    the equations each column closes (it is the last of their cells), as
    ``(indexes, coefficients, position of that column)``, and for each part
    with a positive coefficient the column of the total it adds up to."""
    closing: dict[int, list[tuple]] = {}
    for idx, coefs in shape:
        last = max(idx)
        closing.setdefault(last, []).append((idx, coefs, idx.index(last)))
    total_of = {i: max(idx) for eqs in closing.values() for idx, coefs, _ in eqs for i, c in zip(idx, coefs) if c > 0}
    return closing, total_of


class _OverBudget(Exception):
    """The search would pass :data:`MAX_ROW_STEPS` or its limit of candidates."""


def _free_cuts(lat: _Lattice, kinds: list[str], blanks: bool, limit: int) -> list[tuple]:
    """The cuts of a row no identity checks: :func:`_enumerate`'s search (same
    candidates, same order), with what is left to cut from each column and
    position worked out once.  It counts the calls the step-by-step search
    makes; :raises _OverBudget: when that search would stop early (then
    :func:`_enumerate` runs it, and cuts the row off where it always has)."""
    n, total, at, n_ps = len(kinds), lat.total, lat.at, len(lat.ps)
    tables = [lat.table(k) for k in kinds]
    done: dict[int, tuple[list[tuple], int]] = {}
    blank = (None, "")

    def rest(col: int, pos: int) -> tuple[list[tuple], int]:
        """(the cuts from ``col`` on, as tuples of cells; the search's calls for them)."""
        key = col * (total + 1) + pos
        hit = done.get(key)
        if hit is not None:
            return hit
        found: list[tuple] = []
        calls = 1
        if col == n:
            if pos == total:
                found.append(())
        elif col == n - 1 and pos < total:  # the last cell: the moves that end the run (each move one call)
            if not (n_ps - at[pos][0] > 1 or total - pos > MAX_DIGITS):
                moves = tables[col][pos]
                moves = moves if moves is not None else lat.moves(pos, kinds[col])
                calls += len(moves)
                found = [((v, raw),) for v, raw, nxt, _ in moves if nxt == total]
        elif pos == total:  # the run is used up: the cells left can only be vanished blanks
            if blanks:
                sub, k = rest(col + 1, pos)
                calls += k
                found = [(blank, *s) for s in sub]
        else:
            cells_left = n - col
            pieces_left = n_ps - at[pos][0]
            left = total - pos
            if not (cells_left < pieces_left or (cells_left > left and not blanks) or left > cells_left * MAX_DIGITS):
                if blanks and cells_left - 1 >= pieces_left:
                    sub, k = rest(col + 1, pos)  # this cell printed nothing
                    calls += k
                    found = [(blank, *s) for s in sub]
                moves = tables[col][pos]
                for v, raw, nxt, _ in moves if moves is not None else lat.moves(pos, kinds[col]):
                    sub, k = rest(col + 1, nxt)
                    calls += k
                    cell = (v, raw)
                    found += [(cell, *s) for s in sub]
        if calls > MAX_ROW_STEPS or len(found) > limit:
            raise _OverBudget
        done[key] = result = (found, calls)
        return result

    return rest(0, 0)[0]


def _enumerate(row: RowRun, shape: tuple, limit: int, memo: dict | None = None) -> None:
    """:func:`row_candidates` without the memo of results, for equations of
    ``shape`` (each ``(column indexes, coefficients)``); ``memo`` keeps the
    run's :class:`_Lattice` and the plan of each shape.  A depth-first search
    over the columns: each step, one call, counts toward :data:`MAX_ROW_STEPS`."""
    lat = _lattice(row.run, memo)
    row.candidates, row.truncated = [], False
    if lat is None:
        return
    if not shape:
        try:
            row.candidates = _free_cuts(lat, [c.kind for c in row.columns], row.blanks, limit)
            return
        except _OverBudget:
            pass  # the search below stops where it always has
    ps, total, at = lat.ps, lat.total, lat.at
    n_ps = len(ps)
    n = len(row.columns)
    kinds = [c.kind for c in row.columns]
    tables = [lat.table(k) for k in kinds]
    blanks = row.blanks
    if memo is None:
        closing, total_of = _plan(shape)
    else:
        plan = memo.get(("plan", shape))
        if plan is None:
            plan = memo[("plan", shape)] = _plan(shape)
        closing, total_of = plan
    values: list = [None] * n
    raws: list = [None] * n
    out = row.candidates
    steps = 0

    def required(col: int):
        """The value an identity closed by ``col`` forces, or ``None`` if free."""
        need = None
        for idx, coefs, pos in closing[col]:
            coef = coefs[pos]
            rest = 0
            for i, c in zip(idx, coefs):
                if i != col:
                    rest += c * (values[i] or 0)
            if rest % coef:
                return False
            v = -rest // coef
            if need is not None and need != v:
                return False
            need = v
        return need

    def place(col: int, pos: int) -> None:
        nonlocal steps
        steps += 1
        if len(out) > limit or steps > MAX_ROW_STEPS:
            return
        if col == n:
            if pos == total:
                out.append(tuple(zip(values, raws)))
            return
        need = required(col) if col in closing else None
        if pos == total:  # the run is used up: the cells left can only be vanished blanks
            if blanks and need in (None, 0):
                values[col], raws[col] = None, ""
                place(col + 1, pos)
            return
        cells_left = n - col
        p, off = at[pos]
        pieces_left = n_ps - p
        left = total - pos
        if cells_left < pieces_left or (cells_left > left and not blanks) or left > cells_left * MAX_DIGITS:
            return
        if blanks and cells_left - 1 >= pieces_left and need in (None, 0):
            values[col], raws[col] = None, ""  # this cell printed nothing
            place(col + 1, pos)
        piece = ps[p]
        if piece.dash is not None:
            # a run of dashes is one dash cell or several (`//` may be 「/」「/」)
            if need not in (None, 0):
                return
            moves = tables[col][pos]
            for _, token, nxt, _ in moves if moves is not None else lat.moves(pos, kinds[col]):
                values[col], raws[col] = None, token
                place(col + 1, nxt)
            return
        if need is False:
            return
        if need is not None:  # the identity spells this cell: one cut at most
            rest = piece.digits[off:]
            sign = piece.sign if off == 0 else ""
            spelled = str(abs(need)) if not isinstance(need, float) else None
            if spelled is None or len(spelled) > len(rest) or (need < 0) != (sign == "-") \
                    or not rest.startswith(spelled):
                return
            length = len(spelled)
            whole = length == len(rest)
            frac = piece.frac if whole else None
            v = _cell_value(sign, rest[:length], frac, kinds[col])
            if v is None or v != need:
                return
            values[col] = v
            raws[col] = f"{sign}{rest[:length]}" + (f".{frac}" if frac else "") + ((piece.unit or "") if whole else "")
            place(col + 1, pos + length)
            return
        table = tables[col]
        moves = table[pos]
        if moves is None:
            moves = lat.fill(table, pos, kinds[col])
        # the total comes later and has at least as many digits as this part,
        # after one digit at least for each cell in between: 2·x ≤ digits left − between
        room = left - (total_of[col] - col - 1) if col in total_of else MAX_DIGITS * 2
        for v, raw, nxt, length in moves:  # shortest first
            if 2 * length > room:
                break
            values[col], raws[col] = v, raw
            place(col + 1, nxt)

    place(0, 0)
    if len(out) > limit or steps > MAX_ROW_STEPS:
        row.truncated = True
        del out[limit:]


def solve(rows: list[RowRun], equations: list[Equation], fixed: dict[str, int | float | None]
          ) -> tuple[list[dict[str, tuple]], bool]:
    """Every joint choice of one candidate per row under which ``equations``
    hold, given the values of ``fixed`` cells (null counts 0, spec §7.2).

    :returns: ``(solutions, complete)``: each solution maps a key to its
        ``(value, raw)``; ``complete`` is False when the search stopped at
        :data:`MAX_SOLUTIONS` or :data:`MAX_STEPS` (then the solutions are a
        subset and the caller must treat disagreement as possible).
    """
    order = sorted(range(len(rows)), key=lambda i: len(rows[i].candidates))
    owner = {c.key: i for i, r in enumerate(rows) for c in r.columns}
    # check each equation as soon as the last of its rows is placed
    due: dict[int, list[Equation]] = {}
    rank = {i: k for k, i in enumerate(order)}
    for eq in equations:
        rows_in = [owner[k] for k in eq.keys if k in owner]
        if not rows_in:
            continue
        due.setdefault(max(rows_in, key=rank.__getitem__), []).append(eq)
    assigned: dict[str, tuple] = {}
    solutions: list[dict[str, tuple]] = []
    steps = 0

    def value(key: str) -> float:
        if key in assigned:
            return assigned[key][0] or 0
        return fixed.get(key) or 0

    def search(k: int) -> bool:
        nonlocal steps
        if k == len(order):
            solutions.append(dict(assigned))
            return len(solutions) < MAX_SOLUTIONS
        i = order[k]
        row = rows[i]
        for cand in row.candidates:
            steps += 1
            if steps > MAX_STEPS:
                return False
            for col, vr in zip(row.columns, cand):
                assigned[col.key] = vr
            if all(abs(sum(c * value(key) for key, c in zip(eq.keys, eq.coefs))) < 1e-6 for eq in due.get(i, ())):
                if not search(k + 1):
                    return False
        for col in row.columns:
            assigned.pop(col.key, None)
        return True

    complete = search(0)
    return solutions, complete


def equations(tt) -> list[Equation]:
    """The equality identities of table template ``tt`` (the ``=`` rules of
    its ``[[identities]]`` data: T3-A, T3-B, T3-C, T4-A; template-spec §6) as
    equations ``Σ left − Σ right = 0`` over canonical keys.  Plausibility
    rules (``<=``/``>=``) never decide a cut."""
    return list(_equations(tt.version, tt.name)[0])


@cache
def _equations(version: str, table: str) -> tuple[tuple[Equation, ...], frozenset[str]]:
    """:func:`equations` of ``version``'s ``table``, and every key they involve."""
    eqs = tuple(Equation(i.rule, i.left + i.right, (1,) * len(i.left) + (-1,) * len(i.right), i)
                for i in identities(version, table) if i.op == "=")
    return eqs, frozenset(k for e in eqs for k in e.keys)


on_reload(_equations.cache_clear)


@dataclass(slots=True)
class Recovered:
    """The outcome for one cell of a split row: its ``value`` (``None`` when
    ambiguous or a dash), the ``raw`` text it came from, its ``flag``
    (``split_recovered``, ``dash``, ``blank``, ``ambiguous``), how it was
    decided (``digits``: by the digit count alone; ``row``: by the row's
    identities; ``table``: by identities across rows; ``None`` for an
    ambiguous cell), the ``unit`` printed with it (``元``/``万元``) when every
    candidate cut agrees on one, even if they disagree on the number, and the
    equations ``used`` to choose the cut (empty when the digits alone decided:
    they hold by construction, so they are no evidence for the cell)."""

    value: int | float | None
    raw: str
    flag: str
    how: str | None
    unit: str | None = None
    used: tuple[Equation, ...] = ()


def decided_by_digits(run: str, columns: list[Column]) -> list[bool]:
    """For each column, True if every cut of ``run`` into ``columns`` (no
    identity, every cell printed) gives it the same value: the digits alone
    decide it.  A reachability pass over the cut positions, linear in the
    run's length times the number of columns (no enumeration of the cuts)."""
    return _decided_by_digits(_lattice(run, None), [c.kind for c in columns])


def _decided_by_digits(lat: _Lattice | None, kinds: list[str]) -> list[bool]:
    """:func:`decided_by_digits` on the run's lattice (``None``: no value)."""
    n = len(kinds)
    if lat is None or n == 0:
        return [False] * n
    ps, total, at = lat.ps, lat.total, lat.at
    if total == n and all(not p.sign and p.frac is None for p in ps):
        # one digit or dash character per cell: a single cut (every one-character dash is a dash cell)
        return [True] * n
    n_ps = len(ps)
    fwd: list[set[int]] = [{0}]
    # forward: the positions each column can start at, keeping only those that leave at least
    # one character and one cell per piece for the columns after (the others reach no end)
    for j, kind in enumerate(kinds):
        after = n - j - 1
        table = lat.table(kind)
        fwd.append({t for st in fwd[-1] for _, _, t, _ in (table[st] or lat.moves(st, kind))
                    if total - t >= after and n_ps - at[t][0] <= after})
    # backward: the positions from which the run can be finished
    reach: set[int] = {total} if total in fwd[n] else set()
    out = [False] * n
    for j in range(n - 1, -1, -1):
        kind = kinds[j]
        here: set[int] = set()
        vals = set()
        table = lat.table(kind)
        for st in fwd[j]:
            for v, _, t, _ in table[st] or ():  # worked out by the forward pass
                if t in reach:
                    here.add(st)
                    vals.add(v)
        out[j] = len(vals) == 1
        reach = here
    return out


def _decided(row: RowRun, j: int, value, raw: str, by_digits: list[bool], row_used: tuple,
             group_used: tuple) -> Recovered:
    """Cell ``j`` of ``row``, on which every cut agrees: flag ``split_recovered``
    (``dash``, ``blank`` for no number), and what decided it: its digits alone,
    the row's identities (``row_used``), or those across rows too (``group_used``)."""
    flag = "split_recovered" if value is not None else "dash" if raw else "blank"
    if by_digits[j]:
        return Recovered(value, raw, flag, "digits", None, ())
    if len(row.candidates) == 1 or len({c[j][0] for c in row.candidates}) == 1:
        return Recovered(value, raw, flag, "row", None, row_used)
    return Recovered(value, raw, flag, "table", None, row_used + group_used)


def _digits_of(row: RowRun, memo: dict) -> list[bool]:
    """:func:`decided_by_digits` of ``row``, kept in ``memo`` by run and column kinds."""
    key = (row.run, tuple(c.kind for c in row.columns))
    out = memo.get(key)
    if out is None:
        out = memo[key] = _decided_by_digits(_lattice(row.run, memo), list(key[1]))
    return out


def recover(tt, rows: list[RowRun], fixed: dict[str, int | float | None]) -> tuple[dict[str, Recovered], list[tuple]]:
    """Split ``rows`` (value runs of table template ``tt``) into cells.

    :param fixed: the table's cells that were read normally and are known:
        a number, or ``None`` for a printed dash or 无 (counts 0, spec §7.2).
        An identity that involves any other cell (blank, unreadable, missing)
        is not used: an unknown value must never steer a cut.
    :returns: ``(cells, ambiguities)``: the outcome per canonical key of every
        column of ``rows``, and for each row with an ambiguous cell a tuple
        ``(row, ambiguous keys, candidate value tuples)`` for the finding.
        A row with no possible cut at all is absent from ``cells``; the caller
        reports it as unreadable.
    """
    eqs, in_any = _equations(tt.version, tt.name)
    memo: dict = {}
    keys_of = [{c.key for c in r.columns} for r in rows]
    row_of = {k: i for i, ks in enumerate(keys_of) for k in ks}
    # the row each equation lies in wholly, or None (an equation across rows, or over cells read normally)
    home: list[int | None] = []
    for e in eqs:
        at = {row_of.get(k, -1) for k in e.keys}
        home.append(at.pop() if len(at) == 1 and -1 not in at else None)
    local: list[list[Equation]] = [[] for _ in rows]
    for e, h in zip(eqs, home):
        if h is not None:
            local[h].append(e)
    for r, loc, ks in zip(rows, local, keys_of):
        # No identity checks this row (表二): a blank cell the crawler dropped would go unnoticed,
        # so cuts with vanished blanks are candidates too.  Checked rows (表三, 表四) are cut
        # with every cell printed; a vanished blank there makes the identities fail.
        r.blanks = not (ks & in_any)
        row_candidates(r, loc, memo=memo)
    pending_keys = set().union(*keys_of) if rows else set()
    splittable = set().union(*(ks for ks, r in zip(keys_of, rows) if r.candidates)) if rows else set()
    cross = [e for e, h in zip(eqs, home) if h is None and not pending_keys.isdisjoint(e.keys)
             and all(k in fixed or k in splittable for k in e.keys)]
    # connected components of rows through the cross-row equations
    parent = list(range(len(rows)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner = {k: i for i, ks in enumerate(keys_of) for k in ks}
    for e in cross:
        idx = {owner[k] for k in e.keys if k in owner}
        root = find(min(idx))
        for a in idx:
            top = find(a)
            if top != root:
                parent[top] = root
    comps: dict[int, list[int]] = {}
    for i in range(len(rows)):
        if rows[i].candidates:
            comps.setdefault(find(i), []).append(i)

    cells: dict[str, Recovered] = {}
    ambiguous: list[tuple] = []
    for members in comps.values():
        group = [rows[i] for i in members]
        sols: list[dict[str, tuple]]
        if all(len(r.candidates) == 1 for r in group):
            # one cut per row: the joint search could only confirm it (or find the report breaks an
            # identity, and leave the cuts as they are); no cell is decided by the table
            group_eqs, sols, complete = [], [], True
        else:
            group_keys = set().union(*(keys_of[i] for i in members))
            group_eqs = [e for e in cross if not group_keys.isdisjoint(e.keys)]
            sols, complete = solve(group, group_eqs, fixed) if group_eqs else ([], True)
        by_table = bool(group_eqs) and bool(sols)
        group_used = tuple(group_eqs)
        for i in members:
            row = rows[i]
            keys = [c.key for c in row.columns]
            if by_table:
                options = {tuple(s[k] for k in keys) for s in sols}
            else:
                options = set(row.candidates)
            sure = complete and not row.truncated
            by_digits = None  # worked out for the first cell decided
            row_used = tuple(local[i])
            if len(options) == 1 and sure and keys:  # the usual case: one cut, every cell decided
                by_digits = _digits_of(row, memo)
                for j, (key, (value, raw)) in enumerate(zip(keys, next(iter(options)))):
                    cells[key] = _decided(row, j, value, raw, by_digits, row_used, group_used)
                continue
            # per column: the one (value, raw) every option agrees on, or all of them
            per_column = [(vr,) for vr in next(iter(options))] if len(options) == 1 else list(zip(*options))
            amb = []
            for j, key in enumerate(keys):
                col = per_column[j]
                vals = {col[0][0]} if len(col) == 1 else {vr[0] for vr in col}
                if len(vals) == 1 and sure:
                    raws = {col[0][1]} if len(col) == 1 else {vr[1] for vr in col}
                    value, raw = vals.pop(), raws.pop() if len(raws) == 1 else row.run
                    if by_digits is None:
                        by_digits = _digits_of(row, memo)
                    cells[key] = _decided(row, j, value, raw, by_digits, row_used, group_used)
                else:
                    units = {_unit(raw) for raw in {vr[1] for vr in col}}
                    unit = units.pop() if len(units) == 1 else None
                    cells[key] = Recovered(None, row.run, "ambiguous", None, unit)
                    amb.append(key)
            if amb:
                ambiguous.append((row, amb, sorted({tuple(v for v, _ in o) for o in options}, key=str)[:MAX_LISTED]))
    return cells, ambiguous
