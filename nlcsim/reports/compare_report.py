"""The comparison report: figures, the HTML or Markdown page, and the numbers beside it.

``write_report(comparison, "report.html")`` writes ``report.html`` (one
self-contained file) and ``report_files/`` beside it: the numbers as CSV, the
seeds, version and resolved scenarios (``comparison.json`` and one TOML file per
option) and, for Markdown, the figures as PNG.
"""

from __future__ import annotations

import json
import math
import platform
import re
import shlex
from pathlib import Path
from typing import Any, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import mesa  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import MaxNLocator, PercentFormatter  # noqa: E402

from ..measures import COLUMNS, OUTCOMES  # noqa: E402
from ..scenario import Scenario, ScenarioError, override_text  # noqa: E402
from .compare import (AUTO_BATCH, HIGHER, LOWER, Comparison, difference_text, direction, is_share,  # noqa: E402
                      level_text, report_path, short_name, stopping_sentence, unit, value_text, when)
from .html import data_uri, figure_png, markdown_table, option_colours, page, render  # noqa: E402
from .plots import MAIN_SERIES, band  # noqa: E402

DIRECTION_WORDS = {HIGHER: "higher is better", LOWER: "lower is better"}


# -- figures ----------------------------------------------------------------------
def _style(ax) -> None:
    ax.grid(alpha=0.25, linewidth=0.6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=8)


def _legend(fig, result: Comparison, colours: dict[str, str], extra: list | None = None) -> None:
    handles = [Line2D([], [], color=colours[k], linewidth=2.5,
                      label=k + (" (baseline)" if k == result.baseline != "baseline" else ""))
               for k in result.labels]
    fig.legend(handles=handles + (extra or []), loc="upper center", ncol=min(len(handles) + len(extra or []), 6),
               frameon=False, fontsize=9, bbox_to_anchor=(0.5, 1.0))


def effects_figure(result: Comparison, colours: dict[str, str]):
    """Each option's difference from the baseline with its 95% CI, one panel per outcome."""
    names = result.outcomes
    alternatives = result.alternatives
    ncols = min(3, len(names))
    nrows = math.ceil(len(names) / ncols)
    height = 0.32 * len(alternatives) + 1.05
    fig, axes = plt.subplots(nrows, ncols, figsize=(10, height * nrows + 0.5), squeeze=False)
    for ax in axes.ravel()[len(names):]:
        ax.set_visible(False)
    for ax, name in zip(axes.ravel(), names):
        scale = 100.0 if is_share(name) else 1.0
        for k, option in enumerate(alternatives):
            e = result.effect(option, name)
            y = len(alternatives) - 1 - k
            detectable = e["verdict"] not in ("no detectable difference", "not estimable")
            ax.plot([scale * e["diff_low"], scale * e["diff_high"]], [y, y], color=colours[option], linewidth=2.2,
                    solid_capstyle="round")
            ax.plot(scale * e["diff"], y, "o", markersize=7, color=colours[option],
                    markerfacecolor=colours[option] if detectable else "white", markeredgewidth=1.8)
        ax.axvline(0, color="#555555", linewidth=0.9, linestyle="--")
        ax.set_ylim(-0.7, len(alternatives) - 0.3)
        ax.set_yticks([])
        lo, hi = ax.get_xlim()
        span = max(abs(lo), abs(hi))
        ax.set_xlim(-span, span)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5, symmetric=True))
        how = DIRECTION_WORDS.get(direction(name), "no better direction")
        ax.set_title(f"{short_name(name)}\n({how})", fontsize=9)
        ax.set_xlabel("percentage points" if is_share(name) else unit(name), fontsize=8)
        _style(ax)
        ax.grid(axis="y", visible=False)
    handles = [Line2D([], [], color=colours[k], marker="o", linewidth=2.2, label=k) for k in alternatives]
    handles.append(Line2D([], [], color="#555555", marker="o", markerfacecolor="white", linewidth=0,
                          label="hollow: no detectable difference"))
    fig.legend(handles=handles, loc="upper center", ncol=min(len(handles), 4), frameon=False, fontsize=9,
               bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.45 / fig.get_figheight()))
    return fig


