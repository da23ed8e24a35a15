"""Lowest-cost flat staffing meeting the targets: an Erlang start, a local search under
common random numbers that moves heads across tiers in both directions, a final descent
removing single heads, and verification with fresh replications.

The decision variables are the agents of every tier staffed with a flat ``agents:``
(tiers on a ``schedule:`` are kept as they are). Targets that staffing moves -- waits,
service level, abandonment, blocking, occupancy, cost, and any target per interval or day
(SPEC §7.8) on those -- steer the search; the others (automation, FCR, repeats, labour
share) are reported but cannot be bought with agents.

Feasible = every steerable target met at the pessimistic end of its 95% CI on the
search's replications (the same seed for every candidate: common random numbers, so two
staffings are compared on the same customers). Search (``Search.run``):

1. start: per tier, the fewest agents meeting the tier's wait targets in Erlang A for the
   load its first routing step sends it (sim.decide.optimize_sipp.sipp_on_queue), at the
   interval of mean load;
2. climb while infeasible: add the head that closes the most target gap per unit cost;
3. local search while a cheaper feasible neighbour exists: neighbours are one head less in
   a tier, and "-m heads of tier j, +1 head of tier i" for m in 1..3 and every ordered pair
   (a cheaper tier replaces a dearer one, or one dearer head replaces several cheaper
   ones), kept only when they cost less; the cheapest feasible neighbour is taken;
4. descent: remove single heads, dearest tier first, while feasible.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from sim.inputs.config import Scenario, Target
from sim.measure.runner import Job, RepResult, run_jobs
from sim.measure.stats import Estimate, estimate, target_status

STAFFING_METRICS = {"asa_s", "mean_wait_s", "wait_p50_s", "wait_p90_s", "wait_p95_s", "p_wait",
                    "service_level", "abandon_rate", "abandoned", "block_rate", "blocked",
                    "mean_queue_length", "occupancy", "total", "per_contact", "labor"}
VERIFY_SEED_OFFSET = 7919  # verification replications use fresh random numbers
MAX_SWAP = 3               # a move trades up to this many heads of one tier for one of another
Agents = dict[str, int]


def steerable(t: Target) -> bool:
    return t.metric.split(".")[1] in STAFFING_METRICS


def with_agents(sc: Scenario, agents: dict[str, int]) -> Scenario:
    tiers = {k: (t.model_copy(update={"agents": agents[k]}) if k in agents else t)
             for k, t in sc.tiers.items()}
    return sc.model_copy(update={"tiers": tiers})


def square_root_start(sc: Scenario, tiers: list[str]) -> dict[str, int]:
    """Offered human load R (Erlangs, per agent slot) -> R + sqrt(R) agents in all, split
    over the flat tiers in proportion to their current agents (a fallback start)."""
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


def erlang_start(sc: Scenario, tiers: list[str]) -> Agents:
    """Per tier: Erlang A agents for its first-step load in the interval of mean load
    (the mean over intervals with load), as paid heads; at least one head per tier."""
    from sim.decide.optimize_cover import paid_for
    from sim.decide.optimize_sipp import SlotLoad, offered_loads, tier_requirement

    out = {}
    loads = offered_loads(sc, tiers)
    for k in tiers:
        busy = [s for s in loads[k] if s.erlangs > 0]
        if not busy:
            out[k] = 1
            continue
        n = len(busy)
        mean = SlotLoad(sum(s.rate_per_hour for s in busy) / n, sum(s.erlangs for s in busy) / n,
                        sum(s.patience_weight for s in busy) / n,
                        sum(s.patient_rate for s in busy) / n, busy[0].threshold_s)
        out[k] = max(1, paid_for(tier_requirement(sc, k, mean), sc.tiers[k].on_queue_factor))
    return out


def target_gap(targets: list[Target], est: dict[tuple[str, str], Estimate]) -> float:
    """Sum of relative violations of the steerable (weekly) targets by the pessimistic
    end of each 95% CI (0 = every such target 'met' on these replications)."""
    total = 0.0
    for t in targets:
        if not steerable(t) or t.per is not None:
            continue
        e = est.get(tuple(t.metric.split(".")))
        if e is None or math.isnan(e.mean):
            continue
        v = (e.ci_high if t.max is not None else e.ci_low) if e.n >= 2 else e.mean
        scale = abs(t.limit) or 1.0
        total += max(0.0, (v - t.limit) if t.max is not None else (t.limit - v)) / scale
    return total


def results_gap(targets: list[Target], sc: Scenario, reps: list[RepResult]) -> float:
    """target_gap of the weekly targets plus, for each steerable target per interval or
    day, the shortfall of its share's Wilson 95% low end below ``share`` (relative)."""
    from sim.measure.targets import share_estimate

    est = {m: estimate([r.metrics[m] for r in reps]) for m in reps[0].metrics} if reps else {}
    total = target_gap(targets, est)
    for t in targets:
        if steerable(t) and t.per is not None:
            sh = share_estimate(t, sc, [r.intervals for r in reps])
            if sh.pairs:
                total += max(0.0, (t.share or 0.0) - sh.ci_low) / max(t.share or 0.0, 1e-9)
    return total


@dataclass
class Point:
    """One evaluated staffing: its metric estimates on the search's replications and its
    target gap (0 = feasible)."""

    agents: Agents
    estimates: dict[tuple[str, str], Estimate]
    gap: float


