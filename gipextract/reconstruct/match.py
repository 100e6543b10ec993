"""Reconstruct, steps 2–3: the version a table's labels mark (template-spec
§8) and the matching of template rows to segments by label (§7.2 fuzzy
labels, §7.3).  See :mod:`gipextract.reconstruct` for the whole stage.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..chain import heaviest_chain
from ..normalize import label_core, label_key, numbering, similarity
from ..templates import (
    VERSIONS,
    TableTemplate,
    get_template,
    settings,
)
from .segment import Segment

_ALL_BLANK_WEIGHT = 0.9


# -- label matching ---------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Target:
    row: int
    key: str
    core: str
    number: str | None


def _targets(tt: TableTemplate) -> tuple[dict[str, list[int]], dict[str, list[int]], tuple[_Target, ...]]:
    if "targets" not in tt._memo:
        tt._memo["targets"] = _build_targets(tt)
    return tt._memo["targets"]


def _build_targets(tt: TableTemplate) -> tuple[dict[str, list[int]], dict[str, list[int]], tuple[_Target, ...]]:
    by_key: dict[str, list[int]] = {}
    by_core: dict[str, list[int]] = {}
    targets = []
    for i, r in enumerate(tt.rows):
        for text in (r.label, *r.aliases):
            t = _Target(i, label_key(text), label_core(text), numbering(text))
            targets.append(t)
            by_key.setdefault(t.key, []).append(i)
            if len(t.core) >= 2:
                by_core.setdefault(t.core, []).append(i)
    return by_key, by_core, tuple(targets)


def _candidates(seg: Segment) -> list[str]:
    texts = [seg.labels[-1]]
    if len(seg.labels) > 1:
        texts.append("".join(seg.labels))
    if seg.prefix:
        texts.append(seg.prefix + "".join(seg.labels))
    return texts


def match_scores(tt: TableTemplate, seg: Segment) -> dict[int, float]:
    """Similarity of ``seg``'s label to each template row it could be, keeping
    only scores at or above the fuzzy threshold: 1.0 exact (or an alias),
    0.95 equal without numbering and notes, else the LCS ratio of the cores
    (halved when both labels are numbered and the numbers differ)."""
    if not seg.labels:
        return {}
    by_key, by_core, targets = _targets(tt)
    scores: dict[int, float] = {}
    for text in _candidates(seg):
        for i in by_key.get(label_key(text), ()):
            scores[i] = 1.0
        for i in by_core.get(label_core(text), ()):
            scores.setdefault(i, 0.95)
    if scores:
        return scores
    threshold = settings().get("fuzzy_threshold", 0.75)
    for text in _candidates(seg):
        core, num = label_core(text), numbering(text)
        if len(core) < 2:
            continue
        for t in targets:
            if not t.core or 2 * min(len(core), len(t.core)) < threshold * (len(core) + len(t.core)):
                continue
            s = similarity(core, t.core)
            if num and t.number and num != t.number:
                s *= 0.5
            if s >= threshold and s > scores.get(t.row, 0.0):
                scores[t.row] = s
    return scores


def align(tt: TableTemplate, segs: list[Segment]) -> dict[int, int]:
    """Template row index → segment index: the order-preserving matching of
    rows to labelled segments with values that maximises the summed
    similarity (:func:`gipextract.chain.heaviest_chain`).  A segment whose
    values are all empty weighs a little less, so a filled row wins a tie."""
    cands = []
    for j, seg in enumerate(segs):
        if seg.values and seg.labels:
            weight = 1.0 if seg.filled else _ALL_BLANK_WEIGHT
            cands += [(i, j, s * weight) for i, s in match_scores(tt, seg).items()]
    return {i: j for i, j, _ in heaviest_chain(cands)}


def _out_of_order(tt: TableTemplate, segs: list[Segment], matched: dict[int, int]) -> dict[int, int]:
    """Rows the report printed out of the template's order (a converter that
    moved a table's first rows to its end): an unmatched template row whose
    label, exactly or by an alias, is the label of one unmatched segment with
    values, and of no other row.  Order protects fuzzy matches; an exact,
    unique label needs no such protection."""
    by_key = _targets(tt)[0]
    taken = set(matched.values())
    found: dict[int, list[int]] = {}
    for j, seg in enumerate(segs):
        if j in taken or not seg.labels or not seg.filled:
            continue
        rows = {i for text in _candidates(seg) for i in by_key.get(label_key(text), ())}
        if len(rows) == 1 and (i := rows.pop()) not in matched:
            found.setdefault(i, []).append(j)
    return {i: js[0] for i, js in found.items() if len(js) == 1}


# -- version detection (spec §8) --------------------------------------------

def detect_version(name: str, segs: list[Segment]) -> str | None:
    """The version whose markers ``segs`` carry (spec §8 rules 1–2), or ``None``
    when there are none or both versions score the same."""
    # every label key once, and each row's labels joined, in one searchable string
    blob = "\x00".join(label_key(t) for s in segs for t in (*s.labels, "".join(s.labels)))
    leaves = {label_core(s.labels[-1]) for s in segs if s.labels and s.filled}
    votes = {}
    for v in VERSIONS:
        tt = get_template(v).tables[name]
        votes[v] = sum(label_key(m) in blob for m in tt.markers) + sum(label_core(m) in leaves for m in tt.leaf_markers)
    top = max(votes.values())
    winners = [v for v, n in votes.items() if n == top]
    return winners[0] if top and len(winners) == 1 else None
