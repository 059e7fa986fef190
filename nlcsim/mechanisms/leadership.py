"""Leadership: who holds the network's functions, how well they are done, refilling.

Four functions in each school (enquiry lead, brokering, onboarding,
facilitation) and a few network co-leader seats.  Distribution sets how many
sit outside the head teachers (seed 000 "Leadership": "a leader-full
organisation"; seed 001: "plan for distributed leadership from the earliest
stage"; seed 003: "Leadership as cross-cultural brokering").  One person holding
many functions does each of them less well (``leadership.head_overload``).
"""

from __future__ import annotations

import numpy as np

from ..jit import njit, pairwise_sum
from ..state import LEFT


def effectiveness(model) -> None:
    """Refresh ``model.function_effect`` (schools x functions) and ``model.coleader_effect``.

    effect = engagement x (0.5 + 0.5 time) / (1 + overload x (functions held - 1)),
    zero for a vacant function.
    """
    st = model.state
    (model.function_effect, model.coleader_effect, model.holds_function,
     model.ownership) = _effectiveness(st.holder, st.coleaders, st.alive, st.engagement, st.time, st.is_head,
                                       st.school_status, model.scenario.leadership.head_overload)


@njit
def _effectiveness(holder, coleaders, alive, engagement, time, is_head, school_status, overload):
    """:func:`effectiveness` in one pass over the seats: each function's effect, each
    network's mean co-leader effect, who holds a seat, and each school's share of
    functions held outside the head.  A seat counts if its holder is alive."""
    n_s, n_f = holder.shape
    n_n, n_c = coleaders.shape
    load = _seat_load(holder, coleaders, alive)
    per_row = np.empty(alive.size)
    for r in range(alive.size):
        per_row[r] = engagement[r] * (0.5 + 0.5 * time[r]) / (1.0 + overload * max(load[r] - 1, 0))
    effect = np.zeros((n_s, n_f))
    ownership = np.empty(n_s)
    for s in range(n_s):
        outside = 0.0
        for f in range(n_f):
            h = holder[s, f]
            if h >= 0 and alive[h]:
                effect[s, f] = per_row[h]
                if not is_head[h]:
                    outside += 1.0
            # else 0.0 (the sum adds +0.0, which leaves it unchanged)
        if school_status[s] == LEFT:
            effect[s, :] = 0.0
        ownership[s] = outside / n_f
    coleader = np.zeros(n_n)
    seat = np.empty(n_c)
    if n_c:
        for n in range(n_n):
            for c in range(n_c):
                h = coleaders[n, c]
                seat[c] = per_row[h] if h >= 0 and alive[h] else 0.0
            coleader[n] = pairwise_sum(seat, 0, n_c) / n_c  # NumPy's sum over a row
    return effect, coleader, load > 0, ownership


@njit
def _seat_load(holder, coleaders, alive):
    """How many seats (functions and co-leader seats) each living row holds."""
    load = np.zeros(alive.size, dtype=np.int64)
    for seats in (holder, coleaders):
        for a in range(seats.shape[0]):
            for b in range(seats.shape[1]):
                h = seats[a, b]
                if h >= 0 and alive[h]:
                    load[h] += 1
    return load


def vacate(st, rows: np.ndarray) -> None:
    """The roles of teachers who leave go with them: the functions they hold
    and their co-leader seats fall vacant (``refill`` takes them up again),
    and they are brokers no more.  A head's post is not a leaver's role: it
    passes to the newcomer, so turnover leaves heads out of ``rows``; a
    school that leaves the programme vacates all its staff, head included."""
    if rows.size:
        _vacate(st.holder, st.coleaders, st.is_broker, rows)


@njit
def _vacate(holder, coleaders, is_broker, rows):
    gone = np.zeros(is_broker.size, dtype=np.bool_)
    for r in rows:
        gone[r] = True
        is_broker[r] = False
    for seats in (holder, coleaders):
        for a in range(seats.shape[0]):
            for b in range(seats.shape[1]):
                if seats[a, b] >= 0 and gone[seats[a, b]]:
                    seats[a, b] = -1


def refill(model) -> None:
    """Vacant functions are taken up again, by the head or by a teacher leader.

    Each vacancy is filled with chance 0.08 a week (about a term).  With chance
    ``leadership.distribution`` it goes to a member of the school who is not
    the head (a random one), otherwise to the head.
    """
    st, rng = model.state, model.rng
    d = model.scenario.leadership.distribution
    h = st.holder
    s_idx, f_idx = _to_fill(h, st.alive, st.school_alive, rng.random(h.shape))
    pool = None  # the members who may take a seat up, built once if any seat is to be filled
    if s_idx.size:
        pool = model.member_pool()
        cand = model.random_member_of(s_idx, pool)
        to_teacher = (rng.random(s_idx.size) < d) & (cand >= 0)
        h[s_idx, f_idx] = np.where(to_teacher, cand, st.school_head[s_idx])
    co = st.coleaders
    if co.size:
        n_idx, c_idx = _to_fill(co, st.alive, np.ones(co.shape[0], dtype=bool), rng.random(co.shape))
        if n_idx.size:
            sch = model.random_school_of(n_idx)
            n_idx, c_idx, sch = n_idx[sch >= 0], c_idx[sch >= 0], sch[sch >= 0]
            pool = pool if pool is not None else model.member_pool()  # no seat changes who is a member
            cand = model.random_member_of(sch, pool)
            to_teacher = (rng.random(n_idx.size) < d) & (cand >= 0)
            co[n_idx, c_idx] = np.where(to_teacher, cand, st.school_head[sch])
    _mark_leaders(h, co, st.is_head, st.alive, st.is_leader, st.member)


@njit
def _to_fill(seats, alive, open_, draws):
    """The vacant seats (no holder, or one who is gone) in the rows that are ``open_``
    whose draw is below 0.08, in row-major order: their rows and columns."""
    rows = np.empty(seats.size, dtype=np.int64)
    cols = np.empty(seats.size, dtype=np.int64)
    n = 0
    for a in range(seats.shape[0]):
        if not open_[a]:
            continue
        for b in range(seats.shape[1]):
            h = seats[a, b]
            if (h < 0 or not alive[h]) and draws[a, b] < 0.08:
                rows[n], cols[n] = a, b
                n += 1
    return rows[:n], cols[:n]


@njit
def _mark_leaders(holder, coleaders, is_head, alive, is_leader, member):
    """Teacher leaders are the living who hold a function or a co-leader seat and are not
    heads; whoever holds one takes part in the network's work."""
    load = _seat_load(holder, coleaders, alive)
    for r in range(alive.size):
        is_leader[r] = load[r] > 0 and not is_head[r]
        if load[r] > 0:
            member[r] = True
