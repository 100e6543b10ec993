"""The output directory of a batch: streamed, then committed in one step.

Layout of ``OUTDIR``::

    manifest.csv      one row per input (MANIFEST_COLUMNS): status, identities,
                      n_unread, organ, previous (gipextract.status)
    cells.csv         tidy cells of every report (TIDY_COLUMNS), input order
    cells.parquet     the same rows, typed (gipextract.export.parquet)
    findings.csv      every finding with its source (FINDING_COLUMNS)
    narrative.csv     the figures each report's text quotes (gipextract.narrative.NARRATIVE_COLUMNS),
                      input order, as the workers return them
    reports.csv       one row per report read (ok, partial), one column per
                      canonical key (gipextract.export.dataset.REPORT_COLUMNS)
    reports.parquet   the same rows, typed
    keys.csv          the data dictionary (gipextract.export.dataset.KEY_COLUMNS)
    gipextract.db     all of the above as SQLite (gipextract.export.sqlite)
    metadata.json     Datasette metadata for gipextract.db
    datapackage.json  Frictionless descriptor of the CSVs
    reports/<rel>/report.json   with ``reports`` (``batch --reports``) only: one
                                JSON document per input that was read, as
                                `gipextract extract` writes it (compact); the
                                cross-report findings are in findings.csv only

How it stays consistent.  While a batch runs, ``cells.csv``, ``cells.parquet``,
``findings.csv`` and ``narrative.csv`` are written under temporary names in ``OUTDIR``
(``.gipextract-<name>.<random>.tmp``), appending each input's rows as its
result arrives in input order (``cells.csv`` and ``cells.parquet`` a row group
of 16,384 cells at a time, both made by Arrow from the same arrays; the
database's ``cells`` as each report arrives); new ``report.json`` files are staged under
``OUTDIR/.gipextract-reports/`` (:data:`STAGING`), and every finished
result is also appended to the journal (:mod:`gipextract.batch.journal`), which
is what ``--resume`` recovers after a batch killed outright.
:meth:`OutputDir.commit` then appends the cross-report findings, closes the
files, removes the previous ``manifest.csv``, moves the staged reports into
``reports/`` and renames the files into place, ``manifest.csv`` last: the
manifest is the commit record, listing exactly the inputs whose rows are in
the other files, and a manifest never lists a report.json of another run
(killed between those steps, the directory has no manifest and ``--resume``
recovers the run from its journal).  Report files of inputs that the new
manifest does not list are removed right after.  Until the commit the
previous outputs, if any, are untouched (except report.json files of kept
inputs whose relative path changed, moved to their new place).  The manifest
rows are kept in memory until the commit (their ``organ`` and ``previous``
need the whole batch); ``reports.csv`` is streamed without its ``organ`` and
rewritten with it at the commit; the other derived files
(:data:`DERIVED_OUTPUTS`) are each written by one method from the finished
CSVs.  With ``excel`` every CSV starts with a UTF-8 BOM; a CSV without rows
still has its header.

:class:`PreviousRun` reads a committed directory back for ``--resume``: the
rows of inputs that are unchanged (same path, same sha256, not ``failed``)
are copied from the old ``cells.parquet`` and ``findings.csv`` instead of
converting the file again.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ..atomic import sync_dir, umask
from ..crossreport import CROSS_RULES, NEEDED_KEYS
from ..document import Source
from ..errors import OutputError
from ..export.csv import TidyCsvFormatter
from ..export.datapackage import FileInfo, descriptor
from ..export.datapackage import to_json as datapackage_json
from ..export.dataset import KEY_COLUMNS, REPORT_COLUMNS, keys_csv, read_csv_rows, wide_values
from ..export.findings import FINDINGS_COLUMNS, findings_csv
from ..narrative import NARRATIVE_COLUMNS
from ..report import TIDY_COLUMNS, Finding, Report
from ..templates import fallback_version
from .inputs import InputFile, report_path
from .worker import FileResult

if TYPE_CHECKING:
    import pyarrow.parquet as pq

    from ..export.sqlite import DatabaseWriter

MANIFEST_COLUMNS = ("path", "sha256", "format", "status", "identities", "n_unread", "error", "template", "year",
                    "agency", "organ", "previous", "n_cells", "n_null", "n_errors", "report")
_COL = {c: i for i, c in enumerate(MANIFEST_COLUMNS)}
FINDING_COLUMNS = FINDINGS_COLUMNS  # as `gipextract extract -o DIR` writes findings.csv
TMP_PREFIX = ".gipextract-"
#: Statuses whose reports have a row in reports.csv.
READ_STATUSES = ("ok", "partial")
#: Files derived at the commit from the finished CSVs, each by one method of
#: :class:`OutputDir` (``_write_<name with _ for .>``), in this order.
DERIVED_OUTPUTS = ("reports.csv", "reports.parquet", "keys.csv", "gipextract.db", "metadata.json")
#: Files of a committed output directory, in the order they are renamed into place.
OUTPUT_FILES = ("cells.csv", "cells.parquet", "findings.csv", "narrative.csv", *DERIVED_OUTPUTS, "datapackage.json",
                "manifest.csv")
_BOM = "\ufeff".encode("utf-8")
#: The directory under ``OUTDIR`` where a running batch stages its report.json files.
STAGING = ".gipextract-reports"

_SOURCE = TIDY_COLUMNS.index("source")


def _text(v) -> str:
    return "" if v is None else str(v)


class _CsvStream:
    """A CSV file written under a temporary name, hashed as it is written."""

    def __init__(self, final: Path, header: Iterable[str], bom: bool = False, tmp: Path | None = None):
        if tmp is None:
            fd, name = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{final.name}.", suffix=".tmp", dir=final.parent)
            self.final, self.tmp = final, Path(name)
            self._fh = os.fdopen(fd, "wb")
        else:  # a temporary file already made
            self.final, self.tmp = final, tmp
            self._fh = open(tmp, "wb")
        self._hash, self.size = hashlib.sha256(), 0
        self._buf = io.StringIO()
        self._csv = csv.writer(self._buf, lineterminator="\n")
        if bom:
            self.write_text(_BOM)
        self.write_rows([header])

    def write_rows(self, rows: Iterable[Iterable]) -> None:
        self._buf.seek(0)
        self._buf.truncate()
        self._csv.writerows(rows)
        self.write_text(self._buf.getvalue())

    def write_text(self, text: str | bytes) -> None:
        """Append CSV text (or its UTF-8 bytes) that is already formatted."""
        data = text.encode("utf-8") if isinstance(text, str) else text
        if data:
            self._hash.update(data)
            self.size += len(data)
            self._fh.write(data)

    def close(self) -> FileInfo:
        if not self._fh.closed:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
        return FileInfo(self.final.name, self.size, self._hash.hexdigest())


def _write_report(path: str, data: bytes) -> None:
    """Write one staged report.json (in :data:`STAGING`, which is removed
    whole when the batch fails; a partial file is removed at once)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        with open(path, "wb") as fh:
            fh.write(data)
    except OSError:
        try:
            os.unlink(path)
        except OSError:
            pass
        raise


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def clean_stale_temporaries(root: Path) -> None:
    """Remove temporary files a killed batch left in ``root`` (ours only),
    and its staged report.json files."""
    for p in root.glob(f"{TMP_PREFIX}*.tmp"):
        try:
            p.unlink()
        except OSError:
            pass
    shutil.rmtree(root / STAGING, ignore_errors=True)


