"""What is observed each week and at the end of a run.

``COLUMNS`` is the contract for the weekly time series: name -> (unit,
definition).  ``OUTCOMES`` is the contract for end-of-run measures.  Both are
generated into docs/ODD.md ("Observation") and tested to stay in sync.

"Teachers" below means teachers alive in schools that have not left;
"interactions" means this week's collaborative interactions.
"""

from __future__ import annotations

from operator import itemgetter

import numpy as np

from .jit import in_parts, mean_of, njit, pairwise_sum, part_count
from .state import ACTIVE, DEEP, IMPORTED

CHANGED = 0.1  # practice gain that counts as changed practice (0-1 scale)
IMPROVED = 0.05  # gain in practice or engagement (0-1 scale) a teacher would report as an improvement

COLUMNS: dict[str, tuple[str, str]] = {
    "week": ("week", "school week of the run, from 0"),
    "year": ("year", "school year of the run, from 0"),
    "funding": ("x programme level", "mean funding of the networks this week"),
    "practice_change": ("0-1 practice scale", "mean gain in enacted practice since each teacher joined"),
    "adoption_share": ("share of teachers", f"teachers whose practice rose by at least {CHANGED}"),
    "knowledge_created": ("items per school", "co-constructed pieces of knowledge created so far, per school at the start"),
    "knowledge_reach": ("0-1", "mean over local items in use of the share of the network's other schools holding the item deeply"),
    "awareness_reach": ("0-1", "as knowledge_reach, counting shallow awareness too"),
    "storytelling_share": ("share of interactions", "interactions of the storytelling-and-scanning type"),
    "aid_share": ("share of interactions", "interactions of the aid-and-assistance type"),
    "sharing_share": ("share of interactions", "interactions of the sharing type"),
    "joint_work_share": ("share of interactions", "interactions of the joint-work type"),
    "conflict_share": ("share of interactions", "interactions that ended in unresolved conflict"),
    "interactions_per_teacher": ("per teacher per week", "interactions this week per teacher"),
    "mean_trust": ("0-1", "mean trust over all ties"),
    "cross_school_ties": ("ties per teacher", "ties to other schools used in the last 13 weeks, per teacher"),
    "engagement": ("0-1", "mean engagement of teachers"),
    "member_share": ("share of teachers", "teachers taking part in the network's work"),
    "active_schools_share": ("share of schools", "schools in the active state, out of every school that has been in the programme"),
    "sustainability": ("0-1", "active_schools_share x min(1, interactions per teacher over the last 13 weeks / their mean over the funded weeks)"),
    "pupil_outcome": ("effect size", "mean over schools of the enacted effect pupils.lag_weeks ago minus the enacted effect at the start"),
    "improved_teaching_share": ("share of teachers", "teachers in post at least 26 weeks who learned something deeply in the network or whose practice rose by 0.05 (the MORI 2004 question)"),
    "improved_motivation_share": ("share of teachers", "teachers in post at least 26 weeks whose engagement rose by at least 0.05 since joining (the MORI 2004 question)"),
    "learning_pupil": ("effect size", "pupil learning: equal to pupil_outcome (seed 004 level 1)"),
    "learning_adult": ("share of teachers", "adult learning: teachers holding something deeply that they learned in the network (level 2)"),
    "learning_leadership": ("share of functions", "leadership learning: leadership functions held and done with effect >= 0.3 (level 3)"),
    "learning_school_wide": ("share of schools", "school-wide learning: schools where at least half the staff changed practice (level 4)"),
    "learning_school_to_school": ("share of items", "school-to-school learning: local items in use held deeply in a school other than their origin (level 5)"),
    "learning_network_to_network": ("share of items", "network-to-network learning: local items in use that came from another network (level 6)"),
    "weak_practice_share": ("share of teachers", "teachers with changed practice whose enacted knowledge has a negative true effect"),
    "teachers": ("teachers", "teachers in schools that have not left"),
}

FLOW = ("storytelling_share", "aid_share", "sharing_share", "joint_work_share", "conflict_share", "interactions_per_teacher")

