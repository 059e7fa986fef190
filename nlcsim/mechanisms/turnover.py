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

from ..jit import njit
from ..state import ONBOARDING, add_tie_batch
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
    _draw_in(model.rng.random(st.rows), st.alive, st.school, model.function_effect, DRAW_IN * sc.membership.inclusive,
             st.member)


@njit
def _draw_in(draws, alive, school, function_effect, rate, member):
    """:func:`draw_in` row by row (a row without a school reads the first school's onboarding; it is not alive)."""
    for r in range(draws.size):
        if alive[r] and draws[r] < rate * function_effect[max(school[r], 0), ONBOARDING]:
            member[r] = True


def turnover(model) -> None:
    st, sc, rng = model.state, model.scenario, model.rng
    wpy = sc.schedule.weeks_per_year
    head, teacher = leave_chance(sc.turnover.head_rate, wpy), leave_chance(sc.turnover.teacher_rate, wpy)
    leavers = _leavers(rng.random(st.rows), st.alive, st.is_head, head, teacher)
    if leavers.size:
        leave(model, leavers)


@njit
def _leavers(draws, alive, is_head, head, teacher):
    """The rows that leave this week: alive, with a draw below their chance (a head's or a teacher's)."""
    out = np.empty(draws.size, dtype=np.int64)
    n = 0
    for r in range(draws.size):
        if alive[r] and draws[r] < (head if is_head[r] else teacher):
            out[n] = r
            n += 1
    return out[:n]


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
    a new school's.

    A newcomer is drawn into the network's work with chance inclusive x (0.3 +
    0.7 onboarding effect) and gets rint(within_school_degree x (0.3 + 0.7 x
    inclusive x onboarding effect)) ties to random colleagues in their school, in
    rounds of one tie each.  Every round's colleague is drawn in one call, which
    gives the same draws in the same order as a call per round, since adding ties
    changes nothing the draw reads; the ties are added round by round, each round
    seeing the ties of the rounds before."""
    st, sc, rng = model.state, model.scenario, model.rng
    if rows.size == 0:
        return
    st.clear_rows(rows)
    st.unlearn(rows)
    n = rows.size
    inclusive = sc.membership.inclusive
    onboard, k = _onboarding(rows, st.school, model.function_effect, sc.population.within_school_degree, inclusive)
    base = rng.beta(2.0, 6.0, n)
    e0 = rng.normal(0.4, 0.1, n)
    joins = rng.random(n)
    j, ends = _rounds(k)  # round r takes the newcomers with k > r
    mate = model.random_member_of(st.school.take(rows.take(j))) if j.size else j
    _arrive(rows, base, e0, joins, inclusive, onboard, j, ends, mate, model.week, st.base, st.prior, st.practice,
            st.target, st.quality, st.engagement, st.engagement0, st.value, st.joined, st.deep_learned, st.pioneer,
            st.is_leader, st.member, st.is_head, st.school, st.school_trust, st.nbr, st.rev, st.trust, st.last_used,
            st.last_type, st.fill)
    model.replace_agents(rows)


@njit
def _onboarding(rows, school, function_effect, within_school_degree, inclusive):
    """Each newcomer's school's onboarding effect, and the number of colleague ties it
    gets: rint(within_school_degree x (0.3 + 0.7 x inclusive x onboarding))."""
    onboard = np.empty(rows.size)
    k = np.empty(rows.size, dtype=np.int64)
    for e in range(rows.size):
        onboard[e] = function_effect[school[rows[e]], ONBOARDING]
        k[e] = np.int64(np.rint(within_school_degree * (0.3 + 0.7 * inclusive * onboard[e])))
    return onboard, k


@njit
def _arrive(rows, base, e0, joins, inclusive, onboard, j, ends, mate, week, base_of, prior, practice, target, quality,
            engagement, engagement0, value, joined, deep_learned, pioneer, is_leader, member, is_head, school,
            school_trust, nbr, rev, trust, last_used, last_type, fill):
    """:func:`replace` once the draws are made: the newcomers' own state (practice at
    their base, engagement at their draw clipped to 0.05-1; nothing learned or valued
    yet, no leadership of their own; members if drawn in, as a head always is), then
    their colleague ties, round by round (newcomers ``j`` with colleagues ``mate``,
    trust 0.8 x the school's trust culture)."""
    for e in range(rows.size):
        r = rows[e]
        base_of[r] = prior[r] = practice[r] = target[r] = base[e]
        quality[r] = 0.0
        engagement[r] = engagement0[r] = min(max(e0[e], 0.05), 1.0)
        value[r] = 0.0
        joined[r] = week
        deep_learned[r] = 0
        pioneer[r] = False
        is_leader[r] = False
        member[r] = (joins[e] < inclusive * (0.3 + 0.7 * onboard[e])) or is_head[r]
    if j.size == 0:
        return
    who = np.empty(j.size, dtype=np.int64)
    t = np.empty(j.size)
    for m in range(j.size):
        who[m] = rows[j[m]]
        t[m] = 0.8 * school_trust[school[who[m]]]
    _add_by_round(nbr, rev, trust, last_used, last_type, fill, who, mate, t, ends, week)


@njit
def _rounds(k):
    """The newcomers of each round (round r: those with k > r, in order), one after
    another, and where each round ends."""
    rounds = 0
    for x in k:
        rounds = max(rounds, x)
    j = np.empty(max(k.sum(), 0), dtype=np.int64)
    ends = np.empty(rounds, dtype=np.int64)
    n = 0
    for r in range(rounds):
        for e in range(k.size):
            if k[e] > r:
                j[n] = e
                n += 1
        ends[r] = n
    return j[:n], ends


@njit
def _add_by_round(nbr, rev, trust, last_used, last_type, fill, who, mate, t, ends, week):
    """The onboarding ties, a batch (``State.add_ties``) per round."""
    start = 0
    for end in ends:
        add_tie_batch(nbr, rev, trust, last_used, last_type, fill, who[start:end], mate[start:end], t[start:end],
                      week)
        start = end
