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

from ..draws import BLOCK, draw_in_sums, first_above
from ..jit import in_parts, joined, njit
from ..state import (CO_CONSTRUCTED, DEEP, IMPORTED, JOINT_WORK, PROFOUND, SHALLOW, above, know_words,
                     learn_pairs, list_flagged, lowest_bit)
from .learning import belief, depth
from .partners import Interactions

VALUE_OF_TYPE = np.array([0.05, 0.1, 0.15, 0.25])  # felt value of an exchange by type
VALUE_OF_DEPTH = np.array([0.0, 0.05, 0.3, 0.5])    # felt value of what was learned
AHEAD = 3  # exchanges ahead whose rows the exchange draw touches (_draw_better_known)


def perceive(model, true_effect: np.ndarray) -> np.ndarray:
    """Perceived effect: evidence (internal accountability) vs affirmation."""
    a = model.scenario.accountability.internal
    sd = model.scenario.knowledge.effect_sd
    return a * true_effect + (1 - a) * model.rng.normal(0.1, sd, np.shape(true_effect))


def item_weights(model) -> tuple[np.ndarray, np.ndarray]:
    """Weight of each item when choosing what to talk about or study: the local
    items' (networks x slots, 0 in a free slot) and the public items'.

    A clear focus concentrates attention on relevant items (seed 000 "Purpose
    and focus"); believed-effective items are preferred.  An item's weight
    changes only when its slot is written, so the model keeps the local
    weights and brings them up to date where a phase writes items
    (:func:`refresh_items`); the public items never change, and their weights
    are worked out once (:func:`public_weights`).
    """
    return model.local_weights, model.public_weights


def refresh_items(model, networks: np.ndarray | None = None, slots: np.ndarray | None = None) -> None:
    """Bring the model's kept weight (:func:`item_weights`) and belief
    (:func:`~.learning.belief`) of local items up to date with the item table, for
    the slots ``(networks, slots)`` just written, created, copied or freed (every
    slot where None).  Every phase that writes the item table calls it."""
    st = model.state
    clarity = model.scenario.purpose.clarity
    if networks is None:
        model.local_weights, model.local_belief = _kept(st.item_field, st.item_relevance, st.item_perceived, clarity)
    elif networks.size:
        at = (networks, slots)
        model.local_weights[at], model.local_belief[at] = _kept(st.item_field[at], st.item_relevance[at],
                                                                st.item_perceived[at], clarity)


def _kept(field: np.ndarray, relevance: np.ndarray, perceived: np.ndarray, clarity: float) -> tuple:
    """What :func:`refresh_items` keeps of items: the weight (0 in a free slot) and the belief."""
    return np.where(field >= 0, _weight(relevance, perceived, clarity), 0.0), belief(perceived)


def public_weights(model) -> np.ndarray:
    """:func:`item_weights` of the public items."""
    return _weight(model.state.pub_relevance, model.state.pub_perceived, model.scenario.purpose.clarity)


def _weight(relevance: np.ndarray, perceived: np.ndarray, clarity: float) -> np.ndarray:
    """An item's weight: (0.05 + relevance)^(4 clarity) x exp(2 x perceived effect)."""
    return (0.05 + relevance) ** (4.0 * clarity) * np.exp(2 * perceived)


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
    draw = model.rng.random(src.size)  # one uniform draw per exchange, in exchange order
    words = know_words(st.know)

    def part(start, stop):  # whole blocks of exchanges, each with its own running sum
        return _draw_better_known(st.know, words, local_w, public_w, st.network, src[start:stop], dst[start:stop],
                                  draw[start:stop], BLOCK)

    chosen, total = joined(in_parts(part, src.size, BLOCK, least=4 * BLOCK))
    return chosen, total > 0


