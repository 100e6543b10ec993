"""The ``gipextract`` command line: a thin mapping onto the library.

Exit codes: 0 ok; 1 an input could not be read (or an output not written);
2 usage error; 3 the report was read but breaks identities (an ``error``
finding of :mod:`gipextract.validate`; ``validate``, ``extract --strict``).
Expected errors print one line on stderr naming the file; ``-v`` adds the
traceback.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import traceback
from typing import TYPE_CHECKING, BinaryIO

try:
    import click
except KeyboardInterrupt:  # Ctrl-C while starting: quietly, as a shell reports it
    sys.exit(130)

from .errors import GipextractError

# Start-up: ``gipextract --version`` and ``-h`` import only click and this module.  The
# pipeline, the readers, the exporters and their libraries are imported inside the
# commands that use them (``bench/startup.py`` measures it; tests/test_startup.py checks it).
if TYPE_CHECKING:
    from .report import Report

#: The reader names ``--input-format`` accepts (``gipextract.readers.READERS``; a test
#: checks that the two agree, so the readers need not be imported to build the options).
READER_NAMES = ("docx", "html", "markdown", "pdf", "text", "doc", "wps", "rtf", "odt", "image")
#: The formats ``extract --format`` accepts (the stream formats of ``gipextract.export.EXPORTERS``;
#: a test checks that the two agree).
FORMATS = ("json", "csv", "jsonl", "xlsx")

EXIT_OK, EXIT_READ, EXIT_USAGE, EXIT_IDENTITY = 0, 1, 2, 3
EXIT_INTERRUPTED = 130  # stopped by Ctrl-C (128 + SIGINT); a batch's outputs are consistent
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _fail(ctx: click.Context, message: str, exc: BaseException | None = None) -> None:
    if ctx.find_root().obj.get("verbose") and exc is not None:
        traceback.print_exception(exc)
    click.echo(f"gipextract: error: {message}", err=True)
    ctx.exit(EXIT_READ)


def handle_errors(f):
    """Turn library errors into one-line messages and exit code 1."""
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        ctx = click.get_current_context()
        try:
            return f(*args, **kwargs)
        except _StdoutError as e:
            _fail(ctx, str(e.error), e.error)
        except GipextractError as e:
            _fail(ctx, str(e), e)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as e:  # a bug: say so in one line; -v shows where
            _fail(ctx, f"internal error: {e.__class__.__name__}: {e} (run with -v for the traceback)", e)
    return wrapper


class _StdoutError(Exception):
    """Standard output could not be written (``> /dev/full``): carries the
    one-line :class:`~gipextract.errors.OutputError` naming it."""

    def __init__(self, error: GipextractError):
        super().__init__(str(error))
        self.error = error


def _write_stdout(data: bytes) -> None:
    """Write ``data`` to standard output and flush it; an :class:`OSError`
    (a full disk, a closed descriptor) becomes an
    :class:`~gipextract.errors.OutputError` naming standard output."""
    from .errors import OutputError

    try:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    except OSError as e:
        err = OutputError(f"cannot write output: {e.strerror or e}", path="<standard output>")
        raise _StdoutError(err) from None


def input_options(f):
    """Options shared by every command that reads reports."""
    f = click.option("--input-format", type=click.Choice(READER_NAMES), default=None,
                     help="Force the reader instead of detecting the format from the content.")(f)
    return f


#: A report argument: a path or '-' for stdin.  Not checked by click (not even
#: readability): the library's loader names what is wrong in one line, exit 1.
REPORT_PATH = click.Path(allow_dash=True, readable=False)


def _source(path: str) -> tuple[str | BinaryIO, str | None]:
    """What to give the loader for a REPORT argument, and its name: standard
    input (read through the loader's bounded reader) for '-'."""
    return (sys.stdin.buffer, "<stdin>") if path == "-" else (path, None)


def _read(path: str, input_format: str | None) -> Report:
    from .pipeline import read_report

    src, name = _source(path)
    return read_report(src, input_format, name=name)


class _ClosedPipeGuard:
    """A standard stream that stops writing, quietly, once its reader has gone
    (``gipextract validate … | head -1``): the command goes on to its end and
    exits with the code it computes.  ``buffer`` is guarded the same way."""

    def __init__(self, stream, state: dict | None = None):
        self._stream = stream
        self._state = state if state is not None else {"closed": False}

    def _gone(self) -> None:
        self._state["closed"] = True
        with contextlib.suppress(Exception):  # later flushes, even at exit, go nowhere
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)

    def write(self, data):
        if not self._state["closed"]:
            try:
                return self._stream.write(data)
            except BrokenPipeError:
                self._gone()
        return len(data)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if not self._state["closed"]:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._gone()

    @property
    def buffer(self):
        return _ClosedPipeGuard(self._stream.buffer, self._state)

    def __getattr__(self, name):
        return getattr(self._stream, name)


