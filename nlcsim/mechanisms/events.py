"""Timed events: funding changes, head teacher and broker departures, schools joining or leaving.

Scenario files schedule them as ``[[events]]``; the trainer app calls the
same functions on a running model.  An event that names no school picks one
at random with the model's own generator, so a seed still fixes the run.
"""

from __future__ import annotations

import numpy as np

from ..scenario import ends_the_money
from ..state import ACTIVE, BROKERING, FUNCTIONS, LEFT, PRACTITIONER, PROFOUND
from .leadership import vacate
from .turnover import leave, replace


def apply_scheduled(model) -> None:
    """Apply the scenario's events that fall on this week."""
    for event in model.scenario.events:
        if event["week"] == model.week:
            apply(model, event, scheduled=True)


def apply(model, event: dict, scheduled: bool = False) -> None:
    """Apply one event now and log it (``model.event_log``): with the school it happened in
    where it names none, and with ``skipped`` (why nothing happened) where it could not happen.
    ``scheduled``: one of the scenario's events (a trainer's otherwise)."""
    kind = event["kind"]
    outcome: dict = {}
    if kind == "funding_change":
        set_funding(model, event["level"], event.get("network"))
    elif kind == "funding_cut":
        programme_wide = ends_the_money(event) and model.scenario.mechanisms.funding
        # A cut after the money has ended changes nothing (a scheduled cut is itself the end this week).
        if programme_wide and (model.week > model.funding_end or (model.week == model.funding_end and not scheduled)):
            outcome = {"skipped": f"the funding had already ended in week {model.funding_end}"}
        set_funding(model, 0.0, event.get("network"))
        if programme_wide:  # survival is measured from here (a trainer's cut; scheduled ones are known at the start)
            model.funding_end = min(model.funding_end, model.week)
    elif kind == "head_leaves":
        outcome = head_leaves(model, event.get("school"))
    elif kind == "broker_leaves":
        outcome = broker_leaves(model, event.get("school"))
    elif kind == "school_joins":
        outcome = {"school": school_joins(model, event.get("network", 0))}
    elif kind == "school_leaves":
        outcome = school_leaves(model, event.get("school"))
    model.event_log.append({"week": model.week, **event, **outcome})


def set_funding(model, level: float, network: int | None = None) -> None:
    if network is None:
        model.funding_override[:] = level
    else:
        model.funding_override[network] = level


def _school(model, school: int | None) -> int | None:
    st = model.state
    live = np.flatnonzero(st.school_alive)
    if school is None:
        return int(model.rng.choice(live)) if live.size else None
    return school if school < st.school_alive.size and st.school_alive[school] else None


def _no_school(school: int | None) -> dict:
    return {"skipped": "no school is left in the programme" if school is None else "the school is not in the programme"}


def head_leaves(model, school: int | None = None) -> dict:
    """The head of ``school`` leaves; a new head takes the post and its functions.
    Returns ``{"school": s}`` (for the log), with ``skipped`` where nothing happened and why."""
    s = _school(model, school)
    if s is None:
        return _no_school(school)
    leave(model, np.array([model.state.school_head[s]]))
    return {"school": s}


def broker_leaves(model, school: int | None = None) -> dict:
    """A broker of ``school`` leaves (their cross-school ties go with them).
    Returns ``{"school": s}`` (for the log), with ``skipped`` where the school has no broker left."""
    st = model.state
    s = _school(model, school)
    if s is None:
        return _no_school(school)
    brokers = np.flatnonzero(st.alive & st.is_broker & (st.school == s))
    if not brokers.size:
        return {"school": s, "skipped": "the school has no broker left"}
    leave(model, brokers[:1])
    return {"school": s}


def school_joins(model, network: int = 0) -> int:
    """A new school joins ``network``; returns its index."""
    st, sc, rng = model.state, model.scenario, model.rng
    s = st.new_school_index()
    model.grow_school_arrays()
    size = sc.population.teachers_per_school
    rows = st.free_rows(size)
    model.grow_row_arrays()
    st.school_alive[s] = True
    st.school_network[s] = network
    st.school_status[s] = ACTIVE
    st.school_trust[s] = float(np.clip(rng.normal(sc.trust.initial, sc.trust.school_spread), 0.02, 1.0))
    st.alive[rows] = True
    st.school[rows] = s
    st.network[rows] = network
    st.is_head[rows] = False
    st.is_broker[rows] = False
    st.is_head[rows[0]] = True
    st.is_broker[rows[1 : 1 + sc.population.brokers_per_school]] = True
    st.school_head[s] = rows[0]
    d = sc.leadership.distribution
    others = rows[1:] if size > 1 else rows
    st.holder[s] = np.where(rng.random(len(FUNCTIONS)) >= d, rows[0], rng.choice(others, len(FUNCTIONS)))
    if sc.population.brokers_per_school and size > 1:
        st.holder[s, BROKERING] = rows[1]
    model.refresh_structure()  # the new school in the index before its newcomers' onboarding ties
    replace(model, rows)  # clears the rows' ties and knowledge
    st.pioneer[rows] = False
    st.member[rows] = True  # a joining school comes in as members
    # Its craft knowledge enters the network's slots.
    from .knowledge import allocate_slots, refresh_items
    n_items = sc.knowledge.practitioner_items
    slots = allocate_slots(model, np.full(n_items, network))
    slots = slots[slots >= 0]
    st.item_effect[network, slots] = rng.normal(sc.knowledge.craft_effect_mean, sc.knowledge.effect_sd, slots.size)
    st.item_relevance[network, slots] = rng.random(slots.size)
    st.item_perceived[network, slots] = model.perceive(st.item_effect[network, slots])
    st.item_field[network, slots] = PRACTITIONER
    st.item_school[network, slots] = s
    st.item_network[network, slots] = network
    refresh_items(model, np.full(slots.size, network), slots)
    st.learn(rng.choice(rows, slots.size), slots, PROFOUND)
    # Its broker meets the network: a few cross-school ties.
    peers = np.flatnonzero(st.alive & (st.network == network) & (st.school != s))
    if peers.size:
        link = rows[1] if size > 1 else rows[0]
        mates = rng.choice(peers, min(peers.size, 3), replace=False)
        for m in mates:  # at most three ties, written one by one so none is dropped
            st.add_ties(np.array([link]), np.array([m]), 0.8 * st.school_trust[s], model.week)
    model.dirty[rows] = True
    return s


def school_leaves(model, school: int | None = None) -> dict:
    """``school`` leaves the network: its staff and their ties leave the model.
    Returns ``{"school": s}`` (for the log), with ``skipped`` where nothing happened and why."""
    st = model.state
    s = _school(model, school)
    if s is None:
        return _no_school(school)
    rows = np.flatnonzero(st.alive & (st.school == s))
    vacate(st, rows)  # its staff's seats in the network (co-leaders) fall vacant too
    st.clear_rows(rows)
    st.unlearn(rows)
    st.alive[rows] = False
    st.member[rows] = False
    st.school_alive[s] = False
    st.school_status[s] = LEFT
    st.holder[s] = -1
    model.remove_agents(rows)
    model.refresh_structure()
    return {"school": s}
