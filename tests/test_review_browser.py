"""The review page and the batch index in a real browser: headless Chromium
(the system's ``chromium``) driven by Playwright.  Skipped only where
chromium is absent and not in CI (CI=true): there it must run."""

from __future__ import annotations

import os
import shutil

import pytest

import gipextract
from gipextract.batch import run_batch
from gipextract.export.review import review_page

from .conftest import FIXTURES
from .test_review_batch import small_archive

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.skipif(not shutil.which("chromium") and not os.environ.get("CI"),
                                reason="chromium is not installed")


@pytest.fixture(scope="module")
def browser():
    if os.environ.get("CI"):  # must run there
        from playwright.sync_api import sync_playwright
    else:
        sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def test_clicking_a_finding_highlights_its_cells(browser, tmp_path):
    data = (FIXTURES / "v2021_city_broken.txt").read_bytes()
    report = gipextract.read_report(data)
    path = tmp_path / "page.html"
    path.write_text(review_page(data, report), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    for i, finding in enumerate(report.findings):
        if not finding.cells:
            continue
        page.click(f"#f{i}")
        highlighted = page.eval_on_selector_all("td.hl", "els => els.map(e => e.dataset.key)")
        assert sorted(highlighted) == sorted(finding.cells)
        assert page.get_attribute(f"#f{i}", "aria-pressed") == "true"
    # a cell lists its findings
    key = report.errors[0].cells[0]
    page.click(f'td[data-key="{key}"]')
    assert page.is_visible("#cellinfo")
    listed = page.eval_on_selector_all("button.finding.for-cell", "els => els.map(e => e.id)")
    assert listed == [f"f{i}" for i, f in enumerate(report.findings) if key in f.cells]
    # keyboard: Escape clears, Enter on a finding selects it
    page.keyboard.press("Escape")
    assert page.eval_on_selector_all("td.hl", "els => els.length") == 0 and not page.is_visible("#cellinfo")
    page.focus("#f0")
    page.keyboard.press("Enter")
    assert page.eval_on_selector_all("td.hl", "els => els.length") == len(report.findings[0].cells)
    assert requests == [path.as_uri()] and not errors  # no network, no script error


def test_batch_index_filters_and_sorts(browser, tmp_path):
    archive = small_archive(tmp_path / "archive")
    out = tmp_path / "out"
    run_batch([str(archive)], out, jobs=1)
    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    page.goto((out / "review" / "index.html").as_uri())

    def visible():
        return page.eval_on_selector_all("#reports tbody tr:not([hidden])",
                                         "els => els.map(e => e.cells[0].firstChild.textContent)")

    assert len(visible()) == 5
    page.fill("#q", "broken")
    assert sorted(os.path.basename(p) for p in visible()) == ["broken.pdf", "broken.txt"]
    page.fill("#q", "")
    page.select_option("#status", "failed")
    assert [os.path.basename(p) for p in visible()] == ["empty.txt"]
    page.select_option("#status", "")
    page.click("#reports thead th:nth-child(7) button")  # findings, ascending
    page.click("#reports thead th:nth-child(7) button")  # descending
    first = page.eval_on_selector("#reports tbody tr", "e => e.cells[0].textContent")
    assert "broken" in first
    # the link opens the report's page
    page.click("#reports tbody tr:first-child a")
    page.wait_for_load_state()
    assert page.locator("td[data-key]").count() > 100
