"""The pipeline: read → locate → reconstruct (→ validate) → :class:`Report`.

``read_report`` is the library's front door; every stage it calls is a
module of its own and can be used alone (``gipextract.readers``,
``gipextract.locate``, ``gipextract.reconstruct``, ``gipextract.validate``).
"""

from __future__ import annotations

import hashlib
import os
import stat
from typing import BinaryIO

from . import convert, narrative
from .document import Document, Source
from .errors import GipextractError, ReadError
from .locate import Located, locate
from .ocrcheck import check_ocr
from .readers import detect_format, read_document
from .readers.docx import MAX_UNCOMPRESSED as _DOCX_MAX_BYTES
from .readers.pdf import MAX_BYTES as _PDF_MAX_BYTES
from .reconstruct import reconstruct
from .report import Report
from .unflatten import flattened
from .validate import validate

#: The largest input of each format (bytes), checked once the format is known.
#: A report is well under 1 MB of text.  The text-like readers need up to
#: ~155× (text), ~80× (Markdown) and ~90× (HTML) their input in memory on
#: degenerate input (a million one-digit cells), so these caps keep any input
#: under ~0.4 GB; PDF and DOCX take the limits of their readers
#: (:data:`gipextract.readers.pdf.MAX_BYTES`, the DOCX reader's inflated-size
#: limit :data:`gipextract.readers.docx.MAX_UNCOMPRESSED`).  A forced reader
#: not listed here gets :data:`MAX_INPUT_BYTES`.
FORMAT_LIMITS: dict[str, int] = {
    "text": 2 * 2**20,
    "markdown": 2 * 2**20,
    "html": 64 * 2**20,  # a Word web page (MHTML) with its images; the markup itself: readers.html.MAX_HTML_BYTES
    "pdf": _PDF_MAX_BYTES,
    "docx": _DOCX_MAX_BYTES,
    **dict.fromkeys(convert.LEGACY_FORMATS, convert.MAX_BYTES),  # converted to DOCX (gipextract/convert.py)
    "image": _PDF_MAX_BYTES,  # page images; their pixels are bounded by readers.ocr.MAX_PIXELS before decoding
}
#: No input larger than this is read at all (the largest of :data:`FORMAT_LIMITS`):
#: :func:`load` reads at most ``MAX_INPUT_BYTES + 1`` bytes of a file or stream.
MAX_INPUT_BYTES = max(FORMAT_LIMITS.values())
#: Format detection looks at no more than this: anything longer can only be
#: one of the formats recognised by their first bytes (PDF, DOCX) or refused.
_DETECT_BYTES = max(FORMAT_LIMITS["text"], FORMAT_LIMITS["markdown"]) + 1  # HTML is told by its first bytes
_CHUNK = 2**20

PathOrBytes = str | os.PathLike | bytes | bytearray | BinaryIO


def _mib(n: int) -> str:
    return f"{n / 2**20:g} MiB"


def _too_large(path: str, limit: int, what: str = "any input", size: int | None = None) -> ReadError:
    size_text = f"{size / 2**20:.1f} MiB, " if size is not None else ""
    return ReadError(f"{size_text}larger than the {_mib(limit)} limit for {what}; not a report", path=path)


