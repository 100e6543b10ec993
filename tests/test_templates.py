"""The template data (templates/*.toml) against template-spec §10."""

import pytest

from gipextract.errors import TemplateError
from gipextract.locate import heading_strength
from gipextract.templates import VERSIONS, get_template, label_aliases, sections


@pytest.mark.parametrize("version, counts", [("V2019", {"t2": 22, "t3": 161, "t4": 15}),
                                             ("V2021", {"t2": 10, "t3": 175, "t4": 15})])
def test_cell_counts(version, counts):
    tables = get_template(version).tables
    assert {t: len(tt.cell_keys()) for t, tt in tables.items()} == counts
    keys = [k for tt in tables.values() for k in tt.cell_keys()]
    assert len(keys) == len(set(keys))


def test_canonical_keys_of_the_spec():
    v21, v19 = get_template("V2021").tables, get_template("V2019").tables
    assert "t2.art20_8.administrative_fees.fee_amount_wan_yuan" in v21["t2"].cell_keys()
    assert "t2.art20_9.centralized_procurement.procurement_amount" in v19["t2"].cell_keys()
    assert "t3.other_fee_unpaid.total" in v21["t3"].cell_keys()
    assert "t3.other_handling.total" in v19["t3"].cell_keys()
    assert v21["t4"].cell_keys()[:5] == [f"t4.admin_review.{c}" for c in
                                         ("upheld", "corrected", "other_result", "pending", "total")]
    assert [c.key for c in v21["t3"].columns] == ["natural_person", "commercial_enterprise", "research_institution",
                                                 "public_welfare_org", "legal_service_org", "other_org", "total"]


def test_money_columns():
    fee = get_template("V2021").tables["t2"].row("art20_8.administrative_fees").columns[0]
    assert (fee.kind, fee.unit) == ("money", "万元")
    amount = get_template("V2019").tables["t2"].row("art20_9.centralized_procurement").columns[1]
    assert (amount.kind, amount.unit) == ("money", None)


def test_aliases_name_official_labels():
    labels = {p for v in VERSIONS for tt in get_template(v).tables.values()
              for r in tt.rows for p in r.path} | {c.label for v in VERSIONS
                                                   for tt in get_template(v).tables.values() for c in tt.columns}
    assert set(label_aliases()) <= labels


@pytest.mark.parametrize("spec", sections(), ids=lambda s: s.key)
def test_every_heading_variant_is_recognised(spec):
    assert heading_strength(spec.official, spec) == 3
    for variant in spec.variants:
        assert heading_strength(variant, spec) > 0, variant


@pytest.mark.parametrize("label", ["三、本年度办理结果", "四、结转下年度继续办理", "一、本年新收政府信息公开申请数量"])
def test_table_row_labels_are_never_headings(label):
    assert all(heading_strength(label, s) == 0 for s in sections())


def test_unknown_version_is_a_value_error():
    with pytest.raises(ValueError):
        get_template("V2030")
    with pytest.raises(TemplateError):
        get_template("V2030")
