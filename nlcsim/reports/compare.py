"""Policy comparison: design options run side by side, differences paired per replicate.

Every option runs with the same replicate seeds: replicate r of every option uses
``SeedSequence(seed).spawn(n)[r]`` (the seed ``nlcsim run --reps`` gives replicate
r too).  Two options then meet the same draws wherever their mechanisms ask for
them, so their difference can be taken replicate by replicate and much of the
chance variation they share cancels: common random numbers (Law, *Simulation
Modeling and Analysis*, 5th ed., section 11.2).  The 95% CI of a difference is
the paired Student t interval, ``mean_ci`` of the per-replicate differences.
"Better in" is the share of matched replicates in which the option did better
than the baseline, ties counting half; it describes single runs, not the mean.

A difference whose 95% CI includes zero is reported as "no detectable
difference": the options may differ, but not by more than this many
replicates can tell apart from chance.

>>> from nlcsim.reports.compare import compare
>>> small = {"population.schools_per_network": 3, "population.teachers_per_school": 8,
...          "schedule.years": 1, "funding.years": 0.5}
>>> result = compare(["baseline", "high_trust"], reps=3, overrides=small, workers=1)
>>> result.labels
['baseline', 'high_trust']
>>> row = result.effect("high_trust", "mean_trust")
>>> row["diff_low"] > 0
True
"""

from __future__ import annotations

import math
import os
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .. import __version__
from ..errors import UserError, make_folder
from ..provenance import model_source
from ..measures import FLOW, OUTCOMES
from ..replicates import mean_ci, model_pool, outcome_ci, outcomes_table, run_job, timeseries_table
from ..run import RunResult, replicate_seeds
from ..scenario import PARAMS, Scenario, parse_sets

HIGHER, LOWER, NEITHER = 1, -1, 0

# outcome -> (which way is better, short name for tables, phrase for sentences).
# Directions follow the brief's causal chain: more collaboration, knowledge,
# practice change, learning and survival are better; weak practice and dormancy
# are worse.  The mix of Little's lighter collaboration types and the conflict
# share have no better direction: moderate dissonance is needed for new learning
# and too much breaks relationships (seed 000).
READING: dict[str, tuple[int, str, str]] = {
    "practice_change": (HIGHER, "Practice change", "practice change"),
    "adoption_share": (HIGHER, "Teachers with changed practice", "the share of teachers whose practice changed"),
    "knowledge_created": (HIGHER, "Knowledge created", "knowledge created"),
    "knowledge_reach": (HIGHER, "Knowledge reach across schools", "the reach of knowledge across schools"),
    "awareness_reach": (HIGHER, "Awareness across schools", "awareness across schools"),
    "storytelling_share": (NEITHER, "Storytelling and scanning", "the share of storytelling and scanning over the run"),
    "aid_share": (NEITHER, "Aid and assistance", "the share of aid and assistance over the run"),
    "sharing_share": (NEITHER, "Sharing", "the share of sharing over the run"),
    "joint_work_share": (HIGHER, "Joint work", "the share of joint work over the run"),
    "conflict_share": (NEITHER, "Unresolved conflict", "the share of unresolved conflict over the run"),
    "interactions_per_teacher": (HIGHER, "Collaboration per teacher", "collaboration per teacher over the run"),
    "mean_trust": (HIGHER, "Trust", "trust"),
    "cross_school_ties": (HIGHER, "Cross-school ties", "active ties between schools"),
    "engagement": (HIGHER, "Engagement", "engagement"),
    "member_share": (HIGHER, "Teachers taking part", "the share of teachers taking part"),
    "active_schools_share": (HIGHER, "Schools still active", "the share of schools still active"),
    "sustainability": (HIGHER, "Sustained activity", "activity in the last year against the last funded year"),
    "pupil_outcome": (HIGHER, "Pupil outcomes", "pupil outcomes"),
    "improved_teaching_share": (HIGHER, "Improved teaching (MORI question)", "the share reporting improved teaching after two years"),
    "improved_motivation_share": (HIGHER, "Improved motivation (MORI question)", "the share reporting improved motivation after two years"),
    "learning_pupil": (HIGHER, "Pupil learning", "pupil learning"),
    "learning_adult": (HIGHER, "Adult learning", "adult learning"),
    "learning_leadership": (HIGHER, "Leadership learning", "leadership learning"),
    "learning_school_wide": (HIGHER, "School-wide learning", "school-wide learning"),
    "learning_school_to_school": (HIGHER, "School-to-school learning", "school-to-school learning"),
    "learning_network_to_network": (HIGHER, "Network-to-network learning", "network-to-network learning"),
    "weak_practice_share": (LOWER, "Weak practice", "the share of changed practice that is weak"),
    "weeks_to_dormant": (HIGHER, "Weeks until dormant", "the time until the network goes dormant"),
    "network_dormant": (LOWER, "Networks gone dormant", "the share of networks gone dormant"),
}