@contextlib.contextmanager
def _guarded_std_streams():
    """stdout and stderr wrapped in :class:`_ClosedPipeGuard` for the time of a command."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _ClosedPipeGuard(saved[0]), _ClosedPipeGuard(saved[1])
    try:
        yield
    finally:
        for guard in (sys.stdout, sys.stderr):
            guard.flush()
        sys.stdout, sys.stderr = saved


class _Main(click.Group):
    """The ``gipextract`` group: every command (and ``-h``, ``--version``) runs
    with a closed stdout or stderr ending its output quietly, not in an error.
    Ctrl-C in a command (its imports included) exits 130 with one line, never
    click's ``Aborted!`` and exit 1."""

    def main(self, *args, **kwargs):
        with _guarded_std_streams():
            try:
                return super().main(*args, **kwargs)
            except KeyboardInterrupt:  # outside a command (while parsing): the same
                click.echo("gipextract: interrupted", err=True)
                sys.exit(EXIT_INTERRUPTED)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("gipextract: interrupted", err=True)
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None


def _warn(report: Report, quiet: bool) -> None:
    if quiet:
        return
    for f in report.findings:
        if f.severity != "info":
            click.echo(f"gipextract: {report.source.path}: {f.rule}: {f.message}", err=True)


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from . import __version__  # package metadata: read only when asked

    click.echo(f"gipextract, version {__version__}")
    ctx.exit()


@click.group(cls=_Main, context_settings=CONTEXT)
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Show the version and exit.")
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """Extract the statistics tables (表二 主动公开, 表三 依申请公开, 表四 行政复议/行政诉讼)
    of Chinese government information-disclosure annual reports (政府信息公开工作年度报告)
    into clean data.

    Exit codes: 0 ok, 1 an input could not be read or an output not written, 2 usage,
    3 identities broken.
    """
    ctx.ensure_object(dict)["verbose"] = verbose


@main.command(context_settings=CONTEXT)
@click.argument("reports", nargs=-1, required=True, metavar="REPORT", type=REPORT_PATH)
@click.option("-o", "--output", type=click.Path(readable=False, allow_dash=True), default=None,
              help="Write to DIR (t2.csv t3.csv t4.csv cells.csv findings.csv report.json; a path ending "
                   "in /, an existing directory or a name without extension), or to one file whose "
                   "extension (.json, .csv, .jsonl, .xlsx) picks the format; '-' is standard output.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Output format: json (the whole report; the default on stdout), csv "
                   "(the tidy cells on stdout; the wide tables and cells with -o DIR), jsonl "
                   "(one JSON object per cell), xlsx (the three tables as printed, merged headers "
                   "included, plus cells and findings sheets; needs -o FILE.xlsx or -o DIR, or a pipe).")
@click.option("--excel", is_flag=True, help="Write CSV with a UTF-8 BOM so that Excel opens it correctly.")
@click.option("-q", "--quiet", is_flag=True, help="Do not report reading problems and broken identities on stderr.")
@click.option("--strict", is_flag=True,
              help="Exit with code 3 (after writing the output) when the report breaks an identity.")
