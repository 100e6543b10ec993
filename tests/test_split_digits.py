"""The splitter's "decided by the digits alone" pass agrees with enumerating
every cut (template-spec §7.4 split digits)."""

import random

from gipextract.split import Column, RowRun, decided_by_digits, row_candidates


def _by_enumeration(run, columns):
    free = RowRun(columns, run)
    row_candidates(free, [])
    return [len({c[j][0] for c in free.candidates}) == 1 and not free.truncated for j in range(len(columns))]


def test_decided_by_digits_equals_enumeration_on_random_runs():
    rnd = random.Random(11)
    alphabet = "0123456789" * 4 + " /—-.元"
    checked = 0
    for _ in range(3000):
        run = "".join(rnd.choice(alphabet) for _ in range(rnd.randrange(1, 12))).strip()
        if not any(ch.isdigit() for ch in run):
            continue
        kinds = [rnd.choice(["count", "count", "signed", "money"]) for _ in range(rnd.randrange(1, 6))]
        columns = [Column(f"c{i}", k) for i, k in enumerate(kinds)]
        assert decided_by_digits(run, columns) == _by_enumeration(run, columns), (run, kinds)
        checked += 1
    assert checked > 2000


def test_decided_by_digits_on_known_runs():
    cols = [Column(f"c{i}", "count") for i in range(3)]
    assert decided_by_digits("004", cols) == [True, True, True]
    assert decided_by_digits("12358", cols) == [False, False, False]
    assert decided_by_digits("1 2 358", cols) == [True, True, True]
    assert decided_by_digits("1 2358", cols) == [True, False, False]
