"""The model's state: plain NumPy arrays, one row per teacher slot.

Every mechanism reads and writes these arrays; the Mesa agents in
:mod:`nlcsim.agents` are thin views over them.  Rows are reused: a teacher who
leaves frees a row and the replacement takes it, so arrays keep their shape.

Ties are stored in fixed-width adjacency slots (``nbr``) with the reverse slot
(``rev``) so that both ends of an undirected tie can be updated together:
``nbr[i, a] == j`` and ``nbr[j, rev[i, a]] == i``.  Trust lives on both ends
and is always kept equal.

Knowledge is a teacher x item matrix of depth levels (0 none, 1 shallow,
2 deep, 3 profound; seed 004, "Learning with each other").  The first
``slots`` columns are items local to the teacher's network (practitioner and
co-constructed knowledge, and knowledge imported from other networks); the
remaining columns are public knowledge shared by everyone.
"""

from __future__ import annotations

import numpy as np
from numba.cpython.unsafe.numbers import trailing_zeros  # an intrinsic: one instruction

from .jit import njit

# Little's four types of collaboration (seed 000, "Collaboration").
STORYTELLING, AID, SHARING, JOINT_WORK = 0, 1, 2, 3
COLLABORATION_TYPES = ("storytelling", "aid", "sharing", "joint_work")

# Learning depth (seed 004, "Learning with each other").
NONE, SHALLOW, DEEP, PROFOUND = 0, 1, 2, 3

# Fields of knowledge (seed 004): where an item came from.
PRACTITIONER, PUBLIC, CO_CONSTRUCTED, IMPORTED = 0, 1, 2, 3

# School membership states (MODEL-BRIEF, School).
ACTIVE, DORMANT, LEFT = 0, 1, 2

# Leadership functions held in each school (seed 000 "Leadership";
# seed 003 "Leadership as cross-cultural brokering"; seed 001 inclusion).
ENQUIRY_LEAD, BROKERING, ONBOARDING, FACILITATION = 0, 1, 2, 3
FUNCTIONS = ("enquiry_lead", "brokering", "onboarding", "facilitation")

# The knowledge matrix read eight columns at a time: its rows as 64-bit words
# (:func:`know_words`), a byte a column.  Levels are 0-3, so a test on each
# byte leaves one flag bit per byte; shifted to bit 0 of every byte and times
# GATHER, the eight flags land in the top byte (bit b: column 8w + b), and
# BIT_AT lists that byte's set bits, lowest first (BIT_COUNT of them).
GATHER = np.uint64(0x0102040810204080)
BIT_COUNT = np.array([bin(v).count("1") for v in range(256)], dtype=np.int64)
BIT_AT = np.array([[b for b in range(8) if v >> b & 1] + [0] * (8 - bin(v).count("1")) for v in range(256)],
                  dtype=np.int64)


_LOW7 = np.uint64(0x7F7F7F7F7F7F7F7F)
_HIGH = np.uint64(0x8080808080808080)  # the top bit of every byte


@njit
def above(x, y):
    """The top bit of each byte of the words ``x`` and ``y`` set where ``x``'s level
    (0-3) is above ``y``'s: in each byte x + (0x7F - y) has its top bit set exactly
    where x > y, with no carry or borrow between bytes."""
    return (x + (_LOW7 - y)) & _HIGH


@njit
def list_flagged(mask, shift, w, cols, k):
    """Append to ``cols[k:]``, in column order, the columns of word ``w`` whose byte has
    bit ``shift`` set in ``mask`` (a mask with no other bits set); return ``k`` plus
    their number.  Eight columns are written whatever their number, so ``cols`` needs
    room for eight from ``k`` (only the first ones count)."""
    flags = ((mask >> np.uint64(shift)) * GATHER) >> np.uint64(56)
    for t in range(8):
        cols[k + t] = 8 * w + BIT_AT[flags, t]
    return k + BIT_COUNT[flags]


