"""Weighted draws of one column per row, over the few columns that can be drawn.

Several phases draw, for each of many rows (initiating teachers, exchanges),
one column (a tie slot, an item) with chance proportional to a weight
(STYLE.md, "per-row cumulative weights").  Most of a row's weights are zero
(a teacher has a few ties among the slots; a source knows a few items
better than its partner), so the callers' compiled loops gather each row's
non-zero candidates, adding each weight to the running sum as they go, and
:func:`draw_in_sums` draws among them.

The running sum is one sum over the candidates of every row in turn, started
again every ``BLOCK`` rows: a row's total is the difference of the sum at its
end and at its start, and the chosen candidate is the first whose running sum
exceeds the start plus the uniform draw times the total.  A block's few
thousand candidates keep the sum within a few orders of magnitude of one row's
weights, so that each row's stretch of it keeps its precision; and a caller
that goes through its rows in parts on threads starts each part on a whole
block, so that the draws are the same whatever the number of threads.
"""

from __future__ import annotations

from .jit import njit

BLOCK = 1024  # rows per running sum


@njit
def draw_in_sums(sums, count, start, draw):
    """One row's draw among its ``count`` candidates, given the running sums after
    each of them (``sums[:count]``, added in candidate order from ``start``, the
    running sum before the row; the caller adds each weight as it finds it).
    ``draw``: the row's uniform number.  Returns the chosen candidate (-1 where the
    row has no weight, or where by rounding no running sum exceeds the draw) and the
    row's total weight (its last running sum less ``start``).

    The chosen candidate is the first whose running sum exceeds the target
    (:func:`first_above`): weights are never negative, so the running sums never
    fall.
    """
    total = sums[count - 1] - start if count else 0.0
    if total > 0:
        pick = first_above(sums, count, start + draw * total)
        if pick < count:
            return pick, total
    return -1, total


@njit
def first_above(sums, count, target):
    """The first of ``sums[:count]`` (running sums, which never fall) above ``target``;
    ``count`` where none is.

    Since the sums never fall, that is the number of them at or below the target.
    Counting them takes no branch; over the few hundred candidates a row has at
    most it is faster than a binary search, whose branches go either way (the
    exchange draw, 24 candidates on average at mid-run, timed in England runs
    from week 20: 3.95 ms a week against 4.24 ms, summed over two threads).
    """
    below = 0
    for k in range(count):
        below += sums[k] <= target
    return below
