"""Partner choice inside and across schools.

A member teacher starts an interaction this week with chance
contact_rate x engagement x time (less in a dormant school).  The partner is
drawn among the teacher's ties with weight
trust x (0.25 + partner's visible expertise) x (0.3 + partner's engagement),
and cross-school ties weighted by how well the school's brokering function is
done (seed 000 "Relationships": awareness of others' expertise; seed 003:
leadership as brokering; Spillane et al. 2015).  At network events members
meet colleagues of other schools and new ties form (seed 001: launch events,
joint staff days).

Besides, each tie between two members meets on its own with chance
``collaboration.tie_meeting_rate`` a week (0 by default); at 1, with
``contact_rate`` 0, every tie meets every week: the docking limit
(:func:`tie_meetings`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..draws import BLOCK, draw_in_sums
from ..jit import in_parts, joined, njit
from ..state import ACTIVE, BROKERING, DORMANT, add_tie_batch, tie_slot


@dataclass
class Interactions:
    """This week's interactions: initiator i, partner j and the tie's slots."""

    i: np.ndarray
    j: np.ndarray
    slot_i: np.ndarray
    slot_j: np.ndarray
    at_event: np.ndarray
    kind: np.ndarray = field(default=None)        # Little's type, 0-3
    dissonance: np.ndarray = field(default=None)
    conflict: np.ndarray = field(default=None)

    @property
    def size(self) -> int:
        return int(self.i.size)

    @classmethod
    def empty(cls) -> "Interactions":
        z = np.empty(0, dtype=np.int64)
        return cls(z, z, z, z, np.empty(0, dtype=bool), np.empty(0, np.int8), np.empty(0), np.empty(0, bool))


# How active each school status makes its members (index: ACTIVE, DORMANT, LEFT).
_STATUS_FACTOR = np.zeros(3)
_STATUS_FACTOR[ACTIVE] = 1.0
_STATUS_FACTOR[DORMANT] = 0.25


def choose_partners(model) -> Interactions:
    """Draw this week's interactions (one per initiating teacher, plus event meetings)."""
    st, sc, rng = model.state, model.scenario, model.rng
    init = _initiators(rng.random(st.rows), st.alive, st.member, st.engagement, st.time, st.school, st.school_status,
                       _STATUS_FACTOR, sc.collaboration.contact_rate)
    broker = 0.5 + model.function_effect[:, BROKERING]
    can = st.alive & st.member
    i, j, slot_i, slot_j = draw_partners(init, rng.random(init.size), can, st, broker)
    inter = Interactions(i, j, slot_i, slot_j, np.zeros(i.size, dtype=bool))
    if sc.collaboration.tie_meeting_rate > 0:
        inter = _concat(inter, tie_meetings(model, sc.collaboration.tie_meeting_rate))
    return _with_events(model, inter, can)


@njit
def _status_factor(r, school, school_status, factor_of_status):
    """Row ``r``'s school's status factor (a row without a school reads school 0's)."""
    return factor_of_status[school_status[min(max(school[r], 0), school_status.size - 1)]]


@njit
def _initiators(draws, alive, member, engagement, time, school, school_status, factor_of_status, contact_rate):
    """The members who start an interaction this week, in row order: chance
    contact_rate x engagement x time x their school's status factor (1 active, 0.25
    dormant, 0 left; a row without a school reads school 0's, and is not alive).

    Every row is written at the next place and kept where it starts one: a branch on
    a draw that goes either way about half the time cost more than the writing
    (timed in England runs from week 20: 0.08 ms a week against 0.18 ms)."""
    out = np.empty(draws.size, dtype=np.int64)
    n = 0
    for r in range(draws.size):
        p = contact_rate * engagement[r] * time[r] * _status_factor(r, school, school_status, factor_of_status)
        out[n] = r
        n += alive[r] & member[r] & (draws[r] < p)
    return out[:n]


def draw_partners(init, draw, can, st, broker) -> tuple:
    """Each initiator's partner among its ties to members, by weight (:mod:`nlcsim.draws`).
    Returns the initiators with a partner, the partners and the tie's slot at each end.

    In a large population the initiators are gone through in parts on threads
    (:func:`~nlcsim.jit.in_parts`), each part starting on a whole block of the
    running sum (:data:`nlcsim.draws.BLOCK`).
    """
    def part(start, stop):
        return _draw_partners(init, draw, can, st.nbr, st.fill, st.rev, st.trust, st.practice, st.engagement,
                              st.school, broker, BLOCK, start, stop)

    return joined(in_parts(part, init.size, BLOCK))


