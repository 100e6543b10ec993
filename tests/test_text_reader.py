"""The text reader: encoding, pre-pass and the Lark layout grammar."""

from importlib import resources

import pytest

from gipextract.document import Paragraph, Source, TableBlock
from gipextract.errors import DecodeError, ReadError
from gipextract.readers.text import read_text

from .conftest import FIXTURES, SEED


def doc(text: str | bytes):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return read_text(data, Source("<test>", "text", ""))


def shape(d):
    return [b.text if isinstance(b, Paragraph) else [[c.text for c in r] for r in b.rows] for b in d.blocks]


def test_grammar_ships_as_package_data():
    assert "start:" in resources.files("gipextract.grammars").joinpath("text_layout.lark").read_text("utf-8")


def test_cells_rows_and_paragraphs():
    d = doc("二、主动公开\n\t第二十条第（一）项\n\n\t规章\n\t1\n\t\n\n正文一段。\n")
    assert shape(d) == ["二、主动公开", [["第二十条第（一）项"], ["规章", "1", ""]], "正文一段。"]
    assert d.blocks[1].rows[1][1].where == "line 5"


def test_wrapped_cell_text_joins_the_cell_above():
    d = doc("标题\n\t信息内容\n\t本年新\n制作数量\n\t对外公开总数量\n\n")
    assert shape(d) == ["标题", [["信息内容", "本年新制作数量", "对外公开总数量"]]]


def test_heading_right_after_last_cell_is_a_paragraph():
    d = doc("\t行政复议\n\n\t1\n\t0\n 五、政务公开的成效及下一步工作打算\n(一)取得的成效。\n")
    assert shape(d) == [[["行政复议"], ["1", "0"]], "五、政务公开的成效及下一步工作打算", "(一)取得的成效。"]


def test_short_line_after_a_number_is_not_glued_to_it():
    d = doc("\t规章\n\t12\n注：数据截至年底\n\n")
    assert shape(d) == [[["规章", "12"]], "注：数据截至年底"]


@pytest.mark.parametrize("variant", [
    lambda t: t,
    lambda t: t.replace("\n", "\r\n"),
    lambda t: "\ufeff" + t,
    lambda t: t.replace("一、", "\u3000\u3000一、").replace("二、", "  二、"),
    lambda t: t.replace("\n", "\r"),
])
def test_layout_variants_give_the_same_document(variant):
    base = "一、总体情况\n正文。\n二、主动公开政府信息情况\n\t规章\n\t1\n\n"
    assert shape(doc(variant(base))) == shape(doc(base))


def test_gbk_and_utf16_are_detected():
    text = "一、总体情况\n本机关2020年共收到申请3件。\n\t行政许可\n\t12\n\n"
    for enc in ("gbk", "gb18030", "utf-16"):
        d = doc(text.encode(enc))
        assert shape(d) == shape(doc(text)), enc


def test_seed_layout():
    if not SEED.exists():
        pytest.skip("corpus absent")
    d = doc(SEED.read_bytes())
    tables = [b for b in d.blocks if isinstance(b, TableBlock)]
    assert [t.n_rows for t in tables] == [17, 26, 4]
    assert tables[0].rows[1][1].text == "本年新制作数量"
    assert [c.text for c in tables[1].rows[2]][:3] == ["", "", "商业企业"]
    assert d.blocks[-2].text == "六、其他需要报告的事项"


def test_binary_data_is_refused():
    with pytest.raises(ReadError, match="binary"):
        doc(bytes(range(256)) * 4)


def test_bad_bom_is_a_decode_error():
    with pytest.raises(DecodeError):
        doc(b"\xef\xbb\xbf\xff\xfe\xfa")


def test_fixture_files_all_tokenize():
    for path in FIXTURES.glob("*.txt"):
        assert doc(path.read_bytes()).blocks, path
