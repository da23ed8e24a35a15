"""Checks of a scenario that relate several fields (names that must exist, shares that
must sum to 1, profile lengths, targets' metrics): :func:`semantic_issues` reports each
problem with the dotted path of the field at fault, so the loader can point at the YAML
line. Field-level checks live on the pydantic models in sim/inputs/config.py.
"""

from __future__ import annotations

import math
import re

from sim.base.limits import MAX_NAME_CHARS
from sim.inputs.config import NAME_PATTERN, RESERVED_SCOPES, Scenario, metrics_for_scope
from sim.inputs.schedule import schedule_issues, weekly_agents

# what a target ``per: interval|day`` can be judged on (SPEC §7.8; sim/measure/targets.py)
PER_CONTACT_METRICS = ("service_level", "asa_s", "abandon_rate")
PER_TIER_METRICS = ("occupancy",)

Issue = tuple[tuple[str, ...], str]


def semantic_issues(sc: Scenario) -> list[Issue]:
    """Problems that involve several fields, each as (dotted path tuple, message)."""
    issues: list[Issue] = []
    types = sc.contact_types
    slots_per_day = 24 * 60 / sc.interval_minutes
    if not float(slots_per_day).is_integer():
        issues.append((("interval_minutes",), "must divide a day (1440 minutes) evenly"))
    if not sc.channels:
        issues.append((("channels",), "at least one channel is needed"))
    if not sc.tiers:
        issues.append((("tiers",), "at least one tier is needed"))

    for name, kind in ([(c, "channel") for c in sc.channels] + [(t, "tier") for t in sc.tiers]
                       + [(t, "contact type") for t in types]):
        if not re.match(NAME_PATTERN, name):
            issues.append(((kind_section(kind), name), f"{kind} names must match [a-z0-9_-]+"))
        elif len(name) > MAX_NAME_CHARS:
            issues.append(((kind_section(kind), name),
                           f"{kind} names have at most {MAX_NAME_CHARS} characters"))
        if name in RESERVED_SCOPES:
            issues.append(((kind_section(kind), name), f"'{name}' is reserved; rename the {kind}"))
    clash = (set(sc.channels) & set(sc.tiers)) | (set(sc.channels) & set(types)) | (
        set(sc.tiers) & set(types))
    for name in sorted(clash):
        issues.append(((), f"the name '{name}' is used for more than one of channel, tier and "
                           "contact type; names must differ so metric scopes are unambiguous"))

    for cname, ch in sc.channels.items():
        base = ("channels", cname)
        for t in ch.mix:
            if t not in ch.handle_time:
                issues.append((base + ("handle_time",),
                               f"contact type '{t}' is in the mix but has no handle_time"))
        for t in ch.handle_time:
            if t not in ch.mix:
                issues.append((base + ("handle_time", t),
                               f"contact type '{t}' is not in this channel's mix "
                               f"({', '.join(ch.mix)})"))
        prof = ch.arrivals.profile_per_hour
        if prof is not None and len(prof) != slots_per_day:
            issues.append((base + ("arrivals", "profile_per_hour"),
                           f"needs one rate per interval: {int(slots_per_day)} values for "
                           f"interval_minutes {sc.interval_minutes} (got {len(prof)})"))
        if ch.repeat_channel is not None:
            target = sc.channels.get(ch.repeat_channel)
            if target is None:
                issues.append((base + ("repeat_channel",),
                               f"unknown channel '{ch.repeat_channel}' "
                               f"(known: {', '.join(sc.channels)})"))
            else:
                lacking = [t for t in ch.mix if t not in target.mix]
                if lacking:
                    issues.append((base + ("repeat_channel",),
                                   f"channel '{ch.repeat_channel}' has no contact type "
                                   f"{', '.join(lacking)} in its mix, so repeats of this "
                                   "channel cannot come back there"))
        if ch.bot is not None:
            for t in ch.bot.containment:
                if t not in ch.mix:
                    issues.append((base + ("bot", "containment", t),
                                   f"contact type '{t}' is not in this channel's mix "
                                   f"({', '.join(ch.mix)})"))

    for tname, tier in sc.tiers.items():
        if tier.schedule is not None and float(slots_per_day).is_integer():
            issues += schedule_issues(tier.schedule, sc.interval_minutes,
                                      ("tiers", tname, "schedule"))
        for t in tier.resolution:
            if t not in tier.serves:
                issues.append((("tiers", tname, "resolution", t),
                               f"tier '{tname}' does not serve '{t}' (serves: "
                               f"{', '.join(tier.serves)})"))
        for t in tier.serves:
            if t not in types:
                issues.append((("tiers", tname, "serves", t),
                               f"unknown contact type '{t}' (known: {', '.join(types)})"))
        for c in tier.channels or []:
            if c not in sc.channels:
                issues.append((("tiers", tname, "channels"),
                               f"unknown channel '{c}' (known: {', '.join(sc.channels)})"))

    if sc.routing is not None:
        for t, steps in sc.routing.items():
            if t not in types:
                issues.append((("routing", t),
                               f"unknown contact type '{t}' (known: {', '.join(types)})"))
                continue
            seen_tiers: set[str] = set()
            for i, step in enumerate(steps):
                path = ("routing", t, str(i), "tier")
                if step.tier not in sc.tiers:
                    issues.append((path, f"unknown tier '{step.tier}' "
                                         f"(known: {', '.join(sc.tiers)})"))
                elif t not in sc.tiers[step.tier].serves:
                    issues.append((path, f"tier '{step.tier}' does not serve '{t}' "
                                         f"(add it to tiers.{step.tier}.serves)"))
                elif step.tier in seen_tiers:
                    issues.append((path, f"tier '{step.tier}' is listed twice"))
                seen_tiers.add(step.tier)

    if not issues:
        for cname, ch in sc.channels.items():
            for t in ch.mix:
                if ch.mix[t] <= 0:
                    continue
                servers = _servers_for(sc, cname, t)
                if not servers:
                    issues.append((("channels", cname, "mix", t),
                                   f"no tier can serve '{t}' contacts on channel '{cname}' "
                                   "(check tiers.*.serves, tiers.*.channels and routing)"))
                elif ch.patience is None and not any(peak_agents(sc, k) > 0 for k in servers):
                    issues.append((("channels", cname, "mix", t),
                                   f"'{t}' contacts on channel '{cname}' can only be served by "
                                   f"{', '.join(servers)}, which have no agents, and customers "
                                   "never abandon (no patience): they would wait forever"))

    for t in sc.type_priority:
        if t not in types:
            issues.append((("type_priority", t),
                           f"unknown contact type '{t}' (known: {', '.join(types)})"))

    for i, target in enumerate(sc.targets):
        scope, metric = target.metric.split(".")
        allowed = metrics_for_scope(sc, scope)
        if allowed is None:
            issues.append((("targets", str(i), "metric"),
                           f"unknown scope '{scope}' (a channel, contact type, tier, 'all', "
                           "'realtime', 'async' or 'cost')"))
        elif metric not in allowed:
            issues.append((("targets", str(i), "metric"),
                           f"unknown metric '{metric}' for scope '{scope}' "
                           f"(one of: {', '.join(allowed)})"))
        elif target.per is not None:
            why = per_interval_issue(sc, scope, metric)
            if why:
                issues.append((("targets", str(i), "metric"), why))
    return issues


