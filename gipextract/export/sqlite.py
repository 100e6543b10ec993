"""``gipextract.db``: the batch dataset as one SQLite database (sqlite-utils),
and the Datasette ``metadata.json`` that describes it.

Tables (``cells`` written as the reports arrive, the others from the batch's
CSV files once they are complete; :class:`DatabaseWriter`):

``manifest``  one row per input, primary key ``path``.
``reports``   one row per report read (``ok``/``partial``), primary key
              ``source`` → ``manifest.path``; one column per canonical key.
``cells``     tidy cells, primary key ``(source, key)``; ``source`` →
              ``manifest.path``, ``key`` → ``keys.key``.  Only ``source,
              key, value, unit, raw, flag``: labels are in ``keys``, the
              report's agency, year and template in ``manifest`` (the view
              ``cells_labelled`` joins them back), which keeps the
              database about a third of the size.
``findings``  every finding; ``source`` → ``manifest.path``.
``keys``      the data dictionary, primary key ``key``.

``cells`` is a ``WITHOUT ROWID`` table (its rows are stored in primary-key
order, once).  Indexes: ``cells(key)``, ``findings(source)``, ``findings(rule)``,
``reports(organ, year)``, ``manifest(status)``, ``manifest(organ, year)``.
Numbers are SQLite integers or reals (money); an empty CSV field is NULL
(``raw`` too: a cell printed empty and a row the report lacks are told apart
by ``flag``).
``datasette gipextract.db --metadata metadata.json`` browses it.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
from collections.abc import Mapping, Sequence
from itertools import repeat

from ..report import TIDY_COLUMNS
from .dataset import ALL_KEYS, KEY_COLUMNS, REPORT_META, key_description, keys_info, read_csv_rows

#: Tables in the order they are created (referenced tables first).
TABLE_ORDER = ("keys", "manifest", "reports", "cells", "findings")

_INT, _FLOAT = int, float

#: Column → Python type for the non-text columns of each table.
_TYPES: dict[str, dict[str, type]] = {
    "manifest": {"year": _INT, "n_unread": _INT, "n_cells": _INT, "n_null": _INT, "n_errors": _INT},
    "cells": {"value": _FLOAT, "year": _INT},
    "findings": {},
    "keys": {},
    "reports": {"year": _INT, "n_unread": _INT},
}
_PKS = {"manifest": "path", "reports": "source", "cells": ("source", "key"), "keys": "key"}
_FKS = {
    "reports": [("source", "manifest", "path")],
    "cells": [("source", "manifest", "path"), ("key", "keys", "key")],
    "findings": [("source", "manifest", "path")],
}
_INDEXES = {"cells": [["key"]], "findings": [["source"], ["rule"]], "reports": [["organ", "year"]],
            "manifest": [["status"], ["organ", "year"]]}


def _report_types() -> dict[str, type]:
    kinds = {k.key: k.kind for k in keys_info()}
    return {**_TYPES["reports"], **{k: _FLOAT if kinds[k] == "money" else _INT for k in ALL_KEYS}}


#: The columns of cells.csv the database keeps (the rest are joins away).
CELL_COLUMNS = ("source", "key", "value", "unit", "raw", "flag")
#: Those columns in the table, in cells.csv's order.
_CELL_TABLE = tuple(c for c in TIDY_COLUMNS if c in CELL_COLUMNS)

_VIEW = """select c.source, c.key, k."table", k.row_key, k.col_key, k.row_label, k.col_label, c.value, c.unit,
    c.raw, c.flag, m.organ, m.agency, m.year, m.template
