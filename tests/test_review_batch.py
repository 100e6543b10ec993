"""The review pages of ``gipextract batch``: review/index.html links every
input of the manifest, one page per report read; ``--no-review`` skips them."""

from __future__ import annotations

import shutil

from click.testing import CliRunner
from lxml import html as lxml_html

from gipextract.batch import run_batch
from gipextract.cli import main

from . import pdfmaker
from .batch_helpers import read_csv, write
from .conftest import FIXTURES, load_expected


def small_archive(root):
    write(root / "a" / "city.txt", (FIXTURES / "v2021_city.txt").read_bytes())
    write(root / "a" / "broken.txt", (FIXTURES / "v2021_city_broken.txt").read_bytes())
    write(root / "b" / "broken.pdf", pdfmaker.report_pdf(load_expected(FIXTURES / "expected" / "v2021_city_broken.json")))
    write(root / "c" / "news.txt", (FIXTURES / "not_a_report.txt").read_bytes())
    write(root / "c" / "empty.txt", b"")
    return root


def index_rows(out):
    tree = lxml_html.fromstring((out / "review" / "index.html").read_bytes())
    rows = {}
    for tr in tree.xpath("//table[@id='reports']/tbody/tr"):
        tds = tr.xpath("./td")
        link = tds[0].xpath(".//a/@href")
        rows[tds[0].xpath("string(.//a | .//span[@class='name'])")] = {
            "link": link[0] if link else None, "status": tr.get("data-status"),
            "identities": tds[5].text_content(), "findings": tds[6].text_content()}
    return rows


def test_batch_index_links_every_report(tmp_path):
    archive = small_archive(tmp_path / "archive")
    out = tmp_path / "out"
    run_batch([str(archive)], out, jobs=1)
    manifest = read_csv(out / "manifest.csv")
    rows = index_rows(out)
    assert set(rows) == {r["path"] for r in manifest}
    for r in manifest:
        row = rows[r["path"]]
        assert row["status"] == r["status"]
        if r["status"] == "failed":
            assert row["link"] is None
            continue
        page = out / "review" / row["link"]
        assert page.is_file(), row["link"]
        tree = lxml_html.fromstring(page.read_bytes())
        assert len(tree.xpath("//button[contains(@class, 'finding')]")) == int(row["findings"])
    broken = next(r for r in manifest if r["path"].endswith("broken.txt"))
    assert rows[broken["path"]]["identities"] == f"{broken['n_errors']} broken"
    assert rows[next(r["path"] for r in manifest if r["path"].endswith("city.txt"))]["identities"] == "hold"
    pdf_page = (out / "review" / rows[next(p for p in rows if p.endswith("broken.pdf"))]["link"]).read_bytes()
    assert b"data:image/png;base64," in pdf_page and len(pdf_page) < 400_000


def test_no_review_and_resume(tmp_path):
    archive = small_archive(tmp_path / "archive")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["batch", str(archive), "-o", str(out), "-j", "1", "-q", "--no-review"])
    assert result.exit_code == 1, result.output  # the empty file fails
    assert not (out / "review").exists()
    shutil.rmtree(out)
    run_batch([str(archive / "a")], out, jobs=1)
    assert len(index_rows(out)) == 2
    run_batch([str(archive)], out, jobs=1, resume=True)  # the two kept, the rest converted
    rows = index_rows(out)
    assert len(rows) == 5 and all((out / "review" / r["link"]).is_file() for r in rows.values() if r["link"])


def test_index_shows_the_manifests_organ_and_identities(tmp_path):
    """The Organ column is the manifest's organ (filled when the batch is
    paired), the Identities column its ``identities``: ``not_checked`` for a
    pre-2019 report and an unfilled template, never "hold"."""
    from .batch_helpers import synth
    from .test_dataset import _NUMBER_LINE, _pre2019_text

    s = synth()
    root = tmp_path / "archive"
    write(root / "blank.txt", _NUMBER_LINE.sub("\t", s.variant("v2021_city", agency="示例市水务局", year=2024)))
    write(root / "pre.txt", _pre2019_text())
    write(root / "organ" / "2023.txt", s.variant("v2021_city", agency="示例区人民政府", year=2023))
    write(root / "organ" / "2024.txt", s.variant("v2021_city", agency="样本市示例区人民政府", year=2024, scale=2))
    out = tmp_path / "out"
    run_batch([str(root)], out, jobs=1)
    manifest = {r["path"]: r for r in read_csv(out / "manifest.csv")}
    tree = lxml_html.fromstring((out / "review" / "index.html").read_bytes())
    seen = {}
    for tr in tree.xpath("//table[@id='reports']/tbody/tr"):
        tds = tr.xpath("./td")
        seen[tds[0].xpath("string(.//a | .//span[@class='name'])")] = (tds[1].text_content(), tds[5].text_content())
    assert set(seen) == set(manifest)
    for path, m in manifest.items():
        assert seen[path] == (m["organ"], m["identities"]), path
    by_name = {p.rsplit("/", 1)[-1] if "organ" not in p else p[p.index("organ"):]: v for p, v in seen.items()}
    assert by_name["blank.txt"][1] == by_name["pre.txt"][1] == "not_checked"
    assert by_name["organ/2023.txt"] == by_name["organ/2024.txt"] == ("样本市示例区人民政府", "hold")
