"""The Markdown reader: pipe tables, headings, and line-form rows."""

import pytest

from gipextract.document import Paragraph, Source, TableBlock
from gipextract.readers import detect_format
from gipextract.readers.markdown import looks_like_markdown, read_markdown


def read(text: str):
    return read_markdown(text.encode("utf-8"), Source("<md>", "markdown", ""))


def test_pipe_tables_headings_and_paragraphs():
    doc = read("# 示例局2024年政府信息公开工作年度报告\n\n## 二、主动公开政府信息情况\n\n"
               "| 信息内容 | 本年制发件数 | 本年废止件数 | 现行有效件数 |\n|---|---|---|---|\n"
               "| 规章 | 0 | 0 | 4 |\n| 行政规范性文件 |  | 3<br>件 | 58 |\n\n正文。\n")
    kinds = [type(b).__name__ for b in doc.blocks]
    assert kinds == ["Paragraph", "Paragraph", "TableBlock", "Paragraph"]
    assert doc.blocks[1].text == "二、主动公开政府信息情况"
    table = doc.blocks[2]
    assert [[c.text for c in r] for r in table.rows] == [
        ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"], ["规章", "0", "0", "4"],
        ["行政规范性文件", "", "3件", "58"]]
    assert table.rows[2][0].where == "line 8"


def test_line_form_rows_become_a_table_too():
    doc = read("| a | b |\n|---|---|\n\n第二十条第（五）项\n信息内容本年处理决定数量\n行政许可 97\n行政处罚 0\n")
    tables = [b for b in doc.blocks if isinstance(b, TableBlock)]
    assert [[c.text for c in r] for r in tables[-1].rows][-2:] == [["行政许可", "97"], ["行政处罚", "0"]]


@pytest.mark.parametrize("text, expected", [
    ("| a | b |\n|---|---|\n| 1 | 2 |\n", True),
    ("|:---:|---|\n| a | b |\n| 1 | 2 |\n", True),
    ("| a | b |\n| 1 | 2 |\n", False),          # no separator row: not a pipe table
    ("一、总体情况\n正文 | 其他\n", False),
])
def test_detection(text, expected):
    assert looks_like_markdown(text) is expected
    assert (detect_format(text.encode("utf-8"), "x.txt") == "markdown") is expected


def test_gbk_markdown_is_detected_and_decoded():
    text = "## 二、主动公开政府信息情况\n| 规章 | 0 | 0 | 4 |\n|---|---|---|---|\n| 行政规范性文件 | 1 | 0 | 9 |\n"
    data = text.encode("gbk")
    assert detect_format(data, "x.md") == "markdown"
    doc = read_markdown(data, Source("<md>", "markdown", ""))
    assert doc.source.encoding == "gb18030" and doc.blocks[0] == Paragraph("二、主动公开政府信息情况", where="line 1")
