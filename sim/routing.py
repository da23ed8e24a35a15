"""Routing tables: which tier may take which contact, and from when.

Compiled once per scenario into integer-indexed tables so the engine's hot path does no
name look-ups. A contact of type ``y`` on channel ``c`` may be taken by tier ``k`` once it
has waited ``after_s`` (routing) — 0 for every serving tier when routing is omitted.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.config import Scenario


@dataclass(frozen=True, slots=True)
class RouteTables:
    channels: tuple[str, ...]
    types: tuple[str, ...]
    tiers: tuple[str, ...]
    # [channel][type] -> tier indices eligible as soon as the contact queues
    first_tiers: tuple[tuple[tuple[int, ...], ...], ...]
    # [channel][type] -> ((after_s, tier indices eligible from then on), ...) for after_s > 0
    overflow: tuple[tuple[tuple[tuple[float, tuple[int, ...]], ...], ...], ...]
    # [tier] -> ((queue index, channel index, after_s, priority), ...), queue = ch * n_types + type
    tier_queues: tuple[tuple[tuple[int, int, float, int], ...], ...]
    # [tier][type] -> speed factor (handle time is divided by it); 0 when not served
    speed: tuple[tuple[float, ...], ...]


def eligible_steps(sc: Scenario, channel: str, ctype: str) -> list[tuple[float, str]]:
    """(after_s, tier) pairs through which ``ctype`` contacts on ``channel`` are served."""
    if sc.routing is not None and ctype in sc.routing:
        steps = [(s.after_s, s.tier) for s in sc.routing[ctype]]
    else:
        steps = [(0.0, t) for t in sc.tiers]
    return [(after, t) for after, t in steps
            if ctype in sc.tiers[t].serves
            and (sc.tiers[t].channels is None or channel in sc.tiers[t].channels)]


def compile_routes(sc: Scenario) -> RouteTables:
    channels = tuple(sc.channels)
    types = tuple(sc.contact_types)
    tiers = tuple(sc.tiers)
    tier_ix = {t: i for i, t in enumerate(tiers)}
    first: list[tuple[tuple[int, ...], ...]] = []
    overflow: list[tuple[tuple[tuple[float, tuple[int, ...]], ...], ...]] = []
    tier_queues: list[list[tuple[int, int, float, int]]] = [[] for _ in tiers]
    for ci, cname in enumerate(channels):
        ch = sc.channels[cname]
        first_c, over_c = [], []
        for yi, ctype in enumerate(types):
            steps = eligible_steps(sc, cname, ctype) if ctype in ch.mix else []
            first_c.append(tuple(tier_ix[t] for after, t in steps if after == 0.0))
            delays = sorted({after for after, _ in steps if after > 0.0})
            over_c.append(tuple(
                (d, tuple(tier_ix[t] for after, t in steps if after <= d)) for d in delays))
            for after, t in steps:
                tier_queues[tier_ix[t]].append((ci * len(types) + yi, ci, after, ch.priority))
        first.append(tuple(first_c))
        overflow.append(tuple(over_c))
    speed = tuple(tuple(sc.tiers[t].serves.get(y, 0.0) for y in types) for t in tiers)
    return RouteTables(channels, types, tiers, tuple(first), tuple(overflow),
                       tuple(tuple(q) for q in tier_queues), speed)
