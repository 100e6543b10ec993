"""Locate: find the title, the six sections and the three statistics tables
in a :class:`~gipextract.document.Document` (template-spec §2, §7.6, §8).

Sections.  A paragraph is a candidate heading of section *k* when it is short
and either starts with *k*'s number (``五、``) or matches *k*'s keyword rules
(``sections.toml``); a numbered match that also fits the keywords is
strongest.  Table 三's own row labels (``三、本年度办理结果``,
``四、结转下年度继续办理``) are never headings.  Among the candidates, the
headings are the subset in section order (both in the document and in 一…六)
with the greatest total strength, so a stray keyword line cannot reorder the
report and one missing heading does not lose the others.

Tables.  Each table block is assigned to 表二/表三/表四 by the template labels
it contains (any version); the section it sits in breaks ties and places a
block whose labels were lost.  Blocks with neither (layout tables of a web
page) are ignored.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from .chain import heaviest_chain
from .document import Document, Paragraph, TableBlock
from .normalize import clean_text, label_core, label_key
from .templates import TABLES, VERSIONS, SectionSpec, all_row_labels, get_template, section_tables, sections
from .values import looks_like_value

_NUMBERED = re.compile(r"^([一二三四五六七八九十]+)\s*[、.．]")
_SUBNUMBERED = re.compile(r"^[(（]\s*[一二三四五六七八九十\d]+\s*[)）]|^\d+\s*[.、．]")
_MAX_HEADING = 50

_YEAR = re.compile(r"((?:19|20)\d{2})\s*年(?!\s*\d{1,2}\s*月)")
_TITLE = re.compile(
    r"^(?P<pre>.*?)(?P<year>(?:19|20)\d{2})\s*年度?(?P<post>.*?)(?:政府信息公开|政务公开|信息公开)")
_TITLE_PREFIX = re.compile(r"^(?:标题|题目|title)\s*[:：]\s*", re.I)
_TITLE_END = re.compile(r"(?:报告|年报)$")
_MAX_TITLE = 60
_TITLE_SEPARATOR = re.compile(r"\s*[_|｜]\s*|\s+[-–—]+\s+")


@dataclass(slots=True)
class Section:
    """One located section: ``key`` (``s1``…``s6``), the ``heading`` as printed,
    its place, and the text of its paragraphs (tables excluded)."""

    key: str
    heading: str
    where: str | None
    paragraphs: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The section's paragraphs joined by newlines."""
        return "\n".join(self.paragraphs)


@dataclass(slots=True)
class Located:
    """What :func:`locate` found.

    :ivar title: paragraphs before the first section heading.
    :ivar sections: ``s1``…``s6`` → :class:`Section`, for the sections found.
    :ivar tables: ``t2``/``t3``/``t4`` → the table blocks of that table, in
        document order (a table split over pages or blocks has several).
    :ivar agency: the issuing organ, from the title line, or ``None``.
    :ivar year: the report year, from the title or else the text, or ``None``.
    """

    document: Document
    title: list[str]
    sections: dict[str, Section]
    tables: dict[str, list[TableBlock]]
    agency: str | None
    year: int | None


def _rule_matches(spec: SectionSpec, key: str) -> bool:
    """True if some rule of ``spec`` has a word of each of its groups in ``key``."""
    for rule in spec.rules:
        for group in rule:
            for w in group:
                if w in key:
                    break
            else:
                break  # no word of this group: the rule fails
        else:
            return True
    return False


def heading_strength(text: str, spec: SectionSpec) -> int:
    """How strongly ``text`` reads as the heading of section ``spec``: 3 numbered
    and matching the keywords, 2 numbered only, 1 keywords only (unnumbered or
    with a garbled number), 0 not a heading."""
    return heading_strengths(text).get(spec.key, 0)


def heading_strengths(text: str) -> dict[str, int]:
    """:func:`heading_strength` of ``text`` for every section it could head at
    once: section key → strength (1–3); empty for no heading (template-spec
    §2.2 heading matcher, §7.6 a table-三 row label is never a heading)."""
    t = clean_text(text)
    if not t or len(t) > _MAX_HEADING or "。" in t.rstrip("。") or _SUBNUMBERED.match(t):
        return {}
    key = label_key(t)
    if key in all_row_labels():
        return {}
    m = _NUMBERED.match(t)
    out = {}
    for spec in sections():
        keywords = _rule_matches(spec, key)
        if m:
            if m.group(1) == spec.number and (keywords or len(t) <= 30):
                out[spec.key] = 3 if keywords else 2
        elif keywords and len(t) <= 40:
            out[spec.key] = 1
    return out


def _find_headings(paras: list[tuple[int, Paragraph]]) -> list[tuple[int, SectionSpec]]:
    specs = sections()
    cands: list[tuple[int, int, float]] = []
    for bi, p in paras:
        strengths = heading_strengths(p.text)
        cands += [(bi, si, strengths[spec.key]) for si, spec in enumerate(specs) if spec.key in strengths]
    return [(bi, specs[si]) for bi, si, _ in heaviest_chain(cands)]


