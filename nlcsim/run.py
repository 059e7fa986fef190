"""Running a scenario: ``nlcsim.run`` and the RunResult it returns."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from . import __version__
from .model import NLCModel, seed_sequence
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
    return np.random.SeedSequence(seed).spawn(reps)


def run(scenario: Scenario | str = "baseline", seed=1, overrides: Mapping[str, Any] | None = None,
        weeks: int | None = None) -> RunResult:
    """Run one replicate of a scenario to the end (or for ``weeks`` weeks).

    >>> from nlcsim import run
    >>> result = run("baseline", seed=1, weeks=10)
    >>> len(result.timeseries)
    10
    """
    sc = Scenario.load(scenario, overrides=overrides)
    ss = seed_sequence(seed)
    start = time.perf_counter()
    model = NLCModel(sc, seed=ss)
    for _ in range(sc.weeks if weeks is None else weeks):
        model.step()
    result = RunResult(model.timeseries, model.outcomes(), sc, seed_record(ss),
                       seconds=time.perf_counter() - start, events=list(model.event_log))
    model.release()
    return result