def timeseries_figure(result: Comparison, colours: dict[str, str], series=MAIN_SERIES):
    """Weekly means with 95% bands over replicates, every option in one panel per measure."""
    ncols = 4
    nrows = math.ceil(len(series) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(11, 2.6 * nrows + 0.6), sharex=True, squeeze=False)
    ends = {k: result.options[k].money_end_week for k in result.labels}
    same_end = len(set(ends.values())) == 1
    for label in result.labels:
        ts = result.timeseries(label)
        wpy = result.options[label].schedule.weeks_per_year
        for ax, column in zip(axes.ravel(), series):
            b = band(ts, column)
            years = b.index.to_numpy() / wpy
            ax.plot(years, b["mean"], color=colours[label], linewidth=1.6)
            ax.fill_between(years, b["low"], b["high"], color=colours[label], alpha=0.18, linewidth=0)
            end = ends[label] / wpy
            if 0 < ends[label] < len(b) and not same_end:
                ax.axvline(end, color=colours[label], linestyle=":", linewidth=1.1)
    for ax, column in zip(axes.ravel(), series):
        label = result.labels[0]
        end = ends[label]
        if same_end and 0 < end < result.options[label].weeks:
            ax.axvline(end / result.options[label].schedule.weeks_per_year, color="#b03a2e", linestyle="--",
                       linewidth=1)
        ax.set_title(short_name(column) if column in COLUMNS else column, fontsize=9.5)
        if COLUMNS.get(column, ("",))[0].startswith("share"):
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        _style(ax)
    for ax in axes.ravel()[len(series):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("year of the programme", fontsize=8)
    extra = [Line2D([], [], color="#b03a2e" if same_end else "#555555", linestyle="--" if same_end else ":",
                    label="funding ends")]
    _legend(fig, result, colours, extra)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.4 / fig.get_figheight()))
    return fig


def _spread(n: int, width: float = 0.32) -> np.ndarray:
    """Deterministic horizontal offsets for the dots of a strip plot (golden-ratio sequence)."""
    return ((np.arange(n) * 0.6180339887) % 1.0 - 0.5) * width


def distributions_figure(result: Comparison, colours: dict[str, str]):
    """Every replicate's outcome per option: dots, a box of the middle half, the mean as a bar."""
    names = result.outcomes
    ncols = min(4, len(names))
    nrows = math.ceil(len(names) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(11, 2.5 * nrows + 0.5), squeeze=False)
    for ax in axes.ravel()[len(names):]:
        ax.set_visible(False)
    values = result.values()
    for ax, name in zip(axes.ravel(), names):
        for k, label in enumerate(result.labels):
            x = values.loc[values["option"] == label, name].to_numpy(float)
            x = x[np.isfinite(x)]
            box = ax.boxplot([x], positions=[k], widths=0.55, showfliers=False, patch_artist=True,
                             medianprops={"color": colours[label], "linewidth": 1.2},
                             whiskerprops={"color": "#999999"}, capprops={"color": "#999999"})
            box["boxes"][0].set(facecolor=colours[label], alpha=0.15, edgecolor=colours[label])
            ax.scatter(k + _spread(x.size), x, s=9, color=colours[label], alpha=0.7, linewidths=0, zorder=3)
            if x.size:
                ax.plot([k - 0.3, k + 0.3], [x.mean()] * 2, color="black", linewidth=1.6, zorder=4)
        ax.set_xticks(range(len(result.labels)))
        ax.set_xticklabels([_short_label(k) for k in result.labels], fontsize=7.5, rotation=30, ha="right",
                           rotation_mode="anchor")
        ax.set_title(short_name(name), fontsize=9.5)
        if is_share(name):
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        _style(ax)
        ax.grid(axis="x", visible=False)
    fig.tight_layout()
    return fig


def _short_label(label: str, width: int = 16) -> str:
    return label if len(label) <= width else label[: width - 1] + "\u2026"


