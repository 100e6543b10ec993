"""Unflatten: give back its structure to report text whose table markup was
stripped (crawler dumps; template-spec §7.4).

Crawlers that save a page's text run the whole report together, often on one
line, and concatenate the table cells with nothing between them::

    …二、主动公开政府信息情况 第二十条第（一）项信息内容本年制发件数…规章 000行政规范性文件693665…
    一、本年新收政府信息公开申请数量230 000023二、上年结转政府信息公开申请数量0000000…

No reader can see cells there; what remains is the order of the labels, which
the format fixes.  This stage finds, in such a run:

1. the section headings (``二、主动公开政府信息情况`` … with the variants of
   ``sections.toml``; 表三's own ``三、本年度办理结果`` is never one), so the
   narrative sections come back as paragraphs;
2. in the body of sections 二/三/四, the template's row labels in template
   order (the heaviest order-preserving chain of their occurrences, as for
   headings), and after each label its *value run*: the digits, spaces,
   signs, decimal points and units up to the next label.

It returns a new :class:`~gipextract.document.Document` whose tables are
:class:`~gipextract.document.TableBlock` rows ``[label, value run]`` (plus the
header labels found, which carry the version markers and the money unit).
The one reconstructor then matches the rows as for any reader, and its
splitter (:mod:`gipextract.split`) cuts each value run into the row's cells.
Nothing here interprets a number.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache, lru_cache

from .chain import heaviest_chain
from .document import Cell, Document, Paragraph, TableBlock
from .locate import heading_strengths
from .normalize import fold
from .templates import TABLES, VERSIONS, fallback_version, get_template, on_reload, section_tables, sections
from .values import VALUE_RUN

#: A paragraph shorter than this is never a run-together report.
MIN_RUN = 200
#: Rows whose labels must be found, with digits after them, to call a text flattened.
MIN_LABELS = 3

_DROP = set(" \t\r\n\u3000\xa0\u200b\ufeff“”\"'「」『』‘’")
_DROP_TABLE = dict.fromkeys(map(ord, _DROP), None)
_HEADING_START = re.compile(r"[一二三四五六]\s*、")
_HEADING_END = ("情况", "事项", "打算", "措施")


class _Search:
    """A search form of a text (NFKC, simplified, no spaces or quotes, ``，`` as
    ``、``) that remembers where each of its characters came from."""

    def __init__(self, text: str):
        # each distinct character is folded once (and remembered); the text is folded in one translate
        chars = set(text)
        known = _learn(chars)
        folded = known.folded
        changed = chars & known.changed
        if len(changed) > 64:  # many characters to change (a traditional-script text): one translate
            self.text = text.translate(folded)
        else:  # a few (full-width punctuation, spaces): a scan for them is faster than a translate
            self.text = (_any_of("".join(sorted(changed))).sub(lambda m: folded[ord(m.group())], text)
                         if changed else text)
        self.original = text
        self.where: list[int] | None = None
        self._gaps: list[int] = []
        if chars.isdisjoint(known.long):  # the usual case: one character or none for each
            dropped = chars & known.empty
            if dropped:
                # for each dropped character, how many characters are kept before it
                self._gaps = [m.start() - k for k, m in enumerate(_any_of("".join(sorted(dropped))).finditer(text))]
        else:
            self.where = [i for i, ch in enumerate(text) for _ in range(len(folded.get(ord(ch), ch)))]

    def pos(self, i: int) -> int:
        """Original index of search index ``i`` (``len`` maps to the end)."""
        if self.where is not None:
            return self.where[i] if i < len(self.where) else len(self.original)
        return i + bisect_right(self._gaps, i) if i < len(self.text) else len(self.original)

    def end(self, i: int) -> int:
        """Original index just after search index ``i - 1``."""
        if i <= 0:
            return 0
        if self.where is not None:
            return self.where[i - 1] + 1
        return i + bisect_right(self._gaps, i - 1)

    def find_all(self, needle: str, start: int = 0, stop: int | None = None) -> list[int]:
        """Every search index where ``needle`` (already folded) occurs in [start, stop)."""
        out, stop = [], len(self.text) if stop is None else stop
        i = self.text.find(needle, start, stop)
        while i >= 0 and i + len(needle) <= stop:
            out.append(i)
            i = self.text.find(needle, i + 1, stop)
        return out


def _fold(text: str) -> str:
    """The search form of ``text``: :func:`gipextract.normalize.fold`, ``,`` as
    ``、``, spaces and quotes dropped."""
    return fold(text).replace(",", "、").translate(_DROP_TABLE)


@dataclass(frozen=True, slots=True)
class _Chars:
    """The characters met so far (``met``) and their search forms: ``folded``
    (code point → form, for ``str.translate``) for those whose form is another
    (``changed``), ``empty`` those whose form is empty, ``long`` those whose
    form is longer than one character.  Never changed once made: a newer one
    replaces it whole, so a thread reading one never sees it half learned."""

    folded: dict[int, str]
    met: frozenset[str]
    changed: frozenset[str]
    empty: frozenset[str]
    long: frozenset[str]


_NONE_MET = _Chars({}, frozenset(), frozenset(), frozenset(), frozenset())
_CHARS = _NONE_MET
#: Characters remembered at most; past it the memory starts again (a text of random characters must not grow it).
MAX_CHARS = 65_536


def _learn(chars: set[str]) -> _Chars:
    """The characters met so far with ``chars`` among them (each is folded once
    per process while fewer than :data:`MAX_CHARS` have been met)."""
    global _CHARS
    known = _CHARS
    new = chars - known.met
    if not new:
        return known
    if len(known.met) + len(new) > MAX_CHARS:
        known, new = _NONE_MET, set(chars)
    folded, changed, empty, long = dict(known.folded), set(), set(), set()
    for ch in new:
        f = _fold(ch)
        if f != ch:
            folded[ord(ch)] = f
            changed.add(ch)
        if not f:
            empty.add(ch)
        elif len(f) > 1:
            long.add(ch)
    _CHARS = _Chars(folded, known.met | new, known.changed | changed, known.empty | empty, known.long | long)
    return _CHARS


@lru_cache(maxsize=256)
def _any_of(chars: str) -> re.Pattern:
    """A pattern matching any one character of ``chars``."""
    return re.compile("[" + "".join(re.escape(ch) for ch in chars) + "]")


@dataclass(slots=True)
class _Hit:
    row: int          # index into the label list
    start: int        # search index of the label
    stop: int         # search index after the label


@cache
def _labels(table: str, version: str) -> list[tuple[str, list[str]]]:
    """(row key, folded spellings) of ``table``'s rows in ``version``, in order."""
    tt = get_template(version).tables[table]
    return [(r.key, [_fold(x) for x in (r.label, *r.aliases)]) for r in tt.rows]


