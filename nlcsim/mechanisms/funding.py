"""Funding buys release time and network events; after it ends schools carry the cost.

Sources: seed 004 (a four-year programme), NCSL/DfES press release June 2002
(up to 50,000 pounds a year per network, matched), seed 003 ("Funding as a
perennial problem"), seed 001 (high-yield activities: launch events and joint
staff days).
"""

from __future__ import annotations

import numpy as np

from ..jit import njit


def funding_level(model) -> np.ndarray:
    """Funding of each network this week (x programme level).

    The programme level applies until ``funding.years`` have passed, then
    ``funding.after_level``; a ``funding_change`` or ``funding_cut`` event
    overrides both from its week on.
    """
    sc = model.scenario
    level = sc.funding.level if model.week < sc.funding_end_week else sc.funding.after_level
    return _levels(model.funding_override, float(level))


@njit
def _levels(override, level):
    """:func:`funding_level`: ``level`` for each network, its override where it has one (not NaN)."""
    out = np.empty(override.size)
    for n in range(override.size):
        out[n] = level if np.isnan(override[n]) else override[n]
    return out


def fund(model) -> None:
    """Set each network's funding and each teacher's time for collaboration.

    Time = base time + release time bought by the network's funding; where
    funding falls short, a school buys part of the gap from its own budget in
    proportion to its commitment (engagement x shared ownership).
    """
    st, sc = model.state, model.scenario
    st.net_funding[:] = funding_level(model)
    _time(st.time, st.net_funding, st.network, st.school_commitment, st.school, sc.capacity.base_time,
          sc.funding.release_time)


@njit
def _time(time, net_funding, network, commitment, school, base_time, release_time):
    """:func:`fund`'s time for collaboration, row by row.  A row without a network or a
    school (-1) reads the last one, as NumPy's (and numba's) indexing does; its time is
    never used."""
    for r in range(time.size):
        n, s = network[r], school[r]
        paid = min(net_funding[n], 1.5)
        own = 0.5 * commitment[s] * min(max(1.0 - paid, 0.0), 1.0)
        time[r] = min(max(base_time + release_time * (paid + own), 0.0), 1.0)


def network_events(model) -> np.ndarray:
    """Which networks hold a network-wide event this week.

    A funded network holds ``schedule.network_events_per_year`` events a year;
    an unfunded one holds them only as far as its co-leaders carry them.
    """
    st, sc = model.state, model.scenario
    rate = sc.schedule.network_events_per_year / sc.schedule.weeks_per_year
    drive = np.minimum(1.0, st.net_funding + 0.7 * model.coleader_effect)
    return (model.rng.random(st.net_alive.size) < rate * drive) & st.net_alive
