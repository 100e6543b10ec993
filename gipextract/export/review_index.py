"""The review pages of a batch: ``OUTDIR/review/pages/<input>.html`` (one
:mod:`gipextract.export.review` page per report read) and
``OUTDIR/review/index.html``, a sortable, filterable list of every input of
the manifest (organ, year, format version, status, identities, number of
findings) linking to its page.  Every column shows the committed manifest's
value (``organ`` and ``identities`` as ``manifest.csv`` has them: the organ
is only known once the whole batch is paired, so :meth:`ReviewIndex.write`
reads them back from the manifest).

:class:`ReviewIndex` is driven by the batch run: :meth:`ReviewIndex.add` once
per manifest row, in input order (it writes the row's page, if the worker made
one), then :meth:`ReviewIndex.write` once the manifest is committed.  Each
page and the index are written atomically (temporary file, then rename).  A
page kept from a previous run (``--resume``) is linked when it exists.
"""

from __future__ import annotations

import csv
import html
import io
import os
import re
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..errors import OutputError
from ..locate import Located
from ..report import Report

#: The review directory of a batch output directory.
REVIEW_DIR = "review"
_N_FINDINGS = re.compile(rb'<meta name="gipextract-findings" content="(\d+)">')


def page_path(rel: str) -> str:
    """``review/pages/<rel>.html`` relative to the output directory, with ``/``
    separators, for an input whose path relative to its root is ``rel``."""
    return "/".join((REVIEW_DIR, "pages", *rel.split(os.sep))) + ".html"


def batch_page(data: bytes, report: Report, max_pages: int, max_width: int | None = None, *,
               located: Located | None = None) -> bytes | None:
    """The review page of one batch input (UTF-8), or ``None`` if it cannot be
    made (the input is still converted: a page is never worth a failed file).
    The page records its number of findings for the index.  ``located`` is
    what the locate stage found when ``report`` was read
    (:func:`gipextract.pipeline.read_located`): the page shows its table blocks
    instead of reading the input again."""
    from .review import BATCH_MAX_WIDTH, review_page

    try:
        page = review_page(data, report, located=located, max_pages=max_pages,
                           max_width=max_width or BATCH_MAX_WIDTH)
    except Exception:  # noqa: BLE001 — no page for this input; the index says so
        return None
    meta = f'<meta name="gipextract-findings" content="{len(report.findings)}">'
    return page.replace('<meta charset="utf-8">', f'<meta charset="utf-8">\n{meta}', 1).encode("utf-8")


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


@dataclass(slots=True)
class IndexRow:
    """One input in the index.

    :ivar path: the input's path (the manifest's ``path``).
    :ivar page: its page relative to ``review/`` (``pages/a/b.pdf.html``), or
        ``None`` when it has none (failed, or made with ``--no-review``).
    :ivar status, error, template, year, agency, n_errors: the manifest's.
    :ivar organ: the manifest's ``organ`` (the agency normalised across years).
    :ivar identities: the manifest's ``identities``: ``hold``, ``broken``,
        ``not_checked`` (empty when unknown).
    :ivar n_findings: the report's findings (the cross-year ones aside), or
        ``None`` if unknown.
    """

    path: str
    page: str | None
    status: str
    error: str
    template: str
    year: str
    agency: str
    n_errors: str
    n_findings: int | None
    organ: str = ""
    identities: str = ""


