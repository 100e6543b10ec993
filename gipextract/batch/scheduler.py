"""Run :func:`~gipextract.batch.worker.convert_one` over many tasks and yield
the results **in task order**, whatever the executor.

Executors: in-process (``jobs=1``), a local process pool
(:class:`concurrent.futures.ProcessPoolExecutor`, forkserver start method where
available, Ctrl-C ignored in the workers), or a Dask cluster through
``distributed.Client.get_executor()``.  Tasks go out in chunks
(:func:`~gipextract.batch.worker.convert_many`); at most ``window`` chunks are
in flight, so memory stays flat however many files there are, and results are
reordered with a small FIFO of futures (head-of-line wait).

A chunk whose future fails (a worker process killed by a signal or by the
out-of-memory killer breaks the whole pool; Dask gives up on a task that
killed its workers) is re-run one file at a time, alone in a fresh pool, so
that only the file that kills a worker comes out ``failed``.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import islice

from ..errors import GipextractError
from .worker import FileResult, Task, convert_many, init_worker, timeout_error


def default_jobs() -> int:
    """The number of CPUs this process may use (``--jobs`` default)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _process_pool(jobs: int) -> ProcessPoolExecutor:
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        # a clean server process imports gipextract once; workers fork from it
        # (plain fork from a parent that runs pyarrow/tqdm threads is unsafe)
        ctx = multiprocessing.get_context("forkserver")
        # the worker only: it imports neither pyarrow nor pandas (the writing process builds the Arrow data)
        ctx.set_forkserver_preload(["gipextract.batch.worker"])
    else:
        ctx = multiprocessing.get_context("spawn")  # type: ignore[assignment]
    return ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=init_worker, initargs=(os.getpid(),))


def _stop_pool(pool: Executor) -> None:
    """Shut ``pool`` down now: cancel what has not started, end the workers."""
    # the workers first: shutdown() forgets them (Python < 3.14), and the interpreter's exit would then
    # wait for the file in flight (up to --timeout)
    procs = list((getattr(pool, "_processes", None) or {}).values())
    results = getattr(pool, "_result_queue", None)
    pool.shutdown(wait=False, cancel_futures=True)
    terminate = getattr(pool, "terminate_workers", None)  # Python ≥ 3.14
    if terminate is not None:
        terminate()
        return
    for proc in procs:  # SIGKILL: a worker inside C code (a PDF's inflate) would not act on SIGTERM for long
        try:
            proc.kill()
        except (OSError, AttributeError):
            pass
    for proc in procs:  # wait, so that no worker still writes once the batch commits
        try:
            proc.join(1)
        except (OSError, AttributeError, AssertionError):
            pass
    # A worker killed while it wrote its result leaves half a message in the result pipe: the pool's manager
    # thread would wait for the rest for ever, and the interpreter's exit (which joins that thread) with it.
    # This process holds the pipe's other write end; closing it lets the thread read EOF, see the pool broken
    # and end.
    writer = getattr(results, "_writer", None)
    if writer is not None:
        try:
            writer.close()
        except OSError:
            pass


class WorkersDied(GipextractError):
    """Raised when fresh worker processes die before running anything (they
    cannot start: broken environment, no memory), so that no file can be
    blamed and the batch must stop instead of failing every file."""


def ping() -> int:
    """A task that only proves a worker process runs (after a pool broke)."""
    return os.getpid()


def _crashed(task: Task, e: BaseException, elapsed: float = 0.0) -> FileResult:
    if isinstance(e, BrokenProcessPool) and task.timeout and elapsed >= task.timeout:
        # its worker was ended past the time limit (the watchdog of init_worker, or from outside)
        return FileResult(path=task.name, sha256=None, format=None, status="failed", error=timeout_error(task.timeout))
    reason = ("the worker process died reading this file (killed by a signal or out of memory)"
              if isinstance(e, BrokenProcessPool) else f"the worker failed on this file: {e.__class__.__name__}: {e}")
    return FileResult(path=task.name, sha256=None, format=None, status="failed", error=" ".join(reason.split()))


