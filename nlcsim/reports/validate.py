"""Pattern-oriented validation: run the seeds' ten patterns and report each verdict.

Each pattern is a declarative TOML file in ``experiments/patterns/`` (see the
README there): the arms of the contrast (scenarios and parameter levels), the
replicate count and seed, and one or more checks, each an outcome, a linear
contrast of the arms and the expected direction or shape.  Every arm runs
with the same replicate seeds (common random numbers), so each check is
computed replicate by replicate as a paired difference, and reported as its
mean with a 95% t-interval:

* ``above`` / ``below``: reproduced when the CI lies wholly above (below) the
  threshold ``than`` (default 0), not reproduced when it lies wholly on the
  wrong side, inconclusive otherwise;
* ``near``: reproduced when the CI lies inside ``target +- tolerance``;
* ``inverted_u``: the arms are levels of one parameter; reproduced when the
  mean curve has an interior maximum whose location's bootstrap 95% CI
  (resampling replicates) stays inside the range of levels, and the drops
  from the peak to both ends have CIs above zero.

A pattern is reproduced when all its checks are.  ``validate()`` is the API;
``nlcsim validate`` calls it and writes ``report.md`` with one figure per
pattern, ``outcomes.csv`` (every replicate) and ``validation.json`` (seeds, every
arm's settings and fully resolved scenario, and the package version).

>>> patterns = load_patterns()
>>> [p.number for p in patterns] == sorted(p.number for p in patterns)
True
"""

from __future__ import annotations

import io
import json
import math
import shlex
import textwrap
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .. import __version__
from ..errors import UserError
from ..measures import COLUMNS, OUTCOMES
from ..model import check_seed
from ..provenance import model_source
from ..replicates import mean_ci, model_pool
from ..run import replicate_seeds, run, seed_record
from ..scenario import Scenario, ScenarioError, flat_overrides, is_number, preset_names, resolve_near, resolve_path

PATTERN_DIR = (Path(__file__).parent.parent / "data" / "patterns").resolve()  # a link to experiments/patterns/
EXPECTATIONS = ("above", "below", "near", "inverted_u")
REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE = "reproduced", "not reproduced", "inconclusive"
BOOTSTRAP = 2000


class PatternError(ValueError):
    """A pattern file could not be read; the message lists every problem."""

    def __init__(self, source: str, problems: list[str]):
        self.source, self.problems = source, problems
        super().__init__(f"{source}: " + "; ".join(problems))


# -- the declarative files --------------------------------------------------------
@dataclass(frozen=True)
class Arm:
    """One side of a contrast: a scenario with overrides (and a level, for curves)."""

    name: str
    scenario: Scenario
    overrides: dict[str, Any]
    level: float | None = None


@dataclass(frozen=True)
class Term:
    """One term of a linear contrast: weight x (outcome of ``arm`` [over ``weeks``])."""

    arm: str
    weight: float
    weeks: tuple[int, int] | None = None


@dataclass(frozen=True)
class Check:
    outcome: str
    expect: str
    terms: tuple[Term, ...]
    than: float = 0.0
    target: float | None = None
    tolerance: float | None = None
    label: str = ""

    def describe(self) -> str:
        """The contrast in words, e.g. ``high trust - low trust``."""
        if self.expect == "inverted_u":
            return f"{self.outcome} over " + ", ".join(t.arm for t in self.terms)
        parts = []
        for t in self.terms:
            w = t.weight
            coef = "" if abs(abs(w) - 1) < 1e-12 else f"{abs(w):g} x "
            when = "" if not t.weeks else (f" [week {t.weeks[0]}]" if t.weeks[1] - t.weeks[0] == 1
                                           else f" [weeks {t.weeks[0]}-{t.weeks[1] - 1}]")
            sign = "-" if w < 0 else "+"
            parts.append(f"{sign} {coef}{t.arm}{when}")
        text = " ".join(parts)
        return text[2:] if text.startswith("+ ") else text

    def expectation(self) -> str:
        if self.expect == "above":
            return f"> {self.than:g}"
        if self.expect == "below":
            return f"< {self.than:g}"
        if self.expect == "near":
            return f"within {self.target:g} +- {self.tolerance:g}"
        return "interior maximum"


@dataclass
class Pattern:
    number: int
    slug: str
    title: str
    claim: str
    source: str
    replicates: int
    seed: int
    arms: list[Arm]
    checks: list[Check]
    series: list[str] = field(default_factory=list)
    level_name: str = ""
    note: str = ""
    path: Path | None = None

    def arm(self, name: str) -> Arm:
        return next(a for a in self.arms if a.name == name)


_KINDS = {int: "a whole number", str: "text"}


def _need(body: Mapping, key: str, kind, where: str, problems: list[str], default=None):
    value = body.get(key, default)
    if value is None:
        problems.append(f"{where}.{key} is missing")
        return default
    ok = isinstance(value, kind) and not (kind is not bool and isinstance(value, bool))
    if not ok:
        problems.append(f"{where}.{key} = {value!r}: must be {_KINDS.get(kind, 'a number')}")
        return default
    return value


