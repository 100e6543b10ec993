"""The journal of a running batch: every finished input's result, on disk as
soon as it is written, so that a batch killed outright (``SIGKILL``, a power
cut) loses nothing that was finished and ``--resume`` converts only the rest.

``OUTDIR/.gipextract-journal`` is an append-only file of records, one per
input converted (never for ``failed`` inputs, which a resume converts again).
A record is one line of JSON (the :class:`~gipextract.batch.worker.FileResult`'s
scalar fields, its ``facts`` and ``wide``, the length of each byte field and
the CRC-32 of those bytes) followed by the bytes of ``cells_columns``
(:mod:`marshal`: ten times cheaper than JSON; only tuples of
``str``/``int``/``float``/``None`` are accepted back), ``findings_csv``,
``narrative_csv`` and ``report_json``, and a newline.  Each record is written with one ``write`` and flushed to the
kernel at once (a killed process loses none); the file is ``fsync``\\ ed at most
every :data:`SYNC_EVERY` seconds and at the end (a power cut loses at most
that much).  A record cut short or failing its CRC ends the journal: it and
whatever follows are ignored and overwritten.

Life cycle: :meth:`Journal.begin` starts an empty journal (a new batch or
``--overwrite``) or continues the one there (``--resume``); the batch's commit
removes it once ``manifest.csv`` lists everything it held.
"""

from __future__ import annotations

import json
import marshal
import os
import time
import zlib
from pathlib import Path
from typing import BinaryIO

from .worker import FileResult

__all__ = ["Journal", "JOURNAL_NAME", "Entry"]

JOURNAL_NAME = ".gipextract-journal"
#: Seconds between ``fsync`` calls of the journal.
SYNC_EVERY = 1.0
_BLOBS = ("cells_columns", "findings_csv", "narrative_csv", "report_json")
_SCALARS = ("path", "sha256", "format", "status", "identities", "n_unread", "error", "template", "year", "agency",
            "n_cells", "n_null", "n_errors")
_MAGIC = "gipextract-journal-2"


class Entry(tuple):
    """``(offset, sha256, has_report)`` of one input's last record."""

    __slots__ = ()


def _encode(result: FileResult) -> bytes | None:
    """One record, or ``None`` if ``result`` cannot be journaled (a value
    JSON cannot hold exactly)."""
    columns = result.cells_columns
    try:
        blobs = [marshal.dumps(columns) if name == "cells_columns" and columns is not None
                 else getattr(result, name) for name in _BLOBS]
    except ValueError:  # a value marshal cannot hold (a Decimal): not journaled, read again on resume
        return None
    head = {name: getattr(result, name) for name in _SCALARS}
    head["facts"] = {k: list(v) for k, v in result.facts.items()}
    head["wide"] = list(result.wide) if result.wide is not None else None
    head["sizes"] = [-1 if b is None else len(b) for b in blobs]
    body = b"".join(b for b in blobs if b)
    head["crc"] = zlib.crc32(body)
    head["m"] = _MAGIC
    try:
        line = json.dumps(head, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError):
        return None
    return line + b"\n" + body + b"\n"


_CELL_TYPES = (str, int, float, type(None))


def _columns(value: object) -> tuple[tuple, ...]:
    """``value`` checked to be ten equally long tuples of ``str``/``int``/``float``/``None``.

    :raises ValueError: it is not.
    """
    if (not isinstance(value, tuple) or len(value) != 10 or not all(isinstance(c, tuple) for c in value)
            or len({len(c) for c in value}) != 1
            or not all(type(v) in _CELL_TYPES for c in value for v in c)):
        raise ValueError("journal record damaged")
    return value