@dataclass
class Search:
    scenario: Scenario
    tiers: list[str]
    workers: int | None = None
    evaluations: int = 0          # staffings simulated (each = `replications` simulations)
    cache: dict[tuple[int, ...], Point] = field(default_factory=dict)
    log: Callable[[str], None] = print
    targets: list[Target] | None = None   # steering targets (default: the scenario's)

    def key(self, agents: Agents) -> tuple[int, ...]:
        return tuple(agents[k] for k in self.tiers)

    def evaluate(self, candidates: list[Agents]) -> list[Point]:
        """Each staffing on the same seed and replications (CRN), in parallel; cached."""
        todo = list({self.key(c): c for c in candidates if self.key(c) not in self.cache}
                    .values())
        sc = self.scenario
        jobs = [Job("opt", str(i), with_agents(sc, c), r)
                for i, c in enumerate(todo) for r in range(sc.replications)]
        out = run_jobs(jobs, self.workers) if jobs else None
        if out is not None and not out.complete:
            raise RuntimeError(out.error or "interrupted")
        targets = self.targets if self.targets is not None else sc.targets
        for i, c in enumerate(todo):
            reps = [r for r in out.results if r.variant == str(i)]  # type: ignore[union-attr]
            est = {k: estimate([r.metrics[k] for r in reps]) for k in reps[0].metrics}
            self.cache[self.key(c)] = Point(dict(c), est, results_gap(targets, sc, reps))
        self.evaluations += len(todo)
        return [self.cache[self.key(c)] for c in candidates]

    def covered(self, agents: Agents) -> bool:
        """Whether every contact type keeps a tier with agents that serves it."""
        sc = self.scenario
        for t in sc.tiers.values():
            for y in t.serves:
                if not any(y in u.serves and (agents.get(j, u.agents or 0) > 0
                                              or u.schedule is not None)
                           for j, u in sc.tiers.items()):
                    return False
        return True

    def cost(self, agents: Agents) -> float:
        return sum(agents[k] * self.scenario.tiers[k].cost_per_hour for k in self.tiers)

    def climb(self, agents: Agents, limit: int = 400) -> Point:
        """Add heads, one at a time, to the tier closing the most gap per unit cost."""
        (p,) = self.evaluate([agents])
        for _ in range(limit):
            if p.gap == 0.0:
                return p
            cands = [{**p.agents, k: p.agents[k] + 1} for k in self.tiers]
            pts = self.evaluate(cands)
            i = max(range(len(cands)), key=lambda i: (p.gap - pts[i].gap) / max(
                self.scenario.tiers[self.tiers[i]].cost_per_hour, 1e-9))
            p = pts[i]
            self.log(f"  + {self.tiers[i]} -> {describe(p.agents)} (target gap {p.gap:.3g})")
        raise RuntimeError("no staffing within reach meets the targets")

    def neighbours(self, agents: Agents) -> list[Agents]:
        """Cheaper staffings one move away: one head less, or m heads of a tier traded
        for one head of another (both directions), m = 1..MAX_SWAP."""
        base = self.cost(agents)
        out = [{**agents, k: agents[k] - 1} for k in self.tiers if agents[k] > 0]
        for i, j in itertools.permutations(self.tiers, 2):
            for m in range(1, MAX_SWAP + 1):
                if agents[j] >= m:
                    out.append({**agents, i: agents[i] + 1, j: agents[j] - m})
        return [c for c in out if self.cost(c) < base - 1e-9 and self.covered(c)]

    def local(self, p: Point, limit: int = 200) -> Point:
        """Move to the cheapest feasible neighbour until none is cheaper."""
        for _ in range(limit):
            cands = self.neighbours(p.agents)
            feasible = [q for q in self.evaluate(cands) if q.gap == 0.0]
            if not feasible:
                return p
            p = min(feasible, key=lambda q: (self.cost(q.agents), self.key(q.agents)))
            self.log(f"  move -> {describe(p.agents)} (cost {self.cost(p.agents):,.2f})")
        return p

    def descend(self, p: Point) -> Point:
        """Remove single heads, dearest tier first, while the targets stay met."""
        changed = True
        while changed:
            changed = False
            for k in sorted(self.tiers, key=lambda k: -self.scenario.tiers[k].cost_per_hour):
                cand = {**p.agents, k: p.agents[k] - 1}
                if cand[k] < 0 or not self.covered(cand):
                    continue
                (q,) = self.evaluate([cand])
                if q.gap == 0.0:
                    p, changed = q, True
                    self.log(f"  - {k} -> {describe(p.agents)}")
        return p

    def run(self, start: Agents) -> Point:
        return self.descend(self.local(self.climb(start)))


def describe(agents: Agents) -> str:
    """The log's and terminal's way of naming a flat staffing: 'base 12, advanced 4'."""
    return ", ".join(f"{k} {n}" for k, n in agents.items())


def fresh(candidate: Scenario) -> Scenario:
    """The same staffing with fresh random numbers (for verification)."""
    return candidate.model_copy(update={"seed": candidate.seed + VERIFY_SEED_OFFSET})


def verify(candidate: Scenario, workers: int | None
           ) -> tuple[list[tuple[Target, str]], list[RepResult]]:
    """Target status of a candidate staffing with fresh random numbers, and those
    replications (as variant "optimized", so the report can reuse them)."""
    from sim.measure.results import Option, targets_table

    sc = fresh(candidate)
    out = run_jobs([Job(sc.name, "optimized", sc, r) for r in range(sc.replications)],
                   workers)
    if not out.complete:
        raise RuntimeError(out.error or "interrupted")
    table = targets_table([Option(sc.name, "optimized", sc, out.results)])
    return list(zip(sc.targets, table["status"], strict=True)), out.results


def steerable_met(status: list[tuple[Target, str]]) -> bool:
    return all(st == "met" for t, st in status if steerable(t))


__all__ = ["Point", "Search", "describe", "erlang_start", "estimate", "fresh",
           "results_gap", "steerable", "steerable_met", "target_gap", "target_status",
           "verify", "with_agents"]
