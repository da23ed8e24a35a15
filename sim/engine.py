"""The discrete-event model of one replication, on SimPy's scheduler.

The hot path uses plain events with callbacks rather than one generator process per
contact (several times faster): every state change is a small handler method called by
``env.step()``. Cancelled timers (a patience timer of a contact already answered) are left
to fire and ignored, which is cheaper than removing them from the heap.

Life of a contact: arrival -> [bot] -> contained, or the agent queue -> an agent takes it
(answered) / its patience runs out (abandoned) / the queue is full (blocked).

Queue discipline (SPEC §3): a free agent takes, among the contacts it may serve now, the one
with the lowest channel priority, then the longest-waiting; a new contact goes to the
longest-idle eligible agent. Non-preemptive. With concurrency k an agent holds up to k
contacts of one channel at once; it takes another channel only when empty. A contact may be
given to an agent of a tier once it has waited that tier's routing ``after_s``.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from heapq import heappush

import simpy
from simpy.events import NORMAL, Event

from sim.arrivals import DAY_S, ArrivalClock
from sim.config import Scenario
from sim.distributions import sampler, uniforms, unit_exponentials
from sim.records import ABANDONED, ANSWERED, BLOCKED, CONTAINED, ContactLog, Level, RunRecord
from sim.routing import RouteTables
from sim.streams import stream

WAITING, SERVING, DONE = 1, 2, 3
DRAIN_LIMIT_S = DAY_S  # after the horizon, arrivals go on at most this long while we drain


class SimulationError(RuntimeError):
    """The model cannot complete (e.g. contacts that can never be served)."""


class Timer(Event):
    """A SimPy event that fires after ``delay`` and calls ``fn(event)``; payload in ``arg``."""

    __slots__ = ("arg",)

    def __init__(self, env: simpy.Environment, delay: float, fn, arg) -> None:  # noqa: ANN001
        self.env = env
        self.callbacks = [fn]
        self._value = None
        self._ok = True
        self.arg = arg
        # Environment.schedule() inlined: this runs for every event of the simulation.
        heappush(env._queue, (env._now + delay, NORMAL, next(env._eid), self))


class Contact:
    __slots__ = ("cid", "ch", "ty", "arr_t", "join_t", "work_s", "patience_s", "state",
                 "measured", "agent", "wait_s", "handle_s")


class Agent:
    __slots__ = ("tier", "held", "ch", "since")

    def __init__(self, tier: int, since: float) -> None:
        self.tier = tier
        self.held = 0      # contacts in hand
        self.ch = -1       # channel of the contacts in hand
        self.since = since  # when it last became idle


class _Source:
    """Per-channel customer stream: arrival times and each contact's own draws."""

    __slots__ = ("clock", "exp", "mix_u", "cum_shares", "type_ix", "single_type", "work",
                 "patience",
                 "bot_time", "bot_u", "containment")


