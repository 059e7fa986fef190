"""Experiments at scale: declarative sweeps, sensitivity analysis and scenario discovery.

An experiment file (``experiments/*.toml``) names a base scenario, the factors
to vary, a design (grid, lhs, sobol, morris or list), replicates and a seed.
:func:`sweep` runs it serially, on local processes or on a Dask cluster and
streams the results to Parquet; running it again resumes where it stopped.
:func:`load_results` returns them as a pandas DataFrame; :func:`analyze`
computes Sobol or Morris indices (SALib) and discovers the region where an
outcome passes a threshold (PRIM).

    from nlcsim.sweeps import sweep, load_results, analyze
    summary = sweep("experiments/trust_depth_grid.toml", out="results/tdg", workers=2)
    table = load_results("results/tdg")        # one row per run, sorted by run_id
    report = analyze("results/tdg")
"""

from .experiment import Experiment, ExperimentError, Factor, load_experiment, parse_target
from .runner import SweepSummary, load_manifest, load_results, rerun, sweep


def analyze(results, **kwargs):
    """Sensitivity indices, grid summaries and scenario discovery for a results folder.

    See :func:`nlcsim.sweeps.analysis.analyze`.
    """
    from .analysis import analyze as _analyze

    return _analyze(results, **kwargs)


__all__ = ["Experiment", "ExperimentError", "Factor", "SweepSummary", "analyze", "load_experiment",
           "load_manifest", "load_results", "parse_target", "rerun", "sweep"]