@cache
def _header_labels(table: str) -> list[str]:
    """Folded header labels of ``table`` (block headers, column labels, 表三's
    note and header band) of every version, longest first."""
    out = set()
    for v in VERSIONS:
        tt = get_template(v).tables[table]
        out |= {_fold(b) for _, b in tt.blocks}
        out |= {_fold(p) for c in tt.columns for p in c.path}
        if tt.joined_row:  # 表四 prints its row labels as headers above one row of numbers
            out |= {_fold(p) for r in tt.rows for p in r.path}
    out.add(_fold("信息内容"))
    return sorted(out, key=len, reverse=True)


on_reload(_header_labels.cache_clear)
on_reload(_labels.cache_clear)


def _row_hits(s: _Search, table: str, version: str, start: int, stop: int) -> list[tuple[str, _Hit]]:
    rows = _labels(table, version)
    cands = []
    for i, (_, spellings) in enumerate(rows):
        for sp in spellings:
            for at in s.find_all(sp, start, stop):
                cands.append((i, at, 1.0 + len(sp) / 100, len(sp)))
    best: dict[tuple[int, int], int] = {}
    for i, at, _, n in cands:
        best[(i, at)] = max(best.get((i, at), 0), n)
    chain = heaviest_chain([(i, at, w) for i, at, w, _ in cands])
    return [(rows[i][0], _Hit(i, at, at + best[(i, at)])) for i, at, _ in chain]


