"""Cross-report checks T3-Y and T2-Y1 (template-spec §6.1, §6.3)."""

from __future__ import annotations

from gipextract.crossreport import T3_COLUMNS, ReportFacts, check_reports, cross_report_findings

from .batch_helpers import synth


def facts(source, agency, year, forward=None, over=None, t2=None):
    cells = {}
    for row, values in (("carried_forward_next", forward), ("carried_over_prev", over)):
        for col, v in zip(T3_COLUMNS, values or ()):
            cells[f"t3.{row}.{col}"] = v if isinstance(v, tuple) else (v, None)
    for row, (issued, repealed, in_force) in (t2 or {}).items():
        for col, v in (("issued", issued), ("repealed", repealed), ("in_force", in_force)):
            cells[f"t2.art20_1.{row}.{col}"] = v if isinstance(v, tuple) else (v, None)
    return ReportFacts(source, agency, year, cells)


def test_consistent_years_give_nothing():
    a = facts("a", "某局", 2023, forward=[1, 0, 0, 0, 0, 1, 2], t2={"regulations": (1, 0, 10)})
    b = facts("b", "某局", 2024, over=[1, 0, 0, 0, 0, 1, 2], t2={"regulations": (3, 1, 12)})
    assert cross_report_findings([a, b]) == {}


def test_broken_carry_over_is_one_warning_per_column_on_the_later_report():
    a = facts("a", "某局", 2023, forward=[1, 0, 0, 0, 0, 1, 2])
    b = facts("b", "某局", 2024, over=[2, 0, 0, 0, 0, 0, 2])
    out = cross_report_findings([b, a])
    assert list(out) == ["b"]
    assert [(f.rule, f.severity, f.cells, f.expected, f.actual) for f in out["b"]] == [
        ("T3-Y", "warning", ["t3.carried_over_prev.natural_person"], 1, 2),
        ("T3-Y", "warning", ["t3.carried_over_prev.other_org"], 1, 0)]
    assert "2023" in out["b"][0].message and "a" in out["b"][0].message


def test_t2y1_uses_this_years_issued_and_repealed():
    a = facts("a", "某局", 2021, t2={"normative_documents": (5, 0, 50)})
    b = facts("b", "某局", 2022, t2={"normative_documents": (4, 2, 60)})
    (f,) = cross_report_findings([a, b])["b"]
    assert (f.rule, f.expected, f.actual) == ("T2-Y1", 52, 60)
    assert f.cells == ["t2.art20_1.normative_documents.in_force", "t2.art20_1.normative_documents.issued",
                       "t2.art20_1.normative_documents.repealed"]


def test_dash_reads_as_zero_and_unknown_values_are_not_checked():
    a = facts("a", "某局", 2023, forward=[(None, "dash"), 0, 0, 0, 0, (None, "row_missing"), (None, "blank")])
    b = facts("b", "某局", 2024, over=[0, 0, 0, 0, 0, 5, 9])
    assert cross_report_findings([a, b]) == {}


def test_only_the_same_organ_and_consecutive_years_are_paired():
    a = facts("a", "某局", 2022, forward=[1] * 7)
    others = [facts("b", "某局", 2024, over=[0] * 7), facts("c", "别局", 2023, over=[0] * 7),
              facts("d", None, 2023, over=[0] * 7), facts("e", "某局", None, over=[0] * 7)]
    assert cross_report_findings([a, *others]) == {}


def test_disagreeing_earlier_reports_are_not_guessed_between():
    a1 = facts("a1", "某局", 2023, forward=[1] * 7)
    a2 = facts("a2", "某局", 2023, forward=[2] * 7)
    same = facts("a3", "某局", 2023, forward=[1] * 7)
    b = facts("b", "某局", 2024, over=[1] * 7)
    (f,) = cross_report_findings([a1, a2, b])["b"]
    assert (f.rule, f.severity) == ("cross_report_ambiguous", "info") and "a1, a2" in f.message
    assert cross_report_findings([a1, same, b]) == {}


def test_copies_of_the_earlier_report_fill_each_others_unreadable_cells():
    a1 = facts("a.txt", "某局", 2023, forward=[1, 0, 0, 0, 0, (None, "unreadable"), 2])
    a2 = facts("a.html", "某局", 2023, forward=[1, 0, 0, 0, 0, 1, (None, "unreadable")])
    b = facts("b", "某局", 2024, over=[1, 0, 0, 0, 0, 0, 2])
    (f,) = cross_report_findings([a1, a2, b])["b"]
    assert (f.rule, f.cells, f.expected, f.actual) == ("T3-Y", ["t3.carried_over_prev.other_org"], 1, 0)
    assert "a.txt, a.html" in f.message


def test_check_reports_on_whole_reports():
    import gipextract
    s = synth()
    r23 = gipextract.read_report(s.variant("v2021_city", agency="某局", year=2023).encode(), name="r23")
    r24 = gipextract.read_report(s.variant("v2021_city", agency="某局", year=2024).encode(), name="r24")
    out = check_reports([r23, r24])
    # the same numbers both years: 上年结转 [4,1,0,0,0,2,7] ≠ 结转下年度 [2,0,0,0,0,1,3]
    assert {f.cells[0].split(".")[-1] for f in out["r24"] if f.rule == "T3-Y"} == {
        "natural_person", "commercial_enterprise", "other_org", "total"}
    assert r24.findings == [] or all(f.rule not in ("T3-Y", "T2-Y1") for f in r24.findings)
