"""The Report's pandas views (design.md "The model")."""

import pandas as pd
import pytest

import gipextract
from gipextract.report import TIDY_COLUMNS

from .conftest import FIXTURES


@pytest.fixture(scope="module")
def v2021():
    return gipextract.read_report(FIXTURES / "v2021_city.txt")


@pytest.fixture(scope="module")
def v2019():
    return gipextract.read_report(FIXTURES / "v2019_county.txt")


def test_wide_t3_shape_and_labels(v2021):
    t3 = v2021.table("t3")
    assert t3.shape == (25, 7)
    assert t3.columns[1] == ("申请人情况", "法人或其他组织", "商业企业")
    assert t3.columns[0] == ("申请人情况", "自然人", "")
    assert t3.index[4] == ("三、本年度办理结果", "（三）不予公开", "1.属于国家秘密")
    assert t3.loc[("一、本年新收政府信息公开申请数量", "", ""), ("申请人情况", "总计", "")] == 41
    assert all(str(d) == "Int64" for d in t3.dtypes)
    assert pd.isna(t3.loc[("三、本年度办理结果", "（四）无法提供", "3.补正后申请内容仍不明确"), ("申请人情况", "总计", "")])


def test_wide_t2_money_is_float(v2021, v2019):
    t2 = v2021.table("t2")
    assert t2.shape == (6, 5)
    assert str(t2[("本年收费金额（单位：万元）",)].dtype) == "Float64"
    assert t2.loc[("第二十条第（八）项", "行政事业性收费"), ("本年收费金额（单位：万元）",)] == 1234.56
    assert v2019.table("t2").shape == (8, 8)


def test_wide_t4_is_three_by_five(v2019):
    t4 = v2019.table("t4")
    assert t4.shape == (3, 5)
    assert list(t4.index) == [("行政复议", ""), ("行政诉讼", "未经复议直接起诉"), ("行政诉讼", "复议后起诉")]
    assert t4.loc[("行政复议", ""), ("总计",)] == 2


def test_keys_variant(v2021):
    t3 = v2021.table("t3", keys=True)
    assert t3.loc["new_received", "total"] == 41
    assert list(t3.columns)[:2] == ["natural_person", "commercial_enterprise"]
    assert v2021.table("t2", keys=True).loc["art20_8.administrative_fees", "fee_amount_wan_yuan"] == 1234.56


def test_tables_property_and_bad_name(v2021):
    assert set(v2021.tables) == {"t2", "t3", "t4"}
    with pytest.raises(KeyError):
        v2021.table("t5")


def test_tidy(v2021):
    tidy = v2021.tidy()
    assert tuple(tidy.columns) == TIDY_COLUMNS
    assert len(tidy) == 200
    row = tidy.set_index("key").loc["t3.new_received.natural_person"]
    assert (row.value, row.row_label, row.col_label, row.template) == (33, "一、本年新收政府信息公开申请数量", "自然人",
                                                                      "V2021")
    assert pd.isna(row.flag)
    dash = tidy.set_index("key").loc["t2.art20_6.administrative_compulsion.decisions"]
    assert pd.isna(dash.value) and dash.flag == "dash" and dash.raw == "—"
