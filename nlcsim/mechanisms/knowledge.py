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

from ..draws import draw_one
from ..jit import njit
from ..state import CO_CONSTRUCTED, DEEP, IMPORTED, JOINT_WORK, PROFOUND, SHALLOW, learn_pairs
from .learning import belief, depth
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
    table = st.item_table(local_w, public_w).reshape(-1)
    at = st.network.take(src).astype(np.int64) * st.know.shape[1]  # each source's row of ``table``
    draw = model.rng.random(src.size)  # one uniform draw per exchange, in exchange order
    chosen, total = _draw_better_known(st.know, know_words(st.know), table, at, src, dst, draw, PICK_BLOCK)
    return chosen, total > 0


def know_words(know: np.ndarray) -> np.ndarray:
    """The knowledge matrix as 64-bit words, eight item columns each (no copy), for
    :func:`_draw_better_known`; no words where its rows do not split into whole words."""
    if know.shape[1] % 8 or not know.flags.c_contiguous:
        return np.zeros((know.shape[0], 0), dtype=np.uint64)
    return know.view(np.uint64)


_LOW7 = np.uint64(0x7F7F7F7F7F7F7F7F)
_HIGH = np.uint64(0x8080808080808080)
_GATHER = np.uint64(0x0102040810204080)  # bits 0, 8, ..., 56 times this: the eight bits in the top byte
_BIT_COUNT = np.array([bin(v).count("1") for v in range(256)], dtype=np.int64)
_BIT_AT = np.array([[b for b in range(8) if v >> b & 1] + [0] * (8 - bin(v).count("1")) for v in range(256)],
                   dtype=np.int64)  # each byte's set bits, lowest first


@njit
def _draw_better_known(know, words, table, at, src, dst, draw, block):
    """:func:`_pick_better_known`'s loop: the chosen column and the total weight, per
    exchange; the running sum (:mod:`nlcsim.draws`) starts again every ``block`` exchanges.

    The candidates are the columns where the source's level is above the
    recipient's, in column order.  They are found eight columns at a time on the
    words of ``know`` (``words``): levels are 0-3, so in each byte
    x + (0x7F - y) has its top bit set exactly where x > y, with no carry or
    borrow between bytes; a word with no such byte is passed over at once.
    Columns beyond the whole words are compared one by one.
    """
    n, width = src.size, know.shape[1]
    n_words = words.shape[1]
    chosen = np.full(n, width - 1, dtype=np.int64)
    total = np.empty(n)
    cand = np.empty(width, dtype=np.int64)
    weight = np.empty(width)
    running = 0.0
    for e in range(n):
        if e % block == 0:
            running = 0.0
        s, d, a = src[e], dst[e], at[e]
        k = 0
        for w in range(n_words):
            mask = (words[s, w] + (_LOW7 - words[d, w])) & _HIGH
            if mask:
                # The byte flags gathered into one byte (bit b: column 8w + b), then its set bits in order.
                flags = ((mask >> np.uint64(7)) * _GATHER) >> np.uint64(56)
                for t in range(_BIT_COUNT[flags]):
                    c = 8 * w + _BIT_AT[flags, t]
                    cand[k], weight[k] = c, table[a + c]
                    k += 1
        for c in range(8 * n_words, width):
            if know[s, c] > know[d, c]:
                cand[k], weight[k] = c, table[a + c]
                k += 1
        pick, running, total[e] = draw_one(weight, k, running, draw[e])
        if pick >= 0:
            chosen[e] = cand[pick]
    return chosen, total


def allocate_slots(model, networks: np.ndarray) -> np.ndarray:
    """Free local item slots, one per request (network ids); -1 where a network is full."""
    return free_slots(model.state.item_field, networks)


@njit
def free_slots(item_field, networks):
    """:func:`allocate_slots` on the item table: each network's requests, in order, take
    its free slots in order (the free slots before any request is served)."""
    slots = item_field.shape[1]
    slot = np.full(networks.size, -1, dtype=np.int64)
    look = np.zeros(item_field.shape[0], dtype=np.int64)  # each network: the first slot not yet looked at
    for k in range(networks.size):
        n = networks[k]
        c = look[n]
        while c < slots and item_field[n, c] >= 0:
            c += 1
        if c < slots:
            slot[k] = c
            c += 1
        look[n] = c
    return slot


