"""Local search on shift sizes, after the per-interval search (sim.decide.optimize_intervals).

For tiers planned with ``shifts``, the decision is the heads on each of the tier's shift
patterns (start, end, days). From the best staffing found, moves that lower the cost are
tried, the largest saving first, on the search's random numbers (common random numbers);
the first feasible one is taken (so it is the cheapest feasible move), until none is:

- one head less on a pattern (the final descent);
- across tiers, both directions: m heads (1..3) of one tier's pattern replaced by the
  cheapest cover of their hours with the other tier's own patterns (an integer program,
  as for the start), when that costs less -- a cheaper tier replaces a dearer one, or a
  dearer head on a long shift replaces cheaper heads on several short ones;
- across shifts: a head moved from a pattern to a shorter one of the same tier.

``budget`` caps the staffings simulated (the search stops early, keeping the best so far,
and says so in the log).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from sim.decide.optimize_cover import cover_with_shifts
from sim.decide.optimize_intervals import Evaluation, IntervalSearch
from sim.inputs.config import Scenario
from sim.inputs.schedule import Schedule, Shift, shift_slots, weekly_agents

Key = tuple[str, int]   # (tier, pattern index)
MAX_SWAP = 3


def _patterns(search: IntervalSearch, k: str) -> list[Shift]:
    out: list[Shift] = []
    for s in search.scenario.tiers[k].schedule.shifts or []:  # type: ignore[union-attr]
        if all((p.start, p.end, p.days) != (s.start, s.end, s.days) for p in out):
            out.append(s.model_copy(update={"agents": 0}))
    return out


def sizes_of(ev: Evaluation, k: str, patterns: list[Shift]) -> list[int]:
    got = {(s.start, s.end, tuple(s.days)): s.agents
           for s in ev.scenario.tiers[k].schedule.shifts or []}  # type: ignore[union-attr]
    return [got.get((p.start, p.end, tuple(p.days)), 0) for p in patterns]


def shift_tiers(search: IntervalSearch) -> list[str]:
    sc = search.scenario
    return [k for k in search.tiers if sc.tiers[k].schedule is not None
            and sc.tiers[k].schedule.shifts is not None]


def local_search(search: IntervalSearch, best: Evaluation, log: Callable[[str], None],
                 budget: int = 60) -> Evaluation:
    tiers = shift_tiers(search)
    if not tiers or best.gap != 0:
        return best
    sc = search.scenario
    pats = {k: _patterns(search, k) for k in tiers}
    hours = {(k, j): len(p.days) * p.minutes[1] / 60.0
             for k in tiers for j, p in enumerate(pats[k])}
    price = {(k, j): hours[(k, j)] * sc.tiers[k].cost_per_hour for (k, j) in hours}
    size = {(k, j): n for k in tiers for j, n in enumerate(sizes_of(best, k, pats[k]))}
    # the cheapest cover of one head of tier j on pattern b by tier i's own patterns:
    # (cost, {pattern index: heads}); inf when i's patterns cannot cover it
    cover: dict[tuple[str, Key], tuple[float, dict[int, int]]] = {}
    for (j, b), i in itertools.product(list(hours), tiers):
        if i == j:
            continue
        need = [0] * search.n_slots
        for slot in shift_slots(pats[j][b], sc.interval_minutes):
            need[slot] += 1
        shifts, uncovered = cover_with_shifts(pats[i], need, sc.interval_minutes)
        if uncovered:
            cover[(i, (j, b))] = (float("inf"), {})
            continue
        heads = {next(a for a, p in enumerate(pats[i]) if (p.start, p.end, p.days)
                      == (s.start, s.end, s.days)): s.agents for s in shifts}
        cover[(i, (j, b))] = (sum(n * price[(i, a)] for a, n in heads.items()), heads)

    def build(state: dict[Key, int], origin: str, best: Evaluation) -> Evaluation:
        return evaluate_shifts(search, best, pats, state, origin)

    def moves(state: dict[Key, int]) -> list[tuple[float, str, dict[Key, int]]]:
        out = []
        for a in state:
            if state[a] > 0:
                out.append((price[a], f"-1 {a[0]} {_name(pats[a[0]][a[1]])}",
                            {**state, a: state[a] - 1}))
        for (j, b), i in itertools.product(list(state), tiers):   # tier i takes over b
            if i == j:
                continue
            for m in range(1, min(MAX_SWAP, state[(j, b)]) + 1):
                add = cover[(i, (j, b))]
                saving = m * price[(j, b)] - m * add[0]
                if saving > 1e-9:
                    new = {**state, (j, b): state[(j, b)] - m}
                    for a, n in add[1].items():
                        new[(i, a)] += m * n
                    out.append((saving, f"{m} {j} on {_name(pats[j][b])} -> {i} on "
                                + ", ".join(_name(pats[i][a]) for a in add[1]), new))
        for k in tiers:
            for j, i in itertools.permutations(range(len(pats[k])), 2):  # j -> i
                saving = price[(k, j)] - price[(k, i)]
                if state[(k, j)] > 0 and saving > 1e-9:
                    out.append((saving, f"{k}: {_name(pats[k][j])} -> {_name(pats[k][i])}",
                                {**state, (k, j): state[(k, j)] - 1,
                                 (k, i): state[(k, i)] + 1}))
        return sorted(out, key=lambda m: -m[0])

    return _first_improvement(search, best, size, moves, build, budget, log, "shift")


def evaluate_shifts(search: IntervalSearch, template: Evaluation,
                    pats: dict[str, list[Shift]], state: dict[Key, int],
                    origin: str = "") -> Evaluation:
    """Simulate ``template``'s staffing with the shift tiers' pattern sizes ``state``."""
    staffing, built = build_shifts(search, template, pats, state)
    return search.evaluate_built(staffing, built, dict(template.uncovered), origin)


def build_shifts(search: IntervalSearch, template: Evaluation,
                 pats: dict[str, list[Shift]], state: dict[Key, int]
                 ) -> tuple[dict[str, tuple[int, ...]], Scenario]:
    """``template``'s staffing and scenario with the shift tiers' pattern sizes ``state``."""
    sc = search.scenario
    staffing = dict(template.staffing)
    tiers_new = dict(template.scenario.tiers)
    for k, ps in pats.items():
        shifts = [p.model_copy(update={"agents": state[(k, j)]})
                  for j, p in enumerate(ps) if state[(k, j)] > 0]
        sched = Schedule(shifts=shifts or None,
                         agents_per_interval=None if shifts else [0] * search.per_day)
        staffing[k] = tuple(weekly_agents(sched, sc.interval_minutes))
        tiers_new[k] = tiers_new[k].model_copy(update={"agents": None, "schedule": sched})
    return staffing, template.scenario.model_copy(update={"tiers": tiers_new})


def patterns_of(search: IntervalSearch) -> dict[str, list[Shift]]:
    return {k: _patterns(search, k) for k in shift_tiers(search)}


def _name(p: Shift) -> str:
    days = "every day" if len(p.days) == 7 else ",".join(p.days)
    return f"{p.start}-{p.end} {days}"


# --------------------------------------------------------------------------- profiles

BLOCK_SLOTS = 4   # a profile move changes this many consecutive intervals at once


def profile_tiers(search: IntervalSearch, ev: Evaluation) -> list[str]:
    sc = ev.scenario
    return [k for k in search.tiers if sc.tiers[k].schedule is not None
            and sc.tiers[k].schedule.agents_per_interval is not None
            and k not in shift_tiers(search)]


def profile_search(search: IntervalSearch, best: Evaluation, log: Callable[[str], None],
                   budget: int = 40) -> Evaluation:
    """For tiers planned with ``agents_per_interval``: moves on blocks of BLOCK_SLOTS
    consecutive intervals (of the tier's daily or weekly profile), largest saving first,
    the first feasible taken, until none is: one head less in a block (descent), and a
    head of a dearer tier replaced by one of a cheaper tier in the same block (or m <= 3
    cheaper heads by one dearer head, when that costs less)."""
    tiers = profile_tiers(search, best)
    if not tiers or best.gap != 0:
        return best
    sc = search.scenario
    h = sc.interval_minutes / 60.0
    prof = {k: list(best.scenario.tiers[k].schedule.agents_per_interval) for k in tiers}
    days = {k: (7 if len(prof[k]) == search.per_day else 1) for k in tiers}

    def blocks(k: str) -> list[range]:
        n = len(prof[k])
        return [range(i, min(n, i + BLOCK_SLOTS)) for i in range(0, n, BLOCK_SLOTS)]

    def price(k: str, b: range) -> float:
        return len(b) * h * days[k] * sc.tiers[k].cost_per_hour

    def build(p: dict[str, list[int]], origin: str, best: Evaluation) -> Evaluation:
        staffing = dict(best.staffing)
        tiers_new = dict(best.scenario.tiers)
        for k in tiers:
            sched = Schedule(agents_per_interval=p[k])
            staffing[k] = tuple(weekly_agents(sched, sc.interval_minutes))
            tiers_new[k] = tiers_new[k].model_copy(update={"agents": None, "schedule": sched})
        built = best.scenario.model_copy(update={"tiers": tiers_new})
        return search.evaluate_built(staffing, built, dict(best.uncovered), origin)

    def shifted(p: dict[str, list[int]], k: str, b: range, d: int) -> dict[str, list[int]]:
        row = list(p[k])
        for i in b:
            row[i] += d
        return {**p, k: row}

    def moves(p: dict[str, list[int]]) -> list[tuple[float, str, dict[str, list[int]]]]:
        out = []
        for k in tiers:
            for b in blocks(k):
                if min(p[k][i] for i in b) >= 1:
                    out.append((price(k, b), f"-1 {k} at {_slots(search, b)}",
                                shifted(p, k, b, -1)))
        for i, j in itertools.permutations(tiers, 2):   # +1 on i, -m on j, same block
            if len(prof[i]) != len(prof[j]):
                continue
            for b in blocks(j):
                for m in range(1, MAX_SWAP + 1):
                    saving = m * price(j, b) - price(i, b)
                    if min(p[j][x] for x in b) >= m and saving > 1e-9:
                        out.append((saving, f"+1 {i} -{m} {j} at {_slots(search, b)}",
                                    shifted(shifted(p, i, b, 1), j, b, -m)))
        return sorted(out, key=lambda m: -m[0])

    return _first_improvement(search, best, prof, moves, build, budget, log, "profile")


def _first_improvement(search: IntervalSearch, best: Evaluation, state: Any,
                       moves: Callable[[Any], list[tuple[float, str, Any]]],
                       build: Callable[[Any, str, Evaluation], Evaluation], budget: int,
                       log: Callable[[str], None], kind: str) -> Evaluation:
    """Take the first feasible cheaper move (``moves`` lists them largest saving first),
    from the new state again, until none is or ``budget`` staffings were simulated;
    ``build`` simulates a state on the best evaluation so far."""
    spent, improved = 0, True
    while improved:
        improved = False
        for _saving, what, new in moves(state):
            if spent >= budget:
                log(f"  {kind} search stopped after {budget} staffings (its budget); "
                    "keeping the best found")
                return best
            before = search.evaluations
            ev = build(new, f"{kind} move {what}", best)
            spent += search.evaluations - before
            if ev.gap == 0 and ev.cost < best.cost - 1e-9:
                best, state, improved = ev, new, True
                log(f"  {kind} move {what}: {search.describe(ev)}")
                break
    return best


def _slots(search: IntervalSearch, b: range) -> str:
    from sim.decide.optimize_intervals import slot_label

    im = search.scenario.interval_minutes
    return f"{slot_label(b[0], im, False)}-{slot_label(b[-1] + 1, im, False)}"