@njit
def _draw_partners(init, draw, can, nbr, fill, rev, trust, practice, engagement, school, broker, block, start, stop):
    """:func:`draw_partners` for initiators ``start`` to ``stop`` (``start`` on a whole
    ``block``): each initiator's ties to members in slot order (none beyond the row's
    fill) are its candidates, with weight trust x (0.25 + practice) x (0.3 +
    engagement) x the brokering factor across schools, and one is drawn at once."""
    degree = nbr.shape[1]
    m = stop - start
    i = np.empty(m, dtype=np.int64)
    j = np.empty(m, dtype=np.int64)
    slot_i = np.empty(m, dtype=np.int64)
    slot_j = np.empty(m, dtype=np.int64)
    slots = np.empty(degree, dtype=np.int64)
    sums = np.empty(degree)
    running = 0.0
    n = 0
    for e in range(start, stop):
        if e % block == 0:
            running = 0.0
        r = init[e]
        own = school[r]
        first = running
        k = 0
        for s in range(fill[r]):
            mate = nbr[r, s]
            if mate >= 0 and can[mate]:
                across = broker[own] if school[mate] != own else 1.0
                slots[k] = s
                running += trust[r, s] * (0.25 + practice[mate]) * (0.3 + engagement[mate]) * across
                sums[k] = running
                k += 1
        pick, total = draw_in_sums(sums, k, first, draw[e])
        if total > 0:
            s = slots[pick] if pick >= 0 else degree - 1  # the last slot where rounding leaves no pick
            i[n], j[n], slot_i[n], slot_j[n] = r, nbr[r, s], s, rev[r, s]
            n += 1
    return i[:n], j[:n], slot_i[:n], slot_j[:n]


def tie_meetings(model, rate: float) -> Interactions:
    """Ties that meet this week on their own, each with chance ``rate`` (``collaboration.tie_meeting_rate``).

    Each undirected tie whose ends are both alive members meets with chance
    ``rate``.  At rate 1 with ``contact_rate`` 0 every tie meets every week:
    with a per-exchange transfer chance b (``knowledge.transfer_chance``)
    knowledge then spreads as Reed-Frost simple contagion on the tie graph
    (the docking limit).
    """
    st, d = model.state, model.state.degree
    nbr = st.nbr.reshape(-1)
    cells = (nbr >= 0).nonzero()[0]  # the tie ends, in row order
    rows = cells // d
    j = nbr.take(cells).astype(np.int64)
    can = st.alive & st.member
    keep = (rows < j) & can.take(rows) & can.take(j)
    if rate < 1.0:
        keep &= model.rng.random(rows.size) < rate
    keep = keep.nonzero()[0]
    cells, rows, j = cells.take(keep), rows.take(keep), j.take(keep)
    return Interactions(rows, j, cells - rows * d, st.rev.reshape(-1).take(cells).astype(np.int64),
                        np.zeros(rows.size, dtype=bool))


def _concat(a: Interactions, b: Interactions) -> Interactions:
    return Interactions(*(np.concatenate([getattr(a, f), getattr(b, f)])
                          for f in ("i", "j", "slot_i", "slot_j", "at_event")))


def _with_events(model, inter: Interactions, can: np.ndarray) -> Interactions:
    """Add meetings at network events: attendees paired across schools; ties form.

    ``can`` (alive members) is this week's, as :func:`choose_partners` computed it.
    """
    st, rng = model.state, model.rng
    holding = model.events_this_week
    if not holding.any():
        return inter
    att = _attendees(rng.random(st.rows), can, holding, st.network, st.school, st.school_status, _STATUS_FACTOR,
                     st.engagement)
    if att.size < 2:
        return inter
    att = att[np.lexsort((rng.random(att.size), st.network[att]))]  # by network, in random order within it
    a, b, slot_a, slot_b = _meet(att, st.network, st.school, st.school_trust, st.nbr, st.rev, st.trust, st.last_used,
                                 st.last_type, st.fill, model.week)
    return _concat(inter, Interactions(a, b, slot_a, slot_b, np.ones(a.size, dtype=bool)))


@njit
def _attendees(draws, can, holding, network, school, school_status, factor_of_status, engagement):
    """The members of active schools in networks holding an event who attend it (chance
    0.8 x engagement), in row order (a row without a network or school reads the first
    one's; it cannot take part)."""
    out = np.empty(draws.size, dtype=np.int64)
    n = 0
    for r in range(draws.size):
        net = min(max(network[r], 0), holding.size - 1)
        if (can[r] and holding[net] and _status_factor(r, school, school_status, factor_of_status) > 0.5
                and draws[r] < 0.8 * engagement[r]):
            out[n] = r
            n += 1
    return out[:n]


@njit
def _meet(att, network, school, school_trust, nbr, rev, trust, last_used, last_type, fill, week):
    """Attendees in order meet in twos (the last one alone if their number is odd); a
    pair from different schools of the same network ties (``State.add_ties``) with
    trust 0.8 x the mean of their schools' trust cultures, and meets over the tie if it
    has one.  Returns the pairs that meet and the tie's slot at each end."""
    m = att.size // 2
    a = np.empty(m, dtype=np.int64)
    b = np.empty(m, dtype=np.int64)
    t = np.empty(m)
    n = 0
    for k in range(m):
        x, y = att[2 * k], att[2 * k + 1]
        if network[x] == network[y] and school[x] != school[y]:
            a[n], b[n] = x, y
            t[n] = 0.8 * (school_trust[school[x]] + school_trust[school[y]]) / 2
            n += 1
    a, b, t = a[:n], b[:n], t[:n]
    add_tie_batch(nbr, rev, trust, last_used, last_type, fill, a, b, t, week)
    slot_a = np.empty(n, dtype=np.int64)
    slot_b = np.empty(n, dtype=np.int64)
    kept = 0
    for k in range(n):
        s = tie_slot(nbr, fill, a[k], b[k])
        if s >= 0:
            a[kept], b[kept], slot_a[kept], slot_b[kept] = a[k], b[k], s, rev[a[k], s]
            kept += 1
    return a[:kept], b[:kept], slot_a[:kept], slot_b[:kept]
