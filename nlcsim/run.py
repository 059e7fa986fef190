"""Running a scenario: ``nlcsim.run`` and the RunResult it returns."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from . import __version__
from .measures import outcome_weeks
from .model import NLCModel, check_seed, seed_sequence
from .scenario import Scenario


@dataclass
class RunResult:
    """One replicate: weekly time series, end-of-run outcomes, and what produced them."""

    timeseries: pd.DataFrame
    outcomes: dict[str, float]
    scenario: Scenario
    seed: dict[str, Any]
    version: str = __version__
    seconds: float = 0.0
    events: list = field(default_factory=list)

    def summary(self) -> pd.Series:
        return pd.Series(self.outcomes)


def seed_record(ss: np.random.SeedSequence) -> dict[str, Any]:
    """JSON-ready description of a SeedSequence: enough to rebuild it exactly."""
    return {"entropy": int(ss.entropy), "spawn_key": [int(k) for k in ss.spawn_key]}


def seed_from_record(record: Mapping[str, Any]) -> np.random.SeedSequence:
    return np.random.SeedSequence(record["entropy"], spawn_key=tuple(record.get("spawn_key", ())))


def replicate_seeds(seed: int, reps: int) -> list[np.random.SeedSequence]:
    """Replicate seeds spawned from one seed (replicate r has spawn_key (r,))."""
    return np.random.SeedSequence(check_seed(seed)).spawn(reps)


def run(scenario: Scenario | str = "baseline", seed=1, overrides: Mapping[str, Any] | None = None,
        weeks: int | None = None, series: bool = True) -> RunResult:
    """Run one replicate of a scenario to the end (or for ``weeks`` weeks).

    ``series=False`` measures the whole weekly row only in the weeks the
    outcomes read (:func:`nlcsim.measures.outcome_weeks`), which is what an end-of-run sweep
    needs: the same outcomes, to the bit, in less time.  The time series then
    holds just those weeks.

    >>> from nlcsim import run
    >>> result = run("baseline", seed=1, weeks=10)
    >>> len(result.timeseries)
    10
    >>> quick = run("baseline", seed=1, weeks=10, series=False)
    >>> list(quick.timeseries["week"]), quick.outcomes == result.outcomes
    ([9], True)
    """
    sc = Scenario.load(scenario, overrides=overrides)
    ss = seed_sequence(seed)
    n = sc.weeks if weeks is None else weeks
    observe = None if series else outcome_weeks(sc, n)
    start = time.perf_counter()
    model = NLCModel(sc, seed=ss, observe=observe)
    for _ in range(n):
        model.step()
    ts = model.timeseries
    if observe is not None:
        ts = ts[ts["week"].isin(observe)].reset_index(drop=True)
    result = RunResult(ts, model.outcomes(), sc, seed_record(ss),
                       seconds=time.perf_counter() - start, events=list(model.event_log))
    model.release()
    return result