class OutputDir:
    """Writes one batch's outputs into ``root`` (module docstring).

    Use: :meth:`begin`, then :meth:`add` or :meth:`add_reused` once per input
    in input order, then :meth:`commit` (or :meth:`discard` on a fatal error).

    :raises OutputError: from every method, when a file cannot be written;
        the previous outputs are then untouched.
    """

    def __init__(self, root: str | os.PathLike, excel: bool = False, reports: bool = False):
        """:param reports: write ``reports/<rel>/report.json`` (``batch --reports``)."""
        self.root = Path(root)
        self.excel = excel
        self.reports = reports
        self._new_reports: list[str] = []  # report paths staged under STAGING
        #: the manifest rows so far (``organ`` and ``previous`` empty until the commit).
        self.rows: list[list[str]] = []
        self._manifest: _CsvStream | None = None
        self._reports: _CsvStream | None = None
        self._staged: dict[str, Path] = {}
        self._listed: set[str] = set()  # report.json paths of the manifest rows
        self._cells: _CsvStream | None = None
        self._findings: _CsvStream | None = None
        self._narrative: _CsvStream | None = None
        self._parquet: _CellsParquet | None = None
        self._parquet_tmp: Path | None = None
        self._db: DatabaseWriter | None = None

    # -- lifecycle ------------------------------------------------------------

    def begin(self) -> None:
        """Create ``root`` and the temporary output files."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            clean_stale_temporaries(self.root)
            self._cells = _CsvStream(self.root / "cells.csv", TIDY_COLUMNS, self.excel)
            self._findings = _CsvStream(self.root / "findings.csv", FINDING_COLUMNS, self.excel)
            self._narrative = _CsvStream(self.root / "narrative.csv", NARRATIVE_COLUMNS, self.excel)
            self._reports = _CsvStream(self.root / ".reports.body", REPORT_COLUMNS)
            fd, tmp = tempfile.mkstemp(prefix=f"{TMP_PREFIX}cells.parquet.", suffix=".tmp", dir=self.root)
            os.close(fd)
            self._parquet_tmp = Path(tmp)
            self._parquet = _CellsParquet(tmp, self._cells.write_text)
            from ..export.sqlite import DatabaseWriter
            self._db = DatabaseWriter(self._stage("gipextract.db"), {
                "keys": KEY_COLUMNS, "manifest": MANIFEST_COLUMNS, "reports": REPORT_COLUMNS,
                "findings": FINDING_COLUMNS})
        except OSError as e:
            self.discard()
            raise OutputError(f"cannot write output: {e.strerror or e}", path=str(self.root)) from None

    def discard(self) -> None:
        """Close and delete the temporary files; the previous outputs stay."""
        for stream in (self._manifest, self._cells, self._findings, self._reports, self._narrative):
            if stream is not None:
                try:
                    stream._fh.close()
                    stream.tmp.unlink()
                except OSError:
                    pass
        if self._db is not None:
            try:
                self._db.discard()
            except Exception:  # noqa: BLE001 — best effort while failing anyway
                pass
            self._db = None
        for tmp in self._staged.values():
            tmp.unlink(missing_ok=True)
        self._staged = {}
        if self._parquet is not None:
            try:
                self._parquet._writer.close()
            except Exception:  # noqa: BLE001 — best effort while failing anyway
                pass
        if self._parquet_tmp is not None:
            self._parquet_tmp.unlink(missing_ok=True)
        shutil.rmtree(self.root / STAGING, ignore_errors=True)
        self._new_reports = []
        self._manifest = self._cells = self._findings = self._parquet = self._reports = self._narrative = None

    # -- rows -----------------------------------------------------------------

    def add(self, entry: InputFile, result: FileResult) -> list[str]:
        """Append a converted input's rows; write its report.json.

        :returns: its manifest row.
        """
        report = ""
        assert self._cells is not None and self._findings is not None and self._reports is not None
        assert self._parquet is not None
        try:
            if self.reports and result.report_json is not None:
                report = report_path(entry.rel)
                _write_report(os.path.join(self.root, STAGING, report), result.report_json)
                self._new_reports.append(report)
            if result.n_cells and result.cells_columns is not None:
                self._parquet.add(result.cells_columns, result.path, result.agency, result.year, result.template)
                self._add_db_cells(result.path, result.cells_columns)
            if result.findings_csv:
                self._findings.write_text(result.findings_csv)
            if result.narrative_csv and self._narrative is not None:
                self._narrative.write_text(result.narrative_csv)
            if result.status in READ_STATUSES and result.wide is not None:
                self._reports.write_rows([(entry.path, "", _text(result.agency), _text(result.year),
                                           _text(result.template), result.status, result.identities,
                                           str(result.n_unread), *result.wide)])
        except OSError as e:
            raise OutputError(f"cannot write output: {e.strerror or e}", path=str(self.root)) from None
        row = [entry.path, _text(result.sha256), _text(result.format), result.status, result.identities,
               str(result.n_unread), _text(result.error), _text(result.template), _text(result.year),
               _text(result.agency), "", "", str(result.n_cells), str(result.n_null), str(result.n_errors), report]
        self._record(row)
        return row

    def add_reused(self, entry: InputFile, old: dict[str, str], cells: list[tuple],
                   findings: list[list[str]], narrative: list[list[str]] = ()) -> list[str]:  # type: ignore[assignment]
        """Append an unchanged input's rows from the previous run (``--resume``).

        :param old: its row of the previous manifest.
        :param cells: its tidy rows (14-tuples) from the previous ``cells.parquet``.
        :param findings: its rows of the previous ``findings.csv``, without
            cross-report findings (those are recomputed).
        :param narrative: its rows of the previous ``narrative.csv``.
        """
        report = report_path(entry.rel) if self.reports and old["report"] else ""
        assert self._cells is not None and self._findings is not None and self._reports is not None
        assert self._parquet is not None and self._narrative is not None
        try:
            if narrative:
                self._narrative.write_rows(narrative)
            if report and old["report"] != report:
                (self.root / report).parent.mkdir(parents=True, exist_ok=True)
                os.replace(self.root / old["report"], self.root / report)
            if cells:
                meta = cells[0][10:]
                columns = tuple(zip(*(c[:10] for c in cells)))
                self._parquet.add(columns, *meta)
                self._add_db_cells(meta[0], columns)
            if findings:
                self._findings.write_rows(findings)
            if old["status"] in READ_STATUSES:
                wide = wide_values({c[0]: c[6] for c in cells})
                self._reports.write_rows([(entry.path, "", old["agency"], old["year"], old["template"],
                                           old["status"], old["identities"], old["n_unread"], *wide)])
        except OSError as e:
            raise OutputError(f"cannot write output: {e.strerror or e}", path=str(self.root)) from None
        row = [old[c] for c in MANIFEST_COLUMNS[:-1]] + [report]
        row[_COL["organ"]] = row[_COL["previous"]] = ""
        self._record(row)
        return row

    def _add_db_cells(self, source: str, columns: tuple[tuple, ...]) -> None:
        assert self._db is not None
        self._db.add_cells(source, columns[0], *columns[6:10])

    def _record(self, row: list[str]) -> None:
        self.rows.append(row)
        if row[-1]:
            self._listed.add(os.path.normpath(os.path.join(self.root, row[-1])))

    # -- commit ---------------------------------------------------------------

    def _remove_stale_reports(self) -> None:
        """Delete reports/**/report.json (and our temporaries) that the new
        manifest does not list; then empty directories."""
        top = self.root / "reports"
        if not top.is_dir():
            return
        listed = self._listed
        for dirpath, _dirnames, filenames in os.walk(top, topdown=False):
            for name in filenames:
                p = os.path.join(dirpath, name)
                stale_tmp = name.startswith(".report.json.") and name.endswith(".tmp")
                if (name == "report.json" and os.path.normpath(p) not in listed) or stale_tmp:
                    os.unlink(p)
            if dirpath != str(top) and not os.listdir(dirpath):
                os.rmdir(dirpath)

    def commit(self, cross: Iterable[tuple[str, list[Finding]]],
               organs: dict[str, tuple[str, str]] | None = None) -> dict[str, FileInfo]:
        """Finish the batch: append ``cross`` (``(source, cross-report
        findings)`` in input order, e.g. streamed from
        :func:`gipextract.crossreport.iter_cross_report_findings`) to
        findings.csv, fill each manifest row's ``organ`` and ``previous`` from
        ``organs`` (path → ``(organ, previous path)``), write the manifest and
        the :data:`DERIVED_OUTPUTS`, then rename every file into place,
        ``manifest.csv`` last.

        :returns: resource name → :class:`FileInfo` of the CSVs written.
        """
        organs = organs or {}
        assert self._cells is not None and self._findings is not None and self._reports is not None
        assert self._parquet is not None and self._parquet_tmp is not None
        try:
            for source, found in cross:
                self._findings.write_text(_cross_findings_csv(source, found))
            self._manifest = _CsvStream(self.root / "manifest.csv", MANIFEST_COLUMNS, self.excel)
            for row in self.rows:
                row[_COL["organ"]], row[_COL["previous"]] = organs.get(row[0], ("", ""))
            manifest = self._manifest
            manifest.write_rows(self.rows)
            self._parquet.close()  # its last row group's cells.csv lines first
            infos = {"cells": self._cells.close(), "findings": self._findings.close()}
            assert self._narrative is not None
            self._narrative.close()
            self._reports.close()
            _fsync_file(self._parquet_tmp)
            infos = {"manifest": manifest.close(), **infos}
            for name in DERIVED_OUTPUTS:
                tmp = self._staged.get(name) or self._stage(name)
                info = getattr(self, "_write_" + name.replace(".", "_"))(tmp)
                if info is not None:
                    infos[name.split(".")[0]] = info
            pkg = descriptor(infos, title="gipextract batch: government information-disclosure annual reports",
                             encoding="utf-8-sig" if self.excel else "utf-8")
            self._stage("datapackage.json").write_bytes(datapackage_json(pkg).encode("utf-8"))
            staged = {"cells.csv": self._cells.tmp, "cells.parquet": self._parquet_tmp,
                      "findings.csv": self._findings.tmp, "narrative.csv": self._narrative.tmp, **self._staged,
                      "manifest.csv": manifest.tmp}
            mode = 0o666 & ~umask()
            for name in OUTPUT_FILES:
                _fsync_file(staged[name])
                os.chmod(staged[name], mode)
            # from here on the previous run is replaced: first its commit record goes, so that no manifest
            # ever lists a report.json (or rows) of another run; killed before the new one is in place,
            # the directory has no manifest and --resume recovers this run from its journal
            (self.root / "manifest.csv").unlink(missing_ok=True)
            sync_dir(self.root)
            for report in self._new_reports:
                target = self.root / report
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(self.root / STAGING / report, target)
            for name in OUTPUT_FILES:
                os.replace(staged[name], self.root / name)
            self._reports.tmp.unlink(missing_ok=True)
            sync_dir(self.root)
            shutil.rmtree(self.root / STAGING, ignore_errors=True)
            self._new_reports = []
            self._remove_stale_reports()  # after the commit: an unlisted report.json is harmless, a missing one not
        except OSError as e:
            self.discard()
            raise OutputError(f"cannot write output: {e.strerror or e}", path=str(self.root)) from None
        self._manifest = self._cells = self._findings = self._parquet = self._reports = self._narrative = None
        self._staged = {}
        return infos

    # -- the derived outputs (DERIVED_OUTPUTS), each from the finished files ------

    def _stage(self, name: str) -> Path:
        fd, tmp = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{name}.", suffix=".tmp", dir=self.root)
        os.close(fd)
        self._staged[name] = Path(tmp)
        return self._staged[name]

    def _report_rows(self) -> Iterator[list[str]]:
        """reports.csv's rows (no header), ``organ`` filled in."""
        organ_of = {row[0]: row[_COL["organ"]] for row in self.rows}
        assert self._reports is not None
        rows = read_csv_rows(self._reports.tmp)
        next(rows)
        for row in rows:
            row[1] = organ_of.get(row[0], "")
            yield row

    def _write_reports_csv(self, tmp: Path) -> FileInfo:
        stream = _CsvStream(self.root / "reports.csv", REPORT_COLUMNS, self.excel, tmp=tmp)
        for row in self._report_rows():
            stream.write_rows([row])
        return stream.close()

    def _write_reports_parquet(self, tmp: Path) -> None:
        from ..export.dataset import ReportsParquetWriter
        writer = ReportsParquetWriter(tmp)
        for row in self._report_rows():
            writer.write(row)
        writer.close()

    def _write_keys_csv(self, tmp: Path) -> FileInfo:
        data = keys_csv(self.excel).encode("utf-8")
        tmp.write_bytes(data)
        return FileInfo("keys.csv", len(data), hashlib.sha256(data).hexdigest())

    def _write_gipextract_db(self, tmp: Path) -> None:
        """Finish the database whose ``cells`` were written as the reports came."""
        assert self._manifest is not None and self._findings is not None and self._db is not None
        db, self._db = self._db, None
        db.finish({"keys": self._staged["keys.csv"], "manifest": self._manifest.tmp,
                   "reports": self._staged["reports.csv"], "findings": self._findings.tmp})

    def _write_metadata_json(self, tmp: Path) -> None:
        from ..export.datapackage import FIELDS
        from ..export.sqlite import datasette_metadata, metadata_json
        fields = {name: {f[0]: f[2] for f in FIELDS[name]} for name in ("manifest", "cells", "findings")}
        meta = datasette_metadata(fields["manifest"], fields["cells"], fields["findings"],
                                  title="gipextract: government information-disclosure annual reports")
        tmp.write_text(metadata_json(meta), encoding="utf-8")