def exchange(model, inter: Interactions) -> None:
    """Learning from each other: each partner passes one item to the other.

    The item is drawn from what the source knows better than the recipient,
    by weight (relevance to the focus, perceived effect), and passed with
    chance ``knowledge.transfer_chance`` (1 by default; below 1 it is the
    per-contact transmission chance b of simple contagion, the docking limit).
    The recipient learns it to the depth :func:`~.learning.depth` gives.
    Knowledge passed between networks is copied into the recipient network's
    own slots (network-to-network learning, seed 004 s6).
    """
    st, sc, rng = model.state, model.scenario, model.rng
    keep = (~inter.conflict).nonzero()[0]
    if keep.size == 0:
        return
    i, j = inter.i.take(keep), inter.j.take(keep)
    src, dst = np.concatenate([i, j]), np.concatenate([j, i])
    col, ok = _pick_better_known(model, src, dst)
    transfer = sc.knowledge.transfer_chance
    if transfer < 1.0:  # thinning; at the default of 1 no draw is needed
        ok &= rng.random(src.size) < transfer
    passed = ok.nonzero()[0]
    u_deep, u_prof = rng.random(passed.size), rng.random(passed.size)  # two draws per item passed on
    pair = keep.take(passed % keep.size)  # each passing's interaction
    believed = belief(st.item_table(st.item_perceived, st.pub_perceived)).reshape(-1)
    _take_up(st.know, st.school_flags(), st.school, st.network, st.slots,
             src.take(passed), dst.take(passed), col.take(passed), inter.kind.take(pair),
             inter.dissonance.take(pair), u_deep, u_prof, believed, model.enquiry_of_school,
             sc.capacity.support, sc.mechanisms.learning,
             st.item_effect, st.item_relevance, st.item_perceived, st.item_field, st.item_school,
             st.item_network, st.item_created, model.week, st.deep_learned, model.dirty, model.week_value)


@njit
def _take_up(know, school_or, school, network, slots, src, dst, col, kind, diss, u_deep, u_prof,
             believed, enquiry, support, learning, item_effect, item_relevance, item_perceived,
             item_field, item_school, item_network, item_created, week, deep_learned, dirty, week_value):
    """:func:`exchange` once the items are drawn: the depth each recipient reaches,
    items of other networks copied into the recipient network's free slots (an item
    that finds none is not passed), then what is learned, counted and valued.
    Every depth is read before anything is learned."""
    n, width = src.size, know.shape[1]
    level = np.empty(n, dtype=np.int8)
    for e in range(n):
        held = know[src[e], col[e]]
        if learning:
            level[e] = depth(kind[e], diss[e], held, believed[network[src[e]] * width + col[e]],
                             enquiry[school[dst[e]]], u_deep[e], u_prof[e], support)
        else:
            level[e] = held
    into = col.copy()
    foreign = np.flatnonzero((col < slots) & (network.take(src) != network.take(dst)))
    if foreign.size:
        slot = free_slots(item_field, network.take(dst.take(foreign)))
        for k in range(foreign.size):
            e, s = foreign[k], slot[k]
            into[e] = s
            if s < 0:
                continue
            d, f, c = network[dst[e]], network[src[e]], col[e]
            item_effect[d, s] = item_effect[f, c]
            item_relevance[d, s] = item_relevance[f, c]
            item_perceived[d, s] = item_perceived[f, c]
            item_field[d, s] = IMPORTED
            item_school[d, s] = item_school[f, c]
            item_network[d, s] = item_network[f, c]
            item_created[d, s] = week
    done = np.flatnonzero(into >= 0)
    rows, cols, levels = dst.take(done), into.take(done), level.take(done)
    before = np.empty(done.size, dtype=np.int8)
    for k in range(done.size):
        before[k] = know[rows[k], cols[k]]
    learn_pairs(know, school_or, school, slots, rows, cols, levels)
    for k in range(done.size):
        r = rows[k]
        if before[k] < DEEP and levels[k] >= DEEP:
            deep_learned[r] += 1
            dirty[r] = True
        week_value[r] += VALUE_OF_TYPE[kind[done[k]]] + VALUE_OF_DEPTH[levels[k] if levels[k] > before[k] else 0]


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
