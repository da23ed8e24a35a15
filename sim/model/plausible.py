"""Warnings for input that is valid but implausible for its unit (a line on stderr each).

They catch the classic unit slips — a handle time typed in minutes into a ``_s`` field, an
async threshold typed in hours — and a realtime scenario that starts empty (every run does)
with a warm-up shorter than the queue's relaxation time, so that its first hours are
measured before the queue has filled up.

Relaxation time: for the realtime channels open at the start of the warm-up, pooled,
with a = offered load in Erlangs at t = 0 (rate after the bot x mean handle time /
concurrency), c = agents on the queue then for those channels, and rho = a / c < 1,

    tau = AHT / (c (1 - sqrt(rho))^2)

(Morse's relaxation time of M/M/1, 1 / (mu (1 - sqrt(rho))^2), with the c servers of
M/M/c; about 12 AHT for one agent at rho 0.5 and 31 AHT for 50 agents at rho 0.95).
Abandonment drains a queue on the time scale of patience, so with patience on every
such channel tau is capped at the largest mean patience; at rho >= 1 it is that mean
patience, or without patience the queue has no steady state (warned as such). A channel closed or
without arrivals at the start of the warm-up starts empty in reality too: no warning.
"""

from __future__ import annotations

import math

from sim.inputs.config import Scenario

MIN_REALTIME_HANDLE_S = 20.0
MIN_ASYNC_THRESHOLD_S = 300.0


def scenario_warnings(sc: Scenario) -> list[str]:
    """Plain-text warnings for ``sc``; an empty list when nothing looks wrong."""
    out: list[str] = []
    for name, ch in sc.channels.items():
        if ch.mode == "realtime":
            for ty, dist in ch.handle_time.items():
                if dist.mean_s < MIN_REALTIME_HANDLE_S:
                    out.append(f"channels.{name}.handle_time.{ty}.mean_s is {dist.mean_s:g} s: "
                               f"a live contact handled in under {MIN_REALTIME_HANDLE_S:g} s is "
                               "implausible (was it meant in minutes?)")
        elif ch.service_level_threshold_s < MIN_ASYNC_THRESHOLD_S:
            out.append(f"channels.{name}.service_level_threshold_s is "
                       f"{ch.service_level_threshold_s:g} s on an async channel: under "
                       f"{MIN_ASYNC_THRESHOLD_S / 60:g} minutes is implausible for a backlog "
                       "(was it meant in minutes or hours?)")
    warm = _warmup_warning(sc)
    if warm:
        out.append(warm)
    return out


def relaxation_time_s(sc: Scenario) -> tuple[float, float, float] | None:
    """(tau in seconds, load a, agents c) of the realtime channels open with arrivals at
    the start of the warm-up, or None when there are none (or no agents for them)."""
    from sim.inputs.calendar import hours_or_none
    from sim.model.staffing import tier_staffing

    t0 = -sc.warmup_hours * 3600.0
    load = work = rate_all = 0.0
    patience: list[float | None] = []
    served: set[str] = set()
    for name, ch in sc.channels.items():
        if ch.mode != "realtime":
            continue
        hours = hours_or_none(ch.open_hours)
        rate = _rate_at(ch, 0.0)
        if rate <= 0.0 or _rate_at(ch, t0) <= 0.0 or (
                hours is not None and not (hours.is_open(t0) and hours.is_open(0.0))):
            continue
        bot = ch.bot
        for ty, share in ch.mix.items():
            r = rate * share * (1.0 - (bot.containment.get(ty, 0.0) if bot else 0.0))
            mean_s = ch.handle_time[ty].mean_s
            load += r * mean_s / ch.concurrency / 3600.0
            work += r * mean_s
            rate_all += r
        patience.append(ch.patience.mean_s if ch.patience is not None else None)
        served |= {k for k, t in sc.tiers.items()
                   if (t.channels is None or name in t.channels) and set(t.serves) & set(ch.mix)}
    if rate_all <= 0.0:
        return None
    c = sum(tier_staffing(sc, k).on_queue_at(0.0) for k in served)
    if c <= 0:
        return None
    aht = work / rate_all
    rho = load / c
    cap = max(patience) if patience and all(p is not None for p in patience) else None
    if rho >= 1.0:
        tau = cap if cap is not None else math.inf
    else:
        tau = aht / (c * (1.0 - math.sqrt(rho)) ** 2)
        if cap is not None:
            tau = min(tau, cap)
    return tau, load, float(c)


def _warmup_warning(sc: Scenario) -> str | None:
    got = relaxation_time_s(sc)
    if got is None:
        return None
    tau, load, c = got
    warm_s = sc.warmup_hours * 3600.0
    if math.isinf(tau):
        return (f"the realtime channels carry {load:.1f} Erlangs at the start on {c:g} agents "
                "without patience: the queue has no steady state, so results depend on the "
                "horizon and the warm-up")
    if warm_s < tau:
        return (f"warmup_hours is {sc.warmup_hours:g}: shorter than the realtime queue's "
                f"relaxation time, about {tau / 3600.0:.2g} h ({load:.1f} Erlangs on {c:g} "
                "agents at the start; every run starts empty), so the first hours are "
                f"measured before the queue fills up; use a warm-up of several times "
                f"{tau / 3600.0:.2g} h")
    return None


def _rate_at(ch: object, t_s: float) -> float:
    """Arrival rate per hour at time t (profile slot and day factor)."""
    a = ch.arrivals  # type: ignore[attr-defined]
    if a.profile_per_hour is not None:
        prof = a.profile_per_hour
        slot_s = 86400.0 / len(prof)
        rate = prof[math.floor(t_s / slot_s) % len(prof)]
    else:
        rate = a.rate_per_hour or 0.0
    if a.day_factors is not None:
        rate *= a.day_factors[math.floor(t_s / 86400.0) % 7]
    return float(rate)


def option_warnings(scenarios: list[Scenario]) -> list[str]:
    """The warnings of several options (a scenario and its variants), each once."""
    seen: dict[str, None] = {}
    for sc in scenarios:
        for line in scenario_warnings(sc):
            seen.setdefault(line, None)
    return list(seen)
