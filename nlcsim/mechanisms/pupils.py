"""Pupil outcomes follow enacted practice with a lag (seed 000: practice -> pupil learning).

A school's enacted effect is the mean over its teachers of
practice x quality (quality: the true effect of what they enact deeply).
Pupil outcome (effect-size units) is the school's enacted effect
``pupils.lag_weeks`` ago minus its enacted effect at the start.
"""

from __future__ import annotations

import numpy as np


def enacted_effect(model) -> np.ndarray:
    st = model.state
    alive = st.alive
    n_s = st.school_alive.size
    staff = np.bincount(st.school[alive], minlength=n_s)
    total = np.bincount(st.school[alive], weights=(st.practice * st.quality)[alive], minlength=n_s)
    return total / np.maximum(staff, 1)


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
