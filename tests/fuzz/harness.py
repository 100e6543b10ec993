"""Fuzz harness: mutated synthetic reports through ``gipextract.read_report(bytes)``.

Seeds (:func:`seeds`) are the synthetic fixtures (``fixtures/*.txt``) rendered
for every reader: text, Markdown, HTML (plain, Word-saved, MHTML), DOCX and PDF
(``tests/render.py``, ``tests/pdfmaker.py``) — never real report text.
:func:`mutated` is a Hypothesis strategy mutating a seed: byte flips,
truncation, duplication, long digit runs, huge spans, deep nesting, stray
bytes; a DOCX is mutated inside its ``word/document.xml`` and zipped again.

:func:`check` is the oracle.  An input fails when reading it

* raises anything but a :class:`~gipextract.errors.GipextractError`;
* takes more than :data:`TIME_BOUND` seconds of CPU;
* returns a number whose digits are not in the input: every cell value's
  digits must be among the digits of its ``raw`` text (separators, signs
  and the decimal point dropped; trailing zeros of a fraction ignored), and
  that ``raw`` text must be in what the reader read (the document's text, NFKC
  folded, whitespace dropped); for the text formats it must also be in the
  input itself, decoded (HTML: tags dropped) and NFKC folded.

A failing input is saved (:func:`save_failure`) under ``tests/fuzz/found/``,
keeping the shortest input per failure signature; move it into
``tests/fuzz/regressions/<reader>/`` to keep it as a regression test.
"""

from __future__ import annotations

import functools
import hashlib
import html
import io
import re
import time
import traceback
import unicodedata
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from hypothesis import strategies as st

import gipextract
from gipextract.errors import GipextractError

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
REGRESSIONS = HERE / "regressions"
FOUND = HERE / "found"
READERS = ("text", "markdown", "html", "docx", "pdf")
#: CPU seconds one input may take (CPU, not wall time: the machine is shared; a hang takes minutes).
TIME_BOUND = 10.0
#: CPU seconds more for each page of a PDF read by OCR (a scanned table page takes 5–10 s).
OCR_PAGE_BOUND = 15.0
_WS = re.compile(r"\s+")
_NOT_DIGIT = re.compile(r"[^0-9]")
_TAG = re.compile(r"<[^>]*>")


@functools.cache
def seeds(reader: str) -> tuple[bytes, ...]:
    """The seed inputs of ``reader``: each synthetic fixture in that format."""
    from tests import pdfmaker, render
    from tests.conftest import FIXTURES, load_expected

    texts = sorted(p for p in FIXTURES.glob("*.txt") if p.name != "not_a_report.txt")
    if reader == "text":
        return tuple(p.read_bytes() for p in texts)
    if reader == "pdf":
        from reportlab import rl_config

        out = []
        for name, compress in (("v2021_city", 0), ("v2019_county", 1)):
            saved, rl_config.pageCompression = rl_config.pageCompression, compress
            try:
                out.append(pdfmaker.report_pdf(load_expected(FIXTURES / "expected" / f"{name}.json")))
            finally:
                rl_config.pageCompression = saved
        return tuple(out)
    docs = [gipextract.read_document_from(p) for p in texts if "flat" not in p.name and "broken" not in p.name]
    if reader == "markdown":
        return tuple(render.to_markdown(d) for d in docs)
    if reader == "html":
        return tuple(b for d in docs[:2] for b in (render.to_html(d), render.to_word_html(d), render.to_mhtml(d)))
    if reader == "docx":
        return tuple(render.to_docx(d) for d in docs[:2])
    raise ValueError(reader)


# -- mutations ---------------------------------------------------------------------------------

def _flip(data: bytes, pos: int, byte: int) -> bytes:
    return data[:pos] + bytes([byte]) + data[pos + 1:] if data else bytes([byte])


def _span_attack(data: bytes, n: int) -> bytes:
    data = re.sub(rb'(rowspan|colspan)="?\d+"?', lambda m: m.group(1) + b'="%d"' % n, data, count=8)
    return re.sub(rb'w:val="(\d+)"(?=/><w:vMerge|/>\s*</w:tcPr>)', b'w:val="%d"' % n, data, count=8)


