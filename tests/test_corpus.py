"""Real reports (../shared/corpus) read to their truth files, cell for cell.

``READ_RIGHT`` lists every real report gipextract reads right, with what the
truth file says about it; adding a report here is how a reader claims it.
Tests skip when the corpus is absent (a fresh clone without ../shared).
"""

import pytest

import gipextract

from .conftest import cell_mismatches, truth, violation_mismatches

#: corpus file → number of cells in its truth file.
READ_RIGHT = {
    "000_9ae0767dbc617b7e.txt": 198,
    "001_2024_pdf.pdf": 200,
    "002_2023_pdf.pdf": 186,
    "003_2024_pdf.pdf": 186,
    "004_2024_txt.txt": 94,
    "016_2019_html.html": 198,
    "028_2024_html.html": 200,
    "031_2019_html.html": 198,
}

#: Metadata a report prints otherwise than its truth file has it (the truth
#: names the organ or year from elsewhere): corpus file → what it prints.
AS_PRINTED = {
    "002_2023_pdf.pdf": {"agency": "洪泽区人民政府"},  # its title; the truth adds 淮安市
    "004_2024_txt.txt": {"agency": None, "year": None},  # a partial text: no title, no year
}


@pytest.mark.parametrize("name", sorted(READ_RIGHT))
def test_real_report_equals_its_truth(corpus, name):
    expected = truth(name)
    report = gipextract.read_report(corpus / name)
    assert cell_mismatches(report, expected) == []
    assert len(expected["cells"]) == READ_RIGHT[name]
    assert set(expected["cells"]) <= set(report.cells)
    meta = {"year": expected["year"], "agency": expected.get("agency"), **AS_PRINTED.get(name, {})}
    assert (report.template, report.year) == (expected["template"], meta["year"])
    if meta["agency"] is not None or name in AS_PRINTED:
        assert report.agency == meta["agency"]


@pytest.mark.parametrize("name", sorted(READ_RIGHT))
def test_real_report_violations_are_found(corpus, name):
    """Every identity the report breaks as published (truth ``violations``) is
    an error finding on those cells, and there is no other error finding."""
    report = gipextract.read_report(corpus / name)
    assert violation_mismatches(report, truth(name)) == []
