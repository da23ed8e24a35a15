"""Routing tables: which tier may take which contact, and from when.

Compiled once per scenario into integer-indexed tables so the engine's hot path does no
name look-ups. A contact of type ``y`` on channel ``c`` may be taken by tier ``k`` once it
has waited ``after_s`` (routing) — 0 for every serving tier when routing is omitted.

Transfers move a contact to the next *stage* of its routing: stage ``s`` offers the steps
``s, s+1, ...`` of the type's routing list, with their ``after_s`` counted from the
transfer (relative to step ``s``). Waiting contacts are kept in one FIFO queue per
(channel, type, stage); every contact in a queue has the same eligibility rules, so the
head of a queue is always its first eligible contact.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.inputs.config import Scenario

Steps = tuple[tuple[float, int], ...]


@dataclass(frozen=True, slots=True)
class RouteTables:
    channels: tuple[str, ...]
    types: tuple[str, ...]
    tiers: tuple[str, ...]
    n_stages: int
    # [channel][type][stage] -> tier indices eligible as soon as the contact queues
    first_tiers: tuple[tuple[tuple[tuple[int, ...], ...], ...], ...]
    # [channel][type][stage] -> ((after_s, tier indices eligible from then on), ...), after_s>0
    overflow: tuple[tuple[tuple[tuple[tuple[float, tuple[int, ...]], ...], ...], ...], ...]
    # [channel][type][tier] -> stage a contact served by that tier is transferred to
    # (the step after the tier's own in the explicit routing list), or -1: no transfer
    next_stage: tuple[tuple[tuple[int, ...], ...], ...]
    # [tier] -> ((queue index, channel index, after_s, priority), ...)
    tier_queues: tuple[tuple[tuple[int, int, float, int], ...], ...]
    # [tier][type] -> speed factor (handle time is divided by it); 0 when not served
    speed: tuple[tuple[float, ...], ...]


def eligible_steps(sc: Scenario, channel: str, ctype: str) -> tuple[list[tuple[float, str]],
                                                                     bool]:
    """(after_s, tier) steps serving ``ctype`` on ``channel``, and whether they are an
    explicit routing list (only those allow transfers to a next tier)."""
    explicit = sc.routing is not None and ctype in sc.routing
    if explicit:
        steps = [(s.after_s, s.tier) for s in sc.routing[ctype]]  # type: ignore[index]
    else:
        steps = [(0.0, t) for t in sc.tiers]
    return [(after, t) for after, t in steps
            if ctype in sc.tiers[t].serves
            and (sc.tiers[t].channels is None or channel in sc.tiers[t].channels)], explicit


def compile_routes(sc: Scenario) -> RouteTables:
    channels = tuple(sc.channels)
    types = tuple(sc.contact_types)
    tiers = tuple(sc.tiers)
    tier_ix = {t: i for i, t in enumerate(tiers)}
    n_stages = max([len(r) for r in (sc.routing or {}).values()] + [1])
    first, overflow, next_stage = [], [], []
    tier_queues: list[list[tuple[int, int, float, int]]] = [[] for _ in tiers]
    for ci, cname in enumerate(channels):
        ch = sc.channels[cname]
        f_c, o_c, n_c = [], [], []
        for yi, ctype in enumerate(types):
            steps, explicit = (eligible_steps(sc, cname, ctype) if ctype in ch.mix
                               else ([], False))
            f_y, o_y = [], []
            order = {t: j for j, (_, t) in enumerate(steps)}
            n_y = [order[t] + 1 if explicit and t in order and order[t] + 1 < len(steps) else -1
                   for t in tiers]
            # queue discipline: the type's own priority (top-level type_priority) replaces
            # the channel's for contacts of that type, in every channel
            prio = int(sc.type_priority.get(ctype, ch.priority))  # type: ignore[arg-type]
            for stage in range(n_stages):
                rest = steps[stage:] if (explicit or stage == 0) else []
                base = rest[0][0] if rest and stage > 0 else 0.0
                rel = [(max(0.0, after - base), tier_ix[t]) for after, t in rest]
                f_y.append(tuple(k for after, k in rel if after == 0.0))
                delays = sorted({after for after, _ in rel if after > 0.0})
                o_y.append(tuple((d, tuple(k for after, k in rel if after <= d))
                                 for d in delays))
                qi = (ci * len(types) + yi) * n_stages + stage
                for after, k in rel:
                    tier_queues[k].append((qi, ci, after, prio))
            f_c.append(tuple(f_y))
            o_c.append(tuple(o_y))
            n_c.append(tuple(n_y))
        first.append(tuple(f_c))
        overflow.append(tuple(o_c))
        next_stage.append(tuple(n_c))
    speed = tuple(tuple(sc.tiers[t].serves.get(y, 0.0) for y in types) for t in tiers)
    return RouteTables(channels, types, tiers, n_stages, tuple(first), tuple(overflow),
                       tuple(next_stage), tuple(tuple(q) for q in tier_queues), speed)
