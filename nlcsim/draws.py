"""Weighted draws of one column per row, over the few columns that can be drawn.

Several phases draw, for each of many rows (initiating teachers, exchanges),
one column (a tie slot, an item) with chance proportional to a weight
(STYLE.md, "per-row cumulative weights").  Most of a row's weights are zero
(a teacher has a few ties among the slots; a source knows a few items
better than its partner), so :func:`draw_columns` works on the non-zero
candidates only: one running sum over the candidates of every row, in row
order, and for each row a binary search for its scaled draw inside its own
stretch of that sum.  The cost follows the number of candidates, in a
handful of array operations whatever the number of rows.
"""

from __future__ import annotations

import numpy as np


def draw_columns(row: np.ndarray, col: np.ndarray, weight: np.ndarray, rows: int, width: int,
                 draw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One column per row, drawn with chance proportional to its weight.

    ``row``, ``col``, ``weight``: the candidates, sorted by row (as
    ``np.nonzero`` gives them); ``draw``: one uniform number per row.
    Returns the chosen column of each row and the row's total weight.  A row
    with no weight (or whose draw lands past its last candidate by rounding)
    gets column ``width - 1``; callers test the total.

    Callers keep the candidates of one call to a few hundred thousand, so
    that the running sum stays within a few orders of magnitude of one row's
    weights and each row's stretch of it keeps its precision.
    """
    if not col.size:  # no candidates: every row's total is 0.0 (as the running sum would give)
        return np.full(rows, width - 1), np.zeros(rows)
    # bounds[i] and bounds[i + 1]: where row i's candidates start and end (one past its last).
    bounds = np.zeros(rows + 1, dtype=np.intp)
    # np.add.accumulate is what np.cumsum runs (a plain running sum, element by element),
    # called without cumsum's Python-level wrapper.
    np.add.accumulate(np.bincount(row, minlength=rows), out=bounds[1:])
    running = np.empty(weight.size + 1)
    running[0] = 0.0
    np.add.accumulate(weight, out=running[1:])  # running[k]: the weight before candidate k
    edges = running.take(bounds)  # the running sum at each row's start (and at the last row's end)
    base, top = edges[:-1], edges[1:]
    total = top - base
    k = running.searchsorted(base + draw * total, side="right") - 1  # the candidate whose stretch holds the draw
    hit = (total > 0) & (k < bounds[1:])  # a row without candidates has a total of exactly 0
    # mode="clip" keeps k within the candidates (k is clipped to 0 .. col.size - 1) for the rows not hit.
    return np.where(hit, col.take(k, mode="clip"), width - 1), total
