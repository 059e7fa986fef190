"""Each mechanism in isolation (the others switched off) does what docs/ODD.md says."""

import numpy as np

from nlcsim import NLCModel, Scenario
from nlcsim.mechanisms import collaboration, knowledge, trust, turnover
from nlcsim.mechanisms.partners import Interactions
from nlcsim.scenario import MECHANISMS
from nlcsim.state import ACTIVE, JOINT_WORK, SHALLOW, STORYTELLING

SMALL = {"population.schools_per_network": 4, "population.teachers_per_school": 10, "schedule.years": 2}


def model_with(only=(), seed=1, **overrides):
    """A small model with only the named mechanisms switched on."""
    switches = {f"mechanisms.{m}": m in only for m in MECHANISMS}
    sc = Scenario.load("baseline", overrides={**SMALL, **switches, **overrides})
    return NLCModel(sc, seed=seed)


def ties_of(model, rows):
    st = model.state
    r, s = np.nonzero(st.nbr[rows] >= 0)
    return np.asarray(rows)[r], s


def forced(model, kind, conflict=False, n=20):
    """Interactions on the first n within-school ties, all of one type."""
    st = model.state
    r, s = np.nonzero(st.nbr >= 0)
    r, s = r[:n], s[:n]
    j = st.nbr[r, s].astype(np.int64)
    inter = Interactions(r.astype(np.int64), j, s.astype(np.int64), st.rev[r, s].astype(np.int64), np.zeros(r.size, bool))
    inter.kind = np.full(r.size, kind, dtype=np.int8)
    inter.dissonance = np.full(r.size, 0.3)
    inter.conflict = np.full(r.size, conflict)
    return inter


def test_trust_rises_after_successful_joint_work():
    m = model_with(only=("trust",))
    inter = forced(m, JOINT_WORK)
    before = m.state.trust[inter.i, inter.slot_i].copy()
    trust.update_trust(m, inter)
    after = m.state.trust[inter.i, inter.slot_i]
    assert (after > before).all()
    # both ends of a tie carry the same trust
    np.testing.assert_array_equal(after, m.state.trust[inter.j, inter.slot_j])


def test_unresolved_conflict_erodes_trust():
    m = model_with(only=("trust",))
    inter = forced(m, JOINT_WORK, conflict=True)
    before = m.state.trust[inter.i, inter.slot_i].copy()
    trust.update_trust(m, inter)
    assert (m.state.trust[inter.i, inter.slot_i] < before).all()


def test_unused_cross_school_ties_decay_and_vanish_while_colleagues_keep_their_culture():
    m = model_with(only=("trust",), **{"trust.decay_rate": 0.2})
    st = m.state
    nbc = np.maximum(st.nbr, 0)
    cross = (st.nbr >= 0) & (st.school[nbc] != st.school[:, None])
    assert cross.any()
    n_cross = cross.sum()
    within = (st.nbr >= 0) & ~cross
    culture = st.school_trust[np.maximum(st.school, 0)][:, None] * np.ones_like(st.trust)
    above = within & (st.trust > culture)
    start = st.trust.copy()
    for _ in range(39):
        m.step()
    cross_after = (st.nbr >= 0) & (st.school[np.maximum(st.nbr, 0)] != st.school[:, None])
    assert cross_after.sum() < n_cross * 0.05
    # colleagues' ties settle on the school's culture from above and never fall below it
    np.testing.assert_allclose(st.trust[above], culture[above], atol=0.02)
    assert (st.trust[within] >= np.minimum(start, culture)[within] - 1e-12).all()


def test_higher_trust_gives_deeper_collaboration():
    shares = []
    for level in (0.2, 0.8):
        m = model_with(only=("collaboration",), **{"trust.initial": level, "trust.school_spread": 0.0})
        inter = forced(m, 0, n=400)
        collaboration.classify(m, inter)
        shares.append((inter.kind == JOINT_WORK).mean())
    assert shares[1] > shares[0] + 0.2


def test_collaboration_norms_set_the_type():
    kinds = []
    for depth in (0.0, 1.0):
        m = model_with(only=("collaboration",), **{"collaboration.depth": depth})
        inter = forced(m, 0, n=400)
        collaboration.classify(m, inter)
        kinds.append(inter.kind.mean())
    assert kinds[0] < 1.0 < 2.5 < kinds[1]


def test_too_much_dissonance_for_the_trust_is_conflict():
    m = model_with(only=("collaboration",), **{"purpose.challenge": 1.0, "trust.initial": 0.05,
                                                 "trust.school_spread": 0.0, "collaboration.depth": 1.0})
    inter = forced(m, 0, n=400)
    collaboration.classify(m, inter)
    calm = model_with(only=("collaboration",), **{"purpose.challenge": 0.0})
    inter0 = forced(calm, 0, n=400)
    collaboration.classify(calm, inter0)
    assert inter.conflict.mean() > 0.2
    assert inter0.conflict.mean() == 0.0


