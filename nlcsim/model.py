"""NLCModel: a Networked Learning Community, one step per school week.

>>> from nlcsim import NLCModel, Scenario
>>> model = NLCModel(Scenario.load("baseline"), seed=1)
>>> for _ in range(5):
...     model.step()
>>> model.week
5
"""

from __future__ import annotations

import mesa
import numpy as np
import pandas as pd

from . import measures
from .agents import Leader, Network, School, Teacher
from .errors import UserError
from .jit import njit
from .mechanisms import collaboration, engagement, events, funding, knowledge, leadership, partners, practice, pupils, trust, turnover
from .mechanisms.learning import belief
from .mechanisms.partners import Interactions
from .population import build
from .scenario import Scenario
from .state import ENQUIRY_LEAD, FUNCTIONS

INFLUENCE_WEIGHT = 0.05  # weekly pull toward trusted colleagues' practice (Friedkin-Johnsen)
FORGET_EVERY = 13  # weeks between clearing items nobody holds


def check_seed(seed) -> int:
    """A seed given as a number: a whole number >= 0, or a UserError that says so."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise UserError(f"seed {seed!r}: must be a whole number >= 0")
    return int(seed)


def seed_sequence(seed) -> np.random.SeedSequence:
    """An int, a SeedSequence or None (fresh entropy) -> SeedSequence."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    return np.random.SeedSequence(None if seed is None else check_seed(seed))


@njit
def _pick_in_group(members, counts, starts, groups, draws):
    """One of each group's members (``members`` in group order, each group's count and
    first position), by a uniform draw: position start + floor(draw x count); -1 where
    a group has none."""
    out = np.full(groups.size, -1, dtype=np.int64)
    if members.size == 0:
        return out
    for k in range(groups.size):
        g = groups[k]
        if counts[g] > 0:
            out[k] = members[min(starts[g] + np.int64(draws[k] * counts[g]), members.size - 1)]
    return out


@njit
def _member_pool(by_school, member, is_head, school, n_schools):
    """:meth:`NLCModel.member_pool` in one pass over the staff in school order: each row
    is written at the next place and kept where it is a member and not the head."""
    pool = np.empty(by_school.size, dtype=np.int64)
    counts = np.zeros(n_schools, dtype=np.int64)
    n = 0
    for k in range(by_school.size):
        r = by_school[k]
        keep = member[r] and not is_head[r]
        pool[n] = r
        n += keep
        counts[school[r]] += keep
    starts = np.empty(n_schools, dtype=np.int64)
    first = 0
    for s in range(n_schools):
        starts[s] = first
        first += counts[s]
    return pool[:n], counts, starts


