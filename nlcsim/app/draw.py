"""Pictures of a running network for a projector: the network view, the live plots, slides.

Everything draws on plain :class:`matplotlib.figure.Figure` objects (no
pyplot state), so the app can draw from its worker threads and scripts can
call the same functions:

>>> from nlcsim import NLCModel, Scenario
>>> from nlcsim.app.draw import png_bytes
>>> model = NLCModel(Scenario.load("baseline"), seed=1)
>>> model.step()
>>> png_bytes(model)[:4] == b"\\x89PNG"
True

The network view shows each school as a cluster of its teachers (fixed
places, :mod:`nlcsim.app.layout`), teachers coloured by enacted practice,
head teachers, brokers and teacher leaders as distinct markers, and each tie
coloured by the type of its last collaboration in Little's taxonomy
(storytelling, aid, sharing, joint work; seed 000), fading as it goes unused.
"""

from __future__ import annotations

import contextlib
import io
import weakref
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize, to_rgba_array
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, Patch
from PIL import Image

from ..measures import COLUMNS
from ..state import DORMANT
from .layout import NetworkLayout

COLUMN = {name: i for i, name in enumerate(COLUMNS)}

# Little's four types, shallow to deep (seed 000): colour, line width, legend text.
TIE_STYLE = (
    ("#9e9e9e", 1.0, "storytelling"),
    ("#e69f00", 1.4, "aid and assistance"),
    ("#0072b2", 1.8, "sharing"),
    ("#c0143c", 2.8, "joint work"),
)
UNUSED_TIE = ("#d9d9d9", 0.6, "tie not used yet")
FADE_WEEKS = 26  # a tie unused for half a school year is drawn faint
PRACTICE_CMAP = colormaps["YlGn"]
PRACTICE_NORM = Normalize(0.0, 1.0)
MIX_LABELS = ("storytelling", "aid", "sharing", "joint work")
MIX_COLUMNS = ("storytelling_share", "aid_share", "sharing_share", "joint_work_share")
FONT = 13

_layouts: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def layout_of(model) -> NetworkLayout:
    """The model's fixed layout, computed on first use and kept with the model."""
    layout = _layouts.get(model)
    if layout is None:
        layout = _layouts[model] = NetworkLayout(model.state, getattr(model, "schools_at_start", None))
    return layout


def _lock(model):
    return getattr(model, "lock", None) or contextlib.nullcontext()


def snapshot(model) -> SimpleNamespace:
    """Copies of what the pictures need, taken in one go (the app steps in another thread)."""
    with _lock(model):
        st = model.state
        rows, xy = layout_of(model).positions(st)
        xy = xy.copy()
        where = np.full(st.alive.size, -1, dtype=np.int64)
        where[rows] = np.arange(rows.size)
        nbr = st.nbr[rows]
        r, slot = np.nonzero(nbr >= 0)
        a, b = rows[r], nbr[r, slot]
        once = (a < b) & (where[np.maximum(b, 0)] >= 0)
        a, b, slot = a[once], b[once], slot[once]
        return SimpleNamespace(
            week=int(model.week),
            weeks=int(model.scenario.weeks),
            weeks_per_year=int(model.scenario.schedule.weeks_per_year),
            # where the money ends: as planned, or where the trainer cut it (model.funding_end)
            funding_end=min(planned_funding_end(model.scenario), int(model.funding_end)),
            name=model.scenario.name,
            rows=rows,
            xy=xy,
            practice=st.practice[rows].copy(),
            member=st.member[rows].copy(),
            head=st.is_head[rows].copy(),
            broker=st.is_broker[rows].copy(),
            leader=st.is_leader[rows].copy(),
            tie_from=xy[where[a]],
            tie_to=xy[where[b]],
            tie_type=st.last_type[a, slot].astype(np.int64),
            tie_age=(model.week - st.last_used[a, slot]).astype(np.int64),
            school_xy=layout_of(model).school_xy.copy(),
            school_alive=st.school_alive.copy(),
            school_status=st.school_status.copy(),
            cluster_radius=layout_of(model).cluster_radius,
            first_schools=layout_of(model).first_schools,
            table=model.table.copy(),
            events=[dict(e) for e in model.event_log],
        )


