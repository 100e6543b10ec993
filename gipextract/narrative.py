"""Narrative: the figures a report's text quotes for its table cells, checked
against the tables (template-spec §6.1 T3-T, §6.4 T4-T).

Two steps, both pure:

* :func:`extract` finds, in the sections listed in
  ``gipextract/templates/narrative.toml`` (一 and 六), each figure a phrase rule
  of that file matches (收到政府信息公开申请75件, 行政复议2件, 其中结果维持1件,
  收取信息处理费380元) and returns it as a :class:`NarrativeFigure`: the
  sentence, the span, the number as printed and its value, and the canonical
  keys (spec §10) it speaks of.  The phrases and the keys are data; this module
  knows none of them.
* :func:`check` compares each figure with the report's cells.  A figure that
  equals any of its readings matches and adds nothing.  One that equals none of
  them, while every reading could be evaluated, is a contradiction: a
  ``T3-T``/``T4-T`` warning that names the cells, quotes the sentence and gives
  both numbers (and, where the figure equals another sum such as 新收 + 上年结转,
  says so).  A reading that involves a cell that could not be read leaves the
  figure unchecked; the cells are never changed.

:func:`apply` runs both and stores the figures in ``report.narrative``; the
pipeline calls it after validation.
"""

from __future__ import annotations

import bisect
import re
import tomllib
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from .errors import TemplateError
from .report import Finding, Report
from .templates import TABLE_SHORT, get_template, versions
from .validate import cell_label

#: Status of a checked figure: ``match`` (equals a reading), ``contradiction``
#: (equals none; a finding says so), ``unchecked`` (a reading needs a cell that
#: could not be read, or the table is absent), ``no_cell`` (the figure has no
#: table cell, e.g. the fee of section 六), ``extracted`` (not checked yet).
STATUSES = ("match", "contradiction", "unchecked", "no_cell", "extracted")

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_BIG = {"万": 10_000, "亿": 100_000_000}
_CN_CHARS = "".join(_CN_DIGITS) + "".join(_CN_UNITS) + "".join(_CN_BIG)
#: ``{N}`` in a phrase: an Arabic number (thousands commas, a fraction) or a run
#: of Chinese numerals, never the tail of a longer number.
NUMBER = (rf"(?P<n>(?<![\d.,])\d+(?:,\d{{3}})*(?:\.\d+)?(?![\d.])|(?<![{_CN_CHARS}])[{_CN_CHARS}]+)")
_SENTENCE_END = re.compile(r"(?<=[。；;！？!?])")
_SPACE = re.compile(r"(?<!\d)\s+|\s+(?!\d)")
_PRECISION = 1e-9


def chinese_number(text: str) -> int | None:
    """The value of a Chinese numeral: ``十一`` → 11, ``两`` → 2,
    ``二十三`` → 23, ``一百零五`` → 105, ``三万五千`` → 35000, ``一〇五`` → 105
    (digit by digit).  ``None`` for a string that is not a well-formed
    numeral (``十十``, ``三二十``, ``万``).  Used for the figures of
    template-spec §6.1 T3-T."""
    if not text or any(ch not in _CN_CHARS for ch in text):
        return None
    if not any(ch in _CN_UNITS or ch in _CN_BIG for ch in text):  # 一〇五: positional digits
        return int("".join(str(_CN_DIGITS[ch]) for ch in text))
    total, section, digit, last_unit, big_unit = 0, 0, None, None, None
    for ch in text:
        if ch in _CN_DIGITS:
            if digit is not None and digit != 0 and _CN_DIGITS[ch] != 0:
                return None  # two digits in a row: 三二十
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            unit = _CN_UNITS[ch]
            if last_unit is not None and unit >= last_unit:
                return None  # 十十, 十百
            if digit is None:
                if unit != 10:
                    return None  # 百 without its digit
                digit = 1  # 十一 = 11, 三百十 = 310
            section += digit * unit
            digit, last_unit = None, unit
        else:
            unit = _CN_BIG[ch]
            if big_unit is not None and unit >= big_unit:
                return None
            value = section + (digit or 0)
            if value == 0:
                return None  # 万 alone
            total += value * unit
            section, digit, last_unit, big_unit = 0, None, None, unit
    return total + section + (digit or 0)


