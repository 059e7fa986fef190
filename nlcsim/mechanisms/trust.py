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

from .partners import Interactions

BUILD_BY_TYPE = np.array([0.25, 0.25, 0.5, 1.0])
MIN_TRUST = 0.03


def record_use(model, inter: Interactions) -> None:
    """Mark the ties used this week and the type of collaboration on them."""
    st = model.state
    for rows, slots in ((inter.i, inter.slot_i), (inter.j, inter.slot_j)):
        st.last_used[rows, slots] = model.week
        st.last_type[rows, slots] = inter.kind


def update_trust(model, inter: Interactions) -> None:
    st, sc = model.state, model.scenario
    if inter.size:
        i, si, j, sj = inter.i, inter.slot_i, inter.j, inter.slot_j
        t = st.trust[i, si]
        delta = np.where(inter.conflict, -sc.trust.erosion_rate * t,
                         sc.trust.build_rate * BUILD_BY_TYPE[inter.kind] * (1 - t))
        # Accumulate on one end of each tie and copy to the other, so both
        # ends stay exactly equal whatever order a tie's interactions come in.
        key_i, key_j = i * st.degree + si, j * st.degree + sj
        one, other = np.minimum(key_i, key_j), np.maximum(key_i, key_j)
        flat = st.trust.reshape(-1)
        np.add.at(flat, one, delta)
        flat[one] = flat[one].clip(0.0, 1.0)
        flat[other] = flat[one]
    record_use(model, inter)
    # Work on the tie ends only (a few of the slots), in row order.
    tie = (st.nbr.reshape(-1) >= 0).nonzero()[0]
    r = tie // st.degree
    t = st.trust.reshape(-1)[tie]
    own = st.school[r]
    floor = np.where(st.school[st.nbr.reshape(-1)[tie]] == own, st.school_trust[np.maximum(own, 0)], 0.0)
    t = np.where(st.last_used.reshape(-1)[tie] < model.week, t - sc.trust.decay_rate * (t - np.minimum(floor, t)), t)
    np.put(st.trust, tie, t)
    gone = t < MIN_TRUST
    st.remove_ties(r[gone], tie[gone] - r[gone] * st.degree)