# weeks_to_dormant is not among them: a run that never goes dormant counts its weeks to the end of
# the run, so its mean depends on how long each option is followed; the survival section (Kaplan-Meier,
# censored) answers the same question properly.
DEFAULT_OUTCOMES = ("practice_change", "pupil_outcome", "improved_teaching_share", "joint_work_share",
                    "mean_trust", "knowledge_reach", "engagement", "learning_leadership",
                    "active_schools_share", "sustainability")
# When an outcome is read, where it is not the last week of the run.
WHEN = {
    "improved_teaching_share": "after two school years (MORI 2004 timing)",
    "improved_motivation_share": "after two school years (MORI 2004 timing)",
    **{name: "over the whole run" for name in FLOW},
    "sustainability": "last year of the run against the last funded year",
    "weeks_to_dormant": "after funding ends; a run that never goes dormant counts its weeks to the end of the run",
    "network_dormant": "after funding ends, by the end of the run",
}
DEFAULT_PRIMARY = ("practice_change", "active_schools_share")
AUTO_BATCH = 10


def direction(outcome: str) -> int:
    """+1 if higher is better, -1 if lower is better, 0 if neither."""
    return READING.get(outcome, (NEITHER,))[0]


def when(outcome: str) -> str:
    """When an outcome is read: "at the end of the run" unless :data:`WHEN` says otherwise."""
    return WHEN.get(outcome, "at the end of the run")


def short_name(outcome: str) -> str:
    return READING[outcome][1] if outcome in READING else outcome.replace("_", " ").capitalize()


def phrase(outcome: str) -> str:
    return READING[outcome][2] if outcome in READING else outcome.replace("_", " ")


def unit(outcome: str) -> str:
    return OUTCOMES.get(outcome, ("",))[0]


def is_share(outcome: str) -> bool:
    """Shares are shown as percentages and their differences in percentage points."""
    u = unit(outcome)
    return u.startswith("share") or u == "0/1"