def parse_number(text: str) -> int | float | None:
    """The value of a number as a figure prints it: Arabic (``1,295``,
    ``3940``, ``24.5``) or Chinese (:func:`chinese_number`); ``None`` if it is
    neither."""
    if text[:1].isdigit():
        plain = text.replace(",", "")
        try:
            return float(plain) if "." in plain else int(plain)
        except ValueError:
            return None
    return chinese_number(text)


@dataclass(frozen=True, slots=True)
class PhraseRule:
    """One phrase rule of ``narrative.toml``: its ``id``, what the figure
    counts (``what``), the compiled ``phrases`` (each with a group ``n``),
    ``readings`` and ``also`` (tuples of sums, each a tuple of canonical
    keys), the ``parts`` that may break it down, the finding ``rule`` it gives
    (``T3-T``/``T4-T``/``None``), its ``unit`` and, for a part, the ``column``
    it puts in its parent's keys."""

    id: str
    what: str
    phrases: tuple[re.Pattern[str], ...]
    readings: tuple[tuple[str, ...], ...] = ()
    also: tuple[tuple[str, ...], ...] = ()
    parts: tuple[str, ...] = ()
    finding: str | None = None
    unit: str = "件"
    column: str | None = None


@dataclass(frozen=True, slots=True)
class Rules:
    """``narrative.toml`` loaded: the ``sections`` read, the top-level ``rules``
    in order, the ``parts`` by id, and ``findings`` (rule id → table,
    severity); ``any_phrase`` finds a match in a sentence exactly when some
    rule's phrase does (``None`` when the phrases cannot be joined)."""

    sections: tuple[str, ...]
    rules: tuple[PhraseRule, ...]
    parts: dict[str, PhraseRule]
    findings: dict[str, dict[str, str]]
    approximate_before: tuple[str, ...] = ()
    approximate_after: tuple[str, ...] = ()
    any_phrase: re.Pattern[str] | None = None


def _any_phrase(top: tuple[PhraseRule, ...]) -> re.Pattern[str] | None:
    """One pattern that finds a match in a sentence exactly when some phrase of
    ``top`` does (their alternation, ``{N}`` without its group name), to pass
    over the many sentences no phrase matches in one search; ``None`` when the
    phrases cannot be joined (a group name or back-reference of their own,
    an inline flag)."""
    parts = []
    for rule in top:
        for p in rule.phrases:
            text = p.pattern
            if text.count("(?P") != 1 or "(?P<n>" not in text or re.search(r"\\\d|\(\?[aiLmsux]", text):
                return None
            parts.append(f"(?:{text.replace('(?P<n>', '(?:')})")
    if not parts:
        return None
    # where no phrase can start, the alternatives are not tried (a lookahead of their first characters)
    firsts = [_first_chars(p) for rule in top for p in rule.phrases]
    ahead = ""
    if all(f is not None for f in firsts):
        ahead = f"(?=[{''.join(sorted(set().union(*(f for f in firsts if f is not None))))}])"
    try:
        return re.compile(ahead + "(?:" + "|".join(parts) + ")")
    except re.error:
        return None


_CLASS_ESCAPES = {"CATEGORY_DIGIT": r"\d", "CATEGORY_NOT_DIGIT": r"\D", "CATEGORY_SPACE": r"\s",
                  "CATEGORY_NOT_SPACE": r"\S", "CATEGORY_WORD": r"\w", "CATEGORY_NOT_WORD": r"\W"}


