"""Staffing plan of a scenario: agents paid and agents on queue, slot by slot over a week.

A tier has either a constant ``agents`` or a ``schedule``. Paid agents are the scheduled
heads; agents on queue are ``round(paid x (1 - shrinkage) x (1 - coaching_share))`` in each
slot (shrinkage: breaks, meetings, absence; coaching: trainers' time with others).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.config import Scenario
from sim.schedule import paid_agent_hours, weekly_agents


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
