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

from ..jit import njit
from ..state import DEEP, JOINT_WORK, PROFOUND, SHALLOW

DEEP_CHANCE = np.array([0.0, 0.05, 0.12, 0.45])  # storytelling, aid, sharing, joint work


def belief(perceived: np.ndarray) -> np.ndarray:
    """How far an item's perceived effect makes it worth learning deeply: 0 to 2, 1 at no effect."""
    return 2.0 / (1.0 + np.exp(-3.0 * perceived))


@njit
def depth(kind, dissonance, source_level, believed, enquiry, u_deep, u_prof, support):
    """Depth (0-3) a recipient reaches from one exchange about one item.

    Never deeper than the source holds the item, except that joint work with
    enquiry can take deep knowledge to profound.  ``believed``: the item's
    :func:`belief`; ``u_deep``, ``u_prof``: the exchange's two uniform draws;
    ``support``: ``capacity.support``.  (With the learning mechanism off the
    recipient simply copies the source's depth, pure contagion: the caller
    takes ``source_level``.)
    """
    drive = 0.3 + 0.7 * min(1.0, dissonance / 0.4)
    p_deep = DEEP_CHANCE[kind] * drive * (0.5 + support) * believed
    # Deep needs a source holding the item deeply, so only shallow is capped by the source's depth.
    if u_deep < p_deep and source_level >= DEEP:
        return PROFOUND if kind == JOINT_WORK and u_prof < 0.25 * enquiry else DEEP
    return min(SHALLOW, source_level)
