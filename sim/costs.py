"""Cost of one replication's measured period, in the scenario's currency (SPEC §5 `cost`)."""

from __future__ import annotations

import math

from sim.config import Scenario
from sim.records import RunRecord
from sim.routing import RouteTables


def cost_metrics(sc: Scenario, tables: RouteTables, rec: RunRecord,
                 offered: float) -> dict[str, float]:
    """labor (paid agent-hours x rate), bot (sessions x price), total, per_contact, labor_share."""
    labor = sum(area / 3600.0 * sc.tiers[t].cost_per_hour
                for t, area in zip(tables.tiers, rec.available_area, strict=True))
    bot = 0.0
    for ch, sessions in zip(tables.channels, rec.bot_sessions, strict=True):
        b = sc.channels[ch].bot
        if b is not None:
            bot += sessions * b.cost_per_session
    total = labor + bot
    return {
        "labor": labor,
        "bot": bot,
        "total": total,
        "per_contact": total / offered if offered > 0 else math.nan,
        "labor_share": labor / total if total > 0 else math.nan,
    }
