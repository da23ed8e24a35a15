"""Engine handlers, part 1: a contact's way in — arrival, the bot, joining the agent queue,
being refused (blocked, closed), abandoning, and overflow to later routing steps.

Mixed into :class:`sim.model.engine.Engine`; the state they use is set up there. Features with
their own handlers hook in here at a single line each: retrials after a failed attempt
(``self.retry``, sim/model/engine_retry.py), the callback offer to a queued caller
(``self.callback``, idem), async opening hours and reserve agents (``self.async_gate``,
sim/model/engine_async.py).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from heapq import heappush

from simpy.events import NORMAL

from sim.model.entities import DONE, REPEAT_FLAG, WAITING, Contact, OverflowChain, at_later
from sim.model.records import ABANDONED, BLOCKED, CLOSED, CONTAINED
from sim.model.sources import ChannelSource, Customers


class Front:
    """Arrivals, the bot and the queue."""

    def _arrive(self, ci: int) -> None:
        """A new customer on channel ``ci``: schedule the next one, make the contact and
        send it on (the hot path: constant-rate channels skip the profile walk, one-type
        channels the mix draw)."""
        now = self.env._now
        src = self.sources[ci]
        gap = src.mean_gap_s
        if gap:
            nxt = now + src.exp() * gap
        else:
            nxt = src.clock.next_after(now, src.exp())
        if nxt < self.arrivals_end:
            heappush(self.q, (now + (nxt - now), NORMAL, next(self.eid), self.on_arrive, ci))
        cust = src.primary
        ty = cust.single_type
        if ty < 0:
            k = bisect_right(cust.cum_shares, cust.mix_u())
            ty = cust.type_ix[k if k < len(cust.type_ix) else -1]
        cid = self.n_contacts
        self.n_contacts = cid + 1
        measured = 0.0 <= now < self.horizon_s
        pat = cust.patience
        res = cust.res_u
        c = Contact(cid, ci, ty, now, cust.work[ty](), pat() if pat is not None else math.inf,
                    res() if res is not None else 0.0, 0, measured)
        if measured:
            self.pending += 1
        solo = self.arrive_solo[ci * self.n_types + ty]
        if solo:  # _join's fast path: an idle agent of the one tier takes it
            c.join_t = now
            self._start(c, solo.popleft(), now)
        elif self.trace is not None:
            self._admit(c, src, cust, now)
        elif cust.bot_time is None:
            self._join(c)
        elif src.bot_window is None or src.bot_window.is_open(now):  # _admit's bot, inlined
            if measured:
                self.bot_sessions[ci] += 1
            bot_s = cust.bot_time()
            contained = cust.bot_u() < src.containment[ty]  # type: ignore[index]
            heappush(self.q, (now + bot_s, NORMAL, next(self.eid),
                              self.on_contained if contained else self.on_escalated, c))
        else:
            self._join(c)

    def _repeat_arrive(self, arg: tuple[int, int]) -> None:
        ci, ty = arg
        src = self.sources[ci]
        self._enter(ci, src, src.repeat, ty, self.env._now, REPEAT_FLAG)

    def _enter(self, ci: int, src: ChannelSource, cust: Customers, ty: int, now: float,
               repeat: int) -> None:
        cid = self.n_contacts
        self.n_contacts = cid + 1
        measured = 0.0 <= now < self.horizon_s
        c = Contact(cid, ci, ty, now, cust.work[ty](),
                    cust.patience() if cust.patience is not None else math.inf,
                    cust.res_u() if cust.res_u is not None else 0.0, repeat, measured)
        if measured:
            self.pending += 1
        self._admit(c, src, cust, now)

    def _admit(self, c: Contact, src: ChannelSource, cust: Customers, now: float) -> None:
        """Trace the arrival, then the bot (if open) or the agent queue."""
        if self.trace is not None:
            self.trace.append((c.cid, now, "arrive", c.ch, c.ty, -1))
        if cust.bot_time is not None and (src.bot_window is None
                                          or src.bot_window.is_open(now)):
            if c.measured:
                self.bot_sessions[c.ch] += 1
            bot_s = cust.bot_time()
            contained = cust.bot_u() < src.containment[c.ty]  # type: ignore[index]
            heappush(self.q, (self.env._now + bot_s, NORMAL, next(self.eid),
                              self.on_contained if contained else self.on_escalated, c))
        else:
            self._join(c)

    def _bot_contained(self, c: Contact) -> None:
        c.state = DONE
        src = self.sources[c.ch]
        if src.false_containment > 0.0 and src.more_u() < src.false_containment:
            self._schedule_repeat(c)
        if self.trace is not None:
            self.trace.append((c.cid, self.env._now, "contained", c.ch, c.ty, -1))
        self._finish(c, CONTAINED)

    def _bot_escalated(self, c: Contact) -> None:
        factor, added_s = self.escalation[c.ch]
        c.patience_s *= factor
        c.extra_s += added_s
        self._join(c)

    def _schedule_repeat(self, c: Contact) -> None:
        src = self.sources[c.ch]
        at_later(self, src.repeat_delay(), self.on_repeat, (self.repeat_to[c.ch], c.ty))

    def _join(self, c: Contact) -> None:
        """The contact asks for an agent: served at once, queued, or blocked."""
        now = self.env._now
        c.join_t = now
        ch = c.ch
        ty = c.ty
        qi = (ch * self.n_types + ty) * self.n_stages + c.stage
        first_leg = c.transfers == 0
        window = self.gate[ch]
        if window is not None and first_leg and not window.is_open(now):
            self._refuse(c, CLOSED, "closed")
            return
        solo = self.solo_idle[qi]
        if solo is not None:  # one tier, one contact at a time: its longest-idle agent
            if solo:  # (held 1 of concurrency 1 after _start: never partly busy)
                self._start(c, solo.popleft(), now)
                return
            agent = None
        elif self.async_gate[ch] is None:
            agent = self._find_agent(ch, self.first_by_q[qi])
        else:  # async opening hours, reserve agents
            agent = self._async_agent(ch, self.first_by_q[qi], now)
        if agent is not None:
            self._start(c, agent, now)
            if agent.held < self.conc[ch]:  # a free slot left: partly busy
                self.partial[agent.tier][ch].append(agent)
            return
        if first_leg and self.waiting[ch] >= self.capacity[ch]:
            self._refuse(c, BLOCKED, "blocked")
            return
        c.state = WAITING
        self.queues[qi].append(c)
        self.waiting[ch] += 1
        lv = self.queue_level[ch * self.n_types + ty]  # .change(now, 1) inlined
        lo = lv.last if lv.last > lv.start else lv.start
        hi = now if now < lv.end else lv.end
        if hi > lo:
            lv.area += lv.value * (hi - lo)
        lv.last = now
        lv.value += 1
        if self.trace is not None:
            self.trace.append((c.cid, now, "queue", ch, ty, -1))
        q, eid = self.q, self.eid
        if first_leg:
            if c.patience_s < math.inf:
                heappush(q, (now + c.patience_s, NORMAL, next(eid), self.on_renege, c))
            cb = self.callback[ch]
            if cb is not None:
                heappush(q, (now + cb.offer_after_s, NORMAL, next(eid), self.on_offer, c))
        for chain in self.overflow_chains[qi]:  # sim/model/entities.py: OverflowChain
            t = now + chain.after_s
            chain.pending.append((t, c, c.transfers))
            if not chain.armed:
                chain.armed = True
                heappush(q, (t, NORMAL, next(eid), self.on_overflow, chain))

    def _refuse(self, c: Contact, outcome: int, event: str) -> None:
        c.state = DONE
        if self.trace is not None:
            self.trace.append((c.cid, self.env.now, event, c.ch, c.ty, -1))
        if self.retry[c.ch] is not None:
            self._after_failure(c, outcome)
        self._finish(c, outcome)

    def _renege(self, c: Contact) -> None:
        if c.state != WAITING or c.transfers:  # answered, or a callback (never abandons)
            return
        now = self.env._now
        c.state = DONE
        c.first_wait = now - c.join_t
        self.waiting[c.ch] -= 1
        self.queue_level[c.ch * self.n_types + c.ty].change(now, -1)
        if self.trace is not None:
            self.trace.append((c.cid, now, "abandon", c.ch, c.ty, -1))
        if self.retry[c.ch] is not None:
            self._after_failure(c, ABANDONED)
        self._finish(c, ABANDONED)

    def _overflow(self, chain: OverflowChain) -> None:
        """A routing step's ``after_s`` passed for the first contact of ``chain``: it may
        now go to that step's tiers too. Then the timer moves on to the next live entry."""
        now = self.env._now
        pending = chain.pending
        while pending:
            t, c, leg = pending[0]
            if c.state > WAITING or c.transfers != leg:  # answered, abandoned, transferred
                pending.popleft()
                continue
            if t > now:
                heappush(self.q, (t, NORMAL, next(self.eid), self.on_overflow, chain))
                return
            pending.popleft()
            self._overflow_one(c, chain.tiers, now)
        chain.armed = False

    def _overflow_one(self, c: Contact, tiers: tuple[int, ...], now: float) -> None:
        if self.async_gate[c.ch] is None:
            agent = self._find_agent(c.ch, tiers)
        else:  # worked from the backlog when the channel opens
            agent = self._async_agent(c.ch, tiers, now)
        if agent is not None:
            self.waiting[c.ch] -= 1
            self.queue_level[c.ch * self.n_types + c.ty].change(now, -1)
            if not c.state and not self._call_back(c, now):  # an unreached callback
                self._dispatch(agent, now)
                return
            self._start(c, agent, now)  # the queue entry is skipped later (state != WAITING)
            self._park_if_room(agent)