def test_a_shallow_interaction_never_changes_practice():
    # Storytelling only: collaboration off with depth 0 fixes every interaction to storytelling.
    m = model_with(only=("funding", "partners", "knowledge", "learning", "practice", "influence", "trust",
                         "engagement", "turnover"), **{"collaboration.depth": 0.0, "membership.pioneer_share": 1.0})
    start = m.state.practice.copy()
    for _ in range(60):
        m.step()
    ts = m.timeseries
    assert ts["storytelling_share"].iloc[-1] in (0.0, 1.0)
    assert ts["interactions_per_teacher"].sum() > 10
    assert ts["awareness_reach"].iloc[-1] > 0.05           # awareness spreads ...
    assert ts["practice_change"].abs().max() == 0.0         # ... practice does not
    alive = m.state.alive & (m.state.joined == 0)
    np.testing.assert_array_equal(m.state.practice[alive], start[alive])


def test_joint_work_spreads_deep_knowledge_and_changes_practice():
    m = model_with(only=("funding", "partners", "knowledge", "learning", "practice", "trust", "engagement"),
                   **{"collaboration.depth": 1.0, "membership.pioneer_share": 1.0, "trust.initial": 0.8})
    for _ in range(60):
        m.step()
    ts = m.timeseries
    assert ts["joint_work_share"].mean() > 0.5
    assert ts["practice_change"].iloc[-1] > 0.0
    assert ts["knowledge_created"].iloc[-1] > 0


def test_storytelling_creates_no_knowledge():
    m = model_with(only=("knowledge",))
    m.weights = knowledge.item_weights(m)
    knowledge.co_construct(m, forced(m, STORYTELLING, n=200))
    assert m.created == 0
    knowledge.co_construct(m, forced(m, JOINT_WORK, n=200))
    assert m.created > 0


def test_learning_from_storytelling_is_shallow_and_joint_work_can_be_deep():
    m = model_with(only=("knowledge", "learning"), **{"capacity.support": 1.0})
    m.weights = knowledge.item_weights(m)
    st = m.state
    knowledge.exchange(m, forced(m, STORYTELLING, n=300))
    assert st.deep_learned.sum() == 0
    assert (st.know == SHALLOW).any()
    knowledge.exchange(m, forced(m, JOINT_WORK, n=300))
    assert st.deep_learned.sum() > 0


def test_enquiry_brings_in_public_knowledge_only_when_the_network_enquires():
    public = []
    for level in (0.0, 1.0):
        m = model_with(only=("funding", "enquiry"), **{"enquiry.level": level, "enquiry.public_rate": 0.5,
                                                      "membership.pioneer_share": 1.0})
        for _ in range(10):
            m.step()
        public.append(int((m.state.know[:, m.state.slots:] > 0).sum()))
    assert public[0] == 0 and public[1] > 0


def test_a_leavers_ties_are_gone():
    m = model_with(only=("trust",), **{"membership.inclusive": 0.0})
    st = m.state
    row = int(np.flatnonzero(st.alive & ~st.is_head)[3])
    old = set(st.nbr[row][st.nbr[row] >= 0].tolist())
    assert old
    m.week = 5
    turnover.replace(m, np.array([row]))
    # every tie the row has now was made this week by the newcomer
    now = st.nbr[row] >= 0
    assert (st.last_used[row][now] == 5).all()
    for p in old:
        back = st.nbr[p] == row
        assert (st.last_used[p][back] == 5).all()
    assert st.know[row].sum() == 0


def test_turnover_rate_matches_the_scenario():
    m = model_with(only=("turnover",), **{"population.schools_per_network": 20, "population.teachers_per_school": 50,
                                         "turnover.teacher_rate": 0.12, "turnover.head_rate": 0.12, "schedule.years": 1})
    for _ in range(39):
        m.step()
    left = (m.state.joined[m.state.alive] > 0).mean()
    assert 0.09 < left < 0.15


def test_funding_buys_time_and_its_end_takes_it_away():
    m = model_with(only=("funding",), **{"funding.years": 0.5, "schedule.years": 1})
    funded_time = m.state.time[m.state.alive].mean()
    for _ in range(25):
        m.step()
    assert m.state.net_funding[0] == 0.0
    assert m.state.time[m.state.alive].mean() < funded_time - 0.3


def test_engagement_falls_when_schools_must_carry_the_cost():
    ends = []
    for level in (1.0, 0.0):
        m = model_with(only=("funding", "engagement"), **{"funding.level": level, "leadership.distribution": 0.0})
        for _ in range(39):
            m.step()
        ends.append(m.state.engagement[m.state.alive].mean())
    assert ends[1] < ends[0]


