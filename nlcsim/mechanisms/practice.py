"""Practice change: classroom practice moves toward what a teacher knows deeply.

A teacher's target practice rises with the focus-relevant knowledge they hold
deeply or profoundly (shallow knowledge counts for nothing, seed 004):

    strength = sum over items of w(depth) x relevance,  w = (0, 0, 1, 1.6)
    target   = 1 - (1 - base) x exp(-0.35 x strength)

Practice moves toward the target at a rate that grows with capacity building
and support and with time (seed 000 "Building capacity and support"; Frank
et al. 2011: time to experiment).  The quality of enacted practice is the
relevance- and depth-weighted mean true effect of what is held deeply: it is
what pupils feel.

Influence (Friedkin-Johnsen; Frank's network-effects model): practice is also
pulled toward the practice of trusted colleagues with whom a teacher has
recently shared or done joint work.  Storytelling and aid ties carry no
influence, so a shallow interaction never changes practice.
"""

from __future__ import annotations

import numpy as np

from ..jit import in_parts, joined, njit, part_count, sum_listed, sum_plan
from ..state import DEEP, know_words, list_flagged

DEPTH_WEIGHT = np.array([0.0, 0.0, 1.0, 1.6])  # by level; levels under DEEP weigh nothing (_strength relies on it)
TIE_INFLUENCE = np.array([0.0, 0.0, 0.5, 1.0])  # by the tie's last type of collaboration
RECENT = 13  # weeks: a term


def refresh_targets(model, rows: np.ndarray) -> None:
    """Recompute target practice and enacted quality for rows whose knowledge changed."""
    st = model.state
    if rows.size == 0:
        return
    words, plan = know_words(st.know), sum_plan(st.know.shape[1])

    def part(start, stop):  # each row's strength and quality are its own
        return _strength(rows[start:stop], st.know, words, st.network, st.item_relevance, st.pub_relevance,
                         st.item_effect, st.pub_effect, st.quality, plan)

    strength = joined(in_parts(part, rows.size, least=2048))
    st.target[rows] = 1.0 - (1.0 - st.base[rows]) * np.exp(-0.35 * strength)  # NumPy's exp, as everywhere


_DEEP_BITS = np.uint64(0x0202020202020202)  # bit 1 of every byte: level 2 or 3, DEEP or PROFOUND


@njit
def _strength(rows, know, words, network, item_relevance, pub_relevance, item_effect, pub_effect, quality, plan):
    """:func:`refresh_targets` up to the exponential: each row's strength (the sum over
    its items of w(depth) x relevance) and enacted quality, both summed over the items
    in column order as NumPy sums a row.

    Only items held deeply or profoundly weigh anything (``DEPTH_WEIGHT``), and a
    teacher holds a few: they are found eight columns at a time on the words of
    ``know`` (``words``, :func:`~nlcsim.state.know_words`), and the sums are taken
    over them alone, each value added where the sum over the whole row adds it
    (:func:`~nlcsim.jit.sum_listed` with ``plan``, the row's
    :func:`~nlcsim.jit.sum_plan`).
    """
    slots, width = item_relevance.shape[1], know.shape[1]
    n_words = words.shape[1]
    cols = np.empty(width, dtype=np.int64)  # before word w at most 8w columns, so a word's eight writes fit
    wr = np.empty(width)
    we = np.empty(width)
    lanes = np.empty((plan[2].size, 8))
    node = np.empty(plan[2].size + plan[3].size)
    strength = np.empty(rows.size)
    for k in range(rows.size):
        r = rows[k]
        net = network[r]
        n = 0
        for w in range(n_words):
            mask = words[r, w] & _DEEP_BITS
            if mask:
                n = list_flagged(mask, 1, w, cols, n)
        for c in range(8 * n_words, width):
            if know[r, c] >= DEEP:
                cols[n] = c
                n += 1
        for t in range(n):  # the network's own items, then the public ones
            c = cols[t]
            if c < slots:
                relevance, effect = item_relevance[net, c], item_effect[net, c]
            else:
                relevance, effect = pub_relevance[c - slots], pub_effect[c - slots]
            wr[t] = DEPTH_WEIGHT[know[r, c]] * relevance
            we[t] = wr[t] * effect
        total = sum_listed(cols, wr, n, plan, lanes, node)
        strength[k] = total
        quality[r] = sum_listed(cols, we, n, plan, lanes, node) / max(total, 1e-12) if total > 0 else 0.0
    return strength


