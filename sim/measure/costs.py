"""Cost of one replication's measured period, in the scenario's currency (SPEC §5 `cost`)."""

from __future__ import annotations

import math

from sim.inputs.config import Scenario
from sim.model.records import RunRecord
from sim.model.routing import RouteTables

HOURS_PER_MONTH = 8760.0 / 12.0


def cost_metrics(sc: Scenario, tables: RouteTables, rec: RunRecord,
                 offered: float) -> dict[str, float]:
    """labor (paid agent-hours x rate), bot (sessions x price), overhead (per hour and per
    month of the horizon), total, per_contact, labor_share."""
    labor = sum(hours * sc.tiers[t].cost_per_hour
                for t, hours in zip(tables.tiers, rec.paid_hours, strict=True))
    bot = 0.0
    for ch, sessions in zip(tables.channels, rec.bot_sessions, strict=True):
        b = sc.channels[ch].bot
        if b is not None:
            bot += sessions * b.cost_per_session
    hours = rec.horizon_s / 3600.0
    overhead = (sc.costs.overhead_per_hour * hours
                + sc.costs.overhead_per_month * hours / HOURS_PER_MONTH)
    total = labor + bot + overhead
    return {
        "labor": labor,
        "bot": bot,
        "total": total,
        "per_contact": total / offered if offered > 0 else math.nan,
        "labor_share": labor / total if total > 0 else math.nan,
        "overhead": overhead,
    }