def leavers_functions_fall_vacant_and_are_refilled(distribution):
    """Every non-head holder of school 0's functions leaves: the functions are
    vacant at once, and refilled within 100 weeks.  Returns the model."""
    m = model_with(only=("leadership",), **{"leadership.distribution": distribution})
    st = m.state
    staff = np.flatnonzero(st.alive & (st.school == 0) & ~st.is_head)
    st.holder[0, 1:] = staff[:3]  # three functions held by teachers, whatever the distribution
    holders = st.holder[0].copy()
    non_head = np.unique([h for h in holders if not st.is_head[h]])
    assert non_head.size
    turnover.leave(m, non_head)
    assert (st.holder[0][np.isin(holders, non_head)] == -1).all()  # the leavers' functions went with them
    assert not np.isin(st.coleaders, non_head).any() and not st.is_broker[non_head].any()
    for _ in range(100):
        m.step()
    assert (st.holder[0] >= 0).all()
    return m


def test_distributed_leadership_refills_functions_with_teachers():
    m = leavers_functions_fall_vacant_and_are_refilled(1.0)
    assert not m.state.is_head[m.state.holder[0]].any()


def test_without_distribution_the_head_takes_up_the_vacant_functions():
    m = leavers_functions_fall_vacant_and_are_refilled(0.0)
    assert (m.state.holder[0] == m.state.school_head[0]).all()


def test_head_leaving_hands_the_post_to_a_new_head():
    m = model_with(only=("events",))
    head = int(m.state.school_head[0])
    agent_before = m.agent_of_row(head)
    functions_before = m.state.holder[0].copy()
    m.head_leaves(school=0)
    assert m.state.school_head[0] == head and m.state.is_head[head]
    assert m.agent_of_row(head) is not agent_before
    assert (m.state.holder[0][functions_before == head] == head).all()  # the post keeps its functions
    assert m.state.engagement[head] < 0.8 and not m.state.pioneer[head]


def test_schools_can_keep_joining_past_the_spare_school_slots():
    """The trainer's "school joins" button, pressed again and again, with every mechanism on."""
    from nlcsim import NLCModel, Scenario

    m = NLCModel(Scenario.load("baseline", overrides={"population.schools_per_network": 3}), seed=1)
    for _ in range(6):
        m.school_joins(network=0)
        m.step()
    assert m.state.school_alive.sum() == 9
    schools, levels = m.state.school_knowledge()
    assert set(schools) == set(np.unique(m.state.school[m.state.alive]))


def test_schools_join_and_leave():
    m = model_with(only=("events",))
    n = len(m.teachers)
    m.school_joins(network=0)
    assert len(m.teachers) == n + 10
    staff_of_1 = len(m.schools[1].staff)
    m.school_leaves(school=1)
    assert len(m.teachers) == n + 10 - staff_of_1
    assert m.schools[1].state == "left"
    m.step()
    assert m.schools_ever == 5  # the four at the start and the one that joined, including the one that left
    active = np.count_nonzero(m.state.school_status[m.state.school_alive] == ACTIVE)
    assert m.timeseries["active_schools_share"].iloc[-1] == active / 5


def test_funding_cut_event_stops_funding_from_its_week():
    sc = Scenario.from_dict({"events": [{"week": 3, "kind": "funding_cut"}]}, overrides={**SMALL})
    m = NLCModel(sc, seed=1)
    for _ in range(5):
        m.step()
    assert list(m.timeseries["funding"]) == [1.0, 1.0, 1.0, 0.0, 0.0]


def test_influence_pulls_practice_toward_trusted_colleagues():
    m = model_with(only=("influence",))
    st = m.state
    st.last_type[st.nbr >= 0] = JOINT_WORK
    st.last_used[st.nbr >= 0] = 0
    spread = st.practice[st.alive].std()
    for _ in range(10):
        m.step()
    assert st.practice[st.alive].std() < spread


def test_pupil_outcomes_follow_practice_with_a_lag():
    m = model_with(only=("pupils",), **{"pupils.lag_weeks": 5})
    st = m.state
    st.practice[st.alive] = 1.0
    st.quality[st.alive] = 0.5
    for _ in range(5):
        m.step()
        assert st.pupil[0] == 0.0
    m.step()
    assert st.pupil[0] > 0.0


def test_forgotten_items_free_their_slot():
    m = model_with(only=("knowledge",))
    st = m.state
    used = int((st.item_field[0] >= 0).sum())
    st.know[:, : st.slots] = 0
    knowledge.forget(m)
    assert used > 0 and (st.item_field[0] >= 0).sum() == 0


