"""A roadmap month's simulated state under ``workforce:`` (sim/decide/workforce.py), and which
months to simulate.

State of month m: the plan's state of that month (the phase's, a ramp's linear step) with
each tier of the block changed by the workforce of that month:

- heads: every count of the tier (``agents``, each shift's agents, each slot of
  ``agents_per_interval``) times ``headcount / plan headcount``, rounded to whole agents
  (shifts by largest remainder, so the tier's scheduled agents total the rounded scaled
  total); ``schedule.headcount`` is the rounded headcount (at least the busiest slot).
  Paid hours, hence labour cost, follow.
- speed: ``serves`` (the tier's speed per contact type; handle time is divided by it)
  times the tier's blended speed factor.
- coaching: the ``coached_by`` tier's ``coaching_share`` is raised until its time on the
  queue over the simulated horizon, scaled to a month (x 730 h / horizon_hours), falls by
  the month's coaching hours, as near as whole agents per interval slot allow (its
  on-queue agents are rounded per slot, sim/model/staffing.py); the hours actually taken are
  reported (meta.json ``workforce.coaching``). More hours than its time on the queue:
  it coaches all of it (``coaching_share`` 1) and the rest is reported as not given.

Simulated months (knots): month 0 (the baseline), the first month of every phase without
a ramp, each ramp point, the last month of every phase and the horizon; then, one at a
time, the month where linear interpolation between neighbouring knots misses the
workforce most (largest of: headcount as a share of the tier's plan, speed factor,
coaching hours as a share of the coach's on-queue month), until that miss is under
``WORKFORCE_TOLERANCE`` or ``workforce_points`` extra months are used.
"""

from __future__ import annotations

import copy
import math

from sim.decide.workforce import WorkforcePath
from sim.inputs.config import Scenario
from sim.inputs.schedule import Schedule, paid_agent_hours, weekly_agents
from sim.model.staffing import tier_staffing

WORKFORCE_TOLERANCE = 0.01
HOURS_PER_MONTH = 8760.0 / 12.0   # as sim/measure/costs.py (not imported: it loads numpy)


def plan_heads(state: dict, tier: str, interval_minutes: int) -> float:
    """The tier's plan headcount in a (resolved) scenario mapping: ``agents``, else the
    schedule's ``headcount``, else its busiest slot."""
    t = (state.get("tiers") or {}).get(tier) or {}
    if t.get("agents") is not None:
        return float(t["agents"])
    sched = t.get("schedule") or {}
    if sched.get("headcount") is not None:
        return float(sched["headcount"])
    return float(max(weekly_agents(Schedule.model_validate(sched), interval_minutes),
                     default=0))


def _largest_remainder(counts: list[int], ratio: float) -> list[int]:
    exact = [c * ratio for c in counts]
    out = [math.floor(x) for x in exact]
    short = round(sum(exact)) - sum(out)
    order = sorted(range(len(counts)), key=lambda i: (-(exact[i] - out[i]), i))
    for i in order[:max(short, 0)]:
        out[i] += 1
    return out


def scale_heads(tier: dict, ratio: float, heads: float, interval_minutes: int) -> dict:
    """The tier's mapping with its agents scaled by ``ratio`` (``heads``: its headcount)."""
    t = copy.deepcopy(tier)
    if t.get("agents") is not None:
        t["agents"] = round(t["agents"] * ratio)
        return t
    sched = t["schedule"]
    if sched.get("shifts") is not None:
        new = _largest_remainder([int(s["agents"]) for s in sched["shifts"]], ratio)
        sched["shifts"] = [{**s, "agents": n} for s, n in zip(sched["shifts"], new,
                                                                strict=True)]
    else:
        sched["agents_per_interval"] = [round(n * ratio) for n in sched["agents_per_interval"]]
    if sched.get("headcount") is not None:
        busiest = max(weekly_agents(Schedule.model_validate(sched), interval_minutes),
                      default=0)
        sched["headcount"] = max(round(heads), busiest)
    return t