def survival_figure(result: Comparison, colours: dict[str, str], survival: pd.DataFrame):
    """Networks still active (Kaplan-Meier) and schools still active, by year after funding ends."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.9))
    for label in result.labels:
        s = survival[survival["option"] == label]
        if s.empty:
            continue
        left.step(s["years_after_funding"], s["still_active"], where="post", color=colours[label], linewidth=1.8)
        left.fill_between(s["years_after_funding"], s["low"], s["high"], step="post", color=colours[label],
                          alpha=0.15, linewidth=0)
        sc = result.options[label]
        ts = result.timeseries(label)
        after = ts[ts["week"] >= sc.money_end_week]
        b = band(after, "active_schools_share")
        years = (b.index.to_numpy() - sc.money_end_week) / sc.schedule.weeks_per_year
        right.plot(years, b["mean"], color=colours[label], linewidth=1.8)
        right.fill_between(years, b["low"], b["high"], color=colours[label], alpha=0.15, linewidth=0)
    left.set_title("Networks still active (not gone dormant)", fontsize=10)
    left.set_ylabel("share of runs (Kaplan-Meier)", fontsize=8.5)
    right.set_title("Schools still active", fontsize=10)
    right.set_ylabel("share of the programme's schools", fontsize=8.5)
    for ax in (left, right):
        ax.set_xlabel("years after funding ends", fontsize=8.5)
        ax.set_ylim(-0.02, 1.05)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        _style(ax)
    _legend(fig, result, colours)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))
    return fig


# -- content shared by the HTML and Markdown pages -------------------------------------
def _ci(name: str, mean: float, low: float, high: float) -> str:
    half = (high - low) / 2
    text = level_text(name, mean, half).replace(" weeks", "")
    if not (math.isfinite(low) and math.isfinite(high)):
        return text
    return f"{text} ({level_text(name, low, half).replace(' weeks', '')} to {level_text(name, high, half).replace(' weeks', '')})"


def _percent(p: float) -> str:
    return f"{100 * p:.0f}%" if math.isfinite(p) else "\u2014"


def _badge(verdict: str) -> str:
    return {"better": "better", "worse": "worse", "no detectable difference": "noise",
            "higher": "neutral", "lower": "neutral"}.get(verdict, "noise")


def _outcome_rows(result: Comparison) -> list[dict[str, Any]]:
    groups = []
    for name in result.outcomes:
        rows = []
        for label in result.labels:
            e = result.effect(label, name)
            row = {"option": label, "mean": _ci(name, e["mean"], e["ci_low"], e["ci_high"]),
                   "diff": "", "p_better": "", "verdict": "", "badge": ""}
            if label != result.baseline:
                diff, ci = difference_text(name, e["diff"], e["diff_low"], e["diff_high"])
                row.update(diff=f"{diff.replace(' percentage point', ' point')} ({ci})",
                           p_better=_percent(e["p_better"]) if direction(name) else
                           f"higher in {_percent(e['p_higher'])}",
                           verdict=e["verdict"], badge=_badge(e["verdict"]))
            rows.append(row)
        groups.append({"outcome": name, "title": short_name(name), "unit": unit(name), "when": when(name),
                       "direction": DIRECTION_WORDS.get(direction(name), "no better direction"),
                       "primary": name in result.primary, "rows": rows})
    return groups


def _parameter_rows(result: Comparison) -> list[dict[str, Any]]:
    table = result.parameter_differences()
    rows = []
    for _, r in table.iterrows():
        base = r[result.baseline]
        rows.append({"parameter": r["parameter"], "meaning": r["meaning"], "unit": r["unit"],
                     "values": [{"text": value_text(r[k]), "differs": k != result.baseline and r[k] != base}
                                for k in result.labels]})
    return rows


def _survival_rows(result: Comparison, survival: pd.DataFrame) -> tuple[list[int], list[dict[str, Any]]]:
    horizon = [y for y in (1, 2, 3, 5) if any(result.years_after_funding(k) >= y for k in result.labels)]
    rows = []
    for label in result.labels:
        s = survival[survival["option"] == label]
        cells = []
        for y in horizon:
            at = s[s["years_after_funding"] <= y + 1e-9]
            cells.append(_percent(at["still_active"].iloc[-1]) if not at.empty and
                         result.years_after_funding(label) >= y else "\u2014")
        e = result.effect(label, "active_schools_share")
        dormant = result.effect(label, "network_dormant")
        rows.append({"option": label, "cells": cells,
                     "years": f"{result.years_after_funding(label):g}",
                     "schools": _ci("active_schools_share", e["mean"], e["ci_low"], e["ci_high"]),
                     "dormant": _percent(dormant["mean"])})
    return horizon, rows


def command_line(result: Comparison) -> str:
    """The command that reproduces this comparison."""
    parts = ["nlcsim", "compare", *[result.sources[k] for k in result.labels], "--baseline",
             result.sources[result.baseline], "--seed", str(result.seed)]
    if result.stopping.get("mode") == "auto":
        parts += ["--reps", "auto", "--ci-width", repr(float(result.stopping["ci_width"])),
                  "--max-reps", str(result.stopping["max_reps"])]
    else:
        parts += ["--reps", str(result.reps)]
    parts += ["--outcomes", ",".join(result.outcomes), "--primary", ",".join(result.primary)]
    for key, value in result.overrides.items():
        parts += ["--set", f"{key}={override_text(value)}"]  # read back to the same value
    command = " ".join(shlex.quote(p) for p in parts)
    # From Python an option can be a Scenario changed after loading, and the batch size can be set:
    # no command line says that, so the command says what it would not reproduce.
    notes = []
    changed = [k for k in result.labels if not _as_loaded(result.sources[k], result.overrides, result.options[k])]
    if changed:
        notes.append(f"options {', '.join(changed)} differ from their files; "
                     "they ran as saved in this report's scenarios folder")
    if result.stopping.get("mode") == "auto" and result.stopping.get("batch") != AUTO_BATCH:
        notes.append(f"batches of {result.stopping['batch']} replicates")
    return command + (f" (from Python: {'; '.join(notes)})" if notes else "")


def _as_loaded(source: str, overrides: dict, scenario) -> bool:
    """Whether loading ``source`` with the shared overrides gives ``scenario`` back."""
    try:
        return Scenario.load(source, overrides=overrides or None) == scenario
    except ScenarioError:
        return False


def scenario_files(labels: Sequence[str]) -> dict[str, str]:
    """Each option's scenario file name in ``scenarios/``: its label made safe for a file name,
    numbered where two labels would give the same name ("a b" and "a_b")."""
    names: dict[str, str] = {}
    for label in labels:
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", label).strip("_") or "option"
        name, k = stem, 2
        while name in names.values():
            name, k = f"{stem}-{k}", k + 1
        names[label] = name
    return {label: f"{name}.toml" for label, name in names.items()}


def _story(result: Comparison, label: str) -> dict:
    """One option's row of the "options" table: its story, source, length and funded years."""
    sc = result.options[label]
    return {"option": label, "story": sc.meta.get("story", ""), "source": result.sources[label],
            "years": sc.schedule.years, "funded": f"{sc.money_end_week / sc.schedule.weeks_per_year:g}"}