def _decode(head: dict, body: bytes) -> FileResult:
    fields = {name: head[name] for name in _SCALARS}
    at = 0
    for name, size in zip(_BLOBS, head["sizes"]):
        if size < 0:
            fields[name] = None
        else:
            fields[name] = body[at:at + size]
            at += size
    columns = fields["cells_columns"]
    if columns is not None:
        fields["cells_columns"] = _columns(marshal.loads(columns))
    fields["facts"] = {k: tuple(v) for k, v in head["facts"].items()}
    fields["wide"] = tuple(head["wide"]) if head["wide"] is not None else None
    return FileResult(**fields)


class Journal:
    """The journal file of the batch in ``root`` (module docstring).

    :raises OSError: from :meth:`begin`, :meth:`append` and :meth:`close`
        when the file cannot be written (the caller turns it into an
        :class:`~gipextract.errors.OutputError`).
    """

    def __init__(self, root: str | os.PathLike):
        self.path = Path(root) / JOURNAL_NAME
        self._fh: BinaryIO | None = None
        self._synced = 0.0
        self._end = 0

    # -- reading --------------------------------------------------------------

    def _records(self):
        """Yield ``(offset, head, body)`` of each whole record, in order; stop at
        the first one cut short or damaged (``self._end`` is then its offset)."""
        self._end = 0
        try:
            fh = open(self.path, "rb")
        except OSError:
            return
        with fh:
            while True:
                offset = fh.tell()
                line = fh.readline()
                if not line.endswith(b"\n"):
                    return
                try:
                    head = json.loads(line)
                    if head.get("m") != _MAGIC:
                        return
                    size = sum(s for s in head["sizes"] if s > 0)
                except (ValueError, TypeError, KeyError, AttributeError):
                    return
                body = fh.read(size + 1)
                if len(body) != size + 1 or body[-1:] != b"\n" or zlib.crc32(body[:-1]) != head["crc"]:
                    return
                self._end = fh.tell()
                yield offset, head, body[:-1]

    def index(self) -> dict[str, Entry]:
        """path → :class:`Entry` of its last whole record (empty if there is no journal)."""
        out: dict[str, Entry] = {}
        for offset, head, _ in self._records():
            out[head["path"]] = Entry((offset, head["sha256"], head["sizes"][-1] >= 0))
        return out

    def read(self, offset: int) -> FileResult:
        """The :class:`FileResult` of the record at ``offset`` (from :meth:`index`).

        :raises OSError, ValueError: the record cannot be read back.
        """
        with open(self.path, "rb") as fh:
            fh.seek(offset)
            head = json.loads(fh.readline())
            body = fh.read(sum(s for s in head["sizes"] if s > 0))
        if zlib.crc32(body) != head["crc"]:
            raise ValueError("journal record damaged")
        return _decode(head, body)

    # -- writing --------------------------------------------------------------

    def begin(self, keep: bool) -> None:
        """Open the journal for appending: with ``keep`` after its last whole
        record (what follows is cut off), else empty."""
        if keep:
            for _ in self._records():
                pass
            fh = open(self.path, "ab" if self.path.exists() else "wb")
            fh.truncate(self._end)
            fh.seek(self._end)
            self._fh = fh
        else:
            self._fh = open(self.path, "wb")
        self._synced = time.monotonic()

    def append(self, result: FileResult) -> None:
        """Record ``result`` (not ``failed`` ones: a resume converts those again)."""
        if self._fh is None or result.status == "failed":
            return
        record = _encode(result)
        if record is None:
            return
        self._fh.write(record)
        self._fh.flush()
        now = time.monotonic()
        if now - self._synced >= SYNC_EVERY:
            os.fsync(self._fh.fileno())
            self._synced = now

    def close(self) -> None:
        """Flush and ``fsync`` the journal and close it."""
        if self._fh is not None and not self._fh.closed:
            try:
                self._fh.flush()
                os.fsync(self._fh.fileno())
            finally:
                self._fh.close()
        self._fh = None

    def remove(self) -> None:
        """Close and delete the journal (after a commit)."""
        if self._fh is not None:
            try:
                self._fh.close()
            except OSError:
                pass
            self._fh = None
        self.path.unlink(missing_ok=True)
