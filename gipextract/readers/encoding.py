"""Decoding text-like inputs (plain text, HTML) to ``str``.

Order: a BOM (UTF-8, UTF-16) decides; then strict UTF-8 (after an encoding
the container declares); then charset-normalizer's best guess among the
encodings Chinese government documents use (GB18030 and its subsets
GBK/GB2312, Big5, UTF-16); then strict GB18030.  A text that none of these decodes strictly
but that has only a few stray bytes in one of them (:func:`max_strays`) is
read with each stray byte replaced by U+FFFD and a note saying where
(:func:`decode_text`).  Binary data (NUL bytes, or mostly control
characters) is refused rather than decoded into garbage.
"""

from __future__ import annotations

import codecs
import contextvars
from typing import NamedTuple

from charset_normalizer import from_bytes

from ..errors import DecodeError, ReadError

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CANDIDATES = ["gb18030", "big5", "utf_16_le", "utf_16_be"]
_CONTROL = bytes(sorted(set(range(0, 9)) | {11, 12} | set(range(14, 32)) | {127}))


def ascii_head(data: bytes, size: int = 4096) -> bytes:
    """The first ``size`` bytes of ``data`` for sniffing ASCII markers
    (``<!doctype``, ``<html``, MIME headers): re-encoded as UTF-8 when the data
    is UTF-16 with a byte-order mark, else as they are.  The one place that
    reads a UTF-16 BOM for sniffing."""
    head = data[:size]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return head.decode("utf-16", "ignore").encode("utf-8")
    return head


def looks_binary(data: bytes) -> bool:
    """True if ``data`` is evidently not text: it has NUL bytes (and no UTF-16
    BOM), or more than 10% of its first 8 KiB are control bytes."""
    head = data[:8192]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    if b"\x00" in head:
        return True
    return bool(head) and len(head) - len(head.translate(None, _CONTROL)) > len(head) * 0.10


class Decoded(NamedTuple):
    """A decoded text: ``text``, the ``encoding`` used, and ``notes`` (for
    :attr:`~gipextract.document.Document.notes`) saying where stray bytes were
    replaced."""

    text: str
    encoding: str
    notes: list[str]


class _TooMany(Exception):
    pass


class _Strays:
    """Counts the invalid bytes of one decoding; each becomes U+FFFD and
    decoding resumes at the next byte (so a stray lead byte of a multi-byte
    encoding never swallows the digits after it)."""

    def __init__(self, limit: int, resume_after_error: bool):
        self.limit, self.count, self.first = limit, 0, -1
        self.whole = resume_after_error

    def __call__(self, e: UnicodeDecodeError) -> tuple[str, int]:
        self.count += 1
        if self.first < 0:
            self.first = e.start
        if self.count > self.limit:
            raise _TooMany
        return "\ufffd", (e.end if self.whole else e.start + 1)


_handler: contextvars.ContextVar[_Strays] = contextvars.ContextVar("gipextract_strays")
codecs.register_error("gipextract.stray", lambda e: _handler.get()(e))  # type: ignore[arg-type]