def _first_chars(pattern: re.Pattern[str]) -> set[str] | None:
    """The characters (as character-class items: escaped characters, ``\\d``)
    one of which every match of ``pattern`` starts with; ``None`` when that
    cannot be told (any character may start it, an empty match, flags, a
    construct this does not know).  Lets :func:`_any_phrase` try its
    alternatives only where a phrase can start."""
    if pattern.flags & ~re.UNICODE:
        return None
    try:
        from re import _constants as c  # the parser the re module itself uses (Python ≥ 3.11)
        from re import _parser
        items = _parser.parse(pattern.pattern).data
    except Exception:  # another Python's internals: do without
        return None

    def first(seq) -> tuple[set[str], bool] | None:
        """(first characters, whether ``seq`` can match the empty string), or ``None``."""
        out: set[str] = set()
        for op, av in seq:
            if op is c.LITERAL:
                return out | {re.escape(chr(av))}, False
            if op is c.IN:
                for o, a in av:
                    if o is c.LITERAL:
                        out.add(re.escape(chr(a)))
                    elif o is c.RANGE:
                        out.add(f"{re.escape(chr(a[0]))}-{re.escape(chr(a[1]))}")
                    elif o is c.CATEGORY and str(a) in _CLASS_ESCAPES:
                        out.add(_CLASS_ESCAPES[str(a)])
                    else:  # a negated class, another category
                        return None
                return out, False
            if op is c.BRANCH:
                alts = []
                for alt in av[1]:
                    sub = first(alt)
                    if sub is None:
                        return None
                    alts.append(sub)
                for chars, _ in alts:
                    out |= chars
                if not any(empty for _, empty in alts):
                    return out, False
            elif op is c.SUBPATTERN:
                if av[1] or av[2]:  # inline flags
                    return None
                sub = first(av[3])
                if sub is None:
                    return None
                out |= sub[0]
                if not sub[1]:
                    return out, False
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT):
                sub = first(av[2])
                if sub is None:
                    return None
                out |= sub[0]
                if av[0] > 0 and not sub[1]:
                    return out, False
            elif op not in (c.ASSERT, c.ASSERT_NOT, c.AT):  # lookarounds and anchors take no character
                return None
        return out, True

    found = first(items)
    return None if found is None or found[1] else found[0]


def _sums(items: list[str], where: str) -> tuple[tuple[str, ...], ...]:
    out = []
    for item in items:
        keys = tuple(k.strip() for k in item.split("+"))
        if not all(re.fullmatch(r"t[234]\.[a-z0-9_.]+", k) for k in keys):
            raise TemplateError(f"narrative.toml {where}: {item!r} is not a sum of canonical keys")
        out.append(keys)
    return tuple(out)


def _rule(d: dict, where: str) -> PhraseRule:
    try:
        rid = d["id"]
        phrases = tuple(re.compile(p.replace("{N}", NUMBER)) for p in d["phrase"])
    except (KeyError, re.error) as e:
        raise TemplateError(f"narrative.toml {where}: {e}") from None
    return PhraseRule(id=rid, what=d.get("what", rid), phrases=phrases,
                      readings=_sums(d.get("readings", []), rid), also=_sums(d.get("also", []), rid),
                      parts=tuple(d.get("parts", ())), finding=d.get("finding"), unit=d.get("unit", "件"),
                      column=d.get("column"))


@cache
def rules() -> Rules:
    """The phrase rules of ``gipextract/templates/narrative.toml`` (its header
    comment describes the format).

    :raises TemplateError: the file is malformed (a phrase that does not
        compile, a reading that is not a sum of keys, an unknown part or
        finding id)."""
    data = tomllib.loads(resources.files("gipextract.templates").joinpath("narrative.toml").read_text("utf-8"))
    top = tuple(_rule(d, f"rule {i}") for i, d in enumerate(data.get("rule", [])))
    parts = {p.id: p for p in (_rule(d, f"part {i}") for i, d in enumerate(data.get("part", [])))}
    findings = data.get("findings", {})
    for r in top:
        if r.finding is not None and r.finding not in findings:
            raise TemplateError(f"narrative.toml rule {r.id}: finding {r.finding!r} is not in [findings]")
        for p in r.parts:
            if p not in parts:
                raise TemplateError(f"narrative.toml rule {r.id}: no part {p!r}")
    return Rules(tuple(data.get("sections", ["s1"])), top, parts, findings,
                 tuple(data.get("approximate_before", ())), tuple(data.get("approximate_after", ())),
                 _any_phrase(top))