def verdict(outcome: str, low: float, high: float) -> str:
    """'better', 'worse', 'higher', 'lower' or 'no detectable difference' from a difference's CI."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return "not estimable"
    if low <= 0 <= high:
        return "no detectable difference"
    up = low > 0
    d = direction(outcome)
    if d == NEITHER:
        return "higher" if up else "lower"
    return "better" if up == (d > 0) else "worse"


# -- numbers in words ---------------------------------------------------------
def _scale(outcome: str) -> float:
    """What a value is multiplied by to be shown: 100 for a share (percent, points), else 1."""
    return 100.0 if is_share(outcome) else 1.0


def _decimals(half_width: float, value: float) -> int:
    """Decimals that show a number to the precision its CI supports.

    One significant digit of the CI's half-width, two when that digit is a 1
    (a half-width of 0.14 shown as 0.1 would hide most of what is known).
    """
    if math.isfinite(half_width) and half_width > 0:
        exponent = math.floor(math.log10(half_width))
        extra = 1 if half_width / 10.0 ** exponent < 2 else 0
        return int(min(3, max(0, -exponent + extra)))
    return 0 if abs(value) >= 10 else 2


def _num(x: float, decimals: int, signed: bool = False) -> str:
    text = f"{x:+.{decimals}f}" if signed else f"{x:.{decimals}f}"
    if float(text) == 0:
        text = f"{0:.{decimals}f}"
    return text.replace("-", "\u2212")


def level_text(outcome: str, value: float, half_width: float = float("nan"), decimals: int | None = None) -> str:
    """A level of an outcome in its unit, e.g. '64%' or '0.17' or '31 weeks' (``decimals`` of the
    shown number, percent for shares, if given; else from ``half_width``)."""
    if not math.isfinite(value):
        return "n/a"
    exact = not (math.isfinite(half_width) and half_width > 0)
    if is_share(outcome):
        d = decimals if decimals is not None else 0 if exact else _decimals(100 * half_width, 100 * value)
        return _num(100 * value, d) + "%"
    weeks = unit(outcome) == "weeks"
    if decimals is None:
        decimals = 0 if weeks and exact else _decimals(half_width, value)  # no spread: whole weeks
    return _num(value, decimals) + (" weeks" if weeks else "")


def difference_decimals(outcome: str, diff: float, low: float, high: float) -> int:
    """Decimals of a difference and its CI, as :func:`difference_text` shows them (shares in points)."""
    scale = _scale(outcome)
    d = _decimals(scale * (high - low) / 2, scale * diff)
    if high - low == 0 and (is_share(outcome) or unit(outcome) == "weeks"):
        d = 0  # no spread at all: whole points and weeks say it
    nearest = min(abs(low), abs(high)) * scale
    while (low > 0 or high < 0) and d < 4 and round(nearest, d) == 0:
        d += 1  # a CI that excludes zero must not be shown touching it
    return d


def matching_decimals(outcome: str, level: float, base_level: float, diff: float, decimals: int) -> int:
    """At least ``decimals``, and enough (up to two more) that the two levels, rounded, differ
    by the difference, rounded: so '+2 points' is never shown beside '71% against 70%'."""
    scale = _scale(outcome)
    for d in range(decimals, decimals + 3):
        shown = round(scale * level, d) - round(scale * base_level, d)
        if abs(abs(shown) - round(abs(scale * diff), d)) < 0.5 * 10.0 ** -d:
            return d
    return decimals


def difference_text(outcome: str, diff: float, low: float, high: float, signed: bool = True,
                    decimals: int | None = None) -> tuple[str, str]:
    """A difference and its CI in the outcome's unit: ('+24 percentage points', '20 to 28')."""
    scale = _scale(outcome)
    d = difference_decimals(outcome, diff, low, high) if decimals is None else decimals
    suffix = " percentage points" if is_share(outcome) else (" weeks" if unit(outcome) == "weeks" else "")
    number = _num(scale * diff, d, signed)
    if number.lstrip("+\u2212") == "1":
        suffix = suffix.replace("points", "point").replace("weeks", "week")
    return (number + suffix,
            f"{_num(scale * low, d)} to {_num(scale * high, d)}")