OUTCOMES: dict[str, tuple[str, str]] = {
    **{k: v for k, v in COLUMNS.items() if k not in ("week", "year", "funding", "teachers")},
    "improved_teaching_share": ("share of teachers", "improved_teaching_share after two school years (MORI 2004 timing), or at the end of a shorter run"),
    "improved_motivation_share": ("share of teachers", "improved_motivation_share after two school years, or at the end of a shorter run"),
    "sustainability": ("ratio", "interactions per teacher in the last year of the run / in the last funded year (the first year if funding outlasts the run), capped at 2"),
    "weeks_to_dormant": ("weeks", "weeks after funding ends until 13-week activity falls below 25% of the funded level; censored at the end of the run; NaN when funding does not end within the run"),
    "network_dormant": ("0/1", "1 if the activity of the programme (all its networks together) went dormant after funding ended, as weeks_to_dormant measures; NaN when funding does not end within the run"),
}
for _k in FLOW:
    OUTCOMES[_k] = (COLUMNS[_k][0], COLUMNS[_k][1] + ", over the whole run")


# Columns that every week's row carries, even where the rest of the row is not
# observed: the outcomes read them over the whole run (FLOW, sustainability,
# weeks_to_dormant), and they cost a handful of array operations.
ALWAYS = ("week", "year", "funding", *FLOW, "teachers")

_in_order = itemgetter(*COLUMNS)  # a row dict -> its values in COLUMNS order
_UNOBSERVED = dict.fromkeys(COLUMNS, np.nan)  # a row not observed, in COLUMNS order, before ALWAYS fills it in


def record(model, inter, full: bool = True) -> tuple:
    """One row of the weekly time series, in ``COLUMNS`` order.

    With ``full=False`` only the ``ALWAYS`` columns are observed and the
    others are NaN; what the outcomes need from earlier weeks (activity, the
    funded level) is kept either way.

    Sums and means are taken over teachers, ties and schools in row order, as
    NumPy takes them, so every figure is the one the array expressions in
    ``COLUMNS``' definitions give, to the bit.
    """
    st, sc = model.state, model.scenario
    live_school = st.school_alive
    w = model.week
    if w == model.activity.size:
        model.activity = np.concatenate([model.activity, np.empty(w)])
    teach, n_teach, kinds, conflict, funding, per_teacher, recent = _flow(
        st.alive, st.school, live_school, inter.kind, inter.conflict, st.net_funding, model.activity, w)
    n_t = max(n_teach, 1)
    if model.week < model.funding_end or model.funded_weeks == 0:
        model.funded_activity_sum += per_teacher
        model.funded_weeks += 1
    always = {"week": model.week, "year": model.week // sc.schedule.weeks_per_year, "funding": funding,
              "storytelling_share": kinds[0], "aid_share": kinds[1], "sharing_share": kinds[2],
              "joint_work_share": kinds[3], "conflict_share": conflict, "interactions_per_teacher": per_teacher,
              "teachers": n_teach}  # the ALWAYS columns
    if not full:
        return tuple({**_UNOBSERVED, **always}.values())
    (practice_change, n_changed, engagement, n_deep, n_member, n_judged, improved_t, improved_m, weak,
     school_wide, mean_trust, cross_recent) = teacher_measures(model, teach)
    n_active, pupil, leadership = _school_measures(st.school_status, live_school, st.pupil, model.function_effect)
    active_share = n_active / max(int(model.schools_ever), 1)
    ref = model.funded_activity_sum / max(model.funded_weeks, 1)
    sustain = active_share * min(1.0, recent / ref) if ref > 0 else 0.0
    reach, aware, s2s, n2n = knowledge_reach(model)
    row = {
        **always,
        "practice_change": practice_change,
        "adoption_share": n_changed / n_t,
        "knowledge_created": model.created / max(model.schools_at_start, 1),
        "knowledge_reach": reach, "awareness_reach": aware,
        "mean_trust": mean_trust, "cross_school_ties": cross_recent / n_t,
        "engagement": engagement,
        "member_share": n_member / n_t,
        "active_schools_share": active_share, "sustainability": sustain, "pupil_outcome": pupil,
        "improved_teaching_share": improved_t / max(n_judged, 1), "improved_motivation_share": improved_m / max(n_judged, 1),
        "learning_pupil": pupil, "learning_adult": n_deep / n_t,
        "learning_leadership": leadership, "learning_school_wide": school_wide,
        "learning_school_to_school": s2s, "learning_network_to_network": n2n,
        "weak_practice_share": weak / max(n_changed, 1),
    }
    return _in_order(row)


