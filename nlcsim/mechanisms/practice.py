"""Practice change: classroom practice moves toward what a teacher knows deeply.

A teacher's target practice rises with the focus-relevant knowledge they hold
deeply or profoundly (shallow knowledge counts for nothing, seed 004):

    strength = sum over items of w(depth) x relevance,  w = (0, 0, 1, 1.6)
    target   = 1 - (1 - base) x exp(-0.35 x strength)

Practice moves toward the target at a rate that grows with capacity building
and support and with time (seed 000 "Building capacity and support"; Frank
et al. 2011: time to experiment).  The quality of enacted practice is the
relevance- and depth-weighted mean true effect of what is held deeply: it is
what pupils feel.

Influence (Friedkin-Johnsen; Frank's network-effects model): practice is also
pulled toward the practice of trusted colleagues with whom a teacher has
recently shared or done joint work.  Storytelling and aid ties carry no
influence, so a shallow interaction never changes practice.
"""

from __future__ import annotations

import numpy as np

DEPTH_WEIGHT = np.array([0.0, 0.0, 1.0, 1.6])
TIE_INFLUENCE = np.array([0.0, 0.0, 0.5, 1.0])  # by the tie's last type of collaboration
RECENT = 13  # weeks: a term
BLOCK = 256  # rows per pass in refresh_targets


def refresh_targets(model, rows: np.ndarray) -> None:
    """Recompute target practice and enacted quality for rows whose knowledge changed."""
    st = model.state
    if rows.size == 0:
        return
    relevance = st.item_table(st.item_relevance, st.pub_relevance)
    effect = st.item_table(st.item_effect, st.pub_effect)
    for start in range(0, rows.size, BLOCK):  # in blocks, so the row x item temporaries stay in cache
        part = rows[start:start + BLOCK]
        net = st.network.take(part)
        wr = DEPTH_WEIGHT.take(st.know.take(part, axis=0)) * relevance.take(net, axis=0)
        strength = wr.sum(axis=1)
        st.target[part] = 1.0 - (1.0 - st.base[part]) * np.exp(-0.35 * strength)
        st.quality[part] = np.where(strength > 0, (wr * effect.take(net, axis=0)).sum(axis=1) / np.maximum(strength, 1e-12), 0.0)


def enact(model) -> None:
    """Move practice toward its target (slowly downward if knowledge was lost)."""
    st, sc = model.state, model.scenario
    rate = 0.03 * (0.5 + sc.capacity.support) * (0.4 + 0.6 * st.time)
    gap = st.target - st.practice
    step = np.where(gap > 0, rate * gap, 0.2 * rate * gap)
    np.minimum(np.maximum(st.practice + np.where(st.alive, step, 0.0), 0.0), 1.0, out=st.practice)  # clipped to 0-1


def influence(model) -> None:
    """Friedkin-Johnsen pull toward trusted colleagues' practice over recent deep ties.

    Works on the tie ends used in the last ``RECENT`` weeks only (a few of
    the slots); a removed tie's slot has no type, so it never counts.
    """
    st = model.state
    # Flat cells (row x degree + slot), selected by position and read with take:
    # the same cells in the same order as boolean masks, at less cost.
    cells = (st.last_used.reshape(-1) >= model.week - RECENT).nonzero()[0]
    kind = st.last_type.reshape(-1).take(cells)
    deep = (kind >= 2).nonzero()[0]
    cells, kind = cells.take(deep), kind.take(deep)
    if cells.size == 0:
        return
    row = cells // st.degree
    w = st.trust.reshape(-1).take(cells) * TIE_INFLUENCE.take(kind)
    total = np.bincount(row, w, minlength=st.rows)
    pull = np.bincount(row, w * st.practice.take(st.nbr.reshape(-1).take(cells)), minlength=st.rows)
    mean = pull / np.maximum(total, 1e-12)
    alpha = model.influence_weight * st.engagement * (total > 0) * st.alive
    np.minimum(np.maximum(st.practice + alpha * (mean - st.practice), 0.0), 1.0, out=st.practice)  # clipped to 0-1
