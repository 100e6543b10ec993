"""Character geometry of the PDF reader: printed lines (bands), words and the
text of a ruled cell (template-spec §7.3).

A character is a tuple ``(x0, x1, top, bottom, size, text)``: points from the
top-left corner of the page, its font size in points and its text (one
character; a printed space only breaks words).  Index it with the constants
``X0, X1, TOP, BOTTOM, SIZE, TEXT``.

Also here, as they judge characters only: whether a page's characters are a
usable text layer (:func:`text_layer_state`, what decides that a page needs
OCR) and :class:`PageError`, raised for a page the reader skips.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...document import join_lines

_WORD_GAP = 0.3        # em: a wider gap between characters ends a word

# -- small geometry -------------------------------------------------------------

# A character as a tuple, for speed: (x0, x1, top, bottom, size, text).
X0, X1, TOP, BOTTOM, SIZE, TEXT = range(6)


def bands(chars: list[tuple]) -> list[list[tuple]]:
    """Group characters into printed lines by vertical position (step 4): a
    character joins the current band when its centre lies within the band
    and the band's centre within the character.  Bands top to bottom, each
    sorted left to right."""
    out: list[list[tuple]] = []
    top = bottom = mid = 0.0
    for ch in sorted(chars, key=lambda c: c[TOP] + c[BOTTOM]):
        cy = (ch[TOP] + ch[BOTTOM]) / 2
        if out and top <= cy <= bottom and ch[TOP] <= mid <= ch[BOTTOM]:
            out[-1].append(ch)
            top, bottom = min(top, ch[TOP]), max(bottom, ch[BOTTOM])
            continue
        out.append([ch])
        top, bottom, mid = ch[TOP], ch[BOTTOM], cy
    for band in out:
        band.sort(key=lambda c: c[X0])
    return out


@dataclass(slots=True)
class _Word:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    chars: list[tuple]


def words(band: list[tuple]) -> list[_Word]:
    """The words of one band: characters split at a printed space or where
    the gap exceeds ``_WORD_GAP`` em."""
    out: list[_Word] = []
    space = False
    for ch in band:
        if not ch[TEXT].strip():
            space = True
            continue
        if out and not space:
            w = out[-1]
            if ch[X0] - w.x1 <= _WORD_GAP * max(ch[SIZE], w.size, 1.0):
                w.text += ch[TEXT]
                w.x1 = max(w.x1, ch[X1])
                w.top, w.bottom = min(w.top, ch[TOP]), max(w.bottom, ch[BOTTOM])
                w.chars.append(ch)
                continue
        out.append(_Word(ch[TEXT], ch[X0], ch[X1], ch[TOP], ch[BOTTOM], ch[SIZE], [ch]))
        space = False
    return out


def cell_text(chars: list[tuple]) -> str:
    """The text of one table cell: its lines (bands) top to bottom; words and
    lines are joined by :func:`~gipextract.document.join_lines`, without a
    separator unless both sides are ASCII letters or digits (then a space: two
    numbers in one cell stay two numbers, never one), step 3."""
    return join_lines(join_lines(w.text for w in words(band)) for band in bands(chars))


#: The text of a character whose font maps it to no Unicode character
#: (pdfminer's ``(cid:N)``).
UNMAPPED_CHAR = "\ufffd"


class PageError(Exception):
    """One page cannot be read (damaged, or over a bound); the reader skips it
    with ``reason`` as its note and reads the other pages."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


TEXT_LAYER, NO_TEXT, UNMAPPED = "text", "no text", "unmapped"


def text_layer_state(chars: list[tuple]) -> str:
    """Whether a page's characters are a usable text layer (the OCR reader
    takes the pages that are not): :data:`TEXT_LAYER`; :data:`NO_TEXT` (no
    printed character: a scan, or an image of text); :data:`UNMAPPED` (most
    characters map to no Unicode character: the text is there but cannot be
    read without OCR)."""
    printed = [c for c in chars if c[TEXT].strip()]
    if not printed:
        return NO_TEXT
    if 2 * sum(c[TEXT] == UNMAPPED_CHAR for c in printed) > len(printed):
        return UNMAPPED
    return TEXT_LAYER