@njit
def _flow(alive, school, live_school, kind, conflict, net_funding, activity, week):
    """The ``ALWAYS`` measures of :func:`record`: which rows are teachers (alive, in a
    school that has not left) and how many, the share of each type of interaction,
    the share in conflict and the networks' mean funding; then the week's
    interactions per teacher, written to ``activity[week]``, and their mean over
    this week and the 12 before (NumPy's mean of that stretch, to the bit)."""
    teach = np.empty(alive.size, dtype=np.bool_)
    n_teach = 0
    for r in range(alive.size):
        teach[r] = alive[r] and live_school[max(school[r], 0)]
        n_teach += teach[r]
    counts = np.zeros(4, dtype=np.int64)
    n_conflict = 0
    for e in range(kind.size):
        counts[kind[e]] += 1
        n_conflict += conflict[e]
    n_i = kind.size
    kinds = counts / max(n_i, 1)
    activity[week] = n_i / max(n_teach, 1)
    first = max(week - 12, 0)
    recent = pairwise_sum(activity, first, week + 1 - first) / (week + 1 - first)
    return (teach, n_teach, kinds, n_conflict / n_i if n_i else 0.0,
            pairwise_sum(net_funding, 0, net_funding.size) / net_funding.size, activity[week], recent)


@njit
def _school_measures(status, live_school, pupil, function_effect):
    """The per-school measures of :func:`record`: active schools still in the programme,
    the mean pupil outcome over the schools in it (0 if none) and the share of their
    leadership functions done with effect >= 0.3."""
    n_active = n_live = strong = 0
    values = np.empty(live_school.size)
    for s in range(live_school.size):
        if live_school[s]:
            n_active += status[s] == ACTIVE
            values[n_live] = pupil[s]
            n_live += 1
            for f in range(function_effect.shape[1]):
                strong += function_effect[s, f] >= 0.3
    if n_live == 0:
        return n_active, 0.0, 0.0
    cells = n_live * function_effect.shape[1]
    return n_active, pairwise_sum(values, 0, n_live) / n_live, strong / cells if cells else 0.0


def teacher_measures(model, teach: np.ndarray) -> tuple:
    """The per-teacher, per-school and per-tie measures of :func:`record`
    (:func:`_teacher_totals`); in a large population the rows are gone through on
    threads, a part each (:func:`~nlcsim.jit.in_parts`), and the parts put together in
    row order."""
    st = model.state
    rows = (teach, st.practice, st.prior, st.engagement, st.engagement0, st.deep_learned, st.joined, st.member,
            st.quality, st.school, st.school_alive.size, st.nbr, st.fill, st.trust, st.last_used, model.week)
    if part_count(teach.size) == 1:  # one compiled call
        return _teacher_measures(rows, st.school_alive)
    parts = in_parts(lambda start, stop: _teacher_rows(*rows, start, stop), teach.size)
    gain, eng, counts, staff, adopted, ends = zip(*parts)
    return _teacher_totals(np.concatenate(gain), np.concatenate(eng), sum(counts), sum(staff), sum(adopted),
                           st.school_alive, np.concatenate(ends))


@njit
def _teacher_measures(rows, live_school):
    """:func:`teacher_measures` in one thread."""
    gain, eng, counts, staff, adopted, ends = _teacher_rows(*rows, 0, rows[0].size)
    return _teacher_totals(gain, eng, counts, staff, adopted, live_school, ends)


