"""The exception hierarchy of gipextract.

Every error gipextract raises on purpose derives from :class:`GipextractError`
and names the input it concerns (``path``) and, where it can, the place inside
it (``where``: ``"line 12"``, ``"page 3"``, ``"cell t3.granted.total"``).  The CLI
prints ``str(error)`` as one line and exits 1; it shows a traceback only with
``-v``.

A report that is read but breaks its accounting identities is *not* an error:
that is reported as :class:`gipextract.report.Finding` objects.
"""

from __future__ import annotations


class GipextractError(Exception):
    """Base class of every error gipextract raises on purpose.

    :param message: what went wrong, in one sentence.
    :param path: the input file (or ``"<bytes>"``) the error concerns, if any.
    :param where: the place inside the input (``"line 12"``), if known.
    """

    def __init__(self, message: str, *, path: str | None = None, where: str | None = None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.where = where

    def __str__(self) -> str:
        place = ", ".join(p for p in (self.path, self.where) if p)
        return f"{place}: {self.message}" if place else self.message


class ReadError(GipextractError):
    """Raised when an input cannot be read at all: missing, binary where text was
    expected, undecodable, corrupt, or in a format gipextract does not read."""


class DecodeError(ReadError):
    """Raised when a text or HTML input cannot be decoded in any supported
    encoding (UTF-8, UTF-16 with BOM, GB18030/GBK, or what charset-normalizer
    detects)."""


class UnsupportedFormatError(ReadError):
    """Raised for an input whose format gipextract recognises but cannot read
    (a legacy binary ``.doc``/``.wps``, an image), with advice on converting it."""


class TemplateError(GipextractError, ValueError):
    """Raised when template data (``gipextract/templates/*.toml``) is malformed.
    A configuration error, so it is also a :class:`ValueError`."""


class OutputError(GipextractError):
    """Raised when an output cannot be written (the directory is not writable,
    the disk is full).  No partial output file is left behind."""
