"""The three fields of knowledge and how they move (seed 004; seed 001).

* practitioner knowledge: tacit craft knowledge, made explicit only through
  collaboration and enquiry;
* public knowledge: research and outside practice, brought in by enquiry;
* co-constructed knowledge: created by joint work with enquiry.

Every piece of knowledge has a true effect on pupil learning that agents do
not see.  What they see is a perceived effect: with internal accountability
(evidence use, seed 000) it tracks the true effect; without it, it is mostly
affirmation.  Items are chosen and adopted by perceived effect, so a network
without evidence spreads weak practice as easily as strong (seed 002).
"""

from __future__ import annotations

import numpy as np

from ..draws import draw_columns
from ..state import CO_CONSTRUCTED, DEEP, IMPORTED, JOINT_WORK, PROFOUND, SHALLOW
from .learning import depth_reached
from .partners import Interactions

VALUE_OF_TYPE = np.array([0.05, 0.1, 0.15, 0.25])  # felt value of an exchange by type
VALUE_OF_DEPTH = np.array([0.0, 0.05, 0.3, 0.5])    # felt value of what was learned
PICK_BLOCK = 1024  # exchanges per pass when drawing what is passed on


def perceive(model, true_effect: np.ndarray) -> np.ndarray:
    """Perceived effect: evidence (internal accountability) vs affirmation."""
    a = model.scenario.accountability.internal
    sd = model.scenario.knowledge.effect_sd
    return a * true_effect + (1 - a) * model.rng.normal(0.1, sd, np.shape(true_effect))


def item_weights(model) -> tuple[np.ndarray, np.ndarray]:
    """Weight of each item when choosing what to talk about or study.

    A clear focus concentrates attention on relevant items (seed 000 "Purpose
    and focus"); believed-effective items are preferred.
    """
    st = model.state
    c = 4.0 * model.scenario.purpose.clarity
    local = np.where(st.item_field >= 0, (0.05 + st.item_relevance) ** c * np.exp(2 * st.item_perceived), 0.0)
    public = (0.05 + st.pub_relevance) ** c * np.exp(2 * st.pub_perceived)
    return local, public