@njit
def _teacher_rows(teach, practice, prior, engagement, engagement0, deep_learned, joined, member, quality, school,
                  n_schools, nbr, fill, trust, last_used, week, start, stop):
    """Rows ``start`` to ``stop`` of :func:`teacher_measures`: the teachers' practice gains
    and engagement, in row order; the counts (changed practice, learned deeply, members,
    judged, improved teaching, improved motivation, weak practice among the changed,
    recent cross-school tie ends); each school's staff and adopters; the trust at every
    tie end, in row order."""
    gain = np.empty(stop - start)
    eng = np.empty(stop - start)
    counts = np.zeros(8, dtype=np.int64)
    staff = np.zeros(n_schools, dtype=np.int64)
    adopted = np.zeros(n_schools, dtype=np.int64)
    n = 0
    for r in range(start, stop):
        if not teach[r]:
            continue
        g = practice[r] - prior[r]
        gain[n], eng[n] = g, engagement[r]
        n += 1
        changed = g >= CHANGED
        deep = deep_learned[r] >= 1
        counts[0] += changed
        counts[1] += deep
        counts[2] += member[r]
        counts[6] += changed & (quality[r] < 0)
        staff[school[r]] += 1
        adopted[school[r]] += changed
        # in post at least 26 weeks; the tests as 0s and 1s, not branches, which go either way
        judged = (joined[r] <= week - 26) | ((week >= 26) & (joined[r] == 0))
        counts[3] += judged
        counts[4] += judged & (deep | (g >= 0.05))
        counts[5] += judged & (engagement[r] - engagement0[r] >= IMPROVED)
    # Every tie end, in row order (the slots beyond a row's fill are empty, and so is a
    # slot of -1 within it). Written without a branch: each slot's trust is written at
    # the next place and kept only where the slot holds a tie, and the recent
    # cross-school ends are counted as a sum of 0s and 1s; a branch on these tests,
    # which go either way, costs more than the work.
    ends = np.empty((stop - start) * nbr.shape[1])
    n_ends = cross = 0
    recent = week - 13  # this week and the 12 before
    for r in range(start, stop):
        own, counted = school[r], teach[r]
        for k in range(fill[r]):
            j = nbr[r, k]
            ends[n_ends] = trust[r, k]
            tie = j >= 0
            n_ends += tie
            cross += counted & tie & (school[max(j, 0)] != own) & (last_used[r, k] > recent)
    counts[7] = cross
    return gain[:n], eng[:n], counts, staff, adopted, ends[:n_ends]


@njit
def _teacher_totals(gain, eng, counts, staff, adopted, live_school, ends):
    """:func:`teacher_measures` from :func:`_teacher_rows`' parts put together.

    Means are NumPy's (:func:`~nlcsim.jit.mean_of`) over the values in row
    order, so each is the one ``values.mean()`` gives, to the bit.
    """
    wide = live = 0  # schools still in the programme where at least half the staff changed practice
    for s in range(live_school.size):
        if live_school[s]:
            live += 1
            wide += staff[s] > 0 and adopted[s] >= 0.5 * staff[s]
    return (mean_of(gain, gain.size), counts[0], mean_of(eng, eng.size), counts[1], counts[2], counts[3], counts[4],
            counts[5], counts[6], wide / max(live, 1), mean_of(ends, ends.size), counts[7])


def knowledge_reach(model) -> tuple[float, float, float, float]:
    """Reach of local knowledge across schools, and the network-to-network share."""
    st = model.state
    return _reach(st.school_flags_now(), st.alive, st.school, st.school_network, st.school_alive, st.item_school,
                  st.item_field)