class _CellsParquet:
    """``cells.parquet`` (:data:`gipextract.export.parquet.SCHEMA`, as
    :class:`~gipextract.export.parquet.TidyParquetWriter` writes it: zstd,
    dictionaries, one row group per report that fills 16,384 rows), built from
    the reports' columns as the workers return them, so that the cost per cell
    is Arrow's, not Python's: the six label columns (``key`` … ``col_label``),
    fixed by the key and the format, are kept as one index per cell into the
    distinct label tuples of the row group and expanded by Arrow (``take``);
    the four report columns (``source`` … ``template``) as one entry per
    report, repeated by Arrow; only ``value``, ``unit``, ``raw`` and ``flag``
    are converted cell by cell.  Each row group's lines of ``cells.csv`` are
    made from the same arrays, by Arrow too
    (:meth:`~gipextract.export.csv.TidyCsvFormatter.arrow_lines`), and handed
    to ``csv_out``.

    :param csv_out: called with each row group's ``cells.csv`` lines (UTF-8 bytes), in order.
    :raises OSError: the file cannot be created or written.
    """

    def __init__(self, path: str | os.PathLike, csv_out: Callable[[bytes], None], row_group_size: int = 16384):
        import pyarrow.parquet as pq

        from ..export.parquet import SCHEMA
        self._schema = SCHEMA
        self._csv_out = csv_out
        self._csv = TidyCsvFormatter()
        self._writer: pq.ParquetWriter = pq.ParquetWriter(os.fspath(path), SCHEMA, compression="zstd",
                                                          use_dictionary=True)
        self._size = row_group_size
        self._reset()

    def _reset(self) -> None:
        self._heads: dict[tuple, int] = {}  # (key, table, row_key, col_key, row_label, col_label) → its index
        self._head_index: list[int] = []  # per cell
        self._cells: list[list] = [[], [], [], []]  # value, unit, raw, flag
        self._reports: list[tuple] = []  # (source, agency, year, template) per report
        self._counts: list[int] = []  # cells per report
        self._rows = 0

    def add(self, columns: tuple[tuple, ...], source: str, agency: str | None, year: int | None,
            template: str | None) -> None:
        """Buffer one report's cells: ``columns`` are its first ten
        :data:`~gipextract.report.TIDY_COLUMNS` as ten tuples (``key`` …
        ``flag``); write a row group when full."""
        n = len(columns[0]) if columns else 0
        if not n:
            return
        heads, index = self._heads, self._head_index
        for head in zip(*columns[:6]):
            i = heads.get(head)
            if i is None:
                i = heads[head] = len(heads)
            index.append(i)
        for buf, col in zip(self._cells, columns[6:]):
            buf.extend(col)
        self._reports.append((source, agency, year, template))
        self._counts.append(n)
        self._rows += n
        if self._rows >= self._size:
            self.flush()

    def flush(self) -> None:
        """Write the buffered rows as one row group (nothing if empty)."""
        if not self._rows:
            return
        import numpy as np
        import pyarrow as pa
        fields = list(self._schema)
        head_index = pa.array(self._head_index, type=pa.int32())
        heads = list(zip(*self._heads))  # six columns of the distinct label tuples, in index order
        arrays = [pa.array(col, type=f.type).take(head_index) for col, f in zip(heads, fields[:6])]
        cells = [pa.array(col, type=f.type) for col, f in zip(self._cells, fields[6:10])]
        report_index = pa.array(np.repeat(np.arange(len(self._counts), dtype=np.int32), self._counts))
        arrays += cells
        arrays += [pa.array(col, type=f.type).take(report_index) for col, f in zip(zip(*self._reports), fields[10:])]
        table = pa.Table.from_arrays(arrays, schema=self._schema)
        self._writer.write_table(table, row_group_size=max(table.num_rows, 1))
        value, unit, raw, flag = cells
        self._csv_out(self._csv.arrow_lines(self._heads, head_index, value, unit, raw, flag, self._reports,
                                            report_index))
        self._reset()
        del table, arrays, cells, value, unit, raw, flag
        pa.default_memory_pool().release_unused()  # the row group's buffers back to the system, not kept

    def close(self) -> None:
        """Flush and close the file."""
        self.flush()
        self._writer.close()


