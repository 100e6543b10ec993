"""The inflated size of each page's content streams, measured before PDFium
decodes them (template-spec §7.1: the reader's work is bounded).

PDFium decodes a page's content streams in C when the page is loaded, where
no time or memory limit can stop it: a few KB of deflated zeros can inflate to
gigabytes.  So the page tree and each page's content streams (``/Contents``
and the form XObjects of its ``/Resources``, recursively) are looked up with
pdfminer's object parser, which decodes nothing until asked, and each stream's
filters are undone here, in bounded steps: Flate is inflated in chunks and
stopped as soon as the page's total passes the bound; LZW and RunLength are
bounded by their largest expansion ratio; ASCIIHex and ASCII85 only shrink.

A form XObject counts once per ``Do`` that draws it (PDFium parses it each
time), and the string operands of the content and its forms bound the
characters the page shows, so that a page drawing millions of characters is
skipped before PDFium builds its text page.  What is *not* bounded here:
fonts and images are not content streams (PDFium decodes images only
to render them, and the reader does not render pages with a text layer).  A
file that pdfminer cannot parse while PDFium can is not pre-checked.
"""

from __future__ import annotations

import io
import logging
import re
import zlib
from typing import Any

#: Largest expansion of one byte by each bounded-ratio filter.
_RATIO = {"LZWDecode": 4096, "LZW": 4096, "RunLengthDecode": 64, "RL": 64}
_SHRINKING = {"ASCIIHexDecode", "AHx", "ASCII85Decode", "A85"}
_FLATE = {"FlateDecode", "Fl"}
_CHUNK = 1 << 20


class _Over(Exception):
    """The page's content is over the bound."""


def _name(x: Any) -> str:
    return str(getattr(x, "name", x))


def _inflate(data: bytes, budget: int) -> bytes:
    """``data`` inflated (zlib, or raw deflate when the header is missing),
    at most ``budget`` bytes of output; raises :class:`_Over` beyond it.  A
    stream that does not inflate cleanly gives what it gave so far."""
    for wbits in (zlib.MAX_WBITS, -zlib.MAX_WBITS):
        d = zlib.decompressobj(wbits)
        out = bytearray()
        pending = data
        try:
            while True:
                chunk = d.decompress(pending, _CHUNK)
                out += chunk
                if len(out) > budget:
                    raise _Over
                pending = d.unconsumed_tail
                if d.eof or not (pending or chunk):  # no input left and no output pending
                    break
        except zlib.error:
            if out or wbits < 0:
                return bytes(out)
            continue
        return bytes(out)
    return b""


def _decoded(stream: Any, budget: int) -> bytes:
    """The decoded data of one pdfminer ``PDFStream``, at most ``budget``
    bytes (raises :class:`_Over` beyond it); an image filter's data stays
    encoded (it is not content)."""
    from pdfminer.ascii85 import ascii85decode, asciihexdecode
    from pdfminer.pdftypes import resolve1

    data = stream.rawdata if stream.rawdata is not None else stream.data
    if data is None:
        return b""
    if stream.decipher is not None and stream.rawdata is not None:
        data = stream.decipher(stream.objid, stream.genno, data, stream.attrs)
    filters = resolve1(stream.get_any(("F", "Filter")))
    if filters is None:
        filters = []
    elif not isinstance(filters, list):
        filters = [filters]
    names = [_name(resolve1(f)) for f in filters]
    for name in names:
        if name in _FLATE:
            data = _inflate(data, budget)
        elif name in _RATIO:
            if len(data) * _RATIO[name] > budget:
                raise _Over
            from pdfminer.lzw import lzwdecode
            from pdfminer.runlength import rldecode
            data = lzwdecode(data) if name.startswith("LZW") else rldecode(data)
        elif name in _SHRINKING:
            data = asciihexdecode(data) if name.startswith("A") and "Hex" in name or name == "AHx" \
                else ascii85decode(data)
        else:  # an image filter (DCT, JBIG2, CCITT …): not content
            return data
    if len(data) > budget:
        raise _Over
    return data


_DO = re.compile(rb"/([^\s/\[\]()<>{}%]+)\s*Do\b")
_STRING = re.compile(rb"\((?:[^()\\]|\\.)*\)|<[0-9A-Fa-f\s]*>")


_INLINE_IMAGE = re.compile(rb"(?<![^\s\]>)])BI(?=\s)")


