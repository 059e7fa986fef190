"""Pupil outcomes follow enacted practice with a lag (seed 000: practice -> pupil learning).

A school's enacted effect is the mean over its teachers of
practice x quality (quality: the true effect of what they enact deeply).
Pupil outcome (effect-size units) is the school's enacted effect
``pupils.lag_weeks`` ago minus its enacted effect at the start.
"""

from __future__ import annotations

import numpy as np

from ..jit import njit


def enacted_effect(model) -> np.ndarray:
    st = model.state
    return _enacted(st.alive, st.school, st.practice, st.quality, st.school_alive.size)


@njit
def _enacted(alive, school, practice, quality, n_schools):
    """Each school's mean over its living teachers of practice x quality, summed in row order (0 with no staff)."""
    staff = np.zeros(n_schools, dtype=np.int64)
    total = np.zeros(n_schools)
    for r in range(alive.size):
        if alive[r]:
            staff[school[r]] += 1
            total[school[r]] += practice[r] * quality[r]
    out = np.empty(n_schools)
    for s in range(n_schools):
        out[s] = total[s] / max(staff[s], 1)
    return out


def update_pupils(model) -> None:
    st = model.state
    hist = st.pupil_history
    lag = hist.shape[0] - 1
    now = enacted_effect(model)
    hist[model.week % (lag + 1)] = now
    if model.week >= lag:
        st.pupil[:] = hist[(model.week - lag) % (lag + 1)] - model.pupil_start
    else:
        st.pupil[:] = 0.0