@st.composite
def _mutation(draw, data: bytes) -> bytes:
    n = len(data)
    pos = draw(st.integers(0, max(0, n - 1)))
    kind = draw(st.sampled_from(["flip", "truncate", "duplicate", "digits", "span", "nest", "stray", "delete",
                                 "insert"]))
    if kind == "flip":
        return _flip(data, pos, draw(st.integers(0, 255)))
    if kind == "truncate":
        return data[:pos]
    if kind == "duplicate":
        length = draw(st.integers(1, 4096))
        times = draw(st.integers(1, 64))
        return data[:pos] + data[pos:pos + length] * times + data[pos:]
    if kind == "digits":
        run = draw(st.sampled_from([b"9", b"1234567890", b"0", b"1,234", b"12.50", b"\xef\xbc\x91"]))
        return data[:pos] + run * draw(st.integers(1, 3000)) + data[pos:]
    if kind == "span":
        return _span_attack(data, draw(st.sampled_from([0, 1, 2, 1000, 65534, 10**6, 2**31, 10**30])))
    if kind == "nest":
        depth = draw(st.integers(10, 20000))
        opener, closer = draw(st.sampled_from([(b"<div>", b"</div>"), (b"<table><tr><td>", b"</td></tr></table>"),
                                               (b"> ", b""), (b"|", b"|\n"), (b"(", b")"), (b"[", b"]")]))
        return data[:pos] + opener * depth + closer * depth + data[pos:]
    if kind == "stray":
        return data[:pos] + draw(st.sampled_from([b"\xff", b"\x80", b"\xc3", b"\x00", b"\xef\xbf\xbd", b"\xe4\xb8"])) \
            + data[pos:]
    if kind == "delete":
        return data[:pos] + data[pos + draw(st.integers(1, 512)):]
    return data[:pos] + draw(st.binary(max_size=64)) + data[pos:]


_ELEMENT = re.compile(rb"<w:(tr|tc|p)[ >].*?</w:\1>", re.S)
_TEXT = re.compile(rb"(<w:t(?: [^>]*)?>)([^<]*)(</w:t>)")


@st.composite
def _xml_mutation(draw, xml: bytes) -> bytes:
    """A mutation of WordprocessingML that keeps it well formed (most raw byte
    mutations break the XML, and a refused file tests only the parser): an
    element (row, cell, paragraph) duplicated, deleted or moved, a text run
    rewritten; or, one time in three, a raw byte mutation."""
    kind = draw(st.sampled_from(["raw", "duplicate", "delete", "move", "text", "text"]))
    if kind == "raw":
        return draw(_mutation(xml))
    if kind == "text":
        runs = list(_TEXT.finditer(xml))
        if not runs:
            return xml
        m = runs[draw(st.integers(0, len(runs) - 1))]
        new = draw(st.sampled_from([b"", b"0", b"9" * draw(st.integers(1, 40)), b"1,234", b"12.5", b"-3",
                                    "\uff11\uff12".encode(), "\u4e00\u4e8c\u5341".encode(), b"&amp;", m.group(2) * 3,
                                    m.group(2)[::-1], b" " + m.group(2) + b" 7"]))
        return xml[:m.start(2)] + new + xml[m.end(2):]
    elements = list(_ELEMENT.finditer(xml))
    if not elements:
        return xml
    m = elements[draw(st.integers(0, len(elements) - 1))]
    if kind == "duplicate":
        return xml[:m.end()] + m.group(0) * draw(st.integers(1, 8)) + xml[m.end():]
    if kind == "delete":
        return xml[:m.start()] + xml[m.end():]
    rest = xml[:m.start()] + xml[m.end():]
    target = [e for e in _ELEMENT.finditer(rest) if e.group(1) == m.group(1)]
    if not target:
        return rest
    t = target[draw(st.integers(0, len(target) - 1))]
    return rest[:t.start()] + m.group(0) + rest[t.start():]


def _rezip(docx: bytes, xml: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, xml if info.filename == "word/document.xml" else zin.read(info))
    return out.getvalue()


@st.composite
def mutated(draw, reader: str) -> bytes:
    """A Hypothesis strategy: a seed of ``reader`` with 1–4 mutations (a DOCX's
    ``word/document.xml`` mutated by :func:`_xml_mutation` and zipped again, or
    its bytes as a whole).
    Unmutated seeds are the fixtures, read by the other tests."""
    data = draw(st.sampled_from(seeds(reader)))
    count = draw(st.integers(1, 4))
    if reader == "docx" and draw(st.booleans()):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            xml = z.read("word/document.xml")
        for _ in range(count):
            xml = draw(_xml_mutation(xml))
        return _rezip(data, xml)
    for _ in range(count):
        data = draw(_mutation(data))
    return data


# -- the oracle ---------------------------------------------------------------------------------

class FuzzFailure(AssertionError):
    """An input broke a promise: ``kind`` is ``exception``, ``slow`` or ``invented``."""

    def __init__(self, kind: str, message: str):
        super().__init__(f"{kind}: {message}")
        self.kind = kind


def _fold(text: str) -> str:
    return _WS.sub("", unicodedata.normalize("NFKC", html.unescape(text)))


