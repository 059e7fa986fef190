"""Weighted draws of one column per row, over the few columns that can be drawn.

Several phases draw, for each of many rows (initiating teachers, exchanges),
one column (a tie slot, an item) with chance proportional to a weight: the
running sums of the row's weights are compared with a uniform draw scaled
by the row's total, ``np.cumsum(weights, axis=1)`` and
``(cum <= u[:, None]).sum(axis=1)`` (STYLE.md, "per-row cumulative weights").

Most of a row's weights are zero (a teacher has a few ties among the slots;
a source knows a few items better than its partner).  :func:`draw_columns`
gives, to the last bit, the draw of those full running sums, working on the
non-zero candidates only: adding zeros leaves a running sum unchanged, so
the sums over the candidates, in column order, are the same numbers.
"""

from __future__ import annotations

import numpy as np


def draw_columns(row: np.ndarray, col: np.ndarray, weight: np.ndarray, rows: int, width: int,
                 draw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One column per row, drawn with chance proportional to its weight.

    ``row``, ``col``, ``weight``: the candidates, sorted by row then column
    (as ``np.nonzero`` gives them); ``draw``: one uniform number per row.
    Returns the chosen column of each row and the row's total weight.  As
    with the full running sums, a row whose sums never exceed its scaled
    draw (no weight, or rounding at the top) gets column ``width - 1``.
    """
    count = np.bincount(row, minlength=rows)
    first = np.cumsum(count) - count
    cum = np.zeros((max(int(count.max(initial=0)), 1), rows))  # candidate x row
    cum[np.arange(row.size) - first[row], row] = weight
    if rows < 256:
        np.cumsum(cum, axis=0, out=cum)
    else:  # the same sums in the same order, each step vectorised across rows
        for k in range(1, cum.shape[0]):
            np.add(cum[k - 1], cum[k], out=cum[k])
    total = cum[-1].copy()
    k = np.count_nonzero(cum <= draw * total, axis=0)
    chosen = np.where(k < count, col[np.minimum(first + k, max(col.size - 1, 0))] if col.size else 0, width - 1)
    return chosen, total
