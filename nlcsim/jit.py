"""Compiled loops: the model's phases, and the sums they share.

Most phases are loops compiled by numba over the model's arrays.  They run
the same arithmetic, in the same order, as the array code they replace, so
results stay bit-identical (tests/test_pinned_outcomes.py).  No ``fastmath``:
it would let the compiler reorder sums.

Loops are compiled once per machine and their machine code cached on disk.
numba checks a cached loop against its own source file only, but a loop that
calls a loop of another module, or reads its constants, carries that code in
its own; so the cache is kept in a folder named after the digest of the
model's source (:func:`nlcsim.provenance.model_source`, which covers every
module that holds compiled loops: :func:`cache_dir`), and an edit anywhere
starts a fresh one.

A few loops whose work splits into independent parts (the exchanges' draws,
block by block; practice targets, row by row; the listing of candidate
partners, initiator by initiator) run their parts on threads
where the work is large (:func:`in_parts`): the loops release the GIL, each
part writes only its own results, and the parts are put together in order,
so results are the same to the bit whatever the number of threads.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numba
import numpy as np

from .errors import UserError
from .provenance import model_source

SOURCE = Path(__file__).resolve().parent
STALE_DAYS = 1  # cache folders of other sources, unused for this long, are removed


def cache_dir() -> Path:
    """Where the compiled loops are cached: ``numba-<digest>`` in ``NUMBA_CACHE_DIR`` if it
    is set, else in the package's ``__pycache__`` (or ``~/.cache/nlcsim`` where the package
    cannot be written to).  Folders of other sources not used for ``STALE_DAYS`` go."""
    base = os.environ.get("NUMBA_CACHE_DIR")
    if base:
        base = Path(base)
    elif os.access(SOURCE, os.W_OK):
        base = SOURCE / "__pycache__"
    else:
        base = Path.home() / ".cache" / "nlcsim"
    here = base / f"numba-{model_source()}"
    if not here.exists() and base.is_dir():
        for old in base.glob("numba-*"):
            try:
                if old.is_dir() and time.time() - old.stat().st_mtime > STALE_DAYS * 86400:
                    shutil.rmtree(old, ignore_errors=True)
            except OSError:
                pass
    return here


CACHE_DIR = str(cache_dir())
_compile = numba.njit(cache=True, nogil=True, error_model="numpy")


def njit(func):
    """Compile ``func`` (at its first call) and cache its machine code in :data:`CACHE_DIR`."""
    saved = numba.config.CACHE_DIR
    numba.config.CACHE_DIR = CACHE_DIR  # read when the function's cache is set up, that is now
    try:
        return _compile(func)
    finally:
        numba.config.CACHE_DIR = saved


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


@functools.lru_cache(maxsize=16)
def sum_plan(count: int) -> tuple:
    """Where each of ``count`` values falls in :func:`pairwise_sum`'s order of
    additions, for :func:`sum_listed`: each value's run (leaf) and its place in
    the run (lane 0-7 of the eight interleaved partial sums, or 8 where it is
    added in order: the tail of a run, or a run under 8), whether each run
    keeps partial sums, and how the runs' sums are put together (node
    ``runs + i`` is node ``left[i]`` plus node ``right[i]``; the last node is
    the sum)."""
    run_of = np.empty(count, dtype=np.int64)
    lane_of = np.empty(count, dtype=np.int64)
    lanes, left, right = [], [], []

    def split(start, n):  # the node that sums values[start:start + n]: ("run", k) or ("node", k)
        if n <= 128:
            lanes.append(n >= 8)
            whole = n - n % 8 if n >= 8 else 0
            run_of[start:start + n] = len(lanes) - 1
            lane_of[start:start + n] = np.where(np.arange(n) < whole, np.arange(n) % 8, 8)
            return ("run", len(lanes) - 1)
        half = n // 2
        half -= half % 8
        a, b = split(start, half), split(start + half, n - half)
        left.append(a)
        right.append(b)
        return ("node", len(left) - 1)

    split(0, count)
    runs = len(lanes)

    def index(node):
        return node[1] if node[0] == "run" else runs + node[1]

    return (run_of, lane_of, np.array(lanes, dtype=np.bool_), np.array([index(a) for a in left], dtype=np.int64),
            np.array([index(b) for b in right], dtype=np.int64))


@njit
def sum_listed(cols, values, n, plan, lanes, node):
    """``pairwise_sum(dense, 0, count)`` of the vector that holds ``values[t]`` at
    column ``cols[t]`` (``t < n``, columns in ascending order) and zero elsewhere,
    to the bit, from the listed values only: each is added where the dense sum
    adds it (``plan`` = :func:`sum_plan` of ``count``), and the zeros, whose
    additions change nothing, are passed over.  Only a sum that comes to zero
    may differ, in its sign.  ``lanes`` (runs x 8) and ``node`` (runs + joins)
    are scratch space.
    """
    run_of, lane_of, has_lanes, left, right = plan
    runs = has_lanes.size
    for k in range(runs):
        for q in range(8):
            lanes[k, q] = 0.0
    for t in range(n):
        q = lane_of[cols[t]]
        if q < 8:
            lanes[run_of[cols[t]], q] += values[t]
    for k in range(runs):
        if has_lanes[k]:
            node[k] = ((lanes[k, 0] + lanes[k, 1]) + (lanes[k, 2] + lanes[k, 3])) + \
                      ((lanes[k, 4] + lanes[k, 5]) + (lanes[k, 6] + lanes[k, 7]))
        else:
            node[k] = 0.0
    for t in range(n):  # the values added in order, after their run's partial sums
        if lane_of[cols[t]] == 8:
            node[run_of[cols[t]]] += values[t]
    for i in range(left.size):
        node[runs + i] = node[left[i]] + node[right[i]]
    return node[runs + left.size - 1] if left.size else node[0]


@njit
def mean_of(values, count):
    """The mean of ``values[:count]`` as ``values[:count].mean()`` gives it, to the bit (0.0 if empty)."""
    if count == 0:
        return 0.0
    return (0.0 + pairwise_sum(values, 0, count)) / count


def nothing_cached() -> bool:
    """True where none of the compiled loops of the package's modules imported so far
    has machine code cached yet: a new machine (or new source), where the first run
    compiles them all.  False where numba's cache cannot be read this way."""
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