def max_strays(data: bytes) -> int:
    """How many invalid bytes a text of ``len(data)`` bytes may have and still
    be read (one per KiB, at least one): beyond it the file is not text in
    that encoding."""
    return max(1, len(data) // 1024)


def _lenient(data: bytes, enc: str, limit: int) -> tuple[str, _Strays] | None:
    try:
        strays = _Strays(limit, resume_after_error=codecs.lookup(enc).name.startswith("utf-16"))
    except LookupError:
        return None
    token = _handler.set(strays)
    try:
        return data.decode(enc, "gipextract.stray"), strays
    except (_TooMany, LookupError, ValueError):  # ValueError: a declared name with a NUL in it
        return None
    finally:
        _handler.reset(token)


#: Python codecs that are no charset a document can be written in: escape
#: decoders (they would turn ``\\x31`` into a digit never printed), IDNA, UTF-7.
_NOT_CHARSETS = frozenset({"unicode_escape", "raw_unicode_escape", "idna", "punycode", "utf_7", "undefined",
                           "escape_codec", "charmap", "oem", "mbcs"})


def known_charset(name: object) -> str | None:
    """``name`` if it is the name of a text encoding a document can be written
    in, else ``None``.  A charset an input declares (HTML ``<meta charset>``,
    a MIME part's ``charset=``) is untrusted text: unknown names, names with a
    NUL or other junk, codecs that are not text encodings (``zlib``,
    ``base64``) and Python's own escape codecs (:data:`_NOT_CHARSETS`) are all
    ``None``, so that the input is read as if it declared nothing."""
    if not isinstance(name, str) or not name or len(name) > 64:
        return None
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError, TypeError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name.replace("-", "_") in _NOT_CHARSETS:
        return None
    return name


def _place(data: bytes, enc: str, offset: int) -> str:
    """``line L (byte offset O)`` of byte ``offset`` of ``data`` decoded as ``enc``."""
    line = data[:offset].decode(enc, "replace").count("\n") + 1
    return f"line {line} (byte offset {offset})"


def decode_text(data: bytes, path: str, declared: str | None = None) -> Decoded:
    """Decode ``data`` (module docstring) and say where stray bytes were replaced.

    A text in one encoding with a few invalid bytes (:func:`max_strays`) is
    read: each invalid byte becomes U+FFFD (so a cell holding one reads as
    unreadable, never as another number) and a note names the line and byte
    offset of the first.  Data that no supported encoding fits that well is
    not text and is refused.

    :param path: the input's name, for error messages.
    :param declared: an encoding the container declares (an HTML ``<meta
        charset>``); tried after a BOM and before detection; ignored unless
        :func:`known_charset` knows it.
    :raises ReadError: the data is binary.
    :raises DecodeError: no supported encoding decodes it, even allowing a few
        stray bytes; the message names the line and byte offset where the
        closest encoding first fails.
    """
    limit = max_strays(data)
    declared = known_charset(declared)
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return Decoded(data.decode(enc), enc, [])
            except UnicodeDecodeError as e:
                got = _lenient(data, enc, limit)
                if got is None:
                    raise DecodeError(f"starts with a {enc} byte-order mark but is not valid {enc} ({e.reason} "
                                      f"at {_place(data, enc, e.start)})", path=path) from None
                return Decoded(got[0], enc, [_stray_note(data, enc, got[1])])
    if looks_binary(data):
        raise ReadError("not a text file (binary data)", path=path)
    tried = ["utf-8"]
    if declared:
        tried.insert(0, declared)
    for enc in tried:
        try:
            return Decoded(data.decode(enc), codecs.lookup(enc).name, [])
        except (ValueError, LookupError):  # UnicodeDecodeError; a declared name unknown or with a NUL in it
            pass
    best = from_bytes(data, cp_isolation=_CANDIDATES).best()
    if best is not None and best.encoding:
        enc = best.encoding
        # GBK and GB2312 are subsets of GB18030: decode with the superset.
        if enc.replace("_", "").lower() in ("gbk", "gb2312", "cp936"):
            enc = "gb18030"
        try:
            return Decoded(data.decode(enc), enc, [])
        except UnicodeDecodeError:
            pass
    try:
        return Decoded(data.decode("gb18030"), "gb18030", [])
    except UnicodeDecodeError:
        pass
    # A few stray bytes in an otherwise valid text: the encoding with the fewest.
    results = [(enc, got) for enc in dict.fromkeys([*tried, "gb18030"])
               if (got := _lenient(data, enc, limit)) is not None]
    if results:
        enc, (text, strays) = min(results, key=lambda r: r[1][1].count)
        name = codecs.lookup(enc).name
        return Decoded(text, name, [_stray_note(data, name, strays)])
    first = _first_error(data, "utf-8")
    raise DecodeError(f"cannot decode as UTF-8 or GB18030/GBK: more than {limit} invalid bytes (as UTF-8 the "
                      f"first is at {_place(data, 'utf-8', first)})", path=path)


def _first_error(data: bytes, enc: str) -> int:
    try:
        data.decode(enc)
    except UnicodeDecodeError as e:
        return e.start
    return 0


def _stray_note(data: bytes, enc: str, strays: _Strays) -> str:
    return (f"{strays.count} byte(s) invalid in {enc} replaced by U+FFFD, the first at "
            f"{_place(data, enc, strays.first)}; a cell holding one is unreadable.")


def decode(data: bytes, path: str, declared: str | None = None) -> tuple[str, str]:
    """``(text, encoding)`` of :func:`decode_text` (its notes dropped).

    :raises ReadError: the data is binary.
    :raises DecodeError: see :func:`decode_text`.
    """
    text, enc, _notes = decode_text(data, path, declared)
    return text, enc