def _applied(result: Comparison) -> list[str]:
    """The settings applied to every option (``--set``), as 'key = value'."""
    return [f"{k} = {value_text(v)}" for k, v in result.overrides.items()]


def _scenario_toml(result: Comparison, label: str) -> str:
    """An option's resolved scenario as TOML; where settings were applied to every option, a
    comment above says so (the story in [meta] is the one the option's file tells)."""
    text = result.options[label].to_toml()
    if not result.overrides:
        return text
    applied = ", ".join(_applied(result))
    return (f"# {label} as run in this comparison: {result.sources[label]} with {applied}, applied to every option.\n"
            "# The story below is the file's own; the values here are those the runs used.\n" + text)


def _length_note(result: Comparison) -> str:
    """A warning where the options run for different lengths: outcomes read at the end of the run
    are then read at different times."""
    weeks = {result.options[k].weeks: result.options[k].schedule for k in result.labels}
    if len(weeks) == 1:
        return ""
    years = [f"{w / weeks[w].weeks_per_year:g}" for w in sorted(weeks)]
    return (f"The options run for different lengths ({', '.join(years[:-1])} and {years[-1]} years). "
            "An outcome read at the end of the run is read at each option's own end, so its difference "
            "mixes the design with the time each option had.")


def content(result: Comparison, colours: dict[str, str], survival: pd.DataFrame, files: str,
            command: str) -> dict[str, Any]:
    """Everything the page says, as plain data for the templates (``command``: :func:`command_line`)."""
    horizon, survival_rows = _survival_rows(result, survival)
    alternatives = result.alternatives
    names = " and ".join([", ".join(alternatives[:-1]), alternatives[-1]] if len(alternatives) > 1 else alternatives)
    return {
        "title": f"{names} compared with {result.baseline}",
        "result": result, "colours": colours, "files": files,
        "summary": result.summary(),
        "stopping": stopping_sentence(result),
        "outcome_groups": _outcome_rows(result),
        "parameters": _parameter_rows(result),
        "horizon": horizon, "survival_rows": survival_rows,
        "any_survival": not survival.empty,
        "stories": [_story(result, k) for k in result.labels],
        "command": command,
        "software": {"nlcsim": result.version, "Python": platform.python_version(), "NumPy": np.__version__,
                     "Mesa": mesa.__version__, "pandas": pd.__version__},
        "scenario_files": {k: f"{files}/scenarios/{name}" for k, name in scenario_files(result.labels).items()},
        "tomls": {k: _scenario_toml(result, k) for k in result.labels},
        "length_note": _length_note(result),
        "primary": [short_name(p).lower() for p in result.primary],
        "overrides": _applied(result),
        "spawn_keys": ", ".join(str(r) for r in range(min(result.reps, 12))) + (", \u2026" if result.reps > 12 else ""),
    }


