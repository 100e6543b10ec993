"""The splitter's cut search is exhaustive in what it decides (template-spec
§7.4 split digits): on small generated rows it returns exactly the cuts a
brute-force enumeration finds, so when it returns one cut no other cut fits
the identities, and when it returns several the cell stays ambiguous."""

from __future__ import annotations

import random
from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from gipextract.split import (
    Column,
    Equation,
    RowRun,
    _cell_value,
    pieces,
    row_candidates,
)
from gipextract.values import MAX_DIGITS, is_dash


def _splits(text: str):
    """Every way to cut ``text`` into consecutive non-empty parts."""
    for k in range(len(text)):
        for cuts in combinations(range(1, len(text)), k):
            bounds = (0, *cuts, len(text))
            yield [text[a:b] for a, b in zip(bounds, bounds[1:])]


def _tokens(piece) -> list[list[tuple]]:
    """Every way to cut one piece into consecutive cells: lists of (sign, digits, fraction, unit) or (dash,)."""
    if piece.dash is not None:
        return [[(p,) for p in parts] for parts in _splits(piece.dash) if all(is_dash(p) for p in parts)]
    out = []
    for parts in _splits(piece.digits):
        if any(len(p) > MAX_DIGITS for p in parts):
            continue
        cells = [("", p, None, None) for p in parts]
        cells[0] = (piece.sign, *cells[0][1:])
        cells[-1] = (cells[-1][0], cells[-1][1], piece.frac, piece.unit)
        out.append(cells)
    return out


def brute_force(run: str, kinds: list[str], equations: list[tuple[list[int], list[int]]], blanks: bool) -> set:
    """Every cut of ``run`` into cells of ``kinds`` under ``equations`` (column
    indexes, coefficients), enumerated without any pruning; a blank that
    vanished may sit anywhere when ``blanks``."""
    ps = pieces(run)
    if ps is None:
        return set()
    cuts: list[list[tuple]] = [[]]
    for piece in ps:
        cuts = [c + t for c in cuts for t in _tokens(piece)]
    n = len(kinds)
    out = set()
    for cut in cuts:
        if len(cut) > n or (len(cut) < n and not blanks):
            continue
        for printed in combinations(range(n), len(cut)):
            cells: list = [(None, "")] * n
            ok = True
            for col, tok in zip(printed, cut):
                if len(tok) == 1:
                    cells[col] = (None, tok[0])
                    continue
                sign, digits, frac, unit = tok
                v = _cell_value(sign, digits, frac, kinds[col])
                if v is None:
                    ok = False
                    break
                cells[col] = (v, f"{sign}{digits}" + (f".{frac}" if frac else "") + (unit or ""))
            if ok and all(sum(c * (cells[i][0] or 0) for i, c in zip(idx, coefs)) == 0 for idx, coefs in equations):
                out.add(tuple(cells))
    return out


def _check(run: str, kinds: list[str], equations: list[tuple[list[int], list[int]]], blanks: bool) -> None:
    row = RowRun([Column(f"c{i}", k) for i, k in enumerate(kinds)], run, blanks=blanks)
    eqs = [Equation("E", tuple(f"c{i}" for i in idx), tuple(coefs)) for idx, coefs in equations]
    row_candidates(row, eqs)
    assert not row.truncated
    assert len(set(row.candidates)) == len(row.candidates)
    assert set(row.candidates) == brute_force(run, kinds, equations, blanks), (run, kinds, equations, blanks)


RUN = st.lists(st.sampled_from(list("0123456789") * 3 + [" ", "/", "—"]), min_size=1, max_size=9).map(
    lambda cs: "".join(cs).strip()).filter(lambda s: any(ch.isdigit() for ch in s))


@settings(max_examples=300, deadline=None)
@given(RUN, st.integers(2, 6))
def test_cuts_of_a_row_with_its_total_are_those_brute_force_finds(run, n):
    # a row identity as T3-B or T4-A: the parts add up to the last cell (a row an identity checks is cut
    # with every cell printed: recover allows vanished blanks only where no identity looks)
    _check(run, ["count"] * n, [(list(range(n)), [1] * (n - 1) + [-1])], False)


@settings(max_examples=300, deadline=None)
@given(RUN, st.integers(1, 4), st.booleans())
def test_cuts_of_a_row_no_identity_checks_are_those_brute_force_finds(run, n, blanks):
    _check(run, ["count"] * n, [], blanks)


def test_cuts_under_several_identities_and_kinds_are_those_brute_force_finds():
    rnd = random.Random(7)
    alphabet = "0123456789" * 4 + " /-.元"
    checked = 0
    for _ in range(1500):
        run = "".join(rnd.choice(alphabet) for _ in range(rnd.randrange(1, 10))).strip()
        if not any(ch.isdigit() for ch in run):
            continue
        n = rnd.randrange(1, 7)
        kinds = [rnd.choice(["count", "count", "signed", "money"]) for _ in range(n)]
        equations = []
        for _ in range(rnd.choice([0, 1, 2]) if n > 1 else 0):
            idx = sorted(rnd.sample(range(n), rnd.randrange(2, n + 1)))
            equations.append((idx, [1] * (len(idx) - 1) + [-1]))  # parts, then their total
        if any(kinds[i] != "count" for idx, _ in equations for i in idx):
            continue  # a part can only be bounded by its total's digits when no part is negative
        _check(run, kinds, equations, not equations and rnd.random() < 0.5)
        checked += 1
    assert checked > 500