def _without_inline_images(data: bytes) -> bytes:
    """``data`` without the binary data of its inline images (``BI … ID
    data EI``), whose bytes are no text; linear time (each search starts
    where the last one ended)."""
    parts: list[bytes] = []
    pos = 0
    while (m := _INLINE_IMAGE.search(data, pos)) is not None:
        start = data.find(b"ID", m.end())
        end = data.find(b"EI", start + 2) if start >= 0 else -1
        if end < 0:
            break
        parts.append(data[pos:m.start()])
        pos = end + 2
    parts.append(data[pos:])
    return b"".join(parts)


def _text_bytes(data: bytes) -> int:
    """An upper bound of the characters ``data`` (a content stream) shows:
    the bytes of its string operands (a hex string counts half), inline
    images left out."""
    n = 0
    if b"BI" in data:
        data = _without_inline_images(data)
    for m in _STRING.finditer(data):
        s = m.group()
        n += len(s) - 2 if s[:1] == b"(" else (len(s) - 2) // 2
    return n


def _forms(resources: Any, depth: int, out: dict[str, Any]) -> dict[str, Any]:
    """Name → form XObject of a ``/Resources`` dictionary and of the forms'
    own resources (recursively, to ``depth`` levels; on a name used twice, the
    larger stream)."""
    from pdfminer.pdftypes import PDFStream, resolve1

    res = resolve1(resources)
    if not isinstance(res, dict) or depth <= 0:
        return out
    xobjects = resolve1(res.get("XObject"))
    if not isinstance(xobjects, dict):
        return out
    for name, ref in xobjects.items():
        obj = resolve1(ref)
        if not isinstance(obj, PDFStream) or _name(resolve1(obj.get("Subtype"))) != "Form":
            continue
        key = _name(name)
        known = out.get(key)
        if known is obj:
            continue
        if known is None or len(obj.rawdata or b"") > len(known.rawdata or b""):
            out[key] = obj
        _forms(obj.get("Resources"), depth - 1, out)
    return out


class _Page:
    """The decoded size and shown characters of a page's content, each form
    XObject counted once per time it is drawn (``Do``)."""

    def __init__(self, forms: dict[str, Any], budget: int):
        self.forms = forms
        self.budget = budget
        self.memo: dict[str, tuple[int, int]] = {}

    def cost(self, data: bytes, depth: int) -> tuple[int, int]:
        """``(bytes, characters)`` of a decoded stream with the forms it draws."""
        size, chars = len(data), _text_bytes(data)
        for m in _DO.finditer(data):
            name = m.group(1).decode("latin-1")
            if name in self.forms and depth > 0:
                b, c = self.form(name, depth - 1)
                size, chars = size + b, chars + c
                if size > self.budget:
                    raise _Over
        return size, chars

    def form(self, name: str, depth: int) -> tuple[int, int]:
        if name not in self.memo:
            self.memo[name] = (0, 0)  # a form drawing itself draws nothing more
            data = _decoded(self.forms[name], self.budget)
            self.memo[name] = self.cost(data, depth)
        return self.memo[name]


def page_costs(data: bytes, count: int, max_bytes: int) -> dict[int, int | None]:
    """What each page's content costs to decode, measured without decoding
    any stream beyond the bound: page index (0-based) → an upper bound of the
    characters it shows, or ``None`` when its content streams inflate to more
    than ``max_bytes`` bytes in total.  A form XObject counts once per time
    the content draws it (``Do``), to a depth of 4.

    :param data: the PDF file's bytes.
    :param count: the number of pages PDFium found (pdfminer's pages beyond
        ``count + 1`` are not measured).
    :returns: only the pages pdfminer could measure; an empty dict when it
        cannot parse the file (module docstring: not pre-checked).
    """
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser
    from pdfminer.pdftypes import PDFStream, resolve1

    pdfminer_log = logging.getLogger("pdfminer")
    if not pdfminer_log.handlers:  # its warnings on a damaged file are not ours to print (Python's last resort would)
        pdfminer_log.addHandler(logging.NullHandler())
    out: dict[int, int | None] = {}
    try:
        doc = PDFDocument(PDFParser(io.BytesIO(data)))
        for i, page in enumerate(PDFPage.create_pages(doc)):
            if i > count:  # one more than PDFium found tells that the counts differ
                break
            contents = page.contents if isinstance(page.contents, list) else [page.contents]
            streams = [s for s in map(resolve1, contents) if isinstance(s, PDFStream)]
            measure = _Page(_forms(page.resources, 4, {}), max_bytes)
            try:
                parts: list[bytes] = []
                left = max_bytes
                for s in streams:
                    parts.append(_decoded(s, left))
                    left -= len(parts[-1])
                joined = b"\n".join(parts)
                out[i] = measure.cost(joined, 4)[1]
            except _Over:
                out[i] = None
    except Exception:  # pdfminer cannot parse what PDFium can: not pre-checked (module docstring)
        return out
    return out
