"""Engine handlers, part 5: concurrency slowdown (``channels.<name>.concurrency_slowdown``).

While an agent holds m contacts of such a channel, each progresses at speed
1 / factor[m - 1]; a contact's handle time (its drawn work divided by the tier's speed
factor, plus any added seconds) is its work at speed 1. Whenever m changes, the remaining
work of every contact in hand is brought up to date and its end timer is scheduled anew;
the old timer is left in the heap and ignored when it fires (its version is stale), as
every cancelled timer in this engine. ``handle_s`` is then the time the service took.

Mixed into :class:`sim.model.engine.Engine`; a channel without slowdown (``slow[ch] is None``)
never reaches this module.
"""

from __future__ import annotations

from sim.model.entities import Agent, Contact, at


class Slowdown:
    """Services that slow down as an agent holds more contacts."""

    def _slow_start(self, c: Contact, a: Agent, now: float) -> None:
        c.rem = c.handle_s     # work left, in seconds at speed 1
        c.t0 = c.last = now
        a.jobs.append(c)
        self._reschedule(a, now)

    def _reschedule(self, a: Agent, now: float) -> None:
        """Bring the work left of ``a``'s contacts up to ``now`` at the factor in effect so
        far, then schedule their ends at the factor for the number held now."""
        jobs = a.jobs
        if not jobs:
            return
        old = a.factor
        new = self.slow[a.ch][len(jobs) - 1]
        on_end = self.on_slow_end
        for job in jobs:
            if job.last < now:
                job.rem -= (now - job.last) / old
                job.last = now
            self.slow_timers += 1  # versions are unique over the run (also across legs)
            job.ver = self.slow_timers
            at(self, max(0.0, job.rem * new), on_end, (job, job.ver))
        a.factor = new

    def _slow_end(self, arg) -> None:  # noqa: ANN001
        c, ver = arg
        if ver != c.ver:
            return  # rescheduled since
        a = c.agent
        now = self.env._now
        a.jobs.remove(c)
        c.handle_s = now - c.t0
        self._reschedule(a, now)  # the others speed up
        self._end_service(c)
