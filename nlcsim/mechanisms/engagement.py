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

from ..state import ACTIVE, DORMANT, FACILITATION, LEFT

PURPOSE_PULL = 0.15  # engagement a fully clear, shared focus adds (calibrated: docs/calibration.md)


def update_engagement(model) -> None:
    st, sc = model.state, model.scenario
    e = sc.engagement
    st.value[:] = 0.9 * st.value + 0.1 * model.week_value
    s = np.maximum(st.school, 0)
    paid = np.minimum(1.0, st.net_funding[np.maximum(st.network, 0)])
    own_school = model.ownership[s]
    cover = paid + (1 - paid) * 0.5 * st.school_commitment[s]
    target = (0.15 + PURPOSE_PULL * sc.purpose.clarity + 1.5 * st.value + e.ownership * (0.4 * model.holds_function + 0.4 * own_school)
              + 0.25 * model.function_effect[s, FACILITATION] + 0.15 * sc.accountability.external
              - e.cost * (1.0 - cover))
    target = target.clip(0.0, 1.0)
    st.engagement[:] = np.where(st.alive, st.engagement + e.rate * (target - st.engagement), 0.0)
    school_states(model)


def school_states(model) -> None:
    """School engagement, commitment and active/dormant state."""
    st, sc = model.state, model.scenario
    n_s = st.school_alive.size
    alive = st.alive
    s = st.school[alive]
    staff = np.bincount(s, minlength=n_s)
    members = np.bincount(s, weights=st.member[alive], minlength=n_s)
    eng = np.bincount(s, weights=(st.engagement * st.member)[alive], minlength=n_s)
    school_e = np.where(members > 0, eng / np.maximum(members, 1), 0.0) * members / np.maximum(staff, 1)
    st.school_engagement[:] = school_e
    head_e = np.where(st.school_head >= 0, st.engagement[np.maximum(st.school_head, 0)], 0.0)
    st.school_commitment[:] = (school_e + head_e) / 2 * (0.4 + 0.6 * model.ownership)
    d = sc.engagement.dormancy
    status = st.school_status
    going = (status == ACTIVE) & (school_e < d)
    waking = (status == DORMANT) & (school_e > d + 0.1)
    status[going] = DORMANT
    status[waking] = ACTIVE
    status[~st.school_alive] = LEFT
