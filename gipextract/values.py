"""Parsing one cell's text into a value, and the one rule for what a value
looks like (template-spec §7.2).

The rules, in order, on the NFKC-normalised, trimmed text:

=========================  =================================================
text                       result
=========================  =================================================
empty                      ``None``, flag ``blank``
``-`` ``—`` ``/`` ``\\`` …   ``None``, flag ``dash`` (see ``DASHES``)
``无`` ``暂无``              ``None``, flag ``none_text``
``1,234`` ``1 234``         1234, flag ``thousands_joined`` (separators dropped)
``+1036`` ``-8`` ``−8``     signed value (meant for V2019 本年增/减; elsewhere
                           kept as printed and left to the validator, T3-E)
``251000元`` ``12.5万元``    the number, with ``unit`` 元 / 万元
``4068.208``               a decimal: allowed in money columns; in a count
                           column only if the fraction is zero
``22（其中修订16件）``       22, flag ``annotated`` (the note stays in ``raw``)
too many digits            ``None``, flag ``unreadable`` (see below)
anything else              ``None``, flag ``unreadable``
=========================  =================================================

Values are never rescaled: a money cell keeps the number printed and says in
``unit`` which unit it was printed in.

Numbers that cannot be wrong
============================

A number is returned only when the Python value gives back exactly the digits
printed.  Counts (件) and amounts (万元, 元) of these tables stay far below
10¹² (the largest real cells are 元 amounts of 8–9 digits), so a cell whose
integer part has more than :data:`MAX_DIGITS` (12) digits is ``unreadable``
(``ParsedValue.note`` says why), and so is a decimal with more than
:data:`MAX_SIGNIFICANT` (15) significant digits: 15 is the most a float
(IEEE double) keeps for any decimal, so every ``float`` returned prints back
as the decimal printed (``4068.208`` → ``4068.208``), and
``1234.9999999999999999999`` is never read as 1235.  Every returned value
therefore fits a float64, an Int64 and Arrow without overflow.

One value-run rule
==================

A *value run* is text holding nothing but value characters
(:data:`RUN_CHARS`: whitespace, digits, ``.`` ``,`` ``，``, signs, dash and
minus characters, 元/万) and at least one digit: a cell, or several cells run
together (``230 000023``, ``2648-18538``).  :func:`is_value_run` and
:data:`VALUE_RUN` are the rule for every stage (the readers through
:func:`looks_like_value`, the splitter, unflatten); both run in linear time.
A minus sign is ``-`` or ``−`` (U+2212; ``－`` and ``﹣`` are ``-`` after
NFKC) directly before a digit; any other dash character (``‐ ‒ – — ― ─``, and
a minus not before a digit) is a dash cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .normalize import clean_text, text_cache

#: Cell texts meaning "none / not applicable" (spec §7.2), after NFKC.
DASHES = frozenset({"-", "--", "---", "—", "——", "–", "―", "─", "/", "//", "\\", "~", "－", "一一",
                    "−", "‐", "‒"})
#: Cell texts meaning "none" in words.
NONE_TEXTS = frozenset({"无", "暂无", "没有", "无数据"})
#: Units that may follow a number in a cell.
UNITS = ("万元", "元", "件", "条", "个", "项", "次")
#: Characters that are a minus sign directly before a digit (a dash elsewhere), as printed.
MINUS_CHARS = "-−－﹣"
#: Characters of a dash cell, as printed (a run of them is one dash cell or several).
DASH_CHARS = "-−－﹣‐‑‒–—―─/／\\＼"
#: Every character a value run may hold besides whitespace and digits, as printed.
RUN_CHARS = ".,，．+＋" + DASH_CHARS + "元万"
#: The longest integer part a cell may have (digits, leading zeros aside).
MAX_DIGITS = 12
#: The most significant digits a decimal may have (a float keeps 15 for any decimal).
MAX_SIGNIFICANT = 15

#: A value run at the start of a text (``VALUE_RUN.match(text, pos)``): linear, never backtracks.
VALUE_RUN = re.compile("[\\s\\d" + re.escape(RUN_CHARS) + "]*")
_DIGIT = re.compile(r"\d")
_MINUS = str.maketrans({"−": "-"})

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


def is_value_run(text: str) -> bool:
    """True if ``text`` (as printed or cleaned) holds nothing but value
    characters and at least one digit (module docstring, "One value-run
    rule"): ``"230 000023"``, ``"2648-18538"``, ``"−5"``, ``"13575394432.52元"``.
    Linear in ``len(text)``."""
    m = VALUE_RUN.match(text)
    return m is not None and m.end() == len(text) and _DIGIT.search(text) is not None


def is_dash(text: str) -> bool:
    """True if ``text`` (one cell, as printed or cleaned) is a dash meaning
    "none" (:data:`DASHES`, spec §7.2)."""
    s = clean_text(text)
    return s in DASHES or s.translate(_MINUS) in DASHES


def exact_number(sign: str, digits: str, frac: str | None) -> int | float | None:
    """The number with integer ``digits``, optional fraction ``frac`` and
    ``sign`` (``"-"`` for negative), or ``None`` when it is beyond
    :data:`MAX_DIGITS` / :data:`MAX_SIGNIFICANT` (module docstring, "Numbers
    that cannot be wrong").  ``int`` without a fraction (or an all-zero one),
    else ``float``; the float prints back as the decimal given."""
    whole = digits.lstrip("0")
    if len(whole) > MAX_DIGITS:
        return None
    frac = (frac or "").rstrip("0")
    if frac:
        significant = (whole + frac).lstrip("0")
        if len(significant) > MAX_SIGNIFICANT:
            return None
        value: int | float = float(f"{whole or '0'}.{frac}")
    else:
        value = int(whole or "0")
    return -value if sign == "-" else value


@dataclass(frozen=True, slots=True)
class ParsedValue:
    """A cell's value as read.

    :ivar value: ``int`` for counts, ``float`` for money with a fraction,
        ``None`` when the cell holds no number.
    :ivar unit: the unit printed in the cell (``元``, ``万元``, ``件`` …), or ``None``.
    :ivar flag: why the value is null or what is special about it (``blank``,
        ``dash``, ``none_text``, ``annotated``, ``thousands_joined``,
        ``unreadable``), or ``None``.
    :ivar note: for an ``unreadable`` number, why (``"more than 12 digits"``), else ``None``.
    """

    value: int | float | None
    unit: str | None = None
    flag: str | None = None
    note: str | None = None


BLANK = ParsedValue(None, None, "blank")


@text_cache(maxsize=16384)
def looks_like_value(text: str) -> bool:
    """True if ``text`` is something data cells hold (a number, a dash,
    ``无``, nothing, or several numbers run together such as ``230 000023``:
    :func:`is_value_run`) rather than a label.  Used to tell a row's label
    cells from its value cells.  Linear in ``len(text)``."""
    s = clean_text(text)
    return not s or is_dash(s) or s in NONE_TEXTS or is_value_run(s) or _NUMBER.match(s) is not None


@text_cache(maxsize=16384)
def parse_value(text: str, kind: str = COUNT) -> ParsedValue:
    """Parse one cell's text for a column of ``kind`` (``count``, ``signed`` or
    ``money``; template-spec §3–§5 give each column's kind; rules in the
    module docstring).

    :returns: a :class:`ParsedValue`; never raises for odd text (it gives
        ``None`` with flag ``unreadable`` instead, also for a number beyond
        :data:`MAX_DIGITS` or :data:`MAX_SIGNIFICANT`).
    """
    s = clean_text(text)
    if not s:
        return BLANK
    if is_dash(s):
        return ParsedValue(None, None, "dash")
    if s in NONE_TEXTS:
        return ParsedValue(None, None, "none_text")
    m = _NUMBER.match(s.translate(_MINUS))
    if m is None:
        return ParsedValue(None, None, "unreadable")
    int_text = m["int"]
    digits = int_text.replace(",", "").replace(" ", "")
    frac = m["frac"]
    if frac and frac.strip("0") and kind != MONEY:
        return ParsedValue(None, m["unit"], "unreadable")
    value = exact_number(m["sign"] or "", digits, frac)
    if value is None:
        too = (f"more than {MAX_DIGITS} digits" if len(digits.lstrip("0")) > MAX_DIGITS
               else f"more than {MAX_SIGNIFICANT} significant digits")
        return ParsedValue(None, m["unit"], "unreadable", f"{too}: beyond any count or amount of these tables")
    flag = "annotated" if m["note"] else "thousands_joined" if len(digits) != len(int_text) else None
    return ParsedValue(value, m["unit"], flag)
