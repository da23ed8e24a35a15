"""Engine handlers, part 3: staffing — agents logging on and off at interval boundaries,
the interval snapshot of backlogs and busy agents.

Mixed into :class:`sim.model.engine.Engine`; the state they use is set up there.
"""

from __future__ import annotations

from heapq import heappush

from sim.model.entities import Agent, at


class Staffing:
    """The staffing plan applied over time."""

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

    def _tick(self, arg) -> None:  # noqa: ANN001
        """Interval boundary: snapshot the backlog, apply the staffing plan."""
        now = arg
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
        self.far_moved += 1  # far timers of the interval after this one into the heap
        bucket = self.far.pop(self.far_moved, None)
        if bucket is not None:
            q = self.q
            for entry in bucket:
                heappush(q, entry)
        nxt = now + self.slot_s
        if self._goes_on(nxt):
            at(self, nxt - self.env.now, self.on_tick, nxt)