def _cross_findings_csv(source: str, found: list[Finding]) -> str:
    """findings.csv rows (no header) of cross-report findings on ``source``:
    the rows :func:`~gipextract.export.findings.findings_csv` writes, labels
    from the newest format (T2-Y1 exists only there; the 表三 rows T3-Y reads
    are labelled alike in every format)."""
    newest = fallback_version()
    shell = Report(source=Source(path=source, format="", sha256=""), table_versions={"t2": newest, "t3": newest},
                   findings=list(found))
    return findings_csv(shell).split("\n", 1)[1]


# -- reading a previous run (--resume) ------------------------------------------


class _Groups:
    """Consecutive rows of one source from a stream sorted like the inputs.

    ``position`` maps each source that may be taken to its input index; groups
    of other sources are skipped.  :meth:`take` must be called with increasing
    positions.
    """

    def __init__(self, rows: Iterator, source_of: Callable, position: dict[str, int]):
        self._rows, self._source_of, self._pos = rows, source_of, position
        self._head = next(self._rows, None)

    def take(self, source: str) -> list:
        want = self._pos[source]
        while self._head is not None:
            head = self._source_of(self._head)
            at = self._pos.get(head)
            if at is not None and at > want:
                return []
            group = []
            while self._head is not None and self._source_of(self._head) == head:
                group.append(self._head)
                self._head = next(self._rows, None)
            if at == want:
                return group
        return []