BODY = """
<header class="report">
  <div class="kicker">nlcsim &middot; comparison of programme options</div>
  <h1>{{ title }}</h1>
  <p class="meta">{{ result.reps }} matched simulation runs per option &middot; seed {{ result.seed }} &middot;
     nlcsim {{ result.version }} &middot; {{ result.created[:10] }}</p>
</header>

<section class="options">
  <h2>The options</h2>
  <table class="options-table">
    <thead><tr><th>Option</th><th>What it stands for</th><th class="num">Funded years</th><th class="num">Years simulated</th></tr></thead>
    <tbody>
    {% for s in stories %}
      <tr><td class="option"><span class="swatch" style="background: {{ colours[s.option] }}"></span><strong>{{ s.option }}</strong>{% if s.option == result.baseline and s.option != "baseline" %} (baseline){% endif %}</td>
          <td>{{ s.story }}</td><td class="num">{{ s.funded }}</td><td class="num">{{ s.years }}</td></tr>
    {% endfor %}
    </tbody>
  </table>
  {% if overrides %}<p class="note">Settings applied to every option: {{ overrides | join("; ") }}.</p>{% endif %}
  {% if length_note %}<p class="note">{{ length_note }}</p>{% endif %}
</section>

<section class="summary" id="summary">
  <h2>In brief</h2>
  {% for s in summary %}
  <div class="option" style="border-left-color: {{ colours[s.option] }}">
    <h3>{{ s.option }}</h3>
    <p class="lede">{{ s.headline }}</p>
    {% if s.changes %}
    <ul>
      {% for c in s.changes %}
      <li>{{ c.verb | capitalize }} <strong>{{ c.phrase }}</strong> by {{ c.by }} (95% CI {{ c.ci }}):
          {{ c.level }} against {{ c.baseline_level }}.
          <span class="badge {{ 'better' if c.verdict == 'better' else 'worse' if c.verdict == 'worse' else 'neutral' }}">{{ c.verdict }}</span></li>
      {% endfor %}
    </ul>
    {% endif %}
    {% if s.noise %}<p>No detectable difference in {{ s.noise | join(", ") }}: any difference there is within the noise of {{ result.reps }} runs.</p>{% endif %}
    <p>{{ s.schools }}</p>
    {% if s.parameters %}<p class="note">Differs from {{ result.baseline }} in: {{ s.parameters | join("; ") }}.</p>
    {% else %}<p class="note">Its parameters are the same as {{ result.baseline }}'s.</p>{% endif %}
  </div>
  {% endfor %}
  <p class="note">How to read this: every option was run {{ result.reps }} times with the same {{ result.reps }} random seeds
    (common random numbers), so each run of an option has a matched run of {{ result.baseline }}. Differences are averaged over
    matched pairs; the 95% confidence interval (CI) is the paired t interval. Where it includes zero we say
    <em>no detectable difference</em>. Differences in shares are in percentage points. {{ stopping }}</p>
</section>

<section class="figure" id="effects">
  <h2>Effects at a glance</h2>
  <figure><img src="{{ figures.effects.src }}" alt="{{ figures.effects.alt }}">
    <figcaption>Difference from {{ result.baseline }} for each outcome: the dot is the mean over matched runs, the line its 95% CI.
    A line that crosses the dashed zero line is no detectable difference (hollow dot).</figcaption></figure>
</section>

<section class="outcomes" id="outcomes">
  <h2>Outcomes</h2>
  <p class="note">Each outcome says when it is read. <em>Better in</em>: the share of matched runs in which the
  option did better than {{ result.baseline }} (ties count half); it describes single runs, not the mean.
  {% if primary %}Primary outcomes: {{ primary | join(", ") }}.{% endif %}</p>
  <table class="outcome-table">
    <thead><tr><th>Option</th><th class="num">Mean (95% CI)</th><th class="num">Difference from {{ result.baseline }} (95% CI)</th>
      <th class="num">Better in</th><th>Verdict</th></tr></thead>
    <tbody>
    {% for g in outcome_groups %}
      <tr class="group"><td colspan="5">{{ g.title }}{% if g.primary %} (primary){% endif %} <span class="note">&middot; {{ g.when }} &middot; {{ g.unit }} &middot; {{ g.direction }}</span></td></tr>
      {% for r in g.rows %}
      <tr><td class="option"><span class="swatch" style="background: {{ colours[r.option] }}"></span>{{ r.option }}</td>
          <td class="num">{{ r.mean }}</td><td class="num">{{ r.diff }}</td><td class="num">{{ r.p_better }}</td>
          <td>{% if r.verdict %}<span class="badge {{ r.badge }}">{{ r.verdict }}</span>{% endif %}</td></tr>
      {% endfor %}
    {% endfor %}
    </tbody>
  </table>
  <p class="screen-only note"><a download="comparison_summary.csv" href="{{ summary_csv }}">Download this table as CSV</a>
     &middot; all numbers are in the folder <code>{{ files }}/</code> beside this report.</p>
</section>

<section class="figure" id="over-time">
  <h2>Over time</h2>
  <figure><img src="{{ figures.timeseries.src }}" alt="{{ figures.timeseries.alt }}">
    <figcaption>Weekly mean over the runs of each option, with its 95% band. Vertical line: funding ends
    (in each option's colour where the options' funding ends at different times).</figcaption></figure>
</section>

<section class="figure" id="distributions">
  <h2>Spread across runs</h2>
  <figure><img src="{{ figures.distributions.src }}" alt="{{ figures.distributions.alt }}">
    <figcaption>Each dot is one run; the box holds the middle half of the runs and the black bar is the mean.</figcaption></figure>
</section>

<section class="figure" id="after-funding">
  <h2>After the funding ends</h2>
  {% if any_survival %}
  <figure><img src="{{ figures.survival.src }}" alt="{{ figures.survival.alt }}">
    <figcaption>Left: share of runs whose network is still active (its activity has not fallen below a quarter of its funded
    level), estimated by Kaplan-Meier; runs still active at the end are censored. Right: share of schools still active, mean and 95% band.</figcaption></figure>
  <table class="survival-table">
    <thead><tr><th>Option</th>{% for y in horizon %}<th class="num">Network active {{ y }} yr after</th>{% endfor %}
      <th class="num">Years followed after funding</th><th class="num">Schools active at end (95% CI)</th><th class="num">Runs gone dormant</th></tr></thead>
    <tbody>
    {% for r in survival_rows %}
      <tr><td class="option"><span class="swatch" style="background: {{ colours[r.option] }}"></span>{{ r.option }}</td>
        {% for c in r.cells %}<td class="num">{{ c }}</td>{% endfor %}
        <td class="num">{{ r.years }}</td><td class="num">{{ r.schools }}</td><td class="num">{{ r.dormant }}</td></tr>
    {% endfor %}
    </tbody>
  </table>
  {% else %}
  <p>No option's funding ends within the simulated years, so there is no period after funding to show.</p>
  {% endif %}
</section>

<section class="parameters" id="parameters">
  <h2>What differs between the options</h2>
  {% if parameters %}
  <table class="parameter-table">
    <thead><tr><th>Parameter</th><th>Meaning</th>{% for k in result.labels %}<th class="num">{{ k }}</th>{% endfor %}</tr></thead>
    <tbody>
    {% for p in parameters %}
      <tr><td><code>{{ p.parameter }}</code></td><td>{{ p.meaning }}{% if p.unit %} ({{ p.unit }}){% endif %}</td>
        {% for v in p["values"] %}<td class="num">{% if v.differs %}<strong>{{ v.text }}</strong>{% else %}{{ v.text }}{% endif %}</td>{% endfor %}</tr>
    {% endfor %}
    </tbody>
  </table>
  <p class="note">Values that differ from {{ result.baseline }} are in bold. Every other parameter is the same in all options (see the appendix).</p>
  {% else %}
  <p>The options do not differ in any parameter.</p>
  {% endif %}
</section>

<section class="appendix" id="appendix">
  <h2>Appendix: how these numbers were made</h2>
  <h3>Method</h3>
  <p>Each option is a scenario of the nlcsim agent-based model. All options were run with the same replicate seeds:
    replicate <em>r</em> of every option uses <code>numpy.random.SeedSequence({{ result.seed }}).spawn(n)[r]</code>
    (spawn key <em>r</em>: {{ spawn_keys }}). A difference from {{ result.baseline }} is computed replicate by replicate and
    its 95% CI is the paired Student t interval. <em>Better in</em> is the share of matched replicates in which the option did
    better (ties count half). {{ stopping }}</p>
  {% if result.stopping.history %}
  <table><thead><tr><th class="num">Replicates</th><th class="num">Widest primary 95% CI</th><th>Option</th><th>Outcome</th></tr></thead><tbody>
    {% for h in result.stopping.history %}<tr><td class="num">{{ h.replicates }}</td><td class="num">{{ '%.4g' % h.widest_ci }}</td><td>{{ h.option }}</td><td>{{ h.outcome }}</td></tr>{% endfor %}
  </tbody></table>
  {% endif %}
  <h3>To reproduce</h3>
  <pre>{{ command }}</pre>
  <p>Software: {% for k, v in software.items() %}{{ k }} {{ v }}{% if not loop.last %}, {% endif %}{% endfor %}.
    Created {{ result.created }}; running took {{ '%.0f' % result.seconds }} s.</p>
  <h3>Files beside this report</h3>
  <ul>
    <li><a href="{{ files }}/summary.csv">{{ files }}/summary.csv</a>: the outcome table for every outcome</li>
    <li><a href="{{ files }}/replicates.csv">{{ files }}/replicates.csv</a>: every outcome of every run, with its seed</li>
    <li><a href="{{ files }}/timeseries.csv">{{ files }}/timeseries.csv</a>: weekly means and 95% bands</li>
    <li><a href="{{ files }}/survival.csv">{{ files }}/survival.csv</a> and <a href="{{ files }}/parameters.csv">{{ files }}/parameters.csv</a></li>
    <li><a href="{{ files }}/comparison.json">{{ files }}/comparison.json</a>: seeds, version, stopping rule and the resolved scenarios</li>
  </ul>
  <h3>Resolved scenarios</h3>
  {% for k, text in tomls.items() %}
  <p><strong>{{ k }}</strong> (from <code>{{ result.sources[k] }}</code>, also in <a href="{{ scenario_files[k] }}">{{ scenario_files[k] }}</a>)</p>
  <pre class="toml">{{ text }}</pre>
  {% endfor %}
</section>
"""

