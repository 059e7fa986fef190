"""Engagement follows perceived value against cost; schools go dormant.

Each week a teacher's felt value of collaboration is an exponential average
of what this week's interactions and learning were worth.  Engagement moves
toward

    0.15 + 0.15 clarity + 1.5 value + ownership_weight x (0.4 holds a function + 0.4 school ownership)
    + 0.25 facilitation + 0.15 external accountability - cost x (1 - time paid for)

at ``engagement.rate`` a week.  A clear, shared focus draws people in (seed
001: "networks work to the degree that they bring people together with an
idea that is attractive and engaging"; seed 003, Parker: a sense of shared
purpose).  While the programme pays release time the
cost is covered; afterwards schools carry it, softened by their own
commitment (MODEL-BRIEF; seed 001: "shared ownership ... is often more crucial
than financial resources in sustaining networks"; seed 003: funding as a
perennial problem).  A school whose members' engagement (x member share)
falls below ``engagement.dormancy`` goes dormant, and wakes at 0.1 above it.
"""

from __future__ import annotations

import numpy as np

from ..jit import njit
from ..state import ACTIVE, DORMANT, FACILITATION, LEFT

PURPOSE_PULL = 0.15  # engagement a fully clear, shared focus adds (calibrated: docs/calibration.md)


def update_engagement(model) -> None:
    st, sc = model.state, model.scenario
    e = sc.engagement
    _update_engagement(st.value, model.week_value, st.engagement, st.alive, st.school, st.network, st.net_funding,
                       st.school_commitment, model.holds_function, model.ownership, model.function_effect,
                       0.15 + PURPOSE_PULL * sc.purpose.clarity, 0.15 * sc.accountability.external,
                       e.ownership, e.cost, e.rate)
    school_states(model)


@njit
def _update_engagement(value, week_value, engagement, alive, school, network, net_funding, commitment,
                       holds_function, ownership, function_effect, purpose, external, own_weight, cost, rate):
    """:func:`update_engagement` row by row: felt value, then engagement toward its target.

    ``purpose``: 0.15 plus the pull of a clear focus; ``external``: the pull of
    external accountability.  The target's terms are added in the order the
    formula gives them.  A row without a school or network reads the first one's
    (its engagement is 0 whatever it reads).
    """
    for r in range(value.size):
        value[r] = value[r] * 0.9 + 0.1 * week_value[r]
        s, n = max(school[r], 0), max(network[r], 0)
        paid = min(1.0, net_funding[n])
        cover = paid + ((1 - paid) * 0.5) * commitment[s]
        target = (purpose + 1.5 * value[r] + own_weight * ((0.4 if holds_function[r] else 0.0) + 0.4 * ownership[s])
                  + 0.25 * function_effect[s, FACILITATION] + external - cost * (1.0 - cover))
        target = min(max(target, 0.0), 1.0)
        engagement[r] = engagement[r] + rate * (target - engagement[r]) if alive[r] else 0.0


def school_states(model) -> None:
    """School engagement, commitment and active/dormant state."""
    st, sc = model.state, model.scenario
    _school_states(st.alive, st.member, st.school, st.engagement, st.school_head, model.ownership, st.school_alive,
                   st.school_engagement, st.school_commitment, st.school_status, sc.engagement.dormancy)


@njit
def _school_states(alive, member, school, engagement, head, ownership, school_alive, school_engagement,
                   commitment, status, dormancy):
    """:func:`school_states`: each school's members' engagement, summed in row order,
    times the share of its staff who are members; commitment; and the moves between
    active and dormant (dormant below ``dormancy``, awake again at 0.1 above it)."""
    n_s = school_alive.size
    staff = np.zeros(n_s, dtype=np.int64)
    members = np.zeros(n_s, dtype=np.int64)
    eng = np.zeros(n_s)
    for r in range(alive.size):
        if alive[r]:
            s = school[r]
            staff[s] += 1
            if member[r]:
                members[s] += 1
                eng[s] += engagement[r]
    for s in range(n_s):
        # A school without members has eng 0 and so mean 0 / 1 = 0.
        school_e = eng[s] / max(members[s], 1) * members[s] / max(staff[s], 1)
        school_engagement[s] = school_e
        head_e = engagement[head[s]] if head[s] >= 0 else 0.0
        commitment[s] = (school_e + head_e) / 2 * (0.4 + 0.6 * ownership[s])
        if not school_alive[s]:
            status[s] = LEFT
        elif status[s] == ACTIVE and school_e < dormancy:
            status[s] = DORMANT
        elif status[s] == DORMANT and school_e > dormancy + 0.1:
            status[s] = ACTIVE
