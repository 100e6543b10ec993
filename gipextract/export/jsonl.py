"""JSON Lines export: one JSON object per tidy cell (Chinese kept as is).

Each line has the keys of :data:`gipextract.report.TIDY_COLUMNS`; ``value`` is
the number as printed (an integer for counts, a float for money with a
fraction) or ``null`` (see ``flag``), ``year`` an integer or ``null``.  A
report without tables gives no lines.
"""

from __future__ import annotations

import json

from ..report import TIDY_COLUMNS, Report


def cells_jsonl(report: Report) -> str:
    """The tidy cells of ``report`` as JSON Lines text (module docstring),
    each line ending in ``\\n``."""
    return "".join(json.dumps(dict(zip(TIDY_COLUMNS, row)), ensure_ascii=False) + "\n"
                   for row in report.tidy_rows())