# -- threads for large phases ------------------------------------------------------------
THREADS_VARIABLE = "NLCSIM_THREADS"
_local = threading.local()  # this thread's limit (threads_at_most)
_pool: dict = {}  # the threads of this process: {"pid", "size", "executor"}


def thread_count() -> int:
    """How many threads a large phase may use: ``NLCSIM_THREADS`` if it is set, else the
    CPUs this process may run on; at most the limit :func:`threads_at_most` sets."""
    text = os.environ.get(THREADS_VARIABLE, "").strip()
    if text:
        try:
            count = int(text)
        except ValueError:
            count = 0
        if count < 1:
            raise UserError(f"{THREADS_VARIABLE}={text!r}: give a whole number of threads, 1 or more")
    else:
        count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    limit = getattr(_local, "limit", None)
    return count if limit is None else min(count, limit)


@contextlib.contextmanager
def threads_at_most(count: int):
    """Within this block, phases run in this thread use at most ``count`` threads (a
    sweep, which runs many models side by side, runs each in one)."""
    before = getattr(_local, "limit", None)
    limit_threads(count)
    try:
        yield
    finally:
        _local.limit = before


def limit_threads(count: int | None) -> None:
    """From now on, phases run in this thread use at most ``count`` threads (None: no
    limit); the initializer of worker processes that run models side by side."""
    _local.limit = count


PARTS_FROM = 4096  # items (rows, exchanges) from which a phase runs in parts


def part_count(n: int, block: int = 1, least: int = PARTS_FROM) -> int:
    """Into how many parts :func:`in_parts` cuts ``n`` items: one below ``least`` items or
    with one thread to use, else one per thread, but no part under ``least // 2`` items
    and no more parts than blocks.  A phase with a one-call compiled path takes it where
    this is 1."""
    if n < least:
        return 1
    return max(min(thread_count(), n // max(least // 2, 1), -(-n // block)), 1)


def in_parts(work, n: int, block: int = 1, least: int = PARTS_FROM) -> list:
    """``work(start, stop)`` over ``range(n)``, the results of its parts in order.

    With at least ``least`` items and more than one thread to use
    (:func:`thread_count`), the range is cut into one contiguous part per
    thread (but no part under ``least // 2`` items, so that a machine with many
    cores does not spend more on handing parts out than it saves), each
    starting on a whole ``block``, and the parts run on threads; otherwise
    ``work(0, n)`` runs here.  ``work`` must be a compiled loop that releases
    the GIL and writes nothing another part reads.
    """
    count = part_count(n, block, least)
    if count <= 1:
        return [work(0, n)]
    blocks = -(-n // block)
    cuts = [min(n, (blocks * k // count) * block) for k in range(count + 1)]
    executor = _executor(count)
    futures = [executor.submit(work, cuts[k], cuts[k + 1]) for k in range(1, count)]
    first = work(cuts[0], cuts[1])  # the first part in this thread
    return [first] + [f.result() for f in futures]


def joined(parts: list):
    """:func:`in_parts`' results put together in order: one array, or a tuple of arrays
    where each part gives a tuple (a single part as it is, without a copy)."""
    if len(parts) == 1:
        return parts[0]
    if isinstance(parts[0], tuple):
        return tuple(np.concatenate(column) for column in zip(*parts))
    return np.concatenate(parts)


def _executor(count: int) -> ThreadPoolExecutor:
    """This process's threads, at least ``count - 1`` of them (the caller runs one part
    itself); made anew in a process forked from one that had them."""
    pid = os.getpid()
    if _pool.get("pid") != pid or _pool["size"] < count - 1:
        _pool.update(pid=pid, size=count - 1,
                     executor=ThreadPoolExecutor(max_workers=count - 1, thread_name_prefix="nlcsim"))
    return _pool["executor"]
