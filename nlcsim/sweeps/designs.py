"""Designs: the points of an experiment, one row per point.

``grid`` is the full factorial of the factors' levels; ``lhs``, ``sobol`` and
``morris`` are drawn by SALib's samplers (Latin hypercube, Saltelli's scheme
for Sobol indices (Saltelli 2002; Saltelli et al. 2010), and Morris
trajectories (Morris 1991; Campolongo, Cariboni and Saltelli 2007));
``list`` takes the points as written.  Sampled designs draw from
``SeedSequence(seed, spawn_key=(DESIGN_STREAM,))`` so the design never shares a
stream with a run, and the design is stored beside the results: a resumed sweep
reads the stored design rather than drawing it again.

Each table has a ``point`` column, one column per factor holding the value the
scenario receives (whole-number parameters rounded) and, for sampled designs,
``raw:<key>`` columns holding the sampler's unrounded values, which the
sensitivity analysis needs.

>>> from nlcsim.sweeps.experiment import load_experiment
>>> exp = load_experiment({"experiment": {"design": "grid"}, "factors": [
...     {"key": "trust.initial", "levels": [0.2, 0.8]}, {"key": "enquiry.level", "levels": [0.0, 1.0]}]})
>>> make_design(exp)[["point", "trust.initial", "enquiry.level"]]
   point  trust.initial  enquiry.level
0      0            0.2            0.0
1      1            0.2            1.0
2      2            0.8            0.0
3      3            0.8            1.0
"""

from __future__ import annotations

import itertools
import warnings
from typing import Any

import numpy as np
import pandas as pd

from .experiment import Experiment

DESIGN_STREAM = 0x5EED  # spawn key of the design's own random stream
RAW = "raw:"


def salib_problem(exp: Experiment) -> dict[str, Any]:
    """The SALib problem dict: names, bounds and distributions of the ranged factors."""
    bounds, dists = zip(*(f.salib_bounds() for f in exp.factors))
    return {"num_vars": len(exp.factors), "names": exp.keys, "bounds": [list(b) for b in bounds],
            "dists": list(dists)}


def design_seed(exp: Experiment) -> int:
    """A 32-bit seed for SALib's samplers, spawned from the experiment's seed."""
    ss = np.random.SeedSequence(exp.seed, spawn_key=(DESIGN_STREAM,))
    return int(ss.generate_state(1)[0])


def _sampled(exp: Experiment) -> np.ndarray:
    from SALib.sample import latin, morris, sobol

    problem, seed = salib_problem(exp), design_seed(exp)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if exp.design == "lhs":
            return latin.sample(problem, exp.samples, seed=seed)
        if exp.design == "sobol":
            return sobol.sample(problem, exp.samples, calc_second_order=exp.second_order, seed=seed)
        return morris.sample(problem, exp.samples, num_levels=exp.levels, seed=seed)


def make_design(exp: Experiment) -> pd.DataFrame:
    """One row per point, in point order (the order SALib's analysers expect)."""
    if exp.design == "grid":
        rows = list(itertools.product(*(f.grid_levels() for f in exp.factors)))
        table = pd.DataFrame(rows, columns=exp.keys)
    elif exp.design == "list":
        table = pd.DataFrame([{f.key: f.apply(p[f.key]) for f in exp.factors} for p in exp.points],
                             columns=exp.keys)
    else:
        raw = _sampled(exp)
        columns = {f.key: [f.apply(v) for v in raw[:, j]] for j, f in enumerate(exp.factors)}
        columns.update({RAW + f.key: raw[:, j] for j, f in enumerate(exp.factors)})
        table = pd.DataFrame(columns)
    for f in exp.factors:  # one dtype per column so every chunk has the same schema
        if f.kind in ("int", "float", "bool"):
            table[f.key] = table[f.key].astype({"int": "int64", "float": "float64", "bool": "bool"}[f.kind])
    return pd.concat([pd.DataFrame({"point": np.arange(len(table), dtype=np.int64)}), table], axis=1)


def design_overrides(design: pd.DataFrame, keys: list[str]) -> list[dict[str, Any]]:
    """The scenario overrides of every point, in design order, as plain Python values
    (each column keeps its own type: a whole-number factor stays an int beside a decimal one)."""
    return design[list(keys)].to_dict("records")