MARKDOWN = """# {{ title }}

{{ result.reps }} matched simulation runs per option · seed {{ result.seed }} · nlcsim {{ result.version }} · {{ result.created[:10] }}

## The options

{{ options_table }}
{% if overrides %}

Settings applied to every option: {{ overrides | join("; ") }}.
{% endif %}
{% if length_note %}

**Note.** {{ length_note }}
{% endif %}

## In brief
{% for s in summary %}

### {{ s.option }}

{{ s.headline }}
{% if s.changes %}

{% for c in s.changes %}
- {{ c.verb | capitalize }} **{{ c.phrase }}** by {{ c.by }} (95% CI {{ c.ci }}): {{ c.level }} against {{ c.baseline_level }} ({{ c.verdict }}).
{% endfor %}
{% endif %}
{% if s.noise %}

No detectable difference in {{ s.noise | join(", ") }}: any difference there is within the noise of {{ result.reps }} runs.
{% endif %}

{{ s.schools }}

{% if s.parameters %}Differs from {{ result.baseline }} in: {{ s.parameters | join("; ") }}.{% else %}Its parameters are the same as {{ result.baseline }}'s.{% endif %}


{% endfor %}


How to read this: every option was run {{ result.reps }} times with the same random seeds (common random numbers), so each run of an option has a matched run of {{ result.baseline }}. Differences are averaged over matched pairs; the 95% CI is the paired t interval. Where it includes zero we say *no detectable difference*. Differences in shares are in percentage points. {{ stopping }}

## Effects at a glance

![{{ figures.effects.alt }}]({{ figures.effects.src }})

## Outcomes

*Better in*: the share of matched runs in which the option did better than {{ result.baseline }} (ties count half).

{{ outcome_table }}

## Over time

![{{ figures.timeseries.alt }}]({{ figures.timeseries.src }})

## Spread across runs

![{{ figures.distributions.alt }}]({{ figures.distributions.src }})

## After the funding ends
{% if any_survival %}

![{{ figures.survival.alt }}]({{ figures.survival.src }})

{{ survival_table }}
{% else %}

No option's funding ends within the simulated years.
{% endif %}

## What differs between the options

{{ parameter_table }}

## Appendix: how these numbers were made

Replicate *r* of every option uses `numpy.random.SeedSequence({{ result.seed }}).spawn(n)[r]`. A difference from {{ result.baseline }} is computed replicate by replicate and its 95% CI is the paired Student t interval. {{ stopping }}

To reproduce:

```
{{ command }}
```

Software: {% for k, v in software.items() %}{{ k }} {{ v }}{% if not loop.last %}, {% endif %}{% endfor %}. Created {{ result.created }}.

The numbers, seeds and resolved scenarios are in `{{ files }}/` (summary.csv, replicates.csv, timeseries.csv, survival.csv, parameters.csv, comparison.json, scenarios/).
"""