def test_new_items_take_each_networks_first_free_slots_in_request_order():
    m = model_with(only=("knowledge",), **{"population.networks": 3, "knowledge.slots": 8})
    st = m.state
    st.item_field[:] = -1
    st.item_field[0, [0, 2, 3, 5, 6, 7]] = 0  # network 0: slots 1 and 4 free
    st.item_field[1, 1:] = 0                  # network 1: slot 0 free
    st.item_field[2, :] = 0                   # network 2: full

    def by_definition(requests):
        free = {n: list(np.flatnonzero(st.item_field[n] < 0)) for n in range(3)}
        return [free[n].pop(0) if free[n] else -1 for n in requests]

    for requests in ([0, 1, 0, 2, 0, 1], [0, 0, 0], [1], [2, 2], [1, 0]):
        got = knowledge.allocate_slots(m, np.array(requests))
        assert got.tolist() == by_definition(requests), requests


def test_what_an_exchange_passes_on_is_the_running_sum_draw_over_the_items_the_source_knows_better():
    """The compiled draw (columns read eight at a time on 64-bit words, at most 64 words,
    the rest one by one) gives, to the bit, the running-sum draw over all columns:
    widths in whole words, not in whole words, and beyond 512 columns."""
    from nlcsim.state import know_words

    rng = np.random.default_rng(8)
    for slots, public in ((24, 16), (24, 13), (64, 216), (300, 300)):
        width = slots + public
        know = rng.choice(4, size=(80, width), p=[0.5, 0.25, 0.15, 0.1]).astype(np.int8)
        network = rng.integers(0, 3, 80).astype(np.int32)
        local_w, public_w = rng.random((3, slots)) * 3, rng.random(public) * 3
        src, dst = rng.integers(0, 80, 300), rng.integers(0, 80, 300)
        draw = rng.random(300)
        chosen, total = knowledge._draw_better_known(know, know_words(know), local_w, public_w, network, src, dst,
                                                     draw, 128)
        running = 0.0
        for e in range(300):
            if e % 128 == 0:
                running = 0.0
            weights = np.concatenate([local_w[network[src[e]]], public_w])
            start = running
            sums = []
            for c in np.flatnonzero(know[src[e]] > know[dst[e]]):
                running += weights[c]
                sums.append((running, c))
            assert total[e] == running - start
            target = start + draw[e] * (running - start)
            above = [c for s, c in sums if s > target]
            assert chosen[e] == (above[0] if running > start and above else width - 1)


def test_a_draw_picks_the_first_running_sum_above_its_target():
    """draws.first_above agrees with a search of the sorted sums, where sums repeat (zero
    weights) and where the target equals a sum or lies beyond all of them."""
    from nlcsim.draws import first_above

    rng = np.random.default_rng(3)
    for count in (0, 1, 2, 7, 8, 33, 280):
        weights = rng.random(count) * (rng.random(count) < 0.6)  # some zero: equal sums
        sums = np.cumsum(weights)
        targets = [-1.0, 0.0, *sums[: min(count, 5)], *(rng.random(20) * (sums[-1] if count else 1.0)),
                   sums[-1] if count else 0.0, 10.0 * (1 + count)]
        for target in targets:
            assert first_above(sums, count, target) == np.searchsorted(sums, target, side="right"), (count, target)


def test_kept_item_weights_follow_every_write_of_the_item_table():
    """The model keeps the local items' weights and beliefs, brought up to date where a
    phase writes items (knowledge.refresh_items); after weeks of new items, copies from
    other networks, forgotten items and a school joining with its craft knowledge,
    they are what working them out anew from the item table gives, to the bit."""
    from nlcsim.mechanisms.learning import belief
    from nlcsim.state import CO_CONSTRUCTED, IMPORTED

    events = [{"week": 14, "kind": "school_joins", "network": 0}, {"week": 40, "kind": "school_joins", "network": 1}]
    m = NLCModel(Scenario.from_dict({"events": events}, overrides={"population.networks": 3}), seed=3)
    st = m.state
    clarity = m.scenario.purpose.clarity
    freed = False
    for _ in range(80):
        before = st.item_field >= 0
        m.step()
        freed |= bool((before & (st.item_field < 0)).any())
        fresh = np.where(st.item_field >= 0, knowledge._weight(st.item_relevance, st.item_perceived, clarity), 0.0)
        assert np.array_equal(knowledge.item_weights(m)[0], fresh), m.week
        assert np.array_equal(m.local_belief, belief(st.item_perceived)), m.week
    assert freed and (st.item_field == IMPORTED).any() and (st.item_field == CO_CONSTRUCTED).any()
    assert st.school_alive.sum() == 3 * m.scenario.population.schools_per_network + 2
