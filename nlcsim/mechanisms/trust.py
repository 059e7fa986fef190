"""Trust and tie dynamics (seed 000 "Relationships"; seed 001; MODEL-BRIEF).

* Successful joint work builds trust: trust += build_rate x (1 - trust);
  sharing builds half as much, aid and storytelling a quarter.
* An unresolved conflict erodes it: trust -= erosion_rate x trust.
* A tie not used this week decays toward its floor: trust -= decay_rate x
  (trust - floor); the floor is the school's trust culture for colleagues in
  the same school (they keep meeting) and zero across schools (Joshi, Redding
  and Cannata 2021: hub-school ties rarely outlast the funded network).
* A tie whose trust falls below 0.03 is gone.
"""

from __future__ import annotations

import numpy as np

from ..jit import in_parts, joined, njit, part_count
from ..state import remove_tie_ends
from .partners import Interactions

BUILD_BY_TYPE = np.array([0.25, 0.25, 0.5, 1.0])
MIN_TRUST = 0.03


def record_use(model, inter: Interactions) -> None:
    """Mark the ties used this week and the type of collaboration on them."""
    st = model.state
    _record_use(st.last_used, st.last_type, inter.i, inter.j, inter.slot_i, inter.slot_j, inter.kind, model.week)


@njit
def _record_use(last_used, last_type, i, j, slot_i, slot_j, kind, week):
    """:func:`record_use` at the i ends of the ties, then at the j ends.  A tie used twice
    in a week keeps, at each end, the type of the last interaction that wrote that end:
    where both partners started one with the other, the two ends can differ."""
    for ends, slots in ((i, slot_i), (j, slot_j)):
        for e in range(ends.size):
            last_used[ends[e], slots[e]] = week
            last_type[ends[e], slots[e]] = kind[e]


def update_trust(model, inter: Interactions) -> None:
    """The week's changes of trust (:func:`_update_trust`); in a large population the
    decay of unused ties is worked out on threads, a part of the rows each
    (:func:`~nlcsim.jit.in_parts`), and the ties it removes are removed in row order."""
    st, sc = model.state, model.scenario
    use = (st.trust, st.nbr, st.last_used, st.last_type, inter.i, inter.j, inter.slot_i, inter.slot_j, inter.kind,
           inter.conflict, model.week, sc.trust.build_rate * BUILD_BY_TYPE, sc.trust.erosion_rate)
    decay = (st.trust, st.nbr, st.fill, st.school, st.school_trust, st.last_used, model.week, sc.trust.decay_rate)
    if part_count(st.rows) == 1:  # one compiled call
        _update_trust(use, decay, st.rev)
        return
    _use_ties(*use)
    gone = joined(in_parts(lambda start, stop: _decay(*decay, start, stop), st.rows))
    _remove(st.nbr, st.rev, st.trust, st.last_type, gone)


@njit
def _update_trust(use, decay, rev):
    """:func:`update_trust` in one thread: each tie used this week changes by its
    interactions' changes (:func:`_use_ties`), unused ties decay (:func:`_decay`) and
    ties below ``MIN_TRUST`` are removed at both ends."""
    _use_ties(*use)
    trust, nbr = decay[0], decay[1]
    _remove(nbr, rev, trust, use[3], _decay(*decay, 0, nbr.shape[0]))


@njit
def _use_ties(trust, nbr, last_used, last_type, i, j, slot_i, slot_j, kind, conflict, week, build, erosion):
    """The ties used this week: each changes by its interactions' changes, all worked
    out from the trust before the week's first (``build``: build_rate x BUILD_BY_TYPE);
    they are added at the tie's end in the lower flat cell (row x degree + slot), in
    order, so that both ends stay exactly equal whatever order a tie's interactions
    come in, and clipped to 0-1 there and copied to the other end.  Then the ties are
    marked used (:func:`record_use`)."""
    degree = nbr.shape[1]
    n = i.size
    if n == 0:
        return
    delta = np.empty(n)
    one = np.empty(n, dtype=np.int64)
    other = np.empty(n, dtype=np.int64)
    flat = trust.reshape(-1)
    for e in range(n):
        key_i, key_j = i[e] * degree + slot_i[e], j[e] * degree + slot_j[e]
        t = flat[key_i]
        delta[e] = -erosion * t if conflict[e] else build[kind[e]] * (1 - t)
        one[e], other[e] = min(key_i, key_j), max(key_i, key_j)
    for e in range(n):
        flat[one[e]] += delta[e]
    for e in range(n):
        t = min(max(flat[one[e]], 0.0), 1.0)
        flat[one[e]] = t
        flat[other[e]] = t
    _record_use(last_used, last_type, i, j, slot_i, slot_j, kind, week)


@njit
def _remove(nbr, rev, trust, last_type, gone):
    """The ties at the flat cells ``gone`` (row x degree + slot) removed at both ends."""
    rows = gone // nbr.shape[1]
    remove_tie_ends(nbr, rev, trust, last_type, rows, gone - rows * nbr.shape[1])


@njit
def _decay(trust, nbr, fill, school, school_trust, last_used, week, rate, start, stop):
    """Decay of the ties of rows ``start`` to ``stop`` not used this week toward the
    same-school floor, tie end by tie end in row order; returns the flat cells (row x
    degree + slot) of the ties that fell below ``MIN_TRUST``.  A row without a school
    reads school 0's trust."""
    degree = nbr.shape[1]
    gone = np.empty((stop - start) * degree, dtype=np.int64)
    n = 0
    for r in range(start, stop):
        own = school[r]
        floor_of_own = school_trust[min(max(own, 0), school_trust.size - 1)]
        for s in range(fill[r]):  # the slots beyond a row's fill are empty
            mate = nbr[r, s]
            if mate < 0:
                continue
            t = trust[r, s]
            if last_used[r, s] < week:  # not used this week
                floor = floor_of_own if school[mate] == own else 0.0
                t = t - rate * (t - min(floor, t))
                trust[r, s] = t
            if t < MIN_TRUST:
                gone[n] = r * degree + s
                n += 1
    return gone[:n]