def _markdown_tables(c: dict[str, Any]) -> dict[str, str]:
    result = c["result"]
    options = markdown_table(["Option", "What it stands for", "Funded years", "Years simulated"],
                             [[s["option"] + (" (baseline)" if s["option"] == result.baseline != "baseline" else ""), s["story"],
                               s["funded"], s["years"]] for s in c["stories"]], "llrr")
    rows = []
    for g in c["outcome_groups"]:
        for r in g["rows"]:
            rows.append([f"{g['title']}, {g['when']} ({g['direction']})", r["option"], r["mean"], r["diff"], r["p_better"],
                         r["verdict"]])
    outcomes = markdown_table(["Outcome", "Option", "Mean (95% CI)", f"Difference from {result.baseline} (95% CI)",
                               "Better in", "Verdict"], rows, "llrrrl")
    survival = markdown_table(["Option", *[f"Network active {y} yr after" for y in c["horizon"]], "Years followed after funding",
                               "Schools active at end (95% CI)", "Runs gone dormant"],
                              [[r["option"], *r["cells"], r["years"], r["schools"], r["dormant"]]
                               for r in c["survival_rows"]], "l" + "r" * (len(c["horizon"]) + 3))
    if c["parameters"]:
        parameters = markdown_table(["Parameter", "Meaning", *result.labels],
                                    [[f"`{p['parameter']}`", p["meaning"],
                                      *[f"**{v['text']}**" if v["differs"] else v["text"] for v in p["values"]]]
                                     for p in c["parameters"]], "ll" + "r" * len(result.labels))
    else:
        parameters = "The options do not differ in any parameter."
    return {"options_table": options, "outcome_table": outcomes, "survival_table": survival,
            "parameter_table": parameters}


