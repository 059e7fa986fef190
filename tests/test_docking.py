"""Docking: with the other mechanisms switched off, the model reduces to canonical models.

docs/calibration.md ("Docking") says how each limit is reached through scenario
keys.  Each test states its tolerance and why it is that size:

* simple contagion on a complete graph follows the Reed-Frost/SI recursion
  i(t+1) = i(t) + (1 - i(t)) (1 - (1 - b)^(N i(t)));
* an outside source plus imitation follows the Bass curve
  F(t) = (1 - e^-(p+q)t) / (1 + (q/p) e^-(p+q)t);
* practice averaged over trusted ties (the influence mechanism, Friedkin-Johnsen
  with no anchoring) converges to the DeGroot consensus: the average of initial
  practice weighted by the left eigenvector of the row-stochastic
  trust-weighted matrix.
"""

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from nlcsim import NLCModel, Scenario
from nlcsim.mechanisms.practice import TIE_INFLUENCE
from nlcsim.scenario import MECHANISMS
from nlcsim.state import JOINT_WORK, PROFOUND

# Every mechanism off but partner choice (a mechanism added later is off here too).
ALL_OFF = {f"mechanisms.{m}": False for m in MECHANISMS if m != "partners"}


def contagion_limit(n_teachers: int, b: float, **more) -> Scenario:
    """One school whose staff form a complete graph; every tie meets weekly and passes an item with chance b."""
    return Scenario.load("baseline", overrides={
        **ALL_OFF, "mechanisms.knowledge": True,
        "population.schools_per_network": 1, "population.teachers_per_school": n_teachers,
        "population.school_size_spread": 0.0, "population.within_school_degree": float(n_teachers - 1),
        "population.cross_school_degree": 0.0, "population.brokers_per_school": 0, "population.broker_ties": 0.0,
        "membership.pioneer_share": 1.0, "collaboration.tie_meeting_rate": 1.0, "collaboration.contact_rate": 0.0, "collaboration.depth": 0.0,
        "knowledge.transfer_chance": b, "knowledge.slots": 8, **more})


def share_knowing(scenario: Scenario, seeds, weeks: int, column, first_holders: int = 0) -> np.ndarray:
    """replicates x (weeks + 1): share of teachers who know the item (any depth), week by week.

    ``first_holders`` > 0 replaces the item's founding holders by that many
    teachers, so the chain starts past its most random first weeks.
    """
    out = np.empty((len(seeds), weeks + 1))
    for r, ss in enumerate(seeds):
        model = NLCModel(scenario, seed=ss)
        st = model.state
        col = column(model)
        if first_holders:
            st.know[:, col] = 0
            st.know[np.flatnonzero(st.alive)[:first_holders], col] = PROFOUND
        for t in range(weeks + 1):
            out[r, t] = (st.know[st.alive, col] > 0).mean()
            if t < weeks:
                model.step()
    return out


def test_the_contagion_limit_is_a_complete_graph_where_every_tie_meets_weekly():
    sc = contagion_limit(12, 0.1, **{"knowledge.practitioner_items": 1, "knowledge.public_items": 0})
    model = NLCModel(sc, seed=3)
    st = model.state
    assert ((st.nbr[st.alive] >= 0).sum(axis=1) == 11).all()
    model.step()
    assert model.interactions.size == 12 * 11 // 2


def test_simple_contagion_on_a_complete_graph_follows_the_si_recursion():
    """N = 41 teachers, b = 0.01, the item starting with 6 of them.  Tolerances:
    the weekly step is exact in expectation, so the mean residual
    i(t+1) - f(i(t)) over every replicate-week must be within 3 standard errors
    of 0; the mean curve must stay within 0.06 of the recursion (the recursion
    is the mean-field of a random chain, whose mean lags it by about 0.02 here,
    plus sampling error of about 0.015 with 60 replicates)."""
    n, b, weeks = 41, 0.01, 30
    sc = contagion_limit(n, b, **{"knowledge.practitioner_items": 1, "knowledge.public_items": 0})
    seeds = np.random.SeedSequence(2024).spawn(60)
    share = share_knowing(sc, seeds, weeks, column=lambda m: 0, first_holders=6)
    assert (share[:, 0] == 6 / n).all()

    def si(i):
        return i + (1 - i) * (1 - (1 - b) ** (n * i))

    resid = share[:, 1:] - si(share[:, :-1])
    assert abs(resid.mean()) < 3 * resid.std(ddof=1) / np.sqrt(resid.size)
    recursion = np.empty_like(share)
    recursion[:, 0] = share[:, 0]
    for t in range(weeks):
        recursion[:, t + 1] = si(recursion[:, t])
    assert np.abs(share.mean(axis=0) - recursion.mean(axis=0)).max() < 0.06
    assert share.mean(axis=0)[-1] > 0.95


