"""Staffing per interval: period-by-period Erlang start, then iterative simulation search.

Used by ``ccsim optimize`` when a scenario staffs its tiers by ``schedule:``. The decision
is the number of agents of each optimised tier in each interval slot of the week.

1. Start — period by period ("SIPP"): each interval is staffed for its own offered load as
   if it were stationary. Tier k's load in slot i is the sum, over the (channel, type)
   pairs whose first routing step is k, of rate x (1 - bot containment) x mean handle time
   / speed / concurrency; the on-queue agents are the fewest meeting the tier's wait
   targets in Erlang A (exponential patience), or R + sqrt(R) when no wait target applies.
2. Iterative staffing (Feldman, Mandelbaum, Massey & Whitt 2008, "Staffing of
   time-varying queues to achieve time-stable performance"): simulate, measure the mean
   busy agents m of each tier in each slot, staff ``q = ceil(m + beta sqrt(m))``. The
   measured busy agents carry what the formulas leave out: contacts still in service after
   a peak (lag), abandonment, overflow between tiers, transfers, repeat contacts, async
   backlogs.
3. beta (one per tier) is searched under common random numbers: one common beta by
   bisection on the pessimistic 95 % CI ends of the steerable targets, then each tier's
   beta, most expensive tier first, lowered while the targets stay met.
4. The answer is verified with fresh replications (by the caller); if a target slipped,
   every beta is raised a step and the staffing checked again.

Paid agents are the fewest whose on-queue share (``sim.staffing`` rounding) reaches the
requirement. A tier planned with ``shifts`` keeps its shift patterns (start, end, days):
their sizes are chosen by an integer program covering the paid requirement of every slot
at the fewest paid hours (``scipy.optimize.milp``). A tier planned with a daily
``agents_per_interval`` profile keeps a daily profile (the busy agents are averaged over
the days of the week); otherwise the profile is weekly.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from sim.calendar import hours_or_none
from sim.config import Scenario, Target
from sim.erlang import erlang_a_metrics
from sim.optimize import results_gap, steerable
from sim.routing import eligible_steps
from sim.runner import Job, run_jobs
from sim.schedule import DAYS, MINUTES_PER_DAY, Schedule, Shift, shift_slots, weekly_agents
from sim.stats import Estimate, estimate

Requirement = dict[str, tuple[int, ...]]   # tier -> paid agents per week slot
BETA_MIN, BETA_MAX, BETA_STEP = -2.0, 6.0, 0.25


def slot_label(slot: int, interval_minutes: int, weekly: bool) -> str:
    per_day = MINUTES_PER_DAY // interval_minutes
    minute = slot % per_day * interval_minutes
    clock = f"{minute // 60:02d}:{minute % 60:02d}"
    return f"{DAYS[slot // per_day].capitalize()} {clock}" if weekly else clock


def paid_for(on_queue: int, factor: float) -> int:
    """Fewest paid agents whose on-queue count ``floor(paid x factor + 0.5)`` >= on_queue."""
    if on_queue <= 0:
        return 0
    paid = max(0, math.ceil((on_queue - 0.5) / factor - 1e-9))
    while math.floor(paid * factor + 0.5) < on_queue:
        paid += 1
    return paid


# --------------------------------------------------------------------------- SIPP start


@dataclass
class SlotLoad:
    """Offered load of one tier in one slot, as period-by-period Erlang staffing sees it."""

    rate_per_hour: float = 0.0
    erlangs: float = 0.0
    patience_weight: float = 0.0   # sum of rate x mean patience (rate-weighted mean)
    patient_rate: float = 0.0      # rate of contacts that may abandon
    threshold_s: float = 20.0

    def add(self, rate_per_hour: float, erlangs: float, patience_s: float | None,
            threshold_s: float) -> None:
        self.rate_per_hour += rate_per_hour
        self.erlangs += erlangs
        if patience_s is not None:
            self.patience_weight += rate_per_hour * patience_s
            self.patient_rate += rate_per_hour
        self.threshold_s = threshold_s

    @property
    def patience_s(self) -> float:
        # contacts that never abandon dilute the abandonment rate: mean of 1/patience
        if self.patient_rate <= 0:
            return math.inf
        mean = self.patience_weight / self.patient_rate
        return mean * self.rate_per_hour / self.patient_rate


def offered_loads(sc: Scenario, tiers: list[str]) -> dict[str, list[SlotLoad]]:
    """Per tier, per week slot: the load sent to the tier's first routing step."""
    per_day = MINUTES_PER_DAY // sc.interval_minutes
    n = 7 * per_day
    loads = {k: [SlotLoad() for _ in range(n)] for k in sc.tiers}
    for cname, ch in sc.channels.items():
        prof = ch.arrivals.profile_per_hour or [ch.arrivals.rate_per_hour or 0.0] * per_day
        days = ch.arrivals.day_factors or [1.0] * 7
        window = hours_or_none(ch.open_hours)  # daily or by weekday
        patience = ch.patience.mean_s if ch.patience is not None else None
        for ctype, share in ch.mix.items():
            steps, _ = eligible_steps(sc, cname, ctype)
            if not steps:
                continue
            first = [t for after, t in steps if after == steps[0][0]]
            contained = ch.bot.containment.get(ctype, 0.0) if ch.bot else 0.0
            mean_s = ch.handle_time[ctype].mean_s
            for i in range(n):
                if ch.mode == "realtime" and window is not None and not window.is_open(
                        i * sc.interval_minutes * 60.0):
                    continue
                rate = prof[i % len(prof)] * days[i // per_day] * share * (1 - contained)
                for t in first:
                    r = rate / len(first)
                    hold_s = mean_s / sc.tiers[t].serves[ctype] / ch.concurrency
                    loads[t][i].add(r, r * hold_s / 3600.0, patience,
                                    ch.service_level_threshold_s)
    return {k: loads[k] for k in tiers}


def _tier_targets(sc: Scenario, tier: str) -> list[Target]:
    """Steerable wait targets on a scope whose contacts this tier serves first."""
    feeds = {"all"}
    for cname, ch in sc.channels.items():
        for ctype in ch.mix:
            steps, _ = eligible_steps(sc, cname, ctype)
            if steps and tier in [t for after, t in steps if after == steps[0][0]]:
                feeds |= {cname, ctype}
    return [t for t in sc.targets if t.metric.split(".")[0] in feeds
            and t.metric.split(".")[1] in ("asa_s", "mean_wait_s", "service_level",
                                           "abandon_rate", "p_wait")]


def _meets(load: SlotLoad, agents: int, targets: list[Target]) -> bool:
    aht = load.erlangs * 3600.0 / load.rate_per_hour
    q = erlang_a_metrics(load.rate_per_hour, aht, agents, load.patience_s, load.threshold_s)
    for t in targets:
        v = getattr(q, t.metric.split(".")[1])
        if (t.max is not None and v > t.max) or (t.min is not None and v < t.min):
            return False
    return True


def erlang_requirement(load: SlotLoad, targets: list[Target]) -> int:
    """Fewest on-queue agents meeting ``targets`` in Erlang A (C without patience) for one
    stationary load; R + sqrt(R) when no wait target applies."""
    r = load.erlangs
    if r <= 0:
        return 0
    if not targets:
        return math.ceil(r + math.sqrt(r))
    n = max(1, math.floor(r))
    cap = math.ceil(r + 10 * math.sqrt(r) + 20)
    while n < cap and not _meets(load, n, targets):
        n += 1
    return n


def tier_requirement(sc: Scenario, tier: str, load: SlotLoad) -> int:
    return erlang_requirement(load, _tier_targets(sc, tier))


def sipp_on_queue(sc: Scenario, tiers: list[str]) -> dict[str, list[int]]:
    """Period-by-period Erlang staffing: on-queue agents per tier and week slot."""
    out = {}
    for k, slots in offered_loads(sc, tiers).items():
        targets = _tier_targets(sc, k)
        out[k] = [erlang_requirement(load, targets) for load in slots]
    return out


# --------------------------------------------------------------------------- shifts


def cover_with_shifts(shifts: list[Shift], paid: list[int], interval_minutes: int
                      ) -> tuple[list[Shift], int]:
    """Sizes for the tier's shift patterns covering ``paid`` (per week slot) at the fewest
    paid hours; returns the shifts and the agent-slots of requirement no pattern covers."""
    patterns: list[Shift] = []
    for s in shifts:
        if all((p.start, p.end, p.days) != (s.start, s.end, s.days) for p in patterns):
            patterns.append(s)
    n = len(paid)
    if not patterns:  # nothing to size: the whole requirement is uncovered
        return [], int(sum(paid))
    a = np.zeros((n, len(patterns)))
    for j, p in enumerate(patterns):
        for slot in shift_slots(p, interval_minutes):
            a[slot, j] += 1
    need = np.array(paid, dtype=float)
    coverable = a.sum(axis=1) > 0
    uncovered = int(need[~coverable].sum())
    hours = a.sum(axis=0)
    res = milp(c=hours, integrality=np.ones(len(patterns)), bounds=Bounds(0, np.inf),
               constraints=LinearConstraint(a[coverable], lb=need[coverable], ub=np.inf))
    if res.x is None:  # cannot happen: every coverable slot can be covered by enough agents
        raise RuntimeError(f"shift covering failed: {res.message}")
    sizes = [int(round(x)) for x in res.x]
    return [p.model_copy(update={"agents": k}) for p, k in zip(patterns, sizes, strict=True)
            if k > 0], uncovered


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
        """Target gap of the steered targets (sim.optimize.results_gap)."""
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
