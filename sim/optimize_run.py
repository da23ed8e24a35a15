"""`ccsim optimize`: choose the mode, search, verify, write the results folder.

Flat mode (every serving tier has ``agents:``): agents per tier (sim.optimize).
Interval mode (some serving tier has a ``schedule:``): agents per tier and interval
(sim.optimize_intervals). Either way the answer is verified with fresh replications and
the results folder holds, besides the usual tables, ``staffing.csv`` and
``optimized.yaml`` (the scenario with the optimised staffing, ready for ``ccsim run``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import yaml

from sim import optimize as op
from sim.config import Scenario
from sim.errors import InputError
from sim.optimize_intervals import IntervalSearch, sipp_on_queue
from sim.results import write_atomic, write_csv
from sim.scenario import LoadedScenario
from sim.study import Study, run_study

VERIFY_RETRIES = 4


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


def run_optimize(loaded: LoadedScenario, sc: Scenario, folder: Path, tiers: list[str],
                 workers: int | None, quiet: bool, as_json: bool,
                 log: Callable[[str], None]) -> dict:
    path = str(loaded.path)
    if not any(op.steerable(t) for t in sc.targets):
        raise InputError("no target that staffing can move (waits, service level, "
                         "abandonment, occupancy, cost)", file=path, path="targets")
    interval_mode = any(sc.tiers[k].schedule is not None for k in tiers)
    try:
        if interval_mode:
            best, rows, extra, start_sc = _intervals(sc, tiers, workers, log)
        else:
            best, rows, extra, start_sc = _flat(sc, tiers, workers, log)
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
    log("verified with fresh random numbers: " + ", ".join(
        f"{t.metric} {st}" for t, st in status if op.steerable(t))
        + (f"; paid hours/week {extra['paid_hours_per_week']}"
           if "paid_hours_per_week" in extra else f"; agents {extra.get('optimized')}"))
    write_csv(folder / "staffing.csv", pd.DataFrame(rows, columns=["tier", "interval",
                                                                   "agents"]))
    write_atomic(folder / "optimized.yaml", yaml.safe_dump(
        optimized_yaml(loaded.raw, best, tiers), sort_keys=False, allow_unicode=True))
    options = [(sc.name, "optimized", op.fresh(best))]
    if start_sc is not None:
        options.append((sc.name, "period-erlang", op.fresh(start_sc)))
    options.append((sc.name, "input", op.fresh(sc)))
    return run_study(Study(
        "optimize", sc.name, options, folder, workers, False, quiet, as_json,
        f"optimize {sc.name}: verified staffing (fresh random numbers)",
        {"scenario_file": path, "scenario_sha256": loaded.file_hash,
         "mode": "intervals" if interval_mode else "flat", "tiers": tiers, **extra},
        dict(loaded.raw), done_before=verified))


def _flat(sc: Scenario, tiers: list[str], workers: int | None, log: Callable[[str], None]):
    search = op.Search(sc, tiers, workers, log=log)
    start = op.square_root_start(sc, tiers)
    log(f"start (square-root staffing): {start}")
    agents = search.trim(search.climb(start))
    extra: dict = {"search_start": start}

    checker = op.Search(op.fresh(sc), tiers, workers, log=log)  # the verification's numbers

    def retry(_best: Scenario, status: list):
        """One agent more where it closes most of the gap of the targets that slipped,
        judged on the verification's random numbers (on the search's own numbers every
        candidate already meets them)."""
        nonlocal agents
        slipped = [t for t, st in status if op.steerable(t) and st != "met"]
        cands = [{**agents, k: agents[k] + 1} for k in tiers]
        ests = checker.evaluate(cands)
        agents = cands[min(range(len(cands)), key=lambda i: (
            op.target_gap(slipped, ests[i]), search.cost(cands[i])))]
        extra.update(optimized=agents, evaluations=search.evaluations + checker.evaluations)
        return op.with_agents(sc, agents), _flat_rows(agents)

    extra["retry"] = retry
    log(f"optimized: {agents}; {search.evaluations} staffings simulated x "
        f"{sc.replications} replications; start was off by "
        f"{ {k: agents[k] - start[k] for k in tiers} }")
    extra.update(optimized=agents, evaluations=search.evaluations)
    return op.with_agents(sc, agents), _flat_rows(agents), extra, None


def _flat_rows(agents: dict[str, int]) -> list[dict]:
    return [{"tier": k, "interval": "all", "agents": n} for k, n in agents.items()]


def _intervals(sc: Scenario, tiers: list[str], workers: int | None,
               log: Callable[[str], None]):
    search = IntervalSearch(sc, tiers, workers, log=log)
    start_q = sipp_on_queue(sc, tiers)
    start = search.evaluate(start_q)
    log(f"start (period-by-period Erlang A): {search.describe(start)}")
    if start.error:
        log(f"  the period-by-period staffing fails to serve everyone: {start.error}")
    ample = search.ample(start_q)
    log(f"ample (2 x start + 2, at least the input): {search.describe(ample)}")
    if ample.error:
        raise RuntimeError(f"even generous staffing fails: {ample.error}")
    out_of_reach = [t for t in sc.targets if op.steerable(t)
                    and op.target_gap([t], ample.estimates) > 0]
    if len(out_of_reach) == sum(op.steerable(t) for t in sc.targets):
        raise RuntimeError("no steerable target is met even with twice the period-by-period "
                           f"staffing: {', '.join(t.metric for t in out_of_reach)}")
    for t in out_of_reach:
        log(f"  {t.metric} is missed even with twice the period-by-period staffing: "
            "staffing these tiers' intervals cannot meet it; it is left out of the search")
    search.steered = [t for t in sc.targets if t not in out_of_reach]
    for ev in (start, ample):
        if not ev.error:
            ev.gap = op.target_gap(search.steered, ev.estimates)
    if any(ample.uncovered.values()):
        log(f"  requirement no shift pattern covers at ample staffing (agent-intervals a "
            f"week): {ample.uncovered}")
    best = search.search(start, ample)
    extra: dict = {"out_of_reach": [t.metric for t in out_of_reach]}

    def note(ev) -> None:
        extra.update(evaluations=search.evaluations, beta=dict(search.beta),
                     paid_hours_per_week=_hours(sc, ev.staffing),
                     uncovered_agent_slots=dict(ev.uncovered))

    def retry(_best: Scenario, _status: list):
        nonlocal best
        best = search.raise_beta(best)
        note(best)
        return best.scenario, search.rows(best.staffing)

    note(best)
    extra.update(start_paid_hours_per_week=_hours(sc, start.staffing), retry=retry)
    log(f"search result (before verification): paid hours/week "
        f"{extra['paid_hours_per_week']}; {search.evaluations} staffings simulated x "
        f"{sc.replications} replications; the period-by-period start had "
        f"{extra['start_paid_hours_per_week']}")
    return (best.scenario, search.rows(best.staffing), extra,
            None if start.error else start.scenario)


def _hours(sc: Scenario, staffing: dict[str, tuple[int, ...]]) -> dict[str, float]:
    return {k: sum(p) * sc.interval_minutes / 60.0 for k, p in staffing.items()}
