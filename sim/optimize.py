"""Lowest-cost staffing meeting the targets: square-root start, greedy search under common
random numbers, a removal pass, and verification with fresh replications.

The decision variables are the agents of every tier staffed with a flat ``agents:``
(tiers on a ``schedule:`` are kept as they are). Targets that staffing moves — waits,
service level, abandonment, blocking, occupancy, cost — steer the search; the others
(automation, FCR, repeats, labour share) are reported but cannot be bought with agents.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from sim.config import Scenario, Target
from sim.runner import Job, RepResult, run_jobs
from sim.stats import Estimate, estimate, target_status

STAFFING_METRICS = {"asa_s", "mean_wait_s", "wait_p50_s", "wait_p90_s", "wait_p95_s", "p_wait",
                    "service_level", "abandon_rate", "abandoned", "block_rate", "blocked",
                    "mean_queue_length", "occupancy", "total", "per_contact", "labor"}
VERIFY_SEED_OFFSET = 7919  # verification replications use fresh random numbers


def steerable(t: Target) -> bool:
    return t.metric.split(".")[1] in STAFFING_METRICS


def with_agents(sc: Scenario, agents: dict[str, int]) -> Scenario:
    tiers = {k: (t.model_copy(update={"agents": agents[k]}) if k in agents else t)
             for k, t in sc.tiers.items()}
    return sc.model_copy(update={"tiers": tiers})


def square_root_start(sc: Scenario, tiers: list[str]) -> dict[str, int]:
    """Offered human load R (Erlangs, per agent slot) -> R + sqrt(R) agents in all, split
    over the flat tiers in proportion to their current agents."""
    load = 0.0
    for ch in sc.channels.values():
        rates = ch.arrivals.profile_per_hour or [ch.arrivals.rate_per_hour or 0.0]
        rate_s = sum(rates) / len(rates) / 3600.0
        for y, share in ch.mix.items():
            contained = ch.bot.containment.get(y, 0.0) if ch.bot else 0.0
            load += rate_s * share * (1 - contained) * ch.handle_time[y].mean_s / ch.concurrency
    fixed = sum(t.agents or 0 for k, t in sc.tiers.items() if k not in tiers)
    need = max(len(tiers), math.ceil(load + math.sqrt(load)) - fixed)
    current = {k: sc.tiers[k].agents or 0 for k in tiers}
    total = sum(current.values()) or len(tiers)
    return {k: max(1, round(need * (current[k] or 1) / total)) for k in tiers}


def target_gap(targets: list[Target], est: dict[tuple[str, str], Estimate]) -> float:
    """Sum of relative violations of the steerable targets by the pessimistic end of each
    95% CI (0 = every steerable target 'met' on these replications)."""
    total = 0.0
    for t in targets:
        if not steerable(t):
            continue
        e = est.get(tuple(t.metric.split(".")))
        if e is None or math.isnan(e.mean):
            continue
        v = (e.ci_high if t.max is not None else e.ci_low) if e.n >= 2 else e.mean
        scale = abs(t.limit) or 1.0
        total += max(0.0, (v - t.limit) if t.max is not None else (t.limit - v)) / scale
    return total


@dataclass
class Search:
    scenario: Scenario
    tiers: list[str]
    workers: int | None = None
    evaluations: int = 0          # scenario evaluations (each = `replications` simulations)
    cache: dict[tuple[int, ...], dict[tuple[str, str], Estimate]] = field(default_factory=dict)
    log: Callable[[str], None] = print

    def key(self, agents: dict[str, int]) -> tuple[int, ...]:
        return tuple(agents[k] for k in self.tiers)

    def evaluate(self, candidates: list[dict[str, int]]
                 ) -> list[dict[tuple[str, str], Estimate]]:
        """Metric estimates of each staffing, same seed and replications (CRN), in parallel."""
        todo = [c for c in candidates if self.key(c) not in self.cache]
        jobs = [Job("opt", str(i), with_agents(self.scenario, c), r)
                for i, c in enumerate(todo) for r in range(self.scenario.replications)]
        out = run_jobs(jobs, self.workers)
        if not out.complete:
            raise RuntimeError(out.error or "interrupted")
        for i, c in enumerate(todo):
            reps = [r.metrics for r in out.results if r.variant == str(i)]
            self.cache[self.key(c)] = {k: estimate([m[k] for m in reps]) for k in reps[0]}
        self.evaluations += len(todo)
        return [self.cache[self.key(c)] for c in candidates]

    def gap(self, est: dict[tuple[str, str], Estimate]) -> float:
        return target_gap(self.scenario.targets, est)

    def covered_without(self, agents: dict[str, int], tier: str) -> bool:
        """Whether every contact type ``tier`` serves keeps another tier with agents."""
        sc = self.scenario
        for y in sc.tiers[tier].serves:
            others = [k for k, t in sc.tiers.items() if k != tier and y in t.serves
                      and (agents.get(k, t.agents or 0) > 0 or t.schedule is not None)]
            if not others:
                return False
        return True

    def cost(self, agents: dict[str, int]) -> float:
        return sum(agents[k] * self.scenario.tiers[k].cost_per_hour for k in self.tiers)

    def climb(self, agents: dict[str, int], limit: int = 200) -> dict[str, int]:
        """Add agents, one at a time, to the tier with the most gap closed per unit cost."""
        (means,) = self.evaluate([agents])
        for _ in range(limit):
            g = self.gap(means)
            if g == 0.0:
                return agents
            cands = [{**agents, k: agents[k] + 1} for k in self.tiers]
            results = self.evaluate(cands)
            best = max(range(len(cands)), key=lambda i: (g - self.gap(results[i])) / max(
                self.scenario.tiers[self.tiers[i]].cost_per_hour, 1e-9))
            agents, means = cands[best], results[best]
            self.log(f"  + {self.tiers[best]} -> {agents} (gap {self.gap(means):.3g})")
        raise RuntimeError("no staffing within reach meets the targets")

    def trim(self, agents: dict[str, int]) -> dict[str, int]:
        """Remove agents, most expensive tiers first, while the targets stay met."""
        changed = True
        while changed:
            changed = False
            for k in sorted(self.tiers, key=lambda k: -self.scenario.tiers[k].cost_per_hour):
                if agents[k] == 0 or (agents[k] == 1 and not self.covered_without(agents, k)):
                    continue
                cand = {**agents, k: agents[k] - 1}
                (means,) = self.evaluate([cand])
                if self.gap(means) == 0.0:
                    agents, changed = cand, True
                    self.log(f"  - {k} -> {agents}")
        return agents


def fresh(candidate: Scenario) -> Scenario:
    """The same staffing with fresh random numbers (for verification)."""
    return candidate.model_copy(update={"seed": candidate.seed + VERIFY_SEED_OFFSET})


def verify(candidate: Scenario, workers: int | None
           ) -> tuple[list[tuple[Target, str]], list[RepResult]]:
    """Target status of a candidate staffing with fresh random numbers, and those
    replications (as variant "optimized", so the report can reuse them)."""
    sc = fresh(candidate)
    out = run_jobs([Job(sc.name, "optimized", sc, r) for r in range(sc.replications)],
                   workers)
    if not out.complete:
        raise RuntimeError(out.error or "interrupted")
    reps = [r.metrics for r in out.results]
    return [(t, target_status(t, estimate([m.get(tuple(t.metric.split(".")), math.nan)
                                           for m in reps]))) for t in sc.targets], out.results


def steerable_met(status: list[tuple[Target, str]]) -> bool:
    return all(st == "met" for t, st in status if steerable(t))