def _read_bounded(stream, limit: int, path: str) -> bytes:
    """At most ``limit + 1`` bytes of ``stream``, read in chunks.

    :raises ReadError: more than ``limit`` bytes, or a text-mode stream.
    """
    chunks: list[bytes] = []
    total = 0
    while total <= limit:
        chunk = stream.read(min(_CHUNK, limit + 1 - total))
        if not chunk:
            break
        if isinstance(chunk, str):
            raise ReadError("is a text stream; give the report's bytes (a file opened in binary mode)", path=path)
        chunks.append(chunk)
        total += len(chunk)
    if total > limit:
        raise _too_large(path, limit)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def load(src: PathOrBytes, name: str | None = None) -> tuple[bytes, str]:
    """The bytes of ``src`` and a name for messages.

    Reads through a bounded reader: never more than :data:`MAX_INPUT_BYTES`
    + 1 bytes of a file or a stream (standard input included).  A path must be
    a regular file: a device (``/dev/zero``), a FIFO or a socket is refused
    without being opened, so nothing blocks or runs away.

    :param src: a path, ``bytes``, or a binary file object (read to its end).
    :param name: the name to use in messages instead of the path.
    :raises ReadError: the file is missing, unreadable (permission), a
        directory, not a regular file, empty, or larger than
        :data:`MAX_INPUT_BYTES`.  The message names the file (and the limit).
    """
    if isinstance(src, (bytes, bytearray)):
        data, path = bytes(src), name or "<bytes>"
        if len(data) > MAX_INPUT_BYTES:
            raise _too_large(path, MAX_INPUT_BYTES, size=len(data))
    elif hasattr(src, "read"):
        path = name or str(getattr(src, "name", "<stream>"))
        data = _read_bounded(src, MAX_INPUT_BYTES, path)
    else:
        path = name or os.fspath(src)
        try:
            st = os.stat(src)
            if stat.S_ISDIR(st.st_mode):
                raise ReadError("is a directory, not a report file", path=path)
            if not stat.S_ISREG(st.st_mode):
                raise ReadError("is not a regular file (a device, FIFO or socket); give a report file, "
                                "or '-' to read standard input", path=path)
            if st.st_size > MAX_INPUT_BYTES:
                raise _too_large(path, MAX_INPUT_BYTES, size=st.st_size)
            with open(src, "rb") as fh:
                data = _read_bounded(fh, MAX_INPUT_BYTES, path)
        except IsADirectoryError:
            raise ReadError("is a directory, not a report file", path=path) from None
        except (FileNotFoundError, NotADirectoryError):
            raise ReadError("no such file", path=path) from None
        except PermissionError:
            raise ReadError("permission denied", path=path) from None
        except OSError as e:
            raise ReadError(f"cannot read: {e.strerror or e}", path=path) from None
    if not data.strip():
        raise ReadError("the file is empty", path=path)
    return data, path


def check_size(data: bytes, fmt: str, path: str) -> None:
    """Refuse ``data`` if it is larger than :data:`FORMAT_LIMITS` allows for
    format ``fmt`` (:data:`MAX_INPUT_BYTES` for a format not listed).

    :raises ReadError: naming the file, the format and the limit.
    """
    limit = FORMAT_LIMITS.get(fmt, MAX_INPUT_BYTES)
    if len(data) > limit:
        raise _too_large(path, limit, f"a {fmt} report", size=len(data))


def read_document_from(src: PathOrBytes, format: str | None = None, name: str | None = None) -> Document:
    """Read ``src`` into a format-neutral :class:`Document` (the reader stage only).

    :param format: a name of :data:`gipextract.readers.READERS` (``"text"``,
        ``"markdown"``, ``"html"``, ``"docx"``, ``"pdf"``, or ``"doc"``, ``"wps"``,
        ``"rtf"``, ``"odt"``: converted to DOCX by LibreOffice first,
        :mod:`gipextract.convert`); detected from the content when ``None``.
    :raises ReadError: see :func:`load`, :func:`check_size` and the readers.
    """
    data, path = load(src, name)
    fmt = format or detect_format(data if len(data) <= _DETECT_BYTES else data[:_DETECT_BYTES], path)
    check_size(data, fmt, path)
    source = Source(path=path, format=fmt, sha256=hashlib.sha256(data).hexdigest())
    if fmt in convert.LEGACY_FORMATS:  # a step before the reader: LibreOffice makes it a DOCX
        data = convert.to_docx(data, fmt, path, source.sha256)
        source.converted_by = convert.CONVERTED_BY
    try:
        return read_document(data, source)
    except GipextractError:
        raise
    except Exception as e:  # a reader bug or a library failing on odd input: still one line, naming the file
        said = " ".join(str(e).split())  # one line, whatever the library put in its message (a traceback, even)
        said = said if len(said) <= 300 else said[:299] + "…"
        raise ReadError(f"the {fmt} reader failed: {e.__class__.__name__}: {said}", path=path) from e


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
    return read_located(src, format, name=name)[1]


def read_located(src: PathOrBytes, format: str | None = None, *,
                 name: str | None = None) -> tuple[Located, Report]:
    """:func:`read_report`, also returning what the locate stage found (the
    document's sections and table blocks), for a caller that shows the source
    beside the tables (:func:`gipextract.export.review.review_page`) without
    reading the input twice.

    :raises ReadError: as :func:`read_report`.
    """
    located = locate_document(read_document_from(src, format, name))
    return located, narrative.apply(validate(check_ocr(reconstruct(located))))


def locate_document(doc: Document) -> Located:
    """The locate stage as the pipeline runs it: :func:`~gipextract.locate.locate`,
    and for a crawler dump whose cells ran together (no table block, template
    labels glued to digits) the same on its :func:`~gipextract.unflatten.unflatten`
    version (template-spec §7.4).  ``result.document is not doc`` tells the two apart."""
    flat = flattened(doc)  # no table block at all (so locate would find no table), labels glued to digits
    return locate(flat if flat is not None else doc)
