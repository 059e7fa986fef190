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
    count = np.bincount(row, minlength=rows)
    end = np.cumsum(count)  # one past each row's last candidate
    start = end - count
    running = np.empty(weight.size + 1)
    running[0] = 0.0
    np.cumsum(weight, out=running[1:])  # running[k]: the weight before candidate k
    base, top = running[start], running[end]
    total = top - base
    k = running.searchsorted(base + draw * total, side="right") - 1  # the candidate whose stretch holds the draw
    if not col.size:
        return np.full(rows, width - 1), total
    hit = (total > 0) & (k < end)  # a row without candidates has a total of exactly 0
    return np.where(hit, col[np.minimum(np.maximum(k, 0), col.size - 1)], width - 1), total
