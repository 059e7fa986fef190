"""Running the model: the API, reproducibility and the outputs a user sees."""

from pathlib import Path

import numpy as np
import pandas as pd

import nlcsim
from nlcsim import COLUMNS, NLCModel, OUTCOMES, Scenario


def test_same_seed_gives_identical_results(small):
    a = nlcsim.run(small, seed=3)
    b = nlcsim.run(small, seed=3)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    assert a.outcomes == b.outcomes


def test_different_seeds_give_different_results(small):
    a = nlcsim.run(small, seed=3)
    b = nlcsim.run(small, seed=4)
    assert not a.timeseries.equals(b.timeseries)


def test_timeseries_has_one_row_per_week_and_every_contract_column(small):
    res = nlcsim.run(small, seed=1)
    assert len(res.timeseries) == small.weeks
    assert list(res.timeseries.columns) == list(COLUMNS)
    for name in ("practice_change", "adoption_share", "knowledge_created", "knowledge_reach", "joint_work_share",
                 "mean_trust", "cross_school_ties", "engagement", "active_schools_share", "sustainability",
                 "pupil_outcome", "improved_teaching_share", "improved_motivation_share", "learning_pupil",
                 "learning_adult", "learning_leadership", "learning_school_wide", "learning_school_to_school",
                 "learning_network_to_network"):
        assert name in res.timeseries.columns
        assert name in res.outcomes
    assert set(res.outcomes) == set(OUTCOMES)
    assert res.seed == {"entropy": 1, "spawn_key": []}


def test_agents_are_views_over_the_state_arrays(small):
    model = NLCModel(small, seed=1)
    teacher = model.teachers[5]
    teacher.practice = 0.9
    assert model.state.practice[teacher.row] == 0.9
    school = teacher.school
    assert teacher in school.staff
    heads = [t for t in model.agents_by_type[nlcsim.Leader] if "head" in t.roles]
    assert len(heads) == 4
    assert all(isinstance(t, nlcsim.Teacher) for t in model.agents_by_type[nlcsim.Teacher])
    assert len(model.agents_by_type[nlcsim.School]) == 4
    assert len(model.agents_by_type[nlcsim.Network]) == 1


def _teacher_agents_match_the_rows(model):
    """One agent per living teacher, of the class the row's roles give, and no other teacher agents."""
    st = model.state
    teachers = [a for a in model.agents if isinstance(a, nlcsim.Teacher)]
    rows = sorted(a.row for a in teachers)
    assert rows == list(np.flatnonzero(st.alive))
    for a in teachers:
        lead = bool(st.is_head[a.row] or st.is_broker[a.row] or st.is_leader[a.row])
        assert isinstance(a, nlcsim.Leader) == lead, a
        assert model.agent_of_row(a.row) is a


def test_agents_follow_leavers_and_promotions_whether_or_not_they_are_read(small):
    """The agents are brought up to date when read: a model whose agents are read every
    week and one whose agents are never read until the end give the same results, and
    both end with one agent per teacher; a leaver's agent is gone, a promoted teacher
    keeps their id."""
    sc = small.with_overrides({"turnover.teacher_rate": 0.3})
    watched, unwatched = NLCModel(sc, seed=2), NLCModel(sc, seed=2)
    watched.step()
    unwatched.step()
    left, promoted = set(), set()
    for _ in range(60):
        before = {a.row: (a, type(a)) for a in watched.teachers}
        week = watched.week
        watched.step()
        unwatched.step()
        _teacher_agents_match_the_rows(watched)
        for r, (agent, kind) in before.items():
            now = watched.agent_of_row(r)
            if watched.state.joined[r] == week:  # a newcomer took the row
                left.add(r)
                assert now is not agent and now.unique_id != agent.unique_id
                assert agent not in watched.agents
            else:
                assert now.unique_id == agent.unique_id
                if type(now) is not kind:
                    promoted.add(r)
    assert left and promoted  # both happened, so both were checked
    pd.testing.assert_frame_equal(watched.timeseries, unwatched.timeseries)
    _teacher_agents_match_the_rows(unwatched)


def test_replicate_seeds_do_not_depend_on_workers():
    from nlcsim.replicates import outcomes_table, run_replicates

    sc = Scenario.load("baseline", overrides={"population.schools_per_network": 3, "schedule.years": 1,
                                              "population.teachers_per_school": 8})
    serial = outcomes_table(run_replicates(sc, seed=5, reps=3, workers=1))
    parallel = outcomes_table(run_replicates(sc, seed=5, reps=3, workers=2))
    pd.testing.assert_frame_equal(serial, parallel)


def test_finished_runs_are_freed(small):
    import gc
    import weakref

    from nlcsim.model import NLCModel as Model

    made = []
    original = Model.__init__

    def spy(self, *args, **kwargs):
        original(self, *args, **kwargs)
        made.append(weakref.ref(self))

    Model.__init__ = spy
    try:
        for seed in range(3):
            nlcsim.run(small, seed=seed, weeks=2)
    finally:
        Model.__init__ = original
    gc.collect()
    assert made and all(ref() is None for ref in made)


def test_outcomes_only_runs_give_the_same_outcomes_to_the_bit(small):
    """series=False (what end-of-run sweeps use) measures whole rows only in the weeks the outcomes read."""
    wpy = small.schedule.weeks_per_year
    england_small = Scenario.load(str(Path(__file__).parent / "data" / "england_small.toml"))
    cases = ((small, None), (small, wpy + 3), (Scenario.load("funding_cut_early"), 3 * wpy), (england_small, 2 * wpy + 5))
    for scenario, weeks in cases:
        for seed in (1, 2):
            full = nlcsim.run(scenario, seed=seed, weeks=weeks)
            quick = nlcsim.run(scenario, seed=seed, weeks=weeks, series=False)
            assert quick.outcomes.keys() == full.outcomes.keys()
            for k, v in full.outcomes.items():
                assert quick.outcomes[k] == v or (np.isnan(v) and np.isnan(quick.outcomes[k])), (seed, k)
            n = len(full.timeseries)
            observed = sorted({min(2 * wpy, n) - 1, n - 1})
            assert list(quick.timeseries["week"]) == observed
            pd.testing.assert_frame_equal(quick.timeseries, full.timeseries.iloc[observed].reset_index(drop=True))


def test_a_partly_observed_week_keeps_the_flow_columns_and_blanks_the_rest(small):
    from nlcsim.measures import ALWAYS

    model = NLCModel(small, seed=1, observe={4})
    full = NLCModel(small, seed=1)
    for _ in range(6):
        model.step()
        full.step()
    a, b = model.timeseries, full.timeseries
    pd.testing.assert_frame_equal(a.iloc[[4]], b.iloc[[4]])
    for week in (0, 1, 2, 3, 5):
        for col in COLUMNS:
            if col in ALWAYS:
                assert a[col][week] == b[col][week]
            else:
                assert np.isnan(a[col][week])


def test_a_zero_one_outcome_gets_a_proportion_interval_inside_zero_and_one():
    from nlcsim.replicates import outcome_ci

    m, lo, hi, _ = outcome_ci("network_dormant", [0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    assert m == 0.1 and 0.0 <= lo < 0.1 < hi <= 1.0
    assert round(lo, 4) == 0.0179 and round(hi, 4) == 0.4042  # Wilson score interval, 95%
    assert outcome_ci("practice_change", [0.1, 0.2, 0.3])[1] < 0.2  # others: Student t, as before