class NLCModel(mesa.Model):
    """The model.  ``step()`` runs one school week; the phases are listed in order."""

    def __init__(self, scenario: Scenario | str = "baseline", seed=None, observe=None):
        """``observe``: the weeks whose whole row of the weekly table is measured
        (None: every week).  In other weeks only ``measures.ALWAYS`` is, and
        the rest of the row is NaN; nothing the model does depends on it."""
        self.observe = None if observe is None else frozenset(int(w) for w in observe)
        self.seed_sequence = seed_sequence(seed)
        super().__init__(rng=np.random.default_rng(self.seed_sequence))
        self.scenario = scenario if isinstance(scenario, Scenario) else Scenario.load(scenario)
        sc = self.scenario
        self.week = 0
        self.state, info = build(sc, self.rng)
        st = self.state
        self.funding_end = sc.money_end_week  # a trainer's cut moves it earlier
        self.funding_override = np.full(st.net_alive.size, np.nan)
        self.influence_weight = INFLUENCE_WEIGHT
        self.created = 0
        self.schools_at_start = info["n_schools"]
        self.activity = np.empty(64)  # interactions per teacher, week by week (the first ``week`` values)
        self.funded_activity_sum = 0.0
        self.funded_weeks = 0
        self.event_log: list[dict] = []
        self._rows: list[list] = []
        self.week_value = np.zeros(st.rows)
        self.dirty = np.zeros(st.rows, dtype=bool)
        self.events_this_week = np.zeros(st.net_alive.size, dtype=bool)
        self.interactions = Interactions.empty()

        st.item_perceived[:] = np.where(st.item_field >= 0, self.perceive(st.item_effect), 0.0)
        st.pub_perceived[:] = self.perceive(st.pub_effect)
        knowledge.refresh_items(self)  # the local items' weight and belief, kept up to date as items are written
        self.public_weights = knowledge.public_weights(self)  # no phase changes the public items
        self.public_belief = belief(st.pub_perceived)

        self.networks = [Network(self, k) for k in range(st.net_alive.size)]
        self.schools = [School(self, k) for k in range(info["n_schools"])]
        self._agents_by_row = np.empty(st.rows, dtype=object)
        self._is_leader_obj = np.zeros(st.rows, dtype=bool)  # rows whose agent is a Leader
        self._replaced = np.zeros(st.rows, dtype=bool)  # rows whose agent is to be made anew (_make_agents)
        self.refresh_structure()
        rows = np.flatnonzero(st.alive)
        self._replaced[rows] = True
        self._make_agents()  # the Mesa agent objects, in row order
        funding.fund(self)
        leadership.effectiveness(self)
        self._update_enquiry()
        practice.refresh_targets(self, rows)
        st.practice[rows] = st.target[rows]
        st.prior[rows] = st.target[rows]
        engagement.school_states(self)
        self.pupil_start = pupils.enacted_effect(self)
        st.pupil_history[:] = self.pupil_start

    # -- the week -----------------------------------------------------------
    def step(self) -> None:
        """One school week, phase by phase (docs/ODD.md, "Process overview")."""
        m = self.scenario.mechanisms
        self.week_value[:] = 0.0
        if m.events:
            events.apply_scheduled(self)
        if m.funding:
            funding.fund(self)
        leadership.effectiveness(self)
        self._update_enquiry()
        self.events_this_week = funding.network_events(self) if m.funding else np.zeros(self.state.net_alive.size, bool)
        inter = partners.choose_partners(self) if m.partners else Interactions.empty()
        collaboration.classify(self, inter)
        if m.knowledge or m.enquiry:
            self.weights = knowledge.item_weights(self)  # enquiry reads the public part, which no phase changes
        if m.knowledge:
            knowledge.exchange(self, inter)
            knowledge.co_construct(self, inter)
        if m.enquiry:
            knowledge.enquire(self)
        self._refresh_dirty()
        if m.practice:
            practice.enact(self)
        if m.influence:
            practice.influence(self)
        if m.trust:
            trust.update_trust(self, inter)
        else:
            trust.record_use(self, inter)
        if m.engagement:
            engagement.update_engagement(self)
        else:
            engagement.school_states(self)
        if m.leadership:
            leadership.refill(self)
        if m.turnover:
            turnover.turnover(self)
            turnover.draw_in(self)
        if m.knowledge and self.week % FORGET_EVERY == FORGET_EVERY - 1:
            knowledge.forget(self)
        self._refresh_dirty()
        if m.pupils:
            pupils.update_pupils(self)
        self.interactions = inter
        self._rows.append(measures.record(self, inter, full=self.observe is None or self.week in self.observe))
        self.week += 1

    # -- results ----------------------------------------------------------------
    @property
    def table(self) -> np.ndarray:
        return np.array(self._rows, dtype=float).reshape(len(self._rows), len(measures.COLUMNS))

    @property
    def timeseries(self) -> pd.DataFrame:
        df = pd.DataFrame(self.table, columns=list(measures.COLUMNS))
        for c in ("week", "year", "teachers"):
            df[c] = df[c].astype(int)
        return df

    def outcomes(self) -> dict[str, float]:
        return measures.outcomes(self, self.table)

    def release(self) -> None:
        """Let a finished model be freed: drop the agent index (an object array the
        garbage collector cannot see into) and Mesa 3.3's per-model id counter,
        which otherwise keeps every model alive (mesa issue 3179)."""
        mesa.Agent._ids.pop(self, None)
        self._agents_by_row = np.empty(0, dtype=object)

    # -- agents as views ------------------------------------------------------------
    # The Mesa agents are brought up to date with the rows when they are read
    # (:meth:`_make_agents`), not as the rows change: a week's leavers and
    # promotions cost nothing where nobody looks at the agents (a sweep, a
    # headless run), and whoever reads them through ``agents``, ``agents_by_type``,
    # ``agent_types``, ``teachers`` or :meth:`agent_of_row` finds them as the rows
    # are now.
    @property
    def agents(self) -> mesa.agent.AgentSet:
        self._make_agents()
        return super().agents

    @property
    def agents_by_type(self) -> dict:
        self._make_agents()
        return super().agents_by_type

    @property
    def agent_types(self) -> list[type]:
        self._make_agents()
        return super().agent_types

    @property
    def teachers(self) -> list[Teacher]:
        """Every teacher agent (leaders included), in row order."""
        self._make_agents()
        return list(self._agents_by_row[np.flatnonzero(self.state.alive)])

    def agent_of_row(self, row: int) -> Teacher:
        self._make_agents()
        return self._agents_by_row[row]

    def replace_agents(self, rows: np.ndarray) -> None:
        """Newcomers take ``rows``: their leavers' agents are to be removed and new agents
        made (when the agents are next read, :meth:`_make_agents`)."""
        self._grow_agent_index()
        self._replaced[rows] = True

    def remove_agents(self, rows: np.ndarray) -> None:
        self._make_agents()
        for r in rows:
            old = self._agents_by_row[r]
            if old is not None:
                old.remove()
            self._agents_by_row[r] = None

    def _make_agents(self) -> None:
        """The Mesa agents brought up to date with the rows: a replaced row's agent is
        removed and a new one made, in row order; a teacher who took up a leadership
        function or gave up the last one becomes a Leader or a Teacher again, with the
        same ``unique_id`` (a Leader: a living head, broker or teacher leader)."""
        if self._agents_by_row.size == 0:  # released
            return
        st = self.state
        lead = (st.is_head | st.is_broker | st.is_leader) & st.alive
        rows = np.flatnonzero(self._replaced | (lead != self._is_leader_obj))
        for r in rows:  # the week's leavers and promotions: a few dozen in England, none in most networks
            old = self._agents_by_row[r]
            kind = Leader if lead[r] else Teacher
            if self._replaced[r]:
                if old is not None:
                    old.remove()
                self._agents_by_row[r] = kind(self, r)
            elif old is not None:
                new = kind(self, r)
                old.remove()
                new.unique_id = old.unique_id
                self._agents_by_row[r] = new
        self._is_leader_obj[rows] = lead[rows]
        self._replaced[rows] = False

    def _grow_agent_index(self) -> None:
        n = self.state.rows
        if self._agents_by_row.size < n:
            extra = np.empty(n - self._agents_by_row.size, dtype=object)
            self._agents_by_row = np.concatenate([self._agents_by_row, extra])
        self.grow_row_arrays()

    # -- structure helpers used by mechanisms ------------------------------------------
    def refresh_structure(self) -> None:
        """Index of alive rows by school (for drawing random colleagues)."""
        st = self.state
        rows = np.flatnonzero(st.alive)
        order = np.argsort(st.school[rows], kind="stable")
        self._by_school = rows[order]
        n_s = st.school_alive.size
        counts = np.bincount(st.school[rows], minlength=n_s)
        self._school_start = np.concatenate([[0], np.cumsum(counts)[:-1]])
        self._school_count = counts
        nets = st.school_network
        live = np.flatnonzero(st.school_alive)
        self._schools_by_net = live[np.argsort(nets[live], kind="stable")]
        ncount = np.bincount(nets[live], minlength=st.net_alive.size)
        self._net_start = np.concatenate([[0], np.cumsum(ncount)[:-1]])
        self._net_count = ncount
        ever = np.flatnonzero(nets >= 0)  # every school that has been in the programme (indices are not reused)
        self.schools_ever = ever.size
        used = int(ever.max(initial=-1)) + 1
        while len(self.schools) < used:
            self.schools.append(School(self, len(self.schools)))

    def member_pool(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The members of the network's work who are not the head, school by school (rows in
        school order, each school's count, each school's first position): those who take up
        a vacant leadership function (:meth:`random_member_of`)."""
        st = self.state
        return _member_pool(self._by_school, st.member, st.is_head, st.school, self._school_count.size)

    def random_member_of(self, schools: np.ndarray, pool: tuple | None = None) -> np.ndarray:
        """A random colleague in each given school, -1 where the school has none.

        ``pool``: drawn among these rows (:meth:`member_pool`, built once by a
        caller that draws from it more than once); by default among all the
        school's staff (a newcomer's colleagues).
        """
        by_school, counts, starts = pool if pool is not None else (self._by_school, self._school_count, self._school_start)
        return _pick_in_group(by_school, counts, starts, schools, self.rng.random(schools.size))

    def random_school_of(self, networks: np.ndarray) -> np.ndarray:
        """A random school still in each given network (-1 where none is left): the same
        draw as :meth:`random_member_of`, over the schools by network."""
        return _pick_in_group(self._schools_by_net, self._net_count, self._net_start, networks,
                              self.rng.random(networks.size))

    def perceive(self, true_effect: np.ndarray) -> np.ndarray:
        return knowledge.perceive(self, true_effect)

    def _update_enquiry(self) -> None:
        lead = self.function_effect[:, ENQUIRY_LEAD]
        self.enquiry_of_school = self.scenario.enquiry.level * (0.5 + 0.5 * lead)

    def _refresh_dirty(self) -> None:
        rows = (self.dirty & self.state.alive).nonzero()[0]
        practice.refresh_targets(self, rows)
        self.dirty[:] = False

    def grow_row_arrays(self) -> None:
        n = self.state.rows
        if self.week_value.size < n:
            self.week_value = np.concatenate([self.week_value, np.zeros(n - self.week_value.size)])
            self.dirty = np.concatenate([self.dirty, np.zeros(n - self.dirty.size, bool)])
            self._is_leader_obj = np.concatenate([self._is_leader_obj, np.zeros(n - self._is_leader_obj.size, bool)])
            self._replaced = np.concatenate([self._replaced, np.zeros(n - self._replaced.size, bool)])
        if self._agents_by_row.size < n:
            self._agents_by_row = np.concatenate([self._agents_by_row, np.empty(n - self._agents_by_row.size, dtype=object)])

    def grow_school_arrays(self) -> None:
        n = self.state.school_alive.size
        pad = n - self.function_effect.shape[0]
        if pad > 0:
            self.function_effect = np.vstack([self.function_effect, np.zeros((pad, len(FUNCTIONS)))])
            self.ownership = np.concatenate([self.ownership, np.zeros(pad)])
            self.pupil_start = np.concatenate([self.pupil_start, np.zeros(pad)])
            self.enquiry_of_school = np.concatenate([self.enquiry_of_school, np.zeros(pad)])

    # -- actions for trainers and events ---------------------------------------------
    def cut_funding(self, network: int | None = None) -> None:
        """Funding stops now (all networks, or one)."""
        events.apply(self, {"week": self.week, "kind": "funding_cut", **({} if network is None else {"network": network})})

    def head_leaves(self, school: int | None = None) -> None:
        events.apply(self, {"week": self.week, "kind": "head_leaves", **({} if school is None else {"school": school})})

    def broker_leaves(self, school: int | None = None) -> None:
        events.apply(self, {"week": self.week, "kind": "broker_leaves", **({} if school is None else {"school": school})})

    def school_joins(self, network: int = 0) -> None:
        events.apply(self, {"week": self.week, "kind": "school_joins", "network": network})

    def school_leaves(self, school: int | None = None) -> None:
        events.apply(self, {"week": self.week, "kind": "school_leaves", **({} if school is None else {"school": school})})