class ReviewIndex:
    """The review pages and index of one batch output directory ``root``.

    :raises OutputError: from :meth:`add` and :meth:`write` when a file cannot
        be written (naming it).
    """

    def __init__(self, root: str | os.PathLike, columns: tuple[str, ...]):
        """:param columns: the manifest's column names (its rows are read by name)."""
        self.root = Path(root)
        self.columns = columns
        self.rows: list[IndexRow] = []

    def add(self, rel: str, row: tuple[str, ...], page: bytes | None, findings_csv: bytes | None = None,
            previous_report: str | None = None) -> None:
        """Record one manifest ``row`` of the input at ``rel`` (relative path);
        write its ``page`` if given, else link the page already there.

        :param findings_csv: for an input converted in this run, its findings
            rows (CSV, no header), to count its findings when there is no new
            page; ``None`` for an input kept from the previous run.
        :param previous_report: for an input kept from the previous run, its
            ``report`` there (``reports/<old rel>/report.json``): its page is
            moved from that run's place when the input's relative path changed.
        """
        m = dict(zip(self.columns, row))
        target = self.root / page_path(rel)
        n: int | None = None
        if page is None and previous_report and previous_report.startswith("reports/"):
            old_rel = previous_report[len("reports/"):].rsplit("/report.json", 1)[0]
            old = self.root / page_path(os.path.join(*old_rel.split("/")))
            if old != target and old.is_file():
                try:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(old, target)
                except OSError as e:
                    raise OutputError(f"cannot write output: {e.strerror or e}", path=str(target)) from None
        kept = findings_csv is None and m.get("status") != "failed"  # converted by a previous run
        has_page = page is not None or (kept and target.is_file())
        if page is not None:
            try:
                _write_atomic(target, page)
            except OSError as e:
                raise OutputError(f"cannot write output: {e.strerror or e}", path=str(target)) from None
            found = _N_FINDINGS.search(page[:4096])
            n = int(found.group(1)) if found else None
        elif has_page:
            try:
                with open(target, "rb") as fh:
                    found = _N_FINDINGS.search(fh.read(4096))
                n = int(found.group(1)) if found else None
            except OSError:
                n = None
        if n is None and findings_csv is not None:
            n = sum(1 for _ in csv.reader(io.StringIO(findings_csv.decode("utf-8"))))
        link = page_path(rel).split("/", 1)[1] if has_page else None
        self.rows.append(IndexRow(m.get("path", rel), link, m.get("status", ""), m.get("error", ""),
                                  m.get("template", ""), m.get("year", ""), m.get("agency", ""),
                                  m.get("n_errors", ""), n, m.get("organ", ""), m.get("identities", "")))

    def write(self) -> Path:
        """Write ``review/index.html``, then remove the pages under
        ``review/pages/`` that it does not link (inputs no longer given, our
        temporaries) and the directories left empty; returns its path."""
        target = self.root / REVIEW_DIR / "index.html"
        self._read_manifest()
        try:
            _write_atomic(target, index_html(self.rows).encode("utf-8"))
        except OSError as e:
            raise OutputError(f"cannot write output: {e.strerror or e}", path=str(target)) from None
        top = self.root / REVIEW_DIR / "pages"
        listed = {os.path.normpath(self.root / REVIEW_DIR / r.page) for r in self.rows if r.page}
        for dirpath, _, filenames in os.walk(top, topdown=False):
            for name in filenames:
                p = os.path.join(dirpath, name)
                if os.path.normpath(p) not in listed:
                    try:
                        os.unlink(p)
                    except OSError:
                        pass
            if dirpath != str(top) and not os.listdir(dirpath):
                os.rmdir(dirpath)
        return target


    def _read_manifest(self) -> None:
        """Take each row's ``organ``, ``identities``, ``status`` and
        ``n_errors`` from the committed ``manifest.csv`` (the organ is filled
        at its commit), when it is there and lists the row's path."""
        try:
            with open(self.root / "manifest.csv", encoding="utf-8-sig", newline="") as fh:
                committed = {m.get("path", ""): m for m in csv.DictReader(fh)}
        except (OSError, UnicodeDecodeError, csv.Error):
            return
        for r in self.rows:
            m = committed.get(r.path)
            if m is not None:
                r.organ = m.get("organ") or r.organ
                r.identities = m.get("identities") or r.identities
                r.status = m.get("status") or r.status
                r.n_errors = m.get("n_errors", r.n_errors)


def _e(text: object) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def _identities(r: IndexRow) -> tuple[str, str]:
    """(text, sort key) of the identities column: the manifest's
    ``identities`` (``hold``, ``broken`` with its number of errors,
    ``not_checked``); ``—`` when the manifest has none."""
    n = int(r.n_errors) if r.n_errors.isdigit() else 0
    if r.identities == "hold":
        return "hold", "0"
    if r.identities == "broken":
        return (f"{n} broken" if n else "broken"), str(max(n, 1))
    if r.identities == "not_checked":
        return "not_checked", "-1"
    return "—", "-2"


def index_html(rows: list[IndexRow]) -> str:
    """The batch's review index: one table row per input (see the module
    docstring), sortable by a click on a column header and filterable by text
    and status; self-contained, everything escaped."""
    body = []
    for r in rows:
        name = _e(r.path)
        link = f'<a href="{_e(r.page)}">{name}</a>' if r.page else f'<span class="name">{name}</span>'
        ident, ident_key = _identities(r)
        n = "" if r.n_findings is None else str(r.n_findings)
        err = f'<div class="err">{_e(r.error)}</div>' if r.error else ""
        agency = f' title="{_e(r.agency)}"' if r.agency and r.agency != r.organ else ""
        body.append(f'<tr data-status="{_e(r.status)}"><td class="path">{link}{err}</td><td{agency}>{_e(r.organ)}</td>'
                    f'<td data-sort="{_e(r.year or "0")}">{_e(r.year)}</td><td>{_e(r.template)}</td>'
                    f'<td><span class="st st-{_e(r.status)}">{_e(r.status)}</span></td>'
                    f'<td data-sort="{ident_key}" class="{"bad" if r.identities == "broken" else ""}">'
                    f"{_e(ident)}</td><td data-sort=\"{n or '-1'}\">{n}</td></tr>")
    statuses = sorted({r.status for r in rows})
    options = "".join(f'<option value="{_e(s)}">{_e(s)}</option>' for s in statuses)
    counts = ", ".join(f"{sum(1 for r in rows if r.status == s)} {_e(s)}" for s in statuses)
    template = resources.files("gipextract.export").joinpath("review_index.html").read_text(encoding="utf-8")
    return (template.replace("{{count}}", f"{len(rows)} inputs: {counts}" if rows else "no inputs")
            .replace("{{options}}", options).replace("{{rows}}", "\n".join(body)))