class Engine:
    """One replication of a scenario. ``run()`` returns its :class:`RunRecord`."""

    def __init__(self, sc: Scenario, tables: RouteTables, replication: int,
                 trace: bool = False) -> None:
        self.sc, self.t = sc, tables
        self.horizon_s = sc.horizon_hours * 3600.0
        self.env = env = simpy.Environment(initial_time=-sc.warmup_hours * 3600.0)
        start = env.now
        n_ch, n_ty, n_ti = len(tables.channels), len(tables.types), len(tables.tiers)
        self.n_types = n_ty
        self.queues: list[deque[Contact]] = [deque() for _ in range(n_ch * n_ty)]
        self.waiting = [0] * n_ch
        chans = [sc.channels[c] for c in tables.channels]
        self.capacity = [math.inf if c.queue_capacity is None else c.queue_capacity
                         for c in chans]
        self.conc = [c.concurrency for c in chans]
        self.queue_level = [Level(0.0, self.horizon_s) for _ in range(n_ch * n_ty)]
        self.busy_level = [Level(0.0, self.horizon_s) for _ in range(n_ti)]
        self.agents_on = [sc.tiers[k].agents for k in tables.tiers]
        # Idle agents per tier, longest-idle first; partly busy (concurrency) per tier/channel.
        self.idle: list[deque[Agent]] = [
            deque(Agent(k, start) for _ in range(self.agents_on[k])) for k in range(n_ti)]
        self.partial: list[list[list[Agent]]] = [[[] for _ in range(n_ch)] for _ in range(n_ti)]
        self.log = ContactLog()
        self.trace: list[tuple] | None = [] if trace else None
        self.bot_sessions = [0] * n_ch
        self.pending = 0
        self.horizon_over = False
        self.arrivals_end = self.horizon_s + DRAIN_LIMIT_S
        self.done = env.event()
        self.n_contacts = 0
        self.sources = [self._source(ci, sc, replication) for ci in range(n_ch)]
        for ci, src in enumerate(self.sources):
            first = src.clock.next_after(start, src.exp())
            if first < self.arrivals_end:
                Timer(env, first - start, self._arrive, ci)
        Timer(env, self.horizon_s - start, self._end_of_horizon, None)

    def _source(self, ci: int, sc: Scenario, rep: int) -> _Source:
        cname = self.t.channels[ci]
        ch = sc.channels[cname]
        seed = sc.seed
        src = _Source()
        rates = (ch.arrivals.profile_per_hour if ch.arrivals.profile_per_hour is not None
                 else [ch.arrivals.rate_per_hour or 0.0])
        slot_s = DAY_S / len(rates)
        src.clock = ArrivalClock(list(rates), slot_s)
        src.exp = unit_exponentials(stream(seed, rep, cname, "arrivals"))
        src.mix_u = uniforms(stream(seed, rep, cname, "mix"))
        types = [y for y in ch.mix if ch.mix[y] > 0]
        cum, acc = [], 0.0
        for y in types:
            acc += ch.mix[y]
            cum.append(acc)
        src.cum_shares = cum
        src.type_ix = [self.t.types.index(y) for y in types]
        src.single_type = src.type_ix[0] if len(types) == 1 else -1
        src.work = {self.t.types.index(y): sampler(ch.handle_time[y],
                                                   stream(seed, rep, cname, "handle", y))
                    for y in types}
        src.patience = (sampler(ch.patience, stream(seed, rep, cname, "patience"))
                        if ch.patience is not None else None)
        if ch.bot is not None:
            src.bot_time = sampler(ch.bot.handle_time, stream(seed, rep, cname, "bot_time"))
            src.bot_u = uniforms(stream(seed, rep, cname, "bot_containment"))
            src.containment = [ch.bot.containment.get(y, 0.0) for y in self.t.types]
        else:
            src.bot_time = src.bot_u = src.containment = None
        return src

    # --- life of a contact -------------------------------------------------------------

    def _arrive(self, ev: Timer) -> None:
        ci = ev.arg
        env = self.env
        now = env.now
        src = self.sources[ci]
        nxt = src.clock.next_after(now, src.exp())
        if nxt < self.arrivals_end:
            Timer(env, nxt - now, self._arrive, ci)
        c = Contact()
        c.cid = cid = self.n_contacts
        self.n_contacts = cid + 1
        c.ch = ci
        if src.single_type >= 0:
            c.ty = ty = src.single_type
        else:
            k = bisect.bisect_right(src.cum_shares, src.mix_u())
            c.ty = ty = src.type_ix[k if k < len(src.type_ix) else -1]
        c.arr_t = now
        c.work_s = src.work[ty]()
        c.patience_s = src.patience() if src.patience is not None else math.inf
        c.measured = measured = 0.0 <= now < self.horizon_s
        if measured:
            self.pending += 1
        if self.trace is not None:
            self.trace.append((cid, now, "arrive", ci, ty, -1))
        if src.bot_time is not None:
            if measured:
                self.bot_sessions[ci] += 1
            bot_s = src.bot_time()
            contained = src.bot_u() < src.containment[ty]
            Timer(env, bot_s, self._bot_contained if contained else self._bot_escalated, c)
        else:
            self._join(c)

    def _bot_contained(self, ev: Timer) -> None:
        c = ev.arg
        c.state = DONE
        if self.trace is not None:
            self.trace.append((c.cid, self.env.now, "contained", c.ch, c.ty, -1))
        self._finish(c, CONTAINED, -1, math.nan, math.nan)

    def _bot_escalated(self, ev: Timer) -> None:
        self._join(ev.arg)

    def _join(self, c: Contact) -> None:
        """The contact asks for an agent: served at once, queued, or blocked."""
        now = self.env.now
        c.join_t = now
        ch = c.ch
        agent = self._find_agent(ch, self.t.first_tiers[ch][c.ty])
        if agent is not None:
            self._start(c, agent, now)
            self._park_if_room(agent)
            return
        if self.waiting[ch] >= self.capacity[ch]:
            c.state = DONE
            if self.trace is not None:
                self.trace.append((c.cid, now, "blocked", ch, c.ty, -1))
            self._finish(c, BLOCKED, -1, math.nan, math.nan)
            return
        c.state = WAITING
        self.queues[ch * self.n_types + c.ty].append(c)
        self.waiting[ch] += 1
        self.queue_level[ch * self.n_types + c.ty].change(now, 1)
        if self.trace is not None:
            self.trace.append((c.cid, now, "queue", ch, c.ty, -1))
        if c.patience_s < math.inf:
            Timer(self.env, c.patience_s, self._renege, c)
        for after_s, tiers in self.t.overflow[ch][c.ty]:
            Timer(self.env, after_s, self._overflow, (c, tiers))

    def _renege(self, ev: Timer) -> None:
        c = ev.arg
        if c.state != WAITING:
            return
        now = self.env.now
        c.state = DONE
        self.waiting[c.ch] -= 1
        self.queue_level[c.ch * self.n_types + c.ty].change(now, -1)
        if self.trace is not None:
            self.trace.append((c.cid, now, "abandon", c.ch, c.ty, -1))
        self._finish(c, ABANDONED, -1, now - c.join_t, math.nan)

    def _overflow(self, ev: Timer) -> None:
        c, tiers = ev.arg
        if c.state != WAITING:
            return
        agent = self._find_agent(c.ch, tiers)
        if agent is not None:
            now = self.env.now
            self.waiting[c.ch] -= 1
            self.queue_level[c.ch * self.n_types + c.ty].change(now, -1)
            self._start(c, agent, now)  # the queue entry is skipped later (state != WAITING)
            self._park_if_room(agent)

    def _start(self, c: Contact, a: Agent, now: float) -> None:
        c.state = SERVING
        c.agent = a
        c.wait_s = now - c.join_t
        c.handle_s = handle = c.work_s / self.t.speed[a.tier][c.ty]
        if a.held == 0:
            a.ch = c.ch
            self.busy_level[a.tier].change(now, 1)
        a.held += 1
        if self.trace is not None:
            self.trace.append((c.cid, now, "answer", c.ch, c.ty, a.tier))
        Timer(self.env, handle, self._end_service, c)

    def _end_service(self, ev: Timer) -> None:
        c = ev.arg
        a = c.agent
        now = self.env.now
        c.state = DONE
        k = self.conc[a.ch]
        if k > 1 and a.held < k:
            self.partial[a.tier][a.ch].remove(a)
        a.held -= 1
        if a.held == 0:
            self.busy_level[a.tier].change(now, -1)
        if self.trace is not None:
            self.trace.append((c.cid, now, "end", c.ch, c.ty, a.tier))
        self._finish(c, ANSWERED, a.tier, c.wait_s, c.handle_s)
        self._dispatch(a, now)

    # --- agents ------------------------------------------------------------------------

    def _find_agent(self, ch: int, tiers: tuple[int, ...]) -> Agent | None:
        """The longest-idle agent of ``tiers`` (else the least-loaded with a free slot)."""
        best = None
        idle = self.idle
        for k in tiers:
            q = idle[k]
            if q and (best is None or q[0].since < best.since):
                best = q[0]
        if best is not None:
            return idle[best.tier].popleft()
        if self.conc[ch] > 1:
            for k in tiers:
                for a in self.partial[k][ch]:
                    if best is None or (a.held, a.since) < (best.held, best.since):
                        best = a
            if best is not None:
                self.partial[best.tier][ch].remove(best)
        return best

    def _dispatch(self, a: Agent, now: float) -> None:
        """A slot of ``a`` came free: take the best waiting contact it may serve, or park."""
        queues = self.queues
        while True:
            best_q = None
            best_prio = best_join = 0.0
            restrict = a.ch if a.held > 0 else -1
            for qi, ch, after_s, prio in self.t.tier_queues[a.tier]:
                if restrict >= 0 and ch != restrict:
                    continue
                q = queues[qi]
                while q and q[0].state != WAITING:
                    q.popleft()
                if q:
                    head = q[0]
                    if head.join_t + after_s <= now and (
                            best_q is None or prio < best_prio
                            or (prio == best_prio and head.join_t < best_join)):
                        best_q, best_prio, best_join = q, prio, head.join_t
            if best_q is None:
                break
            c = best_q.popleft()
            self.waiting[c.ch] -= 1
            self.queue_level[c.ch * self.n_types + c.ty].change(now, -1)
            self._start(c, a, now)
            if a.held >= self.conc[a.ch]:
                return
        if a.held == 0:
            a.since = now
            self.idle[a.tier].append(a)
        else:
            self.partial[a.tier][a.ch].append(a)

    def _park_if_room(self, a: Agent) -> None:
        if a.held < self.conc[a.ch]:
            self.partial[a.tier][a.ch].append(a)

    # --- bookkeeping -------------------------------------------------------------------

    def _finish(self, c: Contact, outcome: int, tier: int, wait_s: float,
                handle_s: float) -> None:
        if not c.measured:
            return
        self.log.add(c.ch, c.ty, outcome, tier, c.arr_t, wait_s, handle_s)
        self.pending -= 1
        if self.pending == 0 and self.horizon_over:
            self.done.succeed()

    def _end_of_horizon(self, ev: Timer) -> None:
        self.horizon_over = True
        if self.pending == 0:
            self.done.succeed()

    def run(self) -> RunRecord:
        try:
            self.env.run(until=self.done)
        except RuntimeError as exc:  # the schedule ran dry with measured contacts waiting
            raise SimulationError(
                f"{self.pending} contacts arriving in the measured period were never served "
                "(no agent could ever take them and customers never abandon)") from exc
        h = self.horizon_s
        return RunRecord(
            contacts=self.log.frozen(),
            horizon_s=h,
            queue_area=tuple(lv.close() for lv in self.queue_level),
            busy_area=tuple(lv.close() for lv in self.busy_level),
            available_area=tuple(n * h for n in self.agents_on),
            bot_sessions=tuple(self.bot_sessions),
            trace=self.trace,
        )
