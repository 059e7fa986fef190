"""What one run of a sweep computes, and the task a worker executes.

The sweep machinery sees a model only through ``run(overrides, seed)``, which
returns end-of-run outcomes (and optionally a thinned time series).  The
default is :class:`ScenarioModel`: the experiment's base scenario with the
point's overrides, run by :func:`nlcsim.run`.  :class:`FunctionModel` sweeps a
plain Python function ``f(params, seed) -> {outcome: value}`` the same way,
which is how the analysis is checked against functions with known indices.

A run's seed is ``SeedSequence(experiment_seed, spawn_key=(point, replicate))``:
it depends on nothing but the run's id, so the executor, the number of workers
and the order in which runs finish cannot change a result, and any run can be
re-run alone.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from ..jit import threads_at_most

ERROR_CHARS = 2000  # error text kept per failed run: the message and the innermost frames


def run_seed(experiment_seed: int, point: int, replicate: int) -> np.random.SeedSequence:
    """The seed of run (point, replicate)."""
    return np.random.SeedSequence(experiment_seed, spawn_key=(int(point), int(replicate)))


def run_id_of(point: int, replicate: int, replicates: int) -> int:
    """Run ids count points in design order, replicates within a point."""
    return int(point) * int(replicates) + int(replicate)


def point_replicate(run_id: int, replicates: int) -> tuple[int, int]:
    return divmod(int(run_id), int(replicates))


@dataclass
class ScenarioModel:
    """The nlcsim model: base scenario + a point's overrides, run with :func:`nlcsim.run`."""

    base: Any                       # nlcsim.Scenario
    timeseries_every: int = 0
    timeseries_columns: tuple[str, ...] | None = None
    model_source: str | None = None  # the sweep's model (nlcsim.provenance); a worker with another refuses to run

    @property
    def label(self) -> str:
        return "nlcsim.run"

    def outcome_names(self) -> list[str] | None:
        from ..measures import OUTCOMES

        return list(OUTCOMES)

    def run(self, overrides: Mapping[str, Any], seed: np.random.SeedSequence):
        from ..provenance import model_source
        from ..run import run

        if self.model_source is not None and model_source() != self.model_source:
            raise RuntimeError(f"this worker has another nlcsim model (model source {model_source()}) than the "
                               f"sweep's ({self.model_source}): install the same code on every worker")
        scenario = self.base.with_overrides(overrides) if overrides else self.base
        # Without a stored time series, only the weeks the outcomes read are measured in full.
        result = run(scenario, seed=seed, series=bool(self.timeseries_every))
        ts = None
        if self.timeseries_every:
            ts = thin(result.timeseries, self.timeseries_every, self.timeseries_columns)
        return result.outcomes, ts


@dataclass
class FunctionModel:
    """A plain function ``f(params: dict, seed: SeedSequence) -> dict of outcomes``.

    For process and Dask executors the function must be importable by name
    (defined at module level), because it travels to workers by reference.
    """

    function: Callable[[Mapping[str, Any], np.random.SeedSequence], Mapping[str, float]]

    @property
    def label(self) -> str:
        f = self.function
        return f"{getattr(f, '__module__', '?')}.{getattr(f, '__qualname__', repr(f))}"

    def outcome_names(self) -> list[str] | None:
        return None

    def run(self, overrides: Mapping[str, Any], seed: np.random.SeedSequence):
        return dict(self.function(dict(overrides), seed)), None


def thin(ts: pd.DataFrame, every: int, columns=None) -> pd.DataFrame:
    """Every ``every``-th week from week 0, and always the last week."""
    week = ts["week"].to_numpy()
    keep = (week % every == 0) | (week == week.max())
    out = ts.loc[keep]
    if columns:
        out = out[["week", *[c for c in columns if c != "week"]]]
    return out.reset_index(drop=True)


def run_batch(model, experiment_seed: int, runs: list[tuple[int, int, int, dict]]) -> list[dict]:
    """Run a batch of (run_id, point, replicate, overrides); never raises for a failing run.

    A run that raises is returned with status "failed" and its error text, so
    one bad corner of the parameter space cannot stop a sweep.  Each model runs
    in one thread: a sweep's runs go side by side on the cores already.
    """
    with threads_at_most(1):
        return [_run_one(model, experiment_seed, *run) for run in runs]


def _run_one(model, experiment_seed: int, run_id: int, point: int, replicate: int, overrides: dict) -> dict:
    start = time.perf_counter()
    record: dict[str, Any] = {"run_id": run_id, "point": point, "replicate": replicate}
    try:
        outcomes, ts = model.run(overrides, run_seed(experiment_seed, point, replicate))
        record.update(status="ok", error=None, outcomes=dict(outcomes), timeseries=ts)
    except Exception as err:  # recorded, counted and shown; the sweep goes on
        text = "".join(traceback.format_exception(type(err), err, err.__traceback__, limit=-4))
        record.update(status="failed", error=f"{type(err).__name__}: {err}\n{text}"[:ERROR_CHARS],
                      outcomes={}, timeseries=None)
    record["seconds"] = time.perf_counter() - start
    return record
