"""Engine handlers, part 2: service — choosing an agent, starting and ending a service
(resolution, transfer, repeat), and an agent taking the next waiting contact.

Mixed into :class:`sim.model.engine.Engine`; the state they use is set up there. Hooks, one line
each: a service under concurrency slowdown (``self.slow``, sim/model/engine_slowdown.py), the
callback taken from the queue (sim/model/engine_retry.py), async gates (sim/model/engine_async.py).
"""

from __future__ import annotations

from heapq import heappush
from itertools import compress

from simpy.events import NORMAL

from sim.model.entities import (
    DONE,
    LOST,
    REPEAT,
    RESOLVED,
    SERVING,
    TRANSFER,
    WAITING,
    Agent,
    Contact,
)
from sim.model.records import ANSWERED, ContactLog

FLUSH = ContactLog.FLUSH


class Service:
    """Agents taking contacts."""

    def _start(self, c: Contact, a: Agent, now: float) -> None:
        """Agent ``a`` takes contact ``c``: decide how the service ends, schedule its end."""
        c.state = SERVING
        c.agent = a
        tier = a.tier
        ch, ty = c.ch, c.ty
        if c.first_wait < 0.0:
            c.first_wait = now - c.join_t
            c.first_tier = tier
        handle = c.work_s / self.speed[tier][ty] + c.extra_s
        c.extra_s = 0.0
        fcr = self.fcr[tier][ty]
        if fcr >= 1.0 or (c.res_u if c.transfers == 0 else self.sources[ch].more_u()) < fcr:
            c.plan = RESOLVED
        else:
            src = self.sources[ch]
            nxt = self.t.next_stage[ch][ty][tier]
            if self.transfer_share > 0.0 and nxt >= 0 and src.more_u() < self.transfer_share:
                c.plan = TRANSFER
                c.stage = nxt
                handle += self.transfer_overhead_s
            elif self.repeat_share > 0.0 and src.more_u() < self.repeat_share:
                c.plan = REPEAT
            else:
                c.plan = LOST
        c.handle_s = handle
        k = self.conc[ch]
        if a.held == 0:
            a.ch = ch
            lv = self.busy_level[tier]  # .change(now, 1) inlined
            lo = lv.last if lv.last > lv.start else lv.start
            hi = now if now < lv.end else lv.end
            if hi > lo:
                lv.area += lv.value * (hi - lo)
            lv.last = now
            lv.value += 1
            if k > 1:
                self.slack_level[tier].change(now, 1.0 / k - 1.0)
        elif k > 1:
            self.slack_level[tier].change(now, 1.0 / k)
        a.held += 1
        if c.measured:
            self.handled[tier] += 1
        if self.trace is not None:
            self.trace.append((c.cid, now, "answer", ch, ty, tier))
        if self.slow[ch] is None:  # the end timer (from the clock's now, like every timer)
            heappush(self.q, (self.env._now + handle, NORMAL, next(self.eid), self.on_end, c))
        else:  # concurrency slowdown (sim/model/engine_slowdown.py)
            self._slow_start(c, a, now)

    def _end_service(self, c: Contact) -> None:
        a = c.agent
        now = self.env._now
        tier, ch = a.tier, a.ch
        k = self.conc[ch]
        if k > 1 and not a.leaving and a.held < k:
            self.partial[tier][ch].remove(a)
        a.held -= 1
        if a.held == 0:
            lv = self.busy_level[tier]  # .change(now, -1) inlined
            lo = lv.last if lv.last > lv.start else lv.start
            hi = now if now < lv.end else lv.end
            if hi > lo:
                lv.area += lv.value * (hi - lo)
            lv.last = now
            lv.value += -1
            if k > 1:
                self.slack_level[tier].change(now, 1.0 - 1.0 / k)
        elif k > 1:
            self.slack_level[tier].change(now, -1.0 / k)
        c.handle_total += c.handle_s
        plan = c.plan
        if self.trace is not None:
            self.trace.append((c.cid, now, "transfer" if plan == TRANSFER else "end",
                               c.ch, c.ty, tier))
        if plan == TRANSFER:
            if not c.transfers:
                c.join0 = c.join_t  # the first wait's start, for the business clock
            c.transfers += 1
            c.work_s = self.sources[c.ch].transfer_work[c.ty]()
            self._join(c)
        else:
            c.state = DONE
            if plan == REPEAT:
                self._schedule_repeat(c)
            cc = c.ch
            if c.measured and self.sla[cc] is None and c.first_wait >= 0.0:
                rows = self.rows  # _finish(c, ANSWERED) inlined, its common case
                rows.append((cc, c.ty, ANSWERED, c.first_tier, c.arr_t, c.first_wait,
                             c.handle_total, c.repeat, c.transfers,
                             1 if plan == RESOLVED else 0))
                if len(rows) >= FLUSH:
                    self.log.pack()
                self.pending -= 1
                if self.pending == 0 and self.horizon_over:
                    self._stop_soon()
            else:
                self._finish(c, ANSWERED)
        if a.leaving:
            if a.held == 0:
                self._log_off(a, now)
        else:
            self._dispatch(a, now)

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
        solo = self.solo_line[a.tier]
        if solo is not None and not a.held:  # one queue: its first contact still waiting
            while solo:
                c = solo.popleft()
                if c.state > WAITING:
                    continue  # taken on overflow, or abandoned: drop it
                self.waiting[c.ch] -= 1
                lv = self.queue_level[c.ch * self.n_types + c.ty]  # .change(now, -1)
                lo = lv.last if lv.last > lv.start else lv.start
                hi = now if now < lv.end else lv.end
                if hi > lo:
                    lv.area += lv.value * (hi - lo)
                lv.last = now
                lv.value += -1
                if not c.state and not self._call_back(c, now):
                    continue  # a callback that did not reach its customer
                self._start(c, a, now)
                return
            a.since = now
            self.idle[a.tier].append(a)
            return
        conc = self.conc
        if a.held and a.held >= conc[a.ch]:
            return  # full: it comes back here when one of its contacts ends
        lines, qs = self.lines[a.tier], self.line_qs[a.tier]
        while True:
            best_q = None
            best_prio = best_join = 0.0
            restrict = a.ch if a.held > 0 else -1
            for q, ch, after_s, prio, gate in compress(lines, qs):  # the non-empty queues
                if restrict >= 0 and ch != restrict:
                    continue
                head = q[0]
                while head.state > WAITING:  # taken on overflow, or abandoned: drop it
                    q.popleft()
                    if not q:
                        break
                    head = q[0]
                else:
                    if head.join_t + after_s <= now and (
                            best_q is None or prio < best_prio
                            or (prio == best_prio and head.join_t < best_join)):
                        if gate is None or gate.allows(self, a.tier, now):
                            best_q, best_prio, best_join = q, prio, head.join_t
            if best_q is None:
                break
            c = best_q.popleft()
            self.waiting[c.ch] -= 1
            lv = self.queue_level[c.ch * self.n_types + c.ty]  # .change(now, -1) inlined
            lo = lv.last if lv.last > lv.start else lv.start
            hi = now if now < lv.end else lv.end
            if hi > lo:
                lv.area += lv.value * (hi - lo)
            lv.last = now
            lv.value += -1
            if not c.state and not self._call_back(c, now):
                continue  # a callback that did not reach its customer: take the next one
            self._start(c, a, now)
            if a.held >= conc[a.ch]:
                return
        if a.held == 0:
            a.since = now
            self.idle[a.tier].append(a)
        else:
            self.partial[a.tier][a.ch].append(a)

    def _park_if_room(self, a: Agent) -> None:
        if a.held < self.conc[a.ch]:
            self.partial[a.tier][a.ch].append(a)
