"""Period-by-period Erlang requirement ("SIPP"): the start of the interval search.

Each interval is staffed for its own offered load as if it were stationary. Tier k's load
in slot i is the sum, over the (channel, type) pairs whose first routing step is k, of
rate x (1 - bot containment) x mean handle time / speed / concurrency; the on-queue agents
are the fewest meeting the tier's wait targets in Erlang A (exponential patience), or
R + sqrt(R) when no wait target applies. Used by sim.decide.optimize_intervals (the start),
sim.decide.optimize (the flat Erlang start) and sim.decide.optimize_bound (the lower bound).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.inputs.calendar import hours_or_none
from sim.inputs.config import Scenario, Target
from sim.inputs.schedule import MINUTES_PER_DAY
from sim.model.erlang import erlang_a_metrics
from sim.model.routing import eligible_steps


@dataclass
class SlotLoad:
    """Offered load of one tier in one slot, as period-by-period Erlang staffing sees it."""

    rate_per_hour: float = 0.0
    erlangs: float = 0.0
    patience_weight: float = 0.0   # sum of rate x mean patience (rate-weighted mean)
    patient_rate: float = 0.0      # rate of contacts that may abandon
    threshold_s: float = 20.0

    def add(self, rate_per_hour: float, erlangs: float, patience_s: float | None,
            threshold_s: float) -> None:
        self.rate_per_hour += rate_per_hour
        self.erlangs += erlangs
        if patience_s is not None:
            self.patience_weight += rate_per_hour * patience_s
            self.patient_rate += rate_per_hour
        self.threshold_s = threshold_s

    @property
    def patience_s(self) -> float:
        # contacts that never abandon dilute the abandonment rate: mean of 1/patience
        if self.patient_rate <= 0:
            return math.inf
        mean = self.patience_weight / self.patient_rate
        return mean * self.rate_per_hour / self.patient_rate


def offered_loads(sc: Scenario, tiers: list[str]) -> dict[str, list[SlotLoad]]:
    """Per tier, per week slot: the load sent to the tier's first routing step."""
    per_day = MINUTES_PER_DAY // sc.interval_minutes
    n = 7 * per_day
    loads = {k: [SlotLoad() for _ in range(n)] for k in sc.tiers}
    for cname, ch in sc.channels.items():
        prof = ch.arrivals.profile_per_hour or [ch.arrivals.rate_per_hour or 0.0] * per_day
        days = ch.arrivals.day_factors or [1.0] * 7
        window = hours_or_none(ch.open_hours)  # daily or by weekday
        patience = ch.patience.mean_s if ch.patience is not None else None
        for ctype, share in ch.mix.items():
            steps, _ = eligible_steps(sc, cname, ctype)
            if not steps:
                continue
            first = [t for after, t in steps if after == steps[0][0]]
            contained = ch.bot.containment.get(ctype, 0.0) if ch.bot else 0.0
            mean_s = ch.handle_time[ctype].mean_s
            for i in range(n):
                if ch.mode == "realtime" and window is not None and not window.is_open(
                        i * sc.interval_minutes * 60.0):
                    continue
                rate = prof[i % len(prof)] * days[i // per_day] * share * (1 - contained)
                for t in first:
                    r = rate / len(first)
                    hold_s = mean_s / sc.tiers[t].serves[ctype] / ch.concurrency
                    loads[t][i].add(r, r * hold_s / 3600.0, patience,
                                    ch.service_level_threshold_s)
    return {k: loads[k] for k in tiers}


def tier_targets(sc: Scenario, tier: str) -> list[Target]:
    """Steerable wait targets on a scope whose contacts this tier serves first."""
    feeds = {"all"}
    for cname, ch in sc.channels.items():
        for ctype in ch.mix:
            steps, _ = eligible_steps(sc, cname, ctype)
            if steps and tier in [t for after, t in steps if after == steps[0][0]]:
                feeds |= {cname, ctype}
    return [t for t in sc.targets if t.metric.split(".")[0] in feeds
            and t.metric.split(".")[1] in ("asa_s", "mean_wait_s", "service_level",
                                           "abandon_rate", "p_wait")]


def _meets(load: SlotLoad, agents: int, targets: list[Target]) -> bool:
    aht = load.erlangs * 3600.0 / load.rate_per_hour
    q = erlang_a_metrics(load.rate_per_hour, aht, agents, load.patience_s, load.threshold_s)
    for t in targets:
        v = getattr(q, t.metric.split(".")[1])
        if (t.max is not None and v > t.max) or (t.min is not None and v < t.min):
            return False
    return True


def erlang_requirement(load: SlotLoad, targets: list[Target]) -> int:
    """Fewest on-queue agents meeting ``targets`` in Erlang A (C without patience) for one
    stationary load; R + sqrt(R) when no wait target applies."""
    r = load.erlangs
    if r <= 0:
        return 0
    if not targets:
        return math.ceil(r + math.sqrt(r))
    n = max(1, math.floor(r))
    cap = math.ceil(r + 10 * math.sqrt(r) + 20)
    while n < cap and not _meets(load, n, targets):
        n += 1
    return n


def tier_requirement(sc: Scenario, tier: str, load: SlotLoad) -> int:
    return erlang_requirement(load, tier_targets(sc, tier))


def sipp_on_queue(sc: Scenario, tiers: list[str]) -> dict[str, list[int]]:
    """Period-by-period Erlang staffing: on-queue agents per tier and week slot."""
    out = {}
    for k, slots in offered_loads(sc, tiers).items():
        targets = tier_targets(sc, k)
        out[k] = [erlang_requirement(load, targets) for load in slots]
    return out
