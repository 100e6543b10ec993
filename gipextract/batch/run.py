"""The batch run: inputs → scheduler → output directory (see :mod:`gipextract.batch`).

Arguments that cannot be right (``resume`` with ``overwrite``, a malformed
Dask scheduler address, an output directory holding a batch that neither
``resume`` nor ``overwrite`` covers) raise :class:`BatchUsageError` before
anything is read or written.  A Dask scheduler that does not answer within
:data:`DASK_CONNECT_TIMEOUT` seconds fails the batch with one line naming it.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import os
import signal
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ParamSpec, cast

from ..crossreport import ReportFacts, iter_cross_report_findings, load_organ_aliases, pair_years
from ..errors import GipextractError, OutputError
from ..export.review_index import ReviewIndex
from .inputs import InputFile, discover
from .journal import Journal
from .outdir import MANIFEST_COLUMNS, OutputDir, PreviousRun, facts_of_rows
from .scheduler import Scheduler, default_jobs
from .worker import DEFAULT_MEMORY_LIMIT, DEFAULT_TIMEOUT, FileResult, Task

#: Seconds to wait for a Dask scheduler to answer before the batch fails.
DASK_CONNECT_TIMEOUT = 10.0

_STATUS, _ERROR, _AGENCY, _YEAR = (MANIFEST_COLUMNS.index(c) for c in ("status", "error", "agency", "year"))

#: The signals that stop a batch the way Ctrl-C does (see :class:`_Interrupt`).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class BatchUsageError(GipextractError, ValueError):
    """Raised, before anything is read or written, for batch arguments that
    cannot be right (the CLI's usage error, exit 2)."""


class OutdirInUse(BatchUsageError):
    """Raised when the output directory already holds a batch and neither
    ``resume`` nor ``overwrite`` says what to do with it (a usage error)."""


class BadSchedulerAddress(BatchUsageError):
    """Raised when a Dask scheduler address is malformed (no port, a scheme
    Dask does not know): a usage error, found without connecting."""


@dataclass
class BatchSummary:
    """What a batch did.

    :ivar outdir: the output directory.
    :ivar total: inputs found.
    :ivar done: inputs listed in the manifest (``total`` unless interrupted).
    :ivar counts: status → number of manifest rows.
    :ivar reused: rows copied from the previous run (``resume``).
    :ivar interrupted: stopped by a signal of :data:`STOP_SIGNALS` (Ctrl-C's
        SIGINT, SIGTERM) before the end; what was done is committed.
    :ivar signal: the number of that signal (``signal.SIGINT`` or
        ``signal.SIGTERM``), else ``None``.
    :ivar failed: ``(path, error)`` of every failed input, in input order.
    """

    outdir: Path
    total: int = 0
    done: int = 0
    counts: Counter = field(default_factory=Counter)
    reused: int = 0
    interrupted: bool = False
    signal: int | None = None
    failed: list[tuple[str, str]] = field(default_factory=list)


class _Interrupt:
    """Ctrl-C (SIGINT) or SIGTERM during a batch: while waiting for a result
    it raises ``KeyboardInterrupt`` at once; otherwise (rows being written,
    the commit) it only sets ``requested`` so that the current input is
    finished first.  ``signum`` is the first such signal.  Installed only in
    the main thread (signal handlers live there); the previous handlers are
    restored on exit."""

    def __init__(self) -> None:
        self.requested = False
        self.signum: int | None = None
        self._waiting = False
        self._previous: dict[int, Any] = {}

    def _handler(self, signum, frame) -> None:
        self.requested = True
        if self.signum is None:
            self.signum = signum
        if self._waiting:
            raise KeyboardInterrupt

    def __enter__(self) -> _Interrupt:
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handler)
        return self

    def __exit__(self, *exc) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()

    @contextmanager
    def waiting(self):
        if self.requested:
            raise KeyboardInterrupt
        self._waiting = True
        try:
            yield
        finally:
            self._waiting = False


def _sha256_of(path: str) -> str | None:
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return None


def _distributed() -> None:
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise GipextractError("--dask-scheduler needs Dask: pip install 'gipextract[dask]'") from None


def check_scheduler_address(address: str) -> None:
    """Check, without connecting, that ``address`` can name a Dask scheduler:
    ``[scheme://]host:port`` with a scheme Dask knows (``tcp``, ``tls``,
    ``ws``, ``wss``, ``ucx``), or ``inproc://…``.

    :raises BadSchedulerAddress: it cannot.
    :raises GipextractError: Dask is not installed.
    """
    _distributed()
    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.comm.registry import get_backend

    try:
        scheme, location = parse_address(address)
        get_backend(scheme)
        if scheme != "inproc":
            _, port = parse_host_port(location)
            if not 0 < port < 65536:
                raise ValueError(f"port {port} out of range")
    except (ValueError, TypeError) as e:
        reason = " ".join(str(e).split()) or e.__class__.__name__
        raise BadSchedulerAddress(f"--dask-scheduler {address!r} is not a Dask scheduler address ({reason}); "
                                  "expected [tcp://]HOST:PORT, e.g. tcp://scheduler:8786") from None


