"""Initialisation: networks, schools, teachers, ties, knowledge and leadership.

Everything here runs once, before the first step, and is vectorised over the
whole population.  Sources for the figures are in docs/ODD.md, section
"Initialization".
"""

from __future__ import annotations

import math

import numpy as np

from .scenario import Scenario
from .state import (BROKERING, FUNCTIONS, ACTIVE, PRACTITIONER, PROFOUND, State)

MIN_NETWORK, MAX_NETWORK = 6, 40  # programme range of schools per network


def _sizes(rng: np.random.Generator, n: int, mean: float, cv: float, low: int, high: int) -> np.ndarray:
    """Whole-number sizes with a given mean and coefficient of variation (lognormal)."""
    if cv <= 0:
        return np.full(n, int(mean), dtype=np.int64)
    sigma2 = math.log(1 + cv * cv)
    draws = rng.lognormal(math.log(mean) - sigma2 / 2, math.sqrt(sigma2), n)
    return np.clip(np.rint(draws), low, high).astype(np.int64)


def tie_degree(sc: Scenario) -> int:
    """Width of the adjacency slots: room for within, cross-school and broker ties."""
    p = sc.population
    need = 2 * p.within_school_degree + 2 * p.cross_school_degree + p.broker_ties + p.network_links + 10
    # A complete school graph (degree >= size - 1, the docking limit) needs one slot per colleague.
    complete = p.within_school_degree + 2 * p.cross_school_degree + p.broker_ties + p.network_links + 10
    return int(max(min(64, max(12, math.ceil(need))), math.ceil(complete)))


def bulk_ties(state: State, u: np.ndarray, v: np.ndarray, trust: np.ndarray, week: int = 0) -> None:
    """Write many undirected ties at once into empty rows (initialisation only)."""
    d = state.degree
    keep = u != v
    u, v, trust = u[keep], v[keep], trust[keep]
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    key = lo.astype(np.int64) * state.rows + hi
    _, first = np.unique(key, return_index=True)
    lo, hi, trust = lo[first], hi[first], trust[first]
    for _ in range(2):  # drop edges whose ends are full, then place the rest
        m = lo.size
        src = np.concatenate([lo, hi])
        dst = np.concatenate([hi, lo])
        order = np.argsort(src, kind="stable")
        starts = np.searchsorted(src[order], src[order], side="left")
        rank = np.empty(2 * m, dtype=np.int64)
        rank[order] = np.arange(2 * m) - starts
        ok = (rank[:m] < d) & (rank[m:] < d)
        if ok.all():
            break
        lo, hi, trust = lo[ok], hi[ok], trust[ok]
    m = lo.size
    state.nbr[src, rank] = dst
    state.rev[src, rank] = np.concatenate([rank[m:], rank[:m]])
    state.trust[src, rank] = np.concatenate([trust, trust])
    state.last_used[src, rank] = week
    np.maximum.at(state.fill, src, (rank + 1).astype(state.fill.dtype))