@njit
def lowest_bit(x):
    """The place (0-63) of the lowest set bit of the 64-bit word ``x`` (not zero)."""
    return trailing_zeros(x)


def know_words(know: np.ndarray) -> np.ndarray:
    """The knowledge matrix as 64-bit words, eight item columns each (no copy); no
    words where its rows do not split into whole words (the columns are then read
    one by one)."""
    if know.shape[1] % 8 or not know.flags.c_contiguous:
        return np.zeros((know.shape[0], 0), dtype=np.uint64)
    return know.view(np.uint64)


# Per-teacher fields: name -> (dtype, fill value).  grow() uses this list.
TEACHER_FIELDS: dict[str, tuple[type, object]] = {
    "alive": (bool, False),
    "school": (np.int32, -1),
    "network": (np.int32, -1),
    "member": (bool, False),
    "pioneer": (bool, False),
    "is_head": (bool, False),
    "is_broker": (bool, False),
    "is_leader": (bool, False),
    "base": (np.float64, 0.0),        # practice before any network knowledge
    "prior": (np.float64, 0.0),       # practice on joining, craft knowledge included
    "practice": (np.float64, 0.0),    # enacted practice in the network's focus, 0-1
    "target": (np.float64, 0.0),      # practice that deep knowledge supports, 0-1
    "quality": (np.float64, 0.0),     # mean true effect of deeply held knowledge
    "engagement": (np.float64, 0.0),  # 0-1
    "engagement0": (np.float64, 0.0),
    "value": (np.float64, 0.0),       # perceived value of recent collaboration (EMA)
    "time": (np.float64, 0.0),        # time for collaboration this week, 0-1
    "joined": (np.int32, 0),          # week the teacher joined the school
    "deep_learned": (np.int32, 0),    # items learned to depth >= deep in the network
    "last_active": (np.int32, -10_000),
    "fill": (np.int32, 0),            # slots that may hold a tie: every slot from here on is empty
}


_NO_FLAGS = np.zeros((0, 0), dtype=np.uint8)  # school flags not kept yet: nothing to raise


@njit
def rebuild_flags(know, alive, school, school_or, stale) -> None:
    """The rows of the school matrix ``school_or`` (:meth:`State.school_knowledge`) of
    the ``stale`` schools, ORed again from their living staff's levels (a level's
    flags are ``level | level >> 1``); no school is stale afterwards."""
    if not stale.any():
        return
    slots = school_or.shape[1]
    for s in range(stale.size):
        if stale[s]:
            school_or[s, :] = 0
    for r in range(alive.size):
        if alive[r] and stale[school[r]]:
            s = school[r]
            for c in range(slots):
                school_or[s, c] |= flags_of(know[r, c])
    stale[:] = False


@njit
def flags_of(level):
    """A knowledge level's flags in the school matrix: bit 0 any, bit 1 deep (0, 1, 3, 3)."""
    return np.uint8(level | (level >> 1))


@njit
def learn_pairs(know, school_or, school, slots, rows, cols, levels) -> None:
    """:meth:`State.learn`'s loop: each pair's level raised in ``know`` and, for local
    items, its flags (``level | level >> 1``) raised in the school matrix ``school_or``
    (empty where it is not kept yet).

    The flags of levels 0-3 are 0, 1, 3 and 3, each holding the bits of those below
    (and so does every entry of the school matrix, an OR of such flags): ORing one in
    is raising to it.
    """
    flags_kept = school_or.shape[0] > 0
    for k in range(rows.size):
        r, c, level = rows[k], cols[k], levels[k]
        if know[r, c] < level:
            know[r, c] = level
        if flags_kept and c < slots:
            flags = flags_of(level)
            s = school[r]
            if school_or[s, c] < flags:
                school_or[s, c] = flags


