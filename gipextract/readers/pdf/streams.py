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

What is *not* bounded here: a form XObject drawn many times counts once (the
reader's per-page object bound counts its drawings after PDFium has parsed
them); fonts and images are not content streams (PDFium decodes images only
to render them, and the reader does not render pages with a text layer).  A
file that pdfminer cannot parse while PDFium can is not pre-checked.
"""

from __future__ import annotations

import io
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
            while pending:
                out += d.decompress(pending, _CHUNK)
                if len(out) > budget:
                    raise _Over
                pending = d.unconsumed_tail
                if d.eof:
                    break
        except zlib.error:
            if out or wbits < 0:
                return bytes(out)
            continue
        return bytes(out)
    return b""


def _stream_size(stream: Any, budget: int) -> int:
    """The decoded size of one pdfminer ``PDFStream``, at most ``budget``
    (raises :class:`_Over` beyond it)."""
    from pdfminer.ascii85 import ascii85decode, asciihexdecode
    from pdfminer.pdftypes import resolve1

    data = stream.rawdata if stream.rawdata is not None else stream.data
    if data is None:
        return 0
    if stream.decipher is not None and stream.rawdata is not None:
        data = stream.decipher(stream.objid, stream.genno, data, stream.attrs)
    filters = resolve1(stream.get_any(("F", "Filter")))
    if filters is None:
        filters = []
    elif not isinstance(filters, list):
        filters = [filters]
    names = [_name(resolve1(f)) for f in filters]
    for k, name in enumerate(names):
        last = k == len(names) - 1
        if name in _FLATE:
            data = _inflate(data, budget)
        elif name in _RATIO:
            if len(data) * _RATIO[name] > budget:
                raise _Over
            if last:
                return len(data) * _RATIO[name]
            from pdfminer.lzw import lzwdecode
            from pdfminer.runlength import rldecode
            data = lzwdecode(data) if name.startswith("LZW") else rldecode(data)
        elif name in _SHRINKING:
            data = asciihexdecode(data) if name.startswith("A") and "Hex" in name or name == "AHx" \
                else ascii85decode(data)
        else:  # an image filter (DCT, JBIG2, CCITT …): not content; its raw size
            return len(data)
    if len(data) > budget:
        raise _Over
    return len(data)


def _forms(resources: Any, seen: set[int], depth: int) -> list[Any]:
    """The form XObjects of a ``/Resources`` dictionary, and of theirs
    (recursively, to ``depth`` levels), each once."""
    from pdfminer.pdftypes import PDFStream, resolve1

    out: list[Any] = []
    res = resolve1(resources)
    if not isinstance(res, dict) or depth <= 0:
        return out
    xobjects = resolve1(res.get("XObject"))
    if not isinstance(xobjects, dict):
        return out
    for ref in xobjects.values():
        obj = resolve1(ref)
        if not isinstance(obj, PDFStream) or id(obj) in seen or _name(resolve1(obj.get("Subtype"))) != "Form":
            continue
        seen.add(id(obj))
        out.append(obj)
        out.extend(_forms(obj.get("Resources"), seen, depth - 1))
    return out


def pages_over_content_bound(data: bytes, count: int, max_bytes: int) -> set[int]:
    """The 0-based indices of the pages whose content streams (and form
    XObjects) inflate to more than ``max_bytes`` bytes in total, measured
    without inflating any of them beyond the bound.

    :param data: the PDF file's bytes.
    :param count: the number of pages PDFium found (pages pdfminer lists
        beyond it are ignored).
    :returns: an empty set when pdfminer cannot parse the file (module
        docstring: not pre-checked).
    """
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser
    from pdfminer.pdftypes import PDFStream, resolve1

    over: set[int] = set()
    try:
        doc = PDFDocument(PDFParser(io.BytesIO(data)))
        for i, page in enumerate(PDFPage.create_pages(doc)):
            if i >= count:
                break
            contents = page.contents if isinstance(page.contents, list) else [page.contents]
            streams = [s for s in map(resolve1, contents) if isinstance(s, PDFStream)]
            streams += _forms(page.resources, set(), 4)
            total = 0
            try:
                for s in streams:
                    total += _stream_size(s, max_bytes - total)
            except _Over:
                over.add(i)
    except Exception:  # pdfminer cannot parse what PDFium can: not pre-checked (module docstring)
        return over
    return over
