"""Parquet export of tidy cells (pyarrow), written in row groups as rows come.

The file has the columns of :data:`gipextract.report.TIDY_COLUMNS` with the
types of :meth:`gipextract.report.Report.tidy`: strings, ``value`` as
``float64`` (null for a cell without a number; read ``flag``), ``year`` as
``int32`` (null when unknown).  Strings are dictionary-encoded and pages
zstd-compressed, so the repeated labels cost little.

:class:`TidyParquetWriter` streams: it buffers at most ``row_group_size``
rows and writes each full buffer as one row group, so memory does not grow
with the number of reports.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from ..report import TIDY_COLUMNS

#: The Arrow schema of a tidy-cells Parquet file.
SCHEMA = pa.schema([(name, pa.float64() if name == "value" else pa.int32() if name == "year" else pa.string())
                    for name in TIDY_COLUMNS])


class TidyParquetWriter:
    """Append tidy rows (tuples in :data:`TIDY_COLUMNS` order) to a Parquet file.

    :param path: the file to write (created or truncated).
    :param row_group_size: rows buffered before a row group is written.
    :raises OSError: the file cannot be created or written.
    """

    def __init__(self, path: str | os.PathLike, row_group_size: int = 65536):
        self._writer = pq.ParquetWriter(os.fspath(path), SCHEMA, compression="zstd", use_dictionary=True)
        self._rows: list[tuple] = []
        self._size = row_group_size

    def write_rows(self, rows: Iterable[tuple]) -> None:
        """Buffer ``rows``; write a row group when the buffer is full."""
        self._rows.extend(rows)
        if len(self._rows) >= self._size:
            self.flush()

    def flush(self) -> None:
        """Write the buffered rows as one row group (nothing if empty)."""
        if not self._rows:
            return
        columns = list(zip(*self._rows))
        self._rows = []
        arrays = []
        for field, values in zip(SCHEMA, columns):
            if field.name == "value":
                values = [None if v is None else float(v) for v in values]
            arrays.append(pa.array(values, type=field.type))
        self._writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=SCHEMA))

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
