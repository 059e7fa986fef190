"""Mesa agents: thin views over the model's state arrays.

A :class:`Teacher` owns one row of the arrays in :class:`nlcsim.state.State`;
reading ``teacher.practice`` reads that row and assigning it writes the row.
Behaviour lives in :mod:`nlcsim.mechanisms`, which act on all rows at once.

>>> from nlcsim import NLCModel, Scenario, Teacher
>>> model = NLCModel(Scenario.load("baseline"), seed=1)
>>> t = model.teachers[0]
>>> 0.0 <= t.practice <= 1.0
True
"""

from __future__ import annotations

import mesa
import numpy as np

from .state import ACTIVE, COLLABORATION_TYPES, DORMANT, FUNCTIONS, LEFT

_STATUS = {ACTIVE: "active", DORMANT: "dormant", LEFT: "left"}


def _row_field(name: str, doc: str, cast=float):
    def get(self):
        return cast(getattr(self.model.state, name)[self.row])

    def set_(self, value):
        getattr(self.model.state, name)[self.row] = value

    return property(get, set_, doc=doc)


class Teacher(mesa.Agent):
    """A teacher in one school: knowledge, practice, engagement, time and ties."""

    practice = _row_field("practice", "enacted practice in the network's focus (0-1)")
    engagement = _row_field("engagement", "engagement with the network's work (0-1)")
    time = _row_field("time", "time available for collaboration this week (0-1)")
    prior = _row_field("prior", "practice on joining (0-1)")
    quality = _row_field("quality", "mean true effect of what the teacher enacts (effect size)")
    member = _row_field("member", "takes part in the network's work", bool)
    pioneer = _row_field("pioneer", "one of the founders of the network's work", bool)

    def __init__(self, model, row: int):
        super().__init__(model)
        self.row = int(row)

    @property
    def school(self) -> "School":
        return self.model.schools[int(self.model.state.school[self.row])]

    @property
    def knowledge(self) -> dict[int, int]:
        """Item column -> depth (1 shallow, 2 deep, 3 profound)."""
        row = self.model.state.know[self.row]
        return {int(k): int(row[k]) for k in np.flatnonzero(row)}

    @property
    def ties(self) -> list[tuple["Teacher", float]]:
        """(colleague, trust) for every tie."""
        st = self.model.state
        nb = st.nbr[self.row]
        slots = np.flatnonzero(nb >= 0)
        return [(self.model.agent_of_row(int(nb[s])), float(st.trust[self.row, s])) for s in slots]

    @property
    def last_collaboration(self) -> list[str | None]:
        st = self.model.state
        slots = np.flatnonzero(st.nbr[self.row] >= 0)
        return [COLLABORATION_TYPES[t] if t >= 0 else None for t in st.last_type[self.row, slots]]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(row={self.row}, school={int(self.model.state.school[self.row])})"


class Leader(Teacher):
    """A teacher with a leadership role: head teacher, co-leader, teacher leader or broker."""

    @property
    def roles(self) -> list[str]:
        st = self.model.state
        out = []
        if st.is_head[self.row]:
            out.append("head")
        if (st.coleaders == self.row).any():
            out.append("co_leader")
        if st.is_leader[self.row]:
            out.append("teacher_leader")
        if st.is_broker[self.row]:
            out.append("broker")
        return out

    @property
    def functions(self) -> list[str]:
        st = self.model.state
        s = int(st.school[self.row])
        return [FUNCTIONS[f] for f in np.flatnonzero(st.holder[s] == self.row)]


class School(mesa.Agent):
    """A school: its staff, trust culture, funding share and membership state."""

    def __init__(self, model, index: int):
        super().__init__(model)
        self.index = int(index)

    @property
    def staff(self) -> list[Teacher]:
        st = self.model.state
        return [self.model.agent_of_row(int(r)) for r in np.flatnonzero(st.alive & (st.school == self.index))]

    @property
    def state(self) -> str:
        return _STATUS[int(self.model.state.school_status[self.index])]

    @property
    def network(self) -> "Network":
        return self.model.networks[int(self.model.state.school_network[self.index])]

    @property
    def head(self) -> Teacher | None:
        r = int(self.model.state.school_head[self.index])
        return self.model.agent_of_row(r) if r >= 0 and self.model.state.alive[r] else None

    @property
    def trust_culture(self) -> float:
        return float(self.model.state.school_trust[self.index])

    @property
    def engagement(self) -> float:
        return float(self.model.state.school_engagement[self.index])

    @property
    def pupil_outcome(self) -> float:
        return float(self.model.state.pupil[self.index])


class Network(mesa.Agent):
    """A network: its schools, focus, funding stream and links to other networks."""

    def __init__(self, model, index: int):
        super().__init__(model)
        self.index = int(index)

    @property
    def schools(self) -> list[School]:
        st = self.model.state
        return [self.model.schools[int(s)] for s in np.flatnonzero(st.school_alive & (st.school_network == self.index))]

    @property
    def funding(self) -> float:
        return float(self.model.state.net_funding[self.index])

    @property
    def focus(self) -> dict[str, float]:
        p = self.model.scenario.purpose
        return {"clarity": p.clarity, "challenge": p.challenge, "evidence": p.evidence}
