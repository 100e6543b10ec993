"""Input discovery: command-line arguments → the sorted list of input files.

An argument is a file, a directory (walked recursively; names starting with
``.`` are skipped, and so is the output directory), or a glob pattern
(``*``, ``?``, ``[…]``, ``**``) that the shell did not expand.  Every file found
becomes one :class:`InputFile`; so does every argument that names nothing and
every entry that cannot be read as a regular file (a broken link, a FIFO, a
directory that cannot be listed), carrying the reason, so that the manifest
can list it as ``failed`` instead of dropping it silently.

``include_globs`` / ``exclude_globs`` (``batch --include/--exclude``) filter
the files found under a directory or by a pattern: a file is kept when it
matches some include pattern (every file when there is none) and no exclude
pattern.  A pattern matches the file's name (``*.pdf``, ``README*``), its
path under the directory argument (``truth/*``) or its path as shown
(``archive/2019/*``); a file named on the command line is always kept.

Order: sorted by the path as shown (``InputFile.path``), so the output order
does not depend on the file system, on the order of the arguments or on
``--jobs``.  A file reached twice (an argument and a directory holding it) is
listed once.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class InputFile:
    """One input of a batch.

    :ivar path: the path as shown in the manifest and as the cells' ``source``
        (the argument joined with the path found under it).
    :ivar abspath: the absolute path the worker opens.
    :ivar rel: its path relative to the deepest directory holding every input,
        used for ``reports/<rel>/report.json``.
    :ivar error: why this entry cannot be read at all (then it is a ``failed``
        row and no worker sees it), else ``None``.
    """

    path: str
    abspath: str
    rel: str = ""
    error: str | None = None


def _is_within(path: str, dirs: list[str]) -> bool:
    return any(path == d or path.startswith(d + os.sep) for d in dirs)


def _entry(path: str) -> tuple[str, str | None]:
    """(abspath, error) for a path found on disk."""
    abspath = os.path.abspath(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return abspath, "broken symbolic link" if os.path.islink(path) else "no such file"
    except OSError as e:
        return abspath, f"cannot read: {e.strerror or e}"
    if stat.S_ISDIR(st.st_mode):
        return abspath, "is a directory"
    if not stat.S_ISREG(st.st_mode):
        return abspath, "not a regular file (a FIFO, socket or device); not read"
    return abspath, None


def _matches(path: str, patterns: Sequence[str], top: str | None) -> bool:
    forms = {os.path.basename(path), path}
    if top is not None:
        forms.add(os.path.relpath(path, top))
    return any(fnmatch.fnmatch(form, p) for form in forms for p in patterns)


def discover(arguments: list[str], exclude: Sequence[str | os.PathLike] = (), *,
             include_globs: Sequence[str] = (), exclude_globs: Sequence[str] = ()) -> list[InputFile]:
    """The input files named by ``arguments`` (module docstring), sorted.

    :param exclude: directories never to descend into (the output directory).
    :param include_globs, exclude_globs: file patterns (module docstring).
    :returns: one :class:`InputFile` per file or unreadable entry; an empty
        list if the arguments hold no file.
    """
    skip = [os.path.realpath(p) for p in exclude]
    found: dict[str, InputFile] = {}

    def wanted(path: str, top: str | None = None) -> bool:
        path = os.path.normpath(path)
        return ((not include_globs or _matches(path, include_globs, top))
                and not (exclude_globs and _matches(path, exclude_globs, top)))

    def add(path: str, error: str | None = None) -> None:
        path = os.path.normpath(path)
        abspath, problem = (os.path.abspath(path), error) if error else _entry(path)
        found.setdefault(abspath, InputFile(path, abspath, error=problem))

    def walk(top: str) -> None:
        def unreadable(e: OSError) -> None:
            add(e.filename or top, f"cannot list directory: {e.strerror or e}")

        for dirpath, dirnames, filenames in os.walk(top, onerror=unreadable):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")
                           and not _is_within(os.path.realpath(os.path.join(dirpath, d)), skip)]
            for name in filenames:
                if not name.startswith(".") and wanted(os.path.join(dirpath, name), top):
                    add(os.path.join(dirpath, name))

    for arg in arguments:
        if os.path.isdir(arg):
            if not _is_within(os.path.realpath(arg), skip):
                walk(arg)
        elif os.path.lexists(arg):
            add(arg)
        elif glob.has_magic(arg):
            matches = sorted(glob.glob(arg, recursive=True))
            if not matches:
                add(arg, "no file matches this pattern")
            for m in matches:
                if os.path.isdir(m):
                    walk(m)
                elif not _is_within(os.path.realpath(os.path.dirname(m) or "."), skip) and wanted(m):
                    add(m)
        else:
            add(arg, "no such file or directory")
    inputs = sorted(found.values(), key=lambda f: f.path)
    readable = [f.abspath for f in inputs if f.error is None]
    if not readable:
        return inputs
    base = os.path.commonpath([os.path.dirname(p) for p in readable])
    return [InputFile(f.path, f.abspath, os.path.relpath(f.abspath, base) if f.error is None else "", f.error)
            for f in inputs]


def report_path(rel: str) -> str:
    """``reports/<rel>/report.json`` relative to the output directory, with
    ``/`` separators (as the manifest records it)."""
    return "/".join(("reports", *rel.split(os.sep), "report.json"))
