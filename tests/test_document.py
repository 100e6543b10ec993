"""The format-neutral document model."""

from gipextract.document import Cell, TableBlock


def test_columns_and_grid_follow_the_spans():
    t = TableBlock([
        [Cell("a", rowspan=2), Cell("b", colspan=2)],
        [Cell("c"), Cell("d")],
        [Cell("e", colspan=3)],
    ])
    assert t.columns() == [[0, 1], [1, 2], [0]]
    assert t.grid() == [["a", "b", None], [None, "c", "d"], ["e", None, None]]
