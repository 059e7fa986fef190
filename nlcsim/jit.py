"""Compiled loops for the few phases that NumPy cannot do in a handful of calls.

Kernels are compiled once per machine (``cache=True`` keeps the machine code
next to the source, in ``__pycache__``) and run the same arithmetic, in the
same order, as the array code they replace, so results stay bit-identical
(tests/test_pinned_outcomes.py).  No ``fastmath``: it would let the compiler
reorder sums.
"""

from __future__ import annotations

import os
import sys

import numba
import numpy as np

njit = numba.njit(cache=True, nogil=True, error_model="numpy")


@njit
def _run_sum(values, start, count):
    """:func:`pairwise_sum` of a run of at most 128 values: fewer than 8 added in
    order, more in 8 interleaved partial sums."""
    if count < 8:
        total = 0.0
        for k in range(start, start + count):
            total += values[k]
        return total
    p0, p1, p2, p3 = values[start], values[start + 1], values[start + 2], values[start + 3]
    p4, p5, p6, p7 = values[start + 4], values[start + 5], values[start + 6], values[start + 7]
    k = 8
    while k < count - count % 8:
        at = start + k
        p0 += values[at]
        p1 += values[at + 1]
        p2 += values[at + 2]
        p3 += values[at + 3]
        p4 += values[at + 4]
        p5 += values[at + 5]
        p6 += values[at + 6]
        p7 += values[at + 7]
        k += 8
    total = ((p0 + p1) + (p2 + p3)) + ((p4 + p5) + (p6 + p7))
    while k < count:
        total += values[start + k]
        k += 1
    return total


@njit
def pairwise_sum(values, start, count):
    """``values[start:start + count].sum()`` as NumPy sums a contiguous float64 array,
    to the bit: runs of up to 128 values by :func:`_run_sum`, longer runs split in
    two (the first half a multiple of 8) and the halves' sums added.

    The halving is walked with a stack rather than by recursion, which cached
    compiled code does not link.
    """
    if count <= 128:
        return _run_sum(values, start, count)
    starts = np.empty(64, dtype=np.int64)
    counts = np.empty(64, dtype=np.int64)
    stage = np.zeros(64, dtype=np.int8)  # 0: first half to do, 1: second half to do, 2: both done
    sums = np.empty(64)
    top, done = 0, 0
    starts[0], counts[0] = start, count
    while top >= 0:
        first, n = starts[top], counts[top]
        if n <= 128:
            sums[done] = _run_sum(values, first, n)
            done += 1
            top -= 1
            continue
        half = n // 2
        half -= half % 8
        if stage[top] == 2:
            sums[done - 2] = sums[done - 2] + sums[done - 1]
            done -= 1
            top -= 1
            continue
        stage[top] += 1
        part_start, part_count = (first, half) if stage[top] == 1 else (first + half, n - half)
        top += 1
        starts[top], counts[top], stage[top] = part_start, part_count, 0
    return sums[0]


@njit
def mean_of(values, count):
    """The mean of ``values[:count]`` as ``values[:count].mean()`` gives it, to the bit (0.0 if empty)."""
    if count == 0:
        return 0.0
    return (0.0 + pairwise_sum(values, 0, count)) / count


def nothing_cached() -> bool:
    """True where none of the compiled loops of the package's modules imported so far
    has machine code cached on this machine: a new machine, where the first run
    compiles them all.  (Loops called only from other compiled loops are compiled
    into their callers and never cached apart, so a warm machine still lacks some.)
    False where numba's cache cannot be read this way."""
    for name, module in list(sys.modules.items()):
        if name != "nlcsim" and not name.startswith("nlcsim."):
            continue
        for obj in list(vars(module).values()):
            if isinstance(obj, numba.core.registry.CPUDispatcher) and obj.__module__ == name:
                try:
                    index = obj._cache._cache_file._index_path  # numba's own cache index for this loop
                except AttributeError:
                    return False
                if os.path.exists(index):
                    return False
    return True
