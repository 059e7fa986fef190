"""A fixed drawing layout: schools on a circle, each school's teachers clustered round its centre.

Positions are computed once per school and per teacher slot, never by a
force-directed layout per frame, so the picture stays still while the run
changes colours, ties and markers.  A replacement teacher takes the slot (and
so the place) of the one who left; a school that joins gets a place on an
inner ring; staff beyond a school's starting size sit on the rim of its
cluster.

>>> from nlcsim import NLCModel, Scenario
>>> model = NLCModel(Scenario.load("baseline"), seed=1)
>>> layout = NetworkLayout(model.state)
>>> rows, xy = layout.positions(model.state)
>>> xy.shape == (rows.size, 2)
True
"""

from __future__ import annotations

import math

import numpy as np

GOLDEN_ANGLE = math.pi * (3 - math.sqrt(5))


class NetworkLayout:
    """Where each school and each teacher slot is drawn; grows as rows and schools are added."""

    def __init__(self, state, first_schools: int | None = None):
        """``first_schools``: how many schools the run started with (they share the outer circle)."""
        self.first_schools = max(int(first_schools or state.school_alive.sum()), 1)
        n = self.first_schools
        # Half the distance between neighbouring centres on the outer circle, a little less.
        self.cluster_radius = min(0.30, 0.88 * math.sin(math.pi / n)) if n > 1 else 0.45
        live = np.flatnonzero(state.alive)
        sizes = np.bincount(state.school[live], minlength=state.school_alive.size)
        sizes = sizes[sizes > 0]
        # A school of typical size fills its circle; larger ones reach a little past the rim.
        self.cluster_size = max(int(np.ceil(1.15 * sizes.mean())) if sizes.size else 4, 4)
        self.school_xy = np.zeros((0, 2))
        self.row_school = np.full(0, -1, dtype=np.int64)
        self.row_xy = np.zeros((0, 2))
        self.next_rank = np.zeros(0, dtype=np.int64)
        self._joined = 0
        # Schools that join later go on an inner ring, clear of the outer clusters.
        self.inner_ring = max(0.0, min(0.42, 1.0 - 2.6 * self.cluster_radius))
        self.positions(state)

    # -- schools ---------------------------------------------------------------
    def _place_schools(self, count: int) -> None:
        have = self.school_xy.shape[0]
        if count <= have:
            return
        new = np.zeros((count - have, 2))
        for i, s in enumerate(range(have, count)):
            if s < self.first_schools:  # clockwise from the top
                angle = math.pi / 2 - 2 * math.pi * s / self.first_schools
                radius = 1.0 if self.first_schools > 1 else 0.0
            else:  # a school that joined later: the inner ring
                angle = math.pi / 2 + GOLDEN_ANGLE * self._joined
                radius = self.inner_ring if self.first_schools > 1 else 1.0
                self._joined += 1
            new[i] = radius * math.cos(angle), radius * math.sin(angle)
        self.school_xy = np.vstack([self.school_xy, new])
        self.next_rank = np.concatenate([self.next_rank, np.zeros(count - have, dtype=np.int64)])

    # -- teachers ----------------------------------------------------------------
    def _offsets(self, rank: np.ndarray) -> np.ndarray:
        """A sunflower spiral: even spacing inside the cluster, later ranks on its rim."""
        r = self.cluster_radius * np.sqrt((rank + 0.5) / self.cluster_size)
        r = np.minimum(r, self.cluster_radius * 1.15)  # the largest schools: a ring on the rim
        theta = rank * GOLDEN_ANGLE
        return np.column_stack([r * np.cos(theta), r * np.sin(theta)])

    def positions(self, state) -> tuple[np.ndarray, np.ndarray]:
        """(rows, xy) for every teacher alive now; new rows and moved rows get a place."""
        rows_total = state.alive.size
        if self.row_school.size < rows_total:
            pad = rows_total - self.row_school.size
            self.row_school = np.concatenate([self.row_school, np.full(pad, -1, dtype=np.int64)])
            self.row_xy = np.vstack([self.row_xy, np.zeros((pad, 2))])
        self._place_schools(state.school_alive.size)
        rows = np.flatnonzero(state.alive)
        school = state.school[rows].astype(np.int64)
        moved = rows[self.row_school[rows] != school]
        if moved.size:
            s = state.school[moved].astype(np.int64)
            order = np.argsort(s, kind="stable")
            moved, s = moved[order], s[order]
            first = np.searchsorted(s, s, side="left")
            rank = self.next_rank[s] + (np.arange(s.size) - first)
            np.add.at(self.next_rank, s, 1)
            self.row_xy[moved] = self.school_xy[s] + self._offsets(rank)
            self.row_school[moved] = s
        return rows, self.row_xy[rows]
