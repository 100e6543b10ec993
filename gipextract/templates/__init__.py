"""The official report formats as data (template-spec §2–§5, §10).

``v2019.toml`` and ``v2021.toml`` describe each format's three tables: row and
column labels (exact official strings), canonical keys, column order, value
kinds and units, and the labels that mark the version (spec §8).
``labels.toml`` lists the real-world spellings of labels and
``sections.toml`` the six section headings.  This module only loads and checks
that data; nothing here knows a particular label.

Shapes: a :class:`TableTemplate` is a list of :class:`RowSpec`, each with its own
tuple of :class:`ColumnSpec` (表二's blocks have different columns; 表三 and
表四 rows share theirs).  A cell's canonical key is ``"<table>.<row key>.<column
key>"``, e.g. ``t3.granted.natural_person`` or
``t2.art20_5.administrative_licensing.decisions``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from ..errors import TemplateError
from ..normalize import label_key

TABLES = ("t2", "t3", "t4")
VERSIONS = ("V2019", "V2021")


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One data column: canonical ``key``, official header ``path`` (top-down),
    value ``kind`` (``count``, ``signed``, ``money``; see :mod:`gipextract.values`)
    and ``unit`` (``件``, ``项``, ``万元``; ``None`` when the format fixes none)."""

    key: str
    path: tuple[str, ...]
    kind: str = "count"
    unit: str | None = "件"

    @property
    def label(self) -> str:
        """The leaf header label."""
        return self.path[-1]


@dataclass(frozen=True, slots=True)
class RowSpec:
    """One data row: canonical ``key`` (``granted``, ``art20_1.regulations``),
    official label ``path`` (top-down, e.g. ``("三、本年度办理结果", "（一）予以公开")``),
    its ``columns`` in printed order, and the label ``aliases`` from labels.toml."""

    key: str
    path: tuple[str, ...]
    columns: tuple[ColumnSpec, ...]
    aliases: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """The leaf row label."""
        return self.path[-1]

    @property
    def group(self) -> str | None:
        """The block key for 表二 rows (``art20_1``), else ``None``."""
        return self.key.rsplit(".", 1)[0] if "." in self.key else None


@dataclass(frozen=True, slots=True)
class TableTemplate:
    """One statistics table of one format version.

    :ivar name: ``t2``, ``t3`` or ``t4``.
    :ivar version: ``V2019`` or ``V2021``.
    :ivar title: the section heading the table sits under.
    :ivar row_levels: names of the row-index levels of the wide DataFrame.
    :ivar rows: the data rows in printed order.
    :ivar blocks: for 表二, ``(block key, block header label)`` in order.
    :ivar markers: label substrings whose presence marks this version (spec §8).
    :ivar leaf_markers: labels that mark this version when the row carries
        numbers of its own (V2019's single （六）其他处理 row).
    :ivar joined_row: row keys printed side by side as one unlabelled row
        (表四's 15 numbers), or empty.
    """

    name: str
    version: str
    title: str
    row_levels: tuple[str, ...]
    rows: tuple[RowSpec, ...]
    blocks: tuple[tuple[str, str], ...] = ()
    markers: tuple[str, ...] = ()
    leaf_markers: tuple[str, ...] = ()
    joined_row: tuple[str, ...] = ()
    _memo: dict = field(default_factory=dict, compare=False, repr=False)

    def row(self, key: str) -> RowSpec:
        """The row with canonical key ``key``; raises ``KeyError``."""
        if "rows" not in self._memo:
            self._memo["rows"] = {r.key: r for r in self.rows}
        return self._memo["rows"][key]

    def row_cell_keys(self, row: RowSpec) -> list[str]:
        """Canonical keys of ``row``'s cells, in column order."""
        if "row_keys" not in self._memo:
            self._memo["row_keys"] = {r.key: [f"{self.name}.{r.key}.{c.key}" for c in r.columns] for r in self.rows}
        return self._memo["row_keys"][row.key]

    @property
    def columns(self) -> tuple[ColumnSpec, ...]:
        """Every distinct column in first-printed order (for 表二 the union of
        the blocks' columns, keyed by label)."""
        if "columns" not in self._memo:
            seen: dict[tuple[str, ...], ColumnSpec] = {}
            for r in self.rows:
                for c in r.columns:
                    seen.setdefault(c.path, c)
            self._memo["columns"] = tuple(seen.values())
        return self._memo["columns"]

    def cell_keys(self) -> list[str]:
        """Canonical keys of every numeric cell, row-major (spec §10)."""
        return [k for r in self.rows for k in self.row_cell_keys(r)]

    def labels(self) -> set[str]:
        """Label keys of every row, column and block header of the table."""
        out = {label_key(p) for r in self.rows for p in r.path}
        out |= {label_key(p) for c in self.columns for p in c.path}
        out |= {label_key(b) for _, b in self.blocks}
        return out


