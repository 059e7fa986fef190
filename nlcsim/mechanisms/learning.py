"""Depth of learning: shallow, deep or profound (seed 004, "Learning with each other").

Only deep and profound learning change practice and beliefs (seed 004: "for
fundamental change to both practices and to beliefs, learning that operates
between the frames of deep and profound is required").  The chance that an
exchange reaches deep learning rises with the type of collaboration (Little,
seed 000), with dissonance up to a point (seed 000: moderate dissonance is
essential; avoiding it undermines learning), with capacity building and
support, and with how valuable the knowledge is believed to be.  Joint work
with enquiry can reach profound learning.  A conflict teaches nothing.
"""

from __future__ import annotations

import numpy as np

from ..state import DEEP, JOINT_WORK, PROFOUND, SHALLOW

DEEP_CHANCE = np.array([0.0, 0.05, 0.12, 0.45])  # storytelling, aid, sharing, joint work


def depth_reached(model, kind, dissonance, conflict, source_level, perceived, enquiry) -> np.ndarray:
    """Depth (0-3) a recipient reaches from one exchange about one item.

    Never deeper than the source holds the item, except that joint work with
    enquiry can take deep knowledge to profound.  With the learning mechanism
    off, the recipient simply copies the source's depth (pure contagion).
    """
    sc, rng = model.scenario, model.rng
    n = kind.size
    u_deep, u_prof = rng.random(n), rng.random(n)
    if not sc.mechanisms.learning:
        return np.where(conflict, 0, source_level).astype(np.int8)
    drive = 0.3 + 0.7 * np.minimum(1.0, dissonance / 0.4)
    believe = 2.0 / (1.0 + np.exp(-3.0 * perceived))
    p_deep = DEEP_CHANCE[kind] * drive * (0.5 + sc.capacity.support) * believe
    deep = (u_deep < p_deep) & (source_level >= DEEP)
    profound = deep & (kind == JOINT_WORK) & (u_prof < 0.25 * enquiry)
    # Deep needs a source holding the item deeply, so only shallow is capped by the source's depth.
    level = np.where(profound, PROFOUND, np.where(deep, DEEP, np.minimum(SHALLOW, source_level)))
    return np.where(conflict, 0, level).astype(np.int8)
