"""The per-file worker: one input path → one :class:`FileResult`.

:func:`convert_one` is what every executor runs (in-process for ``--jobs 1``,
a local process pool, or a Dask cluster): it reads the file once, hashes the
bytes it read, detects the format, runs :func:`gipextract.read_report` and
turns the report into plain, picklable rows.  It never raises for a bad input:
any exception becomes a ``failed`` result with a one-line error.

Status: ``failed`` — the input could not be read (``ReadError`` or any
other exception), or reading it took longer than its time limit; otherwise
the status :func:`gipextract.status.report_status` gives the report (``ok``,
``partial``, ``empty``, ``needs_ocr``, ``pre2019``, ``not_a_report``), with
its ``identities`` and ``n_unread``.

The time limit (``Task.timeout``) is a ``SIGALRM`` whose handler raises
:class:`Expired`, a :class:`BaseException`: reader code (and the libraries
under it) that catches ``Exception`` to note a damaged page and carry on
cannot swallow it.  Only :func:`convert_one` catches it, and it also fails the
file when the deadline passed while the reader ran anyway (a handler's
exception lost in a C callback or a bare ``except:``), so a file whose time
limit expires is always ``failed``, never partial data.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import stat
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from .. import convert
from ..crossreport import needed_cells
from ..errors import GipextractError
from ..export.csv import TidyCsvFormatter
from ..export.dataset import wide_values
from ..export.findings import findings_csv
from ..export.json import report_to_dict
from ..export.parquet import batch_to_bytes, cells_batch
from ..pipeline import load, read_report
from ..readers import detect_format
from ..status import STATUSES, report_status

__all__ = ["STATUSES", "Task", "FileResult", "convert_one", "convert_many", "DEFAULT_TIMEOUT"]

_CSV = TidyCsvFormatter()  # per process: its memos serve every file this worker reads

#: Default per-file time limit in seconds (``--timeout``).
DEFAULT_TIMEOUT = 300.0


class Expired(BaseException):
    """Raised by the ``SIGALRM`` handler of a file's time limit, inside the
    worker.  Deliberately not an :class:`Exception`, so that no ``except
    Exception`` in reader code can swallow it (it would then return partial
    data); :func:`convert_one` turns it into the file's ``failed`` row and it
    never leaves :func:`convert_one`."""


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
    :ivar review: also make the report's review page (``FileResult.review_html``).
    """

    path: str
    name: str
    input_format: str | None = None
    timeout: float | None = DEFAULT_TIMEOUT
    review: bool = False


@dataclass(slots=True)
class FileResult:
    """The outcome of converting one file, as plain picklable data.

    :ivar path: the input's name (:attr:`Task.name`).
    :ivar sha256: hex digest of the bytes read, or ``None`` if none were read.
    :ivar format: the detected (or forced) format, or ``None``.
    :ivar status: one of :data:`STATUSES`.
    :ivar identities: ``hold``, ``broken`` or ``not_checked``
        (:func:`gipextract.status.report_status`).
    :ivar n_unread: cells not read (``partial`` only).
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
    :ivar review_html: the review page (:func:`gipextract.export.review_index.batch_page`),
        when the task asked for one and it could be made; else ``None``.
    :ivar wide: the key columns of the report's ``reports.csv`` row
        (:func:`gipextract.export.dataset.wide_values`), or ``None``.
    """

    path: str
    sha256: str | None
    format: str | None
    status: str
    identities: str = "not_checked"
    n_unread: int = 0
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
    review_html: bytes | None = None
    wide: tuple[str, ...] | None = None


def one_line(e: BaseException) -> str:
    """``e`` as one line without the file name (the manifest has it)."""
    if isinstance(e, GipextractError):
        text = ", ".join(p for p in (e.where, e.message) if p)
    else:
        text = f"internal error: {e.__class__.__name__}: {e}"
    return " ".join(text.split()) or e.__class__.__name__


