"""Batch conversion: many inputs → one dataset in an output directory (see README, "Whole archives").

    from gipextract.batch import run_batch
    summary = run_batch(["archive/"], "out/", jobs=2)

Stages: :mod:`~gipextract.batch.inputs` finds and sorts the input files;
:mod:`~gipextract.batch.scheduler` runs :func:`~gipextract.batch.worker.convert_one`
on each (in this process, a local process pool or a Dask cluster) and yields
the results in input order; :mod:`~gipextract.batch.outdir` streams them into
the output files and commits them; :mod:`gipextract.crossreport` adds the
checks between consecutive years of one organ at the end
(:mod:`~gipextract.batch.run` ties them together).

Guarantees: one manifest row per input, in sorted input order, the same
whatever ``jobs`` or executor; a file that fails is a ``failed`` row and never
stops the batch; a file whose time limit expires is always ``failed``, never
partial data; Ctrl-C (SIGINT) or SIGTERM stops the batch within a second (the
files in flight are dropped, their workers killed) and commits what was done
(the manifest lists exactly those inputs, no temporary file is left); every
finished input is journaled at once (:mod:`~gipextract.batch.journal`), so that
``resume`` after a batch killed outright converts only the unfinished ones;
``resume`` copies the rows of unchanged inputs from the previous run (or its
journal) and converts the rest; workers die with the batch process and read
each file under an address-space limit (``memory_limit``).

The names below are loaded on first use, so that worker processes import
only :mod:`~gipextract.batch.worker` (which formats each report's CSV rows and
Arrow record batch, so that the writing process only appends them) and never
the output side (the Parquet writer, tqdm, pandas).
"""

from __future__ import annotations

__all__ = ["BatchSummary", "BatchUsageError", "OutdirInUse", "BadSchedulerAddress", "run_batch", "discover",
           "convert_one", "DEFAULT_TIMEOUT", "DASK_CONNECT_TIMEOUT"]

_WHERE = {"BatchSummary": "run", "BatchUsageError": "run", "OutdirInUse": "run", "BadSchedulerAddress": "run",
          "run_batch": "run", "discover": "inputs", "convert_one": "worker", "DEFAULT_TIMEOUT": "worker",
          "DASK_CONNECT_TIMEOUT": "run"}


def __getattr__(name: str):
    if name in _WHERE:
        from importlib import import_module
        return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