def _number(body: Mapping, key: str, where: str, problems: list[str], default: float | None = None) -> float | None:
    """An optional finite number; ``default`` if absent or (with a problem) not a number."""
    value = body.get(key)
    if value is None:
        return default
    if not is_number(value):
        problems.append(f"{where}.{key} = {value!r}: must be a number")
        return default
    return float(value)


def _table(body: Mapping, key: str, where: str, problems: list[str]) -> dict[str, Any]:
    """Scenario overrides: a table of scenario keys and values."""
    value = body.get(key, {})
    if not isinstance(value, Mapping):
        problems.append(f"{where}.{key} = {value!r}: must be a table of scenario keys, "
                        'e.g. { "trust.initial" = 0.8 }')
        return {}
    return flat_overrides(value)  # { trust.initial = 0.8 } unquoted is a nested table in TOML


def _tables(data: Mapping, key: str, problems: list[str]) -> list[Mapping] | None:
    """The bodies of ``[[key]]``; None (with a problem) when written otherwise."""
    value = data.get(key, [])
    if not (isinstance(value, list) and all(isinstance(b, Mapping) for b in value)):
        problems.append(f"{key} = {value!r}: must be written as [[{key}]] tables")
        return None
    return value


def _weeks(value, where: str, problems: list[str]) -> tuple[int, int] | None:
    if value is None:
        return None
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(w, int) and not isinstance(w, bool)
                                                                for w in value) and 0 <= value[0] < value[1]):
        problems.append(f"{where}.weeks = {value!r}: must be [first, last) school weeks, 0 <= first < last")
        return None
    return (value[0], value[1])


def _scenario(ref: str, folder: Path, overrides: Mapping[str, Any], where: str, key: str,
              problems: list[str]) -> Scenario | None:
    """A preset by name, or a scenario file: a relative path is read from the pattern
    file's folder when the file is there, else from the current folder.  ``key`` names
    the setting that gave ``ref`` (``arm[0] (low trust): scenario``, ``pattern.scenario``)."""
    target = resolve_near(ref, folder)
    if not resolve_path(target).exists():
        message = (f"{key} = {ref!r}: no such scenario file or preset (a path is read from "
                   f"{str(folder)!r}, else from the current folder; presets are: {', '.join(preset_names()) or 'none'})")
        if message not in problems:
            problems.append(message)
        return None
    try:
        return Scenario.load(target, overrides=overrides)
    except ScenarioError as err:
        problems.extend(f"{where}: {p}" for p in err.problems)
        return None