@dataclass(slots=True)
class NarrativeFigure:
    """A figure the text quotes for table cells (template-spec §6.1 T3-T, §6.4 T4-T).

    :ivar section: ``s1`` … ``s6``.
    :ivar sentence: the sentence, with whitespace removed (except between
        digits); ``span`` indexes it.
    :ivar span: ``(start, end)`` of the matched phrase in ``sentence``, like a slice.
    :ivar number: the number as printed (``75``, ``十一``).
    :ivar value: its value (``int``; ``float`` for a fraction).
    :ivar unit: ``件``, ``起`` or ``元``.
    :ivar rule: the phrase rule that matched (``received``; a breakdown
        ``received.natural_person``).
    :ivar readings: what the figure may mean: each a list of canonical keys
        (spec §10, derived keys of §10.3 allowed) whose sum it should equal;
        empty when no table cell holds it (the fee of section 六).
    :ivar also: other sums the figure might equal (新收 + 上年结转); they
        never make it agree.
    :ivar status: one of :data:`STATUSES`.
    :ivar table_values: after :func:`check`, the value of each reading
        (``None`` where a cell could not be read).
    """

    section: str
    sentence: str
    span: tuple[int, int]
    number: str
    value: int | float
    unit: str
    rule: str
    readings: list[list[str]] = field(default_factory=list)
    also: list[list[str]] = field(default_factory=list)
    status: str = "extracted"
    table_values: list[int | float | None] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The matched phrase (``收到政府信息公开申请75件``)."""
        return self.sentence[self.span[0]:self.span[1]]

    def to_dict(self) -> dict[str, Any]:
        """The figure as a JSON-ready dict (its fields, ``span`` as a list)."""
        d = asdict(self)
        d["span"] = list(self.span)
        return d


def sentences(text: str) -> list[str]:
    """``text`` cut after 。；;！？ into sentences, whitespace removed except
    between two digits (a PDF's line breaks fall inside words: 予以公开及部\\n分公开)."""
    # whitespace never touches a cut (it comes after a punctuation mark), so removing it first is the same
    return [s for s in _SENTENCE_END.split(_drop_spaces(text)) if s]


_WHITESPACE = re.compile(r"\s+")
_DIGIT = re.compile(r"\d")


def _drop_spaces(text: str) -> str:
    """``_SPACE.sub("", text)``, run by run: a whitespace run goes unless it
    is one character between two digits (a longer one goes whole: its last
    character no longer follows a digit)."""
    def keep(m: re.Match[str]) -> str:
        a, b = m.span()
        if b - a == 1 and a and b < len(text) and _DIGIT.match(text, a - 1) and _DIGIT.match(text, b):
            return m.group()
        return ""
    return _WHITESPACE.sub(keep, text)


def _with_column(sums: tuple[tuple[str, ...], ...], column: str) -> list[list[str]]:
    return [[k.rsplit(".", 1)[0] + "." + column for k in keys] for keys in sums]


def _figures_in(section: str, sentence: str, rs: Rules) -> list[NarrativeFigure]:
    if rs.any_phrase is not None and rs.any_phrase.search(sentence) is None:
        return []  # no figure (a breakdown only counts after one)
    taken = bytearray(len(sentence))  # 1 where a figure's phrase already lies
    top: list[tuple[int, PhraseRule, NarrativeFigure]] = []

    def free(a: int, b: int) -> bool:
        return not any(taken[a:b])

    def figure(m: re.Match[str], rule: PhraseRule, name: str, readings: list[list[str]],
               also: list[list[str]]) -> NarrativeFigure | None:
        value = parse_number(m.group("n"))
        if (value is None or sentence.endswith(rs.approximate_before, 0, m.start("n"))
                or sentence.startswith(rs.approximate_after, m.end())):
            return None
        taken[m.start():m.end()] = b"\x01" * (m.end() - m.start())
        return NarrativeFigure(section, sentence, m.span(), m.group("n"), value, rule.unit, name, readings, also)

    for rule in rs.rules:
        for pattern in rule.phrases:
            for m in pattern.finditer(sentence):
                if free(*m.span()):
                    f = figure(m, rule, rule.id, [list(s) for s in rule.readings], [list(s) for s in rule.also])
                    if f is not None:
                        top.append((m.start(), rule, f))
    out = [f for _, _, f in top]
    top.sort(key=lambda t: t[0])
    starts = [s for s, _, _ in top]
    for part in rs.parts.values():
        for pattern in part.phrases:
            for m in pattern.finditer(sentence):
                i = bisect.bisect_left(starts, m.start())  # the nearest figure before the part is top[i - 1]
                if not i or not free(*m.span()) or part.column is None:
                    continue
                parent = top[i - 1][1]
                if part.id not in parent.parts:
                    continue
                f = figure(m, parent, f"{parent.id}.{part.id}", _with_column(parent.readings, part.column),
                           _with_column(parent.also, part.column))
                if f is not None:
                    out.append(f)
    out.sort(key=lambda f: f.span)
    return out


def extract(report: Report) -> list[NarrativeFigure]:
    """The figures quoted in ``report.sections`` (the sections
    ``narrative.toml`` lists), in text order, status ``extracted``.  Pure: the
    report is not changed.  Template-spec §6.1 T3-T, §6.4 T4-T."""
    rs = rules()
    out: list[NarrativeFigure] = []
    for section in rs.sections:
        for sentence in sentences(report.sections.get(section, "")):
            out.extend(_figures_in(section, sentence, rs))
    return out


# -- check ---------------------------------------------------------------------------------

#: A null cell that counts 0 in a sum.  Unlike validate, a row the report lacks
#: (``row_missing``) leaves the sum unknown: a row lost in conversion must not
#: make the text look wrong.
_ZERO_FLAGS = frozenset({"blank", "dash", "none_text"})
_SUBTOTAL = re.compile(r"t3\.(denied|unable|not_processed|other)_subtotal\.(\w+)$")
_T3_LEAF_COLUMNS = ("natural_person", "commercial_enterprise", "research_institution", "public_welfare_org",
                    "legal_service_org", "other_org")
_T4_LEAF_COLUMNS = ("upheld", "corrected", "other_result", "pending")


class _Values:
    """Cell values for the sums of readings, counted as validate counts them:
    blank, dash and 无 are 0; a blank 总计 is the sum of its row (the row is
    noted in ``notes``); any other null (unreadable, a missing row) makes the
    sum unknown."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.notes: list[str] = []

    def leaves(self, key: str) -> list[str] | None:
        """The table cells a (possibly derived) key stands for; ``None`` if
        its table is absent or the key is not a cell of its version."""
        table = key[:2]
        version = self.report.table_versions.get(table)
        if version not in versions():
            return None
        tt = get_template(version).tables[table]
        row, col = key[3:].rsplit(".", 1)
        cols = list(_T3_LEAF_COLUMNS[1:]) if col == "legal_person_subtotal" else [col]
        m = _SUBTOTAL.match(key)
        rows = [r.key for r in tt.rows if r.key.startswith(m.group(1) + "_")] if m else [row]
        keys = [f"{table}.{r}.{c}" for r in rows for c in cols]
        known = {k for r in tt.rows for k in tt.row_cell_keys(r)}
        return keys if keys and all(k in known for k in keys) else None

    def cell(self, key: str) -> int | float | None:
        c = self.report.cells.get(key)
        if c is None:
            return None
        if c.value is not None:
            return c.value
        if c.flag == "blank" and key.endswith(".total") and key[:2] in ("t3", "t4"):
            row = key.rsplit(".", 1)[0]
            parts = [self.cell(f"{row}.{col}") for col in
                     (_T3_LEAF_COLUMNS if key[:2] == "t3" else _T4_LEAF_COLUMNS)]
            if any(p is None for p in parts):
                return None
            label = self._label(key).rsplit("/", 1)[0]
            if label not in self.notes:
                self.notes.append(label)
            return sum(p for p in parts if p is not None)
        if c.flag in _ZERO_FLAGS:
            return 0
        return None

    def sum(self, keys: list[str]) -> int | float | None:
        total: int | float = 0
        for key in keys:
            leaves = self.leaves(key)
            if leaves is None:
                return None
            for leaf in leaves:
                v = self.cell(leaf)
                if v is None:
                    return None
                total += v
        return total

    def _label(self, key: str) -> str:
        version = self.report.table_versions[key[:2]]
        row, col = cell_label(version, key)
        return f"{row}/{col}" if col else row

    def label(self, key: str) -> str:
        """The official labels of a key; a derived subtotal names its group."""
        m = _SUBTOTAL.match(key)
        leaves = self.leaves(key) or [key]
        if m or key.endswith(".legal_person_subtotal"):
            version = self.report.table_versions[key[:2]]
            tt = get_template(version).tables[key[:2]]
            rows = {r.key: r for r in tt.rows}
            row_key = leaves[0][3:].rsplit(".", 1)[0]
            path = rows[row_key].path
            row = path[1] if m and len(path) > 2 else path[-1]
            col = "法人或其他组织" if key.endswith(".legal_person_subtotal") else cell_label(version, leaves[0])[1]
            return f"{row}/{col}"
        return self._label(key)


def _same(a: int | float, b: int | float) -> bool:
    return abs(a - b) <= _PRECISION


def _fmt(v: int | float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def _sum_text(vals: _Values, keys: list[str]) -> str:
    return " + ".join(vals.label(k) for k in keys)


def _finding(f: NarrativeFigure, vals: _Values, rs: Rules, rule: PhraseRule, heading: str) -> Finding:
    spec = rs.findings[rule.finding or ""]
    table = spec["table"]
    cells: list[str] = []
    for keys in f.readings:
        for k in keys:
            for leaf in vals.leaves(k) or [k]:
                if leaf not in cells:
                    cells.append(leaf)
    readings = [f"{_sum_text(vals, keys)} = {_fmt(v)}" for keys, v in zip(f.readings, f.table_values)
                if v is not None]
    table_name = TABLE_SHORT.get(table, table)
    message = (f"The text of {heading} says {f.text!r} ({rule.what}: {_fmt(f.value)}{f.unit}), but {table_name} gives "
               + (readings[0] if len(readings) == 1 else "none of the readings: " + "; ".join(readings)))
    for keys in f.also:
        v = vals.sum(keys)
        if v is not None and _same(v, f.value):
            message += f". The text's {_fmt(f.value)} equals {_sum_text(vals, keys)} instead"
            break
    if vals.notes:
        message += f" (总计 is blank in the table on {', '.join(vals.notes)}: the sum of the row is used)"
    message += f". Sentence: «{f.sentence}»"
    expected: Any = f.table_values[0] if len(f.table_values) == 1 else list(f.table_values)
    return Finding(rule=rule.finding or "", severity=spec.get("severity", "warning"), table=table, cells=cells,
                   expected=expected, actual=f.value, message=message)


def check(report: Report, figures: list[NarrativeFigure]) -> list[Finding]:
    """Set each figure's ``status`` and ``table_values`` against the cells of
    ``report``, and return the findings of the contradictions (template-spec
    §6.1 T3-T, §6.4 T4-T; ids and severities from ``narrative.toml``
    ``[findings]``), one per figure, in text order.

    A figure matches when it equals any of its readings (a sum of cells,
    counted as :mod:`gipextract.validate` counts them); it contradicts only
    when every reading could be evaluated and none equals it.  Never raises
    for a contradiction; the cells are not changed."""
    rs = rules()
    by_id = {r.id: r for r in rs.rules}
    out: list[Finding] = []
    for f in figures:
        if not f.readings:
            f.status, f.table_values = "no_cell", []
            continue
        vals = _Values(report)
        f.table_values = [vals.sum(keys) for keys in f.readings]
        if any(v is not None and _same(v, f.value) for v in f.table_values):
            f.status = "match"
        elif any(v is None for v in f.table_values):
            f.status = "unchecked"
        else:
            f.status = "contradiction"
            rule = by_id[f.rule.split(".", 1)[0]]
            if rule.finding:
                heading = report.headings.get(f.section) or f"section {f.section}"
                out.append(_finding(f, vals, rs, rule, heading))
    return out


def inspect_lines(report: Report) -> list[str]:
    """Lines for ``gipextract inspect``: each figure of ``report.narrative``
    with its status, section, phrase, value, rule, and the keys of each
    reading with the table's value (``?`` where a cell could not be read)."""
    out = [f"narrative: {len(report.narrative)} figures quoted in the text"]
    for f in report.narrative:
        readings = "; ".join(" + ".join(keys) + f" = {'?' if v is None else _fmt(v)}"
                             for keys, v in zip(f.readings, f.table_values))
        text = f.text if len(f.text) <= 24 else f.text[:23] + "…"
        out.append(f"  {f.status:13s} {f.section} {text:24s} {_fmt(f.value)}{f.unit}  {f.rule}"
                   + (f"  → {readings}" if readings else ""))
    return out


def finding_rules() -> frozenset[str]:
    """Every rule id :func:`check` may report (``T3-T``, ``T4-T``)."""
    return frozenset(rules().findings)


def apply(report: Report) -> Report:
    """Extract the narrative figures of ``report``, check them, store them in
    ``report.narrative`` and add their findings to ``report.findings``
    (replacing those of an earlier call, so calling it twice changes nothing).
    Returns ``report``."""
    figures = extract(report)
    found = check(report, figures)
    own = finding_rules()
    report.narrative = figures
    report.findings[:] = [f for f in report.findings if f.rule not in own] + found
    return report


#: Columns of a batch's ``narrative.csv``: one row per figure.  ``readings``
#: and ``table_values`` are ``; ``-separated (a reading's keys joined by ``+``);
#: ``span_start``/``span_end`` index ``sentence``.
NARRATIVE_COLUMNS = ("source", "section", "rule", "number", "value", "unit", "status", "readings", "table_values",
                     "also", "sentence", "span_start", "span_end")


def csv_rows(source: str, figures: list[dict[str, Any]]) -> list[list[str]]:
    """The ``narrative.csv`` rows (:data:`NARRATIVE_COLUMNS`) of one report's
    figures, given as :meth:`NarrativeFigure.to_dict` dicts (the JSON export's
    ``narrative``)."""
    def text(v: Any) -> str:
        return "" if v is None else _fmt(v) if isinstance(v, (int, float)) else str(v)

    return [[source, f["section"], f["rule"], f["number"], text(f["value"]), f["unit"], f["status"],
             "; ".join("+".join(keys) for keys in f["readings"]), "; ".join(text(v) for v in f["table_values"]),
             "; ".join("+".join(keys) for keys in f["also"]), f["sentence"], str(f["span"][0]), str(f["span"][1])]
            for f in figures]
