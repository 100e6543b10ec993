"""Identities compiled in one module; inferences made visible (template-spec §6, §7.2)."""

import ast
from pathlib import Path

from gipextract import identities as ids
from gipextract import read_report, validate

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


def _imports(module: str) -> set[str]:
    tree = ast.parse((ROOT / "gipextract" / f"{module}.py").read_text(encoding="utf-8"))
    return {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}


def test_split_and_validate_share_the_identities_module():
    assert "validate" not in _imports("split") and "identities" in _imports("split")
    assert "identities" in _imports("validate")
    assert validate.evaluate is ids.evaluate and validate.identities is ids.identities
    assert len(ids.identities("V2021", "t3")) == 7 + 25 + 7


def test_identities_used_to_cut_a_run_are_reported_not_counted():
    r = read_report(FIXTURES / "v2021_city_flat.txt")
    (used,) = [f for f in r.findings if f.rule == "used_for_split"]
    assert used.severity == "info" and used.table == "t3"
    assert "T3-B of row 一、本年新收政府信息公开申请数量" in used.actual
    assert all(" of row " in n or " of column " in n for n in used.actual)
    assert used.cells and all(r.cells[k].flag in ("split_recovered", "dash", "blank") for k in used.cells)
    # validation keeps the finding (it is a reading finding, not one of the rules it recomputes)
    assert used in validate.validate(r).findings
    # cells the digit count alone decided are not listed: no identity was needed for them
    t4 = [k for k in r.cells if k.startswith("t4.")]
    assert not set(t4) & set(used.cells)


def test_a_grid_report_uses_no_identity_to_read(tmp_path):
    r = read_report(FIXTURES / "v2021_city.txt")
    assert not [f for f in r.findings if f.rule == "used_for_split"]


def test_a_thousands_separator_join_is_flagged(tmp_path):
    text = (FIXTURES / "v2021_city.txt").read_text(encoding="utf-8")
    assert "\t2345\n" in text
    src = tmp_path / "r.txt"
    src.write_text(text.replace("\t2345\n", "\t2,345\n", 1), encoding="utf-8")
    r = read_report(src)
    (cell,) = [c for c in r.cells.values() if c.raw == "2,345"]
    assert (cell.value, cell.flag) == (2345, "thousands_joined")
