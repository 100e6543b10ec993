"""One value-run rule, linear-time scanning and numbers that cannot be wrong
(template-spec §7.2)."""

import time
from pathlib import Path

import pytest

from gipextract import read_report
from gipextract.split import Column, RowRun, is_run, pieces, row_candidates
from gipextract.unflatten import _Search, _value_run
from gipextract.values import (
    DASH_CHARS,
    MAX_DIGITS,
    MINUS_CHARS,
    VALUE_RUN,
    exact_number,
    is_value_run,
    looks_like_value,
    parse_value,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

# every dash or minus character as a cell may print it: ASCII, U+2212, full-width, small form, hyphens, dashes
VARIANTS = list(dict.fromkeys(MINUS_CHARS + DASH_CHARS + "‑"))


@pytest.mark.parametrize("ch", VARIANTS)
def test_every_dash_and_minus_is_a_value_character_to_every_caller(ch):
    text = f"{ch}5"
    assert looks_like_value(text)            # readers, locate, reconstruct
    assert is_run(text) and is_value_run(text)  # the splitter
    search = _Search("规章" + text + "行政规范性文件")
    assert _value_run(search, 2, len(search.text) - 7) == text  # unflatten
    assert looks_like_value(ch)              # a dash alone is a data cell (dash or minus)
    assert parse_value(ch).flag == "dash"


@pytest.mark.parametrize("ch", list(MINUS_CHARS))
def test_a_minus_before_digits_is_a_sign_to_parse_value_and_the_splitter(ch):
    assert parse_value(f"{ch}5", "signed").value == -5
    (piece,) = pieces(f"{ch}5")
    assert (piece.sign, piece.digits, piece.dash) == ("-", "5", None)


@pytest.mark.parametrize("ch", [c for c in DASH_CHARS if c not in MINUS_CHARS])
def test_a_dash_before_digits_is_a_dash_cell_to_both(ch):
    assert parse_value(f"{ch}5", "signed").flag == "unreadable"  # two cells, not one number
    ps = pieces(f"{ch}5")
    assert [p.dash for p in ps] == [ch, None] and ps[1].digits == "5"
    row = RowRun([Column("a", "count"), Column("b", "count")], f"{ch}5")
    row_candidates(row, [])
    assert row.candidates == [((None, ch), (5, "5"))]


def test_labels_stay_labels():
    for text in ("规章", "（七）总计", "2019年", "本年增/减", "1.属于国家秘密"):
        assert not looks_like_value(text) and not is_value_run(text)


def _seconds(fn, text):
    t = time.perf_counter()
    fn(text)
    return time.perf_counter() - t


@pytest.mark.parametrize("unit", ["1", "1 ", "1,", "12 345 ", "-1", "1元", "/", "1."])
def test_value_scanning_is_linear(unit):
    """Each scanner over n and 16·n characters: linear time grows ~16×, the old
    quadratic regex ~256× (it took 3.9 s on 25 KB, so minutes on 320 KB).
    Asserted loosely for a loaded machine: best of 3, < 80× or < 1 s."""
    for fn in (looks_like_value.__wrapped__, is_value_run, lambda t: VALUE_RUN.match(t), parse_value.__wrapped__):
        small = unit * (20_000 // len(unit)) + "x"
        large = unit * (320_000 // len(unit)) + "x"
        a = min(_seconds(fn, small) for _ in range(3))
        b = min(_seconds(fn, large) for _ in range(3))
        assert b < max(80 * a, 1.0), (unit, fn, a, b)


def test_a_2_mib_digit_line_is_scanned_in_well_under_a_second():
    line = "7" * (2 * 2**20)
    t = time.perf_counter()
    assert looks_like_value.__wrapped__(line)
    assert looks_like_value.__wrapped__(line + "x") is False
    assert parse_value.__wrapped__(line).flag == "unreadable"
    assert time.perf_counter() - t < 2


# -- numbers that cannot be wrong -------------------------------------------------

@pytest.mark.parametrize("text, kind", [
    ("9" * 5000, "count"),                 # int() refuses > 4300 digits: never an exception
    ("9" * 20, "count"),                   # beyond Int64
    ("1" + "0" * MAX_DIGITS, "count"),     # 13 digits
    ("1234.9999999999999999999", "money"),  # a float would give 1235
    ("0.1234567890123456", "money"),       # 16 significant digits
    ("-" + "9" * 400, "signed"),
])
def test_numbers_beyond_the_bound_are_unreadable_with_a_reason(text, kind):
    pv = parse_value(text, kind)
    assert pv.value is None and pv.flag == "unreadable" and "digits" in pv.note


@pytest.mark.parametrize("text, kind, value", [
    ("9" * MAX_DIGITS, "count", int("9" * MAX_DIGITS)),
    ("000000000000000000000012", "count", 12),   # leading zeros do not count
    ("12345678901.2345", "money", 12345678901.2345),
    ("4068.2080000000000000000", "money", 4068.208),  # trailing zeros do not count
    ("1234.56", "money", 1234.56),
])
def test_numbers_within_the_bound_keep_every_printed_digit(text, kind, value):
    pv = parse_value(text, kind)
    assert pv.value == value and type(pv.value) is type(value)
    if isinstance(value, float):
        assert float(repr(pv.value)) == pv.value and repr(pv.value) in text


def test_every_float_returned_prints_back_as_printed():
    import random
    rnd = random.Random(7)
    for _ in range(2000):
        whole = str(rnd.randrange(10 ** rnd.randrange(1, 13)))
        frac = str(rnd.randrange(1, 10 ** rnd.randrange(1, 8))).rstrip("0") or "1"
        v = exact_number("", whole, frac)
        if v is not None:
            assert repr(v) == f"{whole}.{frac}"
        else:
            assert len((whole + frac).lstrip("0")) > 15


def test_split_cells_follow_the_same_bound():
    row = RowRun([Column("a", "money")], "1234.9999999999999999999")
    row_candidates(row, [])
    assert row.candidates == []


@pytest.mark.parametrize("old, new", [
    ("\t2345\n", "\t" + "9" * 20 + "\n"),
    ("\t2345\n", "\t" + "9" * 5000 + "\n"),
    ("\t1234.56\n", "\t1234.9999999999999999999\n"),
])
def test_a_huge_or_overprecise_cell_is_unreadable_through_every_stage(tmp_path, old, new):
    text = (FIXTURES / "v2021_city.txt").read_text(encoding="utf-8")
    assert old in text
    src = tmp_path / "r.txt"
    src.write_text(text.replace(old, new, 1), encoding="utf-8")
    report = read_report(src)
    bad = [c for c in report.cells.values() if c.raw == new.strip()]
    assert len(bad) == 1 and bad[0].value is None and bad[0].flag == "unreadable"
    assert any(f.rule == "unreadable" and bad[0].key in f.cells and "digits" in f.message for f in report.findings)
    report.table("t2"), report.tidy()  # Int64 / Float64: no overflow
    from gipextract.export.json import report_to_dict as to_dict
    to_dict(report)
