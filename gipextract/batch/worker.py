"""The per-file worker: one input path → one :class:`FileResult`.

:func:`convert_one` is what every executor runs (in-process for ``--jobs 1``,
a local process pool, or a Dask cluster): it reads the file once, hashes the
bytes it read, detects the format, runs the pipeline
(:func:`gipextract.pipeline.read_located`: the report, and the located document
its review page shows) and turns the report into plain, picklable rows.  It never raises for a bad input:
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
from ..export.dataset import wide_values
from ..export.findings import findings_csv
from ..export.json import report_to_dict
from ..narrative import csv_rows as narrative_rows
from ..pipeline import load, read_located
from ..readers import detect_format
from ..status import STATUSES, report_status

__all__ = ["STATUSES", "Task", "FileResult", "convert_one", "convert_many", "DEFAULT_TIMEOUT",
           "DEFAULT_MEMORY_LIMIT", "init_worker"]

#: Default per-file time limit in seconds (``--timeout``).
DEFAULT_TIMEOUT = 300.0

#: Default address-space limit of one file's reading, in GB (``--memory-limit``).
DEFAULT_MEMORY_LIMIT = 4.0

_GB = 1 << 30


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
    :ivar reports: also return the report's JSON document (``FileResult.report_json``).
    :ivar memory_limit: GB of address space (``RLIMIT_AS``) reading this file
        may add to the process (:func:`_memory_limit`), or ``None``; enforced only where the
        worker runs in a main thread (processes, ``--jobs 1``).
    """

    path: str
    name: str
    input_format: str | None = None
    timeout: float | None = DEFAULT_TIMEOUT
    review: bool = False
    reports: bool = False
    memory_limit: float | None = DEFAULT_MEMORY_LIMIT


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
    :ivar cells_columns: the report's cells as ten column tuples (the first
        ten :data:`~gipextract.report.TIDY_COLUMNS`, ``key`` … ``flag``), from
        which the writing process makes cells.parquet, cells.csv and the
        database's ``cells``, many reports at a time; ``None`` without cells.
    :ivar findings_csv: the report's rows of findings.csv (UTF-8 CSV, no
        header), as :func:`gipextract.export.findings.findings_csv` writes them.
    :ivar narrative_csv: the report's rows of narrative.csv (UTF-8 CSV, no
        header; :func:`gipextract.narrative.csv_rows`).
    :ivar report_json: the report's JSON document (compact, UTF-8, ending in
        a newline) when the task asked for it (``Task.reports``), else ``None``.
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
    cells_columns: tuple[tuple, ...] | None = None
    findings_csv: bytes = b""
    narrative_csv: bytes = b""
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


def memory_error(gb: float) -> str:
    """The ``error`` of a file whose reading exceeded its memory limit (one line)."""
    return f"used more than {gb:g} GB of memory (--memory-limit); not read"


def _address_space() -> int:
    """This process's address space in bytes (``VmSize``), 0 where unknown."""
    try:
        with open("/proc/self/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


@contextmanager
def _memory_limit(gb: float | None):
    """Lower the soft ``RLIMIT_AS`` of this process for the block so that
    reading one file may add at most ``gb`` GB of address space to what the
    process already has (its libraries, ~0.4 GB in a worker; where that size
    is unknown, ``gb`` GB in all), never above the hard limit; restored on
    the way out.  Nothing where no limit applies (no ``gb``, no
    :mod:`resource`, or not the main thread: a Dask worker's threads share
    one process).  An allocation beyond it raises :class:`MemoryError` in
    Python code (or kills the worker in C code that cannot fail an
    allocation)."""
    try:
        import resource
    except ImportError:  # not on Unix
        resource = None  # type: ignore[assignment]
    if (not gb or gb <= 0 or resource is None
            or threading.current_thread() is not threading.main_thread()):
        yield
        return
    previous = resource.getrlimit(resource.RLIMIT_AS)
    hard = previous[1]
    limit = _address_space() + int(gb * _GB)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):  # the address space is already larger: leave it
        yield
        return
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, previous)


def _columns(rows: list[tuple], meta: tuple) -> tuple[tuple, ...] | None:
    """``rows`` as ten column tuples, or ``None`` without rows.

    :raises pyarrow.ArrowException, OverflowError: a value Arrow cannot hold
        (an integer beyond 64 bits): the file fails here, alone, as it would
        when its own Arrow batch is built, never the writing process.
    """
    if not rows:
        return None
    columns = tuple(zip(*rows))
    if any(type(v) is int and not -2**63 <= v < 2**63 for v in columns[6]):
        from ..export.parquet import cells_batch  # pyarrow: only here, so that workers do not load it
        cells_batch(rows, *meta)  # raises what Arrow says of it
    return columns


def _csv_bytes(rows: list[list[str]]) -> bytes:
    if not rows:
        return b""
    import csv
    import io
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue().encode("utf-8")