from cells c join keys k on k.key = c.key join manifest m on m.path = c.source"""


class DatabaseWriter:
    """``gipextract.db`` written while a batch runs: ``cells`` rows go in as
    each report arrives (typed values straight from the reports, never parsed
    back from ``cells.csv``); the other tables are loaded from their finished
    CSV files by :meth:`finish`, which also creates the indexes and the view.

    Use: ``DatabaseWriter(path, headers)``, :meth:`add_cells` per report,
    then :meth:`finish` (or :meth:`discard`).  Journal and fsync are off: the
    file is a temporary one until the batch renames it into place.

    :param db_path: the database file (missing or empty: the batch stages an empty temporary file).
    :param headers: table → its columns, for every table of
        :data:`TABLE_ORDER` but ``cells`` (whose columns are :data:`CELL_COLUMNS`).
    :raises OSError: the file cannot be created (from every method: cannot be written).
    """

    def __init__(self, db_path: str | os.PathLike, headers: Mapping[str, Sequence[str]]):
        import sqlite_utils

        self._headers = {**headers, "cells": _CELL_TABLE}
        try:
            self._db = sqlite_utils.Database(str(db_path))
            self._db.execute("PRAGMA journal_mode = OFF")
            self._db.execute("PRAGMA synchronous = OFF")
            for name in TABLE_ORDER:  # referenced tables first: sqlite-utils checks foreign keys
                types = _report_types() if name == "reports" else _TYPES[name]
                columns = {c: types.get(c, str) for c in self._headers[name]}
                pk = _PKS.get(name)
                sql = self._db.create_table_sql(name, columns, pk=pk, foreign_keys=_FKS.get(name, []),
                                                not_null=set(_pk_columns(pk)))
                if name == "cells":  # small rows clustered on (source, key): no rowid, no second copy of the key
                    sql = sql.rstrip().rstrip(";") + " WITHOUT ROWID"
                self._db.execute(sql)
        except sqlite3.Error as e:
            raise _write_error(e) from None
        self._insert_cells = ("INSERT INTO [cells] ([source], [key], [value], [unit], [raw], [flag]) "
                              "VALUES (?, ?, ?, NULLIF(?, ''), NULLIF(?, ''), NULLIF(?, ''))")

    def add_cells(self, source: str, keys: Sequence[str], values: Sequence, units: Sequence,
                  raws: Sequence, flags: Sequence) -> None:
        """Insert one report's cells: equally long columns (``value`` an
        ``int``, ``float`` or ``None``; an empty text is stored as NULL, as
        an empty CSV field is).

        :raises OSError: the database cannot be written (a full disk).
        """
        try:
            self._db.conn.executemany(self._insert_cells, zip(repeat(source), keys, values, units, raws, flags))
        except sqlite3.Error as e:
            raise _write_error(e) from None

    def finish(self, csvs: Mapping[str, str | os.PathLike]) -> None:
        """Load every other table from its CSV file, create the indexes and
        the ``cells_labelled`` view, commit and close.

        :param csvs: table name → its finished CSV file, for each table of
            :data:`TABLE_ORDER` but ``cells``.
        :raises OSError: a file cannot be read, or the database written.
        """
        db = self._db
        try:
            for name in TABLE_ORDER:
                if name != "cells":
                    records = read_csv_rows(csvs[name])
                    header = next(records)
                    if tuple(header) != tuple(self._headers[name]):
                        raise OSError(f"{csvs[name]}: columns {header} are not those of table {name}")
                    # the rows are ordered: bulk-load their texts straight, an empty field as NULL; SQLite
                    # types them by the columns' affinity (INTEGER, FLOAT: '12' → 12, 12.0), as int() and
                    # float() would (sqlite-utils' insert_all would inspect every value, five times the cost)
                    marks = ", ".join(["NULLIF(?, '')"] * len(header))
                    db.conn.executemany(f"INSERT INTO [{name}] ({', '.join(f'[{c}]' for c in header)}) "
                                        f"VALUES ({marks})", records)
            for name in TABLE_ORDER:
                for index in _INDEXES.get(name, []):
                    db.table(name).create_index(index)
            db.create_view("cells_labelled", _VIEW)
            db.conn.commit()
        except sqlite3.Error as e:
            raise _write_error(e) from None
        finally:
            db.close()

    def discard(self) -> None:
        """Close without finishing (the caller removes the file)."""
        self._db.close()


def _write_error(e: sqlite3.Error) -> OSError:
    """SQLite's failure to write (a full disk: "database or disk is full", a
    file size limit: "disk I/O error") as an ``OSError`` whose ``strerror``
    names the database."""
    return OSError(errno.EIO, f"{e} (gipextract.db)")


def _pk_columns(pk) -> tuple[str, ...]:
    if pk is None:
        return ()
    return (pk,) if isinstance(pk, str) else tuple(pk)


def datasette_metadata(manifest_fields: Mapping[str, str], cell_fields: Mapping[str, str],
                       finding_fields: Mapping[str, str], *, title: str) -> dict:
    """Datasette metadata for ``gipextract.db``: a title, a description of
    each table and of each column (labels and units of the key columns).

    :param manifest_fields, cell_fields, finding_fields: column → description
        (as the datapackage descriptor has them).
    """
    report_cols = {c: manifest_fields.get(c, "") for c in REPORT_META}
    report_cols["source"] = "The input file (manifest.path)."
    report_cols["organ"] = ("The issuing organ, normalised so that one organ has one name in every year "
                            "(see manifest.organ).")
    report_cols.update({k.key: key_description(k) for k in keys_info()})
    keys_cols = {
        "key": "Canonical cell key (template-spec §10): <table>.<row key>.<column key>.",
        "table": "t2 (表二 主动公开), t3 (表三 收到和处理申请), t4 (表四 行政复议/行政诉讼).",
        "row_key": "Canonical row key.", "col_key": "Canonical column key.",
        "row_label": "The row's official label path, levels joined by ' / '.",
        "col_label": "The column's official header path, levels joined by ' / '.",
        "unit": "The unit the format fixes (件, 项, 万元); a cell printed in another unit says so in cells.unit.",
        "kind": "count (a whole number ≥ 0), signed (may be negative), money (may have a fraction).",
        "versions": "The format versions having the key (V2019 = 国办公开办函〔2019〕60号, V2021 = 〔2021〕30号).",
    }
    assert tuple(keys_cols) == KEY_COLUMNS
    tables = {
        "manifest": ("One row per input file: how it was read (status, identities, n_unread), its organ, year "
                     "and the same organ's report of the year before (previous).", dict(manifest_fields)),
        "reports": ("One row per report read (status ok or partial), one column per canonical key: the table a "
                    "researcher pivots, merges and plots. An empty cell has no number: read cells.flag.",
                    report_cols),
        "cells": ("Every numeric table cell of every report, one row per cell, with the text as printed (raw) "
                  "and why a value is empty (flag); labels in keys, the report's organ and year in manifest "
                  "(the view cells_labelled joins them).",
                  {c: cell_fields.get(c, "") for c in CELL_COLUMNS}),
        "findings": ("Broken identities (勾稽关系), reading problems and cross-year checks (T3-Y, T2-Y1).",
                     dict(finding_fields)),
        "keys": ("The data dictionary: one row per canonical key of both formats, from the template data.",
                 keys_cols),
    }
    return {
        "title": title,
        "description": ("Statistics tables of Chinese government information-disclosure annual reports "
                        "(政府信息公开工作年度报告), extracted by gipextract."),
        "databases": {"gipextract": {"tables": {
            name: {"description": desc, "columns": cols} for name, (desc, cols) in tables.items()}}},
    }


def metadata_json(meta: dict) -> str:
    """``meta`` as JSON text (Chinese kept), ending in a newline."""
    return json.dumps(meta, ensure_ascii=False, indent=2) + "\n"