@input_options
@handle_errors
def extract(reports: tuple[str, ...], output: str | None, fmt: str | None, excel: bool, quiet: bool,
            strict: bool, input_format: str | None) -> None:
    """Extract the tables of one REPORT (text, Markdown, HTML, DOCX or PDF; '-' for stdin).

    Prints the report as JSON on stdout, or writes files with -o; says on stderr how far it was
    read when not all is well (status partial, empty, needs_ocr, pre2019 or not_a_report;
    identities broken or not_checked). For several reports use `gipextract batch`.
    """
    if output == "-":  # standard output, as without -o
        output = None
    if len(reports) > 1:
        more = " …" if len(reports) > 2 else ""
        raise click.UsageError(f"extract reads one report, got {len(reports)}; for several use: "
                               f"gipextract batch {' '.join(reports[:2])}{more} -o OUTDIR")
    report = reports[0]
    if fmt == "xlsx" and output is None and _stdout_is_terminal():
        raise click.UsageError("--format xlsx is binary: give -o FILE.xlsx or -o DIR, or pipe stdout to a file")
    if output is not None:
        from .cli_output import output_kind

        with _usage_errors():
            output_kind(output, fmt)  # before any reading
    rep = _read(report, input_format)
    _warn(rep, quiet)
    _write_report(rep, output, fmt, excel)
    _say_status(rep, quiet)
    if strict and rep.errors:
        click.get_current_context().exit(EXIT_IDENTITY)


def _say_status(rep: Report, quiet: bool, identities: bool = True) -> None:
    """One line on stderr with the report's status (gipextract.status), as the
    batch manifest has it, unless it is ``ok`` with identities that hold (or,
    without ``identities``, for `validate` whose output is the identities, ``ok``)."""
    from .status import report_status, status_line

    status = report_status(rep)
    if not quiet and (status[0] != "ok" or (identities and status[1] != "hold")):
        click.echo(f"gipextract: {rep.source.path}: {status_line(rep)}", err=True)


def _write_report(rep: Report, output: str | None, fmt: str | None, excel: bool) -> None:
    from .atomic import write_set
    from .cli_output import output_files, stdout_bytes

    if output is None:
        _write_stdout(stdout_bytes(rep, fmt, excel))
        return
    with _usage_errors():
        files = output_files(rep, output, fmt, excel)
    write_set(files)  # all or none, surviving a kill (journal, recovered by the next run)


@contextlib.contextmanager
def _usage_errors():
    """An :class:`~gipextract.cli_output.OutputChoiceError` as click's usage error (exit 2)."""
    from .cli_output import OutputChoiceError

    try:
        yield
    except OutputChoiceError as e:
        raise click.UsageError(str(e)) from None


@main.command(context_settings=CONTEXT)
@click.argument("reports", nargs=-1, required=True, metavar="REPORT...", type=REPORT_PATH)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              help="text: a readable table per report (the default); json: one array with the "
                   "findings of every report, for machines.")
@click.option("-q", "--quiet", is_flag=True,
              help="Print nothing on stdout: the exit code says (0 hold, 3 broken, 1 unreadable).")
@input_options
@click.pass_context
@handle_errors
def validate(ctx: click.Context, reports: tuple[str, ...], fmt: str, quiet: bool, input_format: str | None) -> None:
    """Check the identities (勾稽关系) of each REPORT and print its findings:
    rule, the cells with their labels, expected and actual values.

    Exit codes: 0 no report breaks an identity, 3 some report does (an error
    finding), 1 a file could not be read (the others are still checked).
    """
    import json

    from .export.findings import findings_document, findings_text

    code, docs = EXIT_OK, []
    for path in reports:
        try:
            rep = _read(path, input_format)
        except GipextractError as e:
            if ctx.find_root().obj.get("verbose"):
                traceback.print_exception(e)
            click.echo(f"gipextract: error: {e}", err=True)
            docs.append({"source": "<stdin>" if path == "-" else path, "error": str(e)})
            code = EXIT_READ
            continue
        if rep.errors and code == EXIT_OK:
            code = EXIT_IDENTITY
        _say_status(rep, quiet, identities=False)  # a partial report, or no report at all, says so on stderr
        if quiet:
            continue
        if fmt == "json":
            docs.append(findings_document(rep))
        else:
            click.echo(findings_text(rep))
    if fmt == "json" and not quiet:
        click.echo(json.dumps(docs, ensure_ascii=False, indent=2))
    ctx.exit(code)


