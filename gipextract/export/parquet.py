"""Parquet export of tidy cells (pyarrow), written in row groups as rows come.

The file has the columns of :data:`gipextract.report.TIDY_COLUMNS`, typed:
strings (null where :meth:`gipextract.report.Report.tidy_rows` has ``None``,
e.g. ``flag`` when there is nothing to say; the CSV writes an empty field),
``value`` as ``float64`` (counts and money in one column, ``unit`` says which;
null for a cell without a number, read ``flag``), ``year`` as ``int32`` (null
when unknown).  The
schema carries pandas metadata naming ``year``'s pandas type, so that
``pandas.read_parquet`` gives a nullable ``Int32`` column (``<NA>`` for an
unknown year) instead of turning the whole column into ``float64`` when one
year is missing.  Strings are dictionary-encoded and pages zstd-compressed,
so the repeated labels cost little.

:class:`TidyParquetWriter` streams: it buffers about ``row_group_size``
rows and writes each full buffer as one row group, so memory does not grow
with the number of reports.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator

import pyarrow as pa
import pyarrow.ipc  # noqa: F401 — pa.ipc
import pyarrow.parquet as pq

from ..report import TIDY_COLUMNS

#: pandas metadata (as ``DataFrame.to_parquet`` writes it) for the columns
#: whose pandas type is not pyarrow's default: ``year``, a nullable ``Int32``.
_PANDAS = {"index_columns": [], "column_indexes": [],
           "columns": [{"name": "year", "field_name": "year", "pandas_type": "int32", "numpy_type": "Int32",
                        "metadata": None}]}

#: The Arrow schema of a tidy-cells Parquet file: ``value`` float64, ``year``
#: int32 (pandas: ``Int32``), the other columns strings; all nullable.
SCHEMA = pa.schema([(name, pa.float64() if name == "value" else pa.int32() if name == "year" else pa.string())
                    for name in TIDY_COLUMNS], metadata={b"pandas": json.dumps(_PANDAS).encode("utf-8")})


def cells_batch(cells: Iterable[tuple], source: str, agency: str | None, year: int | None,
                template: str | None) -> pa.RecordBatch:
    """One report's cells as an Arrow record batch of :data:`SCHEMA`.

    :param cells: 10-tuples of the first ten :data:`TIDY_COLUMNS` (``key`` …
        ``flag``), ``value`` an ``int``/``float`` or ``None``.
    """
    columns = list(zip(*cells)) or [()] * 10
    n = len(columns[0])
    arrays = [pa.array(col, type=SCHEMA.field(j).type) for j, col in enumerate(columns)]
    arrays += [pa.array([v] * n, type=SCHEMA.field(10 + j).type)
               for j, v in enumerate((source, agency, year, template))]
    return pa.RecordBatch.from_arrays(arrays, schema=SCHEMA)


def batch_to_bytes(batch: pa.RecordBatch) -> bytes:
    """``batch`` in the Arrow IPC format (sent between processes: ten times
    cheaper than pickling the batch)."""
    return batch.serialize().to_pybytes()


def batch_from_bytes(data: bytes) -> pa.RecordBatch:
    """The record batch of :data:`SCHEMA` that :func:`batch_to_bytes` gave."""
    return pa.ipc.read_record_batch(pa.py_buffer(data), SCHEMA)


class TidyParquetWriter:
    """Append tidy rows to a Parquet file, one row group per ``row_group_size`` rows.

    Rows come as one record batch per report (:func:`cells_batch`, built where
    the report was read) or as Python rows; they are buffered as Arrow data and
    written when a row group is full.

    :param path: the file to write (created or truncated).
    :param row_group_size: rows buffered before a row group is written.
    :raises OSError: the file cannot be created or written.
    """

    def __init__(self, path: str | os.PathLike, row_group_size: int = 16384):
        self._writer = pq.ParquetWriter(os.fspath(path), SCHEMA, compression="zstd", use_dictionary=True)
        self._size = row_group_size
        self._pending: list[pa.RecordBatch] = []
        self._rows = 0

    def write_batch(self, batch: pa.RecordBatch) -> None:
        """Buffer ``batch`` (of :data:`SCHEMA`); write a row group when full."""
        if batch.num_rows:
            self._pending.append(batch)
            self._rows += batch.num_rows
            if self._rows >= self._size:
                self.flush()

    def write_report(self, cells: Iterable[tuple], source: str, agency: str | None, year: int | None,
                     template: str | None) -> None:
        """Buffer one report's cells (arguments of :func:`cells_batch`)."""
        self.write_batch(cells_batch(cells, source, agency, year, template))

    def write_rows(self, rows: Iterable[tuple]) -> None:
        """Buffer full rows (14-tuples in :data:`TIDY_COLUMNS` order)."""
        rows = list(rows)
        if rows:
            columns = list(zip(*rows))
            self.write_batch(pa.RecordBatch.from_arrays(
                [pa.array(col, type=field.type) for col, field in zip(columns, SCHEMA)], schema=SCHEMA))

    def flush(self) -> None:
        """Write the buffered rows as one row group (nothing if empty)."""
        if not self._pending:
            return
        table = pa.Table.from_batches(self._pending, schema=SCHEMA)
        self._writer.write_table(table, row_group_size=max(table.num_rows, 1))
        self._pending, self._rows = [], 0

    def close(self) -> None:
        """Flush and close the file (it is a valid Parquet file from then on)."""
        self.flush()
        self._writer.close()


def read_tidy_rows(path: str | os.PathLike, batch_size: int = 16384) -> Iterator[tuple]:
    """The rows of a tidy-cells Parquet file as tuples in :data:`TIDY_COLUMNS`
    order, streamed batch by batch (``value`` a ``float`` or ``None``).

    :raises OSError, pyarrow.ArrowInvalid: the file is missing or not Parquet.
    """
    pf = pq.ParquetFile(os.fspath(path))
    try:
        for batch in pf.iter_batches(batch_size=batch_size, columns=list(TIDY_COLUMNS)):
            yield from zip(*(col.to_pylist() for col in batch.columns))
    finally:
        pf.close()


def read_sources(path: str | os.PathLike, batch_size: int = 65536) -> Iterator[str]:
    """The ``source`` column of a tidy-cells Parquet file, streamed."""
    pf = pq.ParquetFile(os.fspath(path))
    try:
        for batch in pf.iter_batches(batch_size=batch_size, columns=["source"]):
            yield from batch.column(0).to_pylist()
    finally:
        pf.close()