def apply_workforce(state: dict, path: WorkforcePath, month: int) -> dict:
    """Heads and speed of month ``month`` on the plan's state (coaching: see coach_share)."""
    out = copy.deepcopy(state)
    minutes = int(out.get("interval_minutes", 30))
    for name, tp in path.tiers.items():
        tier = out["tiers"][name]
        ratio = path.ratio(name, month)
        if ratio != 1.0:
            tier = scale_heads(tier, ratio, tp.headcount[month], minutes)
        speed = tp.speed[month]
        if speed != 1.0:
            tier["serves"] = {k: v * speed for k, v in (tier.get("serves") or {}).items()}
        out["tiers"][name] = tier
    return out


def on_queue_hours_per_month(sc: Scenario, tier: str, share: float | None = None) -> float:
    """The tier's planned hours on the queue over the horizon, scaled to a 730-hour month
    (with ``coaching_share`` = ``share`` if given)."""
    if share is not None:
        t = sc.tiers[tier].model_copy(update={"coaching_share": share})
        sc = sc.model_copy(update={"tiers": {**sc.tiers, tier: t}})
    st = tier_staffing(sc, tier)
    hours = paid_agent_hours(list(st.on_queue), st.interval_minutes, 0.0,
                             sc.horizon_hours * 3600.0)
    return hours * HOURS_PER_MONTH / sc.horizon_hours


def coach_share(sc: Scenario, tier: str, hours: float) -> tuple[float, float]:
    """(coaching_share, hours taken a month): the share at which the tier's on-queue month
    is ``hours`` shorter than with its own share, as near as rounding allows."""
    base_share = sc.tiers[tier].coaching_share
    if hours <= 0:
        return base_share, 0.0
    full = on_queue_hours_per_month(sc, tier)

    def lost(s: float) -> float:
        return full - on_queue_hours_per_month(sc, tier, s)

    if lost(1.0) <= hours:
        return 1.0, lost(1.0)
    lo, hi = base_share, 1.0          # lost(lo) < hours <= lost(hi)
    for _ in range(40):
        mid = (lo + hi) / 2
        if lost(mid) >= hours:
            hi = mid
        else:
            lo = mid
    best = min((lo, hi), key=lambda s: (abs(lost(s) - hours), s))
    if lost(best) <= 0:
        return base_share, 0.0   # less than one agent of one slot: nothing to take
    return best, lost(best)


def _lerp_miss(values: list[float], knots: list[int], m: int) -> float:
    a = max(k for k in knots if k <= m)
    b = min(k for k in knots if k >= m)
    if a == b:
        return 0.0
    w = (m - a) / (b - a)
    return abs(values[m] - (values[a] + w * (values[b] - values[a])))


def knot_months(fixed: set[int], path: WorkforcePath, coach_scale: dict[str, float],
                extra: int, horizon: int) -> list[int]:
    """Months to simulate: ``fixed`` and up to ``extra`` more where interpolation misses
    the workforce by more than WORKFORCE_TOLERANCE (see the module docstring)."""
    series: list[list[float]] = []
    for tp in path.tiers.values():
        scale = max(max(tp.plan), 1.0)
        series.append([h / scale for h in tp.headcount])
        series.append(list(tp.speed))
    for coach, hours in path.coaching_hours.items():
        scale = max(coach_scale.get(coach, 0.0), 1.0)
        series.append([h / scale for h in hours])
    knots = sorted({k for k in fixed if 0 <= k <= horizon} | {0, horizon})
    for _ in range(extra):
        worst, where = WORKFORCE_TOLERANCE, None
        for m in range(1, horizon):
            if m in knots:
                continue
            miss = max((_lerp_miss(s, knots, m) for s in series), default=0.0)
            if miss > worst:
                worst, where = miss, m
        if where is None:
            break
        knots = sorted({*knots, where})
    return knots


def lerp_weights(knots: list[int], month: int) -> tuple[int, int, float]:
    """(knot before, knot after, weight of the one after) of ``month``."""
    a = max(k for k in knots if k <= month)
    b = min((k for k in knots if k >= month), default=a)
    return a, b, 0.0 if a == b else (month - a) / (b - a)