def _version(s: _Search, table: str, start: int, stop: int) -> str:
    """The version whose markers occur in [start, stop) (spec §8): the one
    with most; when none occur, the one version whose table has no markers
    (told by their absence: V2019's 表三), else :func:`fallback_version`
    (also for a tie, and for 表四, which no version marks)."""
    region = s.text[start:stop]
    markers = {v: get_template(v).tables[table].markers for v in VERSIONS}
    votes = {v: sum(_fold(m) in region for m in ms) for v, ms in markers.items()}
    top = max(votes.values())
    winners = [v for v, n in votes.items() if n == top]
    if top and len(winners) == 1:
        return winners[0]
    unmarked = [v for v, ms in markers.items() if not ms]
    if not top and len(unmarked) == 1:
        return unmarked[0]
    return fallback_version()


def _value_run(s: _Search, begin: int, end: int) -> str:
    """The value characters right after search index ``begin`` (a label's end),
    stopping at search index ``end`` (the next label) or the first other character."""
    a, b = s.end(begin), s.pos(end) if end < len(s.text) else len(s.original)
    while a < b and s.original[a] in _DROP and not s.original[a].isspace():  # a label's closing quote
        a += 1
    m = VALUE_RUN.match(s.original, a, max(a, b))
    return m.group(0).strip(" \t\u3000\xa0,，、") if m else ""


def _table_block(s: _Search, table: str, start: int, stop: int) -> tuple[TableBlock | None, int, int]:
    """The table ``table`` found in search range [start, stop), with the search
    range it spans; ``None`` if none of its rows is there."""
    version = _version(s, table, start, stop)
    hits = _row_hits(s, table, version, start, stop)
    headers: list[tuple[int, str]] = []
    first = hits[0][1].start if hits else stop
    covered = bytearray(max(0, stop - start))  # 1 inside a header found (a shorter label there is part of it)
    # 表三's header words (其他, 总计) recur inside its row labels: look before the first row only.
    for label in _header_labels(table):
        for at in s.find_all(label, start, first if table == "t3" else stop):
            if not covered[at - start]:
                headers.append((at, label))
                covered[at - start:at - start + len(label)] = b"\x01" * len(label)
    headers.sort()
    rows: list[list[Cell]] = []
    if headers:
        rows.append([Cell(s.original[s.pos(at):s.end(at + len(h))], where=f"char {s.pos(at)}") for at, h in headers])
    if table == "t4":
        if not headers:
            return None, start, start
        at, h = headers[-1]
        run = _value_run(s, at + len(h), stop)
        if not any(ch.isdigit() for ch in run):
            return None, start, start
        rows.append([Cell(run, where=f"char {s.end(at + len(h))}")])
        return TableBlock(rows, where=rows[0][0].where), headers[0][0], at + len(h) + len(_fold(run))
    if not hits:
        return None, start, start
    for k, (_, hit) in enumerate(hits):
        nxt = hits[k + 1][1].start if k + 1 < len(hits) else stop
        label = s.original[s.pos(hit.start):s.end(hit.stop)]
        run = _value_run(s, hit.stop, nxt)
        rows.append([Cell(label, where=f"char {s.pos(hit.start)}"), Cell(run, where=f"char {s.end(hit.stop)}")])
    begin = min(([headers[0][0]] if headers else []) + [hits[0][1].start])
    last = hits[-1][1]
    return TableBlock(rows, where=rows[0][0].where), begin, last.stop + len(_fold(rows[-1][1].text))


