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
    st.value *= 0.9
    st.value += 0.1 * model.week_value
    # School and network terms are worked out once per school or network and
    # then read by each row: the same values, to the bit.
    s, net = np.maximum(st.school, 0), np.maximum(st.network, 0)
    paid_net = np.minimum(1.0, st.net_funding)
    paid = paid_net.take(net)
    cover = paid + ((1 - paid_net) * 0.5).take(net) * st.school_commitment.take(s)
    target = (0.15 + PURPOSE_PULL * sc.purpose.clarity + 1.5 * st.value
              + e.ownership * (0.4 * model.holds_function + (0.4 * model.ownership).take(s))
              + (0.25 * model.function_effect[:, FACILITATION]).take(s) + 0.15 * sc.accountability.external
              - e.cost * (1.0 - cover))
    target = target.clip(0.0, 1.0)
    st.engagement[:] = np.where(st.alive, st.engagement + e.rate * (target - st.engagement), 0.0)
    school_states(model)


def school_states(model) -> None:
    """School engagement, commitment and active/dormant state."""
    st, sc = model.state, model.scenario
    n_s = st.school_alive.size
    staff = np.bincount(st.school[st.alive], minlength=n_s)
    # Members' engagement summed in row order; leaving out the others' zeros
    # leaves each sum unchanged, to the bit.
    members_rows = (st.alive & st.member).nonzero()[0]
    s = st.school.take(members_rows)
    members = np.bincount(s, minlength=n_s)
    eng = np.bincount(s, weights=st.engagement.take(members_rows), minlength=n_s)
    # A school without members has eng 0 and so mean 0 / 1 = 0.
    school_e = eng / np.maximum(members, 1) * members / np.maximum(staff, 1)
    st.school_engagement[:] = school_e
    # mode="clip": a school without a head (-1) reads row 0, discarded by the where.
    head_e = np.where(st.school_head >= 0, st.engagement.take(st.school_head, mode="clip"), 0.0)
    st.school_commitment[:] = (school_e + head_e) / 2 * (0.4 + 0.6 * model.ownership)
    d = sc.engagement.dormancy
    status = st.school_status
    going = (status == ACTIVE) & (school_e < d)
    waking = (status == DORMANT) & (school_e > d + 0.1)
    status[going] = DORMANT
    status[waking] = ACTIVE
    status[~st.school_alive] = LEFT
