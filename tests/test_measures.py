"""The weekly measures against slow, literal readings of their definitions."""

import numpy as np
import pytest

from nlcsim import NLCModel, Scenario, measures
from nlcsim.state import DEEP, IMPORTED


def reach_by_definition(model):
    """knowledge_reach, awareness_reach, school-to-school and network-to-network
    shares, item by item and school by school (measures.COLUMNS)."""
    st = model.state
    staffed = {int(s) for s in np.unique(st.school[st.alive])}
    size = {n: int(np.count_nonzero(st.school_alive & (st.school_network == n))) for n in range(st.net_alive.size)}
    reached, aware, imported = [], [], []
    for n in range(st.net_alive.size):
        for slot in np.flatnonzero(st.item_field[n] >= 0):
            level = {s: int(st.know[st.alive & (st.school == s), slot].max())
                     for s in staffed if st.school_network[s] == n}
            deep = {s for s, v in level.items() if v >= DEEP}
            known = {s for s, v in level.items() if v > 0}
            origin = int(st.item_school[n, slot])
            others = max(size[n] - 1, 1)
            if known:
                aware.append(len(known - {origin}) / others)
            if deep:
                reached.append((len(deep - {origin}), others))
                imported.append(st.item_field[n, slot] == IMPORTED)
    if not reached:
        return 0.0, 0.0, 0.0, 0.0
    return (float(np.mean([r / o for r, o in reached])), float(np.mean(aware)),
            sum(r > 0 for r, _ in reached) / len(reached), sum(imported) / len(reached))


@pytest.mark.parametrize("overrides, joining", [
    ({"population.networks": 3, "population.schools_per_network": 5, "population.teachers_per_school": 6}, 0),
    # more schools in one network than a byte can count (200 at most at the start, then 60 join)
    ({"population.schools_per_network": 200, "population.teachers_per_school": 2}, 60),
    # a row of item counts that does not fill whole 64-bit words
    ({"population.networks": 2, "population.schools_per_network": 6, "knowledge.slots": 61}, 0),
], ids=["three_networks", "one_network_of_260_schools", "odd_number_of_slots"])
def test_knowledge_reach_counts_the_schools_holding_each_item(overrides, joining):
    m = NLCModel(Scenario.load("baseline", overrides={**overrides, "schedule.years": 1}), seed=3)
    for _ in range(joining):
        m.school_joins(0)
    for _ in range(30):
        m.step()
    st = m.state
    rows = np.flatnonzero(st.alive & (st.network == 0))
    item = int(np.flatnonzero(st.item_field[0] >= 0)[0])
    st.learn(rows, np.full(rows.size, item), DEEP)  # one item held deeply in every school of network 0
    got = measures.knowledge_reach(m)
    want = reach_by_definition(m)
    assert want[0] > 0 and want[2] > 0
    assert got == pytest.approx(want, rel=1e-12, abs=1e-15)


SHORT = {"population.schools_per_network": 3, "population.teachers_per_school": 6, "schedule.years": 2}


@pytest.mark.parametrize("overrides", [{"funding.years": 3}, {"funding.years": 1, "mechanisms.funding": False}],
                         ids=["funded past the end", "funding mechanism off"])
def test_survival_is_not_measured_when_the_money_does_not_end_within_the_run(overrides):
    import nlcsim

    sc = Scenario.load("baseline", overrides={**SHORT, **overrides})
    assert sc.money_end_week >= sc.weeks
    out = nlcsim.run(sc, seed=3).outcomes
    assert np.isnan(out["weeks_to_dormant"]) and np.isnan(out["network_dormant"])


def test_survival_is_measured_from_the_end_of_funding_and_censored_at_the_end_of_the_run():
    import nlcsim

    out = nlcsim.run(Scenario.load("baseline", overrides={**SHORT, "funding.years": 1}), seed=3).outcomes
    assert out["network_dormant"] in (0.0, 1.0)
    assert 0 <= out["weeks_to_dormant"] <= 39
