"""Atomic output: one file, or a set of files all or none, surviving a kill.

Every output gipextract writes goes through here (the one writer of the
project).  A reader of the outputs never sees half a file; a failed write
leaves the previous outputs as they were and no temporary file behind.

* :func:`write_file` — one file: written to a temporary file beside the
  target (``.NAME.gipx-PID-TOKEN.tmp``), synced, renamed over the target.
* :func:`write_set` — several files, all or none.  Every target is checked
  first (:func:`check_target`); each content is staged beside its target;
  existing targets get a hard-link backup (``….bak``); a **journal**
  (``.gipextract-PID-TOKEN.journal``, in the first target's directory) lists the
  renames and is synced; then the renames run; then backups and journal go.
  An error in this process puts every target back as it was.  If the process
  is *killed* during the renames, the journal is left: the next
  :func:`write_set` on that directory (or :func:`recover`) finishes the
  renames from it (the staged files are complete, synced), so the set is the
  new one, whole, and removes the backups and the journal.  Temporary files
  and backups of a process that no longer runs (killed before its journal
  was written) are removed too.  Files of a running writer are never touched.

Contents are ``bytes``, ``str`` (encoded with ``encoding``) or a callable
that writes to a binary file object (for outputs streamed by a writer
library: Parquet, XLSX).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import BinaryIO, TypeVar

from .errors import OutputError

#: A file's content: bytes, text, or a function writing it to a binary file.
Content = bytes | str | Callable[[BinaryIO], None]

_P = TypeVar("_P", bound="str | os.PathLike[str]")
_OURS = re.compile(r"^\..+\.gipx-(\d+)-[0-9a-f]{8}\.(tmp|bak)$")
_JOURNAL = re.compile(r"^\.gipextract-(\d+)-[0-9a-f]{8}\.journal$")


def umask() -> int:
    """The process's file-creation mask (read without changing it where the
    system tells it: ``/proc/self/status``)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
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


def _sibling(path: Path, token: str, kind: str) -> Path:
    return path.with_name(f".{path.name}.gipx-{os.getpid()}-{token}.{kind}")


def sync_dir(directory: Path) -> None:
    """fsync ``directory`` (so renames in it are durable); quietly nothing where
    the system cannot."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _stage(path: Path, content: Content, token: str, mode: int, encoding: str) -> Path:
    """Write ``content`` to a synced temporary file beside ``path``; return it."""
    tmp = _sibling(path, token, "tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            if callable(content):
                content(fh)
            else:
                fh.write(content if isinstance(content, bytes) else content.encode(encoding))
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
    except BaseException:
        _remove(tmp)
        raise
    return tmp


def _remove(path: Path | str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` is running (this process counts as running; a
    process of another user that we may not signal counts as running too)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover(directory: str | os.PathLike) -> list[Path]:
    """Finish or clean up what a killed :func:`write_set` left in ``directory``:
    a journal's renames are completed (roll forward: the staged files are
    whole), then its backups and the journal are removed; temporary files and
    backups of processes no longer running are removed.  Called by
    :func:`write_set` on the directories it writes to.

    :returns: the targets whose renames were completed.
    """
    directory = Path(directory)
    done: list[Path] = []
    try:
        names = os.listdir(directory)
    except OSError:
        return done
    for name in names:
        m = _JOURNAL.match(name)
        if not m or pid_alive(int(m.group(1))):
            continue
        journal = directory / name
        try:
            entries = json.loads(journal.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            entries = []
        for entry in entries:
            tmp, target = Path(entry["tmp"]), Path(entry["target"])
            if _lstat(tmp) is not None:
                try:
                    os.replace(tmp, target)
                    done.append(target)
                except OSError:
                    _remove(tmp)
            if entry.get("bak"):
                _remove(entry["bak"])
        sync_dir(directory)
        _remove(journal)
    for name in names:
        m = _OURS.match(name)
        if m and not pid_alive(int(m.group(1))):
            _remove(directory / name)
    return done


def _write_journal(journal: Path, entries: list[dict]) -> None:
    """Write and sync the journal (a journal cut short by a kill cannot be
    parsed: :func:`recover` then knows no rename had started, and drops it)."""
    fd = os.open(journal, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(json.dumps(entries).encode("utf-8"))
        fh.flush()
        os.fsync(fh.fileno())
    sync_dir(journal.parent)


def _backup(path: Path, token: str) -> Path | None:
    """A hard link to the existing ``path`` beside it, to put it back if a
    later rename of the set fails; ``None`` if ``path`` does not exist or the
    file system cannot link."""
    if _lstat(path) is None:
        return None
    link = _sibling(path, token, "bak")
    try:
        os.link(path, link, follow_symlinks=False)
        return link
    except OSError:
        return None


def write_set(files: Mapping[_P, Content], encoding: str = "utf-8") -> list[Path]:
    """Write each ``path → content`` atomically, all or none, surviving a kill
    (module docstring).

    :param encoding: for ``str`` contents (``utf-8-sig`` gives Excel its BOM).
    :returns: the paths written, in the order given.
    :raises OutputError: a target cannot be written; the message names the
        target (never a temporary file).  No target has been changed then.
    """
    targets = [Path(p) for p in files]
    token = secrets.token_hex(4)
    staged: list[tuple[Path, Path]] = []
    created: list[Path] = []
    backups: dict[Path, Path | None] = {}
    renamed: list[Path] = []
    journal: Path | None = None
    mode = 0o666 & ~umask()
    current = targets[0] if targets else None
    try:
        for path in targets:
            current = path
            check_target(path)
        for directory in dict.fromkeys(p.parent for p in targets):
            recover(directory)
        for path, content in zip(targets, files.values()):
            current = path
            _make_parents(path, created)
            staged.append((_stage(path, content, token, mode, encoding), path))
        for path in targets:
            backups[path] = _backup(path, token)
        if len(staged) > 1:
            current = targets[0]
            journal = targets[0].parent / f".gipextract-{os.getpid()}-{token}.journal"
            entries = [{"tmp": str(tmp.resolve()), "target": str(path.resolve()),
                        "bak": str(backups[path].resolve()) if backups.get(path) else None}  # type: ignore[union-attr]
                       for tmp, path in staged]
            _write_journal(journal, entries)
        for tmp, path in staged:
            current = path
            os.replace(tmp, path)
            renamed.append(path)
        for directory in dict.fromkeys(p.parent for p in targets):
            sync_dir(directory)
    except (OSError, OutputError) as e:
        for path in renamed:  # put back what was replaced
            try:
                bak = backups.get(path)
                if bak is not None:
                    os.replace(bak, path)
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
        if journal is not None:
            _remove(journal)
    return targets


def write_file(path: str | os.PathLike, content: Content, encoding: str = "utf-8") -> Path:
    """Write one file atomically (:func:`write_set` of one file: no journal is
    needed, a rename being atomic).

    :raises OutputError: naming ``path``; the previous file is unchanged then.
    """
    return write_set({path: content}, encoding)[0]
