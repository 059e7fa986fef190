"""Turnover and onboarding: teachers and heads leave; newcomers are drawn in or not.

Each week a teacher leaves with chance 1 - (1 - teacher_rate)^(1/weeks_per_year)
(NFER: 9.8-13.2% of full-time teachers left their school each year,
2001-2006); heads likewise with ``turnover.head_rate``.  A leaver's ties,
knowledge and practice go with them; the post is filled at once by a
newcomer in the same row.  A leaver's leadership functions and co-leader
seats fall vacant, to be refilled (``leadership.refill``); a head's
replacement inherits the head's functions and seats but not their
engagement or ties.

Newcomers are drawn into the network's work with chance
inclusive x (0.3 + 0.7 onboarding effect), and get colleague ties in
proportion to how well onboarding is done (seed 003: networks "decline when
only the pioneers experience the meaning of the network"; seed 001:
successful networks "cohere around inclusion").
"""

from __future__ import annotations

import numpy as np

from ..state import ONBOARDING
from .leadership import vacate

DRAW_IN = 0.05  # weekly chance of being drawn in at full inclusion and onboarding


def leave_chance(rate: float, weeks_per_year: int) -> float:
    return 1.0 - (1.0 - rate) ** (1.0 / weeks_per_year)


def draw_in(model) -> None:
    """Non-members are invited into the network's work (inclusive membership).

    Weekly chance: 0.05 x inclusive x the school's onboarding effect (the
    0.05 is calibrated so that, with the other defaults, about 85% of staff
    take part after two years and the MORI 2004 figures are met;
    docs/calibration.md).  With
    ``membership.inclusive`` = 0 only the founders ever take part.
    """
    st, sc = model.state, model.scenario
    s = np.maximum(st.school, 0)
    p = DRAW_IN * sc.membership.inclusive * model.function_effect[s, ONBOARDING]
    draws = model.rng.random(st.rows)
    st.member |= st.alive & (draws < p)


def turnover(model) -> None:
    st, sc, rng = model.state, model.scenario, model.rng
    wpy = sc.schedule.weeks_per_year
    head, teacher = leave_chance(sc.turnover.head_rate, wpy), leave_chance(sc.turnover.teacher_rate, wpy)
    draws = rng.random(st.rows)
    # Only a row whose draw is below the larger chance can leave: most weeks there
    # is none, and the exact test (alive, and below the row's own chance) runs on those few.
    cand = (draws < max(head, teacher)).nonzero()[0]
    if cand.size == 0:
        return
    leavers = cand[st.alive[cand] & (draws[cand] < np.where(st.is_head[cand], head, teacher))]
    leave(model, leavers)


def leave(model, rows: np.ndarray) -> None:
    """The teachers in ``rows`` leave and newcomers take their rows.

    A leaver's leadership functions, co-leader seats and broker role go with
    them (``leadership.vacate``); a head's post, with its functions and seats,
    passes to the new head.
    """
    vacate(model.state, rows[~model.state.is_head[rows]])
    replace(model, rows)


def replace(model, rows: np.ndarray) -> None:
    """Newcomers take the rows ``rows``: the occupants' ties, knowledge and
    practice are cleared and the newcomers' own are drawn.  Roles are left as
    they are: :func:`leave` vacates a leaver's, ``events.school_joins`` gives
    a new school's."""
    st, sc, rng = model.state, model.scenario, model.rng
    if rows.size == 0:
        return
    st.clear_rows(rows)
    st.unlearn(rows)
    n = rows.size
    school = st.school[rows]
    onboard = model.function_effect[school, ONBOARDING]
    base = rng.beta(2.0, 6.0, n)
    st.base[rows] = base
    st.prior[rows] = base
    st.practice[rows] = base
    st.target[rows] = base
    st.quality[rows] = 0.0
    e0 = rng.normal(0.4, 0.1, n).clip(0.05, 1.0)
    st.engagement[rows] = e0
    st.engagement0[rows] = e0
    st.value[rows] = 0.0
    st.joined[rows] = model.week
    st.deep_learned[rows] = 0
    st.pioneer[rows] = False
    st.is_leader[rows] = False
    drawn_in = rng.random(n) < sc.membership.inclusive * (0.3 + 0.7 * onboard)
    st.member[rows] = drawn_in | st.is_head[rows]
    onboarding_ties(model, rows, onboard)
    model.replace_agents(rows)


def onboarding_ties(model, rows: np.ndarray, onboard: np.ndarray) -> None:
    """Give newcomers ties to colleagues in their school, in rounds of one tie each."""
    st, sc = model.state, model.scenario
    k = np.rint(sc.population.within_school_degree * (0.3 + 0.7 * sc.membership.inclusive * onboard)).astype(int)
    rounds = int(k.max(initial=0))  # a handful
    if rounds <= 0:
        return
    # Round r takes the newcomers with k > r: (round, newcomer) pairs, round by
    # round.  Every round's colleague is drawn in one call, which gives the same
    # draws in the same order as a call per round, since adding ties changes
    # nothing the draw reads.  The ties are added round by round, each round
    # seeing the ties of the rounds before.
    r, j = (k > np.arange(rounds)[:, None]).nonzero()
    school = st.school[rows]
    who = rows[j]
    mate = model.random_member_of(school[j])
    trust = (0.8 * st.school_trust[school])[j]
    start = 0
    for end in np.bincount(r).cumsum().tolist():
        st.add_ties(who[start:end], mate[start:end], trust[start:end], model.week)
        start = end
