"""`ccsim optimize`: choose the mode, search, verify, write the results folder.

Flat mode (every serving tier has ``agents:``): agents per tier (sim.decide.optimize).
Interval mode (some serving tier has a ``schedule:``): agents per tier and interval
(sim.decide.optimize_intervals). Either way the answer is verified with fresh replications and
the results folder holds, besides the usual tables, ``staffing.csv`` and
``optimized.yaml`` (the scenario with the optimised staffing, ready for ``ccsim run``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import yaml

from sim.base.errors import InputError
from sim.decide import optimize as op
from sim.decide.optimize_bound import gap_share, lower_bound
from sim.decide.optimize_intervals import IntervalSearch
from sim.decide.optimize_shifts import local_search, profile_search
from sim.decide.optimize_sipp import sipp_on_queue
from sim.decide.optimize_verify import HeadAdder
from sim.decide.study import Study, run_study
from sim.inputs.config import Scenario
from sim.inputs.scenario import LoadedScenario
from sim.measure.results import staffing_doc, write_atomic, write_csv

VERIFY_RETRIES = 4
SHIFT_BUDGET = 60   # staffings the shift local search may simulate (sim.decide.optimize_shifts)
PROFILE_BUDGET = 40  # ... and the moves on agents_per_interval profiles


def choose_tiers(sc: Scenario, asked: list[str] | None, path: str) -> list[str]:
    """Tiers to optimise: those asked for, else every tier that serves contacts and does
    not coach (trainers' paid time is mostly coaching, which staffing targets do not see)."""
    serving = [k for k, t in sc.tiers.items() if t.serves]
    if asked:
        chosen = list(dict.fromkeys(asked))
        unknown = [k for k in chosen if k not in serving]
        if unknown:
            raise InputError(f"{unknown[0]!r} is not a tier that serves contacts "
                             f"(tiers: {', '.join(serving)})", file=path, path="--tier")
    else:
        chosen = [k for k in serving if sc.tiers[k].coaching_share == 0] or serving
    never = [k for k in chosen if sc.tiers[k].on_queue_factor <= 0]
    if never:
        raise InputError(f"tier '{never[0]}' is never on the queue (shrinkage or "
                         "coaching_share is 1), so it cannot be staffed for the targets; "
                         "leave it out with --tier", file=path, path="--tier")
    return chosen


def optimized_yaml(raw: dict, sc: Scenario, tiers: list[str]) -> dict:
    """The scenario file's mapping with the optimised tiers' staffing (no variants)."""
    doc = copy.deepcopy(raw)
    doc.pop("variants", None)
    doc.pop("sweep", None)
    doc["seed"], doc["replications"] = sc.seed, sc.replications
    for k in tiers:
        t = sc.tiers[k]
        entry = doc["tiers"][k]
        entry.pop("agents", None)
        entry.pop("schedule", None)
        if t.schedule is None:
            entry["agents"] = t.agents
        else:
            entry["schedule"] = t.schedule.model_dump(exclude_none=True)
    return doc


def shifts_doc(sc: Scenario, tiers: list[str]) -> dict:
    """Heads per shift pattern of the tiers planned with shifts: {tier: [shift, ...]}."""
    return {k: [s.model_dump(exclude_none=True) for s in sc.tiers[k].schedule.shifts]
            for k in tiers if sc.tiers[k].schedule is not None
            and sc.tiers[k].schedule.shifts is not None}


def run_optimize(loaded: LoadedScenario, sc: Scenario, folder: Path, tiers: list[str],
                 workers: int | None, quiet: bool, as_json: bool,
                 log: Callable[[str], None]) -> dict:
    path = str(loaded.path)
    if not any(op.steerable(t) for t in sc.targets):
        raise InputError("no target that staffing can move (waits, service level, "
                         "abandonment, occupancy, cost)", file=path, path="targets")
    interval_mode = any(sc.tiers[k].schedule is not None for k in tiers)
    bound = lower_bound(sc, tiers, flat=not interval_mode)
    try:
        if interval_mode:
            best, rows, extra, cost_of = _intervals(sc, tiers, workers, log)
        else:
            best, rows, extra, cost_of = _flat(sc, tiers, workers, log)
        skip = set(extra.get("out_of_reach", []))
        status, verified = op.verify(best, workers)
        for _ in range(VERIFY_RETRIES):
            if op.steerable_met([(t, st) for t, st in status if t.metric not in skip]):
                break
            log("verification with fresh random numbers: "
                f"{', '.join(f'{t.metric} {st}' for t, st in status if op.steerable(t))}"
                " -> one step more")
            best, rows = extra["retry"](best, status)
            status, verified = op.verify(best, workers)
    except RuntimeError as exc:
        if "interrupted" in str(exc):
            raise
        raise InputError(f"optimize failed: {exc}", file=path) from None
    extra.pop("retry", None)
    found = cost_of(best)
    extra.update(input_shifts=shifts_doc(sc, tiers),
                 input_paid_hours_per_week=_week_hours(sc, tiers),
                 optimized_paid_hours_per_week=_week_hours(best, tiers),
                 input_peak_agents={k: int(max(_week_profile(sc, k))) for k in tiers})
    if not interval_mode:
        extra["input_agents"] = {k: int(sc.tiers[k].agents or 0) for k in tiers}
    extra.update(optimized=staffing_doc(rows), optimized_shifts=shifts_doc(best, tiers),
                 optimized_cost=round(found, 2), input_cost=round(cost_of(sc), 2),
                 cost_unit=bound.unit, lower_bound=round(bound.cost, 2),
                 lower_bound_tier=bound.cheapest_tier,
                 gap_to_bound=round(gap_share(found, bound.cost), 4))
    for key in ("optimized_shifts", "input_shifts"):
        if not extra[key]:
            extra.pop(key)
    log("verified with fresh random numbers: " + ", ".join(
        f"{t.metric} {st}" for t, st in status if op.steerable(t)))
    log(f"optimized staffing: {_describe(extra['optimized'])}")
    log(f"cost of the optimized tiers {sc.currency} {found:,.2f} {bound.unit} (input "
        f"{sc.currency} {extra['input_cost']:,.2f}); lower bound {sc.currency} "
        f"{bound.cost:,.2f} (period-by-period Erlang, ample skills, all at "
        f"'{bound.cheapest_tier}'): gap {_pct(extra['gap_to_bound'])}")
    write_csv(folder / "staffing.csv", pd.DataFrame(rows, columns=["tier", "interval",
                                                                   "agents"]))
    write_atomic(folder / "optimized.yaml", yaml.safe_dump(
        optimized_yaml(loaded.raw, best, tiers), sort_keys=False, allow_unicode=True))
    # the report compares the optimized staffing with the input's; the input's variants
    # and the search's intermediate points are not options here
    plain = sc.model_copy(update={"variants": {}})
    options = [(sc.name, "optimized", op.fresh(best))]
    same = all(_week_profile(best, k) == _week_profile(sc, k) for k in tiers)
    if same:  # the input is already the answer: one column, not two identical ones
        log("the optimized staffing is the input's own")
        extra["optimized_is_input"] = True
    else:
        options.append((sc.name, "input", op.fresh(plain)))
    return run_study(Study(
        "optimize", sc.name, options, folder, workers, False, quiet, as_json,
        f"optimize {sc.name}: verified staffing (fresh random numbers)",
        {"scenario_file": path, "scenario_sha256": loaded.file_hash,
         "mode": "intervals" if interval_mode else "flat", "tiers": tiers, **extra},
        optimized_yaml(loaded.raw, best, tiers), done_before=verified,
        caption=(f"optimized tiers: {sc.currency} {found:,.2f} {bound.unit} vs input "
                 f"{sc.currency} {extra['input_cost']:,.2f}; lower bound {sc.currency} "
                 f"{bound.cost:,.2f} (gap {_pct(extra['gap_to_bound'])})")))


def _pct(x: float) -> str:
    return "n/a" if x != x else f"{100 * x:.1f}%"


def _describe(doc: dict) -> str:
    parts = []
    for k, v in doc.items():
        if isinstance(v, dict):
            vals = list(v.values())
            parts.append(f"{k} {sum(vals)} agent-intervals over the {len(vals)} intervals "
                         f"of staffing.csv (peak {max(vals)})")
        else:
            parts.append(f"{k} {v}")
    return "; ".join(parts)


def _flat(sc: Scenario, tiers: list[str], workers: int | None, log: Callable[[str], None]):
    search = op.Search(sc, tiers, workers, log=log)
    start = op.erlang_start(sc, tiers)
    log(f"start (Erlang A per tier): {op.describe(start)}")
    point = search.run(start)
    agents = point.agents
    extra: dict = {"search_start": start}

    checker = op.Search(op.fresh(sc), tiers, workers, log=log)  # the verification's numbers

    def retry(_best: Scenario, status: list):
        """One agent more where it closes most of the gap of the targets that slipped,
        judged on the verification's random numbers (on the search's own numbers every
        candidate already meets them)."""
        nonlocal agents
        slipped = [t for t, st in status if op.steerable(t) and st != "met"]
        checker.targets = slipped
        cands = [{**agents, k: agents[k] + 1} for k in tiers]
        pts = checker.evaluate(cands)
        agents = cands[min(range(len(cands)), key=lambda i: (pts[i].gap,
                                                            search.cost(cands[i])))]
        log(f"  + one head -> {op.describe(agents)}")
        extra.update(evaluations=search.evaluations + checker.evaluations)
        return op.with_agents(sc, agents), _flat_rows(agents)

    extra["retry"] = retry
    log(f"search result: {op.describe(agents)}; {search.evaluations} staffings simulated "
        f"x {sc.replications} replications")
    extra.update(evaluations=search.evaluations,
                 simulations=search.evaluations * sc.replications)

    def cost_of(s: Scenario) -> float:
        return sum((s.tiers[k].agents or 0) * s.tiers[k].cost_per_hour for k in tiers)

    return op.with_agents(sc, agents), _flat_rows(agents), extra, cost_of


def _flat_rows(agents: dict[str, int]) -> list[dict]:
    return [{"tier": k, "interval": "all", "agents": n} for k, n in agents.items()]


def _intervals(sc: Scenario, tiers: list[str], workers: int | None,
               log: Callable[[str], None]):
    search = IntervalSearch(sc, tiers, workers, log=log)
    start_q = sipp_on_queue(sc, tiers)
    start = search.evaluate(start_q, "start")
    log(f"start (period-by-period Erlang A): {search.describe(start)}")
    if start.error:
        log(f"  the period-by-period staffing fails to serve everyone: {start.error}")
    ample = search.ample(start_q)
    log(f"ample (2 x start + 2, at least the input): {search.describe(ample)}")
    if ample.error:
        raise RuntimeError(f"even generous staffing fails: {ample.error}")
    out_of_reach = [t for t in sc.targets if op.steerable(t) and ample.gaps.get(id(t), 0) > 0]
    if len(out_of_reach) == sum(op.steerable(t) for t in sc.targets):
        raise RuntimeError("no steerable target is met even with twice the period-by-period "
                           f"staffing: {', '.join(t.metric for t in out_of_reach)}")
    for t in out_of_reach:
        log(f"  {t.metric} is missed even with twice the period-by-period staffing: "
            "staffing these tiers' intervals cannot meet it; it is left out of the search")
    search.steered = [t for t in sc.targets if t not in out_of_reach]
    for ev in (start, ample):
        if not ev.error:
            ev.gap = search.gap_of(ev)
    if any(ample.uncovered.values()):
        log(f"  requirement no shift pattern covers at ample staffing (agent-intervals a "
            f"week): {ample.uncovered}")
    best = search.search(start, ample)
    best = local_search(search, best, log, SHIFT_BUDGET)
    best = profile_search(search, best, log, PROFILE_BUDGET)
    extra: dict = {"out_of_reach": [t.metric for t in out_of_reach]}

    adder = HeadAdder(search)
    skip = {t.metric for t in out_of_reach}

    def note(ev) -> None:
        n = search.evaluations + adder.evaluations
        extra.update(evaluations=n, simulations=n * sc.replications,
                     optimized_from=ev.origin,
                     uncovered_agent_slots=dict(ev.uncovered))

    def retry(_best: Scenario, status: list):
        """Heads added to the best staffing where the slipped targets need them, judged on
        the verification's random numbers (sim.decide.optimize_verify); every beta a step up
        only when no added head helps."""
        nonlocal best
        slipped = [t for t, st in status
                   if op.steerable(t) and st != "met" and t.metric not in skip]
        grown = adder.add(best, slipped, log)
        if grown is None:
            grown = search.raise_beta(best)
            log(f"  no added head lowers the gap on the verification's numbers; every "
                f"beta a step up -> {search.describe(grown)}")
        best = grown
        note(best)
        return best.scenario, search.rows(best.staffing)

    note(best)
    extra.update(start_paid_hours_per_week=_hours(sc, start.staffing), retry=retry,
                 start_cost=round(start.cost, 2),
                 start_target_gap=None if start.error else round(start.gap, 4))
    log(f"search result (before verification, from {best.origin}): "
        f"{search.describe(best)}; {search.evaluations} staffings simulated x "
        f"{sc.replications} replications")

    def cost_of(s: Scenario) -> float:
        return search.cost({k: tuple(search.weekly_paid_of(s, k)) for k in tiers})

    return best.scenario, search.rows(best.staffing), extra, cost_of


def _week_profile(sc: Scenario, k: str) -> list[float]:
    from sim.inputs.schedule import weekly_agents

    t = sc.tiers[k]
    if t.schedule is None:
        return [float(t.agents or 0)]
    return [float(a) for a in weekly_agents(t.schedule, sc.interval_minutes)]


def _week_hours(sc: Scenario, tiers: list[str]) -> dict[str, float]:
    """Paid agent-hours a week of each tier (flat: agents x 168)."""
    from sim.inputs.schedule import weekly_agents

    h = sc.interval_minutes / 60.0
    out = {}
    for k in tiers:
        t = sc.tiers[k]
        out[k] = (float(t.agents or 0) * 168.0 if t.schedule is None else
                  float(sum(weekly_agents(t.schedule, sc.interval_minutes))) * h)
    return out


def _hours(sc: Scenario, staffing: dict[str, tuple[int, ...]]) -> dict[str, float]:
    return {k: sum(p) * sc.interval_minutes / 60.0 for k, p in staffing.items()}
