"""Export: a :class:`~gipextract.report.Report` to files (one module per format).

Every file is written atomically: to a temporary file in the same directory,
then renamed over the target, so a reader never sees half a file and a failed
run leaves no partial output.  :func:`write_files` extends that to a set of
files: all or none (see there).  :func:`output_files` and :func:`stdout_bytes`
say what ``gipextract extract`` writes for ``-o`` and ``--format``.
"""

from __future__ import annotations

import os
import secrets
import stat
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import OutputError

if TYPE_CHECKING:
    from ..report import Report

#: ``-o FILE`` extensions and the format each one picks.
FILE_FORMATS = {".json": "json", ".csv": "csv", ".jsonl": "jsonl", ".xlsx": "xlsx"}
#: The formats ``--format`` accepts.
FORMATS = ("json", "csv", "jsonl", "xlsx")


class OutputChoiceError(ValueError):
    """Raised when ``-o``/``--format`` do not name an output gipextract writes:
    an unknown extension, a format contradicting the extension, an existing
    file given as a directory.  A usage error: nothing has been written."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def check_target(path: str | os.PathLike) -> None:
    """Check that ``path`` can be replaced by a rename, before anything is
    written: it is not a directory or a special file (device, FIFO, socket);
    its nearest existing ancestor is a directory this process may write and
    enter; in a sticky directory (``/tmp``) a file of another user is not
    replaced by a non-root process.

    :raises OutputError: naming ``path`` and what is wrong.
    """
    path = Path(path)
    st = _lstat(path)
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise OutputError("cannot write output: it is a directory", path=str(path))
        if not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
            raise OutputError("cannot write output: it is not a regular file (a device, FIFO or socket)",
                              path=str(path))
    parent = path.parent
    while _lstat(parent) is None and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"cannot write output: {parent} is not a directory", path=str(path))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write output: the directory {parent} is not writable", path=str(path))
    if st is not None and parent == path.parent and os.geteuid() != 0:
        pst = os.stat(parent)
        if pst.st_mode & stat.S_ISVTX and os.geteuid() not in (st.st_uid, pst.st_uid):
            raise OutputError("cannot write output: another user's file in a sticky directory", path=str(path))


def _make_parents(path: Path, created: list[Path]) -> None:
    missing = []
    parent = path.parent
    while _lstat(parent) is None and parent != parent.parent:
        missing.append(parent)
        parent = parent.parent
    for d in reversed(missing):
        os.mkdir(d)
        created.append(d)


def _backup(path: Path) -> Path | None:
    """A hard link to the existing ``path`` beside it, to put it back if a
    later rename of the set fails; ``None`` if ``path`` does not exist or the
    file system cannot link."""
    if _lstat(path) is None:
        return None
    for _ in range(8):
        link = path.with_name(f".{path.name}.{secrets.token_hex(4)}.bak")
        try:
            os.link(path, link, follow_symlinks=False)
            return link
        except FileExistsError:
            continue
        except OSError:
            return None
    return None


def _remove(path: Path | str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def write_files(files: dict[str | os.PathLike, str | bytes], encoding: str = "utf-8") -> list[Path]:
    """Write each ``path → content`` atomically, all or none.

    In order: every target is checked (:func:`check_target`); missing parent
    directories are made; each content is written to a temporary file beside
    its target and synced; each existing target gets a hard link as a backup;
    then the temporaries are renamed over their targets.  If anything fails,
    the temporaries and the directories made are removed and every target
    already renamed is put back as it was (from its backup, or removed if it
    is new), so the set is never left half-updated.

    :param encoding: for ``str`` contents (``utf-8-sig`` gives Excel its BOM).
    :returns: the paths written, in the order given.
    :raises OutputError: a target cannot be written; the message names the
        target (never a temporary file).  No target has been changed then.
    """
    targets = [Path(p) for p in files]
    staged: list[tuple[str, Path]] = []
    created: list[Path] = []
    backups: dict[Path, Path | None] = {}
    renamed: list[Path] = []
    mode = 0o666 & ~_umask()
    current = targets[0] if targets else None
    try:
        for path in targets:
            current = path
            check_target(path)
        for path, content in zip(targets, files.values()):
            current = path
            _make_parents(path, created)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            staged.append((tmp, path))
            with os.fdopen(fd, "wb") as fh:
                fh.write(content if isinstance(content, bytes) else content.encode(encoding))
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, mode)
        for path in targets:
            backups[path] = _backup(path)
        for tmp, path in staged:
            current = path
            os.replace(tmp, path)
            renamed.append(path)
    except (OSError, OutputError) as e:
        for path in renamed:  # put back what was replaced
            try:
                if backups.get(path) is not None:
                    os.replace(backups[path], path)
                    backups[path] = None
                else:
                    os.unlink(path)
            except OSError:
                pass
        for tmp, path in staged:
            if path not in renamed:
                _remove(tmp)
        for d in reversed(created):
            try:
                os.rmdir(d)
            except OSError:
                pass
        if isinstance(e, OutputError):
            raise
        raise OutputError(f"cannot write output: {e.strerror or e}", path=str(current) if current else None) from None
    finally:
        for link in backups.values():
            if link is not None:
                _remove(link)
    return targets


def output_kind(output: str, fmt: str | None) -> tuple[str, str | None]:
    """What ``-o output`` (with ``--format fmt``) names: ``("file", format)`` or
    ``("dir", fmt)``.

    A known extension (:data:`FILE_FORMATS`) names one file; a trailing path
    separator, an existing directory or no extension names a directory.

    :raises OutputChoiceError: another extension (the message lists the
        choices), ``fmt`` contradicting the extension, or an existing file (or
        one named with a trailing separator) given where a directory is meant.
    """
    trailing = output.endswith(("/", os.sep))
    path = Path(output)
    suffix = path.suffix.lower()
    if not trailing and suffix in FILE_FORMATS and not path.is_dir():
        if fmt and fmt != FILE_FORMATS[suffix]:
            raise OutputChoiceError(f"--format {fmt} contradicts the extension of {output}")
        return "file", FILE_FORMATS[suffix]
    if path.is_dir() or trailing or not suffix:
        if path.exists() and not path.is_dir():
            raise OutputChoiceError(f"{output} is an existing file, not a directory; give a file ending in "
                                    f"{_choices()}, or a directory")
        return "dir", fmt
    raise OutputChoiceError(f"{output}: unknown extension {path.suffix!r}; give a file ending in {_choices()}, "
                            f"or a directory (end it with /)")


def _choices() -> str:
    exts = list(FILE_FORMATS)
    return ", ".join(exts[:-1]) + " or " + exts[-1]


def output_files(report: Report, output: str, fmt: str | None = None, excel: bool = False) -> dict[Path, bytes]:
    """The files ``gipextract extract -o output [--format fmt] [--excel]``
    writes for ``report``, as ``path → bytes`` for :func:`write_files`.

    One file (:func:`output_kind`): ``.json`` the report, ``.csv`` the tidy
    cells, ``.jsonl`` one cell per line, ``.xlsx`` the workbook.  A directory:
    ``t2.csv t3.csv t4.csv cells.csv findings.csv report.json`` (no ``fmt``),
    the CSVs only (``csv``), ``report.json`` (``json``), ``cells.jsonl``
    (``jsonl``) or ``report.xlsx`` (``xlsx``).  ``excel`` puts a UTF-8 BOM
    on the CSVs.

    :raises OutputChoiceError: see :func:`output_kind`.
    """
    from ..templates import TABLES
    from .csv import tidy_csv, wide_csv
    from .findings import findings_csv

    kind, fmt = output_kind(output, fmt)
    out = Path(output)
    csv_encoding = "utf-8-sig" if excel else "utf-8"
    if kind == "file":
        return {out: stdout_bytes(report, fmt, excel)}
    if fmt in ("jsonl", "xlsx"):
        return {out / ("cells.jsonl" if fmt == "jsonl" else "report.xlsx"): stdout_bytes(report, fmt, excel)}
    files: dict[Path, bytes] = {}
    if fmt in (None, "csv"):
        csvs = {out / f"{t}.csv": wide_csv(report, t) for t in TABLES}
        csvs[out / "cells.csv"] = tidy_csv(report)
        csvs[out / "findings.csv"] = findings_csv(report)
        files.update((path, text.encode(csv_encoding)) for path, text in csvs.items())
    if fmt in (None, "json"):
        files[out / "report.json"] = stdout_bytes(report, "json", excel)
    return files


def stdout_bytes(report: Report, fmt: str | None = None, excel: bool = False) -> bytes:
    """``report`` as one stream in format ``fmt``: ``json`` (the default; the
    whole report), ``csv`` (the tidy cells; with a UTF-8 BOM if ``excel``),
    ``jsonl`` (one cell per line) or ``xlsx`` (the workbook)."""
    if fmt == "xlsx":
        from .xlsx import to_xlsx  # openpyxl is imported only when asked for
        return to_xlsx(report)
    if fmt == "csv":
        from .csv import tidy_csv
        return tidy_csv(report).encode("utf-8-sig" if excel else "utf-8")
    if fmt == "jsonl":
        from .jsonl import cells_jsonl
        return cells_jsonl(report).encode("utf-8")
    from .json import to_json
    return to_json(report).encode("utf-8")
