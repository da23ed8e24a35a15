"""The discrete-event model of one replication, on SimPy's scheduler.

The hot path uses plain callbacks rather than one generator process per contact (several
times faster): every state change is a small handler method. A timer is a plain tuple
``(time, NORMAL, eid, handler, arg)`` on SimPy's event heap (``env._queue``, numbered by
``env._eid``: the order of ``simpy.Timeout`` events), and :meth:`Engine.run` is its own
loop: pop the earliest tuple, set ``env._now``, call ``handler(arg)`` -- no event object,
no ``env.step()`` per event. Cancelled timers (a patience timer of a contact already
answered) are left to fire and ignored, which is cheaper than removing them from the heap.
The loop makes no reference cycles (contacts, agents and timers are freed by reference
counting), so the cyclic garbage collector is paused while it runs: with it on, its
periodic scans of every live object took about a quarter of the run time.

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

import gc
import math
from collections import deque
from heapq import heappop

import simpy

from sim.inputs.config import Scenario
from sim.model.arrivals import DAY_S
from sim.model.engine_async import AsyncGate, AsyncWork
from sim.model.engine_front import Front
from sim.model.engine_retry import Retry
from sim.model.engine_service import Service
from sim.model.engine_slowdown import Slowdown
from sim.model.engine_staffing import Staffing
from sim.model.entities import RESOLVED, WAITING, Agent, Contact, OverflowChain, at
from sim.model.records import (
    ABANDONED,
    ANSWERED,
    BLOCKED,
    CLOSED,
    OUTCOMES,
    ContactLog,
    Level,
    RunRecord,
)
from sim.model.routing import RouteTables
from sim.model.sources import ChannelSource
from sim.model.staffing import AbsentStaffing, replication_staffing
from sim.model.tally import Tally

DRAIN_LIMIT_S = DAY_S  # after the horizon, arrivals go on at most this long while we drain
FLUSH = ContactLog.FLUSH


class SimulationError(RuntimeError):
    """The model cannot complete (e.g. contacts that can never be served)."""


class _Stop(Exception):  # noqa: N818 - control flow, not an error
    """Raised by the stop timer to leave the event loop."""


class Engine(Front, Service, AsyncWork, Slowdown, Retry, Staffing):
    """One replication of a scenario. ``run()`` returns its :class:`RunRecord`.

    The handlers live in one module per part of a contact's life (sim/model/engine_front.py,
    engine_service.py, engine_async.py, engine_slowdown.py, engine_retry.py,
    engine_staffing.py); this class wires their state and ends the run.
    """

    # The whole state as slots, so that each read on the hot path is a load at a fixed
    # offset: with some 70 names in an instance dict, CPython 3.11's fastest attribute
    # lookups do not apply (about 6 % of the Erlang A run). The mixins have no slots, so
    # an attribute not listed here still works (in a __dict__), only slower.
    __slots__ = (
        "sc", "t", "horizon_s", "env", "q", "eid", "n_types", "n_stages", "slot_s",
        "n_slots", "far", "far_moved", "arrivals_end", "stopping", "horizon_over", "pending",
        "n_contacts",
        # routing, queues and agents
        "first_by_q", "overflow_by_q", "overflow_chains", "speed", "queues", "waiting",
        "capacity", "conc", "is_async", "escalation", "repeat_to", "fcr", "transfer_share",
        "transfer_overhead_s", "repeat_share", "staffing", "on_duty", "idle", "partial",
        "servable", "lines", "line_qs", "solo_line", "solo_idle", "arrive_solo", "sources",
        # measurement
        "queue_level", "busy_level", "slack_level", "staff_level", "log", "rows", "trace",
        "bot_sessions", "handled", "backlog", "busy_snaps",
        # features (None per channel where off)
        "gate", "async_gate", "sla", "slow", "slow_timers", "retry", "callback",
        "follow_units",
        # handlers bound once
        "on_arrive", "on_repeat", "on_contained", "on_escalated", "on_renege",
        "on_overflow", "on_end", "on_tick", "on_open", "on_offer", "on_retry",
        "on_slow_end", "_periodic",
    )

    def __init__(self, sc: Scenario, tables: RouteTables, replication: int,
                 trace: bool = False, keep_contacts: bool | None = None) -> None:
        """``trace``: record every event; ``keep_contacts``: keep one row per measured
        contact in ``RunRecord.contacts`` (default: when tracing). Metrics never need them."""
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
        self.overflow_chains = [tuple(OverflowChain(after_s, tiers) for after_s, tiers in steps)
                                for steps in self.overflow_by_q]
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
        self.staffing = [replication_staffing(sc, k, replication) for k in tables.tiers]
        self.slot_s = sc.interval_minutes * 60.0
        # Agents on duty per tier; idle ones longest-idle first; partly busy per tier/channel.
        self.on_duty: list[list[Agent]] = [[] for _ in range(n_ti)]
        self.idle: list[deque[Agent]] = [deque() for _ in range(n_ti)]
        self.partial: list[list[list[Agent]]] = [[[] for _ in range(n_ch)] for _ in range(n_ti)]
        self.n_slots = max(1, math.ceil(h / self.slot_s - 1e-9))
        self.log = ContactLog(Tally(n_ch, n_ty, [c.service_level_threshold_s for c in chans],
                                    self.n_slots, self.slot_s,
                                    [c.retrial is not None for c in chans]),
                              keep=trace if keep_contacts is None else keep_contacts)
        self.rows = self.log.rows  # the log's buffer (packed in place)
        self.trace: list[tuple] | None = [] if trace else None
        self.bot_sessions = [0] * n_ch
        self.handled = [0] * n_ti
        self.backlog: list[tuple[int, ...]] = []
        self.busy_snaps: list[tuple[float, ...]] = []
        self.pending = 0
        self.horizon_over = False
        self.arrivals_end = h + DRAIN_LIMIT_S
        self.q, self.eid = env._queue, env._eid  # SimPy's event heap and event counter
        self.stopping = False
        self.n_contacts = 0
        self.sources = [ChannelSource(sc, c, tables.types, replication, needs_res)
                        for c in tables.channels]
        self._init_features(sc, tables, chans)
        # Handlers bound once (a timer holds a bound method; binding it per event costs).
        self.on_arrive, self.on_repeat = self._arrive, self._repeat_arrive
        self.on_contained, self.on_escalated = self._bot_contained, self._bot_escalated
        self.on_renege, self.on_overflow, self.on_end = self._renege, self._overflow, \
            self._end_service
        self.on_tick, self.on_open = self._tick, self._open_async
        self.on_offer, self.on_retry, self.on_slow_end = self._offer_callback, \
            self._retry_arrive, self._slow_end
        self._periodic = {self.on_tick, self.on_open}
        self.servable = self._servable_queues()
        # Per tier: the queues it takes from, as (deque, channel, after_s, priority, gate).
        self.lines = [tuple((self.queues[qi], ch, after_s, prio, self.async_gate[ch])
                            for qi, ch, after_s, prio in queues) for queues in tables.tier_queues]
        self.line_qs = [tuple(line[0] for line in lines) for lines in self.lines]  # deques
        # Per tier: its one queue when that is all it takes from, at once (after_s 0), one
        # contact at a time, without a gate (_dispatch's fast path), else None.
        self.solo_line = [line[0][0] if len(line) == 1 and line[0][2] == 0.0
                          and self.conc[line[0][1]] == 1 and line[0][4] is None else None
                          for line in self.lines]
        # Per queue: the idle agents of its one first tier when that is all _find_agent
        # would look at (one contact at a time, no async gate), else None.
        self.solo_idle = [
            self.idle[tiers[0]] if len(tiers) == 1 and self.conc[qi // (n_ty * self.n_stages)]
            == 1 and self.async_gate[qi // (n_ty * self.n_stages)] is None else None
            for qi, tiers in enumerate(self.first_by_q)]
        # Per channel and type: that deque for a new contact, if no trace, bot or hours.
        self.arrive_solo = [
            self.solo_idle[(ci * n_ty + ty) * self.n_stages]
            if not trace and src.primary.bot_time is None and self.gate[ci] is None else None
            for ci, src in enumerate(self.sources) for ty in range(n_ty)]
        for ci, gate in enumerate(self.async_gate):
            if gate is not None and gate.hours is not None:
                first_open = gate.hours.next_opening(start)
                if first_open < math.inf:
                    at(self, first_open - start, self.on_open, (ci, first_open))
        for k, st in enumerate(self.staffing):
            self._set_staff(k, st.on_queue_at(start), start)
        first_tick = math.floor(start / self.slot_s) * self.slot_s + self.slot_s
        # Timers due after the next interval wait in buckets by interval (entities.at_later);
        # those of intervals up to far_moved are in the heap already.
        self.far: dict[int, list[tuple]] = {}
        self.far_moved = math.floor(start / self.slot_s) + 1
        at(self, first_tick - start, self.on_tick, first_tick)
        for ci, src in enumerate(self.sources):
            first = src.clock.next_after(start, src.exp())
            if first < self.arrivals_end:
                at(self, first - start, self.on_arrive, ci)
        at(self, h - start, self._end_of_horizon, None)

    def _init_features(self, sc: Scenario, tables: RouteTables, chans: list) -> None:
        """Per-channel state of the features with handlers of their own; None where off."""
        # Opening hours: a realtime channel refuses contacts when closed; an async one keeps
        # them as a backlog that agents work only while it is open (and with a reserve,
        # only while enough of the agent's tier stay idle).
        self.gate = [None if self.is_async[i] else src.human_window
                     for i, src in enumerate(self.sources)]
        realtime = [(name, c) for name, c in zip(tables.channels, chans, strict=True)
                    if c.mode == "realtime"]
        applies = [any((t.channels is None or name in t.channels) and set(t.serves) & set(c.mix)
                       for name, c in realtime)
                   for t in (sc.tiers[k] for k in tables.tiers)]  # tiers a reserve binds
        self.async_gate = [
            AsyncGate(src.human_window, c.reserve_agents, applies)
            if self.is_async[i] and (src.human_window is not None or c.reserve_agents) else None
            for i, (c, src) in enumerate(zip(chans, self.sources, strict=True))]
        # The business clock of sla_clock: open_hours (waits count open time only).
        self.sla = [src.human_window if c.sla_clock == "open_hours" else None
                    for c, src in zip(chans, self.sources, strict=True)]
        # Concurrency slowdown: factors by contacts held (None: no slowdown).
        self.slow = [tuple(c.concurrency_slowdown)
                     if c.concurrency_slowdown and any(f != 1.0 for f in c.concurrency_slowdown)
                     else None for c in chans]
        self.slow_timers = 0
        # Retrials: (share by outcome code, max attempts); callbacks: their settings.
        shares = [0.0] * len(OUTCOMES)
        self.retry = []
        for c in chans:
            r = c.retrial
            if r is None:
                self.retry.append(None)
                continue
            by = list(shares)
            by[ABANDONED], by[BLOCKED], by[CLOSED] = (r.after_abandon_share,
                                                      r.after_block_share, r.after_closed_share)
            self.retry.append((by, r.max_attempts))
        self.callback = [c.callback for c in chans]
        self.follow_units: set[int] = set()  # unmeasured retrials of measured customers

    def _servable_queues(self) -> list[bool]:
        """Per queue: whether some tier it may ever reach has agents on the queue at some
        time of the week when the channel is worked (async: during its opening hours, with
        more than its reserve)."""
        n_ty, n_st = self.n_types, self.n_stages
        slot_s = self.slot_s
        out = []
        for qi in range(len(self.queues)):
            ci = qi // (n_ty * n_st)
            tiers = set(self.first_by_q[qi]) | {k for _, ks in self.overflow_by_q[qi] for k in ks}
            gate = self.async_gate[ci]
            hours = gate.hours if gate is not None else None
            ok = False
            for k in tiers:
                if self.sc.tiers[self.t.tiers[k]].absence_share >= 1.0:
                    continue
                need = 1 + (gate.reserve if gate is not None and gate.applies[k] else 0)
                for s, n in enumerate(self.staffing[k].on_queue):
                    if n >= need and (hours is None or hours.open_s(s * slot_s,
                                                                    (s + 1) * slot_s) > 0.0):
                        ok = True
                        break
                if ok:
                    break
            out.append(ok)
        return out

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
        if self.far:
            return True  # timers waiting in buckets (entities.at_later)
        periodic = self._periodic
        for entry in self.q:
            if entry[3] not in periodic:
                return True  # something else will still happen
        return any(self.servable[qi] for qi, q in enumerate(self.queues)
                   if any(c.state <= WAITING for c in q))

    # --- bookkeeping -------------------------------------------------------------------

    def _finish(self, c: Contact, outcome: int) -> None:
        """Every contact ends here once; a measured one becomes a row of the tallies."""
        if not c.measured:
            if self.follow_units and c.cid in self.follow_units:
                self.follow_units.discard(c.cid)
                self._release()
            return
        ch = c.ch
        w = c.first_wait
        if w < 0.0:
            w = math.nan
        elif self.sla[ch] is not None:  # the business clock: open time of the wait only
            j0 = c.join0 if c.transfers else c.join_t
            w = self.sla[ch].open_s(j0, j0 + w)
        rows = self.rows
        if outcome == ANSWERED:
            rows.append((ch, c.ty, outcome, c.first_tier, c.arr_t, w, c.handle_total,
                         c.repeat, c.transfers, 1 if c.plan == RESOLVED else 0))
        else:
            rows.append((ch, c.ty, outcome, c.first_tier, c.arr_t, w, math.nan, c.repeat,
                         c.transfers, -1))
        if len(rows) >= FLUSH:
            self.log.pack()
        self.pending -= 1
        if self.pending == 0 and self.horizon_over:
            self._stop_soon()

    def _end_of_horizon(self, arg) -> None:  # noqa: ANN001
        self.horizon_over = True
        if self.pending == 0:
            self._stop_soon()

    def _stuck(self) -> str:
        """Which queues still hold contacts, and the tiers that could take them."""
        t = self.t
        parts = []
        for qi, q in enumerate(self.queues):
            waiting = sum(1 for c in q if c.state <= WAITING)
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

    def _stop_soon(self) -> None:
        """Every measured contact is done: stop once the events already due now are
        processed (a stop timer is queued after them, as ``env.run(until=event)`` would)."""
        if not self.stopping:
            self.stopping = True
            at(self, 0.0, self._stop, None)

    def _stop(self, arg) -> None:  # noqa: ANN001
        raise _Stop

    def advance(self, until_s: float) -> None:
        """Process every event before ``until_s`` (tests look at the state in between)."""
        q, env, stop = self.q, self.env, self._stop
        while q and q[0][0] < until_s:
            if q[0][3] == stop:
                return  # the run is over; run() ends it
            env._now, _, _, fn, arg = heappop(q)
            fn(arg)
        env._now = until_s

    def run(self) -> RunRecord:
        """Run to the end: pop timers off SimPy's heap and call them (see the module
        docstring), then return the replication's record."""
        q, env = self.q, self.env
        paused = gc.isenabled()
        if paused:  # see the module docstring: nothing here needs the cyclic collector
            gc.disable()
        try:
            while q:
                env._now, _, _, fn, arg = heappop(q)
                fn(arg)
        except _Stop:
            pass
        else:  # the schedule ran dry with measured contacts waiting
            raise SimulationError(
                f"{self.pending} contacts arriving in the measured period were never served "
                "(no agent could ever take them, and waiting there they do not abandon: "
                "a transferred or async contact has no patience); waiting at the end, "
                f"measured or not: {self._stuck()}. Check that the tiers these contacts "
                "are routed or transferred to have agents on the queue (after shrinkage and "
                "coaching, rounded per interval) while their channel is open") from None
        finally:
            if paused:
                gc.enable()
        h = self.horizon_s
        absent = any(isinstance(st, AbsentStaffing) for st in self.staffing)
        return RunRecord(
            contacts=self.log.frozen(),
            tally=self.log.tally,
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
            agents_by_interval=tuple(
                tuple(st.on_queue_at(i * self.slot_s) for st in self.staffing)
                for i in range(self.n_slots)) if absent else None,
        )
