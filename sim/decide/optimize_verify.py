"""After a failed verification (interval mode): add heads to the best staffing found.

The verification (sim.decide.optimize.verify) simulates the best staffing with fresh random
numbers. When a steerable target slips there, heads are added where they close most of
the gap of the targets that slipped, judged on those same random numbers (on the
search's own numbers the staffing already meets them), as flat mode does; the shift and
profile moves of the search are kept. The candidates, for each optimised tier that serves
first a contact a slipped target measures (every optimised tier when none does):

- a tier on shifts: one head more on each of the ADD_BLOCKS patterns whose intervals were
  busiest in the verification (mean busy / on-queue agents over the pattern's intervals);
- a tier with an interval profile: one head more on the block of BLOCK_SLOTS intervals
  whose agents were busiest in the verification (the ADD_BLOCKS busiest blocks).

The candidate with the least remaining gap (then the cheapest) is taken, one head at a
time, until the slipped targets are met on the verification's numbers or MAX_HEADS heads
were added. ``add`` returns None when there is no candidate or none lowers the gap; the
caller then raises every beta a step (IntervalSearch.raise_beta), the fallback.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np

from sim.decide.optimize import fresh
from sim.decide.optimize_intervals import Evaluation, IntervalSearch, slot_label
from sim.decide.optimize_shifts import (
    BLOCK_SLOTS,
    build_shifts,
    patterns_of,
    profile_tiers,
    sizes_of,
)
from sim.decide.optimize_sipp import tier_targets
from sim.inputs.config import Scenario, Target
from sim.inputs.schedule import Schedule, shift_slots, weekly_agents

MAX_HEADS = 8      # heads added after one failed verification before falling back to beta
ADD_BLOCKS = 3     # shift patterns or profile blocks tried per tier (the busiest ones)

Built = tuple[str, dict[str, tuple[int, ...]], Scenario]   # (what, staffing, scenario)


@dataclasses.dataclass
class HeadAdder:
    search: IntervalSearch
    checker: IntervalSearch = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        s = self.search   # the verification's random numbers (its own cache)
        self.checker = IntervalSearch(fresh(s.scenario), s.tiers, s.workers, log=s.log)

    @property
    def evaluations(self) -> int:
        return self.checker.evaluations

    def check(self, staffing: dict[str, tuple[int, ...]], sc: Scenario,
              template: Evaluation, origin: str) -> Evaluation:
        """``sc`` (on the search's seed) simulated on the verification's numbers; the
        evaluation names the search-seed scenario, so verifying it re-runs those numbers."""
        ev = self.checker.evaluate_built(staffing, fresh(sc), dict(template.uncovered), origin)
        return dataclasses.replace(ev, scenario=sc, origin=origin)

    def add(self, best: Evaluation, slipped: list[Target], log: Callable[[str], None]
            ) -> Evaluation | None:
        self.checker.steered = slipped
        current = self.check(best.staffing, best.scenario, best, best.origin)
        added: list[str] = []
        for _ in range(MAX_HEADS):
            cands = self.candidates(current, slipped)
            if not cands:
                return None
            evs = [self.check(st, sc, current, "after verification: "
                              + ", ".join([*added, what])) for what, st, sc in cands]
            i = min(range(len(evs)), key=lambda i: (evs[i].gap, evs[i].cost))
            if added and evs[i].gap >= current.gap - 1e-12:
                break   # no head lowers the gap any further
            if not added and current.gap > 0 and evs[i].gap >= current.gap - 1e-12:
                return None
            current = evs[i]
            added.append(cands[i][0])
            log(f"  + {cands[i][0]} -> {self.search.describe(current)} (gap on the "
                "verification's numbers)")
            if current.gap == 0:
                break
        return current

    def candidates(self, ev: Evaluation, slipped: list[Target]) -> list[Built]:
        s = self.search
        feeding = [k for k in s.tiers
                   if any(t in slipped for t in tier_targets(s.scenario, k))] or s.tiers
        out: list[Built] = []
        pats = patterns_of(s)
        state = {(k, j): n for k in pats for j, n in enumerate(sizes_of(ev, k, pats[k]))}
        for k in pats:
            if k not in feeding:
                continue
            occ = self._occupancy(ev, k)
            score = [_mean(occ[shift_slots(p, s.scenario.interval_minutes)])
                     for p in pats[k]]
            for j in sorted(range(len(pats[k])), key=lambda j: -score[j])[:ADD_BLOCKS]:
                p = pats[k][j]
                days = "every day" if len(p.days) == 7 else ",".join(p.days)
                staffing, sc = build_shifts(s, ev, pats, {**state, (k, j): state[(k, j)] + 1})
                out.append((f"1 {k} on {p.start}-{p.end} {days}", staffing, sc))
        for k in profile_tiers(s, ev):
            if k in feeding:
                out += self._profile_candidates(ev, k)
        return out

    def _occupancy(self, ev: Evaluation, k: str) -> np.ndarray:
        """Busy / on-queue agents of tier k per week slot in ``ev`` (NaN: nobody on)."""
        factor = self.search.scenario.tiers[k].on_queue_factor
        on_queue = np.array([math.floor(p * factor + 0.5) for p in ev.staffing[k]], float)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(on_queue > 0, ev.busy[k] / np.maximum(on_queue, 1), np.nan)

    def _profile_candidates(self, ev: Evaluation, k: str) -> list[Built]:
        s = self.search
        sc = s.scenario
        prof = list(ev.scenario.tiers[k].schedule.agents_per_interval)  # type: ignore[union-attr]
        occ = self._occupancy(ev, k)
        n = len(prof)
        score = np.full(n, -1.0)
        for slot, o in enumerate(occ):   # a daily profile: its busiest day counts
            if not math.isnan(o):
                score[slot % n] = max(score[slot % n], o)
        blocks = [range(i, min(n, i + BLOCK_SLOTS)) for i in range(0, n, BLOCK_SLOTS)]
        ranked = sorted((b for b in blocks if max(score[i] for i in b) > 0),
                        key=lambda b: -max(score[i] for i in b))[:ADD_BLOCKS]
        out: list[Built] = []
        for b in ranked:
            row = [a + 1 if i in b else a for i, a in enumerate(prof)]
            sched = Schedule(agents_per_interval=row)
            staffing = {**ev.staffing, k: tuple(weekly_agents(sched, sc.interval_minutes))}
            tiers = {**ev.scenario.tiers, k: ev.scenario.tiers[k].model_copy(
                update={"agents": None, "schedule": sched})}
            weekly = n != s.per_day
            what = (f"1 {k} at {slot_label(b[0], sc.interval_minutes, weekly)}-"
                    f"{slot_label(b[-1] + 1, sc.interval_minutes, weekly)}")
            out.append((what, staffing, ev.scenario.model_copy(update={"tiers": tiers})))
        return out


def _mean(x: np.ndarray) -> float:
    """Mean of the finite values; 0 when none (nobody on the queue there yet)."""
    ok = np.isfinite(x)
    return float(x[ok].mean()) if ok.any() else 0.0
