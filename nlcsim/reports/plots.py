"""Shared plotting: the main series with 95% bands over replicates."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

from ..measures import COLUMNS  # noqa: E402
from ..replicates import bounds  # noqa: E402

MAIN_SERIES = ("practice_change", "joint_work_share", "mean_trust", "engagement",
               "active_schools_share", "knowledge_reach", "pupil_outcome", "improved_teaching_share")


def band(ts: pd.DataFrame, column: str, level: float = 0.95) -> pd.DataFrame:
    """Mean and t-interval of a column by week over replicates, cut to the column's
    range (:func:`~nlcsim.replicates.bounds`), which no mean can pass."""
    g = ts.groupby("week")[column]
    m, sd, n = g.mean(), g.std(ddof=1).fillna(0.0), g.count()
    half = stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
    low, high = m - half, m + half
    floor, ceiling = bounds(COLUMNS.get(column, ("",))[0])
    low, high = low.clip(lower=floor), high.clip(upper=ceiling)
    return pd.DataFrame({"mean": m, "low": low, "high": high})


def plot_main_series(ts: pd.DataFrame, scenario, path: str | Path, columns=MAIN_SERIES) -> Path:
    fig, axes = plt.subplots(2, 4, figsize=(14, 6), sharex=True)
    wpy = scenario.schedule.weeks_per_year
    end = scenario.money_end_week
    for ax, col in zip(axes.ravel(), columns):
        b = band(ts, col)
        years = b.index.to_numpy() / wpy
        ax.plot(years, b["mean"], color="#1f5f8b")
        ax.fill_between(years, b["low"], b["high"], color="#1f5f8b", alpha=0.25, linewidth=0)
        if 0 < end < len(b):
            ax.axvline(end / wpy, color="#b03a2e", linestyle="--", linewidth=1)
        ax.set_title(col.replace("_", " "), fontsize=10)
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("year")
    n = ts["replicate"].nunique() if "replicate" in ts else 1
    fig.suptitle(f"{scenario.name}: mean and 95% band over {n} replicates (dashed: funding ends)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)
