"""Staffing plan of a scenario: agents paid and agents on queue, slot by slot over a week.

A tier has either a constant ``agents`` or a ``schedule``. Paid agents are the scheduled
heads; agents on queue are ``round(paid x (1 - shrinkage) x (1 - coaching_share))`` in each
slot (shrinkage: breaks, meetings, planned absence; coaching: trainers' time with others).

Unplanned absence (``absence_share`` p, :class:`AbsentStaffing`): each day, each agent on
that day's schedule is absent with probability p, independently, for the whole day; the
on-queue number is then ``round(present x (1 - shrinkage) x (1 - coaching_share))``. Who is
"an agent of the day": with constant ``agents`` the n agents; with ``shifts`` each shift's
heads on each day it starts (a night shift belongs to the day it starts); with
``agents_per_interval`` a roster of the day's largest slot count, slot s using the first
n_s of them (so counts of one day nest). Each agent's draw is one uniform from a stream of
its own (tier, day, shift), so an added agent leaves the others' draws as they were.
Absence changes who is on the queue, never the paid hours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sim.inputs.config import Scenario
from sim.inputs.schedule import MINUTES_PER_DAY, paid_agent_hours, weekly_agents

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True, slots=True)
class TierStaffing:
    paid: tuple[int, ...]        # per slot of the week (Monday 00:00 first)
    on_queue: tuple[int, ...]    # per slot of the week
    interval_minutes: int

    @property
    def slot_s(self) -> float:
        return self.interval_minutes * 60.0

    def on_queue_at(self, t_s: float) -> int:
        return self.on_queue[math.floor(t_s / self.slot_s) % len(self.on_queue)]

    def paid_hours(self, start_s: float, end_s: float) -> float:
        return paid_agent_hours(list(self.paid), self.interval_minutes, start_s, end_s)


def tier_staffing(sc: Scenario, tier: str) -> TierStaffing:
    t = sc.tiers[tier]
    slots = 7 * 1440 // sc.interval_minutes
    paid = (weekly_agents(t.schedule, sc.interval_minutes) if t.schedule is not None
            else [int(t.agents or 0)] * slots)
    factor = t.on_queue_factor
    on_queue = [int(math.floor(n * factor + 0.5)) for n in paid]
    return TierStaffing(tuple(paid), tuple(on_queue), sc.interval_minutes)


class AbsentStaffing:
    """On-queue agents of a tier with unplanned absence, slot by slot (one replication)."""

    def __init__(self, sc: Scenario, tier: str, replication: int, plan: TierStaffing) -> None:
        t = sc.tiers[tier]
        self.plan = plan
        self.p = t.absence_share
        self.factor = t.on_queue_factor
        self.minutes = sc.interval_minutes
        self.per_day = MINUTES_PER_DAY // self.minutes
        self.shifts = t.schedule.shifts if t.schedule is not None else None
        self._key = (sc.seed, replication, "tier", tier, "absence")
        self._present: dict[tuple[int, int], np.ndarray] = {}  # (day, group) -> cum present

    @property
    def on_queue(self) -> tuple[int, ...]:
        return self.plan.on_queue  # the plan (an upper bound of every day's)

    def _cum_present(self, day: int, group: int, heads: int) -> np.ndarray:
        """Cumulative count of present agents among the first 1..heads of a roster."""
        got = self._present.get((day, group))
        if got is None or got.size < heads:
            import numpy as np  # here: start-up does not load numpy (issue 16)

            from sim.base.streams import stream

            u = stream(*self._key, str(day), str(group)).random(heads)
            got = np.cumsum(u >= self.p)
            self._present[(day, group)] = got
        return got

    def present_at(self, t_s: float) -> int:
        """Paid heads present in the slot containing ``t_s``."""
        slot = math.floor(t_s / (self.minutes * 60.0))
        day = slot // self.per_day
        week_slot = slot % len(self.plan.paid)
        if self.shifts is None:
            heads = self.plan.paid[week_slot]
            if heads == 0:
                return 0
            first = (day % 7) * self.per_day
            roster = max(self.plan.paid[first:first + self.per_day])
            return int(self._cum_present(day, 0, roster)[heads - 1])
        t_min = slot * self.minutes
        total = 0
        for i, sh in enumerate(self.shifts):
            start, length = sh.minutes
            d0 = (t_min - start) // MINUTES_PER_DAY  # the day this shift's cover began
            if sh.agents and t_min - (d0 * MINUTES_PER_DAY + start) < length and \
                    _DAYS[d0 % 7] in sh.days:
                total += int(self._cum_present(d0, i, sh.agents)[-1])
        return total

    def on_queue_at(self, t_s: float) -> int:
        return int(math.floor(self.present_at(t_s) * self.factor + 0.5))

    def paid_hours(self, start_s: float, end_s: float) -> float:
        return self.plan.paid_hours(start_s, end_s)


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def replication_staffing(sc: Scenario, tier: str, replication: int
                         ) -> TierStaffing | AbsentStaffing:
    """The staffing a replication applies: the plan, or the plan less each day's absence."""
    plan = tier_staffing(sc, tier)
    if sc.tiers[tier].absence_share <= 0.0:
        return plan
    return AbsentStaffing(sc, tier, replication, plan)