@njit
def _draw_better_known(know, words, local_w, public_w, network, src, dst, draw, block):
    """:func:`_pick_better_known`'s loop: the chosen column and the total weight, per
    exchange; the running sum (:mod:`nlcsim.draws`) starts again every ``block`` exchanges.

    The candidates are the columns where the source's level is above the
    recipient's, in column order.  They are found eight columns at a time on the
    words of ``know`` (``words``, compared by :func:`~nlcsim.state.above`).  A row's words are all compared first, and those with
    a candidate noted as the bits of one 64-bit word, which are then visited
    lowest first (:func:`~nlcsim.state.lowest_bit`): a branch on each word, which
    often goes either way, cost more than the comparing.  A word's candidates
    are written all eight at once from a table of each byte's set bits (only
    the first ones count), which spares a branch per candidate.  Columns beyond
    the first 64 whole words (512 columns) are compared one by one.

    The two rows of an exchange lie anywhere in the matrix (6.5 MiB in England),
    so each exchange first reads a word in every 64 bytes (a cache line) of the
    rows of the exchange ``AHEAD`` places on, which sets them on their way to the cache
    while this exchange is worked out (the words are XORed into one kept in
    ``masks``, so that the reads are not dropped).  Timed in England runs from
    week 20, one thread: 0.85-0.92 of the time without (medians of four runs of 6-8 pairs).
    """
    n, width = src.size, know.shape[1]
    n_words, slots = min(words.shape[1], 64), local_w.shape[1]  # the words one 64-bit word of flags covers
    table = np.empty(width)  # the source's network's weights, in the columns of ``know``
    table[slots:] = public_w
    table_of = -1
    chosen = np.full(n, width - 1, dtype=np.int64)
    total = np.empty(n)
    cand = np.empty(width, dtype=np.int64)  # before word w at most 8w candidates, so its eight writes fit
    sums = np.empty(width)
    masks = np.empty(64, dtype=np.uint64)
    running = 0.0
    sink = np.uint64(0)
    for e in range(n):
        if e % block == 0:
            running = 0.0
        s, d = src[e], dst[e]
        if e + AHEAD < n and n_words:  # a later exchange's rows touched: a word in every 64 bytes, and the last
            s2, d2 = src[e + AHEAD], dst[e + AHEAD]
            for q in range(0, n_words, 8):
                sink ^= words[s2, q] ^ words[d2, q]
            sink ^= words[s2, n_words - 1] ^ words[d2, n_words - 1]
        if e == 0 or network[s] != table_of:
            table_of = network[s]
            table[:slots] = local_w[table_of]
        found = np.uint64(0)  # bit w: word w has a candidate
        for w in range(n_words):
            mask = above(words[s, w], words[d, w])
            masks[w] = mask
            found |= np.uint64(mask != 0) << np.uint64(w)
        k = 0
        while found:
            w = lowest_bit(found)
            found &= found - np.uint64(1)
            k = list_flagged(masks[w], 7, w, cand, k)
        for c in range(8 * n_words, width):
            if know[s, c] > know[d, c]:
                cand[k] = c
                k += 1
        first = running
        for t in range(k):
            running += table[cand[t]]
            sums[t] = running
        pick, total[e] = draw_in_sums(sums, k, first, draw[e])
        if pick >= 0:
            chosen[e] = cand[pick]
    masks[0] = sink  # (kept, so the touches are not dropped)
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
    src, dst, pair = _exchanges(inter.i, inter.j, inter.conflict)
    if src.size == 0:
        return
    col, ok = _pick_better_known(model, src, dst)
    transfer = sc.knowledge.transfer_chance
    if transfer < 1.0:  # thinning; at the default of 1 no draw is needed
        ok &= rng.random(src.size) < transfer
    passed = ok.nonzero()[0]
    u = rng.random(2 * passed.size)  # two draws per item passed on: all the first draws, then all the second
    copied = _take_up(st.know, st.school_flags(), st.school, st.network, st.slots, src, dst, col, pair, passed,
                      inter.kind, inter.dissonance, u[: passed.size], u[passed.size:],
                      model.local_belief, model.public_belief, model.enquiry_of_school,
             sc.capacity.support, sc.mechanisms.learning,
                      st.item_effect, st.item_relevance, st.item_perceived, st.item_field, st.item_school,
                      st.item_network, st.item_created, model.week, st.deep_learned, model.dirty, model.week_value)
    refresh_items(model, *copied)


@njit
def _exchanges(i, j, conflict):
    """Both directions of each interaction that did not end in conflict: every
    initiator's passing to its partner first, then every partner's back; the
    sources, the recipients and each exchange's interaction."""
    n = 0
    for e in range(conflict.size):
        n += not conflict[e]
    src = np.empty(2 * n, dtype=np.int64)
    dst = np.empty(2 * n, dtype=np.int64)
    pair = np.empty(2 * n, dtype=np.int64)
    k = 0
    for e in range(conflict.size):
        if not conflict[e]:
            src[k], dst[k], pair[k] = i[e], j[e], e
            src[n + k], dst[n + k], pair[n + k] = j[e], i[e], e
            k += 1
    return src, dst, pair


