"""The per-file worker: one input path → one :class:`FileResult`.

:func:`convert_one` is what every executor runs (in-process for ``--jobs 1``,
a local process pool, or a Dask cluster): it reads the file once, hashes the
bytes it read, detects the format, runs :func:`gipextract.read_report` and
turns the report into plain, picklable rows.  It never raises for a bad input:
any exception becomes a ``failed`` result with a one-line error.

Status (issue 6): ``failed`` — the input could not be read (``ReadError`` or
any other exception); ``no_tables`` — read, but no statistics table was found
(a pre-2019 report, a news article); ``findings`` — tables read and at least one
``error``-severity finding; ``ok`` otherwise.
"""

from __future__ import annotations

import hashlib
import json
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..crossreport import needed_cells
from ..errors import GipextractError, ReadError
from ..export.csv import TidyCsvFormatter
from ..export.findings import findings_csv
from ..export.json import report_to_dict
from ..export.parquet import batch_to_bytes, cells_batch
from ..pipeline import load, read_report
from ..readers import detect_format

STATUSES = ("ok", "findings", "failed", "no_tables")

_CSV = TidyCsvFormatter()  # per process: its memos serve every file this worker reads

#: Default per-file time limit in seconds (``--timeout``).
DEFAULT_TIMEOUT = 300.0


class ReadTimeout(ReadError):
    """Raised (inside the worker) when reading one file takes longer than the
    batch's per-file time limit."""


@dataclass(frozen=True, slots=True)
class Task:
    """One file to convert.

    :ivar path: the path the worker opens (absolute, so that it means the same
        on a Dask worker with another working directory).
    :ivar name: the path as the user gave it; it is the report's
        ``source.path``, the manifest's ``path`` and the cells' ``source``.
    :ivar input_format: force a reader, or ``None`` to detect.
    :ivar timeout: seconds allowed for this file, or ``None``; enforced only
        where the worker runs in a main thread (processes, ``--jobs 1``).
    """

    path: str
    name: str
    input_format: str | None = None
    timeout: float | None = DEFAULT_TIMEOUT


@dataclass(slots=True)
class FileResult:
    """The outcome of converting one file, as plain picklable data.

    :ivar path: the input's name (:attr:`Task.name`).
    :ivar sha256: hex digest of the bytes read, or ``None`` if none were read.
    :ivar format: the detected (or forced) format, or ``None``.
    :ivar status: one of :data:`STATUSES`.
    :ivar error: for ``failed``, one line saying why; else ``None``.
    :ivar template, year, agency: the report's, or ``None``.
    :ivar n_cells: numeric cells found; ``n_null``: of those, without a value;
        ``n_errors``: findings of severity ``error``.
    :ivar cells_csv: the report's rows of cells.csv (UTF-8 CSV, no header).
    :ivar cells_arrow: the same rows as an Arrow record batch
        (:func:`gipextract.export.parquet.cells_batch`) in IPC bytes
        (:func:`~gipextract.export.parquet.batch_to_bytes`), or ``None``.
    :ivar findings_csv: the report's rows of findings.csv (UTF-8 CSV, no
        header), as :func:`gipextract.export.findings.findings_csv` writes them.
    :ivar report_json: the report's JSON document (compact, UTF-8, ending in
        a newline), or ``None``.
    :ivar facts: the cells the cross-report checks need
        (:func:`gipextract.crossreport.needed_cells`).
    """

    path: str
    sha256: str | None
    format: str | None
    status: str
    error: str | None = None
    template: str | None = None
    year: int | None = None
    agency: str | None = None
    n_cells: int = 0
    n_null: int = 0
    n_errors: int = 0
    cells_csv: bytes = b""
    cells_arrow: bytes | None = None
    findings_csv: bytes = b""
    report_json: bytes | None = None
    facts: dict = field(default_factory=dict)


def one_line(e: BaseException) -> str:
    """``e`` as one line without the file name (the manifest has it)."""
    if isinstance(e, GipextractError):
        text = ", ".join(p for p in (e.where, e.message) if p)
    else:
        text = f"internal error: {e.__class__.__name__}: {e}"
    return " ".join(text.split()) or e.__class__.__name__


@contextmanager
def _deadline(seconds: float | None, name: str):
    if (not seconds or seconds <= 0 or not hasattr(signal, "setitimer")
            or threading.current_thread() is not threading.main_thread()):
        yield
        return

    def expired(signum, frame):
        raise ReadTimeout(f"timed out after {seconds:g} s (--timeout)", path=name)

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def convert_one(task: Task) -> FileResult:
    """Read ``task.path`` and return its :class:`FileResult`; never raises for
    a bad input (only for ``KeyboardInterrupt``/``SystemExit``)."""
    sha = fmt = None
    try:
        with _deadline(task.timeout, task.name):
            data, _ = load(task.path, task.name)
            sha = hashlib.sha256(data).hexdigest()
            fmt = task.input_format or detect_format(data, task.name)
            report = read_report(data, fmt, name=task.name)
            rows = [(c.key, c.table, c.row_key, c.col_key, c.row_label, c.col_label, c.value, c.unit, c.raw, c.flag)
                    for c in report.cells.values()]
            n_errors = sum(1 for f in report.findings if f.severity == "error")
            status = "ok" if report.has_tables() and not n_errors else "findings" if report.has_tables() else "no_tables"
            meta = (task.name, report.agency, report.year, report.template)
            return FileResult(
                path=task.name, sha256=sha, format=fmt, status=status, template=report.template, year=report.year,
                agency=report.agency, n_cells=len(rows), n_null=sum(1 for r in rows if r[6] is None),
                n_errors=n_errors, cells_csv=_CSV.text(rows, *meta).encode("utf-8"),
                cells_arrow=batch_to_bytes(cells_batch(rows, *meta)),
                findings_csv=findings_csv(report).split("\n", 1)[1].encode("utf-8"),
                report_json=(json.dumps(report_to_dict(report), ensure_ascii=False) + "\n").encode("utf-8"),
                facts=needed_cells(report.cells))
    except Exception as e:  # noqa: BLE001 — any failure of one file is that file's failed row
        return FileResult(path=task.name, sha256=sha, format=fmt, status="failed", error=one_line(e))


def convert_many(tasks: list[Task]) -> list[FileResult]:
    """:func:`convert_one` over a chunk of tasks (one executor job per chunk)."""
    return [convert_one(t) for t in tasks]


def ignore_sigint() -> None:
    """Process-pool initializer: Ctrl-C is the parent's to handle (it stops the
    batch and finalises the output); workers must not die of it mid-file."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