def _dask_client(address: str, timeout: float):
    """A ``distributed.Client`` connected to the scheduler at ``address``
    (checked by :func:`check_scheduler_address` first).

    :raises GipextractError: the scheduler does not answer within ``timeout``
        seconds, or answers with something else than Dask's protocol.
    """
    from distributed import Client

    try:
        return Client(address, set_as_default=False, timeout=f"{timeout:g}s")
    except Exception as e:  # noqa: BLE001 — refused, timed out, or whatever a wrong peer causes
        reason = (str(e) if isinstance(e, OSError)  # distributed retries until the timeout, then says so
                  else f"it does not answer as a Dask scheduler ({e.__class__.__name__}: {e})")
        reason = " ".join(reason.split())[:300]
    # A Client that failed to start is kept alive by reference cycles; left to
    # the interpreter's exit it waits 2 × timeout for its stopped event loop and
    # prints a traceback from __del__.  Collect it now, while its loop runs.
    gc.collect()
    raise GipextractError(f"cannot connect to the Dask scheduler at {address}: {reason}")


@contextmanager
def _outdir_lock(root: Path):
    """Hold an exclusive lock (``flock``) on the directory ``root`` (made if
    missing, and removed again if this batch leaves it empty) while a batch
    writes into it.  The system drops the lock when the process ends, however
    it ends: a killed batch never leaves it behind.  Not on systems without
    ``fcntl``, nor when ``root`` is not a directory (the batch says so).

    :raises OutdirInUse: another batch holds it.
    :raises OutputError: ``root`` cannot be made.
    """
    try:
        import fcntl
    except ImportError:  # not a POSIX system: no lock
        yield
        return
    made = False
    if not root.exists():
        try:
            root.mkdir(parents=True)
            made = True
        except FileExistsError:
            pass
        except OSError as e:
            raise OutputError(f"cannot write output: {e.strerror or e}", path=str(root)) from None
    if not root.is_dir():
        yield
        return
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutdirInUse("another gipextract batch is writing into it now; wait for it to end (two batches "
                              "in one directory would mix their outputs)", path=str(root)) from None
        yield
    finally:
        os.close(fd)
        if made:
            try:
                root.rmdir()  # only if this batch left it empty (failed before writing anything)
            except OSError:
                pass


_P = ParamSpec("_P")


def _holding_outdir_lock(run: Callable[_P, BatchSummary]) -> Callable[_P, BatchSummary]:
    """``run`` (whose second argument is the output directory) under :func:`_outdir_lock`."""
    @functools.wraps(run)
    def locked(*args: _P.args, **kwargs: _P.kwargs) -> BatchSummary:
        outdir = cast("str | os.PathLike[str]", args[1] if len(args) > 1 else kwargs["outdir"])
        with _outdir_lock(Path(outdir)):
            return run(*args, **kwargs)
    return locked