@njit
def _take_up(know, school_or, school, network, slots, src, dst, col, pair, passed, kinds, dissonance, u_deep,
             u_prof, believed_local, believed_public, enquiry, support, learning, item_effect, item_relevance,
             item_perceived, item_field, item_school, item_network, item_created, week, deep_learned, dirty,
             week_value):
    """:func:`exchange` once the items are drawn, for the exchanges ``passed``: the
    depth each recipient reaches, items of other networks copied into the recipient
    network's free slots (an item that finds none is not passed), then what is
    learned, counted and valued.  Every depth is read before anything is learned.
    Returns the networks and slots the copies were written to."""
    src, dst, col = src[passed], dst[passed], col[passed]
    kind, diss = kinds[pair[passed]], dissonance[pair[passed]]
    n = src.size
    level = np.empty(n, dtype=np.int8)
    for e in range(n):
        held = know[src[e], col[e]]
        if learning:
            c = col[e]
            believed = believed_local[network[src[e]], c] if c < slots else believed_public[c - slots]
            level[e] = depth(kind[e], diss[e], held, believed, enquiry[school[dst[e]]], u_deep[e], u_prof[e], support)
        else:
            level[e] = held
    into = col.copy()
    foreign = np.flatnonzero((col < slots) & (network.take(src) != network.take(dst)))
    copied_net = np.empty(foreign.size, dtype=np.int64)
    copied_slot = np.empty(foreign.size, dtype=np.int64)
    n_copied = 0
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
            copied_net[n_copied], copied_slot[n_copied] = d, s
            n_copied += 1
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
    return copied_net[:n_copied], copied_slot[:n_copied]


def co_construct(model, inter: Interactions) -> None:
    """Learning with each other: joint work with enquiry creates new knowledge.

    Chance per successful joint-work episode: creation_rate x (0.3 + 0.7
    enquiry) x min(1, dissonance / 0.4) x (0.5 + support).  The new item's
    true effect mixes what the partners already enact (their quality) with
    what the evidence behind the focus promises, in proportion to enquiry;
    both partners hold it profoundly.
    """
    st, sc, rng = model.state, model.scenario, model.rng
    at, p = _joint_work(inter.kind, inter.conflict, inter.i, inter.j, inter.dissonance, st.network, st.school,
                        model.enquiry_of_school, sc.knowledge.creation_rate, 0.5 + sc.capacity.support)
    i, j, net, slot, enq, parents = _creators(at, p, rng.random(at.size), inter.i, inter.j, st.school, st.network,
                                              model.enquiry_of_school, st.item_field, st.quality)
    if i.size == 0:  # (the draws below, of no numbers, would change nothing)
        return
    n = i.size
    effect = _effects(enq, parents, 0.05 + 0.3 * sc.purpose.evidence, sc.knowledge.effect_sd, rng.standard_normal(n))
    c = sc.purpose.clarity
    relevance = c * rng.uniform(0.6, 1.0, n) + (1 - c) * rng.random(n)
    _new_items(i, j, net, slot, effect, relevance, perceive(model, effect), st.school, model.week,
               st.item_effect, st.item_relevance, st.item_perceived, st.item_field, st.item_school, st.item_network,
               st.item_created, st.know, st.school_flags(), st.slots, st.deep_learned, model.dirty, model.week_value)
    refresh_items(model, net, slot)
    model.created += n


@njit
def _creators(at, p, draws, inter_i, inter_j, school, network, enquiry, item_field, quality):
    """The joint-work episodes ``at`` whose draw is below their chance ``p`` and whose
    network has a free item slot for the new item (slots taken in order,
    :func:`free_slots`): the initiators, the partners, the network, the slot, the
    initiator's school's enquiry and the partners' mean quality."""
    made = np.empty(at.size, dtype=np.int64)
    m = 0
    for e in range(at.size):
        made[m] = at[e]
        m += draws[e] < p[e]
    made = made[:m]
    i, j = inter_i.take(made), inter_j.take(made)
    net = network.take(i)
    slot = free_slots(item_field, net)
    n = 0
    for e in range(m):
        if slot[e] >= 0:
            i[n], j[n], net[n], slot[n] = i[e], j[e], net[e], slot[e]
            n += 1
    i, j, net, slot = i[:n], j[:n], net[:n], slot[:n]
    enq = np.empty(n)
    parents = np.empty(n)
    for e in range(n):
        enq[e] = enquiry[school[i[e]]]
        parents[e] = (quality[i[e]] + quality[j[e]]) / 2
    return i, j, net, slot, enq, parents


@njit
def _effects(enq, parents, promise, sd, z):
    """New items' true effects: (1 - enquiry) x the partners' mean quality + enquiry x
    the focus's promise + sd x (1 - enquiry / 2) x a standard normal draw ``z``."""
    effect = np.empty(enq.size)
    for e in range(enq.size):
        effect[e] = (1 - enq[e]) * parents[e] + enq[e] * promise + (0.0 + sd * (1 - 0.5 * enq[e]) * z[e])
    return effect


