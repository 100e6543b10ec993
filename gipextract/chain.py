"""The heaviest order-preserving chain: the matching rule shared by
:mod:`~gipextract.locate` (headings → sections) and
:mod:`~gipextract.reconstruct` (template rows → printed rows).

Given candidate pairs ``(a, b, weight)`` — "item *a* of one sequence may
match item *b* of the other, this well" — choose the subset that is strictly
increasing in both ``a`` and ``b`` and has the greatest total weight.  Order
is what makes a fuzzy match safe: a label can only match where the template
expects it.  O(P²) in the number of candidates P (a few dozen here).
"""

from __future__ import annotations


def heaviest_chain(cands: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """The chain of ``cands`` strictly increasing in both coordinates with the
    greatest total weight; ties go to the chain using earlier items.

    :param cands: ``(a, b, weight)`` triples, weight > 0, in any order.
    :returns: the chosen triples, sorted by ``a``.
    """
    order = sorted(cands, key=lambda c: (c[0], c[1]))
    best: list[float] = []
    prev: list[int] = []
    for i, (a, b, w) in enumerate(order):
        top, link = w, -1
        for j in range(i):
            if order[j][0] < a and order[j][1] < b and best[j] + w > top + 1e-12:
                top, link = best[j] + w, j
        best.append(top)
        prev.append(link)
    if not order:
        return []
    i = max(range(len(order)), key=lambda k: (best[k], -k))
    chain = []
    while i >= 0:
        chain.append(order[i])
        i = prev[i]
    return chain[::-1]