# -- the comparison -------------------------------------------------------------
@dataclass
class Comparison:
    """Options run with common random numbers, and everything a report says about them."""

    options: dict[str, Scenario]
    baseline: str
    runs: dict[str, list[RunResult]]
    seed: int
    outcomes: list[str]
    primary: list[str]
    stopping: dict[str, Any]
    overrides: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    version: str = __version__
    model_source: str = field(default_factory=model_source)  # nlcsim.provenance: which model made the runs
    created: str = ""
    seconds: float = 0.0
    _tables: dict = field(default_factory=dict, repr=False, compare=False)

    def _outcomes(self, option: str) -> pd.DataFrame:
        """The option's outcomes table, built once per number of replicates."""
        key = (option, len(self.runs[option]))
        if key not in self._tables:
            self._tables[key] = outcomes_table(self.runs[option])
        return self._tables[key]

    @property
    def labels(self) -> list[str]:
        return list(self.options)

    @property
    def alternatives(self) -> list[str]:
        return [k for k in self.options if k != self.baseline]

    @property
    def reps(self) -> int:
        return len(self.runs[self.baseline])

    def values(self) -> pd.DataFrame:
        """Every outcome of every replicate of every option (one row per option and replicate)."""
        frames = []
        for label in self.labels:
            df = self._outcomes(label).copy()
            df.insert(0, "option", label)
            frames.append(df)
        return pd.concat(frames, ignore_index=True)

    def differences(self, option: str) -> pd.DataFrame:
        """Option minus baseline, replicate by replicate (the pairing common random numbers allow)."""
        a = self._outcomes(option).set_index("replicate")
        b = self._outcomes(self.baseline).set_index("replicate")
        names = list(OUTCOMES)
        return a[names] - b[names]

    def effect(self, option: str, outcome: str) -> dict[str, Any]:
        """Mean and CI of an outcome under an option, and its paired difference from the baseline."""
        key = ("effect", option, outcome, len(self.runs[option]))
        if key not in self._tables:
            self._tables[key] = self._effect(option, outcome)
        return dict(self._tables[key])

    def _effect(self, option: str, outcome: str) -> dict[str, Any]:
        values = self._outcomes(option)[outcome].to_numpy(float)
        m, lo, hi, sd = outcome_ci(outcome, values)
        row = {"option": option, "outcome": outcome, "unit": unit(outcome), "direction": direction(outcome),
               "mean": m, "ci_low": lo, "ci_high": hi, "sd": sd, "n": int(np.isfinite(values).sum()),
               "diff": np.nan, "diff_low": np.nan, "diff_high": np.nan, "p_better": np.nan,
               "p_higher": np.nan, "verdict": "baseline"}
        if option == self.baseline:
            return row
        d = (self._outcomes(option)[outcome].to_numpy(float)
             - self._outcomes(self.baseline)[outcome].to_numpy(float))
        d = d[np.isfinite(d)]
        dm, dlo, dhi, _ = mean_ci(d)
        higher = float(np.mean(d > 0) + 0.5 * np.mean(d == 0)) if d.size else np.nan
        better = {HIGHER: higher, LOWER: 1.0 - higher}.get(direction(outcome), np.nan)
        row.update(diff=dm, diff_low=dlo, diff_high=dhi, p_higher=higher, p_better=better,
                   verdict=verdict(outcome, dlo, dhi))
        return row

    def table(self, outcomes: Sequence[str] | None = None) -> pd.DataFrame:
        """One row per outcome and option: mean, CI, difference from the baseline with its CI, 'better in'."""
        rows = [self.effect(label, name) for name in (outcomes or self.outcomes) for label in self.labels]
        return pd.DataFrame(rows)

    def widest_primary(self) -> tuple[float, str, str]:
        """The widest 95% CI of a primary difference: (width, option, outcome)."""
        widest = (0.0, "", "")
        for option in self.alternatives:
            for name in self.primary:
                e = self.effect(option, name)
                width = e["diff_high"] - e["diff_low"]
                if not math.isfinite(width):
                    width = math.inf
                if width >= widest[0]:
                    widest = (width, option, name)
        return widest

    def parameter_differences(self) -> pd.DataFrame:
        """The parameters in which any option differs from the baseline, with every option's value."""
        base = self.options[self.baseline]
        keys: set[str] = set()
        for label in self.alternatives:
            keys |= set(self.options[label].diff(base))
        order = [p.name for p in PARAMS] + sorted(k for k in keys if k not in {p.name for p in PARAMS})
        meaning = {p.name: (p.meaning, p.unit) for p in PARAMS}
        rows = []
        for key in (k for k in order if k in keys):
            m, u = meaning.get(key, ("scheduled events" if key == "events"
                                     else "mechanism switched on" if key.startswith("mechanisms.") else "", ""))
            row = {"parameter": key, "meaning": m, "unit": u}
            for label in self.labels:
                row[label] = self.options[label].flat().get(key)
            rows.append(row)
        # object columns: a whole number stays whole beside a fraction (7, not 7.0) in parameters.csv
        return pd.DataFrame(rows, columns=["parameter", "meaning", "unit", *self.labels], dtype=object)

    def years_after_funding(self, option: str) -> float:
        """Years the run continues after the option's funding ends (0 if it never ends)."""
        sc = self.options[option]
        return max(sc.weeks - sc.money_end_week, 0) / sc.schedule.weeks_per_year

    def survival(self) -> pd.DataFrame:
        """Kaplan-Meier share of networks still active by week after funding ends, per option.

        A replicate's time is ``weeks_to_dormant``; replicates whose network never
        went dormant (``network_dormant`` = 0) are censored at the end of the run.
        Options whose funding outlasts the run have no rows.
        """
        rows = []
        for label in self.labels:
            sc = self.options[label]
            post = sc.weeks - sc.money_end_week
            if post <= 0:
                continue
            out = self._outcomes(label)
            t = out["weeks_to_dormant"].to_numpy(float)
            event = out["network_dormant"].to_numpy(float) > 0
            fit = stats.ecdf(stats.CensoredData(uncensored=t[event], right=t[~event]))
            weeks = np.arange(post + 1)
            still = fit.sf.evaluate(weeks)
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                band = fit.sf.confidence_interval(0.95)
                low, high = band.low.evaluate(weeks), band.high.evaluate(weeks)
            if not event.any():  # nothing went dormant: no uncertainty the estimator can state
                low, high = still.copy(), still.copy()
            wpy = sc.schedule.weeks_per_year
            for w, s, lo, hi in zip(weeks, still, low, high):
                rows.append({"option": label, "weeks_after_funding": int(w), "years_after_funding": w / wpy,
                             "still_active": float(s), "low": float(np.nan_to_num(lo, nan=s)),
                             "high": float(np.nan_to_num(hi, nan=s))})
        return pd.DataFrame(rows, columns=["option", "weeks_after_funding", "years_after_funding",
                                           "still_active", "low", "high"])

    def timeseries(self, option: str) -> pd.DataFrame:
        """Every replicate's weekly time series for an option, stacked (column ``replicate``)."""
        key = ("timeseries", option, len(self.runs[option]))
        if key not in self._tables:
            self._tables[key] = timeseries_table(self.runs[option])
        return self._tables[key]

    def summary(self) -> list[dict[str, Any]]:
        """What each option changes against the baseline, in plain words (one dict per option)."""
        return [self._option_summary(label) for label in self.alternatives]

    def _option_summary(self, option: str) -> dict[str, Any]:
        order = list(dict.fromkeys([*[p for p in self.primary if p in self.outcomes], *self.outcomes]))
        effects = [self.effect(option, name) for name in order]
        base_effects = {name: self.effect(self.baseline, name) for name in order}
        changes, noise = [], []
        for e in effects:
            name = e["outcome"]
            if e["verdict"] == "no detectable difference":
                noise.append(phrase(name))
                continue
            # "lowers X by 0.03 (95% CI 0.01 to 0.05)": sizes of the change, whichever way it goes
            size = (e["diff"], e["diff_low"], e["diff_high"]) if e["diff"] >= 0 else \
                (-e["diff"], -e["diff_high"], -e["diff_low"])
            base = base_effects[name]
            # the levels shown as precisely as the difference, and agreeing with it once rounded
            d = matching_decimals(name, e["mean"], base["mean"], e["diff"], difference_decimals(name, *size))
            diff, ci = difference_text(name, *size, signed=False, decimals=d)
            changes.append({
                "outcome": name, "verdict": e["verdict"], "primary": name in self.primary,
                "verb": "raises" if e["diff"] > 0 else "lowers", "phrase": phrase(name),
                "by": diff, "ci": ci,
                "level": level_text(name, e["mean"], decimals=d),
                "baseline_level": level_text(name, base["mean"], decimals=d),
                "p_better": e["p_better"],
            })
        counts = {k: sum(e["verdict"] == k for e in effects) for k in ("better", "worse")}
        n_noise = len(noise)
        neutral = len(effects) - counts["better"] - counts["worse"] - n_noise
        headline = (f"Against {self.baseline}, {option} does better on {counts['better']} of {len(effects)} outcomes "
                    f"and worse on {counts['worse']}; {n_noise} {'shows' if n_noise == 1 else 'show'} "
                    "no detectable difference"
                    + (f" and {neutral} change without a better direction" if neutral else "")
                    + f" ({self.reps} matched runs each).")
        return {"option": option, "story": self.options[option].meta.get("story", ""),
                "headline": headline, "changes": changes, "noise": noise,
                "schools": self._schools_sentence(option),
                "parameters": [f"{k} {value_text(b)} \u2192 {value_text(a)}"
                               for k, (a, b) in self.options[option].diff(self.options[self.baseline]).items()]}

    def _schools_sentence(self, option: str) -> str:
        """'It keeps 64% of schools active 3 years after funding ends, against 41% under baseline.'"""
        mine, base = self.effect(option, "active_schools_share"), self.effect(self.baseline, "active_schools_share")
        years, base_years = self.years_after_funding(option), self.years_after_funding(self.baseline)
        half = (mine["ci_high"] - mine["ci_low"]) / 2
        level = level_text("active_schools_share", mine["mean"], half)
        against = level_text("active_schools_share", base["mean"], (base["ci_high"] - base["ci_low"]) / 2)
        if years <= 0:
            when = "at the end of the run (its funding does not end within the run)"
        else:
            when = f"{_years_text(years)} after funding ends"
        if math.isclose(years, base_years):
            tail = f"against {against} under {self.baseline}"
        elif base_years <= 0:
            tail = f"against {against} under {self.baseline}, whose funding does not end within the run"
        else:
            tail = f"against {against} under {self.baseline} {_years_text(base_years)} after its funding ends"
        verdict_text = self.effect(option, "active_schools_share")["verdict"]
        note = " (no detectable difference)" if verdict_text == "no detectable difference" else ""
        return f"It keeps {level} of schools active {when}, {tail}{note}."

    def write(self, out: str | Path, format: str | None = None) -> Path:
        """Write the report (HTML or Markdown) and its numbers beside it; returns the report's path."""
        from .compare_report import write_report

        return write_report(self, out, format)