@njit
def add_tie_batch(nbr, rev, trust, last_used, last_type, fill, a, b, t, week):
    """:meth:`State.add_ties`: the pairs kept are those with both ends (no -1), each end
    appearing once among such pairs (which drops self-pairs), a free slot at each end and
    no tie between them yet, all judged on the ties before the batch; each kept pair
    takes the first free slot at each end.  The kept pairs' ends are distinct, so writing
    them in turn is writing them at once.  Returns how many were added."""
    n, degree = a.size, nbr.shape[1]
    times = np.zeros(nbr.shape[0], dtype=np.int32)
    for e in range(n):
        if a[e] >= 0 and b[e] >= 0:
            times[a[e]] += 1
            times[b[e]] += 1
    added = 0
    for e in range(n):
        i, j = a[e], b[e]
        if i < 0 or j < 0 or times[i] != 1 or times[j] != 1:
            continue
        si, sj = first_free(nbr, fill, i), first_free(nbr, fill, j)
        if tie_slot(nbr, fill, i, j) >= 0 or si >= degree or sj >= degree:
            continue
        nbr[i, si], nbr[j, sj] = j, i
        rev[i, si], rev[j, sj] = sj, si
        trust[i, si] = trust[j, sj] = t[e]
        last_used[i, si] = last_used[j, sj] = week
        last_type[i, si] = last_type[j, sj] = -1
        fill[i], fill[j] = max(fill[i], si + 1), max(fill[j], sj + 1)
        added += 1
    return added


@njit
def first_free(nbr, fill, r):
    """The first empty slot of row ``r`` (the slot count if none): a gap below its fill, or the fill."""
    for s in range(fill[r]):
        if nbr[r, s] < 0:
            return s
    return fill[r]


@njit
def tie_slot(nbr, fill, i, j):
    """The slot of the tie i-j in row ``i``, or -1 where there is none."""
    for s in range(fill[i]):
        if nbr[i, s] == j:
            return s
    return -1


@njit
def clear_tie(nbr, rev, trust, last_type, r, s):
    """The tie at (row ``r``, slot ``s``) cleared at both ends; nothing where the slot is empty."""
    other = nbr[r, s]
    if other >= 0:
        o = rev[r, s]
        nbr[r, s] = nbr[other, o] = -1
        trust[r, s] = trust[other, o] = 0.0
        last_type[r, s] = last_type[other, o] = -1


@njit
def remove_tie_ends(nbr, rev, trust, last_type, rows, slots):
    """Each tie at (row, slot) cleared at both ends (a tie already cleared, through its
    other end, is passed over)."""
    for k in range(rows.size):
        clear_tie(nbr, rev, trust, last_type, rows[k], slots[k])


@njit
def clear_tie_rows(nbr, rev, trust, last_type, fill, rows):
    """:meth:`State.clear_rows`: every tie of each row, in slot order, cleared at both
    ends; the rows are empty afterwards."""
    for r in rows:
        for s in range(fill[r]):
            clear_tie(nbr, rev, trust, last_type, r, s)
        fill[r] = 0