def _pick_better_known(model, src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each exchange, an item the source knows better than the recipient, drawn by weight.

    The same draw, to the last bit, as a running sum over every item column
    with the weights of items the source does not know better set to zero
    (the column where the running sum first exceeds the uniform draw times
    the total); but the sums are taken over those items only.  Where no
    running sum exceeds the draw, the last column is given.
    """
    st = model.state
    local_w, public_w = model.weights
    n, width = src.size, st.know.shape[1]
    table = st.item_table(local_w, public_w).reshape(-1)
    at = st.network[src].astype(np.int64) * width  # each source's row of ``table``
    draw = model.rng.random(n)  # one uniform draw per exchange, in exchange order
    chosen, total = np.empty(n, dtype=np.int64), np.empty(n)
    for start in range(0, n, PICK_BLOCK):  # in blocks, so the candidate tables stay in cache
        part = slice(start, start + PICK_BLOCK)
        chosen[part], total[part] = _draw_items(st.know[src[part]] > st.know[dst[part]], table, at[part], draw[part])
    return chosen, total > 0


def _draw_items(better: np.ndarray, table: np.ndarray, at: np.ndarray, draw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One block of :func:`_pick_better_known`: the chosen item column and the total weight, per exchange."""
    n, width = better.shape
    cells = np.flatnonzero(better)
    row = cells // width
    col = cells - row * width
    return draw_columns(row, col, table[at[row] + col], n, width, draw)


def allocate_slots(model, networks: np.ndarray) -> np.ndarray:
    """Free local item slots, one per request (network ids); -1 where a network is full."""
    st = model.state
    if networks.size == 0:
        return np.empty(0, dtype=np.int64)
    if (networks == networks[0]).all():  # one network asks (always so with one network): its first free slots, in order
        free = (st.item_field[networks[0]] < 0).nonzero()[0][: networks.size]
        return np.concatenate([free, np.full(networks.size - free.size, -1)])
    order = np.argsort(networks, kind="stable")
    sorted_nets = networks[order]
    rank_sorted = np.arange(networks.size) - np.searchsorted(sorted_nets, sorted_nets, side="left")
    rank = np.empty_like(rank_sorted)
    rank[order] = rank_sorted
    free = st.item_field[networks] < 0
    cum = np.cumsum(free, axis=1)
    hit = free & (cum == (rank + 1)[:, None])
    slot = hit.argmax(axis=1)
    return np.where(hit.any(axis=1), slot, -1)


def exchange(model, inter: Interactions) -> None:
    """Learning from each other: each partner passes one item to the other.

    The item is drawn from what the source knows better than the recipient,
    by weight (relevance to the focus, perceived effect), and passed with
    chance ``knowledge.transfer_chance`` (1 by default; below 1 it is the
    per-contact transmission chance b of simple contagion, the docking limit).
    Knowledge passed between networks is copied into the recipient network's
    own slots (network-to-network learning, seed 004 s6).
    """
    st = model.state
    keep = (~inter.conflict).nonzero()[0]
    if keep.size == 0:
        return
    i, j = inter.i[keep], inter.j[keep]
    src, dst = np.concatenate([i, j]), np.concatenate([j, i])
    kind = np.concatenate([inter.kind[keep]] * 2)
    diss = np.concatenate([inter.dissonance[keep]] * 2)
    col, ok = _pick_better_known(model, src, dst)
    transfer = model.scenario.knowledge.transfer_chance
    if transfer < 1.0:  # thinning; at the default of 1 no draw is needed
        ok &= model.rng.random(src.size) < transfer
    src, dst, kind, diss, col = src[ok], dst[ok], kind[ok], diss[ok], col[ok]
    S = st.slots
    is_local = col < S
    pub_perceived = st.pub_perceived if st.public else np.zeros(1)  # no public items: never indexed
    perceived = np.where(is_local, st.item_perceived[st.network[src], np.minimum(col, S - 1)],
                         pub_perceived[np.minimum(np.maximum(col - S, 0), pub_perceived.size - 1)])
    level = depth_reached(model, kind, diss, np.zeros(src.size, bool), st.know[src, col], perceived,
                          model.enquiry_of_school[st.school[dst]])
    col_dst = col.copy()
    foreign = is_local & (st.network[src] != st.network[dst])
    if foreign.any():
        col_dst[foreign] = _import(model, st.network[src[foreign]], col[foreign], st.network[dst[foreign]])
    ok = col_dst >= 0
    src, dst, col_dst, level, kind = src[ok], dst[ok], col_dst[ok], level[ok], kind[ok]
    before = st.know[dst, col_dst]
    st.learn(dst, col_dst, level)
    gained = (before < DEEP) & (level >= DEEP)
    np.add.at(st.deep_learned, dst[gained], 1)
    model.dirty[dst[gained]] = True
    np.add.at(model.week_value, dst, VALUE_OF_TYPE[kind] + VALUE_OF_DEPTH[np.where(level > before, level, 0)])


def _import(model, src_net, col, dst_net) -> np.ndarray:
    """Copy items of other networks into free slots of the recipient networks."""
    st = model.state
    slot = allocate_slots(model, dst_net)
    ok = slot >= 0
    d, s, n, c = dst_net[ok], slot[ok], src_net[ok], col[ok]
    st.item_effect[d, s] = st.item_effect[n, c]
    st.item_relevance[d, s] = st.item_relevance[n, c]
    st.item_perceived[d, s] = st.item_perceived[n, c]
    st.item_field[d, s] = IMPORTED
    st.item_school[d, s] = st.item_school[n, c]
    st.item_network[d, s] = st.item_network[n, c]
    st.item_created[d, s] = model.week
    return slot


def co_construct(model, inter: Interactions) -> None:
    """Learning with each other: joint work with enquiry creates new knowledge.

    Chance per successful joint-work episode: creation_rate x (0.3 + 0.7
    enquiry) x min(1, dissonance / 0.4) x (0.5 + support).  The new item's
    true effect mixes what the partners already enact (their quality) with
    what the evidence behind the focus promises, in proportion to enquiry;
    both partners hold it profoundly.
    """
    st, sc, rng = model.state, model.scenario, model.rng
    ok = (inter.kind == JOINT_WORK) & ~inter.conflict & (st.network[inter.i] == st.network[inter.j])
    i, j, diss = inter.i[ok], inter.j[ok], inter.dissonance[ok]
    enq = model.enquiry_of_school[st.school[i]]
    p = sc.knowledge.creation_rate * (0.3 + 0.7 * enq) * np.minimum(1.0, diss / 0.4) * (0.5 + sc.capacity.support)
    make = rng.random(i.size) < p
    i, j, enq = i[make], j[make], enq[make]
    if i.size == 0:
        return
    net = st.network[i]
    slot = allocate_slots(model, net)
    ok = slot >= 0
    i, j, enq, net, slot = i[ok], j[ok], enq[ok], net[ok], slot[ok]
    parents = (st.quality[i] + st.quality[j]) / 2
    promise = 0.05 + 0.3 * sc.purpose.evidence
    effect = (1 - enq) * parents + enq * promise + rng.normal(0, sc.knowledge.effect_sd * (1 - 0.5 * enq), i.size)
    c = sc.purpose.clarity
    st.item_effect[net, slot] = effect
    st.item_relevance[net, slot] = c * rng.uniform(0.6, 1.0, i.size) + (1 - c) * rng.random(i.size)
    st.item_perceived[net, slot] = perceive(model, effect)
    st.item_field[net, slot] = CO_CONSTRUCTED
    st.item_school[net, slot] = st.school[i]
    st.item_network[net, slot] = net
    st.item_created[net, slot] = model.week
    st.learn(np.concatenate([i, j]), np.concatenate([slot, slot]), PROFOUND)
    np.add.at(st.deep_learned, np.concatenate([i, j]), 1)
    model.dirty[i] = True
    model.dirty[j] = True
    np.add.at(model.week_value, np.concatenate([i, j]), 0.5)
    model.created += i.size


def enquire(model) -> None:
    """Enquiry brings public knowledge in (seed 004, three fields; seed 001 enquiry).

    A member teacher studies a piece of public knowledge this week with chance
    public_rate x school enquiry x time x engagement; besides, any teacher
    meets one outside the network (courses, reading) with chance
    ``enquiry.outside_rate`` (0 by default; the Bass innovation rate p in the
    docking limit).  Study alone is shallow; for a member in a school whose
    enquiry lead function is done well it is deep with chance
    0.3 x (0.5 + support) x enquiry-lead effect.
    """
    st, sc, rng = model.state, model.scenario, model.rng
    if st.public == 0:
        return
    enq = model.enquiry_of_school[np.maximum(st.school, 0)]
    p = sc.enquiry.outside_rate + st.member * sc.enquiry.public_rate * enq * st.time * st.engagement
    draws = rng.random(st.rows)
    who = (st.alive & (draws < p)).nonzero()[0]
    _, public_w = model.weights
    cum = np.cumsum(public_w)  # every studying teacher draws from the same public weights
    u = rng.random(who.size) * cum[-1]
    col = np.minimum(cum.searchsorted(u, side="right"), public_w.size - 1)
    lead = model.function_effect[st.school[who], 0]
    deep = (rng.random(who.size) < 0.3 * (0.5 + sc.capacity.support) * lead) & st.member[who]
    if who.size == 0 or cum[-1] <= 0:  # nobody studies, or no public item can be drawn; the draws above are made either way
        return
    col = col + st.slots
    level = np.where(deep, DEEP, SHALLOW).astype(np.int8)
    before = st.know[who, col]
    st.learn(who, col, level)
    gained = (before < DEEP) & (level >= DEEP)
    np.add.at(st.deep_learned, who[gained], 1)
    model.dirty[who[gained]] = True
    np.add.at(model.week_value, who, VALUE_OF_DEPTH[np.where(level > before, level, 0)])


def forget(model) -> None:
    """Free the slots of local items nobody in the network holds any more."""
    st = model.state
    schools, levels = st.school_knowledge()
    school, col = np.divmod(np.flatnonzero(levels != 0), st.slots)
    held = np.zeros((st.net_alive.size, st.slots), dtype=bool)
    held[st.school_network[schools[school]], col] = True
    gone = (st.item_field >= 0) & ~held
    st.item_field[gone] = -1
    st.item_school[gone] = -1
    st.item_network[gone] = -1
