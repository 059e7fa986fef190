"""PNG plots of a sweep's analysis: indices with CI bars, grid heatmaps, discovered boxes."""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

BLUE, RED, GREY = "#1f5f8b", "#b03a2e", "#7f8c8d"


def _save(fig, path: Path, note: str = "") -> Path:
    """Save and close ``fig``, with ``note`` in small grey type under it, wrapped to the figure's width."""
    width, height = fig.get_size_inches()
    lines = textwrap.wrap(note, max(40, int(17 * width)))  # about 17 characters of 7-point type an inch
    if lines:
        fig.text(0.01, 0.01, "\n".join(lines), fontsize=7, color=GREY, va="bottom")
    fig.tight_layout(rect=(0, (0.05 + 0.12 * len(lines)) / height if lines else 0, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def sobol_plot(table: pd.DataFrame, outcome: str, note: str, path: Path) -> Path:
    """First-order (S1) and total (ST) indices per factor with 95% CI bars; S2 as a matrix if present."""
    first = table[table["index"] == "S1"].set_index("factor")
    total = table[table["index"] == "ST"].set_index("factor")
    second = table[table["index"] == "S2"]
    factors = list(total.index)
    has_s2 = not second.empty
    fig, axes = plt.subplots(1, 2 if has_s2 else 1, figsize=(13 if has_s2 else 8, 0.45 * len(factors) + 2),
                             squeeze=False)
    ax = axes[0, 0]
    y = np.arange(len(factors))
    ax.barh(y - 0.2, first.loc[factors, "value"], 0.4, xerr=first.loc[factors, "conf"], color=BLUE,
            label="S1 (first order)", capsize=3)
    ax.barh(y + 0.2, total.loc[factors, "value"], 0.4, xerr=total.loc[factors, "conf"], color=RED,
            label="ST (total)", capsize=3)
    ax.set_yticks(y, factors)
    ax.invert_yaxis()
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("Sobol index (bars: 95% bootstrap CI)")
    ax.legend(loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(f"{outcome}: Sobol indices")
    if has_s2:
        ax2 = axes[0, 1]
        matrix = pd.DataFrame(np.nan, index=factors, columns=factors)
        for _, row in second.iterrows():
            matrix.loc[row["factor"], row["factor2"]] = row["value"]
        im = ax2.imshow(matrix.to_numpy(dtype=float), cmap="viridis")
        ax2.set_xticks(range(len(factors)), factors, rotation=60, ha="right", fontsize=8)
        ax2.set_yticks(range(len(factors)), factors, fontsize=8)
        ax2.set_title("S2 (second order; CIs in the CSV)")
        fig.colorbar(im, ax=ax2, shrink=0.8)
    return _save(fig, path, note)


def morris_plot(table: pd.DataFrame, outcome: str, note: str, path: Path) -> Path:
    """mu* per factor with 95% CI bars, and the mu*-sigma plane (Morris 1991; Campolongo et al. 2007)."""
    t = table.sort_values("mu_star", ascending=False)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13, 0.3 * len(t) + 2.5))
    y = np.arange(len(t))
    ax.barh(y, t["mu_star"], xerr=t["mu_star_conf"], color=BLUE, capsize=2)
    ax.set_yticks(y, t["factor"], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("mu* (mean absolute elementary effect; bars: 95% bootstrap CI)")
    ax.set_title(f"{outcome}: Morris screening")
    ax.grid(axis="x", alpha=0.3)
    ax2.scatter(t["mu_star"], t["sigma"], color=RED)
    for _, row in t.head(10).iterrows():
        ax2.annotate(row["factor"], (row["mu_star"], row["sigma"]), fontsize=7, xytext=(3, 3),
                     textcoords="offset points")
    ax2.set_xlabel("mu*")
    ax2.set_ylabel("sigma (non-linearity or interactions)")
    ax2.grid(alpha=0.3)
    return _save(fig, path, note)


def heatmap(cells: pd.DataFrame, row_key: str, col_key: str, outcome: str, note: str, path: Path) -> Path:
    """Mean outcome in each cell of a two-factor grid, annotated with the mean and its 95% CI half-width."""
    mean = cells.pivot(index=row_key, columns=col_key, values="mean").sort_index(ascending=False)
    # reindex, not .loc: the levels of an on/off switch are True/False, which .loc reads as a mask
    half = cells.pivot(index=row_key, columns=col_key, values="half_width").reindex(index=mean.index, columns=mean.columns)
    fig, ax = plt.subplots(figsize=(1.1 * len(mean.columns) + 3, 0.8 * len(mean.index) + 2))
    im = ax.imshow(mean.to_numpy(dtype=float), cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(mean.columns)), [f"{c:g}" if isinstance(c, float) else str(c) for c in mean.columns])
    ax.set_yticks(range(len(mean.index)), [f"{r:g}" if isinstance(r, float) else str(r) for r in mean.index])
    ax.set_xlabel(col_key)
    ax.set_ylabel(row_key)
    values = mean.to_numpy(dtype=float)
    mid = np.nanmean(values)
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            v, h = values[i, j], half.to_numpy(dtype=float)[i, j]
            if np.isfinite(v):
                ax.text(j, i, f"{v:.3g}\n±{h:.2g}" if np.isfinite(h) else f"{v:.3g}", ha="center", va="center",
                        fontsize=8, color="white" if v < mid else "black")
    fig.colorbar(im, ax=ax, label=outcome)
    ax.set_title(f"{outcome}: mean over replicates (±: 95% CI half-width)")
    return _save(fig, path, note)


def line(cells: pd.DataFrame, key: str, outcome: str, note: str, path: Path) -> Path:
    """Mean outcome against a single grid factor with 95% CI bars."""
    c = cells.sort_values(key)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.errorbar(c[key], c["mean"], yerr=c["half_width"], marker="o", color=BLUE, capsize=3)
    ax.set_xlabel(key)
    ax.set_ylabel(outcome)
    ax.grid(alpha=0.3)
    ax.set_title(f"{outcome}: mean over replicates with 95% CI")
    return _save(fig, path, note)


def discovery_plot(x: pd.DataFrame, passed: np.ndarray, limits: pd.DataFrame, trajectory: pd.DataFrame,
                   chosen: int, title: str, path: Path) -> Path:
    """The PRIM box: its limits within each factor's range, the coverage-density trade-off,
    and the runs in the two most restricted factors with the box drawn over them."""
    dims = list(limits.index)
    fig, axes = plt.subplots(1, 3, figsize=(17, max(4.5, 0.5 * len(dims) + 2.5)))
    ax = axes[0]
    for i, d in enumerate(dims):
        lo, hi = x[d].min(), x[d].max()
        span = (hi - lo) or 1.0
        a, b = (limits.loc[d, "min"] - lo) / span, (limits.loc[d, "max"] - lo) / span
        ax.plot([0, 1], [i, i], color=GREY, linewidth=6, alpha=0.3, solid_capstyle="butt")
        ax.plot([a, b], [i, i], color=BLUE, linewidth=6, solid_capstyle="butt")
        ax.text(a, i - 0.25, f"{limits.loc[d, 'min']:.3g}", ha="center", fontsize=8)
        ax.text(b, i - 0.25, f"{limits.loc[d, 'max']:.3g}", ha="center", fontsize=8)
        ax.text(1.02, i, f"qp={limits.loc[d, 'qp']:.1e}", va="center", fontsize=7, color=GREY)
    ax.set_yticks(range(len(dims)), dims)
    ax.set_ylim(len(dims) - 0.5, -0.7)
    ax.set_xlim(-0.05, 1.25)
    ax.set_xlabel("share of the sampled range (grey) kept by the box (blue)")
    ax.set_title("discovered box")
    ax = axes[1]
    sc = ax.scatter(trajectory["coverage"], trajectory["density"], c=trajectory["res dim"], cmap="viridis", s=18)
    ax.scatter([trajectory["coverage"].iloc[chosen]], [trajectory["density"].iloc[chosen]], s=120,
               facecolors="none", edgecolors=RED, linewidths=2, label="chosen box")
    fig.colorbar(sc, ax=ax, label="restricted factors")
    ax.set_xlabel("coverage (share of passing runs inside the box)")
    ax.set_ylabel("density (share of runs in the box that pass)")
    ax.legend(loc="lower left")
    ax.grid(alpha=0.3)
    ax.set_title("peeling trajectory")
    ax = axes[2]
    show = dims[:2] if len(dims) >= 2 else (dims + [c for c in x.columns if c not in dims])[:2]
    if len(show) == 2:
        jitter = np.random.default_rng(0).normal(0, 0.004, size=(len(x), 2))
        xs = [x[show[k]].to_numpy(dtype=float) + jitter[:, k] * ((x[show[k]].max() - x[show[k]].min()) or 1) for k in (0, 1)]
        ax.scatter(xs[0][~passed], xs[1][~passed], s=8, color=GREY, alpha=0.5, label="fails")
        ax.scatter(xs[0][passed], xs[1][passed], s=8, color=BLUE, alpha=0.7, label="passes")
        lo = [limits.loc[d, "min"] if d in limits.index else x[d].min() for d in show]
        hi = [limits.loc[d, "max"] if d in limits.index else x[d].max() for d in show]
        ax.add_patch(plt.Rectangle((lo[0], lo[1]), hi[0] - lo[0], hi[1] - lo[1], fill=False, edgecolor=RED,
                                   linewidth=2))
        ax.set_xlabel(show[0])
        ax.set_ylabel(show[1])
        ax.legend(loc="upper right", fontsize=8)
    ax.set_title("runs and the box (first two restricted factors)")
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)