def _table_labels() -> dict[str, tuple[set[str], set[str]]]:
    """Per table, the label keys and label cores of every version."""
    out = {}
    for t in TABLES:
        keys: set[str] = set()
        for v in VERSIONS:
            keys |= get_template(v).tables[t].labels()
        cores = {label_core(k) for k in keys if len(label_core(k)) >= 2}
        out[t] = (keys, cores)
    return out


_LABELS: dict[str, tuple[set[str], set[str]]] = {}


def classify_block(block: TableBlock) -> dict[str, int]:
    """How many distinct template labels of each table the block contains."""
    if not _LABELS:
        _LABELS.update(_table_labels())
    texts = {c.text for row in block.rows for c in row if c.text and not looks_like_value(c.text)}
    keys = {label_key(t) for t in texts}
    cores = {label_core(t) for t in texts}
    return {t: len(keys & k) + len(cores & c) for t, (k, c) in _LABELS.items()}


def _has_values(block: TableBlock) -> bool:
    return any(c.text and looks_like_value(c.text) for row in block.rows for c in row)


def title_lines(title: list[str]) -> list[str]:
    """The lines of ``title`` that read as a report's title, cleaned: a line
    (or a line and the next, for a title wrapped in two) that ends like one
    (``…年度报告``, ``…年报``), is short, and quotes no document (``《…》``);
    a crawler's ``标题:``, a Markdown ``#`` and a web page title's site suffix
    (``…_某某网``) are dropped."""
    lines = [_TITLE_PREFIX.sub("", clean_text(x).lstrip("# ")) for x in title]
    out = []
    for i, line in enumerate(lines):
        # a web page's <title> adds the site after a separator: 报告_年报_某某网
        parts = [p.replace(" ", "") for p in _TITLE_SEPARATOR.split(line)]
        wrapped = line.replace(" ", "") + lines[i + 1].replace(" ", "") if i + 1 < len(lines) else ""
        for t in (*parts, wrapped):
            if t and len(t) <= _MAX_TITLE and "《" not in t and _TITLE_END.search(t):
                out.append(t)
                break
    return out


def report_year(title: list[str], text: str) -> int | None:
    """The report year: from the title when it names one, else the year most
    often written as ``YYYY年`` in the text (dates ``YYYY年M月`` excluded)."""
    for line in title_lines(title):
        m = _TITLE.match(line)
        if m:
            return int(m["year"])
    counts = Counter(int(y) for y in _YEAR.findall(text))
    if not counts:
        return None
    return max(counts.items(), key=lambda kv: (kv[1], -kv[0]))[0]


def agency_from_title(title: list[str]) -> str | None:
    """The issuing organ named in a title line such as
    ``淮安市人民政府2024年政府信息公开工作年度报告`` or
    ``2019年上海市人民政府办公厅政府信息公开工作年度报告`` (also wrapped over
    two lines); ``None`` if no title line names one (see :func:`title_lines`)."""
    for t in title_lines(title):
        m = _TITLE.match(t)
        if m:
            agency = (m["pre"] or m["post"]).strip("《》“”\"'()（）关于")
        else:
            agency = t.split("政府信息公开")[0] if "政府信息公开" in t else ""
        if len(agency) >= 2:
            return agency
    return None


def locate(doc: Document) -> Located:
    """Find the title, sections and tables of ``doc`` (see the module docstring).
    Never raises; what is not found is simply absent from the result."""
    paras = [(i, b) for i, b in enumerate(doc.blocks) if isinstance(b, Paragraph)]
    headings = _find_headings(paras)
    heading_at = {bi: spec for bi, spec in headings}
    first = headings[0][0] if headings else len(doc.blocks)

    title = [b.text for b in doc.blocks[:first] if isinstance(b, Paragraph)]
    found: dict[str, Section] = {}
    current: Section | None = None
    tables: dict[str, list[TableBlock]] = {t: [] for t in TABLES}
    for i, block in enumerate(doc.blocks):
        if i in heading_at:
            spec = heading_at[i]
            assert isinstance(block, Paragraph)  # headings are found among the paragraphs
            current = found[spec.key] = Section(spec.key, block.text, block.where)
        elif isinstance(block, Paragraph):
            if current is not None:
                current.paragraphs.append(block.text)
        else:
            hits = classify_block(block)
            in_section = section_tables().get(current.key) if current else None
            top = max(hits.values())
            if top >= 2:
                choice = [t for t, h in hits.items() if h == top]
                table = in_section if in_section in choice else choice[0]
            elif in_section and _has_values(block):
                table = in_section
            else:
                continue
            tables[table].append(block)

    text = "\n".join(b.text for b in doc.paragraphs)
    return Located(doc, title, found, tables, agency_from_title(title), report_year(title, text))