def test_outside_source_plus_imitation_follows_the_bass_curve():
    """Outside source p (enquiry.outside_rate) plus imitation on a complete graph of
    N = 41 with per-contact chance b, so q = -N ln(1 - b).  Tolerances: the
    weekly step matches the discrete Bass step in expectation (3 standard
    errors); the mean curve stays within 0.06 of the continuous Bass curve
    (weekly steps and a finite N put it about 0.035 below; a numerical study of
    the same chain gives 0.037)."""
    n, p, q, weeks = 41, 0.02, 0.1, 80
    b = 1 - np.exp(-q / n)
    sc = contagion_limit(n, b, **{"mechanisms.enquiry": True, "enquiry.public_rate": 0.0, "enquiry.outside_rate": p,
                                  "knowledge.practitioner_items": 0, "knowledge.public_items": 1})
    seeds = np.random.SeedSequence(1969).spawn(50)
    share = share_knowing(sc, seeds, weeks, column=lambda m: m.state.slots)
    assert share[:, 0].max() == 0.0

    def step(f):
        return f + (1 - f) * (1 - (1 - p) * (1 - b) ** (n * f))

    resid = share[:, 1:] - step(share[:, :-1])
    assert abs(resid.mean()) < 3 * resid.std(ddof=1) / np.sqrt(resid.size)
    pc, qc = -np.log(1 - p), -n * np.log(1 - b)
    t = np.arange(weeks + 1)
    bass = (1 - np.exp(-(pc + qc) * t)) / (1 + (qc / pc) * np.exp(-(pc + qc) * t))
    assert np.abs(share.mean(axis=0) - bass).max() < 0.06


def influence_matrix(model: NLCModel) -> tuple[np.ndarray, np.ndarray]:
    """Rows of alive teachers, and A = diag(1 - a) + diag(a) D^-1 W over ties used for joint work."""
    st = model.state
    rows = np.flatnonzero(st.alive)
    index = {int(r): k for k, r in enumerate(rows)}
    n = rows.size
    W = np.zeros((n, n))
    for k, r in enumerate(rows):
        for slot in np.flatnonzero(st.nbr[r] >= 0):
            W[k, index[int(st.nbr[r, slot])]] += st.trust[r, slot] * TIE_INFLUENCE[JOINT_WORK]
    alpha = model.influence_weight * st.engagement[rows]
    has = W.sum(axis=1) > 0
    A = np.eye(n)
    A[has] = (1 - alpha[has, None]) * np.eye(n)[has] + alpha[has, None] * W[has] / W[has].sum(axis=1, keepdims=True)
    return rows, A


def test_averaging_practice_over_trusted_ties_converges_to_the_degroot_consensus():
    """Influence alone (every tie meets weekly for joint work, trust fixed): the
    weekly update is x <- A x with A row-stochastic, so within each connected
    group pi . x is conserved and x converges to (pi . x0) 1, pi the left
    eigenvector of A.  Tolerance 1e-6 (the update is deterministic; only
    floating-point rounding and the finite number of weeks remain)."""
    sc = Scenario.load("baseline", overrides={
        **ALL_OFF, "mechanisms.influence": True, "population.schools_per_network": 3,
        "population.teachers_per_school": 8, "population.within_school_degree": 4.0,
        "population.cross_school_degree": 1.0, "membership.pioneer_share": 1.0,
        "collaboration.tie_meeting_rate": 1.0, "collaboration.contact_rate": 0.0, "collaboration.depth": 1.0})
    model = NLCModel(sc, seed=11)
    st = model.state
    model.step()  # the first week marks every tie as used for joint work
    rows, A = influence_matrix(model)
    x0 = st.practice[rows].copy()
    assert x0.std() > 0.01
    groups, label = connected_components(csr_matrix(A - np.diag(np.diag(A)) != 0), directed=False)
    consensus = np.empty(rows.size)
    for g in range(groups):
        members = np.flatnonzero(label == g)
        values, vectors = np.linalg.eig(A[np.ix_(members, members)].T)
        pi = np.real(vectors[:, np.argmin(np.abs(values - 1))])
        pi /= pi.sum()
        consensus[members] = pi @ x0[members]
    # the closed form for symmetric trust: pi_i proportional to (sum of trust on i's ties) / a_i
    assert groups == 1  # one connected graph, so that the closed form below applies
    strength = (A - np.diag(np.diag(A))).sum(axis=1)  # = a_i
    trust_sum = np.array([st.trust[r][st.nbr[r] >= 0].sum() for r in rows])
    closed = trust_sum / strength
    assert pytest.approx(consensus[0], abs=1e-9) == (closed / closed.sum()) @ x0
    x = x0
    for _ in range(1500):
        model.step()
        x_next = st.practice[rows]
        assert np.allclose(x_next, A @ x, atol=1e-12)
        x = x_next.copy()
    assert np.abs(x - consensus).max() < 1e-6
