"""The entities of the engine: its timers, contacts and agents, and their state codes.

Shared by the handler modules (sim/engine_*.py). :func:`at` schedules a timer; the hot
handlers push the same tuple inline.
"""

from __future__ import annotations

from collections import deque
from heapq import heappush

from simpy.events import NORMAL

# Contact states. CALLBACK: waiting with a callback accepted (it keeps its place in the
# queue); every "still waiting?" test is ``state <= WAITING``.
CALLBACK, WAITING, SERVING, DONE = 0, 1, 2, 3
# What a service will end in, decided when it starts.
RESOLVED, TRANSFER, REPEAT, LOST = 0, 1, 2, 3
# Contact flags (``Contact.repeat``): a repeat contact (FCR, false containment), a retrial.
REPEAT_FLAG, RETRIAL_FLAG = 1, 2


def at(eng, delay: float, fn, arg) -> None:  # noqa: ANN001
    """Schedule ``fn(arg)`` ``delay`` seconds from now on ``eng``'s event heap.

    A timer is a plain tuple ``(time, NORMAL, eid, fn, arg)`` in SimPy's heap
    (``env._queue``): the same ordering as a ``simpy.Timeout`` (time, then priority, then
    the environment's event counter), without an event object per timer. The hot handlers
    inline this push with local variables; :meth:`sim.model.engine.Engine.run` pops the tuples.
    """
    heappush(eng.q, (eng.env._now + delay, NORMAL, next(eng.eid), fn, arg))


def at_later(eng, delay: float, fn, arg) -> None:  # noqa: ANN001
    """Like :func:`at`, for a timer that may lie many intervals ahead (a repeat contact a
    day later). Such a timer waits in a bucket of its interval (``eng.far``) until the
    staffing tick of the interval before it moves it into the heap (``Staffing._tick``),
    which keeps the heap short: every pop costs one comparison per level of it. The
    tuple, its ``eid`` included, is made now, so the order of events is that of ``at``.
    """
    t = eng.env._now + delay
    entry = (t, NORMAL, next(eng.eid), fn, arg)
    k = int(t // eng.slot_s)
    if k <= eng.far_moved:  # due by the end of the next interval: in the heap at once
        heappush(eng.q, entry)
    else:
        bucket = eng.far.get(k)
        if bucket is None:
            eng.far[k] = [entry]
        else:
            bucket.append(entry)


class Contact:
    """One contact. The last slots are set only by the features that use them: ``join0``
    (first join time, kept on a transfer), ``attempt``/``cust`` (a retrial: its attempt
    number and whether its customer's first attempt was measured), ``rem``/``t0``/
    ``last``/``ver`` (a service under concurrency slowdown: remaining work at speed 1,
    start, last progress update, version of its end timer)."""

    __slots__ = ("cid", "ch", "ty", "arr_t", "join_t", "work_s", "patience_s", "state",
                 "measured", "agent", "handle_s", "stage", "transfers", "first_wait",
                 "first_tier", "handle_total", "repeat", "extra_s", "plan", "res_u",
                 "join0", "attempt", "cust", "rem", "t0", "last", "ver")

    def __init__(self, cid: int, ch: int, ty: int, arr_t: float, work_s: float,
                 patience_s: float, res_u: float, repeat: int, measured: bool) -> None:
        self.cid = cid
        self.ch = ch
        self.ty = ty
        self.arr_t = arr_t
        self.work_s = work_s
        self.patience_s = patience_s
        self.res_u = res_u
        self.repeat = repeat
        self.measured = measured
        self.stage = self.transfers = 0
        self.first_wait = -1.0
        self.first_tier = -1
        self.handle_total = self.extra_s = 0.0


class OverflowChain:
    """The overflow timers of one routing step of one queue, as one timer.

    Contacts join a queue in time order and the step's ``after_s`` is the same for all of
    them, so their overflow times come in order too: ``pending`` holds (time, contact, leg)
    in that order and one timer, at the first live entry's time, stands for them all
    (``armed`` while it is in the heap). Entries whose contact is no longer waiting on that
    leg are dropped when they reach the front. This fires the same overflows at the same
    times as one timer per contact, with far fewer timers in the heap.
    """

    __slots__ = ("after_s", "tiers", "pending", "armed")

    def __init__(self, after_s: float, tiers: tuple[int, ...]) -> None:
        self.after_s = after_s
        self.tiers = tiers
        self.pending: deque[tuple[float, Contact, int]] = deque()
        self.armed = False


class Agent:
    __slots__ = ("tier", "held", "ch", "since", "leaving", "jobs", "factor")

    def __init__(self, tier: int, since: float) -> None:
        self.tier = tier
        self.held = 0        # contacts in hand
        self.ch = -1         # channel of the contacts in hand
        self.since = since   # when it last became idle
        self.leaving = False  # off shift: finishes what it holds, takes nothing new
        self.jobs: list[Contact] = []  # contacts in hand, under concurrency slowdown only
        self.factor = 1.0    # slowdown factor in effect for them since the last change
