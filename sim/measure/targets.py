"""Targets over intervals and days (SPEC §7.8).

``{metric: phone.service_level, min: 0.8, per: interval, share: 0.9}`` is met when the
bound holds in at least ``share`` of the (replication, interval) pairs with contacts
offered (``per: day``: of the (replication, day) pairs); its status comes from the 95%
Wilson score interval on that share: ``met`` when the interval's low end is at least
``share``, ``missed`` when its high end is below, ``uncertain`` otherwise.

The value of a pair is computed from the counts of ``intervals.csv`` (the rows of each
replication): per channel, or summed over the channels of ``all`` / ``realtime`` /
``async``; a day sums the intervals of that day of the measured period. Intervals in
which a channel is closed all along (``open_hours``) do not count for it: contacts
refused as closed are offered, but no staffing can serve them. Supported:

- contact scopes: ``service_level`` (in service level / queued), ``asa_s`` (wait of the
  answered / answered), ``abandon_rate`` (abandoned / queued);
- tier scopes: ``occupancy`` (busy agent slots / agents on queue).

A pair with contacts offered but none queued holds a service-level, abandonment or ASA
bound (nobody waited); one whose queued contacts all abandoned has an infinite ASA. A
tier's pair with no agent on queue is not counted (its occupancy is undefined).

Note: the Wilson interval treats the pairs as independent; intervals of one replication
are correlated (a bad morning spills into noon), so with few replications read an
``uncertain`` or a narrow ``met`` with care (more replications narrow it honestly).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sim.inputs.calendar import hours_or_none
from sim.inputs.config import Scenario, Target


@dataclass(frozen=True, slots=True)
class ShareEstimate:
    """Pairs where the bound holds out of the pairs counted, with the Wilson 95% CI."""

    held: int
    pairs: int
    share: float
    ci_low: float
    ci_high: float


def is_periodic(t: Target) -> bool:
    return t.per is not None


def _channels(sc: Scenario, scope: str) -> list[str]:
    if scope in sc.channels:
        return [scope]
    if scope == "all":
        return list(sc.channels)
    return [c for c, ch in sc.channels.items() if ch.mode == scope]


def _holds(t: Target, v: float) -> bool:
    return v <= t.max if t.max is not None else v >= t.min  # type: ignore[operator]


def _open_rows(sc: Scenario, rows: Iterable[dict]) -> list[dict]:
    """The rows of intervals during which their channel was open at some point (contacts
    refused because the channel is closed are offered, but no staffing serves them)."""
    slot_s = sc.interval_minutes * 60.0
    hours = {c: hours_or_none(ch.open_hours) for c, ch in sc.channels.items()}
    out = []
    for r in rows:
        h = hours.get(r["channel"])
        t0 = int(r["interval"]) * slot_s
        if h is None or any(h.is_open(t0 + f * slot_s) for f in (0.0, 0.5, 0.999)):
            out.append(r)
    return out


def _group(rows: Iterable[dict], per: str, interval_minutes: int) -> dict[int, list[dict]]:
    per_day = max(1, 1440 // interval_minutes)
    out: dict[int, list[dict]] = {}
    for row in rows:
        i = int(row["interval"])
        out.setdefault(i // per_day if per == "day" else i, []).append(row)
    return out


def _num(x: object) -> float:
    v = float(x)  # type: ignore[arg-type]
    return 0.0 if math.isnan(v) else v


def pair_value(t: Target, sc: Scenario, rows: Sequence[dict]) -> float | None:
    """The metric over one (replication, interval or day) group of interval rows; None
    when the pair does not count (no contact offered, or no agent for occupancy)."""
    scope, metric = t.metric.split(".")
    if scope in sc.tiers:
        first = rows[0]["channel"] if rows else None
        own = [r for r in rows if r["channel"] == first]
        offered = sum(_num(r["offered"]) for r in rows)
        agents = sum(_num(r.get(f"agents_{scope}", 0.0)) for r in own)
        if offered <= 0 or agents <= 0:
            return None
        return sum(_num(r.get(f"busy_{scope}", 0.0)) for r in own) / agents
    chans = set(_channels(sc, scope))
    mine = [r for r in rows if r["channel"] in chans]
    offered = sum(_num(r["offered"]) for r in mine)
    if offered <= 0:
        return None
    queued = sum(_num(r["queued"]) for r in mine)
    answered = sum(_num(r["answered"]) for r in mine)
    if metric == "service_level":
        return sum(_num(r["service_level"]) * _num(r["queued"]) for r in mine) / queued \
            if queued > 0 else 1.0
    if metric == "abandon_rate":
        return sum(_num(r["abandoned"]) for r in mine) / queued if queued > 0 else 0.0
    if answered > 0:  # asa_s
        return sum(_num(r["asa_s"]) * _num(r["answered"]) for r in mine) / answered
    return math.inf if queued > 0 else 0.0


def share_estimate(t: Target, sc: Scenario, replications: Iterable[Sequence[dict]]
                   ) -> ShareEstimate:
    """Count the (replication, interval|day) pairs where ``t``'s bound holds; each item of
    ``replications`` is one replication's interval rows."""
    from sim.measure.uncertain_stats import wilson  # numpy: not at validation

    held = pairs = 0
    for rows in replications:
        for group in _group(_open_rows(sc, rows), t.per or "interval",
                            sc.interval_minutes).values():
            v = pair_value(t, sc, group)
            if v is None:
                continue
            pairs += 1
            held += _holds(t, v)
    p, lo, hi = wilson(held, pairs)
    return ShareEstimate(held, pairs, p, lo, hi)


def share_status(t: Target, est: ShareEstimate) -> str:
    if est.pairs == 0:
        return "uncertain"
    if est.ci_low >= (t.share or 0.0):
        return "met"
    return "missed" if est.ci_high < (t.share or 0.0) else "uncertain"


def describe(t: Target) -> str:
    """'in ≥ 90% of intervals' (empty for an ordinary target)."""
    if t.per is None:
        return ""
    return f"in ≥ {100 * (t.share or 0):g}% of {t.per}s"
