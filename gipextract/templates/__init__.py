"""The official report formats as data (template-spec §2–§5, §10).

``v2019.toml`` and ``v2021.toml`` describe each format's three tables: row and
column labels (exact official strings), canonical keys, column order, value
kinds and units, and the labels that mark the version (spec §8).
Each table also carries its identities (勾稽关系, spec §6) as data: which rows
or columns sum to which (:class:`IdentitySpec`) and the range each cell must
lie in (:class:`BoundSpec`); :mod:`gipextract.validate` evaluates them.
``labels.toml`` lists the real-world spellings of labels and
``sections.toml`` the six section headings.  This module only loads and checks
that data; nothing here knows a particular label or version.

Versions are data (spec §8, §10): every ``v*.toml`` of the template directory
is one format version, with its id (``version``) and the first report year
it applies to (``first_year``).  :func:`versions` lists them oldest first;
:func:`version_for_year` gives the version a year was meant to use (the one
with the greatest ``first_year`` ≤ the year; before the oldest,
``PRE2019``); :func:`fallback_version` (the newest format) keys tables that
neither their markers nor the year tell.  Adding a national format is adding
its ``vNNNN.toml``.

The template directory is this package's, unless the environment variable
``GIPEXTRACT_TEMPLATES`` names another directory when the data is first
loaded, or :func:`use_template_dir` is called (it drops every loaded
template, and every cache other stages registered with :func:`on_reload`).
Such a directory holds the same files: ``labels.toml``, ``sections.toml``
and the ``v*.toml`` versions.

Shapes: a :class:`TableTemplate` is a list of :class:`RowSpec`, each with its own
tuple of :class:`ColumnSpec` (表二's blocks have different columns; 表三 and
表四 rows share theirs).  A cell's canonical key is ``"<table>.<row key>.<column
key>"``, e.g. ``t3.granted.natural_person`` or
``t2.art20_5.administrative_licensing.decisions``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from ..errors import TemplateError
from ..normalize import label_key

TABLES = ("t2", "t3", "t4")
#: How a report names each table (表二 主动公开 …), for messages and sheet names.
TABLE_SHORT = {"t2": "表二", "t3": "表三", "t4": "表四"}
#: The value of ``Report.template`` for a report year before the oldest format (spec §9).
PRE_FORMAT = "PRE2019"
#: Environment variable naming a template directory to load instead of this package's.
TEMPLATES_ENV = "GIPEXTRACT_TEMPLATES"
#: Comparison operators an identity may use: "=" for identities, "<=" / ">=" for plausibility rules.
OPS = ("=", "<=", ">=")
_SEVERITIES = ("error", "warning", "info")


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
class IdentitySpec:
    """A family of identities of one table (勾稽关系, template-spec §6), as
    written in the template data: for each row (``each == "row"``; ``left``
    and ``right`` name columns) or each column (``each == "column"``; they
    name rows) in ``along``, ``Σ left <op> Σ right``.

    :ivar rule: the spec's rule id (``T3-A``, ``T3-B``, ``T2-P1`` …).
    :ivar each: ``"row"`` or ``"column"``.
    :ivar along: the row keys (each row) or column keys (each column) the
        family runs along, in printed order; every one when the data names none.
    :ivar left: the summed parts (column keys for ``each == "row"``, row keys
        for ``each == "column"``).
    :ivar right: the other side, usually the one total.
    :ivar op: ``"="`` (an identity), ``"<="`` or ``">="`` (plausibility).
    :ivar severity: of a finding when it fails: ``error`` for identities,
        ``warning`` for plausibility rules.
    :ivar blank_total: a blank right-hand cell (a 总计 left unfilled) takes
        ``Σ left`` in the checks (spec §7.2); needs exactly one right key.
    :ivar derived_from: rule id of a row family whose total column this
        family's equation follows from (spec §6.1 T3-D), or ``None``.
    :ivar note: a phrase that findings of the family end with, or ``""``.
    """

    rule: str
    each: str
    along: tuple[str, ...]
    left: tuple[str, ...]
    right: tuple[str, ...]
    op: str = "="
    severity: str = "error"
    blank_total: bool = False
    derived_from: str | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class BoundSpec:
    """A range every listed cell of a table must lie in (spec §6: T3-E, T4-B,
    T2-P1, T2-P2, T2-U).

    :ivar rule: the spec's rule id.
    :ivar cells: canonical keys of the cells checked, in printed order.
    :ivar min: the least allowed value, or ``None``.
    :ivar max: the greatest allowed value, or ``None``.
    :ivar integer: the value must be a whole number.
    :ivar unit: check only cells printed in this unit (``万元``), or ``None``.
    :ivar severity: of a finding when a cell is out of range.
    :ivar note: a phrase that findings of the rule end with, or ``""``.
    """

    rule: str
    cells: tuple[str, ...]
    min: float | None = None
    max: float | None = None
    integer: bool = False
    unit: str | None = None
    severity: str = "error"
    note: str = ""


@dataclass(frozen=True, slots=True)
class TableTemplate:
    """One statistics table of one format version.

    :ivar name: ``t2``, ``t3`` or ``t4``.
    :ivar version: the format version's id (``versions()``).
    :ivar title: the section heading the table sits under.
    :ivar row_levels: names of the row-index levels of the wide DataFrame.
    :ivar rows: the data rows in printed order.
    :ivar blocks: for 表二, ``(block key, block header label)`` in order.
    :ivar markers: label substrings whose presence marks this version (spec §8).
    :ivar leaf_markers: labels that mark this version when the row carries
        numbers of its own (V2019's single （六）其他处理 row).
    :ivar joined_row: row keys printed side by side as one unlabelled row
        (表四's 15 numbers), or empty.
    :ivar identities: the table's identity families (spec §6), in the order
        findings are reported.
    :ivar bounds: the table's cell ranges (spec §6).
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
    identities: tuple[IdentitySpec, ...] = ()
    bounds: tuple[BoundSpec, ...] = ()
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

    def cell_specs(self) -> dict[str, tuple[RowSpec, ColumnSpec]]:
        """Canonical key → ``(row, column)`` of every numeric cell (spec §10),
        row-major; the dict is the table's own: do not change it."""
        if "cell_specs" not in self._memo:
            self._memo["cell_specs"] = {k: (r, c) for r in self.rows for k, c in zip(self.row_cell_keys(r), r.columns)}
        return self._memo["cell_specs"]

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
    of groups that must all match; a group is a tuple of alternatives), the
    ``variants`` seen in real reports, and the ``table`` the section holds
    (``t2``/``t3``/``t4``, or ``None``)."""

    key: str
    name: str
    number: str
    official: str
    rules: tuple[tuple[tuple[str, ...], ...], ...]
    variants: tuple[str, ...]
    table: str | None = None


_dir_override: Path | None = None
_reload_hooks: list[Callable[[], None]] = []


def template_dir() -> Traversable:
    """The directory the template data is loaded from (module docstring)."""
    if _dir_override is not None:
        return _dir_override
    env = os.environ.get(TEMPLATES_ENV)
    return Path(env) if env else resources.files(__package__)


def on_reload(clear: Callable[[], None]) -> Callable[[], None]:
    """Register ``clear`` (a cache's ``cache_clear``) to be called when
    :func:`use_template_dir` switches the template data; returns ``clear``."""
    _reload_hooks.append(clear)
    return clear


def use_template_dir(path: str | os.PathLike[str] | None) -> None:
    """Load the template data from directory ``path`` from now on (``None``:
    back to the environment variable or this package's data).  Drops every
    loaded template and the caches registered with :func:`on_reload`.

    :raises TemplateError: ``path`` is not a directory.
    """
    global _dir_override
    if path is not None and not Path(path).is_dir():
        raise TemplateError("not a template directory", path=str(path))
    _dir_override = Path(path) if path is not None else None
    for clear in (*_LOADERS, *_reload_hooks):
        clear()


def _load_toml(name: str) -> dict:
    try:
        text = template_dir().joinpath(name).read_text(encoding="utf-8")
        return tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise TemplateError(f"cannot load template data: {e}", path=name) from e


@cache
def _version_files() -> tuple[tuple[str, int, str], ...]:
    """``(version id, first_year, file name)`` of every ``v*.toml``, oldest first."""
    out = []
    for entry in template_dir().iterdir():
        name = entry.name
        if not (name.startswith("v") and name.endswith(".toml")):
            continue
        d = _load_toml(name)
        version, first = d.get("version"), d.get("first_year")
        if not isinstance(version, str) or not isinstance(first, int):
            raise TemplateError("a version needs a 'version' id and an integer 'first_year'", path=name)
        out.append((version, first, name))
    out.sort(key=lambda v: v[1])
    if not out:
        raise TemplateError("no format version (v*.toml) in the template directory", path=str(template_dir()))
    for a, b in zip(out, out[1:]):
        if a[0] == b[0] or a[1] == b[1]:
            raise TemplateError(f"versions {a[0]} ({a[2]}) and {b[0]} ({b[2]}) share an id or a first_year")
    return tuple(out)


def versions() -> tuple[str, ...]:
    """The format versions of the template data, oldest first (``("V2019", "V2021")``)."""
    return tuple(v for v, _, _ in _version_files())


def first_year(version: str) -> int:
    """The first report year ``version`` applies to; raises ``KeyError``."""
    return {v: y for v, y, _ in _version_files()}[version]


def version_for_year(year: int | None) -> str | None:
    """The format a report of ``year`` was meant to use (spec §8 rule 3): the
    version with the greatest ``first_year`` ≤ ``year``; :data:`PRE_FORMAT`
    before the oldest; ``None`` for an unknown year."""
    if year is None:
        return None
    meant = PRE_FORMAT
    for v, first, _ in _version_files():
        if year >= first:
            meant = v
    return meant


def fallback_version() -> str:
    """The version tables are keyed by when neither their markers nor the
    report year tell (spec §8): the newest format."""
    return _version_files()[-1][0]


class _Versions(Sequence[str]):
    """:data:`VERSIONS`: a live view of :func:`versions` (follows :func:`use_template_dir`)."""

    def __getitem__(self, i):
        return versions()[i]

    def __len__(self) -> int:
        return len(versions())

    def __iter__(self) -> Iterator[str]:
        return iter(versions())

    def __contains__(self, v: object) -> bool:
        return v in versions()

    def __eq__(self, other: object) -> bool:
        return tuple(self) == (tuple(other) if isinstance(other, Sequence) else other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(versions())


#: The format versions, oldest first: a live, tuple-like view of :func:`versions`.
VERSIONS: Sequence[str] = _Versions()


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


def _keys(d: dict, key: str, where: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
    value = d.get(key, list(default))
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TemplateError(f"'{key}' must be a list of keys in {where}")
    return tuple(value)


def _severity(d: dict, where: str, default: str) -> str:
    severity = d.get("severity", default)
    if severity not in _SEVERITIES:
        raise TemplateError(f"unknown severity {severity!r} in {where}")
    return severity


def _identities(items: list[dict], where: str, rows: list[RowSpec]) -> tuple[IdentitySpec, ...]:
    """Parse and check ``[[identities]]``: every key named must exist, and
    every equation must name cells the table has."""
    row_cols = {r.key: {c.key for c in r.columns} for r in rows}
    all_cols = list(dict.fromkeys(c.key for r in rows for c in r.columns))
    out: list[IdentitySpec] = []
    for d in items:
        rule = _need(d, "rule", where)
        here = f"{where} identity {rule}"
        each, op = _need(d, "each", here), d.get("op", "=")
        if each not in ("row", "column"):
            raise TemplateError(f"'each' must be \"row\" or \"column\" in {here}")
        if op not in OPS:
            raise TemplateError(f"unknown op {op!r} in {here}")
        left, right = _keys(d, "left", here), _keys(d, "right", here)
        if not left or not right or set(left) & set(right):
            raise TemplateError(f"'left' and 'right' must be non-empty and disjoint in {here}")
        if each == "row":
            along = _keys(d, "rows", here, tuple(row_cols))
            cells = [(r, c) for r in along for c in left + right]
        else:
            along = _keys(d, "columns", here, tuple(all_cols))
            cells = [(r, c) for c in along for r in left + right]
        for r, c in cells:
            if c not in row_cols.get(r, ()):
                raise TemplateError(f"no cell {r}.{c} for {here}")
        blank_total = d.get("blank_total", False)
        if blank_total not in (True, False) or (blank_total and len(right) != 1):
            raise TemplateError(f"'blank_total' needs a single right-hand key in {here}")
        severity = _severity(d, here, "error" if op == "=" else "warning")
        out.append(IdentitySpec(rule, each, along, left, right, op, severity, blank_total, d.get("derived_from"),
                                str(d.get("note", ""))))
    for spec in out:
        if spec.derived_from is None:
            continue
        base = next((b for b in out if b.rule == spec.derived_from), None)
        if base is None or base.each == spec.each or len(base.right) != 1 or base.right[0] not in spec.along:
            raise TemplateError(f"'derived_from' of {where} identity {spec.rule} must name a family of the other "
                                f"direction whose single total is one of {spec.rule}'s lines")
    return tuple(out)


def _bounds(items: list[dict], where: str, name: str, rows: list[RowSpec]) -> tuple[BoundSpec, ...]:
    """Parse and check ``[[bounds]]`` into the canonical keys they cover."""
    by_key = {r.key: r for r in rows}
    out: list[BoundSpec] = []
    for d in items:
        rule = _need(d, "rule", where)
        here = f"{where} bound {rule}"
        sel_rows = _keys(d, "rows", here, tuple(by_key))
        sel_cols = _keys(d, "columns", here)
        cells = []
        for r in sel_rows:
            if r not in by_key:
                raise TemplateError(f"unknown row {r!r} in {here}")
            have = [c.key for c in by_key[r].columns]
            for c in sel_cols:
                if c not in have:
                    raise TemplateError(f"no cell {r}.{c} for {here}")
            cells += [f"{name}.{r}.{c}" for c in have if not sel_cols or c in sel_cols]
        lo, hi = d.get("min"), d.get("max")
        if lo is None and hi is None or any(v is not None and not isinstance(v, (int, float)) for v in (lo, hi)):
            raise TemplateError(f"a bound needs a numeric 'min' or 'max' in {here}")
        out.append(BoundSpec(rule, tuple(cells), lo, hi, bool(d.get("integer", False)), d.get("unit"),
                             _severity(d, here, "error"), str(d.get("note", ""))))
    return tuple(out)


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
        identities=_identities(d.get("identities", []), where, rows),
        bounds=_bounds(d.get("bounds", []), where, name, rows),
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
    """The format ``version`` (one of :func:`versions`, e.g. ``"V2021"``).

    :raises TemplateError: for an unknown version or malformed data.
    """
    files = {v: name for v, _, name in _version_files()}
    if version not in files:
        raise TemplateError(f"unknown template version {version!r}; known: {', '.join(files)}")
    d = _load_toml(files[version])
    aliases = label_aliases()
    tables = {t: _table(t, version, _need(d["tables"], t, version), aliases) for t in TABLES}
    return Template(version, d.get("name", ""), d.get("issued_by", ""), int(d.get("first_year", 0)), tables)


@cache
def sections() -> tuple[SectionSpec, ...]:
    """The six sections in order, from sections.toml."""
    out = []
    for s in _load_toml("sections.toml")["sections"]:
        rules = tuple(tuple(tuple(g.split("|")) for g in rule) for rule in s["rules"])
        out.append(SectionSpec(s["key"], s["name"], s["number"], s["official"], rules, tuple(s.get("variants", ())),
                               s.get("table")))
    return tuple(out)


@cache
def section_tables() -> dict[str, str]:
    """Section key → the statistics table it holds: ``{"s2": "t2", "s3": "t3", "s4": "t4"}``."""
    return {s.key: s.table for s in sections() if s.table}


@cache
def all_row_labels() -> frozenset[str]:
    """Label keys of every 表三 row label of every version (headings must never
    be mistaken for them; spec §7.6)."""
    return frozenset(label_key(p) for v in VERSIONS for r in get_template(v).tables["t3"].rows for p in r.path)


_LOADERS = (_version_files.cache_clear, get_template.cache_clear, label_aliases.cache_clear, settings.cache_clear,
            sections.cache_clear, section_tables.cache_clear, all_row_labels.cache_clear)
