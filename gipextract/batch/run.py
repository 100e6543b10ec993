"""The batch run: inputs → scheduler → output directory (see :mod:`gipextract.batch`)."""

from __future__ import annotations

import hashlib
import os
import signal
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..crossreport import ReportFacts, iter_cross_report_findings
from ..errors import GipextractError, OutputError
from .inputs import InputFile, discover
from .outdir import OutputDir, PreviousRun, facts_of_rows
from .scheduler import Scheduler, default_jobs
from .worker import DEFAULT_TIMEOUT, FileResult, Task


class OutdirInUse(GipextractError, ValueError):
    """Raised when the output directory already holds a batch and neither
    ``resume`` nor ``overwrite`` says what to do with it (a usage error)."""


@dataclass
class BatchSummary:
    """What a batch did.

    :ivar outdir: the output directory.
    :ivar total: inputs found.
    :ivar done: inputs listed in the manifest (``total`` unless interrupted).
    :ivar counts: status → number of manifest rows.
    :ivar reused: rows copied from the previous run (``resume``).
    :ivar interrupted: stopped by Ctrl-C (SIGINT) before the end.
    :ivar failed: ``(path, error)`` of every failed input, in input order.
    """

    outdir: Path
    total: int = 0
    done: int = 0
    counts: Counter = field(default_factory=Counter)
    reused: int = 0
    interrupted: bool = False
    failed: list[tuple[str, str]] = field(default_factory=list)


class _Interrupt:
    """Ctrl-C during a batch: while waiting for a result it raises
    ``KeyboardInterrupt`` at once; while rows are being written it only sets
    ``requested`` so that the current input is finished first.  Installed only
    in the main thread (signal handlers live there)."""

    def __init__(self) -> None:
        self.requested = False
        self._waiting = False
        self._previous = None

    def _handler(self, signum, frame) -> None:
        self.requested = True
        if self._waiting:
            raise KeyboardInterrupt

    def __enter__(self) -> "_Interrupt":
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

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
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return None
    return h.hexdigest()


def _dask_client(address: str):
    try:
        from distributed import Client
    except ImportError:
        raise GipextractError("--dask-scheduler needs Dask: pip install 'gipextract[dask]'") from None
    try:
        return Client(address, set_as_default=False, timeout="30s")
    except (OSError, TimeoutError) as e:
        raise GipextractError(f"cannot connect to the Dask scheduler at {address}: {e}") from None


def run_batch(inputs: Sequence[str], outdir: str | os.PathLike, *, jobs: int | None = None, resume: bool = False,
              overwrite: bool = False, input_format: str | None = None, timeout: float | None = DEFAULT_TIMEOUT,
              dask_scheduler: str | None = None, on_start: Callable[[int], None] | None = None,
              progress: Callable[[InputFile, str], None] | None = None) -> BatchSummary:
    """Convert every input file into one dataset in ``outdir`` (module docstring;
    the layout is in :mod:`gipextract.batch.outdir`).

    :param inputs: files, directories (walked recursively) and glob patterns.
    :param jobs: worker processes; ``None`` = the CPUs available; ``1`` runs
        in this process.
    :param resume: keep the rows of inputs already done in ``outdir``
        (same path and sha256, not failed) and convert only the others.
    :param overwrite: replace a previous batch in ``outdir`` without resuming.
    :param input_format: force one reader for every input.
    :param timeout: seconds allowed per file (local runs), ``None``/0 for no limit.
    :param dask_scheduler: address of a Dask scheduler to run the workers on
        instead of local processes (the workers must see the input paths).
    :param on_start: called with the number of inputs once they are found.
    :param progress: called as ``progress(input, status)`` after each input
        is written.
    :returns: a :class:`BatchSummary`.
    :raises OutdirInUse: ``outdir`` holds a batch and neither ``resume`` nor
        ``overwrite`` was given.
    :raises OutputError: an output file cannot be written (nothing is
        committed then), or the previous run cannot be read for ``resume``.
    :raises GipextractError: the Dask scheduler cannot be reached.
    """
    root = Path(outdir)
    if root.exists() and not root.is_dir():
        raise OutputError("exists and is not a directory", path=str(root))
    previous = PreviousRun.load(root) if resume else None
    if not resume and not overwrite and (root / "manifest.csv").exists():
        raise OutdirInUse("already holds a batch (manifest.csv); use --resume to continue it or --overwrite "
                          "to replace it", path=str(root))
    entries = discover(list(inputs), exclude=[root])
    summary = BatchSummary(root, total=len(entries))
    if on_start is not None:
        on_start(len(entries))

    reuse: dict[str, int] = {}
    if previous is not None:
        candidates = previous.candidates(entries)
        unchanged = {e.path for e in candidates if _sha256_of(e.abspath) == previous.rows[e.path]["sha256"]}
        reuse = previous.plan(entries, unchanged)
    todo = [Task(e.abspath, e.path, input_format, timeout) for e in entries if e.error is None and e.path not in reuse]

    client = _dask_client(dask_scheduler) if dask_scheduler else None
    if client is not None:
        workers = sum(client.nthreads().values()) or 1
        scheduler = Scheduler(executor_factory=client.get_executor, workers=workers)
    else:
        scheduler = Scheduler(jobs or default_jobs())
    out = OutputDir(root)
    facts: list[ReportFacts] = []
    try:
        out.begin()
        cells_prev, finds_prev = previous.cursors() if reuse else (None, None)
        results = scheduler.run(iter(todo), total=len(todo))
        with _Interrupt() as stop:
            try:
                for entry in entries:
                    if stop.requested:
                        raise KeyboardInterrupt
                    if entry.error is not None:
                        result = FileResult(entry.path, None, None, "failed", error=entry.error)
                        row = out.add(entry, result)
                    elif entry.path in reuse:
                        old = previous.rows[entry.path]
                        cells = cells_prev.take(entry.path)
                        row = out.add_reused(entry, old, cells, finds_prev.take(entry.path))
                        summary.reused += 1
                        if old["agency"] and old["year"]:
                            facts.append(ReportFacts(entry.path, old["agency"], int(old["year"]), facts_of_rows(cells)))
                    else:
                        with stop.waiting():
                            result = next(results)
                        if result.path != entry.path:  # a scheduler bug must never shift rows
                            raise RuntimeError(f"batch order broken: expected {entry.path}, got {result.path}")
                        row = out.add(entry, result)
                        if result.agency and result.year is not None:  # only these can be paired across years
                            facts.append(ReportFacts(entry.path, result.agency, result.year, result.facts))
                    status = row[3]
                    summary.counts[status] += 1
                    summary.done += 1
                    if status == "failed":
                        summary.failed.append((entry.path, row[4]))
                    if progress is not None:
                        progress(entry, status)
            except KeyboardInterrupt:
                summary.interrupted = True
            finally:
                scheduler.close(cancel=summary.interrupted)
            # committing is not interrupted: the handler only sets the flag now
            out.commit(iter_cross_report_findings(facts))
    except BaseException:
        out.discard()
        scheduler.close(cancel=True)
        raise
    finally:
        if client is not None:
            client.close()
    return summary
