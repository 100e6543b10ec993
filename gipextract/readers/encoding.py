"""Decoding text-like inputs (plain text, HTML) to ``str``.

Order: a BOM (UTF-8, UTF-16) decides; then strict UTF-8; then
charset-normalizer's best guess among the encodings Chinese government
documents use (GB18030 and its subsets GBK/GB2312, Big5, UTF-16); then strict
GB18030.  Binary data (NUL bytes, or mostly control characters) is refused
rather than decoded into garbage.
"""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes

from ..errors import DecodeError, ReadError

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CANDIDATES = ["gb18030", "big5", "utf_16_le", "utf_16_be"]
_CONTROL = bytes(sorted(set(range(0, 9)) | {11, 12} | set(range(14, 32)) | {127}))


def looks_binary(data: bytes) -> bool:
    """True if ``data`` is evidently not text: it has NUL bytes (and no UTF-16
    BOM), or more than 10% of its first 8 KiB are control bytes."""
    head = data[:8192]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    if b"\x00" in head:
        return True
    return bool(head) and len(head) - len(head.translate(None, _CONTROL)) > len(head) * 0.10


def decode(data: bytes, path: str, declared: str | None = None) -> tuple[str, str]:
    """Decode ``data`` and return ``(text, encoding)``.

    :param path: the input's name, for error messages.
    :param declared: an encoding the container declares (an HTML ``<meta
        charset>``); tried after a BOM and before detection.
    :raises ReadError: the data is binary.
    :raises DecodeError: no supported encoding decodes it.
    """
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(enc), enc
            except UnicodeDecodeError as e:
                raise DecodeError(f"starts with a {enc} byte-order mark but is not valid {enc} ({e.reason} at byte {e.start})", path=path) from None
    if looks_binary(data):
        raise ReadError("not a text file (binary data)", path=path)
    tried = ["utf-8"]
    if declared:
        tried.insert(0, declared)
    for enc in tried:
        try:
            return data.decode(enc), codecs.lookup(enc).name
        except (UnicodeDecodeError, LookupError):
            pass
    best = from_bytes(data, cp_isolation=_CANDIDATES).best()
    if best is not None and best.encoding:
        enc = best.encoding
        # GBK and GB2312 are subsets of GB18030: decode with the superset.
        if enc.replace("_", "").lower() in ("gbk", "gb2312", "cp936"):
            enc = "gb18030"
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as e:
        raise DecodeError(f"cannot decode as UTF-8 or GB18030/GBK (invalid byte at offset {e.start})", path=path) from None