def peak_agents(sc: Scenario, tier: str) -> int:
    """Most agents the tier ever has on queue (after shrinkage and coaching)."""
    t = sc.tiers[tier]
    if t.schedule is None:
        peak = int(t.agents or 0)
    else:
        try:
            peak = max(weekly_agents(t.schedule, sc.interval_minutes))
        except ValueError:
            return 0
    return int(math.floor(peak * t.on_queue_factor + 0.5))  # as sim.model.staffing rounds


def kind_section(kind: str) -> str:
    return {"channel": "channels", "tier": "tiers"}.get(kind, "channels")


def _servers_for(sc: Scenario, channel: str, ctype: str) -> list[str]:
    """Tiers that may ever serve ``ctype`` contacts arriving on ``channel``."""
    if sc.routing is not None and ctype in sc.routing:
        candidates = [s.tier for s in sc.routing[ctype]]
    else:
        candidates = list(sc.tiers)
    return [t for t in candidates
            if ctype in sc.tiers[t].serves
            and (sc.tiers[t].channels is None or channel in sc.tiers[t].channels)]


def per_interval_issue(sc: Scenario, scope: str, metric: str) -> str | None:
    """Why a ``per:`` target on scope.metric cannot be evaluated (None: it can)."""
    if scope in sc.channels or scope in ("all", "realtime", "async"):
        ok = PER_CONTACT_METRICS
    elif scope in sc.tiers:
        ok = PER_TIER_METRICS
    else:
        return ("a target 'per: interval' or 'per: day' needs a channel, 'all', 'realtime', "
                "'async' or tier scope (contact types and cost are not counted per interval)")
    if metric not in ok:
        return (f"'{scope}.{metric}' is not counted per interval; with 'per:' use one of: "
                f"{', '.join(f'{scope}.{m}' for m in ok)}")
    return None
