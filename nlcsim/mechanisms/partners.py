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

from ..draws import draw_columns
from ..state import ACTIVE, BROKERING, DORMANT


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


def status_factor(model) -> np.ndarray:
    st = model.state
    f = np.zeros(st.school_status.size)
    f[st.school_status == ACTIVE] = 1.0
    f[st.school_status == DORMANT] = 0.25
    return f[np.maximum(st.school, 0)]


def choose_partners(model) -> Interactions:
    """Draw this week's interactions (one per initiating teacher, plus event meetings)."""
    st, sc, rng = model.state, model.scenario, model.rng
    can = st.alive & st.member
    p = sc.collaboration.contact_rate * st.engagement * st.time * status_factor(model)
    draws = rng.random(st.rows)
    init = (can & (draws < p)).nonzero()[0]
    # The initiators' ties to members (a few of their slots), in slot order.
    nb = st.nbr[init].reshape(-1)
    cells = (nb >= 0).nonzero()[0]
    j = nb[cells]
    mate = st.member[j] & st.alive[j]
    cells, j = cells[mate], j[mate]
    r = cells // st.degree
    s = cells - r * st.degree
    own = st.school[init]
    broker = 0.5 + model.function_effect[own, BROKERING]
    w = st.trust.reshape(-1)[init[r] * st.degree + s] * (0.25 + st.practice[j]) * (0.3 + st.engagement[j]) \
        * np.where(st.school[j] != own[r], broker[r], 1.0)
    slot, total = draw_columns(r, s, w, init.size, st.degree, rng.random(init.size))
    ok = total > 0
    i, slot = init[ok], slot[ok]
    j = st.nbr[i, slot].astype(np.int64)
    inter = Interactions(i.astype(np.int64), j, slot.astype(np.int64), st.rev[i, slot].astype(np.int64),
                         np.zeros(i.size, dtype=bool))
    if sc.collaboration.tie_meeting_rate > 0:
        inter = _concat(inter, tie_meetings(model, sc.collaboration.tie_meeting_rate))
    return _with_events(model, inter)


def tie_meetings(model, rate: float) -> Interactions:
    """Ties that meet this week on their own, each with chance ``rate`` (``collaboration.tie_meeting_rate``).

    Each undirected tie whose ends are both alive members meets with chance
    ``rate``.  At rate 1 with ``contact_rate`` 0 every tie meets every week:
    with a per-exchange transfer chance b (``knowledge.transfer_chance``)
    knowledge then spreads as Reed-Frost simple contagion on the tie graph
    (the docking limit).
    """
    st = model.state
    rows, slots = np.nonzero(st.nbr >= 0)
    j = st.nbr[rows, slots].astype(np.int64)
    keep = (rows < j) & st.alive[rows] & st.member[rows] & st.alive[j] & st.member[j]
    if rate < 1.0:
        keep &= model.rng.random(rows.size) < rate
    rows, slots, j = rows[keep], slots[keep], j[keep]
    return Interactions(rows.astype(np.int64), j, slots.astype(np.int64), st.rev[rows, slots].astype(np.int64),
                        np.zeros(rows.size, dtype=bool))


def _concat(a: Interactions, b: Interactions) -> Interactions:
    return Interactions(*(np.concatenate([getattr(a, f), getattr(b, f)])
                          for f in ("i", "j", "slot_i", "slot_j", "at_event")))


def _with_events(model, inter: Interactions) -> Interactions:
    """Add meetings at network events: attendees paired across schools; ties form."""
    st, rng = model.state, model.rng
    holding = model.events_this_week
    if not holding.any():
        return inter
    cand = st.alive & st.member & holding[np.maximum(st.network, 0)] & (status_factor(model) > 0.5)
    att = (cand & (rng.random(st.rows) < 0.8 * st.engagement)).nonzero()[0]
    if att.size < 2:
        return inter
    order = np.lexsort((rng.random(att.size), st.network[att]))
    att = att[order]
    a, b = att[0:-1:2], att[1::2]
    ok = (st.network[a] == st.network[b]) & (st.school[a] != st.school[b])
    a, b = a[ok], b[ok]
    new_trust = 0.8 * (st.school_trust[st.school[a]] + st.school_trust[st.school[b]]) / 2
    st.add_ties(a, b, new_trust, model.week)
    slot = st.tie_slot(a, b)
    ok = slot >= 0
    a, b, slot = a[ok], b[ok], slot[ok]
    return _concat(inter, Interactions(a, b, slot, st.rev[a, slot].astype(np.int64), np.ones(a.size, dtype=bool)))