def _runs(sources: Iterable[str]) -> list[tuple[str, int]]:
    """Run-length encoding of a source column."""
    out: list[list] = []
    for s in sources:
        if out and out[-1][0] == s:
            out[-1][1] += 1
        else:
            out.append([s, 1])
    return [(s, n) for s, n in out]


class PreviousRun:
    """A committed output directory read back for ``--resume``.

    :ivar rows: manifest path → its row (column → text).
    """

    def __init__(self, root: Path, rows: dict[str, dict[str, str]]):
        self.root = root
        self.rows = rows
        self.reuse: dict[str, int] = {}

    @classmethod
    def load(cls, root: str | os.PathLike) -> PreviousRun | None:
        """The previous run in ``root``, or ``None`` if there is none.

        :raises OutputError: ``manifest.csv`` exists but is not a gipextract
            batch manifest.
        """
        path = Path(root) / "manifest.csv"
        if not path.is_file():
            return None
        try:
            with open(path, encoding="utf-8-sig", newline="") as fh:
                reader = csv.DictReader(fh)
                if tuple(reader.fieldnames or ()) != MANIFEST_COLUMNS:
                    raise OutputError("manifest.csv is not a gipextract batch manifest; cannot resume",
                                      path=str(path))
                rows = {r["path"]: r for r in reader}
        except (OSError, UnicodeDecodeError, csv.Error) as e:
            raise OutputError(f"cannot read the previous manifest: {e}", path=str(path)) from None
        return cls(Path(root), rows)

    def candidates(self, entries: list[InputFile], reports: bool = False) -> list[InputFile]:
        """Inputs the previous run read (not ``failed``); with ``reports``, only
        those whose report.json exists and is of that run (same sha256)."""
        out = []
        for e in entries:
            old = self.rows.get(e.path)
            if (e.error is None and old is not None and old["status"] != "failed" and old["sha256"]
                    and (not reports or self._report_of(old))):
                out.append(e)
        return out

    def _report_of(self, old: dict[str, str]) -> bool:
        """Whether ``old``'s report.json exists and is the report of its input (its sha256)."""
        if not old["report"]:
            return False
        try:
            with open(self.root / old["report"], "rb") as fh:
                head = fh.read(4096)
        except OSError:
            return False
        return f'"sha256": "{old["sha256"]}"'.encode() in head or f'"sha256":"{old["sha256"]}"'.encode() in head

    def plan(self, entries: list[InputFile], unchanged: set[str]) -> dict[str, int]:
        """Decide which inputs to copy from the previous run.

        :param unchanged: paths whose current sha256 equals the previous one.
        :returns: path → input index of the inputs to reuse (also kept as
            ``self.reuse``).  An input is dropped from reuse (and converted
            again) if its rows in the previous files are missing, miscounted
            or out of input order; everything is converted again if the
            previous files cannot be read.
        """
        position = {e.path: i for i, e in enumerate(entries) if e.path in unchanged}
        try:
            from ..export.parquet import read_sources
            cell_runs = _runs(read_sources(self.root / "cells.parquet"))
            finding_runs = _runs(r[0] for r in self._finding_rows() if r[1] not in CROSS_RULES)
            narrative_runs = _runs(r[0] for r in self._narrative_rows())
        except Exception:  # noqa: BLE001 — unreadable previous outputs: convert everything again
            self.reuse = {}
            return self.reuse
        counts: dict[str, int] = {}
        for runs in (cell_runs, finding_runs, narrative_runs):
            seen: set[str] = set()
            last = -1
            for source, _ in runs:
                if source not in position:
                    continue
                if source in seen or position[source] < last:  # split or out of order: cannot stream it
                    self.reuse = {}
                    return self.reuse
                seen.add(source)
                last = position[source]
        for source, n in cell_runs:
            counts[source] = n
        self.reuse = {p: i for p, i in position.items() if counts.get(p, 0) == int(self.rows[p]["n_cells"] or 0)}
        return self.reuse

    def _previous_rows(self, name: str, columns: tuple[str, ...]) -> Iterator[list[str]]:
        """The rows of the previous run's ``name`` (a CSV with header ``columns``)."""
        path = self.root / name
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            if tuple(next(reader, ())) != columns:
                raise OutputError(f"{name} has unexpected columns", path=str(path))
            yield from reader

    def _finding_rows(self) -> Iterator[list[str]]:
        return self._previous_rows("findings.csv", FINDING_COLUMNS)

    def _narrative_rows(self) -> Iterator[list[str]]:
        return self._previous_rows("narrative.csv", NARRATIVE_COLUMNS)

    def cursors(self) -> tuple[_Groups, _Groups, _Groups]:
        """Streams of the previous cells, findings and narrative rows, grouped by source."""
        from ..export.parquet import read_tidy_rows
        cells = _Groups(read_tidy_rows(self.root / "cells.parquet"), lambda r: r[_SOURCE], self.reuse)
        finds = _Groups((r for r in self._finding_rows() if r[1] not in CROSS_RULES), lambda r: r[0], self.reuse)
        narrative = _Groups(self._narrative_rows(), lambda r: r[0], self.reuse)
        return cells, finds, narrative


def facts_of_rows(rows: list[tuple]) -> dict[str, tuple]:
    """Cross-report facts (key → (value, flag)) from tidy rows read back from
    Parquet (integral floats back to ``int``, as a fresh read gives them)."""
    out = {}
    for r in rows:
        if r[0] in NEEDED_KEYS:
            v = r[6]
            out[r[0]] = (int(v) if isinstance(v, float) and v.is_integer() else v, r[9])
    return out