# -- writing -------------------------------------------------------------------------------
def _timeseries_bands(result: Comparison) -> pd.DataFrame:
    frames = []
    numeric = [c for c in COLUMNS if c not in ("week", "year")]
    for label in result.labels:
        ts = result.timeseries(label)
        for column in numeric:
            b = band(ts, column).reset_index()
            b.insert(0, "measure", column)
            b.insert(0, "option", label)
            frames.append(b)
    return pd.concat(frames, ignore_index=True)


def _metadata(result: Comparison, command: str) -> dict[str, Any]:
    return {
        "package": "nlcsim", "version": result.version, "model_source": result.model_source, "created": result.created,
        "seconds": round(result.seconds, 2), "command": command,
        "seed": result.seed, "replicates": result.reps,
        "replicate_seeds": "replicate r of every option uses SeedSequence(seed).spawn(n)[r]",
        "seeds": [r.seed for r in result.runs[result.baseline]],
        "baseline": result.baseline, "options": result.labels, "sources": result.sources,
        "overrides": result.overrides, "outcomes": result.outcomes, "primary": result.primary,
        "stopping": result.stopping,
        "probability_better": "share of matched replicates in which the option did better than the baseline; ties count half",
        "difference_ci": "paired Student t 95% interval over matched replicates",
        "scenarios": {k: result.options[k].to_dict() for k in result.labels},
    }


def write_report(result: Comparison, out: str | Path, format: str | None = None) -> Path:
    """Write the report and ``<name>_files/`` beside it; returns the report's path."""
    out, fmt = report_path(out, format)
    out.parent.mkdir(parents=True, exist_ok=True)
    files = out.parent / f"{out.stem}_files"
    (files / "scenarios").mkdir(parents=True, exist_ok=True)

    colours = option_colours(result.labels, result.baseline)
    survival = result.survival()
    summary = result.table(list(dict.fromkeys([*result.outcomes, *OUTCOMES])))
    summary.insert(2, "reported", summary["outcome"].isin(result.outcomes))
    summary.to_csv(files / "summary.csv", index=False)
    result.values().to_csv(files / "replicates.csv", index=False)
    _timeseries_bands(result).to_csv(files / "timeseries.csv", index=False)
    survival.to_csv(files / "survival.csv", index=False)
    result.parameter_differences().to_csv(files / "parameters.csv", index=False)
    command = command_line(result)  # reloads every option's scenario: once for the page and the metadata
    (files / "comparison.json").write_text(json.dumps(_metadata(result, command), indent=2, default=str), encoding="utf-8")
    for label, name in scenario_files(result.labels).items():
        (files / "scenarios" / name).write_text(_scenario_toml(result, label), encoding="utf-8")

    figures = {
        "effects": (effects_figure(result, colours), "Differences from the baseline with 95% CIs, one panel per outcome"),
        "timeseries": (timeseries_figure(result, colours), "Weekly means with 95% bands for each option"),
        "distributions": (distributions_figure(result, colours), "Outcomes of every run for each option"),
    }
    if not survival.empty:
        figures["survival"] = (survival_figure(result, colours, survival),
                               "Share of networks and schools still active after funding ends")
    c = content(result, colours, survival, files.name, command)
    images = {}
    for name, (fig, alt) in figures.items():
        png = figure_png(fig)
        if fmt == "md":
            (files / f"{name}.png").write_bytes(png)
            images[name] = {"src": f"{files.name}/{name}.png", "alt": alt}
        else:
            images[name] = {"src": data_uri(png), "alt": alt}
    if fmt == "md":
        text = render(MARKDOWN, figures=images, **c, **_markdown_tables(c))
        out.write_text(re.sub(r"\n{3,}", "\n\n", text).strip() + "\n", encoding="utf-8")
    else:
        summary_csv = data_uri(summary[summary["reported"]].to_csv(index=False).encode("utf-8"), "text/csv")
        body = render(BODY, figures=images, summary_csv=summary_csv, **c)
        out.write_text(page(c["title"], body, result.version), encoding="utf-8")
    return out
