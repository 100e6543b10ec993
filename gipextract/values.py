"""Parsing one cell's text into a value (template-spec §7.2).

The rules, in order, on the NFKC-normalised, trimmed text:

=========================  =================================================
text                       result
=========================  =================================================
empty                      ``None``, flag ``blank``
``-`` ``—`` ``/`` ``\\`` …   ``None``, flag ``dash`` (see ``DASHES``)
``无`` ``暂无``              ``None``, flag ``none_text``
``1,234`` ``1 234``         1234 (thousands separators dropped)
``+1036`` ``-8``            signed value (meant for V2019 本年增/减; elsewhere
                           kept as printed and left to the validator, T3-E)
``251000元`` ``12.5万元``    the number, with ``unit`` 元 / 万元
``4068.208``               a decimal: allowed in money columns; in a count
                           column only if the fraction is zero
``22（其中修订16件）``       22, flag ``annotated`` (the note stays in ``raw``)
anything else              ``None``, flag ``unreadable``
=========================  =================================================

Values are never rescaled: a money cell keeps the number printed and says in
``unit`` which unit it was printed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .normalize import clean_text

#: Cell texts meaning "none / not applicable" (spec §7.2), after NFKC.
DASHES = frozenset({"-", "--", "---", "—", "——", "–", "―", "─", "/", "//", "\\", "~", "－", "一一"})
#: Cell texts meaning "none" in words.
NONE_TEXTS = frozenset({"无", "暂无", "没有", "无数据"})
#: Units that may follow a number in a cell.
UNITS = ("万元", "元", "件", "条", "个", "项", "次")

_NUMBER = re.compile(
    r"""^(?P<sign>[+-])?\s*
        (?P<int>\d{1,3}(?:[,\s]\d{3})+|\d+)
        (?:\.(?P<frac>\d+))?
        \s*(?P<unit>万元|元|件|条|个|项|次)?
        (?P<note>\s*\(.*\))?$""",
    re.X,
)

COUNT = "count"
SIGNED = "signed"
MONEY = "money"
KINDS = (COUNT, SIGNED, MONEY)


@dataclass(frozen=True, slots=True)
class ParsedValue:
    """A cell's value as read.

    :ivar value: ``int`` for counts, ``float`` for money with a fraction,
        ``None`` when the cell holds no number.
    :ivar unit: the unit printed in the cell (``元``, ``万元``, ``件`` …), or ``None``.
    :ivar flag: why the value is null or what is special about it (``blank``,
        ``dash``, ``none_text``, ``annotated``, ``unreadable``), or ``None``.
    """

    value: int | float | None
    unit: str | None = None
    flag: str | None = None


BLANK = ParsedValue(None, None, "blank")


_RUN = re.compile(r"^[\s\d.,+\-—–/\\元万]*\d[\s\d.,+\-—–/\\元万]*$")


@lru_cache(maxsize=16384)
def looks_like_value(text: str) -> bool:
    """True if ``text`` is something data cells hold (a number, a dash,
    ``无``, nothing, or several numbers run together such as ``230 000023``)
    rather than a label.  Used to tell a row's label cells from its value cells."""
    s = clean_text(text)
    return not s or s in DASHES or s in NONE_TEXTS or _NUMBER.match(s) is not None or _RUN.match(s) is not None


@lru_cache(maxsize=16384)
def parse_value(text: str, kind: str = COUNT) -> ParsedValue:
    """Parse one cell's text for a column of ``kind`` (``count``, ``signed`` or
    ``money``; template-spec §3–§5 give each column's kind).

    :returns: a :class:`ParsedValue`; never raises for odd text (it gives
        ``None`` with flag ``unreadable`` instead).
    """
    s = clean_text(text)
    if not s:
        return BLANK
    if s in DASHES:
        return ParsedValue(None, None, "dash")
    if s in NONE_TEXTS:
        return ParsedValue(None, None, "none_text")
    m = _NUMBER.match(s)
    if m is None:
        return ParsedValue(None, None, "unreadable")
    digits = re.sub(r"[,\s]", "", m["int"])
    frac = m["frac"]
    flag = "annotated" if m["note"] else None
    if frac and kind == MONEY and frac.strip("0"):
        value: int | float = float(f"{digits}.{frac}")
    elif frac and frac.strip("0"):
        return ParsedValue(None, m["unit"], "unreadable")
    else:
        value = int(digits)
    if m["sign"] == "-":
        value = -value
    return ParsedValue(value, m["unit"], flag)
