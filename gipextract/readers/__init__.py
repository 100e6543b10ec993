"""Readers: bytes of one file format → a format-neutral :class:`~gipextract.document.Document`.

Each reader knows its format and nothing else (no template, no labels).
:func:`detect_format` decides from the content, using the file name only as a
hint; :func:`read_document` dispatches.  Readers register in ``READERS``.
"""

from __future__ import annotations

from collections.abc import Callable

from ..convert import LEGACY_FORMATS, sniff
from ..document import Document, Source
from ..errors import ReadError
from .docx import read_docx
from .encoding import looks_binary
from .html import looks_like_html, read_html
from .markdown import looks_like_markdown, read_markdown
from .ocr import image_kind, read_image
from .pdf import read_pdf
from .text import read_text

Reader = Callable[[bytes, Source], Document]

#: format name → reader function.  Other readers add themselves here.
READERS: dict[str, Reader] = {"text": read_text}
READERS["html"] = read_html
READERS["docx"] = read_docx
READERS["pdf"] = read_pdf
READERS["markdown"] = read_markdown
#: Legacy formats (``doc``, ``wps``, ``rtf``, ``odt``) are converted to DOCX by
#: :mod:`gipextract.convert` before reading (the pipeline does it), then read by the DOCX reader.
READERS.update(dict.fromkeys(LEGACY_FORMATS, read_docx))
READERS["image"] = read_image  # page images (PNG, JPEG, TIFF, BMP), read by OCR


def detect_format(data: bytes, name: str = "") -> str:
    """The format of ``data``: ``"text"``, ``"markdown"`` (pipe tables),
    ``"html"``, ``"docx"``, ``"pdf"``, ``"image"`` (PNG, JPEG, TIFF, BMP, GIF by
    their magic bytes, read by OCR), or a legacy format that is converted
    to DOCX first (``"doc"``, ``"wps"``, ``"rtf"``, ``"odt"``: :func:`gipextract.convert.sniff`),
    decided from the content (magic bytes, markup), the extension of ``name``
    being only a tie-breaker.

    A zip is ``"docx"`` (the DOCX reader names any other kind of zip);
    Word-saved HTML served as ``.doc``, a "single file web page" (MHTML) and
    UTF-16 HTML are ``"html"``.

    :raises ReadError: other binary data (not a PDF, DOCX or HTML report,
        whatever its name says).
    """
    head = data[:4096].lstrip()
    legacy = sniff(data, name)
    if legacy is not None:
        return legacy
    if data.startswith(b"PK\x03\x04"):  # before %PDF-: a zip may hold a PDF near its start
        return "docx"
    if data.startswith(b"%PDF-") or b"%PDF-" in data[:1024]:
        return "pdf"
    if image_kind(data) is not None:
        return "image"
    low = head.lower()
    if low.startswith((b"<!doctype html", b"<html", b"\xef\xbb\xbf<")) or b"<table" in low or b"<html" in low:
        return "html"
    if looks_like_html(data):
        return "html"
    if looks_binary(data):
        raise ReadError(f"binary data that is not a PDF, DOCX or HTML report{_named_as(name)}",
                        path=name or "<bytes>")
    if b"|" in data and looks_like_markdown(data.decode("latin-1")):  # the markers are ASCII
        return "markdown"
    return "text"


#: Extensions that promise a format recognised by its first bytes, and what that format starts with.
_PROMISED = {".pdf": ("a PDF", "%PDF-"), ".docx": ("a Word document", "a zip header"),
             ".docm": ("a Word document", "a zip header"), ".dotx": ("a Word document", "a zip header")}


def _named_as(name: str) -> str:
    """`` (named .pdf, but it does not start with %PDF-: damaged, or not a PDF)`` when
    ``name``'s extension promised a format, else ``""``."""
    ext = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in _PROMISED:
        return ""
    what, start = _PROMISED[ext]
    return f" (named {ext}, but it does not start with {start}: damaged, or not {what})"


def read_document(data: bytes, source: Source) -> Document:
    """Read ``data`` with the reader for ``source.format``.

    :raises ReadError: no reader for that format, or the reader fails.
    """
    try:
        reader = READERS[source.format]
    except KeyError:
        raise ReadError(f"no reader for format {source.format!r} (available: {', '.join(sorted(READERS))})",
                        path=source.path) from None
    return reader(data, source)