def enact(model) -> None:
    """Move practice toward its target (slowly downward if knowledge was lost)."""
    st, sc = model.state, model.scenario
    _enact(st.practice, st.target, st.time, st.alive, 0.03 * (0.5 + sc.capacity.support))


@njit
def _enact(practice, target, time, alive, speed):
    """:func:`enact` row by row: rate = speed x (0.4 + 0.6 time); practice clipped to 0-1."""
    for r in range(practice.size):
        rate = speed * (0.4 + 0.6 * time[r])
        gap = target[r] - practice[r]
        step = rate * gap if gap > 0 else 0.2 * rate * gap
        practice[r] = min(max(practice[r] + (step if alive[r] else 0.0), 0.0), 1.0)


def influence(model) -> None:
    """Friedkin-Johnsen pull toward trusted colleagues' practice over recent deep ties.

    Works on the tie ends used in the last ``RECENT`` weeks only (a few of
    the slots); a removed tie's slot has no type, so it never counts.  Every
    row's pull is read from everyone's practice before any of it moves; in a
    large population the rows' sums are taken on threads, a part of the rows
    each (:func:`~nlcsim.jit.in_parts`).
    """
    st = model.state
    since, weight = model.week - RECENT, model.influence_weight
    if part_count(st.rows) == 1:  # one compiled call
        _influence(st.practice, st.engagement, st.alive, st.nbr, st.fill, st.trust, st.last_used, st.last_type,
                   since, weight)
        return
    parts = in_parts(lambda start, stop: _pulls(st.practice, st.nbr, st.fill, st.trust, st.last_used, st.last_type,
                                                since, start, stop), st.rows)
    if any(counted for _, _, counted in parts):
        total, pull = joined([part[:2] for part in parts])
        _pull_toward(st.practice, st.engagement, st.alive, total, pull, weight)


@njit
def _influence(practice, engagement, alive, nbr, fill, trust, last_used, last_type, since, weight):
    """:func:`influence` in one thread: the sums, then the pull; nothing moves if no tie end counts."""
    total, pull, counted = _pulls(practice, nbr, fill, trust, last_used, last_type, since, 0, nbr.shape[0])
    if counted:
        _pull_toward(practice, engagement, alive, total, pull, weight)


@njit
def _pulls(practice, nbr, fill, trust, last_used, last_type, since, start, stop):
    """Rows ``start`` to ``stop``'s trust- and type-weighted sums over their deep tie ends
    used since week ``since``, in slot order, and whether any tie end counts.

    Every slot within a row's fill is added, a slot that does not count with weight
    zero: adding 0.0 leaves a sum of non-negative terms as it was, to the bit, and a
    branch on whether a tie end counts, which goes either way, cost more than the
    work.  A slot that does not count may be empty (-1) or hold no type (-1): it
    reads the last row's practice or the last weight, finite values it multiplies
    by zero.
    """
    total = np.empty(stop - start)
    pull = np.empty(stop - start)
    counted = False
    for r in range(start, stop):
        row_total = row_pull = 0.0
        for s in range(fill[r]):  # the slots beyond a row's fill are empty
            kind = last_type[r, s]
            counts = (last_used[r, s] >= since) & (kind >= 2)
            w = trust[r, s] * TIE_INFLUENCE[kind] * np.float64(counts)
            row_total += w
            row_pull += w * practice[nbr[r, s]]
            counted |= counts
        total[r - start], pull[r - start] = row_total, row_pull
    return total, pull, counted


@njit
def _pull_toward(practice, engagement, alive, total, pull, weight):
    """Each row's practice pulled toward its sums' mean, clipped to 0-1."""
    for r in range(practice.size):
        mean = pull[r] / max(total[r], 1e-12)
        alpha = weight * engagement[r] * (1.0 if total[r] > 0 else 0.0) * (1.0 if alive[r] else 0.0)
        practice[r] = min(max(practice[r] + alpha * (mean - practice[r]), 0.0), 1.0)