def _years_text(years: float) -> str:
    words = {1: "one year", 2: "two years", 3: "three years", 4: "four years", 5: "five years"}
    if float(years).is_integer() and int(years) in words:
        return words[int(years)]
    return f"{years:.1f} years"


def value_text(value: Any) -> str:
    """A parameter value for people to read: switches on/off, floats short, nothing blank."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return "" if value is None else str(value)


# -- running ------------------------------------------------------------------------
def _run_batch(options: Mapping[str, Scenario], seeds: Sequence[np.random.SeedSequence],
               pool: ProcessPoolExecutor | None, workers: int) -> dict[str, list[RunResult]]:
    """Every option with every seed of the batch; all options share the same seeds."""
    jobs = [(sc, ss) for sc in options.values() for ss in seeds]
    if pool is None:
        results = [run_job(j) for j in jobs]
    else:
        results = list(pool.map(run_job, jobs, chunksize=max(1, len(jobs) // (4 * workers))))
    n = len(seeds)
    return {label: results[k * n:(k + 1) * n] for k, label in enumerate(options)}


def _label_options(scenarios: Sequence[Scenario | str], overrides: Mapping[str, Any] | None
                   ) -> tuple[dict[str, Scenario], dict[str, str]]:
    options, sources = {}, {}
    for item in scenarios:
        sc = Scenario.load(item, overrides=overrides)
        label, k = sc.name, 2
        while label in options:
            label, k = f"{sc.name} ({k})", k + 1
        options[label] = sc
        sources[label] = item.source if isinstance(item, Scenario) else str(item)
    return options, sources


def _check_outcomes(names: Sequence[str], flag: str) -> list[str]:
    unknown = [n for n in names if n not in OUTCOMES]
    if unknown:
        raise UserError(f"{flag}: unknown outcome(s) {', '.join(unknown)}; outcomes are {', '.join(OUTCOMES)}")
    return list(dict.fromkeys(names))


def compare(scenarios: Sequence[Scenario | str], baseline: str | None = None, reps: int | str = 20,
            seed: int = 1, outcomes: Sequence[str] | None = None, workers: int | None = None,
            overrides: Mapping[str, Any] | None = None, primary: Sequence[str] | None = None,
            ci_width: float = 0.05, max_reps: int = 200, batch: int = AUTO_BATCH) -> Comparison:
    """Run every option with the same replicate seeds and pair their outcomes with the baseline's.

    ``scenarios``: preset names, paths or Scenario objects (the options).
    ``baseline``: the option the others are compared with (its name, what was
    passed for it, or the same scenario given another way, such as a path to
    its preset); default the first option; a name not among the options is
    loaded and added as the first option.  ``reps``: replicates per option, or
    ``"auto"``: batches of ``batch`` (10) are added, taking the seeds of
    ``SeedSequence(seed).spawn(max_reps)`` in order, until every primary
    difference's 95% CI is narrower than ``ci_width`` (in the outcome's own
    unit) or ``max_reps`` is reached.  ``overrides`` apply to every option.
    ``workers``: processes (default: every core); results do not depend on it.
    """
    start = time.perf_counter()
    items = list(scenarios)
    options, sources = _label_options(items, overrides)
    base_label = next(iter(options), None)
    if baseline is not None:
        named = [k for k in options if baseline in (k, sources[k])]
        if not named:  # the same scenario given another way (a path to a preset, say) is that option
            wanted = Scenario.load(baseline, overrides=overrides)
            named = [k for k in options if options[k] == wanted]
        if named:
            base_label = named[0]
        else:  # a baseline that is not among the options joins them
            options, sources = _label_options([baseline, *items], overrides)
            base_label = next(iter(options))
    if len(options) < 2:
        raise UserError("compare needs at least two options (or one option and --baseline)")
    options = {base_label: options[base_label], **{k: v for k, v in options.items() if k != base_label}}

    outcomes = _check_outcomes(list(outcomes or DEFAULT_OUTCOMES), "--outcomes")
    if primary is None:
        primary = [p for p in DEFAULT_PRIMARY if p in outcomes] or outcomes[:1]
    primary = _check_outcomes(list(primary), "--primary")
    outcomes = list(dict.fromkeys([*outcomes, *primary]))
    workers = (os.cpu_count() or 1) if workers is None else int(workers)
    if workers < 1:
        raise UserError("--workers must be at least 1")

    auto = isinstance(reps, str)
    if auto and reps != "auto":
        raise UserError(f"--reps {reps!r}: give a whole number of at least 2, or auto")
    if auto:
        if not ci_width > 0:
            raise UserError(f"--ci-width {ci_width}: must be greater than 0")
        if max_reps < 2:
            raise UserError(f"--max-reps {max_reps}: must be at least 2")
        if batch < 2:
            raise UserError(f"batch {batch}: must be at least 2")
        cap = int(max_reps)
    else:
        cap = int(reps)
        if cap < 2:
            raise UserError(f"--reps {reps}: at least 2 replicates are needed for a confidence interval")
    seeds = replicate_seeds(seed, cap)

    result = Comparison(options=options, baseline=base_label, runs={k: [] for k in options}, seed=seed,
                        outcomes=outcomes, primary=list(primary), stopping={}, overrides=dict(overrides or {}),
                        sources=sources)
    history = []
    use_pool = workers > 1 and len(options) * min(cap, batch if auto else cap) > 1
    pool = model_pool(workers) if use_pool else None
    try:
        done = 0
        while done < cap:
            size = min(batch if auto else cap, cap - done)
            fresh = _run_batch(options, seeds[done:done + size], pool, workers)
            for label, runs in fresh.items():
                result.runs[label].extend(runs)
            done += size
            if not auto:
                break
            width, option, name = result.widest_primary()
            history.append({"replicates": done, "widest_ci": width, "option": option, "outcome": name})
            if width < ci_width:
                break
    finally:
        if pool is not None:
            pool.shutdown()
    if auto:
        last = history[-1]
        reason = "width" if last["widest_ci"] < ci_width else "cap"
        result.stopping = {"mode": "auto", "reason": reason, "ci_width": ci_width, "max_reps": cap,
                           "batch": batch, "history": history}
    else:
        result.stopping = {"mode": "fixed", "reason": "fixed", "ci_width": None, "max_reps": None,
                           "batch": None, "history": []}
    result.created = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    result.seconds = time.perf_counter() - start
    return result


def stopping_sentence(result: Comparison) -> str:
    """Which rule ended the replicates, in words."""
    s = result.stopping
    if s.get("mode") != "auto":
        return f"{result.reps} matched replicates per option, as requested."
    primary = ", ".join(short_name(p).lower() for p in result.primary)
    last = s["history"][-1]
    widest = width_text(last["outcome"], last["widest_ci"])
    target = f"{s['ci_width']:g}"
    shares = [p for p in result.primary if is_share(p)]
    if shares:  # shares are shown in points everywhere else
        target += (f" ({width_text(shares[0], s['ci_width'])})" if len(shares) == len(result.primary)
                   else f" ({width_text(shares[0], s['ci_width'])} for shares)")
    if s["reason"] == "width":
        return (f"Replicates were added in batches of {s['batch']} until every primary difference's 95% CI "
                f"({primary}) was narrower than {target}: this happened after {result.reps} replicates "
                f"per option (widest {widest}).")
    return (f"Replicates were added in batches of {s['batch']} up to the cap of {s['max_reps']} per option "
            f"before every primary difference's 95% CI ({primary}) was narrower than {target}: the cap "
            f"was reached, and the widest CI is {widest} ({short_name(last['outcome']).lower()}, {last['option']}).")


def width_text(outcome: str, width: float) -> str:
    """A CI's width in the outcome's unit as the report shows differences: '4.2 percentage points', '0.031'."""
    if is_share(outcome):
        return f"{_significant(100 * width)} percentage points"
    return _significant(width) + (" weeks" if unit(outcome) == "weeks" else "")


def _significant(x: float, digits: int = 3) -> str:
    """``x`` to ``digits`` significant digits, without an exponent for numbers people read: 1000, 0.0421."""
    return f"{float(f'{x:.{digits}g}'):g}" if 1e-4 <= abs(x) < 1e6 else f"{x:.{digits}g}"


# -- command line -----------------------------------------------------------------------
def _reps_value(text: str) -> int | str:
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise UserError(f"--reps {text!r}: give a whole number of at least 2, or auto") from None


def _list_value(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def add_arguments(parser) -> None:
    parser.description = ("Run design options with the same replicate seeds and write a report that compares "
                          "them with a baseline: a plain-words summary with 95% CIs, tables, figures and the "
                          "numbers as CSV.")
    parser.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="preset names or TOML files (the options)")
    parser.add_argument("--baseline", metavar="NAME", help="the option the others are compared with (default: the first)")
    parser.add_argument("--reps", default="20", metavar="R|auto",
                        help="replicates per option, or auto: add batches until --ci-width or --max-reps (default 20)")
    parser.add_argument("--seed", type=int, default=1, help="seed from which the shared replicate seeds are spawned")
    parser.add_argument("--outcomes", metavar="LIST", help="comma-separated outcomes to report "
                        f"(default {','.join(DEFAULT_OUTCOMES)})")
    parser.add_argument("--primary", metavar="LIST", help="comma-separated primary outcomes for --reps auto "
                        f"(default {','.join(DEFAULT_PRIMARY)})")
    parser.add_argument("--ci-width", type=float, default=0.05, metavar="W",
                        help="with --reps auto: stop when every primary difference's 95%% CI is narrower than W, "
                             "in the outcome's unit, shares as fractions: 0.05 is 5 percentage points (default 0.05)")
    parser.add_argument("--max-reps", type=int, default=200, metavar="N", help="with --reps auto: the cap (default 200)")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a parameter in every option")
    parser.add_argument("--out", default=None, metavar="PATH",
                        help="report file (default comparison.html, or comparison.md with --format md); "
                             "the numbers go in a folder beside it")
    parser.add_argument("--format", choices=("html", "md"), default=None,
                        help="html (self-contained, default) or md (Markdown with PNG figures beside it)")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: every core)")


REPORT_ENDINGS = (".html", ".htm", ".md")  # the file endings a report keeps; any other gets its format's


def report_path(out: str | Path, format: str | None = None) -> tuple[Path, str]:
    """The report's file and format from ``--out`` and ``--format``: a UserError, before any run,
    for an unknown format, an ending that contradicts it or a folder."""
    out = Path(out)
    ending = out.suffix.lower()
    fmt = format or ("md" if ending == ".md" else "html")
    if fmt not in ("html", "md"):
        raise UserError(f"--format {fmt!r}: choose html or md")
    if ending in REPORT_ENDINGS and (ending == ".md") != (fmt == "md"):
        raise UserError(f"--out {out}: a {fmt} report cannot go in a {ending} file; end --out with .{fmt}, "
                        "or leave --format out")
    if out.is_dir():
        raise UserError(f"--out {out}: is a folder; give the report's file name, e.g. {out / ('comparison.' + fmt)}")
    if ending not in REPORT_ENDINGS:
        out = out.with_name(f"{out.name}.{fmt}")
    return out, fmt


def main(args) -> int:
    out, fmt = report_path(args.out or f"comparison.{args.format or 'html'}", args.format)
    make_folder(out.parent, "--out")  # a folder that cannot be made fails before the runs
    result = compare(args.scenarios, baseline=args.baseline, reps=_reps_value(args.reps), seed=args.seed,
                     outcomes=_list_value(args.outcomes), primary=_list_value(args.primary),
                     workers=args.workers, overrides=parse_sets(args.set), ci_width=args.ci_width,
                     max_reps=args.max_reps)
    path = result.write(out, fmt)
    print(f"nlcsim compare: {', '.join(result.alternatives)} against {result.baseline}, seed {result.seed}")
    print(stopping_sentence(result))
    for item in result.summary():
        print(f"- {item['headline']}")
    print(f"report written to {path} (numbers in {path.parent / (path.stem + '_files')}/)")
    return 0
