"""Running the model: the API, reproducibility and the outputs a user sees."""

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