def load_pattern(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Pattern:
    """Read and check one pattern file; ``overrides`` are applied to every arm.

    Every problem (unknown keys, bad values, unknown outcomes or arms, scenario
    keys out of range) is reported at once, naming the file and the key.
    """
    path = Path(path)
    return _pattern(path, _read(path), overrides)


def _read(path: Path) -> dict[str, Any]:
    """A pattern file's TOML; a PatternError saying why where it cannot be read or parsed."""
    src = str(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PatternError(src, ["no such pattern file"]) from None
    except tomllib.TOMLDecodeError as err:
        raise PatternError(src, [f"not valid TOML: {err}"]) from None
    except UnicodeDecodeError:
        raise PatternError(src, ["not valid TOML: the file is not UTF-8 text"]) from None
    except OSError as err:
        raise PatternError(src, [f"cannot be read: {err.strerror or err}"]) from None


def _pattern(path: Path, data: Mapping[str, Any], overrides: Mapping[str, Any] | None) -> Pattern:
    """:func:`load_pattern` on a file already read."""
    src = str(path)
    problems: list[str] = []
    for key in data:
        if key not in ("pattern", "arm", "check"):
            problems.append(f"unknown section [{key}]: sections are [pattern], [[arm]], [[check]]")
    head = data.get("pattern", {})
    if not isinstance(head, Mapping):
        problems.append(f"pattern = {head!r}: must be a [pattern] table")
        head = {}
    arm_bodies, check_bodies = _tables(data, "arm", problems), _tables(data, "check", problems)
    allowed = {"number", "title", "claim", "source", "replicates", "seed", "scenario", "overrides",
               "series", "level_name", "note"}
    for key in head:
        if key not in allowed:
            problems.append(f"unknown key 'pattern.{key}': keys are {', '.join(sorted(allowed))}")
    number = _need(head, "number", int, "pattern", problems, 0)
    title = _need(head, "title", str, "pattern", problems, "")
    claim = _need(head, "claim", str, "pattern", problems, "")
    source = _need(head, "source", str, "pattern", problems, "")
    reps = _need(head, "replicates", int, "pattern", problems, 2)
    if isinstance(reps, int) and reps < 2:
        problems.append(f"pattern.replicates = {reps}: must be at least 2 (a CI needs two)")
    seed = head.get("seed")
    if seed is None:
        problems.append("pattern.seed is missing")
    else:
        try:
            check_seed(seed)
        except UserError:
            problems.append(f"pattern.seed = {seed!r}: must be a whole number >= 0")
            seed = None
    default_scenario = head.get("scenario", "baseline")
    if not isinstance(default_scenario, str):
        problems.append(f"pattern.scenario = {default_scenario!r}: must be a preset name or a path to a scenario file")
        default_scenario = None
    shared = _table(head, "overrides", "pattern", problems)
    series = head.get("series", [])
    if not (isinstance(series, list) and all(isinstance(col, str) for col in series)):
        problems.append(f"pattern.series = {series!r}: must be a list of time-series column names")
        series = []
    for col in series:
        if col not in COLUMNS:
            problems.append(f"pattern.series: {col!r} is not a time-series column")
    level_name = _need(head, "level_name", str, "pattern", problems, "")
    note = _need(head, "note", str, "pattern", problems, "")

    arms: list[Arm] = []
    declared: list[str] = []  # every arm's name, also of arms whose scenario failed
    for k, body in enumerate(arm_bodies or []):
        where = f"arm[{k}]"
        for key in body:
            if key not in ("name", "scenario", "overrides", "level"):
                problems.append(f"unknown key '{where}.{key}': keys are name, scenario, overrides, level")
        name = _need(body, "name", str, where, problems, f"arm {k}")
        if name in declared:
            problems.append(f"{where}.name = {name!r}: arm names must be unique")
        declared.append(name)
        level = _number(body, "level", where, problems)
        ov = {**shared, **_table(body, "overrides", where, problems)}
        ov.update(overrides or {})
        if "scenario" in body:
            ref = body["scenario"]
            if not isinstance(ref, str):
                problems.append(f"{where}.scenario = {ref!r}: must be a preset name or a path to a scenario file")
                continue
            sc = _scenario(ref, path.parent, ov, f"{where} ({name})", f"{where} ({name}): scenario", problems)
        elif default_scenario is None:
            continue
        else:
            sc = _scenario(default_scenario, path.parent, ov, f"{where} ({name})", "pattern.scenario", problems)
        if sc is not None:
            arms.append(Arm(name, sc, ov, level))
    if arm_bodies is not None and not arm_bodies:
        problems.append("a pattern needs at least one [[arm]]")
    names = {a.name for a in arms}
    failed = set(declared) - names  # their problems are listed already

    checks: list[Check] = []
    for k, body in enumerate(check_bodies or []):
        where = f"check[{k}]"
        keys = {"outcome", "expect", "contrast", "than", "target", "tolerance", "weeks", "label"}
        for key in body:
            if key not in keys:
                problems.append(f"unknown key '{where}.{key}': keys are {', '.join(sorted(keys))}")
        outcome = _need(body, "outcome", str, where, problems, "")
        expect = body.get("expect")
        if expect not in EXPECTATIONS:
            problems.append(f"{where}.expect = {expect!r}: must be one of {', '.join(EXPECTATIONS)}")
            continue
        weeks = _weeks(body.get("weeks"), where, problems)
        terms = _terms(body, where, names, failed, weeks, expect, arms, problems)
        for t in terms:
            if t.weeks is None and outcome not in OUTCOMES:
                problems.append(f"{where}.outcome = {outcome!r}: not an outcome (see nlcsim.OUTCOMES); "
                                "for a weekly column give weeks = [first, last)")
                break
            if t.weeks is not None and outcome not in COLUMNS:
                problems.append(f"{where}.outcome = {outcome!r}: not a time-series column (see nlcsim.COLUMNS)")
                break
            if t.weeks is not None and t.arm in names and t.weeks[1] > next(a for a in arms if a.name == t.arm).scenario.weeks:
                problems.append(f"{where}: weeks {list(t.weeks)} go past the end of arm {t.arm!r}")
                break
        before = len(problems)
        than = _number(body, "than", where, problems, 0.0)
        target = _number(body, "target", where, problems)
        tol = _number(body, "tolerance", where, problems)
        if expect == "near" and len(problems) == before and (target is None or tol is None or tol <= 0):
            problems.append(f"{where}: expect = 'near' needs a numeric target and a tolerance > 0")
        label = _need(body, "label", str, where, problems, "")
        checks.append(Check(outcome, expect, tuple(terms), than, target, tol, label))
    if check_bodies is not None and not check_bodies:
        problems.append("a pattern needs at least one [[check]]")
    if problems:
        raise PatternError(src, problems)
    return Pattern(number, path.stem, title, claim, source, reps, seed, arms, checks, series,
                   level_name, note, path)


def _terms(body, where, names, failed, weeks, expect, arms, problems) -> list[Term]:
    """A contrast: ``{arm = weight, ...}`` or ``[{arm, weight, weeks}, ...]``; curves use every arm
    with a level, or the arms named."""
    raw = body.get("contrast")
    known = ", ".join(sorted(names | failed)) or "none"
    if expect == "inverted_u":
        if raw is None:
            use = [a for a in arms if a.level is not None]
        elif isinstance(raw, (list, Mapping)) and all(isinstance(n, str) for n in raw):
            for n in raw:
                if n not in names and n not in failed:
                    problems.append(f"{where}.contrast: no arm named {n!r}; arms are {known}")
            use = [a for a in arms if a.name in raw]
            if any(a.level is None for a in use):
                problems.append(f"{where}: expect = 'inverted_u' needs a level on every arm it uses")
                use = [a for a in use if a.level is not None]
        else:
            problems.append(f"{where}.contrast = {raw!r}: for expect = 'inverted_u' give a list of arm names, "
                            "or leave it out to use every arm with a level")
            return []
        if len(use) < 3 and not failed:
            problems.append(f"{where}: expect = 'inverted_u' needs at least three arms with levels")
        return [Term(a.name, 1.0, weeks) for a in sorted(use, key=lambda a: a.level)]
    if isinstance(raw, Mapping):
        items = [{"arm": k, "weight": v} for k, v in raw.items()]
    elif isinstance(raw, list) and all(isinstance(t, Mapping) for t in raw):
        items = raw
    elif raw is None:
        problems.append(f"{where}.contrast is missing: give {{arm = weight, ...}} or a list of {{arm, weight, weeks}}")
        return []
    else:
        problems.append(f"{where}.contrast = {raw!r}: must be {{arm = weight, ...}} or a list of {{arm, weight, weeks}}")
        return []
    if not items:
        problems.append(f"{where}.contrast is empty: give at least one arm and its weight")
    terms = []
    for i, t in enumerate(items):
        for key in t:
            if key not in ("arm", "weight", "weeks"):
                problems.append(f"unknown key '{where}.contrast[{i}].{key}': keys are arm, weight, weeks")
        arm, w = t.get("arm"), t.get("weight")
        if not isinstance(arm, str) or arm not in names:
            if not (isinstance(arm, str) and arm in failed):
                problems.append(f"{where}.contrast: no arm named {arm!r}; arms are {known}")
            continue
        if not is_number(w):
            problems.append(f"{where}.contrast: weight of {arm!r} = {w!r}: must be a number")
            continue
        tw = weeks
        if "weeks" in t:
            tw = _weeks(t["weeks"], f"{where}.contrast[{i}]", problems)
            if tw is None:
                continue
        terms.append(Term(arm, float(w), tw))
    return terms


def _read_pattern_files(directory: str | Path | None) -> list[tuple[Path, dict[str, Any] | PatternError]]:
    """Each pattern file of a folder, read once: its TOML, or why it cannot be read.  The
    pattern files are the ``*.toml`` files except those that read with none of the sections
    [pattern], [[arm]], [[check]] (such as scenario files the arms read)."""
    out: list[tuple[Path, dict[str, Any] | PatternError]] = []
    for path in sorted(Path(directory or PATTERN_DIR).glob("*.toml")):
        try:
            data = _read(path)
        except PatternError as err:
            out.append((path, err))
            continue
        if data and not data.keys() & {"pattern", "arm", "check"}:
            continue
        out.append((path, data))
    return out


def pattern_files(directory: str | Path | None = None) -> list[Path]:
    """The pattern files in a folder (see :func:`_read_pattern_files`)."""
    return [path for path, _ in _read_pattern_files(directory)]


def _duplicate_numbers(patterns: Iterable[Pattern]) -> list[str]:
    """A problem for every pattern number that more than one pattern file uses."""
    files: dict[int, list[str]] = {}
    for p in patterns:
        files.setdefault(p.number, []).append(str(p.path) if p.path else p.slug)
    return [f"pattern.number = {n} in {', '.join(f[:-1])} and {f[-1]}: every pattern file needs its own number"
            for n, f in sorted(files.items()) if len(f) > 1]


def load_patterns(directory: str | Path | None = None, only: Iterable[str] | None = None,
                  overrides: Mapping[str, Any] | None = None) -> list[Pattern]:
    """Every pattern file, sorted by number; ``only`` keeps numbers or file names."""
    wanted = {str(x).strip() for x in only} if only else None
    out = []
    files = _read_pattern_files(directory)
    if not files:
        raise PatternError(str(directory or PATTERN_DIR), ["no pattern files (*.toml) in this folder"])
    for path, data in files:
        if wanted is not None and path.stem not in wanted:
            # Just the number: unwanted files are not checked (one that cannot be read has none).
            head = data.get("pattern", {}) if isinstance(data, dict) else {}
            number = head.get("number") if isinstance(head, Mapping) else None
            if str(number) not in wanted:
                continue
        if isinstance(data, PatternError):
            raise data
        out.append(_pattern(path, data, overrides))
    if wanted is not None and not out:
        raise PatternError(str(directory or PATTERN_DIR), [f"no pattern matches {', '.join(sorted(wanted))}"])
    duplicates = _duplicate_numbers(out)
    if duplicates:
        raise PatternError(str(directory or PATTERN_DIR), duplicates)
    return sorted(out, key=lambda p: p.number)


# -- running ---------------------------------------------------------------------------
def _windows(pattern: Pattern) -> dict[str, set[tuple[str, tuple[int, int]]]]:
    need: dict[str, set] = {}
    for c in pattern.checks:
        for t in c.terms:
            if t.weeks:
                need.setdefault(t.arm, set()).add((c.outcome, t.weeks))
    return need


def _one_run(job) -> tuple:
    """Worker: run one replicate of one arm and keep only what the checks and figures need."""
    key, scenario, ss, windows, series = job
    res = run(scenario, seed=ss, series=bool(windows or series))  # outcomes only where no week is read
    ts = res.timeseries
    means = {f"{col}@{a}-{b}": float(ts[col].iloc[a:b].mean()) for col, (a, b) in windows}
    traces = {col: ts[col].to_numpy(dtype=float) for col in series}
    return key, res.outcomes, means, traces, res.seed


@dataclass
class CheckResult:
    check: Check
    estimate: float
    ci_low: float
    ci_high: float
    verdict: str
    values: np.ndarray                     # per replicate (the paired contrast)
    curve: pd.DataFrame | None = None      # inverted U: level, mean, low, high
    peak: tuple[float, float, float] | None = None  # location, CI low, CI high
    drops: tuple[tuple[float, float, float], tuple[float, float, float]] | None = None


@dataclass
class PatternResult:
    pattern: Pattern
    outcomes: pd.DataFrame   # one row per arm and replicate
    checks: list[CheckResult]
    traces: dict[tuple[str, str], np.ndarray]   # (arm, column) -> replicates x weeks
    seeds: list[dict]
    seconds: float = 0.0

    @property
    def verdict(self) -> str:
        v = [c.verdict for c in self.checks]
        if all(x == REPRODUCED for x in v):
            return REPRODUCED
        if any(x == NOT_REPRODUCED for x in v):
            return NOT_REPRODUCED
        return INCONCLUSIVE


def run_patterns(patterns: Sequence[Pattern], reps: int | None = None, workers: int = 1,
                 progress=None) -> list[PatternResult]:
    """Run every arm of every pattern (one pool for all runs) and evaluate the checks.

    Replicate r of every arm of a pattern uses ``SeedSequence(pattern.seed).spawn(R)[r]``.
    """
    duplicates = _duplicate_numbers(patterns)
    if duplicates:
        raise PatternError("patterns", duplicates)
    jobs, seeds = [], {}
    for p in patterns:
        n = reps or p.replicates
        if n < 2:
            raise PatternError(str(p.path), [f"replicates = {n}: must be at least 2"])
        seeds[p.number] = replicate_seeds(p.seed, n)
        need = _windows(p)
        for a in p.arms:
            win = sorted(need.get(a.name, set()))
            for r, ss in enumerate(seeds[p.number]):
                jobs.append(((p.number, a.name, r), a.scenario, ss, win, p.series))
    started = time.perf_counter()
    results: dict[tuple, tuple] = {}
    if workers <= 1:
        for k, job in enumerate(jobs):
            out = _one_run(job)
            results[out[0]] = out[1:]
            if progress:
                progress(k + 1, len(jobs))
    else:
        with model_pool(workers) as pool:
            for k, out in enumerate(pool.map(_one_run, jobs, chunksize=2)):
                results[out[0]] = out[1:]
                if progress:
                    progress(k + 1, len(jobs))
    seconds = time.perf_counter() - started
    out = []
    for p in patterns:
        n = len(seeds[p.number])
        rows, traces = [], {}
        for a in p.arms:
            for r in range(n):
                outcomes, means, tr, seed = results[(p.number, a.name, r)]
                rows.append({"pattern": p.number, "arm": a.name, "replicate": r,
                             "seed_entropy": seed["entropy"], "spawn_key": "-".join(map(str, seed["spawn_key"])),
                             **outcomes, **means})
                for col, v in tr.items():
                    traces.setdefault((a.name, col), []).append(v)
        table = pd.DataFrame(rows)
        traces = {k: np.vstack(v) for k, v in traces.items()}
        checks = [evaluate(p, c, table) for c in p.checks]
        share = sum(1 for j in jobs if j[0][0] == p.number) / max(len(jobs), 1)
        out.append(PatternResult(p, table, checks, traces, [seed_record(s) for s in seeds[p.number]],
                                 seconds * share))
    return out


# -- statistics -------------------------------------------------------------------------
def _column(check: Check, term: Term) -> str:
    return f"{check.outcome}@{term.weeks[0]}-{term.weeks[1]}" if term.weeks else check.outcome


def _arm_values(table: pd.DataFrame, arm: str, column: str) -> np.ndarray:
    sub = table[table["arm"] == arm].sort_values("replicate")
    return sub[column].to_numpy(dtype=float)


def evaluate(pattern: Pattern, check: Check, table: pd.DataFrame) -> CheckResult:
    """Paired contrast over replicates (same seeds in every arm) and its verdict."""
    if check.expect == "inverted_u":
        return _inverted_u(pattern, check, table)
    values = sum(t.weight * _arm_values(table, t.arm, _column(check, t)) for t in check.terms)
    m, lo, hi, _ = mean_ci(values)
    if check.expect == "above":
        verdict = REPRODUCED if lo > check.than else NOT_REPRODUCED if hi < check.than else INCONCLUSIVE
    elif check.expect == "below":
        verdict = REPRODUCED if hi < check.than else NOT_REPRODUCED if lo > check.than else INCONCLUSIVE
    else:
        a, b = check.target - check.tolerance, check.target + check.tolerance
        verdict = REPRODUCED if (lo >= a and hi <= b) else NOT_REPRODUCED if (hi < a or lo > b) else INCONCLUSIVE
    return CheckResult(check, m, lo, hi, verdict, np.asarray(values))


def _inverted_u(pattern: Pattern, check: Check, table: pd.DataFrame) -> CheckResult:
    """Interior maximum of the mean curve, with a bootstrap CI on its location.

    The peak location is the level of the highest mean; the bootstrap resamples
    replicates (keeping each replicate's whole curve, so the common random
    numbers stay paired) and records the level of the highest resampled mean.
    The effect sizes are the paired drops from the peak to the lowest and to
    the highest level.
    """
    levels = np.array([pattern.arm(t.arm).level for t in check.terms])
    Y = np.column_stack([_arm_values(table, t.arm, _column(check, t)) for t in check.terms])  # reps x levels
    mean = Y.mean(axis=0)
    ci = np.array([mean_ci(Y[:, k])[1:3] for k in range(Y.shape[1])])
    curve = pd.DataFrame({"level": levels, "mean": mean, "low": ci[:, 0], "high": ci[:, 1]})
    k_peak = int(np.argmax(mean))
    rng = np.random.default_rng(np.random.SeedSequence(pattern.seed).spawn(1)[0])
    idx = rng.integers(0, Y.shape[0], (BOOTSTRAP, Y.shape[0]))
    boot_peak = levels[np.argmax(Y[idx].mean(axis=1), axis=1)]
    loc = (float(levels[k_peak]), float(np.percentile(boot_peak, 2.5)), float(np.percentile(boot_peak, 97.5)))
    drop_low = Y[:, k_peak] - Y[:, 0]
    drop_high = Y[:, k_peak] - Y[:, -1]
    dl, dh = mean_ci(drop_low)[:3], mean_ci(drop_high)[:3]
    interior = levels[0] < loc[1] and loc[2] < levels[-1]
    if interior and dl[1] > 0 and dh[1] > 0:
        verdict = REPRODUCED
    elif k_peak in (0, len(levels) - 1) and (loc[1] == loc[2]):
        verdict = NOT_REPRODUCED
    else:
        verdict = INCONCLUSIVE
    worst = min((dl, dh), key=lambda d: d[0])
    return CheckResult(check, worst[0], worst[1], worst[2], verdict, np.minimum(drop_low, drop_high),
                       curve=curve, peak=loc, drops=(tuple(dl), tuple(dh)))


# -- the report -------------------------------------------------------------------------
def _fmt(x: float) -> str:
    if not np.isfinite(x):
        return "nan"
    return f"{x:.3g}" if abs(x) >= 1e-3 or x == 0 else f"{x:.2e}"


def plot_pattern(result: PatternResult, path: str | Path) -> Path:
    """One panel per check (arm means with 95% CIs, or the curve), then the time series."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plots import band

    p = result.pattern
    panels = len(result.checks) + len(p.series)
    cols = min(panels, 3)
    rows = math.ceil(panels / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.4 * cols, 3.4 * rows), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    k = 0
    for cr in result.checks:
        ax = axes.ravel()[k]
        k += 1
        c = cr.check
        if cr.curve is not None:
            cv = cr.curve
            ax.plot(cv["level"], cv["mean"], "o-", color="#1f5f8b")
            ax.fill_between(cv["level"], cv["low"], cv["high"], color="#1f5f8b", alpha=0.25, linewidth=0)
            ax.axvspan(cr.peak[1], cr.peak[2], color="#b03a2e", alpha=0.12)
            ax.axvline(cr.peak[0], color="#b03a2e", linestyle="--", linewidth=1)
            ax.set_xlabel(p.level_name or "level")
            ax.set_title(f"{c.outcome}\npeak at {cr.peak[0]:g} (95% CI {cr.peak[1]:g}-{cr.peak[2]:g})", fontsize=9)
        else:
            labels, means, lows, highs = [], [], [], []
            windows = {t.weeks for t in c.terms}
            shared = windows.pop() if len(windows) == 1 else None
            for t in c.terms:
                v = _arm_values(result.outcomes, t.arm, _column(c, t))
                m, lo, hi, _ = mean_ci(v)
                when = f" weeks {t.weeks[0]}-{t.weeks[1] - 1}" if t.weeks and not shared else ""
                labels.append(textwrap.fill(f"{t.arm}{when}", 14))
                means.append(m), lows.append(m - lo), highs.append(hi - m)
            x = np.arange(len(labels))
            ax.bar(x, means, yerr=[lows, highs], color=[colours[i % len(colours)] for i in x], alpha=0.8, capsize=4)
            ax.set_xticks(x, labels, fontsize=7)
            if shared:
                span = shared[1] - shared[0]
                ax.set_xlabel(f"at week {shared[0]}" if span == 1 else f"mean over weeks {shared[0]}-{shared[1] - 1}",
                              fontsize=8)
            if c.expect == "near" and len(c.terms) == 1 and c.terms[0].weight == 1:  # a level, not a difference
                ax.axhspan(c.target - c.tolerance, c.target + c.tolerance, color="#2e8b57", alpha=0.15)
                ax.axhline(c.target, color="#2e8b57", linestyle="--", linewidth=1)
            ax.set_title(f"{c.outcome}{' (' + c.label + ')' if c.label else ''}\n"
                         f"contrast {_fmt(cr.estimate)} [{_fmt(cr.ci_low)}, {_fmt(cr.ci_high)}]: {cr.verdict}", fontsize=9)
        ax.grid(alpha=0.3)
    for col in p.series:
        ax = axes.ravel()[k]
        k += 1
        for i, a in enumerate(p.arms):
            data = result.traces.get((a.name, col))
            if data is None:
                continue
            ts = pd.DataFrame({"week": np.tile(np.arange(data.shape[1]), data.shape[0]), col: data.ravel()})
            b = band(ts, col)
            yrs = b.index.to_numpy() / a.scenario.schedule.weeks_per_year
            ax.plot(yrs, b["mean"], color=colours[i % len(colours)], label=a.name, linewidth=1.2)
            ax.fill_between(yrs, b["low"], b["high"], color=colours[i % len(colours)], alpha=0.2, linewidth=0)
        end = p.arms[0].scenario.money_end_week / p.arms[0].scenario.schedule.weeks_per_year
        ax.axvline(end, color="grey", linestyle=":", linewidth=1)
        ax.set_title(f"{col} (mean, 95% band)", fontsize=9)
        ax.set_xlabel("year")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for ax in axes.ravel()[k:]:
        ax.axis("off")
    n = len(result.seeds)
    fig.suptitle(f"Pattern {p.number}: {p.title} ({n} replicates per arm, common random numbers)", fontsize=10)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=80, format="png")
    plt.close(fig)
    # 128 colours are plenty for line and bar charts and keep committed reports small
    from PIL import Image

    Image.open(buffer).convert("RGB").quantize(colors=128).save(path, format="PNG", optimize=True)
    return Path(path)


def _defaults_diff(sc: Scenario) -> dict[str, Any]:
    """The settings of an arm that differ from the package defaults (with the version, the full scenario)."""
    base = Scenario.from_dict({})
    diff = {k: v[0] for k, v in sc.diff(base).items() if k != "events"}
    if sc.events:
        diff["events"] = sc.events
    return diff


def _pattern_folders(results: Sequence[PatternResult]) -> str:
    """The folders the pattern files were read from, as the report names them."""
    folders = dict.fromkeys(r.pattern.path.parent for r in results if r.pattern.path is not None)
    shown = ["experiments/patterns/" if f.resolve() == PATTERN_DIR else str(f) for f in folders]
    return " Pattern files: " + ", ".join(f"`{f}`" for f in shown) + "." if shown else ""


def write_report(results: Sequence[PatternResult], out: str | Path, command: str = "nlcsim validate",
                 seconds: float | None = None) -> Path:
    """report.md, pattern_NN.png, outcomes.csv and validation.json in ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    lines = ["# Pattern-oriented validation", "",
             f"`{command}` — nlcsim {__version__}, {time.strftime('%Y-%m-%d')}"
             + (f", {seconds / 60:.1f} min" if seconds else "") + ".", "",
             "Each pattern from the model brief is an experiment over replicates. Every arm of a pattern "
             "runs with the same replicate seeds (common random numbers), so each effect below is the mean "
             "of paired per-replicate differences with its 95% t-interval. A pattern is *reproduced* when every "
             "check's CI lies on the expected side (or inside the target band), *not reproduced* when a CI lies "
             "wholly on the wrong side, and *inconclusive* otherwise." + _pattern_folders(results), "",
             "| # | pattern | replicates | key effect (95% CI) | verdict |", "|---|---|---|---|---|"]
    for r in results:
        c = r.checks[0]
        key = f"{c.check.outcome}: {_fmt(c.estimate)} [{_fmt(c.ci_low)}, {_fmt(c.ci_high)}]"
        if c.peak:
            key += f"; peak at {c.peak[0]:g} [{c.peak[1]:g}, {c.peak[2]:g}]"
        lines.append(f"| {r.pattern.number} | [{r.pattern.title}](#pattern-{r.pattern.number}) | "
                     f"{len(r.seeds)} | {key} | **{r.verdict}** |")
    lines.append("")
    for r in results:
        p = r.pattern
        fig = plot_pattern(r, out / f"pattern_{p.number:02d}.png")
        lines += [f"## Pattern {p.number}", "", f"**{p.title}.** {p.claim} ({p.source})", ""]
        if p.note:
            lines += [p.note, ""]
        lines += ["| arm | scenario | settings |", "|---|---|---|"]
        for a in p.arms:
            ov = ", ".join(f"`{k}={v}`" for k, v in a.overrides.items()) or "—"
            lines.append(f"| {a.name} | {a.scenario.name} | {ov} |")
        lines += ["", "| outcome | contrast | expected | effect | 95% CI | verdict |", "|---|---|---|---|---|---|"]
        for cr in r.checks:
            c = cr.check
            name = c.outcome + (f" ({c.label})" if c.label else "")
            lines.append(f"| {name} | {c.describe()} | {c.expectation()} | {_fmt(cr.estimate)} | "
                         f"[{_fmt(cr.ci_low)}, {_fmt(cr.ci_high)}] | {cr.verdict} |")
            if cr.peak:
                (dl, dh) = cr.drops
                lines.append(f"| | peak location (bootstrap over replicates) | interior | {cr.peak[0]:g} | "
                             f"[{cr.peak[1]:g}, {cr.peak[2]:g}] | |")
                lines.append(f"| | drop from peak to lowest level | > 0 | {_fmt(dl[0])} | [{_fmt(dl[1])}, {_fmt(dl[2])}] | |")
                lines.append(f"| | drop from peak to highest level | > 0 | {_fmt(dh[0])} | [{_fmt(dh[1])}, {_fmt(dh[2])}] | |")
        lines += ["", f"Verdict: **{r.verdict}**.", "", f"![pattern {p.number}]({fig.name})", ""]
    (out / "report.md").write_text("\n".join(lines), encoding="utf-8")
    pd.concat([r.outcomes for r in results], ignore_index=True).to_csv(out / "outcomes.csv", index=False)
    meta = {"package": "nlcsim", "version": __version__, "model_source": model_source(), "command": command,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "seconds": seconds,
            "patterns": [{"number": r.pattern.number, "file": r.pattern.path.name if r.pattern.path else None,
                          "seed": r.pattern.seed, "replicates": len(r.seeds), "replicate_seeds": r.seeds,
                          "verdict": r.verdict,
                          "arms": {a.name: {"scenario": a.scenario.name, "settings": _defaults_diff(a.scenario),
                                            "resolved_scenario": a.scenario.to_dict()}
                                   for a in r.pattern.arms},
                          "checks": [{"outcome": c.check.outcome, "contrast": c.check.describe(),
                                      "expected": c.check.expectation(), "effect": c.estimate,
                                      "ci": [c.ci_low, c.ci_high], "verdict": c.verdict,
                                      **({"peak": list(c.peak)} if c.peak else {})} for c in r.checks]}
                         for r in results]}
    (out / "validation.json").write_text(json.dumps(meta, indent=2, default=str), encoding="utf-8")
    return out / "report.md"


def validate(out: str | Path | None = "validation", reps: int | None = None, workers: int = 1,
             only: Iterable[str] | None = None, directory: str | Path | None = None,
             overrides: Mapping[str, Any] | None = None, progress=None) -> list[PatternResult]:
    """Run the pattern files (all, or ``only`` these numbers/names) and write the report to ``out``.

    ``reps`` replaces every pattern's replicate count; ``overrides`` apply to
    every arm (the test suite uses them for small populations).
    """
    patterns = load_patterns(directory, only, overrides)
    started = time.perf_counter()
    results = run_patterns(patterns, reps=reps, workers=workers, progress=progress)
    if out is not None:
        cmd = shlex.join(["nlcsim", "validate", *(["--reps", str(reps)] if reps else []),
                          *(["--only", ",".join(only)] if only else []),
                          *(["--patterns", str(directory)] if directory is not None else [])])
        if overrides:  # no command-line flag sets them: say so rather than print a command that differs
            cmd += " (from Python, with overrides on every arm: " + ", ".join(f"{k} = {v!r}" for k, v in overrides.items()) + ")"
        write_report(results, out, cmd, time.perf_counter() - started)
    return results


# -- command line -----------------------------------------------------------------------
def add_arguments(parser) -> None:
    parser.add_argument("--reps", type=int, default=None,
                        help="replicates per arm (default: each pattern file's own count)")
    parser.add_argument("--out", default="validation", help="folder for report.md, figures and tables")
    parser.add_argument("--workers", type=int, default=1, help="processes to run replicates in")
    parser.add_argument("--only", default=None, metavar="PATTERNS",
                        help="comma-separated pattern numbers or file names, e.g. 1,3,07_cohesive_no_enquiry")
    parser.add_argument("--patterns", default=None, metavar="DIR", help="folder of pattern files (default experiments/patterns)")


def main(args) -> int:
    import sys

    if args.reps is not None and args.reps < 2:
        raise UserError("--reps must be at least 2 (a confidence interval needs two replicates)")
    if args.workers < 1:
        raise UserError("--workers must be at least 1")
    only = [x for x in args.only.split(",") if x.strip()] if args.only else None

    def progress(done, total):
        if done == total or done % 25 == 0:
            print(f"\r  {done}/{total} runs", end="" if done < total else "\n", file=sys.stderr, flush=True)

    try:
        results = validate(args.out, args.reps, args.workers, only, args.patterns, progress=progress)
    except PatternError as err:
        raise UserError(str(err)) from None
    width = max(len(r.pattern.title) for r in results)
    for r in results:
        print(f"{r.pattern.number:>2}  {r.pattern.title:<{width}}  {r.verdict}")
    print(f"report written to {Path(args.out) / 'report.md'}")
    return 0
