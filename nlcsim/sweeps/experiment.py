"""Experiment files: what to vary, how to sample it, how often to repeat, what to record.

An experiment is a small declarative TOML file (after NetLogo's BehaviorSpace
and EMA Workbench's uncertainties + sampler).  Nothing in it is executed:
values are plain TOML data, checked at load against the scenario's parameter
table, and every problem is reported at once with the file, the key, the value
and what is allowed.

    [experiment]
    name = "trust_depth_grid"
    base = "baseline"            # preset name or scenario file
    design = "grid"              # grid | lhs | sobol | morris | list
    replicates = 3
    seed = 2002

    [fixed]                      # overrides applied to every run
    "population.schools_per_network" = 6

    [[factors]]
    key = "trust.initial"
    levels = [0.2, 0.5, 0.8]

    [[factors]]
    key = "collaboration.depth"
    low = 0.1
    high = 0.9
    steps = 5

    [record]
    timeseries_every = 13        # weeks; 0 = end-of-run outcomes only

    [analysis]
    outcomes = ["practice_change", "joint_work_share"]
    target = "active_schools_share >= 0.5"   # scenario discovery (PRIM)

Examples
--------
>>> exp = load_experiment({"experiment": {"design": "grid", "replicates": 2},
...                        "factors": [{"key": "trust.initial", "levels": [0.2, 0.8]}]})
>>> exp.design, exp.replicates, [f.key for f in exp.factors]
('grid', 2, ['trust.initial'])
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..errors import UserError, problems_message
from ..scenario import (MECHANISMS, PARAM_BY_NAME, Scenario, ScenarioError, check_value, flat_overrides, is_number,
                        resolve_near, suggest)

DESIGNS = ("grid", "lhs", "sobol", "morris", "list")
# the settings that only some designs read, and those designs (a manifest records them only for those)
DESIGN_SETTINGS = {"samples": ("lhs", "sobol", "morris"), "second_order": ("sobol",), "levels": ("morris",),
                   "points": ("list",)}
DISTRIBUTIONS = ("uniform", "loguniform", "triangular", "normal")
SECTIONS = ("experiment", "fixed", "factors", "points", "record", "analysis")
EXPERIMENT_KEYS = {
    "name": "a short title (default: the file name)",
    "description": "what the experiment asks",
    "base": "the base scenario: a preset name or a scenario file (relative to the experiment file)",
    "design": f"one of {', '.join(DESIGNS)}",
    "replicates": "runs per design point, each with its own seed (a whole number >= 1)",
    "seed": "the experiment's seed; run (point, replicate) uses SeedSequence(seed, spawn_key=(point, replicate))",
    "samples": "lhs: number of points; sobol: base samples N (a power of 2); morris: number of trajectories",
    "second_order": "sobol: also compute second-order indices S2 (true or false)",
    "levels": "morris: number of grid levels p (an even number >= 2)",
}
FACTOR_KEYS = {"key", "levels", "low", "high", "steps", "distribution", "peak", "mean", "sd"}
RECORD_KEYS = {"timeseries_every": "record the weekly time series every K weeks (0 = none)",
               "timeseries_columns": "which time-series columns to keep (default: all)"}
ANALYSIS_KEYS = {"outcomes": "outcomes to analyse (default: a few key outcomes)",
                 "target": "scenario-discovery target, e.g. \"active_schools_share >= 0.5\"",
                 "min_density": "PRIM: smallest acceptable share of passing runs inside the box (0-1)",
                 "mass_min": "PRIM: smallest share of all runs a box may hold (0-1)"}
_TARGET = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(>=|<=|>|<)\s*([-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)\s*$")


class ExperimentError(UserError):
    """An experiment could not be loaded, or its results folder cannot take it (``what``
    = "results folder"); the message lists every problem."""

    def __init__(self, source: str, problems: list[str], what: str = "experiment"):
        self.source = source
        self.problems = problems
        super().__init__(problems_message(source, problems, what))


@dataclass(frozen=True)
class Factor:
    """One varied input: explicit ``levels``, or a range [low, high] with a distribution."""

    key: str
    levels: tuple | None = None
    low: float | None = None
    high: float | None = None
    steps: int | None = None
    distribution: str = "uniform"
    peak: float | None = None
    mean: float | None = None
    sd: float | None = None
    kind: str = "float"          # float | int | bool (from the scenario table or the data)

    def grid_levels(self) -> list:
        """The levels this factor takes in a grid."""
        if self.levels is not None:
            return list(self.levels)
        values = [self.low + (self.high - self.low) * i / (self.steps - 1) for i in range(self.steps)]
        if self.kind == "int":
            return list(dict.fromkeys(self.apply(v) for v in values))
        return [round(v, 12) for v in values]

    def salib_bounds(self) -> tuple[list[float], str]:
        """SALib's bounds and distribution name for this factor (see SALib.util.scale_samples).

        A whole-number factor is sampled over [low - 0.5, high + 0.5] and rounded, so that
        under a uniform distribution every whole number from low to high is equally likely
        (a log-uniform one keeps its range, which must stay above 0).
        """
        pad = 0.5 if self.kind == "int" and self.distribution != "loguniform" else 0.0
        low, high = self.low - pad, self.high + pad
        if self.distribution == "uniform":
            return [low, high], "unif"
        if self.distribution == "loguniform":
            return [low, high], "logunif"
        if self.distribution == "triangular":
            return [low, high, (self.peak - low) / (high - low)], "triang"
        return [low, high, self.mean, self.sd], "truncnorm"

    def apply(self, value: Any) -> Any:
        """A sampled value as the scenario wants it: whole numbers rounded half up into
        [low, high], flags as bools."""
        if self.kind == "int":
            whole = math.floor(float(value) + 0.5)
            return int(whole if self.low is None else min(max(whole, self.low), self.high))
        if self.kind == "bool":
            return bool(value)
        if isinstance(value, str):
            return value
        return float(value)


@dataclass
class Experiment:
    """A validated experiment: base scenario, factors, design, replicates, seed, what to record."""

    name: str
    design: str
    factors: list[Factor]
    replicates: int = 1
    seed: int = 1
    base: str | None = "baseline"
    fixed: dict[str, Any] = field(default_factory=dict)
    samples: int | None = None
    second_order: bool = True
    levels: int = 4
    points: list[dict[str, Any]] | None = None
    timeseries_every: int = 0
    timeseries_columns: list[str] | None = None
    outcomes: list[str] | None = None
    target: str | None = None
    min_density: float = 0.8
    mass_min: float = 0.05
    description: str = ""
    source: str = "<experiment>"
    text: str = ""                     # the file as written, stored beside the results
    base_scenario: Scenario | None = None

    @property
    def keys(self) -> list[str]:
        return [f.key for f in self.factors]

    def identity(self) -> dict[str, Any]:
        """Everything that decides which runs exist and what they compute (not comments or names)."""
        return {
            "design": self.design, "replicates": self.replicates, "seed": self.seed,
            "samples": self.samples, "second_order": self.second_order, "levels": self.levels,
            "factors": [_factor_record(f) for f in self.factors], "points": self.points,
            "fixed": self.fixed, "timeseries_every": self.timeseries_every,
            "timeseries_columns": self.timeseries_columns,
            "base_scenario": self.base_scenario.to_dict() if self.base_scenario is not None else None,
        }

    def fingerprint(self) -> str:
        blob = json.dumps(self.identity(), sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()

    def describe(self) -> dict[str, Any]:
        """The experiment as plain data for the manifest (the file itself is stored beside it);
        of the design settings (DESIGN_SETTINGS) only those this design reads."""
        skip = ("text", "base_scenario", "factors")
        out = {f.name: getattr(self, f.name) for f in fields(self)
               if f.name not in skip and self.design in DESIGN_SETTINGS.get(f.name, (self.design,))}
        out["factors"] = [_factor_record(f) for f in self.factors]
        return out


def _factor_record(f: Factor) -> dict[str, Any]:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(f).items() if v is not None}


def parse_target(text: str, source: str = "target") -> tuple[str, str, float]:
    """``"active_schools_share >= 0.5"`` -> ("active_schools_share", ">=", 0.5); never evaluated as code."""
    m = _TARGET.match(text or "")
    if not m:
        raise UserError(f"{source} = {text!r}: write OUTCOME OP NUMBER with OP one of >=, <=, >, <, "
                        "for example \"active_schools_share >= 0.5\"")
    return m.group(1), m.group(2), float(m.group(3))


def load_experiment(source: str | Path | Mapping[str, Any], custom_model: bool = False) -> Experiment:
    """Read and validate an experiment file (or the same data as a dict).

    ``custom_model=True`` is for sweeping a plain Python function instead of the
    model: factor keys are then free names with no scenario behind them.
    """
    if isinstance(source, Mapping):
        import tomli_w

        data, where, folder = _plain(source), "<experiment>", Path.cwd()
        try:
            text = tomli_w.dumps(data)
        except TypeError as err:  # a value TOML cannot hold (an object, a date in a list of numbers ...)
            raise ExperimentError(where, [f"not plain data: {err}"]) from None
    else:
        path = Path(source)
        where = str(path)
        if not path.is_file():
            raise ExperimentError(where, ["no such experiment file"])
        try:
            text = path.read_text(encoding="utf-8")
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise ExperimentError(where, [f"not valid TOML: {err}"]) from None
        except UnicodeDecodeError:
            raise ExperimentError(where, ["not valid TOML: the file is not UTF-8 text"]) from None
        folder = path.resolve().parent
    problems: list[str] = []
    exp = _read(data, where, folder, problems, custom_model)
    if problems:
        raise ExperimentError(where, problems)
    exp.text = text
    exp.source = where
    return exp


def _plain(obj):
    """Python data as TOML holds it: tables, lists and plain numbers (NumPy's included)."""
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, np.ndarray)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def _is_whole(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _section(data: Mapping, name: str, allowed: Mapping[str, str], problems: list[str]) -> Mapping:
    """The table ``[name]`` (empty if absent), with its keys checked against ``allowed``."""
    body = data.get(name, {})
    if not isinstance(body, Mapping):
        problems.append(f"[{name}] must be a table")
        return {}
    for k in body:
        if k not in allowed:
            problems.append(f"unknown key '{name}.{k}'{suggest(k, allowed)}: keys are {', '.join(allowed)}")
    return body


def _read(data: Mapping, where: str, folder: Path, problems: list[str], custom: bool) -> Experiment:
    for section in data:
        if section not in SECTIONS:
            problems.append(f"unknown section [{section}]{suggest(section, SECTIONS)}: sections are {', '.join(SECTIONS)}")
    head = _section(data, "experiment", EXPERIMENT_KEYS, problems)
    name = head.get("name", Path(where).stem if where != "<experiment>" else "experiment")
    design = head.get("design")
    if design not in DESIGNS:
        problems.append(f"experiment.design = {design!r}: must be one of {', '.join(DESIGNS)}")
    replicates = head.get("replicates", 1)
    if not (_is_whole(replicates) and replicates >= 1):
        problems.append(f"experiment.replicates = {replicates!r}: must be a whole number >= 1")
        replicates = 1
    seed = head.get("seed", 1)
    if not (_is_whole(seed) and 0 <= seed < 2**63):
        problems.append(f"experiment.seed = {seed!r}: must be a whole number from 0 to 2**63 - 1")
        seed = 1
    samples = head.get("samples")
    second_order = head.get("second_order", True)
    if not isinstance(second_order, bool):
        problems.append(f"experiment.second_order = {second_order!r}: must be true or false")
    levels = head.get("levels", 4)
    _check_design_size(design, samples, levels, problems)
    for key, takes in (("second_order", "sobol"), ("levels", "morris")):
        if key in head and design in DESIGNS and design != takes:
            problems.append(f"experiment.{key}: only a {takes} design takes it (this design is {design!r})")

    # the base scenario and the fixed overrides
    base_scenario = None
    base = head.get("base", None if custom else "baseline")
    fixed_raw = data.get("fixed", {})
    if not isinstance(fixed_raw, Mapping):
        problems.append("[fixed] must be a table of scenario keys and values")
        fixed_raw = {}
    fixed = flat_overrides(fixed_raw)
    if not custom:
        if not isinstance(base, str):
            problems.append(f"experiment.base = {base!r}: must be a preset name or a scenario file path")
        else:
            base = resolve_near(base, folder)
            try:
                base_scenario = Scenario.load(base, overrides=fixed)
            except ScenarioError as err:
                problems.extend(f"base scenario {base!r} with [fixed]: {p}" for p in err.problems)

    # factors
    raw_factors = data.get("factors", [])
    if not isinstance(raw_factors, list):
        problems.append("factors must be written as [[factors]] tables")
        raw_factors = []
    factors = [f for i, body in enumerate(raw_factors)
               if (f := _read_factor(i, body, design, problems, custom)) is not None]
    keys = [f.key for f in factors]
    for k in sorted({k for k in keys if keys.count(k) > 1}):
        problems.append(f"factor '{k}' is given more than once")
    for k in keys:
        if k in fixed:
            problems.append(f"'{k}' is both a factor and in [fixed]: keep one")

    points = None
    if design == "list":
        points = _read_points(data.get("points"), factors, problems, custom)
        keys_in_points = list(dict.fromkeys(k for p in points for k in p))
        if not factors:   # a list design may name its factors only in its points
            factors = [Factor(k, levels=tuple(dict.fromkeys(p[k] for p in points if k in p)),
                              kind=_kind_of(k, [p.get(k) for p in points])) for k in keys_in_points]
        for i, p in enumerate(points):
            missing = [f.key for f in factors if f.key not in p]
            if missing:
                problems.append(f"points[{i}] does not set {', '.join(missing)}: every point sets every factor")
    elif "points" in data:
        problems.append(f"[[points]] is only read by design = \"list\" (this design is {design!r})")
    if design in DESIGNS and not factors and not data.get("factors"):  # not when every factor was invalid
        problems.append("no factors: add [[factors]] tables (or [[points]] for design = \"list\")")

    # what to record
    record = _section(data, "record", RECORD_KEYS, problems)
    every = record.get("timeseries_every", 0)
    if not (_is_whole(every) and every >= 0):
        problems.append(f"record.timeseries_every = {every!r}: must be a whole number of weeks >= 0 (0 = no time series)")
        every = 0
    if every and custom:
        problems.append("record.timeseries_every: a custom model function records end-of-run outcomes only")
    columns = record.get("timeseries_columns")
    if columns is not None:
        from ..measures import COLUMNS

        if not (isinstance(columns, list) and all(isinstance(c, str) for c in columns)):
            problems.append(f"record.timeseries_columns = {columns!r}: must be a list of column names")
            columns = None
        else:
            for c in columns:
                if c not in COLUMNS:
                    problems.append(f"record.timeseries_columns: unknown column {c!r}{suggest(c, COLUMNS)}")

    # analysis defaults
    analysis = _section(data, "analysis", ANALYSIS_KEYS, problems)
    outcomes = analysis.get("outcomes")
    if outcomes is not None:
        if not (isinstance(outcomes, list) and all(isinstance(o, str) for o in outcomes)):
            problems.append(f"analysis.outcomes = {outcomes!r}: must be a list of outcome names")
            outcomes = None
        elif not custom:
            from ..measures import OUTCOMES

            for o in outcomes:
                if o not in OUTCOMES:
                    problems.append(f"analysis.outcomes: unknown outcome {o!r}{suggest(o, OUTCOMES)}")
    target = analysis.get("target")
    if target is not None:
        try:
            name_, _, _ = parse_target(target if isinstance(target, str) else "", "analysis.target")
            if not custom:
                from ..measures import OUTCOMES

                if name_ not in OUTCOMES:
                    problems.append(f"analysis.target: unknown outcome {name_!r}{suggest(name_, OUTCOMES)}")
        except UserError as err:
            problems.append(str(err))
    min_density = analysis.get("min_density", 0.8)
    mass_min = analysis.get("mass_min", 0.05)
    for k, v in (("min_density", min_density), ("mass_min", mass_min)):
        if not (is_number(v) and 0 < v <= 1):
            problems.append(f"analysis.{k} = {v!r}: must be a number above 0 and at most 1")
    description = head.get("description", "")
    if not isinstance(name, str) or not isinstance(description, str):
        problems.append("experiment.name and experiment.description must be text")
    return Experiment(
        name=str(name), design=str(design), factors=factors, replicates=replicates, seed=seed,
        base=base if isinstance(base, str) else None, fixed=fixed, samples=samples,
        second_order=bool(second_order), levels=levels if _is_whole(levels) else 4, points=points,
        timeseries_every=every, timeseries_columns=columns, outcomes=outcomes, target=target,
        min_density=float(min_density) if is_number(min_density) else 0.8,
        mass_min=float(mass_min) if is_number(mass_min) else 0.05,
        description=str(description), base_scenario=base_scenario,
    )


def _level_identity(value) -> tuple:
    """What makes two levels the same: 0 and 0.0 are one level; true is not 1."""
    if isinstance(value, bool):
        return ("switch", value)
    if isinstance(value, (int, float)):
        return ("number", float(value))
    return ("other", repr(value))


def _check_design_size(design, samples, levels, problems: list[str]) -> None:
    if design == "grid" or design == "list":
        if samples is not None:
            problems.append(f"experiment.samples: a {design} design takes no samples (its points are given)")
        return
    if design not in DESIGNS:
        return
    if not (_is_whole(samples) and samples >= 2):
        what = {"lhs": "the number of points", "sobol": "the base sample size N (a power of 2, e.g. 64)",
                "morris": "the number of trajectories (e.g. 10-50)"}[design]
        problems.append(f"experiment.samples = {samples!r}: the {design} design needs {what}, a whole number >= 2")
        return
    if design == "sobol" and samples & (samples - 1):
        lo = 1 << (samples.bit_length() - 1)
        problems.append(f"experiment.samples = {samples}: the Sobol design needs a power of 2 "
                        f"(Saltelli's estimator converges on powers of 2), e.g. {lo} or {lo * 2}")
    if design == "morris" and not (_is_whole(levels) and levels >= 2 and levels % 2 == 0):
        problems.append(f"experiment.levels = {levels!r}: the Morris design needs an even number of levels >= 2 (usually 4)")


def _kind_of(key: str, values) -> str:
    if key in PARAM_BY_NAME:
        return {int: "int", float: "float", bool: "bool"}.get(PARAM_BY_NAME[key].kind, "float")
    if key.startswith("mechanisms."):
        return "bool"
    vals = [v for v in values if v is not None]
    if vals and all(isinstance(v, bool) for v in vals):
        return "bool"
    if vals and all(_is_whole(v) for v in vals):
        return "int"
    if vals and all(isinstance(v, str) for v in vals):
        return "str"
    return "float"


def _check_key(key: str, where: str, problems: list[str], custom: bool) -> bool:
    if custom:
        return True
    if key in PARAM_BY_NAME:
        return True
    if key.startswith("mechanisms.") and key.split(".", 1)[1] in MECHANISMS:
        return True
    problems.append(f"{where}: unknown scenario key {key!r}{suggest(key, list(PARAM_BY_NAME) + [f'mechanisms.{m}' for m in MECHANISMS])}"
                    " (see `nlcsim.scenario.PARAMS` or docs/ODD.md for every key)")
    return False


def _check_param_value(key: str, value, where: str, problems: list[str], custom: bool) -> None:
    if custom:
        return
    if key.startswith("mechanisms."):
        if not isinstance(value, bool):
            problems.append(f"{where} = {value!r}: {key} is a switch, true or false")
        return
    p = PARAM_BY_NAME[key]

    err = check_value(p, value)
    if err:
        problems.append(f"{where}: {err}")


def _read_factor(i: int, body, design, problems: list[str], custom: bool) -> Factor | None:
    where = f"factors[{i}]"
    if not isinstance(body, Mapping):
        problems.append(f"{where} must be a table with a key and levels or low/high")
        return None
    for k in body:
        if k not in FACTOR_KEYS:
            problems.append(f"unknown key '{where}.{k}'{suggest(k, FACTOR_KEYS)}: factor keys are {', '.join(sorted(FACTOR_KEYS))}")
    key = body.get("key")
    if not isinstance(key, str) or not key:
        problems.append(f"{where}.key = {key!r}: must name a scenario key, e.g. \"trust.initial\"")
        return None
    where = f"factors[{i}] ({key})"
    if not _check_key(key, where, problems, custom):
        return None
    levels = body.get("levels")
    low, high, steps = body.get("low"), body.get("high"), body.get("steps")
    dist = body.get("distribution", "uniform")
    kind = _kind_of(key, levels or [low, high])
    n_before = len(problems)
    if levels is not None:
        if not isinstance(levels, list) or not levels:
            problems.append(f"{where}.levels = {levels!r}: must be a non-empty list of values")
            return None
        if any(k in body for k in ("low", "high", "steps", "distribution", "peak", "mean", "sd")):
            problems.append(f"{where}: give either levels or a range (low, high ...), not both")
        if design in ("lhs", "sobol", "morris"):
            problems.append(f"{where}: the {design} design samples a range; give low and high instead of levels")
        if len(set(map(_level_identity, levels))) != len(levels):
            problems.append(f"{where}.levels = {levels!r}: a level is repeated")
        for v in levels:
            _check_param_value(key, v, f"{where}.levels", problems, custom)
        return Factor(key, levels=tuple(levels), kind=kind) if len(problems) == n_before else None
    if kind == "bool":
        problems.append(f"{where}: a switch takes levels = [true, false], not a range")
        return None
    if not (is_number(low) and is_number(high)):
        problems.append(f"{where}: give levels = [...] or a range with low and high numbers (got low = {low!r}, high = {high!r})")
        return None
    if low >= high:
        problems.append(f"{where}: low = {low!r} must be below high = {high!r}")
    _check_param_value(key, low, f"{where}.low", problems, custom)
    _check_param_value(key, high, f"{where}.high", problems, custom)
    if kind == "int" and not custom and not (_is_whole(low) and _is_whole(high)):
        problems.append(f"{where}: {key} is a whole number; low and high must be whole numbers")
    if design == "grid":
        if not (_is_whole(steps) and steps >= 2):
            problems.append(f"{where}.steps = {steps!r}: a grid over a range needs steps, a whole number >= 2")
        elif kind == "int" and _is_whole(low) and _is_whole(high) and steps > high - low + 1:
            problems.append(f"{where}.steps = {steps}: there are only {int(high - low + 1)} whole numbers "
                            f"from {low} to {high}; give at most that many steps, or levels")
        if dist != "uniform" or any(k in body for k in ("peak", "mean", "sd")):
            problems.append(f"{where}: a grid spaces levels evenly; distribution, peak, mean and sd are for lhs and sobol")
    elif steps is not None:
        problems.append(f"{where}.steps: only a grid takes steps (this design is {design!r})")
    if dist not in DISTRIBUTIONS:
        problems.append(f"{where}.distribution = {dist!r}: must be one of {', '.join(DISTRIBUTIONS)}")
    elif design == "morris" and dist != "uniform":
        problems.append(f"{where}.distribution = {dist!r}: Morris screening moves along a uniform grid; use uniform")
    peak, mean, sd = body.get("peak"), body.get("mean"), body.get("sd")
    if dist == "triangular" and not (is_number(peak) and is_number(low) and low <= peak <= high):
        problems.append(f"{where}.peak = {peak!r}: a triangular distribution needs a peak between low and high")
    if dist == "normal":
        if not (is_number(mean) and is_number(sd) and sd > 0):
            problems.append(f"{where}: a normal distribution needs mean and sd > 0 (it is truncated to [low, high])")
    if dist == "loguniform" and is_number(low) and low <= 0:
        problems.append(f"{where}.low = {low!r}: a log-uniform range must be above 0")
    for k, v in (("peak", peak), ("mean", mean), ("sd", sd)):
        if v is not None and dist not in ("triangular", "normal"):
            problems.append(f"{where}.{k}: only a triangular (peak) or normal (mean, sd) distribution takes it")
    if len(problems) != n_before:
        return None
    return Factor(key, low=low, high=high, steps=steps if design == "grid" else None, distribution=dist,
                  peak=peak, mean=mean, sd=sd, kind=kind)


def _read_points(raw, factors: list[Factor], problems: list[str], custom: bool) -> list[dict]:
    if not isinstance(raw, list) or not raw:
        problems.append("design = \"list\" needs [[points]] tables, one per point, each setting the varied keys")
        return []
    points = []
    for i, body in enumerate(raw):
        if not isinstance(body, Mapping):
            problems.append(f"points[{i}] must be a table of scenario keys and values")
            continue
        point = flat_overrides(body)
        for k, v in point.items():
            if _check_key(k, f"points[{i}]", problems, custom):
                _check_param_value(k, v, f"points[{i}].{k}", problems, custom)
        allowed = {f.key for f in factors}
        if allowed:
            for k in point:
                if k not in allowed:
                    problems.append(f"points[{i}] sets {k!r}, which is not a factor (factors: {', '.join(sorted(allowed))})")
            for f in factors:
                if f.levels is not None and f.key in point and point[f.key] not in f.levels:
                    problems.append(f"points[{i}].{f.key} = {point[f.key]!r}: not one of the factor's levels {list(f.levels)}")
        points.append(point)
    return points