@main.command(context_settings=CONTEXT)
@click.argument("report", type=REPORT_PATH)
@input_options
@handle_errors
def inspect(report: str, input_format: str | None) -> None:
    """Show what each stage made of REPORT: the reader's document, the located
    sections and table blocks (each row's cells, spans as ⟨rows×cols⟩), how each
    template row was matched to a printed row, and the findings.  For finding out
    why a new layout reads wrong."""
    from .inspect import inspect_report
    from .pipeline import read_document_from

    src, name = _source(report)
    click.echo(inspect_report(read_document_from(src, input_format, name=name)), nl=False)


@main.command(context_settings=CONTEXT)
@click.argument("report", type=REPORT_PATH)
@click.option("-o", "--output", type=click.Path(readable=False), default=None,
              help="Write the page to this file (e.g. page.html); standard output by default.")
@click.option("--max-pages", type=click.IntRange(min=0), default=8, show_default=True,
              help="The most PDF page images embedded beside the tables.")
@input_options
@handle_errors
def review(report: str, output: str | None, max_pages: int, input_format: str | None) -> None:
    """Write a review page of REPORT: one self-contained HTML file with 表二, 表三 and 表四
    laid out as printed, the cells of each finding highlighted, and the source beside the
    tables (the PDF's page images, or the table as read). Open it in any browser."""
    from .atomic import write_file
    from .export.review import review_page
    from .pipeline import load, read_located

    if output is not None and not os.path.isdir(output) and os.path.splitext(output)[1].lower() not in (".html",
                                                                                                      ".htm"):
        raise click.UsageError(f"-o {output}: the review page is HTML; give a name ending in .html or .htm")
    data, path = load(sys.stdin.buffer, "<stdin>") if report == "-" else load(report)
    located, rep = read_located(data, input_format, name=path)
    page = review_page(data, rep, located=located, max_pages=max_pages).encode("utf-8")
    if output is None:
        _write_stdout(page)
    else:
        write_file(output, page)  # atomic: never half a page


def _stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


@main.command(context_settings=CONTEXT)
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--output", "outdir", type=click.Path(file_okay=False), required=True,
              help="Output directory: manifest.csv reports.csv reports.parquet cells.csv cells.parquet "
                   "findings.csv narrative.csv keys.csv gipextract.db metadata.json datapackage.json "
                   "(reports/…/report.json with --reports).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: the CPUs available; 1 runs in this process).")
@click.option("--resume", is_flag=True,
              help="Continue the batch in OUTDIR: keep inputs already done (same path and sha256, not "
                   "failed) and convert the others. Not with --overwrite.")
@click.option("--overwrite", is_flag=True,
              help="Replace a previous batch in OUTDIR instead of refusing. Not with --resume.")
@click.option("--timeout", type=click.FloatRange(min=0), default=300.0, show_default=True,
              help="Seconds allowed per file before it is failed (0: no limit; not enforced on Dask).")
@click.option("--dask-scheduler", metavar="ADDRESS", default=None,
              help="Run the workers on this Dask distributed scheduler (e.g. tcp://host:8786); the "
                   "workers must see the input paths. Fails if it does not answer within 10 s.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar, no per-file errors, no summary on stderr.")
@click.option("--no-review", is_flag=True,
              help="Do not write review/index.html and the review page of each report under review/.")
@click.option("--excel", is_flag=True, help="Write every CSV with a UTF-8 BOM so that Excel opens it correctly.")
@click.option("--organs", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="A CSV of name,organ aliases: agency names that are the same organ across years.")
@click.option("--include", multiple=True, metavar="GLOB",
              help="Only read files (found in directories or by a pattern) whose name or path matches GLOB "
                   "(e.g. '*.pdf'); repeatable.")
@click.option("--exclude", multiple=True, metavar="GLOB",
              help="Skip files whose name or path matches GLOB (e.g. 'README*'); repeatable.")
