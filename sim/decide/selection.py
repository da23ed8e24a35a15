"""Ranking and selection for ``ccsim compare --pcs``: the cheapest option meeting every
target, with a stated probability of correct selection, adding replications only to the
options still in contention.

Procedure (fully sequential, common random numbers allowed): Kim & Nelson (2001), "A
fully sequential procedure for indifference-zone selection in simulation", ACM TOMACS
11(3), procedure KN, on each replication's ``cost.total`` (smaller is better), combined
with a feasibility check of every target:

- every option starts with ``n0`` replications (the scenario's, at least 2), on the same
  random numbers (replication r of every option sees the same customers);
- ``eta = ((2 alpha / (k - 1)) ** (-2 / (n0 - 1)) - 1) / 2``, ``h2 = 2 eta (n0 - 1)``,
  ``alpha = 1 - pcs``; ``S2_il`` = variance over the first n0 replications of the paired
  cost difference of options i and l (CRN makes it small);
- after r replications, option i leaves contention when a *feasible* option l is cheaper
  by more than ``W_il(r) = max(0, delta / (2 r) (h2 S2_il / delta^2 - r))``
  (KN's screening, ``delta`` = the indifference zone in cost units); an option with a
  target ``missed`` (its 95% CI entirely on the wrong side) leaves contention too;
- options in contention get one replication more each, until one feasible option is
  left (selected), none is (no option meets every target), or ``max_reps`` is reached
  (undecided: the options still in contention are named).

Statement: if the cheapest option meeting every target is at least ``delta`` cheaper (per
replication) than every other such option, it is selected with probability at least
``pcs`` (KN's guarantee among the options judged feasible); each feasibility call is a
95% CI per target (sim.measure.stats / sim.measure.targets) at the replications the option received.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

SELECTION_COLUMNS = ["scenario", "variant", "replications", "cost_mean", "targets",
                     "status", "left_at_replication"]


@dataclass
class Contender:
    key: tuple[str, str]
    costs: list[float] = field(default_factory=list)   # cost.total per replication (0..r-1)
    feasibility: str = "uncertain"                     # met (every target) / missed / uncertain
    status: str = "in contention"                      # selected / eliminated: ... / ...
    left_at: int | None = None                         # replications when it left


@dataclass
class KN:
    """State of the procedure over ``keys`` (scenario, variant) options."""

    keys: list[tuple[str, str]]
    pcs: float = 0.95
    delta: float = 1.0             # indifference zone, cost units per replication
    n0: int = 10
    max_reps: int = 200
    opts: dict[tuple[str, str], Contender] = field(default_factory=dict)
    s2: dict[tuple, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.opts = {k: Contender(k) for k in self.keys}

    @property
    def h2(self) -> float:
        k = len(self.keys)
        if k < 2:
            return 0.0
        alpha = 1.0 - self.pcs
        eta = 0.5 * ((2.0 * alpha / (k - 1)) ** (-2.0 / (self.n0 - 1)) - 1.0)
        return 2.0 * eta * (self.n0 - 1)

    def contending(self) -> list[tuple[str, str]]:
        return [k for k, o in self.opts.items() if o.status == "in contention"]

    def update(self, costs: dict[tuple[str, str], list[float]],
               feasibility: dict[tuple[str, str], str]) -> None:
        """Record each contending option's costs so far (replications 0..r-1) and target
        status, then screen. Call after every round of replications."""
        for k in self.contending():
            self.opts[k].costs = list(costs[k])
            self.opts[k].feasibility = feasibility[k]
        if not self.s2:  # first stage: variances of the paired differences
            for i in self.keys:
                for j in self.keys:
                    if i < j:
                        d = (np.asarray(costs[i][: self.n0]) - np.asarray(costs[j][: self.n0]))
                        v = float(np.var(d, ddof=1)) if len(d) > 1 else 0.0
                        self.s2[(i, j)] = self.s2[(j, i)] = v
        live = self.contending()
        r = min(len(self.opts[k].costs) for k in live) if live else 0
        for k in live:
            if self.opts[k].feasibility == "missed":
                self._leave(k, "eliminated: a target missed", r)
        live = self.contending()
        means = {k: float(np.mean(self.opts[k].costs[:r])) for k in live}
        feasible = [k for k in live if self.opts[k].feasibility == "met"]
        out = []
        for i in live:
            for j in feasible:
                if j != i and means[i] > means[j] + self.w(i, j, r):
                    out.append(i)
                    break
        for i in out:
            self._leave(i, "eliminated: costlier", r)
        live = self.contending()
        if len(live) == 1 and self.opts[live[0]].feasibility == "met":
            self.opts[live[0]].status, self.opts[live[0]].left_at = "selected", r
        elif live and r >= self.max_reps:
            for k in live:
                self.opts[k].status = "undecided at --max-reps"
                self.opts[k].left_at = r

    def w(self, i: tuple[str, str], j: tuple[str, str], r: int) -> float:
        s2 = self.s2.get((i, j), 0.0)
        return max(0.0, self.delta / (2.0 * r) * (self.h2 * s2 / self.delta ** 2 - r))

    def _leave(self, k: tuple[str, str], why: str, r: int) -> None:
        self.opts[k].status, self.opts[k].left_at = why, r

    def done(self) -> bool:
        return not self.contending()

    @property
    def selected(self) -> tuple[str, str] | None:
        return next((k for k, o in self.opts.items() if o.status == "selected"), None)

    def table(self) -> pd.DataFrame:
        rows = [[k[0], k[1], len(o.costs), float(np.mean(o.costs)) if o.costs else math.nan,
                 o.feasibility, o.status, o.left_at] for k, o in self.opts.items()]
        return pd.DataFrame(rows, columns=SELECTION_COLUMNS)

    def meta(self, currency: str) -> dict:
        sel = self.selected
        return {"procedure": "Kim-Nelson KN (fully sequential, common random numbers)",
                "pcs": self.pcs, "indifference": self.delta, "currency": currency,
                "first_stage": self.n0, "max_reps": self.max_reps,
                "selected": list(sel) if sel else None,
                "replications": {f"{k[0]}/{k[1]}": len(o.costs)
                                 for k, o in self.opts.items()},
                "status": {f"{k[0]}/{k[1]}": o.status for k, o in self.opts.items()},
                "targets": {f"{k[0]}/{k[1]}": o.feasibility for k, o in self.opts.items()},
                "statement": self.statement(currency)}

    def statement(self, currency: str) -> str:
        sel = self.selected
        d = f"{currency} {self.delta:,.2f}"
        if sel is not None:
            return (f"{sel[0]}/{sel[1]} is the cheapest option meeting every target: "
                    f"probability of correct selection at least {self.pcs:g} if it is at "
                    f"least {d} a replication cheaper than every other option meeting them "
                    "(indifference zone; Kim & Nelson's fully sequential procedure, common "
                    "random numbers); each target judged by its 95% CI")
        live = [k for k, o in self.opts.items() if o.status.startswith("undecided")]
        if live:
            return ("no selection within --max-reps: still in contention "
                    + ", ".join(f"{a}/{b}" for a, b in live)
                    + f" (their costs are within the indifference zone {d} or a target is "
                    "uncertain); more --max-reps or a wider --indifference would decide")
        return "no option meets every target (each was eliminated by a missed target)"


def costs_of(results: list, key: tuple[str, str]) -> list[float]:
    """cost.total per replication (in replication order) of one option."""
    mine = sorted((r for r in results if (r.scenario_name, r.variant) == key),
                  key=lambda r: r.replication)
    return [float(r.metrics.get(("cost", "total"), math.nan)) for r in mine]


def feasibility_of(targets: pd.DataFrame, key: tuple[str, str]) -> str:
    """met when every target of the option is met, missed when one is, else uncertain."""
    mine = targets[(targets["scenario"] == key[0]) & (targets["variant"] == key[1])]
    st = set(mine["status"])
    return "missed" if "missed" in st else "uncertain" if "uncertain" in st else "met"


def until_selected(st, outcome, bar, task, done):  # noqa: ANN001, ANN201
    """Run KN for a study (sim.decide.study.Study with ``select``): after the first stage,
    one replication more for each option in contention until the procedure stops."""
    from sim.base import interrupts
    from sim.measure.results import group_options, targets_table
    from sim.measure.runner import Job, Outcome, run_jobs

    kn: KN = st.select
    scen = {(s, v): sc for s, v, sc in st.options}
    results = [*st.done_before, *outcome.results]
    while True:
        live = kn.contending()
        opts = group_options([r for r in results if (r.scenario_name, r.variant) in live],
                             {k: scen[k] for k in live})
        targets = targets_table(opts)
        kn.update({k: costs_of(results, k) for k in live},
                  {k: feasibility_of(targets, k) for k in live})
        if kn.done():
            return outcome
        if interrupts.received():
            return Outcome(outcome.results, False, "interrupted")
        jobs = [Job(k[0], k[1], scen[k], len(costs_of(results, k)), st.trace)
                for k in kn.contending()]
        bar.update(task, total=(bar.tasks[0].total or 0) + len(jobs))
        more = run_jobs(jobs, st.workers, on_done=done, backend=st.backend,
                        scheduler=st.scheduler)
        results += more.results
        outcome = Outcome([*outcome.results, *more.results], more.complete, more.error)
        if not more.complete:
            return outcome


def selection_table(table: pd.DataFrame, currency: str):  # noqa: ANN201
    """The terminal table of compare --pcs: replications each option needed."""
    from rich.table import Table

    from sim.report.console import clean

    t = Table(title="Selection (Kim & Nelson): replications each option needed",
              title_justify="left")
    for col in ("option", "replications", f"mean cost ({currency})", "targets", "status"):
        t.add_column(col, justify="right" if col == "replications" or "cost" in col
                     else "left")
    for r in table.to_dict("records"):
        t.add_row(clean(f"{r['scenario']}/{r['variant']}"), str(r["replications"]),
                  "–" if r["cost_mean"] != r["cost_mean"] else f"{r['cost_mean']:,.2f}",
                  str(r["targets"]), str(r["status"]))
    return t
