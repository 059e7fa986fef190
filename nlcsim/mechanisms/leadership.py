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

from ..state import LEFT


def effectiveness(model) -> None:
    """Refresh ``model.function_effect`` (schools x functions) and ``model.coleader_effect``.

    effect = engagement x (0.5 + 0.5 time) / (1 + overload x (functions held - 1)),
    zero for a vacant function.
    """
    st = model.state
    h = st.holder
    co = st.coleaders
    ok = (h >= 0) & st.alive[np.maximum(h, 0)]
    co_ok = (co >= 0) & st.alive[np.maximum(co, 0)]
    load = np.bincount(np.concatenate([h[ok], co[co_ok]]), minlength=st.rows)
    per_row = st.engagement * (0.5 + 0.5 * st.time) / (1.0 + model.scenario.leadership.head_overload * np.maximum(load - 1, 0))
    model.function_effect = np.where(ok, per_row[np.maximum(h, 0)], 0.0)
    model.function_effect[st.school_status == LEFT] = 0.0
    # The mean over seats as a sum over them divided by their number: the same value as .mean(axis=1), without its Python overhead.
    model.coleader_effect = np.add.reduce(np.where(co_ok, per_row[np.maximum(co, 0)], 0.0), axis=1) / co.shape[1] if co.shape[1] else np.zeros(co.shape[0])
    model.holds_function = load > 0
    heads = st.is_head[np.maximum(h, 0)]
    n_f = h.shape[1]
    model.ownership = np.where(ok & ~heads, 1.0, 0.0).sum(axis=1) / n_f  # share held outside the head


def vacate(st, rows: np.ndarray) -> None:
    """The roles of teachers who leave go with them: the functions they hold
    and their co-leader seats fall vacant (``refill`` takes them up again),
    and they are brokers no more.  A head's post is not a leaver's role: it
    passes to the newcomer, so turnover leaves heads out of ``rows``; a
    school that leaves the programme vacates all its staff, head included."""
    if rows.size == 0:
        return
    gone = np.zeros(st.rows, dtype=bool)
    gone[rows] = True
    for seats in (st.holder, st.coleaders):
        seats[(seats >= 0) & gone[np.maximum(seats, 0)]] = -1
    st.is_broker[rows] = False


def refill(model) -> None:
    """Vacant functions are taken up again, by the head or by a teacher leader.

    Each vacancy is filled with chance 0.08 a week (about a term).  With chance
    ``leadership.distribution`` it goes to a member of the school who is not
    the head (a random one), otherwise to the head.
    """
    st, rng = model.state, model.rng
    d = model.scenario.leadership.distribution
    h = st.holder
    vacant = (h < 0) | ~st.alive[np.maximum(h, 0)]
    vacant &= st.school_alive[:, None]
    u = rng.random(h.shape)
    go = vacant & (u < 0.08)
    s_idx, f_idx = np.nonzero(go)
    pool = None  # the members who may take a seat up, built once if any seat is to be filled
    if s_idx.size:
        pool = model.member_pool()
        cand = model.random_member_of(s_idx, pool)
        to_teacher = (rng.random(s_idx.size) < d) & (cand >= 0)
        h[s_idx, f_idx] = np.where(to_teacher, cand, st.school_head[s_idx])
    co = st.coleaders
    if co.size:
        co_vac = ~st.alive[np.maximum(co, 0)] | (co < 0)
        n_idx, c_idx = np.nonzero(co_vac & (rng.random(co.shape) < 0.08))
        if n_idx.size:
            sch = model.random_school_of(n_idx)
            n_idx, c_idx, sch = n_idx[sch >= 0], c_idx[sch >= 0], sch[sch >= 0]
            pool = pool if pool is not None else model.member_pool()  # no seat changes who is a member
            cand = model.random_member_of(sch, pool)
            to_teacher = (rng.random(n_idx.size) < d) & (cand >= 0)
            co[n_idx, c_idx] = np.where(to_teacher, cand, st.school_head[sch])
    held = np.zeros(st.rows, dtype=bool)
    held[h[h >= 0]] = True
    held[co[co >= 0]] = True
    st.is_leader[:] = held & ~st.is_head & st.alive
    st.member |= held & st.alive