# -- the network view ----------------------------------------------------------
def _tie_colours(snap) -> tuple[np.ndarray, np.ndarray]:
    """Colour by last collaboration type, fading with weeks unused; thinner lines when there are many."""
    kind = snap.tie_type
    base = np.array([UNUSED_TIE[0], *(s[0] for s in TIE_STYLE)])[kind + 1]
    rgba = to_rgba_array(base)
    fade = np.clip(1.0 - (snap.tie_age - 2) / FADE_WEEKS, 0.18, 1.0)
    rgba[:, 3] = np.where(kind >= 0, fade, 0.5)
    # Long ties between schools would bury the clusters on a big network: lighter as the network grows.
    length = np.hypot(*(snap.tie_to - snap.tie_from).T)
    used = max(int((kind >= 0).sum()), 1)
    crowd = float(np.clip(np.sqrt(250.0 / used), 0.45, 1.0))
    rgba[:, 3] *= np.where(length > 2.5 * snap.cluster_radius, 0.35 + 0.65 * crowd, 1.0)
    widths = np.array([UNUSED_TIE[1], *(s[1] for s in TIE_STYLE)])[kind + 1] * (0.4 + 0.6 * crowd)
    return rgba, widths


def _marker_area(ax, snap, live_schools: int) -> float:
    """Marker area (points squared) that fills about half the space between teachers in a cluster."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    fig = ax.figure
    points_per_unit = min(ax.bbox.width / (x1 - x0), ax.bbox.height / (y1 - y0)) * 72.0 / fig.dpi
    per_school = max(snap.rows.size / max(live_schools, 1), 1.0)
    spacing = snap.cluster_radius * np.sqrt(np.pi / per_school) * points_per_unit
    return float(np.clip(0.6 * spacing, 4.0, 16.0) ** 2)


def draw_network(ax, snap) -> None:
    """Schools as clusters, teachers by practice and role, ties by collaboration type."""
    draw_schools(ax, snap)
    draw_people(ax, snap)


def school_key(snap) -> tuple:
    """What :func:`draw_schools` draws from: the schools in the programme and which are dormant."""
    live = np.flatnonzero(snap.school_alive)
    return (tuple(live), tuple(snap.school_status[live] == DORMANT), snap.cluster_radius, snap.first_schools,
            tuple(map(tuple, snap.school_xy[live])))


def draw_schools(ax, snap, inner_labels: bool = True) -> list:
    """The axes' frame and each school's circle and name (what changes only when a school
    joins, leaves or falls dormant); returns the artists.  ``inner_labels=False`` leaves out
    the names of the schools that joined (inside the ring, where ties cross them: the app
    draws those over the ties each frame, :func:`draw_inner_labels`)."""
    ax.set_aspect("equal")
    ax.set_axis_off()
    rc = snap.cluster_radius
    pad = rc * 1.12 + 0.2
    ax.set_xlim(-1 - pad, 1 + pad)
    ax.set_ylim(-1 - pad, 1 + pad)
    ax.apply_aspect()  # now, not at draw time: the app draws single artists onto a kept background
    artists = []
    for s in np.flatnonzero(snap.school_alive):
        cx, cy = snap.school_xy[s]
        dormant = snap.school_status[s] == DORMANT
        # add_artist, not add_patch: the limits are set above, and add_patch's update of the data limits
        # took a quarter of a frame.
        artists.append(ax.add_artist(Circle((cx, cy), rc * 1.12, facecolor="white" if dormant else "#f0f0f0",
                                            edgecolor="#8c8c8c" if dormant else "#dcdcdc",
                                            linestyle=(0, (4, 3)) if dormant else "-", linewidth=1.6, zorder=0)))
        if inner_labels or s < snap.first_schools:
            artists.append(_school_label(ax, snap, s))
    return artists


def draw_inner_labels(ax, snap) -> None:
    """The names of the schools that joined, inside the ring (see :func:`draw_schools`)."""
    for s in np.flatnonzero(snap.school_alive):
        if s >= snap.first_schools:
            _school_label(ax, snap, s)


def _school_label(ax, snap, s: int):
    """School ``s``'s name beside its circle, outward on the ring and below it inside."""
    cx, cy = snap.school_xy[s]
    dormant = snap.school_status[s] == DORMANT
    norm = np.hypot(cx, cy)
    ux, uy = (cx / norm, cy / norm) if norm > 1e-9 else (0.0, -1.0)
    if s >= snap.first_schools:  # inner ring: label below
        ux, uy = 0.0, -1.0
    d = snap.cluster_radius * 1.12 + 0.035
    ha = "left" if ux > 0.35 else "right" if ux < -0.35 else "center"
    va = "bottom" if uy > 0.35 else "top" if uy < -0.35 else "center"
    return ax.text(cx + ux * d, cy + uy * d, f"S{s + 1}", ha=ha, va=va, fontsize=FONT,
                   color="#8c8c8c" if dormant else "#1a1a1a", weight="bold", style="italic" if dormant else "normal",
                   zorder=6)


