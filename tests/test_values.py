"""Cell value parsing (template-spec §7.2)."""

import pytest

from gipextract.values import looks_like_value, parse_value


@pytest.mark.parametrize("text, kind, value, unit, flag", [
    ("0", "count", 0, None, None),
    ("4773", "count", 4773, None, None),
    ("", "count", None, None, "blank"),
    ("\u3000", "count", None, None, "blank"),
    ("/", "count", None, None, "dash"),
    ("／", "count", None, None, "dash"),
    ("-", "count", None, None, "dash"),
    ("—", "count", None, None, "dash"),
    ("--", "count", None, None, "dash"),
    ("\\", "count", None, None, "dash"),
    ("无", "count", None, None, "none_text"),
    ("暂无", "count", None, None, "none_text"),
    ("1,234", "count", 1234, None, "thousands_joined"),
    ("1，234", "count", 1234, None, "thousands_joined"),
    ("1 234", "count", 1234, None, "thousands_joined"),
    ("12 345 678", "count", 12345678, None, "thousands_joined"),
    ("１２３", "count", 123, None, None),
    ("+1036", "signed", 1036, None, None),
    ("-8", "signed", -8, None, None),
    ("21654145元", "count", 21654145, "元", None),
    ("251000元", "money", 251000, "元", None),
    ("12.5万元", "money", 12.5, "万元", None),
    ("4068.208", "money", 4068.208, None, None),
    ("96171.6", "money", 96171.6, None, None),
    ("3件", "count", 3, "件", None),
    ("3.0", "count", 3, None, None),
    ("22（其中修订16件）", "count", 22, None, "annotated"),
])
def test_parse_value(text, kind, value, unit, flag):
    pv = parse_value(text, kind)
    assert (pv.value, pv.unit, pv.flag) == (value, unit, flag)
    assert type(pv.value) is type(value)


@pytest.mark.parametrize("text, kind", [
    ("2.5", "count"),          # a fraction in a count is not a count
    ("见附件", "count"),
    ("10 0", "count"),         # two numbers in one cell: never joined into 100
    ("1.2.3", "money"),
])
def test_unreadable_is_null_never_a_guess(text, kind):
    pv = parse_value(text, kind)
    assert pv.value is None and pv.flag == "unreadable"


@pytest.mark.parametrize("text, expected", [
    ("12", True), ("", True), ("/", True), ("无", True), ("+5", True), ("125000.5元", True),
    ("规章", False), ("1.属于国家秘密", False), ("（七）总计", False), ("2019年", False), ("本年增/减", False),
])
def test_looks_like_value(text, expected):
    assert looks_like_value(text) is expected
