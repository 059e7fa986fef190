"""Analysis of a sweep: Sobol and Morris indices (SALib), grid summaries, scenario discovery (PRIM).

Failed runs are never dropped silently.  Each point's value is the mean over
its successful replicates; a point with none is missing.  Saltelli's Sobol
estimator and Morris' elementary effects are computed over whole blocks of
points (a base sample with its cross-samples; a trajectory), so a block with a
missing point is dropped whole and the report says how many were dropped and
why.  That keeps the estimators well-defined; if failures cluster in one region
of the parameter space the indices describe the model where it runs, and the
report says so.  Scenario discovery counts only runs that finished, and says
how many it left out.

Sources: Saltelli (2002) and Saltelli et al. (2010) for Sobol indices; Morris
(1991) and Campolongo, Cariboni and Saltelli (2007) for mu* and sigma; Friedman
and Fisher (1999) for PRIM and Bryant and Lempert (2010) for its use in
scenario discovery (coverage, density, quasi-p values).
"""

from __future__ import annotations

import json
import operator
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .. import __version__
from ..errors import UserError
from ..provenance import package_versions
from .designs import RAW
from .experiment import parse_target
from .store import ResultsStore, write_atomic
from .words import plural

DEFAULT_OUTCOMES = ("practice_change", "adoption_share", "knowledge_created", "knowledge_reach",
                    "joint_work_share", "mean_trust", "engagement", "active_schools_share", "sustainability",
                    "pupil_outcome")
META = ("run_id", "point", "replicate", "status", "error", "seconds")
ANALYSIS_STREAM = 0xA11  # spawn key of the bootstrap's random stream
ANALYSIS_SEED_RULE = f"numpy.random.SeedSequence(experiment_seed, spawn_key=(0x{ANALYSIS_STREAM:X},))"
CONF_LEVEL = 0.95
OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}


@dataclass
class Analysis:
    """What :func:`analyze` found; ``str()`` is the report it prints and writes to summary.md."""

    out: Path
    text: str
    sobol: pd.DataFrame | None = None
    morris: pd.DataFrame | None = None
    grid: pd.DataFrame | None = None
    discovery: dict[str, Any] | None = None
    accounting: dict[str, Any] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    def __str__(self) -> str:
        return self.text


def _seed(manifest: dict) -> int:
    """The seed of the analysis' randomness (the bootstrap), from the experiment seed (ANALYSIS_SEED_RULE)."""
    ss = np.random.SeedSequence(int(manifest["seeds"]["experiment_seed"]), spawn_key=(ANALYSIS_STREAM,))
    return int(ss.generate_state(1)[0]) or 1   # SALib's Sobol bootstrap takes seed 0 as "unseeded"


def accounting(table: pd.DataFrame, manifest: dict) -> dict[str, int]:
    """Runs planned, recorded, failed and not yet run."""
    expected = int(manifest["runs"])
    recorded = int(len(table))
    failed = int((table["status"] != "ok").sum()) if recorded else 0
    return {"planned": expected, "recorded": recorded, "failed": failed, "not_run": expected - recorded}


def point_means(table: pd.DataFrame, outcome: str, n_points: int, replicates: int) -> tuple[np.ndarray, dict]:
    """Each point's mean over its successful replicates with a finite value (NaN if none)."""
    usable = table[(table["status"] == "ok") & np.isfinite(pd.to_numeric(table[outcome], errors="coerce"))]
    g = usable.groupby("point")[outcome]
    means = np.full(n_points, np.nan)
    counts = np.zeros(n_points, dtype=int)
    m, c = g.mean(), g.count()
    means[m.index.to_numpy()] = m.to_numpy(dtype=float)
    counts[c.index.to_numpy()] = c.to_numpy()
    ok = table["status"] == "ok"
    info = {"non_finite_values": int((ok & ~np.isfinite(pd.to_numeric(table[outcome], errors="coerce"))).sum()),
            "points_missing": int((counts == 0).sum()),
            "points_short": int(((counts > 0) & (counts < replicates)).sum())}
    return means, info


def _complete_blocks(values: np.ndarray, step: int, unit: str, blocks_name: str) -> tuple[np.ndarray, np.ndarray, dict]:
    """Point values cut into blocks of ``step`` runs (Saltelli blocks, Morris trajectories).

    Returns the blocks, which of them have every value, and the counts
    (``{unit}``, ``{unit}_used``), with ``not_computed`` set when fewer than
    two blocks (``blocks_name``) are complete.
    """
    blocks = values.reshape(-1, step)
    keep = np.isfinite(blocks).all(axis=1)
    info = {unit: int(len(blocks)), f"{unit}_used": int(keep.sum())}
    if keep.sum() < 2:
        info["not_computed"] = f"fewer than two complete {blocks_name}"
    return blocks, keep, info