class State:
    """All arrays of one model run.  Shapes are fixed except when grown."""

    def __init__(self, rows: int, degree: int, slots: int, public: int,
                 schools: int, networks: int, lag: int):
        self.degree = degree
        self.slots = slots
        self.public = public
        for name, (dtype, fill) in TEACHER_FIELDS.items():
            setattr(self, name, np.full(rows, fill, dtype=dtype))
        self.nbr = np.full((rows, degree), -1, dtype=np.int32)
        self.rev = np.zeros((rows, degree), dtype=np.int16)
        self.trust = np.zeros((rows, degree), dtype=np.float64)
        self.last_used = np.full((rows, degree), -10_000, dtype=np.int32)
        self.last_type = np.full((rows, degree), -1, dtype=np.int8)
        self.know = np.zeros((rows, slots + public), dtype=np.int8)

        # Items local to each network (practitioner, co-constructed, imported).
        self.item_effect = np.zeros((networks, slots))
        self.item_relevance = np.zeros((networks, slots))
        self.item_perceived = np.zeros((networks, slots))
        self.item_field = np.full((networks, slots), -1, dtype=np.int8)
        self.item_school = np.full((networks, slots), -1, dtype=np.int32)
        self.item_network = np.full((networks, slots), -1, dtype=np.int32)
        self.item_created = np.zeros((networks, slots), dtype=np.int32)
        # Public knowledge: one pool for everyone.
        self.pub_effect = np.zeros(public)
        self.pub_relevance = np.zeros(public)
        self.pub_perceived = np.zeros(public)

        # Schools.
        self.school_alive = np.zeros(schools, dtype=bool)
        self.school_network = np.full(schools, -1, dtype=np.int32)
        self.school_status = np.full(schools, LEFT, dtype=np.int8)
        self.school_trust = np.zeros(schools)
        self.school_head = np.full(schools, -1, dtype=np.int32)
        self.school_engagement = np.zeros(schools)
        self.school_commitment = np.zeros(schools)
        self.holder = np.full((schools, len(FUNCTIONS)), -1, dtype=np.int32)
        self.pupil_history = np.zeros((lag + 1, schools))
        self.pupil = np.zeros(schools)

        # Networks.
        self.net_alive = np.zeros(networks, dtype=bool)
        self.net_funding = np.zeros(networks)
        self.coleaders = np.full((networks, 0), -1, dtype=np.int32)

        # What each school knows of its network's local items (see school_knowledge):
        # kept up to date as knowledge is learned, rebuilt for schools whose staff left.
        self._school_or: np.ndarray | None = None
        self._school_stale = np.zeros(0, dtype=bool)

    # -- sizes ------------------------------------------------------------
    @property
    def rows(self) -> int:
        return self.alive.shape[0]

    def free_rows(self, n: int) -> np.ndarray:
        """n unused rows, growing the arrays if needed."""
        free = np.flatnonzero(~self.alive)
        if free.size < n:
            self.grow_rows(max(n - free.size, self.rows // 2))
            free = np.flatnonzero(~self.alive)
        return free[:n]

    def grow_rows(self, extra: int) -> None:
        for name, (dtype, fill) in TEACHER_FIELDS.items():
            old = getattr(self, name)
            setattr(self, name, np.concatenate([old, np.full(extra, fill, dtype=dtype)]))
        self.nbr = np.vstack([self.nbr, np.full((extra, self.degree), -1, dtype=np.int32)])
        self.rev = np.vstack([self.rev, np.zeros((extra, self.degree), dtype=np.int16)])
        self.trust = np.vstack([self.trust, np.zeros((extra, self.degree))])
        self.last_used = np.vstack([self.last_used, np.full((extra, self.degree), -10_000, dtype=np.int32)])
        self.last_type = np.vstack([self.last_type, np.full((extra, self.degree), -1, dtype=np.int8)])
        self.know = np.vstack([self.know, np.zeros((extra, self.know.shape[1]), dtype=np.int8)])

    def new_school_index(self) -> int:
        free = np.flatnonzero(self.school_network < 0)
        if free.size:
            return int(free[0])
        n = self.school_alive.shape[0]
        extra = max(4, n // 2)
        self.school_alive = np.concatenate([self.school_alive, np.zeros(extra, bool)])
        self.school_network = np.concatenate([self.school_network, np.full(extra, -1, np.int32)])
        self.school_status = np.concatenate([self.school_status, np.full(extra, LEFT, np.int8)])
        for name in ("school_trust", "school_engagement", "school_commitment", "pupil"):
            setattr(self, name, np.concatenate([getattr(self, name), np.zeros(extra)]))
        self.school_head = np.concatenate([self.school_head, np.full(extra, -1, np.int32)])
        self.holder = np.vstack([self.holder, np.full((extra, len(FUNCTIONS)), -1, np.int32)])
        self.pupil_history = np.hstack([self.pupil_history, np.zeros((self.pupil_history.shape[0], extra))])
        self._school_or = None  # rebuilt at the new size when next read
        return n

    # -- what schools know -----------------------------------------------
    def school_knowledge(self) -> tuple[np.ndarray, np.ndarray]:
        """What each school knows of its network's local items.

        Returns the schools with staff alive (ascending) and a schools x slots
        matrix of two flags: bit 0 (``SHALLOW``) set where someone on the staff
        holds the item at all, bit 1 (``DEEP``) where someone holds it deeply
        or profoundly.  A level's flags are ``level | level >> 1`` (1 -> 1,
        2 and 3 -> 3), which only ever gain bits as a level rises, so the OR
        of the flags of everything learned equals the flags of what is held.

        The matrix is kept as knowledge is learned (:meth:`learn` ORs each
        gain in) and rebuilt only for the schools whose staff lost knowledge
        (:meth:`unlearn`), so a week costs what changed, not a pass over the
        whole knowledge matrix.
        """
        alive = self.alive.nonzero()[0]
        staffed = np.bincount(self.school.take(alive), minlength=self.school_alive.size).nonzero()[0]
        return staffed, self.school_flags_now().take(staffed, axis=0)

    def school_flags_now(self) -> np.ndarray:
        """The whole schools x slots matrix of :meth:`school_knowledge`, up to date (rows
        of schools without staff are zero or stale: read only the staffed ones)."""
        n = self.school_alive.size
        if self._school_or is None:
            self._school_or = np.zeros((n, self.slots), dtype=np.uint8)
            self._school_stale = np.ones(n, dtype=bool)
        rebuild_flags(self.know, self.alive, self.school, self._school_or, self._school_stale)
        return self._school_or

    def learn(self, rows: np.ndarray, cols: np.ndarray, levels) -> None:
        """Raise knowledge: ``know[rows, cols]`` becomes at least ``levels`` (pairs may repeat)."""
        levels = np.asarray(levels, dtype=np.int8)  # one level for all pairs, or one per pair
        if not levels.ndim:
            levels = np.full(rows.size, levels, dtype=np.int8)
        learn_pairs(self.know, self.school_flags(), self.school, self.slots, rows, cols, levels)

    def school_flags(self) -> np.ndarray:
        """The school matrix :meth:`school_knowledge` keeps, for :func:`learn_pairs`
        to raise (empty before it is first built)."""
        return self._school_or if self._school_or is not None else _NO_FLAGS

    def unlearn(self, rows: np.ndarray) -> None:
        """Clear the knowledge of ``rows`` (leavers, reused rows); their schools are recounted."""
        self.know[rows] = 0
        if self._school_or is not None and rows.size:
            self._school_stale[np.maximum(self.school[rows], 0)] = True

    # -- ties -------------------------------------------------------------
    def add_ties(self, a: np.ndarray, b: np.ndarray, trust: np.ndarray, week: int) -> int:
        """Add undirected ties a-b with the given trust; returns how many were added.

        Pairs with a missing end (-1), pairs that already exist, self-pairs,
        pairs with an end that appears in another pair of the batch (pairs with a
        missing end not counted) and ends with no free slot are dropped, so a
        batch is applied as if in one write (:func:`add_tie_batch`).
        """
        a = np.asarray(a, dtype=np.int64)
        b = np.asarray(b, dtype=np.int64)
        trust = np.asarray(trust, dtype=np.float64)
        if trust.ndim == 0:
            trust = np.full(a.shape, trust)
        return add_tie_batch(self.nbr, self.rev, self.trust, self.last_used, self.last_type, self.fill, a, b, trust,
                             week)

    def clear_rows(self, rows: np.ndarray) -> None:
        """Remove every tie of these rows (a leaver's ties are gone)."""
        clear_tie_rows(self.nbr, self.rev, self.trust, self.last_type, self.fill, np.asarray(rows, dtype=np.int64))