def draw_people(ax, snap) -> None:
    """Ties and teachers, on axes :func:`draw_schools` has framed."""
    live = np.flatnonzero(snap.school_alive)
    # Ties, shallow under deep so joint work stays on top.
    order = np.argsort(snap.tie_type, kind="stable")
    colours, widths = _tie_colours(snap)
    segments = np.stack([snap.tie_from, snap.tie_to], axis=1)[order]
    ax.add_collection(LineCollection(segments, colors=colours[order], linewidths=widths[order], zorder=1,
                                     capstyle="round"))
    # Teachers: plain teachers first, then leaders on top.
    area = _marker_area(ax, snap, live.size)
    role = np.where(snap.head, 3, np.where(snap.broker, 2, np.where(snap.leader, 1, 0)))
    faces = PRACTICE_CMAP(PRACTICE_NORM(snap.practice))
    for code, marker, scale in ((0, "o", 1.0), (1, "^", 1.9), (2, "D", 1.5), (3, "s", 2.3)):
        for members in (False, True):
            pick = (role == code) & (snap.member == members)
            if not pick.any():
                continue
            ax.scatter(snap.xy[pick, 0], snap.xy[pick, 1], s=area * scale * (1.0 if members else 0.6),
                       c=faces[pick], marker=marker, edgecolors="#1a1a1a" if members else "#9a9a9a",
                       linewidths=1.5 if code else 0.7, alpha=1.0 if members else 0.6, zorder=3 + code)


def network_legend(fig, loc="lower center", ncol=4, fontsize=FONT - 1, bbox=None) -> None:
    """Tie types, roles and school states, for the network view."""
    def person(marker, size, label, edge="#1a1a1a", alpha=1.0):
        return Line2D([], [], marker=marker, linestyle="", markersize=size, markerfacecolor=PRACTICE_CMAP(0.45),
                      markeredgecolor=edge, markeredgewidth=1.5, alpha=alpha, label=label)

    handles = [Line2D([], [], color=c, linewidth=w + 1.5, label=t) for c, w, t in TIE_STYLE]
    handles += [person("s", 11, "head teacher"), person("D", 9, "broker"), person("^", 10, "teacher leader"),
                person("o", 7, "not taking part", "#9a9a9a", 0.6)]
    handles += [Line2D([], [], marker="o", linestyle="", markersize=15, markerfacecolor="#f0f0f0",
                       markeredgecolor="#dcdcdc", label="active school"),
                Line2D([], [], marker="o", linestyle="", markersize=15, markerfacecolor="white",
                       markeredgecolor="#8c8c8c", label="dormant school")]
    fig.legend(handles=handles, loc=loc, ncol=ncol, fontsize=fontsize, frameon=False, bbox_to_anchor=bbox,
               handlelength=1.6, columnspacing=1.0, borderaxespad=0.3, handletextpad=0.5)


def practice_colourbar(fig, rect, fontsize=FONT - 1, vertical: bool = False) -> None:
    """The key to teachers' colours: enacted practice in the network's focus, 0 to 1."""
    cax = fig.add_axes(rect)
    ramp = np.linspace(0, 1, 256)
    if vertical:
        cax.imshow(ramp[:, None], aspect="auto", cmap=PRACTICE_CMAP, norm=PRACTICE_NORM, origin="lower",
                   extent=(0, 1, 0, 1))
        cax.set_xticks([])
        cax.yaxis.tick_right()
        cax.set_yticks([0, 0.5, 1], ["0", "0.5", "1"], fontsize=fontsize - 1)
        cax.set_title("teacher's\nclassroom\npractice", fontsize=fontsize - 1, pad=6, loc="left")
        return
    cax.imshow(ramp[None, :], aspect="auto", cmap=PRACTICE_CMAP, norm=PRACTICE_NORM, extent=(0, 1, 0, 1))
    cax.set_yticks([])
    cax.set_xticks([0, 0.5, 1], ["0", "0.5", "1"], fontsize=fontsize - 1)
    cax.set_title("teacher's classroom practice", fontsize=fontsize, pad=4)


