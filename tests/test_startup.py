"""Start-up: ``gipextract --version`` and ``-h`` import neither the pipeline nor
the readers and their libraries (the speed itself is measured by bench/startup.py)."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

import gipextract
from gipextract import cli
from gipextract.export import EXPORTERS
from gipextract.readers import READERS

HEAVY = ("gipextract.pipeline", "gipextract.readers", "gipextract.report", "gipextract.export.json",
         "docx", "lark", "charset_normalizer", "pdfplumber", "pandas", "pyarrow", "openpyxl")


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys\nprint('\\n'.join(sys.modules))"],
                         capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_cli_import_and_version_and_help_load_nothing_heavy():
    for code in ("import gipextract.cli",
                 "import sys; from gipextract.cli import main; sys.argv=['g','--version']\n"
                 "try:\n    main()\nexcept SystemExit:\n    pass",
                 "import sys; from gipextract.cli import main; sys.argv=['g','-h']\n"
                 "try:\n    main()\nexcept SystemExit:\n    pass"):
        loaded = _modules_after(code)
        assert not loaded & set(HEAVY), (code, sorted(loaded & set(HEAVY)))


def test_version_option_prints_the_package_version():
    r = CliRunner().invoke(cli.main, ["--version"])
    assert r.exit_code == 0 and r.output == f"gipextract, version {gipextract.__version__}\n"


def test_static_choices_agree_with_the_registries():
    assert set(cli.READER_NAMES) == set(READERS)
    assert cli.FORMATS == tuple(name for name, e in EXPORTERS.items() if e.stream)


def test_package_attributes_are_lazy_but_complete():
    for name in gipextract.__all__:
        assert getattr(gipextract, name) is not None
    assert gipextract.read_report.__module__ == "gipextract.pipeline"
    assert set(gipextract.__all__) <= set(dir(gipextract))
    try:
        gipextract.no_such_name  # noqa: B018
    except AttributeError as e:
        assert "no_such_name" in str(e)
    else:
        raise AssertionError("AttributeError expected")