@click.option("--reports", is_flag=True, help="Also write reports/<path>/report.json for each input read.")
@click.option("--memory-limit", type=click.FloatRange(min=0), default=4.0, show_default=True, metavar="GB",
              help="Address space reading one file may add to its worker; a file needing more is failed "
                   "(0: no limit; not enforced on Dask).")
@input_options
@handle_errors
def batch(inputs: tuple[str, ...], outdir: str, jobs: int | None, resume: bool, overwrite: bool, timeout: float,
          dask_scheduler: str | None, quiet: bool, no_review: bool, excel: bool, organs: str | None,
          include: tuple[str, ...], exclude: tuple[str, ...], reports: bool, memory_limit: float,
          input_format: str | None) -> None:
    """Convert many INPUTS (files, directories walked recursively, globs) into one dataset in OUTDIR.

    One manifest row per input file (status ok, partial, empty, needs_ocr, pre2019, not_a_report
    or failed; identities hold, broken or not_checked; organ and previous year); one row per
    report read in reports.csv/.parquet; the tidy cells in cells.csv and cells.parquet; every
    finding in findings.csv, including the cross-year checks T3-Y and T2-Y1; the data
    dictionary in keys.csv; all of it in gipextract.db (`datasette gipextract.db -m
    metadata.json`). A file that fails never stops the batch. Ctrl-C or SIGTERM
    stops it and keeps what was done (rerun with --resume). Exit 0 when every input was read, 1
    when any failed (the outputs are complete either way), 130 when interrupted by Ctrl-C, 143 by
    SIGTERM.
    """
    from pathlib import Path

    from .batch import BatchUsageError, run_batch
    from .crossreport import OrgansFileError

    bars: list = []  # the progress bar, made once the inputs are counted
    show = not quiet and sys.stderr.isatty()

    def start(total: int) -> None:
        from tqdm import tqdm
        bars.append(tqdm(total=total, unit="file", file=sys.stderr, dynamic_ncols=True))

    try:
        summary = run_batch(list(inputs), outdir, jobs=jobs, resume=resume, overwrite=overwrite,
                            input_format=input_format, timeout=timeout or None, dask_scheduler=dask_scheduler,
                            review=not no_review,
                            on_start=start if show else None,
                            progress=(lambda entry, status: bars[0].update(1)) if show else None,
                            excel=excel, organs=organs, include=include, exclude=exclude, reports=reports,
                            memory_limit=memory_limit or None)
    except BatchUsageError as e:  # --resume with --overwrite, a malformed --dask-scheduler, OUTDIR in use
        raise click.UsageError(str(e)) from None
    except OrgansFileError as e:  # --organs: a missing file or a bad header
        raise click.UsageError(str(e)) from None
    finally:
        for bar in bars:
            bar.close()
    if not quiet:
        for path, error in summary.failed:
            click.echo(f"gipextract: {path}: {error}", err=True)
        from .status import STATUSES
        counts = ", ".join(f"{summary.counts[s]} {s}" for s in STATUSES)
        reused = f" ({summary.reused} kept from the previous run)" if summary.reused else ""
        click.echo(f"gipextract: batch: {summary.done} of {summary.total} inputs: {counts}{reused} "
                   f"→ {Path(outdir) / 'manifest.csv'}", err=True)
        if summary.total == 0:  # an empty dataset is most often a wrong folder or --include
            click.echo(f"gipextract: batch: warning: no input file found in {', '.join(inputs)}"
                       + (" (with the --include/--exclude given)" if include or exclude else "")
                       + "; the dataset written is empty", err=True)
    ctx = click.get_current_context()
    if summary.interrupted:  # exit 128 + the signal, as a shell reports it: 130 (Ctrl-C), 143 (SIGTERM)
        import signal
        name = signal.Signals(summary.signal).name if summary.signal else "SIGINT"
        click.echo(f"gipextract: interrupted ({name}): the {summary.done} inputs done are listed in "
                   f"{Path(outdir) / 'manifest.csv'}; rerun with --resume to finish", err=True)
        ctx.exit(128 + summary.signal if summary.signal else EXIT_INTERRUPTED)
    ctx.exit(EXIT_READ if summary.failed else EXIT_OK)


if __name__ == "__main__":
    main()
