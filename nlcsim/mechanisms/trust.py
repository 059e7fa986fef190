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

from ..jit import njit
from .partners import Interactions

BUILD_BY_TYPE = np.array([0.25, 0.25, 0.5, 1.0])
MIN_TRUST = 0.03


def record_use(model, inter: Interactions, ends: tuple[np.ndarray, np.ndarray] | None = None) -> None:
    """Mark the ties used this week and the type of collaboration on them.

    ``ends``: the flat cells (row x degree + slot) of the i and the j ends,
    when the caller has them already.
    """
    st = model.state
    if ends is None:
        ends = (inter.i * st.degree + inter.slot_i, inter.j * st.degree + inter.slot_j)
    last_used, last_type = st.last_used.reshape(-1), st.last_type.reshape(-1)
    for cells in ends:
        last_used[cells] = model.week
        last_type[cells] = inter.kind


def update_trust(model, inter: Interactions) -> None:
    st, sc = model.state, model.scenario
    d = st.degree
    flat = st.trust.reshape(-1)
    if inter.size:
        # Flat cells (row x degree + slot) of both ends of each tie used.
        key_i, key_j = inter.i * d + inter.slot_i, inter.j * d + inter.slot_j
        t = flat.take(key_i)
        # (build_rate x BUILD_BY_TYPE)[kind] is build_rate x BUILD_BY_TYPE[kind], to the bit.
        delta = np.where(inter.conflict, -sc.trust.erosion_rate * t,
                         (sc.trust.build_rate * BUILD_BY_TYPE).take(inter.kind) * (1 - t))
        # Accumulate on one end of each tie and copy to the other, so both
        # ends stay exactly equal whatever order a tie's interactions come in.
        one, other = np.minimum(key_i, key_j), np.maximum(key_i, key_j)
        np.add.at(flat, one, delta)
        t = flat.take(one).clip(0.0, 1.0)
        flat[one] = t
        flat[other] = t
        record_use(model, inter, (key_i, key_j))
    gone = _decay(st.trust, st.nbr, st.school, st.school_trust, st.last_used, model.week, sc.trust.decay_rate)
    if gone.size:
        rows = gone // d
        st.remove_ties(rows, gone - rows * d)


@njit
def _decay(trust, nbr, school, school_trust, last_used, week, rate):
    """Decay of the ties not used this week toward the same-school floor, tie end by tie
    end in row order; returns the flat cells (row x degree + slot) of the ties that
    fell below ``MIN_TRUST``.  A row without a school reads school 0's trust."""
    rows, degree = nbr.shape
    gone = np.empty(nbr.size, dtype=np.int64)
    n = 0
    for r in range(rows):
        own = school[r]
        floor_of_own = school_trust[min(max(own, 0), school_trust.size - 1)]
        for s in range(degree):
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