class _Deadline:
    """A running time limit (see :func:`_deadline`).

    :ivar seconds: the limit, in seconds.
    :ivar fired: the alarm went off while armed.
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self.armed = True
        self.fired = False

    def expire(self, signum, frame) -> None:
        """The ``SIGALRM`` handler.

        :raises Expired: while armed.
        """
        if self.armed:
            self.fired = True
            raise Expired

    def check(self) -> None:
        """Fail the file if its time is up, even if the alarm's exception was
        swallowed somewhere (a bare ``except:``).

        :raises Expired: the alarm fired or the deadline passed.
        """
        if self.fired or time.monotonic() >= self.at:
            self.fired = True
            raise Expired


#: Seconds between repeated alarms once a time limit expired: an
#: :class:`Expired` lost where Python can only print it (a ``__del__``) or
#: swallowed by a bare ``except:`` is raised again.
_REPEAT = 0.1


@contextmanager
def _deadline(seconds: float | None):
    """Arm a ``seconds`` time limit for the block (an ``ITIMER_REAL`` whose
    handler raises :class:`Expired`, at ``seconds`` and every :data:`_REPEAT`
    seconds after); yields the :class:`_Deadline`, or ``None`` where no limit
    applies (no ``seconds``, no ``setitimer``, or not the main thread: Dask
    threads).  An :class:`Expired` that Python could only print (raised in a
    ``__del__``) is not printed.  The previous ``SIGALRM`` handler and
    ``sys.unraisablehook`` and a stopped timer are restored on the way out,
    whatever happens."""
    if (not seconds or seconds <= 0 or not hasattr(signal, "setitimer")
            or threading.current_thread() is not threading.main_thread()):
        yield None
        return
    clock = _Deadline(seconds)
    hook = sys.unraisablehook

    def quiet(unraisable) -> None:
        if not isinstance(unraisable.exc_value, Expired):
            hook(unraisable)

    previous = signal.signal(signal.SIGALRM, clock.expire)
    sys.unraisablehook = quiet
    try:
        signal.setitimer(signal.ITIMER_REAL, seconds, _REPEAT)
        yield clock
    finally:
        try:
            clock.armed = False  # an alarm from now on is ignored
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            sys.unraisablehook = hook


def timeout_error(seconds: float) -> str:
    """The ``error`` of a file whose time limit expired (one line)."""
    return f"took longer than {seconds:g} s to read (--timeout); not read"


def convert_one(task: Task) -> FileResult:
    """Read ``task.path`` and return its :class:`FileResult`; never raises for
    a bad input (only for ``KeyboardInterrupt``/``SystemExit``).

    A file whose ``task.timeout`` expires while it is read is ``failed`` with
    the one-line error of :func:`timeout_error`, whatever the reader did with
    the alarm.
    """
    sha = fmt = clock = None
    try:
        with _deadline(task.timeout) as clock:
            data, _ = load(task.path, task.name)
            sha = hashlib.sha256(data).hexdigest()
            fmt = task.input_format or detect_format(data, task.name)
            report = read_report(data, fmt, name=task.name)
            rows = [(c.key, c.table, c.row_key, c.col_key, c.row_label, c.col_label, c.value, c.unit, c.raw, c.flag)
                    for c in report.cells.values()]
            n_errors = sum(1 for f in report.findings if f.severity == "error")
            status, identities, n_unread = report_status(report)
            meta = (task.name, report.agency, report.year, report.template)
            result = FileResult(
                path=task.name, sha256=sha, format=fmt, status=status, identities=identities, n_unread=n_unread,
                template=report.template, year=report.year,
                agency=report.agency, n_cells=len(rows), n_null=sum(1 for r in rows if r[6] is None),
                n_errors=n_errors, cells_csv=_CSV.text(rows, *meta).encode("utf-8"),
                cells_arrow=batch_to_bytes(cells_batch(rows, *meta)),
                findings_csv=findings_csv(report).split("\n", 1)[1].encode("utf-8"),
                report_json=(json.dumps(report_to_dict(report), ensure_ascii=False) + "\n").encode("utf-8"),
                facts=needed_cells(report.cells), review_html=_review_page(data, report) if task.review else None,
                wide=wide_values({k: c.value for k, c in report.cells.items()}) if report.has_tables() else None)
            if clock is not None:
                clock.check()
        return result
    except Expired:
        return FileResult(path=task.name, sha256=sha, format=fmt, status="failed", error=timeout_error(task.timeout))
    except Exception as e:  # noqa: BLE001 — any failure of one file is that file's failed row
        if clock is not None and clock.fired:  # the alarm's exception, wrapped by a reader
            return FileResult(path=task.name, sha256=sha, format=fmt, status="failed",
                              error=timeout_error(task.timeout))
        return FileResult(path=task.name, sha256=sha, format=fmt, status="failed", error=one_line(e))


def _review_page(data: bytes, report) -> bytes | None:
    from ..export.review import BATCH_MAX_PAGES
    from ..export.review_index import batch_page
    return batch_page(data, report, BATCH_MAX_PAGES)


def convert_many(tasks: list[Task]) -> list[FileResult]:
    """:func:`convert_one` over a chunk of tasks (one executor job per chunk).

    The chunk's legacy files (``.doc``, ``.wps``, ``.rtf``, ``.odt``) are first
    converted to DOCX by one LibreOffice run (a start costs ~1–2 s), through
    this process's :func:`gipextract.convert.converter`, whose profile serves
    every file the worker reads; a file that run did not convert is converted
    alone when its turn comes, so its error stays its own."""
    if len(tasks) > 1:
        _prepare_legacy(tasks)
    try:
        return [convert_one(t) for t in tasks]
    finally:
        convert.converter().discard()


def _prepare_legacy(tasks: list[Task]) -> None:
    """Hand the chunk's legacy files to :meth:`gipextract.convert.Converter.prepare`;
    never raises (a file that cannot be loaded is left to :func:`convert_one`)."""
    items = []
    for t in tasks:
        fmt = t.input_format
        if fmt is None:  # the first bytes tell (only a regular file is opened: a FIFO would block)
            try:
                if not stat.S_ISREG(os.stat(t.path).st_mode):
                    continue
                with open(t.path, "rb") as fh:
                    fmt = convert.sniff(fh.read(4096), t.name)
            except OSError:
                continue
        if fmt not in convert.LEGACY_FORMATS:
            continue
        try:
            data, _ = load(t.path, t.name)
        except GipextractError:
            continue
        items.append((data, fmt, t.name, hashlib.sha256(data).hexdigest()))
    if len(items) > 1:
        convert.converter().prepare(items)


def ignore_sigint() -> None:
    """Process-pool initializer: Ctrl-C is the parent's to handle (it stops the
    batch and finalises the output); workers must not die of it mid-file.
    SIGTERM keeps its default: the parent handles it too and then ends the
    workers with it; a SIGTERM to the whole process group (a job scheduler)
    reaches the parent at the same moment, so it stops instead of retrying
    their files."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