def _headings(s: _Search) -> list[tuple[int, int, str]]:
    """(search start, search end, section key) of the section headings in the run."""
    specs = sections()
    cands = []
    for m in _HEADING_START.finditer(s.text):
        at = m.start()
        window = s.text[at:at + 40]
        nxt = _HEADING_START.search(window, 1)
        window = window[:nxt.start()] if nxt else window
        # a heading ends at its first 情况/事项/…; it holds no digits (a table row's run does)
        ends = sorted({window.find(w) + len(w) for w in _HEADING_END if w in window})
        ends = [e for e in ends if not any(ch.isdigit() for ch in window[:e])][:1]
        for e in ends:
            strengths = heading_strengths(window[:e])
            for si, spec in enumerate(specs):
                strength = strengths.get(spec.key, 0)
                if strength >= 2:
                    cands.append((at, si, strength + e / 1000, e))
    length = {(at, si): e for at, si, _, e in cands}
    chain = heaviest_chain([(at, si, w) for at, si, w, _ in cands])
    return [(at, at + length[(at, si)], specs[si].key) for at, si, _ in chain]


def looks_flattened(doc: Document, searches: dict[str, _Search] | None = None) -> bool:
    """True if ``doc`` has no table blocks but its paragraphs carry at least
    :data:`MIN_LABELS` distinct template row labels of 表三 directly followed by
    digits — the signature of a crawler dump with its cells run together.
    ``searches`` keeps the search forms built, for :func:`unflatten`."""
    if doc.tables:
        return False
    long = [p.text for p in doc.paragraphs if len(p.text) >= MIN_RUN]
    if not long:
        return False
    searches = {} if searches is None else searches
    for text in long:
        if text not in searches:
            searches[text] = _Search(text)
    folded = "".join(searches[text].text for text in long)
    seen = 0
    labels = _labels("t3", fallback_version())
    for _, spellings in labels[:4] + labels[-2:]:
        if any(re.search(re.escape(sp) + r"[\d]", folded) for sp in spellings):
            seen += 1
    return seen >= MIN_LABELS


def unflatten(doc: Document, searches: dict[str, _Search] | None = None) -> Document:
    """Rebuild ``doc``'s sections and tables from its run-together paragraphs
    (module docstring).  Short paragraphs (a crawler's header lines) are kept
    as they are.  Returns a new Document with the same source; ``doc`` is not
    changed.  Never raises for odd text: what is not found is left as text.
    ``searches``: the search forms :func:`looks_flattened` built, if any."""
    blocks: list = []
    searches = searches or {}
    for p in doc.blocks:
        if not isinstance(p, Paragraph) or len(p.text) < MIN_RUN:
            blocks.append(p)
            continue
        blocks.extend(_unflatten_run(p.text, searches.get(p.text)))
    return Document(blocks, doc.source, list(doc.notes), doc.incomplete)


def flattened(doc: Document) -> Document | None:
    """:func:`unflatten` ``doc`` if :func:`looks_flattened`, else ``None``;
    each long paragraph's search form is built once for both."""
    searches: dict[str, _Search] = {}
    return unflatten(doc, searches) if looks_flattened(doc, searches) else None


def _unflatten_run(text: str, s: _Search | None = None) -> list:
    s = s if s is not None else _Search(text)
    heads = _headings(s)
    out: list = []

    def para(a: int, b: int) -> None:
        chunk = s.original[s.pos(a) if a < len(s.text) else len(text):s.pos(b) if b < len(s.text) else len(text)]
        if chunk.strip():
            out.append(Paragraph(chunk.strip(), where=f"char {s.pos(a) if a < len(s.text) else len(text)}"))

    bounds = [(h[0], h[1], h[2]) for h in heads] + [(len(s.text), len(s.text), None)]
    para(0, bounds[0][0])
    done_tables = set()
    for (a, b, key), (nxt, _, _) in zip(bounds, bounds[1:]):
        out.append(Paragraph(s.original[s.pos(a):s.end(b)].strip(), where=f"char {s.pos(a)}"))
        table = section_tables().get(key) if key else None
        if table is None:
            para(b, nxt)
            continue
        block, t0, t1 = _table_block(s, table, b, nxt)
        if block is None:
            para(b, nxt)
            continue
        done_tables.add(table)
        para(b, t0)
        out.append(block)
        para(min(t1, nxt), nxt)
    if not heads:  # no headings: look for the tables anywhere in the run
        out = [Paragraph(text.strip())]
        for table in TABLES:
            block, _, _ = _table_block(s, table, 0, len(s.text))
            if block is not None:
                out.append(block)
    return out
