"""Property-based: over random valid scenarios every state variable stays in range, no NaN appears."""

import os

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlcsim import NLCModel, Scenario
from nlcsim.scenario import EVENT_KINDS, MECHANISMS, PARAMS

# Small populations keep each example fast; every other key ranges over its whole allowed range.
SIZE_LIMITS = {
    "population.networks": (1, 3), "population.schools_per_network": (1, 6),
    "population.teachers_per_school": (2, 12), "schedule.years": (1, 1), "schedule.weeks_per_year": (4, 20),
    "knowledge.public_items": (0, 30), "knowledge.slots": (8, 64), "pupils.lag_weeks": (0, 20),
    "population.network_size_spread": (0.0, 1.0), "population.school_size_spread": (0.0, 1.0),
}


def value_for(param):
    low, high = SIZE_LIMITS.get(param.name, (param.low, param.high))
    if param.kind is int:
        return st.integers(int(low), int(high))
    return st.floats(float(low), float(high), allow_nan=False)


@st.composite
def scenarios(draw):
    values = {p.name: draw(value_for(p)) for p in PARAMS}
    values.update({f"mechanisms.{m}": draw(st.booleans()) for m in MECHANISMS})
    weeks = values["schedule.years"] * values["schedule.weeks_per_year"]
    events = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(sorted(EVENT_KINDS)))
        ev = {"week": draw(st.integers(0, weeks - 1)), "kind": kind}
        if kind == "funding_change":
            ev["level"] = draw(st.floats(0, 10))
        if kind == "school_joins":
            ev["network"] = draw(st.integers(0, values["population.networks"] - 1))
        events.append(ev)
    return Scenario.from_dict({"events": events}, overrides=values)


def check_state(model):
    s = model.state
    live = s.alive
    for name in ("practice", "target", "prior", "base", "engagement", "time"):
        arr = getattr(s, name)
        assert np.isfinite(arr).all(), name
        assert ((arr[live] >= 0) & (arr[live] <= 1)).all(), name
    assert np.isfinite(s.quality).all() and np.isfinite(s.value).all()
    assert np.isfinite(s.trust).all() and (s.trust >= 0).all() and (s.trust <= 1).all()
    assert ((s.know >= 0) & (s.know <= 3)).all()
    # every living teacher has a school and a network (the compiled phases index by them unchecked)
    assert (s.school[s.alive] >= 0).all() and (s.network[s.alive] >= 0).all()
    # every slot from a row's fill on is empty (the compiled phases read no further)
    assert ((s.nbr < 0) | (np.arange(s.degree) < s.fill[:, None])).all()
    assert ((s.last_type < 0) | (np.arange(s.degree) < s.fill[:, None])).all()
    # ties are symmetric with equal trust at both ends, and only between live teachers
    r, a = np.nonzero(s.nbr >= 0)
    j = s.nbr[r, a]
    assert s.alive[r].all() and s.alive[j].all()
    assert (s.nbr[j, s.rev[r, a]] == r).all()
    np.testing.assert_array_equal(s.trust[r, a], s.trust[j, s.rev[r, a]])
    assert np.isfinite(s.pupil).all()
    # the school knowledge kept up to date week by week equals a count from scratch:
    # bit 0 where someone on the staff holds the local item, bit 1 where someone holds it deeply
    schools, levels = s.school_knowledge()
    alive = np.flatnonzero(s.alive)
    held = s.know[alive, : s.slots]
    fresh = np.zeros((s.school_alive.size, s.slots), dtype=np.uint8)
    np.bitwise_or.at(fresh, s.school[alive], ((held >= 1) | ((held >= 2) << 1)).astype(np.uint8))
    np.testing.assert_array_equal(schools, np.unique(s.school[alive]))
    np.testing.assert_array_equal(levels, fresh[schools])


@settings(max_examples=int(os.environ.get("NLCSIM_EXAMPLES", "60")), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_state_stays_in_range_and_finite(scenario, seed):
    model = NLCModel(scenario, seed=seed)
    check_state(model)
    for week in range(scenario.weeks):
        model.step()
        if week % 13 == 0:
            check_state(model)
    check_state(model)
    table = model.table
    assert np.isfinite(table).all()
    out = model.outcomes()
    survival = ("weeks_to_dormant", "network_dormant")  # not defined when the money outlasts the run
    assert all(np.isfinite(v) for k, v in out.items() if k not in survival)
    assert all(np.isnan(out[k]) == (scenario.money_end_week >= scenario.weeks) for k in survival)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_adding_one_tie_follows_the_batch_rule(data):
    """A one-pair ``add_ties`` does what the batch rule does with the same pair and a
    pair missing an end beside it, which the batch drops."""
    from nlcsim.state import State

    rows, degree = data.draw(st.integers(2, 8)), data.draw(st.integers(1, 4))
    pairs = data.draw(st.lists(st.tuples(st.integers(0, rows - 1), st.integers(0, rows - 1)), max_size=3 * rows))
    a, b = data.draw(st.integers(-1, rows - 1)), data.draw(st.integers(-1, rows - 1))
    trust = data.draw(st.floats(0, 1))
    states = []
    for batch in ((np.array([a]), np.array([b])), (np.array([a, -1]), np.array([b, 0]))):
        s = State(rows, degree, slots=1, public=0, schools=1, networks=1, lag=0)
        for i, j in pairs:  # the same random ties first, one at a time
            s.add_ties(np.array([i, i]), np.array([j, -1]), 0.5, week=0)
        added = s.add_ties(*batch, np.full(batch[0].size, trust), week=3)
        states.append((added, s.nbr.copy(), s.rev.copy(), s.trust.copy(), s.last_used.copy(), s.last_type.copy()))
    (n1, *one), (n2, *two) = states
    assert n1 == n2
    for x, y in zip(one, two):
        np.testing.assert_array_equal(x, y)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), pairs=st.integers(1, 600), scalar=st.booleans())
def test_learning_many_pairs_at_once_keeps_the_school_flags(seed, pairs, scalar):
    """``learn`` on a batch (repeats, local and public items, one level or one per pair)
    raises knowledge to the maximum asked and keeps each school's flags equal to a count from scratch."""
    model = NLCModel(Scenario.load("baseline", overrides={"schedule.years": 1}), seed=1)
    s = model.state
    s.school_knowledge()  # the flags exist from here on and are kept by learn
    rng = np.random.default_rng(seed)
    rows = rng.choice(np.flatnonzero(s.alive), pairs)
    cols = rng.integers(0, s.know.shape[1], pairs)
    levels = np.int8(rng.integers(0, 4)) if scalar else rng.integers(0, 4, pairs).astype(np.int8)
    want = s.know.copy()
    np.maximum.at(want, (rows, cols), levels)
    s.learn(rows, cols, levels)
    np.testing.assert_array_equal(s.know, want)
    check_state(model)
