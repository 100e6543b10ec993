"""Versions are data: a new format is a new v*.toml (template-spec §8, §10)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import gipextract.templates as templates
from gipextract import read_report
from gipextract.errors import TemplateError
from gipextract.reconstruct import version_for_year
from gipextract.templates import VERSIONS, fallback_version, get_template, use_template_dir, versions

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PACKAGE_DIR = Path(templates.__file__).parent


def _with_v2025(tmp_path: Path) -> Path:
    d = tmp_path / "templates"
    shutil.copytree(PACKAGE_DIR, d, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    text = (d / "v2021.toml").read_text(encoding="utf-8")
    assert 'version = "V2021"' in text and "first_year = 2021" in text
    (d / "v2025.toml").write_text(text.replace('version = "V2021"', 'version = "V2025"')
                                  .replace("first_year = 2021", "first_year = 2025"), encoding="utf-8")
    return d


@pytest.fixture
def v2025(tmp_path):
    use_template_dir(_with_v2025(tmp_path))
    yield
    use_template_dir(None)


def test_the_package_versions_come_from_the_toml_files():
    assert versions() == ("V2019", "V2021") == tuple(VERSIONS)
    assert [get_template(v).first_year for v in versions()] == [2019, 2021]
    assert [version_for_year(y) for y in (None, 2018, 2019, 2020, 2021, 2030)] == [
        None, "PRE2019", "V2019", "V2019", "V2021", "V2021"]
    assert fallback_version() == "V2021"


def _report(tmp_path: Path, year: str | None):
    text = (FIXTURES / "v2021_city.txt").read_text(encoding="utf-8")
    assert "2024年" in text
    src = tmp_path / f"r{year}.txt"
    src.write_text(text.replace("2024年", f"{year}年") if year else text.replace("2024年", ""), encoding="utf-8")
    return read_report(src)


def test_a_v2025_toml_is_enough_for_2025_reports(tmp_path, v2025):
    assert versions() == ("V2019", "V2021", "V2025") and "V2025" in VERSIONS
    assert version_for_year(2025) == "V2025" and version_for_year(2024) == "V2021"
    r = _report(tmp_path, "2025")
    assert r.year == 2025 and r.template == "V2025"
    assert set(r.table_versions.values()) == {"V2025"}
    assert r.cells["t3.new_received.total"].value is not None
    assert not [f for f in r.findings if f.severity == "error"]
    r24 = _report(tmp_path, "2024")
    assert r24.template == "V2021"


def test_the_flattened_reader_and_the_fallback_follow_the_data(tmp_path, v2025):
    assert fallback_version() == "V2025"
    flat = tmp_path / "flat.txt"
    flat.write_text((FIXTURES / "v2021_city_flat.txt").read_text(encoding="utf-8").replace("2024年", "2025年"),
                    encoding="utf-8")
    r = read_report(flat)
    assert r.template == "V2025"


def test_the_default_data_comes_back(tmp_path):
    use_template_dir(_with_v2025(tmp_path))
    use_template_dir(None)
    assert versions() == ("V2019", "V2021")


def test_the_environment_variable_names_a_template_directory(tmp_path):
    d = _with_v2025(tmp_path)
    code = "from gipextract.templates import versions, version_for_year; print(versions(), version_for_year(2026))"
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "GIPEXTRACT_TEMPLATES": str(d)},
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "('V2019', 'V2021', 'V2025') V2025"


def test_bad_version_data_is_one_clear_error(tmp_path):
    d = _with_v2025(tmp_path)
    (d / "v2025.toml").write_text('version = "V2025"\n', encoding="utf-8")
    try:
        use_template_dir(d)
        with pytest.raises(TemplateError, match="first_year"):
            versions()
    finally:
        use_template_dir(None)
    with pytest.raises(TemplateError, match="not a template directory"):
        use_template_dir(tmp_path / "missing")