@njit
def _reach(levels, alive, school, school_network, school_alive, item_school, item_field):
    """:func:`knowledge_reach` on the schools' knowledge flags (bit 0 any, bit 1 deep:
    ``State.school_knowledge``), read for the schools with living staff: for each local
    item in use, the schools of its network holding it, not counting its school of
    origin; means over the items in row order, as NumPy takes them
    (:func:`~nlcsim.jit.mean_of`)."""
    n_net, slots = item_field.shape
    staffed = np.zeros(school_alive.size, dtype=np.bool_)
    for r in range(alive.size):
        if alive[r]:
            staffed[school[r]] = True
    net_sizes = np.zeros(n_net, dtype=np.int64)
    for s in range(school_alive.size):
        if school_alive[s]:
            net_sizes[school_network[s]] += 1
    # The holders of each item, counted for both flags at once: schools holding it at
    # all in the low 16 bits, deeply in the high ones (a network has a few hundred
    # schools at most: population.schools_per_network is at most 200).
    holders = np.zeros((n_net, slots), dtype=np.int32)
    for s in range(staffed.size):
        if staffed[s]:
            net = school_network[s]
            for c in range(slots):
                flags = np.int32(levels[s, c])
                holders[net, c] += (flags & 1) | ((flags & 2) << 15)
    reached_share = np.empty(n_net * slots)
    aware_share = np.empty(n_net * slots)
    n_use = n_aware = spread = imported = 0
    for net in range(n_net):
        others = max(net_sizes[net] - 1, 1)
        for c in range(slots):
            if item_field[net, c] < 0:
                continue
            origin = item_school[net, c]
            flags = 0  # what the school of origin holds, where it still has staff in this network
            if origin >= 0 and school_network[origin] == net and staffed[origin]:
                flags = levels[origin, c]
            deep_holders, any_holders = holders[net, c] >> 16, holders[net, c] & 0xFFFF
            if deep_holders > 0:
                reached = deep_holders - ((flags & DEEP) != 0)
                reached_share[n_use] = reached / others
                n_use += 1
                spread += reached > 0
                imported += item_field[net, c] == IMPORTED
            if any_holders > 0:
                aware_share[n_aware] = (any_holders - (flags != 0)) / others
                n_aware += 1
    if n_use == 0:
        return 0.0, 0.0, 0.0, 0.0
    return mean_of(reached_share, n_use), mean_of(aware_share, n_aware), spread / n_use, imported / n_use


def second_year_end(weeks_per_year: int, weeks: int) -> int:
    """The week whose row gives the MORI 2004 outcomes: the end of the second
    school year, or the last week of a shorter run."""
    return min(2 * weeks_per_year, weeks) - 1


def outcome_weeks(scenario, weeks: int) -> set[int]:
    """The weeks whose whole row :func:`outcomes` reads: the end of the second
    school year and the last week of a run of ``weeks`` weeks."""
    return {second_year_end(scenario.schedule.weeks_per_year, weeks), weeks - 1}


def outcomes(model, table: np.ndarray) -> dict[str, float]:
    """End-of-run measures from the weekly table (rows = weeks, COLUMNS order)."""
    sc = model.scenario
    col = {name: table[:, k] for k, name in enumerate(COLUMNS)}
    out: dict[str, float] = {}
    for name in OUTCOMES:
        if name in col:
            out[name] = float(col[name][-1])
    wpy = sc.schedule.weeks_per_year
    at_two = second_year_end(wpy, table.shape[0])
    out["improved_teaching_share"] = float(col["improved_teaching_share"][at_two])
    out["improved_motivation_share"] = float(col["improved_motivation_share"][at_two])
    counts = col["interactions_per_teacher"] * col["teachers"]
    total = max(counts.sum(), 1e-12)
    for name in FLOW:
        if name == "interactions_per_teacher":
            out[name] = float(col[name].mean())
        else:
            out[name] = float((col[name] * counts).sum() / total)
    activity = col["interactions_per_teacher"]
    end = model.funding_end
    weeks = table.shape[0]
    if 0 < end < weeks:
        ref = activity[max(0, end - wpy):end].mean()
    else:
        ref = activity[:wpy].mean()
    last = activity[-wpy:].mean()
    out["sustainability"] = float(min(2.0, last / ref)) if ref > 0 else 0.0
    if end >= weeks:  # the money does not end within the run: no time after it to measure
        out["weeks_to_dormant"] = out["network_dormant"] = np.nan
        return out
    dormant_week, dormant = weeks - end, 0.0  # censored at the end of the run
    if ref > 0:
        rolling = np.convolve(activity, np.ones(13) / 13, mode="full")[: weeks]
        below = np.flatnonzero(rolling[end:] < 0.25 * ref)
        if below.size:
            dormant_week, dormant = int(below[0]), 1.0
    out["weeks_to_dormant"] = float(dormant_week)
    out["network_dormant"] = dormant
    return out