def sobol_indices(problem: dict, values: np.ndarray, second_order: bool, resamples: int = 1000,
                  seed: int | None = None) -> tuple[pd.DataFrame | None, dict]:
    """Sobol S1, ST (and S2) with 95% bootstrap CIs from point values in Saltelli's sample order.

    Blocks (a base sample and its cross-samples) with a missing value are dropped whole.
    """
    from SALib.analyze import sobol

    d = problem["num_vars"]
    step = 2 * d + 2 if second_order else d + 2
    blocks, keep, info = _complete_blocks(values, step, "base_samples", "Saltelli blocks")
    if "not_computed" in info:
        return None, info
    y = blocks[keep].ravel()
    if np.nanstd(y) == 0:
        info["not_computed"] = "the outcome does not vary across runs"
        return None, info
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = sobol.analyze(problem, y, calc_second_order=second_order, num_resamples=resamples,
                            conf_level=CONF_LEVEL, seed=seed)
    rows = []
    names = problem["names"]
    for i, name in enumerate(names):
        for idx in ("S1", "ST"):
            rows.append({"index": idx, "factor": name, "factor2": None, "value": float(res[idx][i]),
                         "conf": float(res[f"{idx}_conf"][i])})
    if second_order:
        for i in range(d):
            for j in range(i + 1, d):
                rows.append({"index": "S2", "factor": names[i], "factor2": names[j],
                             "value": float(res["S2"][i, j]), "conf": float(res["S2_conf"][i, j])})
    out = pd.DataFrame(rows)
    out["low"], out["high"] = out["value"] - out["conf"], out["value"] + out["conf"]
    return out, info


