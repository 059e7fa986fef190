"""Little's four types of collaboration and the dissonance each interaction carries.

Each interaction takes one of storytelling-and-scanning, aid-and-assistance,
sharing or joint work (seed 000, "Collaboration", after Little 1990).  The
deeper types need trust, norms that expect them, time and competence
(joint work "rests on ... confidence in the others' competence"):

    s = -1.5 + 2.0 trust + 3.0 depth_norm + 0.6 support + 0.5 min(time) + 0.5 mean(expertise) + N(0, 0.6)
    type = storytelling if s < 0.9, aid if s < 1.5, sharing if s < 2.1, else joint work

Dissonance grows with the focus's challenge, with how open the type is to
examining practice (aid can dissuade analysis) and with the partners'
difference in practice.  Dissonance beyond what the tie's trust can absorb is
an unresolved conflict (seed 000: "moderate conflict and dissonance is
essential for new learning ... robust and trusting relationships ... allow
them to work together even when they have different orientations").
"""

from __future__ import annotations

import numpy as np

from ..jit import njit

from .partners import Interactions

THRESHOLDS = np.array([0.9, 1.5, 2.1])
OPENNESS = np.array([0.15, 0.25, 0.5, 1.0])  # how far each type examines practice


def classify(model, inter: Interactions) -> None:
    """Give each interaction its type, dissonance and conflict flag (in place)."""
    st, sc, rng = model.state, model.scenario, model.rng
    i, j = inter.i, inter.j
    noise = rng.normal(0.0, 0.6, i.size)
    spread = rng.uniform(0.5, 1.5, i.size)
    if not sc.mechanisms.collaboration:
        inter.kind = np.full(i.size, int(round(3 * sc.collaboration.depth)), dtype=np.int8)
        inter.dissonance = np.full(i.size, 0.5 * sc.purpose.challenge)
        inter.conflict = np.zeros(i.size, dtype=bool)
        return
    inter.kind, inter.dissonance, inter.conflict = _classify(
        i, j, inter.slot_i, st.trust, st.practice, st.time, noise, spread,
        3.0 * sc.collaboration.depth, 0.6 * sc.capacity.support, sc.purpose.challenge * OPENNESS)


@njit
def _classify(i, j, slot_i, trust, practice, time, noise, spread, depth, support, openness):
    """:func:`classify` interaction by interaction: the score's terms added in the
    order the formula gives them, the type from the thresholds, then dissonance
    (``openness``: challenge x OPENNESS) and conflict: dissonance beyond what the tie
    can absorb, 0.15 + 0.6 trust."""
    n = i.size
    kind = np.empty(n, dtype=np.int8)
    dissonance = np.empty(n)
    conflict = np.empty(n, dtype=np.bool_)
    for e in range(n):
        t = trust[i[e], slot_i[e]]
        p_i, p_j = practice[i[e]], practice[j[e]]
        s = (-1.5 + 2.0 * t + depth + support + 0.5 * min(time[i[e]], time[j[e]])
             + 0.5 * (p_i + p_j) / 2 + noise[e])
        k = 0  # the thresholds at or below the score (they rise), counted without a branch
        for q in range(THRESHOLDS.size):
            k += THRESHOLDS[q] <= s
        kind[e] = k
        dissonance[e] = openness[k] * (0.6 + abs(p_i - p_j)) * spread[e]
        conflict[e] = dissonance[e] > 0.15 + 0.6 * t
    return kind, dissonance, conflict