def convert_one(task: Task) -> FileResult:
    """Read ``task.path`` and return its :class:`FileResult`; never raises for
    a bad input (only for ``KeyboardInterrupt``/``SystemExit``).

    A file whose ``task.timeout`` expires while it is read is ``failed`` with
    the one-line error of :func:`timeout_error`, whatever the reader did with
    the alarm; one whose reading needs more than ``task.memory_limit`` GB of
    address space is ``failed`` with :func:`memory_error`'s.
    """
    sha = fmt = clock = None
    _current[0] = (time.monotonic(), task.timeout)
    try:
        with _memory_limit(task.memory_limit), _deadline(task.timeout) as clock:
            data, _ = load(task.path, task.name)
            sha = hashlib.sha256(data).hexdigest()
            fmt = task.input_format or detect_format(data, task.name)
            located, report = read_located(data, fmt, name=task.name)
            rows = [(c.key, c.table, c.row_key, c.col_key, c.row_label, c.col_label, c.value, c.unit, c.raw, c.flag)
                    for c in report.cells.values()]
            n_errors = sum(1 for f in report.findings if f.severity == "error")
            status, identities, n_unread = report_status(report)
            meta = (task.name, report.agency, report.year, report.template)
            narrative = [f.to_dict() for f in report.narrative]
            result = FileResult(
                path=task.name, sha256=sha, format=fmt, status=status, identities=identities, n_unread=n_unread,
                template=report.template, year=report.year,
                agency=report.agency, n_cells=len(rows), n_null=sum(1 for r in rows if r[6] is None),
                n_errors=n_errors, cells_columns=_columns(rows, meta),
                findings_csv=findings_csv(report).split("\n", 1)[1].encode("utf-8"),
                narrative_csv=_csv_bytes(narrative_rows(task.name, narrative)),
                report_json=((json.dumps(report_to_dict(report), ensure_ascii=False) + "\n").encode("utf-8")
                             if task.reports else None),
                facts=needed_cells(report.cells),
                review_html=_review_page(data, report, located) if task.review else None,
                wide=wide_values({k: c.value for k, c in report.cells.items()}) if report.has_tables() else None)
            if clock is not None:
                clock.check()
        return result
    except Expired:
        return FileResult(path=task.name, sha256=sha, format=fmt, status="failed",
                          error=timeout_error(task.timeout or 0))
    except MemoryError:
        return FileResult(path=task.name, sha256=sha, format=fmt, status="failed",
                          error=memory_error(task.memory_limit or 0))
    except Exception as e:  # noqa: BLE001 — any failure of one file is that file's failed row
        if clock is not None and clock.fired:  # the alarm's exception, wrapped by a reader
            return FileResult(path=task.name, sha256=sha, format=fmt, status="failed",
                              error=timeout_error(task.timeout or 0))
        return FileResult(path=task.name, sha256=sha, format=fmt, status="failed", error=one_line(e))
    finally:
        _current[0] = None


def _review_page(data: bytes, report, located) -> bytes | None:
    from ..export.review import BATCH_MAX_PAGES
    from ..export.review_index import batch_page
    return batch_page(data, report, BATCH_MAX_PAGES, located=located)


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


#: (start on the monotonic clock, time limit) of the file being read in this
#: process, or ``None`` between files (read by the watchdog of :func:`init_worker`).
_current: list[tuple[float, float | None] | None] = [None]

#: Seconds past a file's time limit after which the watchdog of a worker
#: process ends it (the ``SIGALRM`` could not stop code running in C).
HARD_GRACE = 2.0

#: Seconds between the watchdog's checks.
WATCH_EVERY = 0.2


def _die_with_parent() -> None:
    """Ask Linux to ``SIGKILL`` this process when its parent (the forkserver,
    or the batch process under ``spawn``) dies (``PR_SET_PDEATHSIG``); nothing elsewhere."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process now has the pid: ours is gone
        return False
    return True


def _watchdog(batch_pid: int, parent_pid: int) -> None:
    """The worker's watchdog thread: end this process at once when the batch
    process or this worker's parent is gone (SIGKILL of the batch: no orphan
    keeps reading), or when the file being read is :data:`HARD_GRACE` seconds
    past its time limit (stuck in C code that the alarm cannot interrupt;
    the batch then records the time limit for it)."""
    while True:
        time.sleep(WATCH_EVERY)
        if os.getppid() != parent_pid or not _alive(batch_pid):
            os._exit(1)
        current = _current[0]
        if current is not None:
            started, limit = current
            if limit and time.monotonic() - started > limit + HARD_GRACE:
                os._exit(3)


def init_worker(batch_pid: int | None = None) -> None:
    """Process-pool initializer.

    Ctrl-C is the parent's to handle (it stops the batch and finalises the
    output); workers must not die of it mid-file.  SIGTERM keeps its default:
    the parent handles it too and then ends the workers.  With ``batch_pid``
    (the batch process), the worker also dies with its parent
    (``PR_SET_PDEATHSIG`` on Linux) and runs a watchdog thread
    (:func:`_watchdog`), so that a ``SIGKILL`` of the batch leaves no worker,
    forkserver or resource tracker behind.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if batch_pid is None:
        return
    parent = os.getppid()
    _die_with_parent()
    if os.getppid() != parent or not _alive(batch_pid):  # the parent died before prctl took effect
        os._exit(1)
    threading.Thread(target=_watchdog, args=(batch_pid, parent), name="gipextract-watchdog", daemon=True).start()


def ignore_sigint() -> None:
    """Process-pool initializer without the watchdog: :func:`init_worker` with no batch pid."""
    init_worker(None)
