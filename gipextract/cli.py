"""The ``gipextract`` command line: a thin mapping onto the library.

Exit codes: 0 ok; 1 an input could not be read (or an output not written);
2 usage error; 3 the report was read but breaks identities (an ``error``
finding of :mod:`gipextract.validate`; ``validate``, ``extract --strict``).
Expected errors print one line on stderr naming the file; ``-v`` adds the
traceback.
"""

from __future__ import annotations

import functools
import json
import sys
import traceback
from pathlib import Path

import click

from . import __version__
from .errors import GipextractError
from .export import write_files
from .export.csv import tidy_csv, wide_csv
from .export.findings import findings_csv, findings_document, findings_text
from .export.json import to_json
from .pipeline import read_report
from .readers import READERS
from .report import Report
from .templates import TABLES

EXIT_OK, EXIT_READ, EXIT_USAGE, EXIT_IDENTITY = 0, 1, 2, 3
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
        except GipextractError as e:
            _fail(ctx, str(e), e)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as e:  # a bug: say so in one line; -v shows where
            _fail(ctx, f"internal error: {e.__class__.__name__}: {e} (run with -v for the traceback)", e)
    return wrapper


def input_options(f):
    """Options shared by every command that reads reports."""
    f = click.option("--input-format", type=click.Choice(sorted(READERS)), default=None,
                     help="Force the reader instead of detecting the format from the content.")(f)
    return f


def _read(path: str, input_format: str | None) -> Report:
    if path == "-":
        return read_report(sys.stdin.buffer.read(), input_format, name="<stdin>")
    return read_report(path, input_format)


def _warn(report: Report, quiet: bool) -> None:
    if quiet:
        return
    for f in report.findings:
        if f.severity != "info":
            click.echo(f"gipextract: {report.source.path}: {f.rule}: {f.message}", err=True)


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="gipextract")
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """Extract the statistics tables (表二 主动公开, 表三 依申请公开, 表四 行政复议/行政诉讼)
    of Chinese government information-disclosure annual reports (政府信息公开工作年度报告)
    into clean data.

    Exit codes: 0 ok, 1 input could not be read, 2 usage, 3 identities broken.
    """
    ctx.ensure_object(dict)["verbose"] = verbose


@main.command(context_settings=CONTEXT)
@click.argument("report", type=click.Path(dir_okay=True, allow_dash=True))
@click.option("-o", "--output", type=click.Path(), default=None,
              help="Write to DIR (t2.csv t3.csv t4.csv cells.csv findings.csv report.json), or to one "
                   "file whose extension (.json, .csv) picks the format.")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default=None,
              help="Output format: json (the whole report; the default on stdout) or csv "
                   "(the tidy cells on stdout; the wide tables and cells with -o DIR).")
@click.option("--excel", is_flag=True, help="Write CSV with a UTF-8 BOM so that Excel opens it correctly.")
@click.option("-q", "--quiet", is_flag=True, help="Do not report reading problems and broken identities on stderr.")
@click.option("--strict", is_flag=True,
              help="Exit with code 3 (after writing the output) when the report breaks an identity.")
@input_options
@handle_errors
def extract(report: str, output: str | None, fmt: str | None, excel: bool, quiet: bool, strict: bool,
            input_format: str | None) -> None:
    """Extract the tables of one REPORT (text, HTML, DOCX or PDF; '-' for stdin).

    Prints the report as JSON on stdout, or writes files with -o.
    """
    rep = _read(report, input_format)
    _warn(rep, quiet)
    _write_report(rep, output, fmt, excel)
    if strict and rep.errors:
        click.get_current_context().exit(EXIT_IDENTITY)


def _write_report(rep: Report, output: str | None, fmt: str | None, excel: bool) -> None:
    csv_encoding = "utf-8-sig" if excel else "utf-8"
    if output is None:
        text = tidy_csv(rep) if fmt == "csv" else to_json(rep)
        if fmt == "csv" and excel:
            sys.stdout.buffer.write(text.encode("utf-8-sig"))
        else:
            click.echo(text, nl=False)
        return
    out = Path(output)
    suffix = out.suffix.lower()
    if suffix in (".json", ".csv"):
        if fmt and fmt != suffix[1:]:
            raise click.UsageError(f"--format {fmt} contradicts the extension of {output}")
        if suffix == ".json":
            write_files({out: to_json(rep)})
        else:
            write_files({out: tidy_csv(rep)}, encoding=csv_encoding)
        return
    csvs = {out / f"{t}.csv": wide_csv(rep, t) for t in TABLES}
    csvs[out / "cells.csv"] = tidy_csv(rep)
    csvs[out / "findings.csv"] = findings_csv(rep)
    if fmt in (None, "csv"):
        write_files(csvs, encoding=csv_encoding)
    if fmt in (None, "json"):
        write_files({out / "report.json": to_json(rep)})


@main.command(context_settings=CONTEXT)
@click.argument("reports", nargs=-1, required=True, metavar="REPORT...",
                type=click.Path(dir_okay=True, allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              help="text: a readable table per report (the default); json: one array with the "
                   "findings of every report, for machines.")
@input_options
@click.pass_context
@handle_errors
def validate(ctx: click.Context, reports: tuple[str, ...], fmt: str, input_format: str | None) -> None:
    """Check the identities (勾稽关系) of each REPORT and print its findings:
    rule, the cells with their labels, expected and actual values.

    Exit codes: 0 no report breaks an identity, 3 some report does (an error
    finding), 1 a file could not be read (the others are still checked).
    """
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
        if fmt == "json":
            docs.append(findings_document(rep))
        else:
            click.echo(findings_text(rep))
    if fmt == "json":
        click.echo(json.dumps(docs, ensure_ascii=False, indent=2))
    ctx.exit(code)
