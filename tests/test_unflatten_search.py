"""The unflatten stage's search form of a run-together report (template-spec
§7.4 crawler dumps): folded as each character alone would be, and every
search index mapped back to the character it came from."""

from hypothesis import given, settings
from hypothesis import strategies as st

from gipextract.unflatten import _fold, _Search

# characters that fold to themselves, to another one (full-width, traditional), to none (spaces, quotes,
# zero-width) and to several (NFKC expansions)
POOL = list("一二三四五六、情况本年新收政府信息公开申请数量0123456789 　\t\n“”\"'「」，,（）()：:．.萬國與") + [
    "㍿", "½", "\u200b", "\ufeff", "\xa0", "ｆ", "Ａ", "ﬁ"]


def _reference(text: str) -> tuple[str, list[int]]:
    """The search form character by character, and where each of its characters came from."""
    forms = [_fold(ch) for ch in text]
    return "".join(forms), [i for i, f in enumerate(forms) for _ in f]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(POOL), max_size=60).map("".join))
def test_search_form_and_positions_equal_folding_each_character(text):
    s = _Search(text)
    folded, where = _reference(text)
    assert s.text == folded
    for i in range(len(folded) + 1):
        assert s.pos(i) == (where[i] if i < len(where) else len(text))
        if i:
            assert s.end(i) == where[i - 1] + 1
    assert s.end(0) == 0


def test_a_text_in_traditional_script_folds_like_one_in_simplified():
    many = "".join([ch for ch in map(chr, range(0x4E00, 0x9FA6)) if _fold(ch) != ch][:100])  # > 64 to change
    assert len(set(many)) > 64
    s = _Search("二、" + many + " 情况")
    assert s.text == "二、" + "".join(_fold(ch) for ch in many) + "情况"
    assert s.pos(len(s.text) - 1) == len(s.original) - 1


def test_the_characters_remembered_stay_bounded_and_the_search_stays_right(monkeypatch):
    """Texts of ever new characters (random bytes decoded, fuzzed input) must
    not grow the per-process memory of folded characters without bound; once it
    starts again, every text still folds as each character alone would."""
    import gipextract.unflatten as u

    monkeypatch.setattr(u, "MAX_CHARS", 500)
    monkeypatch.setattr(u, "_CHARS", u._NONE_MET)
    for start in range(0x4E00, 0x4E00 + 5000, 300):
        text = "二、" + "".join(map(chr, range(start, start + 300))) + "萬 情况"
        s = _Search(text)
        assert len(u._CHARS.met) <= 500
        assert s.text == _reference(text)[0]
        assert s.pos(len(s.text) - 1) == len(text) - 1
