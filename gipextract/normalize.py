"""Text normalisation and label similarity (template-spec §7.1, §7.2).

Labels are compared as *label keys*: NFKC-normalised, traditional characters
mapped to simplified, every space and punctuation mark removed.  So
``"（二）部分公开（区分处理的，只计这一情 形，不计其他情形）"`` and
``"(二)部分公开(区分处理的,只计这一情形,不计其他情形)"`` have the same key.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from typing import Any, TypeVar, cast

# Traditional → simplified, for the characters that occur in the template's
# labels and headings (mirror sites serve 規範性檔案, 處理決定數量; spec §7.1).
_TRAD = (
    "規规範范檔档處处決决數数請请開开結结轉转業业構构織织務务機机關关復复議议訟讼計计審审維维"
    "糾纠屬属國国過过內内資资訊讯報报發发廢废現现許许強强製制費费項项購购總总額额減减單单萬万"
    "為为無无實实際际況况獲获會会團团體体經经後后訴诉罰罚執执職职權权檢检詢询護护險险穩稳類类"
    "補补確确認认題题進进問问應应當当據据時时間间個个門门號号辦办區区縣县廳厅續续繳缴納纳從从"
    "來来對对歷历屆届產产證证財财稅税醫医療疗衛卫廣广電电網网頁页論论參参專专員员訓训練练舉举"
    "條条則则匯汇級级隊队組组導导領领紀纪錄录徵征稱称濟济歸归劃划慮虑決决並并與与傳传"
)
_TRAD_MAP = str.maketrans(_TRAD[0::2], _TRAD[1::2])

#: Texts longer than this count against :data:`LONG_TEXT_BUDGET` in a text cache.
CACHED_TEXT_CHARS = 256
#: Characters of long texts a text cache may hold before it is emptied.
LONG_TEXT_BUDGET = 1_000_000

_F = TypeVar("_F", bound=Callable[..., Any])

#: Every function decorated with :func:`text_cache` (for tests and cache_clear).
TEXT_CACHES: list[Any] = []


def text_cache(maxsize: int) -> Callable[[_F], _F]:
    """``functools.lru_cache(maxsize)`` for a function whose first argument is
    a text, bounded in characters as well as in entries: cell texts, labels
    and short lines recur from report to report and stay, but once the texts
    longer than :data:`CACHED_TEXT_CHARS` it took in since it was last emptied
    (a crawler dump's whole report on one line, a run of digits) add up to
    :data:`LONG_TEXT_BUDGET` characters, the cache is emptied.  A process
    reading thousands of reports (a batch worker) so never holds more than
    about ``maxsize × CACHED_TEXT_CHARS + LONG_TEXT_BUDGET`` characters of
    keys per function, whatever the inputs; before, 16,384 long texts could
    stay (hundreds of MB).  A hit costs what an ``lru_cache`` hit costs (the check runs
    on misses only)."""

    def decorate(fn: _F) -> _F:
        taken = [0]  # characters of long texts since the cache was last emptied

        @functools.wraps(fn)
        def miss(text: str, *args: Any, **kwargs: Any) -> Any:
            if len(text) > CACHED_TEXT_CHARS:
                taken[0] += len(text)
                if taken[0] > LONG_TEXT_BUDGET:
                    cached.cache_clear()
                    taken[0] = len(text)
            return fn(text, *args, **kwargs)

        cached = functools.lru_cache(maxsize=maxsize)(miss)
        TEXT_CACHES.append(cached)
        return cast(_F, cached)

    return decorate


_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)

# Everything that is not a letter, digit or CJK character is dropped from keys.
_NON_KEY = re.compile(r"[^0-9A-Za-z\u3400-\u9fff]+")

# Leading numbering of a label: 一、 / （一） / (一) / 1. / 1、 / 1）
_NUMBERING = re.compile(
    r"^\s*(?:[(（]\s*[一二三四五六七八九十]+\s*[)）]|[一二三四五六七八九十]+\s*[、.．]|\d{1,2}\s*[.、．)）](?!\d))\s*"
)
# A note in parentheses after the label text proper: 规章(设区的市…) → 规章
_NOTE = re.compile(r"^(.+?)\s*[(（].*$")


def fold(text: str) -> str:
    """The one label fold (spec §7.1): NFKC-normalise ``text``, drop
    zero-width characters and map traditional characters to simplified.
    Full-width digits and brackets become ASCII (``（一）`` → ``(一)``).
    Every comparison of labels starts from it (:func:`clean_text`,
    :func:`label_key`, the searches of :mod:`gipextract.unflatten`)."""
    return unicodedata.normalize("NFKC", text).translate(_ZERO_WIDTH).translate(_TRAD_MAP)


@text_cache(maxsize=16384)
def clean_text(text: str) -> str:
    """:func:`fold` ``text``, then turn every whitespace run into one space."""
    return " ".join(fold(text).split())


@text_cache(maxsize=8192)
def label_key(text: str) -> str:
    """The comparison key of a label: :func:`clean_text`, then every space and
    punctuation mark removed (``"1.属于国家秘密"`` → ``"1属于国家秘密"``)."""
    return _NON_KEY.sub("", clean_text(text))


@text_cache(maxsize=8192)
def label_core(text: str) -> str:
    """The key of a label without its leading numbering and without a trailing
    parenthetical note: ``"（二）部分公开（区分处理的…）"`` → ``"部分公开"``,
    ``"规章(设区的市、自治州人民政府应提供相关数据)"`` → ``"规章"``."""
    text = clean_text(text)
    text = _NUMBERING.sub("", text, count=1)
    m = _NOTE.match(text)
    if m and label_key(m.group(1)):
        text = m.group(1)
    return label_key(text)


def numbering(text: str) -> str | None:
    """The leading numbering of a label as printed, normalised to its key
    (``"（三）不予公开"`` → ``"三"``, ``"2.重复申请"`` → ``"2"``), or ``None``."""
    m = _NUMBERING.match(clean_text(text))
    return label_key(m.group(0)) if m else None


def lcs_len(a: str, b: str) -> int:
    """Length of the longest common subsequence of ``a`` and ``b``."""
    if len(a) < len(b):
        a, b = b, a
    prev = [0] * (len(b) + 1)
    for ch in a:
        cur = [0]
        for j, bj in enumerate(b):
            cur.append(prev[j] + 1 if ch == bj else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def similarity(a: str, b: str) -> float:
    """Similarity of two label keys in [0, 1]: ``2·LCS / (len a + len b)``
    (spec §7.2, "fuzzy label matching: the longest common subsequence")."""
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    return 2.0 * lcs_len(a, b) / (len(a) + len(b))
