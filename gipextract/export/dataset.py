"""The batch dataset's derived tables: ``keys.csv`` (the data dictionary) and
``reports.csv`` / ``reports.parquet`` (one row per report, one column per key).

Everything here comes from the template data (``gipextract/templates/*.toml``,
template-spec §10): the canonical keys of both formats (:data:`ALL_KEYS`,
their union in printed order, table by table), their labels, units, kinds
and the versions that have them.  Nothing restates a key by hand.

``reports.csv`` columns: :data:`REPORT_META` then :data:`ALL_KEYS`.  A key
column holds the number the report printed (counts as integers, money with
its fraction) or is empty: the report printed none, the cell was not read or
the report's format has no such cell; the reason is the cell's ``flag`` in
``cells.csv``.  Values are in the unit the cell was printed in (``cells.csv``
``unit``; ``keys.csv`` gives the format's unit).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache

from ..templates import TABLE_SHORT, TABLES, VERSIONS, get_template

#: Columns of ``keys.csv``.
KEY_COLUMNS = ("key", "table", "row_key", "col_key", "row_label", "col_label", "unit", "kind", "versions")

#: The columns of ``reports.csv`` before the key columns.
REPORT_META = ("source", "organ", "agency", "year", "template", "status", "identities", "n_unread")


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """One canonical key of the data dictionary (a row of ``keys.csv``).

    :ivar key: ``t3.granted.natural_person``.
    :ivar table: ``t2``, ``t3`` or ``t4``.
    :ivar row_key, col_key: the key's two parts.
    :ivar row_label: the row's official label path, levels joined by `` / ``.
    :ivar col_label: the column's official header path, joined alike.
    :ivar unit: ``件``, ``项``, ``万元``… as the format fixes it, or ``""``.
    :ivar kind: ``count``, ``signed`` or ``money`` (template-spec §10).
    :ivar versions: the formats having the key, space-separated (``V2019 V2021``).
    """

    key: str
    table: str
    row_key: str
    col_key: str
    row_label: str
    col_label: str
    unit: str
    kind: str
    versions: str

    def row(self) -> tuple[str, ...]:
        """The key as a ``keys.csv`` row (:data:`KEY_COLUMNS` order)."""
        return (self.key, self.table, self.row_key, self.col_key, self.row_label, self.col_label, self.unit,
                self.kind, self.versions)


@cache
def keys_info() -> tuple[KeyInfo, ...]:
    """Every canonical key of every format version, table by table (t2, t3,
    t4), each table's keys in the printed order of the first version having
    them (V2019, then the keys only V2021 has)."""
    found: dict[str, tuple] = {}
    versions: dict[str, list[str]] = {}
    for t in TABLES:
        for v in VERSIONS:
            tt = get_template(v).tables[t]
            for r in tt.rows:
                for c in r.columns:
                    key = f"{t}.{r.key}.{c.key}"
                    versions.setdefault(key, []).append(v)
                    found.setdefault(key, (t, r, c))
    return tuple(KeyInfo(key, t, r.key, c.key, " / ".join(r.path), " / ".join(c.path), c.unit or "", c.kind,
                         " ".join(versions[key]))
                 for key, (t, r, c) in found.items())


#: Every canonical key of both formats (the key columns of ``reports.csv``).
ALL_KEYS: tuple[str, ...] = tuple(k.key for k in keys_info())

#: ``reports.csv``'s columns.
REPORT_COLUMNS: tuple[str, ...] = REPORT_META + ALL_KEYS


def key_description(info: KeyInfo) -> str:
    """A one-line description of a key column: ``表三 row / column (件)``."""
    unit = f" ({info.unit})" if info.unit else ""
    return f"{TABLE_SHORT[info.table]} {info.row_label} | {info.col_label}{unit}; formats {info.versions}"


def _csv_text(rows: Iterable[Iterable]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def keys_csv(bom: bool = False) -> str:
    """``keys.csv`` as text: header and one row per key of :func:`keys_info`;
    with ``bom`` a UTF-8 byte-order mark first (for Excel)."""
    return ("\ufeff" if bom else "") + _csv_text([KEY_COLUMNS, *(k.row() for k in keys_info())])


def _number(v: int | float | None) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def wide_values(values: Mapping[str, int | float | None]) -> tuple[str, ...]:
    """The key columns of one ``reports.csv`` row as text: for each key of
    :data:`ALL_KEYS` its value in ``values`` (key → number or ``None``), or
    ``""`` when absent or ``None``."""
    return tuple(_number(values.get(k)) for k in ALL_KEYS)


class ReportsParquetWriter:
    """Writes ``reports.parquet``: the rows of ``reports.csv``, typed —
    ``year`` and ``n_unread`` ``int32``, count keys ``int64``, money keys
    ``float64``, the rest strings; an empty field is a null.  Rows are
    buffered and written in row groups of ``rows_per_group`` (memory does not
    grow with the number of reports).  A file with no row still has the schema.

    :raises OSError: the file cannot be written.
    """

    def __init__(self, path: str | os.PathLike, rows_per_group: int = 2000):
        import pyarrow as pa
        import pyarrow.parquet as pq

        kinds = {k.key: k.kind for k in keys_info()}
        types = {c: pa.string() for c in REPORT_META}
        types["year"] = types["n_unread"] = pa.int32()
        for k in ALL_KEYS:
            types[k] = pa.float64() if kinds[k] == "money" else pa.int64()
        self._pa = pa
        self._schema = pa.schema([(c, types[c]) for c in REPORT_COLUMNS])
        self._writer = pq.ParquetWriter(path, self._schema, compression="zstd")
        self._rows: list[list[str]] = []
        self._size = rows_per_group

    def write(self, row: list[str]) -> None:
        """Add one ``reports.csv`` row (texts, :data:`REPORT_COLUMNS` order)."""
        self._rows.append(row)
        if len(self._rows) >= self._size:
            self._flush()

    def _flush(self) -> None:
        import pyarrow.compute as pc

        pa = self._pa
        columns = list(zip(*self._rows)) if self._rows else [()] * len(REPORT_COLUMNS)
        arrays = []
        for col, f in zip(columns, self._schema):  # texts → typed by Arrow's casts; an empty field is null
            texts = pa.array(col, pa.string())
            texts = pc.if_else(pc.equal(texts, ""), pa.scalar(None, pa.string()), texts)
            arrays.append(texts if f.type == pa.string() else texts.cast(f.type))
        self._writer.write_table(self._pa.Table.from_arrays(arrays, schema=self._schema))
        self._rows = []

    def close(self) -> None:
        """Write the buffered rows and close the file."""
        if self._rows:
            self._flush()
        self._writer.close()


def read_csv_rows(path: str | os.PathLike) -> Iterator[list[str]]:
    """The rows (header first) of a CSV gipextract wrote, BOM or not."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        yield from csv.reader(fh)
