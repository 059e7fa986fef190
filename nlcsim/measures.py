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


def _mean(values: np.ndarray) -> float:
    """values.mean(), without its Python overhead (the same sum divided by the same count)."""
    return float(values.sum() / values.size)


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

    Teachers are taken by position (``tp``, ascending) rather than by boolean
    mask, and gathered with ``take``: the same elements in the same order, so
    every sum, and so every mean, is the one the masks would give.
    """
    st, sc = model.state, model.scenario
    live_school = st.school_alive
    teach = st.alive & live_school.take(np.maximum(st.school, 0))
    n_teach = int(np.count_nonzero(teach))
    n_t = max(n_teach, 1)
    n_i = inter.size
    kinds = (np.bincount(inter.kind, minlength=4) / max(n_i, 1) if n_i else np.zeros(4)).tolist()
    conflict = np.count_nonzero(inter.conflict) / n_i if n_i else 0.0
    per_teacher = n_i / n_t
    model.activity.append(per_teacher)
    if model.week < model.funding_end or model.funded_weeks == 0:
        model.funded_activity_sum += per_teacher
        model.funded_weeks += 1
    always = {"week": model.week, "year": model.week // sc.schedule.weeks_per_year, "funding": _mean(st.net_funding),
              "storytelling_share": kinds[0], "aid_share": kinds[1], "sharing_share": kinds[2],
              "joint_work_share": kinds[3], "conflict_share": conflict, "interactions_per_teacher": per_teacher,
              "teachers": n_teach}  # the ALWAYS columns
    if not full:
        return tuple({**_UNOBSERVED, **always}.values())
    tp = teach.nonzero()[0]  # the teachers, in row order
    # Per teacher (the arrays below are over tp, not over all rows).
    gain = st.practice.take(tp) - st.prior.take(tp)
    changed = gain >= CHANGED
    n_changed = np.count_nonzero(changed)
    engagement = st.engagement.take(tp)
    deep = st.deep_learned.take(tp) >= 1
    school = st.school.take(tp)

    nbr = st.nbr.reshape(-1)
    tie = (nbr >= 0).nonzero()[0]  # every tie end, in row order; ties are few of the slots
    mean_trust = _mean(st.trust.reshape(-1).take(tie)) if tie.size else 0.0
    row = tie // st.nbr.shape[1]
    cross_recent = ((st.school.take(nbr.take(tie)) != st.school.take(row))
                    & (st.last_used.reshape(-1).take(tie) > model.week - 13) & teach.take(row))  # this week and the 12 before
    cross_ties = np.count_nonzero(cross_recent) / n_t

    ever = max(int(model.schools_ever), 1)
    active_share = np.count_nonzero((st.school_status == ACTIVE) & live_school) / ever
    recent = _mean(np.array(model.activity[-13:]))
    ref = model.funded_activity_sum / max(model.funded_weeks, 1)
    sustain = active_share * min(1.0, recent / ref) if ref > 0 else 0.0

    live = live_school.nonzero()[0]
    n_live = live.size
    pupil = _mean(st.pupil.take(live)) if n_live else 0.0
    joined = st.joined.take(tp)
    judge = joined <= model.week - 26  # in post at least 26 weeks
    if model.week >= 26:
        judge |= joined == 0
    n_j = max(np.count_nonzero(judge), 1)
    improved_t = np.count_nonzero(judge & (deep | (gain >= 0.05)))
    improved_m = np.count_nonzero(judge & (engagement - st.engagement0.take(tp) >= IMPROVED))

    reach, aware, s2s, n2n = knowledge_reach(model)
    eff = model.function_effect.take(live, axis=0)
    leadership = np.count_nonzero(eff >= 0.3) / eff.size if eff.size else 0.0
    staff = np.bincount(school, minlength=live_school.size)
    adopted = np.bincount(school[changed], minlength=live_school.size)
    school_wide = np.count_nonzero((adopted >= 0.5 * np.maximum(staff, 1)) & live_school & (staff > 0)) / max(n_live, 1)
    weak = np.count_nonzero(changed & (st.quality.take(tp) < 0)) / max(n_changed, 1)
    row = {
        **always,
        "practice_change": _mean(gain) if n_teach else 0.0,
        "adoption_share": n_changed / n_t,
        "knowledge_created": model.created / max(model.schools_at_start, 1),
        "knowledge_reach": reach, "awareness_reach": aware,
        "mean_trust": mean_trust, "cross_school_ties": cross_ties,
        "engagement": _mean(engagement) if n_teach else 0.0,
        "member_share": np.count_nonzero(st.member.take(tp)) / n_t,
        "active_schools_share": active_share, "sustainability": sustain, "pupil_outcome": pupil,
        "improved_teaching_share": improved_t / n_j, "improved_motivation_share": improved_m / n_j,
        "learning_pupil": pupil, "learning_adult": np.count_nonzero(deep) / n_t,
        "learning_leadership": leadership, "learning_school_wide": school_wide,
        "learning_school_to_school": s2s, "learning_network_to_network": n2n,
        "weak_practice_share": weak,
    }
    return _in_order(row)


def knowledge_reach(model) -> tuple[float, float, float, float]:
    """Reach of local knowledge across schools, and the network-to-network share."""
    st = model.state
    S = st.slots
    n_net = st.net_alive.size
    net_sizes = np.bincount(st.school_network[st.school_alive], minlength=n_net)
    schools, levels = st.school_knowledge()
    if schools.size == 0:
        return 0.0, 0.0, 0.0, 0.0
    net_of = st.school_network.take(schools)
    # Each local item's school of origin, where it still has staff in the item's network,
    # and the flags that school holds the item with (0 where it has no such home).
    origin = np.maximum(st.item_school, 0)
    at = np.full(st.school_alive.size, -1)
    at[schools] = np.arange(schools.size)
    origin_at = at.take(origin)
    home = (st.item_school >= 0) & (st.school_network.take(origin) == np.arange(n_net)[:, None]) & (origin_at >= 0)
    origin_flags = np.where(home, levels.reshape(-1).take(np.maximum(origin_at, 0) * S + np.arange(S)), 0)

    # Schools holding each item, per network, at any depth and deeply: the schools' rows summed
    # network by network, each flag (bit 0 any, bit 1 deep: school_knowledge) counted in an
    # unsigned integer per item, the narrowest that holds a count of a network's schools.  Where a
    # row fills whole 64-bit words they are summed as words of several items' counts: no count
    # reaches its integer's limit, so no carry crosses from one item's count into the next.
    order = np.argsort(net_of, kind="stable")
    counts = np.bincount(net_of, minlength=n_net)
    present = counts.nonzero()[0]
    starts = (counts.cumsum() - counts)[present]  # each present network's first row
    most = counts.max()
    lane = np.uint8 if most < 2**8 else np.uint16 if most < 2**16 else np.uint32
    words = levels.take(order, axis=0).astype(lane, copy=False)
    ones = lane(1)  # the lowest bit of every item's count in a word
    if S * words.itemsize % 8 == 0:
        words, ones = words.view(np.uint64), np.uint64((2**64 - 1) // (2 ** (8 * words.itemsize) - 1))
    holders = np.zeros((2, n_net, words.shape[1]), words.dtype)
    holders[0, present] = np.add.reduceat(words & ones, starts, axis=0, dtype=words.dtype)
    holders[1, present] = np.add.reduceat((words >> 1) & ones, starts, axis=0, dtype=words.dtype)
    any_holders, deep_holders = holders.view(lane).astype(np.int64)
    in_use = (st.item_field >= 0) & (deep_holders > 0)
    n_use = np.count_nonzero(in_use)
    if not n_use:
        return 0.0, 0.0, 0.0, 0.0
    # Holders other than the item's school of origin.
    others = np.maximum(net_sizes - 1, 1)[:, None]
    reached = deep_holders - ((origin_flags & DEEP) != 0)
    reach = _mean((reached / others)[in_use])
    aware_use = (st.item_field >= 0) & (any_holders > 0)
    aware = _mean(((any_holders - (origin_flags != 0)) / others)[aware_use])
    s2s = np.count_nonzero((reached > 0) & in_use) / n_use
    n2n = np.count_nonzero(st.item_field[in_use] == IMPORTED) / n_use
    return reach, aware, s2s, n2n


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