def week_title(snap) -> str:
    year = min(snap.week // snap.weeks_per_year + 1, max(snap.weeks // snap.weeks_per_year, 1))
    return f"Week {snap.week} (year {year}) · {_funding_status(snap)}"


def compare_title(snap_a, snap_b) -> str:
    """:func:`week_title` of A, with B's funding beside A's where the two differ."""
    title, b = week_title(snap_a), _funding_status(snap_b)
    a = _funding_status(snap_a)
    return title if a == b else title.replace(f" · {a}", f" · A {a}, B {b}")


def _funding_weeks(snap) -> tuple[np.ndarray, int | None]:
    """Weekly funding so far and the week it ended (None while it lasts or if there was none);
    a cut made this week, before the week has run, counts as the end."""
    funding = snap.table[:, COLUMN["funding"]] if snap.table.size else np.zeros(0)
    paid = np.flatnonzero(funding > 0)
    cut_now = 0 < snap.funding_end <= snap.week or (snap.funding_end == 0 and _was_cut(snap))
    if paid.size == 0:
        return funding, (snap.funding_end if cut_now else None)
    stop = np.flatnonzero(funding[paid[0]:] <= 0)
    if stop.size:
        return funding, int(paid[0] + stop[0])
    return funding, (snap.funding_end if cut_now else None)


def _was_cut(snap) -> bool:
    """Whether a funding cut (by the trainer or the scenario) has taken effect."""
    return any(e["kind"] == "funding_cut" and "skipped" not in e and e.get("network") is None for e in snap.events)


def planned_funding_end(sc) -> int:
    """The week the programme's money is planned to stop: the end of ``funding.years``, or an
    earlier programme-wide funding_cut (or funding_change to 0) in the scenario; 0 when
    ``funding.level`` is 0 from the start."""
    if sc.funding.level <= 0:
        return 0
    to_zero = [e["week"] for e in sc.events
               if e.get("network") is None and e["kind"] == "funding_change" and e["level"] <= 0]
    return int(min([sc.money_end_week, *to_zero]))


def _funding_status(snap) -> str:
    funding, ended = _funding_weeks(snap)
    if ended is not None:
        return f"funding ended week {ended}"
    if (funding.size and funding[-1] > 0) or (funding.size == 0 and snap.funding_end > 0):
        return f"funded to week {snap.funding_end}" if snap.funding_end < snap.weeks else "funded"
    return "no funding"


# -- the live plots ----------------------------------------------------------------
def _smooth(values: np.ndarray, weeks: int = 6) -> np.ndarray:
    if values.size < 2:
        return values
    kernel = np.ones(min(weeks, values.size))
    return np.convolve(values, kernel, mode="full")[: values.size] / np.convolve(np.ones(values.size), kernel, mode="full")[: values.size]


def _mark_funding(ax, snap, label: bool) -> None:
    """Shade the funded weeks; a line where funding ended, or a dashed one where it is planned to."""
    funding, _ = _funding_weeks(snap)
    paid = funding > 0
    if paid.any():
        weeks = np.arange(funding.size)
        ax.fill_between(weeks, 0, 1, where=paid, step="post", color="#fff3c4", alpha=0.8,
                        transform=ax.get_xaxis_transform(), zorder=0, linewidth=0)
    end = _funding_end_mark(snap)
    if end is None:
        return
    week, ended = end
    text, style, width = ("funding ends", "-", 2.4) if ended else ("funding due to end", "--", 1.8)
    ax.axvline(week, color="#b35806", linewidth=width, linestyle=style, zorder=4)
    if label:  # on the side of the line with room for the words
        right = week < 0.55 * snap.weeks
        ax.text(week, 0.97, f" {text} " if right else f"{text} ", transform=ax.get_xaxis_transform(),
                color="#b35806", fontsize=FONT - 2, va="top", ha="left" if right else "right",
                weight="bold" if ended else "normal", zorder=5)


def _funding_end_mark(snap) -> tuple[int, bool] | None:
    """Where the plots mark the end of funding: (week, whether it has ended), or None
    (the money lasts the run, or there was none)."""
    funding, ended = _funding_weeks(snap)
    if ended is not None:
        return ended, True
    if 0 < snap.funding_end < snap.weeks and ((funding > 0).any() or funding.size == 0):
        return snap.funding_end, False
    return None


def _mark_other_end(ax, snap, main, label: bool) -> None:
    """B's end of funding (side by side), dash-dotted, where it differs from A's."""
    end, main_end = _funding_end_mark(snap), _funding_end_mark(main)
    if end is None or (main_end is not None and end[0] == main_end[0]):
        return
    week, ended = end
    ax.axvline(week, color="#b35806", linewidth=1.8, linestyle="-.", zorder=4)
    if label:
        ax.text(week, 0.85, " B's funding ends" if ended else " B's funding due to end",
                transform=ax.get_xaxis_transform(), color="#b35806", fontsize=FONT - 2, va="top", ha="left", zorder=5)


_EVENT_MARK = {"head_leaves": "head leaves", "broker_leaves": "broker leaves", "school_joins": "school joins",
               "school_leaves": "school leaves"}


def _mark_events(ax, snap, label: bool) -> None:
    """A dotted line for each week with events a trainer (or the scenario) set off, named on
    the first plot: one label per week, so that events of the same week do not overlap."""
    for week, text in event_labels(snap.events).items():
        ax.axvline(week, color="#444444", linewidth=1.2, linestyle=":", zorder=4)
        if label:
            ax.text(week, 0.03, text + " ", transform=ax.get_xaxis_transform(),
                    rotation=90, fontsize=FONT - 4, color="#444444", ha="right", va="bottom", zorder=4)


def event_labels(events: list[dict]) -> dict[int, str]:
    """Each week's marked events as one label, in the order they happened: "head leaves,
    2 x school joins"; events that did not happen are left out."""
    by_week: dict[int, dict[str, int]] = {}
    for event in events:
        if event["kind"] in _EVENT_MARK and "skipped" not in event:
            names = by_week.setdefault(event["week"], {})
            name = _EVENT_MARK[event["kind"]]
            names[name] = names.get(name, 0) + 1
    return {week: ", ".join(name if n == 1 else f"{n} x {name}" for name, n in names.items())
            for week, names in by_week.items()}


def _year_axis(ax, snap, show_label: bool) -> None:
    wpy = snap.weeks_per_year
    ax.set_xlim(0, max(snap.weeks, snap.week + 1))
    ticks = np.arange(0, snap.weeks + 1, wpy)
    ax.set_xticks(ticks, [str(i) for i in range(ticks.size)], fontsize=FONT - 2)
    if show_label:
        ax.set_xlabel("school year", fontsize=FONT - 1)
    ax.tick_params(axis="y", labelsize=FONT - 2)
    ax.grid(axis="y", color="#e6e6e6", linewidth=0.8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def practice_top(snaps) -> float:
    """Top of the practice axis: grows with the run in steps of 0.05, so it does not jitter."""
    peak = max([0.0] + [float(s.table[:, COLUMN["practice_change"]].max()) for s in snaps if s.table.size])
    return float(max(0.1, np.ceil(peak * 1.2 / 0.05) * 0.05))


def style_series(axes, snap, compare: bool = False, practice_top: float = 0.1) -> None:
    """Titles, limits and the year axis of the four plots (what stays put from week to week)."""
    ax_practice, ax_mix, ax_trust, ax_active = np.asarray(axes).ravel()
    ax_practice.set_title("Practice change (mean gain)", fontsize=FONT + 1, loc="left")
    if compare:
        ax_mix.set_title("Joint-work share", fontsize=FONT + 1, loc="left")
    else:
        ax_mix.set_title("Collaboration mix", fontsize=FONT + 1, loc="left")
    ax_trust.set_title("Mean trust", fontsize=FONT + 1, loc="left")
    ax_active.set_title("Share of schools active", fontsize=FONT + 1, loc="left")
    for ax, top in ((ax_practice, practice_top), (ax_mix, 1.0), (ax_trust, 1.0), (ax_active, 1.05)):
        ax.set_ylim(0, top)
        _year_axis(ax, snap, show_label=ax.get_subplotspec().is_last_row())


def plot_series(axes, snaps, styles=("-", "--")) -> None:
    """The data of the four plots; several runs are overlaid (side by side)."""
    snaps = list(snaps)
    ax_practice, ax_mix, ax_trust, ax_active = np.asarray(axes).ravel()
    main = snaps[0]
    for ax in (ax_practice, ax_mix, ax_trust, ax_active):
        _mark_funding(ax, main, label=ax is ax_practice)
        _mark_events(ax, main, label=ax is ax_practice)
        for other in snaps[1:]:  # another run's end of funding, where it is not A's (the shading is A's)
            _mark_other_end(ax, other, main, label=ax is ax_practice)
    for i, snap in enumerate(snaps):
        t = snap.table
        weeks = np.arange(t.shape[0]) + 1
        style = styles[i % len(styles)]
        ax_practice.plot(weeks, t[:, COLUMN["practice_change"]], style, color="#238b45", linewidth=2.6)
        ax_trust.plot(weeks, t[:, COLUMN["mean_trust"]], style, color="#6a3d9a", linewidth=2.6)
        ax_active.plot(weeks, t[:, COLUMN["active_schools_share"]], style, color="#08519c", linewidth=2.6)
        if len(snaps) == 1 and t.shape[0]:
            shares = np.vstack([_smooth(t[:, COLUMN[c]]) for c in MIX_COLUMNS])
            ax_mix.stackplot(weeks, shares, colors=[s[0] for s in TIE_STYLE], alpha=0.9)
        elif t.shape[0]:
            ax_mix.plot(weeks, _smooth(t[:, COLUMN["joint_work_share"]]), style, color=TIE_STYLE[3][0],
                        linewidth=2.6)


def series_key(fig, bbox, ncol: int = 4, mix: bool = True, fontsize: int = FONT - 2) -> None:
    """The key under the plots: the collaboration types of the mix, funded weeks, funding's end, events."""
    handles = [Patch(color=s[0], label=MIX_LABELS[i]) for i, s in reversed(list(enumerate(TIE_STYLE)))] if mix else []
    handles += [Patch(color="#fff3c4", label="funded weeks"),
                Line2D([], [], color="#b35806", linewidth=2.4, label="funding ends"),
                Line2D([], [], color="#b35806", linewidth=1.8, linestyle="--", label="funding due to end"),
                Line2D([], [], color="#444444", linewidth=1.2, linestyle=":", label="event")]
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=bbox, ncol=ncol, fontsize=fontsize,
               frameon=False, handlelength=1.5, columnspacing=1.0, handletextpad=0.5)


def draw_series(axes, snaps) -> None:
    """The four live plots on a 2 x 2 (or 1 x 4) array of fresh axes."""
    snaps = list(snaps)
    style_series(axes, snaps[0], compare=len(snaps) > 1, practice_top=practice_top(snaps))
    plot_series(axes, snaps)


# -- pictures kept between frames -----------------------------------------------------
class _Picture:
    """A figure whose fixed parts (axes, ticks, titles, legends) are drawn once and kept as an image.

    Each frame restores that image and draws only the artists that change
    (blitting), so the app spends its time on the network, not on re-typesetting
    tick labels.  ``figure(...)`` gives the whole figure instead, for saving.
    """

    def __init__(self, fig: Figure):
        self.fig = fig
        self.canvas = FigureCanvasAgg(fig)
        self._background = None
        self._fixed_for = None

    def _fixed(self, *snaps, **kw) -> tuple:
        """Draw what stays put; return a key that changes when it must be redrawn."""
        raise NotImplementedError

    def _changing(self, *snaps, **kw) -> None:
        """Add this frame's artists to the figure."""
        raise NotImplementedError

    def _prepare(self, snaps, kw) -> None:
        key = self._fixed(*snaps, **kw)
        if key != self._fixed_for:
            self._fixed_for = key
            self._background = None

    def figure(self, *snaps, **kw) -> Figure:
        """The whole figure for these snapshots (its changing artists stay on it until the next frame)."""
        self._prepare(snaps, kw)
        self._remove(self._added())
        self._changing(*snaps, **kw)
        return self.fig

    def png(self, *snaps, **kw) -> bytes:
        """This frame as PNG bytes, drawing only what changed on a copy of the fixed parts."""
        self._prepare(snaps, kw)
        self._remove(self._added())
        if self._background is None:
            self.canvas.draw()
            self._background = self.canvas.copy_from_bbox(self.fig.bbox)
        self.canvas.restore_region(self._background)
        self._changing(*snaps, **kw)
        renderer = self.canvas.get_renderer()
        for artist in sorted(self._added(), key=lambda a: a.get_zorder()):
            artist.draw(renderer)
        buf = io.BytesIO()
        image = Image.frombuffer("RGBA", self.canvas.get_width_height(), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        image.convert("RGB").save(buf, format="png", compress_level=1)
        return buf.getvalue()

    def _added(self) -> list:
        out = [t for t in self.fig.texts if getattr(t, "_nlc_changing", False)]
        for ax in self.fig.axes:
            out += [a for a in (*ax.lines, *ax.collections, *ax.patches, *ax.texts)
                    if not getattr(a, "_nlc_fixed", False)]
            legend = ax.get_legend()
            if legend is not None and getattr(legend, "_nlc_changing", False):
                out.append(legend)
        return out

    @staticmethod
    def _remove(artists) -> None:
        for artist in artists:
            artist.remove()

    def _title(self, x: float, y: float, text: str, **kw):
        t = self.fig.text(x, y, text, **kw)
        t._nlc_changing = True
        return t

    @staticmethod
    def _schools(ax, snap, drawn: list) -> list:
        """The schools on ``ax`` drawn anew as fixed parts (``drawn``: the ones drawn before)."""
        for artist in drawn:
            artist.remove()
        artists = draw_schools(ax, snap, inner_labels=False)
        for artist in artists:
            artist._nlc_fixed = True
        return artists


class NetworkPicture(_Picture):
    """The app's network view: legend and colour key drawn once, the network every frame."""

    def __init__(self, width: float = 6.8, height: float = 7.4, dpi: int = 100):
        super().__init__(Figure(figsize=(width, height), dpi=dpi))
        self.ax = self.fig.add_axes((0.0, 0.21, 1.0, 0.72))
        self.ax.set_axis_off()
        network_legend(self.fig, loc="lower left", ncol=3, fontsize=FONT - 1, bbox=(0.0, 0.06))
        practice_colourbar(self.fig, (0.3, 0.045, 0.4, 0.022))
        self._school_artists: list = []

    def _fixed(self, snap) -> tuple:
        key = school_key(snap)
        if key != self._fixed_for:
            self._school_artists = self._schools(self.ax, snap, self._school_artists)
        return key

    def _changing(self, snap) -> None:
        draw_people(self.ax, snap)
        draw_inner_labels(self.ax, snap)
        self._title(0.02, 0.965, week_title(snap), fontsize=FONT + 3, va="center", weight="bold")


class SeriesPicture(_Picture):
    """The app's four live plots: axes, titles and ticks drawn once, the data every frame."""

    def __init__(self, width: float = 6.8, height: float = 6.6, dpi: int = 100):
        super().__init__(Figure(figsize=(width, height), dpi=dpi))
        grid = self.fig.add_gridspec(2, 2, left=0.09, right=0.985, top=0.94, bottom=0.22, wspace=0.28, hspace=0.42)
        self.axes = np.array([[self.fig.add_subplot(grid[r, c]) for c in range(2)] for r in range(2)])
        series_key(self.fig, bbox=(0.5, 0.0), ncol=4)

    def _fixed(self, snap) -> tuple:
        key = (snap.weeks, snap.weeks_per_year, practice_top([snap]))
        if key != self._fixed_for:
            style_series(self.axes, snap, practice_top=key[-1])
        return key

    def _changing(self, snap) -> None:
        plot_series(self.axes, [snap])


class ComparePicture(_Picture):
    """Two runs with the same seed, one feature apart: both networks above, the plots overlaid below."""

    def __init__(self, width: float = 16.0, height: float = 10.0, dpi: int = 100):
        super().__init__(Figure(figsize=(width, height), dpi=dpi))
        self.net_axes = [self.fig.add_axes((0.02 + 0.5 * col, 0.4, 0.46, 0.5)) for col in range(2)]
        for ax in self.net_axes:
            ax.set_axis_off()
        grid = self.fig.add_gridspec(1, 4, left=0.04, right=0.985, top=0.27, bottom=0.1, wspace=0.28)
        self.axes = np.array([self.fig.add_subplot(grid[0, c]) for c in range(4)])
        network_legend(self.fig, loc="lower center", ncol=5, fontsize=FONT - 2, bbox=(0.5, 0.32))
        series_key(self.fig, bbox=(0.5, 0.0), ncol=4, mix=False)
        self._school_artists: list = [[], []]

    def _fixed(self, snap_a, snap_b, label_a: str, label_b: str) -> tuple:
        key = (snap_a.weeks, snap_a.weeks_per_year, practice_top([snap_a, snap_b]), label_a, label_b,
               school_key(snap_a), school_key(snap_b))
        if key != self._fixed_for:
            style_series(self.axes, snap_a, compare=True, practice_top=key[2])
            for ax, label, which, style in ((self.net_axes[0], label_a, "A", "solid"),
                                            (self.net_axes[1], label_b, "B", "dashed")):
                ax.set_title(f"{which}: {label}  ({style} lines below)", fontsize=FONT + 3, loc="center",
                             weight="bold")
            self._school_artists = [self._schools(ax, snap, drawn) for ax, snap, drawn
                                    in zip(self.net_axes, (snap_a, snap_b), self._school_artists)]
        return key

    def _changing(self, snap_a, snap_b, label_a: str, label_b: str) -> None:
        for ax, snap in zip(self.net_axes, (snap_a, snap_b)):
            draw_people(ax, snap)
            draw_inner_labels(ax, snap)
        plot_series(self.axes, [snap_a, snap_b])
        self._title(0.01, 0.975, f"Same seed, one feature changed · {compare_title(snap_a, snap_b)}",
                    fontsize=FONT + 3, weight="bold", va="center")


# -- slides --------------------------------------------------------------------------
def slide_figure(model, width: float = 16.0, height: float = 9.0, dpi: int = 100, subtitle: str = "") -> Figure:
    """One 16:9 slide: the network on the left, the four plots on the right."""
    snap = snapshot(model)
    fig = Figure(figsize=(width, height), dpi=dpi)
    ax = fig.add_axes((0.0, 0.15, 0.46, 0.74))
    draw_network(ax, snap)
    grid = fig.add_gridspec(2, 2, left=0.53, right=0.985, top=0.86, bottom=0.19, wspace=0.22, hspace=0.38)
    draw_series(np.array([[fig.add_subplot(grid[r, c]) for c in range(2)] for r in range(2)]), [snap])
    fig.text(0.012, 0.955, f"{snap.name} · {week_title(snap)}", fontsize=FONT + 6, weight="bold", va="center")
    if subtitle:
        fig.text(0.012, 0.915, subtitle, fontsize=FONT - 1, va="center", color="#444444")
    network_legend(fig, loc="lower left", ncol=4, fontsize=FONT - 1, bbox=(0.0, 0.0))
    series_key(fig, bbox=(0.76, 0.0), ncol=4)
    practice_colourbar(fig, (0.33, 0.85, 0.12, 0.018))
    return fig


def png_bytes(model, dpi: int = 100, **kwargs) -> bytes:
    """A slide of the model's current state as PNG bytes."""
    buf = io.BytesIO()
    slide_figure(model, dpi=dpi, **kwargs).savefig(buf, format="png", facecolor="white")
    return buf.getvalue()


def save_png(model, path: str | Path, dpi: int = 150, **kwargs) -> Path:
    """Write a slide of the model's current state (network and plots) to a PNG file.

    >>> from nlcsim import NLCModel, Scenario
    >>> import tempfile, pathlib
    >>> model = NLCModel(Scenario.load("baseline"), seed=1)
    >>> path = save_png(model, pathlib.Path(tempfile.mkdtemp()) / "week0.png", dpi=40)
    >>> path.read_bytes()[:4] == b"\\x89PNG"
    True
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png_bytes(model, dpi=dpi, **kwargs))
    return path