@njit
def _new_items(i, j, net, slot, effect, relevance, perceived, school, week, item_effect, item_relevance,
               item_perceived, item_field, item_school, item_network, item_created, know, school_or, slots,
               deep_learned, dirty, week_value):
    """:func:`co_construct`'s new items written into their networks' slots, and held
    profoundly by both partners (the initiators first, then the partners), each
    partner counted, marked and valued once per item."""
    for k in range(i.size):
        n, c = net[k], slot[k]
        item_effect[n, c] = effect[k]
        item_relevance[n, c] = relevance[k]
        item_perceived[n, c] = perceived[k]
        item_field[n, c] = CO_CONSTRUCTED
        item_school[n, c] = school[i[k]]
        item_network[n, c] = n
        item_created[n, c] = week
    rows = np.concatenate((i, j))
    cols = np.concatenate((slot, slot))
    learn_pairs(know, school_or, school, slots, rows, cols, np.full(rows.size, PROFOUND, dtype=np.int8))
    for r in rows:
        deep_learned[r] += 1
        dirty[r] = True
        week_value[r] += 0.5


@njit
def _joint_work(kind, conflict, i, j, dissonance, network, school, enquiry, rate, support):
    """:func:`co_construct`'s candidates: the successful joint-work episodes within a
    network (their positions) and each one's chance of creating knowledge.  Every
    interaction is written at the next place and kept where it is one, without a
    branch on its type, which goes either way."""
    at = np.empty(kind.size, dtype=np.int64)
    p = np.empty(kind.size)
    n = 0
    for e in range(kind.size):
        enq = enquiry[school[i[e]]]
        at[n] = e
        p[n] = rate * (0.3 + 0.7 * enq) * min(1.0, dissonance[e] / 0.4) * support
        n += (kind[e] == JOINT_WORK) & (not conflict[e]) & (network[i[e]] == network[j[e]])
    return at[:n], p[:n]


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
    who = _studying(rng.random(st.rows), st.alive, st.member, st.school, st.time, st.engagement,
                    model.enquiry_of_school, sc.enquiry.outside_rate, sc.enquiry.public_rate)
    _, public_w = model.weights
    draws = rng.random(2 * who.size)  # which item, then whether deeply: two draws per studying teacher
    _study(who, draws[: who.size], draws[who.size:], public_w, model.function_effect, st.know, st.school,
           st.member, st.slots, 0.3 * (0.5 + sc.capacity.support), st.deep_learned, model.dirty, model.week_value)


@njit
def _studying(draws, alive, member, school, time, engagement, enquiry, outside, public_rate):
    """:func:`enquire`'s teachers who study this week, in row order: chance outside +
    member x public_rate x school enquiry x time x engagement (a row without a school
    reads the first school's enquiry; it is not alive)."""
    who = np.empty(draws.size, dtype=np.int64)
    n = 0
    for r in range(draws.size):
        p = outside + (public_rate if member[r] else 0.0) * enquiry[max(school[r], 0)] * time[r] * engagement[r]
        if alive[r] and draws[r] < p:
            who[n] = r
            n += 1
    return who[:n]


@njit
def _study(who, u_item, u_deep, public_w, function_effect, know, school, member, slots, deep_rate,
           deep_learned, dirty, week_value):
    """:func:`enquire` once the teachers are drawn: each studies a public item drawn by
    weight (the first whose running sum exceeds the draw times the total), deeply with
    chance ``deep_rate`` x the school's enquiry-lead effect if a member, else shallowly;
    what is learned is counted and valued.  Nothing is learned if no item has weight."""
    n_pub = public_w.size
    cum = np.empty(n_pub)
    running = 0.0
    for c in range(n_pub):
        running += public_w[c]
        cum[c] = running
    total = cum[n_pub - 1]
    if who.size == 0 or total <= 0:
        return
    for k in range(who.size):
        r = who[k]
        col = min(first_above(cum, n_pub, u_item[k] * total), n_pub - 1) + slots
        deep = u_deep[k] < deep_rate * function_effect[school[r], 0] and member[r]
        level = DEEP if deep else SHALLOW
        before = know[r, col]
        if before < level:
            know[r, col] = level
        if before < DEEP and level >= DEEP:
            deep_learned[r] += 1
            dirty[r] = True
        week_value[r] += VALUE_OF_DEPTH[level if level > before else 0]


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
    refresh_items(model, *np.nonzero(gone))