def _value_digits(value: int | float) -> str:
    d = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    text = format(d.copy_abs(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", "")


def _document_text(doc: gipextract.Document) -> str:
    parts = []
    for block in doc.blocks:
        if isinstance(block, gipextract.TableBlock):
            parts.extend(c.text for row in block.rows for c in row)
        else:
            parts.append(block.text)
    return _fold("".join(parts))


def _decoded(data: bytes, encoding: str | None) -> str:
    for enc in (encoding, "utf-8", "gb18030", "utf-16"):
        if enc:
            try:
                return data.decode(enc, errors="replace")
            except LookupError:
                continue
    return data.decode("latin-1")


def _where(e: BaseException) -> str:
    frame = traceback.extract_tb(e.__traceback__)[-1]
    return f"{type(e).__name__} at {Path(frame.filename).name}:{frame.lineno}: {str(e)[:200]}"


@dataclass
class Outcome:
    """What :func:`check` saw: ``status`` ``read``, ``refused`` (a GipextractError), CPU seconds, cells."""

    status: str
    seconds: float
    cells: int = 0
    error: str = ""


def check(data: bytes, reader: str, *, time_bound: float = TIME_BOUND) -> Outcome:
    """Read ``data`` with ``reader`` forced and apply the oracle (module docstring).

    :raises FuzzFailure: the input broke a promise.
    """
    from gipextract.pipeline import locate_document
    from gipextract.reconstruct import reconstruct
    from gipextract.validate import validate

    t0 = time.process_time()
    doc: gipextract.Document | None = None
    try:
        doc = gipextract.read_document_from(data, reader, name="<fuzz>")
        report = validate(reconstruct(locate_document(doc)))
    except GipextractError as e:
        cause = e.__cause__
        if cause is not None and not isinstance(cause, GipextractError) and "reader failed" in e.message:
            # the pipeline's last resort turned a reader's crash into one line: still a reader bug
            raise FuzzFailure("exception", f"{_where(cause)} (reported as: {str(e)[:150]})") from e
        outcome = Outcome("refused", time.process_time() - t0, error=str(e))
    except RecursionError as e:
        raise FuzzFailure("exception", f"RecursionError: {e}") from e
    except Exception as e:  # noqa: BLE001 -- the oracle: anything else is a failure
        raise FuzzFailure("exception", _where(e)) from e
    else:
        outcome = Outcome("read", time.process_time() - t0, cells=len(report.cells))
    if outcome.seconds > time_bound + _ocr_pages(data, reader, doc) * OCR_PAGE_BOUND:
        raise FuzzFailure("slow", f"{outcome.seconds:.1f} s for {len(data)} bytes")
    if outcome.status == "refused":
        return outcome
    doc_text = _document_text(doc)
    doc_digits = _NOT_DIGIT.sub("", doc_text)
    input_digits = None
    if reader in ("text", "markdown", "html"):
        text = _decoded(data, report.source.encoding)
        if reader == "html":  # markup between the digits of one cell (attributes hold digits too)
            text = _TAG.sub("", text)
        input_digits = _NOT_DIGIT.sub("", _fold(text))
    for cell in report.cells.values():
        if cell.value is None or isinstance(cell.value, bool):
            continue
        raw = _fold(cell.raw or "")
        raw_digits = _NOT_DIGIT.sub("", raw)
        digits = _value_digits(cell.value)
        if digits not in raw_digits:
            raise FuzzFailure("invented", f"{cell.key} = {cell.value!r} from raw {cell.raw!r}")
        if raw not in doc_text and raw_digits not in doc_digits:
            raise FuzzFailure("invented", f"{cell.key}: raw {cell.raw!r} is not in the document")
        if input_digits is not None and digits not in input_digits:
            raise FuzzFailure("invented", f"{cell.key} = {cell.value!r}: digits not in the input")
    return outcome


def _ocr_pages(data: bytes, reader: str, doc: gipextract.Document | None) -> int:
    """Pages of a PDF that may have been read by OCR: all of them when a note
    says OCR read the document or a page of it (0 for other readers)."""
    if reader != "pdf" or doc is None or not any("OCR" in n and "read" in n for n in doc.notes):
        return 0
    import pypdfium2 as pdfium
    try:
        pdf = pdfium.PdfDocument(data)
    except Exception:  # noqa: BLE001 — it was read, so this does not happen; no allowance then
        return 0
    try:
        return len(pdf)
    finally:
        pdf.close()


def signature(failure: FuzzFailure) -> str:
    """A short name of a failure for deduplication: its kind and, for an
    exception, the exception type and where it was raised."""
    text = str(failure)
    m = re.match(r"exception: (\w+) at ([\w.]+:\d+)", text)
    return f"exception-{m.group(1)}-{m.group(2)}" if m else failure.kind


def save_failure(data: bytes, reader: str, failure: FuzzFailure) -> Path:
    """Keep ``data`` under ``found/<reader>/<signature>.bin`` (the shortest per signature)."""
    sig = re.sub(r"[^\w.-]", "_", signature(failure))
    path = FOUND / reader / f"{sig}.bin"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or len(data) < path.stat().st_size:
        path.write_bytes(data)
        path.with_suffix(".txt").write_text(f"{failure}\nsha256 {hashlib.sha256(data).hexdigest()}\n")
    return path