@dataclass(frozen=True, slots=True)
class Template:
    """One official format: ``version``, its ``name`` and issuing document, the
    first report year it applies to, and its three tables by name."""

    version: str
    name: str
    issued_by: str
    first_year: int
    tables: dict[str, TableTemplate]


@dataclass(frozen=True, slots=True)
class SectionSpec:
    """One of the six sections: ``key`` (``s1``…``s6``), descriptive ``name``,
    ``number`` (``一``…``六``), ``official`` heading, keyword ``rules`` (tuples
    of groups that must all match; a group is a tuple of alternatives) and the
    ``variants`` seen in real reports."""

    key: str
    name: str
    number: str
    official: str
    rules: tuple[tuple[tuple[str, ...], ...], ...]
    variants: tuple[str, ...]


def _load_toml(name: str) -> dict:
    try:
        text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
        return tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise TemplateError(f"cannot load template data: {e}", path=name) from e


def _need(d: dict, key: str, where: str):
    try:
        return d[key]
    except KeyError:
        raise TemplateError(f"missing '{key}' in {where}") from None


def _columns(items: list[dict], where: str) -> tuple[ColumnSpec, ...]:
    cols = []
    for c in items:
        path = tuple(c["path"]) if "path" in c else (_need(c, "label", where),)
        kind = c.get("kind", "count")
        if kind not in ("count", "signed", "money"):
            raise TemplateError(f"unknown column kind {kind!r} in {where}")
        cols.append(ColumnSpec(_need(c, "key", where), path, kind, c.get("unit", "件" if kind != "money" else None)))
    return tuple(cols)


def _table(name: str, version: str, d: dict, aliases: dict[str, tuple[str, ...]]) -> TableTemplate:
    where = f"{version}.{name}"
    rows: list[RowSpec] = []
    blocks: list[tuple[str, str]] = []
    if "blocks" in d:
        for b in d["blocks"]:
            bkey, blabel = _need(b, "key", where), _need(b, "label", where)
            blocks.append((bkey, blabel))
            cols = _columns(_need(b, "columns", where), f"{where}.{bkey}")
            for r in _need(b, "rows", f"{where}.{bkey}"):
                label = _need(r, "label", where)
                rows.append(RowSpec(f"{bkey}.{r['key']}", (blabel, label), cols, aliases.get(label, ())))
    else:
        cols = _columns(_need(d, "columns", where), where)
        for r in _need(d, "rows", where):
            path = tuple(_need(r, "path", where))
            rows.append(RowSpec(_need(r, "key", where), path, cols, aliases.get(path[-1], ())))
    keys = [r.key for r in rows]
    if len(set(keys)) != len(keys):
        raise TemplateError(f"duplicate row keys in {where}")
    joined = tuple(d.get("joined_row", ()))
    if not set(joined) <= set(keys):
        raise TemplateError(f"joined_row names unknown rows in {where}")
    return TableTemplate(
        name=name,
        version=version,
        title=d.get("title", ""),
        row_levels=tuple(_need(d, "row_levels", where)),
        rows=tuple(rows),
        blocks=tuple(blocks),
        markers=tuple(d.get("markers", ())),
        leaf_markers=tuple(d.get("leaf_markers", ())),
        joined_row=joined,
    )


@cache
def label_aliases() -> dict[str, tuple[str, ...]]:
    """Official label → real-world spellings, from labels.toml."""
    return {k: tuple(v) for k, v in _load_toml("labels.toml").get("aliases", {}).items()}


@cache
def settings() -> dict:
    """The ``[settings]`` of labels.toml (``fuzzy_threshold``)."""
    return _load_toml("labels.toml").get("settings", {})


@cache
def get_template(version: str) -> Template:
    """The format ``version`` (``"V2019"`` or ``"V2021"``).

    :raises TemplateError: for an unknown version or malformed data.
    """
    if version not in VERSIONS:
        raise TemplateError(f"unknown template version {version!r}; known: {', '.join(VERSIONS)}")
    d = _load_toml(f"{version.lower()}.toml")
    aliases = label_aliases()
    tables = {t: _table(t, version, _need(d["tables"], t, version), aliases) for t in TABLES}
    return Template(version, d.get("name", ""), d.get("issued_by", ""), int(d.get("first_year", 0)), tables)


@cache
def sections() -> tuple[SectionSpec, ...]:
    """The six sections in order, from sections.toml."""
    out = []
    for s in _load_toml("sections.toml")["sections"]:
        rules = tuple(tuple(tuple(g.split("|")) for g in rule) for rule in s["rules"])
        out.append(SectionSpec(s["key"], s["name"], s["number"], s["official"], rules, tuple(s.get("variants", ()))))
    return tuple(out)


@cache
def all_row_labels() -> frozenset[str]:
    """Label keys of every 表三 row label of every version (headings must never
    be mistaken for them; spec §7.6)."""
    return frozenset(label_key(p) for v in VERSIONS for r in get_template(v).tables["t3"].rows for p in r.path)
