"""Staffing per interval: period-by-period Erlang start, then iterative simulation search.

Used by ``ccsim optimize`` when a scenario staffs its tiers by ``schedule:``. The decision
is the number of agents of each optimised tier in each interval slot of the week.

1. Start — period by period ("SIPP", sim.decide.optimize_sipp): each interval is staffed for its
   own offered load as if it were stationary (Erlang A).
2. Iterative staffing (Feldman, Mandelbaum, Massey & Whitt 2008, "Staffing of
   time-varying queues to achieve time-stable performance"): simulate, measure the mean
   busy agents m of each tier in each slot, staff ``q = ceil(m + beta sqrt(m))``. The
   measured busy agents carry what the formulas leave out: contacts still in service after
   a peak (lag), abandonment, overflow between tiers, transfers, repeat contacts, async
   backlogs.
3. beta (one per tier) is searched under common random numbers: one common beta by
   bisection on the pessimistic 95 % CI ends of the steerable targets, then each tier's
   beta, most expensive tier first, lowered while the targets stay met.
4. The answer is verified with fresh replications (by the caller, sim.decide.optimize_run); if
   a target slipped, heads are added to it (sim.decide.optimize_verify), and only when that
   cannot help is every beta raised a step (``raise_beta``).

Paid staffing from the on-queue requirement, and the shift cover: sim.decide.optimize_cover. A
tier planned with a daily
``agents_per_interval`` profile keeps a daily profile (the busy agents are averaged over
the days of the week); otherwise the profile is weekly.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sim.decide.optimize import results_gap, steerable
from sim.decide.optimize_cover import cover_with_shifts, paid_for
from sim.inputs.config import Scenario, Target
from sim.inputs.schedule import DAYS, MINUTES_PER_DAY, Schedule, weekly_agents
from sim.measure.runner import Job, run_jobs
from sim.measure.stats import Estimate, estimate

Requirement = dict[str, tuple[int, ...]]   # tier -> paid agents per week slot
BETA_MIN, BETA_MAX, BETA_STEP = -2.0, 6.0, 0.25


def slot_label(slot: int, interval_minutes: int, weekly: bool) -> str:
    per_day = MINUTES_PER_DAY // interval_minutes
    minute = slot % per_day * interval_minutes
    clock = f"{minute // 60:02d}:{minute % 60:02d}"
    return f"{DAYS[slot // per_day].capitalize()} {clock}" if weekly else clock


# --------------------------------------------------------------------------- search


@dataclass
class Evaluation:
    staffing: Requirement
    scenario: Scenario
    estimates: dict[tuple[str, str], Estimate]
    busy: dict[str, np.ndarray]      # tier -> mean busy agents per week slot (NaN: unmeasured)
    cost: float
    gap: float
    uncovered: dict[str, int]        # tier -> agent-slots a week no shift pattern covers
    error: str | None = None         # why the simulation failed (gap = inf)
    origin: str = ""                 # how the search got here ("start", "beta +1.00", ...)
    gaps: dict[int, float] = field(default_factory=dict)  # id(target) -> its own gap


@dataclass
class IntervalSearch:
    scenario: Scenario
    tiers: list[str]
    workers: int | None = None
    log: Callable[[str], None] = print
    evaluations: int = 0
    _cache: dict[tuple, Evaluation] = field(default_factory=dict)

    def __post_init__(self) -> None:
        sc = self.scenario
        self.per_day = MINUTES_PER_DAY // sc.interval_minutes
        self.n_slots = 7 * self.per_day
        self.input_paid = {k: self._weekly_paid(k) for k in sc.tiers}
        self.steered: list[Target] = list(sc.targets)   # targets the search steers by
        self.beta: dict[str, float] = {}

    def _weekly_paid(self, k: str) -> tuple[int, ...]:
        t = self.scenario.tiers[k]
        if t.schedule is None:
            return (int(t.agents or 0),) * self.n_slots
        return tuple(weekly_agents(t.schedule, self.scenario.interval_minutes))

    def daily(self, k: str) -> bool:
        s = self.scenario.tiers[k].schedule
        return (s is not None and s.agents_per_interval is not None
                and len(s.agents_per_interval) == self.per_day)

    # ---- staffing -> scenario

    def build(self, on_queue: dict[str, list[int]]
              ) -> tuple[Requirement, Scenario, dict[str, int]]:
        """Paid staffing (per week slot), the scenario and the requirement no shift
        pattern covers, for an on-queue requirement."""
        sc = self.scenario
        staffing: Requirement = {}
        uncovered: dict[str, int] = {}
        tiers = dict(sc.tiers)
        for k in self.tiers:
            t = sc.tiers[k]
            paid = [paid_for(q, t.on_queue_factor) for q in on_queue[k]]
            if t.schedule is not None and t.schedule.shifts is not None:
                shifts, uncovered[k] = cover_with_shifts(
                    list(t.schedule.shifts), paid, sc.interval_minutes)
                schedule = Schedule(shifts=shifts or None,
                                    agents_per_interval=None if shifts else [0] * self.per_day)
                paid = weekly_agents(schedule, sc.interval_minutes)
            elif self.daily(k):
                day = [max(paid[d * self.per_day + i] for d in range(7))
                       for i in range(self.per_day)]
                schedule = Schedule(agents_per_interval=day)
                paid = day * 7
            else:
                schedule = Schedule(agents_per_interval=paid)
            staffing[k] = tuple(paid)
            tiers[k] = t.model_copy(update={"agents": None, "schedule": schedule})
        return staffing, sc.model_copy(update={"tiers": tiers}), uncovered

    def cost(self, staffing: Requirement) -> float:
        """Paid agent-hours x hourly cost of the optimised tiers over one week."""
        h = self.scenario.interval_minutes / 60.0
        return sum(sum(p) * h * self.scenario.tiers[k].cost_per_hour
                   for k, p in staffing.items())

    # ---- simulation

    def evaluate(self, on_queue: dict[str, list[int]], origin: str = "") -> Evaluation:
        staffing, sc, uncovered = self.build(on_queue)
        return self.evaluate_built(staffing, sc, uncovered, origin)

    def evaluate_built(self, staffing: Requirement, sc: Scenario, uncovered: dict[str, int],
                       origin: str = "") -> Evaluation:
        """Simulate one staffing (already built into ``sc``) on the search's seed (CRN)."""
        key = tuple(staffing[k] for k in self.tiers)
        if key in self._cache:
            return self._cache[key]
        jobs = [Job("opt", "candidate", sc, r) for r in range(sc.replications)]
        out = run_jobs(jobs, self.workers)
        if not out.complete and "never served" in (out.error or ""):
            # contacts stuck for good (e.g. transferred to a tier with nobody on the queue):
            # this staffing is infeasible, not the run
            ev = Evaluation(staffing, sc, {}, {k: np.full(self.n_slots, np.nan)
                                               for k in self.tiers},
                            self.cost(staffing), math.inf, uncovered, out.error, origin,
                            {id(t): math.inf for t in self.scenario.targets})
            self._cache[key] = ev
            self.evaluations += 1
            return ev
        if not out.complete:
            raise RuntimeError(out.error or "interrupted")
        reps = [r.metrics for r in out.results]
        est = {m: estimate([x[m] for x in reps]) for m in reps[0]}
        busy = {k: self._busy(out.results, k) for k in self.tiers}
        gaps = {id(t): results_gap([t], sc, out.results) for t in self.scenario.targets}
        ev = Evaluation(staffing, sc, est, busy, self.cost(staffing), 0.0, uncovered,
                        None, origin, gaps)
        ev.gap = self.gap_of(ev)
        self._cache[key] = ev
        self.evaluations += 1
        return ev

    def gap_of(self, ev: Evaluation) -> float:
        """Target gap of the steered targets (sim.decide.optimize.results_gap)."""
        return sum(ev.gaps.get(id(t), 0.0) for t in self.steered if steerable(t))

    def weekly_paid_of(self, sc: Scenario, k: str) -> list[int]:
        t = sc.tiers[k]
        if t.schedule is None:
            return [int(t.agents or 0)] * self.n_slots
        return list(weekly_agents(t.schedule, sc.interval_minutes))

    def _busy(self, results: list, tier: str) -> np.ndarray:
        """Mean busy agents per week slot over replications and measured weeks."""
        total = np.zeros(self.n_slots)
        count = np.zeros(self.n_slots)
        first = None
        for r in results:
            for row in r.intervals:
                first = first or row["channel"]
                if row["channel"] != first:
                    continue
                i = int(row["interval"]) % self.n_slots
                total[i] += row[f"busy_{tier}"]
                count[i] += 1
        with np.errstate(invalid="ignore"):
            return np.where(count > 0, total / np.maximum(count, 1), np.nan)

    def requirement(self, busy: dict[str, np.ndarray], beta: dict[str, float]
                    ) -> dict[str, list[int]]:
        """On-queue agents ceil(m + beta sqrt(m)) per slot (at least 1 wherever m > 0);
        slots the run did not measure keep the input's on-queue agents."""
        out = {}
        for k in self.tiers:
            factor = self.scenario.tiers[k].on_queue_factor
            m = busy[k]
            if self.daily(k):  # one profile for every day: average the days
                with warnings.catch_warnings():  # a time of day never measured stays NaN
                    warnings.simplefilter("ignore", RuntimeWarning)
                    m = np.tile(np.nanmean(m.reshape(7, self.per_day), axis=0), 7)
            need = []
            for i, mi in enumerate(m):
                if math.isnan(mi):
                    need.append(math.floor(self.input_paid[k][i] * factor + 0.5))
                elif mi <= 1e-9:
                    need.append(0)
                else:
                    need.append(max(1, math.ceil(mi + beta[k] * math.sqrt(mi) - 1e-9)))
            out[k] = need
        return out

    def ample(self, start_on_queue: dict[str, list[int]]) -> Evaluation:
        """Generous staffing (twice the period-by-period start plus 2 wherever it staffs,
        and at least the input's staffing, so tiers reached only by transfer or overflow
        are measured too):
        measures the offered load with little queueing, and shows which targets no
        staffing of these tiers can meet."""
        factor = {k: self.scenario.tiers[k].on_queue_factor for k in start_on_queue}
        return self.evaluate({k: [max(2 * q + 2 if q > 0 else 0,
                                      math.floor(self.input_paid[k][i] * factor[k] + 0.5))
                                  for i, q in enumerate(qs)]
                              for k, qs in start_on_queue.items()}, "ample")

    def search(self, start: Evaluation, ample: Evaluation) -> Evaluation:
        """Cheapest staffing found whose steerable targets are met on the search's
        replications (pessimistic CI ends)."""
        feasible: list[Evaluation] = [e for e in (start, ample) if e.gap == 0]
        busy = ample.busy
        lo, hi, b = None, None, 1.0
        while True:
            ev = self.evaluate(self.requirement(busy, {k: b for k in self.tiers}),
                               f"beta {b:+.2f}")
            self.log(f"  beta {b:+.2f}: {self.describe(ev)}")
            if ev.gap == 0:
                feasible.append(ev)
                hi, busy = b, ev.busy
            else:
                lo = b
            if hi is None:
                if b >= BETA_MAX:
                    break
                b = min(BETA_MAX, b + 1.0)
            elif lo is None:
                if b <= BETA_MIN:
                    break
                b = max(BETA_MIN, b - 1.0)
            elif hi - lo <= BETA_STEP + 1e-9:
                break
            else:
                b = round((lo + hi) / 2 / BETA_STEP) * BETA_STEP
                if b in (lo, hi):
                    break
        best = min(feasible, key=lambda e: e.cost)
        self.beta = {k: hi if hi is not None else BETA_MAX for k in self.tiers}
        if hi is None:  # only the start or the ample staffing met the targets
            return best
        for k in sorted(self.tiers, key=lambda k: -self.scenario.tiers[k].cost_per_hour):
            while self.beta[k] - BETA_STEP >= BETA_MIN:
                trial = {**self.beta, k: self.beta[k] - BETA_STEP}
                ev = self.evaluate(self.requirement(best.busy, trial),
                                   f"beta {k} {trial[k]:+.2f} (from {best.origin})")
                self.log(f"  beta {k} {trial[k]:+.2f}: {self.describe(ev)}")
                if ev.gap > 0 or ev.cost >= best.cost:
                    break
                self.beta, best = trial, ev
        return best

    def raise_beta(self, best: Evaluation) -> Evaluation:
        """Raise every tier's beta a step at a time until the staffing grows (after a
        failed verification)."""
        for _ in range(int((BETA_MAX - BETA_MIN) / BETA_STEP)):
            self.beta = {k: b + BETA_STEP for k, b in self.beta.items()}
            ev = self.evaluate(self.requirement(best.busy, self.beta),
                               "after verification: beta " + ", ".join(
                                   f"{k} {b:+.2f}" for k, b in self.beta.items()))
            if ev.cost > best.cost:
                return ev
        raise RuntimeError("verification keeps missing a target and beta is at its limit")

    def describe(self, ev: Evaluation) -> str:
        hours = {k: sum(p) * self.scenario.interval_minutes / 60.0
                 for k, p in ev.staffing.items()}
        return (f"paid hours/week {', '.join(f'{k} {h:,.0f}' for k, h in hours.items())}; "
                f"cost {ev.cost:,.0f}; target gap {ev.gap:.3g}")

    def rows(self, staffing: Requirement) -> list[dict]:
        """staffing.csv rows: tier, interval label, paid agents."""
        rows = []
        for k in self.tiers:
            daily = self.daily(k)
            n = self.per_day if daily else self.n_slots
            rows += [{"tier": k, "interval": slot_label(i, self.scenario.interval_minutes,
                                                         not daily),
                      "agents": staffing[k][i]} for i in range(n)]
        return rows