class Scheduler:
    """Ordered execution of tasks on one kind of executor.

    :param jobs: worker processes for the local pool; ``1`` runs in this
        process (no pool).  Ignored with ``executor_factory``.
    :param executor_factory: makes the :class:`concurrent.futures.Executor` to
        use instead of a process pool (Dask); called again after a failure.
    :param chunk: tasks per executor job; ``None`` picks one from the task count.
    :param window: chunks in flight at once; ``None``: 2 per worker (at least 4).
    :param workers: workers of the executor made by ``executor_factory``
        (sizes the window).
    :param fn: the chunk function, ``list[Task] → list[FileResult]``, a
        module-level (picklable) function; :func:`convert_many` by default.
    """

    def __init__(self, jobs: int = 1, executor_factory: Callable[[], Executor] | None = None,
                 chunk: int | None = None, window: int | None = None, workers: int | None = None,
                 fn: Callable[[list[Task]], list[FileResult]] = convert_many):
        self.fn = fn
        self.jobs = max(1, jobs)
        self.factory = executor_factory
        self.chunk = chunk
        self.window = window or max(4, 2 * (workers or self.jobs))
        self.inline = executor_factory is None and self.jobs == 1
        self._pool: Executor | None = None

    # -- executor lifecycle -------------------------------------------------

    def _executor(self) -> Executor:
        if self._pool is None:
            self._pool = self.factory() if self.factory else _process_pool(self.jobs)
        return self._pool

    def _restart(self) -> None:
        """Replace a broken pool, and check that the new one can run a task.

        :raises WorkersDied: the new workers die before running a no-op.
        """
        if self._pool is not None:
            if self.factory is None:
                _stop_pool(self._pool)
            self._pool = None
        try:
            self._executor().submit(ping).result()
        except BrokenProcessPool as e:
            self._pool = None
            raise WorkersDied(f"worker processes die on start ({e}); no file was blamed for it") from None

    def close(self, cancel: bool = False) -> None:
        """Release the executor; with ``cancel``, drop queued work and end the
        worker processes at once (Ctrl-C)."""
        if self._pool is None:
            return
        if cancel and self.factory is None:
            _stop_pool(self._pool)
        else:
            self._pool.shutdown(wait=not cancel)  # Dask's executor cancels its futures when not waiting
        self._pool = None

    # -- running ------------------------------------------------------------

    def run(self, tasks: Iterable[Task], total: int | None = None) -> Iterator[FileResult]:
        """Yield one :class:`FileResult` per task, in the order of ``tasks``."""
        if self.inline:
            for t in tasks:
                yield from self.fn([t])
            return
        # small chunks: results in flight (window × chunk) are what the parent holds in memory
        size = self.chunk or max(1, min(8, (total or 0) // (self.jobs * 16)))
        source = iter(tasks)
        inflight: deque[tuple[list[Task], Future]] = deque()
        while True:
            while len(inflight) < self.window:
                batch = list(islice(source, size))
                if not batch:
                    break
                inflight.append((batch, self._submit(batch)))
            if not inflight:
                return
            batch, future = inflight.popleft()
            try:
                results = future.result()
            except Exception as e:  # noqa: BLE001 — a chunk failed as a whole
                lost = batch
                if isinstance(e, BrokenProcessPool):  # every chunk in flight is lost with the pool
                    lost = batch + [t for b, _ in inflight for t in b]
                    inflight.clear()
                    self._restart()
                for t in lost:
                    yield self._alone(t)
                continue
            yield from results

    def _submit(self, batch: list[Task]) -> Future:
        """Submit ``batch``; a pool that broke meanwhile gives a failed future
        (handled like any failed chunk when it reaches the head)."""
        try:
            return self._executor().submit(self.fn, batch)
        except BrokenProcessPool as e:
            failed: Future = Future()
            failed.set_exception(e)
            return failed

    def _alone(self, task: Task) -> FileResult:
        """Run ``task`` alone (after a chunk failed), so a crash names its file."""
        started = time.monotonic()
        try:
            return self._executor().submit(self.fn, [task]).result()[0]
        except Exception as e:  # noqa: BLE001
            elapsed = time.monotonic() - started
            if isinstance(e, BrokenProcessPool):
                self._restart()
            return _crashed(task, e, elapsed)
