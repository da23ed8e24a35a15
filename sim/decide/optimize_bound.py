"""A lower bound on the cost of any staffing that meets the wait targets: the
period-by-period Erlang requirement with ample skills, priced at the cheapest tier.

"Ample skills": every agent can take every contact at the best speed any tier has for it,
so all contacts form one pooled queue (the most efficient use of agents); that queue's
on-queue agents per interval are the fewest meeting the steerable wait targets in Erlang A
(Erlang C without patience) -- a pooled first-come-first-served queue gives every channel
and type the same waits, so each target is checked on it -- and every on-queue hour is
bought at the cheapest tier's cost per on-queue hour (cost_per_hour / on-queue share).
Agents of tiers kept as they are (not optimised) are subtracted.

- Flat staffing (one number per tier for the whole horizon): the requirement of the mean
  load of the intervals with load (waits grow convexly with load, so a flat staffing that
  meets a mean target over a varying load needs at least this), per hour.
- Staffing per interval: the sum over the week's intervals of each interval's own
  requirement, per week of paid hours.

It is a bound under the Erlang model (exponential handle times and patience, a stationary
load within each interval); transfers, repeats and routing delays only add work, so the
true optimum is at or above it. Shown with the gap (found - bound) / bound.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.decide.optimize_sipp import SlotLoad, erlang_requirement
from sim.inputs.config import Scenario, Target
from sim.inputs.schedule import MINUTES_PER_DAY, weekly_agents

WAIT_METRICS = ("asa_s", "mean_wait_s", "service_level", "abandon_rate", "p_wait")


@dataclass(frozen=True, slots=True)
class Bound:
    cost: float                 # flat: per hour; per interval: per week
    agents: list[int]           # pooled on-queue agents per week slot (flat: one number)
    cheapest_tier: str
    cost_per_on_queue_hour: float
    unit: str                   # "per hour" or "per week"


def pooled_loads(sc: Scenario) -> list[SlotLoad]:
    """The pooled offered load per week slot, each type at its best tier speed."""
    per_day = MINUTES_PER_DAY // sc.interval_minutes
    from sim.inputs.calendar import hours_or_none

    loads = [SlotLoad() for _ in range(7 * per_day)]
    for ch in sc.channels.values():
        prof = ch.arrivals.profile_per_hour or [ch.arrivals.rate_per_hour or 0.0] * per_day
        days = ch.arrivals.day_factors or [1.0] * 7
        window = hours_or_none(ch.open_hours)
        patience = ch.patience.mean_s if ch.patience is not None else None
        for ctype, share in ch.mix.items():
            speeds = [t.serves[ctype] for t in sc.tiers.values() if ctype in t.serves]
            if not speeds:
                continue
            contained = ch.bot.containment.get(ctype, 0.0) if ch.bot else 0.0
            hold_s = ch.handle_time[ctype].mean_s / max(speeds) / ch.concurrency
            for i, load in enumerate(loads):
                if ch.mode == "realtime" and window is not None and not window.is_open(
                        i * sc.interval_minutes * 60.0):
                    continue
                r = prof[i % len(prof)] * days[i // per_day] * share * (1 - contained)
                if r > 0:
                    load.add(r, r * hold_s / 3600.0, patience, ch.service_level_threshold_s)
    strictest = min(ch.service_level_threshold_s for ch in sc.channels.values())
    for load in loads:  # one pooled queue: the strictest service-level threshold
        load.threshold_s = strictest
    return loads


def _targets(sc: Scenario) -> list[Target]:
    contact = set(sc.channels) | {"all", "realtime", "async"} | {
        y for ch in sc.channels.values() for y in ch.mix}
    return [t for t in sc.targets if t.metric.split(".")[0] in contact
            and t.metric.split(".")[1] in WAIT_METRICS]


def lower_bound(sc: Scenario, tiers: list[str], flat: bool) -> Bound:
    per_day = MINUTES_PER_DAY // sc.interval_minutes
    n = 7 * per_day
    loads = pooled_loads(sc)
    targets = _targets(sc)
    fixed = [0.0] * n
    for k, t in sc.tiers.items():
        if k in tiers or not t.serves:
            continue
        per_slot = ([float(t.agents or 0)] * n if t.schedule is None
                    else [float(a) for a in weekly_agents(t.schedule, sc.interval_minutes)])
        fixed = [f + a * t.on_queue_factor for f, a in zip(fixed, per_slot, strict=True)]
    price = {k: sc.tiers[k].cost_per_hour / sc.tiers[k].on_queue_factor for k in tiers}
    cheapest = min(price, key=price.__getitem__)
    if flat:
        busy = [(i, s) for i, s in enumerate(loads) if s.erlangs > 0]
        if not busy:
            return Bound(0.0, [0], cheapest, price[cheapest], "per hour")
        m = len(busy)
        mean = SlotLoad(sum(s.rate_per_hour for _, s in busy) / m,
                        sum(s.erlangs for _, s in busy) / m,
                        sum(s.patience_weight for _, s in busy) / m,
                        sum(s.patient_rate for _, s in busy) / m,
                        min(s.threshold_s for _, s in busy))
        need = max(0.0, erlang_requirement(mean, targets) - sum(fixed[i] for i, _ in busy) / m)
        return Bound(need * price[cheapest], [round(need)], cheapest, price[cheapest],
                     "per hour")
    need_slots = [max(0.0, erlang_requirement(s, targets) - f) if s.erlangs > 0 else 0.0
                  for s, f in zip(loads, fixed, strict=True)]
    hours = sc.interval_minutes / 60.0
    return Bound(sum(need_slots) * hours * price[cheapest], [round(x) for x in need_slots],
                 cheapest, price[cheapest], "per week")


def gap_share(found: float, bound: float) -> float:
    """(found - bound) / bound; NaN when the bound is 0."""
    return (found - bound) / bound if bound > 0 else float("nan")
