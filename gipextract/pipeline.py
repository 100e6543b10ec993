"""The pipeline: read → locate → reconstruct (→ validate) → :class:`Report`.

``read_report`` is the library's front door; every stage it calls is a
module of its own and can be used alone (``gipextract.readers``,
``gipextract.locate``, ``gipextract.reconstruct``, ``gipextract.validate``).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import BinaryIO

from .document import Document, Source
from .errors import GipextractError, ReadError
from .locate import Located, locate
from .readers import detect_format, read_document
from .reconstruct import reconstruct
from .report import Report
from .unflatten import looks_flattened, unflatten
from .validate import validate

#: Inputs larger than this are refused (a report is well under 100 MB).
MAX_INPUT_BYTES = 512 * 1024 * 1024

PathOrBytes = str | os.PathLike | bytes | bytearray | BinaryIO


def load(src: PathOrBytes, name: str | None = None) -> tuple[bytes, str]:
    """The bytes of ``src`` and a name for messages.

    :param src: a path, ``bytes``, or a binary file object.
    :param name: the name to use in messages instead of the path.
    :raises ReadError: the file is missing, unreadable, a directory, empty or
        larger than :data:`MAX_INPUT_BYTES`.
    """
    if isinstance(src, (bytes, bytearray)):
        data, path = bytes(src), name or "<bytes>"
    elif hasattr(src, "read"):
        data, path = src.read(), name or getattr(src, "name", "<stream>")
    else:
        path = name or os.fspath(src)
        p = Path(os.fspath(src))
        try:
            if p.stat().st_size > MAX_INPUT_BYTES:
                raise ReadError(f"larger than {MAX_INPUT_BYTES // 2**20} MiB; not a report", path=path)
            data = p.read_bytes()
        except IsADirectoryError:
            raise ReadError("is a directory, not a report file", path=path) from None
        except FileNotFoundError:
            raise ReadError("no such file", path=path) from None
        except PermissionError:
            raise ReadError("permission denied", path=path) from None
        except OSError as e:
            raise ReadError(f"cannot read: {e.strerror or e}", path=path) from None
    if not data.strip():
        raise ReadError("the file is empty", path=path)
    return data, path


def read_document_from(src: PathOrBytes, format: str | None = None, name: str | None = None) -> Document:
    """Read ``src`` into a format-neutral :class:`Document` (the reader stage only).

    :param format: a name of :data:`gipextract.readers.READERS` (``"text"``,
        ``"markdown"``, ``"html"``, ``"docx"``, ``"pdf"``); detected from the
        content when ``None``.
    :raises ReadError: see :func:`load` and the readers.
    """
    data, path = load(src, name)
    fmt = format or detect_format(data, path)
    source = Source(path=path, format=fmt, sha256=hashlib.sha256(data).hexdigest())
    try:
        return read_document(data, source)
    except GipextractError:
        raise
    except Exception as e:  # a reader bug or a library failing on odd input: still one line, naming the file
        raise ReadError(f"the {fmt} reader failed: {e.__class__.__name__}: {e}", path=path) from e


def read_report(src: PathOrBytes, format: str | None = None, *, name: str | None = None) -> Report:
    """Read one annual report and return its :class:`Report`.

    :param src: a path, ``bytes``, or a binary file object.
    :param format: force a reader (``"text"``, ``"markdown"``, ``"html"``,
        ``"docx"``, ``"pdf"``); by default it is detected from the content.
    :param name: the name to record as the source path (for bytes input).
    :returns: the report, validated (its ``findings`` hold the reading
        problems and the identity findings of :mod:`gipextract.validate`); a
        document with no statistics tables gives a report with empty tables
        and ``table_absent`` findings.
    :raises ReadError: the input cannot be read (missing, binary, undecodable,
        corrupt, unsupported format).  The message names the file.
    """
    return validate(reconstruct(locate_document(read_document_from(src, format, name))))


def locate_document(doc: Document) -> Located:
    """The locate stage as the pipeline runs it: :func:`~gipextract.locate.locate`,
    and for a crawler dump whose cells ran together (no table block, template
    labels glued to digits) the same on its :func:`~gipextract.unflatten.unflatten`
    version (issue 7).  ``result.document is not doc`` tells the two apart."""
    located = locate(doc)
    if not any(located.tables.values()) and looks_flattened(doc):
        located = locate(unflatten(doc))
    return located
