"""The Report model (design.md "The model").

A :class:`Report` holds what one annual report says: metadata, the text of its
sections, every numeric cell of its three statistics tables keyed by the
canonical keys of template-spec §10, and the findings about it.  The pandas
views (:meth:`Report.table`, :attr:`Report.tables`, :meth:`Report.tidy`) are
built on first use, so batch conversion that only needs the cells never pays
for DataFrames it does not use.

Values are what the report printed.  A cell with no number is ``None`` with a
``flag`` saying why (spec §7.2, §10.3): ``blank``, ``dash``, ``none_text``,
``row_missing``, ``unreadable``, …  Nothing here fills or corrects a value.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from .document import Source
from .templates import TABLES, TableTemplate, get_template

if TYPE_CHECKING:
    import pandas as pd  # imported where a DataFrame is built: readers and batch workers never need pandas

#: Columns of :meth:`Report.tidy`, in order.
TIDY_COLUMNS = ("key", "table", "row_key", "col_key", "row_label", "col_label", "value", "unit", "raw", "flag",
                "source", "agency", "year", "template")

#: Severity of a finding: ``error`` (a broken identity), ``warning``
#: (plausibility, a table or cell that could not be read), ``info``.
SEVERITIES = ("error", "warning", "info")


@dataclass(slots=True)
class CellValue:
    """One numeric cell of a statistics table.

    :ivar key: canonical key, e.g. ``t3.granted.natural_person``.
    :ivar table: ``t2``, ``t3`` or ``t4``.
    :ivar row_key: e.g. ``granted`` or ``art20_5.administrative_licensing``.
    :ivar col_key: e.g. ``natural_person``.
    :ivar row_label: the official leaf label of the row (``（一）予以公开``),
        whatever spelling the report used.
    :ivar col_label: the official leaf label of the column (``自然人``).
    :ivar value: the number printed (``int``; ``float`` for money with a
        fraction), or ``None``.
    :ivar unit: ``件``/``项`` for counts, ``万元``/``元`` for money, as printed
        in the cell or its header, else as the format fixes it.
    :ivar raw: the cell's text exactly as read; ``None`` if the report has no
        such cell (``row_missing``).
    :ivar flag: why ``value`` is ``None`` or special, or ``None``.
    :ivar where: the cell's place in the source (``"line 104"``), if known.
    :ivar confidence: for a cell read by OCR (flag ``ocr``, or ``ocr_uncertain``
        when :mod:`gipextract.ocrcheck` nulled it), the recogniser's score
        (0–1); ``None`` for a cell read from text.
    :ivar alternatives: other OCR readings of the cell (never its value).
    """

    key: str
    table: str
    row_key: str
    col_key: str
    row_label: str
    col_label: str
    value: int | float | None
    unit: str | None
    raw: str | None
    flag: str | None
    where: str | None = None
    confidence: float | None = None
    alternatives: tuple[str, ...] = ()


@dataclass(slots=True)
class Finding:
    """Something a reviewer should know about a report.

    :ivar rule: the rule id: an identity of spec §6 (``T3-A``…) or a reading
        problem (``table_absent``, ``row_missing``, ``unreadable``,
        ``value_count``, ``extra_row``, ``version_unknown``, ``reader_note``
        for a note of the reader such as a page without a text layer).
    :ivar severity: ``error``, ``warning`` or ``info``.
    :ivar table: ``t2``/``t3``/``t4``, or ``None`` for the whole report.
    :ivar cells: canonical keys of the cells involved.
    :ivar expected: the value the rule expects, if it has one.
    :ivar actual: the value found, if it has one.
    :ivar message: one sentence naming the cells by their official labels.
    """

    rule: str
    severity: str
    table: str | None
    cells: list[str] = field(default_factory=list)
    expected: Any = None
    actual: Any = None
    message: str = ""

    def to_dict(self) -> dict:
        """The finding as a JSON-ready dict."""
        return asdict(self)


@dataclass(slots=True)
class ExtraRow:
    """A row with numbers that matches no row of the template (a provincial
    extra such as 湖北's ``其他主动公开文件``); kept, never added into sums."""

    table: str
    label: str
    raw: list[str]
    where: str | None = None


@dataclass
class Report:
    """One annual report, read.

    :ivar source: provenance (path, format, sha256, encoding).
    :ivar agency: the issuing organ from the title line, or ``None``.
    :ivar year: the report year, or ``None``.
    :ivar template: ``V2019``, ``V2021``, ``MIXED`` (tables of different
        versions), ``PRE2019`` or ``UNKNOWN`` (spec §8).
    :ivar table_versions: ``t2``/``t3``/``t4`` → the version each table present
        is keyed by.
    :ivar sections: ``s1``…``s6`` → the section's text (paragraphs only).
    :ivar headings: ``s1``…``s6`` → the heading as printed.
    :ivar title: the lines before section 一 (title, publisher, date).
    :ivar cells: canonical key → :class:`CellValue`, for every cell of every
        table present, in template order.
    :ivar findings: reading problems and (once validated) identity findings.
    :ivar extra_rows: rows with numbers the template does not have.
    :ivar narrative: the figures the text of sections 一/六 quotes for table
        cells, checked against them (:mod:`gipextract.narrative`, spec §6.1 T3-T).
    :ivar needs_ocr: pages of the source had no text layer and OCR was not run
        (:attr:`gipextract.document.Document.needs_ocr`).
    """

    source: Source
    agency: str | None = None
    year: int | None = None
    template: str = "UNKNOWN"
    table_versions: dict[str, str] = field(default_factory=dict)
    sections: dict[str, str] = field(default_factory=dict)
    headings: dict[str, str] = field(default_factory=dict)
    title: list[str] = field(default_factory=list)
    cells: dict[str, CellValue] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    extra_rows: list[ExtraRow] = field(default_factory=list)
    #: the figures the text quotes (:class:`gipextract.narrative.NarrativeFigure`), once checked
    narrative: list[Any] = field(default_factory=list)
    needs_ocr: bool = False
    _frames: dict = field(default_factory=dict, repr=False, compare=False)

    def __repr__(self) -> str:
        """One line: source, agency, year, template, cells read and findings
        (the full content is in :meth:`to_dict`)."""
        read = sum(1 for c in self.cells.values() if c.value is not None)
        return (f"<Report {self.source.path!r} agency={self.agency!r} year={self.year} template={self.template} "
                f"tables={','.join(self.table_versions) or '-'} cells={read}/{len(self.cells)} "
                f"findings={len(self.findings)} errors={len(self.errors)}>")

    # -- pandas views -------------------------------------------------------

    def template_for(self, table: str) -> TableTemplate | None:
        """The table template ``table`` is keyed by, or ``None`` if absent."""
        version = self.table_versions.get(table)
        return get_template(version).tables[table] if version else None

    def table(self, name: str, keys: bool = False) -> pd.DataFrame:
        """The wide table ``name`` (``t2``, ``t3`` or ``t4``) as printed.

        Shape: one row per template row, one column per template column —
        表二 V2019 8 × 8 (the blocks share the union of their columns), V2021 6 × 5;
        表三 23 × 7 (V2019) or 25 × 7 (V2021); 表四 3 × 5 (行政复议,
        行政诉讼/未经复议直接起诉, 行政诉讼/复议后起诉 × 结果维持…总计).
        Rows and columns are MultiIndexes of the official label paths, padded
        with ``""`` (e.g. columns ``("申请人情况", "法人或其他组织", "商业企业")``);
        with ``keys=True`` they are the canonical row and column keys instead.
        Values are nullable ``Int64`` (counts, 件/项) or ``Float64`` (money
        columns).  A table the report lacks gives an empty DataFrame.

        :raises KeyError: ``name`` is not a table name.
        """
        if name not in TABLES:
            raise KeyError(f"no table {name!r}; tables are {', '.join(TABLES)}")
        memo = (name, keys)
        if memo not in self._frames:
            self._frames[memo] = self._build_frame(name, keys)
        return self._frames[memo]

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """``{"t2": …, "t3": …, "t4": …}`` of :meth:`table` with official labels."""
        return {t: self.table(t) for t in TABLES}

    def _build_frame(self, name: str, keys: bool) -> pd.DataFrame:
        import pandas as pd
        tt = self.template_for(name)
        if tt is None:
            return pd.DataFrame()
        cols = tt.columns
        depth = max(len(c.path) for c in cols)
        data: dict[tuple, list] = {}
        for c in cols:
            money = any(cc.kind == "money" for r in tt.rows for cc in r.columns if cc.path == c.path)
            dtype = "Float64" if money else "Int64"
            values = []
            for r in tt.rows:
                cell = next((self.cells.get(f"{name}.{r.key}.{cc.key}") for cc in r.columns if cc.path == c.path), None)
                values.append(cell.value if cell is not None else None)
            data[c.path] = pd.array(values, dtype=dtype)
        nlev = len(tt.row_levels)
        if keys:
            index = pd.Index([r.key for r in tt.rows], name="row_key")
            columns = pd.Index([c.key for c in cols], name="col_key")
        else:
            index = pd.MultiIndex.from_tuples([r.path + ("",) * (nlev - len(r.path)) for r in tt.rows],
                                              names=list(tt.row_levels))
            columns = pd.MultiIndex.from_tuples([c.path + ("",) * (depth - len(c.path)) for c in cols])
        frame = pd.DataFrame(dict(zip(range(len(cols)), data.values())), index=index)
        frame.columns = columns
        return frame

    def tidy(self) -> pd.DataFrame:
        """One row per numeric cell: columns :data:`TIDY_COLUMNS` (``key``,
        ``table``, ``row_key``, ``col_key``, ``row_label``, ``col_label``,
        ``value`` (``Float64``, nullable), ``unit``, ``raw``, ``flag``, and the
        report's ``source``, ``agency``, ``year`` (``Int64``), ``template``).
        Rows in template order; 198 (V2019) or 200 (V2021) for a complete report.
        A report read by OCR has one more column, ``confidence`` (``Float64``:
        the recogniser's score, null for cells not read by OCR)."""
        if "tidy" not in self._frames:
            import pandas as pd
            cells = list(self.cells.values())
            frame = pd.DataFrame({
                "key": [c.key for c in cells],
                "table": [c.table for c in cells],
                "row_key": [c.row_key for c in cells],
                "col_key": [c.col_key for c in cells],
                "row_label": [c.row_label for c in cells],
                "col_label": [c.col_label for c in cells],
                "value": pd.array([c.value for c in cells], dtype="Float64"),
                "unit": [c.unit for c in cells],
                "raw": [c.raw for c in cells],
                "flag": [c.flag for c in cells],
            }, columns=list(TIDY_COLUMNS[:10]))
            frame["source"] = self.source.path
            frame["agency"] = self.agency
            frame["year"] = pd.array([self.year] * len(cells), dtype="Int64")
            frame["template"] = self.template
            if any(c.confidence is not None for c in cells):  # read by OCR: the recogniser's score of each cell
                frame["confidence"] = pd.array([c.confidence for c in cells], dtype="Float64")
            self._frames["tidy"] = frame
        return self._frames["tidy"]

    def tidy_rows(self):
        """The rows of :meth:`tidy` as plain tuples in :data:`TIDY_COLUMNS` order,
        without pandas (for streaming exports): ``value`` is the printed
        ``int``/``float`` or ``None``, ``year`` an ``int`` or ``None``.

        :returns: an iterator of 14-tuples, in template order.
        """
        tail = (self.source.path, self.agency, self.year, self.template)
        for c in self.cells.values():
            yield (c.key, c.table, c.row_key, c.col_key, c.row_label, c.col_label, c.value, c.unit, c.raw,
                   c.flag) + tail

    # -- findings -----------------------------------------------------------

    @property
    def errors(self) -> list[Finding]:
        """The findings of severity ``error`` (broken identities)."""
        return [f for f in self.findings if f.severity == "error"]

    def has_tables(self) -> bool:
        """True if at least one statistics table was found."""
        return bool(self.table_versions)

    # -- serialisation ------------------------------------------------------

    def to_dict(self) -> dict:
        """The report as one JSON-ready dict: metadata, ``tables`` nested by
        canonical key (``tables["t3"]["granted"]["natural_person"]`` →
        ``{"value", "unit", "raw", "flag", "where"}``, spec §10), ``sections``,
        ``extra_rows``, ``findings``, ``narrative``; the whole shape is documented in
        :mod:`gipextract.export.json`, which writes it."""
        from . import __version__

        tables: dict = {}
        for c in self.cells.values():
            node = tables
            for part in c.key.split(".")[:-1]:
                node = node.setdefault(part, {})
            node[c.col_key] = {"value": c.value, "unit": c.unit, "raw": c.raw, "flag": c.flag, "where": c.where}
            if c.confidence is not None:  # read by OCR
                node[c.col_key]["confidence"] = c.confidence
        return {
            "gipextract": __version__,
            "source": asdict(self.source),
            "agency": self.agency,
            "year": self.year,
            "template": self.template,
            "table_versions": dict(self.table_versions),
            "title": list(self.title),
            "sections": {k: {"heading": self.headings.get(k), "text": v} for k, v in self.sections.items()},
            "tables": tables,
            "extra_rows": [asdict(e) for e in self.extra_rows],
            "findings": [f.to_dict() for f in self.findings],
            "narrative": [f.to_dict() for f in self.narrative],
        }

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text, Chinese kept as is (no ``\\uXXXX``)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)