def morris_indices(problem: dict, x: np.ndarray, values: np.ndarray, levels: int, resamples: int = 1000,
                   seed: int | None = None) -> tuple[pd.DataFrame | None, dict]:
    """Morris mu, mu*, sigma and the 95% CI of mu*; trajectories with a missing value are dropped whole."""
    from SALib.analyze import morris

    d = problem["num_vars"]
    step = d + 1
    _, keep, info = _complete_blocks(values, step, "trajectories", "trajectories")
    if "not_computed" in info:
        return None, info
    rows = np.repeat(keep, step)
    problem = {k: v for k, v in problem.items() if k != "dists"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = morris.analyze(problem, x[rows], values[rows], num_resamples=resamples, conf_level=CONF_LEVEL,
                             num_levels=levels, seed=seed)
    out = pd.DataFrame({"factor": list(res["names"]), "mu": np.asarray(res["mu"], dtype=float),
                        "mu_star": np.asarray(res["mu_star"], dtype=float),
                        "sigma": np.asarray(res["sigma"], dtype=float),
                        "mu_star_conf": np.asarray(res["mu_star_conf"], dtype=float)})
    return out.sort_values("mu_star", ascending=False).reset_index(drop=True), info


def grid_cells(table: pd.DataFrame, keys: list[str], outcome: str) -> pd.DataFrame:
    """Mean, 95% t-interval half-width and count of an outcome in each cell of ``keys``.

    Every cell of the design is listed, also one whose runs all failed (n = 0, no mean).
    """
    usable = table[(table["status"] == "ok")].copy()
    usable[outcome] = pd.to_numeric(usable[outcome], errors="coerce")
    usable = usable[np.isfinite(usable[outcome])]
    g = usable.groupby(keys)[outcome]
    found = pd.DataFrame({"mean": g.mean(), "sd": g.std(ddof=1), "n": g.count()}).reset_index()
    cells = table[keys].drop_duplicates().sort_values(keys).merge(found, on=keys, how="left")
    cells["n"] = cells["n"].fillna(0).astype(int)
    t = stats.t.ppf(0.5 + CONF_LEVEL / 2, np.maximum(cells["n"] - 1, 1))
    cells["half_width"] = np.where(cells["n"] > 1, t * cells["sd"] / np.sqrt(np.maximum(cells["n"], 1)), np.nan)
    failed = table[table["status"] != "ok"].groupby(keys).size().rename("failed").reset_index()
    cells = cells.merge(failed, on=keys, how="left") if len(failed) else cells.assign(failed=0)
    cells["failed"] = cells["failed"].fillna(0).astype(int)
    return cells.reset_index(drop=True)


def marginal_cells(cells: pd.DataFrame, pair: list[str]) -> pd.DataFrame:
    """The cells of ``pair`` from the cells of every varied factor (:func:`grid_cells`):
    in each, the mean of its points' means, every level of the other factors weighted
    equally, and the 95% half-width of that mean from the points' standard errors
    (Welch-Satterthwaite degrees of freedom).  The runs of different levels are not
    replicates of one another, so they are not pooled.  A cell with a point that has
    no usable run has no mean; one with a point of a single run, no half-width."""
    def combine(group: pd.DataFrame) -> pd.Series:
        k = len(group)
        if (group["n"] < 1).any():
            return pd.Series({"mean": np.nan, "half_width": np.nan, "n": int(group["n"].sum())})
        mean = group["mean"].mean()
        if (group["n"] < 2).any():
            return pd.Series({"mean": mean, "half_width": np.nan, "n": int(group["n"].sum())})
        v = group["sd"] ** 2 / group["n"]
        se = np.sqrt(v.sum()) / k
        df = v.sum() ** 2 / (v ** 2 / (group["n"] - 1)).sum() if v.sum() > 0 else 1.0
        return pd.Series({"mean": mean, "half_width": stats.t.ppf(0.5 + CONF_LEVEL / 2, df) * se,
                          "n": int(group["n"].sum())})

    out = cells.groupby(pair, sort=True)[["mean", "sd", "n"]].apply(combine).reset_index()
    out["n"] = out["n"].astype(int)
    return out


def discover(table: pd.DataFrame, keys: list[str], target: str, min_density: float = 0.8,
             mass_min: float = 0.05) -> dict[str, Any]:
    """PRIM (Friedman and Fisher 1999) on the runs: the box of factor values where the target holds.

    The box is chosen on the peeling trajectory as the one with the highest
    coverage among those with density >= ``min_density`` (Bryant and Lempert
    2010); if none reaches it, the densest box.  Failed runs are left out and counted.
    """
    import prim

    name, op, threshold = parse_target(target)
    if name not in table.columns:
        raise UserError(f"target {target!r}: no column {name!r} in the results")
    ok = table["status"] == "ok"
    y_all = pd.to_numeric(table[name], errors="coerce")
    usable = ok & np.isfinite(y_all)
    result: dict[str, Any] = {"target": target, "runs_used": int(usable.sum()),
                              "runs_left_out_failed": int((~ok).sum()),
                              "runs_left_out_non_finite": int((ok & ~np.isfinite(y_all)).sum())}
    x = table.loc[usable, keys].copy()
    varied = [k for k in keys if x[k].nunique() > 1]
    skipped = [k for k in varied if x[k].dtype == object]
    varied = [k for k in varied if k not in skipped]
    if skipped:
        result["factors_left_out"] = skipped
    for k in varied:
        if x[k].dtype == bool:
            x[k] = x[k].astype(np.int64)
    x = x[varied].reset_index(drop=True)
    passed = OPS[op](y_all[usable].to_numpy(dtype=float), threshold)
    result.update(passing=int(passed.sum()), factors=varied)
    if not varied:
        result["box"] = None
        result["reason"] = "no factor varies among the usable runs"
        return result
    if passed.all() or not passed.any():
        result["box"] = None
        result["reason"] = f"{'every' if passed.all() else 'no'} usable run passes {target}: there is no region to find"
        return result
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = prim.Prim(x, passed, threshold=None, mass_min=mass_min)
        box = p.find_box()
    traj = box.peeling_trajectory.reset_index(drop=True).astype(float)
    dense = traj.index[traj["density"] >= min_density]
    if len(dense):
        chosen = int(traj.loc[dense, "coverage"].idxmax())
        rule = f"highest coverage among boxes with density >= {min_density:g}"
    else:
        chosen = int(traj["density"].idxmax())
        rule = f"no box reaches density {min_density:g}: the densest box"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        box.select(chosen)
        limits = box.limits.rename(columns={"qp values": "qp"})
    limits.index.name = "factor"
    full = pd.DataFrame({"min": x.min(), "max": x.max()})
    limits["range_min"] = full.loc[limits.index, "min"].to_numpy(dtype=float)
    limits["range_max"] = full.loc[limits.index, "max"].to_numpy(dtype=float)
    result.update(box=limits, trajectory=traj, chosen=chosen, rule=rule, x=x, passed=passed,
                  coverage=float(traj.loc[chosen, "coverage"]), density=float(traj.loc[chosen, "density"]),
                  mass=float(traj.loc[chosen, "mass"]), base_rate=float(passed.mean()))
    return result


def _fmt(v: float) -> str:
    return f"{v:.3g}" if np.isfinite(v) else "nan"


def analyze(results: str | Path, outcomes: list[str] | None = None, target: str | None = None,
            min_density: float | None = None, mass_min: float | None = None, out: str | Path | None = None,
            plots: bool = True, resamples: int = 1000) -> Analysis:
    """Analyse a sweep's results folder and write CSV, PNG and summary files to ``out``
    (default ``RESULTS/analysis``).

    Sobol and Morris designs get their indices with 95% CIs; grids get cell means
    and heatmaps; any design gets scenario discovery when a ``target`` such as
    ``"active_schools_share >= 0.5"`` is given here or in the experiment file.
    summary.json (and a line of summary.md) records the provenance: versions,
    results folder, experiment and its seed, runs analysed, and the settings
    that affect the numbers (resamples, the bootstrap's seed).
    """
    store = ResultsStore(results)
    manifest = store.read_manifest()
    exp = manifest["experiment"]
    keys = [f["key"] for f in exp["factors"]]
    design_name = exp["design"]
    table = store.read_table("outcomes")
    if table.empty or "status" not in table:
        raise UserError(f"{results}: no runs recorded yet; run the sweep first")
    out = Path(out) if out is not None else store.root / "analysis"
    out.mkdir(parents=True, exist_ok=True)
    earlier = _files_of_earlier_analysis(out)
    available = [c for c in table.columns if c not in META and c not in keys]
    if outcomes is None:
        outcomes = exp.get("outcomes")
    if outcomes is None:
        preferred = [o for o in DEFAULT_OUTCOMES if o in available]
        outcomes = preferred or [c for c in available if pd.api.types.is_numeric_dtype(table[c])]
    unknown = [o for o in outcomes if o not in available]
    if unknown:
        raise UserError(f"unknown outcome(s) {', '.join(unknown)}; the results hold: {', '.join(available)}")
    target = target if target is not None else exp.get("target")
    min_density = min_density if min_density is not None else exp.get("min_density", 0.8)
    mass_min = mass_min if mass_min is not None else exp.get("mass_min", 0.05)
    acc = accounting(table, manifest)
    n_points, replicates = int(manifest["points"]), int(manifest["replicates"])
    analysis = Analysis(out=out, text="", accounting=acc)
    lines = [f"# Analysis of {exp['name']} ({design_name} design)", "",
             f"Runs: {acc['planned']} planned ({plural(n_points, 'point')} x {plural(replicates, 'replicate')}), "
             f"{acc['recorded']} recorded, {acc['failed']} failed, {acc['not_run']} not yet run."]
    if acc["failed"]:
        errors = table.loc[table["status"] != "ok", "error"].fillna("").str.split("\n").str[0]
        common = errors.value_counts().head(3)
        lines.append("Most common errors: " + "; ".join(f"{n} x {e[:120]}" for e, n in common.items()))
    seed = _seed(manifest)
    provenance = {"nlcsim_version": __version__, "sweep_nlcsim_version": manifest.get("version"),
                  "sweep_model_source": manifest.get("model_source"), "versions": package_versions(),
                  "results": str(store.root.resolve()), "experiment": exp["name"],
                  "experiment_seed": int(manifest["seeds"]["experiment_seed"]),
                  "fingerprint": manifest.get("fingerprint"),
                  "runs_analysed": {"ok": acc["recorded"] - acc["failed"], "failed": acc["failed"]}}
    settings = {"outcomes": list(outcomes), "resamples": int(resamples), "seed": seed,
                "seed_rule": ANALYSIS_SEED_RULE, "conf_level": CONF_LEVEL, "target": target,
                "min_density": float(min_density), "mass_min": float(mass_min)}
    resampling = (f"bootstrap CIs from {plural(resamples, 'resample')}, seed {seed}"
                  if design_name in ("sobol", "morris") else "t-interval CIs, no resampling")
    lines.append(f"Provenance: nlcsim {__version__}; results {provenance['results']} (experiment {exp['name']}, "
                 f"seed {provenance['experiment_seed']}); {provenance['runs_analysed']['ok']} ok and "
                 f"{plural(acc['failed'], 'failed run')} analysed; {resampling}"
                 + (f"; PRIM min_density {float(min_density):g}, mass_min {float(mass_min):g}" if target else "")
                 + ".")
    lines.append("")

    if design_name in ("sobol", "morris"):
        problem = manifest["salib_problem"]
        if design_name == "morris":  # the trajectories' raw points, read once for every outcome
            x = store.read_design()[[RAW + k for k in keys]].to_numpy(dtype=float)
        frames = []
        for outcome in outcomes:
            values, info = point_means(table, outcome, n_points, replicates)
            if design_name == "sobol":
                res, block = sobol_indices(problem, values, exp.get("second_order", True), resamples, seed)
                unit, total_key, used_key = "Saltelli blocks (base samples)", "base_samples", "base_samples_used"
            else:
                res, block = morris_indices(problem, x, values, int(exp.get("levels", 4)), resamples, seed)
                unit, total_key, used_key = "trajectories", "trajectories", "trajectories_used"
            note = (f"{acc['failed']} failed and {plural(acc['not_run'], 'not-run run')}; "
                    f"{plural(info['points_missing'], 'point')} without a usable replicate; "
                    f"{block[used_key]} of {block[total_key]} {unit} used (blocks with a missing point dropped "
                    f"whole); {plural(info['points_short'], 'point')} averaged fewer than "
                    f"{plural(replicates, 'replicate')}")
            lines.append(f"## {outcome}")
            lines.append(f"Failed runs: {note}.")
            if info["non_finite_values"]:
                lines.append(f"{plural(info['non_finite_values'], 'finished run')} gave a non-finite {outcome}; "
                             "such runs count as missing for this outcome.")
            if block[used_key] < block[total_key]:
                lines.append("Dropping blocks is exact if failures are unrelated to the factor values; if they "
                             "cluster in one region, these indices describe the model where it runs.")
            if res is None:
                lines.append(f"Not computed: {block['not_computed']}.")
                lines.append("")
                continue
            res.insert(0, "outcome", outcome)
            frames.append(res)
            if design_name == "sobol":
                for idx in ("S1", "ST"):
                    part = res[res["index"] == idx]
                    lines.append(f"{idx}: " + ", ".join(f"{r.factor} {_fmt(r.value)} ± {_fmt(r.conf)}"
                                                       for r in part.itertuples()))
                if plots:
                    analysis.files.append(_plot("sobol", outcome, out, res, note))
            else:
                lines.append("mu* (± 95% CI), sigma: " + ", ".join(
                    f"{r.factor} {_fmt(r.mu_star)} ± {_fmt(r.mu_star_conf)}, {_fmt(r.sigma)}"
                    for r in res.head(12).itertuples()) + (" ..." if len(res) > 12 else ""))
                if plots:
                    analysis.files.append(_plot("morris", outcome, out, res, note))
            lines.append("")
        if frames:
            table_out = pd.concat(frames, ignore_index=True)
            _save_csv(analysis, out / f"{design_name}_indices.csv", table_out, index=False)
            setattr(analysis, design_name, table_out)

    if design_name in ("grid", "list"):
        varied = [k for k in keys if table[k].nunique() > 1]
        frames = []
        for outcome in outcomes:
            cells = grid_cells(table, keys, outcome)
            cells.insert(0, "outcome", outcome)
            frames.append(cells)
            if plots and varied and design_name == "grid":
                note = (f"{plural(acc['failed'], 'failed run')} left out of the means "
                        "(counted per cell in grid_means.csv)")
                pair = varied[:2]
                other = [k for k in varied if k not in pair]
                view = grid_cells(table, pair, outcome)
                if other:
                    note += (f"; each cell the mean over the levels of {', '.join(other)}, weighted equally, "
                             "± from the points' standard errors")
                    view = marginal_cells(grid_cells(table, varied, outcome), pair)
                analysis.files.append(_plot("grid", outcome, out, view, note, pair))
        analysis.grid = pd.concat(frames, ignore_index=True)
        _save_csv(analysis, out / "grid_means.csv", analysis.grid, index=False)
        lines.append(f"{design_name.capitalize()}: means with 95% CIs per point for {plural(len(outcomes), 'outcome')} "
                     f"in grid_means.csv ({plural(acc['failed'], 'failed run')} left out, counted per point)"
                     + (f"; heatmaps over {' x '.join(varied[:2])}." if design_name == "grid" and len(varied) >= 2
                        else "."))
        lines.append("")

    if design_name == "lhs" and not target:
        lines.append("A Latin hypercube design has no indices of its own: give a target (--target "
                     '"OUTCOME >= VALUE", or target in the experiment\'s [analysis]) for scenario discovery.')
        lines.append("")

    if target:
        found = discover(table, keys, target, float(min_density), float(mass_min))
        analysis.discovery = found
        lines.append(f"## Scenario discovery: {target}")
        lines.append(f"PRIM over {plural(found['runs_used'], 'finished run')} ({found['runs_left_out_failed']} "
                     f"failed and {plural(found['runs_left_out_non_finite'], 'non-finite run')} left out); "
                     f"the target holds in {plural(found.get('passing', 0), 'run')}.")
        if found.get("box") is None:
            lines.append(f"No box: {found['reason']}.")
        else:
            lines.append(f"Box ({found['rule']}): coverage {found['coverage']:.2f}, density {found['density']:.2f} "
                         f"(base rate {found['base_rate']:.2f}), mass {found['mass']:.2f}.")
            for name, row in found["box"].iterrows():
                lines.append(f"- {name} from {_fmt(row['min'])} to {_fmt(row['max'])} "
                             f"(sampled {_fmt(row['range_min'])} to {_fmt(row['range_max'])}; quasi-p {row['qp']:.2g})")
            _save_csv(analysis, out / "discovery_box.csv", found["box"])
            _save_csv(analysis, out / "discovery_trajectory.csv", found["trajectory"], index_label="box")
            if plots:
                from .plots import discovery_plot

                title = (f"{target}: coverage {found['coverage']:.2f}, density {found['density']:.2f}, "
                         f"{plural(found['runs_left_out_failed'], 'failed run')} left out")
                analysis.files.append(discovery_plot(found["x"], found["passed"], found["box"],
                                                     found["trajectory"], found["chosen"], title,
                                                     out / "discovery.png"))
        lines.append("")

    analysis.text = "\n".join(lines).rstrip() + "\n"
    write_atomic(out / "summary.md", analysis.text.encode("utf-8"))
    summary = {"experiment": exp["name"], "design": design_name, "runs": acc, "outcomes": outcomes,
               "target": target, "files": [p.name for p in analysis.files], "provenance": provenance,
               "settings": settings}
    if analysis.discovery and analysis.discovery.get("box") is not None:
        summary["discovery"] = {k: analysis.discovery[k] for k in ("coverage", "density", "mass", "rule")}
        summary["discovery"]["box"] = analysis.discovery["box"].reset_index().to_dict(orient="records")
    write_atomic(out / "summary.json", json.dumps(summary, indent=2, default=str).encode("utf-8"))
    analysis.files += [out / "summary.md", out / "summary.json"]
    for name in earlier - {p.name for p in analysis.files}:  # an earlier analysis' figures and tables, not this one's
        (out / name).unlink(missing_ok=True)
    return analysis


def _files_of_earlier_analysis(out: Path) -> set[str]:
    """The files an earlier analysis in ``out`` wrote (its summary.json lists them): what this one
    does not write again is removed, so the folder never mixes two analyses.  Other files stay."""
    try:
        names = json.loads((out / "summary.json").read_text(encoding="utf-8")).get("files", [])
    except (OSError, ValueError, AttributeError):
        return set()
    return {n for n in names if isinstance(n, str) and Path(n).name == n}


def _save_csv(analysis, path: Path, frame: pd.DataFrame, **to_csv) -> None:
    """Write ``frame`` to ``path`` as CSV, whole or not at all, and list it among the analysis' files."""
    write_atomic(path, frame.to_csv(**to_csv).encode("utf-8"))
    analysis.files.append(path)


def _plot(kind: str, outcome: str, out: Path, table: pd.DataFrame, note: str, pair=None) -> Path:
    from . import plots

    if kind == "sobol":
        return plots.sobol_plot(table, outcome, note, out / f"sobol_{outcome}.png")
    if kind == "morris":
        return plots.morris_plot(table, outcome, note, out / f"morris_{outcome}.png")
    if len(pair) == 1:
        return plots.line(table, pair[0], outcome, note, out / f"grid_{outcome}.png")
    return plots.heatmap(table, pair[0], pair[1], outcome, note, out / f"heatmap_{outcome}.png")