@_holding_outdir_lock
def run_batch(inputs: Sequence[str], outdir: str | os.PathLike, *, jobs: int | None = None, resume: bool = False,
              overwrite: bool = False, input_format: str | None = None, timeout: float | None = DEFAULT_TIMEOUT,
              dask_scheduler: str | None = None, dask_timeout: float | None = None, review: bool = True,
              on_start: Callable[[int], None] | None = None,
              progress: Callable[[InputFile, str], None] | None = None, excel: bool = False,
              organs: str | os.PathLike | None = None, include: Sequence[str] = (),
              exclude: Sequence[str] = (), reports: bool = False,
              memory_limit: float | None = DEFAULT_MEMORY_LIMIT) -> BatchSummary:
    """Convert every input file into one dataset in ``outdir`` (module docstring;
    the layout is in :mod:`gipextract.batch.outdir`).

    :param inputs: files, directories (walked recursively) and glob patterns.
    :param jobs: worker processes; ``None`` = the CPUs available; ``1`` runs
        in this process.
    :param resume: keep the rows of inputs already done in ``outdir``
        (same path and sha256, not failed) and convert only the others:
        those of the committed run, and those a killed run recorded in its
        journal (:mod:`~gipextract.batch.journal`).
    :param overwrite: replace a previous batch in ``outdir`` without resuming.
    :param input_format: force one reader for every input.
    :param timeout: seconds allowed per file (local runs), ``None``/0 for no
        limit; a file that takes longer is ``failed``.
    :param dask_scheduler: address of a Dask scheduler to run the workers on
        instead of local processes (the workers must see the input paths).
    :param dask_timeout: seconds to wait for that scheduler to answer
        (:data:`DASK_CONNECT_TIMEOUT` by default).
    :param review: also write ``review/index.html`` and one review page per
        report read (:mod:`gipextract.export.review_index`).
    :param on_start: called with the number of inputs once they are found.
    :param progress: called as ``progress(input, status)`` after each input
        is written.
    :param excel: write every CSV with a UTF-8 BOM (for Excel).
    :param organs: a CSV file of ``name,organ`` aliases
        (:func:`gipextract.crossreport.load_organ_aliases`), applied before
        the automatic organ normalisation.
    :param include, exclude: glob patterns on file names found under a
        directory (:func:`~gipextract.batch.inputs.discover`).
    :param reports: also write ``reports/<rel>/report.json`` for every input
        read (``--reports``); without it none are written (and a previous
        run's are removed at the commit).
    :param memory_limit: GB of address space reading one file may add to
        its worker process (``RLIMIT_AS``; local runs; ``None``/0: no
        limit); a file that needs more is ``failed`` with "used more than N GB
        of memory" (:func:`~gipextract.batch.worker.memory_error`).
    :returns: a :class:`BatchSummary`.
    :raises BatchUsageError: ``resume`` and ``overwrite`` both given; or
        :class:`BadSchedulerAddress`: ``dask_scheduler`` is malformed; or
        :class:`OutdirInUse`: ``outdir`` holds a batch and neither ``resume``
        nor ``overwrite`` was given.  Raised before anything is read or written.
    :raises OutdirInUse: another batch is writing into ``outdir`` now (a lock on the directory,
        released by the system when that batch ends, however it ends).
    :raises OutputError: an output file cannot be written (nothing is
        committed then), or the previous run cannot be read for ``resume``.
    :raises GipextractError: Dask is not installed, or the scheduler does not
        answer within ``dask_timeout`` seconds, or the ``organs`` file cannot
        be read (before anything is read or written).

    SIGINT (Ctrl-C) and SIGTERM stop the batch within a second (the files in flight are dropped)
    and commit what was done (``summary.interrupted``, ``summary.signal``).
    """
    if resume and overwrite:
        raise BatchUsageError("--resume and --overwrite contradict each other: --resume continues the batch in "
                              "the output directory, --overwrite replaces it; give one of them")
    if dask_scheduler is not None:  # an empty address too: it must not silently mean 'run locally'
        check_scheduler_address(dask_scheduler)
    root = Path(outdir)
    if root.exists() and not root.is_dir():
        raise OutputError("exists and is not a directory", path=str(root))
    aliases = load_organ_aliases(str(organs)) if organs is not None else {}
    previous = PreviousRun.load(root) if resume else None
    if not resume and not overwrite and (root / "manifest.csv").exists():
        raise OutdirInUse("already holds a batch (manifest.csv); use --resume to continue it or --overwrite "
                          "to replace it", path=str(root))
    if not resume and not overwrite and Journal(root).index():
        raise OutdirInUse("holds the journal of a batch that was killed (.gipextract-journal); use --resume to "
                          "continue it or --overwrite to start again", path=str(root))
    entries = discover(list(inputs), exclude=[root], include_globs=include, exclude_globs=exclude)
    summary = BatchSummary(root, total=len(entries))
    if on_start is not None:
        on_start(len(entries))

    journal = Journal(root)
    recovered: dict[str, int] = {}  # path → offset of its journal record (a killed run's result)
    reuse: dict[str, int] = {}
    if resume:
        shas: dict[str, str | None] = {}

        def sha_of(e: InputFile) -> str | None:
            if e.path not in shas:
                shas[e.path] = _sha256_of(e.abspath)
            return shas[e.path]

        journaled = journal.index()
        for e in entries:
            hit = journaled.get(e.path)
            if e.error is None and hit is not None and (hit[2] or not reports) and sha_of(e) == hit[1]:
                recovered[e.path] = hit[0]
        if previous is not None:
            candidates = [e for e in previous.candidates(entries, reports) if e.path not in recovered]
            unchanged = {e.path for e in candidates if sha_of(e) == previous.rows[e.path]["sha256"]}
            reuse = previous.plan(entries, unchanged)
    todo = [Task(e.abspath, e.path, input_format, timeout, review, reports, memory_limit)
            for e in entries if e.error is None and e.path not in reuse and e.path not in recovered]

    if dask_scheduler is not None:
        client = _dask_client(dask_scheduler, DASK_CONNECT_TIMEOUT if dask_timeout is None else dask_timeout)
    else:
        client = None
    if client is not None:
        workers = sum(client.nthreads().values()) or 1
        scheduler = Scheduler(executor_factory=client.get_executor, workers=workers)
    else:
        scheduler = Scheduler(jobs or default_jobs())
    out = OutputDir(root, excel=excel, reports=reports)
    facts: list[ReportFacts] = []
    index = ReviewIndex(root, MANIFEST_COLUMNS) if review else None
    try:
        with _Interrupt() as stop:  # from the first temporary file on: a signal never leaves them behind
            out.begin()
            try:
                journal.begin(keep=resume)
            except OSError as e:
                raise OutputError(f"cannot write output: {e.strerror or e}", path=str(journal.path)) from None
            cells_prev, finds_prev, narr_prev = previous.cursors() if previous and reuse else (None, None, None)
            results = scheduler.run(iter(todo), total=len(todo))
            try:
                for entry in entries:
                    if stop.requested:
                        raise KeyboardInterrupt
                    result = None
                    if entry.error is not None:
                        result = FileResult(entry.path, None, None, "failed", error=entry.error)
                        row = out.add(entry, result)
                    elif entry.path in recovered:  # finished by a run that was killed: from its journal
                        result = _recovered(journal, recovered[entry.path], entry, reports)
                        if result is None:
                            raise OutputError("the journal of the killed run cannot be read back; rerun with "
                                              "--overwrite", path=str(journal.path))
                        row = out.add(entry, result)
                        summary.reused += 1
                        if result.agency and result.year is not None:
                            facts.append(ReportFacts(entry.path, result.agency, result.year, result.facts))
                    elif entry.path in reuse:
                        assert previous is not None and cells_prev and finds_prev and narr_prev
                        old = previous.rows[entry.path]
                        cells = cells_prev.take(entry.path)
                        row = out.add_reused(entry, old, cells, finds_prev.take(entry.path),
                                             narr_prev.take(entry.path))
                        summary.reused += 1
                        if old["agency"] and old["year"]:
                            facts.append(ReportFacts(entry.path, old["agency"], int(old["year"]), facts_of_rows(cells)))
                    else:
                        with stop.waiting():
                            result = next(results)
                        if result.path != entry.path:  # a scheduler bug must never shift rows
                            raise RuntimeError(f"batch order broken: expected {entry.path}, got {result.path}")
                        row = out.add(entry, result)
                        _journal(journal, result)
                        if result.agency and result.year is not None:  # only these can be paired across years
                            facts.append(ReportFacts(entry.path, result.agency, result.year, result.facts))
                    status = row[_STATUS]
                    if index is not None:  # its review page, and its row of review/index.html
                        index.add(entry.rel, tuple(row), result.review_html if result else None,
                                  result.findings_csv if result and entry.path not in recovered else None,
                                  previous.rows[entry.path]["report"] if previous and entry.path in reuse else None)
                    summary.counts[status] += 1
                    summary.done += 1
                    if status == "failed":
                        summary.failed.append((entry.path, row[_ERROR]))
                    if progress is not None:
                        progress(entry, status)
            except KeyboardInterrupt:
                summary.interrupted = True
                summary.signal = stop.signum or signal.SIGINT  # a KeyboardInterrupt raised by someone else: Ctrl-C
            finally:
                scheduler.close(cancel=summary.interrupted)
            # committing is not interrupted: the handler only sets the flag now
            paired = pair_years(((r[0], r[_AGENCY], int(r[_YEAR]) if r[_YEAR] else None, r[_STATUS])
                                 for r in out.rows), aliases)
            facts = [ReportFacts(f.source, paired[f.source][0], f.year, f.cells) for f in facts if f.source in paired]
            out.commit(iter_cross_report_findings(facts), paired)
            journal.remove()  # the manifest now lists everything it held
            if index is not None:
                index.write()
    except BaseException:
        out.discard()
        try:
            journal.close()  # kept: --resume recovers what it holds
        except OSError:
            pass
        scheduler.close(cancel=True)
        raise
    finally:
        if client is not None:
            client.close()
    return summary


def _journal(journal: Journal, result: FileResult) -> None:
    """Append ``result`` to the journal.

    :raises OutputError: it cannot be written (a full disk).
    """
    try:
        journal.append(result)
    except OSError as e:
        raise OutputError(f"cannot write output: {e.strerror or e}", path=str(journal.path)) from None


def _recovered(journal: Journal, offset: int, entry: InputFile, reports: bool) -> FileResult | None:
    """The journaled result of ``entry``, without its report JSON unless
    ``reports``; ``None`` if the record cannot be read back."""
    try:
        result = journal.read(offset)
    except (OSError, ValueError, KeyError, TypeError, EOFError):
        return None
    if not reports:
        result.report_json = None
    result.review_html = None
    return result
