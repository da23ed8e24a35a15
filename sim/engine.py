"""The discrete-event model of one replication, on SimPy's scheduler.

The hot path uses plain events with callbacks rather than one generator process per
contact (several times faster): every state change is a small handler method called by
``env.step()``. Cancelled timers (a patience timer of a contact already answered) are left
to fire and ignored, which is cheaper than removing them from the heap.

Life of a contact: arrival -> [bot] -> contained, or the agent queue -> an agent takes it
(answered) / its patience runs out (abandoned) / the queue is full or the channel closed
(blocked). An answered contact the agent does not resolve is transferred to the next tier
of its routing, comes back later as a repeat contact, or is lost.

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
from simpy.events import NORMAL

from sim.arrivals import DAY_S
from sim.config import Scenario
from sim.records import (
    ABANDONED,
    ANSWERED,
    BLOCKED,
    CLOSED,
    CONTAINED,
    ContactLog,
    Level,
    RunRecord,
)
from sim.routing import RouteTables
from sim.sources import ChannelSource, Customers
from sim.staffing import tier_staffing

WAITING, SERVING, DONE = 1, 2, 3
RESOLVED, TRANSFER, REPEAT, LOST = 0, 1, 2, 3
DRAIN_LIMIT_S = DAY_S  # after the horizon, arrivals go on at most this long while we drain


class SimulationError(RuntimeError):
    """The model cannot complete (e.g. contacts that can never be served)."""


class Timer:
    """A plain event for SimPy's scheduler: after ``delay`` it calls ``fn(timer)``; the
    payload is in ``arg``.

    ``Environment.step()`` needs only ``callbacks`` and ``_ok`` of what it pops, so this
    slotted class is a lighter stand-in for ``simpy.Timeout`` on the hot path (one is made
    for every event of the simulation); ``Environment.schedule()`` is inlined likewise.
    """

    __slots__ = ("callbacks", "_ok", "arg")

    def __init__(self, env: simpy.Environment, delay: float, fn, arg) -> None:  # noqa: ANN001
        self.callbacks = [fn]
        self._ok = True
        self.arg = arg
        heappush(env._queue, (env._now + delay, NORMAL, next(env._eid), self))


class Contact:
    __slots__ = ("cid", "ch", "ty", "arr_t", "join_t", "work_s", "patience_s", "state",
                 "measured", "agent", "wait_s", "handle_s", "stage", "transfers", "first_wait",
                 "first_tier", "handle_total", "repeat", "extra_s", "plan", "res_u")

    def __init__(self, cid: int, ch: int, ty: int, arr_t: float, work_s: float,
                 patience_s: float, res_u: float, repeat: bool, measured: bool) -> None:
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


class Agent:
    __slots__ = ("tier", "held", "ch", "since", "leaving")

    def __init__(self, tier: int, since: float) -> None:
        self.tier = tier
        self.held = 0        # contacts in hand
        self.ch = -1         # channel of the contacts in hand
        self.since = since   # when it last became idle
        self.leaving = False  # off shift: finishes what it holds, takes nothing new


class Engine:
    """One replication of a scenario. ``run()`` returns its :class:`RunRecord`."""

    def __init__(self, sc: Scenario, tables: RouteTables, replication: int,
                 trace: bool = False) -> None:
        self.sc, self.t = sc, tables
        self.horizon_s = h = sc.horizon_hours * 3600.0
        self.env = env = simpy.Environment(initial_time=-sc.warmup_hours * 3600.0)
        start = env.now
        n_ch, n_ty, n_ti = len(tables.channels), len(tables.types), len(tables.tiers)
        self.n_types, self.n_stages = n_ty, tables.n_stages
        self.first_by_q = [tables.first_tiers[c][y][g] for c in range(n_ch) for y in range(n_ty)
                           for g in range(tables.n_stages)]
        self.overflow_by_q = [tables.overflow[c][y][g] for c in range(n_ch)
                              for y in range(n_ty) for g in range(tables.n_stages)]
        self.speed = tables.speed
        self.queues: list[deque[Contact]] = [deque() for _ in range(n_ch * n_ty * self.n_stages)]
        self.waiting = [0] * n_ch
        chans = [sc.channels[c] for c in tables.channels]
        self.capacity = [math.inf if c.queue_capacity is None else c.queue_capacity
                         for c in chans]
        self.conc = [c.concurrency for c in chans]
        self.is_async = [c.mode == "async" for c in chans]
        self.escalation = [(c.bot.escalation.patience_factor, c.bot.escalation.added_handle_s)
                           if c.bot else (1.0, 0.0) for c in chans]
        self.repeat_to = [tables.channels.index(c.repeat_channel) if c.repeat_channel else i
                          for i, c in enumerate(chans)]
        self.queue_level = [Level(0.0, h) for _ in range(n_ch * n_ty)]
        self.busy_level = [Level(0.0, h) for _ in range(n_ti)]
        # busy agents + slack = contacts in service / concurrency (chat slots in use)
        self.slack_level = [Level(0.0, h) for _ in range(n_ti)]
        self.staff_level = [Level(0.0, h) for _ in range(n_ti)]
        tiers = [sc.tiers[k] for k in tables.tiers]
        self.fcr = [[tier.resolution.get(y, 1.0) for y in tables.types] for tier in tiers]
        needs_res = any(v < 1.0 for row in self.fcr for v in row)
        res = sc.resolution
        self.transfer_share, self.transfer_overhead_s = res.transfer_share, res.transfer_overhead_s
        self.repeat_share = res.repeat_share
        self.staffing = [tier_staffing(sc, k) for k in tables.tiers]
        self.slot_s = sc.interval_minutes * 60.0
        # Agents on duty per tier; idle ones longest-idle first; partly busy per tier/channel.
        self.on_duty: list[list[Agent]] = [[] for _ in range(n_ti)]
        self.idle: list[deque[Agent]] = [deque() for _ in range(n_ti)]
        self.partial: list[list[list[Agent]]] = [[[] for _ in range(n_ch)] for _ in range(n_ti)]
        self.log = ContactLog()
        self.trace: list[tuple] | None = [] if trace else None
        self.bot_sessions = [0] * n_ch
        self.handled = [0] * n_ti
        self.backlog: list[tuple[int, ...]] = []
        self.busy_snaps: list[tuple[float, ...]] = []
        self.pending = 0
        self.horizon_over = False
        self.arrivals_end = h + DRAIN_LIMIT_S
        self._periodic = {Engine._tick, Engine._open_async}
        self.done = env.event()
        self.n_contacts = 0
        self.sources = [ChannelSource(sc, c, tables.types, replication, needs_res)
                        for c in tables.channels]
        # Opening hours: a realtime channel refuses contacts when closed; an async one keeps
        # them as a backlog that agents work only while it is open.
        self.gate = [None if self.is_async[i] else src.human_window
                     for i, src in enumerate(self.sources)]
        self.async_hours = [src.human_window if self.is_async[i] else None
                            for i, src in enumerate(self.sources)]
        self.servable = self._servable_queues()
        for ci, hours in enumerate(self.async_hours):
            if hours is not None:
                first_open = hours.next_opening(start)
                if first_open < math.inf:
                    Timer(env, first_open - start, self._open_async, (ci, first_open))
        for k, st in enumerate(self.staffing):
            self._set_staff(k, st.on_queue_at(start), start)
        first_tick = math.floor(start / self.slot_s) * self.slot_s + self.slot_s
        Timer(env, first_tick - start, self._tick, first_tick)
        for ci, src in enumerate(self.sources):
            first = src.clock.next_after(start, src.exp())
            if first < self.arrivals_end:
                Timer(env, first - start, self._arrive, ci)
        Timer(env, h - start, self._end_of_horizon, None)

    def _servable_queues(self) -> list[bool]:
        """Per queue: whether some tier it may ever reach has agents on the queue at some
        time of the week when the channel is worked (async: during its opening hours)."""
        n_ty, n_st = self.n_types, self.n_stages
        slot_s = self.slot_s
        out = []
        for qi in range(len(self.queues)):
            ci = qi // (n_ty * n_st)
            tiers = set(self.first_by_q[qi]) | {k for _, ks in self.overflow_by_q[qi] for k in ks}
            hours = self.async_hours[ci]
            ok = False
            for k in tiers:
                for s, n in enumerate(self.staffing[k].on_queue):
                    if n > 0 and (hours is None or hours.open_s(s * slot_s,
                                                                (s + 1) * slot_s) > 0.0):
                        ok = True
                        break
                if ok:
                    break
            out.append(ok)
        return out

    # --- arrivals and the bot ----------------------------------------------------------

    def _arrive(self, ev: Timer) -> None:
        ci = ev.arg
        env = self.env
        now = env._now
        src = self.sources[ci]
        gap = src.mean_gap_s
        if gap:  # constant rate: skip the profile walk
            nxt = now + src.exp() * gap
        else:
            nxt = src.clock.next_after(now, src.exp())
        if nxt < self.arrivals_end:
            Timer(env, nxt - now, self._arrive, ci)
        self._enter(ci, src, src.primary, -1, now, False)

    def _repeat_arrive(self, ev: Timer) -> None:
        ci, ty = ev.arg
        src = self.sources[ci]
        self._enter(ci, src, src.repeat, ty, self.env.now, True)

    def _enter(self, ci: int, src: ChannelSource, cust: Customers, ty: int, now: float,
               repeat: bool) -> None:
        cid = self.n_contacts
        self.n_contacts = cid + 1
        if ty < 0:
            if cust.single_type >= 0:
                ty = cust.single_type
            else:
                k = bisect.bisect_right(cust.cum_shares, cust.mix_u())
                ty = cust.type_ix[k if k < len(cust.type_ix) else -1]
        measured = 0.0 <= now < self.horizon_s
        c = Contact(cid, ci, ty, now, cust.work[ty](),
                    cust.patience() if cust.patience is not None else math.inf,
                    cust.res_u() if cust.res_u is not None else 0.0, repeat, measured)
        if measured:
            self.pending += 1
        if self.trace is not None:
            self.trace.append((cid, now, "arrive", ci, ty, -1))
        if cust.bot_time is not None and (src.bot_window is None
                                          or src.bot_window.is_open(now)):
            if measured:
                self.bot_sessions[ci] += 1
            bot_s = cust.bot_time()
            contained = cust.bot_u() < src.containment[ty]  # type: ignore[index]
            Timer(self.env, bot_s, self._bot_contained if contained else self._bot_escalated, c)
        else:
            self._join(c)

    def _bot_contained(self, ev: Timer) -> None:
        c = ev.arg
        c.state = DONE
        src = self.sources[c.ch]
        if src.false_containment > 0.0 and src.more_u() < src.false_containment:
            self._schedule_repeat(c)
        if self.trace is not None:
            self.trace.append((c.cid, self.env.now, "contained", c.ch, c.ty, -1))
        self._finish(c, CONTAINED)

    def _bot_escalated(self, ev: Timer) -> None:
        c = ev.arg
        factor, added_s = self.escalation[c.ch]
        c.patience_s *= factor
        c.extra_s += added_s
        self._join(c)

    def _schedule_repeat(self, c: Contact) -> None:
        src = self.sources[c.ch]
        Timer(self.env, src.repeat_delay(), self._repeat_arrive, (self.repeat_to[c.ch], c.ty))

    # --- the agent queue ---------------------------------------------------------------

    def _join(self, c: Contact) -> None:
        """The contact asks for an agent: served at once, queued, or blocked."""
        now = self.env._now
        c.join_t = now
        ch = c.ch
        qi = (ch * self.n_types + c.ty) * self.n_stages + c.stage
        first_leg = c.transfers == 0
        window = self.gate[ch]
        if window is not None and first_leg and not window.is_open(now):
            self._refuse(c, CLOSED, "closed")
            return
        hours = self.async_hours[ch]
        agent = (self._find_agent(ch, self.first_by_q[qi])
                 if hours is None or hours.is_open(now) else None)
        if agent is not None:
            self._start(c, agent, now)
            self._park_if_room(agent)
            return
        if first_leg and self.waiting[ch] >= self.capacity[ch]:
            self._refuse(c, BLOCKED, "blocked")
            return
        c.state = WAITING
        self.queues[qi].append(c)
        self.waiting[ch] += 1
        self.queue_level[ch * self.n_types + c.ty].change(now, 1)
        if self.trace is not None:
            self.trace.append((c.cid, now, "queue", ch, c.ty, -1))
        if first_leg and c.patience_s < math.inf:
            Timer(self.env, c.patience_s, self._renege, c)
        for after_s, tiers in self.overflow_by_q[qi]:
            Timer(self.env, after_s, self._overflow, (c, tiers, c.transfers))

    def _refuse(self, c: Contact, outcome: int, event: str) -> None:
        c.state = DONE
        if self.trace is not None:
            self.trace.append((c.cid, self.env.now, event, c.ch, c.ty, -1))
        self._finish(c, outcome)

    def _renege(self, ev: Timer) -> None:
        c = ev.arg
        if c.state != WAITING or c.transfers:
            return
        now = self.env.now
        c.state = DONE
        c.first_wait = now - c.join_t
        self.waiting[c.ch] -= 1
        self.queue_level[c.ch * self.n_types + c.ty].change(now, -1)
        if self.trace is not None:
            self.trace.append((c.cid, now, "abandon", c.ch, c.ty, -1))
        self._finish(c, ABANDONED)

    def _overflow(self, ev: Timer) -> None:
        c, tiers, leg = ev.arg
        if c.state != WAITING or c.transfers != leg:
            return
        hours = self.async_hours[c.ch]
        if hours is not None and not hours.is_open(self.env._now):
            return  # worked from the backlog when the channel opens
        agent = self._find_agent(c.ch, tiers)
        if agent is not None:
            now = self.env.now
            self.waiting[c.ch] -= 1
            self.queue_level[c.ch * self.n_types + c.ty].change(now, -1)
            self._start(c, agent, now)  # the queue entry is skipped later (state != WAITING)
            self._park_if_room(agent)

    # --- service -----------------------------------------------------------------------

    def _start(self, c: Contact, a: Agent, now: float) -> None:
        c.state = SERVING
        c.agent = a
        tier = a.tier
        if c.first_wait < 0.0:
            c.first_wait = now - c.join_t
            c.first_tier = tier
        handle = c.work_s / self.speed[tier][c.ty] + c.extra_s
        c.extra_s = 0.0
        fcr = self.fcr[tier][c.ty]
        if fcr >= 1.0 or (c.res_u if c.transfers == 0 else self.sources[c.ch].more_u()) < fcr:
            c.plan = RESOLVED
        else:
            src = self.sources[c.ch]
            nxt = self.t.next_stage[c.ch][c.ty][tier]
            if self.transfer_share > 0.0 and nxt >= 0 and src.more_u() < self.transfer_share:
                c.plan = TRANSFER
                c.stage = nxt
                handle += self.transfer_overhead_s
            elif self.repeat_share > 0.0 and src.more_u() < self.repeat_share:
                c.plan = REPEAT
            else:
                c.plan = LOST
        c.handle_s = handle
        k = self.conc[c.ch]
        if a.held == 0:
            a.ch = c.ch
            self.busy_level[tier].change(now, 1)
            if k > 1:
                self.slack_level[tier].change(now, 1.0 / k - 1.0)
        elif k > 1:
            self.slack_level[tier].change(now, 1.0 / k)
        a.held += 1
        if c.measured:
            self.handled[tier] += 1
        if self.trace is not None:
            self.trace.append((c.cid, now, "answer", c.ch, c.ty, tier))
        Timer(self.env, handle, self._end_service, c)

    def _end_service(self, ev: Timer) -> None:
        c = ev.arg
        a = c.agent
        now = self.env._now
        k = self.conc[a.ch]
        if not a.leaving and k > 1 and a.held < k:
            self.partial[a.tier][a.ch].remove(a)
        a.held -= 1
        if a.held == 0:
            self.busy_level[a.tier].change(now, -1)
            if k > 1:
                self.slack_level[a.tier].change(now, 1.0 - 1.0 / k)
        elif k > 1:
            self.slack_level[a.tier].change(now, -1.0 / k)
        c.handle_total += c.handle_s
        if self.trace is not None:
            self.trace.append((c.cid, now, "transfer" if c.plan == TRANSFER else "end",
                               c.ch, c.ty, a.tier))
        if c.plan == TRANSFER:
            c.transfers += 1
            c.work_s = self.sources[c.ch].transfer_work[c.ty]()
            self._join(c)
        else:
            c.state = DONE
            if c.plan == REPEAT:
                self._schedule_repeat(c)
            self._finish(c, ANSWERED)
        if a.leaving:
            if a.held == 0:
                self._log_off(a, now)
        else:
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
        if a.held and a.held >= self.conc[a.ch]:
            return  # full: it comes back here when one of its contacts ends
        queues = self.queues
        while True:
            best_q = None
            best_prio = best_join = 0.0
            restrict = a.ch if a.held > 0 else -1
            for qi, ch, after_s, prio in self.t.tier_queues[a.tier]:
                q = queues[qi]
                if not q or (restrict >= 0 and ch != restrict):
                    continue
                head = q[0]
                while head.state != WAITING:
                    q.popleft()
                    if not q:
                        break
                    head = q[0]
                else:
                    if head.join_t + after_s <= now and (
                            best_q is None or prio < best_prio
                            or (prio == best_prio and head.join_t < best_join)):
                        hours = self.async_hours[ch]
                        if hours is None or hours.is_open(now):
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

    def _open_async(self, ev: Timer) -> None:
        """An async channel opens: idle agents take its backlog, oldest first."""
        ci, when = ev.arg
        nxt = self.async_hours[ci].opening_after(when)
        if self._goes_on(nxt):
            Timer(self.env, nxt - self.env._now, self._open_async, (ci, nxt))
        now = self.env._now
        n_ty, n_st = self.n_types, self.n_stages
        qis = range(ci * n_ty * n_st, (ci + 1) * n_ty * n_st)
        while True:  # the oldest head that an idle agent may take, until none can be served
            heads = []
            for qi in qis:
                q = self.queues[qi]
                while q and q[0].state != WAITING:
                    q.popleft()
                if q:
                    heads.append((q[0].join_t, qi))
            for _, qi in sorted(heads):
                c = self.queues[qi][0]
                waited = now - c.join_t
                tiers = self.first_by_q[qi] + tuple(
                    k for after_s, ks in self.overflow_by_q[qi] if after_s <= waited
                    for k in ks)
                agent = self._find_agent(ci, tiers)
                if agent is not None:
                    self.queues[qi].popleft()
                    self.waiting[ci] -= 1
                    self.queue_level[ci * n_ty + c.ty].change(now, -1)
                    self._start(c, agent, now)
                    self._park_if_room(agent)
                    break
            else:
                return

    # --- staffing ----------------------------------------------------------------------

    def _set_staff(self, k: int, n: int, now: float) -> None:
        """Bring tier ``k`` to ``n`` agents on duty: log agents on, or off (idle ones first,
        busy ones after they finish what they hold)."""
        duty = self.on_duty[k]
        active = [a for a in duty if not a.leaving]
        for a in duty:  # an agent still finishing after its shift can stay on
            if len(active) >= n:
                break
            if a.leaving:
                a.leaving = False
                active.append(a)
                if a.held < self.conc[a.ch]:
                    self._dispatch(a, now)  # fill its free slots, or park it
        while len(active) < n:
            a = Agent(k, now)
            duty.append(a)
            active.append(a)
            self.staff_level[k].change(now, 1)
            self._dispatch(a, now)
        extra = len(active) - n
        idle = self.idle[k]
        while extra > 0 and idle:
            self._log_off(idle.pop(), now)  # the most recently idle leave first
            extra -= 1
        for a in active:
            if extra <= 0:
                break
            if not a.leaving and a.held > 0:
                a.leaving = True
                if a.held < self.conc[a.ch]:
                    self.partial[k][a.ch].remove(a)
                extra -= 1

    def _log_off(self, a: Agent, now: float) -> None:
        self.on_duty[a.tier].remove(a)
        self.staff_level[a.tier].change(now, -1)

    def _tick(self, ev: Timer) -> None:
        """Interval boundary: snapshot the backlog, apply the staffing plan."""
        now = ev.arg
        if 0.0 < now <= self.horizon_s:
            self.backlog.append(tuple(self.waiting))
            for lv in self.busy_level:
                lv.change(now, 0.0)
            for lv in self.slack_level:
                lv.change(now, 0.0)
            self.busy_snaps.append(tuple(b.area + s.area for b, s in zip(
                self.busy_level, self.slack_level, strict=True)))
        for k, st in enumerate(self.staffing):
            self._set_staff(k, st.on_queue_at(now), now)
        nxt = now + self.slot_s
        if self._goes_on(nxt):
            Timer(self.env, nxt - self.env.now, self._tick, nxt)

    # --- the end of a run --------------------------------------------------------------

    def _goes_on(self, t: float) -> bool:
        """Whether the periodic timers (staffing, async openings) go on to time ``t``: while
        arrivals go on, then while measured contacts wait for an agent who may still come
        (SPEC §3: they are followed to their outcome however long that takes). When nothing
        but these timers is left and every waiting contact is in a queue no agent can ever
        take, they stop: the run then ends with a SimulationError naming those queues."""
        if t < self.arrivals_end:
            return True
        if self.pending == 0:
            return False
        periodic = self._periodic
        for entry in self.env._queue:
            cbs = entry[3].callbacks
            if not cbs or getattr(cbs[0], "__func__", None) not in periodic:
                return True  # something else will still happen
        return any(self.servable[qi] for qi, q in enumerate(self.queues)
                   if any(c.state == WAITING for c in q))

    # --- bookkeeping -------------------------------------------------------------------

    def _finish(self, c: Contact, outcome: int) -> None:
        if not c.measured:
            return
        answered = outcome == ANSWERED
        rows = self.log.rows
        rows.append((c.ch, c.ty, outcome, c.first_tier, c.arr_t,
                     c.first_wait if c.first_wait >= 0.0 else math.nan,
                     c.handle_total if answered else math.nan, c.repeat, c.transfers,
                     (1 if c.plan == RESOLVED else 0) if answered else -1))
        if len(rows) >= ContactLog.FLUSH:
            self.log.pack()
        self.pending -= 1
        if self.pending == 0 and self.horizon_over:
            self.done.succeed()

    def _end_of_horizon(self, ev: Timer) -> None:
        self.horizon_over = True
        if self.pending == 0:
            self.done.succeed()

    def _stuck(self) -> str:
        """Which queues still hold contacts, and the tiers that could take them."""
        t = self.t
        parts = []
        for qi, q in enumerate(self.queues):
            waiting = sum(1 for c in q if c.state == WAITING)
            if not waiting:
                continue
            ci, rest = divmod(qi, len(t.types) * t.n_stages)
            yi, stage = divmod(rest, t.n_stages)
            tiers = [t.tiers[k] for k, queues in enumerate(t.tier_queues)
                     if any(entry[0] == qi for entry in queues)]
            parts.append(f"{waiting} {t.channels[ci]}/{t.types[yi]}"
                         + (f" (transferred, stage {stage})" if stage else "")
                         + f" for {', '.join(tiers) or 'no tier'}")
        return "; ".join(parts) or "none in a queue"

    def run(self) -> RunRecord:
        try:
            self.env.run(until=self.done)
        except RuntimeError as exc:  # the schedule ran dry with measured contacts waiting
            raise SimulationError(
                f"{self.pending} contacts arriving in the measured period were never served "
                "(no agent could ever take them, and waiting there they do not abandon: "
                "a transferred or async contact has no patience); waiting at the end, "
                f"measured or not: {self._stuck()}. Check that the tiers these contacts "
                "are routed or transferred to have agents on the queue (after shrinkage and "
                "coaching, rounded per interval)") from exc
        h = self.horizon_s
        return RunRecord(
            contacts=self.log.frozen(),
            horizon_s=h,
            queue_area=tuple(lv.close() for lv in self.queue_level),
            busy_area=tuple(lv.close() for lv in self.busy_level),
            available_area=tuple(lv.close() for lv in self.staff_level),
            paid_hours=tuple(st.paid_hours(0.0, h) for st in self.staffing),
            bot_sessions=tuple(self.bot_sessions),
            handled=tuple(self.handled),
            backlog=tuple(self.backlog),
            busy_snaps=tuple(self.busy_snaps),
            load_area=tuple(b.close() + s.close() for b, s in zip(
                self.busy_level, self.slack_level, strict=True)),
            trace=self.trace,
        )