def build(sc: Scenario, rng: np.random.Generator) -> tuple[State, dict]:
    """Create the initial state.  Returns the state and structural facts."""
    p = sc.population
    n_net = p.networks
    if p.network_size_spread > 0:
        low, high = min(MIN_NETWORK, p.schools_per_network), max(MAX_NETWORK, p.schools_per_network)
    else:
        low = high = p.schools_per_network
    net_sizes = _sizes(rng, n_net, p.schools_per_network, p.network_size_spread, low, high)
    n_sch = int(net_sizes.sum())
    school_network = np.repeat(np.arange(n_net), net_sizes)
    sch_sizes = _sizes(rng, n_sch, p.teachers_per_school, p.school_size_spread, 2, 10 * p.teachers_per_school)
    n = int(sch_sizes.sum())
    joins = sum(1 for e in sc.events if e["kind"] == "school_joins")
    rows = n + joins * 2 * p.teachers_per_school + 8
    k = sc.knowledge
    slots = max(k.slots, k.practitioner_items * int(net_sizes.max()) + 32)
    st = State(rows, tie_degree(sc), slots, k.public_items, n_sch + joins + 2, n_net, sc.pupils.lag_weeks)

    school = np.repeat(np.arange(n_sch), sch_sizes)
    start = np.concatenate([[0], np.cumsum(sch_sizes)[:-1]])
    net_start = np.concatenate([[0], np.cumsum(net_sizes)[:-1]])
    st.alive[:n] = True
    st.school[:n] = school
    st.network[:n] = school_network[school]
    st.school_alive[:n_sch] = True
    st.school_network[:n_sch] = school_network
    st.school_status[:n_sch] = ACTIVE
    st.school_head[:n_sch] = start
    st.net_alive[:] = True

    # Roles: the first row of a school is its head; the next ones its brokers.
    local = np.arange(n) - start[school]
    st.is_head[:n] = local == 0
    st.is_broker[:n] = (local >= 1) & (local <= p.brokers_per_school)
    founders = rng.random(n) < sc.membership.pioneer_share
    st.pioneer[:n] = st.is_head[:n] | st.is_broker[:n] | founders
    st.member[:n] = st.pioneer[:n]

    base = rng.beta(2.0, 6.0, n)  # status-quo practice in the focus (mean 0.25)
    st.base[:n] = base
    e0 = np.where(st.pioneer[:n], rng.normal(0.7, 0.1, n), rng.normal(0.4, 0.1, n))
    st.engagement[:n] = np.clip(e0, 0.05, 1.0)
    st.engagement0[:n] = st.engagement[:n]
    st.school_trust[:n_sch] = np.clip(rng.normal(sc.trust.initial, sc.trust.school_spread, n_sch), 0.02, 1.0)

    # Within-school advice ties (de Jong/Moolenaar densities).  A mean degree of
    # at least the mean school size less one makes every school a complete
    # graph: the contagion docking limit (docs/calibration.md).
    size_of = sch_sizes[school]
    complete = np.full(n, p.within_school_degree >= p.teachers_per_school - 1)
    stubs = np.where(complete, size_of - 1, rng.poisson(np.minimum(p.within_school_degree, size_of - 1) / 2.0))
    u = np.repeat(np.arange(n), stubs)
    su = school[u]
    offset = rng.integers(1, np.maximum(sch_sizes[su], 2))
    if complete.any():
        nth = np.arange(u.size) - np.repeat(np.cumsum(stubs) - stubs, stubs)
        offset = np.where(complete[u], nth + 1, offset)
    v = start[su] + (local[u] + offset) % sch_sizes[su]
    t_within = np.clip(st.school_trust[su] + rng.normal(0, 0.05, u.size), 0.01, 1.0)

    # Cross-school ties inside the network; brokers hold more (Spillane et al.).
    n_cross = rng.poisson(p.cross_school_degree / 2.0, n) + np.where(st.is_broker[:n], rng.poisson(p.broker_ties, n), 0)
    cu = np.repeat(np.arange(n), n_cross)
    cnet = st.network[cu]
    nsz = net_sizes[cnet]
    has_other = nsz > 1
    cu, cnet, nsz = cu[has_other], cnet[has_other], nsz[has_other]
    other_school = net_start[cnet] + (school[cu] - net_start[cnet] + rng.integers(1, np.maximum(nsz, 2))) % nsz
    cv = start[other_school] + rng.integers(0, sch_sizes[other_school])
    t_cross = np.clip(0.9 * (st.school_trust[school[cu]] + st.school_trust[other_school]) / 2
                      + rng.normal(0, 0.05, cu.size), 0.01, 1.0)

    # Network-to-network links between brokers (or heads) of different networks.
    nu = np.empty(0, dtype=np.int64)
    nv = np.empty(0, dtype=np.int64)
    if n_net > 1 and p.network_links > 0:
        per_net = rng.poisson(p.network_links, n_net)
        src_net = np.repeat(np.arange(n_net), per_net)
        dst_net = (src_net + rng.integers(1, n_net, src_net.size)) % n_net

        def pick_bridge(nets):
            sch = net_start[nets] + rng.integers(0, net_sizes[nets])
            off = np.minimum(1, sch_sizes[sch] - 1) if p.brokers_per_school > 0 else 0
            return start[sch] + off
        nu, nv = pick_bridge(src_net), pick_bridge(dst_net)
    t_net = np.full(nu.size, 0.8 * sc.trust.initial)

    bulk_ties(st, np.concatenate([u, cu, nu]), np.concatenate([v, cv, nv]),
              np.concatenate([t_within, t_cross, t_net]))

    # Practitioner knowledge: tacit craft items held profoundly by a few teachers.
    n_items = k.practitioner_items
    if n_items:
        item_school = np.repeat(np.arange(n_sch), n_items)
        item_net = school_network[item_school]
        item_slot = (item_school - net_start[item_net]) * n_items + np.tile(np.arange(n_items), n_sch)
        st.item_effect[item_net, item_slot] = rng.normal(k.craft_effect_mean, k.effect_sd, item_slot.size)
        st.item_relevance[item_net, item_slot] = rng.random(item_slot.size)
        st.item_field[item_net, item_slot] = PRACTITIONER
        st.item_school[item_net, item_slot] = item_school
        st.item_network[item_net, item_slot] = item_net
        holders = rng.integers(1, 4, item_slot.size)
        h_item = np.repeat(np.arange(item_slot.size), holders)
        h_row = start[item_school[h_item]] + rng.integers(0, sch_sizes[item_school[h_item]])
        st.know[h_row, item_slot[h_item]] = PROFOUND
    # Public knowledge: research and outside practice (seed 004).
    st.pub_relevance[:] = rng.random(k.public_items)
    st.pub_effect[:] = rng.normal(0.05 + 0.3 * sc.purpose.evidence * st.pub_relevance, 0.7 * k.effect_sd)

    # Leadership functions: held by the head with probability 1 - distribution.
    d = sc.leadership.distribution
    F = len(FUNCTIONS)
    to_head = rng.random((n_sch, F)) >= d
    pick = start[:, None] + rng.integers(np.minimum(1, sch_sizes - 1)[:, None], sch_sizes[:, None], (n_sch, F))
    if p.brokers_per_school > 0:
        pick[:, BROKERING] = start + np.minimum(1, sch_sizes - 1)
    st.holder[:n_sch] = np.where(to_head, start[:, None], pick)
    co = min(sc.leadership.co_leaders, int(net_sizes.min()))
    co_school = net_start[:, None] + np.arange(co)[None, :]
    co_pick = start[co_school] + np.minimum(1, sch_sizes[co_school] - 1)
    st.coleaders = np.where(rng.random((n_net, co)) >= d, start[co_school], co_pick).astype(np.int32)
    held = np.zeros(st.rows, dtype=bool)
    held[st.holder[:n_sch].ravel()] = True
    held[st.coleaders.ravel()] = True
    st.is_leader[:] = held & ~st.is_head
    st.member |= held & st.alive
    info = {"n_teachers": n, "n_schools": n_sch, "network_sizes": net_sizes, "school_sizes": sch_sizes}
    return st, info
