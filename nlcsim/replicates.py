"""Replicates of one scenario: seeds spawned from one seed, summaries with 95% CIs.

>>> from nlcsim.replicates import run_replicates, summarise
>>> runs = run_replicates("baseline", seed=1, reps=2, overrides={"schedule.years": 1})
>>> table = summarise(runs)
>>> list(table.columns)
['mean', 'ci_low', 'ci_high', 'sd', 'n']
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
from scipy import stats

from . import __version__
from .jit import limit_threads
from .measures import OUTCOMES
from .provenance import model_source
from .run import RunResult, replicate_seeds, run
from .scenario import Scenario


def run_job(args) -> RunResult:
    """One (scenario, seed) job, as worker processes run it."""
    scenario, ss = args
    return run(scenario, seed=ss)


def run_replicates(scenario: Scenario | str = "baseline", seed: int = 1, reps: int = 10,
                   overrides: Mapping[str, Any] | None = None, workers: int = 1) -> list[RunResult]:
    """Run ``reps`` replicates; replicate r uses SeedSequence(seed).spawn(reps)[r].

    Results do not depend on ``workers``: each replicate owns its seed.
    """
    sc = Scenario.load(scenario, overrides=overrides)
    jobs = [(sc, ss) for ss in replicate_seeds(seed, reps)]
    if workers <= 1 or reps == 1:
        return [run_job(j) for j in jobs]
    with model_pool(workers) as pool:
        return list(pool.map(run_job, jobs))


def model_pool(workers: int) -> ProcessPoolExecutor:
    """Worker processes that run models side by side; they fill the cores, so each runs
    its models in one thread (:func:`~nlcsim.jit.limit_threads`)."""
    return ProcessPoolExecutor(max_workers=workers, initializer=limit_threads, initargs=(1,))


def mean_ci(values, level: float = 0.95) -> tuple[float, float, float, float]:
    """Mean, CI low, CI high (Student t), sd."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = x.size
    if n == 0:
        return (np.nan,) * 4
    m = float(x.mean())
    if n < 2:
        return m, m, m, 0.0
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * sd / np.sqrt(n))
    return m, m - half, m + half, sd


NON_NEGATIVE = {"weeks", "ratio", "items per school", "ties per teacher", "per teacher per week"}  # counts and ratios of counts


def bounds(unit: str) -> tuple[float, float]:
    """The range a measure with this unit (``COLUMNS``/``OUTCOMES``) lies in, and so its mean:
    0-1 for a share or a 0-1 scale, 0 upwards for a count or a ratio of counts, else unbounded."""
    if unit == "0-1" or unit.startswith("share"):
        return 0.0, 1.0
    return (0.0 if unit in NON_NEGATIVE else -np.inf), np.inf


def outcome_ci(name: str, values, level: float = 0.95) -> tuple[float, float, float, float]:
    """Mean, CI low, CI high and sd of one outcome over replicates.

    A 0/1 outcome (``network_dormant``) is a proportion: its CI is Wilson's
    score interval, which stays within 0-1 (SciPy's ``binomtest``); any other
    outcome gets the Student t interval of :func:`mean_ci`, cut at 0 and 1
    for a share or a 0-1 scale, and at 0 for a count or a ratio of counts
    (``NON_NEGATIVE``): with few replicates and a wide spread it can pass
    them, and no mean can.
    """
    m, lo, hi, sd = mean_ci(values, level)
    unit = OUTCOMES.get(name, ("",))[0]
    floor, ceiling = bounds(unit)
    lo, hi = max(lo, floor), min(hi, ceiling)
    if unit == "0/1" and np.isfinite(m):
        x = np.asarray(values, dtype=float)
        x = x[np.isfinite(x)]
        if x.size > 1:
            ci = stats.binomtest(int(round(x.sum())), x.size).proportion_ci(level, method="wilson")
            lo, hi = float(ci.low), float(ci.high)
    return m, lo, hi, sd


def outcomes_table(runs: list[RunResult]) -> pd.DataFrame:
    rows = []
    for r, res in enumerate(runs):
        rows.append({"replicate": r, "seed_entropy": res.seed["entropy"],
                     "spawn_key": "-".join(map(str, res.seed["spawn_key"])), **res.outcomes})
    return pd.DataFrame(rows)


def summarise(runs: list[RunResult], level: float = 0.95) -> pd.DataFrame:
    """Mean and CI of every outcome over replicates."""
    out = outcomes_table(runs)
    names = list(runs[0].outcomes)
    rows = {}
    for name in names:
        m, lo, hi, sd = outcome_ci(name, out[name], level)
        rows[name] = {"mean": m, "ci_low": lo, "ci_high": hi, "sd": sd, "n": int(out[name].notna().sum())}
    return pd.DataFrame.from_dict(rows, orient="index")


def timeseries_table(runs: list[RunResult]) -> pd.DataFrame:
    frames = []
    for r, res in enumerate(runs):
        df = res.timeseries.copy()
        df.insert(0, "replicate", r)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def write_results(runs: list[RunResult], out: str | Path, seed: int,
                  overrides: Mapping[str, Any] | None = None) -> Path:
    """timeseries.csv, outcomes.csv, scenario.toml, run.json and main_series.png in ``out``.

    ``overrides``: the ``--set`` values the scenario was loaded with, recorded
    in run.json beside its source (scenario.toml holds the resolved result)."""
    from .reports.plots import plot_main_series

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ts = timeseries_table(runs)
    ts.to_csv(out / "timeseries.csv", index=False)
    outcomes_table(runs).to_csv(out / "outcomes.csv", index=False)
    sc = runs[0].scenario
    (out / "scenario.toml").write_text(sc.to_toml(), encoding="utf-8")
    meta = {
        "package": "nlcsim", "version": __version__, "model_source": model_source(), "scenario": sc.name, "source": sc.source,
        "overrides": dict(overrides or {}), "seed": seed, "replicates": len(runs),
        "replicate_seeds": [r.seed for r in runs],
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "seconds": [round(r.seconds, 4) for r in runs],
    }
    (out / "run.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    plot_main_series(ts, sc, out / "main_series.png")
    return out
