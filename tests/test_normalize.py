"""Label normalisation and similarity (template-spec §7.1)."""

import pytest

from gipextract.normalize import clean_text, label_core, label_key, numbering, similarity


@pytest.mark.parametrize("a, b", [
    ("（二）部分公开（区分处理的，只计这一情形，不计其他情形）", "(二)部分公开(区分处理的,只计这一情 形,不计其他情形)"),
    ("第二十条第（八）项", "第二十条 第（八）项"),
    ("商 业 企 业", "商业企业"),
    ("3.危及“三安全一稳定”", '3.危及"三安全一稳定"'),
    ("處理決定數量", "处理决定数量"),
    ("本年增/减", "本年增／减"),
])
def test_same_label_key(a, b):
    assert label_key(a) == label_key(b)


@pytest.mark.parametrize("text, core", [
    ("（二）部分公开（区分处理的，只计这一情形，不计其他情形）", "部分公开"),
    ("规章(设区的市、自治州人民政府应提供相关数据)", "规章"),
    ("1.属于国家秘密", "属于国家秘密"),
    ("1、申请人无正当理由逾期不补正", "申请人无正当理由逾期不补正"),
    ("三、本年度办理结果", "本年度办理结果"),
    ("10000", "10000"),
])
def test_label_core(text, core):
    assert label_core(text) == core


def test_numbering():
    assert numbering("（三）不予公开") == "三"
    assert numbering("2.重复申请") == "2"
    assert numbering("规章") is None


def test_similarity_catches_typo_but_not_neighbours():
    typo = similarity(label_core("2.其他法律行政止公开"), label_core("2.其他法律行政法规禁止公开"))
    neighbour = similarity(label_core("行政处罚"), label_core("行政许可"))
    assert typo >= 0.75 > neighbour


def test_clean_text_drops_zero_width_and_folds_spaces():
    assert clean_text("\u200b一、\u3000总体  情况\ufeff") == "一、 总体 情况"
